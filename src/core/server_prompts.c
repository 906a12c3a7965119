/*
 * server_prompts.c - prompts/list, prompts/get and completion/complete, in
 * both eras.
 *
 * prompts/list pages the table (prompts.h) as tools/list pages tools. A
 * prompts/get is checked on the reader thread (the prompt exists and the
 * caller's policy covers it, its arguments are an object of strings with
 * every required one and no other), admitted under the limits a tool
 * call takes (the principal's and the global rate, the concurrency
 * limit), then built on a worker, where it may read resources and ask the
 * client (callctx_ask: input_required in the stateless era), audited as
 * kind "prompt" and answered. Prompt jobs sit on the session's resource
 * job list (struct rjob first in struct pjob), so shutdown and a closed
 * route cancel them as they do reads.
 *
 * completion/complete runs on the reader thread: a ref/prompt goes to the
 * prompt's complete function, a ref/resource to the family serving the
 * template's scheme (resource_mux_complete through the registry's ops);
 * both are bounded by contract. At most COMPLETE_MAX values are answered,
 * each a string starting with the typed prefix.
 */
#include "server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pool.h"
#include "prompts.h"
#include "store.h"
#include "text.h"

/* The most values one completion answers (the MCP limit). */
#define COMPLETE_MAX 100

/* JSON-RPC code of the stateless era for a missing client capability. */
#define RPC_MISSING_CAPABILITY -32021

static bool allows_tool(const void *who, const char *tool)
{
	return principal_allows(who, tool);
}

/* prompts_keep_fn: a prompt whose read_tool the caller's policy refuses
 * is neither listed nor known to it, as a tool is not. */
static bool prompt_allowed(const struct prompt *pr, const void *who)
{
	return !who || !pr->read_tool || principal_allows(who, pr->read_tool);
}

/* An error naming the rule it broke in data.rule. */
static void reply_rule(struct server *s, struct batch *b, json_t *id, int code, const char *rule,
		       const char *message)
{
	srv_reply_code_data(s, b, id, code, message,
			    rule ? json_pack("{s:s}", "rule", rule) : NULL);
}

/* The visible prompt called name for b's sender, or NULL (answered as
 * unknown; a policy refusal is audited). */
static const struct prompt *find_for(struct server *s, struct batch *b, json_t *id,
				     const char *name, const char *method)
{
	const struct prompt *pr = prompts_find(registry_prompts(s->reg), name);
	const struct principal *who = srv_who(b);

	if (pr && who->policy && !prompt_allowed(pr, who)) {
		srv_audit(s, b, "security", id, method, NULL, NULL, "denied",
			  "policy.prompt_not_allowed", 0, 0, 0);
		return NULL;
	}
	return pr;
}

static void reply_unknown_prompt(struct server *s, struct batch *b, json_t *id, const char *name)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "invalid params: unknown prompt '%.*s'",
		 (int)text_utf8_prefix(name, 64), name);
	reply_rule(s, b, id, RPC_INVALID_PARAMS, "prompts.unknown_prompt", msg);
}

/* ---- prompts/list ---------------------------------------------------- */

void srv_prompts_list(struct server *s, struct batch *b, struct rpc_msg *m)
{
	json_t *cur = m->params ? json_object_get(m->params, "cursor") : NULL;
	const struct principal *who = srv_who(b);
	struct moat_err err = {0};
	json_t *res;

	if (cur && !json_is_string(cur)) {
		srv_reply_error(s, b, m->id, RPC_INVALID_PARAMS,
				"invalid params: cursor must be a string");
		return;
	}
	if (prompts_page(registry_prompts(s->reg), cur ? json_string_value(cur) : NULL,
			 s->opts.limits.tools_page_size, srv_features(s, b), prompt_allowed,
			 who->policy ? who : NULL, &res, &err)) {
		reply_rule(s, b, m->id, err.rc == MOAT_EINVAL ? RPC_INVALID_PARAMS : RPC_INTERNAL_ERROR,
			   err.rule, err.msg);
		return;
	}
	/* Prompts change only with the config or a fixture (announced); the
	 * list is the caller's own when a policy shapes it. */
	srv_cache_hints(b, res, SRV_TTL_LISTS, who->policy != NULL);
	srv_reply(s, b, rpc_result(m->id, res));
}

/* ---- prompts/get ----------------------------------------------------- */

struct pjob {
	struct rjob r; /* first: the session's rjobs list holds &r */
	const struct prompt *pr;
	json_t *args;
};

static void pjob_free(struct pjob *j)
{
	callctx_release(&j->r.ctx);
	json_decref(j->r.id);
	json_decref(j->args);
	free(j);
}

/* callctx_notify_fn: a prompt's log messages go on its request's route. */
static void pjob_notify(void *sink, json_t *msg)
{
	struct pjob *j = sink;

	srv_send_on(j->r.s, j->r.batch ? j->r.batch->route : NULL, msg, false);
}

/* The JSON-RPC error for a get that failed with rc: prompts/get has no
 * isError result, so every failure is an error response. */
static json_t *get_error(struct server *s, struct pjob *j, enum moat_rc rc, struct moat_err *err)
{
	char text[MOAT_ERR_MSG_MAX];
	int code;
	json_t *msg, *data = json_object();

	snprintf(text, sizeof(text), "%s", err->msg[0] ? err->msg : moat_rc_name(rc));
	if (s->opts.scrub)
		s->opts.scrub(s->opts.scrub_ctx, text, sizeof(text));
	switch (rc) {
	case MOAT_EINVAL:
	case MOAT_EDENIED:
	case MOAT_ENOTFOUND: code = RPC_INVALID_PARAMS; break;
	case MOAT_ELIMIT: code = RPC_LIMIT_ERROR; break;
	case MOAT_ENOCAP:
		code = j->r.batch && j->r.batch->era.stateless ? RPC_MISSING_CAPABILITY
							       : RPC_INTERNAL_ERROR;
		if (data && j->r.ctx.client.missing_cap)
			json_object_set_new(data, "requiredCapabilities",
					    json_pack("{s:{}}", j->r.ctx.client.missing_cap));
		break;
	default: code = RPC_INTERNAL_ERROR; break;
	}
	if (data && err->rule)
		json_object_set_new(data, "rule", json_string(err->rule));
	msg = rpc_error(j->r.id, code, text);
	if (msg && data && json_object_size(data))
		json_object_set(json_object_get(msg, "error"), "data", data);
	json_decref(data);
	return msg;
}

static void run_pjob(void *arg)
{
	struct pjob *j = arg;
	struct server *s = j->r.s;
	struct moat_err err = {0};
	json_t *out = NULL, *msg = NULL;
	struct wire w;
	enum moat_rc rc;

	srv_wire_empty(&w);
	rc = callctx_check(&j->r.ctx, &err);
	if (rc == MOAT_OK)
		rc = j->pr->get(&j->r.ctx, j->pr->data, j->args, &out, &err);
	if (rc == MOAT_EINPUT) {
		/* Stateless era: the get asked the client; answer what it
		 * needs, the client retries with the answers. */
		char subject[80];
		json_decref(out);
		snprintf(subject, sizeof(subject), "prompt %s", j->pr->name);
		out = srv_input_required(s, j->r.batch, subject, j->args, &j->r.ctx);
		if (out)
			rc = MOAT_OK;
		else
			rc = moat_err_rule(&err, MOAT_EINTERNAL, "ask.unavailable",
					   "this prompt needs input from the client, which could "
					   "not be asked for");
	}
	srv_rjob_unlink(s, &j->r);
	if (rc == MOAT_OK && !json_is_object(out))
		rc = moat_err_set(&err, MOAT_EINTERNAL, "the prompt built no result");
	if (rc == MOAT_OK) {
		srv_complete_result(j->r.batch, out);
		msg = srv_encode_within(s, j->r.id, rpc_result(j->r.id, out), &w, &rc, &err.rule);
		out = NULL;
	} else {
		json_decref(out);
		msg = get_error(s, j, rc, &err);
		if (msg)
			srv_wire_encode(&w, msg);
	}
	srv_audit(s, j->r.batch, "prompt", j->r.id, j->pr->name, NULL, j->r.ctx.touched,
		  srv_outcome_of(rc), rc == MOAT_OK ? NULL : err.rule,
		  moat_now_ns() - j->r.ctx.start_ns, w.len, 0);
	log_debug("prompts/get %s: %s", j->pr->name, moat_rc_name(rc));
	srv_reply_wire(s, j->r.batch, msg, &w);
	pjob_free(j);
	srv_inflight_done(s); /* last: s may be freed once the count is 0 */
}

/* Refuse a get before it ran: answer and audit it. */
static void refuse_get(struct server *s, struct batch *b, json_t *id, const char *name,
		       enum moat_rc rc, int code, const char *rule, const char *msg)
{
	json_t *e = code == RPC_LIMIT_ERROR ? srv_limit_error(id, rule, msg)
					    : rpc_error(id, code, msg);
	size_t bytes;

	if (e && code != RPC_LIMIT_ERROR && rule)
		json_object_set_new(json_object_get(e, "error"), "data",
				    json_pack("{s:s}", "rule", rule));
	bytes = e ? json_dumpb(e, NULL, 0, JSON_COMPACT) : 0;
	srv_audit(s, b, "prompt", id, name, NULL, NULL, srv_outcome_of(rc), rule, 0, bytes, 0);
	srv_reply(s, b, e);
}

void srv_prompts_get(struct server *s, struct batch *b, struct rpc_msg *m)
{
	json_t *name = m->params ? json_object_get(m->params, "name") : NULL;
	json_t *args = m->params ? json_object_get(m->params, "arguments") : NULL;
	const struct principal *who = srv_who(b);
	const struct prompt *pr;
	struct moat_err err = {0};
	struct pjob *j;
	char msg[MOAT_ERR_MSG_MAX];

	if (!json_is_string(name)) {
		srv_reply_error(s, b, m->id, RPC_INVALID_PARAMS,
				"invalid params: name must be a string");
		return;
	}
	pr = find_for(s, b, m->id, json_string_value(name), "prompts/get");
	if (!pr) {
		reply_unknown_prompt(s, b, m->id, json_string_value(name));
		return;
	}
	if (prompts_check_args(pr, args, &err)) {
		refuse_get(s, b, m->id, pr->name, MOAT_EINVAL, RPC_INVALID_PARAMS, err.rule, err.msg);
		return;
	}
	/* This principal's bucket and all calls' (a prompt only reads). */
	struct token_bucket *const bs[2] = {who->bucket, s->global_bucket};
	size_t which = 0;
	switch (limits_take(bs, 2, false, &which, NULL)) {
	case LIMITS_OK:
		break;
	case LIMITS_STORE_DOWN:
		refuse_get(s, b, m->id, pr->name, MOAT_ELIMIT, RPC_LIMIT_ERROR,
			   "limits.store_unavailable", limits_store_down_message(false));
		return;
	case LIMITS_EMPTY:
		if (which == 0) {
			refuse_get(s, b, m->id, pr->name, MOAT_ELIMIT, RPC_LIMIT_ERROR,
				   "limits.principal_rate",
				   "rate limit: this principal's calls_per_minute is reached; retry "
				   "later");
			return;
		}
		snprintf(msg, sizeof(msg),
			 "rate limit: limits.calls_per_minute (%u) reached; retry later",
			 s->opts.limits.calls_per_minute);
		refuse_get(s, b, m->id, pr->name, MOAT_ELIMIT, RPC_LIMIT_ERROR, "limits.rate", msg);
		return;
	}
	j = calloc(1, sizeof(*j));
	if (!j || !(j->args = args ? json_deep_copy(args) : json_object())) {
		free(j);
		srv_reply_error(s, b, m->id, RPC_INTERNAL_ERROR, "internal error: out of memory");
		return;
	}
	j->pr = pr;
	j->r.s = s;
	j->r.batch = b;
	j->r.id = json_incref(m->id);
	j->r.is_read = false;
	callctx_init(&j->r.ctx, pr->name, s->opts.limits.call_timeout_ms,
		     s->opts.limits.max_output_bytes);
	j->r.ctx.no_touch = !s->opts.audit;
	j->r.ctx.notify = pjob_notify;
	j->r.ctx.sink = j;
	char subject[80];
	snprintf(subject, sizeof(subject), "prompt %s", pr->name);
	if (srv_ask_setup(s, b, subject, m->params, j->args, &j->r.ctx, &err)) {
		refuse_get(s, b, m->id, pr->name, err.rc, RPC_INVALID_PARAMS,
			   err.rule ? err.rule : "ask.bad_state", err.msg);
		pjob_free(j);
		return;
	}
	pthread_mutex_lock(&s->lock);
	bool stopping = s->shutting_down;
	bool full = s->inflight_count >= s->opts.limits.max_concurrent_calls;
	if (!stopping && !full) {
		j->r.next = s->rjobs;
		s->rjobs = &j->r;
		s->inflight_count++;
	}
	pthread_mutex_unlock(&s->lock);
	if (stopping || full) {
		if (full)
			snprintf(msg, sizeof(msg),
				 "limit: limits.max_concurrent_calls (%u) calls are already running",
				 s->opts.limits.max_concurrent_calls);
		refuse_get(s, b, m->id, pr->name, stopping ? MOAT_ECANCELLED : MOAT_ELIMIT,
			   stopping ? RPC_INTERNAL_ERROR : RPC_LIMIT_ERROR,
			   stopping ? "server.shutting_down" : "limits.concurrency",
			   stopping ? "server is shutting down" : msg);
		pjob_free(j);
		return;
	}
	if (!pool_submit(s->pool, run_pjob, j)) {
		srv_rjob_unlink(s, &j->r);
		refuse_get(s, b, m->id, pr->name, MOAT_ECANCELLED, RPC_INTERNAL_ERROR,
			   "server.shutting_down", "server is shutting down");
		pjob_free(j);
		srv_inflight_done(s);
	}
}

/* ---- completion/complete --------------------------------------------- */

/* True when uri_template is one of the templates ops lists. */
static bool template_known(const struct resource_ops *ops, const char *uri_template)
{
	json_t *all = ops && ops->templates ? ops->templates(ops->data) : NULL;
	size_t i;
	json_t *t;
	bool found = false;

	json_array_foreach(all, i, t) {
		const char *u = json_string_value(json_object_get(t, "uriTemplate"));
		if (u && strcmp(u, uri_template) == 0) {
			found = true;
			break;
		}
	}
	json_decref(all);
	return found;
}

/* Whether var is one of uri_template's variables ({var}, {+var}, ...). */
static bool template_has_var(const char *uri_template, const char *var)
{
	size_t n = strlen(var);

	for (const char *p = strchr(uri_template, '{'); p; p = strchr(p + 1, '{')) {
		const char *q = p + 1;
		if (*q && strchr("+#./;?&", *q))
			q++;
		if (strncmp(q, var, n) == 0 && (q[n] == '}' || q[n] == '*'))
			return true;
	}
	return false;
}

/* Keep the strings of got that start with prefix, at most COMPLETE_MAX,
 * in result form. got holds up to COMPLETE_MAX + 1 values: one more than
 * is answered, or a full array with a stray, says there are more. */
static json_t *completion_result(const json_t *got, const char *prefix)
{
	json_t *values = json_array();
	size_t i, n = 0, plen = strlen(prefix);
	json_t *v;
	bool more = false;

	if (!values)
		return NULL;
	json_array_foreach(got, i, v) {
		const char *sv = json_string_value(v);
		if (!sv || strncmp(sv, prefix, plen) != 0)
			continue;
		if (n == COMPLETE_MAX) {
			more = true;
			break;
		}
		json_array_append(values, v);
		n++;
	}
	if (n == COMPLETE_MAX && json_array_size(got) > COMPLETE_MAX)
		more = true;
	if (more)
		return json_pack("{s:{s:o, s:b}}", "completion", "values", values, "hasMore", 1);
	return json_pack("{s:{s:o, s:I, s:b}}", "completion", "values", values, "total",
			 (json_int_t)n, "hasMore", 0);
}

static void reply_invalid(struct server *s, struct batch *b, json_t *id, const char *rule,
			  const char *msg)
{
	reply_rule(s, b, id, RPC_INVALID_PARAMS, rule, msg);
}

void srv_complete(struct server *s, struct batch *b, struct rpc_msg *m)
{
	json_t *ref = m->params ? json_object_get(m->params, "ref") : NULL;
	json_t *arg = m->params ? json_object_get(m->params, "argument") : NULL;
	json_t *ctxo = m->params ? json_object_get(m->params, "context") : NULL;
	const char *type = json_string_value(json_object_get(ref, "type"));
	const char *aname = json_string_value(json_object_get(arg, "name"));
	const char *value = json_string_value(json_object_get(arg, "value"));
	const json_t *context = json_object_get(ctxo, "arguments");
	const struct principal *who = srv_who(b);
	struct moat_err err = {0};
	json_t *got = NULL, *res;
	enum moat_rc rc = MOAT_OK;
	const char *key;
	json_t *v;
	char msg[200];

	if (!json_is_object(ref) || !type) {
		reply_invalid(s, b, m->id, "completion.bad_params",
			      "invalid params: ref must be an object with a type");
		return;
	}
	if (!json_is_object(arg) || !aname || !value) {
		reply_invalid(s, b, m->id, "completion.bad_params",
			      "invalid params: argument must be {name, value} of strings");
		return;
	}
	if ((ctxo && !json_is_object(ctxo)) || (context && !json_is_object(context))) {
		reply_invalid(s, b, m->id, "completion.bad_params",
			      "invalid params: context.arguments must be an object of strings");
		return;
	}
	json_object_foreach((json_t *)context, key, v) {
		if (!json_is_string(v)) {
			reply_invalid(s, b, m->id, "completion.bad_params",
				      "invalid params: context.arguments must be an object of "
				      "strings");
			return;
		}
	}
	struct token_bucket *const pb[1] = {who->bucket};
	size_t which = 0;
	switch (limits_take(pb, 1, false, &which, NULL)) {
	case LIMITS_OK:
		break;
	case LIMITS_STORE_DOWN:
		srv_reply(s, b, srv_limit_error(m->id, "limits.store_unavailable",
						limits_store_down_message(false)));
		return;
	case LIMITS_EMPTY:
		srv_reply(s, b, srv_limit_error(m->id, "limits.principal_rate",
						"rate limit: this principal's calls_per_minute is "
						"reached; retry later"));
		return;
	}
	got = json_array();
	if (!got) {
		srv_reply_error(s, b, m->id, RPC_INTERNAL_ERROR, "internal error: out of memory");
		return;
	}
	if (strcmp(type, "ref/prompt") == 0) {
		const char *pname = json_string_value(json_object_get(ref, "name"));
		const struct prompt *pr = pname ? find_for(s, b, m->id, pname,
							   "completion/complete")
						: NULL;
		if (!pname) {
			reply_invalid(s, b, m->id, "completion.bad_params",
				      "invalid params: a ref/prompt needs a name");
			goto out;
		}
		if (!pr) {
			reply_unknown_prompt(s, b, m->id, pname);
			goto out;
		}
		if (!prompts_has_argument(pr, aname)) {
			snprintf(msg, sizeof(msg), "invalid params: prompt '%s' has no argument '%.*s'",
				 pr->name, (int)text_utf8_prefix(aname, 64), aname);
			reply_invalid(s, b, m->id, "prompts.unknown_argument", msg);
			goto out;
		}
		const char *tool = pr->arg_tool ? pr->arg_tool(pr->data, aname) : NULL;
		if (tool && who->policy && !principal_allows(who, tool)) {
			/* Values the caller's own tools could not list: none. */
			srv_audit(s, b, "security", m->id, "completion/complete", NULL, NULL,
				  "denied", "policy.completion_not_allowed", 0, 0, 0);
		} else if (pr->complete) {
			rc = pr->complete(pr->data, aname, value, context, got, COMPLETE_MAX + 1,
					  &err);
		}
	} else if (strcmp(type, "ref/resource") == 0) {
		const char *uri = json_string_value(json_object_get(ref, "uri"));
		const struct resource_ops *ops = registry_resources(s->reg);
		if (!uri) {
			reply_invalid(s, b, m->id, "completion.bad_params",
				      "invalid params: a ref/resource needs a uri");
			goto out;
		}
		if (!ops || !template_known(ops, uri) ||
		    (who->policy && !registry_resources_allowed(s->reg, uri, allows_tool, who))) {
			if (ops && who->policy && template_known(ops, uri))
				srv_audit(s, b, "security", m->id, "completion/complete", NULL, NULL,
					  "denied", "policy.resource_not_allowed", 0, 0, 0);
			snprintf(msg, sizeof(msg),
				 "invalid params: unknown resource template '%.*s'",
				 (int)text_utf8_prefix(uri, 128), uri);
			reply_invalid(s, b, m->id, "completion.unknown_template", msg);
			goto out;
		}
		if (!template_has_var(uri, aname)) {
			snprintf(msg, sizeof(msg),
				 "invalid params: the template has no variable '%.*s'",
				 (int)text_utf8_prefix(aname, 64), aname);
			reply_invalid(s, b, m->id, "completion.unknown_variable", msg);
			goto out;
		}
		if (ops->complete)
			rc = ops->complete(ops->data, uri, aname, value, context, got,
					   COMPLETE_MAX + 1, &err);
	} else {
		snprintf(msg, sizeof(msg), "invalid params: unknown ref type '%.*s'",
			 (int)text_utf8_prefix(type, 32), type);
		reply_invalid(s, b, m->id, "completion.bad_params", msg);
		goto out;
	}
	if (rc) {
		char text[MOAT_ERR_MSG_MAX];
		snprintf(text, sizeof(text), "%s", err.msg[0] ? err.msg : moat_rc_name(rc));
		if (s->opts.scrub)
			s->opts.scrub(s->opts.scrub_ctx, text, sizeof(text));
		reply_rule(s, b, m->id,
			   rc == MOAT_EINVAL || rc == MOAT_ENOTFOUND || rc == MOAT_EDENIED
				   ? RPC_INVALID_PARAMS
				   : RPC_INTERNAL_ERROR,
			   err.rule, text);
		goto out;
	}
	res = completion_result(got, value);
	if (!res) {
		srv_reply_error(s, b, m->id, RPC_INTERNAL_ERROR, "internal error: out of memory");
		goto out;
	}
	srv_reply(s, b, rpc_result(m->id, res));
out:
	json_decref(got);
}
