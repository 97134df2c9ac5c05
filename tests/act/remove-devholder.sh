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

# shellcheck source=tests/act/lib-act.sh
. "$(dirname "$0")/lib-act.sh"

act_init
act_mkfs xfs

head -c 65536 /dev/urandom >"$MNT/file" || act_fail "write $MNT/file"
act_mapper "hold:$MNT/file"
P_FILE=$ACT_PID
act_mapper "hold:$DEV"
P_DEV=$ACT_PID
act_log "holds $MNT/file: $P_FILE; holds $DEV open: $P_DEV"

act_run timeout 120 "$DAXGUARD" remove -g 2 "$DEV" -J
act_json_ok "remove -g 2 $DEV -J"
act_wait_gone "$P_FILE" 5 || act_fail "pid $P_FILE (a user of the filesystem) still runs"
act_ok "the user of the filesystem is gone"
[[ -z "$(act_mounts_below "$ACT_T")" ]] || act_fail "$MNT is still mounted"
act_ok "the filesystem is unmounted"

attached=$(losetup -n -O NAME -j "$IMG")
release=$(act_jq '[.steps[] | select(.stage == "release") | {ok, message}]')
act_log "exit status $ACT_RC, release steps $release, attached: '${attached:-no}'"
if [[ $ACT_RC == 0 ]]; then
	act_eq "remove exited 0: the loop device is detached from $IMG" "" "$attached"
	act_eq "remove exited 0: JSON complete" true "$(act_jq .complete)"
else
	act_eq "remove failed: exit status" 1 "$ACT_RC"
	act_eq "remove failed: JSON complete" false "$(act_jq .complete)"
	act_eq "remove failed: the release step says so" \
		'[false]' "$(act_jq '[.steps[] | select(.stage == "release") | .ok]')"
	if [[ "$ACT_ERR" == *"$DEV"* ]]; then
		act_ok "remove failed: stderr names $DEV"
	else
		act_notok "remove failed: stderr does not name $DEV: $ACT_ERR"
	fi
	act_pid_alive "$P_DEV" || act_notok "remove failed, yet the holder $P_DEV of $DEV was killed"
fi

act_done
