/*
 * server_call.c - tools/call: arguments checked (NUL bytes, the input
 * schema), the rate buckets and the concurrency limit taken, the handler
 * run (fast path, inline, on the reader thread, or on a worker), the
 * output checked against its schema and limits.max_output_bytes, the
 * answer sent and audited; and notifications/cancelled. Before the
 * handler, on its thread: what the client brought (srv_ask_setup) and, for
 * a tool marked confirm, the person's consent (srv_confirm); a handler
 * that asks the client in the stateless era ends its round with an
 * input_required result.
 */
#include "server_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "moat_build.h"
#include "pool.h"
#include "rpc_scan.h"
#include "store.h"
#include "text.h"
#include "version.h"

/* ---- tool calls ------------------------------------------------------ */

const char *srv_outcome_of(enum moat_rc rc)
{
	return rc == MOAT_OK ? "ok" : moat_rc_name(rc);
}

json_t *srv_error_result(struct server *s, const char *msg)
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
	json_t *res = srv_error_result(s, msg);
	const char *tool = t->name;
	size_t bytes = json_dumpb(res, NULL, 0, JSON_COMPACT);

	srv_audit(s, b, "call", id, tool, t->family, NULL, srv_outcome_of(rc), rule, 0, bytes, 0);
	log_debug("tool %s refused: %s", tool, moat_rc_name(rc));
	srv_reply(s, b, rpc_result(id, res));
}

/*
 * The result of a tool that wrote its structuredContent as JSON text
 * (tool_spec.output_streamed): the text is not parsed again; the result
 * holds an empty placeholder where finish_msg splices it in. A test build
 * parses and validates it against the output schema all the same, so
 * every test proves the shape the product build trusts; the benchmarks,
 * which use a test build for its fixture tools, turn that off with
 * MOAT_BENCH_NO_OUTPUT_CHECK=1 (bench/lib.sh) so they time the product's
 * path. The variable means nothing to a product build.
 */
static json_t *streamed_result(struct server *s, struct call *c, struct tool_result *tr,
			       enum moat_rc *rc, struct moat_err *err)
{
	json_t *res;

	if (!c->tool->output || !c->tool->output_streamed) {
		*rc = moat_err_set(err, MOAT_EINTERNAL,
				   "tool wrote structured JSON without declaring output_streamed");
		return NULL;
	}
#if MOAT_TEST_PROVIDER
	if (!getenv("MOAT_BENCH_NO_OUTPUT_CHECK")) {
		struct schema_error se;
		char where[sizeof(se.pointer) + sizeof(se.keyword) + sizeof(se.message) + 8];
		json_error_t je;
		json_t *doc = json_loadb(tr->structured_json, tr->structured_len,
					 JSON_REJECT_DUPLICATES, &je);
		bool good = json_is_object(doc) && schema_validate(c->tool->output, doc, &se);

		if (!good) {
			if (doc)
				schema_error_format(&se, where, sizeof(where));
			json_decref(doc);
			*rc = moat_err_rule(err, MOAT_EINTERNAL, "schema.output",
					    "streamed result does not match its outputSchema: %s",
					    doc ? where : je.text);
			return NULL;
		}
		json_decref(doc);
	}
#endif
	if (!tr->content) {
		char *text = strndup(tr->structured_json, tr->structured_len);
		tool_result_text(tr, text ? text : "");
		free(text);
	}
	res = json_object();
	json_object_set(res, "content", tr->content);
	if (srv_features(s, c->batch)->structured && c->batch && c->batch->responses) {
		/* A batch serialises its array from the trees, later: parse it
		 * after all. (Batches exist only in 2025-03-26, which has no
		 * structuredContent, so this is for safety, not speed.) */
		json_t *doc = json_loadb(tr->structured_json, tr->structured_len, 0, NULL);
		json_object_set_new(res, "structuredContent", doc ? doc : json_object());
	} else if (srv_features(s, c->batch)->structured) {
		c->splice_node = json_object();
		c->splice_json = tr->structured_json;
		c->splice_len = tr->structured_len;
		tr->structured_json = NULL;
		tr->structured_len = 0;
		json_object_set(res, "structuredContent", c->splice_node);
	}
	json_object_set_new(res, "isError", json_false());
	return res;
}

/* Turn a handler's output into the tools/call result for this revision. */
static json_t *success_result(struct server *s, struct call *c, struct tool_result *tr,
			      enum moat_rc *rc, struct moat_err *err)
{
	json_t *res;

	if (tr->structured_json)
		return streamed_result(s, c, tr, rc, err);
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
		char *text = tr->structured ? wire_dumps(tr->structured) : NULL;
		tool_result_text(tr, text ? text : "");
		free(text);
	}
	res = json_object();
	json_object_set(res, "content", tr->content);
	if (tr->structured && srv_features(s, c->batch)->structured)
		json_object_set(res, "structuredContent", tr->structured);
	json_object_set_new(res, "isError", json_false());
	return res;
}

/*
 * Answer a finished call: serialize the response once, enforce
 * limits.max_output_bytes on that length, audit, send. Steals res (a
 * result) or errmsg (a whole error response, when the call ends with a
 * JSON-RPC error rather than a result); one of them is set.
 */
static void finish_msg(struct call *c, json_t *res, json_t *errmsg, enum moat_rc rc)
{
	struct server *s = c->s;
	bool cancelled;
	uint64_t now = moat_now_ns();
	uint64_t ns = now - c->ctx.start_ns;
	double ms = (double)ns / 1e6;
	struct wire w;
	json_t *msg = NULL;

	srv_wire_empty(&w);
	pthread_mutex_lock(&s->lock);
	for (struct call **pp = &s->inflight; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	cancelled = c->client_cancelled;
	pthread_mutex_unlock(&s->lock);

	if (cancelled) {
		/* The client gave up on this id: no response, per the spec. A
		 * call cancelled by shutdown still answers (with its error). */
		json_decref(res);
		json_decref(errmsg);
		rc = MOAT_ECANCELLED;
	} else if (errmsg) {
		msg = errmsg;
		if (!srv_wire_encode(&w, msg))
			srv_wire_release(&w);
	} else {
		srv_complete_result(c->batch, res);
		msg = rpc_result(c->id, res);
		if (msg &&
		    srv_wire_encode_spliced(&w, msg, c->splice_node, c->splice_json, c->splice_len) &&
		    rc == MOAT_OK &&
		    w.len > s->opts.limits.max_output_bytes) {
			char text[160];
			snprintf(text, sizeof(text),
				 "result of %zu bytes exceeds limits.max_output_bytes (%zu)", w.len,
				 s->opts.limits.max_output_bytes);
			srv_wire_release(&w);
			json_decref(msg);
			rc = MOAT_ELIMIT;
			c->rule = "limits.output";
			msg = rpc_result(c->id, srv_error_result(s, text));
			if (msg)
				srv_wire_encode(&w, msg);
		}
	}
	srv_audit(s, c->batch, "call", c->id, c->tool->name, c->tool->family, c->ctx.touched,
		  srv_outcome_of(rc), rc == MOAT_OK || rc == MOAT_EINPUT ? NULL : c->rule, ns,
		  w.len, now);
	log_debug("tool %s: %s in %.1f ms, %zu bytes", c->tool->name, srv_outcome_of(rc), ms, w.len);
	srv_reply_wire(s, c->batch, msg, &w);
	callctx_release(&c->ctx);
	json_decref(c->id);
	json_decref(c->args);
	json_decref(c->params);
	json_decref(c->splice_node);
	free(c->splice_json);
	free(c);
	srv_inflight_done(s); /* last: s may be freed once the count is 0 */
}

void srv_inflight_done(struct server *s)
{
	pthread_mutex_lock(&s->lock);
	s->inflight_count--;
	if (s->inflight_count == 0)
		pthread_cond_broadcast(&s->calls_ended);
	pthread_mutex_unlock(&s->lock);
}

static void finish_call(struct call *c, json_t *res, enum moat_rc rc)
{
	finish_msg(c, res, NULL, rc);
}

/* End the call with JSON-RPC error code (data stolen, may be NULL) and
 * err's message and rule. */
static void finish_error(struct call *c, int code, json_t *data, enum moat_rc rc,
			 const struct moat_err *err)
{
	json_t *msg = rpc_error(c->id, code, err->msg);

	if (msg && data)
		json_object_set_new(json_object_get(msg, "error"), "data", data);
	else
		json_decref(data);
	c->rule = err->rule;
	finish_msg(c, NULL, msg, rc);
}

/* "tool NAME": what a sealed requestState of this call is bound to. */
static void call_subject(const struct call *c, char *buf, size_t n)
{
	snprintf(buf, n, "tool %s", c->tool->name);
}

/* Turn a handler's outcome into the call's answer and finish the call. */
static void complete_call(struct call *c, struct tool_result *tr, enum moat_rc rc,
			  struct moat_err *err)
{
	struct server *s = c->s;
	bool stateless = c->batch && c->batch->era.stateless;
	json_t *res = NULL;
	char subject[160];

	if (rc == MOAT_EINPUT && stateless) {
		/* A round of a multi-round call: never cached, audited as
		 * input_required. */
		call_subject(c, subject, sizeof(subject));
		tool_result_clear(tr);
		res = srv_input_required(s, c->batch, subject, c->args, &c->ctx);
		if (res) {
			finish_call(c, res, rc);
			return;
		}
		rc = moat_err_set(err, MOAT_EINTERNAL,
				  "tool asked for input, but its state could not be sealed");
	} else if (rc == MOAT_EINPUT) {
		rc = moat_err_set(err, MOAT_EINTERNAL,
				  "tool asked for input outside a stateless request");
	}
	if (rc == MOAT_ENOCAP && stateless) {
		tool_result_clear(tr);
		if (!err->rule)
			err->rule = "client.no_capability";
		finish_error(c, SRV_MISSING_CAPABILITY, srv_missing_cap_data(&c->ctx, err->rule), rc,
			     err);
		return;
	}
	if (rc == MOAT_ENOCAP && !err->rule)
		err->rule = "client.no_capability";
	if (rc == MOAT_OK)
		res = success_result(s, c, tr, &rc, err);
	if (rc != MOAT_OK) {
		if (err->msg[0] == '\0')
			moat_err_set(err, rc, "tool failed (%s)", moat_rc_name(rc));
		c->rule = err->rule;
		res = srv_error_result(s, err->msg);
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

	char subject[160];

	call_subject(c, subject, sizeof(subject));
	rc = srv_ask_setup(c->s, c->batch, subject, c->params, c->args, &c->ctx, &err);
	if (rc != MOAT_OK) {
		/* A requestState or inputResponses we cannot take: a JSON-RPC
		 * error, and the handler never runs. */
		finish_error(c, rc == MOAT_EINVAL ? RPC_INVALID_PARAMS : RPC_INTERNAL_ERROR,
			     json_pack("{s:s}", "rule", err.rule ? err.rule : "state.invalid"),
			     rc, &err);
		return;
	}
	rc = callctx_check(&c->ctx, &err);
	if (rc == MOAT_OK && c->tool->precheck)
		rc = c->tool->precheck(c->tool->data, c->args, &err);
	if (rc == MOAT_OK && c->tool->confirm) {
		rc = srv_confirm(&c->ctx, c->tool, c->args, &err);
		if (rc == MOAT_EINVAL && err.rule && strncmp(err.rule, "state.", 6) == 0) {
			/* A spent requestState: refused like any bad state. */
			finish_error(c, RPC_INVALID_PARAMS, json_pack("{s:s}", "rule", err.rule), rc,
				     &err);
			return;
		}
	}
	if (rc == MOAT_OK)
		rc = c->tool->handler(&c->ctx, c->tool->data, c->args, &tr, &err);
	complete_call(c, &tr, rc, &err);
}

void srv_tools_call(struct server *s, struct batch *b, struct rpc_msg *m)
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
		srv_reply_error(s, b, m->id, RPC_INVALID_PARAMS, "invalid params: name must be a string");
		return;
	}
	if (args && !json_is_object(args)) {
		srv_reply_error(s, b, m->id, RPC_INVALID_PARAMS,
			    "invalid params: arguments must be an object");
		return;
	}
	if (token && !json_is_string(token) && !json_is_integer(token)) {
		srv_reply_error(s, b, m->id, RPC_INVALID_PARAMS,
			    "invalid params: _meta.progressToken must be a string or an integer");
		return;
	}
	t = registry_find(s->reg, json_string_value(name));
	if (t && atomic_load(&t->hidden))
		t = NULL; /* a fixture took it off the list */
	if (t && !principal_allows(srv_who(b), t->name)) {
		/* Outside the caller's policy: answered exactly as an unknown
		 * tool, so nothing tells it the tool exists; the trail says. */
		srv_audit(s, b, "security", m->id, t->name, t->family, NULL, "denied",
			  "policy.tool_not_allowed", 0, 0, 0);
		t = NULL;
	}
	if (!t) {
		const char *nm = json_string_value(name);
		snprintf(msg, sizeof(msg), "invalid params: unknown tool '%.*s'",
			 (int)text_utf8_prefix(nm, 64), nm);
		srv_reply_error(s, b, m->id, RPC_INVALID_PARAMS, msg);
		return;
	}
	if (!rpc_id_key(m->id, key, sizeof(key))) {
		srv_reply_error(s, b, m->id, RPC_INVALID_REQUEST,
			    "invalid request: a tools/call id must serialize to at most 127 bytes");
		return;
	}
	if (args && rpc_find_nul(args, t->nul_ok, where, sizeof(where))) {
		snprintf(msg, sizeof(msg),
			 "invalid arguments: %.*s: contains a NUL byte (not allowed in this argument)",
			 400, where);
		refuse_call(s, b, m->id, t, MOAT_EINVAL, "schema.nul_byte", msg);
		return;
	}
	if (!schema_validate(t->input, args ? args : empty_object, &se)) {
		schema_error_format(&se, where, sizeof(where));
		snprintf(msg, sizeof(msg), "invalid arguments: %s", where);
		refuse_call(s, b, m->id, t, MOAT_EINVAL, "schema.invalid", msg);
		return;
	}
	const struct principal *who = srv_who(b);
	/* The call's buckets, in the order their refusals are reported:
	 * this principal's, all tools', this tool's (store.h: one round trip
	 * to a shared store, all or none). */
	struct token_bucket *const bs[3] = {who->bucket, s->global_bucket, &t->bucket};
	size_t which = 0;
	switch (limits_take(bs, 3, t->annotations.read_only != HINT_TRUE, &which, NULL)) {
	case LIMITS_OK:
		break;
	case LIMITS_STORE_DOWN:
		refuse_call(s, b, m->id, t, MOAT_ELIMIT, "limits.store_unavailable",
			    limits_store_down_message(t->annotations.read_only != HINT_TRUE));
		return;
	case LIMITS_EMPTY:
		if (which == 0) {
			snprintf(msg, sizeof(msg),
				 "rate limit: this principal's calls_per_minute is reached; retry "
				 "later");
			refuse_call(s, b, m->id, t, MOAT_ELIMIT, "limits.principal_rate", msg);
		} else if (which == 1) {
			snprintf(msg, sizeof(msg),
				 "rate limit: limits.calls_per_minute (%u) reached; retry later",
				 s->opts.limits.calls_per_minute);
			refuse_call(s, b, m->id, t, MOAT_ELIMIT, "limits.rate", msg);
		} else {
			snprintf(msg, sizeof(msg),
				 "rate limit: limits.tools.%s.calls_per_minute (default "
				 "limits.tool_calls_per_minute) reached; retry later",
				 t->name);
			refuse_call(s, b, m->id, t, MOAT_ELIMIT, "limits.tool_rate", msg);
		}
		return;
	}

	c = calloc(1, sizeof(*c));
	if (!c) {
		srv_reply_error(s, b, m->id, RPC_INTERNAL_ERROR, "internal error: out of memory");
		return;
	}
	c->s = s;
	c->tool = t;
	c->batch = b;
	c->id = json_incref(m->id);
	c->args = args ? json_incref(args) : json_object();
	c->params = json_incref(m->params);
	if (!c->args) {
		json_decref(c->id);
		json_decref(c->params);
		free(c);
		srv_reply_error(s, b, m->id, RPC_INTERNAL_ERROR, "internal error: out of memory");
		return;
	}
	memcpy(c->key, key, sizeof(key));
	c->scope = b && b->era.stateless ? b->route : NULL;
	callctx_init(&c->ctx, t->name, s->opts.limits.call_timeout_ms,
		     s->opts.limits.max_output_bytes);
	c->ctx.no_touch = !s->opts.audit;
	c->ctx.progress_token = token ? json_incref(token) : NULL;
	c->ctx.progress_message = srv_features(s, b)->progress_message;
	c->ctx.notify = srv_notify_call;
	c->ctx.sink = c;

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
			if (o->scope == c->scope && strcmp(o->key, key) == 0) {
				pthread_mutex_unlock(&s->lock);
				callctx_release(&c->ctx);
				json_decref(c->id);
				json_decref(c->args);
				json_decref(c->params);
				free(c);
				srv_reply_error(s, b, m->id, RPC_INVALID_REQUEST,
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
		json_decref(c->params);
		free(c);
		refuse_call(s, b, m->id, t, rrc, rrule, refusal);
		return;
	}
	if (t->confirm) {
		/* Asking the person blocks until the client answers, which the
		 * reader thread must stay free to read: always on a worker. */
	} else if (try_fast(c)) {
		return; /* answered at once (a cache hit) */
	} else if (t->inline_ok) {
		/* Declared never to block: cheaper here than a thread hand-off. */
		run_call(c);
		return;
	} else if (t->quick && s->opts.quick_begin && s->opts.quick_begin(s->opts.quick_ctx)) {
		/* Usually quick, and the transport will move its reading to
		 * another thread if this call turns out not to be. */
		run_call(c);
		s->opts.quick_end(s->opts.quick_ctx);
		return;
	}
	if (!pool_submit(s->pool, run_call, c)) {
		json_t *res = srv_error_result(s, "server is shutting down");
		finish_call(c, res, MOAT_ECANCELLED);
	}
}

void srv_notify_call(void *sink, json_t *msg)
{
	struct call *c = sink;
	void *route = c->batch ? c->batch->route : NULL;

	/* No message: callctx_close_stream (the transport closes the
	 * route's stream; the rest of the call goes where a resuming client
	 * finds it). */
	if (!msg) {
		if (route)
			c->s->send(c->s->send_ctx, route, NULL, 0, false);
		return;
	}
	srv_send_on(c->s, route, msg, false);
}

void srv_cancelled(struct server *s, struct batch *b, struct rpc_msg *m)
{
	const void *route = b ? b->route : NULL;
	json_t *rid = m->params ? json_object_get(m->params, "requestId") : NULL;
	char key[128];

	if (!rid || !(json_is_string(rid) || json_is_integer(rid)) ||
	    !rpc_id_key(rid, key, sizeof(key)))
		return; /* notifications get no error replies */
	if (srv_subs_cancelled(s, rid))
		return; /* a subscriptions/listen stream (server_subs.c) */
	pthread_mutex_lock(&s->lock);
	for (struct call *c = s->inflight; c; c = c->next) {
		/* Another stateless request's call is not this client's to cancel. */
		if ((c->scope == NULL || c->scope == route) && strcmp(c->key, key) == 0) {
			c->client_cancelled = true;
			callctx_cancel(&c->ctx);
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
}


