// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dg-corrupt: damage a device under a mounted filesystem, and undo it.
 *
 *   dg-corrupt DEV SAVE put OFFSET HEX [crc:START:LEN:AT]...
 *	undo what SAVE holds (as restore does), then save the bytes about to
 *	change (in SAVE), write
 *	the bytes HEX at OFFSET; then, for each crc:, recompute the v5 XFS
 *	CRC (crc32c, inverted, little-endian, its own field counted as zero)
 *	of the LEN bytes at START, kept at START + AT, so that the damage
 *	passes the CRC check and reaches the parsers behind it
 *   dg-corrupt DEV SAVE restore
 *	write back everything SAVE holds, newest first, and empty it
 *
 * Writes go through the block device's page cache, unsynced: libext2fs
 * reads through that cache, and an O_DIRECT read (XFS's reader) writes the
 * dirty range back before it reads.  The filesystem's own cached copies
 * stay as they were, as when a device goes bad under a mounted
 * filesystem.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ext2fs/ext2fs.h>

static int fd;
static FILE *save;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

/* a record: offset (8 bytes), length (4), the old bytes */
static void save_range(uint64_t off, uint32_t len)
{
	uint8_t *old = malloc(len);

	if (!old || pread(fd, old, len, (off_t)off) != (ssize_t)len)
		die("read");
	if (fwrite(&off, 8, 1, save) != 1 || fwrite(&len, 4, 1, save) != 1 ||
	    fwrite(old, 1, len, save) != len)
		die("save");
	free(old);
}

static void fix_crc(uint64_t start, uint32_t len, uint32_t at)
{
	uint8_t *p = malloc(len);
	uint32_t crc;

	if (!p || at + 4 > len || pread(fd, p, len, (off_t)start) != (ssize_t)len)
		die("crc read");
	memset(p + at, 0, 4);
	crc = htole32(~ext2fs_crc32c_le(~0U, p, len));
	if (pwrite(fd, &crc, 4, (off_t)(start + at)) != 4)
		die("crc write");
	free(p);
}

static void restore(const char *path)
{
	struct rec {
		uint64_t off;
		uint32_t len;
		uint8_t *bytes;
	} *v = NULL;
	size_t n = 0;
	FILE *f = fopen(path, "rb");

	if (!f)
		return;
	for (;;) {
		struct rec r;

		if (fread(&r.off, 8, 1, f) != 1 || fread(&r.len, 4, 1, f) != 1)
			break;
		r.bytes = malloc(r.len);
		if (!r.bytes || fread(r.bytes, 1, r.len, f) != r.len)
			die("save file");
		v = realloc(v, (n + 1) * sizeof(*v));
		if (!v)
			die("realloc");
		v[n++] = r;
	}
	fclose(f);
	while (n--) {
		if (pwrite(fd, v[n].bytes, v[n].len, (off_t)v[n].off) != (ssize_t)v[n].len)
			die("restore");
		free(v[n].bytes);
	}
	free(v);
	if (truncate(path, 0) < 0)
		die("restore");
}

int main(int argc, char **argv)
{
	uint64_t off;
	size_t len, i;
	uint8_t *bytes;

	if (argc < 4) {
		fprintf(stderr, "usage: dg-corrupt DEV SAVE put OFFSET HEX [crc:START:LEN:AT]...\n"
				"       dg-corrupt DEV SAVE restore\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die(argv[1]);
	if (!strcmp(argv[3], "restore")) {
		restore(argv[2]);
		return 0;
	}
	if (strcmp(argv[3], "put") || argc < 6) {
		fprintf(stderr, "dg-corrupt: %s: not put or restore\n", argv[3]);
		return 2;
	}
	/* one process a round: the last round's damage goes first */
	restore(argv[2]);
	save = fopen(argv[2], "ab");
	if (!save)
		die(argv[2]);
	off = strtoull(argv[4], NULL, 0);
	len = strlen(argv[5]) / 2;
	bytes = malloc(len + 1);
	for (i = 0; bytes && i < len; i++) {
		unsigned int b;

		if (sscanf(argv[5] + 2 * i, "%2x", &b) != 1) {
			fprintf(stderr, "dg-corrupt: %s: not hex\n", argv[5]);
			return 2;
		}
		bytes[i] = (uint8_t)b;
	}
	/* the CRC fields change too: save the whole structures first */
	for (i = 6; i < (size_t)argc; i++) {
		unsigned long long s;
		unsigned int l, at;

		if (sscanf(argv[i], "crc:%llu:%u:%u", &s, &l, &at) != 3) {
			fprintf(stderr, "dg-corrupt: %s: not crc:START:LEN:AT\n", argv[i]);
			return 2;
		}
		save_range(s, l);
	}
	save_range(off, (uint32_t)len);
	if (fclose(save))
		die("save");
	if (!bytes || pwrite(fd, bytes, len, (off_t)off) != (ssize_t)len)
		die("write");
	for (i = 6; i < (size_t)argc; i++) {
		unsigned long long s;
		unsigned int l, at;

		sscanf(argv[i], "crc:%llu:%u:%u", &s, &l, &at);
		fix_crc(s, l, at);
	}
	free(bytes);
	return 0;
}
