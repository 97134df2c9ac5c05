// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What the event sources read from the kernel log: /dev/kmsg records,
 * the memory-failure lines of mm/memory-failure.c (as the 6.1 and 6.12
 * guests of the QEMU tier logged them), and pciehp's attention-button
 * lines, old and new form; and damaged or hostile variants of each.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

#include "check.h"

static void records(void)
{
	char buf[512];
	struct dg_kmsg_record r;

	snprintf(buf, sizeof(buf),
		 "3,1534,7175748,-;Memory failure: 0x109298: recovery action for dax page: "
		 "Recovered\n");
	CHECK(dg_kmsg_parse_record(buf, strlen(buf), &r) == 0, "a plain record");
	CHECK(r.facility == 0 && r.level == 3 && r.seq == 1534, "facility %d level %d seq %" PRIu64,
	      r.facility, r.level, r.seq);
	CHECK(!strcmp(r.message,
		      "Memory failure: 0x109298: recovery action for dax page: Recovered"),
	      "message '%s'", r.message);
	snprintf(buf, sizeof(buf),
		 "6,2001,99,-,caller=T12;pcieport 0000:00:1c.0: Slot(1): Button press: will power "
		 "off in 5 sec\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:1c.0\n");
	CHECK(dg_kmsg_parse_record(buf, strlen(buf), &r) == 0, "a record with keys");
	CHECK(r.device && !strcmp(r.device, "+pci:0000:00:1c.0"), "DEVICE= '%s'",
	      r.device ?: "(none)");
	CHECK(!strcmp(r.message,
		      "pcieport 0000:00:1c.0: Slot(1): Button press: will power off in 5 sec"),
	      "message with keys '%s'", r.message);
	/* a process wrote it: facility user */
	snprintf(buf, sizeof(buf), "12,7,8,-;Memory failure: 0x1: recovery action for x: Failed\n");
	CHECK(dg_kmsg_parse_record(buf, strlen(buf), &r) == 0 && r.facility == 1,
	      "a user record: facility %d", r.facility);
	snprintf(buf, sizeof(buf), "garbage without a semicolon\n");
	CHECK(dg_kmsg_parse_record(buf, strlen(buf), &r) == -EINVAL, "garbage taken");
	snprintf(buf, sizeof(buf), "x,1,2,-;text\n");
	CHECK(dg_kmsg_parse_record(buf, strlen(buf), &r) == -EINVAL, "a bad priority taken");
}

static const struct {
	const char *line;
	int rc;
	enum dg_mf_line_type type;
	uint64_t pfn;
	pid_t pid;
	const char *result;
} mf[] = {
	/* 6.1 and 6.12, hwpoison scenario */
	{ "Memory failure: 0x109298: Sending SIGBUS to dgvm-probe:126 due to hardware memory "
	  "corruption",
	  1, DG_MF_LINE_SIGNAL, 0x109298, 126, NULL },
	{ "Memory failure: 0x101240: recovery action for dax page: Recovered", 1, DG_MF_LINE_RESULT,
	  0x101240, 0, "Recovered" },
	{ "Memory failure: 0x1a2b3: recovery action for huge page: Delayed", 1, DG_MF_LINE_RESULT,
	  0x1a2b3, 0, "Delayed" },
	{ "Memory failure: 0x1a2b3: recovery action for unsplit thp: Failed", 1, DG_MF_LINE_RESULT,
	  0x1a2b3, 0, "Failed" },
	/* older kernels */
	{ "Memory failure: 0x2c3f1: Killing db:4242 due to hardware memory corruption", 1,
	  DG_MF_LINE_SIGNAL, 0x2c3f1, 4242, NULL },
	{ "Memory failure: 0x2c3f1: already hardware poisoned", 1, DG_MF_LINE_OTHER, 0x2c3f1, 0,
	  NULL },
	/* a command name holding a colon, digits and " due to " */
	{ "Memory failure: 0x10: Sending SIGBUS to a:1 due to x:77 due to hardware memory "
	  "corruption",
	  1, DG_MF_LINE_SIGNAL, 0x10, 77, NULL },
	{ "Memory failure: 4096: recovery action for dax page: Recovered", 1, DG_MF_LINE_RESULT,
	  4096, 0, "Recovered" },
	/* not ours */
	{ "Injecting memory failure for pfn 0x109298 at process virtual address 0x7f0000", 0, 0, 0,
	  0, NULL },
	{ "XFS (pmem0): Mounting V5 Filesystem", 0, 0, 0, 0, NULL },
	/* damaged */
	{ "Memory failure: zzz: recovery action for dax page: Recovered", -EINVAL, 0, 0, 0, NULL },
	{ "Memory failure: 0x10", -EINVAL, 0, 0, 0, NULL },
	{ "Memory failure: -0x10: recovery action for dax page: Recovered", -EINVAL, 0, 0, 0,
	  NULL },
	{ "Memory failure: 0x10: Sending SIGBUS to nopid due to hardware memory corruption",
	  -EINVAL, 0, 0, 0, NULL },
	{ "Memory failure: 0x10: Sending SIGBUS to x:0 due to hardware memory corruption", -EINVAL,
	  0, 0, 0, NULL },
	{ "Memory failure: 0x10: Sending SIGBUS to x:99999999999 due to hardware memory corruption",
	  -EINVAL, 0, 0, 0, NULL },
	{ "Memory failure: 0x10: recovery action for dax page: ThisResultIsFarTooLong", -EINVAL, 0,
	  0, 0, NULL },
	{ "Memory failure: 0xffffffffffffffff: recovery action for dax page: Recovered", -ERANGE, 0,
	  0, 0, NULL },
};

static void memory_failure(void)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	size_t i;

	for (i = 0; i < ARRAY_SIZE(mf); i++) {
		struct dg_mf_line l;
		int rc = dg_kmsg_parse_memory_failure(mf[i].line, &l);

		CHECK(rc == mf[i].rc, "'%s': returned %d, want %d", mf[i].line, rc, mf[i].rc);
		if (rc != 1 || mf[i].rc != 1)
			continue;
		CHECK(l.type == mf[i].type, "'%s': type %d, want %d", mf[i].line, l.type,
		      mf[i].type);
		/* the address who --pfn gives for the same number */
		CHECK(l.phys == mf[i].pfn * page, "'%s': phys %#" PRIx64 ", want %#" PRIx64,
		      mf[i].line, l.phys, mf[i].pfn * page);
		CHECK(l.pid == mf[i].pid, "'%s': pid %d, want %d", mf[i].line, (int)l.pid,
		      (int)mf[i].pid);
		if (mf[i].result)
			CHECK(!strcmp(l.result, mf[i].result), "'%s': result '%s'", mf[i].line,
			      l.result);
	}
}

static const struct {
	const char *line;
	int rc;
	enum dg_event_kind kind;
	const char *addr, *slot;
} hp[] = {
	/* Debian's 6.12 under QEMU 7.2's q35, device_del on the monitor */
	{ "pcieport 0000:00:02.0: pciehp: Slot(2): Button press: will power off in 5 sec", 1,
	  DG_EVENT_PRE_REMOVE, "0000:00:02.0", "2" },
	{ "pcieport 0000:00:1c.0: Slot(1): Button press: will power off in 5 sec", 1,
	  DG_EVENT_PRE_REMOVE, "0000:00:1c.0", "1" },
	{ "pciehp 0000:0c:00.0:pcie004: Slot(0-1): Button press: will power off in 5 sec", 1,
	  DG_EVENT_PRE_REMOVE, "0000:0c:00.0", "0-1" },
	{ "pcieport 0000:00:1c.0: Slot(1): Button press: canceling", 1,
	  DG_EVENT_PRE_REMOVE_CANCELED, "0000:00:1c.0", "1" },
	{ "pciehp 0000:00:1c.0:pcie004: Slot(1): Action canceled due to button press", 1,
	  DG_EVENT_PRE_REMOVE_CANCELED, "0000:00:1c.0", "1" },
	/* Debian's 6.1, the same press: the window starts with this line */
	{ "pcieport 0000:00:02.0: pciehp: Slot(2): Powering off due to button press", 1,
	  DG_EVENT_PRE_REMOVE, "0000:00:02.0", "2" },
	{ "pcieport 0000:00:02.0: pciehp: Slot(2): Attention button pressed", 0, 0, NULL, NULL },
	{ "pcieport 0000:00:02.0: pciehp: Slot(2): Button cancel", 1, DG_EVENT_PRE_REMOVE_CANCELED,
	  "0000:00:02.0", "2" },
	{ "pcieport 0000:00:1c.0: Slot(1): Card present", 0, 0, NULL, NULL },
	{ "pcieport 00:1c.0: Slot(1): Button press: will power off in 5 sec", 0, 0, NULL, NULL },
	{ "pcieport ../../etc: Slot(1): Button press: will power off in 5 sec", 0, 0, NULL, NULL },
	{ "Button press: will power off in 5 sec", 0, 0, NULL, NULL },
};

static void pciehp(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(hp); i++) {
		char addr[32], slot[64];
		enum dg_event_kind kind = 0;
		int rc = dg_pciehp_parse(hp[i].line, addr, sizeof(addr), slot, sizeof(slot), &kind);

		CHECK(rc == hp[i].rc, "'%s': returned %d, want %d", hp[i].line, rc, hp[i].rc);
		if (rc != 1 || hp[i].rc != 1)
			continue;
		CHECK(kind == hp[i].kind, "'%s': kind %d", hp[i].line, kind);
		CHECK(!strcmp(addr, hp[i].addr), "'%s': port '%s'", hp[i].line, addr);
		CHECK(!strcmp(slot, hp[i].slot), "'%s': slot '%s'", hp[i].line, slot);
	}
}

/*
 * The slot to target mapping on recorded sysfs trees: a device goes with
 * a slot when its sysfs path lies below the port's (dg_device_is_below()).
 */
static const struct {
	const char *tree, *port, *dev;
	bool below;
} slots[] = {
	/* virtio-pmem on root port 00:01.0: its pmem0 goes with that slot */
	{ "q35-virtio-pmem", "0000:00:01.0", "259:0", true },
	{ "q35-virtio-pmem", "0000:01:00.0", "259:0", true },
	/* the other slot (the rng's) holds none of it */
	{ "q35-virtio-pmem", "0000:00:02.0", "259:0", false },
	{ "q35-virtio-pmem", "0000:02:00.0", "259:0", false },
	/* an NVDIMM hangs off the ACPI NVDIMM root: no slot takes it */
	{ "pc-nvdimm", "0000:00:01.0", "259:0", false },
	/*
	 * CXL: the region's pmem0 hangs off ACPI0017, not off the memdev's
	 * port; only the CXL topology (region targets, decoders) links them
	 */
	{ "q35-cxl", "0000:0c:00.0", "259:0", false },
};

static void slot_mapping(const char *fixtures)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(slots); i++) {
		char root[PATH_MAX], link[PATH_MAX + 32], *port, *dev;

		snprintf(root, sizeof(root), "%s/%s", fixtures, slots[i].tree);
		snprintf(link, sizeof(link), "%s/dev/block/%s", root, slots[i].dev);
		port = dg_pci_syspath(root, slots[i].port);
		dev = realpath(link, NULL);
		CHECK(port && dev, "%s: %s or %s does not resolve", slots[i].tree, slots[i].port,
		      link);
		if (port && dev)
			CHECK(dg_path_is_below(dev, port) == slots[i].below,
			      "%s: %s %s below port %s", slots[i].tree, dev,
			      slots[i].below ? "is not" : "is", port);
		free(port);
		free(dev);
	}
	/* a port that is not there, and a prefix that is no parent */
	CHECK(!dg_pci_syspath(fixtures, "0000:99:00.0"), "a missing port resolved");
	CHECK(!dg_path_is_below("/sys/devices/pci0000:00/0000:00:01.00/x",
				"/sys/devices/pci0000:00/0000:00:01.0"),
	      "a name that merely starts like the port counts as below it");
	CHECK(!dg_path_is_below("/sys/devices/a", "/sys/devices/a"), "a port is below itself");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test-events FIXTURES/sysfs\n");
		return 2;
	}
	records();
	memory_failure();
	pciehp();
	slot_mapping(argv[1]);
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
