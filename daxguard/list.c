// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daxguard list: every DAX-capable device, its filesystems and mounts,
 * its bad blocks and what they hit, and how many processes use it.  The
 * watch daemon watches this same list (dg_device_list_new()).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "daxguard.h"
#include "util/util.h"

enum {
	COL_NAME,
	COL_KIND,
	COL_MODE,
	COL_SIZE,
	COL_NAMESPACE,
	COL_REGION,
	COL_UUID,
	COL_PHYS,
	COL_FSTYPE,
	COL_MOUNTPOINT,
	COL_DAX,
	COL_BADBLOCKS,
	COL_BB_FILES,
	COL_BB_META,
	COL_USERS,
	COL_IDENTITY,
	COL_CXL_REGION,
	COL_MEMDEVS,
	COL_INTERLEAVE,
};

static const struct dg_column list_columns[] = {
	[COL_NAME] = { "NAME", 0.12, SCOLS_FL_TREE, "device, or the filesystem device below it" },
	[COL_KIND] = { "KIND", 0.05, 0, "pmem, devdax or loop" },
	[COL_MODE] = { "MODE", 0.05, 0, "namespace mode: fsdax, raw, sector, devdax" },
	[COL_SIZE] = { "SIZE", 0.06, SCOLS_FL_RIGHT, "size (as ndctl list gives it)" },
	[COL_NAMESPACE] = { "NAMESPACE", 0.08, 0, "nd namespace" },
	[COL_REGION] = { "REGION", 0.06, 0, "nd region" },
	[COL_UUID] = { "UUID", 0.2, 0, "the UUID ndctl list shows" },
	[COL_PHYS] = { "PHYS", 0.15, 0, "physical address range" },
	[COL_FSTYPE] = { "FSTYPE", 0.05, 0, "filesystem type" },
	[COL_MOUNTPOINT] = { "MOUNTPOINT", 0.2, 0, "where it is mounted" },
	[COL_DAX] = { "DAX", 0.05, 0,
		      "DAX on the device (yes/no), or on a mount: always, inode, never" },
	[COL_BADBLOCKS] = { "BADBLOCKS", 0.05, SCOLS_FL_RIGHT, "bad 512-byte blocks listed" },
	[COL_BB_FILES] = { "BB-FILES", 0.05, SCOLS_FL_RIGHT, "of those, how many hit file data" },
	[COL_BB_META] = { "BB-META", 0.05, SCOLS_FL_RIGHT, "of those, how many hit metadata" },
	[COL_USERS] = { "USERS", 0.04, SCOLS_FL_RIGHT, "processes that use the device" },
	[COL_IDENTITY] = { "IDENTITY", 0.2, 0, "what daxguard watch keeps state by" },
	[COL_CXL_REGION] = { "CXL-REGION", 0.06, 0, "the CXL region it lies on" },
	[COL_MEMDEVS] = { "MEMDEVS", 0.1, 0, "the region's CXL memdevs, in interleave order" },
	[COL_INTERLEAVE] = { "INTERLEAVE", 0.06, 0,
			     "the region's interleave: ways x granularity (bytes)" },
};

static const char *const default_columns =
	"NAME,KIND,MODE,SIZE,NAMESPACE,FSTYPE,MOUNTPOINT,DAX,BADBLOCKS,BB-FILES,BB-META,USERS";

static void usage(void)
{
	struct dg_columns cols = { .all = list_columns, .nr_all = ARRAY_SIZE(list_columns) };

	fputs("Usage:\n"
	      " daxguard list [options]\n"
	      "\n"
	      "List every DAX-capable device (pmem namespaces in fsdax, raw or\n"
	      "sector mode, device-dax), its filesystems and mounts and whether DAX\n"
	      "is in effect on each, its bad blocks and how many of them hit files\n"
	      "or metadata, and how many processes use it.  Changes nothing.\n"
	      "\n"
	      "Options:\n"
	      " -a, --all             loop devices too\n"
	      "     --no-users        do not count the processes (no /proc scan)\n"
	      " -J, --json            use JSON output format\n"
	      " -o, --output <list>   output columns (see --list-columns)\n"
	      "     --output-all      output all columns\n"
	      " -H, --list-columns    list the available columns\n"
	      " -n, --noheadings      do not print headings\n"
	      " -r, --raw             use the raw output format\n"
	      " -b, --bytes           print sizes in bytes\n"
	      " -h, --help            display this help\n"
	      "\n"
	      "Available output columns:\n",
	      stdout);
	dg_columns_print_help(&cols, stdout);
	fputs("\nFor more details see daxguard-list(8).\n", stdout);
}

/* what list reports about one device */
struct dev_info {
	struct dg_device *dev;
	struct dg_target *target; /* NULL: nothing mounted on it */
	struct dg_range *bb;
	size_t nr_bb;
	bool has_bb; /* the device keeps a list */
	uint64_t bb_sectors, bb_files, bb_meta;
	long users; /* -1: not counted */
	char *why; /* why the filesystems are not known, or NULL */
};

/* The DAX mode of a mount, as the kernel's options say (default: per inode). */
static const char *mount_dax(struct dg_device *dev, const char *options)
{
	char *copy, *tok, *save = NULL;
	const char *mode = "inode";

	if (!dg_device_is_dax(dev))
		return "no";
	copy = strdup(options ?: "");
	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; tok;
	     tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "dax") || !strcmp(tok, "dax=always"))
			mode = "always";
		else if (!strcmp(tok, "dax=never"))
			mode = "never";
		else if (!strcmp(tok, "dax=inode"))
			mode = "inode";
	}
	free(copy);
	return mode;
}

static void info_fill(struct dg_ctx *ctx, struct dev_info *di, bool users)
{
	struct dg_result *res = NULL;
	size_t i;
	int rc;

	di->users = -1;
	rc = dg_device_get_badblocks(di->dev, &di->bb, &di->nr_bb);
	di->has_bb = !rc;
	for (i = 0; i < di->nr_bb; i++)
		di->bb_sectors += di->bb[i].length >> 9;
	rc = dg_target_new(ctx, dg_device_get_devname(di->dev), &di->target);
	if (rc) {
		/* no filesystem mounted is the usual case, not an error */
		if (rc != -ENODEV)
			di->why = strdup(dg_get_error(ctx) ?: strerror(-rc));
		di->target = NULL;
		if (users)
			di->users = 0;
		return;
	}
	if (di->nr_bb &&
	    !dg_who(di->target, di->bb, di->nr_bb, DG_WHO_NO_USERS | DG_WHO_NO_PATHS, &res)) {
		struct dg_owner *o;

		dg_owner_foreach(res, o) {
			if (dg_owner_get_type(o) == DG_OWNER_FILE)
				di->bb_files += dg_owner_get_length(o) >> 9;
			else if (dg_owner_get_type(o) == DG_OWNER_METADATA)
				di->bb_meta += dg_owner_get_length(o) >> 9;
		}
		dg_result_free(res);
		res = NULL;
	}
	if (users && !dg_who(di->target, NULL, 0, DG_WHO_NO_PATHS, &res)) {
		struct dg_u64map seen = { 0 };
		struct dg_user *u;

		di->users = 0;
		dg_user_foreach(res, u) {
			uint64_t pid = (uint64_t)dg_user_get_pid(u);

			if (!dg_u64map_get(&seen, pid)) {
				dg_u64map_put(&seen, pid, u);
				di->users++;
			}
		}
		dg_u64map_free(&seen);
		dg_result_free(res);
	}
}

static void info_free(struct dev_info *di)
{
	dg_target_free(di->target);
	free(di->bb);
	free(di->why);
}

static char *fmt_u64(uint64_t v)
{
	char *s;

	return asprintf(&s, "%" PRIu64, v) < 0 ? NULL : s;
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* "mem1,mem0" */
static char *memdev_list(struct dg_cxl_region *cr)
{
	size_t i, len = 0, n = dg_cxl_region_get_nr_targets(cr);
	char *s = calloc(n ? n : 1, 33);

	for (i = 0; s && i < n; i++)
		len += (size_t)sprintf(s + len, "%s%.31s", i ? "," : "",
				       dg_cxl_target_get_memdev(dg_cxl_region_get_target(cr, i)));
	return s;
}

static char *dev_cell(const struct dg_output_opts *out, struct dev_info *di, int col)
{
	struct dg_device *d = di->dev;
	struct dg_cxl_region *cr = dg_device_get_cxl_region(d);
	uint64_t start, size;
	char *s;

	switch (col) {
	case COL_NAME:
		return strdup(dg_device_get_devname(d) + 5);
	case COL_KIND:
		return strdup(dg_device_kind_name(dg_device_get_kind(d)));
	case COL_MODE:
		return xstrdup(dg_device_get_mode(d));
	case COL_SIZE:
		return dg_fmt_size(out, dg_device_get_size(d));
	case COL_NAMESPACE:
		return xstrdup(dg_device_get_namespace(d));
	case COL_REGION:
		return xstrdup(dg_device_get_region(d));
	case COL_UUID:
		return xstrdup(dg_device_get_uuid(d));
	case COL_PHYS:
		if (dg_device_get_phys_range(d, &start, &size))
			return NULL;
		return asprintf(&s, "%#" PRIx64 "-%#" PRIx64, start, start + size - 1) < 0 ? NULL :
											     s;
	case COL_DAX:
		return strdup(dg_device_is_dax(d) ? "yes" : "no");
	case COL_BADBLOCKS:
		return di->has_bb ? fmt_u64(di->bb_sectors) : NULL;
	case COL_BB_FILES:
		return di->has_bb && (di->target || !di->nr_bb) ? fmt_u64(di->bb_files) : NULL;
	case COL_BB_META:
		return di->has_bb && (di->target || !di->nr_bb) ? fmt_u64(di->bb_meta) : NULL;
	case COL_USERS:
		return di->users >= 0 ? fmt_u64((uint64_t)di->users) : NULL;
	case COL_IDENTITY:
		return strdup(dg_device_get_identity(d));
	case COL_CXL_REGION:
		return cr ? strdup(dg_cxl_region_get_name(cr)) : NULL;
	case COL_MEMDEVS:
		return cr ? memdev_list(cr) : NULL;
	case COL_INTERLEAVE:
		if (!cr)
			return NULL;
		return asprintf(&s, "%ux%u", dg_cxl_region_get_interleave_ways(cr),
				dg_cxl_region_get_interleave_granularity(cr)) < 0 ?
			       NULL :
			       s;
	}
	return NULL;
}

static char *mount_cell(struct dev_info *di, struct dg_fs *fs, struct dg_mount *m, int col)
{
	char *s;

	switch (col) {
	case COL_NAME:
		return strdup(dg_fs_get_devname(fs) + 5);
	case COL_FSTYPE:
		return strdup(dg_fs_get_type(fs));
	case COL_MOUNTPOINT:
		if (!m)
			return NULL;
		if (dg_mount_is_local(m))
			return strdup(dg_mount_get_target(m));
		return asprintf(&s, "%s (mount namespace %" PRIu64 ")", dg_mount_get_target(m),
				dg_mount_get_mntns(m)) < 0 ?
			       NULL :
			       s;
	case COL_DAX:
		return m ? strdup(mount_dax(di->dev, dg_mount_get_options(m))) : NULL;
	}
	return NULL;
}

static void set_cells(struct libscols_line *ln, const int *map, size_t nr,
		      char *(*cell)(void *, int), void *arg)
{
	size_t i;

	for (i = 0; i < nr; i++) {
		char *c = cell(arg, map[i]);

		if (c && scols_line_refer_data(ln, i, c))
			free(c);
	}
}

struct dev_cell_arg {
	const struct dg_output_opts *out;
	struct dev_info *di;
};

static char *dev_cell_cb(void *arg, int col)
{
	struct dev_cell_arg *a = arg;

	return dev_cell(a->out, a->di, col);
}

struct mount_cell_arg {
	struct dev_info *di;
	struct dg_fs *fs;
	struct dg_mount *m;
};

static char *mount_cell_cb(void *arg, int col)
{
	struct mount_cell_arg *a = arg;

	return mount_cell(a->di, a->fs, a->m, col);
}

static int print_table(const struct dg_output_opts *out, struct dg_columns *cols,
		       struct dev_info *infos, size_t nr)
{
	struct libscols_table *tb = scols_new_table();
	int map[ARRAY_SIZE(list_columns)];
	size_t i, n = 0;

	if (!tb)
		return -ENOMEM;
	scols_table_enable_raw(tb, out->raw);
	scols_table_enable_noheadings(tb, out->noheadings);
	for (i = 0; i < cols->nr; i++) {
		const struct dg_column *c = &list_columns[cols->ids[i]];
		int flags = c->flags;

		/* a tree in raw output would be drawn with ASCII art */
		if (out->raw)
			flags &= ~SCOLS_FL_TREE;
		if (!scols_table_new_column(tb, c->name, c->whint, flags)) {
			scols_unref_table(tb);
			return -ENOMEM;
		}
		map[n++] = cols->ids[i];
	}
	for (i = 0; i < nr; i++) {
		struct dev_cell_arg da = { out, &infos[i] };
		struct libscols_line *ln = scols_table_new_line(tb, NULL);
		struct dg_fs *fs;

		if (!ln)
			break;
		set_cells(ln, map, n, dev_cell_cb, &da);
		if (!infos[i].target)
			continue;
		dg_fs_foreach(infos[i].target, fs) {
			struct dg_mount *m = dg_mount_get_first(fs);

			/* one line per mount; a device-dax "filesystem" has none */
			do {
				struct mount_cell_arg ma = { &infos[i], fs, m };
				struct libscols_line *cl = scols_table_new_line(tb, ln);

				if (!cl)
					break;
				set_cells(cl, map, n, mount_cell_cb, &ma);
			} while (m && (m = dg_mount_get_next(m)));
		}
	}
	scols_print_table(tb);
	scols_unref_table(tb);
	for (i = 0; i < nr; i++)
		if (infos[i].why)
			dg_warnx("%s", infos[i].why);
	return 0;
}

static json_object *json_device(struct dev_info *di)
{
	struct dg_device *d = di->dev;
	json_object *jd = json_object_new_object(), *ja;
	char *devnum = dg_fmt_devnum(dg_device_get_devnum(d));
	uint64_t start, size;
	size_t i;

	json_object_object_add(jd, "device", dg_jstr(dg_device_get_devname(d)));
	json_object_object_add(jd, "devnum", dg_jstr(devnum));
	free(devnum);
	json_object_object_add(jd, "kind", dg_jstr(dg_device_kind_name(dg_device_get_kind(d))));
	json_object_object_add(jd, "mode", dg_jstr(dg_device_get_mode(d)));
	json_object_object_add(jd, "size", json_object_new_uint64(dg_device_get_size(d)));
	json_object_object_add(jd, "namespace", dg_jstr(dg_device_get_namespace(d)));
	json_object_object_add(jd, "region", dg_jstr(dg_device_get_region(d)));
	json_object_object_add(jd, "uuid", dg_jstr(dg_device_get_uuid(d)));
	json_object_object_add(jd, "identity", dg_jstr(dg_device_get_identity(d)));
	json_object_object_add(jd, "dax", json_object_new_boolean(dg_device_is_dax(d)));
	if (!dg_device_get_phys_range(d, &start, &size)) {
		json_object_object_add(jd, "phys_start", json_object_new_uint64(start));
		json_object_object_add(jd, "phys_size", json_object_new_uint64(size));
	}
	if (dg_device_get_backing_file(d))
		json_object_object_add(jd, "backing_file", dg_jstr(dg_device_get_backing_file(d)));
	ja = json_object_new_array();
	for (i = 0; i < dg_device_get_nr_serials(d); i++)
		json_object_array_add(ja, dg_jstr(dg_device_get_serial(d, i)));
	json_object_object_add(jd, "serials", ja);
	if (dg_device_get_cxl_region(d))
		json_object_object_add(jd, "cxl", dg_json_cxl_region(dg_device_get_cxl_region(d)));
	if (di->has_bb) {
		json_object *jb = json_object_new_object(), *jr = json_object_new_array();

		json_object_object_add(jb, "count", json_object_new_uint64(di->bb_sectors));
		for (i = 0; i < di->nr_bb; i++) {
			json_object *r = json_object_new_object();

			json_object_object_add(r, "offset",
					       json_object_new_uint64(di->bb[i].offset));
			json_object_object_add(r, "length",
					       json_object_new_uint64(di->bb[i].length));
			json_object_array_add(jr, r);
		}
		json_object_object_add(jb, "ranges", jr);
		if (di->target || !di->nr_bb) {
			json_object_object_add(jb, "files", json_object_new_uint64(di->bb_files));
			json_object_object_add(jb, "metadata", json_object_new_uint64(di->bb_meta));
		}
		json_object_object_add(jd, "badblocks", jb);
	}
	if (di->users >= 0)
		json_object_object_add(jd, "users", json_object_new_int64(di->users));
	ja = json_object_new_array();
	if (di->target) {
		struct dg_fs *fs;

		dg_fs_foreach(di->target, fs) {
			json_object *jf = json_object_new_object(), *jm = json_object_new_array();
			struct dg_mount *m;

			json_object_object_add(jf, "device", dg_jstr(dg_fs_get_devname(fs)));
			json_object_object_add(jf, "fstype", dg_jstr(dg_fs_get_type(fs)));
			json_object_object_add(jf, "start",
					       json_object_new_uint64(dg_fs_get_start(fs)));
			json_object_object_add(jf, "size",
					       json_object_new_uint64(dg_fs_get_size(fs)));
			dg_mount_foreach(fs, m) {
				json_object *o = json_object_new_object();

				json_object_object_add(o, "target",
						       dg_jstr(dg_mount_get_target(m)));
				json_object_object_add(
					o, "dax", dg_jstr(mount_dax(d, dg_mount_get_options(m))));
				json_object_object_add(o, "options",
						       dg_jstr(dg_mount_get_options(m)));
				json_object_object_add(
					o, "mntns", json_object_new_uint64(dg_mount_get_mntns(m)));
				json_object_object_add(
					o, "local", json_object_new_boolean(dg_mount_is_local(m)));
				json_object_array_add(jm, o);
			}
			json_object_object_add(jf, "mounts", jm);
			json_object_array_add(ja, jf);
		}
	}
	json_object_object_add(jd, "filesystems", ja);
	if (di->why)
		json_object_object_add(jd, "error", dg_jstr(di->why));
	return jd;
}

int cmd_list(int argc, char **argv, struct dg_ctx *ctx)
{
	enum { OPT_NO_USERS = 256, OPT_OUTPUT_ALL };
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "no-users", no_argument, NULL, OPT_NO_USERS },
		{ "json", no_argument, NULL, 'J' },
		{ "output", required_argument, NULL, 'o' },
		{ "output-all", no_argument, NULL, OPT_OUTPUT_ALL },
		{ "list-columns", no_argument, NULL, 'H' },
		{ "noheadings", no_argument, NULL, 'n' },
		{ "raw", no_argument, NULL, 'r' },
		{ "bytes", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct dg_columns cols = { .all = list_columns, .nr_all = ARRAY_SIZE(list_columns) };
	struct dg_output_opts out = { 0 };
	struct dg_device_list *list = NULL;
	struct dev_info *infos = NULL;
	const char *columns = default_columns;
	unsigned int flags = 0;
	bool users = true, all_columns = false;
	struct dg_device *d;
	size_t nr = 0, i;
	int c, rc, ret = DG_EXIT_USAGE;

	optind = 1;
	while ((c = getopt_long(argc, argv, ":aJo:Hnrbh", longopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			flags |= DG_DEVICES_ALL;
			break;
		case OPT_NO_USERS:
			users = false;
			break;
		case 'J':
			out.json = true;
			break;
		case 'o':
			columns = optarg;
			break;
		case OPT_OUTPUT_ALL:
			all_columns = true;
			break;
		case 'H':
			dg_columns_print_help(&cols, stdout);
			ret = DG_EXIT_OK;
			goto out;
		case 'n':
			out.noheadings = true;
			break;
		case 'r':
			out.raw = true;
			break;
		case 'b':
			out.bytes = true;
			break;
		case 'h':
			usage();
			ret = DG_EXIT_OK;
			goto out;
		default:
			dg_bad_option("list", c, argv);
			goto out;
		}
	}
	if (optind != argc) {
		dg_usage_error("list", "too many arguments");
		goto out;
	}
	if (all_columns) {
		char buf[512] = "";

		for (i = 0; i < ARRAY_SIZE(list_columns); i++) {
			if (i)
				strcat(buf, ",");
			strcat(buf, list_columns[i].name);
		}
		rc = dg_columns_parse(&cols, buf);
	} else {
		rc = dg_columns_parse(&cols, columns);
	}
	if (rc)
		goto out;

	ret = DG_EXIT_FAILURE;
	rc = dg_device_list_new(ctx, flags, &list);
	if (rc) {
		dg_lib_fail(ctx, "list", rc);
		goto out;
	}
	dg_device_foreach(list, d) nr++;
	infos = calloc(nr ? nr : 1, sizeof(*infos));
	if (!infos) {
		dg_errx("out of memory");
		goto out;
	}
	nr = 0;
	dg_device_foreach(list, d)
	{
		infos[nr].dev = d;
		info_fill(ctx, &infos[nr], users);
		nr++;
	}
	if (out.json) {
		json_object *root = json_object_new_object(), *ja = json_object_new_array();

		for (i = 0; i < nr; i++)
			json_object_array_add(ja, json_device(&infos[i]));
		json_object_object_add(root, "devices", ja);
		printf("%s\n", json_object_to_json_string_ext(
				       root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						     JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
	} else if (nr) {
		print_table(&out, &cols, infos, nr);
	}
	ret = DG_EXIT_OK;
out:
	for (i = 0; infos && i < nr; i++)
		info_free(&infos[i]);
	free(infos);
	dg_device_list_free(list);
	free(cols.ids);
	return ret;
}
