/*
 * resp_cache.c - the in-memory response cache of the declared API tools.
 *
 * A chained hash table (power-of-two buckets, keyed SipHash-2-4 with a
 * random per-cache key, so keys chosen by a caller cannot be made to pile
 * into one bucket) plus a doubly linked LRU list, newest at the head. Each
 * entry is one allocation: the node, then "key\0", "content type\0" (when
 * there is one) and "body\0". Removing an entry for any reason (eviction,
 * expiry, replacement, clear, free) goes through rc_node_free(), which
 * wipes the whole allocation with explicit_bzero() before free().
 *
 * Accounting: an entry costs its allocation (node struct, key, content
 * type and body, each with its NUL) plus one bucket pointer; bytes is the
 * sum of those costs and never exceeds max_bytes. The bucket array itself
 * may hold up to two slots per entry after growth (it is never shrunk);
 * one slot per entry is what is counted.
 *
 * Decisions where the header is silent:
 *  - An entry is fresh while now_ns < now_at_put + ttl_ns: at the deadline
 *    it has expired. The sum saturates at UINT64_MAX.
 *  - A put that stores nothing (ttl_ns 0, an entry bigger than max_bytes,
 *    or ENOMEM) still removes an older entry under the same key: a get
 *    never returns a response older than the latest put for its key.
 *    ttl_ns 0 and oversize return true; ENOMEM returns false.
 *  - rcache_put accepts e->body NULL when e->body_len is 0 (an empty body);
 *    NULL c, key or e, or a NULL body with a length, return false.
 *  - rcache_get zeroes *out first, so wiping *out after a miss is safe. A
 *    hit always hands out a non-NULL, NUL-terminated body.
 *  - Expired entries are removed when a get finds them and, on each put,
 *    among the (at most) 8 least recently used entries.
 *  - If getrandom() fails, the SipHash key falls back to clock and address
 *    bits: weaker against chosen collisions, still correct.
 *
 * Nothing here logs. Thread-safe: one mutex per cache; hashing and the
 * new entry's allocation and copy happen before it is taken.
 */
#include "resp_cache.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define RC_MIN_BUCKETS 16
#define RC_PURGE_MAX 8 /* entries looked at for expiry on each put */

struct rc_node {
	struct rc_node *newer, *older; /* LRU neighbours */
	struct rc_node *chain;         /* next in the same bucket */
	uint64_t hash;
	uint64_t expires_ns; /* fresh while now_ns < expires_ns */
	size_t size;         /* bytes of this allocation, all wiped on free */
	size_t cost;         /* what it counts against max_bytes */
	size_t key_len;
	size_t ct_len;
	size_t body_len;
	long status;
	char *ct;   /* points into key[], or NULL */
	char *body; /* points into key[] */
	char key[]; /* "key\0" ["ct\0"] "body\0" */
};

struct rcache {
	pthread_mutex_t lock;
	struct rc_node **buckets;
	size_t nbuckets; /* a power of two */
	struct rc_node *newest, *oldest;
	size_t entries;
	size_t bytes;
	size_t max_bytes;
	uint64_t k0, k1; /* SipHash key */
};

/* --- SipHash-2-4 (Aumasson and Bernstein, 2012) --- */

static uint64_t rc_load_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t rc_rotl(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static void rc_sipround(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rc_rotl(v[1], 13);
	v[1] ^= v[0];
	v[0] = rc_rotl(v[0], 32);
	v[2] += v[3];
	v[3] = rc_rotl(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = rc_rotl(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = rc_rotl(v[1], 17);
	v[1] ^= v[2];
	v[2] = rc_rotl(v[2], 32);
}

static uint64_t rc_siphash(uint64_t k0, uint64_t k1, const unsigned char *in, size_t len)
{
	uint64_t v[4] = {
		k0 ^ UINT64_C(0x736f6d6570736575),
		k1 ^ UINT64_C(0x646f72616e646f6d),
		k0 ^ UINT64_C(0x6c7967656e657261),
		k1 ^ UINT64_C(0x7465646279746573),
	};
	uint64_t last = (uint64_t)len << 56;
	size_t tail = len & 7;

	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t m = rc_load_le64(in + i);

		v[3] ^= m;
		rc_sipround(v);
		rc_sipround(v);
		v[0] ^= m;
	}
	for (size_t i = 0; i < tail; i++)
		last |= (uint64_t)in[len - tail + i] << (8 * i);
	v[3] ^= last;
	rc_sipround(v);
	rc_sipround(v);
	v[0] ^= last;
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		rc_sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static void rc_seed(struct rcache *c)
{
	unsigned char k[16];
	size_t got = 0;

	while (got < sizeof(k)) {
		ssize_t r = getrandom(k + got, sizeof(k) - got, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)r;
	}
	if (got == sizeof(k)) {
		c->k0 = rc_load_le64(k);
		c->k1 = rc_load_le64(k + 8);
	} else {
		struct timespec rt = { 0 }, mt = { 0 };

		clock_gettime(CLOCK_REALTIME, &rt);
		clock_gettime(CLOCK_MONOTONIC, &mt);
		c->k0 = ((uint64_t)rt.tv_sec << 30) ^ (uint64_t)rt.tv_nsec ^ (uint64_t)(uintptr_t)c;
		c->k1 = ((uint64_t)mt.tv_sec << 30) ^ (uint64_t)mt.tv_nsec ^ ((uint64_t)getpid() << 40);
	}
	explicit_bzero(k, sizeof(k));
}

/* --- nodes, buckets and the LRU list; all called with c->lock held --- */

static void rc_node_free(struct rc_node *n)
{
	explicit_bzero(n, n->size);
	free(n);
}

/* rc_find - the link (bucket head or a node's chain field) that points at
 * key's node, or at the NULL ending its bucket's chain. */
static struct rc_node **rc_find(struct rcache *c, uint64_t hash, const char *key, size_t key_len)
{
	struct rc_node **link = &c->buckets[hash & (c->nbuckets - 1)];

	while (*link) {
		struct rc_node *n = *link;

		if (n->hash == hash && n->key_len == key_len && memcmp(n->key, key, key_len) == 0)
			break;
		link = &n->chain;
	}
	return link;
}

static void rc_lru_unlink(struct rcache *c, struct rc_node *n)
{
	if (n->newer)
		n->newer->older = n->older;
	else
		c->newest = n->older;
	if (n->older)
		n->older->newer = n->newer;
	else
		c->oldest = n->newer;
	n->newer = n->older = NULL;
}

static void rc_lru_push(struct rcache *c, struct rc_node *n)
{
	n->older = c->newest;
	n->newer = NULL;
	if (c->newest)
		c->newest->newer = n;
	else
		c->oldest = n;
	c->newest = n;
}

/* rc_remove - unlink the node *link points at, uncount, wipe and free it. */
static void rc_remove(struct rcache *c, struct rc_node **link)
{
	struct rc_node *n = *link;

	*link = n->chain;
	rc_lru_unlink(c, n);
	c->entries--;
	c->bytes -= n->cost;
	rc_node_free(n);
}

/* rc_remove_node - rc_remove for a node known only by its address. */
static void rc_remove_node(struct rcache *c, struct rc_node *n)
{
	struct rc_node **link = &c->buckets[n->hash & (c->nbuckets - 1)];

	while (*link != n)
		link = &(*link)->chain;
	rc_remove(c, link);
}

/* rc_purge - remove expired entries among the RC_PURGE_MAX oldest. */
static void rc_purge(struct rcache *c, uint64_t now_ns)
{
	struct rc_node *n = c->oldest;

	for (int i = 0; n && i < RC_PURGE_MAX; i++) {
		struct rc_node *next = n->newer;

		if (now_ns >= n->expires_ns)
			rc_remove_node(c, n);
		n = next;
	}
}

/* rc_grow - double the bucket array once entries outnumber buckets. On
 * ENOMEM the old array stays: chains get longer, nothing breaks. */
static void rc_grow(struct rcache *c)
{
	size_t nb = c->nbuckets * 2;
	struct rc_node **nt;

	if (c->entries <= c->nbuckets || nb > SIZE_MAX / sizeof(*nt))
		return;
	nt = calloc(nb, sizeof(*nt));
	if (!nt)
		return;
	for (size_t i = 0; i < c->nbuckets; i++) {
		struct rc_node *n = c->buckets[i];

		while (n) {
			struct rc_node *next = n->chain;
			struct rc_node **head = &nt[n->hash & (nb - 1)];

			n->chain = *head;
			*head = n;
			n = next;
		}
	}
	free(c->buckets);
	c->buckets = nt;
	c->nbuckets = nb;
}

/* rc_add - *acc += v, false on overflow. */
static bool rc_add(size_t *acc, size_t v)
{
	if (v > SIZE_MAX - *acc)
		return false;
	*acc += v;
	return true;
}

/* rc_node_new - a node holding copies of key and e. *oversize is set (and
 * NULL returned) when its cost would exceed max_bytes; NULL otherwise
 * means ENOMEM. */
static struct rc_node *rc_node_new(const char *key, size_t key_len, const struct rcache_entry *e,
				   size_t max_bytes, bool *oversize)
{
	size_t ct_len = e->content_type ? strlen(e->content_type) : 0;
	size_t size = sizeof(struct rc_node);
	size_t cost;
	struct rc_node *n;
	char *p;

	*oversize = true;
	if (!rc_add(&size, key_len) || !rc_add(&size, 1) ||
	    (e->content_type && (!rc_add(&size, ct_len) || !rc_add(&size, 1))) ||
	    !rc_add(&size, e->body_len) || !rc_add(&size, 1))
		return NULL;
	cost = size;
	if (!rc_add(&cost, sizeof(struct rc_node *)) || cost > max_bytes)
		return NULL;
	*oversize = false;
	n = malloc(size);
	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->size = size;
	n->cost = cost;
	n->key_len = key_len;
	n->ct_len = ct_len;
	n->body_len = e->body_len;
	n->status = e->status;
	p = n->key;
	memcpy(p, key, key_len + 1);
	p += key_len + 1;
	if (e->content_type) {
		n->ct = p;
		memcpy(p, e->content_type, ct_len + 1);
		p += ct_len + 1;
	}
	n->body = p;
	if (e->body_len)
		memcpy(p, e->body, e->body_len);
	p[e->body_len] = '\0';
	return n;
}

/* --- the API --- */

struct rcache *rcache_new(size_t max_bytes)
{
	struct rcache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->nbuckets = RC_MIN_BUCKETS;
	c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
	if (!c->buckets || pthread_mutex_init(&c->lock, NULL) != 0) {
		free(c->buckets);
		free(c);
		return NULL;
	}
	c->max_bytes = max_bytes;
	rc_seed(c);
	return c;
}

/* rc_clear_locked - wipe and free every entry; the bucket array stays. */
static void rc_clear_locked(struct rcache *c)
{
	struct rc_node *n = c->newest;

	while (n) {
		struct rc_node *next = n->older;

		rc_node_free(n);
		n = next;
	}
	memset(c->buckets, 0, c->nbuckets * sizeof(*c->buckets));
	c->newest = c->oldest = NULL;
	c->entries = 0;
	c->bytes = 0;
}

void rcache_free(struct rcache *c)
{
	if (!c)
		return;
	rc_clear_locked(c); /* the caller guarantees no other thread uses c */
	free(c->buckets);
	pthread_mutex_destroy(&c->lock);
	explicit_bzero(c, sizeof(*c)); /* the SipHash key */
	free(c);
}

void rcache_clear(struct rcache *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	rc_clear_locked(c);
	pthread_mutex_unlock(&c->lock);
}

bool rcache_get(struct rcache *c, const char *key, uint64_t now_ns, struct rcache_entry *out)
{
	struct rc_node **link;
	struct rc_node *n;
	size_t key_len;
	uint64_t hash;
	bool hit = false;

	if (out)
		memset(out, 0, sizeof(*out));
	if (!c || !key || !out)
		return false;
	key_len = strlen(key);
	hash = rc_siphash(c->k0, c->k1, (const unsigned char *)key, key_len);
	pthread_mutex_lock(&c->lock);
	link = rc_find(c, hash, key, key_len);
	n = *link;
	if (!n)
		goto out;
	if (now_ns >= n->expires_ns) {
		rc_remove(c, link);
		goto out;
	}
	if (n->ct) {
		out->content_type = malloc(n->ct_len + 1);
		if (!out->content_type)
			goto out;
		memcpy(out->content_type, n->ct, n->ct_len + 1);
	}
	out->body = malloc(n->body_len + 1);
	if (!out->body) {
		rcache_entry_wipe(out);
		goto out;
	}
	memcpy(out->body, n->body, n->body_len + 1);
	out->body_len = n->body_len;
	out->status = n->status;
	rc_lru_unlink(c, n);
	rc_lru_push(c, n);
	hit = true;
out:
	pthread_mutex_unlock(&c->lock);
	return hit;
}

bool rcache_put(struct rcache *c, const char *key, const struct rcache_entry *e,
		uint64_t now_ns, uint64_t ttl_ns)
{
	struct rc_node *n = NULL;
	struct rc_node **link;
	size_t key_len;
	uint64_t hash;
	bool oversize = false;

	if (!c || !key || !e || (!e->body && e->body_len))
		return false;
	key_len = strlen(key);
	hash = rc_siphash(c->k0, c->k1, (const unsigned char *)key, key_len);
	if (ttl_ns) {
		n = rc_node_new(key, key_len, e, c->max_bytes, &oversize);
		if (n) {
			n->hash = hash;
			n->expires_ns = ttl_ns > UINT64_MAX - now_ns ? UINT64_MAX : now_ns + ttl_ns;
		}
	}
	pthread_mutex_lock(&c->lock);
	rc_purge(c, now_ns);
	link = rc_find(c, hash, key, key_len);
	if (*link)
		rc_remove(c, link); /* replaced, or superseded by what is not stored */
	if (n) {
		while (c->bytes > c->max_bytes - n->cost) /* cost <= max_bytes */
			rc_remove_node(c, c->oldest);
		c->entries++;
		c->bytes += n->cost;
		rc_grow(c);
		link = &c->buckets[hash & (c->nbuckets - 1)];
		n->chain = *link;
		*link = n;
		rc_lru_push(c, n);
	}
	pthread_mutex_unlock(&c->lock);
	return n || !ttl_ns || oversize;
}

void rcache_stats(struct rcache *c, size_t *entries, size_t *bytes)
{
	size_t ne = 0, nb = 0;

	if (c) {
		pthread_mutex_lock(&c->lock);
		ne = c->entries;
		nb = c->bytes;
		pthread_mutex_unlock(&c->lock);
	}
	if (entries)
		*entries = ne;
	if (bytes)
		*bytes = nb;
}

void rcache_entry_wipe(struct rcache_entry *e)
{
	if (!e)
		return;
	if (e->content_type) {
		explicit_bzero(e->content_type, strlen(e->content_type) + 1);
		free(e->content_type);
	}
	if (e->body) {
		explicit_bzero(e->body, e->body_len + 1);
		free(e->body);
	}
	explicit_bzero(e, sizeof(*e));
}
