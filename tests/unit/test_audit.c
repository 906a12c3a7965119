/*
 * test_audit.c - unit tests for src/core/audit.c and audit_chain.c: the
 * record format, the hash chain (against a known SHA-256 vector), its
 * continuation across restarts, rotation and reopening, verification
 * catching an edited, a deleted and a reordered line, many writers at
 * once, the config's "audit" section and the XDG default location, and
 * what one record costs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "audit.h"
#include "audit_chain.h"
#include "config.h"

static char tmpdir[64];
static char trail[128];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/moat-test-audit-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	snprintf(trail, sizeof(trail), "%s/audit.jsonl", tmpdir);
	return 0;
}

/* Remove the trail files a test may leave in dir. */
static void rm_rf(const char *dir)
{
	char p[256];

	for (unsigned i = 0; i <= 25; i++) {
		if (i == 0)
			snprintf(p, sizeof(p), "%s/audit.jsonl", dir);
		else
			snprintf(p, sizeof(p), "%s/audit.jsonl.%u", dir, i);
		unlink(p);
	}
}

static int teardown(void **state)
{
	(void)state;
	rm_rf(tmpdir);
	rmdir(tmpdir);
	return 0;
}

static int fresh(void **state)
{
	(void)state;
	rm_rf(tmpdir);
	return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static struct audit *open_trail(uint64_t max_bytes, unsigned keep)
{
	struct audit_opts o = {.path = trail, .max_bytes = max_bytes, .keep = keep};
	struct moat_err err = {0};
	struct audit *a = audit_open(&o, &err);

	if (!a)
		fail_msg("audit_open: %s", err.msg);
	return a;
}

static void write_call(struct audit *a, const char *tool, json_int_t id)
{
	json_t *rid = json_integer(id);
	json_t *touched = json_pack("{s:s, s:s}", "root", "data", "path", "notes/a.md");
	struct audit_event ev = {
		.kind = "call",
		.principal = "local",
		.client_name = "unit",
		.client_version = "1.0",
		.session = "0123456789abcdef0123456789abcdef",
		.request_id = rid,
		.tool = tool,
		.family = "fs",
		.touched = touched,
		.outcome = "ok",
		.duration_us = 174,
		.bytes_out = 42,
	};

	audit_write(a, &ev);
	json_decref(rid);
	json_decref(touched);
}

/* The lines of a file (without newlines); caller frees with free_lines. */
static size_t read_lines(const char *path, char ***out)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, n = 0;
	ssize_t len;
	char **v = NULL;

	assert_non_null(f);
	while ((len = getline(&line, &cap, f)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[len - 1] = '\0';
		v = realloc(v, (n + 1) * sizeof(*v));
		v[n++] = strdup(line);
	}
	free(line);
	fclose(f);
	*out = v;
	return n;
}

static void free_lines(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void write_lines(const char *path, char **v, size_t n)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\n", v[i]);
	fclose(f);
}

static const char *prev_of(const char *line, char buf[AUDIT_HEX_LEN + 1])
{
	json_t *rec = json_loads(line, 0, NULL);
	const char *p;

	assert_non_null(rec);
	p = json_string_value(json_object_get(rec, "prev"));
	assert_non_null(p);
	snprintf(buf, AUDIT_HEX_LEN + 1, "%s", p);
	json_decref(rec);
	return buf;
}

static struct audit_verdict verify_paths(const char *const *files, size_t n)
{
	struct audit_verdict v;
	struct moat_err err = {0};

	assert_int_equal(audit_verify(files, n, &v, &err), MOAT_OK);
	return v;
}

static struct audit_verdict verify_one(void)
{
	const char *files[] = {trail};

	return verify_paths(files, 1);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_sha256_vector(void **state)
{
	char hex[AUDIT_HEX_LEN + 1];

	(void)state;
	assert_int_equal(audit_hash_line("abc", 3, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_record_and_chain(void **state)
{
	struct audit *a = open_trail(0, 0);
	char **lines, hash[AUDIT_HEX_LEN + 1], prev[AUDIT_HEX_LEN + 1];
	size_t n;
	struct stat st;

	(void)state;
	for (int i = 0; i < 3; i++)
		write_call(a, "read_text_file", i);
	audit_close(a);
	assert_int_equal(stat(trail, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	n = read_lines(trail, &lines);
	assert_int_equal(n, 3);
	json_t *rec = json_loads(lines[0], 0, NULL);
	assert_non_null(rec);
	assert_string_equal(json_string_value(json_object_get(rec, "kind")), "call");
	assert_string_equal(json_string_value(json_object_get(rec, "principal")), "local");
	assert_string_equal(json_string_value(json_object_get(rec, "client")), "unit");
	assert_string_equal(json_string_value(json_object_get(rec, "tool")), "read_text_file");
	assert_string_equal(json_string_value(json_object_get(rec, "family")), "fs");
	assert_string_equal(json_string_value(json_object_get(rec, "outcome")), "ok");
	assert_int_equal(json_integer_value(json_object_get(rec, "id")), 0);
	assert_int_equal(json_integer_value(json_object_get(rec, "duration_us")), 174);
	assert_int_equal(json_integer_value(json_object_get(rec, "bytes_out")), 42);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(rec, "touched"), "path")),
			    "notes/a.md");
	assert_null(json_object_get(rec, "rule"));
	assert_int_equal(strlen(json_string_value(json_object_get(rec, "time"))), 27);
	json_decref(rec);
	assert_string_equal(prev_of(lines[0], prev), audit_zero_hash);
	for (size_t i = 1; i < n; i++) {
		audit_hash_line(lines[i - 1], strlen(lines[i - 1]), hash);
		assert_string_equal(prev_of(lines[i], prev), hash);
	}
	struct audit_verdict v = verify_one();
	assert_true(v.intact);
	assert_true(v.from_start);
	assert_int_equal(v.lines, 3);
	free_lines(lines, n);
}

static void test_escaping_and_bounds(void **state)
{
	struct audit *a = open_trail(0, 0);
	char name[2000];
	char **lines;
	size_t n;

	(void)state;
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name, "a\"b\\c\n\x01\t", 9);
	struct audit_event ev = {.kind = "call", .client_name = name, .tool = "t",
				 .outcome = "denied", .rule = "fs.outside_root"};
	audit_write(a, &ev);
	audit_write(a, NULL);   /* ignored */
	audit_write(NULL, &ev); /* auditing off */
	audit_close(a);
	n = read_lines(trail, &lines);
	assert_int_equal(n, 1);
	json_t *rec = json_loads(lines[0], 0, NULL);
	assert_non_null(rec);
	const char *c = json_string_value(json_object_get(rec, "client"));
	assert_non_null(c);
	assert_memory_equal(c, "a\"b\\c\n\x01\t", 9);
	assert_true(strlen(c) <= 256);
	assert_string_equal(json_string_value(json_object_get(rec, "rule")), "fs.outside_root");
	json_decref(rec);
	free_lines(lines, n);
}

static void test_continues_across_restart(void **state)
{
	struct audit *a = open_trail(0, 0);
	char **lines, hash[AUDIT_HEX_LEN + 1], prev[AUDIT_HEX_LEN + 1];
	size_t n;

	(void)state;
	write_call(a, "one", 1);
	write_call(a, "two", 2);
	audit_close(a);
	a = open_trail(0, 0);
	write_call(a, "three", 3);
	audit_close(a);
	n = read_lines(trail, &lines);
	assert_int_equal(n, 3);
	audit_hash_line(lines[1], strlen(lines[1]), hash);
	assert_string_equal(prev_of(lines[2], prev), hash);
	assert_true(verify_one().intact);
	free_lines(lines, n);
}

static void test_long_last_line(void **state)
{
	struct audit *a = open_trail(0, 0);
	json_t *touched = json_object(), *tables = json_array();
	char name[300];
	FILE *f;

	(void)state;
	for (int i = 0; i < 32; i++) {
		memset(name, 'a' + i % 26, 250);
		snprintf(name + 250, sizeof(name) - 250, "%02d", i);
		json_array_append_new(tables, json_string(name));
	}
	json_object_set_new(touched, "tables", tables);
	struct audit_event ev = {.kind = "call", .tool = "read_query", .outcome = "ok",
				 .touched = touched};
	audit_write(a, &ev); /* a last line of more than 8 KiB */
	audit_close(a);
	json_decref(touched);
	a = open_trail(0, 0);
	write_call(a, "after", 1);
	audit_close(a);
	struct audit_verdict v = verify_one();
	assert_true(v.intact);
	assert_int_equal(v.lines, 2);
	/* A last line longer than any record: refused, not guessed. */
	f = fopen(trail, "a");
	for (unsigned i = 0; i < AUDIT_LINE_MAX / 64 + 2; i++)
		fputs("0123456789012345678901234567890123456789012345678901234567890123", f);
	fputs("\n", f);
	fclose(f);
	struct audit_opts o = {.path = trail};
	struct moat_err err = {0};
	assert_null(audit_open(&o, &err));
	assert_non_null(strstr(err.msg, "cannot read the last line"));
}

static void test_partial_last_line(void **state)
{
	struct audit *a = open_trail(0, 0);
	FILE *f;

	(void)state;
	write_call(a, "one", 1);
	audit_close(a);
	f = fopen(trail, "a");
	fputs("{\"time\":\"crash", f); /* a write cut short by a crash */
	fclose(f);
	a = open_trail(0, 0);
	write_call(a, "two", 2);
	audit_close(a);
	char **lines;
	size_t n = read_lines(trail, &lines);
	assert_int_equal(n, 3); /* the partial line ended, the record after it */
	json_t *last = json_loads(lines[2], 0, NULL);
	assert_non_null(last);
	json_decref(last);
	struct audit_verdict v = verify_one();
	assert_false(v.intact);
	assert_int_equal(v.bad_line, 2);
	assert_non_null(strstr(v.why, "not a JSON record"));
	free_lines(lines, n);
}

static void test_rotation(void **state)
{
	struct audit *a = open_trail(1000, 2);
	struct audit_files files;
	struct moat_err err = {0};
	struct stat st;
	char p[160];

	(void)state;
	for (int i = 0; i < 40; i++)
		write_call(a, "read_text_file", i);
	audit_close(a);
	for (unsigned i = 0; i <= 2; i++) {
		snprintf(p, sizeof(p), i ? "%s.%u" : "%s", trail, i);
		assert_int_equal(stat(p, &st), 0);
		assert_true(st.st_size <= 1000);
		assert_true(st.st_size > 0);
		assert_int_equal(st.st_mode & 0777, 0600);
	}
	snprintf(p, sizeof(p), "%s.3", trail);
	assert_int_not_equal(stat(p, &st), 0); /* keep = 2 */
	assert_int_equal(audit_files_list(trail, &files, &err), MOAT_OK);
	assert_int_equal(files.n, 3);
	assert_non_null(strstr(files.paths[0], ".jsonl.2"));
	struct audit_verdict v = verify_paths((const char *const *)files.paths, files.n);
	assert_true(v.intact);
	assert_false(v.from_start); /* the first files were rotated away */
	/* A restart right after a rotation (empty current file) chains to .1. */
	assert_int_equal(unlink(trail), 0);
	a = open_trail(1000, 2);
	write_call(a, "after", 99);
	audit_close(a);
	const char *two[] = {files.paths[1], trail};
	assert_true(verify_paths(two, 2).intact);
	audit_files_free(&files);
}

static void test_reopen(void **state)
{
	struct audit *a = open_trail(0, 0);
	char moved[160];

	(void)state;
	write_call(a, "one", 1);
	snprintf(moved, sizeof(moved), "%s.1", trail);
	assert_int_equal(rename(trail, moved), 0); /* logrotate moved it */
	write_call(a, "two", 2);                   /* still into the moved file */
	audit_reopen(a);
	write_call(a, "three", 3);                 /* a new file by the name */
	audit_reopen(NULL);
	audit_close(a);
	char **lines;
	size_t n = read_lines(trail, &lines);
	assert_int_equal(n, 1);
	free_lines(lines, n);
	const char *files[] = {moved, trail};
	struct audit_verdict v = verify_paths(files, 2);
	assert_true(v.intact);
	assert_int_equal(v.lines, 3);
}

/* Write 6 records, tamper with the copy by fn, and expect a break at line. */
static void tamper(void (*fn)(char **v, size_t *n), size_t want_line)
{
	struct audit *a = open_trail(0, 0);
	char **lines;
	size_t n;

	for (int i = 0; i < 6; i++)
		write_call(a, "read_text_file", i);
	audit_close(a);
	n = read_lines(trail, &lines);
	fn(lines, &n);
	write_lines(trail, lines, n);
	struct audit_verdict v = verify_one();
	assert_false(v.intact);
	assert_int_equal(v.bad_file, 0);
	assert_int_equal(v.bad_line, want_line);
	assert_non_null(strstr(v.why, "prev does not match"));
	free_lines(lines, 6);
}

static void edit_third(char **v, size_t *n)
{
	char *p = strstr(v[2], "notes/a.md");

	(void)n;
	assert_non_null(p);
	p[0] = 'N';
}

static void delete_third(char **v, size_t *n)
{
	free(v[2]);
	memmove(&v[2], &v[3], (*n - 3) * sizeof(*v));
	(*n)--;
	v[5] = NULL; /* free_lines(…, 6) frees NULL harmlessly */
}

static void swap_third_fourth(char **v, size_t *n)
{
	char *t = v[2];

	(void)n;
	v[2] = v[3];
	v[3] = t;
}

static void test_verify_edited(void **state)
{
	(void)state;
	tamper(edit_third, 4);
}

static void test_verify_deleted(void **state)
{
	(void)state;
	tamper(delete_third, 3);
}

static void test_verify_reordered(void **state)
{
	(void)state;
	tamper(swap_third_fourth, 3);
}

static void test_verify_across_files(void **state)
{
	struct audit *a = open_trail(600, 3);
	struct audit_files files;
	struct moat_err err = {0};

	(void)state;
	for (int i = 0; i < 12; i++)
		write_call(a, "t", i);
	audit_close(a);
	assert_int_equal(audit_files_list(trail, &files, &err), MOAT_OK);
	assert_true(files.n >= 3);
	/* Files out of order: the break is at the first line of the second. */
	const char *wrong[] = {files.paths[1], files.paths[0]};
	struct audit_verdict v = verify_paths(wrong, 2);
	assert_false(v.intact);
	assert_int_equal(v.bad_file, 1);
	assert_int_equal(v.bad_line, 1);
	assert_non_null(strstr(v.why, "last line of"));
	audit_files_free(&files);
}

struct writer {
	struct audit *a;
	int n;
};

static void *writer_main(void *p)
{
	struct writer *w = p;

	for (int i = 0; i < w->n; i++)
		write_call(w->a, "concurrent", i);
	return NULL;
}

static void test_many_writers(void **state)
{
	struct audit *a = open_trail(20000, 20);
	struct writer w = {a, 250};
	pthread_t th[4];
	struct audit_files files;
	struct moat_err err = {0};

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	audit_close(a);
	assert_int_equal(audit_files_list(trail, &files, &err), MOAT_OK);
	struct audit_verdict v = verify_paths((const char *const *)files.paths, files.n);
	assert_true(v.intact);
	assert_true(v.from_start);
	assert_int_equal(v.lines, 1000);
	audit_files_free(&files);
}

/* Two moat processes on one trail (each client starts its own server):
 * two handles, separate open files, interleaved batches and rotations. */
static void test_two_writers_one_trail(void **state)
{
	struct audit *a = open_trail(1500, 3), *b = open_trail(1500, 3);
	struct audit_files files;
	struct moat_err err = {0};

	(void)state;
	for (int i = 0; i < 12; i++) {
		write_call(a, "from_a", i);
		audit_flush(a);
		write_call(b, "from_b", i);
		audit_flush(b);
	}
	audit_close(a);
	audit_close(b);
	assert_int_equal(audit_files_list(trail, &files, &err), MOAT_OK);
	assert_true(files.n >= 3); /* they rotated, each after the other */
	struct audit_verdict v = verify_paths((const char *const *)files.paths, files.n);
	if (!v.intact)
		fail_msg("%s:%zu: %s", files.paths[v.bad_file], v.bad_line, v.why);
	audit_files_free(&files);
}

static void test_open_errors(void **state)
{
	struct moat_err err = {0};
	struct audit_opts o = {.path = "relative.jsonl"};

	(void)state;
	assert_null(audit_open(&o, &err));
	assert_non_null(strstr(err.msg, "absolute"));
	o.path = "/nonexistent-moat-dir/audit.jsonl";
	assert_null(audit_open(&o, &err));
	assert_non_null(strstr(err.msg, "/nonexistent-moat-dir/audit.jsonl"));
}

static void test_xdg_default(void **state)
{
	char buf[4096], dir[256], state_dir[128];
	const char *old_xdg = getenv("XDG_STATE_HOME");
	char *saved_xdg = old_xdg ? strdup(old_xdg) : NULL;
	char *saved_home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	struct stat st;

	(void)state;
	snprintf(state_dir, sizeof(state_dir), "%s/state", tmpdir);
	setenv("XDG_STATE_HOME", state_dir, 1);
	assert_true(config_audit_default(buf, sizeof(buf)));
	snprintf(dir, sizeof(dir), "%s/moat/audit.jsonl", state_dir);
	assert_string_equal(buf, dir);
	/* The directory is created 0700 (parents too) when it is the default. */
	struct audit_opts o = {.path = buf, .make_dirs = true};
	struct moat_err err = {0};
	struct audit *a = audit_open(&o, &err);
	assert_non_null(a);
	audit_close(a);
	snprintf(dir, sizeof(dir), "%s/moat", state_dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	assert_int_equal(stat(state_dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	unlink(buf);
	rmdir(dir);
	rmdir(state_dir);
	/* A relative XDG_STATE_HOME is ignored (the spec): HOME is used. */
	setenv("XDG_STATE_HOME", "relative/state", 1);
	setenv("HOME", "/home/someone", 1);
	assert_true(config_audit_default(buf, sizeof(buf)));
	assert_string_equal(buf, "/home/someone/.local/state/moat/audit.jsonl");
	unsetenv("XDG_STATE_HOME");
	assert_true(config_audit_default(buf, sizeof(buf)));
	assert_string_equal(buf, "/home/someone/.local/state/moat/audit.jsonl");
	/* Too small a buffer is refused, not cut. */
	assert_false(config_audit_default(buf, 10));
	/* A default that cannot be created is an error naming the directory. */
	o.path = "/proc/moat-cannot/moat/audit.jsonl";
	assert_null(audit_open(&o, &err));
	assert_non_null(strstr(err.msg, "cannot create the directory"));
	if (saved_xdg)
		setenv("XDG_STATE_HOME", saved_xdg, 1);
	if (saved_home)
		setenv("HOME", saved_home, 1);
	else
		unsetenv("HOME");
	free(saved_xdg);
	free(saved_home);
}

static void test_dir_own(void **state)
{
	char p[256], other[256];
	FILE *f;

	(void)state;
	assert_true(audit_dir_own(trail)); /* empty directory */
	struct audit *a = open_trail(0, 0);
	audit_close(a);
	snprintf(p, sizeof(p), "%s.3", trail);
	fclose(fopen(p, "w"));
	assert_true(audit_dir_own(trail)); /* the trail and a rotated file */
	snprintf(other, sizeof(other), "%s/audit.jsonl.old", tmpdir);
	f = fopen(other, "w");
	fclose(f);
	assert_false(audit_dir_own(trail)); /* something else lives there */
	unlink(other);
	snprintf(other, sizeof(other), "%s/.bashrc", tmpdir);
	fclose(fopen(other, "w"));
	assert_false(audit_dir_own(trail));
	unlink(other);
	assert_true(audit_dir_own("/nonexistent-moat/audit.jsonl"));
	assert_false(audit_dir_own("/audit.jsonl")); /* never the root directory */
}

static enum moat_rc load(const char *text, struct moat_config *cfg, struct moat_err *err)
{
	return config_load_text(text, strlen(text), tmpdir, cfg, err);
}

static void test_config_section(void **state)
{
	struct moat_config cfg;
	struct moat_err err = {0};
	char want[160];

	(void)state;
	setenv("XDG_STATE_HOME", "/xdg", 1);
	assert_int_equal(load("{}", &cfg, &err), MOAT_OK);
	assert_true(cfg.audit_on);
	assert_true(cfg.audit_default);
	assert_string_equal(cfg.audit_file, "/xdg/moat/audit.jsonl");
	assert_int_equal(cfg.audit_max_bytes, AUDIT_DEFAULT_MAX_BYTES);
	assert_int_equal(cfg.audit_keep, AUDIT_DEFAULT_KEEP);
	config_free(&cfg);

	assert_int_equal(load("{\"audit\":false}", &cfg, &err), MOAT_OK);
	assert_false(cfg.audit_on);
	assert_null(cfg.audit_file);
	config_free(&cfg);

	assert_int_equal(load("{\"audit\":true}", &cfg, &err), MOAT_OK);
	assert_true(cfg.audit_default);
	config_free(&cfg);

	assert_int_equal(load("{\"audit\":{\"file\":\"t/a.jsonl\",\"max_bytes\":4096,\"keep\":0}}",
			      &cfg, &err),
			 MOAT_OK);
	snprintf(want, sizeof(want), "%s/t/a.jsonl", tmpdir);
	assert_string_equal(cfg.audit_file, want);
	assert_false(cfg.audit_default);
	assert_int_equal(cfg.audit_max_bytes, 4096);
	assert_int_equal(cfg.audit_keep, 0);
	config_free(&cfg);

	/* The deprecated spelling still works alone ... */
	assert_int_equal(load("{\"log\":{\"audit_file\":\"/x/old.jsonl\"}}", &cfg, &err), MOAT_OK);
	assert_string_equal(cfg.audit_file, "/x/old.jsonl");
	assert_true(cfg.audit_deprecated);
	config_free(&cfg);
	/* ... but not beside the new section. */
	assert_int_not_equal(load("{\"log\":{\"audit_file\":\"a\"},\"audit\":{\"keep\":1}}", &cfg,
				  &err),
			     MOAT_OK);
	assert_non_null(strstr(err.msg, "/audit/file"));
	assert_int_not_equal(load("{\"audit\":{\"fil\":\"a\"}}", &cfg, &err), MOAT_OK);
	assert_int_not_equal(load("{\"audit\":{\"keep\":-1}}", &cfg, &err), MOAT_OK);
	assert_int_not_equal(load("{\"audit\":\"yes\"}", &cfg, &err), MOAT_OK);
	assert_int_not_equal(load("{\"audit\":{\"file\":\"dir/\"}}", &cfg, &err), MOAT_OK);
	assert_non_null(strstr(err.msg, "directory"));
	unsetenv("XDG_STATE_HOME");
}

/* What one record costs (printed; the bound is loose so a loaded CI
 * machine does not fail it: the fs benchmark is the real measure). */
static void test_cost(void **state)
{
	struct audit *a = open_trail(AUDIT_DEFAULT_MAX_BYTES, 2);
	struct timespec t0, t1;
	const int n = 20000;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++)
		write_call(a, "read_text_file", i);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	audit_close(a);
	double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / n;
	printf("audit_write: %.2f us per record (%d records)\n", us, n);
	assert_true(us < 200.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256_vector),
		cmocka_unit_test_setup(test_record_and_chain, fresh),
		cmocka_unit_test_setup(test_escaping_and_bounds, fresh),
		cmocka_unit_test_setup(test_continues_across_restart, fresh),
		cmocka_unit_test_setup(test_long_last_line, fresh),
		cmocka_unit_test_setup(test_partial_last_line, fresh),
		cmocka_unit_test_setup(test_rotation, fresh),
		cmocka_unit_test_setup(test_reopen, fresh),
		cmocka_unit_test_setup(test_verify_edited, fresh),
		cmocka_unit_test_setup(test_verify_deleted, fresh),
		cmocka_unit_test_setup(test_verify_reordered, fresh),
		cmocka_unit_test_setup(test_verify_across_files, fresh),
		cmocka_unit_test_setup(test_many_writers, fresh),
		cmocka_unit_test_setup(test_two_writers_one_trail, fresh),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test_setup(test_dir_own, fresh),
		cmocka_unit_test(test_xdg_default),
		cmocka_unit_test(test_config_section),
		cmocka_unit_test_setup(test_cost, fresh),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
