#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# who-partition.sh: a loop device with a GPT and two partitions (losetup
# -P), XFS (rmapbt=1) in p1 and ext4 in p2.  Offsets given on the whole
# disk must be resolved through the partition table to the right
# filesystem, and reported relative to the target given.
# shellcheck source-path=SCRIPTDIR source=lib.sh
# shellcheck disable=SC2016 # jq filters use their own $variables
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

dg_require_root
dg_require_mapper
dg_require_cmd sfdisk
dg_require_fs xfs
dg_require_fs ext4
dg_tmpdir

PAGE=4096
MIB=$((1024 * 1024))
IMG=$DG_TMP/disk.img
truncate -s 400M "$IMG"
# p2 starts right where p1 ends, so a range can straddle the two
sfdisk -q "$IMG" >"$DG_TMP/sfdisk.log" 2>&1 <<EOF || dg_fail "sfdisk: $(cat "$DG_TMP/sfdisk.log")"
label: gpt
start=2048, size=$((320 * 2048)), name=xfs
start=$((2048 + 320 * 2048)), size=$((64 * 2048)), name=ext4
EOF
DISK=$(dg_losetup "$IMG" -P)
P1=${DISK}p1
P2=${DISK}p2
# Kernels built without the GPT parser (CONFIG_EFI_PARTITION unset) scan
# nothing: then partx reads the table in user space and adds the
# partitions with BLKPG, which the kernel accepts all the same.
for ((i = 0; i < 20; i++)); do
	[[ -e "$P2" ]] && break
	sleep 0.05
done
if [[ ! -e "$P2" ]]; then
	dg_require_cmd partx
	dg_log "the kernel found no partitions on $DISK; adding them with partx"
	partx --add "$DISK" || dg_fail "partx --add $DISK failed"
fi
dg_wait_for_path "$P1"
dg_wait_for_path "$P2"
dg_log "disk $DISK, partitions $P1 $P2"

S1=$(($(cat "/sys/class/block/${P1#/dev/}/start") * 512))
S2=$(($(cat "/sys/class/block/${P2#/dev/}/start") * 512))
Z1=$(blockdev --getsize64 "$P1")
Z2=$(blockdev --getsize64 "$P2")
dg_assert_eq "p1 start (sysfs)" $((MIB)) "$S1"
dg_assert_eq "p2 start (sysfs)" $((MIB + 320 * MIB)) "$S2"

dg_mkfs "$P1" xfs -m rmapbt=1
dg_mkfs "$P2" ext4
M1=$DG_TMP/m1
M2=$DG_TMP/m2
dg_mount "$P1" "$M1"
dg_mount "$P2" "$M2"

X=$M1/x
E=$M2/e
dg_write_chunk "$X" 0 $((8 * PAGE))
dg_write_chunk "$E" 0 $((16 * PAGE))
sync
XI=$(dg_inode "$X")
EI=$(dg_inode "$E")
X_OFF=$(dg_devoff "$X" "$PAGE")            # page 1 of X, in p1
E_OFF=$(dg_devoff "$E" $((3 * PAGE)))      # page 3 of E, in p2
dg_log "x page 1 at p1+$X_OFF, e page 3 at p2+$E_OFF"

PX=$(dg_start_mapper "map:$X:$PAGE:$PAGE:shared-ro")
PE=$(dg_start_mapper "map:$E:$((3 * PAGE)):$PAGE:shared-rw")
PEO=$(dg_start_mapper "map:$E:0:$((2 * PAGE)):shared-ro")   # other pages of e
dg_log "PX=$PX PE=$PE PEO=$PEO"

# ------------------------------------------------------------------ #
# A page of e, given on the whole disk

Q=$((S2 + E_OFF))
dg_who "$DISK" --offset "$Q" --length "$PAGE"
dg_assert_eq "p2 via disk: target" "$DISK" "$(dg_jq -r .target.device)"
dg_assert_eq "p2 via disk: target size" "$(blockdev --getsize64 "$DISK")" \
	"$(dg_jq .target.size)"
dg_assert_eq "p2 via disk: filesystems" \
	"[{\"device\":\"$P1\",\"fstype\":\"xfs\",\"start\":$S1,\"size\":$Z1,\"rmap\":\"xfs-rmapbt\"},{\"device\":\"$P2\",\"fstype\":\"ext4\",\"start\":$S2,\"size\":$Z2,\"rmap\":\"not xfs-rmapbt\"}]" \
	"$(dg_jq '[.filesystems[] | {device, fstype, start, size, rmap} |
		if .fstype == "ext4" and .rmap != "xfs-rmapbt" and .rmap != null
		then .rmap = "not xfs-rmapbt" else . end]')"
dg_assert_eq "p2 via disk: mounts (ours)" "[[\"$M1\"],[\"$M2\"]]" \
	"$(dg_jq '[.filesystems[] | [.mounts[] | select(.local) | .target]]')"
dg_assert_eq "p2 via disk: the owner" \
	"[{\"filesystem\":\"$P2\",\"type\":\"file\",\"inode\":$EI,\"path\":\"$E\",\"file_offset\":$((3 * PAGE)),\"offset\":$Q,\"length\":$PAGE}]" \
	"$(dg_jq '[.owners[] | {filesystem, type, inode, path, file_offset, offset, length}]')"
dg_assert_eq "p2 via disk: whole_device" false "$(dg_jq .whole_device)"
dg_assert_eq "p2 via disk: users" "[{\"pid\":$PE,\"use\":\"map\",\"filesystem\":\"$P2\",\"inode\":$EI,\"path\":\"$E\",\"file_offset\":$((3 * PAGE))}]" \
	"$(dg_jq '[.users[] | {pid, use, filesystem, inode, path, file_offset}]')"

# the same page, given on the partition itself
dg_who "$P2" --offset "$E_OFF" --length "$PAGE"
dg_assert_eq "p2 direct: target" "$P2" "$(dg_jq -r .target.device)"
dg_assert_eq "p2 direct: filesystems" "[{\"device\":\"$P2\",\"start\":0}]" \
	"$(dg_jq '[.filesystems[] | {device, start}]')"
dg_assert_eq "p2 direct: the owner" \
	"[{\"filesystem\":\"$P2\",\"inode\":$EI,\"path\":\"$E\",\"file_offset\":$((3 * PAGE)),\"offset\":$E_OFF}]" \
	"$(dg_jq '[.owners[] | {filesystem, inode, path, file_offset, offset}]')"
dg_assert_eq "p2 direct: users" "[$PE]" "$(dg_jq '[.users[].pid] | unique')"

# ------------------------------------------------------------------ #
# A page of x in p1, given on the whole disk

Q=$((S1 + X_OFF))
dg_who "$DISK" --offset "$Q" --length "$PAGE"
dg_assert_eq "p1 via disk: the owner" \
	"[{\"filesystem\":\"$P1\",\"type\":\"file\",\"inode\":$XI,\"path\":\"$X\",\"file_offset\":$PAGE,\"offset\":$Q,\"length\":$PAGE}]" \
	"$(dg_jq '[.owners[] | {filesystem, type, inode, path, file_offset, offset, length}]')"
dg_assert_eq "p1 via disk: users" "[{\"pid\":$PX,\"use\":\"map\",\"filesystem\":\"$P1\",\"path\":\"$X\"}]" \
	"$(dg_jq '[.users[] | {pid, use, filesystem, path}]')"

# e's offset within p2, taken as an offset into p1: lands in p1, never on e
dg_who "$DISK" --offset $((S1 + E_OFF)) --length "$PAGE"
dg_assert_eq "p2's offset inside p1: every owner is in p1" "[\"$P1\"]" \
	"$(dg_jq '[.owners[].filesystem] | unique')"
dg_assert_eq "p2's offset inside p1: e is not an owner" 0 \
	"$(dg_jq "[.owners[] | select(.filesystem == \"$P2\" or .path == \"$E\")] | length")"
dg_assert_eq "p2's offset inside p1: no users" 0 "$(dg_jq '.users | length')"

dg_who "$DISK" --offset 0 --length $((S1))
dg_assert_eq "before p1: no owners of a file" 0 \
	"$(dg_jq '[.owners[] | select(.type == "file")] | length')"
dg_assert_eq "before p1: no users" 0 "$(dg_jq '.users | length')"

# ------------------------------------------------------------------ #
# A range across the boundary: the last page of p1 and the first of p2

read -r LAST_START LAST_LEN LAST_OWNER < <(dg_fsmap "$M1" | tail -n 1)
dg_log "last p1 record: $LAST_START +$LAST_LEN $LAST_OWNER"
((LAST_START + LAST_LEN == Z1)) || dg_fail "GETFSMAP of p1 does not reach its end"
[[ "$LAST_OWNER" == "free space" ]] || dg_fail "the end of p1 is not free: $LAST_OWNER"
dg_who "$DISK" --offset $((S2 - PAGE)) --length $((2 * PAGE))
dg_assert_eq "boundary: p1's part" \
	"[{\"filesystem\":\"$P1\",\"type\":\"free\",\"offset\":$((S2 - PAGE)),\"length\":$PAGE}]" \
	"$(dg_jq "[.owners[] | select(.filesystem == \"$P1\") | {filesystem, type, offset, length}]")"
dg_assert_eq "boundary: p2's part is inside p2" "[]" \
	"$(dg_jq "[.owners[] | select(.filesystem == \"$P2\") |
		select(.offset < $S2 or .offset + .length > $((S2 + PAGE)))]")"
dg_assert_eq "boundary: no file owners" 0 \
	"$(dg_jq '[.owners[] | select(.type == "file")] | length')"
dg_assert_eq "boundary: no users" 0 "$(dg_jq '.users | length')"

# past the end of p2 (GPT backup area): nothing
END2=$((S2 + Z2))
dg_who "$DISK" --offset "$END2" --length "$PAGE"
dg_assert_eq "after p2: no owners of a file" 0 \
	"$(dg_jq '[.owners[] | select(.type == "file")] | length')"
dg_assert_eq "after p2: no users" 0 "$(dg_jq '.users | length')"

echo "1..$DG_NCHECK"
