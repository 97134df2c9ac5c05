// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * A device-dax device in system-ram mode (bound to the kmem driver, as
 * `daxctl reconfigure-device --mode=system-ram` leaves it): no process maps
 * the device, its memory is plain RAM of a NUMA node, in memory blocks
 * (/sys/devices/system/memory/memoryN).  Its users are the processes with
 * pages on that node; taking it away means offlining its blocks.
 *
 * dev_dax_kmem_probe() adds the device's range trimmed to whole memory
 * blocks, so the blocks are those wholly inside [resource, resource +
 * size).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

#define MEMORY_DIR "/sys/devices/system/memory"
#define NODE_DIR "/sys/devices/system/node"

void dg_kmem_free(struct dg_kmem *k)
{
	if (!k)
		return;
	free(k->blocks);
	free(k);
}

/* state, zone and removable of one block, read again */
int dg_kmem_block_read(struct dg_kmem_block *b)
{
	char path[96], buf[128];
	int dir;

	snprintf(path, sizeof(path), MEMORY_DIR "/memory%" PRIu64, b->id);
	dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	if (dg_read_text(dir, "state", b->state, sizeof(b->state)) < 0)
		snprintf(b->state, sizeof(b->state), "unknown");
	/*
	 * valid_zones of an online block names the zone it is in; of an
	 * offline one, the zones it could go to
	 */
	if (dg_read_text(dir, "valid_zones", buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	snprintf(b->zone, sizeof(b->zone), "%s", buf);
	b->removable = -1;
	if (dg_read_text(dir, "removable", buf, sizeof(buf)) > 0)
		b->removable = buf[0] == '1';
	close(dir);
	return 0;
}

/* the nodes with memory, as the kernel lists them (N_MEMORY) */
static int nodes_with_memory(uint64_t *nodes)
{
	char buf[4096];
	int dir = open(NODE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ssize_t n;

	if (dir < 0)
		return -errno;
	n = dg_read_text(dir, "has_memory", buf, sizeof(buf));
	close(dir);
	if (n < 0)
		return (int)n;
	return dg_parse_nodelist(buf, (size_t)n, nodes);
}

bool dg_kmem_only_memory(const uint64_t *has_memory, unsigned int node)
{
	unsigned int i;

	for (i = 0; i < DG_NUMA_MAX_NODES / 64; i++) {
		uint64_t mine = i == node / 64 ? 1ULL << (node % 64) : 0;

		if (has_memory[i] & ~mine)
			return false;
	}
	return true;
}

/* how many memory blocks node @node has, all of them */
static size_t node_blocks(unsigned int node)
{
	char path[64];
	struct dirent *de;
	size_t n = 0;
	DIR *d;

	snprintf(path, sizeof(path), NODE_DIR "/node%u", node);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "memory", 6) && de->d_name[6] >= '0' &&
		    de->d_name[6] <= '9')
			n++;
	closedir(d);
	return n;
}

int dg_target_find_kmem(struct dg_target *t, int devdir)
{
	uint64_t bs, first, end, id, has_memory[DG_NUMA_MAX_NODES / 64] = { 0 };
	char buf[PATH_MAX], *drv;
	struct dg_kmem *k;
	int64_t node;
	ssize_t n;
	int dir;

	n = readlinkat(devdir, "driver", buf, sizeof(buf) - 1);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	drv = strrchr(buf, '/');
	if (!drv || strcmp(drv, "/kmem"))
		return 0; /* device_dax, or no driver: the devdax flow */
	if (!t->phys_start)
		return dg_fail(t->ctx, -ENXIO, "%s: in system-ram mode, but no physical range",
			       t->devname);
	if (dg_read_text(devdir, "target_node", buf, sizeof(buf)) <= 0 ||
	    sscanf(buf, "%" SCNd64, &node) != 1 || node < 0 || node >= DG_NUMA_MAX_NODES)
		return dg_fail(t->ctx, -EIO, "%s: in system-ram mode, but no target node",
			       t->devname);
	dir = open(MEMORY_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return dg_fail(t->ctx, -errno, "%s: system-ram mode: %s: %m", t->devname,
			       MEMORY_DIR);
	n = dg_read_text(dir, "block_size_bytes", buf, sizeof(buf));
	close(dir);
	if (n <= 0 || sscanf(buf, "%" SCNx64, &bs) != 1 || !bs || (bs & (bs - 1)))
		return dg_fail(t->ctx, -EIO, "%s: cannot read the memory block size", t->devname);
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->node = (unsigned int)node;
	k->block_size = bs;
	first = (t->phys_start + bs - 1) / bs;
	end = (t->phys_start + t->size) / bs;
	k->blocks = calloc(end > first ? end - first : 1, sizeof(*k->blocks));
	if (!k->blocks) {
		free(k);
		return -ENOMEM;
	}
	for (id = first; id < end; id++) {
		struct dg_kmem_block *b = &k->blocks[k->nr_blocks];

		b->id = id;
		/* a block the kernel never added (a hole) is not the device's */
		if (dg_kmem_block_read(b) == 0)
			k->nr_blocks++;
	}
	k->node_blocks = node_blocks(k->node);
	if (!nodes_with_memory(has_memory))
		k->only_memory = dg_kmem_only_memory(has_memory, k->node);
	t->kmem = k;
	return 0;
}

DG_EXPORT bool dg_target_is_kmem(struct dg_target *t)
{
	return t->kmem != NULL;
}

DG_EXPORT int dg_target_get_numa_node(struct dg_target *t)
{
	return t->kmem ? (int)t->kmem->node : -1;
}

DG_EXPORT uint64_t dg_target_get_memory_block_size(struct dg_target *t)
{
	return t->kmem ? t->kmem->block_size : 0;
}

DG_EXPORT size_t dg_target_get_nr_memory_blocks(struct dg_target *t)
{
	return t->kmem ? t->kmem->nr_blocks : 0;
}

DG_EXPORT int dg_target_get_memory_block(struct dg_target *t, size_t idx, uint64_t *id,
					 const char **state, const char **zone, int *removable)
{
	struct dg_kmem_block *b;

	if (!t->kmem || idx >= t->kmem->nr_blocks)
		return -ENOENT;
	b = &t->kmem->blocks[idx];
	if (id)
		*id = b->id;
	if (state)
		*state = b->state;
	if (zone)
		*zone = b->zone;
	if (removable)
		*removable = b->removable;
	return 0;
}
