/*
 * test_sql_pg_cache.c - unit tests of the PostgreSQL plan-check cache
 * (src/providers/sql/sql_pg_cache.c): the key holds the statement, each
 * param's type, format, NULL-ness and value (values that differ, a NULL
 * and an empty string, a split between params, all give different keys);
 * keys too large are refused; get copies what put stored; the cache never
 * holds more than its bound and evicts the least recently used; drop and
 * replace; and four threads hammering one small cache (run under ASan and
 * UBSan in build-asan) never see an entry of another key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pthread.h>

#include <cmocka.h>

#include "sql/sql_pg.h"

/* A key for sql with n text params (NULL entries are SQL NULL). */
static bool key_of(const char *sql, int n, const char *const *vals, const Oid *types,
		   struct sqlpg_cache_key *k)
{
	char *values[8] = {0};
	int lengths[8] = {0}, formats[8] = {0};
	Oid ty[8] = {0};
	struct sqlpg_params pp = {.n = n, .values = values, .lengths = lengths, .formats = formats,
				  .types = ty};

	for (int i = 0; i < n; i++) {
		values[i] = (char *)vals[i];
		lengths[i] = vals[i] ? (int)strlen(vals[i]) : 0;
		ty[i] = types ? types[i] : 0;
	}
	return sqlpg_cache_key(sql, strlen(sql), n ? &pp : NULL, k);
}

static bool same_key(const struct sqlpg_cache_key *a, const struct sqlpg_cache_key *b)
{
	return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

static void test_keys(void **state)
{
	struct sqlpg_cache_key k[10];
	const char *zero[] = {"0"}, *one[] = {"1"}, *null[] = {NULL}, *empty[] = {""};
	const char *ab_c[] = {"ab", "c"}, *a_bc[] = {"a", "bc"};
	const Oid int4[] = {23}, text[] = {25};

	(void)state;
	assert_true(key_of("SELECT $1", 1, zero, NULL, &k[0]));
	assert_true(key_of("SELECT $1", 1, one, NULL, &k[1]));
	assert_true(key_of("SELECT $1", 1, null, NULL, &k[2]));
	assert_true(key_of("SELECT $1", 1, empty, NULL, &k[3]));
	assert_true(key_of("SELECT $1, $2", 2, ab_c, NULL, &k[4]));
	assert_true(key_of("SELECT $1, $2", 2, a_bc, NULL, &k[5]));
	assert_true(key_of("SELECT $1", 1, zero, int4, &k[6]));
	assert_true(key_of("SELECT $1", 1, zero, text, &k[7]));
	assert_true(key_of("SELECT $1 ", 1, zero, NULL, &k[8]));
	assert_true(key_of("SELECT $1", 1, zero, NULL, &k[9]));
	for (int i = 0; i < 9; i++)
		for (int j = i + 1; j < 9; j++)
			assert_false(same_key(&k[i], &k[j]));
	assert_true(same_key(&k[0], &k[9]));
	assert_int_equal(k[0].hash, k[9].hash);
	for (int i = 0; i < 10; i++)
		sqlpg_cache_key_free(&k[i]);
}

static void test_key_bounds(void **state)
{
	char *big = malloc(SQLPG_CACHE_KEY_MAX + 2);
	const char *vals[1];
	struct sqlpg_cache_key k;

	(void)state;
	memset(big, 'x', SQLPG_CACHE_KEY_MAX + 1);
	big[SQLPG_CACHE_KEY_MAX + 1] = '\0';
	assert_false(key_of(big, 0, NULL, NULL, &k));
	assert_null(k.bytes);
	/* a small statement with a large value is not cached either */
	big[SQLPG_CACHE_KEY_MAX - 8] = '\0';
	vals[0] = big;
	assert_false(key_of("SELECT $1", 1, vals, NULL, &k));
	/* just under the bound is */
	big[100] = '\0';
	assert_true(key_of("SELECT $1", 1, vals, NULL, &k));
	sqlpg_cache_key_free(&k);
	free(big);
}

static void put_str(struct sqlpg_cache *c, const char *sql, const char *snap, bool confirmed)
{
	struct sqlpg_cache_key k;

	assert_true(key_of(sql, 0, NULL, NULL, &k));
	sqlpg_cache_put(c, &k, snap, "book\0shop2.t\0", 13, confirmed, false);
	sqlpg_cache_key_free(&k);
}

static bool get_str(struct sqlpg_cache *c, const char *sql, struct sqlpg_cache_val *v)
{
	struct sqlpg_cache_key k;
	bool found;

	assert_true(key_of(sql, 0, NULL, NULL, &k));
	found = sqlpg_cache_get(c, &k, v);
	sqlpg_cache_key_free(&k);
	return found;
}

static void test_put_get(void **state)
{
	struct sqlpg_cache *c = sqlpg_cache_new(4);
	struct sqlpg_cache_val v;
	struct sqlpg_cache_key k;

	(void)state;
	assert_null(sqlpg_cache_new(0)); /* 0: no cache */
	assert_non_null(c);
	assert_false(get_str(c, "SELECT 1", &v));
	assert_null(v.snap);
	put_str(c, "SELECT 1", "10:12:11", true);
	assert_true(get_str(c, "SELECT 1", &v));
	assert_string_equal(v.snap, "10:12:11");
	assert_int_equal(v.rels_len, 13);
	assert_memory_equal(v.rels, "book\0shop2.t\0", 13);
	assert_true(v.confirmed);
	assert_false(v.nohit);
	sqlpg_cache_val_free(&v);
	/* replaced, not added */
	put_str(c, "SELECT 1", "10:13:", false);
	assert_int_equal(sqlpg_cache_count(c), 1);
	assert_true(get_str(c, "SELECT 1", &v));
	assert_string_equal(v.snap, "10:13:");
	assert_false(v.confirmed);
	sqlpg_cache_val_free(&v);
	/* nohit is never confirmed */
	assert_true(key_of("SELECT 1", 0, NULL, NULL, &k));
	sqlpg_cache_put(c, &k, "10:13:", "", 0, true, true);
	assert_true(sqlpg_cache_get(c, &k, &v));
	assert_false(v.confirmed);
	assert_true(v.nohit);
	assert_int_equal(v.rels_len, 0);
	sqlpg_cache_val_free(&v);
	/* a snapshot too large is not stored (the old entry is kept) */
	{
		char *snap = malloc(SQLPG_CACHE_SNAP_MAX + 2);
		memset(snap, '1', SQLPG_CACHE_SNAP_MAX + 1);
		snap[SQLPG_CACHE_SNAP_MAX + 1] = '\0';
		sqlpg_cache_put(c, &k, snap, "", 0, true, false);
		free(snap);
		assert_true(sqlpg_cache_get(c, &k, &v));
		assert_string_equal(v.snap, "10:13:");
		sqlpg_cache_val_free(&v);
	}
	sqlpg_cache_drop(c, &k);
	assert_false(sqlpg_cache_get(c, &k, &v));
	assert_int_equal(sqlpg_cache_count(c), 0);
	sqlpg_cache_drop(c, &k); /* absent: nothing */
	sqlpg_cache_key_free(&k);
	sqlpg_cache_free(c);
	sqlpg_cache_free(NULL);
}

static void test_lru(void **state)
{
	struct sqlpg_cache *c = sqlpg_cache_new(3);
	struct sqlpg_cache_val v;
	char sql[32];

	(void)state;
	put_str(c, "q0", "s", true);
	put_str(c, "q1", "s", true);
	put_str(c, "q2", "s", true);
	assert_true(get_str(c, "q0", &v)); /* q0 used: q1 is now the oldest */
	sqlpg_cache_val_free(&v);
	put_str(c, "q3", "s", true);
	assert_int_equal(sqlpg_cache_count(c), 3);
	assert_false(get_str(c, "q1", &v));
	assert_true(get_str(c, "q0", &v));
	sqlpg_cache_val_free(&v);
	assert_true(get_str(c, "q2", &v));
	sqlpg_cache_val_free(&v);
	assert_true(get_str(c, "q3", &v));
	sqlpg_cache_val_free(&v);
	/* many more: never above the bound, the last three kept */
	for (int i = 0; i < 1000; i++) {
		snprintf(sql, sizeof(sql), "SELECT %d", i);
		put_str(c, sql, "s", true);
		assert_true(sqlpg_cache_count(c) <= 3);
	}
	for (int i = 0; i < 1000; i++) {
		snprintf(sql, sizeof(sql), "SELECT %d", i);
		assert_int_equal(get_str(c, sql, &v), i >= 997);
		sqlpg_cache_val_free(&v);
	}
	sqlpg_cache_free(c);
}

/* Threads: each puts and gets its own keys (the snapshot names the key)
 * and drops now and then, on a cache far smaller than the keys. */
static struct sqlpg_cache *shared;

static void *hammer(void *arg)
{
	int t = (int)(intptr_t)arg;
	char sql[48], snap[48];
	struct sqlpg_cache_val v;

	for (int i = 0; i < 20000; i++) {
		struct sqlpg_cache_key k;
		int n = (i * 7 + t) % 64;
		snprintf(sql, sizeof(sql), "SELECT %d FROM t%d", n, t);
		snprintf(snap, sizeof(snap), "%d:%d:", t, n);
		if (!key_of(sql, 0, NULL, NULL, &k))
			abort();
		if (i % 3 == 0)
			sqlpg_cache_put(shared, &k, snap, "r\0", 2, true, false);
		else if (i % 11 == 0)
			sqlpg_cache_drop(shared, &k);
		else if (sqlpg_cache_get(shared, &k, &v)) {
			if (strcmp(v.snap, snap) != 0 || v.rels_len != 2)
				abort(); /* another key's entry */
			sqlpg_cache_val_free(&v);
		}
		sqlpg_cache_key_free(&k);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t th[4];

	(void)state;
	shared = sqlpg_cache_new(16);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, (void *)(intptr_t)i), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	assert_true(sqlpg_cache_count(shared) <= 16);
	sqlpg_cache_free(shared);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_key_bounds),
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_lru),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
