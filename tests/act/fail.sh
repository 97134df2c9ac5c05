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
# Usage: fail.sh xfs|ext4     (xfs is made with -m rmapbt=1)

FSTYPE=${1:-}
case "$FSTYPE" in
xfs | ext4) ;;
*)
	echo "usage: $0 xfs|ext4" >&2
	exit 1
	;;
esac

# shellcheck source=tests/act/lib-act.sh
. "$(dirname "$0")/lib-act.sh"

PAGES=16
HITPAGE=5
OTHERPAGE=11
PUNCHPAGE=7

act_init
act_mkfs "$FSTYPE"

F="$MNT/mapped"
G="$MNT/punched"
for f in "$F" "$G"; do
	head -c $((PAGES * 4096)) /dev/urandom >"$f" || act_fail "write $f"
done
sync -f "$MNT" || act_fail "syncfs $MNT"

# ------------------------------------------------------------------ #
# --action kill: exactly the mappers of the failed page

HIT=$(act_devoff "$F" $((HITPAGE * 4096)))
act_log "$F page $HITPAGE is at device offset $HIT"
((HIT % 4096 == 0)) || act_fail "device offset $HIT is not page aligned"
# FIEMAP agrees with itself: the page before is either elsewhere or just
# before, and no other file page maps to the same block
n=$(act_extents "$F" | awk -v d="$HIT" 'd >= $2 && d < $2 + $3' | wc -l)
act_eq "exactly one extent of $F covers device offset $HIT" 1 "$n"
other=$(act_extents "$G" | awk -v d="$HIT" 'd >= $2 && d < $2 + $3')
[[ -z "$other" ]] || act_fail "$G also has device offset $HIT: $other"

act_mapper "map:$F:$((HITPAGE * 4096)):4096:shared-rw"
P1=$ACT_PID
act_mapper "map:$F:$(((HITPAGE - 1) * 4096)):$((3 * 4096)):shared-ro"
P4=$ACT_PID
act_mapper "map:$F:$((OTHERPAGE * 4096)):4096:shared-rw"
P2=$ACT_PID
act_mapper "hold:$F"
P3=$ACT_PID
act_log "P1 $P1 maps page $HITPAGE, P4 $P4 maps pages $((HITPAGE - 1))-$((HITPAGE + 1))," \
	"P2 $P2 maps page $OTHERPAGE, P3 $P3 holds an fd"

act_run timeout 60 "$DAXGUARD" fail "$DEV" --offset "$HIT" --length 4096 \
	--action kill -J
act_json_ok "fail --offset $HIT --length 4096 --action kill -J"
act_eq "fail --action kill: exit status" 0 "$ACT_RC"
act_eq "JSON complete" true "$(act_jq .complete)"
act_eq "JSON action" '"kill"' "$(act_jq .action)"
act_eq "JSON metadata_hit" false "$(act_jq .metadata_hit)"
act_eq "JSON: the owner is $F at file offset $((HITPAGE * 4096))" \
	"[{\"type\":\"file\",\"path\":\"$F\",\"file_offset\":$((HITPAGE * 4096)),\"length\":4096}]" \
	"$(act_jq '[.owners[] | {type, path, file_offset, length}]')"
want=$(printf '%s\n' "$P1" "$P4" | jq -sc 'map(tonumber) | sort')
act_eq "JSON: the users are exactly the mappers of page $HITPAGE" "$want" \
	"$(act_jq '[.users[].pid] | unique')"
act_eq "JSON: the processes acted on are exactly the mappers of page $HITPAGE" \
	"$want" "$(act_jq '[.processes[].pid] | sort')"
act_eq "JSON: both were SIGKILLed and exited" \
	'[{"state":"exited","signals":["KILL"]}]' \
	"$(act_jq '[.processes[] | {state, signals}] | unique')"

for pid in "$P1" "$P4"; do
	act_wait_gone "$pid" 5 || act_fail "pid $pid, which maps page $HITPAGE, still runs"
	status=0
	{ wait "$pid"; } 2>/dev/null || status=$?
	act_eq "pid $pid (maps page $HITPAGE) died of SIGKILL" 137 "$status"
done
act_pid_alive "$P2" || act_fail "pid $P2, which maps page $OTHERPAGE only, was killed"
act_ok "pid $P2, which maps another page of the file, lives"
act_pid_alive "$P3" || act_fail "pid $P3, which only holds $F open, was killed"
act_ok "pid $P3, which only holds an fd, lives"
act_eq "JSON: the cached pages of the failed range were dropped" \
	"[{\"stage\":\"invalidate\",\"object\":\"$F\",\"ok\":true}]" \
	"$(act_jq '[.steps[] | select(.stage == "invalidate") | {stage, object, ok}]')"
act_eq "JSON: nothing was punched without --punch" '[]' \
	"$(act_jq '[.steps[] | select(.stage == "punch")]')"

# ------------------------------------------------------------------ #
# --punch: exactly the failed block becomes a hole

act_page_sums "$G" "$PAGES" >"$ACT_T/g.before"
size_before=$(stat -c %s "$G")
PUNCH=$(act_devoff "$G" $((PUNCHPAGE * 4096)))
act_log "$G page $PUNCHPAGE is at device offset $PUNCH"
act_eq "$G has no hole before the punch" "0 $((PAGES * 4096))" \
	"$(act_mapped_ranges "$G" | tr '\n' ';' | sed 's/;$//')"

act_run timeout 60 "$DAXGUARD" fail "$DEV" --offset "$PUNCH" --length 4096 \
	--punch -J
act_json_ok "fail --offset $PUNCH --length 4096 --punch -J"
act_eq "fail --punch: exit status" 0 "$ACT_RC"
act_eq "JSON complete (--punch)" true "$(act_jq .complete)"
act_eq "JSON: the owner is $G at file offset $((PUNCHPAGE * 4096))" \
	"[{\"type\":\"file\",\"path\":\"$G\",\"file_offset\":$((PUNCHPAGE * 4096)),\"length\":4096}]" \
	"$(act_jq '[.owners[] | {type, path, file_offset, length}]')"
act_eq "JSON: one punch step, for $G, ok" \
	"[{\"stage\":\"punch\",\"object\":\"$G\",\"ok\":true}]" \
	"$(act_jq '[.steps[] | select(.stage == "punch") | {stage, object, ok}]')"
act_eq "JSON: nobody was signalled (--action report)" '[]' \
	"$(act_jq '[.processes[] | select(.signals != [])]')"

act_eq "$G: the hole is exactly page $PUNCHPAGE (FIEMAP)" \
	"0 $((PUNCHPAGE * 4096));$(((PUNCHPAGE + 1) * 4096)) $((PAGES * 4096))" \
	"$(act_mapped_ranges "$G" | tr '\n' ';' | sed 's/;$//')"
act_eq "$G: the size is unchanged" "$size_before" "$(stat -c %s "$G")"
zero=$(head -c 4096 /dev/zero | sha256sum | cut -d' ' -f1)
awk -v p="$PUNCHPAGE" -v z="$zero" 'NR == p + 1 { print z; next } { print }' \
	"$ACT_T/g.before" >"$ACT_T/g.want"
act_page_sums "$G" "$PAGES" >"$ACT_T/g.after"
if ! diff -u "$ACT_T/g.want" "$ACT_T/g.after" >"$ACT_T/g.diff"; then
	act_fail "$G: pages other than $PUNCHPAGE changed, or $PUNCHPAGE is not zeros: $(cat "$ACT_T/g.diff")"
fi
act_ok "$G: page $PUNCHPAGE reads as zeros, the other $((PAGES - 1)) pages are unchanged"
# and from the disk, not only from the cache
act_page_sums "$G" "$PAGES" direct >"$ACT_T/g.after2"
diff -q "$ACT_T/g.want" "$ACT_T/g.after2" >/dev/null ||
	act_fail "$G: read with O_DIRECT, the pages differ: $(diff "$ACT_T/g.want" "$ACT_T/g.after2")"
act_ok "$G: the same when read with O_DIRECT"

act_pid_alive "$P2" || act_fail "pid $P2 died during the punch"
act_pid_alive "$P3" || act_fail "pid $P3 died during the punch"
act_ok "the bystanders $P2 and $P3 still live"

act_done
