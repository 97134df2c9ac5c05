// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Sizes and ranges as operators type them (--offset, --length, --phys,
 * and OFFSET+LENGTH / OFFSET-END ranges): lib/range.c.  A size must read
 * back as itself when printed in decimal and in hex, and a range must be
 * non-empty and end within 64 bits.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "libdaxguard.h"

#include "fuzz.h"

static void check_size(const char *s)
{
	uint64_t v = 0xdeadbeef, v2;
	char buf[64];
	int rc = dg_parse_size(s, &v);

	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE, "size rc %d", rc);
	if (rc) {
		FUZZ_CHECK(v == 0xdeadbeef, "size written on failure");
		return;
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	FUZZ_CHECK(!dg_parse_size(buf, &v2) && v2 == v, "'%s' does not read back", buf);
	snprintf(buf, sizeof(buf), "%#" PRIx64 "", v);
	FUZZ_CHECK(!dg_parse_size(buf, &v2) && v2 == v, "'%s' does not read back", buf);
}

static void check_range(const char *s, bool badblocks)
{
	struct dg_range r = { 0, 0 };
	uint64_t end;
	int rc = dg_parse_range(s, badblocks, &r);

	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE || (badblocks && rc == -EILSEQ),
		   "range rc %d", rc);
	if (rc)
		return;
	FUZZ_CHECK(r.length > 0, "empty range");
	FUZZ_CHECK(!__builtin_add_overflow(r.offset, r.length, &end), "end past 64 bits");
	if (!badblocks) {
		char buf[64];
		struct dg_range r2;

		snprintf(buf, sizeof(buf), "%#" PRIx64 "+%#" PRIx64, r.offset, r.length);
		FUZZ_CHECK(!dg_parse_range(buf, false, &r2) && r2.offset == r.offset &&
				   r2.length == r.length,
			   "'%s' does not read back", buf);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);

	check_size(s);
	check_range(s, false);
	check_range(s, true);
	free(s);
	return 0;
}
