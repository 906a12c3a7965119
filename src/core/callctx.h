/*
 * callctx.h - what a tool handler gets besides its arguments: the deadline,
 * the cancellation flag, a progress reporter and the output budget; and the
 * tool_result it fills.
 *
 * A handler polls callctx_check() in its loops and stops with the error it
 * returns. The server owns the context; a handler only reads it and calls
 * its functions. callctx_check() and callctx_progress() are thread-safe with
 * respect to the server setting the cancel flag.
 */
#ifndef MOAT_CORE_CALLCTX_H
#define MOAT_CORE_CALLCTX_H

#include <jansson.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

/* Sends one notification (steals msg). Provided by the server. */
typedef void (*callctx_notify_fn)(void *sink, json_t *msg);

struct call_ctx {
	const char *tool;         /* borrowed tool name */
	uint64_t start_ns;
	uint64_t deadline_ns;     /* CLOCK_MONOTONIC; 0 = none */
	uint32_t timeout_ms;      /* for messages */
	atomic_bool cancelled;
	size_t output_budget;     /* bytes the result may take */
	json_t *progress_token;   /* owned reference or NULL */
	bool progress_message;    /* the revision allows "message" */
	double last_progress;
	bool sent_progress;
	callctx_notify_fn notify;
	void *sink;
	/* What the call touched, for the audit trail (DESIGN.md §9): an
	 * object the handler fills through callctx_touch*(); owned, NULL until
	 * the first touch. Never argument values beyond the names listed in
	 * callctx_touch's comment. */
	json_t *touched;
	bool no_touch; /* nobody reads touched (auditing is off): skip it */
};

/* callctx_init - zero ctx and set the tool, the deadline (timeout_ms from
 * now, 0 = none) and the output budget. */
void callctx_init(struct call_ctx *ctx, const char *tool, uint32_t timeout_ms,
		  size_t output_budget);

/* callctx_release - drop the progress token reference and the touched
 * record. */
void callctx_release(struct call_ctx *ctx);

/* callctx_cancel - mark the call cancelled. Thread-safe. */
void callctx_cancel(struct call_ctx *ctx);

/*
 * callctx_check - MOAT_OK while the call may go on; MOAT_ECANCELLED after a
 * cancel, MOAT_ETIMEOUT once the deadline has passed, with err filled (err
 * may be NULL).
 */
enum moat_rc callctx_check(struct call_ctx *ctx, struct moat_err *err);

/*
 * callctx_progress - send notifications/progress when the client asked for
 * progress (sent a progressToken). progress must grow; smaller or equal
 * values are dropped. total <= 0 means unknown. message may be NULL and is
 * dropped for revisions that do not carry it.
 */
void callctx_progress(struct call_ctx *ctx, double progress, double total, const char *message);

/*
 * callctx_touch - record in ctx->touched that the call touched value under
 * key (replacing an earlier value). What a family records, by key:
 *   fs:    "root" (the root's name), "path" (relative to the root)
 *   sql:   "database", "tables" (callctx_touch_add, one per table)
 *   git:   "repository", "commit" (the resolved commit id)
 *   http:  "api", "method", "path" (the path template), "host"
 * Only names of things inside the configured scope: never an argument value
 * beyond these, never query text, contents or secrets. A no-op when
 * ctx->no_touch (the server sets it when auditing is off). value is copied,
 * cut to 256 bytes on a UTF-8 boundary, invalid UTF-8 replaced. key and
 * value are borrowed. Call from the handler's thread only; a failed
 * allocation loses the note, never the call.
 */
void callctx_touch(struct call_ctx *ctx, const char *key, const char *value);

/* callctx_touch_add - append value to the array under key (at most 32
 * distinct entries; a repeat is dropped). Same rules as callctx_touch. */
void callctx_touch_add(struct call_ctx *ctx, const char *key, const char *value);

/* What a handler returns. content is an array of MCP content blocks;
 * structured is the structuredContent object (tools with an outputSchema). */
struct tool_result {
	json_t *content;    /* owned; created on demand */
	json_t *structured; /* owned or NULL */
};

/* tool_result_text - append a {"type":"text"} block holding a copy of text. */
enum moat_rc tool_result_text(struct tool_result *r, const char *text);

/* tool_result_take - the usual ending of a handler: a text block holding
 * text and structured as structuredContent. Takes ownership of both (either
 * may be NULL, after a failed allocation: then MOAT_ENOMEM with err set).
 * Frees text; structured belongs to r on success and is released on error. */
enum moat_rc tool_result_take(struct tool_result *r, json_t *structured, char *text,
			      struct moat_err *err);

/* tool_result_clear - release both members and zero r. */
void tool_result_clear(struct tool_result *r);

#endif
