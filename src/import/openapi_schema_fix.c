/*
 * openapi_schema_fix.c - the rewrites oa_schema (openapi_schema.c) makes
 * on a converted schema object once its keywords are in: OpenAPI 3.0's
 * boolean exclusiveMinimum/Maximum and nullable turned into JSON Schema
 * 2020-12, and an allOf of plain object schemas merged into one object
 * so that it can be closed. Pure functions of the object they are given;
 * thread-safe.
 */
#include <stdbool.h>
#include <string.h>

#include "openapi_int.h"

/* OpenAPI 3.0's boolean exclusiveMinimum/Maximum made numeric. */
void oa_exclusive_bound(json_t *o, const char *ex, const char *bound)
{
	json_t *e = json_object_get(o, ex), *b = json_object_get(o, bound);
	if (!json_is_boolean(e))
		return;
	if (json_is_true(e) && b) {
		json_object_set(o, ex, b);
		json_object_del(o, bound);
	} else {
		json_object_del(o, ex);
	}
}

/* nullable: true -> "null" among the types (and the enum), or, without a
 * type, anyOf the schema and {type: null}. Returns o or the wrapper. */
json_t *oa_nullable(json_t *o)
{
	json_t *t = json_object_get(o, "type"), *e = json_object_get(o, "enum"), *w;
	bool on = json_is_true(json_object_get(o, "nullable"));
	json_t *null_s = json_string("null");

	json_object_del(o, "nullable");
	if (!on || !null_s)
		goto out;
	if (json_is_array(e)) {
		bool has = false;
		for (size_t i = 0; i < json_array_size(e); i++)
			has = has || json_is_null(json_array_get(e, i));
		if (!has)
			json_array_append_new(e, json_null());
	}
	if (json_is_string(t)) {
		if (strcmp(json_string_value(t), "null") != 0)
			json_object_set_new(o, "type", json_pack("[O,O]", t, null_s));
	} else if (json_is_array(t)) {
		bool has = false;
		for (size_t i = 0; i < json_array_size(t); i++)
			has = has || json_equal(json_array_get(t, i), null_s);
		if (!has)
			json_array_append(t, null_s);
	} else if (json_object_size(o) > 0 && !json_is_array(e)) {
		w = json_pack("{s:[O,{s:s}]}", "anyOf", o, "type", "null");
		if (w) {
			json_decref(o);
			o = w;
		}
	}
out:
	json_decref(null_s);
	return o;
}

static bool is_object_type(const json_t *t)
{
	return json_is_string(t) && !strcmp(json_string_value(t), "object");
}

/* Whether a member of allOf only lists properties (plain object keys). */
static bool plain_object(const json_t *m)
{
	const char *k;
	json_t *v;

	if (!json_is_object(m))
		return false;
	json_object_foreach((json_t *)m, k, v)
	{
		if (strcmp(k, "properties") && strcmp(k, "required") && strcmp(k, "description") &&
		    strcmp(k, "title") && !(!strcmp(k, "type") && is_object_type(v)))
			return false;
	}
	return true;
}

/* allOf of plain object schemas merged into o, so that o can be closed
 * like any object schema: the common "allOf: [Base, {properties: ...}]"
 * (left open, every member of allOf must accept the others' properties).
 * Left as it is when a member says anything else, when o constrains its
 * other properties itself, or when two define one property differently. */
int oa_flatten_allof(json_t *o)
{
	json_t *all = json_object_get(o, "allOf"), *m, *props, *req;
	size_t i;

	if (!json_is_array(all) || json_object_get(o, "additionalProperties") ||
	    json_object_get(o, "patternProperties") ||
	    (json_object_get(o, "type") && !is_object_type(json_object_get(o, "type"))))
		return 0;
	json_array_foreach(all, i, m)
	{
		if (!plain_object(m))
			return 0;
	}
	props = json_object_get(o, "properties") ? json_deep_copy(json_object_get(o, "properties"))
						  : json_object();
	req = json_object_get(o, "required") ? json_deep_copy(json_object_get(o, "required"))
					     : json_array();
	if (!props || !req)
		goto fail;
	json_array_foreach(all, i, m)
	{
		const char *k;
		json_t *v, *r;
		size_t j;
		json_object_foreach(json_object_get(m, "properties"), k, v)
		{
			json_t *had = json_object_get(props, k);
			if ((had && !json_equal(had, v)) || json_object_set(props, k, v) != 0)
				goto fail;
		}
		json_array_foreach(json_object_get(m, "required"), j, r)
		{
			bool dup = false;
			for (size_t x = 0; x < json_array_size(req) && !dup; x++)
				dup = json_equal(json_array_get(req, x), r);
			if (!dup && json_array_append(req, r) != 0)
				goto fail;
		}
		if (!json_object_get(o, "description") && json_object_get(m, "description"))
			json_object_set(o, "description", json_object_get(m, "description"));
	}
	json_object_del(o, "required");
	if (json_array_size(req) && json_object_set(o, "required", req) != 0) {
		json_decref(props);
		json_decref(req);
		return -1;
	}
	json_decref(req);
	if (json_object_set_new(o, "type", json_string("object")) != 0 ||
	    json_object_set_new(o, "properties", props) != 0)
		return -1;
	json_object_del(o, "allOf");
	return 0;
fail:
	json_decref(props);
	json_decref(req);
	return 0; /* a conflict (or ENOMEM): allOf stays */
}

