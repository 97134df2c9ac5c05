// SPDX-License-Identifier: GPL-2.0-or-later
/* The u64 map: what goes in comes out, through growth and collisions. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

#include "util/util.h"

#include "check.h"

#define N 20000

static char vals[N];

/* runs, strides of a power of two (same low bits), and huge numbers */
static uint64_t key_of(size_t i)
{
	switch (i % 3) {
	case 0:
		return i;
	case 1:
		return (uint64_t)i << 20;
	default:
		return UINT64_MAX - i;
	}
}

int main(void)
{
	struct dg_u64map m = { 0 };
	size_t i;

	CHECK(dg_u64map_get(&m, 1) == NULL, "empty map: found 1");
	CHECK(dg_u64map_put(&m, 1, NULL) == -EINVAL, "empty map: stored NULL");
	for (i = 0; i < N; i++)
		CHECK(dg_u64map_put(&m, key_of(i), &vals[i]) == 0, "put %zu failed", i);
	CHECK(m.nr == N, "%zu entries, expected %d", m.nr, N);
	for (i = 0; i < N; i++)
		CHECK(dg_u64map_get(&m, key_of(i)) == &vals[i], "key %" PRIu64 ": wrong value",
		      key_of(i));
	/* keys never put: just past each kind of run */
	CHECK(dg_u64map_get(&m, 3 * N) == NULL, "found %d", 3 * N);
	CHECK(dg_u64map_get(&m, (uint64_t)(3 * N + 1) << 20) == NULL, "found a stride key");
	CHECK(dg_u64map_get(&m, UINT64_MAX - 3 * N - 2) == NULL, "found a huge key");
	/* replace: the count stays */
	CHECK(dg_u64map_put(&m, key_of(7), &vals[0]) == 0, "replace failed");
	CHECK(dg_u64map_get(&m, key_of(7)) == &vals[0], "replace: old value");
	CHECK(m.nr == N, "replace: %zu entries", m.nr);
	dg_u64map_free(&m);
	CHECK(m.nr == 0 && dg_u64map_get(&m, key_of(1)) == NULL, "freed map still answers");
	if (failures)
		fprintf(stderr, "%d failures\n", failures);
	return failures ? 1 : 0;
}
