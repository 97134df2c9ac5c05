// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Offsets through the pieces of a filesystem's device: a partition (one
 * piece at its start) and a device-mapper device whose two linear lines
 * lie on the target in swapped order, as `dmsetup create` with
 *	0 1024 linear T 1024
 *	1024 1024 linear T 0
 * makes them (in 512-byte sectors).
 */
#include <inttypes.h>
#include <stdio.h>

#include "lib/private.h"

#include "check.h"

#define K 1024ULL
#define S(x) ((x)*512ULL)

static struct dg_fs_piece swapped[] = {
	/* sorted by start on the target, as fs_for() keeps them */
	{ .start = S(0), .size = S(1024), .base = S(1024) },
	{ .start = S(1024), .size = S(1024), .base = S(0) },
};

static struct dg_fs_piece part[] = {
	{ .start = 1 * K * K, .size = 8 * K * K, .base = 0 },
};

static void check_clip(const char *what, struct dg_fs *fs, const struct dg_range *r, size_t nr,
		       const struct dg_fs_range *want, size_t nwant)
{
	struct dg_fs_range out[8];
	size_t n = dg_fs_clip(fs, r, nr, out), i;

	CHECK(n == nwant, "%s: %zu fs ranges, expected %zu", what, n, nwant);
	for (i = 0; i < n && i < nwant; i++)
		CHECK(out[i].offset == want[i].offset && out[i].length == want[i].length,
		      "%s: range %zu is %" PRIu64 "+%" PRIu64 ", expected %" PRIu64 "+%" PRIu64,
		      what, i, out[i].offset, out[i].length, want[i].offset, want[i].length);
}

int main(void)
{
	struct dg_fs dm = { .pieces = swapped, .nr_pieces = 2 };
	struct dg_fs p = { .pieces = part, .nr_pieces = 1 };

	/* one page inside the first piece: the second half of the dm device */
	{
		struct dg_range r[] = { { S(8), 4096 } };
		struct dg_fs_range w[] = { { S(1024 + 8), 4096 } };

		check_clip("inside piece 0", &dm, r, 1, w, 1);
	}
	/* across the boundary of the pieces: two ranges, sorted on the fs */
	{
		struct dg_range r[] = { { S(1020), S(8) } };
		struct dg_fs_range w[] = { { S(0), S(4) }, { S(2044), S(4) } };

		check_clip("across pieces", &dm, r, 1, w, 2);
	}
	/* past the dm device's pieces: nothing */
	{
		struct dg_range r[] = { { S(2048), 4096 } };

		check_clip("past the pieces", &dm, r, 1, NULL, 0);
	}
	/* a partition: target offsets less its start; around it nothing */
	{
		struct dg_range r[] = { { 0, 4096 },
					{ 1 * K * K + 4096, 4096 },
					{ 9 * K * K - 4096, 8192 } };
		struct dg_fs_range w[] = { { 4096, 4096 }, { 8 * K * K - 4096, 4096 } };

		check_clip("partition", &p, r, 3, w, 2);
	}

	/* and back: filesystem offsets to target offsets */
	CHECK(dg_fs_to_target(&dm, S(1024 + 8)) == S(8), "dm: fs %llu", S(1024 + 8));
	CHECK(dg_fs_to_target(&dm, S(8)) == S(1024 + 8), "dm: fs %llu", S(8));
	CHECK(dg_fs_to_target(&dm, S(2047)) == S(1023), "dm: the last sector of the fs");
	CHECK(dg_fs_to_target(&p, 4096) == 1 * K * K + 4096, "partition: fs 4096");

	CHECK(dg_fs_meets(&dm, S(2047), 512), "dm meets its last sector");
	CHECK(!dg_fs_meets(&dm, S(2048), 4096), "dm does not meet past its pieces");
	CHECK(!dg_fs_meets(&p, 0, 1 * K * K), "partition does not meet before its start");
	CHECK(dg_fs_meets(&p, 1 * K * K - 1, 2), "partition meets its first byte");

	if (failures)
		fprintf(stderr, "%d checks failed\n", failures);
	else
		printf("pieces: all checks passed\n");
	return failures ? 1 : 0;
}
