/*
 * cluster_int.h - what the cluster store's files share: the store itself,
 * its pool of Redis connections, and the Lua scripts the operations run.
 * Not for use outside src/cluster/.
 */
#ifndef MOAT_CLUSTER_INT_H
#define MOAT_CLUSTER_INT_H

#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>

#include "cluster.h"

/* The scripts, loaded on every connection (SCRIPT LOAD). */
enum cluster_script {
	SCRIPT_TAKE,      /* the token buckets of one call, all or none */
	SCRIPT_CACHE_GET, /* a cache entry under its namespace's generation */
	SCRIPT_CACHE_PUT,
	SCRIPT_BEAT,      /* the heartbeat: this replica in, the dead out, count */
	SCRIPT_COUNT,
};

/* One pooled connection. */
struct cluster_slot {
	redisContext *rc; /* NULL: not connected */
	bool busy;        /* lent to an operation */
	unsigned gen;     /* the pool generation it was connected in */
};

struct cluster {
	struct cluster_cfg cfg;
	char replica_id[96]; /* this replica in PREFIX:replicas */

	pthread_mutex_t lock; /* guards the slots, gen, down */
	pthread_cond_t freed; /* a slot was returned */
	struct cluster_slot slot[CLUSTER_POOL_MAX];
	unsigned gen; /* bumped on every reconnect */
	atomic_bool down;
	char sha[SCRIPT_COUNT][41]; /* SHA-1 of each script, as Redis names it */

	atomic_uint replicas;        /* last counted (cfg.replicas before) */
	atomic_uint_fast64_t beat_ns; /* monotonic time of the last good heartbeat */

	pthread_t thread;
	bool thread_started;
	pthread_mutex_t tlock; /* the thread's sleep, and stop */
	pthread_cond_t wake;
	bool stop;
	bool installed;
};

/* The text of script s (static storage). */
const char *cluster_script_text(enum cluster_script s);

/*
 * cluster_acquire - a connected slot for one operation, or NULL at once
 * when the store is down, or when every connection stays busy for
 * timeout_ms. Give it back with cluster_release. Thread-safe.
 */
struct cluster_slot *cluster_acquire(struct cluster *c);

/* cluster_release - give s back; broken: its connection failed (it is
 * closed, and the store marked down). Thread-safe. */
void cluster_release(struct cluster *c, struct cluster_slot *s, bool broken);

/*
 * cluster_eval - run script s with keys and args on s's connection
 * (EVALSHA, EVAL again on NOSCRIPT). Returns the reply (the caller frees
 * with freeReplyObject), or NULL when the connection failed (*broken set:
 * release it so). A Redis error reply is returned as such. Thread-safe
 * for a slot the caller holds.
 */
redisReply *cluster_eval(struct cluster *c, struct cluster_slot *s, enum cluster_script sc,
			 int nkeys, const char **argv, const size_t *argvlen, int argc,
			 bool *broken);

/* The store_ops entries cluster_conn.c answers. */
unsigned cluster_op_replicas(void *ctx);
bool cluster_op_ready(void *ctx);

#endif
