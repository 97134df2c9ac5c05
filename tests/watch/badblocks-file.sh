#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# daxguard watch --badblocks-file on a loop device, end to end:
#  1. a range appended inside one page of a mapped file: exactly that
#     page's mappers get the policy's signal (kill); a mapper of another
#     page and a process that holds the file open live;
#  2. the daemon restarted (with --on-start act, even): the range is in
#     its state, and a new mapper of the same page is not signalled again;
#  3. a line that does not parse is named by its line number, and the
#     line after it is still handled;
#  4. the file replaced by a rename: only its new ranges are handled;
#  5. more ranges in a minute than --flood-limit: report only, said so.
#
# Usage: badblocks-file.sh xfs-rmap|ext4

# shellcheck source-path=SCRIPTDIR source=lib-watch.sh
. "$(dirname "$0")/lib-watch.sh"

dg_act_init
dg_setup_fs "${1:-}"

F="$MNT/mapped"
head -c $((32 * 4096)) /dev/urandom >"$F" || dg_fail "write $F"
sync -f "$MNT" || dg_fail "syncfs"
BB="$DG_TMP/bb.list"
: >"$BB"

dg_spawn_mapper "map:$F:$((5 * 4096)):4096:shared-rw"
P_HIT=$DG_PID
dg_spawn_mapper "map:$F:$((4 * 4096)):$((3 * 4096)):shared-ro"
P_AROUND=$DG_PID
dg_spawn_mapper "map:$F:$((11 * 4096)):4096:shared-rw"
P_OTHER=$DG_PID
dg_spawn_mapper "hold:$F"
P_FD=$DG_PID

# ------------------------------------------------------------------ #
# 1. a range appended: exactly the page's mappers

watch_start --badblocks-file "$DEV=$BB" -a kill --sources badblocks-file -i 1
line=$(watch_sector "$F" 5)
dg_log "page 5 of $F is '$line' on $DEV"
t0=${EPOCHREALTIME/./}
echo "$line" >>"$BB"
watch_wait_lines 1 || dg_fail "no event within 10 s of the append"
t1=${EPOCHREALTIME/./}
dg_log "event handled $(((t1 - t0) / 1000)) ms after the append"
watch_line 1
dg_expect_eq "event: kind, source, disposition" \
	'{"kind":"badblocks","source":"badblocks-file","disposition":"acted","initial":false}' \
	"$(dg_jq '.event | {kind, source, disposition, initial}')"
dg_expect_eq "event: the range" "[{\"offset\":$((${line% *} * 512)),\"length\":4096}]" \
	"$(dg_jq '.event.ranges')"
dg_expect_eq "fail -J's schema: the owner is $F at page 5" \
	"[{\"type\":\"file\",\"path\":\"$F\",\"file_offset\":$((5 * 4096))}]" \
	"$(dg_jq '[.owners[] | {type, path, file_offset}]')"
dg_expect_eq "the processes acted on are exactly the mappers of page 5" \
	"$(dg_sorted_pids "$P_HIT" "$P_AROUND")" "$(dg_jq '[.processes[].pid] | sort')"
dg_expect_eq "both got SIGKILL and exited" '[{"state":"exited","signals":["KILL"]}]' \
	"$(dg_jq '[.processes[] | {state, signals}] | unique')"
dg_expect_eq "fail -J's members are all there" \
	'["action","complete","dry_run","event","filesystems","incomplete","metadata_hit","owners","processes","ranges","steps","target","unreadable","users","warnings","whole_device"]' \
	"$(dg_jq 'keys')"
for pid in "$P_HIT" "$P_AROUND"; do
	dg_wait_gone "$pid" 5 || dg_notok "pid $pid (maps page 5) still runs"
	wait "$pid" 2>/dev/null
done
dg_pid_alive "$P_OTHER" && dg_ok "the mapper of page 11 lives" ||
	dg_notok "the mapper of page 11 was killed"
dg_pid_alive "$P_FD" && dg_ok "the process holding an fd lives" ||
	dg_notok "the fd holder was killed"
grep -q "^<4>$DEV: badblocks (badblocks-file): .* hits $F at 0x5000; kill: 2 exited" \
	"$WATCH_ERR" && dg_ok "stderr: one <4> line naming the file and what was done" ||
	dg_notok "stderr has no <4> line for the event: $(cat "$WATCH_ERR")"
state=$(ls "$DG_TMP/state/"*.handled 2>/dev/null)
dg_expect_eq "the state file holds the range" "$line" "$(grep -v '^#' "$state")"
watch_stop

# ------------------------------------------------------------------ #
# 2. a restart acts on nothing twice

dg_spawn_mapper "map:$F:$((5 * 4096)):4096:shared-rw"
P_AGAIN=$DG_PID
watch_start --badblocks-file "$DEV=$BB" -a kill --sources badblocks-file -i 0.2 --on-start act
dg_sleep 1.5
dg_expect_eq "after the restart: no event for a handled range" 0 "$(wc -l <"$WATCH_OUT")"
dg_pid_alive "$P_AGAIN" && dg_ok "a new mapper of the handled page is not signalled again" ||
	dg_notok "the new mapper of page 5 was signalled again after the restart"

# ------------------------------------------------------------------ #
# 3. a bad line, then a good one: named by number, the rest handled

dg_spawn_mapper "map:$F:$((20 * 4096)):4096:shared-ro"
P20=$DG_PID
printf 'this is no range\n%s\n' "$(watch_sector "$F" 20)" >>"$BB"
watch_wait_lines 1 || dg_fail "the line after a bad one was not handled"
watch_wait_err "^<4>$BB:2: not a 'SECTOR COUNT' badblocks entry" 2 &&
	dg_ok "the bad line is named by its number (2)" ||
	dg_notok "no warning naming $BB:2: $(cat "$WATCH_ERR")"
watch_line 1
dg_expect_eq "the good line after it was acted on: its mapper" "[$P20]" \
	"$(dg_jq '[.processes[] | select(.signals == ["KILL"]) | .pid]')"
dg_pid_alive "$P_AGAIN" && dg_ok "page 5's new mapper still untouched" ||
	dg_notok "page 5's new mapper was killed"

# ------------------------------------------------------------------ #
# 4. the file replaced: the old lines are known, the new one is new

dg_spawn_mapper "map:$F:$((25 * 4096)):4096:shared-ro"
P25=$DG_PID
{ cat "$BB"; watch_sector "$F" 25; } >"$BB.new" && mv "$BB.new" "$BB"
watch_wait_lines 2 || dg_fail "the replaced file's new range was not handled"
watch_line 2
dg_expect_eq "replaced: only the new range" \
	"[{\"offset\":$(($(watch_sector "$F" 25 | cut -d' ' -f1) * 512)),\"length\":4096}]" \
	"$(dg_jq '.event.ranges')"
dg_expect_eq "replaced: its mapper acted on" "[$P25]" "$(dg_jq '[.processes[].pid]')"
dg_pid_alive "$P_AGAIN" && dg_ok "page 5's mapper untouched by the re-read" ||
	dg_notok "page 5's mapper was killed by the re-read"
watch_stop

# ------------------------------------------------------------------ #
# 5. flood: more than --flood-limit new ranges in a minute

dg_spawn_mapper "map:$F:$((27 * 4096)):$((5 * 4096)):shared-ro"
PFLOOD=$DG_PID
watch_start --badblocks-file "$DEV=$BB" -a kill --sources badblocks-file -i 0.2 --flood-limit 2
# three ranges with a page between each: three, not one merged; all at
# once (a rename), or the daemon may read the first before the last
lines=$(for p in 27 29 31; do watch_sector "$F" "$p"; done)
{ cat "$BB"; printf '%s\n' "$lines"; } >"$BB.new" && mv "$BB.new" "$BB"
watch_wait_lines 1 || dg_fail "no event for the flood"
watch_line 1
dg_expect_eq "flood: three ranges in one event" 3 "$(dg_jq '.event.ranges | length')"
dg_expect_eq "flood: reported only" '"reported"' "$(dg_jq '.event.disposition')"
dg_expect_eq "flood: the reason says so" \
	'"the device floods: more than 2 new ranges within a minute"' "$(dg_jq '.event.reason')"
dg_expect_eq "flood: dry run, nobody signalled" 'true []' \
	"$(dg_jq -r '"\(.dry_run) \([.processes[] | select(.signals != [])])"')"
watch_wait_err "^<4>$DEV: 3 new ranges within a minute, more than 2: report only" 2 &&
	dg_ok "flood: a warning says so" || dg_notok "flood: no warning: $(cat "$WATCH_ERR")"
dg_pid_alive "$PFLOOD" && dg_ok "flood: the mapper is not signalled" ||
	dg_notok "flood: the mapper was signalled"
watch_stop
dg_done
