/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The input of fuzz-xfs-dinode, which mkseed-xfs writes from real images:
 *
 *	byte 0		log2 of the block size (9..16)
 *	byte 1		log2 of the inode size (8..11)
 *	byte 2		bit 0: a v5 (CRC) filesystem
 *	byte 3		0
 *	bytes 4..7	agblocks, little-endian
 *	bytes 8..11	agcount, little-endian
 *	then		the inode, inode-size bytes, as on the device
 *	then, repeated	a block: its filesystem block number (8 bytes,
 *			little-endian), then block-size bytes
 *
 * The blocks are what the bmbt walk may read; any other block reads as
 * EIO.
 */
#ifndef DAXGUARD_FUZZ_XFS_DINODE_H
#define DAXGUARD_FUZZ_XFS_DINODE_H

#define FUZZ_XFS_HDR 12

#endif
