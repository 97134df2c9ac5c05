// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The FIEMAP engine and the generic backend built on it: a walk over the
 * filesystem mapping every file, the last resort that works on anything
 * with FIEMAP.  The XFS bulkstat backend reuses the engine without the
 * walk.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include <xfs/xfs.h>

#include "private.h"

#define FIEMAP_BATCH 256

struct dg_fiemap {
	struct dg_fs *fs;
	const struct dg_fs_range *ranges;
	size_t nr;
	struct dg_result *res;
	struct fiemap *fm;
	const uint32_t *gen; /* of the inode being mapped, if known */
	/*
	 * Inodes already answered, against hard links and open files: a
	 * map, since a long badblocks list can hit hundreds of thousands.
	 */
	struct dg_u64map seen;
	/* regular files the walk could not open */
	uint64_t unopened;
};

static bool seen_ino(struct dg_fiemap *w, uint64_t ino)
{
	return dg_u64map_get(&w->seen, ino) != NULL;
}

static int mark_seen(struct dg_fiemap *w, uint64_t ino)
{
	return dg_u64map_put(&w->seen, ino, w);
}

static int extent_hits(struct dg_fiemap *w, const struct fiemap_extent *fe, uint64_t ino,
		       unsigned int oflags, const char *path)
{
	uint64_t pstart = fe->fe_physical, pend = pstart + fe->fe_length;
	size_t i = dg_fs_range_first_after(w->ranges, w->nr, pstart);
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
			.gen = w->gen ? *w->gen : 0,
			.has_gen = w->gen != NULL,
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

/*
 * XFS answers FIEMAP for regular files only; its own GETBMAPX maps
 * directories too.  Same extents, 512-byte units.
 */
static int getbmapx_fork(struct dg_fiemap *w, int fd, uint64_t ino, unsigned int oflags,
			 const char *path, bool xattr)
{
	struct getbmapx *bmv;
	int rc = 0;

	bmv = calloc(FIEMAP_BATCH + 1, sizeof(*bmv));
	if (!bmv)
		return -ENOMEM;
	/* not -1 ("to EOF"): directory leaf blocks live far past i_size */
	bmv[0].bmv_length = 1LL << 53;
	bmv[0].bmv_iflags = BMV_IF_NO_HOLES | BMV_IF_PREALLOC | (xattr ? BMV_IF_ATTRFORK : 0);
	for (;;) {
		int i;

		bmv[0].bmv_count = FIEMAP_BATCH + 1;
		if (ioctl(fd, XFS_IOC_GETBMAPX, bmv) < 0 || !bmv[0].bmv_entries)
			break;
		for (i = 1; i <= bmv[0].bmv_entries && !rc; i++) {
			struct fiemap_extent fe = {
				.fe_logical = (uint64_t)bmv[i].bmv_offset << 9,
				.fe_physical = (uint64_t)bmv[i].bmv_block << 9,
				.fe_length = (uint64_t)bmv[i].bmv_length << 9,
			};

			if (bmv[i].bmv_block < 0) /* hole or delalloc */
				continue;
			if (bmv[i].bmv_oflags & BMV_OF_PREALLOC)
				fe.fe_flags |= FIEMAP_EXTENT_UNWRITTEN;
			if (bmv[i].bmv_oflags & BMV_OF_SHARED)
				fe.fe_flags |= FIEMAP_EXTENT_SHARED;
			rc = extent_hits(w, &fe, ino, oflags | (xattr ? DG_OWNER_ATTR_FORK : 0),
					 path);
		}
		/* the header now says where the next call starts */
		if (rc || (bmv[bmv[0].bmv_entries].bmv_oflags & BMV_OF_LAST) ||
		    bmv[0].bmv_entries < FIEMAP_BATCH)
			break;
	}
	free(bmv);
	return rc;
}

/* Map one fork of an open file; record every extent that meets a range. */
int dg_fiemap_fork(struct dg_fiemap *w, int fd, uint64_t ino, const uint32_t *gen,
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
		w->gen = gen;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
			if (!strcmp(w->fs->type, "xfs"))
				return getbmapx_fork(w, fd, ino, oflags, path, xattr);
			return 0; /* no FIEMAP here */
		}
		for (i = 0; i < fm->fm_mapped_extents; i++) {
			const struct fiemap_extent *fe = &fm->fm_extents[i];

			if (fe->fe_flags & FIEMAP_EXTENT_LAST)
				last = true;
			/* not on the device (yet), or not block aligned */
			if (fe->fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |
					    FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_DATA_TAIL))
				continue;
			rc = extent_hits(w, fe, ino, oflags | (xattr ? DG_OWNER_ATTR_FORK : 0),
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
static int fiemap_file(struct dg_fiemap *w, int fd, uint64_t ino, unsigned int oflags,
		       const char *path)
{
	int rc = dg_fiemap_fork(w, fd, ino, NULL, oflags, path, false);

	return rc ? rc : dg_fiemap_fork(w, fd, ino, NULL, oflags, path, true);
}

static int fiemap_walk_fn(void *arg, int dirfd, const char *name, const char *relpath, size_t len,
			  unsigned char type, uint64_t ino)
{
	struct dg_fiemap *w = arg;
	char *path;
	int fd, rc;

	if (type != DT_REG && type != DT_DIR)
		return 0;
	fd = openat(dirfd, name,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME |
			    (type == DT_DIR ? O_DIRECTORY : O_NONBLOCK));
	if (fd < 0 && errno == EPERM)
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		/*
		 * Not one that is gone or replaced meanwhile: a file whose
		 * owners we cannot know (a directory is counted by the walk,
		 * which cannot open it either).
		 */
		if (type == DT_REG && errno != ENOENT && errno != ELOOP)
			w->unopened++;
		return 0;
	}
	/*
	 * Any length: the walk goes beyond PATH_MAX.  None for a filesystem
	 * reached through another namespace: no path of ours leads there.
	 */
	path = NULL;
	if (w->fs->root_path &&
	    asprintf(&path, "%s%s", strcmp(w->fs->root_path, "/") ? w->fs->root_path : "",
		     relpath) < 0) {
		close(fd);
		return -ENOMEM;
	}
	rc = fiemap_file(w, fd, ino, type == DT_DIR ? DG_OWNER_DIRECTORY : 0, path);
	free(path);
	close(fd);
	return rc;
}

/*
 * A file that is unlinked but still open has no name to walk to.  The
 * processes holding it do: open it again through /proc/PID/fd or
 * /proc/PID/map_files.
 */
static void fiemap_try_proc_file(struct dg_fiemap *w, const char *path)
{
	struct stat st;
	int fd;

	if (stat(path, &st) < 0 || st.st_dev != w->fs->devnum || st.st_nlink != 0 ||
	    !S_ISREG(st.st_mode) || seen_ino(w, st.st_ino))
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	if (fiemap_file(w, fd, st.st_ino, DG_OWNER_UNLINKED, NULL) == 0 && !seen_ino(w, st.st_ino))
		mark_seen(w, st.st_ino);
	close(fd);
}

void dg_fiemap_unlinked(struct dg_fiemap *w)
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
			snprintf(path, sizeof(path), "/proc/%s/fd/%s", de->d_name, fde->d_name);
			fiemap_try_proc_file(w, path);
		}
		if (dir)
			closedir(dir);
		snprintf(path, sizeof(path), "/proc/%s/map_files", de->d_name);
		dir = opendir(path);
		while (dir && (fde = readdir(dir))) {
			if (fde->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/proc/%s/map_files/%s", de->d_name,
				 fde->d_name);
			fiemap_try_proc_file(w, path);
		}
		if (dir)
			closedir(dir);
	}
	closedir(proc);
}

struct dg_fiemap *dg_fiemap_new(struct dg_fs *fs, const struct dg_fs_range *ranges, size_t nr,
				struct dg_result *res)
{
	struct dg_fiemap *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fs = fs;
	w->ranges = ranges;
	w->nr = nr;
	w->res = res;
	w->fm = malloc(sizeof(*w->fm) + FIEMAP_BATCH * sizeof(struct fiemap_extent));
	if (!w->fm) {
		free(w);
		return NULL;
	}
	return w;
}

void dg_fiemap_free(struct dg_fiemap *w)
{
	if (!w)
		return;
	dg_u64map_free(&w->seen);
	free(w->fm);
	free(w);
}

static int fiemap_rmap(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges, size_t nr,
		       struct dg_result *res)
{
	struct dg_fs_extents inuse = { 0 }, avail = { 0 }, gaps = { 0 };
	struct dg_claims claims = { 0 };
	struct dg_walk_stats ws = { 0 };
	struct dg_fiemap *w = dg_fiemap_new(fs, ranges, nr, res);
	bool xfs = !strcmp(fs->type, "xfs"), fsmap, damaged;
	uint64_t unopened;
	int rc;

	if (!w)
		return -ENOMEM;
	/* metadata and free space from GETFSMAP, where the fs has it */
	rc = dg_fsmap_query(fs, rootfd, ranges, nr, false, res, &inuse);
	/* damaged: some ranges GETFSMAP cannot tell: in use, for all we know */
	damaged = rc == 1;
	fsmap = rc >= 0;
	if (rc > 0)
		rc = 0;
	if (rc == -ENOTTY || rc == -EOPNOTSUPP || rc == -EINVAL || rc == -EPERM)
		rc = 0;
	if (!rc && xfs)
		rc = dg_xfs_static_owners(fs, rootfd, ranges, nr, &claims);
	if (!rc) {
		struct stat st;

		/* the root directory is no directory entry: map it first */
		if (fstat(rootfd, &st) == 0)
			rc = fiemap_file(w, rootfd, st.st_ino, DG_OWNER_DIRECTORY, fs->root_path);
	}
	if (!rc)
		rc = dg_walk(rootfd, fiemap_walk_fn, w, &ws);
	if (!rc)
		dg_fiemap_unlinked(w);
	unopened = w->unopened + ws.unopened;
	dg_fiemap_free(w);
	if (rc)
		goto out;
	if (unopened) {
		/* as non-root, mostly: what we cannot open may own anything */
		dg_result_warn(res,
			       "%s: fiemap: %" PRIu64
			       " %s could not be opened (no permission, or moved meanwhile): "
			       "the owners may be incomplete",
			       fs->devname, unopened,
			       unopened == 1 ? "file or directory" : "files or directories");
		res->incomplete = true;
	}
	if (!fsmap) {
		/* no way to tell used from free: the claims stand as they are */
		for (size_t i = 0; i < nr && !rc; i++)
			rc = dg_fs_extents_add(&avail, ranges[i].offset, ranges[i].length);
		if (!rc)
			rc = dg_claims_flush(&claims, fs, &avail, res);
		goto out;
	}
	/* XFS without rmapbt: its metadata, from the device where we can read it */
	rc = dg_fs_uncovered(fs, res, &inuse, &avail);
	if (!rc && xfs)
		rc = dg_xfs_metadata_claims(fs, rootfd, &avail, &claims);
	if (!rc)
		rc = dg_claims_flush(&claims, fs, &avail, res);
	if (!rc)
		rc = dg_fs_uncovered(fs, res, &inuse, &gaps);
	if (!rc)
		rc = dg_fs_report_unknown(fs, res, &gaps,
					  damaged  ? "no file owns (GETFSMAP fails on part)" :
					  unopened ? "no file it could open owns" :
						     "no file and no metadata it knows owns");
out:
	dg_claims_free(&claims);
	dg_fs_extents_free(&inuse);
	dg_fs_extents_free(&avail);
	dg_fs_extents_free(&gaps);
	return rc;
}

const struct dg_holder_ops dg_holder_fiemap = {
	.name = "fiemap",
	.rmap = fiemap_rmap,
};
