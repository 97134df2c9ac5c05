// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * unmap_and_kill, from user space.
 *
 * kill(2) by number is open to PID reuse: between the scan that found a
 * process and the signal, the process may exit and its number go to
 * somebody else (fuser -k has this race).  So each process is pinned with
 * pidfd_open() first, then checked again through /proc, then signalled
 * with pidfd_send_signal().  If the signal is delivered, the pinned
 * process was alive during the check, so the check was about it and not
 * about a newcomer with the same number.  Its exit is seen on the pidfd
 * (poll readable), not guessed from /proc.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "private.h"

#define PF_KTHREAD 0x00200000
/* how long SIGKILLed processes get to exit */
#define PROGRESS_MS 200

/* Fields of /proc/PID/stat after the command: state, ppid, ..., flags. */
static int proc_stat(pid_t pid, pid_t *ppid, unsigned long *flags)
{
	char path[64], buf[1024], *p;
	unsigned long f;
	int pp;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (dg_read_text(AT_FDCWD, path, buf, sizeof(buf)) < 0)
		return -ESRCH;
	/* the command may hold spaces and parentheses: skip to the last ')' */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %d %*d %*d %*d %*d %lu", &pp, &f) != 2)
		return -EINVAL;
	if (ppid)
		*ppid = pp;
	if (flags)
		*flags = f;
	return 0;
}

/*
 * daxguard's own ancestors, walked once per round: checking each of
 * thousands of victims by walking the chain again cost ~10,000 reads.
 */
struct ancestors {
	pid_t pid[64];
	size_t nr;
};

static void find_ancestors(struct ancestors *a)
{
	pid_t p = getppid();

	a->nr = 0;
	while (p > 1 && a->nr < ARRAY_SIZE(a->pid)) {
		a->pid[a->nr++] = p;
		if (proc_stat(p, &p, NULL))
			break;
	}
}

static bool is_ancestor(const struct ancestors *a, pid_t pid)
{
	size_t i;

	for (i = 0; i < a->nr; i++)
		if (a->pid[i] == pid)
			return true;
	return false;
}

/* Never signalled: why, or NULL. */
static const char *protected_reason(pid_t pid, const struct dg_mf_opts *opts,
				    const struct ancestors *anc)
{
	unsigned long flags = 0;
	size_t i;

	if (pid == getpid())
		return "daxguard itself";
	if (pid == 1)
		return "init (pid 1)";
	if (proc_stat(pid, NULL, &flags) == 0 && (flags & PF_KTHREAD))
		return "kernel thread";
	for (i = 0; opts && i < opts->nr_protect; i++)
		if (opts->protect[i] == pid)
			return "protected by request";
	if (!(opts && (opts->flags & DG_MF_INCLUDE_ANCESTORS)) && is_ancestor(anc, pid))
		return "an ancestor of daxguard (use --include-ancestors)";
	return NULL;
}

static struct dg_victim *victim_for(struct dg_report *rep, pid_t pid, const char *comm)
{
	struct dg_victim *v;

	/*
	 * One process, however many uses: a victim of this round, or one
	 * still pinned from an earlier round, is the same process; one that
	 * exited is not, even with the same number.
	 */
	dg_victim_foreach(rep, v)
		if (v->pid == pid && (v->round || v->pidfd >= 0))
			return v;
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->pid = pid;
	v->pidfd = -1;
	v->comm = strdup(comm ? comm : "?");
	*rep->victims_tail = v;
	rep->victims_tail = &v->next;
	return v;
}

static void add_signal(struct dg_report *rep, struct dg_victim *v, int sig)
{
	const char *name = sig == SIGKILL ? "KILL" :
			   sig == SIGTERM ? "TERM" :
			   sig == SIGBUS  ? "BUS" :
					    "?";
	size_t len = strlen(v->signals);

	snprintf(v->signals + len, sizeof(v->signals) - len, "%s%s", len ? "," : "", name);
	if (!v->signalled_ms)
		v->signalled_ms = dg_report_elapsed(rep);
}

static void mark_exited(struct dg_report *rep, struct dg_victim *v)
{
	v->state = v->signals[0] ? DG_VICTIM_EXITED : DG_VICTIM_GONE;
	if (v->state == DG_VICTIM_GONE && !v->reason[0])
		snprintf(v->reason, sizeof(v->reason), "exited by itself");
	v->exited_ms = dg_report_elapsed(rep);
	close(v->pidfd);
	v->pidfd = -1;
}

/*
 * Check, then signal.  Returns true if the signal was delivered to a
 * process that still uses the target.
 */
static bool verify_and_signal(struct dg_report *rep, struct dg_collector *col, struct dg_victim *v,
			      int sig)
{
	int n;

	if (v->pidfd < 0) {
		v->pidfd = pidfd_open(v->pid, 0);
		if (v->pidfd < 0) {
			v->state = DG_VICTIM_GONE;
			snprintf(v->reason, sizeof(v->reason), "exited before it was signalled");
			return false;
		}
	}
	n = dg_collector_scan(col, v->pid);
	if (n == 0) {
		v->state = DG_VICTIM_GONE;
		snprintf(v->reason, sizeof(v->reason), "let go before it was signalled");
		close(v->pidfd);
		v->pidfd = -1;
		return false;
	}
	if (n < 0 && n != -ESRCH) {
		/* cannot check it: do not touch it */
		v->state = DG_VICTIM_PROTECTED;
		snprintf(v->reason, sizeof(v->reason), "cannot verify: %s", strerror(-n));
		return false;
	}
	if (pidfd_send_signal(v->pidfd, sig, NULL, 0) < 0) {
		if (errno == ESRCH) {
			mark_exited(rep, v);
			return false;
		}
		v->state = DG_VICTIM_PROTECTED;
		snprintf(v->reason, sizeof(v->reason), "signal failed: %s", strerror(errno));
		return false;
	}
	/*
	 * n == -ESRCH: /proc said gone, yet the pidfd took the signal.  That
	 * is an exiting process (its /proc entries go first); harmless.
	 */
	add_signal(rep, v, sig);
	v->state = DG_VICTIM_SURVIVED;
	return true;
}

/* Wait until every signalled victim of the round exited, or @timeout_ms. */
static unsigned int wait_exits(struct dg_ctx *ctx, struct dg_report *rep, unsigned int timeout_ms)
{
	uint64_t start = dg_now_ms(), last_progress = 0;
	struct pollfd *pfd = NULL;
	struct dg_victim **map = NULL;
	struct dg_victim *v;
	unsigned int n = 0, left;

	dg_victim_foreach(rep, v)
		if (v->round && v->state == DG_VICTIM_SURVIVED)
			n++;
	if (!n)
		return 0;
	pfd = calloc(n, sizeof(*pfd));
	map = calloc(n, sizeof(*map));
	if (!pfd || !map) {
		free(pfd);
		free(map);
		return n;
	}
	for (;;) {
		uint64_t el = dg_now_ms() - start;
		unsigned int i = 0;
		int rc;

		dg_victim_foreach(rep, v)
			if (v->round && v->state == DG_VICTIM_SURVIVED) {
				pfd[i] = (struct pollfd){ .fd = v->pidfd, .events = POLLIN };
				map[i++] = v;
			}
		left = i;
		if (!left || el >= timeout_ms)
			break;
		if (el - last_progress >= PROGRESS_MS) {
			dg_stage_notify(ctx, "wait", DG_STAGE_PROGRESS, left, el);
			last_progress = el;
		}
		rc = poll(pfd, left, (int)DG_MIN(timeout_ms - el, (uint64_t)PROGRESS_MS));
		if (rc < 0 && errno != EINTR)
			break;
		for (i = 0; rc > 0 && i < left; i++)
			if (pfd[i].revents)
				mark_exited(rep, map[i]);
	}
	free(pfd);
	free(map);
	return left;
}

unsigned int dg_victims_wait(struct dg_ctx *ctx, struct dg_report *rep, unsigned int timeout_ms)
{
	struct dg_step *step = dg_step_begin(rep, "wait", "signalled processes");
	unsigned int left;

	dg_stage_notify(ctx, "wait", DG_STAGE_BEGIN, 0, 0);
	left = wait_exits(ctx, rep, timeout_ms);
	if (left)
		dg_step_end(rep, step, -ETIMEDOUT, "%u process%s still running", left,
			    left == 1 ? "" : "es");
	else
		dg_step_end(rep, step, 0, "every signalled process exited");
	dg_stage_notify(ctx, "wait", DG_STAGE_END, left, 0);
	return left;
}

unsigned int dg_victims_survivors(struct dg_report *rep)
{
	struct dg_victim *v;
	unsigned int n = 0;

	dg_victim_foreach(rep, v)
		if (v->round && v->state == DG_VICTIM_SURVIVED)
			n++;
	return n;
}

/* Raise the soft descriptor limit: a pidfd per victim. */
static void raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int signal_round(struct dg_report *rep, struct dg_collector *col, int sig)
{
	struct dg_victim *v;
	unsigned int sent = 0;

	dg_victim_foreach(rep, v) {
		if (!v->round || (v->state != DG_VICTIM_SURVIVED && v->state != DG_VICTIM_REPORTED))
			continue;
		if (verify_and_signal(rep, col, v, sig))
			sent++;
	}
	return (int)sent;
}

int dg_unmap_and_kill(struct dg_ctx *ctx, struct dg_report *rep, struct dg_result *res,
		      enum dg_action action, unsigned int grace_ms, const struct dg_mf_opts *opts,
		      bool wait)
{
	struct dg_collector *col = NULL;
	struct dg_step *step;
	struct dg_victim *v;
	struct dg_user *u;
	struct ancestors anc;
	unsigned int nr = 0, left;
	int rc;

	find_ancestors(&anc);
	dg_victim_foreach(rep, v)
		v->round = false;
	dg_user_foreach(res, u) {
		const char *why;

		v = victim_for(rep, u->pid, u->comm);
		if (!v)
			return -ENOMEM;
		if (v->round)
			continue;
		v->round = true;
		nr++;
		why = protected_reason(v->pid, opts, &anc);
		if (why) {
			v->state = DG_VICTIM_PROTECTED;
			snprintf(v->reason, sizeof(v->reason), "%s", why);
		} else if (v->state != DG_VICTIM_SURVIVED) {
			v->state = DG_VICTIM_REPORTED;
		}
	}
	if (!nr || action == DG_ACTION_REPORT || (opts && (opts->flags & DG_MF_DRY_RUN)))
		return 0;

	raise_nofile();
	rc = dg_collector_new(res, true, &col);
	if (rc)
		return rc;

	dg_stage_notify(ctx, "signal", DG_STAGE_BEGIN, nr, 0);
	step = dg_step_begin(rep, "signal", dg_action_name(action));
	switch (action) {
	case DG_ACTION_TERM:
		rc = signal_round(rep, col, SIGTERM);
		break;
	case DG_ACTION_BUS:
		rc = signal_round(rep, col, SIGBUS);
		break;
	default:
		rc = signal_round(rep, col, SIGKILL);
		break;
	}
	dg_step_end(rep, step, 0, "%d process%s signalled", rc, rc == 1 ? "" : "es");
	dg_stage_notify(ctx, "signal", DG_STAGE_END, (unsigned int)rc, 0);
	if (!wait) {
		dg_collector_free(col);
		return 0;
	}

	dg_stage_notify(ctx, "wait", DG_STAGE_BEGIN, (unsigned int)rc, 0);
	step = dg_step_begin(rep, "wait", dg_action_name(action));
	left = wait_exits(ctx, rep, action == DG_ACTION_KILL ? DG_KILL_WAIT_MS : grace_ms);
	if (left && action == DG_ACTION_TERM) {
		/* the grace period is over: whoever still uses it, goes */
		dg_step_end(rep, step, 0, "%u process%s ignored SIGTERM for %u ms", left,
			    left == 1 ? "" : "es", grace_ms);
		step = dg_step_begin(rep, "signal", "kill");
		rc = signal_round(rep, col, SIGKILL);
		dg_step_end(rep, step, 0, "%d process%s signalled", rc, rc == 1 ? "" : "es");
		step = dg_step_begin(rep, "wait", "kill");
		left = wait_exits(ctx, rep, DG_KILL_WAIT_MS);
	}
	if (left)
		dg_step_end(rep, step, -ETIMEDOUT, "%u process%s still running", left,
			    left == 1 ? "" : "es");
	else
		dg_step_end(rep, step, 0, "every signalled process exited");
	dg_stage_notify(ctx, "wait", DG_STAGE_END, left, dg_report_elapsed(rep));
	dg_collector_free(col);
	return 0;
}
