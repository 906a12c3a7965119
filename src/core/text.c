/*
 * text.c - UTF-8-safe truncation for messages, and the scan for text that
 * JSON strings carry without escapes.
 */
#include "text.h"

#include <stdint.h>
#include <string.h>

/* Word-at-a-time byte tests (each exact as a yes/no for the whole word):
 * some byte of v is zero, or is below n (n <= 0x80). */
#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)
#define HAS_ZERO(v) (((v) - ONES) & ~(v) & HIGHS)
#define HAS_LESS(v, n) (((v) - ONES * (n)) & ~(v) & HIGHS)

static bool plain_byte(unsigned char c, bool ascii_only)
{
	return c >= 0x20 && c != '"' && c != '\\' && (!ascii_only || c < 0x7F);
}

size_t text_json_plain(const char *s, size_t n, bool ascii_only)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (n - i >= 8) {
		uint64_t v;

		memcpy(&v, u + i, sizeof(v));
		if (HAS_LESS(v, 0x20) || HAS_ZERO(v ^ (ONES * '"')) || HAS_ZERO(v ^ (ONES * '\\')) ||
		    (ascii_only && ((v & HIGHS) || HAS_ZERO(v ^ (ONES * 0x7F)))))
			break; /* the byte loop below finds which one */
		i += 8;
	}
	while (i < n && plain_byte(u[i], ascii_only))
		i++;
	return i;
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
