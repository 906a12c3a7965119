/*
 * test_server_stateless.c - unit tests for the 2026-07-28 era in the core
 * (server_stateless.c): which requests it takes, the _meta rules and their
 * error codes, the header mirrors, server/discover, the removed methods,
 * resultType and caching hints, that nothing a request declared outlives
 * it, that an initialize-era session and stateless requests share one
 * connection, and the HTTP status of each answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonrpc.h"
#include "server.h"
#include "server_rig.h"

#define META_OK                                                                                    \
	"\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","                 \
	"\"io.modelcontextprotocol/clientCapabilities\":{},"                                      \
	"\"io.modelcontextprotocol/clientInfo\":{\"name\":\"unit\",\"version\":\"1\"}}"

/* Send one request on route and return the one final answer it got
 * (borrowed from the rig). */
static json_t *ask(struct rig *r, void *route, const char *text, const struct req_headers *h)
{
	struct sent got[8];
	size_t n;

	rig_send(r, NULL, route, text, h);
	n = rig_on_route(r, route, got, 8);
	assert_true(n >= 1);
	assert_true(got[n - 1].final);
	return got[n - 1].msg;
}

static int code_of(const json_t *msg)
{
	return (int)json_integer_value(json_object_get(json_object_get(msg, "error"), "code"));
}

static void test_discover(void **state)
{
	struct rig *r = rig_new();
	json_t *m = ask(r, (void *)0x10,
			"{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"server/discover\",\"params\":{" META_OK
			"}}",
			NULL);
	json_t *res = json_object_get(m, "result");

	assert_non_null(res);
	assert_int_equal(json_integer_value(json_object_get(m, "id")), 7);
	assert_string_equal(json_string_value(json_object_get(res, "resultType")), "complete");
	assert_string_equal(
		json_string_value(json_array_get(json_object_get(res, "supportedVersions"), 0)),
		"2026-07-28");
	assert_true(json_is_object(json_object_get(json_object_get(res, "capabilities"), "tools")));
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(res, "_meta"),
						    "io.modelcontextprotocol/serverInfo"),
				    "name")),
			    "moat");
	assert_true(json_is_integer(json_object_get(res, "ttlMs")));
	assert_non_null(json_object_get(res, "cacheScope"));
	rig_free(r);
}

static void test_meta_rules(void **state)
{
	struct rig *r = rig_new();
	static const struct {
		const char *text;
		int code;
	} cases[] = {
		/* no _meta at all */
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\",\"params\":{}}", -32602},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server/discover\"}", -32602},
		/* no clientCapabilities */
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":{"
		 "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\"}}}",
		 -32602},
		/* clientCapabilities not an object */
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":{"
		 "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
		 "\"io.modelcontextprotocol/clientCapabilities\":[]}}}",
		 -32602},
		/* clientInfo without a name */
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":{"
		 "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
		 "\"io.modelcontextprotocol/clientCapabilities\":{},"
		 "\"io.modelcontextprotocol/clientInfo\":{}}}}",
		 -32602},
		/* a bad log level */
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":{"
		 "\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","
		 "\"io.modelcontextprotocol/clientCapabilities\":{},"
		 "\"io.modelcontextprotocol/logLevel\":\"loud\"}}}",
		 -32602},
		/* a revision nobody speaks, and one that needs initialize */
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":{"
		 "\"io.modelcontextprotocol/protocolVersion\":\"v999\","
		 "\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
		 -32022},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"_meta\":{"
		 "\"io.modelcontextprotocol/protocolVersion\":\"2025-11-25\","
		 "\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
		 -32022},
		/* removed and unknown methods */
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":{" META_OK "}}", -32601},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{" META_OK "}}",
		 -32601},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"logging/setLevel\",\"params\":{" META_OK
		 ",\"level\":\"info\"}}",
		 -32601},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/subscribe\",\"params\":{" META_OK
		 ",\"uri\":\"file:///x\"}}",
		 -32601},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"no/such\",\"params\":{" META_OK "}}",
		 -32601},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		void *route = (void *)(uintptr_t)(0x100 + i);
		json_t *m = ask(r, route, cases[i].text, NULL);
		if (code_of(m) != cases[i].code)
			fail_msg("case %zu: code %d, want %d", i, code_of(m), cases[i].code);
		assert_int_equal(json_integer_value(json_object_get(m, "id")), 1);
		assert_true(json_is_string(json_object_get(
			json_object_get(json_object_get(m, "error"), "data"), "rule")));
	}
	/* The unsupported version's data lists what is served, and echoes. */
	json_t *m = ask(r, (void *)0x200,
			"{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/list\",\"params\":{\"_meta\":{"
			"\"io.modelcontextprotocol/protocolVersion\":\"v999\","
			"\"io.modelcontextprotocol/clientCapabilities\":{}}}}",
			NULL);
	json_t *data = json_object_get(json_object_get(m, "error"), "data");
	assert_string_equal(json_string_value(json_object_get(data, "requested")), "v999");
	assert_string_equal(json_string_value(json_array_get(json_object_get(data, "supported"), 0)),
			    "2026-07-28");
	rig_free(r);
}

static void test_headers_mirror_body(void **state)
{
	struct rig *r = rig_new();
	const char *call = "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{"
			   "\"name\":\"read_thing\",\"arguments\":{}," META_OK "}}";
	struct req_headers good = {.stateless = true, .protocol_version = "2026-07-28",
				   .method = "tools/call", .name = " read_thing\t"};
	struct req_headers h;
	json_t *m;

	m = ask(r, (void *)0x1, call, &good);
	assert_false(json_is_true(json_object_get(json_object_get(m, "result"), "isError")));
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(m, "result"), "resultType")),
		"complete");

	h = good;
	h.name = "git_thing";
	assert_int_equal(code_of(ask(r, (void *)0x2, call, &h)), -32020);
	h = good;
	h.name = NULL;
	assert_int_equal(code_of(ask(r, (void *)0x3, call, &h)), -32020);
	h = good;
	h.method = "tools/list";
	assert_int_equal(code_of(ask(r, (void *)0x4, call, &h)), -32020);
	h = good;
	h.method = NULL;
	assert_int_equal(code_of(ask(r, (void *)0x5, call, &h)), -32020);
	h = good;
	h.protocol_version = "2025-11-25";
	assert_int_equal(code_of(ask(r, (void *)0x6, call, &h)), -32020);
	h = good;
	h.protocol_version = NULL;
	assert_int_equal(code_of(ask(r, (void *)0x7, call, &h)), -32020);
	/* Both say the same unknown revision: unsupported, not a mismatch. */
	h = good;
	h.protocol_version = "v999";
	assert_int_equal(code_of(ask(r, (void *)0x8,
				     "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\","
				     "\"params\":{\"_meta\":{\"io.modelcontextprotocol/"
				     "protocolVersion\":\"v999\",\"io.modelcontextprotocol/"
				     "clientCapabilities\":{}}}}",
				     &h)),
			 -32022);
	/* No session and no _meta: the stateless rules, not "initialize
	 * first". */
	h = good;
	h.method = "tools/list";
	assert_int_equal(code_of(ask(r, (void *)0x9,
				     "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}", &h)),
			 -32602);
	rig_free(r);
}

static void test_eras_share_a_connection(void **state)
{
	struct rig *r = rig_new();
	json_t *m;

	/* Before initialize, the old era refuses; a stateless request is
	 * served. */
	m = ask(r, (void *)0x21, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}", NULL);
	assert_int_equal(code_of(m), -32600);
	m = ask(r, (void *)0x22,
		"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{" META_OK "}}",
		NULL);
	assert_int_equal(json_array_size(json_object_get(json_object_get(m, "result"), "tools")), 3);
	assert_non_null(json_object_get(json_object_get(m, "result"), "ttlMs"));
	/* The stateless request initialized nothing. */
	m = ask(r, (void *)0x23, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}", NULL);
	assert_int_equal(code_of(m), -32600);
	rig_init(r, "2025-06-18");
	/* The session's answers carry no stateless fields. */
	m = ask(r, (void *)0x24, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/list\"}", NULL);
	assert_null(json_object_get(json_object_get(m, "result"), "resultType"));
	assert_null(json_object_get(json_object_get(m, "result"), "ttlMs"));
	m = ask(r, (void *)0x25,
		"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":"
		"\"read_thing\"}}",
		NULL);
	assert_null(json_object_get(json_object_get(m, "result"), "resultType"));
	/* And a stateless request after it still gets them. */
	m = ask(r, (void *)0x26,
		"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":"
		"\"read_thing\"," META_OK "}}",
		NULL);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(m, "result"), "resultType")),
		"complete");
	/* ping is the session's. */
	m = ask(r, (void *)0x27, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\"}", NULL);
	assert_non_null(json_object_get(m, "result"));
	rig_free(r);
}

static void test_policy_under_stateless(void **state)
{
	struct rig *r = rig_new();
	struct tool_policy *pol = policy_new();
	struct principal p = {.name = "tok:reader", .policy = pol, .groups = 1};
	const char *pat[] = {"read_*"};
	char why[128];
	struct sent got[4];

	assert_int_equal(policy_add_group(pol, pat, 1, why, sizeof(why)), 0);
	rig_send(r, &p, (void *)0x1,
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{" META_OK "}}",
		 NULL);
	assert_int_equal(rig_on_route(r, (void *)0x1, got, 4), 1);
	json_t *res = json_object_get(got[0].msg, "result");
	assert_int_equal(json_array_size(json_object_get(res, "tools")), 1);
	assert_string_equal(json_string_value(json_object_get(res, "cacheScope")), "private");
	rig_send(r, &p, (void *)0x2,
		 "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":"
		 "\"write_thing\"," META_OK "}}",
		 NULL);
	assert_int_equal(rig_on_route(r, (void *)0x2, got, 4), 1);
	assert_int_equal(code_of(got[0].msg), -32602);
	rig_free(r);
	policy_free(pol);
}

static void test_http_status(void **state)
{
	static const struct {
		const char *text;
		int status;
	} cases[] = {
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}", 200},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"content\":[{\"type\":\"text\","
		 "\"text\":\"\\\"error\\\":{\\\"code\\\":-32601}\"}]}}",
		 200},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32601,\"message\":\"x\"}}", 404},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32602,\"message\":\"x\"}}", 400},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32020,\"message\":\"x\"}}", 400},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32021,\"message\":\"x\"}}", 400},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32022,\"message\":\"x\"}}", 400},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32000,\"message\":\"x\"}}", 200},
		{"{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32603,\"message\":\"x\"}}", 200},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(server_http_status(cases[i].text, strlen(cases[i].text)),
				 cases[i].status);
	assert_int_equal(server_http_status(NULL, 0), 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_discover),
		cmocka_unit_test(test_meta_rules),
		cmocka_unit_test(test_headers_mirror_body),
		cmocka_unit_test(test_eras_share_a_connection),
		cmocka_unit_test(test_policy_under_stateless),
		cmocka_unit_test(test_http_status),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
