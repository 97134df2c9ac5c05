#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# run.sh NAME FUZZER [SECONDS]: one libFuzzer harness, as CI runs it.
#  1. every committed input, corpus/NAME and regress/NAME, runs once: a
#     crash found before must stay fixed;
#  2. the harness fuzzes for SECONDS (default $DG_FUZZ_SECONDS, else 60)
#     from that corpus, new inputs going to $FUZZ_OUT/corpus (emptied
#     first unless DG_FUZZ_KEEP is set), never into the source tree.
# Fails on any crash, leak, sanitizer report or timeout, and says where
# the input is and how to keep it as a regression.  Prints the executions
# and the coverage libFuzzer reached (cov: edges, ft: features).
set -euo pipefail

name=$1
fuzzer=$2
secs=${3:-${DG_FUZZ_SECONDS:-60}}
src=$(cd "$(dirname "$0")" && pwd)
out=${FUZZ_OUT:-$(mktemp -d /tmp/dg-fuzz.XXXXXX)}
corpus=$src/corpus/$name
regress=$src/regress/$name

[[ -x "$fuzzer" ]] || { echo "run.sh: $fuzzer: not an executable" >&2; exit 1; }
[[ -d "$corpus" && -n "$(ls -A "$corpus")" ]] ||
	{ echo "run.sh: $corpus: no seed corpus" >&2; exit 1; }
# DG_FUZZ_KEEP=1 (bench/fuzz.sh): go on from the corpus of the last run
if [[ -z "${DG_FUZZ_KEEP:-}" ]]; then
	rm -rf "$out"
fi
mkdir -p "$out/corpus"
rm -f "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-* "$out"/slow-unit-*

# the largest input a harness takes: a few blocks of an XFS image, a
# badblocks list longer than its longest line, a maps file
case $name in
xfs-dinode) max_len=65536 ;;
badblocks) max_len=16384 ;;
maps) max_len=8192 ;;
*) max_len=1024 ;;
esac
opts=(-max_len="$max_len" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$out/")
[[ ! -f "$src/$name.dict" ]] || opts+=(-dict="$src/$name.dict")

# 1. replay
mapfile -t inputs < <(find "$corpus" "$regress" -type f ! -name '.*' | sort)
if ! "$fuzzer" "${opts[@]}" "${inputs[@]}" >"$out/replay.log" 2>&1; then
	grep -E '^Running: |^==[0-9]+==ERROR|check failed|^SUMMARY' "$out/replay.log" | tail -n 6 >&2 ||
		tail -n 40 "$out/replay.log" >&2
	echo "FAIL fuzz $name: a committed input crashes (log: $out/replay.log)" >&2
	exit 1
fi
echo "fuzz $name: ${#inputs[@]} committed inputs replayed"

# 2. fuzz
rc=0
"$fuzzer" "${opts[@]}" -max_total_time="$secs" -print_final_stats=1 \
	"$out/corpus" "$corpus" "$regress" >"$out/fuzz.log" 2>&1 || rc=$?
done_line=$(grep -E '^#[0-9]+[[:space:]]+(DONE|pulse|NEW|REDUCE|INITED)' "$out/fuzz.log" | tail -n 1)
cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$done_line")
ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$done_line")
corp=$(sed -nE 's/.* corp: ([0-9]+).*/\1/p' <<<"$done_line")
execs=$(sed -nE 's/^stat::number_of_executed_units:[[:space:]]+([0-9]+)/\1/p' "$out/fuzz.log")
rate=$(sed -nE 's/^stat::average_exec_per_sec:[[:space:]]+([0-9]+)/\1/p' "$out/fuzz.log")
if [[ $rc != 0 ]]; then
	# what went wrong first, then the stack
	grep -E '^==[0-9]+==ERROR|check failed|^SUMMARY|ALARM|Test unit written' "$out/fuzz.log" >&2 ||
		true
	grep -E -A 12 '^==[0-9]+==ERROR' "$out/fuzz.log" | head -n 14 >&2 || true
	for a in "$out"/crash-* "$out"/leak-* "$out"/timeout-* "$out"/oom-*; do
		[[ -e "$a" ]] || continue
		echo "FAIL fuzz $name: input $a" >&2
		echo "  keep it: cp '$a' tests/fuzz/regress/$name/ (then fix, and replay)" >&2
	done
	echo "FAIL fuzz $name: exit status $rc after ${execs:-?} executions (log: $out/fuzz.log)" >&2
	exit 1
fi
[[ -n "$execs" && -n "$cov" ]] ||
	{ echo "FAIL fuzz $name: no final statistics in $out/fuzz.log" >&2; exit 1; }
echo "fuzz $name: $execs executions in $secs s ($rate/s), cov: $cov ft: $ft corpus: $corp"
