/*
 * server.c - one MCP session: lifecycle, dispatch and tool calls.
 *
 * Threading: server_handle() runs on the transport's reader thread. Tool
 * calls run on the pool. Shared session state (initialized, revision, the
 * in-flight table, the client's log level) is guarded by s->lock. A call is
 * owned by its worker from submission until it replies; the in-flight table
 * only lends it to notifications/cancelled, under the lock.
 */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <sys/random.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jsonrpc.h"
#include "log.h"
#include "pool.h"
#include "text.h"
#include "version.h"
#include "wire.h"

struct batch {
	pthread_mutex_t lock;
	json_t *responses;
	int pending;
};

struct call {
	struct call *next; /* in-flight list */
	struct server *s;
	struct tool *tool;
	struct batch *batch;
	json_t *id;
	json_t *args;
	char key[128];
	bool client_cancelled; /* guarded by s->lock */
	const char *rule;      /* the refusing rule's id, for the audit trail */
	struct call_ctx ctx;
};

struct server {
	struct server_opts opts;
	struct registry *reg;
	server_send_fn send;
	void *send_ctx;
	struct pool *pool;
	struct token_bucket global_bucket;

	pthread_mutex_t lock;
	bool initialized;
	bool shutting_down;
	enum mcp_version version;
	struct mcp_features features;
	bool log_sink_on;
	struct call *inflight;
	uint32_t inflight_count;
	pthread_cond_t calls_ended; /* inflight_count reached 0 while shutting down */
	json_t *empty_args; /* {} validated when a call omits arguments */
	bool client_roots;  /* the client declared the roots capability */
	unsigned roots_seq; /* id of the latest roots/list we sent */
	struct rjob *rjobs; /* resource reads and listings in flight */
	char session[33];   /* random, for the audit trail */
	char *client_name;  /* clientInfo from initialize; owned; set once */
	char *client_version;
};

/* A resources/list or resources/read running on a worker. */
struct rjob {
	struct rjob *next;
	struct server *s;
	struct batch *batch;
	json_t *id;
	bool is_read;
	char *arg; /* cursor or uri; owned */
	struct call_ctx ctx;
};

/* ---- output ---------------------------------------------------------- */

/* One serialized message: small ones on the stack, large ones on the heap
 * (wire.h). */
struct wire {
	char stack[4096];
	struct wire_buf b;
	const char *data; /* the message, once encoded */
	size_t len;       /* its length; 0 when there is none */
};

/* Serialize msg (borrowed) once. Returns false (len 0) on failure. */
static bool wire_encode(struct wire *w, const json_t *msg)
{
	wire_buf_init(&w->b, w->stack, sizeof(w->stack));
	if (!wire_write(&w->b, msg)) {
		wire_buf_release(&w->b);
		w->data = NULL;
		w->len = 0;
		return false;
	}
	w->data = w->b.data;
	w->len = w->b.len;
	return w->len > 0;
}

/* Free what wire_encode allocated; w must have been encoded or emptied
 * by wire_empty. */
static void wire_release(struct wire *w)
{
	wire_buf_release(&w->b);
	w->data = NULL;
	w->len = 0;
}

/* Start w with no message. */
static void wire_empty(struct wire *w)
{
	wire_buf_init(&w->b, NULL, 0);
	w->data = NULL;
	w->len = 0;
}

static void send_json(struct server *s, json_t *msg)
{
	struct wire w;

	if (!msg)
		return;
	if (wire_encode(&w, msg))
		s->send(s->send_ctx, w.data, w.len);
	wire_release(&w);
	json_decref(msg);
}

static void notify_sink(void *sink, json_t *msg)
{
	send_json(sink, msg);
}

/* Deliver a response (msg may be NULL: nothing to say) directly or into the
 * batch it belongs to. Steals msg. */
static void reply(struct server *s, struct batch *b, json_t *msg)
{
	if (!b) {
		send_json(s, msg);
		return;
	}
	pthread_mutex_lock(&b->lock);
	if (msg)
		json_array_append_new(b->responses, msg);
	bool last = --b->pending == 0;
	pthread_mutex_unlock(&b->lock);
	if (!last)
		return;
	if (json_array_size(b->responses) > 0)
		send_json(s, json_incref(b->responses));
	json_decref(b->responses);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static void reply_error(struct server *s, struct batch *b, json_t *id, int code,
			const char *message)
{
	reply(s, b, rpc_error(id, code, message));
}

static void log_forward(void *ctx, enum log_level level, const char *msg)
{
	json_t *params = json_pack("{s:s, s:s, s:s}", "level", log_level_name(level), "logger",
				   "moat", "data", msg);
	send_json(ctx, rpc_notification("notifications/message", params));
}

/* Write one audit record for a request of this session. id, touched and
 * rule may be NULL. */
static void audit_req(struct server *s, const char *kind, const json_t *id, const char *tool,
		      const char *family, const json_t *touched, const char *outcome,
		      const char *rule, uint64_t duration_ns, size_t bytes)
{
	struct audit_event ev = {
		.kind = kind,
		.principal = "local",
		.client_name = s->client_name,
		.client_version = s->client_version,
		.session = s->session,
		.request_id = id,
		.tool = tool,
		.family = family,
		.touched = touched,
		.outcome = outcome,
		.rule = rule,
		.duration_us = duration_ns / 1000u,
		.bytes_out = bytes,
	};

	audit_write(s->opts.audit, &ev);
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
	s->pool = pool_new(opts->limits.workers);
	s->empty_args = json_object();
	if (!s->pool || !s->empty_args) {
		pool_free(s->pool);
		json_decref(s->empty_args);
		free(s);
		return NULL;
	}
	bucket_init(&s->global_bucket, opts->limits.calls_per_minute);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->calls_ended, NULL);
	s->version = MCP_VERSION_LATEST;
	s->features = mcp_features_of(s->version);
	new_session_id(s->session);
	return s;
}

bool server_shutdown(struct server *s, uint32_t timeout_ms)
{
	struct timespec until;
	bool done;

	until = moat_deadline_ts(timeout_ms);
	pthread_mutex_lock(&s->lock);
	s->shutting_down = true;
	for (struct call *c = s->inflight; c; c = c->next)
		callctx_cancel(&c->ctx);
	for (struct rjob *j = s->rjobs; j; j = j->next)
		callctx_cancel(&j->ctx);
	pthread_mutex_unlock(&s->lock);
	if (s->log_sink_on)
		log_set_sink(NULL, NULL, LOG_LVL_EMERGENCY);
	done = pool_shutdown(s->pool, timeout_ms);
	/* Quick calls run on transport threads, not in the pool: wait for
	 * them too, within the same deadline. */
	pthread_mutex_lock(&s->lock);
	while (s->inflight_count > 0)
		if (pthread_cond_timedwait(&s->calls_ended, &s->lock, &until) == ETIMEDOUT)
			break;
	done = done && s->inflight_count == 0;
	pthread_mutex_unlock(&s->lock);
	return done;
}

void server_free(struct server *s)
{
	if (!s)
		return;
	pool_free(s->pool);
	json_decref(s->empty_args);
	free(s->client_name);
	free(s->client_version);
	bucket_destroy(&s->global_bucket);
	pthread_cond_destroy(&s->calls_ended);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static json_t *initialize_result(struct server *s, enum mcp_version v)
{
	struct mcp_features f = mcp_features_of(v);
	json_t *info = json_pack("{s:s, s:s}", "name", s->opts.name, "version", s->opts.version);
	json_t *res;

	if (f.titles && s->opts.title)
		json_object_set_new(info, "title", json_string(s->opts.title));
	res = json_pack("{s:s, s:{s:{s:b}, s:{}}, s:o}", "protocolVersion", mcp_version_name(v),
			"capabilities", "tools", "listChanged", 0, "logging", "serverInfo", info);
	if (res && registry_resources(s->reg))
		json_object_set_new(json_object_get(res, "capabilities"), "resources",
				    json_pack("{s:b, s:b}", "subscribe", 0, "listChanged", 0));
	if (res && s->opts.instructions)
		json_object_set_new(res, "instructions", json_string(s->opts.instructions));
	return res;
}

static void do_initialize(struct server *s, struct batch *b, struct rpc_msg *m)
{
	json_t *pv = m->params ? json_object_get(m->params, "protocolVersion") : NULL;
	json_t *caps = m->params ? json_object_get(m->params, "capabilities") : NULL;
	json_t *ci = m->params ? json_object_get(m->params, "clientInfo") : NULL;
	enum mcp_version v;

	if (!json_is_string(pv) || !json_is_object(caps) || !json_is_object(ci) ||
	    !json_is_string(json_object_get(ci, "name"))) {
		reply_error(s, b, m->id, RPC_INVALID_PARAMS,
			    "invalid params: initialize needs protocolVersion (string), capabilities "
			    "(object) and clientInfo (object with a name)");
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (s->initialized) {
		pthread_mutex_unlock(&s->lock);
		reply_error(s, b, m->id, RPC_INVALID_REQUEST,
			    "invalid request: the session is already initialized");
		return;
	}
	v = mcp_negotiate(json_string_value(pv));
	s->client_roots = json_is_object(json_object_get(caps, "roots"));
	s->client_name = strdup(json_string_value(json_object_get(ci, "name")));
	if (json_is_string(json_object_get(ci, "version")))
		s->client_version = strdup(json_string_value(json_object_get(ci, "version")));
	s->version = v;
	s->features = mcp_features_of(v);
	s->initialized = true;
	pthread_mutex_unlock(&s->lock);
	log_debug("session initialized with protocol %s", mcp_version_name(v));
	reply(s, b, rpc_result(m->id, initialize_result(s, v)));
}

static void do_set_level(struct server *s, struct batch *b, struct rpc_msg *m)
{
	json_t *lv = m->params ? json_object_get(m->params, "level") : NULL;
	enum log_level level;

	if (!json_is_string(lv) || !log_parse_level(json_string_value(lv), &level) ||
	    strcmp(json_string_value(lv), "warn") == 0) {
		reply_error(s, b, m->id, RPC_INVALID_PARAMS,
			    "invalid params: level must be one of debug, info, notice, warning, "
			    "error, critical, alert, emergency");
		return;
	}
	log_set_sink(log_forward, s, level);
	pthread_mutex_lock(&s->lock);
	s->log_sink_on = true;
	pthread_mutex_unlock(&s->lock);
	reply(s, b, rpc_result(m->id, json_object()));
}

static void do_tools_list(struct server *s, struct batch *b, struct rpc_msg *m)
{
	json_t *cur = m->params ? json_object_get(m->params, "cursor") : NULL;
	struct moat_err err = {0};
	json_t *res;

	if (cur && !json_is_string(cur)) {
		reply_error(s, b, m->id, RPC_INVALID_PARAMS, "invalid params: cursor must be a string");
		return;
	}
	if (registry_page(s->reg, cur ? json_string_value(cur) : NULL, s->opts.limits.tools_page_size,
			  &s->features, &res, &err)) {
		reply_error(s, b, m->id, RPC_INVALID_PARAMS, err.msg);
		return;
	}
	reply(s, b, rpc_result(m->id, res));
}

/* ---- tool calls ------------------------------------------------------ */

static const char *outcome_of(enum moat_rc rc)
{
	return rc == MOAT_OK ? "ok" : moat_rc_name(rc);
}

static json_t *error_result(struct server *s, const char *msg)
{
	char buf[MOAT_ERR_MSG_MAX + 64];

	snprintf(buf, sizeof(buf), "%s", msg);
	if (s->opts.scrub)
		s->opts.scrub(s->opts.scrub_ctx, buf, sizeof(buf));
	return json_pack("{s:[{s:s, s:s}], s:b}", "content", "type", "text", "text", buf, "isError",
			 1);
}

/* A call refused before it ran: answer with isError and audit it. */
static void refuse_call(struct server *s, struct batch *b, json_t *id, const struct tool *t,
			enum moat_rc rc, const char *rule, const char *msg)
{
	json_t *res = error_result(s, msg);
	const char *tool = t->name;
	size_t bytes = json_dumpb(res, NULL, 0, JSON_COMPACT);

	audit_req(s, "call", id, tool, t->family, NULL, outcome_of(rc), rule, 0, bytes);
	log_debug("tool %s refused: %s", tool, moat_rc_name(rc));
	reply(s, b, rpc_result(id, res));
}

/* Turn a handler's output into the tools/call result for this revision. */
static json_t *success_result(struct server *s, struct call *c, struct tool_result *tr,
			      enum moat_rc *rc, struct moat_err *err)
{
	json_t *res;

	if (c->tool->output) {
		struct schema_error se;
		char where[sizeof(se.pointer) + sizeof(se.keyword) + sizeof(se.message) + 8];
		if (!json_is_object(tr->structured)) {
			*rc = moat_err_set(err, MOAT_EINTERNAL,
					   "tool returned no structured result (outputSchema)");
			return NULL;
		}
		if (!schema_validate(c->tool->output, tr->structured, &se)) {
			schema_error_format(&se, where, sizeof(where));
			*rc = moat_err_rule(err, MOAT_EINTERNAL, "schema.output",
					    "tool result does not match its outputSchema: %s", where);
			return NULL;
		}
	}
	if (!tr->content) {
		/* Text for clients that ignore structuredContent. */
		char *text = tr->structured ? json_dumps(tr->structured, JSON_COMPACT) : NULL;
		tool_result_text(tr, text ? text : "");
		free(text);
	}
	res = json_object();
	json_object_set(res, "content", tr->content);
	if (tr->structured && s->features.structured)
		json_object_set(res, "structuredContent", tr->structured);
	json_object_set_new(res, "isError", json_false());
	return res;
}

/*
 * Answer a finished call: serialize the response once, enforce
 * limits.max_output_bytes on that length, audit, send. Steals res.
 */
static void finish_call(struct call *c, json_t *res, enum moat_rc rc)
{
	struct server *s = c->s;
	bool cancelled;
	uint64_t ns = moat_now_ns() - c->ctx.start_ns;
	double ms = (double)ns / 1e6;
	struct wire w;
	json_t *msg = NULL;

	wire_empty(&w);
	pthread_mutex_lock(&s->lock);
	for (struct call **pp = &s->inflight; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	s->inflight_count--;
	if (s->inflight_count == 0 && s->shutting_down)
		pthread_cond_broadcast(&s->calls_ended);
	cancelled = c->client_cancelled;
	pthread_mutex_unlock(&s->lock);

	if (cancelled) {
		/* The client gave up on this id: no response, per the spec. A
		 * call cancelled by shutdown still answers (with its error). */
		json_decref(res);
		rc = MOAT_ECANCELLED;
	} else {
		msg = rpc_result(c->id, res);
		if (msg && wire_encode(&w, msg) && rc == MOAT_OK &&
		    w.len > s->opts.limits.max_output_bytes) {
			char text[160];
			snprintf(text, sizeof(text),
				 "result of %zu bytes exceeds limits.max_output_bytes (%zu)", w.len,
				 s->opts.limits.max_output_bytes);
			wire_release(&w);
			json_decref(msg);
			rc = MOAT_ELIMIT;
			c->rule = "limits.output";
			msg = rpc_result(c->id, error_result(s, text));
			if (msg)
				wire_encode(&w, msg);
		}
	}
	audit_req(s, "call", c->id, c->tool->name, c->tool->family, c->ctx.touched,
		  outcome_of(rc), rc == MOAT_OK ? NULL : c->rule, ns, w.len);
	log_debug("tool %s: %s in %.1f ms, %zu bytes", c->tool->name, outcome_of(rc), ms, w.len);
	if (c->batch) {
		reply(s, c->batch, msg); /* the batch serializes its array itself */
	} else {
		if (w.len > 0)
			s->send(s->send_ctx, w.data, w.len);
		json_decref(msg);
	}
	wire_release(&w);
	callctx_release(&c->ctx);
	json_decref(c->id);
	json_decref(c->args);
	free(c);
}

/* Turn a handler's outcome into the call's answer and finish the call. */
static void complete_call(struct call *c, struct tool_result *tr, enum moat_rc rc,
			  struct moat_err *err)
{
	struct server *s = c->s;
	json_t *res = NULL;

	if (rc == MOAT_OK)
		res = success_result(s, c, tr, &rc, err);
	if (rc != MOAT_OK) {
		if (err->msg[0] == '\0')
			moat_err_set(err, rc, "tool failed (%s)", moat_rc_name(rc));
		c->rule = err->rule;
		res = error_result(s, err->msg);
	}
	tool_result_clear(tr);
	finish_call(c, res, rc);
}

/* Try the tool's fast path; true when it answered the call. */
static bool try_fast(struct call *c)
{
	struct tool_result tr = {0};
	struct moat_err err = {0};
	enum moat_rc rc = MOAT_OK;

	if (!c->tool->fast || !c->tool->fast(&c->ctx, c->tool->data, c->args, &tr, &rc, &err)) {
		tool_result_clear(&tr);
		return false;
	}
	complete_call(c, &tr, rc, &err);
	return true;
}

static void run_call(void *arg)
{
	struct call *c = arg;
	struct tool_result tr = {0};
	struct moat_err err = {0};
	enum moat_rc rc;

	rc = callctx_check(&c->ctx, &err);
	if (rc == MOAT_OK)
		rc = c->tool->handler(&c->ctx, c->tool->data, c->args, &tr, &err);
	complete_call(c, &tr, rc, &err);
}

static void do_tools_call(struct server *s, struct batch *b, struct rpc_msg *m)
{
	json_t *name = m->params ? json_object_get(m->params, "name") : NULL;
	json_t *args = m->params ? json_object_get(m->params, "arguments") : NULL;
	json_t *meta = m->params ? json_object_get(m->params, "_meta") : NULL;
	json_t *token = json_is_object(meta) ? json_object_get(meta, "progressToken") : NULL;
	struct schema_error se;
	struct tool *t;
	struct call *c;
	json_t *empty_object = s->empty_args;
	char key[128], msg[MOAT_ERR_MSG_MAX], where[MOAT_ERR_MSG_MAX - 32];

	if (!json_is_string(name)) {
		reply_error(s, b, m->id, RPC_INVALID_PARAMS, "invalid params: name must be a string");
		return;
	}
	if (args && !json_is_object(args)) {
		reply_error(s, b, m->id, RPC_INVALID_PARAMS,
			    "invalid params: arguments must be an object");
		return;
	}
	if (token && !json_is_string(token) && !json_is_integer(token)) {
		reply_error(s, b, m->id, RPC_INVALID_PARAMS,
			    "invalid params: _meta.progressToken must be a string or an integer");
		return;
	}
	t = registry_find(s->reg, json_string_value(name));
	if (!t) {
		const char *nm = json_string_value(name);
		snprintf(msg, sizeof(msg), "invalid params: unknown tool '%.*s'",
			 (int)text_utf8_prefix(nm, 64), nm);
		reply_error(s, b, m->id, RPC_INVALID_PARAMS, msg);
		return;
	}
	if (!rpc_id_key(m->id, key, sizeof(key))) {
		reply_error(s, b, m->id, RPC_INVALID_REQUEST,
			    "invalid request: a tools/call id must serialize to at most 127 bytes");
		return;
	}
	if (!schema_validate(t->input, args ? args : empty_object, &se)) {
		schema_error_format(&se, where, sizeof(where));
		snprintf(msg, sizeof(msg), "invalid arguments: %s", where);
		refuse_call(s, b, m->id, t, MOAT_EINVAL, "schema.invalid", msg);
		return;
	}
	uint64_t now = moat_now_ns();
	if (!bucket_take(&s->global_bucket, now)) {
		snprintf(msg, sizeof(msg), "rate limit: limits.calls_per_minute (%u) reached; retry later",
			 s->opts.limits.calls_per_minute);
		refuse_call(s, b, m->id, t, MOAT_ELIMIT, "limits.rate", msg);
		return;
	}
	if (!bucket_take(&t->bucket, now)) {
		snprintf(msg, sizeof(msg),
			 "rate limit: limits.tools.%s.calls_per_minute (default "
			 "limits.tool_calls_per_minute) reached; retry later",
			 t->name);
		refuse_call(s, b, m->id, t, MOAT_ELIMIT, "limits.tool_rate", msg);
		return;
	}

	c = calloc(1, sizeof(*c));
	if (!c) {
		reply_error(s, b, m->id, RPC_INTERNAL_ERROR, "internal error: out of memory");
		return;
	}
	c->s = s;
	c->tool = t;
	c->batch = b;
	c->id = json_incref(m->id);
	c->args = args ? json_incref(args) : json_object();
	if (!c->args) {
		json_decref(c->id);
		free(c);
		reply_error(s, b, m->id, RPC_INTERNAL_ERROR, "internal error: out of memory");
		return;
	}
	memcpy(c->key, key, sizeof(key));
	callctx_init(&c->ctx, t->name, s->opts.limits.call_timeout_ms,
		     s->opts.limits.max_output_bytes);
	c->ctx.progress_token = token ? json_incref(token) : NULL;
	c->ctx.progress_message = s->features.progress_message;
	c->ctx.notify = notify_sink;
	c->ctx.sink = s;

	pthread_mutex_lock(&s->lock);
	const char *refusal = NULL, *rrule = "limits.concurrency";
	enum moat_rc rrc = MOAT_ELIMIT;
	if (s->shutting_down) {
		refusal = "server is shutting down";
		rrule = "server.shutting_down";
		rrc = MOAT_ECANCELLED;
	} else if (s->inflight_count >= s->opts.limits.max_concurrent_calls) {
		snprintf(msg, sizeof(msg),
			 "limit: limits.max_concurrent_calls (%u) calls are already running",
			 s->opts.limits.max_concurrent_calls);
		refusal = msg;
	} else {
		for (struct call *o = s->inflight; o; o = o->next) {
			if (strcmp(o->key, key) == 0) {
				pthread_mutex_unlock(&s->lock);
				callctx_release(&c->ctx);
				json_decref(c->id);
				json_decref(c->args);
				free(c);
				reply_error(s, b, m->id, RPC_INVALID_REQUEST,
					    "invalid request: a request with this id is still running");
				return;
			}
		}
		c->next = s->inflight;
		s->inflight = c;
		s->inflight_count++;
	}
	pthread_mutex_unlock(&s->lock);
	if (refusal) {
		callctx_release(&c->ctx);
		json_decref(c->id);
		json_decref(c->args);
		free(c);
		refuse_call(s, b, m->id, t, rrc, rrule, refusal);
		return;
	}
	if (try_fast(c))
		return; /* answered at once (a cache hit) */
	if (t->inline_ok) {
		/* Declared never to block: cheaper here than a thread hand-off. */
		run_call(c);
		return;
	}
	if (t->quick && s->opts.quick_begin && s->opts.quick_begin(s->opts.quick_ctx)) {
		/* Usually quick, and the transport will move its reading to
		 * another thread if this call turns out not to be. */
		run_call(c);
		s->opts.quick_end(s->opts.quick_ctx);
		return;
	}
	if (!pool_submit(s->pool, run_call, c)) {
		json_t *res = error_result(s, "server is shutting down");
		finish_call(c, res, MOAT_ECANCELLED);
	}
}

static void do_cancelled(struct server *s, struct rpc_msg *m)
{
	json_t *rid = m->params ? json_object_get(m->params, "requestId") : NULL;
	char key[128];

	if (!rid || !(json_is_string(rid) || json_is_integer(rid)) ||
	    !rpc_id_key(rid, key, sizeof(key)))
		return; /* notifications get no error replies */
	pthread_mutex_lock(&s->lock);
	for (struct call *c = s->inflight; c; c = c->next) {
		if (strcmp(c->key, key) == 0) {
			c->client_cancelled = true;
			callctx_cancel(&c->ctx);
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
}


/* ---- client roots ---------------------------------------------------- */

/* Ask the client for its roots when it has them and a family wants them. */
static void request_roots(struct server *s)
{
	void *data;
	char id[32];
	unsigned seq;

	if (!registry_roots_hook(s->reg, &data))
		return;
	pthread_mutex_lock(&s->lock);
	if (!s->initialized || !s->client_roots) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	seq = ++s->roots_seq;
	pthread_mutex_unlock(&s->lock);
	snprintf(id, sizeof(id), "moat-roots-%u", seq);
	send_json(s, json_pack("{s:s, s:s, s:s}", "jsonrpc", "2.0", "id", id, "method",
			       "roots/list"));
}

/* A response to one of our requests: only roots/list answers exist. */
static void handle_response(struct server *s, json_t *msg, struct rpc_msg *m)
{
	const char *id = json_string_value(m->id);
	unsigned seq;
	char *end;
	void *data;
	roots_hook_fn hook = registry_roots_hook(s->reg, &data);
	json_t *roots;

	if (!hook || !id || strncmp(id, "moat-roots-", 11) != 0)
		return;
	seq = (unsigned)strtoul(id + 11, &end, 10);
	pthread_mutex_lock(&s->lock);
	bool latest = *end == '\0' && seq == s->roots_seq;
	pthread_mutex_unlock(&s->lock);
	if (!latest)
		return; /* a newer request is on its way */
	roots = json_object_get(json_object_get(msg, "result"), "roots");
	if (!json_is_array(roots)) {
		log_warn("client answered roots/list without a roots array; keeping the configured roots");
		return;
	}
	log_info("client sent %zu roots; narrowing the configured roots to them",
		 json_array_size(roots));
	hook(data, roots);
}

/* ---- resources ------------------------------------------------------- */

static int resource_error_code(enum moat_rc rc)
{
	switch (rc) {
	case MOAT_ENOTFOUND: return -32002; /* MCP: resource not found */
	case MOAT_EINVAL:
	case MOAT_EDENIED: return RPC_INVALID_PARAMS;
	default: return RPC_INTERNAL_ERROR;
	}
}

static void run_rjob(void *arg)
{
	struct rjob *j = arg;
	struct server *s = j->s;
	const struct resource_ops *ops = registry_resources(s->reg);
	struct moat_err err = {0};
	json_t *out = NULL;
	enum moat_rc rc;

	rc = callctx_check(&j->ctx, &err);
	if (rc == MOAT_OK)
		rc = j->is_read ? ops->read(ops->data, &j->ctx, j->arg, &out, &err)
				: ops->list(ops->data, &j->ctx, j->arg, s->opts.limits.tools_page_size,
					    &out, &err);
	pthread_mutex_lock(&s->lock);
	for (struct rjob **pp = &s->rjobs; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (rc == MOAT_OK) {
		reply(s, j->batch, rpc_result(j->id, out));
	} else {
		char msg[MOAT_ERR_MSG_MAX];
		snprintf(msg, sizeof(msg), "%s", err.msg[0] ? err.msg : moat_rc_name(rc));
		if (s->opts.scrub)
			s->opts.scrub(s->opts.scrub_ctx, msg, sizeof(msg));
		json_decref(out);
		reply_error(s, j->batch, j->id, resource_error_code(rc), msg);
	}
	log_debug("resources/%s: %s", j->is_read ? "read" : "list", moat_rc_name(rc));
	callctx_release(&j->ctx);
	json_decref(j->id);
	free(j->arg);
	free(j);
}

static void do_resources(struct server *s, struct batch *b, struct rpc_msg *m, bool is_read)
{
	const struct resource_ops *ops = registry_resources(s->reg);
	const char *key = is_read ? "uri" : "cursor";
	json_t *v = m->params ? json_object_get(m->params, key) : NULL;
	struct rjob *j;

	if (!ops) {
		reply_error(s, b, m->id, RPC_METHOD_NOT_FOUND,
			    "method not found: no tool family serves resources");
		return;
	}
	if ((is_read && !json_is_string(v)) || (!is_read && v && !json_is_string(v))) {
		reply_error(s, b, m->id, RPC_INVALID_PARAMS,
			    is_read ? "invalid params: uri must be a string"
				    : "invalid params: cursor must be a string");
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j || (v && !(j->arg = strdup(json_string_value(v))))) {
		free(j);
		reply_error(s, b, m->id, RPC_INTERNAL_ERROR, "internal error: out of memory");
		return;
	}
	j->s = s;
	j->batch = b;
	j->id = json_incref(m->id);
	j->is_read = is_read;
	callctx_init(&j->ctx, is_read ? "resources/read" : "resources/list",
		     s->opts.limits.call_timeout_ms, s->opts.limits.max_output_bytes);
	pthread_mutex_lock(&s->lock);
	bool stopping = s->shutting_down;
	if (!stopping) {
		j->next = s->rjobs;
		s->rjobs = j;
	}
	pthread_mutex_unlock(&s->lock);
	if (stopping || !pool_submit(s->pool, run_rjob, j)) {
		if (!stopping) {
			pthread_mutex_lock(&s->lock);
			for (struct rjob **pp = &s->rjobs; *pp; pp = &(*pp)->next) {
				if (*pp == j) {
					*pp = j->next;
					break;
				}
			}
			pthread_mutex_unlock(&s->lock);
		}
		reply_error(s, b, m->id, RPC_INTERNAL_ERROR, "server is shutting down");
		json_decref(j->id);
		free(j->arg);
		free(j);
	}
}

static void do_resource_templates(struct server *s, struct batch *b, struct rpc_msg *m)
{
	const struct resource_ops *ops = registry_resources(s->reg);

	if (!ops) {
		reply_error(s, b, m->id, RPC_METHOD_NOT_FOUND,
			    "method not found: no tool family serves resources");
		return;
	}
	reply(s, b, rpc_result(m->id, json_pack("{s:o}", "resourceTemplates",
						ops->templates ? ops->templates(ops->data)
							       : json_array())));
}

/* ---- dispatch -------------------------------------------------------- */

static void handle_one(struct server *s, json_t *msg, struct batch *b)
{
	struct moat_err err = {0};
	struct rpc_msg m;
	char text[160];
	bool ready;

	if (rpc_classify(msg, &m, &err)) {
		reply_error(s, b, m.id, RPC_INVALID_REQUEST, err.msg);
		return;
	}
	if (m.kind == RPC_RESPONSE) {
		handle_response(s, msg, &m);
		reply(s, b, NULL);
		return;
	}
	if (m.kind == RPC_NOTIFICATION) {
		if (strcmp(m.method, "notifications/cancelled") == 0)
			do_cancelled(s, &m);
		else if (strcmp(m.method, "notifications/initialized") == 0 ||
			 strcmp(m.method, "notifications/roots/list_changed") == 0)
			request_roots(s);
		reply(s, b, NULL);
		return;
	}
	if (strcmp(m.method, "initialize") == 0) {
		if (b)
			reply_error(s, b, m.id, RPC_INVALID_REQUEST,
				    "invalid request: initialize must not be part of a batch");
		else
			do_initialize(s, b, &m);
		return;
	}
	if (strcmp(m.method, "ping") == 0) {
		reply(s, b, rpc_result(m.id, json_object()));
		return;
	}
	pthread_mutex_lock(&s->lock);
	ready = s->initialized;
	pthread_mutex_unlock(&s->lock);
	if (!ready) {
		reply_error(s, b, m.id, RPC_INVALID_REQUEST,
			    "invalid request: server not initialized; send initialize first");
		return;
	}
	if (strcmp(m.method, "tools/list") == 0)
		do_tools_list(s, b, &m);
	else if (strcmp(m.method, "tools/call") == 0)
		do_tools_call(s, b, &m);
	else if (strcmp(m.method, "logging/setLevel") == 0)
		do_set_level(s, b, &m);
	else if (strcmp(m.method, "resources/list") == 0)
		do_resources(s, b, &m, false);
	else if (strcmp(m.method, "resources/read") == 0)
		do_resources(s, b, &m, true);
	else if (strcmp(m.method, "resources/templates/list") == 0)
		do_resource_templates(s, b, &m);
	else {
		snprintf(text, sizeof(text), "method not found: %.*s",
			 (int)text_utf8_prefix(m.method, 64), m.method);
		reply_error(s, b, m.id, RPC_METHOD_NOT_FOUND, text);
	}
}

static void handle_batch(struct server *s, json_t *arr)
{
	struct batch *b;
	bool allowed;
	size_t i;
	json_t *el;

	pthread_mutex_lock(&s->lock);
	allowed = s->initialized && s->features.batches;
	pthread_mutex_unlock(&s->lock);
	if (json_array_size(arr) == 0) {
		reply_error(s, NULL, NULL, RPC_INVALID_REQUEST, "invalid request: empty batch");
		return;
	}
	if (!allowed) {
		reply_error(s, NULL, NULL, RPC_INVALID_REQUEST,
			    "invalid request: JSON-RPC batches are only accepted under protocol "
			    "version 2025-03-26");
		return;
	}
	b = calloc(1, sizeof(*b));
	if (!b || !(b->responses = json_array())) {
		free(b);
		reply_error(s, NULL, NULL, RPC_INTERNAL_ERROR, "internal error: out of memory");
		return;
	}
	pthread_mutex_init(&b->lock, NULL);
	b->pending = 1 + (int)json_array_size(arr); /* +1 holds it open while we dispatch */
	json_array_foreach(arr, i, el)
		handle_one(s, el, b);
	reply(s, b, NULL);
}

void server_handle(struct server *s, const char *buf, size_t len)
{
	struct moat_err err = {0};
	json_t *msg;

	if (rpc_parse(buf, len, s->opts.limits.max_message_bytes, s->opts.limits.max_json_depth,
		      &msg, &err)) {
		reply_error(s, NULL, NULL, RPC_PARSE_ERROR, err.msg);
		return;
	}
	if (json_is_array(msg))
		handle_batch(s, msg);
	else
		handle_one(s, msg, NULL);
	json_decref(msg);
}

void server_reject_oversized(struct server *s)
{
	char text[128];

	snprintf(text, sizeof(text), "parse error: message exceeds limits.max_message_bytes (%zu)",
		 s->opts.limits.max_message_bytes);
	reply_error(s, NULL, NULL, RPC_PARSE_ERROR, text);
}
