// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daxguard remove: the device is about to go.  Stop every user, unmount
 * every mount, check nothing holds it, release it.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"

static void usage(void)
{
	printf("Usage:\n"
	       " daxguard remove [options] <target>\n"
	       "\n"
	       "Prepare a device for removal: stop every process that uses a\n"
	       "filesystem on it (in every mount namespace, through every bind\n"
	       "mount), unmount every mount of them, check that nothing holds the\n"
	       "device, and release it (detach a loop device, unbind a driver).\n"
	       "Unmounting writes back what reached the filesystems: nothing is lost.\n"
	       "\n"
	       "Options:\n"
	       " -a, --action <policy>   term (default: SIGTERM, grace, SIGKILL),\n"
	       "                         kill, bus or report (signal nobody)\n"
	       " -g, --grace <seconds>   time SIGTERM gets before SIGKILL (default 10)\n"
	       "     --no-release        unmount, but leave the device attached\n"
	       "     --release <level>   on a CXL region, how far the release goes:\n"
	       "                         namespace (disable it; the region stays),\n"
	       "                         region (default: then disable the region) or\n"
	       "                         memdev (destroy the region, disable its memdevs)\n"
	       "     --whole-region      take in the region's other namespaces, which its\n"
	       "                         release takes down (without it, remove refuses)\n"
	       "     --include-ancestors also signal daxguard's own ancestors\n"
	       "     --freeze-timeout <seconds>  the longest a freeze may last: past\n"
	       "                         it the guardian thaws (default 30)\n"
	       " -f, --force             remove a device that holds /, daxguard's\n"
	       "                         executable or its working directory\n"
	       " -n, --dry-run           show the plan, change nothing\n"
	       "     --pause-after <stage> stop after a stage until Enter or SIGUSR1\n"
	       "                         (%s)\n"
	       " -J, --json              use JSON output format\n"
	       " -r, --raw               use the raw output format\n"
	       " -h, --help              display this help\n"
	       "\n"
	       "For more details see daxguard-remove(8).\n",
	       act_stage_list());
}

int cmd_remove(int argc, char **argv, struct dg_ctx *ctx)
{
	enum { OPT_NO_RELEASE = 256, OPT_RELEASE, OPT_WHOLE_REGION };
	static const struct option longopts[] = {
		{ "no-release", no_argument, NULL, OPT_NO_RELEASE },
		{ "release", required_argument, NULL, OPT_RELEASE },
		{ "whole-region", no_argument, NULL, OPT_WHOLE_REGION },
		{ "force", no_argument, NULL, 'f' },
		ACT_LONGOPTS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dg_mf_opts mf = { .flags = DG_MF_PRE_REMOVE,
				 .action = DG_ACTION_TERM,
				 .grace_ms = 10000 };
	struct dg_output_opts out = { 0 };
	struct dg_target *target = NULL;
	int c, rc, ret = DG_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":" ACT_SHORTOPTS "fh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_NO_RELEASE:
			mf.flags |= DG_MF_NO_RELEASE;
			break;
		case OPT_RELEASE:
			mf.flags &= ~(unsigned int)(DG_MF_RELEASE_NAMESPACE | DG_MF_RELEASE_MEMDEV);
			if (!strcmp(optarg, "namespace")) {
				mf.flags |= DG_MF_RELEASE_NAMESPACE;
			} else if (!strcmp(optarg, "memdev")) {
				mf.flags |= DG_MF_RELEASE_MEMDEV;
			} else if (strcmp(optarg, "region")) {
				dg_usage_error("remove",
					       "--release '%s': not namespace, region or memdev",
					       optarg);
				goto out;
			}
			break;
		case OPT_WHOLE_REGION:
			mf.flags |= DG_MF_WHOLE_REGION;
			break;
		case 'f':
			mf.flags |= DG_MF_FORCE;
			break;
		case 'h':
			usage();
			ret = DG_EXIT_OK;
			goto out;
		default:
			rc = act_common_opt("remove", c, optarg, &mf, &out);
			if (rc > 0)
				goto out;
			if (rc < 0) {
				dg_bad_option("remove", c, argv);
				goto out;
			}
			break;
		}
	}
	if (optind != argc - 1) {
		dg_usage_error("remove", optind == argc ? "no target given" : "too many arguments");
		goto out;
	}
	if ((mf.flags & DG_MF_NO_RELEASE) && (mf.flags & DG_MF_RELEASE_MEMDEV)) {
		dg_usage_error("remove", "--no-release and --release memdev contradict each other");
		goto out;
	}
	ret = DG_EXIT_FAILURE;
	rc = dg_target_new(ctx, argv[optind], &target);
	if (rc) {
		dg_lib_fail(ctx, argv[optind], rc);
		goto out;
	}
	ret = act_run(argv[optind], target, NULL, 0, &mf, &out);
out:
	dg_target_free(target);
	return ret;
}
