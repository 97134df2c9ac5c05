#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# who-nonroot.sh: daxguard run by a user who cannot read other users'
# processes, and by root where one process (pid 1, in some sandboxes)
# cannot be read at all.
#  - who as nobody: shows nobody's own mapper, says in one line that it
#    cannot see other users' processes (root's mapper is there), prints no
#    warning per process, and exits 3; -J lists the unreadable processes,
#    each with a reason.
#  - fail and remove as nobody refuse before they change anything.
#  - who as root prints no warning per unreadable process, only a summary.
# shellcheck source-path=SCRIPTDIR source=lib.sh
# shellcheck disable=SC2016 # jq filters use their own $variables
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

dg_require_root
dg_require_mapper
dg_require_cmd setpriv
dg_tmpdir
set +e
dg_setup_fs xfs-rmap
chmod 755 "$DG_TMP"

# nobody must be able to run this build: a copy of it and of its library
BIN="$DG_TMP/bin"
mkdir "$BIN" || dg_fail "mkdir $BIN"
cp "$DAXGUARD" "$DG_MAPPER" "$BIN/" || dg_fail "cp"
ldd "$DAXGUARD" | awk '$1 ~ /^libdaxguard/ { print $3 }' | xargs -r cp -t "$BIN" ||
	dg_fail "cp libdaxguard"
chmod -R a+rX "$BIN"
as_nobody()
{
	setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
		env LD_LIBRARY_PATH="$BIN" "$@"
}

F="$MNT/f"
head -c $((8 * 4096)) /dev/urandom >"$F" || dg_fail "write $F"
chmod 644 "$F"
sync -f "$MNT"
HIT=$(dg_devoff "$F" 4096)
dg_spawn_mapper "map:$F:0:$((8 * 4096)):shared-ro"
PROOT=$DG_PID
mkdir "$DG_TMP/nobody" && chown nobody "$DG_TMP/nobody" || dg_fail "mkdir"
DG_READY="$DG_TMP/nobody/ready"
dg_spawn_ready "$DG_READY" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$BIN/dg-mapper" -r "$DG_READY" "map:$F:0:$((8 * 4096)):shared-ro"
PNOBODY=$DG_PID
dg_log "root's mapper $PROOT, nobody's mapper $PNOBODY"

# ------------------------------------------------------------------ #
# who as nobody
for range in whole page; do
	args=("$DEV")
	[[ $range == page ]] && args+=(--offset "$HIT" --length 4096)
	dg_run as_nobody timeout 60 "$BIN/daxguard" who "${args[@]}"
	dg_expect_eq "who ($range) as nobody: exit status 3 (incomplete)" 3 "$DG_RC"
	dg_expect_eq "who ($range) as nobody: one line on stderr about processes" 1 \
		"$(printf '%s\n' "$DG_ERR" | grep -c process)"
	dg_expect_eq "who ($range) as nobody: it says it cannot see other users' processes" yes \
		"$([[ "$DG_ERR" == *"other users' processes"* ]] && echo yes || echo "no: $DG_ERR")"
	dg_expect_eq "who ($range) as nobody: no warning names a process" 0 \
		"$(printf '%s\n' "$DG_ERR" | grep -c '^daxguard: warning: pid ')"
	dg_expect_eq "who ($range) as nobody: it does not say nothing is in use" 0 \
		"$(printf '%s\n' "$DG_OUT" | grep -c '^nothing on the device')"
	dg_run as_nobody timeout 60 "$BIN/daxguard" who "${args[@]}" -J
	dg_expect_eq "who ($range) -J as nobody: exit status 3" 3 "$DG_RC"
	dg_json_ok "who ($range) -J as nobody"
	dg_expect_eq "who ($range) -J as nobody: its own mapper is a user" "[$PNOBODY]" \
		"$(dg_jq '[.users[].pid] | unique')"
	dg_expect_eq "who ($range) -J as nobody: root's mapper is listed as unreadable" \
		'"Permission denied"' \
		"$(dg_jq --argjson p "$PROOT" '.unreadable[] | select(.pid == $p) | .reason')"
	dg_expect_eq "who ($range) -J as nobody: the answer says it is incomplete" true \
		"$(dg_jq '.incomplete')"
done

# ------------------------------------------------------------------ #
# fail and remove as nobody: refused, nothing changed
for cmd in "fail --offset $HIT --length 4096 --action kill" "remove --action kill"; do
	# shellcheck disable=SC2086 # the words of $cmd
	dg_run as_nobody timeout 60 "$BIN/daxguard" $cmd "$DEV"
	dg_expect_eq "${cmd%% *} as nobody: exit status" 1 "$DG_RC"
	dg_expect_eq "${cmd%% *} as nobody: it says it needs root" yes \
		"$([[ "$DG_ERR" == *root* ]] && echo yes || echo "no: $DG_ERR")"
	dg_expect_eq "${cmd%% *} as nobody: nothing was frozen, signalled or unmounted" \
		"0 0 $MNT" \
		"$(grep -c freeze <<<"$DG_OUT") $(grep -c signal <<<"$DG_OUT") $(dg_mounts_below "$MNT")"
	dg_pid_alive "$PROOT" || dg_notok "${cmd%% *} as nobody: root's mapper died"
	dg_pid_alive "$PNOBODY" || dg_notok "${cmd%% *} as nobody: nobody's mapper died"
done
dg_write_within "$MNT/w" 5 || dg_notok "$MNT does not take writes"

# ------------------------------------------------------------------ #
# who as root: no warning per process; unreadable ones in one summary
dg_run timeout 60 "$DAXGUARD" who "$DEV"
dg_expect_eq "who as root: exit status" 0 "$DG_RC"
dg_expect_eq "who as root: no warning names a process" 0 \
	"$(printf '%s\n' "$DG_ERR" | grep -c '^daxguard: warning: pid ')"
dg_expect_eq "who as root: at most one line on stderr" yes \
	"$( (($(printf '%s\n' "$DG_ERR" | grep -c .) <= 1)) && echo yes || echo no)"
dg_done
