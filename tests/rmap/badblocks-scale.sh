#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# badblocks-scale.sh KIND: a badblocks list of 200,000 one-sector entries
# (what a scrub of a badly failing device reports) is answered in bounded
# time by the filesystem's own backend.  Under `fail` all of that time is
# spent frozen.  The ext4 backend once compared every owner record with
# every range: about 45 s here, where XFS took one.
#
# DG_BB_ENTRIES=N changes the count, DG_BB_LIMIT=S the bound (seconds;
# doubled in a sanitizer build).

. "${TESTS_DIR:-$(dirname "$0")/..}/lib.sh"

kind=${1:?usage: badblocks-scale.sh ext4|xfs-normap}
entries=${DG_BB_ENTRIES:-200000}
limit=${DG_BB_LIMIT:-15}
[[ ${DG_SANITIZE:-none} == none ]] || limit=$((limit * 2))

dg_require_root
dg_tmpdir
case $kind in
ext4)
	dg_require_fs ext4
	dg_mkfs_loop ext4 1100
	;;
xfs-normap)
	dg_require_fs xfs
	dg_mkfs_loop xfs 1100 -m rmapbt=0,reflink=0
	;;
*) dg_fail "unknown kind $kind" ;;
esac

# files over part of the device, so that many entries hit a file
for d in 0 1 2 3; do
	mkdir "$MNT/d$d"
	for i in $(seq 0 49); do
		head -c $(((i % 7 + 1) * 256 * 1024)) /dev/zero >"$MNT/d$d/f$i"
	done
done
sync

# one sector in every 10: no two entries touch, so none merge
awk -v n="$entries" 'BEGIN { for (i = 0; i < n; i++) print i * 10 + 3, 1 }' \
	>"$DG_TMP/badblocks"
t0=${EPOCHREALTIME/./}
DG_JSON=$(timeout 300 "$DAXGUARD" who "$DEV" --badblocks "$DG_TMP/badblocks" --no-users \
	--no-paths -J) || dg_fail "who --badblocks ($entries entries) failed"
t1=${EPOCHREALTIME/./}
ms=$(((t1 - t0) / 1000))
nfile=$(dg_jq '[.owners[] | select(.type == "file")] | length')
dg_log "$kind: $entries entries answered in $ms ms, $nfile file records"
((nfile > 1000)) || dg_fail "only $nfile file records: the list should hit many files"
((ms < limit * 1000)) ||
	dg_fail "$entries badblocks entries took $ms ms (limit $limit s)"
dg_ok "$entries badblocks entries answered in $ms ms (limit $limit s)"
dg_done
