// SPDX-License-Identifier: LGPL-2.1-or-later
/* What a flow did: victims (processes acted on) and steps, with times. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "private.h"

uint64_t dg_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t dg_report_elapsed(struct dg_report *rep)
{
	return dg_now_ms() - rep->t0;
}

struct dg_report *dg_report_new(struct dg_target *t)
{
	struct dg_report *rep = calloc(1, sizeof(*rep));

	if (!rep)
		return NULL;
	rep->target = t;
	rep->victims_tail = &rep->victims;
	rep->steps_tail = &rep->steps;
	rep->t0 = dg_now_ms();
	rep->complete = true;
	return rep;
}

struct dg_step *dg_step_begin(struct dg_report *rep, const char *stage, const char *object)
{
	struct dg_step *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->stage = stage;
	s->object = strdup(object ? object : "");
	s->start_ms = dg_report_elapsed(rep);
	*rep->steps_tail = s;
	rep->steps_tail = &s->next;
	return s;
}

void dg_step_end(struct dg_report *rep, struct dg_step *s, int status, const char *format, ...)
{
	va_list args;

	if (!s)
		return;
	s->status = status;
	s->duration_ms = dg_report_elapsed(rep) - s->start_ms;
	free(s->message);
	s->message = NULL;
	va_start(args, format);
	if (vasprintf(&s->message, format, args) < 0)
		s->message = NULL;
	va_end(args);
	if (status)
		rep->complete = false;
}

void dg_stage_notify(struct dg_ctx *ctx, const char *stage, enum dg_stage_event ev,
		     unsigned int pending, uint64_t elapsed)
{
	if (ctx->stage_fn)
		ctx->stage_fn(ctx, stage, ev, pending, elapsed);
}

DG_EXPORT void dg_set_stage_fn(struct dg_ctx *ctx, dg_stage_fn fn)
{
	ctx->stage_fn = fn;
}

DG_EXPORT void dg_report_free(struct dg_report *rep)
{
	struct dg_victim *v, *vn;
	struct dg_step *s, *sn;

	if (!rep)
		return;
	for (v = rep->victims; v; v = vn) {
		vn = v->next;
		if (v->pidfd >= 0)
			close(v->pidfd);
		free(v->comm);
		free(v);
	}
	for (s = rep->steps; s; s = sn) {
		sn = s->next;
		free(s->object);
		free(s->message);
		free(s);
	}
	dg_result_free(rep->result);
	free(rep);
}

DG_EXPORT struct dg_result *dg_report_get_result(struct dg_report *rep)
{
	return rep->result;
}

DG_EXPORT bool dg_report_is_complete(struct dg_report *rep)
{
	return rep->complete;
}

DG_EXPORT bool dg_report_metadata_hit(struct dg_report *rep)
{
	return rep->metadata_hit;
}

DG_EXPORT const char *dg_action_name(enum dg_action action)
{
	switch (action) {
	case DG_ACTION_REPORT:
		return "report";
	case DG_ACTION_TERM:
		return "term";
	case DG_ACTION_KILL:
		return "kill";
	case DG_ACTION_BUS:
		return "bus";
	}
	return "?";
}

DG_EXPORT int dg_action_parse(const char *name, enum dg_action *action)
{
	static const enum dg_action all[] = { DG_ACTION_REPORT, DG_ACTION_TERM, DG_ACTION_KILL,
					      DG_ACTION_BUS };
	size_t i;

	for (i = 0; name && i < ARRAY_SIZE(all); i++)
		if (!strcmp(name, dg_action_name(all[i]))) {
			*action = all[i];
			return 0;
		}
	return -EINVAL;
}

DG_EXPORT struct dg_victim *dg_victim_get_first(struct dg_report *rep)
{
	return rep->victims;
}

DG_EXPORT struct dg_victim *dg_victim_get_next(struct dg_victim *v)
{
	return v->next;
}

DG_EXPORT pid_t dg_victim_get_pid(struct dg_victim *v)
{
	return v->pid;
}

DG_EXPORT const char *dg_victim_get_comm(struct dg_victim *v)
{
	return v->comm;
}

DG_EXPORT enum dg_victim_state dg_victim_get_state(struct dg_victim *v)
{
	return v->state;
}

DG_EXPORT const char *dg_victim_state_name(enum dg_victim_state state)
{
	switch (state) {
	case DG_VICTIM_REPORTED:
		return "reported";
	case DG_VICTIM_EXITED:
		return "exited";
	case DG_VICTIM_SURVIVED:
		return "survived";
	case DG_VICTIM_GONE:
		return "gone";
	case DG_VICTIM_PROTECTED:
		return "protected";
	}
	return "?";
}

DG_EXPORT const char *dg_victim_get_reason(struct dg_victim *v)
{
	return v->reason[0] ? v->reason : NULL;
}

DG_EXPORT const char *dg_victim_get_signals(struct dg_victim *v)
{
	return v->signals;
}

DG_EXPORT uint64_t dg_victim_get_signalled_ms(struct dg_victim *v)
{
	return v->signalled_ms;
}

DG_EXPORT uint64_t dg_victim_get_exited_ms(struct dg_victim *v)
{
	return v->exited_ms;
}

DG_EXPORT struct dg_step *dg_step_get_first(struct dg_report *rep)
{
	return rep->steps;
}

DG_EXPORT struct dg_step *dg_step_get_next(struct dg_step *s)
{
	return s->next;
}

DG_EXPORT const char *dg_step_get_stage(struct dg_step *s)
{
	return s->stage;
}

DG_EXPORT const char *dg_step_get_object(struct dg_step *s)
{
	return s->object;
}

DG_EXPORT const char *dg_step_get_message(struct dg_step *s)
{
	return s->message ? s->message : "";
}

DG_EXPORT int dg_step_get_status(struct dg_step *s)
{
	return s->status;
}

DG_EXPORT uint64_t dg_step_get_start_ms(struct dg_step *s)
{
	return s->start_ms;
}

DG_EXPORT uint64_t dg_step_get_duration_ms(struct dg_step *s)
{
	return s->duration_ms;
}
