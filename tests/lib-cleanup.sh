#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# lib-cleanup.sh: tests/lib.sh itself.  A leaked loop device or mount
# breaks every later run, so check that a test which fails, or is killed
# with SIGTERM or SIGKILL, leaves nothing behind: no process, no mount, no loop
# device, no directory, even with its filesystem frozen and a writer
# blocked on it.  Both ways a test starts (dg_tmpdir, and dg_act_init for
# tests/act) and both ways it fails (dg_assert_eq stops, dg_expect_eq goes
# on to dg_done) are covered, with a process whose thread-group leader
# exited and a mountpoint whose name holds a newline among what is left.  Also: skips turn into failures under CI, and
# the assertions fail when they should.  A test killed with SIGKILL is
# cleaned up after by its guard.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

dg_require_root
dg_require_mapper
dg_require_cmd fsfreeze
dg_require_fs ext4
dg_tmpdir
LIB="${TESTS_DIR:-$(dirname "$0")}/lib.sh"

# The child: start as a who test or an act test ($1), set up one of
# everything, record it, then fail or wait to be killed, as $2 says.
CHILD=$DG_TMP/child.sh
cat >"$CHILD" <<'EOF'
. "$LIB"
case "$1" in
who) dg_tmpdir ;;
act) dg_act_init ;;
esac
dg_mkfs_loop ext4 32
mkdir "$MNT/sub" "$DG_TMP/bind" "$DG_TMP/bind"$'\n'"two"
mount --bind "$MNT/sub" "$DG_TMP/bind"
# a mountpoint whose name has a newline (mountinfo escapes it)
mount --bind "$MNT/sub" "$DG_TMP/bind"$'\n'"two"
dg_write_chunk "$MNT/f" 0 8192
# one registered from a subshell, one that is our child
P1=$(dg_start_mapper "map:$MNT/f:0:8192:shared-ro" "hold:$MNT/f" "cwd:$DG_TMP/bind")
dg_spawn_mapper "cwd:$MNT/sub"
P2=$DG_PID
# a zombie leader whose other thread still maps the file
dg_spawn_mapper "map:$MNT/f:0:8192:shared-ro" leader-exit:now
P4=$DG_PID
# a writer blocked on a frozen filesystem dies only once it is thawed
fsfreeze -f "$MNT" || dg_fail "fsfreeze -f $MNT"
dg_spawn_writer "$MNT/sub/blocked" nosync
P3=$DG_PID
for ((i = 0; i < 300; i++)); do
	[[ "$(dg_state "$P3")" == D ]] && break
	dg_sleep 0.01
done
{
	echo "TMP=$DG_TMP"
	echo "DEV=$DEV"
	echo "IMG=$IMG"
	echo "PIDS='$P1 $P2 $P3 $P4'"
	echo "STARTS='$(dg_starttime "$P1") $(dg_starttime "$P2") $(dg_starttime "$P3") $(dg_starttime "$P4")'"
	echo "WRITER=$(dg_state "$P3")"
} >"$STATE.tmp"
mv "$STATE.tmp" "$STATE"
case "$2" in
assert) dg_assert_eq "a failing assertion" 1 2 ;;
expect)
	dg_expect_eq "a failing check" 1 2
	echo "went on"
	dg_done
	;;
wait) while :; do sleep 0.1; done ;;
esac
EOF

# check_gone LABEL STATE: everything the child recorded is gone
check_gone()
{
	local label=$1 TMP DEV IMG PIDS STARTS WRITER pids starts i

	# shellcheck disable=SC1090
	. "$2"
	dg_assert_eq "$label: the writer was blocked on the frozen filesystem" D "$WRITER"
	read -r -a pids <<<"$PIDS"
	read -r -a starts <<<"$STARTS"
	for ((i = 0; i < ${#pids[@]}; i++)); do
		dg_pid_alive "${pids[i]}" "${starts[i]}" &&
			dg_fail "$label: pid ${pids[i]} still runs"
	done
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

# run_child LABEL STYLE MODE: run the child to its end; sets STATE
run_child()
{
	STATE=$DG_TMP/state.$3
	dg_run env LIB="$LIB" STATE="$STATE" bash "$CHILD" "$2" "$3"
	[[ -f "$STATE" ]] || dg_fail "$1: did not get as far as the failure: $DG_ERR"
}

# start_child STYLE: start the child in the background, to wait, and wait
# until it is set up; sets CPID and STATE
start_child()
{
	local i

	STATE=$DG_TMP/state.$1
	LIB="$LIB" STATE="$STATE" bash "$CHILD" "$1" wait >"$DG_TMP/$1.log" 2>&1 &
	CPID=$!
	dg_register_pid "$CPID"
	for ((i = 0; i < 400; i++)); do
		[[ -f "$STATE" ]] && return 0
		kill -0 "$CPID" 2>/dev/null ||
			dg_fail "waiting child died: $(cat "$DG_TMP/$1.log")"
		sleep 0.05
	done
	dg_fail "waiting child: not set up after 20 s"
}

# 1. a failing assertion
run_child "failing child" who assert
dg_assert_eq "failing child: exit status" 1 "$DG_RC"
dg_assert_match "failing child: says why" "FAIL: a failing assertion: expected '1', got '2'" "$DG_ERR"
check_gone "failing child" "$STATE"

# 2. a failing check, after which the test goes on (and fails at its end)
run_child "child that goes on" act expect
dg_assert_eq "child that goes on: exit status" 1 "$DG_RC"
dg_assert_match "child that goes on: says why" "FAIL: a failing check: expected '1', got '2'" "$DG_ERR"
dg_assert_match "child that goes on: went on, to the plan" $'went on\n1\\.\\.1$' "$DG_OUT"
check_gone "child that goes on" "$STATE"

# 3. SIGTERM while it waits
start_child who
kill -TERM "$CPID"
RC=0
wait "$CPID" || RC=$?
dg_assert_eq "terminated child: exit status" 143 "$RC"
check_gone "terminated child" "$STATE"

# 4. SIGKILL: no trap runs, the guard cleans up after it
start_child act
kill -KILL "$CPID"
wait "$CPID" 2>/dev/null || true
KTMP=$(sed -n 's/^TMP=//p' "$STATE")
for ((i = 0; i < 300; i++)); do
	[[ -e "$KTMP" ]] || break
	sleep 0.1
done
check_gone "killed child" "$STATE"

# 5. skips: 77 outside CI, a failure under CI
dg_run env -u CI bash -c ". '$LIB'; dg_skip 'no reason'"
dg_assert_eq "skip outside CI: exit status" 77 "$DG_RC"
dg_run env CI=true bash -c ". '$LIB'; dg_skip 'no reason'"
dg_assert_eq "skip under CI: exit status" 1 "$DG_RC"
dg_assert_match "skip under CI: says why" "cannot run under CI: no reason" "$DG_ERR"

# 6. the assertions
dg_run bash -c ". '$LIB'; dg_assert_eq x 1 1; dg_assert_eq y 1 01; echo not reached"
dg_assert_eq "dg_assert_eq fails on a difference: exit status" 1 "$DG_RC"
[[ "$DG_OUT" != *"not reached"* ]] || dg_fail "dg_assert_eq did not stop the test"
dg_ok "dg_assert_eq stops the test"
dg_run bash -c ". '$LIB'; dg_assert_match x '^a+\$' aab"
dg_assert_eq "dg_assert_match fails on a mismatch" 1 "$DG_RC"
DG_ERR=""

echo "1..$DG_NCHECK"
