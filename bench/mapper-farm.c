// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dg-mapper-farm: start many small processes that each map a few files.
 *
 * One parent forks every child, so each child is a copy-on-write image of
 * a small program.  Each child opens 1 to 3 distinct files (--maps MIN-MAX:
 * a seeded count in that range) from a dg-mkfiles manifest, maps them
 * MAP_SHARED and read-only, closes the descriptors (so only the mappings
 * tie it to the filesystem), touches every page and then sleeps.  The
 * choice of files is seeded, so a run is repeatable.
 *
 * One file, the target, is treated apart so that the benchmark can check
 * an answer to the page:
 *   hit children   map a range of the target that covers the target page
 *                  (the whole file, exactly that page, or a window on it);
 *   miss children  map the target but stop right before the page or start
 *                  right after it;
 *   other children never map the target.
 *
 * When every child has mapped its files the parent writes the pid list, a
 * record of every mapping, the pids of the hit children and then the ready
 * file.  It then waits: SIGTERM, SIGINT or SIGHUP make it SIGKILL and reap
 * every child.  Children die with the parent (PR_SET_PDEATHSIG), so a
 * SIGKILLed farm leaves nothing behind either.
 *
 * With --exit-when-gone the parent expects its children to be killed from
 * outside (bench/remove.sh): it reaps them quietly as they die and exits
 * with status 0 once the last one is reaped, so "every child is gone" is
 * one wait(2) on the parent.  The parent holds nothing on the filesystem
 * (its working directory is the caller's, its descriptors are closed), so
 * it is never a target itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"

#define PAGE 4096ull
/* far below vm.max_map_count, and each child gets its own array */
#define MAPS_LIMIT 10000u

enum role { ROLE_OTHER, ROLE_HIT, ROLE_MISS };

static const char *const role_names[] = { "other", "hit", "miss" };

struct map {
	const char *path;
	unsigned long long offset;
	unsigned long long length;
};

struct child {
	pid_t pid;
	enum role role;
	unsigned int nr_maps;
	struct map *maps;
};

/* What a child tells the parent once its files are mapped. */
struct report {
	unsigned int idx;
	unsigned int map; /* the mapping that failed */
	int err; /* 0 or an errno */
};

struct file {
	char *path;
	unsigned long long size;
};

struct opts {
	const char *manifest;
	const char *target;
	const char *pid_file;
	const char *record_file;
	const char *hits_file;
	const char *ready_file;
	unsigned long procs;
	unsigned long hit;
	unsigned long miss;
	unsigned int maps_min;
	unsigned int maps_max;
	unsigned long long target_offset;
	bool have_offset;
	bool exit_when_gone;
	uint64_t seed;
};

const char *const prog = "dg-mapper-farm";

/* Read "path<TAB>size[<TAB>kind]" lines, leaving out @skip. */
static int read_manifest(const char *name, const char *skip, struct file **files, size_t *nr)
{
	FILE *f = fopen(name, "re");
	size_t alloc = 0, n = 0;
	struct file *v = NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, name, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		char *tab = strchr(line, '\t');

		if (!tab || line[0] != '/') {
			fprintf(stderr, "%s: %s: malformed line: %s", prog, name, line);
			goto fail;
		}
		*tab = '\0';
		if (strcmp(line, skip) == 0)
			continue;
		if (n == alloc) {
			struct file *nv;

			alloc = alloc ? alloc * 2 : 4096;
			nv = realloc(v, alloc * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
		}
		v[n].size = strtoull(tab + 1, NULL, 10);
		v[n].path = strdup(line);
		if (!v[n].path)
			goto nomem;
		if (v[n].size >= PAGE)
			n++;
		else
			free(v[n].path);
	}
	free(line);
	fclose(f);
	if (!n) {
		fprintf(stderr, "%s: %s: no file of at least 4 KiB\n", prog, name);
		free(v);
		return -1;
	}
	*files = v;
	*nr = n;
	return 0;
nomem:
	fprintf(stderr, "%s: out of memory\n", prog);
fail:
	free(line);
	fclose(f);
	return -1;
}

static void add_map(struct child *c, const char *path, unsigned long long offset,
		    unsigned long long length)
{
	struct map *m = &c->maps[c->nr_maps++];

	m->path = path;
	m->offset = offset;
	m->length = length;
}

static bool mapped_already(const struct child *c, const char *path)
{
	for (unsigned int m = 0; m < c->nr_maps; m++)
		if (c->maps[m].path == path)
			return true;
	return false;
}

/*
 * Decide every child's mappings up front, so the children are forked from
 * a parent whose state no longer changes.
 */
static int plan(const struct opts *o, struct child *kids, const char *target,
		unsigned long long tsize, unsigned long long toff)
{
	unsigned long special = o->hit + o->miss;
	unsigned long nhit = 0, nmiss = 0;
	uint64_t rng = o->seed;
	struct file *files;
	size_t nfiles;

	if (read_manifest(o->manifest, target, &files, &nfiles))
		return -1;
	/* distinct files: a child that maps no target needs maps_max of them */
	if (nfiles < o->maps_max) {
		fprintf(stderr,
			"%s: %s: %zu files of at least 4 KiB, fewer than --maps %u-%u needs\n",
			prog, o->manifest, nfiles, o->maps_min, o->maps_max);
		return -1;
	}

	for (unsigned long i = 0; i < o->procs; i++) {
		struct child *c = &kids[i];
		struct map special_map = { .path = target };
		unsigned int want;

		c->role = ROLE_OTHER;
		/* spread the special children over the pid range */
		if (special && i % (o->procs / special) == 0 && nhit + nmiss < special)
			c->role = nhit < o->hit ? ROLE_HIT : ROLE_MISS;

		if (c->role == ROLE_HIT) {
			unsigned long long start, end;

			switch (nhit++ % 3) {
			case 0: /* the whole file */
				start = 0;
				end = tsize;
				break;
			case 1: /* exactly the page */
				start = toff;
				end = toff + PAGE;
				break;
			default: /* a window around it */
				start = toff - (rng_next(&rng) % 8) * PAGE;
				end = toff + PAGE + (rng_next(&rng) % 8) * PAGE;
				break;
			}
			if (start > toff)
				start = 0;
			if (end > tsize)
				end = tsize;
			special_map.offset = start;
			special_map.length = end - start;
		} else if (c->role == ROLE_MISS) {
			/* stop right before the page, or start right after */
			if (nmiss++ % 2 == 0 && toff > 0) {
				special_map.length = toff;
			} else if (toff + PAGE < tsize) {
				special_map.offset = toff + PAGE;
				special_map.length = tsize - toff - PAGE;
			} else {
				special_map.length = toff;
			}
		}

		/* the target, when mapped, is one of the @want mappings */
		want = o->maps_min + rng_next(&rng) % (o->maps_max - o->maps_min + 1);
		c->maps = calloc(want, sizeof(*c->maps));
		if (!c->maps)
			goto nomem;
		if (c->role != ROLE_OTHER)
			add_map(c, target, special_map.offset, special_map.length);
		/* distinct files, so that --maps counts mappings of different files */
		while (c->nr_maps < want) {
			struct file *f = &files[rng_next(&rng) % nfiles];

			if (!mapped_already(c, f->path))
				add_map(c, f->path, 0, f->size & ~(PAGE - 1));
		}
	}

	/* keep only the chosen paths; the children need nothing else */
	for (unsigned long i = 0; i < o->procs; i++) {
		for (unsigned int m = 0; m < kids[i].nr_maps; m++) {
			if (kids[i].maps[m].path == target)
				continue;
			kids[i].maps[m].path = strdup(kids[i].maps[m].path);
			if (!kids[i].maps[m].path) {
				fprintf(stderr, "%s: out of memory\n", prog);
				return -1;
			}
		}
	}
	for (size_t i = 0; i < nfiles; i++)
		free(files[i].path);
	free(files);
	/* smaller copy-on-write images for the children */
	malloc_trim(0);
	return 0;
nomem:
	fprintf(stderr, "%s: out of memory\n", prog);
	return -1;
}

static int map_one(const struct map *m)
{
	volatile const char *p;
	char sink = 0;
	int fd;

	fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	p = mmap(NULL, m->length, PROT_READ, MAP_SHARED, fd, m->offset);
	if (p == MAP_FAILED) {
		int err = errno;

		close(fd);
		return err;
	}
	close(fd);
	for (unsigned long long off = 0; off < m->length; off += PAGE)
		sink ^= p[off];
	(void)sink;
	return 0;
}

static void __attribute__((noreturn))
child_main(const struct child *c, unsigned int idx, int report_fd, pid_t parent)
{
	struct report r = { .idx = idx };
	int devnull;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(1);
	prctl(PR_SET_NAME, "dg-farm-child");
	/* tie the child to the filesystem through its mappings only */
	if (chdir("/") < 0)
		_exit(1);

	for (r.map = 0; r.map < c->nr_maps; r.map++) {
		r.err = map_one(&c->maps[r.map]);
		if (r.err)
			break;
	}
	if (write(report_fd, &r, sizeof(r)) != sizeof(r) || r.err)
		_exit(1);
	close(report_fd);

	devnull = open("/dev/null", O_RDWR);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		if (devnull > 2)
			close(devnull);
	}
	for (;;)
		pause();
}

static void kill_all(struct child *kids, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		if (kids[i].pid > 0)
			kill(kids[i].pid, SIGKILL);
	for (unsigned long i = 0; i < n; i++) {
		if (kids[i].pid <= 0)
			continue;
		while (waitpid(kids[i].pid, NULL, 0) < 0 && errno == EINTR)
			;
		kids[i].pid = 0;
	}
}

static FILE *open_out(const char *name)
{
	FILE *f = fopen(name, "we");

	if (!f)
		fprintf(stderr, "%s: %s: %s\n", prog, name, strerror(errno));
	return f;
}

static int close_out(FILE *f, const char *name)
{
	if (fclose(f) != 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, name, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_outputs(const struct opts *o, const struct child *kids)
{
	FILE *f;

	if (o->pid_file) {
		f = open_out(o->pid_file);
		if (!f)
			return -1;
		for (unsigned long i = 0; i < o->procs; i++)
			fprintf(f, "%d\n", kids[i].pid);
		if (close_out(f, o->pid_file))
			return -1;
	}
	if (o->hits_file) {
		f = open_out(o->hits_file);
		if (!f)
			return -1;
		for (unsigned long i = 0; i < o->procs; i++)
			if (kids[i].role == ROLE_HIT)
				fprintf(f, "%d\n", kids[i].pid);
		if (close_out(f, o->hits_file))
			return -1;
	}
	if (o->record_file) {
		f = open_out(o->record_file);
		if (!f)
			return -1;
		for (unsigned long i = 0; i < o->procs; i++) {
			const struct child *c = &kids[i];

			fprintf(f, "%d\t%s", c->pid, role_names[c->role]);
			for (unsigned int m = 0; m < c->nr_maps; m++)
				fprintf(f, "\t%s:%llu:%llu", c->maps[m].path, c->maps[m].offset,
					c->maps[m].length);
			fputc('\n', f);
		}
		if (close_out(f, o->record_file))
			return -1;
	}
	if (o->ready_file) {
		f = open_out(o->ready_file);
		if (!f)
			return -1;
		if (close_out(f, o->ready_file))
			return -1;
	}
	return 0;
}

/*
 * Wait for a request to stop; report children that die on their own.
 * With @exit_when_gone, reap them quietly and return once none is left.
 */
static void serve(struct child *kids, unsigned long n, bool exit_when_gone)
{
	unsigned long alive = n;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		int sig = sigwaitinfo(&set, NULL);
		pid_t pid;

		if (sig < 0)
			continue;
		if (sig != SIGCHLD)
			return;
		while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
			for (unsigned long i = 0; i < n; i++) {
				if (kids[i].pid != pid)
					continue;
				if (!exit_when_gone)
					fprintf(stderr, "%s: child %d (%s) exited on its own\n",
						prog, pid, role_names[kids[i].role]);
				kids[i].pid = 0;
				alive--;
				break;
			}
		}
		if (exit_when_gone && !alive)
			return;
	}
}

/* "MIN-MAX" or "N" into @o's maps_min and maps_max */
static int parse_maps(const char *arg, struct opts *o)
{
	unsigned long long lo, hi;
	const char *dash = strchr(arg, '-');
	char *first;
	int ret;

	first = strndup(arg, dash ? (size_t)(dash - arg) : strlen(arg));
	if (!first) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	ret = parse_ull(first, "--maps minimum", &lo);
	free(first);
	if (ret)
		return -1;
	hi = lo;
	if (dash && parse_ull(dash + 1, "--maps maximum", &hi))
		return -1;
	if (lo < 1 || hi < lo || hi > MAPS_LIMIT) {
		fprintf(stderr, "%s: --maps %s: need 1 <= MIN <= MAX <= %u\n", prog, arg,
			MAPS_LIMIT);
		return -1;
	}
	o->maps_min = lo;
	o->maps_max = hi;
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [options] -m MANIFEST -t TARGET\n"
		"\n"
		"Start processes that each map a few files, then wait for SIGTERM.\n"
		"\n"
		"Options:\n"
		"  -m, --manifest FILE       files to map (dg-mkfiles --manifest)\n"
		"  -t, --target FILE         the file whose page is queried\n"
		"  -o, --target-offset B     the queried page in TARGET (default: middle)\n"
		"  -n, --procs N             processes in all (default 2000)\n"
		"  -H, --hit N               of which map the target page (default 3)\n"
		"  -M, --miss N              of which map the target next to it (default 2)\n"
		"  -c, --maps MIN-MAX        distinct files each process maps, the target\n"
		"                            among them (seeded count; default 1-3)\n"
		"  -s, --seed N              seed (default 1)\n"
		"  -p, --pids FILE           write every child pid, one per line\n"
		"  -r, --record FILE         write \"pid role path:offset:length...\"\n"
		"  -x, --hits FILE           write the pids that map the target page\n"
		"  -R, --ready FILE          create FILE once every child is ready\n"
		"  -e, --exit-when-gone      exit 0, quietly, once every child has died\n"
		"  -h, --help                show this help\n",
		prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "manifest", required_argument, NULL, 'm' },
		{ "target", required_argument, NULL, 't' },
		{ "target-offset", required_argument, NULL, 'o' },
		{ "procs", required_argument, NULL, 'n' },
		{ "hit", required_argument, NULL, 'H' },
		{ "miss", required_argument, NULL, 'M' },
		{ "maps", required_argument, NULL, 'c' },
		{ "seed", required_argument, NULL, 's' },
		{ "pids", required_argument, NULL, 'p' },
		{ "record", required_argument, NULL, 'r' },
		{ "hits", required_argument, NULL, 'x' },
		{ "ready", required_argument, NULL, 'R' },
		{ "exit-when-gone", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = {
		.procs = 2000, .hit = 3, .miss = 2, .maps_min = 1, .maps_max = 3, .seed = 1
	};
	unsigned long long val, toff;
	struct child *kids;
	unsigned long ready = 0;
	struct report r;
	char *target;
	struct stat st;
	int pfd[2], c, ret = 1;
	sigset_t set;
	double t0;

	while ((c = getopt_long(argc, argv, "m:t:o:n:H:M:c:s:p:r:x:R:eh", longopts, NULL)) != -1) {
		switch (c) {
		case 'm':
			o.manifest = optarg;
			break;
		case 't':
			o.target = optarg;
			break;
		case 'o':
			if (parse_ull(optarg, "offset", &o.target_offset))
				return 1;
			o.have_offset = true;
			break;
		case 'n':
		case 'H':
		case 'M':
		case 's':
			if (parse_ull(optarg, "number", &val))
				return 1;
			if (c == 'n')
				o.procs = val;
			else if (c == 'H')
				o.hit = val;
			else if (c == 'M')
				o.miss = val;
			else
				o.seed = val;
			break;
		case 'c':
			if (parse_maps(optarg, &o))
				return 1;
			break;
		case 'p':
			o.pid_file = optarg;
			break;
		case 'r':
			o.record_file = optarg;
			break;
		case 'x':
			o.hits_file = optarg;
			break;
		case 'R':
			o.ready_file = optarg;
			break;
		case 'e':
			o.exit_when_gone = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", prog);
			return 1;
		}
	}
	if (optind != argc || !o.manifest || !o.target) {
		usage(stderr);
		return 1;
	}
	if (!o.procs || o.hit + o.miss > o.procs) {
		fprintf(stderr, "%s: %lu processes cannot hold %lu hit and %lu miss processes\n",
			prog, o.procs, o.hit, o.miss);
		return 1;
	}

	target = realpath(o.target, NULL);
	if (!target || stat(target, &st) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, o.target, strerror(errno));
		return 1;
	}
	if (st.st_size < (off_t)(2 * PAGE)) {
		fprintf(stderr, "%s: %s: too small to hold a page and a neighbour\n", prog, target);
		return 1;
	}
	toff = o.have_offset ? o.target_offset : (unsigned long long)st.st_size / 2;
	toff &= ~(PAGE - 1);
	if (toff + PAGE > (unsigned long long)st.st_size) {
		fprintf(stderr, "%s: %s: offset %llu is past the last full page\n", prog, target,
			toff);
		return 1;
	}

	kids = calloc(o.procs, sizeof(*kids));
	if (!kids) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	if (plan(&o, kids, target, st.st_size & ~(PAGE - 1), toff))
		return 1;
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		fprintf(stderr, "%s: %s\n", prog, strerror(errno));
		return 1;
	}

	/* block now, so a stop request during startup is not lost */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);

	t0 = now();
	for (unsigned long i = 0; i < o.procs; i++) {
		pid_t parent = getpid();

		kids[i].pid = fork();
		if (kids[i].pid < 0) {
			fprintf(stderr, "%s: fork (child %lu): %s\n", prog, i, strerror(errno));
			kids[i].pid = 0;
			goto out;
		}
		if (kids[i].pid == 0) {
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			close(pfd[0]);
			child_main(&kids[i], i, pfd[1], parent);
		}
	}
	close(pfd[1]);
	pfd[1] = -1;

	while (ready < o.procs) {
		ssize_t n = read(pfd[0], &r, sizeof(r));

		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(r)) {
			fprintf(stderr, "%s: %lu of %lu children ready, the others died\n", prog,
				ready, o.procs);
			goto out;
		}
		if (r.idx >= o.procs || (r.err && r.map >= kids[r.idx].nr_maps)) {
			fprintf(stderr, "%s: garbled report from a child\n", prog);
			goto out;
		}
		if (r.err) {
			const struct map *m = &kids[r.idx].maps[r.map];

			fprintf(stderr, "%s: child %u cannot map %s at %llu+%llu: %s\n", prog,
				r.idx, m->path, m->offset, m->length, strerror(r.err));
			goto out;
		}
		ready++;
	}
	close(pfd[0]);

	if (write_outputs(&o, kids))
		goto out;
	fprintf(stderr, "%s: %lu processes ready in %.2f s; target page %s@%llu mapped by %lu\n",
		prog, o.procs, now() - t0, target, toff, o.hit);

	serve(kids, o.procs, o.exit_when_gone);
	ret = 0;
out:
	kill_all(kids, o.procs);
	if (o.ready_file)
		unlink(o.ready_file);
	return ret;
}
