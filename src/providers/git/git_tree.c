/*
 * git_tree.c - git_ls_files (the paths in the index, `git ls-files`, or in
 * a revision's tree, `git ls-tree -r --name-only`) and git_read_file (one
 * file as stored at a revision, `git show <revision>:<path>`).
 *
 * Paths are tree paths, never file-system paths: they are looked up in
 * libgit2's tree objects, so ".." can name nothing; arguments with "." or
 * ".." components are refused anyway. File content is the raw blob: no
 * filter, smudge or textconv is applied. Text comes back as text, capped at
 * git.max_file_bytes and the output budget with a note; anything else
 * (NUL bytes, invalid UTF-8) as a base64 resource, refused when larger than
 * either cap. Listings stop at git.max_files.
 *
 * git_ls_files writes its structuredContent, {"files":[path...],
 * "truncated"}, with jsonw path by path, each once its line fitted
 * (output_streamed, issue 17). Correct by construction: two literal keys,
 * the paths through gitp_wstr (invalid UTF-8 repaired as gitp_jstr did),
 * the array and object closed on every path that answers; test builds
 * validate it anyway and test_git_stream.c compares the bytes with the
 * tree builder this replaced. Thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitp.h"
#include "text.h"

struct lister {
	struct call_ctx *ctx;
	struct gitp_out *o;
	struct jsonw *w;    /* the files array is open in it */
	size_t nfiles;
	const char *prefix; /* without a trailing '/', or NULL */
	size_t plen;
	size_t seen;
	enum moat_rc rc;
	struct moat_err *err;
};

/* Is path under the prefix (the prefix itself or prefix/...)? */
static bool under(const struct lister *l, const char *path)
{
	if (!l->prefix)
		return true;
	return strncmp(path, l->prefix, l->plen) == 0 &&
	       (path[l->plen] == '\0' || path[l->plen] == '/');
}

/* Add one path. False to stop (a cap or the deadline). */
static bool add(struct lister *l, const char *path)
{
	if ((++l->seen & 1023) == 0) {
		if ((l->rc = callctx_check(l->ctx, l->err)))
			return false;
		callctx_progress(l->ctx, (double)l->seen, 0, "entries read");
	}
	if (!under(l, path))
		return true;
	if (l->nfiles >= gitp_fam.lim.max_files) {
		char why[64];
		snprintf(why, sizeof(why), "git.max_files (%zu)", gitp_fam.lim.max_files);
		gitp_out_cut(l->o, why);
		return false;
	}
	if (!gitp_out_charge(l->o, 2 * strlen(path) + 8) || !gitp_out_printf(l->o, "%s\n", path))
		return false;
	if (!gitp_wstrz(l->w, path)) {
		l->o->oom = true;
		return false;
	}
	l->nfiles++;
	return true;
}

static int walk_cb(const char *root, const git_tree_entry *e, void *payload)
{
	struct lister *l = payload;
	char path[8192];
	git_object_t t = git_tree_entry_type(e);

	if (t == GIT_OBJECT_TREE) {
		/* Directories count as work too (a tree of empty-ish trees). */
		if ((++l->seen & 1023) == 0 && (l->rc = callctx_check(l->ctx, l->err)))
			return -1;
		/* Skip subtrees that cannot hold a match. */
		if (l->prefix && (size_t)snprintf(path, sizeof(path), "%s%s", root,
						  git_tree_entry_name(e)) < sizeof(path)) {
			size_t n = strlen(path);
			bool inside = under(l, path);
			bool leads = n < l->plen && strncmp(l->prefix, path, n) == 0 &&
				     l->prefix[n] == '/';
			if (!inside && !leads)
				return 1;
		}
		return 0;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s%s", root, git_tree_entry_name(e)) >=
	    sizeof(path))
		return 0;
	return add(l, path) ? 0 : -1;
}

enum moat_rc gitp_ls_files_tool(struct call_ctx *ctx, void *data, json_t *args,
				struct tool_result *out, struct moat_err *err)
{
	const char *rev = json_string_value(json_object_get(args, "revision"));
	const char *prefix = json_string_value(json_object_get(args, "path"));
	struct gitp_repo *repo = NULL;
	git_repository *h = NULL;
	git_object *tree = NULL;
	git_index *idx = NULL;
	struct gitp_out o;
	struct gitp_doc doc;
	struct lister l = {.ctx = ctx, .o = &o, .w = &doc.w, .err = err};
	enum moat_rc rc;
	char pre[4096];

	(void)data;
	gitp_out_init(&o, ctx, 0, NULL);
	gitp_doc_init(&doc);
	if (prefix) {
		if (!gitp_path_ok(prefix, false))
			return gitp_refuse(err, MOAT_EINVAL, "git.path_outside", "path: must be a "
					     "relative path inside the repository without '.' or "
					     "'..' components");
		snprintf(pre, sizeof(pre), "%s", prefix);
		if (pre[0] && pre[strlen(pre) - 1] == '/')
			pre[strlen(pre) - 1] = '\0';
		l.prefix = pre;
		l.plen = strlen(pre);
	}
	if ((rc = gitp_open(ctx, args, &repo, &h, err)))
		goto out;
	/* {"files":[...],"truncated":b}, path by path. */
	if (!jsonw_obj_begin(&doc.w) || !gitp_wkey(&doc.w, "files") || !jsonw_arr_begin(&doc.w)) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (rev) {
		if ((rc = gitp_revparse(ctx, h, "revision", rev, GIT_OBJECT_TREE, &tree, err)))
			goto out;
		if (git_tree_walk((git_tree *)tree, GIT_TREEWALK_PRE, walk_cb, &l) < 0 && !l.rc &&
		    !o.cut && !o.oom) {
			rc = gitp_git_err(err, MOAT_EUPSTREAM, "revision");
			goto out;
		}
	} else {
		const char *last = NULL;
		if (git_repository_index(&idx, h) < 0 || git_index_read(idx, 0) < 0) {
			rc = gitp_git_err(err, MOAT_EUPSTREAM, "index");
			goto out;
		}
		for (size_t i = 0; i < git_index_entrycount(idx); i++) {
			const git_index_entry *e = git_index_get_byindex(idx, i);
			if (last && strcmp(last, e->path) == 0)
				continue; /* the stages of a conflict: one line, as git */
			last = e->path;
			if (!add(&l, e->path))
				break;
		}
	}
	if (l.rc) {
		rc = l.rc;
		goto out;
	}
	if (o.oom) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	jsonw_arr_end(&doc.w);
	gitp_wkey(&doc.w, "truncated");
	jsonw_bool(&doc.w, o.cut);
	jsonw_obj_end(&doc.w);
	rc = gitp_doc_take(&doc, out, gitp_out_take(&o, "the file list"), err);
out:
	gitp_doc_free(&doc);
	gitp_out_free(&o);
	git_index_free(idx);
	git_object_free(tree);
	gitp_release(repo, h);
	return rc;
}

enum moat_rc gitp_read_file_tool(struct call_ctx *ctx, void *data, json_t *args,
				 struct tool_result *out, struct moat_err *err)
{
	const char *rev = json_string_value(json_object_get(args, "revision"));
	const char *path = json_string_value(json_object_get(args, "path"));
	struct gitp_repo *repo = NULL;
	git_repository *h = NULL;
	git_object *tree = NULL;
	git_tree_entry *ent = NULL;
	git_blob *blob = NULL;
	struct gitp_out o;
	enum moat_rc rc;
	const char *buf;
	size_t len, max = gitp_fam.lim.max_file_bytes;

	(void)data;
	gitp_out_init(&o, ctx, max, "max_file_bytes");
	if (!gitp_path_ok(path, false))
		return gitp_refuse(err, MOAT_EINVAL, "git.path_outside", "path: must be a relative "
				     "path inside the repository without '.' or '..' components");
	if ((rc = gitp_open(ctx, args, &repo, &h, err)) ||
	    (rc = gitp_revparse(ctx, h, "revision", rev, GIT_OBJECT_TREE, &tree, err)))
		goto out;
	if (git_tree_entry_bypath(&ent, (git_tree *)tree, path) < 0) {
		rc = moat_err_set(err, MOAT_ENOTFOUND, "path: no such file in %s at %.*s: %.*s",
				  repo->name, GITP_REV_MAX_LEN, rev, 300, path);
		goto out;
	}
	if (git_tree_entry_type(ent) != GIT_OBJECT_BLOB) {
		rc = gitp_refuse(err, MOAT_EINVAL, "git.not_a_file", "path: %.300s is not a file "
				 "(a directory or a submodule; see git_ls_files)", path);
		goto out;
	}
	if (git_blob_lookup(&blob, h, git_tree_entry_id(ent)) < 0) {
		rc = gitp_git_err(err, MOAT_EUPSTREAM, "path");
		goto out;
	}
	buf = git_blob_rawcontent(blob);
	len = (size_t)git_blob_rawsize(blob);
	if (!memchr(buf, '\0', len) && text_utf8_valid(buf, len)) {
		char *text;
		if (!gitp_out_put(&o, buf, len)) {
			/* Too big: keep the longest prefix of whole lines that fits. */
			size_t cut = len < max ? len : max, step;
			while (cut && !gitp_out_put(&o, buf, cut)) {
				o.cut = false;
				step = cut / 8 ? cut / 8 : 1;
				cut = cut > step ? cut - step : 0;
			}
			while (o.len && o.buf[o.len - 1] != '\n')
				o.len--;
			o.cut = true;
		}
		text = gitp_out_take(&o, "the file");
		if (!text || (rc = tool_result_text(out, text)))
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		free(text);
	} else {
		size_t b64 = (len + 2) / 3 * 4;
		char uri[600], *enc;
		json_t *block;
		if (len > max || b64 + 1024 > o.budget) {
			rc = gitp_refuse(err, MOAT_ELIMIT,
					   len > max ? "git.max_file_bytes" : "limits.output",
					   "path: a binary file of %zu bytes; its "
					  "base64 would exceed %s", len,
					  len > max ? "git.max_file_bytes" : "the output budget "
					  "(limits.max_output_bytes)");
			goto out;
		}
		if (!(enc = text_base64((const unsigned char *)buf, len))) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		snprintf(uri, sizeof(uri), "git://%s/%s", repo->name, path);
		block = json_pack("{s:s, s:{s:s, s:s, s:s}}", "type", "resource", "resource", "uri",
				  uri, "mimeType", "application/octet-stream", "blob", enc);
		free(enc);
		if (!block || !(out->content || (out->content = json_array())) ||
		    json_array_append_new(out->content, block))
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
out:
	gitp_out_free(&o);
	git_blob_free(blob);
	git_tree_entry_free(ent);
	git_object_free(tree);
	gitp_release(repo, h);
	return rc;
}
