/*
 * cluster.h - the cluster store: moat's store_ops (src/core/store.h) over
 * Redis, so that several replicas behind one load balancer share their
 * rate limits, one-time marks and the declared APIs' response cache.
 *
 * Core never includes this header nor hiredis: the command line parses
 * the "cluster" section here (cluster_cfg_parse), opens the store before
 * the sandbox (cluster_new: connections made, the port and the resolver
 * granted), installs it (cluster_install) and starts its background
 * thread once the sandbox is applied (cluster_start). From then on core
 * reaches Redis through store.h only.
 *
 * Each replica keeps a small bounded pool of connections (cluster.pool,
 * default 4). A connection that breaks or times out marks the store down:
 * every operation then answers STORE_DOWN at once, without waiting on a
 * dead Redis, until the background thread reconnects (backoff 100 ms
 * doubling to 5 s). The same thread keeps the heartbeat that counts the
 * live replicas (PREFIX:replicas) and tells readiness.
 */
#ifndef MOAT_CLUSTER_CLUSTER_H
#define MOAT_CLUSTER_CLUSTER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "registry.h"
#include "result.h"
#include "seal.h"
#include "store.h"

#define CLUSTER_HOST_MAX 256
#define CLUSTER_PREFIX_MAX 49
#define CLUSTER_POOL_MAX 16
#define CLUSTER_SECRET_MAX 512

/* The "cluster" section, parsed. Secrets are wiped by cluster_cfg_wipe. */
struct cluster_cfg {
	char host[CLUSTER_HOST_MAX]; /* name or address, without IPv6 brackets */
	bool host_is_name;           /* not a numeric address: needs the resolver */
	uint16_t port;
	unsigned db;
	char username[CLUSTER_SECRET_MAX]; /* "" without */
	char password[CLUSTER_SECRET_MAX]; /* "" without */
	uint8_t key[SEAL_KEY_BYTES];       /* the cluster key */
	char prefix[CLUSTER_PREFIX_MAX];
	unsigned pool;
	uint32_t timeout_ms;
	uint32_t connect_timeout_ms;
	enum store_fallback fallback;
	unsigned replicas; /* assumed until counted */
};

/*
 * cluster_cfg_parse - the "cluster" section (resolved, already valid
 * against moat.schema.json) into *out. Refuses rediss:// (rule
 * config.cluster_tls), credentials inside the URL
 * (config.cluster_url_credentials), another scheme or a malformed URL
 * (config.cluster_url), a key that is not 32 bytes (config.cluster_key).
 * Messages start with a JSON pointer ("/cluster/redis: ...") and never
 * hold the URL's or the key's text. Thread-safe (touches only its
 * arguments).
 */
enum moat_rc cluster_cfg_parse(const json_t *section, struct cluster_cfg *out,
			       struct moat_err *err);

/* cluster_cfg_wipe - wipe the secrets of c (safe on a zeroed one). */
void cluster_cfg_wipe(struct cluster_cfg *c);

/* cluster_cfg_describe - the settings for `moat check`, the password
 * shown as "****" (never its text). */
void cluster_cfg_describe(const struct cluster_cfg *c, FILE *f);

/* The store; opaque. */
struct cluster;

/*
 * cluster_new - a store for cfg (copied): resolve the host, grant its port
 * (and the resolver, when the host is a name) in reg (NULL in tests), open
 * the pool and beat the heart once. A Redis that does not answer is not
 * an error: the store starts down and the background thread (once
 * started) keeps trying. A Redis that answers but refuses the password or
 * the database is (rule cluster.auth / cluster.select): NULL with err
 * set. Ignores SIGPIPE for the process (a write to a Redis that went away
 * fails with EPIPE). Start-up only (single-threaded); the caller owns the
 * result.
 */
struct cluster *cluster_new(const struct cluster_cfg *cfg, struct registry *reg,
			    struct moat_err *err);

/* cluster_install - make c the process's store (store_install), with its
 * fallback policy. Start-up only. */
void cluster_install(struct cluster *c);

/*
 * cluster_start - start the background thread (reconnects, heartbeat).
 * Call after the sandbox is applied. Idempotent. Returns MOAT_EIO when the
 * thread cannot start.
 */
enum moat_rc cluster_start(struct cluster *c, struct moat_err *err);

/* cluster_up - the store is connected (not marked down). Thread-safe. */
bool cluster_up(struct cluster *c);

/* cluster_describe - the settings (cluster_cfg_describe) and whether
 * Redis answers now, with the live replicas counted (`moat check`). */
void cluster_describe(struct cluster *c, FILE *f);

/* cluster_free - stop the thread, uninstall c if installed, close every
 * connection, wipe and free. Accepts NULL. No operation may be running. */
void cluster_free(struct cluster *c);

/* The operations over Redis; ctx is a struct cluster. */
extern const struct store_ops cluster_store_ops;

#endif
