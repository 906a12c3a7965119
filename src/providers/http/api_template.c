/*
 * api_template.c - request templating and response field selection for the
 * http family's declared API tools. The rules are in api_template.h.
 *
 * One small scanner (scan_next) reads every template: the config check, the
 * path, each query value and each body string. Text is built in a growable
 * buffer bounded by TEXT_MAX. Selection compiles the pointers into a trie
 * once (two allocations), then walks the document a single time carrying
 * the set of trie nodes that apply at each level, so several paths merge
 * into one result without a second pass and the work is linear in the parts
 * of the document the paths reach.
 */
#include "api_template.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "callctx.h"

/* Longest text one template may produce (a path, a query string, one body
 * string). Far above any message moat accepts (4 MiB by default, tripled
 * by percent-encoding), so only a bug or a hostile config reaches it. */
#define TEXT_MAX ((size_t)16 << 20)

/* Most bytes of a placeholder or parameter name quoted in a message. */
#define NAME_SHOWN 64

/* Room for any integer or real in text ("%.17g" needs at most 24). */
#define NUM_MAX 40

/* Deepest body template and longest selection path (in segments): the
 * recursions over them are bounded by these, not by the parser. */
#define APIT_DEPTH_MAX 64

/* Selection: the walk checks the call's deadline and cancellation every
 * SEL_CHECK_EVERY steps (a step: one member or element looked at) and
 * stops at SEL_STEPS_MAX. */
#define SEL_CHECK_EVERY 4096
#define SEL_STEPS_MAX ((uint64_t)50 * 1000 * 1000)

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

/* ---- selection ---- */

enum moat_rc apit_pointer_check(const char *p, struct moat_err *err)
{
	if (!p)
		return moat_err_set(err, MOAT_EINVAL, "selection path: missing");
	if (*p != '\0' && *p != '/')
		return moat_err_set(err, MOAT_EINVAL, "selection path: must be \"\" or start with '/'");
	size_t segs = 0;

	for (size_t i = 0; p[i]; i++) {
		if (p[i] == '~' && p[i + 1] != '0' && p[i + 1] != '1')
			return moat_err_set(err, MOAT_EINVAL,
					    "selection path: '~' at byte %zu must be followed by '0' or '1'", i);
		segs += p[i] == '/';
	}
	if (segs > APIT_DEPTH_MAX)
		return moat_err_rule(err, MOAT_EINVAL, "limits.template_depth",
				     "selection path: more than %d segments", APIT_DEPTH_MAX);
	return MOAT_OK;
}

struct sel_node {
	struct sel_node *child; /* first child (named or star) */
	struct sel_node *next;  /* next sibling */
	struct sel_node *star;  /* the "*" child, also on the child list */
	const char *key;        /* unescaped segment, in the key arena */
	size_t key_len;
	long long index; /* key as an RFC 6901 array index, or -1 */
	bool is_star;    /* this node's segment is "*" */
	bool whole;      /* a path ends here: all below is selected */
};

struct sel {
	struct sel_node *nodes; /* nodes[0] is the root */
	size_t nnodes;
	char *keys; /* arena for unescaped segments */
	size_t keys_len;
	size_t width;                 /* most nodes in one level's set (>= paths) */
	const struct sel_node **sets; /* (depth + 1) rows of width */
	size_t *counts;               /* nodes in each row */
	struct call_ctx *ctx;         /* may be NULL */
	uint64_t steps;               /* members and elements looked at */
};

/* An RFC 6901 array index: "0" or a digit 1-9 then digits (18 at most). */
static long long seg_index(const char *s, size_t n)
{
	long long v = 0;

	if (n == 0 || n > 18 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* sel_add - put one checked pointer into the trie. The arena and node
 * array were sized for all paths, so this cannot run out. */
static void sel_add(struct sel *s, const char *p)
{
	struct sel_node *node = &s->nodes[0];

	while (*p == '/') {
		const char *end = p + 1;
		char *key = s->keys + s->keys_len;
		size_t n = 0;
		bool star;
		struct sel_node *c;

		while (*end && *end != '/')
			end++;
		star = end - p == 2 && p[1] == '*';
		for (const char *r = p + 1; r < end; r++) {
			if (*r == '~') {
				key[n++] = r[1] == '1' ? '/' : '~';
				r++;
			} else {
				key[n++] = *r;
			}
		}
		for (c = node->child; c; c = c->next)
			if (c->is_star == star && (star || (c->key_len == n && !memcmp(c->key, key, n))))
				break;
		if (!c) {
			c = &s->nodes[s->nnodes++];
			memset(c, 0, sizeof(*c));
			c->key = key;
			c->key_len = n;
			c->is_star = star;
			c->index = star ? -1 : seg_index(key, n);
			c->next = node->child;
			node->child = c;
			if (star)
				node->star = c;
			key[n] = '\0';
			s->keys_len += n + 1;
		}
		node = c;
		p = end;
	}
	node->whole = true;
}

static void sel_free(struct sel *s)
{
	free(s->nodes);
	free(s->keys);
	free(s->sets);
	free(s->counts);
}

static enum moat_rc sel_build(struct sel *s, const json_t *paths, struct moat_err *err)
{
	size_t i, segs = 0, bytes = 1, depth = 0;
	const json_t *v;
	enum moat_rc rc;

	memset(s, 0, sizeof(*s));
	if (!json_is_array(paths))
		return moat_err_set(err, MOAT_EINVAL, "selection paths: must be an array");
	json_array_foreach(paths, i, v) {
		const char *p = json_string_value(v);
		size_t d = 0;

		if (!p)
			return moat_err_set(err, MOAT_EINVAL, "selection paths: each must be a string");
		if ((rc = apit_pointer_check(p, err)))
			return rc;
		for (const char *c = p; *c; c++)
			d += *c == '/';
		segs += d;
		bytes += strlen(p);
		if (d > depth)
			depth = d;
	}
	s->width = json_array_size(paths) ? json_array_size(paths) : 1;
	s->nodes = calloc(segs + 1, sizeof(*s->nodes));
	s->keys = malloc(bytes);
	s->sets = calloc((depth + 1) * s->width, sizeof(*s->sets));
	s->counts = calloc(depth + 1, sizeof(*s->counts));
	if (!s->nodes || !s->keys || !s->sets || !s->counts)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory selecting response fields");
	s->nodes[0].index = -1;
	s->nnodes = 1;
	json_array_foreach(paths, i, v)
		sel_add(s, json_string_value(v));
	return MOAT_OK;
}

/*
 * sel_walk - the part of v that the nodes in row lvl select, into *out;
 * NULL when they select nothing there. An array reached through "*" keeps
 * every element (null where nothing inside was selected), so it is never
 * NULL. Recursion is bounded by the longest path and by v's depth.
 */
/* One step of the walk: counted, and every SEL_CHECK_EVERY steps the
 * call's deadline and cancellation are checked. */
static enum moat_rc sel_step(struct sel *s, struct moat_err *err)
{
	if (++s->steps > SEL_STEPS_MAX)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.select_steps",
				     "selecting response fields took more than %llu steps",
				     (unsigned long long)SEL_STEPS_MAX);
	if (s->ctx && s->steps % SEL_CHECK_EVERY == 0)
		return callctx_check(s->ctx, err);
	return MOAT_OK;
}

static enum moat_rc sel_walk(struct sel *s, const json_t *v, size_t lvl, json_t **out,
			     struct moat_err *err)
{
	const struct sel_node **set = s->sets + lvl * s->width;
	const struct sel_node **next = set + s->width;
	size_t n = s->counts[lvl];
	json_t *res = NULL, *sub;
	enum moat_rc rc;
	bool star = false;

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		if (set[i]->whole) {
			*out = json_deep_copy(v);
			return *out ? MOAT_OK : moat_err_set(err, MOAT_ENOMEM,
							     "out of memory selecting response fields");
		}
		star = star || set[i]->star;
	}
	if (json_is_object(v)) {
		json_t *obj = (json_t *)v; /* iteration does not modify it */

		for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
			const char *key = json_object_iter_key(it);
			size_t klen = json_object_iter_key_len(it);
			size_t m = 0;

			if ((rc = sel_step(s, err)))
				goto out;
			for (size_t i = 0; i < n; i++)
				for (const struct sel_node *c = set[i]->child; c; c = c->next)
					if (c->is_star || (c->key_len == klen && !memcmp(c->key, key, klen)))
						next[m++] = c;
			if (!m)
				continue;
			s->counts[lvl + 1] = m;
			if ((rc = sel_walk(s, json_object_iter_value(it), lvl + 1, &sub, err)))
				goto out;
			if (!sub)
				continue;
			if (!res && !(res = json_object())) {
				json_decref(sub);
				goto oom;
			}
			if (json_object_setn_new_nocheck(res, key, klen, sub))
				goto oom;
		}
	} else if (json_is_array(v)) {
		size_t len = json_array_size(v);
		long long top = -1;

		/* Without "*" only indexed elements can be selected: stop after
		 * the highest index asked for. */
		for (size_t i = 0; i < n && !star; i++)
			for (const struct sel_node *c = set[i]->child; c; c = c->next)
				if (c->index > top)
					top = c->index;
		if (!star && (top < 0 || (size_t)top + 1 < len))
			len = top < 0 ? 0 : (size_t)top + 1;
		if (star && !(res = json_array()))
			goto oom;
		for (size_t e = 0; e < len; e++) {
			size_t m = 0;

			if ((rc = sel_step(s, err)))
				goto out;
			for (size_t i = 0; i < n; i++)
				for (const struct sel_node *c = set[i]->child; c; c = c->next)
					if (c->is_star || (c->index >= 0 && (size_t)c->index == e))
						next[m++] = c;
			sub = NULL;
			if (m) {
				s->counts[lvl + 1] = m;
				if ((rc = sel_walk(s, json_array_get(v, e), lvl + 1, &sub, err)))
					goto out;
			}
			if (!sub && !star)
				continue;
			if (!res && !(res = json_array())) {
				json_decref(sub);
				goto oom;
			}
			if (json_array_append_new(res, sub ? sub : json_null()))
				goto oom;
		}
	}
	*out = res;
	return MOAT_OK;
oom:
	rc = moat_err_set(err, MOAT_ENOMEM, "out of memory selecting response fields");
out:
	json_decref(res);
	return rc;
}

enum moat_rc apit_select(const json_t *doc, const json_t *paths, struct call_ctx *ctx,
			 json_t **out, struct moat_err *err)
{
	struct sel s;
	enum moat_rc rc;

	*out = NULL;
	if (!doc)
		return moat_err_set(err, MOAT_EINVAL, "selection: no document");
	if (!paths) {
		*out = json_deep_copy(doc);
		return *out ? MOAT_OK : moat_err_set(err, MOAT_ENOMEM,
						     "out of memory selecting response fields");
	}
	if ((rc = sel_build(&s, paths, err)))
		goto out;
	s.sets[0] = &s.nodes[0];
	s.counts[0] = 1;
	s.ctx = ctx;
	if ((rc = sel_walk(&s, doc, 0, out, err)))
		goto out;
	if (!*out) { /* nothing selected: an empty value of doc's kind */
		*out = json_is_object(doc) ? json_object() : json_is_array(doc) ? json_array() : json_null();
		if (!*out)
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory selecting response fields");
	}
out:
	sel_free(&s);
	return rc;
}
