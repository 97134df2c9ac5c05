// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Topology: from what the operator typed down to the block devices, the
 * filesystems on them and every mount of those filesystems.  This is the
 * user-space counterpart of dax_dev->holder_data: the kernel knows the one
 * holder of a dax device, we have to find it through sysfs and the mount
 * tables.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <libmount.h>

#include "private.h"

/*
 * A block device that may hold a filesystem: the target, a partition, or
 * one linear piece of a device-mapper device on either (a device with
 * several pieces is several candidates).  [start, start + size) of the
 * target is at @base on the candidate.
 */
struct candidate {
	dev_t devnum;
	char name[NAME_MAX + 1];
	uint64_t start, size, base;
	bool dm;
};

static int parse_majmin(const char *s, dev_t *dev)
{
	unsigned int maj, min;
	char tail;

	if (sscanf(s, "%u:%u%c", &maj, &min, &tail) != 2)
		return -EINVAL;
	*dev = makedev(maj, min);
	return 0;
}

static int sysfs_dev_dir(dev_t dev, bool block)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/dev/%s/%u:%u", block ? "block" : "char", major(dev),
		 minor(dev));
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static bool is_block_dev(dev_t dev)
{
	char path[64];

	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u", major(dev), minor(dev));
	return access(path, F_OK) == 0;
}

/* The kernel name of a device, from its uevent (DEVNAME=...). */
static int sysfs_devname(int dirfd, char *name, size_t size)
{
	char buf[1024], *p;
	ssize_t n = dg_read_text(dirfd, "uevent", buf, sizeof(buf));

	if (n < 0)
		return (int)n;
	p = strstr(buf, "DEVNAME=");
	if (!p)
		return -ENOENT;
	p += strlen("DEVNAME=");
	n = (ssize_t)strcspn(p, "\n");
	if ((size_t)n >= size)
		return -ENAMETOOLONG;
	memcpy(name, p, (size_t)n);
	name[n] = '\0';
	return 0;
}

static void free_mounts(struct dg_mount *m)
{
	while (m) {
		struct dg_mount *next = m->next;

		free(m->target);
		free(m->root);
		free(m->options);
		free(m);
		m = next;
	}
}

DG_EXPORT void dg_target_free(struct dg_target *t)
{
	struct dg_fs *fs;

	if (!t)
		return;
	fs = t->fs_list;
	while (fs) {
		struct dg_fs *next = fs->next;

		free_mounts(fs->mounts);
		free(fs->devname);
		free(fs->type);
		free(fs->pieces);
		free(fs);
		fs = next;
	}
	free(t->devname);
	free(t->backing_file);
	free(t->rmap);
	dg_cxl_region_free(t->cxl);
	dg_kmem_free(t->kmem);
	dg_unref(t->ctx);
	free(t);
}

/*
 * Turn @spec into a device number.  A directory must be a mountpoint: the
 * operator names a filesystem by where it is mounted, and a random
 * directory on it is more likely a typo than a request for the whole
 * device.
 */
static int resolve_spec(struct dg_ctx *ctx, const char *spec, struct libmnt_table *tb, dev_t *dev,
			bool *is_char)
{
	struct stat st;

	*is_char = false;
	if (isdigit((unsigned char)spec[0]) && strchr(spec, ':') && parse_majmin(spec, dev) == 0) {
		if (!is_block_dev(*dev))
			return dg_fail(ctx, -ENODEV, "%s: no block device with that number", spec);
		return 0;
	}
	if (stat(spec, &st) < 0)
		return dg_fail(ctx, -errno, "%s: %s", spec, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		*dev = st.st_rdev;
		return 0;
	}
	if (S_ISCHR(st.st_mode)) {
		*dev = st.st_rdev;
		*is_char = true;
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		char *real = realpath(spec, NULL);
		struct libmnt_fs *fs = NULL;

		if (real) {
			fs = mnt_table_find_target(tb, real, MNT_ITER_BACKWARD);
			free(real);
		}
		if (!fs)
			return dg_fail(ctx, -EINVAL,
				       "%s: not a mountpoint (give the mountpoint or the device)",
				       spec);
		*dev = mnt_fs_get_devno(fs);
		if (!is_block_dev(*dev))
			return dg_fail(ctx, -ENOTBLK, "%s: %s filesystem is not on a block device",
				       spec, mnt_fs_get_fstype(fs) ?: "the");
		return 0;
	}
	if (S_ISREG(st.st_mode))
		return dg_fail(ctx, -ENOTBLK, "%s: is a regular file, not a device or a mountpoint",
			       spec);
	return dg_fail(ctx, -ENOTBLK, "%s: not a device or a mountpoint", spec);
}

/*
 * Device-mapper devices on the target or its partitions (holders/dm-N),
 * one candidate per linear piece, added to the @n in *@c.  On failure *@c
 * is freed.
 */
static int add_dm_candidates(struct candidate **c, size_t *n)
{
	size_t lower, nlower = *n;

	for (lower = 0; lower < nlower; lower++) {
		char path[PATH_MAX];
		struct dirent *de;
		DIR *dir;

		snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/holders",
			 major((*c)[lower].devnum), minor((*c)[lower].devnum));
		dir = opendir(path);
		while (dir && (de = readdir(dir))) {
			char buf[64], name[128]; /* DM_NAME_LEN */
			struct dg_fs_piece *p;
			size_t np, i;
			dev_t dm;
			int dfd;

			if (strncmp(de->d_name, "dm-", 3))
				continue;
			dfd = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (dfd < 0)
				continue;
			if (dg_read_text(dfd, "dev", buf, sizeof(buf)) < 0 ||
			    parse_majmin(buf, &dm) ||
			    dg_read_text(dfd, "dm/name", name, sizeof(name)) < 0 || !name[0]) {
				close(dfd);
				continue;
			}
			close(dfd);
			if (dg_dm_pieces(dm, (*c)[lower].devnum, &p, &np))
				continue; /* not linear: nothing to translate */
			for (i = 0; i < np; i++) {
				struct candidate *nc = realloc(*c, (*n + 1) * sizeof(**c));

				if (!nc) {
					free(p);
					closedir(dir);
					free(*c);
					return -ENOMEM;
				}
				*c = nc;
				nc[*n] = (struct candidate){
					.devnum = dm,
					/* a piece past the partition's end is not on it */
					.start = nc[lower].start +
						 DG_MIN(p[i].start, nc[lower].size),
					.size = DG_MIN(p[i].size,
						       nc[lower].size -
							       DG_MIN(p[i].start, nc[lower].size)),
					.base = p[i].base,
					.dm = true,
				};
				snprintf(nc[*n].name, sizeof(nc[*n].name), "mapper/%s", name);
				if (nc[*n].size)
					(*n)++;
			}
			free(p);
		}
		if (dir)
			closedir(dir);
	}
	return 0;
}

/* The target itself, then (for a whole disk) each of its partitions. */
static int find_candidates(struct dg_target *t, int devdir, struct candidate **out, size_t *nr)
{
	struct candidate *c = calloc(1, sizeof(*c));
	size_t n = 1;
	int rc;
	DIR *dir;
	struct dirent *de;

	if (!c)
		return -ENOMEM;
	c[0].devnum = t->devnum;
	c[0].start = 0;
	c[0].size = t->size;
	snprintf(c[0].name, sizeof(c[0].name), "%s", t->devname + 5);

	if (t->kind == DG_TARGET_BLOCK) {
		dir = fdopendir(dup(devdir));
		while (dir && (de = readdir(dir))) {
			char path[NAME_MAX + 32], buf[32];
			uint64_t start, sectors;
			struct candidate *nc;
			dev_t pdev;
			int pfd;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/partition", de->d_name);
			if (faccessat(devdir, path, F_OK, 0) != 0)
				continue;
			pfd = openat(devdir, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (pfd < 0)
				continue;
			if (dg_read_u64(pfd, "start", &start) ||
			    dg_read_u64(pfd, "size", &sectors) ||
			    dg_read_text(pfd, "dev", buf, sizeof(buf)) < 0 ||
			    parse_majmin(buf, &pdev)) {
				close(pfd);
				continue;
			}
			close(pfd);
			nc = realloc(c, (n + 1) * sizeof(*c));
			if (!nc) {
				closedir(dir);
				free(c);
				return -ENOMEM;
			}
			c = nc;
			c[n] = (struct candidate){
				.devnum = pdev,
				.start = start << 9,
				.size = sectors << 9,
			};
			snprintf(c[n].name, sizeof(c[n].name), "%s", de->d_name);
			n++;
		}
		if (dir)
			closedir(dir);
	}
	rc = add_dm_candidates(&c, &n);
	if (rc)
		return rc;
	*out = c;
	*nr = n;
	return 0;
}

static int cmp_piece(const void *a, const void *b)
{
	const struct dg_fs_piece *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The filesystem on @cand[@i]'s device, made on first sight. */
static struct dg_fs *fs_for(struct dg_target *t, const struct candidate *cand, size_t nr, size_t i,
			    const char *fstype)
{
	const struct candidate *c = &cand[i];
	struct dg_fs *fs, **pp;
	size_t j;

	for (pp = &t->fs_list; *pp; pp = &(*pp)->next)
		if ((*pp)->devnum == c->devnum)
			return *pp;
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return NULL;
	fs->target = t;
	fs->devnum = c->devnum;
	fs->dm = c->dm;
	fs->pieces = calloc(nr, sizeof(*fs->pieces));
	for (j = 0; fs->pieces && j < nr; j++)
		if (cand[j].devnum == c->devnum)
			fs->pieces[fs->nr_pieces++] = (struct dg_fs_piece){ .start = cand[j].start,
									    .size = cand[j].size,
									    .base = cand[j].base };
	if (fs->pieces)
		qsort(fs->pieces, fs->nr_pieces, sizeof(*fs->pieces), cmp_piece);
	if (asprintf(&fs->devname, "/dev/%s", c->name) < 0)
		fs->devname = NULL;
	fs->type = strdup(fstype ?: "unknown");
	if (!fs->pieces || !fs->devname || !fs->type) {
		free(fs->pieces);
		free(fs->devname);
		free(fs->type);
		free(fs);
		return NULL;
	}
	/* keep device order so output reads like the partition table */
	for (pp = &t->fs_list; *pp && (*pp)->pieces[0].start <= fs->pieces[0].start;
	     pp = &(*pp)->next)
		;
	fs->next = *pp;
	*pp = fs;
	return fs;
}

static int add_mounts(struct dg_target *t, struct libmnt_table *tb, const struct candidate *cand,
		      size_t nr, uint64_t mntns, pid_t ns_pid, bool local)
{
	struct libmnt_iter *itr = mnt_new_iter(MNT_ITER_FORWARD);
	struct libmnt_fs *mfs;
	int rc = 0;

	if (!itr)
		return -ENOMEM;
	while (mnt_table_next_fs(tb, itr, &mfs) == 0) {
		dev_t dev = mnt_fs_get_devno(mfs);
		struct dg_mount *m, **pp;
		struct dg_fs *fs;
		size_t i;

		for (i = 0; i < nr && cand[i].devnum != dev; i++)
			;
		if (i == nr)
			continue;
		fs = fs_for(t, cand, nr, i, mnt_fs_get_fstype(mfs));
		m = calloc(1, sizeof(*m));
		if (!fs || !m) {
			free(m);
			rc = -ENOMEM;
			break;
		}
		m->fs = fs;
		m->target = strdup(mnt_fs_get_target(mfs) ?: "");
		m->root = strdup(mnt_fs_get_root(mfs) ?: "/");
		m->options = strdup(mnt_fs_get_options(mfs) ?: "");
		m->mntns = mntns;
		m->ns_pid = ns_pid;
		m->local = local;
		m->mnt_id = (uint64_t)mnt_fs_get_id(mfs);
		for (pp = &fs->mounts; *pp; pp = &(*pp)->next)
			;
		*pp = m;
		if (!m->target || !m->root || !m->options) {
			rc = -ENOMEM;
			break;
		}
		if (local && !fs->root_path && !strcmp(m->root, "/"))
			fs->root_path = m->target;
	}
	mnt_free_iter(itr);
	return rc;
}

static uint64_t read_mntns(const char *pid)
{
	char path[64], link[64];
	unsigned long long ino;
	ssize_t n;

	/* a pid's name in /proc is short; anything longer is not one */
	if (snprintf(path, sizeof(path), "/proc/%s/ns/mnt", pid) >= (int)sizeof(path))
		return 0;
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return 0;
	link[n] = '\0';
	if (sscanf(link, "mnt:[%llu]", &ino) != 1)
		return 0;
	return ino;
}

/*
 * Mounts in other mount namespaces: one process per namespace is enough to
 * read its mount table.  A filesystem unmounted in our namespace may still
 * be mounted (and busy) in a container's.
 */
static int add_foreign_mounts(struct dg_target *t, struct candidate *cand, size_t nr,
			      uint64_t own_ns)
{
	uint64_t *seen = NULL;
	size_t nseen = 0;
	DIR *proc = opendir("/proc");
	struct dirent *de;
	int rc = 0;

	if (!proc)
		return -errno;
	while ((de = readdir(proc))) {
		struct libmnt_table *tb;
		char path[NAME_MAX + 32];
		uint64_t ns, *ns_seen;
		size_t i;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		ns = read_mntns(de->d_name);
		if (!ns || ns == own_ns)
			continue;
		for (i = 0; i < nseen && seen[i] != ns; i++)
			;
		if (i < nseen)
			continue;
		ns_seen = realloc(seen, (nseen + 1) * sizeof(*seen));
		if (!ns_seen) {
			rc = -ENOMEM;
			break;
		}
		seen = ns_seen;
		seen[nseen++] = ns;

		snprintf(path, sizeof(path), "/proc/%s/mountinfo", de->d_name);
		tb = mnt_new_table();
		if (!tb) {
			rc = -ENOMEM;
			break;
		}
		if (mnt_table_parse_file(tb, path) == 0)
			rc = add_mounts(t, tb, cand, nr, ns, (pid_t)atoi(de->d_name), false);
		mnt_unref_table(tb);
		if (rc)
			break;
	}
	closedir(proc);
	free(seen);
	return rc;
}

/*
 * The physical range of the data of a pmem block device (the namespace's
 * or pfn device's resource and size), moved to a partition's start; the
 * one place where an address becomes an offset, for targets and for the
 * device list alike.  0 and 0 for a device that has none.
 */
void dg_sysfs_phys_range(int devdir, bool part, uint64_t size, uint64_t *start, uint64_t *psize)
{
	uint64_t pstart = 0, plen = 0, pstart_part = 0;
	char buf[64];

	*start = *psize = 0;
	if (dg_read_text(devdir, part ? "../device/resource" : "device/resource", buf,
			 sizeof(buf)) > 0 &&
	    sscanf(buf, "%" SCNx64, &pstart) == 1 &&
	    dg_read_text(devdir, part ? "../device/size" : "device/size", buf, sizeof(buf)) > 0 &&
	    sscanf(buf, "%" SCNu64, &plen) == 1 && pstart) {
		if (part && dg_read_u64(devdir, "start", &pstart_part) == 0)
			pstart_part <<= 9;
		*start = pstart + pstart_part;
		*psize = DG_MIN(plen - DG_MIN(pstart_part, plen), size);
	}
}

int dg_phys_to_offset(struct dg_ctx *ctx, const char *devname, uint64_t start, uint64_t size,
		      uint64_t phys, uint64_t *offset)
{
	if (!size)
		return dg_fail(ctx, -ENXIO,
			       "%s: has no physical address range (not a pmem namespace)", devname);
	if (phys < start || phys - start >= size)
		return dg_fail(ctx, -ERANGE,
			       "%s: physical address %#" PRIx64 " is outside its range %#" PRIx64
			       "-%#" PRIx64,
			       devname, phys, start, start + size - 1);
	*offset = phys - start;
	return 0;
}

static int target_fill_device(struct dg_target *t, int devdir)
{
	struct dg_ctx *ctx = t->ctx;
	char name[NAME_MAX + 1], buf[PATH_MAX];
	uint64_t sectors;
	int rc;

	rc = sysfs_devname(devdir, name, sizeof(name));
	if (rc)
		return dg_fail(ctx, rc, "%u:%u: cannot read the device name", major(t->devnum),
			       minor(t->devnum));
	if (asprintf(&t->devname, "/dev/%s", name) < 0)
		return -ENOMEM;
	if (dg_read_u64(devdir, "size", &sectors))
		return dg_fail(ctx, -EIO, "%s: cannot read the device size", t->devname);
	t->size = sectors << 9;
	t->kind = faccessat(devdir, "partition", F_OK, 0) == 0 ? DG_TARGET_PARTITION :
								 DG_TARGET_BLOCK;

	/*
	 * pmem (raw namespace or pfn device): the physical address range of
	 * the data, so machine-check and poison reports can be translated
	 */
	dg_sysfs_phys_range(devdir, t->kind == DG_TARGET_PARTITION, t->size, &t->phys_start,
			    &t->phys_size);
	dg_target_find_cxl(t);

	/* a loop device's backing file, also for a partition of one */
	if (dg_read_text(devdir,
			 t->kind == DG_TARGET_PARTITION ? "../loop/backing_file" :
							  "loop/backing_file",
			 buf, sizeof(buf)) > 0)
		t->backing_file = strdup(buf);
	return 0;
}

/*
 * device-dax: a character device the dax bus made (devdax namespaces, CXL
 * regions, kmem-less soft-reserved memory).  No filesystem: processes map
 * the device itself, at offsets that are the device's own.
 */
static int dax_target(struct dg_target *t, const char *spec)
{
	struct dg_ctx *ctx = t->ctx;
	char name[NAME_MAX + 1], buf[PATH_MAX], *sub;
	struct stat st;
	struct dg_fs *fs;
	ssize_t n;
	int dir, rc;

	dir = sysfs_dev_dir(t->devnum, false);
	if (dir < 0)
		return dg_fail(ctx, -ENODEV, "%s: no such character device in sysfs", spec);
	n = readlinkat(dir, "subsystem", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	sub = strrchr(buf, '/');
	if (n <= 0 || !sub || strcmp(sub, "/dax")) {
		close(dir);
		return dg_fail(ctx, -ENOTBLK, "%s: a character device, but not a device-dax one",
			       spec);
	}
	rc = sysfs_devname(dir, name, sizeof(name));
	if (!rc && asprintf(&t->devname, "/dev/%s", name) < 0)
		rc = -ENOMEM;
	if (!rc && dg_read_u64(dir, "size", &t->size))
		rc = dg_fail(ctx, -EIO, "%s: cannot read the device size", spec);
	if (!rc && dg_read_text(dir, "resource", buf, sizeof(buf)) > 0 &&
	    sscanf(buf, "%" SCNx64, &t->phys_start) == 1 && t->phys_start)
		t->phys_size = t->size;
	if (!rc)
		rc = dg_target_find_kmem(t, dir);
	close(dir);
	if (rc)
		return rc;
	t->kind = DG_TARGET_DAX;
	dg_target_find_cxl(t);
	/* processes name the device by its node: match on that inode */
	if (stat(spec[0] == '/' ? spec : t->devname, &st) < 0 || !S_ISCHR(st.st_mode) ||
	    st.st_rdev != t->devnum)
		return dg_fail(ctx, -ENOENT, "%s: no device node for %s", spec, t->devname);
	fs = calloc(1, sizeof(*fs));
	if (!fs)
		return -ENOMEM;
	fs->target = t;
	fs->devname = strdup(t->devname);
	fs->type = strdup("devdax");
	fs->devnum = st.st_dev;
	fs->dax_ino = st.st_ino;
	fs->holder = &dg_holder_devdax;
	fs->pieces = calloc(1, sizeof(*fs->pieces));
	t->fs_list = fs;
	t->ns_scanned = true; /* nothing to mount, in any namespace */
	if (!fs->devname || !fs->type || !fs->pieces)
		return -ENOMEM;
	fs->pieces[0].size = t->size;
	fs->nr_pieces = 1;
	return 0;
}

struct dg_fs *dg_fs_of(struct dg_target *t, dev_t dev, uint64_t ino)
{
	struct dg_fs *fs;

	dg_fs_foreach(t, fs)
		if (fs->devnum == dev && (!fs->dax_ino || fs->dax_ino == ino))
			return fs;
	return NULL;
}

DG_EXPORT int dg_target_new(struct dg_ctx *ctx, const char *spec, struct dg_target **target)
{
	struct libmnt_table *tb = NULL;
	struct candidate *cand = NULL;
	struct dg_target *t = NULL;
	size_t nr = 0;
	bool is_char;
	dev_t dev;
	int devdir = -1, rc;

	dg_clear_error(ctx);
	if (!spec || !*spec)
		return dg_fail(ctx, -EINVAL, "no target given");

	tb = mnt_new_table();
	if (!tb)
		return -ENOMEM;
	rc = mnt_table_parse_file(tb, "/proc/self/mountinfo");
	if (rc) {
		rc = dg_fail(ctx, rc, "/proc/self/mountinfo: cannot parse");
		goto out;
	}
	rc = resolve_spec(ctx, spec, tb, &dev, &is_char);
	if (rc)
		goto out;
	t = calloc(1, sizeof(*t));
	if (!t) {
		rc = -ENOMEM;
		goto out;
	}
	t->ctx = dg_ref(ctx);
	t->devnum = dev;
	if (is_char) {
		rc = dax_target(t, spec);
		if (rc)
			goto out;
		*target = t;
		t = NULL;
		goto out;
	}
	devdir = sysfs_dev_dir(dev, true);
	if (devdir < 0) {
		rc = dg_fail(ctx, -ENODEV, "%s: no such block device in sysfs", spec);
		goto out;
	}
	rc = target_fill_device(t, devdir);
	if (rc)
		goto out;
	rc = find_candidates(t, devdir, &cand, &nr);
	if (rc)
		goto out;
	rc = add_mounts(t, tb, cand, nr, read_mntns("self"), getpid(), true);
	if (rc)
		goto out;
	/*
	 * Other namespaces cost a readlink per process: looked at here only
	 * when nothing is mounted in ours, else on demand (whole-device
	 * queries and removals, dg_target_scan_namespaces()).
	 */
	if (!t->fs_list) {
		rc = add_foreign_mounts(t, cand, nr, read_mntns("self"));
		if (rc)
			goto out;
		t->ns_scanned = true;
	}
	if (!t->fs_list) {
		rc = dg_fail(ctx, -ENODEV, "%s: no mounted filesystem on the device%s", spec,
			     nr > 1 ? " or its partitions" : "");
		goto out;
	}
	*target = t;
	t = NULL;
out:
	if (devdir >= 0)
		close(devdir);
	free(cand);
	mnt_unref_table(tb);
	dg_target_free(t);
	return rc;
}

/*
 * Read the mount tables again: a pre-remove unmounts what is there now,
 * including bind mounts made after the flow began.
 */
int dg_target_refresh_mounts(struct dg_target *t)
{
	struct libmnt_table *tb;
	struct candidate *cand;
	struct dg_fs *fs;
	size_t n = 0;
	int rc;

	dg_fs_foreach(t, fs)
		n++;
	cand = calloc(n ? n : 1, sizeof(*cand));
	if (!cand)
		return -ENOMEM;
	n = 0;
	dg_fs_foreach(t, fs) {
		/* a device-dax node lives on devtmpfs: /dev is not ours */
		if (fs->dax_ino)
			continue;
		/* fs_for() finds the filesystem: only the device number counts */
		cand[n].devnum = fs->devnum;
		snprintf(cand[n].name, sizeof(cand[n].name), "%s", fs->devname + 5);
		n++;
		free_mounts(fs->mounts);
		fs->mounts = NULL;
		fs->root_path = NULL;
	}
	tb = mnt_new_table();
	if (!tb) {
		free(cand);
		return -ENOMEM;
	}
	rc = mnt_table_parse_file(tb, "/proc/self/mountinfo");
	if (!rc)
		rc = add_mounts(t, tb, cand, n, read_mntns("self"), getpid(), true);
	if (!rc)
		rc = add_foreign_mounts(t, cand, n, read_mntns("self"));
	if (!rc)
		t->ns_scanned = true;
	mnt_unref_table(tb);
	free(cand);
	return rc;
}

DG_EXPORT int dg_target_scan_namespaces(struct dg_target *t)
{
	return t->ns_scanned ? 0 : dg_target_refresh_mounts(t);
}

bool dg_target_is_mounted(struct dg_target *t)
{
	struct dg_fs *fs;

	dg_fs_foreach(t, fs)
		if (fs->mounts)
			return true;
	return false;
}

DG_EXPORT int dg_target_phys_to_offset(struct dg_target *t, uint64_t phys, uint64_t *offset)
{
	return dg_phys_to_offset(t->ctx, t->devname, t->phys_start, t->phys_size, phys, offset);
}

DG_EXPORT int dg_target_get_phys_range(struct dg_target *t, uint64_t *start, uint64_t *size)
{
	if (!t->phys_size)
		return -ENXIO;
	*start = t->phys_start;
	*size = t->phys_size;
	return 0;
}

DG_EXPORT struct dg_ctx *dg_target_get_ctx(struct dg_target *t)
{
	return t->ctx;
}

DG_EXPORT const char *dg_target_get_devname(struct dg_target *t)
{
	return t->devname;
}

DG_EXPORT dev_t dg_target_get_devnum(struct dg_target *t)
{
	return t->devnum;
}

DG_EXPORT uint64_t dg_target_get_size(struct dg_target *t)
{
	return t->size;
}

DG_EXPORT enum dg_target_kind dg_target_get_kind(struct dg_target *t)
{
	return t->kind;
}

DG_EXPORT const char *dg_target_get_backing_file(struct dg_target *t)
{
	return t->backing_file;
}

DG_EXPORT struct dg_fs *dg_fs_get_first(struct dg_target *t)
{
	return t->fs_list;
}

DG_EXPORT struct dg_fs *dg_fs_get_next(struct dg_fs *fs)
{
	return fs->next;
}

DG_EXPORT const char *dg_fs_get_devname(struct dg_fs *fs)
{
	return fs->devname;
}

DG_EXPORT dev_t dg_fs_get_devnum(struct dg_fs *fs)
{
	return fs->devnum;
}

DG_EXPORT const char *dg_fs_get_type(struct dg_fs *fs)
{
	return fs->type;
}

DG_EXPORT uint64_t dg_fs_get_start(struct dg_fs *fs)
{
	return fs->pieces[0].start;
}

DG_EXPORT uint64_t dg_fs_get_size(struct dg_fs *fs)
{
	return fs->pieces[0].size;
}

DG_EXPORT bool dg_fs_is_device_mapper(struct dg_fs *fs)
{
	return fs->dm;
}

DG_EXPORT size_t dg_fs_get_nr_pieces(struct dg_fs *fs)
{
	return fs->nr_pieces;
}

DG_EXPORT int dg_fs_get_piece(struct dg_fs *fs, size_t idx, uint64_t *start, uint64_t *size,
			      uint64_t *base)
{
	if (idx >= fs->nr_pieces)
		return -ERANGE;
	*start = fs->pieces[idx].start;
	*size = fs->pieces[idx].size;
	*base = fs->pieces[idx].base;
	return 0;
}

DG_EXPORT const char *dg_fs_get_rmap(struct dg_fs *fs)
{
	return fs->holder ? fs->holder->name : NULL;
}

DG_EXPORT struct dg_mount *dg_mount_get_first(struct dg_fs *fs)
{
	return fs->mounts;
}

DG_EXPORT struct dg_mount *dg_mount_get_next(struct dg_mount *m)
{
	return m->next;
}

DG_EXPORT const char *dg_mount_get_target(struct dg_mount *m)
{
	return m->target;
}

DG_EXPORT const char *dg_mount_get_root(struct dg_mount *m)
{
	return m->root;
}

DG_EXPORT const char *dg_mount_get_options(struct dg_mount *m)
{
	return m->options;
}

DG_EXPORT uint64_t dg_mount_get_mntns(struct dg_mount *m)
{
	return m->mntns;
}

DG_EXPORT pid_t dg_mount_get_ns_pid(struct dg_mount *m)
{
	return m->ns_pid;
}

DG_EXPORT bool dg_mount_is_local(struct dg_mount *m)
{
	return m->local;
}

static int cmp_fs_range(const void *a, const void *b)
{
	const struct dg_fs_range *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

size_t dg_fs_clip(const struct dg_fs *fs, const struct dg_range *ranges, size_t nr,
		  struct dg_fs_range *out)
{
	size_t i, j, n = 0;

	for (j = 0; j < fs->nr_pieces; j++) {
		const struct dg_fs_piece *p = &fs->pieces[j];

		for (i = 0; i < nr; i++) {
			uint64_t s = DG_MAX(ranges[i].offset, p->start);
			uint64_t e =
				DG_MIN(ranges[i].offset + ranges[i].length, p->start + p->size);

			if (s >= e)
				continue;
			out[n].offset = s - p->start + p->base;
			out[n].length = e - s;
			n++;
		}
	}
	/* pieces may lie in any order on the filesystem's device */
	if (fs->nr_pieces > 1)
		qsort(out, n, sizeof(*out), cmp_fs_range);
	return n;
}

uint64_t dg_fs_to_target(const struct dg_fs *fs, uint64_t off)
{
	size_t j;

	for (j = 0; j < fs->nr_pieces; j++) {
		const struct dg_fs_piece *p = &fs->pieces[j];

		if (off >= p->base && off - p->base < p->size)
			return p->start + (off - p->base);
	}
	return off;
}

bool dg_fs_meets(const struct dg_fs *fs, uint64_t off, uint64_t len)
{
	size_t j;

	for (j = 0; j < fs->nr_pieces; j++)
		if (off < fs->pieces[j].start + fs->pieces[j].size &&
		    off + len > fs->pieces[j].start)
			return true;
	return false;
}
