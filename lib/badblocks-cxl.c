// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * CXL poison as input: what a memdev says is bad, by device physical
 * address, turned into ranges of a target.
 *
 *  - The cxl_poison trace event (drivers/cxl/core/trace.h, Linux 6.4 and
 *    later), as tracefs prints it:
 *      memdev=mem0 host=0000:0d:00.0 serial=1 trace_type=List region=region0
 *      region_uuid=... hpa=0x250001000 dpa=0x800 dpa_length=0x40
 *      source=Injected flags= overflow_time=0
 *    (6.15 adds hpa_alias0= after hpa=; keys are taken by name.)
 *  - `cxl list --media-errors` (ndctl v80 and later) JSON: "media_errors"
 *    arrays of {"offset", "length", "source"} under a memdev (offset is
 *    the DPA) or a region (offset from the region's resource).
 *  - A memdev's poison list itself: writing its trigger_poison_list
 *    attribute makes the kernel read the device's list and emit one
 *    cxl_poison record per entry, which a private tracefs instance
 *    collects (what `cxl list --media-errors` does through libtracefs).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "private.h"

/* "0x1f": hex with its 0x, nothing else */
static int parse_hex(const char *s, size_t n, uint64_t *v)
{
	uint64_t r = 0;
	size_t i;

	if (n < 3 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -EINVAL;
	for (i = 2; i < n; i++) {
		unsigned int d;

		if (isdigit((unsigned char)s[i]))
			d = (unsigned int)(s[i] - '0');
		else if (isxdigit((unsigned char)s[i]))
			d = (unsigned int)(tolower((unsigned char)s[i]) - 'a' + 10);
		else
			return -EINVAL;
		if (r >> 60)
			return -ERANGE;
		r = r * 16 + d;
	}
	*v = r;
	return 0;
}

static bool name_ok(const char *s, size_t n, size_t max)
{
	size_t i;

	if (n >= max)
		return false;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '.' && s[i] != '_' && s[i] != '-' &&
		    s[i] != ':')
			return false;
	return true;
}

DG_EXPORT int dg_parse_cxl_poison_line(const char *line, size_t len, struct dg_cxl_poison *rec)
{
	static const char tag[] = "cxl_poison: ";
	struct dg_cxl_poison r = { 0 };
	const char *p, *end = line + len, *k;
	bool have_dpa = false, have_len = false, clear = false;
	size_t i;

	if (len && line[len - 1] == '\n')
		end--;
	for (i = 0; line + i < end; i++)
		if (!line[i])
			return -EILSEQ;
	p = memmem(line, (size_t)(end - line), tag, sizeof(tag) - 1);
	if (!p)
		return 0;
	p += sizeof(tag) - 1;
	while (p < end) {
		const char *eq, *v, *ve;
		size_t kn, vn;
		uint64_t n;

		while (p < end && *p == ' ')
			p++;
		if (p >= end)
			break;
		k = p;
		while (p < end && *p != ' ')
			p++;
		eq = memchr(k, '=', (size_t)(p - k));
		if (!eq)
			return -EINVAL;
		kn = (size_t)(eq - k);
		v = eq + 1;
		ve = p;
		vn = (size_t)(ve - v);
		if (kn == 6 && !memcmp(k, "memdev", 6)) {
			if (!vn || !name_ok(v, vn, sizeof(r.memdev)))
				return -EINVAL;
			memcpy(r.memdev, v, vn);
		} else if (kn == 6 && !memcmp(k, "region", 6)) {
			if (!name_ok(v, vn, sizeof(r.region)))
				return -EINVAL;
			memcpy(r.region, v, vn);
		} else if (kn == 3 && !memcmp(k, "dpa", 3)) {
			if (parse_hex(v, vn, &r.dpa))
				return -EINVAL;
			have_dpa = true;
		} else if (kn == 10 && !memcmp(k, "dpa_length", 10)) {
			if (parse_hex(v, vn, &r.length) || !r.length)
				return -EINVAL;
			have_len = true;
		} else if (kn == 3 && !memcmp(k, "hpa", 3)) {
			if (parse_hex(v, vn, &n))
				return -EINVAL;
			/* ULLONG_MAX: the DPA is in no region */
			if (n != UINT64_MAX) {
				r.hpa = n;
				r.has_hpa = true;
			}
		} else if (kn == 6 && !memcmp(k, "source", 6)) {
			if (!name_ok(v, vn, sizeof(r.source)))
				return -EINVAL;
			memcpy(r.source, v, vn);
		} else if ((kn == 10 && !memcmp(k, "trace_type", 10)) ||
			   (kn == 4 && !memcmp(k, "type", 4))) {
			/* List and Inject name poison; Clear takes it away */
			clear = vn == 5 && !memcmp(v, "Clear", 5);
		}
	}
	if (!r.memdev[0] || !have_dpa || !have_len)
		return -EINVAL;
	if (r.dpa + r.length < r.dpa)
		return -ERANGE;
	r.has_dpa = true;
	if (clear)
		return 0;
	*rec = r;
	return 1;
}

/* a JSON number, or a string: "0x40000000", "64" */
static int json_u64(json_object *j, uint64_t *v)
{
	const char *s;
	char *end;

	if (json_object_is_type(j, json_type_int)) {
		errno = 0;
		if (json_object_get_int64(j) < 0)
			return -EINVAL;
		*v = json_object_get_uint64(j);
		return errno ? -ERANGE : 0;
	}
	if (!json_object_is_type(j, json_type_string))
		return -EINVAL;
	s = json_object_get_string(j);
	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2))
		return parse_hex(s, strlen(s), v);
	if (!isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

static int add_rec(struct dg_cxl_poison **recs, size_t *nr, const struct dg_cxl_poison *r)
{
	struct dg_cxl_poison *g = reallocarray(*recs, *nr + 1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	g[*nr] = *r;
	*recs = g;
	(*nr)++;
	return 0;
}

static int copy_name(json_object *o, const char *key, char *buf, size_t size)
{
	json_object *j;
	const char *s;

	if (!json_object_object_get_ex(o, key, &j))
		return 0;
	if (!json_object_is_type(j, json_type_string))
		return -EINVAL;
	s = json_object_get_string(j);
	if (!name_ok(s, strlen(s), size))
		return -EINVAL;
	memcpy(buf, s, strlen(s) + 1);
	return 1;
}

static int walk_media_errors(json_object *o, struct dg_cxl_poison **recs, size_t *nr, int depth)
{
	json_object *me, *j;
	int rc;

	if (depth > 16)
		return -EINVAL;
	if (json_object_is_type(o, json_type_array)) {
		size_t i, n = json_object_array_length(o);

		for (i = 0; i < n; i++) {
			rc = walk_media_errors(json_object_array_get_idx(o, i), recs, nr,
					       depth + 1);
			if (rc)
				return rc;
		}
		return 0;
	}
	if (!json_object_is_type(o, json_type_object))
		return 0;
	if (json_object_object_get_ex(o, "media_errors", &me)) {
		struct dg_cxl_poison base = { 0 };
		uint64_t resource = 0;
		bool has_res = false;
		size_t i, n;

		if (!json_object_is_type(me, json_type_array))
			return -EINVAL;
		if (copy_name(o, "memdev", base.memdev, sizeof(base.memdev)) < 0 ||
		    copy_name(o, "region", base.region, sizeof(base.region)) < 0)
			return -EINVAL;
		if (!base.memdev[0] && !base.region[0])
			return -EINVAL; /* whose errors? */
		if (json_object_object_get_ex(o, "resource", &j)) {
			if (json_u64(j, &resource))
				return -EINVAL;
			has_res = true;
		}
		n = json_object_array_length(me);
		for (i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(me, i), *jo, *jl, *js;
			struct dg_cxl_poison r = base;
			uint64_t off;

			if (!json_object_is_type(e, json_type_object) ||
			    !json_object_object_get_ex(e, "length", &jl) ||
			    json_u64(jl, &r.length) || !r.length)
				return -EINVAL;
			if (json_object_object_get_ex(e, "source", &js) &&
			    json_object_is_type(js, json_type_string))
				snprintf(r.source, sizeof(r.source), "%.15s",
					 json_object_get_string(js));
			/* an error in no mapped address has no offset when listed by region */
			if (json_object_object_get_ex(e, "offset", &jo)) {
				if (json_u64(jo, &off))
					return -EINVAL;
				if (base.memdev[0]) {
					r.dpa = off;
					r.has_dpa = true;
				} else {
					r.region_offset = off;
					r.has_region_offset = true;
					if (has_res &&
					    !__builtin_add_overflow(resource, off, &r.hpa))
						r.has_hpa = true;
				}
				if (off + r.length < off)
					return -ERANGE;
			}
			rc = add_rec(recs, nr, &r);
			if (rc)
				return rc;
		}
	}
	/* memdevs nest under regions, ports and buses in cxl list's output */
	json_object_object_foreach(o, key, val)
	{
		if (!strcmp(key, "media_errors"))
			continue;
		rc = walk_media_errors(val, recs, nr, depth + 1);
		if (rc)
			return rc;
	}
	return 0;
}

DG_EXPORT int dg_parse_cxl_media_errors(const char *buf, size_t len, struct dg_cxl_poison **recs,
					size_t *nr)
{
	struct json_tokener *tok;
	json_object *root;
	size_t old = *nr, i;
	int rc;

	for (i = 0; i < len; i++)
		if (!buf[i])
			return -EILSEQ;
	if (len > INT_MAX)
		return -E2BIG;
	tok = json_tokener_new_ex(32);
	if (!tok)
		return -ENOMEM;
	root = json_tokener_parse_ex(tok, buf, (int)len);
	if (!root || json_tokener_get_error(tok) != json_tokener_success) {
		json_object_put(root);
		json_tokener_free(tok);
		return -EINVAL;
	}
	/* nothing but blanks after the value */
	for (i = tok->char_offset; i < len; i++)
		if (!isspace((unsigned char)buf[i]))
			break;
	json_tokener_free(tok);
	if (i < len) {
		json_object_put(root);
		return -EINVAL;
	}
	rc = walk_media_errors(root, recs, nr, 0);
	json_object_put(root);
	if (rc) {
		/* nothing of a list with a bad record is taken */
		*nr = old;
		if (!old) {
			free(*recs);
			*recs = NULL;
		}
	}
	return rc;
}

DG_EXPORT int dg_target_cxl_poison_ranges(struct dg_target *t, const struct dg_cxl_poison *recs,
					  size_t nr, struct dg_range **ranges, size_t *nr_ranges,
					  size_t *skipped)
{
	size_t i;
	int rc;

	*skipped = 0;
	if (!t->cxl && !t->phys_size)
		return dg_fail(
			t->ctx, -ENXIO,
			"%s: has no physical address range, so no CXL region: poison records mean nothing on it",
			t->devname);
	for (i = 0; i < nr; i++) {
		const struct dg_cxl_poison *r = &recs[i];
		uint64_t hpa = 0;
		bool have = false;

		if (r->has_dpa && r->memdev[0] && t->cxl) {
			rc = dg_target_dpa_to_ranges(t, r->memdev, r->dpa, r->length, ranges,
						     nr_ranges);
			if (rc == -ENOMEM || rc == -E2BIG)
				return rc;
			if (rc) {
				/* another region's memdev, unmapped capacity, another namespace */
				dbg(t->ctx, "%s", dg_get_error(t->ctx) ?: "");
				dg_clear_error(t->ctx);
				(*skipped)++;
			}
			continue;
		}
		if (r->has_hpa) {
			hpa = r->hpa;
			have = true;
		} else if (r->has_region_offset && t->cxl && !strcmp(r->region, t->cxl->name)) {
			have = !__builtin_add_overflow(t->cxl->resource, r->region_offset, &hpa);
		}
		if (!have || hpa < t->phys_start || hpa - t->phys_start >= t->phys_size) {
			(*skipped)++;
			continue;
		}
		{
			struct dg_range *g = realloc(*ranges, (*nr_ranges + 1) * sizeof(*g));
			uint64_t off = hpa - t->phys_start;

			if (!g)
				return -ENOMEM;
			g[*nr_ranges].offset = off;
			g[*nr_ranges].length = DG_MIN(r->length, t->phys_size - off);
			*ranges = g;
			(*nr_ranges)++;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Reading the memdevs' poison lists */

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, s, strlen(s)) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

/* where tracefs is; mounted at its usual place when it is not yet */
static int tracefs_dir(char *buf, size_t size)
{
	static const char *const dirs[] = { "/sys/kernel/tracing", "/sys/kernel/debug/tracing" };
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/instances", dirs[i]);
		if (access(path, F_OK) == 0) {
			snprintf(buf, size, "%s", dirs[i]);
			return 0;
		}
	}
	if (mount("tracefs", dirs[0], "tracefs", 0, NULL) < 0)
		return -errno;
	snprintf(buf, size, "%s", dirs[0]);
	return 0;
}

static int read_file(const char *path, char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (!buf || fd < 0) {
		int rc = fd < 0 ? -errno : -ENOMEM;

		free(buf);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	while ((r = read(fd, buf + n, cap - n)) > 0) {
		n += (size_t)r;
		if (n == cap) {
			char *g = realloc(buf, cap * 2);

			if (!g) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = g;
			cap *= 2;
		}
	}
	close(fd);
	if (r < 0) {
		free(buf);
		return -errno;
	}
	*out = buf;
	*len = n;
	return 0;
}

DG_EXPORT int dg_target_get_cxl_poison(struct dg_target *t, struct dg_range **ranges, size_t *nr)
{
	const struct dg_cxl_region *r = t->cxl;
	struct dg_cxl_poison *recs = NULL, rec;
	char tdir[PATH_MAX], inst[PATH_MAX + 64], path[PATH_MAX + 128], *buf = NULL, *line;
	size_t nrec = 0, len = 0, i, skipped;
	int rc;

	dg_clear_error(t->ctx);
	if (!r)
		return dg_fail(t->ctx, -ENXIO, "%s: not on a CXL region: it has no memdevs to ask",
			       t->devname);
	for (i = 0; i < r->nr_targets; i++) {
		snprintf(path, sizeof(path), "%s/bus/cxl/devices/%s/trigger_poison_list",
			 r->sysroot, r->targets[i].memdev);
		if (access(path, W_OK))
			return dg_fail(
				t->ctx, -EOPNOTSUPP,
				"%s: cannot read its poison list: no trigger_poison_list "
				"(it needs Linux 6.4 or later and a device with the Get Poison "
				"List command; QEMU 7.2's type-3 device has none)",
				r->targets[i].memdev);
	}
	rc = tracefs_dir(tdir, sizeof(tdir));
	if (rc)
		return dg_fail(t->ctx, rc, "tracefs is not mounted and cannot be: %s",
			       strerror(-rc));
	/* a private instance: the global buffer and its settings stay as they are */
	snprintf(inst, sizeof(inst), "%s/instances/daxguard-%d", tdir, (int)getpid());
	if (mkdir(inst, 0700) < 0 && errno != EEXIST)
		return dg_fail(t->ctx, -errno, "%s: %s", inst, strerror(errno));
	snprintf(path, sizeof(path), "%s/events/cxl/cxl_poison/enable", inst);
	rc = write_str(path, "1");
	if (rc) {
		rc = dg_fail(t->ctx, rc == -ENOENT ? -EOPNOTSUPP : rc,
			     "%s: the kernel has no cxl_poison trace event (Linux 6.4 or later)",
			     path);
		goto out;
	}
	/* the kernel emits every record before the write returns */
	for (i = 0; i < r->nr_targets; i++) {
		snprintf(path, sizeof(path), "%s/bus/cxl/devices/%s/trigger_poison_list",
			 r->sysroot, r->targets[i].memdev);
		rc = write_str(path, "1");
		if (rc) {
			rc = dg_fail(t->ctx, rc, "%s: reading its poison list failed: %s",
				     r->targets[i].memdev, strerror(-rc));
			goto out;
		}
	}
	snprintf(path, sizeof(path), "%s/trace", inst);
	rc = read_file(path, &buf, &len);
	if (rc) {
		rc = dg_fail(t->ctx, rc, "%s: %s", path, strerror(-rc));
		goto out;
	}
	for (line = buf; line < buf + len;) {
		char *nl = memchr(line, '\n', (size_t)(buf + len - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(buf + len - line);

		if (dg_parse_cxl_poison_line(line, n, &rec) == 1 &&
		    dg_cxl_region_memdev(r, rec.memdev)) {
			rc = add_rec(&recs, &nrec, &rec);
			if (rc)
				goto out;
		}
		line += n + 1;
	}
	rc = dg_target_cxl_poison_ranges(t, recs, nrec, ranges, nr, &skipped);
	if (!rc && skipped)
		info(t->ctx, "%s: %zu poison record(s) of its memdevs lie elsewhere", t->devname,
		     skipped);
out:
	free(buf);
	free(recs);
	snprintf(path, sizeof(path), "%s/events/cxl/cxl_poison/enable", inst);
	write_str(path, "0");
	rmdir(inst);
	return rc;
}
