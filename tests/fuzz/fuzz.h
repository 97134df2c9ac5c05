/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every fuzz harness shares.  A harness is a libFuzzer target
 * (LLVMFuzzerTestOneInput); built with clang -fsanitize=fuzzer it fuzzes,
 * built with replay.c by any compiler it runs the inputs it is given once
 * each, as the unit suite does with the corpus and the regressions.
 */
#ifndef DAXGUARD_FUZZ_H
#define DAXGUARD_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * An invariant of the parser under test: abort() with a message, so that
 * libFuzzer keeps the input as a crash and the replay fails.
 */
#define FUZZ_CHECK(cond, ...)                                                                    \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
			fprintf(stderr, __VA_ARGS__);                                            \
			fputc('\n', stderr);                                                     \
			abort();                                                                 \
		}                                                                                \
	} while (0)

/* @data as a C string of its own heap allocation, so ASan sees overreads */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		abort();
	for (size_t i = 0; i < size; i++)
		s[i] = (char)data[i];
	s[size] = '\0';
	return s;
}

#endif
