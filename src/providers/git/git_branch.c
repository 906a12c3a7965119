/*
 * git_branch.c - git_branch: local branches (`git branch`), remote-tracking
 * branches (`git branch -r`) or both (`git branch -a`), sorted by name, the
 * current one starred, a detached HEAD shown as git shows it, optionally
 * only branches whose history contains (`--contains`) or does not contain
 * (`--no-contains`) a commit. Commits are named through libgit2's revision
 * parser; containment is the family's own walk (git_walk.c: counted,
 * checked against the deadline and cancellation every 256 commits, history
 * shared between branches read once). Thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitp.h"

struct br {
	char *ref;    /* full reference name; owned */
	char *target; /* symbolic target's short name or NULL; owned */
	git_oid id;
	bool resolved;
	bool remote;
	bool current;
};

static int by_ref(const void *a, const void *b)
{
	return strcmp(((const struct br *)a)->ref, ((const struct br *)b)->ref);
}

/* What a contains / not_contains filter needs: the commit, and the
 * commits already known not to reach it (shared by every branch's walk, so
 * that branches sharing history read it once). */
struct filter {
	const git_oid *id; /* NULL: no filter */
	struct gitp_oidset known_not;
};

/* Does the history of tip pass f (contains it == want)? *keep; rc on the
 * deadline, a cancel or an error. */
static enum moat_rc pass(struct call_ctx *ctx, git_repository *h, struct filter *f,
			 const git_oid *tip, bool want, size_t *steps, bool *keep,
			 struct moat_err *err)
{
	bool yes = false;
	enum moat_rc rc;

	*keep = true;
	if (!f->id)
		return MOAT_OK;
	if ((rc = gitp_reaches(ctx, h, tip, f->id, &f->known_not, steps, &yes, err)))
		return rc;
	*keep = yes == want;
	return MOAT_OK;
}

/* Both filters. */
static enum moat_rc keep_tip(struct call_ctx *ctx, git_repository *h, struct filter *with,
			     struct filter *without, const git_oid *tip, size_t *steps, bool *keep,
			     struct moat_err *err)
{
	enum moat_rc rc = pass(ctx, h, with, tip, true, steps, keep, err);

	if (!rc && *keep)
		rc = pass(ctx, h, without, tip, false, steps, keep, err);
	return rc;
}

enum moat_rc gitp_branch_tool(struct call_ctx *ctx, void *data, json_t *args,
			      struct tool_result *out, struct moat_err *err)
{
	const char *type = json_string_value(json_object_get(args, "branch_type"));
	const char *with = json_string_value(json_object_get(args, "contains"));
	const char *without = json_string_value(json_object_get(args, "not_contains"));
	git_branch_t bt = strcmp(type, "local") == 0	? GIT_BRANCH_LOCAL
			  : strcmp(type, "remote") == 0 ? GIT_BRANCH_REMOTE
							: GIT_BRANCH_ALL;
	struct gitp_repo *repo = NULL;
	git_repository *h = NULL;
	git_object *wobj = NULL, *nobj = NULL;
	git_branch_iterator *it = NULL;
	git_reference *ref = NULL;
	struct br *v = NULL;
	size_t nv = 0, cap = 0, steps = 0;
	struct filter fw = {0}, fn = {0};
	bool keep;
	json_t *arr = NULL;
	struct gitp_out o;
	enum moat_rc rc;
	git_branch_t got;
	int e;

	(void)data;
	gitp_out_init(&o, ctx, 0, NULL);
	if ((rc = gitp_open(ctx, args, &repo, &h, err)) ||
	    (with && (rc = gitp_revparse(ctx, h, "contains", with, GIT_OBJECT_COMMIT, &wobj, err))) ||
	    (without &&
	     (rc = gitp_revparse(ctx, h, "not_contains", without, GIT_OBJECT_COMMIT, &nobj, err))))
		goto out;
	fw.id = wobj ? git_object_id(wobj) : NULL;
	fn.id = nobj ? git_object_id(nobj) : NULL;
	if (git_branch_iterator_new(&it, h, bt) < 0) {
		rc = gitp_git_err(err, MOAT_EUPSTREAM, "branches");
		goto out;
	}
	while ((e = git_branch_next(&ref, &got, it)) == 0) {
		git_reference *res = NULL;
		struct br *b;
		if ((nv & 255) == 255 && (rc = callctx_check(ctx, err)))
			goto out;
		if (nv == cap) {
			struct br *nb = realloc(v, (cap = cap ? cap * 2 : 32) * sizeof(*v));
			if (!nb) {
				rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
				goto out;
			}
			v = nb;
		}
		b = &v[nv];
		memset(b, 0, sizeof(*b));
		b->remote = got == GIT_BRANCH_REMOTE;
		b->ref = strdup(git_reference_name(ref));
		if (git_reference_type(ref) == GIT_REFERENCE_SYMBOLIC) {
			const char *t = git_reference_symbolic_target(ref);
			b->target = strdup(strncmp(t, "refs/remotes/", 13) == 0 ? t + 13 : t);
		}
		if (git_reference_resolve(&res, ref) == 0) {
			b->id = *git_reference_target(res);
			b->resolved = true;
		}
		b->current = !b->remote && git_branch_is_head(ref) == 1;
		git_reference_free(res);
		git_reference_free(ref);
		ref = NULL;
		nv++;
		if (!b->ref) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (e != GIT_ITEROVER) {
		rc = gitp_git_err(err, MOAT_EUPSTREAM, "branches");
		goto out;
	}
	qsort(v, nv, sizeof(*v), by_ref);
	if (!(arr = json_array())) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	/* A detached HEAD is listed first, as git does (local and all only). */
	if (bt != GIT_BRANCH_REMOTE && git_repository_head_detached(h) == 1) {
		git_reference *head = NULL;
		if (git_repository_head(&head, h) == 0) {
			const git_oid *id = git_reference_target(head);
			char hex[GIT_OID_HEXSZ + 1];
			if ((rc = keep_tip(ctx, h, &fw, &fn, id, &steps, &keep, err))) {
				git_reference_free(head);
				goto out;
			}
			gitp_oid_str(id, hex);
			if (keep) {
				char name[64];
				snprintf(name, sizeof(name), "(HEAD detached at %.7s)", hex);
				gitp_out_printf(&o, "* %s\n", name);
				json_array_append_new(arr, json_pack("{s:s, s:b, s:b, s:s}", "name", name,
								     "remote", 0, "current", 1,
								     "commit", hex));
			}
		}
		git_reference_free(head);
	}
	for (size_t i = 0; i < nv; i++) {
		struct br *b = &v[i];
		const char *shown = b->ref + (b->remote ? 13 : 11);
		char hex[GIT_OID_HEXSZ + 1] = "";
		json_t *j;
		if ((rc = callctx_check(ctx, err)))
			goto out;
		if ((wobj || nobj) && !b->resolved)
			continue;
		if ((wobj || nobj) &&
		    (rc = keep_tip(ctx, h, &fw, &fn, &b->id, &steps, &keep, err)))
			goto out;
		if ((wobj || nobj) && !keep)
			continue;
		if (b->resolved)
			gitp_oid_str(&b->id, hex);
		if (!gitp_out_printf(&o, "%c %s%s%s%s\n", b->current ? '*' : ' ',
				     b->remote && bt == GIT_BRANCH_ALL ? "remotes/" : "", shown,
				     b->target ? " -> " : "", b->target ? b->target : ""))
			break;
		j = json_pack("{s:o, s:b, s:b, s:s}", "name", gitp_jstrz(shown), "remote", b->remote,
			      "current",
			      b->current, "commit", hex);
		if (j && b->target)
			json_object_set_new(j, "points_to", gitp_jstrz(b->target));
		json_array_append_new(arr, j);
	}
	if (json_array_size(arr) == 0 && !o.cut)
		gitp_out_puts(&o, "(no branches match)\n");
	{
		bool cut = o.cut;
		json_t *s = json_pack("{s:o, s:b}", "branches", arr, "truncated", cut);
		arr = NULL;
		rc = tool_result_take(out, s, gitp_out_take(&o, "the branch list"), err);
	}
out:
	for (size_t i = 0; i < nv; i++) {
		free(v[i].ref);
		free(v[i].target);
	}
	free(v);
	json_decref(arr);
	gitp_out_free(&o);
	git_reference_free(ref);
	git_branch_iterator_free(it);
	git_object_free(wobj);
	git_object_free(nobj);
	gitp_oidset_free(&fw.known_not);
	gitp_oidset_free(&fn.known_not);
	gitp_release(repo, h);
	return rc;
}
