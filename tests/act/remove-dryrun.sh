#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Invariant 3: daxguard remove --dry-run changes nothing.  The mounts of
# the device (ours, a bind mount, and the copies in two other mount
# namespaces), the processes that use it, the loop device and the data
# are the same before and after; nothing is frozen; the JSON says
# "dry_run": true and reports every process without signalling it.  The
# same for fail --dry-run --action kill --punch.

# shellcheck source=tests/act/lib-act.sh
. "$(dirname "$0")/lib-act.sh"

act_init
act_mkfs xfs

mkdir -p "$MNT/dir" "$MNT/sub" || act_fail "mkdir in $MNT"
for f in mapped held ns-held sub/bind-held; do
	head -c $((128 * 1024)) /dev/urandom >"$MNT/$f" || act_fail "write $MNT/$f"
done
BIND="$ACT_T/bind"
mkdir -p "$BIND"
mount --bind "$MNT/sub" "$BIND" || act_fail "mount --bind $MNT/sub $BIND"

USERS=()
act_mapper "map:$MNT/mapped:0:0x20000:shared-rw"
USERS+=("$ACT_PID")
act_mapper "hold:$MNT/held"
USERS+=("$ACT_PID")
act_mapper "cwd:$MNT/dir"
USERS+=("$ACT_PID")
act_mapper "write:$MNT/dirty:$((2 * 1024 * 1024))"
USERS+=("$ACT_PID")
act_mapper_ns "hold:$MNT/ns-held"
P_NS=$ACT_PID
USERS+=("$P_NS")
act_mapper "cwd:$BIND"
USERS+=("$ACT_PID")
act_mapper_ns "cwd:/"
P_IDLE=$ACT_PID
ALL=("${USERS[@]}" "$P_IDLE")
act_log "users: ${USERS[*]}; bystander in another namespace: $P_IDLE"

# snapshot: what a removal would change
snapshot()
{
	local pid

	echo "== our namespace's mounts of the device"
	act_mountinfo_lines "$MAJMIN"
	for pid in "${ALL[@]}"; do
		echo "== pid $pid: $(act_state "$pid") started $(act_starttime "$pid")," \
			"cwd $(readlink "/proc/$pid/cwd")"
		act_pid_alive "$pid" || echo "   GONE"
		echo "   its namespace's mounts of the device:"
		act_mountinfo_lines "$MAJMIN" "/proc/$pid/mountinfo"
	done
	echo "== loop device"
	losetup -n -O NAME,BACK-FILE,OFFSET,SIZELIMIT,RO,AUTOCLEAR "$DEV"
	echo "== data"
	(cd "$MNT" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

snapshot >"$ACT_T/before" || act_fail "snapshot"
n=$(act_mountinfo_lines "$MAJMIN" "$ACT_T/before" | wc -l)
act_log "snapshot: $(wc -l <"$ACT_T/before") lines, $n mountinfo lines"
[[ $n == $((2 + 2 * ${#ALL[@]})) ]] ||
	act_fail "expected 2 mounts of $MAJMIN in each of the $((1 + ${#ALL[@]})) views, got $n lines: $(cat "$ACT_T/before")"
act_ok "before: $n mountinfo lines for $MAJMIN across our namespace and our processes'"

want_users=$(printf '%s\n' "${USERS[@]}" | jq -sc 'map(tonumber) | sort')
NRUN=0

# dry_run WHAT DAXGUARD_ARGS...: run, then compare with the snapshot
dry_run()
{
	local what=$1 t0 t1

	shift
	NRUN=$((NRUN + 1))
	t0=$(date +%s%N)
	act_run timeout 120 "$DAXGUARD" "$@"
	t1=$(date +%s%N)
	act_eq "$what: exit status" 0 "$ACT_RC"
	# a dry run waits for nobody: well within a grace period of 60 s
	if [[ " $* " == *" --grace 60 "* ]]; then
		(((t1 - t0) / 1000000 < 30000)) ||
			act_fail "$what took $(((t1 - t0) / 1000000)) ms: a dry run must not wait out the grace period"
		act_ok "$what took $(((t1 - t0) / 1000000)) ms: it waited for nobody"
	fi

	act_write_within "$MNT/probe.$NRUN" 1 ||
		act_fail "$what: the filesystem is frozen afterwards"
	rm -f "$MNT/probe.$NRUN"
	snapshot >"$ACT_T/after" || act_fail "snapshot"
	if ! diff -u "$ACT_T/before" "$ACT_T/after" >"$ACT_T/diff"; then
		act_fail "$what changed something: $(cat "$ACT_T/diff")"
	fi
	act_ok "$what: mounts, processes, loop device and data are unchanged"
}

dry_run "remove --dry-run --grace 60 -J" remove --dry-run --grace 60 "$DEV" -J
act_json_ok "remove --dry-run --grace 60 -J"
act_eq "JSON dry_run" true "$(act_jq .dry_run)"
act_eq "JSON action" '"term"' "$(act_jq .action)"
act_eq "JSON: the processes are exactly the users" "$want_users" \
	"$(act_jq '[.processes[].pid] | sort')"
act_eq "JSON: every process state is reported, none was signalled" \
	'[{"state":"reported","signals":[],"signalled_ms":0,"exited_ms":0}]' \
	"$(act_jq '[.processes[] | {state, signals, signalled_ms, exited_ms}] | unique')"
act_eq "JSON: no freeze, signal, thaw or wait step" '[]' \
	"$(act_jq '[.steps[] | select(.stage | IN("freeze", "signal", "thaw", "wait", "invalidate", "punch", "shutdown"))]')"
act_eq "JSON: every unmount and release step only says what it would do" '[]' \
	"$(act_jq '[.steps[] | select(.stage | IN("unmount", "release")) | select(.message | startswith("would ") | not)]')"
act_eq "JSON: an unmount step for each mount in each namespace (2 here, 2 in each of 2 others)" 6 \
	"$(act_jq '[.steps[] | select(.stage == "unmount")] | length')"

dry_run "remove -n --action kill -J" remove -n --action kill "$DEV" -J
act_json_ok "remove -n --action kill -J"
act_eq "JSON dry_run (--action kill)" true "$(act_jq .dry_run)"
act_eq "JSON: every process reported, none signalled (--action kill)" \
	'[{"state":"reported","signals":[]}]' \
	"$(act_jq '[.processes[] | {state, signals}] | unique')"

dry_run "remove -n (table)" remove -n "$DEV"
[[ "$ACT_OUT" == *"dry run: nothing was changed"* ]] ||
	act_fail "remove -n (table): no 'dry run: nothing was changed' line"
act_ok "remove -n (table) says it changed nothing"

# the same for fail: --dry-run with --action kill and --punch on a page
# that a process maps neither signals, freezes, drops nor punches
HIT=$(act_devoff "$MNT/mapped" 0)
ranges_before=$(act_mapped_ranges "$MNT/mapped")
snapshot >"$ACT_T/before" || act_fail "snapshot"
dry_run "fail --dry-run --action kill --punch -J" fail "$DEV" --offset "$HIT" \
	--length 4096 --dry-run --action kill --punch -J
act_json_ok "fail --dry-run --action kill --punch -J"
act_eq "fail: JSON dry_run" true "$(act_jq .dry_run)"
act_eq "fail: JSON: the process is the mapper of the page, reported, not signalled" \
	"[{\"pid\":${USERS[0]},\"state\":\"reported\",\"signals\":[]}]" \
	"$(act_jq '[.processes[] | {pid, state, signals}]')"
act_eq "fail: JSON: no freeze, signal, invalidate or punch step" '[]' \
	"$(act_jq '[.steps[] | select(.stage | IN("freeze", "signal", "thaw", "wait", "invalidate", "punch", "shutdown"))]')"
act_eq "fail --dry-run --punch: $MNT/mapped has no hole" "$ranges_before" \
	"$(act_mapped_ranges "$MNT/mapped")"

act_done
