/*
 * test_auth.c - unit tests for src/auth/'s OAuth side: real JWTs minted
 * with keys made for the run (RSA 2048 and EC by libjose, Ed25519 by
 * Nettle), accepted when right and refused with the right rule id for
 * every wrong shape: missing, malformed (1, 2, 4 parts, bad base64, a
 * header that is not a JSON object, duplicate members), expired,
 * not-yet-valid, wrong issuer, wrong audience, alg none, HS256 keyed with
 * the RSA public key, a key of another type, no or unknown kid, truncated
 * or altered signature, oversize; scopes to policy groups, the metrics
 * scope, no scope (403), the subject's name and bucket, the RFC 9728
 * document, the cache of verified tokens against exp, and checks from
 * several threads. test_auth_jwks.c has the JWKS fetched from a URL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>

#include <cmocka.h>

#include "auth_mint.h"

static char tmpdir[64], jwks_path[128];
static struct mint_key rsa, ec, ed, ed448, ec384, stranger;
static struct auth *A;
static long now_s;

#define ISS "https://idp.example"
#define AUD "https://mcp.example:8765/mcp"

static int group_setup(void **state)
{
	struct mint_key *ks[] = {&rsa, &ec, &ed, &ec384, &ed448};
	struct moat_err err = {0};
	char *jwks, *cfg = NULL;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/moat-test-auth-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(jwks_path, sizeof(jwks_path), "%s/jwks.json", tmpdir);
	mint_key_make(&rsa, MINT_RSA, "r1");
	mint_key_make(&ec, MINT_EC256, "e1");
	mint_key_make(&ed, MINT_ED25519, "d1");
	mint_key_make(&ec384, MINT_EC384, "e384");
	mint_key_make(&ed448, MINT_ED448, "d448");
	mint_key_make(&stranger, MINT_RSA, "r-unknown");
	jwks = mint_jwks(ks, 5);
	mint_write(jwks_path, jwks);
	free(jwks);
	if (asprintf(&cfg,
		     "{\"oauth\": {\"issuer\": \"" ISS "\", \"jwks_file\": \"%s\", "
		     "\"algorithms\": [\"RS256\", \"PS256\", \"ES256\", \"ES384\", \"EdDSA\"], "
		     "\"scopes\": {\"moat:read\": [\"read_*\", \"list_*\"], \"moat:git\": "
		     "[\"git_*\"]}, \"metrics_scope\": \"moat:metrics\", \"leeway_s\": 60}}",
		     jwks_path) < 0)
		return -1;
	A = mint_auth(cfg, &err);
	free(cfg);
	if (!A) {
		fprintf(stderr, "auth_new: %s\n", err.msg);
		return -1;
	}
	now_s = (long)time(NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	auth_free(A);
	mint_key_free(&rsa);
	mint_key_free(&ec);
	mint_key_free(&ed);
	mint_key_free(&ec384);
	mint_key_free(&ed448);
	mint_key_free(&stranger);
	unlink(jwks_path);
	rmdir(tmpdir);
	return 0;
}

/* A payload: iss, aud (JSON), exp relative to now, extra members. */
static char *payload(const char *iss, const char *aud, long exp_in, const char *extra)
{
	char *s = NULL;

	if (asprintf(&s, "{\"iss\": \"%s\", \"aud\": %s, \"sub\": \"alice@example.com\", "
			 "\"exp\": %ld, \"iat\": %ld, \"scope\": \"moat:read openid\"%s%s}",
		     iss, aud, now_s + exp_in, now_s - 10, extra ? ", " : "", extra ? extra : "") < 0)
		abort();
	return s;
}

static char *good_payload(void)
{
	return payload(ISS, "\"" AUD "\"", 300, NULL);
}

#define expect_raw mint_expect

static void expect_tok(const char *tok, int status, const char *rule, struct principal *p)
{
	char *b = mint_bearer(tok);

	expect_raw(A, b, status, rule, p);
	free(b);
}

static void expect_signed(const struct mint_key *k, const char *hdr, const char *pay, int status,
			  const char *rule)
{
	char *t = mint_token(k, hdr, pay, NULL, 0);

	expect_tok(t, status, rule, NULL);
	free(t);
}

static void test_accepts_every_key_type(void **state)
{
	char *pay = good_payload();
	struct principal p;
	char *t;

	(void)state;
	expect_signed(&rsa, "{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"at+jwt\"}", pay, 0, NULL);
	expect_signed(&rsa, "{\"alg\":\"PS256\",\"kid\":\"r1\"}", pay, 0, NULL);
	expect_signed(&ec, "{\"alg\":\"ES256\",\"kid\":\"e1\",\"typ\":\"JWT\"}", pay, 0, NULL);
	expect_signed(&ec384, "{\"alg\":\"ES384\",\"kid\":\"e384\"}", pay, 0, NULL);
	expect_signed(&ed448, "{\"alg\":\"EdDSA\",\"kid\":\"d448\"}", pay, 0, NULL);
	t = mint_token(&ed, "{\"alg\":\"EdDSA\",\"kid\":\"d1\"}", pay, NULL, 0);
	memset(&p, 0, sizeof(p));
	expect_tok(t, 0, NULL, &p);
	assert_string_equal(p.name, "oauth:alice@example.com");
	assert_true(policy_allows(p.policy, p.groups, "read_text_file"));
	assert_false(policy_allows(p.policy, p.groups, "git_log"));
	assert_false(p.metrics);
	assert_non_null(p.bucket);
	free(t);
	free(pay);
}

static void test_missing_and_scheme(void **state)
{
	(void)state;
	expect_raw(A, NULL, 401, "auth.missing_token", NULL);
	expect_raw(A, "", 401, "auth.missing_token", NULL);
	expect_raw(A, "Bearer ", 401, "auth.missing_token", NULL);
	expect_raw(A, "Bearer", 401, "auth.missing_token", NULL);
	expect_raw(A, "Bearer  abc.def.ghi", 401, "auth.bad_token", NULL);
	expect_raw(A, "Basic YWxpY2U6c2VjcmV0", 401, "auth.bad_token", NULL);
	expect_raw(A, "Bearerabc.def.ghi", 401, "auth.bad_token", NULL);
	expect_raw(A, "Bearer a b", 401, "auth.bad_token", NULL);
	expect_raw(A, "Bearer a\r\nX: y", 401, "auth.bad_token", NULL);
}

static void test_malformed(void **state)
{
	char *pay = good_payload();
	char *t = mint_token(&rsa, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", pay, NULL, 0);
	char *h = mint_b64("hello", 5), *arr = mint_b64("[1]", 3), *buf = NULL;
	char *dup = mint_b64("{\"alg\":\"RS256\",\"alg\":\"none\"}", 28);
	/* Offsets of the first and last dots, not pointers: GCC 12 at -O3
	 * mistakes pointers into t (from asprintf) for dangling ones. */
	size_t o1 = (size_t)(strchr(t, '.') - t), o2 = (size_t)(strrchr(t, '.') - t);

	(void)state;
	expect_tok("abcdef", 401, "auth.bad_token", NULL);              /* 1 part: not static */
	buf = strndup(t, o2);
	expect_tok(buf, 401, "auth.bad_token", NULL);                   /* 2 parts */
	free(buf);
	assert_true(asprintf(&buf, "%s.AAAA", t) > 0);
	expect_tok(buf, 401, "auth.bad_token", NULL);                   /* 4 parts */
	free(buf);
	assert_true(asprintf(&buf, "%s", t) > 0);
	buf[2] = '+';                                                    /* not base64url */
	expect_tok(buf, 401, "auth.bad_token", NULL);
	free(buf);
	assert_true(asprintf(&buf, "%s%s", h, t + o1) > 0);                /* header "hello" */
	expect_tok(buf, 401, "auth.bad_token", NULL);
	free(buf);
	assert_true(asprintf(&buf, "%s%s", arr, t + o1) > 0);              /* header [1] */
	expect_tok(buf, 401, "auth.bad_token", NULL);
	free(buf);
	assert_true(asprintf(&buf, "%s%s", dup, t + o1) > 0);              /* duplicate alg */
	expect_tok(buf, 401, "auth.bad_token", NULL);
	free(buf);
	assert_true(asprintf(&buf, "%.*s..%s", (int)o1, t, t + o2 + 1) > 0); /* no payload */
	expect_tok(buf, 401, "auth.bad_token", NULL);
	free(buf);
	expect_tok("..", 401, "auth.bad_token", NULL);
	expect_signed(&rsa, "{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"dpop+jwt\"}", pay, 401,
		      "auth.bad_token");
	expect_signed(&rsa, "{\"alg\":\"RS256\",\"kid\":\"r1\",\"crit\":[\"exp\"]}", pay, 401,
		      "auth.bad_token");
	/* require_at_jwt: JWT and no typ are refused, at+jwt passes. */
	{
		struct moat_err err = {0};
		char *cfg = NULL;
		struct auth *saved = A;
		assert_true(asprintf(&cfg, "{\"oauth\": {\"issuer\": \"" ISS "\", \"jwks_file\": "
					   "\"%s\", \"algorithms\": [\"RS256\"], \"require_at_jwt\": true, "
					   "\"audience\": \"" AUD "\", \"scopes\": {\"moat:read\": [\"*\"]}}}",
				     jwks_path) > 0);
		A = mint_auth(cfg, &err);
		assert_non_null(A);
		expect_signed(&rsa, "{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"JWT\"}", pay, 401,
			      "auth.bad_token");
		expect_signed(&rsa, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", pay, 401, "auth.bad_token");
		expect_signed(&rsa, "{\"alg\":\"RS256\",\"kid\":\"r1\",\"typ\":\"at+jwt\"}", pay, 0,
			      NULL);
		auth_free(A);
		A = saved;
		free(cfg);
	}
	free(h);
	free(arr);
	free(dup);
	free(t);
	free(pay);
}

static void test_oversize(void **state)
{
	char *big = malloc(AUTH_TOKEN_MAX + 64), *pay;
	char pad[AUTH_TOKEN_MAX];

	(void)state;
	memset(big, 'A', AUTH_TOKEN_MAX + 63);
	big[AUTH_TOKEN_MAX + 63] = '\0';
	memcpy(big, "Bearer ", 7);
	expect_raw(A, big, 401, "auth.bad_token", NULL);
	/* A well-signed token that is too long is refused before any work. */
	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	pay = NULL;
	assert_true(asprintf(&pay, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
				   "\"exp\":%ld,\"scope\":\"moat:read\",\"pad\":\"%s\"}",
			     now_s + 300, pad) > 0);
	expect_signed(&ec, "{\"alg\":\"ES256\",\"kid\":\"e1\"}", pay, 401, "auth.bad_token");
	free(pay);
	free(big);
}

static void test_times(void **state)
{
	char *p;

	(void)state;
	p = payload(ISS, "\"" AUD "\"", -120, NULL); /* expired beyond the leeway */
	expect_signed(&ec, "{\"alg\":\"ES256\",\"kid\":\"e1\"}", p, 401, "auth.expired");
	free(p);
	p = payload(ISS, "\"" AUD "\"", -30, NULL); /* within the leeway */
	expect_signed(&ec, "{\"alg\":\"ES256\",\"kid\":\"e1\"}", p, 0, NULL);
	free(p);
	p = NULL;
	assert_true(asprintf(&p, "\"nbf\": %ld", now_s + 600) > 0);
	{
		char *q = payload(ISS, "\"" AUD "\"", 900, p);
		expect_signed(&ec, "{\"alg\":\"ES256\",\"kid\":\"e1\"}", q, 401,
			      "auth.not_yet_valid");
		free(q);
	}
	free(p);
	p = NULL;
	assert_true(asprintf(&p, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
				 "\"exp\":%ld,\"iat\":%ld,\"scope\":\"moat:read\"}",
			     now_s + 900, now_s + 600) > 0);
	expect_signed(&ec, "{\"alg\":\"ES256\",\"kid\":\"e1\"}", p, 401, "auth.not_yet_valid");
	free(p);
	/* No exp at all: an access token must expire. */
	expect_signed(&ec, "{\"alg\":\"ES256\",\"kid\":\"e1\"}",
		      "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"scope\":\"moat:read\"}",
		      401, "auth.bad_token");
	expect_signed(&ec, "{\"alg\":\"ES256\",\"kid\":\"e1\"}",
		      "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\",\"exp\":\"soon\","
		      "\"scope\":\"moat:read\"}", 401, "auth.bad_token");
}

static void test_issuer_audience(void **state)
{
	const char *h = "{\"alg\":\"ES256\",\"kid\":\"e1\"}";
	char *p;

	(void)state;
	p = payload("https://evil.example", "\"" AUD "\"", 300, NULL);
	expect_signed(&ec, h, p, 401, "auth.wrong_issuer");
	free(p);
	p = payload(ISS "/", "\"" AUD "\"", 300, NULL);
	expect_signed(&ec, h, p, 401, "auth.wrong_issuer");
	free(p);
	p = payload(ISS, "\"https://other.example/mcp\"", 300, NULL);
	expect_signed(&ec, h, p, 401, "auth.wrong_audience");
	free(p);
	p = payload(ISS, "[\"https://other.example/mcp\", \"" AUD "x\"]", 300, NULL);
	expect_signed(&ec, h, p, 401, "auth.wrong_audience");
	free(p);
	p = payload(ISS, "[\"https://other.example/mcp\", \"" AUD "\"]", 300, NULL);
	expect_signed(&ec, h, p, 0, NULL);
	free(p);
	p = payload(ISS, "null", 300, NULL);
	expect_signed(&ec, h, p, 401, "auth.wrong_audience");
	free(p);
}

static void test_algorithms(void **state)
{
	char *pay = good_payload(), *t, *pubjson;

	(void)state;
	/* alg none, with and without a signature. */
	t = mint_token(&rsa, "{\"alg\":\"none\",\"kid\":\"r1\"}", pay, NULL, 0);
	expect_tok(t, 401, "auth.bad_algorithm", NULL);
	free(t);
	t = mint_token(&rsa, "{\"kid\":\"r1\"}", pay, "k", 1); /* no alg at all */
	expect_tok(t, 401, "auth.bad_algorithm", NULL);
	free(t);
	/* HS256 keyed with the RSA public key's JSON (and its modulus). */
	pubjson = json_dumps(rsa.pub, JSON_COMPACT);
	t = mint_token(&rsa, "{\"alg\":\"HS256\",\"kid\":\"r1\"}", pay, pubjson, strlen(pubjson));
	expect_tok(t, 401, "auth.bad_algorithm", NULL);
	free(t);
	free(pubjson);
	/* An allowlisted alg on a key of another type or curve. */
	expect_signed(&rsa, "{\"alg\":\"RS256\",\"kid\":\"e1\"}", pay, 401, "auth.bad_algorithm");
	expect_signed(&ec, "{\"alg\":\"ES256\",\"kid\":\"e384\"}", pay, 401, "auth.bad_algorithm");
	expect_signed(&ed, "{\"alg\":\"EdDSA\",\"kid\":\"r1\"}", pay, 401, "auth.bad_algorithm");
	/* Known but not allowlisted here. */
	expect_signed(&rsa, "{\"alg\":\"RS512\",\"kid\":\"r1\"}", pay, 401, "auth.bad_algorithm");
	free(pay);
}

static void test_keys_and_signatures(void **state)
{
	char *pay = good_payload(), *t, *buf = NULL;
	size_t n;

	(void)state;
	expect_signed(&stranger, "{\"alg\":\"RS256\",\"kid\":\"r-unknown\"}", pay, 401,
		      "auth.unknown_key");
	/* Signed by a stranger's key under a known kid. */
	expect_signed(&stranger, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", pay, 401,
		      "auth.bad_signature");
	/* No kid: refused even though the JWKS has one RSA key only. */
	expect_signed(&rsa, "{\"alg\":\"RS256\"}", pay, 401, "auth.unknown_key");
	expect_signed(&stranger, "{\"alg\":\"RS256\"}", pay, 401, "auth.unknown_key");
	/* Truncated signature (by 4 characters: still base64url). */
	t = mint_token(&rsa, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", pay, NULL, 0);
	n = strlen(t);
	buf = strndup(t, n - 4);
	expect_tok(buf, 401, "auth.bad_signature", NULL);
	free(buf);
	buf = strndup(t, n - 1); /* a length base64 cannot have, or a short signature */
	expect_tok(buf, 401, "*", NULL);
	free(buf);
	/* One bit of the signature flipped. */
	buf = strdup(t);
	buf[n - 5] = buf[n - 5] == 'A' ? 'B' : 'A';
	expect_tok(buf, 401, "auth.bad_signature", NULL);
	free(buf);
	/* The payload swapped for another (sub changed), signature kept. */
	{
		const char *d1 = strchr(t, '.'), *d2 = strrchr(t, '.');
		char *other = payload(ISS, "\"" AUD "\"", 300, "\"admin\": true");
		char *ob = mint_b64(other, strlen(other));
		assert_true(asprintf(&buf, "%.*s.%s%s", (int)(d1 - t), t, ob, d2) > 0);
		expect_tok(buf, 401, "auth.bad_signature", NULL);
		free(buf);
		free(ob);
		free(other);
	}
	free(t);
	/* Ed25519: a signature of the wrong length. */
	t = mint_token(&ed, "{\"alg\":\"EdDSA\",\"kid\":\"d1\"}", pay, NULL, 0);
	buf = strndup(t, strlen(t) - 4);
	expect_tok(buf, 401, "auth.bad_signature", NULL);
	free(buf);
	free(t);
	free(pay);
}

static void test_scopes(void **state)
{
	const char *h = "{\"alg\":\"ES256\",\"kid\":\"e1\"}";
	struct principal p;
	char *pay, *t;

	(void)state;
	/* scp array, two scopes. */
	pay = NULL;
	assert_true(asprintf(&pay, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"bob\","
				   "\"exp\":%ld,\"scp\":[\"moat:git\",\"moat:read\"]}",
			     now_s + 300) > 0);
	t = mint_token(&ec, h, pay, NULL, 0);
	memset(&p, 0, sizeof(p));
	expect_tok(t, 0, NULL, &p);
	assert_int_equal(p.groups, 3);
	assert_true(policy_allows(p.policy, p.groups, "git_log"));
	assert_false(policy_allows(p.policy, p.groups, "write_file"));
	free(t);
	free(pay);
	/* Only the metrics scope: allowed, no tool. */
	pay = NULL;
	assert_true(asprintf(&pay, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"prom\","
				   "\"exp\":%ld,\"scope\":\"moat:metrics\"}", now_s + 300) > 0);
	t = mint_token(&ec, h, pay, NULL, 0);
	memset(&p, 0, sizeof(p));
	expect_tok(t, 0, NULL, &p);
	assert_int_equal(p.groups, 0);
	assert_true(p.metrics);
	free(t);
	free(pay);
	/* No configured scope: 403; a scope that only starts like one. */
	pay = NULL;
	assert_true(asprintf(&pay, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"eve\","
				   "\"exp\":%ld,\"scope\":\"openid moat:readx moat\"}", now_s + 300) > 0);
	expect_signed(&ec, h, pay, 403, "auth.insufficient_scope");
	free(pay);
	/* A subject that cannot be a name. */
	pay = NULL;
	assert_true(asprintf(&pay, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a b\","
				   "\"exp\":%ld,\"scope\":\"moat:read\"}", now_s + 300) > 0);
	expect_signed(&ec, h, pay, 401, "auth.bad_token");
	free(pay);
}

static void test_same_subject_same_bucket(void **state)
{
	const char *h = "{\"alg\":\"ES256\",\"kid\":\"e1\"}";
	struct principal p1, p2;
	char *pay = good_payload(), *t = mint_token(&ec, h, pay, NULL, 0);

	(void)state;
	memset(&p1, 0, sizeof(p1));
	memset(&p2, 0, sizeof(p2));
	expect_tok(t, 0, NULL, &p1);
	expect_tok(t, 0, NULL, &p2);
	assert_ptr_equal(p1.bucket, p2.bucket);
	free(t);
	free(pay);
}

static void test_metadata(void **state)
{
	json_t *m = json_loads(auth_resource_metadata(A), JSON_REJECT_DUPLICATES, NULL);

	(void)state;
	assert_non_null(m);
	assert_string_equal(json_string_value(json_object_get(m, "resource")), AUD);
	assert_string_equal(json_string_value(json_array_get(json_object_get(m,
			    "authorization_servers"), 0)), ISS);
	assert_int_equal(json_array_size(json_object_get(m, "scopes_supported")), 3);
	assert_string_equal(json_string_value(json_array_get(json_object_get(m,
			    "bearer_methods_supported"), 0)), "header");
	json_decref(m);
	/* The port known after binding: the default audience follows it. */
	{
		struct moat_err err = {0};
		struct auth *a;
		char *cfg = NULL, *pay, *t, *b;
		assert_true(asprintf(&cfg, "{\"oauth\": {\"issuer\": \"" ISS "\", \"jwks_file\": "
					   "\"%s\", \"algorithms\": [\"ES256\"], \"scopes\": "
					   "{\"moat:read\": [\"*\"]}}}", jwks_path) > 0);
		a = mint_auth(cfg, &err);
		assert_non_null(a);
		assert_int_equal(auth_set_resource_url(a, "https://127.0.0.1:41234/mcp", &err), 0);
		m = json_loads(auth_resource_metadata(a), 0, NULL);
		assert_string_equal(json_string_value(json_object_get(m, "resource")),
				    "https://127.0.0.1:41234/mcp");
		json_decref(m);
		pay = payload(ISS, "\"https://127.0.0.1:41234/mcp\"", 300, NULL);
		t = mint_token(&ec, "{\"alg\":\"ES256\",\"kid\":\"e1\"}", pay, NULL, 0);
		b = mint_bearer(t);
		expect_raw(a, b, 0, NULL, NULL);
		free(b);
		free(t);
		free(pay);
		pay = good_payload(); /* the provisional URL no longer */
		t = mint_token(&ec, "{\"alg\":\"ES256\",\"kid\":\"e1\"}", pay, NULL, 0);
		b = mint_bearer(t);
		expect_raw(a, b, 401, "auth.wrong_audience", NULL);
		free(b);
		free(t);
		free(pay);
		free(cfg);
		auth_free(a);
	}
}

static void test_cache_respects_exp(void **state)
{
	struct moat_err err = {0};
	struct auth *a;
	char *cfg = NULL, *pay = NULL, *t, *b;
	long exp;
	unsigned long hits;

	(void)state;
	assert_true(asprintf(&cfg, "{\"oauth\": {\"issuer\": \"" ISS "\", \"jwks_file\": \"%s\", "
				   "\"algorithms\": [\"ES256\"], \"leeway_s\": 0, "
				   "\"scopes\": {\"s\": [\"*\"]}}}", jwks_path) > 0);
	a = mint_auth(cfg, &err);
	assert_non_null(a);
	exp = (long)time(NULL) + 1;
	assert_true(asprintf(&pay, "{\"iss\":\"" ISS "\",\"aud\":\"" AUD "\",\"sub\":\"a\","
				   "\"exp\":%ld,\"scope\":\"s\"}", exp) > 0);
	t = mint_token(&ec, "{\"alg\":\"ES256\",\"kid\":\"e1\"}", pay, NULL, 0);
	b = mint_bearer(t);
	expect_raw(a, b, 0, NULL, NULL);
	hits = auth_jwt_cache_hits(a);
	expect_raw(a, b, 0, NULL, NULL);
	assert_int_equal(auth_jwt_cache_hits(a), hits + 1);
	while ((long)time(NULL) <= exp)
		usleep(100000);
	expect_raw(a, b, 401, "auth.expired", NULL);
	assert_int_equal(auth_jwt_cache_hits(a), hits + 1);
	free(b);
	free(t);
	free(pay);
	free(cfg);
	auth_free(a);
}

/* Checks from several threads at once, static and JWT, cached and not. */
struct worker {
	const char *authz[3];
	int bad;
};

static void *work(void *p)
{
	struct worker *w = p;

	for (int i = 0; i < 300; i++) {
		struct principal pr;
		char why[128];
		const char *rule = NULL;
		int st = auth_check(A, w->authz[i % 3], &pr, why, sizeof(why), &rule);
		if ((i % 3 == 2) != (st != 0))
			w->bad++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	char *pay = good_payload(), *t1, *t2, *t3, *b1, *b2, *b3;
	struct worker w[4];
	pthread_t th[4];

	(void)state;
	t1 = mint_token(&ec, "{\"alg\":\"ES256\",\"kid\":\"e1\"}", pay, NULL, 0);
	t2 = mint_token(&ed, "{\"alg\":\"EdDSA\",\"kid\":\"d1\"}", pay, NULL, 0);
	t3 = mint_token(&stranger, "{\"alg\":\"RS256\",\"kid\":\"r1\"}", pay, NULL, 0);
	b1 = mint_bearer(t1);
	b2 = mint_bearer(t2);
	b3 = mint_bearer(t3);
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){.authz = {b1, b2, b3}};
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].bad, 0);
	}
	free(b1);
	free(b2);
	free(b3);
	free(t1);
	free(t2);
	free(t3);
	free(pay);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_every_key_type),
		cmocka_unit_test(test_missing_and_scheme),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_issuer_audience),
		cmocka_unit_test(test_algorithms),
		cmocka_unit_test(test_keys_and_signatures),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_same_subject_same_bucket),
		cmocka_unit_test(test_metadata),
		cmocka_unit_test(test_cache_respects_exp),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
