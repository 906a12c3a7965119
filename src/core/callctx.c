/*
 * callctx.c - deadline, cancellation and progress for one tool call; what
 * a handler may ask of the client (callctx_ask: from the request's input
 * responses in the stateless era, by a request to the client in the
 * initialize era), its state across rounds, and its log messages.
 */
#include "callctx.h"

#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "limits_cfg.h"
#include "log.h"
#include "text.h"

void callctx_init(struct call_ctx *ctx, const char *tool, uint32_t timeout_ms,
		  size_t output_budget)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->tool = tool;
	ctx->start_ns = moat_now_ns();
	ctx->timeout_ms = timeout_ms;
	ctx->deadline_ns = timeout_ms ? ctx->start_ns + (uint64_t)timeout_ms * 1000000u : 0;
	atomic_init(&ctx->cancelled, false);
	ctx->output_budget = output_budget;
	ctx->client.log_level = -1;
}

void callctx_release(struct call_ctx *ctx)
{
	json_decref(ctx->progress_token);
	ctx->progress_token = NULL;
	json_decref(ctx->touched);
	ctx->touched = NULL;
	json_decref(ctx->client.caps);
	json_decref(ctx->client.responses);
	json_decref(ctx->client.state);
	json_decref(ctx->client.requests);
	json_decref(ctx->client.next_state);
	json_decref(ctx->client.asked);
	ctx->client.caps = ctx->client.responses = ctx->client.state = NULL;
	ctx->client.requests = ctx->client.next_state = ctx->client.asked = NULL;
}

#define TOUCH_VALUE_MAX 256
#define TOUCH_LIST_MAX 32

/* A new JSON string of value, cut and repaired for the audit trail. */
static json_t *touch_value(const char *value)
{
	size_t n = text_utf8_prefix(value, TOUCH_VALUE_MAX);
	size_t len = 0;
	char *fixed;
	json_t *v;

	if (text_utf8_valid(value, n))
		return json_stringn(value, n);
	fixed = text_utf8_repair(value, n, true, &len);
	v = fixed ? json_stringn(fixed, len) : NULL;
	free(fixed);
	return v;
}

void callctx_touch(struct call_ctx *ctx, const char *key, const char *value)
{
	if (!ctx || !key || !value || ctx->no_touch)
		return;
	if (!ctx->touched && !(ctx->touched = json_object()))
		return;
	json_object_set_new(ctx->touched, key, touch_value(value));
}

void callctx_touch_add(struct call_ctx *ctx, const char *key, const char *value)
{
	json_t *arr, *v;
	size_t i;
	json_t *el;

	if (!ctx || !key || !value || ctx->no_touch)
		return;
	if (!ctx->touched && !(ctx->touched = json_object()))
		return;
	arr = json_object_get(ctx->touched, key);
	if (!json_is_array(arr)) {
		arr = json_array();
		if (!arr || json_object_set_new(ctx->touched, key, arr) != 0)
			return;
	}
	if (json_array_size(arr) >= TOUCH_LIST_MAX || !(v = touch_value(value)))
		return;
	json_array_foreach(arr, i, el)
		if (json_equal(el, v)) {
			json_decref(v);
			return;
		}
	json_array_append_new(arr, v);
}

void callctx_cancel(struct call_ctx *ctx)
{
	atomic_store(&ctx->cancelled, true);
}

enum moat_rc callctx_check(struct call_ctx *ctx, struct moat_err *err)
{
	if (atomic_load(&ctx->cancelled))
		return moat_err_set(err, MOAT_ECANCELLED, "call cancelled (by the client, or the server is shutting down)");
	if (ctx->deadline_ns && moat_now_ns() >= ctx->deadline_ns)
		return moat_err_rule(err, MOAT_ETIMEOUT, "limits.timeout",
				    "call exceeded its deadline (limits.call_timeout_ms = %u)",
				    ctx->timeout_ms);
	return MOAT_OK;
}

void callctx_progress(struct call_ctx *ctx, double progress, double total, const char *message)
{
	json_t *params;

	if (!ctx->progress_token || !ctx->notify)
		return;
	if (ctx->sent_progress && progress <= ctx->last_progress)
		return;
	ctx->sent_progress = true;
	ctx->last_progress = progress;
	params = json_pack("{s:O, s:f}", "progressToken", ctx->progress_token, "progress",
			   progress);
	if (!params)
		return;
	if (total > 0)
		json_object_set_new(params, "total", json_real(total));
	if (message && ctx->progress_message)
		json_object_set_new(params, "message", json_string(message));
	ctx->notify(ctx->sink, rpc_notification("notifications/progress", params));
}

/* ---- asking the client ---------------------------------------------- */

bool callctx_client_has(const struct call_ctx *ctx, const char *cap)
{
	return ctx && cap && json_is_object(ctx->client.caps) &&
	       json_is_object(json_object_get(ctx->client.caps, cap));
}

/* The capability a server-to-client method needs (static), or NULL. */
static const char *method_cap(const char *method)
{
	if (strcmp(method, "elicitation/create") == 0)
		return "elicitation";
	if (strcmp(method, "sampling/createMessage") == 0)
		return "sampling";
	if (strcmp(method, "roots/list") == 0)
		return "roots";
	return NULL;
}

static bool key_ok(const char *key)
{
	size_t n = key ? strlen(key) : 0;

	if (n < 1 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = key[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

enum moat_rc callctx_ask(struct call_ctx *ctx, const char *key, const char *method,
			 json_t *params, const json_t **answer, struct moat_err *err)
{
	struct call_client *c = &ctx->client;
	const char *cap = method ? method_cap(method) : NULL;
	json_t *got, *req, *res = NULL;
	enum moat_rc rc;

	*answer = NULL;
	if (!cap || !key_ok(key) || (params && !json_is_object(params))) {
		json_decref(params);
		return moat_err_set(err, MOAT_EINTERNAL,
				    "bad ask (unknown method, malformed key or params)");
	}
	if (!params && !(params = json_object()))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	got = c->responses ? json_object_get(c->responses, key) : NULL;
	if (json_is_object(got)) {
		/* Answered in an earlier round (stateless) or earlier in this
		 * call (initialize era). */
		json_decref(params);
		*answer = got;
		return MOAT_OK;
	}
	if (!callctx_client_has(ctx, cap) || (!c->stateless && !c->request)) {
		json_decref(params);
		c->missing_cap = cap;
		return moat_err_rule(err, MOAT_ENOCAP, "client.no_capability",
				     "this needs the client's %s capability, which it did not "
				     "declare",
				     cap);
	}
	if (c->stateless) {
		if (!c->requests && !(c->requests = json_object())) {
			json_decref(params);
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		}
		req = json_pack("{s:s, s:o}", "method", method, "params", params);
		if (!req || json_object_set_new(c->requests, key, req) != 0)
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return MOAT_EINPUT;
	}
	rc = c->request(ctx, method, params, &res, err);
	if (rc != MOAT_OK)
		return rc;
	if (!json_is_object(res)) {
		json_decref(res);
		return moat_err_rule(err, MOAT_EUPSTREAM, "client.bad_answer",
				     "the client answered %s without a result object", method);
	}
	if ((!c->responses && !(c->responses = json_object())) ||
	    json_object_set_new(c->responses, key, res) != 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	*answer = res;
	return MOAT_OK;
}

const json_t *callctx_state(const struct call_ctx *ctx)
{
	return ctx->client.state;
}

void callctx_set_state(struct call_ctx *ctx, json_t *state)
{
	json_decref(ctx->client.next_state);
	ctx->client.next_state = state;
}

void callctx_log(struct call_ctx *ctx, const char *level, const char *logger, json_t *data)
{
	enum log_level lv;
	json_t *params;

	if (!ctx->notify || ctx->client.log_level < 0 || !level || !log_parse_level(level, &lv) ||
	    (int)lv < ctx->client.log_level || !data) {
		json_decref(data);
		return;
	}
	params = json_pack("{s:s, s:o}", "level", log_level_name(lv), "data", data);
	if (!params)
		return;
	if (logger)
		json_object_set_new(params, "logger", json_string(logger));
	ctx->notify(ctx->sink, rpc_notification("notifications/message", params));
}

enum moat_rc tool_result_text(struct tool_result *r, const char *text)
{
	size_t n;
	json_t *block;

	/* NULL (a failed allocation upstream) fails as json_pack did. jansson's
	 * own UTF-8 check walks a byte at a time and was an eighth of a
	 * 10,000-row query's CPU; text.c's does the same job faster, so jansson
	 * is told not to repeat it. Invalid UTF-8 fails as before. */
	if (!text || !text_utf8_valid(text, n = strlen(text)))
		return MOAT_ENOMEM;
	if (!r->content && !(r->content = json_array()))
		return MOAT_ENOMEM;
	block = json_object();
	if (!block || json_object_set_new(block, "type", json_string("text")) != 0 ||
	    json_object_set_new(block, "text", json_stringn_nocheck(text, n)) != 0) {
		json_decref(block);
		return MOAT_ENOMEM;
	}
	/* json_array_append_new releases block when it fails */
	return json_array_append_new(r->content, block) != 0 ? MOAT_ENOMEM : MOAT_OK;
}

enum moat_rc tool_result_take(struct tool_result *r, json_t *structured, char *text,
			      struct moat_err *err)
{
	enum moat_rc rc;

	if (!structured || !text) {
		json_decref(structured);
		free(text);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	rc = tool_result_text(r, text);
	free(text);
	if (rc) {
		json_decref(structured);
		return moat_err_set(err, rc, "out of memory");
	}
	r->structured = structured;
	return MOAT_OK;
}

enum moat_rc tool_result_take_json(struct tool_result *r, char *json, size_t len, char *text,
				   struct moat_err *err)
{
	if (!json || !text || tool_result_text(r, text)) {
		free(json);
		free(text);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	free(text);
	free(r->structured_json);
	r->structured_json = json;
	r->structured_len = len;
	return MOAT_OK;
}

void tool_result_clear(struct tool_result *r)
{
	json_decref(r->content);
	json_decref(r->structured);
	free(r->structured_json);
	r->content = NULL;
	r->structured = NULL;
	r->structured_json = NULL;
	r->structured_len = 0;
}

void callctx_close_stream(struct call_ctx *ctx)
{
	if (ctx->notify)
		ctx->notify(ctx->sink, NULL);
}
