// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The on-disk XFS inode parser, on inodes built here byte by byte the way
 * xfs_format.h lays them out: extents in the inode, a B+tree extent map
 * with a node and two leaves, and the damaged copies a device may hold.
 * The live check against real filesystems is tests/rmap/agree.sh.
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
#define ISIZE 512
#define CORE 176

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

static void put64(uint8_t *p, uint64_t v)
{
	v = htobe64(v);
	memcpy(p, &v, 8);
}

/* a bmbt record, the packed 128 bits of xfs_bmbt_rec */
static void put_rec(uint8_t *p, uint64_t off, uint64_t blk, uint64_t cnt, bool unwritten)
{
	put64(p, ((uint64_t)unwritten << 63) | (off << 9) | (blk >> 43));
	put64(p + 8, (blk << 21) | cnt);
}

static void make_inode(uint8_t *p, uint8_t format, uint64_t nextents)
{
	memset(p, 0, ISIZE);
	put16(p, 0x494e);
	put16(p + 2, 0100644);
	p[4] = 3;
	p[5] = format;
	put32(p + 16, 1); /* nlink */
	/* bigtime: ns since 1901-12-13T20:45:52Z; 1700000000.5 s Unix time */
	put64(p + 48, (1700000000ULL + 2147483648ULL) * 1000000000ULL + 500000000ULL);
	put64(p + 40, (1600000000ULL + 2147483648ULL) * 1000000000ULL + 7ULL);
	put64(p + 56, 123456); /* size */
	put64(p + 64, 42); /* nblocks */
	put32(p + 76, (uint32_t)nextents);
	put32(p + 92, 0xdeadbeef); /* gen */
	put64(p + 120, 1ULL << 3); /* flags2: bigtime */
	put64(p + 152, 131); /* ino */
}

struct seen {
	struct dg_xfs_extent e[64];
	size_t n;
};

static int collect(void *arg, const struct dg_xfs_extent *e)
{
	struct seen *s = arg;

	if (s->n < 64)
		s->e[s->n++] = *e;
	return 0;
}

/* Two fake bmbt leaves at fsblocks 1000 and 1001, a node at 999. */
static uint8_t blocks[3][BS];

static int read_block(void *arg, uint64_t fsb, void *buf)
{
	(void)arg;
	if (fsb < 999 || fsb > 1001)
		return -EIO;
	memcpy(buf, blocks[fsb - 999], BS);
	return 0;
}

static void make_block(uint8_t *b, uint16_t level, uint16_t numrecs)
{
	memset(b, 0, BS);
	put32(b, 0x424d4133); /* BMA3 */
	put16(b + 4, level);
	put16(b + 6, numrecs);
}

/* the CRC of v5 metadata: inverted crc32c, little-endian, its field as 0 */
static void set_crc(uint8_t *p, size_t len, size_t off)
{
	uint32_t crc;

	memset(p + off, 0, 4);
	crc = htole32(~ext2fs_crc32c_le(~0U, p, len));
	memcpy(p + off, &crc, 4);
}

static void check_crc(const struct dg_xfs_geo *g)
{
	static uint8_t ino[ISIZE], blk[BS];
	struct dg_xfs_geo v4;

	make_inode(ino, DG_XFS_FMT_EXTENTS, 1);
	put_rec(ino + CORE, 0, 3000, 5, false);
	set_crc(ino, ISIZE, 100);
	CHECK(dg_xfs_dinode_verify(g, ino, 131) == 0, "an inode with a good CRC refused");
	CHECK(dg_xfs_dinode_verify(g, ino, 132) == -EBADMSG, "an inode with another number");
	/* one bit of an extent record: everything else still agrees */
	ino[CORE + 10] ^= 0x10;
	CHECK(dg_xfs_dinode_verify(g, ino, 131) == -EBADMSG, "a changed extent record passed");
	/* the parser alone does not look: the caller verifies first */
	CHECK(dg_xfs_dinode_parse(g, ino, &(struct dg_xfs_dinode){ 0 }) == 0,
	      "parse refuses what verify is for");

	make_block(blk, 0, 1);
	put64(blk + 24, (999ULL * BS) >> 9); /* blkno: its own place */
	put64(blk + 56, 131); /* owner */
	put_rec(blk + 72, 0, 5000, 10, false);
	set_crc(blk, BS, 64);
	CHECK(dg_xfs_bmbt_block_verify(g, blk, 999, 131) == 0, "a good bmbt block refused");
	CHECK(dg_xfs_bmbt_block_verify(g, blk, 998, 131) == -EBADMSG,
	      "a bmbt block read from another place passed");
	CHECK(dg_xfs_bmbt_block_verify(g, blk, 999, 133) == -EBADMSG,
	      "another inode's bmbt block passed");
	blk[72 + 12] ^= 1;
	CHECK(dg_xfs_bmbt_block_verify(g, blk, 999, 131) == -EBADMSG,
	      "a changed bmbt record passed");
	/* v4 has no CRCs: nothing to check, nothing refused */
	dg_xfs_geo_init(&v4, BS, 1000, 4, 256, false);
	CHECK(dg_xfs_dinode_verify(&v4, ino, 1) == 0 &&
		      dg_xfs_bmbt_block_verify(&v4, blk, 1, 1) == 0,
	      "v4 copies refused");
}

/*
 * Real copies, written by the kernel (mkfs.xfs 6.1, 320 MiB, 4 AGs, 512
 * byte inodes): inode 262343, a file of 77 extents in a B+tree, and its one
 * leaf at fsblock 32782.  Our CRC must be the kernel's.
 */
static uint8_t fx_leaf[BS];

static int fx_read(void *arg, uint64_t fsb, void *buf)
{
	(void)arg;
	if (fsb != 32782)
		return -EIO;
	memcpy(buf, fx_leaf, BS);
	return 0;
}

static int read_fixture(const char *dir, const char *name, void *buf, size_t len)
{
	char path[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f) {
		CHECK(0, "%s: cannot open", path);
		return -1;
	}
	n = fread(buf, 1, len, f);
	fclose(f);
	CHECK(n == len, "%s: %zu bytes, not %zu", path, n, len);
	return n == len ? 0 : -1;
}

static void check_fixture(const char *dir)
{
	static uint8_t ino[ISIZE], blockbuf[DG_XFS_BMBT_MAX_LEVELS * BS];
	struct dg_xfs_dinode di;
	struct dg_xfs_geo g;
	struct seen s = { 0 };
	int rc;

	dg_xfs_geo_init(&g, BS, 20480, 4, ISIZE, true);
	if (read_fixture(dir, "inode-262343.bin", ino, ISIZE) ||
	    read_fixture(dir, "bmbt-32782.bin", fx_leaf, BS))
		return;
	CHECK(dg_xfs_dinode_verify(&g, ino, 262343) == 0, "the kernel's inode fails our CRC");
	CHECK(dg_xfs_bmbt_block_verify(&g, fx_leaf, 32782, 262343) == 0,
	      "the kernel's bmbt block fails our check");
	CHECK(dg_xfs_dinode_parse(&g, ino, &di) == 0 && di.format == DG_XFS_FMT_BTREE &&
		      di.nextents == 77 && di.ino == 262343,
	      "the kernel's inode parsed wrong");
	rc = dg_xfs_fork_walk(&g, &di, false, blockbuf, fx_read, collect, &s);
	/* 64 of the 78 calls are kept: the leaf, then 63 extents */
	CHECK(rc == 0 && s.n == 64 && s.e[0].bmbt && s.e[0].startblock == 32782,
	      "the kernel's bmbt tree: rc %d, %zu calls", rc, s.n);
	ino[CORE + 40] ^= 1;
	CHECK(dg_xfs_dinode_verify(&g, ino, 262343) == -EBADMSG,
	      "a changed byte of the kernel's inode passed");
}

int main(int argc, char **argv)
{
	const char *fixtures = argc > 1 ? argv[1] : NULL;
	struct dg_xfs_geo g;
	struct dg_xfs_dinode di;
	static uint8_t ino[ISIZE], blockbuf[DG_XFS_BMBT_MAX_LEVELS * BS];
	struct seen s;
	uint64_t bytes;
	int rc;

	/* 4 AGs of 1000 blocks (agblklog 10), 8 inodes per block */
	CHECK(dg_xfs_geo_init(&g, BS, 1000, 4, ISIZE, true) == 0, "geometry refused");
	CHECK(g.agblklog == 10 && g.inopblog == 3, "agblklog %u inopblog %u", g.agblklog,
	      g.inopblog);
	CHECK(dg_xfs_geo_init(&g, 3000, 1000, 4, ISIZE, true) == -EINVAL,
	      "a block size that is not a power of two was accepted");
	dg_xfs_geo_init(&g, BS, 1000, 4, ISIZE, true);

	/* fsblock (AG 2, block 5) and inode (AG 1, block 7, slot 3) */
	CHECK(dg_xfs_fsb_to_bytes(&g, (2ULL << 10) | 5, &bytes) == 0 && bytes == 2005ULL * BS,
	      "fsb to bytes: %" PRIu64, bytes);
	CHECK(dg_xfs_fsb_to_bytes(&g, (2ULL << 10) | 1000, &bytes) == -ERANGE,
	      "a block past the end of its AG was accepted");
	CHECK(dg_xfs_fsb_to_bytes(&g, 4ULL << 10, &bytes) == -ERANGE,
	      "a block in AG 4 of 4 was accepted");
	CHECK(dg_xfs_ino_to_bytes(&g, (1ULL << 13) | (7 << 3) | 3, &bytes) == 0 &&
		      bytes == 1007ULL * BS + 3 * ISIZE,
	      "ino to bytes: %" PRIu64, bytes);

	/* extents format: two records, one unwritten */
	make_inode(ino, DG_XFS_FMT_EXTENTS, 2);
	put_rec(ino + CORE, 0, 3000, 5, false);
	put_rec(ino + CORE + 16, 100, (1ULL << 43) + 77, 2097151, true);
	rc = dg_xfs_dinode_parse(&g, ino, &di);
	CHECK(rc == 0, "a good inode refused: %d", rc);
	CHECK(di.gen == 0xdeadbeef && di.size == 123456 && di.nblocks == 42 && di.ino == 131 &&
		      di.nlink == 1 && di.mode == 0100644,
	      "core fields wrong");
	CHECK(di.ctime_sec == 1700000000 && di.ctime_nsec == 500000000,
	      "bigtime ctime %" PRId64 ".%u", di.ctime_sec, di.ctime_nsec);
	CHECK(di.mtime_sec == 1600000000 && di.mtime_nsec == 7, "bigtime mtime");
	CHECK(di.fork[0] == ino + CORE && di.fork_size[0] == ISIZE - CORE && !di.fork[1],
	      "fork layout without an attr fork");
	memset(&s, 0, sizeof(s));
	rc = dg_xfs_fork_walk(&g, &di, false, blockbuf, read_block, collect, &s);
	CHECK(rc == 0 && s.n == 2, "extents walk: rc %d, %zu extents", rc, s.n);
	CHECK(s.e[0].startoff == 0 && s.e[0].startblock == 3000 && s.e[0].blockcount == 5 &&
		      !s.e[0].unwritten && !s.e[0].bmbt,
	      "first extent decoded wrong");
	CHECK(s.e[1].startoff == 100 && s.e[1].startblock == (1ULL << 43) + 77 &&
		      s.e[1].blockcount == 2097151 && s.e[1].unwritten,
	      "second extent decoded wrong: off %" PRIu64 " blk %" PRIu64 " cnt %" PRIu64,
	      s.e[1].startoff, s.e[1].startblock, s.e[1].blockcount);
	/* no attr fork: nothing, and no error */
	memset(&s, 0, sizeof(s));
	CHECK(dg_xfs_fork_walk(&g, &di, true, blockbuf, read_block, collect, &s) == 0 && !s.n,
	      "attr walk of an inode without an attr fork");

	/* an attr fork at forkoff 15 (120 bytes of data fork), one extent */
	ino[82] = 15;
	ino[83] = DG_XFS_FMT_EXTENTS;
	put16(ino + 80, 1);
	put_rec(ino + CORE + 120, 0, 4000, 1, false);
	CHECK(dg_xfs_dinode_parse(&g, ino, &di) == 0 && di.fork_size[0] == 120 &&
		      di.fork[1] == ino + CORE + 120 && di.fork_size[1] == ISIZE - CORE - 120,
	      "fork layout with an attr fork");
	memset(&s, 0, sizeof(s));
	CHECK(dg_xfs_fork_walk(&g, &di, true, blockbuf, read_block, collect, &s) == 0 && s.n == 1 &&
		      s.e[0].startblock == 4000,
	      "attr fork extent");

	/* damaged copies */
	make_inode(ino, DG_XFS_FMT_EXTENTS, 2);
	ino[0] = 0;
	CHECK(dg_xfs_dinode_parse(&g, ino, &di) == -EBADMSG, "bad magic accepted");
	make_inode(ino, DG_XFS_FMT_EXTENTS, 2);
	ino[4] = 2;
	CHECK(dg_xfs_dinode_parse(&g, ino, &di) == -EBADMSG, "v2 inode on a v5 fs accepted");
	make_inode(ino, DG_XFS_FMT_EXTENTS, 2);
	ino[82] = 60; /* 480 bytes: past the literal area */
	CHECK(dg_xfs_dinode_parse(&g, ino, &di) == -EBADMSG, "fork offset past the inode");
	make_inode(ino, DG_XFS_FMT_EXTENTS, 22); /* 336 / 16 = 21 fit */
	CHECK(dg_xfs_dinode_parse(&g, ino, &di) == 0, "parse");
	CHECK(dg_xfs_fork_walk(&g, &di, false, blockbuf, read_block, collect, &s) == -EBADMSG,
	      "more extents than the fork holds");
	make_inode(ino, DG_XFS_FMT_EXTENTS, 1); /* a zero-length record */
	dg_xfs_dinode_parse(&g, ino, &di);
	CHECK(dg_xfs_fork_walk(&g, &di, false, blockbuf, read_block, collect, &s) == -EBADMSG,
	      "a zero-length extent accepted");
	make_inode(ino, DG_XFS_FMT_LOCAL, 1);
	dg_xfs_dinode_parse(&g, ino, &di);
	CHECK(dg_xfs_fork_walk(&g, &di, false, blockbuf, read_block, collect, &s) == -EBADMSG,
	      "extents counted on an inline fork");

	/*
	 * btree format: root level 2 in the inode, one pointer to a node
	 * (999, level 1) with two leaves (1000: 2 records, 1001: 1 record)
	 */
	make_inode(ino, DG_XFS_FMT_BTREE, 3);
	{
		uint8_t *f = ino + CORE;
		size_t maxrecs = (ISIZE - CORE - 4) / 16, nmax = (BS - 72) / 16;

		put16(f, 2);
		put16(f + 2, 1);
		put64(f + 4, 0); /* key */
		put64(f + 4 + maxrecs * 8, 999); /* ptr */
		make_block(blocks[0], 1, 2);
		put64(blocks[0] + 72, 0);
		put64(blocks[0] + 80, 50);
		put64(blocks[0] + 72 + nmax * 8, 1000);
		put64(blocks[0] + 72 + nmax * 8 + 8, 1001);
		make_block(blocks[1], 0, 2);
		put_rec(blocks[1] + 72, 0, 5000, 10, false);
		put_rec(blocks[1] + 88, 20, 5100, 10, false);
		make_block(blocks[2], 0, 1);
		put_rec(blocks[2] + 72, 50, 5200, 1, true);
	}
	CHECK(dg_xfs_dinode_parse(&g, ino, &di) == 0, "btree inode refused");
	memset(&s, 0, sizeof(s));
	rc = dg_xfs_fork_walk(&g, &di, false, blockbuf, read_block, collect, &s);
	CHECK(rc == 0 && s.n == 6, "btree walk: rc %d, %zu calls", rc, s.n);
	CHECK(s.e[0].bmbt && s.e[0].startblock == 999 && s.e[1].bmbt && s.e[1].startblock == 1000 &&
		      s.e[4].bmbt && s.e[4].startblock == 1001,
	      "bmbt blocks not reported in order");
	CHECK(!s.e[2].bmbt && s.e[2].startblock == 5000 && s.e[3].startoff == 20 &&
		      s.e[5].startblock == 5200 && s.e[5].unwritten,
	      "btree leaf records wrong");
	/* the inode counts 4 extents, the tree holds 3 */
	put32(ino + 76, 4);
	dg_xfs_dinode_parse(&g, ino, &di);
	CHECK(dg_xfs_fork_walk(&g, &di, false, blockbuf, read_block, collect, &s) == -EBADMSG,
	      "extent count mismatch not noticed");
	put32(ino + 76, 3);
	put16(blocks[2] + 4, 1); /* a leaf that says it is a node */
	dg_xfs_dinode_parse(&g, ino, &di);
	CHECK(dg_xfs_fork_walk(&g, &di, false, blockbuf, read_block, collect, &s) == -EBADMSG,
	      "wrong level not noticed");
	put16(blocks[2] + 4, 0);
	put32(blocks[1], 0x424d4150); /* v4 magic on a v5 filesystem */
	CHECK(dg_xfs_fork_walk(&g, &di, false, blockbuf, read_block, collect, &s) == -EBADMSG,
	      "wrong magic not noticed");
	put32(blocks[1], 0x424d4133);
	put64(blocks[0] + 72 + ((BS - 72) / 16) * 8, 7); /* unreadable child */
	CHECK(dg_xfs_fork_walk(&g, &di, false, blockbuf, read_block, collect, &s) == -EIO,
	      "read error not passed on");

	/*
	 * A B+tree never shares a block.  A node whose pointers all name the
	 * same leaf, counted as 3 extents: once the walk read that leaf 3
	 * times and agreed; a deep tree of such nodes (tests/fuzz/regress/
	 * xfs-dinode/bmbt-dag-shared-children) made it read blocks billions
	 * of times.
	 */
	make_inode(ino, DG_XFS_FMT_BTREE, 3);
	{
		uint8_t *f = ino + CORE;
		size_t maxrecs = (ISIZE - CORE - 4) / 16, nmax = (BS - 72) / 16;

		put16(f, 2);
		put16(f + 2, 1);
		put64(f + 4 + maxrecs * 8, 999);
		make_block(blocks[0], 1, 3);
		put64(blocks[0] + 72 + nmax * 8, 1000);
		put64(blocks[0] + 72 + nmax * 8 + 8, 1000);
		put64(blocks[0] + 72 + nmax * 8 + 16, 1000);
		make_block(blocks[1], 0, 1);
		put_rec(blocks[1] + 72, 0, 5000, 10, false);
	}
	dg_xfs_dinode_parse(&g, ino, &di);
	CHECK(dg_xfs_fork_walk(&g, &di, false, blockbuf, read_block, collect, &s) == -EBADMSG,
	      "a leaf shared by three pointers was walked three times");

	check_crc(&g);
	if (fixtures)
		check_fixture(fixtures);

	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	else
		printf("ok\n");
	return failures ? 1 : 0;
}
