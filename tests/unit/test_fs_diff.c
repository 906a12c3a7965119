/*
 * test_fs_diff.c - unit tests for src/providers/fs/fs_diff.c: the unified
 * diff edit_file returns. Expected texts were produced by the reference's
 * own library (jsdiff 8, createTwoFilesPatch(name, name, a, b, "original",
 * "modified")) so a change in format or in the choice between equally short
 * edit scripts shows up here; the bounds (lines, bytes, work) and the
 * cancellation hook are tested as well.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fs/fs_diff.h"

#define HEADER                                                                                     \
	"Index: f\n"                                                                               \
	"===================================================================\n"                   \
	"--- f\toriginal\n"                                                                        \
	"+++ f\tmodified\n"

/* Diff a against b with context ctx (0 = the reference's 4) and compare. */
static void check(const char *a, const char *b, unsigned ctx, const char *want)
{
	struct fs_diff_opts o = {.context = ctx ? ctx : FS_DIFF_REFERENCE_CONTEXT};
	struct moat_err err = {0};
	char *out = NULL;
	size_t len = 0;
	bool coarse = true;

	assert_int_equal(fs_diff_unified("f", a, strlen(a), b, strlen(b), &o, &out, &len, &coarse,
					 &err),
			 MOAT_OK);
	assert_false(coarse);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
}

/* "l0\n" .. "l<n-1>\n", with line k replaced by "L<k>" when k is in ks. */
static char *numbered(size_t n, const size_t *ks, size_t nks)
{
	char *s = malloc(n * 16 + 1);
	size_t o = 0;

	assert_non_null(s);
	for (size_t i = 0; i < n; i++) {
		bool up = false;
		for (size_t k = 0; k < nks; k++)
			up = up || ks[k] == i;
		o += (size_t)snprintf(s + o, 16, "%c%zu\n", up ? 'L' : 'l', i);
	}
	s[o] = '\0';
	return s;
}

static void test_identical(void **state)
{
	check("", "", 0, HEADER);
	check("same\ntext\n", "same\ntext\n", 0, HEADER);
	check("no newline", "no newline", 0, HEADER);
}

static void test_one_change(void **state)
{
	check("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n", "a\nb\nc\nd\nE\nf\ng\nh\ni\nj\n", 0,
	      HEADER "@@ -1,9 +1,9 @@\n a\n b\n c\n d\n-e\n+E\n f\n g\n h\n i\n");
	/* the context is a parameter */
	check("a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n", "a\nb\nc\nd\nE\nf\ng\nh\ni\nj\n", 3,
	      HEADER "@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n");
}

static void test_no_newline(void **state)
{
	check("x\ny", "x\nz", 0,
	      HEADER "@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+z\n"
		     "\\ No newline at end of file\n");
	check("x\ny", "x\ny\n", 0,
	      HEADER "@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y\n");
}

static void test_empty_sides(void **state)
{
	check("", "one\ntwo\n", 0, HEADER "@@ -0,0 +1,2 @@\n+one\n+two\n");
	check("one\ntwo\n", "", 0, HEADER "@@ -1,2 +0,0 @@\n-one\n-two\n");
}

static void test_hunks_merge_or_split(void **state)
{
	const size_t near[] = {3, 12}, far[] = {3, 13};
	char *a = numbered(20, NULL, 0), *b1 = numbered(20, near, 2), *b2 = numbered(20, far, 2);

	/* 8 unchanged lines between the changes (<= 2 * 4): one hunk */
	check(a, b1, 0,
	      HEADER "@@ -1,17 +1,17 @@\n l0\n l1\n l2\n-l3\n+L3\n l4\n l5\n l6\n l7\n l8\n l9\n"
		     " l10\n l11\n-l12\n+L12\n l13\n l14\n l15\n l16\n");
	/* 9 between them: two hunks */
	check(a, b2, 0,
	      HEADER "@@ -1,8 +1,8 @@\n l0\n l1\n l2\n-l3\n+L3\n l4\n l5\n l6\n l7\n"
		     "@@ -10,9 +10,9 @@\n l9\n l10\n l11\n l12\n-l13\n+L13\n l14\n l15\n l16\n l17\n");
	free(a);
	free(b1);
	free(b2);
}

static void test_tie_breaking(void **state)
{
	/* several shortest scripts exist; jsdiff's choice is the one expected */
	check("a\nb\na\nb\na\n", "b\na\nb\na\nb\n", 0,
	      HEADER "@@ -1,5 +1,5 @@\n-a\n b\n a\n b\n a\n+b\n");
}

static void test_coarse_fallback(void **state)
{
	struct fs_diff_opts o = {.context = 4, .max_work = 1};
	const char *a = "k0\nx1\nx2\nx3\nk4\n", *b = "k0\ny1\nx2\ny3\nk4\n";
	struct moat_err err = {0};
	char *out = NULL;
	size_t len;
	bool coarse = false;

	assert_int_equal(fs_diff_unified("f", a, strlen(a), b, strlen(b), &o, &out, &len, &coarse,
					 &err),
			 MOAT_OK);
	assert_true(coarse);
	/* common prefix and suffix kept, the middle replaced as one block */
	assert_string_equal(out, HEADER "@@ -1,5 +1,5 @@\n k0\n-x1\n-x2\n-x3\n+y1\n+x2\n+y3\n k4\n");
	free(out);
}

static void test_limits(void **state)
{
	struct fs_diff_opts o = {.context = 4, .max_bytes = 64};
	struct moat_err err = {0};
	char *out = (char *)"x";
	size_t len = 1;

	assert_int_equal(fs_diff_unified("f", "a\n", 2, "b\n", 2, &o, &out, &len, NULL, &err),
			 MOAT_ELIMIT);
	assert_null(out);
	assert_int_equal(len, 0);
	assert_non_null(strstr(err.msg, "64-byte"));
	o = (struct fs_diff_opts){.context = 4, .max_lines = 3};
	assert_int_equal(fs_diff_unified("f", "a\nb\n", 4, "c\nd\n", 4, &o, &out, &len, NULL, &err),
			 MOAT_ELIMIT);
	assert_non_null(strstr(err.msg, "lines"));
	assert_int_equal(fs_diff_unified("f", "a\n", 2, "c\nd\n", 4, &o, &out, &len, NULL, &err),
			 MOAT_OK);
	free(out);
}

static enum moat_rc cancel_now(void *arg, struct moat_err *err)
{
	(*(int *)arg)++;
	return moat_err_set(err, MOAT_ECANCELLED, "cancelled");
}

static void test_check_hook(void **state)
{
	int calls = 0;
	struct fs_diff_opts o = {.context = 4, .check = cancel_now, .check_arg = &calls};
	struct moat_err err = {0};
	char *out;
	size_t len;

	assert_int_equal(fs_diff_unified("f", "a\nb\n", 4, "a\nc\n", 4, &o, &out, &len, NULL, &err),
			 MOAT_ECANCELLED);
	assert_int_equal(calls, 1);
	assert_null(out);
}

static void test_large_input_is_exact_and_bounded(void **state)
{
	size_t ks[50];
	char *a, *b, *out;
	size_t len, nks = 0;
	struct moat_err err = {0};
	struct fs_diff_opts o = {.context = 4};
	bool coarse = true;

	for (size_t k = 7; k < 20000 && nks < 50; k += 397)
		ks[nks++] = k;
	a = numbered(20000, NULL, 0);
	b = numbered(20000, ks, nks);
	assert_int_equal(fs_diff_unified("f", a, strlen(a), b, strlen(b), &o, &out, &len, &coarse,
					 &err),
			 MOAT_OK);
	assert_false(coarse);
	/* 50 separate hunks, each with one removal and one addition */
	size_t hunks = 0;
	for (const char *p = out; (p = strstr(p, "\n@@ ")) != NULL; p++)
		hunks++;
	assert_int_equal(hunks, 50);
	assert_non_null(strstr(out, "\n-l7\n+L7\n"));
	free(out);
	free(a);
	free(b);
}

static void test_fence(void **state)
{
	struct moat_err err = {0};
	char *out;
	size_t len;

	assert_int_equal(fs_diff_fence("d\n", 2, &out, &len, &err), MOAT_OK);
	assert_string_equal(out, "```diff\nd\n```\n\n");
	assert_int_equal(len, strlen(out));
	free(out);
	assert_int_equal(fs_diff_fence("a ``` b\n", 8, &out, &len, &err), MOAT_OK);
	assert_string_equal(out, "````diff\na ``` b\n````\n\n");
	free(out);
	assert_int_equal(fs_diff_fence("``\n`````\n", 9, &out, &len, &err), MOAT_OK);
	assert_string_equal(out, "``````diff\n``\n`````\n``````\n\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_one_change),
		cmocka_unit_test(test_no_newline),
		cmocka_unit_test(test_empty_sides),
		cmocka_unit_test(test_hunks_merge_or_split),
		cmocka_unit_test(test_tie_breaking),
		cmocka_unit_test(test_coarse_fallback),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_check_hook),
		cmocka_unit_test(test_large_input_is_exact_and_bounded),
		cmocka_unit_test(test_fence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
