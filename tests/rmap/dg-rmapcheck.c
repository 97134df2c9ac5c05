// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dg-rmapcheck MNT JSON...: check `daxguard who -J` (or `fail -J`) answers
 * against the kernel's own, on the filesystem mounted at MNT, one block
 * (4 KiB, or the filesystem's block) at a time:
 *
 *  - a file owner of data is in the kernel's map of that inode (FIEMAP, or
 *    XFS's GETBMAPX for directories), at that file offset; of an xattr
 *    block, in its xattr map;
 *  - an extent-map block, metadata or unknown is in use (GETFSMAP does not
 *    call it free), and free space is free;
 *  - every block of every queried range has an owner: nothing in use is
 *    left out of the answer.
 *
 * The inode is opened by handle, as the kernel's export operations decode
 * it (XFS: 64-bit number and the generation bulkstat gives; ext4: 32-bit
 * number, generation 0 unchecked), so unlinked but open files count.  It
 * prints each disagreement and exits 1 if there was one; 2 on a usage or
 * system error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/fsmap.h>
#include <linux/magic.h>

#include <json-c/json.h>
#include <xfs/xfs.h>

#define MIN_U64(a, b) ((a) < (b) ? (a) : (b))

struct ext {
	uint64_t logical, physical, length;
};

struct kmap {
	uint64_t ino;
	int err; /* the kernel could not be asked */
	struct ext *data, *attr;
	size_t nr_data, nr_attr;
};

static int rootfd;
static uint32_t fsdev; /* the data device, as GETFSMAP names it */
static bool xfs;
static uint64_t bsize;
static struct kmap *maps;
static size_t nr_maps;
static int bad;

static void add_ext(struct ext **v, size_t *n, uint64_t l, uint64_t p, uint64_t len)
{
	*v = realloc(*v, (*n + 1) * sizeof(**v));
	if (!*v) {
		perror("realloc");
		exit(2);
	}
	(*v)[(*n)++] = (struct ext){ l, p, len };
}

static int open_ino(uint64_t ino)
{
	struct {
		struct file_handle fh;
		unsigned char f[12];
	} h;
	uint32_t gen = 0, i32 = (uint32_t)ino;

	memset(&h, 0, sizeof(h));
	if (xfs) {
		struct {
			struct xfs_bulkstat_req req;
			struct xfs_bulkstat bs;
		} r;

		memset(&r, 0, sizeof(r));
		r.req.hdr.ino = ino;
		r.req.hdr.icount = 1;
		if (ioctl(rootfd, XFS_IOC_BULKSTAT, &r.req) < 0)
			return -1;
		if (r.req.hdr.ocount != 1 || r.bs.bs_ino != ino) {
			errno = ENOENT;
			return -1;
		}
		gen = r.bs.bs_gen;
		h.fh.handle_bytes = 12;
		h.fh.handle_type = 0x81; /* FILEID_INO32_GEN | XFS 64-bit */
		memcpy(h.f, &ino, 8);
		memcpy(h.f + 8, &gen, 4);
	} else {
		h.fh.handle_bytes = 8;
		h.fh.handle_type = 1;
		memcpy(h.f, &i32, 4);
		memcpy(h.f + 4, &gen, 4);
	}
	return open_by_handle_at(rootfd, &h.fh, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

static int map_fiemap(int fd, bool attr, struct kmap *m)
{
	char buf[sizeof(struct fiemap) + 256 * sizeof(struct fiemap_extent)];
	struct fiemap *fm = (struct fiemap *)buf;
	uint64_t start = 0;

	for (;;) {
		unsigned int i;
		bool last = false;

		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_extent_count = 256;
		fm->fm_flags = FIEMAP_FLAG_SYNC | (attr ? FIEMAP_FLAG_XATTR : 0);
		if (ioctl(fd, FS_IOC_FIEMAP, fm) < 0)
			return -errno;
		for (i = 0; i < fm->fm_mapped_extents; i++) {
			struct fiemap_extent *fe = &fm->fm_extents[i];

			if (fe->fe_flags & FIEMAP_EXTENT_LAST)
				last = true;
			if (fe->fe_flags & (FIEMAP_EXTENT_UNKNOWN | FIEMAP_EXTENT_DELALLOC |
					    FIEMAP_EXTENT_DATA_INLINE | FIEMAP_EXTENT_DATA_TAIL))
				continue;
			if (attr)
				add_ext(&m->attr, &m->nr_attr, 0, fe->fe_physical, fe->fe_length);
			else
				add_ext(&m->data, &m->nr_data, fe->fe_logical, fe->fe_physical,
					fe->fe_length);
		}
		if (last || fm->fm_mapped_extents < 256)
			return 0;
		start = fm->fm_extents[255].fe_logical + fm->fm_extents[255].fe_length;
	}
}

static int map_getbmapx(int fd, bool attr, struct kmap *m)
{
	struct getbmapx bmv[257];

	memset(bmv, 0, sizeof(bmv));
	bmv[0].bmv_length = 1LL << 53;
	bmv[0].bmv_iflags = BMV_IF_NO_HOLES | BMV_IF_PREALLOC | (attr ? BMV_IF_ATTRFORK : 0);
	for (;;) {
		int i;

		bmv[0].bmv_count = 257;
		if (ioctl(fd, XFS_IOC_GETBMAPX, bmv) < 0)
			return -errno;
		if (!bmv[0].bmv_entries)
			return 0;
		for (i = 1; i <= bmv[0].bmv_entries; i++) {
			if (bmv[i].bmv_block < 0)
				continue;
			if (attr)
				add_ext(&m->attr, &m->nr_attr, 0, (uint64_t)bmv[i].bmv_block << 9,
					(uint64_t)bmv[i].bmv_length << 9);
			else
				add_ext(&m->data, &m->nr_data, (uint64_t)bmv[i].bmv_offset << 9,
					(uint64_t)bmv[i].bmv_block << 9,
					(uint64_t)bmv[i].bmv_length << 9);
		}
		if ((bmv[bmv[0].bmv_entries].bmv_oflags & BMV_OF_LAST) || bmv[0].bmv_entries < 256)
			return 0;
	}
}

/*
 * By handle first; by the path daxguard gave if that fails: XFS decodes a
 * handle as an untrusted inode number, checked in the inode btree, which a
 * damaged btree refuses, while the path reaches it through its directory.
 */
static struct kmap *kernel_map(uint64_t ino, const char *path)
{
	struct kmap *m;
	size_t i;
	int fd, rc;

	for (i = 0; i < nr_maps; i++)
		if (maps[i].ino == ino)
			return &maps[i];
	maps = realloc(maps, (nr_maps + 1) * sizeof(*maps));
	if (!maps) {
		perror("realloc");
		exit(2);
	}
	m = &maps[nr_maps++];
	memset(m, 0, sizeof(*m));
	m->ino = ino;
	fd = open_ino(ino);
	if (fd < 0 && path) {
		struct stat st;
		int err = errno;

		fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && (fstat(fd, &st) < 0 || st.st_ino != ino)) {
			close(fd);
			fd = -1;
		}
		if (fd < 0)
			errno = err;
	}
	if (fd < 0) {
		m->err = errno;
		return m;
	}
	rc = map_fiemap(fd, false, m);
	if (rc && xfs) /* directories: GETBMAPX only */
		rc = map_getbmapx(fd, false, m);
	if (!rc) {
		rc = map_fiemap(fd, true, m);
		if (rc && xfs)
			rc = map_getbmapx(fd, true, m);
	}
	if (rc)
		m->err = -rc;
	close(fd);
	return m;
}

/* GETFSMAP: is the block at @off free? */
static int is_free(uint64_t off, uint64_t len)
{
	struct fsmap_head *h = calloc(1, fsmap_sizeof(64));
	int ret = 0;
	unsigned int i;

	if (!h)
		exit(2);
	h->fmh_count = 64;
	/* a low key on another device would start at that device's block 0 */
	h->fmh_keys[0].fmr_device = fsdev;
	h->fmh_keys[0].fmr_physical = off;
	h->fmh_keys[1].fmr_device = fsdev;
	h->fmh_keys[1].fmr_physical = off + len - 1;
	h->fmh_keys[1].fmr_owner = ULLONG_MAX;
	h->fmh_keys[1].fmr_offset = ULLONG_MAX;
	h->fmh_keys[1].fmr_flags = UINT_MAX;
	if (ioctl(rootfd, FS_IOC_GETFSMAP, h) < 0) {
		free(h);
		return -errno;
	}
	for (i = 0; i < h->fmh_entries; i++) {
		struct fsmap *r = &h->fmh_recs[i];

		if (r->fmr_physical <= off && r->fmr_physical + r->fmr_length >= off + len &&
		    (r->fmr_flags & FMR_OF_SPECIAL_OWNER) && r->fmr_owner == FMR_OWN_FREE)
			ret = 1;
	}
	free(h);
	return ret;
}

static const char *jstring(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

static uint64_t ju64(json_object *o, const char *key, bool *ok)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v)) {
		*ok = false;
		return 0;
	}
	return (uint64_t)json_object_get_uint64(v);
}

static bool has_flag(json_object *o, const char *flag)
{
	json_object *f;
	size_t i;

	if (!json_object_object_get_ex(o, "flags", &f))
		return false;
	for (i = 0; i < json_object_array_length(f); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(f, i)), flag))
			return true;
	return false;
}

static void fail(const char *file, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(const char *file, const char *fmt, ...)
{
	va_list ap;

	printf("%s: ", file);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	bad = 1;
}

/* one block of a file owner: in the kernel's map, at that offset */
static bool kernel_has(const struct kmap *m, bool attr, uint64_t phys, uint64_t logical)
{
	const struct ext *v = attr ? m->attr : m->data;
	size_t i, n = attr ? m->nr_attr : m->nr_data;

	for (i = 0; i < n; i++)
		if (phys >= v[i].physical && phys < v[i].physical + v[i].length &&
		    (attr || v[i].logical + (phys - v[i].physical) == logical))
			return true;
	return false;
}

struct span {
	uint64_t s, e;
};

static int cmp_span(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->s < y->s ? -1 : x->s > y->s;
}

static void check(const char *file)
{
	json_object *root = json_object_from_file(file), *owners, *ranges;
	struct span *cov = NULL;
	size_t i, n, nc = 0;

	if (!root) {
		fail(file, "not JSON");
		return;
	}
	if (!json_object_object_get_ex(root, "owners", &owners) ||
	    !json_object_object_get_ex(root, "ranges", &ranges)) {
		fail(file, "no owners or ranges");
		json_object_put(root);
		return;
	}
	n = json_object_array_length(owners);
	cov = calloc(n + 1, sizeof(*cov));
	for (i = 0; i < n; i++) {
		json_object *o = json_object_array_get_idx(owners, i);
		const char *type = jstring(o, "type");
		bool ok = true;
		uint64_t off = ju64(o, "offset", &ok), len = ju64(o, "length", &ok), b;

		if (!ok || !type) {
			fail(file, "owner %zu: no offset, length or type", i);
			continue;
		}
		cov[nc++] = (struct span){ off, off + len };
		if (!strcmp(type, "free")) {
			if (is_free(off, len) != 1)
				fail(file, "free at %" PRIu64 "+%" PRIu64 ": GETFSMAP says in use",
				     off, len);
			continue;
		}
		if (strcmp(type, "file") || has_flag(o, "extent_map")) {
			for (b = off; b < off + len; b += bsize)
				if (is_free(b, MIN_U64(bsize, off + len - b)) == 1)
					fail(file, "%s%s%s at %" PRIu64 ": GETFSMAP says free",
					     type, jstring(o, "kind") ? " " : "",
					     jstring(o, "kind") ?: "", b);
			continue;
		}
		{
			uint64_t ino = ju64(o, "inode", &ok), foff = ju64(o, "file_offset", &ok);
			bool attr = has_flag(o, "attr_fork");
			const struct kmap *m = kernel_map(ino, jstring(o, "path"));

			if (m->err) {
				fail(file,
				     "inode %" PRIu64 " named at %" PRIu64
				     ": the kernel cannot map it (%s)",
				     ino, off, strerror(m->err));
				continue;
			}
			for (b = off; b < off + len; b += bsize)
				if (!kernel_has(m, attr, b, foff + (b - off))) {
					fail(file,
					     "inode %" PRIu64 " named at %" PRIu64 " (%s %" PRIu64
					     "): not in the kernel's map",
					     ino, b, attr ? "xattr" : "file offset",
					     foff + (b - off));
					break;
				}
		}
	}
	/* every block of every range has an owner */
	qsort(cov, nc, sizeof(*cov), cmp_span);
	for (i = 0; i < json_object_array_length(ranges); i++) {
		json_object *r = json_object_array_get_idx(ranges, i);
		bool ok = true;
		uint64_t s = ju64(r, "offset", &ok), e = s + ju64(r, "length", &ok), at = s;
		size_t k;

		for (k = 0; k < nc && at < e; k++) {
			if (cov[k].e <= at)
				continue;
			if (cov[k].s > at)
				break;
			at = cov[k].e;
		}
		if (at < e)
			fail(file, "range %" PRIu64 "+%" PRIu64 ": %" PRIu64 " has no owner", s,
			     e - s, at);
	}
	free(cov);
	json_object_put(root);
}

int main(int argc, char **argv)
{
	struct statfs sf;
	int i;

	if (argc < 3) {
		fprintf(stderr, "usage: dg-rmapcheck MNT JSON...\n");
		return 2;
	}
	rootfd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 || fstatfs(rootfd, &sf) < 0) {
		perror(argv[1]);
		return 2;
	}
	xfs = sf.f_type == XFS_SUPER_MAGIC;
	{
		struct stat st;

		if (fstat(rootfd, &st) < 0) {
			perror(argv[1]);
			return 2;
		}
		/* new_encode_dev() */
		fsdev = (minor(st.st_dev) & 0xff) | (major(st.st_dev) << 8) |
			((minor(st.st_dev) & ~0xffU) << 12);
	}
	bsize = (uint64_t)sf.f_bsize;
	for (i = 2; i < argc; i++)
		check(argv[i]);
	while (nr_maps--) {
		free(maps[nr_maps].data);
		free(maps[nr_maps].attr);
	}
	free(maps);
	close(rootfd);
	return bad;
}
