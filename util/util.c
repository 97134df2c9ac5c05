// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "util.h"

ssize_t dg_read_text(int dirfd, const char *path, char *buf, size_t size)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return n;
}

int dg_read_u64(int dirfd, const char *path, uint64_t *val)
{
	char buf[64], *end;
	ssize_t n = dg_read_text(dirfd, path, buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
}

int dg_read_fdinfo(int dirfd, const char *path, uint64_t *mnt_id, uint64_t *ino)
{
	char buf[1024];
	const char *m, *i;
	ssize_t n;

	n = dg_read_text(dirfd, path, buf, sizeof(buf));
	if (n < 0)
		return (int)n;
	/* each field starts a line; "pos:" is the first */
	m = strstr(buf, "\nmnt_id:");
	i = strstr(buf, "\nino:");
	if (!m || !i || sscanf(m + 8, "%" SCNu64, mnt_id) != 1 ||
	    sscanf(i + 5, "%" SCNu64, ino) != 1)
		return -ENODATA;
	return 0;
}

int dg_fdinfo_at(int procfd, int dirfd, const char *name, int flags, uint64_t *mnt_id,
		 uint64_t *ino)
{
	char path[64];
	int fd = dirfd, rc;

	if (*name) {
		fd = openat(dirfd, name, O_PATH | O_CLOEXEC | flags);
		if (fd < 0)
			return -errno;
	}
	snprintf(path, sizeof(path), "%sself/fdinfo/%d", procfd == AT_FDCWD ? "/proc/" : "", fd);
	rc = dg_read_fdinfo(procfd, path, mnt_id, ino);
	if (fd != dirfd)
		close(fd);
	return rc;
}

const char *dg_size_str(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned int u = 0;
	double v = (double)bytes;

	while (v >= 1024 && u < ARRAY_SIZE(units) - 1) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%" PRIu64 " B", bytes);
	else if (v == (uint64_t)v)
		snprintf(buf, size, "%.0f %s", v, units[u]);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
	return buf;
}

static size_t u64map_slot(uint64_t key, size_t cap)
{
	/* Fibonacci hashing: pids and inode numbers come in runs */
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 32) & (cap - 1);
}

void *dg_u64map_get(const struct dg_u64map *m, uint64_t key)
{
	size_t i;

	if (!m->cap)
		return NULL;
	for (i = u64map_slot(key, m->cap); m->vals[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key)
			return m->vals[i];
	return NULL;
}

static int u64map_grow(struct dg_u64map *m)
{
	struct dg_u64map n = { .cap = m->cap ? m->cap * 2 : 64 };
	size_t i;

	n.keys = calloc(n.cap, sizeof(*n.keys));
	n.vals = calloc(n.cap, sizeof(*n.vals));
	if (!n.keys || !n.vals) {
		dg_u64map_free(&n);
		return -ENOMEM;
	}
	for (i = 0; i < m->cap; i++)
		if (m->vals[i])
			dg_u64map_put(&n, m->keys[i], m->vals[i]);
	dg_u64map_free(m);
	*m = n;
	return 0;
}

int dg_u64map_put(struct dg_u64map *m, uint64_t key, void *val)
{
	size_t i;

	if (!val)
		return -EINVAL;
	if ((m->nr + 1) * 4 > m->cap * 3 && u64map_grow(m))
		return -ENOMEM;
	for (i = u64map_slot(key, m->cap); m->vals[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return 0;
		}
	m->keys[i] = key;
	m->vals[i] = val;
	m->nr++;
	return 0;
}

void dg_u64map_free(struct dg_u64map *m)
{
	free(m->keys);
	free(m->vals);
	m->keys = NULL;
	m->vals = NULL;
	m->cap = m->nr = 0;
}

bool dg_have_caps(const int *caps, size_t n)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };
	size_t i;

	if (syscall(SYS_capget, &hdr, data) < 0)
		return geteuid() == 0;
	for (i = 0; i < n; i++)
		if (!(data[caps[i] / 32].effective & (1U << (caps[i] % 32))))
			return false;
	return true;
}

static int root_only_one(const char *p, const struct stat *st, char *why, size_t size)
{
	if (st->st_uid != 0) {
		snprintf(why, size, "%s: belongs to uid %u, not to root", p,
			 (unsigned int)st->st_uid);
		return -EPERM;
	}
	/* in a sticky directory only the owner (root) may replace root's file */
	if ((st->st_mode & 0022) && !(S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX))) {
		snprintf(why, size, "%s: writable by %s", p,
			 (st->st_mode & 0002) ? "anyone" : "its group");
		return -EPERM;
	}
	return 0;
}

/* every directory above @abs (absolute), then @abs itself */
static int root_only_chain(const char *abs, char *why, size_t size)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t i, n = strlen(abs);
	int rc;

	if (n >= sizeof(buf))
		return -ENAMETOOLONG;
	for (i = 1; i <= n; i++) {
		if (i < n && abs[i] != '/')
			continue;
		/* "/etc", then "/etc/daxguard", then the file */
		memcpy(buf, abs, i);
		buf[i] = '\0';
		if (stat(buf, &st) < 0) {
			if (errno == ENOENT && i == n)
				return -ENOENT;
			snprintf(why, size, "%s: %s", buf, strerror(errno));
			return -errno;
		}
		rc = root_only_one(buf, &st, why, size);
		if (rc)
			return rc;
	}
	return 0;
}

int dg_path_root_only(const char *path, char *why, size_t size)
{
	char abs[PATH_MAX], *real;
	struct stat st;
	int rc;

	snprintf(why, size, "%s", path);
	if (path[0] == '/') {
		if (snprintf(abs, sizeof(abs), "%s", path) >= (int)sizeof(abs))
			return -ENAMETOOLONG;
	} else {
		char cwd[PATH_MAX];

		if (!getcwd(cwd, sizeof(cwd)) ||
		    snprintf(abs, sizeof(abs), "%s/%s", cwd, path) >= (int)sizeof(abs))
			return -ENAMETOOLONG;
	}
	/* the root directory itself is checked first */
	if (stat("/", &st) < 0)
		return -errno;
	rc = root_only_one("/", &st, why, size);
	if (rc)
		return rc;
	rc = root_only_chain(abs, why, size);
	if (rc)
		return rc;
	real = realpath(abs, NULL);
	if (!real)
		return -errno;
	rc = strcmp(real, abs) ? root_only_chain(real, why, size) : 0;
	free(real);
	return rc;
}
