/*
 * metrics.h - counters and latency histograms for GET /metrics, in the
 * Prometheus text format (version 0.0.4).
 *
 * The server notes every audit event here (tool calls, resource requests,
 * security refusals) whether or not the audit trail is on; the HTTP
 * transport notes authentication failures, sessions and rate-limit hits.
 * Noting is lock-free (atomic adds on fixed arrays sized at creation):
 * about 20 ns a call when uncontended (bench/metrics_note.c). Label values
 * are tool names, outcomes and rule ids moat itself defines: never an
 * argument, a principal's name or anything a client sent.
 */
#ifndef MOAT_CORE_METRICS_H
#define MOAT_CORE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "audit.h"
#include "registry.h"

struct metrics; /* opaque */

/* metrics_new - counters for every tool of reg (borrowed; tools are looked
 * up by name, so reg must outlive the metrics); a tool registered later, or
 * a call naming no registered tool, is not counted per tool. Caller owns
 * the result; free with metrics_free(). NULL on ENOMEM. */
struct metrics *metrics_new(const struct registry *reg);

/* metrics_note - count one audit event (kind "call", "resource" or
 * "security"): calls per tool and outcome, latency, refusals per rule.
 * Accepts m NULL. Thread-safe. */
void metrics_note(struct metrics *m, const struct audit_event *ev);

/* metrics_auth_failure - count a refused credential; reason is a static
 * rule id such as "auth.missing_token" or "auth.bad_token". */
void metrics_auth_failure(struct metrics *m, const char *reason);

/* metrics_sessions - the number of open sessions changed by delta. */
void metrics_sessions(struct metrics *m, int delta);

/* metrics_rate_limited - a request refused by a rate or size limit of the
 * listener; rule is a static rule id such as "limits.http_rate". */
void metrics_rate_limited(struct metrics *m, const char *rule);

/* metrics_render - the whole exposition as text (caller frees) and its
 * length in *len. NULL on ENOMEM. Thread-safe. */
char *metrics_render(struct metrics *m, size_t *len);

/* metrics_free - free m. Accepts NULL. */
void metrics_free(struct metrics *m);

#endif
