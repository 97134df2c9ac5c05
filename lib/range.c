// SPDX-License-Identifier: LGPL-2.1-or-later
/* Byte counts and ranges as operators type them. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "private.h"

static int suffix_shift(const char **p)
{
	const char *s = *p;
	int shift;

	switch (toupper((unsigned char)*s)) {
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	case 'P':
		shift = 50;
		break;
	case 'E':
		shift = 60;
		break;
	case 'B':
		*p = s + 1;
		return 0;
	default:
		return -1;
	}
	s++;
	/* accept "K", "KiB", "KB": all binary, as lsblk and ndctl do */
	if (!strncmp(s, "iB", 2))
		s += 2;
	else if (toupper((unsigned char)*s) == 'B')
		s++;
	*p = s;
	return shift;
}

DG_EXPORT int dg_parse_size(const char *str, uint64_t *bytes)
{
	const char *p = str;
	uint64_t whole = 0, frac = 0, frac_div = 1;
	int shift = 0;

	if (!str)
		return -EINVAL;
	while (isspace((unsigned char)*p))
		p++;
	if (!isdigit((unsigned char)*p))
		return -EINVAL;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		p += 2;
		if (!isxdigit((unsigned char)*p))
			return -EINVAL;
		for (; isxdigit((unsigned char)*p); p++) {
			unsigned int d =
				isdigit((unsigned char)*p) ?
					(unsigned int)(*p - '0') :
					(unsigned int)(toupper((unsigned char)*p) - 'A' + 10);
			if (whole >> 60)
				return -ERANGE;
			whole = whole * 16 + d;
		}
	} else {
		for (; isdigit((unsigned char)*p); p++) {
			if (__builtin_mul_overflow(whole, 10, &whole) ||
			    __builtin_add_overflow(whole, (uint64_t)(*p - '0'), &whole))
				return -ERANGE;
		}
		if (*p == '.') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			for (; isdigit((unsigned char)*p); p++) {
				if (frac_div >= 1000000000000ULL)
					continue; /* ignore digits past 1e-12 */
				frac = frac * 10 + (uint64_t)(*p - '0');
				frac_div *= 10;
			}
		}
	}

	if (*p) {
		shift = suffix_shift(&p);
		if (shift < 0 || *p)
			return -EINVAL;
	}
	if (frac && !shift)
		return -EINVAL; /* "1.5" bytes makes no sense */
	if (shift && (whole >> (64 - shift)))
		return -ERANGE;
	whole <<= shift;
	if (frac) {
		/* frac / frac_div of one unit, rounded down to a byte */
		unsigned __int128 f = (unsigned __int128)frac << shift;
		if (__builtin_add_overflow(whole, (uint64_t)(f / frac_div), &whole))
			return -ERANGE;
	}
	*bytes = whole;
	return 0;
}

static int parse_part(const char *str, size_t len, uint64_t *val)
{
	char buf[64];

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, str, len);
	buf[len] = '\0';
	return dg_parse_size(buf, val);
}

DG_EXPORT int dg_parse_range(const char *str, bool badblocks, struct dg_range *range)
{
	uint64_t a, b;
	const char *sep;
	int rc;

	if (!str)
		return -EINVAL;
	if (badblocks) {
		/* "SECTOR COUNT", both decimal, as in /sys/block/X/badblocks */
		rc = dg_parse_badblocks_line(str, strlen(str), range);
		return rc == 1 ? 0 : rc ? rc : -EINVAL;
	}

	sep = strpbrk(str, "+-");
	if (!sep)
		return -EINVAL;
	rc = parse_part(str, (size_t)(sep - str), &a);
	if (rc)
		return rc;
	rc = dg_parse_size(sep + 1, &b);
	if (rc)
		return rc;
	if (*sep == '-') {
		if (b <= a)
			return -EINVAL;
		b -= a;
	}
	if (b == 0)
		return -EINVAL;
	if (__builtin_add_overflow(a, b, &(uint64_t){ 0 }))
		return -ERANGE;
	range->offset = a;
	range->length = b;
	return 0;
}

DG_EXPORT int dg_parse_pfn(const char *str, uint64_t *phys)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE), pfn = 0;
	bool hex, over = false;
	const char *p;

	if (!str)
		return -EINVAL;
	hex = str[0] == '0' && (str[1] == 'x' || str[1] == 'X');
	p = str + (hex ? 2 : 0);
	if (!*p)
		return -EINVAL;
	/* by hand: strtoull would take blanks, a sign and a second "0x" */
	for (; *p; p++) {
		unsigned int d;

		if (isdigit((unsigned char)*p))
			d = (unsigned int)(*p - '0');
		else if (hex && isxdigit((unsigned char)*p))
			d = (unsigned int)(toupper((unsigned char)*p) - 'A' + 10);
		else
			return -EINVAL;
		/* a malformed string is -EINVAL, even when long */
		over |= __builtin_mul_overflow(pfn, hex ? 16 : 10, &pfn) ||
			__builtin_add_overflow(pfn, (uint64_t)d, &pfn);
	}
	if (over || __builtin_mul_overflow(pfn, page, &pfn))
		return -ERANGE;
	*phys = pfn;
	return 0;
}
