/*
 * auth_jwks_fetch.c - getting a JWKS from "oauth.jwks_url": through the
 * http family's client (http_perform: libcurl with the egress guard, the
 * vetted addresses pinned, TLS 1.2+ always verified, no proxy from the
 * environment, bounded bytes and time), never another guard.
 *
 * Stricter than the http family: https only, whatever the address (a JWKS
 * decides whose tokens are accepted, so it is never read over plain
 * http), no redirects (a redirect would lead to a port the sandbox did not
 * grant), a non-public address only when "jwks_allow_addresses" names it
 * (an identity provider inside the cluster). The URL is vetted and its
 * port granted at start-up; so are the files the resolver reads and TCP
 * port 53, as the http family does, so refreshes work under Landlock.
 */
#include "auth_int.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/egress.h"
#include "http/http.h"
#include "registry.h"

#define CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"
#define CA_MAX ((size_t)16 << 20)
#define JWKS_TIMEOUT_MS 10000

struct auth_fetch {
	char *url;
	struct egress_net *nets;
	size_t nnets;
	struct egress_policy policy;
	char *ca;
	size_t ca_len;
	bool curl_started;
};

static auth_fetch_fn fetcher;

/* The egress guard and the client name the http family's keys in their
 * hints; here the same settings are called jwks_allow_addresses and
 * jwks_ca_file. */
static void hint_keys(struct moat_err *err)
{
	static const char *const from[] = {"(allow_addresses)", "in ca_file)"};
	static const char *const to[] = {"(jwks_allow_addresses)", "in jwks_ca_file)"};
	char out[MOAT_ERR_MSG_MAX];

	for (size_t i = 0; i < 2; i++) {
		char *at = strstr(err->msg, from[i]);
		if (!at)
			continue;
		snprintf(out, sizeof(out), "%.*s%s%s", (int)(at - err->msg), err->msg, to[i],
			 at + strlen(from[i]));
		memcpy(err->msg, out, sizeof(out));
	}
}

void auth_set_fetcher(auth_fetch_fn fn)
{
	fetcher = fn;
}

struct auth_fetch *auth_fetch_new(const char *url, const json_t *allow, const char *ca_file,
				  struct registry *reg, struct moat_err *err)
{
	struct auth_fetch *f = calloc(1, sizeof(*f));
	struct egress_target t = {0};
	struct moat_err e = {0};

	if (!f || !(f->url = strdup(url))) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	if (json_array_size(allow) &&
	    !(f->nets = calloc(json_array_size(allow), sizeof(*f->nets)))) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < json_array_size(allow); i++, f->nnets++) {
		const char *v = json_string_value(json_array_get(allow, i));
		if (!v || egress_parse_net(v, &f->nets[i], &e)) {
			moat_err_set(err, MOAT_EINVAL, "/auth/oauth/jwks_allow_addresses/%zu: %s", i,
				     v ? e.msg : "must be a string");
			goto fail;
		}
	}
	f->policy = (struct egress_policy){.allow = f->nets, .nallow = f->nnets};
	if (strncmp(url, "https://", 8) != 0) {
		moat_err_rule(err, MOAT_EINVAL, "egress.plain_http",
			      "/auth/oauth/jwks_url: must be an https URL (a key set read over "
			      "plain http could be replaced on the way)");
		goto fail;
	}
	if (fetcher) {
		/* Tests: no network, no resolver. */
		return f;
	}
	if (http_client_init(err))
		goto fail;
	f->curl_started = true;
	if (egress_vet_url(&f->policy, url, &t, &e)) {
		hint_keys(&e);
		moat_err_rule(err, MOAT_EINVAL, e.rule, "/auth/oauth/jwks_url: %s", e.msg);
		goto fail;
	}
	if (ca_file) {
		if (http_read_file(ca_file, CA_MAX, &f->ca, &f->ca_len, &e)) {
			moat_err_set(err, MOAT_EINVAL, "/auth/oauth/jwks_ca_file: %s", e.msg);
			goto fail;
		}
	} else if (http_read_file(CA_BUNDLE, CA_MAX, &f->ca, &f->ca_len, &e)) {
		moat_err_set(err, MOAT_EINVAL, "/auth/oauth/jwks_url: no CA bundle at " CA_BUNDLE
			     " (set jwks_ca_file)");
		goto fail;
	}
	if (reg && (registry_grant_port(reg, t.port, err) || registry_grant_resolver(reg, err)))
		goto fail;
	egress_target_free(&t);
	return f;
fail:
	egress_target_free(&t);
	auth_fetch_free(f);
	return NULL;
}

enum moat_rc auth_fetch_get(struct auth_fetch *f, char **body, size_t *len, struct moat_err *err)
{
	struct http_request rq = {
		.method = "GET",
		.url = f->url,
		.policy = &f->policy,
		.follow_redirects = false,
		.timeout_ms = JWKS_TIMEOUT_MS,
		.max_response_bytes = AUTH_JWKS_MAX_BYTES,
		.ca = f->ca,
		.ca_len = f->ca_len,
		.user_agent = "moat",
	};
	struct http_response r;
	enum moat_rc rc;

	*body = NULL;
	*len = 0;
	if (fetcher)
		return fetcher(f->url, body, len, err);
	rc = http_perform(&rq, NULL, &r, err);
	if (rc)
		hint_keys(err);
	if (rc == MOAT_OK && r.status != 200)
		rc = moat_err_rule(err, MOAT_EUPSTREAM, "auth.jwks",
				   "the JWKS URL answered HTTP %ld (redirects are not followed)",
				   r.status);
	if (rc == MOAT_OK) {
		*body = r.body;
		*len = r.body_len;
		r.body = NULL;
	}
	http_response_free(&r);
	return rc;
}

const char *auth_fetch_url(const struct auth_fetch *f)
{
	return f ? f->url : NULL;
}

void auth_fetch_free(struct auth_fetch *f)
{
	if (!f)
		return;
	free(f->url);
	free(f->nets);
	free(f->ca);
	if (f->curl_started)
		http_client_fini();
	free(f);
}
