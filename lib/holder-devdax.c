// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * device-dax has no filesystem and no reverse map to walk: the device node
 * is the only "file", and an offset on the device is the offset in it.
 * The processes mapping that offset are the users, as for a file.
 */
#include <errno.h>

#include "private.h"

static int devdax_rmap(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges, size_t nr,
		       struct dg_result *res)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		struct dg_owner o = {
			.type = DG_OWNER_FILE,
			.offset = ranges[i].offset,
			.length = ranges[i].length,
			.ino = fs->dax_ino,
			.file_offset = ranges[i].offset,
			.path = fs->devname,
		};

		if (!dg_result_add_owner(res, fs, &o))
			return -ENOMEM;
	}
	return 0;
}

const struct dg_holder_ops dg_holder_devdax = {
	.name = "devdax",
	.rmap = devdax_rmap,
};
