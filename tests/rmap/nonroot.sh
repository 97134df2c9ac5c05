#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# nonroot.sh KIND: `who --rmap fiemap` run by an unprivileged user, on a
# block of a file in a directory that user cannot read.  The walk cannot
# reach the file; the answer must say that it is incomplete (a warning
# that counts what could not be opened) and must not call the block
# "nothing on the device": it is in use (GETFSMAP says so to anyone).

. "${TESTS_DIR:-$(dirname "$0")/..}/lib.sh"

kind=${1:?usage: nonroot.sh xfs-normap|ext4}
dg_require_root
dg_require_cmd setpriv
dg_tmpdir
dg_setup_fs "$kind"
id nobody >/dev/null 2>&1 || dg_skip "no user nobody"

# the unprivileged user needs to reach the binary, and the mountpoint
chmod 755 "$DG_TMP"
asnobody()
{
	setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"
}
asnobody test -x "$DAXGUARD" || dg_skip "user nobody cannot run $DAXGUARD"

mkdir -p "$MNT/open" "$MNT/secret/inner"
for i in $(seq 1 5); do head -c 20000 /dev/urandom >"$MNT/open/f$i"; done
head -c 65536 /dev/urandom >"$MNT/secret/inner/data"
chmod 700 "$MNT/secret"
sync
off=$(dg_devoff "$MNT/secret/inner/data" 0)
ooff=$(dg_devoff "$MNT/open/f1" 0)

dg_run timeout 60 setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
	"$DAXGUARD" who "$DEV" --offset "$off" --length 4096 --offset "$ooff" --length 4096 \
	--rmap fiemap --no-users -J
dg_log "exit status $DG_RC"
dg_json_ok "who as nobody"
dg_assert_match "a warning says the answer is incomplete, and counts" \
	"fiemap: [0-9]+ (files or directories|file or directory) could not be opened" \
	"$(dg_jq -r '.warnings[]')"
dg_assert_eq "the readable file is named" "[$(dg_inode "$MNT/open/f1")]" \
	"$(dg_jq '[.owners[] | select(.type == "file") | .inode] | unique')"
dg_assert_eq "the unreadable file's block is in use, owner unknown" "[\"unknown\"]" \
	"$(dg_jq --argjson o "$off" '[.owners[] | select(.offset <= $o and .offset + .length > $o) | .type] | unique')"

# the filesystem's own backend (bulkstat, libext2fs: root's) gives way to
# the walk, and says so
dg_run timeout 60 setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups \
	"$DAXGUARD" who "$DEV" --offset "$off" --length 4096 --offset "$ooff" --length 4096 \
	--no-users -J
dg_json_ok "who as nobody, the default backend"
dg_assert_match "the backend's refusal is a warning, and the walk answers" \
	"not root: the (xfs-[a-z]+|ext4-libext2fs) reverse map needs root; only files this user can open were mapped" \
	"$(dg_jq -r '.warnings[]')"
dg_assert_eq "the readable file is named" "[$(dg_inode "$MNT/open/f1")]" \
	"$(dg_jq '[.owners[] | select(.type == "file") | .inode] | unique')"
dg_assert_eq "the unreadable file's block is unknown, not nothing" "[\"unknown\"]" \
	"$(dg_jq --argjson o "$off" '[.owners[] | select(.offset <= $o and .offset + .length > $o) | .type] | unique')"

# and as root, the same query is complete
dg_who "$DEV" --offset "$off" --length 4096 --rmap fiemap --no-users
dg_assert_eq "as root: no warning" "[]" "$(dg_jq '.warnings')"
dg_assert_eq "as root: the file is named" "[$(dg_inode "$MNT/secret/inner/data")]" \
	"$(dg_jq '[.owners[] | select(.type == "file") | .inode] | unique')"
dg_done
