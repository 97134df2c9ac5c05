// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dg-mapper: a test helper that sets up file uses for daxguard to find.
 *
 * Usage: dg-mapper [-r READYFILE] OP [OP...]
 *
 *   map:PATH:OFFSET:LENGTH:MODE  mmap LENGTH bytes of PATH at OFFSET (page
 *                                aligned), MODE shared-rw, shared-ro,
 *                                private-ro or private-rw; every page is
 *                                read so it is faulted in, then the fd is
 *                                closed: only the mapping remains
 *   hold:PATH                    open PATH read-only and keep the fd
 *   cwd:DIR                      chdir to DIR
 *   root:DIR                     chroot to DIR (the cwd stays where it is)
 *   write:PATH:BYTES             create PATH, write BYTES bytes of a fixed
 *                                pattern (no fsync) and keep the fd
 *   unlink:PATH                  unlink PATH
 *   usr1:release                 on SIGUSR1, let go of everything: unmap
 *                                every map:, point every fd of hold: and
 *                                write: at /dev/null (same numbers), chdir /
 *   usr1:move                    on SIGUSR1, move every map: to another
 *                                address (mremap), and put anonymous memory
 *                                where it was: still a user, elsewhere
 *   thread-cwd:DIR               a new thread unshares its fs context
 *                                (CLONE_FS) and chdirs to DIR: only that
 *                                thread's cwd is there
 *   thread-hold:PATH             a new thread unshares its fd table
 *                                (CLONE_FILES) and opens PATH: only that
 *                                thread holds it
 *   leader-exit:now              once ready, the main thread (the thread
 *                                group leader) calls pthread_exit(); a
 *                                second thread keeps the process alive, so
 *                                /proc/PID/maps of the leader reads empty
 *
 * The ops run in order.  Then "ready\n" is written to READYFILE (through a
 * rename, so a reader never sees a partial file) or to stdout, and the
 * helper waits until it is killed.  After a usr1: action it writes "usr1\n"
 * there the same way.  Numbers are decimal or 0x hex.  On error it prints
 * "dg-mapper: OBJECT: cause" and exits 1.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *prog = "dg-mapper";

/* what map:, hold: and write: made, for usr1: */
#define MAX_USES 64
static struct {
	void *addr;
	size_t length;
} maps[MAX_USES];
static int fds[MAX_USES];
static int nr_maps, nr_fds;
static enum { USR1_NONE, USR1_RELEASE, USR1_MOVE } usr1;
static bool leader_exit;

static __attribute__((noreturn)) void die(const char *object, const char *cause)
{
	fprintf(stderr, "%s: %s: %s\n", prog, object, cause);
	exit(1);
}

static __attribute__((noreturn)) void die_errno(const char *object)
{
	die(object, strerror(errno));
}

static void usage(FILE *out, int status)
{
	fprintf(out,
		"Usage: %s [-r READYFILE] OP [OP...]\n"
		"  map:PATH:OFFSET:LENGTH:MODE  (MODE: shared-rw, shared-ro, private-ro, private-rw)\n"
		"  hold:PATH\n"
		"  cwd:DIR\n"
		"  root:DIR\n"
		"  write:PATH:BYTES\n"
		"  unlink:PATH\n"
		"  usr1:release | usr1:move\n"
		"  thread-cwd:DIR | thread-hold:PATH | leader-exit:now\n",
		prog);
	exit(status);
}

/* Decimal or 0x hex, nothing else (no octal, no sign, no suffix). */
static uint64_t parse_num(const char *str, const char *op)
{
	unsigned long long val;
	const char *digits = str;
	char *end;
	int base = 10;

	if (str[0] == '0' && (str[1] == 'x' || str[1] == 'X')) {
		base = 16;
		digits = str + 2;
	}
	if (*digits == '\0' || *digits == '-' || *digits == '+' || *digits == ' ')
		die(op, "invalid number");
	errno = 0;
	val = strtoull(digits, &end, base);
	if (errno)
		die(op, strerror(errno));
	if (*end != '\0')
		die(op, "invalid number");
	return val;
}

/*
 * Split off the last field of @str at its last ':'.  Paths may contain ':',
 * numbers and modes may not, so trailing fields are taken from the right.
 */
static char *split_last(char *str, const char *op)
{
	char *colon = strrchr(str, ':');

	if (!colon)
		die(op, "missing field");
	*colon = '\0';
	return colon + 1;
}

static void op_map(char *arg, const char *op)
{
	char *mode_str = split_last(arg, op);
	char *len_str = split_last(arg, op);
	char *off_str = split_last(arg, op);
	const char *path = arg;
	long page_size = sysconf(_SC_PAGESIZE);
	uint64_t offset = parse_num(off_str, op);
	uint64_t length = parse_num(len_str, op);
	bool shared, writable;
	volatile const unsigned char *p;
	unsigned char sum = 0;
	struct stat st;
	uint64_t i;
	void *addr;
	int prot, fd;

	if (strcmp(mode_str, "shared-rw") == 0) {
		shared = true;
		writable = true;
	} else if (strcmp(mode_str, "shared-ro") == 0) {
		shared = true;
		writable = false;
	} else if (strcmp(mode_str, "private-ro") == 0) {
		shared = false;
		writable = false;
	} else if (strcmp(mode_str, "private-rw") == 0) {
		shared = false;
		writable = true;
	} else {
		die(mode_str, "invalid mapping mode");
	}
	if (*path == '\0')
		die(op, "missing path");
	if (offset % page_size)
		die(off_str, "offset not page aligned");
	if (length == 0)
		die(len_str, "length must not be zero");

	fd = open(path, writable ? O_RDWR : O_RDONLY);
	if (fd < 0)
		die_errno(path);
	if (fstat(fd, &st) < 0)
		die_errno(path);
	/* touching a page past EOF would SIGBUS: refuse up front */
	if (offset + length < offset ||
	    offset + length > ((uint64_t)st.st_size + page_size - 1) / page_size * page_size)
		die(path, "mapping beyond end of file");

	prot = PROT_READ | (writable ? PROT_WRITE : 0);
	addr = mmap(NULL, length, prot, shared ? MAP_SHARED : MAP_PRIVATE, fd, offset);
	if (addr == MAP_FAILED)
		die_errno(path);
	if (close(fd) < 0)
		die_errno(path);

	p = addr;
	for (i = 0; i < length; i += page_size)
		sum += p[i];
	(void)sum;
	if (nr_maps == MAX_USES)
		die(op, "too many uses");
	maps[nr_maps].addr = addr;
	maps[nr_maps++].length = length;
}

static void keep_fd(int fd, const char *op)
{
	if (nr_fds == MAX_USES)
		die(op, "too many uses");
	fds[nr_fds++] = fd;
}

static void op_hold(const char *path)
{
	/* the descriptor is kept open on purpose */
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		die_errno(path);
	keep_fd(fd, path);
}

static void op_cwd(const char *dir)
{
	if (chdir(dir) < 0)
		die_errno(dir);
}

static void op_root(const char *dir)
{
	if (chroot(dir) < 0)
		die_errno(dir);
}

static void op_write(char *arg, const char *op)
{
	char *bytes_str = split_last(arg, op);
	const char *path = arg;
	uint64_t bytes = parse_num(bytes_str, op);
	unsigned char buf[65536];
	uint64_t done = 0;
	size_t i;
	int fd;

	if (*path == '\0')
		die(op, "missing path");
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die_errno(path);
	while (done < bytes) {
		size_t chunk = sizeof(buf);
		ssize_t ret;

		if (bytes - done < chunk)
			chunk = bytes - done;
		/* the byte at file offset N is (N * 7 + N / 4096) & 0xff */
		for (i = 0; i < chunk; i++) {
			uint64_t pos = done + i;

			buf[i] = (unsigned char)(pos * 7 + pos / 4096);
		}
		ret = write(fd, buf, chunk);
		if (ret < 0) {
			if (errno == EINTR)
				continue;
			die_errno(path);
		}
		done += ret;
	}
	/* the descriptor is kept open on purpose, and no fsync */
	keep_fd(fd, path);
}

static void op_usr1(const char *what)
{
	if (strcmp(what, "release") == 0)
		usr1 = USR1_RELEASE;
	else if (strcmp(what, "move") == 0)
		usr1 = USR1_MOVE;
	else
		die(what, "not release or move");
}

static void do_release(void)
{
	int i, null = open("/dev/null", O_RDONLY);

	if (null < 0)
		die_errno("/dev/null");
	for (i = 0; i < nr_maps; i++)
		if (munmap(maps[i].addr, maps[i].length) < 0)
			die_errno("munmap");
	for (i = 0; i < nr_fds; i++)
		if (dup2(null, fds[i]) < 0)
			die_errno("dup2");
	close(null);
	if (chdir("/") < 0)
		die_errno("/");
}

static void do_move(void)
{
	int i;

	for (i = 0; i < nr_maps; i++) {
		void *to =
			mmap(NULL, maps[i].length, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (to == MAP_FAILED)
			die_errno("mmap");
		if (mremap(maps[i].addr, maps[i].length, maps[i].length,
			   MREMAP_MAYMOVE | MREMAP_FIXED, to) == MAP_FAILED)
			die_errno("mremap");
		if (mmap(maps[i].addr, maps[i].length, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			die_errno("mmap");
		maps[i].addr = to;
	}
}

static void op_unlink(const char *path)
{
	if (unlink(path) < 0)
		die_errno(path);
}

struct thread_op {
	bool files; /* unshare the fd table and open, else the fs context and chdir */
	const char *path;
	sem_t done;
	int err;
};

static void *thread_op_fn(void *arg)
{
	struct thread_op *t = arg;

	if (unshare(t->files ? CLONE_FILES : CLONE_FS) < 0)
		t->err = errno;
	else if (t->files ? open(t->path, O_RDONLY) < 0 : chdir(t->path) < 0)
		t->err = errno;
	sem_post(&t->done);
	for (;;)
		pause();
	return NULL;
}

/* thread-cwd: and thread-hold:, done by a thread of their own */
static void op_thread(const char *path, bool files)
{
	struct thread_op *t = calloc(1, sizeof(*t));
	pthread_t tid;

	if (!t)
		die(path, strerror(ENOMEM));
	t->files = files;
	t->path = path;
	sem_init(&t->done, 0, 0);
	errno = pthread_create(&tid, NULL, thread_op_fn, t);
	if (errno)
		die_errno("pthread_create");
	while (sem_wait(&t->done) < 0)
		;
	if (t->err)
		die(path, strerror(t->err));
}

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void run_op(const char *op)
{
	char *copy = strdup(op);
	char *colon, *arg;

	if (!copy)
		die(op, strerror(ENOMEM));
	colon = strchr(copy, ':');
	if (!colon)
		die(op, "invalid operation");
	*colon = '\0';
	arg = colon + 1;

	if (strcmp(copy, "map") == 0)
		op_map(arg, op);
	else if (strcmp(copy, "hold") == 0)
		op_hold(arg);
	else if (strcmp(copy, "cwd") == 0)
		op_cwd(arg);
	else if (strcmp(copy, "root") == 0)
		op_root(arg);
	else if (strcmp(copy, "write") == 0)
		op_write(arg, op);
	else if (strcmp(copy, "unlink") == 0)
		op_unlink(arg);
	else if (strcmp(copy, "usr1") == 0)
		op_usr1(arg);
	else if (strcmp(copy, "thread-cwd") == 0)
		op_thread(strdup(arg), false);
	else if (strcmp(copy, "thread-hold") == 0)
		op_thread(strdup(arg), true);
	else if (strcmp(copy, "leader-exit") == 0)
		leader_exit = true;
	else
		die(op, "invalid operation");
	free(copy);
}

/*
 * Where "ready" goes.  The directory is opened before the ops run, since
 * cwd: and root: change what a path means.
 */
struct ready {
	const char *name; /* as given, for messages */
	int dirfd;
	char *base;
};

static void ready_open(struct ready *r, const char *path)
{
	char *copy = strdup(path);
	char *slash;

	if (!copy)
		die(path, strerror(ENOMEM));
	r->name = path;
	slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		r->base = strdup(slash + 1);
		r->dirfd = open(slash == copy ? "/" : copy, O_PATH | O_DIRECTORY | O_CLOEXEC);
	} else {
		r->base = strdup(copy);
		r->dirfd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	}
	if (r->dirfd < 0)
		die_errno(path);
	if (!r->base || !*r->base)
		die(path, "not a file name");
	free(copy);
}

static void signal_ready(struct ready *r, const char *msg)
{
	char tmp[64];
	ssize_t len = (ssize_t)strlen(msg);
	int fd;

	if (!r->name) {
		if (fputs(msg, stdout) == EOF || fflush(stdout) == EOF)
			die("stdout", strerror(errno));
		return;
	}
	snprintf(tmp, sizeof(tmp), ".dg-mapper.ready.%ld", (long)getpid());
	fd = openat(r->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die_errno(r->name);
	if (write(fd, msg, (size_t)len) != len)
		die_errno(r->name);
	if (close(fd) < 0)
		die_errno(r->name);
	if (renameat(r->dirfd, tmp, r->dirfd, r->base) < 0)
		die_errno(r->name);
}

static bool usr1_wanted(int argc, char **argv)
{
	int i;

	for (i = optind; i < argc; i++)
		if (strncmp(argv[i], "usr1:", 5) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	struct ready ready = { .name = NULL, .dirfd = -1 };
	sigset_t set;
	int opt, i;

	while ((opt = getopt(argc, argv, "+hr:")) != -1) {
		switch (opt) {
		case 'r':
			ready_open(&ready, optarg);
			break;
		case 'h':
			usage(stdout, 0);
			break;
		default:
			usage(stderr, 1);
		}
	}
	if (optind >= argc)
		usage(stderr, 1);

	/* blocked before the ops: a SIGUSR1 sent once we are ready waits */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (usr1_wanted(argc, argv) && sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die_errno("sigprocmask");
	for (i = optind; i < argc; i++)
		run_op(argv[i]);

	signal_ready(&ready, "ready\n");
	if (usr1 == USR1_NONE && ready.name) {
		/* nothing more to say: keep no descriptor but the uses */
		close(ready.dirfd);
		free(ready.base);
	}

	if (leader_exit) {
		pthread_t tid;

		if (usr1 != USR1_NONE)
			die("leader-exit", "cannot be combined with usr1:");
		errno = pthread_create(&tid, NULL, idle_thread, NULL);
		if (errno)
			die_errno("pthread_create");
		pthread_exit(NULL);
	}
	if (usr1 != USR1_NONE) {
		while (sigwaitinfo(&set, NULL) < 0)
			if (errno != EINTR)
				die_errno("sigwaitinfo");
		if (usr1 == USR1_RELEASE)
			do_release();
		else
			do_move();
		signal_ready(&ready, "usr1\n");
	}
	for (;;)
		pause();
	return 0;
}
