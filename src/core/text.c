/*
 * text.c - UTF-8-safe truncation for messages, and the scan for text that
 * JSON strings carry without escapes.
 */
#include "text.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Sixteen bytes at a time with GCC/Clang vector extensions: SSE2 on
 * x86-64, NEON on arm64, plain words elsewhere; no intrinsics, no
 * alignment needed (memcpy loads). */
typedef unsigned char text_v16 __attribute__((vector_size(16)));

static bool plain_byte(unsigned char c, bool ascii_only)
{
	return c >= 0x20 && c != '"' && c != '\\' && (!ascii_only || c < 0x7F);
}

/* The index (0..15) of the first byte of p[0..16) that is not plain, or
 * 16 when all are. */
static unsigned first_unplain(const unsigned char *p, bool ascii_only)
{
	text_v16 v, bad;
	uint64_t w[2];

	memcpy(&v, p, sizeof(v));
	bad = (text_v16)(v < 0x20) | (text_v16)(v == '"') | (text_v16)(v == '\\');
	if (ascii_only)
		bad |= (text_v16)(v >= 0x7F);
	/* Each lane is 0x00 or 0xFF; lane k is byte k of the pair of words
	 * in memory order, so the first set bit gives its index. */
	memcpy(w, &bad, sizeof(w));
	for (unsigned k = 0; k < 2; k++) {
		if (w[k] == 0)
			continue;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		return 8 * k + (unsigned)__builtin_clzll(w[k]) / 8;
#else
		return 8 * k + (unsigned)__builtin_ctzll(w[k]) / 8;
#endif
	}
	return 16;
}

size_t text_json_plain(const char *s, size_t n, bool ascii_only)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char last[16];
	size_t i = 0;
	unsigned k;

	for (; n - i >= 16; i += 16)
		if ((k = first_unplain(u + i, ascii_only)) < 16)
			return i + k;
	if (n - i < 4) { /* a short tail (short JSON runs are common): by byte */
		while (i < n && plain_byte(u[i], ascii_only))
			i++;
		return i;
	}
	/* The last few bytes, padded with plain ones. */
	memset(last, 'a', sizeof(last));
	memcpy(last, u + i, n - i);
	k = first_unplain(last, ascii_only);
	return i + (k < n - i ? k : n - i);
}

size_t text_utf8_prefix(const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);
	size_t i;

	if (len <= max)
		return len;
	i = max;
	/* Step back over continuation bytes (10xxxxxx) to a lead byte, then
	 * drop that lead byte: its sequence would not fit. */
	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	return i;
}

char *text_base64(const unsigned char *buf, size_t len)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = malloc((len + 2) / 3 * 4 + 1);
	size_t o = 0, i = 0;

	if (!out)
		return NULL;
	for (; i + 2 < len; i += 3) {
		unsigned v = (unsigned)buf[i] << 16 | (unsigned)buf[i + 1] << 8 | buf[i + 2];
		out[o++] = tbl[v >> 18];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = tbl[(v >> 6) & 63];
		out[o++] = tbl[v & 63];
	}
	if (i < len) {
		unsigned v = (unsigned)buf[i] << 16 | (i + 1 < len ? (unsigned)buf[i + 1] << 8 : 0);
		out[o++] = tbl[v >> 18];
		out[o++] = tbl[(v >> 12) & 63];
		out[o++] = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return out;
}

/* Length of the valid UTF-8 sequence at s[0..n) (n > 0), or 0 when invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		cp = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		cp = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

bool text_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t k;
		uint64_t w;

		/* ASCII runs eight bytes at a time: most text is ASCII, and
		 * this check runs over every result's text (issue 17) */
		while (i + 8 <= n && (memcpy(&w, p + i, 8), (w & 0x8080808080808080ull) == 0))
			i += 8;
		if (i >= n)
			break;
		k = utf8_seq(p + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

char *text_utf8_repair(const char *s, size_t n, bool nul_invalid, size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;
	char *out;
	size_t o = 0;

	if (n > (SIZE_MAX - 1) / 3)
		return NULL;
	out = malloc(n * 3 + 1); /* one byte may become three */
	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k = nul_invalid && p[i] == 0 ? 0 : utf8_seq(p + i, n - i);
		if (k) {
			memcpy(out + o, s + i, k);
			o += k;
			i += k;
		} else {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		}
	}
	out[o] = '\0';
	*len = o;
	return out;
}

size_t text_json_cost(const char *s, size_t n)
{
	size_t c = 0, i = 0;

	while (i < n) {
		size_t run = text_json_plain(s + i, n - i, false);
		c += run;
		i += run;
		if (i < n) {
			unsigned char b = (unsigned char)s[i++];
			c += b == '"' || b == '\\' || b == '\b' || b == '\f' || b == '\n' ||
					     b == '\r' || b == '\t'
				     ? 2
				     : 6;
		}
	}
	return c;
}

void text_ptr_push(char *ptr, size_t size, const char *key)
{
	size_t n = strlen(ptr);

	if (n + 1 < size)
		ptr[n++] = '/';
	for (; *key && n + 2 < size; key++) {
		if (*key == '~' || *key == '/') {
			ptr[n++] = '~';
			ptr[n++] = *key == '~' ? '0' : '1';
		} else {
			ptr[n++] = *key;
		}
	}
	ptr[n] = '\0';
}

uint64_t text_hash(const char *s, size_t n, uint64_t seed)
{
	uint64_t h = 0xcbf29ce484222325ull ^ seed; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
	h ^= h >> 33; /* MurmurHash3's fmix64 */
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

int text_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool text_offset_cursor(const char *cursor, const char *prefix, size_t count, size_t *offset)
{
	size_t pl = strlen(prefix);
	unsigned long long v;
	char *end;

	if (strncmp(cursor, prefix, pl) != 0)
		return false;
	cursor += pl;
	if (*cursor < '1' || *cursor > '9')
		return false;
	errno = 0;
	v = strtoull(cursor, &end, 10);
	if (errno || *end != '\0' || v >= count)
		return false;
	*offset = (size_t)v;
	return true;
}

bool text_path_dots(const char *path)
{
	for (const char *seg = path;;) {
		size_t n = strcspn(seg, "/");
		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return true;
		if (!seg[n])
			return false;
		seg += n + 1;
	}
}

const char *text_path_unsafe(const char *path)
{
	for (const char *p = path; *p; p++) {
		if (*p == '%' && p[1] && p[2] &&
		    ((p[1] == '2' && strchr("eEfF", p[2])) || (p[1] == '5' && strchr("cC", p[2]))))
			return "a percent-encoded '.', '/' or '\\'";
		if (*p == '\\')
			return "a '\\'";
	}
	return text_path_dots(path) ? "a '.' or '..' segment" : NULL;
}
