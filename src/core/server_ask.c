/*
 * server_ask.c - asking the client something during a call, in both eras,
 * and the person's confirmation before a write.
 *
 * Initialize era: the handler's worker sends a JSON-RPC request
 * ("moat-ask-N") on the call's route and waits on a condition variable
 * until srv_ask_answer() hands it the client's response, the call's
 * deadline passes or it is cancelled. Stateless era (2026-07-28): there
 * are no server-to-client requests; a handler's asks are queued and the
 * call answers {resultType:"input_required", inputRequests,
 * requestState}. The client retries with inputResponses and the
 * requestState, which seal.c binds to the tool, the caller, the arguments
 * and an expiry, and which carries the earlier rounds' answers and the
 * handler's state: the server keeps nothing between rounds.
 */
#include "server_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "seal.h"
#include "store.h"
#include "text.h"

/* One request to the client awaiting its answer (initialize era). */
struct ask {
	struct ask *next;
	char id[32];
	pthread_cond_t cv; /* CLOCK_MONOTONIC */
	json_t *answer;    /* the client's response message (owned) */
};

#define ASK_KEYS_MAX 64

/* ---- the stateless era: input responses and requestState ------------- */

/* Copy the well-formed entries of from (object values under valid keys)
 * into to, keeping what to already has. */
static void merge_responses(json_t *to, const json_t *from)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)from, key, v) {
		size_t n = strlen(key);
		bool ok = n >= 1 && n <= 64 && json_is_object(v);
		for (size_t i = 0; ok && i < n; i++) {
			char c = key[i];
			ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			     (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
		}
		if (!ok || json_object_get(to, key) || json_object_size(to) >= ASK_KEYS_MAX)
			continue;
		json_object_set(to, key, v);
	}
}

static enum moat_rc setup_stateless(struct batch *b, const char *subject, const json_t *params,
				    const json_t *args, struct call_ctx *ctx, struct moat_err *err)
{
	struct call_client *c = &ctx->client;
	json_t *ir = params ? json_object_get(params, "inputResponses") : NULL;
	json_t *rs = params ? json_object_get(params, "requestState") : NULL;
	json_t *body = NULL;
	struct seal_claims claims = {.subject = subject, .principal = srv_who(b)->name,
				     .args = args};
	enum moat_rc rc;

	c->caps = json_incref(b->era.caps);
	c->log_level = b->era.log_level;
	if (params && json_object_get(params, "inputResponses") && !json_is_object(ir))
		return moat_err_rule(err, MOAT_EINVAL, "input.malformed",
				     "invalid params: inputResponses must be an object of "
				     "responses by key");
	if (rs && !json_is_string(rs))
		return moat_err_rule(err, MOAT_EINVAL, "state.malformed",
				     "invalid params: requestState must be a string");
	if (!(c->responses = json_object()))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (rs) {
		rc = seal_open(json_string_value(rs), &claims, 0, &body, &c->state_exp, err);
		if (rc)
			return rc;
		seal_id(json_string_value(rs), c->state_id);
		/* What earlier rounds were answered comes first: a retry cannot
		 * change an answer the state already holds. */
		merge_responses(c->responses, json_object_get(body, "responses"));
		c->state = json_incref(json_object_get(body, "state"));
		c->asked = json_incref(json_object_get(body, "asked"));
		json_decref(body);
		if (c->asked && !json_is_array(c->asked)) {
			json_decref(c->asked);
			c->asked = NULL;
		}
	}
	if (ir)
		merge_responses(c->responses, ir);
	return MOAT_OK;
}

/* A new array of the keys in a (array or NULL) and in the object o. */
static json_t *asked_union(const json_t *a, const json_t *o)
{
	json_t *out = a ? json_deep_copy(a) : json_array();
	const char *key;
	json_t *v, *el;
	size_t i;

	if (!out)
		return NULL;
	json_object_foreach((json_t *)o, key, v) {
		bool seen = false;
		(void)v;
		json_array_foreach(out, i, el)
			if (json_is_string(el) && strcmp(json_string_value(el), key) == 0)
				seen = true;
		if (!seen && json_array_size(out) < ASK_KEYS_MAX)
			json_array_append_new(out, json_string(key));
	}
	return out;
}

json_t *srv_input_required(struct server *s, struct batch *b, const char *subject,
			   const json_t *args, struct call_ctx *ctx)
{
	struct call_client *c = &ctx->client;
	struct seal_claims claims = {.subject = subject, .principal = srv_who(b)->name,
				     .args = args};
	struct moat_err err = {0};
	const json_t *state = c->next_state ? c->next_state : c->state;
	json_t *body, *res;
	char *sealed;

	(void)s;
	if (!c->stateless || json_object_size(c->requests) == 0)
		return NULL;
	body = json_pack("{s:O, s:o}", "responses", c->responses ? c->responses : json_null(),
			 "asked", asked_union(c->asked, c->requests));
	if (!body)
		return NULL;
	if (state)
		json_object_set(body, "state", (json_t *)state);
	sealed = seal_box(&claims, body, 0, &err);
	json_decref(body);
	if (!sealed) {
		log_warn("cannot seal a requestState: %s", err.msg);
		return NULL;
	}
	res = json_pack("{s:s, s:O, s:s}", "resultType", "input_required", "inputRequests",
			c->requests, "requestState", sealed);
	free(sealed);
	return res;
}

/* ---- the initialize era: requests to the client ------------------------ */

/* Stop waiting for a: unlink it. Under s->lock. */
static void ask_unlink(struct server *s, struct ask *a)
{
	for (struct ask **pp = &s->asks; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			return;
		}
	}
}

/* callctx_request_fn: send method(params) to the client on the call's
 * route and wait for its answer. */
static enum moat_rc ask_request(struct call_ctx *ctx, const char *method, json_t *params,
				json_t **result, struct moat_err *err)
{
	struct server *s = ctx->client.request_ctx;
	struct ask a = {0};
	pthread_condattr_t attr;
	json_t *msg;
	enum moat_rc rc = MOAT_OK;

	*result = NULL;
	if (!s || !ctx->notify) {
		json_decref(params);
		return moat_err_set(err, MOAT_EINTERNAL, "cannot ask the client here");
	}
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&a.cv, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_lock(&s->lock);
	snprintf(a.id, sizeof(a.id), "moat-ask-%u", ++s->ask_seq);
	a.next = s->asks;
	s->asks = &a;
	pthread_mutex_unlock(&s->lock);
	msg = json_pack("{s:s, s:s, s:s, s:o}", "jsonrpc", "2.0", "id", a.id, "method", method,
			"params", params);
	if (!msg) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
	} else {
		log_debug("asking the client: %s (%s)", method, a.id);
		ctx->notify(ctx->sink, msg); /* on the call's route, not final */
	}
	pthread_mutex_lock(&s->lock);
	while (rc == MOAT_OK && !a.answer) {
		struct timespec ts;
		uint64_t now = moat_now_ns(), until = now + 100000000u; /* look at the
									   cancel flag */
		pthread_mutex_unlock(&s->lock);
		rc = callctx_check(ctx, err);
		pthread_mutex_lock(&s->lock);
		if (rc != MOAT_OK || a.answer)
			break;
		if (ctx->deadline_ns && ctx->deadline_ns < until)
			until = ctx->deadline_ns;
		ts.tv_sec = (time_t)(until / 1000000000u);
		ts.tv_nsec = (long)(until % 1000000000u);
		pthread_cond_timedwait(&a.cv, &s->lock, &ts);
	}
	ask_unlink(s, &a);
	pthread_mutex_unlock(&s->lock);
	pthread_cond_destroy(&a.cv);
	if (!a.answer) {
		/* Tell the client we no longer need its answer. */
		if (msg)
			ctx->notify(ctx->sink,
				    rpc_notification("notifications/cancelled",
						     json_pack("{s:s, s:s}", "requestId", a.id,
							       "reason", "the call ended")));
		return rc;
	}
	json_t *e = json_object_get(a.answer, "error");
	if (e) {
		const char *m = json_string_value(json_object_get(e, "message"));
		rc = moat_err_rule(err, MOAT_EUPSTREAM, "client.error",
				   "the client answered %s with an error (%lld): %.200s", method,
				   (long long)json_integer_value(json_object_get(e, "code")),
				   m ? m : "");
	} else {
		*result = json_incref(json_object_get(a.answer, "result"));
	}
	json_decref(a.answer);
	return rc;
}

bool srv_ask_answer(struct server *s, json_t *msg, struct rpc_msg *m)
{
	const char *id = json_string_value(m->id);
	bool found = false;

	if (!id || strncmp(id, "moat-ask-", 9) != 0)
		return false;
	pthread_mutex_lock(&s->lock);
	for (struct ask *a = s->asks; a; a = a->next) {
		if (strcmp(a->id, id) == 0) {
			if (!a->answer) {
				a->answer = json_incref(msg);
				pthread_cond_signal(&a->cv);
			}
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (!found)
		log_debug("client answered %s, which nobody awaits any more", id);
	return true;
}

/* ---- set-up and the replies -------------------------------------------- */

enum moat_rc srv_ask_setup(struct server *s, struct batch *b, const char *subject,
			   const json_t *params, const json_t *args, struct call_ctx *ctx,
			   struct moat_err *err)
{
	struct call_client *c = &ctx->client;

	c->stateless = b && b->era.stateless;
	c->log_level = -1;
	if (c->stateless)
		return setup_stateless(b, subject, params, args, ctx, err);
	pthread_mutex_lock(&s->lock);
	c->caps = json_incref(s->client_caps);
	c->log_level = s->client_log_level;
	pthread_mutex_unlock(&s->lock);
	c->request = ask_request;
	c->request_ctx = s;
	return MOAT_OK;
}

json_t *srv_missing_cap_data(const struct call_ctx *ctx, const char *rule)
{
	const char *cap = ctx->client.missing_cap ? ctx->client.missing_cap : "elicitation";

	return json_pack("{s:{s:{}}, s:s}", "requiredCapabilities", cap, "rule",
			 rule ? rule : "client.no_capability");
}

/* ---- confirmation ------------------------------------------------------ */

/*
 * A requestState that carried an accepted confirmation is spent: a state
 * is a one-time permission, so a confirmed write sent again with the same
 * state is refused (state.replayed) rather than done twice. The spent
 * states are marks of kind "confirm" (store.h), until the state expires:
 * in this process, and in the cluster's store when one is installed, so
 * a state spent on one replica is refused on every other. When the store
 * cannot say whether the state was spent, the write is refused
 * (confirm.store_unavailable) and nothing is recorded: the person's
 * confirmation is not used, and the client may start again once the store
 * answers. Without a store the process-local set is bounded; when every
 * slot holds a live mark the confirmation is refused (limits.confirmations)
 * rather than one forgotten.
 */
static enum moat_rc spend_state(const struct call_ctx *ctx, struct moat_err *err)
{
	uint64_t now = (uint64_t)time(NULL);
	uint64_t exp = ctx->client.state_exp;
	uint32_t ttl = exp > now ? (uint32_t)(exp - now < UINT32_MAX ? exp - now : UINT32_MAX) : 1;

	switch (store_mark("confirm", ctx->client.state_id, ttl)) {
	case STORE_OK:
		return MOAT_OK;
	case STORE_EMPTY:
		return moat_err_rule(err, MOAT_EINVAL, "state.replayed",
				     "invalid params: this requestState already carried a "
				     "confirmation that was used; start the request again without it");
	case STORE_DOWN:
	default:
		break;
	}
	if (store_active())
		return moat_err_rule(err, MOAT_EUPSTREAM, "confirm.store_unavailable",
				     "the shared store cannot tell whether this confirmation was "
				     "already used, so it is not used now; nothing was changed; try "
				     "again when the store answers");
	return moat_err_rule(err, MOAT_ELIMIT, "limits.confirmations",
			     "too many confirmations in flight; try again later");
}

/* Append "name: value" for each argument to buf (what the call will
 * touch, for the person): strings cut to 80 bytes, long text as a size.
 * The members of an object argument are listed one level down as
 * "name.member: value" (a grouped API's NAME_call_write carries the
 * operation's own arguments in "arguments": the person sees them); prefix
 * is "" at the top. Returns false once buf is full. */
static bool describe_args(const json_t *args, const char *prefix, char *buf, size_t n)
{
	const char *key;
	json_t *v;
	size_t len = strlen(buf);

	json_object_foreach((json_t *)args, key, v) {
		char val[112];
		int w;
		if (!prefix[0] && json_is_object(v) && json_object_size(v) > 0) {
			char sub[48];
			snprintf(sub, sizeof(sub), "%.*s.", (int)text_utf8_prefix(key, 40), key);
			if (!describe_args(v, sub, buf, n))
				return false;
			len = strlen(buf);
			continue;
		}
		if (json_is_string(v)) {
			const char *sv = json_string_value(v);
			size_t sl = json_string_length(v);
			if (sl > 200 || strchr(sv, '\n'))
				snprintf(val, sizeof(val), "(%zu bytes of text)", sl);
			else
				snprintf(val, sizeof(val), "\"%.*s%s\"", (int)text_utf8_prefix(sv, 80),
					 sv, sl > 80 ? "…" : "");
		} else if (json_is_integer(v) || json_is_boolean(v) || json_is_real(v)) {
			char *d = json_dumps(v, JSON_ENCODE_ANY);
			snprintf(val, sizeof(val), "%s", d ? d : "?");
			free(d);
		} else {
			snprintf(val, sizeof(val), "(%s)", json_is_array(v) ? "a list" : "an object");
		}
		w = snprintf(buf + len, n - len, "\n- %s%.*s: %s", prefix, (int)text_utf8_prefix(key, 40),
			     key, val);
		if (w < 0 || (size_t)w >= n - len) {
			buf[len] = '\0'; /* keep whole lines only */
			return false;
		}
		len += (size_t)w;
	}
	return true;
}

enum moat_rc srv_confirm(struct call_ctx *ctx, const struct tool *t, const json_t *args,
			 struct moat_err *err)
{
	static const char key[] = "moat_confirm";
	struct call_client *c = &ctx->client;
	char msg[1024];
	const json_t *ans = NULL;
	json_t *params;
	enum moat_rc rc;
	bool asked = false;
	size_t i;
	json_t *el;

	if (c->stateless && c->responses && json_object_get(c->responses, key)) {
		/* Only an answer to a question this server put, carried back in
		 * a valid requestState bound to this tool, caller and these
		 * arguments, counts: never one the request merely claims. */
		json_array_foreach(c->asked, i, el)
			if (json_is_string(el) && strcmp(json_string_value(el), key) == 0)
				asked = true;
		if (!asked)
			json_object_del(c->responses, key);
	}
	snprintf(msg, sizeof(msg), "Allow %s to run the tool '%s'%s%s? It changes things:",
		 "moat", t->name, t->family ? " of the family " : "", t->family ? t->family : "");
	describe_args(args, "", msg, sizeof(msg));
	params = json_pack("{s:s, s:{s:s, s:{s:{s:s, s:s, s:s, s:b}}, s:[s]}}", "message", msg,
			   "requestedSchema", "type", "object", "properties", "confirm", "type",
			   "boolean", "title", "Allow this change", "description",
			   "Check to let the tool run; anything else stops it.", "default", 0,
			   "required", "confirm");
	if (!params)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	rc = callctx_ask(ctx, key, "elicitation/create", params, &ans, err);
	if (rc == MOAT_ENOCAP)
		return moat_err_rule(err, MOAT_ENOCAP, "confirm.unavailable",
				     "the tool '%s' needs the person's confirmation (config "
				     "\"confirm\"), and the client cannot ask for it (no elicitation "
				     "capability); nothing was changed",
				     t->name);
	if (rc != MOAT_OK)
		return rc;
	const char *action = json_string_value(json_object_get(ans, "action"));
	json_t *content = json_object_get(ans, "content");
	if (action && strcmp(action, "accept") == 0 &&
	    json_is_true(json_object_get(content, "confirm"))) {
		if (c->stateless && (rc = spend_state(ctx, err)) != MOAT_OK)
			return rc;
		callctx_touch(ctx, "confirmed", "yes");
		return MOAT_OK;
	}
	return moat_err_rule(err, MOAT_EDENIED, "confirm.declined",
			     "the person did not allow the tool '%s' to run (%s); nothing was "
			     "changed",
			     t->name,
			     !action ? "no answer"
			     : strcmp(action, "accept") == 0 ? "accepted without checking the box"
							     : action);
}
