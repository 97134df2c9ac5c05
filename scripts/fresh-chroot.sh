#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# scripts/fresh-chroot.sh DIR CMD...: run CMD (as root, in /src) inside a
# fresh Debian 12 (bookworm) made by mmdebstrap --variant=minbase in DIR,
# with a copy of this source tree in /src: the smallest system README's
# commands may meet.  Whatever the tests need must come from
# scripts/deps.sh there, so a missing install step fails instead of
# passing on a machine where somebody once installed the tool by hand.
#
# The chroot shares the host's kernel, /dev (loop devices), /sys and a
# /proc of its own, and the host's apt cache (only to save downloads:
# apt still installs every package into the chroot).  DIR is made anew
# each time and removed afterwards; the mounts are undone even on failure.
# What CMD leaves in /src/out is copied to $DG_CHROOT_OUT, if set.
set -euo pipefail

if [ $# -lt 2 ]; then
	echo "usage: $0 DIR CMD..." >&2
	exit 2
fi
ROOT=$1
shift
SRC=$(cd "$(dirname "$0")/.." && pwd)

if [ "$(id -u)" -ne 0 ]; then
	echo "fresh-chroot.sh: run as root" >&2
	exit 1
fi
command -v mmdebstrap >/dev/null 2>&1 || {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		mmdebstrap >/dev/null
}

cleanup() {
	local m

	# DG_CHROOT_KEEP=1: leave it, mounted, to look into (remove by hand)
	[ -z "${DG_CHROOT_KEEP:-}" ] || [ -z "${started:-}" ] || return 0
	# every mount below ROOT, innermost first
	while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done < <(awk -v r="$ROOT" '$5 == r || index($5, r "/") == 1 { print $5 }' \
		/proc/self/mountinfo | sort -r)
	rm -rf --one-file-system "$ROOT"
}
trap cleanup EXIT
cleanup
started=1
mkdir -p "$ROOT"

# the host's .debs, hard-linked in where possible, spare the downloads
mmdebstrap --variant=minbase --quiet \
	--setup-hook='mkdir -p "$1/var/cache/apt/archives"; for f in /var/cache/apt/archives/*.deb; do [ -e "$f" ] && { ln "$f" "$1/var/cache/apt/archives/" 2>/dev/null || cp "$f" "$1/var/cache/apt/archives/"; }; done; true' \
	bookworm "$ROOT" >/dev/null

# "/" a mountpoint of its own, as on a real system: unshare -m and mount
# propagation need one
mount --bind "$ROOT" "$ROOT"
mount -t proc proc "$ROOT/proc"
mount --rbind /sys "$ROOT/sys"
mount --make-rslave "$ROOT/sys"
mount --rbind /dev "$ROOT/dev"
mount --make-rslave "$ROOT/dev"
mount -t tmpfs tmpfs "$ROOT/run"
mount --bind /var/cache/apt/archives "$ROOT/var/cache/apt/archives"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true

# the tree as it is now (tracked files, committed or not), no build dirs
mkdir -p "$ROOT/src"
(cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
	tar --null -T - -cf -) | tar -xf - -C "$ROOT/src"

rc=0
chroot "$ROOT" /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	HOME=/root LANG=C.UTF-8 CI="${CI:-}" /bin/bash -c 'cd /src && exec "$@"' sh "$@" || rc=$?
if [ -n "${DG_CHROOT_OUT:-}" ] && [ -d "$ROOT/src/out" ]; then
	mkdir -p "$DG_CHROOT_OUT"
	cp -r "$ROOT/src/out/." "$DG_CHROOT_OUT/"
fi
exit $rc
