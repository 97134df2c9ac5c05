// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Names that users choose, made safe to print.
 *
 * daxguard runs as root and prints file names, mountpoints, loop backing
 * files and command names that any user can set: an escape sequence in
 * one would retitle or clear root's terminal, a newline forge a line of
 * the report, and a byte that is not UTF-8 make the whole JSON document
 * invalid for a strict parser.  The encoding is the one libsmartcols uses
 * for table cells, so a name looks the same in every part of the output:
 * a byte that is not part of a printable character (for a terminal) or of
 * valid UTF-8 (for JSON) becomes \xNN, and a backslash that would start
 * such a sequence becomes \x5c, so the encoding can be undone.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <wctype.h>

#include "util.h"

/* The length of the valid UTF-8 sequence at @s (at most @n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and past U+10FFFF are not UTF-8 */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Is the character of @len bytes at @s printable on a terminal? */
static bool printable(const unsigned char *s, size_t len)
{
	wchar_t wc;
	mbstate_t st;

	if (len == 1)
		return s[0] >= 0x20 && s[0] < 0x7f;
	memset(&st, 0, sizeof(st));
	/* in the C locale no multibyte character counts as printable */
	if (mbrtowc(&wc, (const char *)s, len, &st) != len)
		return false;
	return iswprint((wint_t)wc);
}

bool dg_str_needs_escape(const char *str, unsigned int how)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = strlen(str), i = 0;

	while (i < n) {
		size_t len = utf8_len(s + i, n - i);

		if (!len || (s[i] == '\\' && s[i + 1] == 'x') ||
		    ((how & DG_ESC_TERMINAL) && !printable(s + i, len)))
			return true;
		i += len;
	}
	return false;
}

char *dg_str_escape(const char *str, unsigned int how)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n, i = 0, o = 0;
	char *out;

	if (!str)
		return NULL;
	if (!dg_str_needs_escape(str, how))
		return strdup(str);
	n = strlen(str);
	out = malloc(n * 4 + 1);
	if (!out)
		return NULL;
	while (i < n) {
		size_t len = utf8_len(s + i, n - i);

		if (!len || (s[i] == '\\' && s[i + 1] == 'x') ||
		    ((how & DG_ESC_TERMINAL) && !printable(s + i, len))) {
			/* every byte of a character that cannot be shown */
			size_t k, cnt = len ? len : 1;

			for (k = 0; k < cnt; k++)
				o += (size_t)sprintf(out + o, "\\x%02x", s[i + k]);
			i += cnt;
			continue;
		}
		memcpy(out + o, s + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
	return out;
}
