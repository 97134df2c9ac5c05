#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/fuzz.sh HOURS [HARNESS...]: fuzz every parser of outside input for
# HOURS in all (decimals allowed), split evenly across the harnesses of
# tests/fuzz (default: all of them), one at a time, so on one CPU.
#
# Each harness goes on from the corpus it grew last time, kept in
# $DG_FUZZ_WORK (default /var/tmp/daxguard-fuzz/HARNESS/corpus), on top of
# the committed seeds and regressions.  At the end it prints, per harness,
# the executions and libFuzzer's coverage (cov: edges, ft: features), and
# every crash with the command that keeps it as a regression input.  With
# DG_FUZZ_MERGE=1 the inputs that add coverage are merged (libFuzzer
# -merge=1) into tests/fuzz/corpus/HARNESS, to be committed.
#
# It builds build-fuzz as scripts/test.sh does (clang, ASan, UBSan).
set -euo pipefail
cd "$(dirname "$0")/.."

hours=${1:?usage: bench/fuzz.sh HOURS [HARNESS...]}
shift
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
	harnesses=(xfs-dinode badblocks range pfn maps devmapper)
fi
work=${DG_FUZZ_WORK:-/var/tmp/daxguard-fuzz}
secs=$(awk -v h="$hours" -v n=${#harnesses[@]} 'BEGIN { s = int(h * 3600 / n); print s < 1 ? 1 : s }')

[ -f build-fuzz/build.ninja ] ||
	CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Droot-tests=false >/dev/null
ninja -C build-fuzz >/dev/null

echo "bench/fuzz.sh: ${#harnesses[@]} harnesses, $secs s each, corpora in $work"
rc=0
summary=()
for h in "${harnesses[@]}"; do
	out=$work/$h
	start=$(date +%s)
	if line=$(FUZZ_OUT=$out DG_FUZZ_KEEP=1 bash tests/fuzz/run.sh "$h" \
		"build-fuzz/tests/fuzz/fuzz-$h" "$secs" 2>&1 | tee "$work.$h.log" | tail -n 1); then
		summary+=("$line")
	else
		rc=1
		summary+=("FAIL $h: see $work.$h.log")
		grep -E '^FAIL|keep it' "$work.$h.log" || true
	fi
	echo "$(date '+%F %T') $h done in $(($(date +%s) - start)) s: ${summary[-1]}"
	if [ "${DG_FUZZ_MERGE:-}" = 1 ]; then
		build-fuzz/tests/fuzz/fuzz-"$h" -merge=1 -max_len=65536 \
			"tests/fuzz/corpus/$h" "$out/corpus" >"$work.$h.merge.log" 2>&1 ||
			{ echo "merge of $h failed: $work.$h.merge.log"; rc=1; }
	fi
done
echo "== bench/fuzz.sh: $hours h"
printf '  %s\n' "${summary[@]}"
exit $rc
