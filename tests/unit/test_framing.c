/*
 * test_framing.c - unit tests for src/core/framing.c: line splitting across
 * pushes, CRLF, empty lines, and oversized lines that must be dropped
 * without being buffered whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "framing.h"

static void expect_line(struct frame_reader *fr, const char *want)
{
	const char *line;
	size_t len;

	assert_int_equal(frame_next(fr, &line, &len), FRAME_LINE);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(line, want, len);
}

static void test_split_across_pushes(void **state)
{
	struct frame_reader fr;
	const char *line;
	size_t len;

	frame_init(&fr, 100);
	assert_true(frame_push(&fr, "{\"a\"", 4));
	assert_int_equal(frame_next(&fr, &line, &len), FRAME_NONE);
	assert_true(frame_push(&fr, ":1}\n\n{\"b\":2}\r\n{\"c\"", 18));
	expect_line(&fr, "{\"a\":1}");
	expect_line(&fr, "{\"b\":2}");
	assert_int_equal(frame_next(&fr, &line, &len), FRAME_NONE);
	assert_int_equal(frame_pending(&fr), 4);
	assert_true(frame_push(&fr, ":3}\n", 4));
	expect_line(&fr, "{\"c\":3}");
	assert_int_equal(frame_next(&fr, &line, &len), FRAME_NONE);
	frame_free(&fr);
}

static void test_oversized_terminated(void **state)
{
	struct frame_reader fr;
	const char *line;
	size_t len;
	char big[64];

	frame_init(&fr, 16);
	memset(big, 'x', sizeof(big));
	big[40] = '\n';
	assert_true(frame_push(&fr, big, 41));
	assert_true(frame_push(&fr, "ok\n", 3));
	assert_int_equal(frame_next(&fr, &line, &len), FRAME_TOO_LARGE);
	expect_line(&fr, "ok");
	frame_free(&fr);
}

static void test_blank_lines_and_head(void **state)
{
	struct frame_reader fr;
	const char *line, *head;
	size_t len, hl;
	const char *big = "{\"id\":\"x\",\"p\":\"yyyyyyyyyyyyyyyyyyyy\"}\n";

	frame_init(&fr, 16);
	assert_true(frame_push(&fr, "  \t \r\n \n\t\n{}\n", 13));
	expect_line(&fr, "{}"); /* blank lines dropped like empty ones */
	assert_int_equal(frame_next(&fr, &line, &len), FRAME_NONE);
	assert_true(frame_push(&fr, big, strlen(big)));
	assert_int_equal(frame_next(&fr, &line, &len), FRAME_TOO_LARGE);
	head = frame_head(&fr, &hl);
	assert_int_equal(hl, strlen(big) - 1);
	assert_memory_equal(head, big, hl);
	frame_free(&fr);
}

static void test_oversized_streamed(void **state)
{
	struct frame_reader fr;
	const char *line;
	size_t len;
	char chunk[32];
	int too_large = 0;

	frame_init(&fr, 16);
	memset(chunk, 'x', sizeof(chunk));
	/* 100 chunks of an unterminated line: reported once, memory stays small. */
	for (int i = 0; i < 100; i++) {
		assert_true(frame_push(&fr, chunk, sizeof(chunk)));
		enum frame_status st;
		while ((st = frame_next(&fr, &line, &len)) != FRAME_NONE) {
			assert_int_equal(st, FRAME_TOO_LARGE);
			too_large++;
		}
		assert_true(fr.cap <= 4096);
	}
	assert_true(frame_push(&fr, "tail\nnext\n", 10));
	expect_line(&fr, "next");
	assert_int_equal(too_large, 1);
	frame_free(&fr);
}

static void test_exact_limit(void **state)
{
	struct frame_reader fr;

	frame_init(&fr, 4);
	assert_true(frame_push(&fr, "abcd\n", 5));
	expect_line(&fr, "abcd");
	frame_free(&fr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_across_pushes),
		cmocka_unit_test(test_oversized_terminated),
		cmocka_unit_test(test_oversized_streamed),
		cmocka_unit_test(test_exact_limit),
		cmocka_unit_test(test_blank_lines_and_head),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
