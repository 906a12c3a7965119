/*
 * test_wire.c - unit tests for src/core/wire.c: the bytes wire_write()
 * produces are exactly json_dumps(..., JSON_COMPACT)'s, for every escape,
 * nesting, integers and strings long enough to leave the lent storage;
 * reals are the shortest text that reads back as the same double.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire.h"

/* Serialize v (stolen) both ways, with small lent storage so the heap
 * path is taken for anything but tiny values, and compare. */
static void same_as_jansson(json_t *v)
{
	char small[16];
	struct wire_buf b;
	char *want = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	assert_non_null(want);
	wire_buf_init(&b, small, sizeof(small));
	assert_true(wire_write(&b, v));
	assert_false(b.failed);
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	wire_buf_release(&b);
	free(want);
	json_decref(v);
}

/* A real (stolen) serializes as want, which jansson reads back as v. */
static void real_as(double v, const char *want)
{
	char small[16];
	struct wire_buf b;
	json_t *j = json_real(v), *back;

	wire_buf_init(&b, small, sizeof(small));
	assert_true(wire_write(&b, j));
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	back = json_loadb(b.data, b.len, JSON_DECODE_ANY, NULL);
	assert_true(json_is_real(back) && json_real_value(back) == v);
	json_decref(back);
	wire_buf_release(&b);
	json_decref(j);
}

static void test_scalars(void **state)
{
	(void)state;
	same_as_jansson(json_true());
	same_as_jansson(json_false());
	same_as_jansson(json_null());
	same_as_jansson(json_integer(0));
	same_as_jansson(json_integer(-9223372036854775807LL - 1));
	same_as_jansson(json_integer(9223372036854775807LL));
	real_as(1.0, "1.0");
	real_as(-0.1, "-0.1");
	real_as(1e300, "1e+300");
	real_as(13.7, "13.7");
	real_as(0.1 + 0.2, "0.30000000000000004");
	same_as_jansson(json_string(""));
}

static void test_every_escape(void **state)
{
	char all[256];
	size_t n = 0;

	(void)state;
	/* every ASCII byte but NUL (jansson strings may hold NUL only via
	 * json_stringn; tested below), including 0x7F */
	for (int c = 1; c < 128; c++)
		all[n++] = (char)c;
	same_as_jansson(json_stringn(all, n));
	same_as_jansson(json_stringn("a\0b", 3));
	same_as_jansson(json_string("quote \" backslash \\ slash / tab \t nl \n"));
	/* multi-byte UTF-8 goes out as is: é, U+2028, an emoji */
	same_as_jansson(json_string("caf\xc3\xa9 \xe2\x80\xa8 \xf0\x9f\x98\x80"));
}

static void test_nesting_and_order(void **state)
{
	json_t *o;

	(void)state;
	o = json_pack("{s:i, s:[s, {s:n, s:b}, []], s:{}, s:s}", "z", 1, "a", "x", "k\"ey", "t",
		      1, "e", "last", "\n");
	assert_non_null(o);
	same_as_jansson(o);
	same_as_jansson(json_array());
	same_as_jansson(json_object());
}

static void test_long_strings(void **state)
{
	size_t n = 3 * 1024 * 1024 + 7;
	char *s = malloc(n);

	(void)state;
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = i % 61 == 0 ? '\n' : i % 97 == 0 ? '"' : (char)('a' + i % 26);
	same_as_jansson(json_pack("{s:[{s:s, s:s%}]}", "content", "type", "text", "text", s, n));
	free(s);
}

/* One large string value in two places (content and structuredContent)
 * is written twice, byte for byte as jansson writes it; a different value
 * with the same text, and a small one, are written normally. */
static void test_repeated_string(void **state)
{
	size_t n = 100000;
	char *s = malloc(n + 1);
	json_t *str, *msg;

	(void)state;
	assert_non_null(s);
	for (size_t i = 0; i < n; i++)
		s[i] = i % 50 == 0 ? '"' : i % 77 == 0 ? '\n' : 'x';
	s[n] = '\0';
	str = json_string(s);
	assert_non_null(str);
	msg = json_pack("{s:[{s:s, s:O}], s:{s:O}, s:s, s:O}", "content", "type", "text", "text",
			str, "structuredContent", "content", str, "again", s, "third", str);
	assert_non_null(msg);
	same_as_jansson(msg);
	json_decref(str);
	free(s);
}

/* The lent storage is used first; once full, the bytes move to the heap
 * intact, and release empties the buffer. */
static void test_storage(void **state)
{
	char lent[8];
	struct wire_buf b;
	json_t *v = json_string("0123456789abcdef");

	(void)state;
	wire_buf_init(&b, lent, sizeof(lent));
	assert_true(wire_write(&b, json_true()));
	assert_ptr_equal(b.data, lent);
	assert_null(b.heap);
	assert_true(wire_write(&b, v));
	assert_non_null(b.heap);
	assert_int_equal(b.len, 4 + 18);
	assert_memory_equal(b.data, "true\"0123456789abcdef\"", b.len);
	wire_buf_release(&b);
	assert_null(b.heap);
	assert_int_equal(b.len, 0);
	/* no storage at all: straight to the heap */
	wire_buf_init(&b, NULL, 0);
	assert_true(wire_write(&b, v));
	assert_int_equal(b.len, 18);
	wire_buf_release(&b);
	/* NULL is not a value */
	wire_buf_init(&b, NULL, 0);
	assert_false(wire_write(&b, NULL));
	assert_true(b.failed);
	wire_buf_release(&b);
	json_decref(v);
}

/* wire_dumps: a string the caller frees, reals at the precision that
 * reads back (a duration of 0.173838 s is not 0.17383799999999999). */
static void test_dumps(void **state)
{
	json_t *v = json_pack("{s:f, s:[f, i], s:s}", "seconds", 0.173838, "a", 0.1, 7, "s", "x");
	char *s = wire_dumps(v);

	assert_non_null(s);
	assert_string_equal(s, "{\"seconds\":0.173838,\"a\":[0.1,7],\"s\":\"x\"}");
	free(s);
	json_decref(v);
	v = json_real(2.5);
	s = wire_dumps(v); /* any value, not only objects and arrays */
	assert_string_equal(s, "2.5");
	free(s);
	json_decref(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_every_escape),
		cmocka_unit_test(test_nesting_and_order),
		cmocka_unit_test(test_long_strings),
		cmocka_unit_test(test_repeated_string),
		cmocka_unit_test(test_storage),
		cmocka_unit_test(test_dumps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
