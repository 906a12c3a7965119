/*
 * test_cluster.c - the cluster store (src/cluster/) against a real
 * redis-server, started by the test on a free loopback port in a
 * temporary directory and killed on the way out.
 *
 * Two stores made independently stand for two replicas: a limit they
 * share admits its capacity in all, not each; a take is all or none; a
 * cache entry put through core (store.c) reaches Redis sealed (the canary
 * is not in Redis's bytes) and opens on the other replica; marks are seen
 * by both. The password is checked (right, wrong, missing, an ACL user),
 * and the database; rediss:// and credentials in the URL are refused.
 * Scripts flushed from Redis are run whole; a pool whose connections are
 * all lent out makes an operation wait timeout_ms, not forever; the
 * heartbeat counts the live replicas. Redis killed: every
 * operation answers STORE_DOWN at once and limits_take follows the
 * fallback policy; Redis started again: the store reconnects by itself and
 * the shared limit is back. A missing redis-server fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cluster/cluster.h"
#include "cluster/cluster_int.h"
#include "seal.h"
#include "store.h"

#define PASSWORD "test-redis-pw-5f1c"
#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static char g_dir[64];
static int g_port;
static unsigned g_db; /* the database stores are made for */
static pid_t g_redis = -1;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* A connection of the test's own, authenticated; NULL while Redis is not up. */
static redisContext *test_conn(void)
{
	struct timeval tv = {.tv_sec = 1};
	redisContext *c = redisConnectWithTimeout("127.0.0.1", g_port, tv);
	redisReply *r;

	if (!c || c->err) {
		if (c)
			redisFree(c);
		return NULL;
	}
	r = redisCommand(c, "AUTH %s", PASSWORD);
	if (!r || r->type == REDIS_REPLY_ERROR) {
		if (r)
			freeReplyObject(r);
		redisFree(c);
		return NULL;
	}
	freeReplyObject(r);
	return c;
}

static void redis_kill(void)
{
	if (g_redis > 0) {
		kill(g_redis, SIGKILL);
		waitpid(g_redis, NULL, 0);
		g_redis = -1;
	}
}

/* Start redis-server on g_port with the password; fail the test when it
 * is missing or does not answer within 5 s. */
static void redis_start(void)
{
	char port[16];
	redisContext *c = NULL;
	int status;

	snprintf(port, sizeof(port), "%d", g_port);
	g_redis = fork();
	assert_true(g_redis >= 0);
	if (g_redis == 0) {
		int null = open("/dev/null", O_WRONLY);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (null >= 0) {
			dup2(null, 1);
			close(null);
		}
		execlp("redis-server", "redis-server", "--port", port, "--bind", "127.0.0.1",
		       "--save", "", "--appendonly", "no", "--dir", g_dir, "--requirepass",
		       PASSWORD, (char *)NULL);
		fprintf(stderr, "test_cluster: cannot run redis-server (Debian: apt-get install "
				"redis-server)\n");
		_exit(127);
	}
	for (uint64_t end = now_ms() + 5000; now_ms() < end; usleep(20000)) {
		if (waitpid(g_redis, &status, WNOHANG) == g_redis) {
			g_redis = -1;
			fail_msg("redis-server exited at once (status %d): is it installed?",
				 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		}
		if ((c = test_conn()))
			break;
	}
	if (!c)
		fail_msg("redis-server did not answer on port %d within 5 s", g_port);
	redisFree(c);
}

static void cleanup(void)
{
	char cmd[128];

	redis_kill();
	if (g_dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "test_cluster: could not remove %s\n", g_dir);
		g_dir[0] = '\0';
	}
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/moat-test-cluster-XXXXXX");
	if (!mkdtemp(g_dir))
		return -1;
	atexit(cleanup);
	g_port = free_port();
	redis_start();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	cleanup();
	return 0;
}

/* A store for a section with prefix, the password (pw NULL: none) and
 * extra members as JSON (may be NULL). */
static struct cluster *store_with(const char *prefix, const char *user, const char *pw,
				  const char *extra, struct moat_err *err)
{
	char url[64], text[512];
	json_t *sec;
	struct cluster_cfg cc;
	struct cluster *c;

	snprintf(url, sizeof(url), "redis://127.0.0.1:%d/%u", g_port, g_db);
	snprintf(text, sizeof(text),
		 "{\"redis\": \"%s\", \"key\": \"%s\", \"prefix\": \"%s\", \"timeout_ms\": 250, "
		 "\"connect_timeout_ms\": 500%s%s%s%s%s%s%s%s}",
		 url, KEY_HEX, prefix, pw ? ", \"password\": \"" : "", pw ? pw : "", pw ? "\"" : "",
		 user ? ", \"username\": \"" : "", user ? user : "", user ? "\"" : "",
		 extra ? ", " : "", extra ? extra : "");
	sec = json_loads(text, 0, NULL);
	assert_non_null(sec);
	assert_int_equal(cluster_cfg_parse(sec, &cc, err), MOAT_OK);
	json_decref(sec);
	c = cluster_new(&cc, NULL, err);
	cluster_cfg_wipe(&cc);
	return c;
}

static struct cluster *store(const char *prefix)
{
	struct moat_err err = {0};
	struct cluster *c = store_with(prefix, NULL, PASSWORD, NULL, &err);

	if (!c)
		fail_msg("cluster_new: %s", err.msg);
	assert_true(cluster_up(c));
	return c;
}

static enum store_rc take(struct cluster *c, const struct store_bucket *b, size_t n,
			  size_t *which, uint64_t *wait)
{
	return cluster_store_ops.take(c, b, n, which, wait);
}

/* ---- limits --------------------------------------------------------------- */

/* Two replicas share one limit of 10: 10 taken in all, not 20. */
static void test_take_shared(void **state)
{
	(void)state;
	struct cluster *a = store("t1"), *b = store("t1");
	struct store_bucket bk = {.key = "global", .capacity = 10, .per_ms = 10.0 / 60000};
	size_t which;
	uint64_t wait;
	int ok_a = 0, ok_b = 0;

	for (int i = 0; i < 20; i++) {
		enum store_rc rc = take(i % 2 ? b : a, &bk, 1, &which, &wait);
		assert_int_not_equal(rc, STORE_DOWN);
		if (rc == STORE_OK)
			*(i % 2 ? &ok_b : &ok_a) += 1;
	}
	assert_int_equal(ok_a + ok_b, 10);
	assert_true(ok_a > 0 && ok_b > 0);
	/* Empty: the next token in about 6 s (10 a minute). */
	assert_int_equal(take(a, &bk, 1, &which, &wait), STORE_EMPTY);
	assert_int_equal(which, 0);
	assert_true(wait > 4000 && wait <= 6000);
	cluster_free(a);
	cluster_free(b);
}

/* All or none: a take that finds one bucket empty takes from none. */
static void test_all_or_none(void **state)
{
	(void)state;
	struct cluster *a = store("t2");
	struct store_bucket bk[2] = {
		{.key = "principal:alice", .capacity = 5, .per_ms = 5.0 / 60000},
		{.key = "tool:write", .capacity = 2, .per_ms = 2.0 / 60000},
	};
	size_t which;
	uint64_t wait;

	assert_int_equal(take(a, bk, 2, &which, &wait), STORE_OK);
	assert_int_equal(take(a, bk, 2, &which, &wait), STORE_OK);
	assert_int_equal(take(a, bk, 2, &which, &wait), STORE_EMPTY);
	assert_int_equal(which, 1); /* the second bucket is the empty one */
	assert_int_equal(take(a, bk, 2, &which, &wait), STORE_EMPTY);
	/* The refused takes left the first bucket alone: 3 of 5 remain. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(take(a, bk, 1, &which, &wait), STORE_OK);
	assert_int_equal(take(a, bk, 1, &which, &wait), STORE_EMPTY);
	assert_int_equal(which, 0);
	cluster_free(a);
}

/* wait_ms says when the next token comes, and it does come then. */
static void test_wait(void **state)
{
	(void)state;
	struct cluster *a = store("t3");
	struct store_bucket bk = {.key = "api:crm", .capacity = 1, .per_ms = 1.0 / 400};
	size_t which;
	uint64_t wait;

	assert_int_equal(take(a, &bk, 1, &which, &wait), STORE_OK);
	assert_int_equal(take(a, &bk, 1, &which, &wait), STORE_EMPTY);
	assert_true(wait > 0 && wait <= 400);
	usleep((useconds_t)(wait + 30) * 1000);
	assert_int_equal(take(a, &bk, 1, &which, &wait), STORE_OK);
	cluster_free(a);
}

/* ---- the cache -------------------------------------------------------------- */

/* The raw value of the single key matching pattern (NULL if not one). */
static char *raw_single(const char *pattern)
{
	redisContext *c = test_conn();
	redisReply *r, *v;
	char *out = NULL;

	assert_non_null(c);
	r = redisCommand(c, "KEYS %s", pattern);
	assert_non_null(r);
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 1) {
		v = redisCommand(c, "GET %s", r->element[0]->str);
		if (v && v->type == REDIS_REPLY_STRING)
			out = strndup(v->str, v->len);
		if (v)
			freeReplyObject(v);
	}
	freeReplyObject(r);
	redisFree(c);
	return out;
}

static void test_cache(void **state)
{
	(void)state;
	struct cluster *a = store("t4"), *b = store("t4");
	struct moat_err err = {0};
	uint8_t key[32];
	json_t *val = json_pack("{s:s, s:i}", "email", "CANARY-4711@example.com", "n", 7), *got;
	char *raw;

	assert_true(seal_parse_key(KEY_HEX, key));
	assert_int_equal(seal_configure(key, 0, &err), MOAT_OK);
	cluster_install(a);
	assert_int_equal(store_cache_put("crm", "alice", "GET /contacts/1", val, 5000), STORE_OK);
	/* Redis holds what core handed over: sealed, under an HMAC name. */
	raw = raw_single("t4:c:*");
	assert_non_null(raw);
	assert_null(strstr(raw, "CANARY-4711"));
	assert_null(strstr(raw, "alice"));
	assert_null(strstr(raw, "contacts"));
	free(raw);
	assert_int_equal(store_cache_get("crm", "alice", "GET /contacts/1", &got), STORE_OK);
	assert_true(json_equal(got, val));
	json_decref(got);
	/* Bound to its principal. */
	assert_int_equal(store_cache_get("crm", "bob", "GET /contacts/1", &got), STORE_EMPTY);
	/* The other replica opens it. */
	cluster_free(a); /* uninstalls a */
	cluster_install(b);
	assert_int_equal(store_cache_get("crm", "alice", "GET /contacts/1", &got), STORE_OK);
	assert_true(json_equal(got, val));
	json_decref(got);
	/* A write clears the namespace for every replica. */
	assert_int_equal(store_cache_clear("crm"), STORE_OK);
	assert_int_equal(store_cache_get("crm", "alice", "GET /contacts/1", &got), STORE_EMPTY);
	assert_int_equal(store_cache_put("crm", "alice", "GET /contacts/1", val, 5000), STORE_OK);
	assert_int_equal(store_cache_get("crm", "alice", "GET /contacts/1", &got), STORE_OK);
	json_decref(got);
	json_decref(val);
	cluster_free(b);
}

/* ---- marks ------------------------------------------------------------------- */

static void test_marks(void **state)
{
	(void)state;
	struct cluster *a = store("t5"), *b = store("t5");
	redisContext *c;
	redisReply *r;

	assert_int_equal(cluster_store_ops.mark(a, "confirm", "abc123", 30), STORE_OK);
	assert_int_equal(cluster_store_ops.mark(b, "confirm", "abc123", 30), STORE_EMPTY);
	assert_int_equal(cluster_store_ops.marked(b, "confirm", "abc123"), STORE_OK);
	assert_int_equal(cluster_store_ops.marked(b, "session", "abc123"), STORE_EMPTY);
	assert_int_equal(cluster_store_ops.marked(a, "confirm", "other"), STORE_EMPTY);
	c = test_conn();
	assert_non_null(c);
	r = redisCommand(c, "TTL t5:m:confirm:abc123");
	assert_non_null(r);
	assert_true(r->type == REDIS_REPLY_INTEGER && r->integer > 0 && r->integer <= 30);
	freeReplyObject(r);
	redisFree(c);
	cluster_free(a);
	cluster_free(b);
}

/* ---- credentials and URLs ---------------------------------------------------- */

static void test_auth(void **state)
{
	(void)state;
	struct moat_err err = {0};
	struct cluster *c;
	redisContext *t;
	redisReply *r;

	c = store_with("t6", NULL, "not-the-password", NULL, &err);
	assert_null(c);
	assert_string_equal(err.rule, "cluster.auth");
	assert_null(strstr(err.msg, "not-the-password"));
	memset(&err, 0, sizeof(err));
	c = store_with("t6", NULL, NULL, NULL, &err); /* none: Redis asks for one */
	assert_null(c);
	assert_string_equal(err.rule, "cluster.auth");
	/* An ACL user. */
	t = test_conn();
	assert_non_null(t);
	r = redisCommand(t, "ACL SETUSER moatuser on >acl-pw-0042 ~t6:* +@all");
	assert_true(r && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	redisFree(t);
	c = store_with("t6", "moatuser", "acl-pw-0042", NULL, &err);
	assert_non_null(c);
	assert_int_equal(cluster_store_ops.mark(c, "confirm", "x", 5), STORE_OK);
	cluster_free(c);
	c = store_with("t6", "moatuser", PASSWORD, NULL, &err);
	assert_null(c);
	assert_string_equal(err.rule, "cluster.auth");
}

static const char *parse_rule(const char *url, const char *key, struct cluster_cfg *cc,
			      struct moat_err *err)
{
	json_t *sec = json_pack("{s:s, s:s}", "redis", url, "key", key);

	memset(err, 0, sizeof(*err));
	enum moat_rc rc = cluster_cfg_parse(sec, cc, err);
	json_decref(sec);
	cluster_cfg_wipe(cc);
	return rc == MOAT_OK ? "ok" : err->rule;
}

static void test_urls(void **state)
{
	(void)state;
	struct cluster_cfg cc;
	struct moat_err err;

	assert_string_equal(parse_rule("rediss://redis.internal:6380/0", KEY_HEX, &cc, &err),
			    "config.cluster_tls");
	assert_non_null(strstr(err.msg, "stunnel"));
	assert_string_equal(parse_rule("redis://:hunter2-pw@10.0.0.5:6379", KEY_HEX, &cc, &err),
			    "config.cluster_url_credentials");
	assert_null(strstr(err.msg, "hunter2"));
	assert_non_null(strstr(err.msg, "cluster.password"));
	assert_string_equal(parse_rule("redis://u:p@h", KEY_HEX, &cc, &err),
			    "config.cluster_url_credentials");
	assert_string_equal(parse_rule("http://h:6379", KEY_HEX, &cc, &err), "config.cluster_url");
	assert_string_equal(parse_rule("redis://h:0", KEY_HEX, &cc, &err), "config.cluster_url");
	assert_string_equal(parse_rule("redis://h:70000", KEY_HEX, &cc, &err), "config.cluster_url");
	assert_string_equal(parse_rule("redis://h/x", KEY_HEX, &cc, &err), "config.cluster_url");
	assert_string_equal(parse_rule("redis://h?db=1", KEY_HEX, &cc, &err), "config.cluster_url");
	assert_string_equal(parse_rule("redis://h", "short", &cc, &err), "config.cluster_key");
	assert_string_equal(parse_rule("redis://[::1]:7000/3", KEY_HEX, &cc, &err), "ok");
	assert_string_equal(cc.host, "::1");
	assert_int_equal(cc.port, 7000);
	assert_int_equal(cc.db, 3);
	assert_false(cc.host_is_name);
	assert_string_equal(parse_rule("redis://redis.internal", KEY_HEX, &cc, &err), "ok");
	assert_string_equal(cc.host, "redis.internal");
	assert_int_equal(cc.port, 6379);
	assert_int_equal(cc.db, 0);
	assert_true(cc.host_is_name);
	assert_int_equal(cc.pool, 4);
	assert_int_equal(cc.fallback, STORE_FALLBACK_AUTO);
	assert_string_equal(cc.prefix, "moat");
}

/* A database Redis does not have is refused at start-up. */
static void test_select(void **state)
{
	(void)state;
	struct moat_err err = {0};
	struct cluster *c;

	g_db = 100; /* Redis has 16 */
	c = store_with("t9", NULL, PASSWORD, NULL, &err);
	g_db = 0;
	assert_null(c);
	assert_string_equal(err.rule, "cluster.select");
	g_db = 3;
	c = store_with("t9", NULL, PASSWORD, NULL, &err);
	g_db = 0;
	assert_non_null(c);
	assert_int_equal(cluster_store_ops.mark(c, "confirm", "in-db-3", 30), STORE_OK);
	cluster_free(c);
	redisContext *t = test_conn();
	redisReply *r = redisCommand(t, "EXISTS t9:m:confirm:in-db-3");
	assert_true(r && r->type == REDIS_REPLY_INTEGER && r->integer == 0); /* not in db 0 */
	freeReplyObject(r);
	r = redisCommand(t, "SELECT 3");
	freeReplyObject(r);
	r = redisCommand(t, "EXISTS t9:m:confirm:in-db-3");
	assert_true(r && r->type == REDIS_REPLY_INTEGER && r->integer == 1);
	freeReplyObject(r);
	redisFree(t);
}

/* Scripts flushed from Redis: EVALSHA's NOSCRIPT is answered with EVAL. */
static void test_noscript(void **state)
{
	(void)state;
	struct cluster *a = store("t10");
	struct store_bucket bk = {.key = "global", .capacity = 2, .per_ms = 2.0 / 60000};
	redisContext *t = test_conn();
	redisReply *r;
	size_t which;
	uint64_t wait;

	assert_non_null(t);
	r = redisCommand(t, "SCRIPT FLUSH");
	assert_true(r && r->type == REDIS_REPLY_STATUS);
	freeReplyObject(r);
	assert_int_equal(take(a, &bk, 1, &which, &wait), STORE_OK);
	assert_int_equal(take(a, &bk, 1, &which, &wait), STORE_OK);
	assert_int_equal(take(a, &bk, 1, &which, &wait), STORE_EMPTY);
	assert_true(cluster_up(a));
	redisFree(t);
	cluster_free(a);
}

/* Every connection lent out: an operation waits timeout_ms for one, then
 * answers STORE_DOWN, without marking the store down. */
static void test_pool_busy(void **state)
{
	(void)state;
	struct moat_err err = {0};
	struct cluster *a = store_with("t11", NULL, PASSWORD, "\"pool\": 1", &err);
	struct cluster_slot *held;
	uint64_t t0, dt;

	assert_non_null(a);
	held = cluster_acquire(a);
	assert_non_null(held);
	t0 = now_ms();
	assert_int_equal(cluster_store_ops.marked(a, "confirm", "x"), STORE_DOWN);
	dt = now_ms() - t0;
	assert_true(dt >= 240 && dt < 1000);
	assert_true(cluster_up(a));
	cluster_release(a, held, false);
	assert_int_equal(cluster_store_ops.marked(a, "confirm", "x"), STORE_EMPTY);
	cluster_free(a);
}

/* The heartbeat counts the live replicas; one that leaves is not counted
 * at the next beat. */
static void test_replicas(void **state)
{
	(void)state;
	struct moat_err err = {0};
	struct cluster *a = store("t12"), *b = store("t12");
	unsigned n = 0;

	assert_int_equal(cluster_store_ops.replicas(b), 2);
	assert_true(cluster_store_ops.ready(b));
	assert_int_equal(cluster_start(b, &err), MOAT_OK);
	cluster_free(a); /* leaves PREFIX:replicas */
	for (uint64_t end = now_ms() + 4000; now_ms() < end; usleep(50000))
		if ((n = cluster_store_ops.replicas(b)) == 1)
			break;
	assert_int_equal(n, 1);
	cluster_free(b);
}

/* ---- Redis killed, and back ---------------------------------------------------- */

static void test_down_and_back(void **state)
{
	(void)state;
	struct moat_err err = {0};
	struct cluster *a = store("t7"), *b = store("t7");
	struct store_bucket bk = {.key = "global", .capacity = 3, .per_ms = 3.0 / 60000};
	struct token_bucket local;
	struct token_bucket *bs[1] = {&local};
	struct store_counters before, after;
	size_t which;
	uint64_t wait, t0, t_all, worst = 0;
	bool back = false;

	bucket_init(&local, 600);
	bucket_set_key(&local, "tool:read_query");
	cluster_install(a);
	assert_int_equal(cluster_start(a, &err), MOAT_OK);
	assert_int_equal(cluster_start(b, &err), MOAT_OK);
	assert_true(store_ready());
	assert_int_equal(limits_take(bs, 1, true, &which, &wait), LIMITS_OK);
	store_counters_get(&before);

	redis_kill();
	/* The first operation finds the connection broken; every one after
	 * answers at once. */
	t0 = now_ms();
	assert_int_equal(cluster_store_ops.mark(a, "confirm", "down", 5), STORE_DOWN);
	assert_true(now_ms() - t0 < 400);
	t_all = now_ms();
	for (int i = 0; i < 50; i++) {
		t0 = now_ms();
		assert_int_equal(take(a, &bk, 1, &which, &wait), STORE_DOWN);
		assert_int_equal(cluster_store_ops.marked(a, "confirm", "x"), STORE_DOWN);
		if (now_ms() - t0 > worst)
			worst = now_ms() - t0;
	}
	/* No waiting on the dead Redis: 100 operations in much less than
	 * one timeout_ms (250) each. */
	assert_true(worst < 100);
	assert_true(now_ms() - t_all < 250);
	assert_false(cluster_up(a));
	assert_false(store_ready());
	/* The fallback: auto serves a read-only call locally, refuses a write. */
	assert_int_equal(limits_take(bs, 1, false, &which, &wait), LIMITS_OK);
	assert_int_equal(limits_take(bs, 1, true, &which, &wait), LIMITS_STORE_DOWN);
	store_counters_get(&after);
	assert_true(after.fallbacks >= before.fallbacks + 1);
	assert_true(after.refusals >= before.refusals + 1);
	assert_true(after.errors > before.errors);

	/* Redis back on its port: both replicas reconnect by themselves. */
	redis_start();
	for (uint64_t end = now_ms() + 10000; now_ms() < end && !back; usleep(50000))
		back = cluster_up(a) && cluster_up(b);
	assert_true(back);
	assert_true(store_ready());
	int ok = 0;
	for (int i = 0; i < 8; i++)
		ok += take(i % 2 ? b : a, &bk, 1, &which, &wait) == STORE_OK;
	assert_int_equal(ok, 3); /* shared again */
	assert_int_equal(limits_take(bs, 1, true, &which, &wait), LIMITS_OK);
	cluster_free(a);
	cluster_free(b);
	bucket_destroy(&local);
}

/* ---- measured: connections per replica, the cost of one take ------------------ */

struct hammer {
	struct cluster *c;
	int n;
};

static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	struct store_bucket bk = {.key = "global", .capacity = 1e9, .per_ms = 1e6};
	size_t which;
	uint64_t wait;

	for (int i = 0; i < h->n; i++)
		take(h->c, &bk, 1, &which, &wait);
	return NULL;
}

/* Clients connected to Redis, less the test's own. */
static long clients_now(redisContext *t)
{
	redisReply *r = redisCommand(t, "CLIENT LIST");
	long n = 0;

	assert_true(r && r->type == REDIS_REPLY_STRING);
	for (const char *p = r->str; (p = strchr(p, '\n')); p++)
		n++;
	freeReplyObject(r);
	return n - 1;
}

static void test_measure(void **state)
{
	(void)state;
	struct cluster *a = store("t8");
	struct store_bucket bk = {.key = "global", .capacity = 1e9, .per_ms = 1e6};
	struct hammer h = {.c = a, .n = 2000};
	pthread_t th[8];
	redisContext *t = test_conn();
	size_t which;
	uint64_t wait, t0, t1;
	long conns;
	const int N = 2000;

	assert_non_null(t);
	uint64_t h0 = now_ms();
	for (int i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer_run, &h), 0);
	usleep(50000);
	conns = clients_now(t);
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	uint64_t h1 = now_ms();
	/* Eight threads at once share the pool: never more than its 4. */
	assert_true(conns >= 1 && conns <= 4);
	t0 = now_ms();
	for (int i = 0; i < N; i++)
		assert_int_equal(take(a, &bk, 1, &which, &wait), STORE_OK);
	t1 = now_ms();
	struct store_bucket three[3] = {bk, bk, bk};
	three[1].key = "principal:alice";
	three[2].key = "tool:read_query";
	uint64_t t2 = now_ms();
	for (int i = 0; i < N; i++)
		assert_int_equal(take(a, three, 3, &which, &wait), STORE_OK);
	uint64_t t3 = now_ms();
	fprintf(stderr, "test_cluster: one replica, 8 threads: %ld connections to Redis (pool 4), "
			"%.0f takes/s; one take, sequential: %.1f us (1 bucket), %.1f us (3 buckets)\n",
		conns, 8.0 * h.n * 1000.0 / (double)(h1 > h0 ? h1 - h0 : 1),
		(double)(t1 - t0) * 1000.0 / N, (double)(t3 - t2) * 1000.0 / N);
	redisFree(t);
	cluster_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_take_shared),
		cmocka_unit_test(test_all_or_none),
		cmocka_unit_test(test_wait),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_noscript),
		cmocka_unit_test(test_pool_busy),
		cmocka_unit_test(test_replicas),
		cmocka_unit_test(test_measure),
		cmocka_unit_test(test_down_and_back),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
