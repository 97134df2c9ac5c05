// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device-mapper devices stacked on the target (LVM or dmsetup on pmem):
 * the linear pieces of their tables, read with libdevmapper, and their
 * removal once nothing is mounted on them.  Only "linear" lines can be
 * translated; a table with any other line that uses the target is left
 * out, and what uses it still shows up as a holder at release time.
 */
#include <errno.h>
#include <inttypes.h>
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
		unsigned int maj, min;
		uint64_t off;
		char tail;
		struct dg_fs_piece *np;

		next = dm_get_next_target(dmt, next, &start, &length, &type, &params);
		if (!type || !params)
			continue;
		if (strcmp(type, "linear")) {
			/* another kind of line: does it use @lower? */
			char want[32];

			snprintf(want, sizeof(want), "%u:%u", major(lower), minor(lower));
			if (strstr(params, want)) {
				rc = -EOPNOTSUPP;
				break;
			}
			continue;
		}
		if (sscanf(params, "%u:%u %" SCNu64 "%c", &maj, &min, &off, &tail) != 3)
			continue;
		if (makedev(maj, min) != lower)
			continue;
		np = realloc(p, (n + 1) * sizeof(*p));
		if (!np) {
			rc = -ENOMEM;
			break;
		}
		p = np;
		p[n].start = off << 9;
		p[n].size = length << 9;
		p[n].base = start << 9;
		n++;
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
