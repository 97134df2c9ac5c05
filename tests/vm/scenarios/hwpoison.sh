# SPDX-License-Identifier: GPL-2.0-or-later
# hwpoison-FS (scenario d): agreement with the kernel.  With
# vm.memory_failure_early_kill=1, several processes map f.bin in different
# ways; one of them poisons page P with madvise(MADV_HWPOISON).  The kernel
# signals every process that maps the page (BUS_MCEERR_AR to the poisoner,
# BUS_MCEERR_AO to the others).  That set must equal the set of processes
# that daxguard who reports for the page's device range (from FIEMAP),
# asked before the poisoning, and again by physical address (who --phys),
# which must be the pfn the kernel's own report names.
# Two more mappers of page P are recorded, not compared: "cow" wrote its
# private copy of the page (its page tables point at anonymous memory now)
# and "untouched" never faulted the page in.  The kernel signals neither;
# whether daxguard reports them is a fact for the docs.
. /dgvm/lib.sh
FS=${1:-xfs}
P=40
fact kernel "$(uname -r)"
fact fs "$FS"

step "setup $FS"
setup_fs "$FS"
fill "$MNT/f.bin" $((1 << 20))
fill "$MNT/g.bin" $((1 << 20))
off=$((P * 4096))
dev=$(dev_offset "$MNT/f.bin" $off) || die "FIEMAP of f.bin"
echo "f.bin page $P is at device offset $dev"
echo 1 >/proc/sys/vm/memory_failure_early_kill || die "vm.memory_failure_early_kill=1"

# probes touch their whole mapping once (so the page is mapped: the kernel
# signals only processes with the page in their page tables) then idle
export DGVM_POISON_OFFSET=$off
spawn poisoner dgvm-probe -r /tmp/ready/poisoner map "$MNT/f.bin" 0 0 shared-rw 0
spawn rw dgvm-probe -r /tmp/ready/rw map "$MNT/f.bin" 0 0 shared-rw 0
spawn ro dgvm-probe -r /tmp/ready/ro map "$MNT/f.bin" 0 0 shared-ro 0
spawn privro dgvm-probe -r /tmp/ready/privro map "$MNT/f.bin" $(((P - 2) * 4096)) $((4 * 4096)) private-ro 0
spawn privrw dgvm-probe -r /tmp/ready/privrw map "$MNT/f.bin" $((P * 4096)) 4096 private-rw 0
spawn just dgvm-probe -r /tmp/ready/just map "$MNT/f.bin" $off 4096 shared-ro 0
spawn before dgvm-probe -r /tmp/ready/before map "$MNT/f.bin" 0 $off shared-ro 0
spawn after dgvm-probe -r /tmp/ready/after map "$MNT/f.bin" $((off + 4096)) 0 shared-rw 0
spawn other dgvm-probe -r /tmp/ready/other map "$MNT/g.bin" 0 0 shared-rw 0
spawn fd dg-mapper -r /tmp/ready/fd hold:"$MNT/f.bin"
spawn cow dgvm-probe -r /tmp/ready/cow map "$MNT/f.bin" $(((P - 1) * 4096)) $((3 * 4096)) private-cow 0
spawn untouched env DGVM_NO_TOUCH=1 dgvm-probe -r /tmp/ready/untouched map "$MNT/f.bin" 0 0 shared-ro 0
ROLES="poisoner rw ro privro privrw just before after other fd"
EXTRA="cow untouched"
for r in $ROLES $EXTRA; do wait_ready "/tmp/ready/$r" || die "$r ready"; done

step "daxguard who"
dg_json who who who /dev/pmem0 --offset "$dev" --length 4096 -J
json_vars /tmp/who.json '
	"owners=\([.owners[] | "\(.path)@\(.file_offset)"] | unique | join(" "))",
	"mappers=\([.users[] | select(.use == "map") | .pid] | unique | sort | map(tostring) | join(" "))"' ||
	die "who printed JSON"
check_eq "who names f.bin at page $P" "$MNT/f.bin@$off" "$J_owners"
offset_mappers=$J_mappers

# The same page by physical address, as memory-failure logs name it: the
# pfn device's resource is where the block device's offset 0 is.
res=$(cat /sys/block/pmem0/device/resource) || die "no resource for pmem0"
phys=$(printf '%#x' $((res + dev)))
echo "f.bin page $P is at physical address $phys (resource $res)"
dg_json whophys "who --phys" who /dev/pmem0 --phys "$phys" -J
json_vars /tmp/whophys.json '
	"owners=\([.owners[] | "\(.path)@\(.file_offset)"] | unique | join(" "))",
	"mappers=\([.users[] | select(.use == "map") | .pid] | unique | sort | map(tostring) | join(" "))"' ||
	die "who --phys printed JSON"
check_eq "who --phys names the same file and page" "$MNT/f.bin@$off" "$J_owners"
check_eq "who --phys reports the range at that physical address" \
	"$(printf '%d %d' $((phys)) $((res)))" \
	"$(jq -r '"\(.ranges[0].phys) \(.target.phys_start)"' /tmp/whophys.json)"
check_eq "who --phys names the same mappers" "$offset_mappers" "$J_mappers"

step "MADV_HWPOISON"
kill -USR1 "$(pid_of poisoner)"
i=0
while ! grep -q '^poison ' "$LOGS/poisoner.log" && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 2
grep '^poison ' "$LOGS/poisoner.log"
signalled=
for r in $ROLES; do
	c=$(sigbus_codes "$r")
	echo "$r (pid $(pid_of "$r")): $c"
	[ "$c" != none ] && signalled="$signalled $(pid_of "$r")"
	fact "sig.$r" "$c"
done
signalled=$(echo $signalled | tr ' ' '\n' | sort -n | tr '\n' ' ')
signalled=${signalled% }
who_roles=; kern_roles=
for r in $ROLES; do
	p=$(pid_of "$r")
	echo " $J_mappers " | grep -q " $p " && who_roles="$who_roles $r"
	echo " $signalled " | grep -q " $p " && kern_roles="$kern_roles $r"
done
echo "daxguard who: ${who_roles# }"
echo "kernel:       ${kern_roles# }"
fact who_set "${who_roles# }"
fact kernel_set "${kern_roles# }"
check_eq "the kernel signalled exactly the processes daxguard who reports" "${who_roles# }" "${kern_roles# }"
check_eq "the poisoner got BUS_MCEERR_AR" BUS_MCEERR_AR "$(sigbus_codes poisoner)"
for r in $EXTRA; do
	p=$(pid_of "$r")
	w=no
	echo " $J_mappers " | grep -q " $p " && w=yes
	echo "$r: daxguard who reports it: $w; kernel: $(sigbus_codes "$r")"
	fact "extra.$r" "who reports it: $w; kernel signal: $(sigbus_codes "$r")"
done
# the kernel's own report names the page by pfn: it must be ours
pfn=$(dmesg | sed -n 's/.*Memory failure: \(0x[0-9a-f]*\):.*/\1/p' | tail -1)
echo "kernel: Memory failure at pfn ${pfn:-none}"
check_eq "the kernel's pfn is the page who --phys was asked about" \
	"$(printf '%#x' $((phys >> 12)))" "$(printf '%#x' $((${pfn:-0})))"
# ... and the operator's question, with that log line in hand: which file
# is behind it?  The pfn goes in as the kernel printed it.
dg_json whopfn "who --pfn" who /dev/pmem0 --pfn "${pfn:-none}" --no-users -J
json_vars /tmp/whopfn.json '
	"owners=\([.owners[] | "\(.path)@\(.file_offset)"] | unique | join(" "))"' ||
	die "who --pfn printed JSON"
check_eq "who --pfn $pfn names f.bin at page $P" "$MNT/f.bin@$off" "$J_owners"
check_eq "who --pfn reports the range at the pfn's address" \
	"$((${pfn:-0} * 4096))" "$(jq -r '.ranges[0].phys' /tmp/whopfn.json)"
show_dmesg "MADV_HWPOISON"
echo 0 >/proc/sys/vm/memory_failure_early_kill
kill_all_spawned
umount "$MNT"
finish
