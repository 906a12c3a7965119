/*
 * testing_conf_tools.c - the tools the official MCP conformance suite calls
 * on a server (test build only, {"testing": {"conformance": true}}), each
 * answering as the suite's reference fixture does
 * (examples/servers/typescript/everything-server.ts): fixed texts, an
 * image, an audio clip and embedded resources; three log messages and
 * three progress notifications 50 ms apart; a failing tool; tools that ask
 * the client (sampling, elicitation with defaults and with every enum
 * form) through callctx_ask, so one handler serves both eras; the JSON
 * Schema 2020-12 tool whose schema the listing must show unchanged; the
 * stateless era's diagnostic tools (a missing capability, a stream of
 * notifications, no log without a log level, list-change triggers); and a
 * tool whose input marks a property x-mcp-header.
 *
 * The texts are the reference's, byte for byte where the suite compares
 * them. Nothing here touches a file or the network.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testing.h"

const char testing_png_b64[] = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8"
			       "DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const char testing_wav_b64[] = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";

/* The tool test_trigger_tool_change hides and shows. */
#define CONF_DYNAMIC_TOOL "test_dynamic_tool"

/* conf_block - append block (stolen) to the result's content. */
static enum moat_rc conf_block(struct tool_result *out, json_t *block, struct moat_err *err)
{
	if (!out->content)
		out->content = json_array();
	if (!block || !out->content || json_array_append_new(out->content, block)) {
		json_decref(block);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	return MOAT_OK;
}

/* conf_sleep - wait ms milliseconds in 5 ms slices, ending early with the
 * call's cancellation or deadline. */
static enum moat_rc conf_sleep(struct call_ctx *ctx, int ms, struct moat_err *err)
{
	struct timespec slice = {.tv_sec = 0, .tv_nsec = 5000000L};
	enum moat_rc rc;

	for (int left = ms; left > 0; left -= 5) {
		if ((rc = callctx_check(ctx, err)))
			return rc;
		nanosleep(&slice, NULL);
	}
	return callctx_check(ctx, err);
}

static enum moat_rc simple_text_tool(struct call_ctx *ctx, void *data, json_t *args,
				     struct tool_result *out, struct moat_err *err)
{
	return tool_result_text(out, "This is a simple text response for testing.");
}

static enum moat_rc image_tool(struct call_ctx *ctx, void *data, json_t *args,
			       struct tool_result *out, struct moat_err *err)
{
	return conf_block(out,
			  json_pack("{s:s, s:s, s:s}", "type", "image", "data", testing_png_b64,
				    "mimeType", "image/png"),
			  err);
}

static enum moat_rc audio_tool(struct call_ctx *ctx, void *data, json_t *args,
			       struct tool_result *out, struct moat_err *err)
{
	return conf_block(out,
			  json_pack("{s:s, s:s, s:s}", "type", "audio", "data", testing_wav_b64,
				    "mimeType", "audio/wav"),
			  err);
}

static enum moat_rc embedded_tool(struct call_ctx *ctx, void *data, json_t *args,
				  struct tool_result *out, struct moat_err *err)
{
	return conf_block(out,
			  json_pack("{s:s, s:{s:s, s:s, s:s}}", "type", "resource", "resource",
				    "uri", "test://embedded-resource", "mimeType", "text/plain",
				    "text", "This is an embedded resource content."),
			  err);
}

static enum moat_rc mixed_tool(struct call_ctx *ctx, void *data, json_t *args,
			       struct tool_result *out, struct moat_err *err)
{
	enum moat_rc rc = tool_result_text(out, "Multiple content types test:");

	if (!rc)
		rc = conf_block(out,
				json_pack("{s:s, s:s, s:s}", "type", "image", "data",
					  testing_png_b64, "mimeType", "image/png"),
				err);
	if (!rc)
		rc = conf_block(out,
				json_pack("{s:s, s:{s:s, s:s, s:s}}", "type", "resource",
					  "resource", "uri", "test://mixed-content-resource",
					  "mimeType", "application/json", "text",
					  "{\"test\":\"data\",\"value\":123}"),
				err);
	return rc;
}

static enum moat_rc logging_tool(struct call_ctx *ctx, void *data, json_t *args,
				 struct tool_result *out, struct moat_err *err)
{
	static const char *const msgs[] = {"Tool execution started", "Tool processing data",
					   "Tool execution completed"};
	enum moat_rc rc;

	for (size_t i = 0; i < 3; i++) {
		if (i && (rc = conf_sleep(ctx, 50, err)))
			return rc;
		callctx_log(ctx, "info", "conformance-test-server", json_string(msgs[i]));
	}
	return tool_result_text(out, "Tool with logging executed successfully");
}

static enum moat_rc progress_tool(struct call_ctx *ctx, void *data, json_t *args,
				  struct tool_result *out, struct moat_err *err)
{
	char msg[64], *tok;
	enum moat_rc rc;

	for (int step = 0; step <= 100; step += 50) {
		if (step && (rc = conf_sleep(ctx, 50, err)))
			return rc;
		snprintf(msg, sizeof(msg), "Completed step %d of 100", step);
		callctx_progress(ctx, step, 100, msg);
	}
	/* The reference answers with the token it was given (0 without one). */
	if (!ctx->progress_token)
		return tool_result_text(out, "0");
	if (json_is_string(ctx->progress_token))
		return tool_result_text(out, json_string_value(ctx->progress_token));
	tok = json_dumps(ctx->progress_token, JSON_ENCODE_ANY | JSON_COMPACT);
	rc = tok ? tool_result_text(out, tok) : moat_err_set(err, MOAT_ENOMEM, "out of memory");
	free(tok);
	return rc;
}

static enum moat_rc error_tool(struct call_ctx *ctx, void *data, json_t *args,
			       struct tool_result *out, struct moat_err *err)
{
	return moat_err_set(err, MOAT_EUPSTREAM,
			    "This tool intentionally returns an error for testing");
}

/* Closes the call's SSE stream mid-call (SEP-1699; callctx_close_stream,
 * a no-op off HTTP sessions) and answers 100 ms later, on the stream the
 * client resumes with GET and Last-Event-ID. */
static enum moat_rc reconnection_tool(struct call_ctx *ctx, void *data, json_t *args,
				      struct tool_result *out, struct moat_err *err)
{
	enum moat_rc rc;

	callctx_close_stream(ctx);
	if ((rc = conf_sleep(ctx, 100, err)))
		return rc;
	return tool_result_text(out, "Reconnection test completed successfully. If you received "
				     "this, the client properly reconnected after stream closure.");
}

/* conf_text_of - the text of a sampling answer: content.text, or
 * message.content.text as older clients send it. */
static const char *conf_text_of(const json_t *answer)
{
	const char *t = json_string_value(json_object_get(json_object_get(answer, "content"),
							  "text"));
	if (!t)
		t = json_string_value(json_object_get(
			json_object_get(json_object_get(answer, "message"), "content"), "text"));
	return t;
}

static enum moat_rc sampling_tool(struct call_ctx *ctx, void *data, json_t *args,
				  struct tool_result *out, struct moat_err *err)
{
	const char *prompt = json_string_value(json_object_get(args, "prompt"));
	const json_t *answer = NULL;
	const char *text;
	char *msg;
	enum moat_rc rc;

	rc = callctx_ask(ctx, "sampling", "sampling/createMessage",
			 json_pack("{s:[{s:s, s:{s:s, s:s}}], s:i}", "messages", "role", "user",
				   "content", "type", "text", "text", prompt ? prompt : "",
				   "maxTokens", 100),
			 &answer, err);
	if (rc)
		return rc;
	text = conf_text_of(answer);
	if (asprintf(&msg, "LLM response: %s", text ? text : "No response") < 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	rc = tool_result_text(out, msg);
	free(msg);
	return rc;
}

/* conf_elicit - ask the client elicitation/create {message, schema (JSON
 * text)} under key and answer "<prefix>: action=A, content={...}". */
static enum moat_rc conf_elicit(struct call_ctx *ctx, const char *key, const char *message,
				const char *schema, const char *prefix, struct tool_result *out,
				struct moat_err *err)
{
	json_t *req = json_loads(schema, 0, NULL);
	const json_t *answer = NULL;
	const char *action;
	char *content, *msg;
	enum moat_rc rc;

	if (!req)
		return moat_err_set(err, MOAT_EINTERNAL, "bad elicitation schema for %s", key);
	rc = callctx_ask(ctx, key, "elicitation/create",
			 json_pack("{s:s, s:o}", "message", message, "requestedSchema", req), &answer,
			 err);
	if (rc)
		return rc;
	action = json_string_value(json_object_get(answer, "action"));
	const json_t *c = json_object_get(answer, "content");
	content = c ? json_dumps(c, JSON_COMPACT | JSON_ENCODE_ANY) : strdup("{}");
	if (!content)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (asprintf(&msg, "%s: action=%s, content=%s", prefix, action ? action : "undefined",
		     content) < 0) {
		free(content);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	free(content);
	rc = tool_result_text(out, msg);
	free(msg);
	return rc;
}

static enum moat_rc elicitation_tool(struct call_ctx *ctx, void *data, json_t *args,
				     struct tool_result *out, struct moat_err *err)
{
	const char *message = json_string_value(json_object_get(args, "message"));

	return conf_elicit(ctx, "response", message ? message : "",
			   "{\"type\":\"object\",\"properties\":{\"response\":{\"type\":\"string\","
			   "\"description\":\"User's response\"}},\"required\":[\"response\"]}",
			   "User response", out, err);
}

static enum moat_rc sep1034_tool(struct call_ctx *ctx, void *data, json_t *args,
				 struct tool_result *out, struct moat_err *err)
{
	return conf_elicit(
		ctx, "defaults", "Please review and update the form fields with defaults",
		"{\"type\":\"object\",\"properties\":{"
		"\"name\":{\"type\":\"string\",\"description\":\"User name\",\"default\":\"John "
		"Doe\"},"
		"\"age\":{\"type\":\"integer\",\"description\":\"User age\",\"default\":30},"
		"\"score\":{\"type\":\"number\",\"description\":\"User score\",\"default\":95.5},"
		"\"status\":{\"type\":\"string\",\"description\":\"User status\",\"enum\":["
		"\"active\",\"inactive\",\"pending\"],\"default\":\"active\"},"
		"\"verified\":{\"type\":\"boolean\",\"description\":\"Verification status\","
		"\"default\":true}},\"required\":[]}",
		"Elicitation completed", out, err);
}

static enum moat_rc sep1330_tool(struct call_ctx *ctx, void *data, json_t *args,
				 struct tool_result *out, struct moat_err *err)
{
	return conf_elicit(
		ctx, "enums", "Please select options from the enum fields",
		"{\"type\":\"object\",\"properties\":{"
		"\"untitledSingle\":{\"type\":\"string\",\"description\":\"Select one option\","
		"\"enum\":[\"option1\",\"option2\",\"option3\"]},"
		"\"titledSingle\":{\"type\":\"string\",\"description\":\"Select one option with "
		"titles\",\"oneOf\":[{\"const\":\"value1\",\"title\":\"First Option\"},{\"const\":"
		"\"value2\",\"title\":\"Second Option\"},{\"const\":\"value3\",\"title\":\"Third "
		"Option\"}]},"
		"\"legacyEnum\":{\"type\":\"string\",\"description\":\"Select one option "
		"(legacy)\",\"enum\":[\"opt1\",\"opt2\",\"opt3\"],\"enumNames\":[\"Option One\","
		"\"Option Two\",\"Option Three\"]},"
		"\"untitledMulti\":{\"type\":\"array\",\"description\":\"Select multiple "
		"options\",\"minItems\":1,\"maxItems\":3,\"items\":{\"type\":\"string\",\"enum\":["
		"\"option1\",\"option2\",\"option3\"]}},"
		"\"titledMulti\":{\"type\":\"array\",\"description\":\"Select multiple options "
		"with titles\",\"minItems\":1,\"maxItems\":3,\"items\":{\"anyOf\":[{\"const\":"
		"\"value1\",\"title\":\"First Choice\"},{\"const\":\"value2\",\"title\":\"Second "
		"Choice\"},{\"const\":\"value3\",\"title\":\"Third Choice\"}]}}},"
		"\"required\":[]}",
		"Elicitation completed", out, err);
}

static enum moat_rc schema_2020_tool(struct call_ctx *ctx, void *data, json_t *args,
				     struct tool_result *out, struct moat_err *err)
{
	char *a = json_dumps(args, JSON_COMPACT), *msg;
	enum moat_rc rc;

	if (!a || asprintf(&msg, "JSON Schema 2020-12 tool called with: %s", a) < 0) {
		free(a);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	free(a);
	rc = tool_result_text(out, msg);
	free(msg);
	return rc;
}

/* Needs sampling: asking for it without the capability ends the call with
 * MOAT_ENOCAP, which the stateless era answers -32021. */
static enum moat_rc missing_cap_tool(struct call_ctx *ctx, void *data, json_t *args,
				     struct tool_result *out, struct moat_err *err)
{
	const json_t *answer = NULL;
	enum moat_rc rc;

	rc = callctx_ask(ctx, "sample", "sampling/createMessage",
			 json_pack("{s:[{s:s, s:{s:s, s:s}}], s:i}", "messages", "role", "user",
				   "content", "type", "text", "text", "Say hello", "maxTokens", 20),
			 &answer, err);
	if (rc)
		return rc;
	return tool_result_text(out, "Success");
}

static enum moat_rc streaming_tool(struct call_ctx *ctx, void *data, json_t *args,
				   struct tool_result *out, struct moat_err *err)
{
	callctx_progress(ctx, 50, 100, "Halfway");
	return tool_result_text(out, "Streaming complete");
}

/* Logs only when the request asked for a log level (callctx_log decides). */
static enum moat_rc log_level_tool(struct call_ctx *ctx, void *data, json_t *args,
				   struct tool_result *out, struct moat_err *err)
{
	callctx_log(ctx, "info", "conformance-test-server",
		    json_string("Diagnostic trace logging activated"));
	return tool_result_text(out, "Logging evaluated");
}

static enum moat_rc trigger_tool_tool(struct call_ctx *ctx, void *data, json_t *args,
				      struct tool_result *out, struct moat_err *err)
{
	struct registry *reg = data;
	struct tool *t = registry_find(reg, CONF_DYNAMIC_TOOL);

	if (t)
		registry_set_hidden(reg, CONF_DYNAMIC_TOOL, !atomic_load(&t->hidden));
	return tool_result_text(out, "Mutation triggered");
}

static enum moat_rc trigger_prompt_tool(struct call_ctx *ctx, void *data, json_t *args,
					struct tool_result *out, struct moat_err *err)
{
	testing_prompt_toggle(data);
	return tool_result_text(out, "Mutation triggered");
}

static enum moat_rc dynamic_tool(struct call_ctx *ctx, void *data, json_t *args,
				 struct tool_result *out, struct moat_err *err)
{
	return tool_result_text(out, "The dynamic tool is listed.");
}

static enum moat_rc custom_header_tool(struct call_ctx *ctx, void *data, json_t *args,
				       struct tool_result *out, struct moat_err *err)
{
	return tool_result_text(out, "Custom header test completed");
}

#define NO_ARGS "{\"type\":\"object\",\"properties\":{}}"

/* SEP-1613 / SEP-2106: kept as written; the listing shows it unchanged. */
static const char schema_2020_12[] =
	"{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"type\":\"object\","
	"\"$defs\":{\"address\":{\"$anchor\":\"addressDef\",\"type\":\"object\",\"properties\":{"
	"\"street\":{\"type\":\"string\"},\"city\":{\"type\":\"string\"}}}},"
	"\"properties\":{\"name\":{\"type\":\"string\"},\"address\":{\"$ref\":\"#/$defs/"
	"address\"},\"contactMethod\":{\"type\":\"string\",\"enum\":[\"phone\",\"email\"]},"
	"\"phone\":{\"type\":\"string\"},\"email\":{\"type\":\"string\"}},"
	"\"allOf\":[{\"anyOf\":[{\"required\":[\"phone\"]},{\"required\":[\"email\"]}]}],"
	"\"if\":{\"properties\":{\"contactMethod\":{\"const\":\"phone\"}},\"required\":["
	"\"contactMethod\"]},\"then\":{\"required\":[\"phone\"]},\"else\":{\"required\":["
	"\"email\"]},\"additionalProperties\":false}";

struct conf_tool {
	const char *name, *description, *schema;
	tool_handler_fn handler;
	bool inline_ok;
};

static const struct conf_tool conf_tools[] = {
	{"test_simple_text", "Tests simple text content response", NO_ARGS, simple_text_tool,
	 true},
	{"test_image_content", "Tests image content response", NO_ARGS, image_tool, true},
	{"test_audio_content", "Tests audio content response", NO_ARGS, audio_tool, true},
	{"test_embedded_resource", "Tests embedded resource content response", NO_ARGS,
	 embedded_tool, true},
	{"test_multiple_content_types",
	 "Tests response with multiple content types (text, image, resource)", NO_ARGS,
	 mixed_tool, true},
	{"test_tool_with_logging", "Tests tool that emits log messages during execution",
	 NO_ARGS, logging_tool, false},
	{"test_tool_with_progress", "Tests tool that reports progress notifications", NO_ARGS,
	 progress_tool, false},
	{"test_error_handling", "Tests error response handling", NO_ARGS, error_tool, true},
	{"test_reconnection",
	 "Tests SSE stream disconnection and client reconnection (SEP-1699).", NO_ARGS,
	 reconnection_tool, false},
	{"test_sampling", "Tests server-initiated sampling (LLM completion request)",
	 "{\"type\":\"object\",\"properties\":{\"prompt\":{\"type\":\"string\",\"description\":"
	 "\"The prompt to send to the LLM\",\"maxLength\":10000}},\"required\":[\"prompt\"]}",
	 sampling_tool, false},
	{"test_elicitation", "Tests server-initiated elicitation (user input request)",
	 "{\"type\":\"object\",\"properties\":{\"message\":{\"type\":\"string\",\"description\":"
	 "\"The message to show the user\",\"maxLength\":10000}},\"required\":[\"message\"]}",
	 elicitation_tool, false},
	{"test_elicitation_sep1034_defaults",
	 "Tests elicitation with default values per SEP-1034", NO_ARGS, sep1034_tool, false},
	{"test_elicitation_sep1330_enums",
	 "Tests elicitation with enum schema improvements per SEP-1330", NO_ARGS, sep1330_tool,
	 false},
	{"json_schema_2020_12_tool",
	 "Tool with JSON Schema 2020-12 features for conformance testing (SEP-1613)",
	 schema_2020_12, schema_2020_tool, true},
	{"test_missing_capability", "Test tool requiring sampling", NO_ARGS, missing_cap_tool,
	 false},
	{"test_streaming_elicitation", "Diagnostic tool validating response progress streams",
	 NO_ARGS, streaming_tool, false},
	{"test_logging_tool", "Diagnostic logging validator tool", NO_ARGS, log_level_tool,
	 false},
	{"test_trigger_tool_change", "Hides or shows test_dynamic_tool (the tool list changes)",
	 NO_ARGS, trigger_tool_tool, false},
	{"test_trigger_prompt_change",
	 "Hides or shows test_dynamic_prompt (the prompt list changes)", NO_ARGS,
	 trigger_prompt_tool, false},
	{CONF_DYNAMIC_TOOL, "Listed or not as test_trigger_tool_change toggles it", NO_ARGS,
	 dynamic_tool, true},
	{"test_custom_header",
	 "Mirrors region into the Mcp-Param-Region header (SEP-2243 x-mcp-header)",
	 "{\"type\":\"object\",\"properties\":{\"region\":{\"type\":\"string\",\"description\":"
	 "\"A region, mirrored in Mcp-Param-Region\",\"maxLength\":256,\"x-mcp-header\":"
	 "\"Region\"},\"query\":{\"type\":\"string\",\"description\":\"Not mirrored\","
	 "\"maxLength\":1024}},\"required\":[\"region\"]}",
	 custom_header_tool, true},
};

enum moat_rc testing_conf_tools_init(struct registry *reg, struct moat_err *err)
{
	enum moat_rc rc;

	for (size_t i = 0; i < sizeof(conf_tools) / sizeof(conf_tools[0]); i++) {
		const struct conf_tool *c = &conf_tools[i];
		struct tool_spec spec = {
			.name = c->name,
			.description = c->description,
			.inline_ok = c->inline_ok,
			.handler = c->handler,
			.data = reg,
		};
		if ((rc = registry_add_texts(reg, spec, c->schema, NULL, err)))
			return rc;
	}
	return MOAT_OK;
}
