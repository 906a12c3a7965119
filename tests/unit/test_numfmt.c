/*
 * test_numfmt.c - unit tests for src/core/numfmt.c: integers equal to
 * printf's; every double written reads back as itself, as a JSON real;
 * decimals come back as they were written (13.7, not 13.699999999999999);
 * NaN and the infinities are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <inttypes.h>

#include <cmocka.h>
#include <jansson.h>

#include "numfmt.h"

static uint64_t seed = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static void test_i64(void **state)
{
	const int64_t fixed[] = {0, 1, -1, 9, 10, -10, 123456789, INT64_MAX, INT64_MIN, INT64_MIN + 1};
	char buf[NUMFMT_MAX], want[NUMFMT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		snprintf(want, sizeof(want), "%" PRId64, fixed[i]);
		assert_int_equal(numfmt_i64(buf, fixed[i]), strlen(want));
		assert_string_equal(buf, want);
	}
	for (int i = 0; i < 100000; i++) {
		int64_t v = (int64_t)rnd() >> (rnd() % 64);
		snprintf(want, sizeof(want), "%" PRId64, v);
		numfmt_i64(buf, v);
		assert_string_equal(buf, want);
	}
}

/* buf reads back as v, is a JSON real, and has the length returned. */
static void reads_back(double v)
{
	char buf[NUMFMT_MAX];
	size_t n = numfmt_double(buf, v);
	json_t *j;

	assert_int_equal(n, strlen(buf));
	assert_true(n > 0);
	assert_true(strtod(buf, NULL) == v);
	assert_int_equal(signbit(strtod(buf, NULL)) != 0, signbit(v) != 0);
	j = json_loads(buf, JSON_DECODE_ANY, NULL);
	assert_non_null(j);
	assert_true(json_is_real(j));
	assert_true(json_real_value(j) == v);
	json_decref(j);
}

static void test_double_fixed(void **state)
{
	const struct { double v; const char *want; } cases[] = {
		{0.0, "0.0"}, {-0.0, "-0.0"}, {1.0, "1.0"}, {-1.0, "-1.0"}, {13.7, "13.7"},
		{0.1, "0.1"}, {0.3, "0.3"}, {0.1 + 0.2, "0.30000000000000004"},
		{1370.37, "1370.37"}, {-2.5, "-2.5"}, {1e-5, "0.00001"}, {123456.789, "123456.789"},
		{9007199254740991.0, "9007199254740991.0"}, {1e300, "1e+300"}, {-1e300, "-1e+300"},
		{1e-7, "1e-07"}, {5e-324, "4.94065645841247e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
		{3.141592653589793, "3.141592653589793"}, {1e16, "1e+16"}, {0.000123, "0.000123"},
	};
	char buf[NUMFMT_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		numfmt_double(buf, cases[i].v);
		assert_string_equal(buf, cases[i].want);
		reads_back(cases[i].v);
	}
	assert_int_equal(numfmt_double(buf, NAN), 0);
	assert_string_equal(buf, "");
	assert_int_equal(numfmt_double(buf, INFINITY), 0);
	assert_int_equal(numfmt_double(buf, -INFINITY), 0);
}

static void test_double_random_bits(void **state)
{
	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint64_t bits = rnd();
		double v;
		memcpy(&v, &bits, sizeof(v));
		if (!isfinite(v))
			continue;
		reads_back(v);
	}
}

/* A decimal written with up to 15 significant digits comes back as it was
 * written (trailing fractional zeros dropped). */
static void test_double_decimals_round_trip(void **state)
{
	char text[64], buf[NUMFMT_MAX];

	(void)state;
	for (int i = 0; i < 200000; i++) {
		uint64_t m = rnd() % 1000000000000000ull;
		int k = (int)(rnd() % 8), nd;
		char digits[32];
		size_t len;
		nd = snprintf(digits, sizeof(digits), "%0*" PRIu64, k + 1, m);
		if (k == 0)
			snprintf(text, sizeof(text), "%s.0", digits);
		else
			snprintf(text, sizeof(text), "%.*s.%s", nd - k, digits, digits + nd - k);
		len = strlen(text);
		while (k > 0 && text[len - 1] == '0' && text[len - 2] != '.')
			text[--len] = '\0';
		numfmt_double(buf, strtod(text, NULL));
		assert_string_equal(buf, text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_i64),
		cmocka_unit_test(test_double_fixed),
		cmocka_unit_test(test_double_random_bits),
		cmocka_unit_test(test_double_decimals_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
