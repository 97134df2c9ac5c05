// SPDX-License-Identifier: GPL-2.0-or-later
/* daxguard fail: a range of the device failed; act on exactly who it hits. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"

static void usage(void)
{
	printf("Usage:\n"
	       " daxguard fail [options] --offset <bytes> --length <bytes> <target>\n"
	       "\n"
	       "A range of the device failed.  Freeze the filesystems it is on,\n"
	       "find the files, metadata and processes it hits, thaw, act on\n"
	       "exactly those processes, and drop the cached pages of the range.\n"
	       "\n"
	       "Options:\n"
	       "     --offset <bytes>    start of the failed range (may repeat)\n"
	       "     --length <bytes>    its length (one per --offset)\n"
	       "     --phys <address>    a physical address instead of --offset\n"
	       "                         (pmem); alone it means the page there\n"
	       "     --pfn <number>      a page frame number, as memory-failure logs\n"
	       "                         print it: the page at that number (pmem)\n"
	       "     --dpa <memdev:address>  a CXL memdev's device physical address\n"
	       "                         instead of --offset (a target on a CXL\n"
	       "                         region); alone it means the page there\n"
	       "     --badblocks <file>  ranges from a badblocks list (\"SECTOR COUNT\"\n"
	       "                         lines, cxl_poison trace lines or the JSON of\n"
	       "                         cxl list --media-errors); - for stdin, sysfs for\n"
	       "                         the device's own, cxl for its memdevs' poison lists\n"
	       "     --rmap <backend>    xfs-rmapbt, xfs-bulkstat, ext4-libext2fs or fiemap\n"
	       " -a, --action <policy>   report (default), term, kill or bus\n"
	       " -g, --grace <seconds>   term: time between SIGTERM and SIGKILL;\n"
	       "                         bus: time to wait for exits (default 10)\n"
	       "     --punch             punch the failed file ranges out: the data there\n"
	       "                         is lost, and the bad blocks leave the file (the\n"
	       "                         device's badblocks list is not cleared)\n"
	       "     --shutdown          shut the filesystem down if metadata is hit\n"
	       "     --include-ancestors also signal daxguard's own ancestors\n"
	       "     --freeze-timeout <seconds>  the longest a freeze may last: past\n"
	       "                         it the guardian thaws (default 30)\n"
	       " -n, --dry-run           show what would be done, change nothing\n"
	       "     --pause-after <stage> stop after a stage until Enter or SIGUSR1\n"
	       "                         (%s)\n"
	       " -J, --json              use JSON output format\n"
	       " -r, --raw               use the raw output format\n"
	       " -b, --bytes             print sizes in bytes\n"
	       " -h, --help              display this help\n"
	       "\n"
	       "For more details see daxguard-fail(8).\n",
	       act_stage_list());
}

int cmd_fail(int argc, char **argv, struct dg_ctx *ctx)
{
	enum {
		OPT_PUNCH = 256,
		OPT_SHUTDOWN,
	};
	static const struct option longopts[] = {
		RANGE_LONGOPTS,
		{ "punch", no_argument, NULL, OPT_PUNCH },
		{ "shutdown", no_argument, NULL, OPT_SHUTDOWN },
		{ "bytes", no_argument, NULL, 'b' },
		ACT_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dg_mf_opts mf = { .action = DG_ACTION_REPORT, .grace_ms = 10000 };
	struct dg_output_opts out = { 0 };
	struct dg_target *target = NULL;
	struct range_args ra;
	int c, rc, ret = DG_EXIT_USAGE;

	if (range_args_init(&ra, argc)) {
		range_args_free(&ra);
		return DG_EXIT_FAILURE;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, ":" ACT_SHORTOPTS "bh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PUNCH:
			mf.flags |= DG_MF_PUNCH;
			break;
		case OPT_SHUTDOWN:
			mf.flags |= DG_MF_SHUTDOWN;
			break;
		case 'b':
			out.bytes = true;
			break;
		case 'h':
			usage();
			ret = DG_EXIT_OK;
			goto out;
		default:
			rc = range_args_getopt(&ra, "fail", c, optarg);
			if (!rc)
				break;
			if (rc > 0) {
				ret = rc;
				goto out;
			}
			rc = act_common_opt("fail", c, optarg, &mf, &out);
			if (rc > 0)
				goto out;
			if (rc < 0) {
				dg_bad_option("fail", c, argv);
				goto out;
			}
			break;
		}
	}
	if (range_args_check(&ra, "fail", true))
		goto out;
	if (optind != argc - 1) {
		dg_usage_error("fail", optind == argc ? "no target given" : "too many arguments");
		goto out;
	}
	ret = DG_EXIT_FAILURE;
	rc = dg_target_new(ctx, argv[optind], &target);
	if (rc) {
		dg_lib_fail(ctx, argv[optind], rc);
		goto out;
	}
	if (range_args_resolve(&ra, target, ctx))
		goto out;
	if (ra.badblocks && !ra.nr) {
		printf("%s: no bad blocks listed: nothing to do\n", dg_target_get_devname(target));
		ret = DG_EXIT_OK;
		goto out;
	}
	rc = dg_target_set_rmap(target, ra.rmap);
	if (rc) {
		dg_lib_fail(ctx, ra.rmap, rc);
		goto out;
	}
	ret = act_run(argv[optind], target, ra.ranges, ra.nr, &mf, &out);
out:
	dg_target_free(target);
	range_args_free(&ra);
	return ret;
}
