// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The PCIe attention button, from the kernel log.
 *
 * On real hardware the one warning user space gets before a device goes
 * is the attention button: pciehp logs
 *
 *   pcieport 0000:00:02.0: pciehp: Slot(2): Button press: will power off in 5 sec
 *
 * (as Debian's 6.12 logs it under QEMU's q35; 6.1 logs "Slot(2): Powering
 * off due to button press" at the same moment, and older kernels
 * "pciehp 0000:00:1c.0:pcie004: Slot(1): ..."), waits five seconds
 * and removes everything below the port; a second press cancels ("Button
 * press: canceling").  No uevent comes before the removal itself
 * (FACTS.md §1).  The event names the slot and the port's sysfs
 * directory: every device below it goes, and the caller runs the
 * pre-remove flow for those inside the window.
 *
 * Lines already in the ring buffer when the source starts are history:
 * a window that has passed cannot be used, so they are not queued.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

#define KMSG_RECORD_MAX 8192

/* a PCI address, "DDDD:BB:DD.F" */
static bool is_pci_addr(const char *s, size_t n)
{
	static const char pat[] = "xxxx:xx:xx.x";
	size_t i;

	if (n != sizeof(pat) - 1)
		return false;
	for (i = 0; i < n; i++)
		if (pat[i] == 'x' ? !isxdigit((unsigned char)s[i]) : s[i] != pat[i])
			return false;
	return true;
}

int dg_pciehp_parse(const char *msg, char *addr, size_t addr_size, char *slot, size_t slot_size,
		    enum dg_event_kind *kind)
{
	const char *dev, *colon, *sl, *what;
	size_t n;

	/*
	 * "DRIVER DEVICE: [pciehp: ]Slot(NAME): WHAT", DEVICE the port
	 * (6.x: "pcieport 0000:00:1c.0: pciehp: Slot(2): ...") or its port
	 * service (older: "pciehp 0000:00:1c.0:pcie004: Slot(1): ...")
	 */
	dev = strchr(msg, ' ');
	if (!dev)
		return 0;
	dev++;
	colon = strstr(dev, ": ");
	if (!colon)
		return 0;
	sl = strstr(colon, "Slot(");
	what = sl ? strstr(sl, "): ") : NULL;
	if (!what)
		return 0;
	/* 6.12 says "will power off in 5 sec"; 6.1 "Powering off", then waits */
	if (strstr(what, "Button press: will power off") ||
	    strstr(what, "Powering off due to button press"))
		*kind = DG_EVENT_PRE_REMOVE;
	else if (strstr(what, "Button press: canceling") || strstr(what, "Button cancel") ||
		 strstr(what, "Action canceled due to button press"))
		*kind = DG_EVENT_PRE_REMOVE_CANCELED;
	else
		return 0;
	/* the port, without a port service's ":pcie004" */
	n = (size_t)(colon - dev);
	if (n > 12 && !strncmp(dev + 12, ":pcie", 5))
		n = 12;
	if (!is_pci_addr(dev, n) || n >= addr_size)
		return 0;
	memcpy(addr, dev, n);
	addr[n] = '\0';
	sl += strlen("Slot(");
	n = (size_t)(what - sl);
	if (n >= slot_size)
		return 0;
	memcpy(slot, sl, n);
	slot[n] = '\0';
	return 1;
}

char *dg_pci_syspath(const char *sysroot, const char *addr)
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/bus/pci/devices/%s", sysroot, addr) >=
	    (int)sizeof(path))
		return NULL;
	return realpath(path, NULL);
}

static int pciehp_drain(struct dg_source *src, bool queue)
{
	char buf[KMSG_RECORD_MAX + 1];

	for (;;) {
		ssize_t n = read(src->fd, buf, KMSG_RECORD_MAX);
		struct dg_kmsg_record rec;
		enum dg_event_kind kind;
		char addr[32], slot[64];
		struct dg_event *ev;

		if (n < 0) {
			if (errno == EINTR || errno == EPIPE)
				continue;
			if (errno == EAGAIN)
				return 0;
			return dg_fail(src->ctx, -errno, "/dev/kmsg: %s", strerror(errno));
		}
		if (n == 0)
			return 0;
		if (!queue || dg_kmsg_parse_record(buf, (size_t)n, &rec) || rec.facility != 0 ||
		    dg_pciehp_parse(rec.message, addr, sizeof(addr), slot, sizeof(slot), &kind) !=
			    1)
			continue;
		ev = dg_event_new(src, kind);
		if (!ev)
			return -ENOMEM;
		ev->devname = strdup(addr);
		ev->slot = strdup(slot);
		ev->syspath = dg_pci_syspath("/sys", addr);
		dg_event_add_line(ev, rec.message);
		if (!ev->devname || !ev->slot) {
			dg_event_free(ev);
			return -ENOMEM;
		}
		if (!ev->syspath)
			dg_event_warn(ev, "%s: no such PCI device in sysfs", addr);
		dg_source_queue(src, ev);
	}
}

static int pciehp_process(struct dg_source *src)
{
	return pciehp_drain(src, true);
}

static const struct dg_source_ops pciehp_ops = {
	.name = "pciehp",
	.process = pciehp_process,
};

DG_EXPORT int dg_source_pciehp_new(struct dg_ctx *ctx, struct dg_source **out)
{
	struct dg_source *src;
	int rc;

	rc = dg_source_alloc(ctx, &pciehp_ops, 0, &src);
	if (rc)
		return rc;
	src->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (src->fd < 0) {
		rc = dg_fail(ctx, -errno, "/dev/kmsg: %s", strerror(errno));
		dg_source_free(src);
		return rc;
	}
	/* past windows are of no use: skip to the end */
	if (lseek(src->fd, 0, SEEK_END) < 0) {
		rc = pciehp_drain(src, false);
		if (rc) {
			dg_source_free(src);
			return rc;
		}
	}
	*out = src;
	return 0;
}
