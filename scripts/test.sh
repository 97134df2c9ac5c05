#!/bin/bash
# README's second command: install, build, and run every test, twice: a
# normal build, then one under AddressSanitizer and UndefinedBehaviorSanitizer.
# The root tests create their own loop devices and mounts and remove them.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "test.sh: run as root: the integration tests use loop devices and mounts" >&2
	exit 1
fi
bash scripts/deps.sh

run_suite() { # BUILDDIR MESON-ARGS...
	local dir=$1
	shift
	[ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" >/dev/null
	ninja -C "$dir" >/dev/null
	meson test -C "$dir" --print-errorlogs --num-processes 1
}

echo "== build"
run_suite build
echo "== build-sanitize (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_suite build-sanitize -Db_sanitize=address,undefined -Db_lundef=false
