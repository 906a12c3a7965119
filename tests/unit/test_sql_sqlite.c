/*
 * test_sql_sqlite.c - unit tests for the sql family's tool handlers over
 * SQLite, called directly (no server in front): a NUL byte in the query,
 * the database name or the table name is refused by the family itself
 * (the server refuses NUL in string arguments before any handler runs; the
 * family does not rely on it), and nothing is written; what a call touched
 * (the database and the tables read or written) lands in the call's
 * context; a catalog larger than SQL_CATALOG_MAX_ROWS is an error
 * (limits.rows), never a short list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "callctx.h"
#include "config.h"
#include "providers.h"
#include "registry.h"
#include "sql/sql.h"

static char dir[] = "/tmp/moat-test-sql-XXXXXX";
static struct registry *reg;
static struct moat_config cfg;

static void sh(const char *file, const char *sql)
{
	char path[256];
	sqlite3 *h = NULL;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static int count(const char *file, const char *table)
{
	char path[256], sql[128];
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int n = -1;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	assert_int_equal(sqlite3_open(path, &h), SQLITE_OK);
	if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(h);
	return n;
}

static int setup(void **state)
{
	static const char conf[] =
		"{\"databases\":{\"lib\":{\"type\":\"sqlite\",\"path\":\"lib.db\"},"
		"\"rw\":{\"type\":\"sqlite\",\"path\":\"rw.db\",\"write\":true},"
		"\"many\":{\"type\":\"sqlite\",\"path\":\"many.db\"}}}";
	struct moat_err err = {0};
	char *big;
	FILE *f;
	size_t len = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	sh("lib.db", "CREATE TABLE book(id INTEGER, title TEXT); INSERT INTO book VALUES (1, 'a');"
		     "CREATE TABLE author(id INTEGER);");
	sh("rw.db", "CREATE TABLE note(body TEXT); INSERT INTO note VALUES ('keep');");
	/* SQL_CATALOG_MAX_ROWS + 1 views, written straight into the schema
	 * table (10,001 CREATEs take SQLite seconds) */
	assert_non_null(f = open_memstream(&big, &len));
	fprintf(f, "PRAGMA writable_schema = ON; INSERT INTO sqlite_schema(type, name, tbl_name, "
		   "rootpage, sql) WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n "
		   "WHERE i < %d) SELECT 'view', 'v' || i, 'v' || i, 0, 'CREATE VIEW v' || i || "
		   "' AS SELECT 1' FROM n; PRAGMA writable_schema = OFF;", SQL_CATALOG_MAX_ROWS);
	fclose(f);
	sh("many.db", big);
	free(big);
	assert_int_equal(config_load_text(conf, strlen(conf), dir, &cfg, &err), MOAT_OK);
	assert_non_null(reg = registry_new(0));
	assert_int_equal(providers_init(reg, &cfg, &err), MOAT_OK);
	return 0;
}

static int teardown(void **state)
{
	static const char *const files[] = {"lib.db", "rw.db", "many.db"};
	char path[256];

	(void)state;
	providers_fini();
	registry_free(reg);
	config_free(&cfg);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
	return 0;
}

/* Call tool with args (stolen); returns rc, err and ctx filled. */
static enum moat_rc call(const char *tool, json_t *args, struct call_ctx *ctx,
			 struct moat_err *err)
{
	struct tool *t = registry_find(reg, tool);
	struct tool_result res = {0};
	enum moat_rc rc;

	assert_non_null(t);
	callctx_init(ctx, tool, 5000, 1 << 20);
	moat_err_clear(err);
	rc = t->handler(ctx, t->data, args, &res, err);
	tool_result_clear(&res);
	json_decref(args);
	return rc;
}

static json_t *args3(const char *db, const char *key, const char *val, size_t n)
{
	json_t *o = json_object();

	if (db)
		json_object_set_new(o, "database", json_string(db));
	json_object_set_new(o, key, json_stringn(val, n));
	return o;
}

static void test_nul(void **state)
{
	struct call_ctx ctx;
	struct moat_err err;
	json_t *a;

	(void)state;
	/* in the query: what follows the NUL never runs */
	assert_int_equal(call("write_query", args3("rw", "query", "DELETE FROM note\0 WHERE 0", 25),
			      &ctx, &err),
			 MOAT_EINVAL);
	assert_string_equal(err.rule, "sql.nul");
	assert_non_null(strstr(err.msg, "query: contains a NUL byte"));
	callctx_release(&ctx);
	assert_int_equal(call("read_query", args3("lib", "query", "SELECT 1\0; DROP", 15), &ctx, &err),
			 MOAT_EINVAL);
	assert_string_equal(err.rule, "sql.nul");
	callctx_release(&ctx);
	/* in the database name: "rw\0x" is not "rw" */
	a = args3(NULL, "query", "DELETE FROM note", 16);
	json_object_set_new(a, "database", json_stringn("rw\0x", 4));
	assert_int_equal(call("write_query", a, &ctx, &err), MOAT_EINVAL);
	assert_string_equal(err.rule, "sql.nul");
	assert_null(ctx.touched);
	callctx_release(&ctx);
	/* in the table name */
	assert_int_equal(call("describe_table", args3("lib", "table_name", "book\0x", 6), &ctx, &err),
			 MOAT_EINVAL);
	assert_string_equal(err.rule, "sql.nul");
	callctx_release(&ctx);
	assert_int_equal(count("rw.db", "note"), 1);
	/* in a bound value: data, stored as it is */
	a = args3("rw", "query", "INSERT INTO note VALUES (?1)", 28);
	json_object_set_new(a, "params", json_pack("[s#]", "a\0b", (size_t)3));
	assert_int_equal(call("write_query", a, &ctx, &err), MOAT_OK);
	callctx_release(&ctx);
	assert_int_equal(count("rw.db", "note WHERE length(CAST(body AS BLOB)) = 3"), 1);
}

static void test_touched(void **state)
{
	struct call_ctx ctx;
	struct moat_err err;
	char *s;

	(void)state;
	assert_int_equal(call("read_query",
			      args3("lib", "query",
				    "WITH x AS (SELECT id FROM author) SELECT * FROM book, x", 55),
			      &ctx, &err),
			 MOAT_OK);
	s = json_dumps(ctx.touched, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"database\":\"lib\",\"tables\":[\"author\",\"book\"]}");
	free(s);
	callctx_release(&ctx);
	assert_int_equal(call("list_tables", json_pack("{s:s}", "database", "lib"), &ctx, &err),
			 MOAT_OK);
	s = json_dumps(ctx.touched, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(s, "{\"database\":\"lib\"}");
	free(s);
	callctx_release(&ctx);
}

static void test_catalog_bound(void **state)
{
	struct call_ctx ctx;
	struct moat_err err;
	json_t *a = json_pack("{s:s}", "database", "many");

	(void)state;
	assert_int_equal(call("list_tables", a, &ctx, &err), MOAT_ELIMIT);
	assert_string_equal(err.rule, "limits.rows");
	callctx_release(&ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_touched),
		cmocka_unit_test(test_catalog_bound),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
