# SPDX-License-Identifier: GPL-2.0-or-later
# dm-xfs: a filesystem on device-mapper linear over the pmem device, as
# LVM on pmem sets it up.  The dm device dgdm has two segments in swapped
# order (its first half is pmem0's second half and the other way round),
# so an offset on dgdm and the same byte's offset on pmem0 differ, and by
# a different amount in each half.  Asked about pmem0 (what a media error
# or badblocks names), daxguard must see through the dm table:
#   who on pmem0 names the file and its mappers, as who on dgdm does;
#   fail --action kill on pmem0 kills exactly the page's mappers;
#   remove on pmem0 stops the rest, unmounts, removes the dm device and
#   releases the namespace.
. /dgvm/lib.sh
FS=${1:-xfs}
P=100                           # the page of f.bin asked about
fact kernel "$(uname -r)"
fact fs "$FS on dm-linear over pmem0"
# no udev in the guest: libdevmapper makes /dev/mapper/NAME itself,
# devtmpfs makes /dev/dm-N
export DM_DISABLE_UDEV=1

step "setup dm-linear and $FS"
modprobe dm_mod || die "modprobe dm_mod"
make_fsdax || die "fsdax namespace on namespace0.0"
PMEM=$(cat /sys/block/pmem0/dev)
size=$(cat /sys/block/pmem0/size)
# half of pmem0 rounded down to 1 MiB, in sectors
S=$((size / 2 / 2048 * 2048))
HALF=$((S * 512))
printf '0 %d linear %s %d\n%d %d linear %s 0\n' "$S" "$PMEM" "$S" "$S" "$S" "$PMEM" >/tmp/table
cat /tmp/table
dmsetup create dgdm --noudevsync </tmp/table || die "dmsetup create dgdm"
dmsetup mknodes dgdm
check_eq "dgdm's table as given" "$(cat /tmp/table)" "$(dmsetup table dgdm)"
DM=
for d in /sys/block/dm-*; do
	[ "$(cat "$d/dm/name" 2>/dev/null)" = dgdm ] && DM=$(basename "$d")
done
[ -n "$DM" ] || die "dgdm in /sys/block/dm-*"
DMNUM=$(cat "/sys/block/$DM/dev")
echo "dgdm is $DM ($DMNUM) over pmem0 ($PMEM, $size sectors); S=$S sectors"
fact dm_device "$DM $DMNUM over pmem0 $PMEM"
check "/dev/mapper/dgdm exists" test -b /dev/mapper/dgdm
check "/dev/$DM exists" test -b "/dev/$DM"
check_eq "pmem0's holders" "$DM" "$(ls /sys/block/pmem0/holders | tr '\n' ' ' | sed 's/ $//')"
fact dm_queue_dax "$(cat "/sys/block/$DM/queue/dax" 2>&1)"
mkfs.xfs -f -m rmapbt=1,reflink=0 /dev/mapper/dgdm >/tmp/mkfs.log 2>&1 ||
	{ cat /tmp/mkfs.log; die "mkfs.xfs on /dev/mapper/dgdm"; }
mount -t xfs -o dax=always /dev/mapper/dgdm "$MNT" || die "mount /dev/mapper/dgdm dax=always"
fact mount "$(grep " $MNT " /proc/mounts)"
dmesg | grep -iE 'dax' | tail -3 | sed 's/^/    dmesg| /'
echo x >"$MNT/.daxcheck"
dax=$(dgvm-probe statx "$MNT/.daxcheck")
rm -f "$MNT/.daxcheck"
fact dax_on_dm "$dax"
# a fs on dm that is not DAX would make every check below meaningless
[ "$dax" = dax=1 ] || die "files on $FS over dm are DAX: got '$dax'"
pass "files on $FS over dm are DAX (STATX_ATTR_DAX) ($dax)"

# to_pmem DMOFF: the byte of pmem0 behind DMOFF of dgdm, from the table
to_pmem() {
	if [ "$1" -lt "$HALF" ]; then echo $(($1 + HALF)); else echo $(($1 - HALF)); fi
}
fill "$MNT/f.bin" $((4 << 20)) || die "write f.bin"
fill "$MNT/g.bin" $((1 << 20)) || die "write g.bin"
off=$((P * 4096))
dmoff=$(dev_offset "$MNT/f.bin" $off) || die "FIEMAP of f.bin"
pmoff=$(to_pmem "$dmoff")
echo "f.bin page $P (file offset $off) is at dgdm offset $dmoff, pmem0 offset $pmoff"
fact page "f.bin page $P: dgdm offset $dmoff, pmem0 offset $pmoff"

spawn whole dgvm-probe -r /tmp/ready/whole map "$MNT/f.bin" 0 0 shared-rw 0
spawn page dgvm-probe -r /tmp/ready/page map "$MNT/f.bin" $off 4096 shared-ro 0
spawn before dgvm-probe -r /tmp/ready/before map "$MNT/f.bin" 0 $off shared-ro 0
spawn other dgvm-probe -r /tmp/ready/other map "$MNT/g.bin" 0 0 shared-rw 0
spawn fd dg-mapper -r /tmp/ready/fd hold:"$MNT/f.bin"
HIT="whole page"
SPARED="before other fd"
for r in $HIT $SPARED; do wait_ready "/tmp/ready/$r" || die "$r ready"; done
want_hit=$(for r in $HIT; do pid_of "$r"; done | sort -n | tr '\n' ' ')
want_hit=${want_hit% }

# who_sum FILE: J_owners, J_mappers, J_fsdev of a who -J report; empty
# when there is none (who failed)
who_sum() {
	J_owners= J_mappers= J_fsdev=
	[ -s "$1" ] || return 0
	json_vars "$1" '
		"owners=\([.owners[] | "\(.path)@\(.file_offset)"] | unique | join(" "))",
		"mappers=\([.users[] | select(.use == "map") | .pid] | unique | sort | map(tostring) | join(" "))",
		"fsdev=\([.filesystems[].device] | join(" "))"'
}

step "daxguard who on dgdm"
# the dm device is an ordinary block device with the filesystem on it
dg_json whodm "who /dev/mapper/dgdm" who /dev/mapper/dgdm --offset "$dmoff" --length 4096 -J
who_sum /tmp/whodm.json
check_eq "who on dgdm names f.bin at page $P" "$MNT/f.bin@$off" "$J_owners"
check_eq "who on dgdm names the mappers of the page" "$want_hit" "$J_mappers"
fact who_dm_fs_device "$J_fsdev"

step "daxguard who on pmem0"
dg_json who "who /dev/pmem0" who /dev/pmem0 --offset "$pmoff" --length 4096 -J
who_sum /tmp/who.json
check_eq "who on pmem0 names f.bin at page $P" "$MNT/f.bin@$off" "$J_owners"
check_eq "who on pmem0 names the mappers of the page" "$want_hit" "$J_mappers"
fact who_pmem_fs_device "$J_fsdev"
case $J_fsdev in
"/dev/$DM" | /dev/mapper/dgdm) pass "who on pmem0 names the filesystem on the dm device ($J_fsdev)" ;;
*) fail "who on pmem0 names the filesystem on the dm device: got '$J_fsdev'" ;;
esac
# the pieces, sorted on pmem0: its first half is dgdm's second, and back
check_eq "who on pmem0 shows dgdm's pieces, as the table has them" \
	"0+$HALF@$HALF $HALF+$HALF@0" \
	"$(jq -r '[.filesystems[0].pieces[] | "\(.start)+\(.size)@\(.base)"] | join(" ")' /tmp/who.json)"
daxguard who /dev/pmem0 --offset "$pmoff" --length 4096 --no-users >/tmp/who.txt 2>&1
sed 's/^/    who| /' /tmp/who.txt

# The same for a page in dgdm's second half (pmem0's first half), where
# the offsets differ the other way.  XFS puts new directories in other
# allocation groups; the upper ones are in the second half.
for d in d1 d2 d3; do
	mkdir "$MNT/$d" && fill "$MNT/$d/h.bin" 65536 || die "write $d/h.bin"
	hdm=$(dev_offset "$MNT/$d/h.bin" 4096) || die "FIEMAP of $d/h.bin"
	[ "$hdm" -ge "$HALF" ] && break
done
if [ "$hdm" -ge "$HALF" ]; then
	hpm=$(to_pmem "$hdm")
	echo "$d/h.bin page 1 is at dgdm offset $hdm, pmem0 offset $hpm"
	daxguard who /dev/pmem0 --offset "$hpm" --length 4096 --no-users -J >/tmp/whoh.json 2>/tmp/whoh.err
	rc=$?
	sed 's/^/    stderr| /' /tmp/whoh.err
	who_sum /tmp/whoh.json
	check_eq "who on pmem0 names $d/h.bin in dgdm's second half (exit $rc)" "$MNT/$d/h.bin@4096" "$J_owners"
else
	fact second_half "no h.bin landed in dgdm's second half (last at $hdm)"
fi

step "daxguard fail --action kill on pmem0"
dg_json fail fail fail /dev/pmem0 --offset "$pmoff" --length 4096 --action kill -J
J_owners= J_killed=
[ -s /tmp/fail.json ] && json_vars /tmp/fail.json '
	"owners=\([.owners[] | "\(.path)@\(.file_offset)"] | unique | join(" "))",
	"killed=\([.processes[] | select(.signals | index("KILL")) | .pid] | unique | sort | map(tostring) | join(" "))"'
check_eq "fail names f.bin at page $P" "$MNT/f.bin@$off" "$J_owners"
check_eq "fail reports killing exactly the mappers of the page" "$want_hit" "$J_killed"
sleep 0.5
reap $HIT $SPARED
for r in $HIT; do
	check_eq "$r: killed" "137" "$(exit_status "$r")"
done
for r in $SPARED; do
	check "$r: not hit, still alive" alive "$(pid_of "$r")"
done
check "kernel log clean" kernel_clean "daxguard fail --action kill on pmem0"

step "daxguard remove --dry-run on pmem0"
timeout 60 daxguard remove /dev/pmem0 --dry-run -J >/tmp/dry.json 2>/tmp/dry.err
check_eq "remove --dry-run exit status" 0 "$?"
sed 's/^/    stderr| /' /tmp/dry.err
jq -r '.steps[] | "    step| \(.stage) \(.object): \(.message)"' /tmp/dry.json
check_eq "the plan removes dgdm, then releases pmem0" \
	"/dev/mapper/dgdm: would remove the device-mapper device" \
	"$(jq -r '.steps[] | select(.stage == "release" and .object != "/dev/pmem0") | "\(.object): \(.message)"' /tmp/dry.json)"
check "dry run: $MNT still mounted" grep -q " $MNT " /proc/mounts
check "dry run: dgdm still there" dmsetup info dgdm
for r in $SPARED; do
	check "dry run: $r still alive" alive "$(pid_of "$r")"
done

step "daxguard remove on pmem0"
# data that reached the filesystem must survive the removal: one file
# written with write(2) and never synced, and the files mapped above
dd if=/dev/urandom of="$MNT/unsynced.bin" bs=65536 count=48 2>/dev/null
(cd "$MNT" && sha256sum f.bin g.bin unsynced.bin) >/tmp/sums || die "sha256sum before remove"
timeout 60 daxguard remove /dev/pmem0 --grace 2 -J >/tmp/remove.json 2>/tmp/remove.err
rc=$?
cat /tmp/remove.json
sed 's/^/    stderr| /' /tmp/remove.err
check_eq "remove exit status" 0 "$rc"
J_complete= J_pids= J_badsteps="no JSON report"
[ -s /tmp/remove.json ] && json_vars /tmp/remove.json '
	"complete=\(.complete)",
	"pids=\([.processes[].pid] | unique | map(tostring) | join(" "))",
	"badsteps=\([.steps[] | select(.ok != true) | "\(.stage) \(.object): \(.message)"] | join("; "))"'
check_eq "remove reports complete" true "$J_complete"
check_eq "every remove step ok" "" "$J_badsteps"
want=$(for r in $SPARED; do pid_of "$r"; done | sort -n | tr '\n' ' ')
check_eq "remove acted on exactly the remaining users" "${want% }" "$J_pids"
sleep 0.5
reap $SPARED
for r in $SPARED; do
	check_eq "$r stopped by remove" "SIGTERM; SIGBUS codes: none" "$(role_outcome "$r")"
done
check "$MNT is no longer mounted" sh -c "! grep -q ' $MNT ' /proc/mounts"
check "the dm device is removed (dmsetup info dgdm fails)" sh -c '! dmsetup info dgdm >/dev/null 2>&1'
check "/dev/pmem0 is gone (released)" sh -c '! [ -e /dev/pmem0 ]'
fact after_remove "mounted: $(grep -c " $MNT " /proc/mounts); dm: $(dmsetup ls 2>&1 | tr '\n' ' '); pmem0: $([ -e /dev/pmem0 ] && echo present || echo gone)"
fact kernel_log "$(kernel_summary "daxguard remove on pmem0")"
check "no Oops, warning, shutdown or corruption in the kernel log" kernel_clean "daxguard remove on pmem0"
show_dmesg "daxguard fail --action kill on pmem0"

# what remove left behind, if it failed
kill_all_spawned
grep -q " $MNT " /proc/mounts && timeout 20 umount "$MNT"
dmsetup info dgdm >/dev/null 2>&1 && timeout 20 dmsetup remove dgdm

step "the namespace and dgdm again: is the data intact?"
if [ ! -e /dev/pmem0 ]; then
	timeout 20 ndctl enable-namespace namespace0.0 >/tmp/enable.log 2>&1 && wait_ready /dev/pmem0 ||
		{ echo "$NDDEV" >/sys/bus/nd/drivers/nd_pmem/bind && wait_ready /dev/pmem0; }
fi
check "namespace enabled again (/dev/pmem0 back)" test -e /dev/pmem0
[ -e /dev/pmem0 ] || finish
dmsetup create dgdm --noudevsync </tmp/table && dmsetup mknodes dgdm &&
	mount -t xfs -o dax=always /dev/mapper/dgdm "$MNT"
check "dgdm made again from the same table, and mounted" grep -q " $MNT " /proc/mounts
check "data written before the remove is intact (f.bin g.bin unsynced.bin)" \
	sh -c "cd '$MNT' && sha256sum -c /tmp/sums"
umount "$MNT"
dmsetup remove dgdm
check "kernel log clean after the remount" kernel_clean "the namespace and dgdm again: is the data intact?"
finish
