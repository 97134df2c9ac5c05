// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dg-mkfiles: create a large, deterministic file set for the benchmarks.
 *
 * The set mimics what FACTS.md section 3 was measured on: mostly 4 KiB
 * files, about 1% of 1 MiB files, and a few large files whose extents are
 * scattered over the device.  Sizes come from a hash of (seed, index), not
 * from a running random stream, so the set is the same whatever the number
 * of worker processes.
 *
 * Layout:  DIR/dNNNNN/fNNNNNNN   small and 1 MiB files, --per-dir each
 *          DIR/large/LNN         the fragmented files
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "benchutil.h"

#define SMALL_SIZE 4096u
#define BIG_SIZE (1024u * 1024u)
#define CHUNK_MIN 4096u
#define CHUNK_MAX (64u * 1024u)

struct opts {
	const char *dir; /* absolute */
	const char *manifest;
	unsigned long files;
	unsigned long per_dir;
	unsigned long big_every;
	unsigned long large;
	unsigned long long large_size;
	unsigned long jobs;
	uint64_t seed;
	bool quiet;
};

const char *const prog = "dg-mkfiles";
static char buf[BIG_SIZE];

/* Size of regular file @idx (not one of the large ones). */
static unsigned int file_size(const struct opts *o, unsigned long idx)
{
	uint64_t h = splitmix64(o->seed * 0x100000001b3ull ^ idx);

	if (o->big_every && h % o->big_every == 0)
		return BIG_SIZE;
	return SMALL_SIZE;
}

static unsigned long nr_regular(const struct opts *o)
{
	return o->files > o->large ? o->files - o->large : 0;
}

static int write_all(int fd, const char *p, size_t len, off_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

/* Create the files of every directory d with d % jobs == worker. */
static int make_regular(const struct opts *o, unsigned long worker)
{
	unsigned long n = nr_regular(o);
	unsigned long ndirs = (n + o->per_dir - 1) / o->per_dir;
	char name[32];

	for (unsigned long d = worker; d < ndirs; d += o->jobs) {
		unsigned long first = d * o->per_dir;
		unsigned long last = first + o->per_dir;
		int dfd;

		snprintf(name, sizeof(name), "d%05lu", d);
		dfd = openat(AT_FDCWD, name, O_RDONLY | O_DIRECTORY);
		if (dfd < 0) {
			fprintf(stderr, "%s: %s/%s: %s\n", prog, o->dir, name, strerror(errno));
			return -1;
		}
		if (last > n)
			last = n;
		for (unsigned long i = first; i < last; i++) {
			unsigned int size = file_size(o, i);
			int fd, ret;

			snprintf(name, sizeof(name), "f%07lu", i);
			fd = openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
			if (fd < 0) {
				fprintf(stderr, "%s: %s/d%05lu/%s: %s\n", prog, o->dir, d, name,
					strerror(errno));
				close(dfd);
				return -1;
			}
			ret = write_all(fd, buf, size, 0);
			/*
			 * Start writeback now.  Until it runs, XFS holds a
			 * worst-case reservation for every delayed allocation,
			 * several blocks per file, and 200,000 dirty files
			 * reserve more than a 4 GiB image has.
			 */
			if (!ret && sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) < 0)
				ret = -errno;
			if (ret < 0) {
				fprintf(stderr, "%s: %s/d%05lu/%s: write: %s\n", prog, o->dir, d,
					name, strerror(-ret));
				close(fd);
				close(dfd);
				return -1;
			}
			close(fd);
		}
		close(dfd);
	}
	return 0;
}

/*
 * Large files are allocated round-robin, one random-sized chunk of each
 * file at a time.  fallocate() allocates at once (no delayed allocation to
 * merge the chunks at writeback, no speculative preallocation past EOF), so
 * the chunks of one file end up separated by the chunks of the others.
 */
static int make_large(const struct opts *o)
{
	uint64_t rng = splitmix64(o->seed ^ 0x6c61726765ull);
	unsigned long long *done;
	int *fds, ret = -1;
	bool more = true;
	char name[32];

	if (!o->large)
		return 0;
	if (mkdir("large", 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "%s: %s/large: %s\n", prog, o->dir, strerror(errno));
		return -1;
	}
	fds = calloc(o->large, sizeof(*fds));
	done = calloc(o->large, sizeof(*done));
	if (!fds || !done) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	for (unsigned long k = 0; k < o->large; k++)
		fds[k] = -1;
	for (unsigned long k = 0; k < o->large; k++) {
		snprintf(name, sizeof(name), "large/L%02lu", k);
		fds[k] = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fds[k] < 0) {
			fprintf(stderr, "%s: %s/%s: %s\n", prog, o->dir, name, strerror(errno));
			goto out;
		}
	}
	while (more) {
		more = false;
		for (unsigned long k = 0; k < o->large; k++) {
			unsigned long long len;

			if (done[k] >= o->large_size)
				continue;
			rng = splitmix64(rng);
			len = CHUNK_MIN * (1 + rng % (CHUNK_MAX / CHUNK_MIN));
			if (len > o->large_size - done[k])
				len = o->large_size - done[k];
			if (fallocate(fds[k], 0, done[k], len) < 0) {
				fprintf(stderr, "%s: %s/large/L%02lu: fallocate: %s\n", prog,
					o->dir, k, strerror(errno));
				goto out;
			}
			ret = write_all(fds[k], buf, len, done[k]);
			if (ret < 0) {
				fprintf(stderr, "%s: %s/large/L%02lu: write: %s\n", prog, o->dir, k,
					strerror(-ret));
				ret = -1;
				goto out;
			}
			done[k] += len;
			more |= done[k] < o->large_size;
		}
	}
	ret = 0;
out:
	for (unsigned long k = 0; fds && k < o->large; k++)
		if (fds[k] >= 0)
			close(fds[k]);
	free(fds);
	free(done);
	return ret;
}

static int make_dirs(const struct opts *o)
{
	unsigned long n = nr_regular(o);
	unsigned long ndirs = (n + o->per_dir - 1) / o->per_dir;
	char name[32];

	for (unsigned long d = 0; d < ndirs; d++) {
		snprintf(name, sizeof(name), "d%05lu", d);
		if (mkdir(name, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "%s: %s/%s: %s\n", prog, o->dir, name, strerror(errno));
			return -1;
		}
	}
	return 0;
}

static void write_manifest(const struct opts *o, FILE *f)
{
	unsigned long n = nr_regular(o);

	for (unsigned long i = 0; i < n; i++) {
		unsigned int size = file_size(o, i);

		fprintf(f, "%s/d%05lu/f%07lu\t%u\t%s\n", o->dir, i / o->per_dir, i, size,
			size == BIG_SIZE ? "big" : "small");
	}
	for (unsigned long k = 0; k < o->large; k++)
		fprintf(f, "%s/large/L%02lu\t%llu\tlarge\n", o->dir, k, o->large_size);
}

static int run_workers(const struct opts *o)
{
	pid_t *pids = calloc(o->jobs, sizeof(*pids));
	int ret = 0;

	if (!pids) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	pid_t parent = getpid();

	for (unsigned long w = 0; w < o->jobs; w++) {
		pids[w] = fork();
		if (pids[w] < 0) {
			fprintf(stderr, "%s: fork: %s\n", prog, strerror(errno));
			ret = -1;
			break;
		}
		if (pids[w] == 0) {
			/* a killed generator must not leave the mount busy */
			if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
				_exit(1);
			_exit(make_regular(o, w) ? 1 : 0);
		}
	}
	for (unsigned long w = 0; w < o->jobs; w++) {
		int status;

		if (pids[w] <= 0)
			continue;
		while (waitpid(pids[w], &status, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ret = -1;
	}
	free(pids);
	return ret;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [options] DIR\n"
		"\n"
		"Create a deterministic benchmark file set in DIR.\n"
		"\n"
		"Options:\n"
		"  -n, --files N         files in all (default 200000)\n"
		"  -d, --per-dir N       files per directory (default 1000)\n"
		"  -b, --big-every N     one file in N is 1 MiB, 0 for none (default 100)\n"
		"  -l, --large N         large fragmented files among them (default 10)\n"
		"  -L, --large-size MiB  size of each large file (default 16)\n"
		"  -j, --jobs N          worker processes (default 2)\n"
		"  -s, --seed N          seed of the size distribution (default 1)\n"
		"  -m, --manifest FILE   write \"path<TAB>size<TAB>kind\" per file\n"
		"  -q, --quiet           print no summary\n"
		"  -h, --help            show this help\n",
		prog);
}

static int zero_arg(const char *what)
{
	fprintf(stderr, "%s: the %s cannot be 0\n", prog, what);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "files", required_argument, NULL, 'n' },
		{ "per-dir", required_argument, NULL, 'd' },
		{ "big-every", required_argument, NULL, 'b' },
		{ "large", required_argument, NULL, 'l' },
		{ "large-size", required_argument, NULL, 'L' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "seed", required_argument, NULL, 's' },
		{ "manifest", required_argument, NULL, 'm' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = {
		.files = 200000,
		.per_dir = 1000,
		.big_every = 100,
		.large = 10,
		.large_size = 16ull << 20,
		.jobs = 2,
		.seed = 1,
	};
	unsigned long val, nbig = 0;
	FILE *manifest = NULL;
	double t0;
	int c;

	while ((c = getopt_long(argc, argv, "n:d:b:l:L:j:s:m:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_ulong(optarg, "file count", &o.files))
				return 1;
			break;
		case 'd':
			if (parse_ulong(optarg, "files per directory", &o.per_dir))
				return 1;
			if (!o.per_dir)
				return zero_arg("files per directory");
			break;
		case 'b':
			if (parse_ulong(optarg, "1 MiB ratio", &o.big_every))
				return 1;
			break;
		case 'l':
			if (parse_ulong(optarg, "large file count", &o.large))
				return 1;
			break;
		case 'L':
			if (parse_ulong(optarg, "large file size", &val))
				return 1;
			if (!val)
				return zero_arg("large file size");
			o.large_size = (unsigned long long)val << 20;
			break;
		case 'j':
			if (parse_ulong(optarg, "job count", &o.jobs))
				return 1;
			if (!o.jobs)
				return zero_arg("job count");
			break;
		case 's':
			if (parse_ulong(optarg, "seed", &val))
				return 1;
			o.seed = val;
			break;
		case 'm':
			o.manifest = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", prog);
			return 1;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 1;
	}
	if (o.large > 99 || o.large > o.files) {
		fprintf(stderr, "%s: %lu: too many large files\n", prog, o.large);
		return 1;
	}

	if (o.manifest) {
		manifest = fopen(o.manifest, "we");
		if (!manifest) {
			fprintf(stderr, "%s: %s: %s\n", prog, o.manifest, strerror(errno));
			return 1;
		}
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = 'a' + i % 26;
	if (mkdir(argv[optind], 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "%s: %s: %s\n", prog, argv[optind], strerror(errno));
		return 1;
	}
	o.dir = realpath(argv[optind], NULL);
	if (!o.dir || chdir(o.dir) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, argv[optind], strerror(errno));
		return 1;
	}

	t0 = now();
	if (make_large(&o) || make_dirs(&o) || run_workers(&o))
		return 1;
	if (manifest) {
		write_manifest(&o, manifest);
		if (fclose(manifest) != 0) {
			fprintf(stderr, "%s: %s: %s\n", prog, o.manifest, strerror(errno));
			return 1;
		}
	}

	if (!o.quiet) {
		for (unsigned long i = 0; i < nr_regular(&o); i++)
			nbig += file_size(&o, i) == BIG_SIZE;
		printf("%s: %lu files in %s: %lu of 4 KiB, %lu of 1 MiB, %lu fragmented of %llu MiB; %.1f s\n",
		       prog, o.files, o.dir, nr_regular(&o) - nbig, nbig, o.large,
		       o.large_size >> 20, now() - t0);
	}
	return 0;
}
