/*
 * server_rig.h - a server core driven without a transport, for unit tests:
 * messages go in through server_handle_from() from a chosen principal, on
 * a chosen route, with chosen HTTP headers, and every message the server
 * sends is captured (route, final flag, parsed JSON) in order.
 */
#ifndef MOAT_TEST_SERVER_RIG_H
#define MOAT_TEST_SERVER_RIG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "principal.h"
#include "server.h"

#define RIG_MAX_SENT 256

/* What the server sent: one entry per send, in order. */
struct sent {
	void *route;
	bool final;
	json_t *msg; /* NULL for an empty final */
};

struct rig {
	pthread_mutex_t lock;
	struct sent log[RIG_MAX_SENT];
	size_t n;
	struct registry *reg;
	struct server *srv;
};

/* rig_new - a registry holding read_thing, git_thing and write_thing (each
 * answers "hi" after one progress step, inline) and a server on it. */
struct rig *rig_new(void);

/* rig_free - shut the server down and free everything. */
void rig_free(struct rig *r);

/* rig_send - hand text to the server from who (NULL: local) on route with
 * headers hdr (NULL: stdio-like). Inline tools have answered on return. */
void rig_send(struct rig *r, const struct principal *who, void *route, const char *text,
	      const struct req_headers *hdr);

/* rig_on_route - the entries sent on route, in order, into out (at most
 * max); returns how many. */
size_t rig_on_route(struct rig *r, void *route, struct sent *out, size_t max);

/* rig_init - initialize the session under version on route 0x1 and check
 * the answer. */
void rig_init(struct rig *r, const char *version);

#endif
