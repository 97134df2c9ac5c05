# SPDX-License-Identifier: GPL-2.0-or-later
# watch-FS: daxguard watch on a real fsdax namespace, several checks in one
# boot (the daemon started once, -a kill, --interval 2):
#  1. a bad block written into /sys/block/pmem0/badblocks inside one page
#     of a mapped file is acted on within the interval: exactly that
#     page's mappers are killed, before they touch it;
#  2. daxguard list agrees with ndctl list on the namespace, mode, size
#     and UUID, and its bad-block count with sysfs (and ndctl -M);
#  3. MADV_HWPOISON by one process (vm.memory_failure_early_kill=0): the
#     kernel signals only the poisoner; the daemon reads the kernel's
#     message from /dev/kmsg and kills the other mappers of that page,
#     and leaves the poisoner to the kernel;
#  4. a raw unbind of the namespace while mounted: the daemon logs an
#     alert naming the mount and the users.
. /dgvm/lib.sh
FS=${1:-xfs}
P=60                            # the page the bad block hits
Q=90                            # the page the poisoner poisons
fact kernel "$(uname -r)"
fact fs "$FS"

step "setup $FS"
setup_fs "$FS"
fill "$MNT/bb.bin" $((1 << 20)) || die "write bb.bin"
fill "$MNT/hw.bin" $((1 << 20)) || die "write hw.bin"
fill "$MNT/other.bin" $((1 << 20)) || die "write other.bin"
dev=$(dev_offset "$MNT/bb.bin" $((P * 4096))) || die "FIEMAP of bb.bin"
sector=$((dev / 512))
echo "bb.bin page $P is at device offset $dev, sector $sector"
echo 0 >/proc/sys/vm/memory_failure_early_kill || die "vm.memory_failure_early_kill=0"

spawn bbhit dgvm-probe -r /tmp/ready/bbhit map "$MNT/bb.bin" $((P * 4096)) 4096 shared-ro 0
spawn bbaround dgvm-probe -r /tmp/ready/bbaround map "$MNT/bb.bin" 0 0 shared-rw 0
spawn bbspare dgvm-probe -r /tmp/ready/bbspare map "$MNT/bb.bin" $(((P + 1) * 4096)) 0 shared-ro 0
export DGVM_POISON_OFFSET=$((Q * 4096))
spawn poisoner dgvm-probe -r /tmp/ready/poisoner map "$MNT/hw.bin" 0 0 shared-rw 0
unset DGVM_POISON_OFFSET
spawn hwro dgvm-probe -r /tmp/ready/hwro map "$MNT/hw.bin" 0 0 shared-ro 0
spawn hwjust dgvm-probe -r /tmp/ready/hwjust map "$MNT/hw.bin" $((Q * 4096)) 4096 shared-rw 0
spawn hwspare dgvm-probe -r /tmp/ready/hwspare map "$MNT/hw.bin" 0 $((Q * 4096)) shared-ro 0
spawn holder dg-mapper -r /tmp/ready/holder cwd:"$MNT" hold:"$MNT/other.bin"
spawn omap dgvm-probe -r /tmp/ready/omap map "$MNT/other.bin" 0 0 shared-ro 0
for r in bbhit bbaround bbspare poisoner hwro hwjust hwspare holder omap; do
	wait_ready "/tmp/ready/$r" || die "$r ready"
done

step "start daxguard watch"
daxguard watch -a kill -i 2 --state-dir /tmp/state -J >/tmp/watch.out 2>/tmp/watch.err &
WATCH=$!
i=0
while ! grep -q '^<6>watching' /tmp/watch.err && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
check "daxguard watch is watching" grep -q '^<6>watching' /tmp/watch.err
sed 's/^/    watch| /' /tmp/watch.err
# lines: wait_lines N SECONDS: /tmp/watch.out has N lines
wait_lines() {
	_i=0
	while [ "$(wc -l </tmp/watch.out)" -lt "$1" ] && [ $_i -lt $(($2 * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	[ "$(wc -l </tmp/watch.out)" -ge "$1" ]
}

step "1. a bad block in /sys/block/pmem0/badblocks"
t0=$(up)
echo "$sector 8" >/sys/block/pmem0/badblocks || die "write to /sys/block/pmem0/badblocks"
wait_lines 1 20
t1=$(up)
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
echo "event after ${took}s"
fact badblocks_to_event "${took}s (interval 2 s; a write to sysfs is not notified)"
sed -n 1p /tmp/watch.out >/tmp/ev1.json
json_vars /tmp/ev1.json '
	"kind=\(.event.kind)/\(.event.source)/\(.event.disposition)",
	"owners=\([.owners[] | "\(.path)@\(.file_offset)"] | unique | join(" "))",
	"killed=\([.processes[] | select(.signals | index("KILL")) | .pid] | sort | map(tostring) | join(" "))"' ||
	die "the badblocks event is JSON"
check_eq "the event: a badblocks list, acted on" "badblocks/badblocks/acted" "$J_kind"
check "within the interval and a margin (${took}s)" awk -v t="$took" 'BEGIN {exit !(t <= 8)}'
check_eq "it names bb.bin at page $P" "$MNT/bb.bin@$((P * 4096))" "$J_owners"
sleep 0.5
reap bbhit bbaround bbspare
want=$(for r in bbhit bbaround; do pid_of "$r"; done | sort -n | tr '\n' ' ')
check_eq "the daemon killed exactly the mappers of page $P" "${want% }" "$J_killed"
for r in bbhit bbaround; do
	check_eq "$r: killed, before touching the page" "137 none" "$(exit_status "$r") $(sigbus_codes "$r")"
done
check "bbspare (maps the next page on): alive" alive "$(pid_of bbspare)"

step "2. daxguard list and ndctl list"
ndctl list -N -M >/tmp/ndctl.json 2>&1 || cat /tmp/ndctl.json
daxguard list -J >/tmp/list.json 2>/tmp/list.err
check_eq "daxguard list: exit status" 0 "$?"
sed 's/^/    stderr| /' /tmp/list.err
json_vars /tmp/ndctl.json '
	(if type == "array" then .[] else . end) | select(.blockdev == "pmem0") |
	"nd=\(.dev) \(.mode) \(.size) \(.uuid)", "ndbb=\(.badblock_count // 0)"' ||
	die "ndctl list -N -M is JSON"
json_vars /tmp/list.json '
	.devices[] | select(.device == "/dev/pmem0") |
	"dg=\(.namespace) \(.mode) \(.size) \(.uuid)",
	"dgbb=\(.badblocks.count) \(.badblocks.files) \(.badblocks.metadata)",
	"dgmount=\([.filesystems[].mounts[] | "\(.target) \(.dax)"] | join(","))"' ||
	die "daxguard list is JSON"
check_eq "daxguard list = ndctl list: namespace, mode, size, uuid" "$J_nd" "$J_dg"
sysbb=$(awk '{n += $2} END {print n + 0}' /sys/block/pmem0/badblocks)
check_eq "daxguard list's bad blocks = sysfs, and all 8 in bb.bin" "$sysbb 8 0" "$J_dgbb"
# ndctl counts the region's list (ARS), not the disk's, where a write to
# sysfs goes: recorded, not compared
fact ndctl_badblock_count "ndctl list -M: $J_ndbb; /sys/block/pmem0/badblocks: $sysbb"
check_eq "daxguard list: the mount, DAX always" "$MNT always" "$J_dgmount"
fact list "ndctl: $J_nd; daxguard: $J_dg; bad blocks sysfs $sysbb, daxguard $J_dgbb"
# where an NVDIMM's pmem0 sits in sysfs: below no PCIe slot
fact pmem0_syspath "$(readlink -f "/sys/dev/block/$(cat /sys/block/pmem0/dev)")"

step "3. MADV_HWPOISON"
kill -USR1 "$(pid_of poisoner)"
wait_lines 2 20
sed -n 2p /tmp/watch.out >/tmp/ev2.json
json_vars /tmp/ev2.json '
	"kind=\(.event.kind)/\(.event.source)/\(.event.disposition)",
	"kres=\(.event.kernel.result)",
	"ksig=\(.event.kernel.signalled | map(tostring) | join(" "))",
	"owners=\([.owners[] | "\(.path)@\(.file_offset)"] | unique | join(" "))",
	"killed=\([.processes[] | select(.signals | index("KILL")) | .pid] | sort | map(tostring) | join(" "))",
	"protected=\([.processes[] | select(.state == "protected") | .pid] | map(tostring) | join(" "))"' ||
	die "the memory-failure event is JSON"
dmesg | grep 'Memory failure' | sed 's/^/    dmesg| /'
check_eq "the event: the kernel's message, acted on" "memory-failure/kmsg/acted" "$J_kind"
check_eq "what the kernel did, recorded" "Recovered" "$J_kres"
check_eq "whom the kernel signalled, recorded: the poisoner alone" "$(pid_of poisoner)" "$J_ksig"
check_eq "it names hw.bin at page $Q" "$MNT/hw.bin@$((Q * 4096))" "$J_owners"
sleep 0.5
reap poisoner hwro hwjust hwspare
want=$(for r in hwro hwjust; do pid_of "$r"; done | sort -n | tr '\n' ' ')
check_eq "the daemon killed the other mappers of page $Q" "${want% }" "$J_killed"
check_eq "the poisoner is left to the kernel (protected)" "$(pid_of poisoner)" "$J_protected"
check_eq "the poisoner got the kernel's BUS_MCEERR_AR" BUS_MCEERR_AR "$(sigbus_codes poisoner)"
for r in hwro hwjust; do
	check_eq "$r: killed by the daemon, no signal from the kernel" "137 none" \
		"$(exit_status "$r") $(sigbus_codes "$r")"
done
check "hwspare (maps below page $Q): alive" alive "$(pid_of hwspare)"
fact hwpoison "kernel: $J_kres, signalled $J_ksig; daxguard killed $J_killed"

step "4. raw unbind while mounted"
echo "$NDDEV" >/sys/bus/nd/drivers/nd_pmem/unbind &
i=0
while ! grep -q '^<1>/dev/pmem0: went away while mounted' /tmp/watch.err && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
alert=$(grep '^<1>/dev/pmem0: went away while mounted' /tmp/watch.err)
echo "$alert"
check "an alert (<1>) that /dev/pmem0 went away while mounted" test -n "$alert"
check "the alert names the mount" sh -c "echo '$alert' | grep -q 'mounted on $MNT ($FS)'"
check "the alert names the mapper omap (pid $(pid_of omap))" \
	sh -c "echo '$alert' | grep -q ' $(pid_of omap) '"
# an fd or a cwd is not matched by stat(), which a filesystem the kernel
# shut down answers with EIO, but by /proc/PID/fdinfo (mount and inode)
check "the alert names the fd and cwd holder (pid $(pid_of holder))" \
	sh -c "echo '$alert' | grep -q ' $(pid_of holder) '"
fact unbind_alert "$(echo "$alert" | cut -c1-300)"

step "stop"
kill -TERM "$WATCH"
i=0
while alive "$WATCH" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
wait "$WATCH"
check_eq "daxguard watch exits 0 on SIGTERM" 0 "$?"
sed 's/^/    watch| /' /tmp/watch.err
kill_all_spawned
finish
