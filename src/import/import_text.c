/*
 * import_text.c - text from an OpenAPI document made fit to show a model
 * (see import_text.h for what is removed and why).
 *
 * One pass over the input: UTF-8 decoded strictly (overlong forms,
 * surrogates and code points past U+10FFFF are invalid and dropped byte by
 * byte), each code point kept or dropped by moat's list, and the kept text
 * laid out as it goes: spaces and newlines are held back until the next
 * visible character, so trailing space on a line, runs of blank lines and
 * space at either end never reach the output. The pass stops as soon as
 * the next character would not fit in max bytes, so a huge description
 * costs no more than its first max bytes of visible text (plus whatever
 * invisible characters precede them). Written by hand: no Debian library
 * holds this policy (see the header).
 */
#include "import_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define ELLIPSIS "\xe2\x80\xa6" /* U+2026 */

/* One code point decoded strictly from s[0..n) (n >= 1); its length in
 * *len. Returns -1 (with *len 1) for an invalid sequence. */
static int32_t utf8_next(const unsigned char *s, size_t n, size_t *len)
{
	unsigned char b = s[0];
	size_t need;
	int32_t cp;
	unsigned char lo = 0x80, hi = 0xBF;

	*len = 1;
	if (b < 0x80)
		return b;
	if (b >= 0xC2 && b <= 0xDF) {
		need = 1;
		cp = b & 0x1F;
	} else if (b >= 0xE0 && b <= 0xEF) {
		need = 2;
		cp = b & 0x0F;
		if (b == 0xE0)
			lo = 0xA0; /* no overlong forms */
		if (b == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (b >= 0xF0 && b <= 0xF4) {
		need = 3;
		cp = b & 0x07;
		if (b == 0xF0)
			lo = 0x90;
		if (b == 0xF4)
			hi = 0x8F; /* nothing past U+10FFFF */
	} else {
		return -1;
	}
	if (n < need + 1)
		return -1;
	for (size_t i = 1; i <= need; i++) {
		unsigned char c = s[i];
		if (c < (i == 1 ? lo : 0x80) || c > (i == 1 ? hi : 0xBF))
			return -1;
		cp = (cp << 6) | (c & 0x3F);
	}
	*len = need + 1;
	return cp;
}

/* Code points dropped: controls, invisible format characters (zero-width,
 * bidi embeddings/overrides/isolates and marks, soft hyphen, Mongolian
 * vowel separator, interlinear annotation), tag characters, private use
 * and noncharacters. Newline and tab are handled by the caller. */
static bool dropped(int32_t c)
{
	if (c < 0x20 || (c >= 0x7F && c <= 0x9F))
		return true;
	if (c == 0xAD || c == 0x061C || c == 0x180E || c == 0xFEFF)
		return true;
	if ((c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
	    (c >= 0x2060 && c <= 0x206F) || (c >= 0xFFF9 && c <= 0xFFFB))
		return true;
	if (c >= 0xE0000 && c <= 0xE007F) /* tags */
		return true;
	if ((c >= 0xE000 && c <= 0xF8FF) || c >= 0xF0000) /* private use (planes 15, 16) */
		return true;
	if ((c >= 0xFDD0 && c <= 0xFDEF) || (c & 0xFFFE) == 0xFFFE) /* noncharacters */
		return true;
	return false;
}

struct out {
	char *buf;
	size_t len, max;
	size_t spaces;	 /* held-back spaces on the current line */
	size_t newlines; /* held-back line ends */
	bool cut;
};

/* Append the held-back layout and then bytes c[0..n) (one visible
 * character), unless that would pass max: then mark the text cut. */
static void put(struct out *o, const char *c, size_t n, bool one_line)
{
	size_t nl = 0, sp = 0;

	if (o->len > 0) {
		if (one_line) {
			sp = (o->newlines || o->spaces) ? 1 : 0;
		} else {
			nl = o->newlines > 2 ? 2 : o->newlines;
			sp = o->spaces;
		}
	}
	if (sp > o->max || nl + sp + n > o->max - o->len) {
		o->cut = true;
		return;
	}
	memset(o->buf + o->len, '\n', nl);
	memset(o->buf + o->len + nl, ' ', sp);
	memcpy(o->buf + o->len + nl + sp, c, n);
	o->len += nl + sp + n;
	o->spaces = o->newlines = 0;
}

char *import_text(const char *s, size_t max, bool one_line)
{
	const unsigned char *p = (const unsigned char *)s;
	struct out o = {.max = max};
	size_t n = s ? strlen(s) : 0, i = 0;

	if (max > SIZE_MAX - sizeof(ELLIPSIS))
		max = o.max = SIZE_MAX - sizeof(ELLIPSIS);
	/* The output never exceeds the input's length nor max. */
	o.buf = malloc((n < max ? n : max) + sizeof(ELLIPSIS));
	if (!o.buf)
		return NULL;
	while (i < n && !o.cut) {
		size_t len;
		int32_t c = utf8_next(p + i, n - i, &len);
		const char *at = (const char *)p + i;

		i += len;
		if (c == '\n' || c == 0x2028 || c == 0x2029) {
			o.newlines++;
			o.spaces = 0; /* trailing space of the line */
		} else if (c == ' ' || c == '\t') {
			o.spaces += o.spaces < max; /* bounded: more never fits */
		} else if (c < 0 || dropped(c)) {
			continue; /* invalid bytes, CR, controls, invisible characters */
		} else {
			put(&o, at, len, one_line);
		}
	}
	if (o.cut) {
		while (o.len > 0 && (o.buf[o.len - 1] == ' ' || o.buf[o.len - 1] == '\n'))
			o.len--;
		memcpy(o.buf + o.len, ELLIPSIS, sizeof(ELLIPSIS) - 1);
		o.len += sizeof(ELLIPSIS) - 1;
	}
	o.buf[o.len] = '\0';
	return o.buf;
}

bool import_text_clean(const char *s, size_t max)
{
	size_t n = s ? strlen(s) : 0, len;

	if (n > max)
		return false;
	for (size_t i = 0; i < n; i += len) {
		int32_t c = utf8_next((const unsigned char *)s + i, n - i, &len);
		if (c < 0 || dropped(c))
			return false;
	}
	return true;
}
