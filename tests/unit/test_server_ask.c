/*
 * test_server_ask.c - unit tests for asking the client, driven through
 * server_handle_from() without a transport: in the initialize era a tool's
 * ask goes to the client as a request on the call's route and its answer
 * (or error) comes back to the tool; in the stateless era the call ends
 * with input_required and a sealed requestState, and the retry with the
 * answers completes it; a tampered, other-principal or other-arguments
 * state is a -32602 naming the rule; a client without the capability gets
 * -32021 (stateless) or an isError result; a tool marked confirm runs only
 * after an explicit accept; logs follow the client's level.
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
#include "principal.h"
#include "seal.h"
#include "server.h"
#include "store.h"

#define LOG_MAX 128

struct sent {
	void *route;
	bool final;
	json_t *msg;
};

struct rig {
	pthread_mutex_t lock;
	pthread_cond_t cv;
	struct sent log[LOG_MAX];
	size_t n;
	struct registry *reg;
	struct server *srv;
};

static int g_runs; /* times the confirm-marked tool's handler ran */

static void capture(void *ctx, void *route, const char *buf, size_t len, bool final)
{
	struct rig *r = ctx;

	pthread_mutex_lock(&r->lock);
	assert_true(r->n < LOG_MAX);
	r->log[r->n].route = route;
	r->log[r->n].final = final;
	r->log[r->n].msg = len ? json_loadb(buf, len, JSON_DECODE_ANY, NULL) : NULL;
	r->n++;
	pthread_cond_broadcast(&r->cv);
	pthread_mutex_unlock(&r->lock);
}

/* Asks for a name, then greets; logs at info and debug. */
static enum moat_rc greet(struct call_ctx *ctx, void *data, json_t *args, struct tool_result *out,
			  struct moat_err *err)
{
	const json_t *ans;
	enum moat_rc rc;
	char text[128];

	(void)data;
	(void)args;
	callctx_log(ctx, "info", "greet", json_string("asking"));
	callctx_log(ctx, "debug", "greet", json_string("detail"));
	rc = callctx_ask(ctx, "user_name", "elicitation/create",
			 json_pack("{s:s, s:{s:s}}", "message", "name?", "requestedSchema", "type",
				   "object"),
			 &ans, err);
	if (rc)
		return rc;
	if (!callctx_state(ctx))
		callctx_set_state(ctx, json_string("kept"));
	snprintf(text, sizeof(text), "Hello, %s!",
		 json_string_value(json_object_get(json_object_get(ans, "content"), "name")));
	return tool_result_text(out, text);
}

static enum moat_rc writer(struct call_ctx *ctx, void *data, json_t *args, struct tool_result *out,
			   struct moat_err *err)
{
	(void)ctx;
	(void)data;
	(void)args;
	(void)err;
	g_runs++;
	return tool_result_text(out, "written");
}

static void add(struct registry *reg, const char *name, tool_handler_fn fn, bool ro)
{
	struct moat_err err = {0};
	json_t *in = json_pack("{s:s}", "type", "object");
	struct tool_spec spec = {.name = name, .description = "t", .input_schema = in,
				 .annotations = {.read_only = ro ? HINT_TRUE : HINT_FALSE},
				 .handler = fn};

	assert_int_equal(registry_add(reg, &spec, &err), MOAT_OK);
	json_decref(in);
}

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof(*r));
	struct server_opts o = {.name = "moat", .version = "1", .no_log_forward = true,
				.no_client_roots = true};
	struct moat_err err = {0};

	limits_defaults(&o.limits);
	o.limits.call_timeout_ms = 3000;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->reg = registry_new(0);
	add(r->reg, "greet", greet, true);
	add(r->reg, "write_thing", writer, false);
	assert_int_equal(registry_set_confirm(r->reg, "write_thing", &err), MOAT_OK);
	r->srv = server_new(&o, r->reg, capture, r);
	assert_non_null(r->srv);
	g_runs = 0;
	return r;
}

static void rig_free(struct rig *r)
{
	assert_true(server_shutdown(r->srv, 0, 3000));
	server_free(r->srv);
	registry_free(r->reg);
	for (size_t i = 0; i < r->n; i++)
		json_decref(r->log[i].msg);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static void from(struct rig *r, const struct principal *who, void *route, const char *text)
{
	struct server_origin o = {.who = who, .route = route};

	server_handle_from(r->srv, text, strlen(text), &o);
}

static void from_json(struct rig *r, const struct principal *who, void *route, json_t *msg)
{
	char *text = json_dumps(msg, JSON_COMPACT);

	assert_non_null(text);
	from(r, who, route, text);
	free(text);
	json_decref(msg);
}

/* Wait (up to 3 s) until route has at least k entries, the last of them
 * final when want_final; return the k-th (1-based) entry's message. */
static json_t *wait_nth(struct rig *r, void *route, size_t k, bool want_final)
{
	struct timespec ts;
	json_t *got = NULL;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 3;
	pthread_mutex_lock(&r->lock);
	for (;;) {
		size_t seen = 0;
		for (size_t i = 0; i < r->n; i++) {
			if (r->log[i].route != route)
				continue;
			if (++seen == k) {
				if (!want_final || r->log[i].final)
					got = r->log[i].msg;
				break;
			}
		}
		if (got || pthread_cond_timedwait(&r->cv, &r->lock, &ts) != 0)
			break;
	}
	pthread_mutex_unlock(&r->lock);
	assert_non_null(got);
	return got;
}

static size_t count_on(struct rig *r, void *route)
{
	size_t k = 0;

	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->n; i++)
		if (r->log[i].route == route)
			k++;
	pthread_mutex_unlock(&r->lock);
	return k;
}

static void init(struct rig *r, const char *caps)
{
	char line[512];

	snprintf(line, sizeof(line),
		 "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
		 "\"protocolVersion\":\"2025-11-25\",\"capabilities\":%s,\"clientInfo\":{\"name\":"
		 "\"t\",\"version\":\"1\"}}}",
		 caps);
	from(r, NULL, (void *)0x1, line);
	assert_non_null(json_object_get(wait_nth(r, (void *)0x1, 1, true), "result"));
}

static const char *text_of(const json_t *msg)
{
	return json_string_value(json_object_get(
		json_array_get(json_object_get(json_object_get(msg, "result"), "content"), 0),
		"text"));
}

static bool is_error_result(const json_t *msg)
{
	return json_is_true(json_object_get(json_object_get(msg, "result"), "isError"));
}

/* ---- initialize era ---------------------------------------------------- */

static void test_old_era_ask(void **state)
{
	struct rig *r = rig_new();
	json_t *req, *fin;

	(void)state;
	init(r, "{\"elicitation\":{}}");
	from(r, NULL, (void *)0x2,
	     "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"logging/setLevel\",\"params\":{\"level\":"
	     "\"info\"}}");
	wait_nth(r, (void *)0x2, 1, true);
	from(r, NULL, (void *)0x3,
	     "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"greet\"}}");
	/* The info log (not the debug one), then the request, on the route. */
	req = wait_nth(r, (void *)0x3, 1, false);
	assert_string_equal(json_string_value(json_object_get(req, "method")), "notifications/message");
	assert_string_equal(json_string_value(json_object_get(json_object_get(req, "params"), "level")),
			    "info");
	req = wait_nth(r, (void *)0x3, 2, false);
	assert_string_equal(json_string_value(json_object_get(req, "method")), "elicitation/create");
	const char *id = json_string_value(json_object_get(req, "id"));
	assert_non_null(id);
	assert_int_equal(strncmp(id, "moat-ask-", 9), 0);
	from_json(r, NULL, (void *)0x4,
		  json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}", "jsonrpc", "2.0", "id", id, "result",
			    "action", "accept", "content", "name", "Ada"));
	fin = wait_nth(r, (void *)0x3, 3, true);
	assert_string_equal(text_of(fin), "Hello, Ada!");
	assert_int_equal(count_on(r, (void *)0x3), 3);
	rig_free(r);
}

static void test_old_era_error_and_nocap(void **state)
{
	struct rig *r = rig_new();
	json_t *req, *fin;

	(void)state;
	init(r, "{\"elicitation\":{}}");
	from(r, NULL, (void *)0x3,
	     "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"greet\"}}");
	req = wait_nth(r, (void *)0x3, 1, false);
	const char *id = json_string_value(json_object_get(req, "id"));
	from_json(r, NULL, (void *)0x4,
		  json_pack("{s:s, s:s, s:{s:i, s:s}}", "jsonrpc", "2.0", "id", id, "error", "code",
			    -1, "message", "user went away"));
	fin = wait_nth(r, (void *)0x3, 2, true);
	assert_true(is_error_result(fin));
	assert_non_null(strstr(text_of(fin), "user went away"));
	rig_free(r);

	/* No elicitation capability: an isError result, nothing asked. */
	r = rig_new();
	init(r, "{}");
	from(r, NULL, (void *)0x5,
	     "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":\"greet\"}}");
	fin = wait_nth(r, (void *)0x5, 1, true);
	assert_true(is_error_result(fin));
	assert_non_null(strstr(text_of(fin), "elicitation"));
	/* The confirm-marked tool: confirm.unavailable, the handler never ran. */
	from(r, NULL, (void *)0x6,
	     "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"tools/call\",\"params\":{\"name\":"
	     "\"write_thing\"}}");
	fin = wait_nth(r, (void *)0x6, 1, true);
	assert_true(is_error_result(fin));
	assert_int_equal(g_runs, 0);
	rig_free(r);
}

static void test_old_era_confirm(void **state)
{
	struct rig *r = rig_new();
	json_t *req, *fin;
	const char *id;

	(void)state;
	init(r, "{\"elicitation\":{}}");
	/* Declined. */
	from(r, NULL, (void *)0x3,
	     "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":"
	     "\"write_thing\",\"arguments\":{}}}");
	req = wait_nth(r, (void *)0x3, 1, false);
	id = json_string_value(json_object_get(req, "id"));
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(req, "params"),
								 "message")),
			       "write_thing"));
	from_json(r, NULL, (void *)0x4,
		  json_pack("{s:s, s:s, s:{s:s}}", "jsonrpc", "2.0", "id", id, "result", "action",
			    "decline"));
	fin = wait_nth(r, (void *)0x3, 2, true);
	assert_true(is_error_result(fin));
	assert_int_equal(g_runs, 0);
	/* Accepted without the box: still no. */
	from(r, NULL, (void *)0x5,
	     "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"tools/call\",\"params\":{\"name\":"
	     "\"write_thing\"}}");
	id = json_string_value(json_object_get(wait_nth(r, (void *)0x5, 1, false), "id"));
	from_json(r, NULL, (void *)0x6,
		  json_pack("{s:s, s:s, s:{s:s, s:{s:b}}}", "jsonrpc", "2.0", "id", id, "result",
			    "action", "accept", "content", "confirm", 0));
	assert_true(is_error_result(wait_nth(r, (void *)0x5, 2, true)));
	assert_int_equal(g_runs, 0);
	/* Accepted. */
	from(r, NULL, (void *)0x7,
	     "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"tools/call\",\"params\":{\"name\":"
	     "\"write_thing\"}}");
	id = json_string_value(json_object_get(wait_nth(r, (void *)0x7, 1, false), "id"));
	from_json(r, NULL, (void *)0x8,
		  json_pack("{s:s, s:s, s:{s:s, s:{s:b}}}", "jsonrpc", "2.0", "id", id, "result",
			    "action", "accept", "content", "confirm", 1));
	fin = wait_nth(r, (void *)0x7, 2, true);
	assert_false(is_error_result(fin));
	assert_int_equal(g_runs, 1);
	rig_free(r);
}

/* ---- stateless era ----------------------------------------------------- */

static json_t *stateless_call(const char *tool, const char *caps, json_t *extra)
{
	json_t *params = json_pack("{s:s, s:{}, s:{s:s, s:o}}", "name", tool, "arguments", "_meta",
				   "io.modelcontextprotocol/protocolVersion", "2026-07-28",
				   "io.modelcontextprotocol/clientCapabilities",
				   json_loads(caps, 0, NULL));

	if (extra) {
		json_object_update(params, extra);
		json_decref(extra);
	}
	return json_pack("{s:s, s:i, s:s, s:o}", "jsonrpc", "2.0", "id", 9, "method", "tools/call",
			 "params", params);
}

static void test_stateless_rounds(void **state)
{
	struct rig *r = rig_new();
	struct principal bob = {.name = "bob"};
	json_t *res, *fin;
	char *st;

	(void)state;
	from_json(r, NULL, (void *)0x10, stateless_call("greet", "{\"elicitation\":{}}", NULL));
	fin = wait_nth(r, (void *)0x10, 1, true); /* no log: no logLevel in _meta */
	res = json_object_get(fin, "result");
	assert_string_equal(json_string_value(json_object_get(res, "resultType")), "input_required");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(res, "inputRequests"), "user_name"),
				    "method")),
			    "elicitation/create");
	st = strdup(json_string_value(json_object_get(res, "requestState")));
	assert_non_null(st);
	/* The retry with the answer completes. */
	from_json(r, NULL, (void *)0x11,
		  stateless_call("greet", "{\"elicitation\":{}}",
				 json_pack("{s:{s:{s:s, s:{s:s}}}, s:s}", "inputResponses",
					   "user_name", "action", "accept", "content", "name", "Bo",
					   "requestState", st)));
	fin = wait_nth(r, (void *)0x11, 1, true);
	assert_string_equal(text_of(fin), "Hello, Bo!");
	assert_string_equal(json_string_value(json_object_get(json_object_get(fin, "result"),
							      "resultType")),
			    "complete");
	/* Another principal, another tool, a tampered state: -32602. */
	json_t *again = stateless_call("greet", "{\"elicitation\":{}}",
				       json_pack("{s:s}", "requestState", st));
	from_json(r, &bob, (void *)0x12, json_incref(again));
	fin = wait_nth(r, (void *)0x12, 1, true);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(fin, "error"), "code")),
			 RPC_INVALID_PARAMS);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(fin, "error"), "data"), "rule")),
			    "state.wrong_principal");
	json_decref(again);
	from_json(r, NULL, (void *)0x13,
		  stateless_call("write_thing", "{\"elicitation\":{}}",
				 json_pack("{s:s}", "requestState", st)));
	fin = wait_nth(r, (void *)0x13, 1, true);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(fin, "error"), "data"), "rule")),
			    "state.wrong_tool");
	st[5] = st[5] == 'A' ? 'B' : 'A';
	from_json(r, NULL, (void *)0x14,
		  stateless_call("greet", "{\"elicitation\":{}}",
				 json_pack("{s:s}", "requestState", st)));
	fin = wait_nth(r, (void *)0x14, 1, true);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(fin, "error"), "data"), "rule")),
			    "state.tampered");
	free(st);
	/* Without the capability: -32021 naming it. */
	from_json(r, NULL, (void *)0x15, stateless_call("greet", "{}", NULL));
	fin = wait_nth(r, (void *)0x15, 1, true);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(fin, "error"), "code")),
			 -32021);
	assert_non_null(json_object_get(json_object_get(json_object_get(json_object_get(fin, "error"),
									"data"),
							"requiredCapabilities"),
					"elicitation"));
	rig_free(r);
}

static void test_stateless_confirm(void **state)
{
	struct rig *r = rig_new();
	json_t *fin, *accept;
	char *st;

	(void)state;
	accept = json_pack("{s:{s:s, s:{s:b}}}", "moat_confirm", "action", "accept", "content",
			   "confirm", 1);
	/* A forged answer without a state: asked again, not run. */
	from_json(r, NULL, (void *)0x20,
		  stateless_call("write_thing", "{\"elicitation\":{}}",
				 json_pack("{s:O}", "inputResponses", accept)));
	fin = wait_nth(r, (void *)0x20, 1, true);
	assert_string_equal(json_string_value(json_object_get(json_object_get(fin, "result"),
							      "resultType")),
			    "input_required");
	assert_int_equal(g_runs, 0);
	st = strdup(json_string_value(json_object_get(json_object_get(fin, "result"),
						      "requestState")));
	/* Declined with the state: not run. */
	from_json(r, NULL, (void *)0x21,
		  stateless_call("write_thing", "{\"elicitation\":{}}",
				 json_pack("{s:{s:{s:s}}, s:s}", "inputResponses", "moat_confirm",
					   "action", "decline", "requestState", st)));
	assert_true(is_error_result(wait_nth(r, (void *)0x21, 1, true)));
	assert_int_equal(g_runs, 0);
	/* Without elicitation: -32021, not run. */
	from_json(r, NULL, (void *)0x22, stateless_call("write_thing", "{}", NULL));
	fin = wait_nth(r, (void *)0x22, 1, true);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(fin, "error"), "code")),
			 -32021);
	assert_int_equal(g_runs, 0);
	/* Accepted with the state: run once. */
	from_json(r, NULL, (void *)0x23,
		  stateless_call("write_thing", "{\"elicitation\":{}}",
				 json_pack("{s:O, s:s}", "inputResponses", accept, "requestState",
					   st)));
	fin = wait_nth(r, (void *)0x23, 1, true);
	assert_false(is_error_result(fin));
	assert_string_equal(text_of(fin), "written");
	assert_int_equal(g_runs, 1);
	/* The same state again: spent, refused, not run again. */
	from_json(r, NULL, (void *)0x24,
		  stateless_call("write_thing", "{\"elicitation\":{}}",
				 json_pack("{s:O, s:s}", "inputResponses", accept, "requestState",
					   st)));
	fin = wait_nth(r, (void *)0x24, 1, true);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(fin, "error"), "data"), "rule")),
			    "state.replayed");
	assert_int_equal(g_runs, 1);
	free(st);
	json_decref(accept);
	rig_free(r);
}

/* ---- a shared store: spent confirmations across replicas --------------- */

/* The marks of a store other replicas share; down: it does not answer. */
static struct {
	char ids[64][128];
	size_t n;
	bool down;
} g_fs;

static enum store_rc fs_mark(void *ctx, const char *kind, const char *id, uint32_t ttl_s)
{
	char key[128];

	(void)ctx;
	assert_true(ttl_s > 0 && ttl_s <= 600);
	if (g_fs.down)
		return STORE_DOWN;
	snprintf(key, sizeof(key), "%s:%s", kind, id);
	for (size_t i = 0; i < g_fs.n; i++)
		if (strcmp(g_fs.ids[i], key) == 0)
			return STORE_EMPTY;
	assert_true(g_fs.n < 64);
	snprintf(g_fs.ids[g_fs.n++], sizeof(g_fs.ids[0]), "%s", key);
	return STORE_OK;
}

static enum store_rc fs_marked(void *ctx, const char *kind, const char *id)
{
	char key[128];

	(void)ctx;
	if (g_fs.down)
		return STORE_DOWN;
	snprintf(key, sizeof(key), "%s:%s", kind, id);
	for (size_t i = 0; i < g_fs.n; i++)
		if (strcmp(g_fs.ids[i], key) == 0)
			return STORE_OK;
	return STORE_EMPTY;
}

static const struct store_ops fs_ops = {.mark = fs_mark, .marked = fs_marked};

/* A confirmed state asked for write_thing on route (input_required),
 * returned (the caller frees it). */
static char *confirm_state(struct rig *r, void *route)
{
	json_t *fin;

	from_json(r, NULL, route, stateless_call("write_thing", "{\"elicitation\":{}}", NULL));
	fin = wait_nth(r, route, 1, true);
	assert_string_equal(json_string_value(json_object_get(json_object_get(fin, "result"),
							      "resultType")),
			    "input_required");
	return strdup(json_string_value(json_object_get(json_object_get(fin, "result"),
							 "requestState")));
}

static const char *rule_of(const json_t *msg)
{
	return json_string_value(
		json_object_get(json_object_get(json_object_get(msg, "error"), "data"), "rule"));
}

static void test_stateless_confirm_shared(void **state)
{
	struct rig *r = rig_new();
	json_t *accept, *fin;
	char *st, *st2, id[33], key[128];

	(void)state;
	memset(&g_fs, 0, sizeof(g_fs));
	store_install(&fs_ops, NULL, STORE_FALLBACK_AUTO);
	accept = json_pack("{s:{s:s, s:{s:b}}}", "moat_confirm", "action", "accept", "content",
			   "confirm", 1);
	/* Spent on another replica (its mark is in the store, not here):
	 * refused, not run. */
	st = confirm_state(r, (void *)0x40);
	seal_id(st, id);
	snprintf(g_fs.ids[g_fs.n++], sizeof(g_fs.ids[0]), "confirm:%s", id);
	from_json(r, NULL, (void *)0x41,
		  stateless_call("write_thing", "{\"elicitation\":{}}",
				 json_pack("{s:O, s:s}", "inputResponses", accept, "requestState",
					   st)));
	fin = wait_nth(r, (void *)0x41, 1, true);
	assert_string_equal(rule_of(fin), "state.replayed");
	assert_int_equal(g_runs, 0);
	/* The store down: refused with its own rule, not run, nothing marked;
	 * once it answers, the same state is used once. */
	st2 = confirm_state(r, (void *)0x42);
	seal_id(st2, id);
	snprintf(key, sizeof(key), "confirm:%s", id);
	g_fs.down = true;
	from_json(r, NULL, (void *)0x43,
		  stateless_call("write_thing", "{\"elicitation\":{}}",
				 json_pack("{s:O, s:s}", "inputResponses", accept, "requestState",
					   st2)));
	fin = wait_nth(r, (void *)0x43, 1, true);
	/* An isError result (the rule, confirm.store_unavailable, is the
	 * audit record's). */
	assert_true(is_error_result(fin));
	assert_non_null(strstr(text_of(fin), "shared store cannot tell"));
	assert_int_equal(g_runs, 0);
	g_fs.down = false;
	for (size_t i = 0; i < g_fs.n; i++)
		assert_string_not_equal(g_fs.ids[i], key);
	from_json(r, NULL, (void *)0x44,
		  stateless_call("write_thing", "{\"elicitation\":{}}",
				 json_pack("{s:O, s:s}", "inputResponses", accept, "requestState",
					   st2)));
	fin = wait_nth(r, (void *)0x44, 1, true);
	assert_string_equal(text_of(fin), "written");
	assert_int_equal(g_runs, 1);
	assert_string_equal(g_fs.ids[g_fs.n - 1], key); /* the store now knows */
	store_install(NULL, NULL, STORE_FALLBACK_AUTO);
	free(st);
	free(st2);
	json_decref(accept);
	rig_free(r);
}

static void test_stateless_malformed(void **state)
{
	struct rig *r = rig_new();
	json_t *fin;

	(void)state;
	/* inputResponses null: -32602; a number for a response: asked again. */
	from_json(r, NULL, (void *)0x30,
		  stateless_call("greet", "{\"elicitation\":{}}",
				 json_pack("{s:n}", "inputResponses")));
	fin = wait_nth(r, (void *)0x30, 1, true);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(fin, "error"), "code")),
			 RPC_INVALID_PARAMS);
	from_json(r, NULL, (void *)0x31,
		  stateless_call("greet", "{\"elicitation\":{}}",
				 json_pack("{s:{s:i}}", "inputResponses", "user_name", 12345)));
	fin = wait_nth(r, (void *)0x31, 1, true);
	assert_string_equal(json_string_value(json_object_get(json_object_get(fin, "result"),
							      "resultType")),
			    "input_required");
	from_json(r, NULL, (void *)0x32,
		  stateless_call("greet", "{\"elicitation\":{}}",
				 json_pack("{s:i}", "requestState", 3)));
	fin = wait_nth(r, (void *)0x32, 1, true);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(fin, "error"), "data"), "rule")),
			    "state.malformed");
	rig_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_old_era_ask),
		cmocka_unit_test(test_old_era_error_and_nocap),
		cmocka_unit_test(test_old_era_confirm),
		cmocka_unit_test(test_stateless_rounds),
		cmocka_unit_test(test_stateless_confirm),
		cmocka_unit_test(test_stateless_confirm_shared),
		cmocka_unit_test(test_stateless_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
