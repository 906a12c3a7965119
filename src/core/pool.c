/*
 * pool.c - lazily started worker threads with a FIFO job queue.
 */
#include "pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "limits_cfg.h"

struct job {
	struct job *next;
	pool_job_fn fn;
	void *arg;
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t more;  /* jobs queued or stopping */
	pthread_cond_t ended; /* a worker exited */
	struct job *head, *tail;
	pthread_t *threads;
	uint32_t max_threads;
	uint32_t max_queued;
	uint32_t nthreads;
	uint32_t idle;
	uint32_t queued;
	uint32_t alive;
	bool stopping;
};

static void *worker(void *arg)
{
	struct pool *p = arg;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->head && !p->stopping) {
			p->idle++;
			pthread_cond_wait(&p->more, &p->lock);
			p->idle--;
		}
		if (!p->head)
			break; /* stopping and drained */
		struct job *j = p->head;
		p->queued--;
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->lock);
		j->fn(j->arg);
		free(j);
		pthread_mutex_lock(&p->lock);
	}
	p->alive--;
	pthread_cond_broadcast(&p->ended);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

struct pool *pool_new(uint32_t max_threads, uint32_t max_queued)
{
	struct pool *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->max_threads = max_threads ? max_threads : 1;
	p->max_queued = max_queued ? max_queued : p->max_threads;
	p->threads = calloc(p->max_threads, sizeof(*p->threads));
	if (!p->threads) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->more, NULL);
	pthread_cond_init(&p->ended, NULL);
	return p;
}

bool pool_submit(struct pool *p, pool_job_fn fn, void *arg)
{
	struct job *j = malloc(sizeof(*j));
	bool ok = false;

	if (!j)
		return false;
	j->next = NULL;
	j->fn = fn;
	j->arg = arg;
	pthread_mutex_lock(&p->lock);
	if (p->stopping || p->queued >= p->max_queued)
		goto out;
	if (p->queued + 1 > p->idle && p->nthreads < p->max_threads) {
		if (pthread_create(&p->threads[p->nthreads], NULL, worker, p) == 0) {
			p->nthreads++;
			p->alive++;
		} else if (p->nthreads == 0) {
			goto out; /* no worker at all could run it */
		}
	}
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	p->queued++;
	j = NULL;
	ok = true;
	pthread_cond_signal(&p->more);
out:
	pthread_mutex_unlock(&p->lock);
	free(j);
	return ok;
}

bool pool_shutdown(struct pool *p, uint32_t timeout_ms)
{
	struct timespec until;
	bool done;

	until = moat_deadline_ts(timeout_ms);
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->more);
	while (p->alive > 0)
		if (pthread_cond_timedwait(&p->ended, &p->lock, &until) == ETIMEDOUT)
			break;
	done = p->alive == 0;
	pthread_mutex_unlock(&p->lock);
	if (done)
		for (uint32_t i = 0; i < p->nthreads; i++)
			pthread_join(p->threads[i], NULL);
	return done;
}

void pool_free(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->more);
	pthread_cond_destroy(&p->ended);
	free(p->threads);
	free(p);
}
