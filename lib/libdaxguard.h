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
 * badblocks format when @badblocks is true (512-byte sectors).
 */
int dg_parse_range(const char *str, bool badblocks, struct dg_range *range);

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

/* Warnings collected on the way (unreadable processes, ...). */
const char *dg_warning_get_first(struct dg_result *result);
const char *dg_warning_get_next(struct dg_result *result, const char *prev);
#define dg_warning_foreach(result, w) \
	for (w = dg_warning_get_first(result); w != NULL; w = dg_warning_get_next(result, w))
/*
 * True when a reverse map could not look at everything, so that the owners
 * may miss some: files or directories it could not open (as non-root),
 * inode tables it could not read.  A warning says what.  Blocks in use
 * whose owner is not known are owners of type DG_OWNER_UNKNOWN instead:
 * an incomplete answer is never "nothing there".
 */
bool dg_result_is_incomplete(struct dg_result *result);

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

#ifdef __cplusplus
}
#endif

#endif /* _LIBDAXGUARD_H_ */
