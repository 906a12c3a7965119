/*
 * api_shared.h - the declared API tools' response cache shared by a
 * cluster's replicas (api_shared.c): opt-in per API with
 * "cache": {"shared": true}, sealed by core before it reaches the store.
 */
#ifndef MOAT_PROVIDERS_HTTP_API_SHARED_H
#define MOAT_PROVIDERS_HTTP_API_SHARED_H

#include <stdbool.h>

#include "api.h"
#include "store.h"

/* api_shared_on - a's cache is shared and a store is installed. */
bool api_shared_on(const struct api *a);

/*
 * api_shared_get - the shared entry for key (the same key as the local
 * cache's) into *out (the caller wipes it with rcache_entry_wipe):
 * STORE_OK on a hit; STORE_EMPTY on a miss (or an entry that does not
 * open or does not parse); STORE_DOWN when the store does not answer.
 * Thread-safe.
 */
enum store_rc api_shared_get(const struct api *a, const char *key, struct rcache_entry *out);

/* api_shared_put - store e under key for the API's TTL (best effort: a
 * failure leaves the entry out). Thread-safe. */
void api_shared_put(const struct api *a, const char *key, const struct rcache_entry *e);

/* api_shared_clear - drop the API's shared entries (a write went through;
 * best effort). Thread-safe. */
void api_shared_clear(const struct api *a);

#endif
