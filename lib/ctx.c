// SPDX-License-Identifier: LGPL-2.1-or-later
/* The library context: reference count, logging, last error. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "private.h"

static __attribute__((format(printf, 6, 0))) void log_stderr(struct dg_ctx *ctx, int priority,
							     const char *file, int line,
							     const char *fn, const char *format,
							     va_list args)
{
	fprintf(stderr, "libdaxguard: %s: ", fn);
	vfprintf(stderr, format, args);
}

static int log_priority_from_env(void)
{
	const char *env = getenv("DAXGUARD_LOG");

	if (!env)
		return LOG_ERR;
	if (!strcmp(env, "debug"))
		return LOG_DEBUG;
	if (!strcmp(env, "info"))
		return LOG_INFO;
	if (!strcmp(env, "err"))
		return LOG_ERR;
	return (int)strtol(env, NULL, 10);
}

DG_EXPORT const char *dg_get_version(void)
{
	return VERSION;
}

DG_EXPORT const char *dg_feature_name(unsigned int i)
{
	/* the libraries a build could leave out; each is linked in today */
	static const char *const features[] = { "libndctl", "libcxl", "libdevmapper", "libudev" };

	return i < ARRAY_SIZE(features) ? features[i] : NULL;
}

DG_EXPORT int dg_new(struct dg_ctx **ctx)
{
	struct dg_ctx *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->refcount = 1;
	c->log_fn = log_stderr;
	c->log_priority = log_priority_from_env();
	*ctx = c;
	return 0;
}

DG_EXPORT struct dg_ctx *dg_ref(struct dg_ctx *ctx)
{
	if (ctx)
		ctx->refcount++;
	return ctx;
}

DG_EXPORT struct dg_ctx *dg_unref(struct dg_ctx *ctx)
{
	if (!ctx || --ctx->refcount > 0)
		return ctx;
	free(ctx->error);
	free(ctx);
	return NULL;
}

DG_EXPORT void dg_set_log_fn(struct dg_ctx *ctx, dg_log_fn log_fn)
{
	ctx->log_fn = log_fn ? log_fn : log_stderr;
}

DG_EXPORT int dg_get_log_priority(struct dg_ctx *ctx)
{
	return ctx->log_priority;
}

DG_EXPORT void dg_set_log_priority(struct dg_ctx *ctx, int priority)
{
	ctx->log_priority = priority;
}

DG_EXPORT void dg_set_userdata(struct dg_ctx *ctx, void *userdata)
{
	ctx->userdata = userdata;
}

DG_EXPORT void *dg_get_userdata(struct dg_ctx *ctx)
{
	return ctx->userdata;
}

DG_EXPORT const char *dg_get_error(struct dg_ctx *ctx)
{
	return ctx->error;
}

void dg_log(struct dg_ctx *ctx, int priority, const char *file, int line, const char *fn,
	    const char *format, ...)
{
	va_list args;
	int saved = errno;

	va_start(args, format);
	ctx->log_fn(ctx, priority, file, line, fn, format, args);
	va_end(args);
	errno = saved;
}

int dg_fail(struct dg_ctx *ctx, int rc, const char *format, ...)
{
	va_list args;
	char *msg = NULL;

	va_start(args, format);
	if (vasprintf(&msg, format, args) < 0)
		msg = NULL;
	va_end(args);
	free(ctx->error);
	ctx->error = msg;
	dbg(ctx, "%s (%s)\n", msg ? msg : "?", strerror(-rc));
	return rc;
}

void dg_clear_error(struct dg_ctx *ctx)
{
	free(ctx->error);
	ctx->error = NULL;
}

void dg_ctx_add_helper(struct dg_ctx *ctx, pid_t pid)
{
	if (ctx->nr_helpers < ARRAY_SIZE(ctx->helpers))
		ctx->helpers[ctx->nr_helpers++] = pid;
}

void dg_ctx_del_helper(struct dg_ctx *ctx, pid_t pid)
{
	unsigned int i;

	for (i = 0; i < ctx->nr_helpers; i++)
		if (ctx->helpers[i] == pid) {
			ctx->helpers[i] = ctx->helpers[--ctx->nr_helpers];
			return;
		}
}

bool dg_ctx_is_helper(struct dg_ctx *ctx, pid_t pid)
{
	unsigned int i;

	for (i = 0; i < ctx->nr_helpers; i++)
		if (ctx->helpers[i] == pid)
			return true;
	return false;
}
