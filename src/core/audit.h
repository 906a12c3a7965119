/*
 * audit.h - the audit trail (DESIGN.md §9): one JSON line per tool call,
 * per resource read or listing, and per security event, hash-chained.
 *
 * A record holds the time (UTC, RFC 3339 with microseconds), the kind
 * ("call", "resource", "security"), the principal, the client's name and
 * version from initialize, the session, the request id, the tool (or
 * method), its family, what the call touched (callctx_touch), the outcome
 * ("ok", "invalid", "denied", "limit", "timeout", "cancelled", ...), the
 * stable id of the rule that refused it, the duration in microseconds, the
 * bytes of the answer sent, and "prev": the SHA-256 (hex) of the previous
 * line, so an edited, removed or reordered line breaks the chain
 * (audit_verify). Never argument values, query text, contents, responses
 * or secrets.
 *
 * The file is opened append-only, mode 0600, close-on-exec, and its
 * directory is held open, before the sandbox is applied, so rotation by
 * size and reopening on SIGHUP work under Landlock (the sandbox grants the
 * directory the rights rotation needs). Thread-safe.
 */
#ifndef MOAT_CORE_AUDIT_H
#define MOAT_CORE_AUDIT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

struct audit; /* opaque */

/* Where and how to write. Strings are borrowed for the call only. */
struct audit_opts {
	const char *path;   /* absolute file path */
	uint64_t max_bytes; /* rotate once the file would pass this; 0 = never */
	unsigned keep;      /* rotated files kept (path.1 ... path.keep); 0 = none */
	bool make_dirs;     /* create the directory (and missing parents) 0700 */
};

/* Defaults of audit.max_bytes and audit.keep. */
#define AUDIT_DEFAULT_MAX_BYTES (16u * 1024u * 1024u)
#define AUDIT_DEFAULT_KEEP 5u

/* One record. Every pointer is borrowed for the call; NULL leaves the
 * field out. */
struct audit_event {
	const char *kind;           /* "call", "resource" or "security" */
	const char *principal;      /* "local" on stdio */
	const char *addr;           /* the client's address over HTTP; NULL on stdio */
	const char *client_name;    /* clientInfo.name from initialize */
	const char *client_version; /* clientInfo.version */
	const char *session;        /* the session id */
	const json_t *request_id;   /* the JSON-RPC id */
	const char *tool;           /* tool name, or the method for resources */
	const char *family;         /* "fs", "sql", "git", "http", ... */
	const json_t *touched;      /* object filled through callctx_touch */
	const char *outcome;        /* "ok" or moat_rc_name() of the failure */
	const char *rule;           /* stable rule id of a refusal */
	uint64_t duration_us;
	size_t bytes_out;           /* the whole JSON-RPC answer; 0 when none */
	uint64_t now_ns;            /* CLOCK_MONOTONIC "now" the caller already read
				       (moat_now_ns), or 0: the record's time is derived
				       from it, saving a clock read per record */
};

/* audit_open - open (create, 0600) o->path for appending, hold its
 * directory open (O_PATH) for rotation, and continue its hash chain from
 * its last line (or the last line of path.1 when the file is empty),
 * reading at most one record's bytes. Caller owns the result; close with
 * audit_close(). Returns NULL and fills err (naming the file) on failure. */
struct audit *audit_open(const struct audit_opts *o, struct moat_err *err);

/* audit_close - write everything queued, stop the writer, close. Accepts
 * NULL. Not concurrently with audit_write. */
void audit_close(struct audit *a);

/* audit_write - queue one record for the writer thread (started by the
 * first record, so after the sandbox), which chains, rotates and appends
 * in batches: refusals, failures and security events at once, successful
 * calls within 50 ms (audit.c). a may be NULL (auditing off). Write and
 * rotation failures are logged once, never fatal. Thread-safe. */
void audit_write(struct audit *a, const struct audit_event *ev);

/* audit_flush - wait until every record written so far is in the file
 * (handed to the kernel; no fsync). Call it before _exit(). Thread-safe;
 * a may be NULL. */
void audit_flush(struct audit *a);

/* audit_reopen - reopen the file by name (after SIGHUP: an outside tool
 * rotated it); the chain continues from the last line written. Thread-safe
 * (takes the writer's lock; not async-signal-safe: call it from the loop
 * that saw the signal, not from the handler); a may be NULL. */
void audit_reopen(struct audit *a);

#endif
