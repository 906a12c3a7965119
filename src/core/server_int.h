/*
 * server_int.h - what the parts of the server share: the session, a call,
 * a resource job, a batch, and the helpers that answer and audit.
 *
 * The server is one module in three files: server.c (lifecycle, dispatch,
 * initialize, listing, output and audit helpers), server_call.c (tools/call
 * and cancellation) and server_resources.c (resources and the client's
 * roots). Only they include this header. Threading rules are those of
 * server.h: session state under s->lock; a call belongs to its worker.
 */
#ifndef MOAT_CORE_SERVER_INT_H
#define MOAT_CORE_SERVER_INT_H

#include <pthread.h>

#include "jsonrpc.h"
#include "principal.h"
#include "server.h"
#include "wire.h"

/* Where the answers to one incoming message go, and who sent it: a
 * JSON-RPC batch (responses gathered into one array, sent when the last
 * element is answered) or, from server_handle_from, a single message
 * (responses NULL: its one answer is sent at once as the route's final
 * message). Lives until that final message is sent; everything admitted
 * for it (calls, resource jobs) audits before answering, so it may read
 * who until then. */
struct batch {
	pthread_mutex_t lock;
	json_t *responses; /* the batch's array; NULL for a single message */
	int pending;
	void *route;          /* handed back to the transport's send */
	struct principal who; /* the sender */
};

/* srv_who - the principal behind b (the local one when b is NULL). */
static inline const struct principal *srv_who(const struct batch *b)
{
	return b ? &b->who : principal_local();
}

struct call {
	struct call *next; /* in-flight list */
	struct server *s;
	struct tool *tool;
	struct batch *batch;
	json_t *id;
	json_t *args;
	char key[128];
	bool client_cancelled; /* guarded by s->lock */
	const char *rule;      /* the refusing rule's id, for the audit trail */
	struct call_ctx ctx;
};

struct server {
	struct server_opts opts;
	struct registry *reg;
	server_send_fn send;
	void *send_ctx;
	struct pool *pool;         /* opts.pool or our own */
	bool own_pool;
	struct token_bucket own_bucket;
	struct token_bucket *global_bucket; /* opts.global_bucket or &own_bucket */

	pthread_mutex_t lock;
	bool initialized;
	bool shutting_down;
	/* inflight_count counts tool calls and resource jobs alike: both
	 * take limits.max_concurrent_calls and both are waited for at the
	 * end. */
	enum mcp_version version;
	struct mcp_features features;
	bool log_sink_on;
	struct call *inflight;
	uint32_t inflight_count;
	pthread_cond_t calls_ended; /* inflight_count reached 0 */
	json_t *empty_args; /* {} validated when a call omits arguments */
	bool client_roots;  /* the client declared the roots capability */
	unsigned roots_seq; /* id of the latest roots/list we sent */
	struct rjob *rjobs; /* resource reads and listings in flight */
	char session[33];   /* random, for the audit trail */
	char *client_name;  /* clientInfo from initialize; owned; set once */
	char *client_version;
};

/* A resources/list or resources/read running on a worker. */
struct rjob {
	struct rjob *next;
	struct server *s;
	struct batch *batch;
	json_t *id;
	bool is_read;
	char *arg; /* cursor or uri; owned */
	struct call_ctx ctx;
};


/* One serialized message: small ones on the stack, large ones on the heap
 * (wire.h). */
struct wire {
	char stack[4096];
	struct wire_buf b;
	const char *data; /* the message, once encoded */
	size_t len;       /* its length; 0 when there is none */
};

/* ---- output and audit (server.c; the three result builders below live
 * beside their main users: srv_outcome_of and srv_error_result in
 * server_call.c, srv_limit_error in server_resources.c) ------------------ */

/* srv_wire_encode - serialize msg (borrowed) once into w. Returns false
 * (len 0) on failure. srv_wire_release frees what it allocated;
 * srv_wire_empty starts w with no message. */
bool srv_wire_encode(struct wire *w, const json_t *msg);
void srv_wire_release(struct wire *w);
void srv_wire_empty(struct wire *w);

/* srv_send_json - serialize and send msg (stolen; NULL: nothing) to the
 * session at large (route NULL, not final): logs, our own requests. */
void srv_send_json(struct server *s, json_t *msg);

/* srv_send_on - serialize and send msg (stolen) on route with final. A
 * NULL msg sends nothing, except an empty final on a route (the route
 * ends with nothing to say: the transport answers 202). */
void srv_send_on(struct server *s, void *route, json_t *msg, bool final);

/* srv_notify_call - callctx_notify_fn for a call (sink: its struct call):
 * progress goes on the route of the request that started the call. */
void srv_notify_call(void *sink, json_t *msg);

/* srv_batch_free - free b once its final message is sent. */
void srv_batch_free(struct batch *b);

/* srv_reply - deliver a response (stolen; NULL: nothing to say) directly
 * or into the batch b it belongs to. */
void srv_reply(struct server *s, struct batch *b, json_t *msg);

/* srv_reply_wire - srv_reply for a response already serialized into w
 * (its length checked against the output limit): those bytes are sent
 * as they are, except into a batch's array, which serializes msg itself.
 * w.len 0 means nothing to say (a cancelled call). Steals msg; releases
 * w. */
void srv_reply_wire(struct server *s, struct batch *b, json_t *msg, struct wire *w);

/* srv_reply_error - srv_reply with a JSON-RPC error (id borrowed). */
void srv_reply_error(struct server *s, struct batch *b, json_t *id, int code,
		     const char *message);

/* srv_audit - one audit record (and metrics note) for a request of this
 * session from b's sender. id, family, touched and rule may be NULL; all
 * borrowed. now_ns is moat_now_ns() when the caller has read it (0: the
 * record reads the clock itself). */
void srv_audit(struct server *s, const struct batch *b, const char *kind, const json_t *id,
	       const char *tool,
	       const char *family, const json_t *touched, const char *outcome, const char *rule,
	       uint64_t duration_ns, size_t bytes, uint64_t now_ns);

/* srv_outcome_of - "ok" or moat_rc_name(rc). Static storage. */
const char *srv_outcome_of(enum moat_rc rc);

/* srv_error_result - a new isError tool result holding msg, scrubbed. */
json_t *srv_error_result(struct server *s, const char *msg);

/* srv_limit_error - a new -32000 error response for a request refused by a
 * limit, with {"rule": rule} as data. id borrowed. */
json_t *srv_limit_error(json_t *id, const char *rule, const char *msg);

/* ---- tool calls (server_call.c) ----------------------------------------- */

/* srv_tools_call - validate, admit and run one tools/call. */
void srv_tools_call(struct server *s, struct batch *b, struct rpc_msg *m);

/* srv_cancelled - notifications/cancelled: cancel the call it names. */
void srv_cancelled(struct server *s, struct rpc_msg *m);

/* ---- resources and client roots (server_resources.c) -------------------- */

void srv_resources(struct server *s, struct batch *b, struct rpc_msg *m, bool is_read);
void srv_resource_templates(struct server *s, struct batch *b, struct rpc_msg *m);

/* srv_request_roots - ask the client for its roots when it has them and a
 * family wants them. */
void srv_request_roots(struct server *s);

/* srv_handle_response - a response to one of our requests (roots/list). */
void srv_handle_response(struct server *s, json_t *msg, struct rpc_msg *m);

#endif
