/*
 * test_text.c - unit tests for src/core/text.c: UTF-8-safe prefixes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "text.h"

static void test_prefix(void **state)
{
	assert_int_equal(text_utf8_prefix("abc", 64), 3);
	assert_int_equal(text_utf8_prefix("abcdef", 4), 4);
	/* "aé" is 61 c3 a9: a cut at 2 would split é */
	assert_int_equal(text_utf8_prefix("a\xc3\xa9z", 2), 1);
	assert_int_equal(text_utf8_prefix("a\xc3\xa9z", 3), 3);
	/* a 4-byte sequence (U+1F600) cut anywhere inside goes whole */
	assert_int_equal(text_utf8_prefix("\xf0\x9f\x98\x80!", 3), 0);
	assert_int_equal(text_utf8_prefix("\xf0\x9f\x98\x80!", 4), 4);
	assert_int_equal(text_utf8_prefix("", 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
