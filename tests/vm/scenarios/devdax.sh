# SPDX-License-Identifier: GPL-2.0-or-later
# devdax (scenario e): device-dax.  The namespace becomes /dev/dax0.0
# (ndctl create-namespace -m devdax); processes map parts of it.
#   daxguard who /dev/dax0.0 --offset O --length 4096 must report exactly
#   the processes whose mapping covers O (device-dax offsets are the
#   users' own file offsets);
#   daxguard remove /dev/dax0.0 must stop every user and release the
#   device.
# daxguard does not support character devices yet: this scenario is
# expected to fail (run.sh counts it as XFAIL) until it does.
. /dgvm/lib.sh
fact kernel "$(uname -r)"
MB2=$((2 << 20))

step "setup devdax"
ndctl create-namespace -f -e namespace0.0 -m devdax >/tmp/ns.json 2>&1 || { cat /tmp/ns.json; die "devdax namespace"; }
cat /tmp/ns.json
wait_ready /dev/dax0.0 || die "/dev/dax0.0 appears"
ls -l /dev/dax* /sys/bus/dax/devices/
echo "dax0.0: size $(cat /sys/bus/dax/devices/dax0.0/size), align $(cat /sys/bus/dax/devices/dax0.0/align 2>/dev/null)"
spawn first dgvm-probe -r /tmp/ready/first map /dev/dax0.0 0 $MB2 shared-rw 0
spawn second dgvm-probe -r /tmp/ready/second map /dev/dax0.0 $MB2 $MB2 shared-ro 0
spawn both dgvm-probe -r /tmp/ready/both map /dev/dax0.0 0 $((2 * MB2)) shared-ro 0
spawn fd dg-mapper -r /tmp/ready/fd hold:/dev/dax0.0
for r in first second both fd; do wait_ready "/tmp/ready/$r" || die "$r ready"; cat "$LOGS/$r.log"; done
grep dax /proc/$(pid_of first)/maps
# what a device-dax mapping looks like to a process scanner
fact maps_line "$(grep -m1 dax0.0 /proc/$(pid_of first)/maps | sed 's/^[^ ]* //')"
fact stat_node "$(stat -c 'st_dev=%d(%D) st_ino=%i rdev=%t:%T' /dev/dax0.0)"

step "daxguard who on device-dax"
daxguard who /dev/dax0.0 --offset 4096 --length 4096 -J >/tmp/who.json 2>/tmp/who.err
rc=$?
cat /tmp/who.json
sed 's/^/    stderr| /' /tmp/who.err
fact who "exit $rc: $(head -c 300 /tmp/who.err | tr '\n' ' ')"
check_eq "who /dev/dax0.0 exit status" 0 "$rc"
if [ $rc = 0 ]; then
	want=$(for r in first both; do pid_of "$r"; done | sort -n | tr '\n' ' ')
	check_eq "who reports the mappers of offset 4096" "${want% }" \
		"$(json /tmp/who.json '[.users[] | select(.use == "map") | .pid] | unique | sort | map(tostring) | join(" ")')"
fi

step "daxguard remove on device-dax"
daxguard remove /dev/dax0.0 -g 3 -J >/tmp/remove.json 2>/tmp/remove.err
rc=$?
cat /tmp/remove.json
sed 's/^/    stderr| /' /tmp/remove.err
fact remove "exit $rc: $(head -c 300 /tmp/remove.err | tr '\n' ' ')"
check_eq "remove /dev/dax0.0 exit status" 0 "$rc"
sleep 0.5
reap first second both fd
for r in first second both fd; do
	check_eq "$r stopped by remove" 143 "$(exit_status "$r")"
done
check "/dev/dax0.0 released" sh -c '! [ -e /dev/dax0.0 ]'

step "kernel reference: MADV_HWPOISON on device-dax"
# who does the kernel signal for offset 4096?  (first, both and the
# poisoner map it; second does not)
if alive "$(pid_of first)" && alive "$(pid_of both)" && alive "$(pid_of second)"; then
	echo 1 >/proc/sys/vm/memory_failure_early_kill
	spawn poisoner env DGVM_POISON_OFFSET=4096 dgvm-probe -r /tmp/ready/poisoner map /dev/dax0.0 0 $MB2 shared-rw 0
	wait_ready /tmp/ready/poisoner
	kill -USR1 "$(pid_of poisoner)"
	sleep 2
	grep '^poison' "$LOGS/poisoner.log"
	ks=
	for r in first second both poisoner; do
		c=$(sigbus_codes "$r")
		echo "$r: $c"
		grep -m1 '^SIGBUS' "$LOGS/$r.log"
		[ "$c" != none ] && ks="$ks $r($c)"
	done
	fact kernel_signals "${ks# }"
	show_dmesg "kernel reference: MADV_HWPOISON on device-dax"
else
	fact kernel_signals "not measured: the mappers are gone"
fi
kill_all_spawned
finish
