// SPDX-License-Identifier: GPL-2.0-or-later
/* Messages, columns and formats that every subcommand uses. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/sysmacros.h>

#include "daxguard.h"
#include "util/util.h"

void dg_errx(const char *fmt, ...)
{
	va_list ap;

	fputs("daxguard: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void dg_warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("daxguard: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
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
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
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
		fprintf(out, " %14s  %s\n", cols->all[i].name,
			cols->all[i].help);
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
	ra->cap = (size_t)argc;
	ra->ranges = calloc(ra->cap ? ra->cap : 1, sizeof(*ra->ranges));
	ra->phys = calloc(ra->cap ? ra->cap : 1, sizeof(*ra->phys));
	return ra->ranges && ra->phys ? 0 : -ENOMEM;
}

void range_args_free(struct range_args *ra)
{
	free(ra->ranges);
	free(ra->phys);
}

int range_args_opt(struct range_args *ra, const char *cmd, enum range_opt which,
		   const char *arg)
{
	static const char *const names[] = { "--offset", "--length", "--phys" };
	uint64_t v;
	int rc = dg_parse_size(arg, &v);

	if (rc)
		return dg_usage_error(cmd, "%s '%s': %s", names[which], arg,
				      rc == -ERANGE ? "too large for 64 bits" :
						      "not a size (bytes, 0x hex, or a K/M/G/T suffix)");
	switch (which) {
	case RANGE_LENGTH:
		if (!v)
			return dg_usage_error(cmd, "--length '%s': a range cannot be empty",
					      arg);
		ra->ranges[ra->nr_len++].length = v;
		break;
	case RANGE_PHYS:
		ra->phys[ra->nr_off] = true;
		ra->any_phys = true;
		/* fall through */
	case RANGE_OFFSET:
		ra->ranges[ra->nr_off++].offset = v;
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
			for (i = 0; i < ra->nr_off; i++)
				ra->ranges[i].length = 4096;
			ra->nr_len = ra->nr_off;
		}
	}
	if (ra->nr_off != ra->nr_len)
		return dg_usage_error(cmd,
				      "give --offset (or --phys) and --length together (%zu and %zu given)",
				      ra->nr_off, ra->nr_len);
	if (required && !ra->nr_off)
		return dg_usage_error(cmd, "no range given: use --offset and --length");
	return 0;
}

int range_args_resolve(struct range_args *ra, struct dg_target *t,
		       struct dg_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ra->nr_off; i++) {
		int rc;

		if (!ra->phys[i])
			continue;
		rc = dg_target_phys_to_offset(t, ra->ranges[i].offset,
					      &ra->ranges[i].offset);
		if (rc)
			return dg_lib_fail(ctx, dg_target_get_devname(t), rc);
	}
	return 0;
}
