/*
 * hub.c - PLACEHOLDER until the subscriptions helper lands: listeners are
 * counted, nothing is delivered.
 */
#include "hub.h"

#include <stdlib.h>

struct hub {
	uint64_t next;
};

struct hub *hub_new(hub_watch_fn watch, void *watch_ctx)
{
	(void)watch;
	(void)watch_ctx;
	return calloc(1, sizeof(struct hub));
}

void hub_free(struct hub *h)
{
	free(h);
}

uint64_t hub_listen(struct hub *h, unsigned mask, hub_deliver_fn deliver, void *ctx,
		    struct moat_err *err)
{
	(void)mask;
	(void)deliver;
	(void)ctx;
	(void)err;
	return ++h->next;
}

void hub_unlisten(struct hub *h, uint64_t id)
{
	(void)h;
	(void)id;
}

enum moat_rc hub_subscribe(struct hub *h, uint64_t id, const char *uri, struct moat_err *err)
{
	(void)h;
	(void)id;
	(void)uri;
	return moat_err_set(err, MOAT_EINTERNAL, "subscriptions are not built yet");
}

void hub_unsubscribe(struct hub *h, uint64_t id, const char *uri)
{
	(void)h;
	(void)id;
	(void)uri;
}

void hub_publish(struct hub *h, enum hub_event ev, const char *uri)
{
	(void)h;
	(void)ev;
	(void)uri;
}
