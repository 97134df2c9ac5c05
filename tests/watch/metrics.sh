#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# --metrics read back as Prometheus reads it: Debian's node_exporter on
# 127.0.0.1 (a free port) with only the textfile collector, pointed at the
# folder daxguard watch writes to; after one event that kills one mapper
# and punches the page (--punch), /metrics must give daxguard's counters
# for that device and kind (4096 bytes punched), the device count, and no
# textfile scrape error.
#
# Usage: metrics.sh

# shellcheck source-path=SCRIPTDIR source=lib-watch.sh
. "$(dirname "$0")/lib-watch.sh"

dg_act_init
dg_require_cmd prometheus-node-exporter curl
dg_setup_fs xfs-rmap

F="$MNT/f"
head -c $((16 * 4096)) /dev/urandom >"$F" || dg_fail "write $F"
sync -f "$MNT"
BB="$DG_TMP/bb.list"
: >"$BB"
mkdir "$DG_TMP/prom"

# a port nobody listens on (/proc/net/tcp: state 0A is LISTEN)
listening()
{
	awk -v p="$(printf '%04X' "$1")" 'NR > 1 && $4 == "0A" && $2 ~ ":" p "$"' \
		/proc/net/tcp /proc/net/tcp6 | grep -q .
}
for ((i = 0; i < 50; i++)); do
	PORT=$((20000 + RANDOM % 20000))
	listening "$PORT" || break
done
prometheus-node-exporter --web.listen-address="127.0.0.1:$PORT" \
	--collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$DG_TMP/prom" >"$DG_TMP/node.log" 2>&1 </dev/null &
NODE=$!
dg_register_pid "$NODE"
for ((i = 0; i < 200; i++)); do
	curl -sf "http://127.0.0.1:$PORT/metrics" >/dev/null 2>&1 && break
	dg_pid_alive "$NODE" || dg_fail "node_exporter exited: $(cat "$DG_TMP/node.log")"
	dg_sleep 0.05
done
curl -sf "http://127.0.0.1:$PORT/metrics" >/dev/null || dg_fail "node_exporter does not answer"
dg_log "node_exporter (pid $NODE) on 127.0.0.1:$PORT"

dg_spawn_mapper "map:$F:$((4 * 4096)):4096:shared-ro"
watch_start --badblocks-file "$DEV=$BB" --sources badblocks-file -i 0.5 -a kill --punch \
	--metrics "$DG_TMP/prom/daxguard.prom"
watch_sector "$F" 4 >>"$BB"
watch_wait_lines 1 || dg_fail "no event"
dg_sleep 0.3
curl -sf "http://127.0.0.1:$PORT/metrics" >"$DG_TMP/scrape" || dg_fail "scrape failed"
want=(
	"daxguard_watch_events_total{device=\"$DEV\",kind=\"badblocks\"} 1"
	"daxguard_watch_ranges_total{device=\"$DEV\",kind=\"badblocks\"} 1"
	"daxguard_watch_processes_signalled_total{device=\"$DEV\",kind=\"badblocks\"} 1"
	"daxguard_watch_punched_bytes_total{device=\"$DEV\",kind=\"badblocks\"} 4096"
	"daxguard_watch_failures_total{device=\"$DEV\",kind=\"badblocks\"} 0"
	"daxguard_watch_flood{device=\"$DEV\"} 0"
	"daxguard_watch_devices 1"
	"node_textfile_scrape_error 0"
)
for w in "${want[@]}"; do
	grep -qxF "$w" "$DG_TMP/scrape" && dg_ok "node_exporter gives: $w" ||
		dg_notok "node_exporter does not give '$w': $(grep -E 'daxguard|textfile' "$DG_TMP/scrape")"
done
grep -Eq "^daxguard_watch_last_event_timestamp_seconds\\{device=\"$DEV\"\\} [0-9.e+]+$" \
	"$DG_TMP/scrape" && dg_ok "node_exporter gives the time of the last event" ||
	dg_notok "no last event time: $(grep daxguard "$DG_TMP/scrape")"
ls "$DG_TMP/prom" | grep -v '^daxguard.prom$' | grep -q . &&
	dg_notok "a temporary file was left: $(ls "$DG_TMP/prom")" ||
	dg_ok "the file is written in place atomically: nothing else left in the folder"
watch_stop
dg_stop "$NODE"
dg_done
