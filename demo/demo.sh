#!/bin/bash
# daxguard demo: a loop-device XFS (rmapbt=1) with real processes mapping
# and holding its files.  `daxguard who` is asked about one 4 KiB block of
# one file and about the whole device; `daxguard fail` then acts on exactly
# the processes mapping that block, and `daxguard remove` stops the rest,
# unmounts and detaches the device, whose data is then checked intact.
# Everything it creates lives in one temporary directory and is removed on
# exit, error or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
DAXGUARD=${DAXGUARD:-$PWD/build/daxguard/daxguard}
DG_MAPPER=${DG_MAPPER:-$PWD/build/tests/dg-mapper}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (it creates a loop device and mounts it)" >&2
	exit 1
fi
for f in "$DAXGUARD" "$DG_MAPPER"; do
	[ -x "$f" ] || { echo "demo: $f: not built (run demo/run.sh)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/daxguard-demo.XXXXXX)
dev= pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if mountpoint -q "$tmp/mnt" 2>/dev/null; then
		umount "$tmp/mnt" 2>/dev/null || umount -l "$tmp/mnt"
	fi
	[ -z "$dev" ] || losetup -d "$dev" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*" >&2; "$@"; }
# what the demo says must be so: it is also the installed packages' test
# (scripts/package-test.sh)
fact() { # WHAT COMMAND...
	local what=$1
	shift
	"$@" || { echo "demo: not so: $what" >&2; exit 1; }
}
declare -A pid_of=()
alive() { # NAME: runs (a zombie the shell has yet to reap does not)
	local stat
	stat=$(cat "/proc/${pid_of[$1]}/stat" 2>/dev/null) || return 1
	[[ $stat == *"($1) "* && ${stat##*) } != Z* ]]
}
gone() { ! alive "$1"; }

say "A 512 MiB XFS with the reverse-mapping btree, on a loop device"
truncate -s 512M "$tmp/pmem.img"
dev=$(losetup --find --show "$tmp/pmem.img")
mkfs.xfs -q -m rmapbt=1 "$dev"
mkdir "$tmp/mnt"
mount "$dev" "$tmp/mnt"
echo "$dev on $tmp/mnt"

say "Files: a database written in interleaved chunks (so it has several extents), a journal, notes"
mnt=$tmp/mnt
for i in 0 1 2 3; do
	# interleave two files so neither is contiguous
	dd if=/dev/urandom of="$mnt/database.dat" bs=1M count=2 seek=$((i * 2)) \
		conv=notrunc,fsync status=none
	dd if=/dev/urandom of="$mnt/journal.log" bs=256K count=1 seek=$i \
		conv=notrunc,fsync status=none
done
echo "the notes of an operator" >"$mnt/notes.txt"
sync
ls -l "$mnt"
xfs_io -r -c "fiemap -v" "$mnt/database.dat"

say "Processes (each a real process, named after its role)"
start() { # NAME OPS...: the helper, under a name ps and daxguard show
	local name=$1
	shift
	ln -sf "$DG_MAPPER" "$tmp/$name"
	"$tmp/$name" -r "$tmp/$name.ready" "$@" >/dev/null &
	pids+=($!)
	pid_of[$name]=$!
	disown $! # no "Killed" notices when daxguard ends it
	for _ in $(seq 100); do [ -e "$tmp/$name.ready" ] && break; sleep 0.05; done
	[ -e "$tmp/$name.ready" ] || { echo "demo: $name did not start" >&2; exit 1; }
	printf '  %-10s pid %-7s %s\n' "$name" "$!" "$*"
}
start db-writer "map:$mnt/database.dat:0:$((4 << 20)):shared-rw"
start db-reader "map:$mnt/database.dat:$((4 << 20)):$((4 << 20)):shared-ro"
start db-backup "map:$mnt/database.dat:0:$((8 << 20)):private-ro"
start tailer "hold:$mnt/journal.log"
start shell "cwd:$mnt"

# The device offset of the database's page at file offset 5 MiB, from
# FIEMAP: what a badblocks entry there would be.
phys=$(xfs_io -r -c "fiemap" "$mnt/database.dat" | awk -v want=$((5 * 2048)) '
	/^[ \t]*[0-9]+:/ {
		split($2, f, /[][.:]+/); split($3, p, /[.:]+/)
		if (want >= f[2] && want <= f[3]) { print (p[1] + want - f[2]) * 512; exit }
	}')
[ -n "$phys" ] || { echo "demo: could not locate the block" >&2; exit 1; }

say "Who does a bad 4 KiB block at device offset $phys hit?"
run "$DAXGUARD" who "$dev" --offset "$phys" --length 4K
echo
echo "db-reader (maps 4-8 MiB) and db-backup (maps all of it) are hit; db-writer"
echo "(maps 0-4 MiB), tailer (holds the journal) and shell (cwd) are not."

say "The same, as JSON, for scripts"
json=$(run "$DAXGUARD" who "$dev" --offset "$phys" --length 4K -J)
jq -c '{owners: [.owners[] | {path, file_offset}], users: [.users[] | {pid, command, file_offset, file_length}]}' <<<"$json"
fact "the block is the database's, at file offset 5 MiB" \
	[ "$(jq -r '[.owners[] | "\(.path) \(.file_offset)"] | join(",")' <<<"$json")" = "$mnt/database.dat $((5 << 20))" ]
fact "exactly db-backup and db-reader map it" \
	[ "$(jq -r '[.users[].command] | unique | join(" ")' <<<"$json")" = "db-backup db-reader" ]

say "Who keeps the whole device busy (what a removal must stop)?"
run "$DAXGUARD" who "$dev"

say "Metadata: the first 64 KiB of the device"
run "$DAXGUARD" who "$dev" --offset 0 --length 64K --no-users

sums_before=$(cd "$mnt" && sha256sum database.dat journal.log notes.txt)

say "The block goes bad: act on exactly the processes that map it"
run "$DAXGUARD" fail "$dev" --offset "$phys" --length 4K --action kill
echo
echo "db-reader and db-backup are gone; db-writer, tailer and shell still run."
for p in db-reader db-backup; do fact "$p is gone" gone $p; done
for p in db-writer tailer shell; do fact "$p still runs" alive $p; done

say "The device is about to be removed: the plan first, changing nothing"
run "$DAXGUARD" remove --dry-run "$dev"

say "Then the removal: stop every user, unmount, release the loop device"
run "$DAXGUARD" remove --grace 2 "$dev"
losetup -a | grep -q "$tmp/pmem.img" && { echo "demo: the loop device is still attached" >&2; exit 1; }
dev=
for p in db-writer tailer shell; do fact "$p is gone" gone $p; done
fact "the filesystem is unmounted" eval '! mountpoint -q "$mnt"'

say "Nothing that reached the filesystem was lost: attach the image again and compare"
dev=$(losetup --find --show "$tmp/pmem.img")
mount -o ro "$dev" "$mnt"
sums_after=$(cd "$mnt" && sha256sum database.dat journal.log notes.txt)
if [ "$sums_before" = "$sums_after" ]; then
	echo "checksums identical:"
	echo "$sums_after" | sed 's/^/  /'
else
	echo "demo: the data changed across the removal" >&2
	exit 1
fi

say "Done; cleaning up (processes, mount, loop device, image)"
