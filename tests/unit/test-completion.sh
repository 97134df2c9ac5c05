#!/bin/bash
# bash-completion/daxguard, driven as bash drives it: COMP_WORDS and
# COMP_CWORD set, the function `complete -p daxguard` names called, and
# COMPREPLY checked.  The commands, options, columns and reverse maps come
# from the daxguard under test; the devices and mounts from lsblk and
# findmnt stand-ins that print a machine with pmem, device-dax, a loop
# device and device-mapper on pmem, next to an ordinary disk.
set -euo pipefail
: "${DAXGUARD:?}" "${COMPLETION:?}"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cat >"$tmp/lsblk" <<'EOF'
#!/bin/sh
[ "$*" = "-rnp -o NAME,TYPE,DAX" ] || { echo "lsblk: unexpected: $*" >&2; exit 1; }
cat <<'LIST'
/dev/sda disk 0
/dev/sda1 part 0
/dev/pmem0 disk 1
/dev/pmem0p1 part 1
/dev/pmem1 disk 0
/dev/loop3 loop 0
/dev/dm-0 dm 1
/dev/vdb disk 0
LIST
EOF
cat >"$tmp/findmnt" <<'EOF'
#!/bin/sh
[ "$*" = "-rn -o TARGET,SOURCE,OPTIONS" ] || { echo "findmnt: unexpected: $*" >&2; exit 1; }
cat <<'LIST'
/ /dev/sda1 rw,relatime
/mnt/pmem /dev/pmem0p1 rw,relatime,attr2,inode64
/srv/bind /dev/pmem0p1[/data] rw,relatime
/mnt/dax\x20space /dev/vdb rw,relatime,dax=always
/mnt/ext4dax /dev/vdc rw,relatime,dax
/mnt/never /dev/vdd rw,relatime,dax=never
/srv/loop /dev/loop3 rw,relatime
/proc proc rw,nosuid
LIST
EOF
chmod +x "$tmp/lsblk" "$tmp/findmnt"
PATH=$tmp:$PATH

# shellcheck source=/dev/null
. "$COMPLETION"

fail=0
n=0
check() { # WANT GOT WHAT
	n=$((n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $n - $3"
	else
		echo "not ok $n - $3"
		echo "#   want: $1"
		echo "#   got:  $2"
		fail=1
	fi
}

# comp WORD...: what completing the last WORD offers, sorted, one line
comp() {
	local spec fn

	COMP_WORDS=("$DAXGUARD" "$@")
	COMP_CWORD=$#
	COMP_LINE="${COMP_WORDS[*]}"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	spec=$(complete -p daxguard)
	fn=$(sed -n 's/.* -F \([^ ]*\) .*/\1/p' <<<"$spec")
	"$fn" daxguard "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | LC_ALL=C sort | paste -sd' '
}

check "complete -F _daxguard daxguard" "$(complete -p daxguard)" "registered for daxguard"

# subcommands: exactly what daxguard --help lists
cmds=$("$DAXGUARD" --help | awk '/^Commands:/ {on = 1; next} on && !NF {exit} on {print $1}' |
	LC_ALL=C sort | paste -sd' ')
check "$cmds" "$(comp '')" "commands"
for c in who fail remove; do
	[[ " $cmds " == *" $c "* ]] || check "$c among the commands" "$cmds" "daxguard --help"
done
check "who" "$(comp wh)" "a command's prefix"
check "--help --version" "$(comp -)" "daxguard's own options"

# options, per command
check "--offset --output --output-all" "$(comp who --o)" "who --o"
opts=$(comp fail --)
for o in --action --punch --grace --badblocks --rmap --dry-run --pause-after; do
	[[ " $opts " == *" $o "* ]] || check "$o in fail's options" "$opts" "fail --"
done
[[ " $opts " != *" --output "* ]] || check "no --output for fail" "$opts" "fail --"
check "--force" "$(comp remove --fo)" "remove --fo"
check "--no-paths --no-users" "$(comp who /dev/pmem0 --no-)" "options after the target"

# columns after -o, --output and --output=, one element of a list at a time
cols=$("$DAXGUARD" who --list-columns | awk '!s[$1]++ {print $1}' | LC_ALL=C sort | paste -sd' ')
check "$cols" "$(comp who -o '')" "who -o: every column, once"
[[ " $cols " == *" FILE-OFFSET "* && " $cols " == *" PID "* ]] ||
	check "FILE-OFFSET and PID among the columns" "$cols" "who --list-columns"
check "PATH PID PINNED POLICY" "$(comp who --output P)" "who --output P"
check "OWNER,POLICY OWNER,PINNED OWNER,PID OWNER,PATH" "$(comp who -o OWNER,P | tr ' ' '\n' | sort -r | paste -sd' ')" \
	"who -o OWNER,P: the list so far is kept"
check "OFFSET OWNER" "$(comp who --output = O)" "who --output=O (bash splits at =)"
check "$cols" "$(comp who --output =)" "who --output="

# reverse maps, from daxguard --version
check "ext4-libext2fs fiemap xfs-bulkstat xfs-rmapbt" "$(comp who --rmap '')" "who --rmap"
check "xfs-bulkstat xfs-rmapbt" "$(comp fail --offset 0 --length 4K --rmap x)" "fail --rmap x"

# --action values
check "bus kill report term" "$(comp fail --action '')" "fail --action"
check "kill" "$(comp remove -a k)" "remove -a k"
check "collect" "$(comp remove --pause-after co)" "remove --pause-after co"

# list and watch (the daemon) take no target
if [[ " $cmds " == *" list "* ]]; then
	check "" "$(comp list '')" "list: no target"
	check "NAME NAMESPACE" "$(comp list -o NA)" "list -o NA"
	check "--all" "$(comp list --a)" "list --a"
fi
if [[ " $cmds " == *" watch "* ]]; then
	check "" "$(comp watch --all '')" "watch: no target"
	check "kill" "$(comp watch -a k)" "watch -a k"
	check "act report" "$(comp watch --on-start '')" "watch --on-start"
	check "kmsg,udev" "$(comp watch --sources kmsg,u)" "watch --sources kmsg,u"
	check "" "$(comp watch --interval '')" "watch --interval: nothing"
fi

# numbers are not completed as targets
check "" "$(comp who --offset '')" "who --offset: nothing"
# CXL: --dpa offers the memdevs the cxl bus has (a stand-in directory)
mkdir -p "$tmp/cxl/mem0" "$tmp/cxl/mem1" "$tmp/cxl/decoder0.0" "$tmp/cxl/port1"
check "mem0: mem1:" "$(DAXGUARD_CXL_SYSFS=$tmp/cxl comp who --dpa '')" "who --dpa: memdevs"
check "mem1:" "$(DAXGUARD_CXL_SYSFS=$tmp/cxl comp fail --dpa mem1)" "fail --dpa mem1"
check "memdev namespace region" "$(comp remove --release '')" "remove --release"
check "" "$(comp remove -g '')" "remove -g: nothing"
check "- cxl sysfs" "$(comp who --badblocks '' | tr ' ' '\n' | grep -x -e - -e sysfs -e cxl | paste -sd' ')" \
	"who --badblocks: -, sysfs and cxl"

# targets: pmem (raw or DAX), DAX-capable devices, device-dax, loop
# devices, and the mountpoints of filesystems on them or mounted with dax
_daxguard_daxdevs() { echo /dev/dax0.0; }
want='/dev/dax0.0 /dev/dm-0 /dev/loop3 /dev/pmem0 /dev/pmem0p1 /dev/pmem1 /mnt/dax\ space /mnt/ext4dax /mnt/pmem /srv/bind /srv/loop'
check "$want" "$(comp who '')" "who: targets"
check "$want" "$(comp remove --grace 5 '')" "remove --grace 5: targets"
check "$want" "$(comp fail --action kill --offset 0 --length 4K '')" "fail ...: targets"
check "/dev/pmem0 /dev/pmem0p1 /dev/pmem1" "$(comp who /dev/pm)" "who /dev/pm"
check "/mnt/dax\ space" "$(comp remove /mnt/d)" "a mountpoint with a space, quoted"

echo "1..$n"
exit $fail
