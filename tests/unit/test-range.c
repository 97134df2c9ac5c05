// SPDX-License-Identifier: GPL-2.0-or-later
/* Sizes and ranges as operators type them: table-driven. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libdaxguard.h"

#include "check.h"

static const struct {
	const char *in;
	int rc;
	uint64_t val;
} sizes[] = {
	{ "0", 0, 0 },
	{ "4096", 0, 4096 },
	{ "0x1000", 0, 4096 },
	{ "0X1f", 0, 31 },
	{ "4K", 0, 4096 },
	{ "4k", 0, 4096 },
	{ "4KiB", 0, 4096 },
	{ "4KB", 0, 4096 },
	{ "1M", 0, 1 << 20 },
	{ "2G", 0, 2ULL << 30 },
	{ "1.5G", 0, 3ULL << 29 },
	{ "0.5K", 0, 512 },
	{ "3T", 0, 3ULL << 40 },
	{ "1E", 0, 1ULL << 60 },
	{ "16E", -ERANGE, 0 },
	{ "18446744073709551615", 0, UINT64_MAX },
	{ "18446744073709551616", -ERANGE, 0 },
	{ "0xffffffffffffffff", 0, UINT64_MAX },
	{ "0x10000000000000000", -ERANGE, 0 },
	{ "17179869184G", -ERANGE, 0 },
	{ "", -EINVAL, 0 },
	{ "abc", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ "12abc", -EINVAL, 0 },
	{ "0x", -EINVAL, 0 },
	{ "1.5", -EINVAL, 0 },
	{ "1.", -EINVAL, 0 },
	{ "4 K", -EINVAL, 0 },
	{ "4KK", -EINVAL, 0 },
	{ "4Kx", -EINVAL, 0 },
	{ "512B", 0, 512 },
};

static const struct {
	const char *in;
	bool badblocks;
	int rc;
	uint64_t off, len;
} ranges[] = {
	{ "0+4096", false, 0, 0, 4096 },
	{ "1M+4K", false, 0, 1 << 20, 4096 },
	{ "0x1000-0x3000", false, 0, 0x1000, 0x2000 },
	{ "4K-4K", false, -EINVAL, 0, 0 },
	{ "8K-4K", false, -EINVAL, 0, 0 },
	{ "0+0", false, -EINVAL, 0, 0 },
	{ "4096", false, -EINVAL, 0, 0 },
	{ "+4096", false, -EINVAL, 0, 0 },
	{ "0xffffffffffffff00+0x1000", false, -ERANGE, 0, 0 },
	{ "0xffffffffffffff00+0x100", false, -ERANGE, 0, 0 },
	{ "0xfffffffffffffe00+0x100", false, 0, 0xfffffffffffffe00ULL, 0x100 },
	{ "240 8", true, 0, 240 * 512, 8 * 512 },
	{ "  240\t8  ", true, 0, 240 * 512, 8 * 512 },
	{ "240 0", true, -EINVAL, 0, 0 },
	{ "240", true, -EINVAL, 0, 0 },
	{ "240 8 9", true, -EINVAL, 0, 0 },
	{ "x 8", true, -EINVAL, 0, 0 },
	{ "0x10 8", true, -EINVAL, 0, 0 },
	{ "36028797018963968 1", true, -ERANGE, 0, 0 },
	{ "99999999999999999999 1", true, -ERANGE, 0, 0 },
};

static const struct {
	const char *in;
	int rc;
	uint64_t pfn;
} pfns[] = {
	{ "0x2c3f1", 0, 0x2c3f1 },
	{ "0X2C3F1", 0, 0x2c3f1 },
	{ "181233", 0, 181233 },
	{ "0", 0, 0 },
	{ "0x0", 0, 0 },
	{ "", -EINVAL, 0 },
	{ "0x", -EINVAL, 0 },
	{ "x1", -EINVAL, 0 },
	{ "0x0x1", -EINVAL, 0 },
	{ "1a", -EINVAL, 0 },
	{ "a", -EINVAL, 0 },
	{ "4K", -EINVAL, 0 },
	{ " 1", -EINVAL, 0 },
	{ "1 ", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ "+1", -EINVAL, 0 },
	{ "0x-1", -EINVAL, 0 },
	{ "0xfffffffffffff", 0, 0xfffffffffffffULL },
	{ "0x10000000000000", -ERANGE, 0 },
	{ "0xffffffffffffffff", -ERANGE, 0 },
	{ "99999999999999999999999", -ERANGE, 0 },
	{ "99999999999999999999999x", -EINVAL, 0 },
};

int main(void)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t v = 0xdeadbeef;
		int rc = dg_parse_size(sizes[i].in, &v);

		CHECK(rc == sizes[i].rc, "size '%s': rc %d, want %d", sizes[i].in, rc, sizes[i].rc);
		CHECK(rc || v == sizes[i].val, "size '%s': %" PRIu64 ", want %" PRIu64, sizes[i].in,
		      v, sizes[i].val);
		CHECK(!rc || v == 0xdeadbeef, "size '%s': output written on failure", sizes[i].in);
	}
	for (i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		struct dg_range r = { 0, 0 };
		int rc = dg_parse_range(ranges[i].in, ranges[i].badblocks, &r);

		CHECK(rc == ranges[i].rc, "range '%s': rc %d, want %d", ranges[i].in, rc,
		      ranges[i].rc);
		CHECK(rc || (r.offset == ranges[i].off && r.length == ranges[i].len),
		      "range '%s': %" PRIu64 "+%" PRIu64 ", want %" PRIu64 "+%" PRIu64,
		      ranges[i].in, r.offset, r.length, ranges[i].off, ranges[i].len);
	}
	for (i = 0; i < sizeof(pfns) / sizeof(pfns[0]); i++) {
		uint64_t v = 0xdeadbeef;
		int rc = dg_parse_pfn(pfns[i].in, &v);

		/* the table's limits are for 4 KiB pages */
		if (page != 4096 && pfns[i].rc == -ERANGE)
			continue;
		CHECK(rc == pfns[i].rc, "pfn '%s': rc %d, want %d", pfns[i].in, rc, pfns[i].rc);
		CHECK(rc || v == pfns[i].pfn * page, "pfn '%s': %#" PRIx64, pfns[i].in, v);
		CHECK(!rc || v == 0xdeadbeef, "pfn '%s': output written on failure", pfns[i].in);
	}
	CHECK(dg_parse_pfn(NULL, &(uint64_t){ 0 }) == -EINVAL, "pfn NULL");
	printf("%zu sizes, %zu ranges, %d failures\n", sizeof(sizes) / sizeof(sizes[0]),
	       sizeof(ranges) / sizeof(ranges[0]), failures);
	return failures ? 1 : 0;
}
