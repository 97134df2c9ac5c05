#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# who-whole.sh KIND: a whole-device answer costs in proportion to its
# users, not to the files on the filesystem (KIND xfs-rmap, xfs-normap or
# ext4).
#  - 3,000 files in 30 directories; five users: a mapper of a file two
#    directories down, a holder of an open file, a process whose cwd is a
#    directory, a process that mapped a file and then chrooted below the
#    mount, and a holder of a file renamed after it was opened.
#  - `who MNT -J` names each file in use by a path that, looked up now, is
#    that very inode (device and inode number), and the renamed file by its
#    new name.
#  - Under strace, who reads no directory of the filesystem: no
#    getdents64 on a descriptor below the mountpoint.  The names come from
#    the users' /proc links, each checked by one lookup, never from a walk.
# shellcheck source-path=SCRIPTDIR source=lib.sh
# shellcheck disable=SC2016 # jq filters use their own $variables
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

dg_require_root
dg_require_mapper
dg_require_cmd strace
dg_tmpdir
set +e
dg_setup_fs "${1:-}"

for d in $(seq -w 0 29); do
	mkdir -p "$MNT/d$d/sub" || dg_fail "mkdir"
	(cd "$MNT/d$d" && touch f{000..099}) || dg_fail "touch"
done
PAGE=4096
dg_write_chunk "$MNT/d07/sub/mapped" 0 $((4 * PAGE))
dg_write_chunk "$MNT/d11/held" 0 $PAGE
dg_write_chunk "$MNT/d13/sub/jailed" 0 $((2 * PAGE))
dg_write_chunk "$MNT/d17/before" 0 $PAGE
sync -f "$MNT"

dg_spawn_mapper "map:$MNT/d07/sub/mapped:0:$((4 * PAGE)):shared-ro"
P_MAP=$DG_PID
dg_spawn_mapper "hold:$MNT/d11/held"
P_HOLD=$DG_PID
dg_spawn_mapper "cwd:$MNT/d23"
P_CWD=$DG_PID
dg_spawn_mapper "map:$MNT/d13/sub/jailed:0:$((2 * PAGE)):shared-ro" "root:$MNT/d13"
P_JAIL=$DG_PID
dg_spawn_mapper "hold:$MNT/d17/before"
P_REN=$DG_PID
mv "$MNT/d17/before" "$MNT/d17/after" || dg_fail "mv"

# every file in use, by the path its owner entry gives: that inode, now
check_names()
{
	local what=$1 want path pid
	declare -A want=(
		["$MNT/d07/sub/mapped"]=$P_MAP
		["$MNT/d11/held"]=$P_HOLD
		["$MNT/d23"]=$P_CWD
		["$MNT/d13/sub/jailed"]=$P_JAIL
		["$MNT/d17/after"]=$P_REN
	)
	for path in "${!want[@]}"; do
		pid=${want[$path]}
		dg_expect_eq "$what: pid $pid's file is named $path" "$path" \
			"$(dg_jq -r --argjson i "$(dg_inode "$path")" \
				'[.owners[] | select(.inode == $i) | .path] | unique | .[]')"
		dg_expect_ne "$what: pid $pid is a user of $path" "" \
			"$(dg_jq --argjson p "$pid" '[.users[] | select(.pid == $p) | .pid] | unique | .[]')"
	done
}

dg_run "$DAXGUARD" who "$MNT" -J
dg_expect_eq "who MNT: exit 0" 0 "$DG_RC"
dg_json_ok "who MNT -J"
check_names "who MNT"
# the chrooted process sees its file below its own root
dg_expect_eq "the chrooted mapper's path is its own view" "/sub/jailed" \
	"$(dg_jq -r --argjson p "$P_JAIL" '[.users[] | select(.pid == $p and .use == "map") | .path] | unique | .[]')"

# no directory of the filesystem is read: strace -y names each fd's path
# (LeakSanitizer cannot run under ptrace: the sanitizer build's leak
# check is the run above)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
	strace -f -y -e trace=getdents64 -o "$DG_TMP/strace" "$DAXGUARD" who "$MNT" -J \
	>"$DG_TMP/.out" 2>"$DG_TMP/.err" </dev/null
dg_ran $? "strace daxguard who $MNT -J"
dg_expect_eq "who MNT under strace: exit 0" 0 "$DG_RC"
dg_json_ok "who MNT -J under strace"
check_names "who MNT under strace"
n_fs=$(grep -cF "getdents64(" "$DG_TMP/strace")
n_walk=$(grep -F "getdents64(" "$DG_TMP/strace" | grep -cF "<$MNT")
dg_expect_ne "strace saw getdents64 at all (of /proc)" 0 "$n_fs"
dg_expect_eq "no directory below $MNT was read" 0 "$n_walk"
[[ "$n_walk" == 0 ]] || grep -F "<$MNT" "$DG_TMP/strace" | head -5 | sed 's/^/#   /'
dg_done
