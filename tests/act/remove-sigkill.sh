#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Invariant 1: a filesystem is never left frozen, not even when daxguard
# is SIGKILLed while it holds a freeze.  For every stage that ends with the
# filesystem frozen (remove: freeze; fail: freeze and rmap), 20 times in a
# row: pause daxguard there (--pause-after), check that the filesystem is
# frozen (a writer blocks), SIGKILL daxguard, and check that a write plus
# syncfs completes within 1 s, that the blocked writer finishes, and that
# the freeze guardian is gone.  The flow never got to unmount or release,
# so the filesystem stays mounted and the loop device attached throughout.
#
# Usage: remove-sigkill.sh xfs-rmap|ext4

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

ROUNDS=${ACT_SIGKILL_ROUNDS:-20}

dg_act_init
dg_setup_fs "${1:-}"

head -c $((64 * 1024)) /dev/urandom >"$MNT/data" || dg_fail "write $MNT/data"
HIT=$(dg_devoff "$MNT/data" 0) || dg_fail "no device offset for $MNT/data"
dg_log "$MNT/data starts at device offset $HIT"

dg_write_within "$MNT/probe" 1 || dg_fail "$MNT is not writable to begin with"
dg_ok "$MNT is writable before the first round"

GUARDIANS=()

# guardian_of PID: sets GUARD to the daxguard-guard child of PID, or ""
# (no fork: /proc/PID/task/PID/children, else pgrep).
guardian_of()
{
	local kids k comm

	GUARD=""
	if [[ -r "/proc/$1/task/$1/children" ]]; then
		kids=""
		{ read -r kids <"/proc/$1/task/$1/children"; } 2>/dev/null
		for k in $kids; do
			comm=""
			{ read -r comm <"/proc/$k/comm"; } 2>/dev/null
			[[ "$comm" == daxguard-guard ]] && GUARD="$GUARD${GUARD:+ }$k"
		done
	else
		GUARD=$(pgrep -P "$1" -x daxguard-guard | tr '\n' ' ')
		GUARD=${GUARD% }
	fi
}

# still_there WHAT: the loop device is attached and the filesystem mounted
still_there()
{
	local backing="" id parent mm rest mounted=0

	{ read -r backing <"/sys/block/${DEV##*/}/loop/backing_file"; } 2>/dev/null
	[[ "$backing" == "$IMG" ]] ||
		dg_fail "$1: $DEV is no longer attached to $IMG (backing file '$backing')"
	while read -r id parent mm rest; do
		[[ "$mm" == "$MAJMIN" ]] && mounted=1
	done </proc/self/mountinfo
	: "$id" "$parent" "$rest"
	((mounted)) || dg_fail "$1: $DEV is no longer mounted"
}

# one_round N STAGE DAXGUARD_ARGS...
one_round()
{
	local n=$1 stage=$2 what dg gstart guard writer i l status blocked

	shift 2
	what="$stage round $n"
	dg_start_paused "$what" "$stage" "$DAXGUARD" "$@"
	dg=$DG_PID
	[[ "$DG_PAUSED" == "$dg" ]] ||
		dg_fail "$what: pid $DG_PAUSED paused, not daxguard $dg"

	# the guardian names itself just after the fork: give it a moment
	for ((i = 0; i < 200; i++)); do
		guardian_of "$dg"
		[[ -n "$GUARD" ]] && break
		dg_sleep 0.01
	done
	guard=$GUARD
	[[ "$guard" =~ ^[0-9]+$ ]] ||
		dg_fail "$what: expected one daxguard-guard child of $dg, found '$guard' (children: $(ps -o pid=,comm= --ppid "$dg" | tr '\n' ' '))"
	dg_stat "$guard" || dg_fail "$what: guardian $guard vanished"
	gstart=$DG_STARTTIME
	GUARDIANS+=("$guard:$gstart")

	# frozen: creating a file blocks (uninterruptibly, before the file
	# exists), where it would take a millisecond on a thawed filesystem
	# (on a loaded machine the writer may take a while to get there)
	dg_spawn_writer "$MNT/while-frozen" nosync
	writer=$DG_PID
	blocked=0
	for ((i = 0; i < 300; i++)); do
		dg_sleep 0.01
		dg_pid_alive "$writer" ||
			dg_fail "$what: a file was created while daxguard was paused after $stage: the filesystem is not frozen"
		[[ ! -e "$MNT/while-frozen" ]] ||
			dg_fail "$what: $MNT/while-frozen was created while daxguard was paused after $stage: the filesystem is not frozen"
		dg_stat "$writer"
		if [[ "$DG_STATE" == D ]]; then
			blocked=$((blocked + 1))
			# blocked for 0.1 s on end
			((blocked >= 10)) && break
		else
			blocked=0
		fi
	done
	((blocked >= 10)) ||
		dg_fail "$what: the writer did not block within 3 s (state '$DG_STATE'), yet created nothing"

	kill -KILL "$dg"
	{ wait "$dg"; } 2>/dev/null

	dg_write_within "$MNT/probe" 1 ||
		dg_fail "$what: the filesystem is still frozen 1 s after daxguard was SIGKILLed"
	dg_wait_gone "$writer" 1 ||
		dg_fail "$what: the writer blocked by the freeze did not finish within 1 s of the thaw"
	status=0
	wait "$writer" || status=$?
	l=""
	{ read -r l <"$MNT/while-frozen"; } 2>/dev/null
	[[ $status == 0 && "$l" == written ]] ||
		dg_fail "$what: the blocked writer failed (exit $status, wrote '$l')"
	for ((i = 0; i < 200; i++)); do
		dg_pid_alive "$guard" "$gstart" || break
		dg_sleep 0.01
	done
	dg_pid_alive "$guard" "$gstart" &&
		dg_fail "$what: guardian $guard still runs 2 s after the thaw"

	still_there "$what"
	rm -f "$MNT/while-frozen" "$MNT/probe"
}

# rounds STAGE DAXGUARD_ARGS...
rounds()
{
	local stage=$1 n t0 t1

	shift
	t0=$(date +%s%N)
	for ((n = 1; n <= ROUNDS; n++)); do
		one_round "$n" "$stage" "$@"
	done
	t1=$(date +%s%N)
	dg_ok "daxguard $1 --pause-after $stage, SIGKILLed while frozen, $ROUNDS times: thawed within 1 s each time ($(((t1 - t0) / 1000000)) ms in all)"
}

rounds freeze remove --pause-after freeze "$DEV"
rounds freeze fail --pause-after freeze --offset "$HIT" --length 4096 "$DEV"
rounds rmap fail --pause-after rmap --offset "$HIT" --length 4096 "$DEV"

# no guardian of ours is left, and no daxguard-guard process at all holds
# anything on our filesystem (others' tests may run guardians of their own)
for g in "${GUARDIANS[@]}"; do
	dg_pid_alive "${g%%:*}" "${g#*:}" && dg_fail "guardian ${g%%:*} still runs"
done
dg_ok "none of the ${#GUARDIANS[@]} guardians is left"
others=0
for pid in $(pgrep -x daxguard-guard); do
	for fd in "/proc/$pid/fd/"* "/proc/$pid/cwd"; do
		tgt=$(readlink "$fd" 2>/dev/null) || continue
		[[ "$tgt" == "$MNT" || "$tgt" == "$MNT"/* ]] &&
			dg_fail "daxguard-guard $pid holds $tgt"
	done
	others=$((others + 1))
done
dg_ok "no daxguard-guard process holds anything on $MNT ($others unrelated ones running)"

dg_write_within "$MNT/probe" 1 || dg_fail "$MNT is not writable at the end"
dg_ok "$MNT is writable at the end"

dg_done
