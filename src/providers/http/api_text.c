/*
 * api_text.c - the bounded text buffer, percent-encoding and scalar text
 * the declared API tools' request builders share (api_text.h). Hand-written:
 * libcurl's curl_easy_escape has no size bound and no caller-owned buffer
 * that grows across calls, and no Debian library writes a JSON real with
 * the fewest digits that read back.
 */
#include "api_text.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum moat_rc apit_buf_put(struct apit_buf *b, const char *s, size_t n, struct moat_err *err)
{
	if (n > APIT_TEXT_MAX - b->len)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.template_bytes",
				     "a templated request part would exceed %zu bytes", APIT_TEXT_MAX);
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 64;
		char *np;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		np = realloc(b->p, ncap);
		if (!np)
			return moat_err_set(err, MOAT_ENOMEM, "out of memory building a request");
		b->p = np;
		b->cap = ncap;
	}
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return MOAT_OK;
}

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* apit_buf_put_encoded - s[0..n) percent-encoded: unreserved bytes kept, every
 * other byte %XX in upper case. Runs of unreserved bytes go in whole. */
enum moat_rc apit_buf_put_encoded(struct apit_buf *b, const char *s, size_t n, struct moat_err *err)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	enum moat_rc rc;

	while (i < n) {
		size_t run = i;
		char esc[3];

		while (run < n && unreserved(u[run]))
			run++;
		if (run > i && (rc = apit_buf_put(b, s + i, run - i, err)))
			return rc;
		if (run == n)
			break;
		esc[0] = '%';
		esc[1] = hex[u[run] >> 4];
		esc[2] = hex[u[run] & 15];
		if ((rc = apit_buf_put(b, esc, 3, err)))
			return rc;
		i = run + 1;
	}
	return MOAT_OK;
}

/* apit_buf_finish - hand the text to the caller ("" when nothing was put). */
enum moat_rc apit_buf_finish(struct apit_buf *b, char **out, struct moat_err *err)
{
	if (!b->p) {
		b->p = strdup("");
		if (!b->p)
			return moat_err_set(err, MOAT_ENOMEM, "out of memory building a request");
	}
	*out = b->p;
	b->p = NULL;
	b->len = b->cap = 0;
	return MOAT_OK;
}


enum moat_rc apit_buf_put_pair(struct apit_buf *b, const char *key, size_t key_len,
			       const char *s, size_t n, struct moat_err *err)
{
	enum moat_rc rc;

	if ((b->len && (rc = apit_buf_put(b, "&", 1, err))) ||
	    (rc = apit_buf_put_encoded(b, key, key_len, err)) || (rc = apit_buf_put(b, "=", 1, err)) ||
	    (n && (rc = apit_buf_put_encoded(b, s, n, err))))
		return rc;
	return MOAT_OK;
}

/*
 * real_text - d in JSON form with the fewest significant digits that read
 * back as d: "0.1", "1e300", "1e-7", and "3.0" for integral reals (as
 * jansson writes them, so a real stays recognisably a real).
 */
static void real_text(double d, char num[APIT_NUM_MAX])
{
	char *e;

	for (int prec = 1; prec <= 17; prec++) {
		(void)snprintf(num, APIT_NUM_MAX, "%.*g", prec, d); /* <= 24 bytes: no truncation */
		if (strtod(num, NULL) == d)
			break;
	}
	for (char *c = num; *c; c++) /* a locale's decimal comma */
		if (*c == ',')
			*c = '.';
	e = strchr(num, 'e');
	if (e) { /* "1e+300" -> "1e300", "1e-07" -> "1e-7" */
		char *w = e + 1, *r = e + 1;

		if (*r == '+') {
			r++;
		} else if (*r == '-') {
			w++;
			r++;
		}
		while (r[0] == '0' && r[1] != '\0')
			r++;
		memmove(w, r, strlen(r) + 1);
	} else if (!strchr(num, '.')) {
		size_t n = strlen(num);

		if (n + 3 <= APIT_NUM_MAX)
			memcpy(num + n, ".0", 3);
	}
}

/*
 * apit_scalar_text - the text of a string (as is, NUL bytes included), an
 * integer, a real or a boolean: *s and *n point into v or into num. false
 * for null, objects and arrays.
 */
bool apit_scalar_text(const json_t *v, char num[APIT_NUM_MAX], const char **s, size_t *n)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		*s = json_string_value(v);
		*n = json_string_length(v);
		return true;
	case JSON_INTEGER:
		(void)snprintf(num, APIT_NUM_MAX, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		real_text(json_real_value(v), num);
		break;
	case JSON_TRUE:
		(void)snprintf(num, APIT_NUM_MAX, "true");
		break;
	case JSON_FALSE:
		(void)snprintf(num, APIT_NUM_MAX, "false");
		break;
	default:
		return false;
	}
	*s = num;
	*n = strlen(num);
	return true;
}

bool apit_has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7F)
			return true;
	}
	return false;
}
