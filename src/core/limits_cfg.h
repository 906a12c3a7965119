/*
 * limits_cfg.h - the numbers that bound a moat server, and the token bucket that
 * enforces calls per minute.
 *
 * struct limits holds every configurable bound with its default (see
 * limits_defaults and docs/configuration.md). A token bucket refills at
 * per_minute/60 tokens a second up to a capacity of `burst`; taking from an
 * empty bucket fails at once (calls are refused, never queued). Buckets are
 * thread-safe.
 */
#ifndef MOAT_CORE_LIMITS_CFG_H
#define MOAT_CORE_LIMITS_CFG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct limits {
	size_t max_message_bytes;      /* one JSON-RPC message (default 4 MiB) */
	size_t max_json_depth;         /* nesting of one message (default 64) */
	uint32_t call_timeout_ms;      /* per-call deadline (default 30000) */
	size_t max_output_bytes;       /* one tool result (default 1 MiB) */
	uint32_t max_concurrent_calls; /* tool calls in flight (default 16) */
	uint32_t workers;              /* worker threads, started lazily (default 16) */
	uint32_t calls_per_minute;     /* all tools together (default 1200) */
	uint32_t tool_calls_per_minute; /* each tool (default 600) */
	uint32_t tools_page_size;      /* tools/list page (default 100) */
};

/* limits_defaults - fill l with the documented defaults. */
void limits_defaults(struct limits *l);

struct token_bucket {
	pthread_mutex_t lock;
	double tokens;
	double capacity;
	double rate_per_ns;
	uint64_t last_ns;
	char key[112];      /* its name in the shared store (store.h); "": local only */
};

/* bucket_init - a bucket of per_minute tokens a minute, starting full with
 * capacity max(1, per_minute). per_minute 0 means unlimited. */
void bucket_init(struct token_bucket *b, uint32_t per_minute);

/* bucket_init_burst - per_minute tokens a minute, holding at most burst
 * (>= 1) and starting full. per_minute 0 means unlimited. */
void bucket_init_burst(struct token_bucket *b, uint32_t per_minute, uint32_t burst);

/* bucket_wait_ns - how long until a token is there at now_ns (0: now).
 * Thread-safe. */
uint64_t bucket_wait_ns(struct token_bucket *b, uint64_t now_ns);

/* bucket_destroy - release the bucket's lock. */
void bucket_destroy(struct token_bucket *b);

/* bucket_take - take one token at time now_ns; false when empty. Local
 * only: a limit that may be shared goes through limits_take (store.h). */
bool bucket_take(struct token_bucket *b, uint64_t now_ns);

/* bucket_take_scaled - bucket_take on 1/divisor of the bucket (rate and
 * capacity divided; divisor >= 1): a replica's share of a shared limit
 * while the shared store is down. */
bool bucket_take_scaled(struct token_bucket *b, uint64_t now_ns, unsigned divisor);

/* bucket_give_back_scaled - return the token a bucket_take_scaled with
 * the same divisor took (a later bucket of the same call refused it:
 * limits_take is all or none). Never above the share's capacity. */
void bucket_give_back_scaled(struct token_bucket *b, unsigned divisor);

/* moat_deadline_ts - CLOCK_REALTIME now + ms, for pthread_cond_timedwait.
 * Thread-safe. */
struct timespec moat_deadline_ts(uint32_t ms);

/* moat_now_ns - CLOCK_MONOTONIC in nanoseconds. */
uint64_t moat_now_ns(void);

#endif
