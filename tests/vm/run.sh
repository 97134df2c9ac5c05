#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/vm/run.sh: the real-DAX test tier.  Boots Debian's kernels in QEMU
# (TCG) with an emulated NVDIMM and runs guest scenarios against daxguard.
#
#   tests/vm/run.sh [--kernel 6.1|6.12|all] [-j N] [--write-doc] [SCENARIO...]
#
# What it does, every step cached under $DGVM_CACHE (/var/tmp/daxguard-vm)
# and reused across runs:
#  1. installs what is missing on the host with apt-get (qemu-system-x86,
#     busybox-static, cpio, kmod, ndctl, daxctl, xfsprogs, e2fsprogs, jq,
#     dmsetup, gcc, bc);
#  2. fetches the kernel packages through a private apt configuration that
#     leaves the machine's own apt sources and lists alone: 6.1 is
#     linux-image-amd64 of the main suite, 6.12 the one of <codename>-backports,
#     both from the URI of the machine's main Debian source; the packages
#     are unpacked with dpkg-deb -x, never installed;
#  3. builds an initramfs: busybox-static, the nvdimm/dax/xfs/ext4/dm-mod
#     modules with their dependencies (from modules.dep), ndctl, daxctl,
#     mkfs.xfs, xfs_io, mkfs.ext4, jq, dmsetup with their libraries,
#     daxguard with its libraries, the static test helpers (dg-mapper,
#     dgvm-probe), the guest init and the scenarios;
#  4. boots one guest per kernel and scenario: -machine pc,nvdimm=on, 1 GiB
#     of RAM, a 1 GiB nvdimm on a fresh sparse file, console loglevel 3,
#     under a hard host-side timeout, with a guest watchdog that powers off
#     through sysrq;
#  5. reads the verdict from the serial console (DGVM-RESULT), prints a
#     table and exits 1 if any scenario failed.  A scenario that cannot run
#     (a package that cannot be fetched, a guest that does not boot) fails.
#
# Scenarios (SCENARIO or SCENARIO-FS; see tests/vm/scenarios/*.sh):
#   remove-xfs remove-ext4     daxguard remove with mappers, a writer, holders
#   unbind-xfs unbind-ext4     the same released by a raw sysfs unbind (baseline)
#   badblocks-xfs badblocks-ext4  a media error in a file: fail -a kill, --punch
#   badblocks-xfs_normap       the same on XFS without rmapbt (xfs-bulkstat)
#   hwpoison-xfs hwpoison-ext4 kernel-signalled set = daxguard who set
#   devdax                     device-dax: who, kernel agreement, remove
#   dm-xfs                     xfs on dm-linear over pmem0: who, fail, remove on pmem0
#   watch-xfs                  daxguard watch: a sysfs bad block, list vs ndctl,
#                              MADV_HWPOISON via /dev/kmsg, a raw unbind alert
#   smoke-xfs smoke-ext4       a boot, a DAX mapping, daxguard who
#   ndrelease                  how an unmounted fsdax namespace is best released
#   pciehp                     q35 with PCIe root ports: a virtio-pmem device's
#                              sysfs tree, and the attention button pressed by
#                              device_del on the monitor, as daxguard watch sees it
#   cxl-remove                 q35 with two CXL type-3 devices: XFS and ext4 on
#                              two namespaces of a 2-way region; remove refuses,
#                              --dry-run, --whole-region, the region made again
#                              and the data checked, --release memdev
#   cxl-remove-xfs cxl-remove-ext4  the same with one filesystem
#   cxl-interleave             a pattern's DPA as daxguard reports it, who --dpa,
#                              the host reads the pattern back; fail --dpa
#   cxl-fail                   fail --dpa -a kill alone
#   cxl-disable-baseline-region cxl-disable-baseline-memdev  the baselines:
#                              raw cxl disable-region / disable-memdev -f
#   cxl-sysfs                  records the CXL sysfs tree (unit-test fixtures)
#   kmem                       device-dax onlined as system RAM on node 1:
#                              who names the processes with pages there,
#                              remove migrates, stops the bound one, offlines
#   kmem-pin                   the same in ZONE_NORMAL with an io_uring pin:
#                              remove stops, bounded, naming the pinned process
#   kmem-bench                 pages migrated per second: remove against the
#                              kernel's own offline (facts, not in CI)
#
# Environment: DAXGUARD (daxguard binary; default: build /work tree's build/),
# DGVM_CACHE, DGVM_JOBS (-j), DGVM_SMP (guest CPUs, default 1),
# DGVM_KEEP_IMAGES=1 (keep the nvdimm files), DGVM_WATCHDOG (guest watchdog
# seconds for every scenario; the host timeout is 90 s more).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRCROOT=$(cd "$HERE/../.." && pwd)
CACHE=${DGVM_CACHE:-/var/tmp/daxguard-vm}
JOBS=${DGVM_JOBS:-1}
SMP=${DGVM_SMP:-1}
KERNEL_ARG=all
WRITE_DOC=0
REFRESH=0
DEFAULT_SCENARIOS="remove-xfs remove-ext4 unbind-xfs unbind-ext4 badblocks-xfs badblocks-ext4 badblocks-xfs_normap hwpoison-xfs hwpoison-ext4 devdax dm-xfs watch-xfs pciehp cxl-remove cxl-interleave cxl-disable-baseline-region cxl-disable-baseline-memdev kmem kmem-pin"
# scenarios expected to fail (space-separated, padded with spaces): printed
# XFAIL; an unexpected pass fails the run.
XFAIL=" "

usage() {
	sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//'
	cat <<EOF
Options:
  --kernel K      6.1, 6.12 or all (default all)
  -j, --jobs N    guests booted at once (default $JOBS)
  --write-doc     regenerate doc/without-daxguard.md from this run's logs
                  (needs remove-* and unbind-* on both kernels)
  --refresh       look the kernel packages up again (default: reuse)
  --no-xfail      expected failures fail the run too (meson marks them
                  should_fail itself)
  --list          list the scenarios
Default scenarios: $DEFAULT_SCENARIOS
EOF
}

while [ $# -gt 0 ]; do
	case $1 in
	--kernel) KERNEL_ARG=${2:?}; shift 2 ;;
	--kernel=*) KERNEL_ARG=${1#*=}; shift ;;
	-j|--jobs) JOBS=${2:?}; shift 2 ;;
	--write-doc) WRITE_DOC=1; shift ;;
	--refresh) REFRESH=1; shift ;;
	--no-xfail) XFAIL=" "; shift ;;
	--list) for s in $DEFAULT_SCENARIOS smoke-xfs smoke-ext4 ndrelease cxl-remove-xfs cxl-remove-ext4 cxl-fail cxl-sysfs kmem-bench; do echo "$s"; done; exit 0 ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "run.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
	*) break ;;
	esac
done
SCENARIOS=${*:-$DEFAULT_SCENARIOS}
case $KERNEL_ARG in
all) KERNELS="6.1 6.12" ;;
6.1|6.12) KERNELS=$KERNEL_ARG ;;
*) echo "run.sh: --kernel must be 6.1, 6.12 or all" >&2; exit 2 ;;
esac
for s in $SCENARIOS; do
	[ -r "$HERE/scenarios/${s%%-*}.sh" ] || { echo "run.sh: no scenario $s" >&2; exit 2; }
done

if [ "$(id -u)" != 0 ]; then
	echo "run.sh: needs root (apt-get, depmod, device nodes in the initramfs)" >&2
	exit 1
fi

log() { echo "[vm $(date +%H:%M:%S)] $*" >&2; }
die() { echo "run.sh: error: $*" >&2; exit 1; }

mkdir -p "$CACHE"/{apt,debs,kernels,build,runs,logs}
# One preparation at a time: meson may start several run.sh at once.
exec 9>"$CACHE/lock"

# ------------------------------------------------------------------ host tools
# command:package pairs; apt is asked only for what is missing
HOST_NEEDS="qemu-system-x86_64:qemu-system-x86 cpio:cpio depmod:kmod
ndctl:ndctl daxctl:daxctl mkfs.xfs:xfsprogs xfs_io:xfsprogs xfs_repair:xfsprogs
mkfs.ext4:e2fsprogs e2fsck:e2fsprogs jq:jq dmsetup:dmsetup gcc:gcc xz:xz-utils zstd:zstd
dpkg-deb:dpkg apt-get:apt gzip:gzip bc:bc flock:util-linux numactl:numactl numastat:numactl"

ensure_host_tools() {
	local missing="" pair cmd pkg
	for pair in $HOST_NEEDS; do
		cmd=${pair%%:*}
		pkg=${pair#*:}
		command -v "$cmd" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "$cmd" >/dev/null 2>&1 ||
			missing="$missing $pkg"
	done
	# the static busybox, not the dynamic one of the busybox package
	dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing busybox-static"
	[ -e /usr/include/stdio.h ] || missing="$missing libc6-dev"
	[ -z "$missing" ] && return 0
	missing=$(echo "$missing" | tr ' ' '\n' | sort -u | tr '\n' ' ')
	log "installing:$missing"
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >"$CACHE/apt-install.log" 2>&1; then
		log "apt-get install failed; apt-get update and again"
		apt-get update >>"$CACHE/apt-install.log" 2>&1 || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing >>"$CACHE/apt-install.log" 2>&1 ||
			{ tail -20 "$CACHE/apt-install.log" >&2; die "cannot install:$missing"; }
	fi
}

# ------------------------------------------------------------------ kernels
# A private apt configuration: its own sources, lists, cache and an empty
# dpkg status.  The machine's sources.list(.d) and lists are not touched.
APTCONF=$CACHE/apt/apt.conf
setup_private_apt() {
	local uri codename keyring
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release"
	uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
		awk -v c="$codename" '$2 == c {print $1; exit}')
	[ -n "$uri" ] || die "the machine has no apt source for suite $codename (apt-get indextargets)"
	mkdir -p "$CACHE/apt/sources" "$CACHE/apt/lists/partial" "$CACHE/apt/cache/archives/partial"
	: >"$CACHE/apt/status"
	keyring=/usr/share/keyrings/debian-archive-keyring.gpg
	{
		echo "Types: deb"
		echo "URIs: $uri"
		echo "Suites: $codename $codename-backports"
		echo "Components: main"
		[ -r "$keyring" ] && echo "Signed-By: $keyring"
	} >"$CACHE/apt/sources/debian.sources.new"
	cat >"$APTCONF" <<EOF
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$CACHE/apt/sources";
Dir::State::Lists "$CACHE/apt/lists";
Dir::State::status "$CACHE/apt/status";
Dir::Cache "$CACHE/apt/cache";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "/dev/null";
APT::Sandbox::User "root";
Acquire::Languages "none";
EOF
	if ! cmp -s "$CACHE/apt/sources/debian.sources.new" "$CACHE/apt/sources/debian.sources"; then
		mv "$CACHE/apt/sources/debian.sources.new" "$CACHE/apt/sources/debian.sources"
		rm -f "$CACHE/apt/updated"
	else
		rm -f "$CACHE/apt/sources/debian.sources.new"
	fi
	CODENAME=$codename
}

private_apt_update() {
	[ -e "$CACHE/apt/updated" ] && [ "$REFRESH" = 0 ] && return 0
	log "apt-get update (private configuration $APTCONF)"
	apt-get -c "$APTCONF" update >"$CACHE/apt/update.log" 2>&1 ||
		{ tail -20 "$CACHE/apt/update.log" >&2; return 1; }
	touch "$CACHE/apt/updated"
}

# fetch_kernel LABEL: sets KROOT and KVER; LABEL 6.1 (main suite) or 6.12
# (backports).  The resolved package name is cached in kernels/LABEL.pkg.
fetch_kernel() {
	local label=$1 suite pkg ver deb dir
	case $label in
	6.1) suite=$CODENAME ;;
	6.12) suite=$CODENAME-backports ;;
	esac
	if [ "$REFRESH" = 1 ] || [ ! -s "$CACHE/kernels/$label.pkg" ] ||
		[ ! -e "$CACHE/kernels/$(cat "$CACHE/kernels/$label.pkg")/.complete" ]; then
		private_apt_update || { log "apt-get update failed"; return 1; }
		pkg=$(apt-cache -c "$APTCONF" show "linux-image-amd64/$suite" 2>/dev/null |
			sed -n 's/^Depends: \(linux-image-[^ ,]*\).*/\1/p' | head -1)
		[ -n "$pkg" ] || { log "no linux-image-amd64 in $suite"; return 1; }
		ver=${pkg#linux-image-}
		case $ver in
		"$label".*) ;;
		*) log "linux-image-amd64 in $suite is $pkg, not a $label kernel"; return 1 ;;
		esac
		dir=$CACHE/kernels/$pkg
		if [ ! -e "$dir/.complete" ]; then
			log "fetching $pkg from $suite"
			rm -f "$CACHE/debs/$pkg"_*.deb
			(cd "$CACHE/debs" && apt-get -c "$APTCONF" download "$pkg" >"$CACHE/debs/$pkg.log" 2>&1) ||
				{ tail -5 "$CACHE/debs/$pkg.log" >&2; log "cannot download $pkg"; return 1; }
			deb=$(ls "$CACHE/debs/$pkg"_*.deb | head -1)
			rm -rf "$dir" "$dir.tmp"
			dpkg-deb -x "$deb" "$dir.tmp" || return 1
			depmod -b "$dir.tmp" "$ver" || return 1
			mv "$dir.tmp" "$dir"
			touch "$dir/.complete"
			rm -f "$deb"
		fi
		echo "$pkg" >"$CACHE/kernels/$label.pkg"
	fi
	pkg=$(cat "$CACHE/kernels/$label.pkg")
	KROOT=$CACHE/kernels/$pkg
	KVER=${pkg#linux-image-}
	[ -r "$KROOT/boot/vmlinuz-$KVER" ] || { log "no $KROOT/boot/vmlinuz-$KVER"; return 1; }
	KIMAGE=$KROOT/boot/vmlinuz-$KVER
	extract_pvh && KIMAGE=$KROOT/boot/vmlinux-$KVER.pvh
	return 0
}

# extract_pvh: the uncompressed ELF vmlinux out of the bzImage, when the
# kernel has CONFIG_PVH: QEMU then enters it directly (PVH boot), which
# saves the 5 s that the real-mode setup and the decompressor take under TCG
extract_pvh() {
	local img=$KROOT/boot/vmlinuz-$KVER out=$KROOT/boot/vmlinux-$KVER.pvh magic cmd off
	[ -s "$out" ] && return 0
	grep -q '^CONFIG_PVH=y' "$KROOT/boot/config-$KVER" 2>/dev/null || return 1
	for magic in xz zstd gzip; do
		case $magic in
		xz) off=$(LC_ALL=C grep -obUa "$(printf '\3757zXZ')" "$img" | head -1 | cut -d: -f1); cmd="xz -dc --single-stream" ;;
		zstd) off=$(LC_ALL=C grep -obUa "$(printf '\050\265\057\375')" "$img" | head -1 | cut -d: -f1); cmd="zstd -dc" ;;
		gzip) off=$(LC_ALL=C grep -obUa "$(printf '\037\213\010')" "$img" | head -1 | cut -d: -f1); cmd="gzip -dc" ;;
		esac
		[ -n "$off" ] || continue
		tail -c +$((off + 1)) "$img" | $cmd >"$out.tmp" 2>/dev/null
		if [ "$(head -c 4 "$out.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
			mv "$out.tmp" "$out"
			return 0
		fi
	done
	rm -f "$out.tmp"
	return 1
}

# ------------------------------------------------------------------ initramfs
GUEST_TOOLS="/usr/bin/ndctl /usr/bin/daxctl /usr/bin/cxl /usr/sbin/mkfs.xfs /usr/sbin/xfs_io
/usr/sbin/xfs_repair /usr/sbin/xfs_db /usr/sbin/mkfs.ext4 /usr/sbin/e2fsck
/usr/sbin/debugfs /usr/sbin/dumpe2fs /usr/bin/kmod /usr/bin/jq /usr/sbin/dmsetup
/usr/bin/numactl /usr/bin/numastat"
# wanted modules: the first line must all be there (module or built in)
GUEST_MODULES="nfit libnvdimm nd_pmem nd_btt dax_pmem device_dax xfs ext4 dm_mod"
GUEST_MODULES_OPTIONAL="crc32c_generic crc32c_intel libcrc32c nd_e820 loop virtio_pci virtio_pmem"
# the CXL tier (cxl-* scenarios): a type-3 device's driver stack, from the
# ACPI0017 root to the nvdimm bridge of a pmem region; dax_cxl is 6.3+
GUEST_MODULES_OPTIONAL="$GUEST_MODULES_OPTIONAL cxl_acpi cxl_pci cxl_port cxl_mem cxl_pmem cxl_core dax_cxl"
# the kmem tier: device-dax memory onlined as system RAM
GUEST_MODULES_OPTIONAL="$GUEST_MODULES_OPTIONAL kmem"
# bump these when the way the initramfs parts are built changes
BASE_VERSION=1
MODULES_VERSION=3

# guest_path PATH: where a host file goes in the merged-/usr guest root
guest_path() {
	case $1 in
	/lib/*|/lib64/*|/bin/*|/sbin/*) echo "/usr$1" ;;
	*) echo "$1" ;;
	esac
}

# copy_with_libs ROOT BINARY [DEST]
copy_with_libs() {
	local root=$1 bin=$2 dest=${3:-$(guest_path "$2")} lib
	mkdir -p "$root$(dirname "$dest")"
	cp -L "$bin" "$root$dest"
	ldd "$bin" | awk '/=>/ && $3 ~ /^\// {print $3} /^[ \t]*\// {print $1}' | while read -r lib; do
		dest=$(guest_path "$lib")
		[ -e "$root$dest" ] && continue
		mkdir -p "$root$(dirname "$dest")"
		cp -L "$lib" "$root$dest"
	done
}

make_cpio() { (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$2.tmp" && mv "$2.tmp" "$2"; }

# The base is named by its key, like the other parts: work trees that share
# the cache with different tool lists then keep a base each instead of
# rebuilding one another's.
build_base() {
	local out key r a t
	key=$( { echo "$BASE_VERSION $GUEST_TOOLS"; ls -lL --time-style=+%s /bin/busybox $GUEST_TOOLS 2>&1; } | sha256sum | cut -c1-16)
	out=$CACHE/build/base-$key.cpio.gz
	BASE_CPIO=$out
	[ -s "$out" ] && return 0
	log "building the base initramfs"
	r=$CACHE/build/base-root
	rm -rf "$r"
	mkdir -p "$r"/{usr/bin,usr/sbin,usr/lib/x86_64-linux-gnu,usr/lib64,proc,sys,dev,tmp,run,mnt,root,etc,dgvm}
	ln -s usr/bin "$r/bin"
	ln -s usr/sbin "$r/sbin"
	ln -s usr/lib "$r/lib"
	ln -s usr/lib64 "$r/lib64"
	cp /bin/busybox "$r/usr/bin/busybox"
	for t in $GUEST_TOOLS; do
		[ -e "$t" ] || { log "missing host tool $t"; return 1; }
		copy_with_libs "$r" "$t"
	done
	for t in modprobe insmod rmmod lsmod modinfo depmod; do ln -sf ../bin/kmod "$r/usr/sbin/$t"; done
	[ -r /etc/mke2fs.conf ] && cp /etc/mke2fs.conf "$r/etc/"
	/bin/busybox --list-full | while read -r a; do
		t=$(guest_path "/$a")
		[ -e "$r$t" ] || [ -L "$r$t" ] || { mkdir -p "$r$(dirname "$t")"; ln -s /usr/bin/busybox "$r$t"; }
	done
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$r/etc/passwd"
	printf 'root:x:0:\n' >"$r/etc/group"
	: >"$r/etc/fstab"
	ln -sf /proc/self/mounts "$r/etc/mtab"
	make_cpio "$r" "$out"
	rm -rf "$r"
	# keep the newest few
	ls -1t "$CACHE"/build/base-*.cpio.gz | tail -n +4 | xargs -r rm -f
}

# resolve_modules DIR NAMES...: the module files (relative to DIR) for NAMES
# and everything they depend on, from DIR/modules.dep; names that are
# neither modules nor built in are printed on stderr as "missing NAME"
resolve_modules() {
	local dir=$1
	shift
	awk -v want="$*" -v builtin="$dir/modules.builtin" '
		function norm(p,  n) { n = p; sub(/.*\//, "", n); sub(/\.ko(\.(xz|zst|gz))?$/, "", n); gsub(/-/, "_", n); return n }
		function add(path,  i, n, d) {
			if (path in seen) return
			seen[path] = 1; print path
			n = split(deps[path], d, " ")
			for (i = 1; i <= n; i++) add(d[i])
		}
		BEGIN {
			while ((getline line < builtin) > 0) bi[norm(line)] = 1
		}
		{ p = $1; sub(/:$/, "", p); $1 = ""; deps[p] = $0; byname[norm(p)] = p }
		END {
			n = split(want, w, " ")
			for (i = 1; i <= n; i++) {
				m = w[i]; gsub(/-/, "_", m)
				if (m in byname) add(byname[m])
				else if (!(m in bi)) print "missing " m > "/dev/stderr"
			}
		}' "$dir/modules.dep"
}

build_modules() {
	local out r m f key
	key=$(echo "$MODULES_VERSION $GUEST_MODULES $GUEST_MODULES_OPTIONAL" | sha256sum | cut -c1-8)
	out=$CACHE/build/modules-$KVER-$key.cpio.gz
	MODULES_CPIO=$out
	[ -s "$out" ] && return 0
	log "building the module initramfs for $KVER"
	r=$CACHE/build/modules-root-$KVER
	rm -rf "$r"
	mkdir -p "$r/usr/lib/modules/$KVER"
	resolve_modules "$KROOT/lib/modules/$KVER" $GUEST_MODULES 2>"$r.missing" >"$r.list"
	if [ -s "$r.missing" ]; then
		cat "$r.missing" >&2
		return 1
	fi
	resolve_modules "$KROOT/lib/modules/$KVER" $GUEST_MODULES_OPTIONAL 2>/dev/null >>"$r.list"
	sort -u "$r.list" | while read -r m; do
		mkdir -p "$r/usr/lib/modules/$KVER/$(dirname "$m")"
		cp "$KROOT/lib/modules/$KVER/$m" "$r/usr/lib/modules/$KVER/$m"
	done
	find "$r" -name '*.ko.xz' -exec xz -d {} +
	find "$r" -name '*.ko.zst' -exec zstd -q -d --rm {} +
	find "$r" -name '*.ko.gz' -exec gzip -d {} +
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[ -e "$KROOT/lib/modules/$KVER/$f" ] && cp "$KROOT/lib/modules/$KVER/$f" "$r/usr/lib/modules/$KVER/"
	done
	# depmod wants /lib/modules under its base directory
	ln -s usr/lib "$r/lib"
	depmod -b "$r" "$KVER"
	rm "$r/lib"
	make_cpio "$r" "$out"
	rm -rf "$r" "$r.list" "$r.missing"
}

# The part that changes with the tree: daxguard and its libraries, the
# helpers, init, the scenarios; cached by the checksum of its inputs, so
# that parallel run.sh (meson) share it.
build_overlay() {
	local r key lib
	lib=$(ldd "$DAXGUARD" | awk '$1 ~ /^libdaxguard/ {print $3}')
	[ -n "$lib" ] && [ -e "$lib" ] || { log "libdaxguard of $DAXGUARD not found (ldd)"; return 1; }
	key=$(cat "$DAXGUARD" "$lib" "$HERE/dgvm-probe.c" "$SRCROOT/tests/helpers/dg-mapper.c" \
		"$HERE/guest/init" "$HERE"/guest/*.sh "$HERE"/scenarios/*.sh | sha256sum | cut -c1-16)
	OVERLAY=$CACHE/build/overlay-$key.cpio.gz
	[ -s "$OVERLAY" ] && return 0
	r=$CACHE/build/overlay-root-$$
	rm -rf "$r"
	mkdir -p "$r/usr/bin" "$r/usr/sbin" "$r/dgvm/scenarios"
	copy_with_libs "$r" "$DAXGUARD" /usr/sbin/daxguard
	# its RUNPATH is $ORIGIN/../lib; the guest finds it in the system path
	mkdir -p "$r/usr/lib/x86_64-linux-gnu"
	cp -L "$lib" "$r/usr/lib/x86_64-linux-gnu/$(basename "$lib")"
	gcc -O2 -static -D_GNU_SOURCE -Wall -o "$r/usr/bin/dgvm-probe" "$HERE/dgvm-probe.c" || return 1
	gcc -O2 -static -pthread -D_GNU_SOURCE -Wall -o "$r/usr/bin/dg-mapper" "$SRCROOT/tests/helpers/dg-mapper.c" || return 1
	cp "$HERE/guest/init" "$r/init"
	chmod 755 "$r/init"
	cp "$HERE"/guest/*.sh "$r/dgvm/"
	cp "$HERE"/scenarios/*.sh "$r/dgvm/scenarios/"
	make_cpio "$r" "$OVERLAY"
	rm -rf "$r"
	# keep the newest few
	ls -1t "$CACHE"/build/overlay-*.cpio.gz | tail -n +6 | xargs -r rm -f
}

# ------------------------------------------------------------------ boot
# watchdog seconds per scenario
watchdog_for() {
	[ -n "${DGVM_WATCHDOG:-}" ] && { echo "$DGVM_WATCHDOG"; return; }
	case $1 in
	unbind-*|cxl-disable-*|kmem-pin) echo 150 ;;
	kmem-bench) echo 300 ;;
	*) echo 120 ;;
	esac
}

# machine_args SCENARIO IMAGE: the machine, memory and devices, into MACHINE
# (an array); MONITOR names the monitor's pipe when the host must drive it;
# CPU and APPEND (kernel arguments) when the machine needs others
machine_args() {
	MONITOR=
	CPU=max
	APPEND=
	case $1 in
	cxl-*)
		# Two CXL type-3 persistent-memory devices (512 MiB each, with
		# their label storage areas: XFS needs 300 MB, and a region
		# holds two filesystems) on two root ports of one host
		# bridge, and a 4 GiB fixed memory window on it: regions of
		# one device or of both interleaved.  Non-zero serials: with
		# the default one a region enabled again never gets its
		# namespace back ("invalid interleave-set-cookie").  6.12
		# refuses to commit a region when it sees a hypervisor ("Failed
		# to synchronize CPU cache state"), and cxl_pci fails without
		# pcie_ports=compat (QEMU 7.2 has no event interrupts); 6.1
		# needs the second root port, or reads of the region return 0.
		CPU=max,hypervisor=off
		APPEND=pcie_ports=compat
		local i
		for i in 1 2; do
			rm -f "$2.cxl$i" "$2.lsa$i"
			truncate -s 512M "$2.cxl$i"
			truncate -s 256M "$2.lsa$i"
		done
		MACHINE=(-machine q35,cxl=on -m 1G,slots=2,maxmem=4G
			-object memory-backend-file,id=cxl-mem1,share=on,mem-path="$2.cxl1",size=512M
			-object memory-backend-file,id=cxl-lsa1,share=on,mem-path="$2.lsa1",size=256M
			-object memory-backend-file,id=cxl-mem2,share=on,mem-path="$2.cxl2",size=512M
			-object memory-backend-file,id=cxl-lsa2,share=on,mem-path="$2.lsa2",size=256M
			-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1
			-device cxl-rp,port=0,bus=cxl.1,id=root_port13,chassis=0,slot=2
			-device cxl-rp,port=1,bus=cxl.1,id=root_port14,chassis=0,slot=3
			-device cxl-type3,bus=root_port13,memdev=cxl-mem1,lsa=cxl-lsa1,id=cxl-pmem1,sn=0x1
			-device cxl-type3,bus=root_port14,memdev=cxl-mem2,lsa=cxl-lsa2,id=cxl-pmem2,sn=0x2
			-M cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G
			-monitor none)
		;;
	kmem|kmem-*)
		# The NVDIMM on a NUMA node of its own (node 1, no CPU, no
		# other memory): onlined as system RAM it is that node's memory
		MACHINE=(-machine pc,nvdimm=on -m 1G,slots=2,maxmem=4G
			-object memory-backend-ram,id=ram0,size=1G
			-numa node,nodeid=0,cpus=0,memdev=ram0 -numa node,nodeid=1
			-object memory-backend-file,id=nvmem0,share=on,mem-path="$2",size=1G
			-device nvdimm,id=nvdimm0,memdev=nvmem0,node=1 -monitor none)
		;;
	pciehp)
		# native PCIe hotplug (pciehp), not ACPI's: the attention button
		MONITOR=$RUNDIR/monitor-$label-$1
		rm -f "$MONITOR.in" "$MONITOR.out"
		mkfifo "$MONITOR.in" "$MONITOR.out"
		MACHINE=(-machine q35 -m 1G,slots=2,maxmem=4G
			-global ICH9-LPC.acpi-pci-hotplug-with-bridge-support=off
			-object memory-backend-file,id=vpmem0,share=on,mem-path="$2",size=512M
			-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1
			-device virtio-pmem-pci,id=pmem1,memdev=vpmem0,bus=rp1
			-device pcie-root-port,id=rp2,bus=pcie.0,chassis=2,slot=2
			-device virtio-rng-pci,id=rng2,bus=rp2
			-monitor pipe:"$MONITOR")
		;;
	*)
		MACHINE=(-machine pc,nvdimm=on -m 1G,slots=2,maxmem=4G
			-object memory-backend-file,id=nvmem0,share=on,mem-path="$2",size=1G
			-device nvdimm,id=nvdimm0,memdev=nvmem0 -monitor none)
		;;
	esac
}

# monitor_driver LOG MONITOR QPID: the guest writes "DGVM-MONITOR COMMAND"
# on its console when it wants the host to type COMMAND on the monitor
monitor_driver() {
	local log=$1 mon=$2 qpid=$3 done=0 line cat
	# read-write opens of the pipes never block, even if qemu never opened them
	exec 3<>"$mon.in" 4<>"$mon.out"
	cat <&4 >"$log.monitor" &
	cat=$!
	while kill -0 "$qpid" 2>/dev/null; do
		line=$(grep -a '^DGVM-MONITOR ' "$log" | tr -d '\r' | sed -n "$((done + 1))p")
		if [ -n "$line" ]; then
			echo "${line#DGVM-MONITOR }" >&3
			done=$((done + 1))
		fi
		sleep 0.2
	done
	kill "$cat" 2>/dev/null
	exec 3>&- 4<&-
	rm -f "$mon.in" "$mon.out"
}

# host_checks LOG IMAGE: what the guest asked the host to check once it is
# off, in lines "DGVM-HOSTREAD SERIAL OFFSET HEX TEXT": the bytes HEX must
# be at OFFSET of the backing file of the CXL type-3 device with that
# serial (machine_args: serial 0x1 is IMAGE.cxl1, 0x2 IMAGE.cxl2); with no
# volatile capacity, device physical address 0 is the file's first byte.
# Each check is appended to LOG as a DGVM-CHECK line; returns 1 if any
# failed.
host_checks() {
	local log=$1 img=$2 bad=0 serial off hex text file got
	while read -r _tag serial off hex text; do
		file=$img.cxl$((serial))
		if [ ! -r "$file" ]; then
			echo "DGVM-CHECK FAIL host: no backing file for serial $serial: $text" >>"$log"
			bad=1
			continue
		fi
		got=$(dd if="$file" bs=1 skip=$((off)) count=$((${#hex} / 2)) 2>/dev/null | od -An -v -tx1 | tr -d ' \n')
		if [ "$got" = "$hex" ]; then
			echo "DGVM-CHECK PASS host: $text (serial $serial file offset $off holds $got)" >>"$log"
		else
			echo "DGVM-CHECK FAIL host: $text: serial $serial file offset $off holds '$got', not '$hex'" >>"$log"
			bad=1
		fi
	done < <(grep -a '^DGVM-HOSTREAD ' "$log" | tr -d '\r')
	return $bad
}

# boot LABEL SCENARIO: one guest; writes $RUNDIR/LABEL-SCENARIO.{log,result}
boot() {
	local label=$1 sc=$2 kimage log img wd t0 rc verdict line qpid hostfail=0
	kimage=$(cat "$RUNDIR/kimage-$label")
	log=$RUNDIR/$label-$sc.log
	img=$RUNDIR/nvdimm-$label-$sc.img
	wd=$(watchdog_for "$sc")
	rm -f "$img"
	truncate -s 1G "$img"
	t0=$(date +%s.%N)
	machine_args "$sc" "$img"
	set +e
	timeout -k 10 $((wd + 90)) qemu-system-x86_64 \
		-accel tcg -cpu "$CPU" -smp "$SMP" \
		"${MACHINE[@]}" \
		-kernel "$kimage" -initrd "$RUNDIR/initrd-$label.img" \
		-append "console=ttyS0 loglevel=3 panic=-1 printk.devkmsg=on log_buf_len=4M dgvm.scenario=$sc dgvm.watchdog=$wd $APPEND" \
		-display none -nodefaults -no-reboot -nic none \
		-serial file:"$log" >"$log.qemu" 2>&1 </dev/null &
	qpid=$!
	[ -n "$MONITOR" ] && monitor_driver "$log" "$MONITOR" "$qpid" &
	wait "$qpid"
	rc=$?
	set -e
	host_checks "$log" "$img" || hostfail=1
	[ "${DGVM_KEEP_IMAGES:-0}" = 1 ] || rm -f "$img" "$img".cxl* "$img".lsa*
	line=$(grep -a '^DGVM-RESULT ' "$log" | tr -d '\r' | head -1 || true)
	verdict=$(echo "$line" | awk '{print $3}')
	if [ "$hostfail" = 1 ] && [ "$verdict" = PASS ]; then
		verdict=FAIL
		line="$line; a host-side check failed"
	fi
	case $verdict in
	PASS|FAIL) ;;
	ERROR) verdict=FAIL ;;
	*)
		verdict=FAIL
		if [ $rc = 124 ] || [ $rc = 137 ]; then
			line="no verdict: the host timeout ($((wd + 90)) s) stopped qemu"
		else
			line="no verdict: qemu exited with status $rc ($(tail -1 "$log.qemu" 2>/dev/null))"
		fi
		;;
	esac
	printf '%s %s %s %.0f %s\n' "$label" "$sc" "$verdict" "$(echo "$(date +%s.%N) - $t0" | bc)" \
		"$(echo "$line" | cut -c1-200)" >"$RUNDIR/$label-$sc.result"
	mkdir -p "$CACHE/logs/latest"
	cp "$log" "$CACHE/logs/latest/$label-$sc.log"
}

# ------------------------------------------------------------------ main
T_START=$(date +%s)
flock 9
ensure_host_tools
if [ -z "${DAXGUARD:-}" ]; then
	log "building daxguard in $SRCROOT/build"
	(cd "$SRCROOT" && { [ -e build/build.ninja ] || meson setup build >/dev/null; } && ninja -C build >/dev/null) ||
		die "cannot build daxguard"
	DAXGUARD=$SRCROOT/build/daxguard/daxguard
fi
[ -x "$DAXGUARD" ] || die "no daxguard binary at $DAXGUARD"
setup_private_apt
build_base || die "cannot build the base initramfs"
RUNDIR=$CACHE/runs/$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$RUNDIR"
build_overlay || die "cannot build the overlay initramfs"
GOOD_KERNELS=""
for k in $KERNELS; do
	if fetch_kernel "$k" && build_modules; then
		echo "$KROOT" >"$RUNDIR/kroot-$k"
		echo "$KVER" >"$RUNDIR/kver-$k"
		echo "$KIMAGE" >"$RUNDIR/kimage-$k"
		cat "$BASE_CPIO" "$MODULES_CPIO" "$OVERLAY" \
			>"$RUNDIR/initrd-$k.img"
		GOOD_KERNELS="$GOOD_KERNELS $k"
	else
		log "KERNEL $k CANNOT RUN: every scenario on it fails"
		for s in $SCENARIOS; do
			echo "$k $s FAIL 0 the $k kernel could not be fetched or prepared" >"$RUNDIR/$k-$s.result"
		done
	fi
done
flock -u 9
T_PREP=$(($(date +%s) - T_START))
log "prepared in ${T_PREP}s; run directory $RUNDIR"

running=0
for k in $GOOD_KERNELS; do
	for s in $SCENARIOS; do
		if [ "$running" -ge "$JOBS" ]; then
			wait -n || true
			running=$((running - 1))
		fi
		log "boot $k $s"
		( boot "$k" "$s"; r=$(cat "$RUNDIR/$k-$s.result"); log "done $r" ) &
		running=$((running + 1))
	done
done
wait

# ------------------------------------------------------------------ report
status=0
echo
printf '%-6s %-16s %-7s %6s  %s\n' KERNEL SCENARIO RESULT WALL-S DETAIL
for k in $KERNELS; do
	for s in $SCENARIOS; do
		read -r _k _s verdict secs detail <"$RUNDIR/$k-$s.result"
		shown=$verdict
		case $XFAIL in
		*" $s "*)
			if [ "$verdict" = FAIL ]; then shown=XFAIL; else shown=XPASS; status=1; fi ;;
		*) [ "$verdict" = PASS ] || status=1 ;;
		esac
		printf '%-6s %-16s %-7s %6s  %s\n' "$k" "$s" "$shown" "$secs" "$detail"
		if [ "$verdict" != PASS ] && [ -e "$RUNDIR/$k-$s.log" ]; then
			grep -a 'DGVM-CHECK FAIL' "$RUNDIR/$k-$s.log" | tr -d '\r' | sed 's/^/         /' | head -15
		fi
	done
done
echo "logs: $RUNDIR (latest per kernel and scenario: $CACHE/logs/latest/)"
echo "total $(($(date +%s) - T_START)) s (preparation ${T_PREP} s)"
if [ "$WRITE_DOC" = 1 ]; then
	"$HERE/mkdoc.sh" "$RUNDIR" >"$SRCROOT/doc/without-daxguard.md" &&
		echo "wrote $SRCROOT/doc/without-daxguard.md"
fi
rm -f "$RUNDIR"/initrd-*.img
# keep the last 10 runs, and every run whose run.sh still runs (its pid
# ends the name): parallel runs (CI's two, a bench beside them) must not
# lose their logs to each other
ls -1d "$CACHE"/runs/*/ 2>/dev/null | head -n -10 | while read -r d; do
	pid=${d%/}
	pid=${pid##*-}
	case $pid in '' | *[!0-9]*) ;; *) kill -0 "$pid" 2>/dev/null && continue ;; esac
	rm -rf "$d"
done
exit $status
