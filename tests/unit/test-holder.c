// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The accounting every backend shares (lib/holder.c): the blocks GETFSMAP
 * says are in use, less what the owners found cover, is what must be
 * reported as unknown; claims read from the device fill only what is
 * left, the first claim winning.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/private.h"

#include "check.h"

static void add(struct dg_fs_extents *x, uint64_t off, uint64_t len)
{
	CHECK(dg_fs_extents_add(x, off, len) == 0, "add %" PRIu64 "+%" PRIu64, off, len);
}

static bool is(const struct dg_fs_extents *x, size_t n, const uint64_t *v)
{
	size_t i;

	if (x->nr != n)
		return false;
	for (i = 0; i < n; i++)
		if (x->v[i].offset != v[2 * i] || x->v[i].length != v[2 * i + 1])
			return false;
	return true;
}

static void owner(struct dg_result *res, struct dg_fs *fs, enum dg_owner_type type, uint64_t off,
		  uint64_t len)
{
	struct dg_owner o = { .type = type, .offset = off, .length = len };

	CHECK(dg_result_add_owner(res, fs, &o), "no memory");
}

int main(void)
{
	struct dg_fs fs = { .devname = "/dev/test", .type = "xfs" };
	struct dg_result res = { 0 };
	struct dg_fs_extents x = { 0 }, gaps = { 0 };
	struct dg_claims c = { 0 };
	struct dg_owner *o;
	const char *w;
	size_t n;

	res.owners_tail = &res.owners;
	res.users_tail = &res.users;
	res.warnings_tail = &res.warnings;

	/* in order, touching ones merge */
	add(&x, 0, 10);
	add(&x, 10, 5);
	add(&x, 20, 5);
	add(&x, 22, 10);
	CHECK(is(&x, 2, (uint64_t[]){ 0, 15, 20, 12 }), "in order: %zu extents", x.nr);
	/* out of order (overlapping GETFSMAP records): merged in place */
	add(&x, 16, 2);
	CHECK(is(&x, 3, (uint64_t[]){ 0, 15, 16, 2, 20, 12 }), "inserted: %zu extents", x.nr);
	add(&x, 14, 3);
	CHECK(is(&x, 2, (uint64_t[]){ 0, 18, 20, 12 }), "out of order: %zu extents", x.nr);
	add(&x, 5, 20);
	CHECK(is(&x, 1, (uint64_t[]){ 0, 32 }), "one that spans them all: %zu extents", x.nr);
	CHECK(dg_fs_extents_bytes(&x) == 32, "bytes");
	dg_fs_extents_free(&x);

	/* in use: [0, 100) and [200, 300); owners cover some of it */
	add(&x, 0, 100);
	add(&x, 200, 100);
	owner(&res, &fs, DG_OWNER_FILE, 10, 20);
	owner(&res, &fs, DG_OWNER_FILE, 25, 10); /* overlaps the first */
	owner(&res, &fs, DG_OWNER_METADATA, 90, 120); /* spans the hole */
	owner(&res, &fs, DG_OWNER_FILE, 250, 10);
	CHECK(dg_fs_uncovered(&fs, &res, &x, &gaps) == 0 &&
		      is(&gaps, 4, (uint64_t[]){ 0, 10, 35, 55, 210, 40, 260, 40 }),
	      "uncovered: %zu extents", gaps.nr);

	/* claims: clipped to what is left, the first one made wins */
	dg_claims_add(&c, &(struct dg_owner){ .type = DG_OWNER_METADATA,
					      .metadata = "a",
					      .offset = 0,
					      .length = 50 });
	dg_claims_add(&c, &(struct dg_owner){ .type = DG_OWNER_METADATA,
					      .metadata = "b",
					      .offset = 40,
					      .length = 30 });
	dg_claims_add(&c, &(struct dg_owner){ .type = DG_OWNER_FILE,
					      .ino = 7,
					      .flags = DG_OWNER_EXTENT_MAP,
					      .offset = 400,
					      .length = 10 });
	n = res.nr_owners;
	CHECK(dg_claims_flush(&c, &fs, &gaps, &res) == 0 && !c.nr, "flush");
	/* a: [0,10) and [35,50); b: [50,70); nothing at 400 (not in use) */
	CHECK(res.nr_owners == n + 3, "%zu owners from the claims", res.nr_owners - n);
	for (o = res.owners; o && n; o = o->next)
		n--;
	CHECK(o && o->offset == 0 && o->length == 10 && !strcmp(o->metadata, "a"), "claim a, 1");
	o = o ? o->next : NULL;
	CHECK(o && o->offset == 35 && o->length == 15 && !strcmp(o->metadata, "a"), "claim a, 2");
	o = o ? o->next : NULL;
	CHECK(o && o->offset == 50 && o->length == 20 && !strcmp(o->metadata, "b"), "claim b");
	dg_fs_extents_free(&gaps);

	/* what is left is unknown, and said so */
	CHECK(dg_fs_uncovered(&fs, &res, &x, &gaps) == 0 &&
		      is(&gaps, 3, (uint64_t[]){ 70, 20, 210, 40, 260, 40 }),
	      "left: %zu extents", gaps.nr);
	n = res.nr_owners;
	CHECK(dg_fs_report_unknown(&fs, &res, &gaps, "nobody owns") == 0 && res.nr_owners == n + 3,
	      "unknown owners");
	w = dg_warning_get_first(&res);
	CHECK(w && strstr(w, "/dev/test") && strstr(w, "nobody owns") && strstr(w, "unknown"),
	      "warning: %s", w ? w : "(none)");
	dg_fs_extents_free(&gaps);
	CHECK(dg_fs_uncovered(&fs, &res, &x, &gaps) == 0 && !gaps.nr, "nothing left");
	dg_fs_extents_free(&gaps);
	dg_fs_extents_free(&x);

	res.ranges = NULL;
	res.target = NULL;
	{
		struct dg_result *r = malloc(sizeof(*r));

		*r = res;
		dg_result_free(r);
	}
	if (failures)
		fprintf(stderr, "%d failure(s)\n", failures);
	else
		printf("ok\n");
	return failures ? 1 : 0;
}
