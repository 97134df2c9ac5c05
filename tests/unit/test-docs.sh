#!/bin/bash
# Every command has --help and a man page that renders without warnings.
set -euo pipefail
: "${DAXGUARD:?}" "${DOC_DIR:?}"
fail=0
# What the kernel does (../shared/FACTS.md section 1), wherever it is told:
# MF_MEM_PRE_REMOVE is v6.8-rc1 (fa422b353d21), and ext4 is no DAX holder.
for doc in "$DOC_DIR/../README.md" "$DOC_DIR"/*.8; do
	name=${doc#"$DOC_DIR/"}
	if grep -qi 'about 6\.7' "$doc"; then
		echo "$name: says MF_MEM_PRE_REMOVE came in 'about 6.7' (it is v6.8-rc1)"; fail=1
	fi
	if grep -q 'MF_MEM_PRE_REMOVE' "$doc" && ! grep -q 'fa422b353d21' "$doc"; then
		echo "$name: names MF_MEM_PRE_REMOVE without its commit (v6.8-rc1, fa422b353d21)"; fail=1
	fi
done
for doc in "$DOC_DIR/../README.md" "$DOC_DIR/daxguard.8"; do
	tr '\n' ' ' <"$doc" | grep -qi 'ext4 is not a DAX holder' ||
		{ echo "${doc#"$DOC_DIR/"}: does not say that ext4 is not a DAX holder"; fail=1; }
done
cmds=$("$DAXGUARD" --help | awk '/^Commands:/ {on = 1; next} on && !NF {exit} on {print $1}')
[ -n "$cmds" ] || { echo "no commands listed by daxguard --help"; exit 1; }
for page in daxguard.8 $(for c in $cmds; do echo "daxguard-$c.8"; done); do
	if [ ! -f "$DOC_DIR/$page" ]; then
		echo "missing man page: $page"; fail=1; continue
	fi
	warn=$(groff -man -ww -z "$DOC_DIR/$page" 2>&1)
	[ -z "$warn" ] || { echo "$page: $warn"; fail=1; }
done
for c in $cmds; do
	out=$("$DAXGUARD" "$c" --help) || { echo "daxguard $c --help failed"; fail=1; }
	grep -q '^Usage:' <<<"$out" || { echo "daxguard $c --help: no Usage"; fail=1; }
	grep -q "daxguard-$c(8)" <<<"$out" || { echo "daxguard $c --help: no man page reference"; fail=1; }
done
# section 5: the watch daemon's config, and its example is the shipped one
for page in daxguard-watch.conf.5; do
	warn=$(groff -man -ww -z "$DOC_DIR/$page" 2>&1)
	[ -z "$warn" ] || { echo "$page: $warn"; fail=1; }
done
example=$(sed -n '/^\.SH EXAMPLE$/,/^\.EE$/p' "$DOC_DIR/daxguard-watch.conf.5" |
	sed '1,2d;$d' | sed 's/\\-/-/g')
[ "$example" = "$(cat "$DOC_DIR/watch.conf.example")" ] ||
	{ echo "daxguard-watch.conf(5)'s example differs from doc/watch.conf.example"; fail=1; }
# an unknown command is a usage error
rc=0; "$DAXGUARD" no-such-command 2>/dev/null || rc=$?
[ "$rc" -eq 2 ] || { echo "unknown command exited $rc, want 2"; fail=1; }
[ $fail -eq 0 ] && echo "ok: $(wc -w <<<"$cmds") command(s) documented"
exit $fail
