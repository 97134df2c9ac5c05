/* SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef _LIBDAXGUARD_PRIVATE_H_
#define _LIBDAXGUARD_PRIVATE_H_

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>
#include <sys/types.h>

#include "libdaxguard.h"
#include "util/util.h"

#define DG_EXPORT __attribute__((visibility("default")))

struct dg_ctx {
	int refcount;
	dg_log_fn log_fn;
	int log_priority;
	void *userdata;
	char *error;
};

void dg_log(struct dg_ctx *ctx, int priority, const char *file, int line,
	    const char *fn, const char *format, ...)
	__attribute__((format(printf, 6, 7)));

#define dg_log_cond(ctx, prio, ...)                                          \
	do {                                                                 \
		if ((ctx)->log_priority >= (prio))                           \
			dg_log(ctx, prio, __FILE__, __LINE__, __func__,      \
			       __VA_ARGS__);                                 \
	} while (0)
#define dbg(ctx, ...) dg_log_cond(ctx, LOG_DEBUG, __VA_ARGS__)
#define info(ctx, ...) dg_log_cond(ctx, LOG_INFO, __VA_ARGS__)
#define err(ctx, ...) dg_log_cond(ctx, LOG_ERR, __VA_ARGS__)

/*
 * Record the one-line explanation of a failure (returned by dg_get_error)
 * and return @rc, so callers can write "return dg_fail(ctx, -ENOENT, ...)".
 */
int dg_fail(struct dg_ctx *ctx, int rc, const char *format, ...)
	__attribute__((format(printf, 3, 4)));
void dg_clear_error(struct dg_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Topology */

struct dg_mount {
	struct dg_mount *next;
	struct dg_fs *fs;
	char *target;
	char *root;
	char *options;
	uint64_t mntns;
	pid_t ns_pid;
	bool local;
};

struct dg_holder_ops;

struct dg_fs {
	struct dg_fs *next;
	struct dg_target *target;
	char *devname;
	dev_t devnum;
	char *type;
	uint64_t start; /* on the target */
	uint64_t size;
	struct dg_mount *mounts;
	/*
	 * A directory in our own namespace where the root of the filesystem
	 * is visible (a local mount whose root is "/"), or NULL: the holder
	 * backends need it for ioctls and for paths.
	 */
	const char *root_path;
	const struct dg_holder_ops *holder;
};

struct dg_target {
	struct dg_ctx *ctx;
	char *devname;
	dev_t devnum;
	uint64_t size;
	enum dg_target_kind kind;
	char *backing_file;
	struct dg_fs *fs_list;
};

/* ------------------------------------------------------------------ */
/* Results */

struct dg_owner {
	struct dg_owner *next;
	struct dg_result *result;
	struct dg_fs *fs;
	enum dg_owner_type type;
	unsigned int flags;
	uint64_t offset; /* on the filesystem (fs-relative) */
	uint64_t length;
	uint64_t ino;
	uint64_t file_offset;
	const char *metadata;
	char *path;
};

struct dg_user {
	struct dg_user *next;
	struct dg_result *result;
	pid_t pid;
	char *comm;
	enum dg_use use;
	unsigned int flags;
	struct dg_fs *fs;
	uint64_t ino;
	char *path;
	struct dg_owner *owner;
	int fd;
	uint64_t vm_start, vm_end, vm_pgoff;
	uint64_t file_offset, file_length;
};

struct dg_warning {
	struct dg_warning *next;
	char text[];
};

struct dg_result {
	struct dg_target *target;
	struct dg_range *ranges;
	size_t nr_ranges;
	bool whole;
	struct dg_owner *owners, **owners_tail;
	size_t nr_owners;
	struct dg_user *users, **users_tail;
	struct dg_warning *warnings, **warnings_tail;
	size_t nr_warnings;
};

struct dg_owner *dg_result_add_owner(struct dg_result *res, struct dg_fs *fs,
				     const struct dg_owner *tmpl);
struct dg_user *dg_result_add_user(struct dg_result *res,
				   const struct dg_user *tmpl, const char *comm,
				   const char *path);
void dg_result_warn(struct dg_result *res, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
void dg_result_sort_owners(struct dg_result *res);

/* ------------------------------------------------------------------ */
/* Holder backends: one per filesystem kind, behind one interface */

/* A range on one filesystem, fs-relative. */
struct dg_fs_range {
	uint64_t offset;
	uint64_t length;
};

struct dg_holder_ops {
	const char *name;
	/*
	 * Add to @res an owner for every part of @ranges (sorted, not
	 * overlapping) of @fs.  @rootfd is an O_RDONLY descriptor of the
	 * filesystem's root directory.
	 */
	int (*rmap)(struct dg_fs *fs, int rootfd,
		    const struct dg_fs_range *ranges, size_t nr,
		    struct dg_result *res);
};

extern const struct dg_holder_ops dg_holder_xfs_rmapbt;
extern const struct dg_holder_ops dg_holder_fiemap;

const struct dg_holder_ops *dg_holder_probe(struct dg_fs *fs, int rootfd);

/* fsmap.c: GETFSMAP over ranges; @files false drops file-owned records */
int dg_fsmap_query(struct dg_fs *fs, int rootfd,
		   const struct dg_fs_range *ranges, size_t nr, bool files,
		   struct dg_result *res);

/*
 * walk.c: call @fn for every entry under @rootfd on the same filesystem,
 * with its path relative to the root ("/a/b").  @fn returns 0 to go on
 * (and descend into a directory), 1 to skip a directory, or a negative
 * errno to stop the walk, which then returns it (-ECANCELED: "done").
 */
typedef int (*dg_walk_fn)(void *arg, int dirfd, const char *name,
			  const char *relpath, size_t len, unsigned char type,
			  uint64_t ino);
int dg_walk(int rootfd, dg_walk_fn fn, void *arg);

/* paths.c: fill in owner paths, one directory walk at most */
int dg_paths_resolve(struct dg_fs *fs, int rootfd, struct dg_result *res);

/* users.c: collect processes */
int dg_users_collect(struct dg_result *res);

/* maps.c: one line of /proc/PID/maps */
struct dg_maps_entry {
	uint64_t start, end, offset, ino;
	dev_t dev;
	unsigned int flags; /* DG_USER_* */
	const char *path; /* points into the line */
};
int dg_parse_maps_line(const char *line, struct dg_maps_entry *e);

#endif /* _LIBDAXGUARD_PRIVATE_H_ */
