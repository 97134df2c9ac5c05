#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The Debian symbols file lists exactly what lib/libdaxguard.sym exports
# (regenerate it with debian/gen-symbols.sh), and the built library
# defines every one of them under its version node.
set -euo pipefail
: "${SRCDIR:?}" "${LIBDAXGUARD:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

bash "$SRCDIR/debian/gen-symbols.sh" "$tmp/symbols"
if ! diff -u "$SRCDIR/debian/libdaxguard1.symbols" "$tmp/symbols"; then
	echo "not ok: debian/libdaxguard1.symbols is not what lib/libdaxguard.sym exports:" \
		"run debian/gen-symbols.sh"
	fail=1
fi

# NAME@NODE as dpkg-gensymbols writes them; a version node is NODE@NODE
nm -D --defined-only --with-symbol-versions "$LIBDAXGUARD" |
	awk '{ s = $3; sub(/@+/, "@", s); if (s !~ /@/) s = s "@" s; print s }' |
	LC_ALL=C sort >"$tmp/built"
sed -n 's/^ \([^ ]*\) .*/\1/p' "$tmp/symbols" | LC_ALL=C sort >"$tmp/listed"
if ! diff -u "$tmp/listed" "$tmp/built"; then
	echo "not ok: the library does not export what lib/libdaxguard.sym lists (- listed, + built)"
	fail=1
fi
[ $fail -eq 0 ] && echo "ok: $(wc -l <"$tmp/listed") symbols, listed and exported"
exit $fail
