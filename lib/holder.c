// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Holder backends: the user-space ->notify_failure.  Each filesystem kind
 * answers "who owns these device ranges" its own way; this file picks the
 * best that applies, or the one the caller forced.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <xfs/xfs.h>

#include "private.h"

static bool xfs_has_rmapbt(int rootfd)
{
	struct xfs_fsop_geom geo;

	return ioctl(rootfd, XFS_IOC_FSGEOMETRY, &geo) == 0 &&
	       (geo.flags & XFS_FSOP_GEOM_FLAGS_RMAPBT);
}

static const struct dg_holder_ops *const holders[] = {
	&dg_holder_xfs_rmapbt,
	&dg_holder_xfs_bulkstat,
	&dg_holder_ext4,
	&dg_holder_fiemap,
};

DG_EXPORT const char *dg_rmap_name(unsigned int i)
{
	return i < ARRAY_SIZE(holders) ? holders[i]->name : NULL;
}

static bool holder_applies(const struct dg_holder_ops *h, struct dg_fs *fs, int rootfd)
{
	if (h == &dg_holder_xfs_rmapbt)
		return !strcmp(fs->type, "xfs") && xfs_has_rmapbt(rootfd);
	if (h == &dg_holder_xfs_bulkstat)
		return !strcmp(fs->type, "xfs");
	if (h == &dg_holder_ext4)
		return !strcmp(fs->type, "ext4") || !strcmp(fs->type, "ext3") ||
		       !strcmp(fs->type, "ext2");
	return true; /* fiemap: anything that answers FIEMAP */
}

int dg_holder_probe(struct dg_fs *fs, int rootfd, const struct dg_holder_ops **ops)
{
	struct dg_target *t = fs->target;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(holders); i++) {
		if (t->rmap && strcmp(t->rmap, holders[i]->name))
			continue;
		if (holder_applies(holders[i], fs, rootfd)) {
			*ops = holders[i];
			return 0;
		}
		if (t->rmap)
			return dg_fail(
				t->ctx, -EOPNOTSUPP,
				"%s: the %s reverse map does not apply to this %s filesystem",
				fs->devname, t->rmap, fs->type);
	}
	return dg_fail(t->ctx, -EINVAL, "%s: no reverse map named %s", fs->devname,
		       t->rmap ? t->rmap : "?");
}

DG_EXPORT int dg_target_set_rmap(struct dg_target *t, const char *name)
{
	size_t i;

	for (i = 0; name && i < ARRAY_SIZE(holders); i++)
		if (!strcmp(name, holders[i]->name))
			break;
	if (name && i == ARRAY_SIZE(holders))
		return dg_fail(
			t->ctx, -EINVAL,
			"%s: no reverse map named '%s' (xfs-rmapbt, xfs-bulkstat, ext4-libext2fs, fiemap)",
			name, name);
	free(t->rmap);
	t->rmap = name ? strdup(name) : NULL;
	return name && !t->rmap ? -ENOMEM : 0;
}

size_t dg_fs_range_first_after(const struct dg_fs_range *r, size_t nr, uint64_t pos)
{
	size_t lo = 0, hi = nr;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (r[mid].offset + r[mid].length <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
