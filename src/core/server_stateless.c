/*
 * server_stateless.c - the 2026-07-28 era: every request carries its
 * revision, its client's capabilities and (optionally) its client's name
 * in params._meta, and is served on its own, with no initialize and no
 * session.
 *
 * Here: which requests go this way, the checks of _meta and, over HTTP,
 * of the headers that mirror the body (MCP-Protocol-Version, Mcp-Method,
 * Mcp-Name; Mcp-Param-* in server_headers.c), server/discover, the
 * methods this revision removed, the "resultType" every result carries
 * and the caching hints of lists and reads. Nothing is remembered between
 * requests: what a request's client declared lives in its batch (b->era)
 * and dies with it. The HTTP status a stateless answer takes is derived
 * from its error code here too (server_http_status), so the transport
 * never interprets JSON-RPC itself.
 */
#include "server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hub.h"
#include "log.h"
#include "prompts.h"
#include "text.h"
#include "version.h"

#define META_VERSION "io.modelcontextprotocol/protocolVersion"
#define META_CAPS "io.modelcontextprotocol/clientCapabilities"
#define META_INFO "io.modelcontextprotocol/clientInfo"
#define META_LOG "io.modelcontextprotocol/logLevel"
#define META_SERVER "io.modelcontextprotocol/serverInfo"

/* JSON-RPC codes of the stateless era. */
#define RPC_HEADER_MISMATCH -32020
#define RPC_MISSING_CAPABILITY -32021
#define RPC_UNSUPPORTED_VERSION -32022

/* How long a client may keep server/discover's answer (ms). The tool and
 * prompt lists change only with the config (a restart), or through a
 * fixture in a test build, which announces it on listen streams. */
#define TTL_DISCOVER 300000u

bool srv_wants_stateless(const struct rpc_msg *m, const struct req_headers *hdr)
{
	json_t *meta;

	if (hdr && hdr->stateless)
		return true;
	if (strcmp(m->method, "server/discover") == 0)
		return true; /* exists only in this era */
	meta = m->params ? json_object_get(m->params, "_meta") : NULL;
	return json_is_object(meta) && json_object_get(meta, META_VERSION) != NULL;
}

const struct mcp_features *srv_features(struct server *s, const struct batch *b)
{
	return b && b->era.stateless ? &b->era.f : &s->features;
}

void srv_era_release(struct req_era *e)
{
	json_decref(e->caps);
	json_decref(e->meta);
	e->caps = e->meta = NULL;
}

void srv_complete_result(const struct batch *b, json_t *res)
{
	if (b && b->era.stateless && json_is_object(res) && !json_object_get(res, "resultType"))
		json_object_set_new(res, "resultType", json_string("complete"));
}

void srv_cache_hints(const struct batch *b, json_t *res, uint32_t ttl_ms, bool private_scope)
{
	if (!b || !b->era.stateless || !json_is_object(res))
		return;
	json_object_set_new(res, "ttlMs", json_integer(ttl_ms));
	json_object_set_new(res, "cacheScope", json_string(private_scope ? "private" : "public"));
}

void srv_reply_code_data(struct server *s, struct batch *b, json_t *id, int code,
			 const char *message, json_t *data)
{
	json_t *msg = rpc_error(id, code, message);

	if (msg && data)
		json_object_set_new(json_object_get(msg, "error"), "data", data);
	else
		json_decref(data);
	srv_reply(s, b, msg);
}

/* An error naming the rule it broke in data.rule. */
static void reply_rule(struct server *s, struct batch *b, json_t *id, int code, const char *rule,
		       const char *message)
{
	srv_reply_code_data(s, b, id, code, message, json_pack("{s:s}", "rule", rule));
}

/* ---- capabilities and server/discover -------------------------------- */

json_t *srv_capabilities(struct server *s)
{
	json_t *caps = json_pack("{s:{s:b}, s:{}}", "tools", "listChanged", 1, "logging");
	bool prompts = prompts_count(registry_prompts(s->reg)) > 0;

	if (!caps)
		return NULL;
	if (registry_resources(s->reg))
		json_object_set_new(caps, "resources",
				    json_pack("{s:b, s:b}", "subscribe", 1, "listChanged", 0));
	if (prompts)
		json_object_set_new(caps, "prompts", json_pack("{s:b}", "listChanged", 1));
	if (prompts || registry_resources(s->reg))
		json_object_set_new(caps, "completions", json_object());
	return caps;
}

json_t *srv_server_info(struct server *s, const struct mcp_features *f)
{
	json_t *info = json_pack("{s:s, s:s}", "name", s->opts.name, "version", s->opts.version);

	if (info && f->titles && s->opts.title)
		json_object_set_new(info, "title", json_string(s->opts.title));
	return info;
}

static void do_discover(struct server *s, struct batch *b, struct rpc_msg *m)
{
	const struct mcp_features *f = srv_features(s, b);
	json_t *versions = json_array();
	json_t *res;

	for (int v = MCP_VERSION_NEWEST; v >= 0; v--)
		json_array_append_new(versions, json_string(mcp_version_name((enum mcp_version)v)));
	res = json_pack("{s:o, s:o, s:o, s:{s:o}}", "supportedVersions", versions, "capabilities",
			srv_capabilities(s), "serverInfo", srv_server_info(s, f), "_meta", META_SERVER,
			srv_server_info(s, f));
	if (res && s->opts.instructions)
		json_object_set_new(res, "instructions", json_string(s->opts.instructions));
	srv_cache_hints(b, res, TTL_DISCOVER, false);
	srv_reply(s, b, rpc_result(m->id, res));
}

/* ---- _meta and the headers ------------------------------------------- */

/* The supported list of an UnsupportedProtocolVersionError. */
static json_t *unsupported_data(const char *requested)
{
	json_t *sup = json_array();

	for (int v = MCP_VERSION_NEWEST; v >= 0; v--)
		if (mcp_version_stateless((enum mcp_version)v))
			json_array_append_new(sup, json_string(mcp_version_name((enum mcp_version)v)));
	return json_pack("{s:o, s:s, s:s}", "supported", sup, "requested", requested, "rule",
			 "protocol.unsupported_version");
}

/* Header values are compared trimmed of spaces and tabs (RFC 9110 OWS). */
static bool header_equals(const char *h, const char *body)
{
	size_t n;

	while (*h == ' ' || *h == '\t')
		h++;
	n = strlen(h);
	while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
		n--;
	return strlen(body) == n && memcmp(h, body, n) == 0;
}

/* What Mcp-Name mirrors for method m: params.name or params.uri. */
static const char *name_of(const struct rpc_msg *m)
{
	const char *key = NULL;

	if (strcmp(m->method, "tools/call") == 0 || strcmp(m->method, "prompts/get") == 0)
		key = "name";
	else if (strcmp(m->method, "resources/read") == 0)
		key = "uri";
	return key && m->params ? json_string_value(json_object_get(m->params, key)) : NULL;
}

/* Check the headers that mirror the body; false (answered -32020) when
 * one is missing or differs. */
static bool headers_match(struct server *s, struct batch *b, struct rpc_msg *m,
			  const struct req_headers *hdr)
{
	char text[256], why[160];
	const char *name = name_of(m);

	if (!hdr->method || !header_equals(hdr->method, m->method)) {
		snprintf(text, sizeof(text),
			 "header mismatch: the Mcp-Method header must be sent and equal the body's "
			 "method ('%.64s')",
			 m->method);
		reply_rule(s, b, m->id, RPC_HEADER_MISMATCH, "http.header_mismatch", text);
		return false;
	}
	if (name && (!hdr->name || !header_equals(hdr->name, name))) {
		snprintf(text, sizeof(text),
			 "header mismatch: the Mcp-Name header must be sent and equal the body's "
			 "%s",
			 strcmp(m->method, "resources/read") == 0 ? "params.uri" : "params.name");
		reply_rule(s, b, m->id, RPC_HEADER_MISMATCH, "http.header_mismatch", text);
		return false;
	}
	if (strcmp(m->method, "tools/call") == 0 &&
	    !srv_param_headers_ok(s, srv_who(b), m, hdr, why, sizeof(why))) {
		snprintf(text, sizeof(text), "header mismatch: %s", why);
		reply_rule(s, b, m->id, RPC_HEADER_MISMATCH, "http.header_mismatch", text);
		return false;
	}
	return true;
}

/* Read _meta into b->era; false (answered) when it breaks a rule. */
static bool read_meta(struct server *s, struct batch *b, struct rpc_msg *m,
		      const struct req_headers *hdr)
{
	json_t *meta = m->params ? json_object_get(m->params, "_meta") : NULL;
	json_t *pv, *caps, *info, *lv;
	enum mcp_version v;
	enum log_level level;
	char text[256];

	if (!json_is_object(meta)) {
		reply_rule(s, b, m->id, RPC_INVALID_PARAMS, "protocol.meta_missing",
			   "invalid params: under protocol 2026-07-28 every request carries "
			   "params._meta with io.modelcontextprotocol/protocolVersion and "
			   "io.modelcontextprotocol/clientCapabilities (or send initialize first "
			   "to open a session of an earlier revision)");
		return false;
	}
	pv = json_object_get(meta, META_VERSION);
	caps = json_object_get(meta, META_CAPS);
	info = json_object_get(meta, META_INFO);
	lv = json_object_get(meta, META_LOG);
	if (!json_is_string(pv) || !json_is_object(caps)) {
		snprintf(text, sizeof(text), "invalid params: params._meta must carry %s (%s)",
			 json_is_string(pv) ? META_CAPS : META_VERSION,
			 json_is_string(pv) ? "an object" : "a string");
		reply_rule(s, b, m->id, RPC_INVALID_PARAMS, "protocol.meta_missing", text);
		return false;
	}
	if (info && (!json_is_object(info) || !json_is_string(json_object_get(info, "name")))) {
		reply_rule(s, b, m->id, RPC_INVALID_PARAMS, "protocol.meta_invalid",
			   "invalid params: params._meta io.modelcontextprotocol/clientInfo must be "
			   "an object with a name");
		return false;
	}
	if (lv && (!json_is_string(lv) || !log_parse_level(json_string_value(lv), &level) ||
		   strcmp(json_string_value(lv), "warn") == 0)) {
		reply_rule(s, b, m->id, RPC_INVALID_PARAMS, "protocol.meta_invalid",
			   "invalid params: params._meta io.modelcontextprotocol/logLevel must be "
			   "one of debug, info, notice, warning, error, critical, alert, emergency");
		return false;
	}
	if (hdr && hdr->protocol_version &&
	    !header_equals(hdr->protocol_version, json_string_value(pv))) {
		reply_rule(s, b, m->id, RPC_HEADER_MISMATCH, "http.header_mismatch",
			   "header mismatch: the MCP-Protocol-Version header differs from "
			   "params._meta io.modelcontextprotocol/protocolVersion");
		return false;
	}
	if (!mcp_version_parse(json_string_value(pv), &v) || !mcp_version_stateless(v)) {
		const char *req = json_string_value(pv);
		snprintf(text, sizeof(text),
			 "unsupported protocol version '%.*s': per-request _meta is served under "
			 "2026-07-28; earlier revisions begin with initialize",
			 (int)text_utf8_prefix(req, 64), req);
		srv_reply_code_data(s, b, m->id, RPC_UNSUPPORTED_VERSION, text,
				    unsupported_data(req));
		return false;
	}
	if (hdr && !hdr->protocol_version) {
		reply_rule(s, b, m->id, RPC_HEADER_MISMATCH, "http.header_mismatch",
			   "header mismatch: the MCP-Protocol-Version header must be sent and "
			   "equal params._meta io.modelcontextprotocol/protocolVersion");
		return false;
	}
	b->era.version = v;
	b->era.f = mcp_features_of(v);
	b->era.stateless = true;
	b->era.caps = json_incref(caps);
	b->era.meta = json_incref(meta);
	b->era.log_level = lv ? (int)level : -1;
	if (info) {
		const char *cn = json_string_value(json_object_get(info, "name"));
		size_t n = text_utf8_prefix(cn, sizeof(b->era.client_name) - 1);
		memcpy(b->era.client_name, cn, n);
		b->era.client_name[n] = '\0';
	}
	return true;
}

/* Methods this revision removed: they exist only with a session. */
static bool removed(const char *method)
{
	static const char *const gone[] = {"initialize", "ping", "logging/setLevel",
					   "resources/subscribe", "resources/unsubscribe"};

	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		if (strcmp(method, gone[i]) == 0)
			return true;
	return false;
}

void srv_stateless(struct server *s, struct batch *b, struct rpc_msg *m,
		   const struct req_headers *hdr)
{
	char text[160];

	if (!read_meta(s, b, m, hdr))
		return;
	if (removed(m->method) ||
	    (!srv_method_known(m->method) && strcmp(m->method, "server/discover") != 0)) {
		snprintf(text, sizeof(text), "method not found: %.*s%s",
			 (int)text_utf8_prefix(m->method, 64), m->method,
			 removed(m->method) ? " (not part of protocol 2026-07-28)" : "");
		reply_rule(s, b, m->id, RPC_METHOD_NOT_FOUND, "protocol.method_not_found", text);
		return;
	}
	if (hdr && !headers_match(s, b, m, hdr))
		return;
	if (strcmp(m->method, "server/discover") == 0)
		do_discover(s, b, m);
	else
		srv_dispatch(s, b, m);
}

/* ---- HTTP status of an answer ---------------------------------------- */

int server_http_status(const char *buf, size_t len)
{
	json_t *msg, *code;
	int status = 200;

	/* Only an error changes the status; look before parsing. */
	if (!buf || len == 0 || !memmem(buf, len, "\"error\"", 7))
		return 200;
	msg = json_loadb(buf, len, 0, NULL);
	code = json_object_get(json_object_get(msg, "error"), "code");
	if (json_is_integer(code) && !json_object_get(msg, "result")) {
		switch (json_integer_value(code)) {
		case RPC_METHOD_NOT_FOUND:
			status = 404;
			break;
		case RPC_PARSE_ERROR:
		case RPC_INVALID_REQUEST:
		case RPC_INVALID_PARAMS:
		case RPC_HEADER_MISMATCH:
		case RPC_MISSING_CAPABILITY:
		case RPC_UNSUPPORTED_VERSION:
			status = 400;
			break;
		default:
			break;
		}
	}
	json_decref(msg);
	return status;
}
