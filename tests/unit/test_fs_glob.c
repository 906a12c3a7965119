/*
 * test_fs_glob.c - unit tests for src/providers/fs/fs_glob.c: a few of the
 * minimatch semantics search_files relies on (the e2e suite compares many
 * more with the reference server), and every bound: length, nesting,
 * expansion, steps, recursion, the deadline and cancellation. The bound
 * that matters most: a match that stops is an error, never a result, so a
 * negated pattern cannot turn into a match when its budget runs out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fs/fs_glob.h"

/* Compile pat (must succeed) and match path; returns the rc, *hit set. */
static enum moat_rc try_match(const char *pat, const char *path, struct call_ctx *ctx, bool *hit,
			      struct moat_err *err)
{
	struct fs_glob *g = NULL;
	enum moat_rc rc;

	assert_int_equal(fs_glob_compile(pat, &g, err), MOAT_OK);
	rc = fs_glob_match(g, path, ctx, hit, err);
	fs_glob_free(g);
	return rc;
}

static bool matches(const char *pat, const char *path)
{
	struct moat_err err = {0};
	bool hit = false;

	assert_int_equal(try_match(pat, path, NULL, &hit, &err), MOAT_OK);
	return hit;
}

/* Compile pat and expect a refusal with rule. */
static void refused(const char *pat, const char *rule)
{
	struct moat_err err = {0};
	struct fs_glob *g = NULL;

	assert_int_equal(fs_glob_compile(pat, &g, &err), MOAT_ELIMIT);
	assert_null(g);
	assert_non_null(err.rule);
	assert_string_equal(err.rule, rule);
}

/* s repeated n times, then tail. Caller frees. */
static char *rep(const char *s, size_t n, const char *tail)
{
	size_t l = strlen(s), tl = strlen(tail);
	char *out = malloc(l * n + tl + 1);

	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * l, s, l);
	memcpy(out + l * n, tail, tl + 1);
	return out;
}

static void test_semantics(void **state)
{
	(void)state;
	assert_true(matches("*.c", "a.c"));
	assert_false(matches("*.c", "d/a.c"));
	assert_true(matches("**/*.c", "d/e/a.c"));
	assert_true(matches("*.{c,h}", "x.h"));
	assert_true(matches("file{1..3}.txt", "file2.txt"));
	assert_true(matches("@(a|b).txt", "b.txt"));
	/* a leading '!' negates the pattern (minimatch); elsewhere !( is an extglob */
	assert_true(matches("!(a|b).txt", "a.txt"));
	assert_false(matches("f!(a|b).txt", "fa.txt"));
	assert_true(matches("f!(a|b).txt", "fc.txt"));
	assert_true(matches("+(ab).x", "ababab.x"));
	assert_true(matches("[[:digit:]]*", "9lives"));
	assert_true(matches("!*.c", "a.h"));
	assert_false(matches("#comment", "#comment"));
	assert_true(matches("a/**", "a/b"));
	assert_false(matches("a/**", "a"));
}

static void test_length_refused(void **state)
{
	char *p = rep("a", FS_GLOB_MAX_LEN + 1, "");
	char *ok = rep("a", FS_GLOB_MAX_LEN, "");
	struct moat_err err = {0};
	struct fs_glob *g = NULL;

	(void)state;
	refused(p, "limits.glob_length");
	assert_int_equal(fs_glob_compile(ok, &g, &err), MOAT_OK);
	fs_glob_free(g);
	free(p);
	free(ok);
}

/* The reported crash: @( x 60000 + a.txt + ) x 60000, and its kin. */
static void test_nesting_refused(void **state)
{
	static const char *const opens[] = {"@(", "*(", "+(", "?(", "!(", "{", "{a,"};
	static const char *const closes[] = {")", ")", ")", ")", ")", "}", "}"};

	(void)state;
	for (size_t k = 0; k < sizeof(opens) / sizeof(opens[0]); k++) {
		char *o = rep(opens[k], 60000, "a.txt");
		char *c = rep(closes[k], 60000, "");
		char *p = malloc(strlen(o) + strlen(c) + 1);
		assert_non_null(p);
		strcpy(p, o);
		strcat(p, c);
		/* too long first; within the length, too deep */
		refused(p, "limits.glob_length");
		free(p);
		free(o);
		free(c);
		o = rep(opens[k], FS_GLOB_MAX_NESTING + 1, "a.txt");
		c = rep(closes[k], FS_GLOB_MAX_NESTING + 1, "");
		p = malloc(strlen(o) + strlen(c) + 1);
		assert_non_null(p);
		strcpy(p, o);
		strcat(p, c);
		refused(p, "limits.glob_depth");
		free(p);
		free(o);
		free(c);
	}
}

/* At the nesting bound a pattern compiles and its match ends, with an
 * answer or a limit error, quickly. */
static void test_nesting_at_bound(void **state)
{
	static const char *const opens[] = {"@(", "*(", "+(", "?(", "!("};
	struct moat_err err = {0};
	bool hit;

	(void)state;
	for (size_t k = 0; k < sizeof(opens) / sizeof(opens[0]); k++) {
		char *o = rep(opens[k], FS_GLOB_MAX_NESTING, "a|b|*");
		char *c = rep(")", FS_GLOB_MAX_NESTING, ".txt");
		char *p = malloc(strlen(o) + strlen(c) + 1);
		char *name = rep("ab", 100, ".txt");
		struct timespec t0, t1;
		enum moat_rc rc;
		assert_non_null(p);
		strcpy(p, o);
		strcat(p, c);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = try_match(p, name, NULL, &hit, &err);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		assert_true(rc == MOAT_OK || rc == MOAT_ELIMIT);
		if (rc)
			assert_non_null(err.rule);
		/* FS_GLOB_MAX_STEPS is about a million: well under a second */
		assert_true((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 <
			    2000);
		free(p);
		free(o);
		free(c);
		free(name);
	}
}

static void test_expansions_refused(void **state)
{
	char *p = rep("{a,b}", 11, ""); /* 2048 expansions */
	char *seq = rep("{1..1}", 40, ""); /* 40 groups in sequence */

	(void)state;
	refused(p, "limits.glob_expansions");
	refused("{1..100000}", "limits.glob_expansions");
	refused(seq, "limits.glob_depth");
	free(p);
	free(seq);
}

static void test_segments_refused(void **state)
{
	char *p = rep("a/", FS_GLOB_MAX_SEGS + 1, "b");

	(void)state;
	refused(p, "limits.glob_segments");
	free(p);
}

/* A backtracking pattern spends its budget: an error, never an answer;
 * negated (whole pattern or extglob) it must not turn into a match. */
static void test_budget_is_an_error(void **state)
{
	char *bt = rep("*a", 14, "*b");
	char *name = rep("a", 250, "");
	char neg[256], ext[256];
	struct moat_err err = {0};
	bool hit = true;

	(void)state;
	snprintf(neg, sizeof(neg), "!%s", bt);
	snprintf(ext, sizeof(ext), "x!(%s)", bt);
	assert_int_equal(try_match(bt, name, NULL, &hit, &err), MOAT_ELIMIT);
	assert_string_equal(err.rule, "limits.glob_steps");
	assert_false(hit);
	memset(&err, 0, sizeof(err));
	hit = true;
	assert_int_equal(try_match(neg, name, NULL, &hit, &err), MOAT_ELIMIT);
	assert_string_equal(err.rule, "limits.glob_steps");
	assert_false(hit);
	memset(&err, 0, sizeof(err));
	hit = true;
	name[0] = 'x';
	assert_int_equal(try_match(ext, name, NULL, &hit, &err), MOAT_ELIMIT);
	assert_string_equal(err.rule, "limits.glob_steps");
	assert_false(hit);
	free(bt);
	free(name);
}

/* Many '*' groups: the recursion bound stops it before the stack does. */
static void test_recursion_bound(void **state)
{
	char *p = rep("*a", FS_GLOB_MAX_RECURSION + 10, "");
	char *name = rep("a", 2000, "");
	struct moat_err err = {0};
	bool hit = true;

	(void)state;
	assert_int_equal(try_match(p, name, NULL, &hit, &err), MOAT_ELIMIT);
	assert_non_null(err.rule);
	assert_false(hit);
	free(p);
	free(name);
}

/* The deadline and cancellation stop a long match. */
static void test_deadline_and_cancel(void **state)
{
	char *bt = rep("*a", 14, "*b");
	char *name = rep("a", 250, "");
	struct call_ctx ctx;
	struct moat_err err = {0};
	struct timespec ts = {0, 3 * 1000 * 1000};
	bool hit = true;

	(void)state;
	callctx_init(&ctx, "t", 1, 1 << 20);
	nanosleep(&ts, NULL);
	assert_int_equal(try_match(bt, name, &ctx, &hit, &err), MOAT_ETIMEOUT);
	assert_false(hit);
	callctx_release(&ctx);
	callctx_init(&ctx, "t", 0, 1 << 20);
	callctx_cancel(&ctx);
	memset(&err, 0, sizeof(err));
	assert_int_equal(try_match(bt, name, &ctx, &hit, &err), MOAT_ECANCELLED);
	callctx_release(&ctx);
	free(bt);
	free(name);
}

/* Paths of many segments (more than the matcher keeps on its stack). */
static void test_deep_paths(void **state)
{
	char *path = rep("d/", 1000, "x.c");

	(void)state;
	assert_true(matches("**/x.c", path));
	assert_false(matches("**/y.c", path));
	assert_true(matches("!**/y.c", path));
	free(path);
}

static void test_list(void **state)
{
	struct fs_globs gs = {0};
	struct moat_err err = {0};
	bool hit = false;
	char *deep = rep("@(", 20, "x))))))))))))))))))))");

	(void)state;
	assert_int_equal(fs_globs_add(&gs, "*.o", "excludePatterns", 0, &err), MOAT_OK);
	assert_int_equal(fs_globs_add(&gs, "**/tmp/**", "excludePatterns", 1, &err), MOAT_OK);
	assert_int_equal(fs_globs_any(&gs, "a/tmp/b", NULL, &hit, &err), MOAT_OK);
	assert_true(hit);
	assert_int_equal(fs_globs_any(&gs, "a.c", NULL, &hit, &err), MOAT_OK);
	assert_false(hit);
	assert_int_equal(fs_globs_add(&gs, deep, "excludePatterns", 2, &err), MOAT_ELIMIT);
	assert_string_equal(err.rule, "limits.glob_depth");
	assert_non_null(strstr(err.msg, "excludePatterns/2"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(fs_globs_add(&gs, "x", "excludePatterns", FS_GLOB_MAX_PATTERNS, &err),
			 MOAT_ELIMIT);
	assert_string_equal(err.rule, "limits.glob_patterns");
	fs_globs_free(&gs);
	free(deep);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_semantics),
		cmocka_unit_test(test_length_refused),
		cmocka_unit_test(test_nesting_refused),
		cmocka_unit_test(test_nesting_at_bound),
		cmocka_unit_test(test_expansions_refused),
		cmocka_unit_test(test_segments_refused),
		cmocka_unit_test(test_budget_is_an_error),
		cmocka_unit_test(test_recursion_bound),
		cmocka_unit_test(test_deadline_and_cancel),
		cmocka_unit_test(test_deep_paths),
		cmocka_unit_test(test_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
