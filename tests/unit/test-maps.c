// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The /proc/PID/maps parser against saved maps files: each line of
 * FIXTURE.maps is parsed and printed canonically, and the output must
 * equal FIXTURE.expected line for line.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "lib/private.h"

static void canon(const char *line, char *out, size_t size)
{
	struct dg_maps_entry e;
	int rc = dg_parse_maps_line(line, &e);

	if (rc < 0) {
		snprintf(out, size, "invalid");
	} else if (rc == 0) {
		snprintf(out, size, "anon %#" PRIx64 "-%#" PRIx64, e.start, e.end);
	} else {
		snprintf(out, size,
			 "file %#" PRIx64 "-%#" PRIx64 " off=%#" PRIx64 " dev=%u:%u ino=%" PRIu64
			 " %c%c%c%c path=%s",
			 e.start, e.end, e.offset, major(e.dev), minor(e.dev), e.ino,
			 e.flags & DG_USER_READ ? 'r' : '-', e.flags & DG_USER_WRITE ? 'w' : '-',
			 e.flags & DG_USER_EXEC ? 'x' : '-', e.flags & DG_USER_SHARED ? 's' : 'p',
			 e.path);
	}
}

int main(int argc, char **argv)
{
	char in[8192], want[8192], got[8192], path[4096];
	FILE *fin, *fexp;
	int n = 0, bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: test-maps FIXTURE (without suffix)\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s.maps", argv[1]);
	fin = fopen(path, "r");
	snprintf(path, sizeof(path), "%s.expected", argv[1]);
	fexp = fopen(path, "r");
	if (!fin || !fexp) {
		perror(argv[1]);
		return 1;
	}
	while (fgets(in, sizeof(in), fin)) {
		in[strcspn(in, "\n")] = '\0';
		if (!fgets(want, sizeof(want), fexp)) {
			fprintf(stderr, "line %d: no expected output\n", n + 1);
			return 1;
		}
		want[strcspn(want, "\n")] = '\0';
		canon(in, got, sizeof(got));
		n++;
		{
			/* the quick device check agrees with the full parse */
			struct dg_maps_entry e;
			dev_t dev;

			if (dg_parse_maps_line(in, &e) >= 0 &&
			    (!dg_maps_line_dev(in, &dev) || dev != e.dev)) {
				fprintf(stderr, "line %d: quick device check disagrees\n", n);
				bad++;
			}
		}
		if (strcmp(got, want)) {
			fprintf(stderr, "line %d: %s\n  want: %s\n  got:  %s\n", n, in, want, got);
			bad++;
		}
	}
	if (fgets(want, sizeof(want), fexp)) {
		fprintf(stderr, "expected output has more lines than input\n");
		bad++;
	}
	printf("%d lines, %d mismatches\n", n, bad);
	return bad ? 1 : 0;
}
