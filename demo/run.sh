#!/bin/bash
# README's first command: install what daxguard needs, build it, and run
# the demo.  As root, or as a user who may sudo (it asks sudo then).
# apt's and the compiler's output goes to a log; the terminal gets one
# line per step, then the demo.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		exec sudo bash "$PWD/demo/run.sh" "$@"
	fi
	echo "demo/run.sh: run it as root: it installs packages, attaches a loop device and mounts it" >&2
	exit 1
fi

log=$(mktemp --suffix=.log /tmp/daxguard-setup.XXXXXX)
echo "the output of apt and of the build goes to $log"
step() { # WHAT COMMAND...
	local what=$1 t0=$SECONDS

	shift
	printf '%s... ' "$what"
	if "$@" >>"$log" 2>&1 </dev/null; then
		echo "done, $((SECONDS - t0)) s"
	else
		echo "failed after $((SECONDS - t0)) s; the end of $log:"
		tail -n 20 "$log" | sed 's/^/  /'
		exit 1
	fi
}
# the demo runs no fuzzer: not clang and llvm (400 MB)
step "installing build dependencies" env DG_DEPS_NO_FUZZ=1 bash scripts/deps.sh
step "building" bash scripts/build.sh
exec bash demo/demo.sh
