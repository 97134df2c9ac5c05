#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# who-badblocks.sh: --badblocks lists ("SECTOR COUNT" lines, 512-byte
# sectors) give the ranges they list, alone or together with --offset and
# --length pairs given in any order around them, from a file or stdin.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

dg_require_root
dg_tmpdir
dg_setup_fs ext4

BB=$DG_TMP/bb.list
# a comment, a blank line, blanks around the numbers, no final newline
printf '# pmem0\n\n  16 8\t\n1024 16' >"$BB"
BBR='[{"offset":8192,"length":4096},{"offset":524288,"length":8192}]'

# ranges WHAT WANT ARGS...: who ARGS answers for exactly the ranges WANT
# (a JSON array, sorted by offset); its stdin is $STDIN, or /dev/null
ranges()
{
	local what=$1 want=$2 rc=0

	shift 2
	timeout 60 "$DAXGUARD" who "$DEV" "$@" -J <"${STDIN:-/dev/null}" \
		>"$DG_TMP/.out" 2>"$DG_TMP/.err" || rc=$?
	dg_ran "$rc" "who $DEV $* -J"
	dg_assert_eq "$what: exit status" 0 "$DG_RC"
	dg_json_ok "$what"
	dg_assert_eq "$what: the ranges" "$want" \
		"$(dg_jq '[.ranges[] | {offset, length}] | sort_by(.offset)')"
	dg_assert_eq "$what: not a whole-device query" false "$(dg_jq .whole_device)"
}

ranges "the list alone" "$BBR" --badblocks "$BB"
STDIN=$BB ranges "the list from stdin" "$BBR" --badblocks -

# --offset/--length pairs and a list: the pairs keep their order among
# themselves and the list does not shift them, wherever it comes
U='{"offset":0,"length":4096}'
U2='{"offset":1048576,"length":12288}'
BOTH="[$U,${BBR:1:-1}]"
ranges "--length, --badblocks, --offset" "$BOTH" \
	--length 4K --badblocks "$BB" --offset 0
ranges "--offset, --badblocks, --length" "$BOTH" \
	--offset 0 --badblocks "$BB" --length 4K
ranges "--badblocks, --offset, --length" "$BOTH" \
	--badblocks "$BB" --offset 0 --length 4K
ranges "--offset, --length, --badblocks" "$BOTH" \
	--offset 0 --length 4K --badblocks "$BB"
ranges "two pairs around the list" "[$U,${BBR:1:-1},$U2]" \
	--offset 0 --offset 1M --badblocks "$BB" --length 4K --length 12K

# a list long enough to grow the arrays, between a --length and its --offset
for ((i = 0; i < 300; i++)); do
	echo "$((4096 + i * 16)) 8"
done >"$DG_TMP/long.list"
dg_who "$DEV" --length 4K --badblocks "$DG_TMP/long.list" --offset 0
dg_assert_eq "a 300-line list between --length and --offset: 301 ranges" 301 \
	"$(dg_jq '.ranges | length')"
dg_assert_eq "a 300-line list between --length and --offset: the user's range is kept" \
	"$U" "$(dg_jq '[.ranges[] | {offset, length}] | sort_by(.offset) | .[0]')"

# an empty list is good news, not a whole-device query
: >"$DG_TMP/empty.list"
dg_run timeout 60 "$DAXGUARD" who "$DEV" --badblocks "$DG_TMP/empty.list"
dg_assert_eq "an empty list: exit status" 0 "$DG_RC"
dg_assert_match "an empty list: says so" "no bad blocks listed" "$DG_OUT"

dg_done
