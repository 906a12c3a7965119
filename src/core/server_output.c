/*
 * server_output.c - how a session's messages leave it: each message
 * serialised once (a wire), sent on the route it belongs to (a stateless
 * request's own stream, or the session's), a batch's answers gathered
 * into one array, and one audit record (and metrics note) per request.
 * Used by every part of the server (server_int.h).
 *
 * Thread-safe: called from the reader thread and from workers; the
 * transport's send function and the audit writer lock themselves.
 */
#include "server_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "log.h"
#include "metrics.h"

/* Serialize msg (borrowed) once. Returns false (len 0) on failure. */
bool srv_wire_encode(struct wire *w, const json_t *msg)
{
	return srv_wire_encode_spliced(w, msg, NULL, NULL, 0);
}

bool srv_wire_encode_spliced(struct wire *w, const json_t *msg, const json_t *node,
			     const char *data, size_t len)
{
	wire_buf_init(&w->b, w->stack, sizeof(w->stack));
	if (node)
		wire_splice(&w->b, node, data, len);
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
void srv_wire_release(struct wire *w)
{
	wire_buf_release(&w->b);
	w->data = NULL;
	w->len = 0;
}

/* Start w with no message. */
void srv_wire_empty(struct wire *w)
{
	wire_buf_init(&w->b, NULL, 0);
	w->data = NULL;
	w->len = 0;
}

void srv_send_on(struct server *s, void *route, json_t *msg, bool final)
{
	struct wire w;

	if (!msg) {
		if (route && final)
			s->send(s->send_ctx, route, NULL, 0, true);
		return;
	}
	if (srv_wire_encode(&w, msg))
		s->send(s->send_ctx, route, w.data, w.len, final);
	else if (route && final)
		s->send(s->send_ctx, route, NULL, 0, true);
	srv_wire_release(&w);
	json_decref(msg);
}

void srv_send_json(struct server *s, json_t *msg)
{
	srv_send_on(s, NULL, msg, false);
}

void srv_batch_free(struct batch *b)
{
	srv_era_release(&b->era);
	json_decref(b->responses);
	pthread_mutex_destroy(&b->lock);
	free(b);
}

/* Deliver a response (msg may be NULL: nothing to say) directly or into the
 * batch it belongs to. Steals msg. */
void srv_reply(struct server *s, struct batch *b, json_t *msg)
{
	if (b && b->era.stateless && msg)
		srv_complete_result(b, json_object_get(msg, "result"));
	if (!b) {
		srv_send_on(s, NULL, msg, true);
		return;
	}
	if (!b->responses) {
		/* A single routed message: its one answer ends the route. */
		srv_send_on(s, b->route, msg, true);
		srv_batch_free(b);
		return;
	}
	pthread_mutex_lock(&b->lock);
	if (msg)
		json_array_append_new(b->responses, msg);
	bool last = --b->pending == 0;
	pthread_mutex_unlock(&b->lock);
	if (!last)
		return;
	srv_send_on(s, b->route,
		    json_array_size(b->responses) > 0 ? json_incref(b->responses) : NULL, true);
	srv_batch_free(b);
}

void srv_reply_wire(struct server *s, struct batch *b, json_t *msg, struct wire *w)
{
	if (b && b->responses) {
		srv_reply(s, b, msg); /* the batch serializes its array itself */
	} else {
		void *route = b ? b->route : NULL;
		if (w->len > 0)
			s->send(s->send_ctx, route, w->data, w->len, true);
		else if (route)
			s->send(s->send_ctx, route, NULL, 0, true);
		if (b)
			srv_batch_free(b);
		json_decref(msg);
	}
	srv_wire_release(w);
}

void srv_reply_error(struct server *s, struct batch *b, json_t *id, int code,
			const char *message)
{
	srv_reply(s, b, rpc_error(id, code, message));
}

/* Write one audit record for a request of this session. id, touched and
 * rule may be NULL. */
void srv_audit(struct server *s, const struct batch *b, const char *kind, const json_t *id,
	       const char *tool, const char *family, const json_t *touched, const char *outcome,
	       const char *rule, uint64_t duration_ns, size_t bytes, uint64_t now_ns)
{
	const struct principal *who = srv_who(b);
	struct audit_event ev = {
		.kind = kind,
		.principal = who->name,
		.addr = who->addr[0] ? who->addr : NULL,
		.client_name = b && b->era.stateless ? (b->era.client_name[0] ? b->era.client_name
									    : NULL)
						     : s->client_name,
		.client_version = b && b->era.stateless ? NULL : s->client_version,
		.session = b && b->era.stateless ? NULL : s->session,
		.request_id = id,
		.tool = tool,
		.family = family,
		.touched = touched,
		.outcome = outcome,
		.rule = rule,
		.duration_us = duration_ns / 1000u,
		.bytes_out = bytes,
		.now_ns = now_ns,
	};

	metrics_note(s->opts.metrics, &ev);
	audit_write(s->opts.audit, &ev);
}

