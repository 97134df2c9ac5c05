// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * One daxguard at a time acts on a filesystem.
 *
 * Two flows on one device would take each other for users: a removal
 * sees the freeze guardian of a concurrent fail (it holds the root open),
 * SIGKILLs it along with that fail, and nobody thaws; then it unmounts the
 * frozen filesystem, whose superblock lives on, detached and frozen,
 * holding the device.  So a flow that changes anything first takes an
 * exclusive flock(2) on a file per device it touches (the target and each
 * filesystem's device: a partition, a device-mapper device), in device
 * number order, so two flows never wait for each other crosswise.
 *
 * The freeze guardian inherits the locks and keeps them until it exits:
 * if daxguard dies while it holds a freeze, nobody else can act on the
 * filesystem until the guardian has thawed it.  The lock files live in a
 * directory only root can write, so the pid written in one can be
 * believed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "private.h"

#define LOCK_WAIT_MS 2000 /* a guardian thaws and exits well within this */

static const char *lock_dir(void)
{
	const char *env = getenv("DAXGUARD_LOCK_DIR");

	return env && *env ? env : "/run/daxguard";
}

/* The directory, made if need be; refused unless only root can write it. */
static int open_lock_dir(struct dg_ctx *ctx)
{
	const char *dir = lock_dir();
	struct stat st;
	int fd;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return dg_fail(ctx, -errno, "%s: cannot make the lock directory: %s", dir,
			       strerror(errno));
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return dg_fail(ctx, -errno, "%s: %s", dir, strerror(errno));
	if (fstat(fd, &st) < 0 || st.st_uid != 0 || (st.st_mode & 0022)) {
		close(fd);
		return dg_fail(ctx, -EPERM,
			       "%s: the lock directory must belong to root and be writable by "
			       "root alone",
			       dir);
	}
	return fd;
}

static int cmp_dev(const void *a, const void *b)
{
	dev_t x = *(const dev_t *)a, y = *(const dev_t *)b;

	return x < y ? -1 : x > y;
}

/* The devices @t's flows touch, sorted, each once. */
static size_t lock_devices(struct dg_target *t, dev_t *devs, size_t max)
{
	struct dg_fs *fs;
	size_t n = 0, i, j;

	devs[n++] = t->devnum;
	dg_fs_foreach(t, fs)
		if (n < max && !fs->dax_ino)
			devs[n++] = fs->devnum;
	qsort(devs, n, sizeof(*devs), cmp_dev);
	for (i = j = 0; i < n; i++)
		if (!j || devs[i] != devs[j - 1])
			devs[j++] = devs[i];
	return j;
}

static int lock_one(struct dg_ctx *ctx, struct dg_target *t, int dirfd, dev_t dev)
{
	char name[32], buf[32];
	uint64_t start = dg_now_ms();
	int fd;

	snprintf(name, sizeof(name), "%u:%u", major(dev), minor(dev));
	fd = openat(dirfd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return dg_fail(ctx, -errno, "%s/%s: %s", lock_dir(), name, strerror(errno));
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n;
		long pid;

		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || dg_now_ms() - start >= LOCK_WAIT_MS) {
			int rc = -errno;

			n = pread(fd, buf, sizeof(buf) - 1, 0);
			buf[n > 0 ? n : 0] = '\0';
			pid = strtol(buf, NULL, 10);
			close(fd);
			if (rc != -EWOULDBLOCK)
				return dg_fail(ctx, rc, "%s/%s: %s", lock_dir(), name,
					       strerror(-rc));
			return dg_fail(ctx, -EBUSY,
				       "%s: another daxguard (pid %ld, or its freeze guardian) is "
				       "acting on it (lock %s/%s); run again when it is done",
				       t->devname, pid, lock_dir(), name);
		}
		nanosleep(&(struct timespec){ .tv_nsec = 50 * 1000000 }, NULL);
	}
	snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, strlen(buf), 0) < 0) {
		/* the pid is for messages only: the lock is what counts */
	}
	return fd;
}

int dg_lock_target(struct dg_target *t)
{
	struct dg_ctx *ctx = t->ctx;
	dev_t devs[ARRAY_SIZE(ctx->lock_fds)];
	size_t n, i;
	int dirfd;

	if (ctx->nr_lock_fds)
		return 0; /* held already, by this context */
	n = lock_devices(t, devs, ARRAY_SIZE(devs));
	dirfd = open_lock_dir(ctx);
	if (dirfd < 0)
		return dirfd;
	for (i = 0; i < n; i++) {
		int fd = lock_one(ctx, t, dirfd, devs[i]);

		if (fd < 0) {
			close(dirfd);
			dg_unlock_target(t);
			return fd;
		}
		ctx->lock_fds[ctx->nr_lock_fds++] = fd;
	}
	close(dirfd);
	return 0;
}

void dg_unlock_target(struct dg_target *t)
{
	struct dg_ctx *ctx = t->ctx;

	/* a guardian that still runs keeps its copies, and so the locks */
	while (ctx->nr_lock_fds)
		close(ctx->lock_fds[--ctx->nr_lock_fds]);
}
