/*
 * auth_mint.h - what the auth unit tests share: keys made on the spot
 * (RSA and EC by libjose's jose_jwk_gen, Ed25519 by Nettle), JWTs signed
 * with them (jose_jws_sig, ed25519_sha512_sign, or HMAC for the HS256
 * confusion attack), a JWKS file in a fresh directory, and the checker
 * built from a config text. Header-only: each test program includes it
 * once.
 */
#ifndef MOAT_TESTS_AUTH_MINT_H
#define MOAT_TESTS_AUTH_MINT_H

#include <jose/b64.h>
#include <jose/jose.h>
#include <nettle/eddsa.h>
#include <nettle/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "auth/auth.h"
#include "auth/auth_int.h"

enum mint_kind { MINT_RSA, MINT_EC256, MINT_EC384, MINT_ED25519, MINT_ED448 };

struct mint_key {
	enum mint_kind kind;
	char kid[32];
	json_t *priv;      /* RSA, EC: the private JWK */
	json_t *pub;       /* the public JWK (with kid) */
	uint8_t ed_priv[57];
	uint8_t ed_pub[57];
};

static inline char *mint_b64(const void *buf, size_t n)
{
	size_t l = jose_b64_enc_buf(buf, n, NULL, 0);
	char *s = calloc(1, l + 1);

	if (s)
		jose_b64_enc_buf(buf, n, s, l);
	return s;
}

static inline void mint_key_make(struct mint_key *k, enum mint_kind kind, const char *kid)
{
	memset(k, 0, sizeof(*k));
	k->kind = kind;
	snprintf(k->kid, sizeof(k->kid), "%s", kid);
	if (kind == MINT_ED25519 || kind == MINT_ED448) {
		size_t n = kind == MINT_ED25519 ? 32 : 57;
		char *x;
		if (getrandom(k->ed_priv, n, 0) != (ssize_t)n)
			abort();
		if (kind == MINT_ED25519)
			ed25519_sha512_public_key(k->ed_pub, k->ed_priv);
		else
			ed448_shake256_public_key(k->ed_pub, k->ed_priv);
		x = mint_b64(k->ed_pub, n);
		k->pub = json_pack("{s:s,s:s,s:s,s:s}", "kty", "OKP", "crv",
				   kind == MINT_ED25519 ? "Ed25519" : "Ed448", "x", x, "kid", kid);
		free(x);
		return;
	}
	if (kind == MINT_RSA)
		k->priv = json_pack("{s:s,s:i}", "kty", "RSA", "bits", 2048);
	else
		k->priv = json_pack("{s:s,s:s}", "kty", "EC", "crv",
				    kind == MINT_EC256 ? "P-256" : "P-384");
	if (!jose_jwk_gen(NULL, k->priv))
		abort();
	k->pub = json_deep_copy(k->priv);
	if (!jose_jwk_pub(NULL, k->pub))
		abort();
	json_object_set_new(k->pub, "kid", json_string(kid));
}

static inline void mint_key_free(struct mint_key *k)
{
	json_decref(k->priv);
	json_decref(k->pub);
	memset(k, 0, sizeof(*k));
}

/* A compact JWS of the header and payload texts, signed with k, or for
 * alg "HS256" with HMAC keyed by hmac_key (the confusion attack), or
 * with an empty signature for "none". */
static inline char *mint_token(const struct mint_key *k, const char *hdr, const char *pay,
			const void *hmac_key, size_t hmac_len)
{
	char *h = mint_b64(hdr, strlen(hdr)), *p = mint_b64(pay, strlen(pay)), *sig = NULL;
	char *input = NULL, *out = NULL;
	size_t ilen;

	if (asprintf(&input, "%s.%s", h, p) < 0)
		abort();
	ilen = strlen(input);
	if (strstr(hdr, "\"none\"")) {
		sig = strdup("");
	} else if (hmac_key) {
		struct hmac_sha256_ctx c;
		uint8_t d[32];
		hmac_sha256_set_key(&c, hmac_len, hmac_key);
		hmac_sha256_update(&c, ilen, (const uint8_t *)input);
		hmac_sha256_digest(&c, 32, d);
		sig = mint_b64(d, 32);
	} else if (k->kind == MINT_ED25519) {
		uint8_t s[64];
		ed25519_sha512_sign(k->ed_pub, k->ed_priv, ilen, (const uint8_t *)input, s);
		sig = mint_b64(s, 64);
	} else if (k->kind == MINT_ED448) {
		uint8_t s[114];
		ed448_shake256_sign(k->ed_pub, k->ed_priv, ilen, (const uint8_t *)input, s);
		sig = mint_b64(s, 114);
	} else {
		json_t *jws = json_pack("{s:s}", "payload", p);
		json_t *tmpl = json_pack("{s:s}", "protected", h);
		const char *s = NULL;
		if (!jose_jws_sig(NULL, jws, tmpl, k->priv) ||
		    json_unpack(jws, "{s:s}", "signature", &s) != 0)
			abort();
		sig = strdup(s);
		json_decref(jws);
		json_decref(tmpl);
	}
	/* malloc and snprintf, not asprintf: GCC 12 at -O3 takes the
	 * pointer asprintf returns through &out for a dangling one. */
	out = malloc(ilen + strlen(sig) + 2);
	if (!out)
		abort();
	snprintf(out, ilen + strlen(sig) + 2, "%s.%s", input, sig);
	free(h);
	free(p);
	free(sig);
	free(input);
	return out;
}

/* "Bearer " + tok, in a buffer the caller frees. */
static inline char *mint_bearer(const char *tok)
{
	char *s = NULL;

	if (asprintf(&s, "Bearer %s", tok) < 0)
		abort();
	return s;
}

/* The JWKS text of the public keys ks[0..n). */
static inline char *mint_jwks(struct mint_key *const *ks, size_t n)
{
	json_t *keys = json_array(), *doc;
	char *s;

	for (size_t i = 0; i < n; i++)
		json_array_append(keys, ks[i]->pub);
	doc = json_pack("{s:o}", "keys", keys);
	s = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return s;
}

static inline void mint_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

/* auth_new from a config text (the "auth" section). */
static inline struct auth *mint_auth(const char *text, struct moat_err *err)
{
	json_error_t je;
	json_t *sec = json_loads(text, JSON_REJECT_DUPLICATES, &je);
	struct auth *a;

	if (!sec) {
		fprintf(stderr, "bad test config: %s\n", je.text);
		abort();
	}
	a = auth_new(sec, "https://mcp.example:8765/mcp", NULL, err);
	json_decref(sec);
	return a;
}

/* auth_check(a, authz) must answer status with rule ("*": any rule, NULL:
 * none); p (may be NULL) receives the principal. */
static inline void mint_expect(struct auth *a, const char *authz, int status, const char *rule,
		       struct principal *p)
{
	struct principal tmp;
	char why[256];
	const char *got = NULL;
	int st;

	memset(&tmp, 0, sizeof(tmp));
	st = auth_check(a, authz, p ? p : &tmp, why, sizeof(why), &got);
	bool any = rule && strcmp(rule, "*") == 0;

	if (st != status || (rule && !any && (!got || strcmp(got, rule) != 0)) ||
	    (!rule && got) || (any && !got)) {
		fprintf(stderr, "want %d %s, got %d %s (%s)\n", status, rule ? rule : "-", st,
			got ? got : "-", why);
		fail();
	}
	if (status != AUTH_OK)
		assert_true(why[0] != '\0');
}

#endif
