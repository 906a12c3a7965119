/*
 * api_tool.c - one declared API tool, or one grouped operation, read from
 * the config ("http.apis.NAME.tools[i]" / ".operations[i]") and checked
 * before anything is registered: method, path, query, header and body
 * templates against the arguments the input schema declares, the header
 * names a tool may set, "confirm" only where something is written,
 * "body_format", the field selection and the binary response keys.
 *
 * Errors are config errors naming the tool and the rule (http.header_name,
 * http.header_reserved, http.query_reserved, http.confirm_read,
 * http.body_format, limits.template_depth, and the template rules of
 * api_template.h). Start-up only (single-threaded).
 */
#include "api.h"
#include "text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api_template.h"
#include "api_text.h"

#define API_TEMPLATE_DEPTH 64 /* as api_template.c's APIT_DEPTH_MAX */

/* The argument names a tool's input schema declares. */
static json_t *arg_names(const json_t *schema)
{
	json_t *names = json_array(), *v;
	const char *k;

	json_object_foreach(json_object_get(schema, "properties"), k, v)
		json_array_append_new(names, json_string(k));
	return names;
}

/* Check every template string in a query, header or body template, at
 * most API_TEMPLATE_DEPTH levels deep (the call-time expansion refuses
 * deeper ones too: limits.template_depth). */
static enum moat_rc check_templates(const json_t *tmpl, const json_t *names, unsigned depth,
				    struct moat_err *err)
{
	const char *k;
	json_t *v;
	size_t i;

	if (depth > API_TEMPLATE_DEPTH)
		return moat_err_rule(err, MOAT_EINVAL, "limits.template_depth",
				     "a query or body template is nested deeper than %d levels",
				     API_TEMPLATE_DEPTH);
	if (json_is_string(tmpl))
		return apit_check(json_string_value(tmpl), names, err);
	if (json_is_object(tmpl)) {
		json_object_foreach((json_t *)tmpl, k, v) {
			enum moat_rc rc = check_templates(v, names, depth + 1, err);
			if (rc)
				return rc;
		}
	}
	if (json_is_array(tmpl)) {
		json_array_foreach(tmpl, i, v) {
			enum moat_rc rc = check_templates(v, names, depth + 1, err);
			if (rc)
				return rc;
		}
	}
	return MOAT_OK;
}

/* RFC 7230 token: a header field name. */
static bool header_token(const char *k)
{
	if (!*k)
		return false;
	for (const unsigned char *p = (const unsigned char *)k; *p; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || strchr("!#$%&'*+-.^_`|~", *p)))
			return false;
	return true;
}

/* Headers a tool may never set: those moat or libcurl set for the
 * transfer, and credentials (only the API's own "headers" carry them). */
static const char *header_reserved(const struct api *a, const char *k)
{
	static const char *const fixed[] = {
		"Host", "Content-Length", "Content-Type", "Transfer-Encoding", "Connection",
		"Authorization", "Cookie", "Expect", "TE", "Trailer", "Upgrade", "Keep-Alive",
		NULL,
	};

	for (size_t i = 0; fixed[i]; i++)
		if (strcasecmp(k, fixed[i]) == 0)
			return "moat sets it or it carries credentials";
	if (strncasecmp(k, "Proxy-", 6) == 0)
		return "proxy headers are never sent";
	for (size_t i = 0; i < a->nheaders; i++) {
		size_t n = strcspn(a->headers[i], ":");
		if (strlen(k) == n && strncasecmp(a->headers[i], k, n) == 0)
			return "the API's own \"headers\" set it";
	}
	return NULL;
}

/* check_path_text - the literal text of a path template may not leave
 * the API's base path nor hide a way to (text_path_unsafe: dot segments,
 * %2e %2f %5c, '\\'), nor carry '?' or '#' (parameters go in "query").
 * Placeholders are checked per value at call time (apit_path). */
static enum moat_rc check_path_text(const char *path, struct moat_err *err)
{
	const char *why = text_path_unsafe(path);
	const char *qf = strpbrk(path, "?#");

	if (why)
		return moat_err_rule(err, MOAT_EINVAL, "http.path_template",
				     "path: %s could take requests out of base_url's path once "
				     "collapsed or decoded", why);
	if (qf)
		return moat_err_rule(err, MOAT_EINVAL, "http.path_template",
				     "path: '%c' is not allowed in a path template (parameters go "
				     "in \"query\")", *qf);
	return MOAT_OK;
}

static enum moat_rc check_headers(const struct api *a, const struct api_tool *t,
				  const json_t *names, struct moat_err *err)
{
	const char *k, *why;
	json_t *v;
	enum moat_rc rc;

	json_object_foreach(t->headers, k, v) {
		const char *val = json_string_value(v);

		if (!header_token(k))
			return moat_err_rule(err, MOAT_EINVAL, "http.header_name",
					     "header name '%.64s' is not an HTTP token (letters, "
					     "digits and !#$%%&'*+-.^_`|~ only)",
					     egress_text_safe(k, strlen(k)) ? k : "(name)");
		if ((why = header_reserved(a, k)))
			return moat_err_rule(err, MOAT_EINVAL, "http.header_reserved",
					     "may not set the header %s (%s)", k, why);
		if (!egress_text_safe(val, strlen(val)))
			return moat_err_rule(err, MOAT_EINVAL, "http.control_char",
					     "the template of header %s holds a control character",
					     k);
		if ((rc = apit_check(val, names, err)))
			return rc;
	}
	return MOAT_OK;
}

/* A tool's query may not set a parameter the API's "query" sets (it
 * would go twice, once with the credential). Names compare encoded. */
static enum moat_rc check_query_names(const struct api *a, const struct api_tool *t,
				      struct moat_err *err)
{
	const char *k;
	json_t *v;
	enum moat_rc rc;

	json_object_foreach(t->query, k, v) {
		struct apit_buf b = {0};
		bool same = false;

		if ((rc = apit_buf_put_encoded(&b, k, strlen(k), err)))
			return rc;
		for (size_t i = 0; b.p && a->cred_names && a->cred_names[i]; i++)
			same = same || strcmp(b.p, a->cred_names[i]) == 0;
		free(b.p);
		if (same)
			return moat_err_rule(err, MOAT_EINVAL, "http.query_reserved",
					     "query parameter %.64s is set by the API's \"query\"",
					     k);
	}
	return MOAT_OK;
}

static char *dup_or_null(const json_t *v)
{
	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

enum moat_rc api_tool_parse(struct api *a, struct api_tool *t, const json_t *tc, const char *kind,
			    json_t **in_out, struct moat_err *err)
{
	const json_t *in = json_object_get(tc, "input_schema");
	const char *resp = json_string_value(json_object_get(tc, "response"));
	const char *fmt = json_string_value(json_object_get(tc, "body_format"));
	const json_t *mb = json_object_get(tc, "max_bytes");
	json_t *names = NULL, *v;
	enum moat_rc rc;
	size_t i;

	*in_out = NULL;
	t->api = a;
	t->name = dup_or_null(json_object_get(tc, "name"));
	t->title = dup_or_null(json_object_get(tc, "title"));
	t->description = dup_or_null(json_object_get(tc, "description"));
	t->method = dup_or_null(json_object_get(tc, "method"));
	t->path = dup_or_null(json_object_get(tc, "path"));
	if (!t->name || !t->method || !t->path || !t->description)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	t->write = !api_read_only(t->method);
	t->query = json_incref(json_object_get(tc, "query"));
	t->headers = json_incref(json_object_get(tc, "headers"));
	t->body = json_incref(json_object_get(tc, "body"));
	t->select = json_incref(json_object_get(tc, "select"));
	t->tags = json_incref(json_object_get(tc, "tags"));
	t->form = fmt && strcmp(fmt, "form") == 0;
	t->confirm = json_is_true(json_object_get(tc, "confirm"));
	t->response = !resp || strcmp(resp, "json") == 0 ? RESP_JSON
		      : strcmp(resp, "text") == 0	 ? RESP_TEXT
							 : RESP_BINARY;
	t->max_bytes = json_is_integer(mb) ? (size_t)json_integer_value(mb) : a->max_response;
	t->cacheable = strcmp(t->method, "GET") == 0 && a->cache &&
		       !json_is_false(json_object_get(tc, "cache"));
	*in_out = in ? json_incref((json_t *)in)
		     : json_pack("{s:s, s:b}", "type", "object", "additionalProperties", 0);
	names = *in_out ? arg_names(*in_out) : NULL;
	if (!names)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (t->body && !t->write) {
		rc = moat_err_set(err, MOAT_EINVAL, "a GET or HEAD has no body");
		goto out;
	}
	if (t->confirm && !t->write) {
		rc = moat_err_rule(err, MOAT_EINVAL, "http.confirm_read",
				   "\"confirm\" is for tools that write; a %s changes nothing "
				   "upstream (remove it)", t->method);
		goto out;
	}
	if (fmt && !t->body) {
		rc = moat_err_rule(err, MOAT_EINVAL, "http.body_format",
				   "\"body_format\" without a \"body\" template");
		goto out;
	}
	if ((rc = apit_check(t->path, names, err)) ||
	    (rc = check_templates(t->query, names, 0, err)) ||
	    (rc = check_templates(t->body, names, 0, err)) ||
	    (rc = check_headers(a, t, names, err)) || (rc = check_query_names(a, t, err)))
		goto out;
	json_array_foreach(t->select, i, v)
		if ((rc = apit_pointer_check(json_string_value(v), err)))
			goto out;
	if (t->path[0] != '/') {
		rc = moat_err_set(err, MOAT_EINVAL, "path must start with '/'");
		goto out;
	}
	if ((rc = check_path_text(t->path, err)))
		goto out;
	if ((v = json_object_get(tc, "output_schema")) && !(t->output = schema_compile(v, err))) {
		rc = err->rc ? err->rc : MOAT_EINVAL;
		goto out;
	}
	json_array_foreach(json_object_get(tc, "mime_allow"), i, v) {
		char **nm = realloc(t->mime_allow, (t->nmime + 1) * sizeof(*nm));
		if (!nm || !(nm[t->nmime] = strdup(json_string_value(v)))) {
			if (nm)
				t->mime_allow = nm;
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		t->mime_allow = nm;
		t->nmime++;
	}
out:
	json_decref(names);
	if (rc && rc != MOAT_ENOMEM) {
		/* Which tool (or operation) refused. */
		char inner[MOAT_ERR_MSG_MAX];
		snprintf(inner, sizeof(inner), "%s", err->msg);
		moat_err_set(err, rc, "%s %s: %s", kind, t->name, inner);
	}
	return rc;
}
