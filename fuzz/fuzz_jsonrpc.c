/*
 * fuzz_jsonrpc.c - libFuzzer target for JSON-RPC parsing and dispatch.
 *
 * Each input is one message handed to a long-lived, initialized server
 * (src/core/server.c) with a registry holding one trivial tool, exactly as
 * the stdio transport would; the send function checks that every message
 * the server writes is valid JSON. Also runs rpc_parse/rpc_classify on the
 * raw bytes, the bounded id scan (rpc_scan.c) on them and on a cut prefix
 * (as the framing keeps of an oversized line), and the NUL finder on what
 * parses. Each input is also handed in as an HTTP request without a
 * session would be (server_handle_from with headers: the 2026-07-28
 * era's _meta and header-mirror checks), once with headers that mirror a
 * tools/call of echo and once with none of them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonrpc.h"
#include "rpc_scan.h"
#include "server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct server *srv;
static struct registry *reg;

static void sink(void *ctx, void *route, const char *buf, size_t len, bool final)
{
	(void)route;
	if (len == 0 && final)
		return; /* an empty final: the route ends with nothing to say */
	(void)server_http_status(buf, len);
	json_t *m = json_loadb(buf, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

	if (!m)
		abort(); /* the server must only ever write JSON */
	json_decref(m);
}

static enum moat_rc echo(struct call_ctx *ctx, void *d, json_t *args, struct tool_result *out,
			 struct moat_err *err)
{
	return tool_result_text(out, "ok");
}

/* rpc_depth_ok as it was written first, byte by byte: the faster one must
 * agree with it on every input. */
static bool depth_ok_reference(const char *buf, size_t len, size_t max_depth)
{
	size_t depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = buf[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if ((c == '[' || c == '{') && ++depth > max_depth)
			return false;
		else if ((c == ']' || c == '}') && depth > 0)
			depth--;
	}
	return true;
}

static void setup(void)
{
	struct server_opts o = {.name = "moat", .version = "fuzz"};
	struct moat_err err = {0};
	json_t *in = json_loads("{\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\","
				"\"maxLength\":8}}}",
				0, NULL);
	struct tool_spec spec = {.name = "echo", .description = "d", .input_schema = in,
				 .handler = echo};
	const char *init = "{\"jsonrpc\":\"2.0\",\"id\":0,\"method\":\"initialize\",\"params\":{"
			   "\"protocolVersion\":\"2025-03-26\",\"capabilities\":{},"
			   "\"clientInfo\":{\"name\":\"fuzz\"}}}";

	limits_defaults(&o.limits);
	o.limits.max_message_bytes = 1 << 16;
	o.limits.calls_per_minute = 0;
	o.limits.tool_calls_per_minute = 0;
	reg = registry_new(0);
	if (registry_add(reg, &spec, &err))
		abort();
	json_decref(in);
	srv = server_new(&o, reg, sink, NULL);
	server_handle(srv, init, strlen(init));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moat_err err = {0};
	struct rpc_msg m;
	json_t *doc;

	json_t *id;
	char where[64];

	if (!srv)
		setup();
	/* Twice: the second parse may reuse the first's _meta (the per-thread
	 * memo, rpc_meta_memo.c); both must equal jansson's own strict parse
	 * of the whole message, and fail exactly when it fails. */
	json_t *plain = json_loadb((const char *)data, size,
				   JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	bool in_limits = size <= (1 << 16) && rpc_depth_ok((const char *)data, size, 64);
	for (size_t d = 1; d <= 8; d *= 2)
		if (rpc_depth_ok((const char *)data, size, d) !=
		    depth_ok_reference((const char *)data, size, d))
			abort();
	for (int round = 0; round < 2; round++) {
		enum moat_rc rc = rpc_parse((const char *)data, size, 1 << 16, 64, &doc, &err);
		if (in_limits && (rc == MOAT_OK) != (plain != NULL))
			abort();
		if (rc == MOAT_OK && !json_equal(doc, plain))
			abort();
		if (rc == MOAT_OK && round == 0)
			json_decref(doc);
		else if (rc != MOAT_OK)
			doc = NULL;
	}
	json_decref(plain);
	if (doc) {
		(void)rpc_classify(doc, &m, &err);
		(void)rpc_find_nul(doc, NULL, where, sizeof(where));
		json_decref(doc);
	}
	for (size_t cut = size; ; cut /= 2) {
		id = rpc_scan_id((const char *)data, cut);
		if (id && !json_is_string(id) && !json_is_integer(id))
			abort(); /* only ids JSON-RPC allows */
		json_decref(id);
		if (cut == 0)
			break;
	}
	server_handle(srv, (const char *)data, size);
	{
		static const struct req_param_header ph[] = {{"S", "=?base64?b2s=?="}};
		struct req_headers h = {.stateless = true, .protocol_version = "2026-07-28",
					.method = "tools/call", .name = "echo", .params = ph,
					.n_params = 1};
		struct req_headers bare = {.stateless = true};
		struct server_origin o = {.route = &h, .hdr = &h};
		server_handle_from(srv, (const char *)data, size, &o);
		o.hdr = &bare;
		server_handle_from(srv, (const char *)data, size, &o);
	}
	server_reject_oversized(srv, (const char *)data, size < 1024 ? size : 1024);
	return 0;
}
