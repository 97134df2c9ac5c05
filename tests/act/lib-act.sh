# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Helpers for the root integration tests of `daxguard remove` and
# `daxguard fail` (tests/act/).  Source it, then:
#
#	act_init             # root check, tools, private tmpdir, EXIT trap
#	act_mkfs xfs|ext4    # image + loop device + filesystem, sets DEV MNT IMG
#
# Everything a test creates lives below its own mktemp -d directory
# ($ACT_T): the images, the loop devices attached to them, every mount (in
# this mount namespace) and the processes it started.  The EXIT trap undoes
# all of it, and touches nothing else: processes are killed by PID (checked
# against their start time), loop devices are only those whose backing file
# is one of our images, mounts only those below $ACT_T.
#
# Environment: DAXGUARD (the daxguard binary), DG_MAPPER (the dg-mapper
# test helper).  Without root or loop devices a test exits 77 (skip), or 1
# when $CI is set.

set -uo pipefail

# the globals are for the tests that source this file
# shellcheck disable=SC2034
ACT_T=""
ACT_N=0
ACT_NFAILED=0
ACT_DUMPED=0
ACT_CLEANED=0
ACT_NIMG=0
ACT_PID=""
ACT_SLEEPFD=""
ACT_STATE=""
ACT_STARTTIME=""
ACT_RC=0
ACT_OUT=""
ACT_ERR=""
DEV=""
MNT=""
IMG=""
MAJMIN=""

# ------------------------------------------------------------------ #
# Reporting

act_log()
{
	echo "# $*"
}

act_ok()
{
	ACT_N=$((ACT_N + 1))
	echo "ok $ACT_N - $*"
}

# act_dump: the last daxguard output, once per run of it.
act_dump()
{
	[[ $ACT_DUMPED == 0 ]] || return 0
	ACT_DUMPED=1
	if [[ -n "$ACT_OUT" ]]; then
		echo "# last daxguard stdout (JSON: without owners and users):"
		{ jq 'del(.owners, .users)' <<<"$ACT_OUT" 2>/dev/null ||
			printf '%s\n' "$ACT_OUT"; } |
			head -n 300 | sed 's/^/#   /'
	fi
	if [[ -n "$ACT_ERR" ]]; then
		echo "# last daxguard stderr:"
		printf '%s\n' "$ACT_ERR" | head -n 50 | sed 's/^/#   /'
	fi
}

# act_fail MSG: report the failure, with the last daxguard output, and
# stop the test (exit 1).
act_fail()
{
	ACT_N=$((ACT_N + 1))
	echo "not ok $ACT_N - $*"
	{
		echo "FAIL: $*"
		act_dump
	} >&2
	exit 1
}

# act_notok MSG: report a failure and go on; act_done exits 1.
act_notok()
{
	ACT_N=$((ACT_N + 1))
	ACT_NFAILED=$((ACT_NFAILED + 1))
	echo "not ok $ACT_N - $*"
	{
		echo "FAIL: $*"
		act_dump
	} >&2
}

# act_done: the end of a test: the plan, and exit 1 if any check failed.
act_done()
{
	echo "1..$ACT_N"
	if ((ACT_NFAILED)); then
		echo "# $ACT_NFAILED of $ACT_N checks failed" >&2
		exit 1
	fi
	exit 0
}

# act_eq WHAT EXPECTED ACTUAL (goes on after a failure)
act_eq()
{
	if [[ "$2" == "$3" ]]; then
		act_ok "$1"
	else
		act_notok "$1: expected '$2', got '$3'"
	fi
}

# act_match WHAT ERE ACTUAL (goes on after a failure)
act_match()
{
	if [[ "$3" =~ $2 ]]; then
		act_ok "$1"
	else
		act_notok "$1: '$3' does not match /$2/"
	fi
}

act_skip()
{
	if [[ -n "${CI:-}" ]]; then
		act_fail "cannot run under CI: $*"
	fi
	echo "1..0 # SKIP $*"
	exit 77
}

# ------------------------------------------------------------------ #
# Setup and cleanup

act_init()
{
	local cmd

	[[ "$(id -u)" == 0 ]] || act_skip "needs root"
	[[ -e /dev/loop-control ]] || act_skip "no loop device support"
	[[ -n "${DAXGUARD:-}" && -x "${DAXGUARD:-}" ]] ||
		act_fail "DAXGUARD is not set to an executable (${DAXGUARD:-unset})"
	[[ -n "${DG_MAPPER:-}" && -x "${DG_MAPPER:-}" ]] ||
		act_fail "DG_MAPPER is not set to an executable (${DG_MAPPER:-unset})"
	for cmd in losetup mount umount findmnt fsfreeze jq xfs_io sha256sum \
		unshare pgrep truncate timeout blockdev dd; do
		command -v "$cmd" >/dev/null 2>&1 || act_skip "$cmd not installed"
	done
	exec {ACT_SLEEPFD}<> <(:) || act_fail "cannot open a pipe for act_sleep"
	ACT_T=$(mktemp -d /tmp/dg-act.XXXXXXXX) || act_fail "mktemp -d failed"
	: >"$ACT_T/.pids"
	trap 'act_exit_trap' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	# never stand on a filesystem we are about to remove
	cd "$ACT_T" || act_fail "cd $ACT_T"
	act_log "tmpdir $ACT_T"
	act_start_guard
}

# A test killed with SIGKILL runs no trap (meson's timeout sends SIGTERM to
# the process group, then SIGKILL), so a guard in a session of its own
# waits for the test to end and cleans up what its traps did not.  After a
# normal exit the directory is gone and the guard has nothing to do.
act_start_guard()
{
	local start

	start=$(act_starttime "$$") || return 0
	# shellcheck disable=SC2016 # expanded by the guard's shell
	setsid bash -c '. "$1" && act_guard "$2" "$3" "$4"' act-guard \
		"${BASH_SOURCE[0]}" "$$" "$start" "$ACT_T" </dev/null >/dev/null 2>&1 &
	disown "$!"
}

# act_guard PID STARTTIME DIR: the guard itself
act_guard()
{
	trap '' HUP INT PIPE TERM
	cd / || return
	ACT_T=$3
	exec {ACT_SLEEPFD}<> <(:)
	while act_alive "$1" "$2" && [[ -d "$ACT_T" ]]; do
		sleep 0.5
	done
	[[ -d "$ACT_T" ]] || exit 0
	act_cleanup >/dev/null 2>&1 || true
}

act_exit_trap()
{
	local rc=$?

	trap - EXIT INT TERM
	if ! act_cleanup && [[ $rc == 0 ]]; then
		echo "FAIL: cleanup left something behind" >&2
		rc=1
	fi
	exit "$rc"
}

# The helpers that are polled fork nothing: on a loaded machine with two
# CPUs a fork costs milliseconds, and remove-sigkill.sh polls a lot.

# act_stat PID: sets ACT_STATE (field 3 of /proc/PID/stat) and
# ACT_STARTTIME (field 22: with the PID, it names one process).
act_stat()
{
	local line f

	ACT_STATE=""
	ACT_STARTTIME=""
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
	# the command may hold spaces and parentheses: skip to the last ')'
	read -r -a f <<<"${line##*) }"
	ACT_STATE=${f[0]}
	ACT_STARTTIME=${f[19]}
}

# act_starttime PID: prints field 22 of /proc/PID/stat.
act_starttime()
{
	act_stat "$1" || return 1
	echo "$ACT_STARTTIME"
}

# act_state PID: the one-letter state of PID ("" when there is none).
act_state()
{
	act_stat "$1"
	echo "$ACT_STATE"
}

# act_alive PID STARTTIME: that very process runs (not a zombie).
act_alive()
{
	act_stat "$1" || return 1
	[[ "$ACT_STATE" != Z && "$ACT_STATE" != X && "$ACT_STARTTIME" == "$2" ]]
}

declare -A ACT_STARTS=()

# act_register PID: remember a process we started, for the cleanup (in a
# file, so that a subshell could register too).
act_register()
{
	act_stat "$1" || return 0
	ACT_STARTS[$1]=$ACT_STARTTIME
	echo "$1 $ACT_STARTTIME" >>"$ACT_T/.pids"
}

# act_start_of PID: the start time recorded for PID.
act_start_of()
{
	echo "${ACT_STARTS[$1]:-unknown}"
}

# act_pid_alive PID: a process we started still runs.
act_pid_alive()
{
	act_alive "$1" "${ACT_STARTS[$1]:-unknown}"
}

# act_sleep SECONDS: sleep without forking (read times out on a pipe
# nobody writes to).
act_sleep()
{
	read -r -t "$1" -u "$ACT_SLEEPFD" || true
}

# act_wait_gone PID SECONDS: wait until a process we started is gone.
act_wait_gone()
{
	local i

	for ((i = 0; i < $2 * 20; i++)); do
		act_pid_alive "$1" || return 0
		act_sleep 0.05
	done
	return 1
}

# Our mountpoints at or below DIR in this namespace, most recent first.
act_mounts_below()
{
	awk -v dir="$1" '
		{ mp = $5; gsub(/\\040/, " ", mp) }
		mp == dir || index(mp, dir "/") == 1 { m[n++] = mp }
		END { for (i = n - 1; i >= 0; i--) print m[i] }
	' /proc/self/mountinfo
}

# act_cleanup: undo everything.  Idempotent; never exits.
act_cleanup()
{
	local ok=0 pid start mp dev img i pids=() starts=()

	[[ $ACT_CLEANED == 1 || -z "$ACT_T" || ! -d "$ACT_T" ]] && return 0
	ACT_CLEANED=1
	set +e
	cd / || true
	# bash reports "Killed" for each child it reaps: keep that quiet
	exec 9>&2 2>/dev/null

	# 1. SIGKILL every process we started; a daxguard among them takes
	# its freeze guardian's socket with it, and the guardian thaws
	while read -r pid start; do
		[[ -n "$pid" ]] || continue
		if act_alive "$pid" "$start"; then
			kill -KILL "$pid" 2>/dev/null
			pids+=("$pid")
			starts+=("$start")
		fi
	done <"$ACT_T/.pids"
	# 2. a process blocked on a frozen filesystem cannot die: thaw ours
	while IFS= read -r mp; do
		fsfreeze -u "$mp" >/dev/null 2>&1
	done < <(act_mounts_below "$ACT_T")
	# 3. wait for them, and reap our own children
	for ((i = 0; i < ${#pids[@]}; i++)); do
		local j
		for ((j = 0; j < 200; j++)); do
			act_alive "${pids[i]}" "${starts[i]}" || break
			act_sleep 0.05
		done
		if act_alive "${pids[i]}" "${starts[i]}"; then
			echo "# cleanup: pid ${pids[i]} does not die" >&9
			ok=1
		fi
		wait "${pids[i]}" 2>/dev/null
	done

	# 4. every mount below our directory, newest first; lazily only as
	# the last resort
	for ((i = 0; i < 50; i++)); do
		mp=$(act_mounts_below "$ACT_T" | head -n 1)
		[[ -n "$mp" ]] || break
		if ! umount "$mp" 2>/dev/null; then
			sleep 0.2
			if ! umount "$mp" 2>/dev/null; then
				echo "# cleanup: $mp busy, unmounting lazily" >&9
				umount -l "$mp" 2>/dev/null || {
					echo "# cleanup: cannot unmount $mp" >&9
					ok=1
					break
				}
			fi
		fi
	done
	if [[ -n "$(act_mounts_below "$ACT_T")" ]]; then
		echo "# cleanup: mounts left below $ACT_T" >&9
		ok=1
	fi

	# 5. loop devices backed by our images, and only those
	while IFS= read -r img; do
		for dev in $(losetup -n -O NAME -j "$img" 2>/dev/null); do
			losetup -d "$dev" 2>/dev/null || {
				sleep 0.5
				losetup -d "$dev" 2>/dev/null
			} || {
				echo "# cleanup: cannot detach $dev ($img)" >&9
				ok=1
			}
		done
	done < <(find "$ACT_T" -xdev -maxdepth 1 -name '*.img' -type f 2>/dev/null)

	# 6. the directory, never crossing into a filesystem still mounted
	rm -rf --one-file-system "$ACT_T" 2>/dev/null
	if [[ -e "$ACT_T" ]]; then
		echo "# cleanup: cannot remove $ACT_T" >&9
		ok=1
	fi
	exec 2>&9 9>&-
	return $ok
}

# ------------------------------------------------------------------ #
# Loop devices and filesystems

# act_majmin DEV: "major:minor" of a block device, as in mountinfo.
act_majmin()
{
	local t

	t=$(stat -L -c '%t %T' "$1") || act_fail "stat $1"
	# shellcheck disable=SC2086
	set -- $t
	echo "$((16#$1)):$((16#$2))"
}

# act_attach IMG: attach our image to a free loop device; sets DEV MAJMIN.
act_attach()
{
	[[ "$1" == "$ACT_T"/* ]] || act_fail "act_attach: $1 is not ours"
	DEV=$(losetup --find --show "$1") || act_fail "losetup --find --show $1"
	MAJMIN=$(act_majmin "$DEV")
}

# act_mkfs TYPE [SIZE_MB]: a filesystem on a loop device, mounted below
# the tmpdir.  xfs gets rmapbt.  Sets IMG DEV MAJMIN MNT.
act_mkfs()
{
	local type=$1 size=${2:-}

	ACT_NIMG=$((ACT_NIMG + 1))
	IMG="$ACT_T/fs$ACT_NIMG.img"
	case "$type" in
	xfs)
		command -v mkfs.xfs >/dev/null || act_skip "mkfs.xfs not installed"
		size=${size:-320}
		;;
	ext4)
		command -v mkfs.ext4 >/dev/null || act_skip "mkfs.ext4 not installed"
		size=${size:-128}
		;;
	*) act_fail "unknown filesystem type '$type' (xfs or ext4)" ;;
	esac
	if ! grep -qw "$type" /proc/filesystems; then
		modprobe "$type" >/dev/null 2>&1
		grep -qw "$type" /proc/filesystems || act_skip "no $type in the kernel"
	fi
	truncate -s "${size}M" "$IMG" || act_fail "truncate $IMG"
	act_attach "$IMG"
	case "$type" in
	xfs) mkfs.xfs -q -f -K -m rmapbt=1 "$DEV" ;;
	ext4) mkfs.ext4 -q -F -b 4096 -E nodiscard "$DEV" ;;
	esac >"$ACT_T/mkfs.log" 2>&1 ||
		act_fail "mkfs.$type $DEV: $(cat "$ACT_T/mkfs.log")"
	MNT="$ACT_T/mnt$ACT_NIMG"
	mkdir -p "$MNT"
	mount -t "$type" "$DEV" "$MNT" || act_fail "mount $DEV $MNT"
	act_log "$type on $DEV ($MAJMIN, $IMG), mounted on $MNT"
}

# act_mountinfo_lines MAJMIN [FILE]: the mountinfo lines of that device.
act_mountinfo_lines()
{
	awk -v d="$1" '$3 == d' "${2:-/proc/self/mountinfo}"
}

# act_loop_backing DEV: the backing file of a loop device, or "".
act_loop_backing()
{
	local n=${1##*/}

	cat "/sys/block/$n/loop/backing_file" 2>/dev/null || true
}

# act_start_writer FILE [nosync]: start, in the background, a writer that
# creates FILE and then syncs the filesystem (unless nosync).  Sets ACT_PID.
act_start_writer()
{
	if [[ "${2:-}" == nosync ]]; then
		sh -c 'echo written >"$1"' sh "$1" </dev/null >/dev/null 2>&1 &
	else
		sh -c 'echo written >"$1" && sync -f "$1"' sh "$1" </dev/null \
			>/dev/null 2>&1 &
	fi
	ACT_PID=$!
	act_register "$ACT_PID"
}

# act_write_within FILE SECONDS: a write plus syncfs completes in time.
# Runs in the background and polls, since a writer blocked on a frozen
# filesystem ignores even SIGKILL (timeout(1) would hang with it).
act_write_within()
{
	local file=$1 secs=$2 pid now end

	now=${EPOCHREALTIME/./}
	end=$((now + secs * 1000000))
	act_start_writer "$file"
	pid=$ACT_PID
	while :; do
		if ! act_pid_alive "$pid"; then
			wait "$pid"
			return $?
		fi
		now=${EPOCHREALTIME/./}
		((now < end)) || return 1
		act_sleep 0.01
	done
}

# ------------------------------------------------------------------ #
# Processes

# act_start_ready READYFILE CMD...: start CMD in the background, wait up
# to 10 s for "ready" in READYFILE.  Sets ACT_PID (no subshell: the
# process stays our child, so `wait` reaps it).
act_start_ready()
{
	local ready=$1 pid i line

	shift
	rm -f "$ready"
	"$@" >"$ready.log" 2>&1 </dev/null &
	pid=$!
	act_register "$pid"
	for ((i = 0; i < 1000; i++)); do
		line=""
		[[ -f "$ready" ]] && { read -r line <"$ready"; } 2>/dev/null
		if [[ "$line" == ready ]]; then
			ACT_PID=$pid
			return 0
		fi
		if ! act_pid_alive "$pid"; then
			act_fail "$* exited before it was ready: $(cat "$ready.log")"
		fi
		act_sleep 0.01
	done
	act_fail "$* not ready after 10 s: $(cat "$ready.log")"
}

ACT_NREADY=0

# act_mapper OPS...: start dg-mapper with OPS; sets ACT_PID.
act_mapper()
{
	ACT_NREADY=$((ACT_NREADY + 1))
	act_start_ready "$ACT_T/ready.$ACT_NREADY" \
		"$DG_MAPPER" -r "$ACT_T/ready.$ACT_NREADY" "$@"
}

# act_mapper_ns OPS...: dg-mapper in a new, private mount namespace (a
# copy of ours, so our mounts are there too); sets ACT_PID.
act_mapper_ns()
{
	ACT_NREADY=$((ACT_NREADY + 1))
	act_start_ready "$ACT_T/ready.$ACT_NREADY" \
		unshare -m --propagation private \
		"$DG_MAPPER" -r "$ACT_T/ready.$ACT_NREADY" "$@"
}

# act_run CMD...: run CMD; sets ACT_RC, ACT_OUT, ACT_ERR.
act_run()
{
	local rc=0

	"$@" >"$ACT_T/.out" 2>"$ACT_T/.err" </dev/null || rc=$?
	# shellcheck disable=SC2034 # for the tests
	ACT_RC=$rc
	ACT_DUMPED=0
	ACT_OUT=$(cat "$ACT_T/.out")
	ACT_ERR=$(cat "$ACT_T/.err")
	# ACT_VERBOSE=1: show what daxguard did
	if [[ -n "${ACT_VERBOSE:-}" ]]; then
		echo "# \$ $* (exit $rc)"
		{ jq -c '.processes[]?, .steps[]?' <<<"$ACT_OUT" 2>/dev/null ||
			printf '%s\n' "$ACT_OUT"; } | sed 's/^/#   /'
		[[ -z "$ACT_ERR" ]] || printf '%s\n' "$ACT_ERR" | sed 's/^/#   stderr: /'
	fi
}

# act_json_ok WHAT: ACT_OUT is JSON.
act_json_ok()
{
	jq -e . >/dev/null 2>&1 <<<"$ACT_OUT" || act_fail "$1: output is not JSON"
}

# act_jq FILTER [JQ_ARGS...]: FILTER applied to ACT_OUT (compact).
act_jq()
{
	local filter=$1

	shift
	jq -c "$@" "$filter" <<<"$ACT_OUT" || act_fail "jq '$filter' failed"
}

# ------------------------------------------------------------------ #
# Files

# act_extents FILE: its extents from FIEMAP, one per line, in bytes:
#	LOGICAL PHYSICAL LENGTH
# PHYSICAL is from the start of the filesystem's device.  Holes are left
# out.  The file is synced first, so delayed allocations are resolved.
act_extents()
{
	xfs_io -r -c fsync -c "fiemap -v" "$1" | awk '
		$2 ~ /^\[[0-9]+\.\.[0-9]+\]:$/ && $3 ~ /^[0-9]+\.\.[0-9]+:?$/ {
			split(substr($2, 2), l, /[.\]]+/)
			split($3, p, /[.:]+/)
			printf "%.0f %.0f %.0f\n", l[1] * 512, p[1] * 512,
				(l[2] - l[1] + 1) * 512
		}'
}

# act_devoff FILE FILE_OFFSET: the device offset of that byte (FIEMAP).
act_devoff()
{
	local off

	off=$(act_extents "$1" | awk -v o="$2" '
		o >= $1 && o < $1 + $3 { printf "%.0f\n", $2 + (o - $1); exit }')
	[[ -n "$off" ]] || act_fail "$1: file offset $2 is not mapped (FIEMAP)"
	echo "$off"
}

# act_mapped_ranges FILE: the file ranges that have blocks, adjacent
# extents merged: "START END" (END exclusive) per line.
act_mapped_ranges()
{
	act_extents "$1" | sort -n -k1,1 | awk '
		{ s = $1; e = $1 + $3 }
		n && s == ce { ce = e; next }
		n { printf "%.0f %.0f\n", cs, ce }
		{ cs = s; ce = e; n = 1 }
		END { if (n) printf "%.0f %.0f\n", cs, ce }'
}

# act_page_sums FILE PAGES [direct]: sha256 of each 4 KiB page, one per
# line; read with O_DIRECT (past the page cache) when asked.
act_page_sums()
{
	local i flags=()

	[[ "${3:-}" == direct ]] && flags=(iflag=direct)
	for ((i = 0; i < $2; i++)); do
		dd if="$1" bs=4096 skip="$i" count=1 "${flags[@]}" status=none |
			sha256sum | cut -d' ' -f1
	done
}
