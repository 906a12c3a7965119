/*
 * cluster_conn.c - the cluster store's connections to Redis: a small
 * bounded pool, the down state, and the background thread that
 * reconnects with backoff and keeps the heartbeat (cluster.h).
 *
 * hiredis's blocking API, one context per slot, each used by one thread at
 * a time (the pool lends it). A command that fails (an I/O error, or no
 * answer within timeout_ms: SO_RCVTIMEO through redisSetTimeout) closes
 * its connection and marks the store down; every idle connection is
 * closed with it (they lead to the same Redis). While down, cluster_acquire
 * answers NULL at once, so no call waits on a dead Redis. The background
 * thread connects again (100 ms, doubling to 5 s), refills the pool and
 * marks the store up; up, it beats every 2 s: this replica's member of
 * PREFIX:replicas gets Redis's own time as its score, members silent for
 * 10 s are removed, and the rest are counted (store_replicas()).
 */
#include "cluster_int.h"

#include <errno.h>
#include <nettle/sha1.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define BEAT_MS 2000          /* heartbeat period */
#define BEAT_DEAD_MS 10000    /* a replica silent this long is not counted */
#define READY_MS 5000         /* ready while the last beat is this recent */
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 5000

static struct timeval tv_ms(uint32_t ms)
{
	return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
}

static struct timespec deadline_ms(uint32_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* One command on rc; the reply (caller frees) or NULL on a broken
 * connection. */
static redisReply *command(redisContext *rc, int argc, const char **argv)
{
	return redisCommandArgv(rc, argc, argv, NULL);
}

/*
 * Connect, AUTH, SELECT and load the scripts. NULL on failure with why
 * (no secret in it) and *refused set when Redis answered but refused (the
 * password, the database): a setting, not an outage.
 */
static redisContext *conn_open(struct cluster *c, char *why, size_t n, const char **rule)
{
	const struct cluster_cfg *k = &c->cfg;
	redisContext *rc = redisConnectWithTimeout(k->host, k->port, tv_ms(k->connect_timeout_ms));
	redisReply *r;
	char db[16];

	*rule = NULL;
	if (!rc || rc->err) {
		snprintf(why, n, "%s", rc ? rc->errstr : "out of memory");
		goto fail;
	}
	if (redisSetTimeout(rc, tv_ms(k->timeout_ms)) != REDIS_OK ||
	    redisEnableKeepAlive(rc) != REDIS_OK) {
		snprintf(why, n, "cannot set the socket's timeout");
		goto fail;
	}
	if (k->password[0]) {
		const char *av[3] = {"AUTH", k->username[0] ? k->username : k->password,
				     k->password};
		r = command(rc, k->username[0] ? 3 : 2, av);
		if (!r) {
			snprintf(why, n, "%s", rc->errstr);
			goto fail;
		}
		if (r->type == REDIS_REPLY_ERROR) {
			/* Redis's own words (WRONGPASS ...) never repeat the password. */
			snprintf(why, n, "Redis refused the credentials (AUTH): %.120s", r->str);
			*rule = "cluster.auth";
			freeReplyObject(r);
			goto fail;
		}
		freeReplyObject(r);
	}
	if (k->db) {
		const char *av[2] = {"SELECT", db};
		snprintf(db, sizeof(db), "%u", k->db);
		r = command(rc, 2, av);
		if (!r) {
			snprintf(why, n, "%s", rc->errstr);
			goto fail;
		}
		if (r->type == REDIS_REPLY_ERROR) {
			if (strncmp(r->str, "NOAUTH", 6) == 0) {
				snprintf(why, n, "Redis asks for a password (set cluster.password): "
						 "%.120s", r->str);
				*rule = "cluster.auth";
			} else {
				snprintf(why, n, "Redis refused database %u (SELECT): %.120s", k->db,
					 r->str);
				*rule = "cluster.select";
			}
			freeReplyObject(r);
			goto fail;
		}
		freeReplyObject(r);
	}
	/* The scripts, in one round trip. */
	for (int s = 0; s < SCRIPT_COUNT; s++) {
		const char *av[3] = {"SCRIPT", "LOAD", cluster_script_text((enum cluster_script)s)};
		redisAppendCommandArgv(rc, 3, av, NULL);
	}
	for (int s = 0; s < SCRIPT_COUNT; s++) {
		void *vr = NULL;
		if (redisGetReply(rc, &vr) != REDIS_OK || !vr) {
			snprintf(why, n, "%s", rc->errstr);
			goto fail;
		}
		r = vr;
		if (r->type == REDIS_REPLY_ERROR) {
			bool auth = strncmp(r->str, "NOAUTH", 6) == 0;
			snprintf(why, n, "%s: %.120s",
				 auth ? "Redis asks for a password (set cluster.password)"
				      : "Redis refused moat's scripts (SCRIPT LOAD)",
				 r->str);
			*rule = auth ? "cluster.auth" : "cluster.script";
			freeReplyObject(r);
			goto fail;
		}
		freeReplyObject(r);
	}
	return rc;
fail:
	if (rc)
		redisFree(rc);
	return NULL;
}

/* ---- the pool ----------------------------------------------------------- */

/* Mark down with the lock held: close every idle connection. True when
 * the store was up. */
static bool mark_down_locked(struct cluster *c)
{
	for (unsigned i = 0; i < c->cfg.pool; i++) {
		if (!c->slot[i].busy && c->slot[i].rc) {
			redisFree(c->slot[i].rc);
			c->slot[i].rc = NULL;
		}
	}
	return !atomic_exchange(&c->down, true);
}

static void wake_thread(struct cluster *c)
{
	pthread_mutex_lock(&c->tlock);
	pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->tlock);
}

/* A free connection within wait_ms (see cluster_acquire). */
static struct cluster_slot *acquire_within(struct cluster *c, uint32_t wait_ms)
{
	struct timespec dl = deadline_ms(wait_ms);
	struct cluster_slot *got = NULL;

	if (atomic_load(&c->down))
		return NULL;
	pthread_mutex_lock(&c->lock);
	while (!got && !atomic_load(&c->down)) {
		for (unsigned i = 0; i < c->cfg.pool; i++) {
			if (!c->slot[i].busy && c->slot[i].rc) {
				got = &c->slot[i];
				got->busy = true;
				break;
			}
		}
		if (!got && pthread_cond_timedwait(&c->freed, &c->lock, &dl) == ETIMEDOUT)
			break;
	}
	pthread_mutex_unlock(&c->lock);
	return got;
}

struct cluster_slot *cluster_acquire(struct cluster *c)
{
	return acquire_within(c, c->cfg.timeout_ms);
}

void cluster_release(struct cluster *c, struct cluster_slot *s, bool broken)
{
	bool went_down = false;

	pthread_mutex_lock(&c->lock);
	if (broken || s->gen != c->gen) {
		redisFree(s->rc);
		s->rc = NULL;
	}
	s->busy = false;
	if (broken && s->gen == c->gen)
		went_down = mark_down_locked(c);
	pthread_cond_broadcast(&c->freed);
	pthread_mutex_unlock(&c->lock);
	if (went_down)
		wake_thread(c);
}

bool cluster_up(struct cluster *c)
{
	return !atomic_load(&c->down);
}

redisReply *cluster_eval(struct cluster *c, struct cluster_slot *s, enum cluster_script sc,
			 int nkeys, const char **args, const size_t *lens, int nargs, bool *broken)
{
	const char *av[48];
	size_t al[48];
	char nk[16];
	redisReply *r;

	*broken = false;
	if (nargs + 3 > 48)
		return NULL;
	snprintf(nk, sizeof(nk), "%d", nkeys);
	av[0] = "EVALSHA";
	av[1] = c->sha[sc];
	av[2] = nk;
	for (int i = 0; i < 3; i++)
		al[i] = strlen(av[i]);
	for (int i = 0; i < nargs; i++) {
		av[3 + i] = args[i];
		al[3 + i] = lens ? lens[i] : strlen(args[i]);
	}
	r = redisCommandArgv(s->rc, nargs + 3, av, al);
	if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
		/* Redis lost its scripts (SCRIPT FLUSH, a restart behind a proxy):
		 * run it whole; the next connection loads it again. */
		freeReplyObject(r);
		av[0] = "EVAL";
		av[1] = cluster_script_text(sc);
		al[0] = 4;
		al[1] = strlen(av[1]);
		r = redisCommandArgv(s->rc, nargs + 3, av, al);
	}
	if (!r)
		*broken = true;
	return r;
}

/* ---- connecting and the heartbeat -------------------------------------- */

/* Connect the pool's empty slots (a connection that failed once the store
 * was up again, one lent out at the reconnect and closed on its return).
 * A failure leaves the rest empty until the next tick. */
static void top_up(struct cluster *c)
{
	char why[256];
	const char *rule;

	for (unsigned i = 0; i < c->cfg.pool; i++) {
		redisContext *rc;
		pthread_mutex_lock(&c->lock);
		bool empty = !c->slot[i].busy && !c->slot[i].rc;
		pthread_mutex_unlock(&c->lock);
		if (!empty)
			continue;
		if (!(rc = conn_open(c, why, sizeof(why), &rule)))
			return;
		pthread_mutex_lock(&c->lock);
		if (c->slot[i].busy || c->slot[i].rc) { /* cannot happen: only this thread fills */
			redisFree(rc);
		} else {
			c->slot[i].rc = rc;
			c->slot[i].gen = c->gen;
		}
		pthread_cond_broadcast(&c->freed);
		pthread_mutex_unlock(&c->lock);
	}
}

/* Connect the whole pool (a first connection already made: first). Marks
 * the store up. */
static void fill_pool(struct cluster *c, redisContext *first)
{
	pthread_mutex_lock(&c->lock);
	c->gen++;
	for (unsigned i = 0; i < c->cfg.pool; i++) {
		if (c->slot[i].busy)
			continue;
		if (c->slot[i].rc)
			redisFree(c->slot[i].rc);
		c->slot[i].rc = first;
		c->slot[i].gen = c->gen;
		first = NULL;
		break;
	}
	pthread_mutex_unlock(&c->lock);
	if (first)
		redisFree(first); /* every slot is lent out still (cannot happen while down) */
	top_up(c);
	pthread_mutex_lock(&c->lock);
	atomic_store(&c->down, false);
	pthread_cond_broadcast(&c->freed);
	pthread_mutex_unlock(&c->lock);
}

/* One heartbeat; false when the store did not answer. */
static bool beat(struct cluster *c)
{
	/* A pool busy with calls is no outage: wait a while for a turn. */
	struct cluster_slot *s = acquire_within(c, BEAT_MS / 2);
	char key[CLUSTER_PREFIX_MAX + 16], dead[16];
	const char *args[3] = {key, c->replica_id, dead};
	redisReply *r;
	bool broken, ok;

	if (!s)
		return false;
	snprintf(key, sizeof(key), "%s:replicas", c->cfg.prefix);
	snprintf(dead, sizeof(dead), "%d", BEAT_DEAD_MS);
	r = cluster_eval(c, s, SCRIPT_BEAT, 1, args, NULL, 3, &broken);
	ok = r && r->type == REDIS_REPLY_INTEGER;
	if (ok) {
		atomic_store(&c->replicas, r->integer > 0 ? (unsigned)r->integer : 1u);
		atomic_store(&c->beat_ns, moat_now_ns());
	}
	if (r)
		freeReplyObject(r);
	cluster_release(c, s, broken);
	return ok;
}

/* Try once to reconnect. why/rule as conn_open's. */
static bool reconnect(struct cluster *c, char *why, size_t n, const char **rule)
{
	redisContext *rc = conn_open(c, why, n, rule);

	if (!rc)
		return false;
	fill_pool(c, rc);
	return true;
}

/* Sleep ms, or until woken; false when asked to stop. */
static bool nap(struct cluster *c, uint32_t ms)
{
	struct timespec dl = deadline_ms(ms);
	bool go;

	pthread_mutex_lock(&c->tlock);
	if (!c->stop)
		pthread_cond_timedwait(&c->wake, &c->tlock, &dl);
	go = !c->stop;
	pthread_mutex_unlock(&c->tlock);
	return go;
}

static void *keeper(void *arg)
{
	struct cluster *c = arg;
	uint32_t backoff = BACKOFF_MIN_MS;
	char why[256], said[256] = "";
	const char *rule;

	for (;;) {
		if (atomic_load(&c->down)) {
			if (!reconnect(c, why, sizeof(why), &rule)) {
				if (strcmp(why, said) != 0) { /* a new reason: say it once */
					log_warn("cluster: cannot reach Redis at %s:%u: %s; retrying",
						 c->cfg.host, (unsigned)c->cfg.port, why);
					snprintf(said, sizeof(said), "%s", why);
				}
				if (!nap(c, backoff))
					break;
				backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
				continue;
			}
			backoff = BACKOFF_MIN_MS;
			said[0] = '\0';
			if (beat(c))
				store_note_up();
		} else {
			top_up(c);
			if (!beat(c)) {
				/* Broken, or no connection free in timeout_ms, or an
				 * error reply: start again from a fresh pool. */
				store_note_down("heartbeat");
				pthread_mutex_lock(&c->lock);
				mark_down_locked(c);
				pthread_mutex_unlock(&c->lock);
				continue;
			}
		}
		if (!nap(c, BEAT_MS))
			break;
	}
	return NULL;
}

/* ---- life cycle ---------------------------------------------------------- */

/* This replica's name in PREFIX:replicas: host, pid and 32 random bits. */
static void make_replica_id(struct cluster *c)
{
	char host[64] = "";
	uint32_t rnd = 0;

	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "moat");
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = (uint32_t)moat_now_ns();
	snprintf(c->replica_id, sizeof(c->replica_id), "%s:%ld:%08x", host, (long)getpid(),
		 (unsigned)rnd);
}

struct cluster *cluster_new(const struct cluster_cfg *cfg, struct registry *reg,
			    struct moat_err *err)
{
	struct cluster *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;
	char why[256];
	const char *rule;

	if (!c) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	c->cfg = *cfg;
	atomic_init(&c->down, true);
	atomic_init(&c->replicas, cfg->replicas ? cfg->replicas : 1);
	atomic_init(&c->beat_ns, 0);
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->tlock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->freed, &ca);
	pthread_cond_init(&c->wake, &ca);
	pthread_condattr_destroy(&ca);
	for (int s = 0; s < SCRIPT_COUNT; s++) {
		struct sha1_ctx h;
		uint8_t d[SHA1_DIGEST_SIZE];
		const char *t = cluster_script_text((enum cluster_script)s);
		sha1_init(&h);
		sha1_update(&h, strlen(t), (const uint8_t *)t);
		sha1_digest(&h, sizeof(d), d);
		for (size_t i = 0; i < sizeof(d); i++)
			snprintf(c->sha[s] + 2 * i, 3, "%02x", d[i]);
	}
	make_replica_id(c);
	/* hiredis write()s: a Redis that went away must cost an EPIPE, not the
	 * process (both transports ignore SIGPIPE too, but later; moat call
	 * and check do not). */
	signal(SIGPIPE, SIG_IGN);
	if (reg && (registry_grant_port(reg, cfg->port, err) ||
		    (cfg->host_is_name && registry_grant_resolver(reg, err)))) {
		cluster_free(c);
		return NULL;
	}
	if (!reconnect(c, why, sizeof(why), &rule)) {
		if (rule) {
			moat_err_rule(err, MOAT_EINVAL, rule, "/cluster: %s (rule %s)", why, rule);
			cluster_free(c);
			return NULL;
		}
		log_warn("cluster: Redis at %s:%u does not answer (%s); starting without it, "
			 "retrying in the background", cfg->host, (unsigned)cfg->port, why);
		return c;
	}
	beat(c);
	log_info("cluster: connected to Redis at %s:%u db %u (pool of %u); %u live replicas",
		 cfg->host, (unsigned)cfg->port, cfg->db, cfg->pool, atomic_load(&c->replicas));
	return c;
}

void cluster_install(struct cluster *c)
{
	store_install(&cluster_store_ops, c, c->cfg.fallback);
	c->installed = true;
}

enum moat_rc cluster_start(struct cluster *c, struct moat_err *err)
{
	int e;

	sigset_t all, old;

	if (c->thread_started)
		return MOAT_OK;
	/* The keeper takes no signal: the transports block SIGTERM, SIGINT and
	 * SIGHUP in the threads they start and read them from a signalfd; a
	 * thread started earlier with them open would take SIGTERM's default
	 * action (the process killed, not drained). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	e = pthread_create(&c->thread, NULL, keeper, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0)
		return moat_err_set(err, MOAT_EIO, "cluster: cannot start its thread: %s",
				    strerror(e));
	c->thread_started = true;
	return MOAT_OK;
}

/* Leave PREFIX:replicas on the way out, so the others count one less at
 * once rather than after BEAT_DEAD_MS. */
static void leave(struct cluster *c)
{
	struct cluster_slot *s = cluster_acquire(c);
	char key[CLUSTER_PREFIX_MAX + 16];
	const char *av[3] = {"ZREM", key, c->replica_id};
	redisReply *r;

	if (!s)
		return;
	snprintf(key, sizeof(key), "%s:replicas", c->cfg.prefix);
	r = command(s->rc, 3, av);
	if (r)
		freeReplyObject(r);
	cluster_release(c, s, r == NULL);
}

void cluster_free(struct cluster *c)
{
	if (!c)
		return;
	if (c->thread_started) {
		pthread_mutex_lock(&c->tlock);
		c->stop = true;
		pthread_cond_signal(&c->wake);
		pthread_mutex_unlock(&c->tlock);
		pthread_join(c->thread, NULL);
	}
	if (c->installed)
		store_install(NULL, NULL, STORE_FALLBACK_AUTO);
	leave(c);
	for (unsigned i = 0; i < CLUSTER_POOL_MAX; i++)
		if (c->slot[i].rc)
			redisFree(c->slot[i].rc);
	pthread_cond_destroy(&c->freed);
	pthread_cond_destroy(&c->wake);
	pthread_mutex_destroy(&c->lock);
	pthread_mutex_destroy(&c->tlock);
	cluster_cfg_wipe(&c->cfg);
	explicit_bzero(c, sizeof(*c));
	free(c);
}

void cluster_describe(struct cluster *c, FILE *f)
{
	cluster_cfg_describe(&c->cfg, f);
	if (cluster_up(c))
		fprintf(f, "  store                  answers; %u live replicas counted\n",
			atomic_load(&c->replicas));
	else
		fprintf(f, "  store                  does not answer now (serve starts without it "
			   "and keeps retrying; /readyz says not ready)\n");
}

/* ---- readiness and the replica count (store_ops) ------------------------ */

unsigned cluster_op_replicas(void *ctx)
{
	struct cluster *c = ctx;
	unsigned n = atomic_load(&c->replicas);

	return n ? n : 1;
}

bool cluster_op_ready(void *ctx)
{
	struct cluster *c = ctx;
	uint64_t b = atomic_load(&c->beat_ns);

	return !atomic_load(&c->down) && b && moat_now_ns() - b < (uint64_t)READY_MS * 1000000u;
}
