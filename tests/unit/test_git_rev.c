/*
 * test_git_rev.c - unit tests for the git family's revision vetting
 * (git_rev.c), the history walk git_branch uses (git_walk.c), the commit
 * recorded as touched (gitp_revparse) and libgit2 messages without
 * absolute paths (gitp_git_err).
 *
 * The history is made with libgit2 in a temporary directory: a line of
 * LINE commits on main and a side branch off its third commit.
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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "git/gitp.h"

#define LINE 40

static char base[256];
static git_repository *repo;
static git_oid line[LINE]; /* line[0] the root, line[LINE-1] HEAD */
static git_oid side;       /* child of line[2], on branch "side" */

static git_oid commit_on(const char *ref, const git_oid *parent, int when, const char *msg)
{
	git_signature *sig = NULL;
	git_treebuilder *tb = NULL;
	git_tree *tree = NULL;
	git_commit *p = NULL;
	git_oid blob, tid, id;
	char text[64];

	snprintf(text, sizeof(text), "%s\n", msg);
	assert_int_equal(git_signature_new(&sig, "T", "t@example.org", 1700000000 + when, 0), 0);
	assert_int_equal(git_blob_create_from_buffer(&blob, repo, text, strlen(text)), 0);
	assert_int_equal(git_treebuilder_new(&tb, repo, NULL), 0);
	assert_int_equal(git_treebuilder_insert(NULL, tb, "a.txt", &blob, GIT_FILEMODE_BLOB), 0);
	assert_int_equal(git_treebuilder_write(&tid, tb), 0);
	assert_int_equal(git_tree_lookup(&tree, repo, &tid), 0);
	if (parent)
		assert_int_equal(git_commit_lookup(&p, repo, parent), 0);
	assert_int_equal(git_commit_create(&id, repo, ref, sig, sig, NULL, msg, tree, p ? 1 : 0,
					   (const git_commit **)&p),
			 0);
	git_commit_free(p);
	git_tree_free(tree);
	git_treebuilder_free(tb);
	git_signature_free(sig);
	return id;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/moat-gitrev-unit-XXXXXX", *real;
	char dir[400];

	(void)state;
	if (!mkdtemp(tmpl) || !(real = realpath(tmpl, NULL)))
		return -1;
	snprintf(base, sizeof(base), "%s", real);
	free(real);
	snprintf(dir, sizeof(dir), "%s/r", base);
	if (git_libgit2_init() < 0 || git_repository_init(&repo, dir, 0) < 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	git_repository_free(repo);
	git_libgit2_shutdown();
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* gitp_rev_check's answer for rev: rc, and the rule when refused. */
static enum moat_rc check(const char *rev, const char **rule)
{
	struct moat_err err = {0};
	enum moat_rc rc = gitp_rev_check("revision", rev, &err);

	*rule = err.rule;
	if (rc)
		assert_non_null(strstr(err.msg, "revision: "));
	return rc;
}

static void test_refused(void **state)
{
	static const char *const search[] = {
		":/^(a|a)+$", ":/", ":/!-foo", ":/!!bang", ":/fix", "HEAD^{/x}", "main^{/(a|a)+$}",
		"HEAD~2^{/fix}", "HEAD^{/}", "HEAD^{/!-foo}", "v1^{}^{/a:b}", "@{1}^{/x}",
		"HEAD^{commit}^{/x}", ":a.txt", ":0:a.txt", ":", "HEAD^{/x}:a.txt",
		"main@{u}", "main@{upstream}", "@{U}", "HEAD@{push}", "@{UpStReAm}~1",
		"abcdefgh@", "main@", "HEAD^{", "HEAD@{1", "HEAD^{/x",
	};
	const char *rule;

	(void)state;
	for (size_t i = 0; i < sizeof(search) / sizeof(search[0]); i++) {
		if (check(search[i], &rule) == MOAT_OK)
			fail_msg("accepted: %s", search[i]);
		assert_string_equal(rule, "git.revision_refused");
	}
	assert_int_equal(check("-f", &rule), MOAT_EINVAL);
	assert_string_equal(rule, "git.revision_option");
	assert_int_equal(check("--output=/tmp/x", &rule), MOAT_EINVAL);
	assert_int_equal(check("", &rule), MOAT_EINVAL);
	/* generations: ~n, ~~, ^ and ^n, summed over the revision */
	assert_int_equal(check("HEAD~10001", &rule), MOAT_ELIMIT);
	assert_string_equal(rule, "git.revision_steps");
	assert_int_equal(check("HEAD~100000000", &rule), MOAT_ELIMIT);
	assert_int_equal(check("HEAD~2147483647~2147483647", &rule), MOAT_ELIMIT);
	assert_int_equal(check("HEAD~99999999999999999999999999", &rule), MOAT_ELIMIT);
	assert_int_equal(check("HEAD~5000~5000~1", &rule), MOAT_ELIMIT);
	assert_int_equal(check("HEAD~10000^", &rule), MOAT_ELIMIT);
	{
		char longrev[GITP_REV_MAX_LEN + 8];
		memset(longrev, 'a', sizeof(longrev) - 1);
		longrev[sizeof(longrev) - 1] = '\0';
		assert_int_equal(check(longrev, &rule), MOAT_ELIMIT);
	}
}

static void test_allowed(void **state)
{
	static const char *const ok[] = {
		"HEAD", "@", "main", "HEAD~3", "HEAD^", "HEAD^2", "HEAD^^^", "HEAD~~~", "HEAD~10000",
		"HEAD~5000~5000", "HEAD^0", "v1.0^{commit}", "v1^{}", "HEAD^{tree}", "main@{2}",
		"@{-1}", "HEAD@{1}", "main@{yesterday}", "HEAD:docs/a.md", "HEAD:/a.txt",
		"HEAD:x:/y^{/z}", "HEAD:path/with@", "HEAD:a~100000000", "refs/heads/--output=x",
		"HEAD@{/x}", " :/x", "%3A%2Fx", "0123456789abcdef", "a@b",
	};
	const char *rule;

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (check(ok[i], &rule) != MOAT_OK)
			fail_msg("refused: %s", ok[i]);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void test_history(void **state)
{
	char msg[64], hex[GIT_OID_HEXSZ + 1];
	struct call_ctx ctx;
	struct moat_err err = {0};
	git_object *o = NULL;
	uint64_t t0;

	(void)state;
	for (int i = 0; i < LINE; i++) {
		snprintf(msg, sizeof(msg), "%s %d", i % 2 ? "aaaaaaaaaaaaaaaaaaaaaaaaaaaaab" : "c", i);
		line[i] = commit_on("HEAD", i ? &line[i - 1] : NULL, i, msg);
	}
	side = commit_on("refs/heads/side", &line[2], 100, "side");

	/* a revision resolved: the commit is recorded as touched */
	callctx_init(&ctx, "git_show", 5000, 1 << 20);
	assert_int_equal(gitp_revparse(&ctx, repo, "revision", "HEAD~3", GIT_OBJECT_COMMIT, &o, &err),
			 MOAT_OK);
	gitp_oid_str(&line[LINE - 4], hex);
	assert_string_equal(json_string_value(json_object_get(ctx.touched, "commit")), hex);
	git_object_free(o);
	/* a tree named through a commit records the commit */
	assert_int_equal(gitp_revparse(&ctx, repo, "target", "side", GIT_OBJECT_TREE, &o, &err),
			 MOAT_OK);
	gitp_oid_str(&side, hex);
	assert_string_equal(json_string_value(json_object_get(ctx.touched, "commit")), hex);
	git_object_free(o);

	/* the message searches are refused before libgit2 runs them: at once */
	t0 = now_us();
	assert_int_equal(gitp_revparse(&ctx, repo, "revision", ":/^(a|a)+$", GIT_OBJECT_COMMIT, &o,
				       &err),
			 MOAT_EINVAL);
	assert_string_equal(err.rule, "git.revision_refused");
	assert_non_null(strstr(err.msg, "git_log"));
	assert_int_equal(gitp_revparse(&ctx, repo, "revision", "HEAD^{/(a|a)+$}",
				       GIT_OBJECT_COMMIT, &o, &err),
			 MOAT_EINVAL);
	assert_true(now_us() - t0 < 50000);
	assert_null(o);
	/* a revision going past the root is "not found", not a crash */
	assert_int_equal(gitp_revparse(&ctx, repo, "revision", "HEAD~5000", GIT_OBJECT_COMMIT, &o,
				       &err),
			 MOAT_ENOTFOUND);
	/* a name holding "-g": answered here when libgit2 would leak on it,
	 * still found when it is a branch, still read as `git describe` */
	assert_int_equal(gitp_revparse(&ctx, repo, "revision", "fix-gui~1", GIT_OBJECT_COMMIT, &o,
				       &err),
			 MOAT_ENOTFOUND);
	assert_non_null(strstr(err.msg, "revision: revspec 'fix-gui' not found"));
	{
		git_reference *ref = NULL;
		git_commit *c = NULL;
		assert_int_equal(git_commit_lookup(&c, repo, &line[5]), 0);
		assert_int_equal(git_branch_create(&ref, repo, "fix-gui", c, 0), 0);
		git_reference_free(ref);
		git_commit_free(c);
	}
	assert_int_equal(gitp_revparse(&ctx, repo, "revision", "fix-gui~1", GIT_OBJECT_COMMIT, &o,
				       &err),
			 MOAT_OK);
	assert_true(git_oid_equal(git_object_id(o), &line[4]));
	git_object_free(o);
	gitp_oid_str(&line[7], hex);
	snprintf(msg, sizeof(msg), "v1.0-2-g%.10s", hex);
	assert_int_equal(gitp_revparse(&ctx, repo, "revision", msg, GIT_OBJECT_COMMIT, &o, &err),
			 MOAT_OK);
	assert_true(git_oid_equal(git_object_id(o), &line[7]));
	git_object_free(o);
	callctx_release(&ctx);
}

static void test_reaches(void **state)
{
	struct call_ctx ctx;
	struct moat_err err = {0};
	struct gitp_oidset no = {0};
	size_t steps = 0;
	bool yes;

	(void)state;
	callctx_init(&ctx, "git_branch", 5000, 1 << 20);
	assert_int_equal(gitp_reaches(&ctx, repo, &line[LINE - 1], &line[0], &no, &steps, &yes,
				      &err), MOAT_OK);
	assert_true(yes);
	assert_int_equal(gitp_reaches(&ctx, repo, &side, &line[2], &no, &steps, &yes, &err), MOAT_OK);
	assert_true(yes);
	assert_int_equal(gitp_reaches(&ctx, repo, &side, &side, &no, &steps, &yes, &err), MOAT_OK);
	assert_true(yes);
	/* side is not in main's history; the walk reads it all once ... */
	steps = 0;
	assert_int_equal(gitp_reaches(&ctx, repo, &line[LINE - 1], &side, &no, &steps, &yes, &err),
			 MOAT_OK);
	assert_false(yes);
	assert_int_equal(steps, LINE);
	assert_true(gitp_oidset_has(&no, &line[0]));
	/* ... and a second walk over the same history stops at once */
	steps = 0;
	assert_int_equal(gitp_reaches(&ctx, repo, &line[LINE - 2], &side, &no, &steps, &yes, &err),
			 MOAT_OK);
	assert_false(yes);
	assert_int_equal(steps, 0);
	gitp_oidset_free(&no);
	/* a cancelled call stops the walk with its rc */
	callctx_cancel(&ctx);
	steps = 255;
	assert_int_equal(gitp_reaches(&ctx, repo, &line[LINE - 1], &side, NULL, &steps, &yes, &err),
			 MOAT_ECANCELLED);
	callctx_release(&ctx);
}

static void test_oidset(void **state)
{
	struct gitp_oidset s = {0};
	git_oid id, zero;

	(void)state;
	memset(&zero, 0, sizeof(zero));
	for (unsigned int i = 1; i <= 5000; i++) {
		memset(&id, 0, sizeof(id));
		memcpy(id.id, &i, sizeof(i));
		id.id[GIT_OID_RAWSZ - 1] = 1;
		assert_int_equal(gitp_oidset_add(&s, &id), 1);
		assert_int_equal(gitp_oidset_add(&s, &id), 0);
	}
	assert_int_equal(s.n, 5000);
	assert_true(gitp_oidset_has(&s, &id));
	assert_int_equal(gitp_oidset_add(&s, &zero), 0);
	assert_false(gitp_oidset_has(&s, &zero));
	gitp_oidset_free(&s);
	assert_false(gitp_oidset_has(&s, &id));
}

static void test_scrub(void **state)
{
	struct gitp_repo r[1];
	struct moat_err err = {0};
	char wd[300], gd[320], msg[2048];

	(void)state;
	memset(r, 0, sizeof(r));
	snprintf(wd, sizeof(wd), "%s/r", base);
	snprintf(gd, sizeof(gd), "%s/r/.git", base);
	r[0].name = "r";
	r[0].path = wd;
	r[0].workdir = wd;
	r[0].gitdir = gd;
	r[0].commondir = gd;
	gitp_fam.repos = r;
	gitp_fam.nrepos = 1;
	snprintf(msg, sizeof(msg), "failed to open '%s/objects/pack/x.idx' and '%s/docs/a.md' "
		 "and '%s' and '/etc/outside/thing' and %s/", gd, wd, wd, gd);
	git_error_set_str(GIT_ERROR_OS, msg);
	gitp_git_err(&err, MOAT_EUPSTREAM, "path");
	assert_string_equal(err.msg, "path: failed to open '.git/objects/pack/x.idx' and "
				     "'docs/a.md' and '.' and '(a path outside the repository)' and "
				     ".git");
	assert_null(strstr(err.msg, base));
	gitp_fam.repos = NULL;
	gitp_fam.nrepos = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused), cmocka_unit_test(test_allowed),
		cmocka_unit_test(test_oidset),	cmocka_unit_test(test_history),
		cmocka_unit_test(test_reaches), cmocka_unit_test(test_scrub),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
