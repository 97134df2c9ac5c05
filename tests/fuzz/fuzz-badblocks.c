// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Badblocks lists (lib/badblocks.c), as --badblocks FILE, stdin and sysfs
 * give them: the buffer parser and the stream parser must agree on every
 * input, and every entry must be a sane range.  Each line alone must give
 * what dg_parse_range(badblocks=true) gives for it.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libdaxguard.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	struct dg_range *a = NULL, *b = NULL;
	size_t na = 0, nb = 0, la = 99, lb = 99, i;
	int ra, rb;

	if (fd < 0) {
		fd = memfd_create("badblocks", MFD_CLOEXEC);
		if (fd < 0)
			abort();
	}
	ra = dg_parse_badblocks((const char *)data, size, &a, &na, &la);
	if (ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size ||
	    lseek(fd, 0, SEEK_SET))
		abort();
	rb = dg_read_badblocks(fd, &b, &nb, &lb);
	FUZZ_CHECK(ra == rb && la == lb, "buffer rc %d line %zu, stream rc %d line %zu", ra, la, rb,
		   lb);
	FUZZ_CHECK(na == nb, "buffer %zu ranges, stream %zu", na, nb);
	FUZZ_CHECK(!ra || (!na && la), "failed with %zu ranges taken, line %zu", na, la);
	for (i = 0; i < na; i++) {
		check_range(&a[i]);
		FUZZ_CHECK(a[i].offset == b[i].offset && a[i].length == b[i].length,
			   "range %zu differs", i);
	}
	free(a);
	free(b);
	check_lines(data, size);
	return 0;
}
