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
 * that line of history, as in git.
 *
 * structuredContent, {"commits":[{"id","author","email","date",
 * "message"}...],"truncated"}, is written with jsonw as the walk goes,
 * each commit once its text fitted (issue 17): no jansson value per
 * commit, and the server splices the text into the answer unparsed
 * (output_streamed). Correct by construction: the keys are literals in a
 * fixed order, every value is written by the jsonw call of its schema
 * type (ids and dates are hex and ASCII; names and messages go through
 * gitp_wstr, which repairs invalid UTF-8 as gitp_jstr did), the required
 * members are written on every path that answers, and gitp_doc_take
 * refuses a document whose containers are not all closed. Test builds
 * validate each answer against the outputSchema all the same, and
 * tests/unit/test_git_stream.c checks the bytes against the tree builder
 * this replaced. Thread-safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gitp.h"

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
static bool put_commit(struct gitp_out *o, struct jsonw *w, git_commit *c)
{
	const git_signature *a = git_commit_author(c);
	const char *msg = git_commit_message(c);
	char id[GIT_OID_HEXSZ + 1], date[40];
	size_t ml = msg ? strlen(msg) : 0;

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
	/* The entry, once its text fitted: {"id","author","email","date","message"}. */
	if (!jsonw_obj_begin(w) || !gitp_wkey(w, "id") || !jsonw_str(w, id, GIT_OID_HEXSZ) ||
	    !gitp_wkey(w, "author") || !gitp_wstrz(w, a->name) || !gitp_wkey(w, "email") ||
	    !gitp_wstrz(w, a->email) || !gitp_wkey(w, "date") || !jsonw_str(w, date, strlen(date)) ||
	    !gitp_wkey(w, "message") || !gitp_wstr(w, msg, ml) || !jsonw_obj_end(w)) {
		o->oom = true;
		return false;
	}
	return true;
}

enum moat_rc gitp_log_tool(struct call_ctx *ctx, void *data, json_t *args,
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
	struct gitp_doc doc;
	size_t n = 0, older = 0, seen = 0;
	struct gitp_out o;
	enum moat_rc rc;
	int e;

	(void)data;
	gitp_out_init(&o, ctx, 0, NULL);
	gitp_doc_init(&doc);
	if (max > gitp_fam.lim.max_log_entries)
		return gitp_refuse(err, MOAT_ELIMIT, "git.max_log_entries",
				     "max_count: more than git.max_log_entries (%zu)",
				    gitp_fam.lim.max_log_entries);
	if ((since_s && (rc = gitp_when_parse(since_s, now, "start_timestamp", &since, err))) ||
	    (until_s && (rc = gitp_when_parse(until_s, now, "end_timestamp", &until, err))))
		return rc;
	if ((rc = gitp_open(ctx, args, &repo, &h, err)))
		goto out;
	/* {"commits":[...],"truncated":b}, written as the walk goes. */
	if (!jsonw_obj_begin(&doc.w) || !gitp_wkey(&doc.w, "commits") || !jsonw_arr_begin(&doc.w)) {
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
		ok = put_commit(&o, &doc.w, c);
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
done:
	jsonw_arr_end(&doc.w);
	gitp_wkey(&doc.w, "truncated");
	jsonw_bool(&doc.w, o.cut);
	jsonw_obj_end(&doc.w);
	rc = gitp_doc_take(&doc, out, gitp_out_take(&o, "the log"), err);
out:
	gitp_doc_free(&doc);
	gitp_out_free(&o);
	walk_free(&walk);
	git_reference_free(head);
	gitp_release(repo, h);
	return rc;
}
