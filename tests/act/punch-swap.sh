#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# fail --punch must punch the inode the reverse map named, never whatever a
# path leads to later.  A user who owns a directory on the path of the
# failed file swaps it for a symlink during the grace period of --action
# term: the path then leads to a root-only file elsewhere (round 1), or to
# a block device node (round 2).  Both must stay as they were, and the
# failed page of the real file must become a hole.
#
# Usage: punch-swap.sh xfs-rmap|ext4

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

PAGE=2

dg_act_init
dg_setup_fs "${1:-}"

# the bystanders, outside the filesystem: a root-only file and a device
OTHER="$DG_TMP/other"
mkdir -p "$OTHER/file" "$OTHER/dev" || dg_fail "mkdir $OTHER"
head -c $((8 * 4096)) /dev/urandom >"$OTHER/file/data" || dg_fail "write $OTHER/file/data"
chmod 600 "$OTHER/file/data"
truncate -s 1M "$DG_TMP/bystander.img" || dg_fail "truncate"
head -c 1M /dev/urandom | dd of="$DG_TMP/bystander.img" conv=notrunc status=none
BDEV=$(dg_losetup "$DG_TMP/bystander.img") || exit 1
read -r bmaj bmin < <(stat -L -c '%t %T' "$BDEV")
mknod "$OTHER/dev/data" b $((16#$bmaj)) $((16#$bmin)) || dg_fail "mknod"
SUM_FILE=$(sha256sum <"$OTHER/file/data")
SUM_DEV=$(sha256sum <"$BDEV")

# round ROUND WHERE: the user's directory $MNT/u/d holds "data"; during the
# grace period d becomes a symlink to $OTHER/WHERE
round()
{
	local where=$1 hit sums

	rm -rf "$MNT/u"
	mkdir -p "$MNT/u/d" || dg_fail "mkdir $MNT/u/d"
	head -c $((8 * 4096)) /dev/urandom >"$MNT/u/d/data" || dg_fail "write"
	sync -f "$MNT" || dg_fail "syncfs"
	chown -R nobody "$MNT/u"
	hit=$(dg_devoff "$MNT/u/d/data" $((PAGE * 4096))) || exit 1
	dg_spawn_mapper "map:$MNT/u/d/data:$((PAGE * 4096)):4096:shared-ro"
	dg_start_paused "fail --punch ($where)" signal timeout 60 "$DAXGUARD" fail "$DEV" \
		--offset "$hit" --length 4096 --action term --grace 5 --punch -J \
		--pause-after signal
	# the swap, as the owner of $MNT/u would do it
	mv "$MNT/u/d" "$MNT/u/d.old" || dg_fail "mv"
	ln -s "$OTHER/$where" "$MNT/u/d" || dg_fail "ln -s"
	kill -USR1 "$DG_PAUSED"
	wait "$DG_PID"
	dg_ran $? "fail --punch ($where)"
	dg_json_ok "fail --punch ($where)"
	dg_expect_eq "$where: the root-only file is untouched" "$SUM_FILE" \
		"$(sha256sum <"$OTHER/file/data")"
	dg_expect_eq "$where: the block device is untouched" "$SUM_DEV" "$(sha256sum <"$BDEV")"
	sums=$(xfs_io -r -c "fiemap -v" "$MNT/u/d.old/data" | awk -v s=$((PAGE * 8)) -v e=$((PAGE * 8 + 7)) '$3 == "hole" { split(substr($2, 2), r, /[.\]]+/); if (r[1] <= s && r[2] >= e) n++ } END { print n + 0 }')
	dg_expect_eq "$where: page $PAGE of the real file is a hole now" 1 "$sums"
	dg_expect_eq "$where: the punch step succeeded" true \
		"$(dg_jq '[.steps[] | select(.stage == "punch") | .ok] | all and length > 0')"
}

round file
round dev
dg_done
