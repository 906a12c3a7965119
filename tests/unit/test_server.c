/*
 * test_server.c - unit tests for src/core/server.c: lifecycle and version
 * negotiation, JSON-RPC error codes, batches, pagination, tool calls,
 * limits, cancellation and shutdown, all through server_handle() with a
 * capturing send function.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "jsonrpc.h"
#include "server.h"

/* ---- harness --------------------------------------------------------- */

struct harness {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	json_t *out; /* every message the server sent, in order */
	struct registry *reg;
	struct server *srv;
};

static void capture(void *ctx, void *route, const char *buf, size_t len, bool final)
{
	(void)route;
	(void)final;
	if (len == 0)
		return;
	struct harness *h = ctx;
	json_t *msg = json_loadb(buf, len, JSON_DECODE_ANY, NULL);

	assert_non_null(msg); /* the server only ever writes valid JSON */
	pthread_mutex_lock(&h->lock);
	json_array_append_new(h->out, msg);
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

static void send_line(struct harness *h, const char *line)
{
	server_handle(h->srv, line, strlen(line));
}

/* Wait up to ms for a message with this integer id; returns a new ref or NULL. */
static json_t *wait_id(struct harness *h, json_int_t id, int ms)
{
	struct timespec until;
	json_t *found = NULL;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->lock);
	for (;;) {
		size_t i;
		json_t *m;
		json_array_foreach(h->out, i, m) {
			json_t *mid = json_is_object(m) ? json_object_get(m, "id") : NULL;
			if (json_is_integer(mid) && json_integer_value(mid) == id) {
				found = json_incref(m);
				break;
			}
		}
		if (found || pthread_cond_timedwait(&h->cond, &h->lock, &until) != 0)
			break;
	}
	pthread_mutex_unlock(&h->lock);
	return found;
}

/* The last message sent (new ref), for errors with a null id. */
static json_t *last_msg(struct harness *h)
{
	json_t *m;

	pthread_mutex_lock(&h->lock);
	m = json_incref(json_array_get(h->out, json_array_size(h->out) - 1));
	pthread_mutex_unlock(&h->lock);
	return m;
}

static int error_code(json_t *m)
{
	return (int)json_integer_value(json_object_get(json_object_get(m, "error"), "code"));
}

static const char *error_msg(json_t *m)
{
	return json_string_value(json_object_get(json_object_get(m, "error"), "message"));
}

static enum moat_rc quick(struct call_ctx *ctx, void *data, json_t *args, struct tool_result *out,
			  struct moat_err *err)
{
	return tool_result_text(out, "quick");
}

static enum moat_rc sleepy(struct call_ctx *ctx, void *data, json_t *args,
			   struct tool_result *out, struct moat_err *err)
{
	struct timespec ts = {0, 2000000};
	enum moat_rc rc;

	callctx_progress(ctx, 1, 2, "started");
	while ((rc = callctx_check(ctx, err)) == MOAT_OK)
		nanosleep(&ts, NULL);
	return rc;
}

static enum moat_rc structured(struct call_ctx *ctx, void *data, json_t *args,
			       struct tool_result *out, struct moat_err *err)
{
	out->structured = json_pack("{s:i}", "n", 42);
	return MOAT_OK;
}

/* A tool with a fast path: {"hit":true} is answered by it (or refused,
 * with {"deny":true}); anything else falls through to the handler. */
static enum moat_rc slow_path(struct call_ctx *ctx, void *data, json_t *args,
			      struct tool_result *out, struct moat_err *err)
{
	return tool_result_text(out, "handler");
}

static bool fast_path(struct call_ctx *ctx, void *data, json_t *args, struct tool_result *out,
		      enum moat_rc *rc, struct moat_err *err)
{
	if (json_is_true(json_object_get(args, "deny"))) {
		*rc = moat_err_set(err, MOAT_EDENIED, "refused by the fast path");
		return true;
	}
	if (!json_is_true(json_object_get(args, "hit")))
		return false;
	*rc = tool_result_text(out, "fast");
	return true;
}

static void add_tool(struct registry *reg, const char *name, tool_handler_fn fn,
		     const char *in, const char *outs)
{
	bool inline_ok = fn == quick;
	struct moat_err err = {0};
	json_t *ins = json_loads(in, 0, NULL);
	json_t *os = outs ? json_loads(outs, 0, NULL) : NULL;
	struct tool_spec spec = {
		.name = name,
		.title = "A title",
		.description = "test tool",
		.input_schema = ins,
		.output_schema = os,
		.annotations = {.read_only = HINT_TRUE},
		.inline_ok = inline_ok,
		.handler = fn,
	};
	assert_int_equal(registry_add(reg, &spec, &err), MOAT_OK);
	json_decref(ins);
	json_decref(os);
}

static struct harness *harness_new(void (*tune)(struct limits *))
{
	struct harness *h = calloc(1, sizeof(*h));
	struct server_opts o = {.name = "moat", .title = "moat title", .version = "9.9",
				.instructions = "be careful"};

	limits_defaults(&o.limits);
	o.limits.tools_page_size = 2;
	if (tune)
		tune(&o.limits);
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	h->out = json_array();
	h->reg = registry_new(0);
	add_tool(h->reg, "quick", quick,
		 "{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\",\"maxLength\":3}},"
		 "\"additionalProperties\":false}",
		 NULL);
	add_tool(h->reg, "sleepy", sleepy, "{\"type\":\"object\"}", NULL);
	add_tool(h->reg, "structured", structured, "{\"type\":\"object\"}",
		 "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}},\"required\":[\"n\"]}");
	h->srv = server_new(&o, h->reg, capture, h);
	assert_non_null(h->srv);
	return h;
}

static void harness_free(struct harness *h)
{
	assert_true(server_shutdown(h->srv, 0, 2000));
	server_free(h->srv);
	registry_free(h->reg);
	json_decref(h->out);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

static void init_with(struct harness *h, const char *version)
{
	char line[256];
	json_t *r;

	snprintf(line, sizeof(line),
		 "{\"jsonrpc\":\"2.0\",\"id\":1000,\"method\":\"initialize\",\"params\":{"
		 "\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\","
		 "\"version\":\"1\"}}}",
		 version);
	send_line(h, line);
	r = wait_id(h, 1000, 1000);
	assert_non_null(json_object_get(r, "result"));
	json_decref(r);
}

static json_t *call(struct harness *h, json_int_t id, const char *name, const char *args)
{
	char line[512];

	snprintf(line, sizeof(line),
		 "{\"jsonrpc\":\"2.0\",\"id\":%lld,\"method\":\"tools/call\",\"params\":{\"name\":\"%s\","
		 "\"arguments\":%s}}",
		 (long long)id, name, args);
	send_line(h, line);
	return wait_id(h, id, 3000);
}

static const char *result_text(json_t *m)
{
	json_t *content = json_object_get(json_object_get(m, "result"), "content");
	return json_string_value(json_object_get(json_array_get(content, 0), "text"));
}

static bool is_error_result(json_t *m)
{
	return json_is_true(json_object_get(json_object_get(m, "result"), "isError"));
}

/* ---- tests ----------------------------------------------------------- */

static void test_before_initialize(void **state)
{
	struct harness *h = harness_new(NULL);
	json_t *r;

	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
	r = wait_id(h, 1, 1000);
	assert_int_equal(error_code(r), RPC_INVALID_REQUEST);
	assert_non_null(strstr(error_msg(r), "not initialized"));
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"ping\"}");
	r = wait_id(h, 2, 1000);
	assert_true(json_is_object(json_object_get(r, "result")));
	json_decref(r);
	harness_free(h);
}

static void check_version(const char *asked, const char *answered, bool titles, bool annotations)
{
	struct harness *h = harness_new(NULL);
	char line[256];
	json_t *r, *res, *tools, *t0;

	snprintf(line, sizeof(line),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
		 "\"protocolVersion\":\"%s\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\","
		 "\"version\":\"1\"}}}",
		 asked);
	send_line(h, line);
	r = wait_id(h, 1, 1000);
	res = json_object_get(r, "result");
	assert_string_equal(json_string_value(json_object_get(res, "protocolVersion")), answered);
	assert_non_null(json_object_get(json_object_get(res, "capabilities"), "tools"));
	assert_non_null(json_object_get(json_object_get(res, "capabilities"), "logging"));
	assert_null(json_object_get(json_object_get(res, "capabilities"), "resources"));
	assert_string_equal(json_string_value(json_object_get(res, "instructions")), "be careful");
	assert_int_equal(json_object_get(json_object_get(res, "serverInfo"), "title") != NULL, titles);
	json_decref(r);

	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{\"cursor\":\"moat:2\"}}");
	r = wait_id(h, 2, 1000);
	tools = json_object_get(json_object_get(r, "result"), "tools");
	t0 = json_array_get(tools, 0);
	assert_string_equal(json_string_value(json_object_get(t0, "name")), "structured");
	assert_int_equal(json_object_get(t0, "title") != NULL, titles);
	assert_int_equal(json_object_get(t0, "outputSchema") != NULL, titles);
	assert_int_equal(json_object_get(t0, "annotations") != NULL, annotations);
	json_decref(r);

	r = call(h, 3, "structured", "{}");
	assert_false(is_error_result(r));
	assert_int_equal(json_object_get(json_object_get(r, "result"), "structuredContent") != NULL,
			 titles);
	assert_non_null(strstr(result_text(r), "42")); /* text mirror for older clients */
	json_decref(r);
	harness_free(h);
}

static void test_versions(void **state)
{
	check_version("2024-11-05", "2024-11-05", false, false);
	check_version("2025-03-26", "2025-03-26", false, true);
	check_version("2025-06-18", "2025-06-18", true, true);
	check_version("2025-11-25", "2025-11-25", true, true);
	check_version("1999-01-01", "2025-11-25", true, true);
}

static void test_initialize_rules(void **state)
{
	struct harness *h = harness_new(NULL);
	json_t *r;

	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{}}");
	r = wait_id(h, 1, 1000);
	assert_int_equal(error_code(r), RPC_INVALID_PARAMS);
	json_decref(r);
	init_with(h, "2025-06-18");
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"initialize\",\"params\":{"
		     "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\"}}}");
	r = wait_id(h, 2, 1000);
	assert_int_equal(error_code(r), RPC_INVALID_REQUEST);
	assert_non_null(strstr(error_msg(r), "already initialized"));
	json_decref(r);
	harness_free(h);
}

static void test_error_codes(void **state)
{
	struct harness *h = harness_new(NULL);
	json_t *r;

	init_with(h, "2025-11-25");
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":1,");
	r = last_msg(h);
	assert_int_equal(error_code(r), RPC_PARSE_ERROR);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 1); /* read by the scan */
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",");
	r = last_msg(h);
	assert_int_equal(error_code(r), RPC_PARSE_ERROR);
	assert_true(json_is_null(json_object_get(r, "id")));
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":2}");
	r = wait_id(h, 2, 1000);
	assert_int_equal(error_code(r), RPC_INVALID_REQUEST);
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/list\"}");
	r = wait_id(h, 3, 1000);
	assert_int_equal(error_code(r), RPC_METHOD_NOT_FOUND);
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"nope\"}}");
	r = wait_id(h, 4, 1000);
	assert_int_equal(error_code(r), RPC_INVALID_PARAMS);
	assert_non_null(strstr(error_msg(r), "unknown tool"));
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"quick\",\"arguments\":[]}}");
	r = wait_id(h, 5, 1000);
	assert_int_equal(error_code(r), RPC_INVALID_PARAMS);
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"logging/setLevel\",\"params\":{\"level\":\"loud\"}}");
	r = wait_id(h, 6, 1000);
	assert_int_equal(error_code(r), RPC_INVALID_PARAMS);
	json_decref(r);
	server_reject_oversized(h->srv, NULL, 0);
	r = last_msg(h);
	assert_int_equal(error_code(r), RPC_PARSE_ERROR);
	assert_non_null(strstr(error_msg(r), "limits.max_message_bytes"));
	json_decref(r);
	server_reject_oversized(h->srv, "{\"jsonrpc\":\"2.0\",\"id\":\"big\",\"params\":{\"a\":\"xx", 40);
	r = last_msg(h);
	assert_int_equal(error_code(r), RPC_PARSE_ERROR);
	assert_string_equal(json_string_value(json_object_get(r, "id")), "big");
	json_decref(r);
	/* NUL in a method, in params of another method, and in a tool's
	 * arguments: refused by name, with the id. */
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"ping\\u0000x\"}");
	r = wait_id(h, 7, 1000);
	assert_int_equal(error_code(r), RPC_INVALID_REQUEST);
	assert_non_null(strstr(error_msg(r), "NUL byte"));
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":8,\"method\":\"tools/list\",\"params\":{\"cursor\":\"a\\u0000\"}}");
	r = wait_id(h, 8, 1000);
	assert_int_equal(error_code(r), RPC_INVALID_PARAMS);
	assert_non_null(strstr(error_msg(r), "/params/cursor: contains a NUL byte"));
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"tools/call\",\"params\":{\"name\":\"quick\\u0000\"}}");
	r = wait_id(h, 9, 1000);
	assert_int_equal(error_code(r), RPC_INVALID_PARAMS);
	assert_non_null(strstr(error_msg(r), "/params/name: contains a NUL byte"));
	json_decref(r);
	harness_free(h);
}

static void test_batches(void **state)
{
	struct harness *h = harness_new(NULL);
	json_t *r;

	init_with(h, "2025-03-26");
	send_line(h, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"},"
		     "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"},"
		     "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"quick\"}}]");
	/* The batch answer arrives as one array once the tool call finished. */
	for (int i = 0; i < 200; i++) {
		r = last_msg(h);
		if (json_is_array(r))
			break;
		json_decref(r);
		r = NULL;
		struct timespec ts = {0, 5000000};
		nanosleep(&ts, NULL);
	}
	assert_true(json_is_array(r));
	assert_int_equal(json_array_size(r), 2);
	json_decref(r);
	send_line(h, "[]");
	r = last_msg(h);
	assert_int_equal(error_code(r), RPC_INVALID_REQUEST);
	json_decref(r);
	harness_free(h);

	h = harness_new(NULL);
	init_with(h, "2025-06-18");
	send_line(h, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]");
	r = last_msg(h);
	assert_int_equal(error_code(r), RPC_INVALID_REQUEST);
	assert_non_null(strstr(error_msg(r), "2025-03-26"));
	json_decref(r);
	harness_free(h);
}

static void test_pagination(void **state)
{
	struct harness *h = harness_new(NULL);
	json_t *r, *res;

	init_with(h, "2025-11-25");
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}");
	r = wait_id(h, 1, 1000);
	res = json_object_get(r, "result");
	assert_int_equal(json_array_size(json_object_get(res, "tools")), 2);
	assert_string_equal(json_string_value(json_object_get(res, "nextCursor")), "moat:2");
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\",\"params\":{\"cursor\":\"moat:2\"}}");
	r = wait_id(h, 2, 1000);
	res = json_object_get(r, "result");
	assert_int_equal(json_array_size(json_object_get(res, "tools")), 1);
	assert_null(json_object_get(res, "nextCursor"));
	json_decref(r);
	const char *bad[] = {"moat:3", "moat:0", "moat:02", "moat:-1", "moat:1x", "2", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char line[160];
		snprintf(line, sizeof(line),
			 "{\"jsonrpc\":\"2.0\",\"id\":%zu,\"method\":\"tools/list\",\"params\":{\"cursor\":\"%s\"}}",
			 10 + i, bad[i]);
		send_line(h, line);
		r = wait_id(h, (json_int_t)(10 + i), 1000);
		assert_int_equal(error_code(r), RPC_INVALID_PARAMS);
		json_decref(r);
	}
	harness_free(h);
}

static void test_invalid_arguments(void **state)
{
	struct harness *h = harness_new(NULL);
	json_t *r;

	init_with(h, "2025-11-25");
	r = call(h, 1, "quick", "{\"s\":\"toolong-SECRET\"}");
	assert_true(is_error_result(r));
	assert_non_null(strstr(result_text(r), "invalid arguments: /s: maxLength"));
	assert_null(strstr(result_text(r), "SECRET"));
	json_decref(r);
	r = call(h, 2, "quick", "{\"zzz\":1}");
	assert_true(is_error_result(r));
	assert_non_null(strstr(result_text(r), "additionalProperties"));
	json_decref(r);
	r = call(h, 5, "quick", "{\"s\":\"a\\u0000b\"}");
	assert_true(is_error_result(r));
	assert_non_null(strstr(result_text(r), "invalid arguments: /s: contains a NUL byte"));
	json_decref(r);
	r = call(h, 3, "quick", "{\"s\":\"ok\"}");
	assert_false(is_error_result(r));
	assert_string_equal(result_text(r), "quick");
	json_decref(r);
	/* An inline_ok tool has answered by the time server_handle returns. */
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"quick\"}}");
	r = last_msg(h);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), 4);
	json_decref(r);
	harness_free(h);
}

static void rate3(struct limits *l)
{
	l->calls_per_minute = 3;
}

static void test_rate_limit(void **state)
{
	struct harness *h = harness_new(rate3);
	json_t *r;

	init_with(h, "2025-11-25");
	for (json_int_t i = 1; i <= 3; i++) {
		r = call(h, i, "quick", "{}");
		assert_false(is_error_result(r));
		json_decref(r);
	}
	r = call(h, 4, "quick", "{}");
	assert_true(is_error_result(r));
	assert_non_null(strstr(result_text(r), "limits.calls_per_minute"));
	json_decref(r);
	harness_free(h);
}

static void one_at_a_time(struct limits *l)
{
	l->max_concurrent_calls = 1;
}

static void test_concurrency_and_cancel(void **state)
{
	struct harness *h = harness_new(one_at_a_time);
	json_t *r;

	init_with(h, "2025-11-25");
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"sleepy\","
		     "\"_meta\":{\"progressToken\":\"tok\"}}}");
	r = call(h, 2, "quick", "{}");
	assert_true(is_error_result(r));
	assert_non_null(strstr(result_text(r), "limits.max_concurrent_calls"));
	json_decref(r);
	/* The slow call is running once its first progress notification is out. */
	bool progress = false;
	size_t i;
	json_t *m;
	for (int tries = 0; tries < 200 && !progress; tries++) {
		struct timespec ts = {0, 5000000};
		pthread_mutex_lock(&h->lock);
		json_array_foreach(h->out, i, m) {
			json_t *p = json_object_get(m, "params");
			json_t *meth = json_object_get(m, "method");
			if (json_is_string(meth) &&
			    strcmp(json_string_value(meth), "notifications/progress") == 0 &&
			    strcmp(json_string_value(json_object_get(p, "progressToken")), "tok") == 0)
				progress = true;
		}
		pthread_mutex_unlock(&h->lock);
		if (!progress)
			nanosleep(&ts, NULL);
	}
	assert_true(progress);
	/* ping is answered while the slow call runs */
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"ping\"}");
	r = wait_id(h, 3, 500);
	assert_non_null(r);
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{\"requestId\":1}}");
	/* No response for the cancelled id, and the slot frees up. */
	r = wait_id(h, 1, 300);
	assert_null(r);
	for (int n = 0; n < 100; n++) {
		r = call(h, 100 + n, "quick", "{}");
		bool ok = !is_error_result(r);
		json_decref(r);
		if (ok)
			break;
		assert_true(n < 99);
	}
	harness_free(h);
}

static void short_deadline(struct limits *l)
{
	l->call_timeout_ms = 50;
}

static void test_deadline(void **state)
{
	struct harness *h = harness_new(short_deadline);
	json_t *r;

	init_with(h, "2025-11-25");
	r = call(h, 1, "sleepy", "{}");
	assert_true(is_error_result(r));
	assert_non_null(strstr(result_text(r), "limits.call_timeout_ms"));
	json_decref(r);
	harness_free(h);
}

static void test_shutdown_answers_in_flight(void **state)
{
	struct harness *h = harness_new(NULL);
	json_t *r;

	init_with(h, "2025-11-25");
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"sleepy\"}}");
	struct timespec ts = {0, 20000000};
	nanosleep(&ts, NULL);
	assert_true(server_shutdown(h->srv, 0, 1000));
	r = wait_id(h, 1, 100);
	assert_true(is_error_result(r));
	assert_non_null(strstr(result_text(r), "cancelled"));
	json_decref(r);
	server_free(h->srv);
	h->srv = NULL;
	registry_free(h->reg);
	json_decref(h->out);
	free(h);
}

/* ---- resources and client roots ------------------------------------ */

static enum moat_rc fake_list(void *data, struct call_ctx *ctx, const char *cursor,
			      size_t page_size, json_t **out, struct moat_err *err)
{
	if (cursor)
		return moat_err_set(err, MOAT_EINVAL, "unknown cursor");
	*out = json_pack("{s:[{s:s, s:s}]}", "resources", "uri", "file:///r/a.txt", "name", "a.txt");
	return MOAT_OK;
}

static enum moat_rc fake_read(void *data, struct call_ctx *ctx, const char *uri, json_t **out,
			      struct moat_err *err)
{
	if (strcmp(uri, "file:///r/a.txt") != 0)
		return moat_err_set(err, MOAT_ENOTFOUND, "no such resource");
	*out = json_pack("{s:[{s:s, s:s}]}", "contents", "uri", uri, "text", "hello");
	return MOAT_OK;
}

static json_t *fake_templates(void *data)
{
	return json_pack("[{s:s, s:s}]", "uriTemplate", "file:///{path}", "name", "file");
}

static json_t *seen_roots;

static void roots_hook(void *data, const json_t *roots)
{
	json_decref(seen_roots);
	seen_roots = json_deep_copy(roots);
}

static void test_resources(void **state)
{
	struct harness *h = harness_new(NULL);
	struct resource_ops ops = {.scheme = "file", .list = fake_list, .read = fake_read, .templates = fake_templates};
	struct moat_err err = {0};
	json_t *r;

	assert_int_equal(registry_add_resources(h->reg, &ops, &err), MOAT_OK);
	assert_int_equal(registry_add_resources(h->reg, &ops, &err), MOAT_EINVAL);
	init_with(h, "2025-06-18");
	r = last_msg(h);
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/list\"}");
	r = wait_id(h, 1, 1000);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(
				    json_object_get(r, "result"), "resources"), 0), "uri")),
			    "file:///r/a.txt");
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"resources/read\",\"params\":{\"uri\":\"file:///r/a.txt\"}}");
	r = wait_id(h, 2, 1000);
	assert_non_null(json_object_get(json_object_get(r, "result"), "contents"));
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"resources/read\",\"params\":{\"uri\":\"file:///nope\"}}");
	r = wait_id(h, 3, 1000);
	assert_int_equal(error_code(r), -32002);
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"resources/read\",\"params\":{}}");
	r = wait_id(h, 4, 1000);
	assert_int_equal(error_code(r), RPC_INVALID_PARAMS);
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"resources/list\",\"params\":{\"cursor\":\"x\"}}");
	r = wait_id(h, 5, 1000);
	assert_int_equal(error_code(r), RPC_INVALID_PARAMS);
	json_decref(r);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"resources/templates/list\"}");
	r = wait_id(h, 6, 1000);
	assert_int_equal(json_array_size(json_object_get(json_object_get(r, "result"), "resourceTemplates")), 1);
	json_decref(r);
	harness_free(h);
}

static void test_resources_capability(void **state)
{
	struct harness *h = harness_new(NULL);
	struct resource_ops ops = {.scheme = "file", .list = fake_list, .read = fake_read};
	struct moat_err err = {0};
	json_t *r;

	/* Without a resource provider there is no capability... */
	init_with(h, "2025-11-25");
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"resources/list\"}");
	r = wait_id(h, 1, 1000);
	assert_int_equal(error_code(r), RPC_METHOD_NOT_FOUND);
	json_decref(r);
	harness_free(h);
	/* ...and with one, initialize announces it. */
	h = harness_new(NULL);
	assert_int_equal(registry_add_resources(h->reg, &ops, &err), MOAT_OK);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":9,\"method\":\"initialize\",\"params\":{"
		     "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":\"t\"}}}");
	r = wait_id(h, 9, 1000);
	assert_non_null(json_object_get(json_object_get(json_object_get(r, "result"), "capabilities"),
					"resources"));
	json_decref(r);
	harness_free(h);
}

static void test_fast_path(void **state)
{
	struct harness *h = harness_new(NULL);
	struct moat_err err = {0};
	json_t *ins = json_loads("{\"type\":\"object\"}", 0, NULL);
	struct tool_spec spec = {.name = "cached", .description = "fast path test",
				 .input_schema = ins, .fast = fast_path, .handler = slow_path};
	json_t *r;

	(void)state;
	assert_int_equal(registry_add(h->reg, &spec, &err), MOAT_OK);
	json_decref(ins);
	init_with(h, "2025-06-18");
	r = call(h, 1, "cached", "{\"hit\":true}");
	assert_string_equal(result_text(r), "fast");
	json_decref(r);
	r = call(h, 2, "cached", "{\"hit\":false}");
	assert_string_equal(result_text(r), "handler");
	json_decref(r);
	r = call(h, 3, "cached", "{\"deny\":true}");
	assert_true(is_error_result(r));
	assert_non_null(strstr(result_text(r), "refused by the fast path"));
	json_decref(r);
	harness_free(h);
}

static void test_client_roots(void **state)
{
	struct harness *h = harness_new(NULL);
	json_t *r;

	registry_set_roots_hook(h->reg, roots_hook, NULL);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
		     "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{\"roots\":{}},"
		     "\"clientInfo\":{\"name\":\"t\"}}}");
	json_decref(wait_id(h, 1, 1000));
	send_line(h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
	r = last_msg(h);
	assert_string_equal(json_string_value(json_object_get(r, "method")), "roots/list");
	assert_string_equal(json_string_value(json_object_get(r, "id")), "moat-roots-1");
	json_decref(r);
	/* A changed list asks again; the answer to the stale request is ignored. */
	send_line(h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/roots/list_changed\"}");
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":\"moat-roots-1\",\"result\":{\"roots\":[{\"uri\":\"file:///old\"}]}}");
	assert_null(seen_roots);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":\"moat-roots-2\",\"result\":{\"roots\":[{\"uri\":\"file:///new\"}]}}");
	assert_non_null(seen_roots);
	assert_string_equal(json_string_value(json_object_get(json_array_get(seen_roots, 0), "uri")),
			    "file:///new");
	/* An error answer keeps what we had and is never answered back. */
	size_t before = json_array_size(h->out);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"id\":\"moat-roots-2\",\"error\":{\"code\":-1,\"message\":\"no\"}}");
	assert_int_equal(json_array_size(h->out), before);
	json_decref(seen_roots);
	seen_roots = NULL;
	harness_free(h);

	/* A client without the roots capability is never asked. */
	h = harness_new(NULL);
	registry_set_roots_hook(h->reg, roots_hook, NULL);
	init_with(h, "2025-06-18");
	before = json_array_size(h->out);
	send_line(h, "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}");
	assert_int_equal(json_array_size(h->out), before);
	harness_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_before_initialize),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_initialize_rules),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_batches),
		cmocka_unit_test(test_pagination),
		cmocka_unit_test(test_invalid_arguments),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_concurrency_and_cancel),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_shutdown_answers_in_flight),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_resources_capability),
		cmocka_unit_test(test_client_roots),
		cmocka_unit_test(test_fast_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
