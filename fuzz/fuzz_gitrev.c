/*
 * fuzz_gitrev.c - libFuzzer target for the git family's revision vetting
 * (gitp_rev_check, git_rev.c) and what it lets through to libgit2's
 * revision parser (gitp_revparse).
 *
 * The input, cut at its first NUL, is vetted. Checks:
 *   - a refusal is MOAT_EINVAL or MOAT_ELIMIT, names the field, carries a
 *     git.revision_* rule and names it in the text;
 *   - an accepted revision is one that libgit2 1.5's revparse() would not
 *     turn into a commit-message search (handle_grep_syntax) nor walk back
 *     more than GITP_REV_MAX_STEPS generations: an independent model of its
 *     main loop below, written from libgit2's revparse.c grammar, decides;
 *   - an accepted revision is then resolved by gitp_revparse in a small
 *     repository made at start-up (a few commits, a branch, a tag, a
 *     reflog), which must not crash and must answer a moat_rc.
 * The repository lives in a temporary directory for the process's life.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "git/gitp.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static git_repository *repo;

static int commit(const char *msg, const git_oid *parent, git_oid *out)
{
	git_signature *sig = NULL;
	git_treebuilder *tb = NULL;
	git_tree *tree = NULL;
	git_commit *p = NULL;
	git_oid blob, tid;
	int e;

	e = git_signature_new(&sig, "F", "f@example.org", 1700000000, 0);
	if (!e)
		e = git_blob_create_from_buffer(&blob, repo, msg, strlen(msg));
	if (!e)
		e = git_treebuilder_new(&tb, repo, NULL);
	if (!e)
		e = git_treebuilder_insert(NULL, tb, "f.txt", &blob, GIT_FILEMODE_BLOB);
	if (!e)
		e = git_treebuilder_write(&tid, tb);
	if (!e)
		e = git_tree_lookup(&tree, repo, &tid);
	if (!e && parent)
		e = git_commit_lookup(&p, repo, parent);
	if (!e)
		e = git_commit_create(out, repo, "HEAD", sig, sig, NULL, msg, tree, p ? 1 : 0,
				      (const git_commit **)&p);
	git_commit_free(p);
	git_tree_free(tree);
	git_treebuilder_free(tb);
	git_signature_free(sig);
	return e;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/moat-fuzz-gitrev-XXXXXX";
	git_oid a, b, c;
	git_object *o = NULL;

	(void)argc;
	(void)argv;
	if (!mkdtemp(dir) || git_libgit2_init() < 0 || git_repository_init(&repo, dir, 0) < 0 ||
	    commit("aaaaaaaaaaaaaaaab one\n", NULL, &a) || commit("aaaaaaab two\n", &a, &b) ||
	    commit("three: fix\n", &b, &c) ||
	    git_object_lookup(&o, repo, &b, GIT_OBJECT_COMMIT) < 0) {
		fprintf(stderr, "fuzz_gitrev: cannot make the repository\n");
		abort();
	}
	{
		git_reference *ref = NULL;
		git_oid tag;
		git_signature *sig = NULL;
		git_branch_create(&ref, repo, "side", (git_commit *)o, 0);
		git_reference_free(ref);
		git_signature_new(&sig, "F", "f@example.org", 1700000000, 0);
		git_tag_create(&tag, repo, "v1", o, sig, "tag\n", 0);
		git_signature_free(sig);
	}
	git_object_free(o);
	return 0;
}

/* Would libgit2 1.5's revparse() search messages or walk back more than
 * GITP_REV_MAX_STEPS generations on s? A model of its main loop: '^{' and
 * '@{' groups run to the first '}'; ':' makes the rest a path (a search
 * when nothing precedes it and it starts with '/'); '~' and '^' count as
 * extract_how_many() does. */
static bool costly(const char *s)
{
	long long steps = 0;
	size_t pos = 0;

	if (s[0] == ':')
		return s[1] == '/';
	while (s[pos]) {
		char k = s[pos];
		if ((k == '^' || k == '@') && s[pos + 1] == '{') {
			const char *e = strchr(s + pos + 2, '}');
			if (!e)
				return false; /* libgit2: invalid spec, nothing run */
			if (k == '^' && s[pos + 2] == '/')
				return true;
			pos = (size_t)(e - s) + 1;
		} else if (k == '~' || k == '^') {
			long long acc = 0;
			do {
				do {
					pos++;
					acc++;
				} while (s[pos] == k && k == '~');
				if (s[pos] >= '0' && s[pos] <= '9') {
					long long v = 0;
					while (s[pos] >= '0' && s[pos] <= '9') {
						if (v < 1000000000000LL)
							v = v * 10 + (s[pos] - '0');
						pos++;
					}
					acc += v - 1;
				}
			} while (s[pos] == k && k == '~');
			steps += k == '~' ? acc : (acc > 0);
			if (steps > GITP_REV_MAX_STEPS)
				return true;
		} else if (k == ':') {
			return false;
		} else {
			pos++;
		}
	}
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[GITP_REV_MAX_LEN * 2 + 1];
	struct moat_err err = {0};
	git_object *o = NULL;
	enum moat_rc rc;

	if (size >= sizeof(s))
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	rc = gitp_rev_check("revision", s, &err);
	if (rc != MOAT_OK) {
		if ((rc != MOAT_EINVAL && rc != MOAT_ELIMIT) || !err.rule ||
		    strncmp(err.rule, "git.revision_", 13) != 0 ||
		    strncmp(err.msg, "revision: ", 10) != 0 || !strstr(err.msg, err.rule))
			abort();
		return 0;
	}
	if (err.msg[0] || costly(s) || s[0] == '-' || strlen(s) > GITP_REV_MAX_LEN)
		abort();
	rc = gitp_revparse(NULL, repo, "revision", s, GIT_OBJECT_ANY, &o, &err);
	if ((rc == MOAT_OK) != (o != NULL) || rc > MOAT_EINTERNAL)
		abort();
	git_object_free(o);
	return 0;
}
