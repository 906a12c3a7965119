/*
 * sql_sqlite.c - the SQLite backend of the sql family.
 *
 * One connection per database, opened at start-up before the sandbox and
 * guarded by a mutex (calls on one database run one at a time; a call that
 * waits for the lock still honours its deadline and cancellation). SQLite
 * connections are not cheap to share safely and a local file answers in
 * microseconds, so a pool would buy little; two databases never wait for
 * each other.
 *
 * What the engine enforces, not the SQL text:
 *  - read-only databases are opened SQLITE_OPEN_READONLY (no URI, no
 *    immutable or nolock: another process may keep writing safely) and
 *    "PRAGMA query_only"; read_query also demands sqlite3_stmt_readonly;
 *  - exactly one statement per call: what follows the first statement must
 *    be blanks, semicolons or comments (sql_tail_empty);
 *  - SQLITE_DBCONFIG_DEFENSIVE, no load_extension, untrusted schema (no
 *    side-effecting functions from views or triggers), no attached
 *    databases (SQLITE_LIMIT_ATTACHED 0, which also stops VACUUM INTO),
 *    temp storage in memory (the sandbox leaves no temp directory);
 *  - an authorizer (sql_sqlite_auth.c): no ATTACH/DETACH, BEGIN/COMMIT/SAVEPOINT (the shared
 *    connection stays in autocommit), temp objects, load_extension, nor
 *    changes()/total_changes()/last_insert_rowid() (the connection's
 *    memory of earlier calls: nothing carries from one call to the next on
 *    the shared connection); PRAGMA
 *    only table_info/table_xinfo/index_list/foreign_key_list on allowed
 *    tables; every table outside the "tables" allowlist denied at
 *    SQLITE_READ, so views, CTEs and subqueries cannot reach one; with an
 *    allowlist the sqlite_* catalog tables and pragma functions are denied
 *    to user SQL (list_tables and describe_table read them internally and
 *    filter); DDL only through write_query on a database without an
 *    allowlist;
 *  - a progress handler that ends the statement at min(call deadline,
 *    timeout_ms) or on cancellation, and a busy handler with the same
 *    limit; the row and byte caps apply while stepping.
 *
 * Sandbox grants: the database file read-only; for a writable database its
 * directory read-write (SQLite creates and deletes -journal and -wal files
 * beside it). A WAL database's -wal and -shm files are opened by the
 * warm-up read before the sandbox and stay open.
 */
#include "sql.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sql_sqlite.h"
#include "sql_text.h"
#include "text.h"

#define SQLS_PROGRESS_OPS 1000 /* VM steps between deadline checks */
#define SQLS_MAX_LENGTH (64 << 20) /* largest string or blob a statement makes */
#define SQLS_ERRMSG_MAX 200
#define SQLS_ROWS_PER_CHECK 256 /* rows stepped between checks of the call */


static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- deadline, cancellation, busy ---------------------------------------- */

static int sqls_progress(void *u)
{
	struct sqls_conn *c = u;
	enum moat_rc rc;

	if (c->ctx && (rc = callctx_check(c->ctx, NULL)) != MOAT_OK) {
		c->stop = rc;
		return 1;
	}
	if (c->deadline_ns && now_ns() >= c->deadline_ns) {
		c->stop = MOAT_ETIMEOUT;
		return 1;
	}
	return 0;
}

static int sqls_busy(void *u, int count)
{
	struct sqls_conn *c = u;
	struct timespec ts = {0, 5 * 1000 * 1000};

	(void)count;
	if (sqls_progress(u))
		return 0;
	nanosleep(&ts, NULL);
	return !sqls_progress(c);
}

/* Take the connection for one call: wait for the lock in 10 ms steps,
 * giving up at the call's deadline or on cancellation. */
enum moat_rc sqls_conn_take(struct sqls_conn *c, struct call_ctx *ctx, enum sql_mode mode,
			      bool internal, struct moat_err *err)
{
	uint64_t limit;

	for (;;) {
		struct timespec ts;
		enum moat_rc rc;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (pthread_mutex_timedlock(&c->lock, &ts) == 0)
			break;
		if (ctx && (rc = callctx_check(ctx, err)) != MOAT_OK)
			return rc;
	}
	c->ctx = ctx;
	c->mode = mode;
	c->internal = internal;
	c->stop = MOAT_OK;
	c->denied = NULL;
	c->denied_id = NULL;
	limit = c->db->timeout_ms ? now_ns() + (uint64_t)c->db->timeout_ms * 1000000u : 0;
	c->deadline_ns = ctx && ctx->deadline_ns && (!limit || ctx->deadline_ns < limit)
				 ? ctx->deadline_ns
				 : limit;
	return MOAT_OK;
}

void sqls_conn_give(struct sqls_conn *c)
{
	c->ctx = NULL;
	c->internal = false;
	pthread_mutex_unlock(&c->lock);
}

/* ---- errors --------------------------------------------------------------- */

/* Turn SQLite's rc into moat's, naming the rule: the authorizer's, the
 * deadline's, or SQLite's own message (which names tables, columns and
 * constraints, never row values), cut to a bound. */
static enum moat_rc sqls_fail(struct sqls_conn *c, int src, const char *what,
			      struct moat_err *err)
{
	char msg[SQLS_ERRMSG_MAX + 1];
	int prim = src & 0xFF;

	if (prim == SQLITE_INTERRUPT && c->stop == MOAT_ECANCELLED)
		return moat_err_set(err, MOAT_ECANCELLED, "%s: cancelled by the client", what);
	if (prim == SQLITE_INTERRUPT || c->stop == MOAT_ETIMEOUT)
		return moat_err_rule(err, MOAT_ETIMEOUT, "limits.timeout",
				     "%s: the statement ran past its deadline (timeout_ms %u of "
				     "database '%s', or the call's timeout)",
				     what, c->db->timeout_ms, c->db->name);
	if (prim == SQLITE_AUTH || c->denied)
		return moat_err_rule(err, MOAT_EDENIED,
				     c->denied_id ? c->denied_id : "sql.statement_refused",
				     "%s: refused: %s", what, c->denied ? c->denied : "not authorized");
	if (prim == SQLITE_BUSY || prim == SQLITE_LOCKED)
		return moat_err_rule(err, MOAT_ETIMEOUT, "limits.timeout",
				     "%s: database '%s' stayed locked by another writer until the "
				     "deadline", what, c->db->name);
	if (prim == SQLITE_NOMEM)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (prim == SQLITE_READONLY)
		return moat_err_rule(err, MOAT_EDENIED, "sql.read_only",
				     "%s: database '%s' is read-only", what, c->db->name);
	snprintf(msg, sizeof(msg), "%s", sqlite3_errmsg(c->h));
	msg[text_utf8_prefix(msg, SQLS_ERRMSG_MAX)] = '\0';
	return moat_err_set(err, prim == SQLITE_ERROR || prim == SQLITE_CONSTRAINT ||
					 prim == SQLITE_MISMATCH || prim == SQLITE_RANGE ||
					 prim == SQLITE_TOOBIG
				     ? MOAT_EINVAL
				     : MOAT_EUPSTREAM,
			    "%s: sqlite: %s", what, msg);
}

/* ---- values ----------------------------------------------------------------- */

static const char *storage_name(int t)
{
	switch (t) {
	case SQLITE_INTEGER:
		return "INTEGER";
	case SQLITE_FLOAT:
		return "REAL";
	case SQLITE_TEXT:
		return "TEXT";
	case SQLITE_BLOB:
		return "BLOB";
	default:
		return NULL;
	}
}

/* Column i of the current row as a cell of res: integers and reals
 * exactly (an infinite real as the string "Infinity"/"-Infinity", NaN as
 * null), text (invalid UTF-8 bytes as U+FFFD), blobs as base64, NULL as
 * null. False on ENOMEM. */
static bool column_cell(sqlite3_stmt *st, int i, struct sql_result *res)
{
	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		return sql_result_cell_i64(res, (int64_t)sqlite3_column_int64(st, i));
	case SQLITE_FLOAT: {
		double d = sqlite3_column_double(st, i);
		if (isnan(d))
			return sql_result_cell_null(res);
		if (isinf(d))
			return d > 0 ? sql_result_cell_text(res, "Infinity", 8)
				     : sql_result_cell_text(res, "-Infinity", 9);
		return sql_result_cell_double(res, d);
	}
	case SQLITE_TEXT: {
		const char *s = (const char *)sqlite3_column_text(st, i);
		size_t n = (size_t)sqlite3_column_bytes(st, i);
		return sql_result_cell_text(res, s ? s : "", s ? n : 0);
	}
	case SQLITE_BLOB: {
		const void *p = sqlite3_column_blob(st, i);
		char *b = text_base64(p ? p : (const void *)"", (size_t)sqlite3_column_bytes(st, i));
		bool ok = b && sql_result_cell_text(res, b, strlen(b));
		free(b);
		return ok;
	}
	default:
		return sql_result_cell_null(res);
	}
}

/* Bind params (a JSON array, may be NULL) to st, by position. */
static enum moat_rc bind_params(sqlite3_stmt *st, const json_t *params, struct moat_err *err)
{
	int want = sqlite3_bind_parameter_count(st);
	size_t n = params ? json_array_size(params) : 0, i;
	json_t *v;

	if ((size_t)want != n)
		return moat_err_rule(err, MOAT_EINVAL, "sql.params_count",
				    "params: the statement has %d placeholder%s, params has %zu value%s",
				    want, want == 1 ? "" : "s", n, n == 1 ? "" : "s");
	json_array_foreach(params, i, v) {
		int k = (int)i + 1, src = SQLITE_OK;
		switch (json_typeof(v)) {
		case JSON_NULL:
			src = sqlite3_bind_null(st, k);
			break;
		case JSON_TRUE:
		case JSON_FALSE:
			src = sqlite3_bind_int(st, k, json_is_true(v));
			break;
		case JSON_INTEGER:
			src = sqlite3_bind_int64(st, k, (sqlite3_int64)json_integer_value(v));
			break;
		case JSON_REAL:
			src = sqlite3_bind_double(st, k, json_real_value(v));
			break;
		case JSON_STRING:
			src = sqlite3_bind_text64(st, k, json_string_value(v), json_string_length(v),
						  SQLITE_TRANSIENT, SQLITE_UTF8);
			break;
		case JSON_OBJECT: {
			const json_t *b64 = json_object_get(v, "base64");
			if (json_object_size(v) == 1 && json_is_string(b64)) {
				size_t len;
				unsigned char *blob = sql_base64_decode(json_string_value(b64),
									json_string_length(b64), &len);
				if (!blob)
					return moat_err_rule(err, MOAT_EINVAL, "sql.params_invalid",
							    "params/%zu: base64 is not valid base64", i);
				src = sqlite3_bind_blob64(st, k, blob, len, free);
				break;
			}
		}
			__attribute__((fallthrough)); /* any other object: its JSON text */
		case JSON_ARRAY: {
			char *s = json_dumps(v, JSON_COMPACT);
			if (!s)
				return moat_err_set(err, MOAT_ENOMEM, "out of memory");
			src = sqlite3_bind_text64(st, k, s, strlen(s), free, SQLITE_UTF8);
			break;
		}
		}
		if (src != SQLITE_OK)
			return moat_err_set(err, src == SQLITE_NOMEM ? MOAT_ENOMEM : MOAT_EINVAL,
					    "params/%zu: cannot be bound", i);
	}
	return MOAT_OK;
}

/* ---- running one statement ---------------------------------------------------- */

/* Prepare, check and run sql[0..len) on c (taken), rows into res. */
enum moat_rc sqls_exec_one(struct sqls_conn *c, const char *sql, size_t len,
			     const json_t *params, struct sql_result *res, const char *what,
			     struct moat_err *err)
{
	sqlite3_stmt *st = NULL;
	const char *tail = NULL;
	enum moat_rc rc = MOAT_OK;
	int src, ncol;
	bool more = true, typed = false;
	uint64_t stepped = 0;
	size_t ti;
	json_t *tv;

	if (len > INT_MAX)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.query_length", "%s: query too long",
				     what);
	if (memchr(sql, 0, len))
		return moat_err_rule(err, MOAT_EINVAL, "sql.nul", "query: contains a NUL byte");
	json_array_clear(c->seen);
	src = sqlite3_prepare_v3(c->h, sql, (int)len, 0, &st, &tail);
	if (src != SQLITE_OK) {
		rc = sqls_fail(c, src, what, err);
		goto out;
	}
	if (!st) {
		rc = moat_err_set(err, MOAT_EINVAL, "%s: the query holds no statement", what);
		goto out;
	}
	if (!sql_tail_empty(tail, len - (size_t)(tail - sql))) {
		rc = moat_err_rule(err, MOAT_EINVAL, "sql.multiple_statements",
				   "%s: exactly one statement per call; more text follows the first",
				   what);
		goto out;
	}
	if (c->mode == SQL_READ && !sqlite3_stmt_readonly(st)) {
		rc = moat_err_rule(err, MOAT_EDENIED, "sql.read_only",
				   "%s: read_query runs read-only statements only (use write_query "
				   "on a database with \"write\": true)", what);
		goto out;
	}
	if (c->mode == SQL_WRITE && sqlite3_stmt_readonly(st)) {
		rc = moat_err_rule(err, MOAT_EINVAL, "sql.not_a_write",
				   "%s: the statement does not write; use read_query", what);
		goto out;
	}
	if ((rc = bind_params(st, params, err)))
		goto out;
	/* Checked: the statement runs, and reads or writes what it named. */
	json_array_foreach(c->seen, ti, tv)
		callctx_touch_add(c->ctx, "tables", json_string_value(tv));
	ncol = sqlite3_column_count(st);
	for (int i = 0; i < ncol; i++)
		if ((rc = sql_result_column(res, sqlite3_column_name(st, i),
					    sqlite3_column_decltype(st, i), err)))
			goto out;
	while ((src = sqlite3_step(st)) == SQLITE_ROW) {
		/* The progress handler bounds the engine's work; this bounds
		 * ours (a write with RETURNING steps to the end past the caps). */
		if (++stepped % SQLS_ROWS_PER_CHECK == 0 && c->ctx &&
		    (rc = callctx_check(c->ctx, err)) != MOAT_OK)
			goto out;
		if (!more) {
			/* A read stops at the first row past the cap; a write
			 * (RETURNING) runs to the end so all of it happens. */
			if (!res->truncated)
				sql_result_more(res);
			if (c->mode == SQL_READ)
				break;
			continue;
		}
		if (!typed) { /* expressions have no declared type: use the first row's */
			for (int i = 0; i < ncol; i++)
				sql_result_column_type(res, (size_t)i,
						       storage_name(sqlite3_column_type(st, i)));
			typed = true;
		}
		if ((rc = sql_result_row_begin(res, err)))
			goto out;
		for (int i = 0; i < ncol; i++)
			if (!column_cell(st, i, res))
				break; /* sql_result_row_end says ENOMEM */
		if ((rc = sql_result_row_end(res, &more, err)))
			goto out;
		if (!more && res->truncated && c->mode == SQL_READ)
			break; /* the byte cap: nothing more fits */
	}
	if (src != SQLITE_ROW && src != SQLITE_DONE) {
		rc = sqls_fail(c, src, what, err);
		goto out;
	}
	if (c->mode == SQL_WRITE)
		res->affected = (int64_t)sqlite3_changes64(c->h);
out:
	sqlite3_finalize(st);
	return rc;
}

/* ---- the backend ops ------------------------------------------------------- */

static enum moat_rc sqls_query(struct sql_db *db, struct call_ctx *ctx, const char *sql,
			       size_t len, const json_t *params, enum sql_mode mode,
			       struct sql_result *res, struct moat_err *err)
{
	struct sqls_conn *c = db->conn;
	enum moat_rc rc;

	if ((rc = sqls_conn_take(c, ctx, mode, false, err)))
		return rc;
	rc = sqls_exec_one(c, sql, len, params, res, mode == SQL_WRITE ? "write_query" : "read_query",
		      err);
	sqls_conn_give(c);
	return rc;
}

static void sqls_close(struct sql_db *db)
{
	struct sqls_conn *c = db->conn;

	if (!c)
		return;
	sqlite3_close_v2(c->h);
	json_decref(c->seen);
	for (size_t i = 0; i < c->nmodules; i++)
		free(c->modules[i]);
	free(c->modules);
	pthread_mutex_destroy(&c->lock);
	free(c);
	db->conn = NULL;
}

/* sqlite3_exec callback: remember one module name. */
static int add_module(void *u, int n, char **vals, char **names)
{
	struct sqls_conn *c = u;
	char **m = realloc(c->modules, (c->nmodules + 1) * sizeof(*m));

	(void)names;
	if (!m)
		return 1;
	c->modules = m;
	if (n < 1 || !vals[0] || !(m[c->nmodules] = strdup(vals[0])))
		return 1;
	c->nmodules++;
	return 0;
}

/* Apply the connection-wide hardening; false on failure. */
static bool harden(struct sqls_conn *c, bool write)
{
	sqlite3 *h = c->h;
	int on = 0;
	bool ok = true;

	ok &= sqlite3_db_config(h, SQLITE_DBCONFIG_DEFENSIVE, 1, &on) == SQLITE_OK && on == 1;
	ok &= sqlite3_db_config(h, SQLITE_DBCONFIG_ENABLE_LOAD_EXTENSION, 0, &on) == SQLITE_OK &&
	      on == 0;
	ok &= sqlite3_db_config(h, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, &on) == SQLITE_OK && on == 0;
	sqlite3_limit(h, SQLITE_LIMIT_ATTACHED, 0);
	sqlite3_limit(h, SQLITE_LIMIT_LENGTH, SQLS_MAX_LENGTH);
	ok &= sqlite3_exec(h, "PRAGMA temp_store = MEMORY", NULL, NULL, NULL) == SQLITE_OK;
	if (!write)
		ok &= sqlite3_exec(h, "PRAGMA query_only = ON", NULL, NULL, NULL) == SQLITE_OK;
	/* Read the schema now (it also opens a WAL database's -wal and -shm
	 * while nothing is sandboxed yet) and create the eponymous json
	 * tables before the authorizer, which would refuse their set-up. */
	ok &= sqlite3_exec(h, "SELECT count(*) FROM main.sqlite_schema", NULL, NULL, NULL) ==
	      SQLITE_OK;
	ok &= sqlite3_exec(h, "SELECT * FROM json_each('[]'), json_tree('[]')", NULL, NULL,
			   NULL) == SQLITE_OK;
	ok &= sqlite3_exec(h, "SELECT name FROM pragma_module_list", add_module, c, NULL) ==
	      SQLITE_OK;
	sqlite3_set_authorizer(h, sqls_authorize, c);
	sqlite3_progress_handler(h, SQLS_PROGRESS_OPS, sqls_progress, c);
	sqlite3_busy_handler(h, sqls_busy, c);
	return ok;
}

static enum moat_rc sqls_open(struct sql_db *db, struct registry *reg, struct moat_err *err)
{
	struct sqls_conn *c = calloc(1, sizeof(*c));
	int flags = (db->write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) |
		    SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	char dir[PATH_MAX];
	enum moat_rc rc = MOAT_OK;
	struct stat st;
	int fd = -1;

	if (!c)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	pthread_mutex_init(&c->lock, NULL);
	c->db = db;
	db->conn = c;
	if (sqlite3_threadsafe() == 0)
		return moat_err_set(err, MOAT_EINTERNAL, "SQLite was built without thread safety");
	if (!(c->seen = json_array()))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	/* Open it ourselves first: errno says why SQLite could not. */
	if ((fd = open(db->path, (db->write ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY)) < 0)
		return sql_open_err(db, errno, NULL, err);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return sql_open_err(db, 0, "not a regular file", err);
	}
	close(fd);
	fd = -1;
	if (sqlite3_open_v2(db->path, &c->h, flags, NULL) != SQLITE_OK)
		return sql_open_err(db, 0, c->h ? sqlite3_errmsg(c->h) : "out of memory", err);
	if (!harden(c, db->write)) {
		char why[SQLS_ERRMSG_MAX + 64];
		snprintf(why, sizeof(why), "not a usable SQLite database (%s)", sqlite3_errmsg(c->h));
		return sql_open_err(db, 0, why, err);
	}
	/* moat check warns about an allowlisted table that is not there (a
	 * typo, or a table still to be created): it is not an error. */
	c->internal = true;
	for (size_t i = 0; i < db->ntables; i++) {
		sqlite3_stmt *q = NULL;
		int found = sqlite3_prepare_v2(c->h,
					       "SELECT 1 FROM main.sqlite_schema WHERE type IN "
					       "('table','view') AND name = ?1 COLLATE NOCASE",
					       -1, &q, NULL) == SQLITE_OK &&
			    sqlite3_bind_text(q, 1, db->tables[i], -1, SQLITE_STATIC) == SQLITE_OK &&
			    sqlite3_step(q) == SQLITE_ROW;
		sqlite3_finalize(q);
		if (!found)
			log_warn("sql: database '%s' (%s): the \"tables\" allowlist names '%s', "
				 "which does not exist", db->name, db->given, db->tables[i]);
	}
	c->internal = false;
	/* The sandbox grants exactly what SQLite opens. */
	snprintf(dir, sizeof(dir), "%s", db->path);
	if (db->write && strrchr(dir, '/'))
		*(strrchr(dir, '/') == dir ? dir + 1 : strrchr(dir, '/')) = '\0';
	fd = open(dir, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return moat_err_set(err, MOAT_EIO, "/databases/%s: cannot open: %s", db->name,
				    strerror(errno));
	rc = registry_grant(reg, dir, fd, db->write, err);
	close(fd);
	return rc;
}

static void sqls_describe(const struct sql_db *db, FILE *f)
{
	fprintf(f, "  %-12s sqlite %s %s", db->name, db->write ? "read-write" : "read-only",
		db->path);
	if (db->tables) {
		fprintf(f, " (tables:");
		for (size_t i = 0; i < db->ntables; i++)
			fprintf(f, "%s %s", i ? "," : "", db->tables[i]);
		fputc(')', f);
	}
	fputc('\n', f);
}

const struct sql_backend sqls_backend = {
	.type = "sqlite",
	.open = sqls_open,
	.close = sqls_close,
	.list_tables = sqls_list_tables,
	.describe_table = sqls_describe_table, /* sql_sqlite_catalog.c */
	.query = sqls_query,
	.describe = sqls_describe,
};
