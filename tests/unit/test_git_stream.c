/*
 * test_git_stream.c - the proof that the git family's streaming writers
 * (git_log, git_diff_unstaged, git_diff_staged, git_diff, git_show,
 * git_blame, git_ls_files: structuredContent written with jsonw as the
 * walk or the patch goes, issue 17) answer with the very bytes the tree
 * builders they replaced gave (git_ref.c and git_ref_diff.c, kept here
 * only): structuredContent compared with wire_write of the old tree, the
 * content text compared whole, the return code and the error message
 * compared when a call fails.
 *
 * The repositories come from git_stream_fixture.c (seeded: merges,
 * renames, binary, symlink, mode change, odd names, messages and authors
 * with quotes, controls, non-ASCII and invalid UTF-8; staged, unstaged
 * and untracked changes). Every tool runs under a sweep of output
 * budgets, git.max_diff_bytes, git.max_files, git.max_blame_lines,
 * max_count, context_lines and date filters, so the cut falls at every
 * kind of place (within an entry's text, between entries, at a file
 * header, at a hunk header); the test counts that cut and uncut answers
 * both occurred for each tool, so a sweep that stopped reaching the caps
 * would fail. MOAT_GIT_STREAM_REPO=<path> (optional) adds the same
 * comparisons on a large repository, such as bench/git.sh's
 * (bench/out/git-fixture); the case is skipped, not passed, without it.
 * With MOAT_GIT_STREAM_TIMES=<n> too, it prints CPU times of streamed
 * against tree-built calls (informative, not asserted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "callctx.h"
#include "git/gitp.h"
#include "wire.h"

#include "git_ref.c"
#include "git_ref_diff.c"

typedef enum moat_rc (*tool_fn)(struct call_ctx *ctx, void *data, json_t *args,
				struct tool_result *out, struct moat_err *err);

static char base[256];

#include "git_stream_fixture.c"

/* ---- what the comparisons saw ---- */

struct tally {
	const char *tool;
	size_t calls, cut, whole, failed;
};

#define NTOOLS 7
static struct tally tallies[NTOOLS] = {
	{"git_log", 0, 0, 0, 0},  {"git_diff_unstaged", 0, 0, 0, 0}, {"git_diff_staged", 0, 0, 0, 0},
	{"git_diff", 0, 0, 0, 0}, {"git_show", 0, 0, 0, 0},          {"git_blame", 0, 0, 0, 0},
	{"git_ls_files", 0, 0, 0, 0},
};

static struct tally *tally_of(const char *tool)
{
	for (size_t i = 0; i < NTOOLS; i++)
		if (strcmp(tallies[i].tool, tool) == 0)
			return &tallies[i];
	fail_msg("no tally for %s", tool);
	return NULL;
}

static const char *text_of(const struct tool_result *r)
{
	return json_string_value(json_object_get(json_array_get(r->content, 0), "text"));
}

/* Show where two documents part, then fail. */
static void differ(const char *what, const char *tool, const char *a, size_t al, const char *b,
		   size_t bl)
{
	size_t i = 0;

	while (i < al && i < bl && a[i] == b[i])
		i++;
	fail_msg("%s: %s differs at byte %zu (streamed %zu bytes, tree %zu):\n  streamed: %.*s\n"
		 "  tree:     %.*s",
		 tool, what, i, al, bl, (int)(al - i < 120 ? al - i : 120), a + i,
		 (int)(bl - i < 120 ? bl - i : 120), b + i);
}

/* Run tool (streaming) and ref (tree) with args under budget: the same rc,
 * message, structuredContent bytes and text. */
static void same(const char *tool, tool_fn now, tool_fn ref, json_t *args, size_t budget)
{
	struct call_ctx c1, c2;
	struct tool_result r1 = {0}, r2 = {0};
	struct moat_err e1 = {0}, e2 = {0};
	struct tally *t = tally_of(tool);
	enum moat_rc a, b;

	callctx_init(&c1, tool, 0, budget);
	callctx_init(&c2, tool, 0, budget);
	a = now(&c1, NULL, args, &r1, &e1);
	b = ref(&c2, NULL, args, &r2, &e2);
	t->calls++;
	if (a != b)
		fail_msg("%s: rc %d (%s) streamed, %d (%s) tree", tool, a, e1.msg, b, e2.msg);
	if (a != MOAT_OK) {
		assert_string_equal(e1.msg, e2.msg);
		t->failed++;
	} else {
		char *doc;
		size_t dl;
		const char *t1 = text_of(&r1), *t2 = text_of(&r2);
		assert_null(r1.structured);
		assert_non_null(r1.structured_json);
		assert_non_null(r2.structured);
		assert_null(r2.structured_json);
		doc = wire_dumps(r2.structured);
		assert_non_null(doc);
		dl = strlen(doc);
		if (r1.structured_len != dl || memcmp(r1.structured_json, doc, dl) != 0)
			differ("structuredContent", tool, r1.structured_json, r1.structured_len, doc,
			       dl);
		assert_int_equal(strlen(r1.structured_json), r1.structured_len);
		free(doc);
		assert_non_null(t1);
		assert_non_null(t2);
		if (strcmp(t1, t2) != 0)
			differ("text", tool, t1, strlen(t1), t2, strlen(t2));
		assert_int_equal(json_array_size(r1.content), 1);
		assert_int_equal(json_array_size(r2.content), 1);
		if (json_is_true(json_object_get(r2.structured, "truncated")))
			t->cut++;
		else
			t->whole++;
	}
	tool_result_clear(&r1);
	tool_result_clear(&r2);
	callctx_release(&c1);
	callctx_release(&c2);
}

/* ---- the family's state over one repository ---- */

static void family_open(const char *dir)
{
	char *real = realpath(dir, NULL);
	char gd[600];
	struct gitp_repo *r;

	assert_non_null(real);
	gitp_fam.repos = r = calloc(1, sizeof(*r));
	assert_non_null(r);
	gitp_fam.nrepos = 1;
	r->name = strdup("r");
	r->path = strdup(real);
	r->workdir = strdup(real);
	snprintf(gd, sizeof(gd), "%s/.git", real);
	r->gitdir = realpath(gd, NULL);
	r->commondir = strdup(r->gitdir);
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->freed, NULL);
	free(real);
	gitp_fam.lim.max_diff_bytes = GITP_DEFAULT_MAX_DIFF_BYTES;
	gitp_fam.lim.max_file_bytes = GITP_DEFAULT_MAX_FILE_BYTES;
	gitp_fam.lim.max_log_entries = GITP_DEFAULT_MAX_LOG_ENTRIES;
	gitp_fam.lim.max_blame_lines = GITP_DEFAULT_MAX_BLAME_LINES;
	gitp_fam.lim.max_files = GITP_DEFAULT_MAX_FILES;
}

static void family_close(void)
{
	struct gitp_repo *r = gitp_fam.repos;

	gitp_repo_free(r);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->freed);
	free(r);
	memset(&gitp_fam, 0, sizeof(gitp_fam));
}

/* ---- the sweeps ---- */

static json_t *args_repo(void)
{
	json_t *a = json_pack("{s:s}", "repo_path", "r");

	assert_non_null(a);
	return a;
}

/* Budgets from a few hundred bytes to past the whole answer: the cut falls
 * everywhere in between. */
static void sweep(const char *tool, tool_fn now, tool_fn ref, json_t *args, size_t full,
		  size_t steps)
{
	size_t step = full / steps + 1;

	for (size_t b = 64; b < full + 3 * 2048; b += step + rnd(37))
		same(tool, now, ref, args, b);
	same(tool, now, ref, args, 1 << 24);
}

static void log_cases(size_t ncommits)
{
	json_t *a = args_repo();
	char at[64];

	sweep("git_log", gitp_log_tool, ref_log_tool, a, 500 * ncommits, 60);
	for (size_t mc = 1; mc <= ncommits + 2; mc += 1 + rnd(4)) {
		json_object_set_new(a, "max_count", json_integer((json_int_t)mc));
		same("git_log", gitp_log_tool, ref_log_tool, a, 1 << 24);
		same("git_log", gitp_log_tool, ref_log_tool, a, 2048 + 400 * mc);
	}
	json_object_set_new(a, "max_count", json_integer(1000));
	gitp_fam.lim.max_log_entries = 5; /* over the family's limit: refused alike */
	same("git_log", gitp_log_tool, ref_log_tool, a, 1 << 24);
	gitp_fam.lim.max_log_entries = GITP_DEFAULT_MAX_LOG_ENTRIES;
	for (int i = 0; i < 6; i++) {
		snprintf(at, sizeof(at), "@%lld", 1704067200LL + (long long)rnd(30 * 20000));
		json_object_set_new(a, i & 1 ? "end_timestamp" : "start_timestamp", json_string(at));
		same("git_log", gitp_log_tool, ref_log_tool, a, 1 << 24);
		same("git_log", gitp_log_tool, ref_log_tool, a, 3000);
	}
	json_decref(a);
}

static void diff_cases(const char *tool, tool_fn now, tool_fn ref, const char *target)
{
	json_t *a = args_repo();

	if (target)
		json_object_set_new(a, "target", json_string(target));
	for (int ctxl = 0; ctxl <= 3; ctxl += 3) {
		json_object_set_new(a, "context_lines", json_integer(ctxl));
		sweep(tool, now, ref, a, 40000, 40);
		for (size_t mb = 1; mb < 40000; mb = mb * 3 + rnd(50)) {
			gitp_fam.lim.max_diff_bytes = mb;
			same(tool, now, ref, a, 1 << 24);
		}
		gitp_fam.lim.max_diff_bytes = GITP_DEFAULT_MAX_DIFF_BYTES;
		for (size_t mf = 1; mf <= 4; mf++) {
			gitp_fam.lim.max_files = mf;
			same(tool, now, ref, a, 1 << 24);
		}
		gitp_fam.lim.max_files = GITP_DEFAULT_MAX_FILES;
	}
	json_decref(a);
}

static void show_cases(const git_oid *ids, size_t nid)
{
	json_t *a = args_repo();
	char hex[GIT_OID_HEXSZ + 1];

	for (size_t i = 0; i < nid; i++) {
		git_oid_tostr(hex, sizeof(hex), &ids[i]);
		json_object_set_new(a, "revision", json_string(hex));
		same("git_show", gitp_show_tool, ref_show_tool, a, 1 << 24);
		if (i % 3 == 0)
			sweep("git_show", gitp_show_tool, ref_show_tool, a, 20000, 12);
		gitp_fam.lim.max_diff_bytes = 1 + rnd(3000);
		same("git_show", gitp_show_tool, ref_show_tool, a, 1 << 24);
		gitp_fam.lim.max_diff_bytes = GITP_DEFAULT_MAX_DIFF_BYTES;
		gitp_fam.lim.max_files = 1 + rnd(2);
		same("git_show", gitp_show_tool, ref_show_tool, a, 1 << 24);
		gitp_fam.lim.max_files = GITP_DEFAULT_MAX_FILES;
	}
	json_object_set_new(a, "revision", json_string("no-such-revision"));
	same("git_show", gitp_show_tool, ref_show_tool, a, 1 << 24);
	json_decref(a);
}

static void blame_cases(const git_oid *ids, size_t nid)
{
	json_t *a = args_repo();
	char hex[GIT_OID_HEXSZ + 1];

	for (size_t k = 0; k < NFILES; k++) {
		json_object_set_new(a, "path", json_string(names[k]));
		json_object_del(a, "start_line");
		json_object_del(a, "end_line");
		json_object_del(a, "revision");
		same("git_blame", gitp_blame_tool, ref_blame_tool, a, 1 << 24);
		if (!files[k].present)
			continue;
		if (k == 11 || k == 0)
			sweep("git_blame", gitp_blame_tool, ref_blame_tool, a, 30000, 25);
		gitp_fam.lim.max_blame_lines = 1 + rnd(5);
		same("git_blame", gitp_blame_tool, ref_blame_tool, a, 1 << 24);
		gitp_fam.lim.max_blame_lines = GITP_DEFAULT_MAX_BLAME_LINES;
		json_object_set_new(a, "start_line", json_integer(1 + rnd(3)));
		json_object_set_new(a, "end_line", json_integer(2 + rnd(8)));
		same("git_blame", gitp_blame_tool, ref_blame_tool, a, 1 << 24);
		git_oid_tostr(hex, sizeof(hex), &ids[nid / 2]);
		json_object_set_new(a, "revision", json_string(hex));
		same("git_blame", gitp_blame_tool, ref_blame_tool, a, 1 << 24);
	}
	json_decref(a);
}

static void ls_cases(const git_oid *ids, size_t nid)
{
	static const char *const prefixes[] = {NULL, "dir", "dir/", "a.txt", "dir/sub",
					       "\xc3\xbcn\xc3\xaf", "nothing", ".."};
	json_t *a = args_repo();
	char hex[GIT_OID_HEXSZ + 1];

	for (int rev = 0; rev < 3; rev++) {
		if (rev == 1) {
			git_oid_tostr(hex, sizeof(hex), &ids[rnd((unsigned)nid)]);
			json_object_set_new(a, "revision", json_string(hex));
		} else if (rev == 2) {
			json_object_set_new(a, "revision", json_string("HEAD"));
		}
		for (size_t p = 0; p < sizeof(prefixes) / sizeof(prefixes[0]); p++) {
			if (prefixes[p])
				json_object_set_new(a, "path", json_string(prefixes[p]));
			else
				json_object_del(a, "path");
			same("git_ls_files", gitp_ls_files_tool, ref_ls_files_tool, a, 1 << 24);
		}
		json_object_del(a, "path");
		sweep("git_ls_files", gitp_ls_files_tool, ref_ls_files_tool, a, 6000, 20);
		for (size_t mf = 1; mf <= 5; mf++) {
			gitp_fam.lim.max_files = mf;
			same("git_ls_files", gitp_ls_files_tool, ref_ls_files_tool, a, 1 << 24);
		}
		gitp_fam.lim.max_files = GITP_DEFAULT_MAX_FILES;
	}
	json_decref(a);
}

static void one_repo(uint64_t seed, size_t n)
{
	git_oid ids[64];
	size_t nid = 0;
	char hex[GIT_OID_HEXSZ + 1];
	git_repository *h = build(seed, n, ids, &nid);

	family_open(git_repository_workdir(h));
	log_cases(nid);
	diff_cases("git_diff_unstaged", gitp_diff_unstaged_tool, ref_diff_unstaged_tool, NULL);
	diff_cases("git_diff_staged", gitp_diff_staged_tool, ref_diff_staged_tool, NULL);
	git_oid_tostr(hex, sizeof(hex), &ids[0]);
	diff_cases("git_diff", gitp_diff_tool, ref_diff_tool, hex);
	diff_cases("git_diff", gitp_diff_tool, ref_diff_tool, "HEAD~2");
	show_cases(ids, nid);
	blame_cases(ids, nid);
	ls_cases(ids, nid);
	family_close();
	git_repository_free(h);
}

static void test_random_repositories(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 4; seed++)
		one_repo(0x9e3779b97f4a7c15ULL * seed, 14 + 4 * seed);
	for (size_t i = 0; i < NTOOLS; i++) {
		print_message("%s: %zu calls, %zu cut, %zu whole, %zu failed alike\n", tallies[i].tool,
			      tallies[i].calls, tallies[i].cut, tallies[i].whole, tallies[i].failed);
		/* the sweeps reached the caps, and also answered whole */
		assert_true(tallies[i].cut > 0);
		assert_true(tallies[i].whole > 0);
	}
	assert_true(tally_of("git_show")->failed > 0);
}

/* An unborn HEAD: git_log's "(no commits yet...)", the staged diff against
 * nothing, an empty unstaged diff. */
static void test_unborn(void **state)
{
	git_repository *h = NULL;
	char w[600];
	json_t *a;

	(void)state;
	snprintf(w, sizeof(w), "%s/unborn", base);
	assert_int_equal(git_repository_init(&h, w, false), 0);
	family_open(w);
	a = args_repo();
	same("git_log", gitp_log_tool, ref_log_tool, a, 1 << 24);
	same("git_diff_staged", gitp_diff_staged_tool, ref_diff_staged_tool, a, 1 << 24);
	same("git_diff_unstaged", gitp_diff_unstaged_tool, ref_diff_unstaged_tool, a, 1 << 24);
	json_decref(a);
	family_close();
	git_repository_free(h);
}

/* ---- timings (MOAT_GIT_STREAM_TIMES=<calls>, with MOAT_GIT_STREAM_REPO) ---- */

static double cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Whole calls, alternating: the streaming tool, then the tree builder plus
 * the wire_write the server made of its tree (the splice of the streamed
 * text is a memcpy, left out). CPU time of this process per call. */
static void time_tool(const char *tool, tool_fn now, tool_fn ref, json_t *args, int n)
{
	double tn = 0, tr = 0;
	char *shown = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);

	for (int i = 0; i < n; i++) {
		struct call_ctx c;
		struct tool_result r = {0};
		struct moat_err e;
		double t0 = cpu_us();
		char *doc;

		callctx_init(&c, tool, 0, 64 << 20);
		assert_int_equal(now(&c, NULL, args, &r, &e), MOAT_OK);
		tool_result_clear(&r);
		callctx_release(&c);
		tn += cpu_us() - t0;
		t0 = cpu_us();
		callctx_init(&c, tool, 0, 64 << 20);
		assert_int_equal(ref(&c, NULL, args, &r, &e), MOAT_OK);
		doc = wire_dumps(r.structured);
		free(doc);
		tool_result_clear(&r);
		callctx_release(&c);
		tr += cpu_us() - t0;
	}
	print_message("time %s %s: streamed %.1f us/call, tree %.1f us/call, streamed/tree %.3f\n",
		      tool, shown, tn / n, tr / n, tn / tr);
	free(shown);
}

/* The patch printing alone (git_diff_print with the writer or with the
 * tree builder and its wire_write), on one diff made once. */
static void time_emit(const char *target, int n)
{
	git_repository *h = NULL;
	git_object *tree = NULL;
	git_diff *diff = NULL;
	git_diff_find_options fo;
	git_diff_options opts;
	struct gitp_compare cmp;
	struct call_ctx c;
	double tn = 0, tr = 0;
	size_t nf;

	callctx_init(&c, "git_diff", 0, 64 << 20);
	cmp.ctx = &c;
	cmp.files = 0;
	assert_int_equal(git_repository_open(&h, gitp_fam.repos[0].path), 0);
	{
		char spec[64];
		snprintf(spec, sizeof(spec), "%s^{tree}", target);
		assert_int_equal(git_revparse_single(&tree, h, spec), 0);
	}
	gitp_diff_opts(NULL, &cmp, &opts);
	assert_int_equal(git_diff_tree_to_workdir_with_index(&diff, h, (git_tree *)tree, &opts), 0);
	git_diff_find_options_init(&fo, GIT_DIFF_FIND_OPTIONS_VERSION);
	fo.flags = GIT_DIFF_FIND_RENAMES;
	assert_int_equal(git_diff_find_similar(diff, &fo), 0);
	for (int i = 0; i < n; i++) {
		struct gitp_out o;
		struct gitp_doc d;
		struct moat_err e;
		json_t *fa, *st;
		char *text, *doc;
		size_t len;
		double t0 = cpu_us();

		gitp_out_init(&o, &c, 64 << 20, "max_diff_bytes");
		gitp_doc_init(&d);
		jsonw_obj_begin(&d.w);
		gitp_wkey(&d.w, "files");
		assert_int_equal(gitp_diff_emit(&c, diff, &o, &d.w, &nf, &e), MOAT_OK);
		gitp_wkey(&d.w, "truncated");
		jsonw_bool(&d.w, o.cut);
		jsonw_obj_end(&d.w);
		assert_true(jsonw_done(&d.w));
		free(gitp_out_take(&o, "the diff"));
		doc = wire_buf_take(&d.b, &len);
		free(doc);
		tn += cpu_us() - t0;
		t0 = cpu_us();
		gitp_out_init(&o, &c, 64 << 20, "max_diff_bytes");
		fa = json_array();
		assert_int_equal(ref_diff_emit(&c, diff, &o, fa, &e), MOAT_OK);
		st = json_pack("{s:o, s:b}", "files", fa, "truncated", o.cut);
		text = gitp_out_take(&o, "the diff");
		doc = wire_dumps(st);
		free(doc);
		free(text);
		json_decref(st);
		tr += cpu_us() - t0;
	}
	print_message("time patch printing, %s to the work tree (%zu files): streamed %.1f us, "
		      "tree %.1f us, streamed/tree %.3f\n", target, nf, tn / n, tr / n, tn / tr);
	git_diff_free(diff);
	git_object_free(tree);
	git_repository_free(h);
	callctx_release(&c);
}

/* A large repository named by MOAT_GIT_STREAM_REPO (bench/git.sh's fixture). */
static void test_large_repository(void **state)
{
	const char *dir = getenv("MOAT_GIT_STREAM_REPO");
	json_t *a;

	(void)state;
	if (!dir || !*dir)
		skip();
	family_open(dir);
	gitp_fam.lim.max_diff_bytes = 64 << 20;
	a = args_repo();
	json_object_set_new(a, "max_count", json_integer(100));
	same("git_log", gitp_log_tool, ref_log_tool, a, 64 << 20);
	json_object_set_new(a, "max_count", json_integer(1000));
	same("git_log", gitp_log_tool, ref_log_tool, a, 64 << 20);
	same("git_log", gitp_log_tool, ref_log_tool, a, 100000);
	json_object_del(a, "max_count");
	same("git_diff_unstaged", gitp_diff_unstaged_tool, ref_diff_unstaged_tool, a, 64 << 20);
	json_object_set_new(a, "target", json_string("HEAD~50"));
	same("git_diff", gitp_diff_tool, ref_diff_tool, a, 64 << 20);
	same("git_diff", gitp_diff_tool, ref_diff_tool, a, 200000);
	json_object_set_new(a, "revision", json_string("HEAD~10"));
	same("git_show", gitp_show_tool, ref_show_tool, a, 64 << 20);
	json_object_del(a, "target");
	same("git_ls_files", gitp_ls_files_tool, ref_ls_files_tool, a, 64 << 20);
	same("git_ls_files", gitp_ls_files_tool, ref_ls_files_tool, a, 100000);
	json_object_set_new(a, "path", json_string("d07"));
	same("git_ls_files", gitp_ls_files_tool, ref_ls_files_tool, a, 64 << 20);
	json_decref(a);
	if (getenv("MOAT_GIT_STREAM_TIMES")) {
		int n = atoi(getenv("MOAT_GIT_STREAM_TIMES"));
		a = args_repo();
		json_object_set_new(a, "max_count", json_integer(100));
		time_tool("git_log", gitp_log_tool, ref_log_tool, a, n);
		json_object_set_new(a, "max_count", json_integer(1000));
		time_tool("git_log", gitp_log_tool, ref_log_tool, a, n / 4 + 1);
		json_object_del(a, "max_count");
		time_tool("git_ls_files", gitp_ls_files_tool, ref_ls_files_tool, a, n / 4 + 1);
		json_object_set_new(a, "revision", json_string("HEAD~10"));
		time_tool("git_show", gitp_show_tool, ref_show_tool, a, n / 4 + 1);
		json_object_del(a, "revision");
		json_object_set_new(a, "target", json_string("HEAD~50"));
		time_tool("git_diff", gitp_diff_tool, ref_diff_tool, a, n / 20 + 1);
		json_decref(a);
		time_emit("HEAD~50", n / 20 + 1);
		time_emit("HEAD~1000", n / 40 + 1);
	}
	family_close();
}

static int setup(void **state)
{
	char tmpl[] = "/tmp/moat-git-stream-XXXXXX", *real;

	(void)state;
	if (!mkdtemp(tmpl) || !(real = realpath(tmpl, NULL)))
		return -1;
	snprintf(base, sizeof(base), "%s", real);
	free(real);
	/* No system or global config: the repositories read only their own. */
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("HOME", base, 1);
	setenv("TZ", "UTC", 1);
	if (git_libgit2_init() < 0)
		return -1;
	for (int l = GIT_CONFIG_LEVEL_PROGRAMDATA; l <= GIT_CONFIG_LEVEL_GLOBAL; l++)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, l, "");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (size_t k = 0; k < NFILES; k++)
		file_free(&files[k]);
	git_libgit2_shutdown();
	nftw(base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_repositories),
		cmocka_unit_test(test_unborn),
		cmocka_unit_test(test_large_repository),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
