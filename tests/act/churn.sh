#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# remove and fail while the filesystem is busy changing:
#  - a supervisor starts a mapper of F every 50 ms, each living a second
#    unless killed, the way a service manager restarts a service;
#  - a churner creates files, maps them, deletes them, in a loop;
#  - a bystander maps another page of F and is left alone by fail.
# fail --action kill kills the page's current mappers, never the
# bystander.  Two removes at once: one proceeds, the other says why.  The
# one that proceeds races the supervisor and may win; to check what it
# does when it cannot win, it runs under a shell whose cwd is on the
# filesystem: an ancestor of daxguard, which it never signals.  It must
# give up after its documented rounds (5), in bounded time, with a clear
# report of who still holds the device, and leave nothing frozen.  With
# the ancestor gone and the supervisor stopped, remove succeeds.
#
# Usage: churn.sh xfs-rmap|ext4

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

dg_act_init
dg_setup_fs "${1:-}"
F="$MNT/f"
head -c $((8 * 4096)) /dev/urandom >"$F" || dg_fail "write $F"
sync -f "$MNT"
HIT=$(dg_devoff "$F" 0)

# the supervisor: mappers of page 0 of F, a new one every 50 ms, each
# living a second unless killed, so that one is always starting: whatever
# remove kills, another holds the filesystem by the time it unmounts
supervise()
{
	while [[ ! -e "$DG_TMP/stop" ]]; do
		timeout -s KILL 1 "$DG_MAPPER" "map:$F:0:4096:shared-ro" </dev/null \
			>/dev/null 2>&1 &
		dg_register_pid "$!"
		dg_sleep 0.05
	done
	wait
}
# the churner: files made, mapped and deleted
churn()
{
	local i=0 p

	while [[ ! -e "$DG_TMP/stop" ]]; do
		i=$((i + 1))
		head -c 8192 /dev/zero >"$MNT/churn.$i" 2>/dev/null || continue
		"$DG_MAPPER" "map:$MNT/churn.$i:0:8192:shared-ro" "unlink:$MNT/churn.$i" \
			</dev/null >/dev/null 2>&1 &
		p=$!
		dg_register_pid "$p"
		dg_sleep 0.05
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
start_churn()
{
	rm -f "$DG_TMP/stop"
	supervise &
	SUP=$!
	dg_register_pid "$SUP"
	churn &
	CHURN=$!
	dg_register_pid "$CHURN"
	dg_sleep 0.5
}
stop_churn()
{
	touch "$DG_TMP/stop"
	dg_stop "$SUP"
	dg_stop "$CHURN"
	# what they started last, by PID (dg_register_pid wrote them down)
	while read -r pid start; do
		dg_pid_alive "$pid" "$start" && kill -KILL "$pid" 2>/dev/null
	done <"$DG_TMP/.pids"
	dg_sleep 0.2
}

dg_spawn_mapper "map:$F:4096:4096:shared-ro"
BYSTANDER=$DG_PID
# one mapper of the page that is surely there when fail scans, whatever
# the supervisor's mappers are doing on a loaded machine
dg_spawn_mapper "map:$F:0:4096:shared-ro"
P_HIT=$DG_PID
start_churn

# ------------------------------------------------------------------ #
# fail under churn
dg_run timeout 60 "$DAXGUARD" fail "$DEV" --offset "$HIT" --length 4096 --action kill -J
dg_json_ok "fail under churn"
dg_expect_eq "fail under churn: it killed the steady mapper of the page" '"exited"' \
	"$(dg_jq --argjson p "$P_HIT" '.processes[] | select(.pid == $p) | .state')"
dg_pid_alive "$BYSTANDER" || dg_notok "fail under churn killed the bystander"
dg_ok "fail under churn: the bystander, which maps another page, lives"
dg_write_within "$MNT/w1" 5 || dg_notok "after fail: $MNT is frozen"

# ------------------------------------------------------------------ #
# two removes at once, under churn: one proceeds and gives up, bounded
start=$EPOCHREALTIME
mkdir -p "$MNT/anc" || dg_fail "mkdir"
# a user that ignores SIGTERM holds the first remove in its grace period
# (3 s) for longer than the second waits for the lock (2 s)
dg_spawn_stubborn "$MNT"
# the outer shell stays (no exec of its last command: "; exit") with its
# cwd on the filesystem; the inner one leaves it for daxguard
# shellcheck disable=SC2016 # expanded by the inner shells
dg_spawn_bg r1 bash -c 'cd "$1" && bash -c "cd / && exec timeout 120 \"\$@\"" sh "${@:2}"; exit $?' \
	sh "$MNT/anc" "$DAXGUARD" remove "$DEV" --action term --grace 3 --no-release -J
R1=$DG_PID
dg_wait_locked "$DEV"
dg_spawn_bg r2 timeout 120 "$DAXGUARD" remove "$DEV" --action term --grace 3 --no-release -J
R2=$DG_PID
wait "$R2"
rc2=$?
wait "$R1"
rc1=$?
took=$(((${EPOCHREALTIME/./} - ${start/./}) / 1000))
dg_log "first remove: exit $rc1 after $took ms: $(tail -n 1 "$DG_TMP/r1.err")"
dg_log "second remove: exit $rc2: $(cat "$DG_TMP/r2.err")"
dg_expect_eq "second remove: refused (another daxguard)" "1 yes" \
	"$rc2 $(grep -q 'another daxguard' "$DG_TMP/r2.err" && echo yes || echo no)"
dg_expect_eq "first remove: gave up (exit 1)" 1 "$rc1"
dg_expect_eq "first remove: it says so after 5 rounds, naming processes" yes \
	"$(grep -q 'still mounted after 5 rounds: processes still use it' "$DG_TMP/r1.err" &&
		echo yes || echo no)"
# (the ancestor by its pid: the churner's shells, between fork and exec,
# are users named bash too, and rightly signalled)
dg_expect_eq "first remove: the report names who holds the device: its ancestor, by its cwd" \
	'[{"command":"bash","use":"cwd"}]' \
	"$(jq -c --argjson p "$R1" '[.users[] | select(.pid == $p) | {command, use}] | unique' \
		"$DG_TMP/r1.out")"
dg_expect_eq "first remove: the ancestor was protected, never signalled" true \
	"$(jq --argjson p "$R1" '[.processes[] | select(.pid == $p)] |
		length > 0 and all(.state == "protected" and (.signals | length) == 0)' \
		"$DG_TMP/r1.out")"
dg_expect_eq "first remove: each round froze and thawed" true \
	"$(jq '([.steps[] | select(.stage == "freeze")] | length) ==
		([.steps[] | select(.stage == "thaw")] | length)' "$DG_TMP/r1.out")"
((took < 90000)) || dg_notok "first remove took $took ms: its rounds are not bounded"
dg_write_within "$MNT/w2" 5 || dg_notok "after remove gave up: $MNT is frozen"
dg_ok "after remove gave up: $MNT takes writes"
dg_pid_alive "$BYSTANDER" && dg_notok "remove left the bystander, a user, running"
dg_expect_eq "first remove: $MNT is still mounted" "$MNT" "$(dg_mounts_below "$MNT")"

# ------------------------------------------------------------------ #
# the supervisor stops: remove succeeds
stop_churn
dg_run timeout 120 "$DAXGUARD" remove "$DEV" --action kill --no-release -J
dg_json_ok "remove after the churn"
dg_expect_eq "remove after the churn: exit status" 0 "$DG_RC"
dg_expect_eq "remove after the churn: unmounted" "" "$(dg_mounts_below "$MNT")"
dg_done
