/*
 * pool.h - a small worker pool for tool calls.
 *
 * Threads are started lazily, one at a time, when a job arrives and no
 * worker is idle, up to max_threads; so a server that only answers pings
 * never starts one. Jobs run in submission order. Admission control (how
 * many calls may be in flight) belongs to the server; the queue has its own
 * bound as well, so no caller can grow it without limit. Thread-safe.
 */
#ifndef MOAT_CORE_POOL_H
#define MOAT_CORE_POOL_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*pool_job_fn)(void *arg);

struct pool; /* opaque */

/* pool_new - a pool of at most max_threads workers and at most max_queued
 * jobs waiting for one (0 = max_threads). NULL on ENOMEM. */
struct pool *pool_new(uint32_t max_threads, uint32_t max_queued);

/* pool_submit - queue fn(arg). false when the pool is shutting down, its
 * queue is full, or memory ran out (the job then did not run and arg is
 * still the caller's). */
bool pool_submit(struct pool *p, pool_job_fn fn, void *arg);

/*
 * pool_shutdown - stop accepting jobs, let queued and running jobs finish,
 * and join the workers, waiting at most timeout_ms. Returns true when every
 * worker ended in time; on false the pool must not be freed (a worker still
 * runs) and the process should simply exit.
 */
bool pool_shutdown(struct pool *p, uint32_t timeout_ms);

/* pool_free - free a pool whose pool_shutdown returned true. Accepts NULL. */
void pool_free(struct pool *p);

#endif
