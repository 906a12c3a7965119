/*
 * import_resp.c - what an imported tool answers: the success response
 * (the lowest 2xx with content, else "default") read for its media types:
 * JSON (the default), text ("response": "text"), or binary ("response":
 * "binary" with "mime_allow" and a 4 MiB "max_bytes"); with
 * --output-schemas, an object-typed JSON schema as "output_schema".
 * Written by hand: moat's own mapping.
 */
#include "import_resp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

/* A media type lower-cased without parameters, in buf. */
const char *import_media(const char *k, char *buf, size_t n)
{
	size_t len = 0;

	while (*k == ' ')
		k++;
	for (; *k && *k != ';' && *k != ' ' && len + 1 < n; k++)
		buf[len++] = (*k >= 'A' && *k <= 'Z') ? (char)(*k - 'A' + 'a') : *k;
	buf[len] = '\0';
	return buf;
}

bool import_media_json(const char *m)
{
	size_t n = strlen(m);

	return strcmp(m, "application/json") == 0 || strcmp(m, "text/json") == 0 ||
	       (n > 5 && strcmp(m + n - 5, "+json") == 0);
}

/* The success response: the lowest 2xx with content, else "default". */
static const json_t *success(const struct import_ctx *c, const json_t *op, struct moat_err *err,
			     bool *bad)
{
	const json_t *rs = json_object_get(op, "responses"), *v, *best = NULL;
	const char *k, *bestk = NULL;

	*bad = false;
	json_object_foreach((json_t *)rs, k, v) {
		const json_t *r;
		if (!(k[0] == '2' && strlen(k) == 3))
			continue;
		if (!(r = oa_deref(c->doc, v, err))) {
			*bad = true;
			return NULL;
		}
		if (!json_object_size(json_object_get(r, "content")))
			continue;
		/* "2XX" sorts after "299" as 'X' > '9' */
		if (!bestk || strcmp(k, bestk) < 0) {
			bestk = k;
			best = r;
		}
	}
	if (!best && (v = json_object_get(rs, "default"))) {
		if (!(best = oa_deref(c->doc, v, err)))
			*bad = true;
	}
	return best;
}

static enum moat_rc add_mime(json_t *list, const char *m)
{
	json_t *v;
	size_t i;
	bool ok = *m && strchr(m, '/') && strlen(m) < 128;

	for (const char *p = m; ok && *p; p++)
		ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr(".+*-/", *p);
	if (!ok || strchr(m, '/') != strrchr(m, '/') || m[0] == '/' || m[strlen(m) - 1] == '/')
		return MOAT_OK; /* not a type the config accepts */
	json_array_foreach(list, i, v)
		if (strcmp(json_string_value(v), m) == 0)
			return MOAT_OK;
	return json_array_append_new(list, json_string(m)) ? MOAT_ENOMEM : MOAT_OK;
}

/* An output schema checks what the API answers, and APIs add fields:
 * "additionalProperties": false (which oa_schema puts on every object
 * schema) would turn a new field into a tool error, so it goes. */
static void open_objects(json_t *s, unsigned depth)
{
	const char *k;
	json_t *v, *tmp;
	size_t i;

	if (depth > 64)
		return;
	if (json_is_object(s)) {
		json_object_foreach_safe(s, tmp, k, v) {
			if (strcmp(k, "additionalProperties") == 0 && json_is_false(v))
				json_object_del(s, k);
			else
				open_objects(v, depth + 1);
		}
	} else if (json_is_array(s)) {
		json_array_foreach(s, i, v)
			open_objects(v, depth + 1);
	}
}

/* response kind, mime_allow and (with --output-schemas) output_schema */
enum moat_rc import_resp(struct import_ctx *c, const json_t *op, const char *where, json_t **kind,
			 json_t **mimes, json_t **outs, struct moat_err *err)
{
	bool bad, json = false, text = false, bin = false, any = false;
	const json_t *r = success(c, op, err, &bad), *v, *jschema = NULL;
	const char *k;
	char mt[128];
	json_t *list = NULL;
	enum moat_rc rc = MOAT_OK;

	if (bad)
		return err->rc ? err->rc : MOAT_EINVAL;
	json_object_foreach((json_t *)json_object_get(r, "content"), k, v) {
		import_media(k, mt, sizeof(mt));
		if (import_media_json(mt)) {
			if (!json)
				jschema = json_object_get(v, "schema");
			json = true;
		} else if (strncmp(mt, "text/", 5) == 0) {
			text = true;
		} else {
			bin = true;
			any = any || strcmp(mt, "*/*") == 0 || strcmp(mt, "application/octet-stream") == 0;
		}
	}
	if (!json && bin) {
		if (!(list = json_array()))
			return MOAT_ENOMEM;
		json_object_foreach((json_t *)json_object_get(r, "content"), k, v)
			if (!any && (rc = add_mime(list, import_media(k, mt, sizeof(mt)))))
				goto out;
		if (json_array_size(list) == 0 &&
		    (rc = add_mime(list, "application/octet-stream")))
			goto out;
		*kind = json_string("binary");
		*mimes = list;
		list = NULL;
		c->binary = true;
	} else if (!json && text) {
		*kind = json_string("text");
	}
	if (json && c->opts->output_schemas && jschema) {
		json_t *s = import_op_schema(c, where, jschema, OA_RESPONSE, err);
		struct moat_err e = {0};
		struct schema *cs;
		if (!s) {
			rc = err->rc ? err->rc : MOAT_EINVAL;
			goto out;
		}
		import_defuse(s);
		open_objects(s, 0);
		if (!import_type_is(s, "object") || json_is_array(json_object_get(s, "type"))) {
			json_decref(s);
		} else if (!(cs = schema_compile(s, &e))) {
			json_decref(s);
			rc = import_note(c->notes, "%s: output schema left out: moat's validator "
						      "refuses it.",
					 where);
		} else {
			schema_free(cs);
			*outs = s;
		}
	}
out:
	json_decref(list);
	return rc;
}

