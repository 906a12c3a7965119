/*
 * audit.h - one JSON line per tool call, to a configured file.
 *
 * A record holds the time (UTC, RFC 3339), the tool name, the duration in
 * milliseconds, the outcome ("ok", "error", "invalid", "cancelled",
 * "timeout", "limit", "denied"...) and the bytes of the response sent (the
 * whole JSON-RPC message; 0 when none was sent). Never argument
 * values, results or secrets. The file is opened append-only, mode 0600,
 * close-on-exec, before the sandbox is applied. Thread-safe.
 */
#ifndef MOAT_CORE_AUDIT_H
#define MOAT_CORE_AUDIT_H

#include <stddef.h>

#include "result.h"

struct audit; /* opaque */

/* audit_open - open (create) path for appending. Caller owns the result;
 * close with audit_close(). Returns NULL and fills err on failure. */
struct audit *audit_open(const char *path, struct moat_err *err);

/* audit_close - flush and close. Accepts NULL. */
void audit_close(struct audit *a);

/* audit_record - append one record. a may be NULL (auditing off). tool is
 * borrowed. Write failures are logged once to stderr, never fatal. */
void audit_record(struct audit *a, const char *tool, double duration_ms, const char *outcome,
		  size_t bytes_out);

#endif
