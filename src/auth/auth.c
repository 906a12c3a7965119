/*
 * auth.c - the checker the HTTP listener asks "who is this?": the "auth"
 * section read (auth_token.c for "tokens", auth_oauth.c for "oauth"), the
 * Authorization header taken apart (RFC 6750: "Bearer" and one b64token),
 * the token tried against the static digests first (always, so the time
 * taken does not tell whether a token looked like a JWT) and then as an
 * OAuth access token, and the answer put in a struct principal. Also the
 * RFC 9728 metadata document and the `moat check` description.
 */
#include "auth_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <nettle/version.h>
#include <openssl/crypto.h>

#include "moat_build.h"

struct auth {
	struct auth_tokens tokens;
	struct auth_oauth *oauth; /* NULL: no OAuth */
	char *resource;
	char *metadata;           /* RFC 9728 JSON, or NULL */
};

static char *metadata_build(const struct auth *a)
{
	json_t *doc, *scopes;
	char *s = NULL;

	scopes = json_array();
	for (size_t i = 0; scopes && i < a->oauth->nscopes; i++)
		json_array_append_new(scopes, json_string(a->oauth->scopes[i]));
	if (scopes && a->oauth->metrics_scope)
		json_array_append_new(scopes, json_string(a->oauth->metrics_scope));
	doc = json_pack("{s:s,s:O,s:o,s:[s]}", "resource", a->resource, "authorization_servers",
			a->oauth->auth_servers, "scopes_supported", scopes,
			"bearer_methods_supported", "header");
	if (doc)
		s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(doc);
	return s;
}

static bool is_url(const char *s)
{
	return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

/* The metadata's resource is what tokens must name: the configured
 * audience when it is a URL (moat behind a proxy is reached at another URL
 * than the one it listens on), else the server's URL. */
static enum moat_rc resource_set(struct auth *a, const char *url, struct moat_err *err)
{
	const char *r = is_url(a->oauth->audience) || !url ? a->oauth->audience : url;
	char *nr = strdup(r), *md;

	if (!nr)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	free(a->resource);
	a->resource = nr;
	if (!(md = metadata_build(a)))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	free(a->metadata);
	a->metadata = md;
	return MOAT_OK;
}

enum moat_rc auth_set_resource_url(struct auth *a, const char *url, struct moat_err *err)
{
	char *aud;

	if (!url || !url[0])
		return moat_err_set(err, MOAT_EINVAL, "auth: the server's URL is empty");
	if (!a->oauth) {
		char *nr = strdup(url);
		if (!nr)
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		free(a->resource);
		a->resource = nr;
		return MOAT_OK;
	}
	if (a->oauth->audience_default) {
		if (!(aud = strdup(url)))
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		free(a->oauth->audience);
		a->oauth->audience = aud;
		auth_cache_clear(a->oauth->cache);
	}
	return resource_set(a, url, err);
}

struct auth *auth_new(const json_t *sec, const char *resource_url, struct registry *reg,
		      struct moat_err *err)
{
	struct auth *a = calloc(1, sizeof(*a));
	const json_t *tokens = json_object_get(sec, "tokens"), *oauth = json_object_get(sec, "oauth");
	const char *key;
	json_t *v;

	if (!a) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	if (!json_is_object(sec)) {
		moat_err_set(err, MOAT_EINVAL, "/auth: must be an object");
		goto fail;
	}
	json_object_foreach((json_t *)sec, key, v) {
		if (strcmp(key, "tokens") != 0 && strcmp(key, "oauth") != 0) {
			moat_err_set(err, MOAT_EINVAL, "/auth/%s: unknown key (tokens, oauth)", key);
			goto fail;
		}
	}
	if (!tokens && !oauth) {
		moat_err_set(err, MOAT_EINVAL, "/auth: needs \"tokens\", \"oauth\" or both");
		goto fail;
	}
	if (resource_url && !(a->resource = strdup(resource_url))) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	if (tokens && auth_tokens_parse(tokens, &a->tokens, err))
		goto fail;
	if (oauth) {
		if (!(a->oauth = calloc(1, sizeof(*a->oauth)))) {
			moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto fail;
		}
		if (auth_oauth_parse(oauth, resource_url, reg, a->oauth, err))
			goto fail;
		if (resource_set(a, a->resource, err))
			goto fail;
	}
	return a;
fail:
	auth_free(a);
	return NULL;
}

static int refuse(const char *id, const char *msg, char *why, size_t why_size, const char **rule)
{
	*rule = id;
	if (why_size)
		snprintf(why, why_size, "%s", msg);
	return AUTH_UNAUTHORIZED;
}

int auth_check(struct auth *a, const char *authz, struct principal *out, char *why,
	       size_t why_size, const char **rule)
{
	uint8_t d[AUTH_DIGEST_LEN];
	const char *tok;
	size_t len;
	long idx;

	*rule = NULL;
	if (why_size)
		why[0] = '\0';
	if (!authz || !authz[0])
		return refuse("auth.missing_token", "no Authorization header", why, why_size, rule);
	/* "Bearer", one space, the token: RFC 6750 allows more spaces, but
	 * a credential with one spelling leaves nothing to normalise. */
	if (strncasecmp(authz, "Bearer", 6) != 0 || (authz[6] != ' ' && authz[6] != '\0'))
		return refuse("auth.bad_token", "the Authorization scheme is not Bearer", why,
			      why_size, rule);
	tok = authz[6] ? authz + 7 : authz + 6;
	len = strnlen(tok, AUTH_TOKEN_MAX + 1);
	if (len == 0)
		return refuse("auth.missing_token", "the Bearer token is empty", why, why_size, rule);
	if (len > AUTH_TOKEN_MAX)
		return refuse("auth.bad_token", "the token is longer than 8192 bytes", why,
			      why_size, rule);
	if (!auth_b64token(tok, len))
		return refuse("auth.bad_token", "the token holds characters a Bearer token cannot "
					       "(or more than one space precedes it)", why, why_size,
			      rule);
	auth_token_digest(tok, len, d);
	if (a->tokens.n) {
		idx = auth_tokens_match(&a->tokens, d);
		if (idx >= 0) {
			struct auth_token *t = &a->tokens.v[idx];
			memset(out->name, 0, sizeof(out->name));
			snprintf(out->name, sizeof(out->name), "%s", t->name);
			out->policy = t->policy;
			out->groups = policy_group_patterns(t->policy, 0, &(size_t){0}) ? 1 : 0;
			out->bucket = t->calls_per_minute ? &t->bucket : NULL;
			out->metrics = t->metrics;
			return AUTH_OK;
		}
	}
	if (a->oauth && memchr(tok, '.', len))
		return auth_jwt_check(a->oauth, tok, len, d, out, why, why_size, rule);
	return refuse("auth.bad_token",
		      a->oauth ? "the token is neither a configured token nor a JWT"
			       : "the token is not one of auth.tokens",
		      why, why_size, rule);
}

int auth_authenticate(void *a, const char *authorization, struct principal *out, char *why,
		      size_t why_size)
{
	char sentence[160];
	const char *rule = NULL;
	int st = auth_check(a, authorization, out, sentence, sizeof(sentence), &rule);

	if (why_size)
		snprintf(why, why_size, "%s", rule ? rule : "");
	return st;
}

const char *auth_metadata_hook(void *a)
{
	return auth_resource_metadata(a);
}

const char *auth_resource_metadata(const struct auth *a)
{
	return a ? a->metadata : NULL;
}

unsigned long auth_jwt_cache_hits(const struct auth *a)
{
	return a && a->oauth ? auth_cache_hits(a->oauth->cache) : 0;
}

bool auth_has_oauth(const struct auth *a)
{
	return a && a->oauth;
}

static void print_patterns(FILE *f, const struct tool_policy *p, int g)
{
	size_t n = 0;
	const char *const *pats = policy_group_patterns(p, g, &n);

	for (size_t i = 0; pats && i < n; i++)
		fprintf(f, " %s", pats[i]);
	if (!pats || n == 0)
		fprintf(f, " (none)");
}

static void print_oauth(const struct auth_oauth *o, FILE *f)
{
	struct auth_jwks *k;

	fprintf(f, "  oauth: issuer %s\n", o->issuer);
	fprintf(f, "    audience (aud must name it): %s\n", o->audience);
	if (o->jwks_file)
		fprintf(f, "    jwks: file %s (read at start-up)\n", o->jwks_file);
	else
	{
		fprintf(f, "    jwks: %s (fetched at start-up, again on an unknown kid at most "
			   "every 30 s", auth_fetch_url(o->fetch));
		if (o->max_age_ns)
			fprintf(f, " and when older than %llu s",
				(unsigned long long)(o->max_age_ns / 1000000000ull));
		fprintf(f, "; https, egress-vetted)\n");
	}
	k = auth_jwks_get((struct auth_oauth *)o);
	for (size_t i = 0; k && i < k->n; i++) {
		const struct auth_key *key = &k->keys[i];
		fprintf(f, "      key %s: %s", key->kid[0] ? key->kid : "(no kid)",
			key->kty == AUTH_KTY_RSA ? "RSA" : key->kty == AUTH_KTY_EC ? "EC" : "OKP");
		if (key->kty == AUTH_KTY_RSA)
			fprintf(f, " %u bits", key->rsa_bits);
		else
			fprintf(f, " %s", key->crv);
		if (key->alg[0])
			fprintf(f, " alg %s", key->alg);
		fputc('\n', f);
	}
	auth_jwks_put((struct auth_oauth *)o, k);
	fprintf(f, "    algorithms:");
	for (unsigned i = 0; i < auth_nalgs; i++)
		if (o->algs & (1u << i))
			fprintf(f, " %s", auth_algs[i].name);
	fprintf(f, "\n    leeway: %ld s (exp, nbf, iat); typ: %s\n", o->leeway_s,
		o->at_jwt_only ? "at+jwt only" : "at+jwt, JWT or none");
	fprintf(f, "    principal: \"%s\" + the %s claim; ", AUTH_SUBJECT_PREFIX,
		o->subject_claim);
	if (o->calls_per_minute)
		fprintf(f, "%u tool calls a minute each (the %zu most recent subjects "
			   "tracked)\n", o->calls_per_minute, o->max_subjects);
	else
		fprintf(f, "no calls-a-minute limit\n");
	for (size_t i = 0; i < o->nscopes; i++) {
		fprintf(f, "    scope %s:", o->scopes[i]);
		print_patterns(f, o->policy, (int)i);
		fputc('\n', f);
	}
	if (o->metrics_scope)
		fprintf(f, "    scope %s: GET /metrics\n", o->metrics_scope);
}

void auth_print(const struct auth *a, FILE *f)
{
	if (!a)
		return;
	fprintf(f, "auth: %s%s%s\n", a->tokens.n ? "static bearer tokens" : "",
		a->tokens.n && a->oauth ? " and " : "",
		a->oauth ? "OAuth 2.1 access tokens (JWT)" : "");
	for (size_t i = 0; i < a->tokens.n; i++) {
		const struct auth_token *t = &a->tokens.v[i];
		char hex[17];
		auth_digest_hex(t->digest, 4, hex, sizeof(hex));
		fprintf(f, "  token %s (sha256 %s...): tools", t->name, hex);
		print_patterns(f, t->policy, 0);
		if (t->calls_per_minute)
			fprintf(f, "; %u calls a minute", t->calls_per_minute);
		else
			fprintf(f, "; no calls-a-minute limit");
		fprintf(f, "%s\n", t->metrics ? "; may read /metrics" : "");
	}
	if (a->oauth)
		print_oauth(a->oauth, f);
}

void auth_wipe_section(json_t *sec)
{
	json_t *tokens = json_object_get(sec, "tokens"), *t;
	size_t i;

	json_array_foreach(tokens, i, t) {
		json_t *v = json_object_get(t, "token");
		if (!json_is_string(v))
			continue;
		/* jansson owns the bytes; they are wiped before it frees them. */
		explicit_bzero((char *)json_string_value(v), json_string_length(v));
		json_object_set_new(t, "token", json_string("****"));
	}
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	auth_tokens_free(&a->tokens);
	auth_oauth_free(a->oauth);
	free(a->resource);
	free(a->metadata);
	free(a);
}

/* The module's libraries and their versions, for `moat version` (it asks
 * for this symbol by name): libjose has no run-time version call, so its
 * version is the one built against. Static storage. */
const char *auth_module_versions(void);
const char *auth_module_versions(void)
{
	static char buf[160];

	snprintf(buf, sizeof(buf), "libjose %s, %s, Nettle %d.%d", MOAT_JOSE_VERSION,
		 OpenSSL_version(OPENSSL_VERSION), nettle_version_major(), nettle_version_minor());
	return buf;
}

const struct auth_module auth_module = {
	.create = auth_new,
	.check = auth_check,
	.authenticate = auth_authenticate,
	.metadata = auth_metadata_hook,
	.set_resource_url = auth_set_resource_url,
	.print = auth_print,
	.wipe_section = auth_wipe_section,
	.destroy = auth_free,
};
