#!/bin/bash
# shellcheck disable=SC2016 # jq filters and sh -c scripts: their own $vars
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Invariant 4 for remove and fail: bad input gets a non-zero exit (2 for
# usage errors, 1 for the rest), exactly one line on stderr that starts
# with "daxguard: " and names the object, and changes nothing.  And remove
# refuses, without --force, the filesystem that holds / and the one that
# holds daxguard's working directory.
#
# The refusal for / is run with "--action report --pause-after collect":
# the refusal comes before either matters, and should it ever not, daxguard
# stops after looking, before signalling or freezing anything on the host,
# and this test kills it and fails.  --force is never given.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

dg_act_init
dg_setup_fs xfs-rmap
echo "some data" >"$MNT/regular" || dg_fail "write $MNT/regular"
sum=$(sha256sum <"$MNT/regular")
SIZE=$(blockdev --getsize64 "$DEV") || dg_fail "blockdev --getsize64 $DEV"

# a loop device with no filesystem mounted (not even made)
truncate -s 16M "$DG_TMP/bare.img" || dg_fail "truncate $DG_TMP/bare.img"
BAREDEV=$(losetup --find --show "$DG_TMP/bare.img") || dg_fail "losetup $DG_TMP/bare.img"
dg_log "bare loop device $BAREDEV"

# a user that a wrong step would signal
dg_spawn_mapper "hold:$MNT/regular"
P_HOLD=$DG_PID
# and one of the root filesystem (its cwd and fd are in our tmpdir, on /)
dg_spawn_mapper "cwd:$DG_TMP" "hold:$DG_TMP/bare.img"
P_ROOTUSER=$DG_PID

MOUNTS_BEFORE=$(dg_mountinfo_lines "$MAJMIN")
NPROBE=0

# unchanged WHAT: nothing we set up was changed
unchanged()
{
	NPROBE=$((NPROBE + 1))
	[[ "$(dg_mountinfo_lines "$MAJMIN")" == "$MOUNTS_BEFORE" ]] ||
		dg_fail "$1: the mounts of $DEV changed: $(dg_mountinfo_lines "$MAJMIN")"
	[[ "$(losetup -n -O NAME -j "$IMG")" == "$DEV" ]] ||
		dg_fail "$1: $DEV is no longer attached to $IMG"
	[[ "$(losetup -n -O NAME -j "$DG_TMP/bare.img")" == "$BAREDEV" ]] ||
		dg_fail "$1: $BAREDEV is no longer attached"
	dg_pid_alive "$P_HOLD" || dg_fail "$1: pid $P_HOLD (holds $MNT/regular) is gone"
	dg_pid_alive "$P_ROOTUSER" || dg_fail "$1: pid $P_ROOTUSER (a user of /) is gone"
	[[ "$(sha256sum <"$MNT/regular")" == "$sum" ]] ||
		dg_fail "$1: $MNT/regular changed"
	dg_write_within "$MNT/probe.$NPROBE" 1 ||
		dg_fail "$1: $MNT is frozen afterwards"
	rm -f "$MNT/probe.$NPROBE"
}

# bad WHAT RC NEEDLE... -- DAXGUARD_ARGS...: exit status RC, one stderr line
# starting "daxguard: " and containing every NEEDLE, nothing changed.
bad()
{
	local what=$1 rc=$2 needles=() n

	shift 2
	while [[ $1 != -- ]]; do
		needles+=("$1")
		shift
	done
	shift
	dg_run timeout 60 "$DAXGUARD" "$@"
	dg_expect_eq "$what: exit status" "$rc" "$DG_RC"
	msg_ok "$what" "${needles[@]}"
	unchanged "$what"
	dg_ok "$what: nothing changed"
}

# msg_ok WHAT NEEDLE...: DG_ERR is one line, starting "daxguard: ", with
# every NEEDLE in it (goes on after a failure)
msg_ok()
{
	local what=$1 n

	shift
	n=$(printf '%s' "$DG_ERR" | grep -c '')
	if [[ $n != 1 ]]; then
		dg_notok "$what: expected one line on stderr, got $n: $DG_ERR"
		return
	fi
	if [[ "$DG_ERR" != "daxguard: "* ]]; then
		dg_notok "$what: stderr does not start with 'daxguard: ': $DG_ERR"
		return
	fi
	for n in "$@"; do
		if [[ "$DG_ERR" != *"$n"* ]]; then
			dg_notok "$what: stderr does not name '$n': $DG_ERR"
			return
		fi
	done
	dg_ok "$what: one line, naming $*: $DG_ERR"
}

# ------------------------------------------------------------------ #
# remove

bad "remove of a path that does not exist" 1 "$DG_TMP/no-such-device" -- \
	remove "$DG_TMP/no-such-device"
bad "remove of a regular file" 1 "$MNT/regular" -- \
	remove "$MNT/regular"
bad "remove of a loop device with no mounted filesystem" 1 "$BAREDEV" -- \
	remove "$BAREDEV"
bad "remove --grace abc" 2 "--grace" "abc" -- \
	remove --grace abc "$DEV"
bad "remove -g abc -J" 2 "--grace" "abc" -- \
	remove -g abc -J "$DEV"
bad "remove --action nosuch" 2 "--action" "nosuch" -- \
	remove --action nosuch "$DEV"
# the CXL release levels: a loop device is on no CXL region
bad "remove --release memdev of a loop device" 1 "$DEV" "not on a CXL region" -- \
	remove --release memdev "$DEV"
bad "remove --release memdev --dry-run of a loop device" 1 "$DEV" "not on a CXL region" -- \
	remove --release memdev --dry-run "$DEV"
bad "remove --release nosuch" 2 "--release" "nosuch" -- \
	remove --release nosuch "$DEV"
bad "remove --no-release --release memdev" 2 "--no-release" "--release memdev" -- \
	remove --no-release --release memdev "$DEV"
bad "fail --dpa on a loop device" 1 "$DEV" "no CXL region" -- \
	fail --dpa mem0:0x1000 -a kill "$DEV"

# ------------------------------------------------------------------ #
# fail

past=$((SIZE + 8192))
bad "fail with an offset past the end" 1 "$DEV" "past the end" -- \
	fail "$DEV" --offset "$past" --length 4096
if [[ "$DG_ERR" == *"$past"* || "$DG_ERR" == *"$(printf '%#x' "$past")"* ]]; then
	dg_ok "fail with an offset past the end: names the offset"
else
	dg_notok "fail with an offset past the end: the offset $past is not named: $DG_ERR"
fi
bad "fail with a range that runs past the end" 1 "$DEV" "past the end" -- \
	fail "$DEV" --offset $((SIZE - 4096)) --length 8192
bad "fail --length 0" 2 "--length" "'0'" -- \
	fail "$DEV" --offset 0 --length 0
bad "fail --action nosuch" 2 "--action" "nosuch" -- \
	fail "$DEV" --offset 0 --length 4096 --action nosuch
bad "fail without a range" 2 "--offset" "--length" -- \
	fail "$DEV"
bad "fail --offset without --length" 2 "--length" -- \
	fail "$DEV" --offset 0
bad "fail --offset abc" 2 "--offset" "abc" -- \
	fail "$DEV" --offset abc --length 4096
# a badblocks list that cannot be read, or does not parse, stops fail
# before it does anything (a directory once read as an empty list: "no bad
# blocks listed: nothing to do", exit 0)
bad "fail --badblocks FILE that does not exist" 1 "$DG_TMP/no-such-list" "No such file" -- \
	fail "$DEV" --badblocks "$DG_TMP/no-such-list" --action kill
bad "fail --badblocks DIRECTORY" 1 "$DG_TMP" "Is a directory" -- \
	fail "$DEV" --badblocks "$DG_TMP" --action kill
printf '0 8\0002\n' >"$DG_TMP/nul.list"
bad "fail --badblocks with a NUL inside a line" 2 "$DG_TMP/nul.list:1:" "NUL" -- \
	fail "$DEV" --badblocks "$DG_TMP/nul.list" --action kill
bad "fail of a path that does not exist" 1 "$DG_TMP/no-such-device" -- \
	fail "$DG_TMP/no-such-device" --offset 0 --length 4096

# ------------------------------------------------------------------ #
# remove refuses the filesystem of daxguard's working directory

dg_run timeout 60 sh -c 'cd "$1" && shift && exec "$@"' sh "$MNT/" \
	"$DAXGUARD" remove "$DEV"
dg_expect_eq "remove with daxguard's cwd on the filesystem: exit status" 1 "$DG_RC"
msg_ok "remove with daxguard's cwd on the filesystem is refused" "$DEV" refusing
unchanged "remove with daxguard's cwd on the filesystem"
dg_ok "remove with daxguard's cwd on the filesystem: still mounted, nothing changed"

# ------------------------------------------------------------------ #
# remove refuses the root filesystem

ROOTSRC=$(findmnt -n -o SOURCE /)
ROOTSRC=${ROOTSRC%%\[*}
ROOTMOUNT=$(awk '$5 == "/" { print $3, $4, $5, $9, $10 }' /proc/self/mountinfo)

# refuse_root TARGET DEVICE: refused, with a message naming DEVICE
refuse_root()
{
	local target=$1 device=$2 dg i status

	"$DAXGUARD" remove --action report --pause-after collect "$target" \
		</dev/null >"$DG_TMP/root.out" 2>"$DG_TMP/root.err" &
	dg=$!
	dg_register_pid "$dg"
	for ((i = 0; i < 400; i++)); do
		if grep -q "paused after" "$DG_TMP/root.err"; then
			kill -KILL "$dg"
			{ wait "$dg"; } 2>/dev/null
			DG_ERR=$(cat "$DG_TMP/root.err")
			dg_fail "remove $target was NOT refused: daxguard went on to collect (stopped before acting)"
		fi
		dg_pid_alive "$dg" || break
		sleep 0.05
	done
	if dg_pid_alive "$dg"; then
		kill -KILL "$dg"
		{ wait "$dg"; } 2>/dev/null
		dg_fail "remove $target: still running after 20 s, not refused"
	fi
	status=0
	wait "$dg" || status=$?
	DG_ERR=$(cat "$DG_TMP/root.err")
	DG_OUT=$(cat "$DG_TMP/root.out")
	dg_expect_eq "remove $target (the root filesystem): exit status" 1 "$status"
	msg_ok "remove $target is refused" "$device" refusing
	[[ "$(awk '$5 == "/" { print $3, $4, $5, $9, $10 }' /proc/self/mountinfo)" == "$ROOTMOUNT" ]] ||
		dg_fail "remove $target: the root mount changed"
	unchanged "remove $target"
	dg_ok "remove $target: / still mounted, its user $P_ROOTUSER not signalled, nothing changed"
}

if [[ "$ROOTSRC" == /dev/* && -b "$ROOTSRC" ]]; then
	refuse_root / "$ROOTSRC"
	refuse_root "$ROOTSRC" "$ROOTSRC"
else
	dg_ok "# SKIP remove of /: / is on '$ROOTSRC', not a block device"
fi

dg_done
