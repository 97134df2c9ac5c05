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
		      bool files, struct dg_result *res, struct dg_fs_extents *inuse)
{
	uint64_t s = DG_MAX(r->fmr_physical, q->offset);
	uint64_t e = DG_MIN(r->fmr_physical + r->fmr_length, q->offset + q->length);
	struct dg_owner o = { .offset = s, .length = e - s };
	bool special = r->fmr_flags & FMR_OF_SPECIAL_OWNER;
	int rc;

	if (s >= e || (!inuse && !files && (!special || r->fmr_owner == FMR_OWN_UNKNOWN)))
		return 0;
	/* in use, and the backend's to explain: its own answer fills it */
	if (inuse && (!special || r->fmr_owner == FMR_OWN_UNKNOWN)) {
		rc = dg_fs_extents_add(inuse, s, e - s);
		if (rc || special || !files)
			return rc;
	}
	if (special) {
		if (r->fmr_owner == FMR_OWN_FREE) {
			o.type = DG_OWNER_FREE;
		} else if (r->fmr_owner == FMR_OWN_UNKNOWN) {
			o.type = DG_OWNER_UNKNOWN;
		} else {
			o.type = DG_OWNER_METADATA;
			o.metadata = special_owner_name(r->fmr_owner);
		}
	} else {
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

/*
 * One GETFSMAP call costs about as much as a hundred records (ext4 sorts
 * its metadata list at every call): ranges closer than this share a call,
 * over the span from the first to the last.  A long badblocks list is then
 * a few calls, not one per entry.
 */
#define FSMAP_SPAN_GAP (1ULL << 20)

/* GETFSMAP over ranges [i, j), one span; the records go to each range */
static int query_span(struct dg_fs *fs, int rootfd, struct fsmap_head *head,
		      const struct dg_fs_range *ranges, size_t i, size_t j, bool files,
		      struct dg_result *res, struct dg_fs_extents *inuse)
{
	uint32_t dev = fsmap_devnum(fs->devnum);
	size_t lo = i;
	int rc = 0;

	memset(head, 0, sizeof(*head));
	head->fmh_count = FSMAP_BATCH;
	/* the data device only: not an external log or rt device */
	head->fmh_keys[0].fmr_device = dev;
	head->fmh_keys[0].fmr_physical = ranges[i].offset;
	head->fmh_keys[1].fmr_device = dev;
	head->fmh_keys[1].fmr_physical = ranges[j - 1].offset + ranges[j - 1].length - 1;
	head->fmh_keys[1].fmr_owner = ULLONG_MAX;
	head->fmh_keys[1].fmr_offset = ULLONG_MAX;
	head->fmh_keys[1].fmr_flags = UINT_MAX;
	for (;;) {
		struct fsmap *last;
		unsigned int k;

		if (ioctl(rootfd, FS_IOC_GETFSMAP, head) < 0)
			return -errno;
		if (!head->fmh_entries)
			return 0;
		for (k = 0; k < head->fmh_entries && !rc; k++) {
			const struct fsmap *r = &head->fmh_recs[k];
			size_t q;

			if (r->fmr_device != dev)
				continue;
			/* records come in order of their start */
			while (lo < j && ranges[lo].offset + ranges[lo].length <= r->fmr_physical)
				lo++;
			for (q = lo;
			     q < j && !rc && ranges[q].offset < r->fmr_physical + r->fmr_length;
			     q++)
				rc = add_record(fs, r, &ranges[q], files, res, inuse);
		}
		last = &head->fmh_recs[head->fmh_entries - 1];
		if (rc || (last->fmr_flags & FMR_OF_LAST))
			return rc;
		fsmap_advance(head);
	}
}

/* Undo what a span that failed half way added. */
struct mark {
	struct dg_owner **tail;
	size_t nr;
	struct dg_fs_range last;
};

static void mark(struct mark *m, struct dg_result *res, const struct dg_fs_extents *inuse)
{
	m->tail = res->owners_tail;
	m->nr = inuse ? inuse->nr : 0;
	if (m->nr)
		m->last = inuse->v[m->nr - 1];
}

static void rewind_to(const struct mark *m, struct dg_result *res, struct dg_fs_extents *inuse)
{
	dg_result_truncate(res, m->tail);
	if (!inuse)
		return;
	inuse->nr = m->nr;
	if (m->nr)
		inuse->v[m->nr - 1] = m->last;
}

int dg_fsmap_query(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges, size_t nr,
		   bool files, struct dg_result *res, struct dg_fs_extents *inuse)
{
	struct fsmap_head *head;
	struct mark m;
	bool damaged = false;
	size_t i, j, q;
	int rc = 0;

	head = calloc(1, fsmap_sizeof(FSMAP_BATCH));
	if (!head)
		return -ENOMEM;
	for (i = 0; i < nr && !rc; i = j) {
		uint64_t end = ranges[i].offset + ranges[i].length;

		for (j = i + 1; j < nr && ranges[j].offset - end <= FSMAP_SPAN_GAP; j++)
			end = ranges[j].offset + ranges[j].length;
		mark(&m, res, inuse);
		rc = query_span(fs, rootfd, head, ranges, i, j, files, res, inuse);
		if (!inuse || !dg_fs_damaged(rc))
			continue;
		/*
		 * A free space btree the kernel finds corrupt (or cannot read)
		 * fails the whole call.  Range by range, then: the others
		 * still get their answer, and one that fails may hold
		 * anything, so all of it is the backend's to explain.
		 */
		rewind_to(&m, res, inuse);
		for (rc = 0, q = i; q < j && !rc; q++) {
			mark(&m, res, inuse);
			rc = query_span(fs, rootfd, head, ranges, q, q + 1, files, res, inuse);
			if (dg_fs_damaged(rc)) {
				rewind_to(&m, res, inuse);
				damaged = true;
				rc = dg_fs_extents_add(inuse, ranges[q].offset, ranges[q].length);
			}
		}
	}
	free(head);
	return rc ? rc : damaged;
}
