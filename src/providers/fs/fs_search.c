/*
 * fs_search.c - the fs family's search tools: search_files (glob over
 * relative paths, the reference server's minimatch semantics) and, beyond
 * the reference, grep_files (PCRE2 over the lines of text files). The
 * glob matcher is fs_glob.c.
 *
 * Walks open every directory beneath its root with openat(O_NOFOLLOW |
 * O_DIRECTORY) from the parent's fd and never follow a symlink; entries are
 * visited in byte order (what the reference gets from libuv's scandir).
 * Thread-safe: every call works on its own state.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "fs.h"
#include "fs_listing.h"
#include "text.h"


/* ---- shared walking -------------------------------------------------- */

static enum moat_rc globs_compile(const json_t *arr, struct fs_globs *gs, struct moat_err *err)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e) {
		enum moat_rc rc = fs_globs_add(gs, json_string_value(e), "excludePatterns", i, err);
		if (rc)
			return rc;
	}
	return MOAT_OK;
}

/* What a walk shares across its levels. */
struct walk {
	struct call_ctx *ctx;
	struct fs *fs;
	const struct fs_target *top;
	struct fs_out out;
	size_t results;     /* lines emitted */
	size_t max_results;
	bool stop;          /* a limit was hit: unwind */
	bool cut_entries;   /* max results reached */
	bool cut_budget;    /* output budget reached */
	bool cut_dir;       /* one directory held more than max_entries */
	bool cut_depth;     /* fs.max_depth reached */
	/* search_files */
	struct fs_glob *pattern;
	struct fs_globs exclude;
	/* grep_files */
	pcre2_code *re;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	struct fs_glob *include;
	size_t skipped_big, skipped_binary, unreadable;
	char *filebuf;
	char rel[PATH_MAX]; /* the entry being visited, below top */
};

/* Emit one result line; false (and stop) when a limit is reached. */
static bool walk_emit(struct walk *w, const char *line, size_t n)
{
	if (w->results >= w->max_results) {
		w->cut_entries = w->stop = true;
		return false;
	}
	if (w->results > 0 && !fs_out_add(&w->out, "\n", 1)) {
		w->cut_budget = w->stop = true;
		return false;
	}
	if (!fs_out_add(&w->out, line, n)) {
		w->cut_budget = w->stop = true;
		return false;
	}
	w->results++;
	return true;
}

typedef enum moat_rc (*walk_visit_fn)(struct walk *w, int dirfd, const struct fs_dirent *e,
				      const char *rel, bool *descend, struct moat_err *err);

/*
 * Walk the directory open at dirfd (borrowed), whose path below the walk's
 * top is w->rel[0..rlen) ("" at the top). Depth-first, entries in byte
 * order. One level per directory, at most fs.max_depth (and PATH_MAX / 2)
 * levels; the path lives in w->rel, not on the stack, so a frame stays
 * small whatever the depth. Polls the deadline per entry.
 */
static enum moat_rc walk_dir(struct walk *w, int dirfd, size_t rlen, uint32_t depth,
			     walk_visit_fn visit, struct moat_err *err)
{
	struct fs_dirents d = {0};
	enum moat_rc rc;

	if ((rc = fs_dirents_read(dirfd, w->fs->lim.max_entries, &d, err)))
		return rc;
	if (d.cut)
		w->cut_dir = true;
	for (size_t i = 0; i < d.n && !w->stop; i++) {
		bool descend = false;
		int sub;
		w->rel[rlen] = '\0';
		if ((rc = callctx_check(w->ctx, err)))
			goto out;
		if (!fs_join(w->rel, sizeof(w->rel), w->rel, d.v[i].name))
			continue; /* deeper than PATH_MAX: not reachable by path either */
		if ((rc = visit(w, dirfd, &d.v[i], w->rel, &descend, err)))
			goto out;
		if (!descend || w->stop || d.v[i].type != DT_DIR)
			continue;
		if (depth + 1 >= w->fs->lim.max_depth) {
			w->cut_depth = true;
			continue;
		}
		sub = openat(dirfd, d.v[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue; /* unreadable or swapped for a symlink: skipped */
		rc = walk_dir(w, sub, strlen(w->rel), depth + 1, visit, err);
		close(sub);
		if (rc)
			goto out;
	}
out:
	w->rel[rlen] = '\0';
	fs_dirents_free(&d);
	return rc;
}

/* Print "top/rel" into buf. */
static size_t show_path(const struct walk *w, const char *rel, char *buf, size_t n)
{
	if (!fs_join(buf, n, w->top->abs, rel))
		return 0;
	return strlen(buf);
}

/* ---- search_files ---------------------------------------------------- */

static enum moat_rc search_visit(struct walk *w, int dirfd, const struct fs_dirent *e,
				 const char *rel, bool *descend, struct moat_err *err)
{
	char shown[PATH_MAX];
	bool hit = false;
	enum moat_rc rc;
	size_t n;

	if (e->type == DT_LNK) {
		/* The reference skips links whose target it cannot validate
		 * (dangling or outside the allowed directories). Check that it
		 * resolves beneath the root, without following it anywhere. */
		struct fs_target t = {.root = w->top->root};
		struct moat_err ignore = {0};
		int fd;
		if (!fs_join(t.rel, sizeof(t.rel), strcmp(w->top->rel, ".") == 0 ? "" : w->top->rel,
			     rel))
			return MOAT_OK;
		fd = fs_openat(&t, O_PATH, 0, 0, &ignore);
		if (fd < 0)
			return MOAT_OK;
		close(fd);
	}
	if (w->exclude.n && (rc = fs_globs_any(&w->exclude, rel, w->ctx, &hit, err)))
		return rc;
	if (hit)
		return MOAT_OK; /* excluded: neither listed nor entered */
	if ((rc = fs_glob_match(w->pattern, rel, w->ctx, &hit, err)))
		return rc;
	if (hit) {
		n = show_path(w, rel, shown, sizeof(shown));
		if (n)
			walk_emit(w, shown, n);
	}
	*descend = true;
	return MOAT_OK;
}

static const char *walk_notes(struct walk *w, const char *what)
{
	if (w->cut_entries)
		fs_out_note(&w->out,
			    "[output cut: stopped after %zu %s (fs.max_entries); narrow the pattern "
			    "or the path]",
			    w->max_results, what);
	if (w->cut_budget)
		fs_out_note(&w->out,
			    "[output cut: stopped after %zu %s because the result reached the output "
			    "budget (limits.max_output_bytes)]",
			    w->results, what);
	if (w->cut_dir)
		fs_out_note(&w->out,
			    "[incomplete: a directory holds more than %zu entries (fs.max_entries); "
			    "only the first ones were searched]",
			    w->fs->lim.max_entries);
	if (w->cut_depth)
		fs_out_note(&w->out,
			    "[incomplete: directories deeper than %u levels were not searched "
			    "(fs.max_depth)]",
			    (unsigned)w->fs->lim.max_depth);
	return NULL;
}

static int open_walk_top(struct call_ctx *ctx, struct fs_view *v, json_t *args,
			 struct fs_target *t, struct moat_err *err)
{
	if (fs_resolve(v, json_string_value(json_object_get(args, "path")), t, err))
		return -1;
	fs_touch(ctx, t);
	return fs_open_listable(t, err);
}

static enum moat_rc search_files_tool(struct call_ctx *ctx, void *data, json_t *args,
				      struct tool_result *out, struct moat_err *err)
{
	struct fs *fs = data;
	struct fs_view *v = fs_view_get(fs);
	struct fs_target t;
	struct walk w = {.ctx = ctx, .fs = fs, .top = &t};
	enum moat_rc rc;
	int fd = -1;

	fs_out_init(&w.out, ctx->output_budget);
	w.max_results = fs->lim.max_entries;
	if ((rc = fs_glob_compile(json_string_value(json_object_get(args, "pattern")), &w.pattern,
				  err)))
		goto out;
	if ((rc = globs_compile(json_object_get(args, "excludePatterns"), &w.exclude, err)))
		goto out;
	fd = open_walk_top(ctx, v, args, &t, err);
	if (fd < 0) {
		rc = err->rc;
		goto out;
	}
	if ((rc = walk_dir(&w, fd, 0, 0, search_visit, err)))
		goto out;
	if (w.results == 0 && !w.stop)
		fs_out_add(&w.out, "No matches found", 16);
	walk_notes(&w, "matches");
	rc = fs_out_finish(&w.out, out, err);
out:
	if (fd >= 0)
		close(fd);
	fs_glob_free(w.pattern);
	fs_globs_free(&w.exclude);
	fs_out_free(&w.out);
	fs_view_put(fs, v);
	return rc;
}

/* ---- grep_files ------------------------------------------------------ */

#define GREP_LINE_MAX 500
#define GREP_BINARY_PROBE 8192
#define GREP_MATCH_LIMIT 1000000
#define GREP_DEPTH_LIMIT 10000

/* Read all of fd (at most cap bytes, which the caller checked) into
 * w->filebuf. Returns the length or -1. */
static ssize_t read_all(struct walk *w, int fd, size_t size)
{
	size_t got = 0;
	char *nb = realloc(w->filebuf, size + 1);

	if (!nb)
		return -1;
	w->filebuf = nb;
	while (got < size) {
		ssize_t r = read(fd, nb + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	nb[got] = '\0';
	return (ssize_t)got;
}

static enum moat_rc grep_line(struct walk *w, const char *rel, size_t lineno, const char *line,
			      size_t n, struct moat_err *err)
{
	char head[PATH_MAX + 32], text[GREP_LINE_MAX * 3 + 8], shown[PATH_MAX];
	size_t raw = n > GREP_LINE_MAX + 4 ? GREP_LINE_MAX + 4 : n, tl, hl;
	int r;

	r = pcre2_match(w->re, (PCRE2_SPTR)line, n, 0, 0, w->md, w->mctx);
	if (r == PCRE2_ERROR_NOMATCH)
		return MOAT_OK;
	if (r == PCRE2_ERROR_MATCHLIMIT || r == PCRE2_ERROR_DEPTHLIMIT ||
	    r == PCRE2_ERROR_HEAPLIMIT)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.regex_steps",
				     "pattern: the regular expression hit the PCRE2 match limit (%d "
				     "steps) on a line; simplify it (nested quantifiers backtrack "
				     "catastrophically)",
				     GREP_MATCH_LIMIT);
	if (r < 0)
		return MOAT_OK; /* other per-line failures: treat as no match */
	if (!show_path(w, rel, shown, sizeof(shown)))
		return MOAT_OK;
	tl = fs_utf8_clean(line, raw, text, sizeof(text));
	if (n > GREP_LINE_MAX || tl > GREP_LINE_MAX) {
		tl = text_utf8_prefix(text, GREP_LINE_MAX);
		text[tl] = '\0';
		/* U+2026: the line continues */
		if (tl + 4 < sizeof(text)) {
			memcpy(text + tl, "\xE2\x80\xA6", 4);
			tl += 3;
		}
	}
	hl = (size_t)snprintf(head, sizeof(head), "%s:%zu:", shown, lineno);
	if (hl >= sizeof(head))
		return MOAT_OK;
	if (w->results >= w->max_results) {
		w->cut_entries = w->stop = true;
		return MOAT_OK;
	}
	if (!fs_out_fits(&w->out, 1 + hl + tl, 0) ||
	    (w->results > 0 && !fs_out_add(&w->out, "\n", 1))) {
		w->cut_budget = w->stop = true;
		return MOAT_OK;
	}
	fs_out_add(&w->out, head, hl);
	fs_out_add(&w->out, text, tl);
	w->results++;
	return MOAT_OK;
}

static enum moat_rc grep_visit(struct walk *w, int dirfd, const struct fs_dirent *e,
			       const char *rel, bool *descend, struct moat_err *err)
{
	struct stat st;
	enum moat_rc rc = MOAT_OK;
	ssize_t len;
	size_t lineno = 0;
	int fd;

	if (e->type == DT_DIR) {
		*descend = true;
		return MOAT_OK;
	}
	if (e->type != DT_REG)
		return MOAT_OK; /* links are never followed; FIFOs etc. never read */
	if (w->include) {
		bool hit = false;
		if ((rc = fs_glob_match(w->include, e->name, w->ctx, &hit, err)))
			return rc;
		if (!hit)
			return MOAT_OK;
	}
	fd = openat(dirfd, e->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		w->unreadable++;
		return MOAT_OK;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return MOAT_OK;
	}
	if ((uint64_t)st.st_size > w->fs->lim.max_file_size) {
		w->skipped_big++;
		close(fd);
		return MOAT_OK;
	}
	len = read_all(w, fd, (size_t)st.st_size);
	close(fd);
	if (len < 0) {
		w->unreadable++;
		return MOAT_OK;
	}
	if (memchr(w->filebuf, '\0', (size_t)len < GREP_BINARY_PROBE ? (size_t)len
								      : GREP_BINARY_PROBE)) {
		w->skipped_binary++;
		return MOAT_OK;
	}
	for (const char *p = w->filebuf, *end = w->filebuf + len; p < end && !w->stop;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		/* every 16 lines: one line may cost up to GREP_MATCH_LIMIT steps */
		if ((lineno & 15) == 0 && (rc = callctx_check(w->ctx, err)))
			return rc;
		if ((rc = grep_line(w, rel, lineno, p, n > 0 && p[n - 1] == '\r' ? n - 1 : n, err)))
			return rc;
		p += n + 1;
	}
	return MOAT_OK;
}

static enum moat_rc grep_compile(struct walk *w, const char *pattern, struct moat_err *err)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int code;

	w->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C, &code,
			      &off, NULL);
	if (!w->re) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		return moat_err_rule(err, MOAT_EINVAL, "schema.invalid",
				     "pattern is not a valid PCRE2 regular expression: %s (at offset "
				     "%zu)",
				     (const char *)msg, (size_t)off);
	}
	w->md = pcre2_match_data_create_from_pattern(w->re, NULL);
	w->mctx = pcre2_match_context_create(NULL);
	if (!w->md || !w->mctx)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	pcre2_set_match_limit(w->mctx, GREP_MATCH_LIMIT);
	pcre2_set_depth_limit(w->mctx, GREP_DEPTH_LIMIT);
	pcre2_set_heap_limit(w->mctx, 20000); /* KiB */
	return MOAT_OK;
}

static enum moat_rc grep_files_tool(struct call_ctx *ctx, void *data, json_t *args,
				    struct tool_result *out, struct moat_err *err)
{
	struct fs *fs = data;
	struct fs_view *v = fs_view_get(fs);
	struct fs_target t;
	struct walk w = {.ctx = ctx, .fs = fs, .top = &t};
	json_t *mm = json_object_get(args, "maxMatches");
	const char *inc = json_string_value(json_object_get(args, "include"));
	enum moat_rc rc;
	int fd = -1;

	fs_out_init(&w.out, ctx->output_budget);
	w.max_results = fs->lim.max_grep_matches;
	if (json_is_integer(mm) && json_integer_value(mm) > 0 &&
	    (uint64_t)json_integer_value(mm) < w.max_results)
		w.max_results = (size_t)json_integer_value(mm);
	if ((rc = grep_compile(&w, json_string_value(json_object_get(args, "pattern")), err)))
		goto out;
	if (inc && (rc = fs_glob_compile(inc, &w.include, err))) {
		char msg[MOAT_ERR_MSG_MAX];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		/* "pattern: ..." names the argument: "include: ..." (the rule stays) */
		rc = moat_err_set(err, rc, "include: %s",
				  strncmp(msg, "pattern: ", 9) == 0 ? msg + 9 : msg);
		goto out;
	}
	fd = open_walk_top(ctx, v, args, &t, err);
	if (fd < 0) {
		rc = err->rc;
		goto out;
	}
	if ((rc = walk_dir(&w, fd, 0, 0, grep_visit, err)))
		goto out;
	if (w.results == 0 && !w.stop)
		fs_out_add(&w.out, "No matches found", 16);
	if (w.cut_entries) {
		fs_out_note(&w.out,
			    "[output cut: stopped after %zu matches (maxMatches, at most "
			    "fs.max_grep_matches = %u)]",
			    w.max_results, (unsigned)fs->lim.max_grep_matches);
		w.cut_entries = false;
	}
	walk_notes(&w, "matches");
	if (w.skipped_binary || w.skipped_big || w.unreadable)
		fs_out_note(&w.out,
			    "[skipped %zu binary file(s) (a NUL byte in the first 8 KiB), %zu file(s) "
			    "larger than fs.max_file_size (%zu bytes), %zu unreadable file(s)]",
			    w.skipped_binary, w.skipped_big, fs->lim.max_file_size, w.unreadable);
	rc = fs_out_finish(&w.out, out, err);
out:
	if (fd >= 0)
		close(fd);
	pcre2_match_data_free(w.md);
	pcre2_match_context_free(w.mctx);
	pcre2_code_free(w.re);
	fs_glob_free(w.include);
	free(w.filebuf);
	fs_out_free(&w.out);
	fs_view_put(fs, v);
	return rc;
}

/* ---- registration ---------------------------------------------------- */

enum moat_rc fs_register_search(struct registry *reg, struct fs *fs, struct moat_err *err)
{
	static const struct fs_tool_def tools[] = {
		{"search_files", "Search Files",
		 "Recursively search for files and directories matching a pattern. The patterns "
		 "should be glob-style patterns that match paths relative to the working directory. "
		 "Use pattern like '*.ext' to match files in current directory, and '**/*.ext' to "
		 "match files in all subdirectories. Returns full paths to all matching items. Great "
		 "for finding files when you don't know their exact location. Symlinks are listed, "
		 "never followed. Only searches within allowed directories.",
		 "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},\"pattern\":{"
		 "\"type\":\"string\"},\"excludePatterns\":{\"type\":\"array\",\"items\":{\"type\":"
		 "\"string\"},\"default\":[]}},\"required\":[\"path\",\"pattern\"],"
		 "\"additionalProperties\":false}",
		 search_files_tool, false},
		{"grep_files", "Grep Files",
		 "Search the contents of text files under a directory with a PCRE2 regular "
		 "expression (UTF-8). Returns one 'path:line:text' line per matching line (long "
		 "lines are cut). 'include' is a glob on file names (e.g. '*.{c,h}'). Binary files "
		 "and files larger than the configured limit are skipped; symlinks are not followed. "
		 "Stops after maxMatches matches. Only searches within allowed directories.",
		 "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},\"pattern\":{"
		 "\"type\":\"string\",\"description\":\"PCRE2 regular expression\"},\"include\":{"
		 "\"type\":\"string\",\"description\":\"glob on file names, e.g. *.c\"},"
		 "\"maxMatches\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"stop after "
		 "this many matching lines\"}},\"required\":[\"path\",\"pattern\"],"
		 "\"additionalProperties\":false}",
		 grep_files_tool, false},
	};
	return fs_register_readonly(reg, fs, tools, sizeof(tools) / sizeof(tools[0]),
				    FS_TEXT_OUTPUT_SCHEMA, err);
}
