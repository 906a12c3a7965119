/*
 * sql_pg_route.c - where the PostgreSQL backend's connections go (in
 * moat_sql_pg.so). At start-up, before the sandbox, the hosts of the
 * connection string are read the way libpq reads them (a comma-separated
 * host list with one port for all or one each; PGHOST, PGHOSTADDR and
 * PGPORT when the string has none):
 *
 *   - a host that is a directory, or no host at all, is a Unix socket:
 *     no grant is needed, connecting to a named socket is not a
 *     file-system access Landlock controls (an abstract "@name" socket is
 *     refused by the sandbox's scoping: name a directory);
 *   - an IP address is used as it is;
 *   - a host name is resolved now, once: each of its addresses (at most
 *     SQLPG_ADDRS_MAX) becomes an entry of its own in the pinned host,
 *     hostaddr and port lists every later connect passes to libpq, with
 *     the name kept as host for TLS verification. So a reconnect after a
 *     server restart needs no resolver under the sandbox, and a DNS answer
 *     that changes later cannot move the connection elsewhere.
 *
 * Each TCP host's port is granted for connect (the cancel request goes to
 * the same port). When the string sets hostaddr itself, nothing is
 * resolved or pinned. Start-up only.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_pg.h"

#define SQLPG_ADDRS_MAX 4

/* The n-th entry of a comma-separated list, as a span. */
static bool list_item(const char *list, size_t n, const char **at, size_t *len)
{
	const char *p = list;

	for (; n > 0; n--) {
		if (!(p = strchr(p, ',')))
			return false;
		p++;
	}
	*at = p;
	*len = strcspn(p, ",");
	return true;
}

static bool is_ip(const char *h)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

/* The three pinned lists, built entry by entry. */
struct pins {
	FILE *host, *addr, *port;
	char *hs, *as, *ps;
	size_t hn, an, pn;
	size_t count;
	bool resolved; /* some host name was resolved */
};

static void pin(struct pins *pn, const char *host, const char *addr, const char *port)
{
	const char *sep = pn->count++ ? "," : "";

	fprintf(pn->host, "%s%s", sep, host);
	fprintf(pn->addr, "%s%s", sep, addr);
	fprintf(pn->port, "%s%s", sep, port);
}

/* Grant TCP connect to port (text); err names the rule. */
static enum moat_rc grant(struct sql_db *db, struct registry *reg, const char *port,
			  struct moat_err *err)
{
	char *end;
	long v = strtol(port, &end, 10);

	if (!*port || *end || v < 1 || v > 65535)
		return moat_err_set(err, MOAT_EINVAL,
				    "/databases/%s/url: a port is not a number from 1 to 65535",
				    db->name);
	return registry_grant_port(reg, (uint16_t)v, err);
}

/* Resolve name into pinned entries: every distinct address, at most
 * SQLPG_ADDRS_MAX. */
static enum moat_rc resolve(struct sql_db *db, struct pins *pn, const char *name,
			    const char *port, struct moat_err *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res, *a;
	char seen[SQLPG_ADDRS_MAX][INET6_ADDRSTRLEN];
	size_t n = 0;
	int gai;

	/* The host name is no secret (moat check shows it); the rest of the
	 * string is never echoed. */
	if ((gai = getaddrinfo(name, NULL, &hints, &res)) != 0)
		return moat_err_set(err, MOAT_EINVAL,
				    "/databases/%s/url: cannot connect to database '%s': host name "
				    "'%.253s' does not resolve: %s (it is resolved once, at start-up)",
				    db->name, db->name, name, gai_strerror(gai));
	for (a = res; a && n < SQLPG_ADDRS_MAX; a = a->ai_next) {
		char txt[INET6_ADDRSTRLEN];
		const void *src = a->ai_family == AF_INET
					  ? (const void *)&((struct sockaddr_in *)a->ai_addr)->sin_addr
					  : (const void *)&((struct sockaddr_in6 *)a->ai_addr)->sin6_addr;
		bool dup = false;
		if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
		    !inet_ntop(a->ai_family, src, txt, sizeof(txt)))
			continue;
		for (size_t k = 0; k < n; k++)
			dup |= strcmp(seen[k], txt) == 0;
		if (dup)
			continue;
		snprintf(seen[n++], sizeof(seen[0]), "%s", txt);
		pin(pn, name, txt, port);
	}
	freeaddrinfo(res);
	pn->resolved = true;
	return n ? MOAT_OK
		 : moat_err_set(err, MOAT_EINVAL,
				"/databases/%s/url: cannot connect to database '%s': host name "
				"'%.253s' has no IPv4 or IPv6 address", db->name, db->name, name);
}

enum moat_rc sqlpg_route(struct sql_db *db, struct registry *reg, struct moat_err *err)
{
	struct sqlpg_pool *p = db->conn;
	PQconninfoOption *opts = PQconninfoParse(db->url, NULL), *o;
	const char *host = NULL, *hostaddr = NULL, *port = NULL, *dbname = NULL;
	struct pins pn = {0};
	enum moat_rc rc = MOAT_OK;
	size_t nports = 1;

	if (!opts)
		return moat_err_set(err, MOAT_EINVAL,
				    "/databases/%s/url: not a valid PostgreSQL connection string "
				    "(key=value pairs or a postgresql:// URI)", db->name);
	for (o = opts; o->keyword; o++) {
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			dbname = o->val;
	}
	if (!port || !*port)
		port = getenv("PGPORT");
	if (!port || !*port)
		port = "5432";
	if (!host || !*host)
		host = getenv("PGHOST");
	if (!hostaddr || !*hostaddr)
		hostaddr = getenv("PGHOSTADDR");
	if (!hostaddr)
		hostaddr = "";
	if (!host || !*host)
		host = *hostaddr ? hostaddr : "";
	if (asprintf(&p->where, "%s:%s/%s", *host ? host : "(local socket)", port,
		     dbname && *dbname ? dbname : "(default)") < 0)
		p->where = NULL;
	for (const char *c = port; *c; c++)
		nports += *c == ',';
	pn.host = open_memstream(&pn.hs, &pn.hn);
	pn.addr = open_memstream(&pn.as, &pn.an);
	pn.port = open_memstream(&pn.ps, &pn.pn);
	if (!pn.host || !pn.addr || !pn.port) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; rc == MOAT_OK; i++) {
		char h[256], pt[8];
		const char *at;
		size_t n;
		if (!list_item(host, i, &at, &n))
			break;
		if (n >= sizeof(h)) {
			rc = moat_err_set(err, MOAT_EINVAL, "/databases/%s/url: a host is too long",
					  db->name);
			break;
		}
		memcpy(h, at, n);
		h[n] = '\0';
		if (!list_item(port, nports == 1 ? 0 : i, &at, &n) || n >= sizeof(pt)) {
			rc = moat_err_set(err, MOAT_EINVAL, "/databases/%s/url: a port is not a "
					  "number from 1 to 65535", db->name);
			break;
		}
		memcpy(pt, at, n);
		pt[n] = '\0';
		if (!*hostaddr && (!*h || h[0] == '/')) {
			pin(&pn, h, "", pt); /* a Unix socket: no grant, nothing to resolve */
			continue;
		}
		if ((rc = grant(db, reg, pt, err)))
			break;
		if (*hostaddr || is_ip(h))
			pin(&pn, h, "", pt);
		else
			rc = resolve(db, &pn, h, pt, err);
	}
out:
	if (pn.host)
		fclose(pn.host);
	if (pn.addr)
		fclose(pn.addr);
	if (pn.port)
		fclose(pn.port);
	if (rc == MOAT_OK && pn.resolved) {
		p->pin_host = pn.hs;
		p->pin_hostaddr = pn.as;
		p->pin_port = pn.ps;
	} else {
		free(pn.hs);
		free(pn.as);
		free(pn.ps);
	}
	PQconninfoFree(opts);
	return rc;
}
