/*
 * auth_subjects.c - the calls-per-minute bucket of every JWT subject seen,
 * in a table of fixed size: a hash index over slots allocated once, and a
 * list in order of last use whose tail is reused when the table is full.
 *
 * Written by hand because it is small and its bound is the point: an
 * identity provider can issue any number of subjects, and moat keeps at
 * most `max_subjects` buckets (default 4096, about 150 bytes each). A
 * slot is never freed before the table, because principals borrow its
 * bucket (principal.h): a session still holding a reused slot's pointer
 * then counts its calls in the new subject's bucket, which loosens a
 * limit for a moment but never touches freed memory. A reused bucket
 * starts full. The hash is keyed with random bits so that names cannot be
 * chosen to collide (they come from signed tokens anyway). One mutex
 * guards the table; it is held for a lookup and a few pointer moves.
 */
#include "auth_int.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "store.h"
#include "text.h"

struct subj {
	char name[PRINCIPAL_NAME_MAX];
	uint64_t hash;
	long hnext;        /* next slot in this hash chain, -1: end */
	long prev, next;   /* use order: head most recent, -1: end */
	bool used;
	struct token_bucket bucket;
};

struct auth_subjects {
	pthread_mutex_t lock;
	struct subj *v;
	size_t max, used;
	long *heads;       /* hash chains */
	size_t nheads;     /* a power of two >= 2 * max */
	long head, tail;
	uint64_t key;
	uint32_t per_minute;
};

struct auth_subjects *auth_subjects_new(size_t max, uint32_t per_minute)
{
	struct auth_subjects *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->max = max ? max : 1;
	s->per_minute = per_minute;
	s->nheads = 2;
	while (s->nheads < 2 * s->max)
		s->nheads *= 2;
	s->v = calloc(s->max, sizeof(*s->v));
	s->heads = malloc(s->nheads * sizeof(*s->heads));
	if (!s->v || !s->heads) {
		free(s->v);
		free(s->heads);
		free(s);
		return NULL;
	}
	for (size_t i = 0; i < s->nheads; i++)
		s->heads[i] = -1;
	s->head = s->tail = -1;
	if (getrandom(&s->key, sizeof(s->key), 0) != sizeof(s->key))
		s->key = (uint64_t)(uintptr_t)s ^ moat_now_ns();
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

static void list_unlink(struct auth_subjects *s, long i)
{
	struct subj *e = &s->v[i];

	if (e->prev >= 0)
		s->v[e->prev].next = e->next;
	else
		s->head = e->next;
	if (e->next >= 0)
		s->v[e->next].prev = e->prev;
	else
		s->tail = e->prev;
	e->prev = e->next = -1;
}

static void list_push(struct auth_subjects *s, long i)
{
	struct subj *e = &s->v[i];

	e->prev = -1;
	e->next = s->head;
	if (s->head >= 0)
		s->v[s->head].prev = i;
	s->head = i;
	if (s->tail < 0)
		s->tail = i;
}

static void chain_unlink(struct auth_subjects *s, long i)
{
	long *p = &s->heads[s->v[i].hash & (s->nheads - 1)];

	while (*p >= 0 && *p != i)
		p = &s->v[*p].hnext;
	if (*p == i)
		*p = s->v[i].hnext;
	s->v[i].hnext = -1;
}

struct token_bucket *auth_subjects_bucket(struct auth_subjects *s, const char *name)
{
	uint64_t h;
	long i;
	struct subj *e;

	if (!s || s->per_minute == 0)
		return NULL;
	h = text_hash(name, strlen(name), s->key);
	pthread_mutex_lock(&s->lock);
	for (i = s->heads[h & (s->nheads - 1)]; i >= 0; i = s->v[i].hnext)
		if (s->v[i].hash == h && strcmp(s->v[i].name, name) == 0)
			break;
	if (i >= 0) {
		if (s->head != i) {
			list_unlink(s, i);
			list_push(s, i);
		}
		pthread_mutex_unlock(&s->lock);
		return &s->v[i].bucket;
	}
	if (s->used < s->max) {
		i = (long)s->used++;
		e = &s->v[i];
		bucket_init(&e->bucket, s->per_minute);
		bucket_set_key(&e->bucket, "principal:%s", name);
		e->used = true;
	} else {
		i = s->tail;
		e = &s->v[i];
		list_unlink(s, i);
		chain_unlink(s, i);
		/* A new subject starts with a full bucket; the lock is the
		 * bucket's own, as bucket_take's. */
		pthread_mutex_lock(&e->bucket.lock);
		e->bucket.tokens = e->bucket.capacity;
		e->bucket.last_ns = moat_now_ns();
		bucket_set_key(&e->bucket, "principal:%s", name);
		pthread_mutex_unlock(&e->bucket.lock);
	}
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->hash = h;
	e->hnext = s->heads[h & (s->nheads - 1)];
	s->heads[h & (s->nheads - 1)] = i;
	list_push(s, i);
	pthread_mutex_unlock(&s->lock);
	return &e->bucket;
}

size_t auth_subjects_count(struct auth_subjects *s)
{
	size_t n;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->lock);
	n = s->used;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void auth_subjects_free(struct auth_subjects *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->used; i++)
		bucket_destroy(&s->v[i].bucket);
	pthread_mutex_destroy(&s->lock);
	free(s->v);
	free(s->heads);
	free(s);
}
