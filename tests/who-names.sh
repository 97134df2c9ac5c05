#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# who-names.sh KIND: names that users choose (KIND xfs-rmap, xfs-normap or
# ext4), and that root's daxguard prints.
#  - One file, one name, one string: a name with a newline, one with an
#    invalid UTF-8 byte, one ending in " (deleted)" (a name, not a state),
#    a 255-byte name and one with an escape sequence are each mapped by a
#    process.  In -J the owner's path and the process's path are the same
#    string, the output is strictly valid UTF-8, and jq parses it.
#  - Nothing reaches the terminal raw: a mountpoint and a loop device's
#    backing file whose names hold escape sequences and a newline, and a
#    process whose command name holds one, are printed escaped by who,
#    fail and remove (dry run).
# shellcheck source-path=SCRIPTDIR source=lib.sh
# shellcheck disable=SC2016 # jq filters use their own $variables
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

dg_require_root
dg_require_mapper
dg_require_cmd iconv
dg_tmpdir
# every check below goes on after a failure (dg_done exits 1)
set +e

# the image and the mountpoint have hostile names of their own
ESC=$'\e'
BEL=$'\a'
mkdir "$DG_TMP/img$ESC]0;pwned$BEL" || dg_fail "mkdir"
dg_setup_fs "${1:-}"
umount "$MNT" || dg_fail "umount $MNT"
losetup -d "$DEV" || dg_fail "losetup -d $DEV"
HIMG="$DG_TMP/img$ESC]0;pwned$BEL/x${ESC}[2J.img"
mv "$IMG" "$HIMG" || dg_fail "mv"
IMG=$HIMG
DEV=$(losetup --find --show "$IMG") || dg_fail "losetup $IMG"
MNT="$DG_TMP/mnt${ESC}[31m"$'\n'"    mounted on elsewhere"
mkdir "$MNT" || dg_fail "mkdir"
mount "$DEV" "$MNT" || dg_fail "mount"

PAGE=4096
declare -A NAME=(
	[newline]=$'new\nline'
	[badutf8]=$'bad\xff\xfeutf8'
	[deleted]='plain (deleted)'
	[long]=$(printf 'L%.0s' {1..255})
	[escape]=$'esc\e[2Jname'
)
declare -A PID DEVOFF
for k in "${!NAME[@]}"; do
	f="$MNT/${NAME[$k]}"
	dg_write_chunk "$f" 0 $((4 * PAGE))
	DEVOFF[$k]=$(dg_devoff "$f" $PAGE)
done
sync -f "$MNT"
# a command name with an escape sequence: comm is the executable's name
ln -s "$DG_MAPPER" "$DG_TMP/m${ESC}[5m" || dg_fail "ln -s"
for k in "${!NAME[@]}"; do
	DG_READY=$(mktemp "$DG_TMP/ready.XXXXXX")
	dg_spawn_ready "$DG_READY" "$DG_TMP/m${ESC}[5m" -r "$DG_READY" \
		"map:$MNT/${NAME[$k]}:0:$((4 * PAGE)):shared-ro"
	PID[$k]=$DG_PID
done

# strictly valid UTF-8 (iconv refuses anything else), and JSON
valid_json()
{
	iconv -f UTF-8 -t UTF-8 <"$DG_TMP/.out" >/dev/null 2>&1 ||
		{ dg_notok "$1: the output is not valid UTF-8"; return; }
	jq -e . <"$DG_TMP/.out" >/dev/null 2>&1 ||
		{ dg_notok "$1: the output is not JSON"; return; }
	dg_ok "$1: valid UTF-8 and JSON"
}

# no raw control character but newline in what a terminal would show
no_raw_controls()
{
	local n

	n=$(LC_ALL=C tr -d '\n' <"$DG_TMP/.$2" | LC_ALL=C tr -d '[:print:]' | wc -c)
	dg_expect_eq "$1: no raw control characters on std$2" 0 "$n"
}

for k in "${!NAME[@]}"; do
	dg_run timeout 60 "$DAXGUARD" who "$DEV" --offset "${DEVOFF[$k]}" --length $PAGE -J
	dg_expect_eq "who $k -J: exit status" 0 "$DG_RC"
	valid_json "who $k -J"
	DG_JSON=$(<"$DG_TMP/.out")
	dg_expect_eq "who $k -J: one owner, the file" 1 \
		"$(dg_jq '[.owners[] | select(.type == "file")] | length')"
	dg_expect_eq "who $k -J: one user, the mapper" "[${PID[$k]}]" \
		"$(dg_jq '[.users[].pid] | unique')"
	dg_expect_eq "who $k -J: the owner's and the user's paths are the same string" true \
		"$(dg_jq '(.owners[0].path) == (.users[0].path) and (.owners[0].path | length) > 0')"
	dg_expect_eq "who $k -J: the file is not unlinked" false "$(dg_jq '.owners[0].unlinked')"
	if [[ $k != badutf8 ]]; then
		dg_expect_eq "who $k -J: the path is the file's name" \
			"$(jq -Rn --arg p "$MNT/${NAME[$k]}" '$p')" "$(dg_jq '.owners[0].path')"
	fi
	# the two readers of mappings (daxguard times them and takes the
	# faster) give the same users, names and all: the text escapes a
	# newline as "\012", the query does not
	users=$(dg_jq -S '.users')
	for way in text query; do
		dg_run env DAXGUARD_MAPS=$way timeout 60 "$DAXGUARD" who "$DEV" \
			--offset "${DEVOFF[$k]}" --length $PAGE -J
		DG_JSON=$(<"$DG_TMP/.out")
		dg_expect_eq "who $k -J, DAXGUARD_MAPS=$way: the same users" "$users" \
			"$(dg_jq -S '.users')"
	done
	dg_run timeout 60 "$DAXGUARD" who "$DEV" --offset "${DEVOFF[$k]}" --length $PAGE
	dg_expect_eq "who $k: exit status" 0 "$DG_RC"
	no_raw_controls "who $k" out
	no_raw_controls "who $k" err
done

dg_run timeout 60 "$DAXGUARD" who "$DEV" -J
valid_json "who (whole device) -J"
DG_JSON=$(<"$DG_TMP/.out")
users=$(dg_jq -S '.users')
for way in text query; do
	dg_run env DAXGUARD_MAPS=$way timeout 60 "$DAXGUARD" who "$DEV" -J
	DG_JSON=$(<"$DG_TMP/.out")
	dg_expect_eq "who (whole device) -J, DAXGUARD_MAPS=$way: the same users" "$users" \
		"$(dg_jq -S '.users')"
done
dg_expect_eq "who (whole device): no file is taken for unlinked" "[]" \
	"$(dg_jq '[.owners[] | select(.unlinked) | .inode]')"
dg_expect_eq "who (whole device): the \" (deleted)\" file has its name" \
	"$(jq -cn --arg p "$MNT/${NAME[deleted]}" '[$p]')" \
	"$(dg_jq '[.owners[] | select(.path != null) | select(.path | endswith(" (deleted)")) | .path]')"
dg_run timeout 60 "$DAXGUARD" who "$DEV"
no_raw_controls "who (whole device)" out
no_raw_controls "who (whole device)" err
[[ "$DG_OUT" != *$'\n    mounted on elsewhere'* ]] ||
	dg_notok "who: the mountpoint's name forged a 'mounted on' line"

dg_run timeout 60 "$DAXGUARD" fail "$DEV" --offset "${DEVOFF[escape]}" --length $PAGE
dg_expect_eq "fail --action report: exit status" 0 "$DG_RC"
no_raw_controls "fail" out
no_raw_controls "fail" err
dg_run timeout 60 "$DAXGUARD" remove "$DEV" --dry-run
dg_expect_eq "remove --dry-run: exit status" 0 "$DG_RC"
no_raw_controls "remove --dry-run" out
no_raw_controls "remove --dry-run" err
dg_run timeout 60 "$DAXGUARD" remove "$DEV" --dry-run -J
valid_json "remove --dry-run -J"
dg_done
