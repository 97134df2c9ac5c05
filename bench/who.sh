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
# Usage: bench/who.sh [--files N] [--procs N] [--runs N] [--warmup N] ...
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
seed=1
image_size=4G
baselines_only=false
strict=false
hold=false

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
  --seed N        seed of the file set and of the farm (default $seed)
  --baselines     measure the other tools only (no daxguard needed)
  --strict        exit 1 when a target is missed, not only on a wrong answer
  --hold          after measuring, keep the setup until Ctrl-C (to profile)
  -h, --help      show this help

Environment:
  BUILD           meson build directory (default: <repo>/build)
  DAXGUARD        daxguard binary (default: \$BUILD/daxguard/daxguard)
  DG_MKFILES      file set generator (default: \$BUILD/bench/dg-mkfiles)
  DG_FARM         process farm (default: \$BUILD/bench/dg-mapper-farm)
  DG_READMAPS     raw maps reader (default: \$BUILD/bench/dg-readmaps)

A quick smoke run: $0 --files 2000 --procs 50 --runs 5 --warmup 1
EOF
}

number_options=([--files]=files [--procs]=procs [--runs]=runs [--warmup]=warmup
	[--hit]=hit [--seed]=seed)
flag_options=([--baselines]=baselines_only=true [--strict]=strict=true [--hold]=hold=true)
parse_options "$@"
((files >= 20)) || die "--files $files: need at least 20 files"
((procs >= hit + 2)) || die "--procs $procs: need at least --hit + 2 ($((hit + 2)))"
((runs >= 1)) || die "--runs must be at least 1"

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

# shellcheck disable=SC2317  # called through the EXIT trap
cleanup()
{
	stop_child "$bg_pid"
	stop_farm
	cleanup_fs
}
bench_traps

work=$(mktemp -d /var/tmp/dg-bench-who.XXXXXX)
mnt=$work/mnt
img=$work/xfs.img
mkdir "$mnt"

echo "daxguard who benchmark: $files files, $procs processes, $runs runs" \
	"after $warmup warm-up runs"
echo "machine: $(machine);" \
	"$(fuser -V 2>&1 | awk 'NR == 1'); lsof $(lsof -v 2>&1 | awk '$1 == "revision:" { print $2 }')"
echo "setting up in $work (takes about a minute at full scale) ..."

t_setup=$(now_us)

t=$(now_us)
truncate -s "$image_size" "$img"
mkfs.xfs -q -f -m rmapbt=1 "$img"
loop=$(losetup --find --show "$img")
mount -t xfs "$loop" "$mnt"
echo "  image, mkfs.xfs -m rmapbt=1, mount on $loop: $(seconds_since "$t") s"

t=$(now_us)
run_bg "$DG_MKFILES" --quiet --files "$files" --seed "$seed" \
	--manifest "$work/manifest" "$mnt/files"
echo "  $files files (dg-mkfiles): $(seconds_since "$t") s"

t=$(now_us)
run_bg sync -f "$mnt"
echo "  sync: $(seconds_since "$t") s"
extents=$(xfs_io -r -c 'fsmap -d' "$mnt" | grep -c ' inode ') || true
echo "  $(df -h --output=used "$mnt" | tail -1 | tr -d ' ') used, $extents file extents"

# The target: a page in the middle of a fragmented file, and where it is on
# the device (fiemap prints 512-byte units).
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

t=$(now_us)
"$DG_FARM" --manifest "$work/manifest" --target "$target" \
	--target-offset "$target_off" --procs "$procs" --hit "$hit" --miss 2 \
	--seed "$seed" --pids "$work/pids" --record "$work/record" \
	--hits "$work/hits" --ready "$work/ready" 2>"$work/farm.log" &
farm_pid=$!
wait_farm_ready
echo "  $procs mapping processes (dg-mapper-farm): $(seconds_since "$t") s"
echo "setup: $(seconds_since "$t_setup") s"
echo
echo "target: $target (inode $target_ino), file offset $target_off"
echo "        = $loop offset $dev_off (sector $dev_sect), mapped by pids" \
	"$(paste -sd ' ' "$work/hits")"

# ------------------------------------------------------------------------
# Correctness, once: daxguard must name the target file at that offset and
# exactly the farm's processes that map that page.

wrong=false

loud()
{
	shout "daxguard who gave a WRONG ANSWER" "$@"
	wrong=true
}

dg_cmd=("$DAXGUARD" who "$loop" --offset "$dev_off" --length 4096)

if ! $baselines_only; then
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
fi

# ------------------------------------------------------------------------
# Timing

declare -A samples

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

fsmap_cmd=(xfs_io -r -c "fsmap -d $dev_sect $((dev_sect + 7))" "$mnt")

round()
{
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

note_load
run_rounds

if ((${#status_bad[@]})); then
	loud "daxguard exited with status ${status_bad[0]} in ${#status_bad[@]} of $runs timed runs"
fi

declare -A median
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

missed=false

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
