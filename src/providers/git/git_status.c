/*
 * git_status.c - git_status: the branch and the state of every changed,
 * staged or untracked file, as `git status` prints it (long form, without
 * the advice lines), and as the porcelain letters of `git status
 * --porcelain` in structuredContent.
 *
 * Renames between HEAD and the index are found, as git does; untracked
 * directories are shown as one "dir/" entry, as git does by default;
 * ignored files are left out. The index is never written: libgit2 only
 * refreshes it in memory (GIT_STATUS_OPT_UPDATE_INDEX stays off). At most
 * git.max_files entries, within the output budget; the deadline and a
 * cancel are checked between entries. Thread-safe.
 */
#include <stdio.h>
#include <string.h>

#include "gitp.h"

/* The paths of an entry: old and new (equal unless renamed). */
static void entry_paths(const git_status_entry *s, const char **oldp, const char **newp)
{
	const git_diff_delta *d = s->head_to_index ? s->head_to_index : s->index_to_workdir;
	const git_diff_delta *w = s->index_to_workdir;

	*oldp = d->old_file.path;
	*newp = w ? w->new_file.path : d->new_file.path;
	if (s->head_to_index && (s->status & GIT_STATUS_INDEX_RENAMED))
		*newp = s->head_to_index->new_file.path;
}

/* One section of the long form: entries whose letter on side index is not
 * ' ' (staged / not staged) or '?' (untracked). */
static void section(struct gitp_out *o, git_status_list *list, size_t n, int kind,
		    const char *title)
{
	bool any = false;

	for (size_t i = 0; i < n && n <= gitp_fam.lim.max_files; i++) {
		const git_status_entry *s = git_status_byindex(list, i);
		char x = gitp_status_char(s->status, true), y = gitp_status_char(s->status, false);
		char c = kind == 0 ? x : y;
		const char *op, *np;
		if (kind == 2 ? x != '?' : (c == ' ' || c == '?' || c == '!'))
			continue;
		if (kind != 2 && x == 'U' && kind == 1)
			continue;
		entry_paths(s, &op, &np);
		if (!any)
			gitp_out_printf(o, "%s%s:\n", o->len ? "\n" : "", title);
		any = true;
		if (kind == 2)
			gitp_out_printf(o, "\t%s\n", np);
		else if (c == 'R' && strcmp(op, np) != 0)
			gitp_out_printf(o, "\t%-12s%s -> %s\n", "renamed:", op, np);
		else {
			char word[24];
			snprintf(word, sizeof(word), "%s:", gitp_delta_word(c));
			gitp_out_printf(o, "\t%-12s%s\n", word, np);
		}
	}
}

enum moat_rc gitp_status_tool(struct call_ctx *ctx, void *data, json_t *args,
			      struct tool_result *out, struct moat_err *err)
{
	struct gitp_repo *repo = NULL;
	git_repository *h = NULL;
	git_status_list *list = NULL;
	git_status_options so;
	git_reference *head = NULL;
	json_t *files = NULL;
	struct gitp_out o;
	enum moat_rc rc;
	char desc[256];
	size_t n;

	(void)data;
	gitp_out_init(&o, ctx, 0, NULL);
	if ((rc = gitp_open(ctx, args, &repo, &h, err)))
		goto out;
	if (git_repository_is_bare(h)) {
		rc = moat_err_set(err, MOAT_EINVAL, "repo_path: a bare repository has no working tree");
		goto out;
	}
	git_status_options_init(&so, GIT_STATUS_OPTIONS_VERSION);
	so.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	so.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RENAMES_HEAD_TO_INDEX |
		   GIT_STATUS_OPT_SORT_CASE_SENSITIVELY;
	if (git_status_list_new(&list, h, &so) < 0) {
		rc = gitp_git_err(err, MOAT_EUPSTREAM, "status");
		goto out;
	}
	if ((rc = callctx_check(ctx, err)))
		goto out;
	if (!(files = json_array())) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	gitp_head_desc(h, desc, sizeof(desc));
	gitp_out_puts(&o, "Repository status:\n");
	if (strncmp(desc, "branch ", 7) == 0)
		gitp_out_printf(&o, "On branch %s\n", desc + 7);
	else if (strncmp(desc, "unborn branch ", 14) == 0)
		gitp_out_printf(&o, "On branch %s\n\nNo commits yet\n", desc + 14);
	else
		gitp_out_printf(&o, "HEAD %s\n", desc);
	n = git_status_list_entrycount(list);
	for (size_t i = 0; i < n; i++) {
		const git_status_entry *s = git_status_byindex(list, i);
		char xy[3] = {gitp_status_char(s->status, true), gitp_status_char(s->status, false), 0};
		const char *op, *np;
		json_t *f;
		if ((i & 255) == 255 && (rc = callctx_check(ctx, err)))
			goto out;
		if (i >= gitp_fam.lim.max_files) {
			char why[64];
			snprintf(why, sizeof(why), "git.max_files (%zu)", gitp_fam.lim.max_files);
			gitp_out_cut(&o, why);
			break;
		}
		if (xy[0] == '?')
			xy[1] = '?';
		if (xy[0] == 'U')
			xy[1] = 'U';
		entry_paths(s, &op, &np);
		if (!gitp_out_charge(&o, 100 + 2 * (strlen(op) + strlen(np))))
			break;
		f = json_pack("{s:o, s:s%, s:s%}", "path", gitp_jstrz(np), "index", xy, (size_t)1,
			      "worktree", xy + 1, (size_t)1);
		if (f && strcmp(op, np) != 0)
			json_object_set_new(f, "orig_path", gitp_jstrz(op));
		if (!f || json_array_append_new(files, f)) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (!o.cut) {
		section(&o, list, n, 0, "Changes to be committed");
		section(&o, list, n, 1, "Changes not staged for commit");
		section(&o, list, n, 2, "Untracked files");
		if (n == 0)
			gitp_out_puts(&o, "nothing to commit, working tree clean\n");
	} else {
		for (size_t i = 0; i < json_array_size(files); i++) {
			json_t *f = json_array_get(files, i);
			if (!gitp_out_printf(&o, "%s%s %s\n",
					     json_string_value(json_object_get(f, "index")),
					     json_string_value(json_object_get(f, "worktree")),
					     json_string_value(json_object_get(f, "path"))))
				break;
		}
	}
	{
		bool cut = o.cut;
		git_repository_head(&head, h);
		const char *bn = head && git_reference_is_branch(head) ? git_reference_shorthand(head)
				 : strncmp(desc, "unborn branch ", 14) == 0 ? desc + 14
									   : NULL;
		json_t *s = json_pack("{s:o, s:o, s:o, s:b}", "branch",
				      bn ? gitp_jstrz(bn) : json_null(), "head", gitp_jstr(desc, strlen(desc)),
				      "files", files, "truncated", cut);
		files = NULL;
		rc = gitp_result(out, s, gitp_out_take(&o, "the status"), err);
	}
out:
	json_decref(files);
	gitp_out_free(&o);
	git_reference_free(head);
	git_status_list_free(list);
	gitp_release(repo, h);
	return rc;
}
