#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# swapext.sh: XFS without rmapbt, an extent swap (XFS_IOC_SWAPEXT, what
# xfs_fsr does) that the device does not show yet.  The target keeps its
# size, block and extent counts and timestamps, so its stale on-disk inode
# "agrees" with bulkstat while naming the blocks it had before.  The
# process that maps the target's new blocks must still be found, and the
# target must not be named for its old blocks, by every backend.

. "${TESTS_DIR:-$(dirname "$0")/..}/lib.sh"

dg_require_root
dg_require_mapper
[[ -n "${DG_SWAPEXT:-}" && -x "${DG_SWAPEXT:-}" ]] ||
	dg_fail "DG_SWAPEXT is not set to an executable (${DG_SWAPEXT:-unset})"
dg_tmpdir
dg_setup_fs xfs-normap

# some files first, so that the two files are not the only inodes
for i in $(seq 1 40); do head -c $((i * 1000)) /dev/urandom >"$MNT/f$i"; done
dg_write_chunk "$MNT/target" 0 65536
sync
# the target's inode is now in place on the device: push the log
xfs_freeze -f "$MNT" && xfs_freeze -u "$MNT" || dg_fail "xfs_freeze $MNT failed"
# the donor: same size, one extent, elsewhere
head -c 1m /dev/zero >"$MNT/spacer"
dg_write_chunk "$MNT/donor" 0 65536
old=$(dg_devoff "$MNT/target" 0)
new=$(dg_devoff "$MNT/donor" 0)
ino=$(dg_inode "$MNT/target")
"$DG_SWAPEXT" "$MNT/target" "$MNT/donor" || dg_fail "XFS_IOC_SWAPEXT failed"
rm -f "$MNT/donor"
dg_assert_eq "the target's blocks moved (FIEMAP)" "$new" "$(dg_devoff "$MNT/target" 0)"
dg_log "inode $ino moved from $old to $new; on the device it still says:"
xfs_db -r -c "inode $ino" -c "p u3.bmx" "$DEV" 2>&1 | sed 's/^/#   /' || true

mapper=$(dg_start_mapper "map:$MNT/target:0:65536:shared-ro")

for rmap in xfs-bulkstat fiemap; do
	dg_who "$DEV" --offset "$new" --length 4096 --rmap "$rmap"
	dg_assert_eq "$rmap: the target owns its new block" "[$ino]" \
		"$(dg_jq '[.owners[] | select(.type == "file") | .inode] | unique')"
	dg_assert_eq "$rmap: the process mapping it is found" "[$mapper]" \
		"$(dg_jq '[.users[].pid] | unique')"
	dg_who "$DEV" --offset "$old" --length 4096 --rmap "$rmap" --no-users
	dg_assert_eq "$rmap: its old block is not the target's" "[]" \
		"$(dg_jq '[.owners[] | select(.type == "file") | .inode] | unique')"
done
dg_done
