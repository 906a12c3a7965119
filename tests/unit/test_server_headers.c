/*
 * test_server_headers.c - unit tests for the Mcp-Param-* checks of a
 * 2026-07-28 tools/call (server_headers.c): a tool's x-mcp-header
 * arguments mirrored in headers, names case-insensitive, =?base64?...?=
 * values decoded strictly, numbers and booleans as their JSON text, a
 * missing, extra, different or malformed header refused with -32020, an
 * annotation the spec does not allow not enforced, and a tool outside the
 * caller's policy never looked at.
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
#include "registry.h"
#include "server.h"
#include "server_rig.h"

#define META_OK                                                                                    \
	"\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","                 \
	"\"io.modelcontextprotocol/clientCapabilities\":{}}"

static enum moat_rc say_ok(struct call_ctx *ctx, void *data, json_t *args, struct tool_result *out,
			   struct moat_err *err)
{
	(void)ctx;
	(void)data;
	(void)args;
	(void)err;
	return tool_result_text(out, "ok");
}

/* A rig with "routed": region (string), count (integer), flag (boolean)
 * marked x-mcp-header, note (string) not, and deep (an object whose
 * inner property is marked: not enforced). */
static struct rig *rig_routed(void)
{
	struct rig *r = rig_new();
	struct moat_err err = {0};
	json_t *in = json_loads(
		"{\"type\":\"object\",\"properties\":{"
		"\"region\":{\"type\":\"string\",\"x-mcp-header\":\"Region\"},"
		"\"count\":{\"type\":\"integer\",\"x-mcp-header\":\"Count\"},"
		"\"flag\":{\"type\":\"boolean\",\"x-mcp-header\":\"Flag\"},"
		"\"note\":{\"type\":\"string\"},"
		"\"deep\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"string\","
		"\"x-mcp-header\":\"Deep\"}}}}}",
		0, NULL);
	struct tool_spec spec = {.name = "routed", .description = "t", .input_schema = in,
				 .annotations = {.read_only = HINT_TRUE}, .inline_ok = true,
				 .handler = say_ok};

	assert_non_null(in);
	assert_int_equal(registry_add(r->reg, &spec, &err), MOAT_OK);
	json_decref(in);
	return r;
}

/* Call routed with args (JSON text) and params headers; the final's
 * JSON-RPC error code, 0 for a result. */
static int call(struct rig *r, uintptr_t route, const char *args,
		const struct req_param_header *params, size_t n)
{
	char text[1024];
	struct sent got[8];
	size_t k;
	struct req_headers h = {.stateless = true, .protocol_version = "2026-07-28",
				.method = "tools/call", .name = "routed", .params = params,
				.n_params = n};

	snprintf(text, sizeof(text),
		 "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":"
		 "\"routed\",\"arguments\":%s," META_OK "}}",
		 args);
	rig_send(r, NULL, (void *)route, text, &h);
	k = rig_on_route(r, (void *)route, got, 8);
	assert_true(k >= 1);
	assert_true(got[k - 1].final);
	json_t *e = json_object_get(got[k - 1].msg, "error");
	if (!e)
		return 0;
	assert_int_equal(json_integer_value(json_object_get(got[k - 1].msg, "id")), 5);
	return (int)json_integer_value(json_object_get(e, "code"));
}

#define P(n, v) ((struct req_param_header){.name = (n), .value = (v)})
#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_matching(void **state)
{
	struct rig *r = rig_routed();
	uintptr_t route = 0x100;
	(void)state;

	/* Nothing annotated present: no header needed. */
	assert_int_equal(call(r, route++, "{\"note\":\"x\"}", NULL, 0), 0);
	struct req_param_header a[] = {P("Region", "eu-west-1")};
	assert_int_equal(call(r, route++, "{\"region\":\"eu-west-1\"}", a, N(a)), 0);
	/* Names case-insensitive. */
	struct req_param_header b[] = {P("region", "eu-west-1")};
	assert_int_equal(call(r, route++, "{\"region\":\"eu-west-1\"}", b, N(b)), 0);
	/* Base64 ("Hello"), numbers and booleans as JSON text. */
	struct req_param_header c[] = {P("REGION", "=?base64?SGVsbG8=?="), P("Count", "42"),
				       P("Flag", "true")};
	assert_int_equal(call(r, route++, "{\"region\":\"Hello\",\"count\":42,\"flag\":true}", c,
			      N(c)),
			 0);
	/* A value without the exact markers is literal. */
	struct req_param_header d[] = {P("Region", "=?base64?SGVsbG8=")};
	assert_int_equal(call(r, route++, "{\"region\":\"=?base64?SGVsbG8=\"}", d, N(d)), 0);
	/* A null argument needs no header; an unannotated header is ignored. */
	struct req_param_header e[] = {P("Other", "x")};
	assert_int_equal(call(r, route++, "{\"region\":null}", e, N(e)), 0);
	/* Nested annotations are not enforced. */
	assert_int_equal(call(r, route++, "{\"deep\":{\"x\":\"y\"}}", NULL, 0), 0);
	rig_free(r);
}

static void test_refused(void **state)
{
	struct rig *r = rig_routed();
	uintptr_t route = 0x200;
	(void)state;

	/* Missing for a present argument. */
	assert_int_equal(call(r, route++, "{\"region\":\"eu\"}", NULL, 0), -32020);
	/* Present for an absent argument. */
	struct req_param_header a[] = {P("Region", "eu")};
	assert_int_equal(call(r, route++, "{}", a, N(a)), -32020);
	/* Different; values are case-sensitive. */
	struct req_param_header b[] = {P("Region", "EU")};
	assert_int_equal(call(r, route++, "{\"region\":\"eu\"}", b, N(b)), -32020);
	/* Bad Base64: no padding, foreign characters, empty. */
	struct req_param_header c[] = {P("Region", "=?base64?SGVsbG8?=")};
	assert_int_equal(call(r, route++, "{\"region\":\"Hello\"}", c, N(c)), -32020);
	struct req_param_header d[] = {P("Region", "=?base64?SGVs!!!bG8=?=")};
	assert_int_equal(call(r, route++, "{\"region\":\"Hello\"}", d, N(d)), -32020);
	struct req_param_header e[] = {P("Region", "=?base64?\?=")};
	assert_int_equal(call(r, route++, "{\"region\":\"\"}", e, N(e)), -32020);
	/* A literal that is not printable ASCII. */
	struct req_param_header f[] = {P("Region", "caf\xc3\xa9")};
	assert_int_equal(call(r, route++, "{\"region\":\"caf\\u00e9\"}", f, N(f)), -32020);
	/* Numbers and booleans by their text. */
	struct req_param_header g[] = {P("Count", "43")};
	assert_int_equal(call(r, route++, "{\"count\":42}", g, N(g)), -32020);
	struct req_param_header h[] = {P("Count", "0x2a")};
	assert_int_equal(call(r, route++, "{\"count\":42}", h, N(h)), -32020);
	struct req_param_header i[] = {P("Flag", "True")};
	assert_int_equal(call(r, route++, "{\"flag\":true}", i, N(i)), -32020);
	rig_free(r);
}

static void test_policy(void **state)
{
	struct rig *r = rig_routed();
	struct tool_policy *p = policy_new();
	struct principal who = {.name = "eve"};
	struct sent got[4];
	char text[512];
	struct req_headers h = {.stateless = true, .protocol_version = "2026-07-28",
				.method = "tools/call", .name = "routed"};
	(void)state;

	assert_non_null(p);
	who.policy = p; /* allows nothing */
	snprintf(text, sizeof(text),
		 "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":"
		 "\"routed\",\"arguments\":{\"region\":\"eu\"}," META_OK "}}");
	rig_send(r, &who, (void *)0x300, text, &h);
	assert_int_equal(rig_on_route(r, (void *)0x300, got, 4), 1);
	/* Answered as an unknown tool, not as a header mismatch that would
	 * tell the tool exists and what it mirrors. */
	json_t *e = json_object_get(got[0].msg, "error");
	if (e)
		assert_int_not_equal(json_integer_value(json_object_get(e, "code")), -32020);
	else
		assert_true(json_is_true(
			json_object_get(json_object_get(got[0].msg, "result"), "isError")));
	rig_free(r);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_matching),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
