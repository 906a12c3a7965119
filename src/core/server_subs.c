/*
 * server_subs.c - change notifications in both eras.
 *
 * Initialize era: a session listens on the process's hub (hub.h) from
 * initialize to server_free; list changes go to the session at large
 * (route NULL), and resources/subscribe adds a URI to its listener, so
 * notifications/resources/updated follows a watched file's changes.
 *
 * Stateless era (2026-07-28): subscriptions/listen opens a stream on the
 * request's own route. Its first message is
 * notifications/subscriptions/acknowledged with the filter we agreed to
 * (what the client asked for, less what we do not serve: prompt changes
 * without prompts, resource list changes, URIs its policy may not read or
 * no family can watch); then every matching change, each carrying the
 * listen's id in params._meta["io.modelcontextprotocol/subscriptionId"].
 * It ends when the transport says the route closed, on stdio when the
 * client sends notifications/cancelled naming it, or at shutdown (stdio
 * then gets a notifications/cancelled from us, as the spec asks). Streams
 * are bounded per principal and per server (rule limits.subscriptions).
 *
 * Threading: listens are on s->listens under s->lock. One thread ends a
 * listen: whoever unlinks it, except while srv_listen is still setting it
 * up, when the ender only marks it and srv_listen ends it itself. A
 * listen's deliver runs on the publisher's thread and reads only what
 * stays fixed while the stream is open; hub_unlisten waits it out before
 * the stream's final message and the free.
 */
#include "server_int.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub.h"
#include "log.h"
#include "prompts.h"

#define META_SUB_ID "io.modelcontextprotocol/subscriptionId"

/* Listen streams a server keeps open at once, in all and per principal. */
#define SUBS_MAX_LISTENS 256
#define SUBS_MAX_PER_PRINCIPAL 16

enum listen_state { LISTEN_SETUP, LISTEN_OPEN };

struct listen {
	struct listen *next;
	struct server *s;
	struct batch *b; /* the listen request's; its route is the stream */
	json_t *id;      /* the request's id: the subscriptionId */
	uint64_t hub_id;
	_Atomic int state;
	bool end_asked;  /* under s->lock: ended while still in SETUP */
	bool by_server;  /* ended by shutdown: stdio is told so */
};

static const char *event_method(enum hub_event ev)
{
	switch (ev) {
	case HUB_TOOLS_CHANGED: return "notifications/tools/list_changed";
	case HUB_PROMPTS_CHANGED: return "notifications/prompts/list_changed";
	case HUB_RESOURCES_CHANGED: return "notifications/resources/list_changed";
	case HUB_RESOURCE_UPDATED: return "notifications/resources/updated";
	}
	return NULL;
}

/* The notification for ev: params holds uri for a resource update. */
static json_t *event_message(enum hub_event ev, const char *uri)
{
	json_t *params = ev == HUB_RESOURCE_UPDATED ? json_pack("{s:s}", "uri", uri) : json_object();

	return params ? rpc_notification(event_method(ev), params) : NULL;
}

/* ---- initialize era ---------------------------------------------------- */

/* hub_deliver_fn of a session: to the session at large. */
static void session_deliver(void *ctx, enum hub_event ev, const char *uri)
{
	srv_send_json(ctx, event_message(ev, uri));
}

void srv_subs_session_start(struct server *s)
{
	struct moat_err err = {0};
	unsigned mask = HUB_TOOLS_CHANGED;
	uint64_t id;

	if (prompts_count(registry_prompts(s->reg)) > 0)
		mask |= HUB_PROMPTS_CHANGED;
	if (registry_resources(s->reg))
		mask |= HUB_RESOURCE_UPDATED;
	id = hub_listen(registry_hub(s->reg), mask, session_deliver, s, &err);
	if (!id)
		log_warn("session will not hear of changes: %s", err.msg);
	pthread_mutex_lock(&s->lock);
	s->hub_id = id;
	pthread_mutex_unlock(&s->lock);
}

static bool allows_tool(const void *who, const char *tool)
{
	return principal_allows(who, tool);
}

/* Whether b's sender may read uri (its family's read_tool). */
static bool uri_allowed(struct server *s, const struct batch *b, const char *uri)
{
	const struct principal *who = srv_who(b);

	return !who->policy || registry_resources_allowed(s->reg, uri, allows_tool, who);
}

/* -32602 (or -32000 for a limit) naming uri and the rule. */
static void refuse_uri(struct server *s, struct batch *b, json_t *id, enum moat_rc rc,
		       const char *rule, const char *msg, const char *uri)
{
	json_t *data = json_pack("{s:s}", "uri", uri);

	if (data && rule)
		json_object_set_new(data, "rule", json_string(rule));
	srv_reply_code_data(s, b, id, rc == MOAT_ELIMIT ? RPC_LIMIT_ERROR : RPC_INVALID_PARAMS, msg,
			    data);
}

void srv_resources_subscribe(struct server *s, struct batch *b, struct rpc_msg *m, bool on)
{
	const char *method = on ? "resources/subscribe" : "resources/unsubscribe";
	json_t *v = m->params ? json_object_get(m->params, "uri") : NULL;
	struct moat_err err = {0};
	const char *uri;
	uint64_t hub_id;
	char text[MOAT_ERR_MSG_MAX + 64];

	if (!registry_resources(s->reg)) {
		srv_reply_error(s, b, m->id, RPC_METHOD_NOT_FOUND,
				"method not found: no tool family serves resources");
		return;
	}
	if (!json_is_string(v) || json_string_length(v) == 0) {
		srv_reply_error(s, b, m->id, RPC_INVALID_PARAMS,
				"invalid params: uri must be a non-empty string");
		return;
	}
	uri = json_string_value(v);
	pthread_mutex_lock(&s->lock);
	hub_id = s->hub_id;
	pthread_mutex_unlock(&s->lock);
	if (!on) {
		if (hub_id)
			hub_unsubscribe(registry_hub(s->reg), hub_id, uri);
		srv_audit(s, b, "resource", m->id, method, NULL, NULL, "ok", NULL, 0, 0, 0);
		srv_reply(s, b, rpc_result(m->id, json_object()));
		return;
	}
	if (!uri_allowed(s, b, uri)) {
		srv_audit(s, b, "security", m->id, method, NULL, NULL, "denied",
			  "policy.resource_not_allowed", 0, 0, 0);
		refuse_uri(s, b, m->id, MOAT_EDENIED, "policy.resource_not_allowed",
			   "invalid params: this resource is not allowed for the caller", uri);
		return;
	}
	if (!hub_id) {
		moat_err_rule(&err, MOAT_ELIMIT, "limits.subscriptions",
			      "limit: this session has no change listener");
	} else if (hub_subscribe(registry_hub(s->reg), hub_id, uri, &err) == MOAT_OK) {
		srv_audit(s, b, "resource", m->id, method, NULL, NULL, "ok", NULL, 0, 0, 0);
		srv_reply(s, b, rpc_result(m->id, json_object()));
		return;
	}
	srv_audit(s, b, "resource", m->id, method, NULL, NULL, srv_outcome_of(err.rc), err.rule, 0,
		  0, 0);
	snprintf(text, sizeof(text), "%s: %s",
		 err.rc == MOAT_ELIMIT ? "limit" : "invalid params",
		 err.msg[0] ? err.msg : "this resource cannot be subscribed to");
	if (s->opts.scrub)
		s->opts.scrub(s->opts.scrub_ctx, text, sizeof(text));
	refuse_uri(s, b, m->id, err.rc, err.rule, text, uri);
}

/* ---- stateless era: subscriptions/listen -------------------------------- */

/* hub_deliver_fn of a listen stream. */
static void listen_deliver(void *ctx, enum hub_event ev, const char *uri)
{
	struct listen *l = ctx;
	json_t *msg;

	if (atomic_load(&l->state) != LISTEN_OPEN)
		return; /* not acknowledged yet: the change came before it */
	msg = event_message(ev, uri);
	if (msg)
		json_object_set_new(json_object_get(msg, "params"), "_meta",
				    json_pack("{s:O}", META_SUB_ID, l->id));
	srv_send_on(l->s, l->b->route, msg, false);
}

/* End l, already unlinked: stop its deliveries, send the stream's final
 * message (on stdio, a server-side end is announced with
 * notifications/cancelled) and free it. */
static void listen_end(struct server *s, struct listen *l)
{
	if (l->hub_id)
		hub_unlisten(registry_hub(s->reg), l->hub_id);
	if (!l->b->route && l->by_server)
		srv_send_json(s, rpc_notification("notifications/cancelled",
						  json_pack("{s:O, s:s}", "requestId", l->id, "reason",
							    "the server is shutting down")));
	srv_reply(s, l->b, NULL); /* the route's final (empty); frees the batch */
	json_decref(l->id);
	free(l);
}

/* Unlink l from s->listens and end it, or leave that to srv_listen when
 * it is still setting l up. Lock held on entry, released on return. */
static void listen_stop_locked(struct server *s, struct listen **pp, bool by_server)
{
	struct listen *l = *pp;

	*pp = l->next;
	l->by_server = by_server;
	if (atomic_load(&l->state) == LISTEN_SETUP) {
		l->end_asked = true;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	pthread_mutex_unlock(&s->lock);
	listen_end(s, l);
}

/* Refuse a listen before it opened: answer (ending the route) and audit. */
static void listen_refuse(struct server *s, struct batch *b, json_t *id, int code,
			  const char *rule, const char *msg)
{
	srv_audit(s, b, "security", id, "subscriptions/listen", NULL, NULL,
		  code == RPC_LIMIT_ERROR ? "limit" : "invalid", rule, 0, 0, 0);
	if (code == RPC_LIMIT_ERROR)
		srv_reply(s, b, srv_limit_error(id, rule, msg));
	else
		srv_reply_code_data(s, b, id, code, msg,
				    rule ? json_pack("{s:s}", "rule", rule) : NULL);
}

/* Check the filter's shape: booleans, and resourceSubscriptions an array
 * of at most HUB_MAX_URIS non-empty strings. NULL when it is fine. */
static const char *filter_problem(const json_t *f)
{
	static const char *const flags[] = {"toolsListChanged", "promptsListChanged",
					    "resourcesListChanged"};
	const json_t *uris = json_object_get(f, "resourceSubscriptions");
	size_t i;
	json_t *u;

	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		const json_t *v = json_object_get(f, flags[i]);
		if (v && !json_is_boolean(v))
			return "invalid params: notifications' list-change fields must be booleans";
	}
	if (!uris)
		return NULL;
	if (!json_is_array(uris))
		return "invalid params: notifications.resourceSubscriptions must be an array of URIs";
	if (json_array_size(uris) > HUB_MAX_URIS)
		return "invalid params: notifications.resourceSubscriptions names too many URIs";
	json_array_foreach(uris, i, u)
		if (!json_is_string(u) || json_string_length(u) == 0)
			return "invalid params: notifications.resourceSubscriptions must be an "
			       "array of URIs";
	return NULL;
}

/* Count s's open listens, in all and from who. Lock held. */
static void count_locked(struct server *s, const struct principal *who, size_t *all,
			 size_t *mine)
{
	*all = *mine = 0;
	for (struct listen *l = s->listens; l; l = l->next) {
		(*all)++;
		if (strcmp(l->b->who.name, who->name) == 0)
			(*mine)++;
	}
}

/* Subscribe l to the URIs of filter f its sender may read and a family
 * can watch; the honoured ones go into agreed. */
static void listen_uris(struct server *s, struct listen *l, const json_t *f, json_t *agreed)
{
	const json_t *uris = json_object_get(f, "resourceSubscriptions");
	json_t *ok = json_array();
	size_t i;
	json_t *u;

	if (!ok)
		return;
	json_array_foreach(uris, i, u) {
		const char *uri = json_string_value(u);
		struct moat_err err = {0};
		if (!uri_allowed(s, l->b, uri)) {
			srv_audit(s, l->b, "security", l->id, "subscriptions/listen", NULL, NULL,
				  "denied", "policy.resource_not_allowed", 0, 0, 0);
			continue;
		}
		if (hub_subscribe(registry_hub(s->reg), l->hub_id, uri, &err) != MOAT_OK) {
			srv_audit(s, l->b, "resource", l->id, "subscriptions/listen", NULL, NULL,
				  srv_outcome_of(err.rc), err.rule, 0, 0, 0);
			continue;
		}
		json_array_append(ok, u);
	}
	json_object_set_new(agreed, "resourceSubscriptions", ok);
}

void srv_listen(struct server *s, struct batch *b, struct rpc_msg *m)
{
	json_t *f = m->params ? json_object_get(m->params, "notifications") : NULL;
	const char *problem = json_is_object(f) ? filter_problem(f)
						: "invalid params: notifications must be an object";
	bool prompts = prompts_count(registry_prompts(s->reg)) > 0;
	bool resources = registry_resources(s->reg) != NULL;
	struct moat_err err = {0};
	unsigned mask = 0;
	json_t *agreed;
	struct listen *l;
	size_t all, mine;
	char msg[160];

	if (problem) {
		listen_refuse(s, b, m->id, RPC_INVALID_PARAMS, NULL, problem);
		return;
	}
	/* What we agree to: tool changes always; prompt changes with
	 * prompts; resource updates with resources. Resource list changes
	 * are never announced (the capability says listChanged false). */
	agreed = json_object();
	if (json_is_true(json_object_get(f, "toolsListChanged"))) {
		mask |= HUB_TOOLS_CHANGED;
		json_object_set_new(agreed, "toolsListChanged", json_true());
	}
	if (prompts && json_is_true(json_object_get(f, "promptsListChanged"))) {
		mask |= HUB_PROMPTS_CHANGED;
		json_object_set_new(agreed, "promptsListChanged", json_true());
	}
	if (resources && json_object_get(f, "resourceSubscriptions"))
		mask |= HUB_RESOURCE_UPDATED;
	l = calloc(1, sizeof(*l));
	if (!agreed || !l) {
		json_decref(agreed);
		free(l);
		srv_reply_error(s, b, m->id, RPC_INTERNAL_ERROR, "internal error: out of memory");
		return;
	}
	l->s = s;
	l->b = b;
	l->id = json_incref(m->id);
	atomic_init(&l->state, LISTEN_SETUP);

	pthread_mutex_lock(&s->lock);
	count_locked(s, &b->who, &all, &mine);
	bool stopping = s->shutting_down;
	bool full = all >= SUBS_MAX_LISTENS || mine >= SUBS_MAX_PER_PRINCIPAL;
	if (!stopping && !full) {
		l->next = s->listens;
		s->listens = l;
	}
	pthread_mutex_unlock(&s->lock);
	if (stopping || full) {
		json_decref(l->id);
		free(l);
		json_decref(agreed);
		if (stopping) {
			listen_refuse(s, b, m->id, RPC_INTERNAL_ERROR, "server.shutting_down",
				      "server is shutting down");
			return;
		}
		snprintf(msg, sizeof(msg),
			 "limit: %d subscription streams per caller, %d in all, are already open",
			 SUBS_MAX_PER_PRINCIPAL, SUBS_MAX_LISTENS);
		listen_refuse(s, b, m->id, RPC_LIMIT_ERROR, "limits.subscriptions", msg);
		return;
	}
	l->hub_id = hub_listen(registry_hub(s->reg), mask, listen_deliver, l, &err);
	if (l->hub_id && (mask & HUB_RESOURCE_UPDATED))
		listen_uris(s, l, f, agreed);
	if (l->hub_id) {
		srv_audit(s, b, "resource", m->id, "subscriptions/listen", NULL, NULL, "ok", NULL, 0,
			  0, 0);
		srv_send_on(s, b->route,
			    rpc_notification("notifications/subscriptions/acknowledged",
					     json_pack("{s:{s:O}, s:o}", "_meta", META_SUB_ID,
						       m->id, "notifications", agreed)),
			    false);
	} else {
		json_decref(agreed);
	}
	/* Open it, unless it ended meanwhile or the hub refused it. */
	pthread_mutex_lock(&s->lock);
	bool ended = l->end_asked;
	if (!ended && !l->hub_id) {
		for (struct listen **pp = &s->listens; *pp; pp = &(*pp)->next)
			if (*pp == l) {
				*pp = l->next;
				break;
			}
	}
	if (!ended && l->hub_id)
		atomic_store(&l->state, LISTEN_OPEN);
	pthread_mutex_unlock(&s->lock);
	if (!l->hub_id) {
		if (ended) {
			/* closed before it opened: the route still wants its final */
			srv_reply(s, b, NULL);
		} else {
			snprintf(msg, sizeof(msg), "%.150s", err.msg[0] ? err.msg : "out of memory");
			listen_refuse(s, b, m->id, RPC_LIMIT_ERROR,
				      err.rule ? err.rule : "limits.subscriptions", msg);
		}
		json_decref(l->id);
		free(l);
		return;
	}
	if (ended)
		listen_end(s, l);
}

bool srv_subs_route_closed(struct server *s, void *route)
{
	if (!route)
		return false;
	pthread_mutex_lock(&s->lock);
	for (struct listen **pp = &s->listens; *pp; pp = &(*pp)->next) {
		if ((*pp)->b->route == route) {
			listen_stop_locked(s, pp, false);
			return true;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return false;
}

bool srv_subs_cancelled(struct server *s, const json_t *request_id)
{
	if (!request_id)
		return false;
	pthread_mutex_lock(&s->lock);
	for (struct listen **pp = &s->listens; *pp; pp = &(*pp)->next) {
		/* Only stdio's: over HTTP a stream ends when it closes, and
		 * another caller must not end it by naming its id. */
		if (!(*pp)->b->route && json_equal((*pp)->id, request_id)) {
			listen_stop_locked(s, pp, false);
			return true;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return false;
}

void srv_subs_shutdown(struct server *s)
{
	for (;;) {
		pthread_mutex_lock(&s->lock);
		if (!s->listens) {
			pthread_mutex_unlock(&s->lock);
			return;
		}
		listen_stop_locked(s, &s->listens, true);
	}
}

void srv_subs_session_end(struct server *s)
{
	uint64_t id;

	srv_subs_shutdown(s);
	pthread_mutex_lock(&s->lock);
	id = s->hub_id;
	s->hub_id = 0;
	pthread_mutex_unlock(&s->lock);
	if (id)
		hub_unlisten(registry_hub(s->reg), id);
}
