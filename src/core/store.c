/*
 * store.c - core's side of the shared store: limits taken across replicas
 * with a fallback, one-time marks, and the sealed shared cache (store.h).
 *
 * Without an installed store everything is local: limits_take takes from
 * the process's buckets, marks live in a bounded process-wide set. With
 * one, the store is asked first; the local set still records every mark,
 * so a replica refuses its own replays even while the store is down.
 */
#include "store.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "seal.h"

static const struct store_ops *g_ops;
static void *g_ctx;
static enum store_fallback g_fallback;

static atomic_uint_fast64_t c_fallbacks, c_refusals, c_errors, c_hits, c_misses;
static atomic_bool g_down_logged;

void store_install(const struct store_ops *ops, void *ctx, enum store_fallback fallback)
{
	g_ops = ops;
	g_ctx = ctx;
	g_fallback = fallback;
	atomic_store(&g_down_logged, false);
}

bool store_active(void)
{
	return g_ops != NULL;
}

bool store_ready(void)
{
	return !g_ops || !g_ops->ready || g_ops->ready(g_ctx);
}

unsigned store_replicas(void)
{
	unsigned n = g_ops && g_ops->replicas ? g_ops->replicas(g_ctx) : 1;

	return n ? n : 1;
}

void store_note_down(const char *what)
{
	atomic_fetch_add(&c_errors, 1);
	if (!atomic_exchange(&g_down_logged, true))
		log_warn("cluster: the store does not answer (%s); limits follow "
			 "cluster.on_store_failure until it does",
			 what);
}

void store_note_up(void)
{
	if (atomic_exchange(&g_down_logged, false))
		log_info("cluster: the store answers again; shared limits are back");
}

void store_counters_get(struct store_counters *out)
{
	out->fallbacks = atomic_load(&c_fallbacks);
	out->refusals = atomic_load(&c_refusals);
	out->errors = atomic_load(&c_errors);
	out->cache_hits = atomic_load(&c_hits);
	out->cache_misses = atomic_load(&c_misses);
}

void bucket_set_key(struct token_bucket *b, const char *fmt, ...)
{
	char full[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(full, sizeof(full), fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->key[0] = '\0';
		return;
	}
	if ((size_t)n < sizeof(b->key)) {
		memcpy(b->key, full, (size_t)n + 1);
		return;
	}
	/* Too long (a JWT subject may have 127 bytes): a prefix and a hash
	 * of the whole, the same on every replica. FNV-1a 64 needs no key;
	 * two names that collided would share a bucket, and the names come
	 * from the config and the identity provider's signed tokens. */
	uint64_t h = 0xcbf29ce484222325u;
	size_t len = (size_t)n < sizeof(full) ? (size_t)n : sizeof(full) - 1;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)full[i]) * 0x100000001b3u;
	snprintf(b->key, sizeof(b->key), "%.*s~%016llx", (int)(sizeof(b->key) - 18), full,
		 (unsigned long long)h);
}

/* ---- limits ------------------------------------------------------------- */

#define TAKE_MAX 8

/* Which of a call's buckets a local take touches while a store is
 * installed: those without a key (bit i of keyed clear) or those with one
 * (set). */
enum pick { PICK_UNKEYED, PICK_KEYED };

static bool picked(const struct token_bucket *b, size_t i, enum pick p, uint32_t keyed)
{
	return b && (p == PICK_KEYED) == ((keyed >> i) & 1u);
}

/* Give back what take_local took from bs[0..upto). */
static void give_back(struct token_bucket *const *bs, size_t upto, enum pick p, uint32_t keyed,
		      unsigned divisor)
{
	for (size_t i = 0; i < upto; i++)
		if (picked(bs[i], i, p, keyed))
			bucket_give_back_scaled(bs[i], (keyed >> i) & 1u ? divisor : 1);
}

/*
 * Take from this process's buckets (those p picks), all or none: a
 * refusal gives back what the earlier buckets of the call gave. divisor
 * > 1 scales each shared bucket (keyed) down to this replica's share
 * while the store is down.
 */
static enum limits_rc take_local(struct token_bucket *const *bs, size_t n, enum pick p,
				 uint32_t keyed, unsigned divisor, size_t *which, uint64_t *wait_ns)
{
	uint64_t now = moat_now_ns();

	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (!picked(bs[i], i, p, keyed))
			continue;
		d = (keyed >> i) & 1u ? divisor : 1;
		if (!bucket_take_scaled(bs[i], now, d)) {
			give_back(bs, i, p, keyed, divisor);
			*which = i;
			if (wait_ns)
				*wait_ns = bucket_wait_ns(bs[i], now) * d;
			return LIMITS_EMPTY;
		}
	}
	return LIMITS_OK;
}

/* take_local for a process without a store (every bucket, unscaled): the
 * path of every call of a single moat, kept to the bucket_take calls it
 * replaced. */
static enum limits_rc take_all(struct token_bucket *const *bs, size_t n, size_t *which,
			       uint64_t *wait_ns)
{
	uint64_t now = moat_now_ns();

	for (size_t i = 0; i < n; i++) {
		if (!bs[i] || bucket_take(bs[i], now))
			continue;
		for (size_t j = 0; j < i; j++)
			if (bs[j])
				bucket_give_back_scaled(bs[j], 1);
		*which = i;
		if (wait_ns)
			*wait_ns = bucket_wait_ns(bs[i], now);
		return LIMITS_EMPTY;
	}
	return LIMITS_OK;
}

enum limits_rc limits_take(struct token_bucket *const *bs, size_t n, bool write, size_t *which,
			   uint64_t *wait_ns)
{
	struct store_bucket sb[TAKE_MAX];
	char keys[TAKE_MAX][sizeof(((struct token_bucket *)0)->key)];
	size_t idx[TAKE_MAX], m = 0, w = 0;
	uint32_t keyed = 0;
	uint64_t wait_ms = 0;
	enum store_rc rc;
	enum limits_rc lrc;

	if (!g_ops || !g_ops->take)
		return take_all(bs, n, which, wait_ns);
	*which = 0;
	if (wait_ns)
		*wait_ns = 0;
	if (n > TAKE_MAX)
		n = TAKE_MAX; /* a call has at most four; more is a bug */
	for (size_t i = 0; i < n; i++) {
		if (!bs[i] || bs[i]->capacity == 0.0)
			continue;
		/* Under the bucket's lock: a JWT subject's slot may be renamed
		 * for another subject (auth_subjects.c). */
		pthread_mutex_lock(&bs[i]->lock);
		memcpy(keys[m], bs[i]->key, sizeof(keys[m]));
		pthread_mutex_unlock(&bs[i]->lock);
		if (!keys[m][0])
			continue;
		keyed |= 1u << i;
		sb[m].key = keys[m];
		sb[m].capacity = bs[i]->capacity;
		sb[m].per_ms = bs[i]->rate_per_ns * 1e6;
		idx[m++] = i;
	}
	if (m == 0)
		return take_all(bs, n, which, wait_ns);
	/* The buckets without a key first (this process's), then the store. */
	if ((lrc = take_local(bs, n, PICK_UNKEYED, keyed, 1, which, wait_ns)) != LIMITS_OK)
		return lrc;
	rc = g_ops->take(g_ctx, sb, m, &w, &wait_ms);
	if (rc == STORE_OK)
		return LIMITS_OK;
	if (rc == STORE_EMPTY) {
		give_back(bs, n, PICK_UNKEYED, keyed, 1);
		*which = w < m ? idx[w] : idx[0];
		if (wait_ns)
			*wait_ns = wait_ms * 1000000u;
		return LIMITS_EMPTY;
	}
	if (g_fallback == STORE_FALLBACK_REFUSE || (g_fallback == STORE_FALLBACK_AUTO && write)) {
		give_back(bs, n, PICK_UNKEYED, keyed, 1);
		atomic_fetch_add(&c_refusals, 1);
		return LIMITS_STORE_DOWN;
	}
	atomic_fetch_add(&c_fallbacks, 1);
	/* The buckets without a key were taken above: the shared ones now,
	 * from this process's copy at this replica's share. */
	lrc = take_local(bs, n, PICK_KEYED, keyed, store_replicas(), which, wait_ns);
	if (lrc != LIMITS_OK)
		give_back(bs, n, PICK_UNKEYED, keyed, 1);
	return lrc;
}

const char *limits_store_down_message(bool write)
{
	if (g_fallback == STORE_FALLBACK_AUTO && write)
		return "limit store unavailable: the shared limit store does not answer and "
		       "cluster.on_store_failure is \"auto\", which refuses a call that may write "
		       "until it does; retry later";
	return "limit store unavailable: the shared limit store does not answer and "
	       "cluster.on_store_failure is \"refuse\"; retry later";
}

/* ---- marks -------------------------------------------------------------- */

/*
 * The marks this process made, until they expire: bounded; when every
 * slot holds a live mark, a new one cannot be recorded and store_mark
 * answers STORE_DOWN (the caller refuses rather than forget one).
 */
#define MARKS_MAX 4096
#define MARK_ID_MAX 96

static struct {
	pthread_mutex_t lock;
	struct {
		char id[MARK_ID_MAX]; /* "kind:id" */
		uint64_t exp;
	} slot[MARKS_MAX];
} g_marks = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* STORE_OK: newly recorded (record true) or not present; STORE_EMPTY:
 * present; STORE_DOWN: full. */
static enum store_rc local_mark(const char *kind, const char *id, uint32_t ttl_s, bool record)
{
	uint64_t now = (uint64_t)time(NULL);
	size_t free_slot = MARKS_MAX;
	enum store_rc rc = STORE_OK;
	char full[MARK_ID_MAX];

	snprintf(full, sizeof(full), "%s:%s", kind, id);
	pthread_mutex_lock(&g_marks.lock);
	for (size_t i = 0; i < MARKS_MAX; i++) {
		if (g_marks.slot[i].exp <= now) {
			if (free_slot == MARKS_MAX)
				free_slot = i;
			continue;
		}
		if (strcmp(g_marks.slot[i].id, full) == 0) {
			rc = STORE_EMPTY;
			break;
		}
	}
	if (rc == STORE_OK && record) {
		if (free_slot == MARKS_MAX) {
			rc = STORE_DOWN;
		} else {
			memcpy(g_marks.slot[free_slot].id, full, sizeof(full));
			g_marks.slot[free_slot].exp = now + (ttl_s ? ttl_s : 1);
		}
	}
	pthread_mutex_unlock(&g_marks.lock);
	return rc;
}

enum store_rc store_mark(const char *kind, const char *id, uint32_t ttl_s)
{
	enum store_rc rc = local_mark(kind, id, ttl_s, false);

	if (rc != STORE_OK)
		return rc;
	if (g_ops && g_ops->mark) {
		rc = g_ops->mark(g_ctx, kind, id, ttl_s);
		if (rc == STORE_DOWN)
			return rc;
		if (rc == STORE_EMPTY) {
			local_mark(kind, id, ttl_s, true);
			return rc;
		}
	}
	rc = local_mark(kind, id, ttl_s, true);
	return rc;
}

enum store_rc store_marked(const char *kind, const char *id)
{
	enum store_rc rc = local_mark(kind, id, 0, false);

	if (rc == STORE_EMPTY)
		return STORE_OK; /* marked here */
	if (g_ops && g_ops->marked)
		return g_ops->marked(g_ctx, kind, id);
	return STORE_EMPTY;
}

/* ---- the shared cache --------------------------------------------------- */

/* The store's name for an entry: HMAC of ns, principal and key. */
static bool entry_name(const char *ns, const char *principal, const char *key, char out[65])
{
	size_t a = strlen(ns), b = principal ? strlen(principal) : 0, c = strlen(key);
	char *buf = malloc(a + b + c + 3);
	bool ok;

	if (!buf)
		return false;
	memcpy(buf, ns, a);
	buf[a] = '\n';
	memcpy(buf + a + 1, principal ? principal : "", b);
	buf[a + 1 + b] = '\n';
	memcpy(buf + a + 2 + b, key, c);
	ok = seal_mac_hex("moat cache name v1", buf, a + b + c + 2, out);
	explicit_bzero(buf, a + b + c + 2);
	free(buf);
	return ok;
}

/* What an entry is sealed to: "cache NS", the principal ("*" for all),
 * and the key (as the arguments). */
static json_t *entry_claims(const char *ns, const char *principal, const char *key,
			    struct seal_claims *c, char *subject, size_t n)
{
	json_t *args = json_pack("{s:s}", "key", key);

	snprintf(subject, n, "cache %s", ns);
	c->subject = subject;
	c->principal = principal ? principal : "*";
	c->args = args;
	return args;
}

enum store_rc store_cache_get(const char *ns, const char *principal, const char *key,
			      json_t **value)
{
	char name[65], subject[160];
	struct seal_claims c;
	struct moat_err err = {0};
	char *val = NULL;
	size_t len = 0;
	json_t *args, *body = NULL;
	enum store_rc rc;

	*value = NULL;
	if (!g_ops || !g_ops->cache_get || !entry_name(ns, principal, key, name))
		return STORE_DOWN;
	rc = g_ops->cache_get(g_ctx, ns, name, &val, &len);
	if (rc != STORE_OK) {
		if (rc == STORE_EMPTY)
			atomic_fetch_add(&c_misses, 1);
		return rc;
	}
	args = entry_claims(ns, principal, key, &c, subject, sizeof(subject));
	rc = args && seal_open(val, &c, 0, &body, NULL, &err) == MOAT_OK ? STORE_OK : STORE_EMPTY;
	json_decref(args);
	free(val);
	if (rc == STORE_OK) {
		atomic_fetch_add(&c_hits, 1);
		*value = body;
	} else {
		atomic_fetch_add(&c_misses, 1);
	}
	return rc;
}

enum store_rc store_cache_put(const char *ns, const char *principal, const char *key,
			      const json_t *value, uint64_t ttl_ms)
{
	char name[65], subject[160];
	struct seal_claims c;
	struct moat_err err = {0};
	json_t *args;
	char *sealed;
	enum store_rc rc;
	uint32_t ttl_s = (uint32_t)((ttl_ms + 999) / 1000);

	if (!g_ops || !g_ops->cache_put || ttl_ms == 0 || !entry_name(ns, principal, key, name))
		return STORE_DOWN;
	args = entry_claims(ns, principal, key, &c, subject, sizeof(subject));
	/* The seal's own expiry is a second past the store's TTL: the store
	 * drops the entry first; the seal refuses one a store kept too long. */
	sealed = args ? seal_box_ttl(&c, value, 0, ttl_s + 1, &err) : NULL;
	json_decref(args);
	if (!sealed)
		return STORE_DOWN;
	rc = g_ops->cache_put(g_ctx, ns, name, sealed, strlen(sealed), ttl_ms);
	free(sealed);
	return rc;
}

enum store_rc store_cache_clear(const char *ns)
{
	if (!g_ops || !g_ops->cache_clear)
		return STORE_DOWN;
	return g_ops->cache_clear(g_ctx, ns);
}
