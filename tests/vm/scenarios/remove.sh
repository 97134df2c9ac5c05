# SPDX-License-Identifier: GPL-2.0-or-later
# remove-FS (scenario a): daxguard remove on a mounted fs-DAX filesystem
# (xfs with rmapbt=1, or ext4) that processes map read-write and read-only,
# write to, hold open and have as their working directory.  daxguard must
# stop them all, unmount, release the namespace; the kernel log stays
# clean; after the namespace is enabled again, everything written before
# the remove is intact.
. /dgvm/lib.sh
FS=${1:-xfs}
fact kernel "$(uname -r)"
fact fs "$FS"
fact method "daxguard remove"

step "setup $FS"
setup_fs "$FS"
workload_start || die "workload started"

step "daxguard remove"
t0=$(up)
daxguard remove /dev/pmem0 -g 5 -J >/tmp/remove.json 2>/tmp/remove.err
rc=$?
t1=$(up)
cat /tmp/remove.json
sed 's/^/    stderr| /' /tmp/remove.err
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
fact release "daxguard remove -g 5: exit $rc after ${took}s"
fact writer_error "$(sed -n 's/^writer pid=[0-9]* write of record [0-9]*: //p' "$LOGS/writer.log" | head -1)"
check_eq "daxguard remove exit status" 0 "$rc"
json_vars /tmp/remove.json '
	"complete=\(.complete)",
	"pids=\([.processes[].pid] | unique | map(tostring) | join(" "))",
	"dups=\([.processes[].pid] | group_by(.) | map(select(length > 1) | .[0]) | map(tostring) | join(" "))",
	"badsteps=\([.steps[] | select(.ok != true) | "\(.stage) \(.object): \(.message)"] | join("; "))",
	"unmount=\([.steps[] | select(.stage == "unmount") | if .ok then "ok" else .message end] | join(","))",
	"release=\([.steps[] | select(.stage == "release") | if .ok then "ok" else .message end] | join(","))",
	"releasemsg=\([.steps[] | select(.stage == "release") | .message] | join(","))"' ||
	die "remove printed JSON"
check_eq "remove reports complete" true "$J_complete"
sleep 0.5
reap $WORKLOAD_ROLES

want=$(for r in $WORKLOAD_ROLES; do pid_of "$r"; done | sort -n | tr '\n' ' ')
check_eq "remove acted on exactly the workload processes" "${want% }" "$J_pids"
check_eq "each process is listed once in .processes" "" "$J_dups"
for r in $WORKLOAD_ROLES; do
	out=$(role_outcome "$r")
	fact "proc.$r" "$out"
	check_eq "$r stopped by SIGTERM, no SIGBUS" "SIGTERM; SIGBUS codes: none" "$out"
done
check_eq "every remove step ok" "" "$J_badsteps"
check_eq "unmount step" "ok" "$J_unmount"
check_eq "release step" "ok" "$J_release"
echo "release: $J_releasemsg"
check "$MNT is no longer mounted" sh -c "! grep -q ' $MNT ' /proc/mounts"
check "/dev/pmem0 is gone (released)" sh -c '! [ -e /dev/pmem0 ]'
ndctl list -N 2>&1 | tr -d '\n' | sed 's/  */ /g'
echo
fact fs_after "$(grep -q ' /mnt/pmem ' /proc/mounts && echo 'still mounted' || echo 'unmounted cleanly by daxguard')"
fact umount "done by daxguard"
fact kernel_log "$(kernel_summary "daxguard remove")"
check "no Oops, warning, shutdown or corruption in the kernel log" kernel_clean "daxguard remove"
show_dmesg "daxguard remove"

step "enable the namespace again"
# daxguard unbound the pfn device from nd_pmem; see which way back works
how=
if timeout 20 ndctl enable-namespace namespace0.0 >/tmp/enable.log 2>&1 && wait_ready /dev/pmem0; then
	how="ndctl enable-namespace namespace0.0"
else
	cat /tmp/enable.log
	echo "ndctl enable-namespace did not bring /dev/pmem0 back; binding $NDDEV through sysfs"
	if echo "$NDDEV" >/sys/bus/nd/drivers/nd_pmem/bind && wait_ready /dev/pmem0; then
		how="echo $NDDEV > /sys/bus/nd/drivers/nd_pmem/bind (ndctl enable-namespace did not)"
	fi
fi
fact reenable "${how:-failed}"
check "namespace enabled again (/dev/pmem0 back)" test -e /dev/pmem0
[ -e /dev/pmem0 ] || finish
mount_dax "${FS%_normap}" >/dev/null
check "$FS mounts again with dax=always" grep -q " $MNT " /proc/mounts
data=$(workload_data)
rc=$?
echo "$data"
fact data "$data"
check "data written before the remove is intact: $data" test $rc = 0
umount "$MNT"
check "$FS is consistent (read-only fsck)" fs_check "$FS"
check "kernel log clean after the remount" kernel_clean "enable the namespace again"
finish
