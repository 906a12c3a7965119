/*
 * sql_pg_cache.h - the PostgreSQL backend's plan-check cache: which
 * read_query statements (text, param types AND param values) passed the
 * schema allowlist on their EXPLAIN plan, and under which transaction
 * snapshot (pg_current_snapshot()::text) that EXPLAIN ran. sql_pg.c says
 * when an entry may stand in for an EXPLAIN and why (the snapshot
 * argument); this file is only the bounded, thread-safe map.
 *
 * One cache per database (its pool's connections share the role, the
 * search_path and so the answer), of "plan_cache" entries (default 256,
 * 0 = none). At most cap entries, the least recently
 * used evicted first; a key over SQLPG_CACHE_KEY_MAX bytes, or a snapshot
 * over SQLPG_CACHE_SNAP_MAX, is never cached. Every operation takes the
 * cache's mutex and copies what it returns, so nothing handed out points
 * into the cache. Memory that runs out only makes an entry not cached.
 */
#ifndef MOAT_PROVIDERS_SQL_SQL_PG_CACHE_H
#define MOAT_PROVIDERS_SQL_SQL_PG_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SQLPG_CACHE_KEY_MAX 4096 /* statement + params, bytes */
#define SQLPG_CACHE_SNAP_MAX 4096

struct sqlpg_cache;
struct sqlpg_params;

/* A key: the statement's bytes, and each param's type, format, NULL-ness
 * and value bytes, framed so that no two different inputs give the same
 * bytes. Owned by whoever made it (sqlpg_cache_key_free). */
struct sqlpg_cache_key {
	unsigned char *bytes;
	size_t len;
	uint64_t hash;
};

/* What an entry says (copies; sqlpg_cache_val_free). */
struct sqlpg_cache_val {
	char *snap;      /* the snapshot taken just before the EXPLAIN */
	char *rels;      /* the plan's relations, each NUL-terminated, back to back */
	size_t rels_len; /* bytes of rels */
	bool confirmed;  /* two EXPLAINs under this same snapshot agreed */
	bool nohit;      /* never answer from the cache: a hit could not be
			  * checked after it ran (its result was cut short) */
};

/* sqlpg_cache_new - an empty cache of at most cap entries; NULL when cap
 * is 0 (no cache) or memory ran out. sqlpg_cache_free accepts NULL. */
struct sqlpg_cache *sqlpg_cache_new(size_t cap);
void sqlpg_cache_free(struct sqlpg_cache *c);

/* sqlpg_cache_key - the key of sql (len bytes) with params pp (may be
 * NULL: none). False when it would exceed SQLPG_CACHE_KEY_MAX or memory
 * ran out: the statement is then not cached. */
bool sqlpg_cache_key(const char *sql, size_t len, const struct sqlpg_params *pp,
		     struct sqlpg_cache_key *k);
void sqlpg_cache_key_free(struct sqlpg_cache_key *k);

/* sqlpg_cache_get - true and *out filled (copies) when k is cached; the
 * entry becomes the most recently used. False when absent, or when memory
 * ran out copying it. Thread-safe. */
bool sqlpg_cache_get(struct sqlpg_cache *c, const struct sqlpg_cache_key *k,
		     struct sqlpg_cache_val *out);
void sqlpg_cache_val_free(struct sqlpg_cache_val *v);

/* sqlpg_cache_put - record (or replace) k's entry: the snapshot, the
 * relations (rels_len bytes, names each NUL-terminated), whether it is
 * confirmed and whether it is never to answer (nohit). Evicts the least recently used entry when full. Copies
 * everything; nothing happens when c is NULL, a value is too large or
 * memory runs out. Thread-safe. */
void sqlpg_cache_put(struct sqlpg_cache *c, const struct sqlpg_cache_key *k, const char *snap,
		     const char *rels, size_t rels_len, bool confirmed, bool nohit);

/* sqlpg_cache_drop - forget k's entry, if any. Thread-safe. */
void sqlpg_cache_drop(struct sqlpg_cache *c, const struct sqlpg_cache_key *k);

/* sqlpg_cache_count - entries held now (for tests). Thread-safe. */
size_t sqlpg_cache_count(struct sqlpg_cache *c);

#endif
