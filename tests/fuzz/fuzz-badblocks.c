// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Badblocks lists (lib/badblocks.c), as --badblocks FILE, stdin and sysfs
 * give them: the buffer parser and the stream parser must agree on every
 * input, whether the stream's reads take all of it or end anywhere in a
 * line, and every entry must be a sane range.  Each line alone must give
 * what dg_parse_range(badblocks=true) gives for it.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/private.h"

#include "fuzz.h"

static void check_range(const struct dg_range *r)
{
	uint64_t end;

	FUZZ_CHECK(r->length > 0, "empty range at %#llx", (unsigned long long)r->offset);
	FUZZ_CHECK(!(r->offset % 512) && !(r->length % 512), "not in sectors");
	FUZZ_CHECK(!__builtin_add_overflow(r->offset, r->length, &end), "end past 64 bits");
}

/* each line alone, through both line parsers */
static void check_lines(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl + 1 - p) : (size_t)(end - p);
		struct dg_range r, r2;
		int rc = dg_parse_badblocks_line(p, n, &r);

		FUZZ_CHECK(rc == 1 || rc == 0 || rc == -EINVAL || rc == -EILSEQ || rc == -ERANGE,
			   "rc %d", rc);
		if (rc == 1)
			check_range(&r);
		/* a C string has no NUL inside: the same line as dg_parse_range() sees it */
		if (!memchr(p, '\0', n)) {
			char *s = fuzz_cstr((const uint8_t *)p, n);
			int rc2 = dg_parse_range(s, true, &r2);

			FUZZ_CHECK(rc2 == (rc == 1 ? 0 :
					   rc	   ? rc :
						     -EINVAL),
				   "line rc %d, range rc %d", rc, rc2);
			FUZZ_CHECK(rc != 1 || (r.offset == r2.offset && r.length == r2.length),
				   "line and range disagree");
			free(s);
		}
		p += n;
	}
}

/* the stream parser on @data, read @chunk bytes at a time from a memfd */
static int read_list(int fd, const uint8_t *data, size_t size, size_t chunk, struct dg_range **r,
		     size_t *nr, size_t *lineno)
{
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size ||
	    lseek(fd, 0, SEEK_SET))
		abort();
	return dg_read_badblocks_chunk(fd, chunk, r, nr, lineno);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	/* one read for all of it, as a file is read; and reads that end anywhere */
	size_t chunks[2] = { 65536, 1 + size % 97 }, c;
	struct dg_range *a = NULL;
	size_t na = 0, la = 99, i;
	int ra;

	if (fd < 0) {
		fd = memfd_create("badblocks", MFD_CLOEXEC);
		if (fd < 0)
			abort();
	}
	ra = dg_parse_badblocks((const char *)data, size, &a, &na, &la);
	FUZZ_CHECK(!ra || (!na && la), "failed with %zu ranges taken, line %zu", na, la);
	for (i = 0; i < na; i++)
		check_range(&a[i]);
	for (c = 0; c < 2; c++) {
		struct dg_range *b = NULL;
		size_t nb = 0, lb = 99;
		int rb = read_list(fd, data, size, chunks[c], &b, &nb, &lb);

		FUZZ_CHECK(ra == rb && la == lb,
			   "buffer rc %d line %zu, stream of %zu-byte reads rc %d line %zu", ra, la,
			   chunks[c], rb, lb);
		FUZZ_CHECK(na == nb, "buffer %zu ranges, stream %zu", na, nb);
		for (i = 0; i < na; i++)
			FUZZ_CHECK(a[i].offset == b[i].offset && a[i].length == b[i].length,
				   "range %zu differs", i);
		free(b);
	}
	free(a);
	check_lines(data, size);
	return 0;
}
