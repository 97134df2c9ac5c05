#!/bin/bash
# shellcheck disable=SC2016 # jq filters and sh -c scripts: their own $vars
# SPDX-License-Identifier: GPL-2.0-or-later
#
# daxguard remove, on one filesystem used every way at once: shared
# read-write and read-only mappings, a buffered writer with dirty pages,
# processes that only hold an fd, a cwd in the filesystem, an executable
# run from it, a process in another mount namespace, a bind mount of a
# subdirectory with processes using it, and a bystander in a mount
# namespace of its own that uses nothing, whose copies of the mounts (and
# a bind mount of its own) must go too.  Afterwards every user is gone, no
# mount of the device is left in any namespace, the loop device is
# detached, and every file, attached again, has the data it had before
# (invariant 5).  Each process is acted on once, however many uses it has.
#
# Usage: remove.sh xfs-rmap|ext4

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

dg_act_init
dg_setup_fs "${1:-}"

# ------------------------------------------------------------------ #
# The filesystem and its users

mkdir -p "$MNT/dir" "$MNT/sub/deeper" || dg_fail "mkdir in $MNT"
for f in mapped-rw mapped-ro held-1 held-2 ns-held sub/bind-held \
	sub/deeper/plain; do
	head -c $((256 * 1024)) /dev/urandom >"$MNT/$f" || dg_fail "write $MNT/$f"
done
sync -f "$MNT" || dg_fail "syncfs $MNT"

BIND="$DG_TMP/bind"
mkdir -p "$BIND"
mount --bind "$MNT/sub" "$BIND" || dg_fail "mount --bind $MNT/sub $BIND"
dg_log "bind mount of $MNT/sub on $BIND"

# user WHAT START ARGS...: START (dg_spawn_mapper and the like) one of the
# users of the filesystem, which remove must act on: its PID goes into
# PIDS, and WHAT=PID into USERS, for the log
PIDS=()
USERS=""
user()
{
	local what=$1

	shift
	"$@"
	PIDS+=("$DG_PID")
	USERS="$USERS $what=$DG_PID"
}

user rw dg_spawn_mapper "map:$MNT/mapped-rw:0:262144:shared-rw"
user ro dg_spawn_mapper "map:$MNT/mapped-ro:0x10000:0x20000:shared-ro"
user writer dg_spawn_mapper "write:$MNT/dirty:$((4 * 1024 * 1024))"
user hold dg_spawn_mapper "hold:$MNT/held-1"
user hold dg_spawn_mapper "hold:$MNT/held-2"
user cwd dg_spawn_mapper "cwd:$MNT/dir"
user ns dg_spawn_mapper_ns "hold:$MNT/ns-held"
P_NS=$DG_PID
user bind-cwd dg_spawn_mapper "cwd:$BIND"
P_BINDCWD=$DG_PID
user bind-hold dg_spawn_mapper "hold:$BIND/bind-held"
# a process whose executable is on the filesystem, and nothing else
cp "$DG_MAPPER" "$MNT/dg-mapper-copy" || dg_fail "cp $DG_MAPPER $MNT"
ready=$(mktemp "$DG_TMP/ready.XXXXXX")
user exe dg_spawn_ready "$ready" "$MNT/dg-mapper-copy" -r "$ready" cwd:/
dg_log "users:$USERS"
# A bystander in a namespace of its own, which does not use the
# filesystem: its namespace outlives the users, with copies of our two
# mounts in it and a bind mount that exists there only, which daxguard has
# to unmount there.  It is not signalled.
mkdir -p "$DG_TMP/ns-only" || dg_fail "mkdir $DG_TMP/ns-only"
ready=$(mktemp "$DG_TMP/ready.XXXXXX")
dg_spawn_ready "$ready" unshare -m --propagation private \
	sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
	"$MNT/dir" "$DG_TMP/ns-only" "$DG_MAPPER" -r "$ready" cwd:/
P_NSIDLE=$DG_PID

[[ "$(readlink "/proc/$P_NS/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]] ||
	dg_fail "pid $P_NS is not in a mount namespace of its own"
dg_ok "pid $P_NS is in another mount namespace"
n=$(dg_mountinfo_lines "$MAJMIN" "/proc/$P_NSIDLE/mountinfo" | wc -l)
dg_expect_eq "mounts of $MAJMIN in the bystander's namespace before remove (2 copies, 1 its own)" 3 "$n"
[[ -z "$(dg_mounts_below "$DG_TMP/ns-only")" ]] ||
	dg_fail "the bystander's bind mount on $DG_TMP/ns-only leaked into our namespace"
[[ "$(readlink "/proc/$P_BINDCWD/cwd")" == "$BIND" ]] ||
	dg_fail "pid $P_BINDCWD: cwd is $(readlink "/proc/$P_BINDCWD/cwd"), not $BIND"
dg_ok "pid $P_BINDCWD has its cwd in the bind mount"

# More data that reached the filesystem but not the disk: written, never
# synced, right before the removal.
head -c $((3 * 1024 * 1024)) /dev/urandom >"$MNT/late-unsynced" ||
	dg_fail "write $MNT/late-unsynced"
head -c 12345 /dev/urandom >"$BIND/late-through-bind" ||
	dg_fail "write $BIND/late-through-bind"

size=$(stat -c %s "$MNT/dirty")
dg_expect_eq "the buffered writer wrote all of its data" $((4 * 1024 * 1024)) "$size"

# the checksums of every file, as the page cache has them
(cd "$MNT" && find . -type f -print0 | sort -z | xargs -0 sha256sum) \
	>"$DG_TMP/sums.before" || dg_fail "checksums of $MNT"
nfiles=$(wc -l <"$DG_TMP/sums.before")
dg_expect_eq "files checksummed before remove" 11 "$nfiles"

before=$(dg_mountinfo_lines "$MAJMIN" | wc -l)
dg_expect_eq "mounts of $DEV in our namespace before remove" 2 "$before"

# ------------------------------------------------------------------ #
# The removal

dg_run timeout 120 "$DAXGUARD" remove -g 2 "$DEV" -J
dg_json_ok "daxguard remove -g 2 $DEV -J"
dg_expect_eq "daxguard remove -g 2 $DEV -J exit status" 0 "$DG_RC"
dg_expect_eq "JSON complete" true "$(dg_jq .complete)"
dg_expect_eq "JSON dry_run" false "$(dg_jq .dry_run)"
dg_expect_eq "JSON action" '"term"' "$(dg_jq .action)"

want=$(printf '%s\n' "${PIDS[@]}" | jq -sc 'map(tonumber) | sort')
dg_expect_eq "the processes acted on are exactly ours" "$want" \
	"$(dg_jq '[.processes[].pid] | unique')"
# several uses (the exe and its mappings, say) are still one process,
# which gets one SIGTERM
dg_expect_eq "JSON: each process is listed once" '[]' \
	"$(dg_jq '[.processes[].pid] | group_by(.) | map(select(length > 1) | "\(.[0]) x\(length)")')"
dg_expect_eq "JSON: one SIGTERM round, one signal per process" \
	"[\"${#PIDS[@]} processes signalled\"]" \
	"$(dg_jq '[.steps[] | select(.stage == "signal") | .message]')"
for pid in "${PIDS[@]}"; do
	got=$(dg_jq '[.processes[] | select(.pid == $p) | {state, signals}] | .[0]' \
		--argjson p "$pid")
	dg_expect_eq "pid $pid: exited on SIGTERM" \
		'{"state":"exited","signals":["TERM"]}' "$got"
done

for pid in "${PIDS[@]}"; do
	dg_wait_gone "$pid" 5 || dg_fail "pid $pid still runs after remove"
	wait "$pid" 2>/dev/null
done
dg_ok "every user is gone (${#PIDS[@]} processes)"
dg_pid_alive "$P_NSIDLE" ||
	dg_fail "pid $P_NSIDLE (in another namespace, not a user) was killed"
dg_ok "the bystander $P_NSIDLE, which used nothing, still runs"
left=$(awk -v d="$MAJMIN" -v t="$DG_TMP/" '$3 == d && index($5, t) == 1' \
	"/proc/$P_NSIDLE/mountinfo")
[[ -z "$left" ]] || dg_fail "the bystander's namespace still has: $left"
dg_ok "no mount of $MAJMIN left in the bystander's namespace"

# Once detached, the loop device's number may go at once to a device that
# another test attaches, and gets mounted in its own directory.  Every
# mount of ours, in every namespace, was below $DG_TMP: those must be gone.
ours()
{
	awk -v d="$MAJMIN" -v t="$DG_TMP/" '$3 == d && index($5, t) == 1' "$1" \
		2>/dev/null
}
left=$(ours /proc/self/mountinfo)
[[ -z "$left" ]] || dg_fail "$DEV ($MAJMIN) still mounted here: $left"
dg_ok "no mount of $MAJMIN left in our mount namespace"
left=$(dg_mounts_below "$DG_TMP")
[[ -z "$left" ]] || dg_fail "mounts left below $DG_TMP: $left"
dg_ok "no mount left below $DG_TMP (the bind mount went too)"

# any namespace: the other one died with its process (one grep over all
# of them: processes come and go meanwhile, -s ignores those gone)
left=$(grep -s -H -F " $MAJMIN " /proc/[0-9]*/mountinfo |
	awk -v d="$MAJMIN" -v t="$DG_TMP/" '
		{ f = $0; sub(/:.*/, "", f); l = $0; sub(/^[^:]*:/, "", l)
		  split(l, x, " ") }
		x[3] == d && index(x[5], t) == 1 { print f ": " l }')
[[ -z "$left" ]] || dg_fail "a mount of $MAJMIN is left: $left"
dg_ok "no /proc/*/mountinfo has a mount of $MAJMIN below $DG_TMP"

backing=$(dg_loop_backing "$DEV")
attached=$(losetup -n -O NAME -j "$IMG")
[[ -z "$attached" ]] || dg_fail "$IMG still attached to $attached"
[[ "$backing" != "$IMG" ]] || dg_fail "$DEV still has backing file $IMG"
dg_ok "the loop device $DEV is detached from $IMG"

dg_expect_eq "JSON: the release step succeeded" \
	'[{"stage":"release","ok":true}]' \
	"$(dg_jq '[.steps[] | select(.stage == "release") | {stage, ok}]')"
dg_expect_eq "JSON: every step succeeded" '[]' \
	"$(dg_jq '[.steps[] | select(.ok != true)]')"

# ------------------------------------------------------------------ #
# Nothing that reached the filesystem was lost

OLDDEV=$DEV
DEV=$(dg_losetup "$IMG") || exit 1
dg_log "$IMG attached again as $DEV (was $OLDDEV)"
case "$DG_FSTYPE" in
xfs) xfs_repair -n "$DEV" >"$DG_TMP/fsck.log" 2>&1 ;;
ext4) e2fsck -fn "$DEV" >"$DG_TMP/fsck.log" 2>&1 ;;
esac || dg_fail "the filesystem is not clean after remove: $(cat "$DG_TMP/fsck.log")"
dg_ok "the filesystem was unmounted clean (check found nothing)"
mkdir -p "$DG_TMP/verify"
mount -t "$DG_FSTYPE" "$DEV" "$DG_TMP/verify" || dg_fail "mount $DEV $DG_TMP/verify"
(cd "$DG_TMP/verify" && find . -type f -print0 | sort -z | xargs -0 sha256sum) \
	>"$DG_TMP/sums.after" || dg_fail "checksums of $DG_TMP/verify"
if ! diff -u "$DG_TMP/sums.before" "$DG_TMP/sums.after" >"$DG_TMP/sums.diff"; then
	dg_fail "data lost or changed by remove: $(cat "$DG_TMP/sums.diff")"
fi
dg_ok "all $nfiles files have the checksums they had before remove"

dg_done
