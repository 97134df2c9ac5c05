/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef _DAXGUARD_ACT_H_
#define _DAXGUARD_ACT_H_

#include "daxguard.h"

int act_set_pause(const char *stage);
const char *act_stage_list(void);
void act_stage_fn(struct dg_ctx *ctx, const char *stage, enum dg_stage_event ev,
		  unsigned int pending, uint64_t elapsed_ms);
/*
 * Run the pipeline on @target (@ranges of it for fail, NULL for the whole
 * device, as remove does), print what was done as @out asks, and return
 * the exit code: DG_EXIT_OK only when every step succeeded and every
 * signalled process is gone.  @name is the object named in an error.
 */
int act_run(const char *name, struct dg_target *target, const struct dg_range *ranges,
	    size_t nr_ranges, const struct dg_mf_opts *mf, const struct dg_output_opts *out);
/*
 * The members of fail -J and remove -J (who's, then what was done) into
 * @jo, between its dg_json_begin() and dg_json_end(): watch --json prints
 * each event in the same schema.
 */
void act_json_report(struct dg_json_out *jo, struct dg_target *t, struct dg_report *rep,
		     const char *action, bool dry_run);
/* The options fail and remove share, in their getopt_long tables. */
enum { ACT_OPT_ANCESTORS = 0x400, ACT_OPT_PAUSE, ACT_OPT_FREEZE_TIMEOUT };
#define ACT_LONGOPTS                                                                           \
	{ "action", required_argument, NULL, 'a' }, { "grace", required_argument, NULL, 'g' }, \
		{ "include-ancestors", no_argument, NULL, ACT_OPT_ANCESTORS },                 \
		{ "dry-run", no_argument, NULL, 'n' },                                         \
		{ "pause-after", required_argument, NULL, ACT_OPT_PAUSE },                     \
		{ "freeze-timeout", required_argument, NULL, ACT_OPT_FREEZE_TIMEOUT },         \
		{ "json", no_argument, NULL, 'J' },                                            \
	{                                                                                      \
		"raw", no_argument, NULL, 'r'                                                  \
	}
#define ACT_SHORTOPTS "a:g:nJr"
/*
 * One of those: 0 when taken, DG_EXIT_USAGE (after the message) for a bad
 * value, -1 when @c is not one of them.
 */
int act_common_opt(const char *cmd, int c, const char *arg, struct dg_mf_opts *mf,
		   struct dg_output_opts *out);

/* --grace, --freeze-timeout: seconds, fractions allowed, from @min */
int act_parse_seconds(const char *cmd, const char *opt, const char *arg, double min,
		      unsigned int *ms);

#endif
