// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Where watch's events go, for the places operators look: the journal (or
 * stderr with <N> priority prefixes, which systemd and syslog daemons
 * read), a Prometheus textfile for node_exporter, and --exec programs
 * that get each event's JSON on stdin, as mcelog's triggers do.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-journal.h>

#include "watch.h"
#include "util/util.h"

extern char **environ;

/* ------------------------------------------------------------------ */
/* Messages */

static bool use_journal;

/*
 * Under systemd, stderr goes to the journal already; JOURNAL_STREAM says
 * so (its device and inode are stderr's).  Then each message goes through
 * the journal's own protocol instead, with its fields; a copy on the
 * stream as well would show every line twice.
 */
void watch_log_init(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	use_journal = e && sscanf(e, "%llu:%llu", &dev, &ino) == 2 &&
		      fstat(STDERR_FILENO, &st) == 0 && (unsigned long long)st.st_dev == dev &&
		      (unsigned long long)st.st_ino == ino;
}

bool watch_log_journal(void)
{
	return use_journal;
}

static int add_field(struct iovec *iov, char **bufs, size_t *n, const char *key, const char *val)
{
	if (!val)
		return 0;
	if (asprintf(&bufs[*n], "%s=%s", key, val) < 0)
		return -ENOMEM;
	iov[*n].iov_base = bufs[*n];
	iov[*n].iov_len = strlen(bufs[*n]);
	(*n)++;
	return 0;
}

void watch_log(int prio, const struct watch_fields *f, const char *fmt, ...)
{
	static const struct watch_fields none;
	struct iovec iov[16];
	char *bufs[16], *msg, pr[4];
	size_t n = 0, i;
	va_list ap;
	int len;

	va_start(ap, fmt);
	len = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	if (!f)
		f = &none;
	{
		/*
		 * One message, one line (what follows a newline would lose its
		 * prefix), and names users chose escaped, as daxguard prints
		 * them everywhere (util/escape.c)
		 */
		char *safe = dg_str_escape(msg, DG_ESC_TERMINAL);

		if (safe) {
			free(msg);
			msg = safe;
		}
	}
	if (!use_journal) {
		fprintf(stderr, "<%d>%s\n", prio, msg);
		fflush(stderr);
		free(msg);
		return;
	}
	snprintf(pr, sizeof(pr), "%d", prio);
	add_field(iov, bufs, &n, "MESSAGE", msg);
	add_field(iov, bufs, &n, "PRIORITY", pr);
	add_field(iov, bufs, &n, "SYSLOG_IDENTIFIER", "daxguard");
	add_field(iov, bufs, &n, "MESSAGE_ID", f->message_id);
	add_field(iov, bufs, &n, "DAXGUARD_EVENT", f->event);
	add_field(iov, bufs, &n, "DAXGUARD_DEVICE", f->device);
	add_field(iov, bufs, &n, "DAXGUARD_IDENTITY", f->identity);
	add_field(iov, bufs, &n, "DAXGUARD_RANGE", f->ranges);
	add_field(iov, bufs, &n, "DAXGUARD_PIDS", f->pids);
	add_field(iov, bufs, &n, "DAXGUARD_ACTION", f->action);
	add_field(iov, bufs, &n, "DAXGUARD_DISPOSITION", f->disposition);
	if (sd_journal_sendv(iov, (int)n) < 0) {
		/* no journal after all: the stream is better than nothing */
		fprintf(stderr, "<%d>%s\n", prio, msg);
		fflush(stderr);
	}
	for (i = 0; i < n; i++)
		free(bufs[i]);
	free(msg);
}

/* ------------------------------------------------------------------ */
/* Prometheus textfile */

struct mcount {
	char *device, *kind;
	uint64_t events, ranges, signalled, punched, failed;
};

struct mgauge {
	char *device;
	uint64_t badblocks;
	bool has_badblocks, flood;
	double last_event;
};

struct watch_metrics {
	char *path;
	struct mcount *c;
	size_t nc;
	struct mgauge *g;
	size_t ng;
	unsigned int devices;
	double started;
	int last_err;
	bool dirty;
};

static double now_real(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct watch_metrics *watch_metrics_new(const char *path)
{
	struct watch_metrics *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->path = strdup(path);
	m->started = now_real();
	m->dirty = true;
	if (!m->path) {
		free(m);
		return NULL;
	}
	return m;
}

void watch_metrics_free(struct watch_metrics *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nc; i++) {
		free(m->c[i].device);
		free(m->c[i].kind);
	}
	for (i = 0; i < m->ng; i++)
		free(m->g[i].device);
	free(m->c);
	free(m->g);
	free(m->path);
	free(m);
}

static struct mgauge *gauge(struct watch_metrics *m, const char *device)
{
	struct mgauge *g;
	size_t i;

	for (i = 0; i < m->ng; i++)
		if (!strcmp(m->g[i].device, device))
			return &m->g[i];
	g = reallocarray(m->g, m->ng + 1, sizeof(*g));
	if (!g)
		return NULL;
	m->g = g;
	g = &g[m->ng];
	memset(g, 0, sizeof(*g));
	g->device = strdup(device);
	if (!g->device)
		return NULL;
	m->ng++;
	return g;
}

void watch_metrics_event(struct watch_metrics *m, const char *device, const char *kind,
			 uint64_t ranges, uint64_t signalled, uint64_t punched, bool failed)
{
	struct mcount *c = NULL;
	struct mgauge *g;
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nc; i++)
		if (!strcmp(m->c[i].device, device) && !strcmp(m->c[i].kind, kind))
			c = &m->c[i];
	if (!c) {
		c = reallocarray(m->c, m->nc + 1, sizeof(*c));
		if (!c)
			return;
		m->c = c;
		c = &c[m->nc];
		memset(c, 0, sizeof(*c));
		c->device = strdup(device);
		c->kind = strdup(kind);
		if (!c->device || !c->kind) {
			free(c->device);
			free(c->kind);
			return;
		}
		m->nc++;
	}
	c->events++;
	c->ranges += ranges;
	c->signalled += signalled;
	c->punched += punched;
	c->failed += failed;
	g = gauge(m, device);
	if (g)
		g->last_event = now_real();
	m->dirty = true;
}

void watch_metrics_badblocks(struct watch_metrics *m, const char *device, uint64_t sectors)
{
	struct mgauge *g = m ? gauge(m, device) : NULL;

	if (g && (!g->has_badblocks || g->badblocks != sectors)) {
		g->badblocks = sectors;
		g->has_badblocks = true;
		m->dirty = true;
	}
}

void watch_metrics_flood(struct watch_metrics *m, const char *device, bool flood)
{
	struct mgauge *g = m ? gauge(m, device) : NULL;

	if (g && g->flood != flood) {
		g->flood = flood;
		m->dirty = true;
	}
}

void watch_metrics_devices(struct watch_metrics *m, unsigned int nr)
{
	if (m && m->devices != nr) {
		m->devices = nr;
		m->dirty = true;
	}
}

/* a label value: backslash, quote and newline escaped, as the format wants */
static void put_label(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void counter(FILE *f, const struct watch_metrics *m, const char *name, const char *help,
		    size_t off)
{
	size_t i;

	fprintf(f, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (i = 0; i < m->nc; i++) {
		fprintf(f, "%s{device=\"", name);
		put_label(f, m->c[i].device);
		fputs("\",kind=\"", f);
		put_label(f, m->c[i].kind);
		fprintf(f, "\"} %" PRIu64 "\n", *(const uint64_t *)((const char *)&m->c[i] + off));
	}
}

int watch_metrics_write(struct watch_metrics *m)
{
	char tmp[PATH_MAX];
	FILE *f;
	size_t i;
	int rc = 0;

	if (!m || !m->dirty)
		return 0;
	/* node_exporter reads *.prom only: the temporary file is ignored */
	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", m->path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "we");
	if (!f) {
		rc = -errno;
		goto out;
	}
	counter(f, m, "daxguard_watch_events_total", "Events handled, by device and kind.",
		offsetof(struct mcount, events));
	counter(f, m, "daxguard_watch_ranges_total", "New bad ranges handled.",
		offsetof(struct mcount, ranges));
	counter(f, m, "daxguard_watch_processes_signalled_total",
		"Processes daxguard signalled (the kernel's own signals not counted).",
		offsetof(struct mcount, signalled));
	counter(f, m, "daxguard_watch_punched_bytes_total", "Bytes of file data punched out.",
		offsetof(struct mcount, punched));
	counter(f, m, "daxguard_watch_failures_total", "Events whose flow failed.",
		offsetof(struct mcount, failed));
	fputs("# HELP daxguard_watch_badblocks Bad 512-byte blocks the device lists now.\n"
	      "# TYPE daxguard_watch_badblocks gauge\n",
	      f);
	for (i = 0; i < m->ng; i++) {
		if (!m->g[i].has_badblocks)
			continue;
		fputs("daxguard_watch_badblocks{device=\"", f);
		put_label(f, m->g[i].device);
		fprintf(f, "\"} %" PRIu64 "\n", m->g[i].badblocks);
	}
	fputs("# HELP daxguard_watch_last_event_timestamp_seconds When the device's last event "
	      "was handled.\n"
	      "# TYPE daxguard_watch_last_event_timestamp_seconds gauge\n",
	      f);
	for (i = 0; i < m->ng; i++) {
		if (!m->g[i].last_event)
			continue;
		fputs("daxguard_watch_last_event_timestamp_seconds{device=\"", f);
		put_label(f, m->g[i].device);
		fprintf(f, "\"} %.3f\n", m->g[i].last_event);
	}
	fputs("# HELP daxguard_watch_flood 1 while the device floods and gets report-only.\n"
	      "# TYPE daxguard_watch_flood gauge\n",
	      f);
	for (i = 0; i < m->ng; i++) {
		fputs("daxguard_watch_flood{device=\"", f);
		put_label(f, m->g[i].device);
		fprintf(f, "\"} %d\n", m->g[i].flood);
	}
	fprintf(f,
		"# HELP daxguard_watch_devices Devices watched.\n"
		"# TYPE daxguard_watch_devices gauge\n"
		"daxguard_watch_devices %u\n"
		"# HELP daxguard_watch_start_time_seconds When the daemon started.\n"
		"# TYPE daxguard_watch_start_time_seconds gauge\n"
		"daxguard_watch_start_time_seconds %.3f\n",
		m->devices, m->started);
	if (fflush(f) || ferror(f))
		rc = -errno ? -errno : -EIO;
	if (fclose(f) && !rc)
		rc = -errno;
	if (!rc && rename(tmp, m->path) < 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
out:
	if (rc && rc != m->last_err) {
		char dir[PATH_MAX], *slash;

		snprintf(dir, sizeof(dir), "%s", m->path);
		slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		watch_log(LOG_ERR, NULL,
			  "%s: cannot write the metrics: %s%s%s%s; going on without, and trying "
			  "again at each change",
			  m->path, strerror(-rc), rc == -ENOENT ? " (the folder " : "",
			  rc == -ENOENT ? (slash ? dir : ".") : "",
			  rc == -ENOENT ? " does not exist)" : "");
	} else if (!rc && m->last_err) {
		watch_log(LOG_NOTICE, NULL, "%s: metrics written again", m->path);
	}
	m->last_err = rc;
	if (!rc)
		m->dirty = false;
	return rc;
}

/* ------------------------------------------------------------------ */
/* --exec */

#define EXEC_MAX_CHILDREN 4
#define EXEC_MAX_QUEUED 256

struct xchild {
	pid_t pid;
	int pidfd;
	uint64_t deadline;
	bool killed;
};

struct xjob {
	char *json, *kind, *device;
	size_t len;
};

struct watch_exec {
	int epfd; /* the children's pidfds */
	char *program;
	unsigned int timeout_ms;
	struct xchild ch[EXEC_MAX_CHILDREN];
	size_t nch;
	struct xjob q[EXEC_MAX_QUEUED];
	size_t nq;
	unsigned long dropped;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct watch_exec *watch_exec_new(const char *program, unsigned int timeout_ms)
{
	struct watch_exec *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	x->program = strdup(program);
	x->timeout_ms = timeout_ms;
	x->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!x->program || x->epfd < 0) {
		if (x->epfd >= 0)
			close(x->epfd);
		free(x->program);
		free(x);
		return NULL;
	}
	return x;
}

static void job_free(struct xjob *j)
{
	free(j->json);
	free(j->kind);
	free(j->device);
}

static int spawn(struct watch_exec *x, const struct xjob *j)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, all;
	char *argv[2] = { x->program, NULL };
	char **envp, *ev = NULL, *dv = NULL;
	size_t n = 0, i;
	pid_t pid;
	int mfd, rc;

	/* stdin is a memory file: the child reads at its pace, we never block */
	mfd = memfd_create("daxguard-event", MFD_CLOEXEC);
	if (mfd < 0)
		return -errno;
	if (write(mfd, j->json, j->len) != (ssize_t)j->len || lseek(mfd, 0, SEEK_SET) < 0) {
		close(mfd);
		return -EIO;
	}
	while (environ[n])
		n++;
	envp = calloc(n + 3, sizeof(*envp));
	if (!envp || asprintf(&ev, "DAXGUARD_EVENT=%s", j->kind) < 0 ||
	    asprintf(&dv, "DAXGUARD_DEVICE=%s", j->device ?: "") < 0) {
		free(envp);
		close(mfd);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++)
		envp[i] = environ[i];
	envp[n] = ev;
	envp[n + 1] = dv;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, mfd, STDIN_FILENO);
	/* our stdout may be the --json stream: the child's goes with our stderr */
	posix_spawn_file_actions_adddup2(&fa, STDERR_FILENO, STDOUT_FILENO);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &all);
	/* a session of its own: a timeout kills whatever it started, too */
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					      POSIX_SPAWN_SETSID);
	rc = -posix_spawn(&pid, x->program, &fa, &at, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	close(mfd);
	free(ev);
	free(dv);
	free(envp);
	if (rc)
		return rc;
	x->ch[x->nch].pid = pid;
	x->ch[x->nch].pidfd = pidfd_open(pid, 0);
	if (x->ch[x->nch].pidfd >= 0) {
		struct epoll_event e = { .events = EPOLLIN };

		epoll_ctl(x->epfd, EPOLL_CTL_ADD, x->ch[x->nch].pidfd, &e);
	}
	x->ch[x->nch].deadline = mono_ms() + x->timeout_ms;
	x->ch[x->nch].killed = false;
	x->nch++;
	return 0;
}

static void start_queued(struct watch_exec *x)
{
	while (x->nq && x->nch < EXEC_MAX_CHILDREN) {
		struct xjob j = x->q[0];
		int rc;

		memmove(&x->q[0], &x->q[1], (x->nq - 1) * sizeof(x->q[0]));
		x->nq--;
		rc = spawn(x, &j);
		if (rc)
			watch_log(LOG_ERR, NULL, "%s: cannot run it for a %s event: %s", x->program,
				  j.kind, strerror(-rc));
		job_free(&j);
	}
}

void watch_exec_run(struct watch_exec *x, const char *json, size_t len, const char *kind,
		    const char *device)
{
	struct xjob *j;

	if (!x)
		return;
	if (x->nq == EXEC_MAX_QUEUED) {
		/* never block the loop for a slow program: say what was lost */
		if (!x->dropped++)
			watch_log(LOG_ERR, NULL,
				  "%s: %d runs are waiting already; not run for this event and the "
				  "next ones until it catches up",
				  x->program, EXEC_MAX_QUEUED);
		return;
	}
	if (x->dropped) {
		watch_log(LOG_WARNING, NULL, "%s: was not run for %lu events", x->program,
			  x->dropped);
		x->dropped = 0;
	}
	j = &x->q[x->nq];
	j->json = malloc(len);
	j->kind = strdup(kind);
	j->device = device ? strdup(device) : NULL;
	j->len = len;
	if (!j->json || !j->kind) {
		job_free(j);
		return;
	}
	memcpy(j->json, json, len);
	x->nq++;
	start_queued(x);
}

int watch_exec_fd(struct watch_exec *x)
{
	return x->epfd;
}

void watch_exec_reap(struct watch_exec *x)
{
	uint64_t now = mono_ms();
	size_t i, n = 0;

	if (!x)
		return;
	for (i = 0; i < x->nch; i++) {
		struct xchild *c = &x->ch[i];
		int status;
		pid_t r;

		if (!c->killed && now >= c->deadline) {
			/* its own session: the group goes with it; the pid is not reaped yet */
			kill(-c->pid, SIGKILL);
			if (c->pidfd >= 0)
				pidfd_send_signal(c->pidfd, SIGKILL, NULL, 0);
			c->killed = true;
			watch_log(LOG_ERR, NULL, "%s (pid %d): killed after %u ms", x->program,
				  (int)c->pid, x->timeout_ms);
		}
		/* only our own child, by pid: never a freeze guardian's status */
		r = waitpid(c->pid, &status, WNOHANG);
		if (r == c->pid) {
			if (!c->killed && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
				watch_log(LOG_WARNING, NULL, "%s (pid %d): %s %d", x->program,
					  (int)c->pid,
					  WIFEXITED(status) ? "exit status" : "killed by signal",
					  WIFEXITED(status) ? WEXITSTATUS(status) :
							      WTERMSIG(status));
			if (c->pidfd >= 0) {
				epoll_ctl(x->epfd, EPOLL_CTL_DEL, c->pidfd, NULL);
				close(c->pidfd);
			}
			continue;
		}
		x->ch[n++] = *c;
	}
	x->nch = n;
	start_queued(x);
}

int watch_exec_timeout(struct watch_exec *x)
{
	uint64_t now = mono_ms(), first = UINT64_MAX;
	size_t i;

	for (i = 0; x && i < x->nch; i++)
		if (!x->ch[i].killed && x->ch[i].deadline < first)
			first = x->ch[i].deadline;
	if (first == UINT64_MAX)
		return -1;
	return first > now ? (int)(first - now) : 0;
}

void watch_exec_stop(struct watch_exec *x)
{
	size_t i;

	if (!x)
		return;
	for (i = 0; i < x->nch; i++) {
		kill(-x->ch[i].pid, SIGKILL);
		waitpid(x->ch[i].pid, NULL, 0);
		if (x->ch[i].pidfd >= 0)
			close(x->ch[i].pidfd);
	}
	x->nch = 0;
}

void watch_exec_free(struct watch_exec *x)
{
	size_t i;

	if (!x)
		return;
	watch_exec_stop(x);
	for (i = 0; i < x->nq; i++)
		job_free(&x->q[i]);
	close(x->epfd);
	free(x->program);
	free(x);
}
