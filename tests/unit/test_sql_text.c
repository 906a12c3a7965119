/*
 * test_sql_text.c - unit tests for src/providers/sql/sql_text.c: the
 * single-statement tail check, UTF-8 repair of text values and base64
 * decoding of blob parameters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sql/sql_text.h"

static bool tail(const char *s)
{
	return sql_tail_empty(s, strlen(s));
}

static void test_tail_empty(void **state)
{
	(void)state;
	assert_true(tail(""));
	assert_true(tail("  \n\t"));
	assert_true(tail(";"));
	assert_true(tail(" ; ;; "));
	assert_true(tail("-- a comment"));
	assert_true(tail("-- a comment\n  /* block */ ;"));
	assert_true(tail("/* unterminated"));
	assert_true(tail("/**/"));
	assert_true(tail("-- DROP TABLE t\n"));
}

static void test_tail_statement(void **state)
{
	(void)state;
	assert_false(tail(" DROP TABLE t"));
	assert_false(tail("; DROP TABLE t"));
	assert_false(tail("/* x */ DROP TABLE t"));
	assert_false(tail("-- x\nDROP TABLE t"));
	assert_false(tail("-"));
	assert_false(tail("/"));
	assert_false(tail("/* */x"));
	/* a NUL byte is not a blank: "SELECT 1\0; DROP" must not pass */
	assert_false(sql_tail_empty("\0; DROP TABLE t", 15));
	assert_false(sql_tail_empty(" \0", 2));
}

static void test_utf8(void **state)
{
	size_t n;
	char *s;

	(void)state;
	assert_true(sql_utf8_valid("héllo €𝄞", strlen("héllo €𝄞")));
	assert_false(sql_utf8_valid("\xC0\x80", 2));         /* overlong NUL */
	assert_false(sql_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
	assert_false(sql_utf8_valid("\xF4\x90\x80\x80", 4)); /* past U+10FFFF */
	assert_false(sql_utf8_valid("\xE2\x82", 2));         /* cut short */
	s = sql_utf8_repair("a\xFF" "b\xE2\x82", 5, &n);
	assert_non_null(s);
	assert_string_equal(s, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD");
	assert_int_equal(n, strlen(s));
	free(s);
	s = sql_utf8_repair("ok", 2, &n);
	assert_string_equal(s, "ok");
	free(s);
}

static void b64(const char *in, const char *want, size_t wantlen)
{
	size_t n;
	unsigned char *p = sql_base64_decode(in, strlen(in), &n);

	assert_non_null(p);
	assert_int_equal(n, wantlen);
	assert_memory_equal(p, want, wantlen);
	free(p);
}

static void test_base64(void **state)
{
	size_t n = 99;

	(void)state;
	b64("", "", 0);
	b64("AA==", "\0", 1);
	b64("AAE", "\0\1", 2);
	b64("aGVsbG8=", "hello", 5);
	b64("/+8=", "\xFF\xEF", 2);
	assert_null(sql_base64_decode("a", 1, &n));
	assert_int_equal(n, 0);
	assert_null(sql_base64_decode("aGV!", 4, &n));
	assert_null(sql_base64_decode("aG V", 4, &n));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tail_empty),
		cmocka_unit_test(test_tail_statement),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
