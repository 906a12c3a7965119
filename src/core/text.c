/*
 * text.c - UTF-8-safe truncation for messages.
 */
#include "text.h"

#include <string.h>

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
