// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * watch's memory of what it handled, so that nothing is acted on twice:
 * after a restart, a crash or a reboot, a range already handled is not
 * handled again.
 *
 * One file per device identity (a namespace's UUID, a loop device's
 * backing file: not its name, which the next boot may give to another
 * device), in the kernel's badblocks format, so that an operator reads it
 * as he reads /sys/block/pmem0/badblocks and the library's parser reads
 * it back.  Each is written whole to a temporary file, fsynced and
 * renamed over the old one, and the directory fsynced: a crash leaves
 * the old list or the new one, never half of one.  A lock on the
 * directory keeps a second daemon from sharing it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "watch.h"
#include "util/util.h"

struct watch_state {
	char *dir;
	int dirfd;
	int lockfd;
};

int watch_state_open(const char *dir, struct watch_state **out, char *why, size_t size)
{
	struct watch_state *st = calloc(1, sizeof(*st));
	char buf[32];
	int rc;

	if (!st)
		return -ENOMEM;
	st->dirfd = st->lockfd = -1;
	st->dir = strdup(dir);
	if (!st->dir) {
		rc = -ENOMEM;
		goto err;
	}
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		snprintf(why, size, "%s: cannot make the state directory: %s", dir,
			 strerror(errno));
		goto err;
	}
	/* whoever can write here can make the daemon forget, and act again */
	rc = dg_path_root_only(dir, why, size);
	if (rc) {
		if (rc != -EPERM)
			snprintf(why, size, "%s: %s", dir, strerror(-rc));
		goto err;
	}
	st->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (st->dirfd < 0) {
		rc = -errno;
		snprintf(why, size, "%s: %s", dir, strerror(errno));
		goto err;
	}
	st->lockfd = openat(st->dirfd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (st->lockfd < 0) {
		rc = -errno;
		snprintf(why, size, "%s/.lock: %s", dir, strerror(errno));
		goto err;
	}
	if (flock(st->lockfd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = pread(st->lockfd, buf, sizeof(buf) - 1, 0);

		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
		snprintf(why, size, "%s: another daxguard watch (pid %s) keeps its state here", dir,
			 buf[0] ? buf : "?");
		goto err;
	}
	snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(st->lockfd, 0) < 0 || pwrite(st->lockfd, buf, strlen(buf), 0) < 0) {
		/* the pid is for the message above: the lock is what counts */
	}
	*out = st;
	return 0;
err:
	watch_state_close(st);
	return rc;
}

void watch_state_close(struct watch_state *st)
{
	if (!st)
		return;
	if (st->lockfd >= 0)
		close(st->lockfd);
	if (st->dirfd >= 0)
		close(st->dirfd);
	free(st->dir);
	free(st);
}

/*
 * "uuid:5c1f..." to "uuid%3a5c1f....handled": letters, digits, '.', '-'
 * and '_' stay, the rest is %XX.  A name too long for a directory entry
 * keeps its start and gets a hash of the whole.
 */
static char *file_name(const char *identity)
{
	char buf[NAME_MAX + 1];
	size_t n = 0;
	const char *c;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (c = identity; *c; c++) {
		unsigned char ch = (unsigned char)*c;

		h = (h ^ ch) * 0x100000001b3ULL;
		if (n + 4 >= 200)
			continue;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_')
			buf[n++] = (char)ch;
		else
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%%%02x", ch);
	}
	if (n + 4 >= 200)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "~%016" PRIx64, h);
	buf[n] = '\0';
	if (buf[0] == '.')
		buf[0] = '_'; /* never a hidden file, nor "." or ".." */
	char *out;

	return asprintf(&out, "%s.handled", buf) < 0 ? NULL : out;
}

char *watch_state_path(struct watch_state *st, const char *identity)
{
	char *name = file_name(identity), *path;

	if (!name || asprintf(&path, "%s/%s", st->dir, name) < 0)
		path = NULL;
	free(name);
	return path;
}

int watch_state_load(struct watch_state *st, const char *identity, struct dg_rangeset *set,
		     char *why, size_t size)
{
	char *name = file_name(identity);
	struct dg_range *r = NULL;
	size_t nr = 0, lineno, i;
	int fd, rc;

	if (!name)
		return -ENOMEM;
	fd = openat(st->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		rc = errno == ENOENT ? 0 : -errno;
		if (rc)
			snprintf(why, size, "%s/%s: %s", st->dir, name, strerror(errno));
		free(name);
		return rc;
	}
	rc = dg_read_badblocks(fd, &r, &nr, &lineno);
	close(fd);
	if (rc) {
		if (lineno)
			snprintf(why, size, "%s/%s:%zu: not a 'SECTOR COUNT' line", st->dir, name,
				 lineno);
		else
			snprintf(why, size, "%s/%s: %s", st->dir, name, strerror(-rc));
	}
	for (i = 0; !rc && i < nr; i++)
		rc = dg_rangeset_add(set, r[i].offset, r[i].length);
	free(r);
	free(name);
	return rc;
}

int watch_state_save(struct watch_state *st, const char *identity, const struct dg_rangeset *set,
		     char *why, size_t size)
{
	char *name = file_name(identity), *tmp = NULL;
	FILE *f = NULL;
	size_t i;
	int fd = -1, rc = 0;

	if (!name || asprintf(&tmp, ".%s.tmp", name) < 0) {
		free(name);
		return -ENOMEM;
	}
	fd = openat(st->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		goto out;
	}
	fprintf(f, "# daxguard watch: ranges handled on %s, never acted on again\n", identity);
	fprintf(f, "# SECTOR COUNT, 512-byte sectors, as /sys/block/*/badblocks\n");
	for (i = 0; i < set->nr; i++) {
		/* whole sectors, rounded outwards: every range we make is */
		uint64_t s = set->s[i].start >> 9, e = (set->s[i].end + 511) >> 9;

		fprintf(f, "%" PRIu64 " %" PRIu64 "\n", s, e - s);
	}
	if (fflush(f) || ferror(f) || fsync(fd) < 0) {
		rc = -errno;
		goto out;
	}
	if (renameat(st->dirfd, tmp, st->dirfd, name) < 0 || fsync(st->dirfd) < 0)
		rc = -errno;
out:
	if (f)
		fclose(f);
	else if (fd >= 0)
		close(fd);
	if (rc) {
		snprintf(why, size, "%s/%s: cannot write: %s", st->dir, name, strerror(-rc));
		unlinkat(st->dirfd, tmp, 0);
	}
	free(tmp);
	free(name);
	return rc;
}
