/*
 * test_server_subs.c - unit tests for src/core/server_subs.c through the
 * server rig: a subscriptions/listen stream acknowledges first on its own
 * route, tags each change with its subscriptionId, honours its filter,
 * ends with one empty final when its route closes, on stdio's
 * notifications/cancelled, or at shutdown (stdio told by
 * notifications/cancelled); streams are bounded per principal; an
 * initialize-era session hears of list changes at large.
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
#include "principal.h"
#include "registry.h"
#include "server.h"
#include "server_rig.h"

#define META                                                                                       \
	"\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\","                 \
	"\"io.modelcontextprotocol/clientCapabilities\":{}}"
#define SUB_ID "io.modelcontextprotocol/subscriptionId"

static void listen_on(struct rig *r, const struct principal *who, void *route, const char *id,
		      const char *filter)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "{\"jsonrpc\":\"2.0\",\"id\":%s,\"method\":\"subscriptions/listen\",\"params\":{" META
		 ",\"notifications\":%s}}",
		 id, filter);
	rig_send(r, who, route, text, NULL);
}

static const char *method_of(const json_t *m)
{
	return json_string_value(json_object_get(m, "method"));
}

static const json_t *sub_of(const json_t *m)
{
	return json_object_get(json_object_get(json_object_get(m, "params"), "_meta"), SUB_ID);
}

static void test_listen_stream(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	void *a = (void *)0x10, *b = (void *)0x20;
	struct sent got[16];
	size_t n;

	listen_on(r, NULL, a, "\"A\"", "{\"toolsListChanged\":true,\"resourcesListChanged\":true}");
	listen_on(r, NULL, b, "9", "{\"promptsListChanged\":true}");
	listen_on(r, NULL, NULL, "5", "{\"toolsListChanged\":true}");
	n = rig_on_route(r, a, got, 16);
	assert_int_equal(n, 1);
	assert_false(got[0].final);
	assert_string_equal(method_of(got[0].msg), "notifications/subscriptions/acknowledged");
	assert_string_equal(json_string_value(sub_of(got[0].msg)), "A");
	/* no prompts here, and resource list changes are never announced */
	json_t *agreed = json_object_get(json_object_get(got[0].msg, "params"), "notifications");
	assert_true(json_is_true(json_object_get(agreed, "toolsListChanged")));
	assert_int_equal(json_object_size(agreed), 1);
	n = rig_on_route(r, b, got, 16);
	assert_int_equal(n, 1);
	assert_int_equal(json_object_size(
				 json_object_get(json_object_get(got[0].msg, "params"), "notifications")),
			 0);

	assert_true(registry_set_hidden(r->reg, "read_thing", true));
	n = rig_on_route(r, a, got, 16);
	assert_int_equal(n, 2);
	assert_false(got[1].final);
	assert_string_equal(method_of(got[1].msg), "notifications/tools/list_changed");
	assert_string_equal(json_string_value(sub_of(got[1].msg)), "A");
	assert_int_equal(rig_on_route(r, b, got, 16), 1); /* filtered out */
	n = rig_on_route(r, NULL, got, 16);
	assert_int_equal(n, 2); /* stdio: ack and the change */
	assert_int_equal(json_integer_value(sub_of(got[1].msg)), 5);

	/* The route closes: one empty final, nothing after. */
	server_route_closed(r->srv, a);
	n = rig_on_route(r, a, got, 16);
	assert_int_equal(n, 3);
	assert_true(got[2].final);
	assert_null(got[2].msg);
	/* stdio's cancellation ends its stream, with no answer */
	rig_send(r, NULL, NULL,
		 "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{"
		 "\"requestId\":5}}",
		 NULL);
	/* over HTTP, naming a stream's id does not end it */
	rig_send(r, NULL, (void *)0x30,
		 "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{"
		 "\"requestId\":9}}",
		 NULL);
	size_t before = rig_on_route(r, NULL, got, 16);
	assert_true(registry_set_hidden(r->reg, "read_thing", false));
	assert_int_equal(rig_on_route(r, a, got, 16), 3);
	assert_int_equal(rig_on_route(r, NULL, got, 16), before);
	assert_int_equal(rig_on_route(r, b, got, 16), 1);

	/* Shutdown ends b with its final. */
	assert_true(server_shutdown(r->srv, 0, 2000));
	n = rig_on_route(r, b, got, 16);
	assert_int_equal(n, 2);
	assert_true(got[1].final);
	rig_free(r);
}

static void test_shutdown_tells_stdio(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct sent got[8];
	size_t n;

	listen_on(r, NULL, NULL, "\"s\"", "{}");
	assert_true(server_shutdown(r->srv, 0, 2000));
	n = rig_on_route(r, NULL, got, 8);
	assert_int_equal(n, 2);
	assert_string_equal(method_of(got[1].msg), "notifications/cancelled");
	assert_string_equal(json_string_value(json_object_get(json_object_get(got[1].msg, "params"),
								  "requestId")),
			    "s");
	/* no new stream once stopping */
	listen_on(r, NULL, (void *)0x40, "1", "{}");
	n = rig_on_route(r, (void *)0x40, got, 8);
	assert_int_equal(n, 1);
	assert_true(got[0].final);
	assert_non_null(json_object_get(got[0].msg, "error"));
	rig_free(r);
}

static void test_bounds_and_params(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct principal p = {.name = "p"}, q = {.name = "q"};
	struct sent got[4];
	char id[16];

	for (uintptr_t i = 0; i < 17; i++) {
		snprintf(id, sizeof(id), "%u", (unsigned)i);
		listen_on(r, &p, (void *)(0x100 + i), id, "{\"toolsListChanged\":true}");
	}
	for (uintptr_t i = 0; i < 16; i++) {
		assert_int_equal(rig_on_route(r, (void *)(0x100 + i), got, 4), 1);
		assert_false(got[0].final);
	}
	assert_int_equal(rig_on_route(r, (void *)0x110, got, 4), 1);
	assert_true(got[0].final);
	json_t *e = json_object_get(got[0].msg, "error");
	assert_int_equal(json_integer_value(json_object_get(e, "code")), RPC_LIMIT_ERROR);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(e, "data"), "rule")),
		"limits.subscriptions");
	/* another principal still may */
	listen_on(r, &q, (void *)0x200, "1", "{}");
	assert_int_equal(rig_on_route(r, (void *)0x200, got, 4), 1);
	assert_false(got[0].final);

	/* malformed filters */
	static const char *const bad[] = {"null", "{\"toolsListChanged\":1}",
					  "{\"resourceSubscriptions\":[1]}",
					  "{\"resourceSubscriptions\":\"x\"}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		void *route = (void *)(0x300 + i);
		listen_on(r, NULL, route, "1", bad[i]);
		assert_int_equal(rig_on_route(r, route, got, 4), 1);
		assert_true(got[0].final);
		assert_int_equal(json_integer_value(json_object_get(
					 json_object_get(got[0].msg, "error"), "code")),
				 RPC_INVALID_PARAMS);
	}
	rig_free(r);
}

static void test_initialize_era(void **state)
{
	(void)state;
	struct rig *r = rig_new();
	struct sent got[8];
	size_t n;

	rig_init(r, "2025-06-18");
	assert_true(registry_set_hidden(r->reg, "git_thing", true));
	n = rig_on_route(r, NULL, got, 8);
	assert_int_equal(n, 1);
	assert_false(got[0].final);
	assert_string_equal(method_of(got[0].msg), "notifications/tools/list_changed");
	assert_null(sub_of(got[0].msg));
	/* no family serves resources here */
	rig_send(r, NULL, (void *)0x2,
		 "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/subscribe\",\"params\":{"
		 "\"uri\":\"file:///x\"}}",
		 NULL);
	assert_int_equal(rig_on_route(r, (void *)0x2, got, 8), 1);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(got[0].msg, "error"), "code")),
		RPC_METHOD_NOT_FOUND);
	/* and the listen method is not this era's */
	rig_send(r, NULL, (void *)0x3,
		 "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"subscriptions/listen\",\"params\":{"
		 "\"notifications\":{}}}",
		 NULL);
	assert_int_equal(rig_on_route(r, (void *)0x3, got, 8), 1);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(got[0].msg, "error"), "code")),
		RPC_METHOD_NOT_FOUND);
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen_stream),
		cmocka_unit_test(test_shutdown_tells_stdio),
		cmocka_unit_test(test_bounds_and_params),
		cmocka_unit_test(test_initialize_era),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
