/*
 * test_text.c - unit tests for src/core/text.c: UTF-8-safe prefixes and
 * the word-at-a-time scan for text JSON carries without escapes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

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

/* The scan agrees with a byte-by-byte reference for every byte value at
 * every position of buffers of every length up to 40 bytes, so each lane
 * of two 16-byte blocks and the tail loop are covered. */
static size_t plain_slow(const unsigned char *s, size_t n, bool ascii_only)
{
	size_t i = 0;

	while (i < n && s[i] >= 0x20 && s[i] != '"' && s[i] != '\\' && (!ascii_only || s[i] < 0x7F))
		i++;
	return i;
}

static void test_json_plain(void **state)
{
	unsigned char buf[40];

	(void)state;
	for (size_t len = 0; len <= sizeof(buf); len++) {
		for (size_t pos = 0; pos < len; pos++) {
			for (int c = 0; c < 256; c++) {
				memset(buf, 'a', sizeof(buf));
				buf[pos] = (unsigned char)c;
				for (int ascii = 0; ascii < 2; ascii++)
					assert_int_equal(text_json_plain((char *)buf, len, ascii),
							 plain_slow(buf, len, ascii));
			}
		}
	}
	assert_int_equal(text_json_plain("abc\"def", 7, false), 3);
	assert_int_equal(text_json_plain("caf\xc3\xa9", 5, false), 5);
	assert_int_equal(text_json_plain("caf\xc3\xa9", 5, true), 3);
	assert_int_equal(text_json_plain("0123456789abcdef\x7f", 17, true), 16);
	assert_int_equal(text_json_plain("0123456789abcdef\x7f", 17, false), 17);
	assert_int_equal(text_json_plain("", 0, true), 0);
}

/* RFC 4648 section 10's test vectors. */
/* text_json_cost is exactly what jansson's dump of the string costs,
 * less the two quotes. */
static void test_json_cost(void **state)
{
	const char *cases[] = {"", "plain", "a\"b\\c", "\n\t\r\b\f", "\x01\x1f\x7f", "é ü \xe2\x80\xa8"};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = json_string(cases[i]);
		size_t want = json_dumpb(j, NULL, 0, JSON_ENCODE_ANY | JSON_COMPACT) - 2;
		assert_int_equal(text_json_cost(cases[i], strlen(cases[i])), want);
		json_decref(j);
	}
}

static void test_base64(void **state)
{
	static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
	static const char *const want[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
					   "Zm9vYmFy"};
	const unsigned char bin[] = {0x00, 0xff, 0x10, 0x80};

	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		char *b = text_base64((const unsigned char *)in[i], strlen(in[i]));
		assert_non_null(b);
		assert_string_equal(b, want[i]);
		free(b);
	}
	char *b = text_base64(bin, sizeof(bin));
	assert_string_equal(b, "AP8QgA==");
	free(b);
}

static void test_path_dots(void **state)
{
	(void)state;
	assert_true(text_path_dots("/a/../b"));
	assert_true(text_path_dots("/a/.."));
	assert_true(text_path_dots("/./a"));
	assert_true(text_path_dots("."));
	assert_true(text_path_dots("/a/./"));
	assert_false(text_path_dots("/a/.b/c."));
	assert_false(text_path_dots("/a/.../b"));
	assert_false(text_path_dots("/a..b/"));
	assert_false(text_path_dots("/"));
	assert_false(text_path_dots(""));
}

static void test_path_unsafe(void **state)
{
	(void)state;
	assert_null(text_path_unsafe("/contacts/{id}/notes"));
	assert_null(text_path_unsafe("/a%20b/%41"));
	assert_null(text_path_unsafe("/v1.2/x..y"));
	assert_string_equal(text_path_unsafe("/files/../admin"), "a '.' or '..' segment");
	assert_string_equal(text_path_unsafe("/./x"), "a '.' or '..' segment");
	assert_string_equal(text_path_unsafe("/f/%2e%2e/a"), "a percent-encoded '.', '/' or '\\'");
	assert_string_equal(text_path_unsafe("/f/%2E"), "a percent-encoded '.', '/' or '\\'");
	assert_string_equal(text_path_unsafe("/a%2Fb"), "a percent-encoded '.', '/' or '\\'");
	assert_string_equal(text_path_unsafe("/a%5cb"), "a percent-encoded '.', '/' or '\\'");
	assert_string_equal(text_path_unsafe("/a\\b"), "a '\\'");
	assert_null(text_path_unsafe("/a%2"));
	assert_null(text_path_unsafe("/a%"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_dots),
		cmocka_unit_test(test_path_unsafe),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_json_plain),
		cmocka_unit_test(test_json_cost),
		cmocka_unit_test(test_base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
