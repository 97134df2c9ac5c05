/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the daxguard subcommands share. */
#ifndef _DAXGUARD_CMD_H_
#define _DAXGUARD_CMD_H_

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>
#include <libsmartcols.h>

#include "libdaxguard.h"

/* Exit codes, documented in daxguard(8). */
#define DG_EXIT_OK 0
#define DG_EXIT_FAILURE 1
#define DG_EXIT_USAGE 2
#define DG_EXIT_INCOMPLETE 3 /* who: an answer without what could not be read */

struct dg_ctx;

int cmd_who(int argc, char **argv, struct dg_ctx *ctx);
int cmd_fail(int argc, char **argv, struct dg_ctx *ctx);
int cmd_remove(int argc, char **argv, struct dg_ctx *ctx);
int cmd_list(int argc, char **argv, struct dg_ctx *ctx);
int cmd_watch(int argc, char **argv, struct dg_ctx *ctx);

/* util-linux style messages: "daxguard: ..." on stderr */
void dg_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dg_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void dg_notex(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Names users chose, made safe: a JSON string that is valid UTF-8
 * (NULL for NULL), and a copy for the terminal (free it).  See escape.c.
 */
json_object *dg_jstr(const char *s);
char *dg_safe(const char *s);
/* after a failed library call: its own one-line explanation */
int dg_lib_fail(struct dg_ctx *ctx, const char *object, int rc);
/* getopt returned '?' or ':': name the option in one line */
int dg_bad_option(const char *cmd, int c, char **argv);
int dg_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --offset, --length, --phys, --pfn, --dpa, --badblocks and --rmap, as who and fail take them */
enum range_opt { RANGE_OFFSET, RANGE_LENGTH, RANGE_PHYS, RANGE_PFN, RANGE_DPA };
struct range_args {
	/* --offset (--phys, --pfn, --dpa) and --length, paired in the order given */
	struct dg_range *user;
	bool *phys;
	bool any_phys;
	/* --dpa: the memdev of each pair ("" for the others) */
	char (*memdev)[32];
	/* a length of one page was implied: an address alone is its page */
	bool *page;
	size_t nr_off, nr_len, cap;
	/* the --badblocks lists, apart, so that they never shift the pairs */
	struct dg_range *bb;
	size_t nr_bb;
	bool badblocks; /* a badblocks list was given (maybe empty) */
	bool from_sysfs;
	bool from_cxl; /* --badblocks cxl: the memdevs' poison lists */
	/* CXL poison records (trace lines, cxl list JSON), placed on the target later */
	struct dg_cxl_poison *poison;
	size_t nr_poison;
	/* every range, pairs first, once range_args_resolve() succeeded */
	struct dg_range *ranges;
	size_t nr;
	const char *rmap; /* --rmap BACKEND, or NULL */
};
enum {
	RANGE_OPT_OFFSET = 0x300,
	RANGE_OPT_LENGTH,
	RANGE_OPT_PHYS,
	RANGE_OPT_PFN,
	RANGE_OPT_RMAP,
	RANGE_OPT_BADBLOCKS,
	RANGE_OPT_DPA,
};
#define RANGE_LONGOPTS                                                    \
	{ "offset", required_argument, NULL, RANGE_OPT_OFFSET },          \
		{ "length", required_argument, NULL, RANGE_OPT_LENGTH },  \
		{ "phys", required_argument, NULL, RANGE_OPT_PHYS },      \
		{ "pfn", required_argument, NULL, RANGE_OPT_PFN },        \
		{ "dpa", required_argument, NULL, RANGE_OPT_DPA },        \
		{ "rmap", required_argument, NULL, RANGE_OPT_RMAP },      \
	{                                                                 \
		"badblocks", required_argument, NULL, RANGE_OPT_BADBLOCKS \
	}
/*
 * getopt's @c, if it is one of RANGE_LONGOPTS: 0 if taken, DG_EXIT_USAGE
 * or DG_EXIT_FAILURE after printing the error; -1 if @c is not a range
 * option.
 */
int range_args_getopt(struct range_args *ra, const char *cmd, int c, const char *arg);
/* --badblocks FILE, - (stdin), sysfs (the target's own list) or cxl */
int range_args_badblocks_opt(struct range_args *ra, const char *cmd, const char *arg);
int range_args_init(struct range_args *ra, int argc);
void range_args_free(struct range_args *ra);
/* each returns 0, or DG_EXIT_USAGE after printing the error */
int range_args_opt(struct range_args *ra, const char *cmd, enum range_opt which, const char *arg);
int range_args_check(struct range_args *ra, const char *cmd, bool required);
/*
 * The target's badblocks list if asked for, physical addresses to offsets
 * on @t, and every range into ra->ranges; DG_EXIT_FAILURE after an error
 */
int range_args_resolve(struct range_args *ra, struct dg_target *t, struct dg_ctx *ctx);

/* -o/--output columns, as util-linux declares them */
struct dg_column {
	const char *name;
	double whint;
	int flags; /* SCOLS_FL_* */
	const char *help;
	int table; /* which table of the command it belongs to */
};

struct dg_columns {
	const struct dg_column *all;
	size_t nr_all;
	int *ids;
	size_t nr;
};

int dg_columns_parse(struct dg_columns *cols, const char *list);
void dg_columns_print_help(const struct dg_columns *cols, FILE *out);

struct dg_output_opts {
	bool json, raw, noheadings, bytes;
};

/*
 * common.c: a JSON object printed member by member, each member built by
 * json-c and freed once printed.  Arrays nest one level: an array member
 * of the top-level object, whose elements are values.
 */
struct dg_json_out {
	FILE *f;
	int depth;
	bool first[3];
	bool compact; /* all on one line (watch --json), else pretty */
};

void dg_json_begin(struct dg_json_out *o, FILE *f);
/* the same, the whole object on one line: JSON Lines */
void dg_json_begin_line(struct dg_json_out *o, FILE *f);
void dg_json_member(struct dg_json_out *o, const char *key, json_object *val);
void dg_json_array_begin(struct dg_json_out *o, const char *key);
void dg_json_element(struct dg_json_out *o, json_object *val);
void dg_json_array_end(struct dg_json_out *o);
void dg_json_end(struct dg_json_out *o);

/* who.c: the owners and users of a result, for every command */
void dg_print_warnings(struct dg_result *res);
void dg_json_who(struct dg_json_out *o, struct dg_target *t, struct dg_result *res);
void dg_print_who(const struct dg_output_opts *out, struct dg_target *t, struct dg_result *res,
		  bool owners);

/* common.c: a CXL region, as who and list show it */
json_object *dg_json_cxl_region(struct dg_cxl_region *r);
void dg_print_cxl_region(struct dg_cxl_region *r, const char *indent);

/* a size for a table cell: human unless --bytes */
char *dg_fmt_size(const struct dg_output_opts *o, uint64_t bytes);
char *dg_fmt_hex(uint64_t val);
char *dg_fmt_devnum(dev_t dev);

#endif
