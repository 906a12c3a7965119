/*
 * test_store.c - unit tests for src/core/store.c: limits_take without a
 * store and through a store (one take per call, all or none, which bucket
 * and how long), the fallback policies while the store is down (auto,
 * local, refuse; a replica's scaled share), one-time marks, and the shared
 * cache's sealing (the store never sees the plaintext; a tampered entry,
 * or another principal's, is a miss).
 *
 * The store here is an in-process double of struct store_ops (the cluster
 * helper's tests drive the real Redis one): a handful of named buckets, a
 * small table of cache entries and marks, and switches to make it answer
 * STORE_DOWN or tamper with what it holds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seal.h"
#include "store.h"

/* ---- the double ----------------------------------------------------------- */

#define DBL_MAX 16

static struct dbl {
	bool down;
	unsigned replicas;
	unsigned takes;             /* calls of take */
	size_t last_n;              /* buckets in the last take */
	char last_keys[DBL_MAX][112];
	struct {
		char key[112];
		double tokens;
	} b[DBL_MAX];
	size_t nb;
	struct {
		char ns[64], name[72];
		char *val;
		size_t len;
	} c[DBL_MAX];
	size_t nc;
	char marks[DBL_MAX][128];
	size_t nm;
} d;

static double *dbl_tokens(const struct store_bucket *sb)
{
	for (size_t i = 0; i < d.nb; i++)
		if (strcmp(d.b[i].key, sb->key) == 0)
			return &d.b[i].tokens;
	assert_true(d.nb < DBL_MAX);
	snprintf(d.b[d.nb].key, sizeof(d.b[d.nb].key), "%s", sb->key);
	d.b[d.nb].tokens = sb->capacity; /* a new bucket starts full */
	return &d.b[d.nb++].tokens;
}

static enum store_rc dbl_take(void *ctx, const struct store_bucket *b, size_t n, size_t *which,
			      uint64_t *wait_ms)
{
	(void)ctx;
	d.takes++;
	d.last_n = n;
	for (size_t i = 0; i < n && i < DBL_MAX; i++)
		snprintf(d.last_keys[i], sizeof(d.last_keys[i]), "%s", b[i].key);
	if (d.down)
		return STORE_DOWN;
	for (size_t i = 0; i < n; i++) /* all or none: look first */
		if (*dbl_tokens(&b[i]) < 1.0) {
			*which = i;
			*wait_ms = 1234;
			return STORE_EMPTY;
		}
	for (size_t i = 0; i < n; i++)
		*dbl_tokens(&b[i]) -= 1.0;
	return STORE_OK;
}

static long dbl_find(const char *ns, const char *name)
{
	for (size_t i = 0; i < d.nc; i++)
		if (d.c[i].val && strcmp(d.c[i].ns, ns) == 0 && strcmp(d.c[i].name, name) == 0)
			return (long)i;
	return -1;
}

static enum store_rc dbl_cache_get(void *ctx, const char *ns, const char *name, char **val,
				   size_t *len)
{
	long i;

	(void)ctx;
	if (d.down)
		return STORE_DOWN;
	if ((i = dbl_find(ns, name)) < 0)
		return STORE_EMPTY;
	*val = malloc(d.c[i].len + 1);
	assert_non_null(*val);
	memcpy(*val, d.c[i].val, d.c[i].len + 1);
	*len = d.c[i].len;
	return STORE_OK;
}

static enum store_rc dbl_cache_put(void *ctx, const char *ns, const char *name, const char *val,
				   size_t len, uint64_t ttl_ms)
{
	long i;

	(void)ctx;
	assert_true(ttl_ms > 0);
	if (d.down)
		return STORE_DOWN;
	if ((i = dbl_find(ns, name)) < 0) {
		assert_true(d.nc < DBL_MAX);
		i = (long)d.nc++;
	}
	free(d.c[i].val);
	snprintf(d.c[i].ns, sizeof(d.c[i].ns), "%s", ns);
	snprintf(d.c[i].name, sizeof(d.c[i].name), "%s", name);
	d.c[i].val = malloc(len + 1);
	assert_non_null(d.c[i].val);
	memcpy(d.c[i].val, val, len);
	d.c[i].val[len] = '\0';
	d.c[i].len = len;
	return STORE_OK;
}

static enum store_rc dbl_cache_clear(void *ctx, const char *ns)
{
	(void)ctx;
	if (d.down)
		return STORE_DOWN;
	for (size_t i = 0; i < d.nc; i++)
		if (d.c[i].val && strcmp(d.c[i].ns, ns) == 0) {
			free(d.c[i].val);
			d.c[i].val = NULL;
		}
	return STORE_OK;
}

static enum store_rc dbl_mark(void *ctx, const char *kind, const char *id, uint32_t ttl_s)
{
	char full[128];

	(void)ctx;
	(void)ttl_s;
	if (d.down)
		return STORE_DOWN;
	snprintf(full, sizeof(full), "%s:%s", kind, id);
	for (size_t i = 0; i < d.nm; i++)
		if (strcmp(d.marks[i], full) == 0)
			return STORE_EMPTY;
	assert_true(d.nm < DBL_MAX);
	memcpy(d.marks[d.nm++], full, sizeof(full));
	return STORE_OK;
}

static enum store_rc dbl_marked(void *ctx, const char *kind, const char *id)
{
	char full[128];

	(void)ctx;
	if (d.down)
		return STORE_DOWN;
	snprintf(full, sizeof(full), "%s:%s", kind, id);
	for (size_t i = 0; i < d.nm; i++)
		if (strcmp(d.marks[i], full) == 0)
			return STORE_OK;
	return STORE_EMPTY;
}

static unsigned dbl_replicas(void *ctx)
{
	(void)ctx;
	return d.replicas;
}

static bool dbl_ready(void *ctx)
{
	(void)ctx;
	return !d.down;
}

static const struct store_ops dbl_ops = {
	.take = dbl_take,
	.cache_get = dbl_cache_get,
	.cache_put = dbl_cache_put,
	.cache_clear = dbl_cache_clear,
	.mark = dbl_mark,
	.marked = dbl_marked,
	.replicas = dbl_replicas,
	.ready = dbl_ready,
};

static void dbl_reset(void)
{
	for (size_t i = 0; i < d.nc; i++)
		free(d.c[i].val);
	memset(&d, 0, sizeof(d));
	d.replicas = 1;
}

static int setup(void **state)
{
	uint8_t key[SEAL_KEY_BYTES];
	struct moat_err err = {0};

	(void)state;
	memset(key, 0x5a, sizeof(key));
	assert_int_equal(seal_configure(key, 0, &err), MOAT_OK);
	dbl_reset();
	store_install(NULL, NULL, STORE_FALLBACK_AUTO);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_install(NULL, NULL, STORE_FALLBACK_AUTO);
	dbl_reset();
	return 0;
}

/* A bucket of burst tokens refilled at one a minute: a test's few
 * milliseconds refill nothing. */
static void mkbucket(struct token_bucket *b, uint32_t burst, const char *key)
{
	bucket_init_burst(b, 1, burst);
	if (key)
		bucket_set_key(b, "%s", key);
}

/* ---- without a store ------------------------------------------------------ */

static void test_local_all_or_none(void **state)
{
	struct token_bucket p, g, t;
	size_t which = 99;
	uint64_t wait = 0;

	(void)state;
	mkbucket(&p, 3, "principal:alice");
	mkbucket(&g, 10, "global");
	mkbucket(&t, 1, "tool:echo");
	struct token_bucket *const bs[3] = {&p, &g, &t};

	assert_false(store_active());
	assert_int_equal(limits_take(bs, 3, true, &which, &wait), LIMITS_OK);
	assert_int_equal(limits_take(bs, 3, true, &which, &wait), LIMITS_EMPTY);
	assert_int_equal(which, 2);
	assert_true(wait > 0);
	/* The refused call took nothing: the principal still has 2 tokens
	 * (3 - the first call), not 1. */
	struct token_bucket *const only_p[1] = {&p};
	assert_int_equal(limits_take(only_p, 1, false, &which, NULL), LIMITS_OK);
	assert_int_equal(limits_take(only_p, 1, false, &which, NULL), LIMITS_OK);
	assert_int_equal(limits_take(only_p, 1, false, &which, NULL), LIMITS_EMPTY);
	assert_int_equal(which, 0);
	bucket_destroy(&p);
	bucket_destroy(&g);
	bucket_destroy(&t);
}

static void test_local_null_and_unlimited(void **state)
{
	struct token_bucket g, t;
	size_t which = 99;

	(void)state;
	bucket_init(&g, 0); /* unlimited */
	mkbucket(&t, 2, NULL);
	struct token_bucket *const bs[3] = {NULL, &g, &t};

	for (int i = 0; i < 2; i++)
		assert_int_equal(limits_take(bs, 3, false, &which, NULL), LIMITS_OK);
	assert_int_equal(limits_take(bs, 3, false, &which, NULL), LIMITS_EMPTY);
	assert_int_equal(which, 2);
	bucket_destroy(&g);
	bucket_destroy(&t);
}

/* ---- through a store ------------------------------------------------------ */

static void test_store_one_take(void **state)
{
	struct token_bucket p, g, t;
	size_t which = 99;
	uint64_t wait = 0;

	(void)state;
	mkbucket(&p, 5, "principal:alice");
	mkbucket(&g, 5, "global");
	mkbucket(&t, 2, "tool:echo");
	struct token_bucket *const bs[4] = {NULL, &p, &g, &t};

	store_install(&dbl_ops, NULL, STORE_FALLBACK_AUTO);
	assert_true(store_active());
	assert_int_equal(limits_take(bs, 4, true, &which, &wait), LIMITS_OK);
	assert_int_equal(d.takes, 1); /* one round trip for the three */
	assert_int_equal(d.last_n, 3);
	assert_string_equal(d.last_keys[0], "principal:alice");
	assert_string_equal(d.last_keys[1], "global");
	assert_string_equal(d.last_keys[2], "tool:echo");
	assert_int_equal(limits_take(bs, 4, true, &which, &wait), LIMITS_OK);
	/* The tool's bucket in the store is empty: which is its index in bs
	 * (3, past the NULL), the wait the store's, in ns. */
	assert_int_equal(limits_take(bs, 4, true, &which, &wait), LIMITS_EMPTY);
	assert_int_equal(which, 3);
	assert_int_equal(wait, 1234u * 1000000u);
	assert_int_equal(d.takes, 3);
	/* All or none: the refused call left the others at 5 - 2 = 3. */
	for (size_t i = 0; i < d.nb; i++)
		if (strcmp(d.b[i].key, "tool:echo") != 0)
			assert_true(d.b[i].tokens == 3.0);
	/* The process's own copies were not touched while the store answers. */
	struct token_bucket *const only_t[1] = {&t};
	store_install(NULL, NULL, STORE_FALLBACK_AUTO);
	assert_int_equal(limits_take(only_t, 1, true, &which, NULL), LIMITS_OK);
	assert_int_equal(limits_take(only_t, 1, true, &which, NULL), LIMITS_OK);
	assert_int_equal(limits_take(only_t, 1, true, &which, NULL), LIMITS_EMPTY);
	bucket_destroy(&p);
	bucket_destroy(&g);
	bucket_destroy(&t);
}

static void test_store_with_local_bucket(void **state)
{
	struct token_bucket l, g;
	size_t which = 99;

	(void)state;
	mkbucket(&l, 5, NULL); /* no key: this process's only */
	mkbucket(&g, 1, "global");
	struct token_bucket *const bs[2] = {&l, &g};
	struct token_bucket *const only_l[1] = {&l};

	store_install(&dbl_ops, NULL, STORE_FALLBACK_AUTO);
	assert_int_equal(limits_take(bs, 2, false, &which, NULL), LIMITS_OK);
	assert_int_equal(d.last_n, 1); /* only the keyed one went to the store */
	assert_int_equal(limits_take(bs, 2, false, &which, NULL), LIMITS_EMPTY);
	assert_int_equal(which, 1);
	/* The local bucket gave its token back: 5 - 1 = 4 left. */
	for (int i = 0; i < 4; i++)
		assert_int_equal(limits_take(only_l, 1, false, &which, NULL), LIMITS_OK);
	assert_int_equal(limits_take(only_l, 1, false, &which, NULL), LIMITS_EMPTY);
	assert_int_equal(d.takes, 2); /* a bucket without a key never goes to the store */
	bucket_destroy(&l);
	bucket_destroy(&g);
}

/* ---- the store is down ---------------------------------------------------- */

static void test_fallback_auto(void **state)
{
	struct token_bucket g;
	struct store_counters c0, c1;
	size_t which = 99;

	(void)state;
	mkbucket(&g, 5, "global");
	struct token_bucket *const bs[1] = {&g};

	store_install(&dbl_ops, NULL, STORE_FALLBACK_AUTO);
	d.down = true;
	store_counters_get(&c0);
	assert_int_equal(limits_take(bs, 1, true, &which, NULL), LIMITS_STORE_DOWN);
	assert_int_equal(limits_take(bs, 1, false, &which, NULL), LIMITS_OK);
	store_counters_get(&c1);
	assert_int_equal(c1.refusals - c0.refusals, 1);
	assert_int_equal(c1.fallbacks - c0.fallbacks, 1);
	assert_non_null(strstr(limits_store_down_message(true), "\"auto\""));
	assert_non_null(strstr(limits_store_down_message(true), "retry later"));
	assert_non_null(strstr(limits_store_down_message(false),
			       "cluster.on_store_failure is \"refuse\""));
	assert_false(store_ready());
	bucket_destroy(&g);
}

static void test_fallback_local(void **state)
{
	struct token_bucket g;
	size_t which = 99;

	(void)state;
	mkbucket(&g, 5, "global");
	struct token_bucket *const bs[1] = {&g};

	store_install(&dbl_ops, NULL, STORE_FALLBACK_LOCAL);
	d.down = true;
	assert_int_equal(limits_take(bs, 1, true, &which, NULL), LIMITS_OK);
	assert_int_equal(limits_take(bs, 1, false, &which, NULL), LIMITS_OK);
	bucket_destroy(&g);
}

static void test_fallback_refuse(void **state)
{
	struct token_bucket g;
	size_t which = 99;

	(void)state;
	mkbucket(&g, 5, "global");
	struct token_bucket *const bs[1] = {&g};

	store_install(&dbl_ops, NULL, STORE_FALLBACK_REFUSE);
	d.down = true;
	assert_int_equal(limits_take(bs, 1, true, &which, NULL), LIMITS_STORE_DOWN);
	assert_int_equal(limits_take(bs, 1, false, &which, NULL), LIMITS_STORE_DOWN);
	assert_non_null(strstr(limits_store_down_message(true), "\"refuse\""));
	/* The store answers again: the call goes through. */
	d.down = false;
	assert_int_equal(limits_take(bs, 1, true, &which, NULL), LIMITS_OK);
	bucket_destroy(&g);
}

static void test_fallback_scaled_share(void **state)
{
	struct token_bucket t, l;
	size_t which = 99;
	int n = 0;

	(void)state;
	mkbucket(&t, 60, "tool:echo");
	mkbucket(&l, 100, NULL);
	struct token_bucket *const bs[2] = {&l, &t};

	store_install(&dbl_ops, NULL, STORE_FALLBACK_LOCAL);
	d.down = true;
	d.replicas = 3;
	assert_int_equal(store_replicas(), 3);
	while (limits_take(bs, 2, false, &which, NULL) == LIMITS_OK && n < 1000)
		n++;
	assert_int_equal(n, 20); /* 60 / 3 */
	assert_int_equal(which, 1);
	/* The local-only bucket is not scaled, and gave back the refused
	 * call's token: 100 - 20 left. */
	struct token_bucket *const only_l[1] = {&l};
	n = 0;
	while (limits_take(only_l, 1, false, &which, NULL) == LIMITS_OK && n < 1000)
		n++;
	assert_int_equal(n, 80);
	bucket_destroy(&t);
	bucket_destroy(&l);
}

/* ---- keys ----------------------------------------------------------------- */

static void test_long_key(void **state)
{
	struct token_bucket a, b;
	char name[140];

	(void)state;
	bucket_init(&a, 10);
	bucket_init(&b, 10);
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	bucket_set_key(&a, "principal:%s", name);
	name[sizeof(name) - 2] = 'y'; /* differs past the cut */
	bucket_set_key(&b, "principal:%s", name);
	assert_int_equal(strlen(a.key), sizeof(a.key) - 1);
	assert_string_not_equal(a.key, b.key);
	assert_memory_equal(a.key, "principal:xxx", 13);
	bucket_set_key(&a, "tool:%s", "echo");
	assert_string_equal(a.key, "tool:echo");
	bucket_destroy(&a);
	bucket_destroy(&b);
}

/* ---- marks ---------------------------------------------------------------- */

static void test_marks(void **state)
{
	(void)state;
	/* Without a store: this process. */
	assert_int_equal(store_mark("confirm", "m-local", 60), STORE_OK);
	assert_int_equal(store_mark("confirm", "m-local", 60), STORE_EMPTY);
	assert_int_equal(store_marked("confirm", "m-local"), STORE_OK);
	assert_int_equal(store_marked("session", "m-local"), STORE_EMPTY);

	store_install(&dbl_ops, NULL, STORE_FALLBACK_AUTO);
	assert_int_equal(store_mark("confirm", "m-1", 60), STORE_OK);
	assert_int_equal(d.nm, 1);
	assert_int_equal(store_mark("confirm", "m-1", 60), STORE_EMPTY);
	/* Marked by another replica (in the store only). */
	snprintf(d.marks[d.nm++], sizeof(d.marks[0]), "session:m-2");
	assert_int_equal(store_marked("session", "m-2"), STORE_OK);
	assert_int_equal(store_mark("session", "m-2", 60), STORE_EMPTY);
	/* Down: a mark cannot be made, but this replica's own still count. */
	d.down = true;
	assert_int_equal(store_mark("confirm", "m-3", 60), STORE_DOWN);
	assert_int_equal(store_marked("confirm", "m-3"), STORE_DOWN);
	assert_int_equal(store_mark("confirm", "m-1", 60), STORE_EMPTY);
	assert_int_equal(store_marked("confirm", "m-1"), STORE_OK);
}

/* ---- the shared cache ----------------------------------------------------- */

#define CANARY "canary-7f3a-plaintext"

static json_t *cache_value(void)
{
	return json_pack("{s:i, s:s, s:s}", "status", 200, "content_type", "application/json",
			 "body", "{\"secret\":\"" CANARY "\"}");
}

static void test_cache_sealed(void **state)
{
	json_t *v = cache_value(), *got = NULL;
	const char *key = "GET https://api.example/v1/items?q=" CANARY;

	(void)state;
	assert_int_equal(store_cache_put("weather", NULL, key, v, 60000), STORE_DOWN); /* no store */
	store_install(&dbl_ops, NULL, STORE_FALLBACK_AUTO);
	assert_int_equal(store_cache_get("weather", NULL, key, &got), STORE_EMPTY);
	assert_int_equal(store_cache_put("weather", NULL, key, v, 60000), STORE_OK);
	assert_int_equal(d.nc, 1);
	/* What the store holds says nothing: no canary in the value or the
	 * name, and the name is not the key. */
	assert_null(strstr(d.c[0].val, CANARY));
	assert_null(strstr(d.c[0].val, "secret"));
	assert_null(strstr(d.c[0].name, "example"));
	assert_int_equal(strlen(d.c[0].name), 64);
	assert_string_equal(d.c[0].ns, "weather");
	assert_int_equal(store_cache_get("weather", NULL, key, &got), STORE_OK);
	assert_true(json_equal(got, v));
	json_decref(got);
	got = NULL;
	/* Another key, another API: misses. */
	assert_int_equal(store_cache_get("weather", NULL, "GET https://api.example/v1/other",
					 &got), STORE_EMPTY);
	assert_int_equal(store_cache_get("news", NULL, key, &got), STORE_EMPTY);
	/* Tampered in the store: a miss, not an error and not the value. */
	d.c[0].val[d.c[0].len / 2] ^= 0x01;
	assert_int_equal(store_cache_get("weather", NULL, key, &got), STORE_EMPTY);
	assert_null(got);
	/* Cleared: a miss. */
	assert_int_equal(store_cache_put("weather", NULL, key, v, 60000), STORE_OK);
	assert_int_equal(store_cache_clear("weather"), STORE_OK);
	assert_int_equal(store_cache_get("weather", NULL, key, &got), STORE_EMPTY);
	/* Down: the caller falls back to its own cache. */
	d.down = true;
	assert_int_equal(store_cache_get("weather", NULL, key, &got), STORE_DOWN);
	assert_int_equal(store_cache_put("weather", NULL, key, v, 60000), STORE_DOWN);
	json_decref(v);
}

static void test_cache_principal_bound(void **state)
{
	json_t *v = cache_value(), *got = NULL;
	const char *key = "GET https://api.example/v1/me";
	struct store_counters c0, c1;
	long alice;

	(void)state;
	store_install(&dbl_ops, NULL, STORE_FALLBACK_AUTO);
	assert_int_equal(store_cache_put("crm", "alice", key, v, 60000), STORE_OK);
	assert_int_equal(store_cache_get("crm", "alice", key, &got), STORE_OK);
	json_decref(got);
	got = NULL;
	/* Bob's name for the entry differs: a miss. */
	assert_int_equal(store_cache_get("crm", "bob", key, &got), STORE_EMPTY);
	assert_int_equal(store_cache_get("crm", NULL, key, &got), STORE_EMPTY);
	/* Alice's sealed value copied under Bob's name (a store that mixes
	 * entries up, or someone with write access to it) does not open. */
	alice = (long)d.nc - 1;
	store_counters_get(&c0);
	assert_int_equal(store_cache_put("crm", "bob", key, v, 60000), STORE_OK);
	assert_true(d.nc == 2);
	free(d.c[1].val);
	d.c[1].val = strdup(d.c[alice].val);
	d.c[1].len = d.c[alice].len;
	assert_int_equal(store_cache_get("crm", "bob", key, &got), STORE_EMPTY);
	assert_null(got);
	store_counters_get(&c1);
	assert_int_equal(c1.cache_misses - c0.cache_misses, 1);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_local_all_or_none, setup, teardown),
		cmocka_unit_test_setup_teardown(test_local_null_and_unlimited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_one_take, setup, teardown),
		cmocka_unit_test_setup_teardown(test_store_with_local_bucket, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_auto, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_local, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_refuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_scaled_share, setup, teardown),
		cmocka_unit_test_setup_teardown(test_long_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_marks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_sealed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_principal_bound, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
