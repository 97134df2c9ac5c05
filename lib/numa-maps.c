// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * /proc/PID/numa_maps, one line per mapping, as show_numa_map() prints it:
 *
 *   7f1c2a000000 bind:1 file=/dev/zero anon=16384 dirty=16384 N1=16384 kernelpagesize_kB=4
 *
 * the mapping's start (hex), its memory policy as mpol_to_str() gives it
 * (mode, "=" flags, ":" node list), then blank-separated words: heap,
 * stack, huge, file=PATH (blanks, tabs, newlines and '=' escaped in
 * octal by the kernel), counters KEY=N, one N<node>=pages per node with
 * pages, and kernelpagesize_kB=N, the unit of those counts.  A line with
 * no page present ends after the policy or the file.
 *
 * This is outside input (any process's /proc, and fixtures): every word
 * is checked, none is skipped.  Unknown counters (KEY=N, lower case) are
 * taken for the kernels to come; anything else fails the line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "private.h"

static const struct {
	const char *name;
	enum dg_mpol mode;
} mpol_names[] = {
	/* the two with a blank first: they must not match as "prefer" */
	{ "prefer (many)", DG_MPOL_PREFERRED_MANY },
	{ "weighted interleave", DG_MPOL_WEIGHTED_INTERLEAVE },
	{ "default", DG_MPOL_DEFAULT },
	{ "prefer", DG_MPOL_PREFERRED },
	{ "bind", DG_MPOL_BIND },
	{ "interleave", DG_MPOL_INTERLEAVE },
	{ "local", DG_MPOL_LOCAL },
};

const char *dg_mpol_name(enum dg_mpol mode)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(mpol_names); i++)
		if (mpol_names[i].mode == mode)
			return mpol_names[i].name;
	return "?";
}

struct cursor {
	const char *p, *end;
};

static bool at_end(const struct cursor *c)
{
	return c->p == c->end;
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

/* a decimal number of at least one digit, no sign, no blank */
static int parse_dec(struct cursor *c, uint64_t *val)
{
	uint64_t v = 0;

	if (at_end(c) || !is_digit(*c->p))
		return -EINVAL;
	/* "007" is not what the kernel prints */
	if (*c->p == '0' && c->p + 1 < c->end && is_digit(c->p[1]))
		return -EINVAL;
	for (; !at_end(c) && is_digit(*c->p); c->p++) {
		unsigned int d = (unsigned int)(*c->p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*val = v;
	return 0;
}

static int parse_hex(struct cursor *c, uint64_t *val)
{
	uint64_t v = 0;
	int n = 0;

	for (; !at_end(c) && *c->p != ' '; c->p++, n++) {
		char ch = *c->p;
		unsigned int d;

		if (is_digit(ch))
			d = (unsigned int)(ch - '0');
		else if (ch >= 'a' && ch <= 'f')
			d = (unsigned int)(ch - 'a' + 10);
		else
			return -EINVAL;
		if (n == 16)
			return -ERANGE;
		v = v << 4 | d;
	}
	if (!n)
		return -EINVAL;
	*val = v;
	return 0;
}

/* "0-3,5,8-9" (bitmap_print_to_pagebuf's %*pbl), ascending, no overlap */
static int parse_nodelist(struct cursor *c, uint64_t *nodes)
{
	uint64_t next = 0;

	for (;;) {
		uint64_t a, b, i;
		int rc = parse_dec(c, &a);

		if (rc)
			return rc;
		b = a;
		if (!at_end(c) && *c->p == '-') {
			c->p++;
			rc = parse_dec(c, &b);
			if (rc)
				return rc;
			if (b <= a)
				return -EINVAL;
		}
		if (b >= DG_NUMA_MAX_NODES)
			return -ERANGE;
		if (a < next)
			return -EINVAL;
		for (i = a; i <= b; i++)
			nodes[i / 64] |= 1ULL << (i % 64);
		next = b + 2; /* "1,2" would be "1-2" */
		if (at_end(c) || *c->p != ',')
			return 0;
		c->p++;
	}
}

int dg_parse_nodelist(const char *str, size_t len, uint64_t *nodes)
{
	struct cursor c = { str, str + len };
	int rc;

	memset(nodes, 0, DG_NUMA_MAX_NODES / 8);
	rc = parse_nodelist(&c, nodes);
	if (!rc && !at_end(&c))
		rc = -EINVAL;
	return rc;
}

static bool word_is(struct cursor *c, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n))
		return false;
	c->p += n;
	return true;
}

static int parse_policy(struct cursor *c, struct dg_numa_maps_entry *e)
{
	const char *start = c->p;
	size_t i, len;

	for (i = 0; i < ARRAY_SIZE(mpol_names); i++) {
		struct cursor save = *c;

		if (!word_is(c, mpol_names[i].name))
			continue;
		if (at_end(c) || *c->p == ' ' || *c->p == '=' || *c->p == ':')
			break;
		*c = save;
	}
	if (i == ARRAY_SIZE(mpol_names))
		return -EINVAL;
	e->mode = mpol_names[i].mode;
	if (!at_end(c) && *c->p == '=') {
		bool mode_flag;

		c->p++;
		mode_flag = word_is(c, "static") || word_is(c, "relative");
		if (mode_flag && !at_end(c) && *c->p == '|') {
			c->p++;
			if (!word_is(c, "balancing"))
				return -EINVAL;
		} else if (!mode_flag && !word_is(c, "balancing")) {
			return -EINVAL;
		}
	}
	if (!at_end(c) && *c->p == ':') {
		int rc;

		c->p++;
		rc = parse_nodelist(c, e->nodes);
		if (rc)
			return rc;
		e->has_nodes = true;
	}
	if (!at_end(c) && *c->p != ' ')
		return -EINVAL;
	/* default and local name no node; every other mode at least one */
	if (e->has_nodes != (e->mode != DG_MPOL_DEFAULT && e->mode != DG_MPOL_LOCAL))
		return -EINVAL;
	len = (size_t)(c->p - start);
	if (len >= sizeof(e->policy))
		return -EINVAL;
	memcpy(e->policy, start, len);
	e->policy[len] = '\0';
	return 0;
}

/* a counter's name: letters and '_', then '=' */
static int counter_name(struct cursor *c, const char **name, size_t *len)
{
	const char *s = c->p;

	while (!at_end(c) &&
	       ((*c->p >= 'a' && *c->p <= 'z') || (*c->p >= 'A' && *c->p <= 'Z') || *c->p == '_'))
		c->p++;
	if (c->p == s || at_end(c) || *c->p != '=')
		return -EINVAL;
	*name = s;
	*len = (size_t)(c->p - s);
	c->p++;
	return 0;
}

static bool lower_case(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_'))
			return false;
	return true;
}

int dg_parse_numa_maps_line(const char *line, size_t len, unsigned int node,
			    struct dg_numa_maps_entry *e)
{
	struct cursor c = { line, line + len };
	bool seen_pagesize = false, seen_kind = false, seen_huge = false;
	static const char *const known[] = { "anon",	  "dirty",  "mapped",	"mapmax",
					     "swapcache", "active", "writeback" };
	unsigned int seen_known = 0;
	int64_t last_node = -1;
	int rc;

	memset(e, 0, sizeof(*e));
	if (len && line[len - 1] == '\n')
		c.end--;
	if (memchr(line, '\0', (size_t)(c.end - line)) ||
	    memchr(line, '\n', (size_t)(c.end - line)))
		return -EINVAL;
	rc = parse_hex(&c, &e->start);
	if (rc)
		return rc;
	if (at_end(&c) || *c.p != ' ')
		return -EINVAL;
	c.p++;
	rc = parse_policy(&c, e);
	if (rc)
		return rc;
	while (!at_end(&c)) {
		const char *name;
		size_t nlen, i;
		uint64_t v;

		if (*c.p != ' ')
			return -EINVAL;
		c.p++;
		if (at_end(&c) || *c.p == ' ')
			return -EINVAL;
		/* file=PATH, heap or stack, then huge, before any counter */
		if (!seen_huge && !seen_known && last_node < 0 && !seen_pagesize) {
			struct cursor save = c;

			if (word_is(&c, "huge") && (at_end(&c) || *c.p == ' ')) {
				seen_kind = seen_huge = e->huge = true;
				continue;
			}
			c = save;
			if (!seen_kind && (word_is(&c, "heap") || word_is(&c, "stack")) &&
			    (at_end(&c) || *c.p == ' ')) {
				seen_kind = true;
				continue;
			}
			c = save;
			if (!seen_kind && word_is(&c, "file=")) {
				const char *f = c.p;

				while (!at_end(&c) && *c.p != ' ')
					c.p++;
				if (c.p == f)
					return -EINVAL;
				seen_kind = true;
				e->has_file = true;
				continue;
			}
			c = save;
		}
		if (*c.p == 'N' && c.p + 1 < c.end && is_digit(c.p[1])) {
			uint64_t n;

			c.p++;
			rc = parse_dec(&c, &n);
			if (rc)
				return rc;
			if (at_end(&c) || *c.p != '=')
				return -EINVAL;
			c.p++;
			if (n >= DG_NUMA_MAX_NODES)
				return -ERANGE;
			/* nodes ascending, each once, before the page size */
			if ((int64_t)n <= last_node || seen_pagesize)
				return -EINVAL;
			last_node = (int64_t)n;
			rc = parse_dec(&c, &v);
			if (rc)
				return rc;
			if (!v)
				return -EINVAL; /* only nodes with pages are printed */
			if (e->total_pages > UINT64_MAX - v)
				return -ERANGE;
			e->total_pages += v;
			if (n == node)
				e->node_pages = v;
			continue;
		}
		rc = counter_name(&c, &name, &nlen);
		if (rc)
			return rc;
		rc = parse_dec(&c, &v);
		if (rc)
			return rc;
		if (nlen == 17 && !memcmp(name, "kernelpagesize_kB", 17)) {
			if (seen_pagesize || !v || (v & (v - 1)))
				return -EINVAL;
			seen_pagesize = true;
			e->page_kb = v;
			continue;
		}
		if (seen_pagesize || last_node >= 0)
			return -EINVAL; /* counters come before the nodes */
		for (i = 0; i < ARRAY_SIZE(known); i++)
			if (strlen(known[i]) == nlen && !memcmp(known[i], name, nlen))
				break;
		if (i < ARRAY_SIZE(known)) {
			if (seen_known & (1U << i))
				return -EINVAL;
			seen_known |= 1U << i;
		} else if (!lower_case(name, nlen)) {
			return -EINVAL;
		}
	}
	/* pages are counted in a unit, and a unit comes with pages only */
	if (e->total_pages && !seen_pagesize)
		return -EINVAL;
	if (seen_pagesize && !e->total_pages)
		return -EINVAL;
	if (e->page_kb && e->total_pages > UINT64_MAX / 1024 / e->page_kb)
		return -ERANGE;
	return 0;
}

int dg_parse_mpol(const char *str, size_t len, enum dg_mpol *mode, uint64_t *nodes)
{
	struct dg_numa_maps_entry e;
	struct cursor c = { str, str + len };
	int rc;

	memset(&e, 0, sizeof(e));
	rc = parse_policy(&c, &e);
	if (!rc && !at_end(&c))
		rc = -EINVAL;
	if (rc)
		return rc;
	*mode = e.mode;
	memcpy(nodes, e.nodes, sizeof(e.nodes));
	return 0;
}

void dg_mpol_dest_nodes(const char *const *policies, size_t nr, const uint64_t *others,
			uint64_t *to)
{
	uint64_t allowed[DG_NUMA_MAX_NODES / 64] = { 0 }, nodes[DG_NUMA_MAX_NODES / 64];
	bool restricted = false, any = false;
	enum dg_mpol mode;
	size_t i, w;

	for (i = 0; i < nr; i++) {
		if (dg_parse_mpol(policies[i], strlen(policies[i]), &mode, nodes))
			continue;
		/* only these keep a process off the nodes they do not name */
		if (mode != DG_MPOL_BIND && mode != DG_MPOL_INTERLEAVE &&
		    mode != DG_MPOL_WEIGHTED_INTERLEAVE)
			continue;
		restricted = true;
		for (w = 0; w < DG_NUMA_MAX_NODES / 64; w++)
			allowed[w] |= nodes[w];
	}
	for (w = 0; w < DG_NUMA_MAX_NODES / 64; w++) {
		to[w] = others[w] & (restricted ? allowed[w] : ~0ULL);
		any |= to[w] != 0;
	}
	/* its policies allow no other node with memory: anywhere beats nowhere */
	if (!any)
		memcpy(to, others, DG_NUMA_MAX_NODES / 8);
}

bool dg_numa_maps_binds_to(const struct dg_numa_maps_entry *e, unsigned int node)
{
	unsigned int i;

	if (node >= DG_NUMA_MAX_NODES || !e->has_nodes)
		return false;
	switch (e->mode) {
	case DG_MPOL_BIND:
	case DG_MPOL_INTERLEAVE:
	case DG_MPOL_WEIGHTED_INTERLEAVE:
		break;
	default:
		return false; /* the kernel falls back to other nodes */
	}
	for (i = 0; i < DG_NUMA_MAX_NODES / 64; i++) {
		uint64_t want = i == node / 64 ? 1ULL << (node % 64) : 0;

		if (e->nodes[i] != want)
			return false;
	}
	return true;
}

bool dg_numa_maps_names(const struct dg_numa_maps_entry *e, unsigned int node)
{
	return node < DG_NUMA_MAX_NODES && e->has_nodes && (e->nodes[node / 64] >> (node % 64) & 1);
}
