// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The watch daemon's config file (daxguard/watch-policy.c, through
 * libinih): root's own file, but what an operator writes by hand, and the
 * daemon acts on it unattended.  Whatever the text, the parse ends with 0
 * or -EINVAL (after saying why, with a line number) and frees what it
 * made; a config it takes has sane values: a known action, a bounded
 * grace, named sections with their patterns, protect names without
 * spaces.
 */
#include <errno.h>
#include <string.h>

#include "daxguard/watch.h"

#include "fuzz.h"

static unsigned int nr_errors;

static void count_error(const char *msg)
{
	FUZZ_CHECK(!strncmp(msg, "fuzz.conf:", 10), "a message without the file: '%s'", msg);
	nr_errors++;
}

static void check_policy(const struct watch_policy *p)
{
	size_t i;

	FUZZ_CHECK(p->action == DG_ACTION_REPORT || p->action == DG_ACTION_TERM ||
			   p->action == DG_ACTION_KILL || p->action == DG_ACTION_BUS,
		   "action %d", p->action);
	FUZZ_CHECK(p->grace_ms <= 24u * 3600 * 1000, "grace %u ms", p->grace_ms);
	for (i = 0; i < p->nr_protect; i++)
		FUZZ_CHECK(p->protect[i] && p->protect[i][0] && !strpbrk(p->protect[i], " \t\n"),
			   "protect name '%s'", p->protect[i] ? p->protect[i] : "(null)");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct watch_policy base = { .action = DG_ACTION_REPORT, .grace_ms = 5000 };
	struct watch_config *cfg = calloc(1, sizeof(*cfg));
	FILE *f;
	size_t i;
	int rc;

	if (!cfg || !(cfg->path = strdup("fuzz.conf")))
		abort();
	f = fmemopen(size ? (void *)data : (void *)"", size, "r");
	if (!f)
		abort();
	nr_errors = 0;
	rc = watch_config_parse(cfg, f, &base, count_error);
	fclose(f);
	FUZZ_CHECK(rc == 0 || rc == -EINVAL || rc == -ENOMEM, "rc %d", rc);
	if (rc == -EINVAL)
		FUZZ_CHECK(nr_errors > 0, "refused without a word");
	if (!rc) {
		FUZZ_CHECK(nr_errors == 0, "taken after %u errors", nr_errors);
		check_policy(&cfg->global);
		for (i = 0; i < cfg->nr_sections; i++) {
			FUZZ_CHECK(cfg->sections[i].pattern && cfg->sections[i].pattern[0],
				   "section %zu without a pattern", i);
			check_policy(&cfg->sections[i].policy);
		}
	}
	watch_config_free(cfg);
	return 0;
}
