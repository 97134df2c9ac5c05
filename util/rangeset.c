// SPDX-License-Identifier: LGPL-2.1-or-later
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rangeset.h"

/* the index of the first span that ends at or after @pos */
static size_t first_reaching(const struct dg_rangeset *set, uint64_t pos)
{
	size_t lo = 0, hi = set->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (set->s[mid].end < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int dg_rangeset_add(struct dg_rangeset *set, uint64_t off, uint64_t len)
{
	uint64_t end;
	size_t i, j;

	if (!len || __builtin_add_overflow(off, len, &end))
		return -EINVAL;
	/* every span that touches [off, end) merges into the one at i */
	i = first_reaching(set, off);
	for (j = i; j < set->nr && set->s[j].start <= end; j++)
		;
	if (j > i) {
		if (set->s[i].start < off)
			off = set->s[i].start;
		if (set->s[j - 1].end > end)
			end = set->s[j - 1].end;
		set->s[i] = (struct dg_span){ off, end };
		memmove(&set->s[i + 1], &set->s[j], (set->nr - j) * sizeof(*set->s));
		set->nr -= j - i - 1;
		return 0;
	}
	if (set->nr == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct dg_span *s = reallocarray(set->s, cap, sizeof(*s));

		if (!s)
			return -ENOMEM;
		set->s = s;
		set->cap = cap;
	}
	memmove(&set->s[i + 1], &set->s[i], (set->nr - i) * sizeof(*set->s));
	set->s[i] = (struct dg_span){ off, end };
	set->nr++;
	return 0;
}

bool dg_rangeset_covers(const struct dg_rangeset *set, uint64_t off, uint64_t len)
{
	size_t i = first_reaching(set, off + 1);

	return len && i < set->nr && set->s[i].start <= off && off + len <= set->s[i].end;
}

int dg_rangeset_missing(const struct dg_rangeset *set, uint64_t off, uint64_t len,
			struct dg_rangeset *out)
{
	uint64_t pos = off, end;
	size_t i;
	int rc;

	if (!len || __builtin_add_overflow(off, len, &end))
		return -EINVAL;
	for (i = first_reaching(set, off + 1); i < set->nr && set->s[i].start < end; i++) {
		if (set->s[i].start > pos) {
			rc = dg_rangeset_add(out, pos, set->s[i].start - pos);
			if (rc)
				return rc;
		}
		if (set->s[i].end > pos)
			pos = set->s[i].end;
	}
	return pos < end ? dg_rangeset_add(out, pos, end - pos) : 0;
}

int dg_rangeset_diff(const struct dg_rangeset *b, const struct dg_rangeset *a,
		     struct dg_rangeset *out)
{
	size_t i;
	int rc;

	for (i = 0; i < b->nr; i++) {
		rc = dg_rangeset_missing(a, b->s[i].start, b->s[i].end - b->s[i].start, out);
		if (rc)
			return rc;
	}
	return 0;
}

uint64_t dg_rangeset_bytes(const struct dg_rangeset *set)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < set->nr; i++)
		n += set->s[i].end - set->s[i].start;
	return n;
}

void dg_rangeset_clear(struct dg_rangeset *set)
{
	set->nr = 0;
}

void dg_rangeset_free(struct dg_rangeset *set)
{
	free(set->s);
	set->s = NULL;
	set->nr = set->cap = 0;
}

int dg_rangeset_copy(struct dg_rangeset *dst, const struct dg_rangeset *src)
{
	if (dst->cap < src->nr) {
		struct dg_span *s = reallocarray(dst->s, src->nr, sizeof(*s));

		if (!s)
			return -ENOMEM;
		dst->s = s;
		dst->cap = src->nr;
	}
	if (src->nr)
		memcpy(dst->s, src->s, src->nr * sizeof(*src->s));
	dst->nr = src->nr;
	return 0;
}
