/*
 * server.h - one MCP session: lifecycle, version negotiation, dispatch and
 * the life of every tool call.
 *
 * A transport feeds complete messages in with server_handle() from a single
 * reader thread; the server answers lifecycle, ping, tools/list and logging
 * requests at once on that thread and runs tools/call on its worker pool, so
 * a slow call never delays ping or cancellation. Every outgoing message goes
 * through the transport's send function, which must be thread-safe and
 * write each message whole (one writer). Errors become JSON-RPC errors or
 * isError results here and nowhere else.
 */
#ifndef MOAT_CORE_SERVER_H
#define MOAT_CORE_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "limits_cfg.h"
#include "registry.h"

/* Writes one serialized message (no newline included). Thread-safe. */
typedef void (*server_send_fn)(void *ctx, const char *buf, size_t len);

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
};

struct server; /* opaque */

/*
 * server_new - a session serving reg (borrowed, must outlive the server)
 * that answers through send(send_ctx, ...). opts' strings are borrowed and
 * must outlive the server. Returns NULL on ENOMEM.
 */
struct server *server_new(const struct server_opts *opts, struct registry *reg,
			  server_send_fn send, void *send_ctx);

/* server_handle - process one complete message of len bytes (no newline).
 * Call from one thread at a time. */
void server_handle(struct server *s, const char *buf, size_t len);

/* server_reject_oversized - answer a frame the transport dropped because it
 * exceeded limits.max_message_bytes. */
void server_reject_oversized(struct server *s);

/*
 * server_shutdown - refuse new calls, cancel those in flight and wait up to
 * timeout_ms for them to end. Returns true when all ended (server_free is
 * then safe); false means a handler is still running and the process should
 * exit without freeing.
 */
bool server_shutdown(struct server *s, uint32_t timeout_ms);

/* server_free - free a server after a successful shutdown. Accepts NULL. */
void server_free(struct server *s);

#endif
