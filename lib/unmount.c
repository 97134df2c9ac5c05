// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The end of a pre-remove: every mount of every filesystem on the device
 * goes, in every mount namespace, then the device is checked to be unheld
 * and released.  "Unmount before unplug": unmounting flushes what reached
 * the filesystem, which a kernel-side shutdown would lose.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/loop.h>

#include <ndctl/libndctl.h>

#include "private.h"

int dg_unmount_all(struct dg_ctx *ctx, struct dg_report *rep, struct dg_target *t, bool dry_run)
{
	struct dg_fs *fs;
	int rc, first_err = 0;

	dg_fs_foreach(t, fs) {
		struct dg_mount **v, *m;
		size_t n = 0, i;

		dg_mount_foreach(fs, m)
			n++;
		v = calloc(n ? n : 1, sizeof(*v));
		if (!v)
			return -ENOMEM;
		n = 0;
		dg_mount_foreach(fs, m)
			v[n++] = m;
		/* last mounted first: what is stacked on top goes first */
		for (i = n; i-- > 0;) {
			char obj[PATH_MAX + 64];
			struct dg_step *s;

			m = v[i];
			if (m->local)
				snprintf(obj, sizeof(obj), "%s", m->target);
			else
				snprintf(obj, sizeof(obj), "%s (mount namespace %llu)", m->target,
					 (unsigned long long)m->mntns);
			s = dg_step_begin(rep, "unmount", obj);
			if (dry_run) {
				dg_step_end(rep, s, 0, "would unmount %s", fs->devname);
				continue;
			}
			rc = dg_mount_umount(m);
			if (rc == -ESRCH) {
				/* the namespace died with its last process */
				dg_step_end(rep, s, 0, "namespace gone: its mounts went with it");
				continue;
			}
			dg_step_end(rep, s, rc, "%s", rc ? dg_mount_error(rc) : "unmounted");
			if (rc && !first_err)
				first_err = rc;
		}
		free(v);
	}
	(void)ctx;
	return first_err;
}

static bool loop_still_bound(struct dg_target *t)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/loop/backing_file", major(t->devnum),
		 minor(t->devnum));
	return access(path, F_OK) == 0;
}

/*
 * Nobody holds the block device: an exclusive open succeeds.  The node
 * must be the device itself (its number), since the release that follows
 * (LOOP_CLR_FD) goes to whatever was opened.
 */
static int open_excl(struct dg_target *t)
{
	int fd = open(t->devname, O_RDONLY | O_EXCL | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISBLK(st.st_mode) || st.st_rdev != t->devnum) {
		close(fd);
		return -ESTALE;
	}
	return fd;
}

static int sysfs_unbind(struct dg_target *t, char *msg, size_t size)
{
	/*
	 * A block device's driver is its parent's (the pmem namespace or
	 * pfn device); a dax device is bound itself.
	 */
	bool dax = t->kind == DG_TARGET_DAX;
	char path[128], link[PATH_MAX], *name;
	ssize_t n;
	int fd, rc = 0;

	snprintf(path, sizeof(path), dax ? "/sys/dev/char/%u:%u" : "/sys/dev/block/%u:%u/device",
		 major(t->devnum), minor(t->devnum));
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -ENODEV;
	link[n] = '\0';
	name = strrchr(link, '/');
	name = name ? name + 1 : link;
	snprintf(path, sizeof(path),
		 dax ? "/sys/dev/char/%u:%u/driver/unbind" :
		       "/sys/dev/block/%u:%u/device/driver/unbind",
		 major(t->devnum), minor(t->devnum));
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -ENODEV;
	if (write(fd, name, strlen(name)) < 0)
		rc = -errno;
	close(fd);
	snprintf(msg, size, "%s unbound from its driver", name);
	return rc;
}

/*
 * The nd namespace behind a pmem block device: the device's parent is the
 * namespace itself (raw mode) or a pfn/btt device that claims one.
 */
static int nd_namespace_name(struct dg_target *t, char *name, size_t size)
{
	char path[128], link[PATH_MAX], *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/device", major(t->devnum),
		 minor(t->devnum));
	/* the link is relative: only the resolved path shows the bus */
	if (!realpath(path, link) || !strstr(link, "/ndbus"))
		return -ENODEV;
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	if (strncmp(base, "namespace", 9)) {
		/* a pfn or btt device names the namespace it claims */
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/device/namespace",
			 major(t->devnum), minor(t->devnum));
		n = dg_read_text(AT_FDCWD, path, link, sizeof(link));
		if (n <= 0)
			return -ENODEV;
		base = link;
	}
	if (strlen(base) >= size)
		return -ENAMETOOLONG;
	memcpy(name, base, strlen(base) + 1);
	return 0;
}

/*
 * Disable the namespace, as ndctl disable-namespace does: unbinding only
 * the pfn device leaves the namespace claimed, and ndctl cannot enable it
 * again (observed on 6.1 and 6.12).
 */
static int nd_disable(const char *nsname, char *msg, size_t size)
{
	struct ndctl_ctx *nctx;
	struct ndctl_bus *bus;
	int rc = -ENODEV;

	if (ndctl_new(&nctx))
		return -ENOMEM;
	ndctl_set_log_priority(nctx, 0);
	ndctl_bus_foreach(nctx, bus)
	{
		struct ndctl_region *region;

		ndctl_region_foreach(bus, region)
		{
			struct ndctl_namespace *ndns;

			ndctl_namespace_foreach(region, ndns)
			{
				if (strcmp(ndctl_namespace_get_devname(ndns), nsname))
					continue;
				rc = ndctl_namespace_disable_safe(ndns);
				if (!rc)
					snprintf(
						msg, size,
						"namespace %s disabled (ndctl enable-namespace %s brings it back)",
						nsname, nsname);
				goto out;
			}
		}
	}
out:
	ndctl_unref(nctx);
	return rc;
}

static int release_device(struct dg_ctx *ctx, struct dg_report *rep, struct dg_target *t,
			  bool dry_run);

/*
 * The device-mapper devices whose filesystems were unmounted stand between
 * the target and its release: remove them, as 'dmsetup remove' would (for
 * LVM, the same as deactivating the volume; its metadata stays).
 */
static int release_dm(struct dg_ctx *ctx, struct dg_report *rep, struct dg_target *t, bool dry_run)
{
	struct dg_fs *fs;
	int rc;

	dg_fs_foreach(t, fs) {
		struct dg_step *s;

		if (!fs->dm)
			continue;
		s = dg_step_begin(rep, "release", fs->devname);
		if (dry_run) {
			dg_step_end(rep, s, 0, "would remove the device-mapper device");
			continue;
		}
		rc = dg_dm_remove(fs->devnum);
		dg_step_end(rep, s, rc, "%s",
			    rc ? "device-mapper device still open: cannot remove it" :
				 "device-mapper device removed");
		if (rc)
			return dg_fail(ctx, rc, "%s: still in use after unmount", fs->devname);
	}
	return 0;
}

int dg_release(struct dg_ctx *ctx, struct dg_report *rep, struct dg_target *t, unsigned int flags,
	       bool dry_run)
{
	char ndregion[64] = "";
	int rc;

	/* named now: the namespace's release takes its sysfs path to the region */
	if (t->cxl && dg_nd_region_of(t, ndregion, sizeof(ndregion)))
		ndregion[0] = '\0';
	rc = release_device(ctx, rep, t, dry_run);
	/* the CXL region, and its memdevs, once the namespace is gone */
	if (!rc && t->cxl)
		rc = dg_cxl_release(ctx, rep, t, flags, ndregion, dry_run);
	return rc;
}

static int release_device(struct dg_ctx *ctx, struct dg_report *rep, struct dg_target *t,
			  bool dry_run)
{
	struct dg_step *s;
	char msg[PATH_MAX + 64] = "";
	int fd, rc;

	rc = release_dm(ctx, rep, t, dry_run);
	if (rc)
		return rc;
	s = dg_step_begin(rep, "release", t->devname);
	if (dry_run) {
		/* nothing was unmounted: whether it would be held cannot be known */
		const char *how = t->backing_file ? " (detach the loop device)" : "";
		char nsname[NAME_MAX + 1], buf[NAME_MAX + 64];

		if (t->kind == DG_TARGET_DAX) {
			how = " (unbind it from its driver)";
		} else if (t->kind == DG_TARGET_PARTITION) {
			how = " (a partition: its disk stays)";
		} else if (!t->backing_file && nd_namespace_name(t, nsname, sizeof(nsname)) == 0) {
			snprintf(buf, sizeof(buf), " (disable namespace %s)", nsname);
			how = buf;
		}
		dg_step_end(rep, s, 0, "would check that nothing holds it, then release it%s", how);
		return 0;
	}

	if (t->kind == DG_TARGET_DAX) {
		/*
		 * No exclusive open for a character device: the last sweep
		 * found nobody mapping or holding it, so unbind it from its
		 * driver (what daxctl disable-device does).
		 */
		rc = sysfs_unbind(t, msg, sizeof(msg));
		if (rc == -ENODEV) {
			dg_step_end(rep, s, 0, "unheld; no driver bound, left as it is");
			return 0;
		}
		dg_step_end(rep, s, rc, "%s", rc ? strerror(-rc) : msg);
		return rc;
	}
	if (t->kind == DG_TARGET_PARTITION) {
		dg_step_end(rep, s, 0, "a partition: unheld, the disk it is on stays");
		return 0;
	}
	fd = open_excl(t);
	if (fd == -ESTALE) {
		dg_step_end(rep, s, fd, "%s is not the device node of %u:%u: not released",
			    t->devname, major(t->devnum), minor(t->devnum));
		return dg_fail(ctx, fd, "%s: not the device daxguard found", t->devname);
	}
	if (fd < 0) {
		dg_step_end(
			rep, s, fd, "still held: %s",
			fd == -EBUSY ?
				"an exclusive open failed (a mount, dm or md device, or swap uses it)" :
				strerror(-fd));
		return dg_fail(ctx, fd, "%s: still held after unmount", t->devname);
	}
	if (t->backing_file) {
		rc = ioctl(fd, LOOP_CLR_FD, 0) < 0 ? -errno : 0;
		close(fd);
		/*
		 * With another opener the kernel only sets autoclear and
		 * returns 0: the device goes when they close it.  That is
		 * not released.
		 */
		if (!rc && loop_still_bound(t))
			rc = -EBUSY;
		if (rc == -EBUSY) {
			dg_step_end(
				rep, s, rc,
				"still open (not exclusively) by somebody: it detaches when they close it");
			return dg_fail(ctx, rc, "%s: still open after unmount", t->devname);
		}
		dg_step_end(rep, s, rc, rc ? "detach: %s" : "loop device detached from %s",
			    rc ? strerror(-rc) : t->backing_file);
		return rc;
	}
	close(fd);
	{
		char nsname[NAME_MAX + 1];

		if (nd_namespace_name(t, nsname, sizeof(nsname)) == 0) {
			rc = nd_disable(nsname, msg, sizeof(msg));
			dg_step_end(rep, s, rc, "%s", rc ? strerror(-rc) : msg);
			return rc;
		}
	}
	rc = sysfs_unbind(t, msg, sizeof(msg));
	if (rc == -ENODEV) {
		dg_step_end(rep, s, 0, "unheld; it has no driver to unbind, left bound");
		return 0;
	}
	dg_step_end(rep, s, rc, "%s", rc ? strerror(-rc) : msg);
	return rc;
}
