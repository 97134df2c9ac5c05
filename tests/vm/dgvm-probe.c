// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dgvm-probe: a static helper for the real-DAX (QEMU) test tier.
 *
 * Usage:
 *   dgvm-probe [-r READYFILE] map PATH OFFSET LENGTH MODE [INTERVAL_MS]
 *       Map LENGTH bytes of PATH at OFFSET (LENGTH 0: to the end of the
 *       file).  MODE is shared-rw, shared-ro, private-ro, private-rw or
 *       private-cow (private-rw that writes every page: copy-on-write).
 *       Shared mappings ask for MAP_SHARED_VALIDATE|MAP_SYNC first (only
 *       fs-DAX and device-dax accept it) and say whether they got it.
 *       shared-rw fills the range with pattern(file offset) through the
 *       mapping; every mode then reads every page.  Every INTERVAL_MS
 *       (default 1000, 0: never) the range is touched again: shared-rw
 *       rewrites the first byte of every page with the same value, the
 *       others read it.  Then it waits until killed.
 *       SIGUSR1: madvise(MADV_HWPOISON) the page at file offset
 *       $DGVM_POISON_OFFSET (must lie inside the mapping).
 *       DGVM_NO_TOUCH=1: map only, touch nothing, ever.
 *   dgvm-probe [-r READYFILE] writer PATH
 *       Append 4 KiB records (magic, sequence number, checksum) to PATH
 *       with write(2), no fsync, one every 10 ms up to 4096 records, then
 *       wait.  Prints "records N" after every 64 records.
 *   dgvm-probe verify PATH MIN
 *       Check a writer's file: whole records only, each intact and in
 *       sequence, at least MIN of them.  Prints "records N".
 *   dgvm-probe check PATH OFFSET LENGTH
 *       Check that PATH holds pattern(file offset) in the range.
 *   dgvm-probe statx PATH
 *       Print "dax=1" or "dax=0" (STATX_ATTR_DAX).
 *   dgvm-probe [-r READYFILE] pin LENGTH
 *       Allocate LENGTH bytes of anonymous memory, touch every page, and
 *       register it as an io_uring fixed buffer: a long-term pin
 *       (FOLL_LONGTERM) held until the process dies.  Prints "pinned N".
 *
 * Every SIGBUS is logged on stdout, one line each (up to 20 lines, then
 * counted only):
 *   SIGBUS pid=P code=BUS_MCEERR_AO off=0xFILEOFFSET lsb=12
 * SIGTERM and SIGINT print "totals pid=P ADRERR=.. OBJERR=.. MCEERR_AR=..
 * MCEERR_AO=.. other=.." and exit with 128+signal.  An access that faults
 * is skipped (siglongjmp) so the probe survives to report.
 *
 * READYFILE gets "ready\n" (through a rename) once the mapping is set up
 * and touched, or the first record is written.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <linux/io_uring.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#ifndef BUS_MCEERR_AR
#define BUS_MCEERR_AR 4
#endif
#ifndef BUS_MCEERR_AO
#define BUS_MCEERR_AO 5
#endif
#ifndef STATX_ATTR_DAX
#define STATX_ATTR_DAX 0x00200000
#endif

#define PAGE 4096UL
#define REC_MAGIC 0x44475652u /* "DGVR" */
#define REC_MAX 4096u

static const char *readyfile;
static unsigned char *map_base;
static uint64_t map_off, map_len;
static sigjmp_buf jump;
static volatile sig_atomic_t in_access, want_poison;
static volatile sig_atomic_t counts[6]; /* other, ADRERR, ADRALN, OBJERR, AR, AO */
static volatile sig_atomic_t nlogged;

static unsigned char pattern(uint64_t off)
{
	return (unsigned char)(off * 13 + off / PAGE * 7 + 0x5a);
}

/* async-signal-safe formatting */
static char *put_str(char *p, const char *s)
{
	while (*s)
		*p++ = *s++;
	return p;
}

static char *put_num(char *p, unsigned long v, int base)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	while (n)
		*p++ = tmp[--n];
	return p;
}

static int code_index(int code)
{
	switch (code) {
	case BUS_ADRERR:
		return 1;
	case BUS_ADRALN:
		return 2;
	case BUS_OBJERR:
		return 3;
	case BUS_MCEERR_AR:
		return 4;
	case BUS_MCEERR_AO:
		return 5;
	default:
		return 0;
	}
}

static const char *const code_names[6] = {
	"other", "BUS_ADRERR", "BUS_ADRALN", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO",
};

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	int idx = code_index(si->si_code);
	char buf[160], *p = buf;

	(void)sig;
	(void)uc;
	counts[idx]++;
	if (nlogged < 20) {
		unsigned char *a = si->si_addr;

		nlogged++;
		p = put_str(p, "SIGBUS pid=");
		p = put_num(p, (unsigned long)getpid(), 10);
		p = put_str(p, " code=");
		p = put_str(p, code_names[idx]);
		p = put_str(p, " off=");
		if (map_base && a >= map_base && a < map_base + map_len) {
			p = put_str(p, "0x");
			p = put_num(p, (unsigned long)(a - map_base + map_off), 16);
		} else {
			p = put_str(p, "outside");
		}
		p = put_str(p, " lsb=");
		p = put_num(p, (unsigned long)si->si_addr_lsb, 10);
		p = put_str(p, "\n");
		if (write(1, buf, p - buf) < 0)
			_exit(99);
	}
	if (in_access)
		siglongjmp(jump, 1);
}

static void print_totals(void)
{
	char buf[200], *p = buf;
	int i;

	p = put_str(p, "totals pid=");
	p = put_num(p, (unsigned long)getpid(), 10);
	for (i = 1; i <= 6; i++) {
		int k = i % 6;
		static const char *const short_names[6] = {
			"other", "ADRERR", "ADRALN", "OBJERR", "MCEERR_AR", "MCEERR_AO",
		};
		p = put_str(p, " ");
		p = put_str(p, short_names[k]);
		p = put_str(p, "=");
		p = put_num(p, (unsigned long)counts[k], 10);
	}
	p = put_str(p, "\n");
	if (write(1, buf, p - buf) < 0)
		_exit(99);
}

static void on_term(int sig)
{
	print_totals();
	_exit(128 + sig);
}

static void on_usr1(int sig)
{
	(void)sig;
	want_poison = 1;
}

static void die(const char *what)
{
	printf("dgvm-probe: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void signal_ready(void)
{
	char tmp[4096];
	FILE *f;

	if (!readyfile)
		return;
	snprintf(tmp, sizeof(tmp), "%s.%ld", readyfile, (long)getpid());
	f = fopen(tmp, "w");
	if (!f || fputs("ready\n", f) == EOF || fclose(f) == EOF)
		die(tmp);
	if (rename(tmp, readyfile) < 0)
		die(readyfile);
}

static void setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGBUS, &sa, NULL);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGUSR1, on_usr1);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	/* a signal cuts the sleep short: that is fine, callers loop */
	nanosleep(&ts, NULL);
}

/* Touch every page; a fault skips the page.  Returns the faulted pages. */
static unsigned touch(int fill, int write_back)
{
	volatile unsigned bad = 0;
	volatile uint64_t i;

	for (i = 0; i < map_len; i += PAGE) {
		volatile unsigned char *q = map_base + i;

		in_access = 1;
		if (sigsetjmp(jump, 1) == 0) {
			if (fill) {
				uint64_t j;

				for (j = 0; j < PAGE && i + j < map_len; j++)
					q[j] = pattern(map_off + i + j);
			} else if (write_back) {
				*q = pattern(map_off + i);
			} else {
				(void)*q;
			}
		} else {
			bad++;
		}
		in_access = 0;
	}
	return bad;
}

static void do_poison(void)
{
	const char *env = getenv("DGVM_POISON_OFFSET");
	uint64_t off;
	int r, e;

	want_poison = 0;
	if (!env) {
		printf("poison: DGVM_POISON_OFFSET not set\n");
		return;
	}
	off = strtoull(env, NULL, 0);
	if (off < map_off || off >= map_off + map_len || off % PAGE) {
		printf("poison: offset %#llx outside the mapping\n", (unsigned long long)off);
		return;
	}
	in_access = 1;
	if (sigsetjmp(jump, 1) == 0) {
		r = madvise(map_base + (off - map_off), PAGE, MADV_HWPOISON);
		e = errno;
	} else {
		r = -2;
		e = 0;
	}
	in_access = 0;
	printf("poison pid=%d off=%#llx madvise=%d%s%s\n", (int)getpid(), (unsigned long long)off,
	       r, r == -1 ? " " : "", r == -1 ? strerror(e) : "");
}

static int cmd_map(int argc, char **argv)
{
	const char *path, *mode;
	int shared, writable, cow = 0, fd, prot, flags, notouch;
	long interval = 1000;
	struct stat st;
	void *p;

	if (argc < 5)
		return 1;
	path = argv[1];
	map_off = strtoull(argv[2], NULL, 0);
	map_len = strtoull(argv[3], NULL, 0);
	mode = argv[4];
	if (argc > 5)
		interval = atol(argv[5]);
	if (!strcmp(mode, "shared-rw")) {
		shared = 1;
		writable = 1;
	} else if (!strcmp(mode, "shared-ro")) {
		shared = 1;
		writable = 0;
	} else if (!strcmp(mode, "private-ro")) {
		shared = 0;
		writable = 0;
	} else if (!strcmp(mode, "private-rw")) {
		shared = 0;
		writable = 1;
	} else if (!strcmp(mode, "private-cow")) {
		shared = 0;
		writable = 1;
		cow = 1;
	} else {
		printf("dgvm-probe: %s: invalid mapping mode\n", mode);
		return 2;
	}
	fd = open(path, (writable && shared) ? O_RDWR : O_RDONLY);
	if (fd < 0)
		die(path);
	if (fstat(fd, &st) < 0)
		die(path);
	if (map_len == 0) {
		if ((uint64_t)st.st_size <= map_off) {
			printf("dgvm-probe: %s: nothing to map\n", path);
			return 2;
		}
		map_len = st.st_size - map_off;
	}
	prot = PROT_READ | (writable ? PROT_WRITE : 0);
	flags = shared ? MAP_SHARED : MAP_PRIVATE;
	p = MAP_FAILED;
	if (shared)
		p = mmap(NULL, map_len, prot, MAP_SHARED_VALIDATE | MAP_SYNC, fd, map_off);
	if (p != MAP_FAILED) {
		printf("map pid=%d path=%s off=%#llx len=%#llx mode=%s map_sync=1\n", (int)getpid(),
		       path, (unsigned long long)map_off, (unsigned long long)map_len, mode);
	} else {
		p = mmap(NULL, map_len, prot, flags, fd, map_off);
		if (p == MAP_FAILED)
			die(path);
		printf("map pid=%d path=%s off=%#llx len=%#llx mode=%s map_sync=0\n", (int)getpid(),
		       path, (unsigned long long)map_off, (unsigned long long)map_len, mode);
	}
	close(fd);
	map_base = p;
	notouch = getenv("DGVM_NO_TOUCH") && !strcmp(getenv("DGVM_NO_TOUCH"), "1");
	if (notouch)
		interval = 0;
	else if (touch((writable && shared) || cow, 0))
		printf("dgvm-probe: faults during the first touch\n");
	signal_ready();
	for (;;) {
		if (want_poison)
			do_poison();
		if (interval > 0) {
			sleep_ms(interval);
			if (want_poison)
				continue;
			touch(0, writable);
		} else {
			pause();
		}
	}
}

struct rec_head {
	uint32_t magic;
	uint32_t seq;
	uint32_t sum;
	uint32_t pad;
};

static uint32_t rec_sum(const unsigned char *body, size_t n, uint32_t seq)
{
	uint32_t h = 2166136261u ^ seq;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ body[i]) * 16777619u;
	return h;
}

static void rec_fill(unsigned char *rec, uint32_t seq)
{
	struct rec_head *hd = (struct rec_head *)rec;
	size_t i;

	for (i = sizeof(*hd); i < PAGE; i++)
		rec[i] = (unsigned char)(seq * 31 + i);
	hd->magic = REC_MAGIC;
	hd->seq = seq;
	hd->pad = 0;
	hd->sum = rec_sum(rec + sizeof(*hd), PAGE - sizeof(*hd), seq);
}

static int cmd_writer(int argc, char **argv)
{
	unsigned char rec[PAGE];
	uint32_t seq;
	int fd;

	if (argc < 2)
		return 1;
	fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	if (fd < 0)
		die(argv[1]);
	for (seq = 0; seq < REC_MAX; seq++) {
		ssize_t n;

		rec_fill(rec, seq);
		n = write(fd, rec, PAGE);
		if (n != (ssize_t)PAGE) {
			printf("writer pid=%d write of record %u: %s\n", (int)getpid(), seq,
			       n < 0 ? strerror(errno) : "short");
			break;
		}
		if (seq == 0)
			signal_ready();
		if ((seq + 1) % 64 == 0)
			printf("records %u\n", seq + 1);
		sleep_ms(10);
	}
	printf("writer pid=%d done at %u records\n", (int)getpid(), seq);
	for (;;)
		pause();
}

static int cmd_verify(int argc, char **argv)
{
	unsigned char rec[PAGE];
	unsigned long min;
	uint32_t seq = 0;
	struct stat st;
	int fd;

	if (argc < 3)
		return 1;
	min = strtoul(argv[2], NULL, 0);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		die(argv[1]);
	if (fstat(fd, &st) < 0)
		die(argv[1]);
	if (st.st_size % PAGE) {
		printf("verify: %s: size %lld is not whole records\n", argv[1],
		       (long long)st.st_size);
		return 1;
	}
	for (;;) {
		struct rec_head *hd = (struct rec_head *)rec;
		ssize_t n = pread(fd, rec, PAGE, (off_t)seq * PAGE);

		if (n == 0)
			break;
		if (n != (ssize_t)PAGE) {
			printf("verify: record %u: %s\n", seq,
			       n < 0 ? strerror(errno) : "short read");
			return 1;
		}
		if (hd->magic != REC_MAGIC || hd->seq != seq ||
		    hd->sum != rec_sum(rec + sizeof(*hd), PAGE - sizeof(*hd), seq)) {
			printf("verify: record %u is damaged\n", seq);
			return 1;
		}
		seq++;
	}
	printf("records %u\n", seq);
	if (seq < min) {
		printf("verify: %u records, expected at least %lu\n", seq, min);
		return 1;
	}
	return 0;
}

static int cmd_check(int argc, char **argv)
{
	unsigned char buf[PAGE];
	uint64_t off, len, i;
	int fd;

	if (argc < 4)
		return 1;
	off = strtoull(argv[2], NULL, 0);
	len = strtoull(argv[3], NULL, 0);
	fd = open(argv[1], O_RDONLY);
	if (fd < 0)
		die(argv[1]);
	for (i = 0; i < len; i += PAGE) {
		size_t want = len - i < PAGE ? len - i : PAGE, j;
		ssize_t n = pread(fd, buf, want, off + i);

		if (n != (ssize_t)want) {
			printf("check: %s at %#llx: %s\n", argv[1], (unsigned long long)(off + i),
			       n < 0 ? strerror(errno) : "short read");
			return 1;
		}
		for (j = 0; j < want; j++)
			if (buf[j] != pattern(off + i + j)) {
				printf("check: %s: wrong byte at %#llx\n", argv[1],
				       (unsigned long long)(off + i + j));
				return 1;
			}
	}
	printf("check: %s %#llx+%#llx ok\n", argv[1], (unsigned long long)off,
	       (unsigned long long)len);
	return 0;
}

static int cmd_statx(int argc, char **argv)
{
	struct statx stx;

	if (argc < 2)
		return 1;
	if (syscall(SYS_statx, AT_FDCWD, argv[1], 0, STATX_BASIC_STATS, &stx) < 0)
		die(argv[1]);
	printf("dax=%d\n", (stx.stx_attributes & STATX_ATTR_DAX) ? 1 : 0);
	return 0;
}

static int cmd_pin(int argc, char **argv)
{
	struct io_uring_params p;
	struct iovec iov;
	size_t len;
	char *mem;
	int fd;

	if (argc < 2)
		return 1;
	len = strtoull(argv[1], NULL, 0);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	for (size_t i = 0; i < len; i += 4096)
		mem[i] = 1;
	memset(&p, 0, sizeof(p));
	fd = (int)syscall(__NR_io_uring_setup, 4, &p);
	if (fd < 0)
		die("io_uring_setup");
	iov = (struct iovec){ .iov_base = mem, .iov_len = len };
	if (syscall(__NR_io_uring_register, fd, IORING_REGISTER_BUFFERS, &iov, 1) < 0)
		die("io_uring_register");
	printf("pinned %zu\n", len);
	signal_ready();
	for (;;)
		pause();
}

static void usage(void)
{
	fprintf(stderr,
		"usage: dgvm-probe [-r READYFILE] map PATH OFFSET LENGTH MODE [INTERVAL_MS]\n"
		"       dgvm-probe [-r READYFILE] writer PATH\n"
		"       dgvm-probe verify PATH MIN\n"
		"       dgvm-probe check PATH OFFSET LENGTH\n"
		"       dgvm-probe statx PATH\n"
		"       dgvm-probe [-r READYFILE] pin LENGTH\n");
	exit(1);
}

int main(int argc, char **argv)
{
	int opt, rc = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "+r:")) != -1) {
		if (opt == 'r')
			readyfile = optarg;
		else
			usage();
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		usage();
	setup_signals();
	if (!strcmp(argv[0], "map"))
		rc = cmd_map(argc, argv);
	else if (!strcmp(argv[0], "writer"))
		rc = cmd_writer(argc, argv);
	else if (!strcmp(argv[0], "verify"))
		rc = cmd_verify(argc, argv);
	else if (!strcmp(argv[0], "check"))
		rc = cmd_check(argc, argv);
	else if (!strcmp(argv[0], "statx"))
		rc = cmd_statx(argc, argv);
	else if (!strcmp(argv[0], "pin"))
		rc = cmd_pin(argc, argv);
	else
		usage();
	if (rc == 1 && argc < 2)
		usage();
	return rc;
}
