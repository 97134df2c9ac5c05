#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# daxguard fail on one page of a file.  --action kill acts on exactly the
# processes that map the failed page: a mapper of another page of the
# same file and a process that only holds the file open live on
# (invariant 2).  --punch turns exactly the failed block of another file
# into a hole and leaves the rest of that file as it was.  The device
# offsets come from FIEMAP.
#
# Usage: fail.sh xfs-rmap|ext4

# shellcheck source-path=SCRIPTDIR source=../lib.sh
. "$(dirname "$0")/../lib.sh"

PAGES=16
HITPAGE=5
OTHERPAGE=11
PUNCHPAGE=7

dg_act_init
dg_setup_fs "${1:-}"

F="$MNT/mapped"
G="$MNT/punched"
for f in "$F" "$G"; do
	head -c $((PAGES * 4096)) /dev/urandom >"$f" || dg_fail "write $f"
done
sync -f "$MNT" || dg_fail "syncfs $MNT"

# ------------------------------------------------------------------ #
# --action kill: exactly the mappers of the failed page

HIT=$(dg_devoff "$F" $((HITPAGE * 4096))) || dg_fail "no device offset for $F page $HITPAGE"
dg_log "$F page $HITPAGE is at device offset $HIT"
((HIT % 4096 == 0)) || dg_fail "device offset $HIT is not page aligned"
# FIEMAP agrees with itself: the page before is either elsewhere or just
# before, and no other file page maps to the same block
n=$(dg_extents "$F" | awk -v d="$HIT" 'd >= $2 && d < $2 + $3' | wc -l)
dg_expect_eq "exactly one extent of $F covers device offset $HIT" 1 "$n"
other=$(dg_extents "$G" | awk -v d="$HIT" 'd >= $2 && d < $2 + $3')
[[ -z "$other" ]] || dg_fail "$G also has device offset $HIT: $other"

dg_spawn_mapper "map:$F:$((HITPAGE * 4096)):4096:shared-rw"
P1=$DG_PID
dg_spawn_mapper "map:$F:$(((HITPAGE - 1) * 4096)):$((3 * 4096)):shared-ro"
P4=$DG_PID
dg_spawn_mapper "map:$F:$((OTHERPAGE * 4096)):4096:shared-rw"
P2=$DG_PID
dg_spawn_mapper "hold:$F"
P3=$DG_PID
dg_log "P1 $P1 maps page $HITPAGE, P4 $P4 maps pages $((HITPAGE - 1))-$((HITPAGE + 1))," \
	"P2 $P2 maps page $OTHERPAGE, P3 $P3 holds an fd"

dg_run timeout 60 "$DAXGUARD" fail "$DEV" --offset "$HIT" --length 4096 \
	--action kill -J
dg_json_ok "fail --offset $HIT --length 4096 --action kill -J"
dg_expect_eq "fail --action kill: exit status" 0 "$DG_RC"
dg_expect_eq "JSON complete" true "$(dg_jq .complete)"
dg_expect_eq "JSON action" '"kill"' "$(dg_jq .action)"
dg_expect_eq "JSON metadata_hit" false "$(dg_jq .metadata_hit)"
dg_expect_eq "JSON: the owner is $F at file offset $((HITPAGE * 4096))" \
	"[{\"type\":\"file\",\"path\":\"$F\",\"file_offset\":$((HITPAGE * 4096)),\"length\":4096}]" \
	"$(dg_jq '[.owners[] | {type, path, file_offset, length}]')"
want=$(printf '%s\n' "$P1" "$P4" | jq -sc 'map(tonumber) | sort')
dg_expect_eq "JSON: the users are exactly the mappers of page $HITPAGE" "$want" \
	"$(dg_jq '[.users[].pid] | unique')"
dg_expect_eq "JSON: the processes acted on are exactly the mappers of page $HITPAGE" \
	"$want" "$(dg_jq '[.processes[].pid] | sort')"
dg_expect_eq "JSON: both were SIGKILLed and exited" \
	'[{"state":"exited","signals":["KILL"]}]' \
	"$(dg_jq '[.processes[] | {state, signals}] | unique')"

for pid in "$P1" "$P4"; do
	dg_wait_gone "$pid" 5 || dg_fail "pid $pid, which maps page $HITPAGE, still runs"
	status=0
	{ wait "$pid"; } 2>/dev/null || status=$?
	dg_expect_eq "pid $pid (maps page $HITPAGE) died of SIGKILL" 137 "$status"
done
dg_pid_alive "$P2" || dg_fail "pid $P2, which maps page $OTHERPAGE only, was killed"
dg_ok "pid $P2, which maps another page of the file, lives"
dg_pid_alive "$P3" || dg_fail "pid $P3, which only holds $F open, was killed"
dg_ok "pid $P3, which only holds an fd, lives"
dg_expect_eq "JSON: the cached pages of the failed range were dropped" \
	"[{\"stage\":\"invalidate\",\"object\":\"$F\",\"ok\":true}]" \
	"$(dg_jq '[.steps[] | select(.stage == "invalidate") | {stage, object, ok}]')"
dg_expect_eq "JSON: nothing was punched without --punch" '[]' \
	"$(dg_jq '[.steps[] | select(.stage == "punch")]')"

# ------------------------------------------------------------------ #
# --punch: exactly the failed block becomes a hole

dg_page_sums "$G" "$PAGES" >"$DG_TMP/g.before"
size_before=$(stat -c %s "$G")
PUNCH=$(dg_devoff "$G" $((PUNCHPAGE * 4096))) ||
	dg_fail "no device offset for $G page $PUNCHPAGE"
dg_log "$G page $PUNCHPAGE is at device offset $PUNCH"
dg_expect_eq "$G has no hole before the punch" "0 $((PAGES * 4096))" \
	"$(dg_mapped_ranges "$G" | tr '\n' ';' | sed 's/;$//')"

dg_run timeout 60 "$DAXGUARD" fail "$DEV" --offset "$PUNCH" --length 4096 \
	--punch -J
dg_json_ok "fail --offset $PUNCH --length 4096 --punch -J"
dg_expect_eq "fail --punch: exit status" 0 "$DG_RC"
dg_expect_eq "JSON complete (--punch)" true "$(dg_jq .complete)"
dg_expect_eq "JSON: the owner is $G at file offset $((PUNCHPAGE * 4096))" \
	"[{\"type\":\"file\",\"path\":\"$G\",\"file_offset\":$((PUNCHPAGE * 4096)),\"length\":4096}]" \
	"$(dg_jq '[.owners[] | {type, path, file_offset, length}]')"
dg_expect_eq "JSON: one punch step, for $G, ok" \
	"[{\"stage\":\"punch\",\"object\":\"$G\",\"ok\":true}]" \
	"$(dg_jq '[.steps[] | select(.stage == "punch") | {stage, object, ok}]')"
dg_expect_eq "JSON: nobody was signalled (--action report)" '[]' \
	"$(dg_jq '[.processes[] | select(.signals != [])]')"

dg_expect_eq "$G: the hole is exactly page $PUNCHPAGE (FIEMAP)" \
	"0 $((PUNCHPAGE * 4096));$(((PUNCHPAGE + 1) * 4096)) $((PAGES * 4096))" \
	"$(dg_mapped_ranges "$G" | tr '\n' ';' | sed 's/;$//')"
dg_expect_eq "$G: the size is unchanged" "$size_before" "$(stat -c %s "$G")"
zero=$(head -c 4096 /dev/zero | sha256sum | cut -d' ' -f1)
awk -v p="$PUNCHPAGE" -v z="$zero" 'NR == p + 1 { print z; next } { print }' \
	"$DG_TMP/g.before" >"$DG_TMP/g.want"
dg_page_sums "$G" "$PAGES" >"$DG_TMP/g.after"
if ! diff -u "$DG_TMP/g.want" "$DG_TMP/g.after" >"$DG_TMP/g.diff"; then
	dg_fail "$G: pages other than $PUNCHPAGE changed, or $PUNCHPAGE is not zeros: $(cat "$DG_TMP/g.diff")"
fi
dg_ok "$G: page $PUNCHPAGE reads as zeros, the other $((PAGES - 1)) pages are unchanged"
# and from the disk, not only from the cache
dg_page_sums "$G" "$PAGES" direct >"$DG_TMP/g.after2"
diff -q "$DG_TMP/g.want" "$DG_TMP/g.after2" >/dev/null ||
	dg_fail "$G: read with O_DIRECT, the pages differ: $(diff "$DG_TMP/g.want" "$DG_TMP/g.after2")"
dg_ok "$G: the same when read with O_DIRECT"

dg_pid_alive "$P2" || dg_fail "pid $P2 died during the punch"
dg_pid_alive "$P3" || dg_fail "pid $P3 died during the punch"
dg_ok "the bystanders $P2 and $P3 still live"

dg_done
