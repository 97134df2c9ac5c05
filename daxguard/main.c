// SPDX-License-Identifier: GPL-2.0-or-later
/* daxguard: git-style dispatcher to the subcommands. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daxguard.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, struct dg_ctx *ctx);
	const char *help;
} commands[] = {
	{ "list", cmd_list, "list the DAX devices, their filesystems, bad blocks and users" },
	{ "who", cmd_who, "show the files, metadata and processes a device range hits" },
	{ "fail", cmd_fail, "a range failed: act on exactly the processes it hits" },
	{ "watch", cmd_watch, "the daemon: act on failures and removals as they happen" },
	{ "remove", cmd_remove, "the device is going: stop its users, unmount, release it" },
};

static void usage(FILE *out)
{
	size_t i;

	fputs("Usage:\n"
	      " daxguard [-V|--version] [-h|--help] <command> [<args>]\n"
	      "\n"
	      "Find who uses a DAX or block device range, and make them let go.\n"
	      "\n"
	      "Commands:\n",
	      out);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, " %-8s %s\n", commands[i].name, commands[i].help);
	fputs("\nSee 'daxguard <command> --help' and daxguard(8).\n", out);
}

/*
 * The version first, alone on its line, as ndctl and xfs_io print it; then
 * what the library in use can do, which a bug report needs and which may
 * be newer than this program.
 */
static void print_version(void)
{
	const char *name;
	unsigned int i;

	printf("daxguard %s\n", VERSION);
	printf("libdaxguard %s\n", dg_get_version());
	fputs("features:", stdout);
	for (i = 0; (name = dg_feature_name(i)); i++)
		printf("%s %s", i ? "," : "", name);
	/* the command's own: watch logs to the journal and talks sd_notify */
	printf("%s libsystemd", i ? "," : "");
	fputs("\nreverse maps:", stdout);
	for (i = 0; (name = dg_rmap_name(i)); i++)
		printf("%s %s", i ? "," : "", name);
	putchar('\n');
}

int main(int argc, char **argv)
{
	struct dg_ctx *ctx;
	size_t i;
	int rc;

	/*
	 * Which characters are printable is the locale's, as in libsmartcols'
	 * tables; numbers stay in the C locale's format (--grace 2.5).
	 */
	setlocale(LC_CTYPE, "");
	if (argc < 2) {
		usage(stderr);
		return DG_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return DG_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		print_version();
		return DG_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		if (argv[1][0] == '-')
			dg_errx("unknown option '%s' (see 'daxguard --help')", argv[1]);
		else
			dg_errx("'%s' is not a daxguard command (see 'daxguard --help')", argv[1]);
		return DG_EXIT_USAGE;
	}
	rc = dg_new(&ctx);
	if (rc) {
		dg_errx("cannot create the library context");
		return DG_EXIT_FAILURE;
	}
	rc = commands[i].fn(argc - 1, argv + 1, ctx);
	dg_unref(ctx);
	return rc;
}
