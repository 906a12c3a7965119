/*
 * sql_pg.c - the PostgreSQL backend of the sql family (in moat_sql_pg.so).
 *
 * Every call runs in a transaction of its own on a pooled connection:
 *
 *   DEALLOCATE ALL; BEGIN READ ONLY (READ WRITE for write_query);
 *   SET LOCAL statement_timeout = <what is left of the deadline>;
 *   SET LOCAL search_path = <the schema allowlist>
 *   Parse "moat_q" = the user's statement
 *       -- extended protocol: exactly one statement, never spliced
 *   Describe moat_q: the number and types of its placeholders
 *   [read_query: SELECT pg_current_snapshot()::text]
 *   EXPLAIN (VERBOSE, FORMAT JSON) <the statement> with the params
 *       -- all of the above in one round trip (pipeline mode); then
 *          every relation of the plan must be in the allowlist
 *   Execute moat_q with the params, rows one at a time (the caps stop it)
 *   [a cache hit: SELECT pg_current_snapshot()::text]
 *   ROLLBACK (a read) or COMMIT (a write)
 *   DISCARD ALL
 *       -- the last ones in a second round trip
 *
 * A read_query whose check the plan-check cache holds (below) sends no
 * EXPLAIN: its first round trip ends with the snapshot after Describe.
 *
 * A pooled connection carries nothing from one call to the next. Once the
 * user's text has reached the server the lease is dirty: what a statement
 * can leave in the session outlives ROLLBACK in a few cases (a session
 * advisory lock taken by pg_advisory_lock, even in a READ ONLY
 * transaction) and COMMIT in many (set_config(..., false) and the role,
 * temporary tables from CREATE TEMP TABLE AS, cursors DECLAREd WITH HOLD,
 * sequences' currval/lastval). DISCARD ALL (CLOSE ALL, SET SESSION
 * AUTHORIZATION DEFAULT, RESET ALL, DEALLOCATE ALL, UNLISTEN *,
 * pg_advisory_unlock_all(), DISCARD PLANS, TEMP and SEQUENCES) ends the
 * call's pipeline, so it costs no round trip; after a failed call
 * sqlpg_abandon() runs it after the ROLLBACK. A connection whose DISCARD
 * ALL did not succeed is closed, never pooled (sqlpg_give), and the server
 * ends the session with everything in it. Not reset, since nothing can: the seed of
 * random() after setseed(), and the server's statistics.
 *
 * So `SELECT 1; COMMIT; DROP TABLE t` fails at Parse, a read cannot write
 * (the transaction is READ ONLY, and SET TRANSACTION READ WRITE after the
 * first statement is an error), and the plan check sees through views,
 * CTEs and subqueries; sql_pg_plan.c says what it cannot see. The text
 * given to EXPLAIN is the one Parse accepted as a single statement, and
 * EXPLAIN's grammar takes only a plannable statement after its options,
 * without ANALYZE nothing is executed; both resolve names in the same
 * transaction and search_path, and the locks EXPLAIN takes hold until the
 * transaction ends, so what was checked is what runs (but for a function
 * the planner inlines, which is not locked: see the race below).
 *
 * The plan-check cache (sql_pg_cache.c; read_query only, a write is always
 * explained). Its key is the statement's text, each param's type AND
 * value: the relations of a plan depend on the values (`WHERE $1::int =
 * 1` with 0 is planned as a Result with no relation at all; plan-time
 * partition pruning drops partitions by value). One cache per database:
 * its connections share the role and the SET LOCAL search_path. An entry
 * records the plan's relations and the transaction snapshot
 * (pg_current_snapshot()::text: xmin:xmax:in-progress xids) read just
 * BEFORE the EXPLAIN that passed. What it guarantees, and why:
 *
 *   - Two snapshots are the same text only if no transaction that had an
 *     xid ended between them (one that ended while in progress at the
 *     first leaves its xid list; one that began after raises xmax). Every
 *     change of the catalogue (a view redefined, a table renamed or
 *     created, a function replaced, a partition attached, a grant or a
 *     policy) is written by a transaction with an xid. So, in a session
 *     at READ COMMITTED (where each statement takes a fresh snapshot; the
 *     snapshot statement answers NULL otherwise, and such a session never
 *     uses the cache), the same snapshot means the same catalogue. Any
 *     write anywhere in the cluster changes it too: that only costs a miss.
 *   - A DDL that commits between the entry's snapshot and its EXPLAIN
 *     changes every later snapshot, so that entry can never match.
 *   - A hit: the snapshot read after Parse and Describe must equal the
 *     entry's, else the plan is explained then (a round trip more, in the
 *     same transaction) and the entry starts over. Parse resolved the names
 *     under that same catalogue, so the statement is the one explained.
 *   - After Execute the snapshot is read again, in the transaction: if a
 *     commit landed while the statement was planned or ran (a lock it
 *     waited on, then a redefinition: tests/attack/sql_pg_cache.test.mjs
 *     waits at Execute on a partition's lock while another session swaps
 *     the body of an inlined SQL function for one that reads a denied
 *     table), the rows are dropped, the entry forgotten and the call made
 *     again from the start with EXPLAIN in its transaction. The denied rows
 *     may have reached moat's memory; they are freed, never sent. A result
 *     cut at a cap (a cancel skips the snapshot) is redone the same way,
 *     and that statement is never answered from the cache again.
 *   - An entry answers only once two EXPLAINs under the same snapshot
 *     passed (the second call of a statement confirms the first): a
 *     commit becomes visible in the snapshot a moment before the server
 *     sends its cache invalidations (PostgreSQL holds the locks until
 *     then, but not on functions), so one EXPLAIN in that moment could
 *     have planned with the old definitions. On a database that is written
 *     all the time nearly every call is a miss (two round trips, as without
 *     the cache, and a one-row SELECT more).
 *
 * What it does not change: what the plan cannot show (sql_pg_plan.c), and
 * planner settings that are not in the catalogue (postgresql.conf
 * reloaded, session defaults of a connection opened before an ALTER ROLE
 * SET): those could make a connection prune fewer partitions than the one
 * that explained, which reads more relations but never more rows.
 *
 * Start-up, the role checks and moat check's lines: sql_pg_open.c.
 *
 * Thread-safe: the pool guards the connections, the cache its entries;
 * the rest is read-only after open.
 */
#include "sql_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "sql_pg_cache.h"

#define SQLPG_STMT "moat_q"
/* ---- the user's statement ------------------------------------------------------ */

struct rows_ctx {
	struct sql_result *res;
	struct call_ctx *ctx;
	enum sql_mode mode;
	bool typed;
	uint64_t seen; /* rows received, kept or not */
};

#define SQLPG_ROWS_PER_CHECK 256 /* rows between checks of the call */

static enum moat_rc set_columns(struct sql_result *res, const PGresult *r, struct moat_err *err)
{
	enum moat_rc rc = MOAT_OK;

	for (int i = 0; i < PQnfields(r) && rc == MOAT_OK; i++)
		rc = sql_result_column(res, PQfname(r, i), sqlpg_type_name(PQftype(r, i)), err);
	return rc;
}

/* Row row of r offered cell by cell; false on ENOMEM (the row's end says so). */
static bool row_cells(struct sql_result *res, const PGresult *r, int row)
{
	for (int i = 0; i < PQnfields(r); i++)
		if (!(PQgetisnull(r, row, i)
			      ? sql_result_cell_null(res)
			      : sqlpg_value_cell(res, PQftype(r, i), PQgetvalue(r, row, i),
						 (size_t)PQgetlength(r, row, i))))
			return false;
	return true;
}

/* One row in single-row mode: false stops (a cap, or an error in err). */
static bool on_row(void *u, PGresult *r, struct moat_err *err)
{
	struct rows_ctx *rc = u;
	bool more = true;

	/* A write past the caps runs to the end: the rows still arrive, so
	 * the call's deadline and cancellation are checked as they do. */
	if (++rc->seen % SQLPG_ROWS_PER_CHECK == 0 && rc->ctx &&
	    callctx_check(rc->ctx, err) != MOAT_OK)
		return false;
	if (!rc->typed) {
		if (set_columns(rc->res, r, err))
			return false;
		rc->typed = true;
	}
	if (rc->res->truncated || (rc->res->max_rows && rc->res->nrows >= rc->res->max_rows)) {
		if (!rc->res->truncated)
			sql_result_more(rc->res);
		return rc->mode == SQL_WRITE; /* a write runs to the end */
	}
	if (sql_result_row_begin(rc->res, err))
		return false;
	row_cells(rc->res, r, 0); /* a failure: sql_result_row_end says ENOMEM */
	if (sql_result_row_end(rc->res, &more, err))
		return false;
	/* At the row cap, look for one more row (it says "truncated"); at
	 * the byte cap, stop now. A write runs to the end either way. */
	return more || !rc->res->truncated || rc->mode == SQL_WRITE;
}

/* "EXPLAIN (VERBOSE, FORMAT JSON) <sql>": EXPLAIN EXECUTE cannot take
 * the params of the protocol, so the text is explained itself, after Parse
 * accepted it as one statement. Without ANALYZE nothing runs; the same
 * text, params, search_path and transaction resolve the same relations
 * (the locks EXPLAIN takes are held until the transaction ends). */
static char *explain_text(const char *sql)
{
	char *s = NULL;

	return asprintf(&s, "EXPLAIN (VERBOSE, FORMAT JSON) %s", sql) < 0 ? NULL : s;
}

/* The statement that reads the transaction snapshot: its text
 * (xmin:xmax:xip,...) in READ COMMITTED, where every statement takes a
 * fresh one, else NULL (a REPEATABLE READ or SERIALIZABLE default keeps
 * one snapshot for the whole transaction, which could not show a commit
 * made while the call runs: such a session never uses the cache). Every
 * name is qualified: the search_path is the user's allowlist. */
#define SQLPG_SNAPSHOT                                                                         \
	"SELECT CASE WHEN pg_catalog.current_setting('transaction_isolation') "                \
	"OPERATOR(pg_catalog.=) 'read committed' THEN "                                         \
	"pg_catalog.pg_current_snapshot()::pg_catalog.text END"

static bool send_snapshot(PGconn *c)
{
	return PQsendQueryParams(c, SQLPG_SNAPSHOT, 0, NULL, NULL, NULL, NULL, 0);
}

/* The snapshot text of r (a malloc'd copy), or NULL: not read committed,
 * failed, or out of memory (the call then goes on uncached). */
static char *snapshot_of(const PGresult *r)
{
	if (!r || PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
	    PQnfields(r) != 1 || PQgetisnull(r, 0, 0))
		return NULL;
	return strdup(PQgetvalue(r, 0, 0));
}

static bool send_explain(PGconn *c, const char *explain, const struct sqlpg_params *pp)
{
	return PQsendQueryParams(c, explain, pp->n, pp->types, (const char *const *)pp->values,
				 pp->lengths, pp->formats, 0);
}

/* The answer of EXPLAIN (r) checked against the allowlist; rels gets the
 * plan's relations. */
static enum moat_rc explain_check(struct sql_db *db, PGconn *conn, struct sqlpg_call *call,
				  const PGresult *r, json_t *rels, struct moat_err *err)
{
	if (PQresultStatus(r) == PGRES_FATAL_ERROR && PQresultErrorField(r, PG_DIAG_SQLSTATE) &&
	    strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42601") == 0)
		/* Parse took it, EXPLAIN's grammar did not: not a plannable statement */
		return moat_err_rule(err, MOAT_EDENIED, "sql.statement_refused", "%s: refused: %s",
				     call->what, SQLPG_PLAN_ONLY);
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 || PQnfields(r) != 1)
		return PQresultStatus(r) == PGRES_TUPLES_OK
			       ? moat_err_set(err, MOAT_EUPSTREAM, "%s: the plan could not be read",
					      call->what)
			       : sqlpg_fail(call, r, conn, err);
	return sqlpg_plan_check(db, PQgetvalue(r, 0, 0), call->what, rels, err);
}

/* The commands of the first round trip, in the order they are sent; then
 * SNAP (when snap_out) and EXPLAIN (when explain), in that order. */
enum { P_DEALLOC, P_BEGIN, P_TIMEOUT, P_PATH, P_PARSE, P_DESCRIBE, P_MAX = P_DESCRIBE + 3 };

/*
 * Open the call's transaction and prepare and check its statement, all in
 * one round trip (libpq pipeline mode): the server takes the commands in
 * order and skips the rest after an error, so the statement is checked
 * exactly as if each command had waited for the one before. Nothing of the
 * user's runs here: Parse and Describe only prepare, and EXPLAIN without
 * ANALYZE only plans. With explain false (a plan-check cache hit) the plan
 * is not asked for and rels is left alone; with snap_out, the snapshot
 * is read after Describe (and before EXPLAIN) into *snap_out (NULL when
 * there is none to read).
 */
static enum moat_rc prepare(struct sqlpg_pool *p, struct sql_db *db, struct sqlpg_lease *l,
			    struct sqlpg_call *call, const char *sql, struct sqlpg_params *pp,
			    enum sql_mode mode, bool explain_it, char **snap_out, json_t *rels,
			    struct moat_err *err)
{
	uint64_t now = sqlpg_now_ns();
	unsigned long long ms = call->deadline_ns > now ? (call->deadline_ns - now) / 1000000u : 1;
	char *timeout = NULL, *path = NULL, *explain = NULL;
	PGresult *r[P_MAX] = {0};
	int i_snap = snap_out ? P_DESCRIBE + 1 : -1;
	int i_explain = explain_it ? P_DESCRIBE + 1 + (snap_out != NULL) : -1;
	int n = P_DESCRIBE + 1 + (snap_out != NULL) + explain_it;
	enum moat_rc rc = MOAT_OK;
	bool sent;

	if (snap_out)
		*snap_out = NULL;
	if (ms < 1)
		ms = 1;
	if (asprintf(&timeout, "SET LOCAL statement_timeout = %llu", ms) < 0)
		timeout = NULL;
	if (asprintf(&path, "SET LOCAL search_path = %s", p->search_path) < 0)
		path = NULL;
	if (explain_it)
		explain = explain_text(sql);
	if (!timeout || !path || (explain_it && !explain)) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (!PQenterPipelineMode(l->conn)) {
		rc = sqlpg_fail(call, NULL, l->conn, err);
		goto out;
	}
	l->dirty = true; /* the user's text is about to reach the server */
	sent = PQsendQueryParams(l->conn, "DEALLOCATE ALL", 0, NULL, NULL, NULL, NULL, 0) &&
	       PQsendQueryParams(l->conn, mode == SQL_WRITE ? "BEGIN READ WRITE" : "BEGIN READ ONLY",
				 0, NULL, NULL, NULL, NULL, 0) &&
	       PQsendQueryParams(l->conn, timeout, 0, NULL, NULL, NULL, NULL, 0) &&
	       PQsendQueryParams(l->conn, path, 0, NULL, NULL, NULL, NULL, 0) &&
	       /* Parse: one statement, or the server refuses it. */
	       PQsendPrepare(l->conn, SQLPG_STMT, sql, pp->n, pp->types) &&
	       /* Its placeholders: their number and types. */
	       PQsendDescribePrepared(l->conn, SQLPG_STMT) &&
	       /* The snapshot, after Parse resolved the names, before EXPLAIN. */
	       (!snap_out || send_snapshot(l->conn)) &&
	       /* The plan of exactly that statement with these params. */
	       (!explain_it || send_explain(l->conn, explain, pp));
	if (!sent) {
		l->broken = true;
		rc = sqlpg_fail(call, NULL, l->conn, err);
		goto out;
	}
	if ((rc = sqlpg_pipeline_collect(l, call, r, n, NULL, NULL, err)))
		goto out;
	for (int i = P_DEALLOC; i < P_PARSE; i++) {
		if (PQresultStatus(r[i]) != PGRES_COMMAND_OK) {
			rc = sqlpg_fail(call, r[i], l->conn, err);
			goto out;
		}
	}
	if (PQresultStatus(r[P_PARSE]) != PGRES_COMMAND_OK) {
		const char *st = PQresultErrorField(r[P_PARSE], PG_DIAG_SQLSTATE);
		const char *m = PQresultErrorField(r[P_PARSE], PG_DIAG_MESSAGE_PRIMARY);
		if (st && m && strcmp(st, "42601") == 0 && strstr(m, "multiple commands"))
			rc = moat_err_rule(err, MOAT_EINVAL, "sql.multiple_statements",
					   "%s: exactly one statement per call", call->what);
		else
			rc = sqlpg_fail(call, r[P_PARSE], l->conn, err);
		goto out;
	}
	if (PQresultStatus(r[P_DESCRIBE]) != PGRES_COMMAND_OK) {
		rc = sqlpg_fail(call, r[P_DESCRIBE], l->conn, err);
		goto out;
	}
	if (PQnparams(r[P_DESCRIBE]) != pp->n) {
		int want = PQnparams(r[P_DESCRIBE]);
		rc = moat_err_rule(err, MOAT_EINVAL, "sql.params_count",
				  "params: the statement has %d placeholder%s, params has %d value%s",
				  want, want == 1 ? "" : "s", pp->n, pp->n == 1 ? "" : "s");
		goto out;
	}
	for (int i = 0; i < pp->n; i++) {
		if (pp->formats[i] == 1 && PQparamtype(r[P_DESCRIBE], i) != pp->types[i]) {
			rc = moat_err_rule(err, MOAT_EINVAL, "sql.params_type",
					  "params/%d: {\"base64\"} binds bytea, but the placeholder "
					  "is of another type", i);
			goto out;
		}
	}
	if (explain_it && (rc = explain_check(db, l->conn, call, r[i_explain], rels, err)))
		goto out;
	if (snap_out)
		*snap_out = snapshot_of(r[i_snap]);
out:
	for (int i = 0; i < n; i++)
		PQclear(r[i]);
	free(timeout);
	free(path);
	free(explain);
	return rc;
}

/*
 * The plan check in a round trip of its own, inside the call's open
 * transaction (a cache hit whose snapshot did not match): the snapshot,
 * then EXPLAIN. *snap_out as in prepare().
 */
static enum moat_rc explain_now(struct sql_db *db, struct sqlpg_lease *l, struct sqlpg_call *call,
				const char *sql, struct sqlpg_params *pp, char **snap_out,
				json_t *rels, struct moat_err *err)
{
	char *explain = explain_text(sql);
	PGresult *r[2] = {0};
	enum moat_rc rc;

	*snap_out = NULL;
	if (!explain)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (!PQenterPipelineMode(l->conn) || !send_snapshot(l->conn) ||
	    !send_explain(l->conn, explain, pp)) {
		l->broken = true;
		free(explain);
		return sqlpg_fail(call, NULL, l->conn, err);
	}
	free(explain);
	if ((rc = sqlpg_pipeline_collect(l, call, r, 2, NULL, NULL, err)))
		return rc;
	if (!(rc = explain_check(db, l->conn, call, r[1], rels, err)))
		*snap_out = snapshot_of(r[0]);
	PQclear(r[0]);
	PQclear(r[1]);
	return rc;
}

/* Run the prepared and checked statement on l, a row at a time (the caps
 * stop it), end the transaction and reset the session, in one round trip:
 * COMMIT for a write, ROLLBACK for a read, then DISCARD ALL (outside the
 * transaction, as it must be). After an error the server skips the rest
 * (PGRES_PIPELINE_ABORTED), so a failed write commits nothing;
 * sqlpg_abandon() then rolls the transaction back and resets the session.
 * With snap_out (a cache hit), the snapshot is read right after Execute,
 * still in the transaction, into *snap_out (NULL when none could be). */
static enum moat_rc run_user(struct sqlpg_lease *l, struct sqlpg_call *call,
			     struct sqlpg_params *pp, enum sql_mode mode, struct sql_result *res,
			     char **snap_out, struct moat_err *err)
{
	struct rows_ctx rc_rows = {.res = res, .ctx = call->ctx, .mode = mode};
	PGresult *r[4] = {0};
	int s = snap_out ? 1 : 0, n = 3 + s; /* r[0] Execute, [1] snapshot, end, DISCARD */
	enum moat_rc rc = MOAT_OK;

	if (snap_out)
		*snap_out = NULL;
	if (!PQenterPipelineMode(l->conn) ||
	    !PQsendQueryPrepared(l->conn, SQLPG_STMT, pp->n, (const char *const *)pp->values,
				 pp->lengths, pp->formats, 0) ||
	    !PQsetSingleRowMode(l->conn) || (snap_out && !send_snapshot(l->conn)) ||
	    !PQsendQueryParams(l->conn, mode == SQL_WRITE ? "COMMIT" : "ROLLBACK", 0, NULL, NULL,
			       NULL, NULL, 0) ||
	    !PQsendQueryParams(l->conn, "DISCARD ALL", 0, NULL, NULL, NULL, NULL, 0)) {
		l->broken = true;
		return sqlpg_fail(call, NULL, l->conn, err);
	}
	if ((rc = sqlpg_pipeline_collect(l, call, r, n, on_row, &rc_rows, err)))
		return rc;
	if (PQresultStatus(r[2 + s]) == PGRES_COMMAND_OK)
		l->dirty = false;
	if (PQresultStatus(r[0]) != PGRES_TUPLES_OK && PQresultStatus(r[0]) != PGRES_COMMAND_OK) {
		rc = sqlpg_fail(call, r[0], l->conn, err);
		goto out;
	}
	if (!rc_rows.typed && (rc = set_columns(res, r[0], err)))
		goto out;
	if (mode == SQL_WRITE) {
		const char *nt = PQcmdTuples(r[0]);
		res->affected = nt && *nt ? strtoll(nt, NULL, 10) : 0;
	}
	if (snap_out)
		*snap_out = snapshot_of(r[1]);
	if (PQresultStatus(r[1 + s]) != PGRES_COMMAND_OK) {
		/* A COMMIT that failed fails the write. A read's rows are right
		 * whatever became of its ROLLBACK (a cancel request sent at a
		 * cap may have landed on it): the connection is not reused. */
		if (mode == SQL_WRITE)
			rc = sqlpg_fail(call, r[1 + s], l->conn, err);
		else
			l->discard = true;
	}
out:
	for (int i = 0; i < n; i++)
		PQclear(r[i]);
	return rc;
}

/* rels (the plan's relation names) as names back to back, each
 * NUL-terminated, for the cache; NULL on ENOMEM. */
static char *rels_blob(const json_t *rels, size_t *len)
{
	size_t n = 0, i;
	json_t *v;
	char *b, *q;

	json_array_foreach(rels, i, v)
		n += json_string_length(v) + 1;
	if (!(b = q = malloc(n + 1)))
		return NULL;
	json_array_foreach(rels, i, v) {
		memcpy(q, json_string_value(v), json_string_length(v) + 1);
		q += json_string_length(v) + 1;
	}
	*len = n;
	return b;
}

/* The cached relation names back into rels; false on ENOMEM. */
static bool rels_unblob(json_t *rels, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i += strlen(b + i) + 1)
		if (json_array_append_new(rels, json_string(b + i)))
			return false;
	return true;
}

/* Record what EXPLAIN said under snapshot snap (taken just before it):
 * confirmed when prev (the entry it replaces, may be NULL) was made under
 * the same snapshot; an entry marked nohit stays so. No snapshot: forget
 * the statement. */
static void cache_record(struct sqlpg_pool *p, const struct sqlpg_cache_key *key,
			 const char *snap, const struct sqlpg_cache_val *prev, bool nohit,
			 const json_t *rels)
{
	size_t len = 0;
	char *b;

	if (!snap) {
		sqlpg_cache_drop(p->cache, key);
		return;
	}
	if (!(b = rels_blob(rels, &len)))
		return;
	sqlpg_cache_put(p->cache, key, snap, b, len,
			prev && prev->snap && strcmp(prev->snap, snap) == 0,
			nohit || (prev && prev->nohit));
	free(b);
}

/* Empty res again, with the same caps: the rows of a run whose check no
 * longer held are dropped before anything is made of them. */
static enum moat_rc result_reset(struct sql_result *res, struct moat_err *err)
{
	size_t max_rows = res->max_rows, max_bytes = res->max_bytes, table_max = res->table_max;

	sql_result_free(res);
	return sql_result_init(res, max_rows, max_bytes, table_max, err);
}

enum moat_rc sqlpg_query(struct sql_db *db, struct call_ctx *ctx, const char *sql, size_t len,
			 const json_t *params, enum sql_mode mode, struct sql_result *res,
			 struct moat_err *err)
{
	struct sqlpg_pool *p = db->conn;
	struct sqlpg_params pp = {0};
	struct sqlpg_lease l = {0};
	struct sqlpg_cache_key key = {0};
	struct sqlpg_cache_val hit = {0};
	struct sqlpg_call call;
	json_t *rels = NULL, *v;
	char *snap = NULL, *after = NULL;
	bool cached = false, hit_used = false, checked = false;
	enum moat_rc rc;
	size_t i;

	sqlpg_call_start(&call, db, ctx, mode == SQL_WRITE ? "write_query" : "read_query");
	/* The server refuses NUL in string arguments before any handler runs;
	 * this holds on its own all the same. */
	if (!sql || strlen(sql) != len)
		return moat_err_rule(err, MOAT_EINVAL, "sql.nul", "query: contains a NUL byte");
	if ((rc = sqlpg_params_make(params, &pp, err)))
		return rc;
	if (!(rels = json_array())) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	/* Only reads are cached: a write is always explained. */
	cached = mode == SQL_READ && p->cache && sqlpg_cache_key(sql, len, &pp, &key);
	hit_used = cached && sqlpg_cache_get(p->cache, &key, &hit) && hit.confirmed && !hit.nohit;
	if ((rc = sqlpg_take(p, &call, &l, err)))
		goto out;
	if (!hit_used) {
		/* A miss: explained in the call's transaction, as always. */
		if ((rc = prepare(p, db, &l, &call, sql, &pp, mode, true, cached ? &snap : NULL, rels,
				  err))) {
			sqlpg_cache_drop(p->cache, &key);
			goto out;
		}
		if (cached)
			cache_record(p, &key, snap, &hit, false, rels);
	} else {
		if ((rc = prepare(p, db, &l, &call, sql, &pp, mode, false, &snap, rels, err)))
			goto out;
		if (!snap || strcmp(snap, hit.snap) != 0) {
			/* Something committed since the entry was made: check the
			 * plan now, in this transaction, and start confirming anew. */
			hit_used = false;
			free(snap);
			if ((rc = explain_now(db, &l, &call, sql, &pp, &snap, rels, err))) {
				sqlpg_cache_drop(p->cache, &key);
				goto out;
			}
			cache_record(p, &key, snap, NULL, false, rels);
		} else if (!rels_unblob(rels, hit.rels, hit.rels_len)) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
	checked = true;
	rc = run_user(&l, &call, &pp, mode, res, hit_used ? &after : NULL, err);
	if (rc == MOAT_OK && hit_used && (!after || strcmp(after, hit.snap) != 0)) {
		/* A commit landed while the cached statement ran: what it read
		 * may not be what the entry checked. Its rows (which may have
		 * reached moat's memory, never the client) are dropped, the
		 * entry too, and the call is made again with EXPLAIN in its
		 * transaction, as a miss. No snapshot after the rows means the
		 * result was cut short (a cancel at a cap skips what follows
		 * Execute): such a statement is not answered from the cache
		 * again. */
		bool nohit = !after;
		sqlpg_cache_drop(p->cache, &key);
		json_array_clear(rels);
		checked = false;
		free(snap);
		snap = NULL;
		if ((rc = result_reset(res, err)))
			goto out;
		if (l.discard || l.dirty || PQtransactionStatus(l.conn) != PQTRANS_IDLE) {
			/* a cancel may still be in flight, or the session was not
			 * reset: another connection (sqlpg_give closes this one) */
			sqlpg_give(p, &l);
			if ((rc = sqlpg_take(p, &call, &l, err)))
				goto out;
		}
		if (!(rc = prepare(p, db, &l, &call, sql, &pp, mode, true, &snap, rels, err))) {
			checked = true;
			cache_record(p, &key, snap, NULL, nohit, rels);
			rc = run_user(&l, &call, &pp, mode, res, NULL, err);
		}
	}
out:
	/* The tables of a statement that passed the check, run or not. */
	json_array_foreach(checked ? rels : NULL, i, v)
		callctx_touch_add(ctx, "tables", json_string_value(v));
	if (rc)
		sqlpg_abandon(db, &l);
	sqlpg_give(p, &l);
	sqlpg_params_free(&pp);
	sqlpg_cache_key_free(&key);
	sqlpg_cache_val_free(&hit);
	free(snap);
	free(after);
	json_decref(rels);
	return rc;
}
