/*
 * testing_mrtr.c - the test_input_required_result_* tools of the official
 * conformance suite (SEP-2322, multi-round tool results; test build only,
 * {"testing": {"conformance": true}}).
 *
 * Each asks the client through callctx_ask and keeps what it must carry
 * between rounds with callctx_set_state, so the core does the protocol:
 * in the 2026-07-28 era the first round answers input_required with the
 * queued requests and a sealed requestState, and the client's retry runs
 * the handler again with the answers; in the initialize era the same
 * handler asks by real requests and finishes in one round. A handler here
 * is deterministic up to its asks, as callctx_ask requires. Keys and texts
 * follow the scenarios (src/scenarios/server/input-required-result.ts).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testing.h"

/* Shared requests. */
#define NAME_SCHEMA                                                                           \
	"{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}},\"required\":["    \
	"\"name\"]}"
#define OK_SCHEMA                                                                             \
	"{\"type\":\"object\",\"properties\":{\"ok\":{\"type\":\"boolean\"}},\"required\":["     \
	"\"ok\"]}"

/* mrtr_elicit - ask elicitation/create {message, schema (JSON text)}. */
static enum moat_rc mrtr_elicit(struct call_ctx *ctx, const char *key, const char *message,
				const char *schema, const json_t **answer, struct moat_err *err)
{
	json_t *s = json_loads(schema, 0, NULL);

	if (!s)
		return moat_err_set(err, MOAT_EINTERNAL, "bad elicitation schema for %s", key);
	return callctx_ask(ctx, key, "elicitation/create",
			   json_pack("{s:s, s:o}", "message", message, "requestedSchema", s), answer,
			   err);
}

/* mrtr_sample - ask sampling/createMessage with one user message. */
static enum moat_rc mrtr_sample(struct call_ctx *ctx, const char *key, const char *text,
				int max_tokens, const json_t **answer, struct moat_err *err)
{
	return callctx_ask(ctx, key, "sampling/createMessage",
			   json_pack("{s:[{s:s, s:{s:s, s:s}}], s:i}", "messages", "role", "user",
				     "content", "type", "text", "text", text, "maxTokens",
				     max_tokens),
			   answer, err);
}

/* mrtr_roots - ask roots/list. */
static enum moat_rc mrtr_roots(struct call_ctx *ctx, const char *key, const json_t **answer,
			       struct moat_err *err)
{
	return callctx_ask(ctx, key, "roots/list", json_object(), answer, err);
}

/* mrtr_field - answer.content.<field> when it is a string; NULL otherwise
 * (a declined elicitation, or an answer of the wrong shape). */
static const char *mrtr_field(const json_t *answer, const char *field)
{
	if (!json_is_object(answer))
		return NULL;
	return json_string_value(json_object_get(json_object_get(answer, "content"), field));
}

/* mrtr_bad - the answer under key does not hold what was asked: refuse the
 * call rather than complete it with invented data. */
static enum moat_rc mrtr_bad(const char *key, struct moat_err *err)
{
	return moat_err_set(err, MOAT_EINVAL, "inputResponses.%s: not an answer to the request",
			    key);
}

/* mrtr_first - the first of the rcs of several asks that are not OK, with
 * MOAT_EINPUT before the rest: every request of the round is queued before
 * the handler returns. */
static enum moat_rc mrtr_first(const enum moat_rc *rcs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (rcs[i] && rcs[i] != MOAT_EINPUT)
			return rcs[i];
	for (size_t i = 0; i < n; i++)
		if (rcs[i])
			return rcs[i];
	return MOAT_OK;
}

/* mrtr_textf - tool_result_text of a formatted message. */
__attribute__((format(printf, 3, 4))) static enum moat_rc
mrtr_textf(struct tool_result *out, struct moat_err *err, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	int n;
	enum moat_rc rc;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	if (n < 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	rc = tool_result_text(out, msg);
	free(msg);
	return rc;
}

static enum moat_rc elicitation_tool(struct call_ctx *ctx, void *data, json_t *args,
				     struct tool_result *out, struct moat_err *err)
{
	const json_t *a = NULL;
	const char *name;
	enum moat_rc rc = mrtr_elicit(ctx, "user_name", "What is your name?", NAME_SCHEMA, &a, err);

	if (rc)
		return rc;
	if (!(name = mrtr_field(a, "name")))
		return mrtr_bad("user_name", err);
	return mrtr_textf(out, err, "Hello, %s!", name);
}

static enum moat_rc sampling_tool(struct call_ctx *ctx, void *data, json_t *args,
				  struct tool_result *out, struct moat_err *err)
{
	const json_t *a = NULL;
	const char *text;
	enum moat_rc rc = mrtr_sample(ctx, "capital_question", "What is the capital of France?",
				      100, &a, err);

	if (rc)
		return rc;
	text = json_string_value(json_object_get(json_object_get(a, "content"), "text"));
	if (!text)
		return mrtr_bad("capital_question", err);
	return mrtr_textf(out, err, "Sampling result: %s", text);
}

static enum moat_rc list_roots_tool(struct call_ctx *ctx, void *data, json_t *args,
				    struct tool_result *out, struct moat_err *err)
{
	const json_t *a = NULL;
	enum moat_rc rc = mrtr_roots(ctx, "client_roots", &a, err);

	if (rc)
		return rc;
	if (!json_is_array(json_object_get(a, "roots")))
		return mrtr_bad("client_roots", err);
	return mrtr_textf(out, err, "Found %zu root(s)", json_array_size(json_object_get(a, "roots")));
}

/* mrtr_kind - whether the state of the previous round says kind. */
static bool mrtr_kind(struct call_ctx *ctx, const char *kind)
{
	const char *k = json_string_value(json_object_get(callctx_state(ctx), "kind"));
	return k && strcmp(k, kind) == 0;
}

static enum moat_rc request_state_tool(struct call_ctx *ctx, void *data, json_t *args,
				       struct tool_result *out, struct moat_err *err)
{
	const json_t *a = NULL;
	enum moat_rc rc;

	callctx_set_state(ctx, json_pack("{s:s}", "kind", "request-state"));
	if ((rc = mrtr_elicit(ctx, "confirm", "Please confirm", OK_SCHEMA, &a, err)))
		return rc;
	if (!json_is_object(a) ||
	    !json_is_true(json_object_get(json_object_get(a, "content"), "ok")))
		return mrtr_bad("confirm", err);
	/* The initialize era has one round and no state to bring back. */
	if (callctx_state(ctx) && !mrtr_kind(ctx, "request-state"))
		return moat_err_set(err, MOAT_EINVAL, "requestState: not this tool's");
	return tool_result_text(out, "state-ok: requestState validated");
}

static enum moat_rc multiple_inputs_tool(struct call_ctx *ctx, void *data, json_t *args,
					 struct tool_result *out, struct moat_err *err)
{
	const json_t *name_a = NULL, *greet_a = NULL, *roots_a = NULL;
	enum moat_rc rcs[3];
	const char *name, *greeting;

	callctx_set_state(ctx, json_pack("{s:s}", "kind", "multiple-inputs"));
	rcs[0] = mrtr_elicit(ctx, "user_name", "What is your name?", NAME_SCHEMA, &name_a, err);
	rcs[1] = rcs[0] && rcs[0] != MOAT_EINPUT
			 ? rcs[0]
			 : mrtr_sample(ctx, "greeting", "Generate a greeting", 50, &greet_a, err);
	rcs[2] = rcs[1] && rcs[1] != MOAT_EINPUT ? rcs[1] : mrtr_roots(ctx, "client_roots", &roots_a, err);
	enum moat_rc rc = mrtr_first(rcs, 3);
	if (rc)
		return rc;
	if (!(name = mrtr_field(name_a, "name")))
		return mrtr_bad("user_name", err);
	greeting = json_string_value(json_object_get(json_object_get(greet_a, "content"), "text"));
	if (!greeting)
		return mrtr_bad("greeting", err);
	if (!json_is_array(json_object_get(roots_a, "roots")))
		return mrtr_bad("client_roots", err);
	return mrtr_textf(out, err, "Name: %s; Greeting: %s; Roots: %zu", name, greeting,
			  json_array_size(json_object_get(roots_a, "roots")));
}

static enum moat_rc multi_round_tool(struct call_ctx *ctx, void *data, json_t *args,
				     struct tool_result *out, struct moat_err *err)
{
	const json_t *a1 = NULL, *a2 = NULL;
	const char *name, *color;
	enum moat_rc rc;

	callctx_set_state(ctx, json_pack("{s:i}", "round", 1));
	if ((rc = mrtr_elicit(ctx, "step1", "Step 1: What is your name?", NAME_SCHEMA, &a1, err)))
		return rc;
	if (!(name = mrtr_field(a1, "name")))
		return mrtr_bad("step1", err);
	callctx_set_state(ctx, json_pack("{s:i}", "round", 2));
	rc = mrtr_elicit(ctx, "step2", "Step 2: What is your favorite color?",
			 "{\"type\":\"object\",\"properties\":{\"color\":{\"type\":\"string\"}},"
			 "\"required\":[\"color\"]}",
			 &a2, err);
	if (rc)
		return rc;
	if (!(color = mrtr_field(a2, "color")))
		return mrtr_bad("step2", err);
	return mrtr_textf(out, err, "Multi-round complete for %s who likes %s", name, color);
}

/* The core seals requestState; a tampered one never reaches the handler. */
static enum moat_rc tampered_state_tool(struct call_ctx *ctx, void *data, json_t *args,
					struct tool_result *out, struct moat_err *err)
{
	const json_t *a = NULL;
	enum moat_rc rc;

	callctx_set_state(ctx, json_pack("{s:s}", "kind", "tamper-test"));
	if ((rc = mrtr_elicit(ctx, "confirm", "Please confirm", OK_SCHEMA, &a, err)))
		return rc;
	if (callctx_state(ctx) && !mrtr_kind(ctx, "tamper-test"))
		return moat_err_set(err, MOAT_EINVAL, "requestState: not this tool's");
	return tool_result_text(out, "integrity-ok: state verified");
}

/* Asks only for what the client declared it can answer. */
static enum moat_rc capabilities_tool(struct call_ctx *ctx, void *data, json_t *args,
				      struct tool_result *out, struct moat_err *err)
{
	const json_t *e = NULL, *s = NULL;
	enum moat_rc rcs[2] = {MOAT_OK, MOAT_OK}, rc;
	char got[64] = "";

	callctx_set_state(ctx, json_pack("{s:s}", "kind", "capabilities-test"));
	if (callctx_client_has(ctx, "elicitation"))
		rcs[0] = mrtr_elicit(ctx, "elicit_input", "Elicitation input",
				     "{\"type\":\"object\",\"properties\":{\"value\":{\"type\":"
				     "\"string\"}},\"required\":[\"value\"]}",
				     &e, err);
	if (callctx_client_has(ctx, "sampling") && (!rcs[0] || rcs[0] == MOAT_EINPUT))
		rcs[1] = mrtr_sample(ctx, "sample_input", "Sample request", 50, &s, err);
	if ((rc = mrtr_first(rcs, 2)))
		return rc;
	if (!e && !s)
		return tool_result_text(out, "No supported capabilities declared");
	snprintf(got, sizeof(got), "%s%s%s", e ? "elicit_input" : "", e && s ? "," : "",
		 s ? "sample_input" : "");
	return mrtr_textf(out, err, "capabilities-ok: received %s", got);
}

struct mrtr_tool {
	const char *name, *description;
	tool_handler_fn handler;
};

static const struct mrtr_tool mrtr_tools[] = {
	{"test_input_required_result_elicitation",
	 "MRTR: returns InputRequiredResult with elicitation request", elicitation_tool},
	{"test_input_required_result_sampling",
	 "MRTR: returns InputRequiredResult with sampling request", sampling_tool},
	{"test_input_required_result_list_roots",
	 "MRTR: returns InputRequiredResult with roots/list request", list_roots_tool},
	{"test_input_required_result_request_state",
	 "MRTR: returns InputRequiredResult with requestState", request_state_tool},
	{"test_input_required_result_multiple_inputs",
	 "MRTR: returns InputRequiredResult with multiple input requests", multiple_inputs_tool},
	{"test_input_required_result_multi_round", "MRTR: multi-round InputRequiredResult workflow",
	 multi_round_tool},
	{"test_input_required_result_tampered_state",
	 "MRTR: integrity-protected requestState test", tampered_state_tool},
	{"test_input_required_result_capabilities",
	 "MRTR: respects client capabilities in inputRequests", capabilities_tool},
};

enum moat_rc testing_mrtr_init(struct registry *reg, struct moat_err *err)
{
	enum moat_rc rc;

	for (size_t i = 0; i < sizeof(mrtr_tools) / sizeof(mrtr_tools[0]); i++) {
		struct tool_spec spec = {
			.name = mrtr_tools[i].name,
			.description = mrtr_tools[i].description,
			.handler = mrtr_tools[i].handler,
		};
		if ((rc = registry_add_texts(reg, spec, "{\"type\":\"object\",\"properties\":{}}",
					     NULL, err)))
			return rc;
	}
	return MOAT_OK;
}
