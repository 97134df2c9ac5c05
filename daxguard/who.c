// SPDX-License-Identifier: GPL-2.0-or-later
/* daxguard who: the blast radius of a device range.  Changes nothing. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daxguard.h"
#include "util/util.h"

enum { TABLE_OWNERS, TABLE_USERS };

enum {
	COL_O_DEVICE,
	COL_O_TYPE,
	COL_O_OFFSET,
	COL_O_LENGTH,
	COL_O_INODE,
	COL_O_FOFFSET,
	COL_O_FLAGS,
	COL_O_OWNER,
	COL_U_PID,
	COL_U_COMMAND,
	COL_U_USE,
	COL_U_FD,
	COL_U_MODE,
	COL_U_VMA,
	COL_U_FRANGE,
	COL_U_INODE,
	COL_U_PATH,
	COL_U_NODEMEM,
	COL_U_POLICY,
	COL_U_PINNED,
};

static const struct dg_column who_columns[] = {
	[COL_O_DEVICE] = { "DEVICE", 0.1, 0, "filesystem device", TABLE_OWNERS },
	[COL_O_TYPE] = { "TYPE", 0.05, 0, "file, metadata, free or unknown", TABLE_OWNERS },
	[COL_O_OFFSET] = { "OFFSET", 0.1, SCOLS_FL_RIGHT, "device offset of the affected part",
			   TABLE_OWNERS },
	[COL_O_LENGTH] = { "LENGTH", 0.08, SCOLS_FL_RIGHT, "length of the affected part",
			   TABLE_OWNERS },
	[COL_O_INODE] = { "INODE", 0.08, SCOLS_FL_RIGHT, "inode number", TABLE_OWNERS },
	[COL_O_FOFFSET] = { "FILE-OFFSET", 0.1, SCOLS_FL_RIGHT,
			    "where the affected part is in the file", TABLE_OWNERS },
	[COL_O_FLAGS] = { "FLAGS", 0.08, 0,
			  "attr_fork, extent_map, unwritten, shared, unlinked, directory",
			  TABLE_OWNERS },
	[COL_O_OWNER] = { "OWNER", 0.3, 0, "file path, or the kind of metadata", TABLE_OWNERS },
	[COL_U_PID] = { "PID", 0.05, SCOLS_FL_RIGHT, "process ID", TABLE_USERS },
	[COL_U_COMMAND] = { "COMMAND", 0.1, 0, "command name", TABLE_USERS },
	[COL_U_USE] = { "USE", 0.04, 0, "map, fd, cwd, root or exe", TABLE_USERS },
	[COL_U_FD] = { "FD", 0.03, SCOLS_FL_RIGHT, "file descriptor", TABLE_USERS },
	[COL_U_MODE] = { "MODE", 0.04, 0, "mapping permissions, s = shared, p = private",
			 TABLE_USERS },
	[COL_U_VMA] = { "VMA", 0.2, 0, "mapped address range", TABLE_USERS },
	[COL_U_FRANGE] = { "FILE-RANGE", 0.15, 0, "affected file range the mapping covers",
			   TABLE_USERS },
	[COL_U_INODE] = { "INODE", 0.08, SCOLS_FL_RIGHT, "inode number", TABLE_USERS },
	[COL_U_PATH] = { "PATH", 0.3, 0, "the file, as the process sees it", TABLE_USERS },
	[COL_U_NODEMEM] = { "NODE-MEM", 0.08, SCOLS_FL_RIGHT,
			    "the mapping's memory on a kmem target's node", TABLE_USERS },
	[COL_U_POLICY] = { "POLICY", 0.08, 0, "memory policy (numa_maps); bound: that node alone",
			   TABLE_USERS },
	[COL_U_PINNED] = { "PINNED", 0.15, 0, "VmPin, io_uring and vfio descriptors", TABLE_USERS },
};

static const char *const whole_columns =
	"DEVICE,TYPE,INODE,FLAGS,OWNER,PID,COMMAND,USE,FD,MODE,PATH";
static const char *const kmem_columns = "PID,COMMAND,USE,VMA,NODE-MEM,POLICY,PINNED";
static const char *const default_columns =
	"DEVICE,TYPE,OFFSET,LENGTH,FILE-OFFSET,OWNER,PID,COMMAND,USE,MODE,FILE-RANGE,PATH";

static void usage(void)
{
	struct dg_columns cols = { .all = who_columns, .nr_all = ARRAY_SIZE(who_columns) };

	fputs("Usage:\n"
	      " daxguard who [options] <target>\n"
	      "\n"
	      "Show which files, metadata and processes a range of a device\n"
	      "hits, or who uses the device at all.  Changes nothing.\n"
	      "\n"
	      "<target> is a block device (whole disk or partition), a\n"
	      "mountpoint, or MAJ:MIN.  Without a range: the whole device.\n"
	      "\n"
	      "Options:\n"
	      "     --offset <bytes>  start of a range on the target\n"
	      "     --length <bytes>  length of that range (both may repeat)\n"
	      "     --phys <address>  a physical address instead of --offset (pmem);\n"
	      "                       alone it means the page there\n"
	      "     --pfn <number>    a page frame number, as memory-failure logs\n"
	      "                       print it: the page at that number (pmem)\n"
	      "     --dpa <memdev:address>  a CXL memdev's device physical address\n"
	      "                       instead of --offset (a target on a CXL region);\n"
	      "                       alone it means the page there\n"
	      "     --badblocks <file> ranges from a badblocks list (\"SECTOR COUNT\"\n"
	      "                       lines, cxl_poison trace lines or the JSON of\n"
	      "                       cxl list --media-errors); - for stdin, sysfs for\n"
	      "                       the device's own, cxl for its memdevs' poison lists\n"
	      "     --rmap <backend>  reverse map: xfs-rmapbt, xfs-bulkstat,\n"
	      "                       ext4-libext2fs or fiemap (default: the best)\n"
	      "     --no-paths        do not resolve inode numbers to paths\n"
	      "     --no-users        do not look for processes\n"
	      " -J, --json            use JSON output format\n"
	      " -o, --output <list>   output columns (see --list-columns)\n"
	      "     --output-all      output all columns\n"
	      " -H, --list-columns    list the available columns\n"
	      " -n, --noheadings      do not print headings\n"
	      " -r, --raw             use the raw output format\n"
	      " -b, --bytes           print sizes in bytes\n"
	      " -h, --help            display this help\n"
	      "\n"
	      "<bytes> is decimal, 0x hex, or has a K, M, G or T suffix.\n"
	      "\n"
	      "Available output columns:\n",
	      stdout);
	dg_columns_print_help(&cols, stdout);
	fputs("\nFor more details see daxguard-who(8).\n", stdout);
}

struct who_opts {
	struct dg_output_opts out;
	struct dg_columns cols;
	unsigned int flags;
	bool kmem; /* the target is memory onlined as system RAM */
};

static char *user_mode(struct dg_user *u)
{
	unsigned int f = dg_user_get_flags(u);
	char m[5] = { f & DG_USER_READ ? 'r' : '-', f & DG_USER_WRITE ? 'w' : '-',
		      f & DG_USER_EXEC ? 'x' : '-', f & DG_USER_SHARED ? 's' : 'p', 0 };

	return strdup(m);
}

static const char *const owner_flag_names[] = {
	"attr_fork", "extent_map", "unwritten", "shared", "unlinked", NULL, "directory",
};

static char *owner_flags_str(struct dg_owner *o)
{
	unsigned int f = dg_owner_get_flags(o);
	char buf[128] = "";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(owner_flag_names); i++) {
		if (!(f & (1U << i)) || !owner_flag_names[i])
			continue;
		if (buf[0])
			strcat(buf, ",");
		strcat(buf, owner_flag_names[i]);
	}
	return strdup(buf);
}

static char *owner_cell(struct who_opts *opts, struct dg_owner *o, int col)
{
	bool file = dg_owner_get_type(o) == DG_OWNER_FILE;
	bool ranged = !(dg_owner_get_flags(o) & DG_OWNER_NO_RANGE);
	char *s = NULL;

	switch (col) {
	case COL_O_DEVICE:
		return strdup(dg_fs_get_devname(dg_owner_get_fs(o)));
	case COL_O_TYPE:
		return strdup(dg_owner_type_name(dg_owner_get_type(o)));
	case COL_O_OFFSET:
		return ranged ? dg_fmt_hex(dg_owner_get_offset(o)) : NULL;
	case COL_O_LENGTH:
		return ranged ? dg_fmt_size(&opts->out, dg_owner_get_length(o)) : NULL;
	case COL_O_INODE:
		if (file && asprintf(&s, "%" PRIu64, dg_owner_get_inode(o)) < 0)
			s = NULL;
		return s;
	case COL_O_FOFFSET:
		if (!file || !ranged || (dg_owner_get_flags(o) & DG_OWNER_EXTENT_MAP))
			return NULL;
		return dg_fmt_hex(dg_owner_get_file_offset(o));
	case COL_O_FLAGS:
		return owner_flags_str(o);
	case COL_O_OWNER:
		if (dg_owner_get_type(o) == DG_OWNER_METADATA)
			return strdup(dg_owner_get_metadata(o));
		if (!file)
			return NULL;
		if (dg_owner_get_path(o))
			return strdup(dg_owner_get_path(o));
		if (asprintf(&s, "inode %" PRIu64 "%s", dg_owner_get_inode(o),
			     dg_owner_get_flags(o) & DG_OWNER_UNLINKED ? " (unlinked)" : "") < 0)
			s = NULL;
		return s;
	}
	return NULL;
}

static char *user_cell(struct who_opts *opts, struct dg_user *u, int col)
{
	bool map = dg_user_get_use(u) == DG_USE_MAP;
	char *s = NULL;
	int rc = 0;

	switch (col) {
	case COL_U_PID:
		rc = asprintf(&s, "%d", (int)dg_user_get_pid(u));
		break;
	case COL_U_COMMAND:
		return strdup(dg_user_get_comm(u) ?: "?");
	case COL_U_USE:
		return strdup(dg_use_name(dg_user_get_use(u)));
	case COL_U_FD:
		if (dg_user_get_use(u) == DG_USE_FD)
			rc = asprintf(&s, "%d", dg_user_get_fd(u));
		break;
	case COL_U_MODE:
		return map ? user_mode(u) : NULL;
	case COL_U_VMA:
		if (dg_user_get_use(u) == DG_USE_NODE)
			rc = asprintf(&s, "%#" PRIx64, dg_user_get_vm_start(u));
		else if (map)
			rc = asprintf(&s, "%#" PRIx64 "-%#" PRIx64, dg_user_get_vm_start(u),
				      dg_user_get_vm_end(u));
		break;
	case COL_U_FRANGE:
		if (map)
			rc = asprintf(&s, "%#" PRIx64 "+%#" PRIx64, dg_user_get_file_offset(u),
				      dg_user_get_file_length(u));
		break;
	case COL_U_INODE:
		rc = asprintf(&s, "%" PRIu64, dg_user_get_inode(u));
		break;
	case COL_U_PATH:
		return dg_user_get_path(u) ? strdup(dg_user_get_path(u)) : NULL;
	case COL_U_NODEMEM:
		if (dg_user_get_use(u) == DG_USE_NODE) {
			char sz[32];

			if (opts->out.bytes)
				rc = asprintf(&s, "%" PRIu64, dg_user_get_node_bytes(u));
			else
				s = strdup(dg_size_str(dg_user_get_node_bytes(u), sz, sizeof(sz)));
		}
		break;
	case COL_U_POLICY:
		if (dg_user_get_policy(u))
			rc = asprintf(&s, "%s%s", dg_user_get_policy(u),
				      dg_user_is_bound(u) ? " (bound)" : "");
		break;
	case COL_U_PINNED:
		if (dg_user_get_vm_pin_kb(u) || dg_user_get_pin_hint(u))
			rc = asprintf(&s, "VmPin %" PRIu64 " kB%s%s", dg_user_get_vm_pin_kb(u),
				      dg_user_get_pin_hint(u) ? ", " : "",
				      dg_user_get_pin_hint(u) ?: "");
		break;
	}
	return rc < 0 ? NULL : s;
}

static struct libscols_table *new_table(struct who_opts *opts, int which, int *map, size_t *nr)
{
	struct libscols_table *tb = scols_new_table();
	size_t i;

	if (!tb)
		return NULL;
	scols_table_enable_raw(tb, opts->out.raw);
	scols_table_enable_noheadings(tb, opts->out.noheadings);
	*nr = 0;
	for (i = 0; i < opts->cols.nr; i++) {
		const struct dg_column *c = &who_columns[opts->cols.ids[i]];

		if (c->table != which)
			continue;
		if (!scols_table_new_column(tb, c->name, c->whint, c->flags)) {
			scols_unref_table(tb);
			return NULL;
		}
		map[(*nr)++] = opts->cols.ids[i];
	}
	return tb;
}

static int print_tables(struct who_opts *opts, struct dg_result *res)
{
	int map[ARRAY_SIZE(who_columns)];
	struct libscols_table *tb;
	struct dg_owner *o;
	struct dg_user *u;
	size_t nr, i;

	tb = new_table(opts, TABLE_OWNERS, map, &nr);
	if (!tb)
		return -ENOMEM;
	if (opts->kmem) {
		/* no files: the node's memory has users only */
	} else if (nr && dg_owner_get_first(res)) {
		dg_owner_foreach(res, o) {
			struct libscols_line *ln = scols_table_new_line(tb, NULL);

			for (i = 0; ln && i < nr; i++) {
				char *cell = owner_cell(opts, o, map[i]);

				if (cell && scols_line_refer_data(ln, i, cell))
					free(cell);
			}
		}
		scols_print_table(tb);
	} else if (nr && dg_result_is_incomplete(res)) {
		/* not "nothing": only nothing that this run could see */
		printf("nothing found in %s that this run could check (the answer is incomplete: "
		       "see the warnings)\n",
		       dg_result_is_whole_device(res) ? "use" : "that range");
	} else if (nr) {
		printf("nothing on the device in %s\n",
		       dg_result_is_whole_device(res) ? "use" : "that range");
	}
	scols_unref_table(tb);

	tb = new_table(opts, TABLE_USERS, map, &nr);
	if (!tb)
		return -ENOMEM;
	if (nr && dg_user_get_first(res)) {
		putchar('\n');
		dg_user_foreach(res, u) {
			struct libscols_line *ln = scols_table_new_line(tb, NULL);

			for (i = 0; ln && i < nr; i++) {
				char *cell = user_cell(opts, u, map[i]);

				if (cell && scols_line_refer_data(ln, i, cell))
					free(cell);
			}
		}
		scols_print_table(tb);
	} else if (nr && !(opts->flags & DG_WHO_NO_USERS)) {
		printf(opts->kmem ? "no process has pages on its node\n" :
				    "\nno process uses it\n");
	}
	scols_unref_table(tb);
	return 0;
}

/* " (device-mapper: 0+0x1f700000 is its 0x1f700000, ...)" */
static void print_pieces(struct dg_fs *fs)
{
	uint64_t start, size, base;
	size_t i;

	printf(" (device-mapper:");
	for (i = 0; !dg_fs_get_piece(fs, i, &start, &size, &base); i++)
		printf("%s %#" PRIx64 "+%#" PRIx64 " is its %#" PRIx64, i ? "," : "", start, size,
		       base);
	putchar(')');
}

/* @prefix, then @name, which someone else may have chosen, escaped, then @suffix */
static void print_safe(const char *prefix, const char *name, const char *suffix)
{
	char *safe = dg_safe(name);

	fputs(prefix, stdout);
	fputs(safe ? safe : "?", stdout);
	fputs(suffix, stdout);
	free(safe);
}

/* the memdevs' parts of a range of the target: "mem1 DPA 0x..+0x.., ..." */
static void print_range_dpa(struct dg_target *t, const struct dg_range *r)
{
	struct dg_cxl_region *cr = dg_target_get_cxl_region(t);
	uint64_t dpa, len;
	size_t i;
	bool first = true;

	for (i = 0; cr && i < dg_cxl_region_get_nr_targets(cr); i++) {
		if (dg_target_range_to_dpa(t, r->offset, r->length, i, &dpa, &len))
			continue;
		printf("%s%s DPA %#" PRIx64 "+%#" PRIx64, first ? "; " : ", ",
		       dg_cxl_target_get_memdev(dg_cxl_region_get_target(cr, i)), dpa, len);
		first = false;
	}
}

static void print_topology(struct who_opts *opts, struct dg_target *t, struct dg_result *res)
{
	uint64_t pstart, psize;
	bool phys = !dg_target_get_phys_range(t, &pstart, &psize);
	char sz[32];
	struct dg_fs *fs;
	size_t i;

	print_safe("", dg_target_get_devname(t), ": ");
	printf("%s",
	       opts->out.bytes ?
		       (snprintf(sz, sizeof(sz), "%" PRIu64 " bytes", dg_target_get_size(t)), sz) :
		       dg_size_str(dg_target_get_size(t), sz, sizeof(sz)));
	if (dg_target_get_backing_file(t))
		print_safe(", loop device on ", dg_target_get_backing_file(t), "");
	if (phys)
		printf(", physical %#" PRIx64 "-%#" PRIx64, pstart, pstart + psize - 1);
	putchar('\n');
	if (dg_target_get_cxl_region(t))
		dg_print_cxl_region(dg_target_get_cxl_region(t), "  ");
	if (dg_target_is_kmem(t)) {
		const char *state, *zone;
		uint64_t id;
		int removable;

		printf("  system RAM of node %d, %zu memory block%s of %s:\n",
		       dg_target_get_numa_node(t), dg_target_get_nr_memory_blocks(t),
		       dg_target_get_nr_memory_blocks(t) == 1 ? "" : "s",
		       dg_size_str(dg_target_get_memory_block_size(t), sz, sizeof(sz)));
		for (i = 0; !dg_target_get_memory_block(t, i, &id, &state, &zone, &removable); i++)
			printf("    memory%" PRIu64 ": %s, %s%s\n", id, state, zone,
			       removable == 0 ? ", not removable" : "");
		putchar('\n');
		return;
	}
	dg_fs_foreach(t, fs) {
		struct dg_mount *m;

		print_safe("  ", dg_fs_get_devname(fs), ": ");
		print_safe("", dg_fs_get_type(fs), "");
		printf(", at %#" PRIx64, dg_fs_get_start(fs));
		if (dg_fs_is_device_mapper(fs))
			print_pieces(fs);
		if (dg_fs_get_rmap(fs))
			printf(", reverse map %s", dg_fs_get_rmap(fs));
		putchar('\n');
		dg_mount_foreach(fs, m) {
			print_safe("    mounted on ", dg_mount_get_target(m), "");
			if (strcmp(dg_mount_get_root(m), "/"))
				print_safe(" (bind of ", dg_mount_get_root(m), ")");
			if (!dg_mount_is_local(m))
				printf(" in mount namespace %" PRIu64 " (pid %d)",
				       dg_mount_get_mntns(m), (int)dg_mount_get_ns_pid(m));
			putchar('\n');
		}
	}
	for (i = 0; i < dg_result_get_nr_ranges(res); i++) {
		const struct dg_range *r = dg_result_get_range(res, i);

		printf("  range %#" PRIx64 "+%#" PRIx64, r->offset, r->length);
		if (phys)
			printf(", physical %#" PRIx64, pstart + r->offset);
		print_range_dpa(t, r);
		putchar('\n');
	}
	putchar('\n');
}

static json_object *ju64(uint64_t v)
{
	return json_object_new_uint64(v);
}

static json_object *json_pieces(struct dg_fs *fs)
{
	json_object *ja = json_object_new_array();
	uint64_t start, size, base;
	size_t i;

	for (i = 0; !dg_fs_get_piece(fs, i, &start, &size, &base); i++) {
		json_object *jp = json_object_new_object();

		json_object_object_add(jp, "start", ju64(start));
		json_object_object_add(jp, "size", ju64(size));
		json_object_object_add(jp, "base", ju64(base));
		json_object_array_add(ja, jp);
	}
	return ja;
}

/* memory onlined as system RAM: its node and memory blocks */
static json_object *json_kmem(struct dg_target *t)
{
	json_object *jk = json_object_new_object(), *jbs = json_object_new_array();
	const char *state, *zone;
	uint64_t id;
	int removable;
	size_t i;

	json_object_object_add(jk, "node", json_object_new_int(dg_target_get_numa_node(t)));
	json_object_object_add(jk, "block_size", ju64(dg_target_get_memory_block_size(t)));
	for (i = 0; !dg_target_get_memory_block(t, i, &id, &state, &zone, &removable); i++) {
		json_object *jb = json_object_new_object();
		char name[32];

		snprintf(name, sizeof(name), "memory%" PRIu64, id);
		json_object_object_add(jb, "block", dg_jstr(name));
		json_object_object_add(jb, "state", dg_jstr(state));
		json_object_object_add(jb, "zone", dg_jstr(zone));
		json_object_object_add(jb, "removable",
				       removable < 0 ? NULL : json_object_new_boolean(removable));
		json_object_array_add(jbs, jb);
	}
	json_object_object_add(jk, "blocks", jbs);
	return jk;
}

static json_object *json_target(struct dg_target *t)
{
	json_object *jt = json_object_new_object(), *jfss = json_object_new_array();
	uint64_t pstart, psize;
	struct dg_fs *fs;
	char *dev = dg_fmt_devnum(dg_target_get_devnum(t));

	json_object_object_add(jt, "device", dg_jstr(dg_target_get_devname(t)));
	json_object_object_add(jt, "devnum", dg_jstr(dev));
	free(dev);
	json_object_object_add(jt, "size", ju64(dg_target_get_size(t)));
	if (dg_target_get_backing_file(t))
		json_object_object_add(jt, "backing_file", dg_jstr(dg_target_get_backing_file(t)));
	if (!dg_target_get_phys_range(t, &pstart, &psize)) {
		json_object_object_add(jt, "phys_start", ju64(pstart));
		json_object_object_add(jt, "phys_size", ju64(psize));
	}
	if (dg_target_get_cxl_region(t))
		json_object_object_add(jt, "cxl", dg_json_cxl_region(dg_target_get_cxl_region(t)));
	if (dg_target_is_kmem(t))
		json_object_object_add(jt, "kmem", json_kmem(t));
	dg_fs_foreach(t, fs) {
		json_object *jfs = json_object_new_object();
		json_object *jms = json_object_new_array();
		struct dg_mount *m;

		dev = dg_fmt_devnum(dg_fs_get_devnum(fs));
		json_object_object_add(jfs, "device", dg_jstr(dg_fs_get_devname(fs)));
		json_object_object_add(jfs, "devnum", dg_jstr(dev));
		free(dev);
		json_object_object_add(jfs, "fstype", dg_jstr(dg_fs_get_type(fs)));
		json_object_object_add(jfs, "start", ju64(dg_fs_get_start(fs)));
		json_object_object_add(jfs, "size", ju64(dg_fs_get_size(fs)));
		json_object_object_add(jfs, "rmap", dg_jstr(dg_fs_get_rmap(fs)));
		if (dg_fs_is_device_mapper(fs))
			json_object_object_add(jfs, "pieces", json_pieces(fs));
		dg_mount_foreach(fs, m) {
			json_object *jm = json_object_new_object();

			json_object_object_add(jm, "target", dg_jstr(dg_mount_get_target(m)));
			json_object_object_add(jm, "root", dg_jstr(dg_mount_get_root(m)));
			json_object_object_add(jm, "options", dg_jstr(dg_mount_get_options(m)));
			json_object_object_add(jm, "mntns", ju64(dg_mount_get_mntns(m)));
			if (!dg_mount_is_local(m))
				json_object_object_add(jm, "pid",
						       json_object_new_int(dg_mount_get_ns_pid(m)));
			json_object_object_add(jm, "local",
					       json_object_new_boolean(dg_mount_is_local(m)));
			json_object_array_add(jms, jm);
		}
		json_object_object_add(jfs, "mounts", jms);
		json_object_array_add(jfss, jfs);
	}
	json_object_object_add(jt, "filesystems", jfss);
	return jt;
}

/* where a range of the target is on each memdev: which card to pull */
static json_object *json_range_dpa(struct dg_target *t, const struct dg_range *r)
{
	struct dg_cxl_region *cr = dg_target_get_cxl_region(t);
	json_object *ja = json_object_new_array();
	uint64_t dpa, len, serial;
	size_t i;

	for (i = 0; i < dg_cxl_region_get_nr_targets(cr); i++) {
		struct dg_cxl_target *ct = dg_cxl_region_get_target(cr, i);
		json_object *jd;

		if (dg_target_range_to_dpa(t, r->offset, r->length, i, &dpa, &len))
			continue;
		jd = json_object_new_object();
		json_object_object_add(jd, "memdev", dg_jstr(dg_cxl_target_get_memdev(ct)));
		if (!dg_cxl_target_get_serial(ct, &serial))
			json_object_object_add(jd, "serial", ju64(serial));
		json_object_object_add(jd, "host", dg_jstr(dg_cxl_target_get_host(ct)));
		json_object_object_add(jd, "decoder", dg_jstr(dg_cxl_target_get_decoder(ct)));
		json_object_object_add(jd, "dpa", ju64(dpa));
		json_object_object_add(jd, "length", ju64(len));
		json_object_array_add(ja, jd);
	}
	return ja;
}

static json_object *json_owner(struct dg_owner *o)
{
	json_object *jo = json_object_new_object(), *jf;
	unsigned int f = dg_owner_get_flags(o);
	size_t i;

	json_object_object_add(jo, "filesystem", dg_jstr(dg_fs_get_devname(dg_owner_get_fs(o))));
	json_object_object_add(jo, "type", dg_jstr(dg_owner_type_name(dg_owner_get_type(o))));
	if (dg_owner_get_type(o) == DG_OWNER_METADATA)
		json_object_object_add(jo, "kind", dg_jstr(dg_owner_get_metadata(o)));
	if (!(f & DG_OWNER_NO_RANGE)) {
		json_object_object_add(jo, "offset", ju64(dg_owner_get_offset(o)));
		json_object_object_add(jo, "length", ju64(dg_owner_get_length(o)));
	}
	if (dg_owner_get_type(o) != DG_OWNER_FILE)
		return jo;
	json_object_object_add(jo, "inode", ju64(dg_owner_get_inode(o)));
	json_object_object_add(jo, "path", dg_jstr(dg_owner_get_path(o)));
	if (!(f & (DG_OWNER_NO_RANGE | DG_OWNER_EXTENT_MAP | DG_OWNER_ATTR_FORK)))
		json_object_object_add(jo, "file_offset", ju64(dg_owner_get_file_offset(o)));
	json_object_object_add(jo, "unlinked", json_object_new_boolean(f & DG_OWNER_UNLINKED));
	jf = json_object_new_array();
	for (i = 0; i < ARRAY_SIZE(owner_flag_names); i++)
		if ((f & (1U << i)) && owner_flag_names[i] && (1U << i) != DG_OWNER_UNLINKED)
			json_object_array_add(jf, dg_jstr(owner_flag_names[i]));
	json_object_object_add(jo, "flags", jf);
	return jo;
}

static json_object *json_user(struct dg_user *u)
{
	json_object *ju = json_object_new_object();
	unsigned int f = dg_user_get_flags(u);

	json_object_object_add(ju, "pid", json_object_new_int(dg_user_get_pid(u)));
	json_object_object_add(ju, "command", dg_jstr(dg_user_get_comm(u)));
	json_object_object_add(ju, "use", dg_jstr(dg_use_name(dg_user_get_use(u))));
	json_object_object_add(ju, "filesystem",
			       dg_user_get_fs(u) ? dg_jstr(dg_fs_get_devname(dg_user_get_fs(u))) :
						   NULL);
	json_object_object_add(ju, "inode", ju64(dg_user_get_inode(u)));
	json_object_object_add(ju, "path", dg_jstr(dg_user_get_path(u)));
	switch (dg_user_get_use(u)) {
	case DG_USE_MAP:
		json_object_object_add(ju, "vma_start", ju64(dg_user_get_vm_start(u)));
		json_object_object_add(ju, "vma_end", ju64(dg_user_get_vm_end(u)));
		json_object_object_add(ju, "vma_offset", ju64(dg_user_get_vm_pgoff(u)));
		json_object_object_add(ju, "file_offset", ju64(dg_user_get_file_offset(u)));
		json_object_object_add(ju, "file_length", ju64(dg_user_get_file_length(u)));
		json_object_object_add(ju, "shared", json_object_new_boolean(f & DG_USER_SHARED));
		json_object_object_add(ju, "readable", json_object_new_boolean(f & DG_USER_READ));
		json_object_object_add(ju, "writable", json_object_new_boolean(f & DG_USER_WRITE));
		break;
	case DG_USE_FD:
		json_object_object_add(ju, "fd", json_object_new_int(dg_user_get_fd(u)));
		break;
	case DG_USE_NODE:
		json_object_object_add(ju, "vma_start", ju64(dg_user_get_vm_start(u)));
		json_object_object_add(ju, "node_bytes", ju64(dg_user_get_node_bytes(u)));
		json_object_object_add(ju, "policy", dg_jstr(dg_user_get_policy(u)));
		json_object_object_add(ju, "bound", json_object_new_boolean(dg_user_is_bound(u)));
		json_object_object_add(ju, "vm_pin_kb", ju64(dg_user_get_vm_pin_kb(u)));
		json_object_object_add(ju, "pin_hint", dg_jstr(dg_user_get_pin_hint(u)));
		break;
	default:
		break;
	}
	return ju;
}

/*
 * After the answer, on stderr: its warnings, then the processes that
 * could not be read, in one line however many (when not root, a warning
 * already said so).
 */
void dg_print_warnings(struct dg_result *res)
{
	struct dg_unreadable *r;
	char list[256] = "";
	size_t n = 0, len = 0;
	const char *w;

	dg_warning_foreach(res, w)
		dg_warnx("%s", w);
	if (!dg_result_get_nr_unreadable(res) || dg_result_is_incomplete(res))
		return;
	dg_unreadable_foreach(res, r)
	{
		if (n++ == 3) {
			len += (size_t)snprintf(list + len, sizeof(list) - len, ", ...");
			break;
		}
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%spid %d (%s): %s",
					n > 1 ? ", " : "", (int)dg_unreadable_get_pid(r),
					dg_unreadable_get_comm(r),
					strerror(-dg_unreadable_get_error(r)));
		if (len >= sizeof(list))
			break;
	}
	dg_notex("%zu process%s could not be read, not even by root, so %s uses are unknown: %s",
		 dg_result_get_nr_unreadable(res),
		 dg_result_get_nr_unreadable(res) == 1 ? "" : "es",
		 dg_result_get_nr_unreadable(res) == 1 ? "its" : "their", list);
}

/* The members of who's JSON object, for every command that reports one. */
void dg_json_who(struct dg_json_out *o, struct dg_target *t, struct dg_result *res)
{
	struct dg_unreadable *ur;
	json_object *jt = json_target(t), *jfss = NULL;
	uint64_t pstart, psize;
	bool phys = !dg_target_get_phys_range(t, &pstart, &psize);
	struct dg_owner *ow;
	struct dg_user *u;
	const char *w;
	size_t i;

	/* filesystems at the top level too: that is where people look */
	json_object_object_get_ex(jt, "filesystems", &jfss);
	json_object_get(jfss);
	json_object_object_del(jt, "filesystems");
	dg_json_member(o, "target", jt);
	dg_json_member(o, "filesystems", jfss);
	dg_json_member(o, "whole_device", json_object_new_boolean(dg_result_is_whole_device(res)));
	dg_json_array_begin(o, "ranges");
	for (i = 0; i < dg_result_get_nr_ranges(res); i++) {
		const struct dg_range *r = dg_result_get_range(res, i);
		json_object *jr = json_object_new_object();

		json_object_object_add(jr, "offset", ju64(r->offset));
		json_object_object_add(jr, "length", ju64(r->length));
		if (phys)
			json_object_object_add(jr, "phys", ju64(pstart + r->offset));
		if (dg_target_get_cxl_region(t))
			json_object_object_add(jr, "cxl", json_range_dpa(t, r));
		dg_json_element(o, jr);
	}
	dg_json_array_end(o);
	dg_json_array_begin(o, "owners");
	dg_owner_foreach(res, ow)
		dg_json_element(o, json_owner(ow));
	dg_json_array_end(o);
	dg_json_array_begin(o, "users");
	dg_user_foreach(res, u)
		dg_json_element(o, json_user(u));
	dg_json_array_end(o);
	dg_json_array_begin(o, "warnings");
	dg_warning_foreach(res, w)
		dg_json_element(o, dg_jstr(w));
	dg_json_array_end(o);
	dg_json_member(o, "incomplete", json_object_new_boolean(dg_result_is_incomplete(res)));
	dg_json_array_begin(o, "unreadable");
	dg_unreadable_foreach(res, ur)
	{
		json_object *jr = json_object_new_object();

		json_object_object_add(jr, "pid", json_object_new_int(dg_unreadable_get_pid(ur)));
		json_object_object_add(jr, "command", dg_jstr(dg_unreadable_get_comm(ur)));
		json_object_object_add(jr, "reason",
				       dg_jstr(strerror(-dg_unreadable_get_error(ur))));
		dg_json_element(o, jr);
	}
	dg_json_array_end(o);
}

void dg_print_who(const struct dg_output_opts *out, struct dg_target *t, struct dg_result *res,
		  bool owners)
{
	struct who_opts opts = {
		.out = *out, .cols = { .all = who_columns, .nr_all = ARRAY_SIZE(who_columns) }
	};

	opts.kmem = dg_target_is_kmem(t);
	/* a removal is about processes; the files in use are in PATH */
	if (dg_columns_parse(&opts.cols, opts.kmem ? kmem_columns :
					 owners	   ? default_columns :
						     "PID,COMMAND,USE,MODE,PATH"))
		return;
	print_topology(&opts, t, res);
	print_tables(&opts, res);
	free(opts.cols.ids);
}

int cmd_who(int argc, char **argv, struct dg_ctx *ctx)
{
	enum { OPT_NO_PATHS = 256, OPT_NO_USERS, OPT_OUTPUT_ALL };
	static const struct option longopts[] = {
		RANGE_LONGOPTS,
		{ "no-paths", no_argument, NULL, OPT_NO_PATHS },
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
	struct who_opts opts = { .cols = { .all = who_columns,
					   .nr_all = ARRAY_SIZE(who_columns) } };
	struct range_args ra;
	struct dg_target *target = NULL;
	struct dg_result *res = NULL;
	const char *columns = NULL;
	bool chosen_columns = true;
	bool all_columns = false;
	int c, rc, ret = DG_EXIT_FAILURE;

	if (range_args_init(&ra, argc)) {
		range_args_free(&ra);
		return DG_EXIT_FAILURE;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, ":Jo:Hnrbh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_NO_PATHS:
			opts.flags |= DG_WHO_NO_PATHS;
			break;
		case OPT_NO_USERS:
			opts.flags |= DG_WHO_NO_USERS;
			break;
		case 'J':
			opts.out.json = true;
			break;
		case 'o':
			columns = optarg;
			break;
		case OPT_OUTPUT_ALL:
			all_columns = true;
			break;
		case 'H':
			dg_columns_print_help(&opts.cols, stdout);
			ret = DG_EXIT_OK;
			goto out;
		case 'n':
			opts.out.noheadings = true;
			break;
		case 'r':
			opts.out.raw = true;
			break;
		case 'b':
			opts.out.bytes = true;
			break;
		case 'h':
			usage();
			ret = DG_EXIT_OK;
			goto out;
		default:
			ret = range_args_getopt(&ra, "who", c, optarg);
			if (!ret)
				break;
			if (ret < 0)
				ret = dg_bad_option("who", c, argv);
			goto out;
		}
	}
	ret = range_args_check(&ra, "who", false);
	if (ret)
		goto out;
	if (optind != argc - 1) {
		ret = dg_usage_error("who",
				     optind == argc ? "no target given" : "too many arguments");
		goto out;
	}
	if (all_columns) {
		char *all = NULL;
		size_t i, len = 0;

		for (i = 0; i < ARRAY_SIZE(who_columns); i++)
			len += strlen(who_columns[i].name) + 1;
		all = calloc(1, len + 1);
		for (i = 0; all && i < ARRAY_SIZE(who_columns); i++) {
			if (i)
				strcat(all, ",");
			strcat(all, who_columns[i].name);
		}
		rc = all ? dg_columns_parse(&opts.cols, all) : -ENOMEM;
		free(all);
	} else {
		/* a whole device has no ranges: show what identifies the files */
		chosen_columns = columns != NULL;
		if (!columns)
			columns = ra.nr_off || ra.badblocks ? default_columns : whole_columns;
		rc = dg_columns_parse(&opts.cols, columns);
	}
	if (rc) {
		ret = DG_EXIT_USAGE;
		goto out;
	}

	rc = dg_target_new(ctx, argv[optind], &target);
	if (rc) {
		ret = dg_lib_fail(ctx, argv[optind], rc);
		goto out;
	}
	ret = range_args_resolve(&ra, target, ctx);
	if (ret)
		goto out;
	opts.kmem = dg_target_is_kmem(target);
	if (opts.kmem && !chosen_columns && !all_columns) {
		/* no files, no offsets: the node's pages and policies */
		free(opts.cols.ids);
		opts.cols.ids = NULL;
		opts.cols.nr = 0;
		if (dg_columns_parse(&opts.cols, kmem_columns)) {
			ret = DG_EXIT_FAILURE;
			goto out;
		}
	}
	if (ra.badblocks && !ra.nr) {
		/* an empty list is good news, not a whole-device query */
		printf("%s: no bad blocks listed\n", dg_target_get_devname(target));
		goto out;
	}
	rc = dg_target_set_rmap(target, ra.rmap);
	if (rc) {
		ret = dg_lib_fail(ctx, ra.rmap, rc);
		goto out;
	}
	rc = dg_who(target, ra.ranges, ra.nr, opts.flags, &res);
	if (rc) {
		ret = dg_lib_fail(ctx, argv[optind], rc);
		goto out;
	}
	if (opts.out.json) {
		struct dg_json_out jo;

		dg_json_begin(&jo, stdout);
		dg_json_who(&jo, target, res);
		dg_json_end(&jo);
	} else {
		if (!opts.out.raw && !opts.out.noheadings)
			print_topology(&opts, target, res);
		print_tables(&opts, res);
		fflush(stdout);
		dg_print_warnings(res);
	}
	/* a partial answer is not a plain success: scripts must see it */
	ret = dg_result_is_incomplete(res) ? DG_EXIT_INCOMPLETE : DG_EXIT_OK;
out:
	dg_result_free(res);
	dg_target_free(target);
	free(opts.cols.ids);
	range_args_free(&ra);
	return ret;
}
