/*
 * test_server_routes.c - unit tests for what the server does for the HTTP
 * transport: server_handle_from() answers every message with exactly one
 * final message on its route (progress before it, an empty final for a
 * notification), a principal's tool policy hides tools from tools/list and
 * answers a call outside it as for an unknown tool, a principal's own rate
 * bucket is taken per call, and policies match the patterns they should.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonrpc.h"
#include "principal.h"
#include "server.h"
#include "server_rig.h"

/* Hand text to the server from who on route. */
static void from(struct rig *r, const struct principal *who, void *route, const char *text)
{
	rig_send(r, who, route, text, NULL);
}

#define on_route rig_on_route
#define init rig_init

static void test_one_final_per_message(void **state)
{
	struct rig *r = rig_new();
	struct sent got[8];

	init(r, "2025-11-25");
	/* A notification: an empty final, so the transport can answer 202. */
	from(r, NULL, (void *)0x2, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
	assert_int_equal(on_route(r, (void *)0x2, got, 8), 1);
	assert_true(got[0].final);
	assert_null(got[0].msg);
	/* A call with a progress token: progress first, then the result. */
	from(r, NULL, (void *)0x3,
	     "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":"
	     "\"read_thing\",\"_meta\":{\"progressToken\":\"p\"}}}");
	assert_int_equal(on_route(r, (void *)0x3, got, 8), 2);
	assert_false(got[0].final);
	assert_string_equal(json_string_value(json_object_get(got[0].msg, "method")),
			    "notifications/progress");
	assert_true(got[1].final);
	assert_int_equal(json_integer_value(json_object_get(got[1].msg, "id")), 7);
	/* Not JSON: the parse error still ends the route. */
	from(r, NULL, (void *)0x4, "{nope");
	assert_int_equal(on_route(r, (void *)0x4, got, 8), 1);
	assert_true(got[0].final);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(got[0].msg, "error"),
							    "code")),
			 RPC_PARSE_ERROR);
	rig_free(r);
}

static void test_batch_on_route(void **state)
{
	struct rig *r = rig_new();
	struct sent got[4];

	init(r, "2025-03-26");
	from(r, NULL, (void *)0x5,
	     "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
	     "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
	     "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}]");
	assert_int_equal(on_route(r, (void *)0x5, got, 4), 1);
	assert_true(got[0].final);
	assert_true(json_is_array(got[0].msg));
	assert_int_equal(json_array_size(got[0].msg), 2);
	/* Only notifications: an empty final. */
	from(r, NULL, (void *)0x6, "[{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}]");
	assert_int_equal(on_route(r, (void *)0x6, got, 4), 1);
	assert_null(got[0].msg);
	assert_true(got[0].final);
	rig_free(r);
}

static void test_policy_hides_tools(void **state)
{
	struct rig *r = rig_new();
	struct tool_policy *p = policy_new();
	const char *pats[] = {"read_*", "git_*"};
	char why[128];
	struct principal alice = {.name = "alice", .groups = 1};
	struct sent got[4];
	json_t *tools;
	const char *msg_hidden, *msg_unknown;

	assert_int_equal(policy_add_group(p, pats, 2, why, sizeof(why)), 0);
	alice.policy = p;
	init(r, "2025-11-25");
	from(r, &alice, (void *)0x7, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}");
	assert_int_equal(on_route(r, (void *)0x7, got, 4), 1);
	tools = json_object_get(json_object_get(got[0].msg, "result"), "tools");
	assert_int_equal(json_array_size(tools), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(tools, 0), "name")),
			    "read_thing");
	assert_string_equal(json_string_value(json_object_get(json_array_get(tools, 1), "name")),
			    "git_thing");
	/* A tool outside the policy is answered exactly as one that does
	 * not exist (same code, same message shape). */
	from(r, &alice, (void *)0x8,
	     "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
	     "\"write_thing\"}}");
	from(r, &alice, (void *)0x9,
	     "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
	     "\"nope_thing\"}}");
	assert_int_equal(on_route(r, (void *)0x8, got, 4), 1);
	assert_int_equal(on_route(r, (void *)0x9, got + 1, 3), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(got[0].msg, "error"),
							    "code")),
			 RPC_INVALID_PARAMS);
	msg_hidden = json_string_value(json_object_get(json_object_get(got[0].msg, "error"),
						       "message"));
	msg_unknown = json_string_value(json_object_get(json_object_get(got[1].msg, "error"),
							"message"));
	assert_string_equal(msg_hidden, "invalid params: unknown tool 'write_thing'");
	assert_string_equal(msg_unknown, "invalid params: unknown tool 'nope_thing'");
	rig_free(r);
	policy_free(p);
}

static void test_principal_bucket(void **state)
{
	struct rig *r = rig_new();
	struct token_bucket b;
	struct principal bob = {.name = "bob", .bucket = &b};
	struct sent got[4];
	const char *call = "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{"
			   "\"name\":\"read_thing\"}}";

	bucket_init(&b, 1);
	init(r, "2025-11-25");
	from(r, &bob, (void *)0xa, call);
	from(r, &bob, (void *)0xb, call);
	assert_int_equal(on_route(r, (void *)0xa, got, 4), 1);
	assert_false(json_is_true(json_object_get(json_object_get(got[0].msg, "result"),
						  "isError")));
	assert_int_equal(on_route(r, (void *)0xb, got, 4), 1);
	assert_true(json_is_true(json_object_get(json_object_get(got[0].msg, "result"),
						 "isError")));
	/* Another principal is not held back by bob's bucket. */
	from(r, NULL, (void *)0xc, call);
	assert_int_equal(on_route(r, (void *)0xc, got, 4), 1);
	assert_false(json_is_true(json_object_get(json_object_get(got[0].msg, "result"),
						  "isError")));
	rig_free(r);
	bucket_destroy(&b);
}

static void test_policy_patterns(void **state)
{
	struct tool_policy *p = policy_new();
	const char *a[] = {"read_*"}, *b[] = {"git_lo?", "list_repositories"};
	const char *bad1[] = {"[a-z]*"}, *bad2[] = {"a/b"}, *bad3[] = {""};
	char why[160];

	assert_int_equal(policy_add_group(p, a, 1, why, sizeof(why)), 0);
	assert_int_equal(policy_add_group(p, b, 2, why, sizeof(why)), 1);
	assert_int_equal(policy_add_group(p, bad1, 1, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "tool pattern 0"));
	assert_int_equal(policy_add_group(p, bad2, 1, why, sizeof(why)), -1);
	assert_int_equal(policy_add_group(p, bad3, 1, why, sizeof(why)), -1);
	assert_true(policy_allows(p, 1, "read_text_file"));
	assert_false(policy_allows(p, 2, "read_text_file"));
	assert_true(policy_allows(p, 2, "git_log"));
	assert_false(policy_allows(p, 2, "git_blame"));
	assert_true(policy_allows(p, 3, "list_repositories"));
	assert_false(policy_allows(p, 0, "read_text_file"));
	assert_true(policy_allows(NULL, 0, "anything"));
	assert_true(principal_allows(principal_local(), "anything"));
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_final_per_message),
		cmocka_unit_test(test_batch_on_route),
		cmocka_unit_test(test_policy_hides_tools),
		cmocka_unit_test(test_principal_bucket),
		cmocka_unit_test(test_policy_patterns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
