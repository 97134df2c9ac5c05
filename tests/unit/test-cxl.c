// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The CXL interleave arithmetic, both ways, for every number of ways and
 * every granularity the specification allows, against brute force and
 * against the specification's own bit-shift form (8.2.4.19.13); --dpa
 * parsing; and the topology read from a recorded sysfs tree (a 2-way
 * region of two QEMU type-3 devices, tests/fixtures/sysfs/q35-cxl2), with
 * the translation and its errors, also for a region whose commit was
 * undone.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

#include "check.h"

static const unsigned int all_ways[] = { 1, 2, 3, 4, 6, 8, 12, 16 };
static const unsigned int all_gran[] = { 256, 512, 1024, 2048, 4096, 8192, 16384 };

static unsigned int ilog2u(unsigned int v)
{
	unsigned int l = 0;

	while (v >>= 1)
		l++;
	return l;
}

/*
 * The specification's form for power-of-two ways: the DPA's bits above
 * the granule move up by eiw bits and the position fills the gap.
 */
static uint64_t spec_hpa(unsigned int ways, unsigned int gran, unsigned int pos, uint64_t dpa)
{
	unsigned int eiw = ilog2u(ways), gb = ilog2u(gran);
	uint64_t low = dpa & ((1ULL << gb) - 1);

	return ((dpa >> gb) << (gb + eiw)) | ((uint64_t)pos << gb) | low;
}

/* every byte of the first few rounds of each position, there and back */
static void round_trip(void)
{
	size_t w, g;

	for (w = 0; w < ARRAY_SIZE(all_ways); w++) {
		for (g = 0; g < ARRAY_SIZE(all_gran); g++) {
			unsigned int ways = all_ways[w], gran = all_gran[g], pos, p;
			uint64_t span = (uint64_t)ways * gran * 2, hpa, dpa, back;
			unsigned char *seen = calloc(span, 1);
			int bad = 0;

			for (pos = 0; pos < ways && !bad; pos++) {
				for (dpa = 0; dpa < (uint64_t)gran * 2 && !bad; dpa++) {
					if (dg_cxl_dpa_to_hpa(ways, gran, pos, dpa, &hpa) ||
					    hpa >= span || seen[hpa]) {
						bad = 1;
						CHECK(0,
						      "%ux%u pos %u dpa %#" PRIx64 ": hpa %#" PRIx64
						      " out of range or twice",
						      ways, gran, pos, dpa, hpa);
						break;
					}
					seen[hpa] = 1;
					if (dg_cxl_hpa_to_dpa(ways, gran, hpa, &p, &back) ||
					    p != pos || back != dpa) {
						bad = 1;
						CHECK(0,
						      "%ux%u hpa %#" PRIx64
						      " back to pos %u dpa %#" PRIx64
						      ", not %u %#" PRIx64,
						      ways, gran, hpa, p, back, pos, dpa);
					}
					if (!(ways & (ways - 1)) &&
					    spec_hpa(ways, gran, pos, dpa) != hpa) {
						bad = 1;
						CHECK(0,
						      "%ux%u pos %u dpa %#" PRIx64 ": %#" PRIx64
						      ", the spec says %#" PRIx64,
						      ways, gran, pos, dpa, hpa,
						      spec_hpa(ways, gran, pos, dpa));
					}
				}
			}
			/* a bijection: every host byte of the rounds belongs to one device byte */
			for (hpa = 0; hpa < span && !bad; hpa++)
				if (!seen[hpa]) {
					CHECK(0, "%ux%u: hpa %#" PRIx64 " maps no DPA", ways, gran,
					      hpa);
					bad = 1;
				}
			free(seen);
		}
	}
}

/* far addresses: the arithmetic must hold beyond the first rounds */
static void far(void)
{
	size_t w, g;

	for (w = 0; w < ARRAY_SIZE(all_ways); w++)
		for (g = 0; g < ARRAY_SIZE(all_gran); g++) {
			unsigned int ways = all_ways[w], gran = all_gran[g], pos = ways - 1, p;
			uint64_t dpa = (1ULL << 40) + 12345, hpa, back;

			CHECK(!dg_cxl_dpa_to_hpa(ways, gran, pos, dpa, &hpa), "far %ux%u", ways,
			      gran);
			CHECK(!dg_cxl_hpa_to_dpa(ways, gran, hpa, &p, &back) && p == pos &&
				      back == dpa,
			      "far %ux%u back", ways, gran);
			if (!(ways & (ways - 1)))
				CHECK(hpa == spec_hpa(ways, gran, pos, dpa), "far %ux%u spec", ways,
				      gran);
		}
}

/* a host range holds one contiguous DPA range of each position, by brute force */
static void ranges(void)
{
	unsigned int seed = 1;
	size_t w, g;

	for (w = 0; w < ARRAY_SIZE(all_ways); w++)
		for (g = 0; g < ARRAY_SIZE(all_gran); g += 2) {
			unsigned int ways = all_ways[w], gran = all_gran[g];
			int i;

			for (i = 0; i < 40; i++) {
				uint64_t off = (uint64_t)rand_r(&seed) % (ways * gran * 4ULL);
				uint64_t len = 1 + (uint64_t)rand_r(&seed) % (ways * gran * 3ULL);
				unsigned int pos;

				if (i == 0) {
					off = 0;
					len = 1;
				}
				for (pos = 0; pos < ways; pos++) {
					uint64_t lo = UINT64_MAX, hi = 0, n = 0, b, d, dl;
					unsigned int p;
					int rc;

					for (b = off; b < off + len; b++) {
						dg_cxl_hpa_to_dpa(ways, gran, b, &p, &d);
						if (p != pos)
							continue;
						lo = DG_MIN(lo, d);
						hi = DG_MAX(hi, d);
						n++;
					}
					rc = dg_cxl_hpa_range_to_dpa(ways, gran, off, len, pos, &d,
								     &dl);
					if (!n) {
						CHECK(rc == -ENOENT,
						      "%ux%u %#" PRIx64 "+%#" PRIx64
						      " pos %u: rc %d, expected none",
						      ways, gran, off, len, pos, rc);
						continue;
					}
					CHECK(!rc && d == lo && dl == n && hi - lo + 1 == n,
					      "%ux%u %#" PRIx64 "+%#" PRIx64
					      " pos %u: rc %d %#" PRIx64 "+%#" PRIx64
					      ", brute force %#" PRIx64 "-%#" PRIx64 " (%" PRIu64
					      " bytes)",
					      ways, gran, off, len, pos, rc, d, dl, lo, hi, n);
				}
			}
		}
}

static void bounds(void)
{
	uint64_t v;
	unsigned int p;

	CHECK(dg_cxl_dpa_to_hpa(5, 256, 0, 0, &v) == -EINVAL, "5 ways");
	CHECK(dg_cxl_dpa_to_hpa(0, 256, 0, 0, &v) == -EINVAL, "0 ways");
	CHECK(dg_cxl_dpa_to_hpa(32, 256, 0, 0, &v) == -EINVAL, "32 ways");
	CHECK(dg_cxl_dpa_to_hpa(2, 128, 0, 0, &v) == -EINVAL, "granularity 128");
	CHECK(dg_cxl_dpa_to_hpa(2, 300, 0, 0, &v) == -EINVAL, "granularity 300");
	CHECK(dg_cxl_dpa_to_hpa(2, 32768, 0, 0, &v) == -EINVAL, "granularity 32 KiB");
	CHECK(dg_cxl_dpa_to_hpa(2, 256, 2, 0, &v) == -EINVAL, "position 2 of 2");
	CHECK(dg_cxl_dpa_to_hpa(4, 256, 3, UINT64_MAX - 10, &v) == -ERANGE, "past 64 bits");
	CHECK(dg_cxl_dpa_to_hpa(1, 256, 0, UINT64_MAX, &v) == 0 && v == UINT64_MAX,
	      "1 way is the identity, to the last byte");
	CHECK(dg_cxl_hpa_to_dpa(3, 4096, 0, &p, &v) == 0 && p == 0 && v == 0, "3 ways at 0");
	CHECK(dg_cxl_hpa_to_dpa(7, 4096, 0, &p, &v) == -EINVAL, "7 ways");
	CHECK(dg_cxl_hpa_range_to_dpa(2, 256, 0, 0, 0, &v, &v) == -EINVAL, "an empty range");
	CHECK(dg_cxl_hpa_range_to_dpa(2, 256, UINT64_MAX, 2, 0, &v, &v) == -ERANGE,
	      "a range past 64 bits");
}

static void parse_dpa(void)
{
	static const struct {
		const char *s;
		int rc;
		const char *memdev;
		uint64_t dpa;
	} cases[] = {
		{ "mem0:0x1000", 0, "mem0", 0x1000 },
		{ "mem12:4096", 0, "mem12", 4096 },
		{ "mem1:256M", 0, "mem1", 256ULL << 20 },
		{ "mem1:0", 0, "mem1", 0 },
		{ "mem0:", -EINVAL, NULL, 0 },
		{ "mem0", -EINVAL, NULL, 0 },
		{ ":0x1000", -EINVAL, NULL, 0 },
		{ "mem:0x1000", -EINVAL, NULL, 0 },
		{ "memx:0x1000", -EINVAL, NULL, 0 },
		{ "mem0x:1", -EINVAL, NULL, 0 },
		{ "pmem0:0x1000", -EINVAL, NULL, 0 },
		{ "mem0: 0x1000", -EINVAL, NULL, 0 },
		{ "mem0:-1", -EINVAL, NULL, 0 },
		{ "mem0:0x1000:5", -EINVAL, NULL, 0 },
		{ "mem0:0xzz", -EINVAL, NULL, 0 },
		{ "mem0:0x10000000000000000", -ERANGE, NULL, 0 },
		{ "mem0:1.5", -EINVAL, NULL, 0 },
		{ "mem000000000000000000000000000000000000000000:1", -ENAMETOOLONG, NULL, 0 },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char m[32] = "untouched";
		uint64_t d = 77;
		int rc = dg_parse_dpa(cases[i].s, m, sizeof(m), &d);

		CHECK(rc == cases[i].rc, "'%s': rc %d, expected %d", cases[i].s, rc, cases[i].rc);
		if (!cases[i].rc)
			CHECK(!strcmp(m, cases[i].memdev) && d == cases[i].dpa,
			      "'%s': %s %#" PRIx64, cases[i].s, m, d);
		else
			CHECK(!strcmp(m, "untouched") && d == 77, "'%s': written on failure",
			      cases[i].s);
	}
	CHECK(dg_parse_dpa(NULL, (char[8]){ 0 }, 8, &(uint64_t){ 0 }) == -EINVAL, "NULL");
}

/* the QEMU tier's 2-way region: mem1 (serial 1) at position 0, mem0 at 1 */
static void topology(struct dg_ctx *ctx, const char *root)
{
	struct dg_cxl_region *r = NULL;
	struct dg_target t = { .ctx = ctx, .devname = (char *)"/dev/pmem0" };
	struct dg_range *rg = NULL;
	size_t nr = 0, i;
	uint64_t hpa, dpa, dl;
	char buf[512];
	int rc;

	rc = dg_cxl_region_find(ctx, root, 0x250a00000ULL, &r);
	CHECK(rc == 0 && r, "region of the pfn device's start: rc %d", rc);
	if (rc)
		return;
	CHECK(!strcmp(r->name, "region0") && !strcmp(r->root_decoder, "decoder0.0"),
	      "region0 under decoder0.0: %s under %s", r->name, r->root_decoder);
	CHECK(r->resource == 0x250000000ULL && r->size == 0x20000000ULL,
	      "resource %#" PRIx64 " size %#" PRIx64, r->resource, r->size);
	CHECK(r->ways == 2 && r->granularity == 256, "%u ways every %u", r->ways, r->granularity);
	CHECK(!strcmp(dg_cxl_region_state(r), "enabled"), "state %s", dg_cxl_region_state(r));
	CHECK(!strcmp(r->uuid, "9ca02ee5-68e7-4762-9bd3-93eef04cd577"), "uuid %s", r->uuid);
	CHECK(r->nr_targets == 2, "%zu targets", r->nr_targets);
	if (r->nr_targets == 2) {
		CHECK(!strcmp(r->targets[0].memdev, "mem1") &&
			      !strcmp(r->targets[0].decoder, "decoder3.0") &&
			      r->targets[0].serial == 1 &&
			      !strcmp(r->targets[0].host, "0000:0d:00.0") &&
			      r->targets[0].dpa_start == 0 && r->targets[0].dpa_size == 0x10000000,
		      "position 0: %s %s serial %" PRIu64 " %s", r->targets[0].memdev,
		      r->targets[0].decoder, r->targets[0].serial, r->targets[0].host);
		CHECK(!strcmp(r->targets[1].memdev, "mem0") &&
			      !strcmp(r->targets[1].decoder, "decoder2.0") &&
			      r->targets[1].serial == 2 &&
			      !strcmp(r->targets[1].host, "0000:0e:00.0"),
		      "position 1: %s %s serial %" PRIu64 " %s", r->targets[1].memdev,
		      r->targets[1].decoder, r->targets[1].serial, r->targets[1].host);
	}
	CHECK(dg_cxl_region_find(ctx, root, 0x250000000ULL + 0x20000000ULL,
				 &(struct dg_cxl_region *){ NULL }) == -ENOENT,
	      "the byte after the region is in none");
	CHECK(dg_cxl_region_find(ctx, "/nonexistent", 0x250000000ULL,
				 &(struct dg_cxl_region *){ NULL }) == -ENOENT,
	      "no CXL bus: no region");

	CHECK(!dg_cxl_region_dpa_to_hpa(r, "/dev/pmem0", "mem1", 0, &hpa) && hpa == 0x250000000ULL,
	      "mem1 DPA 0 is the region's first byte: %#" PRIx64, hpa);
	CHECK(!dg_cxl_region_dpa_to_hpa(r, "/dev/pmem0", "mem0", 0xff, &hpa) &&
		      hpa == 0x250000000ULL + 0x100 + 0xff,
	      "mem0 DPA 0xff ends the second granule: %#" PRIx64, hpa);
	CHECK(!dg_cxl_region_dpa_to_hpa(r, "/dev/pmem0", "mem0", 0x100, &hpa) &&
		      hpa == 0x250000000ULL + 0x300,
	      "mem0 DPA 0x100 is the fourth granule: %#" PRIx64, hpa);
	CHECK(!dg_cxl_region_dpa_to_hpa(r, "/dev/pmem0", "mem1", 0x100, &hpa) &&
		      hpa == 0x250000000ULL + 0x200,
	      "mem1 DPA 0x100 is the third granule: %#" PRIx64, hpa);
	rc = dg_cxl_region_dpa_to_hpa(r, "/dev/pmem0", "mem7", 0, &hpa);
	CHECK(rc == -ENODEV && strstr(dg_get_error(ctx) ?: "", "mem7: no such CXL memdev"),
	      "unknown memdev: %d %s", rc, dg_get_error(ctx));
	rc = dg_cxl_region_dpa_to_hpa(r, "/dev/pmem0", "mem0", 0x10000000, &hpa);
	CHECK(rc == -ERANGE && strstr(dg_get_error(ctx) ?: "", "mem0: DPA 0x10000000") &&
		      strstr(dg_get_error(ctx) ?: "", "0x0-0xfffffff (decoder2.0, region0)"),
	      "a DPA past the decoder names the mapped ranges: %d %s", rc, dg_get_error(ctx));

	/* a target on it: the pfn device's data, after 10 MiB of metadata */
	t.cxl = r;
	t.phys_start = 0x250a00000ULL;
	t.phys_size = 526385152;
	rc = dg_target_dpa_to_ranges(&t, "mem0", 0x500000, 4096, &rg, &nr);
	CHECK(rc == 0 && nr == 16, "a 4 KiB DPA range is 16 granules: rc %d, %zu ranges", rc, nr);
	for (i = 0; !rc && i < nr; i++)
		CHECK(rg[i].length == 256 && rg[i].offset == 0x250000000ULL + 2 * 0x500000 + 0x100 +
								     i * 512 - 0x250a00000ULL,
		      "piece %zu: %#" PRIx64 "+%#" PRIx64, i, rg[i].offset, rg[i].length);
	rc = dg_target_dpa_to_ranges(&t, "mem1", 0x1000, 1, &rg, &nr);
	CHECK(rc == -ERANGE && strstr(dg_get_error(ctx) ?: "", "not on /dev/pmem0"),
	      "a DPA in the namespace's metadata: %d %s", rc, dg_get_error(ctx));
	CHECK(nr == 16, "a failed translation appends nothing (%zu)", nr);
	free(rg);
	rg = NULL;
	nr = 0;
	/* and back */
	CHECK(!dg_target_range_to_dpa(&t, 0x1000, 0x1000, 0, &dpa, &dl) &&
		      dpa == (0xa00000 + 0x1000) / 2 && dl == 0x800,
	      "offset 0x1000+0x1000 on mem1: %#" PRIx64 "+%#" PRIx64, dpa, dl);
	CHECK(!dg_target_range_to_dpa(&t, 0x1000, 0x1000, 1, &dpa, &dl) &&
		      dpa == (0xa00000 + 0x1000) / 2 && dl == 0x800,
	      "offset 0x1000+0x1000 on mem0: %#" PRIx64 "+%#" PRIx64, dpa, dl);
	CHECK(dg_target_range_to_dpa(&t, 0x1000, 0x100, 1, &dpa, &dl) == -ENOENT,
	      "one granule is on one memdev only");
	CHECK(!dg_cxl_memdev_mapped(root, "mem1", buf, sizeof(buf)) &&
		      !strcmp(buf, "0x0-0xfffffff (decoder3.0, region0)"),
	      "mem1 maps '%s'", buf);
	CHECK(dg_cxl_memdev_mapped(root, "mem9", buf, sizeof(buf)) == -ENODEV, "mem9");
	/* a slot that powers off takes the region with it (the pciehp source) */
	{
		char path[PATH_MAX + 64], *p0, *p1, *other;

		snprintf(path, sizeof(path), "%s/devices/pci0000:0c/0000:0c:00.0", root);
		p0 = realpath(path, NULL);
		snprintf(path, sizeof(path), "%s/devices/pci0000:0c/0000:0c:01.0", root);
		p1 = realpath(path, NULL);
		snprintf(path, sizeof(path), "%s/devices/pci0000:0c/0000:0c:00.0/0000:0d:00.0",
			 root);
		other = realpath(path, NULL);

		CHECK(p0 && dg_cxl_region_below(r, p0),
		      "region0 is below root port 0c:00.0 (mem1)");
		CHECK(p1 && dg_cxl_region_below(r, p1),
		      "region0 is below root port 0c:01.0 (mem0)");
		CHECK(other && dg_cxl_region_below(r, other), "region0 is below mem1's 0d:00.0");
		CHECK(!dg_cxl_region_below(r, "/sys/devices/pci0000:00"), "not below another bus");
		free(p0);
		free(p1);
		free(other);
	}
	dg_cxl_region_free(r);
}

/* the same region after its decoders were reset (commit 0) */
static void uncommitted(struct dg_ctx *ctx, const char *root)
{
	char tmpl[] = "/tmp/dg-test-cxl.XXXXXX", cmd[PATH_MAX * 2 + 64], path[PATH_MAX];
	struct dg_cxl_region *r = NULL;
	uint64_t hpa;
	FILE *f;
	int rc;

	if (!mkdtemp(tmpl)) {
		CHECK(0, "mkdtemp: %m");
		return;
	}
	snprintf(cmd, sizeof(cmd), "cp -a '%s/.' '%s/'", root, tmpl);
	CHECK(system(cmd) == 0, "%s", cmd);
	snprintf(path, sizeof(path),
		 "%s/devices/platform/ACPI0017:00/root0/decoder0.0/region0/commit", tmpl);
	f = fopen(path, "w");
	CHECK(f, "%s: %m", path);
	if (f) {
		fputs("0\n", f);
		fclose(f);
	}
	rc = dg_cxl_region_find(ctx, tmpl, 0x250a00000ULL, &r);
	CHECK(rc == 0, "the uncommitted region is found: %d", rc);
	if (!rc) {
		CHECK(!strcmp(dg_cxl_region_state(r), "uncommitted"), "state %s",
		      dg_cxl_region_state(r));
		rc = dg_cxl_region_dpa_to_hpa(r, "/dev/pmem0", "mem0", 0x1000, &hpa);
		CHECK(rc == -EBUSY && strstr(dg_get_error(ctx) ?: "", "not committed"),
		      "a DPA of an uncommitted region: %d %s", rc, dg_get_error(ctx));
		dg_cxl_region_free(r);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	CHECK(system(cmd) == 0, "%s", cmd);
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
	char path[PATH_MAX];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f) {
		CHECK(0, "%s: %m", path);
		return NULL;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf)
		buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* the target of topology(): pmem0 on the fixture's region0 */
static void fake_target(struct dg_ctx *ctx, const char *root, struct dg_target *t)
{
	memset(t, 0, sizeof(*t));
	t->ctx = ctx;
	t->devname = (char *)"/dev/pmem0";
	t->phys_start = 0x250a00000ULL;
	t->phys_size = 526385152;
	if (dg_cxl_region_find(ctx, root, t->phys_start, &t->cxl))
		CHECK(0, "no region in %s", root);
}

static void poison_lines(struct dg_ctx *ctx, const char *root, const char *fixtures)
{
	struct dg_cxl_poison *recs = NULL, rec;
	struct dg_range *rg = NULL;
	struct dg_target t;
	size_t len, nr = 0, nrg = 0, skipped = 0;
	char *buf = slurp(fixtures, "trace-poison.txt", &len), *p, *nl;
	int lists = 0, others = 0;

	if (!buf)
		return;
	for (p = buf; p < buf + len; p = nl + 1) {
		int rc;

		nl = strchr(p, '\n');
		if (!nl)
			nl = buf + len;
		rc = dg_parse_cxl_poison_line(p, (size_t)(nl - p + 1), &rec);
		CHECK(rc >= 0, "line '%.*s': %d", (int)(nl - p), p, rc);
		if (rc == 1) {
			recs = reallocarray(recs, nr + 1, sizeof(*recs));
			recs[nr++] = rec;
			lists++;
		} else {
			others++;
		}
	}
	free(buf);
	CHECK(lists == 4, "4 poison records (List x3, Inject; a Clear is none): %d", lists);
	if (nr == 4) {
		CHECK(!strcmp(recs[0].memdev, "mem0") && recs[0].dpa == 0x500000 &&
			      recs[0].length == 0x40 && recs[0].has_hpa &&
			      recs[0].hpa == 0x250a00100ULL && !strcmp(recs[0].region, "region0") &&
			      !strcmp(recs[0].source, "Injected"),
		      "record 0: %s %#" PRIx64 "+%#" PRIx64 " hpa %#" PRIx64 " %s %s",
		      recs[0].memdev, recs[0].dpa, recs[0].length, recs[0].hpa, recs[0].region,
		      recs[0].source);
		CHECK(recs[1].dpa == 0x500100 && recs[1].length == 0x200 && recs[1].has_hpa,
		      "record 1, with hpa_alias0: %#" PRIx64 "+%#" PRIx64, recs[1].dpa,
		      recs[1].length);
		CHECK(!recs[2].has_hpa && !recs[2].region[0] && recs[2].dpa == 0x30000000,
		      "record 2: in no region, hpa all ones means none");
		CHECK(recs[3].dpa == 0 && !strcmp(recs[3].memdev, "mem0"), "record 3, Inject");
	}
	fake_target(ctx, root, &t);
	CHECK(!dg_target_cxl_poison_ranges(&t, recs, nr, &rg, &nrg, &skipped), "%s",
	      dg_get_error(ctx));
	CHECK(nrg == 3 && skipped == 2,
	      "3 ranges; 2 records elsewhere (past the decoder, in the metadata): %zu, %zu", nrg,
	      skipped);
	if (nrg == 3) {
		CHECK(rg[0].offset == 0x100 && rg[0].length == 0x40,
		      "mem0 0x500000: %#" PRIx64 "+%#" PRIx64, rg[0].offset, rg[0].length);
		CHECK(rg[1].offset == 0x200 && rg[1].length == 0x100 && rg[2].offset == 0x400 &&
			      rg[2].length == 0x100,
		      "mem1 0x500100+0x200 is two granules apart: %#" PRIx64 "+%#" PRIx64
		      ", %#" PRIx64 "+%#" PRIx64,
		      rg[1].offset, rg[1].length, rg[2].offset, rg[2].length);
	}
	free(rg);
	free(recs);
	dg_cxl_region_free(t.cxl);
	/* what is not a poison record */
	{
		static const char *const bad[] = {
			"x: cxl_poison: host=a dpa=0x0 dpa_length=0x40",
			"x: cxl_poison: memdev=mem0 dpa=0x0",
			"x: cxl_poison: memdev=mem0 dpa=0x0 dpa_length=0x0",
			"x: cxl_poison: memdev=mem0 dpa=12 dpa_length=0x40",
			"x: cxl_poison: memdev=mem0 dpa=0xzz dpa_length=0x40",
			"x: cxl_poison: memdev=mem0 dpa=0x10000000000000000 dpa_length=0x40",
			"x: cxl_poison: memdev=mem0 dpa=0xffffffffffffffff dpa_length=0x40",
			"x: cxl_poison: memdev=mem0 garbage dpa=0x0 dpa_length=0x40",
			"x: cxl_poison: memdev=m\x1b[31m dpa=0x0 dpa_length=0x40",
		};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(bad); i++)
			CHECK(dg_parse_cxl_poison_line(bad[i], strlen(bad[i]), &rec) < 0,
			      "'%s' taken", bad[i]);
		CHECK(dg_parse_cxl_poison_line(
			      "x: cxl_poison: memdev=mem0\0 dpa=0x0 dpa_length=0x40", 45, &rec) ==
			      -EILSEQ,
		      "a NUL inside");
		CHECK(dg_parse_cxl_poison_line("cxl_dram: memdev=mem0", 21, &rec) == 0,
		      "another event");
	}
}

static void media_errors(struct dg_ctx *ctx, const char *root, const char *fixtures)
{
	struct dg_cxl_poison *recs = NULL;
	struct dg_range *rg = NULL;
	struct dg_target t;
	size_t len, nr = 0, nrg = 0, skipped = 0;
	char *buf;
	int rc;

	buf = slurp(fixtures, "media-errors-memdev.json", &len);
	rc = buf ? dg_parse_cxl_media_errors(buf, len, &recs, &nr) : -1;
	free(buf);
	CHECK(rc == 0 && nr == 2, "by memdev: rc %d, %zu records", rc, nr);
	if (nr == 2)
		CHECK(!strcmp(recs[0].memdev, "mem0") && recs[0].has_dpa &&
			      recs[0].dpa == 0x500000 && recs[0].length == 64 &&
			      !strcmp(recs[0].source, "Injected"),
		      "by memdev: the offset is the DPA");
	buf = slurp(fixtures, "media-errors-region-u.json", &len);
	rc = buf ? dg_parse_cxl_media_errors(buf, len, &recs, &nr) : -1;
	free(buf);
	CHECK(rc == 0 && nr == 4, "by region, -u: rc %d, %zu records in all", rc, nr);
	if (nr == 4)
		CHECK(!strcmp(recs[2].region, "region0") && recs[2].has_region_offset &&
			      recs[2].region_offset == 0x1400100 && recs[2].has_hpa &&
			      recs[2].hpa == 0x251400100ULL,
		      "by region: the offset is from the resource");
	fake_target(ctx, root, &t);
	CHECK(!dg_target_cxl_poison_ranges(&t, recs, nr, &rg, &nrg, &skipped), "%s",
	      dg_get_error(ctx));
	CHECK(nrg == 2 && skipped == 2, "2 ranges, 2 records elsewhere: %zu, %zu", nrg, skipped);
	if (nrg == 2)
		CHECK(rg[0].offset == 0x100 && rg[1].offset == 0xa00100, "%#" PRIx64 ", %#" PRIx64,
		      rg[0].offset, rg[1].offset);
	free(rg);
	dg_cxl_region_free(t.cxl);

	buf = slurp(fixtures, "media-errors-bad.json", &len);
	rc = buf ? dg_parse_cxl_media_errors(buf, len, &recs, &nr) : -1;
	free(buf);
	CHECK(rc == -EINVAL && nr == 4, "an error without a length: rc %d, %zu records", rc, nr);
	{
		static const char *const bad[] = {
			"[",
			"{}x",
			"[{\"media_errors\":[]}]",
			"{\"memdev\":\"mem0\",\"media_errors\":{}}",
			"{\"memdev\":\"mem0\",\"media_errors\":[{\"offset\":-1,\"length\":64}]}",
			"{\"memdev\":\"mem0\",\"media_errors\":[{\"offset\":\"0x\",\"length\":64}]}",
			"{\"memdev\":\"mem0\",\"media_errors\":[{\"offset\":\"0xffffffffffffffff\",\"length\":64}]}",
			"{\"memdev\":3,\"media_errors\":[]}",
		};
		size_t i;

		for (i = 0; i < ARRAY_SIZE(bad); i++)
			CHECK(dg_parse_cxl_media_errors(bad[i], strlen(bad[i]), &recs, &nr) < 0 &&
				      nr == 4,
			      "'%s' taken", bad[i]);
		CHECK(dg_parse_cxl_media_errors("[]", 2, &recs, &nr) == 0 && nr == 4,
		      "an empty list");
	}
	free(recs);
}

int main(int argc, char **argv)
{
	struct dg_ctx *ctx;

	if (argc != 3) {
		fprintf(stderr, "usage: test-cxl FIXTURES/sysfs/q35-cxl2 FIXTURES/cxl\n");
		return 2;
	}
	if (dg_new(&ctx))
		return 1;
	round_trip();
	far();
	ranges();
	bounds();
	parse_dpa();
	topology(ctx, argv[1]);
	uncommitted(ctx, argv[1]);
	poison_lines(ctx, argv[1], argv[2]);
	media_errors(ctx, argv[1], argv[2]);
	dg_unref(ctx);
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
