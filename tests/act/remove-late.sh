#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A user that dies late: V has its cwd on the filesystem being removed and
# is blocked (state D) writing to another filesystem that is frozen, so
# SIGKILL takes effect only once that one is thawed, after the 10 s that
# remove waits for a killed process.  remove --no-release goes on to its
# next round, unmounts once V is gone, and that is a success: exit 0.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

dg_act_init
dg_setup_fs ext4
A_DEV=$DEV
A_MNT=$MNT
dg_setup_fs ext4
B_MNT=$MNT

fsfreeze -f "$B_MNT" || dg_fail "fsfreeze -f $B_MNT"
bash -c 'cd "$1" && exec sh -c "echo x >\"\$0/blocked\"" "$2"' sh "$A_MNT" "$B_MNT" \
	</dev/null >/dev/null 2>&1 &
V=$!
dg_register_pid "$V"
for ((i = 0; i < 200; i++)); do
	[[ "$(dg_state "$V")" == D ]] && break
	dg_sleep 0.05
done
dg_assert_eq "V $V is blocked in the kernel (state D)" D "$(dg_state "$V")"

timeout 120 "$DAXGUARD" remove "$A_DEV" --action kill --no-release -J </dev/null \
	>"$DG_TMP/.out" 2>"$DG_TMP/.err" &
R=$!
dg_register_pid "$R"
dg_sleep 12
dg_pid_alive "$V" || dg_notok "V died before its filesystem was thawed: the test proves nothing"
fsfreeze -u "$B_MNT" || dg_fail "fsfreeze -u $B_MNT"
wait "$R"
dg_ran $? "remove --no-release"
dg_json_ok "remove --no-release"
dg_expect_eq "remove --no-release: exit status" 0 "$DG_RC"
dg_expect_eq "remove --no-release: complete" true "$(dg_jq .complete)"
dg_expect_eq "V exited, SIGKILLed" '"exited"' \
	"$(dg_jq --argjson p "$V" '.processes[] | select(.pid == $p) | .state')"
dg_expect_eq "$A_MNT is unmounted" "" "$(dg_mounts_below "$A_MNT")"
dg_done
