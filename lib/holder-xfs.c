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
	return dg_fsmap_query(fs, rootfd, ranges, nr, true, res, NULL);
}

const struct dg_holder_ops dg_holder_xfs_rmapbt = {
	.name = "xfs-rmapbt",
	.rmap = xfs_rmapbt_rmap,
};

static int add_static(const struct dg_fs_range *ranges, size_t nr, const char *kind, uint64_t start,
		      uint64_t end, struct dg_claims *claims)
{
	size_t i = dg_fs_range_first_after(ranges, nr, start);
	int rc;

	for (; i < nr && ranges[i].offset < end; i++) {
		uint64_t s = DG_MAX(start, ranges[i].offset);
		uint64_t e = DG_MIN(end, ranges[i].offset + ranges[i].length);
		struct dg_owner o = {
			.type = DG_OWNER_METADATA, .metadata = kind, .offset = s, .length = e - s
		};

		rc = dg_claims_add(claims, &o);
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * XFS without rmapbt: GETFSMAP calls everything in use "unknown".  The
 * geometry still knows where the static metadata is: the internal log,
 * and the headers at the start of every allocation group (superblock,
 * AGF, AGI, AGFL: one sector each, in whole blocks).  As claims: they
 * fill only what GETFSMAP left to the backend.
 */
int dg_xfs_static_owners(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges, size_t nr,
			 struct dg_claims *claims)
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
		rc = add_static(ranges, nr, "fs_headers", start, start + hdr, claims);
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
	return add_static(ranges, nr, "log", start, start + (uint64_t)geo.logblocks * geo.blocksize,
			  claims);
}

/* The geometry the on-disk readers need, from the kernel's. */
static int xfs_geo(int rootfd, struct xfs_fsop_geom *geo, struct dg_xfs_geo *g)
{
	if (ioctl(rootfd, XFS_IOC_FSGEOMETRY, geo) < 0)
		return -errno;
	if (dg_xfs_geo_init(g, geo->blocksize, geo->agblocks, geo->agcount, geo->inodesize,
			    geo->version >= 5 || (geo->flags & XFS_FSOP_GEOM_FLAGS_V5SB)))
		return -EOPNOTSUPP;
	g->sectsize = geo->sectsize;
	g->finobt = geo->flags & XFS_FSOP_GEOM_FLAGS_FINOBT;
	g->reflink = geo->flags & XFS_FSOP_GEOM_FLAGS_REFLINK;
	return 0;
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
 * changes sit in the log until the log is pushed (a freeze pushes it),
 * and it can be corrupt.  So an inode is read from the device only if its
 * v5 CRC holds (and every bmbt block's: CRC, place, owner), and its copy
 * agrees with bulkstat on generation, mode, links, size, blocks (delayed
 * allocations count there), extent counts, and change and modify times;
 * otherwise it is mapped through a handle.  Reflinked inodes always are:
 * a copy-on-write remap moves extents without changing any of those.
 *
 * Even then a copy can agree and be stale: an extent swap (xfs_fsr's
 * XFS_IOC_SWAPEXT) changes none of the compared fields.  The device then
 * names neither the inode for its new blocks nor anyone else.  That is
 * why the device is only ever used to pick candidates, whose blocks the
 * kernel then tells (a stale copy can only make a candidate too many),
 * and why xfs_bulkstat_rmap() then checks that every block GETFSMAP says
 * is in use has an owner: one that the device alone named leaves a gap,
 * which is resolved through the kernel (see there).
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

/* inodes whose device copy failed a check: logged once the workers end */
#define BAD_LOG_MAX 8
struct bad_copy {
	uint64_t ino, fsb; /* fsb: of the bmbt block, or UINT64_MAX */
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
	uint64_t parsed, by_handle, bad;
	struct bad_copy bad_log[BAD_LOG_MAX];
	int rc;
};

static bool meets(const struct xfs_raw *x, uint64_t start, uint64_t len)
{
	size_t i = dg_fs_range_first_after(x->ranges, x->nr, start);

	return i < x->nr && x->ranges[i].offset < start + len;
}

static void note_bad(struct raw_worker *rw, uint64_t ino, uint64_t fsb)
{
	if (rw->bad < BAD_LOG_MAX)
		rw->bad_log[rw->bad] = (struct bad_copy){ .ino = ino, .fsb = fsb };
	rw->bad++;
}

static int raw_read_block(void *arg, uint64_t fsb, void *buf)
{
	struct raw_worker *rw = arg;
	uint64_t off;
	ssize_t n;

	if (dg_xfs_fsb_to_bytes(&rw->x->geo, fsb, &off))
		return -EBADMSG;
	n = pread(rw->x->devfd, buf, rw->x->geo.blocksize, (off_t)off);
	if (n != (ssize_t)rw->x->geo.blocksize)
		return -EIO;
	if (dg_xfs_bmbt_block_verify(&rw->x->geo, buf, fsb, rw->bs->bs_ino)) {
		note_bad(rw, rw->bs->bs_ino, fsb);
		return -EBADMSG;
	}
	return 0;
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
	/* GETBMAPX cannot tell this one: a claim, from here */
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

	if (!buf)
		goto by_handle;
	if (dg_xfs_dinode_verify(&rw->x->geo, buf, bs->bs_ino)) {
		note_bad(rw, bs->bs_ino, UINT64_MAX);
		goto by_handle;
	}
	if (dg_xfs_dinode_parse(&rw->x->geo, buf, &di) || !agrees(bs, &di) ||
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

static int add_bmbt_claim(struct xfs_raw *x, struct dg_claims *claims, const struct bmbt_hit *b)
{
	struct dg_owner o = {
		.type = DG_OWNER_FILE,
		.offset = b->offset,
		.length = x->geo.blocksize,
		.ino = b->ino,
		.gen = b->gen,
		.has_gen = true,
		.flags = b->oflags,
	};

	return dg_claims_add(claims, &o);
}

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/*
 * -EOPNOTSUPP: no raw reading here; the caller maps by handle instead.
 * File owners go into @res (the kernel's answer), extent-map blocks into
 * @claims (the device's).
 */
static int xfs_raw_scan(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges, size_t nr,
			struct dg_fiemap *w, struct dg_claims *claims)
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
	if (xfs_geo(rootfd, &geo, &x.geo) || geo.rtblocks)
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
		for (i = 0; i < DG_MIN(rw[k].bad, (uint64_t)BAD_LOG_MAX); i++) {
			const struct bad_copy *b = &rw[k].bad_log[i];

			if (b->fsb == UINT64_MAX)
				dbg(ctx,
				    "%s: inode %" PRIu64 ": the device copy fails its CRC check\n",
				    fs->devname, b->ino);
			else
				dbg(ctx,
				    "%s: inode %" PRIu64 ": extent map block %" PRIu64
				    " fails its CRC check\n",
				    fs->devname, b->ino, b->fsb);
		}
		if (rw[k].bad > BAD_LOG_MAX)
			dbg(ctx, "%s: and %" PRIu64 " more copies that fail their checks\n",
			    fs->devname, rw[k].bad - BAD_LOG_MAX);
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
			rc = add_bmbt_claim(&x, claims, &rw[k].bmbt[i]);
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

/* ------------------------------------------------------------------ */
/*
 * The AG metadata, read from the device (xfs-ag.c), for blocks that are in
 * use and that no file owns.  Its blocks check out one by one (CRC, place,
 * AG), but the trees may be stale like any device copy: they are claims,
 * which never override the kernel's answer, and the inode chunks among
 * them must be chunks the kernel has now (XFS_IOC_INUMBERS), with every
 * inode it says is allocated there.
 */
struct ag_claims {
	struct dg_fs *fs;
	int rootfd, devfd;
	const struct dg_xfs_geo *g;
	const struct dg_fs_extents *avail;
	struct dg_claims *claims;
	uint32_t agno;
	struct dg_u64map chunks; /* the AG's chunks: startino -> index + 1 */
	uint64_t *masks; /* their allocated inodes */
	size_t nr_masks, alloc_masks;
	bool have_chunks;
	uint64_t dropped;
};

static int ag_pread(void *arg, uint64_t off, void *buf, size_t len)
{
	struct ag_claims *a = arg;

	return pread(a->devfd, buf, len, (off_t)off) == (ssize_t)len ? 0 : -EIO;
}

static bool in_avail(const struct dg_fs_extents *avail, uint64_t off, uint64_t len)
{
	size_t i = dg_fs_range_first_after(avail->v, avail->nr, off);

	return i < avail->nr && avail->v[i].offset < off + len;
}

#define INUMBERS_BATCH 1024

/* The kernel's inode chunks of the AG, and which inodes it has in each. */
static int ag_chunks(struct ag_claims *a)
{
	struct xfs_inumbers_req *req;
	int rc = 0;

	a->have_chunks = true;
	req = calloc(1, XFS_INUMBERS_REQ_SIZE(INUMBERS_BATCH));
	if (!req)
		return -ENOMEM;
	req->hdr.flags = XFS_BULK_IREQ_AGNO;
	req->hdr.agno = a->agno;
	for (;;) {
		uint32_t i;

		req->hdr.icount = INUMBERS_BATCH;
		if (ioctl(a->rootfd, XFS_IOC_INUMBERS, req) < 0) {
			rc = -errno;
			break;
		}
		if (!req->hdr.ocount)
			break;
		for (i = 0; i < req->hdr.ocount && !rc; i++) {
			if (a->nr_masks == a->alloc_masks) {
				size_t n = a->alloc_masks ? a->alloc_masks * 2 : 64;
				uint64_t *m = realloc(a->masks, n * sizeof(*m));

				if (!m) {
					rc = -ENOMEM;
					break;
				}
				a->masks = m;
				a->alloc_masks = n;
			}
			a->masks[a->nr_masks++] = req->inumbers[i].xi_allocmask;
			/* the index, plus one: a map holds no NULL */
			rc = dg_u64map_put(&a->chunks, req->inumbers[i].xi_startino,
					   (void *)(uintptr_t)a->nr_masks);
		}
		if (rc)
			break;
	}
	free(req);
	return rc;
}

static int ag_claim(void *arg, const struct dg_xfs_meta *m)
{
	struct ag_claims *a = arg;
	struct dg_owner o = { .type = DG_OWNER_METADATA, .metadata = dg_xfs_meta_name(m->kind) };
	uintptr_t v;
	uint64_t alloc;
	unsigned int i, j;
	int rc;

	if (!in_avail(a->avail, m->offset, m->length))
		return 0;
	if (m->kind != DG_XFS_META_INODES) {
		o.offset = m->offset;
		o.length = m->length;
		return dg_claims_add(a->claims, &o);
	}
	if (!a->have_chunks) {
		rc = ag_chunks(a);
		if (rc)
			return rc;
	}
	v = (uintptr_t)dg_u64map_get(&a->chunks, m->startino);
	alloc = v ? a->masks[v - 1] : 0;
	if (!v || (alloc & ~m->present)) {
		/* gone since, or the device's holes hide inodes the kernel has */
		a->dropped++;
		return 0;
	}
	/* each run of inodes that exist */
	for (i = 0; i < 64; i = j) {
		for (; i < 64 && !(m->present & (1ULL << i)); i++)
			;
		for (j = i; j < 64 && (m->present & (1ULL << j)); j++)
			;
		if (i == j)
			break;
		o.offset = m->offset + (uint64_t)i * a->g->inodesize;
		o.length = (uint64_t)(j - i) * a->g->inodesize;
		rc = dg_claims_add(a->claims, &o);
		if (rc)
			return rc;
	}
	return 0;
}

int dg_xfs_metadata_claims(struct dg_fs *fs, int rootfd, const struct dg_fs_extents *avail,
			   struct dg_claims *claims)
{
	struct dg_ctx *ctx = fs->target->ctx;
	struct xfs_fsop_geom geo;
	struct dg_xfs_geo g;
	struct ag_claims a = {
		.fs = fs, .rootfd = rootfd, .g = &g, .avail = avail, .claims = claims
	};
	uint64_t agbytes;
	void *buf = NULL;
	size_t i = 0;
	int rc;

	if (!avail->nr || xfs_geo(rootfd, &geo, &g))
		return 0;
	a.devfd = open(fs->devname, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (a.devfd < 0) {
		dbg(ctx, "%s: %s: no AG metadata from the device\n", fs->devname, strerror(errno));
		return 0;
	}
	if (posix_memalign(&buf, 4096, dg_xfs_ag_buf_size(&g))) {
		close(a.devfd);
		return -ENOMEM;
	}
	agbytes = (uint64_t)g.agblocks * g.blocksize;
	rc = 0;
	/* only the AGs that hold a block still to explain */
	while (i < avail->nr && !rc) {
		a.agno = (uint32_t)(avail->v[i].offset / agbytes);
		if (a.agno >= g.agcount)
			break;
		memset(&a.chunks, 0, sizeof(a.chunks));
		a.have_chunks = false;
		a.nr_masks = 0;
		rc = dg_xfs_ag_walk(&g, a.agno, buf, ag_pread, ag_claim, &a);
		dg_u64map_free(&a.chunks);
		if (rc == -EBADMSG) {
			dbg(ctx, "%s: AG %u: some metadata on the device fails its checks\n",
			    fs->devname, a.agno);
			rc = 0;
		}
		i = dg_fs_range_first_after(avail->v, avail->nr, (a.agno + 1ULL) * agbytes);
	}
	if (a.dropped)
		dbg(ctx,
		    "%s: %" PRIu64 " inode chunks on the device that the kernel does not have\n",
		    fs->devname, a.dropped);
	free(a.masks);
	free(buf);
	close(a.devfd);
	return rc;
}

/* ------------------------------------------------------------------ */

static int xfs_bulkstat_rmap(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges,
			     size_t nr, struct dg_result *res)
{
	struct dg_ctx *ctx = fs->target->ctx;
	struct dg_fs_extents inuse = { 0 }, avail = { 0 }, gaps = { 0 }, left = { 0 };
	struct dg_owner **tail = res->owners_tail;
	struct dg_claims claims = { 0 };
	struct dg_fiemap *w;
	bool fsmap, damaged, exact = false;
	size_t i;
	int rc;

	rc = dg_fsmap_query(fs, rootfd, ranges, nr, false, res, &inuse);
	/* damaged: free space btrees that do not read, for some ranges */
	damaged = rc == 1;
	fsmap = rc >= 0;
	if (rc > 0)
		rc = 0;
	if (rc && rc != -ENOTTY && rc != -EOPNOTSUPP)
		goto out;
	/* no GETFSMAP: any block may be in use */
	for (i = 0; !fsmap && i < nr; i++) {
		rc = dg_fs_extents_add(&inuse, ranges[i].offset, ranges[i].length);
		if (rc)
			goto out;
	}
	rc = dg_xfs_static_owners(fs, rootfd, ranges, nr, &claims);
	if (rc)
		goto out;
	w = dg_fiemap_new(fs, ranges, nr, res);
	if (!w) {
		rc = -ENOMEM;
		goto out;
	}
	rc = xfs_raw_scan(fs, rootfd, ranges, nr, w, &claims);
	if (rc == -EOPNOTSUPP) {
		rc = xfs_handle_scan(rootfd, w);
		exact = true;
	}
	dg_fiemap_free(w);
	if (rc)
		goto out;

	/* what the kernel left unexplained: metadata, if the device says so */
	rc = dg_fs_uncovered(fs, res, &inuse, &avail);
	if (!rc)
		rc = dg_xfs_metadata_claims(fs, rootfd, &avail, &claims);
	if (!rc)
		rc = dg_claims_flush(&claims, fs, &avail, res);
	if (!rc)
		rc = dg_fs_uncovered(fs, res, &inuse, &gaps);
	if (rc || !gaps.nr || !fsmap)
		goto out;
	/*
	 * Blocks in use that the device attributes to no file and no
	 * metadata: a stale inode copy (an extent swap), a symlink's block,
	 * an inode being freed.  The device cannot be trusted to tell, so
	 * the kernel does, for every inode, but only for these blocks.
	 */
	if (!exact) {
		char sz[32];

		dbg(ctx, "%s: %s in use that the device leaves unexplained: every inode mapped\n",
		    fs->devname, dg_size_str(dg_fs_extents_bytes(&gaps), sz, sizeof(sz)));
		w = dg_fiemap_new(fs, gaps.v, gaps.nr, res);
		if (!w) {
			rc = -ENOMEM;
			goto out;
		}
		rc = xfs_handle_scan(rootfd, w);
		dg_fiemap_free(w);
		if (!rc)
			rc = dg_fs_uncovered(fs, res, &gaps, &left);
	} else {
		left = gaps;
		gaps = (struct dg_fs_extents){ 0 };
	}
	if (!rc)
		rc = dg_fs_report_unknown(fs, res, &left,
					  damaged ? "no file owns (GETFSMAP fails on part)" :
						    "no file, and no metadata it can read, owns");
out:
	dg_claims_free(&claims);
	dg_fs_extents_free(&inuse);
	dg_fs_extents_free(&avail);
	dg_fs_extents_free(&gaps);
	dg_fs_extents_free(&left);
	return dg_holder_fallback(fs, rootfd, ranges, nr, res, tail, rc, "bulkstat");
}

const struct dg_holder_ops dg_holder_xfs_bulkstat = {
	.name = "xfs-bulkstat",
	.rmap = xfs_bulkstat_rmap,
};
