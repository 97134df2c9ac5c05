// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dg-sdlisten: what systemd would hear.  A test helper that binds a
 * datagram socket at PATH, as systemd's NOTIFY_SOCKET or journald's
 * /run/systemd/journal/socket, and prints every datagram it gets:
 *
 *   --- datagram
 *   KEY=value
 *   ...
 *
 * The journal's native protocol is decoded: a field whose value holds a
 * newline comes as KEY\n<64-bit little-endian length><value>\n, and a
 * datagram too large for the socket comes as a memfd passed with
 * SCM_RIGHTS.  Values are printed with newlines as "\n".
 *
 * Usage: dg-sdlisten PATH READYFILE   (writes "ready" to READYFILE once bound)
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_DGRAM (8 << 20)

static void print_value(const char *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (v[i] == '\n')
			fputs("\\n", stdout);
		else
			putchar(v[i]);
	}
	putchar('\n');
}

static void decode(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;

	puts("--- datagram");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eq;
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		eq = memchr(p, '=', n);
		if (eq) {
			fwrite(p, 1, (size_t)(eq - p) + 1, stdout);
			print_value(eq + 1, n - (size_t)(eq - p) - 1);
			p += n + 1;
			continue;
		}
		/* KEY\n, then the length and the value */
		if (nl && (size_t)(end - nl - 1) >= 8) {
			uint64_t vlen = 0;
			int i;

			for (i = 7; i >= 0; i--)
				vlen = (vlen << 8) | (unsigned char)nl[1 + i];
			if (vlen <= (uint64_t)(end - nl - 9)) {
				fwrite(p, 1, n, stdout);
				putchar('=');
				print_value(nl + 9, (size_t)vlen);
				p = nl + 9 + vlen + 1;
				continue;
			}
		}
		printf("?? unparsed: %.*s\n", (int)n, p);
		p += n + 1;
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *buf = malloc(MAX_DGRAM);
	FILE *ready;
	int fd;

	if (argc != 3 || !buf) {
		fprintf(stderr, "usage: dg-sdlisten PATH READYFILE\n");
		return 2;
	}
	if (strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "dg-sdlisten: %s: path too long\n", argv[1]);
		return 1;
	}
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "dg-sdlisten: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	ready = fopen(argv[2], "w");
	if (!ready || fputs("ready\n", ready) < 0 || fclose(ready)) {
		fprintf(stderr, "dg-sdlisten: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	for (;;) {
		char cbuf[CMSG_SPACE(sizeof(int))];
		struct iovec iov = { .iov_base = buf, .iov_len = MAX_DGRAM };
		struct msghdr mh = { .msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = cbuf,
				     .msg_controllen = sizeof(cbuf) };
		struct cmsghdr *c;
		ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "dg-sdlisten: recvmsg: %s\n", strerror(errno));
			return 1;
		}
		c = CMSG_FIRSTHDR(&mh);
		if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			/* a large message: its contents are in the passed memfd */
			int mfd;
			struct stat st;

			memcpy(&mfd, CMSG_DATA(c), sizeof(mfd));
			if (fstat(mfd, &st) == 0 && st.st_size < MAX_DGRAM)
				n = pread(mfd, buf, (size_t)st.st_size, 0);
			close(mfd);
			if (n < 0)
				continue;
		}
		decode(buf, (size_t)n);
	}
}
