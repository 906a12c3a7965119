/*
 * test_hub.c - unit tests for src/core/hub.c: masks and URI sets, watches
 * started on a URI's first subscriber and stopped on its last, a failing
 * watch failing the subscription, the bounds, and the promise that after
 * hub_unlisten returns the listener's deliver is not running, with
 * publishers and unlisteners racing (run under ASan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>

#include <cmocka.h>

#include "hub.h"

struct seen {
	int tools, prompts, resources, updated;
	char last_uri[64];
};

static void deliver(void *ctx, enum hub_event ev, const char *uri)
{
	struct seen *s = ctx;

	switch (ev) {
	case HUB_TOOLS_CHANGED: s->tools++; break;
	case HUB_PROMPTS_CHANGED: s->prompts++; break;
	case HUB_RESOURCES_CHANGED: s->resources++; break;
	case HUB_RESOURCE_UPDATED:
		s->updated++;
		snprintf(s->last_uri, sizeof(s->last_uri), "%s", uri);
		break;
	}
}

struct watches {
	int on, off;
	char last[64];
};

static enum moat_rc watch(void *ctx, const char *uri, bool on, struct moat_err *err)
{
	struct watches *w = ctx;

	if (strncmp(uri, "bad:", 4) == 0)
		return moat_err_rule(err, MOAT_ENOTFOUND, "resources.not_subscribable", "no");
	if (on)
		w->on++;
	else
		w->off++;
	snprintf(w->last, sizeof(w->last), "%s", uri);
	return MOAT_OK;
}

static void test_masks(void **state)
{
	(void)state;
	struct hub *h = hub_new(NULL, NULL);
	struct seen a = {0}, b = {0};
	struct moat_err err = {0};
	uint64_t ia = hub_listen(h, HUB_TOOLS_CHANGED, deliver, &a, &err);
	uint64_t ib = hub_listen(h, HUB_PROMPTS_CHANGED | HUB_RESOURCES_CHANGED, deliver, &b, &err);

	assert_true(ia > 0 && ib > 0 && ia != ib);
	hub_publish(h, HUB_TOOLS_CHANGED, NULL);
	hub_publish(h, HUB_PROMPTS_CHANGED, NULL);
	hub_publish(h, HUB_RESOURCES_CHANGED, NULL);
	assert_int_equal(a.tools, 1);
	assert_int_equal(a.prompts, 0);
	assert_int_equal(b.tools, 0);
	assert_int_equal(b.prompts, 1);
	assert_int_equal(b.resources, 1);
	hub_unlisten(h, ia);
	hub_unlisten(h, ia); /* unknown: ignored */
	hub_publish(h, HUB_TOOLS_CHANGED, NULL);
	assert_int_equal(a.tools, 1);
	hub_free(h);
}

static void test_uris_and_watches(void **state)
{
	(void)state;
	struct watches w = {0};
	struct hub *h = hub_new(watch, &w);
	struct seen a = {0}, b = {0};
	struct moat_err err = {0};
	uint64_t ia = hub_listen(h, HUB_RESOURCE_UPDATED, deliver, &a, &err);
	uint64_t ib = hub_listen(h, HUB_RESOURCE_UPDATED, deliver, &b, &err);

	assert_int_equal(hub_subscribe(h, ia, "file:///x", &err), MOAT_OK);
	assert_int_equal(w.on, 1);
	assert_int_equal(hub_subscribe(h, ia, "file:///x", &err), MOAT_OK); /* again: no-op */
	assert_int_equal(hub_subscribe(h, ib, "file:///x", &err), MOAT_OK);
	assert_int_equal(w.on, 1); /* one watch for both */
	hub_publish(h, HUB_RESOURCE_UPDATED, "file:///x");
	hub_publish(h, HUB_RESOURCE_UPDATED, "file:///y");
	hub_publish(h, HUB_RESOURCE_UPDATED, NULL);
	assert_int_equal(a.updated, 1);
	assert_int_equal(b.updated, 1);
	assert_string_equal(a.last_uri, "file:///x");
	hub_unsubscribe(h, ia, "file:///x");
	assert_int_equal(w.off, 0);
	hub_publish(h, HUB_RESOURCE_UPDATED, "file:///x");
	assert_int_equal(a.updated, 1);
	assert_int_equal(b.updated, 2);
	hub_unlisten(h, ib); /* the last subscriber: the watch stops */
	assert_int_equal(w.off, 1);
	assert_string_equal(w.last, "file:///x");

	/* A refused watch refuses the subscription and leaves no count. */
	err = (struct moat_err){0};
	assert_int_equal(hub_subscribe(h, ia, "bad:thing", &err), MOAT_ENOTFOUND);
	assert_string_equal(err.rule, "resources.not_subscribable");
	hub_publish(h, HUB_RESOURCE_UPDATED, "bad:thing");
	assert_int_equal(a.updated, 1);
	hub_free(h); /* frees ia with its state */
}

static void test_bounds(void **state)
{
	(void)state;
	struct watches w = {0};
	struct hub *h = hub_new(watch, &w);
	struct seen a = {0};
	struct moat_err err = {0};
	uint64_t ia = hub_listen(h, HUB_RESOURCE_UPDATED, deliver, &a, &err);
	char uri[32];

	for (int i = 0; i < HUB_MAX_URIS; i++) {
		snprintf(uri, sizeof(uri), "file:///%d", i);
		assert_int_equal(hub_subscribe(h, ia, uri, &err), MOAT_OK);
	}
	assert_int_equal(hub_subscribe(h, ia, "file:///over", &err), MOAT_ELIMIT);
	assert_string_equal(err.rule, "limits.subscriptions");
	hub_unlisten(h, ia);
	assert_int_equal(w.on, HUB_MAX_URIS);
	assert_int_equal(w.off, HUB_MAX_URIS);

	uint64_t *ids = calloc(HUB_MAX_LISTENERS, sizeof(*ids));
	for (int i = 0; i < HUB_MAX_LISTENERS; i++)
		assert_true((ids[i] = hub_listen(h, HUB_TOOLS_CHANGED, deliver, &a, &err)) > 0);
	err = (struct moat_err){0};
	assert_int_equal(hub_listen(h, HUB_TOOLS_CHANGED, deliver, &a, &err), 0);
	assert_string_equal(err.rule, "limits.subscriptions");
	hub_unlisten(h, ids[7]);
	assert_true(hub_listen(h, HUB_TOOLS_CHANGED, deliver, &a, &err) > 0);
	free(ids);
	hub_free(h);
}

/* ---- concurrency: deliver never runs after hub_unlisten returns ------ */

struct victim {
	atomic_int inside; /* in deliver now */
	atomic_int freed;  /* the owner considers it gone */
	atomic_int calls;
};

static void slow_deliver(void *ctx, enum hub_event ev, const char *uri)
{
	struct victim *v = ctx;

	(void)ev;
	(void)uri;
	atomic_fetch_add(&v->inside, 1);
	if (atomic_load(&v->freed))
		abort(); /* delivered after hub_unlisten returned */
	atomic_fetch_add(&v->calls, 1);
	for (volatile int i = 0; i < 200; i++)
		;
	if (atomic_load(&v->freed))
		abort(); /* delivered after hub_unlisten returned */
	atomic_fetch_sub(&v->inside, 1);
}

struct race {
	struct hub *h;
	atomic_bool stop;
};

static void *publisher(void *arg)
{
	struct race *r = arg;

	while (!atomic_load(&r->stop)) {
		hub_publish(r->h, HUB_TOOLS_CHANGED, NULL);
		hub_publish(r->h, HUB_RESOURCE_UPDATED, "file:///r");
	}
	return NULL;
}

static void test_concurrent_unlisten(void **state)
{
	(void)state;
	struct watches w = {0};
	struct race r = {.h = hub_new(NULL, &w)};
	pthread_t t[3];
	struct moat_err err = {0};

	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, publisher, &r);
	for (int round = 0; round < 2000; round++) {
		struct victim *v = calloc(1, sizeof(*v));
		uint64_t id = hub_listen(r.h, HUB_TOOLS_CHANGED | HUB_RESOURCE_UPDATED, slow_deliver,
					 v, &err);
		assert_true(id > 0);
		assert_int_equal(hub_subscribe(r.h, id, "file:///r", &err), MOAT_OK);
		for (volatile int i = 0; i < 500; i++)
			;
		hub_unlisten(r.h, id);
		assert_int_equal(atomic_load(&v->inside), 0);
		atomic_store(&v->freed, 1);
		free(v); /* ASan: any later deliver would read freed memory */
	}
	atomic_store(&r.stop, true);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	hub_free(r.h);
}

/* A deliver that unlistens its own listener returns, and is the last. */
struct selfie {
	struct hub *h;
	uint64_t id;
	int calls;
};

static void self_deliver(void *ctx, enum hub_event ev, const char *uri)
{
	struct selfie *s = ctx;

	(void)ev;
	(void)uri;
	s->calls++;
	hub_unlisten(s->h, s->id);
}

static void test_self_unlisten(void **state)
{
	(void)state;
	struct selfie s = {.h = hub_new(NULL, NULL)};
	struct moat_err err = {0};

	s.id = hub_listen(s.h, HUB_TOOLS_CHANGED, self_deliver, &s, &err);
	hub_publish(s.h, HUB_TOOLS_CHANGED, NULL);
	hub_publish(s.h, HUB_TOOLS_CHANGED, NULL);
	assert_int_equal(s.calls, 1);
	hub_free(s.h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_masks),
		cmocka_unit_test(test_uris_and_watches),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_concurrent_unlisten),
		cmocka_unit_test(test_self_unlisten),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
