/*
 * server_subs.c - PLACEHOLDER until the subscriptions helper lands.
 */
#include "server_int.h"

void srv_subs_session_start(struct server *s)
{
	(void)s;
}

void srv_subs_session_end(struct server *s)
{
	(void)s;
}

void srv_resources_subscribe(struct server *s, struct batch *b, struct rpc_msg *m, bool on)
{
	(void)on;
	srv_reply_error(s, b, m->id, RPC_METHOD_NOT_FOUND, "method not found");
}

void srv_listen(struct server *s, struct batch *b, struct rpc_msg *m)
{
	srv_reply_error(s, b, m->id, RPC_METHOD_NOT_FOUND,
			"method not found: subscriptions/listen");
}

bool srv_subs_route_closed(struct server *s, void *route)
{
	(void)s;
	(void)route;
	return false;
}
