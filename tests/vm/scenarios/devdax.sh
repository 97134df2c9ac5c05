# SPDX-License-Identifier: GPL-2.0-or-later
# devdax (scenario e): device-dax.  The namespace becomes /dev/dax0.0
# (ndctl create-namespace -m devdax, 2 MiB alignment); processes map parts
# of it, one holds it open.
#   daxguard who /dev/dax0.0 --offset 4096 --length 4096 must report
#   exactly the processes whose mapping covers that offset (device-dax
#   offsets are the users' own mapping offsets);
#   with vm.memory_failure_early_kill=1, MADV_HWPOISON on that page makes
#   the kernel signal exactly that set too;
#   daxguard remove /dev/dax0.0 must stop every user and unbind dax0.0
#   from its driver; daxctl enable-device brings it back.
. /dgvm/lib.sh
fact kernel "$(uname -r)"
MB2=$((2 << 20))

step "setup devdax"
ndctl create-namespace -f -e namespace0.0 -m devdax >/tmp/ns.json 2>&1 || { cat /tmp/ns.json; die "devdax namespace"; }
wait_ready /dev/dax0.0 || die "/dev/dax0.0 appears"
echo "dax0.0: size $(cat /sys/bus/dax/devices/dax0.0/size), align $(cat /sys/bus/dax/devices/dax0.0/align 2>/dev/null)," \
	"driver $(basename "$(readlink /sys/bus/dax/devices/dax0.0/driver)")"
export DGVM_POISON_OFFSET=4096
spawn first dgvm-probe -r /tmp/ready/first map /dev/dax0.0 0 $MB2 shared-rw 0
spawn second dgvm-probe -r /tmp/ready/second map /dev/dax0.0 $MB2 $MB2 shared-ro 0
spawn both dgvm-probe -r /tmp/ready/both map /dev/dax0.0 0 $((2 * MB2)) shared-ro 0
spawn poisoner dgvm-probe -r /tmp/ready/poisoner map /dev/dax0.0 0 $MB2 shared-rw 0
spawn fd dg-mapper -r /tmp/ready/fd hold:/dev/dax0.0
ROLES="first second both poisoner fd"
for r in $ROLES; do wait_ready "/tmp/ready/$r" || die "$r ready"; done
cat "$LOGS/first.log"
# what a device-dax mapping looks like to a process scanner
fact maps_line "$(grep -m1 dax0.0 /proc/$(pid_of first)/maps | sed 's/^[^ ]* //')"
fact stat_node "$(stat -c 'st_dev=%d(%D) st_ino=%i rdev=%t:%T' /dev/dax0.0)"

step "daxguard who on device-dax"
daxguard who /dev/dax0.0 --offset 4096 --length 4096 -J >/tmp/who.json 2>/tmp/who.err
rc=$?
cat /tmp/who.json
sed 's/^/    stderr| /' /tmp/who.err
fact who "exit $rc: $(head -c 300 /tmp/who.err | tr '\n' ' ')"
check_eq "who /dev/dax0.0 exit status" 0 "$rc"
mappers=$(json /tmp/who.json '[.users[]? | select(.use == "map") | .pid] | unique | sort | map(tostring) | join(" ")' 2>/dev/null)
who_roles=
for r in $ROLES; do echo " $mappers " | grep -q " $(pid_of "$r") " && who_roles="$who_roles $r"; done
check_eq "who reports the mappers of offset 4096" "first both poisoner" "${who_roles# }"

step "kernel reference: MADV_HWPOISON on device-dax"
echo 1 >/proc/sys/vm/memory_failure_early_kill
kill -USR1 "$(pid_of poisoner)"
sleep 2
grep '^poison' "$LOGS/poisoner.log"
kern_roles=
ks=
for r in $ROLES; do
	c=$(sigbus_codes "$r")
	grep -m1 '^SIGBUS' "$LOGS/$r.log"
	if [ "$c" != none ]; then
		kern_roles="$kern_roles $r"
		ks="$ks $r($c)"
	fi
done
echo 0 >/proc/sys/vm/memory_failure_early_kill
fact kernel_signals "${ks# }"
check_eq "the kernel signalled exactly who's set" "${who_roles# }" "${kern_roles# }"
show_dmesg "kernel reference: MADV_HWPOISON on device-dax"

step "daxguard remove on device-dax"
daxguard remove /dev/dax0.0 -g 3 -J >/tmp/remove.json 2>/tmp/remove.err
rc=$?
cat /tmp/remove.json
sed 's/^/    stderr| /' /tmp/remove.err
fact remove "exit $rc: $(head -c 300 /tmp/remove.err | tr '\n' ' ')"
check_eq "remove /dev/dax0.0 exit status" 0 "$rc"
sleep 0.5
reap $ROLES
for r in $ROLES; do
	check_eq "$r stopped by remove" 143 "$(exit_status "$r")"
done
# the /dev node stays while the device is registered; unbound, it is dead
drv=$(basename "$(readlink /sys/bus/dax/devices/dax0.0/driver 2>/dev/null)" 2>/dev/null)
check_eq "dax0.0 unbound from its driver" "" "$drv"
dd if=/dev/dax0.0 of=/dev/null bs=4096 count=1 2>/tmp/open.err
fact after_remove "driver '${drv:-none}'; /dev/dax0.0 $([ -e /dev/dax0.0 ] && echo present || echo absent); open: $(tail -1 /tmp/open.err | cut -c1-60); daxctl: $(daxctl list -D -d dax0.0 2>&1 | tr -d ' \n' | cut -c1-120)"
daxctl enable-device dax0.0 >/tmp/enable.log 2>&1
erc=$?
cat /tmp/enable.log
drv=$(basename "$(readlink /sys/bus/dax/devices/dax0.0/driver 2>/dev/null)" 2>/dev/null)
fact reenable "daxctl enable-device dax0.0: exit $erc, driver '${drv:-none}'"
check "daxctl enable-device dax0.0 binds it again" test -n "$drv"
check "kernel log clean after the remove" kernel_clean "daxguard remove on device-dax"
kill_all_spawned
finish
