/*
 * store.h - how core reaches a store shared by several moat replicas (the
 * cluster's Redis, src/cluster/) without knowing what it is.
 *
 * The cluster subsystem installs a table of operations at start-up
 * (store_install); without one every function here works on this process
 * alone, exactly as a single moat always did. Core uses the store for
 * three things:
 *
 *   - rate limits: limits_take() takes one token from each bucket that
 *     applies to a call (principal, global, tool; a declared API's),
 *     all or none, in one round trip. A bucket with a key (bucket_set_key)
 *     lives in the store; when the store cannot answer, the policy of
 *     cluster.on_store_failure decides: "local" takes from this process's
 *     own bucket scaled down by the number of live replicas, "refuse"
 *     refuses the call (rule limits.store_unavailable), "auto" (the
 *     default) is "local" for a read-only call and "refuse" for one that
 *     may write.
 *   - marks: one-time ids (a spent confirmation, an ended session) that
 *     every replica must see.
 *   - the shared response cache: values sealed here (seal.h, AES-256-GCM
 *     under the cluster key, bound to the namespace, the principal and the
 *     key) before they reach the store, under a name that is an HMAC of the
 *     key, so the store holds nothing readable.
 *
 * Counters (fallbacks, store errors) are kept here for /metrics.
 * Thread-safe once installed; store_install runs in the single-threaded
 * start-up.
 */
#ifndef MOAT_CORE_STORE_H
#define MOAT_CORE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limits_cfg.h"

/* What a store operation answers. */
enum store_rc {
	STORE_OK = 0,    /* taken / found / newly marked */
	STORE_EMPTY = 1, /* no token / miss / already marked */
	STORE_DOWN = -1, /* the store did not answer in time (or is not connected) */
};

/* One bucket as the store sees it (all borrowed for the call). */
struct store_bucket {
	const char *key;   /* the bucket's name, e.g. "tool:read_query" */
	double capacity;   /* tokens it holds at most (burst) */
	double per_ms;     /* tokens added a millisecond */
};

/* What to do with a limit when the store is down. */
enum store_fallback {
	STORE_FALLBACK_AUTO = 0, /* local for read-only calls, refuse for writes */
	STORE_FALLBACK_LOCAL,
	STORE_FALLBACK_REFUSE,
};

/* The operations a store provides; ctx is the store's own. Each call
 * blocks at most the store's timeout. */
struct store_ops {
	/* take - one token from each of b[0..n), all or none, atomically and
	 * in one round trip. STORE_EMPTY: *which is the first bucket without
	 * a token and *wait_ms how long until it has one. */
	enum store_rc (*take)(void *ctx, const struct store_bucket *b, size_t n, size_t *which,
			      uint64_t *wait_ms);
	/* cache_get - the value stored under name in namespace ns into *val
	 * (malloc'd, the caller frees) and *len. STORE_EMPTY on a miss. */
	enum store_rc (*cache_get)(void *ctx, const char *ns, const char *name, char **val,
				   size_t *len);
	/* cache_put - store val under name in ns for ttl_ms (expiry kept by
	 * the store). */
	enum store_rc (*cache_put)(void *ctx, const char *ns, const char *name, const char *val,
				   size_t len, uint64_t ttl_ms);
	/* cache_clear - drop every entry of ns (a write went through). */
	enum store_rc (*cache_clear)(void *ctx, const char *ns);
	/* mark - record id of kind for ttl_s seconds: STORE_OK when it was
	 * not marked before, STORE_EMPTY when it was. */
	enum store_rc (*mark)(void *ctx, const char *kind, const char *id, uint32_t ttl_s);
	/* marked - STORE_OK when id of kind is marked, STORE_EMPTY if not. */
	enum store_rc (*marked)(void *ctx, const char *kind, const char *id);
	/* replicas - the live replicas last counted (at least 1). */
	unsigned (*replicas)(void *ctx);
	/* ready - the store answered recently (readiness). */
	bool (*ready)(void *ctx);
};

/*
 * store_install - use ops (borrowed, static storage) with ctx from now on,
 * and fallback when it is down. Start-up only, before any server runs.
 * ops NULL uninstalls (tests).
 */
void store_install(const struct store_ops *ops, void *ctx, enum store_fallback fallback);

/* store_active - a store is installed. */
bool store_active(void);

/* store_ready - no store, or the store answers: the replica may take
 * traffic (GET /readyz). */
bool store_ready(void);

/* store_replicas - the live replicas the store counted (1 without one). */
unsigned store_replicas(void);

/*
 * bucket_set_key - name b in the shared store (copied; a name longer
 * than 111 bytes becomes its first 94 bytes, '~' and 16 hex digits of a
 * hash of the whole). A bucket without a key is always local. Set before
 * the bucket is shared with other threads (or under its lock: limits_take
 * reads the key under it).
 */
void bucket_set_key(struct token_bucket *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The outcome of limits_take. */
enum limits_rc {
	LIMITS_OK = 0,
	LIMITS_EMPTY,      /* bucket *which has no token */
	LIMITS_STORE_DOWN, /* the store is down and the policy refuses */
};

/*
 * limits_take - one token from each non-NULL bucket of bs[0..n) (NULL
 * entries are skipped; unlimited buckets always give), all or none
 * (without a store too: a refusal gives back what the call's earlier
 * buckets gave).
 * write: the call may change something (the fallback policy "auto"
 * refuses it while the store is down). On LIMITS_EMPTY *which is the
 * index in bs of the empty bucket and *wait_ns (may be NULL) how long
 * until it has a token. Thread-safe.
 */
enum limits_rc limits_take(struct token_bucket *const *bs, size_t n, bool write, size_t *which,
			   uint64_t *wait_ns);

/*
 * limits_store_down_message - the message of a LIMITS_STORE_DOWN refusal
 * (rule limits.store_unavailable) for a call that may write or not: it
 * names cluster.on_store_failure and its value. Static storage.
 */
const char *limits_store_down_message(bool write);

/*
 * store_mark - record id of kind ("confirm", "session") as used, for
 * ttl_s seconds, in the store and in this process. STORE_OK when it was
 * not used before, STORE_EMPTY when it was (here or on another replica),
 * STORE_DOWN when the store could not say (the caller refuses: a
 * one-time thing must not happen twice). Without a store: this process
 * only (never STORE_DOWN).
 */
enum store_rc store_mark(const char *kind, const char *id, uint32_t ttl_s);

/* store_marked - STORE_OK when id of kind was marked (here or on another
 * replica), STORE_EMPTY when not, STORE_DOWN when the store could not say. */
enum store_rc store_marked(const char *kind, const char *id);

/*
 * store_cache_get / store_cache_put / store_cache_clear - the shared
 * response cache. ns names the cache (an API), principal binds an entry to
 * one caller (NULL: shared by all callers, when the upstream credential is
 * the same for all), key is the entry's plain key (method, URL, body). The
 * value is a JSON object. get: STORE_OK with *value (a new reference, the
 * caller's) on a hit; an entry that fails to open (tampered, another key,
 * expired) is a miss. put: ttl_ms > 0. All STORE_DOWN without a store or
 * when it does not answer; the caller then uses its own cache.
 */
enum store_rc store_cache_get(const char *ns, const char *principal, const char *key,
			      json_t **value);
enum store_rc store_cache_put(const char *ns, const char *principal, const char *key,
			      const json_t *value, uint64_t ttl_ms);
enum store_rc store_cache_clear(const char *ns);

/* Counters for /metrics since start-up. */
struct store_counters {
	uint64_t fallbacks;   /* limit takes served by the local fallback */
	uint64_t refusals;    /* calls refused because the store was down */
	uint64_t errors;      /* store operations that answered STORE_DOWN */
	uint64_t cache_hits;  /* shared cache */
	uint64_t cache_misses;
};

/* store_counters_get - a snapshot of the counters. */
void store_counters_get(struct store_counters *out);

/* store_note_down - a store operation failed: count it, and log the first
 * failure after a success (once, not per call). For the store's own use. */
void store_note_down(const char *what);

/* store_note_up - the store answers again: log it once. */
void store_note_up(void);

#endif
