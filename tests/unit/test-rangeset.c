// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The range set against a bitmap of the same bytes: random adds, and
 * every question (covers, missing, diff) asked of both, which must agree.
 * The set must stay sorted, merged and with no empty span throughout.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/rangeset.h"

#include "check.h"

#define SPACE 512

static bool well_formed(const struct dg_rangeset *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++) {
		if (s->s[i].start >= s->s[i].end)
			return false;
		/* merged: a gap of at least one byte between spans */
		if (i && s->s[i - 1].end >= s->s[i].start)
			return false;
	}
	return true;
}

static void to_bitmap(const struct dg_rangeset *s, bool *map)
{
	size_t i;
	uint64_t b;

	memset(map, 0, SPACE);
	for (i = 0; i < s->nr; i++)
		for (b = s->s[i].start; b < s->s[i].end; b++)
			map[b] = true;
}

int main(void)
{
	struct dg_rangeset a = { 0 }, b = { 0 }, out = { 0 };
	bool ma[SPACE], mb[SPACE], want[SPACE], got[SPACE];
	unsigned int seed = 42, round;
	uint64_t off, len, x;

	CHECK(dg_rangeset_add(&a, 5, 0) == -EINVAL, "an empty range was taken");
	CHECK(dg_rangeset_add(&a, UINT64_MAX, 2) == -EINVAL, "a wrapping range was taken");
	CHECK(!dg_rangeset_covers(&a, 0, 1), "the empty set covers something");
	/* adjacent ranges become one */
	dg_rangeset_add(&a, 0, 4096);
	dg_rangeset_add(&a, 8192, 4096);
	dg_rangeset_add(&a, 4096, 4096);
	CHECK(a.nr == 1 && a.s[0].start == 0 && a.s[0].end == 12288,
	      "adjacent ranges: %zu spans, first [%" PRIu64 ", %" PRIu64 ")", a.nr,
	      a.nr ? a.s[0].start : 0, a.nr ? a.s[0].end : 0);
	CHECK(dg_rangeset_covers(&a, 4000, 200), "a range across the joins is not covered");
	dg_rangeset_missing(&a, 10000, 4000, &out);
	CHECK(out.nr == 1 && out.s[0].start == 12288 && out.s[0].end == 14000,
	      "missing past the end: %zu spans", out.nr);
	dg_rangeset_clear(&a);
	dg_rangeset_clear(&out);

	for (round = 0; round < 2000; round++) {
		struct dg_rangeset *s = rand_r(&seed) % 2 ? &a : &b;

		if (round % 200 == 0) {
			dg_rangeset_clear(&a);
			dg_rangeset_clear(&b);
		}
		off = (uint64_t)(rand_r(&seed) % (SPACE - 1));
		len = 1 + (uint64_t)(rand_r(&seed) % (SPACE - off < 40 ? SPACE - off : 40));
		CHECK(dg_rangeset_add(s, off, len) == 0, "add %" PRIu64 "+%" PRIu64, off, len);
		CHECK(well_formed(s), "round %u: not sorted and merged", round);
		to_bitmap(&a, ma);
		to_bitmap(&b, mb);

		/* covers and missing, for a random query */
		off = (uint64_t)(rand_r(&seed) % (SPACE - 1));
		len = 1 + (uint64_t)(rand_r(&seed) % (SPACE - off));
		bool all = true;

		for (x = off; x < off + len; x++)
			all = all && ma[x];
		CHECK(dg_rangeset_covers(&a, off, len) == all,
		      "round %u: covers %" PRIu64 "+%" PRIu64 " said %d", round, off, len, !all);
		dg_rangeset_clear(&out);
		CHECK(dg_rangeset_missing(&a, off, len, &out) == 0, "missing failed");
		memset(want, 0, sizeof(want));
		for (x = off; x < off + len; x++)
			want[x] = !ma[x];
		to_bitmap(&out, got);
		CHECK(!memcmp(want, got, sizeof(want)), "round %u: missing %" PRIu64 "+%" PRIu64,
		      round, off, len);

		/* b minus a */
		dg_rangeset_clear(&out);
		CHECK(dg_rangeset_diff(&b, &a, &out) == 0, "diff failed");
		for (x = 0; x < SPACE; x++)
			want[x] = mb[x] && !ma[x];
		to_bitmap(&out, got);
		CHECK(!memcmp(want, got, sizeof(want)), "round %u: b - a differs", round);
		CHECK(well_formed(&out), "round %u: the difference is not merged", round);
		x = 0;
		for (size_t i = 0; i < SPACE; i++)
			x += want[i];
		CHECK(dg_rangeset_bytes(&out) == x, "round %u: %" PRIu64 " bytes, want %" PRIu64,
		      round, dg_rangeset_bytes(&out), x);
	}
	dg_rangeset_copy(&out, &a);
	CHECK(out.nr == a.nr && !memcmp(out.s, a.s, a.nr * sizeof(*a.s)), "copy differs");
	dg_rangeset_free(&a);
	dg_rangeset_free(&b);
	dg_rangeset_free(&out);
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
