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

# shellcheck source=tests/act/lib-act.sh
. "$(dirname "$0")/lib-act.sh"

act_init
act_mkfs xfs
echo "some data" >"$MNT/regular" || act_fail "write $MNT/regular"
sum=$(sha256sum <"$MNT/regular")
SIZE=$(blockdev --getsize64 "$DEV") || act_fail "blockdev --getsize64 $DEV"

# a loop device with no filesystem mounted (not even made)
truncate -s 16M "$ACT_T/bare.img" || act_fail "truncate $ACT_T/bare.img"
BAREDEV=$(losetup --find --show "$ACT_T/bare.img") || act_fail "losetup $ACT_T/bare.img"
act_log "bare loop device $BAREDEV"

# a user that a wrong step would signal
act_mapper "hold:$MNT/regular"
P_HOLD=$ACT_PID
# and one of the root filesystem (its cwd and fd are in our tmpdir, on /)
act_mapper "cwd:$ACT_T" "hold:$ACT_T/bare.img"
P_ROOTUSER=$ACT_PID

MOUNTS_BEFORE=$(act_mountinfo_lines "$MAJMIN")
NPROBE=0

# unchanged WHAT: nothing we set up was changed
unchanged()
{
	NPROBE=$((NPROBE + 1))
	[[ "$(act_mountinfo_lines "$MAJMIN")" == "$MOUNTS_BEFORE" ]] ||
		act_fail "$1: the mounts of $DEV changed: $(act_mountinfo_lines "$MAJMIN")"
	[[ "$(losetup -n -O NAME -j "$IMG")" == "$DEV" ]] ||
		act_fail "$1: $DEV is no longer attached to $IMG"
	[[ "$(losetup -n -O NAME -j "$ACT_T/bare.img")" == "$BAREDEV" ]] ||
		act_fail "$1: $BAREDEV is no longer attached"
	act_pid_alive "$P_HOLD" || act_fail "$1: pid $P_HOLD (holds $MNT/regular) is gone"
	act_pid_alive "$P_ROOTUSER" || act_fail "$1: pid $P_ROOTUSER (a user of /) is gone"
	[[ "$(sha256sum <"$MNT/regular")" == "$sum" ]] ||
		act_fail "$1: $MNT/regular changed"
	act_write_within "$MNT/probe.$NPROBE" 1 ||
		act_fail "$1: $MNT is frozen afterwards"
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
	act_run timeout 60 "$DAXGUARD" "$@"
	act_eq "$what: exit status" "$rc" "$ACT_RC"
	msg_ok "$what" "${needles[@]}"
	unchanged "$what"
	act_ok "$what: nothing changed"
}

# msg_ok WHAT NEEDLE...: ACT_ERR is one line, starting "daxguard: ", with
# every NEEDLE in it (goes on after a failure)
msg_ok()
{
	local what=$1 n

	shift
	n=$(printf '%s' "$ACT_ERR" | grep -c '')
	if [[ $n != 1 ]]; then
		act_notok "$what: expected one line on stderr, got $n: $ACT_ERR"
		return
	fi
	if [[ "$ACT_ERR" != "daxguard: "* ]]; then
		act_notok "$what: stderr does not start with 'daxguard: ': $ACT_ERR"
		return
	fi
	for n in "$@"; do
		if [[ "$ACT_ERR" != *"$n"* ]]; then
			act_notok "$what: stderr does not name '$n': $ACT_ERR"
			return
		fi
	done
	act_ok "$what: one line, naming $*: $ACT_ERR"
}

# ------------------------------------------------------------------ #
# remove

bad "remove of a path that does not exist" 1 "$ACT_T/no-such-device" -- \
	remove "$ACT_T/no-such-device"
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

# ------------------------------------------------------------------ #
# fail

past=$((SIZE + 8192))
bad "fail with an offset past the end" 1 "$DEV" "past the end" -- \
	fail "$DEV" --offset "$past" --length 4096
if [[ "$ACT_ERR" == *"$past"* || "$ACT_ERR" == *"$(printf '%#x' "$past")"* ]]; then
	act_ok "fail with an offset past the end: names the offset"
else
	act_notok "fail with an offset past the end: the offset $past is not named: $ACT_ERR"
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
bad "fail of a path that does not exist" 1 "$ACT_T/no-such-device" -- \
	fail "$ACT_T/no-such-device" --offset 0 --length 4096

# ------------------------------------------------------------------ #
# remove refuses the filesystem of daxguard's working directory

act_run timeout 60 sh -c 'cd "$1" && shift && exec "$@"' sh "$MNT/" \
	"$DAXGUARD" remove "$DEV"
act_eq "remove with daxguard's cwd on the filesystem: exit status" 1 "$ACT_RC"
msg_ok "remove with daxguard's cwd on the filesystem is refused" "$DEV" refusing
unchanged "remove with daxguard's cwd on the filesystem"
act_ok "remove with daxguard's cwd on the filesystem: still mounted, nothing changed"

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
		</dev/null >"$ACT_T/root.out" 2>"$ACT_T/root.err" &
	dg=$!
	act_register "$dg"
	for ((i = 0; i < 400; i++)); do
		if grep -q "paused after" "$ACT_T/root.err"; then
			kill -KILL "$dg"
			{ wait "$dg"; } 2>/dev/null
			ACT_ERR=$(cat "$ACT_T/root.err")
			act_fail "remove $target was NOT refused: daxguard went on to collect (stopped before acting)"
		fi
		act_pid_alive "$dg" || break
		sleep 0.05
	done
	if act_pid_alive "$dg"; then
		kill -KILL "$dg"
		{ wait "$dg"; } 2>/dev/null
		act_fail "remove $target: still running after 20 s, not refused"
	fi
	status=0
	wait "$dg" || status=$?
	ACT_ERR=$(cat "$ACT_T/root.err")
	ACT_OUT=$(cat "$ACT_T/root.out")
	act_eq "remove $target (the root filesystem): exit status" 1 "$status"
	msg_ok "remove $target is refused" "$device" refusing
	[[ "$(awk '$5 == "/" { print $3, $4, $5, $9, $10 }' /proc/self/mountinfo)" == "$ROOTMOUNT" ]] ||
		act_fail "remove $target: the root mount changed"
	unchanged "remove $target"
	act_ok "remove $target: / still mounted, its user $P_ROOTUSER not signalled, nothing changed"
}

if [[ "$ROOTSRC" == /dev/* && -b "$ROOTSRC" ]]; then
	refuse_root / "$ROOTSRC"
	refuse_root "$ROOTSRC" "$ROOTSRC"
else
	act_ok "# SKIP remove of /: / is on '$ROOTSRC', not a block device"
fi

act_done
