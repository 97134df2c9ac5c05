// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * invalidate_inode_pages2_range(), punch and shutdown.  Only the affected
 * files and ranges are touched: dropping the cache of a whole filesystem
 * costs seconds on 200k files and punishes every innocent reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <linux/falloc.h>

#include <xfs/xfs.h>

#include "private.h"

#ifndef EXT4_IOC_SHUTDOWN
#define EXT4_IOC_SHUTDOWN _IOR('X', 125, uint32_t)
#define EXT4_GOING_FLAGS_LOGFLUSH 0x1
#endif

static int open_owner(struct dg_owner *o, int flags)
{
	if (!o->path)
		return -ENOENT;
	return open(o->path, flags | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
}

int dg_invalidate(struct dg_report *rep, struct dg_result *res, bool punch)
{
	struct dg_owner *o;
	int rc = 0;

	dg_owner_foreach(res, o)
	{
		struct dg_step *s;
		struct statvfs sv;
		uint64_t start, end, bs;
		int fd, r;

		if (o->type != DG_OWNER_FILE ||
		    (o->flags & (DG_OWNER_ATTR_FORK | DG_OWNER_EXTENT_MAP |
				 DG_OWNER_NO_RANGE | DG_OWNER_DIRECTORY)))
			continue;
		s = dg_step_begin(rep, punch ? "punch" : "invalidate",
				  o->path ? o->path : "(unlinked file)");
		fd = open_owner(o, punch ? O_WRONLY : O_RDONLY);
		if (fd < 0) {
			dg_step_end(rep, s, fd == -ENOENT ? -ENOENT : -errno,
				    "inode %" PRIu64 ": cannot open: %s", o->ino,
				    o->path ? strerror(errno) : "no path");
			rc = rc ? rc : -ENOENT;
			continue;
		}
		/* whole filesystem blocks: a partial block cannot be punched */
		bs = fstatvfs(fd, &sv) == 0 && sv.f_bsize ? sv.f_bsize : 4096;
		start = o->file_offset / bs * bs;
		end = (o->file_offset + o->length + bs - 1) / bs * bs;
		if (punch) {
			r = fallocate(fd, FALLOC_FL_PUNCH_HOLE |
						  FALLOC_FL_KEEP_SIZE,
				      (off_t)start, (off_t)(end - start));
			if (r < 0)
				r = -errno;
			dg_step_end(rep, s, r,
				    r ? "punch %#" PRIx64 "+%#" PRIx64 ": %s" :
					"file range %#" PRIx64 "+%#" PRIx64 " is now a hole%s",
				    start, end - start,
				    r ? strerror(-r) : ": its data is gone");
		} else {
			r = posix_fadvise(fd, (off_t)start, (off_t)(end - start),
					  POSIX_FADV_DONTNEED);
			dg_step_end(rep, s, -r,
				    "cached pages of %#" PRIx64 "+%#" PRIx64 " dropped%s",
				    start, end - start, r ? ": failed" : "");
		}
		close(fd);
		if (r && !rc)
			rc = r < 0 ? r : -r;
	}
	return rc;
}

int dg_shutdown_fs(struct dg_report *rep, struct dg_fs *fs)
{
	struct dg_step *s = dg_step_begin(rep, "shutdown", fs->devname);
	uint32_t flags;
	int fd = dg_open_fs_root(fs), rc = 0;

	if (fd < 0) {
		dg_step_end(rep, s, fd, "no mount to reach it through");
		return fd;
	}
	/* flush the log first: what reached it stays */
	if (!strcmp(fs->type, "xfs")) {
		flags = XFS_FSOP_GOING_FLAGS_LOGFLUSH;
		if (ioctl(fd, XFS_IOC_GOINGDOWN, &flags) < 0)
			rc = -errno;
	} else if (!strcmp(fs->type, "ext4")) {
		flags = EXT4_GOING_FLAGS_LOGFLUSH;
		if (ioctl(fd, EXT4_IOC_SHUTDOWN, &flags) < 0)
			rc = -errno;
	} else {
		rc = -EOPNOTSUPP;
	}
	close(fd);
	dg_step_end(rep, s, rc, "%s", rc ? strerror(-rc) : "filesystem shut down");
	return rc;
}
