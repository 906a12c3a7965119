/*
 * http_config.c - the `listen` section: parsing, defaults and the rules
 * that decide whether moat may listen at all.
 *
 * The schema (moat.schema.json) has already checked types and bounds when
 * this runs; what is left are the rules that span keys: a non-loopback
 * address needs TLS (or insecure_plaintext, for a TLS-terminating proxy)
 * and an `auth` section; a wildcard address needs an explicit Host
 * allowlist (the default allowlist is the bound address, and nobody sends
 * `Host: 0.0.0.0`).
 */
#include "http_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "limits_cfg.h"

bool httpd_addr_parse(const char *s, struct httpd_addr *a, char *why, size_t why_size)
{
	const char *colon, *host = s;
	size_t hlen;
	char *end;
	unsigned long port;
	struct in_addr v4;
	struct in6_addr v6;

	memset(a, 0, sizeof(*a));
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			goto bad;
		host = s + 1;
		hlen = (size_t)(rb - host);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			goto bad; /* a bare IPv6 address must be bracketed */
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(a->host))
		goto bad;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (colon[1] < '0' || colon[1] > '9' || *end || errno || port > 65535)
		goto bad;
	memcpy(a->host, host, hlen);
	a->host[hlen] = '\0';
	a->port = (uint16_t)port;
	if (strcmp(a->host, "localhost") == 0)
		snprintf(a->host, sizeof(a->host), "127.0.0.1");
	if (inet_pton(AF_INET, a->host, &v4) == 1 && s[0] != '[') {
		uint32_t ip = ntohl(v4.s_addr);
		a->loopback = (ip >> 24) == 127;
		a->wildcard = ip == 0;
		return true;
	}
	if (inet_pton(AF_INET6, a->host, &v6) == 1 && s[0] == '[') {
		a->v6 = true;
		a->loopback = IN6_IS_ADDR_LOOPBACK(&v6);
		a->wildcard = IN6_IS_ADDR_UNSPECIFIED(&v6);
		return true;
	}
bad:
	snprintf(why, why_size,
		 "must be ADDRESS:PORT with a numeric address (127.0.0.1:8765, [::1]:8765, "
		 "localhost:8765)");
	return false;
}

static uint32_t get_u32(const json_t *sec, const char *key, uint32_t def)
{
	json_t *v = json_object_get(sec, key);
	return json_is_integer(v) ? (uint32_t)json_integer_value(v) : def;
}

static size_t get_list(const json_t *sec, const char *key, const char **out)
{
	json_t *arr = json_object_get(sec, key), *v;
	size_t i, n = 0;

	json_array_foreach(arr, i, v) {
		if (n < HTTPD_LIST_MAX && json_is_string(v))
			out[n++] = json_string_value(v);
	}
	return n;
}

enum moat_rc httpd_config_load(const struct moat_config *cfg, const char *cli_addr,
			       struct httpd_config *c, struct moat_err *err)
{
	const json_t *sec = json_object_get(cfg->doc, "listen");
	const json_t *tls = json_object_get(sec, "tls");
	const char *addr = cli_addr ? cli_addr : json_string_value(json_object_get(sec, "http"));
	const char *maddr = json_string_value(json_object_get(sec, "metrics"));
	const char *where = cli_addr ? "--http" : "/listen/http";
	char why[160];

	memset(c, 0, sizeof(*c));
	c->session_idle_s = get_u32(sec, "session_idle_s", HTTPD_DEF_SESSION_IDLE_S);
	c->session_max_lifetime_s =
		get_u32(sec, "session_max_lifetime_s", HTTPD_DEF_SESSION_MAX_LIFETIME_S);
	c->max_sessions = get_u32(sec, "max_sessions", HTTPD_DEF_MAX_SESSIONS);
	c->max_sessions_per_principal =
		get_u32(sec, "max_sessions_per_principal", HTTPD_DEF_MAX_SESSIONS_PER_PRINCIPAL);
	c->max_body_bytes = json_is_integer(json_object_get(sec, "max_body_bytes"))
				    ? (size_t)json_integer_value(json_object_get(sec, "max_body_bytes"))
				    : cfg->limits.max_message_bytes;
	c->max_header_bytes = get_u32(sec, "max_header_bytes", HTTPD_DEF_MAX_HEADER_BYTES);
	c->max_connections = get_u32(sec, "max_connections", HTTPD_DEF_MAX_CONNECTIONS);
	c->max_connections_per_ip =
		get_u32(sec, "max_connections_per_ip", HTTPD_DEF_MAX_CONNECTIONS_PER_IP);
	c->requests_per_second_per_ip =
		get_u32(sec, "requests_per_second_per_ip", HTTPD_DEF_RPS_PER_IP);
	c->read_timeout_s = get_u32(sec, "read_timeout_s", HTTPD_DEF_READ_TIMEOUT_S);
	c->max_sse_streams_per_session =
		get_u32(sec, "max_sse_streams_per_session", HTTPD_DEF_MAX_SSE_STREAMS);
	c->drain_s = get_u32(sec, "drain_s", HTTPD_DEF_DRAIN_S);
	c->insecure_plaintext = json_is_true(json_object_get(sec, "insecure_plaintext"));
	c->tls_cert = json_string_value(json_object_get(tls, "cert"));
	c->tls_key = json_string_value(json_object_get(tls, "key"));
	c->nhosts = get_list(sec, "allowed_hosts", c->hosts);
	c->norigins = get_list(sec, "allowed_origins", c->origins);
	c->auth_configured = json_object_get(cfg->doc, "auth") != NULL;
	if (!addr)
		return MOAT_OK;
	c->enabled = true;
	if (!httpd_addr_parse(addr, &c->addr, why, sizeof(why)))
		return moat_err_set(err, MOAT_EINVAL, "%s: %s: %s", cfg->name, where, why);
	if (maddr) {
		c->has_metrics = true;
		if (!httpd_addr_parse(maddr, &c->metrics, why, sizeof(why)))
			return moat_err_set(err, MOAT_EINVAL, "%s: /listen/metrics: %s", cfg->name,
					    why);
	}
	if ((c->tls_cert != NULL) != (c->tls_key != NULL))
		return moat_err_set(err, MOAT_EINVAL,
				    "%s: /listen/tls: give both cert and key (PEM files)", cfg->name);
	if (!c->addr.loopback && !c->auth_configured)
		return moat_err_set(
			err, MOAT_EINVAL,
			"%s: %s: %s is not a loopback address: configure an \"auth\" section; only a "
			"loopback listener may serve without authentication (rule http.auth_required)",
			cfg->name, where, c->addr.host);
	if (!c->addr.loopback && !c->tls_cert && !c->insecure_plaintext)
		return moat_err_set(
			err, MOAT_EINVAL,
			"%s: %s: %s is not a loopback address: configure listen.tls {cert, key}, or "
			"set listen.insecure_plaintext to true when a TLS-terminating proxy is in "
			"front (rule http.tls_required)",
			cfg->name, where, c->addr.host);
	if ((c->addr.wildcard || (c->has_metrics && c->metrics.wildcard)) && c->nhosts == 0)
		return moat_err_set(err, MOAT_EINVAL,
				    "%s: %s: a wildcard address needs listen.allowed_hosts (the "
				    "names clients use to reach this server; rule "
				    "http.host_not_allowed)",
				    cfg->name, where);
	return MOAT_OK;
}

static void describe_addr(FILE *f, const char *label, const struct httpd_addr *a, bool tls)
{
	fprintf(f, "  %-15s %s://%s%s%s:%u/mcp%s\n", label, tls ? "https" : "http",
		a->v6 ? "[" : "", a->host, a->v6 ? "]" : "", (unsigned)a->port,
		a->loopback ? " (loopback)" : "");
}

void httpd_config_describe(const struct httpd_config *c, FILE *f)
{
	if (!c->enabled) {
		fprintf(f, "listener: none (stdio; `--http ADDR:PORT` or listen.http serves HTTP)\n");
		return;
	}
	fprintf(f, "listener: Streamable HTTP\n");
	describe_addr(f, "address", &c->addr, c->tls_cert != NULL);
	if (c->tls_cert)
		fprintf(f, "  %-15s TLS 1.2 and 1.3 only; cert %s, key %s\n", "tls", c->tls_cert,
			c->tls_key);
	else
		fprintf(f, "  %-15s none%s\n", "tls",
			c->addr.loopback ? " (loopback)"
					 : " (insecure_plaintext: a TLS-terminating proxy in front)");
	fprintf(f, "  %-15s %s\n", "auth",
		c->auth_configured ? "required (see the auth section)"
				   : "none: every request is the principal \"local\" (loopback only)");
	fprintf(f, "  %-15s", "allowed hosts");
	if (c->nhosts == 0 && c->addr.loopback && strcmp(c->addr.host, "127.0.0.1") &&
	    strcmp(c->addr.host, "::1"))
		fprintf(f, " %s, localhost, 127.0.0.1, [::1], with or without the port\n",
			c->addr.host);
	else if (c->nhosts == 0 && c->addr.loopback)
		fprintf(f, " localhost, 127.0.0.1, [::1], with or without the port\n");
	else if (c->nhosts == 0)
		fprintf(f, " %s%s%s, with or without the port\n", c->addr.v6 ? "[" : "",
			c->addr.host, c->addr.v6 ? "]" : "");
	for (size_t i = 0; i < c->nhosts; i++)
		fprintf(f, "%s %s%s", i ? "," : "", c->hosts[i], i + 1 == c->nhosts ? "\n" : "");
	fprintf(f, "  %-15s", "allowed origins");
	if (c->norigins == 0)
		fprintf(f, " %s\n", c->nhosts ? "none (a request with an Origin header is refused)"
					       : "the listener's own (scheme://host:port); any other "
						 "Origin is refused");
	for (size_t i = 0; i < c->norigins; i++)
		fprintf(f, "%s %s%s", i ? "," : "", c->origins[i], i + 1 == c->norigins ? "\n" : "");
	fprintf(f, "  %-15s body %zu B, headers %u B, %u connections (%u per address), "
		   "%u requests/s per address, read timeout %u s\n",
		"limits", c->max_body_bytes, c->max_header_bytes, c->max_connections,
		c->max_connections_per_ip, c->requests_per_second_per_ip, c->read_timeout_s);
	fprintf(f,
		"  %-15s %u at most (%u per principal), idle expiry %u s, lifetime %u s, %u SSE "
		"streams each\n",
		"sessions", c->max_sessions, c->max_sessions_per_principal, c->session_idle_s,
		c->session_max_lifetime_s, c->max_sse_streams_per_session);
	if (c->has_metrics)
		fprintf(f, "  %-15s http://%s%s%s:%u/metrics (no auth)\n", "metrics",
			c->metrics.v6 ? "[" : "", c->metrics.host, c->metrics.v6 ? "]" : "",
			(unsigned)c->metrics.port);
	else
		fprintf(f, "  %-15s GET /metrics for principals allowed metrics\n", "metrics");
	fprintf(f, "  %-15s /readyz turns 503, calls in flight run on for %u s, then exit\n",
		"on SIGTERM", c->drain_s);
}
