/*
 * hub.c - the notification hub (hub.h): listeners with an event mask and
 * a bounded set of resource URIs, a count of subscribers per URI that
 * starts a family's watch on the first and stops it on the last, and
 * delivery outside the lock.
 *
 * Two locks. `lock` guards the listener list and the URI counts and is
 * held only briefly; `wlock` serializes every change to subscriptions
 * (subscribe, unsubscribe, unlisten) across the family's watch call, so a
 * URI's watch is started and stopped in the order its count says, without
 * holding `lock` while a family opens files. Publishers take `lock` only.
 *
 * A delivery pins its listener (busy count) before the lock is dropped;
 * hub_unlisten unlinks the listener, then waits on `idle` until no
 * delivery holds it, so its ctx may be freed when it returns. A deliver
 * that unlistens its own listener (a send that finds its route gone) is
 * recognized through a thread-local mark and does not wait for itself.
 */
#include "hub.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct hub_listener {
	struct hub_listener *next;
	uint64_t id;
	unsigned mask;
	hub_deliver_fn deliver;
	void *ctx;
	unsigned busy; /* deliveries in progress, under lock */
	size_t n_uris;
	char *uris[HUB_MAX_URIS];
};

/* A URI some listener subscribed to, and how many did. */
struct hub_uri {
	struct hub_uri *next;
	unsigned count;
	char uri[]; /* flexible */
};

struct hub {
	pthread_mutex_t lock;
	pthread_mutex_t wlock;
	pthread_cond_t idle; /* a listener's busy count fell */
	hub_watch_fn watch;
	void *watch_ctx;
	struct hub_listener *listeners;
	size_t n_listeners;
	struct hub_uri *uris;
	uint64_t next_id;
};

/* The listener this thread is delivering to (0: none). */
static _Thread_local uint64_t hub_delivering;

struct hub *hub_new(hub_watch_fn watch, void *watch_ctx)
{
	struct hub *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->wlock, NULL);
	pthread_cond_init(&h->idle, NULL);
	h->watch = watch;
	h->watch_ctx = watch_ctx;
	return h;
}

static void listener_free(struct hub_listener *l)
{
	for (size_t i = 0; i < l->n_uris; i++)
		free(l->uris[i]);
	free(l);
}

void hub_free(struct hub *h)
{
	if (!h)
		return;
	while (h->listeners) {
		struct hub_listener *l = h->listeners;
		h->listeners = l->next;
		listener_free(l);
	}
	while (h->uris) {
		struct hub_uri *u = h->uris;
		h->uris = u->next;
		free(u);
	}
	pthread_cond_destroy(&h->idle);
	pthread_mutex_destroy(&h->wlock);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

uint64_t hub_listen(struct hub *h, unsigned mask, hub_deliver_fn deliver, void *ctx,
		    struct moat_err *err)
{
	struct hub_listener *l = calloc(1, sizeof(*l));
	uint64_t id;

	if (!l) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return 0;
	}
	l->mask = mask;
	l->deliver = deliver;
	l->ctx = ctx;
	pthread_mutex_lock(&h->lock);
	if (h->n_listeners >= HUB_MAX_LISTENERS) {
		pthread_mutex_unlock(&h->lock);
		free(l);
		moat_err_rule(err, MOAT_ELIMIT, "limits.subscriptions",
			      "limit: %d change listeners are already open", HUB_MAX_LISTENERS);
		return 0;
	}
	id = l->id = ++h->next_id;
	l->next = h->listeners;
	h->listeners = l;
	h->n_listeners++;
	pthread_mutex_unlock(&h->lock);
	return id;
}

/* Listener id, or NULL. Lock held. */
static struct hub_listener *find_locked(struct hub *h, uint64_t id)
{
	for (struct hub_listener *l = h->listeners; l; l = l->next)
		if (l->id == id)
			return l;
	return NULL;
}

/* The count entry of uri, or NULL. Lock held. */
static struct hub_uri *uri_find_locked(struct hub *h, const char *uri)
{
	for (struct hub_uri *u = h->uris; u; u = u->next)
		if (strcmp(u->uri, uri) == 0)
			return u;
	return NULL;
}

/* One fewer subscriber of uri: true when it was the last (the entry is
 * gone and the watch is to stop). Lock held. */
static bool uri_release_locked(struct hub *h, const char *uri)
{
	for (struct hub_uri **pp = &h->uris; *pp; pp = &(*pp)->next) {
		struct hub_uri *u = *pp;
		if (strcmp(u->uri, uri) != 0)
			continue;
		if (--u->count > 0)
			return false;
		*pp = u->next;
		free(u);
		return true;
	}
	return false;
}

static void watch_stop(struct hub *h, const char *uri)
{
	struct moat_err ignore = {0};

	if (h->watch)
		h->watch(h->watch_ctx, uri, false, &ignore);
}

void hub_unlisten(struct hub *h, uint64_t id)
{
	struct hub_listener *l = NULL;
	bool stop[HUB_MAX_URIS];

	pthread_mutex_lock(&h->lock);
	for (struct hub_listener **pp = &h->listeners; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			l = *pp;
			*pp = l->next; /* no new delivery can find it */
			h->n_listeners--;
			break;
		}
	}
	if (!l) {
		pthread_mutex_unlock(&h->lock);
		return;
	}
	/* Wait for deliveries on other threads (without wlock, which a
	 * deliver may want); our own, when a deliver unlistens itself, is
	 * the one left. */
	unsigned self = hub_delivering == id ? 1u : 0u;
	while (l->busy > self)
		pthread_cond_wait(&h->idle, &h->lock);
	pthread_mutex_unlock(&h->lock);
	/* Unlinked, so no subscription change can reach it: release its
	 * URIs in order with the others. */
	pthread_mutex_lock(&h->wlock);
	pthread_mutex_lock(&h->lock);
	for (size_t i = 0; i < l->n_uris; i++)
		stop[i] = uri_release_locked(h, l->uris[i]);
	pthread_mutex_unlock(&h->lock);
	for (size_t i = 0; i < l->n_uris; i++)
		if (stop[i])
			watch_stop(h, l->uris[i]);
	pthread_mutex_unlock(&h->wlock);
	if (self) {
		/* publish still holds l: it frees it when the deliver returns */
		pthread_mutex_lock(&h->lock);
		l->id = 0;
		pthread_mutex_unlock(&h->lock);
		return;
	}
	listener_free(l);
}

enum moat_rc hub_subscribe(struct hub *h, uint64_t id, const char *uri, struct moat_err *err)
{
	struct hub_listener *l;
	struct hub_uri *u;
	char *copy = strdup(uri);
	enum moat_rc rc = MOAT_OK;
	bool first;

	if (!copy)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	pthread_mutex_lock(&h->wlock);
	pthread_mutex_lock(&h->lock);
	l = find_locked(h, id);
	if (!l) {
		rc = moat_err_set(err, MOAT_EINVAL, "no such listener");
		goto unlock;
	}
	for (size_t i = 0; i < l->n_uris; i++)
		if (strcmp(l->uris[i], uri) == 0)
			goto unlock; /* already subscribed */
	if (l->n_uris >= HUB_MAX_URIS) {
		rc = moat_err_rule(err, MOAT_ELIMIT, "limits.subscriptions",
				   "limit: at most %d resource subscriptions per listener",
				   HUB_MAX_URIS);
		goto unlock;
	}
	first = !uri_find_locked(h, uri);
	pthread_mutex_unlock(&h->lock);
	/* wlock keeps every other subscription change out meanwhile: the
	 * listener and the URI's count stay as they are. */
	if (first && h->watch && (rc = h->watch(h->watch_ctx, uri, true, err))) {
		pthread_mutex_unlock(&h->wlock);
		free(copy);
		return rc;
	}
	pthread_mutex_lock(&h->lock);
	u = first ? NULL : uri_find_locked(h, uri);
	if (first) {
		size_t n = strlen(uri) + 1;
		u = malloc(sizeof(*u) + n);
		if (!u) {
			pthread_mutex_unlock(&h->lock);
			watch_stop(h, uri);
			pthread_mutex_unlock(&h->wlock);
			free(copy);
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		}
		memcpy(u->uri, uri, n);
		u->count = 0;
		u->next = h->uris;
		h->uris = u;
	}
	u->count++;
	l->uris[l->n_uris++] = copy;
	copy = NULL;
unlock:
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_unlock(&h->wlock);
	free(copy);
	return rc;
}

void hub_unsubscribe(struct hub *h, uint64_t id, const char *uri)
{
	struct hub_listener *l;
	char *gone = NULL;
	bool stop = false;

	pthread_mutex_lock(&h->wlock);
	pthread_mutex_lock(&h->lock);
	l = find_locked(h, id);
	for (size_t i = 0; l && i < l->n_uris; i++) {
		if (strcmp(l->uris[i], uri) != 0)
			continue;
		gone = l->uris[i];
		l->uris[i] = l->uris[--l->n_uris];
		stop = uri_release_locked(h, gone);
		break;
	}
	pthread_mutex_unlock(&h->lock);
	if (stop)
		watch_stop(h, gone);
	pthread_mutex_unlock(&h->wlock);
	free(gone);
}

/* Whether l hears about ev (on uri). Lock held. */
static bool matches(const struct hub_listener *l, enum hub_event ev, const char *uri)
{
	if (!(l->mask & (unsigned)ev))
		return false;
	if (ev != HUB_RESOURCE_UPDATED)
		return true;
	for (size_t i = 0; uri && i < l->n_uris; i++)
		if (strcmp(l->uris[i], uri) == 0)
			return true;
	return false;
}

void hub_publish(struct hub *h, enum hub_event ev, const char *uri)
{
	struct hub_listener **to;
	size_t n = 0;

	if (!h || (ev == HUB_RESOURCE_UPDATED && !uri))
		return;
	pthread_mutex_lock(&h->lock);
	to = h->n_listeners ? malloc(h->n_listeners * sizeof(*to)) : NULL;
	for (struct hub_listener *l = h->listeners; to && l; l = l->next) {
		if (matches(l, ev, uri)) {
			l->busy++;
			to[n++] = l;
		}
	}
	pthread_mutex_unlock(&h->lock);
	for (size_t i = 0; i < n; i++) {
		uint64_t outer = hub_delivering;
		hub_delivering = to[i]->id;
		to[i]->deliver(to[i]->ctx, ev, uri);
		hub_delivering = outer;
		pthread_mutex_lock(&h->lock);
		bool orphan = --to[i]->busy == 0 && to[i]->id == 0;
		pthread_cond_broadcast(&h->idle);
		pthread_mutex_unlock(&h->lock);
		if (orphan)
			listener_free(to[i]); /* its deliver unlistened it */
	}
	free(to);
}
