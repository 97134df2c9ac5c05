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
	dg_stage_fn stage_fn;
	/*
	 * Our own helper processes (freeze guardians): they hold the
	 * filesystem open on purpose and are never users.
	 */
	pid_t helpers[16];
	unsigned int nr_helpers;
	/* lock.c: the device locks held while a flow acts */
	int lock_fds[16];
	unsigned int nr_lock_fds;
	/* users.c: how mappings are read here, timed once (0: not yet) */
	int maps_way;
};

/*
 * lock.c: lock every device a flow on @t touches against other daxguards
 * (0, or -EBUSY naming the holder), and let go.  Freeze guardians keep
 * the locks while they live.
 */
int dg_lock_target(struct dg_target *t);
void dg_unlock_target(struct dg_target *t);

void dg_ctx_add_helper(struct dg_ctx *ctx, pid_t pid);
void dg_ctx_del_helper(struct dg_ctx *ctx, pid_t pid);
bool dg_ctx_is_helper(struct dg_ctx *ctx, pid_t pid);

void dg_log(struct dg_ctx *ctx, int priority, const char *file, int line, const char *fn,
	    const char *format, ...) __attribute__((format(printf, 6, 7)));

#define dg_log_cond(ctx, prio, ...)                                                   \
	do {                                                                          \
		if ((ctx)->log_priority >= (prio))                                    \
			dg_log(ctx, prio, __FILE__, __LINE__, __func__, __VA_ARGS__); \
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

/*
 * parallel.c: how many parts (one per CPU, at least @min_per_part items
 * each, at most @max_parts), and running @fn on each of @nr parts of
 * @size bytes in @parts, part 0 in this thread.
 */
#define DG_MAX_PARTS 64
size_t dg_parts_count(size_t items, size_t min_per_part, size_t max_parts);
void dg_run_parts(void *parts, size_t size, size_t nr, void *(*fn)(void *));

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
	uint64_t mnt_id; /* mountinfo's first field; statx STATX_MNT_ID */
};

/*
 * mount.c: the root of mount @m as a descriptor (O_DIRECTORY | @flags),
 * checked to be that very mount, not what its path leads to now; -ESTALE
 * when the path leads elsewhere, -ESRCH when the namespace is gone.
 */
int dg_mount_open(const struct dg_mount *m, int flags);
/* unmount @m in its own namespace, by a name checked to be it */
int dg_mount_umount(const struct dg_mount *m);
/* what a failure of the two above means, for a message */
const char *dg_mount_error(int rc);
/* the mount namespace (its inode) of @pid, or 0 */
uint64_t dg_pid_mntns(pid_t pid);

struct dg_holder_ops;

/*
 * Where a filesystem's device lies on the target: [start, start + size)
 * of the target is [base, base + size) of the filesystem's device.  One
 * piece for the target itself or a partition (base 0), one per linear
 * line for a device-mapper device on it.
 */
struct dg_fs_piece {
	uint64_t start, size, base;
};

struct dg_fs {
	struct dg_fs *next;
	struct dg_target *target;
	char *devname;
	dev_t devnum;
	char *type;
	struct dg_fs_piece *pieces; /* sorted by start; at least one */
	size_t nr_pieces;
	bool dm; /* a device-mapper device on the target: removed at release */
	struct dg_mount *mounts;
	/*
	 * A directory in our own namespace where the root of the filesystem
	 * is visible (a local mount whose root is "/"), or NULL: the holder
	 * backends need it for ioctls and for paths.
	 */
	const char *root_path;
	const struct dg_holder_ops *holder;
	/*
	 * device-dax: no filesystem, the device node is the one "file".
	 * devnum is then the node's st_dev (devtmpfs), and only this inode
	 * of it is ours.
	 */
	uint64_t dax_ino;
};

/* ------------------------------------------------------------------ */
/* CXL: topology-cxl.c */

#define DG_CXL_MAX_WAYS 16

struct dg_cxl_region;

/* one interleave position of a region: the endpoint decoder and its memdev */
struct dg_cxl_target {
	struct dg_cxl_region *region;
	unsigned int position;
	char decoder[32]; /* the endpoint decoder: "decoder2.0" */
	char memdev[32]; /* "mem0" */
	char host[64]; /* the memdev's PCI device: "0000:0d:00.0" */
	char mode[16]; /* the decoder's: "pmem", "ram" */
	uint64_t serial;
	bool has_serial;
	uint64_t dpa_start, dpa_size;
};

struct dg_cxl_region {
	struct dg_ctx *ctx;
	char *sysroot; /* "/sys", or a recorded tree */
	char name[32]; /* "region0" */
	char root_decoder[32]; /* "decoder0.0" */
	char uuid[40];
	char mode[16];
	uint64_t resource, size; /* host physical addresses */
	unsigned int ways, granularity;
	bool committed; /* its decoders are committed (commit = 1) */
	bool enabled; /* the cxl_region driver is bound */
	size_t nr_targets;
	struct dg_cxl_target targets[DG_CXL_MAX_WAYS]; /* in interleave order */
};

/* the region named @name below @sysroot: 0, -ENOENT, -EIO, -ENOMEM */
int dg_cxl_region_read(struct dg_ctx *ctx, const char *sysroot, const char *name,
		       struct dg_cxl_region **out);
/* the region whose host address range holds @hpa: 0 or -ENOENT */
int dg_cxl_region_find(struct dg_ctx *ctx, const char *sysroot, uint64_t hpa,
		       struct dg_cxl_region **out);
void dg_cxl_region_free(struct dg_cxl_region *r);
const char *dg_cxl_region_state(const struct dg_cxl_region *r);
const struct dg_cxl_target *dg_cxl_region_memdev(const struct dg_cxl_region *r, const char *memdev);
/* @memdev's mapped DPA ranges, for a message; -ENODEV: no such memdev */
int dg_cxl_memdev_mapped(const char *sysroot, const char *memdev, char *buf, size_t size);
/*
 * @memdev's @dpa as a host physical address in @r, or an error (with
 * dg_fail) that names the memdev and its mapped ranges: -ENODEV unknown
 * memdev, -ENXIO not in @r (@object: what lies on @r, for the message),
 * -ERANGE in no committed decoder, -EBUSY the region is not committed.
 */
int dg_cxl_region_dpa_to_hpa(const struct dg_cxl_region *r, const char *object, const char *memdev,
			     uint64_t dpa, uint64_t *hpa);
/* one of @r's memdevs lies below the sysfs directory @syspath (a PCIe port) */
bool dg_cxl_region_below(const struct dg_cxl_region *r, const char *syspath);
/* the CXL region of @t's physical range, into t->cxl, if there is one */
void dg_target_find_cxl(struct dg_target *t);

struct dg_target {
	struct dg_ctx *ctx;
	struct dg_cxl_region *cxl; /* the CXL region it lies on, or NULL */
	struct dg_kmem *kmem; /* device-dax in system-ram mode, or NULL */
	char *devname;
	dev_t devnum;
	uint64_t size;
	enum dg_target_kind kind;
	char *backing_file;
	char *rmap; /* a backend forced by dg_target_set_rmap(), or NULL */
	bool ns_scanned; /* mounts of every namespace are in the lists */
	uint64_t phys_start, phys_size; /* pmem: the device's physical range */
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
	uint32_t gen; /* the inode's generation, when has_gen */
	bool has_gen;
	uint64_t file_offset;
	const char *metadata;
	char *path;
	int fd; /* open while we act on it (unlinked files), else -1 */
};

struct dg_user {
	struct dg_user *next;
	struct dg_result *result;
	pid_t pid;
	pid_t tid; /* the thread it was seen through, when not the leader */
	bool unlinked; /* the file has no name left (link count 0) */
	char *comm;
	enum dg_use use;
	unsigned int flags;
	struct dg_fs *fs;
	uint64_t ino;
	char *path;
	/* the path as we see it, where the process's root differs from ours */
	char *our_path;
	struct dg_owner *owner;
	int fd;
	uint64_t vm_start, vm_end, vm_pgoff;
	uint64_t file_offset, file_length;
	/* DG_USE_NODE: the mapping's pages on the kmem target's node */
	uint64_t node_bytes;
	char policy[64];
	bool bound; /* its policy allows that node alone */
	uint64_t vm_pin_kb; /* the process's VmPin */
	char pin_hint[96]; /* io_uring or vfio descriptors, or "" */
};

struct dg_warning {
	struct dg_warning *next;
	char text[];
};

/* A process whose /proc could not be read: its uses are unknown. */
struct dg_unreadable {
	struct dg_unreadable *next;
	pid_t pid;
	int error; /* negative errno */
	char comm[64];
};

struct dg_result {
	struct dg_target *target;
	struct dg_range *ranges;
	size_t nr_ranges;
	bool whole;
	bool no_paths; /* DG_WHO_NO_PATHS: owners are not named */
	struct dg_owner *owners, **owners_tail;
	size_t nr_owners;
	struct dg_user *users, **users_tail;
	struct dg_warning *warnings, **warnings_tail;
	size_t nr_warnings;
	struct dg_unreadable *unreadable, **unreadable_tail;
	size_t nr_unreadable;
	/*
	 * something could not be checked that a privileged run could, or a
	 * backend could not look at everything: the owners may miss some
	 */
	bool incomplete;
};

struct dg_owner *dg_result_add_owner(struct dg_result *res, struct dg_fs *fs,
				     const struct dg_owner *tmpl);
struct dg_user *dg_result_add_user(struct dg_result *res, const struct dg_user *tmpl,
				   const char *comm, const char *path, const char *our_path);
void dg_result_warn(struct dg_result *res, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
void dg_result_sort_owners(struct dg_result *res);
int dg_result_add_unreadable(struct dg_result *res, pid_t pid, const char *comm, int error);
/* the answer lacks what this process could not check, and says so */
void dg_result_incomplete(struct dg_result *res, const char *format, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * badblocks.c: dg_read_badblocks() with reads of @chunk bytes (> 0), so
 * that the fuzzer and the unit test can end reads anywhere in a line.
 */
int dg_read_badblocks_chunk(int fd, size_t chunk, struct dg_range **ranges, size_t *nr,
			    size_t *lineno);

/* ------------------------------------------------------------------ */
/* Holder backends: one per filesystem kind, behind one interface */

/* A range on one filesystem, fs-relative. */
struct dg_fs_range {
	uint64_t offset;
	uint64_t length;
};

/*
 * @ranges (on the target, sorted) as ranges of @fs's device, sorted by
 * offset, into @out (room for nr * fs->nr_pieces): how many.
 */
size_t dg_fs_clip(const struct dg_fs *fs, const struct dg_range *ranges, size_t nr,
		  struct dg_fs_range *out);
/* The target offset of @off on @fs's device (outside the target: @off). */
uint64_t dg_fs_to_target(const struct dg_fs *fs, uint64_t off);
/* @fs's device lies on part of [off, off + len) of the target */
bool dg_fs_meets(const struct dg_fs *fs, uint64_t off, uint64_t len);

/* devmapper.c: the linear lines of @dm's table that map onto @lower */
int dg_dm_pieces(dev_t dm, dev_t lower, struct dg_fs_piece **out, size_t *nr);
/*
 * The parameters of a linear line, as the kernel's linear_status() prints
 * them: "MAJ:MIN SECTOR" (the device, and where the line starts on it, in
 * 512-byte sectors).  0, -EINVAL, or -ERANGE for a number too large.
 */
int dg_dm_parse_linear(const char *params, dev_t *dev, uint64_t *sector);
/*
 * One line of a table as dm_get_next_target() gives it (start and length
 * in sectors, the target type and its parameters), against @lower: 1 and
 * @piece for a linear line onto @lower, 0 for a line that does not use
 * @lower, -EOPNOTSUPP for another kind of line that does, -EINVAL for a
 * linear line that does not parse, -ERANGE past 64 bits in bytes.
 */
int dg_dm_line_piece(uint64_t start, uint64_t length, const char *type, const char *params,
		     dev_t lower, struct dg_fs_piece *piece);
int dg_dm_remove(dev_t dm);

struct dg_holder_ops {
	const char *name;
	/*
	 * Add to @res an owner for every part of @ranges (sorted, not
	 * overlapping) of @fs.  @rootfd is an O_RDONLY descriptor of the
	 * filesystem's root directory.
	 */
	int (*rmap)(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges, size_t nr,
		    struct dg_result *res);
};

extern const struct dg_holder_ops dg_holder_xfs_rmapbt;
extern const struct dg_holder_ops dg_holder_fiemap;
extern const struct dg_holder_ops dg_holder_ext4;
extern const struct dg_holder_ops dg_holder_devdax;

/* the backend for @fs: the one forced on the target, or the best one */
int dg_holder_probe(struct dg_fs *fs, int rootfd, const struct dg_holder_ops **ops);

extern const struct dg_holder_ops dg_holder_xfs_bulkstat;

/* holder.c: the index of the first of @r (sorted) that ends after @pos */
size_t dg_fs_range_first_after(const struct dg_fs_range *r, size_t nr, uint64_t pos);

/*
 * holder.c: sets of byte ranges of one filesystem, sorted and apart.
 * dg_fs_extents_add() takes them in order of offset (merging what
 * touches).
 */
struct dg_fs_extents {
	struct dg_fs_range *v;
	size_t nr, alloc;
};
int dg_fs_extents_add(struct dg_fs_extents *x, uint64_t off, uint64_t len);
void dg_fs_extents_free(struct dg_fs_extents *x);
uint64_t dg_fs_extents_bytes(const struct dg_fs_extents *x);
/* the parts of @set that no owner of @fs in @res covers, into @out */
int dg_fs_uncovered(struct dg_fs *fs, struct dg_result *res, const struct dg_fs_extents *set,
		    struct dg_fs_extents *out);
/* @gaps as "unknown" owners, and a warning that says @why nobody owns them */
int dg_fs_report_unknown(struct dg_fs *fs, struct dg_result *res, const struct dg_fs_extents *gaps,
			 const char *why);

/*
 * holder.c: a damaged filesystem (the kernel says it is corrupt, or the
 * device fails) makes a backend that reads it whole fail: bulkstat stops
 * at the first bad inode, libext2fs at a bad group descriptor; and as
 * non-root, bulkstat and the block device are not ours at all (EPERM,
 * EACCES).  Then what it added to @res after @tail is dropped, a warning
 * says why, and the FIEMAP walk, which goes around what it cannot open,
 * answers instead.  Any other @rc is returned as it is.
 */
bool dg_fs_damaged(int rc);
/* drop the owners after @tail (a saved res->owners_tail) */
void dg_result_truncate(struct dg_result *res, struct dg_owner **tail);
int dg_holder_fallback(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges, size_t nr,
		       struct dg_result *res, struct dg_owner **tail, int rc, const char *what);

/*
 * holder.c: owners read from the device that the kernel cannot confirm
 * (metadata, extent-map blocks).  dg_claims_flush() adds the parts of each
 * that lie in @avail (what is in use and has no owner yet), the first
 * claim winning where two overlap, and empties @c.
 */
struct dg_claims {
	struct dg_owner *v;
	size_t nr, alloc;
};
int dg_claims_add(struct dg_claims *c, const struct dg_owner *tmpl);
int dg_claims_flush(struct dg_claims *c, struct dg_fs *fs, const struct dg_fs_extents *avail,
		    struct dg_result *res);
void dg_claims_free(struct dg_claims *c);

/* holder-fiemap.c: the FIEMAP engine, for backends that find files */
struct dg_fiemap;
int dg_fiemap_fork(struct dg_fiemap *w, int fd, uint64_t ino, const uint32_t *gen,
		   unsigned int oflags, const char *path, bool xattr);
void dg_fiemap_unlinked(struct dg_fiemap *w);
struct dg_fiemap *dg_fiemap_new(struct dg_fs *fs, const struct dg_fs_range *ranges, size_t nr,
				struct dg_result *res);
void dg_fiemap_free(struct dg_fiemap *w);

/* holder-xfs.c: the log and AG headers, from the geometry, as claims */
int dg_xfs_static_owners(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges, size_t nr,
			 struct dg_claims *claims);
/* holder-xfs.c: the AG metadata on the device that meets @avail, as claims */
int dg_xfs_metadata_claims(struct dg_fs *fs, int rootfd, const struct dg_fs_extents *avail,
			   struct dg_claims *claims);

/*
 * xfs-dinode.c: the on-disk XFS inode and its extent lists, parsed from
 * buffers the caller read from the device.
 */
struct dg_xfs_geo {
	uint32_t blocksize, agblocks, agcount, inodesize;
	unsigned int agblklog, inopblog;
	bool crc; /* v5: version 3 inodes, bmbt blocks with the long header */
	/* dg_xfs_geo_init() sets 512 and false; the AG walk needs them */
	uint32_t sectsize;
	bool finobt, reflink;
};
int dg_xfs_geo_init(struct dg_xfs_geo *g, uint32_t blocksize, uint32_t agblocks, uint32_t agcount,
		    uint32_t inodesize, bool crc);
/* where a filesystem block, or an inode, is on the device, in bytes */
int dg_xfs_fsb_to_bytes(const struct dg_xfs_geo *g, uint64_t fsb, uint64_t *bytes);
int dg_xfs_ino_to_bytes(const struct dg_xfs_geo *g, uint64_t ino, uint64_t *bytes);

enum { DG_XFS_FMT_DEV, DG_XFS_FMT_LOCAL, DG_XFS_FMT_EXTENTS, DG_XFS_FMT_BTREE };

struct dg_xfs_dinode {
	uint16_t mode, flags;
	uint8_t version, format, aformat, forkoff;
	uint32_t gen, nlink, anextents;
	uint64_t size, nblocks, nextents, flags2, ino; /* ino: version 3 only */
	int64_t mtime_sec, ctime_sec;
	uint32_t mtime_nsec, ctime_nsec;
	const uint8_t *fork[2]; /* data, attr (NULL: none); point into the buffer */
	size_t fork_size[2];
};
/* -EBADMSG unless @buf (inodesize bytes) holds a plausible inode */
int dg_xfs_dinode_parse(const struct dg_xfs_geo *g, const void *buf, struct dg_xfs_dinode *di);
/*
 * v5: the CRC of @len bytes whose CRC field is at @off; an inode (its CRC
 * and its own number), and a bmbt block (its CRC, its place and its
 * inode).  -EBADMSG when one fails; 0, and nothing checked, on v4.
 */
bool dg_xfs_cksum_ok(const void *buf, size_t len, size_t off);
int dg_xfs_dinode_verify(const struct dg_xfs_geo *g, const void *buf, uint64_t ino);
int dg_xfs_bmbt_block_verify(const struct dg_xfs_geo *g, const void *buf, uint64_t fsb,
			     uint64_t ino);

/* an extent of a fork, in filesystem blocks; or one bmbt block of it */
struct dg_xfs_extent {
	uint64_t startoff, startblock, blockcount;
	bool unwritten;
	bool bmbt; /* the fork's own extent map block: startblock, 1 block */
};
typedef int (*dg_xfs_extent_fn)(void *arg, const struct dg_xfs_extent *e);
/* read filesystem block @fsb (blocksize bytes) into @buf */
typedef int (*dg_xfs_read_fn)(void *arg, uint64_t fsb, void *buf);
#define DG_XFS_BMBT_MAX_LEVELS 9
/*
 * Call @fn for every extent of a fork and every bmbt block below its root
 * (read with @read into @blockbuf: DG_XFS_BMBT_MAX_LEVELS blocks).
 * -EBADMSG when the fork does not hold what the inode says it does.
 */
int dg_xfs_fork_walk(const struct dg_xfs_geo *g, const struct dg_xfs_dinode *di, bool attr,
		     void *blockbuf, dg_xfs_read_fn read, dg_xfs_extent_fn fn, void *arg);

/*
 * xfs-ag.c: the metadata of one allocation group, read from the device:
 * the free space btrees and free list, the inode btrees, the inode chunks
 * they index, the refcount btree and the copy-on-write staging extents it
 * holds.  Every header and btree block is checked (magic, level, bounds;
 * on v5 its CRC, place and AG) before it is believed; a tree that fails is
 * left out (its blocks are not claimed) and the walk ends in -EBADMSG.
 */
enum dg_xfs_meta_kind {
	DG_XFS_META_AG, /* AG headers' trees: free space btrees, free list */
	DG_XFS_META_INOBT, /* inode btree, free inode btree */
	DG_XFS_META_INODES, /* an inode chunk: the parts that exist */
	DG_XFS_META_REFCOUNTBT,
	DG_XFS_META_COW, /* copy-on-write staging extents */
};
struct dg_xfs_meta {
	enum dg_xfs_meta_kind kind;
	uint64_t offset, length; /* bytes on the device */
	/* DG_XFS_META_INODES: the chunk's first inode, which exist (bits) */
	uint64_t startino, present;
};
typedef int (*dg_xfs_meta_fn)(void *arg, const struct dg_xfs_meta *m);
/* read @len bytes at byte @off of the device into @buf */
typedef int (*dg_xfs_pread_fn)(void *arg, uint64_t off, void *buf, size_t len);
#define DG_XFS_AG_MAX_LEVELS 9
/* @buf: dg_xfs_ag_buf_size() bytes; @fn's error ends the walk */
size_t dg_xfs_ag_buf_size(const struct dg_xfs_geo *g);
int dg_xfs_ag_walk(const struct dg_xfs_geo *g, uint32_t agno, void *buf, dg_xfs_pread_fn read,
		   dg_xfs_meta_fn fn, void *arg);
const char *dg_xfs_meta_name(enum dg_xfs_meta_kind kind);

/*
 * fsmap.c: GETFSMAP over ranges.  Free space and metadata become owners.
 * With @inuse NULL, file-owned and "unknown" records do too; otherwise
 * they are what the backend must explain: they go into @inuse (sorted),
 * and into @res only as file owners when @files is true.  Then a range
 * GETFSMAP fails on (EUCLEAN, EIO: a damaged filesystem) goes into @inuse
 * whole, and the return is 1.
 */
int dg_fsmap_query(struct dg_fs *fs, int rootfd, const struct dg_fs_range *ranges, size_t nr,
		   bool files, struct dg_result *res, struct dg_fs_extents *inuse);

/*
 * walk.c: call @fn for every entry under @rootfd on the same filesystem,
 * with its path relative to the root ("/a/b", of any length).  @fn returns 0 to go on
 * (and descend into a directory), 1 to skip a directory, or a negative
 * errno to stop the walk, which then returns it (-ECANCELED: "done").
 */
typedef int (*dg_walk_fn)(void *arg, int dirfd, const char *name, const char *relpath, size_t len,
			  unsigned char type, uint64_t ino);
/* what the walk could not enter (@stats may be NULL) */
struct dg_walk_stats {
	uint64_t unopened; /* directories it could not open */
	uint64_t moved; /* of those, ones moved or removed under it */
};
int dg_walk(int rootfd, dg_walk_fn fn, void *arg, struct dg_walk_stats *stats);

/* paths.c: fill in owner paths, one directory walk at most */
int dg_paths_resolve(struct dg_fs *fs, int rootfd, struct dg_result *res);

/*
 * users.c: collect processes.  With @hook, each process is pinned with a
 * pidfd before its /proc is read, and @hook->fn is called (in one of the
 * scan threads, so it must be thread safe) for each that uses the target,
 * with that pidfd (the hook owns it) and whether it maps anything: a
 * removal signals its users as the scan finds them, so that their exits
 * overlap the rest of the scan.
 */
struct dg_collect_hook {
	void (*fn)(void *arg, pid_t pid, int pidfd, bool maps);
	void *arg;
};
int dg_users_collect(struct dg_result *res, const struct dg_collect_hook *hook);
/*
 * A collector answers "does this one process use what @res is about?"
 * again, later: the verification before a signal.  dg_collector_scan()
 * returns the number of uses, -ESRCH if the process is gone.
 */
struct dg_collector;
int dg_collector_new(struct dg_result *res, bool count_only, struct dg_collector **out);
int dg_collector_scan(struct dg_collector *c, pid_t pid);
/*
 * The cheap check: is the one use @u (of this collector's result) still
 * there?  1 yes, 0 not found (it may have moved: scan the process), or a
 * negative errno: -ESRCH gone, -ENOTTY no cheap way on this kernel.
 */
int dg_collector_recheck(struct dg_collector *c, const struct dg_user *u);
void dg_collector_free(struct dg_collector *c);

/* freeze.c */
struct dg_freeze {
	int rootfd; /* our own descriptor on the filesystem root */
	int wfd; /* the guardian's lifeline */
	pid_t guardian;
	bool frozen;
	uint64_t frozen_at_ms;
};
int dg_freeze(struct dg_ctx *ctx, const char *name, int rootfd, unsigned int deadline_ms,
	      struct dg_freeze *f);
int dg_thaw(struct dg_ctx *ctx, struct dg_freeze *f);

/* maps.c: one line of /proc/PID/maps */
struct dg_maps_entry {
	uint64_t start, end, offset, ino;
	dev_t dev;
	unsigned int flags; /* DG_USER_* */
	const char *path; /* points into the line */
};
int dg_parse_maps_line(const char *line, struct dg_maps_entry *e);
bool dg_maps_line_dev(const char *line, dev_t *dev);
/*
 * The path of a maps line (e->path) as the file is named: each "\012"
 * back to a newline, into @buf (@size bytes, NUL-terminated; it may be
 * @path itself).  Returns the length, or -ENAMETOOLONG if it does not fit.
 * *@ambiguous (if not NULL) tells whether any "\012" was turned: a name
 * holding a backslash and "012" prints the same as one with a newline,
 * so the caller must ask the file itself (/proc/PID/map_files/START-END)
 * which it is.  A " (deleted)" suffix is left as it is: a name may end
 * with it too.
 */
ssize_t dg_maps_unescape_path(const char *path, char *buf, size_t size, bool *ambiguous);

/* topology-kmem.c: a device-dax device in system-ram mode */
struct dg_kmem_block {
	uint64_t id; /* memoryN */
	char state[24]; /* online, offline, going-offline */
	char zone[64]; /* valid_zones */
	int removable; /* -1: the kernel no longer says */
};
struct dg_kmem {
	unsigned int node;
	uint64_t block_size;
	struct dg_kmem_block *blocks;
	size_t nr_blocks;
	size_t node_blocks; /* the node's blocks, the device's and any other */
	bool only_memory; /* no other node has memory */
};
int dg_target_find_kmem(struct dg_target *t, int devdir);
void dg_kmem_free(struct dg_kmem *k);
int dg_kmem_block_read(struct dg_kmem_block *b);
/* @has_memory (a node mask) has no node but @node */
bool dg_kmem_only_memory(const uint64_t *has_memory, unsigned int node);
struct dg_report;
struct dg_mf_opts;
int dg_kmem_remove(struct dg_ctx *ctx, struct dg_report *rep, const struct dg_mf_opts *o);
/* "0-3,5" into a node mask of DG_NUMA_MAX_NODES bits: 0, -EINVAL, -ERANGE */
int dg_parse_nodelist(const char *str, size_t len, uint64_t *nodes);

/* numa-maps.c: one line of /proc/PID/numa_maps */
#define DG_NUMA_MAX_NODES 1024 /* CONFIG_NODES_SHIFT=10 */
enum dg_mpol {
	DG_MPOL_DEFAULT = 1,
	DG_MPOL_PREFERRED,
	DG_MPOL_BIND,
	DG_MPOL_INTERLEAVE,
	DG_MPOL_LOCAL,
	DG_MPOL_PREFERRED_MANY,
	DG_MPOL_WEIGHTED_INTERLEAVE,
};
struct dg_numa_maps_entry {
	uint64_t start;
	char policy[64]; /* as printed: "bind:1", "prefer=static:0-1", ... */
	enum dg_mpol mode;
	bool has_nodes;
	uint64_t nodes[DG_NUMA_MAX_NODES / 64]; /* the policy's node list */
	bool has_file, huge;
	uint64_t node_pages; /* on the node asked for */
	uint64_t total_pages; /* on every node */
	uint64_t page_kb; /* kernelpagesize_kB: the unit of the counts; 0 with no page */
};
/*
 * @len bytes at @line (a final newline allowed), pages counted for @node.
 * 0, -EINVAL for a malformed line, -ERANGE for a number past its bounds.
 */
int dg_parse_numa_maps_line(const char *line, size_t len, unsigned int node,
			    struct dg_numa_maps_entry *e);
const char *dg_mpol_name(enum dg_mpol mode);
/* a policy as numa_maps prints it ("bind=static:0-1"): 0 or -EINVAL */
int dg_parse_mpol(const char *str, size_t len, enum dg_mpol *mode, uint64_t *nodes);
/*
 * Where a process's pages on a node being emptied go: the nodes with
 * memory besides it (@others) that its @policies (one per mapping, as
 * printed) allow; bind and interleave restrict, the rest do not; when
 * nothing is left, @others.
 */
void dg_mpol_dest_nodes(const char *const *policies, size_t nr, const uint64_t *others,
			uint64_t *to);
/* the policy lets the mapping allocate on @node and nowhere else */
bool dg_numa_maps_binds_to(const struct dg_numa_maps_entry *e, unsigned int node);
/* the policy's node list holds @node */
bool dg_numa_maps_names(const struct dg_numa_maps_entry *e, unsigned int node);

/* ------------------------------------------------------------------ */
/* Flows: report.c, kill.c, invalidate.c, unmount.c, notify.c */

struct dg_victim {
	struct dg_victim *next;
	pid_t pid;
	int pidfd;
	char *comm;
	enum dg_victim_state state;
	char reason[128];
	char signals[32];
	uint64_t signalled_ms, exited_ms;
	bool round; /* part of the current round */
	bool streamed; /* signalled in this round by the scan itself */
	/* its first use in the round's result: what to check before a signal */
	struct dg_user *uses;
};

struct dg_step {
	struct dg_step *next;
	const char *stage;
	char *object;
	char *message;
	int status;
	uint64_t start_ms, duration_ms;
};

struct dg_report {
	struct dg_target *target;
	struct dg_result *result;
	struct dg_victim *victims, **victims_tail;
	struct dg_step *steps, **steps_tail;
	uint64_t t0;
	bool complete;
	bool metadata_hit;
};

uint64_t dg_now_ms(void);
uint64_t dg_report_elapsed(struct dg_report *rep);
struct dg_report *dg_report_new(struct dg_target *t);
struct dg_step *dg_step_begin(struct dg_report *rep, const char *stage, const char *object);
void dg_step_end(struct dg_report *rep, struct dg_step *s, int status, const char *format, ...)
	__attribute__((format(printf, 4, 5)));
void dg_stage_notify(struct dg_ctx *ctx, const char *stage, enum dg_stage_event ev,
		     unsigned int pending, uint64_t elapsed);

/*
 * kill.c: the user-space unmap_and_kill().  Act on every process that
 * uses what @res describes, by @action; every signal goes through a pidfd
 * after a fresh check that the process still uses it.  @grace_ms: how
 * long TERM (and BUS) get before KILL (or before giving up).
 */
struct dg_stream_kill;
int dg_unmap_and_kill(struct dg_ctx *ctx, struct dg_report *rep, struct dg_result *res,
		      enum dg_action action, unsigned int grace_ms, const struct dg_mf_opts *opts,
		      bool wait, struct dg_stream_kill *streamed);
/*
 * Signalling a removal's users as the scan finds them (KILL only; NULL
 * otherwise, and for a dry run): give dg_stream_kill_hook() to the
 * collect, then the same object to dg_unmap_and_kill(), which takes the
 * ones signalled as its own and signals only the rest.
 */
struct dg_stream_kill *dg_stream_kill_new(struct dg_report *rep, enum dg_action action,
					  const struct dg_mf_opts *opts);
const struct dg_collect_hook *dg_stream_kill_hook(struct dg_stream_kill *sk);
void dg_stream_kill_free(struct dg_stream_kill *sk);
/* wait for the signalled victims of the round; returns how many still run */
unsigned int dg_victims_wait(struct dg_ctx *ctx, struct dg_report *rep, unsigned int timeout_ms);
#define DG_KILL_WAIT_MS 10000 /* how long SIGKILLed processes get to exit */
/* how many victims of the last round still run */
unsigned int dg_victims_survivors(struct dg_report *rep);

/* unmount.c; @flags: DG_MF_RELEASE_* */
int dg_unmount_all(struct dg_ctx *ctx, struct dg_report *rep, struct dg_target *t, bool dry_run);
int dg_release(struct dg_ctx *ctx, struct dg_report *rep, struct dg_target *t, unsigned int flags,
	       bool dry_run);

/*
 * release-cxl.c: before a pre-remove changes anything, whether the CXL
 * release @flags ask for can be done: 0 with the other active namespace
 * devices of the region in *@peers ("/dev/pmem1", to take in under
 * DG_MF_WHOLE_REGION; free each and the array), or a refusal that names
 * the cause (a region not enabled or committed, other namespaces without
 * DG_MF_WHOLE_REGION, a memdev serving another region, --release memdev
 * on a target not on CXL).
 */
int dg_cxl_release_check(struct dg_ctx *ctx, struct dg_target *t, unsigned int flags, char ***peers,
			 size_t *nr);
/*
 * After the target's namespace is disabled: the other namespaces of the
 * nd region @ndregion (as dg_nd_region_of() named it before), the CXL
 * region, and the memdevs.
 */
int dg_cxl_release(struct dg_ctx *ctx, struct dg_report *rep, struct dg_target *t,
		   unsigned int flags, const char *ndregion, bool dry_run);
/* the nd region ("region0") of a pmem block device or nd dax device */
int dg_nd_region_of(struct dg_target *t, char *name, size_t size);

/*
 * handle.c: open the file @o names (the inode, by handle where the
 * filesystem has them, else by its path below @rootfd, never through a
 * symlink), checked to be a regular file with that inode, with @flags:
 * a descriptor, -ENOENT when the inode is gone, -ESTALE when only a
 * different file can be reached, -EINVAL when it is no regular file.
 */
int dg_owner_open(struct dg_owner *o, int rootfd, int flags);
/* what dg_owner_open()'s failure means, for a message */
const char *dg_owner_open_error(int rc);
/* 0 if @fd is a regular file with @o's inode on @o's filesystem */
int dg_fd_is_owner(const struct dg_owner *o, int fd);
/* XFS: the generation bulkstat has for @o, while frozen (0 elsewhere) */
int dg_owner_fill_gen(struct dg_owner *o, int rootfd);
int dg_open_by_handle(const struct dg_fs *fs, int mountfd, uint64_t ino, uint32_t gen, int flags);
struct xfs_bulkstat;
int dg_xfs_bulkstat_one(int rootfd, uint64_t ino, struct xfs_bulkstat *bs);

/* invalidate.c */
void dg_hold_unlinked(struct dg_result *res);
int dg_invalidate(struct dg_report *rep, struct dg_result *res, bool punch);
int dg_shutdown_fs(struct dg_report *rep, struct dg_fs *fs);

/* who.c */
int dg_open_fs_root(struct dg_fs *fs);
/* dg_who(), with a hook for the collect (users.c) */
int dg_who_hooked(struct dg_target *t, const struct dg_range *ranges, size_t nr_ranges,
		  unsigned int flags, const struct dg_collect_hook *hook,
		  struct dg_result **result);
/* check ranges against the target; sorted and merged into *out */
int dg_normalize_ranges(struct dg_target *t, const struct dg_range *in, size_t nr,
			struct dg_range **out, size_t *nr_out);

/* topology.c */
/* the filesystem (or device-dax node) a (st_dev, st_ino) is on, or NULL */
struct dg_fs *dg_fs_of(struct dg_target *t, dev_t dev, uint64_t ino);
int dg_target_refresh_mounts(struct dg_target *t);
/* the physical range of a pmem block device's data (sysfs dir @devdir) */
void dg_sysfs_phys_range(int devdir, bool part, uint64_t size, uint64_t *start, uint64_t *psize);
/* @phys as an offset on a device with that range: -ENXIO, -ERANGE */
int dg_phys_to_offset(struct dg_ctx *ctx, const char *devname, uint64_t start, uint64_t size,
		      uint64_t phys, uint64_t *offset);
bool dg_target_is_mounted(struct dg_target *t);

/* ------------------------------------------------------------------ */
/* Events: event.c and one file per source (event-*.c) */

struct dg_event {
	struct dg_event *next;
	enum dg_event_kind kind;
	const char *source; /* the source's name: static */
	struct dg_device *device;
	char *devname, *subsystem, *action, *syspath, *slot, *message, *kernel_result;
	dev_t devnum;
	bool initial;
	struct dg_range *ranges;
	size_t nr_ranges;
	uint64_t phys, page_size;
	pid_t *kpids;
	size_t nr_kpids;
	char **warnings;
	size_t nr_warnings;
};

struct dg_source;
struct dg_source_ops {
	const char *name;
	int (*process)(struct dg_source *src);
	int (*timeout)(struct dg_source *src); /* may be NULL: no deadline */
	void (*free)(struct dg_source *src); /* the source's own part */
};

struct dg_source {
	const struct dg_source_ops *ops;
	struct dg_ctx *ctx;
	struct dg_device *device;
	char *path;
	int fd;
	struct dg_event *queue, **tail;
	void *priv;
};

int dg_source_alloc(struct dg_ctx *ctx, const struct dg_source_ops *ops, size_t priv_size,
		    struct dg_source **out);
struct dg_event *dg_event_new(struct dg_source *src, enum dg_event_kind kind);
void dg_source_queue(struct dg_source *src, struct dg_event *ev);
int dg_event_add_range(struct dg_event *ev, uint64_t offset, uint64_t length);
int dg_event_add_kernel_pid(struct dg_event *ev, pid_t pid);
int dg_event_warn(struct dg_event *ev, const char *format, ...)
	__attribute__((format(printf, 2, 3)));
/* append a line to the event's message */
int dg_event_add_line(struct dg_event *ev, const char *line);

/*
 * event-kmsg.c: one /dev/kmsg record ("PRI,SEQ,TS,FLAGS;MESSAGE\n" and
 * " KEY=VALUE" lines): the message, NUL-terminated in place, its
 * facility, and the DEVICE= key if any.  -EINVAL for a malformed record.
 */
struct dg_kmsg_record {
	int facility, level;
	uint64_t seq;
	char *message;
	char *device; /* "+pci:0000:00:1c.0", or NULL */
};
int dg_kmsg_parse_record(char *buf, size_t len, struct dg_kmsg_record *rec);

/* A "Memory failure: 0xPFN: ..." line, as mm/memory-failure.c logs it */
enum dg_mf_line_type {
	DG_MF_LINE_SIGNAL = 1, /* "Sending SIGBUS to COMM:PID ..." / "Killing ..." */
	DG_MF_LINE_RESULT, /* "recovery action for TYPE: RESULT" */
	DG_MF_LINE_OTHER, /* anything else about that pfn */
};
struct dg_mf_line {
	uint64_t phys; /* the pfn's address, as dg_parse_pfn() gives it */
	enum dg_mf_line_type type;
	pid_t pid;
	char result[16];
};
/* 1 and @out for such a line, 0 for another line, -EINVAL for a bad one */
int dg_kmsg_parse_memory_failure(const char *msg, struct dg_mf_line *out);

/*
 * event-pciehp.c: "DRIVER DEVICE: Slot(NAME): Button press: will power
 * off in 5 sec" (or the cancel): 1 with the port's PCI address, the slot
 * and DG_EVENT_PRE_REMOVE(_CANCELED); 0 for any other line.
 */
int dg_pciehp_parse(const char *msg, char *addr, size_t addr_size, char *slot, size_t slot_size,
		    enum dg_event_kind *kind);
/* the PCI device @addr's directory below @sysroot ("/sys"), resolved */
char *dg_pci_syspath(const char *sysroot, const char *addr);

/* device.c */
const char *dg_device_bb_path(struct dg_device *d);
const char *dg_device_region_bb_path(struct dg_device *d);
struct dg_ctx *dg_device_ctx(struct dg_device *d);
/* @path lies below the directory @dir (not @dir itself) */
bool dg_path_is_below(const char *path, const char *dir);

#endif /* _LIBDAXGUARD_PRIVATE_H_ */
