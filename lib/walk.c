// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One directory walk over a filesystem, never crossing into another mount:
 * the shared engine of path resolution and of the FIEMAP backend.
 *
 * Every directory is opened relative to its parent's descriptor (openat),
 * never by its full path, so a tree of any depth is walked: a path longer
 * than PATH_MAX cannot be opened in one call, but each of its components
 * can.  The path is still built, as a string of any length, for the
 * callers to report.
 *
 * Keeping one open directory per level would run out of descriptors in a
 * deep tree, so at most WALK_OPEN_MAX levels stay open, the deepest ones
 * and the root.  A level closed on the way down remembers its place
 * (telldir) and its identity.  On the way back up it is opened again as
 * ".." of the child just finished or, failing that, component by
 * component from the nearest open level, checked to be the same directory
 * and read on from its place.  If it is not (the tree was renamed
 * meanwhile), the rest of it is skipped and counted.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"

#define WALK_OPEN_MAX 48

struct frame {
	DIR *dir; /* NULL while closed */
	long pos; /* telldir() when closed */
	dev_t dev;
	ino_t ino;
	size_t len; /* of the path up to this directory */
};

struct walk {
	struct frame *f;
	size_t nr, alloc, nr_open;
	char *path;
	size_t path_alloc;
	struct dg_walk_stats *stats;
};

static int path_room(struct walk *w, size_t len)
{
	char *p;
	size_t n;

	if (len < w->path_alloc)
		return 0;
	n = DG_MAX(w->path_alloc * 2, len + 256);
	p = realloc(w->path, n);
	if (!p)
		return -ENOMEM;
	w->path = p;
	w->path_alloc = n;
	return 0;
}

static int push(struct walk *w, DIR *dir, const struct stat *st, size_t len)
{
	size_t j;

	if (w->nr == w->alloc) {
		size_t n = w->alloc ? w->alloc * 2 : 64;
		struct frame *f = realloc(w->f, n * sizeof(*f));

		if (!f)
			return -ENOMEM;
		w->f = f;
		w->alloc = n;
	}
	w->f[w->nr++] =
		(struct frame){ .dir = dir, .dev = st->st_dev, .ino = st->st_ino, .len = len };
	w->nr_open++;
	if (w->nr_open <= WALK_OPEN_MAX)
		return 0;
	/* too many open: close the shallowest open level but the root */
	for (j = 1; j < w->nr - 1 && !w->f[j].dir; j++)
		;
	if (j < w->nr - 1) {
		w->f[j].pos = telldir(w->f[j].dir);
		closedir(w->f[j].dir);
		w->f[j].dir = NULL;
		w->nr_open--;
	}
	return 0;
}

/* Frame @j is open again on @fd if @fd is that very directory. */
static bool reopened(struct walk *w, size_t j, int fd)
{
	struct frame *f = &w->f[j];
	struct stat st;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || st.st_dev != f->dev || st.st_ino != f->ino ||
	    !(f->dir = fdopendir(fd))) {
		close(fd);
		return false;
	}
	seekdir(f->dir, f->pos);
	w->nr_open++;
	return true;
}

/* Open frame @j again, component by component from the nearest open one. */
static bool reopen_by_path(struct walk *w, size_t j)
{
	char name[NAME_MAX + 1];
	size_t k = j;
	int fd;

	while (k && !w->f[k - 1].dir)
		k--;
	if (!k)
		return false; /* the root is always open: not reached */
	fd = openat(dirfd(w->f[k - 1].dir), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (; fd >= 0 && k <= j; k++) {
		size_t s = w->f[k - 1].len + 1, n = w->f[k].len - s;
		int next;

		if (n > NAME_MAX) {
			close(fd);
			return false;
		}
		memcpy(name, w->path + s, n);
		name[n] = '\0';
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	return reopened(w, j, fd);
}

/* The top frame is done: close it, and open its parent again if need be. */
static void pop(struct walk *w)
{
	struct frame *child = &w->f[w->nr - 1];

	if (w->nr > 1 && !w->f[w->nr - 2].dir)
		reopened(w, w->nr - 2,
			 openat(dirfd(child->dir), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
	closedir(child->dir);
	w->nr--;
	w->nr_open--;
}

int dg_walk(int rootfd, dg_walk_fn fn, void *arg, struct dg_walk_stats *stats)
{
	struct dg_walk_stats dummy;
	struct walk w = { .stats = stats ? stats : &dummy };
	struct stat st;
	DIR *dir;
	int fd, rc = 0;

	memset(w.stats, 0, sizeof(*w.stats));
	if (fstat(rootfd, &st) < 0)
		return -errno;
	fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -ENOMEM;
	}
	rc = path_room(&w, 1);
	if (!rc) {
		w.path[0] = '\0';
		rc = push(&w, dir, &st, 0);
	}
	if (rc) {
		closedir(dir);
		free(w.path);
		return rc;
	}
	while (w.nr && !rc) {
		struct frame *top = &w.f[w.nr - 1];
		struct dirent *de;
		const char *name;
		unsigned char type;
		size_t nlen, len;
		int sub;

		if (!top->dir && !reopen_by_path(&w, w.nr - 1)) {
			/* renamed or removed under us: the rest of it is lost */
			w.stats->unopened++;
			w.stats->moved++;
			w.nr--;
			continue;
		}
		de = readdir(top->dir);
		if (!de) {
			pop(&w);
			continue;
		}
		name = de->d_name;
		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		nlen = strlen(name);
		len = top->len + 1 + nlen;
		rc = path_room(&w, len + 1);
		if (rc)
			break;
		w.path[top->len] = '/';
		memcpy(w.path + top->len + 1, name, nlen + 1);

		type = de->d_type;
		if (type == DT_UNKNOWN) {
			if (fstatat(dirfd(top->dir), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR :
			       S_ISREG(st.st_mode) ? DT_REG :
						     DT_UNKNOWN;
		}
		rc = fn(arg, dirfd(top->dir), name, w.path, len, type, de->d_ino);
		if (rc > 0) { /* skip this one */
			rc = 0;
			continue;
		}
		if (rc || type != DT_DIR)
			continue;
		sub = openat(dirfd(top->dir), name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0) {
			if (errno != ENOENT) /* removed meanwhile: nothing lost */
				w.stats->unopened++;
			continue;
		}
		/* stay on this filesystem: skip mountpoints */
		if (fstat(sub, &st) < 0 || st.st_dev != w.f[0].dev) {
			close(sub);
			continue;
		}
		dir = fdopendir(sub);
		if (!dir) {
			close(sub);
			rc = -ENOMEM;
			break;
		}
		rc = push(&w, dir, &st, len);
		if (rc)
			closedir(dir);
	}
	for (; w.nr; w.nr--)
		if (w.f[w.nr - 1].dir)
			closedir(w.f[w.nr - 1].dir);
	free(w.f);
	free(w.path);
	return rc;
}
