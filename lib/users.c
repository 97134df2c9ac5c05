// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Collect the processes that use the owners found: the user-space
 * counterpart of collect_procs_fsdax().  The kernel walks the file's
 * i_mmap tree; we have no such index, so we visit every process once and
 * match its file-backed mappings on (device, inode, file range), to the
 * page.  The PROCMAP_QUERY ioctl (6.11+) hands us the mappings as binary
 * records; older kernels get /proc/PID/maps parsed.
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
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/kcmp.h>
#include <linux/openat2.h>

#include "private.h"

#ifndef PROCMAP_QUERY
/* include/uapi/linux/fs.h, Linux 6.11 */
struct procmap_query {
	uint64_t size;
	uint64_t query_flags;
	uint64_t query_addr;
	uint64_t vma_start;
	uint64_t vma_end;
	uint64_t vma_flags;
	uint64_t vma_page_size;
	uint64_t vma_offset;
	uint64_t inode;
	uint32_t dev_major;
	uint32_t dev_minor;
	uint32_t vma_name_size;
	uint32_t build_id_size;
	uint64_t vma_name_addr;
	uint64_t build_id_addr;
};
#define PROCMAP_QUERY _IOWR('f', 17, struct procmap_query)
#define PROCMAP_QUERY_VMA_READABLE 0x01
#define PROCMAP_QUERY_VMA_WRITABLE 0x02
#define PROCMAP_QUERY_VMA_EXECUTABLE 0x04
#define PROCMAP_QUERY_VMA_SHARED 0x08
#define PROCMAP_QUERY_COVERING_OR_NEXT_VMA 0x10
#define PROCMAP_QUERY_FILE_BACKED_VMA 0x20
#endif

/* A file range whose mappers we want, page aligned. */
struct want {
	dev_t dev;
	uint64_t ino;
	uint64_t start, end;
	struct dg_owner *owner;
};

/* One file-backed mapping, from either source. */
struct vma {
	uint64_t start, end, pgoff;
	dev_t dev;
	uint64_t ino;
	unsigned int flags;
};

struct dg_collector {
	struct dg_result *res;
	int procfd;
	bool count_only; /* verification: count the uses, record nothing */
	unsigned int count;
	bool whole;
	bool need_fds; /* range mode: some owner is held open only */
	bool use_procmap_query; /* faster here, or DAXGUARD_MAPS=query */
	bool no_procmap_query; /* the kernel has none (before 6.11) */
	bool first_only; /* a user is found once one use is: stop there */
	struct want *wants;
	size_t nr_wants;
	uint64_t page_mask;
	/* per process */
	pid_t pid;
	pid_t tid; /* 0: the process (its leader); else the thread read */
	char dir[48]; /* "PID" or "PID/task/TID", below /proc */
	bool maps_empty; /* the last maps read had no mapping at all */
	char comm[64];
	bool have_comm;
	char root[PATH_MAX]; /* its root directory, as we see it; "" for ours */
	bool have_root;
	int mapsfd;
	char *buf;
	size_t bufsize;
	unsigned int vanished, denied;
	char dents[8192] __attribute__((aligned(8))); /* of /proc/PID/fd */
};

static int cmp_want(const void *a, const void *b)
{
	const struct want *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	if (x->ino != y->ino)
		return x->ino < y->ino ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

/* First want for (dev, ino), or NULL. */
static struct want *find_wants(struct dg_collector *c, dev_t dev, uint64_t ino)
{
	size_t lo = 0, hi = c->nr_wants;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		struct want *w = &c->wants[mid];

		if (w->dev < dev || (w->dev == dev && w->ino < ino))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->nr_wants && c->wants[lo].dev == dev && c->wants[lo].ino == ino)
		return &c->wants[lo];
	return NULL;
}

/* the node's devtmpfs: only its inode is ours, checked by dg_fs_of() */
static bool dax_dev(struct dg_target *t, dev_t dev)
{
	return t->kind == DG_TARGET_DAX && t->fs_list && t->fs_list->devnum == dev;
}

static const char *proc_comm(struct dg_collector *c)
{
	char path[64];

	if (!c->have_comm) {
		snprintf(path, sizeof(path), "%d/comm", c->pid);
		if (dg_read_text(c->procfd, path, c->comm, sizeof(c->comm)) < 0)
			snprintf(c->comm, sizeof(c->comm), "?");
		c->have_comm = true;
	}
	return c->comm;
}

/*
 * The process's root directory as daxguard sees it ("" for the same as
 * ours).  The kernel writes a path relative to the reader's root: for a
 * process in a chroot, or in a chroot inside a mount namespace of its
 * own, "/srv/jail/data/f" is what that process calls "/data/f".
 */
static const char *proc_root(struct dg_collector *c)
{
	char path[64];
	ssize_t n;

	if (!c->have_root) {
		snprintf(path, sizeof(path), "%d/root", c->pid);
		n = readlinkat(c->procfd, path, c->root, sizeof(c->root) - 1);
		c->root[n > 1 ? n : 0] = '\0';
		c->have_root = true;
	}
	return c->root;
}

/* add_user()'s word that the process is known a user: read no further */
#define SCAN_ENOUGH 1

static int add_user(struct dg_collector *c, struct dg_user *u, const char *path)
{
	const char *root, *ours = path;
	size_t n;

	c->count++;
	if (c->count_only)
		return 0;
	u->pid = c->pid;
	u->tid = c->tid;
	/* the path as the process sees it; its root's own path stays ours */
	if (path && u->use != DG_USE_ROOT && *(root = proc_root(c))) {
		n = strlen(root);
		if (!strncmp(path, root, n) && (path[n] == '/' || !path[n]))
			path = path[n] ? path + n : "/";
	}
	if (!dg_result_add_user(c->res, u, proc_comm(c), path, ours))
		return -ENOMEM;
	return c->first_only ? SCAN_ENOUGH : 0;
}

/* The name of the mapping at @addr, through a second, named query. */
static void vma_name(struct dg_collector *c, uint64_t addr, char *name, size_t size)
{
	struct procmap_query q = {
		.size = sizeof(q),
		.query_addr = addr,
		.vma_name_addr = (uintptr_t)name,
		.vma_name_size = (uint32_t)size,
	};

	name[0] = '\0';
	if (ioctl(c->mapsfd, PROCMAP_QUERY, &q) < 0)
		name[0] = '\0';
}

static bool path_is_deleted(const char *path)
{
	size_t n = strlen(path);

	return n > 10 && !strcmp(path + n - 10, " (deleted)");
}

/*
 * The name of mapping @v as the user sees it, into @buf: @name as the text
 * of /proc/PID/maps has it (@escaped: a newline in it is "\012"), or as
 * PROCMAP_QUERY gives it (raw), or NULL to ask.  The text is ambiguous
 * (a name can hold a backslash and "012" too): the kernel's own link,
 * map_files/START-END, settles it where we may read it (root).  *@unlinked:
 * the kernel added " (deleted)" to a file with no name left, but a name
 * may end with those words too: the link count says which.
 */
static const char *vma_user_name(struct dg_collector *c, const struct vma *v, const char *name,
				 bool escaped, char *buf, size_t size, bool *unlinked)
{
	char link[96];
	struct stat st;
	bool ambiguous = false;
	ssize_t n;

	snprintf(link, sizeof(link), "%s/map_files/%" PRIx64 "-%" PRIx64, c->dir, v->start, v->end);
	if (!name) {
		vma_name(c, v->start, buf, size);
		name = buf;
	} else if (escaped) {
		if (dg_maps_unescape_path(name, buf, size, &ambiguous) < 0)
			snprintf(buf, size, "%s", name);
		name = buf;
		if (ambiguous) {
			n = readlinkat(c->procfd, link, buf, size - 1);
			if (n > 0)
				buf[n] = '\0';
			else if (dg_maps_unescape_path(name, buf, size, NULL) < 0)
				buf[0] = '\0';
		}
	}
	*unlinked = false;
	if (path_is_deleted(name))
		*unlinked = fstatat(c->procfd, link, &st, 0) < 0 || st.st_nlink == 0;
	return name;
}

static int match_vma(struct dg_collector *c, const struct vma *v, const char *name, bool escaped)
{
	char namebuf[PATH_MAX];
	uint64_t vend = v->pgoff + (v->end - v->start);
	struct dg_user u = { .use = DG_USE_MAP,
			     .flags = v->flags,
			     .ino = v->ino,
			     .fd = -1,
			     .vm_start = v->start,
			     .vm_end = v->end,
			     .vm_pgoff = v->pgoff };
	bool named = false;
	struct want *w;
	int rc;

	if (c->whole) {
		u.fs = dg_fs_of(c->res->target, v->dev, v->ino);
		if (!u.fs)
			return 0;
		if (!c->count_only)
			name = vma_user_name(c, v, name, escaped, namebuf, sizeof(namebuf),
					     &u.unlinked);
		u.file_offset = v->pgoff;
		u.file_length = v->end - v->start;
		return add_user(c, &u, name);
	}

	w = find_wants(c, v->dev, v->ino);
	for (; w && w < c->wants + c->nr_wants && w->dev == v->dev && w->ino == v->ino; w++) {
		uint64_t s = DG_MAX(w->start, v->pgoff);
		uint64_t e = DG_MIN(w->end, vend);

		if (s >= e)
			continue;
		if (!named && !c->count_only) {
			name = vma_user_name(c, v, name, escaped, namebuf, sizeof(namebuf),
					     &u.unlinked);
			named = true;
		}
		u.fs = w->owner->fs;
		u.owner = w->owner;
		u.file_offset = s;
		u.file_length = e - s;
		rc = add_user(c, &u, name);
		if (rc)
			return rc;
	}
	return 0;
}

static struct vma vma_of_query(const struct procmap_query *q)
{
	struct vma v = {
		.start = q->vma_start,
		.end = q->vma_end,
		.pgoff = q->vma_offset,
		.dev = makedev(q->dev_major, q->dev_minor),
		.ino = q->inode,
	};

	if (q->vma_flags & PROCMAP_QUERY_VMA_READABLE)
		v.flags |= DG_USER_READ;
	if (q->vma_flags & PROCMAP_QUERY_VMA_WRITABLE)
		v.flags |= DG_USER_WRITE;
	if (q->vma_flags & PROCMAP_QUERY_VMA_EXECUTABLE)
		v.flags |= DG_USER_EXEC;
	if (q->vma_flags & PROCMAP_QUERY_VMA_SHARED)
		v.flags |= DG_USER_SHARED;
	return v;
}

/* The first file-backed mapping at or above @addr, into @q: 0 or -1 (errno) */
static int next_file_vma(int mapsfd, uint64_t addr, struct procmap_query *q)
{
	memset(q, 0, sizeof(*q));
	q->size = sizeof(*q);
	q->query_flags = PROCMAP_QUERY_COVERING_OR_NEXT_VMA | PROCMAP_QUERY_FILE_BACKED_VMA;
	q->query_addr = addr;
	return ioctl(mapsfd, PROCMAP_QUERY, q);
}

static int scan_maps_query(struct dg_collector *c)
{
	struct procmap_query q;
	uint64_t addr = 0;
	int rc;

	for (; next_file_vma(c->mapsfd, addr, &q) == 0; addr = q.vma_end) {
		c->maps_empty = false;
		if (c->whole || find_wants(c, makedev(q.dev_major, q.dev_minor), q.inode)) {
			struct vma v = vma_of_query(&q);

			rc = match_vma(c, &v, NULL, false);
			if (rc)
				return rc;
		}
	}
	switch (errno) {
	case ENOENT: /* no more mappings */
	case ESRCH: /* no mm: a kernel thread, or an exiting process */
		return 0;
	case ENOTTY:
	case EINVAL:
		/* kernel older than 6.11: fall back to the text */
		c->no_procmap_query = true;
		return -ENOTTY;
	default:
		return -errno;
	}
}

/* Read all of /proc/PID/maps; returns its length or a negative errno. */
static ssize_t read_all(struct dg_collector *c)
{
	size_t len = 0;

	for (;;) {
		ssize_t n;

		if (c->bufsize - len < 4096) {
			size_t sz = c->bufsize ? c->bufsize * 2 : 65536;
			char *nb = realloc(c->buf, sz);

			if (!nb)
				return -ENOMEM;
			c->buf = nb;
			c->bufsize = sz;
		}
		n = read(c->mapsfd, c->buf + len, c->bufsize - len - 1);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	c->buf[len] = '\0';
	return (ssize_t)len;
}

static int scan_maps_text(struct dg_collector *c)
{
	ssize_t len = read_all(c);
	char *line, *next;
	int rc;

	if (len < 0)
		return (int)len;
	if (len > 0)
		c->maps_empty = false;
	for (line = c->buf; line && *line; line = next) {
		struct dg_maps_entry e;
		struct vma v;

		dev_t dev;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* most mappings are of other filesystems: skip them unparsed */
		if (!dg_maps_line_dev(line, &dev) ||
		    (!dg_fs_of(c->res->target, dev, 0) && !dax_dev(c->res->target, dev)))
			continue;
		if (dg_parse_maps_line(line, &e) != 1)
			continue;
		v = (struct vma){ .start = e.start,
				  .end = e.end,
				  .pgoff = e.offset,
				  .dev = e.dev,
				  .ino = e.ino,
				  .flags = e.flags };
		if (!c->whole && !find_wants(c, v.dev, v.ino))
			continue;
		rc = match_vma(c, &v, e.path, true);
		if (rc)
			return rc;
	}
	return 0;
}

/* The filesystem mounted as mount @id (mountinfo's first field), or NULL. */
static struct dg_fs *fs_of_mount(struct dg_target *t, uint64_t id)
{
	struct dg_mount *m;
	struct dg_fs *fs;

	dg_fs_foreach(t, fs)
		for (m = fs->mounts; m; m = m->next)
			if (m->mnt_id == id)
				return fs;
	return NULL;
}

/*
 * A link whose file cannot be stat()ed: the filesystem shut itself down
 * (XFS after an I/O error, a device gone from under it), and getattr
 * fails with EIO for every file on it.  Those are exactly the users a
 * dead device must be rid of, and a stat() that fails must not make them
 * nobody.  The kernel still says which mount and inode the file is,
 * without asking the filesystem: /proc/PID/fdinfo/N for a descriptor;
 * for cwd, root and exe, our own fdinfo of an O_PATH descriptor opened
 * through the link.  Fills @st's device and inode; its mode stays 0.
 */
static int link_by_fdinfo(struct dg_collector *c, const char *name, int fd, struct stat *st)
{
	char path[NAME_MAX + 64];
	uint64_t mnt_id, ino;
	struct dg_fs *fs;
	int rc;

	if (fd >= 0) {
		snprintf(path, sizeof(path), "%s/fdinfo/%d", c->dir, fd);
		rc = dg_read_fdinfo(c->procfd, path, &mnt_id, &ino);
	} else {
		snprintf(path, sizeof(path), "%s/%s", c->dir, name);
		rc = dg_fdinfo_at(c->procfd, c->procfd, path, 0, &mnt_id, &ino);
	}
	if (rc)
		return rc;
	memset(st, 0, sizeof(*st));
	fs = fs_of_mount(c->res->target, mnt_id);
	/* a mount of no filesystem of the target: somebody else's file */
	st->st_dev = fs ? fs->devnum : 0;
	st->st_ino = (ino_t)ino;
	st->st_nlink = 1; /* unknown: not taken for unlinked */
	return 0;
}

/* fd, cwd, root and exe: the uses that keep a filesystem busy. */
static int check_link(struct dg_collector *c, const char *name, enum dg_use use, int fd)
{
	char path[NAME_MAX + 32], target[PATH_MAX];
	struct dg_user u = { .use = use, .fd = fd };
	struct dg_fs *fs;
	struct stat st;
	ssize_t n;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", c->dir, name);
	if (fstatat(c->procfd, path, &st, 0) < 0) {
		/*
		 * gone (the fd closed, the process exited): no use; not ours
		 * to read: the process is found unreadable as a whole below
		 */
		if (errno == ENOENT || errno == ESRCH || errno == EACCES || errno == EPERM)
			return 0;
		rc = link_by_fdinfo(c, name, fd, &st);
		if (rc == -ENOENT || rc == -ESRCH)
			return 0;
		if (rc) {
			if (!c->count_only)
				dg_result_incomplete(c->res, "%d: %s: %s", c->pid, name,
						     strerror(-rc));
			return 0;
		}
	}
	if (S_ISCHR(st.st_mode) && st.st_rdev == c->res->target->devnum &&
	    c->res->target->kind == DG_TARGET_DAX) {
		/* the device-dax device, through whatever node */
		st.st_dev = c->res->target->fs_list->devnum;
		st.st_ino = c->res->target->fs_list->dax_ino;
	} else if (S_ISBLK(st.st_mode)) {
		/*
		 * The device node itself: a removal cannot release a device
		 * somebody holds open, whatever its filesystems say.
		 */
		if (!c->whole || use != DG_USE_FD)
			return 0;
		fs = dg_fs_of(c->res->target, st.st_rdev, 0);
		if (!fs && st.st_rdev != c->res->target->devnum)
			return 0;
		u.use = DG_USE_DEVICE;
		u.fs = fs ? fs : c->res->target->fs_list;
		if (c->count_only)
			return add_user(c, &u, NULL);
		n = readlinkat(c->procfd, path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		return add_user(c, &u, target);
	}
	fs = dg_fs_of(c->res->target, st.st_dev, st.st_ino);
	if (!fs)
		return 0;
	u.fs = fs;
	u.ino = st.st_ino;
	/* no name left: the link count says so, not a " (deleted)" suffix */
	u.unlinked = st.st_nlink == 0;
	if (!c->whole) {
		struct want *w = find_wants(c, st.st_dev, st.st_ino);

		if (!w || !(w->owner->flags & DG_OWNER_UNLINKED))
			return 0;
		u.owner = w->owner;
	}
	if (c->count_only)
		return add_user(c, &u, NULL);
	n = readlinkat(c->procfd, path, target, sizeof(target) - 1);
	target[n > 0 ? n : 0] = '\0';
	return add_user(c, &u, target);
}

/*
 * The links of c->dir that keep a filesystem busy: with @fs_ctx its cwd
 * and root (and, for the process itself, its exe), with @files each fd.
 */
static int scan_links(struct dg_collector *c, bool fs_ctx, bool files)
{
	char path[64];
	struct dirent64 *de;
	int dfd, rc = 0;

	if (fs_ctx) {
		static const struct {
			const char *name;
			enum dg_use use;
		} links[] = { { "cwd", DG_USE_CWD },
			      { "root", DG_USE_ROOT },
			      { "exe", DG_USE_EXE } };
		size_t i;

		/* the executable is the address space's: the process's own */
		for (i = 0; i < ARRAY_SIZE(links) - (c->tid ? 1 : 0); i++) {
			rc = check_link(c, links[i].name, links[i].use, -1);
			if (rc)
				return rc;
		}
	}
	if (!files)
		return 0;
	snprintf(path, sizeof(path), "%s/fd", c->dir);
	dfd = openat(c->procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return errno == EACCES ? -EACCES : 0;
	/*
	 * getdents64 into the collector's buffer, not readdir: opendir()
	 * allocates 32 KiB and checks the descriptor with fcntl(), for every
	 * process.
	 */
	while (!rc) {
		ssize_t n = getdents64(dfd, c->dents, sizeof(c->dents));
		ssize_t off;

		if (n <= 0)
			break;
		for (off = 0; off < n && !rc; off += de->d_reclen) {
			char name[NAME_MAX + 8];

			de = (struct dirent64 *)(c->dents + off);
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			snprintf(name, sizeof(name), "fd/%s", de->d_name);
			rc = check_link(c, name, DG_USE_FD, atoi(de->d_name));
		}
	}
	close(dfd);
	return rc;
}

/* Read the uses of c->dir: "PID" for the process, or one of its threads. */
static void set_task(struct dg_collector *c, pid_t tid)
{
	c->tid = tid;
	if (tid)
		snprintf(c->dir, sizeof(c->dir), "%d/task/%d", c->pid, tid);
	else
		snprintf(c->dir, sizeof(c->dir), "%d", c->pid);
}

static int scan_maps(struct dg_collector *c)
{
	char path[64];
	int rc = -ENOTTY;

	snprintf(path, sizeof(path), "%s/maps", c->dir);
	c->mapsfd = openat(c->procfd, path, O_RDONLY | O_CLOEXEC);
	if (c->mapsfd < 0)
		return -errno;
	c->maps_empty = true;
	if (c->use_procmap_query && !c->no_procmap_query)
		rc = scan_maps_query(c);
	if (rc == -ENOTTY)
		rc = scan_maps_text(c);
	close(c->mapsfd);
	c->mapsfd = -1;
	return rc;
}

/* How many threads the process has: its task directory links one each. */
static unsigned int nr_threads(struct dg_collector *c)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "%d/task", c->pid);
	if (fstatat(c->procfd, path, &st, 0) < 0 || st.st_nlink < 3)
		return 1;
	return (unsigned int)st.st_nlink - 2;
}

/* kcmp(2): do @a and @b share @type (KCMP_FS, KCMP_FILES)?  Unknown: no. */
static bool shares(pid_t a, pid_t b, int type)
{
	return syscall(SYS_kcmp, a, b, type, 0, 0) == 0;
}

#define MAX_TASK_KINDS 32

/*
 * The threads of a multi-threaded process, where their view differs from
 * the leader's: /proc/PID shows only the thread-group leader.  A thread
 * that unshared its fs context (CLONE_FS) has a cwd and root of its own,
 * one that unshared its fd table (CLONE_FILES) descriptors of its own;
 * after the leader called pthread_exit(), its maps read empty while the
 * others still map.  kcmp(2) tells which threads share with the leader,
 * or with a thread already read, so each table is read once.
 */
static int scan_threads(struct dg_collector *c, bool links)
{
	pid_t pid = c->pid, fs_seen[MAX_TASK_KINDS], files_seen[MAX_TASK_KINDS];
	size_t nfs = 0, nfiles = 0, i;
	bool maps_done = !c->maps_empty;
	char path[64];
	struct dirent *de;
	int rc = 0, dfd;
	DIR *dir;

	snprintf(path, sizeof(path), "%d/task", pid);
	dfd = openat(c->procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return 0;
	dir = fdopendir(dfd);
	if (!dir) {
		close(dfd);
		return 0;
	}
	fs_seen[nfs++] = pid;
	files_seen[nfiles++] = pid;
	while (!rc && (de = readdir(dir))) {
		pid_t tid = (pid_t)atoi(de->d_name);
		bool new_fs = links, new_files = links || c->need_fds;

		if (tid <= 0 || tid == pid)
			continue;
		for (i = 0; new_fs && i < nfs; i++)
			if (shares(fs_seen[i], tid, KCMP_FS))
				new_fs = false;
		for (i = 0; new_files && i < nfiles; i++)
			if (shares(files_seen[i], tid, KCMP_FILES))
				new_files = false;
		if (!maps_done || new_fs || new_files)
			set_task(c, tid);
		if (!maps_done) {
			/* the leader is gone: a live thread shows the mm */
			rc = scan_maps(c);
			if (rc == -ENOENT || rc == -ESRCH)
				rc = 0;
			maps_done = !rc && !c->maps_empty;
		}
		if (!rc && (new_fs || new_files))
			rc = scan_links(c, new_fs, new_files);
		if (new_fs && nfs < MAX_TASK_KINDS)
			fs_seen[nfs++] = tid;
		if (new_files && nfiles < MAX_TASK_KINDS)
			files_seen[nfiles++] = tid;
	}
	closedir(dir);
	set_task(c, 0);
	return rc == -ENOENT || rc == -ESRCH ? 0 : rc;
}

/*
 * The kernel's hints that pages of the process cannot move: VmPin, and
 * the descriptors through which it pins pages for a long time (io_uring
 * registered buffers, vfio DMA mappings).  Only where it has pages there.
 */
static void pin_hints(struct dg_collector *c, struct dg_user *first)
{
	char path[64], target[128], hint[96] = "", line[256];
	uint64_t pin_kb = 0;
	struct dirent *de;
	struct dg_user *u;
	size_t len = 0;
	FILE *f;
	DIR *d;
	int dfd;

	snprintf(path, sizeof(path), "%d/status", c->pid);
	dfd = openat(c->procfd, path, O_RDONLY | O_CLOEXEC);
	if (dfd >= 0 && (f = fdopen(dfd, "r"))) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "VmPin: %" SCNu64 " kB", &pin_kb) == 1)
				break;
		fclose(f);
	} else if (dfd >= 0) {
		close(dfd);
	}
	snprintf(path, sizeof(path), "%d/fd", c->pid);
	dfd = openat(c->procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d && dfd >= 0)
		close(dfd);
	while (d && (de = readdir(d))) {
		const char *kind = NULL;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		if (!strcmp(target, "anon_inode:[io_uring]"))
			kind = "io_uring";
		else if (!strncmp(target, "/dev/vfio/", 10) ||
			 !strcmp(target, "anon_inode:[vfio-device]"))
			kind = "vfio";
		if (kind && len < sizeof(hint))
			len += (size_t)snprintf(hint + len, sizeof(hint) - len, "%s%s fd %s",
						len ? ", " : "", kind, de->d_name);
	}
	if (d)
		closedir(d);
	for (u = first; u; u = u->next) {
		u->vm_pin_kb = pin_kb;
		snprintf(u->pin_hint, sizeof(u->pin_hint), "%s", hint);
	}
}

/*
 * A kmem target: the process's mappings with pages on the node, or whose
 * policy binds them to it alone (they would allocate there), from
 * /proc/PID/numa_maps.  Threads share the mappings, so the process is
 * read once.
 */
static int scan_numa(struct dg_collector *c)
{
	struct dg_user **tail = c->res->users_tail;
	unsigned int node = c->res->target->kmem->node;
	struct dg_user bound = { .use = DG_USE_NODE, .fd = -1 };
	char path[64], *line, *next;
	unsigned int lineno = 0, added = 0;
	ssize_t len;
	int rc = 0;

	snprintf(path, sizeof(path), "%d/numa_maps", c->pid);
	c->mapsfd = openat(c->procfd, path, O_RDONLY | O_CLOEXEC);
	if (c->mapsfd < 0)
		return -errno;
	len = read_all(c);
	close(c->mapsfd);
	c->mapsfd = -1;
	if (len < 0)
		return (int)len;
	for (line = c->buf; line && *line && !rc; line = next) {
		struct dg_numa_maps_entry e;
		size_t n;

		lineno++;
		next = strchr(line, '\n');
		n = next ? (size_t)(next - line) : strlen(line);
		if (next)
			next++;
		rc = dg_parse_numa_maps_line(line, n, node, &e);
		if (rc) {
			/* what we cannot read may hold pages there: say so */
			if (!c->count_only)
				dg_result_incomplete(
					c->res, "%d: numa_maps line %u not understood: %.*s",
					c->pid, lineno, (int)DG_MIN(n, (size_t)80), line);
			rc = 0;
			continue;
		}
		if (e.node_pages) {
			struct dg_user u = { .use = DG_USE_NODE, .fd = -1 };

			u.vm_start = e.start;
			u.node_bytes = e.node_pages * e.page_kb * 1024;
			u.bound = dg_numa_maps_binds_to(&e, node);
			snprintf(u.policy, sizeof(u.policy), "%s", e.policy);
			rc = add_user(c, &u, NULL);
			added++;
		} else if (!bound.bound && dg_numa_maps_binds_to(&e, node)) {
			bound.vm_start = e.start;
			bound.bound = true;
			snprintf(bound.policy, sizeof(bound.policy), "%s", e.policy);
		}
	}
	/*
	 * Bound to the node alone with no page there yet: a user all the
	 * same, since all it will ever get is there.  Once, not per mapping.
	 */
	if (!rc && !added && bound.bound)
		rc = add_user(c, &bound, NULL);
	if (!rc && !c->count_only && *tail)
		pin_hints(c, *tail);
	return rc;
}

static int scan_process(struct dg_collector *c, pid_t pid)
{
	bool links = c->whole;
	int rc;

	c->pid = pid;
	c->have_comm = false;
	c->have_root = false;
	set_task(c, 0);
	if (c->res->target->kmem) {
		rc = scan_numa(c);
		goto out;
	}
	rc = scan_maps(c);
	if (!rc && (links || c->need_fds))
		rc = scan_links(c, links, true);
	/*
	 * Threads matter for what they may have apart: fds, cwd and root
	 * (when those are looked at), and a mm when the leader's reads
	 * empty.  A range query of a process with mappings has nothing to
	 * learn there, and its threads are not even counted (one stat of a
	 * process less, thousands a query).
	 */
	if (!rc && (links || c->need_fds || c->maps_empty) && nr_threads(c) > 1)
		rc = scan_threads(c, links);
out:
	switch (rc) {
	case 0:
	case SCAN_ENOUGH:
		return 0;
	case -ENOENT:
	case -ESRCH:
		c->vanished++;
		return c->count_only ? -ESRCH : 0;
	case -EACCES:
	case -EPERM:
		/* one list, summed up once by the caller, not a line each */
		c->denied++;
		if (c->count_only)
			return rc;
		return dg_result_add_unreadable(c->res, pid, proc_comm(c), rc);
	default:
		return rc;
	}
}

static int build_wants(struct dg_collector *c)
{
	struct dg_owner *o;
	size_t n = 0;

	dg_owner_foreach(c->res, o)
		if (o->type == DG_OWNER_FILE)
			n++;
	c->wants = calloc(n ? n : 1, sizeof(*c->wants));
	if (!c->wants)
		return -ENOMEM;
	dg_owner_foreach(c->res, o) {
		struct want *w;

		/* the extent map and xattrs are never mapped by processes */
		if (o->type != DG_OWNER_FILE ||
		    (o->flags & (DG_OWNER_ATTR_FORK | DG_OWNER_EXTENT_MAP)))
			continue;
		w = &c->wants[c->nr_wants++];
		w->dev = o->fs->devnum;
		w->ino = o->ino;
		w->start = o->file_offset & c->page_mask;
		w->end = (o->file_offset + o->length + ~c->page_mask) & c->page_mask;
		w->owner = o;
		if (o->flags & DG_OWNER_UNLINKED)
			c->need_fds = true;
	}
	qsort(c->wants, c->nr_wants, sizeof(*c->wants), cmp_want);
	return 0;
}

/*
 * The owner of (fs, ino) among the owners made so far: through @by_ino
 * (the first owner of each inode number), or, should two filesystems
 * share the number, the list.
 */
static struct dg_owner *owner_of(struct dg_result *res, struct dg_u64map *by_ino, struct dg_fs *fs,
				 uint64_t ino)
{
	struct dg_owner *o = dg_u64map_get(by_ino, ino);

	if (!o || o->fs == fs)
		return o;
	dg_owner_foreach(res, o)
		if (o->fs == fs && o->ino == ino)
			return o;
	return NULL;
}

/*
 * Does @path, as a user's /proc link gave it, still name inode @ino of
 * @fs?  Looked up without following any symlink (the kernel's own links
 * have none), and checked by device and inode.  A whole-device answer
 * names its files this way: one lookup per file in use, where a walk of
 * the filesystem costs in proportion to all its files.
 */
static bool path_names(const char *path, const struct dg_fs *fs, uint64_t ino)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st;
	bool ok;
	int fd;

	if (!path || path[0] != '/')
		return false;
	fd = (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
	if (fd < 0)
		return false;
	ok = !fstat(fd, &st) && st.st_dev == fs->devnum && st.st_ino == ino;
	close(fd);
	return ok;
}

/* Whole device: each file in use becomes an owner, for paths and counts. */
static int owners_from_users(struct dg_result *res)
{
	struct dg_u64map by_ino = { 0 };
	struct dg_user *u;
	int rc = 0;

	dg_user_foreach(res, u) {
		struct dg_owner *o, tmpl = { .type = DG_OWNER_FILE, .flags = DG_OWNER_NO_RANGE };

		if (u->use == DG_USE_DEVICE || u->use == DG_USE_NODE)
			continue;

		o = owner_of(res, &by_ino, u->fs, u->ino);
		if (!o) {
			tmpl.ino = u->ino;
			tmpl.path = u->fs->dax_ino ? u->fs->devname : NULL;
			if (u->use == DG_USE_CWD || u->use == DG_USE_ROOT)
				tmpl.flags |= DG_OWNER_DIRECTORY;
			o = dg_result_add_owner(res, u->fs, &tmpl);
			if (!o) {
				rc = -ENOMEM;
				break;
			}
			if (!dg_u64map_get(&by_ino, u->ino)) {
				rc = dg_u64map_put(&by_ino, u->ino, o);
				if (rc)
					break;
			}
		}
		if (u->unlinked)
			o->flags |= DG_OWNER_UNLINKED;
		u->owner = o;
		/*
		 * Named only when asked: each check is a lookup of the path
		 * and a stat, thousands on a removal that names nobody's
		 * files, run beside the exits of the users it killed.
		 */
		if (!o->path && !res->no_paths && !u->unlinked && !u->fs->dax_ino &&
		    path_names(u->our_path ? u->our_path : u->path, u->fs, u->ino)) {
			o->path = strdup(u->our_path ? u->our_path : u->path);
			if (!o->path) {
				rc = -ENOMEM;
				break;
			}
		}
	}
	dg_u64map_free(&by_ino);
	return rc;
}

/*
 * Which way to read mappings.  PROCMAP_QUERY (6.11+) spares the kernel
 * formatting every line and us parsing it, but it costs one ioctl per
 * file-backed mapping; the text costs one read for all of them.  Which is
 * cheaper depends on the machine: measured on 2,000 processes, the text
 * took 57-63 ms against 75 ms for the queries on one virtual machine, and
 * 58-66 ms against 44-49 ms on another with the same kernel
 * (doc/benchmarks.md).  So, as the kernel picks its RAID-6 and XOR
 * routines at boot, daxguard times both ways once, on its own mappings,
 * and keeps the faster, for as long as the context lives.  Our own
 * process has a larger file-backed share of mappings than most (every
 * line but the heap, stack and vdso), which leans the choice towards the
 * text.  DAXGUARD_MAPS=text or =query decides instead.
 */
enum maps_way { MAPS_UNTIMED, MAPS_TEXT, MAPS_QUERY };

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Time a text read and a query pass of our own maps, best of three. */
static enum maps_way time_maps_ways(struct dg_ctx *ctx)
{
	double best_text = 1e12, best_query = 1e12;
	size_t size = 65536;
	char *buf = malloc(size);
	int i, fd = -1;

	if (buf)
		fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
	for (i = 0; fd >= 0 && i < 3; i++) {
		struct procmap_query q;
		uint64_t addr = 0;
		double t0, t1, t2;
		ssize_t n;

		t0 = now_us();
		if (lseek(fd, 0, SEEK_SET) < 0)
			break;
		while ((n = read(fd, buf, size)) > 0)
			;
		t1 = now_us();
		while (next_file_vma(fd, addr, &q) == 0)
			addr = q.vma_end;
		t2 = now_us();
		if (errno != ENOENT || n < 0)
			break; /* no PROCMAP_QUERY here (ENOTTY), or unreadable */
		best_text = DG_MIN(best_text, t1 - t0);
		best_query = DG_MIN(best_query, t2 - t1);
	}
	if (fd >= 0)
		close(fd);
	free(buf);
	if (i < 3) {
		dbg(ctx, "mappings read as text (no PROCMAP_QUERY here)\n");
		return MAPS_TEXT;
	}
	dbg(ctx, "mappings read as %s (our own maps: %.0f us as text, %.0f us by PROCMAP_QUERY)\n",
	    best_query < best_text ? "queries" : "text", best_text, best_query);
	return best_query < best_text ? MAPS_QUERY : MAPS_TEXT;
}

/* How this context reads mappings: timed on first use, kept after. */
static enum maps_way dg_maps_way(struct dg_ctx *ctx)
{
	const char *env = getenv("DAXGUARD_MAPS");

	if (env && !strcmp(env, "query"))
		return MAPS_QUERY;
	if (env && !strcmp(env, "text"))
		return MAPS_TEXT;
	if (ctx->maps_way == MAPS_UNTIMED)
		ctx->maps_way = time_maps_ways(ctx);
	return ctx->maps_way;
}

/*
 * DAXGUARD_MAPS=text never queries, not even for the re-check of one
 * mapping before a signal (dg_collector_recheck): what a kernel before
 * 6.11 does, for the tests.
 */
static bool dg_no_procmap_query(void)
{
	const char *env = getenv("DAXGUARD_MAPS");

	return env && !strcmp(env, "text");
}

int dg_collector_new(struct dg_result *res, bool count_only, struct dg_collector **out)
{
	struct dg_collector *c = calloc(1, sizeof(*c));
	int rc;

	if (!c)
		return -ENOMEM;
	c->res = res;
	c->whole = res->whole;
	c->count_only = count_only;
	c->mapsfd = -1;
	c->use_procmap_query = dg_maps_way(res->target->ctx) == MAPS_QUERY;
	c->no_procmap_query = dg_no_procmap_query();
	c->page_mask = ~((uint64_t)sysconf(_SC_PAGESIZE) - 1);
	c->procfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c->procfd < 0) {
		rc = -errno;
		free(c);
		return rc;
	}
	if (!c->whole) {
		rc = build_wants(c);
		if (rc) {
			dg_collector_free(c);
			return rc;
		}
	}
	*out = c;
	return 0;
}

void dg_collector_free(struct dg_collector *c)
{
	if (!c)
		return;
	if (c->procfd >= 0)
		close(c->procfd);
	free(c->wants);
	free(c->buf);
	free(c);
}

int dg_collector_scan(struct dg_collector *c, pid_t pid)
{
	int rc;

	c->count = 0;
	if (!c->whole && !c->nr_wants)
		return 0; /* nothing a process could map */
	rc = scan_process(c, pid);
	return rc < 0 ? rc : (int)c->count;
}

/*
 * Is the mapping found at u->vm_start still one of ours?  One query for
 * that address, matched the way the scan matches (the same file, pages of
 * the range in question): the process may have unmapped it since, or put
 * something else there.
 */
static int recheck_map(struct dg_collector *c, const struct dg_user *u)
{
	struct procmap_query q = {
		.size = sizeof(q),
		.query_flags = PROCMAP_QUERY_FILE_BACKED_VMA,
		.query_addr = u->vm_start,
	};
	char path[64];
	int rc = 0;

	if (c->no_procmap_query)
		return -ENOTTY;
	snprintf(path, sizeof(path), "%s/maps", c->dir);
	c->mapsfd = openat(c->procfd, path, O_RDONLY | O_CLOEXEC);
	if (c->mapsfd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	if (ioctl(c->mapsfd, PROCMAP_QUERY, &q) == 0) {
		struct vma v = vma_of_query(&q);

		rc = match_vma(c, &v, NULL, false);
	} else if (errno == ENOTTY || errno == EINVAL) {
		c->no_procmap_query = true;
		rc = -ENOTTY;
	} else if (errno != ENOENT) {
		/* ENOENT: nothing mapped there any more */
		rc = -errno;
	}
	close(c->mapsfd);
	c->mapsfd = -1;
	return rc;
}

int dg_collector_recheck(struct dg_collector *c, const struct dg_user *u)
{
	char name[32];
	int rc;

	if (!c->count_only)
		return -EINVAL;
	c->count = 0;
	c->pid = u->pid;
	c->have_comm = false;
	c->have_root = false;
	/* a use found through a thread is looked for there again */
	set_task(c, u->tid);
	switch (u->use) {
	case DG_USE_MAP:
		rc = recheck_map(c, u);
		break;
	case DG_USE_FD:
	case DG_USE_DEVICE:
		snprintf(name, sizeof(name), "fd/%d", u->fd);
		rc = check_link(c, name, DG_USE_FD, u->fd);
		break;
	case DG_USE_CWD:
		rc = check_link(c, "cwd", DG_USE_CWD, -1);
		break;
	case DG_USE_ROOT:
		rc = check_link(c, "root", DG_USE_ROOT, -1);
		break;
	case DG_USE_EXE:
		rc = check_link(c, "exe", DG_USE_EXE, -1);
		break;
	case DG_USE_NODE:
		rc = c->res->target->kmem ? scan_numa(c) : -EINVAL;
		break;
	default:
		rc = -ENOTTY;
		break;
	}
	return rc < 0 ? rc : c->count > 0;
}

/*
 * The scan is one open and a read or two per process, and the kernel
 * formats every mapping: with thousands of processes it is the whole cost
 * of a query.  Processes are independent, so the list is cut into one
 * part per CPU (up to four), each scanned by its own thread into a result
 * of its own, then joined in /proc order: the same answer, sooner.
 */
#define SCAN_MAX_THREADS 4
#define SCAN_MIN_PER_THREAD 256

struct scan_part {
	struct dg_result shadow; /* users and warnings of this part */
	struct dg_collector *c;
	const pid_t *pids;
	size_t nr;
	int rc;
	const struct dg_collect_hook *hook;
};

/*
 * One process, pinned first when a hook wants to act on it: what the scan
 * then reads from /proc is about the pinned process if a signal to its
 * pidfd succeeds (kill.c), so the scan is the check before the signal.
 */
static int scan_pinned(struct scan_part *p, pid_t pid)
{
	struct dg_user **tail = p->shadow.users_tail;
	bool maps = false;
	struct dg_user *u;
	int pidfd, rc;

	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0)
		return 0; /* gone already: it uses nothing */
	rc = scan_process(p->c, pid);
	if (rc || !*tail) {
		close(pidfd);
		return rc;
	}
	for (u = *tail; u; u = u->next)
		maps |= u->use == DG_USE_MAP;
	/* the hook takes the pidfd */
	p->hook->fn(p->hook->arg, pid, pidfd, maps);
	return 0;
}

static void *scan_part_fn(void *arg)
{
	struct scan_part *p = arg;
	size_t i;

	for (i = 0; i < p->nr && !p->rc; i++)
		p->rc = p->hook ? scan_pinned(p, p->pids[i]) : scan_process(p->c, p->pids[i]);
	return NULL;
}

static int list_pids(struct dg_result *res, pid_t **out, size_t *nr)
{
	pid_t self = getpid(), *pids = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *proc = opendir("/proc");

	if (!proc)
		return -errno;
	while ((de = readdir(proc))) {
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)atoi(de->d_name);
		if (pid == self || dg_ctx_is_helper(res->target->ctx, pid))
			continue;
		if (n == cap) {
			pid_t *np = realloc(pids, (cap = cap ? cap * 2 : 1024) * sizeof(*np));

			if (!np) {
				free(pids);
				closedir(proc);
				return -ENOMEM;
			}
			pids = np;
		}
		pids[n++] = pid;
	}
	closedir(proc);
	*out = pids;
	*nr = n;
	return 0;
}

/* Move a part's users and warnings to the end of @res. */
static void join_part(struct dg_result *res, struct scan_part *p)
{
	struct dg_user *u;

	for (u = p->shadow.users; u; u = u->next)
		u->result = res;
	if (p->shadow.users) {
		*res->users_tail = p->shadow.users;
		res->users_tail = p->shadow.users_tail;
	}
	if (p->shadow.warnings) {
		*res->warnings_tail = p->shadow.warnings;
		res->warnings_tail = p->shadow.warnings_tail;
		res->nr_warnings += p->shadow.nr_warnings;
	}
	/* what a part could not tell (a link it could not follow) */
	res->incomplete |= p->shadow.incomplete;
	if (p->shadow.unreadable) {
		*res->unreadable_tail = p->shadow.unreadable;
		res->unreadable_tail = p->shadow.unreadable_tail;
		res->nr_unreadable += p->shadow.nr_unreadable;
	}
	p->shadow.users = NULL;
	p->shadow.warnings = NULL;
	p->shadow.unreadable = NULL;
}

/*
 * Whether this process may read every process's maps and fds (ptrace
 * read access: CAP_SYS_PTRACE).  Without it, other users' processes are
 * unreadable and the answer incomplete; with it, a process that still
 * cannot be read (pid 1 in some sandboxes) is beyond what anyone can see.
 */
static bool may_read_all(void)
{
	const int caps[] = { CAP_SYS_PTRACE };

	return dg_have_caps(caps, ARRAY_SIZE(caps));
}

/*
 * A scan that signals as it finds runs beside the exits of the users it
 * signalled, on the same CPUs: at the same priority it gets a share like
 * any one of the dying, and the last users are found, and signalled, only
 * once the first are done dying.  At the highest priority the scan keeps
 * ahead of them and they all die at once, sooner (bench/remove.sh).  The
 * threads of the scan inherit it; the caller's priority comes back after.
 * Returns the priority to restore, or INT_MIN for none (not permitted).
 */
static int scan_priority_raise(void)
{
	int old;

	errno = 0;
	old = getpriority(PRIO_PROCESS, 0);
	if ((old == -1 && errno) || old <= -20)
		return INT_MIN;
	if (setpriority(PRIO_PROCESS, 0, -20) < 0)
		return INT_MIN;
	return old;
}

static void scan_priority_restore(int old)
{
	if (old != INT_MIN)
		setpriority(PRIO_PROCESS, 0, old);
}

int dg_users_collect(struct dg_result *res, const struct dg_collect_hook *hook)
{
	int prio = INT_MIN;
	struct scan_part parts[SCAN_MAX_THREADS];
	unsigned int vanished = 0;
	size_t nr_pids = 0, nparts, i, per;
	pid_t *pids = NULL;
	int rc;

	memset(parts, 0, sizeof(parts));
	rc = list_pids(res, &pids, &nr_pids);
	if (rc)
		return rc;
	nparts = dg_parts_count(nr_pids, SCAN_MIN_PER_THREAD, SCAN_MAX_THREADS);
	per = (nr_pids + nparts - 1) / nparts;
	for (i = 0; i < nparts; i++) {
		struct scan_part *p = &parts[i];

		p->shadow = *res;
		p->shadow.users = NULL;
		p->shadow.users_tail = &p->shadow.users;
		p->shadow.warnings = NULL;
		p->shadow.warnings_tail = &p->shadow.warnings;
		p->shadow.nr_warnings = 0;
		p->shadow.unreadable = NULL;
		p->shadow.unreadable_tail = &p->shadow.unreadable;
		p->shadow.nr_unreadable = 0;
		rc = dg_collector_new(&p->shadow, false, &p->c);
		if (rc)
			goto out;
		p->pids = pids + DG_MIN(i * per, nr_pids);
		p->nr = DG_MIN(per, nr_pids - DG_MIN(i * per, nr_pids));
		p->hook = hook;
		/*
		 * Signalled as found, a process need not be read to the end:
		 * its first use decides, and the rest of its maps, fds,
		 * cwd, root and threads (half the reads of a process that
		 * maps a file) would only delay the signal and take CPU from
		 * the exits of those already signalled.
		 */
		p->c->first_only = hook && p->c->whole;
		if (!p->c->whole && !p->c->nr_wants)
			goto out; /* nothing a process could map */
	}
	if (hook)
		prio = scan_priority_raise();
	dg_run_parts(parts, sizeof(parts[0]), nparts, scan_part_fn);
	scan_priority_restore(prio);
	for (i = 0; i < nparts; i++) {
		join_part(res, &parts[i]);
		vanished += parts[i].c->vanished;
		if (!rc)
			rc = parts[i].rc;
	}
	/* a process that exited during the scan uses nothing: no warning */
	if (vanished)
		dbg(res->target->ctx, "%u process%s exited during the scan\n", vanished,
		    vanished == 1 ? "" : "es");
	if (res->nr_unreadable && !may_read_all())
		dg_result_incomplete(res,
				     "not root: other users' processes cannot be seen (%zu not "
				     "read); run as root for the whole answer",
				     res->nr_unreadable);
	if (!rc && res->whole)
		rc = owners_from_users(res);
out:
	for (i = 0; i < nparts; i++) {
		join_part(res, &parts[i]); /* nothing is lost on an error */
		dg_collector_free(parts[i].c);
	}
	free(pids);
	return rc;
}
