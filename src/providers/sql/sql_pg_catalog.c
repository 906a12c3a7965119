/*
 * sql_pg_catalog.c - list_tables and describe_table on PostgreSQL: moat's
 * own catalog queries (pg_class, pg_attribute, pg_constraint, pg_index),
 * each in a READ ONLY transaction of its own with the call's deadline as
 * statement_timeout and the schema allowlist as search_path, on a pooled
 * connection. No user text reaches the server here, so the connection
 * needs no reset after; every query is bounded (SQL_CATALOG_MAX_ROWS, more
 * is limits.rows).
 *
 * Thread-safe: the pool guards the connections.
 */
#include "sql_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SQLPG_CATALOG_LIMIT "10001" /* SQL_CATALOG_MAX_ROWS + 1 */

/* Open a READ ONLY transaction for moat's own catalog queries (one
 * round trip of moat's own text through the simple protocol). */
static enum moat_rc begin_catalog(struct sqlpg_pool *p, struct sqlpg_lease *l,
				  struct sqlpg_call *call, struct moat_err *err)
{
	uint64_t now = sqlpg_now_ns();
	unsigned long long ms = call->deadline_ns > now ? (call->deadline_ns - now) / 1000000u : 1;
	char *sql = NULL;
	enum moat_rc rc;

	if (asprintf(&sql, "BEGIN READ ONLY; SET LOCAL statement_timeout = %llu; "
			   "SET LOCAL search_path = %s", ms ? ms : 1, p->search_path) < 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	rc = sqlpg_simple(l, call, sql, err);
	free(sql);
	return rc;
}

/* One of moat's own catalog queries in a READ ONLY transaction. */
static PGresult *catalog(struct sql_db *db, struct call_ctx *ctx, const char *sql, int n,
			 const char *const *params, struct moat_err *err)
{
	struct sqlpg_pool *p = db->conn;
	struct sqlpg_lease l = {0};
	struct sqlpg_call call;
	PGresult *r = NULL;

	sqlpg_call_start(&call, db, ctx, "catalog");
	if (sqlpg_take(p, &call, &l, err))
		return NULL;
	if (begin_catalog(p, &l, &call, err) == MOAT_OK &&
	    (r = sqlpg_exec(&l, &call, sql, n, params, err)) &&
	    sqlpg_simple(&l, &call, "ROLLBACK", err) != MOAT_OK) {
		PQclear(r);
		r = NULL;
	}
	if (!r)
		sqlpg_abandon(db, &l);
	sqlpg_give(p, &l);
	if (r && PQntuples(r) > SQL_CATALOG_MAX_ROWS) {
		/* the query asked for one more than the bound: a catalog
		 * larger than moat describes */
		PQclear(r);
		moat_err_rule(err, MOAT_ELIMIT, "limits.rows",
			      "database '%s': more than %d tables, columns, keys or indexes to "
			      "list; moat lists at most %d", db->name, SQL_CATALOG_MAX_ROWS,
			      SQL_CATALOG_MAX_ROWS);
		return NULL;
	}
	return r;
}

/* The rows of r as objects keyed by column name, values by type. */
static json_t *rows_objects(const PGresult *r)
{
	json_t *out = json_array();

	for (int i = 0; out && i < PQntuples(r); i++) {
		json_t *o = json_object();
		for (int k = 0; o && k < PQnfields(r); k++)
			json_object_set_new(o, PQfname(r, k),
					    PQgetisnull(r, i, k)
						    ? json_null()
						    : sqlpg_value_json(PQftype(r, k),
								       PQgetvalue(r, i, k),
								       (size_t)PQgetlength(r, i, k)));
		json_array_append_new(out, o);
	}
	return out;
}

enum moat_rc sqlpg_list_tables(struct sql_db *db, struct call_ctx *ctx, json_t *tables,
				      struct moat_err *err)
{
	struct sqlpg_pool *p = db->conn;
	const char *params[] = {p->schema_array};
	PGresult *r = catalog(
		db, ctx,
		"SELECT n.nspname::text, c.relname::text, CASE WHEN c.relkind IN ('v','m') THEN "
		"'view' ELSE 'table' END FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
		"ON n.oid = c.relnamespace WHERE c.relkind IN " SQLPG_RELKINDS " AND n.nspname = "
		"ANY($1::text[]) ORDER BY array_position($1::text[], n.nspname::text), c.relname"
		" LIMIT " SQLPG_CATALOG_LIMIT,
		1, params, err);

	if (!r)
		return err->rc;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *schema = PQgetvalue(r, i, 0), *rel = PQgetvalue(r, i, 1);
		char *name = NULL;
		json_t *t;
		if (strcmp(schema, db->schemas[0]) == 0)
			name = strdup(rel);
		else if (asprintf(&name, "%s.%s", schema, rel) < 0)
			name = NULL;
		t = name ? json_pack("{s:s, s:s, s:s}", "name", name, "type", PQgetvalue(r, i, 2),
				     "schema", schema)
			 : NULL;
		free(name);
		if (!t || json_array_append_new(tables, t) != 0) {
			PQclear(r);
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		}
	}
	PQclear(r);
	return MOAT_OK;
}

enum moat_rc sqlpg_describe_table(struct sql_db *db, struct call_ctx *ctx,
					 const char *table, json_t *out, struct moat_err *err)
{
	struct sqlpg_pool *p = db->conn;
	const char *dot = table ? strchr(table, '.') : NULL;
	char *schema = NULL, oid[32];
	const char *rel = table;
	const char *params[3];
	PGresult *r = NULL;
	enum moat_rc rc = MOAT_OK;

	if (!table)
		return moat_err_set(err, MOAT_EINVAL, "table_name: required");
	if (dot && (schema = strndup(table, (size_t)(dot - table))) &&
	    sql_schema_allowed(db, schema)) {
		rel = dot + 1;
	} else {
		free(schema);
		schema = NULL;
	}
	params[0] = p->schema_array;
	params[1] = rel;
	params[2] = schema;
	r = catalog(db, ctx,
		    "SELECT c.oid::int8, c.relname::text, CASE WHEN c.relkind IN ('v','m') THEN "
		    "'view' ELSE 'table' END, n.nspname::text FROM pg_catalog.pg_class c JOIN "
		    "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN "
		    SQLPG_RELKINDS " AND n.nspname = ANY($1::text[]) AND c.relname = $2 AND "
		    "($3::text IS NULL OR n.nspname = $3) ORDER BY "
		    "array_position($1::text[], n.nspname::text) LIMIT 1",
		    3, params, err);
	free(schema);
	if (!r)
		return err->rc;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return moat_err_set(err, MOAT_ENOTFOUND,
				    "table_name: no such table or view in database '%s': '%.128s' (or "
				    "not in an allowed schema)", db->name, table);
	}
	snprintf(oid, sizeof(oid), "%s", PQgetvalue(r, 0, 0));
	json_object_set_new(out, "table", json_string(table));
	json_object_set_new(out, "type", json_string(PQgetvalue(r, 0, 2)));
	json_object_set_new(out, "schema", json_string(PQgetvalue(r, 0, 3)));
	PQclear(r);
	params[0] = oid;
	r = catalog(db, ctx,
		    "SELECT a.attname::text AS name, pg_catalog.format_type(a.atttypid, "
		    "a.atttypmod) AS type, a.attnotnull AS not_null, pg_catalog.pg_get_expr("
		    "d.adbin, d.adrelid) AS \"default\", COALESCE((SELECT k.ord::int4 FROM "
		    "unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) WHERE k.attnum = "
		    "a.attnum), 0) AS primary_key FROM pg_catalog.pg_attribute a LEFT JOIN "
		    "pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum LEFT "
		    "JOIN pg_catalog.pg_index i ON i.indrelid = a.attrelid AND i.indisprimary WHERE "
		    "a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
		    " LIMIT " SQLPG_CATALOG_LIMIT,
		    1, params, err);
	if (!r)
		return err->rc;
	json_object_set_new(out, "columns", rows_objects(r));
	PQclear(r);
	r = catalog(db, ctx,
		    "SELECT con.conname::text AS name, (k.ord - 1)::int4 AS seq, a.attname::text AS "
		    "\"from\", CASE WHEN fn.nspname = ANY(pg_catalog.current_schemas(false)) THEN "
		    "f.relname::text ELSE fn.nspname || '.' || f.relname END AS \"table\", "
		    "fa.attname::text AS \"to\", con.confupdtype::text AS on_update, "
		    "con.confdeltype::text AS on_delete FROM pg_catalog.pg_constraint con CROSS "
		    "JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY AS k(src, dst, "
		    "ord) JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum "
		    "= k.src JOIN pg_catalog.pg_class f ON f.oid = con.confrelid JOIN "
		    "pg_catalog.pg_namespace fn ON fn.oid = f.relnamespace JOIN "
		    "pg_catalog.pg_attribute fa ON fa.attrelid = con.confrelid AND fa.attnum = "
		    "k.dst WHERE con.conrelid = $1::oid AND con.contype = 'f' ORDER BY con.conname, "
		    "k.ord LIMIT " SQLPG_CATALOG_LIMIT,
		    1, params, err);
	if (!r)
		return err->rc;
	json_object_set_new(out, "foreign_keys", rows_objects(r));
	PQclear(r);
	r = catalog(db, ctx,
		    "SELECT ic.relname::text AS name, i.indisunique AS \"unique\", CASE WHEN "
		    "i.indisprimary THEN 'pk' WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_constraint "
		    "WHERE conindid = i.indexrelid) THEN 'u' ELSE 'c' END AS origin, i.indpred IS "
		    "NOT NULL AS partial, pg_catalog.to_json(ARRAY(SELECT a.attname::text FROM "
		    "unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) LEFT JOIN "
		    "pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
		    "ORDER BY k.ord)) AS columns FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class "
		    "ic ON ic.oid = i.indexrelid WHERE i.indrelid = $1::oid ORDER BY ic.relname LIMIT "
		    SQLPG_CATALOG_LIMIT,
		    1, params, err);
	if (!r)
		return err->rc;
	json_object_set_new(out, "indexes", rows_objects(r));
	PQclear(r);
	return rc;
}
