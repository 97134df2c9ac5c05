# shellcheck shell=bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/lib.sh: what the benchmark scripts share.  Sourced after each sets
# ROOT, and before it sets prog (which is read only when a message is
# printed); stats and paired read the script's "samples" array (name ->
# space-separated microseconds), row and the ratios its "median" array.

BUILD=${BUILD:-$ROOT/build}
DAXGUARD=${DAXGUARD:-$BUILD/daxguard/daxguard}
DG_MKFILES=${DG_MKFILES:-$BUILD/bench/dg-mkfiles}

# The options of the script, set up by it before it calls parse_options:
# option -> the variable a whole number goes to; option -> the function
# that checks and stores any other value (called as FN OPTION VALUE);
# option -> "variable=value" for an option without a value.
declare -A number_options=() value_options=() flag_options=()

# nr_processes: how many processes /proc lists now.  A glob, not find:
# find fails (and set -e with it) when a process exits while it reads.
nr_processes()
{
	local p=(/proc/[0-9]*)

	echo "${#p[@]}"
}

# bench_traps: the script's cleanup() runs on every way out
bench_traps()
{
	trap bench_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# shellcheck disable=SC2317  # called through the EXIT trap
bench_exit()
{
	local rc=$?

	# cleanup goes on past any failure, and runs once
	set +e
	trap - EXIT INT TERM HUP
	cleanup
	exit "$rc"
}

die()
{
	echo "$prog: $*" >&2
	exit 1
}

need_number()
{
	[[ $2 =~ ^[0-9]+$ ]] || die "$1: '$2' is not a number"
}

# parse_options ARGS...: the command line, after the tables above.  -h and
# --help print the script's usage and exit.
parse_options()
{
	while (($#)); do
		if [[ $1 == -h || $1 == --help ]]; then
			usage
			exit 0
		fi
		# ("" first: looking up an empty key is an error in bash)
		if [[ -z $1 ||
			-z ${flag_options[$1]+1}${number_options[$1]+1}${value_options[$1]+1} ]]; then
			echo "$prog: unknown option '$1'" >&2
			echo "Try '$0 --help' for more information." >&2
			exit 1
		fi
		if [[ -n ${flag_options[$1]+1} ]]; then
			printf -v "${flag_options[$1]%%=*}" '%s' "${flag_options[$1]#*=}"
			shift
			continue
		fi
		(($# >= 2)) || die "$1 needs a value"
		if [[ -n ${number_options[$1]+1} ]]; then
			need_number "$1" "$2"
			printf -v "${number_options[$1]}" '%s' "$2"
		else
			"${value_options[$1]}" "$1" "$2"
		fi
		shift 2
	done
}

need_tool()
{
	local tool=$1 pkg=$2

	command -v "$tool" >/dev/null && return 0
	echo "$prog: installing $pkg for $tool" >&2
	apt-get install -y "$pkg" >/dev/null 2>&1 ||
		{ apt-get update >/dev/null 2>&1 && apt-get install -y "$pkg" >/dev/null; } ||
		die "$tool is missing and 'apt-get install $pkg' failed"
	command -v "$tool" >/dev/null || die "$tool is still missing after installing $pkg"
}

# wait_farm_ready: wait until dg-mapper-farm ($farm_pid, its stderr in
# $work/farm.log) has created $work/ready; die with its log if it exits
# first
wait_farm_ready()
{
	while [[ ! -e $work/ready ]]; do
		if ! kill -0 "$farm_pid" 2>/dev/null; then
			cat "$work/farm.log" >&2
			wait "$farm_pid" 2>/dev/null || true
			farm_pid=
			die "dg-mapper-farm failed"
		fi
		sleep 0.05
	done
}

# ------------------------------------------------------------------------
# Cleanup.  Each script's cleanup() undoes what it set up, with these; they
# touch only what the script made: its own children by PID, its loop
# devices while they are still bound to its images, its $work.

# stop_child PID: SIGTERM to one of the script's background processes,
# and reap it (nothing if PID is empty)
stop_child()
{
	[[ -n $1 ]] || return 0
	kill -TERM "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# stop_farm: stop dg-mapper-farm ($farm_pid).  On SIGTERM the farm SIGKILLs
# and reaps its children, then exits; it gets 10 s before a SIGKILL.
stop_farm()
{
	[[ -n $farm_pid ]] || return 0
	kill -TERM "$farm_pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$farm_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$farm_pid" 2>/dev/null || true
	wait "$farm_pid" 2>/dev/null || true
	farm_pid=
}

# umount_retry MNT: unmount MNT if it is mounted, trying for 5 s; fails if
# it is mounted still
umount_retry()
{
	if [[ -z $1 ]] || ! mountpoint -q "$1"; then
		return 0
	fi
	for _ in 1 2 3 4 5; do
		umount "$1" 2>/dev/null && break
		sleep 1
	done
	! mountpoint -q "$1"
}

# still_ours DEV IMG: is loop device DEV (/dev/loopN) still bound to IMG?
# (Once free, a device may be taken at once by somebody else's losetup.)
still_ours()
{
	local bf

	{ read -r bf <"/sys/block/${1#/dev/}/loop/backing_file"; } 2>/dev/null || return 1
	[[ $bf == "$2" || $bf == "$2 (deleted)" ]]
}

# detach_ours DEV IMG: losetup -d DEV, only while it is bound to IMG
detach_ours()
{
	[[ -n $1 ]] || return 0
	if still_ours "$1" "$2"; then
		losetup -d "$1" || echo "$prog: cannot detach $1" >&2
	fi
}

# remove_work: rm -rf $work, the script's mktemp -d directory; fails,
# leaving it, while anything is still mounted below it
remove_work()
{
	[[ -n $work && -d $work ]] || return 0
	if grep -qF " $work/" /proc/mounts; then
		return 1
	fi
	rm -rf -- "$work"
}

# cleanup_fs: the end of cleanup() for a script with one filesystem, $mnt
# on $loop from $img, all of it under $work
cleanup_fs()
{
	if ! umount_retry "$mnt"; then
		echo "$prog: cannot unmount $mnt; users:" >&2
		fuser -vm "$mnt" >&2
	fi
	detach_ours "$loop" "$img"
	remove_work || echo "$prog: $mnt is still mounted: left $work in place" >&2
}

# Run a long step in the background, so that a signal to this script is
# acted on at once rather than when the step ends.
run_bg()
{
	"$@" &
	bg_pid=$!
	wait "$bg_pid"
	bg_pid=
}

now_us()
{
	local t=$EPOCHREALTIME

	echo "${t/./}"
}

seconds_since()
{
	local t=$EPOCHREALTIME

	awk -v a="$1" -v b="${t/./}" 'BEGIN { printf "%.1f", (b - a) / 1e6 }'
}

# ------------------------------------------------------------------------
# Reports

# shout LINE...: a message that cannot be missed, on stderr: every line of
# every argument behind "!!! ", framed
shout()
{
	local arg line

	{
		echo
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
		for arg in "$@"; do
			while IFS= read -r line; do
				echo "!!! $line"
			done <<<"$arg"
		done
		echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
		echo
	} >&2
}

# machine: "KERNEL, N cores, M GiB"
machine()
{
	echo "$(uname -r), $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
}

# print_daxguard: the daxguard that is measured: path, version, build time
print_daxguard()
{
	echo "daxguard: $DAXGUARD ($("$DAXGUARD" --version 2>&1 | head -1), built $(date -r "$DAXGUARD" '+%F %T'))"
}

# note_load: the load average into $load_before, and a warning when the
# machine is busy
note_load()
{
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	if awk -v l="${load_before%% *}" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
		echo "warning: load average $load_before on $(nproc) cores: the machine is busy," \
			"expect slow and noisy numbers"
	fi
}

# time_cmd NAME CMD...: run CMD once with output discarded and, while
# $recording, add its wall time in microseconds to NAME's samples; its exit
# status goes to $time_rc.  $EPOCHREALTIME is a builtin, so the clock costs
# no fork.
time_cmd()
{
	local name=$1 s e
	shift

	time_rc=0
	s=$EPOCHREALTIME
	"$@" >/dev/null 2>&1 || time_rc=$?
	e=$EPOCHREALTIME
	if $recording; then
		samples[$name]+="$((${e/./} - ${s/./})) "
	fi
}

# run_rounds: the script's round(), $warmup times unrecorded, then $runs
# times recorded
run_rounds()
{
	local i

	recording=false
	for ((i = 0; i < warmup; i++)); do
		round
	done
	recording=true
	for ((i = 0; i < runs; i++)); do
		round
	done
}

# median, min and max of NAME's samples, in milliseconds
stats()
{
	tr ' ' '\n' <<<"${samples[$1]:-}" | grep . | sort -n | awk '
		{ v[NR] = $1 }
		END {
			if (!NR) { print "- - -"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			printf "%.1f %.1f %.1f\n", m / 1000, v[1] / 1000, v[NR] / 1000
		}'
}

# median over the rounds of NUM's time / DEN's time in the same round
paired()
{
	awk -v a="${samples[$1]:-}" -v b="${samples[$2]:-}" 'BEGIN {
		n = split(a, x, " ")
		split(b, y, " ")
		for (i = 1; i <= n; i++)
			r[i] = y[i] > 0 ? x[i] / y[i] : 0
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && r[j - 1] > r[j]; j--) {
				t = r[j]; r[j] = r[j - 1]; r[j - 1] = t
			}
		printf "%.2f", n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2
	}'
}

# row NAME LABEL: LABEL in a column $row_width wide, then the median, min
# and max of NAME's samples; keeps the median in median[NAME]
row()
{
	local name=$1 label=$2 m lo hi

	read -r m lo hi < <(stats "$name")
	median[$name]=$m
	printf "  %-${row_width}s %8s %8s %8s\n" "$label" "$m" "$lo" "$hi"
}

# row_head LABEL: the header of those rows
row_head()
{
	printf "  %-${row_width}s %8s %8s %8s\n" "$1" median min max
}

# median_ratio NUM DEN: NUM's median / DEN's median, "%.2f" (0 when DEN's
# is 0)
median_ratio()
{
	awk -v a="${median[$1]}" -v b="${median[$2]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'
}

# info_ratio LABEL NUM DEN [NOTE]: a ratio row without a target, LABEL in
# a column $ratio_width wide: the ratio of the medians, then paired
info_ratio()
{
	printf "  %-${ratio_width}s %7sx %9sx   (info%s)\n" "$1" "$(median_ratio "$2" "$3")" \
		"$(paired "$2" "$3")" "${4:+: $4}"
}

# ratio LABEL NUM DEN OP GOAL: a ratio row with a target (OP ">=" or "<="),
# LABEL in a column $ratio_width wide, and PASS or MISS; a miss sets
# $missed
ratio()
{
	local label=$1 a=$2 b=$3 op=$4 goal=$5 r verdict

	r=$(median_ratio "$a" "$b")
	if awk -v r="$r" -v g="$goal" -v op="$op" \
		'BEGIN { exit !(op == ">=" ? r >= g : r <= g) }'; then
		verdict=PASS
	else
		verdict=MISS
		missed=true
	fi
	printf "  %-${ratio_width}s %7sx %9sx   %s %-5s %s\n" "$label" "$r" \
		"$(paired "$a" "$b")" "$op" "${goal}x" "$verdict"
}

# who_finish: the end of the who benchmarks: with --hold keep the setup
# until a signal, then exit 1 on a wrong answer ($wrong), or on a missed
# target ($missed) under --strict, else 0
who_finish()
{
	if $hold; then
		echo
		echo "holding the setup until Ctrl-C: device $loop, mount $mnt, farm pid $farm_pid"
		echo "  ${dg_cmd[*]}"
		while :; do
			sleep 1
		done
	fi
	bench_result "$wrong" "daxguard who gave a WRONG ANSWER"
}

# bench_result BAD WHAT: the end of every benchmark: exit 1 when BAD is
# true (a wrong answer or a failed run: WHAT says which), or on a missed
# target ($missed) under --strict ($strict), else 0
bench_result()
{
	if $1; then
		echo
		echo "RESULT: $2 (see above)" >&2
		exit 1
	fi
	if $missed && $strict; then
		exit 1
	fi
	exit 0
}
