/*
 * http_session_adopt.c - a session of the initialize era across several
 * replicas behind one load balancer.
 *
 * A load balancer hashing Mcp-Session-Id keeps a session on the replica
 * that opened it; when that replica goes away, or the ring of replicas
 * changes, the session's next request reaches another. That replica
 * opens the sealed id (http_session_seal.c: only a replica holding the
 * cluster key can, and only for the principal it was issued to), and,
 * when a shared store is installed and says the session has not ended,
 * makes the session its own as if initialize had happened here
 * (server_adopt): same internal id, same revision, same client
 * capabilities. What a session held in memory on the first replica (its
 * log level, resource subscriptions, the GET stream's ring of events,
 * calls in flight) does not travel (docs/http.md). httpd_session_find,
 * the lookup every request with an Mcp-Session-Id makes, is here: the
 * exact text found in the table, else opened, then looked up by its
 * internal id, else adopted.
 *
 * Ending must travel. DELETE marks the session "session" in the store
 * (store.h) for the rest of its sealed lifetime: no replica adopts it
 * afterwards, and a replica holding a copy (it adopted the session
 * earlier) asks the store at most once a second per session and ends its
 * copy. Idle expiry marks it "session_idle": no replica adopts it
 * afterwards, but copies elsewhere live on, since the session may be busy
 * there (it moved; the idle one was the copy left behind). Without a store nothing is ever
 * adopted: a single moat must not revive a session it ended itself. When
 * the store is down, an end is kept here (bounded) and retried by the
 * housekeeper, and none of those sessions is adopted meanwhile; an
 * adoption the store cannot vouch for is refused with 503
 * (http.session_store_unavailable): the session may well be alive, so
 * 404 would tell the client a falsehood, and adopting it might revive
 * one that was ended.
 */
#include "httpd_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "store.h"

/* Seconds left of a sealed id expiring at exp (at least 1). */
static uint32_t remaining(uint64_t exp)
{
	uint64_t now = (uint64_t)time(NULL);

	if (exp <= now)
		return 1;
	return exp - now > UINT32_MAX ? UINT32_MAX : (uint32_t)(exp - now);
}

bool httpd_session_ended_here(struct httpd_listener *l, const char *id)
{
	bool found = false;

	pthread_mutex_lock(&l->tlock);
	for (unsigned i = 0; i < l->npending_end && !found; i++)
		found = strcmp(l->pending_end[i].id, id) == 0;
	pthread_mutex_unlock(&l->tlock);
	return found;
}

struct httpd_session *httpd_session_find(struct httpd_listener *l, const char *token,
					 const struct principal *who, const char **rule)
{
	struct httpd_sid_facts f;
	struct httpd_session *s;
	bool known = false;

	*rule = "http.session_unknown";
	if (!token || strlen(token) > HTTPD_TOKEN_MAX)
		return NULL;
	/* The sealed id this replica issued or already opened: its exact
	 * text needs no second opening, only the principal and the clock. */
	s = httpd_session_by_token(l, token, who->name, &known);
	if (!s && known)
		return NULL;
	if (!s) {
		if (!httpd_sid_open(token, who->name, 0, &f))
			return NULL;
		s = httpd_session_lookup(l, f.id, who->name);
		if (!s)
			s = httpd_session_adopt(l, who, token, &f, rule);
		httpd_sid_facts_clear(&f);
		if (!s)
			return NULL;
	}
	if (httpd_session_deleted_elsewhere(l, s)) {
		httpd_session_put(s);
		return NULL;
	}
	return s;
}

struct httpd_session *httpd_session_adopt(struct httpd_listener *l, const struct principal *who,
					  const char *token, const struct httpd_sid_facts *f,
					  const char **rule)
{
	struct httpd_session *s;

	*rule = "http.session_unknown";
	if (!store_active() || httpd_session_ended_here(l, f->id))
		return NULL;
	for (int k = 0; k < 2; k++) {
		switch (store_marked(k == 0 ? "session" : "session_idle", f->id)) {
		case STORE_EMPTY:
			break;
		case STORE_DOWN:
			*rule = "http.session_store_unavailable";
			return NULL;
		case STORE_OK: /* ended on some replica */
		default:
			return NULL;
		}
	}
	s = httpd_session_new(l, who, f->id);
	if (!s) {
		*rule = NULL; /* ENOMEM */
		return NULL;
	}
	if (!server_adopt(s->srv, f->version, f->caps, f->name, f->cversion[0] ? f->cversion : NULL)) {
		httpd_session_put(s);
		return NULL; /* a revision this build does not speak */
	}
	snprintf(s->version, sizeof(s->version), "%s", f->version);
	s->exp_s = f->exp;
	s->token = token ? strdup(token) : NULL; /* its index (a miss: opened again) */
	s->ready = true;
	s = httpd_session_insert(l, s, rule);
	if (s)
		log_info("http: a session opened on another replica was adopted");
	return s;
}

static const char *end_kind(bool deleted)
{
	return deleted ? "session" : "session_idle";
}

bool httpd_session_deleted_elsewhere(struct httpd_listener *l, struct httpd_session *s)
{
	uint64_t now = moat_now_ns();
	bool due;

	if (!store_active())
		return false;
	pthread_mutex_lock(&l->tlock);
	due = now > s->checked_ns && now - s->checked_ns >= HTTPD_END_CHECK_MS * 1000000ull;
	if (due)
		s->checked_ns = now; /* also when the store is down: asked again later */
	pthread_mutex_unlock(&l->tlock);
	if (!due || store_marked("session", s->id) != STORE_OK)
		return false;
	log_info("http: a session was ended by DELETE on another replica");
	httpd_session_kill(s);
	return true;
}

void httpd_session_end_shared(struct httpd_listener *l, const struct httpd_session *s,
			      bool deleted)
{
	bool kept = false;

	if (!store_active() || !s->exp_s)
		return;
	if (store_mark(end_kind(deleted), s->id, remaining(s->exp_s)) != STORE_DOWN)
		return;
	pthread_mutex_lock(&l->tlock);
	if (l->npending_end < HTTPD_PENDING_ENDS) {
		unsigned i = l->npending_end++;
		memcpy(l->pending_end[i].id, s->id, sizeof(l->pending_end[i].id));
		l->pending_end[i].exp = s->exp_s;
		l->pending_end[i].deleted = deleted;
		kept = true;
	}
	pthread_mutex_unlock(&l->tlock);
	if (kept)
		log_warn("http: the store did not record the end of a session; retrying");
	else
		log_warn("http: the store did not record the end of a session, and %u more wait; "
			 "another replica may adopt it until its id expires",
			 HTTPD_PENDING_ENDS);
}

void httpd_sessions_retry_ends(struct httpd_listener *l)
{
	char id[HTTPD_SID_LEN + 1];
	uint64_t exp;
	bool deleted;

	for (;;) {
		pthread_mutex_lock(&l->tlock);
		if (l->npending_end == 0) {
			pthread_mutex_unlock(&l->tlock);
			return;
		}
		memcpy(id, l->pending_end[0].id, sizeof(id));
		exp = l->pending_end[0].exp;
		deleted = l->pending_end[0].deleted;
		pthread_mutex_unlock(&l->tlock);
		if (exp > (uint64_t)time(NULL) &&
		    store_mark(end_kind(deleted), id, remaining(exp)) == STORE_DOWN)
			return; /* still down: next pass */
		/* Recorded (or expired): drop it. Only the housekeeper removes
		 * entries, so the first is still this one. */
		pthread_mutex_lock(&l->tlock);
		memmove(&l->pending_end[0], &l->pending_end[1],
			(l->npending_end - 1) * sizeof(l->pending_end[0]));
		l->npending_end--;
		pthread_mutex_unlock(&l->tlock);
	}
}
