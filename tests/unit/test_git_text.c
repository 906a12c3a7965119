/*
 * test_git_text.c - unit tests for src/providers/git/git_text.c and
 * git_out.c: dates in git's two formats, porcelain status letters, tree
 * path checks, and the bounded output (raw-byte cap, JSON-escaped budget,
 * the closing note, UTF-8 repair).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "git/gitp.h"

static void test_dates(void **state)
{
	char b[64];

	(void)state;
	gitp_time_iso(1705329025, 60, b, sizeof(b));
	assert_string_equal(b, "2024-01-15T15:30:25+01:00");
	gitp_time_iso(1705329025, -330, b, sizeof(b));
	assert_string_equal(b, "2024-01-15T09:00:25-05:30");
	gitp_time_iso(0, 0, b, sizeof(b));
	assert_string_equal(b, "1970-01-01T00:00:00+00:00");
	gitp_time_git(1705329025, 60, b, sizeof(b));
	assert_string_equal(b, "Mon Jan 15 15:30:25 2024 +0100");
	gitp_time_git(1705329025, -300, b, sizeof(b));
	assert_string_equal(b, "Mon Jan 15 09:30:25 2024 -0500");
	gitp_time_git(1709164800, 0, b, sizeof(b));
	assert_string_equal(b, "Thu Feb 29 00:00:00 2024 +0000");
}

static void test_status_chars(void **state)
{
	(void)state;
	assert_int_equal(gitp_status_char(GIT_STATUS_INDEX_NEW, true), 'A');
	assert_int_equal(gitp_status_char(GIT_STATUS_INDEX_NEW, false), ' ');
	assert_int_equal(gitp_status_char(GIT_STATUS_INDEX_NEW | GIT_STATUS_WT_MODIFIED, false), 'M');
	assert_int_equal(gitp_status_char(GIT_STATUS_INDEX_RENAMED, true), 'R');
	assert_int_equal(gitp_status_char(GIT_STATUS_INDEX_DELETED, true), 'D');
	assert_int_equal(gitp_status_char(GIT_STATUS_WT_DELETED, false), 'D');
	assert_int_equal(gitp_status_char(GIT_STATUS_WT_NEW, true), '?');
	assert_int_equal(gitp_status_char(GIT_STATUS_CONFLICTED, true), 'U');
	assert_int_equal(gitp_status_char(GIT_STATUS_WT_TYPECHANGE, false), 'T');
	assert_string_equal(gitp_delta_word('A'), "new file");
	assert_string_equal(gitp_delta_word('M'), "modified");
	assert_string_equal(gitp_delta_status(GIT_DELTA_RENAMED), "renamed");
}

static void test_paths(void **state)
{
	(void)state;
	assert_true(gitp_path_ok("a.txt", false));
	assert_true(gitp_path_ok("dir/a.txt", false));
	assert_true(gitp_path_ok("dir/", false));
	assert_true(gitp_path_ok(".gitignore", false));
	assert_true(gitp_path_ok("a..b", false));
	assert_false(gitp_path_ok("", false));
	assert_true(gitp_path_ok("", true));
	assert_false(gitp_path_ok("/etc/passwd", false));
	assert_false(gitp_path_ok("../other/x", false));
	assert_false(gitp_path_ok("a/../../x", false));
	assert_false(gitp_path_ok("./a", false));
	assert_false(gitp_path_ok("a//b", false));
	assert_false(gitp_path_ok("a/..", false));
	assert_false(gitp_path_ok(NULL, true));
}

static struct call_ctx ctx_with(size_t budget)
{
	struct call_ctx c;

	callctx_init(&c, "t", 0, budget);
	return c;
}

static void test_out_bytes_cap(void **state)
{
	struct call_ctx c = ctx_with(1 << 20);
	struct gitp_out o;
	char *t;

	(void)state;
	gitp_out_init(&o, &c, 10, "max_diff_bytes");
	assert_true(gitp_out_puts(&o, "12345"));
	assert_true(gitp_out_puts(&o, "67890"));
	assert_false(gitp_out_puts(&o, "x"));
	assert_false(gitp_out_puts(&o, "")); /* cut stays cut */
	assert_true(o.cut);
	t = gitp_out_take(&o, "the diff");
	assert_string_equal(t, "1234567890\n[output cut: the diff reached git.max_diff_bytes "
			       "(10 bytes)]\n");
	free(t);
}

static void test_out_budget(void **state)
{
	struct call_ctx c = ctx_with(5000); /* budget 5000 - 2048 */
	struct gitp_out o;
	char line[100];
	size_t n = 0;
	char *t;

	(void)state;
	memset(line, 'a', sizeof(line) - 2);
	line[98] = '\n';
	line[99] = '\0';
	gitp_out_init(&o, &c, 0, NULL);
	while (gitp_out_puts(&o, line))
		n++;
	assert_int_equal(n, 29); /* 99 bytes + 1 for the escaped newline */
	t = gitp_out_take(&o, "the log");
	assert_non_null(strstr(t, "[output cut: the log reached the output budget"));
	free(t);
	/* control bytes cost their escapes */
	gitp_out_init(&o, &c, 0, NULL);
	memset(line, 1, 99);
	line[99] = '\0';
	n = 0;
	while (gitp_out_puts(&o, line))
		n++;
	assert_int_equal(n, 4); /* 594 each */
	gitp_out_free(&o);
	/* a count cut keeps its reason */
	gitp_out_init(&o, &c, 0, NULL);
	gitp_out_puts(&o, "x\n");
	gitp_out_cut(&o, "git.max_files (3)");
	gitp_out_cut(&o, "something else");
	t = gitp_out_take(&o, "the list");
	assert_string_equal(t, "x\n[output cut: the list reached git.max_files (3)]\n");
	free(t);
	callctx_release(&c);
}

static void test_out_utf8(void **state)
{
	struct call_ctx c = ctx_with(1 << 20);
	struct gitp_out o;
	json_t *j;
	char *t;

	(void)state;
	gitp_out_init(&o, &c, 0, NULL);
	gitp_out_put(&o, "a\xff" "b\0c", 5);
	t = gitp_out_take(&o, "x");
	assert_string_equal(t, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c");
	free(t);
	j = gitp_jstr("\xc3\x28ok", 4);
	assert_string_equal(json_string_value(j), "\xef\xbf\xbd(ok");
	json_decref(j);
	j = gitp_jstrz(NULL);
	assert_string_equal(json_string_value(j), "");
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_status_chars),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_out_bytes_cap),
		cmocka_unit_test(test_out_budget),
		cmocka_unit_test(test_out_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
