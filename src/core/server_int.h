/*
 * server_int.h - what the parts of the server share: the session, a call,
 * a resource job, a batch, and the helpers that answer and audit.
 *
 * The server is one module in several files: server.c (lifecycle,
 * dispatch, initialize, listing, output and audit helpers),
 * server_stateless.c (the 2026-07-28 era: _meta, server/discover, the
 * header rules, resultType and caching hints), server_call.c (tools/call
 * and cancellation), server_ask.c (asking the client: requests to it in
 * the initialize era, input_required and requestState in the stateless
 * one; confirmation before writes), server_resources.c (resources and the
 * client's roots), server_prompts.c (prompts and completion) and
 * server_subs.c (resource subscriptions, list changes,
 * subscriptions/listen). Only they include this header. Threading rules are those of
 * server.h: session state under s->lock; a call belongs to its worker.
 */
#ifndef MOAT_CORE_SERVER_INT_H
#define MOAT_CORE_SERVER_INT_H

#include <pthread.h>

#include "jsonrpc.h"
#include "principal.h"
#include "server.h"
#include "wire.h"

/* The revision a request is served under and what its client declared:
 * the session's (initialize era, copied at dispatch) or the request's own
 * _meta (stateless era). */
struct req_era {
	enum mcp_version version;
	struct mcp_features f;
	bool stateless;
	json_t *caps;      /* client capabilities (owned ref) or NULL */
	json_t *meta;      /* stateless: the request's params._meta (owned
			      ref), for input responses and requestState */
	int log_level;     /* enum log_level asked for, -1: none */
	char client_name[129]; /* stateless: clientInfo.name, for the audit */
};

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
	struct req_era era;   /* set by dispatch before a handler runs; a
				 batch's elements share the session's */
};

/* srv_features - the features of the revision b is served under (the
 * session's when b is NULL). */
const struct mcp_features *srv_features(struct server *s, const struct batch *b);

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
	json_t *params;        /* the request's params (owned ref or NULL):
				  inputResponses, requestState */
	char key[128];
	/* A 2026-07-28 request's own route (its HTTP request), NULL for the
	 * initialize era and stdio: ids are unique per client, and one server
	 * serves every stateless client of a listener, so there an id means
	 * something only within its request (server_call.c). */
	const void *scope;
	bool client_cancelled; /* guarded by s->lock */
	const char *rule;      /* the refusing rule's id, for the audit trail */
	/* A streamed structuredContent (tool_result.structured_json, taken):
	 * the result holds splice_node, an empty placeholder, where these
	 * bytes go when the answer is serialised (wire_splice). */
	json_t *splice_node;
	char *splice_json;
	size_t splice_len;
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
	json_t *client_caps; /* initialize's capabilities (owned) or NULL */
	int client_log_level; /* logging/setLevel's level, -1: none */
	uint64_t hub_id;     /* this session's hub listener (0: none) */
	struct ask *asks;    /* requests to the client awaiting answers
				(server_ask.c), under lock */
	unsigned ask_seq;
	struct listen *listens; /* subscriptions/listen routes (server_subs.c) */
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
/* srv_wire_encode_spliced - as srv_wire_encode, writing data[0..len)
 * where msg holds node (wire_splice); node NULL: no splice. */
bool srv_wire_encode_spliced(struct wire *w, const json_t *msg, const json_t *node,
			     const char *data, size_t len);
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

/* srv_encode_within - serialize msg (stolen; NULL: nothing) into w, the
 * answer of request id. An answer over limits.max_output_bytes is
 * replaced by the -32000 error naming limits.output, with *rc and *rule
 * set. Returns the message w now holds (owned by the caller), or NULL. */
json_t *srv_encode_within(struct server *s, json_t *id, json_t *msg, struct wire *w,
			  enum moat_rc *rc, const char **rule);

/* srv_limit_error - a new -32000 error response for a request refused by a
 * limit, with {"rule": rule} as data. id borrowed. */
json_t *srv_limit_error(json_t *id, const char *rule, const char *msg);

/* ---- tool calls (server_call.c) ----------------------------------------- */

/* srv_tools_call - validate, admit and run one tools/call. */
void srv_tools_call(struct server *s, struct batch *b, struct rpc_msg *m);

/* srv_cancelled - notifications/cancelled from b: cancel the call it names
 * (an initialize-era call, or a stateless call of the same route). */
void srv_cancelled(struct server *s, struct batch *b, struct rpc_msg *m);

/* ---- resources and client roots (server_resources.c) -------------------- */

void srv_resources(struct server *s, struct batch *b, struct rpc_msg *m, bool is_read);

/* srv_rjob_unlink - take job j (a resource job, or a prompt job whose
 * first member is one) off the in-flight list, so no cancellation finds
 * it; it stays counted until srv_inflight_done. */
void srv_rjob_unlink(struct server *s, struct rjob *j);

/* srv_inflight_done - count one call or job out once its answer is sent
 * and its memory freed (server_call.c). server_shutdown waits for the
 * count to reach 0 and may then free s, so the caller must not touch s
 * afterwards. Thread-safe. */
void srv_inflight_done(struct server *s);
void srv_resource_templates(struct server *s, struct batch *b, struct rpc_msg *m);

/* srv_request_roots - ask the client for its roots when it has them and a
 * family wants them. */
void srv_request_roots(struct server *s);

/* srv_handle_response - a response to one of our requests (roots/list,
 * or an ask: server_ask.c's srv_ask_answer is tried first). */
void srv_handle_response(struct server *s, json_t *msg, struct rpc_msg *m);

/* ---- the stateless era (server_stateless.c) ---------------------------- */

/* srv_stateless - serve request m (not a batch element) under 2026-07-28:
 * check _meta and the headers, fill b->era, dispatch. */
void srv_stateless(struct server *s, struct batch *b, struct rpc_msg *m,
		   const struct req_headers *hdr);

/* srv_wants_stateless - true when m is to be served by srv_stateless: its
 * _meta names a revision, or the transport says it has no session. */
bool srv_wants_stateless(const struct rpc_msg *m, const struct req_headers *hdr);

/* srv_complete_result - for a stateless request, add "resultType":
 * "complete" to res (a result object, borrowed) unless it has one. */
void srv_complete_result(const struct batch *b, json_t *res);

/* srv_cache_hints - for a stateless request, add ttlMs and cacheScope to
 * res (a list or read result, borrowed): cacheScope "private" when the
 * caller's policy shapes the answer or it reads content, else "public". */
void srv_cache_hints(const struct batch *b, json_t *res, uint32_t ttl_ms, bool private_scope);

/* srv_era_release - drop what b->era holds. */
void srv_era_release(struct req_era *e);

/* srv_server_info - the serverInfo object ({name, version, title when f
 * has titles}) of initialize and server/discover. New reference. */
json_t *srv_server_info(struct server *s, const struct mcp_features *f);

/* srv_capabilities - the server's capabilities object (initialize and
 * server/discover). New reference. */
json_t *srv_capabilities(struct server *s);

/* srv_method_known - a method both eras serve, or subscriptions/listen. */
bool srv_method_known(const char *method);

/* srv_dispatch - run request m by its method (server.c); the era's own
 * checks have passed. */
void srv_dispatch(struct server *s, struct batch *b, struct rpc_msg *m);

/* srv_param_headers_ok - over HTTP, whether the Mcp-Param-* headers of a
 * tools/call mirror the arguments its tool marks x-mcp-header
 * (server_headers.c); false with why filled when one is missing, extra,
 * malformed or different. A tool who may not call is not looked at (its
 * call is answered as unknown). Thread-safe. */
bool srv_param_headers_ok(struct server *s, const struct principal *who, const struct rpc_msg *m,
			  const struct req_headers *hdr, char *why, size_t n);

/* Caching hints (ms): lists of tools, prompts and templates change only
 * with the config; resources are files and rows, which change any time. */
#define SRV_TTL_LISTS 60000u
#define SRV_TTL_RESOURCES 0u

/* srv_reply_code_data - srv_reply with a JSON-RPC error carrying data
 * (stolen; may be NULL). id borrowed. */
void srv_reply_code_data(struct server *s, struct batch *b, json_t *id, int code,
			 const char *message, json_t *data);

/* ---- asking the client (server_ask.c) ---------------------------------- */

/* -32021 MissingRequiredClientCapability (stateless era). */
#define SRV_MISSING_CAPABILITY -32021

/* srv_ask_setup - fill ctx->client before the handler runs, on the
 * thread that runs it. Stateless era: the request's clientCapabilities
 * and logLevel, its inputResponses (params, borrowed: each well-formed
 * entry) and what its requestState (params) carries: the earlier rounds'
 * responses, which win over the retry's own, the handler's state and the
 * keys asked. The state must have been sealed for this subject, b's
 * principal and these arguments (args borrowed; NULL: {}). Initialize
 * era: the session's capabilities and log level (under s->lock), and
 * ctx->client.request, which asks the client on the call's route (so
 * ctx->notify and ctx->sink must be set). subject names what is called,
 * so that a state cannot move between them: "tool NAME" for tools/call,
 * the bare prompt name for prompts/get (prompt names hold no space),
 * "resource URI" for resources/read.
 * Returns MOAT_OK, or MOAT_EINVAL with err naming the rule (state.*,
 * input.malformed) when requestState or inputResponses is malformed,
 * tampered, expired, another principal's, another subject's or for other
 * arguments: answer -32602 with data.rule. */
enum moat_rc srv_ask_setup(struct server *s, struct batch *b, const char *subject,
			   const json_t *params, const json_t *args, struct call_ctx *ctx,
			   struct moat_err *err);

/* srv_input_required - the result for a handler that returned MOAT_EINPUT
 * in the stateless era: {resultType:"input_required", inputRequests,
 * requestState} with a new sealed state (subject and args as given to
 * srv_ask_setup). NULL when nothing was asked, outside the stateless
 * era, or on ENOMEM. */
json_t *srv_input_required(struct server *s, struct batch *b, const char *subject,
			   const json_t *args, struct call_ctx *ctx);

/* srv_missing_cap_data - {requiredCapabilities: {<cap>: {}}, rule} for a
 * call that ended with MOAT_ENOCAP (rule NULL: client.no_capability), the
 * data of its -32021 in the stateless era. New reference. */
json_t *srv_missing_cap_data(const struct call_ctx *ctx, const char *rule);


/* srv_ask_answer - a response to one of our asks: wake its waiter. True
 * when it was one. */
bool srv_ask_answer(struct server *s, json_t *msg, struct rpc_msg *m);

/* srv_confirm - before a tool marked confirm runs: ask the person through
 * the client (callctx_ask, key "moat_confirm", a boolean form), after
 * srv_ask_setup. MOAT_OK only for an explicit accept with the box
 * checked; MOAT_EINPUT (stateless: ask in an input_required round; an
 * answer counts only when a valid requestState says this server asked);
 * MOAT_ENOCAP (confirm.unavailable); MOAT_EDENIED (confirm.declined); or
 * the ask's own error. On anything but MOAT_OK the handler must not run. */
enum moat_rc srv_confirm(struct call_ctx *ctx, const struct tool *t, const json_t *args,
			 struct moat_err *err);

/* ---- prompts and completion (server_prompts.c) ------------------------- */

void srv_prompts_list(struct server *s, struct batch *b, struct rpc_msg *m);
void srv_prompts_get(struct server *s, struct batch *b, struct rpc_msg *m);
void srv_complete(struct server *s, struct batch *b, struct rpc_msg *m);

/* ---- subscriptions (server_subs.c) ------------------------------------- */

/* srv_subs_session_start / _end - the session's hub listener for list
 * changes (after initialize) and its end (server_free). */
void srv_subs_session_start(struct server *s);
void srv_subs_session_end(struct server *s);
void srv_resources_subscribe(struct server *s, struct batch *b, struct rpc_msg *m, bool on);
void srv_listen(struct server *s, struct batch *b, struct rpc_msg *m);
/* srv_subs_route_closed - end the listen stream on route, if any. True
 * when there was one (its final has been sent). */
bool srv_subs_route_closed(struct server *s, void *route);
/* srv_subs_cancelled - stdio's notifications/cancelled naming a listen's
 * request id (borrowed) ends that stream. True when it named one. */
bool srv_subs_cancelled(struct server *s, const json_t *request_id);
/* srv_subs_shutdown - end every listen stream (server_shutdown; stdio is
 * sent notifications/cancelled for each). */
void srv_subs_shutdown(struct server *s);

#endif
