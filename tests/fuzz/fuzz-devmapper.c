// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Device-mapper tables, as `dmsetup table` prints them: "START LENGTH
 * TYPE PARAMS" a line.  The harness splits a line the way libdevmapper's
 * dm_get_next_target() hands it over; lib/devmapper.c must then say, for
 * each line, whether it is a linear piece on the target (259:0, as pmem0
 * is in the QEMU tier), a line that does not use it, or a table it cannot
 * translate.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "lib/private.h"

#include "fuzz.h"

static void check_line(char *line)
{
	char *start_s, *length_s, *type, *params, *save = NULL, *end;
	uint64_t start, length, sector, e;
	dev_t dev, lower[2] = { makedev(259, 0), makedev(7, 0) };
	struct dg_fs_piece p;
	size_t i;
	int rc;

	start_s = strtok_r(line, " ", &save);
	length_s = strtok_r(NULL, " ", &save);
	type = strtok_r(NULL, " ", &save);
	params = save ? save : (char *)"";
	if (!start_s || !length_s || !type)
		return;
	start = strtoull(start_s, &end, 10);
	length = strtoull(length_s, &end, 10);

	rc = dg_dm_parse_linear(params, &dev, &sector);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE, "parse rc %d", rc);
	for (i = 0; i < 2; i++) {
		int rc2 = dg_dm_line_piece(start, length, type, params, lower[i], &p);

		FUZZ_CHECK(rc2 == 1 || rc2 == 0 || rc2 == -EOPNOTSUPP || rc2 == -EINVAL ||
				   rc2 == -ERANGE,
			   "piece rc %d", rc2);
		if (rc2 == 1) {
			FUZZ_CHECK(!strcmp(type, "linear") && !rc && dev == lower[i],
				   "a piece from a line that is not linear on the target");
			FUZZ_CHECK(p.size && !__builtin_add_overflow(p.start, p.size, &e) &&
					   !__builtin_add_overflow(p.base, p.size, &e),
				   "piece %" PRIu64 "+%" PRIu64 " at %" PRIu64, p.start, p.size,
				   p.base);
			FUZZ_CHECK(p.start == sector << 9 && p.base == start << 9 &&
					   p.size == length << 9,
				   "piece does not match the line");
		}
		if (!strcmp(type, "linear"))
			FUZZ_CHECK(rc2 != -EOPNOTSUPP, "a linear line called unsupported");
		else
			FUZZ_CHECK(rc2 == 0 || rc2 == -EOPNOTSUPP, "rc %d for a %s line", rc2,
				   type);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_cstr(data, size), *line, *next;

	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		check_line(line);
	}
	free(buf);
	return 0;
}
