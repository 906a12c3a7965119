/*
 * callctx.c - deadline, cancellation and progress for one tool call.
 */
#include "callctx.h"

#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "limits_cfg.h"
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
}

void callctx_release(struct call_ctx *ctx)
{
	json_decref(ctx->progress_token);
	ctx->progress_token = NULL;
	json_decref(ctx->touched);
	ctx->touched = NULL;
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

enum moat_rc tool_result_text(struct tool_result *r, const char *text)
{
	json_t *block;

	if (!r->content && !(r->content = json_array()))
		return MOAT_ENOMEM;
	block = json_pack("{s:s, s:s}", "type", "text", "text", text);
	if (!block || json_array_append_new(r->content, block) != 0)
		return MOAT_ENOMEM;
	return MOAT_OK;
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

void tool_result_clear(struct tool_result *r)
{
	json_decref(r->content);
	json_decref(r->structured);
	r->content = NULL;
	r->structured = NULL;
}

void callctx_close_stream(struct call_ctx *ctx)
{
	if (ctx->notify)
		ctx->notify(ctx->sink, NULL);
}
