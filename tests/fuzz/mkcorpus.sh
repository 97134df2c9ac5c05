#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# mkcorpus.sh BUILDDIR [KIND...]: (re)make the seed corpora of tests/fuzz
# from real outputs of this machine, and of the QEMU tier's logs
# (/var/tmp/daxguard-vm/logs/latest, tests/vm).  KIND: xfs, maps,
# badblocks, devmapper, pfn, range (default: all).  The xfs kind needs root
# and loop devices (tests/lib.sh): it makes XFS images with mkfs.xfs (v4
# and v5, 1 KiB and 4 KiB blocks, 64-bit extent counters, old timestamps),
# fills them with files whose forks are local, extents and B+trees of one
# and two levels, unmounts, and has mkseed-xfs copy each inode and the
# bmbt blocks below it from the image.  Commit what changed.  Run it as
#	DAXGUARD=build/daxguard/daxguard DG_MAPPER=build/tests/dg-mapper \
#		bash tests/fuzz/mkcorpus.sh build
set -euo pipefail
src=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: mkcorpus.sh BUILDDIR [KIND...]}" && pwd)
shift
kinds=${*:-xfs maps badblocks devmapper pfn range}
vmlogs=${DG_VM_LOGS:-/var/tmp/daxguard-vm/logs/latest}

# seed DIR NAME: stdin into corpus DIR as NAME
seed() {
	mkdir -p "$src/corpus/$1"
	cat >"$src/corpus/$1/$2"
}

# ------------------------------------------------------------------ #
# XFS inodes

# sparse FILE N BS: N one-block extents with holes between, written from
# the end back so that no write extends the file (no speculative
# preallocation fills the holes)
sparse() {
	local f=$1 n=$2 bs=$3 i args=()

	for ((i = n - 1; i >= 0; i--)); do
		args+=(-c "pwrite -q -S 0x5a $((i * 2 * bs)) $bs")
	done
	xfs_io -f "${args[@]}" -c fsync "$f"
}

populate() {
	local m=$1 bs=$2 i

	: >"$m/empty"
	xfs_io -f -c "pwrite -q 0 $bs" -c fsync "$m/one"
	sparse "$m/ext8" 8 "$bs"
	sparse "$m/ext60" 60 "$bs"
	sparse "$m/ext400" 400 "$bs"
	sparse "$m/ext3000" 3000 "$bs"
	# unwritten extents between written ones
	xfs_io -f -c "falloc 0 $((bs * 64))" -c "pwrite -q $((bs * 8)) $bs" \
		-c "pwrite -q $((bs * 32)) $bs" -c fsync "$m/unwritten"
	# an attr fork: inline, then in blocks
	: >"$m/xattr-small"
	setfattr -n user.a -v small "$m/xattr-small"
	: >"$m/xattr-big"
	for ((i = 0; i < 64; i++)); do
		setfattr -n "user.big$i" -v "$(head -c 1500 /dev/zero | tr '\0' 'x')" "$m/xattr-big"
	done
	sparse "$m/both-forks" 40 "$bs"
	for ((i = 0; i < 16; i++)); do
		setfattr -n "user.v$i" -v "$(head -c 900 /dev/zero | tr '\0' 'y')" "$m/both-forks"
	done
	mkdir "$m/dir-small" "$m/dir-big"
	: >"$m/dir-small/a"
	for ((i = 0; i < 1500; i++)); do
		: >"$m/dir-big/a-rather-long-file-name-to-fill-directory-blocks-$i"
	done
	ln -s short "$m/symlink-short"
	ln -s "$(head -c 600 /dev/zero | tr '\0' 'l')" "$m/symlink-long"
	mknod "$m/chardev" c 1 3
	sync
}

mkseed_fs() { # KIND MKFS_OPTS...
	local kind=$1 geo bs agb agc isz crc f ino

	shift
	dg_mkfs_loop xfs 320 "$@"
	geo=$(xfs_db -r -c "sb 0" -c "p blocksize agblocks agcount inodesize" "$DEV")
	bs=$(awk '$1 == "blocksize" { print $3 }' <<<"$geo")
	agb=$(awk '$1 == "agblocks" { print $3 }' <<<"$geo")
	agc=$(awk '$1 == "agcount" { print $3 }' <<<"$geo")
	isz=$(awk '$1 == "inodesize" { print $3 }' <<<"$geo")
	crc=1
	[[ "$*" != *crc=0* ]] || crc=0
	populate "$MNT" "$bs"
	declare -A inos=()
	for f in "$MNT"/*; do
		inos[${f##*/}]=$(stat -c %i "$f")
	done
	inos[root]=$(stat -c %i "$MNT")
	umount "$MNT"
	for f in "${!inos[@]}"; do
		ino=${inos[$f]}
		"$build/tests/fuzz/mkseed-xfs" "$IMG" "$bs" "$agb" "$agc" "$isz" "$crc" "$ino" \
			"$src/corpus/xfs-dinode/$kind-${f//[^a-zA-Z0-9-]/_}" | sed "s|^$src/||"
	done
}

# The same for a v4 filesystem, which kernels without CONFIG_XFS_SUPPORT_V4
# (this machine's) cannot mount: mkfs.xfs fills the image from a
# prototype file (no sparse files, so no bmbt: v5 images give those)
mkseed_proto() { # KIND MKFS_OPTS...
	local kind=$1 p=$DG_TMP/proto.d i geo bs agb agc isz ino name

	shift
	mkdir -p "$p"
	head -c 70000 /dev/urandom >"$p/data"
	{
		printf 'boot\n0 0\nd--755 0 0\n'
		printf 'one ---644 0 0 %s\n' "$p/data"
		printf 'empty ---644 0 0 /dev/null\n'
		printf 'symlink-short l--777 0 0 short\n'
		printf 'symlink-long l--777 0 0 %s\n' "$(head -c 600 /dev/zero | tr '\0' 'l')"
		printf 'chardev c--644 0 0 1 3\n'
		printf 'dir-small d--755 0 0\na ---644 0 0 /dev/null\n$\n'
		printf 'dir-big d--755 0 0\n'
		for ((i = 0; i < 1500; i++)); do
			printf 'a-rather-long-file-name-to-fill-directory-blocks-%d ---644 0 0 /dev/null\n' "$i"
		done
		printf '$\n$\n'
	} >"$p/proto"
	IMG=$DG_TMP/$kind.img
	truncate -s 320M "$IMG"
	mkfs.xfs -q -f "$@" -p "$p/proto" "$IMG" 2>&1 | grep -v 'V4 filesystems are deprecated' || true
	geo=$(xfs_db -r -c "sb 0" -c "p blocksize agblocks agcount inodesize" "$IMG")
	bs=$(awk '$1 == "blocksize" { print $3 }' <<<"$geo")
	agb=$(awk '$1 == "agblocks" { print $3 }' <<<"$geo")
	agc=$(awk '$1 == "agcount" { print $3 }' <<<"$geo")
	isz=$(awk '$1 == "inodesize" { print $3 }' <<<"$geo")
	xfs_db -r -c "ls /" "$IMG" | awk 'NR > 1 && $6 != ".." { print $2, $6 }' |
		while read -r ino name; do
			[[ $name != . ]] || name=root
			"$build/tests/fuzz/mkseed-xfs" "$IMG" "$bs" "$agb" "$agc" "$isz" 0 "$ino" \
				"$src/corpus/xfs-dinode/$kind-$name" | sed "s|^$src/||"
		done
}

if [[ " $kinds " == *" xfs "* ]]; then
	export TESTS_DIR=$src/..
	# shellcheck source-path=SCRIPTDIR source=../lib.sh
	. "$src/../lib.sh"
	dg_require_root
	dg_tmpdir
	rm -f "$src/corpus/xfs-dinode"/*
	mkdir -p "$src/corpus/xfs-dinode"
	mkseed_proto v4-1k -m crc=0 -b size=1024 -i size=256
	mkseed_fs v5-1k -b size=1024 -i size=512
	mkseed_fs v5-4k -m rmapbt=1
	mkseed_fs v5-1k-nrext64-oldtime -b size=1024 -i nrext64=1 -m bigtime=0
fi

# ------------------------------------------------------------------ #
# /proc/PID/maps of this machine's processes: the first lines of each
# distinct command, and the escapes fixture (a mapped file with a
# newline, a backslash, ... in its name)

if [[ " $kinds " == *" maps "* ]]; then
	rm -f "$src/corpus/maps"/*
	declare -A seen=()
	for d in /proc/[0-9]*; do
		comm=$(cat "$d/comm" 2>/dev/null) || continue
		[[ -z "${seen[$comm]:-}" ]] || continue
		lines=$(head -n 24 "$d/maps" 2>/dev/null) || continue
		[[ -n "$lines" ]] || continue
		seen[$comm]=1
		printf '%s\n' "$lines" | seed maps "proc-${comm//[^a-zA-Z0-9-]/_}"
		((${#seen[@]} < 24)) || break
	done
	seed maps fixture-escapes <"$src/../fixtures/maps/escapes.maps"
	seed maps fixture-basic <"$src/../fixtures/maps/basic.maps"
fi

# ------------------------------------------------------------------ #
# badblocks lists: what /sys/block/pmem0/badblocks held in the QEMU tier
# (tests/vm/scenarios/badblocks.sh), as a list, and as more lists would
# hold: a partition's, several entries, the empty list

if [[ " $kinds " == *" badblocks "* ]]; then
	rm -f "$src/corpus/badblocks"/*
	grep -ho 'badblocks_injected=[0-9 ]*' "$vmlogs"/*.log | sed 's/.*=//; s/ *$//' |
		sort -u | seed badblocks vm-injected
	grep -ho 'badblocks lists the injected range ([0-9 ]*)' "$vmlogs"/*.log |
		sed 's/.*(//; s/ *)$//' | sort -u | head -n 1 | seed badblocks vm-one
	: | seed badblocks empty
	# the man page's example, and one of each thing the format allows
	printf '2097152 8\n' | seed badblocks man-example
	printf '# pmem0\n\n  263840 8\t\n1024 16\r\n2097152 8' | seed badblocks blanks-comments
fi

# ------------------------------------------------------------------ #
# device-mapper tables: the dm-xfs scenario's table as dmsetup printed it
# in the QEMU tier, and lines of other targets over pmem0 in the kernel's
# status format (dm-linear, dm-stripe, dm-raid1 documentation)

if [[ " $kinds " == *" devmapper "* ]]; then
	rm -f "$src/corpus/devmapper"/*
	grep -h -A 4 '=== setup dm-linear' "$vmlogs"/*dm-xfs.log | grep -E '^[0-9]+ [0-9]+ linear ' | sort -u |
		seed devmapper vm-dm-xfs
	printf '0 2048 striped 2 128 259:0 0 259:1 0\n' | seed devmapper striped
	printf '0 2048 mirror core 2 512 nosync 2 259:1 0 259:0 0 1 handle_errors\n' |
		seed devmapper mirror
	printf '0 1024 linear 259:0 2048\n1024 1024 error \n2048 1024 zero \n' |
		seed devmapper mixed
fi

# ------------------------------------------------------------------ #
# page frame numbers as the QEMU tier's memory failures printed them

if [[ " $kinds " == *" pfn "* ]]; then
	rm -f "$src/corpus/pfn"/*
	grep -ho 'Memory failure: 0x[0-9a-f]*\|pfn 0x[0-9a-f]*' "$vmlogs"/*.log |
		sed 's/.* //' | sort -u | head -n 8 | while read -r pfn; do
		printf '%s' "$pfn" | seed pfn "vm-$pfn"
		printf '%d' "$pfn" | seed pfn "vm-dec-$pfn"
	done
fi

# ------------------------------------------------------------------ #
# sizes and ranges as the tests, README and man pages give them

if [[ " $kinds " == *" range "* ]]; then
	rm -f "$src/corpus/range"/*
	n=0
	for s in 7634944 4K 4096 0x1000 1M 1.5G 0x748000 512B 4KiB 16E 0+4096 1M+4K \
		0x1000-0x3000 "263840 8" "2097152 8" 18446744073709551615; do
		n=$((n + 1))
		printf '%s' "$s" | seed range "$(printf '%02d' $n)"
	done
fi
echo "corpora: $(for d in "$src"/corpus/*; do printf '%s %s  ' "${d##*/}" "$(find "$d" -type f | wc -l)"; done)"
