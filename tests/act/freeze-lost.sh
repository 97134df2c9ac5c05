#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# A freeze that outlives the guardian's deadline is lost: the guardian
# thaws, and whatever daxguard computed after that came from a live
# filesystem.  fail must notice, never report the freeze as held, and do
# the reverse map again under a freeze that holds.  fail is paused after
# its first reverse map for longer than its --freeze-timeout.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

dg_act_init
dg_setup_fs xfs-rmap
head -c $((8 * 4096)) /dev/urandom >"$MNT/f" || dg_fail "write"
sync -f "$MNT"
HIT=$(dg_devoff "$MNT/f" 4096)
dg_spawn_mapper "map:$MNT/f:0:$((8 * 4096)):shared-ro"
P=$DG_PID

dg_start_paused "fail" rmap timeout 60 "$DAXGUARD" fail "$DEV" --offset "$HIT" --length 4096 \
	--action kill --freeze-timeout 1 --pause-after rmap -J
dg_sleep 2.5
kill -USR1 "$DG_PAUSED"
wait "$DG_PID"
dg_ran $? "fail --freeze-timeout 1, paused 2.5 s"
dg_json_ok "fail"
dg_expect_eq "fail: exit status" 0 "$DG_RC"
dg_expect_eq "fail: the first thaw says the freeze was not held" yes \
	"$(dg_jq -r '[.steps[] | select(.stage == "thaw")][0].message' |
		grep -q '^NOT HELD: the guardian thawed it at its deadline' && echo yes || echo no)"
dg_expect_eq "fail: no thaw reports a freeze held longer than its deadline" "[]" \
	"$(dg_jq '[.steps[] | select(.stage == "thaw") | .message |
		select(test("^thawed after")) | capture("after (?<ms>[0-9]+) ms").ms | tonumber |
		select(. >= 1000)]')"
dg_expect_eq "fail: two reverse maps, the last under a freeze that held" 2 \
	"$(dg_jq '[.steps[] | select(.stage == "rmap" and (.message | test("owner record")))] | length')"
dg_expect_eq "fail: the mapper was killed after the second map" '"exited"' \
	"$(dg_jq --argjson p "$P" '.processes[] | select(.pid == $p) | .state')"

dg_write_within "$MNT/w" 5 || dg_notok "$MNT does not take writes"
dg_done
