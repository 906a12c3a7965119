/*
 * fuzz_jwt.c - libFuzzer target for src/auth/: auth_check on whatever an
 * Authorization header can hold, against a checker with one static token
 * and an OAuth configuration whose JWKS (served by a fake fetcher: no
 * network) holds a fixed Ed25519 key and a fixed EC P-256 public key.
 *
 * The first byte chooses the mode:
 *   0  the rest is the whole header value (scheme parsing, sizes);
 *   1  "Bearer " + the rest (the token's shape, base64url, header JSON,
 *      alg and kid rules, signature checks with libjose and Nettle);
 *   2  the rest is "header JSON\npayload JSON": both are base64url-encoded
 *      and signed with the fixed Ed25519 key here, so that the claims'
 *      checks (iss, aud, exp, nbf, iat, sub, scope, scp) are reached with
 *      a signature that verifies.
 * Checks: the status is 0, 401 or 403; a refusal has a rule id of the
 * auth.* family and a control-free reason; an acceptance has a principal
 * named after the static token or "oauth:" + a printable subject, and a
 * policy; mode 2 is refused for its claims only (never auth.bad_signature
 * when the header asks for kid "fz" and EdDSA). Nothing is fetched after
 * start-up more than once every 30 s, whatever the kids.
 */
#include <nettle/eddsa.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jose/b64.h>

#include "auth/auth.h"
#include "auth/auth_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define STATIC_TOKEN "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"

/* A key made for this target only; it signs nothing anywhere else. */
static const uint8_t ed_priv[32] = {
	0x4d, 0x6f, 0x61, 0x74, 0x20, 0x66, 0x75, 0x7a, 0x7a, 0x20, 0x6b, 0x65, 0x79, 0x20, 0x31, 0x21,
	0x9a, 0x8b, 0x7c, 0x6d, 0x5e, 0x4f, 0x30, 0x21, 0x12, 0x03, 0xf4, 0xe5, 0xd6, 0xc7, 0xb8, 0xa9,
};
static uint8_t ed_pub[32];
static char *jwks_text;
static struct auth *A;

static enum moat_rc serve_jwks(const char *url, char **body, size_t *len, struct moat_err *err)
{
	(void)url;
	(void)err;
	*body = strdup(jwks_text);
	*len = strlen(jwks_text);
	return *body ? MOAT_OK : MOAT_ENOMEM;
}

static char *b64(const void *buf, size_t n)
{
	size_t l = jose_b64_enc_buf(buf, n, NULL, 0);
	char *s = malloc(l + 1);

	if (!s)
		abort();
	jose_b64_enc_buf(buf, n, s, l);
	s[l] = '\0';
	return s;
}

static void setup(void)
{
	struct moat_err err = {0};
	char *x, *cfg = NULL;
	json_t *sec;

	ed25519_sha512_public_key(ed_pub, ed_priv);
	x = b64(ed_pub, 32);
	if (asprintf(&jwks_text,
		     "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"kid\":\"fz\",\"x\":\"%s\"},"
		     "{\"kty\":\"EC\",\"crv\":\"P-256\",\"kid\":\"ec\",\"use\":\"sig\","
		     "\"x\":\"_WQFEK1MrM21V1rTzMXqpvOE115x1Cb2eu6KyyOCiZo\","
		     "\"y\":\"30fqEpmdez-a255Z4L6JcaY-8osURnxxgXa0q04Q5so\"}]}", x) < 0)
		abort();
	free(x);
	auth_set_fetcher(serve_jwks);
	if (asprintf(&cfg,
		     "{\"tokens\":[{\"name\":\"fuzz\",\"token\":\"" STATIC_TOKEN "\",\"tools\":[\"*\"]}],"
		     "\"oauth\":{\"issuer\":\"https://idp.fuzz\",\"jwks_url\":\"https://idp.fuzz/jwks\","
		     "\"algorithms\":[\"ES256\",\"EdDSA\",\"RS256\"],\"metrics_scope\":\"m\","
		     "\"scopes\":{\"r\":[\"read_*\"],\"w\":[\"write_*\"]}}}") < 0)
		abort();
	sec = json_loads(cfg, 0, NULL);
	A = auth_new(sec, "https://moat.fuzz/mcp", NULL, &err);
	json_decref(sec);
	free(cfg);
	if (!A) {
		fprintf(stderr, "fuzz_jwt: auth_new: %s\n", err.msg);
		abort();
	}
}

/* "Bearer " + b64(hdr) "." b64(pay) "." Ed25519 signature. */
static char *signed_header(const char *hdr, size_t hl, const char *pay, size_t pl)
{
	char *h = b64(hdr, hl), *p = b64(pay, pl), *in = NULL, *sig, *out = NULL;
	uint8_t s[64];

	if (asprintf(&in, "%s.%s", h, p) < 0)
		abort();
	ed25519_sha512_sign(ed_pub, ed_priv, strlen(in), (const uint8_t *)in, s);
	sig = b64(s, 64);
	if (asprintf(&out, "Bearer %s.%s", in, sig) < 0)
		abort();
	free(h);
	free(p);
	free(in);
	free(sig);
	return out;
}

static void check_outcome(int st, const char *rule, const char *why, const struct principal *p)
{
	if (st != 0 && st != 401 && st != 403)
		abort();
	if (st) {
		if (!rule || strncmp(rule, "auth.", 5) != 0)
			abort();
		if ((st == 403) != (strcmp(rule, "auth.insufficient_scope") == 0))
			abort();
		for (const char *c = why; *c; c++)
			if ((unsigned char)*c < 0x20 || *c == 0x7F)
				abort();
		return;
	}
	if (rule || !p->policy)
		abort();
	if (strcmp(p->name, "fuzz") != 0) {
		if (strncmp(p->name, "oauth:", 6) != 0 || strlen(p->name) <= 6)
			abort();
		for (const char *c = p->name; *c; c++)
			if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7F)
				abort();
		if (!p->groups && !p->metrics)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct principal p;
	char why[256];
	const char *rule = NULL, *nl;
	char *hdr = NULL;
	int st, mode;

	if (!A)
		setup();
	if (size < 1 || size > 3 * AUTH_TOKEN_MAX)
		return 0;
	mode = data[0] % 3;
	data++;
	size--;
	if (mode == 0) {
		hdr = strndup((const char *)data, size);
	} else if (mode == 1) {
		if (asprintf(&hdr, "Bearer %.*s", (int)size, (const char *)data) < 0)
			abort();
	} else {
		nl = memchr(data, '\n', size);
		if (!nl)
			return 0;
		hdr = signed_header((const char *)data, (size_t)(nl - (const char *)data), nl + 1,
				    size - (size_t)(nl - (const char *)data) - 1);
	}
	if (!hdr)
		abort();
	memset(&p, 0, sizeof(p));
	st = auth_check(A, hdr, &p, why, sizeof(why), &rule);
	check_outcome(st, rule, why, &p);
	/* A header naming kid "fz" and EdDSA, signed with that key, must never
	 * fail its signature: only its shape or claims may refuse it. */
	if (mode == 2 && st == 401 && strcmp(rule, "auth.bad_signature") == 0) {
		json_t *h = json_loadb((const char *)data, (size_t)(nl - (const char *)data),
				       JSON_REJECT_DUPLICATES, NULL);
		const char *alg = json_string_value(json_object_get(h, "alg"));
		const char *kid = json_string_value(json_object_get(h, "kid"));
		if (alg && kid && strcmp(alg, "EdDSA") == 0 && strcmp(kid, "fz") == 0 &&
		    strlen(hdr) <= AUTH_TOKEN_MAX)
			abort();
		json_decref(h);
	}
	free(hdr);
	return 0;
}
