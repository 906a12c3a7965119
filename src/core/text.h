/*
 * text.h - small string helpers for messages moat writes: cutting
 * client-supplied text to a bound without splitting a UTF-8 sequence (a cut
 * in the middle would make the JSON message that carries it invalid).
 * Pure and thread-safe.
 */
#ifndef MOAT_CORE_TEXT_H
#define MOAT_CORE_TEXT_H

#include <stddef.h>

/* text_utf8_prefix - the largest length <= max of a prefix of s (a
 * NUL-terminated string) that does not end inside a UTF-8 sequence. */
size_t text_utf8_prefix(const char *s, size_t max);

#endif
