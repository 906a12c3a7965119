/*
 * sql_sqlite_auth.c - the SQLite backend's authorizer: what a statement
 * may touch, decided by the engine as it compiles the statement, never by
 * reading the SQL text. Every table outside the "tables" allowlist is
 * denied at SQLITE_READ (so views, CTEs and subqueries cannot reach one);
 * with an allowlist the sqlite_* catalog tables and pragma functions are
 * hidden; no ATTACH/DETACH, transaction control, temp objects,
 * load_extension, nor changes()/total_changes()/last_insert_rowid() (on
 * the shared connection they tell one call about another); PRAGMA only
 * the read-only table_info/table_xinfo/index_list/foreign_key_list on
 * allowed tables; writes only for write_query, DDL only without an
 * allowlist. Each refusal keeps its reason and a stable rule id; each
 * table allowed is recorded for the audit trail.
 *
 * Thread-safety: runs on the calling thread with the connection locked.
 */
#include "sql_sqlite.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static bool is_catalog(const char *t)
{
	return t && strncasecmp(t, "sqlite_", 7) == 0;
}

/* Table-valued functions that read no table: warmed up at open. */
static bool is_harmless_vtab(const char *t)
{
	return t && (strcasecmp(t, "json_each") == 0 || strcasecmp(t, "json_tree") == 0);
}

/*
 * A read that names no schema is either a common table expression (or a
 * subquery) or a count(*) over a real table. It is a CTE when no table and
 * no virtual-table module of that name exists; the body of the CTE went
 * through the authorizer on its own.
 */
static bool is_cte(struct sqls_conn *c, const char *t)
{
	if (!t || sqlite3_table_column_metadata(c->h, "main", t, NULL, NULL, NULL, NULL, NULL,
						NULL) == SQLITE_OK)
		return false;
	for (size_t i = 0; i < c->nmodules; i++)
		if (strcasecmp(c->modules[i], t) == 0)
			return false;
	return strncasecmp(t, "pragma_", 7) != 0 && !is_catalog(t);
}

static int deny(struct sqls_conn *c, const char *id, const char *rule)
{
	if (!c->denied) {
		c->denied = rule;
		c->denied_id = id;
	}
	return SQLITE_DENY;
}

/* Remember that the statement reads or writes table t (not a CTE), once,
 * at most SQLS_SEEN_MAX names. */
static void seen(struct sqls_conn *c, const char *t, const char *dbname)
{
	size_t i;
	json_t *v;

	if (c->internal || !c->seen || !t || json_array_size(c->seen) >= SQLS_SEEN_MAX)
		return;
	json_array_foreach(c->seen, i, v)
		if (strcasecmp(json_string_value(v), t) == 0)
			return;
	if (!dbname && is_cte(c, t))
		return;
	json_array_append_new(c->seen, json_string(t));
}

static bool pragma_readonly(const char *p)
{
	static const char *const ok[] = {"table_info", "table_xinfo", "index_list",
					 "foreign_key_list"};

	for (size_t i = 0; p && i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcasecmp(p, ok[i]) == 0)
			return true;
	return false;
}

int sqls_authorize(void *u, int op, const char *a, const char *b, const char *dbname,
			  const char *inner)
{
	struct sqls_conn *c = u;
	const struct sql_db *db = c->db;
	bool allowlist = db->tables != NULL;

	(void)dbname;
	(void)inner;
	switch (op) {
	case SQLITE_SELECT:
	case SQLITE_RECURSIVE:
		return SQLITE_OK;
	case SQLITE_READ:
		if (c->internal || is_harmless_vtab(a))
			return SQLITE_OK;
		if (is_catalog(a)) {
			if (allowlist)
				return deny(c, "sql.table_not_allowed",
					    "the schema tables are hidden when the database has a "
					    "\"tables\" allowlist (use list_tables)");
			seen(c, a, dbname);
			return SQLITE_OK;
		}
		if (allowlist && strncasecmp(a, "pragma_", 7) == 0)
			return deny(c, "sql.pragma_denied",
				    "pragma functions are refused when the database has a "
				    "\"tables\" allowlist (use describe_table)");
		if (sql_table_allowed(db, a)) {
			seen(c, a, dbname);
			return SQLITE_OK;
		}
		if (!dbname && is_cte(c, a))
			return SQLITE_OK;
		return deny(c, "sql.table_not_allowed",
			    "a table outside the database's \"tables\" allowlist");
	case SQLITE_FUNCTION:
		if (b && strcasecmp(b, "load_extension") == 0)
			return deny(c, "sql.function_denied", "load_extension is refused");
		/* They describe the connection's earlier statements, which are
		 * other calls (perhaps another client's): nothing carries over. */
		if (b && !c->internal &&
		    (strcasecmp(b, "changes") == 0 || strcasecmp(b, "total_changes") == 0 ||
		     strcasecmp(b, "last_insert_rowid") == 0))
			return deny(c, "sql.function_denied",
				    "changes(), total_changes() and last_insert_rowid() are refused: "
				    "they describe other calls (use RETURNING)");
		return SQLITE_OK;
	case SQLITE_PRAGMA:
		if (pragma_readonly(a) && (c->internal || (b && sql_table_allowed(db, b))))
			return SQLITE_OK;
		if (c->internal && a && strcasecmp(a, "index_info") == 0)
			return SQLITE_OK; /* describe_table, for an index of an allowed table */
		return deny(c, "sql.pragma_denied", "only the read-only PRAGMAs table_info, table_xinfo, index_list "
			       "and foreign_key_list, on allowed tables, are accepted");
	case SQLITE_ATTACH:
	case SQLITE_DETACH:
		return deny(c, "sql.attach_denied", "ATTACH and DETACH are refused");
	case SQLITE_TRANSACTION:
	case SQLITE_SAVEPOINT:
		return deny(c, "sql.transaction_control", "transaction control is refused: each call is one statement in its "
			       "own transaction");
	case SQLITE_INSERT:
	case SQLITE_UPDATE:
	case SQLITE_DELETE:
		if (is_catalog(a))
			return SQLITE_OK; /* the engine guards its catalog (defensive mode) */
		if (c->mode != SQL_WRITE || c->internal)
			return deny(c, "sql.read_only", "read_query runs read-only statements only");
		if (!sql_table_allowed(db, a))
			return deny(c, "sql.table_not_allowed",
				    "a table outside the database's \"tables\" allowlist");
		seen(c, a, dbname);
		return SQLITE_OK;
	case SQLITE_CREATE_INDEX:
	case SQLITE_CREATE_TABLE:
	case SQLITE_CREATE_TRIGGER:
	case SQLITE_CREATE_VIEW:
	case SQLITE_DROP_INDEX:
	case SQLITE_DROP_TABLE:
	case SQLITE_DROP_TRIGGER:
	case SQLITE_DROP_VIEW:
	case SQLITE_ALTER_TABLE:
	case SQLITE_REINDEX:
	case SQLITE_ANALYZE:
		if (c->mode != SQL_WRITE || c->internal)
			return deny(c, "sql.read_only", "read_query runs read-only statements only");
		if (allowlist)
			return deny(c, "sql.schema_change_denied",
				    "schema changes are refused on a database with a \"tables\" "
				    "allowlist");
		return SQLITE_OK;
	default: /* temp objects, virtual tables, anything newer */
		return deny(c, "sql.statement_refused", "this kind of statement is refused");
	}
}
