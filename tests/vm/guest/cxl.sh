# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the cxl-* scenarios after lib.sh: the CXL type-3 devices that
# run.sh's machine_args gives them (two, serials 0x1 and 0x2, on one host
# bridge), regions and namespaces on them.

# cxl_wait_memdevs N: N memdevs with their endpoint decoders, within 30 s
cxl_wait_memdevs() {
	_i=0
	while [ "$(ls -d /sys/bus/cxl/devices/endpoint* 2>/dev/null | wc -l)" -lt "$1" ] ||
		[ ! -e /sys/bus/cxl/devices/decoder0.0 ]; do
		_i=$((_i + 1))
		[ $_i -gt 300 ] && { ls /sys/bus/cxl/devices/; return 1; }
		sleep 0.1
	done
}
# cxl_memdev_of SERIAL: the memdev name (mem0, mem1) with that serial
cxl_memdev_of() {
	for _m in /sys/bus/cxl/devices/mem*; do
		[ "$(cat "$_m/serial")" = "$1" ] && { basename "$_m"; return 0; }
	done
	return 1
}
# cxl_region WAYS GRANULARITY MEMDEV...: a pmem region, committed; its
# name in REGION
cxl_region() {
	_w=$1 _g=$2
	shift 2
	cxl create-region -m -d decoder0.0 -t pmem -w "$_w" -g "$_g" "$@" >/tmp/region.json 2>/tmp/region.err ||
		{ cat /tmp/region.err /tmp/region.json; return 1; }
	REGION=$(jq -r '.region' /tmp/region.json)
	echo "made $REGION: $(jq -c '{resource, size, interleave_ways, interleave_granularity}' /tmp/region.json)"
	[ -n "$REGION" ] && [ "$REGION" != null ]
}
# cxl_nd_region: the nd region of the CXL region $REGION (same resource)
cxl_nd_region() {
	_res=$(cat "/sys/bus/cxl/devices/$REGION/resource")
	for _r in /sys/bus/nd/devices/region*; do
		[ "$(cat "$_r/resource" 2>/dev/null)" = "$_res" ] && { basename "$_r"; return 0; }
	done
	return 1
}
# cxl_namespace SIZE: an fsdax namespace of SIZE (or all that is left) on
# the nd region of $REGION; its block device in BLK
cxl_namespace() {
	_nd=$(cxl_nd_region) || { echo "no nd region for $REGION"; ls /sys/bus/nd/devices; return 1; }
	ndctl create-namespace -r "$_nd" -m fsdax ${1:+-s "$1"} >/tmp/ns.json 2>&1 ||
		{ cat /tmp/ns.json; return 1; }
	BLK=/dev/$(jq -r '.blockdev' /tmp/ns.json)
	wait_ready "$BLK" || return 1
	echo "made $(jq -r '.dev' /tmp/ns.json) on $_nd: $BLK, $(jq -r '.size' /tmp/ns.json) bytes"
}
# cxl_record_sysfs: the CXL and nd objects, as DGVM-SYSFS lines
# ("link PATH TARGET" and "attr PATH VALUE"), for the fixtures of the
# topology unit test (tests/fixtures/sysfs/*-cxl*)
cxl_record_sysfs() {
	for _d in /sys/bus/cxl/devices/* /sys/bus/nd/devices/* /sys/bus/dax/devices/*; do
		[ -e "$_d" ] || continue
		echo "DGVM-SYSFS link $_d $(readlink "$_d")"
		_real=$(readlink -f "$_d")
		for _a in "$_real"/*; do
			[ -f "$_a" ] && [ -r "$_a" ] || continue
			case ${_a##*/} in
			uevent|modalias|label_storage_size|firmware*|*cdat*|security*|fw_*|payload_max|sanitize|erase) continue ;;
			esac
			_v=$(timeout 2 head -c 200 "$_a" 2>/dev/null | head -1)
			echo "DGVM-SYSFS attr $_a $_v"
		done
		for _l in "$_real"/target* "$_real"/uport "$_real"/dport* "$_real"/driver; do
			[ -L "$_l" ] && echo "DGVM-SYSFS link $_l $(readlink "$_l")"
		done
	done
	for _b in /sys/block/pmem*; do
		[ -e "$_b" ] || continue
		echo "DGVM-SYSFS link /sys/dev/block/$(cat "$_b/dev") $(readlink "/sys/dev/block/$(cat "$_b/dev")")"
		echo "DGVM-SYSFS attr $(readlink -f "$_b")/dev $(cat "$_b/dev")"
		echo "DGVM-SYSFS attr $(readlink -f "$_b")/size $(cat "$_b/size")"
	done
}

# cxl_fs TAG FS SIZE: a namespace of SIZE (empty: the rest) with FS on it,
# mounted dax=always on /mnt/TAG; its device in DEV_TAG
cxl_fs() {
	cxl_namespace "$3" || return 1
	mkdir -p "/mnt/$1"
	case $2 in
	xfs) mkfs.xfs -f -m rmapbt=1,reflink=0 "$BLK" >/tmp/mkfs.log 2>&1 ;;
	ext4) mkfs.ext4 -F -q -b 4096 -E lazy_itable_init=0,lazy_journal_init=0 "$BLK" >/tmp/mkfs.log 2>&1 ;;
	esac || { cat /tmp/mkfs.log; return 1; }
	mount -t "$2" -o dax=always "$BLK" "/mnt/$1" || return 1
	eval "DEV_$1=$BLK FS_$1=$2"
	echo x >"/mnt/$1/.daxcheck"
	[ "$(dgvm-probe statx "/mnt/$1/.daxcheck")" = dax=1 ] || { echo "/mnt/$1 is not DAX"; return 1; }
	rm -f "/mnt/$1/.daxcheck"
}
# cxl_workload TAG: on /mnt/TAG, roles TAGrw (shared-rw MAP_SYNC mapping,
# rewritten every 500 ms), TAGwriter (checksummed records with write(2)),
# TAGholder (cwd there, a file open); checksums of what reached the
# filesystem in /tmp/sums.TAG, the writer's count in WMIN_TAG
cxl_workload() {
	_m=/mnt/$1
	mkdir -p "$_m/data" || return 1
	fill "$_m/data/static.bin" $((2 << 20)) || return 1
	fill "$_m/data/maprw.bin" $((2 << 20)) || return 1
	spawn "$1rw" dgvm-probe -r "/tmp/ready/$1rw" map "$_m/data/maprw.bin" 0 0 shared-rw 500
	spawn "$1writer" dgvm-probe -r "/tmp/ready/$1writer" writer "$_m/data/log.bin"
	spawn "$1holder" dg-mapper -r "/tmp/ready/$1holder" cwd:"$_m/data" hold:"$_m/data/static.bin"
	wait_ready "/tmp/ready/$1rw" "/tmp/ready/$1writer" "/tmp/ready/$1holder" || return 1
	grep -q map_sync=1 "$LOGS/$1rw.log" || { echo "$1rw is not MAP_SYNC"; return 1; }
}
# cxl_sums TAG: what reached the filesystem, taken once the workload runs
cxl_sums() {
	(cd "/mnt/$1/data" && sha256sum static.bin maprw.bin) >"/tmp/sums.$1" || return 1
	eval "WMIN_$1=$(($(stat -c %s "/mnt/$1/data/log.bin") / 4096))"
}
# cxl_data TAG: "2/2 files intact; writer log N records (M before)"
cxl_data() {
	_ok=$(cd "/mnt/$1/data" 2>/dev/null && sha256sum -c "/tmp/sums.$1" 2>/dev/null | grep -c ': OK$')
	eval "_min=\$WMIN_$1"
	_w=$(dgvm-probe verify "/mnt/$1/data/log.bin" "$_min" 2>&1)
	_wrc=$?
	_recs=$(echo "$_w" | sed -n 's/^records //p' | tail -1)
	echo "${_ok:-0}/2 files intact; writer log ${_recs:-unreadable} records ($_min before the release)$([ $_wrc = 0 ] || echo ', DAMAGED or SHORT')"
	[ "${_ok:-0}" = 2 ] && [ $_wrc = 0 ]
}
