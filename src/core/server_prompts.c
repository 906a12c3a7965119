/*
 * server_prompts.c - PLACEHOLDER until the prompts helper lands.
 */
#include "server_int.h"

void srv_prompts_list(struct server *s, struct batch *b, struct rpc_msg *m)
{
	srv_reply_error(s, b, m->id, RPC_METHOD_NOT_FOUND, "method not found: prompts/list");
}

void srv_prompts_get(struct server *s, struct batch *b, struct rpc_msg *m)
{
	srv_reply_error(s, b, m->id, RPC_METHOD_NOT_FOUND, "method not found: prompts/get");
}

void srv_complete(struct server *s, struct batch *b, struct rpc_msg *m)
{
	srv_reply_error(s, b, m->id, RPC_METHOD_NOT_FOUND,
			"method not found: completion/complete");
}
