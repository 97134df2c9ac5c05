// SPDX-License-Identifier: GPL-2.0-or-later
/* Messages, columns and formats that every subcommand uses. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "daxguard.h"
#include "util/util.h"

/*
 * A message on stderr, in one line: what it says can hold names that
 * users chose (paths, mountpoints, command names), which must not reach
 * the terminal raw.
 */
static __attribute__((format(printf, 2, 0))) void vmessage(const char *prefix, const char *fmt,
							   va_list ap)
{
	char *msg = NULL, *safe;

	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	safe = dg_str_escape(msg, DG_ESC_TERMINAL);
	fprintf(stderr, "daxguard: %s%s\n", prefix, safe ? safe : "?");
	free(safe);
	free(msg);
}

void dg_errx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap);
	va_end(ap);
}

void dg_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning: ", fmt, ap);
	va_end(ap);
}

void dg_notex(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("note: ", fmt, ap);
	va_end(ap);
}

json_object *dg_jstr(const char *s)
{
	json_object *j;
	char *safe;

	if (!s)
		return NULL;
	safe = dg_str_escape(s, DG_ESC_JSON);
	j = json_object_new_string(safe ? safe : "?");
	free(safe);
	return j;
}

char *dg_safe(const char *s)
{
	return s ? dg_str_escape(s, DG_ESC_TERMINAL) : NULL;
}

int dg_lib_fail(struct dg_ctx *ctx, const char *object, int rc)
{
	const char *msg = dg_get_error(ctx);

	if (msg)
		dg_errx("%s", msg);
	else
		dg_errx("%s: %s", object, strerror(-rc));
	return DG_EXIT_FAILURE;
}

int dg_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	/* one line: the object and the cause, then where to read more */
	fputs("daxguard: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see 'daxguard %s --help')\n", cmd);
	return DG_EXIT_USAGE;
}

int dg_columns_parse(struct dg_columns *cols, const char *list)
{
	char *copy, *tok, *save = NULL;
	size_t i;

	copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	free(cols->ids);
	cols->ids = calloc(cols->nr_all, sizeof(*cols->ids));
	cols->nr = 0;
	if (!cols->ids) {
		free(copy);
		return -ENOMEM;
	}
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < cols->nr_all; i++)
			if (!strcasecmp(tok, cols->all[i].name))
				break;
		if (i == cols->nr_all) {
			dg_errx("unknown column: %s (see --list-columns)", tok);
			free(copy);
			return -EINVAL;
		}
		if (cols->nr < cols->nr_all)
			cols->ids[cols->nr++] = (int)i;
	}
	free(copy);
	return 0;
}

void dg_columns_print_help(const struct dg_columns *cols, FILE *out)
{
	size_t i;

	for (i = 0; i < cols->nr_all; i++)
		fprintf(out, " %14s  %s\n", cols->all[i].name, cols->all[i].help);
}

char *dg_fmt_size(const struct dg_output_opts *o, uint64_t bytes)
{
	char buf[32], *s;

	if (o->bytes || o->json)
		snprintf(buf, sizeof(buf), "%" PRIu64, bytes);
	else
		dg_size_str(bytes, buf, sizeof(buf));
	s = strdup(buf);
	return s;
}

char *dg_fmt_hex(uint64_t val)
{
	char *s;

	if (asprintf(&s, "%#" PRIx64, val) < 0)
		return NULL;
	return s;
}

char *dg_fmt_devnum(dev_t dev)
{
	char *s;

	if (asprintf(&s, "%u:%u", major(dev), minor(dev)) < 0)
		return NULL;
	return s;
}

int range_args_init(struct range_args *ra, int argc)
{
	memset(ra, 0, sizeof(*ra));
	/* each option takes an argument of its own: argc bounds the pairs */
	ra->cap = (size_t)argc;
	ra->user = calloc(ra->cap ? ra->cap : 1, sizeof(*ra->user));
	ra->phys = calloc(ra->cap ? ra->cap : 1, sizeof(*ra->phys));
	ra->memdev = calloc(ra->cap ? ra->cap : 1, sizeof(*ra->memdev));
	ra->page = calloc(ra->cap ? ra->cap : 1, sizeof(*ra->page));
	return ra->user && ra->phys && ra->memdev && ra->page ? 0 : -ENOMEM;
}

void range_args_free(struct range_args *ra)
{
	free(ra->user);
	free(ra->phys);
	free(ra->memdev);
	free(ra->page);
	free(ra->poison);
	free(ra->bb);
	free(ra->ranges);
}

int range_args_opt(struct range_args *ra, const char *cmd, enum range_opt which, const char *arg)
{
	static const char *const names[] = { "--offset", "--length", "--phys", "--pfn", "--dpa" };
	char memdev[32] = "";
	uint64_t v;
	int rc;

	if (which == RANGE_DPA) {
		rc = dg_parse_dpa(arg, memdev, sizeof(memdev), &v);
		if (rc)
			return dg_usage_error(
				cmd, "--dpa '%s': %s", arg,
				rc == -ERANGE ?
					"the address is too large for 64 bits" :
				rc == -ENAMETOOLONG ?
					"the memdev name is too long" :
					"not MEMDEV:DPA (a CXL memdev such as mem0, a colon, and a device physical address)");
	} else if (which == RANGE_PFN) {
		rc = dg_parse_pfn(arg, &v);
		if (rc)
			return dg_usage_error(
				cmd, "--pfn '%s': %s", arg,
				rc == -ERANGE ? "its address is too large for 64 bits" :
						"not a page frame number (0x hex or decimal)");
	} else {
		rc = dg_parse_size(arg, &v);
		if (rc)
			return dg_usage_error(
				cmd, "%s '%s': %s", names[which], arg,
				rc == -ERANGE ? "too large for 64 bits" :
						"not a size (bytes, 0x hex, or a K/M/G/T suffix)");
	}
	if (ra->nr_off >= ra->cap || ra->nr_len >= ra->cap)
		return dg_usage_error(cmd, "%s '%s': too many ranges", names[which], arg);
	switch (which) {
	case RANGE_LENGTH:
		if (!v)
			return dg_usage_error(cmd, "--length '%s': a range cannot be empty", arg);
		ra->user[ra->nr_len++].length = v;
		break;
	case RANGE_DPA:
		memcpy(ra->memdev[ra->nr_off], memdev, sizeof(memdev));
		/* fall through */
	case RANGE_PHYS:
	case RANGE_PFN:
		ra->phys[ra->nr_off] = true;
		ra->any_phys = true;
		/* fall through */
	case RANGE_OFFSET:
		ra->user[ra->nr_off++].offset = v;
		break;
	}
	return 0;
}

int range_args_check(struct range_args *ra, const char *cmd, bool required)
{
	size_t i;

	/* a physical address alone means one page, as memory failures come */
	if (ra->nr_len == 0 && ra->nr_off && ra->any_phys) {
		for (i = 0; i < ra->nr_off && ra->phys[i]; i++)
			;
		if (i == ra->nr_off) {
			for (i = 0; i < ra->nr_off; i++) {
				ra->user[i].length = (uint64_t)sysconf(_SC_PAGESIZE);
				ra->page[i] = true;
			}
			ra->nr_len = ra->nr_off;
		}
	}
	if (ra->nr_off != ra->nr_len)
		return dg_usage_error(
			cmd,
			"give --offset (or --phys, --pfn, --dpa) and --length together (%zu and %zu given)",
			ra->nr_off, ra->nr_len);
	if (required && !ra->nr_off && !ra->badblocks)
		return dg_usage_error(cmd,
				      "no range given: use --offset and --length, or --badblocks");
	return 0;
}

/*
 * A --dpa pair: the memdev's DPA range as pieces of the target, appended
 * to ra->ranges; an address alone is the page its host address is in,
 * since memory fails a page at a time.
 */
static int resolve_dpa(struct range_args *ra, size_t i, struct dg_target *t, struct dg_ctx *ctx)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), len = ra->page[i] ? 1 : ra->user[i].length;
	size_t first = ra->nr;
	int rc;

	rc = dg_target_dpa_to_ranges(t, ra->memdev[i], ra->user[i].offset, len, &ra->ranges,
				     &ra->nr);
	if (rc)
		return dg_lib_fail(ctx, ra->memdev[i], rc);
	if (ra->page[i] && ra->nr == first + 1) {
		struct dg_range *r = &ra->ranges[first];

		r->offset &= ~(page - 1);
		r->length = DG_MIN(page, dg_target_get_size(t) - r->offset);
	}
	return 0;
}

int range_args_resolve(struct range_args *ra, struct dg_target *t, struct dg_ctx *ctx)
{
	struct dg_range *g;
	size_t i;
	int rc;

	if (ra->from_sysfs) {
		rc = dg_target_get_badblocks(t, &ra->bb, &ra->nr_bb);
		if (rc)
			return dg_lib_fail(ctx, dg_target_get_devname(t), rc);
	}
	if (ra->from_cxl) {
		rc = dg_target_get_cxl_poison(t, &ra->bb, &ra->nr_bb);
		if (rc)
			return dg_lib_fail(ctx, dg_target_get_devname(t), rc);
	}
	if (ra->nr_poison) {
		size_t skipped = 0;

		rc = dg_target_cxl_poison_ranges(t, ra->poison, ra->nr_poison, &ra->bb, &ra->nr_bb,
						 &skipped);
		if (rc)
			return dg_lib_fail(ctx, dg_target_get_devname(t), rc);
		if (skipped)
			dg_notex(
				"%s: %zu of %zu CXL poison record(s) are not on it (another memdev, region or namespace, or unmapped capacity)",
				dg_target_get_devname(t), skipped, ra->nr_poison);
	}
	/* the pairs as given, then the lists */
	free(ra->ranges);
	ra->nr = 0;
	ra->ranges = calloc(ra->nr_off + ra->nr_bb + 1, sizeof(*ra->ranges));
	if (!ra->ranges) {
		dg_errx("%s: out of memory", dg_target_get_devname(t));
		return DG_EXIT_FAILURE;
	}
	for (i = 0; i < ra->nr_off; i++) {
		if (ra->memdev[i][0]) {
			rc = resolve_dpa(ra, i, t, ctx);
			if (rc)
				return rc;
			continue;
		}
		/* a --dpa before may have grown the array to fit exactly */
		g = realloc(ra->ranges, (ra->nr + 1) * sizeof(*g));
		if (!g) {
			dg_errx("%s: out of memory", dg_target_get_devname(t));
			return DG_EXIT_FAILURE;
		}
		ra->ranges = g;
		ra->ranges[ra->nr] = ra->user[i];
		if (ra->phys[i]) {
			rc = dg_target_phys_to_offset(t, ra->user[i].offset,
						      &ra->ranges[ra->nr].offset);
			if (rc)
				return dg_lib_fail(ctx, dg_target_get_devname(t), rc);
		}
		ra->nr++;
	}
	if (ra->nr_bb) {
		g = realloc(ra->ranges, (ra->nr + ra->nr_bb) * sizeof(*g));

		if (!g) {
			dg_errx("%s: out of memory", dg_target_get_devname(t));
			return DG_EXIT_FAILURE;
		}
		ra->ranges = g;
		memcpy(ra->ranges + ra->nr, ra->bb, ra->nr_bb * sizeof(*ra->ranges));
		ra->nr += ra->nr_bb;
	}
	return 0;
}

/* a whole file or stdin into memory: lists are small, and the format is told by the content */
static int slurp(int fd, char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);
	ssize_t r;

	if (!buf)
		return -ENOMEM;
	while ((r = read(fd, buf + n, cap - n)) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			free(buf);
			return -errno;
		}
		n += (size_t)r;
		if (n == cap) {
			char *g = cap >= (256u << 20) ? NULL : realloc(buf, cap * 2);

			if (!g) {
				free(buf);
				return cap >= (256u << 20) ? -EFBIG : -ENOMEM;
			}
			buf = g;
			cap *= 2;
		}
	}
	*out = buf;
	*len = n;
	return 0;
}

/* cxl_poison trace lines: every record; a malformed one is an error */
static int read_poison_lines(struct range_args *ra, const char *name, const char *buf, size_t len)
{
	size_t lineno = 0;
	const char *p = buf;

	while (p < buf + len) {
		const char *nl = memchr(p, '\n', (size_t)(buf + len - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(buf + len - p);
		struct dg_cxl_poison rec, *g;
		int rc = dg_parse_cxl_poison_line(p, n, &rec);

		lineno++;
		p += n + 1;
		if (rc == 0)
			continue;
		if (rc < 0) {
			dg_errx("%s:%zu: %s", name, lineno,
				rc == -EILSEQ ?
					"a NUL byte inside the line" :
					"a cxl_poison record without a memdev, dpa or dpa_length, or with a bad value");
			return DG_EXIT_USAGE;
		}
		g = reallocarray(ra->poison, ra->nr_poison + 1, sizeof(*g));
		if (!g) {
			dg_errx("%s: out of memory", name);
			return DG_EXIT_FAILURE;
		}
		ra->poison = g;
		ra->poison[ra->nr_poison++] = rec;
	}
	return 0;
}

/*
 * --badblocks FILE, - (stdin), sysfs (the target's own list, read once
 * the target is known) or cxl (the poison lists of its memdevs).  A FILE
 * holds a kernel badblocks list, cxl_poison trace lines, or the JSON of
 * `cxl list --media-errors`: the content tells which.  A list that
 * cannot be read, or has a bad line, is an error: nothing is acted on.
 */
int range_args_badblocks_opt(struct range_args *ra, const char *cmd, const char *arg)
{
	const char *name = arg, *p;
	size_t lineno, len = 0;
	char *buf = NULL;
	int fd, rc;

	ra->badblocks = true;
	if (!strcmp(arg, "sysfs")) {
		ra->from_sysfs = true;
		return 0;
	}
	if (!strcmp(arg, "cxl")) {
		ra->from_cxl = true;
		return 0;
	}
	if (!strcmp(arg, "-")) {
		fd = STDIN_FILENO;
		name = "<stdin>";
	} else {
		fd = open(arg, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			dg_errx("%s: cannot open the badblocks list: %s", arg, strerror(errno));
			return DG_EXIT_FAILURE;
		}
	}
	rc = slurp(fd, &buf, &len);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc) {
		dg_errx("%s: cannot read the badblocks list: %s", name, strerror(-rc));
		return DG_EXIT_FAILURE;
	}
	for (p = buf; p < buf + len && isspace((unsigned char)*p); p++)
		;
	if (p < buf + len && (*p == '[' || *p == '{')) {
		rc = dg_parse_cxl_media_errors(buf, len, &ra->poison, &ra->nr_poison);
		free(buf);
		if (!rc)
			return 0;
		dg_errx("%s: %s", name,
			rc == -EILSEQ ? "a NUL byte in the JSON" :
			rc == -ENOMEM ? "out of memory" :
					"not the JSON of 'cxl list --media-errors'");
		return rc == -ENOMEM ? DG_EXIT_FAILURE : DG_EXIT_USAGE;
	}
	if (memmem(buf, len, "cxl_poison: ", 12)) {
		rc = read_poison_lines(ra, name, buf, len);
		free(buf);
		return rc;
	}
	rc = dg_parse_badblocks(buf, len, &ra->bb, &ra->nr_bb, &lineno);
	free(buf);
	if (!rc)
		return 0;
	if (!lineno) {
		dg_errx("%s: cannot read the badblocks list: %s", name, strerror(-rc));
		return DG_EXIT_FAILURE;
	}
	/* the line is not shown: it may hold anything, terminal escapes too */
	dg_errx("%s:%zu: %s", name, lineno,
		rc == -ERANGE ? "the range passes 64 bits" :
		rc == -EILSEQ ? "a NUL byte inside the line" :
				"not a 'SECTOR COUNT' badblocks entry (512-byte sectors, decimal)");
	(void)cmd;
	return DG_EXIT_USAGE;
}

int range_args_getopt(struct range_args *ra, const char *cmd, int c, const char *arg)
{
	switch (c) {
	case RANGE_OPT_OFFSET:
		return range_args_opt(ra, cmd, RANGE_OFFSET, arg);
	case RANGE_OPT_LENGTH:
		return range_args_opt(ra, cmd, RANGE_LENGTH, arg);
	case RANGE_OPT_PHYS:
		return range_args_opt(ra, cmd, RANGE_PHYS, arg);
	case RANGE_OPT_PFN:
		return range_args_opt(ra, cmd, RANGE_PFN, arg);
	case RANGE_OPT_DPA:
		return range_args_opt(ra, cmd, RANGE_DPA, arg);
	case RANGE_OPT_BADBLOCKS:
		return range_args_badblocks_opt(ra, cmd, arg);
	case RANGE_OPT_RMAP:
		ra->rmap = arg;
		return 0;
	default:
		return -1;
	}
}

int dg_bad_option(const char *cmd, int c, char **argv)
{
	char opt[3] = { '-', (char)optopt, 0 };
	const char *last = optind > 0 ? argv[optind - 1] : NULL;
	/* a long option is named as typed; a short one may be in a group */
	const char *name = last && !strncmp(last, "--", 2) ? last : opt;

	if (c == ':')
		return dg_usage_error(cmd, "option '%s' needs an argument", name);
	return dg_usage_error(cmd, "unknown option '%s'", name);
}

/*
 * JSON output, member by member.  A report of thousands of users built as
 * one json-c tree held every object (each with a hash table of its own)
 * in memory until the end: 16 MB for 2,000 processes, and in a virtual
 * machine the page faults of that memory cost more than the building
 * (doc/benchmarks.md).  Here each member or array element is built by
 * json-c, printed and freed at once, in the layout of
 * json_object_to_json_string_ext(PRETTY | SPACED): two spaces a level.
 */
static void json_indent(struct dg_json_out *o)
{
	if (!o->compact)
		fprintf(o->f, "%*s", 2 * o->depth, "");
}

/* the separator before a member or element at the current level */
static void json_next(struct dg_json_out *o)
{
	if (o->compact)
		fputs(o->first[o->depth] ? "" : ",", o->f);
	else
		fputs(o->first[o->depth] ? "\n" : ",\n", o->f);
	o->first[o->depth] = false;
	json_indent(o);
}

/* @val (which is freed), its lines indented to the current level */
static void json_value(struct dg_json_out *o, json_object *val)
{
	const char *s = json_object_to_json_string_ext(
		val, o->compact ? JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE :
				  JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
					  JSON_C_TO_STRING_NOSLASHESCAPE);
	const char *nl;

	/* a string value holds no raw newline: each one starts a line */
	for (; (nl = strchr(s, '\n')); s = nl + 1) {
		fwrite(s, 1, (size_t)(nl + 1 - s), o->f);
		json_indent(o);
	}
	fputs(s, o->f);
	json_object_put(val);
}

static void json_key(struct dg_json_out *o, const char *key)
{
	json_next(o);
	/* keys are ours: plain words, nothing to escape */
	fprintf(o->f, o->compact ? "\"%s\":" : "\"%s\": ", key);
}

void dg_json_begin(struct dg_json_out *o, FILE *f)
{
	o->compact = false;
	o->f = f;
	o->depth = 1;
	o->first[1] = true;
	fputc('{', f);
}

void dg_json_begin_line(struct dg_json_out *o, FILE *f)
{
	dg_json_begin(o, f);
	o->compact = true;
}

void dg_json_member(struct dg_json_out *o, const char *key, json_object *val)
{
	json_key(o, key);
	json_value(o, val);
}

void dg_json_array_begin(struct dg_json_out *o, const char *key)
{
	json_key(o, key);
	fputc('[', o->f);
	o->depth++;
	o->first[o->depth] = true;
}

void dg_json_element(struct dg_json_out *o, json_object *val)
{
	json_next(o);
	json_value(o, val);
}

void dg_json_array_end(struct dg_json_out *o)
{
	o->depth--;
	if (!o->compact)
		fputc('\n', o->f);
	json_indent(o);
	fputc(']', o->f);
}

void dg_json_end(struct dg_json_out *o)
{
	fputs(o->compact ? "}\n" : "\n}\n", o->f);
	fflush(o->f);
}

json_object *dg_json_cxl_region(struct dg_cxl_region *r)
{
	json_object *jr = json_object_new_object(), *ja = json_object_new_array();
	uint64_t serial;
	size_t i;

	json_object_object_add(jr, "region", dg_jstr(dg_cxl_region_get_name(r)));
	json_object_object_add(jr, "decoder", dg_jstr(dg_cxl_region_get_decoder(r)));
	json_object_object_add(jr, "uuid", dg_jstr(dg_cxl_region_get_uuid(r)));
	json_object_object_add(jr, "mode", dg_jstr(dg_cxl_region_get_mode(r)));
	json_object_object_add(jr, "resource",
			       json_object_new_uint64(dg_cxl_region_get_resource(r)));
	json_object_object_add(jr, "size", json_object_new_uint64(dg_cxl_region_get_size(r)));
	json_object_object_add(jr, "interleave_ways",
			       json_object_new_int((int)dg_cxl_region_get_interleave_ways(r)));
	json_object_object_add(
		jr, "interleave_granularity",
		json_object_new_int((int)dg_cxl_region_get_interleave_granularity(r)));
	json_object_object_add(jr, "state", dg_jstr(dg_cxl_region_get_state(r)));
	for (i = 0; i < dg_cxl_region_get_nr_targets(r); i++) {
		struct dg_cxl_target *ct = dg_cxl_region_get_target(r, i);
		json_object *jm = json_object_new_object();

		json_object_object_add(jm, "position",
				       json_object_new_int((int)dg_cxl_target_get_position(ct)));
		json_object_object_add(jm, "memdev", dg_jstr(dg_cxl_target_get_memdev(ct)));
		if (!dg_cxl_target_get_serial(ct, &serial))
			json_object_object_add(jm, "serial", json_object_new_uint64(serial));
		json_object_object_add(jm, "host", dg_jstr(dg_cxl_target_get_host(ct)));
		json_object_object_add(jm, "decoder", dg_jstr(dg_cxl_target_get_decoder(ct)));
		json_object_object_add(jm, "dpa_start",
				       json_object_new_uint64(dg_cxl_target_get_dpa_start(ct)));
		json_object_object_add(jm, "dpa_size",
				       json_object_new_uint64(dg_cxl_target_get_dpa_size(ct)));
		json_object_array_add(ja, jm);
	}
	json_object_object_add(jr, "memdevs", ja);
	return jr;
}

void dg_print_cxl_region(struct dg_cxl_region *r, const char *indent)
{
	uint64_t serial, start, size;
	size_t i;

	printf("%sCXL %s (%s): %#" PRIx64 "-%#" PRIx64
	       ", %s, %u-way interleave every %u bytes, %s\n",
	       indent, dg_cxl_region_get_name(r), dg_cxl_region_get_decoder(r),
	       dg_cxl_region_get_resource(r),
	       dg_cxl_region_get_resource(r) + dg_cxl_region_get_size(r) - 1,
	       dg_cxl_region_get_mode(r), dg_cxl_region_get_interleave_ways(r),
	       dg_cxl_region_get_interleave_granularity(r), dg_cxl_region_get_state(r));
	for (i = 0; i < dg_cxl_region_get_nr_targets(r); i++) {
		struct dg_cxl_target *ct = dg_cxl_region_get_target(r, i);

		start = dg_cxl_target_get_dpa_start(ct);
		size = dg_cxl_target_get_dpa_size(ct);
		printf("%s  position %u: %s", indent, dg_cxl_target_get_position(ct),
		       dg_cxl_target_get_memdev(ct));
		if (!dg_cxl_target_get_serial(ct, &serial))
			printf(", serial %#" PRIx64, serial);
		if (dg_cxl_target_get_host(ct))
			printf(", PCI %s", dg_cxl_target_get_host(ct));
		printf(", %s, DPA %#" PRIx64 "-%#" PRIx64 "\n", dg_cxl_target_get_decoder(ct),
		       start, start + size - (size ? 1 : 0));
	}
}
