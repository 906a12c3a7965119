/*
 * cluster_cfg.c - the "cluster" section: the Redis URL, credentials, the
 * cluster key and the pool's bounds (cluster.h).
 *
 * The URL is parsed by hand: it is redis://HOST[:PORT][/DB] and nothing
 * else (no query, no user), a few lines, and the refusals must name their
 * rule: rediss:// because hiredis 0.14 has no TLS, credentials because a
 * URL is printed and logged where a ${NAME} secret is masked. The schema
 * has checked types and bounds already; here come the rules a schema
 * cannot say.
 */
#include "cluster.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#define PRIVATE_HINT                                                                       \
	"keep Redis private instead: on loopback, on a private network, or behind a TLS " \
	"tunnel such as stunnel, and name the near end here as redis://"

static uint64_t get_uint(const json_t *obj, const char *key, uint64_t def)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : def;
}

/* Copy the string at key (if any) into out; false when it does not fit. */
static bool get_str(const json_t *obj, const char *key, char *out, size_t size)
{
	json_t *v = json_object_get(obj, key);
	const char *s = json_string_value(v);

	out[0] = '\0';
	if (!s)
		return true;
	if (strlen(s) >= size)
		return false;
	memcpy(out, s, strlen(s) + 1);
	return true;
}

/* DIGITS into *out, at most max; false if empty, not digits or too big. */
static bool parse_num(const char *s, size_t n, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (n == 0 || n > 10)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > max)
		return false;
	*out = v;
	return true;
}

static enum moat_rc bad_url(struct moat_err *err, const char *why)
{
	return moat_err_rule(err, MOAT_EINVAL, "config.cluster_url",
			     "/cluster/redis: %s; write redis://HOST[:PORT][/DB] (rule "
			     "config.cluster_url)",
			     why);
}

/* redis://HOST[:PORT][/DB] into c. Never copies the URL into a message. */
static enum moat_rc parse_url(const char *url, struct cluster_cfg *c, struct moat_err *err)
{
	const char *p, *host, *hend, *end;
	unsigned long v;
	size_t hl;

	if (strncmp(url, "rediss://", 9) == 0)
		return moat_err_rule(err, MOAT_EINVAL, "config.cluster_tls",
				     "/cluster/redis: rediss:// (Redis over TLS) is not supported: "
				     "the hiredis this moat is built with (0.14) has no TLS; " PRIVATE_HINT
				     " (rule config.cluster_tls)");
	if (strncmp(url, "redis://", 8) != 0)
		return bad_url(err, "only the redis:// scheme is supported");
	p = url + 8;
	end = p + strcspn(p, "/?#");
	if (memchr(p, '@', (size_t)(end - p)))
		return moat_err_rule(
			err, MOAT_EINVAL, "config.cluster_url_credentials",
			"/cluster/redis: the URL holds a user or password; a URL is shown in logs "
			"and by moat check: put the password in cluster.password as ${NAME} (and "
			"an ACL user in cluster.username) (rule config.cluster_url_credentials)");
	if (*end == '?' || *end == '#')
		return bad_url(err, "a query or fragment is not supported");
	if (*p == '[') {
		host = p + 1;
		hend = memchr(host, ']', (size_t)(end - host));
		if (!hend)
			return bad_url(err, "an IPv6 address lacks its closing ']'");
		p = hend + 1;
	} else {
		host = p;
		hend = p + strcspn(p, ":/");
		if (hend > end)
			hend = end;
		p = hend;
	}
	hl = (size_t)(hend - host);
	if (hl == 0 || hl >= sizeof(c->host))
		return bad_url(err, hl ? "the host name is too long" : "the host is missing");
	memcpy(c->host, host, hl);
	c->host[hl] = '\0';
	for (size_t i = 0; i < hl; i++)
		if ((unsigned char)c->host[i] <= ' ' || c->host[i] == '%')
			return bad_url(err, "the host holds a space, a control character or '%'");
	c->port = 6379;
	if (*p == ':') {
		const char *ps = p + 1, *pe = ps + strcspn(ps, "/");
		if (!parse_num(ps, (size_t)(pe - ps), 65535, &v) || v == 0)
			return bad_url(err, "the port must be a number from 1 to 65535");
		c->port = (uint16_t)v;
		p = pe;
	} else if (p != end) {
		return bad_url(err, "unexpected text after the host");
	}
	c->db = 0;
	if (*p == '/' && p[1]) {
		if (!parse_num(p + 1, strlen(p + 1), 1023, &v))
			return bad_url(err, "the database must be a number from 0 to 1023");
		c->db = (unsigned)v;
	}
	{
		unsigned char buf[16];
		c->host_is_name = inet_pton(AF_INET, c->host, buf) != 1 &&
				  inet_pton(AF_INET6, c->host, buf) != 1;
	}
	return MOAT_OK;
}

enum moat_rc cluster_cfg_parse(const json_t *section, struct cluster_cfg *out,
			       struct moat_err *err)
{
	const char *s;
	enum moat_rc rc;

	memset(out, 0, sizeof(*out));
	s = json_string_value(json_object_get(section, "redis"));
	if (!s)
		return bad_url(err, "missing");
	if ((rc = parse_url(s, out, err)))
		return rc;
	if (!get_str(section, "password", out->password, sizeof(out->password)) ||
	    !get_str(section, "username", out->username, sizeof(out->username))) {
		cluster_cfg_wipe(out);
		return moat_err_rule(err, MOAT_EINVAL, "config.cluster_auth",
				     "/cluster: the username or password is longer than %d bytes "
				     "(rule config.cluster_auth)",
				     CLUSTER_SECRET_MAX - 1);
	}
	if (out->username[0] && !out->password[0]) {
		cluster_cfg_wipe(out);
		return moat_err_rule(err, MOAT_EINVAL, "config.cluster_auth",
				     "/cluster/username: a username needs a password "
				     "(cluster.password as ${NAME}) (rule config.cluster_auth)");
	}
	s = json_string_value(json_object_get(section, "key"));
	if (!s || !seal_parse_key(s, out->key)) {
		cluster_cfg_wipe(out);
		return moat_err_rule(err, MOAT_EINVAL, "config.cluster_key",
				     "/cluster/key: the cluster key must be 32 bytes, written as 64 "
				     "hex digits or in base64 (e.g. `openssl rand -hex 32`) (rule "
				     "config.cluster_key)");
	}
	if (!get_str(section, "prefix", out->prefix, sizeof(out->prefix)) || !out->prefix[0])
		snprintf(out->prefix, sizeof(out->prefix), "moat");
	out->pool = (unsigned)get_uint(section, "pool", 4);
	if (out->pool < 1 || out->pool > CLUSTER_POOL_MAX)
		out->pool = 4;
	out->timeout_ms = (uint32_t)get_uint(section, "timeout_ms", 250);
	out->connect_timeout_ms = (uint32_t)get_uint(section, "connect_timeout_ms", 1000);
	out->replicas = (unsigned)get_uint(section, "replicas", 1);
	if (out->replicas < 1)
		out->replicas = 1;
	s = json_string_value(json_object_get(section, "on_store_failure"));
	out->fallback = !s || strcmp(s, "auto") == 0 ? STORE_FALLBACK_AUTO
			: strcmp(s, "local") == 0    ? STORE_FALLBACK_LOCAL
						     : STORE_FALLBACK_REFUSE;
	return MOAT_OK;
}

void cluster_cfg_wipe(struct cluster_cfg *c)
{
	explicit_bzero(c->password, sizeof(c->password));
	explicit_bzero(c->username, sizeof(c->username));
	explicit_bzero(c->key, sizeof(c->key));
}

void cluster_cfg_describe(const struct cluster_cfg *c, FILE *f)
{
	static const char *const fb[] = {"auto (local for read-only calls, refuse writes)",
					 "local", "refuse"};
	bool v6 = strchr(c->host, ':') != NULL;

	fprintf(f, "cluster: redis://%s%s%s:%u/%u\n", v6 ? "[" : "", c->host, v6 ? "]" : "",
		(unsigned)c->port, c->db);
	fprintf(f, "  host                   %s%s\n", c->host,
		c->host_is_name ? " (a name: resolved at each connection)" : "");
	fprintf(f, "  port                   %u\n", (unsigned)c->port);
	fprintf(f, "  db                     %u\n", c->db);
	fprintf(f, "  prefix                 %s\n", c->prefix);
	fprintf(f, "  pool                   %u connections\n", c->pool);
	fprintf(f, "  timeout_ms             %u (connect %u)\n", c->timeout_ms,
		c->connect_timeout_ms);
	fprintf(f, "  on_store_failure       %s\n", fb[c->fallback]);
	fprintf(f, "  replicas assumed       %u\n", c->replicas);
	fprintf(f, "  username               %s\n", c->username[0] ? "****" : "(none)");
	fprintf(f, "  password               %s\n", c->password[0] ? "****" : "(none)");
	fprintf(f, "  key                    **** (seals requestState, sessions, cache)\n");
}
