// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Events and sources: what every source shares.  A source owns one
 * descriptor for the caller's poll loop and a queue of events; each
 * source's own file (event-*.c) knows its kernel interface.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

int dg_source_alloc(struct dg_ctx *ctx, const struct dg_source_ops *ops, size_t priv_size,
		    struct dg_source **out)
{
	struct dg_source *src = calloc(1, sizeof(*src));

	if (!src)
		return -ENOMEM;
	src->priv = priv_size ? calloc(1, priv_size) : NULL;
	if (priv_size && !src->priv) {
		free(src);
		return -ENOMEM;
	}
	src->ops = ops;
	src->ctx = dg_ref(ctx);
	src->fd = -1;
	src->tail = &src->queue;
	*out = src;
	return 0;
}

DG_EXPORT void dg_source_free(struct dg_source *src)
{
	struct dg_event *ev;

	if (!src)
		return;
	while ((ev = dg_source_pop_event(src)))
		dg_event_free(ev);
	if (src->ops->free)
		src->ops->free(src);
	if (src->fd >= 0)
		close(src->fd);
	free(src->priv);
	free(src->path);
	dg_unref(src->ctx);
	free(src);
}

DG_EXPORT const char *dg_source_get_name(struct dg_source *src)
{
	return src->ops->name;
}

DG_EXPORT struct dg_device *dg_source_get_device(struct dg_source *src)
{
	return src->device;
}

DG_EXPORT const char *dg_source_get_path(struct dg_source *src)
{
	return src->path;
}

DG_EXPORT int dg_source_get_fd(struct dg_source *src)
{
	return src->fd;
}

DG_EXPORT int dg_source_get_timeout(struct dg_source *src)
{
	return src->ops->timeout ? src->ops->timeout(src) : -1;
}

DG_EXPORT int dg_source_process(struct dg_source *src)
{
	size_t before = 0, after = 0;
	struct dg_event *ev;
	int rc;

	for (ev = src->queue; ev; ev = ev->next)
		before++;
	dg_clear_error(src->ctx);
	rc = src->ops->process(src);
	if (rc < 0)
		return rc;
	for (ev = src->queue; ev; ev = ev->next)
		after++;
	return (int)(after - before);
}

DG_EXPORT struct dg_event *dg_source_pop_event(struct dg_source *src)
{
	struct dg_event *ev = src->queue;

	if (!ev)
		return NULL;
	src->queue = ev->next;
	if (!src->queue)
		src->tail = &src->queue;
	ev->next = NULL;
	return ev;
}

struct dg_event *dg_event_new(struct dg_source *src, enum dg_event_kind kind)
{
	struct dg_event *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	ev->kind = kind;
	ev->source = src->ops->name;
	ev->device = src->device;
	return ev;
}

void dg_source_queue(struct dg_source *src, struct dg_event *ev)
{
	*src->tail = ev;
	src->tail = &ev->next;
}

int dg_event_add_range(struct dg_event *ev, uint64_t offset, uint64_t length)
{
	struct dg_range *r = reallocarray(ev->ranges, ev->nr_ranges + 1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	ev->ranges = r;
	r[ev->nr_ranges++] = (struct dg_range){ offset, length };
	return 0;
}

int dg_event_add_kernel_pid(struct dg_event *ev, pid_t pid)
{
	pid_t *p;
	size_t i;

	for (i = 0; i < ev->nr_kpids; i++)
		if (ev->kpids[i] == pid)
			return 0;
	p = reallocarray(ev->kpids, ev->nr_kpids + 1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	ev->kpids = p;
	p[ev->nr_kpids++] = pid;
	return 0;
}

int dg_event_warn(struct dg_event *ev, const char *format, ...)
{
	char *msg, **w;
	va_list ap;
	int n;

	va_start(ap, format);
	n = vasprintf(&msg, format, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	w = reallocarray(ev->warnings, ev->nr_warnings + 1, sizeof(*w));
	if (!w) {
		free(msg);
		return -ENOMEM;
	}
	ev->warnings = w;
	w[ev->nr_warnings++] = msg;
	return 0;
}

int dg_event_add_line(struct dg_event *ev, const char *line)
{
	char *m;

	if (asprintf(&m, "%s%s%s", ev->message ?: "", ev->message ? "\n" : "", line) < 0)
		return -ENOMEM;
	free(ev->message);
	ev->message = m;
	return 0;
}

DG_EXPORT void dg_event_free(struct dg_event *ev)
{
	size_t i;

	if (!ev)
		return;
	free(ev->devname);
	free(ev->subsystem);
	free(ev->action);
	free(ev->syspath);
	free(ev->slot);
	free(ev->message);
	free(ev->kernel_result);
	free(ev->ranges);
	free(ev->kpids);
	for (i = 0; i < ev->nr_warnings; i++)
		free(ev->warnings[i]);
	free(ev->warnings);
	free(ev);
}

DG_EXPORT const char *dg_event_kind_name(enum dg_event_kind kind)
{
	switch (kind) {
	case DG_EVENT_BADBLOCKS:
		return "badblocks";
	case DG_EVENT_MEMORY_FAILURE:
		return "memory-failure";
	case DG_EVENT_DEVICE_ADD:
		return "device-add";
	case DG_EVENT_DEVICE_REMOVE:
		return "device-remove";
	case DG_EVENT_DEVICE_CHANGE:
		return "device-change";
	case DG_EVENT_PRE_REMOVE:
		return "pre-remove";
	case DG_EVENT_PRE_REMOVE_CANCELED:
		return "pre-remove-canceled";
	}
	return "?";
}

DG_EXPORT enum dg_event_kind dg_event_get_kind(struct dg_event *ev)
{
	return ev->kind;
}

DG_EXPORT const char *dg_event_get_source(struct dg_event *ev)
{
	return ev->source;
}

DG_EXPORT struct dg_device *dg_event_get_device(struct dg_event *ev)
{
	return ev->device;
}

DG_EXPORT const char *dg_event_get_devname(struct dg_event *ev)
{
	return ev->devname;
}

DG_EXPORT dev_t dg_event_get_devnum(struct dg_event *ev)
{
	return ev->devnum;
}

DG_EXPORT const char *dg_event_get_subsystem(struct dg_event *ev)
{
	return ev->subsystem;
}

DG_EXPORT const char *dg_event_get_action(struct dg_event *ev)
{
	return ev->action;
}

DG_EXPORT const char *dg_event_get_syspath(struct dg_event *ev)
{
	return ev->syspath;
}

DG_EXPORT const char *dg_event_get_slot(struct dg_event *ev)
{
	return ev->slot;
}

DG_EXPORT bool dg_event_is_initial(struct dg_event *ev)
{
	return ev->initial;
}

DG_EXPORT size_t dg_event_get_nr_ranges(struct dg_event *ev)
{
	return ev->nr_ranges;
}

DG_EXPORT const struct dg_range *dg_event_get_range(struct dg_event *ev, size_t idx)
{
	return idx < ev->nr_ranges ? &ev->ranges[idx] : NULL;
}

DG_EXPORT uint64_t dg_event_get_phys(struct dg_event *ev)
{
	return ev->phys;
}

DG_EXPORT uint64_t dg_event_get_page_size(struct dg_event *ev)
{
	return ev->page_size;
}

DG_EXPORT const char *dg_event_get_kernel_result(struct dg_event *ev)
{
	return ev->kernel_result;
}

DG_EXPORT size_t dg_event_get_nr_kernel_pids(struct dg_event *ev)
{
	return ev->nr_kpids;
}

DG_EXPORT pid_t dg_event_get_kernel_pid(struct dg_event *ev, size_t idx)
{
	return idx < ev->nr_kpids ? ev->kpids[idx] : 0;
}

DG_EXPORT const char *dg_event_get_message(struct dg_event *ev)
{
	return ev->message;
}

DG_EXPORT size_t dg_event_get_nr_warnings(struct dg_event *ev)
{
	return ev->nr_warnings;
}

DG_EXPORT const char *dg_event_get_warning(struct dg_event *ev, size_t idx)
{
	return idx < ev->nr_warnings ? ev->warnings[idx] : NULL;
}
