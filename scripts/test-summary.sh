#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# What the test passes ran, per suite, and every test that skipped, with
# its reason, read from the testlog.json meson writes for each `meson test`.
#
#   scripts/test-summary.sh [--require] LABEL:SUITE[,SUITE...]=TESTLOG...

# LABEL names a pass (a build directory, say) and SUITEs are the suites it
# is meant to run.
#
# A test that cannot run exits 77 and prints "1..0 # SKIP REASON"
# (tests/lib.sh): meson counts it as skipped and the run still passes,
# so a skip must be said loudly where people read, at the end.  Under CI
# ($CI set) tests/lib.sh fails instead of skipping.
#
# --require: exit 1 unless each pass ran at least one test of each SUITE
# it names; used by .ci/run, where a suite that silently ran nothing would
# look like a pass.  A missing log always fails.
set -euo pipefail

require=0
if [ "${1:-}" = --require ]; then
	require=1
	shift
fi
[ $# -gt 0 ] || {
	echo "usage: $0 [--require] LABEL:SUITES=TESTLOG..." >&2
	exit 2
}

rc=0
skipped=""
echo "== test summary"
for arg in "$@"; do
	label=${arg%%=*}
	log=${arg#*=}
	suites=${label#*:}
	label=${label%%:*}
	if [ ! -s "$log" ]; then
		echo "  $label: no test log ($log): nothing ran"
		rc=1
		continue
	fi
	# one line per suite: "SUITE RUN OK SKIP FAIL"
	counts=$(jq -r '
		(.name | split(" / ")[0] | sub("^[^:]*:"; "") | sub("\\+.*"; "")) as $s
		| [$s, .result] | @tsv' "$log" |
		awk -F'\t' '
			{ n[$1]++ }
			$2 == "OK" || $2 == "EXPECTEDFAIL" { ok[$1]++ }
			$2 == "SKIP" { sk[$1]++ }
			$2 != "OK" && $2 != "EXPECTEDFAIL" && $2 != "SKIP" { bad[$1]++ }
			END { for (s in n) printf "%s %d %d %d %d\n", s, n[s] - sk[s], ok[s], sk[s], bad[s] }' |
		sort)
	while read -r suite run ok skip bad; do
		printf '  %-16s %-6s %3d run: %3d passed, %d failed, %d skipped\n' \
			"$label" "$suite" "$run" "$ok" "$bad" "$skip"
	done <<<"$counts"
	for s in ${suites//,/ }; do
		[ $require = 1 ] || break
		if ! awk -v s="$s" '$1 == s && $2 > 0 { f = 1 } END { exit !f }' <<<"$counts"; then
			echo "  $label: suite '$s' ran no test"
			rc=1
		fi
	done
	skipped+=$(jq -r --arg l "$label" '
		select(.result == "SKIP")
		| ((.stdout // "") | [match("# SKIP ([^\n]*)").captures[0].string][0]
			// "no reason given") as $why
		| "  \($l): \(.name | split(" / ")[1]): \($why)"' "$log")
	[ -z "$skipped" ] || skipped+=$'\n'
done

if [ -n "${skipped//[[:space:]]/}" ]; then
	cat <<EOF

!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
!! SKIPPED TESTS: these did not run, so what they check was NOT checked:
$(printf '%s' "$skipped" | sed '/^$/d')
!! Install what they lack (scripts/deps.sh should), or run as root.
!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!
EOF
	# a skip is a failure where nobody reads the end of the log
	[ -z "${CI:-}" ] || rc=1
fi
exit $rc
