// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The /proc/PID/maps parser against saved maps files: each line of
 * FIXTURE.maps is parsed and printed canonically, and the output must
 * equal FIXTURE.expected line for line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "lib/private.h"

/* @s with newline, tab and backslash as C escapes, so that it fits a line */
static void cquote(const char *s, char *out, size_t size)
{
	size_t n = 0;

	for (; *s && n + 3 < size; s++) {
		const char *e = *s == '\n' ? "\\n" :
				*s == '\t' ? "\\t" :
				*s == '\\' ? "\\\\" :
					     NULL;

		if (e) {
			memcpy(out + n, e, 2);
			n += 2;
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
}

static void canon(const char *line, char *out, size_t size)
{
	char name[4096], quoted[8192];
	struct dg_maps_entry e;
	int rc = dg_parse_maps_line(line, &e);
	bool ambiguous = false;

	if (rc < 0) {
		snprintf(out, size, "invalid");
	} else if (rc == 0) {
		snprintf(out, size, "anon %#" PRIx64 "-%#" PRIx64, e.start, e.end);
	} else {
		if (dg_maps_unescape_path(e.path, name, sizeof(name), &ambiguous) < 0)
			snprintf(name, sizeof(name), "(too long)");
		cquote(name, quoted, sizeof(quoted));
		snprintf(out, size,
			 "file %#" PRIx64 "-%#" PRIx64 " off=%#" PRIx64 " dev=%u:%u ino=%" PRIu64
			 " %c%c%c%c path=%s name=%s%s",
			 e.start, e.end, e.offset, major(e.dev), minor(e.dev), e.ino,
			 e.flags & DG_USER_READ ? 'r' : '-', e.flags & DG_USER_WRITE ? 'w' : '-',
			 e.flags & DG_USER_EXEC ? 'x' : '-', e.flags & DG_USER_SHARED ? 's' : 'p',
			 e.path, quoted, ambiguous ? " (ambiguous)" : "");
	}
}

static const struct {
	const char *in, *out;
	bool ambiguous;
} unescapes[] = {
	{ "", "", false },
	{ "/mnt/plain", "/mnt/plain", false },
	{ "/a\\012b", "/a\nb", true },
	{ "\\012\\012", "\n\n", true },
	{ "/a\\0122", "/a\n2", true },
	/* a backslash is printed as itself: the second one starts "\012" */
	{ "/a\\\\012", "/a\\\n", true },
	{ "/a\\", "/a\\", false },
	{ "/a\\0", "/a\\0", false },
	{ "/a\\01", "/a\\01", false },
	{ "/a\\013", "/a\\013", false },
	/* only a newline is escaped: "\040" is what the name holds */
	{ "/a\\040b", "/a\\040b", false },
	{ "/gone\\012 (deleted)", "/gone\n (deleted)", true },
};

/* the unescaping alone, on what show_map_vma() can print */
static int check_unescape(void)
{
	char buf[64];
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(unescapes) / sizeof(unescapes[0]); i++) {
		bool amb = !unescapes[i].ambiguous;
		ssize_t n = dg_maps_unescape_path(unescapes[i].in, buf, sizeof(buf), &amb);

		if (n != (ssize_t)strlen(unescapes[i].out) || strcmp(buf, unescapes[i].out) ||
		    amb != unescapes[i].ambiguous) {
			fprintf(stderr, "unescape '%s': %zd '%s' %d\n", unescapes[i].in, n,
				n < 0 ? "" : buf, amb);
			bad++;
		}
		/* in place */
		snprintf(buf, sizeof(buf), "%s", unescapes[i].in);
		if (dg_maps_unescape_path(buf, buf, sizeof(buf), NULL) < 0 ||
		    strcmp(buf, unescapes[i].out)) {
			fprintf(stderr, "unescape '%s' in place: '%s'\n", unescapes[i].in, buf);
			bad++;
		}
	}
	/* the NUL needs room too */
	if (dg_maps_unescape_path("/abc", buf, 5, NULL) != 4 ||
	    dg_maps_unescape_path("/abc", buf, 4, NULL) != -ENAMETOOLONG ||
	    dg_maps_unescape_path("/a\\012", buf, 4, NULL) != 3 ||
	    dg_maps_unescape_path("/a\\012", buf, 3, NULL) != -ENAMETOOLONG ||
	    dg_maps_unescape_path("", buf, 0, NULL) != -ENAMETOOLONG) {
		fprintf(stderr, "unescape: buffer size not respected\n");
		bad++;
	}
	return bad;
}

int main(int argc, char **argv)
{
	char in[8192], want[32768], got[32768], path[4096];
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
	bad = check_unescape();
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
