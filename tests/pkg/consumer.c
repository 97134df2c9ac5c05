// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A program of the kind libdaxguard-dev is for, built by
 * scripts/package-test.sh with `pkg-config --cflags --libs libdaxguard`
 * against the installed package: one who query, its answer checked.
 *
 * Usage: consumer DEVICE OFFSET PATH PID
 *   the 4 KiB at OFFSET of DEVICE must be data of the file PATH, and the
 *   process PID must map it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libdaxguard.h>

int main(int argc, char **argv)
{
	struct dg_range range = { .length = 4096 };
	struct dg_target *target = NULL;
	struct dg_result *result = NULL;
	struct dg_owner *owner;
	struct dg_user *user;
	struct dg_ctx *ctx;
	int owned = 0, mapped = 0, rc;
	pid_t pid;

	if (argc != 5) {
		fprintf(stderr, "usage: %s DEVICE OFFSET PATH PID\n", argv[0]);
		return 2;
	}
	if (dg_parse_size(argv[2], &range.offset) < 0) {
		fprintf(stderr, "consumer: %s: not a size\n", argv[2]);
		return 2;
	}
	pid = (pid_t)strtol(argv[4], NULL, 10);
	if (dg_new(&ctx) < 0)
		return 1;
	rc = dg_target_new(ctx, argv[1], &target);
	if (!rc)
		rc = dg_who(target, &range, 1, 0, &result);
	if (rc) {
		fprintf(stderr, "consumer: %s\n", dg_get_error(ctx));
		goto out;
	}
	dg_owner_foreach(result, owner) {
		const char *path = dg_owner_get_path(owner);

		printf("owner: %s %s\n", dg_owner_type_name(dg_owner_get_type(owner)),
		       path ? path : "-");
		owned |=
			dg_owner_get_type(owner) == DG_OWNER_FILE && path && !strcmp(path, argv[3]);
	}
	dg_user_foreach(result, user) {
		printf("user: %d %s\n", (int)dg_user_get_pid(user), dg_user_get_comm(user));
		mapped |= dg_user_get_pid(user) == pid;
	}
	if (!owned)
		fprintf(stderr, "consumer: %s is not named as the owner\n", argv[3]);
	if (!mapped)
		fprintf(stderr, "consumer: pid %d is not named as a user\n", (int)pid);
	rc = owned && mapped ? 0 : 1;
	printf("libdaxguard %s: %s\n", dg_get_version(), rc ? "wrong answer" : "right answer");
out:
	dg_result_free(result);
	dg_target_free(target);
	dg_unref(ctx);
	return rc ? 1 : 0;
}
