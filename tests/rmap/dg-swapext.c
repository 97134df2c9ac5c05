// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dg-swapext TARGET DONOR: swap the data forks of two XFS files of the same
 * size with XFS_IOC_SWAPEXT, as xfs_fsr does after copying a file into a
 * less fragmented donor.  The target's size, block count, extent count and
 * timestamps stay as they were: only where its blocks are changes.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xfs/xfs.h>

int main(int argc, char **argv)
{
	struct xfs_swapext sx;
	struct xfs_fsop_bulkreq req;
	struct stat st;
	__u64 ino;
	int t, d;

	if (argc != 3) {
		fprintf(stderr, "usage: dg-swapext TARGET DONOR\n");
		return 2;
	}
	t = open(argv[1], O_RDWR);
	d = open(argv[2], O_RDWR);
	if (t < 0 || d < 0 || fstat(t, &st) < 0) {
		perror(t < 0 ? argv[1] : argv[2]);
		return 1;
	}
	memset(&sx, 0, sizeof(sx));
	/* the kernel refuses the swap if the target changed since this stat */
	ino = st.st_ino;
	req.lastip = &ino;
	req.icount = 1;
	req.ubuffer = &sx.sx_stat;
	req.ocount = NULL;
	if (ioctl(t, XFS_IOC_FSBULKSTAT_SINGLE, &req) < 0) {
		perror("XFS_IOC_FSBULKSTAT_SINGLE");
		return 1;
	}
	sx.sx_version = XFS_SX_VERSION;
	sx.sx_fdtarget = t;
	sx.sx_fdtmp = d;
	sx.sx_offset = 0;
	sx.sx_length = st.st_size;
	if (ioctl(t, XFS_IOC_SWAPEXT, &sx) < 0) {
		perror("XFS_IOC_SWAPEXT");
		return 1;
	}
	return 0;
}
