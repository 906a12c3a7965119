/*
 * http_request.c - the checks every request meets and the responses every
 * request gets: the Host and Origin allowlists (DNS rebinding and
 * cross-site requests), media-type lists, the security headers, and
 * refusals as JSON-RPC error bodies that name the rule and go to the audit
 * trail. Nothing a client sent is ever copied into a response header
 * except an Origin that is on the allowlist, echoed as CORS asks.
 *
 * Header lists are parsed by hand here because libmicrohttpd hands them
 * over as strings and the rules are small: a media range list split on
 * commas, a host with an optional port.
 */
#include "httpd_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsonrpc.h"
#include "log.h"
#include "metrics.h"

struct hdr_count {
	const char *name;
	const char *first;
	unsigned n;
};

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
				    const char *value)
{
	struct hdr_count *h = cls;

	(void)kind;
	if (strcasecmp(key, h->name) == 0) {
		if (h->n++ == 0)
			h->first = value;
	}
	return MHD_YES;
}

const char *httpd_header(struct MHD_Connection *c, const char *name, bool *dup)
{
	struct hdr_count h = {.name = name};

	MHD_get_connection_values(c, MHD_HEADER_KIND, count_header, &h);
	if (dup)
		*dup = h.n > 1;
	return h.first;
}

/* host (a Host header) equals want, with or without ":port". */
static bool host_is(const char *host, const char *want, uint16_t port)
{
	size_t wl = strlen(want);
	char p[8];

	if (strncasecmp(host, want, wl) != 0)
		return false;
	if (host[wl] == '\0')
		return true;
	if (host[wl] != ':' || port == 0)
		return false;
	snprintf(p, sizeof(p), "%u", (unsigned)port);
	return strcmp(host + wl + 1, p) == 0;
}

/* A configured entry: "name" matches the name with any port (behind a
 * proxy the port clients use is the proxy's), "name:port" exactly. */
static bool host_entry_match(const char *host, const char *entry)
{
	size_t wl = strlen(entry);
	const char *p;

	if (strcasecmp(host, entry) == 0)
		return true;
	if (entry[0] == '[' ? strstr(entry, "]:") != NULL : strchr(entry, ':') != NULL)
		return false;
	if (strncasecmp(host, entry, wl) != 0 || host[wl] != ':' || host[wl + 1] == '\0')
		return false;
	for (p = host + wl + 1; *p; p++) {
		if (*p < '0' || *p > '9')
			return false;
	}
	return true;
}

bool httpd_host_allowed(const struct httpd_listener *l, const char *host)
{
	const struct httpd_config *c = &l->cfg;
	char bound[HTTPD_ADDR_MAX + 2];

	if (!host || !*host || strlen(host) > 255)
		return false;
	if (c->nhosts > 0) {
		for (size_t i = 0; i < c->nhosts; i++) {
			if (host_entry_match(host, c->hosts[i]))
				return true;
		}
		return false;
	}
	snprintf(bound, sizeof(bound), c->addr.v6 ? "[%s]" : "%s", c->addr.host);
	if (host_is(host, bound, l->port))
		return true;
	if (c->addr.loopback)
		return host_is(host, "localhost", l->port) || host_is(host, "127.0.0.1", l->port) ||
		       host_is(host, "[::1]", l->port);
	return false;
}

/* Without listen.allowed_origins, the listener's own origins: its scheme,
 * one of the default host names, and its port (a page on another port of
 * the same host is another origin). */
static bool own_origin(const struct httpd_listener *l, const char *origin)
{
	const char *scheme = l->tls ? "https://" : "http://";
	size_t sl = strlen(scheme);
	char want[HTTPD_ADDR_MAX + 16];
	const char *names[4] = {NULL};
	size_t n = 0;
	char bound[HTTPD_ADDR_MAX + 2];

	if (strncasecmp(origin, scheme, sl) != 0)
		return false;
	snprintf(bound, sizeof(bound), l->cfg.addr.v6 ? "[%s]" : "%s", l->cfg.addr.host);
	names[n++] = bound;
	if (l->cfg.addr.loopback) {
		names[n++] = "localhost";
		names[n++] = "127.0.0.1";
		names[n++] = "[::1]";
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "%s:%u", names[i], (unsigned)l->port);
		if (strcasecmp(origin + sl, want) == 0)
			return true;
	}
	return false;
}

bool httpd_origin_allowed(const struct httpd_listener *l, const char *origin)
{
	if (!origin)
		return false;
	if (l->cfg.norigins == 0)
		return l->cfg.nhosts == 0 && own_origin(l, origin);
	for (size_t i = 0; i < l->cfg.norigins; i++) {
		if (strcasecmp(origin, l->cfg.origins[i]) == 0)
			return true;
	}
	return false;
}

bool httpd_media_listed(const char *list, const char *type)
{
	size_t tl = strlen(type);

	while (list && *list) {
		const char *end = strchr(list, ',');
		size_t n = end ? (size_t)(end - list) : strlen(list);
		const char *p = list, *e = list + n;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		const char *semi = memchr(p, ';', (size_t)(e - p));
		const char *te = semi ? semi : e;
		while (te > p && (te[-1] == ' ' || te[-1] == '\t'))
			te--;
		if ((size_t)(te - p) == tl && strncasecmp(p, type, tl) == 0)
			return true;
		list = end ? end + 1 : NULL;
	}
	return false;
}

void httpd_add_headers(const struct httpd_listener *l, const struct httpd_req *r,
		       struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Content-Security-Policy",
				"default-src 'none'; frame-ancestors 'none'");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	if (l->tls)
		MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=63072000");
	if (r && r->origin_ok[0]) {
		MHD_add_response_header(resp, "Access-Control-Allow-Origin", r->origin_ok);
		MHD_add_response_header(resp, "Access-Control-Expose-Headers",
					"Mcp-Session-Id, WWW-Authenticate");
		MHD_add_response_header(resp, "Vary", "Origin");
	}
}

enum MHD_Result httpd_reply_close(struct httpd_req *r, unsigned status, const char *ctype,
				  const char *body, size_t len, const char *extra_name,
				  const char *extra_value, bool close)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(body ? len : 0, (void *)(body ? body : ""),
						MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO;
	httpd_add_headers(r->l, r, resp);
	if (ctype)
		MHD_add_response_header(resp, "Content-Type", ctype);
	if (extra_name && extra_value)
		MHD_add_response_header(resp, extra_name, extra_value);
	/* A refused request's connection is not reused: whatever follows on
	 * it (an unread body, a pipelined request hidden in it) is never
	 * parsed as a request. */
	if (close)
		MHD_add_response_header(resp, "Connection", "close");
	ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	r->state = RS_DONE;
	return ret;
}

enum MHD_Result httpd_reply(struct httpd_req *r, unsigned status, const char *ctype,
			    const char *body, size_t len, const char *extra_name,
			    const char *extra_value)
{
	return httpd_reply_close(r, status, ctype, body, len, extra_name, extra_value, false);
}

/* The record names the principal and the client's address, never the
 * Mcp-Session-Id: with a credential it would let a reader of the trail
 * into the session (the server's call records carry a session id of
 * their own for correlation). */
void httpd_security_event(struct httpd_req *r, const char *rule, const char *outcome)
{
	struct audit_event ev = {
		.kind = "security",
		.principal = r->who.name[0] ? r->who.name : NULL,
		.addr = r->who.addr[0] ? r->who.addr : NULL,
		.tool = "http",
		.outcome = outcome,
		.rule = rule,
	};

	log_info("http: refused a request from %s (rule %s)", r->who.addr, rule);
	audit_write(r->l->audit, &ev);
	metrics_note(r->l->metrics, &ev);
}

enum MHD_Result httpd_refuse_with(struct httpd_req *r, unsigned status, int code,
				  const char *rule, const char *msg, const char *hname,
				  const char *hvalue)
{
	json_t *body = json_pack("{s:s, s:n, s:{s:i, s:s, s:{s:s}}}", "jsonrpc", "2.0", "id",
				 "error", "code", code, "message", msg, "data", "rule", rule);
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	bool limit = status == 429 || status == 413 || status == 503;
	const char *cl;
	enum MHD_Result ret;

	json_decref(body);
	httpd_security_event(r, rule, limit ? "limit" : "denied");
	if (limit)
		metrics_rate_limited(r->l->metrics, rule);
	/* Refused before its body was read: linger, so the client reads the
	 * answer instead of a reset (http_linger.c). */
	if (r->state == RS_NEW && r->conn &&
	    (httpd_header(r->conn, "Transfer-Encoding", NULL) ||
	     ((cl = httpd_header(r->conn, "Content-Length", NULL)) && strcmp(cl, "0") != 0)))
		httpd_linger_add(r->l, r->conn);
	ret = httpd_reply_close(r, status, "application/json", text, text ? strlen(text) : 0,
				hname, hvalue, true);
	free(text);
	return ret;
}

enum MHD_Result httpd_refuse(struct httpd_req *r, unsigned status, int code, const char *rule,
			     const char *msg, unsigned retry_after)
{
	char ra[16];

	snprintf(ra, sizeof(ra), "%u", retry_after);
	return httpd_refuse_with(r, status, code, rule, msg, retry_after ? "Retry-After" : NULL,
				 retry_after ? ra : NULL);
}
