#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# who-badinput.sh: bad input gets a clear error and changes nothing.
# Each case must exit 1 (error) or 2 (usage), print exactly one line on
# stderr, "daxguard: ..." naming the object at fault, and leave the
# devices, mounts and files as they were.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTS_DIR:-$(dirname "$0")}/lib.sh"

dg_require_root
dg_tmpdir
dg_setup_fs ext4

# a loop device with nothing on it
NOFS_IMG=$DG_TMP/nofs.img
truncate -s 16M "$NOFS_IMG"
NOFS=$(dg_losetup "$NOFS_IMG")
REG=$MNT/regular
dg_write_chunk "$REG" 0 8192
SIZE=$(blockdev --getsize64 "$DEV")
sync
SUM_BEFORE=$(md5sum "$NOFS_IMG" "$REG" | awk '{ print $1 }')

# run_bad LABEL ARGS...: daxguard ARGS must fail: exit 1 (error) or 2
# (usage)
run_bad()
{
	local label=$1

	shift
	dg_run timeout 60 "$DAXGUARD" "$@"
	[[ $DG_RC == 1 || $DG_RC == 2 ]] ||
		dg_fail "$label: daxguard $*: exit status $DG_RC, expected 1 or 2"
}

# bad LABEL PATTERN ARGS...: daxguard ARGS must fail cleanly, and its one
# line on stderr must match the extended regex PATTERN.
bad()
{
	local label=$1 pattern=$2 lines

	shift 2
	run_bad "$label" "$@"
	lines=$(printf '%s\n' "$DG_ERR" | grep -c '') || true
	[[ -n "$DG_ERR" && $lines == 1 ]] ||
		dg_fail "$label: daxguard $*: expected one line on stderr, got $lines"
	[[ "$DG_ERR" == "daxguard: "* ]] ||
		dg_fail "$label: daxguard $*: stderr does not start with 'daxguard: '"
	[[ "$DG_ERR" =~ $pattern ]] ||
		dg_fail "$label: daxguard $*: stderr does not name the object (/$pattern/)"
	dg_ok "$label: exit $DG_RC, $DG_ERR"
}

# bad_cmdline LABEL PATTERN ARGS...: as bad, for errors in the command line
# itself, where a second line may point to --help.
bad_cmdline()
{
	local label=$1 pattern=$2 first

	shift 2
	run_bad "$label" "$@"
	first=$(printf '%s\n' "$DG_ERR" | head -n 1)
	[[ "$first" == "daxguard: "* && "$first" =~ $pattern ]] ||
		dg_fail "$label: daxguard $*: stderr does not start with 'daxguard: ' and name the object (/$pattern/)"
	dg_ok "$label: exit $DG_RC, $first"
}

# quote_ere STRING: STRING as a literal in an extended regex
quote_ere()
{
	printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'
}

NOENT=$DG_TMP/does-not-exist
bad "no such path" "$(quote_ere "$NOENT")" who "$NOENT"
bad "no such path, with a range" "$(quote_ere "$NOENT")" \
	who "$NOENT" --offset 0 --length 4096
bad "a regular file" "$(quote_ere "$REG")" who "$REG"
bad "a block device with no filesystem" "$(quote_ere "$NOFS")" who "$NOFS"
bad "a block device with no filesystem, with a range" "$(quote_ere "$NOFS")" \
	who "$NOFS" --offset 0 --length 4096
bad "no such MAJ:MIN" "999:999" who 999:999

bad "offset at the end of the device" "$(quote_ere "$DEV")|$SIZE" \
	who "$DEV" --offset "$SIZE" --length 4096
bad "offset past the end of the device" "$(quote_ere "$DEV")|$((SIZE + 1048576))" \
	who "$DEV" --offset $((SIZE + 1048576)) --length 4096
bad "offset + length overflows" \
	"0xffffffffffffff00|18446744073709551360|0x1000|$(quote_ere "$DEV")" \
	who "$DEV" --offset 0xffffffffffffff00 --length 0x1000
bad "length 0" "length" who "$DEV" --offset 0 --length 0
bad "offset abc" "abc" who "$DEV" --offset abc --length 4096
bad "length abc" "abc" who "$DEV" --offset 0 --length abc
bad "negative offset" "-4096" who "$DEV" --offset -4096 --length 4096
bad "bad suffix" "4Q" who "$DEV" --offset 4Q --length 4096
# a physical address or pfn on a device with no physical range
bad "--phys on a loop device" "$(quote_ere "$DEV").*physical address" \
	who "$DEV" --phys 0x100000
bad "--pfn on a loop device" "$(quote_ere "$DEV").*physical address" \
	who "$DEV" --pfn 0x100
bad "--pfn with a suffix" "pfn '4K'" who "$DEV" --pfn 4K
# a CXL device physical address: malformed, or on a device with no CXL region
bad_cmdline "--dpa without an address" "dpa 'mem0'.*MEMDEV:DPA" who "$DEV" --dpa mem0
bad_cmdline "--dpa with a malformed address" "dpa 'mem0:0xzz'" who "$DEV" --dpa mem0:0xzz
bad_cmdline "--dpa with no memdev" "dpa 'pmem0:0x1000'" who "$DEV" --dpa pmem0:0x1000
bad_cmdline "--dpa past 64 bits" "dpa 'mem0:0x1ffffffffffffffff'.*64 bits" \
	who "$DEV" --dpa mem0:0x1ffffffffffffffff
bad "--dpa on a loop device" "$(quote_ere "$DEV"): has no physical address range, so no CXL region" \
	who "$DEV" --dpa mem0:0x1000
bad "--pfn past 64 bits" "pfn '0xffffffffffffffff'.*64 bits" \
	who "$DEV" --pfn 0xffffffffffffffff
# badblocks lists: a list that cannot be read, or a line that is not an
# entry, is an error naming the file (and line), never a whole-device
# query or an empty list
bad "--badblocks FILE that does not exist" "$(quote_ere "$NOENT").*No such file" \
	who "$DEV" --badblocks "$NOENT"
bad "--badblocks DIRECTORY" "$(quote_ere "$DG_TMP").*Is a directory" \
	who "$DEV" --badblocks "$DG_TMP"
BB=$DG_TMP/bb.list
printf '8 8\n16 8\n' >"$BB"
bad "--badblocks FILE that does not exist, then a good one" \
	"$(quote_ere "$NOENT").*No such file" \
	who "$DEV" --badblocks "$NOENT" --badblocks "$BB"
# a NUL inside a line must not cut "16 8<NUL>99" short to "16 8"
printf '8 8\n16 8\00099\n' >"$BB"
bad "--badblocks with a NUL inside a line" "$(quote_ere "$BB"):2: .*NUL" \
	who "$DEV" --badblocks "$BB"
printf '8 8\n16 8 junk\n' >"$BB"
bad "--badblocks with a malformed line" "$(quote_ere "$BB"):2" \
	who "$DEV" --badblocks "$BB"
# only pmem and md keep a badblocks list: a loop device has none to read
bad "--badblocks sysfs on a loop device" "$(quote_ere "$DEV"): no badblocks list in sysfs" \
	who "$DEV" --badblocks sysfs
bad "offset without length" "length|offset" who "$DEV" --offset 0
bad "length without offset" "length|offset" who "$DEV" --length 4096
bad "no target" "target|Usage|argument" who --offset 0 --length 4096
bad "two targets" "$(quote_ere "$NOFS")|target|argument" who "$DEV" "$NOFS"
bad_cmdline "unknown command" "nosuchcmd" nosuchcmd
run_bad "no command"
dg_assert_match "no command: prints the usage" "Usage:" "$DG_OUT$DG_ERR"

dg_run timeout 60 "$DAXGUARD" who --help
dg_assert_eq "who --help: exit status" 0 "$DG_RC"
dg_assert_match "who --help prints the usage" "^Usage:" "$DG_OUT"
dg_assert_eq "who --help: nothing on stderr" "" "$DG_ERR"

# nothing changed
dg_assert_eq "the filesystem is still mounted" "$DEV" "$(findmnt -n -o SOURCE "$MNT")"
dg_assert_eq "the empty loop device is still attached" "$NOFS_IMG" \
	"$(losetup -n -O BACK-FILE "$NOFS" | sed 's/ *$//')"
dg_assert_eq "the empty device and the file are unchanged" "$SUM_BEFORE" \
	"$(md5sum "$NOFS_IMG" "$REG" | awk '{ print $1 }')"
timeout 10 touch "$MNT/still-writable" || dg_fail "$MNT is not writable"
dg_ok "the filesystem is writable (not frozen)"

# last, so that a failure here hides none of the checks above
bad_cmdline "unknown option" "bogus" who "$DEV" --bogus
bad_cmdline "unknown short option" "-Z|'Z'" who "$DEV" -Z

echo "1..$DG_NCHECK"
