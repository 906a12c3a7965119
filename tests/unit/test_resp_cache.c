/*
 * test_resp_cache.c - unit tests for src/providers/http/resp_cache.c: the
 * round trip, expiry, LRU eviction under the byte bound, accounting, many
 * keys, concurrent use, and that every buffer is wiped before it is freed.
 *
 * The wipe is observed without touching the module: this file defines
 * explicit_bzero() itself (or, in a _FORTIFY_SOURCE build, the
 * __explicit_bzero_chk() glibc's inline wrapper calls), so the cache's
 * calls land here. The stand-in zeroes like the real one and, while a test
 * is watching, records which secret markers the wiped region contained.
 * A buffer freed without a wipe leaves its marker unseen.
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

#include "http/resp_cache.h"

/* --- observing explicit_bzero --- */

#define WATCH_MAX 32

static const char *watch[WATCH_MAX];
static size_t watch_len[WATCH_MAX];
static size_t watch_hits[WATCH_MAX];
static size_t nwatch;
static bool watching; /* only set while a single-threaded test runs */

static void observe(const void *p, size_t n)
{
	if (!watching)
		return;
	for (size_t i = 0; i < nwatch; i++)
		if (memmem(p, n, watch[i], watch_len[i]))
			watch_hits[i]++;
}

/* libc declares the wipe write-only; hide p's origin so the compiler does
 * not warn about observe()'s deliberate read before the zeroing. */
static const void *launder(void *p)
{
	__asm__("" : "+r"(p));
	return p;
}

static void zero(void *p, size_t n)
{
	memset(p, 0, n);
	__asm__ __volatile__("" : : "r"(p) : "memory");
}

#if defined(__USE_FORTIFY_LEVEL) && __USE_FORTIFY_LEVEL > 0
void __explicit_bzero_chk(void *p, size_t n, size_t destlen)
{
	if (n > destlen)
		abort();
	observe(launder(p), n);
	zero(p, n);
}
#else
void explicit_bzero(void *p, size_t n)
{
	observe(launder(p), n);
	zero(p, n);
}
#endif

static void watch_reset(void)
{
	nwatch = 0;
	memset(watch_hits, 0, sizeof(watch_hits));
	watching = true;
}

/* watch_add - watch for marker (len bytes); returns its index. */
static size_t watch_add(const char *marker, size_t len)
{
	assert_true(nwatch < WATCH_MAX);
	watch[nwatch] = marker;
	watch_len[nwatch] = len;
	return nwatch++;
}

/* --- helpers --- */

static struct rcache_entry mk(long status, const char *ct, const char *body, size_t body_len)
{
	struct rcache_entry e = { .status = status, .content_type = (char *)ct,
				  .body = (char *)body, .body_len = body_len };
	return e;
}

static void put_ok(struct rcache *c, const char *key, const char *body, uint64_t now, uint64_t ttl)
{
	struct rcache_entry e = mk(200, "text/plain", body, strlen(body));

	assert_true(rcache_put(c, key, &e, now, ttl));
}

static bool has(struct rcache *c, const char *key, uint64_t now)
{
	struct rcache_entry out;
	bool hit = rcache_get(c, key, now, &out);

	rcache_entry_wipe(&out);
	return hit;
}

static size_t n_entries(struct rcache *c)
{
	size_t n;

	rcache_stats(c, &n, NULL);
	return n;
}

static size_t n_bytes(struct rcache *c)
{
	size_t b;

	rcache_stats(c, NULL, &b);
	return b;
}

/* cost - what one entry of this shape counts against the bound. */
static size_t cost(const char *key, const char *ct, size_t body_len)
{
	struct rcache *c = rcache_new(SIZE_MAX);
	char *body = calloc(1, body_len + 1);
	struct rcache_entry e = mk(200, ct, body, body_len);
	size_t b;

	assert_non_null(c);
	assert_non_null(body);
	assert_true(rcache_put(c, key, &e, 0, 1000));
	b = n_bytes(c);
	rcache_free(c);
	free(body);
	return b;
}

/* --- tests --- */

static void test_roundtrip(void **state)
{
	static const char body[] = "a\0b\0\0c\xff";
	char ct[] = "application/json";
	char mutable_body[sizeof(body)];
	struct rcache *c = rcache_new(1 << 20);
	struct rcache_entry e, out;

	(void)state;
	assert_non_null(c);
	memcpy(mutable_body, body, sizeof(body));
	e = mk(203, ct, mutable_body, sizeof(body) - 1);
	assert_true(rcache_put(c, "GET https://example.com/x", &e, 10, 100));
	/* the cache holds its own copy */
	memset(mutable_body, 'Z', sizeof(mutable_body));
	memset(ct, 'Z', sizeof(ct) - 1);

	assert_true(rcache_get(c, "GET https://example.com/x", 20, &out));
	assert_int_equal(out.status, 203);
	assert_string_equal(out.content_type, "application/json");
	assert_int_equal(out.body_len, sizeof(body) - 1);
	assert_memory_equal(out.body, body, sizeof(body) - 1);
	assert_int_equal(out.body[out.body_len], '\0');

	/* the copy handed out outlives the entry */
	rcache_clear(c);
	assert_memory_equal(out.body, body, sizeof(body) - 1);
	rcache_entry_wipe(&out);
	rcache_free(c);
}

static void test_null_ct_and_empty_body(void **state)
{
	struct rcache *c = rcache_new(1 << 20);
	struct rcache_entry e = mk(204, NULL, NULL, 0), out;

	(void)state;
	assert_non_null(c);
	assert_true(rcache_put(c, "k", &e, 0, 100));
	assert_true(rcache_get(c, "k", 1, &out));
	assert_int_equal(out.status, 204);
	assert_null(out.content_type);
	assert_non_null(out.body);
	assert_int_equal(out.body_len, 0);
	assert_string_equal(out.body, "");
	rcache_entry_wipe(&out);

	/* the empty key is a key like any other */
	e = mk(200, "t/e", "empty-key", 9);
	assert_true(rcache_put(c, "", &e, 0, 100));
	assert_true(rcache_get(c, "", 1, &out));
	assert_string_equal(out.body, "empty-key");
	rcache_entry_wipe(&out);
	rcache_free(c);
}

static void test_miss(void **state)
{
	struct rcache *c = rcache_new(1 << 20);
	struct rcache_entry out;

	(void)state;
	assert_non_null(c);
	memset(&out, 0xA5, sizeof(out));
	assert_false(rcache_get(c, "nothing", 0, &out));
	/* *out is zeroed on a miss, so wiping it is harmless */
	assert_null(out.body);
	assert_null(out.content_type);
	assert_int_equal(out.body_len, 0);
	rcache_entry_wipe(&out);

	put_ok(c, "abc", "v", 0, 100);
	assert_false(has(c, "ab", 1));
	assert_false(has(c, "abcd", 1));
	assert_false(has(c, "ABC", 1));
	assert_true(has(c, "abc", 1));
	rcache_free(c);
}

static void test_bad_args(void **state)
{
	struct rcache *c = rcache_new(1 << 20);
	struct rcache_entry e = mk(200, NULL, NULL, 5), out;
	size_t ne = 7, nb = 7;

	(void)state;
	assert_non_null(c);
	assert_false(rcache_put(c, "k", &e, 0, 100)); /* NULL body with a length */
	assert_false(rcache_put(c, NULL, &e, 0, 100));
	assert_false(rcache_put(c, "k", NULL, 0, 100));
	assert_false(rcache_put(NULL, "k", &e, 0, 100));
	assert_false(rcache_get(NULL, "k", 0, &out));
	assert_null(out.body);
	assert_false(rcache_get(c, NULL, 0, &out));
	assert_false(rcache_get(c, "k", 0, NULL));
	assert_int_equal(n_entries(c), 0);
	rcache_stats(c, NULL, NULL);
	rcache_stats(NULL, &ne, &nb);
	assert_int_equal(ne, 0);
	assert_int_equal(nb, 0);
	rcache_clear(NULL);
	rcache_free(NULL);
	rcache_entry_wipe(NULL);
	rcache_free(c);
}

static void test_replace(void **state)
{
	struct rcache *c = rcache_new(1 << 20);
	struct rcache_entry e, out;

	(void)state;
	assert_non_null(c);
	put_ok(c, "k", "first", 0, 100);
	e = mk(404, "text/html", "second, longer", 14);
	assert_true(rcache_put(c, "k", &e, 5, 100));
	assert_int_equal(n_entries(c), 1);
	assert_int_equal(n_bytes(c), cost("k", "text/html", 14));
	assert_true(rcache_get(c, "k", 10, &out));
	assert_int_equal(out.status, 404);
	assert_string_equal(out.content_type, "text/html");
	assert_string_equal(out.body, "second, longer");
	rcache_entry_wipe(&out);
	/* the replacement has its own deadline: 5 + 100 */
	assert_true(has(c, "k", 104));
	assert_false(has(c, "k", 105));
	rcache_free(c);
}

static void test_expiry(void **state)
{
	struct rcache *c = rcache_new(1 << 20);

	(void)state;
	assert_non_null(c);
	put_ok(c, "k", "v", 1000, 500);
	assert_true(has(c, "k", 1000));
	assert_true(has(c, "k", 1499));
	assert_int_equal(n_entries(c), 1);
	assert_false(has(c, "k", 1500)); /* exactly at the deadline: expired */
	assert_int_equal(n_entries(c), 0);
	assert_int_equal(n_bytes(c), 0);

	put_ok(c, "k", "v", 1000, 500);
	assert_false(has(c, "k", 99999)); /* well after */
	assert_int_equal(n_entries(c), 0);
	rcache_free(c);
}

static void test_expiry_saturates(void **state)
{
	struct rcache *c = rcache_new(1 << 20);

	(void)state;
	assert_non_null(c);
	put_ok(c, "k", "v", UINT64_MAX - 10, 100); /* deadline clamps to UINT64_MAX */
	assert_true(has(c, "k", UINT64_MAX - 1));
	assert_false(has(c, "k", UINT64_MAX));
	rcache_free(c);
}

static void test_ttl_zero(void **state)
{
	struct rcache *c = rcache_new(1 << 20);

	(void)state;
	assert_non_null(c);
	put_ok(c, "k", "v", 0, 0);
	assert_int_equal(n_entries(c), 0);
	assert_false(has(c, "k", 0));
	/* a later put that is not stored supersedes the older entry */
	put_ok(c, "k", "v", 0, 100);
	put_ok(c, "other", "v", 0, 100);
	put_ok(c, "k", "v2", 1, 0);
	assert_false(has(c, "k", 2));
	assert_true(has(c, "other", 2));
	assert_int_equal(n_entries(c), 1);
	rcache_free(c);
}

static void test_purge_on_put(void **state)
{
	struct rcache *c = rcache_new(1 << 20);
	char key[16];

	(void)state;
	assert_non_null(c);
	for (int i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "old%d", i);
		put_ok(c, key, "v", 0, 10);
	}
	put_ok(c, "keep", "v", 0, 1000);
	assert_int_equal(n_entries(c), 21);
	/* each put looks at the 8 least recently used entries, no more */
	put_ok(c, "new1", "v", 100, 1000);
	assert_int_equal(n_entries(c), 21 - 8 + 1);
	put_ok(c, "new2", "v", 100, 1000);
	assert_int_equal(n_entries(c), 21 - 16 + 2);
	put_ok(c, "new3", "v", 100, 1000);
	assert_int_equal(n_entries(c), 4); /* old16..old19 went, keep and new* stay */
	assert_true(has(c, "keep", 100));
	assert_int_equal(n_bytes(c), 4 * cost("keep", "text/plain", 1));
	rcache_free(c);
}

static void test_lru_eviction(void **state)
{
	size_t one = cost("k0", "text/plain", 4);
	struct rcache *c = rcache_new(3 * one + one / 2);
	char *big;
	struct rcache_entry e;

	(void)state;
	assert_non_null(c);
	put_ok(c, "k0", "body", 0, 1000);
	put_ok(c, "k1", "body", 0, 1000);
	put_ok(c, "k2", "body", 0, 1000);
	assert_int_equal(n_entries(c), 3);
	assert_int_equal(n_bytes(c), 3 * one);

	assert_true(has(c, "k0", 1)); /* k0 is now the most recent; k1 the least */
	put_ok(c, "k3", "body", 2, 1000);
	assert_int_equal(n_entries(c), 3);
	assert_int_equal(n_bytes(c), 3 * one);
	assert_false(has(c, "k1", 3));
	/* order, oldest first, after these gets: k0 k2 k3 */
	assert_true(has(c, "k0", 3));
	assert_true(has(c, "k2", 3));
	assert_true(has(c, "k3", 3));
	put_ok(c, "k4", "body", 4, 1000);
	assert_false(has(c, "k0", 5));
	/* oldest first now: k2 k3 k4; refresh k2 so k3 is the oldest */
	assert_true(has(c, "k2", 5));

	/* an entry worth two evicts the two oldest (k3, k4) */
	big = malloc(4 + one + 1);
	assert_non_null(big);
	memset(big, 'B', 4 + one);
	big[4 + one] = '\0';
	e = mk(200, "text/plain", big, 4 + one);
	assert_true(rcache_put(c, "k5", &e, 6, 1000));
	free(big);
	assert_int_equal(n_entries(c), 2);
	assert_int_equal(n_bytes(c), 3 * one);
	assert_false(has(c, "k3", 7));
	assert_false(has(c, "k4", 7));
	assert_true(has(c, "k2", 7));
	assert_true(has(c, "k5", 7));
	rcache_free(c);
}

static void test_oversize(void **state)
{
	size_t base = cost("key", "text/plain", 0);
	struct rcache *c = rcache_new(base + 100);
	char body[128];
	struct rcache_entry e;

	(void)state;
	assert_non_null(c);
	memset(body, 'x', sizeof(body));

	e = mk(200, "text/plain", body, 100); /* exactly the bound */
	assert_true(rcache_put(c, "key", &e, 0, 100));
	assert_int_equal(n_entries(c), 1);
	assert_int_equal(n_bytes(c), base + 100);

	/* one byte too many: not stored, returns true, others untouched */
	e.body_len = 101;
	assert_true(rcache_put(c, "kez", &e, 0, 100));
	assert_int_equal(n_entries(c), 1);
	assert_false(has(c, "kez", 1));
	assert_true(has(c, "key", 1));

	/* under the same key it supersedes the stored one */
	assert_true(rcache_put(c, "key", &e, 1, 100));
	assert_int_equal(n_entries(c), 0);
	assert_int_equal(n_bytes(c), 0);

	/* a length whose cost overflows is oversize too, and never read */
	e.body_len = SIZE_MAX - 8;
	assert_true(rcache_put(c, "key", &e, 1, 100));
	assert_int_equal(n_entries(c), 0);

	/* a cache of zero bytes stores nothing */
	rcache_free(c);
	c = rcache_new(0);
	assert_non_null(c);
	put_ok(c, "k", "v", 0, 100);
	assert_int_equal(n_entries(c), 0);
	assert_false(has(c, "k", 1));
	rcache_free(c);
}

static void test_clear(void **state)
{
	struct rcache *c = rcache_new(1 << 20);
	char key[16];

	(void)state;
	assert_non_null(c);
	for (int i = 0; i < 50; i++) {
		snprintf(key, sizeof(key), "c%d", i);
		put_ok(c, key, "value", 0, 100);
	}
	assert_int_equal(n_entries(c), 50);
	rcache_clear(c);
	assert_int_equal(n_entries(c), 0);
	assert_int_equal(n_bytes(c), 0);
	assert_false(has(c, "c0", 1));
	assert_false(has(c, "c49", 1));
	rcache_clear(c); /* twice is fine */
	put_ok(c, "c7", "again", 1, 100);
	assert_true(has(c, "c7", 2));
	assert_int_equal(n_entries(c), 1);
	rcache_free(c);
}

static void test_stats(void **state)
{
	size_t one = cost("s0", "t/x", 3);
	struct rcache *c = rcache_new(2 * one);
	struct rcache_entry e = mk(200, "t/x", "abc", 3);
	size_t ne, nb;

	(void)state;
	assert_non_null(c);
	rcache_stats(c, &ne, &nb);
	assert_int_equal(ne, 0);
	assert_int_equal(nb, 0);
	/* the cost covers the strings and some fixed bookkeeping */
	assert_true(one > strlen("s0") + strlen("t/x") + 3 + 2 * sizeof(void *));
	assert_int_equal(cost("s0", "t/x", 103), one + 100);
	assert_int_equal(cost("s0-longer", "t/x", 3), one + 7);
	assert_int_equal(cost("s0", NULL, 3), one - 4);

	assert_true(rcache_put(c, "s0", &e, 0, 10));
	assert_true(rcache_put(c, "s1", &e, 0, 100));
	rcache_stats(c, &ne, &nb);
	assert_int_equal(ne, 2);
	assert_int_equal(nb, 2 * one);
	/* a third evicts one */
	assert_true(rcache_put(c, "s2", &e, 1, 100));
	rcache_stats(c, &ne, &nb);
	assert_int_equal(ne, 2);
	assert_int_equal(nb, 2 * one);
	assert_false(has(c, "s0", 2));
	/* expiry found by a get lowers both */
	assert_false(has(c, "s1", 100));
	rcache_stats(c, &ne, &nb);
	assert_int_equal(ne, 1);
	assert_int_equal(nb, one);
	rcache_free(c);
}

/* Many keys: every one found with its own value. With 10,000 keys in at
 * most 16,384 buckets, bucket collisions are certain (about 2,500 by the
 * birthday bound), so chains are walked and compared; the keys include
 * long shared prefixes, keys that are prefixes of others, and keys of
 * equal length differing in one byte. */
static void many_key(char *key, size_t size, int i)
{
	if (i % 3 == 0)
		snprintf(key, size, "GET https://api.example.com/v1/items/%d", i);
	else if (i % 3 == 1)
		snprintf(key, size, "%0*d", 1 + i % 40, i); /* zero-padded: shared prefixes */
	else
		snprintf(key, size, "POST /x {\"id\":%d}", i);
}

static void test_many_keys(void **state)
{
	enum { N = 10000 };
	struct rcache *c = rcache_new((size_t)64 << 20);
	char key[256], body[64];
	struct rcache_entry out;

	(void)state;
	assert_non_null(c);
	for (int i = 0; i < N; i++) {
		many_key(key, sizeof(key), i);
		snprintf(body, sizeof(body), "body-%d", i);
		/* even keys expire at 500, odd ones much later */
		put_ok(c, key, body, 0, i % 2 ? 1000000 : 500);
	}
	for (int i = 1; i <= 200; i++) { /* "p", "pp", "ppp", ...: each a prefix of the next */
		memset(key, 'p', (size_t)i);
		key[i] = '\0';
		snprintf(body, sizeof(body), "p%d", i);
		put_ok(c, key, body, 0, 1000000);
	}
	assert_int_equal(n_entries(c), N + 200);
	for (int i = 0; i < N; i++) {
		many_key(key, sizeof(key), i);
		snprintf(body, sizeof(body), "body-%d", i);
		assert_true(rcache_get(c, key, 100, &out));
		assert_string_equal(out.body, body);
		rcache_entry_wipe(&out);
	}
	for (int i = 1; i <= 200; i++) {
		memset(key, 'p', (size_t)i);
		key[i] = '\0';
		snprintf(body, sizeof(body), "p%d", i);
		assert_true(rcache_get(c, key, 100, &out));
		assert_string_equal(out.body, body);
		rcache_entry_wipe(&out);
	}
	/* past 500 the even half is gone as each is looked up */
	for (int i = 0; i < N; i++) {
		many_key(key, sizeof(key), i);
		assert_int_equal(has(c, key, 600), i % 2 == 1);
	}
	assert_int_equal(n_entries(c), N / 2 + 200);
	rcache_clear(c);
	assert_int_equal(n_bytes(c), 0);
	rcache_free(c);
}

static void test_entry_wipe(void **state)
{
	struct rcache_entry e = { 0 };
	size_t w_ct, w_body;

	(void)state;
	rcache_entry_wipe(&e); /* an empty entry */
	assert_null(e.body);

	e.status = 200;
	e.content_type = strdup("secret/content-type");
	e.body = malloc(12);
	assert_non_null(e.content_type);
	assert_non_null(e.body);
	memcpy(e.body, "se\0cret-body", 12);
	e.body_len = 11; /* + a NUL at body[11] */
	e.body[11] = '\0';
	watch_reset();
	w_ct = watch_add("secret/content-type", 19);
	w_body = watch_add("se\0cret-bod", 11);
	rcache_entry_wipe(&e);
	watching = false;
	assert_int_equal(watch_hits[w_ct], 1);
	assert_int_equal(watch_hits[w_body], 1);
	assert_int_equal(e.status, 0);
	assert_null(e.content_type);
	assert_null(e.body);
	assert_int_equal(e.body_len, 0);
}

/* put_secret - an entry whose key, content type and body each carry tag,
 * watched. Returns the index of the first of the three watches. */
static size_t put_secret(struct rcache *c, const char *tag, uint64_t now, uint64_t ttl,
			 char bufs[3][48])
{
	struct rcache_entry e;
	size_t first;

	snprintf(bufs[0], 48, "key:%s", tag);
	snprintf(bufs[1], 48, "ct:%s", tag);
	snprintf(bufs[2], 48, "body:%s", tag);
	first = watch_add(bufs[0], strlen(bufs[0]));
	watch_add(bufs[1], strlen(bufs[1]));
	watch_add(bufs[2], strlen(bufs[2]));
	e = mk(200, bufs[1], bufs[2], strlen(bufs[2]));
	assert_true(rcache_put(c, bufs[0], &e, now, ttl));
	return first;
}

static void assert_wiped(size_t first, bool wiped)
{
	for (size_t i = first; i < first + 3; i++) {
		if (wiped)
			assert_true(watch_hits[i] >= 1);
		else
			assert_int_equal(watch_hits[i], 0);
	}
}

/* Every way an entry leaves the cache wipes its key, content type and
 * body, and so does wiping a copy handed out by rcache_get. */
static void test_wipe_paths(void **state)
{
	size_t one = cost("key:evict-A", "ct:evict-A", strlen("body:evict-A"));
	struct rcache *c = rcache_new(one); /* room for one entry of this shape */
	/* tags are all 7 bytes, so every secret entry costs exactly one */
	char a[3][48], b[3][48], d[3][48], f[3][48], g[3][48], h[3][48], k[3][48];
	struct rcache_entry out;
	size_t wa, wb, wd, wf, wg, wh, wk;

	(void)state;
	assert_non_null(c);
	watch_reset();

	/* eviction */
	wa = put_secret(c, "evict-A", 0, 1000, a);
	assert_wiped(wa, false);
	wb = put_secret(c, "evict-B", 0, 1000, b);
	assert_wiped(wa, true);
	assert_wiped(wb, false);

	/* a copy handed out, then wiped by the caller */
	assert_true(rcache_get(c, b[0], 1, &out));
	assert_int_equal(watch_hits[wb + 1], 0);
	rcache_entry_wipe(&out);
	assert_true(watch_hits[wb + 1] >= 1);
	assert_true(watch_hits[wb + 2] >= 1);
	assert_int_equal(watch_hits[wb], 0); /* the key stays cached */
	rcache_clear(c);
	assert_wiped(wb, true);

	/* expiry found by a get */
	wd = put_secret(c, "expir-D", 0, 10, d);
	assert_false(rcache_get(c, d[0], 10, &out));
	assert_wiped(wd, true);

	/* expiry purged by a put (one that stores nothing, so no eviction) */
	wf = put_secret(c, "purge-F", 0, 10, f);
	assert_true(rcache_put(c, "x", &(struct rcache_entry){ .body = "", .body_len = 0 }, 20, 0));
	assert_wiped(wf, true);
	assert_int_equal(n_entries(c), 0);

	/* replacement */
	wg = put_secret(c, "repla-G", 0, 1000, g);
	assert_true(rcache_put(c, g[0], &(struct rcache_entry){ .body = "new", .body_len = 3 }, 0, 1000));
	assert_true(watch_hits[wg + 1] >= 1);
	assert_true(watch_hits[wg + 2] >= 1);
	assert_true(watch_hits[wg] >= 1); /* the old node's copy of the key */
	rcache_clear(c);

	/* superseded by a put that stores nothing */
	wh = put_secret(c, "super-H", 0, 1000, h);
	assert_true(rcache_put(c, h[0], &(struct rcache_entry){ .body = "", .body_len = 0 }, 0, 0));
	assert_wiped(wh, true);

	/* rcache_free */
	wk = put_secret(c, "free--K", 0, 1000, k);
	assert_wiped(wk, false);
	rcache_free(c);
	assert_wiped(wk, true);
	watching = false;
}

/* --- concurrency --- */

enum { T_THREADS = 4, T_OPS = 50000, T_KEYS = 64, T_MAX = 8192 };

struct worker {
	struct rcache *c;
	uint64_t seed;
	size_t bad;     /* hits whose contents did not match their key */
	size_t over;    /* stats seen above the bound */
	size_t hits;
	size_t puts;
};

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* The body for key i: "<i>:" then a fill byte derived from i; the length
 * varies per put, so entries differ in size and evictions vary. */
static void *stress(void *arg)
{
	struct worker *w = arg;
	char key[16], ct[16], body[512];

	for (uint64_t now = 1; now <= T_OPS; now++) {
		uint64_t r = xorshift(&w->seed);
		unsigned i = (unsigned)(r % T_KEYS);
		unsigned op = (unsigned)((r >> 8) % 1000);

		snprintf(key, sizeof(key), "key-%u", i);
		if (op < 500) {
			struct rcache_entry out;

			if (!rcache_get(w->c, key, now, &out))
				continue;
			w->hits++;
			snprintf(ct, sizeof(ct), "t/%u", i);
			int hl = snprintf(body, sizeof(body), "%u:", i);
			bool ok = out.status == 100 + (long)i && out.content_type &&
				  strcmp(out.content_type, ct) == 0 && out.body_len >= (size_t)hl &&
				  memcmp(out.body, body, (size_t)hl) == 0 && out.body[out.body_len] == '\0';
			for (size_t j = (size_t)hl; ok && j < out.body_len; j++)
				ok = out.body[j] == (char)('a' + i % 26);
			if (!ok)
				w->bad++;
			rcache_entry_wipe(&out);
		} else if (op < 998) {
			int hl = snprintf(body, sizeof(body), "%u:", i);
			size_t len = (size_t)hl + (size_t)((r >> 20) % 400);
			struct rcache_entry e;

			memset(body + hl, 'a' + i % 26, len - (size_t)hl);
			body[len] = '\0';
			snprintf(ct, sizeof(ct), "t/%u", i);
			e = mk(100 + (long)i, ct, body, len);
			if (rcache_put(w->c, key, &e, now, 1 + (r >> 40) % 2000))
				w->puts++;
		} else if (op < 999) {
			rcache_clear(w->c);
		} else {
			size_t ne, nb;

			rcache_stats(w->c, &ne, &nb);
			if (nb > T_MAX || (ne == 0) != (nb == 0))
				w->over++;
		}
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct rcache *c = rcache_new(T_MAX);
	pthread_t th[T_THREADS];
	struct worker w[T_THREADS];
	size_t ne, nb, hits = 0;

	(void)state;
	assert_non_null(c);
	for (int t = 0; t < T_THREADS; t++) {
		w[t] = (struct worker){ .c = c, .seed = 0x9E3779B97F4A7C15ull * (uint64_t)(t + 1) };
		assert_int_equal(pthread_create(&th[t], NULL, stress, &w[t]), 0);
	}
	for (int t = 0; t < T_THREADS; t++) {
		assert_int_equal(pthread_join(th[t], NULL), 0);
		assert_int_equal(w[t].bad, 0);
		assert_int_equal(w[t].over, 0);
		assert_true(w[t].puts > 0);
		hits += w[t].hits;
	}
	assert_true(hits > 0);
	rcache_stats(c, &ne, &nb);
	assert_true(nb <= T_MAX);
	assert_true(ne <= T_KEYS);
	assert_true((ne == 0) == (nb == 0));
	rcache_clear(c);
	rcache_stats(c, &ne, &nb);
	assert_int_equal(ne, 0);
	assert_int_equal(nb, 0);
	rcache_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_null_ct_and_empty_body),
		cmocka_unit_test(test_miss),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_replace),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_expiry_saturates),
		cmocka_unit_test(test_ttl_zero),
		cmocka_unit_test(test_purge_on_put),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_many_keys),
		cmocka_unit_test(test_entry_wipe),
		cmocka_unit_test(test_wipe_paths),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
