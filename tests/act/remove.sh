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
# Usage: remove.sh xfs|ext4     (xfs is made with -m rmapbt=1)

FSTYPE=${1:-}
case "$FSTYPE" in
xfs | ext4) ;;
*)
	echo "usage: $0 xfs|ext4" >&2
	exit 1
	;;
esac

# shellcheck source=tests/act/lib-act.sh
. "$(dirname "$0")/lib-act.sh"

act_init
act_mkfs "$FSTYPE"

# ------------------------------------------------------------------ #
# The filesystem and its users

mkdir -p "$MNT/dir" "$MNT/sub/deeper" || act_fail "mkdir in $MNT"
for f in mapped-rw mapped-ro held-1 held-2 ns-held sub/bind-held \
	sub/deeper/plain; do
	head -c $((256 * 1024)) /dev/urandom >"$MNT/$f" || act_fail "write $MNT/$f"
done
sync -f "$MNT" || act_fail "syncfs $MNT"

BIND="$ACT_T/bind"
mkdir -p "$BIND"
mount --bind "$MNT/sub" "$BIND" || act_fail "mount --bind $MNT/sub $BIND"
act_log "bind mount of $MNT/sub on $BIND"

PIDS=()
act_mapper "map:$MNT/mapped-rw:0:262144:shared-rw"
P_RW=$ACT_PID
PIDS+=("$P_RW")
act_mapper "map:$MNT/mapped-ro:0x10000:0x20000:shared-ro"
P_RO=$ACT_PID
PIDS+=("$P_RO")
act_mapper "write:$MNT/dirty:$((4 * 1024 * 1024))"
P_WRITE=$ACT_PID
PIDS+=("$P_WRITE")
act_mapper "hold:$MNT/held-1"
P_HOLD1=$ACT_PID
PIDS+=("$P_HOLD1")
act_mapper "hold:$MNT/held-2"
P_HOLD2=$ACT_PID
PIDS+=("$P_HOLD2")
act_mapper "cwd:$MNT/dir"
P_CWD=$ACT_PID
PIDS+=("$P_CWD")
act_mapper_ns "hold:$MNT/ns-held"
P_NS=$ACT_PID
PIDS+=("$P_NS")
act_mapper "cwd:$BIND"
P_BINDCWD=$ACT_PID
PIDS+=("$P_BINDCWD")
act_mapper "hold:$BIND/bind-held"
P_BINDHOLD=$ACT_PID
PIDS+=("$P_BINDHOLD")
# a process whose executable is on the filesystem, and nothing else
cp "$DG_MAPPER" "$MNT/dg-mapper-copy" || act_fail "cp $DG_MAPPER $MNT"
ACT_NREADY=$((ACT_NREADY + 1))
act_start_ready "$ACT_T/ready.$ACT_NREADY" "$MNT/dg-mapper-copy" \
	-r "$ACT_T/ready.$ACT_NREADY" cwd:/
P_EXE=$ACT_PID
PIDS+=("$P_EXE")
# A bystander in a namespace of its own, which does not use the
# filesystem: its namespace outlives the users, with copies of our two
# mounts in it and a bind mount that exists there only, which daxguard has
# to unmount there.  It is not signalled.
mkdir -p "$ACT_T/ns-only" || act_fail "mkdir $ACT_T/ns-only"
ACT_NREADY=$((ACT_NREADY + 1))
act_start_ready "$ACT_T/ready.$ACT_NREADY" \
	unshare -m --propagation private \
	sh -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' sh \
	"$MNT/dir" "$ACT_T/ns-only" "$DG_MAPPER" -r "$ACT_T/ready.$ACT_NREADY" cwd:/
P_NSIDLE=$ACT_PID
act_log "users: rw=$P_RW ro=$P_RO writer=$P_WRITE hold=$P_HOLD1,$P_HOLD2" \
	"cwd=$P_CWD ns=$P_NS bind-cwd=$P_BINDCWD bind-hold=$P_BINDHOLD exe=$P_EXE"

[[ "$(readlink "/proc/$P_NS/ns/mnt")" != "$(readlink /proc/self/ns/mnt)" ]] ||
	act_fail "pid $P_NS is not in a mount namespace of its own"
act_ok "pid $P_NS is in another mount namespace"
n=$(act_mountinfo_lines "$MAJMIN" "/proc/$P_NSIDLE/mountinfo" | wc -l)
act_eq "mounts of $MAJMIN in the bystander's namespace before remove (2 copies, 1 its own)" 3 "$n"
[[ -z "$(act_mounts_below "$ACT_T/ns-only")" ]] ||
	act_fail "the bystander's bind mount on $ACT_T/ns-only leaked into our namespace"
[[ "$(readlink "/proc/$P_BINDCWD/cwd")" == "$BIND" ]] ||
	act_fail "pid $P_BINDCWD: cwd is $(readlink "/proc/$P_BINDCWD/cwd"), not $BIND"
act_ok "pid $P_BINDCWD has its cwd in the bind mount"

# More data that reached the filesystem but not the disk: written, never
# synced, right before the removal.
head -c $((3 * 1024 * 1024)) /dev/urandom >"$MNT/late-unsynced" ||
	act_fail "write $MNT/late-unsynced"
head -c 12345 /dev/urandom >"$BIND/late-through-bind" ||
	act_fail "write $BIND/late-through-bind"

size=$(stat -c %s "$MNT/dirty")
act_eq "the buffered writer wrote all of its data" $((4 * 1024 * 1024)) "$size"

# the checksums of every file, as the page cache has them
(cd "$MNT" && find . -type f -print0 | sort -z | xargs -0 sha256sum) \
	>"$ACT_T/sums.before" || act_fail "checksums of $MNT"
nfiles=$(wc -l <"$ACT_T/sums.before")
act_eq "files checksummed before remove" 11 "$nfiles"

before=$(act_mountinfo_lines "$MAJMIN" | wc -l)
act_eq "mounts of $DEV in our namespace before remove" 2 "$before"

# ------------------------------------------------------------------ #
# The removal

act_run timeout 120 "$DAXGUARD" remove -g 2 "$DEV" -J
act_json_ok "daxguard remove -g 2 $DEV -J"
act_eq "daxguard remove -g 2 $DEV -J exit status" 0 "$ACT_RC"
act_eq "JSON complete" true "$(act_jq .complete)"
act_eq "JSON dry_run" false "$(act_jq .dry_run)"
act_eq "JSON action" '"term"' "$(act_jq .action)"

want=$(printf '%s\n' "${PIDS[@]}" | jq -sc 'map(tonumber) | sort')
act_eq "the processes acted on are exactly ours" "$want" \
	"$(act_jq '[.processes[].pid] | unique')"
# several uses (the exe and its mappings, say) are still one process,
# which gets one SIGTERM
act_eq "JSON: each process is listed once" '[]' \
	"$(act_jq '[.processes[].pid] | group_by(.) | map(select(length > 1) | "\(.[0]) x\(length)")')"
act_eq "JSON: one SIGTERM round, one signal per process" \
	"[\"${#PIDS[@]} processes signalled\"]" \
	"$(act_jq '[.steps[] | select(.stage == "signal") | .message]')"
for pid in "${PIDS[@]}"; do
	got=$(act_jq '[.processes[] | select(.pid == $p) | {state, signals}] | .[0]' \
		--argjson p "$pid")
	act_eq "pid $pid: exited on SIGTERM" \
		'{"state":"exited","signals":["TERM"]}' "$got"
done

for pid in "${PIDS[@]}"; do
	act_wait_gone "$pid" 5 || act_fail "pid $pid still runs after remove"
	wait "$pid" 2>/dev/null
done
act_ok "every user is gone (${#PIDS[@]} processes)"
act_pid_alive "$P_NSIDLE" ||
	act_fail "pid $P_NSIDLE (in another namespace, not a user) was killed"
act_ok "the bystander $P_NSIDLE, which used nothing, still runs"
left=$(awk -v d="$MAJMIN" -v t="$ACT_T/" '$3 == d && index($5, t) == 1' \
	"/proc/$P_NSIDLE/mountinfo")
[[ -z "$left" ]] || act_fail "the bystander's namespace still has: $left"
act_ok "no mount of $MAJMIN left in the bystander's namespace"

# Once detached, the loop device's number may go at once to a device that
# another test attaches, and gets mounted in its own directory.  Every
# mount of ours, in every namespace, was below $ACT_T: those must be gone.
ours()
{
	awk -v d="$MAJMIN" -v t="$ACT_T/" '$3 == d && index($5, t) == 1' "$1" \
		2>/dev/null
}
left=$(ours /proc/self/mountinfo)
[[ -z "$left" ]] || act_fail "$DEV ($MAJMIN) still mounted here: $left"
act_ok "no mount of $MAJMIN left in our mount namespace"
left=$(act_mounts_below "$ACT_T")
[[ -z "$left" ]] || act_fail "mounts left below $ACT_T: $left"
act_ok "no mount left below $ACT_T (the bind mount went too)"

# any namespace: the other one died with its process (one grep over all
# of them: processes come and go meanwhile, -s ignores those gone)
left=$(grep -s -H -F " $MAJMIN " /proc/[0-9]*/mountinfo |
	awk -v d="$MAJMIN" -v t="$ACT_T/" '
		{ f = $0; sub(/:.*/, "", f); l = $0; sub(/^[^:]*:/, "", l)
		  split(l, x, " ") }
		x[3] == d && index(x[5], t) == 1 { print f ": " l }')
[[ -z "$left" ]] || act_fail "a mount of $MAJMIN is left: $left"
act_ok "no /proc/*/mountinfo has a mount of $MAJMIN below $ACT_T"

backing=$(act_loop_backing "$DEV")
attached=$(losetup -n -O NAME -j "$IMG")
[[ -z "$attached" ]] || act_fail "$IMG still attached to $attached"
[[ "$backing" != "$IMG" ]] || act_fail "$DEV still has backing file $IMG"
act_ok "the loop device $DEV is detached from $IMG"

act_eq "JSON: the release step succeeded" \
	'[{"stage":"release","ok":true}]' \
	"$(act_jq '[.steps[] | select(.stage == "release") | {stage, ok}]')"
act_eq "JSON: every step succeeded" '[]' \
	"$(act_jq '[.steps[] | select(.ok != true)]')"

# ------------------------------------------------------------------ #
# Nothing that reached the filesystem was lost

OLDDEV=$DEV
act_attach "$IMG"
act_log "$IMG attached again as $DEV (was $OLDDEV)"
case "$FSTYPE" in
xfs) xfs_repair -n "$DEV" >"$ACT_T/fsck.log" 2>&1 ;;
ext4) e2fsck -fn "$DEV" >"$ACT_T/fsck.log" 2>&1 ;;
esac || act_fail "the filesystem is not clean after remove: $(cat "$ACT_T/fsck.log")"
act_ok "the filesystem was unmounted clean (check found nothing)"
mkdir -p "$ACT_T/verify"
mount -t "$FSTYPE" "$DEV" "$ACT_T/verify" || act_fail "mount $DEV $ACT_T/verify"
(cd "$ACT_T/verify" && find . -type f -print0 | sort -z | xargs -0 sha256sum) \
	>"$ACT_T/sums.after" || act_fail "checksums of $ACT_T/verify"
if ! diff -u "$ACT_T/sums.before" "$ACT_T/sums.after" >"$ACT_T/sums.diff"; then
	act_fail "data lost or changed by remove: $(cat "$ACT_T/sums.diff")"
fi
act_ok "all $nfiles files have the checksums they had before remove"

act_done
