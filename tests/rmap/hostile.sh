#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# hostile.sh [KIND...]: daxguard on filesystems whose metadata is hostile.
#
# Kinds (all four by default):
#   xfs-live   XFS without rmapbt, mounted; random bytes written to the
#              device into an inode core, an inode's forks, a bmbt block or
#              the AG metadata (headers, btree roots), half of the time with
#              the v5 CRC made right so that the parsers behind it run.  The
#              kernel keeps its cached copies: a device gone bad underneath.
#   ext4-live  the same for ext4: inodes, their extent headers (i_block),
#              extent tree blocks, the inode bitmap.
#   xfs-fuzz   unmounted: `xfs_db -x` fuzz/write (CRC recomputed, or not)
#              of inode, bmbt, AGF, AGI, AGFL and inode btree fields; then
#              mounted, so the kernel reads what was written.
#   ext4-fuzz  unmounted: debugfs set_inode_field with random values (mode,
#              flags, size, i_block: garbage extent headers...) and random
#              bytes in extent tree blocks; then mounted.
#
# One live round in 16 also drops the inode caches, so that the kernel
# reads the damaged copies as well (the filesystem is then mounted afresh).
#
# Each round then runs, as the build under test is (the sanitizer build in
# CI), `daxguard who` with the filesystem's own backend, and either `who
# --rmap fiemap` or `daxguard fail --action report` (every other round
# each), on ranges over what was damaged, the damaged file's blocks,
# random ranges and random extents, and checks:
#   - no crash, no sanitizer report, no run over 30 s;
#   - an error is allowed only as a clean "daxguard: ..." message;
#   - dg-rmapcheck: no file owner that the kernel's own map of that inode
#     (FIEMAP, or GETBMAPX for XFS directories) does not give at that
#     offset; nothing but free space where GETFSMAP says free, and no
#     free space where it says in use; an owner (possibly "unknown") for
#     every block of every range: never "nothing" for a block in use.
#     A damaged filesystem may change under the runs (the kernel frees
#     the blocks of an inode it finds corrupt once bulkstat evicts it):
#     a disagreement is asked again once, and fails only if it stays.
# Then the damage is undone (the bytes written back with the next round's
# damage, or the pristine image copied back).
#
# First, the damage the random rounds once found daxguard failing on is
# run again, as it was found (XFS_REGRESSIONS below): each must be
# answered and checked.
#
# Rounds per kind: 190, 190, 60, 60 in a sanitizer build (DG_SANITIZE): 500,
# about five minutes on two free CPUs; a quarter of that otherwise (the
# sanitizer pass is the one that finds crashes; the plain pass checks the
# same answers on fewer rounds).  DG_HOSTILE_ROUNDS=N sets each.  A round
# is one where daxguard ran: an image that does not mount does not count.
# Every round has its own seed, printed on failure: DG_HOSTILE_SEED=S
# DG_HOSTILE_ROUNDS=1 hostile.sh KIND reruns that round exactly (the same
# damage to the same file of the same file set).

. "${TESTS_DIR:-$(dirname "$0")/..}/lib.sh"

dg_require_root
dg_require_mapper
dg_require_cmd xfs_db xfs_spaceman debugfs setfattr timeout blockdev
for h in DG_CORRUPT DG_RMAPCHECK; do
	[[ -n "${!h:-}" && -x "${!h:-}" ]] || dg_fail "$h is not set to an executable (${!h:-unset})"
done
dg_tmpdir
cd "$DG_TMP" || dg_fail "cd $DG_TMP"

kinds=("$@")
((${#kinds[@]})) || kinds=(xfs-live ext4-live xfs-fuzz ext4-fuzz)
declare -A want=([xfs-live]=190 [ext4-live]=190 [xfs-fuzz]=60 [ext4-fuzz]=60)
sanitized=0
[[ ${DG_SANITIZE:-none} == none ]] || sanitized=1
base=${DG_HOSTILE_SEED:-$((($(date +%s) % 100000) * 1000))}
dg_log "seeds from $base (sanitizer build: $sanitized)"
declare -A ran=() refused=() unmountable=() remounts=() DIRTY=()
SETTLED=0
t_start=$SECONDS

# ------------------------------------------------------------------ #
# The filesystems, their files, and where their metadata is

# populate: the same file set every time (RANDOM=1): small and larger
# files, a fragmented pair, an extent map in blocks of its own, xattr
# blocks, a symlink with a block of its own
populate()
{
	local i d

	RANDOM=1
	for d in 0 1 2 3 4 5; do mkdir -p "$MNT/d$d"; done
	for i in $(seq 0 47); do
		head -c $(((RANDOM % 24 + 1) * 4096 - RANDOM % 3000)) /dev/urandom \
			>"$MNT/d$((i % 6))/f$i"
	done
	dg_make_fragmented "$MNT/frag1" "$MNT/frag2" 8 2 3 >/dev/null
	# 80 extents: a hole punched every other block, so that no
	# speculative preallocation can join them
	cmds=(-c "pwrite -q 0 640k" -c fsync)
	for i in $(seq 0 79); do cmds+=(-c "fpunch $((i * 8192 + 4096)) 4096"); done
	xfs_io -f "${cmds[@]}" -c fsync "$MNT/btree" || dg_fail "cannot write $MNT/btree"
	for f in "$MNT/d0/f0" "$MNT/d1"; do
		for i in $(seq 1 15); do
			setfattr -n "user.a$i" -v "$(head -c 200 /dev/zero | tr '\0' x)" "$f"
		done
	done
	ln -s "$(head -c 1000 /dev/zero | tr '\0' y)" "$MNT/longlink"
	sync
}

# targets KIND: what the rounds damage and query, in $DG_TMP/KIND.*
#   .files  "INO INODE-BYTE PATH" for every file and directory
#   .ext    "INO LOGICAL PHYSICAL LENGTH" (FIEMAP, before any damage)
#   .maps   "INO BYTE" extent-map blocks (bmbt; ext4 extent tree blocks)
#   .meta   "BYTE LENGTH CRC-AT" XFS AG headers and btree roots
targets()
{
	local k=$1 ino f line byte bs=$(stat -f -c %S "$MNT")

	find "$MNT" -xdev \( -type f -o -type d \) -printf '%i %p\n' | sort -n >"$DG_TMP/$k.list"
	if [[ $k == xfs ]]; then
		local c=()

		while read -r ino _; do c+=(-c "convert inode $ino byte"); done <"$DG_TMP/$k.list"
		xfs_db -r "${c[@]}" "$DEV" 2>/dev/null |
			while read -r line _; do echo $((line)); done >"$DG_TMP/$k.bytes"
	else
		awk '{ print "imap <" $1 ">" }' "$DG_TMP/$k.list" >"$DG_TMP/$k.cmds"
		debugfs -f "$DG_TMP/$k.cmds" "$DEV" 2>/dev/null |
			sed -n 's/.*located at block \([0-9]*\), offset \(0x[0-9a-f]*\).*/\1 \2/p' |
			while read -r blk off; do echo $((blk * bs + off)); done >"$DG_TMP/$k.bytes"
	fi
	paste -d' ' <(cut -d' ' -f1 "$DG_TMP/$k.list") "$DG_TMP/$k.bytes" \
		<(cut -d' ' -f2- "$DG_TMP/$k.list") >"$DG_TMP/$k.files"
	(($(wc -l <"$DG_TMP/$k.bytes") == $(wc -l <"$DG_TMP/$k.list"))) ||
		dg_fail "$k: inode locations: $(wc -l <"$DG_TMP/$k.bytes") of $(wc -l <"$DG_TMP/$k.list")"
	while read -r ino _ f; do
		[[ -f $f ]] && dg_extents "$f" | awk -v i="$ino" '{ print i, $1, $2, $3 }'
	done <"$DG_TMP/$k.files" >"$DG_TMP/$k.ext"
	: >"$DG_TMP/$k.maps"
	for f in "$MNT/btree" "$MNT/frag1"; do
		ino=$(dg_inode "$f")
		if [[ $k == xfs ]]; then
			for line in $(xfs_db -r -c "inode $ino" -c "p u3.bmbt.ptrs" "$DEV" 2>/dev/null |
				sed -n 's/^u3.bmbt.ptrs\[[0-9-]*\] = //p' | tr ' ' '\n' |
				sed 's/^[0-9]*://'); do
				read -r byte _ < <(xfs_db -r -c "convert fsblock $line byte" "$DEV")
				echo "$ino $((byte))"
			done
		else
			debugfs -R "ex <$ino>" "$DEV" 2>/dev/null |
				awk -v i="$ino" -v bs="$bs" '$1 == "0/" && $2 > 0 { print i, $8 * bs }'
		fi
	done >>"$DG_TMP/$k.maps"
	if [[ $k == xfs ]]; then
		local agb sect ag base p
		agb=$(($(dg_xfs_sb "$DEV" agblocks) * bs))
		sect=$(dg_xfs_sb "$DEV" sectsize)
		for ag in $(seq 0 $(($(dg_xfs_sb "$DEV" agcount) - 1))); do
			base=$((ag * agb))
			echo "$((base + sect)) $sect 216"
			echo "$((base + 2 * sect)) $sect 312"
			echo "$((base + 3 * sect)) $sect 32"
			for p in "agf $ag:bnoroot" "agf $ag:cntroot" "agi $ag:root" "agi $ag:free_root"; do
				echo "$((base + $(xfs_db -r -c "${p%%:*}" -c "p ${p#*:}" "$DEV" |
					awk '{ print $3 }') * bs)) $bs 52"
			done
		done >"$DG_TMP/$k.meta"
	else
		# the inode bitmap of group 0: which inodes the scan reads
		echo "$(($(dumpe2fs "$DEV" 2>/dev/null | sed -n 's/.*Inode bitmap at \([0-9]*\).*/\1/p' |
			head -1) * bs)) $bs 0" >"$DG_TMP/$k.meta"
	fi
	dg_log "$k: $(wc -l <"$DG_TMP/$k.files") inodes, $(wc -l <"$DG_TMP/$k.ext") extents," \
		"$(wc -l <"$DG_TMP/$k.maps") extent-map blocks, $(wc -l <"$DG_TMP/$k.meta") metadata blocks"
	[[ -s $DG_TMP/$k.maps ]] || dg_fail "$k: no extent-map block found"
}

# mkfs_kind xfs|ext4: the filesystem, populated, and its pristine image
declare -A FDEV FMNT FIMG
mkfs_kind()
{
	local k=$1

	case $k in
	xfs) dg_mkfs_loop xfs 320 -m rmapbt=0,reflink=0 ;;
	ext4) dg_mkfs_loop ext4 64 ;;
	esac
	mount -o remount,noatime "$MNT" || dg_fail "remount $MNT noatime"
	populate
	if [[ $k == xfs ]]; then
		xfs_spaceman -c "prealloc -s" "$MNT" >/dev/null 2>&1 || true
	fi
	sync
	umount "$MNT" || dg_fail "umount $MNT"
	cp --sparse=always "$IMG" "$DG_TMP/$k.pristine" || dg_fail "cp $IMG"
	FDEV[$k]=$DEV
	FMNT[$k]=$MNT
	FIMG[$k]=$IMG
	mount -o noatime "$DEV" "$MNT" || dg_fail "mount $DEV"
	targets "$k"
	load "$k"
}

# ------------------------------------------------------------------ #
# Processes that use the files, started where they can be

USERS=()

# start_user OPS...: a dg-mapper that may fail (a damaged file): no error
start_user()
{
	local ready i line pid

	ready=$(mktemp "$DG_TMP/ready.XXXXXX")
	rm -f "$ready"
	"$DG_MAPPER" -r "$ready" "$@" </dev/null >/dev/null 2>&1 &
	pid=$!
	# one that dies of a SIGBUS on a damaged file is no news to report
	disown "$pid"
	dg_register_pid "$pid"
	for ((i = 0; i < 300; i++)); do
		line=""
		[[ -f $ready ]] && { read -r line <"$ready"; } 2>/dev/null
		if [[ $line == ready ]]; then
			USERS+=("$pid")
			return 0
		fi
		dg_pid_alive "$pid" || break
		dg_sleep 0.01
	done
	dg_stop "$pid"
	return 0
}

# start_users KIND [few]: processes that map and hold files (few: one)
start_users()
{
	local k=$1 f

	if [[ -z ${2:-} ]]; then
		f=$(awk 'NR % 7 == 3 { print $3 }' "$DG_TMP/$k.files" | grep -v '/d[0-9]$' | head -3)
		for p in $f; do
			[[ -f $p ]] && start_user "map:$p:0:4096:shared-ro"
		done
	fi
	start_user "hold:$MNT/btree" "map:$MNT/frag1:0:8192:private-ro"
}

stop_users()
{
	local p

	for p in "${USERS[@]}"; do dg_stop "$p"; done
	USERS=()
}

# unmount: by the mount table (mountpoint(1) stats the directory, which
# fails on a filesystem that shut down, as if nothing were mounted)
unmount()
{
	[[ -n $(dg_mounts_below "$MNT") ]] || return 0
	umount "$MNT" 2>/dev/null || umount -l "$MNT" || dg_fail "cannot unmount $MNT"
	[[ -z $(dg_mounts_below "$MNT") ]] || dg_fail "$MNT is still mounted"
}

# remount KIND: the pristine image back, mounted, with its users
remount()
{
	local k=$1

	stop_users
	unmount
	# dirty pages of the device first, or they would land on the copy
	blockdev --flushbufs "$DEV" || true
	cp --sparse=always "$DG_TMP/$k.pristine" "$IMG" || dg_fail "cannot restore $IMG"
	: >"$DG_TMP/$k.undo"
	blockdev --flushbufs "$DEV" || true
	mount -o noatime "$DEV" "$MNT" || dg_fail "$k: the pristine image does not mount"
	start_users "$k"
}

# the filesystem still answers (not shut down by what it read); builtins
# only, as everything a round does often
healthy()
{
	local c

	[[ -d $MNT/d0 ]] && { read -r -N 1 c <"$MNT/d0/f0"; } 2>/dev/null
}

# ------------------------------------------------------------------ #
# Damage.  No forks where a round does it often: on the virtual machines
# this runs on, a fork costs milliseconds.

# rnd N: a random number below N, in R
rnd()
{
	R=$(((RANDOM * 32768 + RANDOM) % $1))
}

# hexbytes N: N random bytes, as hex, in H
hexbytes()
{
	local n=$1 h

	H=""
	while ((n-- > 0)); do
		printf -v h '%02x' $((RANDOM % 256))
		H+=$h
	done
}

# load KIND: the target lists into arrays (L_KIND_files, ...), and the
# extents of each inode, for pick and pick_ranges
declare -A EXTS SIZE
load()
{
	local k=$1 f ino lo po len

	for f in files ext maps meta; do mapfile -t "L_${k}_$f" <"$DG_TMP/$k.$f"; done
	while read -r ino lo po len; do
		EXTS[$k:$ino]+="$po $len "
	done <"$DG_TMP/$k.ext"
	SIZE[$k]=$(blockdev --getsize64 "$DEV")
}

# pick KIND LIST: a random line of the list, in P
pick()
{
	local -n a=L_$1_$2

	rnd ${#a[@]}
	P=${a[R]}
}

ISIZE=0
BSIZE=0
DAMAGED_INO=""
DAMAGED_AT=""
WHAT=""

# put OFFSET [crc:...]: write H at OFFSET (after undoing the last damage)
put()
{
	"$DG_CORRUPT" "$DEV" "$DG_TMP/$K.undo" put "$@" || dg_fail "dg-corrupt failed: $WHAT"
}

# damage_live: random bytes into an inode (its core, its forks or i_block,
# or all of it), an extent-map block, or metadata; on XFS half of the time
# with the CRC made right
damage_live()
{
	local ino byte start slen at off len crc=()

	pick "$K" files
	read -r ino byte _ <<<"$P"
	DAMAGED_INO=$ino
	DAMAGED_AT=$byte
	rnd 5
	case $R in
	0) # the core: XFS's 176 bytes; ext4's up to i_block
		[[ $K == xfs ]] && rnd 176 || rnd 40
		off=$R
		rnd 8
		len=$((R + 1))
		;;
	1) # the forks; ext4's i_block, the extent header first
		[[ $K == xfs ]] && rnd $((ISIZE - 180)) || rnd 60
		[[ $K == xfs ]] && off=$((176 + R)) || off=$((40 + R))
		rnd 16
		len=$((R + 1))
		;;
	2) # an extent-map block (bmbt; ext4 extent tree)
		pick "$K" maps
		read -r ino start <<<"$P"
		DAMAGED_INO=$ino
		DAMAGED_AT=$start
		rnd "$BSIZE"
		off=$R
		rnd 24
		len=$((R + 1))
		((off + len <= BSIZE)) || len=$((BSIZE - off))
		[[ $K == xfs ]] && ((RANDOM % 2)) && crc=("crc:$start:$BSIZE:64")
		WHAT="extent-map block of inode $ino at $start, bytes $off+$len"
		;;
	3) # AG headers and btree roots; ext4's inode bitmap
		pick "$K" meta
		read -r start slen at <<<"$P"
		DAMAGED_INO=""
		DAMAGED_AT=$start
		rnd "$slen"
		off=$R
		rnd 12
		len=$((R + 1))
		((off + len <= slen)) || len=$((slen - off))
		[[ $K == xfs ]] && ((RANDOM % 2)) && crc=("crc:$start:$slen:$at")
		WHAT="metadata at $start, bytes $off+$len"
		;;
	4) # the whole inode
		off=0
		len=$ISIZE
		;;
	esac
	if [[ -z $WHAT ]]; then
		((off + len <= ISIZE)) || len=$((ISIZE - off))
		[[ $K == xfs ]] && ((RANDOM % 2)) && crc=("crc:$byte:$ISIZE:100")
		WHAT="inode $ino bytes $off+$len"
	fi
	[[ ${#crc[@]} == 0 ]] || WHAT+=", CRC made right"
	hexbytes "$len"
	put $((DAMAGED_AT + off)) "$H" "${crc[@]}"
}

XFS_INODE_FIELDS=(core.mode core.format core.nlinkv2 core.size core.nblocks core.extsize
	core.nextents core.naextents core.forkoff core.aformat core.flags core.gen core.flags2
	u3.bmx[0].startoff u3.bmx[0].startblock u3.bmx[0].blockcount u3.bmx[0].extentflag
	u3.bmx[1].startblock u3.bmbt.level u3.bmbt.numrecs u3.bmbt.ptrs[1] a.bmx[0].startblock)
XFS_BMBT_FIELDS=(level numrecs leftsib rightsib recs[1].startoff recs[1].startblock
	recs[1].blockcount recs[2].startblock recs[3].blockcount owner)
XFS_AG_FIELDS=("agf:bnoroot" "agf:cntroot" "agf:bnolevel" "agf:cntlevel" "agf:flfirst"
	"agf:fllast" "agf:flcount" "agf:length" "agi:root" "agi:level" "agi:free_root"
	"agi:free_level" "agi:count" "agi:newino" "agfl:bno[1]" "agfl:bno[2]"
	"inobt:recs[1].startino" "inobt:recs[1].holemask" "inobt:recs[1].free" "inobt:numrecs"
	"inobt:level")
FUZZ_ACTIONS=(zeroes ones firstbit middlebit lastbit add sub)

# xfs_change FIELD: in C, "fuzz -d FIELD ACTION" or "write -d FIELD VALUE"
# (xfs_db's own "random" is not seeded by us); -c (the CRC left wrong) one
# time in four
xfs_change()
{
	local flag=-d

	((RANDOM % 4)) || flag=-c
	if ((RANDOM % 3)); then
		C="fuzz $flag $1 ${FUZZ_ACTIONS[RANDOM % ${#FUZZ_ACTIONS[@]}]}"
	else
		rnd 4294967296
		C="write $flag $1 $R"
	fi
}

damage_xfs_offline()
{
	local ino byte start ag f
	local -a c

	rnd 3
	case $R in
	0)
		pick xfs files
		read -r ino byte _ <<<"$P"
		xfs_change "${XFS_INODE_FIELDS[RANDOM % ${#XFS_INODE_FIELDS[@]}]}"
		c=(-c "inode $ino" -c "$C")
		DAMAGED_INO=$ino
		DAMAGED_AT=$byte
		;;
	1)
		pick xfs maps
		read -r ino start <<<"$P"
		xfs_change "${XFS_BMBT_FIELDS[RANDOM % ${#XFS_BMBT_FIELDS[@]}]}"
		c=(-c "daddr $((start / 512))" -c "type bmapbtd" -c "$C")
		DAMAGED_INO=$ino
		DAMAGED_AT=$start
		;;
	2)
		rnd 4
		ag=$R
		f=${XFS_AG_FIELDS[RANDOM % ${#XFS_AG_FIELDS[@]}]}
		case ${f%%:*} in
		inobt) c=(-c "agi $ag" -c "addr root") ;;
		*) c=(-c "${f%%:*} $ag") ;;
		esac
		xfs_change "${f#*:}"
		c+=(-c "$C")
		DAMAGED_INO=""
		DAMAGED_AT=$((ag * SIZE[xfs] / 4 / BSIZE * BSIZE))
		;;
	esac
	WHAT="xfs_db ${c[*]}"
	xfs_db -x "${c[@]}" "$DEV" >"$DG_TMP/xfs_db.log" 2>&1 || true
}

EXT4_FIELDS=(mode flags size links_count blocks generation file_acl
	block[0] block[0] block[1] block[1] block[2] block[3] block[4] block[5] block[6]
	block[7] block[9] block[11] block[IND])

# debugfs set_inode_field with a random value, a small one, or a plausible
# extent header word; or random bytes in an extent tree block
damage_ext4_offline()
{
	local ino byte start f v

	pick ext4 files
	read -r ino byte _ <<<"$P"
	DAMAGED_INO=$ino
	DAMAGED_AT=$byte
	rnd 3
	if ((R == 2)); then
		pick ext4 maps
		read -r ino start <<<"$P"
		DAMAGED_INO=$ino
		DAMAGED_AT=$start
		rnd 4000
		v=$R
		WHAT="extent tree block of inode $ino at $start: 16 random bytes at $v"
		hexbytes 16
		put $((start + v)) "$H"
		: >"$DG_TMP/ext4.undo" # the image is copied back anyway
		return
	fi
	f=${EXT4_FIELDS[RANDOM % ${#EXT4_FIELDS[@]}]}
	case $((RANDOM % 3)) in
	0) rnd 4294967296 ;;
	1) rnd 65536 ;;
	*)
		rnd 8
		R=$((0xf30a + (R << 16)))
		;;
	esac
	v=$R
	WHAT="debugfs sif <$ino> $f $v"
	debugfs -w -R "sif <$ino> $f $v" "$DEV" >"$DG_TMP/debugfs.log" 2>&1 || true
}

# ------------------------------------------------------------------ #
# Checks

# ranges: the damaged inode's blocks, the damaged place, random ranges,
# random extents; as --offset/--length arguments in RANGES
pick_ranges()
{
	local ino lo po len n=0

	RANGES=()
	if [[ -n $DAMAGED_INO ]]; then
		set -- ${EXTS[$K:$DAMAGED_INO]:-}
		while (($# >= 2 && n++ < 3)); do
			RANGES+=(--offset "$1" --length "$(($2 < 65536 ? $2 : 65536))")
			shift 2
		done
	fi
	RANGES+=(--offset "$((DAMAGED_AT / BSIZE * BSIZE))" --length "$BSIZE")
	for n in 1 2 3; do
		rnd $((SIZE[$K] / BSIZE - 16))
		po=$((R * BSIZE))
		rnd 8
		RANGES+=(--offset "$po" --length "$(((R + 1) * BSIZE))")
		pick "$K" ext
		read -r ino lo po len <<<"$P"
		RANGES+=(--offset "$po" --length "$BSIZE")
	done
}

# run NAME CMD...: a daxguard run, within 30 s, no crash, no sanitizer
# report; its JSON in $DG_TMP/NAME.json.  Returns 1 for a clean refusal.
run()
{
	local name=$1 rc=0

	shift
	timeout -k 5 30 "$@" >"$DG_TMP/$name.json" 2>"$DG_TMP/$name.err" </dev/null || rc=$?
	if ((rc == 124 || rc == 137)); then
		round_fail "$name: no answer within 30 s"
	fi
	if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error|UndefinedBehaviorSanitizer' \
		"$DG_TMP/$name.err"; then
		round_fail "$name: sanitizer report: $(grep -m3 -E 'Sanitizer|runtime error|#[0-9] ' "$DG_TMP/$name.err")"
	fi
	((rc < 128)) || round_fail "$name: killed by signal $((rc - 128))"
	if ((rc == 0)); then
		# (dg-rmapcheck parses it: jq would cost a tenth of a second)
		grep -q '"owners"' "$DG_TMP/$name.json" ||
			round_fail "$name: exit 0 and no answer"
		return 0
	fi
	# 3: an answer, which says it is incomplete (files it could not
	# open on a damaged filesystem): as good as 0 for the checks
	if ((rc == 3)); then
		grep -q '"owners"' "$DG_TMP/$name.json" ||
			round_fail "$name: exit 3 and no answer"
		grep -q '"incomplete": *true' "$DG_TMP/$name.json" ||
			round_fail "$name: exit 3, but the answer does not say it is incomplete"
		return 0
	fi
	grep -q '^daxguard: ' "$DG_TMP/$name.err" ||
		round_fail "$name: exit $rc without an error message"
	return 1
}

ROUND_SEED=""
ROUND_KIND=""
round_fail()
{
	echo "# round: kind $ROUND_KIND, seed $ROUND_SEED: $WHAT" >&2
	for f in "$DG_TMP"/*.err; do
		[[ -s $f ]] && sed "s|^|# ${f##*/}: |" "$f" | head -20 >&2
	done
	echo "# rerun: DG_HOSTILE_SEED=$ROUND_SEED DG_HOSTILE_ROUNDS=1 bash tests/rmap/hostile.sh $ROUND_KIND" >&2
	dg_fail "$ROUND_KIND round $ROUND_SEED: $*"
}

# runs: `who` with the filesystem's own backend every round; then `fail
# --action report` and `who --rmap fiemap` every other round each: a
# sanitizer build takes a good part of a second to start a process.  The
# answers that came are listed in JSONS.
runs()
{
	local own

	[[ $K == xfs ]] && own=xfs-bulkstat || own=ext4-libext2fs
	JSONS=()
	rm -f "$DG_TMP"/*.json "$DG_TMP"/*.err
	if run who "$DAXGUARD" who "$DEV" "${RANGES[@]}" --rmap "$own" -J; then
		JSONS+=("$DG_TMP/who.json")
	fi
	if ((ROUND_SEED % 2)) &&
		run fiemap "$DAXGUARD" who "$DEV" "${RANGES[@]}" --rmap fiemap --no-users -J; then
		JSONS+=("$DG_TMP/fiemap.json")
	fi
	if ! ((ROUND_SEED % 2)) &&
		run fail "$DAXGUARD" fail "$DEV" "${RANGES[@]}" --rmap "$own" --action report -J; then
		JSONS+=("$DG_TMP/fail.json")
	fi
}

# check: the runs and the kernel's answer.  0, or 1 when no run answered
# (each refused cleanly), or the kernel could not be asked (a freeze made
# a damaged filesystem shut down).
#
# A damaged filesystem may change under the runs: an inode the kernel
# finds corrupt is evicted after bulkstat reads it, and its blocks are
# freed then, say.  So a disagreement is asked again, once things settled:
# a wrong answer stays wrong, an answer overtaken by the kernel does not.
check()
{
	local out

	runs
	((${#JSONS[@]})) || return 1
	out=$("$DG_RMAPCHECK" "$MNT" "${JSONS[@]}" 2>&1) && return 0
	healthy || return 1
	dg_sleep 0.5
	runs
	((${#JSONS[@]})) || return 1
	out=$("$DG_RMAPCHECK" "$MNT" "${JSONS[@]}" 2>&1) && {
		SETTLED=$((SETTLED + 1))
		return 0
	}
	check_verdict "$out" || return 1
	return 0
}

# a disagreement fails the round, unless the kernel itself stopped
# answering (the filesystem shut down on what it read): then 1
check_verdict()
{
	healthy || return 1
	round_fail "an answer the kernel does not give:
$(head -20 <<<"$1")"
}

# ------------------------------------------------------------------ #
# The rounds

one_round()
{
	local kind=$1 k=${1%%-*}

	ROUND_KIND=$kind
	K=$k
	WHAT=""
	RANDOM=$ROUND_SEED
	DEV=${FDEV[$k]}
	MNT=${FMNT[$k]}
	IMG=${FIMG[$k]}
	BSIZE=$(stat -f -c %S "$MNT" 2>/dev/null || echo 4096)
	[[ $k == xfs ]] && ISIZE=512 || ISIZE=256
	case $kind in
	*-live)
		if ((${DIRTY[$k]:-0})); then
			remount "$k"
			DIRTY[$k]=0
		fi
		damage_live
		# one round in 16: the kernel forgets its inodes (those not in
		# use) and reads the damaged copies too.  drop_caches is global,
		# but costs other tests on the machine only a re-read; the
		# filesystem is mounted afresh after such a round
		if ((ROUND_SEED % 16 == 5)); then
			sync
			echo 2 >/proc/sys/vm/drop_caches
			WHAT+=", inode caches dropped"
			DIRTY[$k]=1
		fi
		;;
	*-fuzz)
		stop_users
		unmount
		# dirty pages of the device first, or they would land on the copy
		blockdev --flushbufs "$DEV" || true
		cp --sparse=always "$DG_TMP/$k.pristine" "$IMG" || dg_fail "cannot restore $IMG"
		: >"$DG_TMP/$k.undo"
		blockdev --flushbufs "$DEV" || true
		damage_${k}_offline
		if ! timeout 30 mount -o noatime "$DEV" "$MNT" 2>"$DG_TMP/mount.log"; then
			unmountable[$kind]=$((${unmountable[$kind]:-0} + 1))
			remount "$k"
			DIRTY[$k]=0
			return 0
		fi
		start_users "$k" few
		;;
	esac
	pick_ranges "$k"
	if check; then
		ran[$kind]=$((${ran[$kind]:-0} + 1))
	else
		refused[$kind]=$((${refused[$kind]:-0} + 1))
		dg_log "$kind $ROUND_SEED: $WHAT: refused: $(cat "$DG_TMP"/*.err 2>/dev/null |
			grep -m1 '^daxguard: ')"
	fi
	# undo: the bytes go back at the next round's damage (one process a
	# round), a fuzzed image is copied back when the next round needs it;
	# a filesystem that shut down on what it read is mounted again
	if [[ $kind == *-fuzz ]]; then
		DIRTY[$k]=1
	elif ((${DIRTY[$k]:-0})) || ! healthy; then
		healthy || remounts[$kind]=$((${remounts[$kind]:-0} + 1))
		DIRTY[$k]=0
		remount "$k"
	fi
}

# Damage that once made daxguard fail or answer wrong, found by the random
# rounds, kept as they were found ("FILE": the inode of d1/f1).  Each must
# mount, and be answered and checked, not refused.
XFS_REGRESSIONS=(
	# GETFSMAP failed (EUCLEAN): so did the whole query
	"agf 2|write -d bnoroot 859471578"
	# GETFSMAP failed: blocks no file owned were "nothing"
	"agf 3|fuzz -d bnoroot sub"
	# a damaged inode btree: the kernel refuses the file's handle, not
	# its path (dg-rmapcheck asks by path then)
	"agi 1|addr root|fuzz -c numrecs add"
)

# ext4, live: "OFFSET HEX" written into the first extent tree block of
# the file btree
EXT4_REGRESSIONS=(
	# eh_max 0xffff, the magic intact: libext2fs's checksum check read
	# the tail 786 KiB past the block (SEGV; seed 82330310, "bytes 4+13")
	"4 ffff"
)

regressions()
{
	local i cmd c ino p ag parts

	for p in "${L_xfs_files[@]}"; do
		[[ $p == *" $MNT/d1/f1" ]] && ino=${p%% *}
	done
	for i in "${!XFS_REGRESSIONS[@]}"; do
		# (its number is its seed: even ones run fail, odd ones fiemap)
		ROUND_KIND="xfs regression"
		ROUND_SEED=$i
		K=xfs
		RANDOM=$((i + 1))
		cmd=${XFS_REGRESSIONS[i]//FILE/$ino}
		WHAT="xfs_db -c ${cmd//|/ -c }"
		stop_users
		unmount
		blockdev --flushbufs "$DEV" || true
		cp --sparse=always "$DG_TMP/xfs.pristine" "$IMG" || dg_fail "cannot restore $IMG"
		: >"$DG_TMP/xfs.undo"
		blockdev --flushbufs "$DEV" || true
		c=()
		IFS='|' read -r -a parts <<<"$cmd"
		for p in "${parts[@]}"; do c+=(-c "$p"); done
		xfs_db -x "${c[@]}" "$DEV" >"$DG_TMP/xfs_db.log" 2>&1 || true
		mount -o noatime "$DEV" "$MNT" || round_fail "the damaged image does not mount"
		start_users xfs few
		DAMAGED_INO=""
		DAMAGED_AT=0
		if [[ $cmd == inode* ]]; then
			DAMAGED_INO=$ino
		else
			read -r _ ag _ <<<"${cmd%%|*}"
			DAMAGED_AT=$((ag * SIZE[xfs] / 4 / BSIZE * BSIZE))
		fi
		pick_ranges
		check || round_fail "not answered"
	done
	remount xfs
	dg_ok "xfs: ${#XFS_REGRESSIONS[@]} damages that once failed are answered and checked"

	K=ext4
	DEV=${FDEV[ext4]}
	MNT=${FMNT[ext4]}
	IMG=${FIMG[ext4]}
	BSIZE=$(stat -f -c %S "$MNT")
	for p in "${L_ext4_files[@]}"; do
		[[ $p == *" $MNT/btree" ]] && ino=${p%% *}
	done
	for p in "${L_ext4_maps[@]}"; do
		[[ $p == "$ino "* ]] && DAMAGED_AT=${p#* } && break
	done
	for i in "${!EXT4_REGRESSIONS[@]}"; do
		ROUND_KIND="ext4 regression"
		ROUND_SEED=$i
		RANDOM=$((i + 1))
		read -r p H <<<"${EXT4_REGRESSIONS[i]}"
		WHAT="extent tree block of inode $ino at $DAMAGED_AT: $H at $p"
		DAMAGED_INO=$ino
		put $((DAMAGED_AT + p)) "$H"
		pick_ranges
		check || round_fail "not answered"
	done
	"$DG_CORRUPT" "$DEV" "$DG_TMP/ext4.undo" restore || dg_fail "cannot undo the damage"
	dg_ok "ext4: ${#EXT4_REGRESSIONS[@]} damages that once failed are answered and checked"
}

mkfs_kind xfs
MNT=${FMNT[xfs]}
DEV=${FDEV[xfs]}
start_users xfs
mkfs_kind ext4
start_users ext4
: >"$DG_TMP/xfs.undo"
: >"$DG_TMP/ext4.undo"

if [[ -z ${DG_HOSTILE_SEED:-} ]]; then
	K=xfs
	DEV=${FDEV[xfs]}
	MNT=${FMNT[xfs]}
	IMG=${FIMG[xfs]}
	BSIZE=$(stat -f -c %S "$MNT")
	ISIZE=512
	regressions
fi

n=0
for kind in "${kinds[@]}"; do
	[[ -n ${want[$kind]:-} ]] || dg_fail "unknown kind $kind (xfs-live ext4-live xfs-fuzz ext4-fuzz)"
	rounds=${DG_HOSTILE_ROUNDS:-$((sanitized ? want[$kind] : want[$kind] / 4))}
	t0=$SECONDS
	# rounds where daxguard ran; one whose image did not mount is not one
	for ((r = 0; r < 2 * rounds && ${ran[$kind]:-0} + ${refused[$kind]:-0} < rounds; r++)); do
		ROUND_SEED=$((base + n))
		n=$((n + 1))
		one_round "$kind"
	done
	# the last damage of a live kind
	"$DG_CORRUPT" "${FDEV[${kind%%-*}]}" "$DG_TMP/${kind%%-*}.undo" restore ||
		dg_fail "cannot undo the damage"
	dg_ok "$kind: $((${ran[$kind]:-0} + ${refused[$kind]:-0})) rounds in $((SECONDS - t0)) s:" \
		"${ran[$kind]:-0} answered and checked, ${refused[$kind]:-0} refused cleanly;" \
		"${unmountable[$kind]:-0} images did not mount, ${remounts[$kind]:-0} times" \
		"the filesystem shut down"
done
total=0
checked=0
for kind in "${kinds[@]}"; do
	total=$((total + ${ran[$kind]:-0} + ${refused[$kind]:-0}))
	checked=$((checked + ${ran[$kind]:-0}))
done
dg_log "$total rounds ($n seeds), $checked answered and checked ($SETTLED after the filesystem" \
	"changed under the first answer), in $((SECONDS - t_start)) s"
((checked > total / 2)) || dg_fail "only $checked of $total rounds were answered: the damage is too much"
stop_users
dg_done
