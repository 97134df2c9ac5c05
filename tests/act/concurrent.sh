#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# daxguard next to a frozen filesystem and next to another daxguard:
#  A. a fail holds a freeze (paused after rmap); a remove of the same
#     device must refuse at once and say why: it must not signal the
#     fail's freeze guardian (nobody would thaw) or the fail itself.
#  B. an operator froze the filesystem (fsfreeze -f); a remove must refuse
#     before it signals anybody and must never unmount a frozen
#     filesystem (its superblock would live on, detached and frozen).
#  C. two removes of one device at once: exactly one proceeds, the other
#     says why, and nothing is left frozen.
# The removes run with --pause-after signal: should one get that far when
# it must not, the test stops it there, before any unmount, and thaws.
#
# Usage: concurrent.sh xfs-rmap|ext4

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

dg_act_init
dg_setup_fs "${1:-}"
head -c 65536 /dev/urandom >"$MNT/f" || dg_fail "write"
sync -f "$MNT"

# run_remove WHAT ARGS...: a remove that must refuse before it signals:
# sets DG_RC/DG_OUT/DG_ERR; fails the check if it paused after signalling
run_remove()
{
	local what=$1 pid i paused=""

	shift
	: >"$DG_TMP/.err"
	timeout 60 "$DAXGUARD" remove "$DEV" "$@" --pause-after signal </dev/null \
		>"$DG_TMP/.out" 2>"$DG_TMP/.err" &
	pid=$!
	dg_register_pid "$pid"
	for ((i = 0; i < 1000; i++)); do
		dg_pid_alive "$pid" || break
		if grep -q "^daxguard: paused after signal (pid \([0-9]*\))" "$DG_TMP/.err"; then
			paused=$(sed -n 's/^daxguard: paused after signal (pid \([0-9]*\)).*/\1/p' \
				"$DG_TMP/.err")
			break
		fi
		dg_sleep 0.01
	done
	if [[ -n "$paused" ]]; then
		dg_notok "$what: remove got past the signal stage when it had to refuse"
		kill -KILL "$paused" "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		fsfreeze -u "$MNT" 2>/dev/null
		DG_RC=-1
		return 1
	fi
	wait "$pid"
	dg_ran $? "remove $*"
}

# ------------------------------------------------------------------ #
# A. a fail holds a freeze
dg_spawn_mapper "map:$MNT/f:0:4096:shared-ro"
PA=$DG_PID
dg_start_paused "fail (A)" rmap timeout 60 "$DAXGUARD" fail "$DEV" --offset 0 \
	--length 4096 --pause-after rmap
FAIL_PID=$DG_PID
FAIL_DG=$DG_PAUSED
GUARD=$(pgrep -P "$FAIL_DG" -x daxguard-guard || true)
[[ -n "$GUARD" ]] || dg_fail "A: the paused fail has no freeze guardian"
dg_log "A: fail $FAIL_DG holds a freeze, guardian $GUARD"
run_remove "A" --action kill
dg_expect_ne "A: remove while a fail holds a freeze: exit status" 0 "$DG_RC"
dg_expect_eq "A: it says another daxguard acts on the device" yes \
	"$([[ "$DG_ERR" == *"another daxguard"*"$FAIL_DG"* ]] && echo yes || echo "no: $DG_ERR")"
kill -0 "$GUARD" 2>/dev/null || dg_notok "A: the fail's freeze guardian $GUARD was killed"
dg_pid_alive "$PA" || dg_notok "A: the mapper $PA was killed"
kill -USR1 "$FAIL_DG"
wait "$FAIL_PID"
dg_expect_eq "A: the fail went on and ended well" 0 "$?"
dg_write_within "$MNT/a" 5 || dg_notok "A: $MNT is still frozen"
dg_ok "A: $MNT takes writes"
dg_stop "$PA"

# ------------------------------------------------------------------ #
# B. frozen by an operator
dg_spawn_mapper "map:$MNT/f:0:4096:shared-ro"
PB=$DG_PID
fsfreeze -f "$MNT" || dg_fail "fsfreeze -f $MNT"
run_remove "B" --action kill
dg_expect_ne "B: remove of a frozen filesystem: exit status" 0 "$DG_RC"
dg_expect_eq "B: it says the filesystem is frozen" yes \
	"$([[ "$DG_ERR" == *frozen* ]] && echo yes || echo "no: $DG_ERR")"
dg_pid_alive "$PB" || dg_notok "B: the mapper $PB was signalled"
dg_expect_eq "B: $MNT is still mounted" "$MNT" "$(dg_mounts_below "$MNT")"
fsfreeze -u "$MNT" || dg_notok "B: fsfreeze -u: $MNT was not frozen any more"
dg_stop "$PB"

# ------------------------------------------------------------------ #
# C. two removes at once: a user who ignores SIGTERM keeps the first one
# in its grace period while the second starts
dg_spawn_stubborn "$MNT"
dg_spawn_bg c1 timeout 60 "$DAXGUARD" remove "$DEV" --action term --grace 3 --no-release -J
C1=$DG_PID
dg_wait_locked "$DEV"
dg_spawn_bg c2 timeout 60 "$DAXGUARD" remove "$DEV" --action term --grace 3 --no-release -J
C2=$DG_PID
wait "$C1"
rc1=$?
wait "$C2"
rc2=$?
dg_log "first remove: exit $rc1: $(cat "$DG_TMP/c1.err")"
dg_log "second remove: exit $rc2: $(cat "$DG_TMP/c2.err")"
dg_expect_eq "C: the first remove proceeded" 0 "$rc1"
dg_expect_ne "C: the second remove refused" 0 "$rc2"
dg_expect_eq "C: the second says another daxguard acts on the device" yes \
	"$(grep -q "another daxguard" "$DG_TMP/c2.err" && echo yes || echo no)"
dg_expect_eq "C: the second signalled nobody" 0 \
	"$(jq -s '[.[].processes[]? | select(.signals | length > 0)] | length' "$DG_TMP/c2.out")"
dg_expect_eq "C: $MNT is unmounted" "" "$(dg_mounts_below "$MNT")"
dg_done
