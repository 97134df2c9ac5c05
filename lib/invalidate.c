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

/*
 * An unlinked file is reachable only through the processes that hold it,
 * and the signal stage is about to end them: open it through one of them
 * first, so the invalidate and punch stages can still reach it.
 */
void dg_hold_unlinked(struct dg_result *res)
{
	struct dg_user *u;
	char path[128];

	dg_user_foreach(res, u) {
		struct dg_owner *o = u->owner;

		if (!o || o->fd >= 0 || o->path)
			continue;
		if (u->use == DG_USE_FD)
			snprintf(path, sizeof(path), "/proc/%d/fd/%d", u->pid, u->fd);
		else if (u->use == DG_USE_MAP)
			snprintf(path, sizeof(path), "/proc/%d/map_files/%" PRIx64 "-%" PRIx64,
				 u->pid, u->vm_start, u->vm_end);
		else
			continue;
		/*
		 * O_PATH, and checked: the process may have put another
		 * file under that descriptor number since the scan
		 */
		o->fd = open(path, O_PATH | O_CLOEXEC);
		if (o->fd >= 0 && dg_fd_is_owner(o, o->fd)) {
			close(o->fd);
			o->fd = -1;
		}
		if (o->fd < 0)
			o->fd = -1;
	}
	/* every record of the same inode shares the descriptor's reach */
	{
		struct dg_owner *o, *p;

		dg_owner_foreach(res, o) {
			if (o->fd >= 0 || o->path || o->type != DG_OWNER_FILE)
				continue;
			dg_owner_foreach(res, p)
				if (p != o && p->fs == o->fs && p->ino == o->ino && p->fd >= 0) {
					o->fd = fcntl(p->fd, F_DUPFD_CLOEXEC, 3);
					break;
				}
		}
	}
}

/* One owner's range: its cache dropped, or punched out. */
static int invalidate_one(struct dg_report *rep, struct dg_owner *o, int rootfd, bool punch)
{
	struct dg_step *s;
	struct statvfs sv;
	uint64_t start, end, bs;
	char name[64];
	int fd, r;

	snprintf(name, sizeof(name), "inode %" PRIu64 " (unlinked)", o->ino);
	s = dg_step_begin(rep, punch ? "punch" : "invalidate", o->path ? o->path : name);
	fd = dg_owner_open(o, rootfd, (punch ? O_WRONLY : O_RDONLY) | O_NONBLOCK);
	if (fd == -ENOENT) {
		/* nobody holds it any more: its pages went with it */
		dg_step_end(rep, s, 0, "inode %" PRIu64 ": gone, nothing left to drop", o->ino);
		return 0;
	}
	if (fd < 0) {
		dg_step_end(rep, s, fd, "inode %" PRIu64 ": %s", o->ino, dg_owner_open_error(fd));
		return fd;
	}
	/* whole filesystem blocks: a partial block cannot be punched */
	bs = fstatvfs(fd, &sv) == 0 && sv.f_bsize ? sv.f_bsize : 4096;
	start = o->file_offset / bs * bs;
	end = (o->file_offset + o->length + bs - 1) / bs * bs;
	if (punch) {
		r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)start,
			      (off_t)(end - start));
		if (r < 0)
			r = -errno;
		dg_step_end(rep, s, r,
			    r ? "punch %#" PRIx64 "+%#" PRIx64 ": %s" :
				"file range %#" PRIx64 "+%#" PRIx64 " is now a hole%s",
			    start, end - start, r ? strerror(-r) : ": its data is gone");
	} else {
		r = -posix_fadvise(fd, (off_t)start, (off_t)(end - start), POSIX_FADV_DONTNEED);
		dg_step_end(rep, s, r, "cached pages of %#" PRIx64 "+%#" PRIx64 " dropped%s", start,
			    end - start, r ? ": failed" : "");
	}
	close(fd);
	return r;
}

int dg_invalidate(struct dg_report *rep, struct dg_result *res, bool punch)
{
	struct dg_fs *fs;
	int rc = 0;

	dg_fs_foreach(res->target, fs) {
		struct dg_owner *o;
		bool tried = false;
		int rootfd = -1;

		dg_owner_foreach(res, o) {
			int r;

			if (o->fs != fs || o->type != DG_OWNER_FILE ||
			    (o->flags & (DG_OWNER_ATTR_FORK | DG_OWNER_EXTENT_MAP |
					 DG_OWNER_NO_RANGE | DG_OWNER_DIRECTORY)))
				continue;
			/* one checked descriptor on the root per filesystem */
			if (!tried && o->fd < 0) {
				rootfd = dg_open_fs_root(fs);
				tried = true;
			}
			r = invalidate_one(rep, o, rootfd, punch);
			if (r && !rc)
				rc = r;
		}
		if (rootfd >= 0)
			close(rootfd);
	}
	return rc;
}

int dg_shutdown_fs(struct dg_report *rep, struct dg_fs *fs)
{
	struct dg_step *s = dg_step_begin(rep, "shutdown", fs->devname);
	uint32_t flags;
	int fd = dg_open_fs_root(fs), rc = 0;

	if (fd < 0) {
		dg_step_end(rep, s, fd, "not shut down: %s", dg_mount_error(fd));
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
