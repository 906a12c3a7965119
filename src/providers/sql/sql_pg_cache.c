/*
 * sql_pg_cache.c - the plan-check cache of the PostgreSQL backend (see
 * sql_pg_cache.h for what an entry says, sql_pg.c for when one may be
 * used): a hash table of chains (FNV-1a of the key's bytes, the bytes
 * compared in full, so a hash collision is only a slower lookup) and a
 * doubly linked list in order of use, the least recently used evicted when
 * the cache is full. A mutex guards both; values are copied in and out.
 *
 * Thread-safe.
 */
#include "sql_pg_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "sql_pg.h"

struct entry {
	struct entry *chain;       /* next in the bucket */
	struct entry *prev, *next; /* the use order: head = most recent */
	uint64_t hash;
	unsigned char *key;
	size_t klen;
	char *snap;
	char *rels;
	size_t rels_len;
	bool confirmed;
	bool nohit;
};

struct sqlpg_cache {
	pthread_mutex_t lock;
	size_t cap, n, nbuckets; /* nbuckets: a power of two */
	struct entry **buckets;
	struct entry head;       /* sentinel of the use order */
};

struct sqlpg_cache *sqlpg_cache_new(size_t cap)
{
	struct sqlpg_cache *c;

	if (cap == 0 || !(c = calloc(1, sizeof(*c))))
		return NULL;
	c->cap = cap;
	for (c->nbuckets = 16; c->nbuckets < 2 * cap; c->nbuckets *= 2)
		;
	if (!(c->buckets = calloc(c->nbuckets, sizeof(*c->buckets)))) {
		free(c);
		return NULL;
	}
	c->head.prev = c->head.next = &c->head;
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

static void entry_free(struct entry *e)
{
	free(e->key);
	free(e->snap);
	free(e->rels);
	free(e);
}

void sqlpg_cache_free(struct sqlpg_cache *c)
{
	if (!c)
		return;
	for (struct entry *e = c->head.next, *nx; e != &c->head; e = nx) {
		nx = e->next;
		entry_free(e);
	}
	free(c->buckets);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* ---- keys ------------------------------------------------------------------ */

struct kbuf {
	unsigned char *p;
	size_t len;
	bool over;
};

static void kput(struct kbuf *b, const void *src, size_t n)
{
	if (b->over || n > SQLPG_CACHE_KEY_MAX - b->len) {
		b->over = true;
		return;
	}
	memcpy(b->p + b->len, src, n);
	b->len += n;
}

static void kput_u32(struct kbuf *b, uint32_t v)
{
	kput(b, &v, sizeof(v));
}

bool sqlpg_cache_key(const char *sql, size_t len, const struct sqlpg_params *pp,
		     struct sqlpg_cache_key *k)
{
	struct kbuf b = {0};
	int n = pp ? pp->n : 0;
	uint64_t h = 14695981039346656037ull;

	memset(k, 0, sizeof(*k));
	if (len > SQLPG_CACHE_KEY_MAX || !(b.p = malloc(SQLPG_CACHE_KEY_MAX)))
		return false;
	/* Every field is framed by its length, so the bytes decode one way. */
	kput_u32(&b, (uint32_t)n);
	for (int i = 0; i < n; i++) {
		const char *v = pp->values[i];
		size_t vl = !v ? 0 : pp->formats[i] == 1 ? (size_t)pp->lengths[i] : strlen(v);
		kput_u32(&b, (uint32_t)pp->types[i]);
		kput_u32(&b, (uint32_t)pp->formats[i]);
		kput_u32(&b, v ? 1u : 0u); /* NULL is not the empty string */
		kput_u32(&b, (uint32_t)vl);
		if (v)
			kput(&b, v, vl);
	}
	kput_u32(&b, (uint32_t)len);
	kput(&b, sql, len);
	if (b.over) {
		free(b.p);
		return false;
	}
	for (size_t i = 0; i < b.len; i++) {
		h ^= b.p[i];
		h *= 1099511628211ull;
	}
	k->bytes = b.p;
	k->len = b.len;
	k->hash = h;
	return true;
}

void sqlpg_cache_key_free(struct sqlpg_cache_key *k)
{
	free(k->bytes);
	memset(k, 0, sizeof(*k));
}

/* ---- the map (under the lock) ---------------------------------------------- */

static struct entry **slot(struct sqlpg_cache *c, const struct sqlpg_cache_key *k)
{
	struct entry **pe = &c->buckets[k->hash & (c->nbuckets - 1)];

	while (*pe && !((*pe)->hash == k->hash && (*pe)->klen == k->len &&
			memcmp((*pe)->key, k->bytes, k->len) == 0))
		pe = &(*pe)->chain;
	return pe;
}

static void unlink_use(struct entry *e)
{
	e->prev->next = e->next;
	e->next->prev = e->prev;
}

static void link_front(struct sqlpg_cache *c, struct entry *e)
{
	e->prev = &c->head;
	e->next = c->head.next;
	c->head.next->prev = e;
	c->head.next = e;
}

/* Remove the entry *pe points at from both structures and free it. */
static void remove_at(struct sqlpg_cache *c, struct entry **pe)
{
	struct entry *e = *pe;

	*pe = e->chain;
	unlink_use(e);
	entry_free(e);
	c->n--;
}

static char *dup_bytes(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		if (n)
			memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

bool sqlpg_cache_get(struct sqlpg_cache *c, const struct sqlpg_cache_key *k,
		     struct sqlpg_cache_val *out)
{
	struct entry *e;
	bool found = false;

	memset(out, 0, sizeof(*out));
	if (!c || !k->bytes)
		return false;
	pthread_mutex_lock(&c->lock);
	if ((e = *slot(c, k))) {
		unlink_use(e);
		link_front(c, e);
		out->snap = strdup(e->snap);
		out->rels = dup_bytes(e->rels, e->rels_len);
		out->rels_len = e->rels_len;
		out->confirmed = e->confirmed;
		out->nohit = e->nohit;
		found = out->snap && out->rels;
	}
	pthread_mutex_unlock(&c->lock);
	if (!found)
		sqlpg_cache_val_free(out);
	return found;
}

void sqlpg_cache_val_free(struct sqlpg_cache_val *v)
{
	free(v->snap);
	free(v->rels);
	memset(v, 0, sizeof(*v));
}

void sqlpg_cache_put(struct sqlpg_cache *c, const struct sqlpg_cache_key *k, const char *snap,
		     const char *rels, size_t rels_len, bool confirmed, bool nohit)
{
	struct entry *e, **pe;
	size_t slen = snap ? strlen(snap) : SQLPG_CACHE_SNAP_MAX + 1;

	if (!c || !k->bytes || slen > SQLPG_CACHE_SNAP_MAX || rels_len > SQLPG_CACHE_KEY_MAX)
		return;
	/* Everything is copied before the lock is taken. */
	if (!(e = calloc(1, sizeof(*e))))
		return;
	e->hash = k->hash;
	e->klen = k->len;
	e->key = malloc(k->len);
	e->snap = dup_bytes(snap, slen);
	e->rels = dup_bytes(rels ? rels : "", rels_len);
	e->rels_len = rels_len;
	e->confirmed = confirmed && !nohit;
	e->nohit = nohit;
	if (!e->key || !e->snap || !e->rels) {
		entry_free(e);
		return;
	}
	memcpy(e->key, k->bytes, k->len);
	pthread_mutex_lock(&c->lock);
	if (*(pe = slot(c, k)))
		remove_at(c, pe);
	else if (c->n >= c->cap)
		remove_at(c, slot(c, &(struct sqlpg_cache_key){.bytes = c->head.prev->key,
							       .len = c->head.prev->klen,
							       .hash = c->head.prev->hash}));
	pe = &c->buckets[e->hash & (c->nbuckets - 1)];
	e->chain = *pe;
	*pe = e;
	link_front(c, e);
	c->n++;
	pthread_mutex_unlock(&c->lock);
}

void sqlpg_cache_drop(struct sqlpg_cache *c, const struct sqlpg_cache_key *k)
{
	struct entry **pe;

	if (!c || !k->bytes)
		return;
	pthread_mutex_lock(&c->lock);
	if (*(pe = slot(c, k)))
		remove_at(c, pe);
	pthread_mutex_unlock(&c->lock);
}

size_t sqlpg_cache_count(struct sqlpg_cache *c)
{
	size_t n;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->lock);
	n = c->n;
	pthread_mutex_unlock(&c->lock);
	return n;
}
