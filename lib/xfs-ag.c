// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The metadata of an XFS allocation group, read from the device.
 *
 * Without rmapbt, GETFSMAP tells free space from used space and nothing
 * more: the inode chunks, the inode btrees and the free space btrees are
 * "unknown" to it, as is file data.  Where those are is written in the AG
 * headers (AGF, AGI, AGFL: sectors 1 to 3 of the AG) and in the btrees
 * they root, in the stable on-disk format (fs/xfs/libxfs/xfs_format.h,
 * Documentation/filesystems/xfs/xfs-ondisk-format): big-endian, short-form
 * btree blocks with AG block pointers.  libxfs is internal to xfsprogs, so
 * this reads them itself, as xfs-dinode.c reads inodes.
 *
 * Pure logic on buffers the caller's read function fills: the bytes come
 * from a device that may hold anything.  Every count, level and pointer is
 * checked before use; on v5 every block must carry its own CRC, place and
 * AG number.  A btree block is visited at most once, so a corrupt tree
 * whose pointers loop or converge costs at most one read per block of the
 * AG.  What fails a check is never claimed.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "private.h"
#include "xfs-be.h"

#define XFS_AGF_MAGIC 0x58414746 /* "XAGF" */
#define XFS_AGI_MAGIC 0x58414749 /* "XAGI" */
#define XFS_AGFL_MAGIC 0x5841464c /* "XAFL" */

/* the fields used, by byte offset */
#define AGF_SEQNO 8
#define AGF_LENGTH 12
#define AGF_ROOTS 16 /* bno, cnt, rmap */
#define AGF_LEVELS 28
#define AGF_FLFIRST 40
#define AGF_FLLAST 44
#define AGF_FLCOUNT 48
#define AGF_REFCOUNT_ROOT 88
#define AGF_REFCOUNT_LEVEL 92
#define AGF_CRC 216
#define AGI_SEQNO 8
#define AGI_LENGTH 12
#define AGI_ROOT 20
#define AGI_LEVEL 24
#define AGI_CRC 312
#define AGI_FREE_ROOT 328
#define AGI_FREE_LEVEL 332
#define AGFL_CRC 32
#define AGFL_HDR_LEN 36

#define SBLOCK_LEN 16
#define SBLOCK_CRC_LEN 56
#define SBLOCK_BLKNO 16
#define SBLOCK_OWNER 48
#define SBLOCK_CRC 52

#define REFC_COWFLAG (1U << 31)

const char *dg_xfs_meta_name(enum dg_xfs_meta_kind kind)
{
	/* the names GETFSMAP gives the same owners on an rmapbt filesystem */
	switch (kind) {
	case DG_XFS_META_AG:
		return "ag_metadata";
	case DG_XFS_META_INOBT:
		return "inode_btree";
	case DG_XFS_META_INODES:
		return "inodes";
	case DG_XFS_META_REFCOUNTBT:
		return "refcount_btree";
	case DG_XFS_META_COW:
		return "cow_staging";
	}
	return "metadata";
}

struct ag_walk;

struct btree {
	const char *what;
	uint32_t magic; /* of this format (v4 or v5) */
	enum dg_xfs_meta_kind kind;
	size_t reclen, keylen; /* pointers are 4 bytes */
	int (*leaf)(struct ag_walk *aw, const uint8_t *rec);
};

struct ag_walk {
	const struct dg_xfs_geo *g;
	uint32_t agno, length; /* length: of this AG, from its headers */
	uint8_t *buf;
	dg_xfs_pread_fn read;
	dg_xfs_meta_fn fn;
	void *arg;
	struct dg_u64map seen; /* blocks of the tree being walked */
	int bad; /* -EBADMSG once something failed a check */
};

static uint64_t ag_bytes(const struct ag_walk *aw, uint64_t agbno)
{
	return ((uint64_t)aw->agno * aw->g->agblocks + agbno) * aw->g->blocksize;
}

static int emit(struct ag_walk *aw, enum dg_xfs_meta_kind kind, uint64_t agbno, uint64_t len)
{
	struct dg_xfs_meta m = {
		.kind = kind,
		.offset = ag_bytes(aw, agbno),
		.length = len * aw->g->blocksize,
	};

	return aw->fn(aw->arg, &m);
}

/* An inode btree record: the chunk of 64 inodes it indexes, less its holes. */
static int inobt_leaf(struct ag_walk *aw, const uint8_t *rec)
{
	const struct dg_xfs_geo *g = aw->g;
	uint32_t agino = get32(rec);
	/* sparse chunks: one bit per 4 inodes that are not there */
	uint16_t holemask = get16(rec + 4);
	uint64_t agbno = agino >> g->inopblog;
	uint64_t bytes = 64ULL * g->inodesize;
	struct dg_xfs_meta m = { .kind = DG_XFS_META_INODES, .length = bytes };
	unsigned int i;

	if (agino % 64 || agbno + (bytes + g->blocksize - 1) / g->blocksize > aw->length)
		return -EBADMSG;
	for (i = 0; i < 16; i++)
		if (!(holemask & (1U << i)))
			m.present |= 0xfULL << (4 * i);
	m.startino = ((uint64_t)aw->agno << (g->agblklog + g->inopblog)) | agino;
	m.offset = ag_bytes(aw, agbno) + (agino & ((1U << g->inopblog) - 1)) * g->inodesize;
	return aw->fn(aw->arg, &m);
}

/* A refcount record with the CoW flag: staging extents of a CoW fork. */
static int refcount_leaf(struct ag_walk *aw, const uint8_t *rec)
{
	uint32_t start = get32(rec), len = get32(rec + 4);

	if (!(start & REFC_COWFLAG))
		return 0;
	start &= ~REFC_COWFLAG;
	if (!len || start >= aw->length || len > aw->length - start)
		return -EBADMSG;
	return emit(aw, DG_XFS_META_COW, start, len);
}

/* -EBADMSG unless @p is a block of @bt at @agbno and @level */
static int check_block(struct ag_walk *aw, const struct btree *bt, const uint8_t *p, uint32_t agbno,
		       unsigned int level, size_t *hdr, unsigned int *numrecs)
{
	const struct dg_xfs_geo *g = aw->g;
	size_t h = g->crc ? SBLOCK_CRC_LEN : SBLOCK_LEN;
	size_t maxrecs = (g->blocksize - h) / (level ? bt->keylen + 4 : bt->reclen);

	if (get32(p) != bt->magic || get16(p + 4) != level)
		return -EBADMSG;
	if (g->crc &&
	    (get64(p + SBLOCK_BLKNO) != ag_bytes(aw, agbno) >> 9 ||
	     get32(p + SBLOCK_OWNER) != aw->agno || !dg_xfs_cksum_ok(p, g->blocksize, SBLOCK_CRC)))
		return -EBADMSG;
	*numrecs = get16(p + 6);
	*hdr = h;
	/* only an empty tree's root leaf has no records */
	return *numrecs > maxrecs || (level && !*numrecs) ? -EBADMSG : 0;
}

static int walk_node(struct ag_walk *aw, const struct btree *bt, uint32_t agbno, unsigned int level,
		     unsigned int depth)
{
	const struct dg_xfs_geo *g = aw->g;
	uint8_t *p = aw->buf + (size_t)depth * g->blocksize;
	unsigned int numrecs, i;
	size_t hdr, maxrecs;
	int rc;

	if (!agbno || agbno >= aw->length || dg_u64map_get(&aw->seen, agbno))
		return -EBADMSG;
	rc = dg_u64map_put(&aw->seen, agbno, aw);
	if (rc)
		return rc;
	rc = aw->read(aw->arg, ag_bytes(aw, agbno), p, g->blocksize);
	if (rc)
		return rc;
	rc = check_block(aw, bt, p, agbno, level, &hdr, &numrecs);
	if (rc)
		return rc;
	rc = emit(aw, bt->kind, agbno, 1);
	if (rc)
		return rc;
	if (!level) {
		for (i = 0; i < numrecs && bt->leaf; i++) {
			rc = bt->leaf(aw, p + hdr + (size_t)i * bt->reclen);
			if (rc)
				return rc;
		}
		return 0;
	}
	/* a node: keys, then the pointers, after maxrecs keys */
	maxrecs = (g->blocksize - hdr) / (bt->keylen + 4);
	for (i = 0; i < numrecs; i++) {
		/* the child overwrites the buffer below this one only */
		rc = walk_node(aw, bt, get32(p + hdr + maxrecs * bt->keylen + i * 4), level - 1,
			       depth + 1);
		if (rc)
			return rc;
	}
	return 0;
}

/* what cannot be read is left out, as what fails a check is */
static int tolerate(struct ag_walk *aw, int rc)
{
	if (rc == -EBADMSG || rc == -EIO) {
		aw->bad = -EBADMSG;
		return 0;
	}
	return rc;
}

static int walk_tree(struct ag_walk *aw, const struct btree *bt, uint32_t root, uint32_t levels)
{
	int rc;

	if (!levels || levels > DG_XFS_AG_MAX_LEVELS) {
		aw->bad = -EBADMSG;
		return 0;
	}
	memset(&aw->seen, 0, sizeof(aw->seen));
	/* the AG headers take the first buffer */
	rc = walk_node(aw, bt, root, levels - 1, 1);
	dg_u64map_free(&aw->seen);
	/* the tree's blocks emitted so far stay: each one checked out */
	return tolerate(aw, rc);
}

static int walk_agfl(struct ag_walk *aw, const uint8_t *agf, const uint8_t *agfl)
{
	const struct dg_xfs_geo *g = aw->g;
	size_t hdr = g->crc ? AGFL_HDR_LEN : 0;
	uint32_t size = (uint32_t)((g->sectsize - hdr) / 4);
	uint32_t first = get32(agf + AGF_FLFIRST), count = get32(agf + AGF_FLCOUNT), i;
	int rc;

	if (g->crc && (get32(agfl) != XFS_AGFL_MAGIC || get32(agfl + 4) != aw->agno ||
		       !dg_xfs_cksum_ok(agfl, g->sectsize, AGFL_CRC)))
		return -EBADMSG;
	if (first >= size || count > size)
		return -EBADMSG;
	for (i = 0; i < count; i++) {
		uint32_t agbno = get32(agfl + hdr + ((first + i) % size) * 4);

		if (!agbno || agbno >= aw->length)
			return -EBADMSG;
		rc = emit(aw, DG_XFS_META_AG, agbno, 1);
		if (rc)
			return rc;
	}
	return 0;
}

static int read_header(struct ag_walk *aw, unsigned int sector, uint8_t *p, uint32_t magic,
		       size_t crc_off)
{
	const struct dg_xfs_geo *g = aw->g;
	int rc =
		aw->read(aw->arg, ag_bytes(aw, 0) + (uint64_t)sector * g->sectsize, p, g->sectsize);

	if (rc)
		return rc;
	/* magic, version 1, this AG, no longer than an AG */
	if (get32(p) != magic || get32(p + 4) != 1 || get32(p + AGF_SEQNO) != aw->agno ||
	    !get32(p + AGF_LENGTH) || get32(p + AGF_LENGTH) > g->agblocks)
		return -EBADMSG;
	if (g->crc && !dg_xfs_cksum_ok(p, g->sectsize, crc_off))
		return -EBADMSG;
	return 0;
}

int dg_xfs_ag_walk(const struct dg_xfs_geo *g, uint32_t agno, void *buf, dg_xfs_pread_fn read,
		   dg_xfs_meta_fn fn, void *arg)
{
	struct ag_walk aw = { .g = g, .agno = agno, .read = read, .fn = fn, .arg = arg };
	struct btree bno = { "bnobt", g->crc ? 0x41423342 : 0x41425442, DG_XFS_META_AG, 8, 8 };
	struct btree cnt = { "cntbt", g->crc ? 0x41423343 : 0x41425443, DG_XFS_META_AG, 8, 8 };
	struct btree ino = { "inobt",	g->crc ? 0x49414233 : 0x49414254, DG_XFS_META_INOBT, 16, 4,
			     inobt_leaf };
	struct btree fino = { "finobt", g->crc ? 0x46494233 : 0x46494254, DG_XFS_META_INOBT, 16,
			      4 };
	struct btree refc = {
		"refcountbt", 0x52334643, DG_XFS_META_REFCOUNTBT, 12, 4, refcount_leaf
	};
	/* sectors 1, 2 and 3 of the AG, then a block per btree level */
	uint8_t *agf = buf, *agi = agf + g->sectsize, *agfl = agi + g->sectsize;
	bool agf_ok;
	int rc;

	if (agno >= g->agcount || g->sectsize < 512 || g->sectsize > g->blocksize)
		return -EINVAL;
	aw.buf = agfl + g->sectsize - g->blocksize; /* level buffers from 1 */
	aw.length = g->agblocks;

	rc = read_header(&aw, 1, agf, XFS_AGF_MAGIC, AGF_CRC);
	agf_ok = !rc;
	if (agf_ok) {
		aw.length = get32(agf + AGF_LENGTH);
		rc = aw.read(arg, ag_bytes(&aw, 0) + 3ULL * g->sectsize, agfl, g->sectsize);
		if (!rc)
			rc = walk_agfl(&aw, agf, agfl);
		rc = tolerate(&aw, rc);
		if (!rc)
			rc = walk_tree(&aw, &bno, get32(agf + AGF_ROOTS), get32(agf + AGF_LEVELS));
		if (!rc)
			rc = walk_tree(&aw, &cnt, get32(agf + AGF_ROOTS + 4),
				       get32(agf + AGF_LEVELS + 4));
		if (!rc && g->reflink)
			rc = walk_tree(&aw, &refc, get32(agf + AGF_REFCOUNT_ROOT),
				       get32(agf + AGF_REFCOUNT_LEVEL));
	}
	rc = tolerate(&aw, rc);
	if (rc)
		return rc;

	rc = read_header(&aw, 2, agi, XFS_AGI_MAGIC, AGI_CRC);
	if (!rc && agf_ok && get32(agi + AGI_LENGTH) != aw.length)
		rc = -EBADMSG;
	if (!rc) {
		aw.length = get32(agi + AGI_LENGTH);
		rc = walk_tree(&aw, &ino, get32(agi + AGI_ROOT), get32(agi + AGI_LEVEL));
		if (!rc && g->finobt)
			rc = walk_tree(&aw, &fino, get32(agi + AGI_FREE_ROOT),
				       get32(agi + AGI_FREE_LEVEL));
	}
	rc = tolerate(&aw, rc);
	return rc ? rc : aw.bad;
}

size_t dg_xfs_ag_buf_size(const struct dg_xfs_geo *g)
{
	return 3 * (size_t)g->sectsize + DG_XFS_AG_MAX_LEVELS * (size_t)g->blocksize;
}
