// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dg-readmaps: read every /proc/PID/maps once, as cheaply as user space
 * can, and throw the text away.
 *
 * This is the floor for any tool that finds mappers by scanning processes:
 * one readdir of /proc, then open, read and close per process into one
 * reused buffer.  cat over the same files does the same work with more
 * system calls per file (fstat, fadvise, a fresh buffer, writes), so it is
 * a softer reference than this.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char buf[1 << 20];

int main(int argc, char **argv)
{
	unsigned long files = 0, bytes = 0;
	bool verbose = argc > 1 && !strcmp(argv[1], "-v");
	struct dirent *de;
	int procfd;
	DIR *dir;

	if (argc > 1 && !verbose) {
		fprintf(stderr, "Usage: dg-readmaps [-v]\n");
		return 1;
	}
	dir = opendir("/proc");
	if (!dir) {
		fprintf(stderr, "dg-readmaps: /proc: %s\n", strerror(errno));
		return 1;
	}
	procfd = dirfd(dir);
	while ((de = readdir(dir))) {
		char path[sizeof(de->d_name) + 8];
		ssize_t n;
		int fd;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(path, sizeof(path), "%s/maps", de->d_name);
		fd = openat(procfd, path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			bytes += n;
		close(fd);
		files++;
	}
	closedir(dir);
	if (verbose)
		printf("%lu maps files, %lu bytes\n", files, bytes);
	return 0;
}
