/*
 * test_seal.c - unit tests for requestState sealing: a state opens for the
 * subject, principal and arguments it was sealed for and before it
 * expires; any change to it, and any other subject, principal, arguments,
 * key or time, is refused with the rule saying why.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "seal.h"

static const struct seal_claims claims_a = {.subject = "tool write_file", .principal = "alice"};

static json_t *args_a(void)
{
	return json_pack("{s:s, s:s}", "path", "a.txt", "content", "x");
}

static char *seal_one(json_t *args, uint64_t now)
{
	struct seal_claims c = claims_a;
	struct moat_err err = {0};
	json_t *body = json_pack("{s:{s:{s:s}}, s:i}", "responses", "k", "action", "accept",
				 "state", 7);
	char *s;

	c.args = args;
	s = seal_box(&c, body, now, &err);
	json_decref(body);
	assert_non_null(s);
	return s;
}

static const char *open_rule(const char *text, const struct seal_claims *c, uint64_t now)
{
	static struct moat_err err;
	json_t *body = NULL;

	memset(&err, 0, sizeof(err));
	if (seal_open(text, c, now, &body, NULL, &err) == MOAT_OK) {
		json_decref(body);
		return "ok";
	}
	assert_null(body);
	return err.rule ? err.rule : "?";
}

static void test_round_trip(void **state)
{
	json_t *args = args_a(), *body = NULL;
	struct seal_claims c = claims_a;
	struct moat_err err = {0};
	char *s;

	(void)state;
	assert_int_equal(seal_configure(NULL, 0, &err), MOAT_OK);
	s = seal_one(args, 1000);
	for (const char *p = s; *p; p++)
		assert_true(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
				   *p) != NULL);
	c.args = args;
	uint64_t exp = 0;
	assert_int_equal(seal_open(s, &c, 1001, &body, &exp, &err), MOAT_OK);
	assert_int_equal(exp, 1000 + SEAL_TTL_DEFAULT_S);
	assert_int_equal(json_integer_value(json_object_get(body, "state")), 7);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_object_get(body, "responses"), "k"), "action")),
			    "accept");
	json_decref(body);
	/* The same arguments written in another key order are the same. */
	json_decref(args);
	args = json_pack("{s:s, s:s}", "content", "x", "path", "a.txt");
	c.args = args;
	assert_string_equal(open_rule(s, &c, 1001), "ok");
	/* Two seals of the same thing differ (random nonce). */
	char *s2 = seal_one(args, 1000);
	assert_string_not_equal(s, s2);
	free(s2);
	free(s);
	json_decref(args);
}

static void test_tampered(void **state)
{
	json_t *args = args_a();
	struct seal_claims c = claims_a;
	struct moat_err err = {0};
	char *s, *t;
	size_t n;

	(void)state;
	assert_int_equal(seal_configure(NULL, 0, &err), MOAT_OK);
	s = seal_one(args, 1000);
	c.args = args;
	n = strlen(s);
	t = malloc(n + 16);
	assert_non_null(t);
	/* Every single-character change is caught. */
	for (size_t i = 0; i < n; i++) {
		memcpy(t, s, n + 1);
		t[i] = t[i] == 'A' ? 'B' : 'A';
		const char *r = open_rule(t, &c, 1001);
		assert_true(strcmp(r, "state.tampered") == 0 || strcmp(r, "state.malformed") == 0);
	}
	/* Cut, extended, suffixed (the conformance suite's "-TAMPERED"). */
	memcpy(t, s, n + 1);
	t[n - 4] = '\0';
	assert_string_equal(open_rule(t, &c, 1001), "state.tampered");
	snprintf(t, n + 16, "%s-TAMPERED", s);
	assert_string_not_equal(open_rule(t, &c, 1001), "ok");
	snprintf(t, n + 16, "%sAAAA", s);
	assert_string_equal(open_rule(t, &c, 1001), "state.tampered");
	assert_string_equal(open_rule("", &c, 1001), "state.malformed");
	assert_string_equal(open_rule("not base64!", &c, 1001), "state.tampered");
	assert_string_equal(open_rule("AAAA", &c, 1001), "state.tampered");
	/* Another key (another process, or a rotated cluster key). */
	uint8_t key[SEAL_KEY_BYTES];
	memset(key, 7, sizeof(key));
	assert_int_equal(seal_configure(key, 0, &err), MOAT_OK);
	assert_string_equal(open_rule(s, &c, 1001), "state.tampered");
	free(t);
	free(s);
	json_decref(args);
}

static void test_claims(void **state)
{
	json_t *args = args_a(), *other = json_pack("{s:s, s:s}", "path", "b.txt", "content", "x");
	struct seal_claims c = claims_a;
	struct moat_err err = {0};
	char *s;

	(void)state;
	assert_int_equal(seal_configure(NULL, 60, &err), MOAT_OK);
	assert_int_equal(seal_ttl(), 60);
	s = seal_one(args, 1000);
	c.args = args;
	assert_string_equal(open_rule(s, &c, 1059), "ok");
	assert_string_equal(open_rule(s, &c, 1060), "state.expired");
	assert_string_equal(open_rule(s, &c, 99999), "state.expired");
	c.principal = "bob";
	assert_string_equal(open_rule(s, &c, 1001), "state.wrong_principal");
	c.principal = claims_a.principal;
	c.subject = "tool move_file";
	assert_string_equal(open_rule(s, &c, 1001), "state.wrong_tool");
	c.subject = "prompt write_file";
	assert_string_equal(open_rule(s, &c, 1001), "state.wrong_tool");
	c.subject = claims_a.subject;
	c.args = other;
	assert_string_equal(open_rule(s, &c, 1001), "state.wrong_arguments");
	c.args = NULL; /* {} */
	assert_string_equal(open_rule(s, &c, 1001), "state.wrong_arguments");
	free(s);
	json_decref(args);
	json_decref(other);
	assert_int_equal(seal_configure(NULL, 0, &err), MOAT_OK);
	assert_int_equal(seal_ttl(), SEAL_TTL_DEFAULT_S);
}

static void test_parse_key(void **state)
{
	uint8_t k[SEAL_KEY_BYTES];

	(void)state;
	assert_true(seal_parse_key(
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", k));
	assert_int_equal(k[0], 0);
	assert_int_equal(k[31], 0x1f);
	/* base64 of 32 bytes 0xff: with padding, without, url alphabet. */
	assert_true(seal_parse_key("//////////////////////////////////////////8=", k));
	assert_int_equal(k[31], 0xff);
	assert_true(seal_parse_key("__________________________________________8", k));
	assert_int_equal(k[0], 0xff);
	assert_false(seal_parse_key("short", k));
	assert_false(seal_parse_key("", k));
	assert_false(seal_parse_key(
		"zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", k));
	assert_false(seal_parse_key("//////////////////////////////////////////8=AAAA", k));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_parse_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
