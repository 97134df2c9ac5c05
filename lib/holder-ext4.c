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
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <ext2fs/ext2fs.h>

#include "private.h"

#ifndef EXT4_IOC_CHECKPOINT
#define EXT4_IOC_CHECKPOINT _IOW('f', 43, uint32_t)
#endif

struct ext4_scan {
	struct dg_fs *fs;
	ext2_filsys e2fs;
	const struct dg_fs_range *ranges; /* bytes */
	size_t nr;
	unsigned int blocksize;
	struct dg_result *res;
	ext2_ino_t ino;
	uint32_t gen;
	unsigned int oflags;
	int rc;
	/*
	 * Early stop, like debugfs icheck: ext4 shares no data or extent
	 * blocks, so once every block of every range has its owner (or is
	 * metadata or free, from GETFSMAP), no other inode can own any of
	 * them.  One bit per block of each range (first_bit[i] is range
	 * i's first); NULL when the ranges are too large to track.
	 */
	uint8_t *covered;
	uint64_t *first_bit;
	uint64_t nr_bits, nr_covered;
};

#define EARLY_STOP_MAX_BITS (1ULL << 24) /* 2 MiB of bitmap, 64 GiB of 4 KiB blocks */

static int cover_init(struct ext4_scan *s)
{
	uint64_t bits = 0;
	size_t i;

	for (i = 0; i < s->nr; i++) {
		const struct dg_fs_range *q = &s->ranges[i];

		bits += (q->offset + q->length + s->blocksize - 1) / s->blocksize -
			q->offset / s->blocksize;
	}
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
		const struct dg_fs_range *q = &s->ranges[i];

		s->first_bit[i] = bits;
		bits += (q->offset + q->length + s->blocksize - 1) / s->blocksize -
			q->offset / s->blocksize;
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

/* What GETFSMAP already named: metadata and free space. */
static void cover_fsmap(struct ext4_scan *s)
{
	struct dg_owner *o;
	size_t i;

	dg_owner_foreach(s->res, o) {
		if (o->fs != s->fs || (o->type != DG_OWNER_METADATA && o->type != DG_OWNER_FREE))
			continue;
		for (i = 0; i < s->nr; i++) {
			uint64_t st = DG_MAX(o->offset, s->ranges[i].offset);
			uint64_t en = DG_MIN(o->offset + o->length,
					     s->ranges[i].offset + s->ranges[i].length);

			if (st < en)
				cover(s, i, st, en);
		}
	}
}

static bool all_covered(const struct ext4_scan *s)
{
	return s->covered && s->nr_covered == s->nr_bits;
}

/* Record [pblk, pblk + len) of the current inode where it meets a range. */
static int hit(struct ext4_scan *s, uint64_t pblk, uint64_t lblk, uint64_t len, unsigned int flags)
{
	uint64_t pstart = pblk * s->blocksize;
	uint64_t pend = pstart + len * s->blocksize;
	size_t lo = dg_fs_range_first_after(s->ranges, s->nr, pstart);

	for (; lo < s->nr && s->ranges[lo].offset < pend; lo++) {
		const struct dg_fs_range *q = &s->ranges[lo];
		uint64_t st = DG_MAX(pstart, q->offset);
		uint64_t en = DG_MIN(pend, q->offset + q->length);
		struct dg_owner o = {
			.type = DG_OWNER_FILE,
			.offset = st,
			.length = en - st,
			.ino = s->ino,
			.gen = s->gen,
			.has_gen = true,
			.flags = s->oflags | flags,
		};

		if (!(flags & (DG_OWNER_EXTENT_MAP | DG_OWNER_ATTR_FORK)))
			o.file_offset = lblk * s->blocksize + (st - pstart);
		if (!dg_result_add_owner(s->res, s->fs, &o))
			return -ENOMEM;
		/* an xattr block can be shared by many inodes: it never counts */
		if (!(flags & DG_OWNER_ATTR_FORK))
			cover(s, lo, st, en);
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
	if (err)
		return 0; /* a corrupt tree is fsck's business, not ours */
	while (!rc) {
		err = ext2fs_extent_get(h, op, &e);
		op = EXT2_EXTENT_NEXT;
		if (err)
			break;
		if (e.e_flags & EXT2_EXTENT_FLAGS_SECOND_VISIT)
			continue;
		if (e.e_flags & EXT2_EXTENT_FLAGS_LEAF)
			rc = hit(s, e.e_pblk, e.e_lblk, e.e_len,
				 (e.e_flags & EXT2_EXTENT_FLAGS_UNINIT) ? DG_OWNER_UNWRITTEN : 0);
		else
			/* an index entry points at one extent tree block */
			rc = hit(s, e.e_pblk, 0, 1, DG_OWNER_EXTENT_MAP);
	}
	ext2fs_extent_free(h);
	return rc;
}

static int block_fn(ext2_filsys e2fs, blk64_t *blocknr, e2_blkcnt_t blockcnt, blk64_t ref_blk,
		    int ref_offset, void *priv)
{
	struct ext4_scan *s = priv;

	/* negative counts are the indirect blocks themselves */
	s->rc = hit(s, *blocknr, blockcnt < 0 ? 0 : (uint64_t)blockcnt, 1,
		    blockcnt < 0 ? DG_OWNER_EXTENT_MAP : 0);
	return s->rc ? BLOCK_ABORT : 0;
}

static int scan_inode(struct ext4_scan *s, struct ext2_inode_large *inode)
{
	blk64_t acl;
	int rc = 0;

	s->gen = inode->i_generation;
	s->oflags = 0;
	if (LINUX_S_ISDIR(inode->i_mode))
		s->oflags |= DG_OWNER_DIRECTORY;
	if (inode->i_links_count == 0)
		s->oflags |= DG_OWNER_UNLINKED;

	acl = ext2fs_file_acl_block(s->e2fs, (struct ext2_inode *)inode);
	if (acl)
		rc = hit(s, acl, 0, 1, DG_OWNER_ATTR_FORK);
	if (rc || !ext2fs_inode_has_valid_blocks2(s->e2fs, (struct ext2_inode *)inode))
		return rc;
	if (inode->i_flags & EXT4_INLINE_DATA_FL)
		return 0;
	if (inode->i_flags & EXT4_EXTENTS_FL)
		return scan_extents(s, inode);
	s->rc = 0;
	ext2fs_block_iterate3(s->e2fs, s->ino, BLOCK_FLAG_READ_ONLY, NULL, block_fn, s);
	return s->rc;
}

static int ext4_libext2fs_rmap(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges,
			       size_t nr, struct dg_result *res)
{
	struct ext4_scan s = { .fs = fs, .ranges = ranges, .nr = nr, .res = res };
	struct ext2_inode_large *inode = NULL;
	ext2_inode_scan scan = NULL;
	uint32_t flags = 0;
	unsigned int isize;
	errcode_t err;
	int rc;

	rc = dg_fsmap_query(fs, rootfd, ranges, nr, false, res);
	if (rc && rc != -ENOTTY && rc != -EOPNOTSUPP)
		return rc;
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
	if (err)
		return dg_fail(fs->target->ctx, -EIO, "%s: libext2fs: %s", fs->devname,
			       error_message(err));
	s.blocksize = s.e2fs->blocksize;
	rc = -EIO;
	if (ext2fs_read_inode_bitmap(s.e2fs))
		goto out;
	err = ext2fs_open_inode_scan(s.e2fs, 0, &scan);
	if (err)
		goto out;
	isize = EXT2_INODE_SIZE(s.e2fs->super);
	inode = malloc(isize);
	if (!inode) {
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
			rc = -EIO;
			break;
		}
		if (!s.ino)
			break;
		/* the bitmap, not the link count, says what is allocated */
		if (s.ino < EXT2_FIRST_INODE(s.e2fs->super) && s.ino != EXT2_ROOT_INO)
			continue;
		if (!ext2fs_test_inode_bitmap2(s.e2fs->inode_map, s.ino))
			continue;
		rc = scan_inode(&s, inode);
		if (rc)
			break;
	}
	if (all_covered(&s))
		dbg(fs->target->ctx, "%s: every block has its owner by inode %u: scan stopped\n",
		    fs->devname, s.ino);
out:
	free(s.covered);
	free(s.first_bit);
	free(inode);
	if (scan)
		ext2fs_close_inode_scan(scan);
	ext2fs_close_free(&s.e2fs);
	return rc;
}

const struct dg_holder_ops dg_holder_ext4 = {
	.name = "ext4-libext2fs",
	.rmap = ext4_libext2fs_rmap,
};
