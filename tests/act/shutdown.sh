#!/bin/bash
# shellcheck disable=SC2016 # jq filters: their own $vars
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A filesystem that shut itself down (XFS after an I/O error, or a device
# gone from under it: the state a dying DAX device leaves): its users must
# still be named, and a removal must still rid it of them and unmount it.
#
# After `xfs_io -x -c shutdown`, getattr of every file of an XFS fails
# with EIO, so a stat() of /proc/PID/fd/N, cwd or root says nothing of
# which file it is.  daxguard used to take that as "no use", named only
# the mappers (their /proc/PID/maps lines carry device and inode) and
# answered "complete"; a removal then left the holders behind, and could
# not unmount either, since the check that the mountpoint is still the
# mount (statx) failed the same way.
#
#  - four users: a mapper, an fd holder, a process whose cwd is a
#    directory of it, and one chrooted into it;
#  - after the shutdown, `who DEV -J` names all four, each by its use,
#    and says the answer is complete;
#  - a bystander in a mount namespace of its own, with a bind mount of the
#    filesystem that exists there only and no /proc of ours (a tmpfs on
#    it, as in a container): it uses nothing, so it is not signalled, but
#    its mount must go too.  The check that the mount point still leads to
#    that mount is made from inside the namespace, and after a shutdown
#    it reads fdinfo, which it used to look for under that /proc;
#  - `remove DEV --action kill -J` kills exactly the four, unmounts
#    everywhere, and detaches the loop device; the freeze step says why it
#    did not freeze.
#
# Usage: shutdown.sh xfs-rmap|xfs-normap|ext4

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

dg_act_init
dg_require_cmd xfs_io
dg_setup_fs "${1:-}"

mkdir -p "$MNT/cwd-dir" "$MNT/jail" || dg_fail "mkdir in $MNT"
dg_write_chunk "$MNT/mapped" 0 16384
dg_write_chunk "$MNT/held" 0 4096
sync -f "$MNT" || dg_fail "syncfs $MNT"

dg_spawn_mapper "map:$MNT/mapped:0:16384:shared-ro"
P_MAP=$DG_PID
dg_spawn_mapper "hold:$MNT/held"
P_HOLD=$DG_PID
dg_spawn_mapper "cwd:$MNT/cwd-dir"
P_CWD=$DG_PID
dg_spawn_mapper "root:$MNT/jail"
P_ROOT=$DG_PID
PIDS=("$P_MAP" "$P_HOLD" "$P_CWD" "$P_ROOT")
dg_log "users: map=$P_MAP hold=$P_HOLD cwd=$P_CWD root=$P_ROOT"

mkdir -p "$DG_TMP/ns-only" || dg_fail "mkdir $DG_TMP/ns-only"
ready=$(mktemp "$DG_TMP/ready.XXXXXX")
dg_spawn_ready "$ready" unshare -m --propagation private \
	sh -c 'mount --bind "$1" "$2" && mount -t tmpfs none /proc && shift 2 && exec "$@"' \
	sh "$MNT/cwd-dir" "$DG_TMP/ns-only" "$DG_MAPPER" -r "$ready" cwd:/
P_NSIDLE=$DG_PID
n=$(dg_mountinfo_lines "$MAJMIN" "/proc/$P_NSIDLE/mountinfo" | wc -l)
dg_expect_eq "mounts of $MAJMIN in the bystander's namespace (1 copy, 1 its own)" 2 "$n"
[[ -z "$(dg_mounts_below "$DG_TMP/ns-only")" ]] ||
	dg_fail "the bystander's bind mount on $DG_TMP/ns-only leaked into our namespace"

# uses PID: the uses `who` found for PID, sorted, as one line
uses()
{
	dg_jq -r --argjson p "$1" '[.users[] | select(.pid == $p) | .use] | unique | join(",")'
}

check_who()
{
	local what=$1

	dg_run "$DAXGUARD" who "$DEV" -J
	dg_json_ok "$what: who $DEV -J"
	dg_expect_eq "$what: who exit status" 0 "$DG_RC"
	dg_expect_eq "$what: the answer is complete" false "$(dg_jq .incomplete)"
	dg_expect_eq "$what: the mapper maps" map "$(uses "$P_MAP")"
	dg_expect_eq "$what: the holder holds an fd" fd "$(uses "$P_HOLD")"
	dg_expect_eq "$what: the cwd user is found by its cwd" cwd "$(uses "$P_CWD")"
	dg_expect_eq "$what: the chrooted process is found by its root" root \
		"$(uses "$P_ROOT")"
	dg_expect_eq "$what: the held file is the right inode" "$INO_HELD" \
		"$(dg_jq --argjson p "$P_HOLD" '[.users[] | select(.pid == $p) | .inode] | .[0]')"
}

INO_HELD=$(dg_inode "$MNT/held")
check_who "before the shutdown"

xfs_io -x -c shutdown "$MNT" || dg_fail "xfs_io -x -c shutdown $MNT"
# the state this test is about: stat of the held file through /proc fails
if stat -L "/proc/$P_HOLD/fd/3" >/dev/null 2>&1 &&
	stat -L "/proc/$P_CWD/cwd" >/dev/null 2>&1; then
	dg_log "$DG_FSTYPE: stat through /proc still works after the shutdown"
else
	dg_ok "$DG_FSTYPE shut down: stat through /proc fails"
fi
check_who "after the shutdown"

dg_run timeout 60 "$DAXGUARD" remove --action kill "$DEV" -J
dg_json_ok "remove --action kill $DEV -J"
dg_expect_eq "remove exit status" 0 "$DG_RC"
dg_expect_eq "remove: complete" true "$(dg_jq .complete)"
want=$(printf '%s\n' "${PIDS[@]}" | jq -sc 'map(tonumber) | sort')
dg_expect_eq "remove: the processes acted on are exactly the four users" "$want" \
	"$(dg_jq '[.processes[].pid] | unique')"
dg_expect_eq "remove: each was killed" '["exited"]' \
	"$(dg_jq '[.processes[].state] | unique')"
for pid in "${PIDS[@]}"; do
	dg_wait_gone "$pid" 5 || dg_fail "pid $pid still runs after remove"
	wait "$pid" 2>/dev/null
done
dg_ok "every user is gone"
kill -0 "$P_NSIDLE" 2>/dev/null || dg_fail "the bystander (pid $P_NSIDLE) was signalled"
dg_ok "the bystander, which uses nothing, still runs"
dg_expect_eq "mounts of $MAJMIN left in the bystander's namespace" 0 \
	"$(dg_mountinfo_lines "$MAJMIN" "/proc/$P_NSIDLE/mountinfo" | wc -l)"
# ours, and the bystander's copy of it and bind mount; then the release
dg_expect_eq "remove: unmounted 3 mounts and released" '[true,true,true,true]' \
	"$(dg_jq '[.steps[] | select(.stage == "unmount" or .stage == "release") | .ok]')"
dg_expect_eq "remove: no step failed" '[]' \
	"$(dg_jq '[.steps[] | select(.ok != true) | "\(.stage): \(.message)"]')"
[[ -z "$(dg_mounts_below "$DG_TMP")" ]] || dg_fail "still mounted: $(dg_mounts_below "$DG_TMP")"
dg_ok "nothing is mounted below $DG_TMP"
[[ -z "$(losetup -n -O NAME -j "$IMG")" ]] || dg_fail "$IMG is still attached"
dg_ok "the loop device is detached from $IMG"
dg_done
