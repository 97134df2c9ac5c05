# SPDX-License-Identifier: GPL-2.0-or-later
# pciehp (not in the default set): the PCIe attention button, as far as
# QEMU 7.2 can show it.  The machine is q35 with native PCIe hotplug: a
# virtio-pmem device (fsdax, XFS mounted, a mapper) on root port rp1 and
# a virtio-rng device on root port rp2.
#  1. the sysfs tree is recorded (DGVM-SYSFS lines): where pmem0 sits
#     below its root port, and where the ports are; the unit test
#     test-events uses it (tests/fixtures/sysfs/q35-virtio-pmem);
#  2. device_del rng2 on the monitor presses rp2's attention button: the
#     kernel logs "Button press: will power off in 5 sec", and daxguard
#     watch must see it, resolve the port and find no watched device below;
#  3. device_del pmem1: QEMU refuses to unplug a virtio memory device, so
#     rp1's button is never pressed; what happens is recorded.
. /dgvm/lib.sh
fact kernel "$(uname -r)"

step "setup"
wait_ready /dev/pmem0 || die "no /dev/pmem0 from virtio-pmem"
NDDEV=$(basename "$(readlink -f /sys/block/pmem0/device)")
echo "pmem0 is $NDDEV on $(readlink -f /sys/block/pmem0)"
mkfs.xfs -f -m rmapbt=1,reflink=0 /dev/pmem0 >/tmp/mkfs.log 2>&1 || { cat /tmp/mkfs.log; die "mkfs"; }
mount -t xfs -o dax=always /dev/pmem0 "$MNT" || die "mount"
fill "$MNT/f.bin" $((1 << 20)) || die "write f.bin"
spawn mapper dgvm-probe -r /tmp/ready/mapper map "$MNT/f.bin" 0 0 shared-ro 0
wait_ready /tmp/ready/mapper || die "mapper ready"

step "1. record the sysfs tree"
dev=$(cat /sys/block/pmem0/dev)
echo "DGVM-SYSFS link /sys/dev/block/$dev $(readlink "/sys/dev/block/$dev")"
for p in /sys/bus/pci/devices/*; do
	echo "DGVM-SYSFS link $p $(readlink "$p")"
done
for s in /sys/bus/pci/slots/*; do
	[ -e "$s/address" ] && echo "DGVM-SYSFS slot $s $(cat "$s/address")"
done
real=$(readlink -f "/sys/dev/block/$dev")
fact pmem0_syspath "$real"
port=$(echo "$real" | sed -n 's|^/sys/devices/pci0000:00/\(0000:00:[0-9a-f]*\.[0-9]\)/.*|\1|p')
fact pmem0_root_port "${port:-none}"
check "pmem0 sits below a PCIe root port" test -n "$port"
daxguard list -J >/tmp/list.json 2>&1
check_eq "daxguard list knows pmem0 (virtio-pmem, fsdax)" "fsdax" \
	"$(jq -r '.devices[] | select(.device == "/dev/pmem0") | .mode' /tmp/list.json)"

step "2. the attention button of rp2"
daxguard watch --sources pciehp,udev --state-dir /tmp/state -J >/tmp/watch.out 2>/tmp/watch.err &
WATCH=$!
i=0
while ! grep -q '^<6>watching' /tmp/watch.err && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
rngport=$(for p in /sys/bus/pci/devices/*; do
	[ "$(cat "$p/vendor"):$(cat "$p/device")" = "0x1af4:0x1044" ] &&
		basename "$(dirname "$(readlink -f "$p")")"; done | head -1)
echo "the rng device is below port $rngport"
echo "DGVM-MONITOR device_del rng2"
i=0
while ! grep -q 'powers off in 5 s' /tmp/watch.err && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
dmesg | grep -i -E 'pciehp|Slot\(|button' | sed 's/^/    dmesg| /'
sed 's/^/    watch| /' /tmp/watch.err
line=$(grep 'powers off in 5 s' /tmp/watch.err)
check "daxguard watch saw the button press" test -n "$line"
check "it names rp2's port ($rngport) and finds nothing of its own below" \
	sh -c "echo '$line' | grep -q 'port $rngport) powers off in 5 s: no watched device is below it'"
fact button_rp2 "$line"

step "3. device_del pmem1"
echo "DGVM-MONITOR device_del pmem1"
sleep 7
n=$(grep -c 'powers off in 5 s' /tmp/watch.err)
fact button_rp1 "$([ "$n" -gt 1 ] && echo pressed || echo 'not pressed: QEMU refuses to unplug virtio-pmem')"
sed 's/^/    watch| /' /tmp/watch.err
kill -TERM "$WATCH"
wait "$WATCH"
check_eq "daxguard watch exits 0" 0 "$?"
kill_all_spawned
finish
