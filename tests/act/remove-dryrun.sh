#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Invariant 3: daxguard remove --dry-run changes nothing.  The mounts of
# the device (ours, a bind mount, and the copies in two other mount
# namespaces), the processes that use it, the loop device and the data
# are the same before and after; nothing is frozen; the JSON says
# "dry_run": true and reports every process without signalling it.  The
# same for fail --dry-run --action kill --punch.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

dg_act_init
dg_setup_fs xfs-rmap

mkdir -p "$MNT/dir" "$MNT/sub" || dg_fail "mkdir in $MNT"
for f in mapped held ns-held sub/bind-held; do
	head -c $((128 * 1024)) /dev/urandom >"$MNT/$f" || dg_fail "write $MNT/$f"
done
BIND="$DG_TMP/bind"
mkdir -p "$BIND"
mount --bind "$MNT/sub" "$BIND" || dg_fail "mount --bind $MNT/sub $BIND"

USERS=()
dg_spawn_mapper "map:$MNT/mapped:0:0x20000:shared-rw"
USERS+=("$DG_PID")
dg_spawn_mapper "hold:$MNT/held"
USERS+=("$DG_PID")
dg_spawn_mapper "cwd:$MNT/dir"
USERS+=("$DG_PID")
dg_spawn_mapper "write:$MNT/dirty:$((2 * 1024 * 1024))"
USERS+=("$DG_PID")
dg_spawn_mapper_ns "hold:$MNT/ns-held"
P_NS=$DG_PID
USERS+=("$P_NS")
dg_spawn_mapper "cwd:$BIND"
USERS+=("$DG_PID")
dg_spawn_mapper_ns "cwd:/"
P_IDLE=$DG_PID
ALL=("${USERS[@]}" "$P_IDLE")
dg_log "users: ${USERS[*]}; bystander in another namespace: $P_IDLE"

# snapshot: what a removal would change
snapshot()
{
	local pid

	echo "== our namespace's mounts of the device"
	dg_mountinfo_lines "$MAJMIN"
	for pid in "${ALL[@]}"; do
		echo "== pid $pid: $(dg_state "$pid") started $(dg_starttime "$pid")," \
			"cwd $(readlink "/proc/$pid/cwd")"
		dg_pid_alive "$pid" || echo "   GONE"
		echo "   its namespace's mounts of the device:"
		dg_mountinfo_lines "$MAJMIN" "/proc/$pid/mountinfo"
	done
	echo "== loop device"
	losetup -n -O NAME,BACK-FILE,OFFSET,SIZELIMIT,RO,AUTOCLEAR "$DEV"
	echo "== data"
	(cd "$MNT" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

snapshot >"$DG_TMP/before" || dg_fail "snapshot"
n=$(dg_mountinfo_lines "$MAJMIN" "$DG_TMP/before" | wc -l)
dg_log "snapshot: $(wc -l <"$DG_TMP/before") lines, $n mountinfo lines"
[[ $n == $((2 + 2 * ${#ALL[@]})) ]] ||
	dg_fail "expected 2 mounts of $MAJMIN in each of the $((1 + ${#ALL[@]})) views, got $n lines: $(cat "$DG_TMP/before")"
dg_ok "before: $n mountinfo lines for $MAJMIN across our namespace and our processes'"

want_users=$(printf '%s\n' "${USERS[@]}" | jq -sc 'map(tonumber) | sort')
NRUN=0

# dry_run WHAT DAXGUARD_ARGS...: run, then compare with the snapshot
dry_run()
{
	local what=$1 t0 t1

	shift
	NRUN=$((NRUN + 1))
	t0=$(date +%s%N)
	dg_run timeout 120 "$DAXGUARD" "$@"
	t1=$(date +%s%N)
	dg_expect_eq "$what: exit status" 0 "$DG_RC"
	# a dry run waits for nobody: well within a grace period of 60 s
	if [[ " $* " == *" --grace 60 "* ]]; then
		(((t1 - t0) / 1000000 < 30000)) ||
			dg_fail "$what took $(((t1 - t0) / 1000000)) ms: a dry run must not wait out the grace period"
		dg_ok "$what took $(((t1 - t0) / 1000000)) ms: it waited for nobody"
	fi

	dg_write_within "$MNT/probe.$NRUN" 1 ||
		dg_fail "$what: the filesystem is frozen afterwards"
	rm -f "$MNT/probe.$NRUN"
	snapshot >"$DG_TMP/after" || dg_fail "snapshot"
	if ! diff -u "$DG_TMP/before" "$DG_TMP/after" >"$DG_TMP/diff"; then
		dg_fail "$what changed something: $(cat "$DG_TMP/diff")"
	fi
	dg_ok "$what: mounts, processes, loop device and data are unchanged"
}

dry_run "remove --dry-run --grace 60 -J" remove --dry-run --grace 60 "$DEV" -J
dg_json_ok "remove --dry-run --grace 60 -J"
dg_expect_eq "JSON dry_run" true "$(dg_jq .dry_run)"
dg_expect_eq "JSON action" '"term"' "$(dg_jq .action)"
dg_expect_eq "JSON: the processes are exactly the users" "$want_users" \
	"$(dg_jq '[.processes[].pid] | sort')"
dg_expect_eq "JSON: every process state is reported, none was signalled" \
	'[{"state":"reported","signals":[],"signalled_ms":0,"exited_ms":0}]' \
	"$(dg_jq '[.processes[] | {state, signals, signalled_ms, exited_ms}] | unique')"
dg_expect_eq "JSON: no freeze, signal, thaw or wait step" '[]' \
	"$(dg_jq '[.steps[] | select(.stage | IN("freeze", "signal", "thaw", "wait", "invalidate", "punch", "shutdown"))]')"
dg_expect_eq "JSON: every unmount and release step only says what it would do" '[]' \
	"$(dg_jq '[.steps[] | select(.stage | IN("unmount", "release")) | select(.message | startswith("would ") | not)]')"
dg_expect_eq "JSON: an unmount step for each mount in each namespace (2 here, 2 in each of 2 others)" 6 \
	"$(dg_jq '[.steps[] | select(.stage == "unmount")] | length')"

dry_run "remove -n --action kill -J" remove -n --action kill "$DEV" -J
dg_json_ok "remove -n --action kill -J"
dg_expect_eq "JSON dry_run (--action kill)" true "$(dg_jq .dry_run)"
dg_expect_eq "JSON: every process reported, none signalled (--action kill)" \
	'[{"state":"reported","signals":[]}]' \
	"$(dg_jq '[.processes[] | {state, signals}] | unique')"

dry_run "remove -n (table)" remove -n "$DEV"
[[ "$DG_OUT" == *"dry run: nothing was changed"* ]] ||
	dg_fail "remove -n (table): no 'dry run: nothing was changed' line"
dg_ok "remove -n (table) says it changed nothing"

# the same for fail: --dry-run with --action kill and --punch on a page
# that a process maps neither signals, freezes, drops nor punches
HIT=$(dg_devoff "$MNT/mapped" 0) || dg_fail "no device offset for $MNT/mapped"
ranges_before=$(dg_mapped_ranges "$MNT/mapped")
snapshot >"$DG_TMP/before" || dg_fail "snapshot"
dry_run "fail --dry-run --action kill --punch -J" fail "$DEV" --offset "$HIT" \
	--length 4096 --dry-run --action kill --punch -J
dg_json_ok "fail --dry-run --action kill --punch -J"
dg_expect_eq "fail: JSON dry_run" true "$(dg_jq .dry_run)"
dg_expect_eq "fail: JSON: the process is the mapper of the page, reported, not signalled" \
	"[{\"pid\":${USERS[0]},\"state\":\"reported\",\"signals\":[]}]" \
	"$(dg_jq '[.processes[] | {pid, state, signals}]')"
dg_expect_eq "fail: JSON: no freeze, signal, invalidate or punch step" '[]' \
	"$(dg_jq '[.steps[] | select(.stage | IN("freeze", "signal", "thaw", "wait", "invalidate", "punch", "shutdown"))]')"
dg_expect_eq "fail --dry-run --punch: $MNT/mapped has no hole" "$ranges_before" \
	"$(dg_mapped_ranges "$MNT/mapped")"

dg_done
