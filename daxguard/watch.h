/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daxguard watch: the loop (watch.c), the policy (watch-policy.c), the
 * state of what was handled (watch-state.c) and the outputs
 * (watch-output.c).  The event sources are the library's.
 */
#ifndef _DAXGUARD_WATCH_H_
#define _DAXGUARD_WATCH_H_

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "daxguard.h"
#include <syslog.h>

#include "util/rangeset.h"

/* ------------------------------------------------------------------ */
/* Policy: watch-policy.c */

/* what to do about a failed range on one device */
struct watch_policy {
	enum dg_action action;
	unsigned int grace_ms;
	bool punch;
	bool shutdown; /* shutdown-on-metadata */
	char **protect; /* command names and unit names never signalled */
	size_t nr_protect;
	/* which keys a config section set (the rest come from below it) */
	unsigned int set;
};

enum watch_match {
	MATCH_UUID = 1, /* namespace or region UUID */
	MATCH_SERIAL, /* a DIMM's serial (unique id) */
	MATCH_DEVNAME, /* a glob on the device name */
};

struct watch_section {
	enum watch_match match;
	char *pattern;
	unsigned int lineno;
	struct watch_policy policy;
};

struct watch_config {
	char *path; /* NULL: no file, the command line's policy alone */
	struct watch_policy global;
	struct watch_section *sections;
	size_t nr_sections;
	unsigned int flood_limit; /* new ranges a minute; 0: the default */
	bool flood_set;
};

/*
 * Read @path (must be root's alone) over @base, the command line's
 * policy: a new config in *@out, or -errno with every problem printed,
 * each with its line number ("FILE:LINE: ..."), through @errfn.
 */
int watch_config_load(const char *path, const struct watch_policy *base,
		      void (*errfn)(const char *msg), struct watch_config **out);
/*
 * The text of a config file, from @f, into @cfg (its path, for the
 * messages, already set); 0, or -EINVAL after @errfn was told each fault
 */
int watch_config_parse(struct watch_config *cfg, FILE *f, const struct watch_policy *base,
		       void (*errfn)(const char *msg));
void watch_config_free(struct watch_config *cfg);
/* the policy for @dev: the first section that matches, over [global] */
const struct watch_policy *watch_config_policy(const struct watch_config *cfg,
					       struct dg_device *dev, const char **matched);
void watch_policy_free(struct watch_policy *p);
int watch_policy_copy(struct watch_policy *dst, const struct watch_policy *src);
/* parse one value as the config does: "report", "10", "yes", "sshd, foo.service" */
int watch_parse_bool(const char *v, bool *out);
int watch_parse_protect(const char *v, struct watch_policy *p);
/*
 * The pids of processes whose command name, or systemd unit, is in the
 * policy's protect list: a new array (NULL for none), its size in *@nr.
 */
pid_t *watch_protect_pids(const struct watch_policy *p, size_t *nr);

/* ------------------------------------------------------------------ */
/* State: watch-state.c */

struct watch_state;

/*
 * The state directory (made 0700 if need be; refused unless root's
 * alone) and its lock: one daemon per directory.  -EBUSY naming the
 * holder.
 */
int watch_state_open(const char *dir, struct watch_state **out, char *why, size_t size);
void watch_state_close(struct watch_state *st);
/* the ranges handled on device @identity, into @set */
int watch_state_load(struct watch_state *st, const char *identity, struct dg_rangeset *set,
		     char *why, size_t size);
/* write them, atomically: a temporary file, fsync, rename, fsync of the directory */
int watch_state_save(struct watch_state *st, const char *identity, const struct dg_rangeset *set,
		     char *why, size_t size);
/* the file a device's state is kept in (for messages) */
char *watch_state_path(struct watch_state *st, const char *identity);

/* ------------------------------------------------------------------ */
/* Output: watch-output.c */

/* journal fields of one message (each may be NULL) */
struct watch_fields {
	const char *message_id;
	const char *event; /* kind */
	const char *device;
	const char *identity;
	const char *ranges; /* "0x5000+0x1000 0x9000+0x1000" */
	const char *pids; /* "123 456" */
	const char *action;
	const char *disposition;
};

/* where messages go: stderr with <N> prefixes, or the journal */
void watch_log_init(void);
bool watch_log_journal(void);
void watch_log(int prio, const struct watch_fields *f, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prometheus text format, written whole and renamed into place */
struct watch_metrics;
struct watch_metrics *watch_metrics_new(const char *path);
void watch_metrics_free(struct watch_metrics *m);
void watch_metrics_event(struct watch_metrics *m, const char *device, const char *kind,
			 uint64_t ranges, uint64_t signalled, uint64_t punched, bool failed);
void watch_metrics_badblocks(struct watch_metrics *m, const char *device, uint64_t sectors);
void watch_metrics_flood(struct watch_metrics *m, const char *device, bool flood);
void watch_metrics_devices(struct watch_metrics *m, unsigned int nr);
/* write the file if anything changed: 0, or -errno (said once per cause) */
int watch_metrics_write(struct watch_metrics *m);

/* --exec: one child per event, its JSON on stdin, bounded in time */
struct watch_exec;
struct watch_exec *watch_exec_new(const char *program, unsigned int timeout_ms);
void watch_exec_free(struct watch_exec *x);
/* start it for @json (or queue it if too many run) */
void watch_exec_run(struct watch_exec *x, const char *json, size_t len, const char *kind,
		    const char *device);
/* one descriptor to poll (the children's pidfds), and reaping them */
int watch_exec_fd(struct watch_exec *x);
void watch_exec_reap(struct watch_exec *x);
/* ms until a child's deadline, or -1 */
int watch_exec_timeout(struct watch_exec *x);
/* SIGTERM: stop every child, wait a moment */
void watch_exec_stop(struct watch_exec *x);

/* message ids (journalctl MESSAGE_ID=...) */
#define WATCH_MID_ACTED "4bf7f2d078294f7fb690a5f3b5d9d343"
#define WATCH_MID_REPORTED "d170beab3fe54429bc9f416eb265bbf8"
#define WATCH_MID_REMOVED_MOUNTED "8f8066065afc4d53972995b5e0e907f2"
#define WATCH_MID_PRE_REMOVE "032c9123cf1741bc8a46ee4ebf79276e"
#define WATCH_MID_FAILED "ca48350ef9124578bd8373bf2e5ef5fa"
#define WATCH_MID_CONFIG "def519cc2f7642e1835eaf963691a196"
#define WATCH_MID_FLOOD "fb16aa203e994f63881f5866b6cbe20f"

#endif
