/*
 * git_ref_diff.c - the tree builders of git_diff_unstaged, git_diff_staged,
 * git_diff (and the patch printer git_show shares) and git_show as they
 * were before the streaming writers replaced them (issue 17), kept
 * verbatim but for their names (gitp_X_tool -> ref_X_tool, gitp_diff_emit
 * -> ref_diff_emit, gitp_diff_opts -> ref_diff_opts). Included by
 * test_git_stream.c only; see git_ref.c.
 */

/* ==== src/providers/git/git_diff.c as it was ==== */
/*
 * git_diff.c - git_diff_unstaged (index to work tree, `git diff`),
 * git_diff_staged (HEAD to index, `git diff --cached`) and git_diff (a
 * revision's tree to the work tree, `git diff <target>`), and the patch
 * printer git_show shares.
 *
 * The patch is libgit2's (git_diff_print, the format `git diff` prints),
 * with renames found as git does by default. Only libgit2's built-in
 * filters (crlf, ident) apply when work tree files are read: there are no
 * external filter drivers and no textconv, whatever .gitattributes and the
 * repository's config say; diff.<driver>.binary and funcname settings are
 * honoured. The index is never written (no GIT_DIFF_UPDATE_INDEX). Output
 * stops at git.max_diff_bytes, at the call's output budget and at
 * git.max_files files, with a note; the deadline and cancellation are
 * checked while files are compared and while the patch is printed.
 * Thread-safe.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "git/gitp.h"

/* Biggest file libgit2 will load to diff as text; larger ones are "binary". */
#define DIFF_MAX_FILE ((git_off_t)64 << 20)

struct emit {
	struct call_ctx *ctx;
	struct gitp_out *o;
	json_t *files;
	json_t *hunks;  /* the current file's, borrowed from files */
	json_t *file;   /* the current file, borrowed */
	size_t lines;
	enum moat_rc rc;
	struct moat_err *err;
};

/* Called for each file as libgit2 compares: stop on a cancel or the
 * deadline; report progress (files compared, total unknown) now and then. */
static int progress_cb(const git_diff *diff, const char *old_path, const char *new_path,
		       void *payload)
{
	struct gitp_compare *c = payload;

	(void)diff;
	(void)old_path;
	(void)new_path;
	if ((++c->files & 255) == 0)
		callctx_progress(c->ctx, (double)c->files, 0, "files compared");
	return callctx_check(c->ctx, NULL) == MOAT_OK ? 0 : -1;
}

static void ref_diff_opts(json_t *args, struct gitp_compare *cmp, git_diff_options *opts)
{
	json_t *c = json_object_get(args, "context_lines");

	git_diff_options_init(opts, GIT_DIFF_OPTIONS_VERSION);
	opts->context_lines = json_is_integer(c) ? (uint32_t)json_integer_value(c) : 3;
	opts->interhunk_lines = 0;
	opts->max_size = DIFF_MAX_FILE;
	opts->flags = GIT_DIFF_NORMAL;
	opts->progress_cb = progress_cb;
	opts->payload = cmp;
}

static void new_file(struct emit *e, const git_diff_delta *d)
{
	const char *op = d->old_file.path ? d->old_file.path : "";
	const char *np = d->new_file.path ? d->new_file.path : "";

	e->hunks = json_array();
	e->file = json_pack("{s:o, s:o, s:s, s:b, s:o}", "old_path", gitp_jstrz(op), "new_path",
			    gitp_jstrz(np),
			    "status", gitp_delta_status(d->status), "binary",
			    (d->flags & GIT_DIFF_FLAG_BINARY) != 0, "hunks", e->hunks);
	if (!e->file)
		e->o->oom = true;
	else
		json_array_append_new(e->files, e->file);
}

/* A file header as git prints it: libgit2's, but a "--- a/x y" or
 * "+++ b/x y" line whose name holds a space ends with a tab, as git's do
 * (so the name's end is unambiguous). */
static bool put_file_header(struct gitp_out *o, const char *s, size_t n)
{
	while (n) {
		const char *nl = memchr(s, '\n', n);
		size_t len = nl ? (size_t)(nl - s) : n;
		bool tab = len > 4 && (memcmp(s, "--- ", 4) == 0 || memcmp(s, "+++ ", 4) == 0) &&
			   !(len == 13 && memcmp(s + 4, "/dev/null", 9) == 0) &&
			   memchr(s + 4, ' ', len - 4);
		if (!gitp_out_put(o, s, len) || (tab && !gitp_out_put(o, "\t", 1)) ||
		    (nl && !gitp_out_put(o, "\n", 1)))
			return false;
		len += nl ? 1 : 0;
		s += len;
		n -= len;
	}
	return true;
}

static int line_cb(const git_diff_delta *d, const git_diff_hunk *h, const git_diff_line *l,
		   void *payload)
{
	struct emit *e = payload;
	struct gitp_out *o = e->o;

	if ((++e->lines & 1023) == 0 && (e->rc = callctx_check(e->ctx, e->err)))
		return -1;
	if (l->origin == GIT_DIFF_LINE_FILE_HDR) {
		if (json_array_size(e->files) >= gitp_fam.lim.max_files) {
			char why[64];
			snprintf(why, sizeof(why), "git.max_files (%zu)", gitp_fam.lim.max_files);
			gitp_out_cut(o, why);
			return 1;
		}
		if (!gitp_out_charge(o, 160 + 2 * (strlen(d->old_file.path ? d->old_file.path : "") +
						   strlen(d->new_file.path ? d->new_file.path : ""))))
			return 1;
		new_file(e, d);
	} else if (l->origin == GIT_DIFF_LINE_HUNK_HDR && e->hunks && h) {
		size_t hl = h->header_len;
		while (hl && (h->header[hl - 1] == '\n' || h->header[hl - 1] == '\r'))
			hl--;
		if (!gitp_out_charge(o, 120 + hl))
			return 1;
		json_array_append_new(e->hunks,
				      json_pack("{s:o, s:i, s:i, s:i, s:i}", "header",
						gitp_jstr(h->header, hl),
						"old_start", h->old_start, "old_lines", h->old_lines,
						"new_start", h->new_start, "new_lines", h->new_lines));
	} else if (l->origin == GIT_DIFF_LINE_BINARY && e->file) {
		json_object_set_new(e->file, "binary", json_true());
	}
	if (l->origin == GIT_DIFF_LINE_CONTEXT || l->origin == GIT_DIFF_LINE_ADDITION ||
	    l->origin == GIT_DIFF_LINE_DELETION) {
		char c = l->origin;
		if (!gitp_out_put(o, &c, 1))
			return 1;
	}
	if (l->origin == GIT_DIFF_LINE_FILE_HDR ? !put_file_header(o, l->content, l->content_len)
						 : !gitp_out_put(o, l->content, l->content_len))
		return 1;
	return o->oom ? 1 : 0;
}

static enum moat_rc ref_diff_emit(struct call_ctx *ctx, git_diff *diff, struct gitp_out *o,
			    json_t *files, struct moat_err *err)
{
	struct emit e = {.ctx = ctx, .o = o, .files = files, .err = err};
	int r = git_diff_print(diff, GIT_DIFF_FORMAT_PATCH, line_cb, &e);

	if (e.rc)
		return e.rc;
	if (o->oom)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (r < 0 && r != GIT_EUSER)
		return gitp_git_err(err, MOAT_EUPSTREAM, "diff");
	return MOAT_OK;
}

/* Find renames as `git diff` does by default. */
static enum moat_rc find_renames(git_diff *diff, struct moat_err *err)
{
	git_diff_find_options fo;

	git_diff_find_options_init(&fo, GIT_DIFF_FIND_OPTIONS_VERSION);
	fo.flags = GIT_DIFF_FIND_RENAMES;
	if (git_diff_find_similar(diff, &fo) < 0)
		return gitp_git_err(err, MOAT_EUPSTREAM, "diff");
	return MOAT_OK;
}

enum diff_kind { UNSTAGED, STAGED, TARGET };

static enum moat_rc run(struct call_ctx *ctx, json_t *args, enum diff_kind kind,
			struct tool_result *out, struct moat_err *err)
{
	const char *target = json_string_value(json_object_get(args, "target"));
	struct gitp_repo *repo = NULL;
	git_repository *h = NULL;
	git_object *tree = NULL;
	git_diff *diff = NULL;
	git_diff_options opts;
	json_t *files = NULL;
	struct gitp_out o;
	enum moat_rc rc;
	char head[512];
	int e = 0;
	struct gitp_compare cmp = {.ctx = ctx};

	gitp_out_init(&o, ctx, gitp_fam.lim.max_diff_bytes, "max_diff_bytes");
	if ((rc = gitp_open(ctx, args, &repo, &h, err)))
		goto out;
	if (kind != STAGED && git_repository_is_bare(h)) {
		rc = gitp_refuse(err, MOAT_EINVAL, "git.bare_repository", "repo_path: %s is a "
				   "bare repository: it has no working tree", repo->name);
		goto out;
	}
	ref_diff_opts(args, &cmp, &opts);
	if (kind == TARGET) {
		if ((rc = gitp_revparse(ctx, h, "target", target, GIT_OBJECT_TREE, &tree, err)))
			goto out;
		e = git_diff_tree_to_workdir_with_index(&diff, h, (git_tree *)tree, &opts);
		snprintf(head, sizeof(head), "Diff with %s:\n", target);
	} else if (kind == STAGED) {
		int he = git_revparse_single(&tree, h, "HEAD^{tree}");
		if (he < 0 && he != GIT_ENOTFOUND && he != GIT_EUNBORNBRANCH) {
			rc = gitp_git_err(err, MOAT_EUPSTREAM, "HEAD");
			goto out;
		}
		if (he == 0)
			gitp_touch_head(ctx, h);
		e = git_diff_tree_to_index(&diff, h, (git_tree *)tree, NULL, &opts);
		snprintf(head, sizeof(head), "Staged changes:\n");
	} else {
		e = git_diff_index_to_workdir(&diff, h, NULL, &opts);
		snprintf(head, sizeof(head), "Unstaged changes:\n");
	}
	if (e < 0) {
		rc = callctx_check(ctx, err);
		if (!rc)
			rc = gitp_git_err(err, MOAT_EUPSTREAM, "diff");
		goto out;
	}
	if ((rc = find_renames(diff, err)))
		goto out;
	if (!(files = json_array())) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	gitp_out_puts(&o, head);
	if ((rc = ref_diff_emit(ctx, diff, &o, files, err)))
		goto out;
	if (json_array_size(files) == 0 && !o.cut)
		gitp_out_puts(&o, "(no changes)\n");
	{
		bool cut = o.cut;
		json_t *s = json_pack("{s:o, s:b}", "files", files, "truncated", cut);
		files = NULL;
		rc = tool_result_take(out, s, gitp_out_take(&o, "the diff"), err);
	}
out:
	json_decref(files);
	gitp_out_free(&o);
	git_diff_free(diff);
	git_object_free(tree);
	gitp_release(repo, h);
	return rc;
}

static enum moat_rc ref_diff_unstaged_tool(struct call_ctx *ctx, void *data, json_t *args,
				     struct tool_result *out, struct moat_err *err)
{
	(void)data;
	return run(ctx, args, UNSTAGED, out, err);
}

static enum moat_rc ref_diff_staged_tool(struct call_ctx *ctx, void *data, json_t *args,
				   struct tool_result *out, struct moat_err *err)
{
	(void)data;
	return run(ctx, args, STAGED, out, err);
}

static enum moat_rc ref_diff_tool(struct call_ctx *ctx, void *data, json_t *args,
			    struct tool_result *out, struct moat_err *err)
{
	(void)data;
	return run(ctx, args, TARGET, out, err);
}

/* ==== src/providers/git/git_show.c as it was ==== */
/*
 * git_show.c - git_show: one commit as `git show` prints it (the medium
 * format: commit, Merge, Author, Date, the indented message) followed by
 * its patch against its first parent (against the empty tree for a root
 * commit; a merge is shown as `git show --diff-merges=first-parent` would).
 * A tag is peeled to its commit. The patch is capped as every diff is,
 * and the comparison checks the deadline at each file (see git_diff.c).
 * Thread-safe.
 */
#include <stdio.h>
#include <string.h>

#include "git/gitp.h"

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

static enum moat_rc ref_show_tool(struct call_ctx *ctx, void *data, json_t *args,
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
	json_t *files = NULL, *cj = NULL;
	struct gitp_out o;
	enum moat_rc rc;
	char id[GIT_OID_HEXSZ + 1];
	unsigned int np;
	git_commit *c;
	struct gitp_compare cmp = {.ctx = ctx};

	(void)data;
	gitp_out_init(&o, ctx, gitp_fam.lim.max_diff_bytes, "max_diff_bytes");
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
	ref_diff_opts(args, &cmp, &opts);
	git_diff_find_options_init(&fo, GIT_DIFF_FIND_OPTIONS_VERSION);
	fo.flags = GIT_DIFF_FIND_RENAMES;
	if (git_diff_tree_to_tree(&diff, h, ptree, tree, &opts) < 0 ||
	    git_diff_find_similar(diff, &fo) < 0) {
		if (!(rc = callctx_check(ctx, err)))
			rc = gitp_git_err(err, MOAT_EUPSTREAM, "diff");
		goto out;
	}
	if (!(files = json_array()) || !(cj = commit_json(c, id, np))) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	gitp_out_charge(&o, json_string_length(json_object_get(cj, "message")) * 2 + 400);
	header(&o, c, id, np);
	if (git_diff_num_deltas(diff))
		gitp_out_puts(&o, "\n");
	if ((rc = ref_diff_emit(ctx, diff, &o, files, err)))
		goto out;
	{
		bool cut = o.cut;
		json_t *s = json_pack("{s:o, s:o, s:b}", "commit", cj, "files", files, "truncated",
				      cut);
		cj = files = NULL;
		rc = tool_result_take(out, s, gitp_out_take(&o, "the commit"), err);
	}
out:
	json_decref(files);
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
