// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Badblocks lists in the kernel's format: one "SECTOR COUNT" a line, in
 * 512-byte sectors, as /sys/block/X/badblocks (badblocks_show()) and
 * `ndctl list --media-errors` give them.  The lists come from files an
 * operator names, from stdin and from sysfs: every byte is checked.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "private.h"

/* how much of a stream is read at once */
#define BB_CHUNK 65536

static bool blank(char c)
{
	/* '\n' ends a line before this is asked; '\r' of a CRLF file is blank */
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* a decimal number at *@p, before @end: 0, -EINVAL or -ERANGE */
static int dec_field(const char **p, const char *end, uint64_t *val)
{
	const char *s = *p;
	uint64_t v = 0;

	if (s == end || !isdigit((unsigned char)*s))
		return -EINVAL;
	for (; s < end && isdigit((unsigned char)*s); s++)
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v))
			return -ERANGE;
	*p = s;
	*val = v;
	return 0;
}

DG_EXPORT int dg_parse_badblocks_line(const char *line, size_t len, struct dg_range *range)
{
	const char *p = line, *end = line + len;
	uint64_t sector, count, bytes;
	int rc;

	if (len && end[-1] == '\n')
		end--;
	if ((size_t)(end - p) > DG_BADBLOCKS_LINE_MAX)
		return -EINVAL;
	/* C strings would end the line at a NUL, and take "8 8<NUL>9" for "8 8" */
	if (memchr(p, '\0', (size_t)(end - p)))
		return -EILSEQ;
	if (memchr(p, '\n', (size_t)(end - p)))
		return -EINVAL;
	while (p < end && blank(*p))
		p++;
	if (p == end || *p == '#')
		return 0;
	rc = dec_field(&p, end, &sector);
	if (rc)
		return rc;
	if (p == end || !blank(*p))
		return -EINVAL;
	while (p < end && blank(*p))
		p++;
	rc = dec_field(&p, end, &count);
	if (rc)
		return rc;
	while (p < end && blank(*p))
		p++;
	if (p != end || !count)
		return -EINVAL;
	/* the range in bytes, and its end, fit in 64 bits */
	if ((sector >> 55) || (count >> 55) ||
	    __builtin_add_overflow(sector << 9, count << 9, &bytes))
		return -ERANGE;
	range->offset = sector << 9;
	range->length = count << 9;
	return 1;
}

/*
 * Where entries go: the caller's array, which holds *nr entries and is
 * grown with realloc().  Its room is known only within one call.
 */
struct bb_out {
	struct dg_range **ranges;
	size_t *nr;
	size_t cap;
};

static int add_range(struct bb_out *o, const struct dg_range *r)
{
	if (*o->nr == o->cap) {
		size_t cap = o->cap * 2 + 64;
		struct dg_range *nr = reallocarray(*o->ranges, cap, sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		*o->ranges = nr;
		o->cap = cap;
	}
	(*o->ranges)[(*o->nr)++] = *r;
	return 0;
}

/*
 * The complete lines in [@buf, @buf + @len): each is parsed and its entry
 * appended.  Returns how many bytes were consumed (up to after the last
 * newline, or all of it if @last), or a negative errno for the line that
 * failed, counted in *@lineno.
 */
static ssize_t parse_lines(const char *buf, size_t len, bool last, struct bb_out *o, size_t *lineno)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl + 1 - p) : (size_t)(end - p);
		struct dg_range r;
		int rc;

		if (!nl && !last)
			break;
		++*lineno;
		rc = dg_parse_badblocks_line(p, n, &r);
		if (rc < 0)
			return rc;
		if (rc && add_range(o, &r))
			return -ENOMEM;
		p += n;
	}
	return p - buf;
}

DG_EXPORT int dg_parse_badblocks(const char *buf, size_t len, struct dg_range **ranges, size_t *nr,
				 size_t *lineno)
{
	struct bb_out o = { ranges, nr, *nr };
	size_t n0 = *nr, line = 0;
	ssize_t rc = parse_lines(buf, len, true, &o, &line);

	if (rc < 0) {
		*nr = n0;
		if (lineno)
			*lineno = rc == -ENOMEM ? 0 : line;
		return (int)rc;
	}
	if (lineno)
		*lineno = 0;
	return 0;
}

int dg_read_badblocks_chunk(int fd, size_t chunk, struct dg_range **ranges, size_t *nr,
			    size_t *lineno)
{
	/* what is left of a line, at most DG_BADBLOCKS_LINE_MAX, then a chunk */
	char *buf = malloc(DG_BADBLOCKS_LINE_MAX + chunk);
	struct bb_out o = { ranges, nr, *nr };
	size_t n0 = *nr, have = 0, line = 0;
	ssize_t rc = 0;

	if (lineno)
		*lineno = 0;
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t got = read(fd, buf + have, chunk);
		size_t used;

		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			line = 0;
			break;
		}
		have += (size_t)got;
		rc = parse_lines(buf, have, !got, &o, &line);
		if (rc < 0 || !got)
			break;
		used = (size_t)rc;
		/* a line longer than any entry can be: no need to read its end */
		if (have - used > DG_BADBLOCKS_LINE_MAX) {
			rc = -EINVAL;
			line++;
			break;
		}
		memmove(buf, buf + used, have - used);
		have -= used;
	}
	free(buf);
	if (rc < 0) {
		*nr = n0;
		if (lineno)
			*lineno = rc == -ENOMEM ? 0 : line;
		return (int)rc;
	}
	return 0;
}

DG_EXPORT int dg_read_badblocks(int fd, struct dg_range **ranges, size_t *nr, size_t *lineno)
{
	return dg_read_badblocks_chunk(fd, BB_CHUNK, ranges, nr, lineno);
}

DG_EXPORT int dg_target_get_badblocks(struct dg_target *t, struct dg_range **ranges, size_t *nr)
{
	struct dg_ctx *ctx = t->ctx;
	struct dg_range *all = NULL;
	struct bb_out o = { ranges, nr, *nr };
	bool part = t->kind == DG_TARGET_PARTITION;
	uint64_t start = 0;
	size_t nr_all = 0, lineno, i, n0 = *nr;
	char path[128];
	int fd, rc;

	if (t->kind == DG_TARGET_DAX)
		return dg_fail(ctx, -ENXIO, "%s: a device-dax device has no badblocks list",
			       t->devname);
	if (part) {
		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(t->devnum),
			 minor(t->devnum));
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		rc = fd < 0 ? -errno : dg_read_u64(fd, "start", &start);
		if (fd >= 0)
			close(fd);
		if (rc)
			return dg_fail(ctx, rc, "%s: cannot read the partition start: %s",
				       t->devname, strerror(-rc));
		if (start >> 55)
			return dg_fail(ctx, -ERANGE, "%s: partition start past 64 bits",
				       t->devname);
		start <<= 9;
	}
	/* a partition has none of its own: the disk's is in disk sectors */
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/%sbadblocks", major(t->devnum),
		 minor(t->devnum), part ? "../" : "");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dg_fail(ctx, -errno, "%s: no badblocks list in sysfs (%s)", t->devname,
			       strerror(errno));
	rc = dg_read_badblocks(fd, &all, &nr_all, &lineno);
	close(fd);
	if (rc) {
		free(all);
		if (lineno)
			return dg_fail(ctx, rc, "%s:%zu: not a 'SECTOR COUNT' badblocks entry",
				       path, lineno);
		return dg_fail(ctx, rc, "%s: %s", path, strerror(-rc));
	}
	/* moved to the partition's start; what lies outside it dropped */
	for (i = 0; i < nr_all; i++) {
		struct dg_range r = all[i];
		uint64_t s = DG_MAX(r.offset, start);
		uint64_t e = DG_MIN(r.offset + r.length, start + t->size);

		if (s >= e)
			continue;
		r.offset = s - start;
		r.length = e - s;
		if (add_range(&o, &r)) {
			*nr = n0;
			free(all);
			return dg_fail(ctx, -ENOMEM, "%s: out of memory", t->devname);
		}
	}
	free(all);
	return 0;
}
