/*
 * openapi_swagger2.c - a Swagger 2.0 document rewritten in place into the
 * OpenAPI 3 shape the importer reads (openapi_doc.h), so the rest of the
 * importer knows one dialect:
 *
 *   host + basePath + schemes      -> servers (https first when offered)
 *   non-body parameter's type, format, items, enum, default, minimum, ...
 *                                  -> its "schema" (type file: a binary string;
 *                                     collectionFormat -> style/explode)
 *   a "body" parameter             -> requestBody, one content entry per
 *                                     consumes type (else application/json)
 *   "formData" parameters          -> requestBody: an object schema of them
 *                                     (required kept), as
 *                                     application/x-www-form-urlencoded, or
 *                                     multipart/form-data when consumes says so
 *                                     or a parameter is a file
 *   a response's "schema"          -> content, one entry per produces type
 *                                     (else application/json)
 *   securityDefinitions            -> components.securitySchemes
 *
 * Global and operation-level produces/consumes are honoured (the
 * operation's win). definitions, parameters and responses stay where they
 * were, so "#/definitions/X" and "#/parameters/Y" refs still resolve; the
 * global parameters and responses are converted too, since refs reach
 * them. Written by hand: no Debian library converts Swagger 2.0.
 */
#include <stdio.h>
#include <string.h>

#include "openapi_int.h"

/* Parameter (and header, items) keys that describe a value: they move
 * into "schema" in OpenAPI 3. */
static const char *const value_keys[] = {
	"type",	     "format",	  "items",     "enum",	      "default",   "maximum",
	"minimum",   "exclusiveMaximum", "exclusiveMinimum", "maxLength", "minLength",
	"pattern",   "maxItems",  "minItems",  "uniqueItems", "multipleOf",
};

static const char *const methods[] = {"get", "put", "post", "delete", "options", "head", "patch"};

static json_t *str_array1(const char *s)
{
	json_t *a = json_array();
	if (a && json_array_append_new(a, json_string(s)) != 0) {
		json_decref(a);
		return NULL;
	}
	return a;
}

/* A Swagger "items" object (or a parameter) as a schema: value keys only,
 * nested items converted, type file made a binary string. New reference. */
static json_t *value_schema(const json_t *p)
{
	json_t *s = json_object();
	if (!s)
		return NULL;
	for (size_t i = 0; i < sizeof(value_keys) / sizeof(*value_keys); i++) {
		json_t *v = json_object_get(p, value_keys[i]);
		if (!v)
			continue;
		if (!strcmp(value_keys[i], "items") && json_is_object(v) &&
		    !json_object_get(v, "$ref")) {
			json_t *it = value_schema(v);
			if (!it || json_object_set_new(s, "items", it) != 0)
				goto fail;
		} else if (json_object_set(s, value_keys[i], v) != 0) {
			goto fail;
		}
	}
	if (json_is_string(json_object_get(s, "type")) &&
	    !strcmp(json_string_value(json_object_get(s, "type")), "file")) {
		if (json_object_set_new(s, "type", json_string("string")) != 0 ||
		    json_object_set_new(s, "format", json_string("binary")) != 0)
			goto fail;
	}
	return s;
fail:
	json_decref(s);
	return NULL;
}

/* A non-body parameter (or a response header) rewritten in place: its
 * value keys moved into "schema". */
static enum moat_rc param_to_oa3(json_t *p, struct moat_err *err)
{
	json_t *schema;
	const char *cf = json_string_value(json_object_get(p, "collectionFormat"));
	const char *in = json_string_value(json_object_get(p, "in"));

	if (!json_is_object(p) || json_object_get(p, "$ref") || json_object_get(p, "schema"))
		return MOAT_OK;
	if (!(schema = value_schema(p)))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < sizeof(value_keys) / sizeof(*value_keys); i++)
		json_object_del(p, value_keys[i]);
	if (json_object_set_new(p, "schema", schema) != 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (in && json_is_string(json_object_get(schema, "type")) &&
	    !strcmp(json_string_value(json_object_get(schema, "type")), "array")) {
		/* csv (the default) -> form, not exploded; multi -> exploded. */
		const char *style = !strcmp(in, "query") ? "form" : "simple";
		bool explode = cf && !strcmp(cf, "multi");
		if (cf && !strcmp(cf, "ssv"))
			style = "spaceDelimited";
		else if (cf && !strcmp(cf, "pipes"))
			style = "pipeDelimited";
		if (json_object_set_new(p, "style", json_string(style)) != 0 ||
		    json_object_set_new(p, "explode", json_boolean(explode)) != 0)
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	json_object_del(p, "collectionFormat");
	return MOAT_OK;
}

/* The media types an operation consumes or produces: its own list, else
 * the document's, else application/json. Borrowed or new (*owned). */
static json_t *media_types(const json_t *root, const json_t *op, const char *key)
{
	const json_t *v = json_object_get(op, key);
	if (!json_is_array(v) || !json_array_size(v))
		v = json_object_get(root, key);
	if (json_is_array(v) && json_array_size(v))
		return json_incref((json_t *)v);
	return str_array1("application/json");
}

/* {type: content} for each string type in types, each with a copy of
 * schema (NULL: no schema member). New reference. */
static json_t *content_of(const json_t *types, const json_t *schema)
{
	json_t *c = json_object();
	size_t i;
	json_t *t;

	if (!c)
		return NULL;
	json_array_foreach(types, i, t)
	{
		json_t *mt = json_object();
		if (!json_is_string(t))
			continue;
		if (!mt || (schema && json_object_set_new(mt, "schema", json_deep_copy(schema)) != 0) ||
		    json_object_set_new(c, json_string_value(t), mt) != 0) {
			json_decref(c);
			return NULL;
		}
	}
	return c;
}

/* One response rewritten in place: schema -> content, headers' values
 * into schemas. */
static enum moat_rc response_to_oa3(const json_t *root, const json_t *op, json_t *r,
				    struct moat_err *err)
{
	json_t *schema, *headers, *h;
	const char *k;

	if (!json_is_object(r) || json_object_get(r, "$ref") || json_object_get(r, "content"))
		return MOAT_OK;
	headers = json_object_get(r, "headers");
	json_object_foreach(headers, k, h)
	{
		if (param_to_oa3(h, err) != MOAT_OK)
			return err ? err->rc : MOAT_ENOMEM;
	}
	if ((schema = json_object_get(r, "schema"))) {
		json_t *types = media_types(root, op, "produces");
		json_t *s = json_is_object(schema) && !json_object_get(schema, "$ref")
				    ? value_schema(schema)
				    : NULL;
		/* A file response: a binary string; else the schema as it is. */
		bool file = s && json_is_string(json_object_get(schema, "type")) &&
			    !strcmp(json_string_value(json_object_get(schema, "type")), "file");
		json_t *c = types ? content_of(types, file ? s : schema) : NULL;
		json_decref(s);
		json_decref(types);
		if (!c || json_object_set_new(r, "content", c) != 0)
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		json_object_del(r, "schema");
	}
	return MOAT_OK;
}

/* The parameters that apply to an operation: the path item's, then the
 * operation's (which replace one with the same name and in), refs
 * resolved. New array of borrowed-then-increfed parameter objects. */
static json_t *effective_params(const struct oa_doc *d, const json_t *item, const json_t *op,
				struct moat_err *err)
{
	json_t *all = json_array();
	const json_t *lists[2] = {json_object_get(item, "parameters"),
				  json_object_get(op, "parameters")};

	for (size_t l = 0; all && l < 2; l++) {
		size_t i;
		json_t *p;
		json_array_foreach(lists[l], i, p)
		{
			const json_t *r = oa_deref(d, p, err);
			const char *name, *in;
			if (!r) {
				json_decref(all);
				return NULL;
			}
			name = json_string_value(json_object_get(r, "name"));
			in = json_string_value(json_object_get(r, "in"));
			for (size_t j = 0; name && in && j < json_array_size(all); j++) {
				const json_t *q = json_array_get(all, j);
				const char *qn = json_string_value(json_object_get(q, "name"));
				const char *qi = json_string_value(json_object_get(q, "in"));
				if (qn && qi && !strcmp(qn, name) && !strcmp(qi, in)) {
					json_array_remove(all, j);
					break;
				}
			}
			if (json_array_append(all, (json_t *)r) != 0) {
				json_decref(all);
				return NULL;
			}
		}
	}
	if (!all)
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return all;
}

static bool is_in(const json_t *p, const char *in)
{
	const char *v = json_string_value(json_object_get(p, "in"));
	return v && !strcmp(v, in);
}

static bool has_type(const json_t *types, const char *t)
{
	size_t i;
	json_t *v;
	json_array_foreach(types, i, v)
	{
		if (json_is_string(v) && !strcmp(json_string_value(v), t))
			return true;
	}
	return false;
}

/* The requestBody of body or formData parameters, or NULL (none; *rc
 * MOAT_OK) with *rc set on failure. */
static json_t *request_body(const json_t *root, const json_t *op, const json_t *params,
			    enum moat_rc *rc, struct moat_err *err)
{
	json_t *types = media_types(root, op, "consumes");
	json_t *rb = NULL, *schema = NULL, *props = NULL, *req = NULL, *form_types = NULL;
	bool form = false, file = false, required = false;
	const json_t *body = NULL;
	size_t i;
	json_t *p;

	*rc = MOAT_ENOMEM;
	if (!types)
		goto out;
	json_array_foreach(params, i, p)
	{
		if (is_in(p, "body") && !body)
			body = p;
		if (is_in(p, "formData")) {
			form = true;
			if (json_is_string(json_object_get(p, "type")) &&
			    !strcmp(json_string_value(json_object_get(p, "type")), "file"))
				file = true;
		}
	}
	if (!body && !form) {
		*rc = MOAT_OK;
		goto out;
	}
	if (!(rb = json_object()))
		goto out;
	if (body) {
		const json_t *desc = json_object_get(body, "description");
		json_t *c = content_of(types, json_object_get(body, "schema"));
		if (!c || json_object_set_new(rb, "content", c) != 0)
			goto fail;
		required = json_is_true(json_object_get(body, "required"));
		if (desc && json_object_set(rb, "description", (json_t *)desc) != 0)
			goto fail;
	} else {
		const char *mt = file || has_type(types, "multipart/form-data")
					 ? "multipart/form-data"
					 : "application/x-www-form-urlencoded";
		if (!(schema = json_object()) || !(props = json_object()) || !(req = json_array()) ||
		    !(form_types = str_array1(mt)))
			goto fail;
		json_array_foreach(params, i, p)
		{
			const char *name = json_string_value(json_object_get(p, "name"));
			const json_t *desc = json_object_get(p, "description");
			json_t *s;
			if (!is_in(p, "formData") || !name)
				continue;
			if (!(s = value_schema(p)) ||
			    (desc && json_object_set(s, "description", (json_t *)desc) != 0) ||
			    json_object_set_new(props, name, s) != 0)
				goto fail;
			if (json_is_true(json_object_get(p, "required"))) {
				required = true;
				if (json_array_append_new(req, json_string(name)) != 0)
					goto fail;
			}
		}
		if (json_object_set_new(schema, "type", json_string("object")) != 0 ||
		    json_object_set(schema, "properties", props) != 0 ||
		    (json_array_size(req) && json_object_set(schema, "required", req) != 0))
			goto fail;
		json_t *c = content_of(form_types, schema);
		if (!c || json_object_set_new(rb, "content", c) != 0)
			goto fail;
	}
	if (json_object_set_new(rb, "required", json_boolean(required)) != 0)
		goto fail;
	*rc = MOAT_OK;
	goto out;
fail:
	json_decref(rb);
	rb = NULL;
out:
	if (*rc != MOAT_OK)
		moat_err_set(err, *rc, "out of memory");
	json_decref(types);
	json_decref(schema);
	json_decref(props);
	json_decref(req);
	json_decref(form_types);
	return rb;
}

/* One operation: parameters (path item's merged in when it has body or
 * form ones), requestBody, responses. */
static enum moat_rc operation(const struct oa_doc *d, json_t *item, json_t *op,
			      struct moat_err *err)
{
	json_t *params = effective_params(d, item, op, err), *kept, *rb, *r;
	enum moat_rc rc = MOAT_OK;
	const char *code;
	size_t i;
	json_t *p;

	if (!params)
		return err && err->rc ? err->rc : MOAT_ENOMEM;
	rb = request_body(d->root, op, params, &rc, err);
	if (rc != MOAT_OK)
		goto out;
	if (rb) {
		/* The operation now lists every non-body parameter itself. */
		if (!(kept = json_array())) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		json_array_foreach(params, i, p)
		{
			if (!is_in(p, "body") && !is_in(p, "formData") &&
			    json_array_append_new(kept, json_deep_copy(p)) != 0)
				rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		}
		if (rc != MOAT_OK || json_object_set_new(op, "parameters", kept) != 0 ||
		    json_object_set_new(op, "requestBody", rb) != 0) {
			rb = NULL;
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		rb = NULL;
	}
	json_array_foreach(json_object_get(op, "parameters"), i, p)
	{
		if ((rc = param_to_oa3(p, err)) != MOAT_OK)
			goto out;
	}
	json_object_foreach(json_object_get(op, "responses"), code, r)
	{
		if ((rc = response_to_oa3(d->root, op, r, err)) != MOAT_OK)
			goto out;
	}
out:
	json_decref(rb);
	json_decref(params);
	return rc;
}

static bool add_server(json_t *list, const char *url)
{
	json_t *s = json_object();
	if (!s || json_object_set_new(s, "url", json_string(url)) != 0 ||
	    json_array_append_new(list, s) != 0) {
		json_decref(s);
		return false;
	}
	return true;
}

/* servers from host, basePath and schemes (https first when offered;
 * none said: https); no host: basePath alone, relative. */
static enum moat_rc servers(json_t *root, struct moat_err *err)
{
	const char *host = json_string_value(json_object_get(root, "host"));
	const char *base = json_string_value(json_object_get(root, "basePath"));
	const json_t *schemes = json_object_get(root, "schemes");
	const char *order[2] = {"https", "http"};
	json_t *list = json_array();
	char url[2048];
	bool ok = list != NULL;

	if (!base || base[0] != '/' || !strcmp(base, "/"))
		base = "";
	for (size_t i = 0; ok && host && i < 2; i++) {
		int n;
		if (json_array_size(schemes) ? !has_type(schemes, order[i]) : i != 0)
			continue;
		n = snprintf(url, sizeof(url), "%s://%s%s", order[i], host, base);
		if (n > 0 && (size_t)n < sizeof(url)) /* absurdly long: no server */
			ok = add_server(list, url);
	}
	if (ok && !host && base[0])
		ok = add_server(list, base);
	if (!ok || json_object_set_new(root, "servers", list) != 0) {
		if (!ok)
			json_decref(list);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	return MOAT_OK;
}

/* An oauth2 definition's flow -> {flows: {name: {...}}}. */
static json_t *oauth2_scheme(const json_t *def)
{
	const char *flow = json_string_value(json_object_get(def, "flow"));
	const char *name = !flow			    ? NULL
			   : !strcmp(flow, "implicit")	    ? "implicit"
			   : !strcmp(flow, "password")	    ? "password"
			   : !strcmp(flow, "application") ? "clientCredentials"
			   : !strcmp(flow, "accessCode")	    ? "authorizationCode"
							    : NULL;
	json_t *s = json_pack("{s:s}", "type", "oauth2"), *flows = json_object(), *f = json_object();
	const char *keys[] = {"authorizationUrl", "tokenUrl", "scopes"};

	if (!s || !flows || !f)
		goto fail;
	for (size_t i = 0; i < 3; i++) {
		json_t *v = json_object_get(def, keys[i]);
		if (v && json_object_set(f, keys[i], v) != 0)
			goto fail;
	}
	if (!json_object_get(f, "scopes") && json_object_set_new(f, "scopes", json_object()) != 0)
		goto fail;
	if (name && json_object_set(flows, name, f) != 0)
		goto fail;
	if (json_object_set(s, "flows", flows) != 0)
		goto fail;
	json_decref(flows);
	json_decref(f);
	return s;
fail:
	json_decref(s);
	json_decref(flows);
	json_decref(f);
	return NULL;
}

static enum moat_rc security_schemes(json_t *root, struct moat_err *err)
{
	json_t *defs = json_object_get(root, "securityDefinitions"), *comp, *out, *def;
	const char *name;

	if (!json_is_object(defs))
		return MOAT_OK;
	comp = json_object_get(root, "components");
	if (!json_is_object(comp)) {
		if (json_object_set_new(root, "components", json_object()) != 0)
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		comp = json_object_get(root, "components");
	}
	if (!(out = json_object()) || json_object_set_new(comp, "securitySchemes", out) != 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_object_foreach(defs, name, def)
	{
		const char *type = json_string_value(json_object_get(def, "type"));
		json_t *s;
		if (!type)
			continue;
		if (!strcmp(type, "basic"))
			s = json_pack("{s:s,s:s}", "type", "http", "scheme", "basic");
		else if (!strcmp(type, "oauth2"))
			s = oauth2_scheme(def);
		else
			s = json_deep_copy(def);
		if (s && json_object_get(def, "description"))
			json_object_set(s, "description", json_object_get(def, "description"));
		if (!s || json_object_set_new(out, name, s) != 0)
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	return MOAT_OK;
}

enum moat_rc oa_swagger2(struct oa_doc *d, struct moat_err *err)
{
	json_t *root = d->root, *item, *p, *r;
	const char *path, *k;
	enum moat_rc rc;

	if ((rc = servers(root, err)) != MOAT_OK || (rc = security_schemes(root, err)) != MOAT_OK)
		return rc;
	/* Operations first: they read body and formData parameters through
	 * refs to the global parameters, which stay as they are. */
	json_object_foreach(json_object_get(root, "paths"), path, item)
	{
		size_t i;
		if (!json_is_object(item))
			continue;
		for (size_t m = 0; m < sizeof(methods) / sizeof(*methods); m++) {
			json_t *op = json_object_get(item, methods[m]);
			if (json_is_object(op) && (rc = operation(d, item, op, err)) != MOAT_OK)
				return rc;
		}
		/* The path item's own: body and form ones now live in each
		 * operation's requestBody. */
		json_t *pp = json_object_get(item, "parameters");
		for (i = json_array_size(pp); i-- > 0;) {
			const json_t *rp = oa_deref(d, json_array_get(pp, i), err);
			if (!rp)
				return err && err->rc ? err->rc : MOAT_EINVAL;
			if (is_in(rp, "body") || is_in(rp, "formData"))
				json_array_remove(pp, i);
			else if ((rc = param_to_oa3(json_array_get(pp, i), err)) != MOAT_OK)
				return rc;
		}
	}
	json_object_foreach(json_object_get(root, "parameters"), k, p)
	{
		if (!is_in(p, "body") && !is_in(p, "formData") &&
		    (rc = param_to_oa3(p, err)) != MOAT_OK)
			return rc;
	}
	json_object_foreach(json_object_get(root, "responses"), k, r)
	{
		if ((rc = response_to_oa3(root, root, r, err)) != MOAT_OK)
			return rc;
	}
	return MOAT_OK;
}
