// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * FS_IOC_GETFSMAP: the filesystem's own reverse map.  On XFS with rmapbt
 * this is the same rmap the kernel's xfs_dax_notify_failure() walks, so it
 * names every owner: file data with its file offset, attr forks, extent
 * map blocks and each kind of metadata.  Without rmapbt (and on ext4) it
 * still tells metadata and free space apart, but file data is "unknown".
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/fs.h>
#include <linux/fsmap.h>

#include "private.h"

#define FSMAP_BATCH 512

/* GETFSMAP names devices the kernel's way, new_encode_dev() */
static uint32_t fsmap_devnum(dev_t dev)
{
	unsigned int maj = major(dev), min = minor(dev);

	return (min & 0xff) | (maj << 8) | ((min & ~0xffU) << 12);
}

static const char *special_owner_name(uint64_t owner)
{
	switch (FMR_OWNER_TYPE(owner)) {
	case 0:
		return FMR_OWNER_CODE(owner) == 3 ? "metadata" : NULL;
	case 'X': /* XFS, and the codes ext4 shares with it */
		switch (FMR_OWNER_CODE(owner)) {
		case 1:
			return "fs_headers";
		case 2:
			return "log";
		case 3:
			return "ag_metadata";
		case 4:
			return "inode_btree";
		case 5:
			return "inodes";
		case 6:
			return "refcount_btree";
		case 7:
			return "cow_staging";
		case 8:
			return "defective";
		}
		break;
	case 'f': /* ext4 */
		switch (FMR_OWNER_CODE(owner)) {
		case 1:
			return "group_descriptors";
		case 2:
			return "reserved_gdt";
		case 3:
			return "block_bitmap";
		case 4:
			return "inode_bitmap";
		}
		break;
	}
	return "metadata";
}

static int add_record(struct dg_fs *fs, const struct fsmap *r, const struct dg_fs_range *q,
		      bool files, struct dg_result *res)
{
	uint64_t s = DG_MAX(r->fmr_physical, q->offset);
	uint64_t e = DG_MIN(r->fmr_physical + r->fmr_length, q->offset + q->length);
	struct dg_owner o = { .offset = s, .length = e - s };

	if (s >= e)
		return 0;
	if (r->fmr_flags & FMR_OF_SPECIAL_OWNER) {
		if (r->fmr_owner == FMR_OWN_FREE) {
			o.type = DG_OWNER_FREE;
		} else if (r->fmr_owner == FMR_OWN_UNKNOWN) {
			/* a fallback fills file owners in, and the rest */
			if (!files)
				return 0;
			o.type = DG_OWNER_UNKNOWN;
		} else {
			o.type = DG_OWNER_METADATA;
			o.metadata = special_owner_name(r->fmr_owner);
		}
	} else {
		if (!files)
			return 0;
		o.type = DG_OWNER_FILE;
		o.ino = r->fmr_owner;
		if (r->fmr_flags & FMR_OF_ATTR_FORK)
			o.flags |= DG_OWNER_ATTR_FORK;
		if (r->fmr_flags & FMR_OF_EXTENT_MAP)
			o.flags |= DG_OWNER_EXTENT_MAP;
		if (r->fmr_flags & FMR_OF_PREALLOC)
			o.flags |= DG_OWNER_UNWRITTEN;
		if (r->fmr_flags & FMR_OF_SHARED)
			o.flags |= DG_OWNER_SHARED;
		/* the extent map has no file offset */
		if (!(r->fmr_flags & FMR_OF_EXTENT_MAP))
			o.file_offset = r->fmr_offset + (s - r->fmr_physical);
	}
	return dg_result_add_owner(res, fs, &o) ? 0 : -ENOMEM;
}

int dg_fsmap_query(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges, size_t nr,
		   bool files, struct dg_result *res)
{
	struct fsmap_head *head;
	size_t i;
	int rc = 0;
	uint32_t dev = fsmap_devnum(fs->devnum);

	head = calloc(1, fsmap_sizeof(FSMAP_BATCH));
	if (!head)
		return -ENOMEM;
	for (i = 0; i < nr && !rc; i++) {
		const struct dg_fs_range *q = &ranges[i];

		memset(head, 0, sizeof(*head));
		head->fmh_count = FSMAP_BATCH;
		/* the data device only: not an external log or rt device */
		head->fmh_keys[0].fmr_device = dev;
		head->fmh_keys[0].fmr_physical = q->offset;
		head->fmh_keys[1].fmr_device = dev;
		head->fmh_keys[1].fmr_physical = q->offset + q->length - 1;
		head->fmh_keys[1].fmr_owner = ULLONG_MAX;
		head->fmh_keys[1].fmr_offset = ULLONG_MAX;
		head->fmh_keys[1].fmr_flags = UINT_MAX;
		for (;;) {
			struct fsmap *last;
			unsigned int j;

			if (ioctl(rootfd, FS_IOC_GETFSMAP, head) < 0) {
				rc = -errno;
				break;
			}
			if (!head->fmh_entries)
				break;
			for (j = 0; j < head->fmh_entries && !rc; j++)
				if (head->fmh_recs[j].fmr_device == dev)
					rc = add_record(fs, &head->fmh_recs[j], q, files, res);
			last = &head->fmh_recs[head->fmh_entries - 1];
			if (rc || (last->fmr_flags & FMR_OF_LAST))
				break;
			fsmap_advance(head);
		}
	}
	free(head);
	return rc;
}
