// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device-mapper table lines as dm_get_next_target() gives them: the
 * linear lines of the QEMU dm-xfs scenario (tests/vm/scenarios/dm.sh,
 * "0 1030144 linear 259:0 1030144" and "1030144 1030144 linear 259:0 0"),
 * other kinds of line over the target, and what a table cannot hold.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/sysmacros.h>

#include "lib/private.h"

#include "check.h"

#define S(x) ((x)*512ULL)

static const struct {
	const char *params;
	int rc;
	unsigned int maj, min;
	uint64_t sector;
} linear[] = {
	{ "259:0 1030144", 0, 259, 0, 1030144 },
	{ "259:0 0", 0, 259, 0, 0 },
	{ "7:12 2048", 0, 7, 12, 2048 },
	{ " 7:12\t2048 ", 0, 7, 12, 2048 },
	{ "4294967295:4294967295 18446744073709551615", 0, 4294967295U, 4294967295U, UINT64_MAX },
	{ "", -EINVAL, 0, 0, 0 },
	{ "259:0", -EINVAL, 0, 0, 0 },
	{ "259:0 ", -EINVAL, 0, 0, 0 },
	{ "259 0", -EINVAL, 0, 0, 0 },
	{ "259:0 0 0", -EINVAL, 0, 0, 0 },
	{ "259:0 -1", -EINVAL, 0, 0, 0 },
	{ "-259:0 1", -EINVAL, 0, 0, 0 },
	{ "+259:0 1", -EINVAL, 0, 0, 0 },
	{ "259:-1 1", -EINVAL, 0, 0, 0 },
	{ "259:0 0x10", -EINVAL, 0, 0, 0 },
	{ "259:0:1 1", -EINVAL, 0, 0, 0 },
	{ "259:01030144", -EINVAL, 0, 0, 0 },
	{ "/dev/pmem0 0", -EINVAL, 0, 0, 0 },
	{ "4294967296:0 0", -ERANGE, 0, 0, 0 },
	{ "259:0 18446744073709551616", -ERANGE, 0, 0, 0 },
};

static const struct {
	const char *what;
	uint64_t start, length;
	const char *type, *params;
	int rc;
	struct dg_fs_piece piece;
} lines[] = {
	{ "dm-xfs line 1",
	  0,
	  1030144,
	  "linear",
	  "259:0 1030144",
	  1,
	  { S(1030144), S(1030144), 0 } },
	{ "dm-xfs line 2",
	  1030144,
	  1030144,
	  "linear",
	  "259:0 0",
	  1,
	  { 0, S(1030144), S(1030144) } },
	{ "linear onto another device", 0, 8, "linear", "259:1 0", 0, { 0 } },
	{ "linear onto 7:0", 0, 8, "linear", "7:0 0", 0, { 0 } },
	{ "striped over the target",
	  0,
	  2048,
	  "striped",
	  "2 128 259:0 0 259:1 0",
	  -EOPNOTSUPP,
	  { 0 } },
	{ "mirror over the target",
	  0,
	  2048,
	  "mirror",
	  "core 2 512 nosync 2 259:1 0 259:0 0 1 handle_errors",
	  -EOPNOTSUPP,
	  { 0 } },
	/* whole words: 259:0 is neither in 259:01.. nor in 1259:0 */
	{ "striped over 259:10 and 1259:0",
	  0,
	  2048,
	  "striped",
	  "2 128 259:10 0 1259:0 0",
	  0,
	  { 0 } },
	{ "error target", 0, 2048, "error", "", 0, { 0 } },
	{ "zero target", 0, 2048, "zero", "", 0, { 0 } },
	{ "no type", 0, 2048, NULL, NULL, 0, { 0 } },
	{ "malformed linear", 0, 8, "linear", "259:0", -EINVAL, { 0 } },
	{ "a start past 64 bits in bytes", 1ULL << 55, 8, "linear", "259:0 0", -ERANGE, { 0 } },
	{ "an end past 64 bits in bytes",
	  (1ULL << 55) - 4,
	  8,
	  "linear",
	  "259:0 0",
	  -ERANGE,
	  { 0 } },
	{ "a sector past 64 bits in bytes",
	  0,
	  8,
	  "linear",
	  "259:0 36028797018963968",
	  -ERANGE,
	  { 0 } },
	{ "an empty line", 0, 0, "linear", "259:0 0", -ERANGE, { 0 } },
};

int main(void)
{
	dev_t target = makedev(259, 0);
	size_t i;

	for (i = 0; i < sizeof(linear) / sizeof(linear[0]); i++) {
		dev_t dev = 0;
		uint64_t sector = 0;
		int rc = dg_dm_parse_linear(linear[i].params, &dev, &sector);

		CHECK(rc == linear[i].rc, "linear '%s': rc %d, want %d", linear[i].params, rc,
		      linear[i].rc);
		CHECK(rc || (dev == makedev(linear[i].maj, linear[i].min) &&
			     sector == linear[i].sector),
		      "linear '%s': %u:%u %" PRIu64, linear[i].params, major(dev), minor(dev),
		      sector);
	}
	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct dg_fs_piece p = { 1, 2, 3 };
		int rc = dg_dm_line_piece(lines[i].start, lines[i].length, lines[i].type,
					  lines[i].params, target, &p);

		CHECK(rc == lines[i].rc, "%s: rc %d, want %d", lines[i].what, rc, lines[i].rc);
		CHECK(rc != 1 || (p.start == lines[i].piece.start &&
				  p.size == lines[i].piece.size && p.base == lines[i].piece.base),
		      "%s: piece %" PRIu64 "+%" PRIu64 " at %" PRIu64, lines[i].what, p.start,
		      p.size, p.base);
	}
	printf("%zu params, %zu lines, %d failures\n", sizeof(linear) / sizeof(linear[0]),
	       sizeof(lines) / sizeof(lines[0]), failures);
	return failures ? 1 : 0;
}
