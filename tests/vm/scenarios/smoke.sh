# SPDX-License-Identifier: GPL-2.0-or-later
# smoke[-FS]: the guest works: an fsdax namespace, a DAX filesystem, a
# MAP_SYNC mapping that daxguard who finds.
. /dgvm/lib.sh
FS=${1:-xfs}

step "setup $FS"
setup_fs "$FS"
fill "$MNT/f" $((4 << 20))
spawn m dgvm-probe -r /tmp/ready/m map "$MNT/f" 0 0 shared-ro 0
wait_ready /tmp/ready/m || die "mapper ready"
check "the mapping is MAP_SYNC (fs-DAX)" grep -q 'map_sync=1' "$LOGS/m.log"
off=$(dev_offset "$MNT/f" 8192) || die "FIEMAP of $MNT/f"
echo "file offset 8192 is at device offset $off"

step "daxguard who"
daxguard who /dev/pmem0 --offset "$off" --length 4096 -J >/tmp/who.json 2>/tmp/who.err
rc=$?
cat /tmp/who.json /tmp/who.err
check_eq "who exit status" 0 "$rc"
check_eq "who names the file" "$MNT/f" "$(json /tmp/who.json '[.owners[].path] | unique | join(",")')"
check_eq "who names the mapper" "$(pid_of m)" "$(json /tmp/who.json '[.users[] | select(.use == "map") | .pid] | unique | join(",")')"
kill_all_spawned
umount "$MNT"
check "kernel log clean" kernel_clean "setup $FS"
finish
