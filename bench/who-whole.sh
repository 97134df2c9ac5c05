#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/who-whole.sh: how fast `daxguard who MNT` gives the whole-device
# answer (every process that uses any file of the filesystem, and the
# files) on a filesystem with many files and few users, side by side with
# fuser -m and lsof of the mountpoint.  The answer must cost in proportion
# to the users, not to the filesystem (issue 14, item 4).
#
# Setup (all of it in a mktemp -d directory under /var/tmp, removed on exit):
#   a sparse image, ext4 (default) or XFS with rmapbt=1, on a loop device,
#   mounted;
#   dg-mkfiles: 1,000,000 files of 4 KiB (1,000 per directory), plus one
#   1 MiB fragmented file the farm needs as its target;
#   dg-mapper-farm: 100 processes that each map 1 to 3 of them.
#
# Measured, interleaved round by round, caches warm:
#   daxguard who MNT -J              (the whole-device answer)
#   fuser -m MNT
#   lsof MNT
#   daxguard who MNT --no-paths -J   (for information: no file names)
# and then the ratios against the targets:
#   daxguard who / fuser -m <= 2, lsof MNT / daxguard who >= 2
#
# Usage: bench/who-whole.sh [--fs ext4|xfs] [--files N] [--procs N] ...
# See --help, and doc/benchmarks.md.

set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
DG_FARM=${DG_FARM:-$BUILD/bench/dg-mapper-farm}

fs=ext4
files=1000000
procs=100
runs=5
warmup=1
seed=1
compare=
cold=false
strict=false
hold=false

prog=who-whole.sh

usage()
{
	cat <<EOF
Usage: $0 [options]

Benchmark the whole-device 'daxguard who MNT' (every user of a filesystem,
and its files) against fuser -m MNT and lsof MNT, on a filesystem with many
files and few users.  Needs root; at full scale, creating the files takes
minutes.

Options:
  --fs TYPE       ext4 or xfs (XFS with rmapbt=1) (default $fs)
  --files N       files on the test filesystem (default $files)
  --procs N       processes mapping them (default $procs)
  --runs N        measured runs of each command (default $runs)
  --warmup N      warm-up runs of each command, not counted (default $warmup)
  --seed N        seed of the file set and of the farm (default $seed)
  --compare BIN   also time BIN who MNT -J in every round (another
                  daxguard, e.g. a build from before a change), and check
                  its answer too
  --cold          also time each command after dropping the page, dentry
                  and inode caches (echo 3 > /proc/sys/vm/drop_caches:
                  this slows the whole machine down for a while)
  --strict        exit 1 when a target is missed, not only on a wrong answer
  --hold          after measuring, keep the setup until Ctrl-C (to profile)
  -h, --help      show this help

Environment:
  BUILD           meson build directory (default: <repo>/build)
  DAXGUARD        daxguard binary (default: \$BUILD/daxguard/daxguard)
  DG_MKFILES      file set generator (default: \$BUILD/bench/dg-mkfiles)
  DG_FARM         process farm (default: \$BUILD/bench/dg-mapper-farm)

A quick smoke run: $0 --files 5000 --procs 20 --runs 3 --warmup 1
EOF
}

# shellcheck disable=SC2317  # called through parse_options
set_fs()
{
	[[ $2 == ext4 || $2 == xfs ]] || die "$1: '$2' is neither ext4 nor xfs"
	fs=$2
}

# shellcheck disable=SC2317  # called through parse_options
set_compare()
{
	[[ -x $2 ]] || die "$1: '$2' is not an executable"
	compare=$2
}

number_options=([--files]=files [--procs]=procs [--runs]=runs [--warmup]=warmup
	[--seed]=seed)
value_options=([--fs]=set_fs [--compare]=set_compare)
flag_options=([--cold]=cold=true [--strict]=strict=true [--hold]=hold=true)
parse_options "$@"
((files >= 10)) || die "--files $files: need at least 10 files"
# the farm puts 3 processes on its target's page and 2 next to it
((procs >= 5)) || die "--procs $procs: need at least 5"
((runs >= 1)) || die "--runs must be at least 1"

(($(id -u) == 0)) || die "needs root (loop devices, mounts, other processes' /proc)"

# ------------------------------------------------------------------------
# Tools

if [[ $fs == xfs ]]; then
	need_tool mkfs.xfs xfsprogs
else
	need_tool mkfs.ext4 e2fsprogs
fi
need_tool losetup mount
need_tool mountpoint util-linux
need_tool fuser psmisc
need_tool lsof lsof
need_tool jq jq

[[ -x $DG_MKFILES && -x $DG_FARM ]] ||
	die "$DG_MKFILES or $DG_FARM is missing: build first (meson setup build && ninja -C build), or set BUILD"
[[ -x $DAXGUARD ]] || die "$DAXGUARD is missing: build it, or set DAXGUARD"

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

work=$(mktemp -d /var/tmp/dg-bench-who-whole.XXXXXX)
mnt=$work/mnt
img=$work/$fs.img
mkdir "$mnt"

# 4 KiB a file, a third more for metadata, and a GiB to spare
image_gib=$((files * 4096 * 4 / 3 / (1 << 30) + 1))

echo "daxguard whole-device who benchmark: $fs, $files files, $procs processes," \
	"$runs runs after $warmup warm-up runs"
echo "machine: $(machine);" \
	"$(fuser -V 2>&1 | awk 'NR == 1'); lsof $(lsof -v 2>&1 | awk '$1 == "revision:" { print $2 }')"
print_daxguard
if [[ -n $compare ]]; then
	DAXGUARD=$compare print_daxguard | sed 's/^daxguard:/compared with:/'
fi
echo "setting up in $work ..."

t_setup=$(now_us)

t=$(now_us)
truncate -s "${image_gib}G" "$img"
if [[ $fs == xfs ]]; then
	mkfs.xfs -q -f -m rmapbt=1 "$img"
else
	# Room for every inode; and the inode tables and journal written now,
	# so that no lazy init thread writes behind the timing.
	mkfs.ext4 -q -F -N $((files + files / 10 + 10000)) \
		-E lazy_itable_init=0,lazy_journal_init=0 "$img"
fi
loop=$(losetup --find --show "$img")
mount -t "$fs" "$loop" "$mnt"
echo "  ${image_gib} GiB image, mkfs.$fs, mount on $loop: $(seconds_since "$t") s"

# Small files only (-b 0), and one 1 MiB fragmented file (-l 1 -L 1) as
# the farm's target, which must hold a page and its neighbours.
t=$(now_us)
run_bg "$DG_MKFILES" --quiet --files "$files" --big-every 0 --large 1 --large-size 1 \
	--seed "$seed" --manifest "$work/manifest" "$mnt/files"
echo "  $files files (dg-mkfiles -b 0 -l 1 -L 1): $(seconds_since "$t") s"

t=$(now_us)
run_bg sync -f "$mnt"
echo "  sync: $(seconds_since "$t") s"
inodes=$(df --output=iused "$mnt" | tail -1 | tr -d ' ')
echo "  $(df -h --output=used "$mnt" | tail -1 | tr -d ' ') used, $inodes inodes in use"

t=$(now_us)
"$DG_FARM" --manifest "$work/manifest" --target "$mnt/files/large/L00" \
	--procs "$procs" --seed "$seed" --pids "$work/pids" --record "$work/record" \
	--ready "$work/ready" 2>"$work/farm.log" &
farm_pid=$!
wait_farm_ready
echo "  $procs mapping processes (dg-mapper-farm): $(seconds_since "$t") s"
echo "setup: $(seconds_since "$t_setup") s"

# ------------------------------------------------------------------------
# Correctness, once: daxguard's users must hold every farm process, and
# every file it names must be, by that path, the inode it gives.

wrong=false

loud()
{
	shout "daxguard who gave a WRONG ANSWER" "$@"
	wrong=true
}

# check_answer BIN: run BIN who MNT -J once and check its answer
check_answer()
{
	local bin=$1 json=$work/who.json missing nowners nbad=0 unnamed=0 want_files
	local cmd=("$1" who "$mnt" -J) ino path got

	if ! "${cmd[@]}" >"$json" 2>"$work/who.err"; then
		loud "'${cmd[*]}' failed:" "$(head -5 "$work/who.err")"
		return
	fi
	if ! jq -e 'type == "object"' "$json" >/dev/null 2>&1; then
		loud "'${cmd[*]}' printed no valid JSON:" "$(head -c 300 "$json")"
		return
	fi
	missing=$(comm -23 <(sort -u "$work/pids") \
		<(jq -r '.users[]?.pid' "$json" | sort -u) | paste -sd ' ')
	if [[ -n $missing ]]; then
		loud "$bin: farm processes missing from the users: $missing"
	fi
	# every file owner, "inode<TAB>path" (path empty when not named);
	# each path must stat to its inode
	jq -r '.owners[]? | select(.type == "file") | "\(.inode)\t\(.path // "")"' \
		"$json" >"$work/owners"
	nowners=$(wc -l <"$work/owners")
	while IFS=$'\t' read -r ino path; do
		if [[ -z $path ]]; then
			unnamed=$((unnamed + 1))
			continue
		fi
		got=$(stat -c %i -- "$path" 2>/dev/null) || got="(stat failed)"
		if [[ $got != "$ino" ]] && ((nbad++ < 5)); then
			loud "$bin: owner inode $ino is named '$path', which is inode $got"
		fi
	done <"$work/owners"
	# the files the farm maps (its record: "pid role path:offset:length...")
	want_files=$(awk '{ for (i = 3; i <= NF; i++) { sub(/:[0-9]+:[0-9]+$/, "", $i); print $i } }' \
		"$work/record" | sort -u | wc -l)
	if ((nowners < want_files)); then
		loud "$bin: $nowners file owners, but the farm maps $want_files files"
	fi
	if ((unnamed > 0)); then
		loud "$bin: $unnamed of $nowners file owners have no path"
	fi
	if [[ -n $missing ]] || ((nbad > 0 || unnamed > 0 || nowners < want_files)); then
		return 0
	fi
	echo "correctness of $bin: OK ($(jq '.users | length' "$json") users hold" \
		"the farm's $(wc -l <"$work/pids") pids; $nowners file owners," \
		"each path stats to its inode; the farm maps $want_files files)"
}

# count_syscalls BIN: one run of BIN who MNT -J under strace.  The
# directory reads (getdents64) and opens are what a walk of the tree costs;
# names from /proc cost readlinks.
count_syscalls()
{
	if ! command -v strace >/dev/null; then
		echo "(strace is not installed: no syscall count)"
		return
	fi
	strace -f -c -e trace=getdents64,openat,readlink,readlinkat -o "$work/strace" \
		"$1" who "$mnt" -J >/dev/null 2>&1 || true
	echo "syscalls in one run of $1 (strace -f -c):" \
		"$(awk '$NF ~ /^(getdents64|openat|readlink|readlinkat)$/ {
			printf "%s%s %s", sep, $NF, $4; sep = ", " }' "$work/strace")"
}

echo
check_answer "$DAXGUARD"
count_syscalls "$DAXGUARD"
if [[ -n $compare ]]; then
	check_answer "$compare"
	count_syscalls "$compare"
fi

dg_cmd=("$DAXGUARD" who "$mnt" -J)
np_cmd=("$DAXGUARD" who "$mnt" --no-paths -J)
cmp_cmd=("$compare" who "$mnt" -J)

# ------------------------------------------------------------------------
# Timing

declare -A samples

# time_one NAME CMD...: time_cmd (after dropping the caches, for a name
# that starts with "cold_"), and keep the exit status of every timed
# daxguard run that failed
status_bad=()
time_one()
{
	if [[ $1 == cold_* ]]; then
		sync
		echo 3 >/proc/sys/vm/drop_caches
	fi
	time_cmd "$@"
	if $recording && [[ $1 == *daxguard || $1 == *compare ]] && ((time_rc != 0)); then
		status_bad+=("$time_rc")
	fi
}

prefix=

round()
{
	time_one "${prefix}daxguard" "${dg_cmd[@]}"
	time_one "${prefix}fuser" fuser -m "$mnt"
	time_one "${prefix}lsof" lsof "$mnt"
	time_one "${prefix}nopaths" "${np_cmd[@]}"
	if [[ -n $compare ]]; then
		time_one "${prefix}compare" "${cmp_cmd[@]}"
	fi
}

note_load
run_rounds
if $cold; then
	# warm-up rounds make no sense cold; the caches are refilled after
	prefix=cold_
	saved_warmup=$warmup
	warmup=0
	run_rounds
	warmup=$saved_warmup
	prefix=
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

if ((${#status_bad[@]})); then
	loud "daxguard exited with status ${status_bad[0]} in ${#status_bad[@]} timed runs"
fi

declare -A median
row_width=44
ratio_width=30

missed=false

# table [cold_]: the rows and ratios of the warm or the cold rounds
table()
{
	local p=$1

	echo
	row_head "command (wall time, ms${p:+, caches dropped})"
	row "${p}daxguard" "daxguard who MNT -J"
	row "${p}fuser" "fuser -m MNT"
	row "${p}lsof" "lsof MNT"
	row "${p}nopaths" "daxguard who MNT --no-paths -J (info)"
	if [[ -n $compare ]]; then
		row "${p}compare" "--compare: who MNT -J (info)"
	fi
	echo
	printf "  %-${ratio_width}s %8s %10s   %-11s %s\n" "ratio${p:+ (cold)}" "medians" \
		"paired" "target" ""
	if [[ -z $p ]]; then
		ratio "daxguard who / fuser -m" "${p}daxguard" "${p}fuser" "<=" 2
		ratio "lsof MNT / daxguard who" "${p}lsof" "${p}daxguard" ">=" 2
	else
		info_ratio "daxguard who / fuser -m" "${p}daxguard" "${p}fuser" "target 2x is warm"
		info_ratio "lsof MNT / daxguard who" "${p}lsof" "${p}daxguard" "target 2x is warm"
	fi
	info_ratio "daxguard who / --no-paths" "${p}daxguard" "${p}nopaths" "the cost of the names"
	if [[ -n $compare ]]; then
		info_ratio "--compare / daxguard who" "${p}compare" "${p}daxguard"
		info_ratio "--compare / fuser -m" "${p}compare" "${p}fuser"
	fi
}

echo
echo "MNT = $mnt ($fs on $loop, $inodes inodes in use, $procs farm processes)"
table ""
if $cold; then
	table cold_
fi
echo
echo "load average before / after timing: $load_before / $load_after"
echo "(ratios come from medians; 'paired' is the median of the per-round ratios)"

who_finish
