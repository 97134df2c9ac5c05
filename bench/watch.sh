#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/watch.sh: is `daxguard watch` as fast as a person with a shell?
#
# On a loop XFS (rmapbt) holding --files files that --procs processes map
# (dg-mkfiles, dg-mapper-farm), each round makes --hit fresh processes
# that map one page of a large file, and takes that page bad, one of two
# ways, alternating:
#
#   watch  the page's "SECTOR 8" line is appended to the --badblocks-file
#          of a running `daxguard watch -a kill`;
#   hand   `daxguard fail DEV --offset .. --length 4096 -a kill` is run.
#
# Measured from the append (or the start of the command) to the moment the
# last of the round's processes is gone (the script is their parent: it
# reaps them).  Each round uses a page of its own.  The target is a ratio
# watch / hand of at most 1.2.  daxguard's own figure (the last victim's
# signalled_ms in the JSON) is printed beside it.
#
# Then the daemon idles: its CPU time over --idle seconds (with --interval
# 30 it reads its lists once in a while, nothing more), and its RSS after
# --events events (each one a single appended line, acted on one by one; a
# page nobody maps, so the flow is the full one without a kill) and after
# a tenth of them, to see growth.
#
# Usage: bench/watch.sh [--files N] [--procs N] [--rounds N] [--events N] ...
# See --help and doc/benchmarks.md.

set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
DG_FARM=${DG_FARM:-$BUILD/bench/dg-mapper-farm}
DG_MAPPER=${DG_MAPPER:-$BUILD/tests/dg-mapper}

files=200000
procs=2000
rounds=5
hit=3
events=1000
idle=60
seed=1
image_size=4G
prog=watch.sh

usage()
{
	cat <<EOF
Usage: $0 [options]

How long 'daxguard watch' takes from a bad-block line to the last killed
mapper, against 'daxguard fail' by hand; its idle CPU and its RSS after
many events.

Options:
  --files N       files on the test filesystem (default $files)
  --procs N       processes mapping them (default $procs)
  --rounds N      measured rounds of each way (default $rounds)
  --hit N         processes that map each round's page (default $hit)
  --events N      events for the RSS measure (default $events)
  --idle N        seconds of idle CPU measured (default $idle)
  --seed N        seed of the file set and of the farm (default $seed)
  -h, --help      show this help

Environment: BUILD, DAXGUARD, DG_MKFILES, DG_FARM, DG_MAPPER as in bench/who.sh.

A quick smoke run: $0 --files 2000 --procs 100 --rounds 3 --events 50 --idle 10
EOF
}

number_options=([--files]=files [--procs]=procs [--rounds]=rounds [--hit]=hit
	[--events]=events [--idle]=idle [--seed]=seed)
parse_options "$@"
((files >= 20)) || die "--files $files: need at least 20 files"
((rounds >= 1 && hit >= 1 && events >= 10)) || die "--rounds, --hit at least 1, --events at least 10"
(($(id -u) == 0)) || die "needs root (loop devices, mounts, the daemon)"
need_tool mkfs.xfs xfsprogs
need_tool xfs_io xfsprogs
need_tool jq jq
for t in "$DAXGUARD" "$DG_MKFILES" "$DG_FARM" "$DG_MAPPER"; do
	[[ -x $t ]] || die "$t is missing: build first (meson setup build && ninja -C build)"
done

work=
mnt=
img=
loop=
farm_pid=
bg_pid=
watch_pid=
victims=()

# shellcheck disable=SC2317  # called through the EXIT trap
cleanup()
{
	local v

	for v in "${victims[@]}"; do
		kill -KILL "$v" 2>/dev/null
		{ wait "$v"; } 2>/dev/null
	done
	stop_child "$watch_pid"
	stop_child "$bg_pid"
	stop_farm
	cleanup_fs
}
bench_traps

work=$(mktemp -d /var/tmp/dg-bench-watch.XXXXXX)
mnt=$work/mnt
img=$work/xfs.img
mkdir "$mnt"
echo "daxguard watch benchmark: $files files, $procs processes, $rounds rounds of each way," \
	"$hit victims a round, $events events for RSS"
echo "machine: $(machine); load $(cut -d' ' -f1-3 /proc/loadavg)"
print_daxguard
echo "setting up in $work ..."
t=$(now_us)
truncate -s "$image_size" "$img"
mkfs.xfs -q -f -m rmapbt=1 "$img"
loop=$(losetup --find --show "$img")
mount -t xfs "$loop" "$mnt"
run_bg "$DG_MKFILES" --quiet --files "$files" --seed "$seed" --manifest "$work/manifest" \
	"$mnt/files"
run_bg sync -f "$mnt"
target=$mnt/files/large/L03
# the farm's own hits map page 0; the rounds use pages from 64 on
"$DG_FARM" --manifest "$work/manifest" --target "$target" --target-offset 0 \
	--procs "$procs" --hit 1 --miss 1 --seed "$seed" --ready "$work/ready" \
	2>"$work/farm.log" &
farm_pid=$!
wait_farm_ready
echo "setup: $(seconds_since "$t") s; target $target on $loop"

# the "SECTOR 8" line of page N of the target, from FIEMAP
fiemap=$(xfs_io -r -c 'fiemap -v' "$target")
sector_of()
{
	awk -v s=$(($1 * 8)) '
		NR > 2 && $3 != "hole" && !done {
			split($2, f, /[][.:]+/)
			if (s >= f[2] && s <= f[3]) {
				split($3, d, /\.\./)
				printf "%.0f\n", d[1] + s - f[2]
				done = 1
			}
		}' <<<"$fiemap"
}

# start_victims PAGE: --hit processes that map the page, ready
start_victims()
{
	local i

	victims=()
	for ((i = 0; i < hit; i++)); do
		rm -f "$work/v.ready.$i"
		"$DG_MAPPER" -r "$work/v.ready.$i" "map:$target:$(($1 * 4096)):4096:shared-ro" \
			>/dev/null 2>&1 &
		victims+=($!)
	done
	for ((i = 0; i < hit; i++)); do
		while [[ ! -e $work/v.ready.$i ]]; do sleep 0.01; done
	done
}

# reap_victims: wait until every victim is gone (they must be killed)
reap_victims()
{
	local v st

	for v in "${victims[@]}"; do
		st=0
		# (bash reports each "Killed" child it reaps: quiet)
		{ wait "$v"; } 2>/dev/null || st=$?
		((st == 137)) || die "victim $v ended with status $st, not SIGKILL"
	done
	victims=()
}

median()
{
	tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ------------------------------------------------------------------------
# The daemon

: >"$work/bb"
"$DAXGUARD" watch --state-dir "$work/state" --badblocks-file "$loop=$work/bb" -a kill \
	--sources badblocks-file -i 30 -J --flood-limit 1000000 \
	>"$work/watch.out" 2>"$work/watch.err" </dev/null &
watch_pid=$!
for _ in $(seq 1000); do
	grep -q '^<6>watching' "$work/watch.err" && break
	kill -0 "$watch_pid" 2>/dev/null || die "daxguard watch died: $(cat "$work/watch.err")"
	sleep 0.01
done

lines()
{
	wc -l <"$work/watch.out"
}

wait_lines()
{
	while (($(lines) < $1)); do
		kill -0 "$watch_pid" 2>/dev/null || die "daxguard watch died: $(cat "$work/watch.err")"
		sleep 0.005
	done
}

watch_us=()
hand_us=()
watch_inner=()
hand_inner=()
page=64
echo
echo "round  way    event->last victim gone   daxguard's last signal (JSON)"
for ((r = 1; r <= rounds; r++)); do
	# watch
	sect=$(sector_of "$page")
	start_victims "$page"
	n=$(lines)
	t0=$(now_us)
	echo "$sect 8" >>"$work/bb"
	reap_victims
	t1=$(now_us)
	wait_lines $((n + 1))
	inner=$(sed -n "$((n + 1))p" "$work/watch.out" | jq '[.processes[].signalled_ms] | max')
	watch_us+=($((t1 - t0)))
	watch_inner+=("$inner")
	printf '%5d  watch  %10.1f ms              %6s ms\n' "$r" "$(((t1 - t0) / 100))e-1" "$inner"
	page=$((page + 2))
	# by hand
	start_victims "$page"
	t0=$(now_us)
	"$DAXGUARD" fail "$loop" --offset $(($(sector_of "$page") * 512)) --length 4096 -a kill -J \
		>"$work/fail.json" 2>"$work/fail.err" </dev/null &
	fail_pid=$!
	reap_victims
	t1=$(now_us)
	wait "$fail_pid" || die "daxguard fail: $(cat "$work/fail.err")"
	inner=$(jq '[.processes[].signalled_ms] | max' "$work/fail.json")
	hand_us+=($((t1 - t0)))
	hand_inner+=("$inner")
	printf '%5d  hand   %10.1f ms              %6s ms\n' "$r" "$(((t1 - t0) / 100))e-1" "$inner"
	page=$((page + 2))
done
mw=$(echo "${watch_us[*]}" | median)
mh=$(echo "${hand_us[*]}" | median)
echo
printf 'median: watch %.1f ms, hand %.1f ms: watch / hand = %.2f (target <= 1.2)\n' \
	"$(echo "$mw / 1000" | bc -l)" "$(echo "$mh / 1000" | bc -l)" "$(echo "$mw / $mh" | bc -l)"
printf 'median last signal inside daxguard: watch %s ms, hand %s ms\n' \
	"$(echo "${watch_inner[*]}" | median)" "$(echo "${hand_inner[*]}" | median)"

# ------------------------------------------------------------------------
# Idle CPU, then RSS after many events

cpu_ticks()
{
	awk '{ print $14 + $15 }' "/proc/$watch_pid/stat"
}
rss_kb()
{
	awk '/^VmRSS/ { print $2 }' "/proc/$watch_pid/status"
}

echo
c0=$(cpu_ticks)
sleep "$idle"
c1=$(cpu_ticks)
echo "idle: $((c1 - c0)) ticks of CPU ($(getconf CLK_TCK)/s) in $idle s; RSS $(rss_kb) kB"

# pages of another large file that nobody maps: the whole flow, no kill
quiet=$mnt/files/large/L05
fiemap=$(xfs_io -r -c 'fiemap -v' "$quiet")
pages=$(($(stat -c %s "$quiet") / 4096))
((pages >= events)) || die "$quiet has $pages pages, fewer than --events $events"
n=$(lines)
t0=$(now_us)
for ((e = 0; e < events; e++)); do
	echo "$(sector_of "$e") 8" >>"$work/bb"
	wait_lines $((n + e + 1))
	if ((e + 1 == events / 10)); then
		rss10=$(rss_kb)
	fi
done
echo "$events events in $(seconds_since "$t0") s (one at a time, each a flow on $procs processes)"
echo "RSS after $((events / 10)) events: $rss10 kB; after $events: $(rss_kb) kB (target < 16384 kB)"
bad=$(jq -r 'select(.event.disposition != "acted") | .event.disposition' "$work/watch.out" | sort | uniq -c)
[[ -z $bad ]] || echo "warning: events not acted on: $bad"
c0=$(cpu_ticks)
sleep "$idle"
c1=$(cpu_ticks)
echo "idle after the events: $((c1 - c0)) ticks of CPU in $idle s"
