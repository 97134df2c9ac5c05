// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * watch's policy: the config file (/etc/daxguard/watch.conf, INI, parsed
 * by libinih) and which policy applies to a device.
 *
 *   [global]                   what every device gets
 *   action = term
 *   grace = 5
 *   [uuid 8a0b...]             a namespace's (or region's) UUID
 *   [serial 8089-a2-1837-...]  a DIMM under the device's region
 *   [devname pmem*]            a glob on the device's name
 *
 * The first section that matches a device is its policy, over [global],
 * over the command line's --action, --grace and --punch.  The daemon runs
 * as root and acts on what the file says, so a file that anybody but root
 * can change is refused, as sudo refuses a writable sudoers.  Every bad
 * line is reported with its number; a file with any is not taken at all.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "watch.h"
#include "util/util.h"

#define CONFIG_LINE_MAX 4096
#define FLOOD_LIMIT_MAX 1000000

enum {
	SET_ACTION = 1 << 0,
	SET_GRACE = 1 << 1,
	SET_PUNCH = 1 << 2,
	SET_SHUTDOWN = 1 << 3,
	SET_PROTECT = 1 << 4,
};

void watch_policy_free(struct watch_policy *p)
{
	size_t i;

	for (i = 0; i < p->nr_protect; i++)
		free(p->protect[i]);
	free(p->protect);
	p->protect = NULL;
	p->nr_protect = 0;
}

static int add_protect(struct watch_policy *p, const char *name)
{
	char **v;
	size_t i;

	for (i = 0; i < p->nr_protect; i++)
		if (!strcmp(p->protect[i], name))
			return 0;
	v = reallocarray(p->protect, p->nr_protect + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	p->protect = v;
	v[p->nr_protect] = strdup(name);
	if (!v[p->nr_protect])
		return -ENOMEM;
	p->nr_protect++;
	return 0;
}

int watch_policy_copy(struct watch_policy *dst, const struct watch_policy *src)
{
	size_t i;
	int rc = 0;

	*dst = *src;
	dst->protect = NULL;
	dst->nr_protect = 0;
	for (i = 0; i < src->nr_protect && !rc; i++)
		rc = add_protect(dst, src->protect[i]);
	return rc;
}

/* @over's keys, where it set them, over @base, into @out */
static int policy_merge(struct watch_policy *out, const struct watch_policy *base,
			const struct watch_policy *over)
{
	struct watch_policy p;
	size_t i;
	int rc = watch_policy_copy(&p, base);

	if (over->set & SET_ACTION)
		p.action = over->action;
	if (over->set & SET_GRACE)
		p.grace_ms = over->grace_ms;
	if (over->set & SET_PUNCH)
		p.punch = over->punch;
	if (over->set & SET_SHUTDOWN)
		p.shutdown = over->shutdown;
	/* protection only adds: a section cannot unprotect what [global] protects */
	for (i = 0; i < over->nr_protect && !rc; i++)
		rc = add_protect(&p, over->protect[i]);
	p.set = base->set | over->set;
	watch_policy_free(out);
	*out = p;
	return rc;
}

int watch_parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* a command name (comm, up to 15 characters) or a unit name */
static bool good_name(const char *s)
{
	size_t n = strlen(s);
	const char *c;

	if (!n || n > 255)
		return false;
	for (c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("_.@:+-", *c))
			return false;
	return true;
}

int watch_parse_protect(const char *v, struct watch_policy *p)
{
	char *copy = strdup(v), *tok, *save = NULL;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ", \t", &save); tok && !rc; tok = strtok_r(NULL, ", \t", &save))
		rc = good_name(tok) ? add_protect(p, tok) : -EINVAL;
	free(copy);
	return rc;
}

static int parse_seconds(const char *v, unsigned int *ms)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || d < 0 || d > 86400)
		return -EINVAL;
	*ms = (unsigned int)(d * 1000);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The file */

struct loader {
	FILE *f;
	const char *path;
	unsigned int lineno;
	unsigned int header_line; /* the last "[section]" line */
	struct watch_config *cfg;
	struct watch_policy *cur; /* the section's policy, or NULL: a bad header */
	char cur_section[256];
	bool in_bad_section;
	unsigned int errors;
	unsigned int handler_error_line;
	void (*errfn)(const char *msg);
};

static void __attribute__((format(printf, 2, 3))) lerr(struct loader *l, const char *fmt, ...)
{
	char *msg, *line;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	l->errors++;
	if (n < 0)
		return;
	if (asprintf(&line, "%s:%u: %s", l->path, l->lineno, msg) >= 0) {
		l->errfn(line);
		free(line);
	}
	free(msg);
}

/* fgets for inih that counts lines, and refuses what it would cut or hide */
static char *reader(char *str, int num, void *stream)
{
	struct loader *l = stream;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, l->f);

	if (n < 0) {
		if (ferror(l->f))
			lerr(l, "cannot read: %s", strerror(errno));
		free(line);
		return NULL;
	}
	l->lineno++;
	if (n >= num - 1) {
		lerr(l, "longer than %d characters", num - 2);
		n = 0;
	} else if (memchr(line, '\0', (size_t)n)) {
		/* a C string ends there: what follows would be silently lost */
		lerr(l, "a NUL byte inside the line");
		n = 0;
	}
	memcpy(str, line, (size_t)n);
	str[n] = '\0';
	free(line);
	/* inih tells keys only: where each section begins is known here */
	if (str[strspn(str, " \t")] == '[')
		l->header_line = l->lineno;
	return str;
}

static struct watch_policy *new_section(struct loader *l, const char *section)
{
	struct watch_config *cfg = l->cfg;
	struct watch_section *s;
	const char *sp = strchr(section, ' ');
	enum watch_match m;
	size_t n;

	if (!strcmp(section, "global"))
		return &cfg->global;
	n = sp ? (size_t)(sp - section) : strlen(section);
	if (n == 4 && !strncmp(section, "uuid", 4))
		m = MATCH_UUID;
	else if (n == 6 && !strncmp(section, "serial", 6))
		m = MATCH_SERIAL;
	else if (n == 7 && !strncmp(section, "devname", 7))
		m = MATCH_DEVNAME;
	else {
		lerr(l,
		     "[%s]: not a section daxguard knows ([global], [uuid UUID], "
		     "[serial SERIAL] or [devname GLOB])",
		     section);
		return NULL;
	}
	while (sp && *sp == ' ')
		sp++;
	if (!sp || !*sp) {
		lerr(l, "[%s]: which one? ([%s VALUE])", section, section);
		return NULL;
	}
	s = reallocarray(cfg->sections, cfg->nr_sections + 1, sizeof(*s));
	if (!s)
		return NULL;
	cfg->sections = s;
	s = &s[cfg->nr_sections];
	memset(s, 0, sizeof(*s));
	s->match = m;
	s->pattern = strdup(sp);
	s->lineno = l->header_line;
	if (!s->pattern)
		return NULL;
	cfg->nr_sections++;
	return &s->policy;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct loader *l = user;
	struct watch_policy *p;
	enum dg_action a = DG_ACTION_REPORT;
	unsigned int errors = l->errors;

	/* inih calls us per key: a new section shows as a new name */
	if (strcmp(section, l->cur_section) || (!l->cur && !l->in_bad_section)) {
		snprintf(l->cur_section, sizeof(l->cur_section), "%s", section);
		l->cur = section[0] ? new_section(l, section) : &l->cfg->global;
		l->in_bad_section = !l->cur;
	}
	p = l->cur;
	if (!p)
		goto out; /* the header was reported */
	if (!strcmp(name, "action")) {
		if (dg_action_parse(value, &a))
			lerr(l, "action = %s: not one of report, term, kill, bus", value);
		p->action = a;
		p->set |= SET_ACTION;
	} else if (!strcmp(name, "grace")) {
		if (parse_seconds(value, &p->grace_ms))
			lerr(l, "grace = %s: not a number of seconds (0 to 86400)", value);
		p->set |= SET_GRACE;
	} else if (!strcmp(name, "punch")) {
		if (watch_parse_bool(value, &p->punch))
			lerr(l, "punch = %s: not yes or no", value);
		p->set |= SET_PUNCH;
	} else if (!strcmp(name, "shutdown-on-metadata")) {
		if (watch_parse_bool(value, &p->shutdown))
			lerr(l, "shutdown-on-metadata = %s: not yes or no", value);
		p->set |= SET_SHUTDOWN;
	} else if (!strcmp(name, "protect")) {
		if (watch_parse_protect(value, p))
			lerr(l, "protect = %s: not a list of command or unit names", value);
		p->set |= SET_PROTECT;
	} else if (!strcmp(name, "flood-limit")) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(value, &end, 10);
		if (p != &l->cfg->global)
			lerr(l, "flood-limit: only in [global]");
		else if (errno || end == value || *end || !v || v > FLOOD_LIMIT_MAX)
			lerr(l, "flood-limit = %s: not a number of ranges a minute (1 to %d)",
			     value, FLOOD_LIMIT_MAX);
		else {
			l->cfg->flood_limit = (unsigned int)v;
			l->cfg->flood_set = true;
		}
	} else {
		lerr(l,
		     "unknown key '%s' (action, grace, punch, shutdown-on-metadata, protect, "
		     "flood-limit)",
		     name);
	}
out:
	if (l->errors != errors)
		l->handler_error_line = l->lineno;
	/* go on: every bad line is reported, not only the first */
	return 1;
}

void watch_config_free(struct watch_config *cfg)
{
	size_t i;

	if (!cfg)
		return;
	for (i = 0; i < cfg->nr_sections; i++) {
		free(cfg->sections[i].pattern);
		watch_policy_free(&cfg->sections[i].policy);
	}
	free(cfg->sections);
	watch_policy_free(&cfg->global);
	free(cfg->path);
	free(cfg);
}

int watch_config_load(const char *path, const struct watch_policy *base,
		      void (*errfn)(const char *msg), struct watch_config **out)
{
	struct watch_config *cfg = calloc(1, sizeof(*cfg));
	char why[PATH_MAX + 128], *msg;
	FILE *f;
	int rc, fd;

	if (!cfg)
		return -ENOMEM;
	if (!path) {
		rc = watch_policy_copy(&cfg->global, base);
		if (rc) {
			watch_config_free(cfg);
			return rc;
		}
		*out = cfg;
		return 0;
	}
	cfg->path = strdup(path);
	if (!cfg->path) {
		watch_config_free(cfg);
		return -ENOMEM;
	}
	rc = dg_path_root_only(path, why, sizeof(why));
	if (rc) {
		if (rc == -EPERM)
			rc = asprintf(&msg,
				      "%s: refused: %s (the daemon runs as root and acts on "
				      "what it says)",
				      path, why) < 0 ?
				     -ENOMEM :
				     -EPERM;
		else
			rc = asprintf(&msg, "%s: %s", path, strerror(-rc)) < 0 ? -ENOMEM : rc;
		if (rc != -ENOMEM) {
			errfn(msg);
			free(msg);
		}
		watch_config_free(cfg);
		return rc;
	}
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd >= 0) {
		struct stat st;
		int e = 0;

		/* a directory opens, and reads as nothing: no policy at all */
		if (fstat(fd, &st) < 0)
			e = errno;
		else if (!S_ISREG(st.st_mode))
			e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		if (e) {
			close(fd);
			fd = -1;
			errno = e;
		}
	}
	f = fd < 0 ? NULL : fdopen(fd, "r");
	if (!f) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		if (asprintf(&msg, "%s: cannot read: %s", path, strerror(-rc)) >= 0) {
			errfn(msg);
			free(msg);
		}
		watch_config_free(cfg);
		return rc;
	}
	rc = watch_config_parse(cfg, f, base, errfn);
	fclose(f);
	if (rc) {
		watch_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

int watch_config_parse(struct watch_config *cfg, FILE *f, const struct watch_policy *base,
		       void (*errfn)(const char *msg))
{
	struct loader l = { .f = f, .path = cfg->path, .cfg = cfg, .errfn = errfn };
	struct watch_policy global = { 0 };
	size_t i;
	int rc;

	/* lines as long as a protect list needs; libinih's are globals */
	ini_use_stack = false;
	ini_initial_alloc = CONFIG_LINE_MAX;
	ini_max_line = CONFIG_LINE_MAX;
	ini_allow_realloc = false;
	ini_stop_on_first_error = false;
	rc = ini_parse_stream(reader, &l, handler, &l);
	if (rc > 0 && (unsigned int)rc != l.handler_error_line) {
		/* a line inih could not read at all (no '=', no ']') */
		l.lineno = (unsigned int)rc;
		lerr(&l, "not 'key = value', '[section]' or a comment");
	} else if (rc < 0) {
		l.errors++;
	}
	if (l.errors)
		return -EINVAL;
	/* complete each policy once: [global] over the command line, sections over that */
	global = cfg->global;
	memset(&cfg->global, 0, sizeof(cfg->global));
	rc = policy_merge(&cfg->global, base, &global);
	for (i = 0; !rc && i < cfg->nr_sections; i++) {
		struct watch_policy sec = cfg->sections[i].policy;

		memset(&cfg->sections[i].policy, 0, sizeof(sec));
		rc = policy_merge(&cfg->sections[i].policy, &cfg->global, &sec);
		watch_policy_free(&sec);
	}
	watch_policy_free(&global);
	return rc;
}

static bool section_matches(const struct watch_section *s, struct dg_device *dev)
{
	const char *name = dg_device_get_devname(dev);
	size_t i;

	switch (s->match) {
	case MATCH_UUID:
		return (dg_device_get_uuid(dev) &&
			!strcasecmp(s->pattern, dg_device_get_uuid(dev))) ||
		       (dg_device_get_region_uuid(dev) &&
			!strcasecmp(s->pattern, dg_device_get_region_uuid(dev)));
	case MATCH_SERIAL:
		for (i = 0; i < dg_device_get_nr_serials(dev); i++)
			if (!strcasecmp(s->pattern, dg_device_get_serial(dev, i)))
				return true;
		return false;
	case MATCH_DEVNAME:
		return !fnmatch(s->pattern, name, 0) ||
		       (!strncmp(name, "/dev/", 5) && !fnmatch(s->pattern, name + 5, 0));
	}
	return false;
}

const struct watch_policy *watch_config_policy(const struct watch_config *cfg,
					       struct dg_device *dev, const char **matched)
{
	size_t i;

	for (i = 0; dev && i < cfg->nr_sections; i++)
		if (section_matches(&cfg->sections[i], dev)) {
			if (matched)
				*matched = cfg->sections[i].pattern;
			return &cfg->sections[i].policy;
		}
	if (matched)
		*matched = NULL;
	return &cfg->global;
}

/* ------------------------------------------------------------------ */
/* protect: names to pids */

static bool is_unit(const char *name)
{
	static const char *const suffix[] = { ".service", ".scope", ".slice" };
	size_t n = strlen(name), i;

	for (i = 0; i < ARRAY_SIZE(suffix); i++) {
		size_t m = strlen(suffix[i]);

		if (n > m && !strcmp(name + n - m, suffix[i]))
			return true;
	}
	return false;
}

/* the process's cgroup path has @unit as one of its components */
static bool in_unit(int dirfd, const char *unit)
{
	char buf[4096], *p;
	size_t n = strlen(unit);

	if (dg_read_text(dirfd, "cgroup", buf, sizeof(buf)) < 0)
		return false;
	for (p = strstr(buf, unit); p; p = strstr(p + 1, unit))
		if (p[-1] == '/' && (p[n] == '/' || p[n] == '\n' || p[n] == '\0'))
			return true;
	return false;
}

pid_t *watch_protect_pids(const struct watch_policy *pol, size_t *nr)
{
	pid_t *pids = NULL;
	DIR *proc;
	struct dirent *de;

	*nr = 0;
	if (!pol->nr_protect)
		return NULL;
	proc = opendir("/proc");
	if (!proc)
		return NULL;
	while ((de = readdir(proc))) {
		char comm[64];
		bool hit = false;
		size_t i;
		int pfd;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pfd = openat(dirfd(proc), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0)
			continue;
		if (dg_read_text(pfd, "comm", comm, sizeof(comm)) < 0)
			comm[0] = '\0';
		for (i = 0; i < pol->nr_protect && !hit; i++)
			hit = is_unit(pol->protect[i]) ? in_unit(pfd, pol->protect[i]) :
							 !strcmp(comm, pol->protect[i]);
		close(pfd);
		if (hit) {
			pid_t *p = reallocarray(pids, *nr + 1, sizeof(*p));

			if (!p)
				break;
			pids = p;
			pids[(*nr)++] = (pid_t)atoi(de->d_name);
		}
	}
	closedir(proc);
	return pids;
}
