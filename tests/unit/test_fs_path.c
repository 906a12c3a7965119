/*
 * test_fs_path.c - unit tests for src/providers/fs/fs_path.c: client roots
 * (tidied, one root per directory whatever the spelling, capped at
 * FS_MAX_CLIENT_ROOTS), the rule ids of refusals, errors that name the path
 * within its root and never one outside it, and what a call records as
 * touched. Works in a temporary directory; touches nothing else.
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

struct scene {
	char dir[600];  /* the configured root (canonical) */
	char base[512]; /* its parent, a fresh temp dir */
	struct fs fs;
};

/* mkdir of the path printed from fmt; must succeed. */
static void mkdirf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void mkdirf(const char *fmt, ...)
{
	char p[PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p, sizeof(p), fmt, ap);
	va_end(ap);
	assert_int_equal(mkdir(p, 0755), 0);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int setup(void **state)
{
	struct scene *s = calloc(1, sizeof(*s));
	char tmpl[] = "/tmp/moat-test-fspath-XXXXXX";
	struct fs_view *v = calloc(1, sizeof(*v));
	struct stat st;

	assert_non_null(s);
	assert_non_null(v);
	assert_non_null(mkdtemp(tmpl));
	char real[PATH_MAX];
	assert_non_null(realpath(tmpl, real));
	assert_true(strlen(real) < sizeof(s->base));
	memcpy(s->base, real, strlen(real) + 1);
	snprintf(s->dir, sizeof(s->dir), "%s/root", s->base);
	char p[PATH_MAX + 32];
	int fd;

	mkdirf("%s", s->dir);
	mkdirf("%s/notes", s->dir);
	mkdirf("%s/many", s->dir);
	for (int i = 0; i < 100; i++)
		mkdirf("%s/many/d%d", s->dir, i);
	snprintf(p, sizeof(p), "%s/notes-link", s->dir);
	assert_int_equal(symlink("notes", p), 0);
	snprintf(p, sizeof(p), "%s/notes/a.txt", s->dir);
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	close(fd);
	pthread_mutex_init(&s->fs.lock, NULL);
	pthread_mutex_init(&s->fs.magic_lock, NULL);
	v->refs = 2; /* configured and current */
	v->nroots = 1;
	v->roots = calloc(1, sizeof(*v->roots));
	assert_non_null(v->roots);
	v->roots[0].path = strdup(s->dir);
	v->roots[0].dirfd = open(s->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(v->roots[0].dirfd >= 0);
	assert_int_equal(fstat(v->roots[0].dirfd, &st), 0);
	v->roots[0].dev = st.st_dev;
	v->roots[0].ino = st.st_ino;
	s->fs.configured = v;
	s->fs.current = v;
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct scene *s = *state;

	fs_view_put(&s->fs, s->fs.current);
	fs_view_put(&s->fs, s->fs.configured);
	nftw(s->base, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	pthread_mutex_destroy(&s->fs.lock);
	pthread_mutex_destroy(&s->fs.magic_lock);
	free(s);
	return 0;
}

/* Send roots (file:// + each path) and return the effective view's size. */
static size_t client_roots(struct scene *s, json_t *paths)
{
	json_t *roots = json_array();
	size_t i, n;
	json_t *p;

	json_array_foreach(paths, i, p) {
		char uri[PATH_MAX + 16];
		snprintf(uri, sizeof(uri), "file://%s", json_string_value(p));
		json_array_append_new(roots, json_pack("{s:s}", "uri", uri));
	}
	fs_set_client_roots(&s->fs, roots);
	json_decref(roots);
	n = s->fs.current->nroots;
	return n;
}

static void test_spellings_are_one_root(void **state)
{
	struct scene *s = *state;
	json_t *paths = json_array();
	char p[PATH_MAX * 2];

	for (int i = 0; i < 500; i++) {
		snprintf(p, sizeof(p), "%s/%.*snotes", s->dir, 2 * (i % 200), "./././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././././");
		json_array_append_new(paths, json_string(p));
		snprintf(p, sizeof(p), "%s//notes/", s->dir);
		json_array_append_new(paths, json_string(p));
		snprintf(p, sizeof(p), "%s/notes/../notes", s->dir);
		json_array_append_new(paths, json_string(p));
	}
	snprintf(p, sizeof(p), "%s/notes-link", s->dir); /* a symlink inside: same inode */
	json_array_append_new(paths, json_string(p));
	assert_int_equal(client_roots(s, paths), 1);
	snprintf(p, sizeof(p), "%s/notes", s->dir);
	assert_string_equal(s->fs.current->roots[0].path, p);
	json_decref(paths);
	/* an empty list restores the configured roots */
	paths = json_array();
	fs_set_client_roots(&s->fs, paths);
	assert_ptr_equal(s->fs.current, s->fs.configured);
	json_decref(paths);
}

static void test_cap(void **state)
{
	struct scene *s = *state;
	json_t *paths = json_array();
	char p[PATH_MAX];

	for (int i = 0; i < 100; i++) {
		snprintf(p, sizeof(p), "%s/many/d%d", s->dir, i);
		json_array_append_new(paths, json_string(p));
	}
	assert_int_equal(client_roots(s, paths), FS_MAX_CLIENT_ROOTS);
	json_decref(paths);
	/* outside and missing ones add nothing; '..' never climbs out */
	paths = json_pack("[s, s, s]", "/etc", "/nonexistent/x", "/../../etc");
	assert_int_equal(client_roots(s, paths), 0);
	json_decref(paths);
}

static void test_rules_and_messages(void **state)
{
	struct scene *s = *state;
	struct fs_view *v = s->fs.configured;
	struct moat_err err = {0};
	struct fs_target t;
	struct stat st;
	char p[PATH_MAX];

	assert_int_equal(fs_resolve(v, "/etc/passwd", &t, &err), MOAT_EDENIED);
	assert_string_equal(err.rule, "fs.outside_root");
	assert_null(strstr(err.msg, "/etc"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(fs_resolve(v, "", &t, &err), MOAT_EINVAL);
	assert_string_equal(err.rule, "fs.invalid_path");

	memset(&err, 0, sizeof(err));
	snprintf(p, sizeof(p), "%s/notes/todo.md", s->dir);
	assert_int_equal(fs_resolve(v, p, &t, &err), MOAT_OK);
	assert_int_equal(fs_open_file(&t, &st, &err), -1);
	assert_int_equal(err.rc, MOAT_ENOTFOUND);
	assert_string_equal(err.msg, "no such file or directory: notes/todo.md");

	memset(&err, 0, sizeof(err));
	snprintf(p, sizeof(p), "%s/notes/../../x", s->dir);
	assert_int_equal(fs_resolve(v, p, &t, &err), MOAT_OK);
	assert_int_equal(fs_open_file(&t, &st, &err), -1);
	assert_string_equal(err.rule, "fs.outside_root");
	assert_null(strstr(err.msg, "../"));
	assert_null(strstr(err.msg, s->base));

	memset(&err, 0, sizeof(err));
	snprintf(p, sizeof(p), "%s/notes", s->dir);
	assert_int_equal(fs_resolve(v, p, &t, &err), MOAT_OK);
	assert_int_equal(fs_open_file(&t, &st, &err), -1);
	assert_string_equal(err.rule, "fs.not_a_file");
	assert_int_equal(fs_require_write(&t, &err), MOAT_EDENIED);
	assert_string_equal(err.rule, "fs.read_only");
	assert_null(strstr(err.msg, s->base));
}

static void test_show_rel(void **state)
{
	struct fs_target t = {0};
	char buf[32];

	(void)state;
	snprintf(t.rel, sizeof(t.rel), "a\x01" "b\xff" "c/\xc3\xa9");
	assert_string_equal(fs_show_rel(&t, buf, sizeof(buf)), "a?b?c/\xc3\xa9");
	snprintf(t.rel, sizeof(t.rel), "x/../../etc/passwd");
	assert_null(strstr(fs_show_rel(&t, buf, sizeof(buf)), "etc"));
	memset(t.rel, 'a', 100);
	t.rel[100] = '\0';
	fs_show_rel(&t, buf, sizeof(buf));
	assert_true(strlen(buf) < sizeof(buf));
	assert_non_null(strstr(buf, "..."));
}

static void test_touch(void **state)
{
	struct scene *s = *state;
	struct fs_view *v = s->fs.configured;
	struct call_ctx ctx;
	struct moat_err err = {0};
	struct fs_target t;
	char p[PATH_MAX];

	callctx_init(&ctx, "read_text_file", 0, 1 << 20);
	snprintf(p, sizeof(p), "%s/notes/a.txt", s->dir);
	assert_int_equal(fs_resolve(v, p, &t, &err), MOAT_OK);
	fs_touch(&ctx, &t);
	assert_string_equal(json_string_value(json_object_get(ctx.touched, "root")), s->dir);
	assert_string_equal(json_string_value(json_object_get(ctx.touched, "path")), "notes/a.txt");
	callctx_release(&ctx);
	callctx_init(&ctx, "read_multiple_files", 0, 1 << 20);
	fs_touch_add(&ctx, &t);
	fs_touch_add(&ctx, &t);
	assert_int_equal(json_array_size(json_object_get(ctx.touched, "path")), 1);
	assert_int_equal(json_array_size(json_object_get(ctx.touched, "root")), 1);
	callctx_release(&ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_spellings_are_one_root, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rules_and_messages, setup, teardown),
		cmocka_unit_test(test_show_rel),
		cmocka_unit_test_setup_teardown(test_touch, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
