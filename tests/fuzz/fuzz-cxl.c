// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The CXL parsers of outside input, in one harness (one fuzzing slot in
 * CI):
 *  - poison input (lib/badblocks-cxl.c), as --badblocks FILE takes it: the
 *    JSON of `cxl list --media-errors` when the input starts with [ or {,
 *    else cxl_poison trace lines one by one.  Every record taken must be a
 *    sane range of a named memdev or region; a rejected JSON document
 *    appends nothing;
 *  - --dpa MEMDEV:DPA (dg_parse_dpa) on the whole input: what is taken
 *    reads back as itself, and nothing is written on failure.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "libdaxguard.h"

#include "fuzz.h"

static void check_rec(const struct dg_cxl_poison *r)
{
	uint64_t end;

	FUZZ_CHECK(r->length > 0, "an empty record");
	FUZZ_CHECK(r->memdev[0] || r->region[0], "a record of nobody");
	FUZZ_CHECK(memchr(r->memdev, 0, sizeof(r->memdev)) &&
			   memchr(r->region, 0, sizeof(r->region)) &&
			   memchr(r->source, 0, sizeof(r->source)),
		   "a name without its NUL");
	if (r->has_dpa)
		FUZZ_CHECK(!__builtin_add_overflow(r->dpa, r->length, &end),
			   "DPA end past 64 bits");
	if (r->has_region_offset)
		FUZZ_CHECK(!__builtin_add_overflow(r->region_offset, r->length, &end),
			   "region end past 64 bits");
}

static void check_dpa(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), memdev[32] = "untouched", again[32], buf[80];
	uint64_t dpa = 0xdeadbeef, v;
	int rc = dg_parse_dpa(s, memdev, sizeof(memdev), &dpa);
	size_t i;

	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE || rc == -ENAMETOOLONG, "dpa rc %d",
		   rc);
	if (!rc) {
		FUZZ_CHECK(!strncmp(memdev, "mem", 3) && memdev[3], "memdev '%s'", memdev);
		for (i = 3; memdev[i]; i++)
			FUZZ_CHECK(isdigit((unsigned char)memdev[i]), "memdev '%s'", memdev);
		snprintf(buf, sizeof(buf), "%s:%#" PRIx64, memdev, dpa);
		FUZZ_CHECK(!dg_parse_dpa(buf, again, sizeof(again), &v) && v == dpa &&
				   !strcmp(again, memdev),
			   "'%s' does not read back", buf);
	} else {
		FUZZ_CHECK(dpa == 0xdeadbeef && !strcmp(memdev, "untouched"),
			   "--dpa written on failure");
	}
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	struct dg_cxl_poison *recs = NULL, rec;
	size_t nr = 0, i;
	int rc;

	check_dpa(data, size);
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
		p++;
	if (p < end && (*p == '[' || *p == '{')) {
		char *copy = fuzz_cstr(data, size);

		rc = dg_parse_cxl_media_errors(copy, size, &recs, &nr);
		FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE || rc == -EILSEQ ||
				   rc == -ENOMEM,
			   "media errors rc %d", rc);
		FUZZ_CHECK(rc == 0 || nr == 0, "a rejected document appended %zu records", nr);
		for (i = 0; i < nr; i++)
			check_rec(&recs[i]);
		free(recs);
		free(copy);
		return 0;
	}
	for (p = (const char *)data; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
		/* a copy of its own, so ASan sees a read past the line */
		char *line = fuzz_cstr((const uint8_t *)p, n);

		memset(&rec, 0xa5, sizeof(rec));
		rc = dg_parse_cxl_poison_line(line, n, &rec);
		FUZZ_CHECK(rc == 0 || rc == 1 || rc == -EINVAL || rc == -ERANGE || rc == -EILSEQ,
			   "trace line rc %d", rc);
		if (rc == 1) {
			check_rec(&rec);
			FUZZ_CHECK(rec.has_dpa && rec.memdev[0],
				   "a trace record without memdev and DPA");
		}
		free(line);
		p += n;
	}
	return 0;
}
