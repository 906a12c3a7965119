/*
 * server.h - one MCP session: lifecycle, version negotiation, dispatch and
 * the life of every tool call.
 *
 * A transport feeds complete messages in with server_handle() from its
 * reader thread; the server answers lifecycle, ping, tools/list and logging
 * requests at once on that thread and runs tools/call on its worker pool, so
 * a slow call never delays ping or cancellation. Tools declared `quick` run
 * on the reader thread itself when the transport offers to move its reading
 * elsewhere if such a call takes long (server_opts.quick_begin): that saves
 * the thread hand-off, which costs more than a small file read. Several
 * threads may therefore be inside server_handle() at once; it is
 * thread-safe. Every outgoing message goes
 * through the transport's send function, which must be thread-safe and
 * write each message whole (one writer). Errors become JSON-RPC errors or
 * isError results here and nowhere else.
 */
#ifndef MOAT_CORE_SERVER_H
#define MOAT_CORE_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "limits_cfg.h"
#include "principal.h"
#include "registry.h"

struct metrics;
struct pool;

/*
 * Writes one serialized message (no newline included). Thread-safe.
 * route is the route of the message it answers or belongs to, as given to
 * server_handle_from() (NULL: the session at large — stdio, or on HTTP a
 * log message or a request of ours such as roots/list, which belong on the
 * session's own stream). final is true for the last message on a route:
 * the response to its request, or the array answering its batch; progress
 * and other notifications of a call come before it with final false.
 * buf NULL with len 0 and final false: the call asks its route's stream
 * be closed now (callctx_close_stream, SSE polling); the route's later
 * messages and final still come, for a transport to keep for a client
 * that resumes (one that cannot ignores it).
 */
typedef void (*server_send_fn)(void *ctx, void *route, const char *buf, size_t len, bool final);

/*
 * Called on the thread that called server_handle(), just before it would
 * run a `quick` tool itself: return true when the transport will hand the
 * reading of input to another thread should the call take long (the server
 * then runs it there and calls the matching quick_end afterwards), false to
 * have it run on a worker as usual.
 */
typedef bool (*server_quick_begin_fn)(void *ctx);
typedef void (*server_quick_end_fn)(void *ctx);

/* Rewrites msg in place to hide configured secrets. Thread-safe. */
typedef void (*server_scrub_fn)(void *ctx, char *msg, size_t size);

struct server_opts {
	const char *name;         /* serverInfo.name */
	const char *title;        /* serverInfo.title */
	const char *version;      /* serverInfo.version */
	const char *instructions; /* may be NULL */
	struct limits limits;
	struct audit *audit;      /* borrowed; NULL = no audit */
	server_scrub_fn scrub;    /* may be NULL */
	void *scrub_ctx;
	server_quick_begin_fn quick_begin; /* both NULL: quick tools use workers */
	server_quick_end_fn quick_end;
	void *quick_ctx;
	/* Many sessions in one process (HTTP): they share one worker pool and
	 * one global rate bucket (both borrowed, outliving every server; NULL:
	 * the server makes its own), and process logs are never forwarded to
	 * a client, since they may speak of other principals' calls. */
	struct pool *pool;
	struct token_bucket *global_bucket;
	bool no_log_forward;
	/* Client roots narrow the fs family's view for the whole process, so
	 * with many clients they must not be asked for (one would narrow, or
	 * learn of, another's): the config's roots apply. */
	bool no_client_roots;
	struct metrics *metrics;  /* borrowed; NULL = none */
};

struct server; /* opaque */

/*
 * server_new - a session serving reg (borrowed, must outlive the server)
 * that answers through send(send_ctx, ...). opts' strings are borrowed and
 * must outlive the server. Returns NULL on ENOMEM.
 */
struct server *server_new(const struct server_opts *opts, struct registry *reg,
			  server_send_fn send, void *send_ctx);

/* server_handle - process one complete message of len bytes (no newline;
 * buf is borrowed and only read before any tool runs) from the local
 * principal, answering on route NULL. Thread-safe. */
void server_handle(struct server *s, const char *buf, size_t len);

/* An Mcp-Param-<name> header: name as sent after the prefix, value as
 * sent (trimmed; the =?base64?...?= form still encoded). Borrowed. */
struct req_param_header {
	const char *name;
	const char *value;
};

/* What an HTTP request's headers say about its body, for the 2026-07-28
 * rule that they must match it (server_stateless.c checks; -32020 when
 * they do not). Every pointer is borrowed for the duration of
 * server_handle_from; NULL when the header was absent. */
struct req_headers {
	/* No session: the request is served under the stateless era's
	 * rules even when its body names no revision (a POST without
	 * Mcp-Session-Id that is not initialize). */
	bool stateless;
	const char *protocol_version; /* MCP-Protocol-Version */
	const char *method;           /* Mcp-Method */
	const char *name;             /* Mcp-Name */
	const struct req_param_header *params; /* Mcp-Param-* */
	size_t n_params;
};

/* Where a message came from: who sent it (copied by the server before
 * server_handle_from returns; NULL: local), the route its answers take
 * (opaque to the server, handed back to send) and, over HTTP, what its
 * headers say (NULL on stdio). */
struct server_origin {
	const struct principal *who;
	void *route;
	const struct req_headers *hdr;
};

/*
 * server_handle_from - server_handle for a message from o->who, answered on
 * o->route. Exactly one final message is sent on that route, possibly
 * before this returns: the response, the batch's array, or nothing (an
 * empty final: send with buf NULL and len 0) when the message needs no
 * answer (a notification, a response, a cancelled call, or a batch of
 * only those). Thread-safe.
 */
void server_handle_from(struct server *s, const char *buf, size_t len,
			const struct server_origin *o);

/*
 * server_route_closed - the client went away from route (an HTTP stream
 * closed before its final message: a subscriptions/listen stream, or a
 * POST whose call still runs). What listens on the route stops and what
 * runs for it is cancelled; its one final message is still sent (the
 * transport drops it), possibly before this returns. A route whose final
 * was already sent must not be named. Thread-safe.
 */
void server_route_closed(struct server *s, void *route);

/*
 * server_http_status - the HTTP status for a final message buf[0..len) of
 * a stateless (2026-07-28) request: 404 for a JSON-RPC -32601 error, 400
 * for -32700, -32600, -32602, -32020, -32021 and -32022, otherwise 200.
 * Pure, thread-safe.
 */
int server_http_status(const char *buf, size_t len);

/* server_reject_oversized - answer a frame the transport dropped because it
 * exceeded limits.max_message_bytes; head[0..head_len) is the start of that
 * frame (borrowed; may be NULL), scanned for an id to answer with. */
void server_reject_oversized(struct server *s, const char *head, size_t head_len);

/*
 * server_wait_idle - wait up to timeout_ms until no tool call or resource
 * job is in flight (the end of input: calls finish within their own
 * deadlines and answer). Returns true when idle. Thread-safe.
 */
bool server_wait_idle(struct server *s, uint32_t timeout_ms);

/*
 * server_shutdown - refuse new calls; let those in flight run on for up to
 * drain_ms (0: none), then cancel what still runs and wait up to cancel_ms
 * for it to end (a cancelled call still answers, with its error). Returns
 * true when all ended (server_free is then safe); false means a handler is
 * still running and the process should exit without freeing.
 */
bool server_shutdown(struct server *s, uint32_t drain_ms, uint32_t cancel_ms);

/*
 * server_adopt - put a new server in the state an initialize would have
 * left it in: revision version (exactly a name mcp_version_parse knows),
 * the client's capabilities (copied by reference; the caller keeps its
 * own) and clientInfo name and version (copied, cut to 128 bytes;
 * client_version may be NULL). For a session another replica opened,
 * whose sealed id carries these (src/transport/http/). False, changing
 * nothing, when s is already initialized or shutting down, or the
 * revision is unknown. Thread-safe.
 */
bool server_adopt(struct server *s, const char *version, const json_t *client_caps,
		  const char *client_name, const char *client_version);

/*
 * server_client - what an initialized s knows of its client: the
 * negotiated revision's name into version (vn bytes), a deep copy of its
 * capabilities into *caps (the caller's), clientInfo name and version
 * into name and cversion ("" when absent), each cut to its buffer. False
 * before initialize (nothing set) or on ENOMEM. Thread-safe.
 */
bool server_client(struct server *s, char *version, size_t vn, json_t **caps, char *name,
		   size_t nn, char *cversion, size_t cvn);

/* server_free - free a server after a successful shutdown. Accepts NULL. */
void server_free(struct server *s);

#endif
