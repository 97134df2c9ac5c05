#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# daxguard remove of a loop device that a process holds open as a block
# device (not exclusively, as a backup tool or dd would).  The filesystem
# goes as usual.  Then either the device is really released (the holder
# was dealt with, the loop device is detached) and remove exits 0, or
# remove says that it is still held and exits 1: what it reports must be
# what happened.  (LOOP_CLR_FD on a loop device that is still open only
# sets autoclear and returns 0: the device stays attached until the last
# close.)

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

dg_act_init
dg_setup_fs xfs-rmap

head -c 65536 /dev/urandom >"$MNT/file" || dg_fail "write $MNT/file"
dg_spawn_mapper "hold:$MNT/file"
P_FILE=$DG_PID
dg_spawn_mapper "hold:$DEV"
P_DEV=$DG_PID
dg_log "holds $MNT/file: $P_FILE; holds $DEV open: $P_DEV"

dg_run timeout 120 "$DAXGUARD" remove -g 2 "$DEV" -J
dg_json_ok "remove -g 2 $DEV -J"
dg_wait_gone "$P_FILE" 5 || dg_fail "pid $P_FILE (a user of the filesystem) still runs"
dg_ok "the user of the filesystem is gone"
[[ -z "$(dg_mounts_below "$DG_TMP")" ]] || dg_fail "$MNT is still mounted"
dg_ok "the filesystem is unmounted"

attached=$(losetup -n -O NAME -j "$IMG")
release=$(dg_jq '[.steps[] | select(.stage == "release") | {ok, message}]')
dg_log "exit status $DG_RC, release steps $release, attached: '${attached:-no}'"
if [[ $DG_RC == 0 ]]; then
	dg_expect_eq "remove exited 0: the loop device is detached from $IMG" "" "$attached"
	dg_expect_eq "remove exited 0: JSON complete" true "$(dg_jq .complete)"
else
	dg_expect_eq "remove failed: exit status" 1 "$DG_RC"
	dg_expect_eq "remove failed: JSON complete" false "$(dg_jq .complete)"
	dg_expect_eq "remove failed: the release step says so" \
		'[false]' "$(dg_jq '[.steps[] | select(.stage == "release") | .ok]')"
	if [[ "$DG_ERR" == *"$DEV"* ]]; then
		dg_ok "remove failed: stderr names $DEV"
	else
		dg_notok "remove failed: stderr does not name $DEV: $DG_ERR"
	fi
	dg_pid_alive "$P_DEV" || dg_notok "remove failed, yet the holder $P_DEV of $DEV was killed"
fi

dg_done
