#!/bin/bash
# Every command has --help and a man page that renders without warnings.
set -euo pipefail
: "${DAXGUARD:?}" "${DOC_DIR:?}"
fail=0
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
