/*
 * git_blame.c - git_blame: for each line of a file as committed at a
 * revision (HEAD by default), the commit that last changed it, its author
 * and date, in the layout of `git blame` ("<id> (<author> <date> <n>)
 * <line>", a boundary commit's id marked '^').
 *
 * libgit2's blame cannot be interrupted, so its input is bounded instead:
 * the file must be at most git.max_file_bytes, at most git.max_blame_lines
 * lines are blamed per call (start_line/end_line pick which), and the
 * history it may walk is bounded: when more than GITP_BLAME_MAX_COMMITS
 * commits are reachable from the revision (counted by a walk of our own,
 * which checks the deadline), blame follows first parents only and stops
 * GITP_BLAME_MAX_COMMITS back; lines older than that are attributed to
 * that boundary commit (marked '^', as `git blame A..B` does) and the
 * answer says so. Uncommitted changes in the work tree are not blamed.
 *
 * structuredContent, {"lines":[{"line","commit","author","email","date",
 * "text"}...],"truncated","history_limited"}, is written with jsonw line
 * by line, each once its text fitted (output_streamed). Correct by
 * construction, as git_log.c says (the line number through jsonw_i64,
 * ids and dates ASCII, names and the line's text through gitp_wstr); test
 * builds validate it anyway and test_git_stream.c compares the bytes with
 * the old tree builder's. Thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitp.h"

/* The offsets of the line starts of buf[0..len) (1-based lines), count in *n. */
static size_t *line_starts(const char *buf, size_t len, size_t *n)
{
	size_t cap = 64, k = 0;
	size_t *v = malloc(cap * sizeof(*v));

	for (size_t i = 0; v && i < len;) {
		const char *nl = memchr(buf + i, '\n', len - i);
		if (k + 1 >= cap) {
			size_t *nv = realloc(v, (cap *= 2) * sizeof(*v));
			if (!nv) {
				free(v);
				return NULL;
			}
			v = nv;
		}
		v[k++] = i;
		i = nl ? (size_t)(nl - buf) + 1 : len;
	}
	if (v)
		v[k] = len;
	*n = k;
	return v;
}

enum moat_rc gitp_blame_tool(struct call_ctx *ctx, void *data, json_t *args,
			     struct tool_result *out, struct moat_err *err)
{
	const char *path = json_string_value(json_object_get(args, "path"));
	const char *rev = json_string_value(json_object_get(args, "revision"));
	json_t *sl = json_object_get(args, "start_line"), *el = json_object_get(args, "end_line");
	struct gitp_repo *repo = NULL;
	git_repository *h = NULL;
	git_object *obj = NULL;
	git_tree *tree = NULL;
	git_tree_entry *ent = NULL;
	git_blob *blob = NULL;
	git_blame *blame = NULL;
	git_blame_options bo;
	struct gitp_doc doc;
	size_t *starts = NULL, nlines = 0, first, last, width = 1, awidth = 0, reach = 0;
	bool limited = false;
	struct gitp_out o;
	enum moat_rc rc;
	const char *buf;
	size_t len;

	(void)data;
	gitp_out_init(&o, ctx, 0, NULL);
	gitp_doc_init(&doc);
	if (!gitp_path_ok(path, false))
		return gitp_refuse(err, MOAT_EINVAL, "git.path_outside", "path: must be a relative "
				     "path inside the repository without '.' or '..' components");
	if ((rc = gitp_open(ctx, args, &repo, &h, err)) ||
	    (rc = gitp_revparse(ctx, h, "revision", rev ? rev : "HEAD", GIT_OBJECT_COMMIT, &obj, err)))
		goto out;
	if (git_commit_tree(&tree, (git_commit *)obj) < 0) {
		rc = gitp_git_err(err, MOAT_EUPSTREAM, "revision");
		goto out;
	}
	if (git_tree_entry_bypath(&ent, tree, path) < 0 ||
	    git_tree_entry_type(ent) != GIT_OBJECT_BLOB) {
		rc = moat_err_set(err, MOAT_ENOTFOUND, "path: no such file in %s at %.*s: %.*s",
				  repo->name, GITP_REV_MAX_LEN, rev ? rev : "HEAD", 300, path);
		goto out;
	}
	if (git_blob_lookup(&blob, h, git_tree_entry_id(ent)) < 0) {
		rc = gitp_git_err(err, MOAT_EUPSTREAM, "path");
		goto out;
	}
	len = (size_t)git_blob_rawsize(blob);
	if (len > gitp_fam.lim.max_file_bytes) {
		rc = gitp_refuse(err, MOAT_ELIMIT, "git.max_file_bytes", "path: the file (%zu bytes) exceeds "
				  "git.max_file_bytes (%zu)", len, gitp_fam.lim.max_file_bytes);
		goto out;
	}
	buf = git_blob_rawcontent(blob);
	if (!(starts = line_starts(buf, len, &nlines))) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	first = json_is_integer(sl) ? (size_t)json_integer_value(sl) : 1;
	last = json_is_integer(el) ? (size_t)json_integer_value(el) : nlines;
	if (nlines == 0 || first > nlines) {
		rc = gitp_refuse(err, MOAT_EINVAL, "git.line_range", "start_line: %.300s has %zu "
				 "lines", path, nlines);
		goto out;
	}
	if (last < first) {
		rc = gitp_refuse(err, MOAT_EINVAL, "git.line_range", "end_line: before start_line");
		goto out;
	}
	if (last > nlines)
		last = nlines;
	if (last - first + 1 > gitp_fam.lim.max_blame_lines) {
		char why[64];
		last = first + gitp_fam.lim.max_blame_lines - 1;
		snprintf(why, sizeof(why), "git.max_blame_lines (%zu)", gitp_fam.lim.max_blame_lines);
		gitp_out_cut(&o, why);
		o.cut = false; /* keep writing; the note is added at the end */
	}
	git_blame_options_init(&bo, GIT_BLAME_OPTIONS_VERSION);
	bo.newest_commit = *git_object_id(obj);
	bo.min_line = first;
	bo.max_line = last;
	if ((rc = gitp_count_reachable(ctx, h, git_object_id(obj), GITP_BLAME_MAX_COMMITS, &reach,
				       err)))
		goto out;
	if (reach > GITP_BLAME_MAX_COMMITS) {
		if ((rc = gitp_first_parent_back(ctx, h, git_object_id(obj), GITP_BLAME_MAX_COMMITS,
						 &bo.oldest_commit, err)))
			goto out;
		bo.flags |= GIT_BLAME_FIRST_PARENT;
		limited = true;
	}
	if (git_blame_file(&blame, h, path, &bo) < 0) {
		rc = gitp_git_err(err, MOAT_EUPSTREAM, "blame");
		goto out;
	}
	if ((rc = callctx_check(ctx, err)))
		goto out;
	/* {"lines":[...],"truncated":b,"history_limited":b}, line by line. */
	if (!jsonw_obj_begin(&doc.w) || !gitp_wkey(&doc.w, "lines") || !jsonw_arr_begin(&doc.w)) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t n = last; n >= 10; n /= 10)
		width++;
	for (size_t ln = first; ln <= last; ln++) {
		const git_blame_hunk *hk = git_blame_get_hunk_byline(blame, ln);
		size_t al = hk && hk->final_signature ? strlen(hk->final_signature->name) : 0;
		if (al > awidth)
			awidth = al;
	}
	for (size_t ln = first; ln <= last; ln++) {
		const git_blame_hunk *hk = git_blame_get_hunk_byline(blame, ln);
		const git_signature *s = hk ? hk->final_signature : NULL;
		const char *text = buf + starts[ln - 1];
		size_t tl = starts[ln] - starts[ln - 1];
		char id[GIT_OID_HEXSZ + 1] = "", date[48] = "", iso[40] = "";
		struct jsonw *w = &doc.w;
		if (tl && text[tl - 1] == '\n')
			tl--;
		if (hk)
			gitp_oid_str(&hk->final_commit_id, id);
		if (s) {
			struct tm tm;
			time_t t = (time_t)(s->when.time + (git_time_t)s->when.offset * 60);
			int off = s->when.offset < 0 ? -s->when.offset : s->when.offset;
			gmtime_r(&t, &tm);
			snprintf(date, sizeof(date), "%04d-%02d-%02d %02d:%02d:%02d %c%02d%02d",
				 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
				 tm.tm_sec, s->when.offset < 0 ? '-' : '+', off / 60, off % 60);
			gitp_time_iso(s->when.time, s->when.offset, iso, sizeof(iso));
		}
		if (!gitp_out_printf(&o, "%s%.*s (%-*s %s %*zu) ", hk && hk->boundary ? "^" : "",
				     hk && hk->boundary ? 7 : 8, id, (int)awidth, s ? s->name : "",
				     date, (int)width, ln) ||
		    !gitp_out_put(&o, text, tl) || !gitp_out_put(&o, "\n", 1) ||
		    !gitp_out_charge(&o, 120 + 2 * tl + (s ? strlen(s->name) : 0)))
			break;
		if (!jsonw_obj_begin(w) || !gitp_wkey(w, "line") || !jsonw_i64(w, (int64_t)ln) ||
		    !gitp_wkey(w, "commit") || !jsonw_str(w, id, strlen(id)) ||
		    !gitp_wkey(w, "author") || !gitp_wstrz(w, s ? s->name : "") ||
		    !gitp_wkey(w, "email") || !gitp_wstrz(w, s ? s->email : "") ||
		    !gitp_wkey(w, "date") || !jsonw_str(w, iso, strlen(iso)) ||
		    !gitp_wkey(w, "text") || !gitp_wstr(w, text, tl) || !jsonw_obj_end(w)) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (limited) {
		char hex[GIT_OID_HEXSZ + 1];
		gitp_oid_str(&bo.oldest_commit, hex);
		gitp_out_printf(&o, "[history limited: more than %d commits are reachable, so blame "
			       "followed first parents %d commits back, to %.12s; older lines are "
			       "attributed to it, marked ^]\n", GITP_BLAME_MAX_COMMITS,
			       GITP_BLAME_MAX_COMMITS, hex);
	}
	if (o.why[0])
		o.cut = true;
	jsonw_arr_end(&doc.w);
	gitp_wkey(&doc.w, "truncated");
	jsonw_bool(&doc.w, o.cut);
	gitp_wkey(&doc.w, "history_limited");
	jsonw_bool(&doc.w, limited);
	jsonw_obj_end(&doc.w);
	rc = gitp_doc_take(&doc, out, gitp_out_take(&o, "the blame"), err);
out:
	free(starts);
	gitp_doc_free(&doc);
	gitp_out_free(&o);
	git_blame_free(blame);
	git_blob_free(blob);
	git_tree_entry_free(ent);
	git_tree_free(tree);
	git_object_free(obj);
	gitp_release(repo, h);
	return rc;
}
