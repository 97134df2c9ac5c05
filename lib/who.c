// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * who: the read-only half of the pipeline, in the kernel's order:
 * dax_holder_notify_failure() finds the holder, the holder's
 * ->notify_failure walks its reverse map, collect_procs_fsdax() finds the
 * processes.  Nothing here changes the system.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>

#include "private.h"

static int cmp_range(const void *a, const void *b)
{
	const struct dg_range *x = a, *y = b;

	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	return 0;
}

/* Check, sort and merge the ranges; overlapping ones would double owners. */
int dg_normalize_ranges(struct dg_target *t, const struct dg_range *in, size_t nr,
			struct dg_range **out, size_t *nr_out)
{
	struct dg_ctx *ctx = t->ctx;
	struct dg_range *r;
	char sz[32];
	size_t i, n = 0;

	for (i = 0; i < nr; i++) {
		uint64_t end;

		if (!in[i].length)
			return dg_fail(ctx, -EINVAL,
				       "%s: range at offset %#" PRIx64 " has zero length",
				       t->devname, in[i].offset);
		if (__builtin_add_overflow(in[i].offset, in[i].length, &end))
			return dg_fail(ctx, -ERANGE,
				       "%s: offset %#" PRIx64 " + length %#" PRIx64
				       " overflows 64 bits",
				       t->devname, in[i].offset, in[i].length);
		if (in[i].offset >= t->size)
			return dg_fail(ctx, -ERANGE,
				       "%s: offset %#" PRIx64 " is past the end of the device (%s)",
				       t->devname, in[i].offset,
				       dg_size_str(t->size, sz, sizeof(sz)));
		if (end > t->size)
			return dg_fail(ctx, -ERANGE,
				       "%s: range %#" PRIx64 "+%#" PRIx64
				       " runs past the end of the device (%s)",
				       t->devname, in[i].offset, in[i].length,
				       dg_size_str(t->size, sz, sizeof(sz)));
	}
	r = malloc((nr ? nr : 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (nr)
		memcpy(r, in, nr * sizeof(*r));
	qsort(r, nr, sizeof(*r), cmp_range);
	for (i = 0; i < nr; i++) {
		if (n && r[i].offset <= r[n - 1].offset + r[n - 1].length) {
			uint64_t end = DG_MAX(r[n - 1].offset + r[n - 1].length,
					      r[i].offset + r[i].length);

			r[n - 1].length = end - r[n - 1].offset;
		} else {
			r[n++] = r[i];
		}
	}
	*out = r;
	*nr_out = n;
	return 0;
}

/*
 * A descriptor on the filesystem's root for the ioctls: through a mount of
 * its root, ours first, else one in another namespace (through a process
 * there).  Each is checked to be that mount (mount.c): what a path leads
 * to may have changed since the mount table was read.  -ESTALE when every
 * way now leads somewhere else.
 */
int dg_open_fs_root(struct dg_fs *fs)
{
	struct dg_mount *m;
	int rc = -ENOENT;

	for (int pass = 0; pass < 2; pass++) {
		dg_mount_foreach(fs, m) {
			int fd;

			/* ours first: no process in between */
			if (strcmp(m->root, "/") || m->local != (pass == 0))
				continue;
			fd = dg_mount_open(m, O_RDONLY);
			if (fd >= 0)
				return fd;
			if (rc != -ESTALE)
				rc = fd;
		}
	}
	return rc;
}

static bool may_rmap(void)
{
	const int caps[] = { CAP_SYS_ADMIN };

	return dg_have_caps(caps, ARRAY_SIZE(caps));
}

/* --no-paths: the walking backends learn paths for free; say none */
static void drop_paths(struct dg_result *res)
{
	struct dg_owner *o;

	dg_owner_foreach(res, o) {
		free(o->path);
		o->path = NULL;
	}
}

static int rmap_fs(struct dg_fs *fs, int rootfd, struct dg_result *res)
{
	struct dg_fs_range *fr;
	size_t n;
	int rc;

	fr = calloc(res->nr_ranges * fs->nr_pieces + 1, sizeof(*fr));
	if (!fr)
		return -ENOMEM;
	n = dg_fs_clip(fs, res->ranges, res->nr_ranges, fr);
	rc = n ? fs->holder->rmap(fs, rootfd, fr, n, res) : 0;
	free(fr);
	return rc;
}

DG_EXPORT int dg_who(struct dg_target *t, const struct dg_range *ranges, size_t nr_ranges,
		     unsigned int flags, struct dg_result **result)
{
	return dg_who_hooked(t, ranges, nr_ranges, flags, NULL, result);
}

int dg_who_hooked(struct dg_target *t, const struct dg_range *ranges, size_t nr_ranges,
		  unsigned int flags, const struct dg_collect_hook *hook, struct dg_result **result)
{
	struct dg_ctx *ctx = t->ctx;
	struct dg_result *res;
	struct dg_fs *fs;
	int rc;

	dg_clear_error(ctx);
	if (t->kmem && nr_ranges)
		return dg_fail(ctx, -EINVAL,
			       "%s: in system-ram mode: its memory is node %u's, which has no "
			       "device offsets to ask about; ask without a range",
			       t->devname, t->kmem->node);
	res = calloc(1, sizeof(*res));
	if (!res)
		return -ENOMEM;
	res->target = t;
	res->owners_tail = &res->owners;
	res->users_tail = &res->users;
	res->warnings_tail = &res->warnings;
	res->unreadable_tail = &res->unreadable;
	res->whole = nr_ranges == 0;
	res->no_paths = flags & DG_WHO_NO_PATHS;
	rc = dg_normalize_ranges(t, ranges, nr_ranges, &res->ranges, &res->nr_ranges);
	if (rc)
		goto err;

	/*
	 * A whole-device answer includes every namespace's mounts; a range
	 * query needs them only to reach a filesystem not mounted in ours.
	 */
	if (res->whole) {
		rc = dg_target_scan_namespaces(t);
	} else {
		rc = 0;
		dg_fs_foreach(t, fs)
			if (!fs->root_path)
				rc = dg_target_scan_namespaces(t);
	}
	if (rc)
		goto err;

	if (!res->whole) {
		dg_fs_foreach(t, fs) {
			int rootfd;

			if (fs->dax_ino) {
				/* device-dax: offsets are the users' own */
				rc = rmap_fs(fs, -1, res);
				if (rc)
					goto err;
				continue;
			}
			rootfd = dg_open_fs_root(fs);

			if (rootfd < 0) {
				dg_result_incomplete(res, "%s: not queried: %s", fs->devname,
						     dg_mount_error(rootfd));
				continue;
			}
			rc = fs->holder ? 0 : dg_holder_probe(fs, rootfd, &fs->holder);
			if (rc) {
				close(rootfd);
				goto err;
			}
			if (!t->rmap && fs->holder != &dg_holder_fiemap && !may_rmap()) {
				/*
				 * Without CAP_SYS_ADMIN, GETFSMAP hides every
				 * owner ("unknown"), bulkstat and the block
				 * device refuse: FIEMAP maps the files this
				 * user can open, and the answer says it is
				 * partial
				 */
				dg_result_incomplete(
					res,
					"%s: not root: the %s reverse map needs root; only "
					"files this user can open were mapped",
					fs->devname, fs->holder->name);
				fs->holder = &dg_holder_fiemap;
			}
			rc = rmap_fs(fs, rootfd, res);
			if (!rc && !(flags & DG_WHO_NO_PATHS))
				rc = dg_paths_resolve(fs, rootfd, res);
			else if (!rc)
				drop_paths(res);
			close(rootfd);
			if (rc) {
				if (!dg_get_error(ctx))
					dg_fail(ctx, rc, "%s: reverse map (%s) failed: %s",
						fs->devname, fs->holder->name, strerror(-rc));
				goto err;
			}
		}
		dg_result_sort_owners(res);
	}

	if (!(flags & DG_WHO_NO_USERS)) {
		rc = dg_users_collect(res, hook);
		if (rc) {
			rc = dg_fail(ctx, rc, "/proc: collecting users failed: %s", strerror(-rc));
			goto err;
		}
	}
	if (res->whole && !(flags & DG_WHO_NO_PATHS)) {
		dg_fs_foreach(t, fs) {
			int rootfd = fs->dax_ino ? -1 : dg_open_fs_root(fs);

			if (rootfd < 0)
				continue;
			rc = dg_paths_resolve(fs, rootfd, res);
			close(rootfd);
			if (rc)
				goto err;
		}
	}
	*result = res;
	return 0;
err:
	dg_result_free(res);
	return rc;
}
