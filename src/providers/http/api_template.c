/*
 * api_template.c - request templating for the http family's declared API
 * tools. The rules are in api_template.h.
 *
 * One small scanner (scan_next) reads every template: the config check, the
 * path, each query value and each body string. Text is built in a growable
 * buffer bounded by TEXT_MAX. The response field selection is api_select.c's.
 */
#include "api_template.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* Longest text one template may produce (a path, a query string, one body
 * string). Far above any message moat accepts (4 MiB by default, tripled
 * by percent-encoding), so only a bug or a hostile config reaches it. */
#define TEXT_MAX ((size_t)16 << 20)

/* Most bytes of a placeholder or parameter name quoted in a message. */
#define NAME_SHOWN 64

/* Room for any integer or real in text ("%.17g" needs at most 24). */
#define NUM_MAX 40

/* Deepest body template: the recursion over it is bounded by this, not by
 * the parser. */
#define APIT_DEPTH_MAX 64

/* ---- bounded text buffer ---- */

struct tbuf {
	char *p; /* heap, NUL-terminated once anything was put; NULL before */
	size_t len;
	size_t cap;
};

static enum moat_rc tb_put(struct tbuf *b, const char *s, size_t n, struct moat_err *err)
{
	if (n > TEXT_MAX - b->len)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.template_bytes",
				     "a templated request part would exceed %zu bytes", TEXT_MAX);
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

/* tb_put_encoded - s[0..n) percent-encoded: unreserved bytes kept, every
 * other byte %XX in upper case. Runs of unreserved bytes go in whole. */
static enum moat_rc tb_put_encoded(struct tbuf *b, const char *s, size_t n, struct moat_err *err)
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
		if (run > i && (rc = tb_put(b, s + i, run - i, err)))
			return rc;
		if (run == n)
			break;
		esc[0] = '%';
		esc[1] = hex[u[run] >> 4];
		esc[2] = hex[u[run] & 15];
		if ((rc = tb_put(b, esc, 3, err)))
			return rc;
		i = run + 1;
	}
	return MOAT_OK;
}

/* tb_finish - hand the text to the caller ("" when nothing was put). */
static enum moat_rc tb_finish(struct tbuf *b, char **out, struct moat_err *err)
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

/* ---- template scanner ---- */

enum tok_kind {
	TOK_END,
	TOK_TEXT, /* literal text s[0..n) */
	TOK_NAME, /* a placeholder's name s[0..n) */
};

struct tok {
	enum tok_kind kind;
	const char *s;
	size_t n;
};

struct scan {
	const char *base; /* the template, NUL-terminated (borrowed) */
	const char *p;    /* next byte to read */
	const char *what; /* "path template", ... for messages */
};

static void scan_init(struct scan *sc, const char *tmpl, const char *what)
{
	sc->base = tmpl;
	sc->p = tmpl;
	sc->what = what;
}

static bool name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

/*
 * scan_next - the next piece of the template: a run of literal text ("{{"
 * and "}}" each give a one-byte run holding one brace), a placeholder's
 * name, or the end. err may be NULL (a quiet look ahead).
 */
static enum moat_rc scan_next(struct scan *sc, struct tok *t, struct moat_err *err)
{
	const char *p = sc->p;
	const char *q;
	size_t at = (size_t)(p - sc->base);

	t->s = p;
	t->n = 0;
	if (*p == '\0') {
		t->kind = TOK_END;
		return MOAT_OK;
	}
	if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
		t->kind = TOK_TEXT;
		t->n = 1;
		sc->p = p + 2;
		return MOAT_OK;
	}
	if (*p == '}')
		return moat_err_set(err, MOAT_EINVAL,
				    "%s: '}' at byte %zu closes no placeholder (write '}}' for a literal brace)",
				    sc->what, at);
	if (*p == '{') {
		for (q = p + 1; name_char(*q); q++)
			;
		if (*q == '}' && q > p + 1) {
			t->kind = TOK_NAME;
			t->s = p + 1;
			t->n = (size_t)(q - p - 1);
			sc->p = q + 1;
			return MOAT_OK;
		}
		if (*q == '}')
			return moat_err_set(err, MOAT_EINVAL, "%s: empty placeholder '{}' at byte %zu",
					    sc->what, at);
		if (*q == '\0')
			return moat_err_set(err, MOAT_EINVAL,
					    "%s: '{' at byte %zu has no closing '}' (write '{{' for a literal brace)",
					    sc->what, at);
		return moat_err_set(err, MOAT_EINVAL,
				    "%s: the placeholder at byte %zu may hold only A-Z a-z 0-9 _ in its name",
				    sc->what, at);
	}
	for (q = p; *q && *q != '{' && *q != '}'; q++)
		;
	t->kind = TOK_TEXT;
	t->n = (size_t)(q - p);
	sc->p = q;
	return MOAT_OK;
}

/* single_name - is tmpl exactly one placeholder? Its name into *t. */
static bool single_name(const char *tmpl, struct tok *t)
{
	struct scan sc;
	struct tok end;

	scan_init(&sc, tmpl, "");
	return scan_next(&sc, t, NULL) == MOAT_OK && t->kind == TOK_NAME &&
	       scan_next(&sc, &end, NULL) == MOAT_OK && end.kind == TOK_END;
}

/* For "%.*s" with a name from a template: bounded, and only [A-Za-z0-9_]. */
#define TOK_SHOWN(t) (int)((t)->n < NAME_SHOWN ? (t)->n : NAME_SHOWN), (t)->s

/* ---- argument values as text ---- */

static enum moat_rc args_check(const json_t *args, struct moat_err *err)
{
	if (args && !json_is_object(args))
		return moat_err_set(err, MOAT_EINVAL, "tool arguments must be an object");
	return MOAT_OK;
}

static const json_t *arg_get(const json_t *args, const struct tok *t)
{
	return args ? json_object_getn(args, t->s, t->n) : NULL;
}

/*
 * real_text - d in JSON form with the fewest significant digits that read
 * back as d: "0.1", "1e300", "1e-7", and "3.0" for integral reals (as
 * jansson writes them, so a real stays recognisably a real).
 */
static void real_text(double d, char num[NUM_MAX])
{
	char *e;

	for (int prec = 1; prec <= 17; prec++) {
		(void)snprintf(num, NUM_MAX, "%.*g", prec, d); /* <= 24 bytes: no truncation */
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

		if (n + 3 <= NUM_MAX)
			memcpy(num + n, ".0", 3);
	}
}

/*
 * scalar_text - the text of a string (as is, NUL bytes included), an
 * integer, a real or a boolean: *s and *n point into v or into num. false
 * for null, objects and arrays.
 */
static bool scalar_text(const json_t *v, char num[NUM_MAX], const char **s, size_t *n)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		*s = json_string_value(v);
		*n = json_string_length(v);
		return true;
	case JSON_INTEGER:
		(void)snprintf(num, NUM_MAX, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		real_text(json_real_value(v), num);
		break;
	case JSON_TRUE:
		(void)snprintf(num, NUM_MAX, "true");
		break;
	case JSON_FALSE:
		(void)snprintf(num, NUM_MAX, "false");
		break;
	default:
		return false;
	}
	*s = num;
	*n = strlen(num);
	return true;
}

static bool has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7F)
			return true;
	}
	return false;
}

/* ---- apit_check ---- */

static bool name_listed(const json_t *names, const struct tok *t)
{
	size_t i;
	const json_t *v;

	json_array_foreach(names, i, v) {
		if (json_is_string(v) && json_string_length(v) == t->n &&
		    memcmp(json_string_value(v), t->s, t->n) == 0)
			return true;
	}
	return false;
}

enum moat_rc apit_check(const char *tmpl, const json_t *names, struct moat_err *err)
{
	struct scan sc;
	struct tok t = {0};
	enum moat_rc rc;

	if (!tmpl)
		return moat_err_set(err, MOAT_EINVAL, "template: missing");
	if (names && !json_is_array(names))
		return moat_err_set(err, MOAT_EINVAL, "template: argument names must be an array");
	scan_init(&sc, tmpl, "template");
	for (;;) {
		if ((rc = scan_next(&sc, &t, err)))
			return rc;
		if (t.kind == TOK_END)
			return MOAT_OK;
		if (t.kind == TOK_NAME && names && !name_listed(names, &t))
			return moat_err_set(err, MOAT_EINVAL,
					    "template: placeholder '{%.*s}' names no argument of the tool",
					    TOK_SHOWN(&t));
	}
}

/* ---- apit_path ---- */

static enum moat_rc path_value(struct tbuf *b, const struct tok *t, const json_t *args,
			       struct moat_err *err)
{
	const json_t *v = arg_get(args, t);
	char num[NUM_MAX];
	const char *s;
	size_t n;

	if (!v)
		return moat_err_rule(err, MOAT_EINVAL, "http.missing_argument",
				     "missing argument '%.*s' (the request path needs it)",
				     TOK_SHOWN(t));
	if (json_is_null(v))
		return moat_err_rule(err, MOAT_EINVAL, "http.argument_type",
				     "refused: argument '%.*s' is null (the request path needs a value)",
				     TOK_SHOWN(t));
	if (!scalar_text(v, num, &s, &n))
		return moat_err_rule(err, MOAT_EINVAL, "http.argument_type",
				     "refused: argument '%.*s' must be a string, number or boolean to go into a path",
				     TOK_SHOWN(t));
	if (n == 0)
		return moat_err_rule(err, MOAT_EINVAL, "http.path_value",
				     "refused: argument '%.*s' may not be empty (path templates fill one path segment)",
				     TOK_SHOWN(t));
	if (has_control(s, n))
		return moat_err_rule(err, MOAT_EINVAL, "http.control_char",
				     "refused: argument '%.*s' may not contain control characters",
				     TOK_SHOWN(t));
	if (memchr(s, '/', n) || memchr(s, '\\', n) || (n == 1 && s[0] == '.') ||
	    (n == 2 && s[0] == '.' && s[1] == '.'))
		return moat_err_rule(err, MOAT_EINVAL, "http.path_value",
				     "refused: argument '%.*s' may not contain '/' or be '.' or '..' "
				     "(path templates fill one path segment)", TOK_SHOWN(t));
	return tb_put_encoded(b, s, n, err);
}

enum moat_rc apit_path(const char *tmpl, const json_t *args, char **out, struct moat_err *err)
{
	struct tbuf b = {0};
	struct scan sc;
	struct tok t = {0};
	enum moat_rc rc;

	*out = NULL;
	if (!tmpl)
		return moat_err_set(err, MOAT_EINVAL, "path template: missing");
	if ((rc = args_check(args, err)))
		return rc;
	scan_init(&sc, tmpl, "path template");
	for (;;) {
		if ((rc = scan_next(&sc, &t, err)))
			goto out;
		if (t.kind == TOK_END)
			break;
		if (t.kind == TOK_TEXT)
			rc = tb_put(&b, t.s, t.n, err);
		else
			rc = path_value(&b, &t, args, err);
		if (rc)
			goto out;
	}
	rc = tb_finish(&b, out, err);
out:
	free(b.p);
	return rc;
}

/* ---- apit_query ---- */

/* query_value - the text of one parameter's template into val; *skip when
 * the template is one placeholder whose argument is absent or null. */
static enum moat_rc query_value(const char *tmpl, const char *param, const json_t *args,
				struct tbuf *val, bool *skip, struct moat_err *err)
{
	struct scan sc;
	struct tok t = {0};
	enum moat_rc rc;

	*skip = false;
	if (single_name(tmpl, &t)) {
		const json_t *v = arg_get(args, &t);

		if (!v || json_is_null(v)) {
			*skip = true;
			return MOAT_OK;
		}
	}
	scan_init(&sc, tmpl, "query template");
	for (;;) {
		const json_t *v;
		char num[NUM_MAX];
		const char *s;
		size_t n;

		if ((rc = scan_next(&sc, &t, err)))
			return rc;
		if (t.kind == TOK_END)
			return MOAT_OK;
		if (t.kind == TOK_TEXT) {
			if ((rc = tb_put(val, t.s, t.n, err)))
				return rc;
			continue;
		}
		v = arg_get(args, &t);
		if (!v || json_is_null(v))
			return moat_err_rule(err, MOAT_EINVAL, "http.missing_argument",
					     "missing argument '%.*s' (query parameter '%.*s' needs it)",
					     TOK_SHOWN(&t), NAME_SHOWN, param);
		if (!scalar_text(v, num, &s, &n))
			return moat_err_rule(err, MOAT_EINVAL, "http.argument_type",
					     "refused: argument '%.*s' must be a string, number or boolean to go into a query",
					     TOK_SHOWN(&t));
		if (has_control(s, n))
			return moat_err_rule(err, MOAT_EINVAL, "http.control_char",
					     "refused: argument '%.*s' may not contain control characters",
					     TOK_SHOWN(&t));
		if ((rc = tb_put(val, s, n, err)))
			return rc;
	}
}

enum moat_rc apit_query(const json_t *tmpl, const json_t *args, char **out, struct moat_err *err)
{
	struct tbuf b = {0}, val = {0};
	const char *key;
	size_t key_len;
	json_t *v;
	enum moat_rc rc = MOAT_OK;

	*out = NULL;
	if (tmpl && !json_is_object(tmpl))
		return moat_err_set(err, MOAT_EINVAL, "query template: must be an object");
	if ((rc = args_check(args, err)))
		return rc;
	if (tmpl) {
		/* iteration does not modify the object */
		json_object_keylen_foreach((json_t *)tmpl, key, key_len, v) {
			bool skip;

			if (!json_is_string(v)) {
				rc = moat_err_set(err, MOAT_EINVAL,
						  "query template: parameter '%.*s' must be a string",
						  NAME_SHOWN, key);
				goto out;
			}
			val.len = 0;
			if ((rc = query_value(json_string_value(v), key, args, &val, &skip, err)))
				goto out;
			if (skip)
				continue;
			if ((b.len && (rc = tb_put(&b, "&", 1, err))) ||
			    (rc = tb_put_encoded(&b, key, key_len, err)) ||
			    (rc = tb_put(&b, "=", 1, err)) ||
			    (val.len && (rc = tb_put_encoded(&b, val.p, val.len, err))))
				goto out;
		}
	}
	rc = tb_finish(&b, out, err);
out:
	free(b.p);
	free(val.p);
	return rc;
}

/* ---- apit_body ---- */

/* body_text - a string template with text around its placeholders. */
static enum moat_rc body_text(const char *tmpl, const json_t *args, json_t **out,
			      struct moat_err *err)
{
	struct tbuf b = {0};
	struct scan sc;
	struct tok t = {0};
	enum moat_rc rc;

	scan_init(&sc, tmpl, "body template");
	for (;;) {
		const json_t *v;
		char num[NUM_MAX];
		const char *s;
		size_t n;

		if ((rc = scan_next(&sc, &t, err)))
			goto out;
		if (t.kind == TOK_END)
			break;
		if (t.kind == TOK_TEXT) {
			if ((rc = tb_put(&b, t.s, t.n, err)))
				goto out;
			continue;
		}
		v = arg_get(args, &t);
		if (!v) {
			rc = moat_err_rule(err, MOAT_EINVAL, "http.missing_argument",
					   "missing argument '%.*s' (the request body needs it)",
					   TOK_SHOWN(&t));
			goto out;
		}
		if (!scalar_text(v, num, &s, &n)) {
			rc = moat_err_rule(err, MOAT_EINVAL, "http.argument_type",
					   "refused: argument '%.*s' must be a string, number or boolean "
					   "to go into text", TOK_SHOWN(&t));
			goto out;
		}
		if ((rc = tb_put(&b, s, n, err)))
			goto out;
	}
	*out = json_stringn(b.p ? b.p : "", b.len);
	if (!*out)
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory building a request");
out:
	free(b.p);
	return rc;
}

/* body_value - the value for template t; *out NULL (and MOAT_OK) when t is
 * one placeholder whose argument is absent. Recursion follows the
 * template, at most APIT_DEPTH_MAX levels. */
static enum moat_rc body_value(const json_t *t, const json_t *args, unsigned depth,
			       json_t **out, struct moat_err *err)
{
	enum moat_rc rc = MOAT_OK;
	json_t *res = NULL;

	*out = NULL;
	if (depth > APIT_DEPTH_MAX)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.template_depth",
				     "body template: nested deeper than %d levels", APIT_DEPTH_MAX);
	switch (json_typeof(t)) {
	case JSON_STRING: {
		const char *s = json_string_value(t);
		struct tok name;

		if (strlen(s) != json_string_length(t))
			return moat_err_set(err, MOAT_EINVAL, "body template: a string holds a NUL byte");
		if (single_name(s, &name)) {
			const json_t *v = arg_get(args, &name);

			if (!v)
				return MOAT_OK;
			*out = json_deep_copy(v);
			if (!*out)
				return moat_err_set(err, MOAT_ENOMEM, "out of memory building a request");
			return MOAT_OK;
		}
		return body_text(s, args, out, err);
	}
	case JSON_OBJECT: {
		const char *key;
		size_t key_len;
		json_t *v;

		res = json_object();
		if (!res)
			goto oom;
		json_object_keylen_foreach((json_t *)t, key, key_len, v) {
			json_t *sub;

			if ((rc = body_value(v, args, depth + 1, &sub, err)))
				goto out;
			if (sub && json_object_setn_new_nocheck(res, key, key_len, sub))
				goto oom;
		}
		break;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *v;

		res = json_array();
		if (!res)
			goto oom;
		json_array_foreach(t, i, v) {
			json_t *sub;

			if ((rc = body_value(v, args, depth + 1, &sub, err)))
				goto out;
			if (json_array_append_new(res, sub ? sub : json_null()))
				goto oom;
		}
		break;
	}
	default:
		res = json_deep_copy(t);
		if (!res)
			goto oom;
		break;
	}
	*out = res;
	return MOAT_OK;
oom:
	rc = moat_err_set(err, MOAT_ENOMEM, "out of memory building a request");
out:
	json_decref(res);
	return rc;
}

enum moat_rc apit_body(const json_t *tmpl, const json_t *args, json_t **out,
		       struct moat_err *err)
{
	struct tok name;
	enum moat_rc rc;

	*out = NULL;
	if (!tmpl)
		return moat_err_set(err, MOAT_EINVAL, "body template: missing");
	if ((rc = args_check(args, err)))
		return rc;
	if ((rc = body_value(tmpl, args, 0, out, err)))
		return rc;
	if (!*out) { /* the whole body is one placeholder whose argument is absent */
		(void)single_name(json_string_value(tmpl), &name);
		return moat_err_rule(err, MOAT_EINVAL, "http.missing_argument",
				     "missing argument '%.*s' (the request body needs it)",
				     TOK_SHOWN(&name));
	}
	return MOAT_OK;
}
