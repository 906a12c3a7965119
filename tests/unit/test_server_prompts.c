/*
 * test_server_prompts.c - unit tests for server_prompts.c through the
 * server rig: prompts/list and prompts/get in both eras (resultType,
 * caching hints), a get's failure as a JSON-RPC error naming the rule, a
 * policy hiding a prompt whose read tool it does not allow (listing, get
 * and completion alike), and completion bounded to 100 values filtered by
 * the prefix.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "jsonrpc.h"
#include "prompts.h"
#include "registry.h"
#include "server.h"
#include "server_rig.h"

#define META_OK                                                                                    \
	"\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","                 \
	"\"io.modelcontextprotocol/clientCapabilities\":{}}"

static enum moat_rc get_greet(struct call_ctx *ctx, void *data, const json_t *args,
			      json_t **out, struct moat_err *err)
{
	const char *who = json_string_value(json_object_get(args, "who"));

	(void)ctx;
	(void)data;
	if (who && strcmp(who, "nobody") == 0)
		return moat_err_rule(err, MOAT_EDENIED, "fs.outside_root", "embedded resource: no");
	*out = json_pack("{s:[{s:s, s:{s:s, s:s}}]}", "messages", "role", "user", "content", "type",
			 "text", "text", who ? who : "?");
	return MOAT_OK;
}

static enum moat_rc complete_many(void *data, const char *arg, const char *prefix,
				  const json_t *context, json_t *values, size_t max,
				  struct moat_err *err)
{
	char v[32];

	(void)data;
	(void)arg;
	(void)context;
	(void)err;
	json_array_append_new(values, json_string("zzz-not-a-match"));
	for (size_t i = 0; i < 150 && json_array_size(values) < max; i++) {
		snprintf(v, sizeof(v), "%s%03zu", prefix, i);
		json_array_append_new(values, json_string(v));
	}
	return MOAT_OK;
}

static const char *writer_only(void *data, const char *arg)
{
	(void)data;
	(void)arg;
	return "write_thing";
}

static void declare(struct rig *r)
{
	json_t *args = json_loads("[{\"name\":\"who\",\"required\":true}]", 0, NULL);
	struct prompt_spec a = {.name = "greet", .description = "d", .arguments = args,
				.get = get_greet, .complete = complete_many,
				.read_tool = "read_thing"};
	struct prompt_spec b = {.name = "guarded", .arguments = args, .get = get_greet,
				.complete = complete_many, .read_tool = "write_thing"};

	assert_int_equal(prompts_add(registry_prompts(r->reg), &a, NULL), MOAT_OK);
	struct prompt_spec c = {.name = "listing", .arguments = args, .get = get_greet,
				.complete = complete_many, .arg_tool = writer_only};

	assert_int_equal(prompts_add(registry_prompts(r->reg), &b, NULL), MOAT_OK);
	assert_int_equal(prompts_add(registry_prompts(r->reg), &c, NULL), MOAT_OK);
	json_decref(args);
}

/* Send text from who on route and wait (up to 5 s: a worker answers
 * just after it leaves the in-flight list) for the final answer
 * (borrowed from the rig). */
static json_t *ask(struct rig *r, const struct principal *who, void *route, const char *text)
{
	struct sent got[8];
	size_t n = 0;

	rig_send(r, who, route, text, NULL);
	for (int i = 0; i < 5000; i++) {
		n = rig_on_route(r, route, got, 8);
		if (n >= 1 && got[n - 1].final)
			break;
		usleep(1000);
	}
	assert_true(n >= 1);
	return got[n - 1].msg;
}

static int code_of(const json_t *msg)
{
	return (int)json_integer_value(json_object_get(json_object_get(msg, "error"), "code"));
}

static const char *rule_of(const json_t *msg)
{
	return json_string_value(
		json_object_get(json_object_get(json_object_get(msg, "error"), "data"), "rule"));
}

static void test_stateless_list_and_get(void **state)
{
	struct rig *r = rig_new();
	json_t *m, *res;

	(void)state;
	declare(r);
	m = ask(r, NULL, (void *)0x10,
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\",\"params\":{" META_OK "}}");
	res = json_object_get(m, "result");
	assert_int_equal(json_array_size(json_object_get(res, "prompts")), 3);
	assert_string_equal(json_string_value(json_object_get(res, "resultType")), "complete");
	assert_true(json_integer_value(json_object_get(res, "ttlMs")) > 0);
	assert_string_equal(json_string_value(json_object_get(res, "cacheScope")), "public");
	m = ask(r, NULL, (void *)0x11,
		"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"prompts/get\",\"params\":{\"name\":"
		"\"greet\",\"arguments\":{\"who\":\"ann\"}," META_OK "}}");
	res = json_object_get(m, "result");
	assert_non_null(res);
	assert_string_equal(json_string_value(json_object_get(res, "resultType")), "complete");
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(
						json_object_get(res, "messages"), 0), "content"),
					"text")),
			    "ann");
	m = ask(r, NULL, (void *)0x12,
		"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"prompts/get\",\"params\":{\"name\":"
		"\"greet\",\"arguments\":{\"who\":\"nobody\"}," META_OK "}}");
	assert_int_equal(code_of(m), -32602);
	assert_string_equal(rule_of(m), "fs.outside_root");
	m = ask(r, NULL, (void *)0x13,
		"{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"prompts/get\",\"params\":{\"name\":"
		"\"greet\",\"arguments\":{}," META_OK "}}");
	assert_int_equal(code_of(m), -32602);
	assert_string_equal(rule_of(m), "prompts.missing_argument");
	rig_free(r);
}

static void test_initialize_era(void **state)
{
	struct rig *r = rig_new();
	json_t *m, *res;

	(void)state;
	declare(r);
	rig_init(r, "2025-06-18");
	m = ask(r, NULL, (void *)0x2,
		"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"prompts/get\",\"params\":{\"name\":"
		"\"greet\",\"arguments\":{\"who\":\"bo\"}}}");
	res = json_object_get(m, "result");
	assert_non_null(res);
	assert_null(json_object_get(res, "resultType"));
	m = ask(r, NULL, (void *)0x3,
		"{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"prompts/list\",\"params\":{}}");
	res = json_object_get(m, "result");
	assert_null(json_object_get(res, "ttlMs"));
	assert_null(json_object_get(res, "nextCursor"));
	rig_free(r);
}

static void test_policy_hides(void **state)
{
	struct rig *r = rig_new();
	struct tool_policy *pol = policy_new();
	struct principal p = {.name = "tok:reader", .policy = pol, .groups = 1};
	const char *pat[] = {"read_*"};
	char why[128];
	json_t *m, *list;

	(void)state;
	declare(r);
	assert_int_equal(policy_add_group(pol, pat, 1, why, sizeof(why)), 0);
	m = ask(r, &p, (void *)0x20,
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"prompts/list\",\"params\":{" META_OK "}}");
	list = json_object_get(json_object_get(m, "result"), "prompts");
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 0), "name")),
			    "greet");
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "name")),
			    "listing");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(m, "result"), "cacheScope")),
		"private");
	m = ask(r, &p, (void *)0x21,
		"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"prompts/get\",\"params\":{\"name\":"
		"\"guarded\",\"arguments\":{\"who\":\"x\"}," META_OK "}}");
	assert_int_equal(code_of(m), -32602);
	assert_string_equal(rule_of(m), "prompts.unknown_prompt");
	m = ask(r, &p, (void *)0x22,
		"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"completion/complete\",\"params\":{"
		"\"ref\":{\"type\":\"ref/prompt\",\"name\":\"guarded\"},\"argument\":{\"name\":"
		"\"who\",\"value\":\"\"}," META_OK "}}");
	assert_int_equal(code_of(m), -32602);
	/* A visible prompt whose argument values come from a tool the policy
	 * refuses: no values. */
	m = ask(r, &p, (void *)0x23,
		"{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"completion/complete\",\"params\":{"
		"\"ref\":{\"type\":\"ref/prompt\",\"name\":\"listing\"},\"argument\":{\"name\":"
		"\"who\",\"value\":\"\"}," META_OK "}}");
	assert_int_equal(json_array_size(json_object_get(
				 json_object_get(json_object_get(m, "result"), "completion"), "values")),
			 0);
	m = ask(r, NULL, (void *)0x24,
		"{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"completion/complete\",\"params\":{"
		"\"ref\":{\"type\":\"ref/prompt\",\"name\":\"listing\"},\"argument\":{\"name\":"
		"\"who\",\"value\":\"\"}," META_OK "}}");
	assert_int_equal(json_array_size(json_object_get(
				 json_object_get(json_object_get(m, "result"), "completion"), "values")),
			 100);
	rig_free(r);
	policy_free(pol);
}

static void test_completion_bounded(void **state)
{
	struct rig *r = rig_new();
	json_t *m, *c;

	(void)state;
	declare(r);
	m = ask(r, NULL, (void *)0x30,
		"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"completion/complete\",\"params\":{"
		"\"ref\":{\"type\":\"ref/prompt\",\"name\":\"greet\"},\"argument\":{\"name\":"
		"\"who\",\"value\":\"ab\"}," META_OK "}}");
	c = json_object_get(json_object_get(m, "result"), "completion");
	assert_int_equal(json_array_size(json_object_get(c, "values")), 100);
	assert_true(json_is_true(json_object_get(c, "hasMore")));
	assert_string_equal(json_string_value(json_array_get(json_object_get(c, "values"), 0)),
			    "ab000");
	m = ask(r, NULL, (void *)0x31,
		"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"completion/complete\",\"params\":{"
		"\"ref\":{\"type\":\"ref/nothing\"},\"argument\":{\"name\":\"who\",\"value\":\"\"},"
		META_OK "}}");
	assert_int_equal(code_of(m), -32602);
	m = ask(r, NULL, (void *)0x32,
		"{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"completion/complete\",\"params\":{"
		"\"ref\":{\"type\":\"ref/resource\",\"uri\":\"file:///{+path}\"},\"argument\":{"
		"\"name\":\"path\",\"value\":\"\"}," META_OK "}}");
	assert_int_equal(code_of(m), -32602); /* no family serves resources here */
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stateless_list_and_get),
		cmocka_unit_test(test_initialize_era),
		cmocka_unit_test(test_policy_hides),
		cmocka_unit_test(test_completion_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
