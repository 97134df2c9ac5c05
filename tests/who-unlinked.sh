#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# who-unlinked.sh KIND: files that have no name left but are still in use
# (KIND xfs-rmap, xfs-normap or ext4).
#	PU1  maps U1, closes it, unlinks it: only the mapping keeps it alive
#	PU2  holds U2 open and maps it, then unlinks it
#	PU3  holds U3 open (no mapping), then unlinks it
#	PF   maps F, which keeps its name
# A range in each unlinked file must report an owner with "unlinked": true,
# and as users the processes that map the pages hit plus the fd holders.
# shellcheck source-path=SCRIPTDIR source=lib.sh
# shellcheck disable=SC2016 # jq filters use their own $variables
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

dg_require_root
dg_require_mapper
dg_tmpdir
dg_setup_fs "${1:-}"

PAGE=4096
SIZE=$((8 * PAGE))
declare -A INODE DEVOFF
for f in U1 U2 U3 F; do
	dg_write_chunk "$MNT/$f" 0 "$SIZE"
	INODE[$f]=$(dg_inode "$MNT/$f")
	# ground truth before the name goes: where page 2 is on the device
	DEVOFF[$f]=$(dg_devoff "$MNT/$f" $((2 * PAGE)))
done
sync

PU1=$(dg_start_mapper "map:$MNT/U1:0:$SIZE:shared-ro" "unlink:$MNT/U1")
PU2=$(dg_start_mapper "hold:$MNT/U2" "map:$MNT/U2:0:$SIZE:shared-rw" "unlink:$MNT/U2")
PU3=$(dg_start_mapper "hold:$MNT/U3" "unlink:$MNT/U3")
PF=$(dg_start_mapper "map:$MNT/F:0:$SIZE:shared-ro")
dg_log "PU1=$PU1 PU2=$PU2 PU3=$PU3 PF=$PF"
for f in U1 U2 U3; do
	[[ ! -e "$MNT/$f" ]] || dg_fail "$MNT/$f still exists"
done

# fd_of PID PATH: the descriptor PID holds PATH (now unlinked) open with
fd_of()
{
	local fd

	for fd in /proc/"$1"/fd/*; do
		if [[ "$(readlink "$fd")" == "$2 (deleted)" ]]; then
			echo "${fd##*/}"
			return 0
		fi
	done
	dg_fail "pid $1 holds no fd on $2"
}
FD_U2=$(fd_of "$PU2" "$MNT/U2")
FD_U3=$(fd_of "$PU3" "$MNT/U3")

# the extents did not move when the names went (FIEMAP through the fd)
dg_assert_eq "U2 page 2 is still where it was" "${DEVOFF[U2]}" \
	"$(dg_devoff "/proc/$PU2/fd/$FD_U2" $((2 * PAGE)))"

# check_unlinked NAME USERS_JSON: page 2 of NAME
check_unlinked()
{
	local f=$1 users=$2 path

	dg_who "$DEV" --offset "${DEVOFF[$f]}" --length "$PAGE"
	dg_assert_eq "$f: the owner" \
		"[{\"type\":\"file\",\"inode\":${INODE[$f]},\"unlinked\":true,\"file_offset\":$((2 * PAGE)),\"offset\":${DEVOFF[$f]},\"length\":$PAGE,\"filesystem\":\"$DEV\"}]" \
		"$(dg_jq '[.owners[] | {type, inode, unlinked, file_offset, offset, length, filesystem}]')"
	# no name left: null, or a name marked as gone, never the old name
	path=$(dg_jq '.owners[0].path')
	dg_assert_ne "$f: the owner's path is not the old name" "\"$MNT/$f\"" "$path"
	dg_assert_eq "$f: users" "$users" \
		"$(dg_jq '[.users[] | {pid, use}] | unique | sort_by(.pid, .use)')"
	dg_assert_eq "$f: users' inode" "[${INODE[$f]}]" \
		"$(dg_jq '[.users[].inode] | unique')"
	# as the process sees it: gone, or marked "(deleted)" as /proc does
	dg_assert_eq "$f: users' path" "[]" \
		"$(dg_jq --arg p "$MNT/$f" '[.users[].path | select(. != null and . != $p + " (deleted)")]')"
}

check_unlinked U1 "[{\"pid\":$PU1,\"use\":\"map\"}]"
dg_assert_eq "U1: PU1's mapping" "[[$((2 * PAGE)),$PAGE,true,false]]" \
	"$(dg_jq '[.users[] | [.file_offset, .file_length, .shared, .writable]]')"
check_unlinked U2 "[{\"pid\":$PU2,\"use\":\"fd\"},{\"pid\":$PU2,\"use\":\"map\"}]"
dg_assert_eq "U2: PU2's fd" "[$FD_U2]" "$(dg_jq '[.users[] | select(.use == "fd") | .fd]')"
check_unlinked U3 "[{\"pid\":$PU3,\"use\":\"fd\"}]"
dg_assert_eq "U3: PU3's fd" "[$FD_U3]" "$(dg_jq '[.users[] | select(.use == "fd") | .fd]')"

# the linked file next to them is reported as usual
dg_who "$DEV" --offset "${DEVOFF[F]}" --length "$PAGE"
dg_assert_eq "F: the owner" \
	"[{\"inode\":${INODE[F]},\"path\":\"$MNT/F\",\"unlinked\":false}]" \
	"$(dg_jq '[.owners[] | {inode, path, unlinked}]')"
dg_assert_eq "F: users" "[$PF]" "$(dg_jq '[.users[].pid] | unique')"

# the whole device: every file in use, the unlinked ones marked so
dg_who "$DEV"
dg_assert_eq "whole device: whole_device" true "$(dg_jq .whole_device)"
dg_assert_eq "whole device: file owners" \
	"$(jq -nc --argjson u1 "${INODE[U1]}" --argjson u2 "${INODE[U2]}" \
		--argjson u3 "${INODE[U3]}" --argjson f "${INODE[F]}" \
		'[[$u1, true], [$u2, true], [$u3, true], [$f, false]] | sort')" \
	"$(dg_jq '[.owners[] | select(.type == "file") | [.inode, .unlinked]] | unique')"
dg_assert_eq "whole device: users" \
	"$(jq -nc --argjson pu1 "$PU1" --argjson pu2 "$PU2" --argjson pu3 "$PU3" \
		--argjson pf "$PF" \
		'[[$pu1, "map"], [$pu2, "fd"], [$pu2, "map"], [$pu3, "fd"], [$pf, "map"]] | sort')" \
	"$(dg_jq '[.users[] | [.pid, .use]] | unique')"

echo "1..$DG_NCHECK"
