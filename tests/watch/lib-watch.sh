# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What the tests of daxguard watch share, on top of tests/lib.sh: a
# daemon started in the background under the test's directory (its state
# in $DG_TMP/state, its JSON lines in $DG_TMP/watch.out, its messages in
# $DG_TMP/watch.err), waits for what it says, and a clean stop.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

WATCH_PID=""
WATCH_OUT=""
WATCH_ERR=""

# watch_start ARGS...: daxguard watch ARGS --state-dir $DG_TMP/state -J,
# in the background; waits (10 s) until it says it is watching.
watch_start()
{
	local i

	WATCH_OUT=$DG_TMP/watch.out
	WATCH_ERR=$DG_TMP/watch.err
	: >"$WATCH_OUT"
	: >"$WATCH_ERR"
	"$DAXGUARD" watch --state-dir "$DG_TMP/state" -J "$@" \
		</dev/null >>"$WATCH_OUT" 2>>"$WATCH_ERR" &
	WATCH_PID=$!
	dg_register_pid "$WATCH_PID"
	for ((i = 0; i < 1000; i++)); do
		grep -q '^<6>watching' "$WATCH_ERR" 2>/dev/null && return 0
		if ! dg_pid_alive "$WATCH_PID"; then
			wait "$WATCH_PID" 2>/dev/null
			dg_fail "daxguard watch $* exited before it watched: $(cat "$WATCH_ERR")"
		fi
		dg_sleep 0.01
	done
	dg_fail "daxguard watch $* not watching after 10 s: $(cat "$WATCH_ERR")"
}

# watch_wait_lines N [SECONDS]: the JSON output has N lines (10 s)
watch_wait_lines()
{
	local i n

	for ((i = 0; i < ${2:-10} * 50; i++)); do
		n=$(wc -l <"$WATCH_OUT")
		((n >= $1)) && return 0
		dg_sleep 0.02
	done
	return 1
}

# watch_wait_err ERE [SECONDS]: a message matching ERE (10 s)
watch_wait_err()
{
	local i

	for ((i = 0; i < ${2:-10} * 50; i++)); do
		grep -Eq -- "$1" "$WATCH_ERR" && return 0
		dg_sleep 0.02
	done
	return 1
}

# watch_line N: the Nth JSON line, in DG_JSON (for dg_jq)
watch_line()
{
	DG_JSON=$(sed -n "${1}p" "$WATCH_OUT")
	DG_OUT=$DG_JSON
	DG_ERR=$(cat "$WATCH_ERR")
	DG_DUMPED=0
	jq -e . >/dev/null 2>&1 <<<"$DG_JSON" || dg_fail "JSON line $1 is not JSON: $DG_JSON"
}

# watch_stop: SIGTERM, and it must exit 0 within 10 s
watch_stop()
{
	local status=0

	[[ -n "$WATCH_PID" ]] || return 0
	kill -TERM "$WATCH_PID"
	dg_wait_gone "$WATCH_PID" 10 || dg_fail "daxguard watch (pid $WATCH_PID) ignores SIGTERM"
	wait "$WATCH_PID" || status=$?
	WATCH_PID=""
	dg_expect_eq "daxguard watch exits 0 on SIGTERM" 0 "$status"
}

# watch_sector FILE PAGE: the badblocks line ("SECTOR 8") of one page of FILE
watch_sector()
{
	local off

	off=$(dg_devoff "$1" $(($2 * 4096))) || exit 1
	echo "$((off / 512)) 8"
}
