// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Holder backends: the user-space ->notify_failure.  Each filesystem kind
 * answers "who owns these device ranges" its own way; this file picks the
 * best that applies, or the one the caller forced.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <xfs/xfs.h>

#include "private.h"

static bool xfs_has_rmapbt(int rootfd)
{
	struct xfs_fsop_geom geo;

	return ioctl(rootfd, XFS_IOC_FSGEOMETRY, &geo) == 0 &&
	       (geo.flags & XFS_FSOP_GEOM_FLAGS_RMAPBT);
}

static const struct dg_holder_ops *const holders[] = {
	&dg_holder_xfs_rmapbt,
	&dg_holder_xfs_bulkstat,
	&dg_holder_ext4,
	&dg_holder_fiemap,
};

DG_EXPORT const char *dg_rmap_name(unsigned int i)
{
	return i < ARRAY_SIZE(holders) ? holders[i]->name : NULL;
}

static bool holder_applies(const struct dg_holder_ops *h, struct dg_fs *fs, int rootfd)
{
	if (h == &dg_holder_xfs_rmapbt)
		return !strcmp(fs->type, "xfs") && xfs_has_rmapbt(rootfd);
	if (h == &dg_holder_xfs_bulkstat)
		return !strcmp(fs->type, "xfs");
	if (h == &dg_holder_ext4)
		return !strcmp(fs->type, "ext4") || !strcmp(fs->type, "ext3") ||
		       !strcmp(fs->type, "ext2");
	return true; /* fiemap: anything that answers FIEMAP */
}

int dg_holder_probe(struct dg_fs *fs, int rootfd, const struct dg_holder_ops **ops)
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
			return dg_fail(
				t->ctx, -EOPNOTSUPP,
				"%s: the %s reverse map does not apply to this %s filesystem",
				fs->devname, t->rmap, fs->type);
	}
	return dg_fail(t->ctx, -EINVAL, "%s: no reverse map named %s", fs->devname,
		       t->rmap ? t->rmap : "?");
}

DG_EXPORT int dg_target_set_rmap(struct dg_target *t, const char *name)
{
	size_t i;

	for (i = 0; name && i < ARRAY_SIZE(holders); i++)
		if (!strcmp(name, holders[i]->name))
			break;
	if (name && i == ARRAY_SIZE(holders))
		return dg_fail(
			t->ctx, -EINVAL,
			"%s: no reverse map named '%s' (xfs-rmapbt, xfs-bulkstat, ext4-libext2fs, fiemap)",
			name, name);
	free(t->rmap);
	t->rmap = name ? strdup(name) : NULL;
	return name && !t->rmap ? -ENOMEM : 0;
}

size_t dg_fs_range_first_after(const struct dg_fs_range *r, size_t nr, uint64_t pos)
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

/* ------------------------------------------------------------------ */
/*
 * What a backend must explain.  GETFSMAP names free space, and metadata
 * where the filesystem knows it; every other block it calls "unknown" (or,
 * on XFS with rmapbt, names a file).  Those blocks are in use: each must
 * end up with an owner the backend found, or be reported as unknown.
 * Never as nothing on the device, which is what an operator reads as "no
 * data there, nothing to do".
 */

/* Out of order (overlapping GETFSMAP records, reflink): merge it in. */
static int extents_insert(struct dg_fs_extents *x, uint64_t off, uint64_t len)
{
	size_t i = dg_fs_range_first_after(x->v, x->nr, off), k;
	uint64_t s = off, e = off + len;

	/* i: the first that ends after @off; those that touch merge */
	if (i > 0 && x->v[i - 1].offset + x->v[i - 1].length == off)
		i--;
	for (k = i; k < x->nr && x->v[k].offset <= e; k++) {
		s = DG_MIN(s, x->v[k].offset);
		e = DG_MAX(e, x->v[k].offset + x->v[k].length);
	}
	if (k == i) { /* merges with none: room for one more */
		if (x->nr == x->alloc) {
			size_t n = x->alloc ? x->alloc * 2 : 16;
			struct dg_fs_range *v = realloc(x->v, n * sizeof(*v));

			if (!v)
				return -ENOMEM;
			x->v = v;
			x->alloc = n;
		}
		memmove(&x->v[i + 1], &x->v[i], (x->nr - i) * sizeof(*x->v));
		x->nr++;
	} else if (k > i + 1) {
		memmove(&x->v[i + 1], &x->v[k], (x->nr - k) * sizeof(*x->v));
		x->nr -= k - i - 1;
	}
	x->v[i] = (struct dg_fs_range){ .offset = s, .length = e - s };
	return 0;
}

int dg_fs_extents_add(struct dg_fs_extents *x, uint64_t off, uint64_t len)
{
	struct dg_fs_range *last = x->nr ? &x->v[x->nr - 1] : NULL;

	if (!len)
		return 0;
	if (last && off < last->offset)
		return extents_insert(x, off, len);
	/* in order of offset, the usual case: merge what touches the last */
	if (last && off <= last->offset + last->length) {
		last->length = DG_MAX(last->offset + last->length, off + len) - last->offset;
		return 0;
	}
	if (x->nr == x->alloc) {
		size_t n = x->alloc ? x->alloc * 2 : 16;
		struct dg_fs_range *v = realloc(x->v, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		x->v = v;
		x->alloc = n;
	}
	x->v[x->nr++] = (struct dg_fs_range){ .offset = off, .length = len };
	return 0;
}

void dg_fs_extents_free(struct dg_fs_extents *x)
{
	free(x->v);
	*x = (struct dg_fs_extents){ 0 };
}

uint64_t dg_fs_extents_bytes(const struct dg_fs_extents *x)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < x->nr; i++)
		n += x->v[i].length;
	return n;
}

static int cmp_fs_range(const void *a, const void *b)
{
	const struct dg_fs_range *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* [s, e) of every part of @set that @covered (sorted, merged) leaves */
static int subtract(const struct dg_fs_extents *set, const struct dg_fs_range *covered, size_t nc,
		    struct dg_fs_extents *out)
{
	size_t i, j = 0;
	int rc;

	for (i = 0; i < set->nr; i++) {
		uint64_t s = set->v[i].offset, e = s + set->v[i].length;

		while (j < nc && covered[j].offset + covered[j].length <= s)
			j++;
		for (size_t k = j; s < e && k < nc && covered[k].offset < e; k++) {
			if (covered[k].offset > s) {
				rc = dg_fs_extents_add(out, s, covered[k].offset - s);
				if (rc)
					return rc;
			}
			s = DG_MAX(s, covered[k].offset + covered[k].length);
		}
		if (s < e) {
			rc = dg_fs_extents_add(out, s, e - s);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int dg_fs_uncovered(struct dg_fs *fs, struct dg_result *res, const struct dg_fs_extents *set,
		    struct dg_fs_extents *out)
{
	struct dg_fs_range *cov;
	struct dg_owner *o;
	size_t n = 0, m = 0, i;
	int rc;

	*out = (struct dg_fs_extents){ 0 };
	if (!set->nr)
		return 0;
	dg_owner_foreach(res, o)
		if (o->fs == fs && o->length)
			n++;
	cov = malloc(DG_MAX(n, (size_t)1) * sizeof(*cov));
	if (!cov)
		return -ENOMEM;
	dg_owner_foreach(res, o)
		if (o->fs == fs && o->length)
			cov[m++] = (struct dg_fs_range){ .offset = o->offset, .length = o->length };
	qsort(cov, m, sizeof(*cov), cmp_fs_range);
	/* merge in place: subtract() wants them apart */
	for (i = 1, n = m ? 1 : 0; i < m; i++) {
		struct dg_fs_range *l = &cov[n - 1];

		if (cov[i].offset <= l->offset + l->length)
			l->length = DG_MAX(l->offset + l->length, cov[i].offset + cov[i].length) -
				    l->offset;
		else
			cov[n++] = cov[i];
	}
	rc = subtract(set, cov, n, out);
	free(cov);
	if (rc)
		dg_fs_extents_free(out);
	return rc;
}

int dg_fs_report_unknown(struct dg_fs *fs, struct dg_result *res, const struct dg_fs_extents *gaps,
			 const char *why)
{
	char sz[32];
	size_t i;

	for (i = 0; i < gaps->nr; i++) {
		struct dg_owner o = {
			.type = DG_OWNER_UNKNOWN,
			.offset = gaps->v[i].offset,
			.length = gaps->v[i].length,
		};

		if (!dg_result_add_owner(res, fs, &o))
			return -ENOMEM;
	}
	if (gaps->nr)
		dg_result_warn(res, "%s: %s in use that %s (%s): reported as unknown", fs->devname,
			       dg_size_str(dg_fs_extents_bytes(gaps), sz, sizeof(sz)),
			       fs->holder ? fs->holder->name : "the reverse map", why);
	return 0;
}

/* ------------------------------------------------------------------ */
/*
 * Claims: owners read from the device (metadata, extent-map blocks),
 * which the kernel cannot confirm.  They only ever fill blocks that are in
 * use and that nothing the kernel said owns: a claim never overrides an
 * answer of the kernel's, and where two claims overlap (a corrupt device)
 * the first one made wins.
 */

struct claim {
	struct dg_owner o;
	size_t seq;
};

int dg_claims_add(struct dg_claims *c, const struct dg_owner *tmpl)
{
	if (!tmpl->length)
		return 0;
	if (c->nr == c->alloc) {
		size_t n = c->alloc ? c->alloc * 2 : 16;
		struct dg_owner *v = realloc(c->v, n * sizeof(*v));

		if (!v)
			return -ENOMEM;
		c->v = v;
		c->alloc = n;
	}
	c->v[c->nr++] = *tmpl;
	return 0;
}

void dg_claims_free(struct dg_claims *c)
{
	free(c->v);
	*c = (struct dg_claims){ 0 };
}

static int cmp_claim(const void *a, const void *b)
{
	const struct claim *x = a, *y = b;

	if (x->o.offset != y->o.offset)
		return x->o.offset < y->o.offset ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int dg_claims_flush(struct dg_claims *c, struct dg_fs *fs, const struct dg_fs_extents *avail,
		    struct dg_result *res)
{
	struct claim *v;
	uint64_t done = 0; /* every block below this has its claim */
	size_t i, a = 0;
	int rc = 0;

	if (!c->nr)
		return 0;
	v = malloc(c->nr * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < c->nr; i++)
		v[i] = (struct claim){ .o = c->v[i], .seq = i };
	qsort(v, c->nr, sizeof(*v), cmp_claim);
	for (i = 0; i < c->nr && !rc; i++) {
		uint64_t s = DG_MAX(v[i].o.offset, done), e = v[i].o.offset + v[i].o.length;

		if (s >= e)
			continue;
		done = e;
		/* sorted by offset: what lies before this claim is no more use */
		while (a < avail->nr && avail->v[a].offset + avail->v[a].length <= s)
			a++;
		for (size_t k = a; k < avail->nr && avail->v[k].offset < e; k++) {
			struct dg_owner o = v[i].o;
			uint64_t ps = DG_MAX(s, avail->v[k].offset);
			uint64_t pe = DG_MIN(e, avail->v[k].offset + avail->v[k].length);

			if (ps >= pe)
				continue;
			o.offset = ps;
			o.length = pe - ps;
			if (o.type == DG_OWNER_FILE &&
			    !(o.flags & (DG_OWNER_EXTENT_MAP | DG_OWNER_ATTR_FORK)))
				o.file_offset += ps - v[i].o.offset;
			if (!dg_result_add_owner(res, fs, &o)) {
				rc = -ENOMEM;
				break;
			}
		}
	}
	free(v);
	dg_claims_free(c);
	return rc;
}

/* ------------------------------------------------------------------ */

bool dg_fs_damaged(int rc)
{
	/* EUCLEAN is the kernel's EFSCORRUPTED; EIO, a device that fails */
	return rc == -EUCLEAN || rc == -EIO;
}

void dg_result_truncate(struct dg_result *res, struct dg_owner **tail)
{
	struct dg_owner *o, *next;

	for (o = *tail; o; o = next) {
		next = o->next;
		free(o->path);
		free(o);
		res->nr_owners--;
	}
	*tail = NULL;
	res->owners_tail = tail;
}

int dg_holder_fallback(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges, size_t nr,
		       struct dg_result *res, struct dg_owner **tail, int rc, const char *what)
{
	/* EPERM, EACCES: bulkstat and the device are root's; the walk is not */
	if (!dg_fs_damaged(rc) && rc != -EPERM && rc != -EACCES)
		return rc;
	/* what the failed backend found so far goes: the walk finds it again */
	dg_result_truncate(res, tail);
	dg_clear_error(fs->target->ctx);
	dg_result_warn(res, "%s: %s failed (%s): the owners are from a directory walk instead",
		       fs->devname, what, strerror(-rc));
	return dg_holder_fiemap.rmap(fs, rootfd, ranges, nr, res);
}
