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
