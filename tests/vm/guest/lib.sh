# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the guest scenarios (busybox sh).  Output conventions, read by
# tests/vm/run.sh on the host:
#   DGVM-CHECK PASS|FAIL TEXT   one assertion
#   DGVM-FACT NAME=VALUE        an observation, collected for the docs
#   === TEXT (up Ns)            a step, also written to the kernel log as
#                               "DGVM-MARK TEXT" so dmesg can be cut there

FAILED=0
MNT=/mnt/pmem
LOGS=/tmp/log
mkdir -p "$MNT" "$LOGS" /tmp/ready
: >/tmp/procs

up() { cut -d' ' -f1 /proc/uptime; }

step() {
	echo "=== $* (up $(up)s)"
	echo "DGVM-MARK $*" >/dev/kmsg
}

pass() { echo "DGVM-CHECK PASS $*"; }
fail() {
	echo "DGVM-CHECK FAIL $*"
	FAILED=1
}
# check TEXT CMD...: CMD's exit status decides
check() {
	_text=$1
	shift
	if "$@"; then pass "$_text"; else fail "$_text"; fi
}
# check_eq TEXT EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then
		pass "$1 ($3)"
	else
		fail "$1: expected '$2', got '$3'"
	fi
}
# A setup step that did not work: the scenario cannot go on.
die() {
	echo "DGVM-CHECK FAIL $*"
	exit 1
}
fact() { echo "DGVM-FACT $1=$2"; }
finish() {
	step "end of scenario, failed=$FAILED"
	exit "$FAILED"
}

# ---------------------------------------------------------------- kernel log
# dmesg_since MARK: the kernel log after the step named MARK
dmesg_since() {
	dmesg | awk -v m="DGVM-MARK $1" 'on {print} index($0, m) {on = 1}'
}
# show_dmesg MARK: print it, with the SIGBUS flood folded
show_dmesg() {
	dmesg_since "$1" | awk '
		/Sending SIGBUS|Killing .* due to hardware memory corruption|MCE: Killing/ {
			n++; if (n > 4) next }
		{ print "    dmesg| " $0 }
		END { if (n > 4) printf "    dmesg| [%d more SIGBUS lines folded]\n", n - 4 }'
}
BAD_KERNEL='Oops|BUG:|WARNING:|Call Trace|general protection|Kernel panic|unable to handle'
BAD_FS='[Ss]hut(ting)? ?down|Corruption|corrupt|EXT4-fs error|I/O error|metadata I/O|log I/O|Remounting filesystem read-only|Please unmount'
# the kernel shut a filesystem down
FS_DOWN='[Ss]hut(ting)? ?down|Remounting filesystem read-only'
# kernel_clean MARK: no Oops, warning, shutdown or corruption since MARK
kernel_clean() {
	if dmesg_since "$1" | grep -E "$BAD_KERNEL|$BAD_FS" >/tmp/badlines; then
		sed 's/^/    bad| /' /tmp/badlines | head -20
		return 1
	fi
	return 0
}
# kernel_summary MARK: one line describing what the kernel logged
kernel_summary() {
	_d=$(dmesg_since "$1")
	_s=
	echo "$_d" | grep -q 'Oops' && _s="$_s; Oops(RIP $(echo "$_d" | grep -m1 -oE 'RIP: 0010:[^+ ]+' | sed 's/RIP: 0010://'), $(echo "$_d" | grep -m1 -oE 'BUG: [a-zA-Z ]+' | sed 's/ *$//'))"
	echo "$_d" | grep -qE 'BUG:' && ! echo "$_d" | grep -q 'Oops' && _s="$_s; $(echo "$_d" | grep -m1 -oE 'BUG: [a-zA-Z ]+')"
	echo "$_d" | grep -qE 'WARNING:' && _s="$_s; WARNING($(echo "$_d" | grep -m1 -oE 'WARNING: .* at [^ ]+' | sed 's/.* at //'))"
	echo "$_d" | grep -q 'Call Trace' && ! echo "$_d" | grep -qE 'Oops|WARNING:' &&
		_s="$_s; call-trace($(echo "$_d" | grep -m1 -oE "sysfs: cannot create duplicate filename '[^']*'|proc_dir_entry '[^']*' already registered|kobject_add_internal failed[^,]*" || echo unknown))"
	echo "$_d" | grep -q 'Device is about to be removed' && _s="$_s; pre-remove-notice"
	echo "$_d" | grep -qE 'XFS .*([Ss]hut(ting)? ?down)' && _s="$_s; xfs-shutdown"
	echo "$_d" | grep -qE 'EXT4-fs .*shut ?down' && _s="$_s; ext4-shutdown"
	echo "$_d" | grep -q 'EXT4-fs error' && _s="$_s; ext4-errors"
	echo "$_d" | grep -q 'Remounting filesystem read-only' && _s="$_s; remounted-ro"
	_c=$(echo "$_d" | grep -v 'hardware memory corruption' | grep -m1 -oiE 'corruption of [a-z -]+|corrupt[a-z]*' | sed 's/ *$//')
	[ -n "$_c" ] && _s="$_s; corruption($_c)"
	echo "$_d" | grep -qiE 'I/O error' && _s="$_s; io-errors"
	_n=$(echo "$_d" | grep -cE 'Sending SIGBUS|MCE: Killing|due to hardware memory corruption')
	[ "$_n" -gt 0 ] && _s="$_s; sigbus-lines:$_n"
	echo "${_s#; }" | sed 's/^$/quiet/'
}

# ---------------------------------------------------------------- processes
# spawn NAME CMD...: run CMD in the background, stdout+stderr to
# $LOGS/NAME.log; its pid goes to /tmp/procs and to the variable PID_NAME
spawn() {
	_name=$1
	shift
	"$@" >"$LOGS/$_name.log" 2>&1 &
	eval "PID_$_name=$!"
	echo "$_name $!" >>/tmp/procs
}
pid_of() { eval "echo \$PID_$1"; }
alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
# wait_ready FILE...: every FILE appears within 60 s
wait_ready() {
	for _f in "$@"; do
		_i=0
		while [ ! -e "$_f" ]; do
			_i=$((_i + 1))
			if [ $_i -gt 600 ]; then
				echo "not ready: $_f"
				return 1
			fi
			sleep 0.1
		done
	done
}
# reap NAME...: collect the exit status of every NAME that is gone (not
# in a subshell: only the shell that spawned them can wait for them);
# 143 is SIGTERM, 137 SIGKILL, 135 SIGBUS
reap() {
	for _n in "$@"; do
		[ -e "/tmp/status.$_n" ] && continue
		_p=$(pid_of "$_n")
		alive "$_p" && continue
		wait "$_p" 2>/dev/null
		echo $? >"/tmp/status.$_n"
	done
}
# exit_status NAME: after reap, its status, or "alive"
exit_status() { cat "/tmp/status.$1" 2>/dev/null || echo alive; }
# sigbus_codes NAME: the si_codes NAME logged, sorted, unique, or "none"
sigbus_codes() {
	_c=$(sed -n 's/^SIGBUS pid=[0-9]* code=\([A-Z_]*\).*/\1/p' "$LOGS/$1.log" | sort -u | tr '\n' ',')
	echo "${_c%,}" | sed 's/^$/none/'
}
kill_all_spawned() {
	while read -r _n _p; do
		kill -9 "$_p" 2>/dev/null
	done </tmp/procs
	sleep 0.5
	reap $(cut -d' ' -f1 /tmp/procs)
}

# ---------------------------------------------------------------- devices
# make_fsdax: reconfigure the label-less namespace0.0 as fsdax (pfn, map=dev)
make_fsdax() {
	ndctl create-namespace -f -e namespace0.0 -m fsdax >/tmp/ns.json 2>&1 ||
		{ cat /tmp/ns.json; return 1; }
	wait_ready /dev/pmem0 || return 1
	[ "$(cat /sys/block/pmem0/queue/dax)" = 1 ] || { echo "pmem0 queue/dax is not 1"; return 1; }
	NDDEV=$(basename "$(readlink -f /sys/block/pmem0/device)")
	echo "pmem0 is $NDDEV, $(cat /sys/block/pmem0/size) sectors"
}
# mkfs_mount FS: xfs (rmapbt=1) or ext4 on /dev/pmem0, mounted dax=always
mkfs_mount() {
	case $1 in
	xfs) mkfs.xfs -f -m rmapbt=1,reflink=0 /dev/pmem0 >/tmp/mkfs.log 2>&1 ;;
	xfs_normap) mkfs.xfs -f -m rmapbt=0,reflink=0 /dev/pmem0 >/tmp/mkfs.log 2>&1 ;;
	ext4) mkfs.ext4 -F -q -b 4096 -E lazy_itable_init=0,lazy_journal_init=0 /dev/pmem0 >/tmp/mkfs.log 2>&1 ;;
	*) echo "unknown fs $1"; return 1 ;;
	esac || { cat /tmp/mkfs.log; return 1; }
	mount_dax "${1%_normap}"
}
mount_dax() {
	mount -t "$1" -o dax=always /dev/pmem0 "$MNT" || return 1
	grep " $MNT " /proc/mounts
}
# setup_fs FS: namespace, filesystem, mount, DAX verified on a file
setup_fs() {
	make_fsdax || die "fsdax namespace on namespace0.0"
	mkfs_mount "$1" || die "mkfs and mount $1 with dax=always"
	echo x >"$MNT/.daxcheck"
	check_eq "files on $1 are DAX (STATX_ATTR_DAX)" "dax=1" "$(dgvm-probe statx "$MNT/.daxcheck")"
	rm -f "$MNT/.daxcheck"
}
# fill FILE BYTES: random content written through the filesystem, fsynced
fill() {
	dd if=/dev/urandom of="$1" bs=65536 count=$(($2 / 65536)) 2>/dev/null &&
		xfs_io -c fsync "$1"
}
# dev_offset FILE FILEOFFSET: where FILEOFFSET of FILE is on the device
# (bytes), from FIEMAP; the filesystem spans the whole device
dev_offset() {
	xfs_io -c 'fiemap -v' "$1" | awk -v fo="$2" '
		$1 ~ /^[0-9]+:$/ && $3 != "hole" {
			l = $2; gsub(/\[/, "", l); gsub(/\]/, "", l); gsub(/:/, "", l)
			split(l, a, /\.\./)
			split($3, b, /\.\./)
			s = fo / 512
			if (s >= a[1] + 0 && s <= a[2] + 0) {
				printf "%.0f\n", (b[1] + s - a[1]) * 512; found = 1; exit
			}
		}
		END { if (!found) exit 1 }'
}
# dg_json NAME LABEL ARGS...: daxguard ARGS, its JSON kept in
# /tmp/NAME.json and shown with its stderr; "LABEL exit status" must be 0
dg_json() {
	_n=$1 _l=$2
	shift 2
	daxguard "$@" >"/tmp/$_n.json" 2>"/tmp/$_n.err"
	_rc=$?
	cat "/tmp/$_n.json"
	sed 's/^/    stderr| /' "/tmp/$_n.err"
	check_eq "$_l exit status" 0 "$_rc"
}
# json FILE JQ-FILTER
json() { jq -r "$2" "$1"; }
# json_vars FILE JQ-FILTER: the filter prints NAME=VALUE lines (one line
# each); they become shell variables J_NAME.  One jq run: jq takes 1.5 s
# to start under TCG.
json_vars() {
	jq -r "$2" "$1" >/tmp/jv || return 1
	while IFS='=' read -r _k _v; do
		eval "J_$_k=\$_v"
	done </tmp/jv
}

# ---------------------------------------------------------------- workload
# The pre-remove workload of the remove and unbind scenarios, on $MNT/data:
#   rw      shared-rw MAP_SYNC mapping of maprw.bin, fills it through the
#           mapping, rewrites a byte of every page every 500 ms
#   ro      shared-ro mapping of mapro.bin, reads it every 500 ms
#   priv    private-ro mapping of the first MiB of mapro.bin, reads it
#   writer  appends checksummed 4 KiB records to log.bin with write(2)
#   unsync  dg-mapper: wrote unsynced.bin (no fsync) and keeps the fd
#   holder  dg-mapper: cwd in data/, holds static.bin open
# static.bin is written and fsynced before anyone starts.
WORKLOAD_ROLES="rw ro priv writer unsync holder"
workload_start() {
	mkdir -p "$MNT/data" || return 1
	fill "$MNT/data/static.bin" $((4 << 20)) || return 1
	fill "$MNT/data/maprw.bin" $((4 << 20)) || return 1
	fill "$MNT/data/mapro.bin" $((4 << 20)) || return 1
	spawn rw dgvm-probe -r /tmp/ready/rw map "$MNT/data/maprw.bin" 0 0 shared-rw 500
	spawn ro dgvm-probe -r /tmp/ready/ro map "$MNT/data/mapro.bin" 0 0 shared-ro 500
	spawn priv dgvm-probe -r /tmp/ready/priv map "$MNT/data/mapro.bin" 0 $((1 << 20)) private-ro 500
	spawn writer dgvm-probe -r /tmp/ready/writer writer "$MNT/data/log.bin"
	spawn unsync dg-mapper -r /tmp/ready/unsync write:"$MNT/data/unsynced.bin":3000000
	spawn holder dg-mapper -r /tmp/ready/holder cwd:"$MNT/data" hold:"$MNT/data/static.bin"
	wait_ready /tmp/ready/rw /tmp/ready/ro /tmp/ready/priv /tmp/ready/writer \
		/tmp/ready/unsync /tmp/ready/holder || return 1
	grep -q map_sync=1 "$LOGS/rw.log" || { echo "rw mapping is not MAP_SYNC"; return 1; }
	sleep 1
	# what reached the filesystem before the release starts
	(cd "$MNT/data" && sha256sum static.bin maprw.bin mapro.bin unsynced.bin) >/tmp/sums || return 1
	WRITER_MIN=$(($(stat -c %s "$MNT/data/log.bin") / 4096))
	echo "checksums taken; the writer has $WRITER_MIN records"
}
# workload_data: "N/4 files intact, writer N records (M before)" after a
# remount; returns 0 when all is intact
workload_data() {
	_ok=$(cd "$MNT/data" 2>/dev/null && sha256sum -c /tmp/sums 2>/dev/null | grep -c ': OK$')
	_bad=$(cd "$MNT/data" 2>/dev/null && sha256sum -c /tmp/sums 2>&1 | grep -v ': OK$' | sed 's/^/    /')
	[ -n "$_bad" ] && echo "$_bad" >&2
	_w=$(dgvm-probe verify "$MNT/data/log.bin" "$WRITER_MIN" 2>&1)
	_wrc=$?
	echo "$_w" | sed 's/^/    /' >&2
	_recs=$(echo "$_w" | sed -n 's/^records //p' | tail -1)
	[ -n "$_recs" ] || _recs="unreadable"
	echo "${_ok:-0}/4 files intact; writer log ${_recs} records (${WRITER_MIN} before the release)$([ $_wrc = 0 ] || echo ', DAMAGED or SHORT')"
	[ "${_ok:-0}" = 4 ] && [ $_wrc = 0 ]
}
# role_outcome ROLE: what happened to a workload process, after it is gone
role_outcome() {
	_st=$(exit_status "$1")
	case $_st in
	alive) _how="alive" ;;
	143) _how="SIGTERM" ;;
	137) _how="SIGKILL" ;;
	135) _how="died of SIGBUS" ;;
	0) _how="exit 0" ;;
	*) _how="status $_st" ;;
	esac
	echo "$_how; SIGBUS codes: $(sigbus_codes "$1")"
}
# fs_check FS: read-only consistency check of the unmounted /dev/pmem0
fs_check() {
	case $1 in
	xfs*) timeout 60 xfs_repair -n /dev/pmem0 >/tmp/fsck.log 2>&1 ;;
	ext4) timeout 60 e2fsck -fn /dev/pmem0 >/tmp/fsck.log 2>&1 ;;
	esac
	_rc=$?
	[ $_rc = 0 ] || tail -15 /tmp/fsck.log | sed 's/^/    fsck| /'
	return $_rc
}

# remount_check FS: mount /dev/pmem0 again (dax=always); when that fails
# (an earlier unmount died and left its sysfs entry), through a loop
# device on it.  Prints how; returns 1 when nothing could be mounted.
remount_check() {
	if timeout 30 mount -t "$1" -o dax=always /dev/pmem0 "$MNT" >/tmp/mount.log 2>&1; then
		echo "remounted /dev/pmem0"
		return 0
	fi
	_why=$(head -1 /tmp/mount.log)
	# XFS refuses a second mount of the same UUID while the dead one lingers
	_opt=
	[ "$1" = xfs ] && _opt="-o nouuid"
	if _loop=$(losetup -f 2>/dev/null) && losetup "$_loop" /dev/pmem0 &&
		timeout 30 mount -t "$1" $_opt "$_loop" "$MNT" >/tmp/mount.log 2>&1; then
		echo "mounting /dev/pmem0 failed ($_why); mounted through $_loop"
		return 0
	fi
	echo "mounting /dev/pmem0 failed ($_why); through a loop device too ($(head -1 /tmp/mount.log))"
	return 1
}
remount_release() {
	timeout 20 umount "$MNT"
	_loop=$(losetup -a 2>/dev/null | grep -m1 pmem0 | cut -d: -f1)
	[ -n "$_loop" ] && losetup -d "$_loop"
	return 0
}
