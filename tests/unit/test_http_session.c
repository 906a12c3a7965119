/*
 * test_http_session.c - sealed session ids and sessions across replicas
 * (src/transport/http/http_session_seal.c, http_session_adopt.c,
 * server_adopt in src/core/server.c): a sealed id opens for its principal
 * only, unchanged and before its expiry, and stays small whatever the
 * client declared; a session opened elsewhere is adopted only with a
 * shared store that says it has not ended; DELETE and idle expiry tell the
 * store, and a store that is down is retried. The store is a small table
 * of operations here (the Redis one is tests/unit/test_cluster*.c's).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "httpd_int.h"
#include "seal.h"
#include "server_rig.h"
#include "store.h"

/* ---- a store other replicas share -------------------------------------- */

static struct {
	char ids[64][128];
	uint32_t ttl[64];
	size_t n;
	bool down;
	unsigned asked;
} g_fs;

static enum store_rc fs_mark(void *ctx, const char *kind, const char *id, uint32_t ttl_s)
{
	char key[128];

	(void)ctx;
	if (g_fs.down)
		return STORE_DOWN;
	snprintf(key, sizeof(key), "%s:%s", kind, id);
	for (size_t i = 0; i < g_fs.n; i++)
		if (strcmp(g_fs.ids[i], key) == 0)
			return STORE_EMPTY;
	assert_true(g_fs.n < 64);
	g_fs.ttl[g_fs.n] = ttl_s;
	snprintf(g_fs.ids[g_fs.n++], sizeof(g_fs.ids[0]), "%s", key);
	return STORE_OK;
}

static enum store_rc fs_marked(void *ctx, const char *kind, const char *id)
{
	char key[128];

	(void)ctx;
	g_fs.asked++;
	if (g_fs.down)
		return STORE_DOWN;
	snprintf(key, sizeof(key), "%s:%s", kind, id);
	for (size_t i = 0; i < g_fs.n; i++)
		if (strcmp(g_fs.ids[i], key) == 0)
			return STORE_OK;
	return STORE_EMPTY;
}

static const struct store_ops fs_ops = {.mark = fs_mark, .marked = fs_marked};

static bool fs_has(const char *kind, const char *id)
{
	char key[128];

	snprintf(key, sizeof(key), "%s:%s", kind, id);
	for (size_t i = 0; i < g_fs.n; i++)
		if (strcmp(g_fs.ids[i], key) == 0)
			return true;
	return false;
}

/* ---- helpers ------------------------------------------------------------ */

static const char ID_A[] = "0123456789abcdef0123456789abcdef0123456789abcdef";
static const char ID_B[] = "fedcba9876543210fedcba9876543210fedcba9876543210";

/* A server initialized by an initialize carrying caps and clientInfo. */
static struct rig *initialized(const char *caps, const char *name)
{
	struct rig *r = rig_new();
	char *line = NULL;
	struct sent got[4];

	assert_true(asprintf(&line,
			     "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
			     "\"protocolVersion\":\"2025-11-25\",\"capabilities\":%s,\"clientInfo\":"
			     "{\"name\":\"%s\",\"version\":\"9.9\"}}}",
			     caps, name) > 0);
	rig_send(r, NULL, (void *)0x1, line, NULL);
	free(line);
	assert_int_equal(rig_on_route(r, (void *)0x1, got, 4), 1);
	assert_non_null(json_object_get(got[0].msg, "result"));
	return r;
}

static bool visible_ascii(const char *s)
{
	for (; *s; s++)
		if (*s <= ' ' || *s > '~')
			return false;
	return true;
}

/* ---- sealing ------------------------------------------------------------ */

static void test_seal_round_trip(void **state)
{
	struct rig *r = initialized("{\"elicitation\":{},\"roots\":{\"listChanged\":true}}", "cli");
	uint64_t now = 1800000000u, exp = 0;
	struct httpd_sid_facts f;
	char *t = httpd_sid_seal(ID_A, "alice", r->srv, 3600, now, &exp);

	(void)state;
	assert_non_null(t);
	assert_int_equal(exp, now + 3600);
	assert_true(strlen(t) <= HTTPD_TOKEN_MAX);
	assert_true(visible_ascii(t));
	assert_null(strstr(t, ID_A)); /* the internal id is not readable */
	assert_true(httpd_sid_open(t, "alice", now + 10, &f));
	assert_string_equal(f.id, ID_A);
	assert_string_equal(f.version, "2025-11-25");
	assert_string_equal(f.name, "cli");
	assert_string_equal(f.cversion, "9.9");
	assert_true(json_is_object(json_object_get(f.caps, "elicitation")));
	assert_true(json_is_true(json_object_get(json_object_get(f.caps, "roots"), "listChanged")));
	assert_int_equal(f.exp, now + 3600);
	httpd_sid_facts_clear(&f);
	/* Another principal, past the expiry, changed, cut, extended: nothing. */
	assert_false(httpd_sid_open(t, "bob", now + 10, &f));
	assert_null(f.caps);
	assert_false(httpd_sid_open(t, "alice", now + 3600, &f));
	assert_true(httpd_sid_open(t, "alice", now + 3599, &f));
	httpd_sid_facts_clear(&f);
	for (size_t i = 0; i < strlen(t); i += 7) {
		char *bad = strdup(t);
		bad[i] = bad[i] == 'A' ? 'B' : 'A';
		assert_false(httpd_sid_open(bad, "alice", now + 10, &f));
		free(bad);
	}
	{
		char *cut = strndup(t, strlen(t) - 1), *longer = NULL;
		assert_false(httpd_sid_open(cut, "alice", now + 10, &f));
		assert_true(asprintf(&longer, "%sAA", t) > 0);
		assert_false(httpd_sid_open(longer, "alice", now + 10, &f));
		free(cut);
		free(longer);
	}
	assert_false(httpd_sid_open(ID_A, "alice", now + 10, &f)); /* a bare internal id */
	assert_false(httpd_sid_open("", "alice", now + 10, &f));
	/* A requestState sealed by the same key is not a session id. */
	{
		struct seal_claims c = {.subject = "tool x", .principal = "alice", .args = NULL};
		struct moat_err err = {0};
		json_t *body = json_pack("{s:s}", "i", ID_A);
		char *st = seal_box_ttl(&c, body, now, 3600, &err);
		assert_non_null(st);
		assert_false(httpd_sid_open(st, "alice", now + 10, &f));
		free(st);
		json_decref(body);
	}
	free(t);
	rig_free(r);
}

static void test_seal_bounded(void **state)
{
	/* Large capabilities, a long client name and the longest principal:
	 * the id stays within HTTPD_TOKEN_MAX and keeps what the server uses. */
	json_t *caps = json_pack("{s:{}, s:{s:b}, s:{s:{}, s:{}}}", "sampling", "roots",
				 "listChanged", 1, "elicitation", "form", "url");
	char big[4096], name[300], who[PRINCIPAL_NAME_MAX];
	char *caps_text, *t;
	struct rig *r;
	struct httpd_sid_facts f;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	json_object_set_new(caps, "experimental", json_pack("{s:s}", "blob", big));
	caps_text = json_dumps(caps, JSON_COMPACT);
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memset(who, 'w', sizeof(who) - 1);
	who[sizeof(who) - 1] = '\0';
	r = initialized(caps_text, name);
	t = httpd_sid_seal(ID_A, who, r->srv, 86400, 0, NULL);
	assert_non_null(t);
	assert_true(strlen(t) <= HTTPD_TOKEN_MAX);
	assert_true(visible_ascii(t));
	assert_true(httpd_sid_open(t, who, 0, &f));
	assert_null(json_object_get(f.caps, "experimental"));
	assert_non_null(json_object_get(f.caps, "sampling"));
	assert_non_null(json_object_get(f.caps, "roots"));
	assert_non_null(json_object_get(f.caps, "elicitation"));
	assert_true(strlen(f.name) <= 64);
	httpd_sid_facts_clear(&f);
	free(t);
	free(caps_text);
	json_decref(caps);
	rig_free(r);
}

/* The cost of opening a sealed id, the work every session request does
 * before the table lookup: printed, and held to a loose bound (10 µs on
 * average would be ten times what it takes here). */
static void test_seal_open_cost(void **state)
{
	struct rig *r = initialized("{\"elicitation\":{},\"sampling\":{}}", "claude-code");
	char *t = httpd_sid_seal(ID_A, "alice@example.com", r->srv, 86400, 0, NULL);
	struct httpd_sid_facts f;
	struct timespec a, b;
	const int n = 20000;
	double ns;

	(void)state;
	assert_non_null(t);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++) {
		assert_true(httpd_sid_open(t, "alice@example.com", 0, &f));
		httpd_sid_facts_clear(&f);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	ns = ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / n;
	print_message("opening a sealed session id (%zu characters): %.0f ns\n", strlen(t), ns);
	assert_true(ns < 100000.0); /* not a benchmark: only absurd costs fail */
	free(t);
	rig_free(r);
}

/* ---- server_adopt ------------------------------------------------------- */

static void test_server_adopt(void **state)
{
	struct rig *r = rig_new();
	json_t *caps = json_pack("{s:{}}", "elicitation");
	struct sent got[4];
	char version[32], name[72], cv[72];
	json_t *back = NULL;

	(void)state;
	/* Not initialized: nothing to tell; tools/list refused. */
	assert_false(server_client(r->srv, version, sizeof(version), &back, name, sizeof(name), cv,
				   sizeof(cv)));
	rig_send(r, NULL, (void *)0x2, "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/list\"}",
		 NULL);
	assert_int_equal(rig_on_route(r, (void *)0x2, got, 4), 1);
	assert_non_null(json_object_get(got[0].msg, "error"));
	/* An unknown revision changes nothing. */
	assert_false(server_adopt(r->srv, "1999-01-01", caps, "cli", "1"));
	assert_false(server_adopt(r->srv, NULL, caps, "cli", "1"));
	assert_true(server_adopt(r->srv, "2025-06-18", caps, "cli", "1.2"));
	/* Initialized as initialize would have left it. */
	assert_true(server_client(r->srv, version, sizeof(version), &back, name, sizeof(name), cv,
				  sizeof(cv)));
	assert_string_equal(version, "2025-06-18");
	assert_string_equal(name, "cli");
	assert_string_equal(cv, "1.2");
	assert_true(json_equal(back, caps));
	json_decref(back);
	rig_send(r, NULL, (void *)0x3, "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/list\"}",
		 NULL);
	assert_int_equal(rig_on_route(r, (void *)0x3, got, 4), 1);
	assert_non_null(json_object_get(json_object_get(got[0].msg, "result"), "tools"));
	/* Once only; and an initialize now is the second one. */
	assert_false(server_adopt(r->srv, "2025-11-25", caps, "cli", "1"));
	rig_send(r, NULL, (void *)0x4,
		 "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"initialize\",\"params\":{"
		 "\"protocolVersion\":\"2025-11-25\",\"capabilities\":{},\"clientInfo\":{\"name\":"
		 "\"t\"}}}",
		 NULL);
	assert_int_equal(rig_on_route(r, (void *)0x4, got, 4), 1);
	assert_non_null(json_object_get(got[0].msg, "error"));
	json_decref(caps);
	rig_free(r);
}

/* ---- adoption through a listener's table -------------------------------- */

struct replica {
	struct httpd_listener l;
	struct rig *rig; /* its registry */
};

static struct replica *replica_new(uint32_t max_sessions)
{
	struct replica *p = calloc(1, sizeof(*p));

	p->rig = rig_new();
	pthread_mutex_init(&p->l.tlock, NULL);
	pthread_mutex_init(&p->l.rlock, NULL);
	assert_true(httpd_sessions_init(&p->l));
	p->l.reg = p->rig->reg;
	p->l.sopts = (struct server_opts){.name = "moat", .version = "1", .no_log_forward = true,
					  .no_client_roots = true};
	limits_defaults(&p->l.sopts.limits);
	p->l.cfg.max_sessions = max_sessions;
	p->l.cfg.max_sessions_per_principal = max_sessions;
	p->l.cfg.session_idle_s = 1800;
	p->l.cfg.session_max_lifetime_s = 86400;
	p->l.hk_wake = -1;
	return p;
}

static void replica_free(struct replica *p)
{
	httpd_sessions_fini(&p->l);
	pthread_mutex_destroy(&p->l.tlock);
	pthread_mutex_destroy(&p->l.rlock);
	rig_free(p->rig);
	free(p);
}

/* An id for internal id, sealed by "another replica" (same key). */
static char *issued(const char *id, const char *who)
{
	struct rig *r = initialized("{\"sampling\":{}}", "other");
	char *t = httpd_sid_seal(id, who, r->srv, 3600, 0, NULL);

	assert_non_null(t);
	rig_free(r);
	return t;
}

static struct principal P(const char *name)
{
	struct principal p = {0};

	snprintf(p.name, sizeof(p.name), "%s", name);
	return p;
}

static void test_adopt(void **state)
{
	struct replica *b = replica_new(8);
	struct principal alice = P("alice"), bob = P("bob");
	char *ta = issued(ID_A, "alice"), *tb = issued(ID_B, "alice");
	struct httpd_session *s, *again;
	const char *rule = NULL;

	(void)state;
	memset(&g_fs, 0, sizeof(g_fs));
	/* Without a store: never adopted (a single moat must not revive its
	 * own ended sessions). */
	store_install(NULL, NULL, STORE_FALLBACK_AUTO);
	assert_null(httpd_session_find(&b->l, ta, &alice, &rule));
	assert_string_equal(rule, "http.session_unknown");
	assert_int_equal(b->l.nsessions, 0);

	store_install(&fs_ops, NULL, STORE_FALLBACK_AUTO);
	/* Another principal's id: as unknown, and the store not even asked. */
	g_fs.asked = 0;
	assert_null(httpd_session_find(&b->l, ta, &bob, &rule));
	assert_string_equal(rule, "http.session_unknown");
	assert_int_equal(g_fs.asked, 0);
	/* Adopted: same internal id, initialized as the id says. */
	s = httpd_session_find(&b->l, ta, &alice, &rule);
	assert_non_null(s);
	assert_string_equal(s->id, ID_A);
	assert_string_equal(s->version, "2025-11-25");
	assert_true(s->ready && s->exp_s > 0);
	assert_int_equal(b->l.nsessions, 1);
	{
		char v[32], n[72], cv[72];
		json_t *caps = NULL;
		assert_true(server_client(s->srv, v, sizeof(v), &caps, n, sizeof(n), cv, sizeof(cv)));
		assert_string_equal(n, "other");
		assert_non_null(json_object_get(caps, "sampling"));
		json_decref(caps);
	}
	/* Found in the table the next time, not adopted twice. */
	g_fs.asked = 0;
	again = httpd_session_find(&b->l, ta, &alice, &rule);
	assert_ptr_equal(again, s);
	assert_int_equal(g_fs.asked, 0);
	httpd_session_put(again);
	/* A third replica holds a copy too. */
	struct replica *c = replica_new(8);
	struct httpd_session *cs = httpd_session_find(&c->l, ta, &alice, &rule);
	assert_non_null(cs);
	/* Ended on b by DELETE: the store learns it for the id's remaining
	 * life, and no replica adopts it afterwards. */
	httpd_session_end_shared(&b->l, s, true);
	httpd_session_kill(s);
	httpd_session_put(s);
	assert_true(fs_has("session", ID_A));
	assert_true(g_fs.ttl[g_fs.n - 1] > 3500 && g_fs.ttl[g_fs.n - 1] <= 3600);
	assert_null(httpd_session_find(&b->l, ta, &alice, &rule));
	assert_string_equal(rule, "http.session_unknown");
	{
		struct replica *d = replica_new(8);
		assert_null(httpd_session_find(&d->l, ta, &alice, &rule));
		assert_string_equal(rule, "http.session_unknown");
		replica_free(d);
	}
	/* c's copy: served until its next look at the store (at most
	 * HTTPD_END_CHECK_MS later), then ended there too. */
	again = httpd_session_find(&c->l, ta, &alice, &rule);
	assert_ptr_equal(again, cs);
	httpd_session_put(again);
	cs->checked_ns -= HTTPD_END_CHECK_MS * 1000000ull;
	assert_null(httpd_session_find(&c->l, ta, &alice, &rule));
	assert_string_equal(rule, "http.session_unknown");
	assert_true(cs->dead);
	assert_int_equal(c->l.nsessions, 0);
	httpd_session_put(cs);
	replica_free(c);
	/* The store down: no adoption, and 503's rule rather than 404's. */
	g_fs.down = true;
	assert_null(httpd_session_find(&b->l, tb, &alice, &rule));
	assert_string_equal(rule, "http.session_store_unavailable");
	g_fs.down = false;
	s = httpd_session_find(&b->l, tb, &alice, &rule);
	assert_non_null(s);
	/* Ended while the store is down: kept, never adopted here meanwhile,
	 * told to the store by the housekeeper once it answers. */
	g_fs.down = true;
	httpd_session_end_shared(&b->l, s, true);
	httpd_session_kill(s);
	httpd_session_put(s);
	assert_int_equal(b->l.npending_end, 1);
	g_fs.down = false;
	assert_null(httpd_session_find(&b->l, tb, &alice, &rule));
	assert_string_equal(rule, "http.session_unknown");
	assert_false(fs_has("session", ID_B));
	g_fs.down = true;
	httpd_sessions_retry_ends(&b->l);
	assert_int_equal(b->l.npending_end, 1);
	g_fs.down = false;
	httpd_sessions_retry_ends(&b->l);
	assert_int_equal(b->l.npending_end, 0);
	assert_true(fs_has("session", ID_B));
	store_install(NULL, NULL, STORE_FALLBACK_AUTO);
	free(ta);
	free(tb);
	replica_free(b);
}

static void test_adopt_limits(void **state)
{
	struct replica *b = replica_new(1);
	struct principal alice = P("alice");
	char *ta = issued("1111111111111111111111111111111111111111111111aa", "alice");
	char *tb = issued("2222222222222222222222222222222222222222222222bb", "alice");
	struct httpd_session *s;
	const char *rule = NULL;

	(void)state;
	memset(&g_fs, 0, sizeof(g_fs));
	store_install(&fs_ops, NULL, STORE_FALLBACK_AUTO);
	s = httpd_session_find(&b->l, ta, &alice, &rule);
	assert_non_null(s);
	/* Adopted sessions count toward listen.max_sessions. */
	assert_null(httpd_session_find(&b->l, tb, &alice, &rule));
	assert_string_equal(rule, "limits.http_sessions");
	/* Idle expiry tells the store too: no replica adopts it afterwards,
	 * but a copy elsewhere (busy there) lives on. */
	struct replica *c = replica_new(8);
	struct httpd_session *cs = httpd_session_find(&c->l, ta, &alice, &rule);
	assert_non_null(cs);
	b->l.cfg.session_idle_s = 0;
	s->last_ns = 1;
	s->used = true; /* it served a request here */
	httpd_session_put(s);
	httpd_housekeep(&b->l, false);
	assert_int_equal(b->l.nsessions, 0);
	assert_true(fs_has("session_idle", "1111111111111111111111111111111111111111111111aa"));
	assert_false(fs_has("session", "1111111111111111111111111111111111111111111111aa"));
	assert_null(httpd_session_find(&b->l, ta, &alice, &rule));
	{
		struct replica *d = replica_new(8);
		assert_null(httpd_session_find(&d->l, ta, &alice, &rule));
		replica_free(d);
	}
	cs->checked_ns -= HTTPD_END_CHECK_MS * 1000000ull;
	s = httpd_session_find(&c->l, ta, &alice, &rule);
	assert_ptr_equal(s, cs);
	httpd_session_put(s);
	httpd_session_put(cs);
	replica_free(c);
	s = httpd_session_find(&b->l, tb, &alice, &rule);
	assert_non_null(s);
	/* A copy that never served a request here (it only answered
	 * initialize; the load balancer sent the rest elsewhere) expires
	 * without a mark: the session may be busy on another replica. */
	s->last_ns = 1;
	httpd_session_put(s);
	httpd_housekeep(&b->l, false);
	assert_int_equal(b->l.nsessions, 0);
	assert_false(fs_has("session_idle", "2222222222222222222222222222222222222222222222bb"));
	{
		struct replica *d = replica_new(8);
		s = httpd_session_find(&d->l, tb, &alice, &rule);
		assert_non_null(s);
		httpd_session_put(s);
		replica_free(d);
	}
	store_install(NULL, NULL, STORE_FALLBACK_AUTO);
	free(ta);
	free(tb);
	replica_free(b);
}

/* The lookup a session request does: once a replica has opened an id (or
 * issued it), the exact text finds its session without opening it. */
static void test_find_cost(void **state)
{
	struct replica *b = replica_new(8);
	struct principal alice = P("alice@example.com");
	/* (ID_A ended in test_adopt: this process remembers that too.) */
	char *t = issued("3333333333333333333333333333333333333333333333cc", alice.name);
	struct httpd_session *s;
	const char *rule;
	struct timespec a, z;
	const int n = 20000;
	double ns;

	(void)state;
	memset(&g_fs, 0, sizeof(g_fs));
	store_install(&fs_ops, NULL, STORE_FALLBACK_AUTO);
	s = httpd_session_find(&b->l, t, &alice, &rule);
	assert_non_null(s);
	httpd_session_put(s);
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < n; i++) {
		s = httpd_session_find(&b->l, t, &alice, &rule);
		assert_non_null(s);
		httpd_session_put(s);
	}
	clock_gettime(CLOCK_MONOTONIC, &z);
	ns = ((double)(z.tv_sec - a.tv_sec) * 1e9 + (double)(z.tv_nsec - a.tv_nsec)) / n;
	print_message("finding a session by a sealed id seen before: %.0f ns\n", ns);
	assert_true(ns < 100000.0);
	/* The same text for another principal is still nothing. */
	{
		struct principal bob = P("bob");
		assert_null(httpd_session_find(&b->l, t, &bob, &rule));
		assert_string_equal(rule, "http.session_unknown");
	}
	store_install(NULL, NULL, STORE_FALLBACK_AUTO);
	free(t);
	replica_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seal_round_trip),
		cmocka_unit_test(test_seal_bounded),
		cmocka_unit_test(test_seal_open_cost),
		cmocka_unit_test(test_server_adopt),
		cmocka_unit_test(test_adopt),
		cmocka_unit_test(test_adopt_limits),
		cmocka_unit_test(test_find_cost),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
