/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libdaxguard: find out who uses a range of a DAX or block device, and make
 * them let go.
 *
 * The library mirrors the kernel's memory-failure pipeline for fsdax
 * (dax_holder_notify_failure -> ->notify_failure -> collect_procs_fsdax ->
 * unmap_and_kill) in user space.  This header covers the read-only half:
 *
 *   topology  a target (block device, partition, mountpoint or MAJ:MIN) is
 *             resolved to the filesystems on it and every mount of them;
 *   holder    each filesystem's reverse map turns a device range into the
 *             files and metadata that own it;
 *   collect   the processes that map the affected pages, or (for a whole
 *             device) use the filesystem at all.
 *
 * Conventions (as in libndctl): every object hangs off a struct dg_ctx,
 * which is never shared between threads; functions that can fail return 0
 * or a negative errno; lists are walked with dg_X_get_first()/get_next() or
 * the dg_X_foreach() macros; the library never prints: messages go through
 * the context's log function, whose level is set by DAXGUARD_LOG
 * (err, info, debug) or dg_set_log_priority().  After a failure,
 * dg_get_error() explains it in one line that names the object and the
 * cause.
 */
#ifndef _LIBDAXGUARD_H_
#define _LIBDAXGUARD_H_

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dg_ctx;
struct dg_target;
struct dg_fs;
struct dg_mount;
struct dg_result;
struct dg_owner;
struct dg_user;

/* ------------------------------------------------------------------ */
/* Context                                                              */

int dg_new(struct dg_ctx **ctx);
struct dg_ctx *dg_ref(struct dg_ctx *ctx);
struct dg_ctx *dg_unref(struct dg_ctx *ctx);

typedef void (*dg_log_fn)(struct dg_ctx *ctx, int priority, const char *file, int line,
			  const char *fn, const char *format, va_list args);
void dg_set_log_fn(struct dg_ctx *ctx, dg_log_fn log_fn);
/* syslog priorities: LOG_ERR (3), LOG_INFO (6), LOG_DEBUG (7) */
int dg_get_log_priority(struct dg_ctx *ctx);
void dg_set_log_priority(struct dg_ctx *ctx, int priority);
void dg_set_userdata(struct dg_ctx *ctx, void *userdata);
void *dg_get_userdata(struct dg_ctx *ctx);

/*
 * One line describing the last failure of a call on @ctx, naming the object
 * and the cause ("/dev/loop9: no such device"), or NULL.
 */
const char *dg_get_error(struct dg_ctx *ctx);

/*
 * What the library in use is and can do, for --version and bug reports
 * (a program may run against a newer library than it was built with):
 * its version ("0.1.0"); the i-th optional library it was built with
 * ("libndctl", "libdevmapper", "libudev", ...); the i-th reverse map that
 * dg_target_set_rmap() takes, best first.  Each returns NULL past the last.
 */
const char *dg_get_version(void);
const char *dg_feature_name(unsigned int i);
const char *dg_rmap_name(unsigned int i);

/* ------------------------------------------------------------------ */
/* Sizes and ranges                                                     */

struct dg_range {
	uint64_t offset; /* bytes from the start of the target */
	uint64_t length; /* bytes, > 0 */
};

/*
 * Parse a byte count: decimal, 0x hex, or a number with a binary suffix
 * K, M, G, T, P (also KiB... and k); "4096", "0x1000", "4K", "1.5G" are
 * accepted.  Returns -EINVAL for a malformed string, -ERANGE on overflow.
 */
int dg_parse_size(const char *str, uint64_t *bytes);

/*
 * Parse a range as "OFFSET+LENGTH" or "OFFSET-END" (END exclusive), each
 * part in dg_parse_size() format, or as "SECTOR COUNT" in the kernel's
 * badblocks format when @badblocks is true (512-byte sectors).  The end of
 * the range must fit in 64 bits (-ERANGE).
 */
int dg_parse_range(const char *str, bool badblocks, struct dg_range *range);

/*
 * Parse a page frame number as the kernel's "Memory failure: 0x2c3f1: ..."
 * prints it (0x hex, or decimal; no suffix, no sign, no blanks) into the
 * physical address of its first byte, with this system's page size.
 * -EINVAL for a malformed string, -ERANGE when the address passes 64 bits.
 */
int dg_parse_pfn(const char *str, uint64_t *phys);

/* ------------------------------------------------------------------ */
/* Badblocks lists                                                      */

/*
 * A badblocks list is the kernel's format (badblocks_show(), as
 * /sys/block/X/badblocks and `ndctl list --media-errors` give it): one
 * "SECTOR COUNT" a line, both decimal, 512-byte sectors, COUNT > 0,
 * separated by blanks.  Blank lines and lines whose first non-blank is '#'
 * hold no entry.  A line is at most DG_BADBLOCKS_LINE_MAX bytes without
 * its newline; a NUL byte anywhere makes it malformed (a C string would
 * silently end there).
 */
#define DG_BADBLOCKS_LINE_MAX 4096

/*
 * One line of @len bytes at @line (not NUL-terminated; a final '\n' is
 * allowed).  Returns 1 and fills @range for an entry, 0 for a line with
 * no entry, -EINVAL for a malformed line, -EILSEQ for a line with a NUL
 * byte, -ERANGE when the range passes 64 bits (in bytes).
 */
int dg_parse_badblocks_line(const char *line, size_t len, struct dg_range *range);

/*
 * A whole list: the @len bytes at @buf (the last line needs no newline).
 * Each entry is appended to *@ranges, an array from malloc() (or NULL)
 * holding *@nr entries, grown with realloc(); the caller frees it.
 * Returns 0, or the error of the first bad line as
 * dg_parse_badblocks_line() gives it, with its number (from 1) in
 * *@lineno (if not NULL; 0 on success and for -ENOMEM).  On failure *@nr
 * is as it was: nothing of a list with a bad line is taken.
 */
int dg_parse_badblocks(const char *buf, size_t len, struct dg_range **ranges, size_t *nr,
		       size_t *lineno);

/*
 * The same, read from @fd to its end (a file, a pipe, stdin), a chunk at
 * a time: a line longer than DG_BADBLOCKS_LINE_MAX fails without its end
 * being read.  A read error returns its negative errno with *@lineno 0
 * (a directory: -EISDIR); a bad line, its error and number, as above.
 */
int dg_read_badblocks(int fd, struct dg_range **ranges, size_t *nr, size_t *lineno);

/* ------------------------------------------------------------------ */
/* Topology                                                             */

enum dg_target_kind {
	DG_TARGET_BLOCK = 1, /* a whole block device */
	DG_TARGET_PARTITION, /* a partition of one */
	DG_TARGET_DAX, /* a device-dax character device */
};

/*
 * Resolve @spec (a /dev path, a mountpoint or any path on a mounted
 * filesystem's root, or MAJ:MIN) to a device, the filesystems on it and
 * their mounts in every mount namespace.  Fails with -ENOENT, -ENOTBLK,
 * -ENODEV, ... and sets dg_get_error().
 */
int dg_target_new(struct dg_ctx *ctx, const char *spec, struct dg_target **target);
void dg_target_free(struct dg_target *target);

struct dg_ctx *dg_target_get_ctx(struct dg_target *target);
const char *dg_target_get_devname(struct dg_target *target);
dev_t dg_target_get_devnum(struct dg_target *target);
uint64_t dg_target_get_size(struct dg_target *target);
enum dg_target_kind dg_target_get_kind(struct dg_target *target);
/*
 * A device-dax target in system-ram mode (bound to the kmem driver;
 * LIBDAXGUARD_5): its memory is the RAM of a NUMA node, in memory blocks
 * (/sys/devices/system/memory/memoryN).  Its users are the processes with
 * pages on the node (DG_USE_NODE); its removal migrates them or stops the
 * ones bound to the node, offlines the blocks and disables the device.
 */
bool dg_target_is_kmem(struct dg_target *target);
/* the node, or -1 for a target not in system-ram mode */
int dg_target_get_numa_node(struct dg_target *target);
uint64_t dg_target_get_memory_block_size(struct dg_target *target);
size_t dg_target_get_nr_memory_blocks(struct dg_target *target);
/*
 * Block @idx (0 to nr - 1): its number N (memoryN), state ("online",
 * "offline"), zone (valid_zones: "Movable", "Normal", ...) and removable
 * (1, 0, or -1 when the kernel does not say), as read when the target was
 * made.  Any pointer may be NULL.  -ENOENT past the end.
 */
int dg_target_get_memory_block(struct dg_target *target, size_t idx, uint64_t *id,
			       const char **state, const char **zone, int *removable);
/* the loop device's backing file, or NULL */
const char *dg_target_get_backing_file(struct dg_target *target);

/*
 * A physical address (as machine-check and memory-failure logs give it) to
 * an offset on a pmem target, through the namespace's or pfn device's
 * resource: -ENXIO for a device with no physical range, -ERANGE for an
 * address outside it.
 */
int dg_target_phys_to_offset(struct dg_target *target, uint64_t phys, uint64_t *offset);
/*
 * The physical address range of a pmem target (offset 0 is at @start):
 * 0, or -ENXIO for a device that has none.
 */
int dg_target_get_phys_range(struct dg_target *target, uint64_t *start, uint64_t *size);

/*
 * The target's own badblocks list, from sysfs (for a partition, its disk's
 * list, moved to the partition's start, without what lies outside it),
 * appended to *@ranges as dg_parse_badblocks() does.  Fails with -ENOENT
 * when the device keeps no list (only pmem and some RAID drivers do),
 * -ENXIO for device-dax, and sets dg_get_error().
 */
int dg_target_get_badblocks(struct dg_target *target, struct dg_range **ranges, size_t *nr);

/*
 * Force a reverse-map backend for the filesystems of @target: "xfs-rmapbt",
 * "ext4-libext2fs" or "fiemap" (any filesystem); NULL for the best one.
 * A backend that does not apply to a filesystem fails the query.
 */
int dg_target_set_rmap(struct dg_target *target, const char *name);

/* Every mounted filesystem on the target, in device order. */
struct dg_fs *dg_fs_get_first(struct dg_target *target);
struct dg_fs *dg_fs_get_next(struct dg_fs *fs);
#define dg_fs_foreach(target, fs) \
	for (fs = dg_fs_get_first(target); fs != NULL; fs = dg_fs_get_next(fs))

const char *dg_fs_get_devname(struct dg_fs *fs);
dev_t dg_fs_get_devnum(struct dg_fs *fs);
const char *dg_fs_get_type(struct dg_fs *fs);
/* where the filesystem starts on the target (partition start), bytes */
uint64_t dg_fs_get_start(struct dg_fs *fs);
uint64_t dg_fs_get_size(struct dg_fs *fs);
/*
 * A filesystem on a device-mapper device stacked on the target lies on it
 * in pieces, one per linear line of the table that maps onto the target:
 * [start, start + size) of the target is at @base on the filesystem's
 * device.  The target itself or a partition is one piece at base 0.
 * Pieces come sorted by start; dg_fs_get_start() is the first one's.
 */
bool dg_fs_is_device_mapper(struct dg_fs *fs);
size_t dg_fs_get_nr_pieces(struct dg_fs *fs);
int dg_fs_get_piece(struct dg_fs *fs, size_t idx, uint64_t *start, uint64_t *size, uint64_t *base);
/* name of the reverse-map backend: "xfs-rmapbt", "fiemap", ... */
const char *dg_fs_get_rmap(struct dg_fs *fs);

/*
 * Mounts in other mount namespaces (containers) cost a look at every
 * process: dg_target_new() lists those of daxguard's own namespace (or,
 * when nothing is mounted there, of all), and this adds every other
 * namespace's.  A whole-device dg_who() and the pre-remove flow call it.
 */
int dg_target_scan_namespaces(struct dg_target *target);

/* Every mount of the filesystem, bind mounts included; see above. */
struct dg_mount *dg_mount_get_first(struct dg_fs *fs);
struct dg_mount *dg_mount_get_next(struct dg_mount *mnt);
#define dg_mount_foreach(fs, mnt) \
	for (mnt = dg_mount_get_first(fs); mnt != NULL; mnt = dg_mount_get_next(mnt))

const char *dg_mount_get_target(struct dg_mount *mnt);
/* the subtree of the filesystem mounted there: "/" unless a bind mount */
const char *dg_mount_get_root(struct dg_mount *mnt);
const char *dg_mount_get_options(struct dg_mount *mnt);
/* the mount namespace (its inode number) and a process inside it */
uint64_t dg_mount_get_mntns(struct dg_mount *mnt);
pid_t dg_mount_get_ns_pid(struct dg_mount *mnt);
/* true when the mount is in daxguard's own mount namespace */
bool dg_mount_is_local(struct dg_mount *mnt);

/* ------------------------------------------------------------------ */
/* who: the blast radius of a set of ranges                             */

enum dg_who_flags {
	DG_WHO_NO_PATHS = 1 << 0, /* do not resolve inode paths */
	DG_WHO_NO_USERS = 1 << 1, /* do not scan processes */
};

/*
 * Find the owners of @ranges on @target, and the processes whose mappings
 * cover their pages.  With @nr_ranges == 0 the whole device is meant: the
 * owners are then the files in use, and the users every process that maps,
 * holds open, or has its cwd, root or executable on any of its filesystems.
 * Never changes anything.  Processes that vanish or cannot be read are
 * skipped and reported through dg_warning_*().
 */
int dg_who(struct dg_target *target, const struct dg_range *ranges, size_t nr_ranges,
	   unsigned int flags, struct dg_result **result);
void dg_result_free(struct dg_result *result);

bool dg_result_is_whole_device(struct dg_result *result);
size_t dg_result_get_nr_ranges(struct dg_result *result);
const struct dg_range *dg_result_get_range(struct dg_result *result, size_t idx);

/*
 * Incomplete: something could not be checked that a run with more
 * privilege could check (other users' processes when not root, files the
 * caller cannot open, a filesystem whose mount could not be reached
 * safely), or a reverse map could not look at everything (an inode table
 * it could not read), so that owners or users may be missing; the
 * warnings say what.  Blocks in use whose owner is not known are owners
 * of type DG_OWNER_UNKNOWN: an incomplete answer is never "nothing
 * there".  Processes that even root cannot read
 * (pid 1 in some sandboxes) are listed below but do not make the answer
 * incomplete when daxguard runs with every privilege it could have.
 */
bool dg_result_is_incomplete(struct dg_result *result);

/* The processes whose /proc could not be read: their uses are unknown. */
struct dg_unreadable;
size_t dg_result_get_nr_unreadable(struct dg_result *result);
struct dg_unreadable *dg_unreadable_get_first(struct dg_result *result);
struct dg_unreadable *dg_unreadable_get_next(struct dg_unreadable *unreadable);
#define dg_unreadable_foreach(result, r) \
	for (r = dg_unreadable_get_first(result); r != NULL; r = dg_unreadable_get_next(r))
pid_t dg_unreadable_get_pid(struct dg_unreadable *unreadable);
const char *dg_unreadable_get_comm(struct dg_unreadable *unreadable);
/* why: a negative errno (-EACCES, -EPERM) */
int dg_unreadable_get_error(struct dg_unreadable *unreadable);

/* Warnings collected on the way (a filesystem not reached, ...). */
const char *dg_warning_get_first(struct dg_result *result);
const char *dg_warning_get_next(struct dg_result *result, const char *prev);
#define dg_warning_foreach(result, w) \
	for (w = dg_warning_get_first(result); w != NULL; w = dg_warning_get_next(result, w))

enum dg_owner_type {
	DG_OWNER_FILE = 1, /* file data, attr fork or extent map of a file */
	DG_OWNER_METADATA, /* filesystem metadata (see dg_owner_get_metadata) */
	DG_OWNER_FREE, /* free space */
	DG_OWNER_UNKNOWN, /* in use, owner not known to the backend */
};

enum dg_owner_flags {
	DG_OWNER_ATTR_FORK = 1 << 0, /* extended attribute blocks */
	DG_OWNER_EXTENT_MAP = 1 << 1, /* the file's extent map (bmbt) */
	DG_OWNER_UNWRITTEN = 1 << 2, /* preallocated, never written */
	DG_OWNER_SHARED = 1 << 3, /* shared with another file (reflink) */
	DG_OWNER_UNLINKED = 1 << 4, /* no name left: held open only */
	DG_OWNER_NO_RANGE = 1 << 5, /* whole-device result: no device range */
	DG_OWNER_DIRECTORY = 1 << 6, /* the file is a directory */
};

struct dg_owner *dg_owner_get_first(struct dg_result *result);
struct dg_owner *dg_owner_get_next(struct dg_owner *owner);
#define dg_owner_foreach(result, owner) \
	for (owner = dg_owner_get_first(result); owner != NULL; owner = dg_owner_get_next(owner))

struct dg_fs *dg_owner_get_fs(struct dg_owner *owner);
enum dg_owner_type dg_owner_get_type(struct dg_owner *owner);
const char *dg_owner_type_name(enum dg_owner_type type);
/* the affected part: offset from the start of the target, and length */
uint64_t dg_owner_get_offset(struct dg_owner *owner);
uint64_t dg_owner_get_length(struct dg_owner *owner);
unsigned int dg_owner_get_flags(struct dg_owner *owner);
/* DG_OWNER_FILE: inode, and where the affected part is in the file */
uint64_t dg_owner_get_inode(struct dg_owner *owner);
uint64_t dg_owner_get_file_offset(struct dg_owner *owner);
/* an absolute path in daxguard's mount namespace, or NULL if unknown */
const char *dg_owner_get_path(struct dg_owner *owner);
/* DG_OWNER_METADATA: "log", "inodes", "inode_btree", ... */
const char *dg_owner_get_metadata(struct dg_owner *owner);

enum dg_use {
	DG_USE_MAP = 1, /* a mapping covers an affected page */
	DG_USE_FD, /* an open file descriptor */
	DG_USE_CWD, /* working directory */
	DG_USE_ROOT, /* root directory */
	DG_USE_EXE, /* executable */
	DG_USE_DEVICE, /* the block device node itself, held open */
	DG_USE_NODE, /* a mapping with pages on a kmem target's node (LIBDAXGUARD_5) */
};

enum dg_user_flags {
	DG_USER_READ = 1 << 0,
	DG_USER_WRITE = 1 << 1,
	DG_USER_EXEC = 1 << 2,
	DG_USER_SHARED = 1 << 3, /* MAP_SHARED, else private */
};

struct dg_user *dg_user_get_first(struct dg_result *result);
struct dg_user *dg_user_get_next(struct dg_user *user);
#define dg_user_foreach(result, user) \
	for (user = dg_user_get_first(result); user != NULL; user = dg_user_get_next(user))

pid_t dg_user_get_pid(struct dg_user *user);
/*
 * The thread the use was seen through, when it is not the process's own
 * (a thread that unshared its cwd or fd table, or the one left mapping
 * after the leader exited); 0 otherwise.  Signals go to the process.
 */
pid_t dg_user_get_tid(struct dg_user *user);
const char *dg_user_get_comm(struct dg_user *user);
enum dg_use dg_user_get_use(struct dg_user *user);
const char *dg_use_name(enum dg_use use);
unsigned int dg_user_get_flags(struct dg_user *user);
struct dg_fs *dg_user_get_fs(struct dg_user *user);
uint64_t dg_user_get_inode(struct dg_user *user);
/* the path as the process sees it (its own root and mount namespace) */
const char *dg_user_get_path(struct dg_user *user);
/* the owner this use hits, or NULL (whole-device queries) */
struct dg_owner *dg_user_get_owner(struct dg_user *user);
/* DG_USE_FD: the descriptor number */
int dg_user_get_fd(struct dg_user *user);
/* DG_USE_MAP: the mapping, its file offset, and the affected file range */
uint64_t dg_user_get_vm_start(struct dg_user *user);
uint64_t dg_user_get_vm_end(struct dg_user *user);
uint64_t dg_user_get_vm_pgoff(struct dg_user *user); /* bytes */
uint64_t dg_user_get_file_offset(struct dg_user *user);
uint64_t dg_user_get_file_length(struct dg_user *user);
/*
 * DG_USE_NODE (LIBDAXGUARD_5), from /proc/PID/numa_maps: the mapping at
 * dg_user_get_vm_start() has this many bytes on the target's node; its
 * memory policy as the kernel prints it ("bind:1", "prefer:1",
 * "interleave:0-1", "default"); bound: the policy lets it allocate on that
 * node and nowhere else, so it cannot run once the node is gone.
 */
uint64_t dg_user_get_node_bytes(struct dg_user *user);
const char *dg_user_get_policy(struct dg_user *user);
bool dg_user_is_bound(struct dg_user *user);
/*
 * The kernel's hints that some of the process's pages cannot move: its
 * VmPin (kB, from /proc/PID/status), and its io_uring or vfio descriptors
 * ("io_uring fd 5, vfio fd 7"; NULL for none).
 */
uint64_t dg_user_get_vm_pin_kb(struct dg_user *user);
const char *dg_user_get_pin_hint(struct dg_user *user);

/* ------------------------------------------------------------------ */
/* Acting: the failure flow and the pre-remove flow                    */

/*
 * dg_notify_failure() is the user-space dax_holder_notify_failure().  For
 * a failed range it freezes the filesystems the range touches, maps the
 * range to its owners and the processes that map them (a consistent
 * answer: nothing can allocate or write while frozen), thaws, acts on
 * those processes by policy, and drops the cached pages of the affected
 * ranges.  With DG_MF_PRE_REMOVE the whole device is about to go: every
 * user of every filesystem on it is stopped, every mount of each is
 * unmounted (in every mount namespace), and the device is released.
 *
 * Safety: a filesystem is never left frozen (a guardian process thaws it
 * if the caller dies or a deadline passes); a process is signalled only
 * after it was pinned with a pidfd and verified, through /proc, to still
 * use the target; DG_MF_DRY_RUN changes nothing.
 */
enum dg_mf_flags {
	DG_MF_PRE_REMOVE = 1 << 0, /* the whole device is going away */
	DG_MF_DRY_RUN = 1 << 1, /* plan only: no freeze, signal, unmount */
	DG_MF_PUNCH = 1 << 2, /* punch the failed file ranges out */
	DG_MF_SHUTDOWN = 1 << 3, /* shut down a filesystem whose metadata failed */
	DG_MF_NO_RELEASE = 1 << 4, /* pre-remove: unmount, keep the device */
	DG_MF_INCLUDE_ANCESTORS = 1 << 5, /* signal our own ancestors too */
	DG_MF_FORCE = 1 << 6, /* remove the device holding / or daxguard */
	/*
	 * Pre-remove of a target on a CXL region (LIBDAXGUARD_4).  The
	 * default release disables the namespace, then the region (`cxl
	 * disable-region`); these change how far it goes:
	 */
	DG_MF_RELEASE_NAMESPACE = 1 << 7, /* the namespace only: the region stays */
	DG_MF_RELEASE_MEMDEV = 1 << 8, /* destroy the region, disable each memdev */
	/*
	 * The region's other namespaces go with it: without this the
	 * removal refuses, naming them; with it their filesystems are
	 * taken in (users stopped, unmounted) and their namespaces disabled.
	 */
	DG_MF_WHOLE_REGION = 1 << 9,
};

enum dg_action {
	DG_ACTION_REPORT = 1, /* signal nobody */
	DG_ACTION_TERM, /* SIGTERM, a grace period, then SIGKILL */
	DG_ACTION_KILL, /* SIGKILL */
	DG_ACTION_BUS, /* SIGBUS, for applications that handle it */
};
const char *dg_action_name(enum dg_action action);
int dg_action_parse(const char *name, enum dg_action *action);

struct dg_mf_opts {
	unsigned int flags; /* enum dg_mf_flags */
	enum dg_action action;
	unsigned int grace_ms; /* term: how long SIGTERM gets */
	unsigned int freeze_deadline_ms; /* the guardian thaws after this; 0: 30 s */
	unsigned int max_rounds; /* pre-remove: collect-stop-unmount rounds; 0: 5 */
	const pid_t *protect; /* never signalled, reported as blockers */
	size_t nr_protect;
};

/*
 * Stages, in order: "collect", "freeze", "rmap", "thaw", "signal",
 * "wait", "invalidate", "punch", "shutdown", "unmount", "release".
 * The stage function is called when each begins and ends, and about five
 * times a second while waiting for processes to exit; a caller can use it
 * for progress and to pause (it may block: a freeze stays guarded).
 */
enum dg_stage_event {
	DG_STAGE_BEGIN = 1,
	DG_STAGE_END,
	DG_STAGE_PROGRESS,
};
typedef void (*dg_stage_fn)(struct dg_ctx *ctx, const char *stage, enum dg_stage_event event,
			    unsigned int pending, uint64_t elapsed_ms);
void dg_set_stage_fn(struct dg_ctx *ctx, dg_stage_fn fn);

struct dg_report;
struct dg_victim;
struct dg_step;

int dg_notify_failure(struct dg_target *target, const struct dg_range *ranges, size_t nr_ranges,
		      const struct dg_mf_opts *opts, struct dg_report **report);
void dg_report_free(struct dg_report *report);

/* what was found (owners and users), as dg_who() gives it */
struct dg_result *dg_report_get_result(struct dg_report *report);
/* true when every user let go and every requested step succeeded */
bool dg_report_is_complete(struct dg_report *report);
/* a range of metadata failed: the filesystem cannot vouch for itself */
bool dg_report_metadata_hit(struct dg_report *report);

enum dg_victim_state {
	DG_VICTIM_REPORTED = 1, /* policy report, or a dry run */
	DG_VICTIM_EXITED, /* signalled and exited */
	DG_VICTIM_SURVIVED, /* signalled and still running */
	DG_VICTIM_GONE, /* exited, or let go, before we signalled it */
	DG_VICTIM_PROTECTED, /* never signalled: ourselves, pid 1, ... */
};

struct dg_victim *dg_victim_get_first(struct dg_report *report);
struct dg_victim *dg_victim_get_next(struct dg_victim *victim);
#define dg_victim_foreach(report, v) \
	for (v = dg_victim_get_first(report); v != NULL; v = dg_victim_get_next(v))
pid_t dg_victim_get_pid(struct dg_victim *v);
const char *dg_victim_get_comm(struct dg_victim *v);
enum dg_victim_state dg_victim_get_state(struct dg_victim *v);
const char *dg_victim_state_name(enum dg_victim_state state);
/* why it is protected or gone, or NULL */
const char *dg_victim_get_reason(struct dg_victim *v);
/* the signals sent, in order, e.g. "TERM,KILL"; "" for none */
const char *dg_victim_get_signals(struct dg_victim *v);
/* ms since the flow began: first signal, exit; 0 = never */
uint64_t dg_victim_get_signalled_ms(struct dg_victim *v);
uint64_t dg_victim_get_exited_ms(struct dg_victim *v);

/* Steps: each thing done (or planned, in a dry run), in order. */
struct dg_step *dg_step_get_first(struct dg_report *report);
struct dg_step *dg_step_get_next(struct dg_step *step);
#define dg_step_foreach(report, s) \
	for (s = dg_step_get_first(report); s != NULL; s = dg_step_get_next(s))
const char *dg_step_get_stage(struct dg_step *s);
const char *dg_step_get_object(struct dg_step *s);
const char *dg_step_get_message(struct dg_step *s);
/* 0 on success, else a negative errno */
int dg_step_get_status(struct dg_step *s);
uint64_t dg_step_get_start_ms(struct dg_step *s);
uint64_t dg_step_get_duration_ms(struct dg_step *s);

/* ------------------------------------------------------------------ */
/* Devices: every DAX-capable device (LIBDAXGUARD_3)                   */

/*
 * What `daxguard list` shows and `daxguard watch` watches: each nd
 * namespace's device (through libndctl, so that names, modes, sizes and
 * UUIDs are ndctl's), each device-dax device, and with DG_DEVICES_ALL the
 * loop devices.  A list is a snapshot; dg_device_list_refresh() looks
 * again (after a udev event) and keeps every device object it had.
 */
enum dg_device_kind {
	DG_DEVICE_PMEM = 1, /* an nd namespace's block device: fsdax, raw, sector */
	DG_DEVICE_DAX, /* a device-dax character device */
	DG_DEVICE_LOOP, /* a loop device */
	DG_DEVICE_BLOCK, /* another block device, added by name */
};

enum dg_device_list_flags {
	DG_DEVICES_ALL = 1 << 0, /* loop devices too */
};

struct dg_device_list;
struct dg_device;

int dg_device_list_new(struct dg_ctx *ctx, unsigned int flags, struct dg_device_list **list);
void dg_device_list_free(struct dg_device_list *list);
struct dg_ctx *dg_device_list_get_ctx(struct dg_device_list *list);
/*
 * Add the block device @spec (a /dev path or MAJ:MIN) if the list lacks
 * it, and give it: a loop device or a disk that is not DAX-capable but
 * that somebody feeds ranges for.  -ENOTBLK, -ENODEV, with dg_get_error().
 */
int dg_device_list_add(struct dg_device_list *list, const char *spec, struct dg_device **dev);
/*
 * Look again: devices that appeared are appended, the ones still there
 * keep their objects (pointers to them stay good), updated, and the ones
 * that went away stay in the list, no longer present.
 */
int dg_device_list_refresh(struct dg_device_list *list);
/* false once a refresh did not find the device */
bool dg_device_is_present(struct dg_device *dev);
/* the present device with that number (@chr: a character device), or NULL */
struct dg_device *dg_device_list_find(struct dg_device_list *list, dev_t devnum, bool chr);
/*
 * The device whose physical range holds @phys, and the offset there: the
 * way dg_target_phys_to_offset() maps an address (who --pfn).  -ENXIO
 * when no device of the list has it (system RAM, another device).
 */
int dg_device_list_find_phys(struct dg_device_list *list, uint64_t phys, struct dg_device **dev,
			     uint64_t *offset);

struct dg_device *dg_device_get_first(struct dg_device_list *list);
struct dg_device *dg_device_get_next(struct dg_device *dev);
#define dg_device_foreach(list, dev) \
	for (dev = dg_device_get_first(list); dev != NULL; dev = dg_device_get_next(dev))

enum dg_device_kind dg_device_get_kind(struct dg_device *dev);
const char *dg_device_kind_name(enum dg_device_kind kind);
/* /dev/pmem0, /dev/dax0.0, /dev/loop3 */
const char *dg_device_get_devname(struct dg_device *dev);
dev_t dg_device_get_devnum(struct dg_device *dev);
/* bytes, as ndctl list gives them for a namespace */
uint64_t dg_device_get_size(struct dg_device *dev);
/* "fsdax", "raw", "sector", "devdax", or NULL */
const char *dg_device_get_mode(struct dg_device *dev);
/* "namespace0.0", "region0" or NULL */
const char *dg_device_get_namespace(struct dg_device *dev);
const char *dg_device_get_region(struct dg_device *dev);
/* the UUID ndctl list shows (the pfn's, dax's, btt's or namespace's), or NULL */
const char *dg_device_get_uuid(struct dg_device *dev);
/* the region's UUID (CXL regions have one), or NULL */
const char *dg_device_get_region_uuid(struct dg_device *dev);
/* the serial numbers (unique ids) of the DIMMs under the region */
size_t dg_device_get_nr_serials(struct dg_device *dev);
const char *dg_device_get_serial(struct dg_device *dev, size_t idx);
/* a loop device's backing file, or NULL */
const char *dg_device_get_backing_file(struct dg_device *dev);
/* DAX-capable: a block device with queue/dax 1, or device-dax */
bool dg_device_is_dax(struct dg_device *dev);
/* the physical address range (pmem, device-dax): 0 or -ENXIO */
int dg_device_get_phys_range(struct dg_device *dev, uint64_t *start, uint64_t *size);
/* the device's own sysfs directory, resolved (/sys/devices/...) */
const char *dg_device_get_syspath(struct dg_device *dev);
/*
 * What stays the same across reboots and renumbering, for state kept
 * about the device: "uuid:UUID", "loop:BACKING-FILE", else
 * "nd:REGION/NAMESPACE" or "dev:NAME".
 */
const char *dg_device_get_identity(struct dg_device *dev);
/*
 * The device's badblocks list from sysfs, appended to *@ranges as
 * dg_parse_badblocks() does: -ENOENT when the device keeps none.
 */
int dg_device_get_badblocks(struct dg_device *dev, struct dg_range **ranges, size_t *nr);
/*
 * true when @dev lies below the sysfs directory @syspath (a PCIe port, a
 * bridge): what a slot powering off takes with it.
 */
bool dg_device_is_below(struct dg_device *dev, const char *syspath);

/* ------------------------------------------------------------------ */
/* CXL memory (LIBDAXGUARD_4)                                          */

/*
 * A pmem namespace or device-dax device may lie on a CXL region: host
 * physical addresses that the region's memdevs (type-3 memory devices)
 * serve, interleaved.  A memdev names a failed byte by its device
 * physical address (DPA): poison lists, the cxl_poison trace event,
 * `cxl list --media-errors`.  The region is found by its host address
 * range (sysfs has no link from the nd region to it); its memdevs come
 * in interleave order, each with the endpoint decoder that maps its part.
 */
struct dg_cxl_region;
struct dg_cxl_target;

/* the CXL region that @target, or @dev, lies on, or NULL */
struct dg_cxl_region *dg_target_get_cxl_region(struct dg_target *target);
struct dg_cxl_region *dg_device_get_cxl_region(struct dg_device *dev);

/* "region0", its root decoder "decoder0.0", its UUID (or NULL), "pmem" or "ram" */
const char *dg_cxl_region_get_name(struct dg_cxl_region *region);
const char *dg_cxl_region_get_decoder(struct dg_cxl_region *region);
const char *dg_cxl_region_get_uuid(struct dg_cxl_region *region);
const char *dg_cxl_region_get_mode(struct dg_cxl_region *region);
/* the host physical address range */
uint64_t dg_cxl_region_get_resource(struct dg_cxl_region *region);
uint64_t dg_cxl_region_get_size(struct dg_cxl_region *region);
unsigned int dg_cxl_region_get_interleave_ways(struct dg_cxl_region *region);
unsigned int dg_cxl_region_get_interleave_granularity(struct dg_cxl_region *region);
/*
 * "enabled" (committed, its driver bound), "disabled" (committed, no
 * driver) or "uncommitted" (its decoders reset, or being reset, or never
 * committed: it maps nothing)
 */
const char *dg_cxl_region_get_state(struct dg_cxl_region *region);
/* the memdevs' parts, in interleave order (position 0 first) */
size_t dg_cxl_region_get_nr_targets(struct dg_cxl_region *region);
struct dg_cxl_target *dg_cxl_region_get_target(struct dg_cxl_region *region, size_t idx);
unsigned int dg_cxl_target_get_position(struct dg_cxl_target *ct);
/* "mem0"; its serial number (-ENOENT if it has none); its PCI device */
const char *dg_cxl_target_get_memdev(struct dg_cxl_target *ct);
int dg_cxl_target_get_serial(struct dg_cxl_target *ct, uint64_t *serial);
const char *dg_cxl_target_get_host(struct dg_cxl_target *ct);
/* the endpoint decoder, and the DPA range it maps into the region */
const char *dg_cxl_target_get_decoder(struct dg_cxl_target *ct);
uint64_t dg_cxl_target_get_dpa_start(struct dg_cxl_target *ct);
uint64_t dg_cxl_target_get_dpa_size(struct dg_cxl_target *ct);

/*
 * The interleave arithmetic (modulo; CXL 3.0 8.2.4.19.13): the region's
 * host addresses go round @ways devices (1, 2, 3, 4, 6, 8, 12 or 16)
 * @granularity bytes (a power of two, 256 to 16 KiB) at a time.  Offsets
 * are from the start of the region (HPA) and of the decoder's DPA range.
 * -EINVAL for ways, granularity or position out of bounds, -ERANGE when
 * the address passes 64 bits.
 */
int dg_cxl_dpa_to_hpa(unsigned int ways, unsigned int granularity, unsigned int position,
		      uint64_t dpa_offset, uint64_t *hpa_offset);
int dg_cxl_hpa_to_dpa(unsigned int ways, unsigned int granularity, uint64_t hpa_offset,
		      unsigned int *position, uint64_t *dpa_offset);
/*
 * What the host range [@hpa_offset, +@length) holds of the device at
 * @position: always one contiguous DPA range, or -ENOENT for none.
 */
int dg_cxl_hpa_range_to_dpa(unsigned int ways, unsigned int granularity, uint64_t hpa_offset,
			    uint64_t length, unsigned int position, uint64_t *dpa_offset,
			    uint64_t *dpa_length);

/*
 * "MEMDEV:DPA" as --dpa takes it: a memdev name as the cxl bus gives it
 * ("mem0") into @memdev (@size bytes), and an address in dg_parse_size()
 * format.  -EINVAL for a malformed string, -ERANGE past 64 bits,
 * -ENAMETOOLONG when the name does not fit.
 */
int dg_parse_dpa(const char *str, char *memdev, size_t size, uint64_t *dpa);

/*
 * The DPA range [@dpa, +@length) of @memdev as ranges of @target,
 * appended to *@ranges (a malloc()ed array of *@nr, grown with realloc):
 * one piece per interleave granule, each merged with the one before when
 * they touch.  Fails (with dg_get_error() naming the memdev and what it
 * maps) with -ENXIO for a target on no CXL region or a memdev not in it,
 * -ENODEV for no such memdev, -ERANGE for a DPA that no committed decoder
 * maps or that lies outside the target (another namespace, or the
 * namespace's own metadata), -EBUSY for a region that is not committed.
 */
int dg_target_dpa_to_ranges(struct dg_target *target, const char *memdev, uint64_t dpa,
			    uint64_t length, struct dg_range **ranges, size_t *nr);
/*
 * The reverse: what [@offset, +@length) of @target holds of the memdev
 * at interleave index @idx (dg_cxl_region_get_target()), as one DPA
 * range; -ENOENT when it holds none of it, -ERANGE when the range is not
 * in the region, -EINVAL when @target has no CXL region.
 */
int dg_target_range_to_dpa(struct dg_target *target, uint64_t offset, uint64_t length, size_t idx,
			   uint64_t *dpa, uint64_t *dpa_length);

/*
 * CXL poison: a record of what a memdev, or a region, says is bad.  From
 * the cxl_poison trace event (Linux 6.4+; the memdev and the DPA, and the
 * host address when the DPA is in a region), or from `cxl list
 * --media-errors` (ndctl v80+; by memdev the offset is the DPA, by region
 * it is from the region's resource).
 */
struct dg_cxl_poison {
	char memdev[32]; /* "" when the record names a region only */
	char region[32]; /* "" when unknown or in none */
	uint64_t dpa; /* when has_dpa */
	uint64_t hpa; /* when has_hpa */
	uint64_t region_offset; /* when has_region_offset */
	uint64_t length; /* bytes, > 0 */
	char source[16]; /* "Injected", "Internal", ... or "" */
	bool has_dpa, has_hpa, has_region_offset;
};

/*
 * One line of tracefs output (the trace file, trace_pipe, or dmesg with
 * tp_printk), @len bytes, not NUL-terminated (a final '\n' is allowed):
 * 1 and @rec for a cxl_poison record that names poison (trace_type List
 * or Inject), 0 for any other line (and for Clear), -EINVAL for a
 * cxl_poison line without a memdev, dpa or dpa_length or with a bad
 * value, -ERANGE past 64 bits, -EILSEQ for a NUL byte.
 */
int dg_parse_cxl_poison_line(const char *line, size_t len, struct dg_cxl_poison *rec);
/*
 * The JSON of `cxl list --media-errors` (with or without -u, nested or
 * not): every media error appended to *@recs (malloc()ed, *@nr of them);
 * -EINVAL for text that is not JSON or a media_errors array that is not
 * the tool's, and then nothing is appended.
 */
int dg_parse_cxl_media_errors(const char *buf, size_t len, struct dg_cxl_poison **recs, size_t *nr);
/*
 * Poison records as ranges of @target, appended to *@ranges (as
 * dg_target_dpa_to_ranges() does); *@skipped counts the records that are
 * not on it (other memdevs or regions, unmapped capacity, another
 * namespace).  -ENXIO for a target with no physical range.
 */
int dg_target_cxl_poison_ranges(struct dg_target *target, const struct dg_cxl_poison *recs,
				size_t nr, struct dg_range **ranges, size_t *nr_ranges,
				size_t *skipped);
/*
 * The poison lists of the memdevs under @target's CXL region, read now
 * (trigger_poison_list, collected through a private tracefs instance),
 * as ranges of @target appended to *@ranges.  -ENXIO for a target on no
 * CXL region, -EOPNOTSUPP when a memdev or the kernel cannot list poison.
 */
int dg_target_get_cxl_poison(struct dg_target *target, struct dg_range **ranges, size_t *nr);

/* ------------------------------------------------------------------ */
/* Events: the user-space callers of dax_holder_notify_failure()      */

/*
 * An event source turns one kernel signal into events: a device, the
 * ranges that failed, and what kind of thing happened.  The caller (the
 * watch daemon) decides what to do: dg_notify_failure() for failed
 * ranges, the pre-remove flow for a device about to go.
 *
 * Every source has one descriptor to poll for POLLIN (dg_source_get_fd),
 * and maybe a deadline (dg_source_get_timeout).  When either comes, or
 * whenever the caller wants a fresh look (a periodic re-read of a list
 * that not every platform notifies), dg_source_process() reads what there
 * is and queues events, which dg_source_pop_event() hands out.  Events
 * queued by the source's constructor describe what was there before it
 * started (dg_event_is_initial()).
 *
 * Sources:
 *   badblocks       a device's sysfs badblocks list and its nd region's,
 *                   polled for POLLPRI (the kernel notifies after a scrub)
 *   badblocks-file  a badblocks list in a file that other tools append to
 *                   or replace, watched with inotify; lines that do not
 *                   parse are named in the event's warnings, by number,
 *                   and the rest is taken
 *   kmsg            the kernel's "Memory failure: 0xPFN: ..." lines, one
 *                   event per page once the kernel said what it did
 *   udev            devices of the block, nd, dax and cxl subsystems
 *                   that come and go (from udevd, or the kernel's uevents
 *                   when no udevd runs)
 *   pciehp          "Slot(N): Button press: will power off in 5 sec": the
 *                   one warning user space gets before a device goes
 * The CXL trace events (cxl_poison, cxl_general_media, cxl_dram) will be
 * one more source, event-cxl.c, once the CXL topology can turn an HPA and
 * a region into a target and offset.
 */
struct dg_source;
struct dg_event;

enum dg_event_kind {
	DG_EVENT_BADBLOCKS = 1, /* ranges newly listed as bad */
	DG_EVENT_MEMORY_FAILURE, /* the kernel handled a failed page */
	DG_EVENT_DEVICE_ADD,
	DG_EVENT_DEVICE_REMOVE,
	DG_EVENT_DEVICE_CHANGE, /* nd, dax, cxl topology changed */
	DG_EVENT_PRE_REMOVE, /* a slot is about to power off */
	DG_EVENT_PRE_REMOVE_CANCELED, /* ... and then not */
};
const char *dg_event_kind_name(enum dg_event_kind kind);

int dg_source_badblocks_new(struct dg_device *dev, struct dg_source **src);
/* @path need not exist yet; it must be writable by root alone (-EPERM) */
int dg_source_badblocks_file_new(struct dg_device *dev, const char *path, struct dg_source **src);
int dg_source_kmsg_new(struct dg_ctx *ctx, struct dg_source **src);
int dg_source_udev_new(struct dg_ctx *ctx, struct dg_source **src);
int dg_source_pciehp_new(struct dg_ctx *ctx, struct dg_source **src);
void dg_source_free(struct dg_source *src);

/* "badblocks", "badblocks-file", "kmsg", "udev", "pciehp" */
const char *dg_source_get_name(struct dg_source *src);
/* the device a badblocks source watches, else NULL */
struct dg_device *dg_source_get_device(struct dg_source *src);
/* a badblocks-file source's file; udev: "udev" or "kernel" (whose events) */
const char *dg_source_get_path(struct dg_source *src);
int dg_source_get_fd(struct dg_source *src);
/* ms until dg_source_process() wants to run anyway, or -1 */
int dg_source_get_timeout(struct dg_source *src);
/*
 * Read what is there and queue the events: how many were queued, or a
 * negative errno (the source cannot go on, e.g. its device went away;
 * dg_get_error() says why).
 */
int dg_source_process(struct dg_source *src);
/* the oldest queued event, which the caller frees, or NULL */
struct dg_event *dg_source_pop_event(struct dg_source *src);

void dg_event_free(struct dg_event *ev);
enum dg_event_kind dg_event_get_kind(struct dg_event *ev);
const char *dg_event_get_source(struct dg_event *ev);
/* the watched device (badblocks sources), else NULL */
struct dg_device *dg_event_get_device(struct dg_event *ev);
/* the kernel device: /dev/pmem0 (udev), the PCIe port (pciehp), or NULL */
const char *dg_event_get_devname(struct dg_event *ev);
dev_t dg_event_get_devnum(struct dg_event *ev);
/* udev: the subsystem ("block", "nd", "dax", "cxl") and the action */
const char *dg_event_get_subsystem(struct dg_event *ev);
const char *dg_event_get_action(struct dg_event *ev);
/* the sysfs directory of the device (udev) or of the port (pciehp) */
const char *dg_event_get_syspath(struct dg_event *ev);
/* pciehp: the slot's name, as in /sys/bus/pci/slots */
const char *dg_event_get_slot(struct dg_event *ev);
/* the event was there before the source started */
bool dg_event_is_initial(struct dg_event *ev);
/* BADBLOCKS: ranges on the device, sorted, merged, new since the last look */
size_t dg_event_get_nr_ranges(struct dg_event *ev);
const struct dg_range *dg_event_get_range(struct dg_event *ev, size_t idx);
/* MEMORY_FAILURE: the page's physical address and the kernel's page size */
uint64_t dg_event_get_phys(struct dg_event *ev);
uint64_t dg_event_get_page_size(struct dg_event *ev);
/*
 * MEMORY_FAILURE: what the kernel did: "Recovered", "Failed", "Delayed",
 * "Ignored", or NULL when it did not say; and the processes it signalled
 * ("Sending SIGBUS to COMM:PID").
 */
const char *dg_event_get_kernel_result(struct dg_event *ev);
size_t dg_event_get_nr_kernel_pids(struct dg_event *ev);
pid_t dg_event_get_kernel_pid(struct dg_event *ev, size_t idx);
/* the kernel's own words (kmsg, pciehp): the lines, as logged */
const char *dg_event_get_message(struct dg_event *ev);
/* what the source could not take ("FILE:LINE: ..."), in order */
size_t dg_event_get_nr_warnings(struct dg_event *ev);
const char *dg_event_get_warning(struct dg_event *ev, size_t idx);

#ifdef __cplusplus
}
#endif

#endif /* _LIBDAXGUARD_H_ */
