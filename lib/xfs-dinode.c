// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The on-disk XFS inode, read in user space: the core fields that say
 * whether a copy read from the device is the inode the kernel has, and
 * the extent lists of both forks, in the inode or in its bmbt blocks.
 *
 * There is no maintained library for this: libxfs is internal to
 * xfsprogs.  The layout is the stable on-disk format (fs/xfs/libxfs/
 * xfs_format.h, Documentation/filesystems/xfs/xfs-ondisk-format): all
 * big-endian, a 100-byte core for version 2 inodes and 176 bytes for
 * version 3, then the data fork, then the attr fork at the fork offset.
 *
 * Pure logic on buffers: the caller reads the device.  Every length and
 * count is checked against the buffer before use: the bytes come from a
 * device that may hold anything.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "private.h"
#include "xfs-be.h"

#define XFS_DINODE_MAGIC 0x494e /* "IN" */
#define XFS_BMAP_MAGIC 0x424d4150 /* "BMAP", v4 bmbt block */
#define XFS_BMAP_CRC_MAGIC 0x424d4133 /* "BMA3", v5 bmbt block */

#define DINODE_V2_SIZE 100
#define DINODE_V3_SIZE 176
#define BMBT_REC_SIZE 16
#define BMBT_LBLOCK_LEN 24
#define BMBT_LBLOCK_CRC_LEN 72

#define XFS_DIFLAG2_NREXT64 (1ULL << 4)
#define XFS_DIFLAG2_BIGTIME (1ULL << 3)
#define XFS_BIGTIME_EPOCH_OFFSET 2147483648LL /* -(int64_t)INT32_MIN */

int dg_xfs_geo_init(struct dg_xfs_geo *g, uint32_t blocksize, uint32_t agblocks, uint32_t agcount,
		    uint32_t inodesize, bool crc)
{
	if (blocksize < 512 || (blocksize & (blocksize - 1)) || inodesize < 256 ||
	    (inodesize & (inodesize - 1)) || inodesize > blocksize || agblocks < 2 || !agcount)
		return -EINVAL;
	g->blocksize = blocksize;
	g->agblocks = agblocks;
	g->agcount = agcount;
	g->inodesize = inodesize;
	g->crc = crc;
	g->sectsize = 512;
	g->finobt = false;
	g->reflink = false;
	/* sb_agblklog: log2 of agblocks, rounded up */
	g->agblklog = 64 - (unsigned int)__builtin_clzll((uint64_t)agblocks - 1);
	g->inopblog = (unsigned int)__builtin_ctz(blocksize / inodesize);
	return 0;
}

int dg_xfs_fsb_to_bytes(const struct dg_xfs_geo *g, uint64_t fsb, uint64_t *bytes)
{
	uint64_t agno = fsb >> g->agblklog;
	uint64_t agbno = fsb & ((1ULL << g->agblklog) - 1);

	if (agno >= g->agcount || agbno >= g->agblocks)
		return -ERANGE;
	*bytes = (agno * g->agblocks + agbno) * g->blocksize;
	return 0;
}

int dg_xfs_ino_to_bytes(const struct dg_xfs_geo *g, uint64_t ino, uint64_t *bytes)
{
	unsigned int inolog = g->agblklog + g->inopblog;
	uint64_t agino = ino & ((1ULL << inolog) - 1);
	uint64_t fsb = ((ino >> inolog) << g->agblklog) | (agino >> g->inopblog);
	int rc = dg_xfs_fsb_to_bytes(g, fsb, bytes);

	if (!rc)
		*bytes += (agino & ((1ULL << g->inopblog) - 1)) * g->inodesize;
	return rc;
}

static void get_time(const uint8_t *p, bool bigtime, int64_t *sec, uint32_t *nsec)
{
	if (bigtime) {
		uint64_t ns = get64(p);

		*sec = (int64_t)(ns / 1000000000ULL) - XFS_BIGTIME_EPOCH_OFFSET;
		*nsec = (uint32_t)(ns % 1000000000ULL);
	} else {
		*sec = (int32_t)get32(p);
		*nsec = get32(p + 4);
	}
}

/*
 * v5 metadata carries a CRC32c of itself (the field counted as zero),
 * stored inverted and little-endian.  libext2fs's crc32c is the same
 * polynomial, without the pre and post inversion.
 */
bool dg_xfs_cksum_ok(const void *buf, size_t len, size_t off)
{
	static const uint8_t zero[4];
	const uint8_t *p = buf;
	uint32_t crc, stored;

	if (off + 4 > len)
		return false;
	crc = ext2fs_crc32c_le(~0U, p, off);
	crc = ext2fs_crc32c_le(crc, zero, sizeof(zero));
	crc = ext2fs_crc32c_le(crc, p + off + 4, len - off - 4);
	memcpy(&stored, p + off, sizeof(stored));
	return le32toh(stored) == ~crc;
}

#define DINODE_CRC_OFF 100
#define DINODE_INO_OFF 152
#define LBLOCK_CRC_OFF 64
#define LBLOCK_BLKNO_OFF 24
#define LBLOCK_OWNER_OFF 56

int dg_xfs_dinode_verify(const struct dg_xfs_geo *g, const void *buf, uint64_t ino)
{
	const uint8_t *p = buf;

	if (!g->crc)
		return 0; /* version 2 inodes have nothing to check */
	if (p[4] != 3 || !dg_xfs_cksum_ok(p, g->inodesize, DINODE_CRC_OFF) ||
	    get64(p + DINODE_INO_OFF) != ino)
		return -EBADMSG;
	return 0;
}

int dg_xfs_bmbt_block_verify(const struct dg_xfs_geo *g, const void *buf, uint64_t fsb,
			     uint64_t ino)
{
	const uint8_t *p = buf;
	uint64_t bytes;

	if (!g->crc)
		return 0; /* v4 bmbt blocks say nothing about themselves */
	/* a v5 block names its own place and its inode, under its CRC */
	if (dg_xfs_fsb_to_bytes(g, fsb, &bytes) || get64(p + LBLOCK_BLKNO_OFF) != bytes >> 9 ||
	    get64(p + LBLOCK_OWNER_OFF) != ino || !dg_xfs_cksum_ok(p, g->blocksize, LBLOCK_CRC_OFF))
		return -EBADMSG;
	return 0;
}

int dg_xfs_dinode_parse(const struct dg_xfs_geo *g, const void *buf, struct dg_xfs_dinode *di)
{
	const uint8_t *p = buf;
	size_t core, lit, dsize;

	memset(di, 0, sizeof(*di));
	if (get16(p) != XFS_DINODE_MAGIC)
		return -EBADMSG;
	di->version = p[4];
	if (di->version != 2 && di->version != 3)
		return -EBADMSG;
	if ((di->version == 3) != g->crc)
		return -EBADMSG;
	core = di->version == 3 ? DINODE_V3_SIZE : DINODE_V2_SIZE;
	di->mode = get16(p + 2);
	di->format = p[5];
	di->nlink = get32(p + 16);
	di->size = get64(p + 56);
	di->nblocks = get64(p + 64);
	di->forkoff = p[82];
	di->aformat = p[83];
	di->flags = get16(p + 90);
	di->gen = get32(p + 92);
	if (di->version == 3) {
		di->flags2 = get64(p + 120);
		di->ino = get64(p + 152);
	}
	if (di->flags2 & XFS_DIFLAG2_NREXT64) {
		di->nextents = get64(p + 24);
		di->anextents = get32(p + 76);
	} else {
		di->nextents = get32(p + 76);
		di->anextents = get16(p + 80);
	}
	get_time(p + 40, di->flags2 & XFS_DIFLAG2_BIGTIME, &di->mtime_sec, &di->mtime_nsec);
	get_time(p + 48, di->flags2 & XFS_DIFLAG2_BIGTIME, &di->ctime_sec, &di->ctime_nsec);

	/* the literal area: data fork, then the attr fork at forkoff * 8 */
	lit = g->inodesize - core;
	dsize = di->forkoff ? (size_t)di->forkoff * 8 : lit;
	if (dsize > lit)
		return -EBADMSG;
	di->fork[0] = p + core;
	di->fork_size[0] = dsize;
	if (di->forkoff) {
		di->fork[1] = p + core + dsize;
		di->fork_size[1] = lit - dsize;
	}
	return 0;
}

struct fork_walk {
	const struct dg_xfs_geo *g;
	dg_xfs_read_fn read;
	dg_xfs_extent_fn fn;
	void *arg;
	uint64_t records; /* leaf records seen */
	uint64_t want; /* what the inode says there are */
	/*
	 * Every bmbt block walked: a B+tree never shares one, and a damaged
	 * tree whose nodes all point at the same child would otherwise be
	 * walked maxrecs^levels times, billions of reads.
	 */
	struct dg_u64map seen;
};

static int emit_records(struct fork_walk *fw, const uint8_t *p, size_t n)
{
	size_t i;
	int rc;

	if (fw->records + n > fw->want)
		return -EBADMSG;
	for (i = 0; i < n; i++, p += BMBT_REC_SIZE) {
		uint64_t l0 = get64(p), l1 = get64(p + 8);
		struct dg_xfs_extent e = {
			.startoff = (l0 & ((1ULL << 63) - 1)) >> 9,
			.startblock = ((l0 & 0x1ff) << 43) | (l1 >> 21),
			.blockcount = l1 & ((1ULL << 21) - 1),
			.unwritten = l0 >> 63,
		};

		if (!e.blockcount)
			return -EBADMSG;
		rc = fw->fn(fw->arg, &e);
		if (rc)
			return rc;
	}
	fw->records += n;
	return 0;
}

/* One bmbt block below the root, and everything under it. */
static int walk_block(struct fork_walk *fw, uint64_t fsb, unsigned int level, void *blk)
{
	const struct dg_xfs_geo *g = fw->g;
	size_t hdr = g->crc ? BMBT_LBLOCK_CRC_LEN : BMBT_LBLOCK_LEN;
	size_t maxrecs = (g->blocksize - hdr) / 16;
	const uint8_t *p = blk;
	struct dg_xfs_extent self = { .startblock = fsb, .blockcount = 1, .bmbt = true };
	unsigned int numrecs;
	size_t i;
	int rc;

	if (dg_u64map_get(&fw->seen, fsb))
		return -EBADMSG;
	if (dg_u64map_put(&fw->seen, fsb, fw))
		return -ENOMEM;
	rc = fw->fn(fw->arg, &self);
	if (rc)
		return rc;
	rc = fw->read(fw->arg, fsb, blk);
	if (rc)
		return rc;
	if (get32(p) != (g->crc ? XFS_BMAP_CRC_MAGIC : XFS_BMAP_MAGIC) || get16(p + 4) != level)
		return -EBADMSG;
	numrecs = get16(p + 6);
	if (!numrecs || numrecs > (level ? maxrecs : (g->blocksize - hdr) / BMBT_REC_SIZE))
		return -EBADMSG;
	if (!level)
		return emit_records(fw, p + hdr, numrecs);
	/* a node: keys, then pointers at maxrecs keys from the header */
	for (i = 0; i < numrecs; i++) {
		uint8_t *child = (uint8_t *)blk + g->blocksize;

		rc = walk_block(fw, get64(p + hdr + maxrecs * 8 + i * 8), level - 1, child);
		if (rc)
			return rc;
	}
	return 0;
}

int dg_xfs_fork_walk(const struct dg_xfs_geo *g, const struct dg_xfs_dinode *di, bool attr,
		     void *blockbuf, dg_xfs_read_fn read, dg_xfs_extent_fn fn, void *arg)
{
	struct fork_walk fw = { .g = g, .read = read, .fn = fn, .arg = arg };
	const uint8_t *f = di->fork[attr];
	size_t size = di->fork_size[attr], maxrecs, i;
	unsigned int level, numrecs;
	int rc;

	fw.want = attr ? di->anextents : di->nextents;
	if (!f)
		return fw.want ? -EBADMSG : 0;
	switch (attr ? di->aformat : di->format) {
	case DG_XFS_FMT_DEV:
	case DG_XFS_FMT_LOCAL:
		return fw.want ? -EBADMSG : 0;
	case DG_XFS_FMT_EXTENTS:
		if (fw.want > size / BMBT_REC_SIZE)
			return -EBADMSG;
		return emit_records(&fw, f, fw.want);
	case DG_XFS_FMT_BTREE:
		break;
	default:
		return -EOPNOTSUPP;
	}
	/* the root in the inode: level, numrecs, keys[maxrecs], ptrs[maxrecs] */
	if (size < 4 + 16)
		return -EBADMSG;
	level = get16(f);
	numrecs = get16(f + 2);
	maxrecs = (size - 4) / 16;
	if (!level || level > DG_XFS_BMBT_MAX_LEVELS || !numrecs || numrecs > maxrecs)
		return -EBADMSG;
	for (i = 0, rc = 0; !rc && i < numrecs; i++)
		rc = walk_block(&fw, get64(f + 4 + maxrecs * 8 + i * 8), level - 1, blockbuf);
	dg_u64map_free(&fw.seen);
	if (rc)
		return rc;
	/* every extent the inode counts, no more, no fewer */
	return fw.records == fw.want ? 0 : -EBADMSG;
}
