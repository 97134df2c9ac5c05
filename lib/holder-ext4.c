// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ext4 has no reverse map: its GETFSMAP calls every file block "unknown".
 * So we build the answer from the inode tables, with libext2fs: one pass
 * over every allocated inode and its extent tree, keeping only the extents
 * that meet the queried ranges.  That covers what a directory walk cannot
 * reach: unlinked files still held open (allocated, link count 0), extent
 * tree blocks, xattr blocks, directories.
 *
 * We read the block device while the filesystem is mounted.  ext4 writes
 * its metadata through the block device's page cache, so what we read is
 * what it wrote, once it is out of the journal: the caller has either
 * frozen the filesystem (which checkpoints the journal) or we ask for a
 * checkpoint (EXT4_IOC_CHECKPOINT, 5.13+).  Metadata and free space still
 * come from GETFSMAP, which knows their kinds.
 *
 * What the device says is only a lead, though: an inode table block can be
 * corrupt (a failing device is what daxguard is for) and still parse.  So
 * an inode whose extents meet a range on the device, or whose extents do
 * not parse there, is opened by handle and the kernel's FIEMAP is what is
 * reported.  Only what FIEMAP cannot tell (extent tree and indirect
 * blocks) comes from the device, as claims that fill blocks nothing else
 * owns.  Every block GETFSMAP says is in use ends with an owner or as
 * "unknown", never as nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/fs.h>
#include <unistd.h>

#include <ext2fs/ext2fs.h>

#include "private.h"

#ifndef EXT4_IOC_CHECKPOINT
#define EXT4_IOC_CHECKPOINT _IOW('f', 43, uint32_t)
#endif

/* inodes whose extents do not parse on the device, named in a warning */
#define BAD_NAMED_MAX 8

struct ext4_scan {
	struct dg_fs *fs;
	int rootfd;
	ext2_filsys e2fs;
	const struct dg_fs_range *ranges; /* bytes */
	size_t nr;
	unsigned int blocksize;
	struct dg_result *res;
	struct dg_fiemap *kernel; /* the kernel's answer, for the ranges */
	struct dg_claims claims;
	bool csum; /* metadata_csum: an extent block names its inode */
	/* the inode being scanned */
	ext2_ino_t ino;
	unsigned int oflags;
	const char *metadata; /* a special inode's blocks: this metadata */
	bool dev_hit, bad;
	int rc;
	uint8_t *blockbuf;
	/* inodes the device could not tell, and that the kernel could not */
	uint32_t bad_named[BAD_NAMED_MAX];
	uint64_t nr_bad, nr_unmapped;
	/*
	 * Early stop, like debugfs icheck: ext4 shares no data or extent
	 * blocks, so once every block of every range has its owner (or is
	 * metadata or free, from GETFSMAP), no other inode can own any of
	 * them.  One bit per block of each range (first_bit[i] is range
	 * i's first); NULL when the ranges are too large to track.  Only
	 * what the kernel confirmed counts.
	 */
	uint8_t *covered;
	uint64_t *first_bit;
	uint64_t nr_bits, nr_covered;
};

#define EARLY_STOP_MAX_BITS (1ULL << 24) /* 2 MiB of bitmap, 64 GiB of 4 KiB blocks */

static uint64_t range_blocks(const struct ext4_scan *s, const struct dg_fs_range *q)
{
	return (q->offset + q->length + s->blocksize - 1) / s->blocksize - q->offset / s->blocksize;
}

static int cover_init(struct ext4_scan *s)
{
	uint64_t bits = 0;
	size_t i;

	for (i = 0; i < s->nr; i++)
		bits += range_blocks(s, &s->ranges[i]);
	if (!bits || bits > EARLY_STOP_MAX_BITS)
		return 0;
	s->first_bit = malloc(s->nr * sizeof(*s->first_bit));
	s->covered = calloc((bits + 7) / 8, 1);
	if (!s->first_bit || !s->covered) {
		free(s->first_bit);
		free(s->covered);
		s->first_bit = NULL;
		s->covered = NULL;
		return -ENOMEM;
	}
	for (bits = 0, i = 0; i < s->nr; i++) {
		s->first_bit[i] = bits;
		bits += range_blocks(s, &s->ranges[i]);
	}
	s->nr_bits = bits;
	return 0;
}

/* [st, en) of range @i has an owner. */
static void cover(struct ext4_scan *s, size_t i, uint64_t st, uint64_t en)
{
	uint64_t first = s->ranges[i].offset / s->blocksize, b;

	if (!s->covered)
		return;
	for (b = st / s->blocksize; b * s->blocksize < en; b++) {
		uint64_t bit = s->first_bit[i] + b - first;

		if (!(s->covered[bit / 8] & (1U << (bit % 8)))) {
			s->covered[bit / 8] |= (uint8_t)(1U << (bit % 8));
			s->nr_covered++;
		}
	}
}

/* [off, off + len) has an owner, wherever it meets the ranges. */
static void cover_owner(struct ext4_scan *s, uint64_t off, uint64_t len)
{
	size_t i = dg_fs_range_first_after(s->ranges, s->nr, off);

	/* a binary search, not every range: lists run to 100,000s */
	for (; i < s->nr && s->ranges[i].offset < off + len; i++) {
		uint64_t st = DG_MAX(off, s->ranges[i].offset);
		uint64_t en = DG_MIN(off + len, s->ranges[i].offset + s->ranges[i].length);

		if (st < en)
			cover(s, i, st, en);
	}
}

/* What GETFSMAP already named: metadata and free space. */
static void cover_fsmap(struct ext4_scan *s)
{
	struct dg_owner *o;

	if (!s->covered)
		return;
	dg_owner_foreach(s->res, o)
		if (o->fs == s->fs && (o->type == DG_OWNER_METADATA || o->type == DG_OWNER_FREE))
			cover_owner(s, o->offset, o->length);
}

static bool all_covered(const struct ext4_scan *s)
{
	return s->covered && s->nr_covered == s->nr_bits;
}

static bool meets(const struct ext4_scan *s, uint64_t start, uint64_t len)
{
	size_t i = dg_fs_range_first_after(s->ranges, s->nr, start);

	return i < s->nr && s->ranges[i].offset < start + len;
}

/*
 * An extent tree (or indirect) block of the current inode at @pblk.  With
 * metadata_csum an extent block carries a checksum seeded with its inode:
 * one that checks out is that inode's, and counts for the early stop.
 */
static int map_block(struct ext4_scan *s, uint64_t pblk, bool extent_block)
{
	uint64_t start = pblk * s->blocksize;
	struct dg_owner o = {
		.type = s->metadata ? DG_OWNER_METADATA : DG_OWNER_FILE,
		.metadata = s->metadata,
		.offset = start,
		.length = s->blocksize,
		.ino = s->metadata ? 0 : s->ino,
		.flags = s->metadata ? 0 : s->oflags | DG_OWNER_EXTENT_MAP,
	};

	if (!meets(s, start, s->blocksize))
		return 0;
	/*
	 * The header first: the checksum lives after eh_max entries, and
	 * libext2fs reads it wherever a garbage eh_max puts it (found by
	 * tests/rmap/hostile.sh: a SEGV far past the block).
	 */
	if (extent_block && s->csum && !s->metadata &&
	    !io_channel_read_blk64(s->e2fs->io, pblk, 1, s->blockbuf) &&
	    !ext2fs_extent_header_verify(s->blockbuf, (int)s->blocksize) &&
	    ext2fs_extent_block_csum_verify(s->e2fs, s->ino, (void *)s->blockbuf))
		cover_owner(s, start, s->blocksize);
	return dg_claims_add(&s->claims, &o);
}

/* [pblk, pblk + len) of the current inode: a lead, or a special inode's. */
static int map_data(struct ext4_scan *s, uint64_t pblk, uint64_t len)
{
	struct dg_owner o = { .type = DG_OWNER_METADATA, .metadata = s->metadata };
	uint64_t start = pblk * s->blocksize, end = start + len * s->blocksize;
	size_t i;
	int rc;

	if (!meets(s, start, end - start))
		return 0;
	if (!s->metadata) {
		s->dev_hit = true;
		return 0;
	}
	for (i = dg_fs_range_first_after(s->ranges, s->nr, start);
	     i < s->nr && s->ranges[i].offset < end; i++) {
		o.offset = DG_MAX(start, s->ranges[i].offset);
		o.length = DG_MIN(end, s->ranges[i].offset + s->ranges[i].length) - o.offset;
		rc = dg_claims_add(&s->claims, &o);
		if (rc)
			return rc;
	}
	return 0;
}

static int scan_extents(struct ext4_scan *s, struct ext2_inode_large *inode)
{
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	errcode_t err;
	int op = EXT2_EXTENT_ROOT, rc = 0;

	err = ext2fs_extent_open2(s->e2fs, s->ino, (struct ext2_inode *)inode, &h);
	if (err) {
		s->bad = true;
		return 0;
	}
	while (!rc) {
		err = ext2fs_extent_get(h, op, &e);
		op = EXT2_EXTENT_NEXT;
		if (err) {
			if (err != EXT2_ET_EXTENT_NO_NEXT)
				s->bad = true;
			break;
		}
		if (e.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT)
			continue;
		if (e.e_flags & EXT2_EXTENT_FLAGS_LEAF)
			rc = map_data(s, e.e_pblk, e.e_len);
		else
			/* an index entry points at one extent tree block */
			rc = map_block(s, e.e_pblk, true);
	}
	ext2fs_extent_free(h);
	return rc;
}

static int block_fn(ext2_filsys e2fs, blk64_t *blocknr, e2_blkcnt_t blockcnt, blk64_t ref_blk,
		    int ref_offset, void *priv)
{
	struct ext4_scan *s = priv;

	/* negative counts are the indirect blocks themselves */
	s->rc = blockcnt < 0 ? map_block(s, *blocknr, false) : map_data(s, *blocknr, 1);
	return s->rc ? BLOCK_ABORT : 0;
}

/* ext4's export operations take the 32-bit inode number and generation */
static int open_ino(int rootfd, uint32_t ino, int flags)
{
	struct {
		struct file_handle fh;
		uint32_t ino, gen;
	} h = { .fh = { .handle_bytes = 8, .handle_type = 1 /* FILEID_INO32_GEN */ } };

	/* generation 0: ext4 does not check it */
	h.ino = ino;
	return open_by_handle_at(rootfd, &h.fh, O_RDONLY | O_CLOEXEC | O_NONBLOCK | flags);
}

/*
 * The kernel's answer for inode @ino: its data and xattr blocks in the
 * ranges.  1 when it gave one, 0 when it could not.
 */
static int map_by_kernel(struct ext4_scan *s, uint32_t ino, unsigned int oflags)
{
	struct dg_owner **tail = s->res->owners_tail, *o;
	uint32_t gen;
	int fd, rc;

	fd = open_ino(s->rootfd, ino, O_NOATIME);
	if (fd < 0 && errno == EPERM)
		fd = open_ino(s->rootfd, ino, 0); /* O_NOATIME is for owners only */
	if (fd < 0)
		return 0;
	if (ioctl(fd, FS_IOC_GETVERSION, &gen) < 0) {
		close(fd);
		return 0;
	}
	rc = dg_fiemap_fork(s->kernel, fd, ino, &gen, oflags, NULL, false);
	if (!rc)
		rc = dg_fiemap_fork(s->kernel, fd, ino, &gen, oflags, NULL, true);
	close(fd);
	if (rc)
		return rc;
	for (o = *tail; o; o = o->next)
		cover_owner(s, o->offset, o->length);
	return 1;
}

static void note_bad(struct ext4_scan *s, uint32_t ino)
{
	if (s->nr_bad < BAD_NAMED_MAX)
		s->bad_named[s->nr_bad] = ino;
	s->nr_bad++;
}

/* what a special inode's blocks are, or NULL for a file */
static const char *special_inode(const struct ext4_scan *s, ext2_ino_t ino)
{
	const struct ext2_super_block *sb = s->e2fs->super;

	if (ino == sb->s_journal_inum)
		return "log";
	if (ino == sb->s_usr_quota_inum || ino == sb->s_grp_quota_inum ||
	    ino == sb->s_prj_quota_inum)
		return "quota";
	if (ino == sb->s_orphan_file_inum)
		return "orphan_file";
	if (ino == EXT2_RESIZE_INO)
		return "reserved_gdt";
	if (ino == EXT2_BAD_INO)
		return "defective";
	if (ino < EXT2_FIRST_INODE(sb) && ino != EXT2_ROOT_INO)
		return "metadata";
	return NULL;
}

static int scan_inode(struct ext4_scan *s, struct ext2_inode_large *inode)
{
	blk64_t acl;
	int rc = 0;

	s->oflags = 0;
	s->dev_hit = s->bad = false;
	s->metadata = special_inode(s, s->ino);
	if (LINUX_S_ISDIR(inode->i_mode))
		s->oflags |= DG_OWNER_DIRECTORY;
	if (inode->i_links_count == 0)
		s->oflags |= DG_OWNER_UNLINKED;

	acl = ext2fs_file_acl_block(s->e2fs, (struct ext2_inode *)inode);
	if (acl)
		rc = map_data(s, acl, 1);
	if (!rc && ext2fs_inode_has_valid_blocks2(s->e2fs, (struct ext2_inode *)inode) &&
	    !(inode->i_flags & EXT4_INLINE_DATA_FL)) {
		if (inode->i_flags & EXT4_EXTENTS_FL) {
			rc = scan_extents(s, inode);
		} else {
			s->rc = 0;
			if (ext2fs_block_iterate3(s->e2fs, s->ino, BLOCK_FLAG_READ_ONLY, NULL,
						  block_fn, s))
				s->bad = true;
			rc = s->rc;
		}
	}
	if (rc || s->metadata || (!s->dev_hit && !s->bad))
		return rc;
	rc = map_by_kernel(s, s->ino, s->oflags);
	if (rc < 0)
		return rc;
	if (s->bad) {
		/* named in a warning either way: its inode table block is bad */
		note_bad(s, s->ino);
		if (!rc)
			s->nr_unmapped++;
	}
	return 0;
}

/* The kernel's answer for the inodes the device could not tell. */
static int resolve_gaps(struct ext4_scan *s, const struct dg_fs_extents *gaps)
{
	uint64_t i;
	int rc = 0;

	s->kernel = dg_fiemap_new(s->fs, gaps->v, gaps->nr, s->res);
	if (!s->kernel)
		return -ENOMEM;
	for (i = 0; i < DG_MIN(s->nr_bad, (uint64_t)BAD_NAMED_MAX) && rc >= 0; i++)
		rc = map_by_kernel(s, s->bad_named[i], 0);
	/* files unlinked but still open, through their holders */
	if (rc >= 0)
		dg_fiemap_unlinked(s->kernel);
	dg_fiemap_free(s->kernel);
	s->kernel = NULL;
	return rc < 0 ? rc : 0;
}

static void warn_bad(struct ext4_scan *s)
{
	char list[BAD_NAMED_MAX * 12 + 32] = "";
	size_t len = 0;
	uint64_t i;

	if (!s->nr_bad)
		return;
	for (i = 0; i < DG_MIN(s->nr_bad, (uint64_t)BAD_NAMED_MAX); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u", i ? ", " : "",
					s->bad_named[i]);
	if (s->nr_bad > BAD_NAMED_MAX)
		snprintf(list + len, sizeof(list) - len, " and %" PRIu64 " more",
			 s->nr_bad - BAD_NAMED_MAX);
	dg_result_warn(s->res, "%s: the extent tree of inode %s does not parse on the device: %s",
		       s->fs->devname, list,
		       s->nr_unmapped ? "where the kernel could not tell either, "
					"its blocks are reported as unknown" :
					"the kernel's own map of it is reported");
}

static int ext4_libext2fs_rmap(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges,
			       size_t nr, struct dg_result *res)
{
	struct ext4_scan s = { .fs = fs, .rootfd = rootfd, .ranges = ranges, .nr = nr, .res = res };
	struct dg_fs_extents inuse = { 0 }, avail = { 0 }, gaps = { 0 }, left = { 0 };
	struct dg_owner **tail = res->owners_tail;
	struct ext2_inode_large *inode = NULL;
	ext2_inode_scan scan = NULL;
	uint32_t flags = 0;
	unsigned int isize;
	bool fsmap, damaged, partial = false;
	errcode_t err;
	size_t i;
	int rc;

	rc = dg_fsmap_query(fs, rootfd, ranges, nr, false, res, &inuse);
	/* damaged: bitmaps that do not read, for some ranges */
	damaged = rc == 1;
	fsmap = rc >= 0;
	if (rc > 0)
		rc = 0;
	if (rc && rc != -ENOTTY && rc != -EOPNOTSUPP)
		return rc;
	for (i = 0; !fsmap && i < nr; i++) {
		rc = dg_fs_extents_add(&inuse, ranges[i].offset, ranges[i].length);
		if (rc)
			goto out_free;
	}
	/*
	 * Out of the journal into place.  EBUSY: frozen, which did it;
	 * ENOTTY: a kernel before 5.13, where a freeze is the only way and
	 * an unfrozen answer may miss the latest allocations.
	 */
	if (ioctl(rootfd, EXT4_IOC_CHECKPOINT, &flags) < 0 && errno != EBUSY)
		dbg(fs->target->ctx, "%s: checkpoint: %s\n", fs->devname, strerror(errno));

	err = ext2fs_open2(fs->devname, NULL,
			   EXT2_FLAG_64BITS | EXT2_FLAG_SKIP_MMP | EXT2_FLAG_IGNORE_CSUM_ERRORS, 0,
			   0, unix_io_manager, &s.e2fs);
	if (err) {
		/*
		 * A superblock or group descriptors that do not read, or a
		 * device we may not read (not root): walk.  Small codes are
		 * the system's errno.
		 */
		dbg(fs->target->ctx, "%s: libext2fs: %s\n", fs->devname, error_message(err));
		rc = err > 0 && err < 4096 ? -(int)err : -EIO;
		goto out_free;
	}
	s.blocksize = s.e2fs->blocksize;
	s.csum = ext2fs_has_feature_metadata_csum(s.e2fs->super);
	rc = -EIO;
	if (ext2fs_read_inode_bitmap(s.e2fs))
		goto out;
	err = ext2fs_open_inode_scan(s.e2fs, 0, &scan);
	if (err)
		goto out;
	isize = EXT2_INODE_SIZE(s.e2fs->super);
	inode = malloc(isize);
	s.blockbuf = malloc(s.blocksize);
	s.kernel = dg_fiemap_new(fs, ranges, nr, res);
	if (!inode || !s.blockbuf || !s.kernel) {
		rc = -ENOMEM;
		goto out;
	}
	rc = cover_init(&s);
	if (rc)
		goto out;
	cover_fsmap(&s);
	while (!all_covered(&s)) {
		err = ext2fs_get_next_inode_full(scan, &s.ino, (struct ext2_inode *)inode,
						 (int)isize);
		if (err == EXT2_ET_BAD_BLOCK_IN_INODE_TABLE)
			continue;
		if (err) {
			/* the rest of the inode tables cannot be read */
			dbg(fs->target->ctx, "%s: inode scan: %s\n", fs->devname,
			    error_message(err));
			partial = true;
			break;
		}
		if (!s.ino)
			break;
		/* the bitmap, not the link count, says what is allocated */
		if (!ext2fs_test_inode_bitmap2(s.e2fs->inode_map, s.ino))
			continue;
		rc = scan_inode(&s, inode);
		if (rc)
			goto out;
	}
	if (all_covered(&s))
		dbg(fs->target->ctx, "%s: every block has its owner by inode %u: scan stopped\n",
		    fs->devname, s.ino);
	dg_fiemap_free(s.kernel);
	s.kernel = NULL;

	/* extent-map blocks and special inodes, where nothing else owns */
	rc = dg_fs_uncovered(fs, res, &inuse, &avail);
	if (!rc)
		rc = dg_claims_flush(&s.claims, fs, &avail, res);
	if (!rc)
		rc = dg_fs_uncovered(fs, res, &inuse, &gaps);
	if (!rc && gaps.nr)
		rc = resolve_gaps(&s, &gaps);
	if (!rc)
		rc = dg_fs_uncovered(fs, res, &gaps, &left);
	warn_bad(&s);
	if (partial) {
		dg_result_warn(res,
			       "%s: the inode tables cannot all be read: owners may be missing",
			       fs->devname);
		res->incomplete = true;
	}
	if (!rc && fsmap)
		rc = dg_fs_report_unknown(
			fs, res, &left,
			damaged ? "no inode owns (GETFSMAP fails on part)" :
				  "no inode it can read, and no known metadata, owns");
out:
	dg_fiemap_free(s.kernel);
	dg_claims_free(&s.claims);
	free(s.covered);
	free(s.first_bit);
	free(s.blockbuf);
	free(inode);
	if (scan)
		ext2fs_close_inode_scan(scan);
	ext2fs_close_free(&s.e2fs);
out_free:
	dg_fs_extents_free(&inuse);
	dg_fs_extents_free(&avail);
	dg_fs_extents_free(&gaps);
	dg_fs_extents_free(&left);
	return dg_holder_fallback(fs, rootfd, ranges, nr, res, tail, rc, "libext2fs");
}

const struct dg_holder_ops dg_holder_ext4 = {
	.name = "ext4-libext2fs",
	.rmap = ext4_libext2fs_rmap,
};
