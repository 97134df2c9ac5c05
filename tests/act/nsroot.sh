#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A filesystem mounted only in another mount namespace is reached through a
# process there, by path.  Whoever owns that namespace (a rootless
# container) can mount something else over the path at any time.  daxguard
# must notice that the path no longer leads to the filesystem it found and
# do nothing to what it leads to: here fail --shutdown, whose range is the
# superblock (metadata), is paused after the thaw while a decoy XFS is
# mounted over the mountpoint in that namespace.  The decoy must not be
# shut down.

# (nsenter -r: P's root too, which is ours; a plain setns() into the
# namespace would leave us at its root, outside a chroot we run in)

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

dg_act_init
dg_setup_fs xfs-rmap
TARGET_DEV=$DEV
TARGET_MNT=$MNT
head -c 65536 /dev/urandom >"$MNT/f" || dg_fail "write"
sync -f "$MNT"

# the decoy, mounted nowhere yet
dg_require_fs xfs
truncate -s 320M "$DG_TMP/decoy.img" || dg_fail "truncate"
DECOY=$(dg_losetup "$DG_TMP/decoy.img") || exit 1
dg_mkfs "$DECOY" xfs

# P lives in a copy of our mount namespace; then the target leaves ours
dg_spawn_mapper_ns "map:$MNT/f:0:4096:shared-ro"
P=$DG_PID
umount "$MNT" || dg_fail "umount $MNT in our namespace"
dg_log "target $TARGET_DEV is mounted only in pid $P's namespace, on $TARGET_MNT"

dg_start_paused "fail --shutdown" thaw timeout 60 "$DAXGUARD" fail "$TARGET_DEV" \
	--offset 0 --length 4096 --shutdown -J --pause-after thaw
nsenter -t "$P" -m -r mount "$DECOY" "$TARGET_MNT" || dg_fail "mount the decoy in $P's namespace"
kill -USR1 "$DG_PAUSED"
wait "$DG_PID"
dg_ran $? "fail --shutdown"
dg_json_ok "fail --shutdown"
dg_expect_eq "fail: metadata was hit" true "$(dg_jq .metadata_hit)"
dg_expect_eq "fail: no shutdown step reports success" false \
	"$(dg_jq '[.steps[] | select(.stage == "shutdown") | .ok] | any')"
dg_expect_ne "fail: exit status (the shutdown could not be done)" 0 "$DG_RC"
if nsenter -t "$P" -m -r sh -c "echo alive >'$TARGET_MNT/probe' && sync -f '$TARGET_MNT/probe'"; then
	dg_ok "the decoy filesystem still takes writes: it was not shut down"
else
	dg_notok "the decoy filesystem was shut down"
fi
nsenter -t "$P" -m -r umount "$TARGET_MNT" 2>/dev/null
dg_done
