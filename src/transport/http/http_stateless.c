/*
 * http_stateless.c - requests without a session (MCP 2026-07-28) and what
 * the transport tells the core about a request's MCP headers.
 *
 * A POST without Mcp-Session-Id that is not an initialize of the session
 * era is served on its own: one struct server per listener serves them all
 * (sharing the worker pool and the global rate bucket with the sessions'),
 * the principal comes with each request and nothing is remembered between
 * them, so one principal's declared capabilities never reach another's
 * request. Which HTTP status an answer takes is the core's decision
 * (server_http_status): the transport never reads JSON-RPC errors itself.
 *
 * The headers that mirror the body (MCP-Protocol-Version, Mcp-Method,
 * Mcp-Name, Mcp-Param-*) are read here, names case-insensitively and
 * values trimmed of OWS, and handed to the core, which checks them
 * against the body. A subscriptions/listen POST never gets its final
 * message while its client listens; when the client goes away (MHD ends
 * the request with an error, or the housekeeper finds its socket closed
 * while the connection is suspended, which MHD does not watch), the core
 * is told with server_route_closed and the route lives on until its final
 * arrives. The same holds for a session POST whose call still runs.
 */
#include "httpd_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

#define PARAM_PREFIX "Mcp-Param-"
#define META_VERSION "io.modelcontextprotocol/protocolVersion"

/* ---- the MCP headers ------------------------------------------------- */

struct hdr_scan {
	const char *pv, *method, *name;
	const char *pnames[HTTPD_MAX_PARAM_HEADERS], *pvalues[HTTPD_MAX_PARAM_HEADERS];
	unsigned np;
	bool dup, too_many;
};

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind, const char *key,
				   const char *value)
{
	struct hdr_scan *h = cls;
	size_t pl = strlen(PARAM_PREFIX);
	const char **slot = NULL;

	(void)kind;
	if (!value)
		value = "";
	if (strcasecmp(key, "MCP-Protocol-Version") == 0)
		slot = &h->pv;
	else if (strcasecmp(key, "Mcp-Method") == 0)
		slot = &h->method;
	else if (strcasecmp(key, "Mcp-Name") == 0)
		slot = &h->name;
	if (slot) {
		h->dup |= *slot != NULL;
		*slot = value;
		return MHD_YES;
	}
	if (strncasecmp(key, PARAM_PREFIX, pl) != 0 || key[pl] == '\0')
		return MHD_YES;
	for (unsigned i = 0; i < h->np; i++)
		h->dup |= strcasecmp(h->pnames[i], key + pl) == 0;
	if (h->np == HTTPD_MAX_PARAM_HEADERS) {
		h->too_many = true;
		return MHD_YES;
	}
	h->pnames[h->np] = key + pl;
	h->pvalues[h->np++] = value;
	return MHD_YES;
}

/* Copy v trimmed of spaces and tabs to *p (advanced past its NUL). */
static const char *put_trimmed(char **p, const char *v)
{
	const char *start = *p;
	size_t n;

	while (*v == ' ' || *v == '\t')
		v++;
	n = strlen(v);
	while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
		n--;
	memcpy(*p, v, n);
	(*p)[n] = '\0';
	*p += n + 1;
	return start;
}

bool httpd_collect_headers(struct httpd_req *r, const char **rule)
{
	struct hdr_scan h = {0};
	size_t total = 0;
	char *p;

	*rule = NULL;
	MHD_get_connection_values(r->conn, MHD_HEADER_KIND, scan_header, &h);
	if (h.dup) {
		*rule = "http.duplicate_header";
		return false;
	}
	if (h.too_many) {
		*rule = "http.param_headers";
		return false;
	}
	total += (h.pv ? strlen(h.pv) + 1 : 0) + (h.method ? strlen(h.method) + 1 : 0) +
		 (h.name ? strlen(h.name) + 1 : 0);
	for (unsigned i = 0; i < h.np; i++)
		total += strlen(h.pnames[i]) + strlen(h.pvalues[i]) + 2;
	free(r->hbuf);
	r->hbuf = p = malloc(total + 1);
	if (!p) {
		*rule = "http.out_of_memory";
		return false;
	}
	r->hdr = (struct req_headers){0};
	if (h.pv)
		r->hdr.protocol_version = put_trimmed(&p, h.pv);
	if (h.method)
		r->hdr.method = put_trimmed(&p, h.method);
	if (h.name)
		r->hdr.name = put_trimmed(&p, h.name);
	for (unsigned i = 0; i < h.np; i++) {
		r->params[i].name = put_trimmed(&p, h.pnames[i]);
		r->params[i].value = put_trimmed(&p, h.pvalues[i]);
	}
	r->hdr.params = r->params;
	r->hdr.n_params = h.np;
	return true;
}

/* ---- what a body asks ------------------------------------------------ */

/* Whether m's params._meta names a protocol revision. */
static bool meta_names_version(json_t *m)
{
	json_t *meta = json_object_get(json_object_get(m, "params"), "_meta");

	return json_is_object(meta) && json_object_get(meta, META_VERSION) != NULL;
}

int httpd_body_kind(const char *body, size_t len, char *method, size_t n)
{
	json_t *m = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	const char *meth = json_string_value(json_object_get(m, "method"));
	int kind = 0;

	if (n)
		method[0] = '\0';
	if (json_is_object(m) && meth) {
		if (strlen(meth) < n)
			memcpy(method, meth, strlen(meth) + 1);
		kind = strcmp(meth, "initialize") == 0 && !meta_names_version(m);
	}
	json_decref(m);
	return kind;
}

bool httpd_body_names_stateless(const char *body, size_t len)
{
	json_t *m;
	const char *meth;
	bool yes;

	/* Most session bodies name neither: look before parsing. */
	if (!memmem(body, len, META_VERSION, strlen(META_VERSION)) &&
	    !memmem(body, len, "server/discover", 15))
		return false;
	m = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	meth = json_string_value(json_object_get(m, "method"));
	yes = json_is_object(m) && meth &&
	      (strcmp(meth, "server/discover") == 0 || meta_names_version(m));
	json_decref(m);
	return yes;
}

/* ---- the stateless server --------------------------------------------- */

/* server_send_fn of the listener's stateless server. Nothing belongs to a
 * session here, so a message without a route (none is expected: process
 * logs are not forwarded over HTTP) is dropped, and so is a request to
 * close a stream for polling (no session: nothing to resume on). */
static void stateless_send(void *ctx, void *route, const char *buf, size_t len, bool final)
{
	struct httpd_req *r = route;

	(void)ctx;
	if (!r || (!buf && !final))
		return;
	httpd_req_deliver(r, buf, len, final, 0);
	if (final)
		httpd_req_put(r); /* the route's reference */
}

bool httpd_stateless_init(struct httpd_listener *l)
{
	l->ssrv = server_new(&l->sopts, l->reg, stateless_send, l);
	return l->ssrv != NULL;
}

bool httpd_stateless_fini(struct httpd_listener *l, uint32_t ms)
{
	if (!l->ssrv)
		return true;
	server_wait_idle(l->ssrv, ms);
	/* No thread may be inside server_handle_from or server_route_closed
	 * when it stops; none enters once s_closing is set. */
	pthread_mutex_lock(&l->rlock);
	l->s_closing = true;
	pthread_mutex_unlock(&l->rlock);
	for (;;) {
		pthread_mutex_lock(&l->rlock);
		unsigned h = l->s_handling;
		pthread_mutex_unlock(&l->rlock);
		if (h == 0)
			break;
		usleep(1000);
	}
	if (!server_shutdown(l->ssrv, 0, HTTPD_CANCEL_MS)) {
		log_warn("http: a stateless call did not stop in time");
		return false;
	}
	server_free(l->ssrv);
	l->ssrv = NULL;
	return true;
}

/* Listen streams r->who has open. rlock held. */
static unsigned listens_of(struct httpd_listener *l, const struct httpd_req *r)
{
	unsigned n = 0;

	for (struct httpd_req *o = l->reqs; o; o = o->next) {
		if (o == r || !o->listen || strcmp(o->who.name, r->who.name) != 0)
			continue;
		pthread_mutex_lock(&o->lock);
		n += o->route_live && !o->client_gone;
		pthread_mutex_unlock(&o->lock);
	}
	return n;
}

int httpd_stateless_dispatch(struct httpd_req *r, const char **rule)
{
	struct httpd_listener *l = r->l;

	*rule = NULL;
	/* Under rlock: stopping is read and a thread counted in one step, so
	 * httpd_stateless_fini (which sees stopping set, then waits for the
	 * count to drop) never frees the server under a dispatch. The access
	 * handler runs on MHD's one thread: counting listen streams and
	 * taking a slot cannot race another dispatch. */
	pthread_mutex_lock(&l->rlock);
	pthread_mutex_lock(&l->tlock);
	if (l->stopping || !l->ssrv || l->s_closing)
		*rule = "http.shutting_down";
	pthread_mutex_unlock(&l->tlock);
	if (!*rule && r->listen && listens_of(l, r) >= l->cfg.max_sse_streams_per_session)
		*rule = "limits.http_sse_streams";
	if (!*rule)
		l->s_handling++;
	pthread_mutex_unlock(&l->rlock);
	if (*rule)
		return -1;
	pthread_mutex_lock(&r->lock);
	r->route_live = true;
	r->refs++; /* the route's reference, dropped with the final answer */
	pthread_mutex_unlock(&r->lock);
	server_handle_from(l->ssrv, r->body ? r->body : "", r->body_len,
			   &(struct server_origin){.who = &r->who, .route = r, .hdr = &r->hdr});
	pthread_mutex_lock(&l->rlock);
	l->s_handling--;
	pthread_mutex_unlock(&l->rlock);
	return 0;
}

/* ---- clients that went away ------------------------------------------- */

void httpd_route_gone(struct httpd_req *r)
{
	struct server *srv;

	pthread_mutex_lock(&r->lock);
	r->client_gone = true;
	if (!r->route_live || r->route_closed || r->detached) {
		pthread_mutex_unlock(&r->lock);
		return;
	}
	r->route_closed = true;
	srv = r->sess ? NULL : r->l->ssrv;
	pthread_mutex_unlock(&r->lock);
	if (!r->sess) {
		/* Counted like a dispatch, so httpd_stateless_fini does not
		 * free the server under us (MHD's thread still runs then). */
		struct httpd_listener *l = r->l;
		bool in;
		pthread_mutex_lock(&l->rlock);
		in = srv && !l->s_closing;
		if (in)
			l->s_handling++;
		pthread_mutex_unlock(&l->rlock);
		if (!in)
			return;
		server_route_closed(srv, r);
		pthread_mutex_lock(&l->rlock);
		l->s_handling--;
		pthread_mutex_unlock(&l->rlock);
		return;
	}
	/* Counted as a thread inside the session's server, so the reaper
	 * does not shut it down under us; an ended session cancels its
	 * calls itself. */
	if (httpd_session_enter(r->sess)) {
		server_route_closed(r->sess->srv, r);
		httpd_session_leave(r->sess);
	}
}

void httpd_reqs_check_gone(struct httpd_listener *l)
{
	struct httpd_req *gone[64];
	unsigned n = 0;
	char c;

	pthread_mutex_lock(&l->rlock);
	for (struct httpd_req *r = l->reqs; r && n < 64; r = r->next) {
		pthread_mutex_lock(&r->lock);
		/* A suspended connection is not polled by MHD: a closed socket
		 * reads 0 bytes here (peeked, so nothing is taken from MHD). */
		if (r->conn && r->suspended && r->fd >= 0 && !r->client_gone &&
		    recv(r->fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0) {
			r->client_gone = true;
			r->refs++;
			gone[n++] = r;
		}
		pthread_mutex_unlock(&r->lock);
	}
	pthread_mutex_unlock(&l->rlock);
	for (unsigned i = 0; i < n; i++) {
		struct httpd_req *r = gone[i];
		httpd_route_gone(r);
		httpd_req_end(r, true); /* resume: MHD closes the connection */
		httpd_req_put(r);
	}
}
