// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device-mapper devices stacked on the target (LVM or dmsetup on pmem):
 * the linear pieces of their tables, read with libdevmapper, and their
 * removal once nothing is mounted on them.  Only "linear" lines can be
 * translated; a table with any other line that uses the target is left
 * out, and what uses it still shows up as a holder at release time.
 */
#include <ctype.h>
#include <errno.h>
#include <libdevmapper.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "private.h"

/*
 * libdevmapper prints its errors on stderr itself: keep it quiet.  The
 * caller reports what failed, naming the device.
 */
static void dg_dm_log(int level, const char *file, int line, int dm_errno, const char *f, ...)
{
	(void)level;
	(void)file;
	(void)line;
	(void)dm_errno;
	(void)f;
}

static void dm_quiet(void)
{
	dm_log_with_errno_init(dg_dm_log);
	/* no udev in a rescue shell or a VM initramfs: do not wait for it */
	dm_udev_set_sync_support(0);
}

static struct dm_task *dm_task_for(int type, dev_t dm)
{
	struct dm_task *dmt;

	dm_quiet();
	dmt = dm_task_create(type);
	if (!dmt)
		return NULL;
	if (!dm_task_set_major(dmt, major(dm)) || !dm_task_set_minor(dmt, minor(dm))) {
		dm_task_destroy(dmt);
		return NULL;
	}
	return dmt;
}

/* a decimal number at *@p of at most @max */
static int dm_number(const char **p, uint64_t max, uint64_t *val)
{
	const char *s = *p;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++)
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*s - '0'), &v) || v > max)
			return -ERANGE;
	*p = s;
	*val = v;
	return 0;
}

/* "MAJ:MIN" at *@p, as the kernel's format_dev_t() prints a device */
static int dm_devnum(const char **p, dev_t *dev)
{
	uint64_t maj, min;
	int rc = dm_number(p, UINT32_MAX, &maj);

	if (rc)
		return rc;
	if (**p != ':')
		return -EINVAL;
	++*p;
	rc = dm_number(p, UINT32_MAX, &min);
	if (rc)
		return rc;
	*dev = makedev((unsigned int)maj, (unsigned int)min);
	return 0;
}

static const char *dm_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int dg_dm_parse_linear(const char *params, dev_t *dev, uint64_t *sector)
{
	const char *p = dm_blanks(params);
	const char *q;
	int rc;

	rc = dm_devnum(&p, dev);
	if (rc)
		return rc;
	q = dm_blanks(p);
	if (q == p)
		return -EINVAL;
	rc = dm_number(&q, UINT64_MAX, sector);
	if (rc)
		return rc;
	return *dm_blanks(q) ? -EINVAL : 0;
}

/* does a line of another kind name @dev among its parameters? */
static bool dm_params_use(const char *params, dev_t dev)
{
	const char *p = params;

	/* whole words only: "7:1" is not in "7:10" nor in "17:1" */
	while (*(p = dm_blanks(p))) {
		const char *word = p;
		dev_t d;

		if (!dm_devnum(&p, &d) && d == dev && (!*p || *p == ' ' || *p == '\t'))
			return true;
		p = word + strcspn(word, " \t");
	}
	return false;
}

int dg_dm_line_piece(uint64_t start, uint64_t length, const char *type, const char *params,
		     dev_t lower, struct dg_fs_piece *piece)
{
	uint64_t sector, end;
	dev_t dev;
	int rc;

	if (!type || !params)
		return 0;
	if (strcmp(type, "linear"))
		return dm_params_use(params, lower) ? -EOPNOTSUPP : 0;
	rc = dg_dm_parse_linear(params, &dev, &sector);
	if (rc)
		return rc;
	if (dev != lower)
		return 0;
	/* in bytes, each piece's end on either device fits in 64 bits */
	if (!length || (start >> 55) || (length >> 55) || (sector >> 55) ||
	    __builtin_add_overflow(start << 9, length << 9, &end) ||
	    __builtin_add_overflow(sector << 9, length << 9, &end))
		return -ERANGE;
	piece->start = sector << 9;
	piece->size = length << 9;
	piece->base = start << 9;
	return 1;
}

int dg_dm_pieces(dev_t dm, dev_t lower, struct dg_fs_piece **out, size_t *nr)
{
	struct dg_fs_piece *p = NULL;
	struct dm_task *dmt = dm_task_for(DM_DEVICE_TABLE, dm);
	uint64_t start, length;
	char *type, *params;
	void *next = NULL;
	size_t n = 0;
	int rc = 0;

	*out = NULL;
	*nr = 0;
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		return -ENXIO;
	}
	do {
		struct dg_fs_piece piece, *np;

		next = dm_get_next_target(dmt, next, &start, &length, &type, &params);
		/*
		 * Another kind of line on @lower, or a line that cannot be
		 * read: the table cannot be translated, and is left out whole.
		 */
		rc = dg_dm_line_piece(start, length, type, params, lower, &piece);
		if (rc <= 0) {
			if (rc)
				break;
			continue;
		}
		rc = 0;
		np = realloc(p, (n + 1) * sizeof(*p));
		if (!np) {
			rc = -ENOMEM;
			break;
		}
		p = np;
		p[n++] = piece;
	} while (next);
	dm_task_destroy(dmt);
	if (rc) {
		free(p);
		return rc;
	}
	*out = p;
	*nr = n;
	return 0;
}

int dg_dm_remove(dev_t dm)
{
	struct dm_task *dmt = dm_task_for(DM_DEVICE_REMOVE, dm);
	int rc = 0;

	if (!dmt)
		return -ENOMEM;
	if (!dm_task_run(dmt))
		rc = -EBUSY;
	dm_task_destroy(dmt);
	return rc;
}
