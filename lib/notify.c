// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dg_notify_failure(): the user-space dax_holder_notify_failure(), for a
 * failed range and for a device about to be removed (MF_MEM_PRE_REMOVE).
 *
 * Failure:    freeze -> rmap + collect -> thaw -> signal -> wait ->
 *             invalidate [-> punch] [-> shutdown]
 * Pre-remove: collect -> signal (TERM, grace, thawed) -> wait ->
 *             round { freeze -> collect -> signal (KILL) -> thaw -> wait ->
 *                     unmount } -> release
 *
 * The kernel freezes, kills and thaws in one go; we keep the grace period
 * outside the freeze, because a process that flushes its data on SIGTERM
 * must not block on a frozen filesystem.  The frozen sweep in each round
 * catches whoever appeared meanwhile, against an on-disk image that is
 * clean at that moment: should the device vanish before the unmount, what
 * had reached the filesystem is on the media.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/capability.h>

#include "private.h"

#define DEFAULT_GRACE_MS 10000
#define DEFAULT_FREEZE_DEADLINE_MS 30000
#define DEFAULT_ROUNDS 5

struct frozen {
	struct dg_fs *fs;
	struct dg_freeze f;
};

static void stage(struct dg_ctx *ctx, const char *name, enum dg_stage_event ev)
{
	dg_stage_notify(ctx, name, ev, 0, 0);
}

/* the first mount of @fs, for messages */
static const char *fs_mountpoint(struct dg_fs *fs)
{
	return fs->mounts ? fs->mounts->target : fs->devname;
}

/*
 * Freeze each filesystem @want accepts; the guardians watch over them.
 * One frozen by somebody else is left alone; with @strict (a removal,
 * which must not unmount a frozen filesystem) that stops the flow, and
 * the caller thaws the ones frozen so far (*@out, *@nr).
 */
static int freeze_all(struct dg_ctx *ctx, struct dg_report *rep, const struct dg_mf_opts *o,
		      struct frozen **out, size_t *nr, bool (*want)(struct dg_fs *, void *),
		      void *arg, bool strict)
{
	struct dg_fs *fs;
	struct frozen *fz;
	size_t n = 0;

	dg_fs_foreach(rep->target, fs)
		n++;
	fz = calloc(n ? n : 1, sizeof(*fz));
	if (!fz)
		return -ENOMEM;
	*out = fz;
	*nr = 0;
	stage(ctx, "freeze", DG_STAGE_BEGIN);
	dg_fs_foreach(rep->target, fs) {
		struct dg_step *s;
		int rootfd, rc;

		if ((want && !want(fs, arg)) || fs->dax_ino)
			continue; /* device-dax: nothing to freeze */
		s = dg_step_begin(rep, "freeze", fs->devname);
		rootfd = dg_open_fs_root(fs);
		if (rootfd == -EIO) {
			/*
			 * Shut down after I/O errors (XFS), or its device
			 * gone: it takes no writes, so there is nothing to
			 * hold still, and its users must still be found and
			 * let go.  Not a failure of the removal.
			 */
			dg_step_end(rep, s, 0,
				    "not frozen: its root answers with an I/O error (shut "
				    "down?); it takes no writes");
			continue;
		}
		if (rootfd < 0) {
			dg_step_end(rep, s, rootfd == -ENOENT ? 0 : rootfd, "not frozen: %s",
				    dg_mount_error(rootfd));
			continue;
		}
		rc = dg_freeze(ctx, fs->devname, rootfd, o->freeze_deadline_ms, &fz[*nr].f);
		close(rootfd);
		if (rc == -EBUSY && strict) {
			dg_step_end(rep, s, rc, "frozen by somebody else");
			stage(ctx, "freeze", DG_STAGE_END);
			return dg_fail(
				ctx, rc,
				"%s: frozen by somebody else (fsfreeze -f?); daxguard does not "
				"unmount a frozen filesystem: thaw it (fsfreeze -u %s) and run "
				"again",
				fs->devname, fs_mountpoint(fs));
		}
		if (rc) {
			/*
			 * Frozen by somebody else, or a filesystem that
			 * cannot freeze: go on without, and say so.
			 */
			dg_step_end(rep, s, 0, "not frozen: %s",
				    dg_get_error(ctx) ?: strerror(-rc));
			dg_clear_error(ctx);
			continue;
		}
		fz[*nr].fs = fs;
		(*nr)++;
		dg_step_end(rep, s, 0,
			    "frozen, guardian pid %d (thaws within %u ms if daxguard dies)",
			    (int)fz[*nr - 1].f.guardian, o->freeze_deadline_ms);
	}
	stage(ctx, "freeze", DG_STAGE_END);
	return 0;
}

/*
 * Thaw.  A freeze that was lost before (the guardian's deadline passed, or
 * somebody thawed it) is said so, never reported as held: *@lost tells the
 * caller, whose work since then was done on a live filesystem.
 */
static int thaw_all(struct dg_ctx *ctx, struct dg_report *rep, const struct dg_mf_opts *o,
		    struct frozen *fz, size_t nr, bool *lost)
{
	size_t i;
	int rc = 0;

	if (lost)
		*lost = false;
	if (!nr) {
		free(fz);
		return 0;
	}
	stage(ctx, "thaw", DG_STAGE_BEGIN);
	for (i = 0; i < nr; i++) {
		struct dg_step *s = dg_step_begin(rep, "thaw", fz[i].fs->devname);
		uint64_t held = dg_now_ms() - fz[i].f.frozen_at_ms;
		int r = dg_thaw(ctx, &fz[i].f);

		if (r == -ETIME || r == -ESTALE) {
			if (lost)
				*lost = true;
			dg_step_end(rep, s, 0,
				    r == -ETIME ?
					    "NOT HELD: the guardian thawed it at its deadline "
					    "(%u ms, --freeze-timeout), %" PRIu64
					    " ms after the freeze" :
					    "NOT HELD: somebody else thawed it (%u ms deadline), "
					    "%" PRIu64 " ms after the freeze",
				    o->freeze_deadline_ms, held);
			continue;
		}
		if (r)
			dg_step_end(rep, s, r, "thaw: %s (the guardian retries)", strerror(-r));
		else
			dg_step_end(rep, s, 0, "thawed after %" PRIu64 " ms", held);
		if (r && !rc)
			rc = r;
	}
	free(fz);
	stage(ctx, "thaw", DG_STAGE_END);
	return rc;
}

static bool fs_in_ranges(struct dg_fs *fs, void *arg)
{
	struct dg_result *q = arg; /* carries the normalized ranges */
	size_t i;

	for (i = 0; i < q->nr_ranges; i++) {
		const struct dg_range *r = &q->ranges[i];

		if (dg_fs_meets(fs, r->offset, r->length))
			return true;
	}
	return false;
}

/*
 * While frozen, the inodes the reverse map named are those inodes: note
 * the generation of each (XFS with rmapbt names the inode alone), so that
 * the invalidate and punch stages later open exactly them, by handle, and
 * not a file that took the number meanwhile.
 */
static void owners_fill_gen(struct dg_result *res)
{
	struct dg_fs *fs;

	dg_fs_foreach(res->target, fs) {
		struct dg_owner *o;
		int rootfd = -1;

		if (strcmp(fs->type, "xfs"))
			continue;
		dg_owner_foreach(res, o) {
			if (o->fs != fs || o->type != DG_OWNER_FILE || o->has_gen)
				continue;
			if (rootfd < 0)
				rootfd = dg_open_fs_root(fs);
			if (rootfd < 0)
				break;
			dg_owner_fill_gen(o, rootfd);
		}
		if (rootfd >= 0)
			close(rootfd);
	}
}

/*
 * Freeze, map the ranges to owners and users, thaw: the consistent answer.
 * If the freeze was lost meanwhile (the reverse map outlasted the
 * guardian's deadline, or somebody thawed), the answer came from a live
 * filesystem: it is thrown away and the whole is done once more; lost a
 * second time, the flow fails rather than act on it.
 */
#define RMAP_TRIES 2

static int frozen_rmap(struct dg_ctx *ctx, struct dg_report *rep, const struct dg_range *ranges,
		       size_t nr, const struct dg_mf_opts *o, struct dg_result *probe)
{
	bool dry = o->flags & DG_MF_DRY_RUN, lost = false;
	struct dg_step *s;
	int rc = 0, attempt;

	for (attempt = 1; attempt <= RMAP_TRIES; attempt++) {
		struct frozen *fz = NULL;
		size_t nfz = 0;

		if (!dry)
			rc = freeze_all(ctx, rep, o, &fz, &nfz, fs_in_ranges, probe, false);
		if (rc)
			return rc;
		stage(ctx, "rmap", DG_STAGE_BEGIN);
		s = dg_step_begin(rep, "rmap", rep->target->devname);
		dg_result_free(rep->result);
		rep->result = NULL;
		rc = dg_who(rep->target, ranges, nr, 0, &rep->result);
		if (rc) {
			dg_step_end(rep, s, rc, "%s", dg_get_error(ctx) ?: strerror(-rc));
			thaw_all(ctx, rep, o, fz, nfz, NULL);
			return rc;
		}
		dg_step_end(rep, s, 0, "%zu owner record%s", rep->result->nr_owners,
			    rep->result->nr_owners == 1 ? "" : "s");
		if (!dry)
			owners_fill_gen(rep->result);
		stage(ctx, "rmap", DG_STAGE_END);
		stage(ctx, "collect", DG_STAGE_END);
		rc = thaw_all(ctx, rep, o, fz, nfz, &lost);
		if (rc)
			return dg_fail(ctx, rc, "%s: thaw failed: %s", rep->target->devname,
				       strerror(-rc));
		if (!lost)
			return 0;
		s = dg_step_begin(rep, "rmap", rep->target->devname);
		dg_step_end(rep, s, attempt < RMAP_TRIES ? 0 : -ETIME,
			    "the freeze was not held to the end: %s",
			    attempt < RMAP_TRIES ? "answer thrown away, done again" :
						   "lost again, nothing acted on");
	}
	return dg_fail(ctx, -ETIME,
		       "%s: the freeze did not last until the reverse map was done, twice; "
		       "give it longer (--freeze-timeout, now %u s)",
		       rep->target->devname, o->freeze_deadline_ms / 1000);
}

static int failure(struct dg_ctx *ctx, struct dg_report *rep, const struct dg_range *ranges,
		   size_t nr, const struct dg_mf_opts *o)
{
	bool dry = o->flags & DG_MF_DRY_RUN;
	struct dg_result probe = { 0 };
	struct dg_owner *ow;
	int rc;

	if (!nr)
		return dg_fail(ctx, -EINVAL, "%s: a failure needs a range", rep->target->devname);
	/* bad ranges are refused before anything is frozen */
	rc = dg_normalize_ranges(rep->target, ranges, nr, &probe.ranges, &probe.nr_ranges);
	if (rc)
		return rc;
	rc = frozen_rmap(ctx, rep, ranges, nr, o, &probe);
	free(probe.ranges);
	if (rc)
		return rc;

	dg_owner_foreach(rep->result, ow)
		if (ow->type == DG_OWNER_METADATA)
			rep->metadata_hit = true;
	if (!dry)
		dg_hold_unlinked(rep->result);

	rc = dg_unmap_and_kill(ctx, rep, rep->result, o->action, o->grace_ms, o, true, NULL);
	if (rc)
		return rc;
	if (dry)
		return 0;

	stage(ctx, "invalidate", DG_STAGE_BEGIN);
	dg_invalidate(rep, rep->result, false);
	stage(ctx, "invalidate", DG_STAGE_END);
	if (o->flags & DG_MF_PUNCH) {
		stage(ctx, "punch", DG_STAGE_BEGIN);
		dg_invalidate(rep, rep->result, true);
		stage(ctx, "punch", DG_STAGE_END);
	}
	if ((o->flags & DG_MF_SHUTDOWN) && rep->metadata_hit) {
		struct dg_fs *fs;

		stage(ctx, "shutdown", DG_STAGE_BEGIN);
		dg_fs_foreach(rep->target, fs) {
			for (ow = rep->result->owners; ow; ow = ow->next)
				if (ow->fs == fs && ow->type == DG_OWNER_METADATA)
					break;
			if (ow)
				dg_shutdown_fs(rep, fs);
		}
		stage(ctx, "shutdown", DG_STAGE_END);
	}
	return 0;
}

/* Refuse to remove what daxguard itself stands on, unless forced. */
static int check_self(struct dg_ctx *ctx, struct dg_target *t)
{
	static const struct {
		const char *path;
		const char *what;
	} self[] = {
		{ "/", "the root filesystem" },
		{ "/proc/self/exe", "daxguard's own executable" },
		{ "/proc/self/cwd", "daxguard's working directory" },
	};
	struct dg_fs *fs;
	struct stat st;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(self); i++) {
		if (stat(self[i].path, &st) < 0)
			continue;
		dg_fs_foreach(t, fs)
			if (fs->devnum == st.st_dev)
				return dg_fail(ctx, -EBUSY,
					       "%s: %s holds %s; refusing without --force",
					       t->devname, fs->devname, self[i].what);
	}
	return 0;
}

static int pre_remove_one(struct dg_ctx *ctx, struct dg_report *rep, const struct dg_mf_opts *o)
{
	struct dg_target *t = rep->target;
	bool dry = o->flags & DG_MF_DRY_RUN;
	struct dg_stream_kill *sk;
	struct dg_step *s;
	unsigned int round;
	int rc;

	if (!(o->flags & DG_MF_FORCE)) {
		rc = check_self(ctx, t);
		if (rc)
			return rc;
	}
	if (!dry) {
		/*
		 * Frozen by somebody else (an operator's fsfreeze, a snapshot
		 * tool): refuse now, before anybody is signalled, since the
		 * end of a removal is an unmount, and a frozen filesystem
		 * unmounted lives on detached and frozen, holding the device.
		 */
		struct frozen *fz = NULL;
		size_t nfz = 0;

		rc = freeze_all(ctx, rep, o, &fz, &nfz, NULL, NULL, true);
		thaw_all(ctx, rep, o, fz, nfz, NULL);
		if (rc)
			return rc;
	}
	/*
	 * With --action kill every user goes: each is killed as the scan
	 * finds (and, pinned, checks) it, and its exit overlaps the rest of
	 * the scan
	 */
	sk = dg_stream_kill_new(rep, o->action, o);
	stage(ctx, "collect", DG_STAGE_BEGIN);
	s = dg_step_begin(rep, "collect", t->devname);
	/* the users' own paths (from /proc) are what a removal shows */
	rc = dg_who_hooked(t, NULL, 0, DG_WHO_NO_PATHS, dg_stream_kill_hook(sk), &rep->result);
	if (rc) {
		dg_step_end(rep, s, rc, "%s", dg_get_error(ctx) ?: strerror(-rc));
		dg_stream_kill_free(sk);
		return rc;
	}
	dg_step_end(rep, s, 0, "%s", rep->result->users ? "in use" : "no process uses it");
	stage(ctx, "collect", DG_STAGE_END);

	/* the polite round: SIGTERM and the grace period, thawed */
	rc = dg_unmap_and_kill(ctx, rep, rep->result, o->action, o->grace_ms, o, true, sk);
	dg_stream_kill_free(sk);
	if (rc)
		return rc;
	if (dry) {
		dg_unmount_all(ctx, rep, t, true);
		if (!(o->flags & DG_MF_NO_RELEASE))
			dg_release(ctx, rep, t, o->flags, true);
		return 0;
	}

	for (round = 0; round < o->max_rounds; round++) {
		struct dg_result *res = NULL;
		struct frozen *fz = NULL;
		size_t nfz = 0;

		rc = freeze_all(ctx, rep, o, &fz, &nfz, NULL, NULL, true);
		if (rc) {
			thaw_all(ctx, rep, o, fz, nfz, NULL);
			return rc;
		}
		/* signal while frozen, as found; they finish dying once thawed */
		sk = o->action == DG_ACTION_TERM || o->action == DG_ACTION_KILL ?
			     dg_stream_kill_new(rep, DG_ACTION_KILL, o) :
			     NULL;
		stage(ctx, "collect", DG_STAGE_BEGIN);
		s = dg_step_begin(rep, "collect", "frozen sweep");
		rc = dg_who_hooked(t, NULL, 0, DG_WHO_NO_PATHS, dg_stream_kill_hook(sk), &res);
		dg_step_end(rep, s, rc, "%s", rc ? strerror(-rc) : "done");
		stage(ctx, "collect", DG_STAGE_END);
		if (!rc && sk)
			rc = dg_unmap_and_kill(ctx, rep, res, DG_ACTION_KILL, 0, o, false, sk);
		dg_stream_kill_free(sk);
		thaw_all(ctx, rep, o, fz, nfz, NULL);
		dg_result_free(res);
		if (rc)
			return rc;
		dg_victims_wait(ctx, rep, DG_KILL_WAIT_MS);

		stage(ctx, "unmount", DG_STAGE_BEGIN);
		rc = dg_target_refresh_mounts(t);
		if (!rc)
			rc = dg_unmount_all(ctx, rep, t, false);
		if (!rc)
			rc = dg_target_refresh_mounts(t);
		stage(ctx, "unmount", DG_STAGE_END);
		if (!rc && !dg_target_is_mounted(t))
			break;
		rc = rc ? rc : -EBUSY;
	}
	if (rc) {
		dg_result_free(rep->result);
		rep->result = NULL;
		dg_who(t, NULL, 0, 0, &rep->result);
		return dg_fail(
			ctx, rc, "%s: still mounted after %u rounds: %s", t->devname, o->max_rounds,
			rep->result && rep->result->users ?
				"processes still use it" :
				"busy without a process using it (a submount, swap, a loop device on a file in it?)");
	}
	if (!(o->flags & DG_MF_NO_RELEASE)) {
		stage(ctx, "release", DG_STAGE_BEGIN);
		rc = dg_release(ctx, rep, t, o->flags, false);
		stage(ctx, "release", DG_STAGE_END);
		if (rc)
			return rc;
	}
	/*
	 * Unmounted (and released): every user let go, which is what a
	 * removal is for.  Steps that failed on the way, such as a killed
	 * process that took longer than the wait to die, or an unmount that
	 * a later round managed, stay in the report as they were.
	 */
	rep->complete = true;
	return 0;
}

/*
 * Another namespace of the CXL region the target is on: its users are
 * stopped and its filesystems unmounted as the target's are, without a
 * release of its own (the region's release disables it).  What was done
 * joins @rep.
 */
static int take_in(struct dg_ctx *ctx, struct dg_report *rep, const struct dg_mf_opts *o,
		   const char *devname)
{
	struct dg_mf_opts po = *o;
	struct dg_target *pt = NULL;
	struct dg_report *sub;
	struct dg_step *s;
	int rc;

	rc = dg_target_new(ctx, devname, &pt);
	if (rc == -ENODEV) {
		s = dg_step_begin(rep, "collect", devname);
		dg_step_end(rep, s, 0, "no filesystem mounted: its namespace goes with the region");
		dg_clear_error(ctx);
		return 0;
	}
	if (rc)
		return rc;
	/*
	 * Not locked against another daxguard: the locks are the context's
	 * (lock.c), held for the target alone.
	 */
	sub = dg_report_new(pt);
	if (!sub) {
		rc = -ENOMEM;
		goto out;
	}
	sub->t0 = rep->t0;
	po.flags |= DG_MF_NO_RELEASE;
	po.flags &= ~(unsigned int)DG_MF_WHOLE_REGION;
	rc = pre_remove_one(ctx, sub, &po);
	/* its steps and processes are the removal's */
	if (sub->steps) {
		*rep->steps_tail = sub->steps;
		rep->steps_tail = sub->steps_tail;
		sub->steps = NULL;
	}
	if (sub->victims) {
		*rep->victims_tail = sub->victims;
		rep->victims_tail = sub->victims_tail;
		sub->victims = NULL;
	}
	if (!sub->complete)
		rep->complete = false;
	dg_report_free(sub);
out:
	dg_target_free(pt);
	return rc;
}

/*
 * A removal whose release takes a CXL region down takes every namespace
 * of it: the checks come before anything changes, then the other
 * namespaces are taken in, then the target itself.
 */
static int pre_remove(struct dg_ctx *ctx, struct dg_report *rep, const struct dg_mf_opts *o)
{
	char **peers = NULL;
	size_t nr = 0, i;
	int rc;

	/* memory onlined as system RAM: a node to empty, no filesystem */
	if (rep->target->kmem)
		return dg_kmem_remove(ctx, rep, o);
	rc = dg_cxl_release_check(ctx, rep->target, o->flags, &peers, &nr);
	for (i = 0; !rc && i < nr; i++)
		rc = take_in(ctx, rep, o, peers[i]);
	for (i = 0; i < nr; i++)
		free(peers[i]);
	free(peers);
	if (rc)
		return rc;
	return pre_remove_one(ctx, rep, o);
}

/*
 * Freezing, bulkstat, handles and unmounting need CAP_SYS_ADMIN; signals
 * to other users' processes CAP_KILL.  Without them a flow would get
 * half way (some processes signalled, nothing frozen): refuse up front.
 */
static bool may_act(void)
{
	const int caps[] = { CAP_SYS_ADMIN, CAP_KILL };

	return dg_have_caps(caps, ARRAY_SIZE(caps));
}

DG_EXPORT int dg_notify_failure(struct dg_target *t, const struct dg_range *ranges, size_t nr,
				const struct dg_mf_opts *uopts, struct dg_report **report)
{
	struct dg_ctx *ctx = t->ctx;
	struct dg_mf_opts o = { .action = DG_ACTION_REPORT };
	struct dg_report *rep;
	int rc;

	dg_clear_error(ctx);
	if (uopts)
		o = *uopts;
	if (!o.action)
		o.action = (o.flags & DG_MF_PRE_REMOVE) ? DG_ACTION_TERM : DG_ACTION_REPORT;
	if (!o.grace_ms && o.action == DG_ACTION_TERM && !uopts)
		o.grace_ms = DEFAULT_GRACE_MS;
	if (!o.freeze_deadline_ms)
		o.freeze_deadline_ms = DEFAULT_FREEZE_DEADLINE_MS;
	if (!o.max_rounds)
		o.max_rounds = DEFAULT_ROUNDS;
	if ((o.flags & DG_MF_PRE_REMOVE) && nr)
		return dg_fail(ctx, -EINVAL, "%s: a removal is of the whole device, not a range",
			       t->devname);
	*report = NULL;
	if (!(o.flags & DG_MF_DRY_RUN)) {
		if (!may_act())
			return dg_fail(
				ctx, -EPERM,
				"%s: %s needs root (CAP_SYS_ADMIN and CAP_KILL): nothing was "
				"done; 'daxguard who' shows who it would hit",
				t->devname,
				(o.flags & DG_MF_PRE_REMOVE) ? "a removal" : "acting on a failure");
		rc = dg_lock_target(t);
		if (rc)
			return rc;
	}
	rep = dg_report_new(t);
	if (!rep) {
		dg_unlock_target(t);
		return -ENOMEM;
	}
	if (o.flags & DG_MF_PRE_REMOVE)
		rc = pre_remove(ctx, rep, &o);
	else
		rc = failure(ctx, rep, ranges, nr, &o);
	dg_unlock_target(t);
	if (rc)
		rep->complete = false;
	else
		dg_clear_error(ctx);
	*report = rep;
	return rc;
}
