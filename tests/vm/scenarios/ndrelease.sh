# SPDX-License-Identifier: GPL-2.0-or-later
# ndrelease (not in the default set): how to release an unmounted fsdax
# namespace so that ndctl can enable it again.  Compares
#   A. what daxguard remove does: the pmem block device's parent device
#      (pfn0.0) written to its driver's unbind file;
#   B. ndctl disable-namespace namespace0.0.
. /dgvm/lib.sh
fact kernel "$(uname -r)"
ns_state() {
	ndctl list -Ni -n namespace0.0 2>&1 | tr -d ' \n' | sed 's/,"uuid":"[^"]*"//; s/,"sector_size":[0-9]*//'
	echo " pmem0=$([ -e /dev/pmem0 ] && echo present || echo absent)" \
		"ns.driver=$(basename "$(readlink /sys/bus/nd/devices/namespace0.0/driver 2>/dev/null)" 2>/dev/null)" \
		"pfn.driver=$(basename "$(readlink /sys/bus/nd/devices/pfn0.0/driver 2>/dev/null)" 2>/dev/null)" \
		"pfn.namespace=$(cat /sys/bus/nd/devices/pfn0.0/namespace 2>/dev/null)"
}

step "setup"
setup_fs xfs
echo data >"$MNT/f"
umount "$MNT"
echo "fsdax, enabled: $(ns_state)"

step "A: sysfs unbind of pfn0.0, then ndctl enable-namespace"
echo pfn0.0 >/sys/bus/nd/drivers/nd_pmem/unbind
a1=$(ns_state)
echo "after unbind: $a1"
ndctl enable-namespace namespace0.0 >/tmp/a.log 2>&1
arc=$?
cat /tmp/a.log
sleep 1
a2=$(ns_state)
echo "after enable-namespace (exit $arc): $a2"
fact A_unbind "after the unbind: $a1"
fact A_enable "ndctl enable-namespace exit $arc: $a2"
ndctl disable-namespace namespace0.0 >/tmp/a2.log 2>&1
drc=$?
ndctl enable-namespace namespace0.0 >/tmp/a3.log 2>&1
erc=$?
wait_ready /dev/pmem0
fact A_recover "then ndctl disable-namespace exit $drc, enable-namespace exit $erc: $(ns_state)"

step "B: ndctl disable-namespace, then ndctl enable-namespace"
ndctl disable-namespace namespace0.0 >/tmp/b.log 2>&1
brc=$?
cat /tmp/b.log
b1=$(ns_state)
fact B_disable "ndctl disable-namespace exit $brc: $b1"
check "B: disable-namespace of the unmounted namespace works" test $brc = 0
check "B: /dev/pmem0 is gone" sh -c '! [ -e /dev/pmem0 ]'
ndctl enable-namespace namespace0.0 >/tmp/b2.log 2>&1
erc=$?
cat /tmp/b2.log
wait_ready /dev/pmem0
b2=$(ns_state)
fact B_enable "ndctl enable-namespace exit $erc: $b2"
check "B: enable-namespace brings /dev/pmem0 back" test -e /dev/pmem0
mount_dax xfs >/dev/null
check_eq "B: the filesystem mounts and holds its data" data "$(cat "$MNT/f" 2>&1)"
umount "$MNT"

step "C: sysfs unbind of namespace0.0 too (what ndctl does, by hand)"
echo pfn0.0 >/sys/bus/nd/drivers/nd_pmem/unbind
echo namespace0.0 >/sys/bus/nd/drivers/nd_pmem/unbind 2>/tmp/c.err
c0=$?
c1=$(ns_state)
fact C_unbind "pfn0.0 then namespace0.0 unbound (exit $c0 $(cat /tmp/c.err)): $c1"
ndctl enable-namespace namespace0.0 >/tmp/c.log 2>&1
crc=$?
sleep 1
fact C_enable "ndctl enable-namespace exit $crc: $(ns_state)"
finish
