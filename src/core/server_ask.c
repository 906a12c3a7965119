/*
 * server_ask.c - PLACEHOLDER until the ask helper lands: no client can be
 * asked, so every ask ends the call with MOAT_ENOCAP.
 */
#include "server_int.h"

enum moat_rc srv_ask_setup(struct server *s, struct batch *b, const char *tool,
			   const json_t *args, struct call_ctx *ctx, struct moat_err *err)
{
	(void)s;
	(void)tool;
	(void)args;
	(void)err;
	ctx->client.stateless = b && b->era.stateless;
	ctx->client.log_level = b ? b->era.log_level : -1;
	return MOAT_OK;
}

json_t *srv_input_required(struct server *s, struct batch *b, const char *tool,
			   const json_t *args, struct call_ctx *ctx)
{
	(void)s;
	(void)b;
	(void)tool;
	(void)args;
	(void)ctx;
	return NULL;
}

bool srv_ask_answer(struct server *s, json_t *msg, struct rpc_msg *m)
{
	(void)s;
	(void)msg;
	(void)m;
	return false;
}

enum moat_rc srv_confirm(struct call_ctx *ctx, const struct tool *t, const json_t *args,
			 struct moat_err *err)
{
	(void)ctx;
	(void)t;
	(void)args;
	return moat_err_rule(err, MOAT_ENOCAP, "confirm.unavailable",
			     "this tool needs the person's confirmation, which is not built yet");
}
