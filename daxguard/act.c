// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What fail and remove share: the stage hook (progress line, pause after a
 * stage) and the report of what was done.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "act.h"
#include "util/util.h"

static const char *const stages[] = {
	"collect", "freeze",   "rmap",	  "thaw",    "signal",	"wait",	   "invalidate",
	"punch",   "shutdown", "unmount", "migrate", "offline", "release",
};

static const char *pause_stage;
static bool paused_once;
static bool progress_shown;

int act_set_pause(const char *stage)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(stages); i++)
		if (!strcmp(stage, stages[i])) {
			pause_stage = stages[i];
			return 0;
		}
	return -EINVAL;
}

const char *act_stage_list(void)
{
	return "collect, freeze, rmap, thaw, signal, wait, invalidate, punch, shutdown, unmount, "
	       "migrate, offline, release";
}

/*
 * Wait for Enter on a terminal, or SIGUSR1 from anybody.  A freeze held
 * meanwhile stays guarded: the guardian thaws at its deadline or if we
 * are killed here.
 */
static void do_pause(const char *stage)
{
	sigset_t set, old;
	struct pollfd p[2];
	int sfd, n = 1;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	fprintf(stderr,
		"daxguard: paused after %s (pid %d): press Enter, or send SIGUSR1, to go on\n",
		stage, (int)getpid());
	fflush(stderr);
	p[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	if (isatty(STDIN_FILENO)) {
		p[1] = (struct pollfd){ .fd = STDIN_FILENO, .events = POLLIN };
		n = 2;
	}
	while (poll(p, (nfds_t)n, -1) < 0 && errno == EINTR)
		;
	if (n == 2 && (p[1].revents & POLLIN)) {
		char line[64];

		if (!fgets(line, sizeof(line), stdin))
			line[0] = '\0';
	}
	if (sfd >= 0) {
		struct signalfd_siginfo si;

		/* take the SIGUSR1: left pending, it would kill us once unblocked */
		if (p[0].revents & POLLIN)
			(void)!read(sfd, &si, sizeof(si));
		close(sfd);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
}

void act_stage_fn(struct dg_ctx *ctx, const char *stage, enum dg_stage_event ev,
		  unsigned int pending, uint64_t elapsed_ms)
{
	if (ev == DG_STAGE_PROGRESS) {
		if (!isatty(STDERR_FILENO))
			return;
		fprintf(stderr, "\r  waiting for %u process%s to exit ... %.1f s ", pending,
			pending == 1 ? "" : "es", (double)elapsed_ms / 1000);
		progress_shown = true;
		return;
	}
	if (progress_shown) {
		fputs("\r\033[K", stderr);
		progress_shown = false;
	}
	if (ev == DG_STAGE_END && pause_stage && !paused_once && !strcmp(stage, pause_stage)) {
		paused_once = true;
		do_pause(stage);
	}
}

static char *ms_str(uint64_t ms)
{
	char *s;

	if (asprintf(&s, "%" PRIu64 ".%03" PRIu64, ms / 1000, ms % 1000) < 0)
		return NULL;
	return s;
}

static void add_cell(struct libscols_line *ln, size_t col, char *data)
{
	if (data && scols_line_refer_data(ln, col, data))
		free(data);
}

static void print_victims(const struct dg_output_opts *o, struct dg_report *rep)
{
	struct libscols_table *tb = scols_new_table();
	struct dg_victim *v;

	if (!tb)
		return;
	scols_table_enable_raw(tb, o->raw);
	scols_table_enable_noheadings(tb, o->noheadings);
	scols_table_new_column(tb, "PID", 0.05, SCOLS_FL_RIGHT);
	scols_table_new_column(tb, "COMMAND", 0.1, 0);
	scols_table_new_column(tb, "STATE", 0.08, 0);
	scols_table_new_column(tb, "SIGNALS", 0.08, 0);
	scols_table_new_column(tb, "SIGNALLED", 0.06, SCOLS_FL_RIGHT);
	scols_table_new_column(tb, "EXITED", 0.06, SCOLS_FL_RIGHT);
	scols_table_new_column(tb, "REASON", 0.3, 0);
	dg_victim_foreach(rep, v) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		char *pid = NULL;

		if (!ln)
			break;
		if (asprintf(&pid, "%d", (int)dg_victim_get_pid(v)) < 0)
			pid = NULL;
		add_cell(ln, 0, pid);
		add_cell(ln, 1, strdup(dg_victim_get_comm(v)));
		add_cell(ln, 2, strdup(dg_victim_state_name(dg_victim_get_state(v))));
		add_cell(ln, 3, strdup(dg_victim_get_signals(v)));
		if (dg_victim_get_signalled_ms(v))
			add_cell(ln, 4, ms_str(dg_victim_get_signalled_ms(v)));
		if (dg_victim_get_exited_ms(v))
			add_cell(ln, 5, ms_str(dg_victim_get_exited_ms(v)));
		if (dg_victim_get_reason(v))
			add_cell(ln, 6, strdup(dg_victim_get_reason(v)));
	}
	if (dg_victim_get_first(rep)) {
		putchar('\n');
		scols_print_table(tb);
	}
	scols_unref_table(tb);
}

static void print_steps(const struct dg_output_opts *o, struct dg_report *rep)
{
	struct libscols_table *tb = scols_new_table();
	struct dg_step *s;

	if (!tb)
		return;
	scols_table_enable_raw(tb, o->raw);
	scols_table_enable_noheadings(tb, o->noheadings);
	scols_table_new_column(tb, "AT", 0.06, SCOLS_FL_RIGHT);
	scols_table_new_column(tb, "TOOK", 0.06, SCOLS_FL_RIGHT);
	scols_table_new_column(tb, "STAGE", 0.08, 0);
	scols_table_new_column(tb, "OBJECT", 0.25, 0);
	scols_table_new_column(tb, "RESULT", 0.4, 0);
	dg_step_foreach(rep, s) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		char *res = NULL;

		if (!ln)
			break;
		add_cell(ln, 0, ms_str(dg_step_get_start_ms(s)));
		add_cell(ln, 1, ms_str(dg_step_get_duration_ms(s)));
		add_cell(ln, 2, strdup(dg_step_get_stage(s)));
		add_cell(ln, 3, strdup(dg_step_get_object(s)));
		if (asprintf(&res, "%s%s", dg_step_get_status(s) ? "FAILED: " : "",
			     dg_step_get_message(s)) < 0)
			res = NULL;
		add_cell(ln, 4, res);
	}
	putchar('\n');
	scols_print_table(tb);
	scols_unref_table(tb);
}

/* fail -J and remove -J: the members after who's, shared with watch --json */
void act_json_report(struct dg_json_out *jo, struct dg_target *t, struct dg_report *rep,
		     const char *action, bool dry_run)
{
	struct dg_result *res = dg_report_get_result(rep);
	struct dg_victim *v;
	struct dg_step *s;

	if (res)
		dg_json_who(jo, t, res);
	dg_json_member(jo, "action", dg_jstr(action));
	dg_json_member(jo, "dry_run", json_object_new_boolean(dry_run));
	dg_json_member(jo, "complete", json_object_new_boolean(dg_report_is_complete(rep)));
	dg_json_member(jo, "metadata_hit", json_object_new_boolean(dg_report_metadata_hit(rep)));
	dg_json_array_begin(jo, "processes");
	dg_victim_foreach(rep, v) {
		json_object *jv = json_object_new_object();
		json_object *sigs = json_object_new_array();
		char *copy = strdup(dg_victim_get_signals(v)), *tok, *save = NULL;

		for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok;
		     tok = strtok_r(NULL, ",", &save))
			json_object_array_add(sigs, dg_jstr(tok));
		free(copy);
		json_object_object_add(jv, "pid", json_object_new_int(dg_victim_get_pid(v)));
		json_object_object_add(jv, "command", dg_jstr(dg_victim_get_comm(v)));
		json_object_object_add(jv, "state",
				       dg_jstr(dg_victim_state_name(dg_victim_get_state(v))));
		json_object_object_add(jv, "signals", sigs);
		json_object_object_add(jv, "signalled_ms",
				       json_object_new_uint64(dg_victim_get_signalled_ms(v)));
		json_object_object_add(jv, "exited_ms",
				       json_object_new_uint64(dg_victim_get_exited_ms(v)));
		json_object_object_add(jv, "reason", dg_jstr(dg_victim_get_reason(v)));
		dg_json_element(jo, jv);
	}
	dg_json_array_end(jo);
	dg_json_array_begin(jo, "steps");
	dg_step_foreach(rep, s) {
		json_object *js = json_object_new_object();

		json_object_object_add(js, "stage", dg_jstr(dg_step_get_stage(s)));
		json_object_object_add(js, "object", dg_jstr(dg_step_get_object(s)));
		json_object_object_add(js, "ok", json_object_new_boolean(!dg_step_get_status(s)));
		if (dg_step_get_status(s))
			json_object_object_add(js, "error",
					       dg_jstr(strerror(-dg_step_get_status(s))));
		json_object_object_add(js, "message", dg_jstr(dg_step_get_message(s)));
		json_object_object_add(js, "start_ms",
				       json_object_new_uint64(dg_step_get_start_ms(s)));
		json_object_object_add(js, "duration_ms",
				       json_object_new_uint64(dg_step_get_duration_ms(s)));
		dg_json_element(jo, js);
	}
	dg_json_array_end(jo);
}

static void act_print(const struct dg_output_opts *o, struct dg_target *t, struct dg_report *rep,
		      const char *action, bool dry_run, bool removal)
{
	struct dg_result *res = dg_report_get_result(rep);

	if (o->json) {
		struct dg_json_out jo;

		dg_json_begin(&jo, stdout);
		act_json_report(&jo, t, rep, action, dry_run);
		dg_json_end(&jo);
		return;
	}
	if (res)
		dg_print_who(o, t, res, !removal);
	if (dg_report_metadata_hit(rep))
		printf("\n*** METADATA IS HIT: the filesystem cannot vouch for itself; "
		       "run its repair tool (xfs_repair, e2fsck) or --shutdown ***\n");
	print_victims(o, rep);
	print_steps(o, rep);
	if (dry_run)
		printf("\ndry run: nothing was changed\n");
	fflush(stdout);
	if (res)
		dg_print_warnings(res);
}

int act_run(const char *name, struct dg_target *target, const struct dg_range *ranges,
	    size_t nr_ranges, const struct dg_mf_opts *mf, const struct dg_output_opts *out)
{
	struct dg_report *rep = NULL;
	int rc, ret = DG_EXIT_FAILURE;

	dg_set_stage_fn(dg_target_get_ctx(target), act_stage_fn);
	rc = dg_notify_failure(target, ranges, nr_ranges, mf, &rep);
	/* what was done is shown even when a step failed */
	if (rep)
		act_print(out, target, rep, dg_action_name(mf->action), mf->flags & DG_MF_DRY_RUN,
			  !ranges);
	if (rc) {
		dg_lib_fail(dg_target_get_ctx(target), name, rc);
	} else if (dg_report_is_complete(rep)) {
		ret = DG_EXIT_OK;
	} else {
		/* the exit status is not the only word of it, even under -J */
		const char *w = dg_warning_get_first(dg_report_get_result(rep));
		char *dev = dg_safe(dg_target_get_devname(target)), *why = w ? dg_safe(w) : NULL;

		dg_errx("%s: not done completely: %s", dev ? dev : "?",
			why ? why : "a step failed (see the report's steps)");
		free(dev);
		free(why);
	}
	dg_report_free(rep);
	return ret;
}

int act_parse_seconds(const char *cmd, const char *opt, const char *arg, double min,
		      unsigned int *ms)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || v < min || v > 86400)
		return dg_usage_error(cmd, "%s '%s': not a number of seconds (%g to 86400)", opt,
				      arg, min);
	*ms = (unsigned int)(v * 1000);
	return 0;
}

int act_common_opt(const char *cmd, int c, const char *arg, struct dg_mf_opts *mf,
		   struct dg_output_opts *out)
{
	switch (c) {
	case 'a':
		if (dg_action_parse(arg, &mf->action))
			return dg_usage_error(
				cmd, "--action '%s': not one of report, term, kill, bus", arg);
		return 0;
	case 'g':
		return act_parse_seconds(cmd, "--grace", arg, 0, &mf->grace_ms) ? DG_EXIT_USAGE : 0;
	case ACT_OPT_FREEZE_TIMEOUT:
		/* the guardian's deadline: below 0.1 s every freeze would be lost */
		return act_parse_seconds(cmd, "--freeze-timeout", arg, 0.1,
					 &mf->freeze_deadline_ms) ?
			       DG_EXIT_USAGE :
			       0;
	case ACT_OPT_ANCESTORS:
		mf->flags |= DG_MF_INCLUDE_ANCESTORS;
		return 0;
	case 'n':
		mf->flags |= DG_MF_DRY_RUN;
		return 0;
	case ACT_OPT_PAUSE:
		if (act_set_pause(arg))
			return dg_usage_error(cmd, "--pause-after '%s': not a stage (%s)", arg,
					      act_stage_list());
		return 0;
	case 'J':
		out->json = true;
		return 0;
	case 'r':
		out->raw = true;
		return 0;
	}
	return -1;
}
