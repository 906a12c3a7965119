/*
 * api_template.c - request templating for the http family's declared API
 * tools. The rules are in api_template.h.
 *
 * One small scanner (scan_next) reads every template: the config check, the
 * path, each query value and each body string. Text is built in a growable
 * buffer bounded by APIT_TEXT_MAX. The response field selection is api_select.c's.
 */
#include "api_template.h"

#include "api_text.h"
#include "text.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Most bytes of a placeholder or parameter name quoted in a message. */
#define NAME_SHOWN 64

/* Deepest body template: the recursion over it is bounded by this, not by
 * the parser. */
#define APIT_DEPTH_MAX 64

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

static enum moat_rc path_value(struct apit_buf *b, const struct tok *t, const json_t *args,
			       struct moat_err *err)
{
	const json_t *v = arg_get(args, t);
	char num[APIT_NUM_MAX];
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
	if (!apit_scalar_text(v, num, &s, &n))
		return moat_err_rule(err, MOAT_EINVAL, "http.argument_type",
				     "refused: argument '%.*s' must be a string, number or boolean to go into a path",
				     TOK_SHOWN(t));
	if (n == 0)
		return moat_err_rule(err, MOAT_EINVAL, "http.path_value",
				     "refused: argument '%.*s' may not be empty (path templates fill one path segment)",
				     TOK_SHOWN(t));
	if (apit_has_control(s, n))
		return moat_err_rule(err, MOAT_EINVAL, "http.control_char",
				     "refused: argument '%.*s' may not contain control characters",
				     TOK_SHOWN(t));
	if (memchr(s, '/', n) || memchr(s, '\\', n) || (n == 1 && s[0] == '.') ||
	    (n == 2 && s[0] == '.' && s[1] == '.'))
		return moat_err_rule(err, MOAT_EINVAL, "http.path_value",
				     "refused: argument '%.*s' may not contain '/' or be '.' or '..' "
				     "(path templates fill one path segment)", TOK_SHOWN(t));
	return apit_buf_put_encoded(b, s, n, err);
}

enum moat_rc apit_path(const char *tmpl, const json_t *args, char **out, struct moat_err *err)
{
	struct apit_buf b = {0};
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
			rc = apit_buf_put(&b, t.s, t.n, err);
		else
			rc = path_value(&b, &t, args, err);
		if (rc)
			goto out;
	}
	if ((rc = apit_buf_finish(&b, out, err)))
		goto out;
	if (text_path_dots(*out)) {
		/* each value was checked alone; two side by side ("{a}{b}"
		 * with "." and ".") could still make a dot segment */
		free(*out);
		*out = NULL;
		rc = moat_err_rule(err, MOAT_EINVAL, "http.path_value",
				   "refused: the path would have a '.' or '..' segment");
	}
out:
	free(b.p);
	return rc;
}

/* ---- apit_query, apit_headers ---- */

/* scalar_arg - the text of argument value v (named by t) going into a
 * query parameter or a header (what): a scalar without control bytes. */
static enum moat_rc scalar_arg(const json_t *v, const struct tok *t, const char *what,
			       char num[APIT_NUM_MAX], const char **s, size_t *n,
			       struct moat_err *err)
{
	if (!apit_scalar_text(v, num, s, n))
		return moat_err_rule(err, MOAT_EINVAL, "http.argument_type",
				     "refused: argument '%.*s' must be a string, number or boolean "
				     "(or, alone in its template, an array of them) to go into a %s",
				     TOK_SHOWN(t), what);
	if (apit_has_control(*s, *n))
		return moat_err_rule(err, MOAT_EINVAL, "http.control_char",
				     "refused: argument '%.*s' may not contain control characters",
				     TOK_SHOWN(t));
	return MOAT_OK;
}

/*
 * param_value - the text of one query parameter's or header's template
 * into val. *skip when the template is one placeholder whose argument is
 * absent or null; *arr (borrowed) when it is one placeholder whose
 * argument is an array (the caller repeats or joins its elements, each
 * checked with scalar_arg). what: "query" or "header", for messages.
 */
static enum moat_rc param_value(const char *tmpl, const char *param, const char *what,
				const json_t *args, struct apit_buf *val, bool *skip,
				const json_t **arr, struct tok *arr_name, struct moat_err *err)
{
	struct scan sc;
	struct tok t = {0};
	enum moat_rc rc;

	*skip = false;
	*arr = NULL;
	if (single_name(tmpl, &t)) {
		const json_t *v = arg_get(args, &t);

		if (!v || json_is_null(v)) {
			*skip = true;
			return MOAT_OK;
		}
		if (json_is_array(v)) {
			*arr = v;
			*arr_name = t;
			return MOAT_OK;
		}
	}
	scan_init(&sc, tmpl, what[0] == 'q' ? "query template" : "header template");
	for (;;) {
		const json_t *v;
		char num[APIT_NUM_MAX];
		const char *s;
		size_t n;

		if ((rc = scan_next(&sc, &t, err)))
			return rc;
		if (t.kind == TOK_END)
			return MOAT_OK;
		if (t.kind == TOK_TEXT) {
			if ((rc = apit_buf_put(val, t.s, t.n, err)))
				return rc;
			continue;
		}
		v = arg_get(args, &t);
		if (!v || json_is_null(v))
			return moat_err_rule(err, MOAT_EINVAL, "http.missing_argument",
					     "missing argument '%.*s' (%s '%.*s' needs it)",
					     TOK_SHOWN(&t), what[0] == 'q' ? "query parameter" : "header",
					     NAME_SHOWN, param);
		if ((rc = scalar_arg(v, &t, what, num, &s, &n, err)) ||
		    (rc = apit_buf_put(val, s, n, err)))
			return rc;
	}
}

enum moat_rc apit_query(const json_t *tmpl, const json_t *args, char **out, struct moat_err *err)
{
	struct apit_buf b = {0}, val = {0};
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
			const json_t *arr, *el;
			struct tok an = {0};
			bool skip;
			size_t i;

			if (!json_is_string(v)) {
				rc = moat_err_set(err, MOAT_EINVAL,
						  "query template: parameter '%.*s' must be a string",
						  NAME_SHOWN, key);
				goto out;
			}
			val.len = 0;
			if ((rc = param_value(json_string_value(v), key, "query", args, &val, &skip,
					      &arr, &an, err)))
				goto out;
			if (skip)
				continue;
			if (!arr) {
				if ((rc = apit_buf_put_pair(&b, key, key_len, val.p, val.len, err)))
					goto out;
				continue;
			}
			/* An array of scalars: the parameter once per element. */
			json_array_foreach(arr, i, el) {
				char num[APIT_NUM_MAX];
				const char *s;
				size_t n;

				if ((rc = scalar_arg(el, &an, "query", num, &s, &n, err)) ||
				    (rc = apit_buf_put_pair(&b, key, key_len, s, n, err)))
					goto out;
			}
		}
	}
	rc = apit_buf_finish(&b, out, err);
out:
	free(b.p);
	free(val.p);
	return rc;
}

void apit_lines_free(char **lines)
{
	for (size_t i = 0; lines && lines[i]; i++) {
		explicit_bzero(lines[i], strlen(lines[i]));
		free(lines[i]);
	}
	free(lines);
}

enum moat_rc apit_headers(const json_t *tmpl, const json_t *args, char ***out,
			  struct moat_err *err)
{
	struct apit_buf val = {0}, line = {0};
	const char *key;
	size_t key_len, n = 0;
	json_t *v;
	enum moat_rc rc = MOAT_OK;
	char **lines = NULL;

	*out = NULL;
	if (tmpl && !json_is_object(tmpl) && !json_is_null(tmpl))
		return moat_err_set(err, MOAT_EINVAL, "header templates: must be an object");
	if ((rc = args_check(args, err)))
		return rc;
	if (!(lines = calloc(json_object_size(tmpl) + 1, sizeof(*lines))))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory building a request");
	json_object_keylen_foreach((json_t *)tmpl, key, key_len, v) {
		const json_t *arr, *el;
		struct tok an = {0};
		bool skip;
		size_t i;

		if (!json_is_string(v) || apit_has_control(key, key_len)) {
			rc = moat_err_set(err, MOAT_EINVAL,
					  "header templates: header '%.*s' must be a string template",
					  NAME_SHOWN, apit_has_control(key, key_len) ? "(name)" : key);
			goto out;
		}
		val.len = line.len = 0;
		if ((rc = param_value(json_string_value(v), key, "header", args, &val, &skip, &arr,
				      &an, err)))
			goto out;
		if (skip || (arr && json_array_size(arr) == 0))
			continue;
		/* An array of scalars: one header, its elements joined by ','
		 * (OpenAPI's "simple" style). */
		json_array_foreach(arr, i, el) {
			char num[APIT_NUM_MAX];
			const char *s;
			size_t sn;

			if ((rc = scalar_arg(el, &an, "header", num, &s, &sn, err)) ||
			    (i && (rc = apit_buf_put(&val, ",", 1, err))) ||
			    (rc = apit_buf_put(&val, s, sn, err)))
				goto out;
		}
		/* "Name;" is how libcurl sends a header with an empty value
		 * ("Name:" would remove it). */
		if ((rc = apit_buf_put(&line, key, key_len, err)) ||
		    (rc = apit_buf_put(&line, val.len ? ": " : ";", val.len ? 2 : 1, err)) ||
		    (val.len && (rc = apit_buf_put(&line, val.p, val.len, err))) ||
		    (rc = apit_buf_finish(&line, &lines[n], err)))
			goto out;
		n++;
	}
	*out = lines;
	lines = NULL;
out:
	apit_lines_free(lines);
	if (val.p)
		explicit_bzero(val.p, val.len);
	free(val.p);
	free(line.p);
	return rc;
}

/* ---- apit_body ---- */

/* body_text - a string template with text around its placeholders. */
static enum moat_rc body_text(const char *tmpl, const json_t *args, json_t **out,
			      struct moat_err *err)
{
	struct apit_buf b = {0};
	struct scan sc;
	struct tok t = {0};
	enum moat_rc rc;

	scan_init(&sc, tmpl, "body template");
	for (;;) {
		const json_t *v;
		char num[APIT_NUM_MAX];
		const char *s;
		size_t n;

		if ((rc = scan_next(&sc, &t, err)))
			goto out;
		if (t.kind == TOK_END)
			break;
		if (t.kind == TOK_TEXT) {
			if ((rc = apit_buf_put(&b, t.s, t.n, err)))
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
		if (!apit_scalar_text(v, num, &s, &n)) {
			rc = moat_err_rule(err, MOAT_EINVAL, "http.argument_type",
					   "refused: argument '%.*s' must be a string, number or boolean "
					   "to go into text", TOK_SHOWN(&t));
			goto out;
		}
		if ((rc = apit_buf_put(&b, s, n, err)))
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
