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
