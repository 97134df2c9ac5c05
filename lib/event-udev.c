// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Devices that come and go, from udev: block devices (pmem, loop), the nd
 * bus (namespaces, pfn and dax devices, regions), device-dax and CXL.
 *
 * No uevent comes before an unbind (FACTS.md §1): the kernel tears the
 * device down first and says so afterwards, so a removal seen here is
 * history, and whatever was mounted on the device is now mounted on
 * nothing.  Users of the event say so loudly; they cannot prevent it.
 *
 * The monitor listens to udevd when one runs (its events come after the
 * rules ran: the /dev node exists), else to the kernel's own uevents, as
 * an initramfs or a container without udevd has them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libudev.h>

#include "private.h"

struct udev_src {
	struct udev *udev;
	struct udev_monitor *mon;
};

static enum dg_event_kind kind_of(const char *subsystem, const char *action)
{
	bool devnode = !strcmp(subsystem, "block") || !strcmp(subsystem, "dax");

	if (devnode && (!strcmp(action, "add") || !strcmp(action, "bind")))
		return DG_EVENT_DEVICE_ADD;
	if (devnode && (!strcmp(action, "remove") || !strcmp(action, "unbind")))
		return DG_EVENT_DEVICE_REMOVE;
	/* nd and cxl: the topology changed, whatever the action */
	return DG_EVENT_DEVICE_CHANGE;
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int udev_process(struct dg_source *src)
{
	struct udev_src *u = src->priv;
	struct udev_device *d;

	while ((d = udev_monitor_receive_device(u->mon))) {
		const char *subsystem = udev_device_get_subsystem(d);
		const char *action = udev_device_get_action(d);
		struct dg_event *ev;

		if (!subsystem || !action) {
			udev_device_unref(d);
			continue;
		}
		ev = dg_event_new(src, kind_of(subsystem, action));
		if (!ev) {
			udev_device_unref(d);
			return -ENOMEM;
		}
		ev->subsystem = strdup(subsystem);
		ev->action = strdup(action);
		ev->syspath = xstrdup(udev_device_get_syspath(d));
		ev->devname = xstrdup(udev_device_get_devnode(d));
		ev->devnum = udev_device_get_devnum(d);
		udev_device_unref(d);
		if (!ev->subsystem || !ev->action) {
			dg_event_free(ev);
			return -ENOMEM;
		}
		dg_source_queue(src, ev);
	}
	return 0;
}

static void udev_src_free(struct dg_source *src)
{
	struct udev_src *u = src->priv;

	/* the monitor's socket is ours to close only through libudev */
	src->fd = -1;
	udev_monitor_unref(u->mon);
	udev_unref(u->udev);
}

static const struct dg_source_ops udev_ops = {
	.name = "udev",
	.process = udev_process,
	.free = udev_src_free,
};

DG_EXPORT int dg_source_udev_new(struct dg_ctx *ctx, struct dg_source **out)
{
	static const char *const subsystems[] = { "block", "nd", "dax", "cxl" };
	struct dg_source *src;
	struct udev_src *u;
	const char *from;
	size_t i;
	int rc;

	rc = dg_source_alloc(ctx, &udev_ops, sizeof(*u), &src);
	if (rc)
		return rc;
	u = src->priv;
	u->udev = udev_new();
	if (!u->udev) {
		rc = dg_fail(ctx, -ENOMEM, "udev: cannot create a context");
		goto err;
	}
	from = access("/run/udev/control", F_OK) == 0 ? "udev" : "kernel";
	u->mon = udev_monitor_new_from_netlink(u->udev, from);
	if (!u->mon) {
		rc = dg_fail(ctx, -EIO, "udev: cannot listen to %s events", from);
		goto err;
	}
	for (i = 0; i < ARRAY_SIZE(subsystems); i++)
		udev_monitor_filter_add_match_subsystem_devtype(u->mon, subsystems[i], NULL);
	/* a burst (every partition, every namespace) must not overflow it */
	udev_monitor_set_receive_buffer_size(u->mon, 4 << 20);
	rc = udev_monitor_enable_receiving(u->mon);
	if (rc < 0) {
		rc = dg_fail(ctx, rc, "udev: cannot listen to %s events: %s", from, strerror(-rc));
		goto err;
	}
	src->fd = udev_monitor_get_fd(u->mon);
	src->path = strdup(from);
	*out = src;
	return 0;
err:
	dg_source_free(src);
	return rc;
}
