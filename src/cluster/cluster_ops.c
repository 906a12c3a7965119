/*
 * cluster_ops.c - the store's operations over Redis (store.h's struct
 * store_ops) and the Lua scripts behind them.
 *
 * Every operation is one round trip on one pooled connection:
 *   - take: one EVALSHA of a token-bucket script over all the buckets of a
 *     call. The script reads Redis's own clock (TIME), so the replicas'
 *     clocks never matter; refills each bucket (a hash: tokens, ts in ms),
 *     takes one token from every bucket or from none, and keeps each for
 *     about the time it takes to refill fully (PEXPIRE), after which a
 *     missing bucket is a full one. Keys PREFIX:rl:BUCKET.
 *   - the cache: a namespace's entries live under its generation
 *     (PREFIX:c:NS:GEN:NAME); clearing the namespace is an INCR of
 *     PREFIX:cg:NS, which strands every older entry until its TTL. get and
 *     put read the generation and the entry in one script. Values arrive
 *     sealed by core (store.c): nothing here is readable.
 *   - marks: SET PREFIX:m:KIND:ID NX EX; marked: EXISTS.
 * Scripts build the cache's entry key from the generation they read, so
 * this works against one Redis (or a primary with replicas), not a Redis
 * Cluster, whose slots a script must know its keys by.
 */
#include "cluster_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 384
#define TAKE_MAX 12 /* buckets of one take (store.c hands at most 8) */

static const char script_take[] =
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	"local have = {}\n"
	"for i = 1, #KEYS do\n"
	"  local cap = tonumber(ARGV[2 * i - 1])\n"
	"  local rate = tonumber(ARGV[2 * i])\n"
	"  local v = redis.call('HMGET', KEYS[i], 'tokens', 'ts')\n"
	"  local tk, ts = tonumber(v[1]), tonumber(v[2])\n"
	"  if tk == nil or ts == nil then\n"
	"    tk = cap\n"
	"  elseif now > ts then\n"
	"    tk = tk + (now - ts) * rate\n"
	"  end\n"
	"  if tk > cap then tk = cap end\n"
	"  if tk < 1 then\n"
	"    local wait = 60000\n"
	"    if rate > 0 then wait = math.ceil((1 - tk) / rate) end\n"
	"    return {i, wait}\n"
	"  end\n"
	"  have[i] = tk\n"
	"end\n"
	"for i = 1, #KEYS do\n"
	"  local cap = tonumber(ARGV[2 * i - 1])\n"
	"  local rate = tonumber(ARGV[2 * i])\n"
	"  redis.call('HSET', KEYS[i], 'tokens', tostring(have[i] - 1), 'ts', tostring(now))\n"
	"  local ttl = 60000\n"
	"  if rate > 0 then ttl = math.ceil(cap / rate) + 1000 end\n"
	"  redis.call('PEXPIRE', KEYS[i], ttl)\n"
	"end\n"
	"return {0, 0}\n";

static const char script_cache_get[] =
	"local g = redis.call('GET', KEYS[1]) or '0'\n"
	"return redis.call('GET', ARGV[1] .. g .. ':' .. ARGV[2])\n";

static const char script_cache_put[] =
	"local g = redis.call('GET', KEYS[1]) or '0'\n"
	"return redis.call('SET', ARGV[1] .. g .. ':' .. ARGV[2], ARGV[3], 'PX', ARGV[4])\n";

static const char script_beat[] =
	"local t = redis.call('TIME')\n"
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"
	"local dead = tonumber(ARGV[2])\n"
	"redis.call('ZADD', KEYS[1], now, ARGV[1])\n"
	"redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - dead)\n"
	"redis.call('PEXPIRE', KEYS[1], dead * 6)\n"
	"return redis.call('ZCARD', KEYS[1])\n";

const char *cluster_script_text(enum cluster_script s)
{
	switch (s) {
	case SCRIPT_TAKE:
		return script_take;
	case SCRIPT_CACHE_GET:
		return script_cache_get;
	case SCRIPT_CACHE_PUT:
		return script_cache_put;
	case SCRIPT_BEAT:
	default:
		return script_beat;
	}
}

/*
 * One round trip: script sc (nkeys keys first in args) or, with sc ==
 * SCRIPT_COUNT, the plain command args. The reply, never an error one,
 * or NULL when the store did not answer (noted: store_note_down(what)).
 */
static redisReply *run(struct cluster *c, const char *what, enum cluster_script sc, int nkeys,
		       const char **args, const size_t *lens, int nargs)
{
	struct cluster_slot *s = cluster_acquire(c);
	redisReply *r;
	bool broken = false;

	if (!s) {
		store_note_down(what);
		return NULL;
	}
	if (sc == SCRIPT_COUNT) {
		r = redisCommandArgv(s->rc, nargs, args, lens);
		broken = r == NULL;
	} else {
		r = cluster_eval(c, s, sc, nkeys, args, lens, nargs, &broken);
	}
	cluster_release(c, s, broken);
	if (r && r->type == REDIS_REPLY_ERROR) {
		freeReplyObject(r);
		r = NULL;
	}
	if (!r)
		store_note_down(what);
	return r;
}

/* snprintf into a key buffer; false when it would be cut. */
static bool key_fmt(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static bool key_fmt(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;
	int w;

	va_start(ap, fmt);
	w = vsnprintf(out, n, fmt, ap);
	va_end(ap);
	return w >= 0 && (size_t)w < n;
}

static enum store_rc op_take(void *ctx, const struct store_bucket *b, size_t n, size_t *which,
			     uint64_t *wait_ms)
{
	struct cluster *c = ctx;
	char keys[TAKE_MAX][KEY_MAX], nums[TAKE_MAX][2][32];
	const char *args[3 * TAKE_MAX];
	redisReply *r;
	enum store_rc rc = STORE_DOWN;

	*which = 0;
	*wait_ms = 0;
	if (n == 0)
		return STORE_OK;
	if (n > TAKE_MAX) {
		store_note_down("take of too many buckets");
		return STORE_DOWN;
	}
	for (size_t i = 0; i < n; i++) {
		if (!key_fmt(keys[i], KEY_MAX, "%s:rl:%s", c->cfg.prefix, b[i].key)) {
			store_note_down("take: a bucket name too long");
			return STORE_DOWN;
		}
		snprintf(nums[i][0], sizeof(nums[i][0]), "%.17g", b[i].capacity);
		snprintf(nums[i][1], sizeof(nums[i][1]), "%.17g", b[i].per_ms);
		args[i] = keys[i];
		args[n + 2 * i] = nums[i][0];
		args[n + 2 * i + 1] = nums[i][1];
	}
	r = run(c, "take", SCRIPT_TAKE, (int)n, args, NULL, (int)(3 * n));
	if (!r)
		return STORE_DOWN;
	if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
	    r->element[0]->type == REDIS_REPLY_INTEGER && r->element[1]->type == REDIS_REPLY_INTEGER) {
		long long idx = r->element[0]->integer, w = r->element[1]->integer;
		if (idx == 0) {
			rc = STORE_OK;
		} else if (idx >= 1 && (size_t)idx <= n) {
			*which = (size_t)idx - 1;
			*wait_ms = w > 0 ? (uint64_t)w : 0;
			rc = STORE_EMPTY;
		}
	}
	freeReplyObject(r);
	if (rc == STORE_DOWN)
		store_note_down("take: an unexpected reply");
	return rc;
}

/* The generation key and the entry prefix of namespace ns. */
static bool cache_keys(struct cluster *c, const char *ns, char gen[KEY_MAX], char pre[KEY_MAX])
{
	return key_fmt(gen, KEY_MAX, "%s:cg:%s", c->cfg.prefix, ns) &&
	       key_fmt(pre, KEY_MAX, "%s:c:%s:", c->cfg.prefix, ns);
}

static enum store_rc op_cache_get(void *ctx, const char *ns, const char *name, char **val,
				  size_t *len)
{
	struct cluster *c = ctx;
	char gen[KEY_MAX], pre[KEY_MAX];
	const char *args[3] = {gen, pre, name};
	redisReply *r;
	enum store_rc rc;

	*val = NULL;
	*len = 0;
	if (!cache_keys(c, ns, gen, pre)) {
		store_note_down("cache: a namespace too long");
		return STORE_DOWN;
	}
	r = run(c, "cache_get", SCRIPT_CACHE_GET, 1, args, NULL, 3);
	if (!r)
		return STORE_DOWN;
	if (r->type == REDIS_REPLY_STRING) {
		*val = malloc(r->len + 1);
		if (*val) {
			memcpy(*val, r->str, r->len);
			(*val)[r->len] = '\0';
			*len = r->len;
		}
		rc = *val ? STORE_OK : STORE_DOWN;
	} else {
		rc = STORE_EMPTY;
	}
	freeReplyObject(r);
	return rc;
}

static enum store_rc op_cache_put(void *ctx, const char *ns, const char *name, const char *val,
				  size_t len, uint64_t ttl_ms)
{
	struct cluster *c = ctx;
	char gen[KEY_MAX], pre[KEY_MAX], ttl[24];
	const char *args[5] = {gen, pre, name, val, ttl};
	size_t lens[5];
	redisReply *r;

	if (!cache_keys(c, ns, gen, pre)) {
		store_note_down("cache: a namespace too long");
		return STORE_DOWN;
	}
	snprintf(ttl, sizeof(ttl), "%llu", (unsigned long long)(ttl_ms ? ttl_ms : 1));
	for (int i = 0; i < 5; i++)
		lens[i] = i == 3 ? len : strlen(args[i]);
	r = run(c, "cache_put", SCRIPT_CACHE_PUT, 1, args, lens, 5);
	if (!r)
		return STORE_DOWN;
	freeReplyObject(r);
	return STORE_OK;
}

static enum store_rc op_cache_clear(void *ctx, const char *ns)
{
	struct cluster *c = ctx;
	char gen[KEY_MAX];
	const char *args[2] = {"INCR", gen};
	redisReply *r;

	if (!key_fmt(gen, KEY_MAX, "%s:cg:%s", c->cfg.prefix, ns)) {
		store_note_down("cache: a namespace too long");
		return STORE_DOWN;
	}
	r = run(c, "cache_clear", SCRIPT_COUNT, 0, args, NULL, 2);
	if (!r)
		return STORE_DOWN;
	freeReplyObject(r);
	return STORE_OK;
}

static enum store_rc op_mark(void *ctx, const char *kind, const char *id, uint32_t ttl_s)
{
	struct cluster *c = ctx;
	char key[KEY_MAX], ttl[16];
	const char *args[6] = {"SET", key, "1", "NX", "EX", ttl};
	redisReply *r;
	enum store_rc rc;

	if (!key_fmt(key, KEY_MAX, "%s:m:%s:%s", c->cfg.prefix, kind, id)) {
		store_note_down("mark: an id too long");
		return STORE_DOWN;
	}
	snprintf(ttl, sizeof(ttl), "%u", ttl_s ? ttl_s : 1);
	r = run(c, "mark", SCRIPT_COUNT, 0, args, NULL, 6);
	if (!r)
		return STORE_DOWN;
	rc = r->type == REDIS_REPLY_STATUS ? STORE_OK : STORE_EMPTY; /* nil: it was there */
	freeReplyObject(r);
	return rc;
}

static enum store_rc op_marked(void *ctx, const char *kind, const char *id)
{
	struct cluster *c = ctx;
	char key[KEY_MAX];
	const char *args[2] = {"EXISTS", key};
	redisReply *r;
	enum store_rc rc;

	if (!key_fmt(key, KEY_MAX, "%s:m:%s:%s", c->cfg.prefix, kind, id)) {
		store_note_down("mark: an id too long");
		return STORE_DOWN;
	}
	r = run(c, "marked", SCRIPT_COUNT, 0, args, NULL, 2);
	if (!r)
		return STORE_DOWN;
	rc = r->type == REDIS_REPLY_INTEGER && r->integer > 0 ? STORE_OK : STORE_EMPTY;
	freeReplyObject(r);
	return rc;
}

const struct store_ops cluster_store_ops = {
	.take = op_take,
	.cache_get = op_cache_get,
	.cache_put = op_cache_put,
	.cache_clear = op_cache_clear,
	.mark = op_mark,
	.marked = op_marked,
	.replicas = cluster_op_replicas,
	.ready = cluster_op_ready,
};
