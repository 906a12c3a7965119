/*
 * import_op.c - one OpenAPI operation to one http-family tool (see
 * import_op.h for the shape and what is skipped): the request body, the
 * texts, annotations and tags, the input schema checked, the members in
 * order. Parameters and the path are import_params.c's, the response
 * import_resp.c's.
 *
 * Written by hand: the mapping from OpenAPI's parameter and content
 * model to moat's templates is moat's own; the schemas themselves come
 * from the document layer (oa_schema) and are checked by moat's own
 * validator (schema_compile) before a tool is written.
 */
#include "import_op.h"
#include "import_op_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_names.h"
#include "import_resp.h"
#include "import_security.h"
#include "import_text.h"
#include "schema.h"

#define OP_TITLE_MAX 190   /* bytes; the config allows 200 characters */
#define OP_DESC_MAX 1000   /* bytes of a tool description */
#define OP_TAG_MAX 64

enum moat_rc import_note(json_t *notes, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return json_array_append_new(notes, json_string(line)) ? MOAT_ENOMEM : MOAT_OK;
}

bool import_defuse(json_t *v)
{
	const char *k;
	json_t *m, *tmp;
	size_t i;
	bool cut = false;

	if (json_is_string(v) && strstr(json_string_value(v), "${")) {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v), len = 0;
		char *t = malloc(2 * n + 1);
		if (!t)
			return false;
		for (size_t j = 0; j < n; j++) {
			t[len++] = s[j];
			if (s[j] == '$' && j + 1 < n && s[j + 1] == '{')
				t[len++] = ' ';
		}
		json_string_setn(v, t, len);
		free(t);
	} else if (json_is_object(v)) {
		json_object_foreach_safe(v, tmp, k, m) {
			if (strcmp(k, "pattern") == 0 && json_is_string(m) &&
			    strstr(json_string_value(m), "${")) {
				json_object_del(v, k);
				cut = true;
			} else {
				cut = import_defuse(m) || cut;
			}
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, m)
			cut = import_defuse(m) || cut;
	}
	return cut;
}



enum moat_rc import_op_skip(struct opb *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(b->why, sizeof(b->why), fmt, ap);
	va_end(ap);
	return MOAT_OK;
}

/* text for a note or reason, one line, bounded, NULL on ENOMEM */
char *import_op_short(const char *s)
{
	return import_text(s ? s : "", 120, true);
}

json_t *import_op_schema(struct import_ctx *c, const char *where, const json_t *s, enum oa_dir dir,
			 struct moat_err *err)
{
	size_t before = json_array_size(c->notes);
	json_t *res = oa_schema(c->doc, s, dir, c->notes, err);

	for (size_t i = before; i < json_array_size(c->notes); i++) {
		const char *n = json_string_value(json_array_get(c->notes, i));
		char line[1024];
		if (!n)
			continue;
		snprintf(line, sizeof(line), "%s: %s", where, n);
		json_array_set_new(c->notes, i, json_string(line));
	}
	return res;
}

/* Drop the notes added since there were n (what a left-out part said). */
void import_notes_back_to(json_t *notes, size_t n)
{
	while (json_array_size(notes) > n)
		json_array_remove(notes, json_array_size(notes) - 1);
}

/* The schema's "type" is (or may be) t. */
bool import_type_is(const json_t *schema, const char *t)
{
	const json_t *ty = json_object_get(schema, "type"), *v;
	size_t i;

	if (json_is_string(ty))
		return strcmp(json_string_value(ty), t) == 0;
	json_array_foreach(ty, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), t) == 0)
			return true;
	return false;
}


/* The request body: one argument, "body" unless a parameter took it. */
static enum moat_rc body(struct opb *b, json_t *tool_body_fmt[2], struct moat_err *err)
{
	const json_t *rb = json_object_get(b->in->op, "requestBody"), *content, *v;
	const json_t *chosen = NULL;
	const char *k;
	bool form = false, multipart = false, other = false;
	char mt[128], *arg = NULL;
	json_t *schema;
	enum moat_rc rc;

	if (!rb)
		return MOAT_OK;
	if (!(rb = oa_deref(b->c->doc, rb, err)))
		return err->rc ? err->rc : MOAT_EINVAL;
	content = json_object_get(rb, "content");
	if (!b->in->write)
		return json_object_size(content)
			       ? import_note(b->c->notes, "%s: its request body was left out (a %s "
							  "request sends none).",
					     b->where, b->in->method)
			       : MOAT_OK;
	json_object_foreach((json_t *)content, k, v) {
		import_media(k, mt, sizeof(mt));
		if (import_media_json(mt) || strcmp(mt, "*/*") == 0) {
			chosen = v;
			form = false;
			break;
		}
		if (strcmp(mt, "application/x-www-form-urlencoded") == 0 && !chosen) {
			chosen = v;
			form = true;
		} else if (strcmp(mt, "multipart/form-data") == 0) {
			multipart = true;
		} else {
			other = true;
		}
	}
	if (!chosen) {
		if (multipart)
			return import_op_skip(b, "multipart/form-data upload not supported");
		if (other)
			return import_op_skip(b, "its request body type is not supported (only JSON and "
				       "form-urlencoded bodies)");
		return MOAT_OK; /* no content: no body */
	}
	if (!(schema = import_op_schema(b->c, b->where, json_object_get(chosen, "schema"), OA_REQUEST, err)))
		return err->rc ? err->rc : MOAT_EINVAL;
	/* required always: a "{body}" template with the argument absent
	 * is an error at call time, so the model must send one ({}) */
	if ((rc = import_op_arg(b, "body", schema, json_string_value(json_object_get(rb, "description")),
			  true, &arg)))
		return rc;
	char t[IMPORT_NAME_MAX + 3];
	snprintf(t, sizeof(t), "{%s}", arg);
	free(arg);
	tool_body_fmt[0] = json_string(t);
	tool_body_fmt[1] = form ? json_string("form") : NULL;
	if (!tool_body_fmt[0] || (form && !tool_body_fmt[1]))
		return MOAT_ENOMEM;
	return MOAT_OK;
}

static json_t *annotations(const char *m)
{
	bool put = strcmp(m, "PUT") == 0, del = strcmp(m, "DELETE") == 0;

	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		return json_pack("{s:b, s:b}", "readOnlyHint", 1, "openWorldHint", 1);
	return json_pack("{s:b, s:b, s:b, s:b}", "readOnlyHint", 0, "destructiveHint",
			 put || del || strcmp(m, "PATCH") == 0, "idempotentHint", put || del,
			 "openWorldHint", 1);
}

static json_t *tags(const json_t *op)
{
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach(json_object_get(op, "tags"), i, v) {
		char *t = json_is_string(v) ? import_text(json_string_value(v), OP_TAG_MAX, true) : NULL;
		if (t && *t)
			json_array_append_new(out, json_string(t));
		free(t);
	}
	return out;
}

/* set key to v (borrowed) when v is not NULL; false on ENOMEM */
static bool put(json_t *o, const char *k, json_t *v)
{
	return !v || json_object_set(o, k, v) == 0;
}

static json_t *texts(const struct opb *b, json_t **title)
{
	const char *sum = json_string_value(json_object_get(b->in->op, "summary"));
	const char *desc = json_string_value(json_object_get(b->in->op, "description"));
	bool dep = json_is_true(json_object_get(b->in->op, "deprecated"));
	char *t = import_text(sum, OP_TITLE_MAX, true);
	char *d = import_text(desc && *desc ? desc : sum, OP_DESC_MAX, false);
	json_t *res = NULL;

	*title = NULL;
	if (!t || !d)
		goto out;
	if (*t)
		*title = json_string(t);
	if (!*d) {
		res = json_string(b->where);
	} else if (dep) {
		size_t n = strlen(d) + 16;
		char *dd = malloc(n);
		if (dd) {
			snprintf(dd, n, "Deprecated. %s", d);
			res = json_string(dd);
		}
		free(dd);
	} else {
		res = json_string(d);
	}
out:
	free(t);
	free(d);
	return res;
}

static enum moat_rc build(struct opb *b, json_t **tool, struct moat_err *err)
{
	const struct import_op_in *in = b->in;
	json_t *t = NULL, *title = NULL, *desc = NULL, *bodyf[2] = {NULL, NULL};
	json_t *kind = NULL, *mimes = NULL, *outs = NULL, *schema = NULL, *tg = NULL;
	char *path = NULL;
	struct schema *cs = NULL;
	struct moat_err e = {0};
	enum moat_rc rc;

	if ((rc = import_op_params(b, err)) || b->why[0] || (rc = import_op_path(b, &path)) || b->why[0] ||
	    (rc = body(b, bodyf, err)) || b->why[0] || (rc = import_resp(b->c, b->in->op, b->where, &kind, &mimes, &outs, err)))
		goto out;
	if ((json_array_size(json_object_get(in->op, "servers")) ||
	     json_array_size(json_object_get(in->path_item, "servers"))) &&
	    (rc = import_note(b->c->notes,
			      "%s names servers of its own: moat sends it to the API's base_url.",
			      b->where)))
		goto out;
	rc = MOAT_ENOMEM;
	schema = json_pack("{s:s, s:O}", "type", "object", "properties", b->props);
	if (!schema || (json_array_size(b->req) && json_object_set(schema, "required", b->req)) ||
	    json_object_set_new(schema, "additionalProperties", json_false()))
		goto out;
	if (import_defuse(schema) &&
	    import_note(b->c->notes, "%s: a \"pattern\" holding \"${\" was removed from its "
				     "schema.",
			b->where))
		goto out;
	if (!(cs = schema_compile(schema, &e))) {
		char *m = import_op_short(e.msg);
		snprintf(b->why, sizeof(b->why), "its input schema is refused by moat's validator: %s",
			 m ? m : "");
		free(m);
		rc = MOAT_OK;
		goto out;
	}
	desc = texts(b, &title);
	t = json_object();
	if (!desc || !t || json_object_set_new(t, "name", json_string(in->name)) ||
	    !put(t, "title", title) || !put(t, "description", desc) ||
	    json_object_set_new(t, "method", json_string(in->method)) ||
	    json_object_set_new(t, "path", json_string(path)))
		goto out_t;
	if ((json_object_size(b->query) && json_object_set(t, "query", b->query)) ||
	    (json_object_size(b->headers) && json_object_set(t, "headers", b->headers)) ||
	    !put(t, "body", bodyf[0]) || !put(t, "body_format", bodyf[1]) ||
	    json_object_set(t, "input_schema", schema) || !put(t, "output_schema", outs))
		goto out_t;
	if (!put(t, "response", kind) || !put(t, "mime_allow", mimes))
		goto out_t;
	if (mimes &&
	    json_object_set_new(t, "max_bytes", json_integer(IMPORT_BINARY_MAX_BYTES)))
		goto out_t;
	if ((in->write && json_object_set_new(t, "confirm", json_true())) ||
	    json_object_set_new(t, "annotations", annotations(in->method)))
		goto out_t;
	if (!(tg = tags(in->op)) || (json_array_size(tg) && json_object_set(t, "tags", tg)))
		goto out_t;
	/* text from the document: no "${" reaches the config */
	import_defuse(t);
	*tool = t;
	t = NULL;
	rc = MOAT_OK;
out_t:
	json_decref(t);
out:
	if (rc == MOAT_ENOMEM)
		moat_err_set(err, rc, "out of memory");
	schema_free(cs);
	json_decref(title);
	json_decref(desc);
	json_decref(bodyf[0]);
	json_decref(bodyf[1]);
	json_decref(kind);
	json_decref(mimes);
	json_decref(outs);
	json_decref(schema);
	json_decref(tg);
	free(path);
	return rc;
}

enum moat_rc import_op_tool(struct import_ctx *c, const struct import_op_in *in, json_t **tool,
			    char **why, struct moat_err *err)
{
	struct opb b = {.c = c, .in = in};
	size_t before = json_array_size(c->notes);
	size_t n = strlen(in->method) + strlen(in->path) + 2;
	char *wp = malloc(n);
	enum moat_rc rc = MOAT_ENOMEM;

	*tool = NULL;
	*why = NULL;
	if (wp)
		snprintf(wp, n, "%s %s", in->method, in->path);
	b.where = wp ? import_text(wp, 200, true) : NULL;
	free(wp);
	b.taken = json_object();
	b.props = json_object();
	b.req = json_array();
	b.query = json_object();
	b.headers = json_object();
	b.pathargs = json_object();
	if (!b.where || !b.taken || !b.props || !b.req || !b.query || !b.headers || !b.pathargs) {
		moat_err_set(err, rc, "out of memory");
		goto out;
	}
	/* "${" in a note would be read by the config as a variable */
	for (char *p = b.where; (p = strstr(p, "${")); p++)
		p[1] = '(';
	rc = build(&b, tool, err);
	if (rc == MOAT_OK && b.why[0]) {
		json_decref(*tool);
		*tool = NULL;
		import_notes_back_to(c->notes, before); /* only why it was skipped */
		if (!(*why = strdup(b.why)) ||
		    import_note(c->notes, "Skipped %s: %s.", b.where, b.why)) {
			free(*why);
			*why = NULL;
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		}
	}
out:
	free(b.where);
	json_decref(b.taken);
	json_decref(b.props);
	json_decref(b.req);
	json_decref(b.query);
	json_decref(b.headers);
	json_decref(b.pathargs);
	return rc;
}

