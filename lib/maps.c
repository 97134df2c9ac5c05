// SPDX-License-Identifier: LGPL-2.1-or-later
/* The text format of /proc/PID/maps, for kernels without PROCMAP_QUERY. */
#include <errno.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "private.h"

static int digit(char c, unsigned int base)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (base == 16 && c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * A number of @base digits at *@p, at most @max, followed by @stop (or,
 * when @stop is ' ', by the end of the line), and past it.  The kernel
 * prints lowercase hex with no sign, blank or 0x; strtoull() would take
 * all of those, and a line that only it reads differently from
 * dg_maps_line_dev().
 */
static bool num_field(const char **p, unsigned int base, char stop, uint64_t max, uint64_t *val)
{
	const char *s = *p;
	uint64_t v = 0;
	int d;

	for (; (d = digit(*s, base)) >= 0; s++) {
		if (v > (max - (uint64_t)d) / base)
			return false;
		v = v * base + (uint64_t)d;
	}
	if (s == *p || (*s != stop && !(stop == ' ' && !*s)))
		return false;
	*val = v;
	*p = *s ? s + 1 : s;
	return true;
}

/*
 * "start-end perms offset major:minor inode   path", as show_map_vma()
 * prints it: numbers in hex except the inode, the path (if any) after
 * padding.  Returns 1 for a file-backed mapping, 0 for an anonymous one,
 * -EINVAL for a line that is not in this format.
 */
int dg_parse_maps_line(const char *line, struct dg_maps_entry *e)
{
	const char *p = line;
	uint64_t maj, min;

	if (!num_field(&p, 16, '-', UINT64_MAX, &e->start) ||
	    !num_field(&p, 16, ' ', UINT64_MAX, &e->end) || !*p)
		return -EINVAL;
	/* four flags, each its letter or '-', and 's' or 'p' */
	if ((p[0] != 'r' && p[0] != '-') || (p[1] != 'w' && p[1] != '-') ||
	    (p[2] != 'x' && p[2] != '-') || (p[3] != 's' && p[3] != 'p') || p[4] != ' ')
		return -EINVAL;
	e->flags = 0;
	if (p[0] == 'r')
		e->flags |= DG_USER_READ;
	if (p[1] == 'w')
		e->flags |= DG_USER_WRITE;
	if (p[2] == 'x')
		e->flags |= DG_USER_EXEC;
	if (p[3] == 's')
		e->flags |= DG_USER_SHARED;
	p += 5;
	if (!num_field(&p, 16, ' ', UINT64_MAX, &e->offset) || !*p ||
	    !num_field(&p, 16, ':', UINT32_MAX, &maj) ||
	    !num_field(&p, 16, ' ', UINT32_MAX, &min) || !*p ||
	    !num_field(&p, 10, ' ', UINT64_MAX, &e->ino))
		return -EINVAL;
	while (*p == ' ')
		p++;
	e->dev = makedev((unsigned int)maj, (unsigned int)min);
	e->path = p;
	if (e->end <= e->start)
		return -EINVAL;
	/* anonymous, [heap], [stack], [vdso]: inode 0 */
	return e->ino != 0;
}

/*
 * Just the device of a maps line, for skipping the mappings of other
 * filesystems (libraries, binaries) without parsing them: the fourth
 * field.  Returns false for a line not in the format.
 */
bool dg_maps_line_dev(const char *line, dev_t *dev)
{
	const char *p = line;
	uint64_t maj, min;
	int field;

	for (field = 0; field < 3; field++) {
		p = strchr(p, ' ');
		if (!p)
			return false;
		p++;
	}
	if (!num_field(&p, 16, ':', UINT32_MAX, &maj) || !num_field(&p, 16, ' ', UINT32_MAX, &min))
		return false;
	*dev = makedev((unsigned int)maj, (unsigned int)min);
	return true;
}

/*
 * show_map_vma() prints a mapping's path with seq_file_path(m, file, "\n"):
 * mangle_path() writes each character of that set as a backslash and
 * three octal digits, so a newline comes out as the four characters
 * "\012", and nothing else is escaped, not even a backslash.  Only "\012"
 * is turned back: "\040" in a maps line is a name with a backslash in it.
 */
ssize_t dg_maps_unescape_path(const char *path, char *buf, size_t size, bool *ambiguous)
{
	const char *p = path;
	size_t n = 0;
	bool esc = false;

	if (!size)
		return -ENAMETOOLONG;
	while (*p) {
		char c = *p;

		if (c == '\\' && p[1] == '0' && p[2] == '1' && p[3] == '2') {
			c = '\n';
			p += 4;
			esc = true;
		} else {
			p++;
		}
		/* room for the NUL too; in place, @buf never overtakes @p */
		if (n + 1 >= size)
			return -ENAMETOOLONG;
		buf[n++] = c;
	}
	buf[n] = '\0';
	if (ambiguous)
		*ambiguous = esc;
	return (ssize_t)n;
}
