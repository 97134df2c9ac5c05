#!/bin/bash
# README's second command: install, build, and run every test:
#  1. unit and root integration tests (real loop devices, XFS, ext4,
#     processes, signals);
#  2. the same under AddressSanitizer and UndefinedBehaviorSanitizer;
#  3. the real-DAX tier: QEMU guests with an emulated NVDIMM on Debian's
#     6.1 and 6.12 kernels (tests/vm; it fetches the kernels once and
#     caches them in /var/tmp/daxguard-vm).
# Every test cleans up the loop devices, mounts and processes it made.
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

echo "== build: unit and root tests"
setup build
meson configure build -Dvm-tests=false
meson test -C build --print-errorlogs --num-processes 1

echo "== build-sanitize: the same under ASan and UBSan"
setup build-sanitize -Db_sanitize=address,undefined -Db_lundef=false
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-sanitize --print-errorlogs --num-processes 1

echo "== the real-DAX tier (QEMU, emulated NVDIMM, kernels 6.1 and 6.12)"
meson configure build -Dvm-tests=true
ninja -C build >/dev/null
meson test -C build --suite vm --print-errorlogs --num-processes 2
