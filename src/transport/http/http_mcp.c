/*
 * http_mcp.c - the MCP endpoint, /mcp: the Streamable HTTP rules of MCP
 * 2025-11-25 (POST a message, GET the session's stream, DELETE the
 * session) before a message reaches the server core.
 *
 * Nothing here reads a message beyond asking whether a POST without a
 * session is an initialize request of the session era (which creates
 * one; anything else without a session is a 2026-07-28 request, served
 * statelessly: http_stateless.c): versions, batches and every JSON-RPC
 * rule are the core's, so the same core answers stdio and HTTP alike. The
 * only version logic is asking the core whether the MCP-Protocol-Version
 * header of a session's request names a version it speaks; without a
 * session the core checks it against the body and answers.
 */
#include "httpd_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
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

#define CORS_BASE_HEADERS                                                                  \
	"Content-Type, Accept, Authorization, Mcp-Session-Id, MCP-Protocol-Version, "       \
	"Last-Event-ID, Mcp-Method, Mcp-Name"

/*
 * The request headers a page of an allowed origin may send: the fixed
 * ones, and each Mcp-Param-<Name> its preflight asks for (CORS has no
 * prefix wildcard, and "*" never covers Authorization). Only header
 * names made of token characters are echoed, lowercased, and only as
 * many as fit.
 */
static void cors_allow_headers(struct httpd_req *r, char *out, size_t n)
{
	const char *want = httpd_header(r->conn, "Access-Control-Request-Headers", NULL);
	size_t used = (size_t)snprintf(out, n, "%s", CORS_BASE_HEADERS);
	size_t pl = strlen("mcp-param-");

	while (want && *want && used < n) {
		size_t k;
		want += strspn(want, " \t,");
		k = strcspn(want, " \t,");
		if (k > pl && k < 128 && strncasecmp(want, "mcp-param-", pl) == 0 &&
		    strspn(want, "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				 "abcdefghijklmnopqrstuvwxyz") >= k &&
		    used + k + 2 < n) {
			out[used++] = ',';
			out[used++] = ' ';
			for (size_t i = 0; i < k; i++)
				out[used++] = (char)tolower((unsigned char)want[i]);
			out[used] = '\0';
		}
		want += k;
	}
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
		char allow[1024];
		cors_allow_headers(r, allow, sizeof(allow));
		MHD_add_response_header(resp, "Access-Control-Allow-Headers", allow);
		MHD_add_response_header(resp, "Access-Control-Max-Age", "600");
	}
	ret = MHD_queue_response(r->conn, MHD_HTTP_NO_CONTENT, resp);
	MHD_destroy_response(resp);
	r->state = RS_DONE;
	return ret;
}

/* No session could be opened or adopted here: a limit (rule), shutdown,
 * or ENOMEM (rule NULL). */
static enum MHD_Result refuse_no_session(struct httpd_req *r, const char *rule)
{
	bool global = !rule || strcmp(rule, "limits.http_sessions_per_principal") != 0;

	return httpd_refuse(r, global ? 503 : 429, ERR_SERVER, rule ? rule : "http.out_of_memory",
			    !global ? "this principal has listen.max_sessions_per_principal "
				      "sessions open; DELETE one first"
				    : "no session can be opened now",
			    30);
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
		const char *rule = NULL;
		r->sess = httpd_session_find(l, sid, &r->who, &rule);
		if (!r->sess && rule && strcmp(rule, "http.session_store_unavailable") == 0)
			return httpd_refuse(r, MHD_HTTP_SERVICE_UNAVAILABLE, ERR_SERVER, rule,
					    "the session was opened on another replica, and the "
					    "shared store cannot say now whether it has ended; try "
					    "again shortly",
					    1);
		if (!r->sess && rule && strcmp(rule, "http.session_unknown") != 0)
			return refuse_no_session(r, rule);
		if (!r->sess)
			return httpd_refuse(r, MHD_HTTP_NOT_FOUND, ERR_SERVER, "http.session_unknown",
					    "no such session: it ended, expired or never existed; "
					    "initialize a new one",
					    0);
		/* The transport spec: an invalid or unsupported version is 400.
		 * Which versions exist is the core's knowledge; clients such as
		 * the conformance suite send another supported one than they
		 * negotiated, so equality with the session's is not asked, and
		 * 2026-07-28 is one (a session's request whose _meta names it is
		 * served under it). Without a session the core answers an
		 * unknown one itself (-32022 or -32020, with the request's id). */
		enum mcp_version v;
		if (pv && !mcp_version_parse(pv, &v))
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
		const char *rule;
		if (!httpd_collect_headers(r, &rule))
			return httpd_refuse(r, MHD_HTTP_BAD_REQUEST, ERR_BAD_REQUEST, rule,
					    strcmp(rule, "http.param_headers") == 0
						    ? "a request may carry at most 32 Mcp-Param-* headers"
						    : "MCP-Protocol-Version, Mcp-Method, Mcp-Name and each "
						      "Mcp-Param-* header may be sent once",
					    0);
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
	httpd_session_end_shared(l, r->sess, true);
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

/* A POST without a session that is not an initialize: a 2026-07-28
 * request, answered on its own route with the core's HTTP status. */
static enum MHD_Result serve_stateless(struct httpd_req *r, const char *method)
{
	const char *rule;

	r->stateless = true;
	r->era_status = true;
	r->hdr.stateless = true;
	r->listen = strcmp(method, "subscriptions/listen") == 0;
	r->state = RS_WAITING;
	if (httpd_stateless_dispatch(r, &rule) < 0) {
		bool limit = strcmp(rule, "limits.http_sse_streams") == 0;
		return httpd_refuse(r, limit ? MHD_HTTP_TOO_MANY_REQUESTS : MHD_HTTP_SERVICE_UNAVAILABLE,
				    ERR_SERVER, rule,
				    limit ? "this principal has listen.max_sse_streams_per_session "
					    "subscriptions/listen streams open"
					  : "the server is shutting down",
				    5);
	}
	return httpd_respond_post(r);
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
		char method[64];
		/* A 2026-07-28 client names the method in Mcp-Method (the core
		 * refuses a body that says otherwise, -32020): no need to parse
		 * the body here only to learn it is not initialize. */
		const char *hm = r->hdr.method;
		if (hm && strcmp(hm, "initialize") != 0) {
			snprintf(method, sizeof(method), "%s", hm);
			return serve_stateless(r, method);
		}
		if (httpd_body_kind(r->body, r->body_len, method, sizeof(method)) != 1)
			return serve_stateless(r, method);
		r->sess = httpd_session_create(r->l, &r->who, &rule);
		if (!r->sess)
			return refuse_no_session(r, rule);
		r->init = true;
	}
	r->era_status = httpd_body_names_stateless(r->body, r->body_len);
	r->state = RS_WAITING;
	if (httpd_session_dispatch(r->sess, r) < 0)
		return httpd_refuse(r, MHD_HTTP_NOT_FOUND, ERR_SERVER, "http.session_unknown",
				    "the session ended", 0);
	return httpd_respond_post(r);
}
