// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One directory walk over a filesystem, never crossing into another mount:
 * the shared engine of path resolution and of the FIEMAP backend.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

#include "private.h"

static int walk_dir(int fd, dev_t dev, char *path, size_t len, dg_walk_fn fn, void *arg)
{
	DIR *dir = fdopendir(fd);
	struct dirent *de;
	int rc = 0;

	if (!dir) {
		close(fd);
		return 0;
	}
	while (!rc && (de = readdir(dir))) {
		const char *name = de->d_name;
		unsigned char type = de->d_type;
		size_t nlen = strlen(name);

		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		if (len + 1 + nlen >= PATH_MAX)
			continue;
		path[len] = '/';
		memcpy(path + len + 1, name, nlen + 1);

		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR :
			       S_ISREG(st.st_mode) ? DT_REG :
						     DT_UNKNOWN;
		}
		rc = fn(arg, fd, name, path, len + 1 + nlen, type, de->d_ino);
		if (rc > 0) /* skip this one */
			rc = 0;
		else if (!rc && type == DT_DIR) {
			struct stat st;
			int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0)
				continue;
			/* stay on this filesystem: skip mountpoints */
			if (fstat(sub, &st) < 0 || st.st_dev != dev) {
				close(sub);
				continue;
			}
			rc = walk_dir(sub, dev, path, len + 1 + nlen, fn, arg);
		}
	}
	path[len] = '\0';
	closedir(dir);
	return rc;
}

int dg_walk(int rootfd, dg_walk_fn fn, void *arg)
{
	char path[PATH_MAX] = "";
	struct stat st;
	int fd;

	if (fstat(rootfd, &st) < 0)
		return -errno;
	fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	return walk_dir(fd, st.st_dev, path, 0, fn, arg);
}
