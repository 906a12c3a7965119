/*
 * http_authn.c - who sent a request: the configured authenticate hook
 * (src/auth/ through http_auth_hook.h), or the local principal on a
 * loopback listener without an `auth` section. A refusal is a 401 or 403
 * with the WWW-Authenticate challenge of RFC 6750 pointing at the RFC 9728
 * metadata, so a client can find the authorization server; the challenge
 * carries nothing the client sent.
 */
#include "httpd_int.h"

#include <stdio.h>
#include <string.h>

#include "metrics.h"

/* The auth rule ids metrics may count (static strings only). */
static const char *const auth_rules[] = {
	"auth.missing_token",  "auth.bad_token",     "auth.expired",
	"auth.not_yet_valid",  "auth.wrong_issuer",  "auth.wrong_audience",
	"auth.bad_algorithm",  "auth.unknown_key",   "auth.insufficient_scope",
	"auth.bad_signature",
};

static const char *static_rule(const char *why, const char *fallback)
{
	for (size_t i = 0; i < sizeof(auth_rules) / sizeof(auth_rules[0]); i++) {
		if (strcmp(why, auth_rules[i]) == 0)
			return auth_rules[i];
	}
	return fallback;
}

bool httpd_authenticate(struct httpd_req *r, enum MHD_Result *ret)
{
	struct httpd_listener *l = r->l;
	char addr[PRINCIPAL_ADDR_MAX], why[96] = "", chal[sizeof(l->base) + 160];
	struct principal p = {0};
	const char *authz, *rule;
	bool dup = false;
	int rc;

	memcpy(addr, r->who.addr, sizeof(addr));
	if (!l->auth.authenticate) {
		r->who = *principal_local();
		memcpy(r->who.addr, addr, sizeof(addr));
		return true;
	}
	authz = httpd_header(r->conn, "Authorization", &dup);
	rc = dup ? 401 : l->auth.authenticate(l->auth.ctx, authz, &p, why, sizeof(why));
	if (rc == 0) {
		r->who = p;
		memcpy(r->who.addr, addr, sizeof(addr));
		explicit_bzero(&p, sizeof(p));
		return true;
	}
	explicit_bzero(&p, sizeof(p));
	/* RFC 9728 §5.1: the challenge points at the metadata, when there is
	 * an authorization server to describe (static tokens alone have none). */
	char meta[sizeof(l->base) + 80] = "";
	if (l->auth.resource_metadata && l->auth.resource_metadata(l->auth.ctx))
		snprintf(meta, sizeof(meta),
			 "resource_metadata=\"%s/.well-known/oauth-protected-resource\"", l->base);
	if (rc == 403) {
		rule = static_rule(why, "auth.insufficient_scope");
		snprintf(chal, sizeof(chal), "Bearer error=\"insufficient_scope\"%s%s",
			 meta[0] ? ", " : "", meta);
	} else {
		rule = static_rule(why, authz ? "auth.bad_token" : "auth.missing_token");
		snprintf(chal, sizeof(chal), "Bearer%s%s%s%s", meta[0] ? " " : "", meta,
			 authz ? (meta[0] ? ", " : " ") : "", authz ? "error=\"invalid_token\"" : "");
	}
	metrics_auth_failure(l->metrics, rule);
	*ret = httpd_refuse_with(r, rc == 403 ? MHD_HTTP_FORBIDDEN : MHD_HTTP_UNAUTHORIZED, -32001,
				 rule,
				 rc == 403 ? "the credential lacks the scope this needs"
					   : authz ? "the credential was refused"
						   : "this server needs an Authorization: Bearer "
						     "credential",
				 "WWW-Authenticate", chal);
	return false;
}
