/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * XFS keeps its on-disk fields big-endian and unaligned to any host word:
 * the readers of lib/xfs-dinode.c and lib/xfs-ag.c take them through these.
 */
#ifndef DAXGUARD_XFS_BE_H
#define DAXGUARD_XFS_BE_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t get16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return be16toh(v);
}

static inline uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return be32toh(v);
}

static inline uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return be64toh(v);
}

#endif
