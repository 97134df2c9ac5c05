// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Holder backends: the user-space ->notify_failure.  Each filesystem kind
 * answers "who owns these device ranges" its own way; this file picks one
 * and holds the generic FIEMAP backend, the last resort that works on any
 * filesystem that supports FIEMAP.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include <xfs/xfs.h>

#include "private.h"

#define FIEMAP_BATCH 256

struct fiemap_walk {
	struct dg_fs *fs;
	const struct dg_fs_range *ranges;
	size_t nr;
	struct dg_result *res;
	struct fiemap *fm;
	/* inodes already answered, against hard links and open files */
	uint64_t *seen;
	size_t nr_seen, alloc_seen;
};

static bool seen_ino(struct fiemap_walk *w, uint64_t ino)
{
	size_t i;

	for (i = 0; i < w->nr_seen; i++)
		if (w->seen[i] == ino)
			return true;
	return false;
}

static int mark_seen(struct fiemap_walk *w, uint64_t ino)
{
	if (w->nr_seen == w->alloc_seen) {
		size_t n = w->alloc_seen ? w->alloc_seen * 2 : 64;
		uint64_t *s = realloc(w->seen, n * sizeof(*s));

		if (!s)
			return -ENOMEM;
		w->seen = s;
		w->alloc_seen = n;
	}
	w->seen[w->nr_seen++] = ino;
	return 0;
}

/* Index of the first range that ends after @pos. */
static size_t first_range_after(const struct dg_fs_range *r, size_t nr,
				uint64_t pos)
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

static int extent_hits(struct fiemap_walk *w, const struct fiemap_extent *fe,
		       uint64_t ino, unsigned int oflags, const char *path)
{
	uint64_t pstart = fe->fe_physical, pend = pstart + fe->fe_length;
	size_t i = first_range_after(w->ranges, w->nr, pstart);
	int rc;

	for (; i < w->nr && w->ranges[i].offset < pend; i++) {
		const struct dg_fs_range *q = &w->ranges[i];
		uint64_t s = DG_MAX(pstart, q->offset);
		uint64_t e = DG_MIN(pend, q->offset + q->length);
		struct dg_owner o = {
			.type = DG_OWNER_FILE,
			.offset = s,
			.length = e - s,
			.ino = ino,
			.file_offset = fe->fe_logical + (s - pstart),
			.flags = oflags,
			.path = (char *)path,
		};

		if (oflags & DG_OWNER_ATTR_FORK)
			o.file_offset = 0;
		if (fe->fe_flags & FIEMAP_EXTENT_UNWRITTEN)
			o.flags |= DG_OWNER_UNWRITTEN;
		if (fe->fe_flags & FIEMAP_EXTENT_SHARED)
			o.flags |= DG_OWNER_SHARED;
		if (!dg_result_add_owner(w->res, w->fs, &o))
			return -ENOMEM;
		rc = 0;
		if (!seen_ino(w, ino))
			rc = mark_seen(w, ino);
		if (rc)
			return rc;
	}
	return 0;
}

/* Map one fork of an open file; record every extent that meets a range. */
static int fiemap_fork(struct fiemap_walk *w, int fd, uint64_t ino,
		       unsigned int oflags, const char *path, bool xattr)
{
	struct fiemap *fm = w->fm;
	uint64_t start = 0;
	int rc;

	for (;;) {
		unsigned int i;
		bool last = false;

		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_extent_count = FIEMAP_BATCH;
		fm->fm_flags = xattr ? FIEMAP_FLAG_XATTR : 0;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0)
			return 0; /* no FIEMAP here (a directory on XFS) */
		for (i = 0; i < fm->fm_mapped_extents; i++) {
			const struct fiemap_extent *fe = &fm->fm_extents[i];

			if (fe->fe_flags & FIEMAP_EXTENT_LAST)
				last = true;
			/* not on the device (yet), or not block aligned */
			if (fe->fe_flags &
			    (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |
			     FIEMAP_EXTENT_DATA_INLINE |
			     FIEMAP_EXTENT_DATA_TAIL))
				continue;
			rc = extent_hits(w, fe, ino,
					 oflags | (xattr ? DG_OWNER_ATTR_FORK : 0),
					 path);
			if (rc)
				return rc;
		}
		if (last || fm->fm_mapped_extents < FIEMAP_BATCH)
			return 0;
		start = fm->fm_extents[FIEMAP_BATCH - 1].fe_logical +
			fm->fm_extents[FIEMAP_BATCH - 1].fe_length;
	}
}

/* Data, then extended attributes (an ext4 xattr block, an XFS attr fork). */
static int fiemap_file(struct fiemap_walk *w, int fd, uint64_t ino,
		       unsigned int oflags, const char *path)
{
	int rc = fiemap_fork(w, fd, ino, oflags, path, false);

	return rc ? rc : fiemap_fork(w, fd, ino, oflags, path, true);
}

static int fiemap_walk_fn(void *arg, int dirfd, const char *name,
			  const char *relpath, size_t len, unsigned char type,
			  uint64_t ino)
{
	struct fiemap_walk *w = arg;
	char path[PATH_MAX];
	int fd, rc;

	if (type != DT_REG && type != DT_DIR)
		return 0;
	fd = openat(dirfd, name,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME |
			    (type == DT_DIR ? O_DIRECTORY : O_NONBLOCK));
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	snprintf(path, sizeof(path), "%s%s",
		 strcmp(w->fs->root_path, "/") ? w->fs->root_path : "",
		 relpath);
	rc = fiemap_file(w, fd, ino,
			 type == DT_DIR ? DG_OWNER_DIRECTORY : 0, path);
	close(fd);
	return rc;
}

/*
 * A file that is unlinked but still open has no name to walk to.  The
 * processes holding it do: open it again through /proc/PID/fd or
 * /proc/PID/map_files.
 */
static void fiemap_try_proc_file(struct fiemap_walk *w, const char *path)
{
	struct stat st;
	int fd;

	if (stat(path, &st) < 0 || st.st_dev != w->fs->devnum ||
	    st.st_nlink != 0 || !S_ISREG(st.st_mode) ||
	    seen_ino(w, st.st_ino))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	if (fiemap_file(w, fd, st.st_ino, DG_OWNER_UNLINKED, NULL) == 0 &&
	    !seen_ino(w, st.st_ino))
		mark_seen(w, st.st_ino);
	close(fd);
}

static void fiemap_unlinked(struct fiemap_walk *w)
{
	DIR *proc = opendir("/proc"), *dir;
	struct dirent *de, *fde;
	char path[PATH_MAX];

	if (!proc)
		return;
	while ((de = readdir(proc))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", de->d_name);
		dir = opendir(path);
		while (dir && (fde = readdir(dir))) {
			if (fde->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/fd/%s",
				 de->d_name, fde->d_name);
			fiemap_try_proc_file(w, path);
		}
		if (dir)
			closedir(dir);
		snprintf(path, sizeof(path), "/proc/%s/map_files", de->d_name);
		dir = opendir(path);
		while (dir && (fde = readdir(dir))) {
			if (fde->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/map_files/%s",
				 de->d_name, fde->d_name);
			fiemap_try_proc_file(w, path);
		}
		if (dir)
			closedir(dir);
	}
	closedir(proc);
}

/*
 * XFS without rmapbt: GETFSMAP calls the internal log "unknown".  The
 * geometry knows where it is.
 */
static int xfs_log_owner(struct dg_fs *fs, int rootfd,
			 const struct dg_fs_range *ranges, size_t nr,
			 struct dg_result *res)
{
	struct xfs_fsop_geom geo;
	uint64_t agno, agbno, start, end;
	unsigned int agblklog;
	size_t i;

	if (ioctl(rootfd, XFS_IOC_FSGEOMETRY, &geo) < 0 || !geo.logstart ||
	    geo.agblocks < 2)
		return 0;
	/* logstart is an fsblock: the AG number above agblklog bits */
	agblklog = 64 - (unsigned int)__builtin_clzll(geo.agblocks - 1);
	agno = geo.logstart >> agblklog;
	agbno = geo.logstart & ((1ULL << agblklog) - 1);
	start = (agno * geo.agblocks + agbno) * geo.blocksize;
	end = start + (uint64_t)geo.logblocks * geo.blocksize;
	for (i = 0; i < nr; i++) {
		uint64_t s = DG_MAX(start, ranges[i].offset);
		uint64_t e = DG_MIN(end, ranges[i].offset + ranges[i].length);
		struct dg_owner o = { .type = DG_OWNER_METADATA,
				      .metadata = "log",
				      .offset = s,
				      .length = e - s };

		if (s < e && !dg_result_add_owner(res, fs, &o))
			return -ENOMEM;
	}
	return 0;
}

static int fiemap_rmap(struct dg_fs *fs, int rootfd,
		       const struct dg_fs_range *ranges, size_t nr,
		       struct dg_result *res)
{
	struct fiemap_walk w = { .fs = fs, .ranges = ranges, .nr = nr,
				 .res = res };
	int rc;

	w.fm = malloc(sizeof(*w.fm) +
		      FIEMAP_BATCH * sizeof(struct fiemap_extent));
	if (!w.fm)
		return -ENOMEM;
	/* metadata and free space from GETFSMAP, where the fs has it */
	rc = dg_fsmap_query(fs, rootfd, ranges, nr, false, res);
	if (rc == -ENOTTY || rc == -EOPNOTSUPP || rc == -EINVAL)
		rc = 0;
	if (!rc && !strcmp(fs->type, "xfs"))
		rc = xfs_log_owner(fs, rootfd, ranges, nr, res);
	if (!rc) {
		struct stat st;

		/* the root directory is no directory entry: map it first */
		if (fstat(rootfd, &st) == 0)
			rc = fiemap_file(&w, rootfd, st.st_ino,
					 DG_OWNER_DIRECTORY, fs->root_path);
	}
	if (!rc)
		rc = dg_walk(rootfd, fiemap_walk_fn, &w);
	if (!rc)
		fiemap_unlinked(&w);
	free(w.seen);
	free(w.fm);
	return rc;
}

const struct dg_holder_ops dg_holder_fiemap = {
	.name = "fiemap",
	.rmap = fiemap_rmap,
};

static bool xfs_has_rmapbt(int rootfd)
{
	struct xfs_fsop_geom geo;

	return ioctl(rootfd, XFS_IOC_FSGEOMETRY, &geo) == 0 &&
	       (geo.flags & XFS_FSOP_GEOM_FLAGS_RMAPBT);
}

static const struct dg_holder_ops *const holders[] = {
	&dg_holder_xfs_rmapbt,
	&dg_holder_ext4,
	&dg_holder_fiemap,
};

static bool holder_applies(const struct dg_holder_ops *h, struct dg_fs *fs,
			   int rootfd)
{
	if (h == &dg_holder_xfs_rmapbt)
		return !strcmp(fs->type, "xfs") && xfs_has_rmapbt(rootfd);
	if (h == &dg_holder_ext4)
		return !strcmp(fs->type, "ext4") || !strcmp(fs->type, "ext3") ||
		       !strcmp(fs->type, "ext2");
	return true; /* fiemap: anything that answers FIEMAP */
}

int dg_holder_probe(struct dg_fs *fs, int rootfd,
		    const struct dg_holder_ops **ops)
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
			return dg_fail(t->ctx, -EOPNOTSUPP,
				       "%s: the %s reverse map does not apply to this %s filesystem",
				       fs->devname, t->rmap, fs->type);
	}
	return dg_fail(t->ctx, -EINVAL, "%s: no reverse map named %s",
		       fs->devname, t->rmap ? t->rmap : "?");
}

DG_EXPORT int dg_target_set_rmap(struct dg_target *t, const char *name)
{
	size_t i;

	for (i = 0; name && i < ARRAY_SIZE(holders); i++)
		if (!strcmp(name, holders[i]->name))
			break;
	if (name && i == ARRAY_SIZE(holders))
		return dg_fail(t->ctx, -EINVAL,
			       "%s: no reverse map named '%s' (xfs-rmapbt, ext4-libext2fs, fiemap)",
			       name, name);
	free(t->rmap);
	t->rmap = name ? strdup(name) : NULL;
	return name && !t->rmap ? -ENOMEM : 0;
}
