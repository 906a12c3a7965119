/*
 * text.c - UTF-8-safe truncation for messages, and the scan for text that
 * JSON strings carry without escapes.
 */
#include "text.h"

#include <stdint.h>
#include <string.h>

/* Sixteen bytes at a time with GCC/Clang vector extensions: SSE2 on
 * x86-64, NEON on arm64, plain words elsewhere; no intrinsics, no
 * alignment needed (memcpy loads). */
typedef unsigned char text_v16 __attribute__((vector_size(16)));

static bool plain_block(const unsigned char *p, bool ascii_only)
{
	text_v16 v, bad;
	uint64_t w[2];

	memcpy(&v, p, sizeof(v));
	bad = (text_v16)(v < 0x20) | (text_v16)(v == '"') | (text_v16)(v == '\\');
	if (ascii_only)
		bad |= (text_v16)(v >= 0x7F);
	memcpy(w, &bad, sizeof(w));
	return (w[0] | w[1]) == 0;
}

static bool plain_byte(unsigned char c, bool ascii_only)
{
	return c >= 0x20 && c != '"' && c != '\\' && (!ascii_only || c < 0x7F);
}

size_t text_json_plain(const char *s, size_t n, bool ascii_only)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	while (n - i >= 16 && plain_block(u + i, ascii_only))
		i += 16;
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
