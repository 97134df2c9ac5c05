#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# who-range.sh KIND: daxguard who on byte ranges of a loop device holding
# one filesystem, KIND xfs-rmap (XFS, rmapbt=1), xfs-normap (XFS,
# rmapbt=0) or ext4.
#
# Two fragmented files A and B (their extents interleaved on the device)
# and a contiguous file C, and processes that use them:
#	P1  maps A pages 0-1                 (shared, read-only)
#	P2  maps A page L, inside A's second extent  (shared, read-write)
#	P6  maps A page L+1                  (private, read-write)
#	P3  maps all of A                    (private, read-only)
#	P4  holds A open, maps nothing
#	P5  maps all of B                    (shared, read-only)
#	P7  maps all of C and holds it open
# Ground truth comes from FIEMAP and GETFSMAP, never from constants: for
# each range, the owners are the files whose extents it hits, and the users
# are the processes whose mapping covers one of the pages hit.
# shellcheck source-path=SCRIPTDIR source=lib.sh
# shellcheck disable=SC2016 # jq filters use their own $variables
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

KIND=${1:-}
dg_require_root
dg_require_mapper
dg_tmpdir
dg_setup_fs "$KIND"

PAGE=4096
DIR=$MNT/d
A=$DIR/A
B=$DIR/B
C=$DIR/C
mkdir "$DIR"
dg_make_fragmented "$A" "$B" 6 3 2
dg_write_chunk "$C" 0 $((16 * PAGE))
sync

# The extents of every file, once: "PATH LOGICAL PHYSICAL LENGTH".
EXTENTS=$DG_TMP/extents
for f in "$A" "$B" "$C"; do
	dg_extents "$f" | awk -v f="$f" '{ print f, $1, $2, $3 }'
done >"$EXTENTS"
dg_log "extents:"
sed 's/^/#   /' "$EXTENTS"

# ... and in arrays, so that the expectations below need no forks
X_PATH=()
X_LOG=()
X_PHYS=()
X_LEN=()
while read -r path log phys len; do
	X_PATH+=("$path")
	X_LOG+=("$log")
	X_PHYS+=("$phys")
	X_LEN+=("$len")
done <"$EXTENTS"

# devoff FILE FILE_OFFSET: where that byte is on the device (cached FIEMAP)
devoff()
{
	local i

	for i in "${!X_PATH[@]}"; do
		if [[ "${X_PATH[$i]}" == "$1" ]] && (($2 >= X_LOG[i] && $2 < X_LOG[i] + X_LEN[i])); then
			echo $((X_PHYS[i] + $2 - X_LOG[i]))
			return 0
		fi
	done
	dg_fail "$1: offset $2 is not mapped"
}

declare -A INODE PATH_OF
for f in "$A" "$B" "$C"; do
	INODE[$f]=$(dg_inode "$f")
	PATH_OF[${INODE[$f]}]=$f
done

# A's second extent holds the page L that P2 maps, and L+1 that P6 maps.
read -r _ E1_LOG E1_PHYS E1_LEN < <(awk -v f="$A" '$1 == f' "$EXTENTS" | sed -n 2p)
((E1_LEN >= 2 * PAGE)) || dg_fail "A's second extent is only $E1_LEN bytes"
L=$E1_LOG
((E1_LEN >= 3 * PAGE)) && L=$((E1_LOG + PAGE))
((L >= 2 * PAGE)) || dg_fail "A's second extent starts at $E1_LOG, inside P1's pages"
L_DEV=$((E1_PHYS + L - E1_LOG))
dg_assert_eq "FIEMAP agrees on where A page L is" "$L_DEV" "$(dg_devoff "$A" "$L")"
dg_log "A page L = file offset $L, device offset $L_DEV"

# ------------------------------------------------------------------ #
# The processes

# vma_of PID FILE: "START-END" (decimal) of PID's mapping of FILE
vma_of()
{
	local range

	range=$(awk -v f="$2" '$6 == f { print $1; exit }' "/proc/$1/maps")
	[[ -n "$range" ]] || dg_fail "pid $1 does not map $2"
	echo "$((16#${range%-*}))-$((16#${range#*-}))"
}

M_PID=()
M_FILE=()
M_START=()
M_LEN=()
M_VMA=()
M_SHARED=()
M_WRITE=()
# mapper FILE START LEN MODE [MORE_OPS...]: sets LAST_PID
mapper()
{
	LAST_PID=$(dg_start_mapper "map:$1:$2:$3:$4" "${@:5}")
	M_PID+=("$LAST_PID")
	M_FILE+=("$1")
	M_START+=("$2")
	M_LEN+=("$3")
	M_VMA+=("$(vma_of "$LAST_PID" "$1")")
	case "$4" in
	shared-*) M_SHARED+=(true) ;;
	*) M_SHARED+=(false) ;;
	esac
	case "$4" in
	*-rw) M_WRITE+=(true) ;;
	*) M_WRITE+=(false) ;;
	esac
}

A_SIZE=$(stat -c %s "$A")
B_SIZE=$(stat -c %s "$B")
C_SIZE=$(stat -c %s "$C")
mapper "$A" 0 $((2 * PAGE)) shared-ro
P1=$LAST_PID
mapper "$A" "$L" "$PAGE" shared-rw
P2=$LAST_PID
mapper "$A" 0 "$A_SIZE" private-ro
P3=$LAST_PID
P4=$(dg_start_mapper "hold:$A")
mapper "$B" 0 "$B_SIZE" shared-ro
P5=$LAST_PID
mapper "$A" $((L + PAGE)) "$PAGE" private-rw
P6=$LAST_PID
mapper "$C" 0 "$C_SIZE" shared-ro "hold:$C"
P7=$LAST_PID
dg_log "P1=$P1 P2=$P2 P3=$P3 P4=$P4 P5=$P5 P6=$P6 P7=$P7"

# ------------------------------------------------------------------ #
# Expectations from the ground truth

# expected_hits OFF LEN: "PATH FILE_START FILE_END" for every extent the
# device range hits (file range in bytes, exact, not page-rounded).
expected_hits()
{
	local i lo=$1 hi=$(($1 + $2)) s e

	for i in "${!X_PATH[@]}"; do
		s=$((X_PHYS[i] > lo ? X_PHYS[i] : lo))
		e=$((X_PHYS[i] + X_LEN[i] < hi ? X_PHYS[i] + X_LEN[i] : hi))
		((s < e)) || continue
		echo "${X_PATH[$i]} $((X_LOG[i] + s - X_PHYS[i])) $((X_LOG[i] + e - X_PHYS[i]))"
	done
}

# expected_inodes OFF LEN: JSON array of the owning inodes
expected_inodes()
{
	local path inodes=()

	while read -r path _ _; do
		inodes+=("${INODE[$path]}")
	done < <(expected_hits "$1" "$2")
	dg_sorted_pids "${inodes[@]}"
}

# expected_users OFF LEN: JSON array of the PIDs mapping a page hit
expected_users()
{
	local path fs fe i pids=()

	while read -r path fs fe; do
		fs=$((fs / PAGE * PAGE))
		fe=$(((fe + PAGE - 1) / PAGE * PAGE))
		for i in "${!M_PID[@]}"; do
			[[ "${M_FILE[$i]}" == "$path" ]] || continue
			((M_START[i] < fe && M_START[i] + M_LEN[i] > fs)) ||
				continue
			pids+=("${M_PID[$i]}")
		done
	done < <(expected_hits "$1" "$2")
	dg_sorted_pids "${pids[@]}"
}

# check_range LABEL OFF LEN [TARGET]: run daxguard who on the range and
# compare everything with the ground truth.
check_range()
{
	local label=$1 off=$2 len=$3 target=${4:-$DEV}
	local lo hi ino path foff ooff olen fs unl pid cmd shared wr voff vs ve
	local use mi summary

	dg_who "$target" --offset "$off" --length "$len"
	summary=$(dg_jq '[([.ranges[] | {offset, length}] | tojson), .whole_device,
		([.owners[] | select(.type == "file") | .inode] | unique | tojson),
		([.users[].pid] | unique | tojson),
		([.users[].use] | unique | tojson)] | .[]' -r)
	{
		read -r ranges
		read -r whole
		read -r inodes
		read -r pids
		read -r uses
	} <<<"$summary"
	dg_assert_eq "$label: ranges" "[{\"offset\":$off,\"length\":$len}]" "$ranges"
	dg_assert_eq "$label: whole_device" false "$whole"
	dg_assert_eq "$label: file owners" "$(expected_inodes "$off" "$len")" "$inodes"
	dg_assert_eq "$label: users" "$(expected_users "$off" "$len")" "$pids"
	if [[ "$pids" == "[]" ]]; then
		dg_assert_eq "$label: no uses" "[]" "$uses"
	else
		dg_assert_eq "$label: every use is a map" '["map"]' "$uses"
	fi

	# every file owner record agrees with FIEMAP and stays in the pages hit
	lo=$((off / PAGE * PAGE))
	hi=$(((off + len + PAGE - 1) / PAGE * PAGE))
	while IFS=$'\t' read -r ino path foff ooff olen fs unl; do
		dg_assert_eq "$label: owner $ino path" "${PATH_OF[$ino]:-?}" "$path"
		dg_assert_eq "$label: owner $ino filesystem" "$DEV" "$fs"
		dg_assert_eq "$label: owner $ino unlinked" false "$unl"
		((olen > 0 && ooff >= lo && ooff + olen <= hi && ooff < off + len &&
			ooff + olen > off)) ||
			dg_fail "$label: owner $ino [$ooff, +$olen) is not in the pages hit [$lo, $hi)"
		dg_assert_eq "$label: owner $ino file_offset $foff is at device offset" \
			"$ooff" "$(devoff "$path" "$foff")"
	done < <(dg_jq '.owners[] | select(.type == "file") |
		[.inode, .path, .file_offset, .offset, .length, .filesystem,
		 .unlinked] | @tsv' -r)

	# each user record describes its own mapping
	while IFS=$'\t' read -r pid ino path fs cmd shared wr voff vs ve foff olen use; do
		for mi in "${!M_PID[@]}"; do
			[[ "${M_PID[$mi]}" == "$pid" ]] && break
		done
		[[ "${M_PID[$mi]}" == "$pid" ]] || dg_fail "$label: unexpected user $pid"
		dg_assert_eq "$label: user $pid use" map "$use"
		dg_assert_eq "$label: user $pid inode" "${INODE[${M_FILE[$mi]}]}" "$ino"
		dg_assert_eq "$label: user $pid path" "${M_FILE[$mi]}" "$path"
		dg_assert_eq "$label: user $pid filesystem" "$DEV" "$fs"
		dg_assert_eq "$label: user $pid command" dg-mapper "$cmd"
		dg_assert_eq "$label: user $pid shared" "${M_SHARED[$mi]}" "$shared"
		dg_assert_eq "$label: user $pid writable" "${M_WRITE[$mi]}" "$wr"
		dg_assert_eq "$label: user $pid vma_offset" "${M_START[$mi]}" "$voff"
		dg_assert_eq "$label: user $pid vma" "${M_VMA[$mi]}" "$vs-$ve"
		((olen > 0 && foff >= M_START[mi] &&
			foff + olen <= M_START[mi] + M_LEN[mi])) ||
			dg_fail "$label: user $pid file range [$foff, +$olen) is outside its mapping"
	done < <(dg_jq '.users[] | [.pid, .inode, .path, .filesystem, .command,
		.shared, .writable, .vma_offset, .vma_start, .vma_end,
		.file_offset, .file_length, .use] | @tsv' -r)
}

# ------------------------------------------------------------------ #
# 1. One page, inside one extent of A

check_range "page L" "$L_DEV" "$PAGE"
dg_assert_eq "page L: owners" 1 "$(dg_jq '.owners | length')"
dg_assert_eq "page L: the owner" \
	"{\"type\":\"file\",\"inode\":${INODE[$A]},\"path\":\"$A\",\"file_offset\":$L,\"offset\":$L_DEV,\"length\":$PAGE}" \
	"$(dg_jq '.owners[0] | {type, inode, path, file_offset, offset, length}')"
dg_assert_eq "page L: users are P2 and P3" "$(dg_sorted_pids "$P2" "$P3")" \
	"$(dg_jq '[.users[].pid] | unique')"
dg_assert_eq "page L: P2's affected file range" "[$L,$PAGE]" \
	"$(dg_jq "[.users[] | select(.pid == $P2) | .file_offset, .file_length]")"
dg_assert_eq "page L: P3's affected file range" "[$L,$PAGE]" \
	"$(dg_jq "[.users[] | select(.pid == $P3) | .file_offset, .file_length]")"
for p in "$P1" "$P4" "$P5" "$P6" "$P7"; do
	dg_assert_eq "page L: pid $p is not a user" 0 \
		"$(dg_jq "[.users[] | select(.pid == $p)] | length")"
done
PAGE_L_JSON=$DG_JSON

dg_assert_eq "target device" "$DEV" "$(dg_jq -r .target.device)"
DEVNUM=$(stat -L -c '%Hr:%Lr' "$DEV")
dg_assert_eq "target devnum" "$DEVNUM" "$(dg_jq -r .target.devnum)"
dg_assert_eq "target size" "$(blockdev --getsize64 "$DEV")" "$(dg_jq .target.size)"
dg_assert_eq "target backing file" "$(losetup -n -O BACK-FILE "$DEV" | sed 's/ *$//')" \
	"$(dg_jq -r .target.backing_file)"
dg_assert_eq "filesystems" \
	"[{\"device\":\"$DEV\",\"fstype\":\"$DG_FSTYPE\",\"start\":0}]" \
	"$(dg_jq '[.filesystems[] | {device, fstype, start}]')"
# (only the mounts in our namespace: any other test that creates a mount
# namespace meanwhile gets a copy of ours, and daxguard rightly lists it)
OUR_NS=$(stat -L -c %i /proc/self/ns/mnt)
dg_assert_eq "filesystem mounts" "[{\"target\":\"$MNT\",\"root\":\"/\",\"mntns\":$OUR_NS,\"local\":true}]" \
	"$(dg_jq --argjson ns "$OUR_NS" '[.filesystems[0].mounts[] | select(.local or .mntns == $ns) |
		{target, root, mntns, local}]')"
RMAP=$(dg_jq -r '.filesystems[0].rmap')
if [[ -n "$DG_EXPECT_RMAP" ]]; then
	dg_assert_eq "reverse map backend" "$DG_EXPECT_RMAP" "$RMAP"
else
	# fiemap, ext4-libext2fs, xfs-bmap...: anything but the rmapbt
	dg_assert_match "reverse map backend without rmapbt" '^[a-z0-9-]+$' "$RMAP"
	dg_assert_ne "reverse map backend without rmapbt" xfs-rmapbt "$RMAP"
fi

# The same range through the other spellings of the target and the range
same_answer()
{
	local label=$1

	shift
	dg_who "$@"
	dg_assert_eq "$label: same owners as by device path" \
		"$(jq -c '.owners' <<<"$PAGE_L_JSON")" "$(dg_jq '.owners')"
	dg_assert_eq "$label: same users as by device path" \
		"$(jq -c '[.users[] | {pid, use, file_offset, file_length}] | sort' <<<"$PAGE_L_JSON")" \
		"$(dg_jq '[.users[] | {pid, use, file_offset, file_length}] | sort')"
}
same_answer "mountpoint target" "$MNT" --offset "$L_DEV" --length "$PAGE"
same_answer "MAJ:MIN target" "$DEVNUM" --offset "$L_DEV" --length "$PAGE"
same_answer "hex offset, K length" "$DEV" --offset "$(printf '0x%x' "$L_DEV")" --length 4K

dg_who "$DEV" --offset "$L_DEV" --length "$PAGE" --no-paths
if [[ "$RMAP" == xfs-rmapbt ]]; then
	dg_assert_eq "--no-paths: owner path" '[null]' "$(dg_jq '[.owners[].path]')"
else
	# a FIEMAP walk finds the path for free; it may report it, or not
	dg_assert_match "--no-paths: owner path" "^\[(null|\"$A\")\]\$" \
		"$(dg_jq '[.owners[].path]')"
fi
dg_assert_eq "--no-paths: owner inode" "[${INODE[$A]}]" "$(dg_jq '[.owners[].inode]')"

dg_run timeout 60 "$DAXGUARD" who "$DEV" --offset "$L_DEV" --length "$PAGE" -r
dg_assert_eq "table output: exit status" 0 "$DG_RC"
dg_assert_match "table output names the file" "(^|[[:space:]])$A([[:space:]]|\$)" "$DG_OUT"
dg_assert_match "table output names P2" "(^|[[:space:]])$P2([[:space:]]|\$)" "$DG_OUT"

# ------------------------------------------------------------------ #
# 2. Ranges that straddle pages

check_range "pages L and L+1" $((L_DEV + PAGE / 2)) "$PAGE"
dg_assert_eq "pages L and L+1: users are P2, P3 and P6" \
	"$(dg_sorted_pids "$P2" "$P3" "$P6")" "$(dg_jq '[.users[].pid] | unique')"

# the last page of A's first extent and the block after it (B's, mostly)
read -r _ _ E0_PHYS E0_LEN < <(awk -v f="$A" '$1 == f' "$EXTENTS" | sed -n 1p)
END0=$((E0_PHYS + E0_LEN))
NEXT=$(dg_owner_of_block "$END0" "$A" "$B" "$C")
dg_log "after A's first extent ($END0): ${NEXT:-not one of our files}"
check_range "end of A's first extent" $((END0 - PAGE / 2)) "$PAGE"
check_range "A's first extent" "$E0_PHYS" "$E0_LEN"
dg_assert_eq "A's first extent: users are P1 and P3" \
	"$(dg_sorted_pids "$P1" "$P3")" "$(dg_jq '[.users[].pid] | unique')"
check_range "C" "$(devoff "$C" 0)" "$C_SIZE"
dg_assert_eq "C: the user is P7 (its fd is no use of a range)" \
	"$(dg_sorted_pids "$P7")" "$(dg_jq '[.users[].pid] | unique')"

# several ranges at once: page L and all of C
dg_who "$DEV" --offset "$L_DEV" --length "$PAGE" --offset "$(devoff "$C" 0)" --length "$C_SIZE"
dg_assert_eq "two ranges: ranges" "2" "$(dg_jq '.ranges | length')"
dg_assert_eq "two ranges: owners" "$(dg_sorted_pids "${INODE[$A]}" "${INODE[$C]}")" \
	"$(dg_jq '[.owners[] | select(.type == "file") | .inode] | unique')"
dg_assert_eq "two ranges: users" "$(dg_sorted_pids "$P2" "$P3" "$P7")" \
	"$(dg_jq '[.users[].pid] | unique')"

# ------------------------------------------------------------------ #
# 3. Free space and metadata

read -r FREE_START FREE_LEN < <(dg_fsmap_find "$MNT" "free space" $((1024 * 1024)))
[[ -n "${FREE_START:-}" ]] || dg_fail "GETFSMAP shows no free space of 1 MiB"
FREE_OFF=$((FREE_START + FREE_LEN / 2 / PAGE * PAGE))
[[ -z "$(dg_owner_of_block "$FREE_OFF" "$A" "$B" "$C")" ]] ||
	dg_fail "free space at $FREE_OFF belongs to a file"
dg_who "$DEV" --offset "$FREE_OFF" --length "$PAGE"
dg_assert_eq "free space: no file owner" 0 \
	"$(dg_jq '[.owners[] | select(.type == "file")] | length')"
dg_assert_eq "free space: no users" 0 "$(dg_jq '.users | length')"
if [[ "$KIND" == xfs-rmap ]]; then
	dg_assert_eq "free space: owners" "[{\"type\":\"free\",\"offset\":$FREE_OFF,\"length\":$PAGE}]" \
		"$(dg_jq '[.owners[] | {type, offset, length}]')"
fi

dg_who "$DEV" --offset 0 --length "$PAGE"
dg_assert_eq "superblock: no file owner" 0 \
	"$(dg_jq '[.owners[] | select(.type == "file")] | length')"
dg_assert_eq "superblock: no users" 0 "$(dg_jq '.users | length')"
if [[ "$KIND" == xfs-rmap ]]; then
	dg_assert_eq "superblock: owner types" '["metadata"]' \
		"$(dg_jq '[.owners[].type] | unique')"
fi

if [[ "$DG_FSTYPE" == xfs ]]; then
	LOG_OFF=$(dg_xfs_log_offset "$DEV")
	LOG_BLOCKS=$(dg_xfs_sb "$DEV" logblocks)
	dg_log "log at $LOG_OFF, $LOG_BLOCKS blocks"
	if [[ "$KIND" == xfs-rmap ]]; then
		dg_assert_eq "GETFSMAP agrees on where the log is" \
			"$LOG_OFF $((LOG_BLOCKS * 4096))" \
			"$(dg_fsmap_find "$MNT" "journalling log" 0)"
	fi
	Q=$((LOG_OFF + LOG_BLOCKS * 4096 / 2))
	dg_who "$DEV" --offset "$Q" --length "$PAGE"
	dg_assert_eq "log: the owner" '[{"type":"metadata","kind":"log"}]' \
		"$(dg_jq '[.owners[] | {type, kind}]')"
	dg_assert_eq "log: no users" 0 "$(dg_jq '.users | length')"
	if [[ "$KIND" == xfs-rmap ]]; then
		dg_assert_eq "log: owner range" "[$Q,$PAGE]" \
			"$(dg_jq '[.owners[0].offset, .owners[0].length]')"

		read -r INO_START _ < <(dg_fsmap_find "$MNT" "inodes" "$PAGE")
		[[ -n "${INO_START:-}" ]] || dg_fail "GETFSMAP shows no inode chunk"
		dg_who "$DEV" --offset "$INO_START" --length "$PAGE"
		dg_assert_eq "inode chunk: the owner" \
			"[{\"type\":\"metadata\",\"kind\":\"inodes\",\"offset\":$INO_START,\"length\":$PAGE}]" \
			"$(dg_jq '[.owners[] | {type, kind, offset, length}]')"
		dg_assert_eq "inode chunk: no users" 0 "$(dg_jq '.users | length')"
	fi
fi

# ------------------------------------------------------------------ #
# 4. Owner flags, where FIEMAP shows them: unwritten (preallocated) blocks,
#    and blocks shared by reflink (XFS with reflink=1)

PRE=$DIR/prealloc
xfs_io -f -c "falloc 0 $((4 * PAGE))" -c fsync "$PRE" || dg_fail "cannot fallocate $PRE"
read -r _ PRE_PHYS _ PRE_FLAGS < <(dg_extents "$PRE" | head -n 1)
if ((PRE_FLAGS & 0x800)); then
	dg_who "$DEV" --offset $((PRE_PHYS + PAGE)) --length "$PAGE"
	dg_assert_eq "preallocated block: the owner" \
		"[{\"inode\":$(dg_inode "$PRE"),\"file_offset\":$PAGE,\"unwritten\":true}]" \
		"$(dg_jq '[.owners[] | {inode, file_offset, unwritten: (.flags | index("unwritten") != null)}]')"
else
	dg_fail "FIEMAP does not show $PRE as unwritten (flags $PRE_FLAGS)"
fi

if [[ "$KIND" == xfs-rmap ]]; then
	C2=$DIR/C2
	cp --reflink=always "$C" "$C2" || dg_fail "cp --reflink=always $C $C2 failed"
	sync
	read -r _ C_PHYS _ C_FLAGS < <(dg_extents "$C" | head -n 1)
	((C_FLAGS & 0x2000)) || dg_fail "FIEMAP does not show $C as shared (flags $C_FLAGS)"
	dg_assert_eq "FIEMAP: C2 shares C's first block" "$C_PHYS" "$(dg_devoff "$C2" 0)"
	dg_who "$DEV" --offset "$C_PHYS" --length "$PAGE"
	dg_assert_eq "shared block: the owners" \
		"$(jq -nc --argjson c "${INODE[$C]}" --argjson c2 "$(dg_inode "$C2")" \
			--arg pc "$C" --arg pc2 "$C2" '[
			{inode: $c, path: $pc, file_offset: 0, shared: true},
			{inode: $c2, path: $pc2, file_offset: 0, shared: true}] | sort')" \
		"$(dg_jq '[.owners[] | {inode, path, file_offset,
			shared: (.flags | index("shared") != null)}] | sort')"
	dg_assert_eq "shared block: the users (P7 maps C, nobody C2)" "[$P7]" \
		"$(dg_jq '[.users[].pid] | unique')"
fi

# ------------------------------------------------------------------ #
# who changes nothing: the processes still run, the files are unchanged
for p in "$P1" "$P2" "$P3" "$P4" "$P5" "$P6" "$P7"; do
	[[ -d /proc/$p ]] || dg_fail "pid $p died during the test"
done
for f in "$A" "$B" "$C"; do
	dg_extents "$f" | awk -v f="$f" '{ print f, $1, $2, $3 }'
done | diff -u "$EXTENTS" - >&2 || dg_fail "the files' extents changed"
timeout 10 touch "$MNT/still-writable" || dg_fail "$MNT is not writable after who"
dg_ok "who changed nothing"

echo "1..$DG_NCHECK"
