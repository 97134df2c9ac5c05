#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# crc.sh: XFS v5 without rmapbt.  The xfs-bulkstat backend reads inodes and
# extent-map (bmbt) blocks from the device.  A copy whose CRC fails is not
# what the kernel wrote: here an extent record of an inode, and one of a
# bmbt leaf, are changed on the device under the mounted filesystem (its
# cached copies stay as they were), without fixing the CRC.  Every other
# field still agrees with bulkstat.  The backend must see the CRC fail, map
# those files through the kernel, and find them on their real blocks.

. "${TESTS_DIR:-$(dirname "$0")/..}/lib.sh"

dg_require_root
dg_require_mapper
dg_tmpdir
dg_setup_fs xfs-normap
# no atime updates: nothing of ours is written back over the changes
mount -o remount,noatime "$MNT" || dg_fail "remount noatime failed"

# poke OFFSET HEX: write the bytes HEX (two digits each) at OFFSET of $DEV
poke()
{
	local hex=$2 esc=""

	while [[ -n $hex ]]; do
		esc+="\\x${hex:0:2}"
		hex=${hex:2}
	done
	# shellcheck disable=SC2059 # the escapes are the point
	printf "$esc" | dd of="$DEV" bs=1 seek="$1" conv=notrunc,fsync status=none ||
		dg_fail "cannot write $DEV at $1"
}

# l1 of a bmbt record: startblock << 21 | blockcount, 16 hex digits
rec_l1()
{
	printf '%016x' $((($1 << 21) | $2))
}

xdb()
{
	xfs_db -r -c "$1" -c "$2" "$DEV" 2>/dev/null
}

for i in $(seq 1 30); do head -c $((i * 3000)) /dev/urandom >"$MNT/f$i"; done
dg_write_chunk "$MNT/target" 0 65536
cmds=()
for i in $(seq 0 39); do cmds+=(-c "pwrite -q $((i * 65536)) 4096"); done
xfs_io -f "${cmds[@]}" -c fsync "$MNT/btree" || dg_fail "cannot write $MNT/btree"
sync
tino=$(dg_inode "$MNT/target")
bino=$(dg_inode "$MNT/btree")
mapper=$(dg_start_mapper "map:$MNT/target:0:65536:shared-ro" "hold:$MNT/btree")
# everything in place on the device
xfs_freeze -f "$MNT" && xfs_freeze -u "$MNT" || dg_fail "xfs_freeze $MNT failed"

# the target's one extent record, in the inode (after the 176-byte core)
read -r tstart tlen < <(xdb "inode $tino" "p u3.bmx" |
	sed -n 's/^0:\[0,\([0-9]*\),\([0-9]*\),0\]$/\1 \2/p')
[[ -n $tstart ]] || dg_fail "inode $tino: no extent record found by xfs_db"
tbyte=$(xdb "convert inode $tino byte" "" | awk '{ print $2 }' | tr -d '()')
poke $((tbyte + 176 + 8)) "$(rec_l1 $((tstart + 1000)) "$tlen")"

# the btree file's sixth extent, in its first bmbt leaf (72-byte header)
leaf=$(xdb "inode $bino" "p u3.bmbt.ptrs[1]" | awk '{ print $3 }')
[[ $(xdb "inode $bino" "p core.format") == *btree* && -n $leaf ]] ||
	dg_fail "$MNT/btree: no bmbt leaf found by xfs_db"
lbyte=$(xdb "convert fsblock $leaf byte" "" | awk '{ print $2 }' | tr -d '()')
# "k:[startoff,startblock,blockcount,flag]" for each record k (from 1)
read -r bk bstart blen < <(xfs_db -r -c "fsblock $leaf" -c "type bmapbtd" -c "p recs" "$DEV" |
	tr ' ' '\n' | sed -n 's/^\([0-9]*\):\[80,\([0-9]*\),\([0-9]*\),0\]$/\1 \2 \3/p')
[[ -n $bstart ]] || dg_fail "$MNT/btree: no leaf record for its block 80 (xfs_db)"
poke $((lbyte + 72 + (bk - 1) * 16 + 8)) "$(rec_l1 $((bstart + 1000)) "$blen")"

toff=$(dg_devoff "$MNT/target" 0)
boff=$(dg_devoff "$MNT/btree" $((5 * 65536)))
dg_log "inode $tino (target) at $toff, inode $bino (btree) extent 6 at $boff: changed on $DEV"

dg_run timeout 60 env DAXGUARD_LOG=debug "$DAXGUARD" who "$DEV" --offset "$toff" --length 4096 \
	--offset "$boff" --length 4096 --rmap xfs-bulkstat -J
[[ $DG_RC == 0 ]] || dg_fail "daxguard who: exit status $DG_RC"
dg_json_ok "daxguard who"
dg_assert_eq "both files own their real blocks" "[$tino,$bino]" \
	"$(dg_jq "[.owners[] | select(.type == \"file\") | .inode] | unique")"
dg_assert_eq "the process mapping the target is found" "[$mapper]" \
	"$(dg_jq '[.users[] | select(.use == "map") | .pid] | unique')"
dg_assert_match "inode $tino: its CRC failure is seen" "inode $tino: .*CRC" "$DG_ERR"
dg_assert_match "inode $bino: its bmbt block's CRC failure is seen" \
	"inode $bino: extent map block .*CRC" "$DG_ERR"
dg_done
