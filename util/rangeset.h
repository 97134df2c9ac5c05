/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A set of byte ranges, kept sorted and merged: what a badblocks list
 * held at the last look, what the watch daemon has handled.  Adjacent and
 * overlapping ranges become one, so "is this new?" is a question about
 * bytes, not about how a list happened to split them.
 */
#ifndef _DG_RANGESET_H_
#define _DG_RANGESET_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dg_span {
	uint64_t start, end; /* [start, end), start < end */
};

struct dg_rangeset {
	struct dg_span *s;
	size_t nr, cap;
};

/* add [off, off + len): 0, -EINVAL for an empty or wrapping range, -ENOMEM */
int dg_rangeset_add(struct dg_rangeset *set, uint64_t off, uint64_t len);
/* every byte of [off, off + len) is in the set */
bool dg_rangeset_covers(const struct dg_rangeset *set, uint64_t off, uint64_t len);
/* the parts of [off, off + len) that are not in @set, added to @out */
int dg_rangeset_missing(const struct dg_rangeset *set, uint64_t off, uint64_t len,
			struct dg_rangeset *out);
/* the parts of @b not in @a, added to @out */
int dg_rangeset_diff(const struct dg_rangeset *b, const struct dg_rangeset *a,
		     struct dg_rangeset *out);
uint64_t dg_rangeset_bytes(const struct dg_rangeset *set);
void dg_rangeset_clear(struct dg_rangeset *set);
void dg_rangeset_free(struct dg_rangeset *set);
/* @dst becomes a copy of @src */
int dg_rangeset_copy(struct dg_rangeset *dst, const struct dg_rangeset *src);

#endif
