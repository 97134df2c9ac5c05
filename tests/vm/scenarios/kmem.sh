# SPDX-License-Identifier: GPL-2.0-or-later
# kmem: a device-dax device onlined as system RAM (the kmem driver).  The
# machine (run.sh machine_args kmem-*) puts the NVDIMM on NUMA node 1,
# which has no other memory; node 0 holds the guest's 1 GiB.
#   devdax namespace -> daxctl reconfigure-device --mode=system-ram
#   (online_movable): node 1 gets the device's memory blocks;
#   processes: membind (numactl --membind=1, 64 MiB there), preferred
#   (numactl --preferred=1, 64 MiB there), other (numactl --membind=0,
#   nothing there);
#   who -J names membind and preferred with page counts within 5% of
#   numastat -p, and neither other nor anybody else;
#   remove --dry-run changes nothing;
#   remove migrates preferred (alive, no page left on node 1), stops
#   membind (SIGTERM), leaves other alone, offlines every block and leaves
#   dax0.0 in devdax mode, disabled.
# No long-term pin there: the blocks are in ZONE_MOVABLE, where the kernel
# migrates a page out of the zone before it pins it (FOLL_LONGTERM), so an
# io_uring registered buffer never stays on node 1.  kmem-pin onlines the
# device in ZONE_NORMAL (--no-movable) instead, where a pin stays:
#   pinned (numactl --preferred=1, 64 MiB registered as an io_uring fixed
#   buffer) and movable (--preferred=1, 64 MiB);
#   who shows pinned's VmPin and its io_uring descriptor;
#   remove moves movable, cannot move pinned, gives up on the first block
#   that will not go offline after its bounded attempts, exits 1 naming
#   pinned, leaves it running, and nothing hangs.
. /dgvm/lib.sh
MODE=${1:-movable}
fact kernel "$(uname -r)"
MB64=$((64 << 20))

step "setup kmem"
ndctl create-namespace -f -e namespace0.0 -m devdax >/tmp/ns.json 2>&1 || { cat /tmp/ns.json; die "devdax namespace"; }
wait_ready /dev/dax0.0 || die "/dev/dax0.0 appears"
# Debian's kernels online hot-added memory themselves: daxctl refuses then
echo offline >/sys/devices/system/memory/auto_online_blocks
NOMOVABLE=
[ "$MODE" = pin ] && NOMOVABLE=--no-movable
daxctl reconfigure-device --mode=system-ram $NOMOVABLE dax0.0 >/tmp/reconf.json 2>&1 || { cat /tmp/reconf.json; die "reconfigure-device --mode=system-ram"; }
cat /tmp/reconf.json
NODE=$(cat /sys/bus/dax/devices/dax0.0/target_node)
fact target_node "$NODE"
check_eq "dax0.0 is on node 1" 1 "$NODE"
BLOCKS=$(daxctl list -D -d dax0.0 | jq -r '.[0].total_memblocks')
fact kmem_online "$(daxctl list -D -d dax0.0 | tr -d ' \n')"
# node1 goes away with its last block (its meminfo too): no memory, 0
node_total() {
	if [ -r /sys/devices/system/node/node1/meminfo ]; then
		awk '/MemTotal/ {print $4}' /sys/devices/system/node/node1/meminfo
	else
		echo 0
	fi
}
fact node1_memtotal_kb "$(node_total)"
check "node 1 has memory" test "$(node_total)" -gt 0

if [ "$MODE" = pin ]; then
	spawn pinned numactl --preferred=1 dgvm-probe -r /tmp/ready/pinned pin $MB64
	spawn movable numactl --preferred=1 dgvm-probe -r /tmp/ready/movable map /dev/zero 0 $MB64 private-cow 0
	for r in pinned movable; do wait_ready "/tmp/ready/$r" || die "$r ready"; done
	for r in pinned movable; do fact "numastat_${r}_node1_mb" "$(numastat -p "$(pid_of "$r")" | awk '/^Total/ {print $3}')"; done

	step "daxguard who on a kmem device with a pin"
	daxguard who /dev/dax0.0 -J >/tmp/who.json 2>/tmp/who.err
	check_eq "who exit status" 0 "$?"
	daxguard who /dev/dax0.0
	p=$(pid_of pinned)
	check "who: pinned's VmPin covers its 64 MiB" test "$(json /tmp/who.json "[.users[] | select(.pid == $p) | .vm_pin_kb] | max // 0")" -ge 65536
	check_eq "who: pinned's io_uring descriptor" "io_uring fd 3" "$(json /tmp/who.json "[.users[] | select(.pid == $p) | .pin_hint] | unique | join(\",\")")"
	check_eq "who: movable pins nothing" "0" "$(json /tmp/who.json "[.users[] | select(.pid == $(pid_of movable)) | .vm_pin_kb] | max // 0")"

	step "daxguard remove on a kmem device with a pin"
	t0=$(up)
	daxguard remove /dev/dax0.0 -g 3 >/tmp/remove.txt 2>&1
	rc=$?
	t1=$(up)
	cat /tmp/remove.txt
	fact remove_pinned "exit $rc in $(echo "$t1 - $t0" | bc) s: $(grep '^daxguard:' /tmp/remove.txt | head -c 400)"
	check_eq "remove with a pin: exit status" 1 "$rc"
	check "remove with a pin: bounded (under 60 s)" awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a < 60) }'
	check "remove names the pinned process as the one holding pages there" \
		grep -qE "^daxguard: /dev/dax0.0: memory[0-9]+ of node 1 will not go offline: $p \(dgvm-probe\): [1-9][0-9]* pages in memory[0-9]+, 64\.[0-9] MiB on the node \(VmPin 65536 kB, io_uring fd 3\) still holds pages there" /tmp/remove.txt
	reap pinned movable
	check_eq "pinned keeps running" alive "$(exit_status pinned)"
	check_eq "movable keeps running" alive "$(exit_status movable)"
	check_eq "movable has no page left on node 1" 0 "$(grep -o 'N1=[0-9]*' /proc/$(pid_of movable)/numa_maps | cut -d= -f2 | awk '{s += $1} END {print s + 0}')"
	fact after_pinned "$(daxctl list -D -d dax0.0 | tr -d ' \n' | cut -c1-200)"
	check_eq "dax0.0 still in system-ram mode" system-ram "$(daxctl list -D -d dax0.0 | jq -r '.[0].mode')"
	show_dmesg "daxguard remove on a kmem device with a pin" | head -20
	kill_all_spawned
	finish
fi
if [ "$MODE" = bench ]; then
	# pages migrated per second: daxguard remove (migrate_pages per
	# process, then the offline) against the kernel's own offline of the
	# same blocks (which migrates as it isolates), with the same processes
	MB=128
	bench_spawn() {
		for i in 1 2 3; do
			spawn "b$1$i" numactl --preferred=1 dgvm-probe -r "/tmp/ready/b$1$i" map /dev/zero 0 $((MB << 20)) private-cow 0
		done
		for i in 1 2 3; do wait_ready "/tmp/ready/b$1$i" || die "b$1$i ready"; done
	}
	node1_pages() {
		cat /proc/[0-9]*/numa_maps 2>/dev/null | grep -o ' N1=[0-9]*' | cut -d= -f2 | awk '{s += $1} END {print s + 0}'
	}
	step "bench: daxguard remove"
	bench_spawn d
	pages=$(node1_pages)
	t0=$(up)
	daxguard remove /dev/dax0.0 -J >/tmp/bench-dg.json 2>/tmp/bench-dg.err
	rc=$?
	t1=$(up)
	check_eq "bench: remove exit status" 0 "$rc"
	mig=$(json /tmp/bench-dg.json '[.steps[] | select(.stage == "migrate" and .object == "total") | .message] | join("")')
	fact bench_daxguard "$pages pages on node 1; remove took $(echo "$t1 - $t0" | bc) s; migrate: $mig"
	fact bench_daxguard_pages_per_s "$(echo "$pages / ($t1 - $t0)" | bc)"
	reap bd1 bd2 bd3
	for i in 1 2 3; do check_eq "bench: bd$i alive" alive "$(exit_status "bd$i")"; done
	# their 384 MiB now on node 0 would squeeze the kernel's run
	for i in 1 2 3; do kill -9 "$(pid_of "bd$i")"; done
	sleep 1
	reap bd1 bd2 bd3

	step "bench: the kernel's offline"
	daxctl reconfigure-device --mode=system-ram dax0.0 >/tmp/reconf2.json 2>&1 || { cat /tmp/reconf2.json; die "system-ram again"; }
	bench_spawn k
	pages=$(node1_pages)
	res=$(cat /sys/bus/dax/devices/dax0.0/resource)
	bs=$((0x$(cat /sys/devices/system/memory/block_size_bytes)))
	first=$(((res + bs - 1) / bs))
	last=$(((res + $(cat /sys/bus/dax/devices/dax0.0/size)) / bs - 1))
	t0=$(up)
	krc=0
	for b in $(seq $first $last); do
		echo offline >/sys/devices/system/memory/memory$b/state || krc=1
	done
	t1=$(up)
	check_eq "bench: the kernel offlined every block" 0 "$krc"
	fact bench_kernel "$pages pages on node 1; echo offline > memory$first..$last took $(echo "$t1 - $t0" | bc) s"
	fact bench_kernel_pages_per_s "$(echo "$pages / ($t1 - $t0)" | bc)"
	reap bk1 bk2 bk3
	for i in 1 2 3; do check_eq "bench: bk$i alive" alive "$(exit_status "bk$i")"; done
	kill_all_spawned
	finish
fi
spawn membind numactl --membind=1 dgvm-probe -r /tmp/ready/membind map /dev/zero 0 $MB64 private-cow 0
spawn preferred numactl --preferred=1 dgvm-probe -r /tmp/ready/preferred map /dev/zero 0 $MB64 private-cow 0
spawn other numactl --membind=0 dgvm-probe -r /tmp/ready/other map /dev/zero 0 $MB64 private-cow 0
ROLES="membind preferred other"
for r in $ROLES; do wait_ready "/tmp/ready/$r" || die "$r ready"; done
for r in $ROLES; do
	echo "$r: $(grep -E 'N[01]=' /proc/$(pid_of "$r")/numa_maps | grep -m1 zero)"
done
# numastat -p PID: the "Total" line, one column per node, MB
node_mb() { numastat -p "$1" | awk -v c=$(($2 + 2)) '/^Total/ {print $c}'; }
for r in $ROLES; do
	fact "numastat_${r}_node1_mb" "$(node_mb "$(pid_of "$r")" 1)"
done

step "daxguard who on a kmem device"
daxguard who /dev/dax0.0 -J >/tmp/who.json 2>/tmp/who.err
rc=$?
head -c 4000 /tmp/who.json
sed 's/^/    stderr| /' /tmp/who.err
check_eq "who /dev/dax0.0 exit status" 0 "$rc"
check_eq "who -J: the target's node" "$NODE" "$(json /tmp/who.json '.target.kmem.node // "none"')"
check_eq "who -J: every block of dax0.0" "$BLOCKS" "$(json /tmp/who.json '[.target.kmem.blocks[]? | select(.state == "online")] | length')"
check_eq "who -J: the blocks are movable" "Movable" "$(json /tmp/who.json '[.target.kmem.blocks[]?.zone] | unique | join(",")')"
pids=$(json /tmp/who.json '[.users[]? | select(.use == "node") | .pid] | unique | sort | map(tostring) | join(" ")')
who_roles=
for r in $ROLES; do echo " $pids " | grep -q " $(pid_of "$r") " && who_roles="$who_roles $r"; done
check_eq "who names the processes with pages on node $NODE" "membind preferred" "${who_roles# }"
for r in membind preferred; do
	p=$(pid_of "$r")
	mb=$(json /tmp/who.json "[.users[]? | select(.pid == $p and .use == \"node\") | .node_bytes] | add // 0 | . / 1048576")
	ref=$(node_mb "$p" 1)
	fact "who_${r}_mb" "$mb (numastat $ref)"
	check "who's count for $r ($mb MB) within 5% of numastat -p ($ref MB)" \
		awk -v a="$mb" -v b="$ref" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d <= b * 0.05) }'
done
check_eq "who: membind's policy binds it to node $NODE alone" "true" \
	"$(json /tmp/who.json "[.users[]? | select(.pid == $(pid_of membind)) | .bound] | length > 0 and all")"
check_eq "who: preferred's policy" "prefer:1" \
	"$(json /tmp/who.json "[.users[]? | select(.pid == $(pid_of preferred)) | .policy] | unique | join(\",\")")"
daxguard who /dev/dax0.0 >/tmp/who.txt 2>&1
head -30 /tmp/who.txt
check "who's table shows membind's node memory and policy" \
	grep -qE "^ *$(pid_of membind) +dgvm-probe +node +0x[0-9a-f]+ +64(\.0)? MiB +bind:1 \(bound\)" /tmp/who.txt
daxguard who /dev/dax0.0 --offset 0 --length 4096 >/tmp/whorange.txt 2>&1
rc=$?
cat /tmp/whorange.txt
check_eq "who with a range on a kmem device: exit status" 1 "$rc"
check "who with a range names the device and the cause" grep -q '/dev/dax0.0: in system-ram mode' /tmp/whorange.txt

step "daxguard remove -a report on a kmem device: refuses"
daxguard remove /dev/dax0.0 -a report >/tmp/report.txt 2>&1
rc=$?
cat /tmp/report.txt
check_eq "remove -a report with a bound process: exit status" 1 "$rc"
check "remove -a report names the cause" grep -q 'bound to node 1 alone, and the policy is report' /tmp/report.txt
check_eq "remove -a report: every block still online" "$BLOCKS" "$(daxctl list -D -d dax0.0 | jq -r '.[0].online_memblocks')"

step "daxguard remove --dry-run on a kmem device"
pref_before=$(node_mb "$(pid_of preferred)" 1)
daxguard remove /dev/dax0.0 --dry-run -J >/tmp/dry.json 2>/tmp/dry.err
rc=$?
head -c 3000 /tmp/dry.json
sed 's/^/    stderr| /' /tmp/dry.err
check_eq "remove --dry-run exit status" 0 "$rc"
check_eq "--dry-run: every block still online" "$BLOCKS" "$(daxctl list -D -d dax0.0 | jq -r '.[0].online_memblocks')"
check_eq "--dry-run: preferred keeps its pages on node 1" "$pref_before" "$(node_mb "$(pid_of preferred)" 1)"
reap $ROLES
for r in $ROLES; do check_eq "--dry-run: $r untouched" alive "$(exit_status "$r")"; done

step "daxguard remove on a kmem device"
free_before=$(node_total)
t0=$(up)
daxguard remove /dev/dax0.0 -g 3 -J >/tmp/remove.json 2>/tmp/remove.err
rc=$?
t1=$(up)
cat /tmp/remove.json
sed 's/^/    stderr| /' /tmp/remove.err
fact remove "exit $rc in $(echo "$t1 - $t0" | bc) s: $(head -c 300 /tmp/remove.err | tr '\n' ' ')"
check_eq "remove /dev/dax0.0 exit status" 0 "$rc"
sleep 0.5
reap $ROLES
check_eq "membind (bound to node 1 alone) stopped by SIGTERM" 143 "$(exit_status membind)"
check_eq "preferred keeps running" alive "$(exit_status preferred)"
check_eq "other keeps running" alive "$(exit_status other)"
check_eq "preferred has no page left on node 1" 0 "$(grep -o 'N1=[0-9]*' /proc/$(pid_of preferred)/numa_maps | cut -d= -f2 | awk '{s += $1} END {print s + 0}')"
check_eq "other never had a page on node 1" 0 "$(grep -o 'N1=[0-9]*' /proc/$(pid_of other)/numa_maps | cut -d= -f2 | awk '{s += $1} END {print s + 0}')"
fact node1_memtotal_after_kb "$(node_total) (before $free_before)"
check_eq "node 1 has no memory left" 0 "$(node_total)"
daxctl list -D -d dax0.0 >/tmp/after.json 2>&1
cat /tmp/after.json
fact after_remove "$(tr -d ' \n' </tmp/after.json | cut -c1-200)"
check_eq "dax0.0 back in devdax mode" devdax "$(jq -r '.[0].mode' /tmp/after.json)"
check_eq "dax0.0 disabled" disabled "$(jq -r '.[0].state // "enabled"' /tmp/after.json)"
check "kernel log clean after the remove" kernel_clean "daxguard remove on a kmem device"
kill_all_spawned
finish
