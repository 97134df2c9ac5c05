// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dg-fiemapwalk: the classic FIEMAP walk, as a baseline for bench/rmap.sh.
 *
 * Without a reverse map, "which file owns these blocks" is answered by
 * walking the directory tree and asking FIEMAP for the extents of every
 * regular file.  This is that walk, done as cheaply as user space can:
 * openat() and fdopendir() from the parent directory's descriptor, the
 * type and inode number from the directory entry (no stat per file), one
 * reused buffer of 512 extents per FIEMAP call, never crossing into another
 * mount.  Each extent is matched against the sorted query ranges with a
 * binary search.
 *
 * Modes:
 *   --ranges FILE   "SECTOR COUNT" lines (512-byte units, like a badblocks
 *                   list), "-" for stdin.  Prints one line per hit:
 *                   "SECTOR COUNT INODE FILE_OFFSET PATH" (the part of the
 *                   range the extent covers).
 *   --pick N        print N distinct 4 KiB blocks owned by regular files,
 *                   chosen with --seed among the data extents inside each
 *                   file's size: "SECTOR 8 INODE FILE_OFFSET PATH".  This
 *                   is how rmap.sh chooses queries whose answers are known.
 *
 * Paths in the output are as found under DIR.  A summary goes to stderr
 * (files walked, extents seen, hits, time) unless --quiet.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchutil.h"

#define BATCH 512
#define BLOCK ((uint64_t)4096)

struct range {
	uint64_t start; /* bytes */
	uint64_t end;
};

/* An extent kept for --pick. */
struct pext {
	uint64_t phys;
	uint64_t logical;
	uint64_t blocks; /* whole 4 KiB blocks inside the file size */
	uint64_t ino;
	uint32_t path; /* index into the path pool */
};

struct walk {
	/* --ranges */
	struct range *ranges;
	size_t nr_ranges;
	/* --pick */
	bool pick;
	struct pext *ext;
	size_t nr_ext, alloc_ext;
	char *pool;
	size_t pool_len, pool_alloc;
	/* both */
	struct fiemap *fm;
	dev_t dev;
	unsigned long files, extents, hits, errors;
	FILE *out;
};

const char *const prog = "dg-fiemapwalk";

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size);
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", prog);
		exit(1);
	}
	return p;
}

static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int read_ranges(const char *name, struct walk *w)
{
	FILE *f = strcmp(name, "-") ? fopen(name, "re") : stdin;
	unsigned long long sector, count;
	size_t alloc = 0;
	char line[256];

	if (!f) {
		fprintf(stderr, "%s: %s: %s\n", prog, name, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%llu %llu", &sector, &count) != 2 || !count) {
			fprintf(stderr, "%s: %s: not \"SECTOR COUNT\": %s", prog, name, line);
			return -1;
		}
		if (w->nr_ranges == alloc) {
			alloc = alloc ? alloc * 2 : 1024;
			w->ranges = xrealloc(w->ranges, alloc * sizeof(*w->ranges));
		}
		w->ranges[w->nr_ranges].start = sector * 512;
		w->ranges[w->nr_ranges].end = (sector + count) * 512;
		w->nr_ranges++;
	}
	if (f != stdin)
		fclose(f);
	qsort(w->ranges, w->nr_ranges, sizeof(*w->ranges), cmp_range);
	return 0;
}

/* Index of the first range that ends after @pos. */
static size_t first_range_after(const struct walk *w, uint64_t pos)
{
	size_t lo = 0, hi = w->nr_ranges;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (w->ranges[mid].end <= pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void match(struct walk *w, const struct fiemap_extent *fe, uint64_t ino, const char *path)
{
	uint64_t ps = fe->fe_physical, pe = ps + fe->fe_length;

	for (size_t i = first_range_after(w, ps); i < w->nr_ranges && w->ranges[i].start < pe;
	     i++) {
		uint64_t s = ps > w->ranges[i].start ? ps : w->ranges[i].start;
		uint64_t e = pe < w->ranges[i].end ? pe : w->ranges[i].end;

		w->hits++;
		fprintf(w->out, "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %s\n", s / 512,
			(e - s) / 512, ino, (uint64_t)fe->fe_logical + (s - ps), path);
	}
}

static uint32_t pool_add(struct walk *w, const char *path)
{
	size_t len = strlen(path) + 1;
	uint32_t at;

	if (w->pool_len + len > w->pool_alloc) {
		w->pool_alloc = w->pool_alloc ? w->pool_alloc * 2 : 1 << 20;
		w->pool = xrealloc(w->pool, w->pool_alloc);
	}
	at = (uint32_t)w->pool_len;
	memcpy(w->pool + at, path, len);
	w->pool_len += len;
	return at;
}

static void keep(struct walk *w, const struct fiemap_extent *fe, uint64_t ino, uint64_t size,
		 uint32_t *path_at, const char *path)
{
	uint64_t blocks;

	if (fe->fe_logical >= size)
		return;
	blocks = (size - fe->fe_logical) / BLOCK;
	if (blocks > fe->fe_length / BLOCK)
		blocks = fe->fe_length / BLOCK;
	if (!blocks || fe->fe_physical % BLOCK)
		return;
	if (*path_at == UINT32_MAX)
		*path_at = pool_add(w, path);
	if (w->nr_ext == w->alloc_ext) {
		w->alloc_ext = w->alloc_ext ? w->alloc_ext * 2 : 65536;
		w->ext = xrealloc(w->ext, w->alloc_ext * sizeof(*w->ext));
	}
	w->ext[w->nr_ext++] = (struct pext){ .phys = fe->fe_physical,
					     .logical = fe->fe_logical,
					     .blocks = blocks,
					     .ino = ino,
					     .path = *path_at };
}

static void map_file(struct walk *w, int dirfd, const char *name, uint64_t ino, const char *path)
{
	struct fiemap *fm = w->fm;
	uint32_t path_at = UINT32_MAX;
	uint64_t start = 0, size = 0;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME | O_NONBLOCK);
	if (fd < 0) {
		w->errors++;
		return;
	}
	w->files++;
	if (w->pick) {
		struct stat st;

		if (fstat(fd, &st) < 0) {
			close(fd);
			return;
		}
		size = st.st_size;
	}
	for (;;) {
		bool last = false;

		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_extent_count = BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0) {
			w->errors++;
			break;
		}
		for (unsigned int i = 0; i < fm->fm_mapped_extents; i++) {
			const struct fiemap_extent *fe = &fm->fm_extents[i];

			if (fe->fe_flags & FIEMAP_EXTENT_LAST)
				last = true;
			if (fe->fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |
					    FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_DATA_TAIL |
					    FIEMAP_EXTENT_ENCODED | FIEMAP_EXTENT_NOT_ALIGNED))
				continue;
			w->extents++;
			if (w->pick)
				keep(w, fe, ino, size, &path_at, path);
			else
				match(w, fe, ino, path);
		}
		if (last || fm->fm_mapped_extents < BATCH)
			break;
		start = fm->fm_extents[BATCH - 1].fe_logical + fm->fm_extents[BATCH - 1].fe_length;
	}
	close(fd);
}

static void walk_dir(struct walk *w, int fd, char *path, size_t len)
{
	DIR *dir = fdopendir(fd);
	struct dirent *de;

	if (!dir) {
		close(fd);
		w->errors++;
		return;
	}
	while ((de = readdir(dir))) {
		const char *name = de->d_name;
		unsigned char type = de->d_type;
		size_t nlen = strlen(name);
		uint64_t ino = de->d_ino;

		if (name[0] == '.' && (!name[1] || (name[1] == '.' && !name[2])))
			continue;
		if (len + 1 + nlen >= PATH_MAX)
			continue;
		path[len] = '/';
		memcpy(path + len + 1, name, nlen + 1);
		if (type == DT_UNKNOWN) {
			struct stat st;

			if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : 0;
			ino = st.st_ino;
		}
		if (type == DT_REG) {
			map_file(w, fd, name, ino, path);
		} else if (type == DT_DIR) {
			struct stat st;
			int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0)
				continue;
			if (fstat(sub, &st) < 0 || st.st_dev != w->dev) {
				close(sub); /* another filesystem mounted here */
				continue;
			}
			walk_dir(w, sub, path, len + 1 + nlen);
		}
	}
	path[len] = '\0';
	closedir(dir);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* N distinct blocks: a random extent, then a random block in it. */
static int pick(struct walk *w, unsigned long n, uint64_t seed)
{
	uint64_t *chosen, total = 0, rng = seed;
	unsigned long got = 0, tries = 0;

	for (size_t i = 0; i < w->nr_ext; i++)
		total += w->ext[i].blocks;
	if (total < n) {
		fprintf(stderr, "%s: only %" PRIu64 " file blocks, cannot pick %lu\n", prog, total,
			n);
		return -1;
	}
	chosen = xrealloc(NULL, (n ? n : 1) * sizeof(*chosen));
	while (got < n) {
		const struct pext *e = &w->ext[rng_next(&rng) % w->nr_ext];
		uint64_t b = rng_next(&rng) % e->blocks;
		uint64_t phys = e->phys + b * BLOCK;
		bool dup = false;

		if (++tries > 100 * (uint64_t)n + 1000) {
			fprintf(stderr, "%s: cannot find %lu distinct blocks\n", prog, n);
			return -1;
		}
		/* n is small (a thousand or so): a linear check will do */
		for (unsigned long i = 0; i < got && !dup; i++)
			dup = chosen[i] == phys;
		if (dup)
			continue;
		chosen[got++] = phys;
		fprintf(w->out, "%" PRIu64 " 8 %" PRIu64 " %" PRIu64 " %s\n", phys / 512, e->ino,
			e->logical + b * BLOCK, w->pool + e->path);
	}
	qsort(chosen, got, sizeof(*chosen), cmp_u64);
	free(chosen);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: %s [options] (--ranges FILE | --pick N) DIR\n"
		"\n"
		"Walk DIR (one filesystem) and FIEMAP every regular file.\n"
		"\n"
		"Options:\n"
		"  -r, --ranges FILE   \"SECTOR COUNT\" lines to look up (- for stdin);\n"
		"                      prints \"SECTOR COUNT INODE FILE_OFFSET PATH\" per hit\n"
		"  -p, --pick N        print N distinct 4 KiB blocks owned by files\n"
		"                      (\"SECTOR 8 INODE FILE_OFFSET PATH\")\n"
		"  -s, --seed N        seed for --pick (default 1)\n"
		"  -q, --quiet         no summary on stderr\n"
		"  -h, --help          show this help\n",
		prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ranges", required_argument, NULL, 'r' },
		{ "pick", required_argument, NULL, 'p' },
		{ "seed", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct walk w = { .out = stdout };
	const char *ranges = NULL;
	unsigned long npick = 0;
	unsigned long long seed_ull;
	uint64_t seed = 1;
	bool quiet = false;
	char path[PATH_MAX];
	struct stat st;
	double t0;
	int c, fd, ret = 0;

	while ((c = getopt_long(argc, argv, "r:p:s:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			ranges = optarg;
			break;
		case 'p':
			if (parse_ulong(optarg, "block count", &npick))
				return 1;
			if (!npick) {
				fprintf(stderr, "%s: --pick needs at least one block\n", prog);
				return 1;
			}
			w.pick = true;
			break;
		case 's':
			if (parse_ull(optarg, "seed", &seed_ull))
				return 1;
			seed = seed_ull;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", prog);
			return 1;
		}
	}
	if (optind != argc - 1 || !!ranges == w.pick) {
		usage(stderr);
		return 1;
	}
	if (ranges && read_ranges(ranges, &w))
		return 1;

	t0 = now();
	w.fm = xrealloc(NULL, sizeof(*w.fm) + BATCH * sizeof(struct fiemap_extent));
	fd = open(argv[optind], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "%s: %s: %s\n", prog, argv[optind], strerror(errno));
		return 1;
	}
	w.dev = st.st_dev;
	snprintf(path, sizeof(path), "%s", argv[optind]);
	{
		size_t len = strlen(path);

		while (len > 0 && path[len - 1] == '/')
			path[--len] = '\0'; /* "/" becomes "", so paths read "/d/f" */
		walk_dir(&w, fd, path, len);
	}
	if (w.pick)
		ret = pick(&w, npick, seed) ? 1 : 0;
	if (fflush(w.out) != 0) {
		fprintf(stderr, "%s: write error: %s\n", prog, strerror(errno));
		ret = 1;
	}
	if (!quiet)
		fprintf(stderr, "%s: %lu files, %lu extents, %lu hits, %lu errors in %.3f s\n",
			prog, w.files, w.extents, w.pick ? npick : w.hits, w.errors, now() - t0);
	free(w.ext);
	free(w.pool);
	free(w.ranges);
	free(w.fm);
	return ret;
}
