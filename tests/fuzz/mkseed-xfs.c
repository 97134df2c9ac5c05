// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A seed for fuzz-xfs-dinode from a real XFS image: the inode as it is on
 * the device, and every bmbt block its extent map walk reads, in the
 * format of fuzz-xfs-dinode.h.  tests/fuzz/mkcorpus.sh runs it.
 *
 *	mkseed-xfs IMAGE BLOCKSIZE AGBLOCKS AGCOUNT INODESIZE CRC INO OUT
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/private.h"

#include "fuzz-xfs-dinode.h"

struct seed {
	int fd;
	const struct dg_xfs_geo *g;
	uint64_t fsb[4096];
	uint8_t *blocks;
	size_t nr;
	uint64_t extents;
};

static int read_block(void *arg, uint64_t fsb, void *buf)
{
	struct seed *s = arg;
	uint64_t off;
	size_t i;

	if (dg_xfs_fsb_to_bytes(s->g, fsb, &off))
		return -ERANGE;
	if (pread(s->fd, buf, s->g->blocksize, (off_t)off) != (ssize_t)s->g->blocksize)
		return -EIO;
	for (i = 0; i < s->nr; i++)
		if (s->fsb[i] == fsb)
			return 0;
	if (s->nr == 4096)
		return -E2BIG;
	s->blocks = realloc(s->blocks, (s->nr + 1) * s->g->blocksize);
	if (!s->blocks)
		return -ENOMEM;
	memcpy(s->blocks + s->nr * s->g->blocksize, buf, s->g->blocksize);
	s->fsb[s->nr++] = fsb;
	return 0;
}

static int count(void *arg, const struct dg_xfs_extent *e)
{
	((struct seed *)arg)->extents++;
	return 0;
}

int main(int argc, char **argv)
{
	struct dg_xfs_geo g;
	struct dg_xfs_dinode di;
	struct seed s = { .g = &g };
	uint8_t hdr[FUZZ_XFS_HDR] = { 0 }, *ino, *blockbuf;
	uint32_t v;
	uint64_t off, ino_nr;
	size_t i;
	FILE *out;
	int rc[2];

	if (argc != 9) {
		fprintf(stderr, "usage: mkseed-xfs IMAGE BLOCKSIZE AGBLOCKS AGCOUNT INODESIZE CRC "
				"INO OUT\n");
		return 2;
	}
	if (dg_xfs_geo_init(&g, (uint32_t)atol(argv[2]), (uint32_t)atol(argv[3]),
			    (uint32_t)atol(argv[4]), (uint32_t)atol(argv[5]), atoi(argv[6]))) {
		fprintf(stderr, "mkseed-xfs: bad geometry\n");
		return 1;
	}
	s.fd = open(argv[1], O_RDONLY);
	ino_nr = strtoull(argv[7], NULL, 10);
	ino = malloc(g.inodesize);
	blockbuf = malloc((size_t)DG_XFS_BMBT_MAX_LEVELS * g.blocksize);
	if (s.fd < 0 || !ino || !blockbuf || dg_xfs_ino_to_bytes(&g, ino_nr, &off) ||
	    pread(s.fd, ino, g.inodesize, (off_t)off) != (ssize_t)g.inodesize) {
		fprintf(stderr, "mkseed-xfs: %s: cannot read inode %s\n", argv[1], argv[7]);
		return 1;
	}
	if (dg_xfs_dinode_parse(&g, ino, &di)) {
		fprintf(stderr, "mkseed-xfs: %s: inode %s does not parse\n", argv[1], argv[7]);
		return 1;
	}
	rc[0] = dg_xfs_fork_walk(&g, &di, false, blockbuf, read_block, count, &s);
	rc[1] = dg_xfs_fork_walk(&g, &di, true, blockbuf, read_block, count, &s);
	hdr[0] = (uint8_t)__builtin_ctz(g.blocksize);
	hdr[1] = (uint8_t)__builtin_ctz(g.inodesize);
	hdr[2] = g.crc;
	v = htole32(g.agblocks);
	memcpy(hdr + 4, &v, 4);
	v = htole32(g.agcount);
	memcpy(hdr + 8, &v, 4);
	out = fopen(argv[8], "we");
	if (!out) {
		perror(argv[8]);
		return 1;
	}
	fwrite(hdr, 1, sizeof(hdr), out);
	fwrite(ino, 1, g.inodesize, out);
	for (i = 0; i < s.nr; i++) {
		uint64_t le = htole64(s.fsb[i]);

		fwrite(&le, 1, 8, out);
		fwrite(s.blocks + i * g.blocksize, 1, g.blocksize, out);
	}
	free(s.blocks);
	free(blockbuf);
	free(ino);
	close(s.fd);
	if (fclose(out))
		return 1;
	printf("%s: inode %s format %u/%u, %" PRIu64 " extents and bmbt blocks, %zu blocks, "
	       "walks %d/%d\n",
	       argv[8], argv[7], di.format, di.aformat, s.extents, s.nr, rc[0], rc[1]);
	return 0;
}
