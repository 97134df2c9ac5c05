#!/bin/bash
# README's second command: install, build, and run every test:
#  1. unit and root integration tests (real loop devices, XFS, ext4,
#     processes, signals);
#  2. the same under AddressSanitizer and UndefinedBehaviorSanitizer;
#  3. the libFuzzer harnesses of tests/fuzz, 60 s each ($DG_FUZZ_SECONDS),
#     two at a time, built with clang;
#  4. the real-DAX tier: QEMU guests with an emulated NVDIMM on Debian's
#     6.1 and 6.12 kernels (tests/vm; it fetches the kernels once and
#     caches them in /var/tmp/daxguard-vm).
# Every test cleans up the loop devices, mounts and processes it made.
# At the end it prints how many tests each suite ran and names every test
# that skipped, with its reason (scripts/test-summary.sh); a suite that ran
# nothing fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "test.sh: run as root: the integration tests use loop devices and mounts" >&2
	exit 1
fi
bash scripts/deps.sh

setup() { # BUILDDIR MESON-ARGS...
	local dir=$1

	shift
	[ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" >/dev/null
	ninja -C "$dir" >/dev/null
}

# Each pass's meson log is kept (meson overwrites its own at every run),
# and the summary reads them all, also after a failed pass.
LOGS=build/test-logs
passes=()
rm -rf "$LOGS"
summary() {
	local rc=$?

	trap - EXIT
	bash scripts/test-summary.sh --require "${passes[@]}" || { [ "$rc" != 0 ] || rc=1; }
	exit "$rc"
}
trap summary EXIT

# run_pass LABEL:SUITES BUILDDIR MESON-TEST-ARGS...
run_pass() {
	local label=$1 dir=$2 rc=0

	shift 2
	mkdir -p "$LOGS"
	rm -f "$dir/meson-logs/testlog.json"
	meson test -C "$dir" --print-errorlogs "$@" || rc=$?
	cp "$dir/meson-logs/testlog.json" "$LOGS/${label%%:*}.json" 2>/dev/null || true
	passes+=("$label=$LOGS/${label%%:*}.json")
	return $rc
}

if [ -n "${CI:-}" ] || [ -n "${DG_FRESH_CHROOT:-}" ]; then
	# what only README's commands installed: a fresh Debian 12 in which
	# scripts/deps.sh is the only install step; a test whose tool it
	# lacks fails there (CI is set: no skips)
	echo "== plain: unit and root tests in a fresh Debian 12 chroot (scripts/fresh-chroot.sh)"
	mkdir -p "$LOGS"
	rc=0
	DG_CHROOT_OUT=$PWD/$LOGS/chroot CI=${CI:-true} bash scripts/fresh-chroot.sh \
		/var/tmp/daxguard-chroot bash -c '
		bash scripts/deps.sh >deps.log 2>&1 || { tail -20 deps.log; exit 1; }
		echo "scripts/deps.sh: $(grep -c "^Setting up" deps.log) packages installed"
		meson setup build >/dev/null && ninja -C build >/dev/null || exit 1
		rc=0
		meson test -C build --print-errorlogs --num-processes 1 || rc=$?
		mkdir -p out && cp build/meson-logs/testlog.json out/
		exit $rc' || rc=$?
	cp "$LOGS/chroot/testlog.json" "$LOGS/plain.json" 2>/dev/null || true
	passes+=("plain:unit,root=$LOGS/plain.json")
	[ $rc = 0 ] || exit $rc
	setup build
else
	echo "== build: unit and root tests"
	setup build
	meson configure build -Dvm-tests=false
	run_pass plain:unit,root build --num-processes 1
fi

echo "== build-sanitize: the same under ASan and UBSan"
setup build-sanitize -Db_sanitize=address,undefined -Db_lundef=false
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_pass sanitize:unit,root build-sanitize --num-processes 1

echo "== build-fuzz: every parser of outside input under libFuzzer, ${DG_FUZZ_SECONDS:-60} s each"
# clang, ASan, UBSan and libFuzzer's coverage on every object; two
# harnesses at a time.  Each replays its committed corpus and regression
# inputs, fuzzes, and prints its executions and coverage (tests/fuzz).
CC=clang setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
	-Droot-tests=false
run_pass fuzz:fuzz build-fuzz --suite fuzz --num-processes 2 --verbose

echo "== the real-DAX tier (QEMU, emulated NVDIMM, kernels 6.1 and 6.12)"
meson configure build -Dvm-tests=true
ninja -C build >/dev/null
run_pass vm:vm build --suite vm --num-processes 2
