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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
