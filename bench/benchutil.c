// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * benchutil.c: what the benchmark helpers share (see benchutil.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "benchutil.h"

#define GOLDEN_GAMMA 0x9e3779b97f4a7c15ull

double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

uint64_t splitmix64(uint64_t x)
{
	x += GOLDEN_GAMMA;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

uint64_t rng_next(uint64_t *state)
{
	uint64_t x = splitmix64(*state);

	*state += GOLDEN_GAMMA;
	return x;
}

int parse_ull(const char *arg, const char *what, unsigned long long *val)
{
	char *end;

	errno = 0;
	*val = strtoull(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-') {
		fprintf(stderr, "%s: %s: invalid %s\n", prog, arg, what);
		return -1;
	}
	return 0;
}

int parse_ulong(const char *arg, const char *what, unsigned long *val)
{
	unsigned long long v;

	if (parse_ull(arg, what, &v))
		return -1;
	if (v > ULONG_MAX) {
		fprintf(stderr, "%s: %s: invalid %s\n", prog, arg, what);
		return -1;
	}
	*val = v;
	return 0;
}
