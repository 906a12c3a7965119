/*
 * test_api_shared.c - unit tests for src/providers/http/api_shared.c: a
 * declared API's answer goes into the shared store and comes back the
 * same (status, content type, a text body, a binary body with NUL bytes
 * and invalid UTF-8), the store never sees the body's plaintext (core
 * seals it), a write clears the API's entries, and a store that does not
 * answer reports STORE_DOWN (the caller uses its own cache).
 *
 * The store is a one-namespace double of struct store_ops.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/api.h"
#include "http/api_shared.h"
#include "seal.h"
#include "store.h"

#define SLOTS 8

static struct {
	bool down;
	struct {
		char name[72];
		char *val;
	} e[SLOTS];
	size_t n;
	uint64_t last_ttl_ms;
} d;

static enum store_rc dbl_get(void *ctx, const char *ns, const char *name, char **val, size_t *len)
{
	(void)ctx;
	(void)ns;
	if (d.down)
		return STORE_DOWN;
	for (size_t i = 0; i < d.n; i++)
		if (d.e[i].val && strcmp(d.e[i].name, name) == 0) {
			*val = strdup(d.e[i].val);
			*len = strlen(*val);
			return STORE_OK;
		}
	return STORE_EMPTY;
}

static enum store_rc dbl_put(void *ctx, const char *ns, const char *name, const char *val,
			     size_t len, uint64_t ttl_ms)
{
	(void)ctx;
	(void)ns;
	if (d.down)
		return STORE_DOWN;
	assert_true(d.n < SLOTS);
	snprintf(d.e[d.n].name, sizeof(d.e[d.n].name), "%s", name);
	d.e[d.n].val = strndup(val, len);
	d.n++;
	d.last_ttl_ms = ttl_ms;
	return STORE_OK;
}

static enum store_rc dbl_clear(void *ctx, const char *ns)
{
	(void)ctx;
	(void)ns;
	if (d.down)
		return STORE_DOWN;
	for (size_t i = 0; i < d.n; i++) {
		free(d.e[i].val);
		d.e[i].val = NULL;
	}
	return STORE_OK;
}

static const struct store_ops dbl_ops = {
	.cache_get = dbl_get, .cache_put = dbl_put, .cache_clear = dbl_clear};

static struct api api_a;

static int setup(void **state)
{
	uint8_t key[SEAL_KEY_BYTES];
	struct moat_err err = {0};

	(void)state;
	memset(key, 0x33, sizeof(key));
	assert_int_equal(seal_configure(key, 0, &err), MOAT_OK);
	memset(&d, 0, sizeof(d));
	memset(&api_a, 0, sizeof(api_a));
	api_a.name = "weather";
	api_a.cache = rcache_new(1 << 20);
	api_a.ttl_ns = 90ull * 1000000000u;
	api_a.shared = true;
	store_install(&dbl_ops, NULL, STORE_FALLBACK_AUTO);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	store_install(NULL, NULL, STORE_FALLBACK_AUTO);
	rcache_free(api_a.cache);
	for (size_t i = 0; i < d.n; i++)
		free(d.e[i].val);
	return 0;
}

static void test_on(void **state)
{
	(void)state;
	assert_true(api_shared_on(&api_a));
	api_a.shared = false;
	assert_false(api_shared_on(&api_a));
	api_a.shared = true;
	store_install(NULL, NULL, STORE_FALLBACK_AUTO);
	assert_false(api_shared_on(&api_a)); /* no store: the local cache only */
}

static void test_text_round_trip(void **state)
{
	char body[] = "{\"forecast\":\"sunny-canary-91c2\"}";
	struct rcache_entry in = {.status = 200, .content_type = "application/json",
				  .body = body, .body_len = sizeof(body) - 1};
	struct rcache_entry out = {0};
	const char *key = "GET https://api.example/forecast?city=canary-91c2";

	(void)state;
	assert_int_equal(api_shared_get(&api_a, key, &out), STORE_EMPTY);
	api_shared_put(&api_a, key, &in);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.last_ttl_ms, 90000);
	assert_null(strstr(d.e[0].val, "canary"));
	assert_null(strstr(d.e[0].val, "forecast"));
	assert_null(strstr(d.e[0].name, "canary"));
	assert_int_equal(api_shared_get(&api_a, key, &out), STORE_OK);
	assert_int_equal(out.status, 200);
	assert_string_equal(out.content_type, "application/json");
	assert_int_equal(out.body_len, in.body_len);
	assert_memory_equal(out.body, body, in.body_len);
	rcache_entry_wipe(&out);
	/* A write through the API clears it. */
	api_shared_clear(&api_a);
	assert_int_equal(api_shared_get(&api_a, key, &out), STORE_EMPTY);
}

static void test_binary_round_trip(void **state)
{
	char body[] = {'\x89', 'P', 'N', 'G', '\0', '\xff', '\xfe', 'c', 'a', 'n', 'a', 'r', 'y'};
	struct rcache_entry in = {.status = 203, .body = body, .body_len = sizeof(body)};
	struct rcache_entry out = {0};
	const char *key = "GET https://api.example/logo.png";

	(void)state;
	api_shared_put(&api_a, key, &in);
	assert_int_equal(d.n, 1);
	assert_null(strstr(d.e[0].val, "canary"));
	assert_int_equal(api_shared_get(&api_a, key, &out), STORE_OK);
	assert_int_equal(out.status, 203);
	assert_null(out.content_type);
	assert_int_equal(out.body_len, sizeof(body));
	assert_memory_equal(out.body, body, sizeof(body));
	rcache_entry_wipe(&out);
}

static void test_empty_body(void **state)
{
	struct rcache_entry in = {.status = 204, .body = "", .body_len = 0};
	struct rcache_entry out = {0};

	(void)state;
	api_shared_put(&api_a, "GET https://api.example/none", &in);
	assert_int_equal(api_shared_get(&api_a, "GET https://api.example/none", &out), STORE_OK);
	assert_int_equal(out.status, 204);
	assert_int_equal(out.body_len, 0);
	assert_non_null(out.body);
	rcache_entry_wipe(&out);
}

static void test_down(void **state)
{
	char body[] = "x";
	struct rcache_entry in = {.status = 200, .body = body, .body_len = 1};
	struct rcache_entry out = {0};

	(void)state;
	d.down = true;
	api_shared_put(&api_a, "GET https://api.example/x", &in); /* quietly nothing */
	assert_int_equal(d.n, 0);
	assert_int_equal(api_shared_get(&api_a, "GET https://api.example/x", &out), STORE_DOWN);
	assert_null(out.body);
	api_shared_clear(&api_a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_on, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_binary_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_body, setup, teardown),
		cmocka_unit_test_setup_teardown(test_down, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
