// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /proc/PID/maps, a line at a time as lib/users.c reads it: the quick
 * device check must agree with the full parse, and the unescaped path,
 * escaped again the way the kernel's mangle_path() does, must give back
 * the path as printed.
 */
#include <errno.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "lib/private.h"

#include "fuzz.h"

/* the kernel's seq_file_path(m, file, "\n"): a newline as "\012" */
static size_t mangle(const char *s, char *out)
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s == '\n') {
			memcpy(out + n, "\\012", 4);
			n += 4;
		} else {
			out[n++] = *s;
		}
	}
	out[n] = '\0';
	return n;
}

static void check_line(const char *line)
{
	struct dg_maps_entry e;
	size_t len = strlen(line);
	char *name, *back;
	bool quick, ambiguous;
	ssize_t n;
	dev_t dev;
	int rc;

	quick = dg_maps_line_dev(line, &dev);
	rc = dg_parse_maps_line(line, &e);
	FUZZ_CHECK(rc == 1 || rc == 0 || rc == -EINVAL, "rc %d", rc);
	if (rc < 0)
		return;
	FUZZ_CHECK(quick && dev == e.dev, "quick device check: %d %u:%u, parse %u:%u", quick,
		   major(dev), minor(dev), major(e.dev), minor(e.dev));
	FUZZ_CHECK(e.start < e.end, "empty mapping");
	FUZZ_CHECK(e.path >= line && e.path <= line + len, "path outside the line");

	name = malloc(len + 1);
	back = malloc(4 * len + 1);
	if (!name || !back)
		abort();
	n = dg_maps_unescape_path(e.path, name, len + 1, &ambiguous);
	FUZZ_CHECK(n >= 0 && (size_t)n == strlen(name), "unescape: %zd", n);
	FUZZ_CHECK(mangle(name, back) == strlen(e.path) && !strcmp(back, e.path),
		   "'%s' unescaped and escaped again is '%s'", e.path, back);
	FUZZ_CHECK(ambiguous == !!strchr(name, '\n'), "ambiguous %d", ambiguous);
	/* a buffer one byte short fails, and does not write past its end */
	if (n > 0) {
		char *tight = malloc((size_t)n);

		FUZZ_CHECK(dg_maps_unescape_path(e.path, tight, (size_t)n, NULL) == -ENAMETOOLONG,
			   "a short buffer was taken");
		free(tight);
	}
	free(name);
	free(back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_cstr(data, size), *line, *next;

	/* as users.c splits what it read: at newlines, up to a NUL */
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		check_line(line);
	}
	free(buf);
	return 0;
}
