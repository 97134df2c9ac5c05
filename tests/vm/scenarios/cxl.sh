# SPDX-License-Identifier: GPL-2.0-or-later
# cxl-ARG: the CXL tier (run.sh's machine_args: two type-3 pmem devices,
# serials 0x1 and 0x2, on one host bridge).  ARG picks the scenario:
#   sysfs        a 2-way region and a namespace; the sysfs tree recorded
#                (DGVM-SYSFS lines: tests/fixtures/sysfs/mktree.sh)
#   interleave   a 2-way region (granularity 256) with XFS: a unique
#                pattern written at a device offset; who -J names the
#                memdev and DPA of it; who --dpa of that DPA names the
#                file page; the host reads the pattern from that memdev's
#                backing file at that DPA after the guest is off
#                (DGVM-HOSTREAD).  Then fail --dpa -a kill (as cxl-fail),
#                and bad --dpa input.
#   fail         only the fail --dpa part of interleave
#   remove       a 2-way region with two namespaces, XFS (rmapbt=1) on one
#                and ext4 on the other, each with mappers, a writer and a
#                holder.  remove of one namespace refuses, naming the
#                other; --dry-run changes nothing; remove --whole-region
#                stops everyone, unmounts both, disables both namespaces
#                and the region.  The region is then destroyed and made
#                again on the same decoders, the namespaces come back,
#                and the data is checked.  Last, remove --release memdev
#                destroys the region and disables both memdevs.
#   remove-xfs, remove-ext4   the same with one namespace and one
#                filesystem (no refusal, no --whole-region)
#   disable-baseline-region, disable-baseline-memdev   the baselines: the
#                workload of remove, released by a raw `cxl disable-region`
#                or `cxl disable-memdev -f` with no daxguard.  Records what
#                the kernel does alone (DGVM-FACT lines for
#                doc/without-daxguard.md); fails only when it cannot record.
. /dgvm/lib.sh
. /dgvm/cxl.sh
ARG=${1:-sysfs}
fact kernel "$(uname -r)"

step "CXL devices"
cxl_wait_memdevs 2 || die "two CXL memdevs with endpoint decoders"
M1=$(cxl_memdev_of 0x1)
M2=$(cxl_memdev_of 0x2)
echo "serial 0x1 is $M1, serial 0x2 is $M2"

# a file page, a unique pattern in it, and its place on the memdevs
interleave_setup() {
	step "setup: 2-way region, XFS"
	cxl_region 2 256 "$M1" "$M2" || die "a 2-way region of $M1 and $M2"
	cxl_namespace || die "an fsdax namespace"
	[ "$BLK" = /dev/pmem0 ] || die "the namespace is $BLK, not /dev/pmem0"
	mkfs_mount xfs || die "XFS on /dev/pmem0 with dax=always"
	fill "$MNT/victim.bin" $((4 << 20)) || die "victim.bin"
	fill "$MNT/other.bin" $((1 << 20)) || die "other.bin"
	PAGE=100
	# 16 bytes inside one 256-byte granule, not at its start
	POFF=$((PAGE * 4096 + 0x123))
	PATTERN="DGCXL$(head -c 5 /dev/urandom | od -An -tx1 | tr -d ' \n')x"
	printf '%s' "$PATTERN" | dd of="$MNT/victim.bin" bs=1 seek=$POFF conv=notrunc 2>/dev/null ||
		die "write the pattern"
	xfs_io -c fsync "$MNT/victim.bin"
	PHEX=$(printf '%s' "$PATTERN" | od -An -v -tx1 | tr -d ' \n')
	DEVOFF=$(dev_offset "$MNT/victim.bin" $POFF) || die "FIEMAP of victim.bin"
	echo "pattern $PATTERN ($PHEX) at victim.bin offset $POFF, /dev/pmem0 offset $DEVOFF"
}

interleave() {
	step "who: where the pattern is on the memdevs"
	dg_json where "who --offset" who /dev/pmem0 --offset "$DEVOFF" --length 16 --no-users -J
	json_vars /tmp/where.json '
		"region=\(.target.cxl.region)",
		"ways=\(.target.cxl.interleave_ways)",
		"gran=\(.target.cxl.interleave_granularity)",
		"state=\(.target.cxl.state)",
		"order=\([.target.cxl.memdevs[] | "\(.position):\(.memdev):\(.serial)"] | join(" "))",
		"pieces=\(.ranges[0].cxl | length)",
		"memdev=\(.ranges[0].cxl[0].memdev)",
		"serial=\(.ranges[0].cxl[0].serial)",
		"dpa=\(.ranges[0].cxl[0].dpa)",
		"dlen=\(.ranges[0].cxl[0].length)",
		"owner=\([.owners[] | "\(.path)@\(.file_offset)"] | join(" "))"' || die "who printed JSON"
	check_eq "target.cxl names the region" "$REGION" "$J_region"
	check_eq "2-way interleave every 256 bytes, enabled" "2 256 enabled" "$J_ways $J_gran $J_state"
	check_eq "memdevs in interleave order" "0:$M1:1 1:$M2:2" "$J_order"
	check_eq "16 bytes inside one granule are on one memdev" "1 16" "$J_pieces $J_dlen"
	check_eq "who names the file offset of the pattern" "$MNT/victim.bin@$POFF" "$J_owner"
	fact pattern_dpa "$J_memdev:$J_dpa (serial $J_serial)"

	step "who --dpa: the DPA daxguard reported names the file page"
	dg_json dpa "who --dpa" who /dev/pmem0 --dpa "$J_memdev:$J_dpa" --no-users -J
	json_vars /tmp/dpa.json '
		"owner=\([.owners[] | "\(.path)@\(.file_offset)+\(.length)"] | join(" "))",
		"ranges=\([.ranges[] | "\(.offset)+\(.length)"] | join(" "))",
		"back=\([.ranges[0].cxl[] | "\(.memdev):\(.length)"] | join(" "))"' || die "who --dpa printed JSON"
	check_eq "who --dpa $J_memdev:$J_dpa names the page of victim.bin" \
		"$MNT/victim.bin@$((PAGE * 4096))+4096" "$J_owner"
	check_eq "the range is the page of the DPA's host address" \
		"$((DEVOFF / 4096 * 4096))+4096" "$J_ranges"
	check_eq "that page is half on each memdev" "$M1:2048 $M2:2048" "$J_back"
	# the other memdev at the same DPA is the neighbouring granule
	other=$M2
	[ "$J_memdev" = "$M2" ] && other=$M1
	dg_json dpa2 "who --dpa (other memdev)" who /dev/pmem0 --dpa "$other:$J_dpa" --length 16 --no-users -J
	check_eq "the same DPA of the other memdev is the next or previous granule" 256 \
		"$(jq -r '(.ranges[0].offset - '"$DEVOFF"') | if . < 0 then -. else . end' /tmp/dpa2.json)"
	echo "DGVM-HOSTREAD $J_serial $J_dpa $PHEX pattern at $J_memdev:$J_dpa, as daxguard translated it"
	daxguard who /dev/pmem0 --offset "$DEVOFF" --length 16 --no-users >/tmp/human.out 2>&1
	sed 's/^/    who| /' /tmp/human.out
	check "who names the region and each memdev in interleave order" \
		sh -c "grep -q 'CXL $REGION (decoder0.0): .*2-way interleave every 256 bytes, enabled' /tmp/human.out &&
			grep -q 'position 0: $M1, serial 0x1, PCI' /tmp/human.out &&
			grep -q 'position 1: $M2, serial 0x2, PCI' /tmp/human.out"
	check "who's range line names the memdev and DPA of the pattern" \
		grep -q "; $J_memdev DPA $(printf '%#x' "$J_dpa")+0x10" /tmp/human.out

	step "bad --dpa input changes nothing"
	daxguard who /dev/pmem0 --dpa mem9:0x1000 >/tmp/b1.out 2>&1
	check_eq "an unknown memdev: exit 1" 1 $?
	check "... named, with the cause" grep -q "mem9: no such CXL memdev" /tmp/b1.out
	daxguard who /dev/pmem0 --dpa "$M1:0x20000000" >/tmp/b2.out 2>&1
	check_eq "a DPA past the decoder: exit 1" 1 $?
	check "... names the memdev and its mapped ranges" \
		grep -q "$M1: DPA 0x20000000 is outside every committed decoder; its mapped ranges: 0x0-0x1fffffff" /tmp/b2.out
	daxguard who /dev/pmem0 --dpa "$M1:0x1000" >/tmp/b3.out 2>&1
	check_eq "a DPA in the namespace's metadata: exit 1" 1 $?
	check "... says it is not on /dev/pmem0" grep -q "not on /dev/pmem0" /tmp/b3.out
	daxguard who /dev/pmem0 --dpa "$M1" >/tmp/b4.out 2>&1
	check_eq "a malformed --dpa: exit 2" 2 $?
	cat /tmp/b1.out /tmp/b2.out /tmp/b3.out /tmp/b4.out | sed 's/^/    /'
	check "still mounted, nothing changed" grep -q " $MNT " /proc/mounts

	step "daxguard list"
	daxguard list -J >/tmp/list.json 2>&1
	check_eq "list shows pmem0 on the region, memdevs in order" "$REGION $M1,$M2" \
		"$(jq -r '.devices[] | select(.device == "/dev/pmem0") | "\(.cxl.region) \([.cxl.memdevs[].memdev] | join(","))"' /tmp/list.json)"
	daxguard list -o NAME,CXL-REGION,MEMDEVS,INTERLEAVE
}

# fail --dpa -a kill: exactly the mappers of the page die
cxl_fail() {
	step "fail --dpa --action kill"
	off=$((PAGE * 4096))
	spawn whole dgvm-probe -r /tmp/ready/whole map "$MNT/victim.bin" 0 0 shared-ro 0
	spawn page dgvm-probe -r /tmp/ready/page map "$MNT/victim.bin" $off 4096 private-ro 0
	spawn around dgvm-probe -r /tmp/ready/around map "$MNT/victim.bin" $((off - 16384)) 49152 shared-ro 0
	spawn below dgvm-probe -r /tmp/ready/below map "$MNT/victim.bin" 0 $off shared-ro 0
	spawn above dgvm-probe -r /tmp/ready/above map "$MNT/victim.bin" $((off + 4096)) 0 shared-ro 0
	spawn other dgvm-probe -r /tmp/ready/other map "$MNT/other.bin" 0 0 shared-ro 0
	spawn fd dg-mapper -r /tmp/ready/fd hold:"$MNT/victim.bin"
	wait_ready /tmp/ready/whole /tmp/ready/page /tmp/ready/around /tmp/ready/below \
		/tmp/ready/above /tmp/ready/other /tmp/ready/fd || die "users ready"
	HIT="whole page around"
	SPARED="below above other fd"
	dpa=$(jq -r '.ranges[0].cxl[0].dpa' /tmp/where.json)
	memdev=$(jq -r '.ranges[0].cxl[0].memdev' /tmp/where.json)
	daxguard fail /dev/pmem0 --dpa "$memdev:$dpa" -a kill -J >/tmp/fail.json 2>/tmp/fail.err
	rc=$?
	cat /tmp/fail.json
	sed 's/^/    stderr| /' /tmp/fail.err
	check_eq "fail --dpa exit status" 0 "$rc"
	json_vars /tmp/fail.json '
		"owners=\([.owners[] | "\(.path)@\(.file_offset)+\(.length)"] | unique | join(" "))",
		"killed=\([.processes[] | select(.signals | index("KILL")) | .pid] | unique | sort | map(tostring) | join(" "))"' ||
		die "fail printed JSON"
	check_eq "fail --dpa names the page of victim.bin" "$MNT/victim.bin@$off+4096" "$J_owners"
	sleep 0.5
	reap $HIT $SPARED
	want=$(for r in $HIT; do pid_of "$r"; done | sort -n | tr '\n' ' ')
	check_eq "fail --dpa killed exactly the mappers of the page" "${want% }" "$J_killed"
	for r in $SPARED; do
		check "$r: not hit, still alive" alive "$(pid_of "$r")"
	done
	fact kill "fail --dpa $memdev:$dpa: killed $HIT; spared $SPARED"
	check "kernel log clean" kernel_clean "fail --dpa --action kill"
	kill_all_spawned
}

# the remove scenarios: TAGS are the filesystems' mounts (/mnt/a: XFS,
# /mnt/b: ext4)
cxl_remove() {
	step "setup: 2-way region, $TAGS"
	cxl_region 2 256 "$M1" "$M2" || die "a 2-way region"
	for tag in $TAGS; do
		case $tag in a) fs=xfs ;; b) fs=ext4 ;; esac
		size=
		[ "$TAGS" = "a b" ] && [ $tag = a ] && size=400M
		cxl_fs $tag $fs "$size" || die "$fs on a namespace of $REGION"
		cxl_workload $tag || die "the workload on /mnt/$tag"
	done
	sleep 1
	for tag in $TAGS; do cxl_sums $tag || die "checksums of /mnt/$tag"; done
	ROLES=$(for tag in $TAGS; do echo "${tag}rw ${tag}writer ${tag}holder"; done | tr '\n' ' ')
	# what remove is given: the first namespace's device
	T1=${TAGS%% *}
	eval "TDEV=\$DEV_$T1"
	ndctl list -N | tr -d '\n' | sed 's/  */ /g'
	echo

	if [ "$TAGS" = "a b" ]; then
		step "remove of one namespace of the region refuses"
		daxguard remove "$DEV_a" -g 5 -J >/tmp/refuse.json 2>/tmp/refuse.err
		rc=$?
		cat /tmp/refuse.err
		check_eq "remove $DEV_a without --whole-region: exit 1" 1 "$rc"
		check "... names the other namespace's device" grep -q "also holds $DEV_b" /tmp/refuse.err
		still=0
		for r in $ROLES; do alive "$(pid_of "$r")" && still=$((still + 1)); done
		check_eq "... every process still runs" "$(echo $ROLES | wc -w)" "$still"
		check "... both still mounted" sh -c "grep -q ' /mnt/a ' /proc/mounts && grep -q ' /mnt/b ' /proc/mounts"
		fact refuse "$(head -1 /tmp/refuse.err)"
		WR=--whole-region
	fi

	step "remove --dry-run"
	dg_json dry "remove --dry-run" remove $WR "$TDEV" -n -J
	check "the plan disables the region" \
		jq -e '[.steps[] | select(.stage == "release" and .object == "'"$REGION"'")] | length == 1' /tmp/dry.json
	still=0
	for r in $ROLES; do alive "$(pid_of "$r")" && still=$((still + 1)); done
	check_eq "--dry-run: every process still runs" "$(echo $ROLES | wc -w)" "$still"
	check "--dry-run: the region is still enabled" test -e "/sys/bus/cxl/devices/$REGION/driver"

	step "daxguard remove"
	t0=$(up)
	daxguard remove $WR "$TDEV" -g 5 -J >/tmp/remove.json 2>/tmp/remove.err
	rc=$?
	t1=$(up)
	cat /tmp/remove.json
	sed 's/^/    stderr| /' /tmp/remove.err
	fact release "daxguard remove $WR -g 5: exit $rc after $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')s"
	check_eq "daxguard remove exit status" 0 "$rc"
	json_vars /tmp/remove.json '
		"complete=\(.complete)",
		"pids=\([.processes[].pid] | unique | map(tostring) | join(" "))",
		"badsteps=\([.steps[] | select(.ok != true) | "\(.stage) \(.object): \(.message)"] | join("; "))",
		"release=\([.steps[] | select(.stage == "release") | "\(.object): \(.message)"] | join("; "))"' ||
		die "remove printed JSON"
	check_eq "remove reports complete" true "$J_complete"
	check_eq "every remove step ok" "" "$J_badsteps"
	echo "release steps: $J_release"
	fact release_steps "$J_release"
	if [ "$TAGS" = "a b" ]; then
		check "the release disabled the other namespace (namespace0.1) before the region" \
			sh -c "echo '$J_release' | grep -q 'namespace0.1: namespace namespace0.1 disabled; $REGION: CXL region disabled'"
	fi
	sleep 0.5
	reap $ROLES
	want=$(for r in $ROLES; do pid_of "$r"; done | sort -n | tr '\n' ' ')
	check_eq "remove acted on exactly the workload processes" "${want% }" "$J_pids"
	for r in $ROLES; do
		out=$(role_outcome "$r")
		fact "proc.$r" "$out"
		check_eq "$r stopped by SIGTERM, no SIGBUS" "SIGTERM; SIGBUS codes: none" "$out"
	done
	for tag in $TAGS; do
		check "/mnt/$tag is no longer mounted" sh -c "! grep -q ' /mnt/$tag ' /proc/mounts"
		eval "d=\$DEV_$tag"
		check "$d is gone" sh -c "! [ -e $d ]"
	done
	check "the region is disabled (no driver)" sh -c "! [ -e /sys/bus/cxl/devices/$REGION/driver ]"
	check_eq "the region stays committed" 1 "$(cat /sys/bus/cxl/devices/$REGION/commit)"
	fact kernel_log "$(kernel_summary "daxguard remove")"
	check "no Oops, warning, shutdown or corruption in the kernel log" kernel_clean "daxguard remove"
	show_dmesg "daxguard remove"

	step "the region and namespaces again, on the same decoders"
	decoders=$(cat /sys/bus/cxl/devices/$REGION/target0 /sys/bus/cxl/devices/$REGION/target1 | tr '\n' ' ')
	cxl destroy-region "$REGION" 2>&1 || fail "cxl destroy-region $REGION"
	cxl_region 2 256 "$M1" "$M2" || die "the region again"
	check_eq "the region is on the same endpoint decoders" "$decoders" \
		"$(cat /sys/bus/cxl/devices/$REGION/target0 /sys/bus/cxl/devices/$REGION/target1 | tr '\n' ' ')"
	# the namespaces come back from the labels (non-zero serials)
	for tag in $TAGS; do
		eval "d=\$DEV_$tag fs=\$FS_$tag"
		wait_ready "$d" || { ndctl list -N; fail "$d back from the labels"; continue; }
		mount -t "$fs" -o dax=always "$d" "/mnt/$tag" || { fail "mount $d again"; continue; }
		data=$(cxl_data $tag)
		drc=$?
		echo "$fs: $data"
		fact "data.$fs" "$data"
		check "$fs: data written before the remove is intact: $data" test $drc = 0
	done
	fact reenable "cxl destroy-region, cxl create-region on $decoders: the namespaces came back from their labels"

	step "remove --release memdev"
	spawn last dgvm-probe -r /tmp/ready/last map "/mnt/$T1/data/static.bin" 0 0 shared-ro 500
	wait_ready /tmp/ready/last || die "a mapper for --release memdev"
	daxguard remove $WR --release memdev "$TDEV" -g 2 -J >/tmp/memdev.json 2>/tmp/memdev.err
	rc=$?
	sed 's/^/    stderr| /' /tmp/memdev.err
	check_eq "remove --release memdev exit status" 0 "$rc"
	jq -r '.steps[] | select(.stage == "release") | "    release| \(.object): \(.message)"' /tmp/memdev.json
	check "the region is destroyed" sh -c "! [ -e /sys/bus/cxl/devices/$REGION ]"
	for m in $M1 $M2; do
		check "$m is disabled (no driver)" sh -c "! [ -e /sys/bus/cxl/devices/$m/driver ]"
	done
	reap last
	check_eq "the mapper was stopped by SIGTERM" 143 "$(exit_status last)"
	check "kernel log clean after --release memdev" kernel_clean "remove --release memdev"
	show_dmesg "remove --release memdev"
}

# what the kernel does alone: $1 is region or memdev
cxl_baseline() {
	how=$1
	TAGS="a b"
	step "setup: 2-way region, XFS and ext4"
	cxl_region 2 256 "$M1" "$M2" || die "a 2-way region"
	cxl_fs a xfs 400M || die "XFS on a namespace"
	cxl_workload a || die "the workload on /mnt/a"
	cxl_fs b ext4 "" || die "ext4 on a namespace"
	cxl_workload b || die "the workload on /mnt/b"
	sleep 1
	cxl_sums a && cxl_sums b || die "checksums"
	ROLES="arw awriter aholder brw bwriter bholder"
	case $how in
	region) cmd="cxl disable-region $REGION" ;;
	memdev) cmd="cxl disable-memdev -f $M1" ;;
	esac
	fact method "raw $cmd"

	step "raw release"
	t0=$(up)
	( timeout 60 $cmd >/tmp/raw.log 2>&1; echo "$? $(up)" >/tmp/raw.done ) &
	i=0
	while [ ! -e /tmp/raw.done ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	cat /tmp/raw.log
	if read -r rrc t1 </tmp/raw.done 2>/dev/null; then
		res="$cmd: exit $rrc after $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')s"
	else
		res="$cmd: still blocked after 60s"
	fi
	fact release "$res"
	pass "raw release recorded: $res"
	sleep 3
	reap $ROLES
	still=
	for r in $ROLES; do alive "$(pid_of "$r")" && still="$still $r"; done
	fact alive_after "${still# }"
	fact kernel_log "$(kernel_summary "raw release")"
	show_dmesg "raw release"
	for tag in a b; do
		eval "fs=\$FS_$tag"
		fact "$fs.writer_error" "$(sed -n 's/^writer pid=[0-9]* write of record [0-9]*: //p' "$LOGS/${tag}writer.log" | head -1)"
		a_ls=$(timeout 10 ls "/mnt/$tag/data" >/dev/null 2>&1; echo $?)
		a_read=$(timeout 10 cat "/mnt/$tag/data/static.bin" >/dev/null 2>&1; echo $?)
		a_create=$(timeout 10 sh -c "echo x > /mnt/$tag/new" 2>/dev/null; echo $?)
		fact "$fs.access" "ls exit $a_ls, read exit $a_read, create exit $a_create"
	done
	kill_all_spawned
	for r in $ROLES; do fact "proc.$r" "$(role_outcome "$r")"; done
	k=$(kernel_summary "raw release")
	for tag in a b; do
		eval "fs=\$FS_$tag d=\$DEV_$tag"
		case $k in
		*"$fs-shutdown"*) after="$fs shut down, still mounted" ;;
		*remounted-ro*) after="remounted read-only, still mounted" ;;
		*) after="still mounted, no filesystem error logged" ;;
		esac
		[ -e "$d" ] || after="$after; $d is gone"
		fact "$fs.fs_after" "$after"
	done

	for tag in a b; do
		eval "fs=\$FS_$tag"
		step "umount $fs"
		timeout 20 umount "/mnt/$tag" >/tmp/umount.log 2>&1
		urc=$?
		cat /tmp/umount.log
		case $urc in
		0) um="exit 0" ;;
		124|143) um="hung (killed after 20 s)" ;;
		*) um="exit $urc" ;;
		esac
		fact "$fs.umount" "$um; kernel: $(kernel_summary "umount $fs")"
		show_dmesg "umount $fs"
		echo "3 4 1 3" >/proc/sys/kernel/printk
	done

	step "bring it back and read the data"
	case $how in
	region) timeout 30 cxl enable-region "$REGION" >/tmp/back.log 2>&1 ;;
	memdev) timeout 30 cxl enable-memdev "$M1" >/tmp/back.log 2>&1 &&
		timeout 30 cxl enable-region "$REGION" >>/tmp/back.log 2>&1 ;;
	esac
	brc=$?
	cat /tmp/back.log
	for tag in a b; do
		eval "fs=\$FS_$tag d=\$DEV_$tag"
		if [ $brc != 0 ] || ! wait_ready "$d" >/dev/null; then
			fact "$fs.data" "not checked: the region could not be enabled again in this boot ($(tail -1 /tmp/back.log | cut -c1-100))"
			continue
		fi
		via=
		if ! timeout 30 mount -t "$fs" -o dax=always "$d" "/mnt/$tag" >/tmp/mount.log 2>&1; then
			# the dead superblock of an Oopsed unmount holds the name:
			# read the data through a loop device on the namespace
			why=$(head -1 /tmp/mount.log)
			opt=
			[ "$fs" = xfs ] && opt="-o nouuid"
			loop=$(losetup -f 2>/dev/null)
			if [ -n "$loop" ] && losetup "$loop" "$d" &&
				timeout 30 mount -t "$fs" $opt "$loop" "/mnt/$tag" >/tmp/mount.log 2>&1; then
				via=" (read through a loop device: mounting $d failed: $why)"
			else
				fact "$fs.data" "not checked: mount failed ($why), through a loop device too ($(head -1 /tmp/mount.log))"
				continue
			fi
		fi
		data=$(cxl_data $tag)
		timeout 20 umount "/mnt/$tag"
		[ -n "$via" ] && losetup -d "$loop"
		fact "$fs.data" "$data$via"
	done
	fact kernel_log_after "$(kernel_summary "bring it back and read the data")"
	show_dmesg "bring it back and read the data"
}

case $ARG in
disable-baseline-region)
	cxl_baseline region
	;;
disable-baseline-memdev)
	cxl_baseline memdev
	;;
remove)
	TAGS="a b"
	cxl_remove
	;;
remove-xfs)
	TAGS=a
	cxl_remove
	;;
remove-ext4)
	TAGS=b
	cxl_remove
	;;
interleave)
	interleave_setup
	interleave
	cxl_fail
	cxl_record_sysfs >/tmp/sysfs.txt
	grep -c . /tmp/sysfs.txt
	cat /tmp/sysfs.txt
	umount "$MNT"
	;;
fail)
	interleave_setup
	daxguard who /dev/pmem0 --offset "$DEVOFF" --length 16 --no-users -J >/tmp/where.json
	cxl_fail
	umount "$MNT"
	;;
sysfs)
	cxl_region 2 256 "$M1" "$M2" || die "a 2-way region"
	cxl_namespace || die "an fsdax namespace"
	cxl list -vvv -M -D -R -P -E 2>&1 | head -150
	cxl_record_sysfs
	ls -la /sys/bus/cxl/devices/ /sys/bus/nd/devices/
	cat /sys/bus/cxl/devices/"$M1"/trigger_poison_list 2>&1
	ls /sys/kernel/tracing/events/cxl/ 2>&1
	;;
esac
finish
