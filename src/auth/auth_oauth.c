/*
 * auth_oauth.c - the "auth.oauth" section turned into a resource server's
 * settings (issuer, audience, algorithms, leeway, scopes and their policy
 * groups, the subject claim), and the JWKS it trusts: read from
 * jwks_file or fetched from jwks_url at start-up, refetched on a token
 * whose kid is unknown at most once every 30 s (AUTH_JWKS_REFRESH_NS),
 * one fetch at a time, the new set swapped in under a lock while checks
 * still holding the old one finish with it (reference counts).
 */
#include "auth_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http.h"
#include "log.h"

static const char *const default_algs[] = {"RS256", "ES256", "EdDSA"};

struct auth_jwks *auth_jwks_get(struct auth_oauth *o)
{
	struct auth_jwks *k;

	pthread_mutex_lock(&o->lock);
	k = o->jwks;
	if (k)
		k->refs++;
	pthread_mutex_unlock(&o->lock);
	return k;
}

void auth_jwks_put(struct auth_oauth *o, struct auth_jwks *k)
{
	bool last;

	if (!k)
		return;
	pthread_mutex_lock(&o->lock);
	last = --k->refs == 0;
	pthread_mutex_unlock(&o->lock);
	if (last)
		auth_jwks_free(k);
}

unsigned long auth_jwks_gen(struct auth_oauth *o)
{
	unsigned long g;

	pthread_mutex_lock(&o->lock);
	g = o->jwks_gen;
	pthread_mutex_unlock(&o->lock);
	return g;
}

/* A new set replaces the current one; the generation moves on, so every
 * token the cache holds is verified again with the new set. */
static void jwks_install(struct auth_oauth *o, struct auth_jwks *k)
{
	struct auth_jwks *old;

	pthread_mutex_lock(&o->lock);
	old = o->jwks;
	k->gen = ++o->jwks_gen;
	o->jwks = k;
	o->fetched_ns = moat_now_ns();
	pthread_mutex_unlock(&o->lock);
	auth_jwks_put(o, old);
}

static struct auth_jwks *jwks_fetch(struct auth_oauth *o, struct moat_err *err)
{
	char *body = NULL;
	size_t len = 0;
	struct auth_jwks *k = NULL;

	if (auth_fetch_get(o->fetch, &body, &len, err) == MOAT_OK)
		k = auth_jwks_parse(body, len, err);
	free(body);
	return k;
}

bool auth_jwks_refresh(struct auth_oauth *o)
{
	struct moat_err err = {0};
	struct auth_jwks *k;
	uint64_t now = moat_now_ns();
	bool due;

	if (!o->fetch)
		return false;
	if (pthread_mutex_trylock(&o->refresh_lock) != 0)
		return false; /* another thread is fetching it */
	pthread_mutex_lock(&o->lock);
	due = o->refreshed_ns == 0 || now - o->refreshed_ns >= AUTH_JWKS_REFRESH_NS;
	if (due) {
		o->refreshed_ns = now;
		o->refreshes++;
	}
	pthread_mutex_unlock(&o->lock);
	if (!due) {
		pthread_mutex_unlock(&o->refresh_lock);
		return false;
	}
	k = jwks_fetch(o, &err);
	if (k) {
		log_info("auth: JWKS fetched again (keys: %zu)", k->n);
		jwks_install(o, k);
	} else {
		/* The message names the host and the rule, never a query. */
		log_warn("auth: fetching the JWKS again failed: %s; the keys already loaded stay",
			 err.msg);
	}
	pthread_mutex_unlock(&o->refresh_lock);
	return k != NULL;
}

void auth_jwks_age(struct auth_oauth *o)
{
	bool old;

	if (!o->fetch || !o->max_age_ns)
		return;
	pthread_mutex_lock(&o->lock);
	old = moat_now_ns() - o->fetched_ns >= o->max_age_ns;
	pthread_mutex_unlock(&o->lock);
	if (old)
		auth_jwks_refresh(o);
}

static enum moat_rc str_member(const json_t *o, const char *key, bool required, char **out,
			       struct moat_err *err)
{
	const json_t *v = json_object_get(o, key);

	*out = NULL;
	if (!v) {
		if (required)
			return moat_err_set(err, MOAT_EINVAL, "/auth/oauth/%s: required", key);
		return MOAT_OK;
	}
	if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 2048 ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return moat_err_set(err, MOAT_EINVAL, "/auth/oauth/%s: a string of 1 to 2048 bytes",
				    key);
	if (!(*out = strdup(json_string_value(v))))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return MOAT_OK;
}

static enum moat_rc parse_algs(struct auth_oauth *o, const json_t *arr, struct moat_err *err)
{
	unsigned idx;

	o->algs = 0;
	if (!arr) {
		for (size_t i = 0; i < sizeof(default_algs) / sizeof(default_algs[0]); i++)
			if (auth_alg_find(default_algs[i], &idx))
				o->algs |= 1u << idx;
		return MOAT_OK;
	}
	if (!json_is_array(arr) || json_array_size(arr) == 0)
		return moat_err_set(err, MOAT_EINVAL, "/auth/oauth/algorithms: a non-empty array");
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const char *n = json_string_value(json_array_get(arr, i));
		if (!auth_alg_find(n, &idx))
			return moat_err_rule(err, MOAT_EINVAL, "auth.bad_algorithm",
					     "/auth/oauth/algorithms/%zu: not one of RS256 RS384 "
					     "RS512 PS256 PS384 PS512 ES256 ES384 ES512 EdDSA (none "
					     "and the HMAC algorithms are never accepted)", i);
		o->algs |= 1u << idx;
	}
	return MOAT_OK;
}

static enum moat_rc parse_scopes(struct auth_oauth *o, const json_t *sc, struct moat_err *err)
{
	const char *name;
	json_t *pats;
	char why[256];

	if (!json_is_object(sc) || json_object_size(sc) == 0 ||
	    json_object_size(sc) > POLICY_MAX_GROUPS)
		return moat_err_set(err, MOAT_EINVAL,
				    "/auth/oauth/scopes: required, an object of 1 to %d scopes, each "
				    "an array of tool patterns", POLICY_MAX_GROUPS);
	if (!(o->policy = policy_new()) ||
	    !(o->scopes = calloc(json_object_size(sc), sizeof(*o->scopes))))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_object_foreach((json_t *)sc, name, pats) {
		const char **p;
		size_t n = json_array_size(pats);
		int g;
		if (!name[0] || strlen(name) > 128 || strpbrk(name, " \"\\") ||
		    !json_is_array(pats) || n == 0)
			return moat_err_set(err, MOAT_EINVAL,
					    "/auth/oauth/scopes/%s: a scope name (1 to 128 bytes, no "
					    "space, quote or backslash) and a non-empty array of tool "
					    "patterns", name);
		if (!(p = calloc(n, sizeof(*p))))
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++)
			p[i] = json_string_value(json_array_get(pats, i));
		why[0] = '\0';
		for (size_t i = 0; i < n; i++)
			if (!p[i])
				snprintf(why, sizeof(why), "pattern %zu is not a string", i);
		g = why[0] ? -1 : policy_add_group(o->policy, p, n, why, sizeof(why));
		free(p);
		if (g < 0)
			return moat_err_set(err, MOAT_EINVAL, "/auth/oauth/scopes/%s: %s", name,
					    why[0] ? why : "not a valid list of tool patterns");
		if (!(o->scopes[o->nscopes] = strdup(name)))
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		if ((size_t)g != o->nscopes)
			return moat_err_set(err, MOAT_EINTERNAL, "policy group out of order");
		o->nscopes++;
	}
	return MOAT_OK;
}

static enum moat_rc int_member(const json_t *o, const char *key, long lo, long hi, long def,
			       long *out, struct moat_err *err)
{
	const json_t *v = json_object_get(o, key);

	*out = def;
	if (!v)
		return MOAT_OK;
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
		return moat_err_set(err, MOAT_EINVAL, "/auth/oauth/%s: an integer from %ld to %ld",
				    key, lo, hi);
	*out = (long)json_integer_value(v);
	return MOAT_OK;
}

static enum moat_rc load_jwks(struct auth_oauth *o, const json_t *sec, struct registry *reg,
			      struct moat_err *err)
{
	const json_t *url = json_object_get(sec, "jwks_url");
	struct moat_err e = {0};
	char *text = NULL, *ca = NULL, *u = NULL;
	size_t len = 0;
	enum moat_rc rc;

	if ((rc = str_member(sec, "jwks_file", false, &o->jwks_file, err)))
		return rc;
	if (!!o->jwks_file == !!url)
		return moat_err_set(err, MOAT_EINVAL,
				    "/auth/oauth: exactly one of jwks_file and jwks_url is required");
	if (o->jwks_file) {
		if (http_read_file(o->jwks_file, AUTH_JWKS_MAX_BYTES, &text, &len, &e))
			return moat_err_rule(err, MOAT_EINVAL, "auth.jwks", "/auth/oauth/jwks_file: %s",
					     e.msg);
		o->jwks = auth_jwks_parse(text, len, &e);
		free(text);
		if (!o->jwks)
			return moat_err_rule(err, MOAT_EINVAL, "auth.jwks", "/auth/oauth/jwks_file: %s",
					     e.msg);
		return MOAT_OK;
	}
	if ((rc = str_member(sec, "jwks_url", true, &u, err)) ||
	    (rc = str_member(sec, "jwks_ca_file", false, &ca, err)))
		goto out;
	o->fetch = auth_fetch_new(u, json_object_get(sec, "jwks_allow_addresses"), ca, reg, err);
	if (!o->fetch) {
		rc = err->rc ? err->rc : MOAT_EINVAL;
		goto out;
	}
	/* refreshed_ns stays 0: the first unknown kid may fetch at once. */
	o->fetched_ns = moat_now_ns();
	if (!(o->jwks = jwks_fetch(o, &e)))
		rc = moat_err_rule(err, MOAT_EUPSTREAM, "auth.jwks",
				   "/auth/oauth/jwks_url: the JWKS could not be loaded at start-up: %s",
				   e.msg);
out:
	free(u);
	free(ca);
	return rc;
}

enum moat_rc auth_oauth_parse(const json_t *sec, const char *resource_url, struct registry *reg,
			      struct auth_oauth *o, struct moat_err *err)
{
	const json_t *as = json_object_get(sec, "authorization_servers");
	long cpm, maxs, max_age;
	enum moat_rc rc;

	pthread_mutex_init(&o->lock, NULL);
	pthread_mutex_init(&o->refresh_lock, NULL);
	if (!json_is_object(sec))
		return moat_err_set(err, MOAT_EINVAL, "/auth/oauth: must be an object");
	if ((rc = str_member(sec, "issuer", true, &o->issuer, err)) ||
	    (rc = str_member(sec, "audience", false, &o->audience, err)) ||
	    (rc = str_member(sec, "metrics_scope", false, &o->metrics_scope, err)) ||
	    (rc = str_member(sec, "subject_claim", false, &o->subject_claim, err)) ||
	    (rc = parse_algs(o, json_object_get(sec, "algorithms"), err)) ||
	    (rc = int_member(sec, "leeway_s", 0, 300, AUTH_DEFAULT_LEEWAY, &o->leeway_s, err)) ||
	    (rc = int_member(sec, "calls_per_minute", 0, 1000000, AUTH_DEFAULT_CPM, &cpm, err)) ||
	    (rc = int_member(sec, "max_subjects", 16, 1000000, AUTH_DEFAULT_SUBJECTS, &maxs, err)) ||
	    (rc = int_member(sec, "jwks_max_age_s", 0, 604800, AUTH_DEFAULT_JWKS_AGE, &max_age,
			     err)) ||
	    (rc = parse_scopes(o, json_object_get(sec, "scopes"), err)))
		return rc;
	if (!o->audience) {
		if (!resource_url || !resource_url[0])
			return moat_err_set(err, MOAT_EINVAL, "/auth/oauth/audience: required when "
							     "the server's URL is not known");
		if (!(o->audience = strdup(resource_url)))
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		o->audience_default = true;
	}
	if (!o->subject_claim && !(o->subject_claim = strdup("sub")))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (o->metrics_scope) {
		for (size_t i = 0; i < o->nscopes; i++)
			if (strcmp(o->scopes[i], o->metrics_scope) == 0)
				return moat_err_set(err, MOAT_EINVAL,
						    "/auth/oauth/metrics_scope: \"%s\" is also a tool "
						    "scope; give metrics a scope of its own",
						    o->metrics_scope);
	}
	if (as) {
		size_t i;
		json_t *v;
		if (!json_is_array(as) || json_array_size(as) == 0)
			return moat_err_set(err, MOAT_EINVAL,
					    "/auth/oauth/authorization_servers: a non-empty array of "
					    "URLs");
		json_array_foreach(as, i, v)
			if (!json_is_string(v))
				return moat_err_set(err, MOAT_EINVAL,
						    "/auth/oauth/authorization_servers/%zu: a URL", i);
		o->auth_servers = json_deep_copy(as);
	} else {
		o->auth_servers = json_pack("[s]", o->issuer);
	}
	if (!o->auth_servers)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	o->at_jwt_only = json_is_true(json_object_get(sec, "require_at_jwt"));
	o->calls_per_minute = (uint32_t)cpm;
	o->max_age_ns = (uint64_t)max_age * 1000000000ull;
	o->max_subjects = (size_t)maxs;
	if (!(o->cache = auth_cache_new()) ||
	    !(o->subjects = auth_subjects_new((size_t)maxs, (uint32_t)cpm)))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return load_jwks(o, sec, reg, err);
}

void auth_oauth_free(struct auth_oauth *o)
{
	if (!o)
		return;
	free(o->issuer);
	free(o->audience);
	free(o->jwks_file);
	auth_fetch_free(o->fetch);
	for (size_t i = 0; i < o->nscopes; i++)
		free(o->scopes[i]);
	free(o->scopes);
	free(o->metrics_scope);
	free(o->subject_claim);
	policy_free(o->policy);
	auth_subjects_free(o->subjects);
	auth_cache_free(o->cache);
	json_decref(o->auth_servers);
	auth_jwks_free(o->jwks); /* the owner's reference; no check runs now */
	pthread_mutex_destroy(&o->lock);
	pthread_mutex_destroy(&o->refresh_lock);
	free(o);
}
