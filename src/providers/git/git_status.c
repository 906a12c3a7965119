/*
 * git_status.c - git_status: the branch, its upstream (ahead/behind), a
 * merge in progress, and the state of every changed, staged, unmerged or
 * untracked file, as `git -c advice.statusHints=false status` prints it,
 * and as the porcelain letters of `git status --porcelain` in
 * structuredContent (unmerged paths with git's codes: UU, AA, DU, UD ...).
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

/* The porcelain letters of a conflicted path, from the stages in the index
 * (git's unmerged codes: DD AU UD UA DU AA UU), and the long form's words. */
static const char *conflict_code(git_index *idx, const char *path, const char **words)
{
	const git_index_entry *anc = NULL, *ours = NULL, *theirs = NULL;
	static const struct {
		const char *code, *words;
	} kinds[] = {{"UU", "both modified:"}, {"AA", "both added:"},     {"DU", "deleted by us:"},
		     {"UD", "deleted by them:"}, {"DD", "both deleted:"}, {"AU", "added by us:"},
		     {"UA", "added by them:"}};
	int k = 0;

	if (idx && git_index_conflict_get(&anc, &ours, &theirs, idx, path) == 0) {
		if (!anc)
			k = ours && theirs ? 1 : ours ? 5 : 6;
		else
			k = ours && theirs ? 0 : ours ? 3 : theirs ? 2 : 4;
	}
	*words = kinds[k].words;
	return kinds[k].code;
}

/* Map name through one fetch refspec ("[+]src:dst", src and dst with one
 * '*' or none); the result into out. */
struct track {
	const char *merge; /* branch.<name>.merge */
	char out[512];
	bool found;
};

static int track_cb(const git_config_entry *e, void *payload)
{
	struct track *t = payload;
	const char *spec = e->value, *colon, *star, *dstar;
	size_t sl, ml = strlen(t->merge);

	if (t->found || !spec)
		return 0;
	if (*spec == '+')
		spec++;
	if (!(colon = strchr(spec, ':')))
		return 0;
	sl = (size_t)(colon - spec);
	star = memchr(spec, '*', sl);
	dstar = strchr(colon + 1, '*');
	if (!star && !dstar && ml == sl && memcmp(spec, t->merge, sl) == 0) {
		t->found = (size_t)snprintf(t->out, sizeof(t->out), "%s", colon + 1) < sizeof(t->out);
	} else if (star && dstar) {
		size_t pre = (size_t)(star - spec), suf = sl - pre - 1;
		if (ml >= pre + suf && memcmp(t->merge, spec, pre) == 0 &&
		    memcmp(t->merge + ml - suf, star + 1, suf) == 0)
			t->found = (size_t)snprintf(t->out, sizeof(t->out), "%.*s%.*s%s",
						    (int)(dstar - (colon + 1)), colon + 1,
						    (int)(ml - pre - suf), t->merge + pre, dstar + 1) <
				   sizeof(t->out);
	}
	return 0;
}

/* The reference branch head tracks (branch.<name>.remote and .merge mapped
 * through the remote's fetch refspecs, as git does), or NULL. Done from the
 * config directly: libgit2's git_branch_upstream leaks a compiled regex per
 * call (libgit2 1.5). */
static git_reference *tracked(git_repository *h, git_reference *head)
{
	git_config *snap = NULL;
	git_reference *up = NULL;
	const char *bn = git_reference_shorthand(head), *remote = NULL;
	struct track t = {0};
	char key[600];

	if (git_repository_config_snapshot(&snap, h) < 0)
		return NULL;
	snprintf(key, sizeof(key), "branch.%s.remote", bn);
	if (git_config_get_string(&remote, snap, key) < 0)
		goto out;
	snprintf(key, sizeof(key), "branch.%s.merge", bn);
	if (git_config_get_string(&t.merge, snap, key) < 0)
		goto out;
	if (strcmp(remote, ".") == 0) {
		t.found = (size_t)snprintf(t.out, sizeof(t.out), "%s", t.merge) < sizeof(t.out);
	} else {
		snprintf(key, sizeof(key), "remote.%s.fetch", remote);
		git_config_get_multivar_foreach(snap, key, NULL, track_cb, &t);
	}
	if (t.found && git_reference_lookup(&up, h, t.out) < 0)
		up = NULL;
out:
	git_config_free(snap);
	return up;
}

/* "Your branch is ..." as git status says it, into o and s; nothing when the
 * branch has no upstream. */
static void upstream(struct gitp_out *o, json_t *s, git_repository *h, git_reference *head)
{
	git_reference *up = NULL, *res = NULL;
	const git_oid *a, *b;
	size_t ahead = 0, behind = 0;
	const char *name;

	if (!head || !git_reference_is_branch(head) || !(up = tracked(h, head)))
		return;
	if (git_reference_resolve(&res, up) < 0) {
		git_reference_free(up);
		return;
	}
	a = git_reference_target(head);
	b = git_reference_target(res);
	name = git_reference_shorthand(up);
	if (a && b && git_graph_ahead_behind(&ahead, &behind, h, a, b) == 0) {
		if (!ahead && !behind)
			gitp_out_printf(o, "Your branch is up to date with '%s'.\n", name);
		else if (ahead && !behind)
			gitp_out_printf(o, "Your branch is ahead of '%s' by %zu commit%s.\n", name, ahead,
					ahead == 1 ? "" : "s");
		else if (!ahead)
			gitp_out_printf(o, "Your branch is behind '%s' by %zu commit%s, and can be "
					"fast-forwarded.\n", name, behind, behind == 1 ? "" : "s");
		else
			gitp_out_printf(o, "Your branch and '%s' have diverged,\nand have %zu and %zu "
					"different commits each, respectively.\n", name, ahead, behind);
		json_object_set_new(s, "upstream", gitp_jstrz(name));
		json_object_set_new(s, "ahead", json_integer((json_int_t)ahead));
		json_object_set_new(s, "behind", json_integer((json_int_t)behind));
	}
	git_reference_free(res);
	git_reference_free(up);
}

/* One section of the long form: kind 0 staged, 1 not staged (letters other
 * than ' ' on that side), 2 untracked, 3 unmerged. */
static void section(struct gitp_out *o, git_status_list *list, git_index *idx, size_t n,
		    int kind, const char *title)
{
	bool any = false;

	for (size_t i = 0; i < n && n <= gitp_fam.lim.max_files; i++) {
		const git_status_entry *s = git_status_byindex(list, i);
		char x = gitp_status_char(s->status, true), y = gitp_status_char(s->status, false);
		char c = kind == 0 ? x : y;
		const char *op, *np;
		if (kind == 3 ? x != 'U'
			      : kind == 2 ? x != '?' : (c == ' ' || c == '?' || c == '!' || c == 'U'))
			continue;
		entry_paths(s, &op, &np);
		if (!any)
			gitp_out_printf(o, "%s:\n", title);
		any = true;
		if (kind == 3) {
			const char *words;
			conflict_code(idx, np, &words);
			gitp_out_printf(o, "\t%-17s%s\n", words, np);
		} else if (kind == 2)
			gitp_out_printf(o, "\t%s\n", np);
		else if (c == 'R' && strcmp(op, np) != 0)
			gitp_out_printf(o, "\t%-12s%s -> %s\n", "renamed:", op, np);
		else {
			char word[24];
			snprintf(word, sizeof(word), "%s:", gitp_delta_word(c));
			gitp_out_printf(o, "\t%-12s%s\n", word, np);
		}
	}
	if (any)
		gitp_out_puts(o, "\n");
}

enum moat_rc gitp_status_tool(struct call_ctx *ctx, void *data, json_t *args,
			      struct tool_result *out, struct moat_err *err)
{
	struct gitp_repo *repo = NULL;
	git_repository *h = NULL;
	git_status_list *list = NULL;
	git_status_options so;
	git_reference *head = NULL;
	git_index *idx = NULL;
	json_t *files = NULL, *st = NULL;
	struct gitp_out o;
	enum moat_rc rc;
	char desc[256];
	size_t n;

	(void)data;
	gitp_out_init(&o, ctx, 0, NULL);
	if ((rc = gitp_open(ctx, args, &repo, &h, err)))
		goto out;
	if (git_repository_is_bare(h)) {
		rc = gitp_refuse(err, MOAT_EINVAL, "git.bare_repository", "repo_path: %s is a "
				   "bare repository: it has no working tree", repo->name);
		goto out;
	}
	gitp_touch_head(ctx, h);
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
	if (!(files = json_array()) || !(st = json_object())) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (git_repository_index(&idx, h) < 0)
		idx = NULL;
	gitp_head_desc(h, desc, sizeof(desc));
	git_repository_head(&head, h);
	gitp_out_puts(&o, "Repository status:\n");
	if (strncmp(desc, "branch ", 7) == 0) {
		size_t before;
		gitp_out_printf(&o, "On branch %s\n", desc + 7);
		before = o.len;
		upstream(&o, st, h, head);
		if (o.len != before)
			gitp_out_puts(&o, "\n");
	} else if (strncmp(desc, "unborn branch ", 14) == 0) {
		gitp_out_printf(&o, "On branch %s\n\nNo commits yet\n\n", desc + 14);
	} else {
		gitp_out_printf(&o, "HEAD %s\n", desc);
	}
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
		entry_paths(s, &op, &np);
		if (xy[0] == '?')
			xy[1] = '?';
		if (xy[0] == 'U') {
			const char *words;
			memcpy(xy, conflict_code(idx, np, &words), 2);
		}
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
		bool staged = false, dirty = false, untracked = false;
		for (size_t i = 0; i < n; i++) {
			const git_status_entry *e = git_status_byindex(list, i);
			char x = gitp_status_char(e->status, true), y = gitp_status_char(e->status, false);
			staged |= x != ' ' && x != '?' && x != '!' && x != 'U';
			dirty |= (y != ' ' && y != '?' && y != '!') || x == 'U';
			untracked |= x == '?';
		}
		if (git_repository_state(h) == GIT_REPOSITORY_STATE_MERGE)
			gitp_out_puts(&o, git_index_has_conflicts(idx) ? "You have unmerged paths.\n\n"
				      : "All conflicts fixed but you are still merging.\n\n");
		section(&o, list, idx, n, 0, "Changes to be committed");
		section(&o, list, idx, n, 3, "Unmerged paths");
		section(&o, list, idx, n, 1, "Changes not staged for commit");
		section(&o, list, idx, n, 2, "Untracked files");
		/* git's closing line, as it says it without advice */
		if (staged)
			;
		else if (dirty)
			gitp_out_puts(&o, "no changes added to commit\n");
		else if (untracked)
			gitp_out_puts(&o, "nothing added to commit but untracked files present\n");
		else if (strncmp(desc, "unborn branch ", 14) == 0)
			gitp_out_puts(&o, "nothing to commit\n");
		else
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
		const char *bn = head && git_reference_is_branch(head) ? git_reference_shorthand(head)
				 : strncmp(desc, "unborn branch ", 14) == 0 ? desc + 14
									   : NULL;
		json_object_set_new(st, "branch", bn ? gitp_jstrz(bn) : json_null());
		json_object_set_new(st, "head", gitp_jstr(desc, strlen(desc)));
		json_object_set_new(st, "files", files);
		json_object_set_new(st, "truncated", json_boolean(cut));
		files = NULL;
		rc = tool_result_take(out, st, gitp_out_take(&o, "the status"), err);
		st = NULL;
	}
out:
	json_decref(files);
	json_decref(st);
	gitp_out_free(&o);
	git_index_free(idx);
	git_reference_free(head);
	git_status_list_free(list);
	gitp_release(repo, h);
	return rc;
}
