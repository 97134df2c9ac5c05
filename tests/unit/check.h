/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every unit test uses: CHECK() counts a failed condition and says why. */
#ifndef DAXGUARD_TESTS_CHECK_H
#define DAXGUARD_TESTS_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                              \
	do {                                          \
		if (!(cond)) {                        \
			fprintf(stderr, __VA_ARGS__); \
			fputc('\n', stderr);          \
			failures++;                   \
		}                                     \
	} while (0)

#endif
