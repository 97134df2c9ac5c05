#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench/rmap.sh: how fast `daxguard who` finds the files that own device
# blocks on filesystems without a reverse map, side by side in one run with
# what people use today.
#
# Setup (all of it in a mktemp -d directory under /var/tmp, removed on exit):
#   two sparse images (4 GiB, or about 20 KiB a file for more than 200,000
#   files), ext4 and XFS with rmapbt=0, each on a loop device, mounted,
#   each with the same 200,000 files (dg-mkfiles, same
#   seed);  on each, dg-fiemapwalk --pick chooses 1,003 4 KiB blocks owned
#   by files (so every answer is known and non-trivial).  Sorted by owner
#   inode, the ones at the 10th, 50th and 90th percentile are the single
#   ranges; the other 1,000 are the batch ("SECTOR 8" lines, a badblocks
#   list).  debugfs icheck stops once it has found every block's owner, so
#   its time for one block grows with the owner's inode number; daxguard
#   scans every inode whatever the block.  The median one is the target's
#   single range; the 10th and 90th percentile show the spread (ext4 only).
#
# Measured, warm, interleaved round by round (after warm-up rounds):
#   ext4  daxguard who DEV --offset X --length 4096 --no-users   (ext4-libext2fs)
#         debugfs -R 'icheck BLOCK' DEV
#         daxguard who DEV --badblocks FILE --no-users
#         debugfs -R 'icheck B1 ... B1000' DEV
#   XFS   daxguard who DEV --offset X --length 4096 --no-users   (xfs-bulkstat)
#         daxguard who DEV --badblocks FILE --no-users
#         dg-fiemapwalk: the classic FIEMAP walk (openat + FIEMAP per file)
#         daxguard ... --rmap fiemap: daxguard's own generic FIEMAP walk
#   (and, for information, daxguard with --no-paths too)
# then the ratios against the targets:
#   ext4, one range:    debugfs / daxguard >= 1    (no slower)
#   ext4, 1,000 ranges: debugfs / daxguard >= 4
#   XFS, one and 1,000: FIEMAP walk / daxguard >= 3
#   peak memory (maximum RSS) of daxguard for 1,000 ranges: under 64 MiB
#
# Every answer is checked once before timing against the blocks' known
# owners: daxguard's, debugfs's and both FIEMAP walks'.
#
# Usage: bench/rmap.sh [--files N] [--ranges N] [--runs N] [--warmup N] ...
# See --help, and doc/benchmarks.md.

set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/lib.sh
. "$ROOT/bench/lib.sh"
DG_FIEMAPWALK=${DG_FIEMAPWALK:-$BUILD/bench/dg-fiemapwalk}

files=200000
nranges=1000
runs=5
warmup=1
seed=1
image_size=
strict=false
hold=false
only=

prog=rmap.sh

usage()
{
	cat <<EOF
Usage: $0 [options]

Benchmark 'daxguard who' on ext4 and on XFS without rmapbt, for one 4 KiB
range and for a batch of ranges, against debugfs icheck and the FIEMAP walk.
Needs root; setting up takes one to two minutes at the default scale, about
three at --files 1000000 (then about 15 GiB of /var/tmp per filesystem).

Options:
  --files N       files on each test filesystem (default $files)
  --ranges N      ranges in the batch (default $nranges)
  --runs N        measured rounds (default $runs)
  --warmup N      warm-up rounds, not counted (default $warmup)
  --seed N        seed of the file set and of the chosen blocks (default $seed)
  --only FS       ext4 or xfs: set up and measure one filesystem only
  --image-size S  size of each sparse image, as truncate -s takes it
                  (default: 4G, or 20 KiB a file rounded up to GiB when
                  that is more: 20G for 1,000,000 files)
  --strict        exit 1 when a target is missed, not only on a wrong answer
  --hold          after measuring, keep the setup until Ctrl-C or SIGTERM
                  (to profile)
  -h, --help      show this help

Environment:
  BUILD           meson build directory (default: <repo>/build)
  DAXGUARD        daxguard binary (default: \$BUILD/daxguard/daxguard)
  DG_MKFILES      file set generator (default: \$BUILD/bench/dg-mkfiles)
  DG_FIEMAPWALK   the FIEMAP walk (default: \$BUILD/bench/dg-fiemapwalk)

A quick smoke run: $0 --files 2000 --ranges 50 --runs 2 --warmup 1
At scale (issue 14): $0 --files 1000000   (image size and ext4 inode count
                    follow the file count; about 8 minutes in all)
EOF
}

# shellcheck disable=SC2317  # called through parse_options
set_image_size()
{
	[[ $2 =~ ^[0-9]+[KMGT]?$ ]] || die "--image-size: '$2' is not a size like 20G"
	image_size=$2
}

# shellcheck disable=SC2317  # called through parse_options
set_only()
{
	[[ $2 == ext4 || $2 == xfs ]] || die "--only: '$2' is not ext4 or xfs"
	only=$2
}

number_options=([--files]=files [--ranges]=nranges [--runs]=runs [--warmup]=warmup
	[--seed]=seed)
value_options=([--only]=set_only [--image-size]=set_image_size)
flag_options=([--strict]=strict=true [--hold]=hold=true)
parse_options "$@"
((files >= 20)) || die "--files $files: need at least 20 files"
((nranges >= 1)) || die "--ranges must be at least 1"
((runs >= 1)) || die "--runs must be at least 1"

# dg-mkfiles' default mix averages about 14.3 KiB a file (one in 100 of
# 1 MiB, ten of 16 MiB); 20 KiB leaves room for metadata and the journal
if [[ -z $image_size ]]; then
	image_size=$(((files * 20 + (1 << 20) - 1) >> 20))
	((image_size >= 4)) || image_size=4
	image_size=${image_size}G
fi
image_bytes=$(numfmt --from=iec "$image_size")

(($(id -u) == 0)) || die "needs root (loop devices, mounts, reading block devices)"

fss=(ext4 xfs)
[[ -n $only ]] && fss=("$only")

# ------------------------------------------------------------------------
# Tools

need_tool mkfs.xfs xfsprogs
need_tool mkfs.ext4 e2fsprogs
need_tool debugfs e2fsprogs
need_tool losetup mount
need_tool mountpoint util-linux
need_tool fsfreeze util-linux
need_tool jq jq
[[ -x /usr/bin/time ]] || need_tool /usr/bin/time time

[[ -x $DG_MKFILES && -x $DG_FIEMAPWALK ]] ||
	die "$DG_MKFILES or $DG_FIEMAPWALK is missing: build first (meson setup build && ninja -C build), or set BUILD"
[[ -x $DAXGUARD ]] || die "$DAXGUARD is missing: build it, or set DAXGUARD"

# ------------------------------------------------------------------------
# Setup and cleanup.  Everything lives under $work; nothing else is touched.

work=
bg_pid=
declare -A loop mnt img

# shellcheck disable=SC2317  # called through the EXIT trap
cleanup()
{
	local fs

	stop_child "$bg_pid"
	for fs in "${!mnt[@]}"; do
		umount_retry "${mnt[$fs]}" || echo "$prog: cannot unmount ${mnt[$fs]}" >&2
	done
	for fs in "${!loop[@]}"; do
		detach_ours "${loop[$fs]}" "${img[$fs]}"
	done
	remove_work ||
		echo "$prog: something is still mounted under $work: left it in place" >&2
}
bench_traps

# the file set writes about 15 KiB a file into each sparse image: say so
# now rather than fail on a full disk minutes later
need_kib=$((files * 15 * ${#fss[@]} + (1 << 20)))
avail_kib=$(df -k --output=avail /var/tmp | tail -1 | tr -d ' ')
((avail_kib >= need_kib)) ||
	die "/var/tmp has $((avail_kib >> 20)) GiB free; $files files on ${#fss[@]} filesystem(s) need about $((need_kib >> 20)) GiB"

work=$(mktemp -d /var/tmp/dg-bench-rmap.XXXXXX)

echo "daxguard rmap benchmark: $files files on each of ${fss[*]}, 1 and $nranges ranges," \
	"$runs runs after $warmup warm-up run(s)"
echo "machine: $(machine);" \
	"$(debugfs -V 2>&1 | head -1); $(mkfs.xfs -V)"
print_daxguard
echo "setting up in $work (one to two minutes for 200,000 files, three for 1,000,000) ..."
t_setup=$(now_us)

for fs in "${fss[@]}"; do
	img[$fs]=$work/$fs.img
	mnt[$fs]=$work/$fs
	mkdir "${mnt[$fs]}"
	t=$(now_us)
	truncate -s "$image_size" "${img[$fs]}"
	if [[ $fs == ext4 ]]; then
		# mkfs.ext4 gives one inode per 16 KiB; ask for more when that
		# is short of the files, their directories and a margin
		inodes=()
		if ((image_bytes / 16384 < files + files / 10 + 1000)); then
			inodes=(-N $((files + files / 10 + 1000)))
		fi
		# inode tables written now, not by ext4lazyinit while we measure
		mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "${inodes[@]}" "${img[$fs]}"
		how="mkfs.ext4${inodes[*]:+ ${inodes[*]}}"
	else
		mkfs.xfs -q -f -m rmapbt=0 "${img[$fs]}"
		how="mkfs.xfs -m rmapbt=0"
	fi
	how="$image_size image, $how"
	loop[$fs]=$(losetup --find --show "${img[$fs]}")
	mount -t "$fs" "${loop[$fs]}" "${mnt[$fs]}"
	echo "  $fs: $how, mount on ${loop[$fs]}: $(seconds_since "$t") s"
	t=$(now_us)
	run_bg "$DG_MKFILES" --quiet --files "$files" --seed "$seed" "${mnt[$fs]}/files"
	run_bg sync -f "${mnt[$fs]}"
	# a freeze checkpoints the journal: debugfs reads the inode tables
	# from the device and must find every new inode in place
	fsfreeze -f "${mnt[$fs]}"
	fsfreeze -u "${mnt[$fs]}"
	echo "  $fs: $files files (dg-mkfiles), sync, freeze and thaw: $(seconds_since "$t") s;" \
		"$(df -h --output=used "${mnt[$fs]}" | tail -1 | tr -d ' ') used"
	t=$(now_us)
	"$DG_FIEMAPWALK" --pick $((nranges + 3)) --seed "$seed" "${mnt[$fs]}" \
		>"$work/picks.$fs" 2>"$work/picks.$fs.log"
	# by owner inode: the 10th, 50th and 90th percentile are the singles
	sort -n -k3,3 "$work/picks.$fs" >"$work/sorted.$fs"
	n=$((nranges + 3))
	lo=$((1 + (n - 1) / 10)) mid=$((1 + (n - 1) / 2)) hi=$((1 + (n - 1) * 9 / 10))
	sed -n "${lo}p" "$work/sorted.$fs" >"$work/early.$fs"
	sed -n "${mid}p" "$work/sorted.$fs" >"$work/single.$fs"
	sed -n "${hi}p" "$work/sorted.$fs" >"$work/late.$fs"
	sed "${lo}d;${mid}d;${hi}d" "$work/sorted.$fs" >"$work/batch.$fs"
	awk '{ print $1, $2 }' "$work/batch.$fs" >"$work/badblocks.$fs"
	echo "  $fs: $n blocks owned by files chosen: $(seconds_since "$t") s" \
		"($(sed 's/^dg-fiemapwalk: //' "$work/picks.$fs.log"))"
done
echo "setup: $(seconds_since "$t_setup") s"

# ------------------------------------------------------------------------
# Correctness, once: every tool must name the known owner of every block.

wrong=false

loud()
{
	shout "$@"
	wrong=true
}

# "SECTOR INODE FILE_OFFSET" per 4 KiB block that daxguard's JSON names a
# file owner of
dg_blocks()
{
	jq -r '.owners[] | select(.type == "file" and .file_offset != null) | . as $o |
		range(0; $o.length; 4096) as $d |
		"\(($o.offset + $d) / 512 | floor) \($o.inode) \($o.file_offset + $d)"' "$1"
}

# compare FILE ("SECTOR INODE FILE_OFFSET", file offset "-" if unknown)
# with the picks PICKS; prints "matched/expected extra"
compare()
{
	awk 'NR == FNR { want[$1] = $3 " " $4; n++; next }
		{
			if (!($1 in want)) { extra++; next }
			split(want[$1], w, " ")
			if ($2 == w[1] && ($3 == "-" || $3 == w[2]) && !($1 in ok)) {
				ok[$1] = 1
				good++
			}
		}
		END { printf "%d/%d %d\n", good, n, extra }' "$1" "$2"
}

# check NAME PICKS FILE: all found, nothing else
check()
{
	local name=$1 picks=$2 got=$3 res matched expected extra

	res=$(compare "$picks" "$got")
	matched=${res%%/*}
	res=${res#*/}
	expected=${res%% *}
	extra=${res#* }
	if ((matched != expected || extra != 0)); then
		loud "$name: $matched of $expected blocks with the right owner, $extra other blocks named" \
			"first lines of the answer:" "$(head -5 "$got")"
	else
		printf '  %-58s %s\n' "$name:" "OK ($matched/$expected blocks)"
	fi
}

# dg_run NAME ARGS...: daxguard who $dev ARGS --no-users -J once, its
# answer in $work/NAME.$fs.json; fails, loudly, when daxguard does
dg_run()
{
	local name=$1
	shift

	if ! "$DAXGUARD" who "$dev" "$@" --no-users -J >"$work/$name.$fs.json" \
		2>"$work/$name.$fs.err"; then
		loud "$fs: daxguard who $1 failed:" "$(head -5 "$work/$name.$fs.err")"
		return 1
	fi
}

# dg_check NAME PICKS LABEL: that answer must come from the reverse map
# $want_rmap and name the owner of every block in PICKS, and nothing else
dg_check()
{
	local name=$1 picks=$2 label=$3 rmap note=

	if [[ $name == batch ]]; then
		note=" for the batch"
	fi
	rmap=$(jq -r '.filesystems[0].rmap' "$work/$name.$fs.json")
	[[ $rmap == "$want_rmap" ]] ||
		loud "$fs: daxguard used the reverse map '$rmap'$note, expected $want_rmap"
	dg_blocks "$work/$name.$fs.json" >"$work/$name.$fs.got"
	check "$fs, $label: daxguard ($rmap)" "$picks" "$work/$name.$fs.got"
}

declare -A single_off single_blk single_ino blocks_arg

icheck_blocks()
{
	# debugfs prints "BLOCK<TAB>INODE" after a header; "<block not found>"
	# for a block nobody owns
	awk -F'\t' 'NR > 1 && $2 ~ /^[0-9]+$/ { print $1 * 8, $2, "-" }'
}

echo
echo "correctness:"
for fs in "${fss[@]}"; do
	for which in early single late; do
		read -r sect _ ino _ <"$work/$which.$fs"
		single_off[$fs.$which]=$((sect * 512))
		single_blk[$fs.$which]=$((sect / 8))
		single_ino[$fs.$which]=$ino
	done
	single_off[$fs]=${single_off[$fs.single]}
	single_blk[$fs]=${single_blk[$fs.single]}
	blocks_arg[$fs]=$(awk '{ printf "%s%d", (NR > 1 ? " " : ""), $1 / 8 }' "$work/batch.$fs")
	dev=${loop[$fs]}
	want_rmap=ext4-libext2fs
	[[ $fs == xfs ]] && want_rmap=xfs-bulkstat

	dg_run one --offset "${single_off[$fs]}" --length 4096 || continue
	dg_check one "$work/single.$fs" "one range"

	dg_run batch --badblocks "$work/badblocks.$fs" || continue
	dg_check batch "$work/batch.$fs" "$nranges ranges"

	if [[ $fs == ext4 ]]; then
		# the issue's check: daxguard's owner is icheck's inode, for each
		# of the single ranges
		for which in early single late; do
			"$DAXGUARD" who "$dev" --offset "${single_off[$fs.$which]}" --length 4096 \
				--no-users -J 2>/dev/null | dg_blocks /dev/stdin >"$work/$which.$fs.got"
			debugfs -R "icheck ${single_blk[$fs.$which]}" "$dev" 2>/dev/null |
				icheck_blocks >"$work/$which.$fs.icheck"
			check "ext4, one range ($which): debugfs icheck" "$work/$which.$fs" \
				"$work/$which.$fs.icheck"
			dg_ino=$(awk '{ print $2; exit }' "$work/$which.$fs.got")
			ic_ino=$(awk '{ print $2; exit }' "$work/$which.$fs.icheck")
			if [[ -n $dg_ino && $dg_ino == "$ic_ino" ]]; then
				echo "  ext4, block ${single_blk[$fs.$which]} ($which): daxguard and" \
					"debugfs icheck both name inode $dg_ino"
			else
				loud "ext4, block ${single_blk[$fs.$which]}: daxguard names inode '$dg_ino'," \
					"debugfs icheck '$ic_ino'"
			fi
		done
		debugfs -R "icheck ${blocks_arg[$fs]}" "$dev" 2>/dev/null | icheck_blocks \
			>"$work/batch.$fs.icheck"
		check "ext4, $nranges ranges: debugfs icheck" "$work/batch.$fs" "$work/batch.$fs.icheck"
	else
		"$DAXGUARD" who "$dev" --badblocks "$work/badblocks.$fs" --no-users --rmap fiemap -J \
			>"$work/fiemap.$fs.json" 2>/dev/null || loud "xfs: daxguard --rmap fiemap failed"
		dg_blocks "$work/fiemap.$fs.json" >"$work/fiemap.$fs.got"
		check "xfs, $nranges ranges: daxguard --rmap fiemap" "$work/batch.$fs" "$work/fiemap.$fs.got"
		for what in single batch; do
			awk '{ print $1, $2 }' "$work/$what.$fs" >"$work/walk.$what.ranges"
			"$DG_FIEMAPWALK" --quiet --ranges "$work/walk.$what.ranges" "${mnt[$fs]}" |
				awk '{ for (d = 0; d < $2; d += 8) print $1 + d, $3, $4 + d * 512 }' \
					>"$work/walk.$what.got"
			check "xfs, $( [[ $what == single ]] && echo one range || echo "$nranges ranges"): dg-fiemapwalk" \
				"$work/$what.$fs" "$work/walk.$what.got"
		done
	fi
done

# ------------------------------------------------------------------------
# Timing

declare -A samples

# time_one NAME CMD...: time_cmd; a failed run, timed or not, is an error
time_one()
{
	time_cmd "$@"
	if ((time_rc != 0)); then
		loud "$1: '${*:2}' exited with status $time_rc"
	fi
}

round()
{
	local fs dev

	for fs in "${fss[@]}"; do
		dev=${loop[$fs]}
		if [[ $fs == ext4 ]]; then
			time_one e_dg1 "$DAXGUARD" who "$dev" --offset "${single_off[$fs]}" --length 4096 --no-users
			time_one e_dbg1 debugfs -R "icheck ${single_blk[$fs]}" "$dev"
			time_one e_dgN "$DAXGUARD" who "$dev" --badblocks "$work/badblocks.$fs" --no-users
			time_one e_dbgN debugfs -R "icheck ${blocks_arg[$fs]}" "$dev"
			time_one e_dg1np "$DAXGUARD" who "$dev" --offset "${single_off[$fs]}" --length 4096 --no-users --no-paths
			time_one e_dg1e "$DAXGUARD" who "$dev" --offset "${single_off[$fs.early]}" --length 4096 --no-users
			time_one e_dbg1e debugfs -R "icheck ${single_blk[$fs.early]}" "$dev"
			time_one e_dg1l "$DAXGUARD" who "$dev" --offset "${single_off[$fs.late]}" --length 4096 --no-users
			time_one e_dbg1l debugfs -R "icheck ${single_blk[$fs.late]}" "$dev"
			time_one e_dgNnp "$DAXGUARD" who "$dev" --badblocks "$work/badblocks.$fs" --no-users --no-paths
		else
			time_one x_dg1 "$DAXGUARD" who "$dev" --offset "${single_off[$fs]}" --length 4096 --no-users
			time_one x_walk1 "$DG_FIEMAPWALK" --quiet --ranges "$work/walk.single.ranges" "${mnt[$fs]}"
			time_one x_dgN "$DAXGUARD" who "$dev" --badblocks "$work/badblocks.$fs" --no-users
			time_one x_walkN "$DG_FIEMAPWALK" --quiet --ranges "$work/walk.batch.ranges" "${mnt[$fs]}"
			time_one x_fm1 "$DAXGUARD" who "$dev" --offset "${single_off[$fs]}" --length 4096 --no-users --rmap fiemap
			time_one x_fmN "$DAXGUARD" who "$dev" --badblocks "$work/badblocks.$fs" --no-users --rmap fiemap
			time_one x_dg1np "$DAXGUARD" who "$dev" --offset "${single_off[$fs]}" --length 4096 --no-users --no-paths
			time_one x_dgNnp "$DAXGUARD" who "$dev" --badblocks "$work/badblocks.$fs" --no-users --no-paths
		fi
	done
}

echo
note_load
t=$(now_us)
run_rounds
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "timing: $(seconds_since "$t") s"

# peak memory, in KiB, of one run of CMD
peak_kib()
{
	/usr/bin/time -f '%M' -o "$work/time.out" "$@" >/dev/null 2>&1 || true
	tail -1 "$work/time.out"
}

declare -A peak
for fs in "${fss[@]}"; do
	dev=${loop[$fs]}
	peak[${fs}_dg1]=$(peak_kib "$DAXGUARD" who "$dev" --offset "${single_off[$fs]}" --length 4096 --no-users)
	peak[${fs}_dgN]=$(peak_kib "$DAXGUARD" who "$dev" --badblocks "$work/badblocks.$fs" --no-users)
	if [[ $fs == ext4 ]]; then
		peak[${fs}_baseN]=$(peak_kib debugfs -R "icheck ${blocks_arg[$fs]}" "$dev")
	else
		peak[${fs}_baseN]=$(peak_kib "$DG_FIEMAPWALK" --quiet --ranges "$work/walk.batch.ranges" "${mnt[$fs]}")
		peak[${fs}_fmN]=$(peak_kib "$DAXGUARD" who "$dev" --badblocks "$work/badblocks.$fs" --no-users --rmap fiemap)
	fi
done

# ------------------------------------------------------------------------
# Results

declare -A median
row_width=62
ratio_width=44

missed=false
verdict()
{
	if awk -v r="$1" -v g="$2" 'BEGIN { exit !(r >= g) }'; then
		echo PASS
	else
		echo MISS
	fi
}

ratio()
{
	local label=$1 num=$2 den=$3 goal=$4 r v

	r=$(median_ratio "$num" "$den")
	v=$(verdict "$r" "$goal")
	[[ $v == MISS ]] && missed=true
	printf "  %-44s %7sx %9sx   >= %-4s %s\n" "$label" "$r" "$(paired "$num" "$den")" \
		"${goal}x" "$v"
}

echo
row_head "wall time, ms ($runs runs)"
for fs in "${fss[@]}"; do
	if [[ $fs == ext4 ]]; then
		echo "  ext4 on ${loop[$fs]} (reverse map: ext4-libext2fs; $(df --output=iused "${mnt[$fs]}" | tail -1 | tr -d ' ') inodes in use)"
		row e_dg1 "  daxguard who DEV --offset X --length 4096 --no-users"
		row e_dbg1 "  debugfs -R 'icheck BLOCK' DEV   (owner inode ${single_ino[$fs.single]})"
		row e_dg1e "  daxguard, one range, owner inode ${single_ino[$fs.early]} (10th pct)"
		row e_dbg1e "  debugfs icheck, the same block"
		row e_dg1l "  daxguard, one range, owner inode ${single_ino[$fs.late]} (90th pct)"
		row e_dbg1l "  debugfs icheck, the same block"
		row e_dgN "  daxguard who DEV --badblocks ($nranges) --no-users"
		row e_dbgN "  debugfs -R 'icheck B1 ... B$nranges' DEV"
		row e_dg1np "  daxguard ... one range --no-paths (info)"
		row e_dgNnp "  daxguard ... $nranges ranges --no-paths (info)"
	else
		echo "  XFS rmapbt=0 on ${loop[$fs]} (reverse map: xfs-bulkstat)"
		row x_dg1 "  daxguard who DEV --offset X --length 4096 --no-users"
		row x_dgN "  daxguard who DEV --badblocks ($nranges) --no-users"
		row x_walk1 "  dg-fiemapwalk, one range (FIEMAP walk)"
		row x_walkN "  dg-fiemapwalk, $nranges ranges (FIEMAP walk)"
		row x_fm1 "  daxguard ... one range --rmap fiemap"
		row x_fmN "  daxguard ... $nranges ranges --rmap fiemap"
		row x_dg1np "  daxguard ... one range --no-paths (info)"
		row x_dgNnp "  daxguard ... $nranges ranges --no-paths (info)"
	fi
done

echo
printf "  %-44s %8s %10s   %s\n" "ratio" "medians" "paired" "target"
for fs in "${fss[@]}"; do
	if [[ $fs == ext4 ]]; then
		ratio "ext4, 1 range: debugfs / daxguard" e_dbg1 e_dg1 1
		ratio "  owner at the 10th percentile" e_dbg1e e_dg1e 1
		ratio "  owner at the 90th percentile" e_dbg1l e_dg1l 1
		ratio "ext4, $nranges ranges: debugfs / daxguard" e_dbgN e_dgN 4
		info_ratio "  the same, daxguard --no-paths" e_dbgN e_dgNnp
	else
		ratio "XFS, 1 range: FIEMAP walk / daxguard" x_walk1 x_dg1 3
		ratio "XFS, $nranges ranges: FIEMAP walk / daxguard" x_walkN x_dgN 3
		ratio "XFS, 1 range: --rmap fiemap / daxguard" x_fm1 x_dg1 3
		ratio "XFS, $nranges ranges: --rmap fiemap / daxguard" x_fmN x_dgN 3
	fi
done

echo
echo "  peak memory (maximum resident set size, one run each, MiB)"
mib()
{
	awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'
}
for fs in "${fss[@]}"; do
	m=$(mib "${peak[${fs}_dgN]}")
	if awk -v m="$m" 'BEGIN { exit !(m < 64) }'; then
		v=PASS
	else
		v=MISS
		missed=true
	fi
	printf "  %-44s %8s   < 64 MiB %s\n" "$fs, daxguard, $nranges ranges" "$m" "$v"
	printf "  %-44s %8s\n" "$fs, daxguard, one range (info)" "$(mib "${peak[${fs}_dg1]}")"
	if [[ $fs == ext4 ]]; then
		printf "  %-44s %8s\n" "$fs, debugfs icheck, $nranges blocks (info)" \
			"$(mib "${peak[${fs}_baseN]}")"
	else
		printf "  %-44s %8s\n" "$fs, dg-fiemapwalk, $nranges ranges (info)" \
			"$(mib "${peak[${fs}_baseN]}")"
		printf "  %-44s %8s\n" "$fs, daxguard --rmap fiemap, $nranges (info)" \
			"$(mib "${peak[${fs}_fmN]}")"
	fi
done

echo
echo "load average before / after timing: $load_before / $load_after"
echo "(ratios come from medians; 'paired' is the median of the per-round ratios)"

if $hold; then
	echo
	echo "holding the setup until Ctrl-C:"
	for fs in "${fss[@]}"; do
		echo "  $fs: ${loop[$fs]} on ${mnt[$fs]}; one range --offset ${single_off[$fs]}" \
			"--length 4096; batch --badblocks $work/badblocks.$fs"
	done
	while :; do
		sleep 1
	done
fi

bench_result "$wrong" "a WRONG ANSWER or a failed run"
