/*
 * api_text.h - the small text helpers the declared API tools' request
 * builders share (api_template.c, api_form.c): a growable text buffer
 * bounded at APIT_TEXT_MAX, RFC 3986 percent-encoding, and argument
 * scalars as text.
 *
 * Pure functions of their inputs; thread-safe.
 */
#ifndef MOAT_PROVIDERS_HTTP_API_TEXT_H
#define MOAT_PROVIDERS_HTTP_API_TEXT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "result.h"

/* Longest text one template may produce (a path, a query string, one body
 * string, a form body). Far above any message moat accepts (4 MiB by
 * default, tripled by percent-encoding), so only a bug or a hostile config
 * reaches it. */
#define APIT_TEXT_MAX ((size_t)16 << 20)

/* Room for any integer or real in text ("%.17g" needs at most 24). */
#define APIT_NUM_MAX 40

/* A growable buffer: zero it to start; p is heap memory (NUL-terminated
 * once anything was put, NULL before) that the holder frees. */
struct apit_buf {
	char *p;
	size_t len;
	size_t cap;
};

/* apit_buf_put - append s[0..n); MOAT_ELIMIT (limits.template_bytes) past
 * APIT_TEXT_MAX, MOAT_ENOMEM. */
enum moat_rc apit_buf_put(struct apit_buf *b, const char *s, size_t n, struct moat_err *err);

/* apit_buf_put_encoded - append s[0..n) percent-encoded: RFC 3986
 * unreserved bytes (A-Z a-z 0-9 - . _ ~) kept, every other byte %XX in
 * upper case. */
enum moat_rc apit_buf_put_encoded(struct apit_buf *b, const char *s, size_t n,
				  struct moat_err *err);

/* apit_buf_put_pair - "name=value" onto b, both percent-encoded, after
 * a '&' when b holds something already (a query string, a form body). */
enum moat_rc apit_buf_put_pair(struct apit_buf *b, const char *key, size_t key_len,
			       const char *s, size_t n, struct moat_err *err);

/* apit_buf_finish - hand the text to the caller in *out ("" when nothing
 * was put; the caller frees it) and empty b. */
enum moat_rc apit_buf_finish(struct apit_buf *b, char **out, struct moat_err *err);

/*
 * apit_scalar_text - the text of a string (as is, NUL bytes included), an
 * integer, a real (the fewest digits that read back exactly: "0.1",
 * "3.0", "1e300") or a boolean: *s and *n point into v or into num. false
 * for null, objects and arrays.
 */
bool apit_scalar_text(const json_t *v, char num[APIT_NUM_MAX], const char **s, size_t *n);

/* apit_has_control - s[0..n) holds a byte below 0x20 or 0x7F. */
bool apit_has_control(const char *s, size_t n);

#endif
