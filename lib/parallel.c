// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Work split into parts, one per CPU: the process scan, the checks
 * before signals, the XFS inode reader.  Part 0 runs in the calling
 * thread, the others in threads of their own; a part whose thread cannot
 * be started runs in the calling thread after part 0, so the work is
 * done either way.
 */
#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "private.h"

size_t dg_parts_count(size_t items, size_t min_per_part, size_t max_parts)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t n = items / (min_per_part ? min_per_part : 1) + 1;

	n = DG_MIN(n, (size_t)(cpus > 0 ? cpus : 1));
	n = DG_MIN(n, max_parts);
	return n ? n : 1;
}

void dg_run_parts(void *parts, size_t size, size_t nr, void *(*fn)(void *))
{
	pthread_t thread[DG_MAX_PARTS];
	bool started[DG_MAX_PARTS] = { false };
	char *p = parts;
	size_t i;

	nr = DG_MIN(nr, (size_t)DG_MAX_PARTS);
	for (i = 1; i < nr; i++)
		started[i] = pthread_create(&thread[i], NULL, fn, p + i * size) == 0;
	if (nr)
		fn(p);
	for (i = 1; i < nr; i++) {
		if (started[i])
			pthread_join(thread[i], NULL);
		else
			fn(p + i * size);
	}
}
