#!/bin/bash
# Install what daxguard needs to build and test, on Debian 12.  Idempotent:
# apt is only asked when a package is missing.
set -euo pipefail

pkgs=(
	build-essential meson ninja-build pkg-config
	libmount-dev libsmartcols-dev libjson-c-dev libudev-dev libext2fs-dev
	comerr-dev xfslibs-dev libndctl-dev libcxl-dev libdaxctl-dev libdevmapper-dev
	xfsprogs e2fsprogs util-linux fdisk psmisc procps lsof jq groff-base attr strace libc-bin
	numactl
)
# watch: the config parser, sd_notify and the journal, and what its tests
# run: udevd for the udev source, node_exporter to read the metrics back,
# systemd-analyze to verify the unit
pkgs+=(libinih-dev libsystemd-dev udev prometheus-node-exporter curl systemd)
# bench/who.sh --scale: daxguard's peak RSS through /usr/bin/time -f %M
pkgs+=(time)
# the sanitizer run needs the runtimes gcc links against
pkgs+=(libasan8 libubsan1)
# the fuzz pass: clang with libFuzzer and its sanitizer runtimes, and
# llvm-profdata/llvm-cov for tests/fuzz/coverage.sh (DG_DEPS_NO_FUZZ=1:
# not these, for a pass that runs no fuzzer: 400 MB less to unpack)
[ -n "${DG_DEPS_NO_FUZZ:-}" ] || pkgs+=(clang libclang-rt-14-dev llvm)

# --list: the packages, one a line, installing nothing (package-test.sh
# keeps these when it purges what it installed)
if [ "${1:-}" = --list ]; then
	printf '%s\n' "${pkgs[@]}"
	exit 0
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps.sh: need root to install: ${missing[*]}" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
