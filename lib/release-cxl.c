// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The CXL end of a pre-remove.  Once the filesystems are unmounted and the
 * namespace disabled, the region goes (`cxl disable-region`), and with
 * DG_MF_RELEASE_MEMDEV the region is destroyed and each memdev disabled
 * (`cxl destroy-region`, `cxl disable-memdev`), ready for a hot-unplug.
 *
 * The kernel lets all of these happen under a mounted, mapped filesystem
 * (FACTS.md section 2: SIGBUS, shutdown, an Oops at the later umount), so
 * the checks come first, before anybody is signalled: a region that is
 * not enabled and committed, another namespace of the region still
 * active, or a memdev that also serves another region, stops the flow
 * with nothing changed.  Other namespaces are taken in when the caller
 * asks (DG_MF_WHOLE_REGION); notify.c runs their pre-remove.
 *
 * The actions go through libcxl, as ndctl's cxl tool does them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cxl/libcxl.h>
#include <ndctl/libndctl.h>

#include "private.h"

/* the nd region ("region0") a pmem block device or nd dax device is in */
int dg_nd_region_of(struct dg_target *t, char *name, size_t size)
{
	char path[128], real[PATH_MAX], *p, *save = NULL;
	bool bus = false;

	snprintf(path, sizeof(path), "/sys/dev/%s/%u:%u",
		 t->kind == DG_TARGET_DAX ? "char" : "block", major(t->devnum), minor(t->devnum));
	if (!realpath(path, real))
		return -ENODEV;
	for (p = strtok_r(real, "/", &save); p; p = strtok_r(NULL, "/", &save)) {
		if (!strncmp(p, "ndbus", 5))
			bus = true;
		else if (bus && !strncmp(p, "region", 6)) {
			if (strlen(p) >= size)
				return -ENAMETOOLONG;
			memcpy(name, p, strlen(p) + 1);
			return 0;
		}
	}
	return -ENODEV;
}

static struct ndctl_region *find_nd_region(struct ndctl_ctx *nctx, const char *name)
{
	struct ndctl_bus *bus;
	struct ndctl_region *region;

	ndctl_bus_foreach(nctx, bus) ndctl_region_foreach(
		bus, region) if (!strcmp(ndctl_region_get_devname(region), name)) return region;
	return NULL;
}

/* the device an active namespace gives: "pmem1", "dax0.1", or NULL */
static const char *ns_device(struct ndctl_namespace *ndns)
{
	struct ndctl_pfn *pfn = ndctl_namespace_get_pfn(ndns);
	struct ndctl_btt *btt = ndctl_namespace_get_btt(ndns);
	struct ndctl_dax *dax = ndctl_namespace_get_dax(ndns);

	if (pfn && ndctl_pfn_is_enabled(pfn))
		return ndctl_pfn_get_block_device(pfn);
	if (btt && ndctl_btt_is_enabled(btt))
		return ndctl_btt_get_block_device(btt);
	if (dax && ndctl_dax_is_enabled(dax))
		return ndctl_dax_get_devname(dax);
	return ndctl_namespace_get_block_device(ndns);
}

static bool is_target(struct dg_target *t, const char *dev)
{
	return dev && *dev && !strcmp(t->devname + 5, dev);
}

static int add_peer(char ***peers, size_t *nr, const char *dev)
{
	char **p = reallocarray(*peers, *nr + 1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	*peers = p;
	if (asprintf(&p[*nr], "/dev/%s", dev) < 0)
		return -ENOMEM;
	(*nr)++;
	return 0;
}

/* the other regions @memdev's endpoint decoders serve, as "region1, ..." */
static void other_regions(const struct dg_cxl_region *r, const char *memdev, char *buf, size_t size)
{
	char path[PATH_MAX], up[64], link[PATH_MAX], *b;
	struct dirent *de;
	size_t len = 0;
	DIR *dir;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/bus/cxl/devices", r->sysroot);
	dir = opendir(path);
	while (dir && (de = readdir(dir))) {
		ssize_t n;

		if (strncmp(de->d_name, "endpoint", 8))
			continue;
		snprintf(path, sizeof(path), "%s/bus/cxl/devices/%s/uport", r->sysroot, de->d_name);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		b = strrchr(link, '/');
		snprintf(up, sizeof(up), "%.63s", b ? b + 1 : link);
		if (strcmp(up, memdev))
			continue;
		snprintf(path, sizeof(path), "%s/bus/cxl/devices/%s", r->sysroot, de->d_name);
		{
			DIR *ep = opendir(path);
			struct dirent *d;

			while (ep && (d = readdir(ep))) {
				char rp[PATH_MAX + 300], region[64] = "";

				if (strncmp(d->d_name, "decoder", 7))
					continue;
				snprintf(rp, sizeof(rp), "%s/%s/region", path, d->d_name);
				if (dg_read_text(AT_FDCWD, rp, region, sizeof(region)) <= 0 ||
				    !region[0] || !strcmp(region, r->name))
					continue;
				len += (size_t)snprintf(buf + len, len < size ? size - len : 0,
							"%s%s", len ? ", " : "", region);
			}
			if (ep)
				closedir(ep);
		}
	}
	if (dir)
		closedir(dir);
}

int dg_cxl_release_check(struct dg_ctx *ctx, struct dg_target *t, unsigned int flags, char ***peers,
			 size_t *nr)
{
	const struct dg_cxl_region *r = t->cxl;
	struct ndctl_ctx *nctx = NULL;
	struct ndctl_region *ndr;
	struct ndctl_namespace *ndns;
	char ndname[64], others[512] = "";
	size_t i, len = 0;
	int rc = 0;

	*peers = NULL;
	*nr = 0;
	if (!r) {
		if (flags & DG_MF_RELEASE_MEMDEV)
			return dg_fail(
				ctx, -EINVAL,
				"%s: not on a CXL region: --release memdev has no memdev to release",
				t->devname);
		return 0;
	}
	if (flags & (DG_MF_NO_RELEASE | DG_MF_RELEASE_NAMESPACE))
		return 0;
	if (!r->committed || !r->enabled)
		return dg_fail(ctx, -EBUSY,
			       "%s: its CXL region %s is %s (%s): refusing to release it; "
			       "--release namespace leaves the region alone",
			       t->devname, r->name, dg_cxl_region_state(r),
			       r->committed ?
				       "its driver is not bound" :
				       "its decoders are being reset, or were never committed");
	if (flags & DG_MF_RELEASE_MEMDEV) {
		for (i = 0; i < r->nr_targets; i++) {
			char buf[256];

			other_regions(r, r->targets[i].memdev, buf, sizeof(buf));
			if (buf[0])
				return dg_fail(ctx, -EBUSY,
					       "%s: %s also serves %s: --release memdev would take "
					       "that down too; release it first",
					       t->devname, r->targets[i].memdev, buf);
		}
	}
	/* the other namespaces of the region go with it */
	if (dg_nd_region_of(t, ndname, sizeof(ndname)))
		return 0; /* device-dax of a ram region: no namespaces */
	if (ndctl_new(&nctx))
		return -ENOMEM;
	ndctl_set_log_priority(nctx, 0);
	ndr = find_nd_region(nctx, ndname);
	if (ndr)
		ndctl_namespace_foreach(ndr, ndns)
		{
			const char *dev;

			if (!ndctl_namespace_is_active(ndns))
				continue;
			dev = ns_device(ndns);
			if (!dev || !*dev || is_target(t, dev))
				continue;
			rc = add_peer(peers, nr, dev);
			if (rc)
				goto out;
			len += (size_t)snprintf(others + len,
						len < sizeof(others) ? sizeof(others) - len : 0,
						"%s/dev/%s (%s)", len ? ", " : "", dev,
						ndctl_namespace_get_devname(ndns));
		}
	if (*nr && !(flags & DG_MF_WHOLE_REGION))
		rc = dg_fail(ctx, -EBUSY,
			     "%s: %s also holds %s, which releasing the region would take down: "
			     "--whole-region takes them in, --release namespace leaves the region",
			     t->devname, r->name, others);
out:
	ndctl_unref(nctx);
	if (rc) {
		for (i = 0; i < *nr; i++)
			free((*peers)[i]);
		free(*peers);
		*peers = NULL;
		*nr = 0;
	}
	return rc;
}

/*
 * Disable every active namespace left in the nd region @ndname (the
 * target's own is gone by now, and with it its sysfs path to the region)
 */
static int disable_peers(struct dg_ctx *ctx, struct dg_report *rep, struct dg_target *t,
			 const char *ndname, bool dry_run)
{
	struct ndctl_ctx *nctx;
	struct ndctl_region *ndr;
	struct ndctl_namespace *ndns;
	int rc = 0;

	if (!ndname || !*ndname)
		return 0;
	if (ndctl_new(&nctx))
		return -ENOMEM;
	ndctl_set_log_priority(nctx, 0);
	ndr = find_nd_region(nctx, ndname);
	if (ndr)
		ndctl_namespace_foreach(ndr, ndns)
		{
			const char *nsname = ndctl_namespace_get_devname(ndns);
			struct dg_step *s;

			if (!ndctl_namespace_is_active(ndns))
				continue;
			s = dg_step_begin(rep, "release", nsname);
			if (dry_run) {
				dg_step_end(rep, s, 0, "would disable namespace %s (/dev/%s)",
					    nsname, ns_device(ndns) ?: "?");
				continue;
			}
			/* refuses a namespace whose device is still held */
			rc = ndctl_namespace_disable_safe(ndns);
			dg_step_end(rep, s, rc,
				    rc ? "cannot disable it: %s" : "namespace %s disabled",
				    rc ? strerror(-rc) : nsname);
			if (rc) {
				rc = dg_fail(ctx, rc, "%s: namespace %s of %s: %s", t->devname,
					     nsname, ndname, strerror(-rc));
				break;
			}
		}
	ndctl_unref(nctx);
	return rc;
}

static struct cxl_region *find_region(struct cxl_ctx *cctx, const struct dg_cxl_region *r)
{
	struct cxl_decoder *root = cxl_decoder_get_by_name(cctx, r->root_decoder);
	struct cxl_region *region;

	if (!root)
		return NULL;
	cxl_region_foreach(
		root, region) if (!strcmp(cxl_region_get_devname(region), r->name)) return region;
	return NULL;
}

static int destroy_region(struct dg_ctx *ctx, struct cxl_region *region, unsigned int ways)
{
	unsigned int i;
	int rc;

	rc = cxl_region_decode_reset(region);
	if (rc)
		return dg_fail(ctx, rc, "%s: cannot reset its decoders: %s",
			       cxl_region_get_devname(region), strerror(-rc));
	for (i = 0; i < ways; i++) {
		struct cxl_decoder *ep = cxl_region_get_target_decoder(region, (int)i);

		if (!ep)
			return dg_fail(ctx, -ENXIO, "%s: no decoder at position %u",
				       cxl_region_get_devname(region), i);
		rc = cxl_region_clear_target(region, (int)i);
		if (!rc)
			rc = cxl_decoder_set_dpa_size(ep, 0);
		if (rc)
			return dg_fail(ctx, rc, "%s: cannot free %s: %s",
				       cxl_region_get_devname(region), cxl_decoder_get_devname(ep),
				       strerror(-rc));
	}
	rc = cxl_region_delete(region);
	if (rc)
		return dg_fail(ctx, rc, "%s: cannot delete it: %s", cxl_region_get_devname(region),
			       strerror(-rc));
	return 0;
}

int dg_cxl_release(struct dg_ctx *ctx, struct dg_report *rep, struct dg_target *t,
		   unsigned int flags, const char *ndregion, bool dry_run)
{
	const struct dg_cxl_region *r = t->cxl;
	bool memdev = flags & DG_MF_RELEASE_MEMDEV;
	struct cxl_ctx *cctx = NULL;
	struct cxl_region *region;
	struct dg_step *s;
	size_t i;
	int rc;

	if (!r || (flags & DG_MF_RELEASE_NAMESPACE))
		return 0;
	rc = disable_peers(ctx, rep, t, ndregion, dry_run);
	if (rc)
		return rc;
	s = dg_step_begin(rep, "release", r->name);
	if (dry_run) {
		dg_step_end(rep, s, 0, "would disable the CXL region%s",
			    memdev ? ", then destroy it" : "");
		for (i = 0; memdev && i < r->nr_targets; i++) {
			s = dg_step_begin(rep, "release", r->targets[i].memdev);
			dg_step_end(rep, s, 0,
				    "would disable the memdev (PCI %s), ready for a hot-unplug",
				    r->targets[i].host);
		}
		return 0;
	}
	rc = cxl_new(&cctx);
	if (rc) {
		dg_step_end(rep, s, rc, "libcxl: %s", strerror(-rc));
		return dg_fail(ctx, rc, "%s: libcxl: %s", r->name, strerror(-rc));
	}
	cxl_set_log_priority(cctx, 0);
	region = find_region(cctx, r);
	if (!region) {
		rc = dg_fail(ctx, -ENODEV, "%s: no such CXL region under %s any more", r->name,
			     r->root_decoder);
		dg_step_end(rep, s, rc, "gone");
		goto out;
	}
	rc = cxl_region_disable(region);
	if (rc) {
		rc = dg_fail(ctx, rc, "%s: cannot disable the CXL region: %s", r->name,
			     strerror(-rc));
		dg_step_end(rep, s, rc, "cannot disable it: %s", strerror(-rc));
		goto out;
	}
	if (!memdev) {
		dg_step_end(rep, s, 0, "CXL region disabled (cxl enable-region %s brings it back)",
			    r->name);
		goto out;
	}
	rc = destroy_region(ctx, region, r->ways);
	dg_step_end(rep, s, rc, rc ? "disabled, but not destroyed: %s" : "CXL region destroyed",
		    rc ? dg_get_error(ctx) : "");
	if (rc)
		goto out;
	for (i = 0; i < r->nr_targets; i++) {
		struct cxl_memdev *md;

		s = dg_step_begin(rep, "release", r->targets[i].memdev);
		cxl_memdev_foreach(cctx, md) if (!strcmp(cxl_memdev_get_devname(md),
							 r->targets[i].memdev)) break;
		rc = md ? cxl_memdev_disable_invalidate(md) : -ENODEV;
		dg_step_end(rep, s, rc,
			    rc ? "cannot disable it: %s" :
				 "memdev disabled: PCI %s is ready for a hot-unplug",
			    rc ? strerror(-rc) : r->targets[i].host);
		if (rc) {
			rc = dg_fail(ctx, rc, "%s: cannot disable the memdev: %s",
				     r->targets[i].memdev, strerror(-rc));
			goto out;
		}
	}
out:
	cxl_unref(cctx);
	return rc;
}
