/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the benchmark helpers (dg-mkfiles, dg-mapper-farm, dg-fiemapwalk)
 * share.  Each defines prog, the name its messages start with.
 */
#ifndef _DG_BENCHUTIL_H_
#define _DG_BENCHUTIL_H_

#include <stdint.h>

extern const char *const prog;

/* CLOCK_MONOTONIC, in seconds */
double now(void);

/* The splitmix64 finaliser of @x + the golden ratio: a hash of @x. */
uint64_t splitmix64(uint64_t x);

/* The next number of the splitmix64 stream whose state is @state. */
uint64_t rng_next(uint64_t *state);

/*
 * A whole number of option @what: decimal, 0x hex or 0 octal, nothing
 * after it and no sign.  Says "prog: ARG: invalid WHAT" and returns -1 if
 * not.
 */
int parse_ull(const char *arg, const char *what, unsigned long long *val);
int parse_ulong(const char *arg, const char *what, unsigned long *val);

#endif /* _DG_BENCHUTIL_H_ */
