# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Shared library for the root integration tests: who (tests/*.sh), remove
# and fail (tests/act/) and the reverse-map agreement (tests/rmap/).
# Source it from a test:
#
#	. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"
#	dg_require_root
#	dg_tmpdir
#	dg_setup_fs xfs-rmap
#
# or, in tests/act, where every check goes on after a failure:
#
#	. "$(dirname "$0")/../lib.sh"
#	dg_act_init
#	dg_setup_fs xfs-rmap
#
# Rules every test follows:
#  - everything it creates (images, loop devices, mounts, processes) lives
#    under its own mktemp -d directory, and dg_cleanup removes it all on
#    exit, on failure, on HUP/INT/PIPE/TERM, and (through a guard process,
#    see dg_start_guard) after a SIGKILL;
#  - it only ever touches loop devices whose backing file is in that
#    directory, mounts below that directory, and processes it started
#    (killed by PID, checked against their start time);
#  - a test that cannot run exits 77 (skip), except under CI ($CI set),
#    where it fails instead.
#
# Environment: DAXGUARD (the daxguard binary), DG_MAPPER (tests/helpers
# dg-mapper), TESTS_DIR (this directory), DG_VERBOSE=1 (show what each
# dg_run ran and what it printed).

set -euo pipefail

DG_TMP=""
DG_CLEANED=0
DG_NFS=0
DG_NCHECK=0
DG_NFAILED=0
DG_DUMPED=0
DG_SLEEPFD=""
DG_JSON=""
DG_OUT=""
DG_ERR=""
DG_RC=0
DG_PID=""
DG_READY=""
DG_PAUSED=""
DG_STATE=""
DG_STARTTIME=""
DEV=""
MNT=""
IMG=""
MAJMIN=""
DG_FSTYPE=""
DG_EXPECT_RMAP=""
declare -A DG_STARTS=()

# ------------------------------------------------------------------ #
# Reporting

dg_log()
{
	echo "# $*"
}

dg_ok()
{
	DG_NCHECK=$((DG_NCHECK + 1))
	echo "ok $DG_NCHECK - $*"
}

# dg_dump: what the last run printed (dg_run's, or the JSON a test put in
# DG_JSON itself), once per run.
dg_dump()
{
	local out=${DG_OUT:-$DG_JSON}

	[[ $DG_DUMPED == 0 ]] || return 0
	DG_DUMPED=1
	if [[ -n "$out" ]]; then
		echo "# last daxguard output:"
		printf '%s\n' "$out" | sed 's/^/#   /'
	fi
	if [[ -n "$DG_ERR" ]]; then
		echo "# last daxguard stderr:"
		printf '%s\n' "$DG_ERR" | sed 's/^/#   /'
	fi
}

# dg_notok MSG: report a failure (with the last daxguard output) and go
# on; dg_done exits 1.
dg_notok()
{
	DG_NCHECK=$((DG_NCHECK + 1))
	DG_NFAILED=$((DG_NFAILED + 1))
	echo "not ok $DG_NCHECK - $*"
	{
		echo "FAIL: $*"
		dg_dump
	} >&2
}

# dg_fail MSG: report a failure and stop the test (exit 1).
dg_fail()
{
	dg_notok "$@"
	exit 1
}

# dg_done: the end of a test: the plan, and exit 1 if any check failed.
dg_done()
{
	echo "1..$DG_NCHECK"
	if ((DG_NFAILED)); then
		echo "# $DG_NFAILED of $DG_NCHECK checks failed" >&2
		exit 1
	fi
	exit 0
}

# dg_expect_eq WHAT EXPECTED ACTUAL: a check the test goes on after; on a
# failure it returns 1 (and dg_done exits 1).
dg_expect_eq()
{
	if [[ "$2" != "$3" ]]; then
		dg_notok "$1: expected '$2', got '$3'"
		return 1
	fi
	dg_ok "$1"
}

# dg_assert_eq WHAT EXPECTED ACTUAL: the same check; a failure stops the
# test.
dg_assert_eq()
{
	dg_expect_eq "$@" || exit 1
}

# dg_expect_ne WHAT UNEXPECTED ACTUAL: a check the test goes on after.
dg_expect_ne()
{
	if [[ "$2" == "$3" ]]; then
		dg_notok "$1: got '$3', which it must not be"
		return 1
	fi
	dg_ok "$1"
}

# dg_assert_ne WHAT UNEXPECTED ACTUAL
dg_assert_ne()
{
	if [[ "$2" == "$3" ]]; then
		dg_fail "$1: got '$3', which it must not be"
	fi
	dg_ok "$1"
}

# dg_assert_match WHAT ERE ACTUAL
dg_assert_match()
{
	if ! [[ "$3" =~ $2 ]]; then
		dg_fail "$1: '$3' does not match /$2/"
	fi
	dg_ok "$1"
}

# dg_skip REASON: exit 77, or fail when running under CI.
dg_skip()
{
	if [[ -n "${CI:-}" ]]; then
		dg_fail "cannot run under CI: $*"
	fi
	echo "1..0 # SKIP $*"
	exit 77
}

# ------------------------------------------------------------------ #
# Requirements

dg_require_cmd()
{
	local cmd

	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 || dg_skip "$cmd not installed"
	done
}

dg_require_root()
{
	[[ "$(id -u)" == 0 ]] || dg_skip "needs root"
	[[ -e /dev/loop-control ]] || dg_skip "no loop device support"
	[[ -n "${DAXGUARD:-}" && -x "${DAXGUARD:-}" ]] ||
		dg_fail "DAXGUARD is not set to an executable (${DAXGUARD:-unset})"
	dg_require_cmd losetup mount umount truncate jq xfs_io
}

dg_require_mapper()
{
	[[ -n "${DG_MAPPER:-}" && -x "${DG_MAPPER:-}" ]] ||
		dg_fail "DG_MAPPER is not set to an executable (${DG_MAPPER:-unset})"
}

# dg_require_fs TYPE: the kernel and the userspace tools know TYPE.
dg_require_fs()
{
	case "$1" in
	xfs) dg_require_cmd mkfs.xfs xfs_db ;;
	ext4) dg_require_cmd mkfs.ext4 dumpe2fs ;;
	*) dg_fail "unknown filesystem type $1" ;;
	esac
	if ! grep -qw "$1" /proc/filesystems; then
		modprobe "$1" >/dev/null 2>&1 || true
		grep -qw "$1" /proc/filesystems ||
			dg_skip "kernel has no $1 support"
	fi
}

# dg_act_init: the start of a test of remove or fail (tests/act): what
# they need, and the tmpdir, which is also the working directory, so that
# the test never stands on a filesystem it is about to remove.  These
# tests look at every exit status themselves and go on after a failed
# dg_expect_eq: they run without errexit.
dg_act_init()
{
	set +e
	dg_require_root
	dg_require_mapper
	dg_require_cmd findmnt fsfreeze sha256sum unshare pgrep timeout blockdev dd
	dg_tmpdir
	cd "$DG_TMP" || dg_fail "cd $DG_TMP"
}

# ------------------------------------------------------------------ #
# Temporary directory and cleanup

# dg_tmpdir: create the test's private directory and arm the cleanup.
dg_tmpdir()
{
	exec {DG_SLEEPFD}<> <(:) || dg_fail "cannot open a pipe for dg_sleep"
	DG_TMP=$(mktemp -d /tmp/dg-test.XXXXXXXX) || dg_fail "mktemp -d failed"
	: >"$DG_TMP/.pids"
	trap 'dg_exit_trap' EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 141' PIPE
	trap 'exit 143' TERM
	dg_log "tmpdir $DG_TMP"
	dg_start_guard
}

# A test killed with SIGKILL runs no trap: meson, on a timeout, sends
# SIGTERM to the test's process group and SIGKILL half a second later.  So
# a guard in a session of its own waits for the test to end, and cleans up
# whatever its traps did not.  After a normal exit it finds the directory
# gone and has nothing to do.
dg_start_guard()
{
	dg_stat "$$" || return 0
	# shellcheck disable=SC2016 # expanded by the guard's shell
	setsid bash -c '. "$1" && dg_guard "$2" "$3" "$4"' dg-guard \
		"${BASH_SOURCE[0]}" "$$" "$DG_STARTTIME" "$DG_TMP" \
		</dev/null >/dev/null 2>&1 &
	disown "$!"
}

# dg_guard PID STARTTIME DIR: the guard itself
dg_guard()
{
	trap '' HUP INT PIPE TERM
	cd / || return
	DG_TMP=$3
	exec {DG_SLEEPFD}<> <(:)
	while dg_pid_alive "$1" "$2" && [[ -d "$DG_TMP" ]]; do
		sleep 0.5
	done
	[[ -d "$DG_TMP" ]] || exit 0
	dg_cleanup >/dev/null 2>&1 || true
}

dg_exit_trap()
{
	local rc=$?

	trap - EXIT HUP INT PIPE TERM
	if ! dg_cleanup && [[ $rc == 0 ]]; then
		echo "FAIL: cleanup left something behind" >&2
		rc=1
	fi
	exit "$rc"
}

# dg_mounts_below DIR [-0]: the mountpoints at or below DIR in our
# namespace, most recent first, one a line (-0: each ended by a NUL, for a
# name with a newline in it).
dg_mounts_below()
{
	# mountinfo escapes space, tab, newline and backslash as \ooo; a test
	# may mount on any name, and its cleanup must still find it
	awk -v dir="$1" -v nul="${2:+1}" '
		function unescape(s,	out, i, c) {
			out = ""
			for (i = 1; i <= length(s); i++) {
				c = substr(s, i, 1)
				if (c == "\\" && substr(s, i + 1, 3) ~ /^[0-7][0-7][0-7]$/) {
					c = sprintf("%c", (substr(s, i + 1, 1) * 64 + \
						substr(s, i + 2, 1) * 8 + substr(s, i + 3, 1)))
					i += 3
				}
				out = out c
			}
			return out
		}
		{ mp = unescape($5) }
		mp == dir || index(mp, dir "/") == 1 { m[n++] = mp }
		END { for (i = n - 1; i >= 0; i--) printf "%s%c", m[i], nul ? 0 : 10 }
	' /proc/self/mountinfo
}

# dg_cleanup: undo everything the test set up.  Idempotent; never exits.
dg_cleanup()
{
	local ok=0 pid start mp dev img i pids=() starts=()
	local errexit=${-//[^e]/}

	[[ $DG_CLEANED == 1 || -z "$DG_TMP" || ! -d "$DG_TMP" ]] && return 0
	DG_CLEANED=1
	set +e
	cd / || true
	# bash reports "Killed" for each child it reaps: keep that quiet
	exec 9>&2 2>/dev/null

	# 1. SIGKILL every process we started (the PID file survives
	# subshells); a daxguard among them takes its freeze guardian's socket
	# with it, and the guardian thaws
	while read -r pid start; do
		[[ -n "$pid" ]] || continue
		if dg_pid_alive "$pid" "$start"; then
			kill -KILL "$pid" 2>/dev/null
			pids+=("$pid")
			starts+=("$start")
		fi
	done <"$DG_TMP/.pids"
	# 2. a process blocked on a frozen filesystem cannot die: thaw ours
	while IFS= read -r -d '' mp; do
		fsfreeze -u "$mp" >/dev/null 2>&1
	done < <(dg_mounts_below "$DG_TMP" -0)
	# 3. wait (bounded) for them, and reap our own children
	for ((i = 0; i < ${#pids[@]}; i++)); do
		if ! dg_wait_gone "${pids[i]}" 10 "${starts[i]}"; then
			echo "# cleanup: pid ${pids[i]} does not die" >&9
			ok=1
		fi
		wait "${pids[i]}" 2>/dev/null
	done

	# 4. every mount below our directory, newest first; lazily only as
	# the last resort
	for ((i = 0; i < 50; i++)); do
		mp=""
		IFS= read -r -d '' mp < <(dg_mounts_below "$DG_TMP" -0)
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
	if [[ -n "$(dg_mounts_below "$DG_TMP")" ]]; then
		echo "# cleanup: mounts left below $DG_TMP" >&9
		ok=1
	fi

	# 5. loop devices backed by our images, and only those
	while IFS= read -r -d '' img; do
		for dev in $(losetup -n -O NAME -j "$img" 2>/dev/null); do
			losetup -d "$dev" 2>/dev/null || {
				sleep 0.5
				losetup -d "$dev" 2>/dev/null
			} || {
				echo "# cleanup: cannot detach $dev ($img)" >&9
				ok=1
			}
		done
	done < <(find "$DG_TMP" -xdev -name '*.img' -type f -print0 2>/dev/null)

	# 6. the directory, never crossing into a filesystem still mounted
	rm -rf --one-file-system "$DG_TMP" 2>/dev/null
	if [[ -e "$DG_TMP" ]]; then
		echo "# cleanup: cannot remove $DG_TMP" >&9
		ok=1
	fi
	exec 2>&9 9>&-
	[[ -z "$errexit" ]] || set -e
	return $ok
}

# ------------------------------------------------------------------ #
# Processes
#
# The helpers that are polled fork nothing: on a loaded machine with two
# CPUs a fork costs milliseconds, and remove-sigkill.sh polls a lot.

# dg_stat PID: sets DG_STATE (field 3 of /proc/PID/stat) and DG_STARTTIME
# (field 22: when it started; together with the PID it names one process,
# whatever PID reuse happens later).  Returns 1 when there is no PID.
dg_stat()
{
	local line f

	DG_STATE=""
	DG_STARTTIME=""
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
	# the command may hold spaces and parentheses: skip to the last ')'
	read -r -a f <<<"${line##*) }"
	DG_STATE=${f[0]}
	DG_STARTTIME=${f[19]}
}

# dg_starttime PID: prints field 22 of /proc/PID/stat.
dg_starttime()
{
	dg_stat "$1" || return 1
	echo "$DG_STARTTIME"
}

# dg_state PID: the one-letter state of PID ("" when there is none).
dg_state()
{
	dg_stat "$1" || true
	echo "$DG_STATE"
}

# dg_pid_alive PID [STARTTIME]: that very process runs (not a zombie, or
# a zombie leader whose other threads run).
# STARTTIME defaults to the one dg_register_pid recorded in this shell.
dg_pid_alive()
{
	local tasks

	dg_stat "$1" || return 1
	[[ "$DG_STARTTIME" == "${2:-${DG_STARTS[$1]:-unknown}}" ]] || return 1
	[[ "$DG_STATE" != Z && "$DG_STATE" != X ]] && return 0
	# a leader that called pthread_exit() is a zombie while its other
	# threads live on (dg-mapper leader-exit:now)
	tasks=("/proc/$1/task/"*)
	((${#tasks[@]} > 1))
}

# dg_register_pid PID: remember a process we started, for the cleanup (in
# a file too, so that a subshell can register).
dg_register_pid()
{
	dg_stat "$1" || return 0
	DG_STARTS[$1]=$DG_STARTTIME
	echo "$1 $DG_STARTTIME" >>"$DG_TMP/.pids"
}

# dg_sleep SECONDS: sleep without forking (read times out on a pipe
# nobody writes to).
dg_sleep()
{
	read -r -t "$1" -u "$DG_SLEEPFD" || true
}

# dg_wait_gone PID SECONDS [STARTTIME]: wait until a process we started is
# gone.
dg_wait_gone()
{
	local i

	for ((i = 0; i < $2 * 20; i++)); do
		dg_pid_alive "$1" "${3:-}" || return 0
		dg_sleep 0.05
	done
	return 1
}

# dg_stop PID: kill a process this test started, now, and reap it quietly
# if it is our child.
dg_stop()
{
	local start

	dg_stat "$1" || return 0
	start=$DG_STARTTIME
	kill -KILL "$1" 2>/dev/null || true
	dg_wait_gone "$1" 10 "$start" || dg_fail "pid $1 does not die"
	wait "$1" 2>/dev/null || true
}

# Starting processes: dg_spawn_* set DG_PID and leave the process our
# child, so that `wait` gets its exit status; dg_start_* print the PID,
# for $(...) (where the process is the subshell's).

# dg_spawn_ready READYFILE CMD...: start CMD in the background (output in
# READYFILE.log), wait up to 10 s for CMD to write "ready" to READYFILE,
# and set DG_PID.
dg_spawn_ready()
{
	local ready=$1 pid i line

	shift
	rm -f "$ready"
	"$@" >"$ready.log" 2>&1 </dev/null &
	pid=$!
	dg_register_pid "$pid"
	for ((i = 0; i < 1000; i++)); do
		line=""
		[[ -f "$ready" ]] && { read -r line <"$ready"; } 2>/dev/null
		if [[ "$line" == ready ]]; then
			DG_PID=$pid
			return 0
		fi
		if ! dg_pid_alive "$pid"; then
			dg_fail "$* exited before it was ready: $(cat "$ready.log")"
		fi
		dg_sleep 0.01
	done
	dg_fail "$* not ready after 10 s: $(cat "$ready.log")"
}

# dg_start_ready READYFILE CMD...: dg_spawn_ready, and print the PID.
dg_start_ready()
{
	dg_spawn_ready "$@"
	echo "$DG_PID"
}

# dg_spawn_mapper OPS...: start dg-mapper with OPS and wait until it is
# ready; sets DG_PID, and DG_READY to its ready file.
dg_spawn_mapper()
{
	dg_require_mapper
	DG_READY=$(mktemp "$DG_TMP/ready.XXXXXX")
	dg_spawn_ready "$DG_READY" "$DG_MAPPER" -r "$DG_READY" "$@"
}

# dg_spawn_mapper_ns OPS...: dg-mapper in a new, private mount namespace (a
# copy of ours, so our mounts are there too).
dg_spawn_mapper_ns()
{
	dg_require_mapper
	DG_READY=$(mktemp "$DG_TMP/ready.XXXXXX")
	dg_spawn_ready "$DG_READY" unshare -m --propagation private \
		"$DG_MAPPER" -r "$DG_READY" "$@"
}

# dg_start_mapper OPS...: dg_spawn_mapper, and print the PID.
dg_start_mapper()
{
	dg_spawn_mapper "$@"
	echo "$DG_PID"
}

# dg_spawn_bg NAME CMD...: CMD in the background, its output in
# $DG_TMP/NAME.out and NAME.err.  Sets DG_PID.
dg_spawn_bg()
{
	local name=$1

	shift
	"$@" </dev/null >"$DG_TMP/$name.out" 2>"$DG_TMP/$name.err" &
	DG_PID=$!
	dg_register_pid "$DG_PID"
}

# dg_wait_locked DEV [SECONDS]: wait until a daxguard holds DEV's device
# lock (lib/lock.c), so that a second one started now finds it taken.
dg_wait_locked()
{
	local lock i

	lock="${DAXGUARD_LOCK_DIR:-/run/daxguard}/$(dg_majmin "$1")"
	for ((i = 0; i < ${2:-10} * 20; i++)); do
		[[ -e "$lock" ]] && ! flock -n "$lock" true 2>/dev/null && return 0
		dg_sleep 0.05
	done
	dg_fail "no daxguard took the lock of $1 ($lock) within ${2:-10} s"
}

# dg_spawn_stubborn DIR: a user with its cwd in DIR that ignores SIGTERM,
# so a --action term run spends its whole grace period on it.  Sets
# DG_PID once it is in DIR.
dg_spawn_stubborn()
{
	local ready

	ready=$(mktemp "$DG_TMP/ready.XXXXXX")
	rm -f "$ready"
	# shellcheck disable=SC2016 # expanded by the inner shell
	dg_spawn_ready "$ready" bash -c 'trap "" TERM; cd "$1" && echo ready >"$2" && exec sleep 600' \
		sh "$1" "$ready"
}

# dg_spawn_writer FILE [nosync]: start, in the background, a writer that
# creates FILE and then syncs the filesystem (unless nosync).  Sets DG_PID.
dg_spawn_writer()
{
	if [[ "${2:-}" == nosync ]]; then
		sh -c 'echo written >"$1"' sh "$1" </dev/null >/dev/null 2>&1 &
	else
		sh -c 'echo written >"$1" && sync -f "$1"' sh "$1" </dev/null \
			>/dev/null 2>&1 &
	fi
	DG_PID=$!
	dg_register_pid "$DG_PID"
}

# dg_write_within FILE SECONDS: a write plus syncfs completes in time.
# Runs in the background and polls, since a writer blocked on a frozen
# filesystem ignores even SIGKILL (timeout(1) would hang with it).
dg_write_within()
{
	local file=$1 secs=$2 pid now end

	now=${EPOCHREALTIME/./}
	end=$((now + secs * 1000000))
	dg_spawn_writer "$file"
	pid=$DG_PID
	while :; do
		if ! dg_pid_alive "$pid"; then
			wait "$pid"
			return $?
		fi
		now=${EPOCHREALTIME/./}
		((now < end)) || return 1
		dg_sleep 0.01
	done
}

# ------------------------------------------------------------------ #
# Loop devices and filesystems

# dg_losetup IMAGE [LOSETUP_OPTS...]: attach IMAGE to a free loop device and
# print its name.
dg_losetup()
{
	local img=$1 dev

	shift
	[[ "$img" == "$DG_TMP"/* ]] || dg_fail "dg_losetup: $img is not ours"
	dev=$(losetup --find --show "$@" "$img") ||
		dg_fail "losetup --find --show $* $img failed"
	echo "$dev"
}

# dg_majmin DEV: "major:minor" of a block device, as in mountinfo.
dg_majmin()
{
	local t

	t=$(stat -L -c '%t %T' "$1") || dg_fail "stat $1"
	# shellcheck disable=SC2086
	set -- $t
	echo "$((16#$1)):$((16#$2))"
}

# dg_mkfs DEV TYPE MKFS_OPTS...
dg_mkfs()
{
	local dev=$1 type=$2

	shift 2
	case "$type" in
	xfs) mkfs.xfs -q -f -K "$@" "$dev" ;;
	ext4) mkfs.ext4 -q -F -b 4096 -E nodiscard "$@" "$dev" ;;
	*) dg_fail "dg_mkfs: unknown type $type" ;;
	esac >"$DG_TMP/mkfs.log" 2>&1 ||
		dg_fail "mkfs.$type $* $dev failed: $(cat "$DG_TMP/mkfs.log")"
}

# dg_mount DEV DIR [MOUNT_OPTS...]
dg_mount()
{
	local dev=$1 dir=$2

	shift 2
	[[ "$dir" == "$DG_TMP"/* ]] || dg_fail "dg_mount: $dir is not ours"
	mkdir -p "$dir" || dg_fail "mkdir -p $dir failed"
	mount "$@" "$dev" "$dir" || dg_fail "mount $* $dev $dir failed"
}

# shellcheck disable=SC2034 # DG_FSTYPE and DG_EXPECT_RMAP are for the tests
# dg_setup_fs KIND: one of the filesystems the tests run on, on a loop
# device.  Sets IMG, DEV, MAJMIN, MNT, DG_FSTYPE and DG_EXPECT_RMAP (the
# reverse-map backend daxguard must pick, or "" when any other than
# xfs-rmapbt will do).
dg_setup_fs()
{
	case "$1" in
	xfs-rmap)
		dg_require_fs xfs
		dg_mkfs_loop xfs 320 -m rmapbt=1
		DG_FSTYPE=xfs
		DG_EXPECT_RMAP=xfs-rmapbt
		;;
	xfs-normap)
		dg_require_fs xfs
		dg_mkfs_loop xfs 320 -m rmapbt=0,reflink=0
		DG_FSTYPE=xfs
		DG_EXPECT_RMAP=""
		;;
	xfs-odd)
		# what the XFS inode reader must not take for granted: 1 KiB
		# blocks (two inodes a block), 64-bit extent counters, the
		# old timestamp format; reflink on, rmapbt off
		dg_require_fs xfs
		dg_mkfs_loop xfs 320 -b size=1024 -i nrext64=1 -m rmapbt=0,bigtime=0
		DG_FSTYPE=xfs
		DG_EXPECT_RMAP=""
		;;
	ext4)
		dg_require_fs ext4
		dg_mkfs_loop ext4 128
		DG_FSTYPE=ext4
		DG_EXPECT_RMAP=""
		;;
	*)
		dg_fail "unknown filesystem kind '$1' (xfs-rmap, xfs-normap, xfs-odd, ext4)"
		;;
	esac
}

# dg_mkfs_loop TYPE SIZE_MB MKFS_OPTS...: an image in the tmpdir on a loop
# device, with a filesystem mounted below the tmpdir.  Sets IMG, DEV,
# MAJMIN and MNT (call it directly, not in $(...)).
dg_mkfs_loop()
{
	local type=$1 size=$2

	shift 2
	DG_NFS=$((DG_NFS + 1))
	IMG="$DG_TMP/fs$DG_NFS.img"
	truncate -s "${size}M" "$IMG" || dg_fail "truncate $IMG failed"
	# (dg_losetup has said why if it failed)
	DEV=$(dg_losetup "$IMG") || exit 1
	MAJMIN=$(dg_majmin "$DEV") || exit 1
	dg_mkfs "$DEV" "$type" "$@"
	MNT="$DG_TMP/mnt$DG_NFS"
	dg_mount "$DEV" "$MNT" -t "$type"
	dg_log "$type on $DEV ($MAJMIN, $IMG), mounted on $MNT"
}

# dg_wait_for_path PATH: wait (up to 10 s) for a device node to appear.
dg_wait_for_path()
{
	local i

	for ((i = 0; i < 200; i++)); do
		[[ -e "$1" ]] && return 0
		sleep 0.05
	done
	dg_fail "$1 did not appear"
}

# dg_mountinfo_lines MAJMIN [FILE]: the mountinfo lines of that device.
dg_mountinfo_lines()
{
	awk -v d="$1" '$3 == d' "${2:-/proc/self/mountinfo}"
}

# dg_loop_backing DEV: the backing file of a loop device, or "".
dg_loop_backing()
{
	local backing=""

	{ read -r backing <"/sys/block/${1##*/}/loop/backing_file"; } 2>/dev/null
	echo "$backing"
}

# ------------------------------------------------------------------ #
# Files and their extents

# dg_write_chunk FILE OFFSET LENGTH: write and fsync part of a file, so
# that its blocks are allocated now.
dg_write_chunk()
{
	xfs_io -f -c "pwrite -q -S 0x5a -b 4096 $2 $3" -c fsync "$1" ||
		dg_fail "cannot write $1"
}

# dg_make_fragmented A B CHUNKS PAGES_A PAGES_B: write files A and B in
# CHUNKS interleaved pieces (PAGES_A and PAGES_B pages each), fsyncing each
# piece, so that the allocator has to put the pieces of A between those of
# B.  Fails unless both end up with at least 2 extents.
dg_make_fragmented()
{
	local a=$1 b=$2 chunks=$3 pa=$4 pb=$5 i n

	for ((i = 0; i < chunks; i++)); do
		dg_write_chunk "$a" $((i * pa * 4096)) $((pa * 4096))
		dg_write_chunk "$b" $((i * pb * 4096)) $((pb * 4096))
	done
	for f in "$a" "$b"; do
		n=$(dg_extents "$f" | wc -l)
		((n >= 2)) || dg_fail "$f: expected a fragmented file, has $n extents"
		dg_log "$f: $n extents"
	done
}

# dg_extents FILE: the file's extents from FIEMAP, one per line, in bytes:
#	LOGICAL PHYSICAL LENGTH FLAGS
# PHYSICAL is relative to the start of the filesystem's block device.
# Holes are left out.  The file is synced first, so delayed allocations
# are resolved.
dg_extents()
{
	xfs_io -r -c fsync -c "fiemap -v" "$1" 2>/dev/null |
		awk '
		$2 ~ /^\[[0-9]+\.\.[0-9]+\]:$/ && $3 ~ /^[0-9]+\.\.[0-9]+:?$/ {
			split(substr($2, 2), l, /[.\]]+/)
			split($3, p, /[.:]+/)
			printf "%.0f %.0f %.0f %s\n", l[1] * 512, p[1] * 512,
				(l[2] - l[1] + 1) * 512, $5
		}' || dg_fail "fiemap $1 failed"
}

# dg_devoff FILE FILE_OFFSET: where the byte at FILE_OFFSET of FILE is on
# the filesystem's block device (from FIEMAP).
dg_devoff()
{
	local off

	off=$(dg_extents "$1" | awk -v o="$2" '
		o >= $1 && o < $1 + $3 { printf "%.0f\n", $2 + (o - $1); exit }')
	[[ -n "$off" ]] || dg_fail "$1: file offset $2 is not mapped (FIEMAP)"
	echo "$off"
}

# dg_mapped_ranges FILE: the file ranges that have blocks, adjacent
# extents merged: "START END" (END exclusive) per line.
dg_mapped_ranges()
{
	dg_extents "$1" | sort -n -k1,1 | awk '
		{ s = $1; e = $1 + $3 }
		n && s == ce { ce = e; next }
		n { printf "%.0f %.0f\n", cs, ce }
		{ cs = s; ce = e; n = 1 }
		END { if (n) printf "%.0f %.0f\n", cs, ce }'
}

# dg_owner_of_block DEVOFF FILE...: which of FILE... owns the byte at device
# offset DEVOFF; prints "FILE FILE_OFFSET" or nothing.
dg_owner_of_block()
{
	local devoff=$1 f hit

	shift
	for f in "$@"; do
		hit=$(dg_extents "$f" | awk -v d="$devoff" '
			d >= $2 && d < $2 + $3 { printf "%.0f\n", $1 + (d - $2); exit }')
		if [[ -n "$hit" ]]; then
			echo "$f $hit"
			return 0
		fi
	done
}

# dg_page_sums FILE PAGES [direct]: sha256 of each 4 KiB page, one per
# line; read with O_DIRECT (past the page cache) when asked.
dg_page_sums()
{
	local i flags=()

	[[ "${3:-}" == direct ]] && flags=(iflag=direct)
	for ((i = 0; i < $2; i++)); do
		dd if="$1" bs=4096 skip="$i" count=1 "${flags[@]}" status=none |
			sha256sum | cut -d' ' -f1
	done
}

# dg_inode FILE
dg_inode()
{
	stat -c %i "$1"
}

# ------------------------------------------------------------------ #
# Reverse map (GETFSMAP)

# dg_fsmap MNT: the filesystem's reverse map from GETFSMAP (xfs_io fsmap,
# which works on XFS and ext4), one record per line, in bytes from the start
# of the filesystem's device:
#	START LENGTH OWNER...
# OWNER as xfs_io names it: "free space", "journalling log", "inodes",
# "inode 131 data 0..23", ...
dg_fsmap()
{
	xfs_io -c "fsmap" "$1" | awk '
		$3 ~ /^\[[0-9]+\.\.[0-9]+\]:$/ {
			split(substr($3, 2), r, /[.\]]+/)
			owner = $4
			for (i = 5; i < NF; i++)
				owner = owner " " $i
			printf "%.0f %.0f %s\n", r[1] * 512, (r[2] - r[1] + 1) * 512, owner
		}' || dg_fail "GETFSMAP on $1 failed"
}

# dg_fsmap_find MNT OWNER MIN_LENGTH: the first GETFSMAP record owned by
# OWNER (exactly) and at least MIN_LENGTH long: "START LENGTH".
dg_fsmap_find()
{
	dg_fsmap "$1" | awk -v o="$2" -v min="$3" '
		{ owner = $3; for (i = 4; i <= NF; i++) owner = owner " " $i }
		owner == o && $2 >= min { print $1, $2; exit }'
}

# ------------------------------------------------------------------ #
# XFS

# dg_xfs_sb DEV FIELD: a superblock field from xfs_db.
dg_xfs_sb()
{
	xfs_db -r -c "sb 0" -c "p $2" "$1" | awk -v f="$2" '$1 == f { print $3 }'
}

# dg_xfs_log_offset DEV: byte offset of the internal log, from the
# superblock geometry (logstart is in AG-encoded filesystem blocks).
dg_xfs_log_offset()
{
	local logstart agblocks agblklog blocksize agno agbno

	logstart=$(dg_xfs_sb "$1" logstart)
	agblocks=$(dg_xfs_sb "$1" agblocks)
	agblklog=$(dg_xfs_sb "$1" agblklog)
	blocksize=$(dg_xfs_sb "$1" blocksize)
	[[ -n "$logstart" && -n "$agblocks" && -n "$agblklog" &&
		-n "$blocksize" ]] || dg_fail "$1: cannot read the XFS geometry"
	((logstart != 0)) || dg_fail "$1: the XFS log is not internal"
	agno=$((logstart >> agblklog))
	agbno=$((logstart & ((1 << agblklog) - 1)))
	echo $(((agno * agblocks + agbno) * blocksize))
}

# ------------------------------------------------------------------ #
# Running daxguard

# dg_run CMD...: run CMD; set DG_RC, DG_OUT and DG_ERR.  Never fails.
dg_run()
{
	local rc=0

	"$@" >"$DG_TMP/.out" 2>"$DG_TMP/.err" </dev/null || rc=$?
	dg_ran "$rc" "$*"
}

# dg_ran RC CMD: CMD, which wrote $DG_TMP/.out and .err, ended with exit
# status RC: set DG_RC, DG_OUT and DG_ERR, as dg_run does.
dg_ran()
{
	DG_RC=$1
	DG_OUT=$(<"$DG_TMP/.out")
	DG_ERR=$(<"$DG_TMP/.err")
	DG_DUMPED=0
	# DG_VERBOSE=1: show what daxguard did
	if [[ -n "${DG_VERBOSE:-}" ]]; then
		echo "# \$ $2 (exit $1)"
		{ jq -c '.processes[]?, .steps[]?' <<<"$DG_OUT" 2>/dev/null ||
			printf '%s\n' "$DG_OUT"; } | sed 's/^/#   /'
		[[ -z "$DG_ERR" ]] || printf '%s\n' "$DG_ERR" | sed 's/^/#   stderr: /'
	fi
}

# dg_start_paused WHAT STAGE CMD...: start CMD (a daxguard run with
# --pause-after STAGE) in the background, its output in $DG_TMP/.out and
# .err, and wait up to 10 s until daxguard says it paused.  Sets DG_PID
# (CMD) and DG_PAUSED (the daxguard that paused: CMD, or its child when
# CMD is timeout(1), say).
# shellcheck disable=SC2034 # DG_PAUSED is for the tests
dg_start_paused()
{
	local what=$1 stage=$2 pid i l

	shift 2
	# empty now: the background job truncates it only once it runs, and
	# until then the last run's "paused" line would still be there
	: >"$DG_TMP/.err"
	"$@" </dev/null >"$DG_TMP/.out" 2>"$DG_TMP/.err" &
	pid=$!
	dg_register_pid "$pid"
	DG_PID=$pid
	DG_PAUSED=""
	for ((i = 0; i < 1000; i++)); do
		{
			while IFS= read -r l; do
				if [[ "$l" =~ ^"daxguard: paused after $stage (pid "([0-9]+)")" ]]; then
					DG_PAUSED=${BASH_REMATCH[1]}
					# killing CMD (timeout, say) would leave it
					# paused, holding its device locks
					[[ $DG_PAUSED == "$pid" ]] || dg_register_pid "$DG_PAUSED"
					return 0
				fi
			done <"$DG_TMP/.err"
		} 2>/dev/null
		dg_pid_alive "$pid" ||
			dg_fail "$what: $* exited before pausing: $(cat "$DG_TMP/.err")"
		dg_sleep 0.01
	done
	dg_fail "$what: $* did not pause within 10 s: $(cat "$DG_TMP/.err")"
}

# dg_json_ok WHAT: DG_OUT is JSON; it becomes DG_JSON, for dg_jq.
dg_json_ok()
{
	DG_JSON=$DG_OUT
	jq -e . >/dev/null 2>&1 <<<"$DG_JSON" || dg_fail "$1: output is not JSON"
}

# dg_who ARGS...: daxguard who ARGS -J; it must exit 0 and print valid
# JSON, which is left in DG_JSON.
dg_who()
{
	dg_run timeout 60 "$DAXGUARD" who "$@" -J
	if [[ $DG_RC != 0 ]]; then
		dg_fail "daxguard who $* -J: exit status $DG_RC"
	fi
	dg_json_ok "daxguard who $* -J"
	if [[ -n "$DG_ERR" ]]; then
		dg_log "daxguard who $* -J wrote to stderr: $DG_ERR"
	fi
}

# dg_jq JQ_ARGS...: jq -c JQ_ARGS (a filter, options before or after it)
# on DG_JSON.
dg_jq()
{
	jq -c "$@" <<<"$DG_JSON" || dg_fail "jq $* failed"
}

# dg_expect_process WHAT PID STATE SIGNALS [REASON]: what daxguard's JSON
# says it did to PID (its entry in .processes[]); goes on after a failure.
# shellcheck disable=SC2016 # $p is jq's
dg_expect_process()
{
	local v

	v=$(dg_jq '.processes[] | select(.pid == $p)' --argjson p "$2")
	dg_expect_eq "$1 (pid $2): state" "\"$3\"" "$(jq -c .state <<<"$v")"
	dg_expect_eq "$1 (pid $2): signals" "$4" "$(jq -c .signals <<<"$v")"
	[[ -z "${5:-}" ]] ||
		dg_expect_eq "$1 (pid $2): reason" "\"$5\"" "$(jq -c .reason <<<"$v")"
}

# dg_sorted_pids N...: a JSON array of the sorted unique numbers ("[]" for
# none), to compare with '[.users[].pid] | unique' (jq -c).  Pure bash: no
# forks.
dg_sorted_pids()
{
	local -a out=()
	local n i j tmp

	for n in "$@"; do
		for i in "${out[@]}"; do
			[[ "$i" == "$n" ]] && continue 2
		done
		out+=("$n")
	done
	for ((i = 1; i < ${#out[@]}; i++)); do
		for ((j = i; j > 0 && out[j - 1] > out[j]; j--)); do
			tmp=${out[j]}
			out[j]=${out[j - 1]}
			out[j - 1]=$tmp
		done
	done
	n=${out[*]}
	echo "[${n// /,}]"
}
