#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Uses that only a thread other than the thread-group leader has: /proc/PID
# shows the leader's view alone.
#  - PL: the leader called pthread_exit() while another thread lives on;
#    the process still maps a page of F, but /proc/PID/maps reads empty.
#  - PC: a thread unshared its fs context (CLONE_FS) and has its cwd on the
#    filesystem; the leader's cwd is elsewhere.
#  - PF: a thread unshared its fd table (CLONE_FILES) and holds G open; the
#    leader's table does not have it.
# who finds all three (the page's mapper for a range, every one for the
# whole device), fail --action kill kills PL, and remove stops the other
# two and unmounts.
#
# Usage: threads.sh xfs-rmap|ext4

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

PAGE=3

dg_act_init
dg_setup_fs "${1:-}"

F="$MNT/mapped"
G="$MNT/held"
mkdir "$MNT/dir" || dg_fail "mkdir $MNT/dir"
for f in "$F" "$G"; do
	head -c $((8 * 4096)) /dev/urandom >"$f" || dg_fail "write $f"
done
sync -f "$MNT" || dg_fail "syncfs $MNT"
HIT=$(dg_devoff "$F" $((PAGE * 4096))) || dg_fail "no device offset for $F page $PAGE"

dg_spawn_mapper "map:$F:$((PAGE * 4096)):4096:shared-rw" leader-exit:now
PL=$DG_PID
dg_spawn_mapper "thread-cwd:$MNT/dir"
PC=$DG_PID
dg_spawn_mapper "thread-hold:$G"
PF=$DG_PID
dg_log "PL $PL maps page $PAGE after its leader exited, PC $PC has a thread's cwd in" \
	"$MNT/dir, PF $PF has a thread holding $G"

# the premise: the leader's own view has none of these
leader_maps=$(grep -c " $(dg_inode "$F") " "/proc/$PL/maps" || true)
dg_expect_eq "premise: /proc/$PL/maps (the exited leader's) shows no mapping of $F" 0 \
	"$leader_maps"
dg_expect_eq "premise: /proc/$PC/cwd (the leader's) is not on $MNT" no \
	"$([[ "$(readlink "/proc/$PC/cwd")" == "$MNT"* ]] && echo yes || echo no)"
dg_expect_eq "premise: /proc/$PF/fd (the leader's) does not hold $G" no \
	"$(ls -l "/proc/$PF/fd" | grep -qF "$G" && echo yes || echo no)"

dg_who "$DEV" --offset "$HIT" --length 4096
dg_expect_eq "who, the page: its mapper is PL" "[$PL]" "$(dg_jq '[.users[].pid] | unique')"
dg_expect_eq "who, the page: PL maps it" '["map"]' \
	"$(dg_jq '[.users[] | select(.pid == '"$PL"') | .use] | unique')"

dg_who "$DEV"
dg_expect_eq "who, the whole device: the users are PL, PC and PF" \
	"$(dg_sorted_pids "$PL" "$PC" "$PF")" "$(dg_jq '[.users[].pid] | unique')"
dg_expect_eq "who, the whole device: PC's use is its thread's cwd" \
	"[{\"use\":\"cwd\",\"path\":\"$MNT/dir\"}]" \
	"$(dg_jq '[.users[] | select(.pid == '"$PC"') | {use, path}]')"
dg_expect_eq "who, the whole device: PF's use is its thread's fd" \
	"[{\"use\":\"fd\",\"path\":\"$G\"}]" \
	"$(dg_jq '[.users[] | select(.pid == '"$PF"') | {use, path}]')"

dg_run timeout 60 "$DAXGUARD" fail "$DEV" --offset "$HIT" --length 4096 --action kill -J
dg_json_ok "fail --action kill"
dg_expect_eq "fail --action kill: exit status" 0 "$DG_RC"
dg_expect_process "fail --action kill" "$PL" exited '["KILL"]'
dg_wait_gone "$PL" 5 || dg_notok "PL $PL, which maps the failed page, still runs"
dg_pid_alive "$PC" || dg_notok "PC $PC, which maps nothing, was killed by fail"
dg_pid_alive "$PF" || dg_notok "PF $PF, which maps nothing, was killed by fail"

dg_run timeout 120 "$DAXGUARD" remove "$DEV" --action kill --no-release -J
dg_json_ok "remove --action kill --no-release"
dg_expect_eq "remove: exit status" 0 "$DG_RC"
dg_expect_eq "remove: it acted on PC and PF" "$(dg_sorted_pids "$PC" "$PF")" \
	"$(dg_jq '[.processes[].pid] | sort')"
dg_expect_eq "remove: $MNT is no longer mounted" "" "$(dg_mounts_below "$MNT")"
# --action kill: each user is killed as the scan finds it, so its signal
# comes before the end of the collect step
dg_expect_eq "remove: both were killed during the scan that found them" true \
	"$(dg_jq '([.steps[] | select(.stage == "collect")][0] | .start_ms + .duration_ms) as $stop
		| [.processes[] | .signalled_ms <= $stop] | length == 2 and all')"
for pid in "$PC" "$PF"; do
	dg_wait_gone "$pid" 5 || dg_notok "pid $pid still runs after remove"
done
dg_done
