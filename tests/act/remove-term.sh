#!/bin/bash
# shellcheck disable=SC2016 # jq filters and sh -c scripts: their own $vars
# SPDX-License-Identifier: GPL-2.0-or-later
#
# daxguard remove --action term (the default): SIGTERM first, then after
# the grace period SIGKILL for whoever still runs.  A process that ignores
# SIGTERM gets ["TERM","KILL"], no sooner than the grace period after the
# SIGTERM; one that exits on SIGTERM gets ["TERM"] and nothing more.

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

GRACE=2

dg_act_init
dg_setup_fs xfs-rmap

for f in ignores exits; do
	head -c 65536 /dev/urandom >"$MNT/$f" || dg_fail "write $MNT/$f"
done

# SIG_IGN survives exec: dg-mapper itself ignores SIGTERM
ready=$(mktemp "$DG_TMP/ready.XXXXXX")
dg_spawn_ready "$ready" bash -c "trap '' TERM; exec \"\$0\" -r \"\$1\" \"\$2\"" \
	"$DG_MAPPER" "$ready" "hold:$MNT/ignores"
P_IGN=$DG_PID
dg_spawn_mapper "hold:$MNT/exits"
P_TERM=$DG_PID
dg_log "ignores SIGTERM: $P_IGN, exits on SIGTERM: $P_TERM"

ign=$(awk '$1 == "SigIgn:" { print $2 }' "/proc/$P_IGN/status")
(((16#$ign >> 14) & 1)) || dg_fail "pid $P_IGN does not ignore SIGTERM (SigIgn $ign)"
dg_ok "pid $P_IGN ignores SIGTERM (SigIgn $ign)"
ign=$(awk '$1 == "SigIgn:" { print $2 }' "/proc/$P_TERM/status")
(((16#$ign >> 14) & 1)) && dg_fail "pid $P_TERM ignores SIGTERM (SigIgn $ign)"
dg_ok "pid $P_TERM does not ignore SIGTERM"

t0=$(date +%s%N)
dg_run timeout 120 "$DAXGUARD" remove -g "$GRACE" "$DEV" -J
t1=$(date +%s%N)
dg_json_ok "daxguard remove -g $GRACE $DEV -J"
dg_expect_eq "daxguard remove -g $GRACE $DEV -J exit status" 0 "$DG_RC"
dg_expect_eq "JSON complete" true "$(dg_jq .complete)"
took=$(((t1 - t0) / 1000000))
((took >= GRACE * 1000)) ||
	dg_fail "remove took $took ms, less than the grace period of $GRACE s"
dg_ok "remove took $took ms (grace $GRACE s)"

dg_expect_eq "the processes acted on are exactly ours" \
	"$(printf '%s\n' "$P_IGN" "$P_TERM" | jq -sc 'map(tonumber) | sort')" \
	"$(dg_jq '[.processes[].pid] | sort')"

# signal_times PID: sets SIG_MS and EXIT_MS, when daxguard first signalled
# PID and when it saw it exit
signal_times()
{
	read -r SIG_MS EXIT_MS < <(dg_jq -r '.processes[] | select(.pid == $p) |
		"\(.signalled_ms) \(.exited_ms)"' --argjson p "$1")
}

# the one that ignores SIGTERM
dg_expect_process "ignores SIGTERM" "$P_IGN" exited '["TERM","KILL"]'
signal_times "$P_IGN"
took=$((EXIT_MS - SIG_MS))
((took >= GRACE * 1000)) ||
	dg_fail "pid $P_IGN: exited $took ms after its first signal, before the grace period of $GRACE s was over (signalled_ms $SIG_MS, exited_ms $EXIT_MS)"
dg_ok "pid $P_IGN: exited $took ms after SIGTERM (>= $((GRACE * 1000)) ms)"
((took < GRACE * 1000 + 5000)) ||
	dg_fail "pid $P_IGN: SIGKILL came $((took - GRACE * 1000)) ms after the grace period ended"
dg_ok "pid $P_IGN: killed promptly once the grace period was over"

# the one that exits on SIGTERM
dg_expect_process "exits on SIGTERM" "$P_TERM" exited '["TERM"]'
signal_times "$P_TERM"
took=$((EXIT_MS - SIG_MS))
((took < GRACE * 1000)) ||
	dg_fail "pid $P_TERM: exit seen $took ms after SIGTERM, not before the grace period ended"
dg_ok "pid $P_TERM: exit seen $took ms after SIGTERM"

dg_expect_eq "JSON: one SIGKILL round, for one process" \
	'[{"stage":"signal","object":"kill","ok":true,"message":"1 process signalled"}]' \
	"$(dg_jq '[.steps[] | select(.stage == "signal" and .object == "kill") | {stage, object, ok, message}]')"

# how they really died: our own children, so wait(2) tells
for pid in "$P_IGN" "$P_TERM"; do
	dg_wait_gone "$pid" 5 || dg_fail "pid $pid still runs after remove"
done
status=0
{ wait "$P_IGN"; } 2>/dev/null || status=$?
dg_expect_eq "pid $P_IGN died of SIGKILL (exit status 128+9)" 137 "$status"
status=0
{ wait "$P_TERM"; } 2>/dev/null || status=$?
dg_expect_eq "pid $P_TERM died of SIGTERM (exit status 128+15)" 143 "$status"

[[ -z "$(losetup -n -O NAME -j "$IMG")" ]] || dg_fail "$IMG still attached"
dg_ok "the loop device is detached"

dg_done
