/*
 * auth_jwks.c - the JSON Web Key Set an OAuth configuration trusts: parsed
 * into keys moat can use, one key picked for a token, and the signature
 * verified with exactly that key.
 *
 * RS256..RS512, PS256..PS512 and ES256..ES512 are verified by libjose
 * (jose_jws_ver on OpenSSL). libjose 11 (Debian 12) implements no EdDSA,
 * so EdDSA (Ed25519, Ed448) is verified by Nettle's ed25519_sha512_verify
 * and ed448_shake256_verify: the only signature code here is the call.
 *
 * The key's fitness for the token's alg is decided here, never by the
 * library: libjose 11 infers an algorithm from the key when the header has
 * none and compares the header's alg with the JWK's "alg" by `strcmp() <
 * 0` (jws.c), so a mismatch in one direction passes. Here an RSA key
 * verifies only RS* and PS*, an EC key only ES* on its own curve, an OKP
 * key only EdDSA, a JWK's own "alg" must equal the header's, and symmetric
 * ("oct") keys are never loaded: an HS256 token whose secret is the RSA
 * public key's bytes finds no key that fits.
 */
#include "auth_int.h"

#include <jose/b64.h>
#include <jose/jose.h>
#include <jose/jws.h>
#include <jose/openssl.h>
#include <nettle/eddsa.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct auth_alg auth_algs[] = {
	{"RS256", AUTH_KTY_RSA, NULL},   {"RS384", AUTH_KTY_RSA, NULL},
	{"RS512", AUTH_KTY_RSA, NULL},   {"PS256", AUTH_KTY_RSA, NULL},
	{"PS384", AUTH_KTY_RSA, NULL},   {"PS512", AUTH_KTY_RSA, NULL},
	{"ES256", AUTH_KTY_EC, "P-256"}, {"ES384", AUTH_KTY_EC, "P-384"},
	{"ES512", AUTH_KTY_EC, "P-521"}, {"EdDSA", AUTH_KTY_OKP, NULL},
};
const unsigned auth_nalgs = sizeof(auth_algs) / sizeof(auth_algs[0]);

const struct auth_alg *auth_alg_find(const char *name, unsigned *idx)
{
	for (unsigned i = 0; name && i < auth_nalgs; i++) {
		if (strcmp(auth_algs[i].name, name) == 0) {
			if (idx)
				*idx = i;
			return &auth_algs[i];
		}
	}
	return NULL;
}

/* libjose reports errors through a config; the default one prints to
 * stderr, and a refused token is not worth a line there. */
static jose_cfg_t *quiet;
static pthread_once_t quiet_once = PTHREAD_ONCE_INIT;

static void quiet_err(void *misc, const char *file, int line, uint64_t err, const char *fmt,
		      va_list ap)
{
	(void)misc;
	(void)file;
	(void)line;
	(void)err;
	(void)fmt;
	(void)ap;
}

static void quiet_make(void)
{
	quiet = jose_cfg();
	if (quiet)
		jose_cfg_set_err_func(quiet, quiet_err, NULL);
}

/* The decoded length of a base64url member, or 0 when absent or invalid. */
static size_t b64_len(const json_t *v)
{
	size_t n;

	if (!json_is_string(v))
		return 0;
	n = jose_b64_dec(v, NULL, 0);
	return n == SIZE_MAX ? 0 : n;
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7E)
			return false;
	return true;
}

/* 1: usable, 0: skipped (not for signatures or of a kind moat does not
 * use), -1: refused (err set). */
static int key_parse(const json_t *j, size_t i, struct auth_key *k, struct moat_err *err)
{
	const char *kty = json_string_value(json_object_get(j, "kty"));
	const char *use = json_string_value(json_object_get(j, "use"));
	const char *kid = json_string_value(json_object_get(j, "kid"));
	const char *alg = json_string_value(json_object_get(j, "alg"));
	const char *crv = json_string_value(json_object_get(j, "crv"));
	const json_t *ops = json_object_get(j, "key_ops");
	static const char *const priv[] = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"};

	memset(k, 0, sizeof(*k));
	if (!json_is_object(j) || !kty) {
		moat_err_rule(err, MOAT_EINVAL, "auth.jwks", "JWKS key %zu: not a JWK (no kty)", i);
		return -1;
	}
	if (json_object_get(j, "kid") && (!kid || strlen(kid) >= AUTH_KID_MAX || !printable(kid))) {
		moat_err_rule(err, MOAT_EINVAL, "auth.jwks",
			      "JWKS key %zu: kid must be a printable string under %d bytes", i,
			      AUTH_KID_MAX);
		return -1;
	}
	if (strcmp(kty, "oct") == 0)
		return 0; /* a shared secret has no place in a public key set */
	for (size_t p = 0; p < sizeof(priv) / sizeof(priv[0]); p++) {
		if (json_object_get(j, priv[p])) {
			moat_err_rule(err, MOAT_EINVAL, "auth.jwks",
				      "JWKS key %zu%s%s%s: holds a private key part (\"%s\"); "
				      "publish only the public key", i, kid ? " (kid " : "",
				      kid ? kid : "", kid ? ")" : "", priv[p]);
			return -1;
		}
	}
	if (use && strcmp(use, "sig") != 0)
		return 0; /* an encryption key */
	if (ops) {
		bool verify = false;
		size_t n;
		json_t *v;
		json_array_foreach(ops, n, v)
			if (json_is_string(v) && strcmp(json_string_value(v), "verify") == 0)
				verify = true;
		if (!verify)
			return 0;
	}
	if (!kid || !kid[0])
		return 0; /* a token must name its key: a key without kid is never used */
	snprintf(k->kid, sizeof(k->kid), "%s", kid);
	if (alg) {
		if (strlen(alg) >= sizeof(k->alg))
			return 0;
		snprintf(k->alg, sizeof(k->alg), "%s", alg);
	}
	if (strcmp(kty, "RSA") == 0) {
		size_t nb = b64_len(json_object_get(j, "n"));
		if (!nb || !b64_len(json_object_get(j, "e"))) {
			moat_err_rule(err, MOAT_EINVAL, "auth.jwks",
				      "JWKS key %zu: an RSA key needs n and e in base64url", i);
			return -1;
		}
		k->kty = AUTH_KTY_RSA;
		k->rsa_bits = (unsigned)(nb * 8);
		if (k->rsa_bits < 2048) {
			moat_err_rule(err, MOAT_EINVAL, "auth.jwks",
				      "JWKS key %zu: an RSA modulus of %u bits; at least 2048 are "
				      "required", i, k->rsa_bits);
			return -1;
		}
	} else if (strcmp(kty, "EC") == 0) {
		if (!crv || (strcmp(crv, "P-256") && strcmp(crv, "P-384") && strcmp(crv, "P-521")))
			return 0;
		if (!b64_len(json_object_get(j, "x")) || !b64_len(json_object_get(j, "y"))) {
			moat_err_rule(err, MOAT_EINVAL, "auth.jwks",
				      "JWKS key %zu: an EC key needs x and y in base64url", i);
			return -1;
		}
		k->kty = AUTH_KTY_EC;
	} else if (strcmp(kty, "OKP") == 0) {
		size_t want;
		const json_t *x = json_object_get(j, "x");
		if (!crv)
			return 0;
		if (strcmp(crv, "Ed25519") == 0)
			want = 32;
		else if (strcmp(crv, "Ed448") == 0)
			want = 57;
		else
			return 0; /* X25519 and X448 are for key agreement */
		if (b64_len(x) != want || jose_b64_dec(x, k->okp, sizeof(k->okp)) != want) {
			moat_err_rule(err, MOAT_EINVAL, "auth.jwks",
				      "JWKS key %zu: an %s key's x must be %zu bytes in base64url",
				      i, crv, want);
			return -1;
		}
		k->okp_len = want;
		k->kty = AUTH_KTY_OKP;
	} else {
		return 0;
	}
	if (crv)
		snprintf(k->crv, sizeof(k->crv), "%s", crv);
	if (k->kty != AUTH_KTY_OKP) {
		/* The key as OpenSSL will use it: a point off its curve or a
		 * malformed modulus is refused now, not taken for a bad
		 * signature later; and OpenSSL reads its configuration now,
		 * before the sandbox (at start-up). */
		EVP_PKEY *pk;
		pthread_once(&quiet_once, quiet_make);
		pk = jose_openssl_jwk_to_EVP_PKEY(quiet, j);
		if (!pk) {
			moat_err_rule(err, MOAT_EINVAL, "auth.jwks",
				      "JWKS key %zu: not a valid %s public key", i, kty);
			return -1;
		}
		EVP_PKEY_free(pk);
	}
	if (!(k->jwk = json_deep_copy(j))) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return -1;
	}
	return 1;
}

struct auth_jwks *auth_jwks_parse(const char *text, size_t len, struct moat_err *err)
{
	json_error_t je;
	json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *keys;
	struct auth_jwks *k = NULL;
	size_t n, i;

	if (!doc)
		goto bad;
	keys = json_object_get(doc, "keys");
	n = json_array_size(keys);
	if (!json_is_array(keys))
		goto bad;
	if (n == 0 || n > AUTH_JWKS_MAX_KEYS) {
		moat_err_rule(err, MOAT_EINVAL, "auth.jwks", "the JWKS must hold 1 to %d keys (it "
			      "holds %zu)", AUTH_JWKS_MAX_KEYS, n);
		json_decref(doc);
		return NULL;
	}
	if (!(k = calloc(1, sizeof(*k) + n * sizeof(k->keys[0])))) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		json_decref(doc);
		return NULL;
	}
	k->refs = 1;
	for (i = 0; i < n; i++) {
		int r = key_parse(json_array_get(keys, i), i, &k->keys[k->n], err);
		if (r < 0)
			goto fail;
		if (r == 0)
			continue;
		for (size_t j = 0; j < k->n; j++) {
			if (strcmp(k->keys[j].kid, k->keys[k->n].kid) == 0) {
				moat_err_rule(err, MOAT_EINVAL, "auth.jwks",
					      "JWKS key %zu: kid \"%s\" is used twice", i,
					      k->keys[j].kid);
				json_decref(k->keys[k->n].jwk);
				goto fail;
			}
		}
		k->n++;
	}
	if (k->n == 0) {
		moat_err_rule(err, MOAT_EINVAL, "auth.jwks",
			      "the JWKS holds no signature key moat can use (with a kid; RSA of "
			      "2048 bits or more, EC P-256/P-384/P-521, OKP Ed25519/Ed448)");
		goto fail;
	}
	json_decref(doc);
	return k;
bad:
	moat_err_rule(err, MOAT_EINVAL, "auth.jwks",
		      "the JWKS is not a JSON object with a \"keys\" array");
	json_decref(doc);
	return NULL;
fail:
	json_decref(doc);
	auth_jwks_free(k);
	return NULL;
}

void auth_jwks_free(struct auth_jwks *k)
{
	if (!k)
		return;
	for (size_t i = 0; i < k->n; i++)
		json_decref(k->keys[i].jwk);
	free(k);
}

bool auth_jwks_key_fits(const struct auth_key *key, const struct auth_alg *alg, const char **why)
{
	if (key->kty != alg->kty) {
		*why = "the token's alg does not match the key's type";
		return false;
	}
	if (alg->crv && strcmp(alg->crv, key->crv) != 0) {
		*why = "the token's alg does not match the key's curve";
		return false;
	}
	if (key->alg[0] && strcmp(key->alg, alg->name) != 0) {
		*why = "the token's alg is not the key's alg";
		return false;
	}
	return true;
}

const struct auth_key *auth_jwks_pick(const struct auth_jwks *k, const char *kid)
{
	for (size_t i = 0; k && kid && i < k->n; i++)
		if (strcmp(k->keys[i].kid, kid) == 0)
			return &k->keys[i];
	return NULL;
}

static bool verify_eddsa(const struct auth_key *key, const char *tok, size_t dot2, size_t len)
{
	uint8_t sig[114];
	size_t want = key->okp_len == 32 ? 64 : 114;
	size_t n = jose_b64_dec_buf(tok + dot2 + 1, len - dot2 - 1, NULL, 0);

	if (n != want || jose_b64_dec_buf(tok + dot2 + 1, len - dot2 - 1, sig, sizeof(sig)) != want)
		return false;
	if (key->okp_len == 32)
		return ed25519_sha512_verify(key->okp, dot2, (const uint8_t *)tok, sig) == 1;
	return ed448_shake256_verify(key->okp, dot2, (const uint8_t *)tok, sig) == 1;
}

bool auth_jwks_verify(const struct auth_key *key, const struct auth_alg *alg, const char *tok,
		      size_t dot1, size_t dot2, size_t len)
{
	json_t *jws;
	bool ok;

	if (alg->kty == AUTH_KTY_OKP)
		return verify_eddsa(key, tok, dot2, len);
	pthread_once(&quiet_once, quiet_make);
	jws = json_pack("{s:s%,s:s%,s:s%}", "protected", tok, dot1, "payload", tok + dot1 + 1,
			dot2 - dot1 - 1, "signature", tok + dot2 + 1, len - dot2 - 1);
	if (!jws)
		return false;
	ok = jose_jws_ver(quiet, jws, NULL, key->jwk, false);
	json_decref(jws);
	return ok;
}
