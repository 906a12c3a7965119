/*
 * limits_cfg.c - limit defaults and the calls-per-minute token bucket.
 */
#include "limits_cfg.h"

#include <time.h>

void limits_defaults(struct limits *l)
{
	l->max_message_bytes = 4u << 20;
	l->max_json_depth = 64;
	l->call_timeout_ms = 30000;
	l->max_output_bytes = 1u << 20;
	l->max_concurrent_calls = 16;
	l->workers = 16;
	l->calls_per_minute = 1200;
	l->tool_calls_per_minute = 600;
	l->tools_page_size = 100;
}

uint64_t moat_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bucket_init(struct token_bucket *b, uint32_t per_minute)
{
	pthread_mutex_init(&b->lock, NULL);
	b->capacity = per_minute ? (double)per_minute : 0.0;
	b->tokens = b->capacity;
	b->rate_per_ns = (double)per_minute / 60e9;
	b->last_ns = moat_now_ns();
	b->key[0] = '\0';
}

struct timespec moat_deadline_ts(uint32_t ms)
{
	struct timespec until;

	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += ms / 1000;
	until.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	return until;
}

void bucket_init_burst(struct token_bucket *b, uint32_t per_minute, uint32_t burst)
{
	bucket_init(b, per_minute);
	if (per_minute) {
		b->capacity = burst ? (double)burst : 1.0;
		b->tokens = b->capacity;
	}
}

uint64_t bucket_wait_ns(struct token_bucket *b, uint64_t now_ns)
{
	double missing;

	if (b->capacity == 0.0)
		return 0;
	pthread_mutex_lock(&b->lock);
	missing = 1.0 - (b->tokens + (now_ns > b->last_ns ? (double)(now_ns - b->last_ns) : 0.0) *
					       b->rate_per_ns);
	pthread_mutex_unlock(&b->lock);
	return missing <= 0.0 ? 0 : (uint64_t)(missing / b->rate_per_ns) + 1;
}

void bucket_destroy(struct token_bucket *b)
{
	pthread_mutex_destroy(&b->lock);
}

bool bucket_take(struct token_bucket *b, uint64_t now_ns)
{
	return bucket_take_scaled(b, now_ns, 1);
}

bool bucket_take_scaled(struct token_bucket *b, uint64_t now_ns, unsigned divisor)
{
	double cap, rate;
	bool ok;

	if (b->capacity == 0.0)
		return true; /* unlimited */
	if (divisor <= 1) {
		cap = b->capacity;
		rate = b->rate_per_ns;
	} else {
		cap = b->capacity / divisor;
		rate = b->rate_per_ns / divisor;
		if (cap < 1.0)
			cap = 1.0;
	}
	pthread_mutex_lock(&b->lock);
	if (now_ns > b->last_ns) {
		b->tokens += (double)(now_ns - b->last_ns) * rate;
		if (b->tokens > cap)
			b->tokens = cap;
		b->last_ns = now_ns;
	}
	if (b->tokens > cap)
		b->tokens = cap; /* the share just shrank */
	ok = b->tokens >= 1.0;
	if (ok)
		b->tokens -= 1.0;
	pthread_mutex_unlock(&b->lock);
	return ok;
}

void bucket_give_back_scaled(struct token_bucket *b, unsigned divisor)
{
	double cap;

	if (b->capacity == 0.0)
		return;
	pthread_mutex_lock(&b->lock);
	cap = divisor > 1 ? b->capacity / divisor : b->capacity;
	if (cap < 1.0)
		cap = 1.0;
	b->tokens += 1.0;
	if (b->tokens > cap)
		b->tokens = cap;
	pthread_mutex_unlock(&b->lock);
}
