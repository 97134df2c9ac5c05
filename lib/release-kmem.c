// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The removal of a device-dax device in system-ram mode: its memory is a
 * node's RAM, so "stop the users and release" becomes
 *
 *   collect  the processes with pages on the node (numa_maps)
 *   signal   by --action, those whose policy binds them to the node alone:
 *            they cannot run without it
 *   migrate  everyone else's pages to the other nodes their policy
 *            allows (migrate_pages(2))
 *   offline  the device's memory blocks, one at a time, each write bounded
 *            in time and retried a bounded number of times
 *   release  the device unbound from kmem (daxctl_dev_disable): devdax
 *            mode, disabled
 *
 * The kernel's own offline_pages() migrates what it can too, but it
 * retries without end while a page will not move, and when it gives up it
 * names nobody.  Migrating first, per process, tells who moved and who did
 * not; a block that still will not offline stops the flow with the names
 * of the processes left on the node, or "unmovable kernel allocations".
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <daxctl/libdaxctl.h>

#include "private.h"

#define OFFLINE_TRIES 3
#define OFFLINE_TIMEOUT_MS 10000
#define OFFLINE_RETRY_MS 500
#define NODE_WORDS (DG_NUMA_MAX_NODES / 64)

static const char *mib(uint64_t bytes, char *buf, size_t size)
{
	snprintf(buf, size, "%.1f MiB", (double)bytes / (1 << 20));
	return buf;
}

static void nodelist_str(const uint64_t *nodes, char *buf, size_t size)
{
	size_t len = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < DG_NUMA_MAX_NODES && len < size; i++)
		if (nodes[i / 64] >> (i % 64) & 1)
			len += (size_t)snprintf(buf + len, size - len, "%s%u", len ? "," : "", i);
}

/* a result of @res's users that @want accepts: what one stage acts on */
static struct dg_result *sub_result(struct dg_result *res, bool (*want)(struct dg_user *))
{
	struct dg_result *sub = calloc(1, sizeof(*sub));
	struct dg_user *u;

	if (!sub)
		return NULL;
	sub->target = res->target;
	sub->whole = true;
	sub->owners_tail = &sub->owners;
	sub->users_tail = &sub->users;
	sub->warnings_tail = &sub->warnings;
	sub->unreadable_tail = &sub->unreadable;
	dg_user_foreach(res, u)
		if (want(u) && !dg_result_add_user(sub, u, u->comm, u->path, u->our_path)) {
			dg_result_free(sub);
			return NULL;
		}
	return sub;
}

static bool is_bound(struct dg_user *u)
{
	return u->bound;
}

/* a process some of whose mappings bind it to the node: all of it goes */
static bool pid_bound(struct dg_result *res, pid_t pid)
{
	struct dg_user *u;

	dg_user_foreach(res, u)
		if (u->pid == pid && u->bound)
			return true;
	return false;
}

/* the bytes a process has on @node now, from its numa_maps */
static int64_t pid_node_bytes(pid_t pid, unsigned int node)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	uint64_t sum = 0;
	ssize_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/numa_maps", pid);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while ((n = getline(&line, &cap, f)) > 0) {
		struct dg_numa_maps_entry e;

		if (!dg_parse_numa_maps_line(line, (size_t)n, node, &e))
			sum += e.node_pages * e.page_kb * 1024;
	}
	free(line);
	fclose(f);
	return (int64_t)sum;
}

/*
 * Move one process's pages off the node.  The pidfd pins the number:
 * migrate_pages(2) takes a pid, and while the pidfd's process lives the
 * number is its own.  A process that exits meanwhile frees its pages,
 * which is as good.
 */
static int migrate_one(struct dg_report *rep, struct dg_user *u, const uint64_t *others,
		       uint64_t *moved)
{
	struct dg_target *t = rep->target;
	unsigned int node = t->kmem->node;
	uint64_t from[NODE_WORDS] = { 0 }, to[NODE_WORDS];
	const char **policies;
	size_t nr = 0;
	char obj[96], a[32], b[32], dest[128];
	struct dg_user *v;
	int64_t before, after;
	struct dg_step *s;
	long left;
	int pidfd, rc = 0;

	snprintf(obj, sizeof(obj), "%d (%s)", u->pid, u->comm ? u->comm : "?");
	s = dg_step_begin(rep, "migrate", obj);
	pidfd = pidfd_open(u->pid, 0);
	if (pidfd < 0) {
		dg_step_end(rep, s, 0, "exited before it was moved");
		return 0;
	}
	/* where its policies let its pages go */
	dg_user_foreach(rep->result, v)
		if (v->pid == u->pid)
			nr++;
	policies = calloc(nr ? nr : 1, sizeof(*policies));
	if (!policies) {
		close(pidfd);
		dg_step_end(rep, s, -ENOMEM, "out of memory");
		return -ENOMEM;
	}
	nr = 0;
	dg_user_foreach(rep->result, v)
		if (v->pid == u->pid)
			policies[nr++] = v->policy;
	dg_mpol_dest_nodes(policies, nr, others, to);
	free(policies);
	nodelist_str(to, dest, sizeof(dest));
	from[node / 64] = 1ULL << (node % 64);
	before = pid_node_bytes(u->pid, node);
	left = syscall(SYS_migrate_pages, u->pid, (unsigned long)DG_NUMA_MAX_NODES + 1, from, to);
	if (left < 0) {
		rc = -errno;
		close(pidfd);
		if (rc == -ESRCH) {
			dg_step_end(rep, s, 0, "exited before it was moved");
			return 0;
		}
		dg_step_end(rep, s, rc, "migrate_pages to node %s: %s", dest, strerror(-rc));
		return rc;
	}
	after = pid_node_bytes(u->pid, node);
	close(pidfd);
	if (before > 0 && after >= 0 && after < before)
		*moved += (uint64_t)(before - after);
	dg_step_end(
		rep, s, after > 0 ? -EBUSY : 0, "%s moved from node %u to node %s; %s left%s",
		mib(before > after && after >= 0 ? (uint64_t)(before - after) : 0, a, sizeof(a)),
		node, dest, mib(after > 0 ? (uint64_t)after : 0, b, sizeof(b)),
		left > 0 ? " (the kernel could not move some)" : "");
	return 0;
}

/*
 * One write of "offline" to memoryN/state, from a child: offline_pages()
 * retries for as long as a page will not move and stops only for a
 * signal, so the child is killed when @timeout_ms pass.  0, or the
 * write's negative errno, or -ETIMEDOUT.
 */
static int offline_block_once(uint64_t id, unsigned int timeout_ms)
{
	struct pollfd pfd;
	char path[96];
	siginfo_t si;
	pid_t pid;
	int pidfd, rc;

	/* the child does nothing but async-signal-safe calls */
	snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%" PRIu64 "/state", id);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int fd, err = 0;

		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "offline", 7) != 7)
			err = errno;
		_exit(err > 0 && err < 256 ? err : 0);
	}
	pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		rc = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return rc;
	}
	pfd = (struct pollfd){ .fd = pidfd, .events = POLLIN };
	rc = poll(&pfd, 1, (int)timeout_ms);
	if (rc == 0) {
		/* a fatal signal ends the kernel's retry loop: -EINTR there */
		pidfd_send_signal(pidfd, SIGKILL, NULL, 0);
		waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
		close(pidfd);
		return -ETIMEDOUT;
	}
	memset(&si, 0, sizeof(si));
	rc = waitid(P_PIDFD, (id_t)pidfd, &si, WEXITED);
	close(pidfd);
	if (rc < 0)
		return -errno;
	if (si.si_code != CLD_EXITED)
		return -EINTR;
	return -si.si_status;
}

static int offline_block(struct dg_report *rep, struct dg_kmem_block *b)
{
	char obj[48], zone[sizeof(b->zone)];
	struct dg_step *s;
	unsigned int try;
	int rc = 0;

	snprintf(obj, sizeof(obj), "memory%" PRIu64, b->id);
	/* once offline, valid_zones lists where it could go, not where it was */
	memcpy(zone, b->zone, sizeof(zone));
	s = dg_step_begin(rep, "offline", obj);
	dg_kmem_block_read(b);
	if (!strcmp(b->state, "offline")) {
		dg_step_end(rep, s, 0, "offline already");
		return 0;
	}
	for (try = 1; try <= OFFLINE_TRIES; try++) {
		rc = offline_block_once(b->id, OFFLINE_TIMEOUT_MS);
		dg_kmem_block_read(b);
		if (!rc || !strcmp(b->state, "offline")) {
			dg_step_end(rep, s, 0, "offline (was %s) after %u tr%s", zone, try,
				    try == 1 ? "y" : "ies");
			return 0;
		}
		if (rc != -EBUSY && rc != -EAGAIN && rc != -ETIMEDOUT && rc != -EINTR)
			break;
		usleep(OFFLINE_RETRY_MS * 1000);
	}
	dg_step_end(rep, s, rc, "still %s after %u tr%s: %s", b->state,
		    try > OFFLINE_TRIES ? OFFLINE_TRIES : try, try == 1 ? "y" : "ies",
		    rc == -ETIMEDOUT ? "the kernel did not finish in time" : strerror(-rc));
	return rc;
}

/* the end of the mapping that starts at @start, from /proc/PID/maps */
static uint64_t vma_end(pid_t pid, uint64_t start)
{
	char path[64], line[512];
	uint64_t a, b, end = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%" SCNx64 "-%" SCNx64, &a, &b) == 2 && a == start) {
			end = b;
			break;
		}
	fclose(f);
	return end;
}

/*
 * How many of the pages mapped at [@start, @end) of @pid lie in the
 * physical range of memory block @b: their frame numbers, from
 * /proc/PID/pagemap (root reads them; others see zeros).
 */
static uint64_t pages_in_block(int pagemap, uint64_t start, uint64_t end, uint64_t pfn0,
			       uint64_t pfn1)
{
	uint64_t entries[512], n = 0, page = (uint64_t)sysconf(_SC_PAGESIZE), va;

	for (va = start; va < end;) {
		size_t want = (size_t)DG_MIN((end - va) / page, (uint64_t)ARRAY_SIZE(entries)), i;
		ssize_t got = pread(pagemap, entries, want * sizeof(entries[0]),
				    (off_t)(va / page * sizeof(entries[0])));

		if (got <= 0)
			break;
		for (i = 0; i < (size_t)got / sizeof(entries[0]); i++) {
			uint64_t pfn = entries[i] & ((1ULL << 55) - 1);

			if ((entries[i] >> 63 & 1) && pfn >= pfn0 && pfn < pfn1)
				n++;
		}
		va += (uint64_t)got / sizeof(entries[0]) * page;
	}
	return n;
}

/*
 * Who holds the pages of the block that would not go offline: the
 * processes with pages on the node, each with how many of them are in
 * that very block (pagemap) and the kernel's hints of a pin; or, when no
 * process has a page there, the kernel's own allocations.
 */
static void blockers(struct dg_ctx *ctx, struct dg_report *rep, const struct dg_kmem_block *b,
		     char *buf, size_t size)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t pfn0 = b->id * rep->target->kmem->block_size / page;
	uint64_t pfn1 = pfn0 + rep->target->kmem->block_size / page;
	struct dg_result *res = NULL;
	struct dg_user *u, *v;
	size_t len = 0;
	unsigned int named = 0;

	buf[0] = '\0';
	if (dg_who(rep->target, NULL, 0, DG_WHO_NO_PATHS, &res) == 0) {
		dg_user_foreach(res, u) {
			uint64_t in_block = 0, on_node = 0;
			char path[64], a[32];
			int pm;

			/* once per process: the first of its uses */
			for (v = res->users; v != u && v->pid != u->pid; v = v->next)
				;
			if (v != u)
				continue;
			snprintf(path, sizeof(path), "/proc/%d/pagemap", u->pid);
			pm = open(path, O_RDONLY | O_CLOEXEC);
			for (v = u; v; v = v->next) {
				uint64_t end;

				if (v->pid != u->pid)
					continue;
				on_node += v->node_bytes;
				if (pm >= 0 && v->node_bytes &&
				    (end = vma_end(v->pid, v->vm_start)))
					in_block +=
						pages_in_block(pm, v->vm_start, end, pfn0, pfn1);
			}
			if (pm >= 0)
				close(pm);
			if (!on_node || len >= size)
				continue;
			/* pagemap read: only those with pages in the block */
			if (pm >= 0 && !in_block)
				continue;
			named++;
			len += (size_t)snprintf(buf + len, size - len,
						"%s%d (%s): ", len ? "; " : "", u->pid,
						u->comm ? u->comm : "?");
			if (pm >= 0)
				len += (size_t)snprintf(buf + len, size - len,
							"%" PRIu64 " pages in memory%" PRIu64 ", ",
							in_block, b->id);
			if (len < size)
				len += (size_t)snprintf(buf + len, size - len, "%s on the node",
							mib(on_node, a, sizeof(a)));
			if (len < size && (u->vm_pin_kb || u->pin_hint[0]))
				len += (size_t)snprintf(buf + len, size - len,
							" (VmPin %" PRIu64 " kB%s%s)", u->vm_pin_kb,
							u->pin_hint[0] ? ", " : "", u->pin_hint);
		}
	}
	dg_result_free(res);
	dg_clear_error(ctx);
	if (!named)
		snprintf(buf, size, "no process has pages there: unmovable kernel allocations");
	else if (len < size)
		snprintf(buf + len, size - len, " still hold%s pages there", named == 1 ? "s" : "");
}

static struct daxctl_dev *find_daxctl_dev(struct daxctl_ctx *dctx, const char *devname)
{
	const char *name = strrchr(devname, '/') ? strrchr(devname, '/') + 1 : devname;
	struct daxctl_region *region;
	struct daxctl_dev *dev;

	daxctl_region_foreach(dctx, region) daxctl_dev_foreach(
		region, dev) if (!strcmp(daxctl_dev_get_devname(dev), name)) return dev;
	return NULL;
}

static int release_kmem(struct dg_ctx *ctx, struct dg_report *rep)
{
	struct dg_target *t = rep->target;
	struct daxctl_ctx *dctx = NULL;
	struct daxctl_dev *dev;
	struct dg_step *s;
	int rc;

	s = dg_step_begin(rep, "release", t->devname);
	rc = daxctl_new(&dctx);
	if (rc) {
		dg_step_end(rep, s, rc, "libdaxctl: %s", strerror(-rc));
		return dg_fail(ctx, rc, "%s: libdaxctl: %s", t->devname, strerror(-rc));
	}
	dev = find_daxctl_dev(dctx, t->devname);
	if (!dev) {
		rc = -ENODEV;
		dg_step_end(rep, s, rc, "libdaxctl does not know it");
		goto out;
	}
	/* libdaxctl refuses while any block is online: one more check */
	rc = daxctl_dev_disable(dev);
	if (rc) {
		dg_step_end(rep, s, rc, "daxctl_dev_disable: %s", strerror(-rc));
		goto out;
	}
	dg_step_end(rep, s, 0, "unbound from kmem: devdax mode, disabled");
out:
	daxctl_unref(dctx);
	if (rc)
		return dg_fail(ctx, rc,
			       "%s: every block offline, but the device was not released: %s",
			       t->devname, strerror(-rc));
	return 0;
}

int dg_kmem_remove(struct dg_ctx *ctx, struct dg_report *rep, const struct dg_mf_opts *o)
{
	uint64_t has_memory[NODE_WORDS] = { 0 }, others[NODE_WORDS];
	struct dg_target *t = rep->target;
	struct dg_kmem *k = t->kmem;
	bool dry = o->flags & DG_MF_DRY_RUN;
	struct dg_result *bound = NULL;
	uint64_t moved = 0, t_mig;
	unsigned int nbound = 0, nmove = 0, i;
	char buf[2048], a[32];
	struct dg_step *s;
	struct dg_user *u;
	pid_t last;
	int rc;

	/* refusals first: nothing has changed yet */
	if (k->only_memory)
		return dg_fail(ctx, -EBUSY,
			       "%s: node %u holds the only memory of the system; refusing to "
			       "offline it",
			       t->devname, k->node);
	{
		char hm[4096];
		int dir = open("/sys/devices/system/node", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ssize_t n = dir >= 0 ? dg_read_text(dir, "has_memory", hm, sizeof(hm)) : -ENOENT;

		if (dir >= 0)
			close(dir);
		if (n < 0 || dg_parse_nodelist(hm, (size_t)n, has_memory))
			return dg_fail(ctx, -EIO, "%s: cannot read the nodes with memory",
				       t->devname);
	}
	memcpy(others, has_memory, sizeof(others));
	others[k->node / 64] &= ~(1ULL << (k->node % 64));

	dg_stage_notify(ctx, "collect", DG_STAGE_BEGIN, 0, 0);
	s = dg_step_begin(rep, "collect", t->devname);
	rc = dg_who(t, NULL, 0, DG_WHO_NO_PATHS, &rep->result);
	if (rc) {
		dg_step_end(rep, s, rc, "%s", dg_get_error(ctx) ?: strerror(-rc));
		return rc;
	}
	{
		uint64_t bytes = 0;
		unsigned int procs = 0;

		last = 0;
		dg_user_foreach(rep->result, u) {
			bytes += u->node_bytes;
			if (u->pid != last) {
				procs++;
				if (pid_bound(rep->result, u->pid))
					nbound++;
				else
					nmove++;
			}
			last = u->pid;
		}
		dg_step_end(rep, s, 0,
			    "%u process%s with %s on node %u (%zu block%s of %zu on the node); "
			    "%u bound to it alone",
			    procs, procs == 1 ? "" : "es", mib(bytes, a, sizeof(a)), k->node,
			    k->nr_blocks, k->nr_blocks == 1 ? "" : "s", k->node_blocks, nbound);
	}
	dg_stage_notify(ctx, "collect", DG_STAGE_END, 0, 0);

	/* those bound to the node alone cannot live without it */
	bound = sub_result(rep->result, is_bound);
	if (!bound)
		return -ENOMEM;
	rc = dg_unmap_and_kill(ctx, rep, bound, o->action, o->grace_ms, o, true, NULL);
	if (rc)
		goto out;
	if (nbound && !dry && (o->action == DG_ACTION_REPORT)) {
		rc = dg_fail(ctx, -EBUSY,
			     "%s: %u process%s bound to node %u alone, and the policy is report: "
			     "not offlining",
			     t->devname, nbound, nbound == 1 ? "" : "es", k->node);
		goto out;
	}

	/* everybody else moves */
	if (dry) {
		last = 0;
		dg_user_foreach(rep->result, u) {
			char dest[128];

			if (u->pid == last || pid_bound(rep->result, u->pid))
				continue;
			last = u->pid;
			nodelist_str(others, dest, sizeof(dest));
			snprintf(buf, sizeof(buf), "%d (%s)", u->pid, u->comm ? u->comm : "?");
			s = dg_step_begin(rep, "migrate", buf);
			dg_step_end(rep, s, 0, "would move its pages on node %u to node %s",
				    k->node, dest);
		}
		for (i = 0; i < k->nr_blocks; i++) {
			snprintf(buf, sizeof(buf), "memory%" PRIu64, k->blocks[i].id);
			s = dg_step_begin(rep, "offline", buf);
			dg_step_end(rep, s, 0, "would offline it (%s, %s)", k->blocks[i].state,
				    k->blocks[i].zone);
		}
		if (!(o->flags & DG_MF_NO_RELEASE)) {
			s = dg_step_begin(rep, "release", t->devname);
			dg_step_end(rep, s, 0, "would unbind it from kmem: devdax mode, disabled");
		}
		rc = 0;
		goto out;
	}
	dg_stage_notify(ctx, "migrate", DG_STAGE_BEGIN, nmove, 0);
	t_mig = dg_now_ms();
	if (k->node_blocks > k->nr_blocks) {
		/*
		 * The node has memory besides the device's: a move by node
		 * would take pages off that too.  The kernel's offline moves
		 * what lies on the device's blocks.
		 */
		s = dg_step_begin(rep, "migrate", t->devname);
		dg_step_end(rep, s, 0,
			    "node %u has %zu memory blocks besides the device's: left to the "
			    "kernel's offline",
			    k->node, k->node_blocks - k->nr_blocks);
	} else {
		last = 0;
		dg_user_foreach(rep->result, u) {
			if (u->pid == last || pid_bound(rep->result, u->pid))
				continue;
			last = u->pid;
			rc = migrate_one(rep, u, others, &moved);
			if (rc)
				break;
		}
	}
	t_mig = dg_now_ms() - t_mig;
	dg_stage_notify(ctx, "migrate", DG_STAGE_END, 0, t_mig);
	if (moved) {
		s = dg_step_begin(rep, "migrate", "total");
		dg_step_end(rep, s, 0, "%s in %" PRIu64 " ms (%.0f pages/s)",
			    mib(moved, a, sizeof(a)), t_mig,
			    t_mig ? (double)moved / (double)sysconf(_SC_PAGESIZE) * 1000.0 /
					    (double)t_mig :
				    0.0);
	}
	rc = 0;

	dg_stage_notify(ctx, "offline", DG_STAGE_BEGIN, (unsigned int)k->nr_blocks, 0);
	for (i = 0; i < k->nr_blocks && !rc; i++)
		rc = offline_block(rep, &k->blocks[i]);
	dg_stage_notify(ctx, "offline", DG_STAGE_END, 0, 0);
	if (rc) {
		const struct dg_kmem_block *stuck = &k->blocks[i - 1];
		size_t off = 0;

		for (i = 0; i < k->nr_blocks; i++)
			off += !strcmp(k->blocks[i].state, "offline");
		blockers(ctx, rep, stuck, buf, sizeof(buf));
		rc = dg_fail(ctx, rc,
			     "%s: memory%" PRIu64 " of node %u will not go offline: %s (%zu of %zu "
			     "blocks offline; 'daxctl online-memory %s' brings them back)",
			     t->devname, stuck->id, k->node, buf, off, k->nr_blocks,
			     strrchr(t->devname, '/') ? strrchr(t->devname, '/') + 1 : t->devname);
		goto out;
	}
	if (!(o->flags & DG_MF_NO_RELEASE)) {
		dg_stage_notify(ctx, "release", DG_STAGE_BEGIN, 0, 0);
		rc = release_kmem(ctx, rep);
		dg_stage_notify(ctx, "release", DG_STAGE_END, 0, 0);
		if (rc)
			goto out;
	}
	rep->complete = true;
out:
	dg_result_free(bound);
	return rc;
}
