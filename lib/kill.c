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
#include <pthread.h>
#include <sys/epoll.h>
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
 * With them our own pid: getpid() is a system call for each victim.
 */
struct ancestors {
	pid_t self;
	pid_t pid[64];
	size_t nr;
};

static void find_ancestors(struct ancestors *a)
{
	pid_t p = getppid();

	a->self = getpid();
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

static bool is_kthread(pid_t pid)
{
	unsigned long flags = 0;

	return proc_stat(pid, NULL, &flags) == 0 && (flags & PF_KTHREAD);
}

/*
 * Whether a use proves an address space.  The kernel shows no mappings
 * of a kernel thread (get_task_mm() refuses them, even while one borrows
 * an mm), so a process that maps something is no kernel thread, and
 * thousands of /proc/PID/stat reads are spared.
 */
static bool maps_something(const struct dg_victim *v)
{
	const struct dg_user *u;

	for (u = v->uses; u && u->pid == v->pid; u = u->next)
		if (u->use == DG_USE_MAP)
			return true;
	return false;
}

/* Never signalled: why, or NULL.  @maps: it maps something (no kthread). */
static const char *spare_reason(pid_t pid, bool maps, const struct dg_mf_opts *opts,
				const struct ancestors *anc)
{
	size_t i;

	if (pid == anc->self)
		return "daxguard itself";
	if (pid == 1)
		return "init (pid 1)";
	if (!maps && is_kthread(pid))
		return "kernel thread";
	for (i = 0; opts && i < opts->nr_protect; i++)
		if (opts->protect[i] == pid)
			return "protected by request";
	if (!(opts && (opts->flags & DG_MF_INCLUDE_ANCESTORS)) && is_ancestor(anc, pid))
		return "an ancestor of daxguard (use --include-ancestors)";
	return NULL;
}

static const char *protected_reason(const struct dg_victim *v, const struct dg_mf_opts *opts,
				    const struct ancestors *anc)
{
	return spare_reason(v->pid, maps_something(v), opts, anc);
}

/*
 * Signalled as found (a removal's users, whatever they use of the
 * device): the collector pins each process with a pidfd before it reads
 * its /proc, and for each user calls stream_found() from its scan thread,
 * which signals at once.  Their exits then overlap the rest of the scan;
 * signalled one by one after the scan, the last ones began to die only
 * after every /proc of the system had been read.
 */
static void add_signal(struct dg_report *rep, struct dg_victim *v, int sig);
static void raise_nofile(void);

struct streamed {
	pid_t pid;
	int pidfd;
	uint64_t at_ms;
};

struct dg_stream_kill {
	pthread_mutex_t lock;
	struct dg_collect_hook hook;
	struct dg_report *rep;
	const struct dg_mf_opts *opts;
	struct ancestors anc;
	int sig;
	struct streamed *v;
	size_t nr, cap;
};

static void stream_found(void *arg, pid_t pid, int pidfd, bool maps)
{
	struct dg_stream_kill *sk = arg;
	struct streamed *nv;

	if (spare_reason(pid, maps, sk->opts, &sk->anc) ||
	    pidfd_send_signal(pidfd, sk->sig, NULL, 0) < 0) {
		/* spared, or gone: the round after the scan says which */
		close(pidfd);
		return;
	}
	pthread_mutex_lock(&sk->lock);
	if (sk->nr == sk->cap) {
		nv = realloc(sk->v, (sk->cap = sk->cap ? sk->cap * 2 : 256) * sizeof(*nv));
		if (!nv) {
			pthread_mutex_unlock(&sk->lock);
			close(pidfd); /* signalled all the same; waited for as gone */
			return;
		}
		sk->v = nv;
	}
	sk->v[sk->nr++] = (struct streamed){ pid, pidfd, dg_report_elapsed(sk->rep) };
	pthread_mutex_unlock(&sk->lock);
}

struct dg_stream_kill *dg_stream_kill_new(struct dg_report *rep, enum dg_action action,
					  const struct dg_mf_opts *opts)
{
	struct dg_stream_kill *sk;

	if (action != DG_ACTION_KILL || (opts && (opts->flags & DG_MF_DRY_RUN)))
		return NULL;
	sk = calloc(1, sizeof(*sk));
	if (!sk)
		return NULL;
	pthread_mutex_init(&sk->lock, NULL);
	sk->rep = rep;
	sk->opts = opts;
	sk->sig = SIGKILL;
	sk->hook.fn = stream_found;
	sk->hook.arg = sk;
	find_ancestors(&sk->anc);
	raise_nofile();
	return sk;
}

const struct dg_collect_hook *dg_stream_kill_hook(struct dg_stream_kill *sk)
{
	return sk ? &sk->hook : NULL;
}

void dg_stream_kill_free(struct dg_stream_kill *sk)
{
	size_t i;

	if (!sk)
		return;
	for (i = 0; i < sk->nr; i++)
		if (sk->v[i].pidfd >= 0)
			close(sk->v[i].pidfd);
	pthread_mutex_destroy(&sk->lock);
	free(sk->v);
	free(sk);
}

/* The victims of this round that the scan signalled already. */
static unsigned int take_streamed(struct dg_report *rep, struct dg_stream_kill *sk)
{
	struct dg_u64map by_pid = { 0 };
	struct dg_victim *v;
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < sk->nr; i++)
		if (dg_u64map_put(&by_pid, (uint64_t)sk->v[i].pid, &sk->v[i]))
			break;
	dg_victim_foreach(rep, v) {
		struct streamed *e;

		if (!v->round || v->state == DG_VICTIM_PROTECTED)
			continue;
		e = dg_u64map_get(&by_pid, (uint64_t)v->pid);
		if (!e || e->pidfd < 0)
			continue;
		if (v->pidfd >= 0)
			close(e->pidfd); /* pinned in an earlier round: the same one */
		else
			v->pidfd = e->pidfd;
		e->pidfd = -1;
		add_signal(rep, v, sk->sig);
		if (v->signalled_ms > e->at_ms)
			v->signalled_ms = e->at_ms;
		v->state = DG_VICTIM_SURVIVED;
		v->streamed = true;
		n++;
	}
	dg_u64map_free(&by_pid);
	return n;
}

/*
 * One process, however many uses: a victim of this round, or one still
 * pinned from an earlier round, is the same process; one that exited is
 * not, even with the same number.  @live maps the pids of the first two
 * kinds to their victims.
 */
static struct dg_victim *victim_for(struct dg_report *rep, struct dg_u64map *live, pid_t pid,
				    const char *comm)
{
	struct dg_victim *v = dg_u64map_get(live, (uint64_t)pid);

	if (v)
		return v;
	v = calloc(1, sizeof(*v));
	if (!v || dg_u64map_put(live, (uint64_t)pid, v)) {
		free(v);
		return NULL;
	}
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
 * Pin, then check: is the process behind @v->pidfd still a user?  First
 * the uses the scan found, each looked at alone (one query or one stat);
 * if none of them is there any more, the whole process again, since it
 * may have moved a mapping or opened another file.  Whatever /proc says
 * here is about the pinned process if a signal sent to the pidfd later
 * succeeds: the number cannot go to anybody else while it lives.
 */
static bool pin_and_verify(struct dg_collector *col, struct dg_victim *v)
{
	bool has_mm = false;
	struct dg_user *u;
	int n = 0;

	if (v->pidfd < 0) {
		v->pidfd = pidfd_open(v->pid, 0);
		if (v->pidfd < 0) {
			v->state = DG_VICTIM_GONE;
			snprintf(v->reason, sizeof(v->reason), "exited before it was signalled");
			return false;
		}
	}
	for (u = v->uses; u && u->pid == v->pid; u = u->next) {
		n = dg_collector_recheck(col, u);
		if (n > 0)
			has_mm = u->use == DG_USE_MAP;
		if (n > 0 || n == -ESRCH)
			break;
	}
	if (n <= 0)
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
	/* the number may have gone to a kernel thread since the scan */
	if (!has_mm && is_kthread(v->pid)) {
		v->state = DG_VICTIM_PROTECTED;
		snprintf(v->reason, sizeof(v->reason), "kernel thread");
		return false;
	}
	/*
	 * n == -ESRCH: /proc says gone, yet the pidfd may still take the
	 * signal.  That is an exiting process (its /proc entries go first);
	 * harmless, and the signal tells which.
	 */
	return true;
}

static bool send_signal(struct dg_report *rep, struct dg_victim *v, int sig)
{
	if (pidfd_send_signal(v->pidfd, sig, NULL, 0) < 0) {
		if (errno == ESRCH) {
			mark_exited(rep, v);
			return false;
		}
		v->state = DG_VICTIM_PROTECTED;
		snprintf(v->reason, sizeof(v->reason), "signal failed: %s", strerror(errno));
		return false;
	}
	add_signal(rep, v, sig);
	v->state = DG_VICTIM_SURVIVED;
	return true;
}

/* The same with poll(2), where no epoll set can be had (no descriptor left). */
static unsigned int wait_exits_poll(struct dg_ctx *ctx, struct dg_report *rep,
				    unsigned int timeout_ms)
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

/*
 * Wait until every signalled victim of the round exited, or @timeout_ms.
 * Each pidfd joins one epoll set once and reports once, when its process
 * exits: poll(2) of the whole list again after every wake-up cost
 * thousands of pidfd checks for each of hundreds of wake-ups while
 * thousands died.
 */
static unsigned int wait_exits(struct dg_ctx *ctx, struct dg_report *rep, unsigned int timeout_ms)
{
	uint64_t start = dg_now_ms(), last_progress = 0;
	struct epoll_event ev[256];
	struct dg_victim *v;
	unsigned int left = 0;
	int ep;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return wait_exits_poll(ctx, rep, timeout_ms);
	dg_victim_foreach(rep, v) {
		/* one report each: no removal from the set after it */
		struct epoll_event e = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = v };

		if (!v->round || v->state != DG_VICTIM_SURVIVED)
			continue;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, v->pidfd, &e) < 0) {
			close(ep);
			return wait_exits_poll(ctx, rep, timeout_ms);
		}
		left++;
	}
	while (left) {
		uint64_t el = dg_now_ms() - start;
		int n, i;

		if (el >= timeout_ms)
			break;
		if (el - last_progress >= PROGRESS_MS) {
			dg_stage_notify(ctx, "wait", DG_STAGE_PROGRESS, left, el);
			last_progress = el;
		}
		n = epoll_wait(ep, ev, (int)ARRAY_SIZE(ev),
			       (int)DG_MIN(timeout_ms - el, (uint64_t)PROGRESS_MS));
		if (n < 0 && errno != EINTR)
			break;
		for (i = 0; i < n; i++) {
			v = ev[i].data.ptr;
			mark_exited(rep, v);
			left--;
		}
	}
	close(ep);
	return dg_victims_survivors(rep);
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

/*
 * A round checks every victim before it signals any.  Checked one by one
 * between signals, the later checks raced the earlier victims' exits for
 * the CPUs and read /proc of a system full of dying processes: 0.4-0.6 s
 * more for 2,000 processes here (doc/benchmarks.md).  The checks are
 * independent, so they run on a thread per CPU (up to four), each with a
 * collector of its own, like the scan.
 */
#define VERIFY_MAX_THREADS 4
#define VERIFY_MIN_PER_THREAD 128

struct verify_part {
	struct dg_collector *col;
	struct dg_victim **v;
	bool *ok;
	size_t nr;
};

static void *verify_part_fn(void *arg)
{
	struct verify_part *p = arg;
	size_t i;

	for (i = 0; i < p->nr; i++)
		p->ok[i] = pin_and_verify(p->col, p->v[i]);
	return NULL;
}

static int verify_all(struct dg_result *res, struct dg_victim **v, bool *ok, size_t nr)
{
	struct verify_part parts[VERIFY_MAX_THREADS];
	size_t nparts, per, i;
	int rc = 0;

	memset(parts, 0, sizeof(parts));
	nparts = dg_parts_count(nr, VERIFY_MIN_PER_THREAD, VERIFY_MAX_THREADS);
	per = (nr + nparts - 1) / nparts;
	for (i = 0; i < nparts; i++) {
		struct verify_part *p = &parts[i];
		size_t first = DG_MIN(i * per, nr);

		rc = dg_collector_new(res, true, &p->col);
		if (rc)
			goto out;
		p->v = v + first;
		p->ok = ok + first;
		p->nr = DG_MIN(per, nr - first);
	}
	dg_run_parts(parts, sizeof(parts[0]), nparts, verify_part_fn);
out:
	for (i = 0; i < nparts; i++)
		dg_collector_free(parts[i].col);
	return rc;
}

static bool wants_signal(const struct dg_victim *v);

/* Is any victim of the round still to be signalled? */
static bool has_unsignalled(struct dg_report *rep)
{
	struct dg_victim *v;

	dg_victim_foreach(rep, v)
		if (wants_signal(v))
			return true;
	return false;
}

/* A victim of the round not yet signalled in it (the scan may have done it) */
static bool wants_signal(const struct dg_victim *v)
{
	return v->round && !v->streamed &&
	       (v->state == DG_VICTIM_SURVIVED || v->state == DG_VICTIM_REPORTED);
}

static int signal_round(struct dg_report *rep, struct dg_result *res, int sig)
{
	struct dg_victim *v, **todo = NULL;
	size_t nr = 0, i;
	bool *ok = NULL;
	int rc, sent = 0;

	dg_victim_foreach(rep, v)
		if (wants_signal(v))
			nr++;
	if (!nr)
		return 0;
	todo = calloc(nr, sizeof(*todo));
	ok = calloc(nr, sizeof(*ok));
	if (!todo || !ok) {
		rc = -ENOMEM;
		goto out;
	}
	i = 0;
	dg_victim_foreach(rep, v)
		if (wants_signal(v))
			todo[i++] = v;

	rc = verify_all(res, todo, ok, nr);
	if (rc)
		goto out;
	/* nothing but the signals now: every victim gets its own soon */
	for (i = 0; i < nr; i++)
		if (ok[i] && send_signal(rep, todo[i], sig))
			sent++;
	rc = sent;
out:
	free(todo);
	free(ok);
	return rc;
}

/* One signal step: *@sent processes signalled, or a negative errno. */
static int signal_step(struct dg_report *rep, struct dg_result *res, const char *object, int sig,
		       int *sent)
{
	struct dg_step *step = dg_step_begin(rep, "signal", object);
	int rc = signal_round(rep, res, sig);

	if (rc < 0) {
		dg_step_end(rep, step, rc, "cannot check the processes: %s", strerror(-rc));
		return rc;
	}
	dg_step_end(rep, step, 0, "%d process%s signalled", rc, rc == 1 ? "" : "es");
	*sent += rc;
	return 0;
}

int dg_unmap_and_kill(struct dg_ctx *ctx, struct dg_report *rep, struct dg_result *res,
		      enum dg_action action, unsigned int grace_ms, const struct dg_mf_opts *opts,
		      bool wait, struct dg_stream_kill *streamed)
{
	struct dg_u64map live = { 0 };
	struct dg_step *step;
	struct dg_victim *v;
	struct dg_user *u;
	struct ancestors anc;
	unsigned int nr = 0, left;
	int sig, rc = 0, sent = 0;

	find_ancestors(&anc);
	dg_victim_foreach(rep, v) {
		v->round = false;
		v->streamed = false;
		v->uses = NULL;
		if (v->pidfd >= 0 && dg_u64map_put(&live, (uint64_t)v->pid, v)) {
			rc = -ENOMEM;
			goto out;
		}
	}
	dg_user_foreach(res, u) {
		const char *why;

		v = victim_for(rep, &live, u->pid, u->comm);
		if (!v) {
			rc = -ENOMEM;
			goto out;
		}
		if (v->round)
			continue;
		v->round = true;
		v->uses = u;
		nr++;
		why = protected_reason(v, opts, &anc);
		if (why) {
			v->state = DG_VICTIM_PROTECTED;
			snprintf(v->reason, sizeof(v->reason), "%s", why);
		} else if (v->state != DG_VICTIM_SURVIVED) {
			v->state = DG_VICTIM_REPORTED;
		}
	}
	if (!nr || action == DG_ACTION_REPORT || (opts && (opts->flags & DG_MF_DRY_RUN)))
		goto out;

	raise_nofile();
	sig = action == DG_ACTION_TERM ? SIGTERM : action == DG_ACTION_BUS ? SIGBUS : SIGKILL;
	dg_stage_notify(ctx, "signal", DG_STAGE_BEGIN, nr, 0);
	if (streamed) {
		/* its time is the scan's, which the collect step shows */
		step = dg_step_begin(rep, "signal", "as the scan found them");
		sent = (int)take_streamed(rep, streamed);
		dg_step_end(rep, step, 0, "%d process%s signalled (%s)", sent,
			    sent == 1 ? "" : "es", dg_action_name(action));
	}
	if (!streamed || has_unsignalled(rep)) {
		rc = signal_step(rep, res, dg_action_name(action), sig, &sent);
		if (rc)
			goto out;
	}
	dg_stage_notify(ctx, "signal", DG_STAGE_END, (unsigned int)sent, 0);
	if (!wait)
		goto out;

	dg_stage_notify(ctx, "wait", DG_STAGE_BEGIN, (unsigned int)sent, 0);
	step = dg_step_begin(rep, "wait", dg_action_name(action));
	left = wait_exits(ctx, rep, action == DG_ACTION_KILL ? DG_KILL_WAIT_MS : grace_ms);
	if (left && action == DG_ACTION_TERM) {
		/* the grace period is over: whoever still uses it, goes */
		dg_step_end(rep, step, 0, "%u process%s ignored SIGTERM for %u ms", left,
			    left == 1 ? "" : "es", grace_ms);
		sent = 0;
		rc = signal_step(rep, res, "kill", SIGKILL, &sent);
		if (rc)
			goto out;
		step = dg_step_begin(rep, "wait", "kill");
		left = wait_exits(ctx, rep, DG_KILL_WAIT_MS);
	}
	if (left)
		dg_step_end(rep, step, -ETIMEDOUT, "%u process%s still running", left,
			    left == 1 ? "" : "es");
	else
		dg_step_end(rep, step, 0, "every signalled process exited");
	dg_stage_notify(ctx, "wait", DG_STAGE_END, left, dg_report_elapsed(rep));
out:
	dg_u64map_free(&live);
	/* the uses belong to @res, which the caller may free now */
	dg_victim_foreach(rep, v)
		v->uses = NULL;
	return rc;
}
