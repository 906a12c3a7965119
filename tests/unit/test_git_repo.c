/*
 * test_git_repo.c - unit tests for src/providers/git/git_repo.c: repo_path
 * is a lookup key (exact name, configured path, or a path whose realpath
 * is a configured repository's), never a prefix or parent match; and
 * revisions reach libgit2's parser only, a leading '-' refused before it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "git/gitp.h"

static char base[256];

static char *at(const char *rel)
{
	static char buf[4][512];
	static int k;
	char *b = buf[k++ % 4];

	snprintf(b, 512, "%s/%s", base, rel);
	return b;
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/moat-git-unit-XXXXXX", *real;

	(void)state;
	if (!mkdtemp(tmpl) || !(real = realpath(tmpl, NULL)))
		return -1;
	snprintf(base, sizeof(base), "%s", real);
	free(real);
	mkdir(at("repo"), 0700);
	mkdir(at("repo/.git"), 0700);
	mkdir(at("repo/sub"), 0700);
	mkdir(at("other"), 0700);
	mkdir(at("repo2"), 0700);
	if (symlink(at("other"), at("repo/link-to-other")) || symlink(at("repo"), at("alias")))
		return -1;
	return git_libgit2_init() < 0 ? -1 : 0;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int teardown(void **state)
{
	(void)state;
	git_libgit2_shutdown();
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void test_find(void **state)
{
	struct gitp_repo r[2];

	(void)state;
	memset(r, 0, sizeof(r));
	r[0].name = "moat";
	r[0].path = strdup(at("repo"));
	r[0].workdir = strdup(at("repo"));
	r[0].gitdir = strdup(at("repo/.git"));
	r[1].name = "two";
	r[1].path = strdup(at("repo2"));
	r[1].workdir = strdup(at("repo2"));
	r[1].gitdir = strdup(at("repo2/.git"));
	assert_ptr_equal(gitp_find(r, 2, "moat"), &r[0]);
	assert_ptr_equal(gitp_find(r, 2, "two"), &r[1]);
	assert_ptr_equal(gitp_find(r, 2, at("repo")), &r[0]);
	assert_ptr_equal(gitp_find(r, 2, at("repo/")), &r[0]);
	assert_ptr_equal(gitp_find(r, 2, at("repo/.git")), &r[0]);
	assert_ptr_equal(gitp_find(r, 2, at("repo/sub/..")), &r[0]);
	assert_ptr_equal(gitp_find(r, 2, at("alias")), &r[0]); /* the same repository */
	/* refused: not configured, a parent, a child, an escape, a symlink out */
	assert_null(gitp_find(r, 2, at("other")));
	assert_null(gitp_find(r, 2, at("repo/../other")));
	assert_null(gitp_find(r, 2, at("repo/link-to-other")));
	assert_null(gitp_find(r, 2, at("repo/sub")));
	assert_null(gitp_find(r, 2, base));
	assert_null(gitp_find(r, 2, at("repo-nope")));
	assert_null(gitp_find(r, 2, "repo"));   /* relative paths are not keys */
	assert_null(gitp_find(r, 2, "MOAT"));   /* names are exact */
	assert_null(gitp_find(r, 2, "moa"));
	assert_null(gitp_find(r, 2, ""));
	assert_null(gitp_find(r, 2, NULL));
	assert_null(gitp_find(r, 2, "/"));
	for (int i = 0; i < 2; i++) {
		free(r[i].path);
		free(r[i].workdir);
		free(r[i].gitdir);
	}
}

static void test_revparse(void **state)
{
	git_repository *h = NULL;
	git_object *o = NULL;
	struct moat_err err = {0};
	char dir[600];

	(void)state;
	snprintf(dir, sizeof(dir), "%s", at("repo2/r"));
	assert_int_equal(git_repository_init(&h, dir, 0), 0);
	assert_int_equal(gitp_revparse(NULL, h, "target", "--output=/tmp/x", GIT_OBJECT_ANY, &o, &err),
			 MOAT_EINVAL);
	assert_non_null(strstr(err.msg, "target: must not start with '-'"));
	assert_null(o);
	assert_int_equal(gitp_revparse(NULL, h, "revision", "-f", GIT_OBJECT_COMMIT, &o, &err),
			 MOAT_EINVAL);
	assert_int_equal(gitp_revparse(NULL, h, "revision", "", GIT_OBJECT_COMMIT, &o, &err), MOAT_EINVAL);
	assert_int_equal(gitp_revparse(NULL, h, "target", "main@{upstream}", GIT_OBJECT_ANY, &o, &err),
			 MOAT_EINVAL);
	assert_non_null(strstr(err.msg, "target: @{upstream} and @{push} are not supported"));
	assert_int_equal(gitp_revparse(NULL, h, "target", "@{U}", GIT_OBJECT_ANY, &o, &err), MOAT_EINVAL);
	assert_int_equal(gitp_revparse(NULL, h, "target", "HEAD@{push}~1", GIT_OBJECT_ANY, &o, &err),
			 MOAT_EINVAL);
	assert_int_equal(gitp_revparse(NULL, h, "revision", "HEAD", GIT_OBJECT_COMMIT, &o, &err),
			 MOAT_ENOTFOUND);
	assert_non_null(strstr(err.msg, "revision: "));
	assert_int_equal(gitp_revparse(NULL, h, "revision", "nope..", GIT_OBJECT_COMMIT, &o, &err) != MOAT_OK,
			 1);
	git_repository_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_revparse),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
