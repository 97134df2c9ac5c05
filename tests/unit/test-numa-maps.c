// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The /proc/PID/numa_maps parser: recorded files (every line parses, the
 * pages per node add up to what grep finds), the policies mpol_to_str()
 * prints, and lines that must fail.
 *
 *   test-numa-maps FIXTURE_DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/private.h"

#include "check.h"

static int parse(const char *line, unsigned int node, struct dg_numa_maps_entry *e)
{
	return dg_parse_numa_maps_line(line, strlen(line), node, e);
}

static void fixture(const char *dir, const char *name)
{
	char path[4096], line[8192];
	uint64_t want[2] = { 0, 0 }, got[2] = { 0, 0 };
	unsigned int node;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.expect", dir, name);
	f = fopen(path, "r");
	CHECK(f, "%s: cannot open", path);
	if (!f)
		return;
	while (fscanf(f, "%u %lu", &node, &got[0]) == 2)
		if (node < 2)
			want[node] = got[0];
	fclose(f);
	got[0] = 0;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	CHECK(f, "%s: cannot open", path);
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		struct dg_numa_maps_entry e;

		for (node = 0; node < 2; node++) {
			int rc = parse(line, node, &e);

			CHECK(rc == 0, "%s: '%s' fails: %d", name, line, rc);
			got[node] += e.node_pages;
		}
	}
	fclose(f);
	for (node = 0; node < 2; node++)
		CHECK(got[node] == want[node], "%s: node %u: %lu pages, want %lu", name, node,
		      (unsigned long)got[node], (unsigned long)want[node]);
}

static void good(void)
{
	struct dg_numa_maps_entry e;

	CHECK(!parse("7f825f30d000 bind:1 file=/dev/zero anon=16384 dirty=16384 active=0 N1=16384 "
		     "kernelpagesize_kB=4\n",
		     1, &e),
	      "bind:1");
	CHECK(e.start == 0x7f825f30d000 && e.mode == DG_MPOL_BIND && e.node_pages == 16384 &&
		      e.total_pages == 16384 && e.page_kb == 4 && !strcmp(e.policy, "bind:1") &&
		      e.has_file,
	      "bind:1 fields: %s %lu", e.policy, (unsigned long)e.node_pages);
	CHECK(dg_numa_maps_binds_to(&e, 1) && !dg_numa_maps_binds_to(&e, 0), "bind:1 binds to 1");

	CHECK(!parse("7f00 prefer:1 anon=3 N0=1 N1=2 kernelpagesize_kB=4", 1, &e), "prefer");
	CHECK(e.mode == DG_MPOL_PREFERRED && !dg_numa_maps_binds_to(&e, 1) &&
		      dg_numa_maps_names(&e, 1) && e.node_pages == 2 && e.total_pages == 3,
	      "prefer fields");

	CHECK(!parse("7f00 bind:0-1 heap anon=3 N0=1 N1=2 kernelpagesize_kB=4", 1, &e), "bind 0-1");
	CHECK(!dg_numa_maps_binds_to(&e, 1), "bind:0-1 does not bind to 1 alone");

	CHECK(!parse("7f00 interleave:1 stack anon=1 N1=1 kernelpagesize_kB=4", 1, &e),
	      "interleave");
	CHECK(dg_numa_maps_binds_to(&e, 1), "interleave:1 binds");

	CHECK(!parse("7f00 weighted interleave:1,3 anon=1 N1=1 kernelpagesize_kB=4", 1, &e),
	      "weighted interleave");
	CHECK(e.mode == DG_MPOL_WEIGHTED_INTERLEAVE && !strcmp(e.policy, "weighted interleave:1,3"),
	      "weighted interleave fields: %s", e.policy);
	CHECK(!parse("7f00 prefer (many):1 anon=1 N1=1 kernelpagesize_kB=4", 1, &e),
	      "prefer (many)");
	CHECK(e.mode == DG_MPOL_PREFERRED_MANY && !dg_numa_maps_binds_to(&e, 1), "prefer (many)");
	CHECK(!parse("7f00 bind=static:1 anon=1 N1=1 kernelpagesize_kB=4", 1, &e), "static");
	CHECK(!parse("7f00 bind=relative|balancing:1 anon=1 N1=1 kernelpagesize_kB=4", 1, &e),
	      "relative|balancing");
	CHECK(!parse("7f00 bind=balancing:1 anon=1 N1=1 kernelpagesize_kB=4", 1, &e), "balancing");
	CHECK(!parse("7f00 local", 0, &e) && e.mode == DG_MPOL_LOCAL && !e.total_pages, "local");
	CHECK(!parse("7f00 default file=/a\\040b", 0, &e) && !e.page_kb, "no pages");
	CHECK(!parse("7f00 default file=/x huge dirty=1 N0=1 kernelpagesize_kB=2048", 0, &e) &&
		      e.page_kb == 2048,
	      "hugetlb");
	/* a counter of a later kernel */
	CHECK(!parse("7f00 default anon=1 newthing=3 N0=1 kernelpagesize_kB=4", 0, &e), "unknown");
	CHECK(!parse("7f00 bind:1023 anon=1 N1023=1 kernelpagesize_kB=4", 1023, &e) &&
		      dg_numa_maps_binds_to(&e, 1023),
	      "node 1023");
}

static void bad(void)
{
	static const char *const lines[] = {
		"",
		"\n",
		"7f00",
		"7f00 ",
		"7F00 default",
		"0x7f00 default",
		"11111111111111111 default",
		"7f00 nosuch",
		"7f00 defaults",
		"7f00 bind",
		"7f00 bind:",
		"7f00 bind:1-",
		"7f00 bind:1-1",
		"7f00 bind:3-1",
		"7f00 bind:1,1",
		"7f00 bind:2,1",
		"7f00 bind:1,2",
		"7f00 bind:01",
		"7f00 bind:1024",
		"7f00 bind=:1",
		"7f00 bind=static|static:1",
		"7f00 bind=bogus:1",
		"7f00 bind:1 anon=1 N1=1",
		"7f00 bind:1 anon=1 kernelpagesize_kB=4",
		"7f00 bind:1 anon=1 N1=1 kernelpagesize_kB=3",
		"7f00 bind:1 anon=1 N1=1 kernelpagesize_kB=0",
		"7f00 bind:1 anon=1 N1=0 kernelpagesize_kB=4",
		"7f00 bind:1 anon=1 N1=1 N1=1 kernelpagesize_kB=4",
		"7f00 bind:1 anon=1 N2=1 N1=1 kernelpagesize_kB=4",
		"7f00 bind:1 anon=1 N1=1 kernelpagesize_kB=4 N2=1",
		"7f00 bind:1 anon=1 N1=1 kernelpagesize_kB=4 kernelpagesize_kB=4",
		"7f00 bind:1 N1=1 anon=1 kernelpagesize_kB=4",
		"7f00 bind:1 anon=1 anon=1 N1=1 kernelpagesize_kB=4",
		"7f00 bind:1 anon=-1 N1=1 kernelpagesize_kB=4",
		"7f00 bind:1 anon= N1=1 kernelpagesize_kB=4",
		"7f00 bind:1 anon=1x N1=1 kernelpagesize_kB=4",
		"7f00 bind:1  anon=1 N1=1 kernelpagesize_kB=4",
		"7f00 bind:1 anon=1 N1=1 kernelpagesize_kB=4 ",
		"7f00 bind:1 Anon=1 N1=1 kernelpagesize_kB=4",
		"7f00 bind:1 file= anon=1",
		"7f00 bind:1 file=/a file=/b",
		"7f00 bind:1 anon=1 heap N1=1 kernelpagesize_kB=4",
		"7f00 bind:1 garbage",
		"7f00 bind:1 N1=99999999999999999999 kernelpagesize_kB=4",
		"7f00 bind:1 N0=18446744073709551615 N1=1 kernelpagesize_kB=4",
		"7f00 bind:1 N1=18446744073709551615 kernelpagesize_kB=4",
		"7f00 bind:1 N1024=1 kernelpagesize_kB=4",
		"7f00 default\n\n",
		"7f00\tdefault",
	};
	struct dg_numa_maps_entry e;
	size_t i;

	for (i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		int rc = parse(lines[i], 1, &e);

		CHECK(rc == -EINVAL || rc == -ERANGE, "'%s' accepted (%d)", lines[i], rc);
	}
	/* a NUL inside the line */
	CHECK(dg_parse_numa_maps_line("7f00 default\0x", 14, 0, &e) == -EINVAL, "NUL");
}

/* the refusal of a node that holds the only memory of the system */
static void only_memory(void)
{
	static const struct {
		const char *has_memory; /* /sys/devices/system/node/has_memory */
		unsigned int node;
		bool only;
	} cases[] = {
		{ "0-1", 1, false }, /* the kmem scenario's machine */
		{ "1", 1, true },	{ "0", 1, false }, /* another node has it all */
		{ "0,2", 2, false },	{ "2", 2, true },	{ "64", 64, true },
		{ "62,64", 64, false }, { "63-64", 64, false },
	};
	uint64_t nodes[DG_NUMA_MAX_NODES / 64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = dg_parse_nodelist(cases[i].has_memory, strlen(cases[i].has_memory), nodes);

		CHECK(rc == 0, "has_memory '%s': %d", cases[i].has_memory, rc);
		CHECK(dg_kmem_only_memory(nodes, cases[i].node) == cases[i].only,
		      "has_memory '%s', node %u: only %d", cases[i].has_memory, cases[i].node,
		      !cases[i].only);
	}
	CHECK(dg_parse_nodelist("", 0, nodes) == -EINVAL, "empty node list");
	CHECK(dg_parse_nodelist("0-1\n", 4, nodes) == -EINVAL, "newline in a node list");
	CHECK(dg_parse_nodelist("1-0", 3, nodes) == -EINVAL, "descending range");
}

/* where the pages of a process on the node being emptied (1) may go */
static void dest_nodes(void)
{
	static const struct {
		const char *policies[3];
		const char *others; /* nodes with memory besides node 1 */
		const char *want;
	} cases[] = {
		{ { "prefer:1", "default" }, "0,2", "0,2" },
		{ { "default" }, "0", "0" },
		{ { "bind:1-2", "default" }, "0,2", "2" },
		{ { "bind=static:0-1" }, "0,2", "0" },
		{ { "interleave:1-3", "bind:0-1" }, "0,2-3", "0,2-3" },
		{ { "weighted interleave:1,3" }, "0,3", "3" },
		{ { "prefer (many):1-2" }, "0,2", "0,2" },
		/* bound to 1 alone: signalled, not moved; were it moved, anywhere */
		{ { "bind:1" }, "0,2", "0,2" },
		{ { "local", "nonsense" }, "0", "0" },
	};
	uint64_t others[DG_NUMA_MAX_NODES / 64], want[DG_NUMA_MAX_NODES / 64],
		to[DG_NUMA_MAX_NODES / 64];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (n = 0; n < 3 && cases[i].policies[n]; n++)
			;
		dg_parse_nodelist(cases[i].others, strlen(cases[i].others), others);
		dg_parse_nodelist(cases[i].want, strlen(cases[i].want), want);
		dg_mpol_dest_nodes(cases[i].policies, n, others, to);
		CHECK(!memcmp(to, want, sizeof(to)), "case %zu (%s, others %s): not %s", i,
		      cases[i].policies[0], cases[i].others, cases[i].want);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: test-numa-maps FIXTURE_DIR\n");
		return 2;
	}
	fixture(argv[1], "host-cat");
	fixture(argv[1], "vm-kmem");
	good();
	bad();
	only_memory();
	dest_nodes();
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
