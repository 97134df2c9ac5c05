#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# dg-mapper.sh: the test helper does what the other tests rely on, checked
# against /proc: mappings with the right offset, length, mode and pages
# faulted in, no fd left behind by map:, fds kept by hold: and write:,
# cwd:, root:, unlink:, the write pattern, and its errors.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

dg_require_mapper
dg_tmpdir

F=$DG_TMP/f
head -c $((16 * 4096)) /dev/zero >"$F"

# maps_line PID FILE: the /proc/PID/maps line of FILE's mapping
maps_line()
{
	awk -v f="$2" '$6 == f' "/proc/$1/maps"
}

# fds_on PID FILE: how many of PID's fds point to FILE
fds_on()
{
	local fd n=0

	for fd in /proc/"$1"/fd/*; do
		[[ "$(readlink "$fd")" == "$2" ]] && n=$((n + 1))
	done
	echo "$n"
}

# check_map MODE PERMS: map 2 pages at page 1, check the VMA
check_map()
{
	local mode=$1 perms=$2 pid line range rss

	pid=$(dg_start_mapper "map:$F:0x1000:8192:$mode")
	line=$(maps_line "$pid" "$F")
	[[ -n "$line" ]] || dg_fail "$mode: pid $pid does not map $F"
	read -r range p off _ <<<"$line"
	dg_assert_eq "$mode: permissions" "$perms" "$p"
	dg_assert_eq "$mode: file offset" 00001000 "$off"
	dg_assert_eq "$mode: length" 8192 $((16#${range#*-} - 16#${range%-*}))
	dg_assert_eq "$mode: no fd left open" 0 "$(fds_on "$pid" "$F")"
	rss=$(awk -v r="$range" '
		$1 == r { found = 1; next }
		found && $1 == "Rss:" { print $2; exit }' "/proc/$pid/smaps")
	dg_assert_eq "$mode: every page faulted in (Rss, kB)" 8 "$rss"
	dg_stop "$pid"
}
check_map shared-rw rw-s
check_map shared-ro r--s
check_map private-ro r--p
check_map private-rw rw-p

# hold, cwd, write, unlink together; readiness on stdout without -r
D=$DG_TMP/dir
W=$DG_TMP/w
U=$DG_TMP/u
mkdir "$D"
cp "$F" "$U"
"$DG_MAPPER" "hold:$F" "cwd:$D" "write:$W:10000" "map:$U:0:4096:shared-ro" \
	"unlink:$U" >"$DG_TMP/stdout" 2>&1 &
PID=$!
dg_register_pid "$PID"
disown "$PID"
for ((i = 0; i < 200; i++)); do
	# (the shell of the background job may not have created it yet)
	[[ -f "$DG_TMP/stdout" && "$(<"$DG_TMP/stdout")" == ready ]] && break
	sleep 0.05
done
dg_assert_eq "ready on stdout" ready "$(<"$DG_TMP/stdout")"
dg_assert_eq "hold: keeps an fd" 1 "$(fds_on "$PID" "$F")"
dg_assert_eq "cwd: changes directory" "$D" "$(readlink "/proc/$PID/cwd")"
dg_assert_eq "write: keeps an fd" 1 "$(fds_on "$PID" "$W")"
dg_assert_eq "write: the size" 10000 "$(stat -c %s "$W")"
# byte N is (N * 7 + N / 4096) & 0xff
dg_assert_eq "write: the pattern" "$(((0 * 7) & 255)) $(((4095 * 7) & 255)) $(((5000 * 7 + 1) & 255)) $(((9999 * 7 + 2) & 255))" \
	"$(for n in 0 4095 5000 9999; do od -An -tu1 -j "$n" -N1 "$W"; done | xargs)"
[[ ! -e "$U" ]] || dg_fail "unlink: $U still exists"
dg_assert_eq "unlink: the mapping stays" 1 \
	"$(awk -v f="$U" '$6 == f && $7 == "(deleted)"' "/proc/$PID/maps" | wc -l)"
dg_stop "$PID"

# relative ready file, then cwd: the file still lands where it was meant
READY_DIR=$DG_TMP/rel
mkdir "$READY_DIR"
(cd "$READY_DIR" && exec "$DG_MAPPER" -r ready "cwd:/") >/dev/null 2>&1 &
PID=$!
dg_register_pid "$PID"
disown "$PID"
for ((i = 0; i < 200; i++)); do
	[[ -f "$READY_DIR/ready" ]] && break
	sleep 0.05
done
dg_assert_eq "relative ready file" ready "$(cat "$READY_DIR/ready" 2>/dev/null)"
dg_stop "$PID"

# root: chroots, and "ready" still lands in the ready file outside the root
JAIL=$DG_TMP/jail
mkdir "$JAIL"
PID=$(dg_start_mapper "root:$JAIL")
dg_assert_eq "root: changes the root" "$JAIL" "$(readlink "/proc/$PID/root")"
dg_stop "$PID"

# errors: exit 1, "dg-mapper: OBJECT: cause"
err()
{
	local label=$1 expect=$2

	shift 2
	dg_run timeout 10 "$DG_MAPPER" "$@"
	dg_assert_eq "$label: exit status" 1 "$DG_RC"
	dg_assert_eq "$label: message" "$expect" "$DG_ERR"
}
err "no such file" "dg-mapper: $DG_TMP/nope: No such file or directory" \
	"hold:$DG_TMP/nope"
err "no such file to map" "dg-mapper: $DG_TMP/nope: No such file or directory" \
	"map:$DG_TMP/nope:0:4096:shared-ro"
err "bad mode" "dg-mapper: shared: invalid mapping mode" "map:$F:0:4096:shared"
err "unaligned offset" "dg-mapper: 100: offset not page aligned" \
	"map:$F:100:4096:shared-ro"
err "past the end" "dg-mapper: $F: mapping beyond end of file" \
	"map:$F:0:0x11000:shared-ro"
err "bad number" "dg-mapper: map:$F:0:12k:shared-ro: invalid number" \
	"map:$F:0:12k:shared-ro"
err "unknown op" "dg-mapper: frob:$F: invalid operation" "frob:$F"
err "no such directory" "dg-mapper: $DG_TMP/nope: No such file or directory" \
	"cwd:$DG_TMP/nope"
err "no such root" "dg-mapper: $DG_TMP/nope: No such file or directory" \
	"root:$DG_TMP/nope"
err "no such ready directory" "dg-mapper: $DG_TMP/nope/ready: No such file or directory" \
	-r "$DG_TMP/nope/ready" "cwd:/"

echo "1..$DG_NCHECK"
