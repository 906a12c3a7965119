/*
 * test_jsonrpc.c - unit tests for src/core/jsonrpc.c: strict parsing, the
 * depth and size bounds, JSON-RPC shape checks and message builders.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jsonrpc.h"
#include "rpc_scan.h"

static enum moat_rc parse(const char *s, json_t **out, struct moat_err *err)
{
	return rpc_parse(s, strlen(s), 4096, 8, out, err);
}

static void expect_parse_error(const char *input, const char *rule)
{
	struct moat_err err = {0};
	json_t *doc = NULL;

	assert_int_equal(parse(input, &doc, &err), MOAT_EINVAL);
	assert_null(doc);
	assert_non_null(strstr(err.msg, rule));
}

static void test_strict_parse(void **state)
{
	struct moat_err err = {0};
	json_t *doc = NULL;

	assert_int_equal(parse("{\"a\":1}", &doc, &err), MOAT_OK);
	json_decref(doc);
	expect_parse_error("{\"a\":1,\"a\":2}", "duplicate object key");
	expect_parse_error("{\"a\":\"\xff\"}", "invalid UTF-8");
	expect_parse_error("{\"a\":NaN}", "invalid JSON");
	expect_parse_error("{\"a\":1} x", "trailing data");
	expect_parse_error("{\"a\\u0000\":1}", "\\u0000 is not allowed in object keys");
	/* \u0000 in a string value is valid JSON: parsed, refused later by
	 * the rule that applies (rpc_find_nul). */
	assert_int_equal(parse("{\"a\":\"x\\u0000y\"}", &doc, &err), MOAT_OK);
	assert_int_equal(json_string_length(json_object_get(doc, "a")), 3);
	json_decref(doc);
	expect_parse_error("{\"a\":", "invalid JSON");
	expect_parse_error("{\"a\":123456789012345678901234567890}", "number out of range");
}

static void test_parse_error_never_quotes_input(void **state)
{
	struct moat_err err = {0};
	json_t *doc = NULL;

	assert_int_equal(parse("{\"token\": SECRETVALUE}", &doc, &err), MOAT_EINVAL);
	assert_null(strstr(err.msg, "SECRETVALUE"));
}

static void test_limits(void **state)
{
	struct moat_err err = {0};
	json_t *doc = NULL;
	char big[5000];

	memset(big, ' ', sizeof(big) - 1);
	big[0] = '1';
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(parse(big, &doc, &err), MOAT_ELIMIT);
	assert_non_null(strstr(err.msg, "limits.max_message_bytes"));
	assert_int_equal(parse("[[[[[[[[[1]]]]]]]]]", &doc, &err), MOAT_ELIMIT);
	assert_non_null(strstr(err.msg, "limits.max_json_depth"));
	/* Brackets inside strings do not count, escaped quotes do not end them. */
	assert_int_equal(parse("[\"[[[[[[[[[[[\\\"[[[[[[\"]", &doc, &err), MOAT_OK);
	json_decref(doc);
	assert_true(rpc_depth_ok("[[]]", 4, 2));
	assert_false(rpc_depth_ok("[[[]]]", 6, 2));
}

static void expect_shape_error(const char *input, const char *rule, bool keeps_id)
{
	struct moat_err err = {0};
	struct rpc_msg m;
	json_t *doc = json_loads(input, 0, NULL);

	assert_non_null(doc);
	assert_int_equal(rpc_classify(doc, &m, &err), MOAT_EINVAL);
	assert_non_null(strstr(err.msg, rule));
	if (keeps_id)
		assert_non_null(m.id);
	else
		assert_null(m.id);
	json_decref(doc);
}

static void test_classify(void **state)
{
	struct moat_err err = {0};
	struct rpc_msg m;
	json_t *doc;

	doc = json_loads("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}", 0, NULL);
	assert_int_equal(rpc_classify(doc, &m, &err), MOAT_OK);
	assert_int_equal(m.kind, RPC_REQUEST);
	assert_string_equal(m.method, "ping");
	json_decref(doc);

	doc = json_loads("{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}", 0, NULL);
	assert_int_equal(rpc_classify(doc, &m, &err), MOAT_OK);
	assert_int_equal(m.kind, RPC_NOTIFICATION);
	json_decref(doc);

	doc = json_loads("{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"result\":{}}", 0, NULL);
	assert_int_equal(rpc_classify(doc, &m, &err), MOAT_OK);
	assert_int_equal(m.kind, RPC_RESPONSE);
	json_decref(doc);

	/* A peer's error reply with a null id is a response we ignore, not a
	 * request we answer (no error ping-pong). */
	doc = json_loads("{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32700,\"message\":\"x\"}}", 0, NULL);
	assert_int_equal(rpc_classify(doc, &m, &err), MOAT_OK);
	assert_int_equal(m.kind, RPC_RESPONSE);
	json_decref(doc);

	expect_shape_error("[1]", "must be a JSON object", false);
	expect_shape_error("{\"id\":1,\"method\":\"ping\"}", "\"jsonrpc\" must be \"2.0\"", true);
	expect_shape_error("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}", "\"2.0\"", true);
	expect_shape_error("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}", "\"id\"", false);
	expect_shape_error("{\"jsonrpc\":\"2.0\",\"id\":1.5,\"method\":\"ping\"}", "\"id\"", false);
	expect_shape_error("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}", "\"id\"", false);
	expect_shape_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}", "\"method\"", true);
	expect_shape_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\"}", "\"method\"", true);
	expect_shape_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"x\",\"params\":[1]}",
			   "\"params\" must be an object", true);
	expect_shape_error("{\"jsonrpc\":\"2.0\",\"id\":1}", "\"method\" is missing", true);
	expect_shape_error("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{},\"error\":{}}",
			   "\"method\" is missing", true);
}

static void expect_id(const char *input, const char *want)
{
	json_t *id = rpc_scan_id(input, strlen(input));
	char *text = id ? json_dumps(id, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;

	if (!want)
		assert_null(id);
	else
		assert_string_equal(text ? text : "(none)", want);
	free(text);
	json_decref(id);
}

static void test_scan_id(void **state)
{
	char deep[4096];
	size_t n = 0;

	expect_id("{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"x\"}", "7");
	expect_id("{\"id\":\"abc\",\"x\":", "\"abc\""); /* cut after the id */
	expect_id("  {\"params\":{\"id\":1,\"a\":[\"}\",{}]},\"id\":-3}", "-3");
	expect_id("{\"\\u0069d\":5}", "5");            /* an escaped key */
	expect_id("{\"id\":1,\"id\":2}", NULL);        /* two ids */
	expect_id("{\"id\":1.5}", NULL);                 /* not an integer */
	expect_id("{\"id\":null}", NULL);
	expect_id("{\"id\":{\"a\":1}}", NULL);
	expect_id("[{\"id\":1}]", NULL);                 /* a batch: no single id */
	expect_id("{\"id\":12", NULL);                   /* cut inside the id */
	expect_id("{\"id\":", NULL);                     /* cut before it (found by fuzzing) */
	expect_id("{\"id\"  ", NULL);
	expect_id("{\"a\" 1, \"id\":2}", NULL);          /* malformed before it */
	expect_id("", NULL);
	/* Nested far deeper than any depth limit, the id after it. */
	n += (size_t)snprintf(deep + n, sizeof(deep) - n, "{\"params\":");
	for (int i = 0; i < 1000; i++)
		deep[n++] = '[';
	for (int i = 0; i < 1000; i++)
		deep[n++] = ']';
	snprintf(deep + n, sizeof(deep) - n, ",\"id\":\"deep\"}");
	expect_id(deep, "\"deep\"");
}

static void test_find_nul(void **state)
{
	static const char *const ok[] = {"content", NULL};
	char where[64];
	json_t *v = json_loads("{\"a\":{\"b/c\":[\"x\",\"y\\u0000\"]},\"content\":\"\\u0000\"}",
			       JSON_ALLOW_NUL, NULL);

	assert_true(rpc_find_nul(v, ok, where, sizeof(where)));
	assert_string_equal(where, "/a/b~1c/1");
	json_decref(v);
	v = json_loads("{\"a\":[\"x\"],\"content\":[\"\\u0000\"]}", JSON_ALLOW_NUL, NULL);
	assert_false(rpc_find_nul(v, ok, where, sizeof(where)));
	assert_true(rpc_find_nul(v, NULL, where, sizeof(where)));
	assert_string_equal(where, "/content/0");
	json_decref(v);
}

static void test_builders(void **state)
{
	json_t *id = json_integer(3);
	json_t *r = rpc_result(id, json_object());
	json_t *e = rpc_error(NULL, RPC_PARSE_ERROR, "bad");
	json_t *n = rpc_notification("notifications/message", NULL);
	char key[16];

	assert_int_equal(json_integer_value(json_object_get(r, "id")), 3);
	assert_true(json_is_object(json_object_get(r, "result")));
	assert_true(json_is_null(json_object_get(e, "id")));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(e, "error"), "code")),
			 -32700);
	assert_null(json_object_get(n, "id"));
	assert_true(rpc_id_key(id, key, sizeof(key)));
	assert_string_equal(key, "3");
	json_t *sid = json_string("3");
	assert_true(rpc_id_key(sid, key, sizeof(key)));
	assert_string_equal(key, "\"3\""); /* "3" and 3 are different ids */
	json_t *longid = json_string("0123456789abcdefghij");
	assert_false(rpc_id_key(longid, key, sizeof(key)));
	json_decref(longid);
	json_t *bad = rpc_error(NULL, RPC_INVALID_PARAMS, "cut \xc3");
	assert_non_null(json_object_get(bad, "error")); /* never an envelope without error */
	json_decref(bad);
	json_decref(sid);
	json_decref(id);
	json_decref(r);
	json_decref(e);
	json_decref(n);
}

/* The per-thread _meta memo (rpc_meta_memo.c): a repeated _meta is
 * reused, and every strict rule still holds around it. */
static void test_meta_memo(void **state)
{
	struct moat_err err = {0};
	json_t *a = NULL, *b = NULL, *want;
	const char *m1 = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{"
			 "\"_meta\":{\"v\":\"2026-07-28\",\"c\":{\"x\":{}}}}}";
	const char *m2 = "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{"
			 "\"name\":\"t\",\"_meta\":{\"v\":\"2026-07-28\",\"c\":{\"x\":{}}},"
			 "\"arguments\":{\"s\":\"}{\\\"\"}}}";
	static const char *const bad[] = {
		/* the same _meta twice in params */
		"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"m\",\"params\":{"
		"\"_meta\":{\"v\":\"2026-07-28\",\"c\":{\"x\":{}}},"
		"\"_meta\":{\"v\":\"2026-07-28\",\"c\":{\"x\":{}}}}}",
		/* trailing data after a message whose _meta is remembered */
		"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"m\",\"params\":{"
		"\"_meta\":{\"v\":\"2026-07-28\",\"c\":{\"x\":{}}}}} x",
		/* bad UTF-8 beside it */
		"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"\xff\",\"params\":{"
		"\"_meta\":{\"v\":\"2026-07-28\",\"c\":{\"x\":{}}}}}",
		/* a duplicate key elsewhere */
		"{\"jsonrpc\":\"2.0\",\"id\":3,\"id\":4,\"method\":\"m\",\"params\":{"
		"\"_meta\":{\"v\":\"2026-07-28\",\"c\":{\"x\":{}}}}}",
	};

	assert_int_equal(parse(m1, &a, &err), MOAT_OK); /* remembered */
	assert_int_equal(parse(m2, &b, &err), MOAT_OK); /* reused */
	want = json_loads(m2, 0, NULL);
	assert_non_null(want);
	assert_true(json_equal(b, want));
	/* Shared, not copied: the same object in two later messages. */
	json_t *c = NULL;
	assert_int_equal(parse(m2, &c, &err), MOAT_OK);
	assert_ptr_equal(json_object_get(json_object_get(b, "params"), "_meta"),
			 json_object_get(json_object_get(c, "params"), "_meta"));
	json_decref(c);
	json_decref(want);
	json_decref(a);
	json_decref(b);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *doc = NULL;
		if (parse(bad[i], &doc, &err) != MOAT_EINVAL)
			fail_msg("bad message %zu parsed", i);
		assert_null(doc);
	}
	/* An escaped key is not located, and still parses whole. */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"m\",\"params\":{"
			       "\"_m\\u0065ta\":{\"v\":\"2026-07-28\",\"c\":{\"x\":{}}}}}",
			       &a, &err),
			 MOAT_OK);
	assert_non_null(json_object_get(json_object_get(a, "params"), "_meta"));
	json_decref(a);
	/* Another _meta replaces the memo. */
	assert_int_equal(parse("{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"m\",\"params\":{"
			       "\"_meta\":{\"v\":\"other\"}}}",
			       &a, &err),
			 MOAT_OK);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(a, "params"), "_meta"), "v")),
			    "other");
	json_decref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strict_parse),
		cmocka_unit_test(test_parse_error_never_quotes_input),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_builders),
		cmocka_unit_test(test_scan_id),
		cmocka_unit_test(test_find_nul),
		cmocka_unit_test(test_meta_memo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
