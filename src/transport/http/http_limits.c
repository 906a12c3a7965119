/*
 * http_limits.c - requests per second per client address: a token bucket
 * per address in a fixed table, so a flood of addresses cannot grow it.
 *
 * The other limits of the listener are libmicrohttpd's (connections in
 * total and per address, the idle read timeout, the memory a connection
 * may use for its headers; see http_listener.c) or the request handler's
 * (body size, the whole-body deadline). Each bucket holds one second's
 * worth of requests, twice over as a burst; an address not seen for a
 * minute gives its slot up. When every slot is busy with an active
 * address, the newcomers share the last slot: a flood of addresses limits
 * itself, never the addresses already known.
 */
#include "httpd_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

#define RL_SLOTS 4096u
#define RL_PROBE 16u
#define RL_STALE_NS (60ull * 1000000000ull)

struct rl_slot {
	char addr[48]; /* "" = free */
	double tokens;
	uint64_t last_ns;
};

struct httpd_ratelimit {
	pthread_mutex_t lock;
	double rate_per_ns, burst;
	struct rl_slot slots[RL_SLOTS];
};

struct httpd_ratelimit *httpd_ratelimit_new(uint32_t per_second)
{
	struct httpd_ratelimit *rl;

	if (per_second == 0)
		return NULL; /* no limit */
	rl = calloc(1, sizeof(*rl));
	if (!rl)
		return NULL;
	pthread_mutex_init(&rl->lock, NULL);
	rl->rate_per_ns = per_second / 1e9;
	rl->burst = 2.0 * per_second;
	return rl;
}

void httpd_ratelimit_free(struct httpd_ratelimit *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

unsigned httpd_ratelimit_take(struct httpd_ratelimit *rl, const char *addr)
{
	uint64_t now = moat_now_ns();
	struct rl_slot *slot = NULL, *free_slot = NULL;
	unsigned h, wait = 0;

	if (!rl)
		return 0;
	h = (unsigned)text_hash(addr, strlen(addr), 0);
	pthread_mutex_lock(&rl->lock);
	for (unsigned i = 0; i < RL_PROBE; i++) {
		struct rl_slot *s = &rl->slots[(h + i) % (RL_SLOTS - 1)];
		if (strcmp(s->addr, addr) == 0) {
			slot = s;
			break;
		}
		if (!free_slot && (!s->addr[0] || now - s->last_ns > RL_STALE_NS))
			free_slot = s;
	}
	if (!slot && free_slot) {
		slot = free_slot;
		snprintf(slot->addr, sizeof(slot->addr), "%s", addr);
		slot->tokens = rl->burst;
		slot->last_ns = now;
	}
	if (!slot)
		slot = &rl->slots[RL_SLOTS - 1]; /* the shared overflow slot */
	slot->tokens += (double)(now - slot->last_ns) * rl->rate_per_ns;
	if (slot->tokens > rl->burst)
		slot->tokens = rl->burst;
	slot->last_ns = now;
	if (slot->tokens >= 1.0) {
		slot->tokens -= 1.0;
	} else {
		double secs = (1.0 - slot->tokens) / (rl->rate_per_ns * 1e9);
		wait = (unsigned)secs + 1;
	}
	pthread_mutex_unlock(&rl->lock);
	return wait;
}
