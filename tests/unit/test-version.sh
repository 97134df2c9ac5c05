#!/bin/bash
# daxguard --version (and -V): the version first, as `ndctl --version` and
# `xfs_io -V` print it, then what this build can do, from the library in
# use: its version, the optional libraries built in, the reverse maps.
set -euo pipefail
: "${DAXGUARD:?}" "${VERSION:?}"
fail=0
bad() { echo "not ok: $*"; fail=1; }

for opt in --version -V; do
	out=$("$DAXGUARD" "$opt") || { bad "daxguard $opt exited $?"; continue; }
	first=$(head -1 <<<"$out")
	[ "$first" = "daxguard $VERSION" ] ||
		bad "$opt: first line '$first', want 'daxguard $VERSION'"
	grep -qx "libdaxguard $VERSION" <<<"$out" ||
		bad "$opt: no line 'libdaxguard $VERSION'"
	features=$(sed -n 's/^features: //p' <<<"$out")
	for f in libndctl libcxl libdevmapper libudev libsystemd; do
		grep -qw -- "$f" <<<"$features" || bad "$opt: features '$features' lack $f"
	done
	rmaps=$(sed -n 's/^reverse maps: //p' <<<"$out")
	[ "$rmaps" = "xfs-rmapbt, xfs-bulkstat, ext4-libext2fs, fiemap" ] ||
		bad "$opt: reverse maps '$rmaps'"
done
# what scripts parse stays on stdout, nothing on stderr
err=$("$DAXGUARD" --version 2>&1 >/dev/null)
[ -z "$err" ] || bad "--version wrote to stderr: $err"
[ $fail -eq 0 ] && echo "ok: --version and -V"
exit $fail
