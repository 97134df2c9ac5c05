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
#include <inttypes.h>
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

static int open_by_ino(int rootfd, uint64_t ino, uint32_t gen)
{
	struct {
		struct file_handle fh;
		struct xfs_fid64_handle fid;
	} h;

	h.fh.handle_bytes = sizeof(h.fid);
	h.fh.handle_type = 1 | 0x80; /* FILEID_INO32_GEN | 64-bit */
	h.fid.ino = ino;
	h.fid.gen = gen;
	return open_by_handle_at(rootfd, &h.fh, O_RDONLY | O_CLOEXEC | O_NOATIME | O_NONBLOCK);
}

#define BULKSTAT_BATCH 4096

static uint64_t data_extents(const struct xfs_bulkstat *bs)
{
	return bs->bs_extents64 ? bs->bs_extents64 : bs->bs_extents;
}

/* Inodes the backend maps: regular files and directories with extents. */
static bool wanted(const struct xfs_bulkstat *bs)
{
	/*
	 * No extents in either fork: empty, or all in the inode.  (Not
	 * bs_blocks: it can read 0 for a directory whose attr fork has a
	 * block.)
	 */
	if (!data_extents(bs) && !bs->bs_aextents)
		return false;
	return S_ISREG(bs->bs_mode) || S_ISDIR(bs->bs_mode);
}

static unsigned int owner_flags(uint16_t mode, uint32_t nlink)
{
	return (S_ISDIR(mode) ? DG_OWNER_DIRECTORY : 0) | (nlink ? 0 : DG_OWNER_UNLINKED);
}

/* Map both forks of one inode through a handle: the kernel's answer. */
static int map_by_handle(struct dg_fiemap *w, int rootfd, uint64_t ino, uint32_t gen,
			 unsigned int oflags, bool data, bool attr)
{
	int fd = open_by_ino(rootfd, ino, gen);
	int rc = 0;

	if (fd < 0)
		return 0; /* freed since: nothing to own */
	if (data)
		rc = dg_fiemap_fork(w, fd, ino, &gen, oflags, NULL, false);
	if (!rc && attr)
		rc = dg_fiemap_fork(w, fd, ino, &gen, oflags, NULL, true);
	close(fd);
	return rc;
}

/*
 * The inode cluster reader.  Opening and mapping every inode through a
 * handle costs three system calls per inode, as much as the FIEMAP walk
 * it is meant to beat.  Instead, each allocation group is read the way
 * xfs_repair would: bulkstat (the kernel's in-core view) names the
 * inodes, their clusters are read from the device with O_DIRECT (XFS
 * writes metadata straight to the device, around its page cache), and the
 * extent lists are parsed here.  Only the few inodes with an extent in a
 * queried range are then opened, and the kernel's own GETBMAPX answer is
 * the one reported.
 *
 * What is on the device can be older than what the kernel has: inode
 * changes sit in the log until the log is pushed (a freeze pushes it).
 * So an inode is trusted only if its on-disk copy agrees with bulkstat
 * on generation, mode, links, size, blocks (delayed allocations count
 * there), extent counts, and change and modify times; otherwise it is
 * mapped through a handle, as before.  Extents move without any of those
 * changing only in a copy-on-write remap, which needs a reflinked inode:
 * those are always mapped through a handle (the flag is set, and logged,
 * before the first shared write, so a copy without it predates them).
 */
struct cand {
	uint64_t ino;
	uint32_t gen;
	unsigned int oflags;
	bool data, attr;
};

struct bmbt_hit {
	uint64_t ino, offset;
	uint32_t gen;
	unsigned int oflags;
};

struct xfs_raw {
	struct dg_fs *fs;
	int rootfd, devfd;
	struct dg_xfs_geo geo;
	const struct dg_fs_range *ranges;
	size_t nr;
};

struct raw_worker {
	struct xfs_raw *x;
	uint32_t first_ag, step;
	struct xfs_bulkstat_req *req;
	uint8_t *chunk, *blocks;
	uint64_t chunk_off; /* of the cluster in @chunk, or UINT64_MAX */
	size_t chunk_len;
	/* the inode being parsed */
	const struct xfs_bulkstat *bs;
	bool attr, hit;
	/* out */
	struct cand *cand;
	size_t nr_cand, alloc_cand;
	struct bmbt_hit *bmbt;
	size_t nr_bmbt, alloc_bmbt;
	uint64_t parsed, by_handle;
	int rc;
};

static bool meets(const struct xfs_raw *x, uint64_t start, uint64_t len)
{
	size_t i = dg_fs_range_first_after(x->ranges, x->nr, start);

	return i < x->nr && x->ranges[i].offset < start + len;
}

static int raw_read_block(void *arg, uint64_t fsb, void *buf)
{
	struct raw_worker *rw = arg;
	uint64_t off;
	ssize_t n;

	if (dg_xfs_fsb_to_bytes(&rw->x->geo, fsb, &off))
		return -EBADMSG;
	n = pread(rw->x->devfd, buf, rw->x->geo.blocksize, (off_t)off);
	return n == (ssize_t)rw->x->geo.blocksize ? 0 : -EIO;
}

static int raw_extent(void *arg, const struct dg_xfs_extent *e)
{
	struct raw_worker *rw = arg;
	const struct xfs_raw *x = rw->x;
	uint64_t start, last;

	/* not past the device, not across an AG boundary */
	if (dg_xfs_fsb_to_bytes(&x->geo, e->startblock + e->blockcount - 1, &last) ||
	    dg_xfs_fsb_to_bytes(&x->geo, e->startblock, &start))
		return -EBADMSG;
	if (!meets(x, start, e->blockcount * x->geo.blocksize))
		return 0;
	if (!e->bmbt) {
		rw->hit = true;
		return 0;
	}
	/* GETBMAPX cannot tell this one: record it from here */
	if (rw->nr_bmbt == rw->alloc_bmbt) {
		size_t n = rw->alloc_bmbt ? rw->alloc_bmbt * 2 : 16;
		struct bmbt_hit *b = realloc(rw->bmbt, n * sizeof(*b));

		if (!b)
			return -ENOMEM;
		rw->bmbt = b;
		rw->alloc_bmbt = n;
	}
	rw->bmbt[rw->nr_bmbt++] = (struct bmbt_hit){
		.ino = rw->bs->bs_ino,
		.gen = rw->bs->bs_gen,
		.offset = start,
		.oflags = owner_flags(rw->bs->bs_mode, rw->bs->bs_nlink) | DG_OWNER_EXTENT_MAP |
			  (rw->attr ? DG_OWNER_ATTR_FORK : 0),
	};
	return 0;
}

static int add_cand(struct raw_worker *rw, const struct xfs_bulkstat *bs, bool data, bool attr)
{
	if (rw->nr_cand == rw->alloc_cand) {
		size_t n = rw->alloc_cand ? rw->alloc_cand * 2 : 64;
		struct cand *c = realloc(rw->cand, n * sizeof(*c));

		if (!c)
			return -ENOMEM;
		rw->cand = c;
		rw->alloc_cand = n;
	}
	rw->cand[rw->nr_cand++] = (struct cand){
		.ino = bs->bs_ino,
		.gen = bs->bs_gen,
		.oflags = owner_flags(bs->bs_mode, bs->bs_nlink),
		.data = data,
		.attr = attr,
	};
	return 0;
}

static size_t chunk_bytes(const struct dg_xfs_geo *g)
{
	size_t len = (size_t)64 * g->inodesize;

	return (len + g->blocksize - 1) / g->blocksize * g->blocksize;
}

/* The on-disk copy of inode @ino, or NULL if it cannot be read. */
static const uint8_t *raw_inode(struct raw_worker *rw, uint64_t ino)
{
	const struct dg_xfs_geo *g = &rw->x->geo;
	uint64_t off, base;
	ssize_t n;

	if (dg_xfs_ino_to_bytes(g, ino, &off))
		return NULL;
	if (rw->chunk_off == UINT64_MAX || off < rw->chunk_off ||
	    off + g->inodesize > rw->chunk_off + rw->chunk_len) {
		/* the whole chunk of 64 inodes, in whole blocks for O_DIRECT */
		if (dg_xfs_ino_to_bytes(g, ino & ~63ULL, &base) || base > off)
			base = off;
		base -= base % g->blocksize;
		n = pread(rw->x->devfd, rw->chunk, chunk_bytes(g), (off_t)base);
		if (n < (ssize_t)g->blocksize) {
			rw->chunk_off = UINT64_MAX;
			return NULL;
		}
		rw->chunk_off = base;
		rw->chunk_len = (size_t)n;
		if (off + g->inodesize > base + (uint64_t)n)
			return NULL;
	}
	return rw->chunk + (off - rw->chunk_off);
}

static bool agrees(const struct xfs_bulkstat *bs, const struct dg_xfs_dinode *di)
{
	return di->gen == bs->bs_gen && di->mode == bs->bs_mode && di->nlink == bs->bs_nlink &&
	       di->size == bs->bs_size && di->nblocks == bs->bs_blocks &&
	       di->nextents == data_extents(bs) && di->anextents == bs->bs_aextents &&
	       di->ctime_sec == bs->bs_ctime && di->ctime_nsec == bs->bs_ctime_nsec &&
	       di->mtime_sec == bs->bs_mtime && di->mtime_nsec == bs->bs_mtime_nsec &&
	       (!di->ino || di->ino == bs->bs_ino);
}

#define XFS_DIFLAG_REALTIME (1U << 0)
#define XFS_DIFLAG2_REFLINK (1ULL << 1)

static int raw_one(struct raw_worker *rw, const struct xfs_bulkstat *bs)
{
	const uint8_t *buf = raw_inode(rw, bs->bs_ino);
	struct dg_xfs_dinode di;
	bool hit[2] = { false, false };
	size_t nbmbt = rw->nr_bmbt;
	int f, rc;

	if (!buf || dg_xfs_dinode_parse(&rw->x->geo, buf, &di) || !agrees(bs, &di) ||
	    (di.flags & XFS_DIFLAG_REALTIME) || (di.flags2 & XFS_DIFLAG2_REFLINK))
		goto by_handle;
	rw->bs = bs;
	for (f = 0; f < 2; f++) {
		rw->attr = f;
		rw->hit = false;
		rc = dg_xfs_fork_walk(&rw->x->geo, &di, f, rw->blocks, raw_read_block, raw_extent,
				      rw);
		if (rc == -ENOMEM)
			return rc;
		if (rc) {
			rw->nr_bmbt = nbmbt; /* drop this inode's partial answer */
			goto by_handle;
		}
		hit[f] = rw->hit;
	}
	rw->parsed++;
	return hit[0] || hit[1] ? add_cand(rw, bs, hit[0], hit[1]) : 0;
by_handle:
	rw->by_handle++;
	return add_cand(rw, bs, data_extents(bs) != 0, bs->bs_aextents != 0);
}

static void *raw_worker_fn(void *arg)
{
	struct raw_worker *rw = arg;
	struct xfs_bulkstat_req *req = rw->req;
	uint32_t ag, i;

	for (ag = rw->first_ag; ag < rw->x->geo.agcount && !rw->rc; ag += rw->step) {
		memset(&req->hdr, 0, sizeof(req->hdr));
		req->hdr.flags = XFS_BULK_IREQ_AGNO;
		req->hdr.agno = ag;
		for (;;) {
			req->hdr.icount = BULKSTAT_BATCH;
			if (ioctl(rw->x->rootfd, XFS_IOC_BULKSTAT, req) < 0) {
				rw->rc = -errno;
				break;
			}
			if (!req->hdr.ocount)
				break;
			for (i = 0; i < req->hdr.ocount && !rw->rc; i++)
				if (wanted(&req->bulkstat[i]))
					rw->rc = raw_one(rw, &req->bulkstat[i]);
			if (rw->rc)
				break;
		}
	}
	return NULL;
}

static int add_bmbt_owner(struct xfs_raw *x, struct dg_result *res, const struct bmbt_hit *b)
{
	size_t i;

	for (i = 0; i < x->nr; i++) {
		uint64_t s = DG_MAX(b->offset, x->ranges[i].offset);
		uint64_t e = DG_MIN(b->offset + x->geo.blocksize,
				    x->ranges[i].offset + x->ranges[i].length);
		struct dg_owner o = {
			.type = DG_OWNER_FILE,
			.offset = s,
			.length = e - s,
			.ino = b->ino,
			.gen = b->gen,
			.has_gen = true,
			.flags = b->oflags,
		};

		if (s < e && !dg_result_add_owner(res, x->fs, &o))
			return -ENOMEM;
	}
	return 0;
}

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* -EOPNOTSUPP: no raw reading here; the caller maps by handle instead. */
static int xfs_raw_scan(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges, size_t nr,
			struct dg_fiemap *w, struct dg_result *res)
{
	struct dg_ctx *ctx = fs->target->ctx;
	struct xfs_raw x = { .fs = fs, .rootfd = rootfd, .ranges = ranges, .nr = nr };
	struct xfs_fsop_geom geo;
	struct raw_worker *rw;
	struct cand *all = NULL;
	size_t nr_all = 0, i, j;
	uint64_t parsed = 0, by_handle = 0;
	uint32_t nw, k;
	const char *env = getenv("DAXGUARD_XFS_INODES");
	int rc = 0;

	if (env && !strcmp(env, "handle"))
		return -EOPNOTSUPP;
	if (ioctl(rootfd, XFS_IOC_FSGEOMETRY, &geo) < 0 ||
	    dg_xfs_geo_init(&x.geo, geo.blocksize, geo.agblocks, geo.agcount, geo.inodesize,
			    geo.version >= 5 || (geo.flags & XFS_FSOP_GEOM_FLAGS_V5SB)) ||
	    geo.rtblocks)
		return -EOPNOTSUPP;
	x.devfd = open(fs->devname, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (x.devfd < 0) {
		dbg(ctx, "%s: %s: inodes mapped by handle\n", fs->devname, strerror(errno));
		return -EOPNOTSUPP;
	}
	/* one allocation group at least per worker */
	nw = (uint32_t)dg_parts_count(x.geo.agcount, 1, DG_MIN(x.geo.agcount, DG_MAX_PARTS));
	rw = calloc(nw, sizeof(*rw));
	if (!rw) {
		close(x.devfd);
		return -ENOMEM;
	}
	for (k = 0; k < nw; k++) {
		rw[k].x = &x;
		rw[k].first_ag = k;
		rw[k].step = nw;
		rw[k].chunk_off = UINT64_MAX;
		rw[k].req = calloc(1, XFS_BULKSTAT_REQ_SIZE(BULKSTAT_BATCH));
		if (!rw[k].req ||
		    posix_memalign((void **)&rw[k].chunk, 4096, chunk_bytes(&x.geo)) ||
		    posix_memalign((void **)&rw[k].blocks, 4096,
				   (size_t)DG_XFS_BMBT_MAX_LEVELS * x.geo.blocksize)) {
			rc = -ENOMEM;
			nw = k + 1;
			goto out;
		}
	}
	dg_run_parts(rw, sizeof(*rw), nw, raw_worker_fn);
	for (k = 0; k < nw; k++) {
		if (!rc)
			rc = rw[k].rc;
		nr_all += rw[k].nr_cand;
		parsed += rw[k].parsed;
		by_handle += rw[k].by_handle;
	}
	if (rc)
		goto out;
	dbg(ctx, "%s: %" PRIu64 " inodes parsed from the device, %" PRIu64 " mapped by handle\n",
	    fs->devname, parsed, by_handle);

	/* the kernel's answer for every inode that meets a range */
	all = malloc(DG_MAX(nr_all, (size_t)1) * sizeof(*all));
	if (!all) {
		rc = -ENOMEM;
		goto out;
	}
	for (k = 0, j = 0; k < nw; k++)
		for (i = 0; i < rw[k].nr_cand; i++)
			all[j++] = rw[k].cand[i];
	qsort(all, nr_all, sizeof(*all), cmp_cand);
	for (i = 0; i < nr_all && !rc; i++)
		rc = map_by_handle(w, rootfd, all[i].ino, all[i].gen, all[i].oflags, all[i].data,
				   all[i].attr);
	for (k = 0; k < nw && !rc; k++)
		for (i = 0; i < rw[k].nr_bmbt && !rc; i++)
			rc = add_bmbt_owner(&x, res, &rw[k].bmbt[i]);
out:
	for (k = 0; k < nw; k++) {
		free(rw[k].req);
		free(rw[k].chunk);
		free(rw[k].blocks);
		free(rw[k].cand);
		free(rw[k].bmbt);
	}
	free(rw);
	free(all);
	close(x.devfd);
	return rc;
}

/* Every inode through a handle: where the device cannot be read. */
static int xfs_handle_scan(int rootfd, struct dg_fiemap *w)
{
	struct xfs_bulkstat_req *req = calloc(1, XFS_BULKSTAT_REQ_SIZE(BULKSTAT_BATCH));
	int rc = 0;

	if (!req)
		return -ENOMEM;
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

			if (wanted(bs))
				rc = map_by_handle(w, rootfd, bs->bs_ino, bs->bs_gen,
						   owner_flags(bs->bs_mode, bs->bs_nlink),
						   data_extents(bs) != 0, bs->bs_aextents != 0);
		}
		if (rc)
			break;
	}
	free(req);
	return rc;
}

static int xfs_bulkstat_rmap(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges,
			     size_t nr, struct dg_result *res)
{
	struct dg_fiemap *w;
	int rc;

	rc = dg_fsmap_query(fs, rootfd, ranges, nr, false, res);
	if (rc && rc != -ENOTTY && rc != -EOPNOTSUPP)
		return rc;
	rc = dg_xfs_static_owners(fs, rootfd, ranges, nr, res);
	if (rc)
		return rc;
	w = dg_fiemap_new(fs, ranges, nr, res);
	if (!w)
		return -ENOMEM;
	rc = xfs_raw_scan(fs, rootfd, ranges, nr, w, res);
	if (rc == -EOPNOTSUPP)
		rc = xfs_handle_scan(rootfd, w);
	dg_fiemap_free(w);
	return rc;
}

const struct dg_holder_ops dg_holder_xfs_bulkstat = {
	.name = "xfs-bulkstat",
	.rmap = xfs_bulkstat_rmap,
};
