#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/who.sh: how fast `daxguard who` answers for one 4 KiB page, side by
# side with the tools people use today, in one run on one machine.
#
# Setup (all of it in a mktemp -d directory under /var/tmp, removed on exit):
#   a 4 GiB sparse image, XFS with rmapbt=1, on a loop device, mounted;
#   dg-mkfiles: 200,000 files (mostly 4 KiB, ~1% 1 MiB, 10 fragmented 16 MiB);
#   dg-mapper-farm: 2,000 processes that each map 1 to 3 of them.
# The target is a page in the middle of a fragmented file.  The farm maps it
# in --hit processes, and maps the pages right before and right after it in
# two more, so an answer that is not exact to the page shows up.
#
# Measured, interleaved round by round so that background noise hits all
# of them alike, caches warm:
#   daxguard who LOOPDEV --offset X --length 4096
#   fuser -m MOUNTPOINT
#   lsof FILE
#   cat /proc/[0-9]*/maps            (glob expanded before the clock starts)
#   xfs_io fsmap of the range        (for information: the reverse map only)
# and then the ratios against the targets:
#   fuser -m / daxguard >= 3, lsof FILE / daxguard >= 5, daxguard / cat <= 1.3
#
# --scale measures the same page query along a curve instead (issue 14,
# item 3): for each file count (one filesystem each) and each process count
# (a farm whose processes map 1 to 50 files each), daxguard, fuser -m,
# lsof FILE and dg-readmaps side by side, and daxguard's peak RSS; one
# table at the end, with a verdict per target at every point:
#   fuser -m / daxguard >= 3, lsof FILE / daxguard >= 5,
#   daxguard / dg-readmaps <= 1.3, peak RSS < 256 MiB and growing no faster
#   than processes + mappings.
#
# Usage: bench/who.sh [--files N] [--procs N] [--runs N] [--warmup N] ...
#        bench/who.sh --scale [--scale-files LIST] [--scale-procs LIST] ...
# See --help, and doc/benchmarks.md.

set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
DG_FARM=${DG_FARM:-$BUILD/bench/dg-mapper-farm}
DG_READMAPS=${DG_READMAPS:-$BUILD/bench/dg-readmaps}

files=200000
procs=2000
runs=15
warmup=5
hit=3
farm_maps=1-3
seed=1
image_size=4G
baselines_only=false
strict=false
hold=false
scale=false
scale_files=10000,100000,1000000
scale_procs=1000,5000,10000
scale_maps=1-50
scale_runs=5
scale_warmup=1
scale_lsof_runs=3
rss_limit_mib=256

prog=who.sh

usage()
{
	cat <<EOF
Usage: $0 [options]

Benchmark 'daxguard who' for one 4 KiB page against fuser -m, lsof FILE and
reading every /proc/PID/maps.  Needs root; takes about a minute to set up at
full scale.

Options:
  --files N       files on the test filesystem (default $files)
  --procs N       processes mapping them (default $procs)
  --runs N        measured runs of each command (default $runs)
  --warmup N      warm-up runs of each command, not counted (default $warmup)
  --hit N         processes that map the queried page (default $hit)
  --maps MIN-MAX  files each process maps, the target among them (default $farm_maps)
  --seed N        seed of the file set and of the farm (default $seed)
  --baselines     measure the other tools only (no daxguard needed)
  --strict        exit 1 when a target is missed, not only on a wrong answer
  --hold          after measuring, keep the setup until Ctrl-C (to profile)
  -h, --help      show this help

Scale curve (issue 14, item 3):
  --scale               measure every file count x process count below
                        instead of one point; --files, --procs, --maps,
                        --runs and --warmup do not apply, and --baselines
                        and --hold are refused
  --scale-files LIST    file counts, one filesystem each (default $scale_files)
  --scale-procs LIST    process counts, one farm each (default $scale_procs)
  --scale-maps MIN-MAX  files each farm process maps (default $scale_maps)
  --scale-runs N        measured rounds per point (default $scale_runs)
  --scale-warmup N      warm-up rounds per point (default $scale_warmup)
  --scale-lsof-runs N   lsof runs in only the first N measured rounds at
                        points of 5,000 processes or more, where one run
                        takes seconds (default $scale_lsof_runs)

Environment:
  BUILD           meson build directory (default: <repo>/build)
  DAXGUARD        daxguard binary (default: \$BUILD/daxguard/daxguard)
  DG_MKFILES      file set generator (default: \$BUILD/bench/dg-mkfiles)
  DG_FARM         process farm (default: \$BUILD/bench/dg-mapper-farm)
  DG_READMAPS     raw maps reader (default: \$BUILD/bench/dg-readmaps)

A quick smoke run: $0 --files 2000 --procs 50 --runs 5 --warmup 1
A scale smoke run: $0 --scale --scale-files 2000,5000 --scale-procs 50,100 --scale-maps 1-10
The full curve takes about 8 minutes here, 10,000-process farms and 1M files included.
EOF
}

# set_list OPTION VALUE: a comma-separated list of whole numbers
# shellcheck disable=SC2317  # called through parse_options
set_list()
{
	[[ $2 =~ ^[0-9]+(,[0-9]+)*$ ]] || die "$1: '$2' is not a comma-separated list of numbers"
	case $1 in
	--scale-files) scale_files=$2 ;;
	--scale-procs) scale_procs=$2 ;;
	esac
}

# set_maps OPTION VALUE: MIN-MAX, 1 <= MIN <= MAX, for --maps or --scale-maps
# shellcheck disable=SC2317  # called through parse_options
set_maps()
{
	if ! [[ $2 =~ ^([0-9]+)-([0-9]+)$ ]] ||
		((BASH_REMATCH[1] < 1 || BASH_REMATCH[1] > BASH_REMATCH[2])); then
		die "$1: '$2' is not MIN-MAX with 1 <= MIN <= MAX"
	fi
	if [[ $1 == --maps ]]; then
		farm_maps=$2
	else
		scale_maps=$2
	fi
}

number_options=([--files]=files [--procs]=procs [--runs]=runs [--warmup]=warmup
	[--hit]=hit [--seed]=seed [--scale-runs]=scale_runs [--scale-warmup]=scale_warmup
	[--scale-lsof-runs]=scale_lsof_runs)
value_options=([--maps]=set_maps [--scale-files]=set_list [--scale-procs]=set_list
	[--scale-maps]=set_maps)
flag_options=([--baselines]=baselines_only=true [--strict]=strict=true [--hold]=hold=true
	[--scale]=scale=true)
parse_options "$@"
if $scale; then
	IFS=, read -ra scale_file_list <<<"$scale_files"
	IFS=, read -ra scale_proc_list <<<"$scale_procs"
	for n in "${scale_file_list[@]}"; do
		((n >= 20 + ${scale_maps#*-})) ||
			die "--scale-files: $n files are too few for --scale-maps $scale_maps"
	done
	for n in "${scale_proc_list[@]}"; do
		((n >= hit + 2)) || die "--scale-procs: $n: need at least --hit + 2 ($((hit + 2)))"
	done
	((scale_runs >= 1)) || die "--scale-runs must be at least 1"
	((scale_lsof_runs >= 1)) || die "--scale-lsof-runs must be at least 1"
	if $baselines_only || $hold; then
		die "--baselines and --hold do not go with --scale"
	fi
else
	((files >= 20 + ${farm_maps#*-})) || die "--files $files: too few for --maps $farm_maps"
	((procs >= hit + 2)) || die "--procs $procs: need at least --hit + 2 ($((hit + 2)))"
	((runs >= 1)) || die "--runs must be at least 1"
fi

(($(id -u) == 0)) || die "needs root (loop devices, mounts, other processes' maps)"

# ------------------------------------------------------------------------
# Tools

need_tool mkfs.xfs xfsprogs
need_tool xfs_io xfsprogs
need_tool losetup mount
need_tool mountpoint util-linux
need_tool fuser psmisc
need_tool lsof lsof
need_tool jq jq

[[ -x $DG_MKFILES && -x $DG_FARM && -x $DG_READMAPS ]] ||
	die "$DG_MKFILES, $DG_FARM or $DG_READMAPS is missing: build first (meson setup build && ninja -C build), or set BUILD"
if ! $baselines_only; then
	[[ -x $DAXGUARD ]] ||
		die "$DAXGUARD is missing: build it, set DAXGUARD, or run with --baselines"
fi

# ------------------------------------------------------------------------
# Setup and cleanup.  Everything lives under $work; nothing else is touched.

work=
mnt=
img=
loop=
farm_pid=
bg_pid=
pid_max_saved=

# restore_pid_max: kernel.pid_max back to what it was, if --scale raised it
# shellcheck disable=SC2317  # called through the EXIT trap
restore_pid_max()
{
	[[ -n $pid_max_saved ]] || return 0
	echo "$pid_max_saved" >/proc/sys/kernel/pid_max ||
		echo "$prog: cannot restore kernel.pid_max to $pid_max_saved" >&2
	pid_max_saved=
}

# shellcheck disable=SC2317  # called through the EXIT trap
cleanup()
{
	stop_child "$bg_pid"
	stop_farm
	cleanup_fs
	restore_pid_max
}
bench_traps

work=$(mktemp -d /var/tmp/dg-bench-who.XXXXXX)
mnt=$work/mnt
img=$work/xfs.img
mkdir "$mnt"

# make_fs FILES SIZE [DG-MKFILES OPTION...]: a SIZE sparse image, XFS with
# rmapbt=1 on a loop device ($loop), mounted on $mnt, FILES files created
# in it by dg-mkfiles ($work/manifest), synced
make_fs()
{
	local nfiles=$1 size=$2 t extents
	shift 2

	t=$(now_us)
	truncate -s "$size" "$img"
	mkfs.xfs -q -f -m rmapbt=1 "$img"
	loop=$(losetup --find --show "$img")
	mount -t xfs "$loop" "$mnt"
	echo "  $size image, mkfs.xfs -m rmapbt=1, mount on $loop: $(seconds_since "$t") s"

	t=$(now_us)
	run_bg "$DG_MKFILES" --quiet --files "$nfiles" --seed "$seed" "$@" \
		--manifest "$work/manifest" "$mnt/files"
	echo "  $nfiles files (dg-mkfiles${*:+ $*}): $(seconds_since "$t") s"

	t=$(now_us)
	run_bg sync -f "$mnt"
	echo "  sync: $(seconds_since "$t") s"
	extents=$(xfs_io -r -c 'fsmap -d' "$mnt" | grep -c ' inode ') || true
	echo "  $(df -h --output=used "$mnt" | tail -1 | tr -d ' ') used, $extents file extents"
}

# drop_fs: undo make_fs (and stop the farm), for the next file count
drop_fs()
{
	stop_farm
	umount_retry "$mnt" || die "cannot unmount $mnt"
	detach_ours "$loop" "$img"
	loop=
	rm -f -- "$img" "$work/manifest"
}

# find_target: the target, a page in the middle of a fragmented file, and
# where it is on the device (fiemap prints 512-byte units), checked
# against fsmap; sets target, target_off, target_ino, dev_off, dev_sect and
# dg_cmd
find_target()
{
	local fsmap_owner

	target=$mnt/files/large/L03
	target_off=$(($(stat -c %s "$target") / 2 / 4096 * 4096))
	target_ino=$(stat -c %i "$target")
	# (awk reads to the end: exiting early would SIGPIPE the writer)
	dev_off=$(xfs_io -r -c 'fiemap -v' "$target" | awk -v s=$((target_off / 512)) '
		NR > 2 && $3 != "hole" && !done {
			split($2, f, /[][.:]+/)
			if (s >= f[2] && s <= f[3]) {
				split($3, d, /\.\./)
				printf "%.0f\n", (d[1] + s - f[2]) * 512
				done = 1
			}
		}')
	[[ -n $dev_off ]] || die "$target: no extent at offset $target_off (fiemap)"
	((dev_off % 4096 == 0)) || die "$target: device offset $dev_off is not page aligned"
	dev_sect=$((dev_off / 512))
	fsmap_owner=$(xfs_io -r -c "fsmap -d $dev_sect $((dev_sect + 7))" "$mnt" |
		awk '$4 == "inode" && !done { print $5; done = 1 }')
	[[ $fsmap_owner == "$target_ino" ]] ||
		die "fsmap of sectors $dev_sect+8 names inode '$fsmap_owner', fiemap says $target_ino"
	dg_cmd=("$DAXGUARD" who "$loop" --offset "$dev_off" --length 4096)
}

# start_farm PROCS [DG-MAPPER-FARM OPTION...]: PROCS processes mapping
# files of the set, --hit of them the target page; returns once all are
# ready
start_farm()
{
	local n=$1
	shift

	"$DG_FARM" --manifest "$work/manifest" --target "$target" \
		--target-offset "$target_off" --procs "$n" --hit "$hit" --miss 2 \
		--seed "$seed" "$@" --pids "$work/pids" --record "$work/record" \
		--hits "$work/hits" --ready "$work/ready" 2>"$work/farm.log" &
	farm_pid=$!
	wait_farm_ready
}

# ------------------------------------------------------------------------
# Correctness: daxguard must name the target file at that offset and
# exactly the farm's processes that map that page.

wrong=false

loud()
{
	shout "daxguard who gave a WRONG ANSWER" "$@"
	wrong=true
}

# check_answer: one run of daxguard who -J, checked against the farm's
# record; says OK or sets $wrong
check_answer()
{
	local want got others owner was_wrong=$wrong

	wrong=false
	if ! "${dg_cmd[@]}" -J >"$work/who.json" 2>"$work/who.err"; then
		loud "'${dg_cmd[*]} -J' failed:" "$(head -5 "$work/who.err")"
	elif ! jq -e 'type == "object"' "$work/who.json" >/dev/null 2>&1 ||
		[[ ! -s "$work/who.json" ]]; then
		loud "'${dg_cmd[*]} -J' printed no valid JSON:" "$(head -c 300 "$work/who.json")"
	else
		want=$(sort -n "$work/hits" | paste -sd ' ')
		got=$(jq -r '[.users[]? | select(.use == "map") | .pid] | unique | .[]' \
			"$work/who.json" | sort -n | paste -sd ' ')
		others=$(jq -r '[.users[]? | select(.use != "map")] | length' "$work/who.json")
		owner=$(jq -r --argjson ino "$target_ino" \
			'[.owners[]? | select(.type == "file" and .inode == $ino)][0] |
			 if . == null then "" else "\(.file_offset) \(.path // "")" end' \
			"$work/who.json")
		if [[ $got != "$want" ]]; then
			loud "users that map the page: daxguard says [$got]" \
				"the farm's record says        [$want]" \
				"the farm's mappings of the target (pid, role, path:offset:length):" \
				"$(grep -F "$target:" "$work/record")"
		fi
		if ((others > 0)); then
			loud "$others users that are not mappings, for a range query"
		fi
		if [[ -z $owner ]]; then
			loud "no owner of type file with inode $target_ino" \
				"$(jq -c '.owners' "$work/who.json" | head -c 300)"
		elif [[ ${owner%% *} != "$target_off" ]]; then
			loud "owner inode $target_ino at file offset ${owner%% *}, expected $target_off"
		elif [[ -n ${owner#* } && ${owner#* } != "$target" ]]; then
			loud "owner path '${owner#* }', expected '$target'"
		fi
		if ! $wrong; then
			echo "correctness: OK (owner inode $target_ino at $target_off;" \
				"users = the farm's $(wc -l <"$work/hits") pids)"
		fi
	fi
	if $was_wrong; then
		wrong=true
	fi
}

# ------------------------------------------------------------------------
# Timing

declare -A samples median

# time_one NAME CMD...: time_cmd, and keep the exit status of every timed
# daxguard run that failed
status_bad=()
time_one()
{
	time_cmd "$@"
	if $recording && [[ $1 == daxguard ]] && ((time_rc != 0)); then
		status_bad+=("$time_rc")
	fi
}

maps=()
# shellcheck disable=SC2317  # called through time_one
cat_maps()
{
	cat "${maps[@]}"
}

# round: one of each command; in the scale mode lsof runs only in the
# first $lsof_runs measured rounds, and in warm-up rounds if $lsof_warm
lsof_runs=0
lsof_done=0
lsof_warm=true
round()
{
	if $scale; then
		time_one daxguard "${dg_cmd[@]}"
		time_one fuser fuser -m "$mnt"
		if { $recording && ((lsof_done < lsof_runs)); } || { ! $recording && $lsof_warm; }; then
			time_one lsof lsof "$target"
			if $recording; then
				lsof_done=$((lsof_done + 1))
			fi
		fi
		time_one raw "$DG_READMAPS"
		return
	fi
	if ! $baselines_only; then
		time_one daxguard "${dg_cmd[@]}"
	fi
	time_one fuser fuser -m "$mnt"
	time_one lsof lsof "$target"
	maps=(/proc/[0-9]*/maps)
	time_one cat cat_maps
	time_one raw "$DG_READMAPS"
	time_one fsmap "${fsmap_cmd[@]}"
}

missed=false

# ------------------------------------------------------------------------
# The scale curve

# check_machine: can the machine hold the largest farm?  Per-process
# limits are raised for this script's own processes only; kernel.pid_max,
# the one global setting a farm may need more of, is raised for the run
# and restored on exit.
check_machine()
{
	local most=0 running need pid_max threads_max map_max hard n

	for n in "${scale_proc_list[@]}"; do
		((n > most)) && most=$n
	done
	running=$(nr_processes)
	# the farm's parent, the tools measured, and room for the others' work
	need=$((most + running + 2000))
	pid_max=$(</proc/sys/kernel/pid_max)
	threads_max=$(</proc/sys/kernel/threads-max)
	map_max=$(</proc/sys/vm/max_map_count)
	echo "limits: pid_max $pid_max, threads-max $threads_max, max_map_count $map_max," \
		"ulimit -u $(ulimit -u), ulimit -n $(ulimit -n); $running processes running;" \
		"$(awk '/MemAvailable/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) available"
	if ((pid_max < need)); then
		pid_max_saved=$pid_max
		echo "$need" >/proc/sys/kernel/pid_max ||
			die "kernel.pid_max is $pid_max, $need needed, and it cannot be raised"
		echo "  raised kernel.pid_max to $need for this run (restored on exit)"
	fi
	((threads_max >= need)) || die "kernel.threads-max is $threads_max, $need needed"
	((map_max >= ${scale_maps#*-} + 1000)) ||
		die "vm.max_map_count is $map_max: too few for --scale-maps $scale_maps"
	# root is not held by RLIMIT_NPROC, but a soft limit costs nothing to lift
	hard=$(ulimit -Hu)
	if [[ $(ulimit -Su) != unlimited ]] && { [[ $hard == unlimited ]] || ((hard > $(ulimit -Su))); }; then
		ulimit -Su "$hard"
	fi
	[[ $(ulimit -Su) == unlimited ]] || (($(ulimit -Su) >= need)) || (($(id -u) == 0)) ||
		die "ulimit -u is $(ulimit -Su), $need processes needed"
	ulimit -Sn "$(ulimit -Hn)"
}

# peak_rss: daxguard's peak RSS in KiB, the most of 3 runs (not timed)
peak_rss()
{
	local i kib most=0

	for i in 1 2 3; do
		/usr/bin/time -f %M -o "$work/rss" "${dg_cmd[@]}" >/dev/null 2>&1 || true
		kib=$(tail -1 "$work/rss")
		[[ $kib =~ ^[0-9]+$ ]] || die "/usr/bin/time gave no peak RSS: $(cat "$work/rss")"
		((kib > most)) && most=$kib
	done
	echo "$most"
}

# point_median NAME: NAME's median into median[NAME], "-" when not run
point_median()
{
	local m

	read -r m _ _ < <(stats "$1")
	median[$1]=$m
}

# verdict LABEL RATIO OP GOAL: LABEL when RATIO misses the goal
verdict()
{
	awk -v r="$2" -v g="$4" -v op="$3" \
		'BEGIN { exit !(op == ">=" ? r >= g : r <= g) }' || echo "$1"
}

rows=()

# scale_point FILES PROCS: one farm, its correctness check, the timing
# rounds and the peak RSS; adds a line to $rows
scale_point()
{
	local nfiles=$1 n=$2 t nmaps mem_before mem_farm load rss r_fuser r_lsof r_floor nproc_all

	mem_before=$(awk '/MemAvailable/ { print $2 }' /proc/meminfo)
	t=$(now_us)
	start_farm "$n" --maps "$scale_maps"
	nmaps=$(awk -F'\t' '{ m += NF - 2 } END { print m }' "$work/record")
	mem_farm=$(awk -v b="$mem_before" '/MemAvailable/ { printf "%.0f", (b - $2) / 1024 }' /proc/meminfo)
	echo
	echo "== $nfiles files, $n processes mapping $scale_maps files each" \
		"($nmaps mappings): farm ready in $(seconds_since "$t") s, about $mem_farm MiB"
	check_answer

	samples=()
	median=()
	status_bad=()
	lsof_done=0
	if ((n >= 5000)); then
		lsof_runs=$((scale_lsof_runs < scale_runs ? scale_lsof_runs : scale_runs))
		lsof_warm=false
	else
		lsof_runs=$scale_runs
		lsof_warm=true
	fi
	load=$(cut -d' ' -f1 /proc/loadavg)
	runs=$scale_runs
	warmup=$scale_warmup
	t=$(now_us)
	run_rounds
	if ((${#status_bad[@]})); then
		loud "daxguard exited with status ${status_bad[0]} in ${#status_bad[@]} of $runs timed runs"
	fi
	rss=$(peak_rss)
	nproc_all=$(nr_processes)
	stop_farm

	for name in daxguard fuser lsof raw; do
		point_median "$name"
	done
	r_fuser=$(median_ratio fuser daxguard)
	r_lsof=$(median_ratio lsof daxguard)
	r_floor=$(median_ratio daxguard raw)
	echo "  $runs rounds after $warmup warm-up (lsof in $lsof_runs), load $load," \
		"$(seconds_since "$t") s; $nproc_all processes on the machine"
	echo "  median ms: daxguard ${median[daxguard]}, fuser -m ${median[fuser]}," \
		"lsof ${median[lsof]}, dg-readmaps ${median[raw]}; peak RSS $rss KiB"
	echo "  ratios (paired): fuser/who $r_fuser ($(paired fuser daxguard))," \
		"lsof/who $r_lsof ($(paired lsof daxguard)), who/floor $r_floor ($(paired daxguard raw))"
	rows+=("$nfiles $n $nmaps $load ${median[daxguard]} ${median[fuser]} ${median[lsof]} $lsof_runs ${median[raw]} $r_fuser $r_lsof $r_floor $rss")
}

# scale_table: the table of every point, and a verdict per target.  Peak
# RSS must stay under $rss_limit_mib and grow no faster than processes +
# mappings: at every point RSS / (procs + maps) is at most 1.1 times its
# value at the smallest point (a constant base only lowers it; the 10% is
# for the noise of points of about the same size).
scale_table()
{
	local row f p m load dg fu ls lsn raw rf rl rw rss miss base_pm=0 base_rss=0 pm
	local -A misses=()

	for row in "${rows[@]}"; do
		read -r f p m load dg fu ls lsn raw rf rl rw rss <<<"$row"
		pm=$((p + m))
		if ((base_pm == 0 || pm < base_pm)); then
			base_pm=$pm
			base_rss=$rss
		fi
	done
	echo
	echo "Scale curve: daxguard who, one 4 KiB page; medians in ms; lsof's run count in ()"
	printf "%8s %6s %7s %5s %8s %8s %12s %8s %6s %6s %6s %6s  %s\n" files procs maps load \
		daxguard fuser "lsof (n)" floor fu/who ls/who who/fl "RSS" verdict
	for row in "${rows[@]}"; do
		read -r f p m load dg fu ls lsn raw rf rl rw rss <<<"$row"
		pm=$((p + m))
		miss=$(
			verdict fuser "$rf" ">=" 3
			verdict lsof "$rl" ">=" 5
			verdict floor "$rw" "<=" 1.3
			verdict rss "$rss" "<=" $((rss_limit_mib * 1024))
			verdict rss-growth "$(awk -v r="$rss" -v pm="$pm" 'BEGIN { printf "%.6f", r / pm }')" \
				"<=" "$(awk -v r="$base_rss" -v pm="$base_pm" 'BEGIN { printf "%.6f", 1.1 * r / pm }')"
		)
		if [[ -n $miss ]]; then
			missed=true
			for name in $miss; do
				misses[$name]=$((${misses[$name]:-0} + 1))
			done
			miss="MISS: $(paste -sd, <<<"$miss")"
		else
			miss=PASS
		fi
		printf "%8s %6s %7s %5s %8s %8s %12s %8s %6s %6s %6s %6s  %s\n" "$f" "$p" "$m" "$load" \
			"$dg" "$fu" "$ls ($lsn)" "$raw" "$rf" "$rl" "$rw" \
			"$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" "$miss"
	done
	echo
	echo "targets at every point: fu/who = fuser -m / daxguard >= 3;" \
		"ls/who = lsof FILE / daxguard >= 5;"
	echo "  who/fl = daxguard / dg-readmaps (the raw /proc maps floor) <= 1.3;" \
		"RSS (peak, MiB) < $rss_limit_mib, and RSS / (procs + maps) <= 1.1x its value at the smallest point"
	for name in fuser lsof floor rss rss-growth; do
		echo "  $name: ${misses[$name]:-0} of ${#rows[@]} points missed"
	done
}

scale_main()
{
	local nfiles n size_g t_all

	need_tool /usr/bin/time time
	check_machine
	t_all=$(now_us)
	for nfiles in "${scale_file_list[@]}"; do
		# 4 KiB files (no 1 MiB ones: only the count changes), inodes
		# and the 160 MiB of large files, with room to spare
		size_g=$((nfiles * 8 / 1048576 + 2))
		((size_g >= 4)) || size_g=4
		echo
		echo "=== $nfiles files: setting up in $work"
		make_fs "$nfiles" "${size_g}G" --big-every 0
		find_target
		echo "  target: $target (inode $target_ino), file offset $target_off" \
			"= $loop offset $dev_off"
		echo "  daxguard's peak RSS with no farm: $(peak_rss) KiB"
		for n in "${scale_proc_list[@]}"; do
			scale_point "$nfiles" "$n"
		done
		drop_fs
	done
	scale_table
	echo
	echo "whole curve: $(seconds_since "$t_all") s; load average now $(cut -d' ' -f1-3 /proc/loadavg)"
}

if $scale; then
	echo "daxguard who scale curve: files $scale_files, processes $scale_procs," \
		"$scale_maps mappings each; $scale_runs runs after $scale_warmup warm-up per point"
	echo "machine: $(machine);" \
		"$(fuser -V 2>&1 | awk 'NR == 1'); lsof $(lsof -v 2>&1 | awk '$1 == "revision:" { print $2 }')"
	print_daxguard
	echo "date: $(date -u '+%F %T UTC'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
	scale_main
	who_finish
fi

# ------------------------------------------------------------------------
# One point

echo "daxguard who benchmark: $files files, $procs processes, $runs runs" \
	"after $warmup warm-up runs"
echo "machine: $(machine);" \
	"$(fuser -V 2>&1 | awk 'NR == 1'); lsof $(lsof -v 2>&1 | awk '$1 == "revision:" { print $2 }')"
echo "setting up in $work (takes about a minute at full scale) ..."

t_setup=$(now_us)
make_fs "$files" "$image_size"
find_target

t=$(now_us)
start_farm "$procs" --maps "$farm_maps"
echo "  $procs processes mapping $farm_maps files each (dg-mapper-farm): $(seconds_since "$t") s"
echo "setup: $(seconds_since "$t_setup") s"
echo
echo "target: $target (inode $target_ino), file offset $target_off"
echo "        = $loop offset $dev_off (sector $dev_sect), mapped by pids" \
	"$(paste -sd ' ' "$work/hits")"

if ! $baselines_only; then
	check_answer
fi

fsmap_cmd=(xfs_io -r -c "fsmap -d $dev_sect $((dev_sect + 7))" "$mnt")

note_load
run_rounds

if ((${#status_bad[@]})); then
	loud "daxguard exited with status ${status_bad[0]} in ${#status_bad[@]} of $runs timed runs"
fi

row_width=58
ratio_width=26

echo
echo "MNT = $mnt"
row_head "command (wall time, ms)"
if ! $baselines_only; then
	row daxguard "daxguard who $loop --offset $dev_off --length 4096"
fi
row fuser "fuser -m MNT"
row lsof "lsof MNT/${target#"$mnt"/}"
row cat "cat /proc/[0-9]*/maps  (${#maps[@]} files)"
row raw "dg-readmaps: every maps file, in C (info)"
row fsmap "xfs_io fsmap of the page (reverse map only; info)"

if ! $baselines_only; then
	echo
	printf "  %-26s %8s %10s   %-11s %s\n" "ratio" "medians" "paired" "target" ""
	ratio "fuser -m / daxguard who" fuser daxguard ">=" 3
	ratio "lsof FILE / daxguard who" lsof daxguard ">=" 5
	ratio "daxguard who / cat maps" daxguard cat "<=" 1.3
	info_ratio "daxguard who / dg-readmaps" daxguard raw "the floor of a process scan"
fi
echo
echo "load average before / after timing: $load_before / $(cut -d' ' -f1-3 /proc/loadavg)"
echo "(ratios come from medians; 'paired' is the median of the per-round ratios)"

who_finish
