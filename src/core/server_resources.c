/*
 * server_resources.c - resources/list, resources/read and
 * resources/templates/list, run on the worker pool under the same limits
 * as a tool call (rate, concurrency, output) and audited; and the client's
 * MCP roots (roots/list requests and their answers).
 *
 * Under 2026-07-28 a result carries resultType and caching hints, and a
 * read of a resource that does not exist (or that the caller may not
 * read) is -32602 with data.uri (SEP-2164), where older revisions say
 * -32002; both carry data.uri. A read never answers empty contents.
 */
#include "server_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pool.h"
#include "rpc_scan.h"
#include "store.h"
#include "text.h"
#include "version.h"

/* ---- client roots ---------------------------------------------------- */

/* Ask the client for its roots when it has them and a family wants them. */
void srv_request_roots(struct server *s)
{
	void *data;
	char id[32];
	unsigned seq;

	if (s->opts.no_client_roots || !registry_roots_hook(s->reg, &data))
		return;
	pthread_mutex_lock(&s->lock);
	if (!s->initialized || !s->client_roots) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	seq = ++s->roots_seq;
	pthread_mutex_unlock(&s->lock);
	snprintf(id, sizeof(id), "moat-roots-%u", seq);
	srv_send_json(s, json_pack("{s:s, s:s, s:s}", "jsonrpc", "2.0", "id", id, "method",
			       "roots/list"));
}

/* A response to one of our requests: only roots/list answers exist. */
void srv_handle_response(struct server *s, json_t *msg, struct rpc_msg *m)
{
	const char *id = json_string_value(m->id);
	unsigned seq;
	char *end;
	void *data;
	roots_hook_fn hook = registry_roots_hook(s->reg, &data);
	json_t *roots;

	if (srv_ask_answer(s, msg, m))
		return;
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

/* -32002 was "resource not found" until 2026-07-28, which says -32602. */
static int not_found_code(const struct mcp_features *f)
{
	return f->stateless ? RPC_INVALID_PARAMS : -32002;
}

static int resource_error_code(enum moat_rc rc, const struct mcp_features *f)
{
	switch (rc) {
	case MOAT_ENOTFOUND: return not_found_code(f);
	case MOAT_EINVAL:
	case MOAT_EDENIED: return RPC_INVALID_PARAMS;
	default: return RPC_INTERNAL_ERROR;
	}
}

json_t *srv_encode_within(struct server *s, json_t *id, json_t *msg, struct wire *w,
			  enum moat_rc *rc, const char **rule)
{
	char text[160];

	if (!msg || !srv_wire_encode(w, msg) || w->len <= s->opts.limits.max_output_bytes)
		return msg;
	snprintf(text, sizeof(text), "result of %zu bytes exceeds limits.max_output_bytes (%zu)",
		 w->len, s->opts.limits.max_output_bytes);
	json_decref(msg);
	srv_wire_release(w);
	*rc = MOAT_ELIMIT;
	*rule = "limits.output";
	msg = srv_limit_error(id, *rule, text);
	if (msg)
		srv_wire_encode(w, msg);
	return msg;
}

/* A JSON-RPC error for a request refused by a limit: -32000 (a server
 * error, JSON-RPC's implementation-defined range) with the rule in data. */
json_t *srv_limit_error(json_t *id, const char *rule, const char *msg)
{
	json_t *e = rpc_error(id, RPC_LIMIT_ERROR, msg);
	json_t *err = json_object_get(e, "error");

	if (err)
		json_object_set_new(err, "data", json_pack("{s:s}", "rule", rule));
	return e;
}

void srv_rjob_unlink(struct server *s, struct rjob *j)
{
	pthread_mutex_lock(&s->lock);
	for (struct rjob **pp = &s->rjobs; *pp; pp = &(*pp)->next) {
		if (*pp == j) {
			*pp = j->next;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
}

static void rjob_free(struct rjob *j)
{
	callctx_release(&j->ctx);
	json_decref(j->id);
	free(j->arg);
	free(j);
}

static void run_rjob(void *arg)
{
	struct rjob *j = arg;
	struct server *s = j->s;
	const struct resource_ops *ops = registry_resources(s->reg);
	const char *method = j->is_read ? "resources/read" : "resources/list";
	struct moat_err err = {0};
	json_t *out = NULL, *msg;
	struct wire w;
	enum moat_rc rc;

	srv_wire_empty(&w);
	rc = callctx_check(&j->ctx, &err);
	if (rc == MOAT_OK)
		rc = j->is_read ? ops->read(ops->data, &j->ctx, j->arg, &out, &err)
				: ops->list(ops->data, &j->ctx, j->arg, s->opts.limits.tools_page_size,
					    &out, &err);
	srv_rjob_unlink(s, j);
	if (rc == MOAT_OK && j->is_read &&
	    json_array_size(json_object_get(out, "contents")) == 0) {
		/* never empty contents: that is a resource not found */
		json_decref(out);
		out = NULL;
		rc = moat_err_set(&err, MOAT_ENOTFOUND, "resource not found");
	}
	if (rc == MOAT_OK) {
		/* serialized here, before srv_reply_wire: the era's additions
		 * go in now. Lists reflect the caller's policy; reads are
		 * content: both private when so. */
		srv_complete_result(j->batch, out);
		srv_cache_hints(j->batch, out, SRV_TTL_RESOURCES,
				j->is_read || srv_who(j->batch)->policy != NULL);
		msg = srv_encode_within(s, j->id, rpc_result(j->id, out), &w, &rc, &err.rule);
	} else {
		char text[MOAT_ERR_MSG_MAX];
		snprintf(text, sizeof(text), "%s", err.msg[0] ? err.msg : moat_rc_name(rc));
		if (s->opts.scrub)
			s->opts.scrub(s->opts.scrub_ctx, text, sizeof(text));
		json_decref(out);
		msg = rpc_error(j->id, resource_error_code(rc, srv_features(s, j->batch)), text);
		if (msg && j->is_read &&
		    (rc == MOAT_ENOTFOUND || rc == MOAT_EDENIED || rc == MOAT_EINVAL))
			json_object_set_new(json_object_get(msg, "error"), "data",
					    json_pack("{s:s}", "uri", j->arg));
		if (msg)
			srv_wire_encode(&w, msg);
	}
	srv_audit(s, j->batch, "resource", j->id, method, NULL, j->ctx.touched, srv_outcome_of(rc),
		  rc == MOAT_OK ? NULL : err.rule, moat_now_ns() - j->ctx.start_ns, w.len, 0);
	log_debug("%s: %s", method, moat_rc_name(rc));
	srv_reply_wire(s, j->batch, msg, &w);
	rjob_free(j);
	srv_inflight_done(s); /* last: s may be freed once the count is 0 */
}

/* Refuse a resource request before it ran: answer and audit it. */
static void refuse_rjob(struct server *s, struct batch *b, struct rjob *j, int code,
			const char *rule, const char *msg)
{
	json_t *e = code == RPC_LIMIT_ERROR ? srv_limit_error(j->id, rule, msg)
					    : rpc_error(j->id, code, msg);
	size_t bytes = e ? json_dumpb(e, NULL, 0, JSON_COMPACT) : 0;

	srv_audit(s, b, "resource", j->id, j->is_read ? "resources/read" : "resources/list", NULL,
		  NULL, code == RPC_LIMIT_ERROR ? "limit" : "cancelled", rule, 0, bytes, 0);
	srv_reply(s, b, e);
	rjob_free(j);
}

static bool allows_tool(const void *who, const char *tool)
{
	return principal_allows(who, tool);
}

/* Whether b's sender may use resources: uri for a read, NULL for listings
 * (principal.h). Callers without a policy may use them all. */
static bool resources_allowed(struct server *s, const struct batch *b, const char *uri)
{
	const struct principal *who = srv_who(b);

	return !who->policy || registry_resources_allowed(s->reg, uri, allows_tool, who);
}

void srv_resources(struct server *s, struct batch *b, struct rpc_msg *m, bool is_read)
{
	const struct resource_ops *ops = registry_resources(s->reg);
	const char *key = is_read ? "uri" : "cursor";
	json_t *v = m->params ? json_object_get(m->params, key) : NULL;
	struct rjob *j;
	char msg[160];

	if (!ops) {
		srv_reply_error(s, b, m->id, RPC_METHOD_NOT_FOUND,
			    "method not found: no tool family serves resources");
		return;
	}
	if ((is_read && !json_is_string(v)) || (!is_read && v && !json_is_string(v))) {
		srv_reply_error(s, b, m->id, RPC_INVALID_PARAMS,
			    is_read ? "invalid params: uri must be a string"
				    : "invalid params: cursor must be a string");
		return;
	}
	if (!resources_allowed(s, b, is_read ? json_string_value(v) : NULL)) {
		/* Outside the caller's policy: a listing is empty, a read is
		 * answered as for a resource that does not exist. */
		srv_audit(s, b, "security", m->id, is_read ? "resources/read" : "resources/list",
			  NULL, NULL, "denied", "policy.resource_not_allowed", 0, 0, 0);
		if (is_read)
			srv_reply_code_data(s, b, m->id, not_found_code(srv_features(s, b)),
					    "resource not found",
					    json_pack("{s:s}", "uri", json_string_value(v)));
		else
			srv_reply(s, b, rpc_result(m->id, json_pack("{s:[]}", "resources")));
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j || (v && !(j->arg = strdup(json_string_value(v))))) {
		free(j);
		srv_reply_error(s, b, m->id, RPC_INTERNAL_ERROR, "internal error: out of memory");
		return;
	}
	j->s = s;
	j->batch = b;
	j->id = json_incref(m->id);
	j->is_read = is_read;
	callctx_init(&j->ctx, is_read ? "resources/read" : "resources/list",
		     s->opts.limits.call_timeout_ms, s->opts.limits.max_output_bytes);
	j->ctx.no_touch = !s->opts.audit;
	/* The same limits as a tool call: rate, concurrency, queue, output. */
	struct token_bucket *const bs[1] = {s->global_bucket};
	size_t which = 0;
	switch (limits_take(bs, 1, false, &which, NULL)) {
	case LIMITS_OK:
		break;
	case LIMITS_STORE_DOWN:
		refuse_rjob(s, b, j, RPC_LIMIT_ERROR, "limits.store_unavailable",
			    limits_store_down_message(false));
		return;
	case LIMITS_EMPTY:
		snprintf(msg, sizeof(msg),
			 "rate limit: limits.calls_per_minute (%u) reached; retry later",
			 s->opts.limits.calls_per_minute);
		refuse_rjob(s, b, j, RPC_LIMIT_ERROR, "limits.rate", msg);
		return;
	}
	pthread_mutex_lock(&s->lock);
	bool stopping = s->shutting_down;
	bool full = s->inflight_count >= s->opts.limits.max_concurrent_calls;
	if (!stopping && !full) {
		j->next = s->rjobs;
		s->rjobs = j;
		s->inflight_count++;
	}
	pthread_mutex_unlock(&s->lock);
	if (stopping) {
		refuse_rjob(s, b, j, RPC_INTERNAL_ERROR, "server.shutting_down",
			    "server is shutting down");
		return;
	}
	if (full) {
		snprintf(msg, sizeof(msg),
			 "limit: limits.max_concurrent_calls (%u) calls are already running",
			 s->opts.limits.max_concurrent_calls);
		refuse_rjob(s, b, j, RPC_LIMIT_ERROR, "limits.concurrency", msg);
		return;
	}
	if (!pool_submit(s->pool, run_rjob, j)) {
		srv_rjob_unlink(s, j);
		refuse_rjob(s, b, j, RPC_INTERNAL_ERROR, "server.shutting_down",
			    "server is shutting down");
		srv_inflight_done(s);
	}
}

void srv_resource_templates(struct server *s, struct batch *b, struct rpc_msg *m)
{
	const struct resource_ops *ops = registry_resources(s->reg);

	if (!ops) {
		srv_reply_error(s, b, m->id, RPC_METHOD_NOT_FOUND,
			    "method not found: no tool family serves resources");
		return;
	}
	json_t *res = json_pack("{s:o}", "resourceTemplates",
				ops->templates && resources_allowed(s, b, NULL)
					? ops->templates(ops->data)
					: json_array());

	/* Templates change only with the config; the caller's own when a
	 * policy shapes them. */
	srv_cache_hints(b, res, SRV_TTL_LISTS, srv_who(b)->policy != NULL);
	srv_reply(s, b, rpc_result(m->id, res));
}

