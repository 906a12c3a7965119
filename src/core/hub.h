/*
 * hub.h - the process's notification hub: who listens for which changes
 * (the tool, prompt or resource lists; one resource's content), and the
 * delivery of a change to every such listener.
 *
 * Listeners are the initialize-era sessions (list changes for all of
 * them; resources/subscribe adds URIs to a session's listener) and the
 * stateless era's subscriptions/listen streams (each with the filter its
 * request named). A publisher (a family whose files changed, a fixture
 * tool that changes the tool list) calls hub_publish from any thread; the
 * hub calls each matching listener's deliver function on that thread,
 * outside the hub's lock, so deliver may send but must not block for long.
 * Bounded: at most HUB_MAX_LISTENERS listeners and HUB_MAX_URIS URIs per
 * listener. Thread-safe.
 */
#ifndef MOAT_CORE_HUB_H
#define MOAT_CORE_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define HUB_MAX_LISTENERS 4096
#define HUB_MAX_URIS 64

/* What changed (bits; a listener's filter is a mask of them). */
enum hub_event {
	HUB_TOOLS_CHANGED = 1u << 0,     /* notifications/tools/list_changed */
	HUB_PROMPTS_CHANGED = 1u << 1,   /* notifications/prompts/list_changed */
	HUB_RESOURCES_CHANGED = 1u << 2, /* notifications/resources/list_changed */
	HUB_RESOURCE_UPDATED = 1u << 3,  /* notifications/resources/updated {uri} */
};

/* Delivers one change to a listener: uri is the resource's for
 * HUB_RESOURCE_UPDATED (borrowed), NULL otherwise. */
typedef void (*hub_deliver_fn)(void *ctx, enum hub_event ev, const char *uri);

/* Starts (on=true, the first subscriber of uri) or stops (on=false, the
 * last one gone) watching uri for changes: the family serving its scheme
 * (registry resource_ops.watch). Called outside the hub's lock. */
typedef enum moat_rc (*hub_watch_fn)(void *ctx, const char *uri, bool on, struct moat_err *err);

struct hub; /* opaque */

/* hub_new - an empty hub; watch (may be NULL) is told when a URI gains its
 * first or loses its last subscriber. Caller owns it. NULL on ENOMEM. */
struct hub *hub_new(hub_watch_fn watch, void *watch_ctx);

/* hub_free - free the hub and every listener. Accepts NULL. */
void hub_free(struct hub *h);

/*
 * hub_listen - add a listener for the events in mask (and, for
 * HUB_RESOURCE_UPDATED, only the URIs later given to hub_subscribe).
 * Returns its id (> 0), or 0 when HUB_MAX_LISTENERS are in use (err
 * names limits.subscriptions) or on ENOMEM.
 */
uint64_t hub_listen(struct hub *h, unsigned mask, hub_deliver_fn deliver, void *ctx,
		    struct moat_err *err);

/* hub_unlisten - remove listener id and its URI subscriptions; when this
 * returns, its deliver is not running and will not run again (called from
 * that deliver itself, as a send that finds its route gone may, it returns
 * at once and the delivery in progress is the last). Unknown ids are
 * ignored. A deliver must not call hub_subscribe or hub_unsubscribe. */
void hub_unlisten(struct hub *h, uint64_t id);

/* hub_subscribe / hub_unsubscribe - add or drop uri (copied) among the
 * resources listener id hears about (at most HUB_MAX_URIS; err names
 * limits.subscriptions). The first subscriber of a URI starts its watch;
 * a failing watch fails the subscription with its error. */
enum moat_rc hub_subscribe(struct hub *h, uint64_t id, const char *uri, struct moat_err *err);
void hub_unsubscribe(struct hub *h, uint64_t id, const char *uri);

/* hub_publish - tell every listener whose mask has ev (and, for
 * HUB_RESOURCE_UPDATED, that subscribed to uri). */
void hub_publish(struct hub *h, enum hub_event ev, const char *uri);

#endif
