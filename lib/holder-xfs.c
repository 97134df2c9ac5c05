// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * XFS backends.  With rmapbt, GETFSMAP is the same reverse map the
 * kernel's xfs_dax_notify_failure() walks.  Without it (older filesystems,
 * rmapbt=0), bulkstat enumerates every allocated inode, unlinked ones
 * included, and each inode with blocks is mapped through a handle: no
 * directory walk, no path lookups.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xfs/xfs.h>

#include "private.h"

static int xfs_rmapbt_rmap(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges,
			   size_t nr, struct dg_result *res)
{
	return dg_fsmap_query(fs, rootfd, ranges, nr, true, res);
}

const struct dg_holder_ops dg_holder_xfs_rmapbt = {
	.name = "xfs-rmapbt",
	.rmap = xfs_rmapbt_rmap,
};

static int add_static(struct dg_fs *fs, const struct dg_fs_range *ranges, size_t nr,
		      const char *kind, uint64_t start, uint64_t end, struct dg_result *res)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		uint64_t s = DG_MAX(start, ranges[i].offset);
		uint64_t e = DG_MIN(end, ranges[i].offset + ranges[i].length);
		struct dg_owner o = {
			.type = DG_OWNER_METADATA, .metadata = kind, .offset = s, .length = e - s
		};

		if (s < e && !dg_result_add_owner(res, fs, &o))
			return -ENOMEM;
	}
	return 0;
}

/*
 * XFS without rmapbt: GETFSMAP calls everything in use "unknown".  The
 * geometry still knows where the static metadata is: the internal log,
 * and the headers at the start of every allocation group (superblock,
 * AGF, AGI, AGFL: one sector each, in whole blocks).
 */
int dg_xfs_static_owners(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges, size_t nr,
			 struct dg_result *res)
{
	struct xfs_fsop_geom geo;
	uint64_t agno, agbno, start, hdr;
	unsigned int agblklog;
	int rc;

	if (ioctl(rootfd, XFS_IOC_FSGEOMETRY, &geo) < 0 || geo.agblocks < 2 || !geo.blocksize)
		return 0;
	hdr = ((uint64_t)geo.sectsize * 4 + geo.blocksize - 1) / geo.blocksize * geo.blocksize;
	for (agno = 0; agno < geo.agcount; agno++) {
		start = agno * geo.agblocks * geo.blocksize;
		rc = add_static(fs, ranges, nr, "fs_headers", start, start + hdr, res);
		if (rc)
			return rc;
	}
	if (!geo.logstart)
		return 0; /* an external log is not on this device */
	/* logstart is an fsblock: the AG number above agblklog bits */
	agblklog = 64 - (unsigned int)__builtin_clzll(geo.agblocks - 1);
	agno = geo.logstart >> agblklog;
	agbno = geo.logstart & ((1ULL << agblklog) - 1);
	start = (agno * geo.agblocks + agbno) * geo.blocksize;
	return add_static(fs, ranges, nr, "log", start,
			  start + (uint64_t)geo.logblocks * geo.blocksize, res);
}

/* fs/xfs/xfs_export.h: the 64-bit handle, without the parent */
struct xfs_fid64_handle {
	uint64_t ino;
	uint32_t gen;
} __attribute__((packed));

static int open_by_ino(int rootfd, const struct xfs_bulkstat *bs)
{
	struct {
		struct file_handle fh;
		struct xfs_fid64_handle fid;
	} h;

	h.fh.handle_bytes = sizeof(h.fid);
	h.fh.handle_type = 1 | 0x80; /* FILEID_INO32_GEN | 64-bit */
	h.fid.ino = bs->bs_ino;
	h.fid.gen = bs->bs_gen;
	return open_by_handle_at(rootfd, &h.fh, O_RDONLY | O_CLOEXEC | O_NOATIME | O_NONBLOCK);
}

#define BULKSTAT_BATCH 4096

static int xfs_bulkstat_rmap(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges,
			     size_t nr, struct dg_result *res)
{
	struct xfs_bulkstat_req *req;
	struct dg_fiemap *w;
	int rc;

	rc = dg_fsmap_query(fs, rootfd, ranges, nr, false, res);
	if (rc && rc != -ENOTTY && rc != -EOPNOTSUPP)
		return rc;
	rc = dg_xfs_static_owners(fs, rootfd, ranges, nr, res);
	if (rc)
		return rc;
	w = dg_fiemap_new(fs, ranges, nr, res);
	req = calloc(1, XFS_BULKSTAT_REQ_SIZE(BULKSTAT_BATCH));
	if (!w || !req) {
		rc = -ENOMEM;
		goto out;
	}
	req->hdr.ino = 0;
	for (;;) {
		uint32_t i;

		req->hdr.icount = BULKSTAT_BATCH;
		if (ioctl(rootfd, XFS_IOC_BULKSTAT, req) < 0) {
			rc = -errno;
			break;
		}
		if (!req->hdr.ocount)
			break;
		for (i = 0; i < req->hdr.ocount && !rc; i++) {
			const struct xfs_bulkstat *bs = &req->bulkstat[i];
			unsigned int oflags = 0;
			int fd;

			/*
			 * No extents in either fork: empty, or all in the
			 * inode.  (Not bs_blocks: it can read 0 for a
			 * directory whose attr fork has a block.)
			 */
			if (!bs->bs_extents64 && !bs->bs_extents && !bs->bs_aextents)
				continue;
			if (!S_ISREG(bs->bs_mode) && !S_ISDIR(bs->bs_mode))
				continue;
			fd = open_by_ino(rootfd, bs);
			if (fd < 0)
				continue; /* freed since: nothing to own */
			if (S_ISDIR(bs->bs_mode))
				oflags |= DG_OWNER_DIRECTORY;
			if (!bs->bs_nlink)
				oflags |= DG_OWNER_UNLINKED;
			if (bs->bs_extents64 || bs->bs_extents)
				rc = dg_fiemap_fork(w, fd, bs->bs_ino, &bs->bs_gen, oflags, NULL,
						    false);
			if (!rc && bs->bs_aextents)
				rc = dg_fiemap_fork(w, fd, bs->bs_ino, &bs->bs_gen, oflags, NULL,
						    true);
			close(fd);
		}
		if (rc)
			break;
	}
out:
	free(req);
	dg_fiemap_free(w);
	return rc;
}

const struct dg_holder_ops dg_holder_xfs_bulkstat = {
	.name = "xfs-bulkstat",
	.rmap = xfs_bulkstat_rmap,
};
