/*
 * http_session.c - the table of MCP sessions of an HTTP listener.
 *
 * A session is created by an initialize POSTed without Mcp-Session-Id and
 * becomes visible once the server answered it with a result. Its internal
 * id, the table's key, is HTTPD_SID_BYTES from getrandom(2) as hex; the
 * client never sees it: its Mcp-Session-Id is that id sealed for the
 * principal that created it (http_session_seal.c), which every lookup
 * opens first, so an id of anyone else, changed or expired finds nothing,
 * exactly as an id that never existed. An id another replica sealed names
 * a session this one may adopt (http_session_adopt.c). Each session has its own struct server
 * (sharing the listener's worker pool and global rate bucket), a ring of
 * the last session-level messages (for a GET stream and Last-Event-ID),
 * and the GET streams open on it.
 *
 * Sessions end by DELETE, by idle expiry (no request, no call in flight
 * and no stream open for listen.session_idle_s), when their sealed id
 * expires (listen.session_max_lifetime_s) and at shutdown. Ending
 * takes a session out of the table at once; its server is shut down on
 * the housekeeping thread, since that waits for cancelled calls.
 */
#include "httpd_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "metrics.h"
#include "store.h"

#define HTTPD_TABLE_SIZE 1024u

static unsigned bucket_of(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return h % HTTPD_TABLE_SIZE;
}

bool httpd_sessions_init(struct httpd_listener *l)
{
	l->buckets = calloc(HTTPD_TABLE_SIZE, sizeof(*l->buckets));
	l->tbuckets = calloc(HTTPD_TABLE_SIZE, sizeof(*l->tbuckets));
	return l->buckets && l->tbuckets;
}

/* Index s by its sealed id. Table lock held. */
static void tlink(struct httpd_listener *l, struct httpd_session *s)
{
	unsigned b;

	if (!s->token || s->tlinked || s->dead)
		return;
	b = bucket_of(s->token);
	s->tnext = l->tbuckets[b];
	l->tbuckets[b] = s;
	s->tlinked = true;
}

static void tunlink(struct httpd_listener *l, struct httpd_session *s)
{
	struct httpd_session **pp;

	if (!s->tlinked)
		return;
	pp = &l->tbuckets[bucket_of(s->token)];
	while (*pp && *pp != s)
		pp = &(*pp)->tnext;
	if (*pp)
		*pp = s->tnext;
	s->tlinked = false;
}

void httpd_session_hold(struct httpd_session *s)
{
	pthread_mutex_lock(&s->lock);
	s->refs++;
	pthread_mutex_unlock(&s->lock);
}

static void ring_clear(struct httpd_session *s)
{
	for (unsigned i = 0; i < s->ring_n; i++)
		free(s->ring[(s->ring_start + i) % HTTPD_RING_EVENTS].data);
	s->ring_n = 0;
	s->ring_bytes = 0;
}

void httpd_session_put(struct httpd_session *s)
{
	int left;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	left = --s->refs;
	pthread_mutex_unlock(&s->lock);
	if (left > 0)
		return;
	if (s->srv && server_shutdown(s->srv, 0, HTTPD_CANCEL_MS))
		server_free(s->srv);
	ring_clear(s);
	pthread_mutex_destroy(&s->lock);
	free(s->token);
	free(s);
}

static void wake_housekeeper(struct httpd_listener *l)
{
	uint64_t one = 1;

	if (l->hk_wake >= 0 && write(l->hk_wake, &one, sizeof(one)) < 0)
		log_debug("http: cannot wake the housekeeper: %s", strerror(errno));
}

/* The initialize answer decides: a result makes the session visible with
 * the negotiated version and its sealed id; an error (or an id that
 * cannot be sealed) ends it. */
static void init_outcome(struct httpd_session *s, const char *buf, size_t len)
{
	json_t *m = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *res = json_object_get(m, "result");
	const char *v = json_string_value(json_object_get(res, "protocolVersion"));
	uint64_t exp = 0;
	char *token = json_is_object(res) ? httpd_sid_seal(s->id, s->owner, s->srv,
							     s->l->cfg.session_max_lifetime_s, 0,
							     &exp)
					  : NULL;

	if (token) {
		pthread_mutex_lock(&s->l->tlock);
		pthread_mutex_lock(&s->lock);
		snprintf(s->version, sizeof(s->version), "%s", v && strlen(v) < 32 ? v : "");
		s->token = token;
		s->exp_s = exp;
		s->ready = true;
		pthread_mutex_unlock(&s->lock);
		tlink(s->l, s);
		pthread_mutex_unlock(&s->l->tlock);
	} else {
		if (json_is_object(res))
			log_warn("http: a session id could not be sealed; the session ends");
		httpd_session_kill(s);
	}
	json_decref(m);
}

/* Keep ev (owned) in the ring as seq of stream tag (0: the session's
 * own), dropping the oldest beyond its bounds. Session lock held. */
static void ring_push(struct httpd_session *s, uint64_t seq, uint64_t tag, bool final, char *data,
		      size_t len)
{
	while (s->ring_n > 0 &&
	       (s->ring_n == HTTPD_RING_EVENTS || s->ring_bytes + len > HTTPD_RING_BYTES)) {
		struct httpd_ring_ev *old = &s->ring[s->ring_start];
		s->ring_bytes -= old->len;
		free(old->data);
		s->ring_start = (s->ring_start + 1) % HTTPD_RING_EVENTS;
		s->ring_n--;
	}
	if (len > HTTPD_RING_BYTES) {
		free(data);
		return;
	}
	s->ring[(s->ring_start + s->ring_n) % HTTPD_RING_EVENTS] =
		(struct httpd_ring_ev){.seq = seq, .tag = tag, .final = final, .data = data, .len = len};
	s->ring_n++;
	s->ring_bytes += len;
}

void httpd_session_ring_event(struct httpd_session *s, uint64_t seq, uint64_t tag, const char *ev,
			      size_t len)
{
	char *copy = malloc(len);

	if (!copy)
		return;
	memcpy(copy, ev, len);
	pthread_mutex_lock(&s->lock);
	ring_push(s, seq, tag, false, copy, len);
	pthread_mutex_unlock(&s->lock);
}

/* A message of POST stream r that may be resumed: give it the next id,
 * keep it in the ring and, once r's stream was closed by the server,
 * hand it to the GET streams resuming r (ending them after the final).
 * Returns its id. Session lock held. */
static uint64_t stream_event(struct httpd_session *s, struct httpd_req *r, const char *buf,
			     size_t len, bool final)
{
	uint64_t seq = ++s->next_seq;
	size_t evlen = 0;
	/* An empty final (a cancelled call) is kept as a mark with no bytes:
	 * a resuming stream learns the call ended. */
	char *ev = len ? httpd_sse_format(seq, buf, len, &evlen) : NULL;
	bool detached;

	if (len && !ev)
		return seq;
	pthread_mutex_lock(&r->lock);
	detached = r->detached;
	pthread_mutex_unlock(&r->lock);
	for (unsigned i = 0; detached && i < s->nstreams; i++) {
		if (s->streams[i]->resume_tag != r->stream_no)
			continue;
		if (evlen)
			httpd_req_push_raw(s->streams[i], ev, evlen);
		if (final)
			httpd_req_end(s->streams[i], false);
	}
	ring_push(s, seq, r->stream_no, final, ev, evlen);
	return len ? seq : 0;
}

/* Whether a message for r goes out as an SSE event (not the single JSON
 * answer): anything but a final that comes first. */
static bool goes_on_stream(struct httpd_req *r, bool final)
{
	bool yes;

	pthread_mutex_lock(&r->lock);
	yes = !final || r->nmsgs > 0 || r->detached || r->sse;
	pthread_mutex_unlock(&r->lock);
	return yes;
}

/* server_send_fn of every session's server. A send without a message
 * that is not final is the server closing the route's stream mid-call. */
static void session_send(void *ctx, void *route, const char *buf, size_t len, bool final)
{
	struct httpd_session *s = ctx;
	char *ev;
	size_t evlen;

	if (route) {
		struct httpd_req *r = route;
		uint64_t id = 0;
		if (!buf && !final) {
			httpd_req_detach(r);
			return;
		}
		if (final && r->init && len > 0)
			init_outcome(s, buf, len);
		if (r->prime_seq && (len > 0 || final) && goes_on_stream(r, final)) {
			pthread_mutex_lock(&s->lock);
			id = stream_event(s, r, buf, len, final);
			pthread_mutex_unlock(&s->lock);
		}
		httpd_req_deliver(r, buf, len, final, id);
		if (final) {
			pthread_mutex_lock(&s->lock);
			s->active--;
			s->last_ns = moat_now_ns();
			pthread_mutex_unlock(&s->lock);
			httpd_req_put(r); /* the route's reference */
		}
		return;
	}
	pthread_mutex_lock(&s->lock);
	uint64_t seq = ++s->next_seq;
	ev = httpd_sse_format(seq, buf, len, &evlen);
	if (ev) {
		/* The newest stream of the session's own (not one resuming a
		 * POST's stream). */
		for (unsigned i = s->nstreams; i-- > 0;) {
			if (s->streams[i]->resume_tag == 0) {
				httpd_req_push_raw(s->streams[i], ev, evlen);
				s->delivered = seq;
				break;
			}
		}
		ring_push(s, seq, 0, false, ev, evlen);
	}
	pthread_mutex_unlock(&s->lock);
}

struct httpd_session *httpd_session_lookup(struct httpd_listener *l, const char *id,
					   const char *owner)
{
	struct httpd_session *s, *found = NULL;

	if (!id || strlen(id) != HTTPD_SID_LEN)
		return NULL;
	pthread_mutex_lock(&l->tlock);
	for (s = l->buckets[bucket_of(id)]; s; s = s->next) {
		if (strcmp(s->id, id) == 0) {
			if (s->ready && !s->dead && strcmp(s->owner, owner) == 0) {
				httpd_session_hold(s);
				found = s;
			}
			break;
		}
	}
	pthread_mutex_unlock(&l->tlock);
	return found;
}

struct httpd_session *httpd_session_by_token(struct httpd_listener *l, const char *token,
					     const char *owner, bool *known)
{
	struct httpd_session *s;
	bool ok = false;

	pthread_mutex_lock(&l->tlock);
	for (s = l->tbuckets[bucket_of(token)]; s; s = s->tnext) {
		if (strcmp(s->token, token) == 0)
			break;
	}
	*known = s != NULL;
	if (s) {
		ok = s->ready && !s->dead && strcmp(s->owner, owner) == 0 &&
		     (uint64_t)time(NULL) < s->exp_s;
		if (ok)
			httpd_session_hold(s);
	}
	pthread_mutex_unlock(&l->tlock);
	return ok ? s : NULL;
}

struct httpd_session *httpd_session_new(struct httpd_listener *l, const struct principal *who,
					const char *id)
{
	struct httpd_session *s = calloc(1, sizeof(*s));
	uint8_t rnd[HTTPD_SID_BYTES];

	if (!s)
		return NULL;
	if (id) {
		snprintf(s->id, sizeof(s->id), "%s", id);
	} else {
		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
			free(s);
			return NULL;
		}
		for (size_t i = 0; i < sizeof(rnd); i++)
			snprintf(s->id + 2 * i, 3, "%02x", rnd[i]);
		explicit_bzero(rnd, sizeof(rnd));
	}
	snprintf(s->owner, sizeof(s->owner), "%s", who->name);
	s->l = l;
	s->refs = 1; /* the caller */
	s->last_ns = s->checked_ns = moat_now_ns();
	pthread_mutex_init(&s->lock, NULL);
	s->srv = server_new(&l->sopts, l->reg, session_send, s);
	if (!s->srv) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	return s;
}

struct httpd_session *httpd_session_insert(struct httpd_listener *l, struct httpd_session *s,
					   const char **rule)
{
	struct httpd_session *twin = NULL;
	uint32_t mine = 0;
	unsigned b = bucket_of(s->id);

	*rule = NULL;
	pthread_mutex_lock(&l->tlock);
	for (struct httpd_session *o = l->buckets[b]; o; o = o->next) {
		if (strcmp(o->id, s->id) == 0) {
			twin = o;
			break;
		}
	}
	if (twin) {
		/* Adopted meanwhile by another request (or, for a random id,
		 * never): use that one if it is the same principal's. */
		if (twin->ready && !twin->dead && strcmp(twin->owner, s->owner) == 0)
			httpd_session_hold(twin);
		else
			*rule = "http.session_unknown";
	} else if (l->stopping) {
		*rule = "http.shutting_down";
	} else if (l->nsessions >= l->cfg.max_sessions) {
		*rule = "limits.http_sessions";
	} else {
		for (unsigned k = 0; k < HTTPD_TABLE_SIZE; k++) {
			for (struct httpd_session *o = l->buckets[k]; o; o = o->next)
				mine += strcmp(o->owner, s->owner) == 0;
		}
		if (mine >= l->cfg.max_sessions_per_principal)
			*rule = "limits.http_sessions_per_principal";
	}
	if (!*rule && !twin) {
		s->refs++; /* the table's */
		s->next = l->buckets[b];
		l->buckets[b] = s;
		l->nsessions++;
		tlink(l, s);
	}
	pthread_mutex_unlock(&l->tlock);
	if (*rule || twin) {
		httpd_session_put(s);
		return *rule ? NULL : twin;
	}
	metrics_sessions(l->metrics, 1);
	return s;
}

struct httpd_session *httpd_session_create(struct httpd_listener *l,
					   const struct principal *who, const char **rule)
{
	struct httpd_session *s = httpd_session_new(l, who, NULL);

	*rule = NULL;
	return s ? httpd_session_insert(l, s, rule) : NULL;
}

void httpd_session_kill(struct httpd_session *s)
{
	struct httpd_listener *l = s->l;
	bool was_live = false;

	pthread_mutex_lock(&l->tlock);
	if (!s->dead) {
		struct httpd_session **pp = &l->buckets[bucket_of(s->id)];
		while (*pp && *pp != s)
			pp = &(*pp)->next;
		if (*pp)
			*pp = s->next;
		tunlink(l, s);
		s->dead = true;
		l->nsessions--;
		s->next = l->grave; /* the table's reference moves to the grave */
		l->grave = s;
		was_live = true;
	}
	pthread_mutex_unlock(&l->tlock);
	if (!was_live)
		return;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->nstreams; i++)
		httpd_req_end(s->streams[i], false);
	pthread_mutex_unlock(&s->lock);
	metrics_sessions(l->metrics, -1);
	wake_housekeeper(l);
}

int httpd_session_dispatch(struct httpd_session *s, struct httpd_req *r)
{
	pthread_mutex_lock(&s->lock);
	if (s->dead) {
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	s->handling++;
	s->active++; /* until the final answer */
	s->used |= !r->init;
	s->last_ns = moat_now_ns();
	/* SSE polling (2025-11-25 and later; not a request served under
	 * 2026-07-28, which has no sessions): ids on the POST's stream. */
	if (!r->init && !r->era_status && s->version[0] && strcmp(s->version, "2025-11-25") >= 0) {
		r->stream_no = ++s->next_stream;
		r->prime_seq = ++s->next_seq;
	}
	pthread_mutex_unlock(&s->lock);
	pthread_mutex_lock(&r->lock);
	r->route_live = true;
	r->refs++; /* the route's reference, dropped with the final answer */
	pthread_mutex_unlock(&r->lock);
	server_handle_from(s->srv, r->body ? r->body : "", r->body_len,
			   &(struct server_origin){.who = &r->who, .route = r, .hdr = &r->hdr});
	pthread_mutex_lock(&s->lock);
	s->handling--;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

/* The ring event of id seq, or NULL. Session lock held. */
static struct httpd_ring_ev *ring_find(struct httpd_session *s, uint64_t seq)
{
	for (unsigned i = 0; i < s->ring_n; i++) {
		struct httpd_ring_ev *e = &s->ring[(s->ring_start + i) % HTTPD_RING_EVENTS];
		if (e->seq == seq)
			return e;
	}
	return NULL;
}

bool httpd_session_enter(struct httpd_session *s)
{
	bool live;

	pthread_mutex_lock(&s->lock);
	live = !s->dead && s->srv;
	if (live)
		s->handling++;
	pthread_mutex_unlock(&s->lock);
	return live;
}

void httpd_session_leave(struct httpd_session *s)
{
	pthread_mutex_lock(&s->lock);
	s->handling--;
	pthread_mutex_unlock(&s->lock);
}

int httpd_session_attach_stream(struct httpd_session *s, struct httpd_req *r,
				const char *last_event_id)
{
	uint64_t from, tag = 0;
	bool ended = false;
	char *end;

	pthread_mutex_lock(&s->lock);
	if (s->dead || s->nstreams >= s->l->cfg.max_sse_streams_per_session ||
	    s->nstreams >= HTTPD_MAX_STREAMS) {
		pthread_mutex_unlock(&s->lock);
		return -1;
	}
	from = s->delivered;
	if (last_event_id && *last_event_id >= '0' && *last_event_id <= '9') {
		errno = 0;
		unsigned long long v = strtoull(last_event_id, &end, 10);
		if (!*end && !errno) {
			const struct httpd_ring_ev *e = ring_find(s, v);
			from = v;
			tag = e ? e->tag : 0; /* a POST's stream: resume that one */
		}
	}
	httpd_req_hold(r); /* the session's reference, dropped at detach */
	r->resume_tag = tag;
	s->streams[s->nstreams++] = r;
	s->used = true;
	s->active++;
	for (unsigned i = 0; i < s->ring_n; i++) {
		struct httpd_ring_ev *e = &s->ring[(s->ring_start + i) % HTTPD_RING_EVENTS];
		if (tag && e->tag == tag)
			ended |= e->final; /* even one the client saw: nothing follows */
		if (e->seq > from && e->tag == tag && e->len)
			httpd_req_push_raw(r, e->data, e->len);
	}
	if (ended)
		httpd_req_end(r, false); /* the resumed POST stream had ended */
	if (tag == 0 && s->next_seq > s->delivered)
		s->delivered = s->next_seq;
	pthread_mutex_unlock(&s->lock);
	return 0;
}

void httpd_session_detach_stream(struct httpd_session *s, struct httpd_req *r)
{
	bool found = false;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < s->nstreams; i++) {
		if (s->streams[i] == r) {
			memmove(&s->streams[i], &s->streams[i + 1],
				(s->nstreams - i - 1) * sizeof(s->streams[0]));
			s->nstreams--;
			s->active--;
			s->last_ns = moat_now_ns();
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (found)
		httpd_req_put(r);
}

void httpd_session_touch(struct httpd_session *s)
{
	pthread_mutex_lock(&s->lock);
	s->last_ns = moat_now_ns();
	pthread_mutex_unlock(&s->lock);
}

/* Every live session, held, into a new array (*n of them). */
static struct httpd_session **all_sessions(struct httpd_listener *l, size_t *n)
{
	struct httpd_session **v;

	pthread_mutex_lock(&l->tlock);
	*n = 0;
	v = malloc((l->nsessions + 1) * sizeof(*v));
	for (unsigned b = 0; v && b < HTTPD_TABLE_SIZE; b++) {
		for (struct httpd_session *s = l->buckets[b]; s; s = s->next) {
			httpd_session_hold(s);
			v[(*n)++] = s;
		}
	}
	pthread_mutex_unlock(&l->tlock);
	return v;
}

/* Shut down the servers of sessions taken out of the table. */
static void reap(struct httpd_listener *l)
{
	struct httpd_session *g;

	pthread_mutex_lock(&l->tlock);
	g = l->grave;
	l->grave = NULL;
	pthread_mutex_unlock(&l->tlock);
	while (g) {
		struct httpd_session *next = g->next;
		/* No thread may be inside server_handle_from when it stops. */
		for (;;) {
			pthread_mutex_lock(&g->lock);
			unsigned h = g->handling;
			pthread_mutex_unlock(&g->lock);
			if (h == 0)
				break;
			nanosleep(&(struct timespec){0, 1000000}, NULL);
		}
		if (server_shutdown(g->srv, 0, HTTPD_CANCEL_MS)) {
			server_free(g->srv);
			g->srv = NULL;
			httpd_session_put(g);
		} else {
			/* A handler still runs and will answer through this
			 * session: it is never freed, and the process ends by
			 * _exit when it stops (httpd_run returns 1). */
			log_warn("http: a tool call of an ended session did not stop in time");
			atomic_store(&l->stuck, true);
		}
		g = next;
	}
}

void httpd_housekeep(struct httpd_listener *l, bool keepalive)
{
	uint64_t now = moat_now_ns(), idle = (uint64_t)l->cfg.session_idle_s * 1000000000ull;
	size_t n = 0;
	struct httpd_session **v = all_sessions(l, &n);

	for (size_t i = 0; v && i < n; i++) {
		struct httpd_session *s = v[i];
		bool expire, aged, used;
		pthread_mutex_lock(&s->lock);
		/* last_ns may be later than now: the session was used after now
		 * was read. */
		expire = s->active == 0 && now > s->last_ns && now - s->last_ns > idle;
		/* Its sealed id no longer opens: nobody can reach it. */
		aged = s->exp_s && (uint64_t)time(NULL) >= s->exp_s;
		used = s->used;
		if (keepalive) {
			for (unsigned k = 0; k < s->nstreams; k++)
				httpd_req_push_raw(s->streams[k], ":\n\n", 3);
		}
		pthread_mutex_unlock(&s->lock);
		if (expire) {
			log_info("http: a session expired after %u s idle", l->cfg.session_idle_s);
			/* A copy that only answered initialize was left behind:
			 * a load balancer hashing the new id sent the rest to
			 * another replica, where the session may be busy. */
			if (used)
				httpd_session_end_shared(l, s, false);
			httpd_session_kill(s);
		} else if (aged) {
			log_info("http: a session reached listen.session_max_lifetime_s");
			httpd_session_kill(s);
		}
		httpd_session_put(s);
	}
	free(v);
	httpd_sessions_retry_ends(l);
	reap(l);
}

void httpd_sessions_end_all(struct httpd_listener *l)
{
	size_t n = 0;
	struct httpd_session **v = all_sessions(l, &n);

	for (size_t i = 0; v && i < n; i++) {
		httpd_session_kill(v[i]);
		httpd_session_put(v[i]);
	}
	free(v);
	reap(l);
}

void httpd_sessions_wait_idle(struct httpd_listener *l, uint32_t ms)
{
	uint64_t end = moat_now_ns() + (uint64_t)ms * 1000000ull;
	size_t n = 0;
	struct httpd_session **v = all_sessions(l, &n);

	for (size_t i = 0; v && i < n; i++) {
		uint64_t now = moat_now_ns();
		if (now < end)
			server_wait_idle(v[i]->srv, (uint32_t)((end - now) / 1000000ull));
		httpd_session_put(v[i]);
	}
	free(v);
}

void httpd_sessions_fini(struct httpd_listener *l)
{
	httpd_sessions_end_all(l);
	free(l->buckets);
	free(l->tbuckets);
	l->buckets = l->tbuckets = NULL;
}
