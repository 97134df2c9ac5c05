#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# deep.sh KIND: a file at the bottom of a tree whose path is longer than
# PATH_MAX (4096 bytes) is mapped and named, with its whole path, by the
# generic FIEMAP walk and by the filesystem's own backend (whose path
# lookup falls back to the same walk).  Nothing can open such a path in one
# call: the walk has to go from directory to directory.  A tree deeper
# than the walk keeps directories open is there too.

. "${TESTS_DIR:-$(dirname "$0")/..}/lib.sh"

kind=${1:?usage: deep.sh xfs-normap|ext4}
dg_require_root
dg_require_mapper
dg_tmpdir
dg_setup_fs "$kind"

# 45 directories of 100-byte names: 4,545 bytes below the mountpoint
name=$(printf 'd%.0s' $(seq 1 100))
deep=$MNT
cd "$MNT" || dg_fail "cd $MNT"
for i in $(seq 1 45); do
	mkdir "$name$i" && cd "$name$i" || dg_fail "mkdir at depth $i failed"
	deep+="/$name$i"
done
head -c 65536 /dev/urandom >data || dg_fail "cannot write at depth 45"
sync
off=$(dg_devoff data 0)
ino=$(dg_inode data)
dg_spawn_mapper "map:data:0:65536:shared-ro"
mapper=$DG_PID
# 1,200 directories of one letter: deeper than a walk can keep open
cd "$MNT" || dg_fail "cd $MNT"
rel=narrow$(printf '/n%.0s' $(seq 1 1200))
mkdir -p "$rel" || dg_fail "mkdir -p of 1,200 levels failed"
narrow=$MNT/$rel
head -c 8192 /dev/urandom >"$rel/leaf" || dg_fail "cannot write at depth 1200"
cd "$rel" || dg_fail "cd to depth 1200 failed"
sync
noff=$(dg_devoff leaf 0)
nino=$(dg_inode leaf)
cd "$DG_TMP" || dg_fail "cd $DG_TMP"
dg_log "inode $ino at $off: path of ${#deep} bytes; inode $nino at $noff: ${#narrow} bytes"

# a walk that kept one directory open per level would run out here
ulimit -n 512
case $kind in
ext4) own=ext4-libext2fs ;;
*) own=xfs-bulkstat ;;
esac
for rmap in fiemap $own; do
	dg_who "$DEV" --offset "$off" --length 4096 --offset "$noff" --length 4096 --rmap "$rmap"
	dg_assert_eq "$rmap: both deep files are named" "[$ino,$nino]" \
		"$(dg_jq '[.owners[] | select(.type == "file") | .inode] | unique | sort')"
	dg_assert_eq "$rmap: the path longer than PATH_MAX" "$deep/data" \
		"$(dg_jq -r --argjson i "$ino" '[.owners[] | select(.inode == $i) | .path] | unique | .[]')"
	dg_assert_eq "$rmap: the path 1,200 directories deep" "$narrow/leaf" \
		"$(dg_jq -r --argjson i "$nino" '[.owners[] | select(.inode == $i) | .path] | unique | .[]')"
	dg_assert_eq "$rmap: the process that maps it" "[$mapper]" "$(dg_jq '[.users[].pid] | unique')"
done
dg_done
