// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Badblocks lists as event sources: the kernel's (sysfs) and a file's.
 *
 * sysfs: the pmem driver and the nd region call sysfs_notify() on their
 * "badblocks" attributes when a scrub (ARS) or a machine check changes
 * the list, which wakes poll() with POLLPRI.  Not every platform
 * notifies, and a list written through sysfs by hand never does, so the
 * caller also calls dg_source_process() every so often: each look reads
 * the device's list whole and reports the ranges that were not in the
 * last one.  A region's list is in region offsets; a change there is
 * only a reason to read the device's own list again.
 *
 * file: a badblocks list that other tools feed (a job that exports CXL
 * media errors, an operator), on any block device.  Lines are appended,
 * or the file is replaced (a rename): inotify on its directory sees
 * both.  An appended line is read once; a replaced file is read from the
 * start, and only ranges not read from it before are new.  A line that
 * does not parse is named, by number, in the event's warnings, and the
 * rest is taken.  Only complete lines (ending with a newline) are read.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "private.h"
#include "util/rangeset.h"

/* ------------------------------------------------------------------ */
/* sysfs */

struct bb_sysfs {
	int dev_fd, region_fd;
	struct dg_rangeset last;
};

/* the ranges of a list that are not in @last: an event, and @last updated */
static int queue_new_ranges(struct dg_source *src, const struct dg_range *r, size_t nr,
			    struct dg_rangeset *last, bool initial)
{
	struct dg_rangeset cur = { 0 }, fresh = { 0 };
	struct dg_event *ev;
	size_t i;
	int rc = 0;

	for (i = 0; i < nr && !rc; i++)
		rc = dg_rangeset_add(&cur, r[i].offset, r[i].length);
	if (!rc)
		rc = dg_rangeset_diff(&cur, last, &fresh);
	if (!rc && fresh.nr) {
		ev = dg_event_new(src, DG_EVENT_BADBLOCKS);
		if (!ev)
			rc = -ENOMEM;
		for (i = 0; ev && i < fresh.nr && !rc; i++)
			rc = dg_event_add_range(ev, fresh.s[i].start,
						fresh.s[i].end - fresh.s[i].start);
		if (ev) {
			ev->initial = initial;
			if (rc)
				dg_event_free(ev);
			else
				dg_source_queue(src, ev);
		}
	}
	/* a range that left the list and comes back is new again */
	if (!rc)
		rc = dg_rangeset_copy(last, &cur);
	dg_rangeset_free(&cur);
	dg_rangeset_free(&fresh);
	return rc;
}

static int bb_sysfs_read(struct dg_source *src, bool initial)
{
	struct bb_sysfs *p = src->priv;
	struct dg_range *r = NULL;
	size_t nr = 0, lineno;
	const char *path = dg_device_bb_path(src->device);
	int rc;

	/* a read from the start is also what re-arms the notification */
	if (p->region_fd >= 0 && lseek(p->region_fd, 0, SEEK_SET) == 0) {
		char buf[4096];

		while (read(p->region_fd, buf, sizeof(buf)) > 0)
			;
	}
	if (lseek(p->dev_fd, 0, SEEK_SET) < 0)
		return dg_fail(src->ctx, -errno, "%s: %s", path, strerror(errno));
	rc = dg_read_badblocks(p->dev_fd, &r, &nr, &lineno);
	if (rc) {
		free(r);
		if (lineno)
			return dg_fail(src->ctx, rc, "%s:%zu: not a 'SECTOR COUNT' badblocks entry",
				       path, lineno);
		return dg_fail(src->ctx, rc, "%s: %s", path, strerror(-rc));
	}
	rc = queue_new_ranges(src, r, nr, &p->last, initial);
	free(r);
	return rc;
}

static int bb_sysfs_process(struct dg_source *src)
{
	struct epoll_event evs[4];

	/* which attribute woke us does not matter: the device's list is read */
	while (epoll_wait(src->fd, evs, 4, 0) > 0)
		;
	return bb_sysfs_read(src, false);
}

static void bb_sysfs_free(struct dg_source *src)
{
	struct bb_sysfs *p = src->priv;

	if (p->dev_fd >= 0)
		close(p->dev_fd);
	if (p->region_fd >= 0)
		close(p->region_fd);
	dg_rangeset_free(&p->last);
}

static const struct dg_source_ops bb_sysfs_ops = {
	.name = "badblocks",
	.process = bb_sysfs_process,
	.free = bb_sysfs_free,
};

DG_EXPORT int dg_source_badblocks_new(struct dg_device *dev, struct dg_source **out)
{
	struct dg_ctx *ctx = dg_device_ctx(dev);
	const char *path = dg_device_bb_path(dev), *rpath = dg_device_region_bb_path(dev);
	struct epoll_event e = { .events = EPOLLPRI };
	struct dg_source *src;
	struct bb_sysfs *p;
	int rc;

	if (!path)
		return dg_fail(ctx, -ENOENT, "%s: keeps no badblocks list in sysfs",
			       dg_device_get_devname(dev));
	rc = dg_source_alloc(ctx, &bb_sysfs_ops, sizeof(*p), &src);
	if (rc)
		return rc;
	p = src->priv;
	p->region_fd = -1;
	src->device = dev;
	src->fd = epoll_create1(EPOLL_CLOEXEC);
	p->dev_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (src->fd < 0 || p->dev_fd < 0) {
		rc = dg_fail(ctx, -errno, "%s: %s", path, strerror(errno));
		goto err;
	}
	if (epoll_ctl(src->fd, EPOLL_CTL_ADD, p->dev_fd, &e) < 0) {
		rc = dg_fail(ctx, -errno, "%s: cannot poll: %s", path, strerror(errno));
		goto err;
	}
	if (rpath) {
		/* the region is optional: the device's own list is what counts */
		p->region_fd = open(rpath, O_RDONLY | O_CLOEXEC);
		if (p->region_fd >= 0 && epoll_ctl(src->fd, EPOLL_CTL_ADD, p->region_fd, &e) < 0) {
			close(p->region_fd);
			p->region_fd = -1;
		}
	}
	rc = bb_sysfs_read(src, true);
	if (rc)
		goto err;
	*out = src;
	return 0;
err:
	dg_source_free(src);
	return rc;
}

/* ------------------------------------------------------------------ */
/* a file */

#define BB_FILE_CHUNK 65536

struct bb_file {
	char *dir, *name;
	dev_t dev;
	ino_t ino;
	off_t off; /* how far complete lines were read */
	size_t lineno; /* lines read so far */
	bool skipping; /* inside a line too long to be an entry */
	char refused[PATH_MAX + 64]; /* the last refusal said, not said again */
	struct dg_rangeset seen; /* every range this file gave */
	bool initial;
};

/* the complete lines of @buf: ranges into @ev, bad lines as its warnings */
static size_t take_lines(struct dg_source *src, struct bb_file *p, const char *buf, size_t len,
			 struct dg_rangeset *got, struct dg_event *ev)
{
	const char *s = buf, *end = buf + len;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		struct dg_range r;
		int rc;

		if (!nl)
			break;
		p->lineno++;
		if (p->skipping) {
			p->skipping = false;
			s = nl + 1;
			continue;
		}
		rc = dg_parse_badblocks_line(s, (size_t)(nl + 1 - s), &r);
		if (rc > 0) {
			rc = dg_rangeset_add(got, r.offset, r.length);
			if (rc)
				return (size_t)(s - buf); /* ENOMEM: read it again later */
		} else if (rc < 0) {
			/* the line is not shown: it may hold anything */
			dg_event_warn(ev, "%s:%zu: %s", src->path, p->lineno,
				      rc == -ERANGE ? "the range passes 64 bits" :
				      rc == -EILSEQ ? "a NUL byte inside the line" :
						      "not a 'SECTOR COUNT' badblocks entry "
						      "(512-byte sectors, decimal)");
		}
		s = nl + 1;
	}
	return (size_t)(s - buf);
}

static int bb_file_read(struct dg_source *src)
{
	struct bb_file *p = src->priv;
	struct dg_rangeset got = { 0 }, fresh = { 0 };
	struct dg_event *ev;
	char why[PATH_MAX + 64], *buf = NULL;
	struct stat st;
	size_t have = 0, i;
	int fd, rc = 0;

	ev = dg_event_new(src, DG_EVENT_BADBLOCKS);
	if (!ev)
		return -ENOMEM;
	ev->initial = p->initial;
	fd = open(src->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno != ENOENT)
			dg_event_warn(ev, "%s: cannot open: %s", src->path, strerror(errno));
		goto done;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		dg_event_warn(ev, "%s: not a regular file", src->path);
		goto done;
	}
	/*
	 * Whoever can write the list decides what daxguard acts on: the
	 * file must be root's alone, checked on the file we read.
	 */
	if (st.st_uid != 0 || (st.st_mode & 0022)) {
		snprintf(why, sizeof(why), "%s: refused: %s", src->path,
			 st.st_uid != 0 ? "it does not belong to root" :
					  "somebody other than root can write it");
		if (strcmp(why, p->refused))
			dg_event_warn(ev, "%s", why);
		snprintf(p->refused, sizeof(p->refused), "%s", why);
		goto done;
	}
	p->refused[0] = '\0';
	if (st.st_dev != p->dev || st.st_ino != p->ino || st.st_size < p->off) {
		/* replaced or truncated: read from the start */
		p->dev = st.st_dev;
		p->ino = st.st_ino;
		p->off = 0;
		p->lineno = 0;
		p->skipping = false;
	}
	buf = malloc(DG_BADBLOCKS_LINE_MAX + BB_FILE_CHUNK);
	if (!buf) {
		rc = -ENOMEM;
		goto done;
	}
	for (;;) {
		ssize_t n = pread(fd, buf + have, BB_FILE_CHUNK, p->off + (off_t)have);
		size_t used;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			dg_event_warn(ev, "%s: cannot read: %s", src->path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		have += (size_t)n;
		used = take_lines(src, p, buf, have, &got, ev);
		p->off += (off_t)used;
		memmove(buf, buf + used, have - used);
		have -= used;
		if (have > DG_BADBLOCKS_LINE_MAX) {
			/* no entry is this long: skip to its newline */
			p->lineno++;
			dg_event_warn(ev, "%s:%zu: a line longer than %d bytes", src->path,
				      p->lineno, DG_BADBLOCKS_LINE_MAX);
			p->lineno--;
			p->skipping = true;
			p->off += (off_t)have;
			have = 0;
		}
	}
done:
	if (fd >= 0)
		close(fd);
	free(buf);
	p->initial = false;
	if (!rc)
		rc = dg_rangeset_diff(&got, &p->seen, &fresh);
	for (i = 0; !rc && i < fresh.nr; i++) {
		rc = dg_event_add_range(ev, fresh.s[i].start, fresh.s[i].end - fresh.s[i].start);
		if (!rc)
			rc = dg_rangeset_add(&p->seen, fresh.s[i].start,
					     fresh.s[i].end - fresh.s[i].start);
	}
	dg_rangeset_free(&got);
	dg_rangeset_free(&fresh);
	if (rc || (!ev->nr_ranges && !ev->nr_warnings))
		dg_event_free(ev);
	else
		dg_source_queue(src, ev);
	return rc;
}

static int bb_file_process(struct dg_source *src)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct bb_file *p = src->priv;
	bool any = false, ours = false;
	ssize_t n;

	while ((n = read(src->fd, buf, sizeof(buf))) > 0) {
		const struct inotify_event *ie;
		char *c;

		any = true;
		for (c = buf; c < buf + n; c += sizeof(*ie) + ie->len) {
			ie = (const struct inotify_event *)c;
			if ((ie->mask & IN_Q_OVERFLOW) || (ie->len && !strcmp(ie->name, p->name)))
				ours = true;
		}
	}
	/*
	 * The directory's other files are none of our business; a call
	 * with no news at all is the caller's periodic look, which reads.
	 */
	if (any && !ours)
		return 0;
	return bb_file_read(src);
}

static void bb_file_free(struct dg_source *src)
{
	struct bb_file *p = src->priv;

	free(p->dir);
	free(p->name);
	dg_rangeset_free(&p->seen);
}

static const struct dg_source_ops bb_file_ops = {
	.name = "badblocks-file",
	.process = bb_file_process,
	.free = bb_file_free,
};

DG_EXPORT int dg_source_badblocks_file_new(struct dg_device *dev, const char *path,
					   struct dg_source **out)
{
	struct dg_ctx *ctx = dg_device_ctx(dev);
	char why[PATH_MAX + 64], *slash;
	struct dg_source *src;
	struct bb_file *p;
	int rc;

	rc = dg_path_root_only(path, why, sizeof(why));
	if (rc && rc != -ENOENT)
		return dg_fail(ctx, rc, rc == -EPERM ? "%s: refused: %s" : "%s: %s", path,
			       rc == -EPERM ? why : strerror(-rc));
	rc = dg_source_alloc(ctx, &bb_file_ops, sizeof(*p), &src);
	if (rc)
		return rc;
	p = src->priv;
	src->device = dev;
	src->path = strdup(path);
	if (!src->path) {
		rc = -ENOMEM;
		goto err;
	}
	slash = strrchr(src->path, '/');
	p->dir = slash ? strndup(src->path, slash == src->path ? 1 : (size_t)(slash - src->path)) :
			 strdup(".");
	p->name = strdup(slash ? slash + 1 : src->path);
	if (!p->dir || !p->name) {
		rc = -ENOMEM;
		goto err;
	}
	src->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (src->fd < 0) {
		rc = dg_fail(ctx, -errno, "%s: inotify: %s", path, strerror(errno));
		goto err;
	}
	/* the directory: a file replaced by a rename is a new inode */
	if (inotify_add_watch(src->fd, p->dir,
			      IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ATTRIB) <
	    0) {
		rc = dg_fail(ctx, -errno, "%s: cannot watch %s: %s", path, p->dir, strerror(errno));
		goto err;
	}
	p->initial = true;
	rc = bb_file_read(src);
	if (rc)
		goto err;
	*out = src;
	return 0;
err:
	dg_source_free(src);
	return rc;
}
