// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Opening a file the reverse map named, by what names it: the inode and
 * its generation, not a path.
 *
 * Between the reverse map and the act on a file (drop its cache, punch a
 * hole) there is a grace period, and the file's path goes through
 * directories that users own: a directory swapped for a symlink would
 * send root's open(path, O_WRONLY) to any file or device on the system.
 * A handle (open_by_handle_at) names the inode itself and fails once that
 * inode was freed and reused (a new generation).  Whatever way a file is
 * opened, it is opened O_PATH first, checked to be a regular file on the
 * filesystem with the inode number the reverse map named, and only then
 * opened again for reading or writing, through that descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include <xfs/xfs.h>

#include "private.h"

/* include/linux/exportfs.h, fs/xfs/xfs_export.h */
#define FILEID_INO32_GEN 1
#define XFS_FILEID_INO64_GEN (FILEID_INO32_GEN | 0x80)
struct fid64 {
	uint64_t ino;
	uint32_t gen;
} __attribute__((packed));
struct fid32 {
	uint32_t ino;
	uint32_t gen;
};

int dg_xfs_bulkstat_one(int rootfd, uint64_t ino, struct xfs_bulkstat *bs)
{
	struct {
		struct xfs_bulkstat_req req;
		struct xfs_bulkstat bs;
	} r;

	memset(&r, 0, sizeof(r));
	r.req.hdr.ino = ino;
	r.req.hdr.icount = 1;
	if (ioctl(rootfd, XFS_IOC_BULKSTAT, &r.req) < 0)
		return -errno;
	if (r.req.hdr.ocount != 1 || r.bs.bs_ino != ino)
		return -ENOENT;
	*bs = r.bs;
	return 0;
}

/*
 * The handle the filesystem's export operations decode: XFS always takes
 * the 64-bit form, ext4 the generic 32-bit one.  Other filesystems have
 * no handle daxguard can make: -EOPNOTSUPP.
 */
int dg_open_by_handle(const struct dg_fs *fs, int mountfd, uint64_t ino, uint32_t gen, int flags)
{
	struct {
		struct file_handle fh;
		union {
			struct fid64 f64;
			struct fid32 f32;
		};
	} h;
	int fd;

	if (!strcmp(fs->type, "xfs")) {
		h.fh.handle_bytes = sizeof(h.f64);
		h.fh.handle_type = XFS_FILEID_INO64_GEN;
		h.f64.ino = ino;
		h.f64.gen = gen;
	} else if (!strcmp(fs->type, "ext4")) {
		if (ino > UINT32_MAX)
			return -EOVERFLOW;
		h.fh.handle_bytes = sizeof(h.f32);
		h.fh.handle_type = FILEID_INO32_GEN;
		h.f32.ino = (uint32_t)ino;
		h.f32.gen = gen;
	} else {
		return -EOPNOTSUPP;
	}
	fd = open_by_handle_at(mountfd, &h.fh, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int dg_owner_fill_gen(struct dg_owner *o, int rootfd)
{
	struct xfs_bulkstat bs = { 0 };
	int rc;

	if (o->has_gen || strcmp(o->fs->type, "xfs"))
		return 0;
	rc = dg_xfs_bulkstat_one(rootfd, o->ino, &bs);
	if (rc)
		return rc;
	o->gen = bs.bs_gen;
	o->has_gen = true;
	return 0;
}

/* @fd (O_PATH) is a regular file, inode @o->ino of @o's filesystem */
static int check_is_owner(const struct dg_owner *o, int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (st.st_dev != o->fs->devnum || st.st_ino != o->ino)
		return -ESTALE;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	return 0;
}

/* The O_PATH descriptor @fd, opened again with @flags. */
static int reopen(int fd, int flags)
{
	char path[64];
	int nfd;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	nfd = open(path, flags | O_CLOEXEC | O_NOCTTY);
	return nfd < 0 ? -errno : nfd;
}

/* The owner's path below the mount at @rootfd, never leaving it. */
static int open_by_path(const struct dg_owner *o, int rootfd)
{
	const char *root = o->fs->root_path, *rel;
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
			   RESOLVE_NO_XDEV,
	};
	size_t n;
	int fd;

	if (!o->path || !root)
		return -ENOENT;
	n = strcmp(root, "/") ? strlen(root) : 0;
	if (strncmp(o->path, root, n) || o->path[n] != '/')
		return -ENOENT;
	for (rel = o->path + n; *rel == '/'; rel++)
		;
	fd = (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

int dg_owner_open(struct dg_owner *o, int rootfd, int flags)
{
	int pfd, fd, rc;

	if (o->fd >= 0) {
		/* held since the scan, and checked then (dg_hold_unlinked) */
		return reopen(o->fd, flags);
	}
	pfd = -ENOENT;
	if (o->has_gen && rootfd >= 0)
		pfd = dg_open_by_handle(o->fs, rootfd, o->ino, o->gen, O_PATH);
	if (pfd == -EOPNOTSUPP || (pfd == -ENOENT && !o->has_gen))
		pfd = rootfd >= 0 ? open_by_path(o, rootfd) : -ENOENT;
	if (pfd < 0)
		return pfd == -ESTALE ? -ENOENT : pfd;
	rc = check_is_owner(o, pfd);
	if (rc) {
		close(pfd);
		return rc;
	}
	fd = reopen(pfd, flags);
	close(pfd);
	return fd;
}

int dg_fd_is_owner(const struct dg_owner *o, int fd)
{
	return check_is_owner(o, fd);
}

const char *dg_owner_open_error(int rc)
{
	switch (rc) {
	case -ESTALE:
		return "its path now leads to another file: not touched";
	case -EINVAL:
		return "not a regular file: not touched";
	case -ELOOP:
	case -EXDEV:
		return "its path now leads through a symlink or another mount: not touched";
	default:
		return strerror(-rc);
	}
}
