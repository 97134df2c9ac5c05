# SPDX-License-Identifier: GPL-2.0-or-later
# unbind-FS (scenario b, the baseline): the workload of remove-FS, but the
# namespace is released by a raw sysfs unbind with no daxguard.  Records
# what the kernel does alone: signals, filesystem state, the unmount, the
# data.  It fails only when it cannot record (the setup did not work).
. /dgvm/lib.sh
FS=${1:-xfs}
fact kernel "$(uname -r)"
fact fs "$FS"
fact method "raw sysfs unbind"

step "setup $FS"
setup_fs "$FS"
workload_start || die "workload started"

step "ndctl disable-namespace while mounted"
timeout 20 ndctl disable-namespace namespace0.0 >/tmp/ndctl.log 2>&1
rc=$?
cat /tmp/ndctl.log
fact ndctl_disable "exit $rc: $(tr '\n' ' ' </tmp/ndctl.log | cut -c1-100)"

step "raw unbind"
t0=$(up)
(
	echo "$NDDEV" >/sys/bus/nd/drivers/nd_pmem/unbind
	echo "$? $(up)" >/tmp/unbind.done
) &
i=0
while [ ! -e /tmp/unbind.done ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
if [ -e /tmp/unbind.done ]; then
	read -r urc t1 </tmp/unbind.done
	res="echo $NDDEV > .../nd_pmem/unbind: exit $urc after $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')s"
else
	res="echo $NDDEV > .../nd_pmem/unbind: still blocked after 30s"
	echo w >/proc/sysrq-trigger
fi
fact release "$res"
pass "raw unbind recorded: $res"
# let the workload run into the gone device
sleep 3
reap $WORKLOAD_ROLES
still=
for r in $WORKLOAD_ROLES; do alive "$(pid_of "$r")" && still="$still $r"; done
fact alive_after "${still# }"
fact writer_error "$(sed -n 's/^writer pid=[0-9]* write of record [0-9]*: //p' "$LOGS/writer.log" | head -1)"
for r in $WORKLOAD_ROLES; do
	p=$(pid_of "$r")
	echo "$r (pid $p): $(exit_status "$r"), SIGBUS codes $(sigbus_codes "$r")"
	tail -2 "$LOGS/$r.log" | sed 's/^/    /'
done
fact kernel_log "$(kernel_summary "raw unbind")"
show_dmesg "raw unbind"

step "access after the unbind"
a_ls=$(timeout 10 ls "$MNT/data" >/dev/null 2>&1; echo $?)
a_read=$(timeout 10 cat "$MNT/data/static.bin" >/dev/null 2>&1; echo $?)
a_create=$(timeout 10 sh -c "echo x > $MNT/new" 2>/dev/null; echo $?)
a_map=$(timeout 10 dgvm-probe map "$MNT/data/static.bin" 0 4096 shared-ro 0 >/tmp/newmap.log 2>&1 & sleep 2; kill $! 2>/dev/null; wait $! 2>/dev/null; grep -m1 -E 'SIGBUS|dgvm-probe:' /tmp/newmap.log | cut -c1-60)
fact access "ls exit $a_ls, read exit $a_read, create exit $a_create, new mmap: ${a_map:-no fault}"
# the still running workload processes: killed by the test, not by anyone
kill_all_spawned
for r in $WORKLOAD_ROLES; do
	o=$(role_outcome "$r")
	fact "proc.$r" "$o"
done
k=$(kernel_summary "raw unbind")
case $k in
*xfs-shutdown*) fs_after="XFS shut down, still mounted" ;;
*ext4-shutdown*) fs_after="ext4 shut down by the kernel at the unbind (journal aborted), still mounted" ;;
*remounted-ro*) fs_after="ext4 journal aborted on the first access, remounted read-only, still mounted" ;;
*) fs_after="still mounted, no filesystem error logged" ;;
esac
fact fs_after "$fs_after"

step "umount"
timeout 20 umount "$MNT" >/tmp/umount.log 2>&1
urc=$?
cat /tmp/umount.log
us=$(kernel_summary "umount")
case $urc in
0) um="exit 0" ;;
124|143) um="hung (killed after 20 s)" ;;
137) um="killed (exit 137)" ;;
*) um="exit $urc" ;;
esac
fact umount "$um; kernel: $us"
show_dmesg "umount"
# an Oops turns the console verbose: back to loglevel 3
echo "3 4 1 3" >/proc/sys/kernel/printk

step "rebind and remount"
if ! echo "$NDDEV" >/sys/bus/nd/drivers/nd_pmem/bind 2>/tmp/bind.log || ! wait_ready /dev/pmem0; then
	cat /tmp/bind.log
	fact data "not checked: the namespace could not be bound again"
elif grep -q " $MNT " /proc/mounts; then
	fact data "not checked: the old mount is still there"
elif ! how=$(remount_check "${FS%_normap}"); then
	echo "$how"
	fact data "not checked: $how"
else
	echo "$how"
	data=$(workload_data)
	echo "$data"
	remount_release
	fs_check "$FS"
	frc=$?
	case $how in
	remounted*) via="" ;;
	*) via=" (read through a loop device: mounting /dev/pmem0 failed)" ;;
	esac
	fact data "$data; fsck exit $frc$via"
fi
fact kernel_log_after "$(kernel_summary "rebind and remount")"
show_dmesg "rebind and remount"
finish
