/*
 * git_show.c - git_show: one commit as `git show` prints it (the medium
 * format: commit, Merge, Author, Date, the indented message) followed by
 * its patch against its first parent (against the empty tree for a root
 * commit; a merge is shown as `git show --diff-merges=first-parent` would).
 * A tag is peeled to its commit. The patch is capped as every diff is,
 * and the comparison checks the deadline at each file (see git_diff.c).
 *
 * structuredContent, {"commit":{...},"files":[...],"truncated"}, is
 * written with jsonw (output_streamed): the commit, one small object
 * whatever the diff's size, is still built as a jansson value and written
 * whole (jsonw_json); the files are streamed by gitp_diff_emit. Correct by
 * construction for the reasons git_diff.c gives; test builds validate it
 * anyway and test_git_stream.c compares the bytes with the old builder's.
 * Thread-safe.
 */
#include <stdio.h>
#include <string.h>

#include "gitp.h"

/* np: the parents to show (0 for a shallow clone's boundary commit, whose
 * parents are not in the repository: git shows it as a root). */
static json_t *commit_json(git_commit *c, const char *id, unsigned int np)
{
	const git_signature *a = git_commit_author(c), *m = git_commit_committer(c);
	char ad[40], cd[40], pid[GIT_OID_HEXSZ + 1];
	json_t *parents = json_array();

	gitp_time_iso(a->when.time, a->when.offset, ad, sizeof(ad));
	gitp_time_iso(m->when.time, m->when.offset, cd, sizeof(cd));
	for (unsigned int i = 0; parents && i < np; i++) {
		gitp_oid_str(git_commit_parent_id(c, i), pid);
		json_array_append_new(parents, json_string(pid));
	}
	return json_pack("{s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:s, s:o}", "id", id, "parents",
			 parents ? parents : json_array(), "author", gitp_jstrz(a->name), "email",
			 gitp_jstrz(a->email), "date", ad, "committer", gitp_jstrz(m->name),
			 "committer_email", gitp_jstrz(m->email), "commit_date", cd, "message",
			 gitp_jstrz(git_commit_message(c)));
}

/* The header and message in git's medium format. */
static void header(struct gitp_out *o, git_commit *c, const char *id, unsigned int np)
{
	const git_signature *a = git_commit_author(c);
	const char *msg = git_commit_message(c);
	char date[48], pid[GIT_OID_HEXSZ + 1];
	size_t ml = msg ? strlen(msg) : 0;

	gitp_out_printf(o, "commit %s\n", id);
	if (np > 1) {
		gitp_out_puts(o, "Merge:");
		for (unsigned int i = 0; i < np; i++) {
			gitp_oid_str(git_commit_parent_id(c, i), pid);
			gitp_out_printf(o, " %.7s", pid);
		}
		gitp_out_puts(o, "\n");
	}
	gitp_time_git(a->when.time, a->when.offset, date, sizeof(date));
	gitp_out_printf(o, "Author: %s <%s>\nDate:   %s\n\n", a->name, a->email, date);
	while (ml && msg[ml - 1] == '\n')
		ml--;
	for (size_t i = 0; i < ml;) {
		const char *nl = memchr(msg + i, '\n', ml - i);
		size_t n = nl ? (size_t)(nl - (msg + i)) : ml - i;
		gitp_out_puts(o, "    "); /* git indents empty lines too */
		gitp_out_put(o, msg + i, n);
		gitp_out_puts(o, "\n");
		i += n + 1;
	}
}

enum moat_rc gitp_show_tool(struct call_ctx *ctx, void *data, json_t *args,
			    struct tool_result *out, struct moat_err *err)
{
	const char *rev = json_string_value(json_object_get(args, "revision"));
	struct gitp_repo *repo = NULL;
	git_repository *h = NULL;
	git_object *obj = NULL;
	git_commit *parent = NULL;
	git_tree *tree = NULL, *ptree = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	git_diff_find_options fo;
	json_t *cj = NULL;
	struct gitp_doc doc;
	size_t nfiles = 0;
	struct gitp_out o;
	enum moat_rc rc;
	char id[GIT_OID_HEXSZ + 1];
	unsigned int np;
	git_commit *c;
	struct gitp_compare cmp = {.ctx = ctx};

	(void)data;
	gitp_out_init(&o, ctx, gitp_fam.lim.max_diff_bytes, "max_diff_bytes");
	gitp_doc_init(&doc);
	if ((rc = gitp_open(ctx, args, &repo, &h, err)) ||
	    (rc = gitp_revparse(ctx, h, "revision", rev, GIT_OBJECT_COMMIT, &obj, err)))
		goto out;
	c = (git_commit *)obj;
	gitp_oid_str(git_commit_id(c), id);
	if (git_commit_tree(&tree, c) < 0) {
		rc = gitp_git_err(err, MOAT_EUPSTREAM, "revision");
		goto out;
	}
	np = git_commit_parentcount(c);
	if (np > 0) {
		int e = git_commit_parent(&parent, c, 0);
		if (e == GIT_ENOTFOUND)
			np = 0;
		/* A shallow clone's boundary commit has its parent missing: it is
		 * shown against the empty tree, as git shows it. */
		if ((e < 0 && e != GIT_ENOTFOUND) || (e == 0 && git_commit_tree(&ptree, parent) < 0)) {
			rc = gitp_git_err(err, MOAT_EUPSTREAM, "revision");
			goto out;
		}
	}
	gitp_diff_opts(args, &cmp, &opts);
	git_diff_find_options_init(&fo, GIT_DIFF_FIND_OPTIONS_VERSION);
	fo.flags = GIT_DIFF_FIND_RENAMES;
	if (git_diff_tree_to_tree(&diff, h, ptree, tree, &opts) < 0 ||
	    git_diff_find_similar(diff, &fo) < 0) {
		if (!(rc = callctx_check(ctx, err)))
			rc = gitp_git_err(err, MOAT_EUPSTREAM, "diff");
		goto out;
	}
	/* {"commit":{...},"files":[...],"truncated":b}: the commit, one small
	 * object, as a tree; the files written as the patch is printed. */
	if (!(cj = commit_json(c, id, np)) || !jsonw_obj_begin(&doc.w) ||
	    !gitp_wkey(&doc.w, "commit") || !jsonw_json(&doc.w, cj) || !gitp_wkey(&doc.w, "files")) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	gitp_out_charge(&o, json_string_length(json_object_get(cj, "message")) * 2 + 400);
	json_decref(cj);
	cj = NULL;
	header(&o, c, id, np);
	if (git_diff_num_deltas(diff))
		gitp_out_puts(&o, "\n");
	if ((rc = gitp_diff_emit(ctx, diff, &o, &doc.w, &nfiles, err)))
		goto out;
	gitp_wkey(&doc.w, "truncated");
	jsonw_bool(&doc.w, o.cut);
	jsonw_obj_end(&doc.w);
	rc = gitp_doc_take(&doc, out, gitp_out_take(&o, "the commit"), err);
out:
	gitp_doc_free(&doc);
	json_decref(cj);
	gitp_out_free(&o);
	git_diff_free(diff);
	git_tree_free(tree);
	git_tree_free(ptree);
	git_commit_free(parent);
	git_object_free(obj);
	gitp_release(repo, h);
	return rc;
}
