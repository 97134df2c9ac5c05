#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/remove.sh: how fast `daxguard remove --action kill` takes a loop XFS
# away from 2,000 processes that map its files, side by side in one run with
# the pipeline an operator uses today:
#
#   fuser -k -m MNT; (wait until every one of those processes is gone);
#   umount MNT; losetup -d DEV
#
# A removal destroys its setup, so every measured round builds a fresh one:
# the image (made once, with dg-mkfiles) is attached to a loop device again,
# mounted, and dg-mapper-farm starts 2,000 processes that each map 1 to 3 of
# its files.  Then either daxguard or the pipeline takes the device away.
# Rounds alternate (daxguard, pipeline, daxguard, ...), so load that comes
# and goes hits both alike.  After every round the script checks that every
# farm process is gone, that nothing is mounted and that the loop device is
# detached.
#
# "Wait until every one is gone" is the farm's own reaping: started with
# --exit-when-gone, the farm parent reaps its children as they die and exits
# once the last one is reaped, so the pipeline waits with one wait(2) on it,
# without polling.  That is the best case for any way of waiting.  The farm
# parent holds nothing on the filesystem, so neither method targets it, and
# both face the same 2,000 children.
#
# Prints the median time of each method, the ratios pipeline / daxguard
# (target: at least 1.15) and daxguard / floor (target: at most 1.10, the
# floor being kill -KILL of pids known in advance), the time of each
# pipeline stage, and
# daxguard's own per-stage times from its JSON report (steps[], summed per
# stage name within a round).
#
# Usage: bench/remove.sh [--files N] [--procs N] [--runs N] [--warmup N] ...
# See --help, and doc/benchmarks.md.

set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
DG_FARM=${DG_FARM:-$BUILD/bench/dg-mapper-farm}

files=5000
procs=2000
runs=5
warmup=1
seed=1
image_size=1G
strict=false
floor=true
wrap=()

prog=remove.sh

usage()
{
	cat <<EOF
Usage: $0 [options]

Benchmark 'daxguard remove --action kill' of a loop XFS that $procs processes
map, against 'fuser -k -m; wait; umount; losetup -d'.  Needs root.  Each
round sets up anew (attach, mount, start the processes): about 5-10 s each.

Options:
  --files N       files on the test filesystem (default $files)
  --procs N       processes mapping them (default $procs)
  --runs N        measured rounds of each method (default $runs)
  --warmup N      warm-up rounds of each method, not counted (default $warmup)
  --seed N        seed of the file set and of the farm (default $seed)
  --image-size S  size of the image, as truncate takes it (default $image_size)
  --no-floor      leave out the floor rounds (kill -KILL of the known pids)
  --strict        exit 1 when the target is missed, not only on a failure
  --wrap 'CMD'    run daxguard under CMD, to profile it: 'strace -c -f -o FILE',
                  'perf record -g -o FILE --' (its times then include CMD)
  -h, --help      show this help

Environment:
  BUILD           meson build directory (default: <repo>/build)
  DAXGUARD        daxguard binary (default: \$BUILD/daxguard/daxguard)
  DG_MKFILES      file set generator (default: \$BUILD/bench/dg-mkfiles)
  DG_FARM         process farm (default: \$BUILD/bench/dg-mapper-farm)

A quick smoke run: $0 --files 500 --procs 50 --runs 2 --warmup 0
EOF
}

# shellcheck disable=SC2317  # called through parse_options
set_image_size()
{
	[[ $2 =~ ^[0-9]+[KMGT]?$ ]] || die "$1: '$2' is not a size"
	image_size=$2
}

# shellcheck disable=SC2317  # called through parse_options
set_wrap()
{
	read -ra wrap <<<"$2"
}

number_options=([--files]=files [--procs]=procs [--runs]=runs [--warmup]=warmup
	[--seed]=seed)
value_options=([--image-size]=set_image_size [--wrap]=set_wrap)
flag_options=([--strict]=strict=true [--no-floor]=floor=false)
parse_options "$@"
((files >= 20)) || die "--files $files: need at least 20 files"
((procs >= 1)) || die "--procs must be at least 1"
((runs >= 1)) || die "--runs must be at least 1"

(($(id -u) == 0)) || die "needs root (loop devices, mounts, signals to other processes)"

# ------------------------------------------------------------------------
# Tools

need_tool mkfs.xfs xfsprogs
need_tool losetup mount
need_tool mountpoint util-linux
need_tool fuser psmisc
need_tool jq jq

[[ -x $DG_MKFILES && -x $DG_FARM ]] ||
	die "$DG_MKFILES or $DG_FARM is missing: build first (meson setup build && ninja -C build), or set BUILD"
[[ -x $DAXGUARD ]] || die "$DAXGUARD is missing: build it, or set DAXGUARD"
"$DG_FARM" --help | grep -q -- --exit-when-gone ||
	die "$DG_FARM has no --exit-when-gone: rebuild it"

# ------------------------------------------------------------------------
# Setup and cleanup.  Everything lives under $work; nothing else is touched.

work=
mnt=
img=
loop=
farm_pid=
bg_pid=
watchdog_pid=

# shellcheck disable=SC2317  # called through the EXIT trap
cleanup()
{
	stop_child "$bg_pid"
	stop_child "$watchdog_pid"
	stop_farm
	cleanup_fs
}
bench_traps

work=$(mktemp -d /var/tmp/dg-bench-remove.XXXXXX)
mnt=$work/mnt
img=$work/xfs.img
mkdir "$mnt"

echo "daxguard remove benchmark: $files files, $procs processes, $runs rounds of each" \
	"method after $warmup warm-up round(s) of each"
echo "machine: $(machine);" \
	"$(fuser -V 2>&1 | awk 'NR == 1'); $(losetup --version)"
print_daxguard
echo "setting up in $work ..."

t=$(now_us)
truncate -s "$image_size" "$img"
mkfs.xfs -q -f "$img"
loop=$(losetup --find --show "$img")
mount -t xfs "$loop" "$mnt"
run_bg "$DG_MKFILES" --quiet --files "$files" --seed "$seed" \
	--manifest "$work/manifest" "$mnt/files"
run_bg sync -f "$mnt"
used=$(df -h --output=used "$mnt" | tail -1 | tr -d ' ')
umount "$mnt"
losetup -d "$loop"
loop=
echo "  image ($image_size, mkfs.xfs defaults), $files files ($used): $(seconds_since "$t") s"

target=$mnt/files/large/L00
[[ $(awk -F'\t' -v t="$target" '$1 == t { print $2 }' "$work/manifest") -ge 8192 ]] ||
	die "$target is not in the manifest, or too small"

# ------------------------------------------------------------------------
# One round

failed=false

loud()
{
	shout "$@"
	failed=true
}

# attach, mount, start the farm
setup_s=0
setup_round()
{
	local t0

	t0=$(now_us)
	loop=$(losetup --find --show "$img")
	mount -t xfs "$loop" "$mnt"
	rm -f "$work/ready" "$work/pids"
	# from /, so that the farm parent stands on nothing of the filesystem
	(cd / && exec "$DG_FARM" --manifest "$work/manifest" --target "$target" \
		--procs "$procs" --hit 0 --miss 0 --seed "$seed" --exit-when-gone \
		--pids "$work/pids" --ready "$work/ready") 2>"$work/farm.log" &
	farm_pid=$!
	wait_farm_ready
	setup_s=$(seconds_since "$t0")
}

# A method that leaves some of the farm's children alive would make the
# wait for the farm hang: after 60 s, a watchdog stops the farm (which
# kills its children) and leaves a mark.  Armed before the clock starts.
arm_watchdog()
{
	rm -f "$work/watchdog"
	(
		trap 'kill "$s" 2>/dev/null; exit 0' TERM
		sleep 60 &
		s=$!
		wait "$s"
		: >"$work/watchdog"
		kill -TERM "$farm_pid" 2>/dev/null
	) &
	watchdog_pid=$!
}

disarm_watchdog()
{
	stop_child "$watchdog_pid" # it may have fired already
	watchdog_pid=
	if [[ -e $work/watchdog ]]; then
		loud "$1: farm processes were still alive 60 s later: the watchdog stopped the farm"
		rm -f "$work/watchdog"
	fi
}

# After a round: the farm exited 0 (it reaped every child), none of its
# children is left, nothing is mounted, the loop device is detached.  The
# pipeline has waited for the farm already (its status in $2); for daxguard
# this waits for it.  Sets $late: tenths of a second the loop device took to
# go after the method returned (0 when it was gone at once).
late=0
check_round()
{
	local what=$1 frc=${2:-} left=0 pid comm

	if [[ -n $farm_pid ]]; then
		frc=0
		wait "$farm_pid" || frc=$?
		farm_pid=
	fi
	if ((frc != 0)); then
		loud "$what: the farm exited with status $frc:" "$(tail -5 "$work/farm.log")"
	fi
	while read -r pid; do
		# (read, not $(cat ...): no fork per process)
		{ read -r comm <"/proc/$pid/comm"; } 2>/dev/null || continue
		[[ $comm == dg-farm-child ]] && left=$((left + 1))
	done <"$work/pids"
	if ((left)); then
		loud "$what: $left farm processes are still there"
	fi
	if mountpoint -q "$mnt"; then
		loud "$what: $mnt is still mounted"
		umount "$mnt" || true
	fi
	# losetup -d of a device somebody else has open (udev, blkid) only
	# sets autoclear: the device goes when they close it.  Wait for that.
	late=0
	while still_ours "$loop" "$img" && ((late < 50)); do
		late=$((late + 1))
		sleep 0.1
	done
	if still_ours "$loop" "$img"; then
		loud "$what: $loop is still attached: $(losetup "$loop" 2>&1)"
		detach_ours "$loop" "$img"
	fi
	loop=
}


declare -A samples
recording=false
last=0

add_sample()
{
	if $recording; then
		samples[$1]+="$2 "
	fi
}

round_daxguard()
{
	local what="daxguard round $1" s e rc=0 victims want

	setup_round
	arm_watchdog
	s=$EPOCHREALTIME
	"${wrap[@]}" "$DAXGUARD" remove --action kill -J "$loop" >"$work/remove.json" \
		2>"$work/remove.err" || rc=$?
	e=$EPOCHREALTIME
	check_round "$what"
	disarm_watchdog "$what"
	if ((rc != 0)); then
		loud "$what: exit status $rc" "$(head -5 "$work/remove.err")"
		return 0
	fi
	if ! [[ -s $work/remove.json ]] ||
		! jq -e '.steps and .processes' "$work/remove.json" >/dev/null 2>&1; then
		loud "$what: no JSON report with steps and processes"
		return 0
	fi
	# the same processes as the pipeline faces: every farm child, killed
	want=$(sort -n "$work/pids" | paste -sd ' ')
	victims=$(jq -r '.processes[] | select(.signals | index("KILL")) | .pid' \
		"$work/remove.json" | sort -n | paste -sd ' ')
	if [[ $victims != "$want" ]]; then
		loud "$what: the processes it killed are not the farm's children" \
			"killed: $(wc -w <<<"$victims"), farm: $(wc -w <<<"$want")"
	fi
	if [[ $(jq -r .complete "$work/remove.json") != true ]]; then
		loud "$what: the report says it is not complete"
	fi
	((late == 0)) ||
		loud "$what: the loop device was still attached $((late * 100)) ms after daxguard returned"
	last=$((${e/./} - ${s/./}))
	add_sample daxguard "$last"
	# daxguard's own stages, summed within the round (ms -> us)
	while read -r stage ms; do
		add_sample "dg_$stage" "$((ms * 1000))"
	done < <(jq -r '[.steps[] | {stage, duration_ms}] | group_by(.stage)[] |
			"\(.[0].stage) \(map(.duration_ms) | add)"' "$work/remove.json")
	add_sample dg_steps "$(($(jq '[.steps[] | .start_ms + .duration_ms] | max' \
		"$work/remove.json") * 1000))"
	if $recording; then
		cp "$work/remove.json" "$work/remove.$1.json"
	fi
}

# check_manual_round WHAT FRC URC LRC: after the clock of a pipeline or a
# floor round has stopped: the farm exited with status FRC, umount with
# URC, losetup -d with LRC
check_manual_round()
{
	local what=$1 frc=$2 urc=$3 lrc=$4

	farm_pid=
	disarm_watchdog "$what"
	check_round "$what" "$frc"
	((urc == 0)) || loud "$what: umount failed ($urc)"
	((lrc == 0)) || loud "$what: losetup -d failed ($lrc)"
}

round_pipeline()
{
	local what="pipeline round $1" t0 t1 t2 t3 t4 frc=0 urc=0 lrc=0 killed want

	setup_round
	arm_watchdog
	t0=$EPOCHREALTIME
	fuser -k -m "$mnt" >"$work/fuser.out" 2>/dev/null || true
	t1=$EPOCHREALTIME
	wait "$farm_pid" || frc=$? # the farm exits once every child is reaped
	t2=$EPOCHREALTIME
	umount "$mnt" || urc=$?
	t3=$EPOCHREALTIME
	losetup -d "$loop" || lrc=$?
	t4=$EPOCHREALTIME
	check_manual_round "$what" "$frc" "$urc" "$lrc"
	want=$(sort -n "$work/pids" | paste -sd ' ')
	killed=$(grep -oE '[0-9]+' "$work/fuser.out" | sort -n | paste -sd ' ') || true
	if [[ $killed != "$want" ]]; then
		loud "$what: fuser -k -m killed other processes than the farm's children" \
			"killed: $(wc -w <<<"$killed"), farm: $(wc -w <<<"$want")"
	fi
	last=$((${t4/./} - ${t0/./}))
	add_sample pipeline "$last"
	add_sample p_fuser "$((${t1/./} - ${t0/./}))"
	add_sample p_wait "$((${t2/./} - ${t1/./}))"
	add_sample p_umount "$((${t3/./} - ${t2/./}))"
	add_sample p_losetup "$((${t4/./} - ${t3/./}))"
	add_sample p_late "$((late * 100000))"
}

# The floor, for information: what any method pays once it knows whom to
# kill.  The pids are read before the clock starts, so there is no scan at
# all: bash's kill builtin sends SIGKILL to each (2,000 kill() calls), then
# the same wait, umount and losetup -d as the pipeline.
round_floor()
{
	local what="floor round $1" t0 t1 t2 t3 t4 frc=0 urc=0 lrc=0 pids

	setup_round
	mapfile -t pids <"$work/pids"
	arm_watchdog
	t0=$EPOCHREALTIME
	kill -KILL "${pids[@]}" 2>/dev/null || true
	t1=$EPOCHREALTIME
	wait "$farm_pid" || frc=$?
	t2=$EPOCHREALTIME
	umount "$mnt" || urc=$?
	t3=$EPOCHREALTIME
	losetup -d "$loop" || lrc=$?
	t4=$EPOCHREALTIME
	check_manual_round "$what" "$frc" "$urc" "$lrc"
	last=$((${t4/./} - ${t0/./}))
	add_sample floor "$last"
	add_sample f_kill "$((${t1/./} - ${t0/./}))"
	add_sample f_wait "$((${t2/./} - ${t1/./}))"
	add_sample f_rest "$((${t4/./} - ${t2/./}))"
}

# ------------------------------------------------------------------------
# Timing: rounds alternate, daxguard first

note_load
echo
t=$(now_us)
for ((i = 1; i <= warmup + runs; i++)); do
	recording=false
	((i > warmup)) && recording=true
	last=0
	round_daxguard "$i"
	dg_ms=$((last / 1000)) dg_setup=$setup_s
	last=0
	round_pipeline "$i"
	pipe_ms=$((last / 1000)) pipe_setup=$setup_s
	floor_info=
	if $floor; then
		last=0
		round_floor "$i"
		floor_info=", floor $((last / 1000)) ms"
	fi
	printf '  round %d%s: daxguard %d ms, pipeline %d ms%s (setups %s s, %s s; load %s)\n' \
		"$i" "$($recording || echo ' (warm-up)')" "$dg_ms" "$pipe_ms" "$floor_info" \
		"$dg_setup" "$pipe_setup" "$(cut -d' ' -f1 /proc/loadavg)"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "  $((warmup + runs)) rounds of each: $(seconds_since "$t") s"

# ------------------------------------------------------------------------
# Results

declare -A median
row_width=52
ratio_width=30

echo
echo "MNT = $mnt, DEV = the loop device of the round"
row_head "wall time, ms ($runs rounds)"
row daxguard "daxguard remove --action kill -J DEV"
row pipeline "fuser -k -m MNT; wait; umount MNT; losetup -d DEV"
if $floor; then
	row floor "kill -KILL PIDS; wait; umount; losetup -d (floor)"
fi
echo
echo "  the pipeline, stage by stage:"
row p_fuser "  fuser -k -m MNT"
row p_wait "  wait until every farm process is gone"
row p_umount "  umount MNT"
row p_losetup "  losetup -d DEV"
row p_late "  (after losetup -d: until the device was gone)"
if $floor; then
	echo
	echo "  the floor, stage by stage (info):"
	row f_kill "  kill -KILL of the $procs pids (bash builtin)"
	row f_wait "  wait until every farm process is gone"
	row f_rest "  umount MNT; losetup -d DEV"
fi
echo
echo "  daxguard, from its JSON steps (summed per stage within a round):"
for stage in collect freeze thaw signal wait unmount release; do
	[[ -n ${samples[dg_$stage]:-} ]] && row "dg_$stage" "  $stage"
done
row dg_steps "  first step start to last step end"

ratio=$(median_ratio pipeline daxguard)
if awk -v r="$ratio" 'BEGIN { exit !(r >= 1.15) }'; then
	verdict=PASS
else
	verdict=MISS
fi
echo
printf "  %-30s %8s %10s   %s\n" "ratio" "medians" "paired" "target"
printf "  %-30s %7sx %9sx   >= 1.15x %s\n" "pipeline / daxguard remove" "$ratio" \
	"$(paired pipeline daxguard)" "$verdict"
if $floor; then
	fratio=$(median_ratio daxguard floor)
	if awk -v r="$fratio" 'BEGIN { exit !(r <= 1.10) }'; then
		fverdict=PASS
	else
		fverdict=MISS
		verdict=MISS
	fi
	printf "  %-30s %7sx %9sx   <= 1.10x %s\n" "daxguard / floor" "$fratio" \
		"$(paired daxguard floor)" "$fverdict"
	info_ratio "pipeline / floor" pipeline floor "the best any method could do"
fi
echo
echo "load average before / after timing: $load_before / $load_after"
echo "(ratios come from medians; 'paired' is the median of the per-round ratios)"

missed=false
[[ $verdict == PASS ]] || missed=true
bench_result "$failed" "a round FAILED"
