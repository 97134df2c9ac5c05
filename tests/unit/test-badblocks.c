// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Badblocks lists: the line parser on the kernel's format and on what a
 * hand-made or damaged list holds, and the buffer and stream parsers,
 * which must agree on every list, wherever the stream's reads end.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/private.h"

#include "check.h"

/* a C string literal may hold a NUL: its length is given */
#define L(s) s, sizeof(s) - 1

static const struct {
	const char *in;
	size_t len;
	int rc;
	uint64_t off, len_;
} lines[] = {
	{ L("240 8"), 1, 240 * 512, 8 * 512 },
	{ L("240 8\n"), 1, 240 * 512, 8 * 512 },
	{ L("  240\t8  \r\n"), 1, 240 * 512, 8 * 512 },
	{ L("0 1"), 1, 0, 512 },
	{ L("36028797018963966 1"), 1, 36028797018963966ULL * 512, 512 },
	{ L(""), 0, 0, 0 },
	{ L("\n"), 0, 0, 0 },
	{ L("   \t"), 0, 0, 0 },
	{ L("# pmem0"), 0, 0, 0 },
	{ L("  # 8 8"), 0, 0, 0 },
	{ L("240 0"), -EINVAL, 0, 0 },
	{ L("240"), -EINVAL, 0, 0 },
	{ L("240 "), -EINVAL, 0, 0 },
	{ L("240 8 9"), -EINVAL, 0, 0 },
	{ L("240 8 #"), -EINVAL, 0, 0 },
	{ L("x 8"), -EINVAL, 0, 0 },
	{ L("-1 8"), -EINVAL, 0, 0 },
	{ L("+1 8"), -EINVAL, 0, 0 },
	{ L("1 -8"), -EINVAL, 0, 0 },
	{ L("0x10 8"), -EINVAL, 0, 0 },
	{ L("1,8"), -EINVAL, 0, 0 },
	{ L("8 8\n9 9"), -EINVAL, 0, 0 },
	{ L("8 8\n\n"), -EINVAL, 0, 0 },
	{ L("8 8\0"), -EILSEQ, 0, 0 },
	{ L("8 8\00099"), -EILSEQ, 0, 0 },
	{ L("\0008 8"), -EILSEQ, 0, 0 },
	{ L("# a comment with a \0"), -EILSEQ, 0, 0 },
	{ L("36028797018963968 1"), -ERANGE, 0, 0 },
	{ L("1 36028797018963968"), -ERANGE, 0, 0 },
	/* the end would pass 64 bits: 2^55 - 1 sectors plus one */
	{ L("36028797018963967 1"), -ERANGE, 0, 0 },
	{ L("99999999999999999999 1"), -ERANGE, 0, 0 },
	{ L("1 99999999999999999999"), -ERANGE, 0, 0 },
};

static void check_lines(void)
{
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct dg_range r = { 0xdead, 0xbeef };
		int rc = dg_parse_badblocks_line(lines[i].in, lines[i].len, &r);

		CHECK(rc == lines[i].rc, "line %zu: rc %d, want %d", i, rc, lines[i].rc);
		if (rc == 1)
			CHECK(r.offset == lines[i].off && r.length == lines[i].len_,
			      "line %zu: %" PRIu64 "+%" PRIu64 ", want %" PRIu64 "+%" PRIu64, i,
			      r.offset, r.length, lines[i].off, lines[i].len_);
		else
			CHECK(r.offset == 0xdead && r.length == 0xbeef,
			      "line %zu: written on rc %d", i, rc);
	}
	/* the longest line there may be, and one byte more */
	{
		char *big = malloc(DG_BADBLOCKS_LINE_MAX + 2);
		struct dg_range r;

		memset(big, ' ', DG_BADBLOCKS_LINE_MAX + 2);
		memcpy(big, "8 8", 3);
		big[DG_BADBLOCKS_LINE_MAX] = '\n';
		CHECK(dg_parse_badblocks_line(big, DG_BADBLOCKS_LINE_MAX + 1, &r) == 1,
		      "a line of DG_BADBLOCKS_LINE_MAX bytes refused");
		big[DG_BADBLOCKS_LINE_MAX] = ' ';
		CHECK(dg_parse_badblocks_line(big, DG_BADBLOCKS_LINE_MAX + 1, &r) == -EINVAL,
		      "a line of DG_BADBLOCKS_LINE_MAX + 1 bytes accepted");
		free(big);
	}
}

/*
 * What the stream parser makes of @buf, written into a pipe @step bytes a
 * time by a child: its reads end wherever the writes did.  (When a bad
 * line stops the reader early, the child dies of SIGPIPE: no matter.)
 */
static int read_list(const char *buf, size_t len, size_t step, struct dg_range **r, size_t *nr,
		     size_t *lineno)
{
	int p[2], rc, status;
	size_t off;
	pid_t pid;

	if (pipe(p))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		close(p[0]);
		for (off = 0; off < len; off += step)
			if (write(p[1], buf + off, len - off < step ? len - off : step) < 0)
				_exit(1);
		_exit(0);
	}
	close(p[1]);
	rc = dg_read_badblocks(p[0], r, nr, lineno);
	close(p[0]);
	waitpid(pid, &status, 0);
	return rc;
}

/* both parsers on @buf: same result; returns the buffer parser's */
static int both(const char *what, const char *buf, size_t len, struct dg_range **r, size_t *nr,
		size_t *lineno)
{
	struct dg_range *r2 = NULL;
	size_t n0 = *nr, nr2 = 0, lineno2 = 99, i;
	int rc = dg_parse_badblocks(buf, len, r, nr, lineno);
	int rc2 = read_list(buf, len, 1000, &r2, &nr2, &lineno2);

	CHECK(rc == rc2 && *lineno == lineno2, "%s: buffer rc %d line %zu, stream rc %d line %zu",
	      what, rc, *lineno, rc2, lineno2);
	/* and reads of a few bytes, ending anywhere in a line */
	{
		size_t chunks[] = { 1, 2, 5, 4096, 4097 }, c;

		for (c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			int fd = memfd_create("chunks", MFD_CLOEXEC), rc3;
			struct dg_range *r3 = NULL;
			size_t nr3 = 0, lineno3 = 99;

			if (write(fd, buf, len) != (ssize_t)len)
				CHECK(0, "%s: memfd write", what);
			lseek(fd, 0, SEEK_SET);
			rc3 = dg_read_badblocks_chunk(fd, chunks[c], &r3, &nr3, &lineno3);
			close(fd);
			CHECK(rc3 == rc && lineno3 == *lineno && nr3 == *nr - n0 &&
				      (!nr3 || !memcmp(r3, *r + n0, nr3 * sizeof(*r3))),
			      "%s: reads of %zu bytes: rc %d line %zu, %zu ranges", what, chunks[c],
			      rc3, lineno3, nr3);
			free(r3);
		}
	}
	/* the buffer parser appended to what was there, the stream to nothing */
	CHECK(nr2 == *nr - n0, "%s: buffer %zu new ranges, stream %zu", what, *nr - n0, nr2);
	for (i = 0; i < nr2 && n0 + i < *nr; i++)
		CHECK((*r)[n0 + i].offset == r2[i].offset && (*r)[n0 + i].length == r2[i].length,
		      "%s: range %zu differs", what, i);
	free(r2);
	return rc;
}

static void check_lists(void)
{
	struct dg_range *r = NULL;
	size_t nr = 0, lineno = 99, i;
	int rc;

	rc = both("a list", L("# pmem0\n8 8\n\n16 1\n24 2"), &r, &nr, &lineno);
	CHECK(rc == 0 && nr == 3 && lineno == 0, "a list: rc %d, %zu ranges, line %zu", rc, nr,
	      lineno);
	CHECK(nr == 3 && r[0].offset == 4096 && r[2].offset == 24 * 512 && r[2].length == 1024,
	      "a list: wrong ranges");
	/* appended to what is there */
	rc = both("a second list", L("32 8\n"), &r, &nr, &lineno);
	CHECK(rc == 0 && nr == 4 && r[3].offset == 32 * 512, "a second list: appended");
	/* a bad line: its number, and nothing of the list taken */
	rc = both("a NUL in line 3", L("40 8\n48 8\n56 8\0001\n64 8\n"), &r, &nr, &lineno);
	CHECK(rc == -EILSEQ && lineno == 3 && nr == 4, "a NUL in line 3: rc %d line %zu nr %zu", rc,
	      lineno, nr);
	rc = both("a bad last line", L("40 8\n48 x"), &r, &nr, &lineno);
	CHECK(rc == -EINVAL && lineno == 2 && nr == 4, "a bad last line: rc %d line %zu", rc,
	      lineno);
	rc = both("an empty list", L(""), &r, &nr, &lineno);
	CHECK(rc == 0 && nr == 4 && lineno == 0, "an empty list");
	free(r);

	/* many lines, and reads that end anywhere in them */
	{
		size_t n = 20000, len = 0, steps[] = { 1, 7, 4096, 65536, 1 << 20 };
		char *big = malloc(n * 32);
		struct dg_range *r2;
		size_t nr2, s;

		for (i = 0; i < n; i++)
			len += (size_t)sprintf(big + len, "%zu %zu\n", i * 64, i % 7 + 1);
		r = NULL;
		nr = 0;
		rc = both("20000 lines", big, len, &r, &nr, &lineno);
		CHECK(rc == 0 && nr == n, "20000 lines: rc %d, %zu ranges", rc, nr);
		for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			r2 = NULL;
			nr2 = 0;
			rc = read_list(big, len, steps[s], &r2, &nr2, &lineno);
			CHECK(rc == 0 && nr2 == n && !memcmp(r, r2, n * sizeof(*r)),
			      "20000 lines in writes of %zu: rc %d, %zu ranges", steps[s], rc, nr2);
			free(r2);
		}
		free(r);
		/* a line too long to be an entry: the stream stops there */
		memset(big, '7', 100000);
		r = NULL;
		nr = 0;
		rc = both("a 100000-byte line", big, 100000, &r, &nr, &lineno);
		CHECK(rc == -EINVAL && lineno == 1 && nr == 0, "a 100000-byte line: rc %d line %zu",
		      rc, lineno);
		/* as /dev/zero would give it */
		memset(big, 0, 100000);
		rc = both("100000 NUL bytes", big, 100000, &r, &nr, &lineno);
		CHECK(rc == -EINVAL && lineno == 1, "100000 NUL bytes: rc %d line %zu", rc, lineno);
		free(r);
		free(big);
	}
	/* a read error is no bad line */
	{
		int fd = memfd_create("dir", MFD_CLOEXEC);

		close(fd);
		r = NULL;
		nr = 0;
		lineno = 99;
		rc = dg_read_badblocks(fd, &r, &nr, &lineno);
		CHECK(rc == -EBADF && lineno == 0 && nr == 0, "read error: rc %d line %zu", rc,
		      lineno);
		free(r);
	}
}

int main(void)
{
	check_lines();
	check_lists();
	printf("%zu lines, %d failures\n", sizeof(lines) / sizeof(lines[0]), failures);
	return failures ? 1 : 0;
}
