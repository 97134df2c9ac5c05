#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lib-cleanup.sh: tests/lib.sh itself.  A leaked loop device or mount
# breaks every later run, so check that a test which fails, or is killed
# with SIGTERM or SIGKILL, leaves nothing behind: no process, no mount, no loop
# device, no directory.  Also: skips turn into failures under CI, and the
# assertions fail when they should.  A test killed with SIGKILL is cleaned
# up after by its guard.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

dg_require_root
dg_require_mapper
dg_require_fs ext4
dg_tmpdir
LIB="${TESTS_DIR:-$(dirname "$0")}/lib.sh"

# The child: set up one of everything, record it, then fail or wait to be
# killed, as $1 says.
CHILD=$DG_TMP/child.sh
cat >"$CHILD" <<'EOF'
. "$LIB"
dg_tmpdir
dg_mkfs_loop ext4 32
mkdir "$MNT/sub" "$DG_TMP/bind"
mount --bind "$MNT/sub" "$DG_TMP/bind"
dg_write_chunk "$MNT/f" 0 8192
P1=$(dg_start_mapper "map:$MNT/f:0:8192:shared-ro" "hold:$MNT/f" "cwd:$DG_TMP/bind")
P2=$(dg_start_mapper "cwd:$MNT/sub")
{
	echo "TMP=$DG_TMP"
	echo "DEV=$DEV"
	echo "IMG=$DG_TMP/fs1.img"
	echo "PIDS='$P1 $P2'"
	echo "START1=$(dg_starttime "$P1")"
	echo "START2=$(dg_starttime "$P2")"
} >"$STATE.tmp"
mv "$STATE.tmp" "$STATE"
case "$1" in
fail) dg_assert_eq "a failing assertion" 1 2 ;;
wait) while :; do sleep 0.1; done ;;
esac
EOF

# check_gone LABEL STATE: everything the child recorded is gone
check_gone()
{
	local label=$1 TMP DEV IMG PIDS START1 START2

	# shellcheck disable=SC1090
	. "$2"
	# shellcheck disable=SC2086
	set -- $PIDS
	dg_pid_alive "$1" "$START1" && dg_fail "$label: pid $1 still runs"
	dg_pid_alive "$2" "$START2" && dg_fail "$label: pid $2 still runs"
	dg_ok "$label: the processes are gone"
	dg_assert_eq "$label: mounts below its directory" "" "$(dg_mounts_below "$TMP")"
	dg_assert_eq "$label: loop devices on its image" "" \
		"$(losetup -a | grep -F "$IMG" || true)"
	if losetup -n -O BACK-FILE "$DEV" 2>/dev/null | grep -qF "$IMG"; then
		dg_fail "$label: $DEV is still attached to $IMG"
	fi
	dg_ok "$label: $DEV is detached"
	[[ ! -e "$TMP" ]] || dg_fail "$label: $TMP still exists"
	dg_ok "$label: its directory is gone"
}

# 1. a failing assertion
STATE=$DG_TMP/state.fail
dg_run env LIB="$LIB" STATE="$STATE" bash "$CHILD" fail
dg_assert_eq "failing child: exit status" 1 "$DG_RC"
dg_assert_match "failing child: says why" "FAIL: a failing assertion: expected '1', got '2'" "$DG_ERR"
[[ -f "$STATE" ]] || dg_fail "failing child: did not get as far as the failure: $DG_ERR"
check_gone "failing child" "$STATE"

# 2. SIGTERM while it waits
STATE=$DG_TMP/state.term
LIB="$LIB" STATE="$STATE" bash "$CHILD" wait >"$DG_TMP/term.log" 2>&1 &
CPID=$!
dg_register_pid "$CPID"
for ((i = 0; i < 400; i++)); do
	[[ -f "$STATE" ]] && break
	kill -0 "$CPID" 2>/dev/null || dg_fail "waiting child died: $(cat "$DG_TMP/term.log")"
	sleep 0.05
done
[[ -f "$STATE" ]] || dg_fail "waiting child: not set up after 20 s"
kill -TERM "$CPID"
RC=0
wait "$CPID" || RC=$?
dg_assert_eq "terminated child: exit status" 143 "$RC"
check_gone "terminated child" "$STATE"

# 3. SIGKILL: no trap runs, the guard cleans up after it
STATE=$DG_TMP/state.kill
LIB="$LIB" STATE="$STATE" bash "$CHILD" wait >"$DG_TMP/kill.log" 2>&1 &
CPID=$!
dg_register_pid "$CPID"
for ((i = 0; i < 400; i++)); do
	[[ -f "$STATE" ]] && break
	kill -0 "$CPID" 2>/dev/null || dg_fail "waiting child died: $(cat "$DG_TMP/kill.log")"
	sleep 0.05
done
[[ -f "$STATE" ]] || dg_fail "waiting child: not set up after 20 s"
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null || true
KTMP=$(sed -n 's/^TMP=//p' "$STATE")
for ((i = 0; i < 300; i++)); do
	[[ -e "$KTMP" ]] || break
	sleep 0.1
done
check_gone "killed child" "$STATE"

# 4. skips: 77 outside CI, a failure under CI
dg_run env -u CI bash -c ". '$LIB'; dg_skip 'no reason'"
dg_assert_eq "skip outside CI: exit status" 77 "$DG_RC"
dg_run env CI=true bash -c ". '$LIB'; dg_skip 'no reason'"
dg_assert_eq "skip under CI: exit status" 1 "$DG_RC"
dg_assert_match "skip under CI: says why" "cannot run under CI: no reason" "$DG_ERR"

# 5. the assertions
dg_run bash -c ". '$LIB'; dg_assert_eq x 1 1; dg_assert_eq y 1 01; echo not reached"
dg_assert_eq "dg_assert_eq fails on a difference: exit status" 1 "$DG_RC"
[[ "$DG_OUT" != *"not reached"* ]] || dg_fail "dg_assert_eq did not stop the test"
dg_ok "dg_assert_eq stops the test"
dg_run bash -c ". '$LIB'; dg_assert_match x '^a+\$' aab"
dg_assert_eq "dg_assert_match fails on a mismatch" 1 "$DG_RC"
DG_ERR=""

echo "1..$DG_NCHECK"
