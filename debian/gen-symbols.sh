#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# debian/gen-symbols.sh [SYMBOLS]: write the symbols file of libdaxguard1
# from lib/libdaxguard.sym (the version script: what the library exports)
# to SYMBOLS, by default debian/libdaxguard1.symbols.  Run it after adding
# a symbol; tests/unit (symbols) fails until the two agree, and the package
# build (DPKG_GENSYMBOLS_CHECK_LEVEL=4) fails unless the built library
# exports exactly these.
#
# A symbol keeps the version its line in the current file gives it: the
# first package version that exported it.  A new one gets the upstream
# version in meson.build, the first release to export it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-debian/libdaxguard1.symbols}
ver=$(sed -n "s/^[[:space:]]*version : '\([^']*\)',*$/\1/p" meson.build | head -1)
[ -n "$ver" ] || { echo "gen-symbols: no version in meson.build" >&2; exit 1; }

body=$(awk -v ver="$ver" -v old=debian/libdaxguard1.symbols '
	BEGIN {
		while ((getline line < old) > 0)
			if (line ~ /^ [^ ]+@[^ ]+ /) {
				split(line, f, " ")
				seen[f[1]] = f[2]
			}
	}
	function emit(s) { print " " s " " (s in seen ? seen[s] : ver) }
	/^[A-Za-z0-9_.]+[ \t]*\{/ {
		node = $1
		sub(/\{.*/, "", node)
		emit(node "@" node) # the version node itself, as the linker defines it
		next
	}
	/^[ \t]*(global|local):/ || /^[ \t]*\}/ { next }
	/^[ \t]*[A-Za-z_][A-Za-z0-9_]*;/ {
		s = $1
		sub(/;.*/, "", s)
		emit(s "@" node)
	}' lib/libdaxguard.sym | LC_ALL=C sort)
{
	echo "libdaxguard.so.1 libdaxguard1 #MINVER#"
	echo "* Build-Depends-Package: libdaxguard-dev"
	printf '%s\n' "$body"
} >"$out.new"
mv "$out.new" "$out"
