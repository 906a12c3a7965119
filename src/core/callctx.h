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

struct call_ctx;

/*
 * Sends one request to the client (initialize era) and waits for its
 * answer: method and params (stolen) make the request; on MOAT_OK
 * *result is the answer's result object (a new reference, the caller's).
 * Blocks the calling worker until the answer, the call's deadline or its
 * cancellation. Provided by the server (server_ask.c).
 */
typedef enum moat_rc (*callctx_request_fn)(struct call_ctx *ctx, const char *method,
					   json_t *params, json_t **result, struct moat_err *err);

/*
 * What the client said of itself for this call: its revision and
 * capabilities, and in the stateless era what it brought back from an
 * earlier round (input responses, the handler's state). The server fills
 * it before the handler runs; handlers read it through the functions
 * below, never directly.
 */
struct call_client {
	bool stateless;        /* 2026-07-28: ask by input_required */
	json_t *caps;          /* clientCapabilities (owned ref) or NULL */
	json_t *responses;     /* stateless: input responses of every round
				  so far, by key (owned ref) or NULL */
	json_t *state;         /* stateless: what callctx_set_state stored in
				  the previous round (owned ref) or NULL */
	json_t *requests;      /* stateless: inputs asked for in this round,
				  by key (owned; created on demand) */
	json_t *next_state;    /* callctx_set_state's value (owned) or NULL */
	const char *missing_cap; /* static: the capability whose absence
				    ended the call (MOAT_ENOCAP) */
	json_t *asked;         /* stateless: the keys asked for in earlier
				  rounds, from a valid requestState (owned
				  array) or NULL: what srv_confirm trusts */
	int log_level;         /* enum log_level the client asked for, or -1:
				  no logging for this call */
	callctx_request_fn request; /* initialize era; NULL: cannot ask */
	void *request_ctx;     /* for request (server_ask.c: the server) */
	char state_id[33];     /* stateless: hex digest of the valid
				  requestState this round came with, "" when
				  none: what a confirmation spends */
	uint64_t state_exp;    /* its expiry (seconds since the epoch) */
};

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
	struct call_client client;
};

/* callctx_init - zero ctx and set the tool, the deadline (timeout_ms from
 * now, 0 = none) and the output budget. */
void callctx_init(struct call_ctx *ctx, const char *tool, uint32_t timeout_ms,
		  size_t output_budget);

/* callctx_release - drop the progress token reference, the touched
 * record and what ctx->client owns. */
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
 *   http:  "api", "method", "path" (the path template), "host", and
 *          "operation" (a grouped API's operation name)
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

/*
 * callctx_client_has - true when the client declared capability cap
 * ("elicitation", "sampling", "roots") for this call: in its initialize
 * request (initialize era) or in this request's _meta (stateless era).
 */
bool callctx_client_has(const struct call_ctx *ctx, const char *cap);

/*
 * callctx_ask - get the client's answer to request method(params) (a
 * server-to-client request: "elicitation/create", "sampling/createMessage",
 * "roots/list"), known to the handler as key (^[A-Za-z0-9_.-]{1,64}$,
 * unique per call). params is stolen.
 *   MOAT_OK: *answer is the client's result (borrowed from ctx, valid
 *     until the call ends).
 *   MOAT_EINPUT (stateless era, no answer yet): the request is queued
 *     under key; the handler may ask for more, then must return
 *     MOAT_EINPUT itself. The server answers {resultType:"input_required",
 *     inputRequests, requestState} and the client retries with the
 *     answers, running the handler again from the start: a handler that
 *     asks must be deterministic up to its asks (and do nothing
 *     irreversible before the last of them).
 *   MOAT_ENOCAP: the client did not declare the capability the method
 *     needs; err says which (ctx->client.missing_cap is set). The server
 *     answers -32021 in the stateless era, an isError result otherwise.
 *   Otherwise the error of the request (timeout, cancellation, the
 *     client's JSON-RPC error), with err filled.
 * Call from the handler's thread only.
 */
enum moat_rc callctx_ask(struct call_ctx *ctx, const char *key, const char *method,
			 json_t *params, const json_t **answer, struct moat_err *err);

/*
 * callctx_state / callctx_set_state - a handler's own state across the
 * rounds of a stateless call: what set_state stored (stolen; replaces an
 * earlier value) travels sealed in requestState and is handed back by
 * callctx_state in the next round (borrowed; NULL in the first round and
 * in the initialize era, where a call has one round).
 */
const json_t *callctx_state(const struct call_ctx *ctx);
void callctx_set_state(struct call_ctx *ctx, json_t *state);

/*
 * callctx_log - send notifications/message {level, logger, data} on the
 * call's route when the client asked for messages of that level: by
 * logging/setLevel (initialize era) or by this request's
 * _meta "io.modelcontextprotocol/logLevel" (stateless era; none when it
 * is absent). level is a syslog level name ("info", "warning", ...);
 * data is stolen. Never put argument values, results or secrets in a
 * log message of moat's own; a fixture tool may log what it likes.
 */
void callctx_log(struct call_ctx *ctx, const char *level, const char *logger, json_t *data);

/*
 * callctx_close_stream - ask the transport to close the stream this call
 * answers on now, before its result (SSE polling, SEP-1699: a client
 * resumes with GET and Last-Event-ID and gets the rest there). Over HTTP
 * only for a session of 2025-11-25 or later; elsewhere nothing happens.
 * The call goes on; its result still comes. Thread-safe.
 */
void callctx_close_stream(struct call_ctx *ctx);

/* What a handler returns. content is an array of MCP content blocks;
 * structured is the structuredContent object (tools with an outputSchema). */
struct tool_result {
	json_t *content;    /* owned; created on demand */
	json_t *structured; /* owned or NULL */
	/* structuredContent already written as JSON text (jsonw.h), instead
	 * of structured: owned (malloc'd), structured_len bytes, or NULL.
	 * Only for a tool whose spec says output_streamed. */
	char *structured_json;
	size_t structured_len;
};

/* tool_result_text - append a {"type":"text"} block holding a copy of text
 * (borrowed). NULL or text that is not UTF-8: MOAT_ENOMEM, nothing added. */
enum moat_rc tool_result_text(struct tool_result *r, const char *text);

/* tool_result_take - the usual ending of a handler: a text block holding
 * text and structured as structuredContent. Takes ownership of both (either
 * may be NULL, after a failed allocation: then MOAT_ENOMEM with err set).
 * Frees text; structured belongs to r on success and is released on error. */
enum moat_rc tool_result_take(struct tool_result *r, json_t *structured, char *text,
			      struct moat_err *err);

/* tool_result_take_json - as tool_result_take, with structuredContent as
 * JSON text json[0..len) made by the streaming writer (malloc'd, taken;
 * one complete JSON object). Frees text; json belongs to r on success and
 * is freed on error. */
enum moat_rc tool_result_take_json(struct tool_result *r, char *json, size_t len, char *text,
				   struct moat_err *err);

/* tool_result_clear - release every member and zero r. */
void tool_result_clear(struct tool_result *r);

#endif
