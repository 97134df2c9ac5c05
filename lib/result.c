// SPDX-License-Identifier: LGPL-2.1-or-later
/* The answer to a who query: owners, users and warnings, with accessors. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

struct dg_owner *dg_result_add_owner(struct dg_result *res, struct dg_fs *fs,
				     const struct dg_owner *tmpl)
{
	struct dg_owner *o = malloc(sizeof(*o));

	if (!o)
		return NULL;
	*o = *tmpl;
	o->next = NULL;
	o->result = res;
	o->fs = fs;
	o->fd = -1;
	o->path = tmpl->path ? strdup(tmpl->path) : NULL;
	*res->owners_tail = o;
	res->owners_tail = &o->next;
	res->nr_owners++;
	return o;
}

struct dg_user *dg_result_add_user(struct dg_result *res, const struct dg_user *tmpl,
				   const char *comm, const char *path, const char *our_path)
{
	struct dg_user *u = malloc(sizeof(*u));

	if (!u)
		return NULL;
	*u = *tmpl;
	u->next = NULL;
	u->result = res;
	u->comm = comm ? strdup(comm) : NULL;
	u->path = path ? strdup(path) : NULL;
	/* kept only where it differs: most processes share our root */
	if (!path || !our_path || !strcmp(path, our_path))
		our_path = NULL;
	u->our_path = our_path ? strdup(our_path) : NULL;
	if ((comm && !u->comm) || (path && !u->path) || (our_path && !u->our_path)) {
		free(u->comm);
		free(u->path);
		free(u->our_path);
		free(u);
		return NULL;
	}
	*res->users_tail = u;
	res->users_tail = &u->next;
	return u;
}

void dg_result_warn(struct dg_result *res, const char *format, ...)
{
	struct dg_warning *w;
	va_list args;
	char *text;
	size_t len;

	va_start(args, format);
	if (vasprintf(&text, format, args) < 0)
		text = NULL;
	va_end(args);
	if (!text)
		return;
	len = strlen(text);
	w = malloc(sizeof(*w) + len + 1);
	if (w) {
		w->next = NULL;
		memcpy(w->text, text, len + 1);
		*res->warnings_tail = w;
		res->warnings_tail = &w->next;
		res->nr_warnings++;
	}
	free(text);
}

static uint64_t owner_key(const struct dg_owner *o)
{
	return dg_fs_to_target(o->fs, o->offset);
}

static int cmp_owner(const void *a, const void *b)
{
	const struct dg_owner *x = *(struct dg_owner *const *)a;
	const struct dg_owner *y = *(struct dg_owner *const *)b;

	if (owner_key(x) != owner_key(y))
		return owner_key(x) < owner_key(y) ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->file_offset != y->file_offset)
		return x->file_offset < y->file_offset ? -1 : 1;
	return 0;
}

/* Device order, as an operator reads a disk; stable for equal keys. */
void dg_result_sort_owners(struct dg_result *res)
{
	struct dg_owner **v, *o;
	size_t i = 0;

	if (res->nr_owners < 2)
		return;
	v = malloc(res->nr_owners * sizeof(*v));
	if (!v)
		return;
	for (o = res->owners; o; o = o->next)
		v[i++] = o;
	qsort(v, res->nr_owners, sizeof(*v), cmp_owner);
	res->owners_tail = &res->owners;
	for (i = 0; i < res->nr_owners; i++) {
		*res->owners_tail = v[i];
		res->owners_tail = &v[i]->next;
	}
	*res->owners_tail = NULL;
	free(v);
}

int dg_result_add_unreadable(struct dg_result *res, pid_t pid, const char *comm, int error)
{
	struct dg_unreadable *r = calloc(1, sizeof(*r));

	if (!r)
		return -ENOMEM;
	r->pid = pid;
	r->error = error;
	snprintf(r->comm, sizeof(r->comm), "%s", comm ? comm : "?");
	*res->unreadable_tail = r;
	res->unreadable_tail = &r->next;
	res->nr_unreadable++;
	return 0;
}

void dg_result_incomplete(struct dg_result *res, const char *format, ...)
{
	va_list args;
	char *text = NULL;

	res->incomplete = true;
	va_start(args, format);
	if (vasprintf(&text, format, args) < 0)
		text = NULL;
	va_end(args);
	if (text)
		dg_result_warn(res, "%s", text);
	free(text);
}

DG_EXPORT bool dg_result_is_incomplete(struct dg_result *res)
{
	return res->incomplete;
}

DG_EXPORT size_t dg_result_get_nr_unreadable(struct dg_result *res)
{
	return res->nr_unreadable;
}

DG_EXPORT struct dg_unreadable *dg_unreadable_get_first(struct dg_result *res)
{
	return res->unreadable;
}

DG_EXPORT struct dg_unreadable *dg_unreadable_get_next(struct dg_unreadable *r)
{
	return r->next;
}

DG_EXPORT pid_t dg_unreadable_get_pid(struct dg_unreadable *r)
{
	return r->pid;
}

DG_EXPORT const char *dg_unreadable_get_comm(struct dg_unreadable *r)
{
	return r->comm;
}

DG_EXPORT int dg_unreadable_get_error(struct dg_unreadable *r)
{
	return r->error;
}

DG_EXPORT pid_t dg_user_get_tid(struct dg_user *u)
{
	return u->tid;
}

DG_EXPORT void dg_result_free(struct dg_result *res)
{
	struct dg_owner *o, *on;
	struct dg_user *u, *un;
	struct dg_warning *w, *wn;
	struct dg_unreadable *r, *rn;

	if (!res)
		return;
	for (o = res->owners; o; o = on) {
		on = o->next;
		if (o->fd >= 0)
			close(o->fd);
		free(o->path);
		free(o);
	}
	for (u = res->users; u; u = un) {
		un = u->next;
		free(u->comm);
		free(u->path);
		free(u->our_path);
		free(u);
	}
	for (w = res->warnings; w; w = wn) {
		wn = w->next;
		free(w);
	}
	for (r = res->unreadable; r; r = rn) {
		rn = r->next;
		free(r);
	}
	free(res->ranges);
	free(res);
}

DG_EXPORT bool dg_result_is_whole_device(struct dg_result *res)
{
	return res->whole;
}

DG_EXPORT size_t dg_result_get_nr_ranges(struct dg_result *res)
{
	return res->nr_ranges;
}

DG_EXPORT const struct dg_range *dg_result_get_range(struct dg_result *res, size_t idx)
{
	return idx < res->nr_ranges ? &res->ranges[idx] : NULL;
}

DG_EXPORT const char *dg_warning_get_first(struct dg_result *res)
{
	return res->warnings ? res->warnings->text : NULL;
}

DG_EXPORT const char *dg_warning_get_next(struct dg_result *res, const char *prev)
{
	struct dg_warning *w;

	for (w = res->warnings; w; w = w->next)
		if (w->text == prev)
			return w->next ? w->next->text : NULL;
	return NULL;
}

DG_EXPORT struct dg_owner *dg_owner_get_first(struct dg_result *res)
{
	return res->owners;
}

DG_EXPORT struct dg_owner *dg_owner_get_next(struct dg_owner *o)
{
	return o->next;
}

DG_EXPORT struct dg_fs *dg_owner_get_fs(struct dg_owner *o)
{
	return o->fs;
}

DG_EXPORT enum dg_owner_type dg_owner_get_type(struct dg_owner *o)
{
	return o->type;
}

DG_EXPORT const char *dg_owner_type_name(enum dg_owner_type type)
{
	switch (type) {
	case DG_OWNER_FILE:
		return "file";
	case DG_OWNER_METADATA:
		return "metadata";
	case DG_OWNER_FREE:
		return "free";
	case DG_OWNER_UNKNOWN:
		return "unknown";
	}
	return "?";
}

DG_EXPORT uint64_t dg_owner_get_offset(struct dg_owner *o)
{
	return dg_fs_to_target(o->fs, o->offset);
}

DG_EXPORT uint64_t dg_owner_get_length(struct dg_owner *o)
{
	return o->length;
}

DG_EXPORT unsigned int dg_owner_get_flags(struct dg_owner *o)
{
	return o->flags;
}

DG_EXPORT uint64_t dg_owner_get_inode(struct dg_owner *o)
{
	return o->ino;
}

DG_EXPORT uint64_t dg_owner_get_file_offset(struct dg_owner *o)
{
	return o->file_offset;
}

DG_EXPORT const char *dg_owner_get_path(struct dg_owner *o)
{
	return o->path;
}

DG_EXPORT const char *dg_owner_get_metadata(struct dg_owner *o)
{
	return o->metadata;
}

DG_EXPORT struct dg_user *dg_user_get_first(struct dg_result *res)
{
	return res->users;
}

DG_EXPORT struct dg_user *dg_user_get_next(struct dg_user *u)
{
	return u->next;
}

DG_EXPORT pid_t dg_user_get_pid(struct dg_user *u)
{
	return u->pid;
}

DG_EXPORT const char *dg_user_get_comm(struct dg_user *u)
{
	return u->comm;
}

DG_EXPORT enum dg_use dg_user_get_use(struct dg_user *u)
{
	return u->use;
}

DG_EXPORT const char *dg_use_name(enum dg_use use)
{
	switch (use) {
	case DG_USE_MAP:
		return "map";
	case DG_USE_FD:
		return "fd";
	case DG_USE_CWD:
		return "cwd";
	case DG_USE_ROOT:
		return "root";
	case DG_USE_EXE:
		return "exe";
	case DG_USE_DEVICE:
		return "device";
	case DG_USE_NODE:
		return "node";
	}
	return "?";
}

DG_EXPORT unsigned int dg_user_get_flags(struct dg_user *u)
{
	return u->flags;
}

DG_EXPORT struct dg_fs *dg_user_get_fs(struct dg_user *u)
{
	return u->fs;
}

DG_EXPORT uint64_t dg_user_get_inode(struct dg_user *u)
{
	return u->ino;
}

DG_EXPORT const char *dg_user_get_path(struct dg_user *u)
{
	return u->path;
}

DG_EXPORT struct dg_owner *dg_user_get_owner(struct dg_user *u)
{
	return u->owner;
}

DG_EXPORT int dg_user_get_fd(struct dg_user *u)
{
	return u->fd;
}

DG_EXPORT uint64_t dg_user_get_vm_start(struct dg_user *u)
{
	return u->vm_start;
}

DG_EXPORT uint64_t dg_user_get_vm_end(struct dg_user *u)
{
	return u->vm_end;
}

DG_EXPORT uint64_t dg_user_get_vm_pgoff(struct dg_user *u)
{
	return u->vm_pgoff;
}

DG_EXPORT uint64_t dg_user_get_file_offset(struct dg_user *u)
{
	return u->file_offset;
}

DG_EXPORT uint64_t dg_user_get_file_length(struct dg_user *u)
{
	return u->file_length;
}

DG_EXPORT uint64_t dg_user_get_node_bytes(struct dg_user *u)
{
	return u->node_bytes;
}

DG_EXPORT const char *dg_user_get_policy(struct dg_user *u)
{
	return u->use == DG_USE_NODE ? u->policy : NULL;
}

DG_EXPORT bool dg_user_is_bound(struct dg_user *u)
{
	return u->bound;
}

DG_EXPORT uint64_t dg_user_get_vm_pin_kb(struct dg_user *u)
{
	return u->vm_pin_kb;
}

DG_EXPORT const char *dg_user_get_pin_hint(struct dg_user *u)
{
	return u->pin_hint[0] ? u->pin_hint : NULL;
}
