/*
 * server.c - one MCP session: lifecycle, dispatch, initialize, listing.
 * How answers and audit records leave it is server_output.c.
 *
 * Threading: server_handle() runs on the transport's reader thread. Tool
 * calls run on the pool. Shared session state (initialized, revision, the
 * in-flight table, the client's log level) is guarded by s->lock. A call is
 * owned by its worker from submission until it replies; the in-flight table
 * only lends it to notifications/cancelled, under the lock.
 */
#include "server_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/random.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "pool.h"
#include "rpc_scan.h"
#include "store.h"
#include "text.h"
#include "version.h"

static void log_forward(void *ctx, enum log_level level, const char *msg)
{
	json_t *params = json_pack("{s:s, s:s, s:s}", "level", log_level_name(level), "logger",
				   "moat", "data", msg);
	srv_send_json(ctx, rpc_notification("notifications/message", params));
}

/* A random session id (32 hex digits) for the audit trail. getrandom,
 * not /dev/urandom: the session starts after the sandbox, which denies
 * opening /dev/urandom. */
static void new_session_id(char out[33])
{
	unsigned char r[16] = {0};

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		uint64_t t = moat_now_ns();
		memcpy(r, &t, sizeof(t));
	}
	for (size_t i = 0; i < sizeof(r); i++)
		snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* ---- lifecycle ------------------------------------------------------- */

struct server *server_new(const struct server_opts *opts, struct registry *reg,
			  server_send_fn send, void *send_ctx)
{
	struct server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->opts = *opts;
	s->reg = reg;
	s->send = send;
	s->send_ctx = send_ctx;
	s->own_pool = !opts->pool;
	s->pool = s->own_pool ? pool_new(opts->limits.workers, opts->limits.max_concurrent_calls)
			      : opts->pool;
	s->empty_args = json_object();
	if (!s->pool || !s->empty_args) {
		if (s->own_pool)
			pool_free(s->pool);
		json_decref(s->empty_args);
		free(s);
		return NULL;
	}
	bucket_init(&s->own_bucket, opts->limits.calls_per_minute);
	bucket_set_key(&s->own_bucket, "global");
	s->global_bucket = opts->global_bucket ? opts->global_bucket : &s->own_bucket;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->calls_ended, NULL);
	s->version = MCP_VERSION_LATEST;
	s->features = mcp_features_of(s->version);
	s->client_log_level = -1;
	new_session_id(s->session);
	return s;
}

/* Wait until no call or resource job is in flight, up to until. Lock held. */
static bool wait_idle_locked(struct server *s, const struct timespec *until)
{
	while (s->inflight_count > 0)
		if (pthread_cond_timedwait(&s->calls_ended, &s->lock, until) == ETIMEDOUT)
			break;
	return s->inflight_count == 0;
}

bool server_wait_idle(struct server *s, uint32_t timeout_ms)
{
	struct timespec until = moat_deadline_ts(timeout_ms);
	bool idle;

	pthread_mutex_lock(&s->lock);
	idle = wait_idle_locked(s, &until);
	pthread_mutex_unlock(&s->lock);
	return idle;
}

bool server_shutdown(struct server *s, uint32_t drain_ms, uint32_t cancel_ms)
{
	struct timespec until;
	bool done;

	pthread_mutex_lock(&s->lock);
	s->shutting_down = true;
	if (drain_ms > 0) {
		/* Let what runs finish and answer, within drain_ms. */
		until = moat_deadline_ts(drain_ms);
		wait_idle_locked(s, &until);
	}
	for (struct call *c = s->inflight; c; c = c->next)
		callctx_cancel(&c->ctx);
	for (struct rjob *j = s->rjobs; j; j = j->next)
		callctx_cancel(&j->ctx);
	pthread_mutex_unlock(&s->lock);
	srv_subs_shutdown(s); /* listen streams end now (server_subs.c) */
	if (s->log_sink_on)
		log_set_sink(NULL, NULL, LOG_LVL_EMERGENCY);
	until = moat_deadline_ts(cancel_ms);
	/* A shared pool belongs to the transport, which shuts it down; this
	 * session only waits for its own calls below. */
	done = s->own_pool ? pool_shutdown(s->pool, cancel_ms) : true;
	/* Quick calls run on transport threads, not in the pool: wait for
	 * them too, within the same deadline. */
	pthread_mutex_lock(&s->lock);
	done = wait_idle_locked(s, &until) && done;
	pthread_mutex_unlock(&s->lock);
	return done;
}

void server_free(struct server *s)
{
	if (!s)
		return;
	srv_subs_session_end(s);
	if (s->own_pool)
		pool_free(s->pool);
	json_decref(s->empty_args);
	json_decref(s->client_caps);
	free(s->client_name);
	free(s->client_version);
	bucket_destroy(&s->own_bucket);
	pthread_cond_destroy(&s->calls_ended);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static json_t *initialize_result(struct server *s, enum mcp_version v)
{
	struct mcp_features f = mcp_features_of(v);
	json_t *info = srv_server_info(s, &f);
	json_t *res;

	res = json_pack("{s:s, s:o, s:o}", "protocolVersion", mcp_version_name(v), "capabilities",
			srv_capabilities(s), "serverInfo", info);
	if (res && s->opts.instructions)
		json_object_set_new(res, "instructions", json_string(s->opts.instructions));
	return res;
}

/* What initialize (or an adoption) tells of the client: its revision,
 * capabilities (a reference taken) and clientInfo, the name and version
 * cut to 128 bytes (the client's own words, for the audit trail); the
 * session is initialized from now on. Lock held, not yet initialized. */
static void record_client(struct server *s, enum mcp_version v, const json_t *caps,
			  const char *cn, const char *cv)
{
	s->client_roots = json_is_object(json_object_get(caps, "roots"));
	s->client_caps = json_incref((json_t *)caps);
	s->client_name = strndup(cn, text_utf8_prefix(cn, 128));
	if (cv)
		s->client_version = strndup(cv, text_utf8_prefix(cv, 128));
	s->version = v;
	s->features = mcp_features_of(v);
	s->initialized = true;
}

static void do_initialize(struct server *s, struct batch *b, struct rpc_msg *m)
{
	json_t *pv = m->params ? json_object_get(m->params, "protocolVersion") : NULL;
	json_t *caps = m->params ? json_object_get(m->params, "capabilities") : NULL;
	json_t *ci = m->params ? json_object_get(m->params, "clientInfo") : NULL;
	enum mcp_version v;

	if (!json_is_string(pv) || !json_is_object(caps) || !json_is_object(ci) ||
	    !json_is_string(json_object_get(ci, "name"))) {
		srv_reply_error(s, b, m->id, RPC_INVALID_PARAMS,
			    "invalid params: initialize needs protocolVersion (string), capabilities "
			    "(object) and clientInfo (object with a name)");
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (s->initialized) {
		pthread_mutex_unlock(&s->lock);
		srv_reply_error(s, b, m->id, RPC_INVALID_REQUEST,
			    "invalid request: the session is already initialized");
		return;
	}
	v = mcp_negotiate(json_string_value(pv));
	record_client(s, v, caps, json_string_value(json_object_get(ci, "name")),
		      json_string_value(json_object_get(ci, "version")));
	pthread_mutex_unlock(&s->lock);
	log_debug("session initialized with protocol %s", mcp_version_name(v));
	srv_subs_session_start(s);
	srv_reply(s, b, rpc_result(m->id, initialize_result(s, v)));
}

bool server_adopt(struct server *s, const char *version, const json_t *client_caps,
		  const char *client_name, const char *client_version)
{
	enum mcp_version v;

	if (!version || !mcp_version_parse(version, &v) || !json_is_object(client_caps) ||
	    !client_name)
		return false;
	pthread_mutex_lock(&s->lock);
	if (s->initialized || s->shutting_down) {
		pthread_mutex_unlock(&s->lock);
		return false;
	}
	record_client(s, v, client_caps, client_name, client_version);
	pthread_mutex_unlock(&s->lock);
	log_debug("session adopted with protocol %s", mcp_version_name(v));
	srv_subs_session_start(s);
	return true;
}

bool server_client(struct server *s, char *version, size_t vn, json_t **caps, char *name,
		   size_t nn, char *cversion, size_t cvn)
{
	bool ok;

	pthread_mutex_lock(&s->lock);
	ok = s->initialized && s->client_caps;
	if (ok) {
		snprintf(version, vn, "%s", mcp_version_name(s->version));
		*caps = json_deep_copy(s->client_caps);
		snprintf(name, nn, "%s", s->client_name ? s->client_name : "");
		snprintf(cversion, cvn, "%s", s->client_version ? s->client_version : "");
	}
	pthread_mutex_unlock(&s->lock);
	return ok && *caps;
}

static void do_set_level(struct server *s, struct batch *b, struct rpc_msg *m)
{
	json_t *lv = m->params ? json_object_get(m->params, "level") : NULL;
	enum log_level level;

	if (!json_is_string(lv) || !log_parse_level(json_string_value(lv), &level) ||
	    strcmp(json_string_value(lv), "warn") == 0) {
		srv_reply_error(s, b, m->id, RPC_INVALID_PARAMS,
			    "invalid params: level must be one of debug, info, notice, warning, "
			    "error, critical, alert, emergency");
		return;
	}
	pthread_mutex_lock(&s->lock);
	s->client_log_level = (int)level;
	pthread_mutex_unlock(&s->lock);
	if (!s->opts.no_log_forward) {
		log_set_sink(log_forward, s, level);
		pthread_mutex_lock(&s->lock);
		s->log_sink_on = true;
		pthread_mutex_unlock(&s->lock);
	}
	srv_reply(s, b, rpc_result(m->id, json_object()));
}

/* registry_keep_fn: the tools the caller's policy lets it see, unless a
 * fixture has hidden them. */
static bool tool_visible(const struct tool *t, const void *who)
{
	return !atomic_load(&t->hidden) && (!who || principal_allows(who, t->name));
}

static void do_tools_list(struct server *s, struct batch *b, struct rpc_msg *m)
{
	json_t *cur = m->params ? json_object_get(m->params, "cursor") : NULL;
	struct moat_err err = {0};
	json_t *res;

	if (cur && !json_is_string(cur)) {
		srv_reply_error(s, b, m->id, RPC_INVALID_PARAMS, "invalid params: cursor must be a string");
		return;
	}
	const struct principal *who = srv_who(b);
	if (registry_page_where(s->reg, cur ? json_string_value(cur) : NULL,
				s->opts.limits.tools_page_size, srv_features(s, b), tool_visible,
				who->policy ? who : NULL, &res, &err)) {
		srv_reply_error(s, b, m->id, RPC_INVALID_PARAMS, err.msg);
		return;
	}
	/* The list changes only with the config or a fixture (announced on
	 * listen streams); it is the caller's own when a policy shapes it. */
	srv_cache_hints(b, res, SRV_TTL_LISTS, who->policy != NULL);
	srv_reply(s, b, rpc_result(m->id, res));
}

/* ---- dispatch -------------------------------------------------------- */

/* True when a string in m's params holds a NUL byte (its pointer, relative
 * to params, in where). A tools/call's arguments are left to the call,
 * which knows the tool's nul_ok properties. */
static bool params_nul(const struct rpc_msg *m, char *where, size_t n)
{
	const char *key;
	json_t *v;

	if (!m->params)
		return false;
	if (strcmp(m->method, "tools/call") != 0)
		return rpc_find_nul(m->params, NULL, where, n);
	json_object_foreach(m->params, key, v) {
		int used;
		if (strcmp(key, "arguments") == 0 || !rpc_find_nul(v, NULL, where, n))
			continue;
		/* Found: name it from params (rare, so format only now). */
		used = snprintf(where, n, "/%.*s", 32, key);
		if (used < 0 || (size_t)used >= n)
			used = 0;
		(void)rpc_find_nul(v, NULL, where + used, n - (size_t)used);
		return true;
	}
	return false;
}

static struct batch *batch_new(const struct server_origin *o, size_t n);

static void handle_one(struct server *s, json_t *msg, struct batch *b,
		       const struct req_headers *hdr)
{
	struct moat_err err = {0};
	struct rpc_msg m;
	char text[240], where[160];
	bool ready;

	if (rpc_classify(msg, &m, &err)) {
		srv_reply_error(s, b, m.id, RPC_INVALID_REQUEST, err.msg);
		return;
	}
	if (m.kind == RPC_RESPONSE) {
		if (rpc_find_nul(msg, NULL, where, sizeof(where)))
			log_warn("ignoring a response holding a NUL byte at %s", where);
		else
			srv_handle_response(s, msg, &m);
		srv_reply(s, b, NULL);
		return;
	}
	if (strlen(m.method) != json_string_length(json_object_get(msg, "method"))) {
		srv_audit(s, b, "security", m.id, NULL, NULL, NULL, "invalid", "protocol.nul_byte", 0, 0, 0);
		if (m.kind == RPC_REQUEST)
			srv_reply_error(s, b, m.id, RPC_INVALID_REQUEST,
				    "invalid request: method contains a NUL byte");
		else
			srv_reply(s, b, NULL);
		return;
	}
	if (params_nul(&m, where, sizeof(where))) {
		srv_audit(s, b, "security", m.id, NULL, NULL, NULL, "invalid", "protocol.nul_byte", 0, 0, 0);
		if (m.kind == RPC_REQUEST) {
			snprintf(text, sizeof(text), "invalid params: /params%s: contains a NUL byte",
				 where);
			srv_reply_error(s, b, m.id, RPC_INVALID_PARAMS, text);
		} else {
			srv_reply(s, b, NULL);
		}
		return;
	}
	if (m.kind == RPC_NOTIFICATION) {
		if (strcmp(m.method, "notifications/cancelled") == 0)
			srv_cancelled(s, b, &m);
		else if (strcmp(m.method, "notifications/initialized") == 0 ||
			 strcmp(m.method, "notifications/roots/list_changed") == 0)
			srv_request_roots(s);
		srv_reply(s, b, NULL);
		return;
	}
	if (!(b && b->responses) && srv_wants_stateless(&m, hdr)) {
		struct batch *own = b ? NULL : batch_new(NULL, 0);
		if (!b && !own) {
			srv_reply_error(s, NULL, m.id, RPC_INTERNAL_ERROR,
					"internal error: out of memory");
			return;
		}
		srv_stateless(s, b ? b : own, &m, hdr);
		return;
	}
	if (strcmp(m.method, "initialize") == 0) {
		if (b && b->responses)
			srv_reply_error(s, b, m.id, RPC_INVALID_REQUEST,
				    "invalid request: initialize must not be part of a batch");
		else
			do_initialize(s, b, &m);
		return;
	}
	if (strcmp(m.method, "ping") == 0) {
		srv_reply(s, b, rpc_result(m.id, json_object()));
		return;
	}
	pthread_mutex_lock(&s->lock);
	ready = s->initialized;
	pthread_mutex_unlock(&s->lock);
	if (!ready) {
		srv_reply_error(s, b, m.id, RPC_INVALID_REQUEST,
			    "invalid request: server not initialized; send initialize first");
		return;
	}
	if (strcmp(m.method, "logging/setLevel") == 0)
		do_set_level(s, b, &m);
	else if (strcmp(m.method, "resources/subscribe") == 0)
		srv_resources_subscribe(s, b, &m, true);
	else if (strcmp(m.method, "resources/unsubscribe") == 0)
		srv_resources_subscribe(s, b, &m, false);
	else if (strcmp(m.method, "subscriptions/listen") == 0 || !srv_method_known(m.method)) {
		snprintf(text, sizeof(text), "method not found: %.*s",
			 (int)text_utf8_prefix(m.method, 64), m.method);
		srv_reply_error(s, b, m.id, RPC_METHOD_NOT_FOUND, text);
	} else {
		srv_dispatch(s, b, &m);
	}
}

/* The methods both eras serve, and subscriptions/listen (stateless). */
static const char *const shared_methods[] = {
	"tools/list",      "tools/call",		"resources/list",
	"resources/read",  "resources/templates/list", "prompts/list",
	"prompts/get",     "completion/complete",	"subscriptions/listen",
};

bool srv_method_known(const char *method)
{
	for (size_t i = 0; i < sizeof(shared_methods) / sizeof(shared_methods[0]); i++)
		if (strcmp(method, shared_methods[i]) == 0)
			return true;
	return false;
}

void srv_dispatch(struct server *s, struct batch *b, struct rpc_msg *m)
{
	const char *method = m->method;

	if (strcmp(method, "tools/list") == 0)
		do_tools_list(s, b, m);
	else if (strcmp(method, "tools/call") == 0)
		srv_tools_call(s, b, m);
	else if (strcmp(method, "resources/list") == 0)
		srv_resources(s, b, m, false);
	else if (strcmp(method, "resources/read") == 0)
		srv_resources(s, b, m, true);
	else if (strcmp(method, "resources/templates/list") == 0)
		srv_resource_templates(s, b, m);
	else if (strcmp(method, "prompts/list") == 0)
		srv_prompts_list(s, b, m);
	else if (strcmp(method, "prompts/get") == 0)
		srv_prompts_get(s, b, m);
	else if (strcmp(method, "completion/complete") == 0)
		srv_complete(s, b, m);
	else if (strcmp(method, "subscriptions/listen") == 0)
		srv_listen(s, b, m);
	else
		srv_reply_error(s, b, m->id, RPC_METHOD_NOT_FOUND, "method not found");
}

/* A batch (n > 0: an array awaiting n answers) or a single routed message
 * (n == 0) from o (NULL: the local principal, route NULL). NULL on ENOMEM. */
static struct batch *batch_new(const struct server_origin *o, size_t n)
{
	struct batch *b = calloc(1, sizeof(*b));

	if (!b)
		return NULL;
	if (n > 0 && !(b->responses = json_array())) {
		free(b);
		return NULL;
	}
	pthread_mutex_init(&b->lock, NULL);
	b->pending = n > 0 ? 1 + (int)n : 1; /* +1 holds an array open while we dispatch */
	b->route = o ? o->route : NULL;
	b->who = o && o->who ? *o->who : *principal_local();
	b->era.log_level = -1;
	return b;
}

/* Answer a message refused as a whole (not a batch element) on o's route. */
static void refuse_whole(struct server *s, const struct server_origin *o, json_t *id, int code,
			 const char *message)
{
	srv_send_on(s, o ? o->route : NULL, rpc_error(id, code, message), true);
}

static void handle_batch(struct server *s, json_t *arr, const struct server_origin *o)
{
	struct batch *b;
	bool allowed;
	size_t i;
	json_t *el;

	pthread_mutex_lock(&s->lock);
	allowed = s->initialized && s->features.batches;
	pthread_mutex_unlock(&s->lock);
	if (json_array_size(arr) == 0) {
		refuse_whole(s, o, NULL, RPC_INVALID_REQUEST, "invalid request: empty batch");
		return;
	}
	if (!allowed) {
		refuse_whole(s, o, NULL, RPC_INVALID_REQUEST,
			     "invalid request: JSON-RPC batches are only accepted under protocol "
			     "version 2025-03-26");
		return;
	}
	b = batch_new(o, json_array_size(arr));
	if (!b) {
		refuse_whole(s, o, NULL, RPC_INTERNAL_ERROR, "internal error: out of memory");
		return;
	}
	json_array_foreach(arr, i, el)
		handle_one(s, el, b, NULL);
	srv_reply(s, b, NULL);
}

/* One incoming message from o (NULL: stdio, the local principal). Exactly
 * one final answer goes on o's route. */
static void handle_message(struct server *s, const char *buf, size_t len,
			   const struct server_origin *o)
{
	struct moat_err err = {0};
	json_t *msg;

	if (rpc_parse(buf, len, s->opts.limits.max_message_bytes, s->opts.limits.max_json_depth,
		      &msg, &err)) {
		/* Refused before a full parse: answer with the id when a
		 * bounded scan can read it, so the client's call completes. */
		json_t *id = rpc_scan_id(buf, len);
		struct batch from = {.who = o && o->who ? *o->who : *principal_local()};
		srv_audit(s, &from, "security", id, NULL, NULL, NULL, srv_outcome_of(err.rc),
			  err.rule, 0, 0, 0);
		refuse_whole(s, o, id, RPC_PARSE_ERROR, err.msg);
		json_decref(id);
		return;
	}
	if (json_is_array(msg)) {
		handle_batch(s, msg, o);
	} else if (!o) {
		handle_one(s, msg, NULL, NULL);
	} else {
		struct batch *b = batch_new(o, 0);
		if (b)
			handle_one(s, msg, b, o->hdr);
		else
			refuse_whole(s, o, json_object_get(msg, "id"), RPC_INTERNAL_ERROR,
				     "internal error: out of memory");
	}
	json_decref(msg);
}

void server_handle(struct server *s, const char *buf, size_t len)
{
	handle_message(s, buf, len, NULL);
}

void server_handle_from(struct server *s, const char *buf, size_t len,
			const struct server_origin *o)
{
	handle_message(s, buf, len, o);
}

void server_route_closed(struct server *s, void *route)
{
	if (srv_subs_route_closed(s, route))
		return;
	/* A call answering on route: the client gave up on it, as with
	 * notifications/cancelled; its empty final still ends the route. */
	pthread_mutex_lock(&s->lock);
	for (struct call *c = s->inflight; c; c = c->next) {
		if (c->batch && c->batch->route == route) {
			c->client_cancelled = true;
			callctx_cancel(&c->ctx);
		}
	}
	for (struct rjob *j = s->rjobs; j; j = j->next)
		if (j->batch && j->batch->route == route)
			callctx_cancel(&j->ctx);
	pthread_mutex_unlock(&s->lock);
}

void server_reject_oversized(struct server *s, const char *head, size_t head_len)
{
	char text[128];
	json_t *id = head ? rpc_scan_id(head, head_len) : NULL;

	snprintf(text, sizeof(text), "parse error: message exceeds limits.max_message_bytes (%zu)",
		 s->opts.limits.max_message_bytes);
	srv_audit(s, NULL, "security", id, NULL, NULL, NULL, "limit", "limits.message_bytes", 0, 0,
		  0);
	srv_reply_error(s, NULL, id, RPC_PARSE_ERROR, text);
	json_decref(id);
}
