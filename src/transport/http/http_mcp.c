/*
 * http_mcp.c - the MCP endpoint, /mcp: the Streamable HTTP rules of MCP
 * 2025-11-25 (POST a message, GET the session's stream, DELETE the
 * session) before a message reaches the server core.
 *
 * Nothing here reads a message beyond asking whether a POST without a
 * session is an initialize request (which creates one): versions, batches
 * and every JSON-RPC rule are the core's, so the same core answers stdio
 * and HTTP alike. The only version logic is asking the core whether an
 * MCP-Protocol-Version header names a version it speaks.
 */
#include "httpd_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "metrics.h"
#include "version.h"

#define ERR_BAD_REQUEST (-32600)
#define ERR_SERVER (-32000)

/* Content-Type is one media type: "application/json" with parameters. */
static bool content_type_json(const char *ct)
{
	return ct && !strchr(ct, ',') && httpd_media_listed(ct, "application/json");
}

static enum MHD_Result preflight(struct httpd_req *r)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"",
								    MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	httpd_add_headers(r->l, r, resp);
	MHD_add_response_header(resp, "Allow", "GET, POST, DELETE, OPTIONS");
	if (r->origin_ok[0]) {
		MHD_add_response_header(resp, "Access-Control-Allow-Methods",
					"GET, POST, DELETE, OPTIONS");
		MHD_add_response_header(resp, "Access-Control-Allow-Headers",
					"Content-Type, Accept, Authorization, Mcp-Session-Id, "
					"MCP-Protocol-Version, Last-Event-ID");
		MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	}
	ret = MHD_queue_response(r->conn, MHD_HTTP_NO_CONTENT, resp);
	MHD_destroy_response(resp);
	r->state = RS_DONE;
	return ret;
}

enum MHD_Result httpd_mcp_begin(struct httpd_req *r, const char *method)
{
	struct httpd_listener *l = r->l;
	struct MHD_Connection *c = r->conn;
	const char *sid, *pv, *accept;
	enum MHD_Result ret;
	bool dup = false, dup2 = false;

	if (strcmp(method, "OPTIONS") == 0)
		return preflight(r);
	if (strcmp(method, "POST") && strcmp(method, "GET") && strcmp(method, "DELETE"))
		return httpd_refuse_with(r, MHD_HTTP_METHOD_NOT_ALLOWED, ERR_BAD_REQUEST,
					 "http.method", "/mcp takes POST, GET and DELETE", "Allow",
					 "GET, POST, DELETE, OPTIONS");
	if (!httpd_authenticate(r, &ret))
		return ret;
	sid = httpd_header(c, "Mcp-Session-Id", &dup);
	pv = httpd_header(c, "MCP-Protocol-Version", &dup2);
	if (dup || dup2)
		return httpd_refuse(r, MHD_HTTP_BAD_REQUEST, ERR_BAD_REQUEST, "http.duplicate_header",
				    "Mcp-Session-Id and MCP-Protocol-Version may be sent once", 0);
	if (sid) {
		r->sess = httpd_session_find(l, sid, r->who.name);
		if (!r->sess)
			return httpd_refuse(r, MHD_HTTP_NOT_FOUND, ERR_SERVER, "http.session_unknown",
					    "no such session: it ended, expired or never existed; "
					    "initialize a new one",
					    0);
		/* The transport spec: an invalid or unsupported version is 400.
		 * Which versions exist is the core's knowledge (mcp_negotiate
		 * echoes exactly the ones it speaks); clients such as the
		 * conformance suite send another supported one than they
		 * negotiated, so equality with the session's is not asked. */
		if (pv && strcmp(mcp_version_name(mcp_negotiate(pv)), pv) != 0)
			return httpd_refuse(r, MHD_HTTP_BAD_REQUEST, ERR_BAD_REQUEST,
					    "http.protocol_version",
					    "MCP-Protocol-Version names no protocol version this "
					    "server speaks",
					    0);
	}
	accept = httpd_header(c, "Accept", NULL);
	if (strcmp(method, "POST") == 0) {
		const char *cl = httpd_header(c, "Content-Length", NULL);
		if (!content_type_json(httpd_header(c, "Content-Type", NULL)))
			return httpd_refuse(r, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, ERR_BAD_REQUEST,
					    "http.content_type",
					    "a POST to /mcp must have Content-Type: application/json",
					    0);
		if (!httpd_media_listed(accept, "application/json") ||
		    !httpd_media_listed(accept, "text/event-stream"))
			return httpd_refuse(r, MHD_HTTP_NOT_ACCEPTABLE, ERR_BAD_REQUEST, "http.accept",
					    "a POST to /mcp must list both application/json and "
					    "text/event-stream in Accept",
					    0);
		if (cl) {
			char *end;
			errno = 0;
			unsigned long long n = strtoull(cl, &end, 10);
			if (errno || *end || n > l->cfg.max_body_bytes)
				return httpd_refuse(r, MHD_HTTP_CONTENT_TOO_LARGE, ERR_BAD_REQUEST,
						    "http.body_too_large",
						    "the body is larger than listen.max_body_bytes", 0);
		}
		r->kind = REQ_POST;
		r->state = RS_READING;
		return MHD_YES;
	}
	if (strcmp(method, "GET") == 0) {
		if (!httpd_media_listed(accept, "text/event-stream"))
			return httpd_refuse(r, MHD_HTTP_NOT_ACCEPTABLE, ERR_BAD_REQUEST, "http.accept",
					    "a GET of /mcp must list text/event-stream in Accept", 0);
		if (!r->sess)
			return httpd_refuse(r, MHD_HTTP_BAD_REQUEST, ERR_BAD_REQUEST,
					    "http.session_missing",
					    "a GET of /mcp needs the Mcp-Session-Id of a session", 0);
		r->kind = REQ_GET_STREAM;
		if (httpd_session_attach_stream(r->sess, r, httpd_header(c, "Last-Event-ID", NULL))) {
			r->kind = REQ_OTHER;
			return httpd_refuse(r, MHD_HTTP_TOO_MANY_REQUESTS, ERR_SERVER,
					    "limits.http_sse_streams",
					    "this session has listen.max_sse_streams_per_session "
					    "streams open",
					    5);
		}
		return httpd_open_stream(r);
	}
	/* DELETE */
	if (!r->sess)
		return httpd_refuse(r, MHD_HTTP_BAD_REQUEST, ERR_BAD_REQUEST, "http.session_missing",
				    "DELETE needs the Mcp-Session-Id of a session", 0);
	httpd_session_kill(r->sess);
	log_info("http: a session ended by DELETE");
	return httpd_reply(r, MHD_HTTP_NO_CONTENT, NULL, NULL, 0, NULL, NULL);
}

enum MHD_Result httpd_mcp_body(struct httpd_req *r, const char *data, size_t *size)
{
	struct httpd_listener *l = r->l;
	size_t n = *size;

	*size = 0;
	if (moat_now_ns() - r->start_ns > (uint64_t)l->cfg.read_timeout_s * 1000000000ull) {
		httpd_security_event(r, "limits.http_read_deadline", "limit");
		metrics_rate_limited(l->metrics, "limits.http_read_deadline");
		return MHD_NO; /* MHD cannot answer mid-body: the connection is closed */
	}
	if (r->too_large || n > l->cfg.max_body_bytes - r->body_len) {
		/* MHD can answer only once the body is read: drop the rest (the
		 * deadline above still bounds it), answer 413 at its end. */
		r->too_large = true;
		free(r->body);
		r->body = NULL;
		r->body_len = r->body_cap = 0;
		return MHD_YES;
	}
	if (r->body_len + n > r->body_cap) {
		size_t cap = r->body_cap ? r->body_cap : 4096;
		while (cap < r->body_len + n)
			cap *= 2;
		if (cap > l->cfg.max_body_bytes)
			cap = l->cfg.max_body_bytes;
		char *nb = realloc(r->body, cap);
		if (!nb)
			return MHD_NO;
		r->body = nb;
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, data, n);
	r->body_len += n;
	return MHD_YES;
}

/* A POST without a session may only initialize one. */
static bool is_initialize(const char *body, size_t len)
{
	json_t *m = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	const char *method = json_string_value(json_object_get(m, "method"));
	bool yes = json_is_object(m) && method && strcmp(method, "initialize") == 0;

	json_decref(m);
	return yes;
}

enum MHD_Result httpd_mcp_end(struct httpd_req *r)
{
	const char *rule = NULL;

	if (r->state == RS_WAITING) /* resumed: an answer came */
		return httpd_respond_post(r);
	if (r->too_large)
		return httpd_refuse(r, MHD_HTTP_CONTENT_TOO_LARGE, ERR_BAD_REQUEST,
				    "http.body_too_large",
				    "the body is larger than listen.max_body_bytes", 0);
	if (r->body_len == 0)
		return httpd_refuse(r, MHD_HTTP_BAD_REQUEST, ERR_BAD_REQUEST, "http.empty_body",
				    "a POST to /mcp carries one JSON-RPC message", 0);
	if (!r->sess) {
		if (!is_initialize(r->body, r->body_len))
			return httpd_refuse(r, MHD_HTTP_BAD_REQUEST, ERR_BAD_REQUEST,
					    "http.session_missing",
					    "this request needs the Mcp-Session-Id header of an "
					    "initialized session (only initialize may come without "
					    "one)",
					    0);
		r->sess = httpd_session_create(r->l, &r->who, &rule);
		if (!r->sess) {
			bool global = rule && strcmp(rule, "limits.http_sessions_per_principal") != 0;
			return httpd_refuse(r, global ? 503 : 429, ERR_SERVER,
					    rule ? rule : "http.out_of_memory",
					    rule && !global ? "this principal has "
							      "listen.max_sessions_per_principal "
							      "sessions open; DELETE one first"
						       : "no session can be opened now",
					    30);
		}
		r->init = true;
	}
	r->state = RS_WAITING;
	if (httpd_session_dispatch(r->sess, r) < 0)
		return httpd_refuse(r, MHD_HTTP_NOT_FOUND, ERR_SERVER, "http.session_unknown",
				    "the session ended", 0);
	return httpd_respond_post(r);
}
