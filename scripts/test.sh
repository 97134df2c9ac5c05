#!/bin/bash
# README's second command: install, build, and run every test:
#  1. unit and root integration tests (real loop devices, XFS, ext4,
#     processes, signals), but the hostile-filesystem rounds;
#  2. the same under AddressSanitizer and UndefinedBehaviorSanitizer, with
#     the hostile-filesystem rounds and without the reverse-map agreement
#     runs (the hostile rounds run those checks under the sanitizers);
#  3. the libFuzzer harnesses of tests/fuzz, 60 s each ($DG_FUZZ_SECONDS),
#     two at a time, built with clang;
#  4. the real-DAX tier: QEMU guests with an emulated NVDIMM on Debian's
#     6.1 and 6.12 kernels (tests/vm; it fetches the kernels once and
#     caches them in /var/tmp/daxguard-vm).
# Under CI (or DG_FRESH_CHROOT=1) pass 1 runs in a fresh Debian 12 chroot
# (scripts/fresh-chroot.sh), and the passes pair up to fit CI's time: the
# fuzzers beside pass 1, the QEMU tier beside pass 2.
# Every test cleans up the loop devices, mounts and processes it made.
# At the end it prints how many tests each suite ran and names every test
# that skipped, with its reason (scripts/test-summary.sh); a suite that ran
# nothing fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

# as root, or as a user who may sudo (README's commands work both ways)
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		exec sudo bash "$PWD/scripts/test.sh" "$@"
	fi
	echo "test.sh: run as root: the integration tests use loop devices and mounts" >&2
	exit 1
fi
bash scripts/deps.sh

setup() { # BUILDDIR MESON-ARGS...
	local dir=$1

	shift
	[ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" >/dev/null
	# quiet, but a failure shows what failed
	ninja -C "$dir" >/dev/null || ninja -C "$dir"
}

# Each pass's meson log is kept (meson overwrites its own at every run),
# and the summary reads them all, also after a failed pass.
LOGS=build/test-logs
passes=()
bg=()
rm -rf "$LOGS"
mkdir -p "$LOGS"
summary() {
	local rc=$? job

	trap - EXIT
	# a pass still running in the background is stopped, never left behind
	for job in "${bg[@]}"; do
		kill -TERM -- "-${job%%:*}" 2>/dev/null || true
	done
	bash scripts/test-summary.sh --require "${passes[@]}" || { [ "$rc" != 0 ] || rc=1; }
	exit "$rc"
}
trap summary EXIT

# run_pass LABEL:SUITES BUILDDIR MESON-TEST-ARGS...
run_pass() {
	local label=$1 dir=$2 rc=0

	shift 2
	rm -f "$dir/meson-logs/testlog.json"
	meson test -C "$dir" --print-errorlogs "$@" || rc=$?
	cp "$dir/meson-logs/testlog.json" "$LOGS/${label%%:*}.json" 2>/dev/null || true
	return $rc
}

# in_background LABEL:SUITES CMD...: a pass that shares the machine with
# the next one (their CPUs and waits overlap); its output is kept and
# shown when join_background collects it
in_background() {
	local label=$1

	shift
	passes+=("$label=$LOGS/${label%%:*}.json")
	set -m
	("$@") >"$LOGS/${label%%:*}.out" 2>&1 &
	set +m
	bg+=("$!:$label")
}

join_background() {
	local job rc=0 r

	for job in "${bg[@]}"; do
		r=0
		wait "${job%%:*}" || r=$?
		echo "== ${job#*:} (ran alongside): exit $r"
		cat "$LOGS/$(sed 's/:.*//' <<<"${job#*:}").out"
		[ $r = 0 ] || rc=$r
	done
	bg=()
	return $rc
}

fuzz_pass() {
	# clang, ASan, UBSan and libFuzzer's coverage on every object; each
	# harness replays its committed corpus and regression inputs,
	# fuzzes, and prints its executions and coverage (tests/fuzz)
	CC=clang setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
		-Db_lundef=false -Droot-tests=false
	run_pass fuzz:fuzz build-fuzz --suite fuzz --num-processes "${1:-2}" --verbose
}

vm_pass() {
	meson configure build -Dvm-tests=true
	ninja -C build >/dev/null
	run_pass vm:vm build --suite vm --num-processes 2
}

if [ -n "${CI:-}" ] || [ -n "${DG_FRESH_CHROOT:-}" ]; then
	# 1. The Debian packages (scripts/package-test.sh), then the plain
	# build, in a fresh Debian 12 where scripts/deps.sh is the only
	# install step: a test whose tool it lacks fails there (CI is set:
	# no skips).  Meanwhile, on the host, the fuzzers, one at a
	# time (mostly one CPU; the tests mostly wait on I/O).
	echo "== plain: the packages, then unit and root tests in a fresh Debian 12 chroot (scripts/fresh-chroot.sh)," \
		"with the fuzzers alongside"
	in_background fuzz:fuzz fuzz_pass 1
	rc=0
	DG_CHROOT_OUT=$PWD/$LOGS/chroot CI=${CI:-true} bash scripts/fresh-chroot.sh \
		/var/tmp/daxguard-chroot bash -c '
		# the packages first, while the system has none of the build
		# dependencies: they must build from Build-Depends alone
		DG_PKG_RESTORE=deps bash scripts/package-test.sh || exit 1
		DG_DEPS_NO_FUZZ=1 bash scripts/deps.sh >deps.log 2>&1 ||
			{ tail -20 deps.log; exit 1; }
		echo "scripts/deps.sh: $(grep -c "^Setting up" deps.log) packages installed"
		meson setup build >/dev/null && ninja -C build >/dev/null || exit 1
		rc=0
		meson test -C build --print-errorlogs --num-processes 1 --no-suite hostile || rc=$?
		mkdir -p out && cp build/meson-logs/testlog.json out/
		exit $rc' || rc=$?
	cp "$LOGS/chroot/testlog.json" "$LOGS/plain.json" 2>/dev/null || true
	passes+=("plain:unit,root=$LOGS/plain.json")
	join_background || rc=$?
	[ $rc = 0 ] || exit $rc
	setup build
	meson configure build -Dvm-tests=false

	# 2. The sanitizers on the host; the QEMU tier alongside
	echo "== build-sanitize: unit and root tests under ASan and UBSan, with the QEMU tier alongside"
	in_background vm:vm vm_pass
	setup build-sanitize -Db_sanitize=address,undefined -Db_lundef=false
	rc=0
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_pass sanitize:unit,root build-sanitize --num-processes 1 --no-suite agree || rc=$?
	passes+=("sanitize:unit,root=$LOGS/sanitize.json")
	join_background || rc=$?
	exit $rc
fi

echo "== build: unit and root tests"
setup build
meson configure build -Dvm-tests=false
passes+=("plain:unit,root=$LOGS/plain.json")
run_pass plain:unit,root build --num-processes 1 --no-suite hostile

echo "== build-sanitize: the same under ASan and UBSan"
setup build-sanitize -Db_sanitize=address,undefined -Db_lundef=false
passes+=("sanitize:unit,root=$LOGS/sanitize.json")
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_pass sanitize:unit,root build-sanitize --num-processes 1 --no-suite agree

echo "== build-fuzz: every parser of outside input under libFuzzer, ${DG_FUZZ_SECONDS:-60} s each"
passes+=("fuzz:fuzz=$LOGS/fuzz.json")
fuzz_pass 2

echo "== the real-DAX tier (QEMU, emulated NVDIMM, kernels 6.1 and 6.12)"
passes+=("vm:vm=$LOGS/vm.json")
vm_pass
