#!/bin/bash
# shellcheck disable=SC2016 # jq filters: their own $vars
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Between the scan and the signal a process may let go, or move its
# mapping.  Every process is checked again, through its pidfd, before it
# is signalled (invariant 2):
#
# - one that let go (unmapped, its fds now /dev/null under the same
#   numbers, its cwd elsewhere) is not signalled: state "gone", and it
#   lives on;
# - one that moved its mapping to another address and put anonymous
#   memory where it was still uses the file: the check of the recorded
#   address fails, the scan of the whole process finds the new one, and
#   it is killed;
# - one that did nothing is killed.
#
# For `remove --action term` (the whole device, paused after its first
# collect; with --action kill each user is killed as the scan finds and
# checks it, with no gap between) and for
# `fail` on one page (paused after the thaw, just before the signals),
# with the re-check through PROCMAP_QUERY (always, on 6.11+) and the scan
# the way daxguard times faster here (the default), with the scan through
# it too (DAXGUARD_MAPS=query) and with neither (DAXGUARD_MAPS=text, as
# before 6.11).

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

PAGES=16
HITPAGE=5

dg_act_init

# run_paused WHAT STAGE DAXGUARD_ARGS...: run daxguard, which pauses after
# STAGE; then SIGUSR1 to each of $USR1_PIDS and wait until it has acted;
# then let daxguard go on.  Sets DG_RC, DG_OUT, DG_ERR.
run_paused()
{
	local what=$1 stage=$2 i l pid n rc=0

	shift 2
	dg_start_paused "$what" "$stage" "$@"
	for pid in $USR1_PIDS; do
		n=${READY_OF[$pid]}
		kill -USR1 "$pid" || dg_fail "kill -USR1 $pid"
		for ((i = 0; i < 1000; i++)); do
			l=""
			{ read -r l <"$n"; } 2>/dev/null
			[[ "$l" == usr1 ]] && break
			dg_sleep 0.01
		done
		[[ "$l" == usr1 ]] || dg_fail "pid $pid did not act on SIGUSR1: $(cat "$n.log")"
	done
	kill -USR1 "$DG_PAUSED" || dg_fail "kill -USR1 $DG_PAUSED (daxguard)"
	wait "$DG_PID" || rc=$?
	dg_ran "$rc" "$*"
}

declare -A READY_OF

# mapper OPS...: dg_spawn_mapper, and remember its ready file
mapper()
{
	dg_spawn_mapper "$@"
	READY_OF[$DG_PID]=$DG_READY
}

# lives WHAT PID, dies WHAT PID
lives()
{
	if dg_pid_alive "$2"; then
		dg_ok "$1 (pid $2) still runs"
	else
		dg_notok "$1 (pid $2) was killed"
	fi
}

dies()
{
	if dg_wait_gone "$2" 5; then
		dg_ok "$1 (pid $2) is gone"
	else
		dg_notok "$1 (pid $2) still runs"
	fi
}

# default: the scan reads the text or queries, whichever is faster here,
# the re-check queries; query: both query; text: neither does
for maps in default query text; do
	if [[ $maps == default ]]; then
		unset DAXGUARD_MAPS
	else
		export DAXGUARD_MAPS=$maps
	fi

	# -------------------------------------------------------------- #
	# remove: the whole device
	dg_setup_fs xfs-rmap
	mkdir "$MNT/dir" || dg_fail "mkdir $MNT/dir"
	for f in a b c; do
		head -c $((PAGES * 4096)) /dev/urandom >"$MNT/$f" || dg_fail "write $MNT/$f"
	done
	mapper "map:$MNT/a:0:$((PAGES * 4096)):shared-rw"
	P_STAY=$DG_PID
	mapper "map:$MNT/b:0:$((PAGES * 4096)):shared-ro" "hold:$MNT/c" "cwd:$MNT/dir" \
		usr1:release
	P_GO=$DG_PID
	mapper "hold:$MNT/c" usr1:release
	P_GOFD=$DG_PID
	mapper "map:$MNT/b:0x2000:0x4000:shared-rw" usr1:move
	P_MOVE=$DG_PID
	dg_log "DAXGUARD_MAPS=$maps: stays $P_STAY, lets go $P_GO and $P_GOFD, moves $P_MOVE"
	USR1_PIDS="$P_GO $P_GOFD $P_MOVE"
	what="remove, DAXGUARD_MAPS=$maps"
	# term: --action kill signals each user as the scan finds it (its
	# check is that very scan, pinned), so there is no gap to let go in
	run_paused "$what" collect "$DAXGUARD" remove --action term --grace 5 \
		--pause-after collect "$DEV" -J
	dg_json_ok "$what"
	dg_expect_eq "$what: exit status" 0 "$DG_RC"
	dg_expect_eq "$what: JSON complete" true "$(dg_jq .complete)"
	dg_expect_process "$what: untouched" "$P_STAY" exited '["TERM"]'
	dg_expect_process "$what: let go of a mapping, an fd and its cwd" "$P_GO" gone '[]' \
		"let go before it was signalled"
	dg_expect_process "$what: let go of an fd" "$P_GOFD" gone '[]' "let go before it was signalled"
	dg_expect_process "$what: moved its mapping" "$P_MOVE" exited '["TERM"]'
	dies "$what: untouched" "$P_STAY"
	dies "$what: moved its mapping" "$P_MOVE"
	lives "$what: let go of a mapping, an fd and its cwd" "$P_GO"
	lives "$what: let go of an fd" "$P_GOFD"
	[[ -z "$(losetup -n -O NAME -j "$IMG")" ]] || dg_fail "$what: $IMG still attached"
	dg_ok "$what: the loop device is detached"

	# -------------------------------------------------------------- #
	# fail: one page of a file
	dg_setup_fs xfs-rmap
	F="$MNT/f"
	head -c $((PAGES * 4096)) /dev/urandom >"$F" || dg_fail "write $F"
	sync -f "$MNT" || dg_fail "syncfs $MNT"
	HIT=$(dg_devoff "$F" $((HITPAGE * 4096))) ||
		dg_fail "no device offset for $F page $HITPAGE"
	mapper "map:$F:$((HITPAGE * 4096)):4096:shared-rw"
	P_STAY=$DG_PID
	mapper "map:$F:0:$((PAGES * 4096)):shared-ro" usr1:release
	P_GO=$DG_PID
	mapper "map:$F:$(((HITPAGE - 1) * 4096)):$((3 * 4096)):shared-rw" usr1:move
	P_MOVE=$DG_PID
	dg_log "DAXGUARD_MAPS=$maps: page $HITPAGE of $F at $HIT;" \
		"stays $P_STAY, lets go $P_GO, moves $P_MOVE"
	USR1_PIDS="$P_GO $P_MOVE"
	what="fail, DAXGUARD_MAPS=$maps"
	run_paused "$what" thaw "$DAXGUARD" fail --action kill --pause-after thaw \
		--offset "$HIT" --length 4096 "$DEV" -J
	dg_json_ok "$what"
	dg_expect_eq "$what: exit status" 0 "$DG_RC"
	dg_expect_eq "$what: JSON complete" true "$(dg_jq .complete)"
	dg_expect_process "$what: untouched" "$P_STAY" exited '["KILL"]'
	dg_expect_process "$what: let go of its mapping" "$P_GO" gone '[]' "let go before it was signalled"
	dg_expect_process "$what: moved its mapping" "$P_MOVE" exited '["KILL"]'
	dies "$what: untouched" "$P_STAY"
	dies "$what: moved its mapping" "$P_MOVE"
	lives "$what: let go of its mapping" "$P_GO"
done

dg_done
