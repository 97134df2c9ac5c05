// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * /dev/kmsg, as the watch daemon reads it (lib/event-kmsg.c,
 * lib/event-pciehp.c): one record per read, "PRIO,SEQ,TS,FLAGS;MESSAGE"
 * then " KEY=VALUE" lines.  A process may write records too, and a
 * command name in "Sending SIGBUS to COMM:PID" is anybody's.  The record
 * parser must stay inside its buffer and give a message and device inside
 * it; the memory-failure parser must give a pid in range and a result that
 * fits; the pciehp parser a PCI address and a slot that fit, NUL-ended.
 */
#include <errno.h>
#include <string.h>

#include "lib/private.h"

#include "fuzz.h"

static bool inside(const char *p, const char *buf, size_t size)
{
	return p >= buf && p <= buf + size;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the reader's buffer: the record and room for the NUL it writes */
	char *buf = malloc(size + 1);
	struct dg_kmsg_record rec;
	struct dg_mf_line mf;
	char addr[16], slot[64];
	enum dg_event_kind kind;
	int rc;

	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	rc = dg_kmsg_parse_record(buf, size, &rec);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL, "record rc %d", rc);
	if (rc) {
		free(buf);
		return 0;
	}
	FUZZ_CHECK(rec.message && inside(rec.message, buf, size), "message outside the record");
	FUZZ_CHECK(!rec.device || inside(rec.device, buf, size), "device outside the record");
	FUZZ_CHECK(rec.level >= 0 && rec.level <= 7, "level %d", rec.level);

	rc = dg_kmsg_parse_memory_failure(rec.message, &mf);
	FUZZ_CHECK(rc == 0 || rc == 1 || rc == -EINVAL || rc == -ERANGE, "memory failure rc %d",
		   rc);
	if (rc == 1) {
		FUZZ_CHECK(mf.type == DG_MF_LINE_SIGNAL || mf.type == DG_MF_LINE_RESULT ||
				   mf.type == DG_MF_LINE_OTHER,
			   "type %d", mf.type);
		if (mf.type == DG_MF_LINE_SIGNAL)
			FUZZ_CHECK(mf.pid > 0, "pid %d", (int)mf.pid);
		if (mf.type == DG_MF_LINE_RESULT)
			FUZZ_CHECK(mf.result[0] && memchr(mf.result, 0, sizeof(mf.result)),
				   "a result without its NUL, or empty");
	}

	memset(addr, 0x5a, sizeof(addr));
	memset(slot, 0x5a, sizeof(slot));
	rc = dg_pciehp_parse(rec.message, addr, sizeof(addr), slot, sizeof(slot), &kind);
	FUZZ_CHECK(rc == 0 || rc == 1, "pciehp rc %d", rc);
	if (rc == 1) {
		FUZZ_CHECK(memchr(addr, 0, sizeof(addr)) && strlen(addr) == 12 && addr[4] == ':' &&
				   addr[7] == ':' && addr[10] == '.',
			   "address '%.*s'", (int)sizeof(addr), addr);
		FUZZ_CHECK(memchr(slot, 0, sizeof(slot)), "a slot without its NUL");
		FUZZ_CHECK(kind == DG_EVENT_PRE_REMOVE || kind == DG_EVENT_PRE_REMOVE_CANCELED,
			   "kind %d", kind);
	}
	free(buf);
	return 0;
}
