/* SPDX-License-Identifier: GPL-2.0-or-later */
#ifndef _DAXGUARD_ACT_H_
#define _DAXGUARD_ACT_H_

#include "daxguard.h"

int act_set_pause(const char *stage);
const char *act_stage_list(void);
void act_stage_fn(struct dg_ctx *ctx, const char *stage, enum dg_stage_event ev,
		  unsigned int pending, uint64_t elapsed_ms);
void act_print(const struct dg_output_opts *o, struct dg_target *t, struct dg_report *rep,
	       const char *action, bool dry_run, bool removal);
/* --grace: seconds, fractions allowed */
int act_parse_seconds(const char *cmd, const char *arg, unsigned int *ms);

#endif
