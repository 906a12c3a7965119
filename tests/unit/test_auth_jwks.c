/*
 * test_auth_jwks.c - unit tests for src/auth/'s JWKS from a URL, served by
 * a fetcher hook (auth_set_fetcher; no network): the start-up fetch (a
 * failure stops the start; plain http is refused), a refetch on an
 * unknown kid at most once every 30 s, a cached token checked again once
 * the set changed (a withdrawn key stops working), jwks_max_age_s, and
 * checks from four threads while one of them swaps a refetched set in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

#include <cmocka.h>

#include "auth_mint.h"

static struct mint_key rsa, stranger;
static long now_s;

#define ISS "https://idp.example"
#define AUD "https://mcp.example:8765/mcp"
#define expect_raw mint_expect

static int group_setup(void **state)
{
	(void)state;
	mint_key_make(&rsa, MINT_RSA, "r1");
	mint_key_make(&stranger, MINT_RSA, "r-unknown");
	now_s = (long)time(NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	mint_key_free(&rsa);
	mint_key_free(&stranger);
	return 0;
}

static char *good_payload(void)
{
	char *s = NULL;

	if (asprintf(&s, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"alice\","
			 "\"exp\":%ld,\"scope\":\"s\"}", now_s + 300) < 0)
		abort();
	return s;
}

static char *served;
static int fetches;

static enum moat_rc fake_fetch(const char *url, char **body, size_t *len, struct moat_err *err)
{
	(void)url;
	fetches++;
	if (!served)
		return moat_err_set(err, MOAT_EUPSTREAM, "down (test)");
	*body = strdup(served);
	*len = strlen(served);
	return MOAT_OK;
}

static void test_refresh(void **state)
{
	struct mint_key *first[] = {&rsa}, *both[] = {&rsa, &stranger};
	struct moat_err err = {0};
	struct auth *a;
	char *pay = good_payload(), *t, *b;

	(void)state;
	auth_set_fetcher(fake_fetch);
	served = mint_jwks(first, 1);
	fetches = 0;
	a = mint_auth("{\"oauth\": {\"issuer\": \"" ISS "\", \"jwks_url\": "
		      "\"https://idp.example/jwks\", \"scopes\": {\"s\": [\"*\"]}, "
		      "\"algorithms\": [\"RS256\"]}}", &err);
	assert_non_null(a);
	assert_int_equal(fetches, 1);
	/* The key rotated in: the first unknown kid fetches again. */
	free(served);
	served = mint_jwks(both, 2);
	free(pay);
	pay = NULL;
	assert_true(asprintf(&pay, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
				   "\"exp\":%ld,\"scope\":\"s\"}", now_s + 300) > 0);
	t = mint_token(&stranger, "{\"alg\":\"RS256\",\"kid\":\"r-unknown\"}", pay, NULL, 0);
	b = mint_bearer(t);
	expect_raw(a, b, 0, NULL, NULL);
	assert_int_equal(fetches, 2);
	/* A token cached under the first key set is checked again once the
	 * set changed: its key is gone, so it is refused now. */
	{
		char *old_tok = mint_token(&rsa, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", pay, NULL, 0);
		char *ob = mint_bearer(old_tok);
		struct mint_key *only[] = {&stranger};
		struct auth *a2;
		unsigned long hits;
		free(served);
		served = mint_jwks(first, 1);
		a2 = mint_auth("{\"oauth\": {\"issuer\": \"" ISS "\", \"jwks_url\": "
			       "\"https://idp.example/jwks\", \"scopes\": {\"s\": [\"*\"]}, "
			       "\"algorithms\": [\"RS256\"]}}", &err);
		assert_non_null(a2);
		expect_raw(a2, ob, 0, NULL, NULL);
		hits = auth_jwt_cache_hits(a2);
		expect_raw(a2, ob, 0, NULL, NULL);
		assert_int_equal(auth_jwt_cache_hits(a2), hits + 1);
		free(served);
		served = mint_jwks(only, 1); /* r1 withdrawn, r-unknown added */
		expect_raw(a2, b, 0, NULL, NULL); /* the stranger's token: refresh */
		expect_raw(a2, ob, 401, "auth.unknown_key", NULL);
		auth_free(a2);
		free(ob);
		free(old_tok);
	}
	free(t);
	free(b);
	/* Another unknown kid within 30 s: no fetch. */
	t = mint_token(&rsa, "{\"alg\":\"RS256\",\"kid\":\"zzz\"}", pay, NULL, 0);
	b = mint_bearer(t);
	fetches = 0;
	for (int i = 0; i < 5; i++)
		expect_raw(a, b, 401, "auth.unknown_key", NULL);
	assert_int_equal(fetches, 0);
	free(t);
	free(b);
	auth_free(a);
	/* A JWKS that cannot be fetched at start-up stops the start. */
	free(served);
	served = NULL;
	a = mint_auth("{\"oauth\": {\"issuer\": \"" ISS "\", \"jwks_url\": "
		      "\"https://idp.example/jwks\", \"scopes\": {\"s\": [\"*\"]}}}", &err);
	assert_null(a);
	assert_string_equal(err.rule, "auth.jwks");
	/* Plain http is refused whatever the host. */
	a = mint_auth("{\"oauth\": {\"issuer\": \"" ISS "\", \"jwks_url\": "
		      "\"http://127.0.0.1/jwks\", \"scopes\": {\"s\": [\"*\"]}}}", &err);
	assert_null(a);
	assert_non_null(strstr(err.msg, "https"));
	auth_set_fetcher(NULL);
	free(pay);
}

/* A key the provider withdrew stops working once the set is older than
 * jwks_max_age_s, cached tokens included. */
static void test_jwks_max_age(void **state)
{
	struct mint_key *first[] = {&rsa}, *later[] = {&stranger};
	struct moat_err err = {0};
	struct auth *a;
	char *pay = NULL, *t, *b;

	(void)state;
	auth_set_fetcher(fake_fetch);
	free(served);
	served = mint_jwks(first, 1);
	fetches = 0;
	a = mint_auth("{\"oauth\": {\"issuer\": \"" ISS "\", \"jwks_url\": "
		      "\"https://idp.example/jwks\", \"scopes\": {\"s\": [\"*\"]}, "
		      "\"algorithms\": [\"RS256\"], \"jwks_max_age_s\": 1}}", &err);
	assert_non_null(a);
	assert_true(asprintf(&pay, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
				   "\"exp\":%ld,\"scope\":\"s\"}", now_s + 300) > 0);
	t = mint_token(&rsa, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", pay, NULL, 0);
	b = mint_bearer(t);
	expect_raw(a, b, 0, NULL, NULL);
	expect_raw(a, b, 0, NULL, NULL); /* from the cache */
	assert_int_equal(fetches, 1);
	free(served);
	served = mint_jwks(later, 1); /* r1 withdrawn */
	usleep(1100000);
	expect_raw(a, b, 401, "auth.unknown_key", NULL);
	assert_int_equal(fetches, 2);
	auth_free(a);
	auth_set_fetcher(NULL);
	free(served);
	served = NULL;
	free(b);
	free(t);
	free(pay);
}

/* Checks from several threads while one of them swaps the key set in. */
struct rworker {
	struct auth *a;
	const char *good, *rotated;
	int bad;
};

static void *rwork(void *p)
{
	struct rworker *w = p;

	for (int i = 0; i < 200; i++) {
		struct principal pr;
		char why[128];
		const char *rule = NULL;
		int st = auth_check(w->a, i % 2 ? w->rotated : w->good, &pr, why, sizeof(why), &rule);
		if (i % 2 == 0 && st != 0)
			w->bad++;
		if (i % 2 && st != 0 && (st != 401 || strcmp(rule, "auth.unknown_key") != 0))
			w->bad++;
	}
	return NULL;
}

static void test_threads_with_refresh(void **state)
{
	struct mint_key *first[] = {&rsa}, *both[] = {&rsa, &stranger};
	struct moat_err err = {0};
	struct rworker w[4];
	pthread_t th[4];
	char *pay = NULL, *t1, *t2, *b1, *b2;
	struct auth *a;

	(void)state;
	auth_set_fetcher(fake_fetch);
	free(served);
	served = mint_jwks(first, 1);
	fetches = 0;
	a = mint_auth("{\"oauth\": {\"issuer\": \"" ISS "\", \"jwks_url\": "
		      "\"https://idp.example/jwks\", \"scopes\": {\"s\": [\"*\"]}, "
		      "\"algorithms\": [\"RS256\"]}}", &err);
	assert_non_null(a);
	free(served);
	served = mint_jwks(both, 2);
	assert_true(asprintf(&pay, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
				   "\"exp\":%ld,\"scope\":\"s\"}", now_s + 300) > 0);
	t1 = mint_token(&rsa, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", pay, NULL, 0);
	t2 = mint_token(&stranger, "{\"alg\":\"RS256\",\"kid\":\"r-unknown\"}", pay, NULL, 0);
	b1 = mint_bearer(t1);
	b2 = mint_bearer(t2);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct rworker){.a = a, .good = b1, .rotated = b2};
		assert_int_equal(pthread_create(&th[i], NULL, rwork, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	assert_int_equal(fetches, 2); /* start-up, and one refresh for all */
	expect_raw(a, b2, 0, NULL, NULL);
	auth_free(a);
	auth_set_fetcher(NULL);
	free(served);
	served = NULL;
	free(b1);
	free(b2);
	free(t1);
	free(t2);
	free(pay);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refresh),
		cmocka_unit_test(test_jwks_max_age),
		cmocka_unit_test(test_threads_with_refresh),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
