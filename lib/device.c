// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The device list: every DAX-capable device, whatever its kind.  nd
 * namespaces come from libndctl, so that their names, modes, sizes and
 * UUIDs are the ones `ndctl list` prints; device-dax devices from the dax
 * bus (nd devdax namespaces, and the ones CXL and soft-reserved memory
 * make); loop devices from /sys/block when asked.  `daxguard list` shows
 * it, and it is the set of devices `daxguard watch` watches.
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

#include <ndctl/libndctl.h>
#include <uuid/uuid.h>

#include "private.h"

struct dg_device {
	struct dg_device *next;
	struct dg_device_list *list;
	enum dg_device_kind kind;
	char *devname;
	dev_t devnum;
	bool chr;
	uint64_t size;
	char *mode, *ns, *region, *uuid, *region_uuid, *backing_file;
	char *syspath, *identity;
	char **serials;
	size_t nr_serials;
	uint64_t phys_start, phys_size;
	bool dax;
	/* sysfs badblocks attributes: the device's and its nd region's */
	char *bb_path, *region_bb_path;
	/* nd devdax: the nd dax device the char device sits on ("dax0.0") */
	char *nd_dax;
	struct dg_cxl_region *cxl; /* the CXL region its physical range is on */
	bool gone; /* not there at the last refresh */
	bool added; /* by dg_device_list_add(): kept across refreshes */
};

struct dg_device_list {
	struct dg_ctx *ctx;
	unsigned int flags;
	struct dg_device *devices, **tail;
};

static void device_free(struct dg_device *d)
{
	size_t i;

	free(d->devname);
	free(d->mode);
	free(d->ns);
	free(d->region);
	free(d->uuid);
	free(d->region_uuid);
	free(d->backing_file);
	free(d->syspath);
	free(d->identity);
	for (i = 0; i < d->nr_serials; i++)
		free(d->serials[i]);
	free(d->serials);
	free(d->bb_path);
	free(d->region_bb_path);
	free(d->nd_dax);
	dg_cxl_region_free(d->cxl);
	free(d);
}

DG_EXPORT void dg_device_list_free(struct dg_device_list *list)
{
	struct dg_device *d, *next;

	if (!list)
		return;
	for (d = list->devices; d; d = next) {
		next = d->next;
		device_free(d);
	}
	dg_unref(list->ctx);
	free(list);
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int parse_devnum(const char *s, dev_t *dev)
{
	unsigned int maj, min;
	char tail;

	if (sscanf(s, "%u:%u%c", &maj, &min, &tail) != 2)
		return -EINVAL;
	*dev = makedev(maj, min);
	return 0;
}

/*
 * What every kind shares, from the device's sysfs directory: its name,
 * size (unless known), DAX capability, physical range, badblocks list,
 * backing file, and the identity when nothing better is known.
 */
static int fill_from_sysfs(struct dg_device *d)
{
	char path[64], buf[PATH_MAX], *real;
	uint64_t v;
	int dir;

	snprintf(path, sizeof(path), "/sys/dev/%s/%u:%u", d->chr ? "char" : "block",
		 major(d->devnum), minor(d->devnum));
	dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return -errno;
	real = realpath(path, NULL);
	d->syspath = real;
	if (!d->devname) {
		char *p;

		if (dg_read_text(dir, "uevent", buf, sizeof(buf)) < 0 ||
		    !(p = strstr(buf, "DEVNAME="))) {
			close(dir);
			return -ENOENT;
		}
		p += strlen("DEVNAME=");
		p[strcspn(p, "\n")] = '\0';
		if (asprintf(&d->devname, "/dev/%s", p) < 0) {
			d->devname = NULL;
			close(dir);
			return -ENOMEM;
		}
	}
	if (d->chr) {
		/* device-dax: size and resource are the device's own */
		if (!d->size && dg_read_u64(dir, "size", &v) == 0)
			d->size = v;
		if (dg_read_text(dir, "resource", buf, sizeof(buf)) > 0 &&
		    sscanf(buf, "%" SCNx64, &d->phys_start) == 1 && d->phys_start)
			d->phys_size = d->size;
		d->dax = true;
	} else {
		uint64_t sectors;

		if (dg_read_u64(dir, "size", &sectors) == 0 && !d->size)
			d->size = sectors << 9;
		d->dax = dg_read_u64(dir, "queue/dax", &v) == 0 && v == 1;
		dg_sysfs_phys_range(dir, false, sectors << 9, &d->phys_start, &d->phys_size);
		if (faccessat(dir, "badblocks", R_OK, 0) == 0 &&
		    asprintf(&d->bb_path, "%s/badblocks", path) < 0)
			d->bb_path = NULL;
		if (dg_read_text(dir, "loop/backing_file", buf, sizeof(buf)) > 0) {
			d->backing_file = strdup(buf);
			if (d->kind == DG_DEVICE_BLOCK)
				d->kind = DG_DEVICE_LOOP;
		}
	}
	close(dir);
	/* its context is the list's, set when the device joins it */
	if (d->phys_size && !d->cxl && dg_cxl_region_find(NULL, "/sys", d->phys_start, &d->cxl))
		d->cxl = NULL;
	if (d->cxl && !d->region_uuid && d->cxl->uuid[0])
		d->region_uuid = strdup(d->cxl->uuid);
	if (!d->identity) {
		int rc;

		if (d->uuid)
			rc = asprintf(&d->identity, "uuid:%s", d->uuid);
		else if (d->backing_file)
			rc = asprintf(&d->identity, "loop:%s", d->backing_file);
		else if (d->region && d->ns)
			rc = asprintf(&d->identity, "nd:%s/%s", d->region, d->ns);
		else
			rc = asprintf(&d->identity, "dev:%s", d->devname + 5);
		if (rc < 0) {
			d->identity = NULL;
			return -ENOMEM;
		}
	}
	return d->syspath && d->devname ? 0 : -ENOMEM;
}

static void list_append(struct dg_device_list *list, struct dg_device *d)
{
	d->list = list;
	if (d->cxl)
		d->cxl->ctx = list->ctx;
	*list->tail = d;
	list->tail = &d->next;
}

static const char *mode_name(enum ndctl_namespace_mode mode)
{
	switch (mode) {
	case NDCTL_NS_MODE_FSDAX:
		return "fsdax";
	case NDCTL_NS_MODE_SECTOR:
		return "sector";
	case NDCTL_NS_MODE_RAW:
		return "raw";
	case NDCTL_NS_MODE_DEVDAX:
		return "devdax";
	default:
		return NULL;
	}
}

static char *uuid_str(const uuid_t uu)
{
	char buf[40];

	if (uuid_is_null(uu))
		return NULL;
	uuid_unparse(uu, buf);
	return strdup(buf);
}

/* What a namespace tells about itself, for whichever device is on it. */
static int fill_namespace(struct dg_device *d, struct ndctl_namespace *ndns)
{
	struct ndctl_region *region = ndctl_namespace_get_region(ndns);
	enum ndctl_namespace_mode mode = ndctl_namespace_get_mode(ndns);
	struct ndctl_pfn *pfn = ndctl_namespace_get_pfn(ndns);
	struct ndctl_dax *dax = ndctl_namespace_get_dax(ndns);
	struct ndctl_btt *btt = ndctl_namespace_get_btt(ndns);
	struct ndctl_dimm *dimm;
	uuid_t uu;

	/* as ndctl list: the size and UUID of what claims the namespace */
	uuid_clear(uu);
	if (mode == NDCTL_NS_MODE_FSDAX && pfn) {
		d->size = ndctl_pfn_get_size(pfn);
		ndctl_pfn_get_uuid(pfn, uu);
	} else if (mode == NDCTL_NS_MODE_DEVDAX && dax) {
		d->size = ndctl_dax_get_size(dax);
		ndctl_dax_get_uuid(dax, uu);
	} else if (mode == NDCTL_NS_MODE_SECTOR && btt) {
		d->size = ndctl_btt_get_size(btt);
		ndctl_btt_get_uuid(btt, uu);
	} else {
		d->size = ndctl_namespace_get_size(ndns);
		ndctl_namespace_get_uuid(ndns, uu);
	}
	d->uuid = uuid_str(uu);
	d->mode = xstrdup(mode_name(mode));
	d->ns = xstrdup(ndctl_namespace_get_devname(ndns));
	d->region = xstrdup(ndctl_region_get_devname(region));
	if (!d->ns || !d->region)
		return -ENOMEM;
	if (asprintf(&d->region_bb_path, "/sys/bus/nd/devices/%s/badblocks", d->region) < 0)
		d->region_bb_path = NULL;
	else if (access(d->region_bb_path, R_OK)) {
		free(d->region_bb_path);
		d->region_bb_path = NULL;
	}
	ndctl_dimm_foreach_in_region(region, dimm)
	{
		const char *id = ndctl_dimm_get_unique_id(dimm);
		char buf[32], **s;

		if (!id) {
			snprintf(buf, sizeof(buf), "0x%08x", ndctl_dimm_get_serial(dimm));
			id = buf;
		}
		s = reallocarray(d->serials, d->nr_serials + 1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		d->serials = s;
		s[d->nr_serials] = strdup(id);
		if (!s[d->nr_serials])
			return -ENOMEM;
		d->nr_serials++;
	}
	return 0;
}

/* A namespace's block device (fsdax, raw, sector), by its kernel name. */
static int add_pmem(struct dg_device_list *list, struct ndctl_namespace *ndns, const char *name)
{
	struct dg_device *d = calloc(1, sizeof(*d));
	char path[NAME_MAX + 32], buf[64];
	int rc;

	if (!d)
		return -ENOMEM;
	d->kind = DG_DEVICE_PMEM;
	snprintf(path, sizeof(path), "/sys/class/block/%s", name);
	rc = dg_read_text(AT_FDCWD, strcat(path, "/dev"), buf, sizeof(buf));
	if (rc < 0 || parse_devnum(buf, &d->devnum)) {
		/* gone meanwhile: not an error of the list */
		device_free(d);
		return 0;
	}
	rc = fill_namespace(d, ndns);
	if (!rc)
		rc = fill_from_sysfs(d);
	if (rc) {
		device_free(d);
		return rc == -ENOENT ? 0 : rc;
	}
	list_append(list, d);
	return 0;
}

/* nd devdax namespaces: their dax devices, to be found on the dax bus */
struct nd_dax {
	char *name; /* the nd dax device: "dax0.0" */
	struct ndctl_namespace *ndns;
};

static int scan_nd(struct dg_device_list *list, struct ndctl_ctx *nctx, struct nd_dax **daxes,
		   size_t *nr_dax)
{
	struct ndctl_bus *bus;
	int rc = 0;

	ndctl_bus_foreach(nctx, bus)
	{
		struct ndctl_region *region;

		ndctl_region_foreach(bus, region)
		{
			struct ndctl_namespace *ndns;

			ndctl_namespace_foreach(region, ndns)
			{
				enum ndctl_namespace_mode mode = ndctl_namespace_get_mode(ndns);
				struct ndctl_pfn *pfn = ndctl_namespace_get_pfn(ndns);
				struct ndctl_btt *btt = ndctl_namespace_get_btt(ndns);
				struct ndctl_dax *dax = ndctl_namespace_get_dax(ndns);
				const char *blk = NULL;

				if (!ndctl_namespace_is_active(ndns))
					continue;
				if (mode == NDCTL_NS_MODE_DEVDAX && dax) {
					struct nd_dax *n;

					n = reallocarray(*daxes, *nr_dax + 1, sizeof(*n));
					if (!n)
						return -ENOMEM;
					*daxes = n;
					n[*nr_dax].name = strdup(ndctl_dax_get_devname(dax));
					n[*nr_dax].ndns = ndns;
					if (!n[*nr_dax].name)
						return -ENOMEM;
					(*nr_dax)++;
					continue;
				}
				if (mode == NDCTL_NS_MODE_FSDAX && pfn)
					blk = ndctl_pfn_get_block_device(pfn);
				else if (mode == NDCTL_NS_MODE_SECTOR && btt)
					blk = ndctl_btt_get_block_device(btt);
				else
					blk = ndctl_namespace_get_block_device(ndns);
				if (!blk || !*blk)
					continue;
				rc = add_pmem(list, ndns, blk);
				if (rc)
					return rc;
			}
		}
	}
	return rc;
}

/* Every device-dax device on the dax bus; nd ones get their namespace's facts. */
static int scan_dax(struct dg_device_list *list, struct nd_dax *daxes, size_t nr_dax)
{
	DIR *dir = opendir("/sys/bus/dax/devices");
	struct dirent *de;
	int rc = 0;

	if (!dir)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dir))) {
		char path[NAME_MAX + 64], buf[64], *real, *parent;
		struct dg_device *d;
		size_t i;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/dax/devices/%s/dev", de->d_name);
		if (dg_read_text(AT_FDCWD, path, buf, sizeof(buf)) < 0)
			continue; /* a dax device without a char device (kmem) */
		d = calloc(1, sizeof(*d));
		if (!d) {
			rc = -ENOMEM;
			break;
		}
		d->kind = DG_DEVICE_DAX;
		d->chr = true;
		if (parse_devnum(buf, &d->devnum)) {
			device_free(d);
			continue;
		}
		path[strlen(path) - 4] = '\0';
		real = realpath(path, NULL);
		parent = real ? strrchr(real, '/') : NULL;
		if (parent) {
			*parent = '\0';
			parent = strrchr(real, '/');
		}
		for (i = 0; parent && i < nr_dax; i++)
			if (!strcmp(parent + 1, daxes[i].name))
				break;
		if (parent && i < nr_dax)
			rc = fill_namespace(d, daxes[i].ndns);
		else
			d->mode = strdup("devdax");
		free(real);
		if (!rc)
			rc = fill_from_sysfs(d);
		if (rc) {
			device_free(d);
			if (rc == -ENOENT) {
				rc = 0;
				continue;
			}
			break;
		}
		list_append(list, d);
	}
	closedir(dir);
	return rc;
}

static int scan_loops(struct dg_device_list *list)
{
	DIR *dir = opendir("/sys/block");
	struct dirent *de;
	int rc = 0;

	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		char path[NAME_MAX + 64], buf[64];
		struct dg_device *d;

		if (strncmp(de->d_name, "loop", 4))
			continue;
		/* attached only: a loop device without a file is nothing */
		snprintf(path, sizeof(path), "/sys/block/%s/loop/backing_file", de->d_name);
		if (access(path, F_OK))
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/dev", de->d_name);
		d = calloc(1, sizeof(*d));
		if (!d) {
			rc = -ENOMEM;
			break;
		}
		d->kind = DG_DEVICE_LOOP;
		if (dg_read_text(AT_FDCWD, path, buf, sizeof(buf)) < 0 ||
		    parse_devnum(buf, &d->devnum) || (rc = fill_from_sysfs(d))) {
			device_free(d);
			if (rc && rc != -ENOENT)
				break;
			rc = 0;
			continue;
		}
		list_append(list, d);
	}
	closedir(dir);
	return rc;
}

static int cmp_dev(const void *a, const void *b)
{
	const struct dg_device *x = *(struct dg_device *const *)a;
	const struct dg_device *y = *(struct dg_device *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strverscmp(x->devname, y->devname);
}

/* pmem0 before pmem1 before pmem10, whatever order sysfs gave */
static int sort_list(struct dg_device_list *list)
{
	struct dg_device *d, **v;
	size_t n = 0, i;

	dg_device_foreach(list, d) n++;
	if (n < 2)
		return 0;
	v = calloc(n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	n = 0;
	dg_device_foreach(list, d) v[n++] = d;
	qsort(v, n, sizeof(*v), cmp_dev);
	list->devices = NULL;
	list->tail = &list->devices;
	for (i = 0; i < n; i++) {
		v[i]->next = NULL;
		list_append(list, v[i]);
	}
	free(v);
	return 0;
}

DG_EXPORT int dg_device_list_new(struct dg_ctx *ctx, unsigned int flags,
				 struct dg_device_list **out)
{
	struct dg_device_list *list = calloc(1, sizeof(*list));
	struct ndctl_ctx *nctx = NULL;
	struct nd_dax *daxes = NULL;
	size_t nr_dax = 0, i;
	int rc = 0;

	if (!list)
		return -ENOMEM;
	dg_clear_error(ctx);
	list->ctx = dg_ref(ctx);
	list->flags = flags;
	list->tail = &list->devices;
	/* no nd bus at all is a machine without pmem: an empty list */
	if (ndctl_new(&nctx) == 0) {
		ndctl_set_log_priority(nctx, 0);
		rc = scan_nd(list, nctx, &daxes, &nr_dax);
	}
	if (!rc)
		rc = scan_dax(list, daxes, nr_dax);
	if (!rc && (flags & DG_DEVICES_ALL))
		rc = scan_loops(list);
	if (!rc)
		rc = sort_list(list);
	for (i = 0; i < nr_dax; i++)
		free(daxes[i].name);
	free(daxes);
	if (nctx)
		ndctl_unref(nctx);
	if (rc) {
		dg_device_list_free(list);
		return dg_fail(ctx, rc, "cannot list the DAX devices: %s", strerror(-rc));
	}
	*out = list;
	return 0;
}

/* the facts of @from move into @to, which keeps its place in the list */
static void device_take(struct dg_device *to, struct dg_device *from)
{
	struct dg_device *next = to->next;
	struct dg_device_list *list = to->list;
	bool added = to->added;
	struct dg_device tmp = *to;

	*to = *from;
	to->next = next;
	to->list = list;
	to->added = added;
	to->gone = false;
	*from = tmp;
	from->next = NULL;
}

/* a device added by name is still there: the same number, the same identity */
static bool added_still_there(struct dg_device *d)
{
	struct dg_device *probe = calloc(1, sizeof(*probe));
	bool same;

	if (!probe)
		return true;
	probe->kind = DG_DEVICE_BLOCK;
	probe->devnum = d->devnum;
	same = fill_from_sysfs(probe) == 0 && !strcmp(probe->identity, d->identity);
	device_free(probe);
	return same;
}

DG_EXPORT int dg_device_list_refresh(struct dg_device_list *list)
{
	struct dg_device_list *fresh = NULL;
	struct dg_device *d, *n, *next;
	int rc;

	rc = dg_device_list_new(list->ctx, list->flags, &fresh);
	if (rc)
		return rc;
	dg_device_foreach(list, d) d->gone = true;
	for (n = fresh->devices; n; n = next) {
		next = n->next;
		dg_device_foreach(list, d) if (d->gone && d->devnum == n->devnum &&
					       d->chr == n->chr &&
					       !strcmp(d->identity, n->identity)) break;
		if (d) {
			device_take(d, n);
			device_free(n);
		} else {
			n->next = NULL;
			list_append(list, n);
		}
	}
	fresh->devices = NULL;
	dg_device_list_free(fresh);
	dg_device_foreach(list, d) if (d->gone && d->added && added_still_there(d)) d->gone = false;
	return 0;
}

DG_EXPORT bool dg_device_is_present(struct dg_device *d)
{
	return !d->gone;
}

DG_EXPORT struct dg_ctx *dg_device_list_get_ctx(struct dg_device_list *list)
{
	return list->ctx;
}

DG_EXPORT struct dg_device *dg_device_list_find(struct dg_device_list *list, dev_t devnum, bool chr)
{
	struct dg_device *d;

	dg_device_foreach(list, d) if (d->devnum == devnum && d->chr == chr) return d;
	return NULL;
}

DG_EXPORT int dg_device_list_add(struct dg_device_list *list, const char *spec,
				 struct dg_device **out)
{
	struct dg_ctx *ctx = list->ctx;
	struct dg_device *d;
	struct stat st;
	dev_t dev;
	int rc;

	if (spec[0] != '/' && parse_devnum(spec, &dev) == 0) {
		st.st_mode = S_IFBLK;
		st.st_rdev = dev;
	} else if (stat(spec, &st) < 0) {
		return dg_fail(ctx, -errno, "%s: %s", spec, strerror(errno));
	}
	if (!S_ISBLK(st.st_mode))
		return dg_fail(ctx, -ENOTBLK, "%s: not a block device", spec);
	d = dg_device_list_find(list, st.st_rdev, false);
	if (d) {
		*out = d;
		return 0;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->kind = DG_DEVICE_BLOCK;
	d->devnum = st.st_rdev;
	d->added = true;
	rc = fill_from_sysfs(d);
	if (rc) {
		device_free(d);
		return dg_fail(ctx, rc == -ENOENT ? -ENODEV : rc,
			       "%s: no such block device in sysfs", spec);
	}
	list_append(list, d);
	*out = d;
	return 0;
}

DG_EXPORT int dg_device_list_find_phys(struct dg_device_list *list, uint64_t phys,
				       struct dg_device **out, uint64_t *offset)
{
	struct dg_device *d;

	dg_device_foreach(list, d) if (d->phys_size && phys >= d->phys_start &&
				       phys - d->phys_start < d->phys_size)
	{
		*out = d;
		return dg_phys_to_offset(list->ctx, d->devname, d->phys_start, d->phys_size, phys,
					 offset);
	}
	return dg_fail(list->ctx, -ENXIO, "physical address %#" PRIx64 " is on no listed device",
		       phys);
}

DG_EXPORT struct dg_device *dg_device_get_first(struct dg_device_list *list)
{
	return list->devices;
}

DG_EXPORT struct dg_device *dg_device_get_next(struct dg_device *d)
{
	return d->next;
}

DG_EXPORT enum dg_device_kind dg_device_get_kind(struct dg_device *d)
{
	return d->kind;
}

DG_EXPORT const char *dg_device_kind_name(enum dg_device_kind kind)
{
	switch (kind) {
	case DG_DEVICE_PMEM:
		return "pmem";
	case DG_DEVICE_DAX:
		return "devdax";
	case DG_DEVICE_LOOP:
		return "loop";
	case DG_DEVICE_BLOCK:
		return "block";
	}
	return "?";
}

DG_EXPORT const char *dg_device_get_devname(struct dg_device *d)
{
	return d->devname;
}

DG_EXPORT dev_t dg_device_get_devnum(struct dg_device *d)
{
	return d->devnum;
}

DG_EXPORT uint64_t dg_device_get_size(struct dg_device *d)
{
	return d->size;
}

DG_EXPORT const char *dg_device_get_mode(struct dg_device *d)
{
	return d->mode;
}

DG_EXPORT const char *dg_device_get_namespace(struct dg_device *d)
{
	return d->ns;
}

DG_EXPORT const char *dg_device_get_region(struct dg_device *d)
{
	return d->region;
}

DG_EXPORT const char *dg_device_get_uuid(struct dg_device *d)
{
	return d->uuid;
}

DG_EXPORT const char *dg_device_get_region_uuid(struct dg_device *d)
{
	/* nd regions have none; a CXL region's comes with the CXL topology */
	return d->region_uuid;
}

DG_EXPORT struct dg_cxl_region *dg_device_get_cxl_region(struct dg_device *d)
{
	return d->cxl;
}

DG_EXPORT size_t dg_device_get_nr_serials(struct dg_device *d)
{
	return d->nr_serials;
}

DG_EXPORT const char *dg_device_get_serial(struct dg_device *d, size_t idx)
{
	return idx < d->nr_serials ? d->serials[idx] : NULL;
}

DG_EXPORT const char *dg_device_get_backing_file(struct dg_device *d)
{
	return d->backing_file;
}

DG_EXPORT bool dg_device_is_dax(struct dg_device *d)
{
	return d->dax;
}

DG_EXPORT int dg_device_get_phys_range(struct dg_device *d, uint64_t *start, uint64_t *size)
{
	if (!d->phys_size)
		return -ENXIO;
	*start = d->phys_start;
	*size = d->phys_size;
	return 0;
}

DG_EXPORT const char *dg_device_get_syspath(struct dg_device *d)
{
	return d->syspath;
}

DG_EXPORT const char *dg_device_get_identity(struct dg_device *d)
{
	return d->identity;
}

const char *dg_device_bb_path(struct dg_device *d)
{
	return d->bb_path;
}

const char *dg_device_region_bb_path(struct dg_device *d)
{
	return d->region_bb_path;
}

struct dg_ctx *dg_device_ctx(struct dg_device *d)
{
	return d->list->ctx;
}

DG_EXPORT int dg_device_get_badblocks(struct dg_device *d, struct dg_range **ranges, size_t *nr)
{
	struct dg_ctx *ctx = d->list->ctx;
	size_t lineno;
	int fd, rc;

	if (!d->bb_path)
		return dg_fail(ctx, -ENOENT, "%s: keeps no badblocks list", d->devname);
	fd = open(d->bb_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return dg_fail(ctx, -errno, "%s: %s", d->bb_path, strerror(errno));
	rc = dg_read_badblocks(fd, ranges, nr, &lineno);
	close(fd);
	if (rc && lineno)
		return dg_fail(ctx, rc, "%s:%zu: not a 'SECTOR COUNT' badblocks entry", d->bb_path,
			       lineno);
	if (rc)
		return dg_fail(ctx, rc, "%s: %s", d->bb_path, strerror(-rc));
	return 0;
}

bool dg_path_is_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return path && !strncmp(path, dir, n) && path[n] == '/';
}

DG_EXPORT bool dg_device_is_below(struct dg_device *d, const char *syspath)
{
	/*
	 * The device's own sysfs path holds every bus it hangs off.  A CXL
	 * pmem region does not hang off its memdevs (the nd region sits
	 * under the ACPI0017 root): it goes with any of their PCI devices.
	 */
	return dg_path_is_below(d->syspath, syspath) ||
	       (d->cxl && dg_cxl_region_below(d->cxl, syspath));
}
