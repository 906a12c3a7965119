/*
 * git_log.c - git_log: commits reachable from HEAD, newest first by commit
 * date (libgit2's time sort, the order `git log` prints), each as the
 * reference server prints it (Commit, Author, Date, Message), optionally
 * only those whose commit date lies between start_timestamp and
 * end_timestamp (`git log --since --until`). The walk stops after
 * max_count commits (at most git.max_log_entries), at the output budget,
 * once five commits in a row are older than start_timestamp (git's own
 * cut-off), and at the deadline or a cancel. Thread-safe.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gitp.h"

/* Commits older than --since in a row before the walk gives up (git uses 5). */
#define SINCE_SLOP 5

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
	git_revwalk *walk = NULL;
	json_t *commits = NULL;
	size_t n = 0, older = 0, seen = 0;
	struct gitp_out o;
	enum moat_rc rc;
	git_oid oid;
	int e;

	(void)data;
	gitp_out_init(&o, ctx, 0, NULL);
	if (max > gitp_fam.lim.max_log_entries)
		return moat_err_set(err, MOAT_ELIMIT, "max_count: more than git.max_log_entries (%zu)",
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
	if (git_revwalk_new(&walk, h) < 0 || git_revwalk_sorting(walk, GIT_SORT_TIME) < 0) {
		rc = gitp_git_err(err, MOAT_EUPSTREAM, "log");
		goto out;
	}
	e = git_repository_head_unborn(h) == 1 ? GIT_EUNBORNBRANCH : git_revwalk_push_head(walk);
	if (e == GIT_EUNBORNBRANCH || e == GIT_ENOTFOUND) {
		char desc[256];
		gitp_head_desc(h, desc, sizeof(desc));
		gitp_out_printf(&o, "(no commits yet: HEAD is an %s)\n", desc);
		goto done;
	}
	if (e < 0) {
		rc = gitp_git_err(err, MOAT_EUPSTREAM, "log");
		goto out;
	}
	while (n < max && (e = git_revwalk_next(&oid, walk)) == 0) {
		git_commit *c = NULL;
		git_time_t t;
		bool ok;
		if ((++seen & 255) == 0) {
			if ((rc = callctx_check(ctx, err)))
				goto out;
			callctx_progress(ctx, (double)n, (double)max, NULL);
		}
		if (git_commit_lookup(&c, h, &oid) < 0) {
			rc = gitp_git_err(err, MOAT_EUPSTREAM, "log");
			goto out;
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
	if (e < 0 && e != GIT_ITEROVER && !o.cut) {
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
	rc = gitp_result(out, s, gitp_out_take(&o, "the log"), err);
}
out:
	json_decref(commits);
	gitp_out_free(&o);
	git_revwalk_free(walk);
	gitp_release(repo, h);
	return rc;
}
