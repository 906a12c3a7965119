/*
 * test_callctx.c - unit tests for src/core/callctx.c: cancellation,
 * deadline, progress (monotonic, token, message by revision), results.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "callctx.h"

static json_t *sent;

static void collect(void *sink, json_t *msg)
{
	json_array_append_new(sent, msg);
}

static void test_cancel_and_deadline(void **state)
{
	struct call_ctx ctx;
	struct moat_err err = {0};
	struct timespec ts = {0, 20000000};

	callctx_init(&ctx, "t", 0, 100);
	assert_int_equal(callctx_check(&ctx, &err), MOAT_OK);
	callctx_cancel(&ctx);
	assert_int_equal(callctx_check(&ctx, &err), MOAT_ECANCELLED);
	assert_non_null(strstr(err.msg, "cancelled"));
	callctx_release(&ctx);

	callctx_init(&ctx, "t", 10, 100);
	nanosleep(&ts, NULL);
	assert_int_equal(callctx_check(&ctx, &err), MOAT_ETIMEOUT);
	assert_non_null(strstr(err.msg, "limits.call_timeout_ms = 10"));
	callctx_release(&ctx);
}

static void test_progress(void **state)
{
	struct call_ctx ctx;
	json_t *p;

	sent = json_array();
	callctx_init(&ctx, "t", 0, 100);
	ctx.notify = collect;
	callctx_progress(&ctx, 1, 3, "x"); /* no token: nothing sent */
	assert_int_equal(json_array_size(sent), 0);
	ctx.progress_token = json_string("tok");
	callctx_progress(&ctx, 1, 3, "one");
	callctx_progress(&ctx, 1, 3, "again"); /* not increasing: dropped */
	callctx_progress(&ctx, 2, 0, "two");
	assert_int_equal(json_array_size(sent), 2);
	p = json_object_get(json_array_get(sent, 0), "params");
	assert_string_equal(json_string_value(json_object_get(p, "progressToken")), "tok");
	assert_true(json_number_value(json_object_get(p, "total")) == 3.0);
	assert_null(json_object_get(p, "message")); /* progress_message is off */
	p = json_object_get(json_array_get(sent, 1), "params");
	assert_null(json_object_get(p, "total"));
	ctx.progress_message = true;
	callctx_progress(&ctx, 3, 3, "three");
	p = json_object_get(json_array_get(sent, 2), "params");
	assert_string_equal(json_string_value(json_object_get(p, "message")), "three");
	callctx_release(&ctx);
	json_decref(sent);
}

/* A request function standing in for the client (initialize era). */
static int asked;
static enum moat_rc fake_request(struct call_ctx *ctx, const char *method, json_t *params,
				 json_t **result, struct moat_err *err)
{
	asked++;
	json_decref(params);
	*result = json_pack("{s:s}", "action", strcmp(method, "elicitation/create") ? "x" : "accept");
	return MOAT_OK;
}

static void test_ask(void **state)
{
	struct call_ctx ctx;
	struct moat_err err = {0};
	const json_t *ans = (const json_t *)&ans;

	/* Stateless: no capability, a bad key, a queued ask, an answer. */
	callctx_init(&ctx, "t", 0, 100);
	ctx.client.stateless = true;
	ctx.client.caps = json_pack("{s:{}}", "elicitation");
	assert_true(callctx_client_has(&ctx, "elicitation"));
	assert_false(callctx_client_has(&ctx, "sampling"));
	assert_int_equal(callctx_ask(&ctx, "s", "sampling/createMessage", json_object(), &ans, &err),
			 MOAT_ENOCAP);
	assert_string_equal(ctx.client.missing_cap, "sampling");
	assert_string_equal(err.rule, "client.no_capability");
	assert_null(ans);
	assert_int_equal(callctx_ask(&ctx, "bad key", "elicitation/create", NULL, &ans, &err),
			 MOAT_EINTERNAL);
	assert_int_equal(callctx_ask(&ctx, "k", "tasks/get", NULL, &ans, &err), MOAT_EINTERNAL);
	assert_int_equal(callctx_ask(&ctx, "k", "elicitation/create", json_object(), &ans, &err),
			 MOAT_EINPUT);
	assert_string_equal(json_string_value(json_object_get(json_object_get(ctx.client.requests, "k"),
							      "method")),
			    "elicitation/create");
	ctx.client.responses = json_pack("{s:{s:s}}", "k", "action", "accept");
	assert_int_equal(callctx_ask(&ctx, "k", "elicitation/create", json_object(), &ans, &err),
			 MOAT_OK);
	assert_string_equal(json_string_value(json_object_get(ans, "action")), "accept");
	assert_null(callctx_state(&ctx));
	callctx_set_state(&ctx, json_integer(1));
	callctx_set_state(&ctx, json_integer(2)); /* replaces */
	assert_int_equal(json_integer_value(ctx.client.next_state), 2);
	callctx_release(&ctx);

	/* Initialize era: asked once per key, the answer kept for the call. */
	asked = 0;
	callctx_init(&ctx, "t", 0, 100);
	ctx.client.caps = json_pack("{s:{}}", "elicitation");
	assert_int_equal(callctx_ask(&ctx, "k", "elicitation/create", NULL, &ans, &err), MOAT_ENOCAP);
	ctx.client.request = fake_request;
	assert_int_equal(callctx_ask(&ctx, "k", "elicitation/create", NULL, &ans, &err), MOAT_OK);
	assert_int_equal(callctx_ask(&ctx, "k", "elicitation/create", NULL, &ans, &err), MOAT_OK);
	assert_int_equal(asked, 1);
	assert_string_equal(json_string_value(json_object_get(ans, "action")), "accept");
	callctx_release(&ctx);
}

static void test_log(void **state)
{
	struct call_ctx ctx;

	sent = json_array();
	callctx_init(&ctx, "t", 0, 100);
	ctx.notify = collect;
	callctx_log(&ctx, "error", "l", json_string("no level asked: dropped"));
	assert_int_equal(json_array_size(sent), 0);
	ctx.client.log_level = 3; /* warning */
	callctx_log(&ctx, "info", "l", json_string("below: dropped"));
	callctx_log(&ctx, "nonsense", "l", json_string("dropped"));
	callctx_log(&ctx, "warning", "l", json_string("w"));
	callctx_log(&ctx, "error", NULL, json_pack("{s:i}", "n", 1));
	assert_int_equal(json_array_size(sent), 2);
	json_t *p = json_object_get(json_array_get(sent, 0), "params");
	assert_string_equal(json_string_value(json_object_get(json_array_get(sent, 0), "method")),
			    "notifications/message");
	assert_string_equal(json_string_value(json_object_get(p, "level")), "warning");
	assert_string_equal(json_string_value(json_object_get(p, "logger")), "l");
	assert_null(json_object_get(json_object_get(json_array_get(sent, 1), "params"), "logger"));
	callctx_release(&ctx);
	json_decref(sent);
}

static void test_result(void **state)
{
	struct tool_result r = {0};

	assert_int_equal(tool_result_text(&r, "a"), MOAT_OK);
	assert_int_equal(tool_result_text(&r, "b"), MOAT_OK);
	assert_int_equal(json_array_size(r.content), 2);
	assert_int_equal(tool_result_text(&r, "\xff"), MOAT_ENOMEM); /* not UTF-8: refused */
	tool_result_clear(&r);
	assert_null(r.content);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cancel_and_deadline),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_result),
		cmocka_unit_test(test_ask),
		cmocka_unit_test(test_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
