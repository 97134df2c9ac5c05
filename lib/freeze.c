// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Freeze and thaw, with a guardian.
 *
 * The kernel's notify_failure freezes with FREEZE_HOLDER_KERNEL and always
 * thaws on the same call path.  From user space a freeze is global state
 * that outlives us: if daxguard is SIGKILLed between FIFREEZE and FITHAW,
 * every writer on the filesystem hangs until somebody notices.  So before
 * freezing we fork a guardian: a separate process, in its own session,
 * that holds its own descriptor on the filesystem root and the read end of
 * a pipe whose only write end we hold.  When we thaw, we tell it so and it
 * exits.  When we die for any reason, the kernel closes our end, the
 * guardian sees EOF and thaws at once.  (A socketpair, not a pipe: our
 * word to an already dead guardian must not raise SIGPIPE in the caller.)  When the deadline passes first, it
 * thaws too.  FITHAW needs no writes, so the guardian never blocks on the
 * frozen filesystem.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/fs.h>

#include "private.h"

#define GUARD_DONE 'D' /* parent thawed: exit without touching anything */
/* how the guardian ended, for dg_thaw(): did it thaw, and why */
#define GUARD_EXIT_DONE 0
#define GUARD_EXIT_DEADLINE 2
#define GUARD_EXIT_ORPHANED 3

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* Close every descriptor from 3 up but @keep: a call per gap, not per fd. */
static void close_all_but(int *keep, size_t n)
{
	unsigned int lo = 3;
	size_t i;

	qsort(keep, n, sizeof(*keep), cmp_int);
	for (i = 0; i < n; i++) {
		if ((unsigned int)keep[i] > lo)
			close_range(lo, (unsigned int)keep[i] - 1, 0);
		if ((unsigned int)keep[i] + 1 > lo)
			lo = (unsigned int)keep[i] + 1;
	}
	close_range(lo, ~0U, 0);
}

static __attribute__((noreturn)) void guardian(struct dg_ctx *ctx, int rootfd, int rfd,
					       unsigned int deadline_ms)
{
	uint64_t end = now_ms() + deadline_ms;
	int keep[ARRAY_SIZE(ctx->lock_fds) + 2];
	size_t nkeep = 0;
	char c = 0;

	/*
	 * Out of the caller's session and process group: a Ctrl-C or a
	 * kill of the group must not take the guardian with it.  Nothing
	 * of ours on the frozen filesystem: no cwd there.
	 */
	setsid();
	if (chdir("/") < 0)
		_exit(1);
	/*
	 * The device locks stay held while we live (lock.c): nobody else acts
	 * on the filesystem before we thawed it.
	 */
	keep[nkeep++] = rootfd;
	keep[nkeep++] = rfd;
	for (unsigned int i = 0; i < ctx->nr_lock_fds; i++)
		keep[nkeep++] = ctx->lock_fds[i];
	close_all_but(keep, nkeep);
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_NAME, "daxguard-guard", 0, 0, 0);
	/*
	 * First in line for a CPU when it has to act: on a machine busy with
	 * thousands of exiting processes (the ones daxguard just killed), a
	 * guardian at the default priority took over a second to be
	 * scheduled.  Root may raise it; otherwise it stays as it is.
	 */
	setpriority(PRIO_PROCESS, 0, -20);

	for (;;) {
		struct pollfd p = { .fd = rfd, .events = POLLIN };
		uint64_t t = now_ms();
		int n;

		if (t >= end) {
			ioctl(rootfd, FITHAW, 0);
			_exit(GUARD_EXIT_DEADLINE);
		}
		n = poll(&p, 1, (int)(end - t));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			continue; /* the deadline, seen above */
		if (n > 0) {
			n = (int)read(rfd, &c, 1);
			if (n < 0 && errno == EINTR)
				continue;
		}
		break; /* EOF: the caller died; or its word; or an error */
	}
	if (c == GUARD_DONE)
		_exit(GUARD_EXIT_DONE);
	ioctl(rootfd, FITHAW, 0);
	_exit(GUARD_EXIT_ORPHANED);
}

int dg_freeze(struct dg_ctx *ctx, const char *name, int rootfd, unsigned int deadline_ms,
	      struct dg_freeze *f)
{
	int p[2], rc;
	pid_t pid;

	memset(f, 0, sizeof(*f));
	f->rootfd = -1;
	f->wfd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
		return dg_fail(ctx, -errno, "%s: socketpair: %s", name, strerror(errno));
	f->rootfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (f->rootfd < 0) {
		rc = -errno;
		close(p[0]);
		close(p[1]);
		return dg_fail(ctx, rc, "%s: %s", name, strerror(-rc));
	}
	pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(p[0]);
		close(p[1]);
		close(f->rootfd);
		f->rootfd = -1;
		return dg_fail(ctx, rc, "%s: cannot start the freeze guardian: %s", name,
			       strerror(-rc));
	}
	if (pid == 0) {
		close(p[1]);
		guardian(ctx, f->rootfd, p[0], deadline_ms);
	}
	close(p[0]);
	f->wfd = p[1];
	f->guardian = pid;
	dg_ctx_add_helper(ctx, pid);

	if (ioctl(f->rootfd, FIFREEZE, 0) < 0) {
		rc = -errno;
		/* EBUSY: frozen by somebody else; theirs to thaw, not ours */
		dg_thaw(ctx, f);
		return dg_fail(ctx, rc, "%s: cannot freeze: %s", name,
			       rc == -EBUSY ? "it is already frozen" : strerror(-rc));
	}
	f->frozen = true;
	f->frozen_at_ms = now_ms();
	return 0;
}

/*
 * Thaw.  -ETIME when the freeze was lost before this: the guardian thawed
 * at its deadline while we were still working; -ESTALE when somebody else
 * thawed it (fsfreeze -u).  Either way, whatever was done since then was
 * done on a live filesystem, and the caller must not report it as frozen.
 */
int dg_thaw(struct dg_ctx *ctx, struct dg_freeze *f)
{
	char c = GUARD_DONE;
	bool lost = false;
	int rc = 0, status = 0;

	if (f->frozen && ioctl(f->rootfd, FITHAW, 0) < 0) {
		if (errno == EINVAL)
			lost = true; /* not frozen any more */
		else
			rc = -errno;
	}
	f->frozen = false;
	if (f->wfd >= 0) {
		/*
		 * If our thaw failed, closing without a word makes the
		 * guardian try it too.
		 */
		if (!rc && send(f->wfd, &c, 1, MSG_NOSIGNAL) != 1)
			rc = 0;
		close(f->wfd);
		f->wfd = -1;
	}
	if (f->guardian > 0) {
		while (waitpid(f->guardian, &status, 0) < 0 && errno == EINTR)
			;
		dg_ctx_del_helper(ctx, f->guardian);
		f->guardian = 0;
	}
	if (lost)
		rc = WIFEXITED(status) && WEXITSTATUS(status) == GUARD_EXIT_DEADLINE ? -ETIME :
										       -ESTALE;
	if (f->rootfd >= 0) {
		close(f->rootfd);
		f->rootfd = -1;
	}
	return rc;
}
