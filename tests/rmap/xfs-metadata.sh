#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# xfs-metadata.sh: XFS without rmapbt.  GETFSMAP then calls every block in
# use "unknown"; the backends must still tell the metadata apart (inode
# clusters, the inode btrees, the free-space btrees and free list), so that
# `fail --shutdown` acts on it, and must call what nobody can name
# "unknown": never "nothing on the device".  Each block is found with
# xfs_db and compared with what an rmapbt filesystem's GETFSMAP names the
# same kind of block.

. "${TESTS_DIR:-$(dirname "$0")/..}/lib.sh"

dg_require_root
dg_tmpdir
dg_setup_fs xfs-normap

for d in 0 1 2 3; do
	mkdir "$MNT/d$d"
	for i in $(seq 1 40); do head -c $((i * 1000)) /dev/urandom >"$MNT/d$d/f$i"; done
done
# a symlink too long for the inode: its target is in a block of its own,
# which no kernel interface maps
ln -s "$(printf 'x%.0s' $(seq 1 1000))" "$MNT/longlink"
sync
xfs_freeze -f "$MNT" && xfs_freeze -u "$MNT" || dg_fail "xfs_freeze $MNT failed"

xp()
{
	xfs_db -r "${@/#/-c}" "$DEV" 2>/dev/null | awk '{ print $3 }'
}
fsb_byte()
{
	xfs_db -r -c "convert fsblock $1 byte" "$DEV" | awk '{ print $1 }'
}
bs=$(stat -f -c %S "$MNT")
agblocks=$(dg_xfs_sb "$DEV" agblocks)

# "OFFSET KIND" lines: one block of each kind, in AGs 0 and 1
: >"$DG_TMP/blocks"
for ag in 0 1; do
	base=$((ag * agblocks * bs))
	{
		echo "$((base + $(xp "agi $ag" "p root") * bs)) inode_btree"
		echo "$((base + $(xp "agi $ag" "p free_root") * bs)) inode_btree"
		echo "$((base + $(xp "agf $ag" "p bnoroot") * bs)) ag_metadata"
		echo "$((base + $(xp "agf $ag" "p cntroot") * bs)) ag_metadata"
		first=$(xp "agf $ag" "p flfirst")
		echo "$((base + $(xp "agfl $ag" "p bno[$first]") * bs)) ag_metadata"
	} >>"$DG_TMP/blocks"
done
for f in "$MNT/d0/f1" "$MNT/d1/f1" "$MNT/d3/f40"; do
	byte=$(xfs_db -r -c "convert inode $(dg_inode "$f") byte" "$DEV" | awk '{ print $1 }')
	echo "$((byte / bs * bs)) inodes" >>"$DG_TMP/blocks"
done
lino=$(dg_inode "$MNT/longlink")
lblk=$(xfs_db -r -c "inode $lino" -c "p u3.bmx" "$DEV" | sed -n 's/^0:\[0,\([0-9]*\),1,0\]$/\1/p')
[[ -n $lblk ]] || dg_fail "$MNT/longlink: no remote block (xfs_db)"
echo "$(($(fsb_byte "$lblk"))) unknown" >>"$DG_TMP/blocks"
sed 's/^/# /' "$DG_TMP/blocks"

args=()
while read -r off _; do args+=(--offset "$off" --length "$bs"); done <"$DG_TMP/blocks"
for rmap in xfs-bulkstat fiemap; do
	dg_who "$DEV" "${args[@]}" --rmap "$rmap" --no-users
	while read -r off kind; do
		got=$(dg_jq -r --argjson o "$off" '[.owners[] | select(.offset <= $o
			and .offset + .length > $o) | if .type == "metadata" then .kind
			else .type end] | unique | join(",")')
		# the generic backend knows less: "unknown" is its honest answer
		[[ $rmap == fiemap && $got == unknown ]] && got=$kind
		dg_assert_eq "$rmap: block at $off is $kind" "$kind" "$got"
	done <"$DG_TMP/blocks"
done

# the names are those the kernel's own rmap gives the same blocks
dg_mkfs_loop xfs 320 -m rmapbt=1
DG_JSON=$(dg_fsmap "$MNT")
for k in "inode btree" "inodes" "per-AG metadata"; do
	grep -q " $k\$" <<<"$DG_JSON" || dg_fail "GETFSMAP with rmapbt names no '$k'"
done
dg_ok "GETFSMAP with rmapbt has inode btree, inodes and per-AG metadata records"
dg_done
