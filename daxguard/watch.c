// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daxguard watch: the always-on half.  In the kernel's pipeline nobody
 * types anything: the device notifies its holder and the holder acts.
 * This is that loop in user space.  The library's event sources turn
 * kernel signals into events (badblocks lists, memory-failure messages,
 * udev, the PCIe attention button); here each event meets its device's
 * policy and goes through the fail flow (dg_notify_failure()) or the
 * pre-remove flow, and what was done goes to the journal, JSON, a
 * Prometheus textfile and --exec programs.  One thread, one epoll loop,
 * no busy waiting: between events the daemon sleeps, but for the periodic
 * re-read of the lists (--interval).
 *
 * A flow runs to its end inside the loop: SIGTERM waits for it (the
 * flow always thaws before it returns), and the stage hook keeps the
 * systemd watchdog fed meanwhile.  A flow that finds another daxguard
 * acting on the device (-EBUSY) is tried again later, never dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <libmount.h>
#include <systemd/sd-daemon.h>

#include "act.h"
#include "watch.h"
#include "util/util.h"

#define DEFAULT_CONFIG "/etc/daxguard/watch.conf"
#define DEFAULT_STATE_DIR "/var/lib/daxguard"
#define DEFAULT_INTERVAL_MS 30000
#define DEFAULT_FLOOD_LIMIT 32
#define DEFAULT_EXEC_TIMEOUT_MS 30000
#define FLOOD_WINDOW_MS 60000
#define RETRY_MAX_MS 30000
#define FAIL_TRIES 3
#define REFRESH_DELAY_MS 300 /* a burst of uevents makes one refresh */
#define SNAPSHOT_DELAY_MS 500 /* likewise mount table changes */
#define PRE_REMOVE_WINDOW_MS 5000
#define PRE_REMOVE_GRACE_MS 2000

/* --sources, as bits (1 << SRC_...) */
enum { SRC_BADBLOCKS = 1, SRC_FILE, SRC_KMSG, SRC_UDEV, SRC_PCIEHP };
#define SRC_ALL (((1U << (SRC_PCIEHP + 1)) - 1) & ~1U)

/* what an epoll event is about */
enum tag_type { TAG_SIGNAL = 1, TAG_SOURCE, TAG_MOUNTS, TAG_EXEC };
struct tag {
	enum tag_type type;
	struct dg_source *src;
};

struct wdev {
	struct wdev *next;
	struct dg_device *dev;
	char *identity;
	struct dg_source *bb; /* the sysfs list, or NULL */
	struct tag bb_tag;
	struct dg_rangeset handled;
	bool state_bad; /* the state file did not read: kept aside */
	struct dg_target *snap; /* its mounts as last seen: for a removal */
	bool gone_said; /* its going was logged */
	uint64_t win_start;
	unsigned int win_count;
	bool flood;
};

struct bbfile {
	char *spec, *path;
	struct dg_device *dev;
	struct dg_source *src;
	struct tag tag;
};

/* a piece of work: ranges of one device to act on (or report) */
struct work {
	struct work *next;
	struct dg_device *dev;
	enum dg_event_kind kind;
	const char *source;
	bool initial;
	struct dg_rangeset ranges;
	pid_t *kpids;
	size_t nr_kpids;
	char *kresult, *kmessage;
	uint64_t phys;
	bool has_phys;
	uint64_t due_ms;
	unsigned int tries, failures;
};

struct watch {
	struct dg_ctx *ctx;
	/* options */
	const char *config_path;
	bool config_explicit;
	struct watch_policy cli;
	unsigned int interval_ms, exec_timeout_ms, freeze_ms, flood_limit_cli;
	bool on_start_act, json, all;
	unsigned int sources;
	const char *state_dir, *metrics_path, *exec_path;
	/* running state */
	struct watch_config *cfg;
	struct watch_state *state;
	struct watch_metrics *metrics;
	struct watch_exec *exec;
	struct dg_device_list *list;
	struct wdev *devs;
	struct bbfile *files;
	size_t nr_files;
	struct dg_source *kmsg, *udev, *pciehp;
	struct tag kmsg_tag, udev_tag, pciehp_tag, sig_tag, mounts_tag, exec_tag;
	struct libmnt_monitor *mounts;
	struct work *pending;
	int epfd, sigfd;
	uint64_t next_tick, refresh_at, snapshot_at, watchdog_usec, next_watchdog;
	unsigned long events, acted;
	bool stop;
};

static struct watch *the_watch; /* for the stage hook, which has no argument */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void usage(void)
{
	printf("Usage:\n"
	       " daxguard watch [options]\n"
	       "\n"
	       "Run in the foreground and act on failures and removals as the kernel\n"
	       "reports them: new ranges in a pmem device's badblocks list or in a\n"
	       "--badblocks-file, memory-failure messages (the mappers the kernel did\n"
	       "not signal), devices that go away while mounted, and the PCIe\n"
	       "attention button's five seconds.  Each failed range goes through the\n"
	       "fail flow under its device's policy, once: what was handled is kept\n"
	       "in the state directory across restarts.\n"
	       "\n"
	       "Options:\n"
	       " -c, --config <file>       policy per device (default %s,\n"
	       "                           if it exists); SIGHUP reads it again\n"
	       " -a, --action <policy>     report (default), term, kill or bus\n"
	       " -g, --grace <seconds>     term: SIGTERM to SIGKILL (default 10)\n"
	       "     --punch               punch the failed file ranges out\n"
	       "     --shutdown            shut a filesystem down when its metadata fails\n"
	       " -i, --interval <seconds>  re-read the badblocks lists (default 30)\n"
	       "     --on-start <what>     ranges listed before the start: report\n"
	       "                           (default) or act\n"
	       "     --badblocks-file <target>=<file>  a badblocks list others feed\n"
	       "                           for <target> (any block device); may repeat\n"
	       "     --state-dir <dir>     what was handled (default %s)\n"
	       "     --flood-limit <n>     new ranges a minute before a device drops\n"
	       "                           to report-only (default %d)\n"
	       " -J, --json                each event as one JSON object per line\n"
	       "     --metrics <file>      a Prometheus textfile, rewritten on change\n"
	       "     --exec <program>      run it for each event, its JSON on stdin\n"
	       "     --exec-timeout <seconds>  kill a program running longer (default 30)\n"
	       "     --freeze-timeout <seconds>  the longest a freeze may last (default 30)\n"
	       "     --sources <list>      badblocks, badblocks-file, kmsg, udev, pciehp\n"
	       "                           (default: all)\n"
	       "     --all                 watch loop devices too\n"
	       "     --pause-after <stage> stop after a stage of the first flow until\n"
	       "                           SIGUSR1 (%s)\n"
	       "     --check-config        read the config, show each device's policy,\n"
	       "                           and exit (changes nothing)\n"
	       " -h, --help                display this help\n"
	       "\n"
	       "For more details see daxguard-watch(8) and daxguard-watch.conf(5).\n",
	       DEFAULT_CONFIG, DEFAULT_STATE_DIR, DEFAULT_FLOOD_LIMIT, act_stage_list());
}

/* ------------------------------------------------------------------ */
/* systemd */

static void notify_status(struct watch *w)
{
	struct wdev *wd;
	unsigned int n = 0;

	for (wd = w->devs; wd; wd = wd->next)
		n += dg_device_is_present(wd->dev);
	sd_notifyf(0, "STATUS=watching %u device%s; %lu event%s, %lu acted on", n,
		   n == 1 ? "" : "s", w->events, w->events == 1 ? "" : "s", w->acted);
	watch_metrics_devices(w->metrics, n);
}

static void feed_watchdog(struct watch *w)
{
	uint64_t now = now_ms();

	if (w->watchdog_usec && now >= w->next_watchdog) {
		sd_notify(0, "WATCHDOG=1");
		w->next_watchdog = now + w->watchdog_usec / 2000;
	}
}

/* the flows call this at every stage, and often while they wait */
static void stage_fn(struct dg_ctx *ctx, const char *stage, enum dg_stage_event ev,
		     unsigned int pending, uint64_t elapsed_ms)
{
	if (the_watch)
		feed_watchdog(the_watch);
	act_stage_fn(ctx, stage, ev, pending, elapsed_ms);
}

/* ------------------------------------------------------------------ */
/* Devices */

static struct wdev *wdev_of(struct watch *w, struct dg_device *dev)
{
	struct wdev *wd;

	for (wd = w->devs; wd; wd = wd->next)
		if (wd->dev == dev)
			return wd;
	return NULL;
}

static void epoll_add(struct watch *w, int fd, uint32_t events, struct tag *tag)
{
	struct epoll_event e = { .events = events, .data.ptr = tag };

	if (fd >= 0 && epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e) < 0)
		watch_log(LOG_ERR, NULL, "epoll: %s", strerror(errno));
}

static void source_close(struct watch *w, struct dg_source **src)
{
	if (!*src)
		return;
	if (dg_source_get_fd(*src) >= 0)
		epoll_ctl(w->epfd, EPOLL_CTL_DEL, dg_source_get_fd(*src), NULL);
	dg_source_free(*src);
	*src = NULL;
}

static void take_events(struct watch *w, struct dg_source *src);

/* the mounts on the device, as now: what a removal would leave behind */
static void snapshot(struct watch *w, struct wdev *wd)
{
	dg_target_free(wd->snap);
	wd->snap = NULL;
	if (dg_device_is_present(wd->dev) &&
	    dg_target_new(w->ctx, dg_device_get_devname(wd->dev), &wd->snap))
		wd->snap = NULL;
}

static void wdev_start(struct watch *w, struct wdev *wd)
{
	char why[512];
	int rc;

	snapshot(w, wd);
	if (!(w->sources & (1 << SRC_BADBLOCKS)) || wd->bb)
		return;
	rc = dg_source_badblocks_new(wd->dev, &wd->bb);
	if (rc == -ENOENT)
		return; /* the device keeps no list: nothing to watch there */
	if (rc) {
		snprintf(why, sizeof(why), "%s", dg_get_error(w->ctx) ?: strerror(-rc));
		watch_log(LOG_ERR, NULL, "%s: its badblocks list is not watched: %s",
			  dg_device_get_devname(wd->dev), why);
		wd->bb = NULL;
		return;
	}
	wd->bb_tag = (struct tag){ TAG_SOURCE, wd->bb };
	epoll_add(w, dg_source_get_fd(wd->bb), EPOLLIN, &wd->bb_tag);
}

static struct wdev *wdev_add(struct watch *w, struct dg_device *dev)
{
	struct wdev *wd = wdev_of(w, dev), **pp;
	char why[1024];
	int rc;

	if (wd)
		return wd;
	wd = calloc(1, sizeof(*wd));
	if (!wd)
		return NULL;
	wd->dev = dev;
	wd->identity = strdup(dg_device_get_identity(dev));
	if (!wd->identity) {
		free(wd);
		return NULL;
	}
	rc = watch_state_load(w->state, wd->identity, &wd->handled, why, sizeof(why));
	if (rc) {
		/* acting twice is what the file prevents: say so, loudly */
		watch_log(LOG_ERR, NULL,
			  "%s: %s; what was handled on %s before is not known, and may be acted "
			  "on again",
			  dg_device_get_devname(dev), why, wd->identity);
		dg_rangeset_clear(&wd->handled);
		wd->state_bad = true;
	}
	for (pp = &w->devs; *pp; pp = &(*pp)->next)
		;
	*pp = wd;
	watch_log(LOG_INFO, NULL, "%s: watched (%s%s%s)", dg_device_get_devname(dev), wd->identity,
		  dg_device_get_mode(dev) ? ", " : "", dg_device_get_mode(dev) ?: "");
	return wd;
}

/* look at the devices again, after udev said something changed */
static void refresh_devices(struct watch *w)
{
	struct dg_device *d;
	struct wdev *wd;
	int rc;

	w->refresh_at = 0;
	rc = dg_device_list_refresh(w->list);
	if (rc) {
		watch_log(LOG_ERR, NULL, "%s", dg_get_error(w->ctx) ?: strerror(-rc));
		return;
	}
	for (wd = w->devs; wd; wd = wd->next) {
		if (dg_device_is_present(wd->dev)) {
			wd->gone_said = false;
			continue;
		}
		if (!wd->gone_said)
			watch_log(LOG_NOTICE, NULL, "%s: went away%s",
				  dg_device_get_devname(wd->dev),
				  wd->snap ? "" : " (nothing was mounted on it)");
		wd->gone_said = true;
		source_close(w, &wd->bb);
		dg_target_free(wd->snap);
		wd->snap = NULL;
	}
	dg_device_foreach(w->list, d)
	{
		if (!dg_device_is_present(d))
			continue;
		wd = wdev_add(w, d);
		if (wd && !wd->bb)
			wdev_start(w, wd);
		if (wd && wd->bb)
			take_events(w, wd->bb);
	}
	notify_status(w);
}

/* ------------------------------------------------------------------ */
/* Output of one event */

static void time_str(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
}

static json_object *json_ranges(const struct dg_rangeset *set)
{
	json_object *ja = json_object_new_array();
	size_t i;

	for (i = 0; set && i < set->nr; i++) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "offset", json_object_new_uint64(set->s[i].start));
		json_object_object_add(r, "length",
				       json_object_new_uint64(set->s[i].end - set->s[i].start));
		json_object_array_add(ja, r);
	}
	return ja;
}

static json_object *json_policy(const struct watch_policy *p, const char *section)
{
	json_object *jp = json_object_new_object(), *ja = json_object_new_array();
	size_t i;

	json_object_object_add(jp, "section", dg_jstr(section));
	json_object_object_add(jp, "action", dg_jstr(dg_action_name(p->action)));
	json_object_object_add(jp, "grace_ms", json_object_new_uint64(p->grace_ms));
	json_object_object_add(jp, "punch", json_object_new_boolean(p->punch));
	json_object_object_add(jp, "shutdown_on_metadata", json_object_new_boolean(p->shutdown));
	for (i = 0; i < p->nr_protect; i++)
		json_object_array_add(ja, dg_jstr(p->protect[i]));
	json_object_object_add(jp, "protect", ja);
	return jp;
}

/* the "event" member every line of --json starts with */
static json_object *event_json(const char *kind, const char *source, struct dg_device *dev,
			       const struct dg_rangeset *ranges, bool initial,
			       const char *disposition, const char *reason)
{
	json_object *je = json_object_new_object();
	char t[64];

	time_str(t, sizeof(t));
	json_object_object_add(je, "kind", dg_jstr(kind));
	json_object_object_add(je, "source", dg_jstr(source));
	json_object_object_add(je, "time", dg_jstr(t));
	json_object_object_add(je, "device", dg_jstr(dev ? dg_device_get_devname(dev) : NULL));
	json_object_object_add(je, "identity", dg_jstr(dev ? dg_device_get_identity(dev) : NULL));
	if (ranges)
		json_object_object_add(je, "ranges", json_ranges(ranges));
	json_object_object_add(je, "initial", json_object_new_boolean(initial));
	json_object_object_add(je, "disposition", dg_jstr(disposition));
	json_object_object_add(je, "reason", dg_jstr(reason));
	return je;
}

/*
 * One line of JSON: the event, then fail -J's members (or who's, for a
 * removal alert), to stdout (--json) and to --exec.
 */
static void emit(struct watch *w, json_object *je, const char *kind, const char *device,
		 struct dg_target *t, struct dg_report *rep, struct dg_result *res,
		 const char *action, bool dry_run)
{
	struct dg_json_out jo;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!w->json && !w->exec) {
		json_object_put(je);
		return;
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		json_object_put(je);
		return;
	}
	dg_json_begin_line(&jo, f);
	dg_json_member(&jo, "event", je);
	if (rep)
		act_json_report(&jo, t, rep, action, dry_run);
	else if (res)
		dg_json_who(&jo, t, res);
	dg_json_end(&jo);
	fclose(f);
	if (w->json) {
		fwrite(buf, 1, len, stdout);
		fflush(stdout);
	}
	watch_exec_run(w->exec, buf, len, kind, device);
	free(buf);
}

static char *ranges_str(const struct dg_rangeset *set)
{
	char *s = NULL, *n;
	size_t i;

	for (i = 0; i < set->nr; i++) {
		if (asprintf(&n, "%s%s%#" PRIx64 "+%#" PRIx64, s ?: "", s ? " " : "",
			     set->s[i].start, set->s[i].end - set->s[i].start) < 0)
			break;
		free(s);
		s = n;
	}
	return s ?: strdup("");
}

/* "hits /mnt/a at 0x5000, /mnt/b at 0x0, metadata (log)" */
static char *owners_str(struct dg_result *res)
{
	struct dg_owner *o;
	char *s = NULL, *n;
	unsigned int shown = 0, more = 0;

	dg_owner_foreach(res, o) {
		const char *what = NULL;
		char buf[64];

		if (dg_owner_get_type(o) == DG_OWNER_FILE) {
			if (shown >= 4) {
				more++;
				continue;
			}
			snprintf(buf, sizeof(buf), " at %#" PRIx64, dg_owner_get_file_offset(o));
			if (asprintf(&n, "%s%s%s%s", s ?: "", s ? ", " : "",
				     dg_owner_get_path(o) ?: "an unnamed inode", buf) < 0)
				break;
			shown++;
		} else {
			what = dg_owner_get_type(o) == DG_OWNER_METADATA ?
				       dg_owner_get_metadata(o) :
				       dg_owner_type_name(dg_owner_get_type(o));
			if (asprintf(&n, "%s%s%s%s", s ?: "", s ? ", " : "",
				     dg_owner_get_type(o) == DG_OWNER_METADATA ? "metadata " : "",
				     what) < 0)
				break;
		}
		free(s);
		s = n;
	}
	if (more && asprintf(&n, "%s and %u more", s, more) >= 0) {
		free(s);
		s = n;
	}
	return s ?: strdup("nothing in use");
}

/* victims: "2 killed (123 db, 456 reader)"; pids into *pids for the journal */
static char *victims_str(struct dg_report *rep, char **pids, uint64_t *signalled)
{
	static const enum dg_victim_state states[] = {
		DG_VICTIM_EXITED,    DG_VICTIM_SURVIVED, DG_VICTIM_GONE,
		DG_VICTIM_PROTECTED, DG_VICTIM_REPORTED,
	};
	char *s = NULL, *n, *list, *p = NULL;
	struct dg_victim *v;
	size_t i;

	*signalled = 0;
	dg_victim_foreach(rep, v) {
		if (dg_victim_get_signals(v)[0])
			(*signalled)++;
		if (asprintf(&n, "%s%s%d", p ?: "", p ? " " : "", (int)dg_victim_get_pid(v)) >= 0) {
			free(p);
			p = n;
		}
	}
	for (i = 0; i < ARRAY_SIZE(states); i++) {
		unsigned int count = 0;

		list = NULL;
		dg_victim_foreach(rep, v) {
			if (dg_victim_get_state(v) != states[i])
				continue;
			count++;
			if (count <= 8 &&
			    asprintf(&n, "%s%s%d %s", list ?: "", list ? ", " : "",
				     (int)dg_victim_get_pid(v), dg_victim_get_comm(v)) >= 0) {
				free(list);
				list = n;
			}
		}
		if (count && asprintf(&n, "%s%s%u %s (%s%s)", s ?: "", s ? "; " : "", count,
				      dg_victim_state_name(states[i]), list,
				      count > 8 ? ", ..." : "") >= 0) {
			free(s);
			s = n;
		}
		free(list);
	}
	*pids = p;
	return s ?: strdup("no process uses it");
}

/* bytes of file data punched: the owners of every punch step that worked */
static uint64_t punched_bytes(struct dg_report *rep)
{
	struct dg_result *res = dg_report_get_result(rep);
	struct dg_step *s;
	uint64_t n = 0;

	dg_step_foreach(rep, s) {
		struct dg_owner *o;

		if (strcmp(dg_step_get_stage(s), "punch") || dg_step_get_status(s) || !res)
			continue;
		dg_owner_foreach(res, o)
			if (dg_owner_get_type(o) == DG_OWNER_FILE && dg_owner_get_path(o) &&
			    !strcmp(dg_owner_get_path(o), dg_step_get_object(s)))
				n += dg_owner_get_length(o);
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* The fail flow for a piece of work */

static void work_free(struct work *wk)
{
	dg_rangeset_free(&wk->ranges);
	free(wk->kpids);
	free(wk->kresult);
	free(wk->kmessage);
	free(wk);
}

static void save_state(struct watch *w, struct wdev *wd)
{
	char why[1024];

	if (watch_state_save(w->state, wd->identity, &wd->handled, why, sizeof(why)))
		watch_log(LOG_ERR, NULL, "%s: %s; a restart would act on it again",
			  dg_device_get_devname(wd->dev), why);
}

static unsigned int flood_limit(struct watch *w)
{
	if (w->cfg && w->cfg->flood_set)
		return w->cfg->flood_limit;
	return w->flood_limit_cli ? w->flood_limit_cli : DEFAULT_FLOOD_LIMIT;
}

/* the window is over: calm again, or not */
static void flood_window(struct watch *w, struct wdev *wd, uint64_t now)
{
	if (now - wd->win_start < FLOOD_WINDOW_MS)
		return;
	if (wd->flood && wd->win_count <= flood_limit(w)) {
		wd->flood = false;
		watch_log(LOG_NOTICE,
			  &(struct watch_fields){ .message_id = WATCH_MID_FLOOD,
						  .device = dg_device_get_devname(wd->dev) },
			  "%s: calm again (%u new ranges in the last minute): acting by policy "
			  "again",
			  dg_device_get_devname(wd->dev), wd->win_count);
		watch_metrics_flood(w->metrics, dg_device_get_devname(wd->dev), false);
	}
	wd->win_start = now;
	wd->win_count = 0;
}

/* count @n new ranges: true while the device floods */
static bool flood_check(struct watch *w, struct wdev *wd, size_t n)
{
	uint64_t now = now_ms();

	flood_window(w, wd, now);
	wd->win_count += (unsigned int)n;
	if (!wd->flood && wd->win_count > flood_limit(w)) {
		wd->flood = true;
		watch_log(LOG_WARNING,
			  &(struct watch_fields){ .message_id = WATCH_MID_FLOOD,
						  .device = dg_device_get_devname(wd->dev) },
			  "%s: %u new ranges within a minute, more than %u: report only until a "
			  "minute passes with fewer (--flood-limit)",
			  dg_device_get_devname(wd->dev), wd->win_count, flood_limit(w));
		watch_metrics_flood(w->metrics, dg_device_get_devname(wd->dev), true);
	}
	return wd->flood;
}

static void requeue(struct watch *w, struct work *wk, const char *why)
{
	uint64_t delay = 1000ULL << DG_MIN(wk->tries, 5U);
	struct work **pp;

	wk->tries++;
	wk->due_ms = now_ms() + DG_MIN(delay, (uint64_t)RETRY_MAX_MS);
	watch_log(LOG_NOTICE, NULL, "%s: %s; trying again in %" PRIu64 " s",
		  dg_device_get_devname(wk->dev), why,
		  DG_MIN(delay, (uint64_t)RETRY_MAX_MS) / 1000);
	for (pp = &w->pending; *pp; pp = &(*pp)->next)
		;
	wk->next = NULL;
	*pp = wk;
}

/* keep only what lies on the device: a list may name anything */
static void clip_ranges(struct wdev *wd, struct dg_rangeset *set, uint64_t size)
{
	struct dg_rangeset keep = { 0 };
	size_t i;

	for (i = 0; i < set->nr; i++) {
		uint64_t s = set->s[i].start, e = DG_MIN(set->s[i].end, size);

		if (s >= e) {
			watch_log(LOG_WARNING, NULL,
				  "%s: range %#" PRIx64 "+%#" PRIx64 " is past the end of the "
				  "device (%" PRIu64 " bytes): ignored",
				  dg_device_get_devname(wd->dev), set->s[i].start,
				  set->s[i].end - set->s[i].start, size);
			continue;
		}
		dg_rangeset_add(&keep, s, e - s);
	}
	dg_rangeset_free(set);
	*set = keep;
}

static void handle_work(struct watch *w, struct work *wk)
{
	struct wdev *wd = wdev_of(w, wk->dev);
	struct dg_rangeset fresh = { 0 };
	const struct watch_policy *pol;
	const char *section = NULL, *reason = NULL, *disposition;
	struct dg_mf_opts mf = { 0 };
	struct dg_target *t = NULL;
	struct dg_report *rep = NULL;
	struct dg_range *ranges = NULL;
	pid_t *protect = NULL;
	size_t nr_protect = 0, i;
	const char *kind = dg_event_kind_name(wk->kind);
	const char *devname = dg_device_get_devname(wk->dev);
	char *rstr = NULL, *ostr = NULL, *vstr = NULL, *pids = NULL, reasonbuf[256];
	uint64_t signalled = 0;
	bool report;
	json_object *je;
	int rc, prio;

	if (!wd || !dg_device_is_present(wk->dev)) {
		watch_log(LOG_WARNING, NULL, "%s: gone before its %s event could be handled",
			  devname, kind);
		work_free(wk);
		return;
	}
	if (dg_rangeset_diff(&wk->ranges, &wd->handled, &fresh) || !fresh.nr) {
		if (wk->kind == DG_EVENT_MEMORY_FAILURE)
			watch_log(LOG_INFO, NULL,
				  "%s: memory failure at %#" PRIx64 " (the kernel: %s): handled "
				  "before",
				  devname, wk->phys, wk->kresult ?: "no result");
		dg_rangeset_free(&fresh);
		work_free(wk);
		return;
	}
	pol = watch_config_policy(w->cfg, wk->dev, &section);
	report = pol->action == DG_ACTION_REPORT;
	if (wk->initial && !w->on_start_act) {
		report = true;
		reason = "listed before the daemon started (--on-start act acts on those)";
	} else if (!wk->tries && flood_check(w, wd, fresh.nr)) {
		report = true;
		snprintf(reasonbuf, sizeof(reasonbuf),
			 "the device floods: more than %u new ranges within a minute",
			 flood_limit(w));
		reason = reasonbuf;
	}

	rc = dg_target_new(w->ctx, devname, &t);
	if (rc == -ENODEV) {
		/* nothing mounted: no file, no process can be hit now */
		rstr = ranges_str(&fresh);
		watch_log(LOG_NOTICE,
			  &(struct watch_fields){ .message_id = WATCH_MID_REPORTED,
						  .event = kind,
						  .device = devname,
						  .identity = wd->identity,
						  .ranges = rstr,
						  .disposition = "nothing-mounted" },
			  "%s: %s (%s): %s: nothing is mounted on it, nobody to act on", devname,
			  kind, wk->source, rstr);
		je = event_json(kind, wk->source, wk->dev, &fresh, wk->initial, "nothing-mounted",
				dg_get_error(w->ctx));
		emit(w, je, kind, devname, NULL, NULL, NULL, NULL, false);
		goto handled;
	}
	if (rc) {
		const char *why = dg_get_error(w->ctx) ?: strerror(-rc);

		if (++wk->failures < FAIL_TRIES) {
			char msg[512];

			snprintf(msg, sizeof(msg), "%s", why);
			dg_rangeset_free(&fresh);
			requeue(w, wk, msg);
			return;
		}
		watch_log(LOG_ERR,
			  &(struct watch_fields){ .message_id = WATCH_MID_FAILED,
						  .event = kind,
						  .device = devname },
			  "%s: %s: %s", devname, kind, why);
		je = event_json(kind, wk->source, wk->dev, &fresh, wk->initial, "failed", why);
		emit(w, je, kind, devname, NULL, NULL, NULL, NULL, false);
		watch_metrics_event(w->metrics, devname, kind, fresh.nr, 0, 0, true);
		goto handled;
	}
	clip_ranges(wd, &fresh, dg_target_get_size(t));
	if (!fresh.nr)
		goto handled;
	ranges = calloc(fresh.nr, sizeof(*ranges));
	if (!ranges) {
		watch_log(LOG_ERR, NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < fresh.nr; i++)
		ranges[i] =
			(struct dg_range){ fresh.s[i].start, fresh.s[i].end - fresh.s[i].start };

	mf.action = report ? DG_ACTION_REPORT : pol->action;
	mf.grace_ms = pol->grace_ms;
	mf.freeze_deadline_ms = w->freeze_ms;
	if (report)
		mf.flags |= DG_MF_DRY_RUN;
	if (pol->punch && !report)
		mf.flags |= DG_MF_PUNCH;
	if (pol->shutdown && !report)
		mf.flags |= DG_MF_SHUTDOWN;
	protect = watch_protect_pids(pol, &nr_protect);
	/* the kernel signalled these already: the daemon acts on the others */
	for (i = 0; i < wk->nr_kpids; i++) {
		pid_t *p = reallocarray(protect, nr_protect + 1, sizeof(*p));

		if (!p)
			break;
		protect = p;
		protect[nr_protect++] = wk->kpids[i];
	}
	mf.protect = protect;
	mf.nr_protect = nr_protect;

	rc = dg_notify_failure(t, ranges, fresh.nr, &mf, &rep);
	if (rc == -EBUSY) {
		char msg[512];

		snprintf(msg, sizeof(msg), "%s", dg_get_error(w->ctx) ?: "busy");
		dg_report_free(rep);
		rep = NULL;
		dg_rangeset_free(&fresh);
		free(ranges);
		free(protect);
		dg_target_free(t);
		requeue(w, wk, msg);
		return;
	}
	rstr = ranges_str(&fresh);
	if (rep && dg_report_get_result(rep))
		ostr = owners_str(dg_report_get_result(rep));
	if (rep)
		vstr = victims_str(rep, &pids, &signalled);
	if (rc) {
		disposition = "failed";
		prio = LOG_ERR;
	} else if (report) {
		disposition = "reported";
		prio = LOG_NOTICE;
	} else {
		disposition = "acted";
		prio = rep && dg_report_metadata_hit(rep) ? LOG_CRIT : LOG_WARNING;
		w->acted++;
	}
	watch_log(prio,
		  &(struct watch_fields){
			  .message_id = rc     ? WATCH_MID_FAILED :
					report ? WATCH_MID_REPORTED :
						 WATCH_MID_ACTED,
			  .event = kind,
			  .device = devname,
			  .identity = wd->identity,
			  .ranges = rstr,
			  .pids = pids,
			  .action = dg_action_name(mf.action),
			  .disposition = disposition,
		  },
		  "%s: %s (%s%s%s): %s hits %s; %s: %s%s%s%s%s%s", devname, kind, wk->source,
		  wk->kresult ? ", the kernel: " : "", wk->kresult ?: "", rstr, ostr ?: "?",
		  report ? "reported only" : dg_action_name(mf.action), vstr ?: "",
		  rep && dg_report_metadata_hit(rep) ? "; METADATA IS HIT" : "",
		  rc ? "; FAILED: " : "", rc ? (dg_get_error(w->ctx) ?: strerror(-rc)) : "",
		  reason ? "; " : "", reason ?: "");
	je = event_json(kind, wk->source, wk->dev, &fresh, wk->initial, disposition, reason);
	json_object_object_add(je, "policy", json_policy(pol, section));
	if (wk->has_phys) {
		json_object *jk = json_object_new_object(), *ja = json_object_new_array();

		json_object_object_add(jk, "phys", json_object_new_uint64(wk->phys));
		json_object_object_add(jk, "result", dg_jstr(wk->kresult));
		for (i = 0; i < wk->nr_kpids; i++)
			json_object_array_add(ja, json_object_new_int(wk->kpids[i]));
		json_object_object_add(jk, "signalled", ja);
		json_object_object_add(jk, "message", dg_jstr(wk->kmessage));
		json_object_object_add(je, "kernel", jk);
	}
	if (rc)
		json_object_object_add(je, "error", dg_jstr(dg_get_error(w->ctx) ?: strerror(-rc)));
	if (rep)
		emit(w, je, kind, devname, t, rep, NULL, dg_action_name(mf.action), report);
	else
		emit(w, je, kind, devname, NULL, NULL, NULL, NULL, false);
	watch_metrics_event(w->metrics, devname, kind, fresh.nr, signalled,
			    rep ? punched_bytes(rep) : 0, rc != 0);
handled:
	for (i = 0; i < fresh.nr; i++)
		dg_rangeset_add(&wd->handled, fresh.s[i].start, fresh.s[i].end - fresh.s[i].start);
	save_state(w, wd);
	notify_status(w);
out:
	dg_report_free(rep);
	dg_target_free(t);
	dg_rangeset_free(&fresh);
	free(ranges);
	free(protect);
	free(rstr);
	free(ostr);
	free(vstr);
	free(pids);
	work_free(wk);
}

/* ------------------------------------------------------------------ */
/* Events */

static struct work *work_new(struct dg_event *ev, struct dg_device *dev)
{
	struct work *wk = calloc(1, sizeof(*wk));

	if (!wk)
		return NULL;
	wk->dev = dev;
	wk->kind = dg_event_get_kind(ev);
	wk->source = dg_event_get_source(ev);
	wk->initial = dg_event_is_initial(ev);
	return wk;
}

static void on_badblocks(struct watch *w, struct dg_event *ev)
{
	struct dg_device *dev = dg_event_get_device(ev);
	struct work *wk;
	size_t i;

	for (i = 0; i < dg_event_get_nr_warnings(ev); i++)
		watch_log(LOG_WARNING, NULL, "%s", dg_event_get_warning(ev, i));
	if (!dg_event_get_nr_ranges(ev) || !dev || !wdev_of(w, dev))
		return;
	wk = work_new(ev, dev);
	if (!wk)
		return;
	for (i = 0; i < dg_event_get_nr_ranges(ev); i++) {
		const struct dg_range *r = dg_event_get_range(ev, i);

		dg_rangeset_add(&wk->ranges, r->offset, r->length);
	}
	handle_work(w, wk);
}

static void on_memory_failure(struct watch *w, struct dg_event *ev)
{
	uint64_t phys = dg_event_get_phys(ev), page = dg_event_get_page_size(ev), off;
	struct dg_device *dev;
	struct work *wk;
	size_t i;

	for (i = 0; i < dg_event_get_nr_warnings(ev); i++)
		watch_log(LOG_WARNING, NULL, "%s", dg_event_get_warning(ev, i));
	/* the device and offset, as who --pfn finds them */
	if (dg_device_list_find_phys(w->list, phys, &dev, &off) || !wdev_of(w, dev)) {
		watch_log(LOG_INFO, NULL,
			  "memory failure at %#" PRIx64 " (pfn %#" PRIx64 ", the kernel: %s): on "
			  "no watched device",
			  phys, phys / page, dg_event_get_kernel_result(ev) ?: "no result");
		return;
	}
	wk = work_new(ev, dev);
	if (!wk)
		return;
	wk->phys = phys;
	wk->has_phys = true;
	wk->kresult =
		dg_event_get_kernel_result(ev) ? strdup(dg_event_get_kernel_result(ev)) : NULL;
	wk->kmessage = dg_event_get_message(ev) ? strdup(dg_event_get_message(ev)) : NULL;
	wk->nr_kpids = dg_event_get_nr_kernel_pids(ev);
	wk->kpids = calloc(wk->nr_kpids + 1, sizeof(*wk->kpids));
	for (i = 0; wk->kpids && i < wk->nr_kpids; i++)
		wk->kpids[i] = dg_event_get_kernel_pid(ev, i);
	if (!wk->kpids)
		wk->nr_kpids = 0;
	dg_rangeset_add(&wk->ranges, off - off % page, page);
	handle_work(w, wk);
}

/* a device went: if a filesystem on it is still mounted, that is an alert */
static void on_device_remove(struct watch *w, struct dg_event *ev)
{
	bool chr = dg_event_get_subsystem(ev) && !strcmp(dg_event_get_subsystem(ev), "dax");
	struct dg_result *res = NULL;
	struct wdev *wd;
	char *mounts = NULL, *n, *vic = NULL;
	unsigned int users = 0;
	struct dg_fs *fs;

	for (wd = w->devs; wd; wd = wd->next)
		if (dg_device_get_devnum(wd->dev) == dg_event_get_devnum(ev) &&
		    (dg_device_get_kind(wd->dev) == DG_DEVICE_DAX) == chr &&
		    dg_device_is_present(wd->dev))
			break;
	if (!wd)
		return;
	/* nothing mounted: the refresh that follows says it went */
	if (!wd->snap || dg_target_get_kind(wd->snap) == DG_TARGET_DAX)
		return;
	wd->gone_said = true;
	/* who is left holding it: the mounts stay, on a device that is gone */
	dg_who(wd->snap, NULL, 0, DG_WHO_NO_PATHS, &res);
	dg_fs_foreach(wd->snap, fs) {
		struct dg_mount *m;

		dg_mount_foreach(fs, m) {
			if (asprintf(&n, "%s%s%s (%s)", mounts ?: "", mounts ? ", " : "",
				     dg_mount_get_target(m), dg_fs_get_type(fs)) < 0)
				continue;
			free(mounts);
			mounts = n;
		}
	}
	if (res) {
		struct dg_user *u;
		pid_t last = 0;

		dg_user_foreach(res, u) {
			if (dg_user_get_pid(u) == last)
				continue;
			last = dg_user_get_pid(u);
			users++;
			if (users <= 10 && asprintf(&n, "%s%s%d %s", vic ?: "", vic ? ", " : "",
						    (int)last, dg_user_get_comm(u) ?: "?") >= 0) {
				free(vic);
				vic = n;
			}
		}
	}
	watch_log(
		LOG_ALERT,
		&(struct watch_fields){ .message_id = WATCH_MID_REMOVED_MOUNTED,
					.event = "device-remove",
					.device = dg_device_get_devname(wd->dev),
					.identity = wd->identity,
					.disposition = "alert" },
		"%s: went away while mounted on %s: its filesystems live on with no device "
		"below them, and data not yet written back is lost; %u process%s use%s them%s%s%s "
		"(unmount before unplug: daxguard remove)",
		dg_device_get_devname(wd->dev), mounts ?: "?", users, users == 1 ? "" : "es",
		users == 1 ? "s" : "", users ? ": " : "", vic ?: "", users > 10 ? ", ..." : "");
	emit(w,
	     event_json("device-remove", dg_event_get_source(ev), wd->dev, NULL, false, "alert",
			"the device went away while mounted"),
	     "device-remove", dg_device_get_devname(wd->dev), wd->snap, NULL, res, NULL, false);
	watch_metrics_event(w->metrics, dg_device_get_devname(wd->dev), "device-remove", 0, 0, 0,
			    false);
	dg_result_free(res);
	free(mounts);
	free(vic);
}

/* the attention button: every watched device below the port, removed in the window */
static void on_pre_remove(struct watch *w, struct dg_event *ev)
{
	const char *port = dg_event_get_devname(ev), *syspath = dg_event_get_syspath(ev);
	unsigned int found = 0;
	struct wdev *wd;

	if (dg_event_get_kind(ev) == DG_EVENT_PRE_REMOVE_CANCELED) {
		watch_log(LOG_NOTICE,
			  &(struct watch_fields){ .message_id = WATCH_MID_PRE_REMOVE,
						  .event = "pre-remove-canceled" },
			  "slot %s (port %s): the removal was canceled; what daxguard unmounted "
			  "stays unmounted",
			  dg_event_get_slot(ev), port);
		return;
	}
	for (wd = w->devs; wd && syspath; wd = wd->next) {
		const struct watch_policy *pol = watch_config_policy(w->cfg, wd->dev, NULL);
		struct dg_mf_opts mf = { .flags = DG_MF_PRE_REMOVE | DG_MF_NO_RELEASE };
		const char *devname = dg_device_get_devname(wd->dev);
		struct dg_report *rep = NULL;
		struct dg_target *t = NULL;
		uint64_t t0 = now_ms(), took;
		int rc;

		if (!dg_device_is_present(wd->dev) || !dg_device_is_below(wd->dev, syspath))
			continue;
		found++;
		rc = dg_target_new(w->ctx, devname, &t);
		if (rc) {
			watch_log(LOG_WARNING, NULL, "slot %s: %s is about to go; %s",
				  dg_event_get_slot(ev), devname,
				  rc == -ENODEV ? "nothing is mounted on it" :
						  (dg_get_error(w->ctx) ?: strerror(-rc)));
			continue;
		}
		/* five seconds in all: a short grace, and the hardware does the release */
		mf.action = pol->action == DG_ACTION_REPORT ? DG_ACTION_TERM : pol->action;
		mf.grace_ms = DG_MIN(pol->grace_ms, (unsigned int)PRE_REMOVE_GRACE_MS);
		mf.freeze_deadline_ms = w->freeze_ms;
		rc = dg_notify_failure(t, NULL, 0, &mf, &rep);
		took = now_ms() - t0;
		watch_log(rc ? LOG_ALERT : LOG_WARNING,
			  &(struct watch_fields){ .message_id = WATCH_MID_PRE_REMOVE,
						  .event = "pre-remove",
						  .device = devname,
						  .identity = wd->identity,
						  .disposition = rc ? "failed" : "removed" },
			  "slot %s (port %s) powers off in 5 s: %s: %s in %" PRIu64
			  " ms (%s the window)%s%s",
			  dg_event_get_slot(ev), port, devname,
			  rc ? "the removal flow FAILED" : "users stopped and unmounted", took,
			  took <= PRE_REMOVE_WINDOW_MS ? "within" : "PAST", rc ? ": " : "",
			  rc ? (dg_get_error(w->ctx) ?: strerror(-rc)) : "");
		{
			json_object *je = event_json("pre-remove", dg_event_get_source(ev), wd->dev,
						     NULL, false, rc ? "failed" : "removed", NULL);

			json_object_object_add(je, "slot", dg_jstr(dg_event_get_slot(ev)));
			json_object_object_add(je, "port", dg_jstr(port));
			json_object_object_add(je, "took_ms", json_object_new_uint64(took));
			emit(w, je, "pre-remove", devname, t, rep, NULL, dg_action_name(mf.action),
			     false);
		}
		watch_metrics_event(w->metrics, devname, "pre-remove", 0, 0, 0, rc != 0);
		dg_report_free(rep);
		dg_target_free(t);
	}
	if (!found)
		watch_log(LOG_INFO, NULL,
			  "slot %s (port %s) powers off in 5 s: no watched device is below it",
			  dg_event_get_slot(ev), port);
}

static void take_event(struct watch *w, struct dg_event *ev)
{
	w->events++;
	switch (dg_event_get_kind(ev)) {
	case DG_EVENT_BADBLOCKS:
		on_badblocks(w, ev);
		break;
	case DG_EVENT_MEMORY_FAILURE:
		on_memory_failure(w, ev);
		break;
	case DG_EVENT_DEVICE_REMOVE:
		on_device_remove(w, ev);
		/* fall through */
	case DG_EVENT_DEVICE_ADD:
	case DG_EVENT_DEVICE_CHANGE:
		if (!w->refresh_at)
			w->refresh_at = now_ms() + REFRESH_DELAY_MS;
		break;
	case DG_EVENT_PRE_REMOVE:
	case DG_EVENT_PRE_REMOVE_CANCELED:
		on_pre_remove(w, ev);
		break;
	}
}

static void take_events(struct watch *w, struct dg_source *src)
{
	struct dg_event *ev;

	while ((ev = dg_source_pop_event(src))) {
		take_event(w, ev);
		dg_event_free(ev);
	}
}

/* read a source; one that fails is closed and said so */
static void process_source(struct watch *w, struct dg_source **srcp)
{
	struct dg_source *src = *srcp;
	int rc = dg_source_process(src);

	take_events(w, src);
	if (rc < 0) {
		/* a list that went with its device is no error of ours */
		watch_log(rc == -ENODEV || rc == -ENOENT ? LOG_INFO : LOG_ERR, NULL,
			  "%s: %s; no longer watched", dg_source_get_name(src),
			  dg_get_error(w->ctx) ?: strerror(-rc));
		source_close(w, srcp);
		if (!w->refresh_at)
			w->refresh_at = now_ms() + REFRESH_DELAY_MS;
	}
}

static struct dg_source **source_slot(struct watch *w, struct dg_source *src)
{
	struct wdev *wd;
	size_t i;

	if (w->kmsg == src)
		return &w->kmsg;
	if (w->udev == src)
		return &w->udev;
	if (w->pciehp == src)
		return &w->pciehp;
	for (wd = w->devs; wd; wd = wd->next)
		if (wd->bb == src)
			return &wd->bb;
	for (i = 0; i < w->nr_files; i++)
		if (w->files[i].src == src)
			return &w->files[i].src;
	return NULL;
}

/* the periodic look: every list read again */
static void tick(struct watch *w)
{
	uint64_t now = now_ms();
	struct wdev *wd;
	size_t i;

	for (wd = w->devs; wd; wd = wd->next) {
		struct dg_range *r = NULL;
		size_t nr = 0, j;
		uint64_t sectors = 0;

		flood_window(w, wd, now);
		if (!wd->bb)
			continue;
		process_source(w, &wd->bb);
		if (dg_device_is_present(wd->dev) && !dg_device_get_badblocks(wd->dev, &r, &nr)) {
			for (j = 0; j < nr; j++)
				sectors += r[j].length >> 9;
			watch_metrics_badblocks(w->metrics, dg_device_get_devname(wd->dev),
						sectors);
		}
		free(r);
	}
	for (i = 0; i < w->nr_files; i++)
		if (w->files[i].src)
			process_source(w, &w->files[i].src);
	w->next_tick = now_ms() + w->interval_ms;
}

static void run_pending(struct watch *w)
{
	struct work *list = w->pending, *wk, *next;
	uint64_t now = now_ms();

	w->pending = NULL;
	for (wk = list; wk; wk = next) {
		next = wk->next;
		wk->next = NULL;
		if (wk->due_ms <= now) {
			handle_work(w, wk);
		} else {
			struct work **pp;

			for (pp = &w->pending; *pp; pp = &(*pp)->next)
				;
			*pp = wk;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Setup */

static void config_error(const char *msg)
{
	watch_log(LOG_ERR, &(struct watch_fields){ .message_id = WATCH_MID_CONFIG }, "%s", msg);
}

static int load_config(struct watch *w, bool reload)
{
	struct watch_config *cfg = NULL;
	const char *path = w->config_path;
	int rc;

	if (!w->config_explicit && access(DEFAULT_CONFIG, F_OK) && errno == ENOENT)
		path = NULL; /* no file: the command line's policy */
	rc = watch_config_load(path, &w->cli, config_error, &cfg);
	if (rc) {
		if (reload)
			watch_log(LOG_ERR, &(struct watch_fields){ .message_id = WATCH_MID_CONFIG },
				  "%s: not taken; the policy read before stays in force", path);
		return rc;
	}
	watch_config_free(w->cfg);
	w->cfg = cfg;
	if (reload)
		watch_log(LOG_NOTICE, &(struct watch_fields){ .message_id = WATCH_MID_CONFIG },
			  "%s: read again: %zu device section%s", path ?: "(no config file)",
			  cfg->nr_sections, cfg->nr_sections == 1 ? "" : "s");
	return 0;
}

static int check_exec(const char *prog)
{
	char why[4096];
	struct stat st;
	int rc;

	if (prog[0] != '/') {
		dg_errx("--exec %s: give the program's absolute path", prog);
		return -EINVAL;
	}
	rc = dg_path_root_only(prog, why, sizeof(why));
	if (rc) {
		if (rc == -EPERM)
			dg_errx("--exec %s: refused: %s (it would run as root)", prog, why);
		else
			dg_errx("--exec %s: %s", prog, strerror(-rc));
		return rc;
	}
	if (stat(prog, &st) < 0 || !S_ISREG(st.st_mode) || access(prog, X_OK)) {
		dg_errx("--exec %s: not an executable file", prog);
		return -EINVAL;
	}
	return 0;
}

static int parse_sources(const char *arg, unsigned int *mask)
{
	static const char *const names[] = { NULL,   "badblocks", "badblocks-file",
					     "kmsg", "udev",	  "pciehp" };
	char *copy = strdup(arg), *tok, *save = NULL;
	size_t i;
	int rc = 0;

	*mask = 0;
	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 1; i < ARRAY_SIZE(names) && strcmp(tok, names[i]); i++)
			;
		if (i == ARRAY_SIZE(names))
			rc = -EINVAL;
		else
			*mask |= 1U << i;
	}
	free(copy);
	return copy ? rc : -ENOMEM;
}

static int add_file(struct watch *w, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct bbfile *f;

	if (!eq || eq == arg || !eq[1])
		return dg_usage_error("watch", "--badblocks-file '%s': give TARGET=FILE", arg);
	f = reallocarray(w->files, w->nr_files + 1, sizeof(*f));
	if (!f)
		return DG_EXIT_FAILURE;
	w->files = f;
	f = &f[w->nr_files++];
	memset(f, 0, sizeof(*f));
	f->spec = strndup(arg, (size_t)(eq - arg));
	f->path = strdup(eq + 1);
	return f->spec && f->path ? 0 : DG_EXIT_FAILURE;
}

/* the global sources: each optional (a container may have no /dev/kmsg) */
static void start_global(struct watch *w, unsigned int bit,
			 int (*fn)(struct dg_ctx *, struct dg_source **), struct dg_source **src,
			 struct tag *tag)
{
	int rc;

	if (!(w->sources & (1U << bit)))
		return;
	rc = fn(w->ctx, src);
	if (rc) {
		watch_log(LOG_WARNING, NULL, "%s; going on without it",
			  dg_get_error(w->ctx) ?: strerror(-rc));
		*src = NULL;
		return;
	}
	*tag = (struct tag){ TAG_SOURCE, *src };
	epoll_add(w, dg_source_get_fd(*src), EPOLLIN, tag);
}

static int setup(struct watch *w)
{
	char why[4096];
	struct dg_device *d;
	sigset_t mask;
	size_t i;
	int rc;

	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return -errno;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	w->sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	w->sig_tag.type = TAG_SIGNAL;
	epoll_add(w, w->sigfd, EPOLLIN, &w->sig_tag);
	/* a reader of --json that went away must not kill us */
	signal(SIGPIPE, SIG_IGN);

	rc = watch_state_open(w->state_dir, &w->state, why, sizeof(why));
	if (rc) {
		dg_errx("%s", why);
		return rc;
	}
	rc = dg_device_list_new(w->ctx, w->all ? DG_DEVICES_ALL : 0, &w->list);
	if (rc) {
		dg_lib_fail(w->ctx, "watch", rc);
		return rc;
	}
	for (i = 0; i < w->nr_files; i++) {
		struct bbfile *f = &w->files[i];

		rc = dg_device_list_add(w->list, f->spec, &f->dev);
		if (rc) {
			dg_lib_fail(w->ctx, f->spec, rc);
			return rc;
		}
	}
	dg_device_foreach(w->list, d)
	{
		struct wdev *wd = wdev_add(w, d);

		if (!wd)
			return -ENOMEM;
		wdev_start(w, wd);
	}
	for (i = 0; i < w->nr_files; i++) {
		struct bbfile *f = &w->files[i];

		if (!(w->sources & (1 << SRC_FILE)))
			break;
		rc = dg_source_badblocks_file_new(f->dev, f->path, &f->src);
		if (rc) {
			dg_lib_fail(w->ctx, f->path, rc);
			return rc;
		}
		f->tag = (struct tag){ TAG_SOURCE, f->src };
		epoll_add(w, dg_source_get_fd(f->src), EPOLLIN, &f->tag);
	}
	start_global(w, SRC_KMSG, dg_source_kmsg_new, &w->kmsg, &w->kmsg_tag);
	start_global(w, SRC_UDEV, dg_source_udev_new, &w->udev, &w->udev_tag);
	if (w->udev)
		watch_log(LOG_INFO, NULL, "udev: %s",
			  strcmp(dg_source_get_path(w->udev) ?: "", "udev") ?
				  "no udevd runs (no /run/udev/control): the kernel's uevents" :
				  "udevd's events, after its rules");
	start_global(w, SRC_PCIEHP, dg_source_pciehp_new, &w->pciehp, &w->pciehp_tag);
	/* mounts that come and go: the snapshot a removal alert reports from */
	w->mounts = mnt_new_monitor();
	if (w->mounts && mnt_monitor_enable_kernel(w->mounts, 1) == 0) {
		w->mounts_tag.type = TAG_MOUNTS;
		epoll_add(w, mnt_monitor_get_fd(w->mounts), EPOLLIN, &w->mounts_tag);
	}
	w->exec_tag.type = TAG_EXEC;
	if (w->exec)
		epoll_add(w, watch_exec_fd(w->exec), EPOLLIN, &w->exec_tag);
	if (sd_watchdog_enabled(0, &w->watchdog_usec) <= 0)
		w->watchdog_usec = 0;
	return 0;
}

static void teardown(struct watch *w)
{
	struct wdev *wd, *next;
	struct work *wk, *wn;
	size_t i;

	for (wd = w->devs; wd; wd = next) {
		next = wd->next;
		dg_source_free(wd->bb);
		dg_target_free(wd->snap);
		dg_rangeset_free(&wd->handled);
		free(wd->identity);
		free(wd);
	}
	for (i = 0; i < w->nr_files; i++) {
		dg_source_free(w->files[i].src);
		free(w->files[i].spec);
		free(w->files[i].path);
	}
	free(w->files);
	for (wk = w->pending; wk; wk = wn) {
		wn = wk->next;
		work_free(wk);
	}
	dg_source_free(w->kmsg);
	dg_source_free(w->udev);
	dg_source_free(w->pciehp);
	if (w->mounts)
		mnt_unref_monitor(w->mounts);
	dg_device_list_free(w->list);
	watch_config_free(w->cfg);
	watch_state_close(w->state);
	watch_metrics_free(w->metrics);
	watch_exec_free(w->exec);
	watch_policy_free(&w->cli);
	if (w->sigfd >= 0)
		close(w->sigfd);
	if (w->epfd >= 0)
		close(w->epfd);
}

/* ------------------------------------------------------------------ */
/* The loop */

static int next_timeout(struct watch *w)
{
	uint64_t now = now_ms(), next = w->next_tick;
	struct work *wk;
	int t;

	for (wk = w->pending; wk; wk = wk->next)
		next = DG_MIN(next, wk->due_ms);
	if (w->refresh_at)
		next = DG_MIN(next, w->refresh_at);
	if (w->snapshot_at)
		next = DG_MIN(next, w->snapshot_at);
	if (w->watchdog_usec)
		next = DG_MIN(next, w->next_watchdog);
	if (w->kmsg && (t = dg_source_get_timeout(w->kmsg)) >= 0)
		next = DG_MIN(next, now + (uint64_t)t);
	if ((t = watch_exec_timeout(w->exec)) >= 0)
		next = DG_MIN(next, now + (uint64_t)t);
	return next > now ? (int)DG_MIN(next - now, (uint64_t)INT32_MAX) : 0;
}

static void on_signal(struct watch *w)
{
	struct signalfd_siginfo si;

	while (read(w->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			sd_notify(0, "RELOADING=1");
			load_config(w, true);
			sd_notify(0, "READY=1");
			notify_status(w);
		} else {
			w->stop = true;
		}
	}
}

static void loop(struct watch *w)
{
	while (!w->stop) {
		struct epoll_event evs[16];
		uint64_t now;
		int n, i;

		watch_metrics_write(w->metrics);
		n = epoll_wait(w->epfd, evs, ARRAY_SIZE(evs), next_timeout(w));
		if (n < 0 && errno != EINTR) {
			watch_log(LOG_ERR, NULL, "epoll: %s", strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			struct tag *tag = evs[i].data.ptr;

			switch (tag->type) {
			case TAG_SIGNAL:
				on_signal(w);
				break;
			case TAG_SOURCE: {
				struct dg_source **slot = source_slot(w, tag->src);

				if (slot && *slot)
					process_source(w, slot);
				break;
			}
			case TAG_MOUNTS: {
				const char *file;
				int type;

				while (mnt_monitor_next_change(w->mounts, &file, &type) == 0)
					;
				if (!w->snapshot_at)
					w->snapshot_at = now_ms() + SNAPSHOT_DELAY_MS;
				break;
			}
			case TAG_EXEC:
				watch_exec_reap(w->exec);
				break;
			}
		}
		now = now_ms();
		if (w->kmsg && dg_source_get_timeout(w->kmsg) == 0)
			process_source(w, &w->kmsg);
		if (watch_exec_timeout(w->exec) == 0)
			watch_exec_reap(w->exec);
		if (w->refresh_at && now >= w->refresh_at)
			refresh_devices(w);
		if (w->snapshot_at && now >= w->snapshot_at) {
			struct wdev *wd;

			w->snapshot_at = 0;
			for (wd = w->devs; wd; wd = wd->next)
				if (dg_device_is_present(wd->dev))
					snapshot(w, wd);
		}
		if (now >= w->next_tick)
			tick(w);
		run_pending(w);
		feed_watchdog(w);
	}
}

static void print_policy(const char *what, const struct watch_policy *p)
{
	size_t i;

	printf("%s: action %s, grace %.1f s, punch %s, shutdown-on-metadata %s, protect", what,
	       dg_action_name(p->action), (double)p->grace_ms / 1000, p->punch ? "yes" : "no",
	       p->shutdown ? "yes" : "no");
	for (i = 0; i < p->nr_protect; i++)
		printf("%s%s", i ? ", " : " ", p->protect[i]);
	printf("%s\n", p->nr_protect ? "" : " none");
}

/*
 * --check-config: read the config (and the --exec program) as the daemon
 * would, say which policy each device gets, and change nothing.
 */
static int check_config(struct watch *w)
{
	struct dg_device_list *list = NULL;
	struct dg_device *d;
	size_t i;

	if (load_config(w, false)) {
		dg_errx("%s: not taken", w->config_path);
		return DG_EXIT_FAILURE;
	}
	if (w->exec_path && check_exec(w->exec_path))
		return DG_EXIT_FAILURE;
	printf("%s: %zu device section%s, flood limit %u new ranges a minute\n",
	       w->cfg->path ?: "no config file, the command line's policy", w->cfg->nr_sections,
	       w->cfg->nr_sections == 1 ? "" : "s", flood_limit(w));
	print_policy("[global]", &w->cfg->global);
	for (i = 0; i < w->cfg->nr_sections; i++) {
		const struct watch_section *sec = &w->cfg->sections[i];
		static const char *const kinds[] = { NULL, "uuid", "serial", "devname" };
		char what[512];

		snprintf(what, sizeof(what), "[%s %s] (line %u)", kinds[sec->match], sec->pattern,
			 sec->lineno);
		print_policy(what, &sec->policy);
	}
	if (dg_device_list_new(w->ctx, w->all ? DG_DEVICES_ALL : 0, &list) == 0) {
		dg_device_foreach(list, d)
		{
			const char *matched = NULL;
			const struct watch_policy *p = watch_config_policy(w->cfg, d, &matched);
			char what[512];

			snprintf(what, sizeof(what), "%s (%s) gets %s%s%s",
				 dg_device_get_devname(d), dg_device_get_identity(d),
				 matched ? "[" : "[global]", matched ?: "", matched ? "]" : "");
			print_policy(what, p);
		}
		dg_device_list_free(list);
	}
	return DG_EXIT_OK;
}

int cmd_watch(int argc, char **argv, struct dg_ctx *ctx)
{
	enum {
		OPT_PUNCH = 256,
		OPT_SHUTDOWN,
		OPT_ON_START,
		OPT_BBFILE,
		OPT_STATE_DIR,
		OPT_FLOOD,
		OPT_METRICS,
		OPT_EXEC,
		OPT_EXEC_TIMEOUT,
		OPT_FREEZE_TIMEOUT,
		OPT_SOURCES,
		OPT_ALL,
		OPT_PAUSE,
		OPT_CHECK,
	};
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "action", required_argument, NULL, 'a' },
		{ "grace", required_argument, NULL, 'g' },
		{ "punch", no_argument, NULL, OPT_PUNCH },
		{ "shutdown", no_argument, NULL, OPT_SHUTDOWN },
		{ "interval", required_argument, NULL, 'i' },
		{ "on-start", required_argument, NULL, OPT_ON_START },
		{ "badblocks-file", required_argument, NULL, OPT_BBFILE },
		{ "state-dir", required_argument, NULL, OPT_STATE_DIR },
		{ "flood-limit", required_argument, NULL, OPT_FLOOD },
		{ "json", no_argument, NULL, 'J' },
		{ "metrics", required_argument, NULL, OPT_METRICS },
		{ "exec", required_argument, NULL, OPT_EXEC },
		{ "exec-timeout", required_argument, NULL, OPT_EXEC_TIMEOUT },
		{ "freeze-timeout", required_argument, NULL, OPT_FREEZE_TIMEOUT },
		{ "sources", required_argument, NULL, OPT_SOURCES },
		{ "all", no_argument, NULL, OPT_ALL },
		{ "pause-after", required_argument, NULL, OPT_PAUSE },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct watch w = {
		.ctx = ctx,
		.config_path = DEFAULT_CONFIG,
		.cli = { .action = DG_ACTION_REPORT, .grace_ms = 10000 },
		.interval_ms = DEFAULT_INTERVAL_MS,
		.exec_timeout_ms = DEFAULT_EXEC_TIMEOUT_MS,
		.freeze_ms = 30000,
		.state_dir = DEFAULT_STATE_DIR,
		.epfd = -1,
		.sigfd = -1,
	};
	char *end;
	unsigned long v;
	bool check = false;
	int c, rc, ret = DG_EXIT_USAGE;

	w.sources = SRC_ALL;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":c:a:g:i:Jh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			w.config_path = optarg;
			w.config_explicit = true;
			break;
		case 'a':
			if (dg_action_parse(optarg, &w.cli.action)) {
				dg_usage_error("watch",
					       "--action '%s': not one of report, term, kill, bus",
					       optarg);
				goto out;
			}
			break;
		case 'g':
			if (act_parse_seconds("watch", "--grace", optarg, 0, &w.cli.grace_ms))
				goto out;
			break;
		case OPT_PUNCH:
			w.cli.punch = true;
			break;
		case OPT_SHUTDOWN:
			w.cli.shutdown = true;
			break;
		case 'i':
			if (act_parse_seconds("watch", "--interval", optarg, 0.1, &w.interval_ms))
				goto out;
			break;
		case OPT_ON_START:
			if (strcmp(optarg, "report") && strcmp(optarg, "act")) {
				dg_usage_error("watch", "--on-start '%s': report or act", optarg);
				goto out;
			}
			w.on_start_act = !strcmp(optarg, "act");
			break;
		case OPT_BBFILE:
			rc = add_file(&w, optarg);
			if (rc) {
				ret = rc;
				goto out;
			}
			break;
		case OPT_STATE_DIR:
			w.state_dir = optarg;
			break;
		case OPT_FLOOD:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || !v || v > 1000000) {
				dg_usage_error("watch",
					       "--flood-limit '%s': not a number of ranges (1 to "
					       "1000000)",
					       optarg);
				goto out;
			}
			w.flood_limit_cli = (unsigned int)v;
			break;
		case 'J':
			w.json = true;
			break;
		case OPT_METRICS:
			w.metrics_path = optarg;
			break;
		case OPT_EXEC:
			w.exec_path = optarg;
			break;
		case OPT_EXEC_TIMEOUT:
			if (act_parse_seconds("watch", "--exec-timeout", optarg, 0.1,
					      &w.exec_timeout_ms))
				goto out;
			break;
		case OPT_FREEZE_TIMEOUT:
			if (act_parse_seconds("watch", "--freeze-timeout", optarg, 0.1,
					      &w.freeze_ms))
				goto out;
			break;
		case OPT_SOURCES:
			if (parse_sources(optarg, &w.sources)) {
				dg_usage_error(
					"watch",
					"--sources '%s': a list of badblocks, badblocks-file, "
					"kmsg, udev, pciehp",
					optarg);
				goto out;
			}
			break;
		case OPT_ALL:
			w.all = true;
			break;
		case OPT_PAUSE:
			if (act_set_pause(optarg)) {
				dg_usage_error("watch", "--pause-after '%s': not a stage (%s)",
					       optarg, act_stage_list());
				goto out;
			}
			break;
		case OPT_CHECK:
			check = true;
			break;
		case 'h':
			usage();
			ret = DG_EXIT_OK;
			goto out;
		default:
			dg_bad_option("watch", c, argv);
			goto out;
		}
	}
	if (optind != argc) {
		dg_usage_error("watch", "too many arguments");
		goto out;
	}
	ret = DG_EXIT_FAILURE;
	watch_log_init();
	if (check) {
		ret = check_config(&w);
		goto out;
	}
	if (geteuid() != 0) {
		dg_errx("watch: needs root: it freezes filesystems and signals other users' "
			"processes ('daxguard who' answers without)");
		goto out;
	}
	if (load_config(&w, false)) {
		dg_errx("%s: not started: fix the config first", w.config_path);
		goto out;
	}
	if (w.exec_path) {
		if (check_exec(w.exec_path))
			goto out;
		w.exec = watch_exec_new(w.exec_path, w.exec_timeout_ms);
	}
	if (w.metrics_path)
		w.metrics = watch_metrics_new(w.metrics_path);
	dg_set_stage_fn(ctx, stage_fn);
	the_watch = &w;
	if (setup(&w))
		goto out;
	/* what the sources found at the start: reported, or acted on with --on-start act */
	{
		struct wdev *wd;
		size_t i;

		for (wd = w.devs; wd; wd = wd->next)
			if (wd->bb)
				take_events(&w, wd->bb);
		for (i = 0; i < w.nr_files; i++)
			if (w.files[i].src)
				take_events(&w, w.files[i].src);
		if (w.kmsg)
			take_events(&w, w.kmsg);
	}
	w.next_tick = now_ms() + w.interval_ms;
	watch_log(LOG_INFO, NULL, "watching; policy from %s", w.cfg->path ?: "the command line");
	sd_notify(0, "READY=1");
	notify_status(&w);
	loop(&w);
	sd_notify(0, "STOPPING=1");
	watch_log(LOG_INFO, NULL, "stopping");
	watch_exec_stop(w.exec);
	watch_metrics_write(w.metrics);
	ret = DG_EXIT_OK;
out:
	the_watch = NULL;
	teardown(&w);
	return ret;
}
