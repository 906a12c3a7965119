/*
 * http_config.h - the `listen` section of the config (docs/http.md): where
 * the HTTP listener binds, its TLS files, the Host and Origin allowlists
 * and its limits, each with a default. Parsed once at start-up, read-only
 * afterwards (safe to share between threads).
 */
#ifndef MOAT_TRANSPORT_HTTP_CONFIG_H
#define MOAT_TRANSPORT_HTTP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "result.h"

#define HTTPD_ADDR_MAX 64 /* "[v6]:port" with room */
#define HTTPD_LIST_MAX 64 /* allowed hosts / origins */

/* Defaults (docs/configuration.md, moat.schema.json). */
#define HTTPD_DEF_SESSION_IDLE_S 1800u
#define HTTPD_DEF_SESSION_MAX_LIFETIME_S 86400u
#define HTTPD_DEF_MAX_SESSIONS 1024u
#define HTTPD_DEF_MAX_SESSIONS_PER_PRINCIPAL 64u
#define HTTPD_DEF_MAX_HEADER_BYTES 32768u
#define HTTPD_DEF_MAX_CONNECTIONS 512u
#define HTTPD_DEF_MAX_CONNECTIONS_PER_IP 64u
#define HTTPD_DEF_RPS_PER_IP 200u
#define HTTPD_DEF_READ_TIMEOUT_S 15u
#define HTTPD_DEF_MAX_SSE_STREAMS 4u
#define HTTPD_DEF_DRAIN_S 10u

/* One address to listen on, parsed. */
struct httpd_addr {
	char host[HTTPD_ADDR_MAX]; /* numeric, without brackets ("127.0.0.1", "::1") */
	uint16_t port;             /* 0: any (the bound port is known after bind) */
	bool v6;
	bool loopback;
	bool wildcard;             /* 0.0.0.0 or :: */
};

struct httpd_config {
	bool enabled;                 /* --http or listen.http given */
	struct httpd_addr addr;
	bool has_metrics;             /* listen.metrics: a second listener */
	struct httpd_addr metrics;
	const char *tls_cert;         /* paths, borrowed from the config doc */
	const char *tls_key;
	bool insecure_plaintext;
	const char *hosts[HTTPD_LIST_MAX];   /* borrowed; empty: the defaults */
	size_t nhosts;
	const char *origins[HTTPD_LIST_MAX]; /* borrowed */
	size_t norigins;
	uint32_t session_idle_s;
	uint32_t session_max_lifetime_s; /* a sealed Mcp-Session-Id opens this long */
	uint32_t max_sessions;
	uint32_t max_sessions_per_principal;
	size_t max_body_bytes;        /* default: limits.max_message_bytes */
	uint32_t max_header_bytes;
	uint32_t max_connections;
	uint32_t max_connections_per_ip;
	uint32_t requests_per_second_per_ip;
	uint32_t read_timeout_s;
	uint32_t max_sse_streams_per_session;
	uint32_t drain_s;             /* SIGTERM: calls in flight run on this long */
	bool auth_configured;         /* the config has an "auth" section */
};

/*
 * httpd_addr_parse - "127.0.0.1:8765", "[::1]:0", "localhost:8765" into a.
 * Numeric addresses only, besides "localhost" (127.0.0.1). Returns false
 * with the rule in why when s is not such an address.
 */
bool httpd_addr_parse(const char *s, struct httpd_addr *a, char *why, size_t why_size);

/*
 * httpd_config_load - the listen section of cfg (borrowed: the result
 * points into cfg->doc, so cfg must outlive it), with cli_addr (--http,
 * may be NULL) overriding listen.http, and the start-up rules checked:
 * TLS or insecure_plaintext off loopback, auth off loopback, allowed hosts
 * given for a wildcard address. MOAT_OK with c->enabled false when neither
 * names an address. On failure err names the config pointer and the rule.
 */
enum moat_rc httpd_config_load(const struct moat_config *cfg, const char *cli_addr,
			       struct httpd_config *c, struct moat_err *err);

/* httpd_config_describe - `moat check`: the listener, TLS, the allowed
 * hosts and origins and the limits, one line each, to f. */
void httpd_config_describe(const struct httpd_config *c, FILE *f);

#endif
