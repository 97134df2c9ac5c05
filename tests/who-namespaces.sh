#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# who-namespaces.sh: the whole-device query (no range) must find every
# process that uses the filesystem, however it reaches it:
#	PCWD  its cwd is in a bind mount of a subdirectory
#	PNS   in a private mount namespace (unshare -m) where the filesystem
#	      is only reachable through a bind mount made there; holds a file
#	      open there and maps it
#	PMAP  maps a file (no fd)
#	PFD   holds a file open (no mapping)
#	PEXE  runs a binary stored on the filesystem (exe, and its mapping)
#	PROOT is chrooted into a directory of the filesystem
#	PUN   uses another filesystem only (cwd /tmp, an fd and a mapping
#	      there): must not be reported
# shellcheck source-path=SCRIPTDIR source=lib.sh
# shellcheck disable=SC2016 # jq filters use their own $variables
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

dg_require_root
dg_require_mapper
dg_require_cmd unshare
dg_tmpdir
dg_setup_fs xfs-rmap

PAGE=4096
mkdir -p "$MNT/sub/dir" "$MNT/bin" "$MNT/jail"
dg_write_chunk "$MNT/sub/held" 0 $((4 * PAGE))
dg_write_chunk "$MNT/m" 0 $((4 * PAGE))
dg_write_chunk "$MNT/other" 0 "$PAGE"
cp "$DG_MAPPER" "$MNT/bin/dgm-copy"
dg_write_chunk "$DG_TMP/outside" 0 $((4 * PAGE))
sync

BIND=$DG_TMP/bind
NSMNT=$DG_TMP/nsmnt
mkdir "$BIND" "$NSMNT"
mount --bind "$MNT/sub" "$BIND" || dg_fail "mount --bind $MNT/sub $BIND failed"

declare -A INODE
for f in sub/held m other bin/dgm-copy sub/dir jail; do
	INODE[$f]=$(dg_inode "$MNT/$f")
done

PCWD=$(dg_start_mapper "cwd:$BIND/dir")
PMAP=$(dg_start_mapper "map:$MNT/m:0:$((4 * PAGE)):shared-ro")
PFD=$(dg_start_mapper "hold:$MNT/other")
READY=$DG_TMP/exe.ready
PEXE=$(dg_start_ready "$READY" "$MNT/bin/dgm-copy" -r "$READY" "cwd:/")
PROOT=$(dg_start_mapper "root:$MNT/jail")
PUN=$(dg_start_mapper "cwd:/tmp" "hold:$DG_TMP/outside" \
	"map:$DG_TMP/outside:0:$((4 * PAGE)):shared-ro")

# In its own mount namespace: bind the subdirectory to NSMNT, unmount the
# filesystem's own mountpoint there, then hold and map through NSMNT.  The
# new namespace starts with a copy of every mount, other tests' under /tmp
# too: detach those copies there, so that they hold nobody's filesystem.
READY=$DG_TMP/ns.ready
# shellcheck disable=SC2016
PNS=$(dg_start_ready "$READY" unshare -m --propagation private -- sh -c '
	set -e
	mount --bind "$1" "$2"
	umount "$3"
	awk "{ print \$5 }" /proc/self/mountinfo | grep -E "^/(var/)?tmp/" |
		sort -r | while read -r m; do
			[ "$m" = "$2" ] || umount -l "$m" 2>/dev/null || true
		done
	exec "$4" -r "$5" "hold:$2/held" "map:$2/held:0:4096:shared-ro"
	' sh "$MNT/sub" "$NSMNT" "$MNT" "$DG_MAPPER" "$READY")
dg_log "PCWD=$PCWD PNS=$PNS PMAP=$PMAP PFD=$PFD PEXE=$PEXE PROOT=$PROOT PUN=$PUN"

OUR_NS=$(stat -L -c %i /proc/self/ns/mnt)
NS=$(stat -L -c %i "/proc/$PNS/ns/mnt")
dg_assert_ne "PNS is in a mount namespace of its own" "$OUR_NS" "$NS"
[[ ! -e "$NSMNT/held" ]] || dg_fail "the namespace's bind mount leaked into ours"

# ------------------------------------------------------------------ #
# The whole device

dg_who "$DEV"
dg_assert_eq "whole_device" true "$(dg_jq .whole_device)"
dg_assert_eq "ranges" "[]" "$(dg_jq .ranges)"

# (other tests may create mount namespaces, with copies of our mounts, at
# any time: only ours and PNS's are checked)
dg_assert_eq "mounts" \
	"$(jq -nc --arg mnt "$MNT" --arg bind "$BIND" --arg nsmnt "$NSMNT" \
		--argjson ours "$OUR_NS" --argjson ns "$NS" '[
		{target: $mnt, root: "/", mntns: $ours, local: true},
		{target: $bind, root: "/sub", mntns: $ours, local: true},
		{target: $nsmnt, root: "/sub", mntns: $ns, local: false}] | sort')" \
	"$(dg_jq --argjson ours "$OUR_NS" --argjson ns "$NS" '[.filesystems[].mounts[] |
		select(.mntns == $ours or .mntns == $ns) | {target, root, mntns, local}] | sort')"
OTHERS=$(dg_jq --argjson ours "$OUR_NS" --argjson ns "$NS" '[.filesystems[].mounts[] |
	select(.mntns != $ours and .mntns != $ns)]')
[[ "$OTHERS" == "[]" ]] || dg_log "mounts in other tests' namespaces: $OTHERS"
dg_assert_eq "mounts elsewhere are not local" "[]" \
	"$(jq -c '[.[] | select(.local)]' <<<"$OTHERS")"

dg_assert_eq "users and their uses" \
	"$(jq -nc --argjson cwd "$PCWD" --argjson ns "$PNS" --argjson map "$PMAP" \
		--argjson fd "$PFD" --argjson exe "$PEXE" --argjson root "$PROOT" '[
		[$cwd, "cwd"], [$ns, "fd"], [$ns, "map"], [$map, "map"],
		[$fd, "fd"], [$exe, "exe"], [$exe, "map"], [$root, "root"]] | sort')" \
	"$(dg_jq '[.users[] | [.pid, .use]] | unique')"
dg_assert_eq "the unrelated process is not reported" 0 \
	"$(dg_jq "[.users[] | select(.pid == $PUN)] | length")"

# the paths are the ones each process sees
dg_assert_eq "PCWD's cwd" "[\"$BIND/dir\"]" \
	"$(dg_jq "[.users[] | select(.pid == $PCWD) | .path]")"
dg_assert_eq "PNS's file, as PNS sees it" "[\"$NSMNT/held\"]" \
	"$(dg_jq "[.users[] | select(.pid == $PNS) | .path] | unique")"
dg_assert_eq "PMAP's file" "[\"$MNT/m\"]" \
	"$(dg_jq "[.users[] | select(.pid == $PMAP) | .path]")"
dg_assert_eq "PFD's file" "[\"$MNT/other\"]" \
	"$(dg_jq "[.users[] | select(.pid == $PFD) | .path]")"
dg_assert_eq "PEXE's binary" "[\"$MNT/bin/dgm-copy\"]" \
	"$(dg_jq "[.users[] | select(.pid == $PEXE) | .path] | unique")"
dg_assert_eq "users' inodes" \
	"$(jq -nc --argjson cwd "$PCWD" --argjson ns "$PNS" --argjson map "$PMAP" \
		--argjson fd "$PFD" --argjson exe "$PEXE" --argjson root "$PROOT" \
		--argjson idir "${INODE[sub/dir]}" --argjson iheld "${INODE[sub/held]}" \
		--argjson im "${INODE[m]}" --argjson iother "${INODE[other]}" \
		--argjson iexe "${INODE[bin/dgm-copy]}" --argjson ijail "${INODE[jail]}" '[
		[$cwd, $idir], [$ns, $iheld], [$map, $im], [$fd, $iother],
		[$exe, $iexe], [$root, $ijail]] | sort')" \
	"$(dg_jq '[.users[] | [.pid, .inode]] | unique')"
dg_assert_eq "users' filesystem" "[\"$DEV\"]" \
	"$(dg_jq '[.users[].filesystem] | unique')"

# the owners are the files in use, without a device range
dg_assert_eq "owners" \
	"$(jq -nc --argjson idir "${INODE[sub/dir]}" --argjson iheld "${INODE[sub/held]}" \
		--argjson im "${INODE[m]}" --argjson iother "${INODE[other]}" \
		--argjson iexe "${INODE[bin/dgm-copy]}" --argjson ijail "${INODE[jail]}" \
		'[$idir, $iheld, $im, $iother, $iexe, $ijail] | sort')" \
	"$(dg_jq '[.owners[] | select(.type == "file") | .inode] | unique')"
dg_assert_eq "owners have no device range" 0 \
	"$(dg_jq '[.owners[] | select(has("offset") and .offset != null)] | length')"
dg_assert_eq "the cwd's and the root's owners are directories" '[["directory"],["directory"]]' \
	"$(dg_jq "[.owners[] | select(.inode == ${INODE[sub/dir]} or .inode == ${INODE[jail]}) | .flags]")"

# the mountpoint and the bind mount name the same device
for t in "$MNT" "$BIND"; do
	J=$DG_JSON
	dg_who "$t"
	dg_assert_eq "target $t: device" "$DEV" "$(dg_jq -r .target.device)"
	dg_assert_eq "target $t: same users" \
		"$(jq -c '[.users[] | [.pid, .use]] | unique' <<<"$J")" \
		"$(dg_jq '[.users[] | [.pid, .use]] | unique')"
	DG_JSON=$J
done

# ------------------------------------------------------------------ #
# A range in the file PNS maps through its own namespace

OFF=$(dg_devoff "$MNT/sub/held" 0)
dg_who "$DEV" --offset "$OFF" --length "$PAGE"
dg_assert_eq "range: whole_device" false "$(dg_jq .whole_device)"
dg_assert_eq "range: the owner" "[{\"inode\":${INODE[sub/held]},\"path\":\"$MNT/sub/held\",\"offset\":$OFF,\"file_offset\":0}]" \
	"$(dg_jq '[.owners[] | {inode, path, offset, file_offset}]')"
dg_assert_eq "range: users" "[{\"pid\":$PNS,\"use\":\"map\",\"path\":\"$NSMNT/held\"}]" \
	"$(dg_jq '[.users[] | {pid, use, path}]')"

echo "1..$DG_NCHECK"
