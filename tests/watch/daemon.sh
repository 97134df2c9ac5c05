#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# daxguard watch as a daemon:
#  A. SIGKILL while a fail it started holds a freeze (--pause-after
#     freeze): the guardian thaws, a write on the filesystem completes
#     within 1 s, and nothing is left frozen;
#  B. another daxguard acts on the device (a fail paused after thaw, holding
#     the device lock): the daemon's flow gets -EBUSY, says it will try
#     again, and acts once the other is done: the event is not dropped;
#  C. --exec: the program gets the event's JSON on stdin and
#     DAXGUARD_EVENT; a program that hangs is killed at --exec-timeout
#     and the loop goes on meanwhile;
#  D. sd_notify through a NOTIFY_SOCKET of the test's own: READY=1,
#     STATUS=, WATCHDOG=1 at half of WATCHDOG_USEC, RELOADING=1 on SIGHUP,
#     STOPPING=1 on SIGTERM;
#  E. the journal: with JOURNAL_STREAM naming stderr, each event goes to
#     /run/systemd/journal/socket (a tmpfs and a listener of the test's
#     own, in a mount namespace of its own) with its fields, not to stderr;
#  F. udev (the kernel's uevents, no udevd here): a loop device attached
#     after the start is watched; detached, it is said to be gone;
#  G. the same through a real systemd-udevd, the test's own, in a mount
#     namespace with a tmpfs on /run/udev (nothing outside sees its control
#     socket): the daemon says it listens to udevd, and gets the events
#     after udevd's rules ran.
#
# Usage: daemon.sh

# shellcheck source-path=SCRIPTDIR source=lib-watch.sh
. "$(dirname "$0")/lib-watch.sh"

dg_act_init
[[ -n "${DG_SDLISTEN:-}" && -x "${DG_SDLISTEN:-}" ]] || dg_fail "DG_SDLISTEN is not set"
dg_setup_fs xfs-rmap

F="$MNT/f"
head -c $((32 * 4096)) /dev/urandom >"$F" || dg_fail "write $F"
sync -f "$MNT"
BB="$DG_TMP/bb.list"
: >"$BB"

frozen()
{
	# a write that does not complete within 1 s: frozen
	! dg_write_within "$MNT/probe.$1" 1
}

# ------------------------------------------------------------------ #
# A. SIGKILL while the freeze is held

dg_spawn_mapper "map:$F:$((2 * 4096)):4096:shared-ro"
watch_start --badblocks-file "$DEV=$BB" --sources badblocks-file -i 0.5 -a kill \
	--pause-after freeze
watch_sector "$F" 2 >>"$BB"
watch_wait_err "^daxguard: paused after freeze \\(pid $WATCH_PID\\)" 10 ||
	dg_fail "the daemon did not pause after freeze: $(cat "$WATCH_ERR")"
frozen a && dg_ok "paused after freeze: the filesystem is frozen" ||
	dg_notok "paused after freeze, but a write went through"
kill -KILL "$WATCH_PID"
t0=${EPOCHREALTIME/./}
dg_wait_gone "$WATCH_PID" 5 || dg_fail "the daemon survives SIGKILL"
wait "$WATCH_PID" 2>/dev/null
WATCH_PID=""
if dg_write_within "$MNT/probe.after" 1; then
	t1=${EPOCHREALTIME/./}
	dg_ok "SIGKILL: a write completes within 1 s ($(((t1 - t0) / 1000)) ms after the kill)"
else
	dg_notok "SIGKILL: the filesystem is still frozen 1 s after the daemon died"
	fsfreeze -u "$MNT"
fi
pgrep -x daxguard-guard >/dev/null &&
	[[ -n "$(pgrep -x daxguard-guard | while read -r g; do
		grep -l "$MNT" /proc/"$g"/mountinfo 2>/dev/null; done)" ]] &&
	dg_log "a guardian still runs (it may be another test's)"
# the range was not finished: the next start has it again, and acts
watch_start --badblocks-file "$DEV=$BB" --sources badblocks-file -i 0.5 -a kill --on-start act
watch_wait_lines 1 || dg_fail "the range interrupted by SIGKILL was not acted on after a restart"
watch_line 1
dg_expect_eq "after the SIGKILL the range is acted on at the next start" '"acted"' \
	"$(dg_jq '.event.disposition')"
watch_stop

# ------------------------------------------------------------------ #
# B. another daxguard holds the device: retried, not dropped

dg_spawn_mapper "map:$F:$((6 * 4096)):4096:shared-ro"
P6=$DG_PID
dg_start_paused "a fail holding the device" thaw timeout 60 "$DAXGUARD" fail "$DEV" \
	--offset "$(($(watch_sector "$F" 7 | cut -d' ' -f1) * 512))" --length 4096 --pause-after thaw
FAILPID=$DG_PAUSED
OTHER=$DG_PID
watch_start --badblocks-file "$DEV=$BB" --sources badblocks-file -i 0.5 -a kill
watch_sector "$F" 6 >>"$BB"
watch_wait_err "another daxguard \\(pid $FAILPID, or its freeze guardian\\) is acting on it.*trying again in 1 s" 10 &&
	dg_ok "busy: it says another daxguard acts and when it tries again" ||
	dg_notok "busy: not said: $(cat "$WATCH_ERR")"
dg_pid_alive "$P6" && dg_ok "busy: nothing done while the other holds the device" ||
	dg_notok "busy: the mapper was signalled while another daxguard held the device"
kill -USR1 "$FAILPID"
wait "$OTHER" 2>/dev/null
watch_wait_lines 1 15 || dg_fail "the busy event was dropped: $(cat "$WATCH_ERR")"
watch_line 1
dg_expect_eq "busy, then retried: acted on" '"acted"' "$(dg_jq '.event.disposition')"
dg_wait_gone "$P6" 5 && dg_ok "busy, then retried: the mapper was killed" ||
	dg_notok "busy, then retried: the mapper lives"
watch_stop

# ------------------------------------------------------------------ #
# C. --exec

cat >"$DG_TMP/hook" <<HOOK
#!/bin/sh
# one file per run: the event's JSON and what the environment said
f=\$(mktemp "$DG_TMP/hook.XXXXXX")
{ echo "event=\$DAXGUARD_EVENT device=\$DAXGUARD_DEVICE"; cat; } >"\$f"
[ -e "$DG_TMP/hang" ] && exec sleep 60
exit 0
HOOK
chmod 755 "$DG_TMP/hook"
dg_spawn_mapper "map:$F:$((13 * 4096)):4096:shared-ro"
watch_start --badblocks-file "$DEV=$BB" --sources badblocks-file -i 0.5 -a kill \
	--exec "$DG_TMP/hook" --exec-timeout 1
watch_sector "$F" 13 >>"$BB"
watch_wait_lines 1 || dg_fail "no event for --exec"
for ((i = 0; i < 100; i++)); do
	ls "$DG_TMP"/hook.?????? >/dev/null 2>&1 && break
	dg_sleep 0.05
done
hookout=$(cat "$DG_TMP"/hook.?????? 2>/dev/null)
dg_expect_eq "--exec: its environment" "event=badblocks device=$DEV" "$(head -1 <<<"$hookout")"
dg_expect_eq "--exec: its stdin is the event's JSON line, as --json has it" \
	"$(sed -n 1p "$WATCH_OUT")" "$(sed -n 2p <<<"$hookout")"
touch "$DG_TMP/hang"
dg_spawn_mapper "map:$F:$((16 * 4096)):4096:shared-ro"
P16=$DG_PID
dg_spawn_mapper "map:$F:$((18 * 4096)):4096:shared-ro"
P18=$DG_PID
watch_sector "$F" 16 >>"$BB"
watch_wait_lines 2 || dg_fail "no second event"
# the hook now hangs; the loop must not
t0=${EPOCHREALTIME/./}
watch_sector "$F" 18 >>"$BB"
watch_wait_lines 3 5 || dg_fail "the loop waited for a hanging --exec program"
t1=${EPOCHREALTIME/./}
dg_log "the third event was handled $(((t1 - t0) / 1000)) ms after its line, the hook hanging"
dg_wait_gone "$P18" 5 && dg_ok "--exec hangs: the loop goes on (page 18's mapper killed)" ||
	dg_notok "page 18's mapper lives"
watch_wait_err "^<3>$DG_TMP/hook \\(pid [0-9]+\\): killed after 1000 ms" 5 &&
	dg_ok "--exec hangs: killed at --exec-timeout, and said so" ||
	dg_notok "--exec hangs: not killed: $(cat "$WATCH_ERR")"
rm -f "$DG_TMP/hang"
watch_stop

# ------------------------------------------------------------------ #
# D. sd_notify

NOTIFY="$DG_TMP/notify.sock"
dg_spawn_ready "$DG_TMP/notify.ready" "$DG_SDLISTEN" "$NOTIFY" "$DG_TMP/notify.ready"
LISTENER=$DG_PID
NLOG="$DG_TMP/notify.ready.log"
export NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=400000
watch_start --badblocks-file "$DEV=$BB" --sources badblocks-file -i 30
unset NOTIFY_SOCKET WATCHDOG_USEC
dg_sleep 1.2
grep -q '^READY=1$' "$NLOG" && dg_ok "sd_notify: READY=1" || dg_notok "no READY=1: $(cat "$NLOG")"
grep -q '^STATUS=watching 1 device; ' "$NLOG" && dg_ok "sd_notify: STATUS= says what it watches" ||
	dg_notok "no STATUS=: $(cat "$NLOG")"
n=$(grep -c '^WATCHDOG=1$' "$NLOG")
((n >= 3)) && dg_ok "sd_notify: WATCHDOG=1 at half of WATCHDOG_USEC ($n in 1.2 s)" ||
	dg_notok "sd_notify: $n WATCHDOG=1 in 1.2 s, with WATCHDOG_USEC=400000"
kill -HUP "$WATCH_PID"
dg_sleep 0.3
grep -A3 '^RELOADING=1$' "$NLOG" | grep -q '^READY=1$' &&
	dg_ok "sd_notify: SIGHUP gives RELOADING=1, then READY=1" ||
	dg_notok "sd_notify: no RELOADING=1 then READY=1: $(cat "$NLOG")"
watch_stop
grep -q '^STOPPING=1$' "$NLOG" && dg_ok "sd_notify: STOPPING=1 on SIGTERM" ||
	dg_notok "no STOPPING=1: $(cat "$NLOG")"
dg_stop "$LISTENER"

# ------------------------------------------------------------------ #
# E. the journal, in a mount namespace with a journal socket of our own

dg_require_cmd unshare
dg_spawn_mapper "map:$F:$((22 * 4096)):4096:shared-ro"
P22=$DG_PID
JLOG="$DG_TMP/journal.log"
: >"$DG_TMP/inner.err"
# shellcheck disable=SC2016 # expanded by the inner shell
unshare -m --propagation private bash -c '
	set -e
	mkdir -p /run/systemd
	mount -t tmpfs tmpfs /run/systemd
	mkdir /run/systemd/journal
	"$1" /run/systemd/journal/socket "$2/journal.ready" >"$3" 2>&1 &
	echo $! >"$2/listener.pid"
	for i in $(seq 100); do [ -e "$2/journal.ready" ] && break; sleep 0.05; done
	exec 2>"$2/inner.err"
	export JOURNAL_STREAM=$(stat -c "%d:%i" "$2/inner.err")
	"$4" watch --state-dir "$2/state" --badblocks-file "$5=$6" --sources badblocks-file \
		-i 0.5 -a kill &
	echo $! >"$2/inner.pid"
	while [ ! -e "$2/inner.stop" ]; do sleep 0.1; done
	kill -TERM "$(cat "$2/inner.pid")"
	wait "$(cat "$2/inner.pid")"
	kill -TERM "$(cat "$2/listener.pid")"
	wait "$(cat "$2/listener.pid")"
' inner "$DG_SDLISTEN" "$DG_TMP" "$JLOG" "$DAXGUARD" "$DEV" "$BB" </dev/null >/dev/null 2>&1 &
INNER=$!
dg_register_pid "$INNER"
for ((i = 0; i < 200; i++)); do
	[[ -s $DG_TMP/listener.pid ]] && break
	dg_sleep 0.05
done
LISTENER=$(cat "$DG_TMP/listener.pid" 2>/dev/null)
[[ -n $LISTENER ]] && dg_register_pid "$LISTENER"
for ((i = 0; i < 200; i++)); do
	grep -q '^MESSAGE=watching' "$JLOG" 2>/dev/null && break
	dg_sleep 0.05
done
grep -q '^MESSAGE=watching' "$JLOG" || dg_fail "no 'watching' in the journal: $(cat "$JLOG")"
watch_sector "$F" 22 >>"$BB"
for ((i = 0; i < 200; i++)); do
	grep -q "^MESSAGE_ID=4bf7f2d078294f7fb690a5f3b5d9d343" "$JLOG" && break
	dg_sleep 0.05
done
entry=$(awk '/^--- datagram/ {e = ""} {e = e $0 "\n"} /^MESSAGE_ID=4bf7f2d0/ {found = 1}
	found && /^DAXGUARD_DISPOSITION/ {printf "%s", e; exit}' "$JLOG")
for want in "PRIORITY=4" "SYSLOG_IDENTIFIER=daxguard" "DAXGUARD_EVENT=badblocks" \
	"DAXGUARD_DEVICE=$DEV" "DAXGUARD_RANGE=$(printf '%#x+0x1000' \
	$(($(watch_sector "$F" 22 | cut -d' ' -f1) * 512)))" "DAXGUARD_PIDS=$P22" \
	"DAXGUARD_ACTION=kill" "DAXGUARD_DISPOSITION=acted"; do
	grep -qxF "$want" <<<"$entry" && dg_ok "journal: $want" ||
		dg_notok "journal: no $want in: $entry"
done
grep -q "^MESSAGE=$DEV: badblocks (badblocks-file): " <<<"$entry" &&
	dg_ok "journal: MESSAGE is the event's line" || dg_notok "journal: MESSAGE: $entry"
grep -q "badblocks (badblocks-file)" "$DG_TMP/inner.err" &&
	dg_notok "journal: the event went to stderr as well: $(cat "$DG_TMP/inner.err")" ||
	dg_ok "journal: the event is not on stderr twice"
touch "$DG_TMP/inner.stop"
dg_wait_gone "$INNER" 10 || dg_notok "the daemon in the namespace does not stop"
wait "$INNER" 2>/dev/null
dg_wait_gone "$LISTENER" 5 && dg_ok "journal: the test's journal listener is gone" ||
	dg_notok "journal: the listener $LISTENER is left running"
dg_wait_gone "$P22" 2 && dg_ok "journal: the mapper was killed" || dg_notok "page 22's mapper lives"

# ------------------------------------------------------------------ #
# F. udev: a device that comes and goes

watch_start --all --sources udev
truncate -s 64M "$DG_TMP/late.img"
LATE=$(dg_losetup "$DG_TMP/late.img") || exit 1
watch_wait_err "^<6>$LATE: watched \\(loop:$DG_TMP/late.img\\)" 5 &&
	dg_ok "udev: a loop device attached after the start is watched" ||
	dg_notok "udev: $LATE not watched: $(cat "$WATCH_ERR")"
losetup -d "$LATE"
watch_wait_err "^<5>$LATE: went away \\(nothing was mounted on it\\)" 5 &&
	dg_ok "udev: detached, it is said to be gone" ||
	dg_notok "udev: $LATE not said gone: $(cat "$WATCH_ERR")"
grep -q "^<6>udev: no udevd runs" "$WATCH_ERR" &&
	dg_ok "udev: without udevd, it says it listens to the kernel" ||
	dg_notok "udev: no word of the kernel's uevents: $(cat "$WATCH_ERR")"
watch_stop

# ------------------------------------------------------------------ #
# G. udev through systemd-udevd (the test's own, in its own mount namespace)

UDEVD=/lib/systemd/systemd-udevd
[[ -x $UDEVD ]] || dg_fail "$UDEVD is missing (scripts/deps.sh installs udev)"
made_run_udev=false
if [[ ! -d /run/udev ]]; then
	mkdir /run/udev || dg_fail "mkdir /run/udev"
	made_run_udev=true
fi
WATCH_ERR=$DG_TMP/watch-udevd.err
: >"$WATCH_ERR"
cat >"$DG_TMP/udevd-ns.sh" <<'SH'
# in a private mount namespace: udevd, then the daemon
mount -t tmpfs tmpfs /run/udev || exit 1
"$UDEVD" >"$DG_TMP/udevd.log" 2>&1 &
echo $! >"$DG_TMP/udevd.pid"
for i in $(seq 200); do
	[ -S /run/udev/control ] && break
	sleep 0.05
done
[ -S /run/udev/control ] || { echo "udevd did not start" >&2; exit 1; }
exec "$DAXGUARD" watch --state-dir "$DG_TMP/state-udevd" -J --all --sources udev
SH
UDEVD=$UDEVD DG_TMP=$DG_TMP DAXGUARD=$DAXGUARD unshare -m --propagation private \
	bash "$DG_TMP/udevd-ns.sh" </dev/null >"$DG_TMP/watch-udevd.out" 2>>"$WATCH_ERR" &
WATCH_PID=$!
dg_register_pid "$WATCH_PID"
for ((i = 0; i < 200; i++)); do
	[[ -s $DG_TMP/udevd.pid ]] && break
	dg_sleep 0.05
done
UDEVD_PID=$(cat "$DG_TMP/udevd.pid" 2>/dev/null)
[[ -n $UDEVD_PID ]] && dg_register_pid "$UDEVD_PID"
watch_wait_err "^<6>watching" 10 || dg_fail "watch with udevd did not start: $(cat "$WATCH_ERR")"
grep -q "^<6>udev: udevd's events" "$WATCH_ERR" &&
	dg_ok "udevd: the daemon says it listens to udevd" ||
	dg_notok "udevd: not listening to udevd: $(cat "$WATCH_ERR")"
LATE=$(dg_losetup "$DG_TMP/late.img") || exit 1
# (the backing file's path is the kernel's view from udevd's namespace:
# in a chroot it names the chroot's folder too)
watch_wait_err "^<6>$LATE: watched \\(loop:(.*)?$DG_TMP/late.img\\)" 10 &&
	dg_ok "udevd: a loop device attached after the start is watched" ||
	dg_notok "udevd: $LATE not watched: $(cat "$WATCH_ERR")"
losetup -d "$LATE"
watch_wait_err "^<5>$LATE: went away \\(nothing was mounted on it\\)" 10 &&
	dg_ok "udevd: detached, it is said to be gone" ||
	dg_notok "udevd: $LATE not said gone: $(cat "$WATCH_ERR")"
kill -TERM "$WATCH_PID" "$UDEVD_PID" 2>/dev/null
dg_wait_gone "$WATCH_PID" 10 || dg_notok "the daemon with udevd does not stop"
dg_wait_gone "$UDEVD_PID" 10 || dg_notok "udevd does not stop"
wait "$WATCH_PID" 2>/dev/null
if $made_run_udev; then
	rmdir /run/udev || dg_notok "/run/udev: not empty after the test's udevd"
fi
dg_done
