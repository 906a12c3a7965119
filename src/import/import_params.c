/*
 * import_params.c - an operation's parameters as a tool's arguments and
 * templates: path-level and operation-level parameters merged by name
 * and "in", each an argument named in snake case (import_names.c) with
 * its schema; query and header parameters into the tool's "query" and
 * "headers", path parameters renamed in its "path"; what the http family
 * cannot send (cookies, objects outside a body, arrays in a path or a
 * header) left out with a note or, when required, the operation skipped.
 * Written by hand: moat's own mapping (see import_op.h).
 */
#include "import_op_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_names.h"
#include "import_security.h"
#include "import_text.h"
#include "text.h"

#define OP_PARAM_DESC_MAX 300 /* bytes of a parameter description */
#define OP_PATH_MAX 2048

/* An object, or an array of objects or arrays: not a scalar or list of scalars. */
static bool structured(const json_t *schema)
{
	const json_t *items = json_object_get(schema, "items");

	if (import_type_is(schema, "object") || json_object_get(schema, "properties"))
		return true;
	return import_type_is(schema, "array") &&
	       (import_type_is(items, "object") || import_type_is(items, "array") ||
		json_object_get(items, "properties"));
}

static bool header_ignored(const char *n)
{
	/* OpenAPI: Accept, Content-Type and Authorization header
	 * parameters are ignored; the rest the http family refuses. */
	static const char *const no[] = {"Accept", "Content-Type", "Authorization", "Cookie",
					 "Host", "Content-Length", "Transfer-Encoding", "Connection"};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(n, no[i]) == 0)
			return true;
	return false;
}

/* A parameter's schema: "schema", or that of its first "content" entry. */
static const json_t *param_schema(const json_t *p)
{
	const json_t *s = json_object_get(p, "schema"), *v;
	const char *k;

	if (s)
		return s;
	json_object_foreach((json_t *)json_object_get(p, "content"), k, v)
		return json_object_get(v, "schema");
	return NULL;
}

/* Add an argument: its name from pname, its schema (stolen), required or not. */
enum moat_rc import_op_arg(struct opb *b, const char *pname, json_t *schema, const char *desc,
			    bool required, char **argout)
{
	char *base = import_arg_base(pname), *arg = base ? import_name_take(b->taken, base) : NULL;

	free(base);
	if (!arg || !schema) {
		free(arg);
		json_decref(schema);
		return MOAT_ENOMEM;
	}
	if (desc && *desc && json_is_object(schema) && !json_object_get(schema, "description")) {
		char *d = import_text(desc, OP_PARAM_DESC_MAX, false);
		if (!d || json_object_set_new(schema, "description", json_string(d))) {
			free(d);
			free(arg);
			json_decref(schema);
			return MOAT_ENOMEM;
		}
		free(d);
	}
	if (json_object_set_new(b->props, arg, schema) ||
	    (required && json_array_append_new(b->req, json_string(arg)))) {
		free(arg);
		return MOAT_ENOMEM;
	}
	*argout = arg;
	return MOAT_OK;
}

static enum moat_rc placeholder(json_t *obj, const char *key, const char *arg)
{
	char t[IMPORT_NAME_MAX + 3];

	snprintf(t, sizeof(t), "{%s}", arg);
	return json_object_set_new(obj, key, json_string(t)) ? MOAT_ENOMEM : MOAT_OK;
}

/* One (dereferenced) parameter. */
static enum moat_rc one_param(struct opb *b, const json_t *p, struct moat_err *err)
{
	const char *name = json_string_value(json_object_get(p, "name"));
	const char *in = json_string_value(json_object_get(p, "in"));
	const char *desc = json_string_value(json_object_get(p, "description"));
	const char *style = json_string_value(json_object_get(p, "style"));
	bool required = json_is_true(json_object_get(p, "required"));
	json_t *schema = NULL;
	char *arg = NULL, *cn = import_op_short(name);
	enum moat_rc rc = MOAT_OK;
	size_t before = json_array_size(b->c->notes);
	bool sane;

	if (!cn)
		return MOAT_ENOMEM;
	sane = name && *name && strcmp(cn, name) == 0 && !strstr(name, "${");
	if (!in || !name) {
		rc = import_note(b->c->notes, "%s: a parameter without \"name\" or \"in\" was left out.",
				 b->where);
		goto out;
	}
	if (strcmp(in, "path") == 0)
		required = true;
	if (strcmp(in, "cookie") == 0) {
		if (required)
			rc = import_op_skip(b, "required cookie parameter %s: cookie parameters are not supported",
				  cn);
		else
			rc = import_note(b->c->notes,
					 "%s: optional cookie parameter %s left out (cookie parameters "
					 "are not supported).",
					 b->where, cn);
		goto out;
	}
	if (strcmp(in, "header") == 0 &&
	    (header_ignored(name) || import_obj_icase(b->c->api_headers, name)))
		goto out; /* the API (or HTTP itself) sets it */
	if (strcmp(in, "query") == 0 && json_object_get(b->c->api_query, name))
		goto out; /* the credential */
	if (strcmp(in, "path") != 0 && strcmp(in, "query") != 0 && strcmp(in, "header") != 0) {
		rc = import_note(b->c->notes, "%s: parameter %s in \"%s\" left out (unknown location).",
				 b->where, cn, strcmp(in, "body") == 0 ? "body" : "?");
		goto out;
	}
	if (!sane || (strcmp(in, "header") == 0 && !import_header_name_ok(name))) {
		if (required || strcmp(in, "path") == 0)
			rc = import_op_skip(b, "parameter %s has a name that cannot be sent", cn);
		else
			rc = import_note(b->c->notes, "%s: parameter %s left out: its name cannot be sent.",
					 b->where, cn);
		goto out;
	}
	if (!(schema = import_op_schema(b->c, b->where, param_schema(p), OA_REQUEST, err))) {
		rc = err->rc ? err->rc : MOAT_EINVAL;
		goto out;
	}
	if (structured(schema) || (style && strcmp(style, "deepObject") == 0)) {
		import_notes_back_to(b->c->notes, before);
		if (required)
			rc = import_op_skip(b, "%s parameter %s is an object: not supported", in, cn);
		else
			rc = import_note(b->c->notes,
					 "%s: object-valued %s parameter %s left out (not supported).",
					 b->where, in, cn);
		goto out;
	}
	if (strcmp(in, "query") != 0 && import_type_is(schema, "array")) {
		import_notes_back_to(b->c->notes, before);
		if (required)
			rc = import_op_skip(b, "%s parameter %s is an array: not supported", in, cn);
		else
			rc = import_note(b->c->notes, "%s: array-valued %s parameter %s left out (not "
						      "supported).",
					 b->where, in, cn);
		goto out;
	}
	rc = import_op_arg(b, name, schema, desc, required, &arg);
	schema = NULL;
	if (rc)
		goto out;
	if (strcmp(in, "query") == 0)
		rc = placeholder(b->query, name, arg);
	else if (strcmp(in, "header") == 0)
		rc = placeholder(b->headers, name, arg);
	else
		rc = json_object_set_new(b->pathargs, name, json_string(arg)) ? MOAT_ENOMEM : MOAT_OK;
out:
	json_decref(schema);
	free(arg);
	free(cn);
	return rc;
}

/* Path-level then operation-level parameters, the latter replacing the
 * former with the same name and "in"; each dereferenced. */
enum moat_rc import_op_params(struct opb *b, struct moat_err *err)
{
	const json_t *lists[2] = {json_object_get(b->in->path_item, "parameters"),
				  json_object_get(b->in->op, "parameters")};
	json_t *merged = json_array(), *index = json_object(), *v;
	enum moat_rc rc = MOAT_OK;
	size_t i;

	if (!merged || !index) {
		rc = MOAT_ENOMEM;
		goto out;
	}
	for (int l = 0; l < 2; l++) {
		json_array_foreach(lists[l], i, v) {
			const json_t *p = oa_deref(b->c->doc, v, err);
			const char *n, *in;
			char key[1024];
			json_t *at;
			if (!p) {
				rc = err->rc ? err->rc : MOAT_EINVAL;
				goto out;
			}
			n = json_string_value(json_object_get(p, "name"));
			in = json_string_value(json_object_get(p, "in"));
			snprintf(key, sizeof(key), "%s\n%s", in ? in : "", n ? n : "");
			if ((at = json_object_get(index, key))) {
				json_array_set(merged, (size_t)json_integer_value(at), (json_t *)p);
				continue;
			}
			if (json_object_set_new(index, key, json_integer((json_int_t)json_array_size(merged))) ||
			    json_array_append(merged, (json_t *)p)) {
				rc = MOAT_ENOMEM;
				goto out;
			}
		}
	}
	json_array_foreach(merged, i, v)
		if ((rc = one_param(b, v, err)) || b->why[0])
			goto out;
out:
	json_decref(merged);
	json_decref(index);
	return rc;
}

/* A fixed query in the document's path ("/?Action=List&Version=2"): each
 * pair a literal entry of the tool's query, unless a parameter of that
 * name is declared. Plain characters only; anything else skips. */
static enum moat_rc literal_query(struct opb *b, const char *q)
{
	static const char ok[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._~-";

	while (*q) {
		size_t n = strcspn(q, "&"), kn = strcspn(q, "=&");
		char key[128], val[256];
		const char *v = kn < n ? q + kn + 1 : q + kn; /* "flag" alone: "" */
		size_t vn = kn < n ? n - kn - 1 : 0;
		bool var = vn > 2 && v[0] == '{' && v[vn - 1] == '}' && strspn(v + 1, ok) == vn - 2;
		if (kn == 0 || kn >= sizeof(key) || n - kn >= sizeof(val) || strspn(q, ok) < kn ||
		    (!var && strspn(v, ok) < vn))
			return import_op_skip(b, "the path has a query part that is not plain name=value pairs");
		if (var) { /* "?lat={lat}": the parameter, declared or not */
			char *arg = NULL;
			enum moat_rc rc;
			memcpy(key, q, kn);
			key[kn] = '\0';
			if (!json_object_get(b->query, key)) {
				snprintf(val, sizeof(val), "%.*s", (int)(vn - 2), v + 1);
				if ((rc = import_op_arg(b, val, json_pack("{s:s}", "type", "string"), NULL,
						  false, &arg)) ||
				    (rc = placeholder(b->query, key, arg))) {
					free(arg);
					return rc;
				}
				free(arg);
			}
			q += n;
			if (*q == '&')
				q++;
			continue;
		}
		memcpy(key, q, kn);
		key[kn] = '\0';
		snprintf(val, sizeof(val), "%.*s", kn < n ? (int)(n - kn - 1) : 0, q + kn + 1);
		if (!json_object_get(b->query, key) &&
		    json_object_set_new(b->query, key, json_string(val)))
			return MOAT_ENOMEM;
		q += n;
		if (*q == '&')
			q++;
	}
	return MOAT_OK;
}

/* The path template with {param} renamed to {arg}; an undeclared path
 * parameter becomes a required string argument; a fixed query part goes
 * to the tool's query. */
enum moat_rc import_op_path(struct opb *b, char **out)
{
	const char *p = b->in->path;
	size_t cap = strlen(p) * 2 + 1, len = 0;
	char *t = NULL;
	enum moat_rc rc = MOAT_OK;

	const char *qpart = strchr(p, '?'), *end = qpart ? qpart : p + strlen(p);

	*out = NULL;
	if (strlen(p) > OP_PATH_MAX)
		return import_op_skip(b, "the path is longer than %d bytes", OP_PATH_MAX);
	if (strchr(p, '#'))
		return import_op_skip(b, "the path has a fragment ('#'), which is never sent: the operation "
			       "cannot be told apart");
	if (p[0] != '/' || strstr(p, "${"))
		return import_op_skip(b, "the path is not a plain path template (a '/' first; no '${')");
	for (const char *q = p; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return import_op_skip(b, "the path has a control character");
	if (text_path_unsafe(p))
		return import_op_skip(b, "the path has %s: it could leave base_url", text_path_unsafe(p));
	if (qpart && ((rc = literal_query(b, qpart + 1)) || b->why[0]))
		return rc;
	while (p < end) {
		if (*p == '{') {
			const char *e = strchr(p + 1, '}');
			char var[256];
			const char *arg;
			if (!e || e == p + 1 || (size_t)(e - p - 1) >= sizeof(var) ||
			    memchr(p + 1, '{', (size_t)(e - p - 1))) {
				rc = import_op_skip(b, "the path template is malformed");
				goto out;
			}
			memcpy(var, p + 1, (size_t)(e - p - 1));
			var[e - p - 1] = '\0';
			if (!json_object_get(b->pathargs, var)) {
				char *a = NULL;
				json_t *s = json_pack("{s:s}", "type", "string");
				if ((rc = import_op_arg(b, var, s, NULL, true, &a)))
					goto out;
				rc = json_object_set_new(b->pathargs, var, json_string(a)) ? MOAT_ENOMEM
											  : MOAT_OK;
				free(a);
				if (rc)
					goto out;
				char *cv = import_op_short(var);
				rc = cv ? import_note(b->c->notes,
						      "%s: path parameter %s is not declared: taken as "
						      "a string.",
						      b->where, cv)
					: MOAT_ENOMEM;
				free(cv);
				if (rc)
					goto out;
			}
			arg = json_string_value(json_object_get(b->pathargs, var));
			cap += strlen(arg) + 2;
			if (!t && !(t = malloc(cap))) {
				rc = MOAT_ENOMEM;
				goto out;
			} else if (t) {
				char *nt = realloc(t, cap);
				if (!nt) {
					rc = MOAT_ENOMEM;
					goto out;
				}
				t = nt;
			}
			len += (size_t)snprintf(t + len, cap - len, "{%s}", arg);
			p = e + 1;
			continue;
		}
		if (!t && !(t = malloc(cap))) {
			rc = MOAT_ENOMEM;
			goto out;
		}
		if (*p == '}')
			t[len++] = '}'; /* a literal brace is written twice */
		t[len++] = *p++;
	}
	if (!t && !(t = malloc(1))) {
		rc = MOAT_ENOMEM;
		goto out;
	}
	t[len] = '\0';
	*out = t;
	t = NULL;
out:
	free(t);
	return rc;
}
