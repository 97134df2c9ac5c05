#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# scripts/package-test.sh: the Debian packages end to end, as root, on a
# Debian 12 system without daxguard's build dependencies.  CI runs it first
# thing in a fresh chroot (scripts/fresh-chroot.sh), before scripts/deps.sh:
#
#  1. build: `apt-get build-dep ./` installs debian/control's Build-Depends
#     and nothing else, and `dpkg-buildpackage -us -uc -b` builds with them;
#  2. lintian --profile debian on the binary packages and the source
#     package: no error and no warning (an override says why);
#  3. `apt-get install ./daxguard_*.deb ./libdaxguard1_*.deb`, and their
#     Depends are exact: each names the package of every library the
#     package's programs and libraries link, and nothing else;
#  4. the installed /usr/sbin/daxguard runs the demo's who, fail and remove
#     flow on a loop device (demo/demo.sh checks every step), and
#     bash-completion loads the installed completion, which offers the
#     commands, a loop device and its mountpoint;
#  5. a C program built against the installed libdaxguard-dev with
#     `pkg-config --cflags --libs libdaxguard` asks `who` about a block of
#     a file that a process maps, and checks the answer (tests/pkg); it
#     needs no header beyond libdaxguard-dev's and the C library's, so the
#     -dev package's one Depends (libdaxguard1) is all it needs;
#  6. `apt-get purge` of the three packages leaves none of the files and
#     directories `dpkg -L` listed (a directory may stay only if another
#     package owns it);
#  7. whatever this script installed is purged again, so that what runs
#     next in the same system (CI: the test pass, after scripts/deps.sh)
#     finds only what it installs itself.  DG_PKG_RESTORE=deps keeps what
#     scripts/deps.sh would install (and what that needs), which is as
#     good for that and saves both the purge and deps.sh much work (CI
#     wants this); DG_PKG_RESTORE=no keeps everything.
#
# One line per step on the terminal; each step's output goes to
# out/package-test/STEP.log (fresh-chroot.sh copies /src/out back).
# Exits non-zero on any failure.  Everything it makes (build tree, loop
# device, mounts, processes) is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
SRC=$PWD

if [ "$(id -u)" -ne 0 ]; then
	echo "package-test.sh: run as root: it installs packages and attaches a loop device" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
LOGS=${DG_PKG_LOGS:-$SRC/out/package-test}
rm -rf "$LOGS"
mkdir -p "$LOGS"
t_start=$SECONDS
pkgs=(daxguard libdaxguard1 libdaxguard-dev)
version=$(sed -n '1s/^daxguard (\([^)]*\)).*/\1/p' debian/changelog)
[ -n "$version" ] || { echo "package-test.sh: no version in debian/changelog" >&2; exit 1; }
upstream=${version%-*}

work=$(mktemp -d /var/tmp/daxguard-pkg.XXXXXX)
tree=$work/daxguard-$upstream
dev='' mapper_pid='' restored=0
dpkg-query -W -f='${Package}\n' | LC_ALL=C sort >"$work/packages.before"

# restore: purge the packages this script installed.  With
# DG_PKG_RESTORE=deps, keep those that scripts/deps.sh installs anyway (and
# what they need): CI runs deps.sh next, which then has less to do, and
# still finds nothing that it would not install itself.
restore() {
	local extra keep

	extra=$(newly_installed)
	if [ "${DG_PKG_RESTORE:-yes}" = deps ] && [ -n "$extra" ]; then
		# shellcheck disable=SC2046 # one package a word
		keep=$(apt-cache depends --recurse --installed --no-recommends --no-suggests \
			--no-conflicts --no-breaks --no-replaces --no-enhances \
			$(bash "$SRC/scripts/deps.sh" --list | LC_ALL=C sort -u |
				LC_ALL=C comm -12 - <(printf '%s\n' "$extra")) 2>/dev/null |
			grep -v '^[ <]' | sed 's/:.*//' | LC_ALL=C sort -u)
		extra=$(LC_ALL=C comm -23 <(printf '%s\n' "$extra") <(printf '%s\n' "$keep"))
		printf '%s\n' "$keep" | sed '/^$/d' >"$work/packages.kept"
	fi
	# shellcheck disable=SC2086 # one package a word
	[ -z "$extra" ] || apt_get purge "${APT_OPTS[@]}" $extra >>"$LOGS/restore.log" 2>&1
	restored=1
}
cleanup() {
	local rc=$?

	set +e
	[ -z "$mapper_pid" ] || { kill -KILL "$mapper_pid"; wait "$mapper_pid"; } 2>/dev/null
	if mountpoint -q "$work/mnt" 2>/dev/null; then
		umount "$work/mnt" 2>/dev/null || umount -l "$work/mnt"
	fi
	[ -z "$dev" ] || losetup -d "$dev" 2>/dev/null
	[ $restored = 1 ] || [ "${DG_PKG_RESTORE:-yes}" = no ] || restore >/dev/null 2>&1
	rm -rf --one-file-system "$work"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# step NAME WHAT COMMAND...: COMMAND's output to $LOGS/NAME.log, one line here
step() {
	local name=$1 what=$2 t0=$SECONDS

	shift 2
	printf '%-52s ' "$what..."
	if "$@" >"$LOGS/$name.log" 2>&1 </dev/null; then
		echo "done, $((SECONDS - t0)) s"
	else
		echo "FAILED after $((SECONDS - t0)) s; the end of $LOGS/$name.log:"
		tail -n 30 "$LOGS/$name.log" | sed 's/^/    /'
		exit 1
	fi
}
# dpkg need not fsync what a test installs: an interrupted run is redone.
# A chroot of scripts/fresh-chroot.sh shares the host's package cache, and
# apt does not wait for its lock: apt_get waits up to two minutes.
APT_OPTS=(-y -qq -o Dpkg::Options::=--force-unsafe-io -o DPkg::Lock::Timeout=120)
apt_get() {
	local i out rc

	for i in $(seq 60); do
		rc=0
		out=$(apt-get "$@" 2>&1) || rc=$?
		printf '%s\n' "$out"
		[ $rc -ne 0 ] && grep -q '^E: Could not get lock' <<<"$out" || return $rc
		echo "(apt's lock is held: try $i of 60, again in 2 s)"
		sleep 2
	done
	return 1
}
apt_install() { apt_get install "${APT_OPTS[@]}" --no-install-recommends "$@"; }
newly_installed() { # the packages installed since packages.before
	dpkg-query -W -f='${Package}\n' | LC_ALL=C sort | LC_ALL=C comm -13 "$work/packages.before" -
}

# --------------------------------------------------------------- build
# a copy of the tree: the build's files and the .debs stay out of it
mkdir -p "$tree"
tar -C "$SRC" --exclude=./out --exclude='./build*' --exclude='./obj-*' --exclude=./.git \
	-cf - . | tar -C "$tree" -xf -
# man-db (debhelper pulls it in) would rebuild its index at every install
# and removal here: many seconds each, for pages nobody reads
echo 'man-db man-db/auto-update boolean false' | debconf-set-selections
step apt-update "apt-get update" apt_get update -qq
builddep() { (cd "$tree" && apt_get build-dep "${APT_OPTS[@]}" ./); }
step build-dep "installing the Build-Depends (apt-get build-dep)" builddep
n_builddeps=$(newly_installed | wc -l)
# the source package too, for lintian's source checks: the upstream
# tarball is the tree without debian/
source_pkg() {
	tar -C "$work" --exclude="daxguard-$upstream/debian" \
		-cJf "$work/daxguard_$upstream.orig.tar.xz" "daxguard-$upstream"
	(cd "$tree" && dpkg-source -b .)
}
step source "the source package (dpkg-source -b)" source_pkg
step build "building (dpkg-buildpackage -us -uc -b)" \
	bash -c "cd '$tree' && dpkg-buildpackage -us -uc -b"
cp "$work"/*.changes "$work"/*.buildinfo "$LOGS/"

# --------------------------------------------------------------- lintian
# after the build: it must see the Build-Depends alone
step tools "installing lintian, xfsprogs, jq, bash-completion" \
	apt_install lintian xfsprogs jq bash-completion
lint() {
	# (lintian 2.116 fails --fail-on with --show-overrides even when every
	# tag shown is overridden: the overrides are listed from the files)
	lintian --profile debian --display-info --fail-on error,warning \
		"$work/daxguard_$version.dsc" "$work"/daxguard_"${version}"_*.changes
}
step lintian "lintian --profile debian" lint
lint_summary=$(awk '/^E: / { e++ } /^W: / { w++ } /^I: / { i++ }
	END { printf "%d errors, %d warnings, %d info", e, w, i }' "$LOGS/lintian.log")
overrides=$(cat debian/*.lintian-overrides | sed -n 's/^\([a-z][a-z0-9-]*\).*/\1/p' |
	LC_ALL=C sort | uniq -c | awk '{ printf "%s%s (%d packages)", n++ ? ", " : "", $2, $1 }')
[ -z "$overrides" ] || lint_summary+="; overridden with a reason: $overrides"

# --------------------------------------------------------------- install
debs=()
for p in "${pkgs[@]}"; do
	debs+=("$(ls "$work/${p}_${version}"_*.deb)")
done
# apt wants a path with a slash for a local .deb
step install "apt-get install ./daxguard_*.deb ./libdaxguard1_*.deb" \
	apt_install "${debs[0]}" "${debs[1]}"
first=$(/usr/sbin/daxguard --version | head -1)
[ "$first" = "daxguard $upstream" ] || {
	echo "package-test.sh: /usr/sbin/daxguard --version says '$first'" >&2
	exit 1
}
/usr/sbin/daxguard --version >>"$LOGS/install.log"
# the watch daemon's unit: installed, runs the installed daxguard, and is
# left for the administrator to enable (debian/rules)
unit=/lib/systemd/system/daxguard-watch.service
grep -qx 'ExecStart=/usr/sbin/daxguard watch' "$unit" ||
	{ echo "package-test.sh: $unit: no ExecStart=/usr/sbin/daxguard watch" >&2; exit 1; }
if [ -e /etc/systemd/system/multi-user.target.wants/daxguard-watch.service ]; then
	echo "package-test.sh: daxguard-watch.service was enabled by the install" >&2
	exit 1
fi

# owner_of PATH: the package that installed PATH; with /usr merged, dpkg
# may know it under the other name (/lib/... for /usr/lib/...)
owner_of() {
	local p

	for p in "$1" "${1#/usr}" "/usr$1" "$(readlink -f "$1")"; do
		dpkg-query -S "$p" 2>/dev/null | sed -n '1s/[:,].*//p' | grep . && return 0
	done
	echo "?$1"
}
# depends_exact PACKAGE: its Depends name exactly the packages of the
# libraries its ELF files link (what dpkg-shlibdeps should have found)
depends_exact() {
	local pkg=$1 f want got

	want=$(dpkg -L "$pkg" | while read -r f; do
		if [ ! -f "$f" ] || [ -L "$f" ] || [ "$(head -c 4 "$f" | tail -c 3)" != ELF ]; then
			continue
		fi
		# the path ldd resolves each NEEDED library to
		ldd "$f" | awk -v needed="$(objdump -p "$f" | awk '$1 == "NEEDED" { print $2 }')" '
			BEGIN { n = split(needed, l, "\n"); for (i = 1; i <= n; i++) want[l[i]] = 1 }
			$2 == "=>" && ($1 in want) { print $3 }'
	done | LC_ALL=C sort -u | while read -r f; do
		owner_of "$f"
	done | LC_ALL=C sort -u)
	got=$(dpkg-query -W -f='${Pre-Depends}, ${Depends}' "$pkg" | tr ',' '\n' |
		sed 's/^ *//; s/[ (:].*//; /^$/d' | LC_ALL=C sort -u)
	echo "$pkg: links ${want//$'\n'/ }; depends on ${got//$'\n'/ }"
	[ "$want" = "$got" ]
}
depends() { depends_exact daxguard && depends_exact libdaxguard1; }
step depends "Depends: exactly what the programs link" depends

# --------------------------------------------------------------- use
mapper=$(ls "$tree"/obj-*/tests/dg-mapper)
step demo "who, fail and remove with /usr/sbin/daxguard (demo)" \
	env DAXGUARD=/usr/sbin/daxguard DG_MAPPER="$mapper" bash "$SRC/demo/demo.sh"

# a loop-device XFS with a file that a process maps, for completion and
# the consumer
truncate -s 512M "$work/fs.img"
dev=$(losetup --find --show "$work/fs.img")
mkfs.xfs -q "$dev"
mkdir "$work/mnt"
mount "$dev" "$work/mnt"
head -c 1M /dev/urandom >"$work/mnt/data"
sync -f "$work/mnt"
"$mapper" -r "$work/ready" "map:$work/mnt/data:0:1048576:shared-ro" >/dev/null &
mapper_pid=$!
for _ in $(seq 100); do [ -e "$work/ready" ] && break; sleep 0.05; done
[ -e "$work/ready" ] || { echo "package-test.sh: dg-mapper did not start" >&2; exit 1; }

completion() {
	# as an interactive shell gets it: bash-completion's loader finds the
	# installed file the first time daxguard is completed
	bash --norc --noprofile -c '
		. /usr/share/bash-completion/bash_completion
		complete -p daxguard 2>/dev/null && { echo "loaded before it was asked for"; exit 1; }
		__load_completion daxguard || { echo "bash-completion did not find it"; exit 1; }
		complete -p daxguard
		comp() {
			COMP_WORDS=(daxguard "$@"); COMP_CWORD=$#
			COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; COMPREPLY=()
			_daxguard daxguard "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
			printf "%s\n" "${COMPREPLY[@]}" | sort | paste -sd" "
		}
		fail=0
		got=$(comp ""); echo "daxguard <TAB>: $got"
		for c in who fail remove; do [[ " $got " == *" $c "* ]] || fail=1; done
		got=$(comp who ""); echo "daxguard who <TAB>: $got"
		for t in "$1" "$2"; do [[ " $got " == *" $t "* ]] || { echo "no $t"; fail=1; }; done
		got=$(comp who --rmap ""); echo "daxguard who --rmap <TAB>: $got"
		[[ $got == *xfs-rmapbt* ]] || fail=1
		exit $fail' sh "$dev" "$work/mnt"
}
step completion "bash completion, installed and loaded on demand" completion

consumer() {
	local f owners

	apt_install "${debs[2]}"
	pkg-config --print-requires --print-requires-private libdaxguard | grep . &&
		{ echo "libdaxguard.pc requires other modules: their -dev packages would be Depends"; return 1; }
	# shellcheck disable=SC2046 # pkg-config's words
	gcc -Wall -Wextra -Werror -o "$work/consumer" "$SRC/tests/pkg/consumer.c" \
		$(pkg-config --cflags --libs libdaxguard)
	ldd "$work/consumer" | grep libdaxguard.so.1
	# every header it reads is libdaxguard-dev's or the C library's
	# (and the compiler's): libdaxguard-dev needs no other -dev package
	# shellcheck disable=SC2046 # pkg-config's words
	owners=$(gcc -M $(pkg-config --cflags libdaxguard) "$SRC/tests/pkg/consumer.c" |
		sed 's/[ \\]/\n/g' | grep '^/' | grep -v 'consumer.c$' | while read -r f; do
			owner_of "$f"
		done | LC_ALL=C sort -u | paste -sd' ')
	echo "headers from: $owners"
	for f in $owners; do
		case $f in
		libdaxguard-dev | libc6-dev | linux-libc-dev | libgcc-*-dev) ;;
		*) echo "consumer.c reads a header of $f"; return 1 ;;
		esac
	done
	# the device offset of the file's page at 512 KiB, from FIEMAP
	local phys
	phys=$(xfs_io -r -c fiemap "$work/mnt/data" | awk -v want=1024 '
		/^[ \t]*[0-9]+:/ {
			split($2, f, /[][.:]+/); split($3, p, /[.:]+/)
			if (want >= f[2] && want <= f[3]) { print (p[1] + want - f[2]) * 512; exit }
		}')
	"$work/consumer" "$dev" "$phys" "$work/mnt/data" "$mapper_pid"
}
step consumer "a pkg-config consumer of libdaxguard-dev asks who" consumer

{ kill -KILL "$mapper_pid" && wait "$mapper_pid"; } 2>/dev/null || true
mapper_pid=''
umount "$work/mnt"
losetup -d "$dev"
dev=

# --------------------------------------------------------------- purge
dpkg -L "${pkgs[@]}" | LC_ALL=C sort -u >"$work/files"
sizes=$(for d in "${debs[@]}"; do
	printf '%s %s KiB (%s KiB installed); ' "$(dpkg-deb -f "$d" Package)" \
		$(( $(stat -c %s "$d") / 1024 )) "$(dpkg-deb -f "$d" Installed-Size)"
done)
purge() {
	local f left=0 files=0 dirs=0

	apt_get purge "${APT_OPTS[@]}" "${pkgs[@]}"
	while read -r f; do
		[ "$f" != /. ] || continue
		if [ -d "$f" ] && [ ! -L "$f" ]; then
			dirs=$((dirs + 1))
		else
			files=$((files + 1))
		fi
		[ -e "$f" ] || [ -L "$f" ] || continue
		# what stays must be another package's: /usr/share/man, the
		# /lib of a merged /usr
		dpkg-query -S "$f" >/dev/null 2>&1 && continue
		echo "left: $f (no package owns it)"
		left=$((left + 1))
	done <"$work/files"
	# nor what the maintainer scripts made (unit state, symlinks)
	while read -r f; do
		echo "left: $f (made by a maintainer script?)"
		left=$((left + 1))
	done < <(find /etc /var/lib /lib/systemd /usr -name '*daxguard*' 2>/dev/null)
	for p in "${pkgs[@]}"; do
		if dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q .; then
			echo "dpkg still knows $p: $(dpkg-query -W -f='${Status}' "$p")"
			left=$((left + 1))
		fi
	done
	echo "$files files, $dirs directories checked; $left left"
	[ $left -eq 0 ]
}
step purge "apt-get purge, then nothing of theirs is left" purge
purge_summary=$(tail -1 "$LOGS/purge.log")

n_new=$(newly_installed | wc -l)
case ${DG_PKG_RESTORE:-yes} in
no)
	restore_summary="the $n_new packages it installed kept (DG_PKG_RESTORE=no)" ;;
deps)
	: >"$work/packages.kept"
	step restore "purging what it installed that deps.sh would not" restore
	left=$(LC_ALL=C comm -23 <(newly_installed) "$work/packages.kept")
	if [ -n "$left" ]; then
		echo "package-test.sh: still installed: $(paste -sd' ' <<<"$left")" >&2
		exit 1
	fi
	restore_summary="$((n_new - $(wc -l <"$work/packages.kept"))) of the $n_new packages it installed purged; $(wc -l <"$work/packages.kept") kept that deps.sh installs anyway (DG_PKG_RESTORE=deps)" ;;
*)
	step restore "purging the $n_new packages this test installed" restore
	if [ -n "$(newly_installed)" ]; then
		echo "package-test.sh: still installed: $(newly_installed | paste -sd' ')" >&2
		exit 1
	fi
	restore_summary="the $n_new packages it installed purged again" ;;
esac

cat <<EOF
== package test: daxguard $version, passed in $((SECONDS - t_start)) s
  Build-Depends: $n_builddeps packages installed by apt-get build-dep; built with them alone
  lintian: $lint_summary
  packages: ${sizes%; }
  Depends: $(grep -h ': links' "$LOGS/depends.log" | sed 's/: links.*depends on /: /' | paste -sd';' | sed 's/;/; /g')
  demo flow with /usr/sbin/daxguard, completion, pkg-config consumer: passed
  purge: $purge_summary
  system: $restore_summary
  logs: $LOGS
EOF
