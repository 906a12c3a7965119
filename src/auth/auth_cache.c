/*
 * auth_cache.c - the access tokens already verified, so that a client
 * presenting the same JWT on every request pays for its signature once
 * (RS256 about 50 µs, ES256 130 µs) instead of on every request.
 *
 * A fixed table of AUTH_CACHE_SLOTS entries, direct-mapped by the token's
 * SHA-256 (an entry is overwritten by the next token landing on its slot:
 * bounded memory, no eviction list). An entry holds the full digest, the
 * principal's name, groups and metrics flag, the time it stops being
 * valid (the token's exp plus the leeway, and at most AUTH_CACHE_MAX_S
 * from when it was verified), and the generation of the key set that
 * verified it: when the JWKS is replaced every older entry misses, so a
 * key withdrawn by the provider stops working at the next refresh, as it
 * would without the cache. Only accepted tokens are kept; nothing else
 * about a token (nbf, iat, the kid) can change while it is cached. One
 * mutex; held for a compare and a copy.
 */
#include "auth_int.h"

#include <nettle/memops.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	uint8_t digest[AUTH_DIGEST_LEN];
	bool used;
	unsigned long gen;
	int64_t until;                 /* Unix time */
	char name[PRINCIPAL_NAME_MAX];
	uint64_t groups;
	bool metrics;
};

struct auth_cache {
	pthread_mutex_t lock;
	struct slot slots[AUTH_CACHE_SLOTS];
	unsigned long hits;
};

static size_t slot_of(const uint8_t *d)
{
	return ((size_t)d[0] | (size_t)d[1] << 8) & (AUTH_CACHE_SLOTS - 1);
}

struct auth_cache *auth_cache_new(void)
{
	struct auth_cache *c = calloc(1, sizeof(*c));

	if (c)
		pthread_mutex_init(&c->lock, NULL);
	return c;
}

bool auth_cache_get(struct auth_cache *c, const uint8_t *digest, unsigned long gen, int64_t now,
		    struct principal *out)
{
	struct slot *s;
	bool hit = false;

	if (!c)
		return false;
	s = &c->slots[slot_of(digest)];
	pthread_mutex_lock(&c->lock);
	if (s->used && s->gen == gen && now <= s->until &&
	    memeql_sec(s->digest, digest, AUTH_DIGEST_LEN)) {
		memcpy(out->name, s->name, sizeof(out->name));
		out->groups = s->groups;
		out->metrics = s->metrics;
		c->hits++;
		hit = true;
	}
	pthread_mutex_unlock(&c->lock);
	return hit;
}

void auth_cache_put(struct auth_cache *c, const uint8_t *digest, unsigned long gen, int64_t until,
		    const struct principal *p)
{
	struct slot *s;

	if (!c)
		return;
	s = &c->slots[slot_of(digest)];
	pthread_mutex_lock(&c->lock);
	memcpy(s->digest, digest, AUTH_DIGEST_LEN);
	s->used = true;
	s->gen = gen;
	s->until = until;
	memcpy(s->name, p->name, sizeof(s->name));
	s->groups = p->groups;
	s->metrics = p->metrics;
	pthread_mutex_unlock(&c->lock);
}

void auth_cache_clear(struct auth_cache *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	explicit_bzero(c->slots, sizeof(c->slots));
	pthread_mutex_unlock(&c->lock);
}

unsigned long auth_cache_hits(struct auth_cache *c)
{
	unsigned long n;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	n = c->hits;
	pthread_mutex_unlock(&c->lock);
	return n;
}

void auth_cache_free(struct auth_cache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	explicit_bzero(c->slots, sizeof(c->slots));
	free(c);
}
