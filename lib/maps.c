// SPDX-License-Identifier: LGPL-2.1-or-later
/* The text format of /proc/PID/maps, for kernels without PROCMAP_QUERY. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "private.h"

static bool hex_field(const char **p, char stop, uint64_t *val)
{
	char *end;

	errno = 0;
	*val = strtoull(*p, &end, 16);
	if (errno || end == *p || *end != stop)
		return false;
	*p = end + 1;
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
	char *end;

	if (!hex_field(&p, '-', &e->start) || !hex_field(&p, ' ', &e->end))
		return -EINVAL;
	if (!p[0] || !p[1] || !p[2] || !p[3] || p[4] != ' ')
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
	if (!hex_field(&p, ' ', &e->offset) || !hex_field(&p, ':', &maj) ||
	    !hex_field(&p, ' ', &min))
		return -EINVAL;
	errno = 0;
	e->ino = strtoull(p, &end, 10);
	if (errno || end == p || (*end && *end != ' '))
		return -EINVAL;
	p = end;
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
	unsigned long maj, min;
	char *end;
	int field;

	for (field = 0; field < 3; field++) {
		p = strchr(p, ' ');
		if (!p)
			return false;
		p++;
	}
	maj = strtoul(p, &end, 16);
	if (end == p || *end != ':')
		return false;
	p = end + 1;
	min = strtoul(p, &end, 16);
	if (end == p || *end != ' ')
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
