// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * --dpa MEMDEV:DPA (dg_parse_dpa): a memdev name as the cxl bus gives it
 * and an address.  What is taken reads back as itself; nothing is written
 * on failure.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "libdaxguard.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), memdev[32] = "untouched", again[32], buf[80];
	uint64_t dpa = 0xdeadbeef, v;
	int rc = dg_parse_dpa(s, memdev, sizeof(memdev), &dpa);
	size_t i;

	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE || rc == -ENAMETOOLONG, "rc %d", rc);
	if (!rc) {
		FUZZ_CHECK(!strncmp(memdev, "mem", 3) && memdev[3], "memdev '%s'", memdev);
		for (i = 3; memdev[i]; i++)
			FUZZ_CHECK(isdigit((unsigned char)memdev[i]), "memdev '%s'", memdev);
		snprintf(buf, sizeof(buf), "%s:%#" PRIx64, memdev, dpa);
		FUZZ_CHECK(!dg_parse_dpa(buf, again, sizeof(again), &v) && v == dpa &&
				   !strcmp(again, memdev),
			   "'%s' does not read back", buf);
	} else {
		FUZZ_CHECK(dpa == 0xdeadbeef && !strcmp(memdev, "untouched"), "written on failure");
	}
	free(s);
	return 0;
}
