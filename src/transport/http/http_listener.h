/*
 * http_listener.h - moat as a network service: the MCP Streamable HTTP
 * transport (MCP 2025-11-25) on libmicrohttpd, at /mcp, with /healthz,
 * /metrics and the RFC 9728 metadata beside it (docs/http.md).
 *
 * Two steps around the sandbox: httpd_prepare() runs before it (parses
 * `listen`, binds the socket, reads the TLS files, records the bound port
 * for Landlock's bind rule), httpd_run() after it (starts the daemon's
 * threads, which inherit the sandbox, and serves until SIGTERM or SIGINT).
 * Single-threaded callers only (the main thread of `moat serve`).
 */
#ifndef MOAT_TRANSPORT_HTTP_LISTENER_H
#define MOAT_TRANSPORT_HTTP_LISTENER_H

#include <stdbool.h>
#include <stdio.h>

#include "audit.h"
#include "config.h"
#include "http_auth_hook.h"
#include "registry.h"
#include "result.h"
#include "server.h"

struct httpd_listener; /* opaque */
struct metrics;

struct httpd_listener_opts {
	const struct moat_config *cfg; /* borrowed; outlives the listener */
	const char *cli_addr;          /* --http ADDR:PORT, or NULL */
	struct registry *reg;          /* borrowed; the bind port is granted on it */
	const struct server_opts *sopts; /* copied; its strings borrowed */
	struct httpd_auth_hook auth;   /* authenticate NULL: no auth */
	struct metrics *metrics;       /* borrowed; may be NULL */
};

/* httpd_wanted - true when --http or listen.http asks for the listener. */
bool httpd_wanted(const struct moat_config *cfg, const char *cli_addr);

/*
 * httpd_prepare - everything before the sandbox. Returns the listener
 * (caller owns; httpd_free) or NULL with err naming the rule (a config
 * pointer, the address that cannot be bound, the TLS file that cannot be
 * read). Starts no thread.
 */
struct httpd_listener *httpd_prepare(const struct httpd_listener_opts *o, struct moat_err *err);

/*
 * httpd_run - after the sandbox: block SIGTERM, SIGINT and SIGHUP in this
 * thread (so every thread started here inherits that), start the daemon,
 * print "moat: listening on URL" to stderr and serve. SIGHUP reopens the
 * audit file; SIGTERM or SIGINT turn /readyz to 503, stop accepting, let
 * calls in flight run on for listen.drain_s, cancel the rest, answer what
 * is waiting and return. Returns
 * 0 on a clean end, 1 when a tool call would not stop (nothing freed: the
 * caller must _exit), -1 when the daemon could not start (logged).
 */
int httpd_run(struct httpd_listener *l);

/* httpd_url - the listener's URL as bound ("http://127.0.0.1:8765/mcp";
 * borrowed, valid until httpd_free): the resource the auth section's
 * audience and RFC 9728 metadata default to (auth_set_resource_url). */
const char *httpd_url(const struct httpd_listener *l);

/* httpd_free - release l after httpd_run returned 0 or -1, or after a
 * failed start-up. Accepts NULL. */
void httpd_free(struct httpd_listener *l);

/* httpd_describe - `moat check`: check the listen section as serve
 * would, without binding; record its fixed port(s) on reg (may be NULL)
 * for the sandbox plan; print it to f (may be NULL). Returns MOAT_OK or
 * the start-up error in err. */
enum moat_rc httpd_describe(const struct moat_config *cfg, const char *cli_addr,
			    struct registry *reg, FILE *f, struct moat_err *err);

#endif
