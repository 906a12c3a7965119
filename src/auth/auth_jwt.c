/*
 * auth_jwt.c - one OAuth access token checked as a resource server must
 * (RFC 9068, RFC 8707, RFC 8725): shape, header, algorithm, key,
 * signature, then the claims, then the scopes.
 *
 * The order matters: nothing in the payload is read before the signature
 * is verified, and the signature is verified only with the one key the
 * header's kid names, of the type the allowlisted alg requires. The
 * compact form is split and checked here (three base64url segments, no
 * more than AUTH_TOKEN_MAX bytes) because libjose's compact parser
 * accepts other shapes; header and payload are parsed by jansson with
 * duplicate keys refused, so no member can mean two things. Claim values
 * never reach a message: a refusal names the claim, not its content.
 */
#include "auth_int.h"

#include <jose/b64.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define SEG_JSON_MAX 4096 /* a decoded header; the payload is bounded by the token */

static int refuse(int status, const char *id, const char **rule, char *why, size_t why_size,
		  const char *msg)
{
	*rule = id;
	if (why_size)
		snprintf(why, why_size, "%s", msg);
	return status;
}

#define BAD(id, msg) refuse(AUTH_UNAUTHORIZED, (id), rule, why, why_size, (msg))

static bool b64url(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return n % 4 != 1; /* no length of base64 leaves a single character */
}

/* A segment decoded and parsed as a JSON object, or NULL. */
static json_t *seg_json(const char *s, size_t n, size_t max)
{
	size_t dl = jose_b64_dec_buf(s, n, NULL, 0);
	char *buf;
	json_t *j = NULL;

	if (dl == SIZE_MAX || dl == 0 || dl > max || !(buf = malloc(dl)))
		return NULL;
	if (jose_b64_dec_buf(s, n, buf, dl) == dl)
		j = json_loadb(buf, dl, JSON_REJECT_DUPLICATES, NULL);
	free(buf);
	if (j && !json_is_object(j)) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* A NumericDate claim: true with *t when present and a finite number. */
static bool num_claim(const json_t *p, const char *name, bool *present, double *t)
{
	const json_t *v = json_object_get(p, name);

	*present = v != NULL;
	if (!v)
		return true;
	if (!json_is_number(v))
		return false;
	*t = json_number_value(v);
	return isfinite(*t);
}

static bool aud_has(const json_t *aud, const char *want)
{
	size_t i;
	json_t *v;

	if (json_is_string(aud))
		return strcmp(json_string_value(aud), want) == 0;
	json_array_foreach(aud, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
			return true;
	return false;
}

static bool subject_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > AUTH_SUBJECT_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7F)
			return false;
	return true;
}

/* Does the token hold scope name (the "scope" string, space-separated, or
 * the "scp" array)? */
static bool has_scope(const json_t *p, const char *name)
{
	const char *sc = json_string_value(json_object_get(p, "scope"));
	const json_t *scp = json_object_get(p, "scp");
	size_t n = strlen(name), i;
	json_t *v;

	if (sc) {
		const char *c = sc;
		while (*c) {
			size_t w;
			while (*c == ' ')
				c++;
			w = strcspn(c, " ");
			if (w == n && strncmp(c, name, n) == 0)
				return true;
			c += w;
		}
	}
	if (json_is_string(scp))
		return strcmp(json_string_value(scp), name) == 0;
	json_array_foreach(scp, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), name) == 0)
			return true;
	return false;
}

/* The header: alg from the allowlist, typ, crit, kid. */
static int check_header(struct auth_oauth *o, const json_t *h, const struct auth_alg **alg,
			const char **kid, char *why, size_t why_size, const char **rule)
{
	const char *name = json_string_value(json_object_get(h, "alg"));
	const json_t *typ = json_object_get(h, "typ"), *k = json_object_get(h, "kid");
	unsigned idx;

	if (!name)
		return BAD("auth.bad_algorithm", "the token's header names no alg");
	*alg = auth_alg_find(name, &idx);
	if (!*alg || !(o->algs & (1u << idx)))
		return BAD("auth.bad_algorithm", "the token's alg is not one of oauth.algorithms");
	if (typ || o->at_jwt_only) {
		const char *t = json_string_value(typ);
		bool at = t && (!strcasecmp(t, "at+jwt") || !strcasecmp(t, "application/at+jwt"));
		if (o->at_jwt_only && !at)
			return BAD("auth.bad_token", "the token's typ is not at+jwt (oauth.require_at_jwt)");
		if (!at && (!t || strcasecmp(t, "JWT")))
			return BAD("auth.bad_token", "the token's typ is not at+jwt or JWT");
	}
	if (json_object_get(h, "crit"))
		return BAD("auth.bad_token", "the token's header has crit extensions moat does not "
					     "understand");
	if (k && (!json_is_string(k) || json_string_length(k) == 0 ||
		  json_string_length(k) >= AUTH_KID_MAX))
		return BAD("auth.bad_token", "the token's kid is not a string of 1 to 255 bytes");
	*kid = json_string_value(k);
	return AUTH_OK;
}

/* iss, aud, exp, nbf, iat; *until: the last second the token is valid. */
static int check_claims(struct auth_oauth *o, const json_t *p, int64_t *until, char *why,
			size_t why_size, const char **rule)
{
	const char *iss = json_string_value(json_object_get(p, "iss"));
	double now = (double)time(NULL), exp = 0, nbf = 0, iat = 0;
	double lw = (double)o->leeway_s;
	bool has_exp, has_nbf, has_iat;

	if (!iss || strcmp(iss, o->issuer) != 0)
		return BAD("auth.wrong_issuer", "the token's iss is not oauth.issuer");
	if (!aud_has(json_object_get(p, "aud"), o->audience))
		return BAD("auth.wrong_audience", "the token's aud does not name this resource "
						  "(oauth.audience)");
	if (!num_claim(p, "exp", &has_exp, &exp) || !num_claim(p, "nbf", &has_nbf, &nbf) ||
	    !num_claim(p, "iat", &has_iat, &iat))
		return BAD("auth.bad_token", "the token's exp, nbf or iat is not a number");
	if (!has_exp)
		return BAD("auth.bad_token", "the token has no exp claim (an access token must "
					     "expire)");
	if (now > exp + lw)
		return BAD("auth.expired", "the token has expired (exp)");
	if (has_nbf && now + lw < nbf)
		return BAD("auth.not_yet_valid", "the token is not valid yet (nbf)");
	if (has_iat && now + lw < iat)
		return BAD("auth.not_yet_valid", "the token was issued in the future (iat)");
	*until = exp + lw < now + AUTH_CACHE_MAX_S ? (int64_t)(exp + lw)
						   : (int64_t)now + AUTH_CACHE_MAX_S;
	return AUTH_OK;
}

/* The key for kid (refreshing the set once if it is unknown) and the
 * signature. */
static int check_signature(struct auth_oauth *o, const struct auth_alg *alg, const char *kid,
			   const char *tok, size_t d1, size_t d2, size_t len, unsigned long *gen,
			   char *why, size_t why_size, const char **rule)
{
	struct auth_jwks *k;
	const struct auth_key *key;
	const char *fit = NULL;
	int st = AUTH_OK;

	if (!kid)
		return BAD("auth.unknown_key", "the token names no key (kid)");
	k = auth_jwks_get(o);
	key = auth_jwks_pick(k, kid);
	if (!key && auth_jwks_refresh(o)) {
		auth_jwks_put(o, k);
		k = auth_jwks_get(o);
		key = auth_jwks_pick(k, kid);
	}
	if (!key) {
		st = BAD("auth.unknown_key", "no key in the JWKS has the token's kid");
	} else if (!auth_jwks_key_fits(key, alg, &fit)) {
		st = BAD("auth.bad_algorithm", fit);
	} else if (!auth_jwks_verify(key, alg, tok, d1, d2, len)) {
		st = BAD("auth.bad_signature", "the token's signature does not verify");
	} else {
		*gen = k->gen;
	}
	auth_jwks_put(o, k);
	return st;
}

int auth_jwt_check(struct auth_oauth *o, const char *tok, size_t len,
		   const uint8_t digest[AUTH_DIGEST_LEN], struct principal *out, char *why,
		   size_t why_size, const char **rule)
{
	const char *d1 = memchr(tok, '.', len), *d2, *kid = NULL, *sub;
	const struct auth_alg *alg = NULL;
	json_t *hdr = NULL, *pay = NULL;
	unsigned long gen = 0;
	int64_t until = 0;
	size_t i1, i2;
	int st;

	/* A key set past its age is refetched first, so that neither the
	 * cache nor the old set keeps a withdrawn key working. */
	auth_jwks_age(o);
	/* The same token as a moment ago: checked then, with this key set. */
	if (auth_cache_get(o->cache, digest, auth_jwks_gen(o), (int64_t)time(NULL), out)) {
		out->policy = o->policy;
		out->bucket = auth_subjects_bucket(o->subjects, out->name);
		return AUTH_OK;
	}

	d2 = d1 ? memchr(d1 + 1, '.', len - (size_t)(d1 - tok) - 1) : NULL;
	if (!d1 || !d2 || memchr(d2 + 1, '.', len - (size_t)(d2 - tok) - 1))
		return BAD("auth.bad_token", "the token is not a JWT (three dot-separated parts)");
	i1 = (size_t)(d1 - tok);
	i2 = (size_t)(d2 - tok);
	if (i1 == 0 || !b64url(tok, i1) || !(hdr = seg_json(tok, i1, SEG_JSON_MAX)))
		return BAD("auth.bad_token",
			   "the token's header is not a base64url-encoded JSON object");
	/* The header's alg first, so that "alg": "none" with its empty
	 * signature is named for what it is. */
	if ((st = check_header(o, hdr, &alg, &kid, why, why_size, rule)))
		goto out;
	if (i2 == i1 + 1 || i2 + 1 == len || !b64url(d1 + 1, i2 - i1 - 1) ||
	    !b64url(d2 + 1, len - i2 - 1)) {
		st = BAD("auth.bad_token", "the token's payload or signature is empty or not "
					   "base64url");
		goto out;
	}
	if ((st = check_signature(o, alg, kid, tok, i1, i2, len, &gen, why, why_size, rule)))
		goto out;
	/* Only now is the payload read. */
	if (!(pay = seg_json(d1 + 1, i2 - i1 - 1, AUTH_TOKEN_MAX))) {
		st = BAD("auth.bad_token", "the token's payload is not a JSON object");
		goto out;
	}
	if ((st = check_claims(o, pay, &until, why, why_size, rule)))
		goto out;
	sub = json_string_value(json_object_get(pay, o->subject_claim));
	if (!sub || !subject_ok(sub)) {
		st = BAD("auth.bad_token", "the token's subject claim is missing, empty, longer "
					   "than 121 bytes or not printable ASCII");
		goto out;
	}
	memset(out->name, 0, sizeof(out->name));
	snprintf(out->name, sizeof(out->name), "%s%s", AUTH_SUBJECT_PREFIX, sub);
	out->policy = o->policy;
	out->groups = 0;
	for (size_t i = 0; i < o->nscopes; i++)
		if (has_scope(pay, o->scopes[i]))
			out->groups |= (uint64_t)1 << i;
	out->metrics = o->metrics_scope && has_scope(pay, o->metrics_scope);
	if (!out->groups && !out->metrics) {
		st = refuse(AUTH_FORBIDDEN, "auth.insufficient_scope", rule, why, why_size,
			    "the token holds none of the scopes in oauth.scopes");
		goto out;
	}
	out->bucket = auth_subjects_bucket(o->subjects, out->name);
	auth_cache_put(o->cache, digest, gen, until, out);
	st = AUTH_OK;
out:
	json_decref(hdr);
	json_decref(pay);
	return st;
}
