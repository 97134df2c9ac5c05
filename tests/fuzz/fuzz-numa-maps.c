// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /proc/PID/numa_maps, a line at a time as lib/users.c reads it (any
 * process's, so outside input): the parser never reads past the line,
 * and what it accepts holds together: the page counts add up, a count
 * comes with its unit, the policy text is what the line said, and a line
 * accepted once is accepted the same for any node asked about.
 */
#include <errno.h>
#include <string.h>

#include "lib/private.h"

#include "fuzz.h"

static void check_line(const char *line, size_t len)
{
	struct dg_numa_maps_entry e, e0;
	uint64_t nodes[DG_NUMA_MAX_NODES / 64];
	int rc, rc0;

	rc = dg_parse_numa_maps_line(line, len, 1, &e);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ERANGE, "rc %d", rc);
	rc0 = dg_parse_numa_maps_line(line, len, 0, &e0);
	FUZZ_CHECK(rc == rc0, "node 1 gives %d, node 0 %d", rc, rc0);
	if (rc)
		return;
	FUZZ_CHECK(e.node_pages <= e.total_pages, "node pages %lu > total %lu",
		   (unsigned long)e.node_pages, (unsigned long)e.total_pages);
	FUZZ_CHECK(e0.node_pages + e.node_pages <= e.total_pages, "nodes 0 and 1 pass the total");
	FUZZ_CHECK(!e.total_pages == !e.page_kb, "pages %lu with unit %lu",
		   (unsigned long)e.total_pages, (unsigned long)e.page_kb);
	FUZZ_CHECK(strlen(e.policy) < sizeof(e.policy) &&
			   memmem(line, len, e.policy, strlen(e.policy)),
		   "policy '%s' not in the line", e.policy);
	FUZZ_CHECK(!dg_numa_maps_binds_to(&e, 1) || dg_numa_maps_names(&e, 1),
		   "binds to a node it does not name");
	/* the node list after the policy's ':' parses on its own, the same */
	if (e.has_nodes) {
		const char *colon = strchr(e.policy, ':');

		FUZZ_CHECK(colon, "nodes without ':' in '%s'", e.policy);
		FUZZ_CHECK(!dg_parse_nodelist(colon + 1, strlen(colon + 1), nodes) &&
				   !memcmp(nodes, e.nodes, sizeof(nodes)),
			   "node list of '%s'", e.policy);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = fuzz_cstr(data, size);
	size_t off = 0;

	/* as users.c splits what it read: at newlines */
	while (off < size) {
		const char *nl = memchr(buf + off, '\n', size - off);
		size_t len = nl ? (size_t)(nl - (buf + off)) : size - off;
		/* a copy of its own: ASan sees a read past the line */
		char *line = malloc(len ? len : 1);

		if (!line)
			abort();
		memcpy(line, buf + off, len);
		check_line(line, len);
		free(line);
		off += len + 1;
	}
	free(buf);
	return 0;
}
