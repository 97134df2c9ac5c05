// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Reaching a mount without trusting its path.
 *
 * daxguard runs as root and finds mounts in mountinfo tables, as paths.  A
 * path is only a name: whoever can write a directory on it can swap that
 * directory for a symlink, and whoever owns a mount namespace (a rootless
 * container) can mount something else on top at any moment.  A root
 * process that then freezes, shuts down or unmounts "that path" acts on
 * whatever is there now.  So every descriptor daxguard acts through is
 * checked against what the table said: the same mount (its mount ID,
 * statx STATX_MNT_ID), the same device, and the root of that mount.
 * mountinfo paths are canonical, so a symlink anywhere on one is a sign of
 * tampering, and the lookup refuses it (openat2 RESOLVE_NO_SYMLINKS).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "private.h"

/* openat2(2), or plain openat() where the kernel lacks it (before 5.6) */
static int open_resolved(int dirfd, const char *path, int flags, uint64_t resolve)
{
	struct open_how how = { .flags = (uint64_t)flags, .resolve = resolve };
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));

	if (fd < 0 && errno == ENOSYS) {
		/* the check of the mount ID below still catches a detour */
		if (resolve & RESOLVE_IN_ROOT) {
			while (*path == '/')
				path++;
			if (!*path)
				path = ".";
		}
		fd = openat(dirfd, path, flags);
	}
	return fd < 0 ? -errno : fd;
}

/*
 * check_mount() of a filesystem that shut itself down (XFS after an I/O
 * error, its device gone): statx() asks the filesystem and fails with
 * EIO, yet it is the very one to unmount.  The mount ID comes from fdinfo
 * instead, which the filesystem is not asked for.  It is the mount's root
 * if what is above it (its parent directory, or "..") is another mount:
 * any other directory of a mount has its parent on the same mount.
 */
static int check_mount_fdinfo(const struct dg_mount *m, int procfd, int fd, const char *name,
			      bool root)
{
	uint64_t id, above, ino;
	int rc;

	rc = dg_fdinfo_at(procfd, fd, name, O_NOFOLLOW, &id, &ino);
	if (rc)
		return rc == -ENODATA ? -EIO : rc;
	if (id != m->mnt_id)
		return -ESTALE;
	if (!root)
		return 0;
	/* above @name: @fd itself; above @fd: its ".." */
	rc = dg_fdinfo_at(procfd, fd, *name ? "" : "..", *name ? 0 : O_DIRECTORY, &above, &ino);
	if (rc)
		return rc == -ENODATA ? -EIO : rc;
	/* "/" of the namespace is above itself: its own root */
	return above != id || !strcmp(m->target, "/") ? 0 : -ESTALE;
}

/*
 * Is @fd (at @name below it, or itself for "") on mount @m, the root of
 * that mount when @root?  0, -ESTALE when it is something else.  @procfd:
 * where our fdinfo is read when the filesystem answers with EIO.
 */
static int check_mount(const struct dg_mount *m, int procfd, int fd, const char *name, bool root)
{
	struct statx stx;

	if (statx(fd, name, (*name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH) | AT_NO_AUTOMOUNT,
		  STATX_MNT_ID | STATX_INO, &stx) < 0)
		return errno == EIO ? check_mount_fdinfo(m, procfd, fd, name, root) : -errno;
	if (!(stx.stx_mask & STATX_MNT_ID))
		return -EOPNOTSUPP; /* before 5.8: no way to tell */
	if (stx.stx_mnt_id != m->mnt_id)
		return -ESTALE;
	if (m->fs && !m->fs->dax_ino &&
	    makedev(stx.stx_dev_major, stx.stx_dev_minor) != m->fs->devnum)
		return -ESTALE;
	if (root && (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
	    !(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		return -ESTALE;
	return 0;
}

const char *dg_mount_error(int rc)
{
	switch (rc) {
	case -ESTALE:
	case -ELOOP:
		return "its mount point now leads elsewhere (a mount or a symlink was put in the way): not touched";
	case -ENOENT:
		return "no mount of its root to reach it through";
	case -ESRCH:
		return "the mount namespace it is in is gone";
	case -EOPNOTSUPP:
		return "this kernel cannot tell a mount by its ID (statx STATX_MNT_ID, 5.8): not touched";
	default:
		return strerror(-rc);
	}
}

/* The mount namespace (inode) of @pid, or 0. */
uint64_t dg_pid_mntns(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

/*
 * The root directory as a process of @m's namespace sees it: mountinfo
 * paths are relative to it.  The process must still be in that namespace
 * once its root is open, or its number went to somebody else.
 */
static int open_ns_root(const struct dg_mount *m)
{
	char path[64];
	int fd;

	if (m->local)
		return AT_FDCWD;
	snprintf(path, sizeof(path), "/proc/%d/root", (int)m->ns_pid);
	fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -ESRCH;
	if (dg_pid_mntns(m->ns_pid) != m->mntns) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

int dg_mount_open(const struct dg_mount *m, int flags)
{
	int nsroot = open_ns_root(m), fd, rc;

	if (nsroot < 0 && nsroot != AT_FDCWD)
		return nsroot;
	fd = open_resolved(nsroot, m->target, flags | O_DIRECTORY | O_CLOEXEC,
			   RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
				   (m->local ? 0 : RESOLVE_IN_ROOT));
	if (nsroot >= 0)
		close(nsroot);
	if (fd < 0)
		return fd == -ELOOP ? -ESTALE : fd;
	rc = check_mount(m, AT_FDCWD, fd, "", true);
	if (rc) {
		close(fd);
		return rc;
	}
	return fd;
}

/*
 * Unmount @m in the calling process, which stands in @m's namespace with
 * its root: the parent directory is opened without symlinks, the entry in
 * it checked to be the mount itself (not one stacked on top, not one put
 * there since), and unmounted by that one name.  A mountpoint cannot be
 * renamed or removed, so the name cannot be swapped in between.  @procfd:
 * our /proc, held from before we joined the namespace, whose own /proc
 * (if any) may be of another pid namespace, where we are nobody.
 */
static int umount_checked(const struct dg_mount *m, int procfd)
{
	char *copy = strdup(m->target), *base, *dir;
	int dfd, rc;

	if (!copy)
		return -ENOMEM;
	if (!strcmp(m->target, "/")) {
		free(copy);
		return umount2("/", 0) < 0 ? -errno : 0;
	}
	base = strrchr(copy, '/');
	if (!base || !base[1]) {
		free(copy);
		return -EINVAL;
	}
	*base++ = '\0';
	dir = *copy ? copy : "/";
	dfd = open_resolved(AT_FDCWD, dir, O_PATH | O_DIRECTORY | O_CLOEXEC,
			    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
	if (dfd < 0) {
		free(copy);
		return dfd == -ELOOP ? -ESTALE : dfd;
	}
	rc = check_mount(m, procfd, dfd, base, true);
	if (!rc && fchdir(dfd) < 0)
		rc = -errno;
	if (!rc && umount2(base, UMOUNT_NOFOLLOW) < 0)
		rc = -errno;
	close(dfd);
	free(copy);
	return rc;
}

/*
 * A child does it: it may have to join another mount namespace (which
 * needs a single-threaded caller: the child is one), and it changes its
 * working directory.
 */
int dg_mount_umount(const struct dg_mount *m)
{
	int nsfd = -1, rootfd = -1, procfd = AT_FDCWD, status;
	char path[64];
	pid_t pid;

	if (!m->local) {
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)m->ns_pid);
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		rootfd = open_ns_root(m);
		/* both must be of the namespace the table was read from */
		if (nsfd >= 0) {
			struct stat st;

			if (fstat(nsfd, &st) < 0 || (uint64_t)st.st_ino != m->mntns) {
				close(nsfd);
				nsfd = -1;
			}
		}
		procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (nsfd < 0 || rootfd < 0 || procfd < 0) {
			status = procfd < 0 ? -errno : -ESRCH;
			goto out;
		}
	}
	pid = fork();
	if (pid < 0) {
		status = -errno;
		goto out;
	}
	if (pid == 0) {
		if (!m->local &&
		    (setns(nsfd, CLONE_NEWNS) < 0 || fchdir(rootfd) < 0 || chroot(".") < 0))
			_exit(errno & 0xff);
		_exit(-umount_checked(m, procfd) & 0xff);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			status = -errno;
			goto out;
		}
	}
	status = WIFEXITED(status) ? -WEXITSTATUS(status) : -EINTR;
out:
	if (nsfd >= 0)
		close(nsfd);
	if (rootfd >= 0)
		close(rootfd);
	if (procfd >= 0)
		close(procfd);
	return status;
}
