#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# agree.sh KIND [SEED]: every reverse-map backend that applies to KIND
# (xfs-rmap, xfs-normap, ext4) names the same owners for the same random
# ranges, block by block, and agrees with FIEMAP on every file (the ground
# truth; XFS rmapbt is the other one where present).  The file set has small
# files, fragmented, sparse and (on XFS with rmapbt) reflinked files, xattr
# blocks, directories, and a file unlinked but still held open.
#
# Then a 1,000-range badblocks list is answered in one call and checked
# against the same ground truth, and a malformed list is refused by line
# number with nothing acted on.
#
# The ranges come from a seeded generator: a failure prints the seed, and
# DG_SEED=N reruns it exactly.

. "${TESTS_DIR:-$(dirname "$0")/..}/lib.sh"

kind=${1:?usage: agree.sh xfs-rmap|xfs-normap|xfs-odd|ext4 [SEED]}
seed=${2:-${DG_SEED:-$(( $(date +%s) % 32768 ))}}

dg_require_root
dg_require_cmd jq xfs_io setfattr
dg_tmpdir
dg_setup_fs "$kind"

case $kind in
xfs-rmap) backends="xfs-rmapbt xfs-bulkstat xfs-bulkstat:handle fiemap" ;;
xfs-normap | xfs-odd) backends="xfs-bulkstat xfs-bulkstat:handle fiemap" ;;
ext4) backends="ext4-libext2fs fiemap" ;;
esac
RANDOM=$seed
dg_log "seed $seed (rerun with DG_SEED=$seed)"
trap 'rc=$?; [ $rc -eq 0 ] || echo "# seed was $seed"; (exit $rc); dg_exit_trap' EXIT

# the filesystem's block size: owners are compared block by block
G=$(stat -f -c %S "$MNT")

# ---------------------------------------------------------------- files
for d in 0 1 2 3 4 5 6 7; do mkdir -p "$MNT/d$d"; done
for i in $(seq 0 119); do
	head -c $(((RANDOM % 12 + 1) * 4096 - RANDOM % 4000)) /dev/urandom \
		>"$MNT/d$((i % 8))/f$i"
done
dg_make_fragmented "$MNT/frag1" "$MNT/frag2" 12 2 3
xfs_io -f -c "pwrite -q 0 8k" -c "pwrite -q 1m 12k" -c "pwrite -q 3m 4k" \
	-c fsync "$MNT/sparse"
# 40 separate extents: more than an XFS inode holds, so its extent map is
# a B+tree in blocks of its own (ext4: an extent tree with index blocks)
cmds=()
for i in $(seq 0 39); do cmds+=(-c "pwrite -q $((i * 65536)) 4096"); done
xfs_io -f "${cmds[@]}" -c fsync "$MNT/btree"
if [[ $kind == xfs-rmap || $kind == xfs-odd ]]; then
	cp --reflink=always "$MNT/frag1" "$MNT/frag1.clone" ||
		dg_fail "reflink copy failed"
fi
# enough attributes to need blocks of their own, on files and a directory
for f in "$MNT/d0/f0" "$MNT/d1/f1" "$MNT/d2"; do
	for a in $(seq 1 15); do
		setfattr -n "user.a$a" -v "$(head -c 200 /dev/zero | tr '\0' x)" "$f"
	done
done
head -c 65536 /dev/urandom >"$MNT/gone"
sync
gone_pid=$(dg_start_mapper "hold:$MNT/gone" "unlink:$MNT/gone")
gone_fd=""
for fd in /proc/"$gone_pid"/fd/*; do
	[[ $(readlink "$fd") == "$MNT/gone (deleted)" ]] && gone_fd=$fd
done
[[ -n $gone_fd ]] || dg_fail "the helper does not hold $MNT/gone"

gone_ino=$(stat -L -c %i "$gone_fd")
sync
# XFS: push the log, so that the inodes on the device are current and the
# bulkstat backend reads them from there; then change two files, so that
# the device holds stale copies of them, which it must notice (it maps
# those through handles).  New extents, not yet in place on the device.
if [[ $kind == xfs-* ]]; then
	xfs_freeze -f "$MNT" && xfs_freeze -u "$MNT" || dg_fail "xfs_freeze $MNT failed"
	xfs_io -c "pwrite -q 1m 64k" -c fsync "$MNT/d3/f3"
	xfs_io -c "pwrite -q 2m 16k" -c fsync "$MNT/sparse"
fi

# XFS keeps speculative preallocation past EOF on files written by
# appends (frag1, frag2).  Every backend rightly names those blocks as the
# file's, but any later close of the file may trim them (seen in CI: the
# backends saw four post-EOF blocks that FIEMAP no longer had a moment
# later).  Trim them all now so the backends and FIEMAP see one layout.
if [[ $kind == xfs-* ]]; then
	xfs_spaceman -c "prealloc -s" "$MNT" ||
		dg_fail "xfs_spaceman prealloc -s $MNT failed"
fi

# ---------------------------------------------------------------- ranges
# Files are spread over the whole device (XFS puts directories in
# different allocation groups), so: random 4 KiB-aligned ranges anywhere,
# ranges near the start of random extents of random files, and ranges that
# surely hit, inside the fragmented file and inside the unlinked one.
size=$(blockdev --getsize64 "$DEV")
find "$MNT" -xdev -type f | while read -r f; do dg_extents "$f"; done |
	awk '{ print $2 }' >"$DG_TMP/starts"
mapfile -t starts <"$DG_TMP/starts"
rnd() { echo $(( (RANDOM * 32768 + RANDOM) % $1 )); }
# first, one that surely hits a file: a ground truth that skipped its
# first range (an awk counter left unset) went unseen for long, since a
# random first range rarely hits one
ranges=("$(dg_devoff "$MNT/frag1" 4096) 8192")
for _ in $(seq 1 20); do
	ranges+=("$(( $(rnd $((size / 4096 - 64))) * 4096 )) $(( (RANDOM % 16 + 1) * 4096 ))")
done
for _ in $(seq 1 40); do
	s0=${starts[$(rnd ${#starts[@]})]}
	off=$(( s0 / 4096 * 4096 + ($(rnd 9) - 4) * 4096 ))
	((off >= 0)) || off=0
	ranges+=("$off $(( (RANDOM % 8 + 1) * 4096 ))")
done
ranges+=("$(dg_devoff "$MNT/btree" $((33 * 65536))) 4096")
if [[ $kind == xfs-* ]]; then
	ranges+=("$(dg_devoff "$MNT/d3/f3" $((1024 * 1024 + 8192))) 4096")
	ranges+=("$(dg_devoff "$MNT/sparse" $((2048 * 1024))) 4096")
fi
if [[ $kind == xfs-rmap ]]; then
	# the B+tree blocks of the btree file's extent map, from the kernel's rmap
	bino=$(stat -c %i "$MNT/btree")
	while read -r off; do ranges+=("$off 4096"); done < <(
		"$DAXGUARD" who "$DEV" --offset 0 --length "$(blockdev --getsize64 "$DEV")" \
			--rmap xfs-rmapbt --no-users --no-paths -J |
			jq -r --argjson i "$bino" '.owners[] | select(.inode == $i
				and (.flags | index("extent_map"))) | .offset')
fi
gone_off=$(dg_devoff "$gone_fd" 8192)
ranges+=("$gone_off 4096")
printf '%s\n' "${ranges[@]}" >"$DG_TMP/ranges"

# The owners a run names, one line per filesystem block:
# "device-offset inode file-offset", with "attr" for xattr blocks and
# "map" for extent-map blocks in place of the file offset.
blocks()
{
	jq -r --argjson g "$G" '.owners[] | select(.type == "file") | . as $o
		| range(0; .length; $g) as $k
		| [($o.offset + $k), $o.inode,
		   (if ($o.flags | index("attr_fork")) then "attr"
		    elif ($o.flags | index("extent_map")) then "map"
		    else ($o.file_offset + $k) end)]
		| @tsv' | sort -u
}

# FIEMAP on every regular file (and the unlinked one), cut to the ranges.
ground_truth()
{
	local f ino

	{
		find "$MNT" -xdev -type f | while read -r f; do
			ino=$(stat -c %i "$f")
			dg_extents "$f" | sed "s/^/$ino /"
		done
		dg_extents "$gone_fd" | sed "s/^/$gone_ino /"
	} | tee "$DG_TMP/truth.ext" | awk -v rfile="$1" -v g="$G" '
		BEGIN { n = 0; while ((getline l < rfile) > 0) { split(l, r, " ");
			rs[n] = r[1]; re[n] = r[1] + r[2]; n++ } }
		{
			ino = $1; lo = $2; po = $3; len = $4
			for (i = 0; i < n; i++) {
				s = po > rs[i] ? po : rs[i]
				e = po + len < re[i] ? po + len : re[i]
				for (b = s; b < e; b += g)
					printf "%.0f\t%s\t%.0f\n", b, ino, lo + b - po
			}
		}' | sort -u
}

# Data blocks of regular files only: what FIEMAP can see.
data_only()
{
	awk -F'\t' -v dirs="$DG_TMP/dirinos" '
		BEGIN { while ((getline d < dirs) > 0) isdir[d] = 1 }
		$3 != "attr" && $3 != "map" && !($2 in isdir)'
}
find "$MNT" -xdev -type d -printf '%i\n' >"$DG_TMP/dirinos"

args=()
while read -r off len; do args+=(--offset "$off" --length "$len"); done <"$DG_TMP/ranges"

first=""
for b in $backends; do
	# "xfs-bulkstat:handle": the same backend, every inode mapped through
	# a handle rather than read from the device
	how=${b#*:}
	[[ $how == "$b" ]] && how=device
	DG_JSON=$(DAXGUARD_XFS_INODES=$how DAXGUARD_LOG=debug \
		"$DAXGUARD" who "$DEV" "${args[@]}" --rmap "${b%%:*}" --no-users -J \
		2>"$DG_TMP/log") || { cat "$DG_TMP/log" >&2; dg_fail "daxguard who --rmap $b failed"; }
	dg_assert_eq "$b: reported as the backend used" "${b%%:*}" \
		"$(jq -r '.filesystems[0].rmap' <<<"$DG_JSON")"
	if [[ $b == xfs-bulkstat ]]; then
		read -r parsed byh < <(sed -n 's/.* \([0-9]*\) inodes parsed from the device, \([0-9]*\) mapped by handle.*/\1 \2/p' "$DG_TMP/log")
		((${parsed:-0} > 100)) ||
			dg_fail "xfs-bulkstat read ${parsed:-no} inodes from the device (log: $(tail -3 "$DG_TMP/log"))"
		dg_ok "xfs-bulkstat: $parsed inodes read from the device, $byh through handles"
	fi
	if [[ $kind == xfs-rmap && $b != fiemap ]]; then
		# extent-map blocks: the rmapbt names them, so must the reader
		blocks <<<"$DG_JSON" | grep $'\tmap$' >"$DG_TMP/$b.map" || true
		if [[ $b == xfs-rmapbt ]]; then
			(($(wc -l <"$DG_TMP/$b.map") > 0)) ||
				dg_fail "no extent-map block of $MNT/btree in the ranges"
		elif [[ $b == xfs-bulkstat ]] && ! diff -u "$DG_TMP/xfs-rmapbt.map" "$DG_TMP/$b.map" >&2; then
			dg_fail "xfs-rmapbt and $b disagree on extent-map blocks"
		fi
	fi
	blocks <<<"$DG_JSON" | grep -v $'\tmap$' >"$DG_TMP/$b.blocks" || true
	n=$(wc -l <"$DG_TMP/$b.blocks")
	((n > 0)) || dg_fail "$b: no file owner in any range"
	unl=$(jq --argjson i "$gone_ino" '[.owners[] | select(.inode == $i and .unlinked)] | length' <<<"$DG_JSON")
	((unl > 0)) || dg_fail "$b: the unlinked-but-open file (inode $gone_ino) was not found"
	dg_ok "$b: $n owned blocks, the unlinked file among them"
	if [[ -z $first ]]; then
		first=$b
	elif ! diff -u "$DG_TMP/$first.blocks" "$DG_TMP/$b.blocks" >"$DG_TMP/diff"; then
		head -20 "$DG_TMP/diff" >&2
		dg_fail "$first and $b disagree"
	else
		dg_ok "$first and $b name the same owners, block by block"
	fi
done

# the files a difference is about, as FIEMAP and the kernel's rmap see
# them now
difference_files()
{
	local ino f

	for ino in $(grep '^[-+][0-9]' "$1" | cut -f2 | sort -u | head -3); do
		f=$(find "$MNT" -xdev -inum "$ino" | head -1)
		echo "# inode $ino: ${f:-?}"
		# what the ground truth was made of
		grep "^$ino " "$DG_TMP/truth.ext" | sed 's/^/#   truth: /'
		[[ -n $f ]] || continue
		xfs_io -r -c "fiemap -v" "$f" | sed 's/^/#   /'
		if [[ $kind == xfs-rmap ]]; then
			xfs_io -r -c "fsmap -d" "$MNT" | grep -w "inode $ino" | sed 's/^/#   fsmap /'
		fi
	done
}

ground_truth "$DG_TMP/ranges" >"$DG_TMP/truth"
data_only <"$DG_TMP/$first.blocks" >"$DG_TMP/data"
if ! diff -u "$DG_TMP/truth" "$DG_TMP/data" >"$DG_TMP/diff"; then
	head -40 "$DG_TMP/diff" >&2
	difference_files "$DG_TMP/diff" >&2
	dg_fail "file data owners differ from FIEMAP of every file"
fi
dg_ok "file data owners equal FIEMAP of every file ($(wc -l <"$DG_TMP/truth") blocks)"
grep -q $'\tattr$' "$DG_TMP/$first.blocks" && dg_ok "xattr blocks named" ||
	dg_log "no xattr block in the random ranges"

# ------------------------------------------------------- a badblocks list
# the unlinked file's blocks first, for the reason given for the ranges
echo "$((gone_off / 512)) 8" >"$DG_TMP/badblocks"
for i in $(seq 1 1000); do
	if ((i % 2)); then
		echo "$(rnd $((size / 512 - 64))) $(( RANDOM % 16 + 1 ))"
	else
		s0=${starts[$(rnd ${#starts[@]})]}
		echo "$(( s0 / 512 + $(rnd 64) )) $(( RANDOM % 16 + 1 ))"
	fi
done >>"$DG_TMP/badblocks"
DG_JSON=$("$DAXGUARD" who "$DEV" --badblocks "$DG_TMP/badblocks" --no-users -J) ||
	dg_fail "who --badblocks (1,001 ranges) failed"
# Sector-granular entries cover parts of blocks: compare the 4 KiB blocks
# each side covers, with their inode, and nothing else.
covered()
{
	awk '{ for (b = int($1 / 4096); b <= int(($1 + $2 - 1) / 4096); b++)
		print b, $3 }' | sort -u
}
awk '{ print $1 * 512, $2 * 512 }' "$DG_TMP/badblocks" >"$DG_TMP/bbranges"
find "$MNT" -xdev -type f | while read -r f; do
	ino=$(stat -c %i "$f")
	dg_extents "$f" | sed "s/^/$ino /"
done >"$DG_TMP/allext"
dg_extents "$gone_fd" | sed "s/^/$gone_ino /" >>"$DG_TMP/allext"
awk -v rfile="$DG_TMP/bbranges" '
	BEGIN { n = 0; while ((getline l < rfile) > 0) { split(l, r, " ");
		rs[n] = r[1]; re[n] = r[1] + r[2]; n++ } }
	{
		for (i = 0; i < n; i++) {
			s = $3 > rs[i] ? $3 : rs[i]
			e = $3 + $4 < re[i] ? $3 + $4 : re[i]
			if (s < e)
				printf "%.0f %.0f %s\n", s, e - s, $1
		}
	}' "$DG_TMP/allext" | covered >"$DG_TMP/bbtruth"
jq -r --slurpfile d <(jq -R . "$DG_TMP/dirinos") '.owners[]
	| select(.type == "file" and (.flags | index("attr_fork") | not)
		 and (.flags | index("extent_map") | not)
		 and ((.inode | tostring) as $i | $d | index($i) | not))
	| "\(.offset) \(.length) \(.inode)"' <<<"$DG_JSON" | covered >"$DG_TMP/bbdata"
if ! diff -u "$DG_TMP/bbtruth" "$DG_TMP/bbdata" >"$DG_TMP/diff"; then
	head -20 "$DG_TMP/diff" >&2
	dg_fail "badblocks batch differs from FIEMAP"
fi
dg_ok "1,001-range badblocks list answered in one call, equal to FIEMAP"

# ------------------------------------------- ext4: the scan stops early
# Once every block of the ranges has an owner, no later inode can own one
# (ext4 shares no data blocks): the scan ends there, like debugfs icheck.
if [[ $kind == ext4 ]]; then
	off=$(dg_devoff "$MNT/d0/f0" 0)
	ino=$(stat -c %i "$MNT/d0/f0")
	out=$(DAXGUARD_LOG=debug "$DAXGUARD" who "$DEV" --offset "$off" --length 4096 \
		--no-users -J 2>"$DG_TMP/log") || dg_fail "daxguard who failed"
	dg_assert_eq "a block of d0/f0 is owned by inode $ino" "$ino" \
		"$(jq -r '[.owners[] | select(.type == "file") | .inode] | unique | join(",")' <<<"$out")"
	grep -q "scan stopped" "$DG_TMP/log" ||
		dg_fail "the ext4 scan did not stop once the block had its owner"
	dg_ok "the ext4 scan stopped once the block had its owner"
fi

# ------------------------------------------------------- a malformed list
printf '%s\n' "8 8" "16 8" "sixteen 8" "32 8" >"$DG_TMP/bad"
mapper=$(dg_start_mapper "map:$MNT/frag1:0:8192:shared-ro")
set +e
out=$("$DAXGUARD" fail "$DEV" --badblocks "$DG_TMP/bad" --action kill 2>&1)
rc=$?
set -e
((rc != 0)) || dg_fail "a malformed badblocks list was accepted"
dg_assert_match "the bad line is named by number" "$DG_TMP/bad:3:" "$out"
kill -0 "$mapper" 2>/dev/null || dg_fail "a process was signalled despite the bad list"
dg_ok "nothing was acted on"
