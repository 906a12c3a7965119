/*
 * jsonrpc.c - strict JSON-RPC 2.0 parsing and message building.
 */
#include "jsonrpc.h"

#include "rpc_meta_memo.h"

#include <string.h>

size_t rpc_skip_string(const char *b, size_t i, size_t n)
{
	for (i++; i < n;) {
		const char *q = memchr(b + i, '"', n - i);
		size_t k, bs = 0;
		if (!q)
			return 0;
		k = (size_t)(q - b);
		while (k - bs > i && b[k - bs - 1] == '\\')
			bs++; /* an even run of backslashes does not escape it */
		if (bs % 2 == 0)
			return k + 1;
		i = k + 1;
	}
	return 0;
}

bool rpc_depth_ok(const char *buf, size_t len, size_t max_depth)
{
	size_t depth = 0;

	for (size_t i = 0; i < len; i++) {
		switch (buf[i]) {
		case '"': {
			size_t e = rpc_skip_string(buf, i, len);
			if (!e)
				return true; /* unterminated: jansson refuses it */
			i = e - 1;
			break;
		}
		case '[':
		case '{':
			if (++depth > max_depth)
				return false;
			break;
		case ']':
		case '}':
			if (depth > 0)
				depth--;
			break;
		default:
			break;
		}
	}
	return true;
}

enum moat_rc rpc_parse(const char *buf, size_t len, size_t max_bytes, size_t max_depth,
		       json_t **out, struct moat_err *err)
{
	json_error_t jerr;
	json_t *doc;

	*out = NULL;
	if (len > max_bytes)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.message_bytes",
				     "message of %zu bytes exceeds limits.max_message_bytes (%zu)", len,
				    max_bytes);
	if (!rpc_depth_ok(buf, len, max_depth))
		return moat_err_rule(err, MOAT_ELIMIT, "limits.json_depth",
				     "message nests deeper than limits.max_json_depth (%zu)", max_depth);
	/* Strict: JSON_REJECT_DUPLICATES; jansson rejects bad UTF-8, NaN and
	 * trailing data (no JSON_DISABLE_EOF_CHECK). \u0000 in a string value
	 * is valid JSON and parsed (JSON_ALLOW_NUL): the rule that applies
	 * refuses it by name, with the request's id (rpc_find_nul). */
	struct rpc_meta_span span;
	doc = rpc_meta_memo_parse(buf, len, &span);
	if (doc) {
		*out = doc;
		return MOAT_OK;
	}
	doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL,
			 &jerr);
	if (doc && span.end > span.start)
		rpc_meta_memo_store(buf, &span, doc);
	if (!doc) {
		/* jerr.text may quote input for some errors; keep only the rule. */
		const char *rule = "invalid JSON";
		if (strstr(jerr.text, "duplicate"))
			rule = "duplicate object key";
		else if (strstr(jerr.text, "UTF-8") || strstr(jerr.text, "decode byte"))
			rule = "invalid UTF-8";
		else if (strstr(jerr.text, "end of file expected"))
			rule = "trailing data after the JSON value";
		else if (strstr(jerr.text, "NUL") || strstr(jerr.text, "\\u0000"))
			rule = "\\u0000 is not allowed in object keys";
		else if (strstr(jerr.text, "too big"))
			rule = "number out of range";
		return moat_err_rule(err, MOAT_EINVAL, "protocol.parse_error",
				     "parse error: %s at byte %d", rule, jerr.position);
	}
	*out = doc;
	return MOAT_OK;
}

static bool id_usable(const json_t *id)
{
	return id && (json_is_string(id) || json_is_integer(id));
}

enum moat_rc rpc_classify(json_t *msg, struct rpc_msg *m, struct moat_err *err)
{
	json_t *v, *id, *method;

	memset(m, 0, sizeof(*m));
	if (!json_is_object(msg))
		return moat_err_set(err, MOAT_EINVAL, "invalid request: message must be a JSON object");
	id = json_object_get(msg, "id");
	if (id_usable(id))
		m->id = id;
	v = json_object_get(msg, "jsonrpc");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0)
		return moat_err_set(err, MOAT_EINVAL, "invalid request: \"jsonrpc\" must be \"2.0\"");
	if (json_is_null(id) && !json_object_get(msg, "method") &&
	    json_object_get(msg, "error") && !json_object_get(msg, "result")) {
		/* A peer's error response to something it could not parse:
		 * never answer it, or two strict peers would bounce errors. */
		m->kind = RPC_RESPONSE;
		return MOAT_OK;
	}
	if (id && !id_usable(id))
		return moat_err_set(err, MOAT_EINVAL,
				    "invalid request: \"id\" must be a string or an integer");
	method = json_object_get(msg, "method");
	if (!method) {
		bool has_result = json_object_get(msg, "result") != NULL;
		bool has_error = json_object_get(msg, "error") != NULL;
		if (!id || has_result == has_error)
			return moat_err_set(err, MOAT_EINVAL,
					    "invalid request: \"method\" is missing");
		m->kind = RPC_RESPONSE;
		return MOAT_OK;
	}
	if (!json_is_string(method) || json_string_length(method) == 0)
		return moat_err_set(err, MOAT_EINVAL,
				    "invalid request: \"method\" must be a non-empty string");
	m->method = json_string_value(method);
	v = json_object_get(msg, "params");
	if (v && !json_is_object(v))
		return moat_err_set(err, MOAT_EINVAL, "invalid request: \"params\" must be an object");
	m->params = v;
	m->kind = id ? RPC_REQUEST : RPC_NOTIFICATION;
	return MOAT_OK;
}

static json_t *envelope(json_t *id)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	json_object_set_new(o, "jsonrpc", json_string("2.0"));
	json_object_set_new(o, "id", id ? json_incref(id) : json_null());
	return o;
}

json_t *rpc_result(json_t *id, json_t *result)
{
	json_t *o = envelope(id);

	if (!o || !result) {
		json_decref(o);
		json_decref(result);
		return NULL;
	}
	json_object_set_new(o, "result", result);
	return o;
}

json_t *rpc_error(json_t *id, int code, const char *message)
{
	json_t *o = envelope(id);

	if (!o)
		return NULL;
	json_t *e = json_pack("{s:i, s:s}", "code", code, "message", message);
	/* A message that is not valid UTF-8 must not leave an envelope without
	 * an error member: fall back to a fixed text. */
	if (!e)
		e = json_pack("{s:i, s:s}", "code", code, "message", "error (message withheld)");
	if (!e) {
		json_decref(o);
		return NULL;
	}
	json_object_set_new(o, "error", e);
	return o;
}

json_t *rpc_notification(const char *method, json_t *params)
{
	json_t *o = json_object();

	if (!o) {
		json_decref(params);
		return NULL;
	}
	json_object_set_new(o, "jsonrpc", json_string("2.0"));
	json_object_set_new(o, "method", json_string(method));
	if (params)
		json_object_set_new(o, "params", params);
	return o;
}

bool rpc_id_key(const json_t *id, char *buf, size_t n)
{
	size_t need = json_dumpb(id, NULL, 0, JSON_ENCODE_ANY | JSON_COMPACT);

	if (need == 0 || need >= n)
		return false;
	json_dumpb(id, buf, n, JSON_ENCODE_ANY | JSON_COMPACT);
	buf[need] = '\0';
	return true;
}
