#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# tests/vm/mkdoc.sh RUNDIR: print doc/without-daxguard.md from the logs of
# the remove-{xfs,ext4} and unbind-{xfs,ext4} scenarios of a run.sh run,
# and of cxl-remove and cxl-disable-baseline-{region,memdev}
# (RUNDIR holds LABEL-SCENARIO.log files; $DGVM_CACHE/logs/latest does too).
# run.sh --write-doc calls it.
set -euo pipefail
RUNDIR=${1:?usage: mkdoc.sh RUNDIR}
KERNELS="6.1 6.12"
FSS="xfs ext4"

# fact LOG NAME: the value of the first "DGVM-FACT NAME=..." line
fact() {
	[ -r "$1" ] || { echo "(not run)"; return; }
	tr -d '\r' <"$1" | sed -n "s/^DGVM-FACT $2=//p" | head -1
}
cell() { sed 's/|/\\|/g' | tr '\n' ' ' | sed 's/ *$//'; }

# kernel log tags (guest/lib.sh kernel_summary) in words
tags() {
	local t out="" n
	local IFS=';'
	for t in $1; do
		t=${t# }
		case $t in
		"") ;;
		quiet) out="$out; nothing" ;;
		pre-remove-notice) out="$out; \"Device is about to be removed!\" (MF_MEM_PRE_REMOVE)" ;;
		xfs-shutdown) out="$out; XFS shut down" ;;
		corruption*) out="$out; \"${t#corruption(}"; out="${out%)}\" reported" ;;
		ext4-shutdown) out="$out; \"EXT4-fs (pmem0): shut down requested\", journal aborted" ;;
		ext4-errors) out="$out; EXT4-fs errors (aborted journal)" ;;
		remounted-ro) out="$out; remounted read-only" ;;
		io-errors) out="$out; I/O errors" ;;
		sigbus-lines:*) n=${t#sigbus-lines:}; out="$out; $n \"Sending SIGBUS\" lines" ;;
		*) out="$out; $t" ;;
		esac
	done
	echo "${out#; }"
}

# processes LOG: one cell about the six workload processes
processes() {
	local log=$1 r v sig="" how="" method alive werr
	method=$(fact "$log" method)
	for r in rw ro priv writer unsync holder; do
		v=$(fact "$log" "proc.$r")
		sig="$sig, $r: ${v#*SIGBUS codes: }"
		how="$how ${v%%;*}"
	done
	sig=$(echo "${sig#, }" | sed 's/BUS_//g')
	werr=$(fact "$log" writer_error)
	if [ "$method" = "daxguard remove" ]; then
		if [ "$(echo $how | tr ' ' '\n' | sort -u)" = SIGTERM ]; then
			echo "all 6 stopped by daxguard with SIGTERM. SIGBUS seen: $sig."
		else
			echo "ended by:$how. SIGBUS seen: $sig."
		fi
	else
		alive=$(fact "$log" alive_after)
		echo "SIGBUS seen: $sig. Writer's write(2): ${werr:-no error}. Still running 3 s after the unbind: ${alive:-none} (the test killed them)."
	fi
}

# summary: bullets counted over the runs in the table
summary() {
	local k fs log n=0 alive=0 dup=0 oops=0 intact=0 down=0 nd=0 rn=0 rok=0 names="" rnames=""
	for k in $KERNELS; do
		for fs in $FSS; do
			log=$RUNDIR/$k-unbind-$fs.log
			if [ -r "$log" ]; then
				n=$((n + 1))
				names="$names, $k $fs"
				fact "$log" umount | grep -q Oops && oops=$((oops + 1))
				fact "$log" data | grep -q '^4/4 files intact.*fsck exit 0' && intact=$((intact + 1))
				fact "$log" fs_after | grep -qE 'shut down|read-only' && down=$((down + 1))
				fact "$log" ndctl_disable | grep -q 'exit 240' && nd=$((nd + 1))
				[ "$(fact "$log" alive_after | wc -w)" = 6 ] && alive=$((alive + 1))
			fi
			log=$RUNDIR/$k-remove-$fs.log
			if [ -r "$log" ]; then
				rn=$((rn + 1))
				rnames="$rnames, $k $fs"
				tr -d '\r' <"$log" | grep -q 'DGVM-CHECK FAIL each process is listed once' && dup=$((dup + 1))
				# every check passed, or only the duplicate-entry one failed
				if ! tr -d '\r' <"$log" | grep 'DGVM-CHECK FAIL' | grep -qv 'listed once' &&
					tr -d '\r' <"$log" | grep -q '^DGVM-RESULT '; then
					rok=$((rok + 1))
				fi
			fi
		done
	done
	echo "- Raw sysfs unbind ($n runs:${names#,}):"
	echo "  - \`ndctl disable-namespace\` refused the mounted namespace (exit 240, EBUSY) in $nd of $n;"
	echo "  - the kernel shut the filesystem down, or (ext4 on 6.1) aborted its journal and remounted it"
	echo "    read-only at the first access, in $down of $n; the mount stays: nothing unmounts it;"
	echo "  - all six processes were still running 3 s after the unbind in $alive of $n (the probes catch"
	echo "    SIGBUS; the writer only gets errors from write(2); holders get nothing);"
	echo "  - the later \`umount\` hit a kernel Oops in $oops of $n; the kernel is tainted from then on,"
	echo "    and the rebound /dev/pmem0 cannot be mounted again (the dead superblock keeps its sysfs or"
	echo "    jbd2 entries: EEXIST), so the test reads the data through a loop device;"
	echo "  - what had reached the filesystem before the unbind was intact after log recovery in"
	echo "    $intact of $n (for this workload: a few MiB, one writer appending every 10 ms)."
	echo "- \`daxguard remove\` ($rn runs:${rnames#,}): every user stopped with SIGTERM and no SIGBUS,"
	echo "  a clean unmount, a quiet kernel log, the namespace enabled again and the data intact, in"
	if [ "$dup" -gt 0 ]; then
		echo "  $rok of $rn (in $dup of them its JSON listed a process twice, a daxguard bug not counted here)."
	else
		echo "  $rok of $rn."
	fi
}

row() {
	local k=$1 fs=$2 how=$3 log kver rel procs fsafter um data klog
	log=$RUNDIR/$k-$how-$fs.log
	if [ ! -r "$log" ]; then
		echo "| $k | $fs | $how | not run | | | | |"
		return
	fi
	kver=$(fact "$log" kernel)
	rel=$(fact "$log" release)
	procs=$(processes "$log")
	fsafter=$(fact "$log" fs_after)
	um=$(fact "$log" umount)
	data=$(fact "$log" data)
	klog=$(tags "$(fact "$log" kernel_log)")
	if [ "$how" = unbind ]; then
		local after
		after=$(fact "$log" kernel_log_after)
		klog="at the unbind: $klog. At umount: $(tags "${um#*kernel: }"). At the remount: $(tags "$after")"
		um=${um%%;*}
		fsafter="$fsafter; then: $(fact "$log" access)"
		how="raw sysfs unbind"
	else
		how="daxguard remove"
		fsafter="$fsafter; namespace back with: $(fact "$log" reenable)"
	fi
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		"$(echo "$k ($kver)" | cell)" "$(echo "$fs" | cell)" "$(echo "$how: $rel" | cell)" \
		"$(echo "$procs" | cell)" "$(echo "$fsafter" | cell)" "$(echo "$um" | cell)" \
		"$(echo "$data" | cell)" "$(echo "$klog" | cell)"
}

# cxl_row KERNEL HOW FS: one row of the CXL table; HOW is a scenario's
# argument (disable-baseline-region, disable-baseline-memdev, remove)
cxl_row() {
	local k=$1 how=$2 fs=$3 tag log kver rel procs sig="" r v after um data klog
	case $fs in xfs) tag=a ;; ext4) tag=b ;; esac
	log=$RUNDIR/$k-cxl-$how.log
	if [ ! -r "$log" ]; then
		echo "| $k | $fs | cxl-$how | not run | | | | |"
		return
	fi
	kver=$(fact "$log" kernel)
	rel=$(fact "$log" release)
	for r in rw writer holder; do
		v=$(fact "$log" "proc.$tag$r")
		sig="$sig, $r: ${v%%;*} (SIGBUS ${v#*SIGBUS codes: })"
	done
	procs=$(echo "${sig#, }" | sed 's/BUS_//g')
	klog=$(tags "$(fact "$log" kernel_log)")
	if [ "$how" = remove ]; then
		after="unmounted by daxguard; $(fact "$log" release_steps)"
		um="done by daxguard"
		data="$(fact "$log" "data.$fs"); $(fact "$log" reenable)"
	else
		after="$(fact "$log" "$fs.fs_after"); then: $(fact "$log" "$fs.access"); writer's write(2): $(fact "$log" "$fs.writer_error")"
		v=$(fact "$log" "$fs.umount")
		um="${v%%;*}; kernel: $(tags "${v#*kernel: }")"
		data=$(fact "$log" "$fs.data")
		klog="$klog. When the region came back: $(tags "$(fact "$log" kernel_log_after)")"
	fi
	printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' \
		"$(echo "$k ($kver)" | cell)" "$(echo "$fs" | cell)" "$(echo "$rel" | cell)" \
		"$(echo "$procs" | cell)" "$(echo "$after" | cell)" "$(echo "$um" | cell)" \
		"$(echo "$data" | cell)" "$(echo "$klog" | cell)"
}

cxl_section() {
	local k how fs
	cat <<'EOF'

## CXL memory: a busy region released by the cxl tool, and by daxguard

The same question on a CXL region (tests/vm/scenarios/cxl.sh): QEMU 7.2,
`-machine q35,cxl=on`, two type-3 persistent-memory devices (512 MiB
each) interleaved 2 ways every 256 bytes in one region, with two fsdax
namespaces on it: XFS (`rmapbt=1`) on the first, ext4 on the second,
both `dax=always`.  On each filesystem three processes: `rw` (a shared
`MAP_SYNC` mapping it rewrites every 0.5 s), `writer` (checksummed
records with write(2)) and `holder` (its working directory there and a
file open).  Before the release: sha256 of two files per filesystem and
the writer's record count.

- "cxl disable-region": `cxl disable-region region0` while all of that
  runs (it exits 0: unlike `ndctl disable-namespace`, it does not refuse
  a mounted namespace).  Then 3 s, `ls`, `cat` and a file creation, the
  workload SIGKILLed by the test, `umount` of each, `cxl enable-region`,
  and the data read back (through a loop device when mounting fails).
- "cxl disable-memdev -f": the same with `cxl disable-memdev -f` of one
  memdev; QEMU 7.2 cannot commit its decoder again in the same boot.
- "daxguard remove": `daxguard remove --whole-region /dev/pmem0 -g 5`;
  afterwards the region is destroyed and made again on the same
  decoders (`cxl destroy-region`, `cxl create-region`), the namespaces
  come back from their labels, and the data is checked.

| kernel | fs | release | processes | filesystem after | unmount | data | kernel log |
|---|---|---|---|---|---|---|---|
EOF
	for k in $KERNELS; do
		for how in disable-baseline-region disable-baseline-memdev remove; do
			for fs in $FSS; do
				cxl_row "$k" "$how" "$fs"
			done
		done
	done
	echo
	echo "A row \"not run\" is a scenario the run that wrote this page did not boot (CI"
	echo "boots the CXL baselines on 6.12 only; \`tests/vm/run.sh --kernel 6.1"
	echo "cxl-disable-baseline-region cxl-disable-baseline-memdev\` runs them on 6.1)."
}

cat <<'EOF'
# Releasing a busy pmem device: the kernel alone, and with daxguard

This page is generated by `tests/vm/run.sh --write-doc` (tests/vm/mkdoc.sh)
from the logs of the `remove-*` and `unbind-*` scenarios of the real-DAX
tier.  Do not edit the tables by hand: run

    tests/vm/run.sh --write-doc remove-xfs remove-ext4 unbind-xfs unbind-ext4 \
        cxl-remove cxl-disable-baseline-region cxl-disable-baseline-memdev

## The setup

- QEMU 7.2 under TCG, `-machine pc,nvdimm=on`, one 1 GiB emulated NVDIMM
  (label-less), reconfigured with `ndctl create-namespace -f -e
  namespace0.0 -m fsdax` (pfn0.0, struct pages on the device).
- Debian's kernels, unmodified: bookworm's 6.1 and bookworm-backports' 6.12.
- XFS made with `mkfs.xfs -m rmapbt=1,reflink=0`, or ext4 (`mkfs.ext4 -b
  4096`), mounted `-o dax=always`.
- Six processes use it (tests/vm/guest/lib.sh, `workload_start`):
  - `rw`: a shared read-write `MAP_SYNC` mapping of a 4 MiB file that it
    filled through the mapping; it rewrites a byte of every page every 0.5 s;
  - `ro`: a shared read-only mapping of another 4 MiB file, read every 0.5 s;
  - `priv`: a private read-only mapping of the first MiB of that file;
  - `writer`: appends checksummed 4 KiB records with write(2), no fsync;
  - `unsync`: wrote a 3 MB file without fsync and keeps it open;
  - `holder`: has its working directory on the filesystem and a file open.
- Before the release: sha256 of four files (one fsynced, two written through
  mappings, one never synced), and the writer's record count.
- "raw sysfs unbind": `echo pfn0.0 > /sys/bus/nd/drivers/nd_pmem/unbind`
  while all of that runs (`ndctl disable-namespace` would unbind it too, but
  it refuses a mounted namespace: exit 240, EBUSY, on both kernels).  The
  test then waits 3 s, tries `ls`, `cat`, a file creation and a new mapping,
  SIGKILLs the workload, runs `umount`, binds pfn0.0 again and mounts the
  filesystem (through a loop device when mounting /dev/pmem0 fails) to
  check the data.
- "daxguard remove": `daxguard remove /dev/pmem0 -g 5` under the same load;
  afterwards the namespace is enabled again, mounted, and checked.

## What happens

EOF
echo "| kernel | fs | release | processes | filesystem after | unmount | data after a remount | kernel log |"
echo "|---|---|---|---|---|---|---|---|"
for k in $KERNELS; do
	for fs in $FSS; do
		row "$k" "$fs" unbind
		row "$k" "$fs" remove
	done
done
cat <<'EOF'

SIGBUS codes: `ADRERR` is a fault on an address the kernel can no longer
back (the page tables were zapped and the device is gone); `MCEERR_AO` is the
"action optional" memory-failure signal that 6.12's MF_MEM_PRE_REMOVE path
sends to every process that maps a page of the going device, page by page
(they coalesce: a process sees one or many).  "none" means the process saw
no SIGBUS.

## In short

EOF
summary
cxl_section
cat <<'EOF'

## Raw observations

Every `DGVM-FACT` line of the runs the tables come from:

EOF
for k in $KERNELS; do
	for how in unbind remove; do
		for fs in $FSS; do
			log=$RUNDIR/$k-$how-$fs.log
			[ -r "$log" ] || continue
			echo "### $k $how-$fs"
			echo
			echo '```'
			tr -d '\r' <"$log" | sed -n 's/^DGVM-FACT //p'
			echo '```'
			echo
		done
	done
	for how in disable-baseline-region disable-baseline-memdev remove; do
		log=$RUNDIR/$k-cxl-$how.log
		[ -r "$log" ] || continue
		echo "### $k cxl-$how"
		echo
		echo '```'
		tr -d '\r' <"$log" | sed -n 's/^DGVM-FACT //p'
		echo '```'
		echo
	done
done
