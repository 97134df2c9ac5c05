/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers shared by the library and the command. */
#ifndef _DG_UTIL_H_
#define _DG_UTIL_H_

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DG_MIN(a, b) ((a) < (b) ? (a) : (b))
#define DG_MAX(a, b) ((a) > (b) ? (a) : (b))

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_close_ __attribute__((cleanup(closep)))

/*
 * Read a small text file (a sysfs attribute) into @buf, without the
 * trailing newline.  Returns the length or a negative errno.
 */
ssize_t dg_read_text(int dirfd, const char *path, char *buf, size_t size);
/* Same, parsed as an unsigned decimal number. */
int dg_read_u64(int dirfd, const char *path, uint64_t *val);

/*
 * "mnt_id:" and "ino:" of a /proc fdinfo file (@dirfd, @path): which mount
 * and inode a descriptor is, told by the kernel without asking the
 * filesystem, whose getattr may fail (EIO once it shut itself down).
 * 0, -ENODATA for a file without them, or another -errno.
 */
int dg_read_fdinfo(int dirfd, const char *path, uint64_t *mnt_id, uint64_t *ino);
/*
 * The same of what @name below @dirfd leads to (@dirfd itself for ""),
 * through an O_PATH descriptor (with @flags: O_NOFOLLOW, O_DIRECTORY) and
 * our own fdinfo: it follows /proc's magic links without a getattr.  Our
 * fdinfo is read below @procfd, a descriptor of a /proc of our pid
 * namespace (held, it still works in a mount namespace or chroot with no
 * such /proc), or below /proc for AT_FDCWD.
 */
int dg_fdinfo_at(int procfd, int dirfd, const char *name, int flags, uint64_t *mnt_id,
		 uint64_t *ino);

/* "1.5 GiB" style, into @buf; returns @buf. */
const char *dg_size_str(uint64_t bytes, char *buf, size_t size);

/*
 * A map from 64-bit keys (pids, inode numbers) to pointers, for lookups
 * that were linear searches of lists thousands long: open addressing,
 * grown at three quarters full.  NULL values are not stored.
 */
struct dg_u64map {
	uint64_t *keys;
	void **vals;
	size_t cap, nr;
};

void *dg_u64map_get(const struct dg_u64map *m, uint64_t key);
/* add or replace; returns 0 or -ENOMEM */
int dg_u64map_put(struct dg_u64map *m, uint64_t key, void *val);
void dg_u64map_free(struct dg_u64map *m);

/* Does this process have every one of @caps (CAP_*) in effect? */
bool dg_have_caps(const int *caps, size_t n);

/*
 * escape.c: a name someone else chose, made safe to print.  Bytes that are
 * not valid UTF-8 become \xNN (and a backslash that starts "\x" becomes
 * \x5c, so it can be undone), which is enough for JSON; for a terminal
 * (DG_ESC_TERMINAL) so do control and other non-printable characters, as
 * libsmartcols encodes table cells.  NULL only when out of memory.
 */
#define DG_ESC_JSON 0
#define DG_ESC_TERMINAL 1
char *dg_str_escape(const char *str, unsigned int how);
bool dg_str_needs_escape(const char *str, unsigned int how);

/*
 * Refuse what somebody other than root could change, as sudo refuses a
 * writable sudoers: @path and every directory above it (as written, and
 * after symlinks are resolved) must belong to root and be writable by
 * nobody else; a sticky directory (/tmp) may be.  0, -EPERM with the
 * reason in @why ("/etc/x: writable by its group"), -ENOENT when @path
 * does not exist (its directories pass), or another -errno.
 */
int dg_path_root_only(const char *path, char *why, size_t size);

#endif
