#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The config file and the other bad input of daxguard watch:
#  1. a missing config, one that cannot be read (a directory), one anybody
#     but root can write (the file, its directory), one that is not
#     root's: each refused at the start with a message naming it, exit 1;
#  2. unknown keys, bad values and a bad section: every bad line named by
#     its number, nothing taken;
#  3. SIGHUP with a bad line: refused by number, and the policy read
#     before (action = kill) stays in force for the next range; SIGHUP
#     with a good file: the new policy (report) applies;
#  4. a section matching the device by name wins over [global];
#  5. --exec writable by others: refused; the metrics path in a folder
#     that does not exist: said once, clearly, and the daemon goes on
#     acting, and writes the file once the folder is there.
#
# Usage: config.sh

# shellcheck source-path=SCRIPTDIR source=lib-watch.sh
. "$(dirname "$0")/lib-watch.sh"

dg_act_init
dg_setup_fs xfs-rmap

F="$MNT/f"
head -c $((32 * 4096)) /dev/urandom >"$F" || dg_fail "write $F"
sync -f "$MNT"
BB="$DG_TMP/bb.list"
: >"$BB"
CONF="$DG_TMP/watch.conf"

# run_watch WHAT ARGS...: a daemon that must refuse to start
refused()
{
	local what=$1

	shift
	dg_run timeout 10 "$DAXGUARD" watch --state-dir "$DG_TMP/state" "$@"
	dg_expect_eq "$what: exit status" 1 "$DG_RC"
}

# ------------------------------------------------------------------ #
# 1. files that are not taken

refused "missing config" --config "$DG_TMP/nope.conf"
dg_assert_match "missing config: named, and why" \
	"$DG_TMP/nope.conf: No such file or directory" "$DG_ERR"

mkdir "$DG_TMP/adir"
refused "a directory as config" --config "$DG_TMP/adir"
dg_assert_match "unreadable config: named, and why" "$DG_TMP/adir: cannot read: Is a directory" \
	"$DG_ERR"

printf '[global]\naction = kill\n' >"$CONF"
chmod 666 "$CONF"
refused "world-writable config" --config "$CONF"
dg_assert_match "world-writable config: refused, and why" \
	"$CONF: refused: $CONF: writable by anyone" "$DG_ERR"
chmod 620 "$CONF"
refused "group-writable config" --config "$CONF"
dg_assert_match "group-writable config: refused" "$CONF: writable by its group" "$DG_ERR"
chmod 644 "$CONF"
chown 65534 "$CONF"
refused "config not root's" --config "$CONF"
dg_assert_match "config not root's: refused" "$CONF: belongs to uid 65534, not to root" "$DG_ERR"
chown 0 "$CONF"
mkdir "$DG_TMP/open"
cp "$CONF" "$DG_TMP/open/watch.conf"
chmod 777 "$DG_TMP/open"
refused "config in a world-writable folder" --config "$DG_TMP/open/watch.conf"
dg_assert_match "config in a world-writable folder: the folder named" \
	"$DG_TMP/open: writable by anyone" "$DG_ERR"
chmod 755 "$DG_TMP/open"

# ------------------------------------------------------------------ #
# 2. bad lines, each by number

cat >"$CONF" <<'CONF'
# a comment
[global]
action = kill
colour = blue
grace = soon

[devname loop*]
punch = maybe
[planet mars]
action = report
this line has no equals sign
CONF
refused "a config with bad lines" --config "$CONF"
for want in "$CONF:4: unknown key 'colour'" \
	"$CONF:5: grace = soon: not a number of seconds" \
	"$CONF:8: punch = maybe: not yes or no" \
	"$CONF:10: \\[planet mars\\]: not a section daxguard knows" \
	"$CONF:11: not 'key = value', '\\[section\\]' or a comment"; do
	[[ "$DG_ERR" =~ $want ]] && dg_ok "named: ${want#"$CONF":}" ||
		dg_notok "not named: $want in: $DG_ERR"
done
dg_assert_match "and it says it did not start" "not started: fix the config first" "$DG_ERR"

# the shipped example is a good config, and --check-config says what it means
cp "$TESTS_DIR/../doc/watch.conf.example" "$CONF"
chmod 644 "$CONF"
dg_run "$DAXGUARD" watch --check-config --config "$CONF"
dg_expect_eq "--check-config on doc/watch.conf.example: exit status" 0 "$DG_RC"
dg_expect_eq "--check-config: the sections, by the line they begin on" \
	"[uuid 5a1c7e2e-3b7d-4f3c-9a4e-2c7a0d0e9f11] (line 10): action bus;[devname pmem1*] (line 16): action kill;[serial 8089-a2-1837-00001234] (line 21): action term" \
	"$(grep '^\[[us]\|^\[devname' <<<"$DG_OUT" | cut -d, -f1 | paste -sd';')"
printf '[global]\naction = sometimes\n' >"$CONF"
dg_run "$DAXGUARD" watch --check-config --config "$CONF"
dg_expect_eq "--check-config on a bad file: exit status" 1 "$DG_RC"
dg_assert_match "--check-config on a bad file: the line" "$CONF:2: action = sometimes" "$DG_ERR"

# ------------------------------------------------------------------ #
# 3. SIGHUP: a bad file keeps the old policy; a good one replaces it

printf '[global]\naction = kill\n' >"$CONF"
chmod 644 "$CONF"
dg_spawn_mapper "map:$F:$((3 * 4096)):4096:shared-ro"
P3=$DG_PID
dg_spawn_mapper "map:$F:$((9 * 4096)):4096:shared-ro"
P9=$DG_PID
watch_start --config "$CONF" --badblocks-file "$DEV=$BB" --sources badblocks-file -i 0.5
printf '[global]\naction = report\nbogus = 1\n' >"$CONF"
kill -HUP "$WATCH_PID"
watch_wait_err "^<3>$CONF:3: unknown key 'bogus'" 5 &&
	dg_ok "SIGHUP, bad file: the line is named by number" ||
	dg_notok "SIGHUP, bad file: no message naming line 3: $(cat "$WATCH_ERR")"
watch_wait_err "^<3>$CONF: not taken; the policy read before stays in force" 5 &&
	dg_ok "SIGHUP, bad file: it says the old policy stays" ||
	dg_notok "SIGHUP, bad file: not said: $(cat "$WATCH_ERR")"
watch_sector "$F" 3 >>"$BB"
watch_wait_lines 1 || dg_fail "no event after the bad reload"
watch_line 1
dg_expect_eq "after the bad reload the old policy (kill) acts" '"kill" ["KILL"]' \
	"$(dg_jq -r '"\(.event.policy.action | tojson) \([.processes[].signals[]] | tojson)"')"
dg_wait_gone "$P3" 5 && dg_ok "the mapper of page 3 was killed" ||
	dg_notok "the mapper of page 3 lives"
printf '[global]\naction = report\n' >"$CONF"
kill -HUP "$WATCH_PID"
watch_wait_err "^<5>$CONF: read again" 5 && dg_ok "SIGHUP, good file: read again" ||
	dg_notok "SIGHUP, good file: not said: $(cat "$WATCH_ERR")"
watch_sector "$F" 9 >>"$BB"
watch_wait_lines 2 || dg_fail "no event after the good reload"
watch_line 2
dg_expect_eq "after the good reload the new policy (report) applies" '"report" []' \
	"$(dg_jq -r '"\(.event.policy.action | tojson) \([.processes[].signals[]] | tojson)"')"
dg_pid_alive "$P9" && dg_ok "the mapper of page 9 lives (report)" ||
	dg_notok "the mapper of page 9 was signalled under report"
watch_stop

# ------------------------------------------------------------------ #
# 4. a device section wins over [global]

cat >"$CONF" <<CONF
[global]
action = report
[devname ${DEV#/dev/}]
action = kill
protect = sleep, keeper
CONF
# a mapper under another name: "keeper" is protected by the section
cp "$DG_MAPPER" "$DG_TMP/keeper"
dg_spawn_mapper "map:$F:$((12 * 4096)):4096:shared-ro"
P12=$DG_PID
DG_READY=$DG_TMP/keeper.ready
dg_spawn_ready "$DG_READY" "$DG_TMP/keeper" -r "$DG_READY" "map:$F:$((12 * 4096)):4096:shared-ro"
KEEPER=$DG_PID
watch_start --config "$CONF" --badblocks-file "$DEV=$BB" --sources badblocks-file -i 0.5
watch_sector "$F" 12 >>"$BB"
watch_wait_lines 1 || dg_fail "no event under the device section"
watch_line 1
dg_expect_eq "the device section's policy: kill, protect sleep and keeper" \
	"{\"section\":\"${DEV#/dev/}\",\"action\":\"kill\",\"protect\":[\"sleep\",\"keeper\"]}" \
	"$(dg_jq '.event.policy | {section, action, protect}')"
dg_wait_gone "$P12" 5 && dg_ok "the section's kill applied" || dg_notok "the mapper of page 12 lives"
dg_expect_eq "the protected command is reported, not signalled" \
	"{\"pid\":$KEEPER,\"state\":\"protected\",\"signals\":[],\"reason\":\"protected by request\"}" \
	"$(dg_jq -c ".processes[] | select(.pid == $KEEPER) | {pid, state, signals, reason}")"
dg_pid_alive "$KEEPER" && dg_ok "the protected process lives" || dg_notok "keeper was killed"
watch_stop

# ------------------------------------------------------------------ #
# 5. --exec writable by others; metrics in a missing folder

printf '#!/bin/sh\ncat >/dev/null\n' >"$DG_TMP/hook"
chmod 777 "$DG_TMP/hook"
refused "--exec writable by anyone" --exec "$DG_TMP/hook"
dg_assert_match "--exec writable by anyone: refused" \
	"--exec $DG_TMP/hook: refused: $DG_TMP/hook: writable by anyone" "$DG_ERR"
refused "--exec not absolute" --exec hook
dg_assert_match "--exec relative: said" "give the program's absolute path" "$DG_ERR"

dg_spawn_mapper "map:$F:$((15 * 4096)):4096:shared-ro"
P15=$DG_PID
watch_start --badblocks-file "$DEV=$BB" --sources badblocks-file -i 0.5 -a kill \
	--metrics "$DG_TMP/nodir/daxguard.prom"
watch_wait_err "^<3>$DG_TMP/nodir/daxguard.prom: cannot write the metrics: No such file or directory \\(the folder $DG_TMP/nodir does not exist\\)" 5 &&
	dg_ok "metrics in a missing folder: a clear message" ||
	dg_notok "metrics in a missing folder: no clear message: $(cat "$WATCH_ERR")"
watch_sector "$F" 15 >>"$BB"
watch_wait_lines 1 || dg_fail "no event while the metrics cannot be written"
dg_wait_gone "$P15" 5 && dg_ok "the daemon goes on acting without its metrics" ||
	dg_notok "the mapper of page 15 lives"
dg_expect_eq "the message is said once, not per write" 1 \
	"$(grep -c 'cannot write the metrics' "$WATCH_ERR")"
mkdir "$DG_TMP/nodir"
kill -HUP "$WATCH_PID"
for ((i = 0; i < 100; i++)); do
	[[ -s "$DG_TMP/nodir/daxguard.prom" ]] && break
	dg_sleep 0.05
done
grep -q '^daxguard_watch_events_total{device="'"$DEV"'",kind="badblocks"} 1$' \
	"$DG_TMP/nodir/daxguard.prom" 2>/dev/null &&
	dg_ok "once the folder exists, the metrics are written, the event counted" ||
	dg_notok "no metrics file after the folder was made: $(cat "$DG_TMP/nodir/daxguard.prom" 2>&1)"
watch_stop
dg_done
