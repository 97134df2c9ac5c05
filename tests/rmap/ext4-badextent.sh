#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# ext4-badextent.sh: the ext4-libext2fs backend reads the inode tables from
# the device.  An inode whose extent header does not parse there (a failing
# inode-table block: exactly what daxguard is for) must never make its
# blocks "nothing on the device": they are in use (GETFSMAP says so).  The
# answer names the file where the kernel still knows its extents (its
# inode is cached), and says which inode could not be read.

. "${TESTS_DIR:-$(dirname "$0")/..}/lib.sh"

dg_require_root
dg_require_mapper
dg_require_cmd debugfs
dg_tmpdir
dg_setup_fs ext4
# no atime updates: ext4 would write its cached inode over the change
mount -o remount,noatime "$MNT" || dg_fail "remount noatime failed"

for i in $(seq 1 30); do head -c $((i * 3000)) /dev/urandom >"$MNT/f$i"; done
dg_write_chunk "$MNT/target" 0 65536
sync
ino=$(dg_inode "$MNT/target")
off=$(dg_devoff "$MNT/target" 0)
mapper=$(dg_start_mapper "map:$MNT/target:0:65536:shared-ro")

# "Inode 12 is part of block group 0\n\tlocated at block 1234, offset 0x0b00"
read -r blk ioff < <(debugfs -R "imap <$ino>" "$DEV" 2>/dev/null |
	sed -n 's/.*located at block \([0-9]*\), offset \(0x[0-9a-f]*\).*/\1 \2/p')
[[ -n $blk ]] || dg_fail "debugfs imap <$ino> failed"
bs=$(stat -f -c %S "$MNT")
# i_block, the extent header (magic 0xf30a) at 40 bytes into the inode
printf '\xde\xad\xbe\xef\xde\xad\xbe\xef\xde\xad\xbe\xef' |
	dd of="$DEV" bs=1 seek=$((blk * bs + ioff + 40)) conv=notrunc,fsync status=none ||
	dg_fail "cannot write $DEV"
dg_log "inode $ino at $off: its extent header on $DEV is garbage now"

dg_run timeout 60 "$DAXGUARD" who "$DEV" --offset "$off" --length 4096 --rmap ext4-libext2fs -J
[[ $DG_RC == 0 ]] || dg_fail "daxguard who: exit status $DG_RC"
dg_json_ok "daxguard who"
dg_assert_ne "the block is not 'nothing on the device'" "[]" "$(dg_jq '[.owners[].type]')"
dg_assert_eq "no part of it is free" "[]" \
	"$(dg_jq '[.owners[] | select(.type == "free")]')"
dg_assert_match "a warning names inode $ino" "inode $ino" "$(dg_jq -r '.warnings[]')"
dg_assert_eq "the kernel still knows the file: it is named" "[$ino]" \
	"$(dg_jq '[.owners[] | select(.type == "file") | .inode] | unique')"
dg_assert_eq "the process mapping it is found" "[$mapper]" "$(dg_jq '[.users[].pid] | unique')"
dg_done
