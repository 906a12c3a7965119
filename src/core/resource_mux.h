/*
 * resource_mux.h - several tool families serving MCP resources side by side.
 *
 * Each family registers a struct resource_ops for one URI scheme (fs for
 * "file", sql for "sql"). The mux presents them to the server as one
 * resource_ops: resources/read goes to the family whose scheme the URI
 * names; resources/list walks the families in registration order and
 * fills one page from as many of them as it takes, with a cursor
 * "<family index>:<the family's own cursor>"; resources/templates/list
 * joins every family's templates. With a single family its ops are served
 * unchanged, cursors included.
 *
 * Thread-safety: families are added at start-up (single-threaded); the
 * combined ops are then read-only and the families' own ops must be
 * thread-safe, as for one family.
 */
#ifndef MOAT_CORE_RESOURCE_MUX_H
#define MOAT_CORE_RESOURCE_MUX_H

#include <stddef.h>

#include "registry.h"
#include "result.h"

#define RESOURCE_MUX_MAX 8

struct resource_mux {
	struct resource_ops part[RESOURCE_MUX_MAX];
	size_t n;
	struct resource_ops combined; /* .data points back to this mux */
};

/*
 * resource_mux_add - add a family's ops (copied). ops->scheme must be a
 * lowercase URI scheme no other family serves. MOAT_EINVAL naming the rule
 * otherwise, or when RESOURCE_MUX_MAX families already serve resources.
 */
enum moat_rc resource_mux_add(struct resource_mux *m, const struct resource_ops *ops,
			      struct moat_err *err);

/* resource_mux_watch - start or stop watching uri through the family
 * serving its scheme. MOAT_ENOTFOUND (rule resources.not_subscribable)
 * when no family serves it or that family cannot watch. */
enum moat_rc resource_mux_watch(const struct resource_mux *m, const char *uri, bool on,
				struct moat_err *err);

/* resource_mux_complete - complete variable var of uri_template through
 * the family serving the template's scheme (resource_ops.complete; see
 * registry.h for the arguments). MOAT_ENOTFOUND (rule
 * completion.unknown_template) when no family serves that scheme; MOAT_OK
 * with nothing appended when that family completes nothing. */
enum moat_rc resource_mux_complete(const struct resource_mux *m, const char *uri_template,
				   const char *var, const char *prefix, const json_t *context,
				   json_t *values, size_t max, struct moat_err *err);

/* resource_mux_ops - the ops the server calls: NULL when no family serves
 * resources, the family's own with one, the combined ops with more.
 * Borrowed from m, which must not move afterwards. */
const struct resource_ops *resource_mux_ops(const struct resource_mux *m);

#endif
