/*
 * test_fs_result.c - the fs family's streamed answers (fs_result.c, issue
 * 17) against the tree builder they replaced (fs_result_ref.c): the
 * structuredContent, the content blocks and the whole tools/call result
 * message as the core writes it (the old one with the shared string that
 * wire.c escapes once and copies, the new one spliced in) must be the same
 * bytes. First on random texts (quotes, backslashes, control characters,
 * U+2028, non-ASCII, lengths around wire.c's 4 KiB memo and up to 1 MiB),
 * then on what the real tools (list_directory, list_directory_with_sizes,
 * directory_tree, search_files, grep_files, get_file_info,
 * list_allowed_directories) answer over random trees whose names hold
 * the same characters, invalid UTF-8 and 255-byte names, under small
 * output budgets and entry caps so that the cuts and their notes are
 * exercised (the test fails if none was). Works in a temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fs/fs.h"
#include "fs/fs_result.h"
#include "registry.h"
#include "wire.h"

#include "fs_result_ref.c"

static uint64_t rng = 0x9E3779B97F4A7C15u;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

/* Pieces of text that matter to JSON escaping and UTF-8. */
static const char *const pieces[] = {
	"a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\r", "\b", "\f", "\x01", "\x1f", "\x7f",
	"\xc3\xa9", "\xe4\xb8\xad", "\xf0\x9f\x98\x80", "\xe2\x80\xa8", "[DIR]", "{}", "'",
};

/* Append random pieces to buf until it holds about want bytes. */
static size_t rand_text(char *buf, size_t cap, size_t want)
{
	size_t n = 0;

	while (n < want) {
		const char *p = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
		size_t l = strlen(p);
		if (n + l + 1 > cap)
			break;
		memcpy(buf + n, p, l);
		n += l;
	}
	buf[n] = '\0';
	return n;
}

/* The tools/call result message as the core writes it: with the tree
 * (structured) or with the streamed text spliced where its placeholder is. */
static char *message(const struct tool_result *r, size_t *len)
{
	json_t *res = json_object(), *node = NULL, *msg;
	struct wire_buf b;
	char *out;

	json_object_set(res, "content", r->content);
	if (r->structured_json) {
		node = json_object();
		json_object_set(res, "structuredContent", node);
	} else {
		json_object_set(res, "structuredContent", r->structured);
	}
	json_object_set_new(res, "isError", json_false());
	msg = json_pack("{s:s, s:i, s:o}", "jsonrpc", "2.0", "id", 7, "result", res);
	assert_non_null(msg);
	wire_buf_init(&b, NULL, 0);
	if (node)
		wire_splice(&b, node, r->structured_json, r->structured_len);
	assert_true(wire_write(&b, msg));
	out = wire_buf_take(&b, len);
	assert_non_null(out);
	json_decref(msg);
	json_decref(node);
	return out;
}

/* new (streamed) and ref (tree) must be the same bytes everywhere. */
static void assert_same(const struct tool_result *nw, const struct tool_result *ref)
{
	char *a = wire_dumps(nw->content), *b = wire_dumps(ref->content);
	char *s = wire_dumps(ref->structured);
	size_t la, lb;

	assert_non_null(nw->structured_json);
	assert_null(nw->structured);
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(s);
	assert_string_equal(a, b);
	assert_int_equal(nw->structured_len, strlen(s));
	assert_memory_equal(nw->structured_json, s, nw->structured_len);
	free(a);
	free(b);
	free(s);
	a = message(nw, &la);
	b = message(ref, &lb);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(a);
	free(b);
}

static void test_random_texts(void **state)
{
	static const size_t sizes[] = {0, 1, 7, 80, 300, 4090, 4096, 4200, 70000, 1u << 20};
	size_t cap = (1u << 20) + 64;
	char *buf = malloc(cap);

	(void)state;
	assert_non_null(buf);
	for (int round = 0; round < 400; round++) {
		size_t want = round < 40 ? sizes[round % 10] : rnd(600);
		size_t n = rand_text(buf, cap, want);
		struct tool_result nw = {0}, ref = {0};
		struct moat_err err = {0};

		assert_int_equal(fs_text_result(&nw, buf, n, &err), MOAT_OK);
		if (round & 1) {
			assert_int_equal(fsref_finish(buf, n, NULL, false, &ref, &err), MOAT_OK);
		} else {
			/* get_file_info's form: a separate copy, no shared string */
			assert_int_equal(fsref_info(buf, &ref, &err), MOAT_OK);
		}
		assert_same(&nw, &ref);
		tool_result_clear(&nw);
		tool_result_clear(&ref);
	}
	free(buf);
}

/* ---- the real tools on random trees ---------------------------------- */

struct scene {
	char base[PATH_MAX];
	char root[PATH_MAX + 8];
	struct fs fs;
	struct registry *reg;
};

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* Whether names may hold invalid UTF-8 (every other tree). */
static bool bad_names;

/* A file name: random pieces, sometimes invalid UTF-8, sometimes 255
 * bytes; never '/', never "." or "..". */
static void rand_name(char *name, size_t cap)
{
	static const char *const bad[] = {"\xff", "\xc3", "\xe4\xb8", "\xed\xa0\x80"};
	size_t n;

	if (rnd(8) == 0) {
		memset(name, 'L', 255);
		name[255] = '\0';
		name[rnd(255)] = "\"\\\x01x"[rnd(4)];
		return;
	}
	n = rand_text(name, cap, 1 + rnd(24));
	for (size_t i = 0; i < n; i++)
		if (name[i] == '/')
			name[i] = '_';
	if (bad_names && rnd(5) == 0 && n + 4 < cap) {
		strcat(name, bad[rnd(4)]);
		n = strlen(name);
	}
	if (rnd(2) && n + 5 < cap)
		strcat(name, ".txt");
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0 || name[0] == '\0')
		strcpy(name, "plain");
}

static void make_tree(const char *dir, int depth)
{
	int n = 1 + (int)rnd(6);

	for (int i = 0; i < n; i++) {
		char name[300], p[PATH_MAX];
		rand_name(name, 200);
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", dir, name) >= sizeof(p))
			continue;
		if (depth < 3 && rnd(3) == 0) {
			if (mkdir(p, 0755) == 0)
				make_tree(p, depth + 1);
		} else {
			FILE *f = fopen(p, "wx");
			if (!f)
				continue;
			for (int l = (int)rnd(4); l >= 0; l--) {
				char line[200];
				rand_text(line, sizeof(line), rnd(60));
				fprintf(f, "%s%s\n", rnd(2) ? "needle " : "", line);
			}
			fclose(f);
		}
	}
}

static int setup(void **state)
{
	struct scene *s = calloc(1, sizeof(*s));
	char tmpl[] = "/tmp/moat-test-fsresult-XXXXXX";
	struct fs_view *v = calloc(1, sizeof(*v));
	struct moat_err err = {0};
	char real[PATH_MAX];
	struct stat st;

	assert_non_null(s);
	assert_non_null(v);
	assert_non_null(mkdtemp(tmpl));
	assert_non_null(realpath(tmpl, real));
	snprintf(s->base, sizeof(s->base), "%s", real);
	snprintf(s->root, sizeof(s->root), "%s/root", s->base);
	assert_int_equal(mkdir(s->root, 0755), 0);
	pthread_mutex_init(&s->fs.lock, NULL);
	pthread_mutex_init(&s->fs.magic_lock, NULL);
	v->refs = 2; /* configured and current */
	v->nroots = 1;
	v->roots = calloc(1, sizeof(*v->roots));
	assert_non_null(v->roots);
	v->roots[0].path = strdup(s->root);
	v->roots[0].dirfd = open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(v->roots[0].dirfd >= 0);
	assert_int_equal(fstat(v->roots[0].dirfd, &st), 0);
	v->roots[0].dev = st.st_dev;
	v->roots[0].ino = st.st_ino;
	s->fs.configured = v;
	s->fs.current = v;
	s->fs.lim = (struct fs_limits){.max_file_size = 1 << 20, .max_media_bytes = 1 << 20,
				       .max_entries = 10000, .max_depth = 64,
				       .max_grep_matches = 1000};
	s->reg = registry_new(0);
	assert_non_null(s->reg);
	assert_int_equal(fs_register_list(s->reg, &s->fs, &err), MOAT_OK);
	assert_int_equal(fs_register_search(s->reg, &s->fs, &err), MOAT_OK);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct scene *s = *state;

	registry_free(s->reg);
	fs_view_put(&s->fs, s->fs.current);
	fs_view_put(&s->fs, s->fs.configured);
	nftw(s->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	pthread_mutex_destroy(&s->fs.lock);
	pthread_mutex_destroy(&s->fs.magic_lock);
	free(s);
	return 0;
}

/* Calls whose answers were compared (a refused call is not). */
static size_t compared;

/* Call tool with args (stolen) under budget; compare with the old builder
 * fed the same text. Returns whether the text carried a cut note. */
static bool check_call(struct scene *s, const char *tool, json_t *args, size_t budget)
{
	struct tool *t = registry_find(s->reg, tool);
	struct tool_result nw = {0}, ref = {0};
	struct moat_err err = {0};
	struct call_ctx ctx;
	const char *text, *notes = NULL;
	bool cut;

	assert_non_null(t);
	assert_true(t->output_streamed);
	callctx_init(&ctx, tool, 0, budget);
	if (t->handler(&ctx, t->data, args, &nw, &err) != MOAT_OK) {
		/* Known, and before this change as after it (the check precedes
		 * fs_text_result): search_files does not repair a name that is
		 * not UTF-8 and refuses its own output. */
		if ((strcmp(tool, "search_files") != 0 && strcmp(tool, "grep_files") != 0) ||
		    strcmp(err.msg, "output is not valid UTF-8") != 0)
			fail_msg("%s: %s", tool, err.msg);
		tool_result_clear(&nw);
		callctx_release(&ctx);
		json_decref(args);
		return false;
	}
	assert_true(json_array_size(nw.content) >= 1);
	text = json_string_value(json_object_get(json_array_get(nw.content, 0), "text"));
	assert_non_null(text);
	if (json_array_size(nw.content) == 2)
		notes = json_string_value(json_object_get(json_array_get(nw.content, 1), "text"));
	if (strcmp(tool, "get_file_info") == 0)
		assert_int_equal(fsref_info(text, &ref, &err), MOAT_OK);
	else
		assert_int_equal(fsref_finish(text, strlen(text), notes, notes != NULL, &ref, &err),
				 MOAT_OK);
	assert_same(&nw, &ref);
	compared++;
	cut = strstr(text, "[output cut") || strstr(text, "[incomplete") ||
	      strstr(text, "[depth limit") || (notes && strstr(notes, "[output cut")) ||
	      (notes && strstr(notes, "[depth limit"));
	tool_result_clear(&nw);
	tool_result_clear(&ref);
	callctx_release(&ctx);
	json_decref(args);
	return cut;
}

static void test_real_tools(void **state)
{
	struct scene *s = *state;
	static const size_t budgets[] = {400, 1500, 2600, 5000, 1u << 20};
	static const size_t entries[] = {2, 5, 10000};
	size_t cuts = 0, whole = 0, per_tool[7] = {0};

	make_tree(s->root, 0);
	make_tree(s->root, 1);
	for (int round = 0; round < 300; round++) {
		size_t budget = budgets[rnd(5)];
		const char *p = s->root;
		bool cut = false;
		size_t before = compared;
		if (round > 0 && round % 50 == 0) { /* a fresh tree now and then */
			nftw(s->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
			assert_int_equal(mkdir(s->root, 0755), 0);
			/* the root's fd still names the removed directory: reopen */
			close(s->fs.configured->roots[0].dirfd);
			s->fs.configured->roots[0].dirfd =
				open(s->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
			assert_true(s->fs.configured->roots[0].dirfd >= 0);
			bad_names = !bad_names;
			make_tree(s->root, 0);
		}
		s->fs.lim.max_entries = entries[rnd(3)];
		s->fs.lim.max_depth = rnd(3) ? 64 : 2;
		s->fs.lim.max_grep_matches = rnd(2) ? 1000 : 3;
		switch (round % 7) {
		case 0:
			cut = check_call(s, "list_directory", json_pack("{s:s}", "path", p), budget);
			break;
		case 1:
			cut = check_call(s, "list_directory_with_sizes",
					 json_pack("{s:s, s:s}", "path", p, "sortBy",
						   rnd(2) ? "name" : "size"),
					 budget);
			break;
		case 2:
			cut = check_call(s, "directory_tree",
					 rnd(2) ? json_pack("{s:s}", "path", p)
						: json_pack("{s:s, s:i, s:[s]}", "path", p, "maxDepth",
							    1 + (int)rnd(3), "excludePatterns",
							    "*.txt"),
					 budget);
			break;
		case 3:
			cut = check_call(s, "search_files",
					 json_pack("{s:s, s:s}", "path", p, "pattern",
						   rnd(2) ? "**/*" : "**/*.txt"),
					 budget);
			break;
		case 4:
			cut = check_call(s, "grep_files",
					 json_pack("{s:s, s:s}", "path", p, "pattern",
						   rnd(2) ? "needle" : "[\"\\\\]"),
					 budget);
			break;
		case 5:
			cut = check_call(s, "get_file_info", json_pack("{s:s}", "path", p), budget);
			break;
		default:
			cut = check_call(s, "list_allowed_directories", json_object(), budget);
			break;
		}
		if (compared == before)
			continue;
		if (cut)
			cuts++;
		else
			whole++;
		per_tool[round % 7]++;
	}
	/* Both kinds must have been seen, or the test proves less than it says. */
	assert_true(cuts > 10);
	assert_true(whole > 10);
	for (int i = 0; i < 7; i++)
		assert_true(per_tool[i] >= 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_texts),
		cmocka_unit_test_setup_teardown(test_real_tools, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
