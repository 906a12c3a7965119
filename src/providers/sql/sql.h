/*
 * sql.h - the sql family: named databases from the config's "databases"
 * section served by one set of tools (list_databases, list_tables,
 * describe_table, read_query, write_query) whatever engine is behind them.
 *
 * The tool layer (sql.c) parses the config, picks the database a call
 * names, checks the mode and turns a struct sql_result into the tool
 * result. Each engine is a struct sql_backend: sql_sqlite.c for SQLite,
 * linked in; sql_pg*.c for PostgreSQL, built as the module moat_sql_pg.so
 * (libpq brings openssl, GSSAPI and LDAP) and loaded by sql.c through
 * modules_symbol() only when a "postgres" database is configured. Read-only is enforced by the engine (a read-only
 * connection, statements the engine itself reports as read-only), never
 * by looking at the SQL text.
 *
 * Thread-safety: the database list is read-only after start-up; each
 * backend serialises or pools its own connections.
 */
#ifndef MOAT_PROVIDERS_SQL_SQL_H
#define MOAT_PROVIDERS_SQL_SQL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "callctx.h"
#include "registry.h"
#include "result.h"
#include "sql_result.h"

#define SQL_DEFAULT_MAX_ROWS 1000
#define SQL_DEFAULT_MAX_BYTES ((size_t)1 << 20)
#define SQL_DEFAULT_TIMEOUT_MS 5000
#define SQL_DEFAULT_POOL_SIZE 4
#define SQL_DEFAULT_PLAN_CACHE 256 /* postgres: plan-check cache entries */
/* The most rows a catalog query (list_tables, describe_table) returns;
 * more is an error (limits.rows), never a silently short list. */
#define SQL_CATALOG_MAX_ROWS 10000

enum sql_mode { SQL_READ, SQL_WRITE };

struct sql_db;

/* One database engine. Every function gets the database it serves. */
struct sql_backend {
	const char *type; /* the config's "type", e.g. "sqlite" */
	/* Start-up, before the sandbox: open the database (db->conn), check
	 * it, record the sandbox grants it needs. err names the rule. */
	enum moat_rc (*open)(struct sql_db *db, struct registry *reg, struct moat_err *err);
	/* Release db->conn. Accepts a database whose open failed. */
	void (*close)(struct sql_db *db);
	/* Append {"name","type"} for every table and view the allowlist
	 * allows to tables (an array, borrowed). */
	enum moat_rc (*list_tables)(struct sql_db *db, struct call_ctx *ctx, json_t *tables,
				    struct moat_err *err);
	/* Fill out (an object, borrowed) with the table's columns,
	 * foreign_keys and indexes. MOAT_ENOTFOUND alike for a table that
	 * does not exist and one the allowlist hides. */
	enum moat_rc (*describe_table)(struct sql_db *db, struct call_ctx *ctx, const char *table,
				       json_t *out, struct moat_err *err);
	/* Run exactly one statement (sql[0..len)) with params (a JSON array
	 * or NULL) bound, never spliced. SQL_READ refuses any statement the
	 * engine does not report read-only; SQL_WRITE fills res->affected.
	 * Rows go to res, which applies the caps. */
	enum moat_rc (*query)(struct sql_db *db, struct call_ctx *ctx, const char *sql, size_t len,
			      const json_t *params, enum sql_mode mode, struct sql_result *res,
			      struct moat_err *err);
	/* moat check: one line per grant or connection detail. May be NULL. */
	void (*describe)(const struct sql_db *db, FILE *f);
};

/* One configured database. Immutable after start-up except conn's
 * contents, which the backend guards. */
struct sql_db {
	char *name;                    /* the config key; owned */
	const struct sql_backend *be;  /* static */
	bool write;                    /* "write": true */
	char **tables;                 /* allowlist, NULL = every table; owned */
	size_t ntables;
	size_t max_rows;
	size_t max_bytes;
	uint32_t timeout_ms;
	char *path;                    /* sqlite: canonical absolute file path; owned */
	char *given;                   /* sqlite: the path as the config wrote it (for
					* messages); owned */
	char *url;                     /* postgres: the connection string, a secret;
					* owned, wiped before free */
	char **schemas;                /* postgres: schema allowlist (never NULL); owned */
	size_t nschemas;
	size_t pool_size;              /* postgres: most open connections */
	bool allow_superuser;          /* postgres: accept a superuser role */
	size_t plan_cache;             /* postgres: plan-check cache entries, 0 = off */
	void *conn;                    /* backend state; owned by the backend */
};

/* Every configured database; read-only after start-up. */
struct sql_family {
	struct sql_db *dbs; /* owned by sql.c */
	size_t ndbs;
};

/* sql_tables_doc - *out = {"database", "tables":[{name, type}]}: what
 * list_tables returns for db. Caller owns *out; NULL on error. */
enum moat_rc sql_tables_doc(struct sql_db *db, struct call_ctx *ctx, json_t **out,
			    struct moat_err *err);

/* sql_table_doc - *out = {"database", "table", "type", "columns",
 * "foreign_keys", "indexes"}: what describe_table returns. MOAT_ENOTFOUND
 * for a table that does not exist or that the allowlist hides. Caller
 * owns *out; NULL on error. */
enum moat_rc sql_table_doc(struct sql_db *db, struct call_ctx *ctx, const char *table,
			   json_t **out, struct moat_err *err);

/* sql_register_resources - serve list_tables and describe_table for
 * every database in fam (borrowed; outlives the registry's use) as the
 * resources sql://{database}/tables and sql://{database}/tables/{table}
 * (sql_resources.c). */
enum moat_rc sql_register_resources(struct registry *reg, struct sql_family *fam,
				    struct moat_err *err);

/* sql_register_completers - the "sql.databases" and "sql.tables"
 * completers over fam (borrowed; outlives the registry's use); and
 * sql_res_complete, the resource_ops.complete of the sql:// templates
 * (sql_complete.c). Thread-safe once registered. */
enum moat_rc sql_register_completers(struct registry *reg, struct sql_family *fam,
				     struct moat_err *err);
enum moat_rc sql_res_complete(void *data, const char *uri_template, const char *var,
			      const char *prefix, const json_t *context, json_t *values,
			      size_t max, struct moat_err *err);

/* sql_open_err - err = "/databases/NAME/path: cannot open database 'NAME'
 * (GIVEN): WHY" with the path as the config wrote it (relative to the
 * config when written so) and why: strerror(e) in lower case when why is
 * NULL. The rc is MOAT_EINVAL. Thread-safe. */
enum moat_rc sql_open_err(const struct sql_db *db, int e, const char *why, struct moat_err *err);

/* sql_table_allowed - true when db's allowlist is absent or names table
 * (ASCII case-insensitive, as SQL identifiers compare). Thread-safe. */
bool sql_table_allowed(const struct sql_db *db, const char *table);

/* sql_schema_allowed - true when db's schema allowlist names schema
 * (exact, as PostgreSQL stores names). Thread-safe. */
bool sql_schema_allowed(const struct sql_db *db, const char *schema);

/* The SQLite backend (sql_sqlite.c). */
extern const struct sql_backend sqls_backend;

/* The PostgreSQL backend's symbol in moat_sql_pg.so (sql_pg.c). */
#define SQL_PG_MODULE "moat_sql_pg.so"
#define SQL_PG_SYMBOL "sqlpg_backend"

#endif
