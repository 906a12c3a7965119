/*
 * sql_text.c - the single-statement tail check, UTF-8 repair for text
 * values and base64 decoding for blob parameters. See sql_text.h.
 */
#include "sql_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

bool sql_tail_empty(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
		    c == ';') {
			i++;
		} else if (c == '-' && i + 1 < n && s[i + 1] == '-') {
			while (i < n && s[i] != '\n')
				i++;
		} else if (c == '/' && i + 1 < n && s[i + 1] == '*') {
			i += 2;
			while (i < n && !(s[i] == '*' && i + 1 < n && s[i + 1] == '/'))
				i++;
			i = i < n ? i + 2 : n;
		} else {
			return false;
		}
	}
	return true;
}

bool sql_utf8_valid(const char *s, size_t n)
{
	return text_utf8_valid(s, n);
}

char *sql_utf8_repair(const char *s, size_t n, size_t *len)
{
	return text_utf8_repair(s, n, false, len);
}

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

unsigned char *sql_base64_decode(const char *s, size_t n, size_t *len)
{
	unsigned char *out;
	uint32_t acc = 0;
	size_t o = 0, bits = 0;

	*len = 0;
	while (n > 0 && s[n - 1] == '=' && n % 4 != 1)
		n--; /* padding: at most two, checked by the length rule below */
	if (n % 4 == 1)
		return NULL;
	out = malloc(n / 4 * 3 + 3);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int v = b64_val((unsigned char)s[i]);
		if (v < 0) {
			free(out);
			return NULL;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
		}
	}
	*len = o;
	return out;
}
