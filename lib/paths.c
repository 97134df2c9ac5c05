// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Inode numbers to paths.  A reverse map gives inode numbers; operators
 * need names.  Two ways, cheapest first:
 *
 *  - XFS and ext4: open the inode by handle (XFS bulkstat gives the
 *    generation and link count; the ext4 inode scan gave them) and read
 *    the path the dentry cache already knows.  For a file
 *    that is mapped or open that dentry is always connected, so this is a
 *    fraction of a millisecond.  A cold inode gets a disconnected dentry
 *    ("/"), which we detect.
 *  - Everything left: one directory walk for the whole batch, matching
 *    d_ino, so the cost does not grow with the number of inodes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xfs/xfs.h>

#include "private.h"

/* Is @path the inode we asked for?  Guards against stale names. */
static bool path_is(const char *path, dev_t dev, uint64_t ino)
{
	struct stat st;

	return stat(path, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

/*
 * The handle the filesystem's export operations decode: XFS always takes
 * the 64-bit form, ext4 the generic 32-bit one.  The generation must be
 * right (ESTALE otherwise): bulkstat tells it on XFS, the inode table
 * scan on ext4.
 */
static int path_by_handle(struct dg_fs *fs, int rootfd, struct dg_owner *o)
{
	char link[64], path[PATH_MAX];
	ssize_t n;
	int fd, rc;

	if (!strcmp(fs->type, "xfs") && !o->has_gen) {
		struct xfs_bulkstat bs = { 0 };

		rc = dg_xfs_bulkstat_one(rootfd, o->ino, &bs);
		if (rc)
			return rc;
		if (bs.bs_nlink == 0)
			o->flags |= DG_OWNER_UNLINKED;
		if ((bs.bs_mode & S_IFMT) == S_IFDIR)
			o->flags |= DG_OWNER_DIRECTORY;
		o->gen = bs.bs_gen;
		o->has_gen = true;
	}
	if (!o->has_gen || (o->flags & DG_OWNER_UNLINKED))
		return -ENOENT;
	fd = dg_open_by_handle(fs, rootfd, o->ino, o->gen, O_PATH);
	if (fd < 0)
		return fd;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	close(fd);
	/* too long for one call (the walk finds those), or disconnected */
	if (n <= 1 || n >= (ssize_t)sizeof(path) - 1)
		return -ENOENT;
	path[n] = '\0';
	if (!path_is(path, fs->devnum, o->ino))
		return -ENOENT;
	o->path = strdup(path);
	return o->path ? 0 : -ENOMEM;
}

struct name_walk {
	struct dg_fs *fs;
	uint64_t *inos; /* sorted */
	char **paths;
	size_t nr, found;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int name_walk_fn(void *arg, int dirfd, const char *name, const char *relpath, size_t len,
			unsigned char type, uint64_t ino)
{
	struct name_walk *w = arg;
	uint64_t *hit = bsearch(&ino, w->inos, w->nr, sizeof(ino), cmp_u64);
	size_t i;

	if (!hit)
		return 0;
	i = (size_t)(hit - w->inos);
	if (w->paths[i])
		return 0; /* a second hard link: one name is enough */
	if (asprintf(&w->paths[i], "%s%s", strcmp(w->fs->root_path, "/") ? w->fs->root_path : "",
		     relpath) < 0) {
		w->paths[i] = NULL;
		return -ENOMEM;
	}
	return ++w->found == w->nr ? -ECANCELED : 0;
}

static int walk_for_names(struct dg_fs *fs, int rootfd, struct dg_result *res)
{
	struct name_walk w = { .fs = fs };
	struct dg_owner *o;
	size_t i, n = 0;
	int rc;

	dg_owner_foreach(res, o)
		if (o->fs == fs && o->type == DG_OWNER_FILE && !o->path &&
		    !(o->flags & DG_OWNER_UNLINKED))
			n++;
	if (!n || !fs->root_path)
		return 0;
	w.inos = malloc(n * sizeof(*w.inos));
	w.paths = calloc(n, sizeof(*w.paths));
	if (!w.inos || !w.paths) {
		rc = -ENOMEM;
		goto out;
	}
	dg_owner_foreach(res, o)
		if (o->fs == fs && o->type == DG_OWNER_FILE && !o->path &&
		    !(o->flags & DG_OWNER_UNLINKED))
			w.inos[w.nr++] = o->ino;
	qsort(w.inos, w.nr, sizeof(*w.inos), cmp_u64);
	for (i = 1, n = 1; i < w.nr; i++)
		if (w.inos[i] != w.inos[n - 1])
			w.inos[n++] = w.inos[i];
	w.nr = n;

	/* the root directory itself is never a dirent */
	{
		struct stat st;
		uint64_t *hit;

		if (fstat(rootfd, &st) == 0 && (hit = bsearch(&(uint64_t){ st.st_ino }, w.inos,
							      w.nr, sizeof(uint64_t), cmp_u64))) {
			w.paths[hit - w.inos] = strdup(fs->root_path);
			w.found++;
		}
	}
	rc = w.found == w.nr ? 0 : dg_walk(rootfd, name_walk_fn, &w, NULL);
	if (rc == -ECANCELED)
		rc = 0;
	if (rc)
		goto out;
	dg_owner_foreach(res, o) {
		uint64_t *hit;

		if (o->fs != fs || o->type != DG_OWNER_FILE || o->path ||
		    (o->flags & DG_OWNER_UNLINKED))
			continue;
		hit = bsearch(&o->ino, w.inos, w.nr, sizeof(uint64_t), cmp_u64);
		if (hit && w.paths[hit - w.inos]) {
			o->path = strdup(w.paths[hit - w.inos]);
			if (!o->path) {
				rc = -ENOMEM;
				break;
			}
		}
	}
out:
	for (i = 0; w.paths && i < w.nr; i++)
		free(w.paths[i]);
	free(w.paths);
	free(w.inos);
	return rc;
}

int dg_paths_resolve(struct dg_fs *fs, int rootfd, struct dg_result *res)
{
	struct dg_owner *o, *prev = NULL;
	int rc;

	if (!strcmp(fs->type, "xfs") || !strncmp(fs->type, "ext", 3)) {
		dg_owner_foreach(res, o) {
			if (o->fs != fs || o->type != DG_OWNER_FILE || o->path ||
			    (o->flags & DG_OWNER_UNLINKED))
				continue;
			/* consecutive records of one file: one lookup */
			if (prev && prev->ino == o->ino) {
				o->flags |= prev->flags & (DG_OWNER_UNLINKED | DG_OWNER_DIRECTORY);
				if (prev->path && !(o->path = strdup(prev->path)))
					return -ENOMEM;
				prev = o;
				continue;
			}
			rc = path_by_handle(fs, rootfd, o);
			if (rc == -ENOMEM)
				return rc;
			prev = o;
		}
	}
	return walk_for_names(fs, rootfd, res);
}
