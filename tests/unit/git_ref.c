/*
 * git_ref.c - the tree builders that the git family's streaming writers
 * replaced (issue 17), kept verbatim but for their names: git_log,
 * git_blame and git_ls_files as they were, each building its
 * structuredContent as a jansson tree per entry and handing it to
 * tool_result_take (the diffs and git_show are in git_ref_diff.c).
 * Included by test_git_stream.c only, which runs them and the streaming
 * tools on the same repositories, arguments and caps and checks that
 * structuredContent (serialised by wire_write) and the text are the very
 * same bytes.
 *
 * Public names renamed: gitp_X_tool -> ref_X_tool. The sources follow one
 * another, each with its own opening comment.
 */

/* ==== src/providers/git/git_log.c as it was ==== */
/*
 * git_log.c - git_log: commits reachable from HEAD, newest first by commit
 * date (the order `git log` prints), each as the
 * reference server prints it (Commit, Author, Date, Message), optionally
 * only those whose commit date lies between start_timestamp and
 * end_timestamp (`git log --since --until`). The walk stops after
 * max_count commits (at most git.max_log_entries), at the output budget,
 * once five commits in a row are older than start_timestamp (git's own
 * cut-off), and at the deadline or a cancel.
 *
 * The walk is its own: a heap of commits by commit date, as git's, which
 * reads only the commits it prints and their parents. libgit2's revwalk
 * with GIT_SORT_TIME first walks the whole history (a "limited" walk), so
 * 100 entries of a 5,000-commit repository would parse all 5,000. A
 * parent that is not in the repository (a shallow clone's boundary) ends
 * that line of history, as in git. Thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "git/gitp.h"

/* Commits older than --since in a row before the walk gives up (git uses 5). */
#define SINCE_SLOP 5

/* ---- the walk: a max-heap of commits by commit time, and a seen set ---- */

struct walk {
	git_repository *h;
	git_commit **heap; /* owned commits */
	size_t n, cap;
	struct gitp_oidset seen;
	size_t order;      /* insertion counter, so equal times pop in push order */
	size_t *ord;       /* parallel to heap */
};

static bool heap_less(const struct walk *w, size_t a, size_t b)
{
	git_time_t ta = git_commit_time(w->heap[a]), tb = git_commit_time(w->heap[b]);

	return ta < tb || (ta == tb && w->ord[a] > w->ord[b]);
}

static void heap_swap(struct walk *w, size_t a, size_t b)
{
	git_commit *c = w->heap[a];
	size_t o = w->ord[a];

	w->heap[a] = w->heap[b];
	w->ord[a] = w->ord[b];
	w->heap[b] = c;
	w->ord[b] = o;
}

/* Push the commit id names, unless seen. */
static int walk_push(struct walk *w, const git_oid *id)
{
	git_commit *c = NULL;
	int e = gitp_oidset_add(&w->seen, id);

	if (e <= 0)
		return e;
	if (w->n == w->cap) {
		size_t nc = w->cap ? w->cap * 2 : 64;
		git_commit **nh = realloc(w->heap, nc * sizeof(*nh));
		size_t *no = nh ? realloc(w->ord, nc * sizeof(*no)) : NULL;
		if (nh)
			w->heap = nh;
		if (!nh || !no)
			return -1;
		w->ord = no;
		w->cap = nc;
	}
	if ((e = git_commit_lookup(&c, w->h, id)) < 0)
		return e;
	w->heap[w->n] = c;
	w->ord[w->n] = w->order++;
	for (size_t i = w->n++; i > 0 && heap_less(w, (i - 1) / 2, i); i = (i - 1) / 2)
		heap_swap(w, i, (i - 1) / 2);
	return 0;
}

/* The newest commit left (caller frees), its parents pushed; NULL when done
 * (*e 0) or on an error (*e < 0). */
static git_commit *walk_next(struct walk *w, int *e)
{
	git_commit *top;

	*e = 0;
	if (w->n == 0)
		return NULL;
	top = w->heap[0];
	w->n--;
	w->heap[0] = w->heap[w->n];
	w->ord[0] = w->ord[w->n];
	for (size_t i = 0;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < w->n && heap_less(w, m, l))
			m = l;
		if (r < w->n && heap_less(w, m, r))
			m = r;
		if (m == i)
			break;
		heap_swap(w, i, m);
		i = m;
	}
	for (unsigned int p = 0; p < git_commit_parentcount(top); p++) {
		*e = walk_push(w, git_commit_parent_id(top, p));
		if (*e == GIT_ENOTFOUND) {
			/* a shallow clone's boundary: the parent is not here */
			*e = 0;
			git_error_clear();
		} else if (*e < 0) {
			git_commit_free(top);
			return NULL;
		}
	}
	return top;
}

static void walk_free(struct walk *w)
{
	for (size_t i = 0; i < w->n; i++)
		git_commit_free(w->heap[i]);
	free(w->heap);
	free(w->ord);
	gitp_oidset_free(&w->seen);
}

/* One commit as text and as JSON. False once the output is full. */
static bool put_commit(struct gitp_out *o, json_t *arr, git_commit *c)
{
	const git_signature *a = git_commit_author(c);
	const char *msg = git_commit_message(c);
	char id[GIT_OID_HEXSZ + 1], date[40];
	size_t ml = msg ? strlen(msg) : 0;
	json_t *j;

	gitp_oid_str(git_commit_id(c), id);
	gitp_time_iso(a->when.time, a->when.offset, date, sizeof(date));
	while (ml && (msg[ml - 1] == '\n' || msg[ml - 1] == ' '))
		ml--;
	if (!gitp_out_charge(o, 120 + strlen(a->name) + strlen(a->email) + ml + ml / 8) ||
	    !gitp_out_printf(o, "Commit: %s\nAuthor: %s <%s>\nDate: %s\nMessage: ", id, a->name,
			     a->email, date))
		return false;
	/* Continuation lines of the message are indented, as git log does. */
	for (size_t i = 0; i < ml;) {
		const char *nl = memchr(msg + i, '\n', ml - i);
		size_t n = nl ? (size_t)(nl - (msg + i)) + 1 : ml - i;
		if ((i && n > 1 && !gitp_out_put(o, "    ", 4)) || !gitp_out_put(o, msg + i, n))
			return false;
		i += n;
	}
	if (!gitp_out_put(o, "\n\n", 2))
		return false;
	j = json_pack("{s:s, s:o, s:o, s:s, s:o}", "id", id, "author", gitp_jstrz(a->name),
		      "email", gitp_jstrz(a->email), "date", date, "message", gitp_jstr(msg, ml));
	if (!j || json_array_append_new(arr, j)) {
		o->oom = true;
		return false;
	}
	return true;
}

static enum moat_rc ref_log_tool(struct call_ctx *ctx, void *data, json_t *args,
			   struct tool_result *out, struct moat_err *err)
{
	json_t *mc = json_object_get(args, "max_count");
	const char *since_s = json_string_value(json_object_get(args, "start_timestamp"));
	const char *until_s = json_string_value(json_object_get(args, "end_timestamp"));
	size_t max = json_is_integer(mc) ? (size_t)json_integer_value(mc) : 10;
	time_t now = time(NULL), since = 0, until = 0;
	struct gitp_repo *repo = NULL;
	git_repository *h = NULL;
	struct walk walk = {0};
	git_reference *head = NULL;
	json_t *commits = NULL;
	size_t n = 0, older = 0, seen = 0;
	struct gitp_out o;
	enum moat_rc rc;
	int e;

	(void)data;
	gitp_out_init(&o, ctx, 0, NULL);
	if (max > gitp_fam.lim.max_log_entries)
		return gitp_refuse(err, MOAT_ELIMIT, "git.max_log_entries",
				     "max_count: more than git.max_log_entries (%zu)",
				    gitp_fam.lim.max_log_entries);
	if ((since_s && (rc = gitp_when_parse(since_s, now, "start_timestamp", &since, err))) ||
	    (until_s && (rc = gitp_when_parse(until_s, now, "end_timestamp", &until, err))))
		return rc;
	if ((rc = gitp_open(ctx, args, &repo, &h, err)))
		goto out;
	if (!(commits = json_array())) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	gitp_out_puts(&o, "Commit history:\n");
	walk.h = h;
	e = git_repository_head_unborn(h) == 1 ? GIT_EUNBORNBRANCH : git_repository_head(&head, h);
	if (e == GIT_EUNBORNBRANCH || e == GIT_ENOTFOUND) {
		char desc[256];
		gitp_head_desc(h, desc, sizeof(desc));
		gitp_out_printf(&o, "(no commits yet: HEAD is an %s)\n", desc);
		goto done;
	}
	if (e == 0)
		gitp_touch_head(ctx, h);
	if (e < 0 || (e = walk_push(&walk, git_reference_target(head))) < 0) {
		rc = e == -1 && !git_error_last() ? moat_err_set(err, MOAT_ENOMEM, "out of memory")
						  : gitp_git_err(err, MOAT_EUPSTREAM, "log");
		goto out;
	}
	while (n < max) {
		git_commit *c = walk_next(&walk, &e);
		git_time_t t;
		if (!c)
			break;
		bool ok;
		if ((++seen & 255) == 0) {
			if ((rc = callctx_check(ctx, err)))
				goto out;
			callctx_progress(ctx, (double)n, (double)max, NULL);
		}
		t = git_commit_time(c);
		if (since_s && t < (git_time_t)since) {
			git_commit_free(c);
			if (++older >= SINCE_SLOP)
				break;
			continue;
		}
		older = 0;
		if (until_s && t > (git_time_t)until) {
			git_commit_free(c);
			continue;
		}
		ok = put_commit(&o, commits, c);
		git_commit_free(c);
		if (!ok)
			break;
		n++;
	}
	if (e < 0 && !o.cut) {
		rc = gitp_git_err(err, MOAT_EUPSTREAM, "log");
		goto out;
	}
	if (o.oom) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (n == 0 && !o.cut)
		gitp_out_puts(&o, "(no commits match)\n");
done : {
	bool cut = o.cut;
	json_t *s = json_pack("{s:o, s:b}", "commits", commits, "truncated", cut);
	commits = NULL;
	rc = tool_result_take(out, s, gitp_out_take(&o, "the log"), err);
}
out:
	json_decref(commits);
	gitp_out_free(&o);
	walk_free(&walk);
	git_reference_free(head);
	gitp_release(repo, h);
	return rc;
}

/* ==== src/providers/git/git_blame.c as it was ==== */
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
 * Thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "git/gitp.h"

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

static enum moat_rc ref_blame_tool(struct call_ctx *ctx, void *data, json_t *args,
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
	json_t *lines = NULL;
	size_t *starts = NULL, nlines = 0, first, last, width = 1, awidth = 0, reach = 0;
	bool limited = false;
	struct gitp_out o;
	enum moat_rc rc;
	const char *buf;
	size_t len;

	(void)data;
	gitp_out_init(&o, ctx, 0, NULL);
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
	if (!(starts = line_starts(buf, len, &nlines)) || !(lines = json_array())) {
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
		json_t *j;
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
		j = json_pack("{s:I, s:s, s:o, s:o, s:s, s:o}", "line", (json_int_t)ln, "commit", id,
			      "author", gitp_jstrz(s ? s->name : ""), "email",
			      gitp_jstrz(s ? s->email : ""), "date", iso, "text", gitp_jstr(text, tl));
		if (!j || json_array_append_new(lines, j)) {
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
	{
		bool cut = o.cut;
		json_t *s = json_pack("{s:o, s:b, s:b}", "lines", lines, "truncated", cut,
				      "history_limited", limited);
		lines = NULL;
		rc = tool_result_take(out, s, gitp_out_take(&o, "the blame"), err);
	}
out:
	free(starts);
	json_decref(lines);
	gitp_out_free(&o);
	git_blame_free(blame);
	git_blob_free(blob);
	git_tree_entry_free(ent);
	git_tree_free(tree);
	git_object_free(obj);
	gitp_release(repo, h);
	return rc;
}

/* ==== src/providers/git/git_tree.c as it was: git_ls_files only (git_read_file did not change) ==== */

struct lister {
	struct call_ctx *ctx;
	struct gitp_out *o;
	json_t *files;
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
	json_t *j;

	if ((++l->seen & 1023) == 0) {
		if ((l->rc = callctx_check(l->ctx, l->err)))
			return false;
		callctx_progress(l->ctx, (double)l->seen, 0, "entries read");
	}
	if (!under(l, path))
		return true;
	if (json_array_size(l->files) >= gitp_fam.lim.max_files) {
		char why[64];
		snprintf(why, sizeof(why), "git.max_files (%zu)", gitp_fam.lim.max_files);
		gitp_out_cut(l->o, why);
		return false;
	}
	if (!gitp_out_charge(l->o, 2 * strlen(path) + 8) || !gitp_out_printf(l->o, "%s\n", path))
		return false;
	if (!(j = gitp_jstrz(path)) || json_array_append_new(l->files, j)) {
		l->o->oom = true;
		return false;
	}
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

static enum moat_rc ref_ls_files_tool(struct call_ctx *ctx, void *data, json_t *args,
				struct tool_result *out, struct moat_err *err)
{
	const char *rev = json_string_value(json_object_get(args, "revision"));
	const char *prefix = json_string_value(json_object_get(args, "path"));
	struct gitp_repo *repo = NULL;
	git_repository *h = NULL;
	git_object *tree = NULL;
	git_index *idx = NULL;
	struct gitp_out o;
	struct lister l = {.ctx = ctx, .o = &o, .err = err};
	enum moat_rc rc;
	char pre[4096];

	(void)data;
	gitp_out_init(&o, ctx, 0, NULL);
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
	if (!(l.files = json_array())) {
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
	{
		bool cut = o.cut;
		json_t *s = json_pack("{s:o, s:b}", "files", l.files, "truncated", cut);
		l.files = NULL;
		rc = tool_result_take(out, s, gitp_out_take(&o, "the file list"), err);
	}
out:
	json_decref(l.files);
	gitp_out_free(&o);
	git_index_free(idx);
	git_object_free(tree);
	gitp_release(repo, h);
	return rc;
}
