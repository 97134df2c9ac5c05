// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The on-disk XFS inode and its extent map (lib/xfs-dinode.c), as the
 * xfs-bulkstat backend reads them straight from a device that may hold
 * anything: an inode cluster's inode and the bmbt blocks below it, in the
 * format of fuzz-xfs-dinode.h.  Every extent handed out must be sane, and
 * the walk must end.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "lib/private.h"

#include "fuzz-xfs-dinode.h"
#include "fuzz.h"

struct input {
	const struct dg_xfs_geo *g;
	const uint8_t *blocks; /* [8-byte fsb][blocksize] records */
	size_t nr_blocks;
	uint64_t extents, reads;
};

static uint32_t le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32toh(v);
}

static uint64_t le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return le64toh(v);
}

static int read_block(void *arg, uint64_t fsb, void *buf)
{
	struct input *in = arg;
	size_t rec = 8 + in->g->blocksize, i;

	in->reads++;
	for (i = 0; i < in->nr_blocks; i++)
		if (le64(in->blocks + i * rec) == fsb) {
			memcpy(buf, in->blocks + i * rec + 8, in->g->blocksize);
			return 0;
		}
	return -EIO;
}

static int extent(void *arg, const struct dg_xfs_extent *e)
{
	struct input *in = arg;
	uint64_t bytes;

	in->extents++;
	if (e->bmbt) {
		FUZZ_CHECK(e->blockcount == 1, "a bmbt block of %llu blocks",
			   (unsigned long long)e->blockcount);
		return 0;
	}
	FUZZ_CHECK(e->blockcount > 0 && e->blockcount < (1ULL << 21), "blockcount %llu",
		   (unsigned long long)e->blockcount);
	FUZZ_CHECK(e->startoff < (1ULL << 54) && e->startblock < (1ULL << 52),
		   "field past its width");
	/* what the backend does next with it */
	(void)dg_xfs_fsb_to_bytes(in->g, e->startblock, &bytes);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dg_xfs_geo g;
	struct dg_xfs_dinode di;
	struct input in = { .g = &g };
	uint8_t *ino, *blockbuf;
	uint64_t bytes;
	int attr, rc;

	if (size < FUZZ_XFS_HDR || data[0] < 9 || data[0] > 16 || data[1] < 8 || data[1] > 11)
		return 0;
	if (dg_xfs_geo_init(&g, 1U << data[0], le32(data + 4), le32(data + 8), 1U << data[1],
			    data[2] & 1))
		return 0;
	if (size < FUZZ_XFS_HDR + g.inodesize)
		return 0;
	in.blocks = data + FUZZ_XFS_HDR + g.inodesize;
	in.nr_blocks = (size - FUZZ_XFS_HDR - g.inodesize) / (8 + g.blocksize);

	/* the inode in a buffer of its own size: ASan sees any overread */
	ino = malloc(g.inodesize);
	blockbuf = malloc((size_t)DG_XFS_BMBT_MAX_LEVELS * g.blocksize);
	if (!ino || !blockbuf)
		abort();
	memcpy(ino, data + FUZZ_XFS_HDR, g.inodesize);
	rc = dg_xfs_dinode_parse(&g, ino, &di);
	FUZZ_CHECK(rc == 0 || rc == -EBADMSG, "parse rc %d", rc);
	if (!rc) {
		for (attr = 0; attr < 2; attr++) {
			FUZZ_CHECK(!di.fork[attr] || (di.fork[attr] >= ino &&
						      di.fork[attr] + di.fork_size[attr] <=
							      ino + g.inodesize),
				   "fork %d outside the inode", attr);
			rc = dg_xfs_fork_walk(&g, &di, attr, blockbuf, read_block, extent, &in);
			FUZZ_CHECK(rc == 0 || rc == -EBADMSG || rc == -EIO || rc == -EOPNOTSUPP,
				   "walk rc %d", rc);
		}
		if (di.ino)
			(void)dg_xfs_ino_to_bytes(&g, di.ino, &bytes);
	}
	free(ino);
	free(blockbuf);
	return 0;
}
