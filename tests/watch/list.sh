#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# daxguard list on loop devices (the real-DAX side, namespaces and modes
# against ndctl list, is the QEMU tier's watch-xfs):
#  - without --all no loop device is listed; with --all the test's is,
#    with its size, its backing file as identity, not DAX-capable;
#  - its filesystem and mount, and the mount's DAX mode ("no": the
#    device cannot do DAX);
#  - the users: exactly the processes that map, hold or stand on it;
#  - no badblocks list (loop devices keep none); -o, -r, -n work, and an
#    unknown column or argument is a usage error.
#
# Usage: list.sh

# shellcheck source-path=SCRIPTDIR source=lib-watch.sh
. "$(dirname "$0")/lib-watch.sh"

dg_act_init
dg_setup_fs xfs-rmap
head -c 65536 /dev/urandom >"$MNT/f" || dg_fail "write"
sync -f "$MNT"
dg_spawn_mapper "map:$MNT/f:0:4096:shared-ro"
dg_spawn_mapper "hold:$MNT/f"
dg_spawn_mapper "cwd:$MNT"

dg_run "$DAXGUARD" list -J
dg_expect_eq "list: exit status" 0 "$DG_RC"
dg_json_ok "list -J"
dg_expect_eq "without --all, $DEV is not listed" 0 \
	"$(dg_jq --arg d "$DEV" '[.devices[] | select(.device == $d)] | length')"

dg_run "$DAXGUARD" list --all -J
dg_expect_eq "list --all: exit status" 0 "$DG_RC"
dg_json_ok "list --all -J"
DG_JSON=$(jq -c --arg d "$DEV" '.devices[] | select(.device == $d)' <<<"$DG_JSON")
dg_expect_eq "list --all: $DEV, its kind, size, identity, DAX" \
	"{\"kind\":\"loop\",\"size\":$(blockdev --getsize64 "$DEV"),\"identity\":\"loop:$IMG\",\"dax\":false,\"backing_file\":\"$IMG\"}" \
	"$(dg_jq '{kind, size, identity, dax, backing_file}')"
dg_expect_eq "its filesystem and mount, DAX 'no'" \
	"[{\"device\":\"$DEV\",\"fstype\":\"xfs\",\"mounts\":[{\"target\":\"$MNT\",\"dax\":\"no\"}]}]" \
	"$(dg_jq '[.filesystems[] | {device, fstype, mounts: [.mounts[] | {target, dax}]}]')"
dg_expect_eq "the users: the mapper, the fd holder, the cwd" 3 "$(dg_jq '.users')"
dg_expect_eq "no badblocks list on a loop device" null "$(dg_jq '.badblocks')"

dg_run "$DAXGUARD" list --all -r -n -o NAME,KIND,FSTYPE,MOUNTPOINT,USERS
dg_expect_eq "list -r -n -o: exit status" 0 "$DG_RC"
dg_expect_eq "list -r -n -o: the device line, then its mount" \
	"${DEV#/dev/} loop   3;${DEV#/dev/}  xfs $MNT " \
	"$(grep -m1 -A1 "^${DEV#/dev/} " <<<"$DG_OUT" | paste -sd';')"

dg_run "$DAXGUARD" list -o NAME,NOPE
dg_expect_eq "an unknown column: usage error" 2 "$DG_RC"
dg_assert_match "an unknown column: named" "unknown column: NOPE" "$DG_ERR"
dg_run "$DAXGUARD" list extra
dg_expect_eq "an argument: usage error" 2 "$DG_RC"
dg_done
