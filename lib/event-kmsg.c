// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The kernel's memory-failure messages as an event source.
 *
 * mm/memory-failure.c logs, for one page, a line per process it signals
 * and then what it did with the page:
 *
 *   Memory failure: 0x109298: Sending SIGBUS to dgvm-probe:126 due to hardware memory corruption
 *   Memory failure: 0x109298: recovery action for dax page: Recovered
 *
 * The process that touched the page is always signalled (BUS_MCEERR_AR);
 * the other mappers only when vm.memory_failure_early_kill is 1.  One
 * event per page is queued once the "recovery action" line came (or a
 * second passed without it): its physical address, the processes the
 * kernel signalled, and its result.  The caller maps the address to a
 * device and offset exactly as `daxguard who --pfn` does
 * (dg_parse_pfn(), then the device's physical range) and acts on the
 * mappers the kernel left alone.
 *
 * Only records of the kernel facility count: a line that a process wrote
 * to /dev/kmsg is no word of the kernel's.  Records that were in the ring
 * buffer when the source started are queued as initial events.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

#define KMSG_RECORD_MAX 8192 /* the kernel's own limit (CONSOLE_EXT_LOG_MAX) */
#define MF_WAIT_MS 1000 /* how long a page's lines may take to all arrive */

int dg_kmsg_parse_record(char *buf, size_t len, struct dg_kmsg_record *rec)
{
	char *semi, *nl, *p, *end;
	unsigned long prio;
	uint64_t seq;

	memset(rec, 0, sizeof(*rec));
	if (!len || len >= KMSG_RECORD_MAX)
		return -EINVAL;
	buf[len] = '\0';
	semi = memchr(buf, ';', len);
	if (!semi)
		return -EINVAL;
	errno = 0;
	prio = strtoul(buf, &p, 10);
	if (errno || p == buf || *p != ',')
		return -EINVAL;
	seq = strtoull(p + 1, &end, 10);
	if (end == p + 1 || (*end != ',' && *end != ';'))
		return -EINVAL;
	rec->facility = (int)(prio >> 3);
	rec->level = (int)(prio & 7);
	rec->seq = seq;
	rec->message = semi + 1;
	nl = strchr(rec->message, '\n');
	if (!nl)
		return 0; /* a record without its newline: the message is all */
	*nl = '\0';
	/* then " KEY=VALUE" lines: the device the record is about */
	for (p = nl + 1; *p == ' '; p = nl + 1) {
		nl = strchr(p, '\n');
		if (nl)
			*nl = '\0';
		if (!strncmp(p + 1, "DEVICE=", 7))
			rec->device = p + 8;
		if (!nl)
			break;
	}
	return 0;
}

int dg_kmsg_parse_memory_failure(const char *msg, struct dg_mf_line *out)
{
	static const char prefix[] = "Memory failure: ";
	const char *p, *colon, *rest;
	char pfn[32];
	int rc;

	memset(out, 0, sizeof(*out));
	if (strncmp(msg, prefix, sizeof(prefix) - 1))
		return 0;
	p = msg + sizeof(prefix) - 1;
	colon = strchr(p, ':');
	if (!colon || (size_t)(colon - p) >= sizeof(pfn) || colon == p)
		return -EINVAL;
	memcpy(pfn, p, (size_t)(colon - p));
	pfn[colon - p] = '\0';
	/* the same parser as who --pfn: the same address for the same words */
	rc = dg_parse_pfn(pfn, &out->phys);
	if (rc)
		return rc;
	rest = colon + 1;
	while (*rest == ' ')
		rest++;
	if (!strncmp(rest, "Sending SIGBUS to ", 18) || !strncmp(rest, "Killing ", 8)) {
		/*
		 * "COMM:PID due to ...", and COMM may hold anything, colons and
		 * " due to " too: the last " due to " after ":DIGITS" is ours
		 */
		const char *who = rest + (rest[0] == 'S' ? 18 : 8);
		const char *due, *q, *found = NULL;
		long pid = 0;

		for (due = strstr(who, " due to "); due; due = strstr(due + 1, " due to ")) {
			for (q = due; q > who && isdigit((unsigned char)q[-1]); q--)
				;
			if (q < due && q > who && q[-1] == ':' && due - q <= 10) {
				found = q;
				pid = strtol(q, NULL, 10);
			}
		}
		if (!found || pid <= 0 || pid > INT32_MAX)
			return -EINVAL;
		out->type = DG_MF_LINE_SIGNAL;
		out->pid = (pid_t)pid;
		return 1;
	}
	if (!strncmp(rest, "recovery action for ", 20)) {
		const char *r = strrchr(rest, ':');
		size_t n;

		if (!r)
			return -EINVAL;
		for (r++; *r == ' '; r++)
			;
		n = strcspn(r, " \t");
		if (!n || n >= sizeof(out->result))
			return -EINVAL;
		memcpy(out->result, r, n);
		out->result[n] = '\0';
		out->type = DG_MF_LINE_RESULT;
		return 1;
	}
	out->type = DG_MF_LINE_OTHER;
	return 1;
}

struct mf_page {
	struct dg_event *ev;
	uint64_t first_ms;
	bool done;
};

struct kmsg {
	struct mf_page *pages;
	size_t nr;
	unsigned long lost;
	uint64_t page_size;
};

static struct mf_page *page_for(struct dg_source *src, uint64_t phys)
{
	struct kmsg *k = src->priv;
	struct mf_page *p;
	size_t i;

	for (i = 0; i < k->nr; i++)
		if (k->pages[i].ev->phys == phys && !k->pages[i].done)
			return &k->pages[i];
	p = reallocarray(k->pages, k->nr + 1, sizeof(*p));
	if (!p)
		return NULL;
	k->pages = p;
	p = &k->pages[k->nr];
	p->ev = dg_event_new(src, DG_EVENT_MEMORY_FAILURE);
	if (!p->ev)
		return NULL;
	p->ev->phys = phys;
	p->ev->page_size = k->page_size;
	p->first_ms = dg_now_ms();
	p->done = false;
	k->nr++;
	return p;
}

/* queue the pages that are complete (or, with @all, every one) */
static void flush_pages(struct dg_source *src, bool all, bool initial)
{
	struct kmsg *k = src->priv;
	uint64_t now = dg_now_ms();
	size_t i, n = 0;

	for (i = 0; i < k->nr; i++) {
		struct mf_page *p = &k->pages[i];

		if (all || p->done || now - p->first_ms >= MF_WAIT_MS) {
			p->ev->initial = initial;
			if (k->lost) {
				dg_event_warn(p->ev,
					      "/dev/kmsg: %lu records were overwritten before "
					      "they could be read",
					      k->lost);
				k->lost = 0;
			}
			dg_source_queue(src, p->ev);
		} else {
			k->pages[n++] = *p;
		}
	}
	k->nr = n;
}

static int take_record(struct dg_source *src, char *buf, size_t len)
{
	struct dg_kmsg_record rec;
	struct dg_mf_line l;
	struct mf_page *p;

	if (dg_kmsg_parse_record(buf, len, &rec) || rec.facility != 0)
		return 0;
	if (dg_kmsg_parse_memory_failure(rec.message, &l) <= 0)
		return 0;
	p = page_for(src, l.phys);
	if (!p)
		return -ENOMEM;
	dg_event_add_line(p->ev, rec.message);
	switch (l.type) {
	case DG_MF_LINE_SIGNAL:
		return dg_event_add_kernel_pid(p->ev, l.pid);
	case DG_MF_LINE_RESULT:
		free(p->ev->kernel_result);
		p->ev->kernel_result = strdup(l.result);
		p->done = true;
		return p->ev->kernel_result ? 0 : -ENOMEM;
	default:
		return 0;
	}
}

static int kmsg_drain(struct dg_source *src)
{
	struct kmsg *k = src->priv;
	char buf[KMSG_RECORD_MAX + 1];

	for (;;) {
		ssize_t n = read(src->fd, buf, KMSG_RECORD_MAX);
		int rc;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE) {
				/* the ring buffer wrapped past us: go on from here */
				k->lost++;
				continue;
			}
			if (errno == EAGAIN)
				return 0;
			return dg_fail(src->ctx, -errno, "/dev/kmsg: %s", strerror(errno));
		}
		if (n == 0)
			return 0;
		rc = take_record(src, buf, (size_t)n);
		if (rc)
			return rc;
	}
}

static int kmsg_process(struct dg_source *src)
{
	int rc = kmsg_drain(src);

	flush_pages(src, false, false);
	return rc;
}

static int kmsg_timeout(struct dg_source *src)
{
	struct kmsg *k = src->priv;
	uint64_t now = dg_now_ms(), first = UINT64_MAX;
	size_t i;

	for (i = 0; i < k->nr; i++)
		if (k->pages[i].first_ms < first)
			first = k->pages[i].first_ms;
	if (first == UINT64_MAX)
		return -1;
	return first + MF_WAIT_MS > now ? (int)(first + MF_WAIT_MS - now) : 0;
}

static void kmsg_free(struct dg_source *src)
{
	struct kmsg *k = src->priv;
	size_t i;

	for (i = 0; i < k->nr; i++)
		dg_event_free(k->pages[i].ev);
	free(k->pages);
}

static const struct dg_source_ops kmsg_ops = {
	.name = "kmsg",
	.process = kmsg_process,
	.timeout = kmsg_timeout,
	.free = kmsg_free,
};

DG_EXPORT int dg_source_kmsg_new(struct dg_ctx *ctx, struct dg_source **out)
{
	struct dg_source *src;
	struct kmsg *k;
	int rc;

	rc = dg_source_alloc(ctx, &kmsg_ops, sizeof(*k), &src);
	if (rc)
		return rc;
	k = src->priv;
	k->page_size = (uint64_t)sysconf(_SC_PAGESIZE);
	/* a new reader starts at the oldest record the buffer holds */
	src->fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (src->fd < 0) {
		rc = dg_fail(ctx, -errno, "/dev/kmsg: %s", strerror(errno));
		dg_source_free(src);
		return rc;
	}
	rc = kmsg_drain(src);
	if (rc) {
		dg_source_free(src);
		return rc;
	}
	flush_pages(src, true, true);
	*out = src;
	return 0;
}
