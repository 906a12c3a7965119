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
 *
 * structuredContent's files array is written with jsonw as the patch is
 * printed (issue 17): a file's object when its header is printed, each
 * hunk when its header is, nothing per patch line; output_streamed.
 * Correct by construction, as git_log.c says: the keys are literals in
 * the order the tree builder had (old_path, new_path, status, binary,
 * hunks; header, old_start, old_lines, new_start, new_lines), paths and
 * headers through gitp_wstr, the status a static ASCII word, numbers
 * through jsonw_i64, booleans through jsonw_bool; the document is closed
 * by the same code on every path that answers. Test builds validate it
 * against DIFF_OUT anyway; test_git_stream.c compares the bytes with the
 * old tree builder's. Thread-safe.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gitp.h"

/* Biggest file libgit2 will load to diff as text; larger ones are "binary". */
#define DIFF_MAX_FILE ((git_off_t)64 << 20)

/*
 * The patch as libgit2 prints it, line by line, into the text and the
 * files array. A file's object is begun at its header with the paths and
 * status, which are known then; "binary" may still turn true at a later
 * "Binary files ... differ" line, so it and the hunks (written meanwhile
 * into a small buffer of their own) close the object when the next file
 * begins or the patch ends: the keys in the order the tree builder had.
 */
struct emit {
	struct call_ctx *ctx;
	struct gitp_out *o;
	struct jsonw *w;         /* the files array is open in it */
	size_t nfiles;
	bool open;               /* a file's object is open in w */
	bool binary;             /* the open file's "binary" */
	struct wire_buf hbuf;    /* the open file's hunks array */
	struct jsonw hw;
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

void gitp_diff_opts(json_t *args, struct gitp_compare *cmp, git_diff_options *opts)
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

/* End the open file's object: "binary", then "hunks" from hbuf. */
static bool close_file(struct emit *e)
{
	struct jsonw *w = e->w;

	if (!e->open)
		return true;
	e->open = false;
	if (!jsonw_arr_end(&e->hw) || !jsonw_done(&e->hw) || !gitp_wkey(w, "binary") ||
	    !jsonw_bool(w, e->binary) || !gitp_wkey(w, "hunks") ||
	    !jsonw_raw(w, e->hbuf.data, e->hbuf.len) || !jsonw_obj_end(w)) {
		e->o->oom = true;
		return false;
	}
	return true;
}

static void new_file(struct emit *e, const git_diff_delta *d)
{
	const char *op = d->old_file.path ? d->old_file.path : "";
	const char *np = d->new_file.path ? d->new_file.path : "";
	const char *st = gitp_delta_status(d->status);
	struct jsonw *w = e->w;

	if (!close_file(e))
		return;
	e->nfiles++;
	e->binary = (d->flags & GIT_DIFF_FLAG_BINARY) != 0;
	e->hbuf.len = 0;
	e->hbuf.memo = NULL;
	jsonw_init(&e->hw, &e->hbuf, 0);
	if (!jsonw_obj_begin(w) || !gitp_wkey(w, "old_path") || !gitp_wstrz(w, op) ||
	    !gitp_wkey(w, "new_path") || !gitp_wstrz(w, np) || !gitp_wkey(w, "status") ||
	    !jsonw_str(w, st, strlen(st)) || !jsonw_arr_begin(&e->hw))
		e->o->oom = true;
	else
		e->open = true;
}

/* A hunk of the open file: {"header","old_start","old_lines","new_start","new_lines"}. */
static void put_hunk(struct emit *e, const git_diff_hunk *h, size_t hl)
{
	struct jsonw *w = &e->hw;

	if (!jsonw_obj_begin(w) || !gitp_wkey(w, "header") || !gitp_wstr(w, h->header, hl) ||
	    !gitp_wkey(w, "old_start") || !jsonw_i64(w, h->old_start) ||
	    !gitp_wkey(w, "old_lines") || !jsonw_i64(w, h->old_lines) ||
	    !gitp_wkey(w, "new_start") || !jsonw_i64(w, h->new_start) ||
	    !gitp_wkey(w, "new_lines") || !jsonw_i64(w, h->new_lines) || !jsonw_obj_end(w))
		e->o->oom = true;
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
		if (e->nfiles >= gitp_fam.lim.max_files) {
			char why[64];
			snprintf(why, sizeof(why), "git.max_files (%zu)", gitp_fam.lim.max_files);
			gitp_out_cut(o, why);
			return 1;
		}
		if (!gitp_out_charge(o, 160 + 2 * (strlen(d->old_file.path ? d->old_file.path : "") +
						   strlen(d->new_file.path ? d->new_file.path : ""))))
			return 1;
		new_file(e, d);
	} else if (l->origin == GIT_DIFF_LINE_HUNK_HDR && e->open && h) {
		size_t hl = h->header_len;
		while (hl && (h->header[hl - 1] == '\n' || h->header[hl - 1] == '\r'))
			hl--;
		if (!gitp_out_charge(o, 120 + hl))
			return 1;
		put_hunk(e, h, hl);
	} else if (l->origin == GIT_DIFF_LINE_BINARY && e->open) {
		e->binary = true;
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

enum moat_rc gitp_diff_emit(struct call_ctx *ctx, git_diff *diff, struct gitp_out *o,
			    struct jsonw *w, size_t *nfiles, struct moat_err *err)
{
	struct emit e = {.ctx = ctx, .o = o, .w = w, .err = err};
	int r;

	wire_buf_init(&e.hbuf, NULL, 0);
	if (!jsonw_arr_begin(w))
		o->oom = true;
	r = o->oom ? 0 : git_diff_print(diff, GIT_DIFF_FORMAT_PATCH, line_cb, &e);
	if (!e.rc && !o->oom && close_file(&e) && !jsonw_arr_end(w))
		o->oom = true;
	wire_buf_release(&e.hbuf);
	*nfiles = e.nfiles;
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
	struct gitp_doc doc;
	size_t nfiles = 0;
	struct gitp_out o;
	enum moat_rc rc;
	char head[512];
	int e = 0;
	struct gitp_compare cmp = {.ctx = ctx};

	gitp_out_init(&o, ctx, gitp_fam.lim.max_diff_bytes, "max_diff_bytes");
	gitp_doc_init(&doc);
	if ((rc = gitp_open(ctx, args, &repo, &h, err)))
		goto out;
	if (kind != STAGED && git_repository_is_bare(h)) {
		rc = gitp_refuse(err, MOAT_EINVAL, "git.bare_repository", "repo_path: %s is a "
				   "bare repository: it has no working tree", repo->name);
		goto out;
	}
	gitp_diff_opts(args, &cmp, &opts);
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
	/* {"files":[...],"truncated":b}, written as the patch is printed. */
	if (!jsonw_obj_begin(&doc.w) || !gitp_wkey(&doc.w, "files")) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	gitp_out_puts(&o, head);
	if ((rc = gitp_diff_emit(ctx, diff, &o, &doc.w, &nfiles, err)))
		goto out;
	if (nfiles == 0 && !o.cut)
		gitp_out_puts(&o, "(no changes)\n");
	gitp_wkey(&doc.w, "truncated");
	jsonw_bool(&doc.w, o.cut);
	jsonw_obj_end(&doc.w);
	rc = gitp_doc_take(&doc, out, gitp_out_take(&o, "the diff"), err);
out:
	gitp_doc_free(&doc);
	gitp_out_free(&o);
	git_diff_free(diff);
	git_object_free(tree);
	gitp_release(repo, h);
	return rc;
}

enum moat_rc gitp_diff_unstaged_tool(struct call_ctx *ctx, void *data, json_t *args,
				     struct tool_result *out, struct moat_err *err)
{
	(void)data;
	return run(ctx, args, UNSTAGED, out, err);
}

enum moat_rc gitp_diff_staged_tool(struct call_ctx *ctx, void *data, json_t *args,
				   struct tool_result *out, struct moat_err *err)
{
	(void)data;
	return run(ctx, args, STAGED, out, err);
}

enum moat_rc gitp_diff_tool(struct call_ctx *ctx, void *data, json_t *args,
			    struct tool_result *out, struct moat_err *err)
{
	(void)data;
	return run(ctx, args, TARGET, out, err);
}
