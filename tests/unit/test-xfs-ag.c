// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The XFS allocation group reader (lib/xfs-ag.c), on the first five blocks
 * of AG 1 of a real filesystem (tests/fixtures/xfs/ag1-head.bin: mkfs.xfs
 * 6.1, 320 MiB, 4 AGs of 20480 blocks, 512-byte inodes, finobt, no rmapbt):
 * the AG headers, the free space btree roots (blocks 1, 2), the inode
 * btree roots (3, 4), a free list of blocks 5 to 8, and two inode chunks
 * at inodes 128 and 192 of the AG.  Then the same blocks damaged the ways
 * a device can damage them.  The live check is tests/rmap/xfs-metadata.sh.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ext2fs/ext2fs.h>

#include "lib/private.h"

#include "check.h"

#define BS 4096
#define AGBLOCKS 20480
#define AG1 (AGBLOCKS * (uint64_t)BS)
#define NBLOCKS 5
/* the AG headers: sectors 1 and 2 */
#define AGF 512
#define AGI 1024

static uint8_t pristine[NBLOCKS * BS], disk[NBLOCKS * BS];
static unsigned int reads;

struct got {
	struct dg_xfs_meta m[64];
	size_t n;
	uint64_t blocks[5]; /* per kind */
};

static int dev_read(void *arg, uint64_t off, void *buf, size_t len)
{
	(void)arg;
	reads++;
	if (off < AG1 || off + len > AG1 + sizeof(disk))
		return -EIO;
	memcpy(buf, disk + (off - AG1), len);
	return 0;
}

static int collect(void *arg, const struct dg_xfs_meta *m)
{
	struct got *g = arg;

	if (g->n < 64)
		g->m[g->n++] = *m;
	g->blocks[m->kind] += m->length / BS;
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	v = htobe16(v);
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	v = htobe32(v);
	memcpy(p, &v, 4);
}

static void set_crc(uint8_t *p, size_t len, size_t off)
{
	uint32_t crc;

	memset(p + off, 0, 4);
	crc = htole32(~ext2fs_crc32c_le(~0U, p, len));
	memcpy(p + off, &crc, 4);
}

static int walk(const struct dg_xfs_geo *g, struct got *got)
{
	static uint8_t buf[3 * 512 + DG_XFS_AG_MAX_LEVELS * BS];

	memset(got, 0, sizeof(*got));
	reads = 0;
	return dg_xfs_ag_walk(g, 1, buf, dev_read, collect, got);
}

static const struct dg_xfs_meta *find(const struct got *got, enum dg_xfs_meta_kind kind,
				      uint64_t agbno)
{
	size_t i;

	for (i = 0; i < got->n; i++)
		if (got->m[i].kind == kind && got->m[i].offset == AG1 + agbno * BS)
			return &got->m[i];
	return NULL;
}

int main(int argc, char **argv)
{
	struct dg_xfs_geo g;
	struct got got;
	const struct dg_xfs_meta *m;
	char path[4096];
	FILE *f;
	size_t i;
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: test-xfs-ag FIXTURE-DIR\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/ag1-head.bin", argv[1]);
	f = fopen(path, "rb");
	if (!f || fread(pristine, 1, sizeof(pristine), f) != sizeof(pristine)) {
		fprintf(stderr, "%s: cannot read\n", path);
		return 1;
	}
	fclose(f);
	dg_xfs_geo_init(&g, BS, AGBLOCKS, 4, 512, true);
	g.finobt = true;
	CHECK(dg_xfs_ag_buf_size(&g) <= 3 * 512 + DG_XFS_AG_MAX_LEVELS * BS, "buffer size");

	/* as the kernel wrote it */
	memcpy(disk, pristine, sizeof(disk));
	rc = walk(&g, &got);
	CHECK(rc == 0, "the kernel's AG refused: %d", rc);
	for (i = 1; i <= 8; i++)
		CHECK(find(&got, i == 3 || i == 4 ? DG_XFS_META_INOBT : DG_XFS_META_AG, i),
		      "block %zu not named", i);
	CHECK(got.blocks[DG_XFS_META_AG] == 6 && got.blocks[DG_XFS_META_INOBT] == 2,
	      "%" PRIu64 " AG blocks, %" PRIu64 " inode btree blocks", got.blocks[DG_XFS_META_AG],
	      got.blocks[DG_XFS_META_INOBT]);
	/* AG 1 of agblklog 15 and 8 inodes a block: inode 262144 + agino */
	m = find(&got, DG_XFS_META_INODES, 16);
	CHECK(m && m->startino == 262144 + 128 && m->present == ~0ULL && m->length == 64 * 512,
	      "the chunk at inode 128");
	CHECK(find(&got, DG_XFS_META_INODES, 24) && got.n == 10,
	      "the chunk at inode 192, %zu in all", got.n);
	CHECK(!strcmp(dg_xfs_meta_name(DG_XFS_META_INOBT), "inode_btree") &&
		      !strcmp(dg_xfs_meta_name(DG_XFS_META_AG), "ag_metadata") &&
		      !strcmp(dg_xfs_meta_name(DG_XFS_META_INODES), "inodes"),
	      "names differ from GETFSMAP's");

	/* one byte of the inode btree root: its CRC fails, the rest stands */
	memcpy(disk, pristine, sizeof(disk));
	disk[3 * BS + 100] ^= 1;
	rc = walk(&g, &got);
	CHECK(rc == -EBADMSG, "a bad inobt block: %d", rc);
	CHECK(!find(&got, DG_XFS_META_INOBT, 3) && !find(&got, DG_XFS_META_INODES, 16),
	      "what a bad block says was believed");
	CHECK(find(&got, DG_XFS_META_INOBT, 4) && got.blocks[DG_XFS_META_AG] == 6,
	      "the good trees were lost with the bad one");

	/* a sparse chunk: holes are not inodes */
	memcpy(disk, pristine, sizeof(disk));
	put16(disk + 3 * BS + 56 + 4, 0x00f0); /* inodes 16 to 31 of the first chunk */
	set_crc(disk + 3 * BS, BS, 52);
	rc = walk(&g, &got);
	m = find(&got, DG_XFS_META_INODES, 16);
	CHECK(rc == 0 && m && m->present == ~0xffff0000ULL, "holemask: rc %d", rc);

	/* a node whose pointer loops back to itself: refused, and it ends */
	memcpy(disk, pristine, sizeof(disk));
	put32(disk + AGI + 24, 2); /* two levels */
	set_crc(disk + AGI, 512, 312);
	put16(disk + 3 * BS + 4, 1); /* the root, a node now */
	put16(disk + 3 * BS + 6, 1);
	put32(disk + 3 * BS + 56, 0); /* key */
	put32(disk + 3 * BS + 56 + ((BS - 56) / 8) * 4, 3); /* pointer: itself */
	set_crc(disk + 3 * BS, BS, 52);
	rc = walk(&g, &got);
	CHECK(rc == -EBADMSG && !find(&got, DG_XFS_META_INODES, 16), "a loop: rc %d", rc);
	CHECK(reads < 20, "a loop cost %u reads", reads);

	/* an AGF of another AG: its trees are not this AG's */
	memcpy(disk, pristine, sizeof(disk));
	put32(disk + AGF + 8, 2);
	set_crc(disk + AGF, 512, 216);
	rc = walk(&g, &got);
	CHECK(rc == -EBADMSG && !got.blocks[DG_XFS_META_AG] && got.blocks[DG_XFS_META_INOBT] == 2,
	      "an AGF of AG 2 in AG 1: rc %d", rc);

	/* anything at all: no crash, nothing believed */
	srand(1);
	for (int round = 0; round < 2000; round++) {
		memcpy(disk, pristine, sizeof(disk));
		for (i = 0; i < 1 + (size_t)(rand() % 64); i++)
			disk[rand() % sizeof(disk)] = (uint8_t)rand();
		rc = walk(&g, &got);
		CHECK(rc == 0 || rc == -EBADMSG, "round %d: rc %d", round, rc);
		CHECK(got.n <= 10, "round %d: %zu claims from 10 good ones", round, got.n);
	}
	/* and v4 rules (no CRC): garbage still bounded */
	g.crc = false;
	for (int round = 0; round < 200; round++) {
		for (i = 0; i < sizeof(disk); i++)
			disk[i] = (uint8_t)rand();
		rc = walk(&g, &got);
		CHECK(rc == 0 || rc == -EBADMSG, "v4 garbage round %d: rc %d", round, rc);
	}

	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	else
		printf("ok\n");
	return failures ? 1 : 0;
}
