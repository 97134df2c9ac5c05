# SPDX-License-Identifier: GPL-2.0-or-later
# badblocks-FS (scenario c): a media error emulated through
# /sys/block/pmem0/badblocks inside one page of victim.bin.
#   daxguard fail --action kill must name victim.bin at the right file
#   offset and kill exactly the processes that map the hit page, before they
#   touch it (they are idle, and must log no SIGBUS); the others live.
#   daxguard fail --punch must punch the page out and report it lost; a
#   read of the range then succeeds.  What punch does to the badblocks
#   entry is recorded (QEMU's NVDIMM has no clear-error command).
. /dgvm/lib.sh
FS=${1:-xfs}
PAGE=100                        # the file page that goes bad
fact kernel "$(uname -r)"
fact fs "$FS"

step "setup $FS"
setup_fs "$FS"
fill "$MNT/victim.bin" $((4 << 20))
fill "$MNT/other.bin" $((4 << 20))
bad_off=$((PAGE * 4096))
dev=$(dev_offset "$MNT/victim.bin" $bad_off) || die "FIEMAP of victim.bin"
sector=$((dev / 512))
echo "victim.bin page $PAGE (file offset $bad_off) is at device offset $dev, sector $sector"
xfs_io -c 'fiemap -v' "$MNT/victim.bin"

# the users; interval 0: map, touch once, then stay idle
spawn whole dgvm-probe -r /tmp/ready/whole map "$MNT/victim.bin" 0 0 shared-rw 0
spawn page dgvm-probe -r /tmp/ready/page map "$MNT/victim.bin" $bad_off 4096 private-ro 0
spawn around dgvm-probe -r /tmp/ready/around map "$MNT/victim.bin" $(((PAGE - 4) * 4096)) $((12 * 4096)) shared-ro 0
spawn below dgvm-probe -r /tmp/ready/below map "$MNT/victim.bin" 0 $((PAGE * 4096)) shared-ro 0
spawn above dgvm-probe -r /tmp/ready/above map "$MNT/victim.bin" $(((PAGE + 1) * 4096)) 0 shared-rw 0
spawn other dgvm-probe -r /tmp/ready/other map "$MNT/other.bin" 0 0 shared-rw 0
spawn fd dg-mapper -r /tmp/ready/fd hold:"$MNT/victim.bin"
wait_ready /tmp/ready/whole /tmp/ready/page /tmp/ready/around /tmp/ready/below \
	/tmp/ready/above /tmp/ready/other /tmp/ready/fd || die "users ready"
HIT="whole page around"
SPARED="below above other fd"
# "whole" and "above" wrote the pattern through their mappings
cp "$MNT/victim.bin" /tmp/victim.orig || die "victim.bin readable before the error"

step "inject the media error"
echo "$sector 8" >/sys/block/pmem0/badblocks || die "write to /sys/block/pmem0/badblocks"
bb=$(cat /sys/block/pmem0/badblocks | tr '\n' ' ')
check_eq "badblocks lists the injected range" "$sector 8 " "$bb"
fact badblocks_injected "$bb"
xfs_io -c "pread -q $bad_off 4096" "$MNT/victim.bin" >/tmp/pread.log 2>&1
check "a read of the bad page fails" grep -q 'Input/output error' /tmp/pread.log
xfs_io -c "pread -q $(((PAGE + 1) * 4096)) 4096" "$MNT/victim.bin" >/dev/null 2>&1
check "a read of the next page works" test $? = 0

step "daxguard fail --action kill"
DAXGUARD_LOG=debug daxguard fail /dev/pmem0 --offset "$dev" --length 4096 -a kill -J \
	>/tmp/fail.json 2>/tmp/fail.err
rc=$?
cat /tmp/fail.json
sed 's/^/    stderr| /' /tmp/fail.err
check_eq "fail exit status" 0 "$rc"
json_vars /tmp/fail.json '
	"owners=\([.owners[] | "\(.path)@\(.file_offset)+\(.length)"] | unique | join(" "))",
	"killed=\([.processes[] | select(.signals | index("KILL")) | .pid] | unique | sort | map(tostring) | join(" "))",
	"complete=\(.complete)",
	"rmap=\(.filesystems[0].rmap)"' || die "fail printed JSON"
check_eq "fail names victim.bin at the bad page" "$MNT/victim.bin@$bad_off+4096" "$J_owners"
case $FS in
xfs) want_rmap=xfs-rmapbt ;;
xfs_normap) want_rmap=xfs-bulkstat ;; # inode clusters read from /dev/pmem0
*) want_rmap=ext4-libext2fs ;;
esac
check_eq "the reverse map used" "$want_rmap" "$J_rmap"
if [ "$FS" = xfs_normap ]; then
	parsed=$(sed -n 's/.* \([0-9]*\) inodes parsed from the device.*/\1/p' /tmp/fail.err)
	check "inodes read from /dev/pmem0 ($parsed)" test "${parsed:-0}" -gt 0
fi
sleep 0.5
reap $HIT $SPARED
want=$(for r in $HIT; do pid_of "$r"; done | sort -n | tr '\n' ' ')
check_eq "fail killed exactly the mappers of the bad page" "${want% }" "$J_killed"
for r in $HIT; do
	check_eq "$r: killed before touching the page" "137 none" "$(exit_status "$r") $(sigbus_codes "$r")"
done
for r in $SPARED; do
	check "$r: not hit, still alive" alive "$(pid_of "$r")"
done
fact kill "owners: $J_owners; killed: $HIT; spared: $SPARED"
check "kernel log clean" kernel_clean "daxguard fail --action kill"

step "daxguard fail --punch"
dg_json punch "fail --punch" fail /dev/pmem0 --offset "$dev" --length 4096 --punch -J
json_vars /tmp/punch.json '
	"punch=\([.steps[] | select(.stage == "punch") | "\(.object): \(.message)"] | join("; "))",
	"punchok=\([.steps[] | select(.stage == "punch") | .ok] | all)",
	"signalled=\([.processes[] | select((.signals | length) > 0) | .pid] | map(tostring) | join(" "))"' ||
	die "fail --punch printed JSON"
echo "punch: $J_punch"
check_eq "a punch step for victim.bin ran and worked" true "$J_punchok"
check "the punch step reports the lost range of victim.bin" sh -c "echo '$J_punch' | grep -q 'victim.bin'"
check_eq "--punch (action report) signalled nobody" "" "$J_signalled"
fact punch_report "$J_punch"
xfs_io -c "pread -q $bad_off 4096" "$MNT/victim.bin" >/tmp/pread2.log 2>&1
prc=$?
cat /tmp/pread2.log
check "a read of the punched range succeeds" test $prc = 0
zeros=$(dd if="$MNT/victim.bin" bs=4096 skip=$PAGE count=1 2>/dev/null | od -v -An -tx1 | tr -d ' \n' | tr -d 0 | wc -c)
check_eq "the punched range reads as zeros" 0 "$zeros"
same=$(cmp -l /tmp/victim.orig "$MNT/victim.bin" 2>/dev/null | awk -v lo=$((bad_off + 1)) -v hi=$((bad_off + 4096)) '$1 < lo || $1 > hi' | wc -l)
check_eq "the rest of victim.bin is untouched" 0 "$same"
xfs_io -c "fiemap -v" "$MNT/victim.bin"
bb_after=$(cat /sys/block/pmem0/badblocks | tr '\n' ' ')
fact badblocks_after_punch "[${bb_after% }]"
echo "badblocks after the punch: [$bb_after]"

step "what clears the badblocks entry"
# a raw read of the sector: still bad?
dd if=/dev/pmem0 of=/dev/null bs=512 skip=$sector count=8 2>/tmp/dd.log
fact raw_read_after_punch "$(tail -1 /tmp/dd.log | cut -c1-80)"
# writing the hole again: where does the new block land, does it work?
xfs_io -c "pwrite -q -S 0x77 $bad_off 4096" -c fsync "$MNT/victim.bin" >/tmp/pw.log 2>&1
wrc=$?
newdev=$(dev_offset "$MNT/victim.bin" $bad_off)
fact rewrite "pwrite into the hole: exit $wrc $(head -1 /tmp/pw.log); new block at device offset ${newdev:-?} ($([ "$newdev" = "$dev" ] && echo 'the bad one' || echo 'another one')); badblocks now [$(cat /sys/block/pmem0/badblocks | tr '\n' ' ')]"
# a write straight to the bad sectors (the pmem driver tries to clear
# poison on writes)
timeout 10 dd if=/dev/zero of=/dev/pmem0 bs=512 seek=$sector count=8 conv=notrunc,fsync 2>/tmp/dw.log
fact raw_write "dd to the bad sectors: exit $? $(tail -1 /tmp/dw.log | cut -c1-60); badblocks now [$(cat /sys/block/pmem0/badblocks | tr '\n' ' ')]"
kill_all_spawned
umount "$MNT"
# re-enabling the namespace rebuilds the list from the region (ARS)
ndctl disable-namespace namespace0.0 >/dev/null 2>&1
ndctl enable-namespace namespace0.0 >/dev/null 2>&1
wait_ready /dev/pmem0
fact reenable_clears "after ndctl disable/enable-namespace: badblocks [$(cat /sys/block/pmem0/badblocks 2>&1 | tr '\n' ' ')]"
show_dmesg "inject the media error"
finish
