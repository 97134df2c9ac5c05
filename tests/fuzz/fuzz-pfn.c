// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --pfn NUMBER (dg_parse_pfn) and --phys ADDRESS (dg_parse_size): what a
 * memory-failure message or an operator gives.  A pfn is a whole page,
 * reads back as itself, and takes nothing but digits after its 0x.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "libdaxguard.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), phys = 0xdeadbeef, v;
	char *s = fuzz_cstr(data, size), buf[64];
	int rc = dg_parse_pfn(s, &phys);
	size_t i;

	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE, "pfn rc %d", rc);
	if (!rc) {
		bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');

		FUZZ_CHECK(!(phys % page), "pfn %s: %#" PRIx64 " is not a page", s, phys);
		for (i = hex ? 2 : 0; s[i]; i++)
			FUZZ_CHECK(hex ? isxdigit((unsigned char)s[i]) :
					 isdigit((unsigned char)s[i]),
				   "pfn '%s' taken with a '%c'", s, s[i]);
		snprintf(buf, sizeof(buf), "%#" PRIx64, phys / page);
		FUZZ_CHECK(!dg_parse_pfn(buf, &v) && v == phys, "'%s' does not read back", buf);
		snprintf(buf, sizeof(buf), "%" PRIu64, phys / page);
		FUZZ_CHECK(!dg_parse_pfn(buf, &v) && v == phys, "'%s' does not read back", buf);
	} else {
		FUZZ_CHECK(phys == 0xdeadbeef, "pfn written on failure");
	}
	/* --phys takes a size */
	rc = dg_parse_size(s, &v);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE, "size rc %d", rc);
	free(s);
	return 0;
}
