/*
 * sql_sqlite_catalog.c - list_tables and describe_table on SQLite: moat's
 * own catalog queries (sqlite_schema and the table_info, foreign_key_list,
 * index_list and index_info pragma functions), run on the database's
 * connection with the authorizer in its internal mode, and filtered by
 * the "tables" allowlist before anything is shown. Split from
 * sql_sqlite.c, which runs the user's statements.
 *
 * Thread-safe: each op takes the connection's lock (sqls_conn_take).
 */
#include <stdlib.h>
#include <string.h>

#include "sql_sqlite.h"

/* One of moat's own catalog queries, with arg bound as ?1 when not NULL:
 * its rows as a jansson array in *rows (new reference, NULL on error; the
 * column names stay in res). */
static enum moat_rc run_internal(struct sqls_conn *c, const char *sql, const char *arg,
				 struct sql_result *res, json_t **rows, struct moat_err *err)
{
	json_t *params = arg ? json_pack("[s]", arg) : NULL;
	enum moat_rc rc;

	*rows = NULL;
	if (arg && !params)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if ((rc = sql_result_init(res, SQL_CATALOG_MAX_ROWS, 0, 0, err)) == MOAT_OK)
		rc = sqls_exec_one(c, sql, strlen(sql), params, res, "catalog", err);
	json_decref(params);
	if (rc == MOAT_OK && res->truncated)
		rc = moat_err_rule(err, MOAT_ELIMIT, "limits.rows",
				   "database '%s': more than %d tables, columns, keys or indexes to "
				   "list; moat lists at most %d", c->db->name, SQL_CATALOG_MAX_ROWS,
				   SQL_CATALOG_MAX_ROWS);
	if (rc == MOAT_OK && !(*rows = sql_result_rows(res)))
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return rc;
}

/* A catalog query's result and rows released, ready for the next. */
static void done(struct sql_result *res, json_t **rows)
{
	sql_result_free(res);
	json_decref(*rows);
	*rows = NULL;
}

enum moat_rc sqls_list_tables(struct sql_db *db, struct call_ctx *ctx, json_t *tables,
				     struct moat_err *err)
{
	struct sqls_conn *c = db->conn;
	struct sql_result res = {0};
	enum moat_rc rc;
	size_t i;
	json_t *row, *rows = NULL;

	if ((rc = sqls_conn_take(c, ctx, SQL_READ, true, err)))
		return rc;
	rc = run_internal(c,
			  "SELECT name, type FROM main.sqlite_schema WHERE type IN ('table','view') "
			  "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
			  NULL, &res, &rows, err);
	sqls_conn_give(c);
	json_array_foreach(rc ? NULL : rows, i, row) {
		const char *name = json_string_value(json_array_get(row, 0));
		if (name && sql_table_allowed(db, name) &&
		    json_array_append_new(tables, json_pack("{s:O, s:O}", "name",
							     json_array_get(row, 0), "type",
							     json_array_get(row, 1))) != 0) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			break;
		}
	}
	done(&res, &rows);
	return rc;
}

/* The rows of a catalog query as objects keyed by its column names. */
static json_t *rows_as_objects(const struct sql_result *res, const json_t *rows)
{
	json_t *out = json_array(), *row;
	size_t i;

	json_array_foreach(rows, i, row) {
		json_t *o = json_object(), *v;
		size_t k;
		json_array_foreach(row, k, v)
			json_object_set(o, sql_result_column_name(res, k), v);
		json_array_append_new(out, o);
	}
	return out;
}

/* Make key of every object in arr a JSON boolean (SQLite says 0/1). */
static void to_bool(json_t *arr, const char *key)
{
	size_t i;
	json_t *o;

	json_array_foreach(arr, i, o)
		json_object_set_new(o, key, json_boolean(json_integer_value(json_object_get(o, key))));
}

enum moat_rc sqls_describe_table(struct sql_db *db, struct call_ctx *ctx,
					const char *table, json_t *out, struct moat_err *err)
{
	struct sqls_conn *c = db->conn;
	struct sql_result res = {0};
	json_t *indexes = NULL, *rows = NULL;
	const char *name;
	enum moat_rc rc;
	size_t i;
	json_t *ix;

	if ((rc = sqls_conn_take(c, ctx, SQL_READ, true, err)))
		return rc;
	rc = run_internal(c,
			  "SELECT name, type FROM main.sqlite_schema WHERE type IN ('table','view') "
			  "AND name = ?1 COLLATE NOCASE AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
			  table, &res, &rows, err);
	if (rc)
		goto out;
	name = json_string_value(json_array_get(json_array_get(rows, 0), 0));
	if (!name || !sql_table_allowed(db, name)) {
		rc = moat_err_set(err, MOAT_ENOTFOUND,
				  "table_name: no such table or view in database '%s': '%.128s' (or "
				  "not in the allowlist)", db->name, table ? table : "");
		goto out;
	}
	json_object_set(out, "table", json_array_get(json_array_get(rows, 0), 0));
	json_object_set(out, "type", json_array_get(json_array_get(rows, 0), 1));
	name = json_string_value(json_object_get(out, "table"));
	done(&res, &rows);
	if ((rc = run_internal(c,
			       "SELECT name, type, \"notnull\" != 0 AS not_null, dflt_value AS "
			       "\"default\", pk AS primary_key FROM pragma_table_info(?1) ORDER BY cid",
			       name, &res, &rows, err)))
		goto out;
	json_object_set_new(out, "columns", rows_as_objects(&res, rows));
	to_bool(json_object_get(out, "columns"), "not_null");
	done(&res, &rows);
	if ((rc = run_internal(c,
			       "SELECT id, seq, \"table\", \"from\", \"to\", on_update, on_delete "
			       "FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
			       name, &res, &rows, err)))
		goto out;
	json_object_set_new(out, "foreign_keys", rows_as_objects(&res, rows));
	done(&res, &rows);
	if ((rc = run_internal(c,
			       "SELECT name, \"unique\" != 0 AS \"unique\", origin, partial != 0 AS "
			       "partial FROM pragma_index_list(?1) ORDER BY name",
			       name, &res, &rows, err)))
		goto out;
	indexes = rows_as_objects(&res, rows);
	to_bool(indexes, "unique");
	to_bool(indexes, "partial");
	done(&res, &rows);
	json_array_foreach(indexes, i, ix) {
		json_t *cols, *r;
		size_t k;
		/* one query per index: small ones may never reach the progress
		 * handler, so the loop checks the call itself */
		if (ctx && (rc = callctx_check(ctx, err)) != MOAT_OK)
			goto out;
		cols = json_array();
		if ((rc = run_internal(c,
				       "SELECT name FROM pragma_index_info(?1) ORDER BY seqno",
				       json_string_value(json_object_get(ix, "name")), &res, &rows, err)))
			goto out;
		json_array_foreach(rows, k, r)
			json_array_append(cols, json_array_get(r, 0));
		json_object_set_new(ix, "columns", cols);
		done(&res, &rows);
	}
	json_object_set(out, "indexes", indexes);
out:
	sqls_conn_give(c);
	json_decref(indexes);
	done(&res, &rows);
	return rc;
}

