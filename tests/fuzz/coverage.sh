#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/fuzz/coverage.sh [WORK]: the line coverage each harness's inputs
# reach in the file it is for, measured with clang's source-based coverage
# (-fprofile-instr-generate, llvm-profdata, llvm-cov) on the replay build
# of the harness: the committed corpus and regressions, plus the corpus a
# fuzz run grew in WORK/HARNESS/corpus (bench/fuzz.sh's
# /var/tmp/daxguard-fuzz, or build-fuzz/tests/fuzz/out after the CI pass).
# Builds build-cov (clang, no sanitizer) on first use.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=${1:-}
b=build-cov

[ -f $b/build.ninja ] ||
	CC=clang meson setup $b -Droot-tests=false \
		-Dc_args='-fprofile-instr-generate -fcoverage-mapping' \
		-Dc_link_args='-fprofile-instr-generate' >/dev/null
mkdir -p $b/cov
printf '%-11s %-18s %8s %6s %8s  %s\n' harness file lines missed cover \
	"functions: regions run/regions"
for spec in xfs-dinode:lib/xfs-dinode.c badblocks:lib/badblocks.c range:lib/range.c \
	pfn:lib/range.c maps:lib/maps.c devmapper:lib/devmapper.c; do
	h=${spec%%:*}
	file=${spec#*:}
	ninja -C $b "tests/fuzz/replay-$h" >/dev/null
	dirs=("tests/fuzz/corpus/$h" "tests/fuzz/regress/$h")
	[ -z "$work" ] || [ ! -d "$work/$h/corpus" ] || dirs+=("$work/$h/corpus")
	rm -f "$b/cov/$h.profraw"
	LLVM_PROFILE_FILE="$b/cov/$h.profraw" "$b/tests/fuzz/replay-$h" "${dirs[@]}" >/dev/null
	llvm-profdata merge -sparse -o "$b/cov/$h.profdata" "$b/cov/$h.profraw"
	# the file's line: Filename Regions Missed Cover Functions Missed
	# Executed Lines Missed Cover ...
	llvm-cov report "$b/tests/fuzz/replay-$h" -instr-profile="$b/cov/$h.profdata" \
		"$file" >"$b/cov/$h.report"
	# per function of the file: regions run / regions
	funcs=$(llvm-cov export "$b/tests/fuzz/replay-$h" -instr-profile="$b/cov/$h.profdata" |
		jq -r --arg f "/$file" '.data[0].functions[]
			| select(.filenames[0] | endswith($f))
			| "\(.name | sub("^.*:"; "")) \([.regions[] | select(.[4] > 0)] | length)/\(.regions | length)"' |
		paste -sd ' ')
	awk -v h="$h" -v f="$file" -v fn="$funcs" '$1 == f {
		printf "%-11s %-18s %8s %6s %8s  %s\n", h, f, $8, $9, $10, fn }' "$b/cov/$h.report"
done
