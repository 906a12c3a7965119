/*
 * testing_streamed.c - test-only tools that answer with structuredContent
 * written by the streaming writer (jsonw.h) rather than a jansson tree,
 * enabled by {"testing": {"enabled": true, "streamed": true}}: the e2e
 * tests drive the splice path of server_call.c through them in every
 * revision, in batches, and with a document that breaks its own schema.
 *
 *   stream_rows {n}  {"rows": [[i, "row i"]...], "n": n}, text "n rows"
 *   stream_bad  {}   {"n": "not a number"} under a schema that wants an
 *                    integer: a test build must refuse it (schema.output)
 */
#include "testing.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

static const char rows_out[] =
	"{\"type\":\"object\",\"properties\":{\"rows\":{\"type\":\"array\",\"items\":{\"type\":"
	"\"array\",\"minItems\":2,\"maxItems\":2}},\"n\":{\"type\":\"integer\"}},"
	"\"required\":[\"rows\",\"n\"],\"additionalProperties\":false}";

/* Write the document, take the buffer, and answer with it and text. */
static enum moat_rc answer(struct tool_result *out, struct wire_buf *b, struct jsonw *w,
			   char *text, struct moat_err *err)
{
	size_t len;
	char *json;

	if (!jsonw_done(w)) {
		wire_buf_release(b);
		free(text);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	json = wire_buf_take(b, &len);
	return tool_result_take_json(out, json, len, text, err);
}

static enum moat_rc stream_rows_tool(struct call_ctx *ctx, void *data, json_t *args,
				     struct tool_result *out, struct moat_err *err)
{
	json_int_t n = json_integer_value(json_object_get(args, "n"));
	struct wire_buf b;
	struct jsonw w;
	char cell[32], *text;

	wire_buf_init(&b, NULL, 0);
	jsonw_init(&w, &b, 0);
	jsonw_obj_begin(&w);
	jsonw_key(&w, "rows", 4);
	jsonw_arr_begin(&w);
	for (json_int_t i = 0; i < n; i++) {
		int len = snprintf(cell, sizeof(cell), "row %lld", (long long)i);
		jsonw_arr_begin(&w);
		jsonw_i64(&w, i);
		jsonw_str(&w, cell, (size_t)len);
		jsonw_arr_end(&w);
	}
	jsonw_arr_end(&w);
	jsonw_key(&w, "n", 1);
	jsonw_i64(&w, n);
	jsonw_obj_end(&w);
	if (asprintf(&text, "%lld rows", (long long)n) < 0)
		text = NULL;
	return answer(out, &b, &w, text, err);
}

static enum moat_rc stream_bad_tool(struct call_ctx *ctx, void *data, json_t *args,
				    struct tool_result *out, struct moat_err *err)
{
	struct wire_buf b;
	struct jsonw w;

	wire_buf_init(&b, NULL, 0);
	jsonw_init(&w, &b, 0);
	jsonw_obj_begin(&w);
	jsonw_key(&w, "rows", 4);
	jsonw_arr_begin(&w);
	jsonw_arr_end(&w);
	jsonw_key(&w, "n", 1);
	jsonw_str(&w, "not a number", 12);
	jsonw_obj_end(&w);
	return answer(out, &b, &w, strdup("broken"), err);
}

enum moat_rc testing_streamed_init(struct registry *reg, struct moat_err *err)
{
	static const struct {
		const char *name, *title, *desc, *input;
		tool_handler_fn fn;
	} tools[] = {
		{"stream_rows", "Streamed rows",
		 "Returns n rows as structured content written by the streaming writer.",
		 "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":0,"
		 "\"maximum\":1000000}},\"required\":[\"n\"],\"additionalProperties\":false}",
		 stream_rows_tool},
		{"stream_bad", "Streamed broken output",
		 "Streams a result that violates its own output schema.",
		 "{\"type\":\"object\",\"additionalProperties\":false}", stream_bad_tool},
	};
	json_error_t jerr;
	json_t *outs = json_loads(rows_out, 0, &jerr);
	enum moat_rc rc = MOAT_OK;

	if (!outs)
		return moat_err_set(err, MOAT_EINTERNAL, "stream_rows output schema: %s", jerr.text);
	for (size_t i = 0; i < sizeof(tools) / sizeof(tools[0]) && rc == MOAT_OK; i++) {
		json_t *in = json_loads(tools[i].input, 0, &jerr);
		struct tool_spec spec = {
			.name = tools[i].name,
			.title = tools[i].title,
			.description = tools[i].desc,
			.input_schema = in,
			.output_schema = outs,
			.annotations = {.read_only = HINT_TRUE, .destructive = HINT_FALSE,
					.idempotent = HINT_TRUE, .open_world = HINT_FALSE},
			.handler = tools[i].fn,
			.output_streamed = true,
		};
		rc = in ? registry_add(reg, &spec, err)
			: moat_err_set(err, MOAT_EINTERNAL, "%s input schema: %s", tools[i].name,
				       jerr.text);
		json_decref(in);
	}
	json_decref(outs);
	return rc;
}
