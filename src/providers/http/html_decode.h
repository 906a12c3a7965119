/*
 * html_decode.h - the decoding step of html_text.c (html_decode.c): any
 * page as valid UTF-8 without NUL. Pure functions; thread-safe.
 */
#ifndef MOAT_PROVIDERS_HTTP_HTML_DECODE_H
#define MOAT_PROVIDERS_HTTP_HTML_DECODE_H

#include <stddef.h>

#include "result.h"

/* htext_utf8_seq - length (1..4) of the valid UTF-8 sequence at s[0..n),
 * or 0 when s starts with an invalid or truncated one (NUL counts as
 * invalid). */
size_t htext_utf8_seq(const unsigned char *s, size_t n);

/* htext_decode - html[0..len) as valid UTF-8 into *res (*res_len bytes).
 * *owned is what the caller frees (NULL when *res points into html).
 * MOAT_ENOMEM when an allocation fails (err is the caller's to fill). */
enum moat_rc htext_decode(const char *html, size_t len, char **owned, const char **res,
			  size_t *res_len);

#endif
