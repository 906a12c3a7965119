/*
 * resp_cache.h - the in-memory response cache of the declared API tools.
 *
 * Entries are keyed by a string (the API's method, URL and body) and hold
 * an upstream response: status, content type and body bytes. Each has an
 * expiry (TTL from the API's config); the whole cache is bounded in bytes
 * (keys, values and bookkeeping counted) and evicts the least recently
 * used entries to stay under it. Nothing ever touches disk. Every byte of
 * a key or body is wiped with explicit_bzero() before its memory is freed:
 * on eviction, expiry, clear and free. Copies handed out by rcache_get()
 * are the caller's, to wipe the same way (rcache_entry_wipe).
 *
 * Thread-safe: one mutex per cache; lookups copy out under it.
 */
#ifndef MOAT_PROVIDERS_HTTP_RESP_CACHE_H
#define MOAT_PROVIDERS_HTTP_RESP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rcache; /* opaque */

/* A response, as stored and as handed out. */
struct rcache_entry {
	long status;
	char *content_type; /* owned; may be NULL */
	char *body;         /* owned; NUL-terminated for convenience */
	size_t body_len;
};

/* rcache_new - an empty cache of at most max_bytes. NULL on ENOMEM. */
struct rcache *rcache_new(size_t max_bytes);

/* rcache_free - wipe and free everything. Accepts NULL. */
void rcache_free(struct rcache *c);

/*
 * rcache_get - look key up at time now_ns (CLOCK_MONOTONIC). On a fresh
 * hit, copy the entry into *out (caller wipes with rcache_entry_wipe) and
 * return true; an expired entry found is wiped and removed. False on a
 * miss (or ENOMEM while copying).
 */
bool rcache_get(struct rcache *c, const char *key, uint64_t now_ns, struct rcache_entry *out);

/*
 * rcache_put - store a copy of e under key (replacing an older one) until
 * now_ns + ttl_ns, evicting least recently used entries as needed. An
 * entry larger than the whole bound is not stored. Returns false only on
 * ENOMEM (nothing stored).
 */
bool rcache_put(struct rcache *c, const char *key, const struct rcache_entry *e,
		uint64_t now_ns, uint64_t ttl_ns);

/* rcache_clear - wipe and drop every entry (after a successful write). */
void rcache_clear(struct rcache *c);

/* rcache_stats - entries and bytes in use (for tests and check). */
void rcache_stats(struct rcache *c, size_t *entries, size_t *bytes);

/* rcache_entry_wipe - explicit_bzero and free e's strings, zero e. */
void rcache_entry_wipe(struct rcache_entry *e);

#endif
