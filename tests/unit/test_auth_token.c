/*
 * test_auth_token.c - unit tests for src/auth/'s static tokens and
 * configuration: a right token gives its principal (name, policy, bucket,
 * metrics), a wrong one is refused, every check compares every digest;
 * weak, malformed and duplicate tokens, HMAC and none algorithms, a JWKS
 * with a private or short key, both or neither JWKS source are refused at
 * start-up with the JSON pointer and the rule; `moat check`'s description
 * masks the tokens; auth_wipe_section wipes them; the subjects' table
 * stays within its bound and keeps its buckets.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "auth_mint.h"

#define TOK_ALICE "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
#define TOK_BOB "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
#define TOK_PROM "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"

static const char *const tokens_cfg =
	"{\"tokens\": ["
	"{\"name\": \"alice\", \"token\": \"" TOK_ALICE "\", \"tools\": [\"read_*\", \"git_*\"]},"
	"{\"name\": \"bob\", \"token\": \"" TOK_BOB "\", \"tools\": [\"*\"], "
	"\"calls_per_minute\": 0},"
	"{\"name\": \"prometheus\", \"token\": \"" TOK_PROM "\", \"tools\": [], \"metrics\": true}"
	"]}";

static void check(struct auth *a, const char *authz, int status, const char *rule,
		  struct principal *p)
{
	struct principal tmp;
	char why[256];
	const char *got = NULL;
	int st = auth_check(a, authz, p ? p : &tmp, why, sizeof(why), &got);

	if (st != status || (rule && (!got || strcmp(got, rule))) || (!rule && got)) {
		fprintf(stderr, "want %d %s, got %d %s (%s)\n", status, rule ? rule : "-", st,
			got ? got : "-", why);
		fail();
	}
}

static void test_static_accept_refuse(void **state)
{
	struct moat_err err = {0};
	struct auth *a = mint_auth(tokens_cfg, &err);
	struct principal p;

	(void)state;
	assert_non_null(a);
	memset(&p, 0, sizeof(p));
	check(a, "Bearer " TOK_ALICE, 0, NULL, &p);
	assert_string_equal(p.name, "alice");
	assert_true(policy_allows(p.policy, p.groups, "read_text_file"));
	assert_true(policy_allows(p.policy, p.groups, "git_log"));
	assert_false(policy_allows(p.policy, p.groups, "write_file"));
	assert_non_null(p.bucket);
	assert_false(p.metrics);
	memset(&p, 0, sizeof(p));
	check(a, "bearer " TOK_BOB, 0, NULL, &p);
	assert_string_equal(p.name, "bob");
	assert_null(p.bucket); /* calls_per_minute 0 */
	assert_true(policy_allows(p.policy, p.groups, "write_file"));
	memset(&p, 0, sizeof(p));
	check(a, "Bearer " TOK_PROM, 0, NULL, &p);
	assert_true(p.metrics);
	assert_false(policy_allows(p.policy, p.groups, "read_text_file"));
	/* One character off, a prefix, the token with a suffix, another scheme. */
	check(a, "Bearer " TOK_ALICE "0", 401, "auth.bad_token", NULL);
	check(a, "Bearer 8f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", 401,
	      "auth.bad_token", NULL);
	check(a, "Bearer 9f86d081884c7d659a2feaa0c55ad015", 401, "auth.bad_token", NULL);
	check(a, "Token " TOK_ALICE, 401, "auth.bad_token", NULL);
	/* One spelling only: one space, no tab, nothing around the token. */
	check(a, "Bearer  " TOK_ALICE, 401, "auth.bad_token", NULL);
	check(a, "Bearer\t" TOK_ALICE, 401, "auth.bad_token", NULL);
	check(a, "Bearer " TOK_ALICE " ", 401, "auth.bad_token", NULL);
	check(a, "Bearer" TOK_ALICE, 401, "auth.bad_token", NULL);
	check(a, NULL, 401, "auth.missing_token", NULL);
	/* No OAuth: a JWT-looking token is just a wrong token. */
	check(a, "Bearer aaa.bbb.ccc", 401, "auth.bad_token", NULL);
	assert_null(auth_resource_metadata(a));
	assert_null(auth_metadata_hook(a));
	assert_false(auth_has_oauth(a));
	/* The listener's hook gets the rule id in why. */
	{
		char why[64];
		memset(&p, 0, sizeof(p));
		assert_int_equal(auth_authenticate(a, "Bearer " TOK_BOB, &p, why, sizeof(why)), 0);
		assert_string_equal(p.name, "bob");
		assert_int_equal(auth_authenticate(a, NULL, &p, why, sizeof(why)), 401);
		assert_string_equal(why, "auth.missing_token");
		assert_int_equal(auth_authenticate(a, "Bearer x" TOK_BOB, &p, why, sizeof(why)), 401);
		assert_string_equal(why, "auth.bad_token");
	}
	auth_free(a);
}

static void test_every_digest_compared(void **state)
{
	struct moat_err err = {0};
	struct auth *a = mint_auth(tokens_cfg, &err);
	unsigned long before;

	(void)state;
	assert_non_null(a);
	/* The first token, the last, none: each check compares all three. */
	before = auth_tokens_compares();
	check(a, "Bearer " TOK_ALICE, 0, NULL, NULL);
	assert_int_equal(auth_tokens_compares() - before, 3);
	before = auth_tokens_compares();
	check(a, "Bearer " TOK_PROM, 0, NULL, NULL);
	assert_int_equal(auth_tokens_compares() - before, 3);
	before = auth_tokens_compares();
	check(a, "Bearer nothing-like-any-configured-token-at-all", 401, "auth.bad_token", NULL);
	assert_int_equal(auth_tokens_compares() - before, 3);
	auth_free(a);
}

/* auth_new on text must fail with rule (may be NULL) and msg holding
 * every needle (NULL-terminated), and never the token's value. */
static void refused(const char *text, const char *rule, ...)
{
	struct moat_err err = {0};
	struct auth *a = mint_auth(text, &err);
	va_list ap;
	const char *needle;

	if (a) {
		fprintf(stderr, "accepted: %s\n", text);
		auth_free(a);
		fail();
	}
	if (rule && (!err.rule || strcmp(err.rule, rule))) {
		fprintf(stderr, "want rule %s: %s\n", rule, err.msg);
		fail();
	}
	va_start(ap, rule);
	while ((needle = va_arg(ap, const char *))) {
		if (!strstr(err.msg, needle)) {
			fprintf(stderr, "want \"%s\" in: %s\n", needle, err.msg);
			fail();
		}
	}
	va_end(ap);
	assert_null(strstr(err.msg, "changeme"));
}

static void test_weak_tokens_refused(void **state)
{
	(void)state;
	refused("{\"tokens\": [{\"name\": \"a\", \"token\": \"changeme\", \"tools\": [\"*\"]}]}",
		"auth.weak_token", "/auth/tokens/0/token", "openssl rand -hex 32", NULL);
	refused("{\"tokens\": [{\"name\": \"a\", \"token\": "
		"\"changemechangemechangemechangeme\", \"tools\": [\"*\"]}]}",
		"auth.weak_token", "/auth/tokens/0/token", "distinct", NULL);
	refused("{\"tokens\": [{\"name\": \"a\", \"token\": \"" TOK_ALICE "\", \"tools\": [\"*\"]},"
		"{\"name\": \"b\", \"token\": \"0123456789abcdef 0123456789abcdef changeme\", "
		"\"tools\": [\"*\"]}]}",
		"auth.weak_token", "/auth/tokens/1/token", NULL);
	refused("{\"tokens\": [{\"name\": \"a\", \"token\": \"" TOK_ALICE "\", \"tools\": [\"*\"]},"
		"{\"name\": \"a\", \"token\": \"" TOK_BOB "\", \"tools\": [\"*\"]}]}",
		"auth.duplicate_token", "/auth/tokens/1/name", NULL);
	refused("{\"tokens\": [{\"name\": \"a\", \"token\": \"" TOK_ALICE "\", \"tools\": [\"*\"]},"
		"{\"name\": \"b\", \"token\": \"" TOK_ALICE "\", \"tools\": [\"*\"]}]}",
		"auth.duplicate_token", "/auth/tokens/1/token", NULL);
	refused("{\"tokens\": [{\"name\": \"a b\", \"token\": \"" TOK_ALICE "\", \"tools\": [\"*\"]}]}",
		NULL, "/auth/tokens/0/name", NULL);
	refused("{\"tokens\": [{\"name\": \"a\", \"token\": \"" TOK_ALICE "\", \"tools\": []}]}",
		NULL, "/auth/tokens/0/tools", NULL);
	refused("{\"tokens\": [{\"name\": \"a\", \"token\": \"" TOK_ALICE "\", \"tools\": [\"r/x\"]}]}",
		NULL, "/auth/tokens/0/tools", NULL);
	refused("{\"tokens\": []}", NULL, "/auth/tokens", NULL);
	refused("{}", NULL, "/auth", NULL);
	refused("{\"tokens\": [{\"name\": \"a\", \"token\": \"" TOK_ALICE "\", \"tools\": [\"*\"]}],"
		" \"other\": 1}", NULL, "/auth/other", NULL);
}

static char tmpdir[64];

static char *write_jwks(const char *name, const char *text)
{
	char *path = NULL;

	if (asprintf(&path, "%s/%s", tmpdir, name) < 0)
		abort();
	mint_write(path, text);
	return path;
}

static void test_oauth_config_refused(void **state)
{
	struct mint_key ec, rsa;
	struct mint_key *ks[] = {&ec};
	char *jwks, *path, *cfg = NULL, *priv_path, *short_path, *offcurve_path;
	json_t *doc;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/moat-test-authcfg-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	mint_key_make(&ec, MINT_EC256, "e1");
	jwks = mint_jwks(ks, 1);
	path = write_jwks("jwks.json", jwks);
	free(jwks);
	/* A JWKS holding the private key. */
	doc = json_pack("{s:[O]}", "keys", ec.priv);
	jwks = json_dumps(doc, 0);
	priv_path = write_jwks("priv.json", jwks);
	free(jwks);
	json_decref(doc);
	/* An RSA key of 1024 bits. */
	{
		uint8_t n[128];
		char *nb;
		memset(n, 0xC5, sizeof(n));
		nb = mint_b64(n, sizeof(n));
		rsa.priv = json_pack("{s:s,s:s,s:s}", "kty", "RSA", "n", nb, "e", "AQAB");
		free(nb);
	}
	doc = json_pack("{s:[O]}", "keys", rsa.priv);
	jwks = json_dumps(doc, 0);
	short_path = write_jwks("short.json", jwks);
	free(jwks);
	json_decref(doc);
	json_decref(rsa.priv);

	/* An EC key whose point is not on its curve. */
	{
		json_t *bad = json_deep_copy(ec.pub);
		json_object_set_new(bad, "y", json_string("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE"));
		doc = json_pack("{s:[o]}", "keys", bad);
		jwks = json_dumps(doc, 0);
		offcurve_path = write_jwks("offcurve.json", jwks);
		free(jwks);
		json_decref(doc);
	}

#define OAUTH(extra) \
	"{\"oauth\": {\"issuer\": \"https://idp.example\", \"scopes\": {\"s\": [\"*\"]}" extra "}}"
	assert_true(asprintf(&cfg, OAUTH(", \"jwks_file\": \"%s\", \"algorithms\": [\"HS256\"]"),
			     path) > 0);
	refused(cfg, "auth.bad_algorithm", "/auth/oauth/algorithms/0", NULL);
	free(cfg);
	assert_true(asprintf(&cfg, OAUTH(", \"jwks_file\": \"%s\", \"algorithms\": [\"none\"]"),
			     path) > 0);
	refused(cfg, "auth.bad_algorithm", "/auth/oauth/algorithms/0", NULL);
	free(cfg);
	assert_true(asprintf(&cfg, OAUTH(", \"jwks_file\": \"%s\", \"jwks_url\": "
					 "\"https://idp.example/jwks\""), path) > 0);
	refused(cfg, NULL, "exactly one of jwks_file and jwks_url", NULL);
	free(cfg);
	refused(OAUTH(""), NULL, "exactly one of jwks_file and jwks_url", NULL);
	assert_true(asprintf(&cfg, OAUTH(", \"jwks_file\": \"%s\""), priv_path) > 0);
	refused(cfg, "auth.jwks", "private key", NULL);
	free(cfg);
	assert_true(asprintf(&cfg, OAUTH(", \"jwks_file\": \"%s\""), short_path) > 0);
	refused(cfg, "auth.jwks", "2048", NULL);
	free(cfg);
	/* Keys without kid are never used: a set of only those is refused. */
	{
		json_t *nokid = json_deep_copy(ec.pub);
		char *p2;
		json_object_del(nokid, "kid");
		doc = json_pack("{s:[o]}", "keys", nokid);
		jwks = json_dumps(doc, 0);
		p2 = write_jwks("nokid.json", jwks);
		free(jwks);
		json_decref(doc);
		assert_true(asprintf(&cfg, OAUTH(", \"jwks_file\": \"%s\""), p2) > 0);
		refused(cfg, "auth.jwks", "with a kid", NULL);
		free(cfg);
		unlink(p2);
		free(p2);
	}
	assert_true(asprintf(&cfg, OAUTH(", \"jwks_file\": \"%s\""), offcurve_path) > 0);
	refused(cfg, "auth.jwks", "not a valid EC public key", NULL);
	free(cfg);
	assert_true(asprintf(&cfg, OAUTH(", \"jwks_file\": \"%s/none.json\""), tmpdir) > 0);
	refused(cfg, "auth.jwks", "/auth/oauth/jwks_file", NULL);
	free(cfg);
	assert_true(asprintf(&cfg, "{\"oauth\": {\"issuer\": \"https://idp.example\", "
				   "\"jwks_file\": \"%s\", \"scopes\": {\"s\": [\"*\"]}, "
				   "\"metrics_scope\": \"s\"}}", path) > 0);
	refused(cfg, NULL, "/auth/oauth/metrics_scope", NULL);
	free(cfg);
	assert_true(asprintf(&cfg, "{\"oauth\": {\"issuer\": \"https://idp.example\", "
				   "\"jwks_file\": \"%s\", \"scopes\": {}}}", path) > 0);
	refused(cfg, NULL, "/auth/oauth/scopes", NULL);
	free(cfg);
#undef OAUTH
	unlink(path);
	unlink(priv_path);
	unlink(short_path);
	unlink(offcurve_path);
	rmdir(tmpdir);
	free(path);
	free(priv_path);
	free(short_path);
	free(offcurve_path);
	mint_key_free(&ec);
}

static void test_print_masks_tokens(void **state)
{
	struct moat_err err = {0};
	struct auth *a = mint_auth(tokens_cfg, &err);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(a);
	auth_print(a, f);
	fclose(f);
	assert_non_null(strstr(buf, "token alice"));
	assert_non_null(strstr(buf, "read_* git_*"));
	assert_non_null(strstr(buf, "may read /metrics"));
	assert_null(strstr(buf, TOK_ALICE));
	assert_null(strstr(buf, "9f86d081884c")); /* not even a prefix of the value */
	free(buf);
	auth_free(a);
}

static void test_wipe_section(void **state)
{
	json_t *sec = json_loads(tokens_cfg, 0, NULL);
	const json_t *t0 = json_object_get(json_array_get(json_object_get(sec, "tokens"), 0),
					   "token");
	char *dump;

	(void)state;
	assert_non_null(t0);
	auth_wipe_section(sec);
	dump = json_dumps(sec, 0);
	assert_null(strstr(dump, TOK_ALICE));
	assert_null(strstr(dump, TOK_BOB));
	assert_non_null(strstr(dump, "****"));
	free(dump);
	json_decref(sec);
	auth_wipe_section(NULL);
}

static void test_subjects_bounded(void **state)
{
	struct auth_subjects *s = auth_subjects_new(16, 60);
	struct token_bucket *first, *again;
	char name[32];

	(void)state;
	assert_non_null(s);
	first = auth_subjects_bucket(s, "oauth:s0");
	assert_non_null(first);
	assert_ptr_equal(first, auth_subjects_bucket(s, "oauth:s0"));
	/* Use up s0's bucket, then push it out with 16 others. */
	for (int i = 0; i < 60; i++)
		assert_true(bucket_take(first, moat_now_ns()));
	assert_false(bucket_take(first, moat_now_ns()));
	for (int i = 1; i <= 16; i++) {
		snprintf(name, sizeof(name), "oauth:s%d", i);
		assert_non_null(auth_subjects_bucket(s, name));
	}
	assert_int_equal(auth_subjects_count(s), 16);
	/* s0 comes back in a reused slot with a full bucket. */
	again = auth_subjects_bucket(s, "oauth:s0");
	assert_non_null(again);
	assert_true(bucket_take(again, moat_now_ns()));
	/* The most recently used (s16) survived s0's return; s1 did not. */
	assert_int_equal(auth_subjects_count(s), 16);
	auth_subjects_free(s);
	s = auth_subjects_new(16, 0);
	assert_null(auth_subjects_bucket(s, "oauth:x")); /* no limit: no bucket */
	auth_subjects_free(s);
}

static void test_both_modes(void **state)
{
	struct mint_key ec;
	struct mint_key *ks[] = {&ec};
	struct moat_err err = {0};
	struct principal p;
	struct auth *a;
	char *jwks, *path = NULL, *cfg = NULL, *pay = NULL, *tok, *b;
	unsigned long before;

	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/moat-test-authmix-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	mint_key_make(&ec, MINT_EC256, "e1");
	jwks = mint_jwks(ks, 1);
	path = write_jwks("jwks.json", jwks);
	free(jwks);
	assert_true(asprintf(&cfg, "{\"tokens\": [{\"name\": \"alice\", \"token\": \"" TOK_ALICE
				   "\", \"tools\": [\"read_*\"]}], \"oauth\": {\"issuer\": "
				   "\"https://idp.example\", \"jwks_file\": \"%s\", \"algorithms\": "
				   "[\"ES256\"], \"audience\": \"https://moat.example/mcp\", "
				   "\"scopes\": {\"read\": [\"read_*\"]}}}", path) > 0);
	a = mint_auth(cfg, &err);
	assert_non_null(a);
	assert_true(asprintf(&pay, "{\"iss\":\"https://idp.example\",\"aud\":"
				   "\"https://moat.example/mcp\",\"sub\":\"alice\",\"exp\":%ld,"
				   "\"scope\":\"read\"}", (long)time(NULL) + 60) > 0);
	tok = mint_token(&ec, "{\"alg\":\"ES256\",\"kid\":\"e1\"}", pay, NULL, 0);
	b = mint_bearer(tok);
	before = auth_tokens_compares();
	memset(&p, 0, sizeof(p));
	check(a, b, 0, NULL, &p);
	/* The static digests are compared for a JWT too, and the subject's
	 * name cannot be mistaken for the token named alice. */
	assert_int_equal(auth_tokens_compares() - before, 1);
	assert_string_equal(p.name, "oauth:alice");
	memset(&p, 0, sizeof(p));
	check(a, "Bearer " TOK_ALICE, 0, NULL, &p);
	assert_string_equal(p.name, "alice");
	{
		/* The configured audience is the resource clients ask tokens
		 * for, whatever address moat listens on. */
		json_t *m = json_loads(auth_resource_metadata(a), 0, NULL);
		assert_string_equal(json_string_value(json_object_get(m, "resource")),
				    "https://moat.example/mcp");
		json_decref(m);
	}
	free(b);
	free(tok);
	free(pay);
	free(cfg);
	auth_free(a);
	unlink(path);
	rmdir(tmpdir);
	free(path);
	mint_key_free(&ec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_static_accept_refuse),
		cmocka_unit_test(test_every_digest_compared),
		cmocka_unit_test(test_weak_tokens_refused),
		cmocka_unit_test(test_oauth_config_refused),
		cmocka_unit_test(test_print_masks_tokens),
		cmocka_unit_test(test_wipe_section),
		cmocka_unit_test(test_subjects_bounded),
		cmocka_unit_test(test_both_modes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
