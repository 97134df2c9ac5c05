// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * CXL topology: the region behind a pmem or device-dax target, its
 * interleave, and each memdev's part in interleave order, so that a
 * device physical address (DPA) that a memdev reports (poison, media
 * errors) becomes an offset on the target, and an offset tells which card
 * holds it.
 *
 * There is no sysfs link from the nd region (or the dax region) to the
 * CXL region: the host physical address range joins them.  A region's
 * targetK attribute names the endpoint decoder at interleave position K;
 * the decoder's port (endpointN) names the memdev in its uport link.
 *
 * This reads sysfs, not libcxl, so that the unit test can point it at a
 * recorded tree (tests/fixtures/sysfs/q35-cxl2); the release path
 * (release-cxl.c) goes through libcxl, as ndctl's cxl tool does.
 *
 * The arithmetic is the modulo one of the CXL specification (r3.0,
 * 8.2.4.19.13, "Device Decode Logic"): the region's host addresses go
 * round the devices one granule at a time, so granule g of the region is
 * granule g / ways of the device at position g % ways.  Platforms whose
 * window interleaves host bridges by XOR arithmetic (CXIMS) place
 * positions differently; daxguard does not know those yet.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

static bool valid_ways(unsigned int ways)
{
	switch (ways) {
	case 1:
	case 2:
	case 3:
	case 4:
	case 6:
	case 8:
	case 12:
	case 16:
		return true;
	}
	return false;
}

static bool valid_granularity(unsigned int g)
{
	return g >= 256 && g <= 16384 && !(g & (g - 1));
}

DG_EXPORT int dg_cxl_dpa_to_hpa(unsigned int ways, unsigned int granularity, unsigned int position,
				uint64_t dpa_offset, uint64_t *hpa_offset)
{
	uint64_t chunk, hpa;

	if (!valid_ways(ways) || !valid_granularity(granularity) || position >= ways)
		return -EINVAL;
	chunk = dpa_offset / granularity;
	if (__builtin_mul_overflow(chunk, (uint64_t)ways, &hpa) ||
	    __builtin_add_overflow(hpa, (uint64_t)position, &hpa) ||
	    __builtin_mul_overflow(hpa, (uint64_t)granularity, &hpa) ||
	    __builtin_add_overflow(hpa, dpa_offset % granularity, &hpa))
		return -ERANGE;
	*hpa_offset = hpa;
	return 0;
}

DG_EXPORT int dg_cxl_hpa_to_dpa(unsigned int ways, unsigned int granularity, uint64_t hpa_offset,
				unsigned int *position, uint64_t *dpa_offset)
{
	uint64_t chunk;

	if (!valid_ways(ways) || !valid_granularity(granularity))
		return -EINVAL;
	chunk = hpa_offset / granularity;
	*position = (unsigned int)(chunk % ways);
	*dpa_offset = (chunk / ways) * granularity + hpa_offset % granularity;
	return 0;
}

DG_EXPORT int dg_cxl_hpa_range_to_dpa(unsigned int ways, unsigned int granularity,
				      uint64_t hpa_offset, uint64_t length, unsigned int position,
				      uint64_t *dpa_offset, uint64_t *dpa_length)
{
	uint64_t c0, c1, first, last, s, e, ds, de;
	unsigned int p;

	if (!valid_ways(ways) || !valid_granularity(granularity) || position >= ways || !length)
		return -EINVAL;
	if (hpa_offset + length < hpa_offset)
		return -ERANGE;
	c0 = hpa_offset / granularity;
	c1 = (hpa_offset + length - 1) / granularity;
	/* the first and last granule of the range that are this position's */
	first = c0 + (position + ways - c0 % ways) % ways;
	if (first > c1)
		return -ENOENT;
	last = c1 - (c1 % ways + ways - position) % ways;
	/*
	 * A position's granules are consecutive on its device: what the
	 * range covers of them is one contiguous DPA range.
	 */
	s = DG_MAX(hpa_offset, first * granularity);
	e = DG_MIN(hpa_offset + length, (last + 1) * granularity);
	dg_cxl_hpa_to_dpa(ways, granularity, s, &p, &ds);
	dg_cxl_hpa_to_dpa(ways, granularity, e - 1, &p, &de);
	*dpa_offset = ds;
	*dpa_length = de + 1 - ds;
	return 0;
}

DG_EXPORT int dg_parse_dpa(const char *str, char *memdev, size_t size, uint64_t *dpa)
{
	const char *colon, *p;
	uint64_t v;
	int rc;

	if (!str || !(colon = strchr(str, ':')))
		return -EINVAL;
	/* memN, as the cxl bus names memdevs */
	if (colon - str < 4 || strncmp(str, "mem", 3))
		return -EINVAL;
	for (p = str + 3; p < colon; p++)
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
	if ((size_t)(colon - str) >= size)
		return -ENAMETOOLONG;
	if (!isdigit((unsigned char)colon[1]))
		return -EINVAL; /* no blank, sign or empty address */
	rc = dg_parse_size(colon + 1, &v);
	if (rc)
		return rc;
	memcpy(memdev, str, (size_t)(colon - str));
	memdev[colon - str] = '\0';
	*dpa = v;
	return 0;
}

/* ------------------------------------------------------------------ */
/* sysfs */

/* a CXL bus device's directory */
static int open_dev(const char *sysroot, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/bus/cxl/devices/%s", sysroot, name);
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* @src into @dst, cut to fit: sysfs names are short */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* a hex ("0x250000000") or decimal attribute */
static int read_num(int dir, const char *attr, uint64_t *val)
{
	char buf[64], *end;
	unsigned long long v;

	if (dg_read_text(dir, attr, buf, sizeof(buf)) <= 0)
		return -ENOENT;
	errno = 0;
	v = strtoull(buf, &end, 0);
	if (errno || end == buf || (*end && !isspace((unsigned char)*end)))
		return -EINVAL;
	*val = v;
	return 0;
}

static int read_str(int dir, const char *attr, char *buf, size_t size)
{
	ssize_t n = dg_read_text(dir, attr, buf, size);

	if (n < 0) {
		buf[0] = '\0';
		return (int)n;
	}
	return 0;
}

/* the last component of the link @name in @dir, or "" */
static void link_base(int dir, const char *name, char *buf, size_t size)
{
	char link[PATH_MAX], *b;
	ssize_t n = readlinkat(dir, name, link, sizeof(link) - 1);

	buf[0] = '\0';
	if (n <= 0)
		return;
	link[n] = '\0';
	b = strrchr(link, '/');
	copy_str(buf, size, b ? b + 1 : link);
}

/*
 * The memdev of endpoint decoder @decoder: its port's uport, and the PCI
 * device above the memdev (what cxl list calls its host).
 */
static int read_endpoint(const char *sysroot, const char *decoder, struct dg_cxl_target *ct)
{
	char path[PATH_MAX], link[PATH_MAX], *p;
	int dir, mdir;
	ssize_t n;

	dir = open_dev(sysroot, decoder);
	if (dir < 0)
		return -ENOENT;
	copy_str(ct->decoder, sizeof(ct->decoder), decoder);
	if (read_num(dir, "dpa_resource", &ct->dpa_start) ||
	    read_num(dir, "dpa_size", &ct->dpa_size)) {
		close(dir);
		return -EIO;
	}
	read_str(dir, "mode", ct->mode, sizeof(ct->mode));
	/* decoderN.M lives in its port's directory */
	link_base(dir, "../uport", ct->memdev, sizeof(ct->memdev));
	close(dir);
	if (!ct->memdev[0])
		return -ENOENT;
	mdir = open_dev(sysroot, ct->memdev);
	if (mdir < 0)
		return -ENOENT;
	ct->has_serial = read_num(mdir, "serial", &ct->serial) == 0;
	close(mdir);
	snprintf(path, sizeof(path), "%s/bus/cxl/devices/%s", sysroot, ct->memdev);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		p = strrchr(link, '/');
		if (p) {
			*p = '\0';
			p = strrchr(link, '/');
			copy_str(ct->host, sizeof(ct->host), p ? p + 1 : link);
		}
	}
	return 0;
}

void dg_cxl_region_free(struct dg_cxl_region *r)
{
	if (!r)
		return;
	free(r->sysroot);
	free(r);
}

int dg_cxl_region_read(struct dg_ctx *ctx, const char *sysroot, const char *name,
		       struct dg_cxl_region **out)
{
	struct dg_cxl_region *r;
	char attr[32], dec[64], drv[64];
	uint64_t v;
	unsigned int i;
	int dir, rc = 0;

	dir = open_dev(sysroot, name);
	if (dir < 0)
		return -ENOENT;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->sysroot = strdup(sysroot))) {
		free(r);
		close(dir);
		return -ENOMEM;
	}
	r->ctx = ctx;
	copy_str(r->name, sizeof(r->name), name);
	if (read_num(dir, "resource", &r->resource) || read_num(dir, "size", &r->size) ||
	    read_num(dir, "interleave_ways", &v) || (r->ways = (unsigned int)v, 0) ||
	    read_num(dir, "interleave_granularity", &v)) {
		rc = -EIO;
		goto out;
	}
	r->granularity = (unsigned int)v;
	r->committed = read_num(dir, "commit", &v) == 0 && v == 1;
	read_str(dir, "uuid", r->uuid, sizeof(r->uuid));
	/* 6.1 has no mode attribute: its regions are all pmem */
	if (read_str(dir, "mode", r->mode, sizeof(r->mode)) || !r->mode[0])
		snprintf(r->mode, sizeof(r->mode), "pmem");
	link_base(dir, "driver", drv, sizeof(drv));
	r->enabled = drv[0] != '\0';
	link_base(dir, "..", r->root_decoder, sizeof(r->root_decoder));
	if (!r->root_decoder[0]) {
		/* ".." is no link: the region's real directory names its parent */
		char path[PATH_MAX], *real, *slash;

		snprintf(path, sizeof(path), "%s/bus/cxl/devices/%s", sysroot, name);
		real = realpath(path, NULL);
		if (real && (slash = strrchr(real, '/'))) {
			*slash = '\0';
			slash = strrchr(real, '/');
			copy_str(r->root_decoder, sizeof(r->root_decoder),
				 slash ? slash + 1 : real);
		}
		free(real);
	}
	if (r->ways > DG_CXL_MAX_WAYS) {
		rc = -EOPNOTSUPP;
		goto out;
	}
	for (i = 0; i < r->ways; i++) {
		struct dg_cxl_target *ct = &r->targets[r->nr_targets];

		snprintf(attr, sizeof(attr), "target%u", i);
		if (read_str(dir, attr, dec, sizeof(dec)) || !dec[0])
			continue; /* a position not filled (yet): uncommitted */
		ct->region = r;
		ct->position = i;
		if (read_endpoint(sysroot, dec, ct) == 0)
			r->nr_targets++;
	}
out:
	close(dir);
	if (rc) {
		dg_cxl_region_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int dg_cxl_region_find(struct dg_ctx *ctx, const char *sysroot, uint64_t hpa,
		       struct dg_cxl_region **out)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int rc = -ENOENT;

	snprintf(path, sizeof(path), "%s/bus/cxl/devices", sysroot);
	dir = opendir(path);
	if (!dir)
		return -ENOENT;
	while ((de = readdir(dir))) {
		uint64_t start, size;
		int d;

		if (strncmp(de->d_name, "region", 6) || !isdigit((unsigned char)de->d_name[6]))
			continue;
		d = open_dev(sysroot, de->d_name);
		if (d < 0)
			continue;
		if (read_num(d, "resource", &start) || read_num(d, "size", &size) || !size ||
		    hpa < start || hpa - start >= size) {
			close(d);
			continue;
		}
		close(d);
		rc = dg_cxl_region_read(ctx, sysroot, de->d_name, out);
		break;
	}
	closedir(dir);
	return rc;
}

const char *dg_cxl_region_state(const struct dg_cxl_region *r)
{
	if (!r->committed)
		return "uncommitted";
	return r->enabled ? "enabled" : "disabled";
}

/*
 * The DPA ranges the endpoint decoders of @memdev map, for an error:
 * "0x0-0xfffffff (decoder2.0, region0)", or "none".  -ENODEV when there
 * is no such memdev.
 */
int dg_cxl_memdev_mapped(const char *sysroot, const char *memdev, char *buf, size_t size)
{
	char path[PATH_MAX], port[64];
	struct dirent *de;
	size_t len = 0;
	DIR *dir;
	int m;

	buf[0] = '\0';
	m = open_dev(sysroot, memdev);
	if (m < 0)
		return -ENODEV;
	close(m);
	/* the endpoint port whose uport is @memdev */
	port[0] = '\0';
	snprintf(path, sizeof(path), "%s/bus/cxl/devices", sysroot);
	dir = opendir(path);
	while (dir && (de = readdir(dir))) {
		char up[64];
		int d;

		if (strncmp(de->d_name, "endpoint", 8))
			continue;
		d = open_dev(sysroot, de->d_name);
		if (d < 0)
			continue;
		link_base(d, "uport", up, sizeof(up));
		close(d);
		if (!strcmp(up, memdev)) {
			copy_str(port, sizeof(port), de->d_name);
			break;
		}
	}
	if (dir)
		closedir(dir);
	if (port[0]) {
		snprintf(path, sizeof(path), "%s/bus/cxl/devices/%s", sysroot, port);
		dir = opendir(path);
		while (dir && (de = readdir(dir))) {
			char region[64] = "";
			uint64_t start, sz;
			int d;

			if (strncmp(de->d_name, "decoder", 7))
				continue;
			d = open_dev(sysroot, de->d_name);
			if (d < 0)
				continue;
			if (!read_num(d, "dpa_resource", &start) && !read_num(d, "dpa_size", &sz) &&
			    sz) {
				read_str(d, "region", region, sizeof(region));
				len += (size_t)snprintf(buf + len, len < size ? size - len : 0,
							"%s0x%" PRIx64 "-0x%" PRIx64 " (%s, %s)",
							len ? ", " : "", start, start + sz - 1,
							de->d_name,
							region[0] ? region : "no region");
			}
			close(d);
		}
		if (dir)
			closedir(dir);
	}
	if (!len)
		snprintf(buf, size, "none");
	return 0;
}

const struct dg_cxl_target *dg_cxl_region_memdev(const struct dg_cxl_region *r, const char *memdev)
{
	size_t i;

	for (i = 0; i < r->nr_targets; i++)
		if (!strcmp(r->targets[i].memdev, memdev))
			return &r->targets[i];
	return NULL;
}

/* the region's memdevs in interleave order: "mem1, mem0" */
static void memdev_list(const struct dg_cxl_region *r, char *buf, size_t size)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < r->nr_targets && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
					r->targets[i].memdev);
}

int dg_cxl_region_dpa_to_hpa(const struct dg_cxl_region *r, const char *object, const char *memdev,
			     uint64_t dpa, uint64_t *hpa)
{
	const struct dg_cxl_target *ct = dg_cxl_region_memdev(r, memdev);
	char mapped[512], list[256];
	uint64_t off;
	int rc;

	if (!ct) {
		if (dg_cxl_memdev_mapped(r->sysroot, memdev, mapped, sizeof(mapped)) == -ENODEV)
			return dg_fail(r->ctx, -ENODEV, "%s: no such CXL memdev", memdev);
		memdev_list(r, list, sizeof(list));
		return dg_fail(r->ctx, -ENXIO,
			       "%s: not part of %s, which %s lies on (its memdevs: %s; %s maps %s)",
			       memdev, r->name, object, list, memdev, mapped);
	}
	if (dpa < ct->dpa_start || dpa - ct->dpa_start >= ct->dpa_size || !r->committed) {
		dg_cxl_memdev_mapped(r->sysroot, memdev, mapped, sizeof(mapped));
		if (!r->committed && dpa >= ct->dpa_start && dpa - ct->dpa_start < ct->dpa_size)
			return dg_fail(
				r->ctx, -EBUSY,
				"%s: DPA %#" PRIx64
				" is in %s, whose %s is not committed (being reset, or never committed): it maps no host address",
				memdev, dpa, ct->decoder, r->name);
		return dg_fail(r->ctx, -ERANGE,
			       "%s: DPA %#" PRIx64
			       " is outside every committed decoder; its mapped ranges: %s",
			       memdev, dpa, mapped);
	}
	rc = dg_cxl_dpa_to_hpa(r->ways, r->granularity, ct->position, dpa - ct->dpa_start, &off);
	if (rc == -EINVAL)
		return dg_fail(
			r->ctx, -EOPNOTSUPP,
			"%s: an interleave of %u ways every %u bytes is not one daxguard knows",
			r->name, r->ways, r->granularity);
	if (rc || off >= r->size)
		return dg_fail(r->ctx, -ERANGE, "%s: DPA %#" PRIx64 " maps past the end of %s",
			       memdev, dpa, r->name);
	*hpa = r->resource + off;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The target's region */

/* topology.c calls this once the target's physical range is known */
void dg_target_find_cxl(struct dg_target *t)
{
	int rc;

	if (!t->phys_size || t->cxl)
		return;
	rc = dg_cxl_region_find(t->ctx, "/sys", t->phys_start, &t->cxl);
	if (rc && rc != -ENOENT)
		dbg(t->ctx, "%s: cannot read the CXL region at %#" PRIx64 ": %s", t->devname,
		    t->phys_start, strerror(-rc));
}

DG_EXPORT struct dg_cxl_region *dg_target_get_cxl_region(struct dg_target *t)
{
	return t->cxl;
}

DG_EXPORT const char *dg_cxl_region_get_name(struct dg_cxl_region *r)
{
	return r->name;
}

DG_EXPORT const char *dg_cxl_region_get_decoder(struct dg_cxl_region *r)
{
	return r->root_decoder;
}

DG_EXPORT const char *dg_cxl_region_get_uuid(struct dg_cxl_region *r)
{
	return r->uuid[0] ? r->uuid : NULL;
}

DG_EXPORT const char *dg_cxl_region_get_mode(struct dg_cxl_region *r)
{
	return r->mode;
}

DG_EXPORT uint64_t dg_cxl_region_get_resource(struct dg_cxl_region *r)
{
	return r->resource;
}

DG_EXPORT uint64_t dg_cxl_region_get_size(struct dg_cxl_region *r)
{
	return r->size;
}

DG_EXPORT unsigned int dg_cxl_region_get_interleave_ways(struct dg_cxl_region *r)
{
	return r->ways;
}

DG_EXPORT unsigned int dg_cxl_region_get_interleave_granularity(struct dg_cxl_region *r)
{
	return r->granularity;
}

DG_EXPORT const char *dg_cxl_region_get_state(struct dg_cxl_region *r)
{
	return dg_cxl_region_state(r);
}

DG_EXPORT size_t dg_cxl_region_get_nr_targets(struct dg_cxl_region *r)
{
	return r->nr_targets;
}

DG_EXPORT struct dg_cxl_target *dg_cxl_region_get_target(struct dg_cxl_region *r, size_t idx)
{
	return idx < r->nr_targets ? &r->targets[idx] : NULL;
}

DG_EXPORT unsigned int dg_cxl_target_get_position(struct dg_cxl_target *ct)
{
	return ct->position;
}

DG_EXPORT const char *dg_cxl_target_get_memdev(struct dg_cxl_target *ct)
{
	return ct->memdev;
}

DG_EXPORT int dg_cxl_target_get_serial(struct dg_cxl_target *ct, uint64_t *serial)
{
	if (!ct->has_serial)
		return -ENOENT;
	*serial = ct->serial;
	return 0;
}

DG_EXPORT const char *dg_cxl_target_get_host(struct dg_cxl_target *ct)
{
	return ct->host[0] ? ct->host : NULL;
}

DG_EXPORT const char *dg_cxl_target_get_decoder(struct dg_cxl_target *ct)
{
	return ct->decoder;
}

DG_EXPORT uint64_t dg_cxl_target_get_dpa_start(struct dg_cxl_target *ct)
{
	return ct->dpa_start;
}

DG_EXPORT uint64_t dg_cxl_target_get_dpa_size(struct dg_cxl_target *ct)
{
	return ct->dpa_size;
}

static int need_cxl(struct dg_target *t)
{
	if (t->cxl)
		return 0;
	if (!t->phys_size)
		return dg_fail(
			t->ctx, -ENXIO,
			"%s: has no physical address range, so no CXL region: a DPA means nothing on it",
			t->devname);
	return dg_fail(t->ctx, -ENXIO,
		       "%s: not on a CXL region (its physical range %#" PRIx64 "-%#" PRIx64
		       " is in none)",
		       t->devname, t->phys_start, t->phys_start + t->phys_size - 1);
}

/* Too many pieces for one request: a long range on a fine interleave. */
#define DG_CXL_MAX_PIECES 65536

DG_EXPORT int dg_target_dpa_to_ranges(struct dg_target *t, const char *memdev, uint64_t dpa,
				      uint64_t length, struct dg_range **ranges, size_t *nr)
{
	const struct dg_cxl_region *r;
	struct dg_range *out = NULL;
	size_t n = 0, cap = 0;
	uint64_t pos = dpa, end;
	int rc;

	dg_clear_error(t->ctx);
	rc = need_cxl(t);
	if (rc)
		return rc;
	r = t->cxl;
	if (!length || __builtin_add_overflow(dpa, length, &end))
		return dg_fail(t->ctx, -EINVAL,
			       "%s: DPA range %#" PRIx64 "+%#" PRIx64 " is empty or passes 64 bits",
			       memdev, dpa, length);
	while (pos < end) {
		/* one granule at a time: the next one is elsewhere on the host */
		uint64_t next = (pos / r->granularity + 1) * r->granularity, hpa, off, len;

		if (next > end || next < pos)
			next = end;
		len = next - pos;
		rc = dg_cxl_region_dpa_to_hpa(r, t->devname, memdev, pos, &hpa);
		if (rc)
			goto fail;
		if (hpa < t->phys_start || hpa - t->phys_start >= t->phys_size) {
			rc = dg_fail(t->ctx, -ERANGE,
				     "%s: DPA %#" PRIx64 " is host address %#" PRIx64
				     " of %s, which is not on %s (%#" PRIx64 "-%#" PRIx64
				     "): another namespace of the region, or its metadata",
				     memdev, pos, hpa, r->name, t->devname, t->phys_start,
				     t->phys_start + t->phys_size - 1);
			goto fail;
		}
		off = hpa - t->phys_start;
		len = DG_MIN(len, t->phys_size - off);
		if (n && out[n - 1].offset + out[n - 1].length == off) {
			out[n - 1].length += len;
		} else {
			if (n == cap) {
				struct dg_range *g;

				if (n >= DG_CXL_MAX_PIECES) {
					rc = dg_fail(
						t->ctx, -E2BIG,
						"%s: DPA range %#" PRIx64 "+%#" PRIx64
						" is more than %d pieces of %s's interleave: give shorter ranges",
						memdev, dpa, length, DG_CXL_MAX_PIECES, r->name);
					goto fail;
				}
				cap = cap ? cap * 2 : 16;
				g = realloc(out, cap * sizeof(*out));
				if (!g) {
					rc = -ENOMEM;
					goto fail;
				}
				out = g;
			}
			out[n].offset = off;
			out[n].length = len;
			n++;
		}
		pos = next;
	}
	{
		struct dg_range *g = realloc(*ranges, (*nr + n) * sizeof(**ranges));

		if (!g) {
			rc = -ENOMEM;
			goto fail;
		}
		memcpy(g + *nr, out, n * sizeof(*out));
		*ranges = g;
		*nr += n;
	}
	free(out);
	return 0;
fail:
	free(out);
	return rc;
}

DG_EXPORT int dg_target_range_to_dpa(struct dg_target *t, uint64_t offset, uint64_t length,
				     size_t idx, uint64_t *dpa, uint64_t *dpa_length)
{
	const struct dg_cxl_region *r = t->cxl;
	uint64_t hpa, doff;
	int rc;

	if (!r || idx >= r->nr_targets || !length)
		return -EINVAL;
	if (offset >= t->phys_size || length > t->phys_size - offset)
		return -ERANGE;
	hpa = t->phys_start + offset;
	if (hpa < r->resource || hpa - r->resource >= r->size ||
	    length > r->size - (hpa - r->resource))
		return -ERANGE;
	rc = dg_cxl_hpa_range_to_dpa(r->ways, r->granularity, hpa - r->resource, length,
				     r->targets[idx].position, &doff, dpa_length);
	if (rc)
		return rc;
	*dpa = r->targets[idx].dpa_start + doff;
	return 0;
}

bool dg_cxl_region_below(const struct dg_cxl_region *r, const char *syspath)
{
	size_t i;

	for (i = 0; i < r->nr_targets; i++) {
		char path[PATH_MAX], *real;
		bool below;

		snprintf(path, sizeof(path), "%s/bus/cxl/devices/%s", r->sysroot,
			 r->targets[i].memdev);
		real = realpath(path, NULL);
		below = dg_path_is_below(real, syspath);
		free(real);
		if (below)
			return true;
	}
	return false;
}
