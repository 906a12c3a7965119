/*
 * sql_sqlite.h - the SQLite backend's internals shared by its two files:
 * sql_sqlite.c (the connection, running a statement, the backend ops) and
 * sql_sqlite_auth.c (the authorizer that decides what a statement may
 * touch and records the tables it does, for the audit trail).
 *
 * Thread-safety: a struct sqls_conn is used under its lock, by one call at
 * a time.
 */
#ifndef MOAT_PROVIDERS_SQL_SQL_SQLITE_H
#define MOAT_PROVIDERS_SQL_SQL_SQLITE_H

#include <pthread.h>
#include <sqlite3.h>

#include "sql.h"

#define SQLS_SEEN_MAX 32 /* tables recorded for the audit per call */

/* One database's connection. */
struct sqls_conn {
	sqlite3 *h;
	pthread_mutex_t lock;
	const struct sql_db *db;
	/* Per call, under lock: */
	bool internal;          /* moat's own catalog queries */
	enum sql_mode mode;
	struct call_ctx *ctx;
	uint64_t deadline_ns;   /* min(call deadline, timeout_ms); 0 = none */
	enum moat_rc stop;      /* why the progress handler interrupted */
	const char *denied;     /* the authorizer's reason, static */
	const char *denied_id;  /* and its rule id, static */
	json_t *seen;           /* tables the statement reads or writes, for
				 * the audit (callctx_touch_add once it runs) */
	char **modules;         /* virtual-table modules (eponymous tables) */
	size_t nmodules;
};

/*
 * sqls_authorize - SQLite's authorizer callback (u is the struct
 * sqls_conn): SQLITE_OK or SQLITE_DENY, the first refusal's reason and
 * rule id kept in denied/denied_id; every table a statement may read or
 * write is added to seen (not a CTE's name, not moat's own queries).
 */
int sqls_authorize(void *u, int op, const char *a, const char *b, const char *dbname,
		   const char *inner);

struct sql_result;

/* sqls_conn_take - take c for one call (mode, internal: moat's own catalog
 * queries): waits for the lock in 10 ms steps, giving up at the call's
 * deadline or on cancellation (ctx may be NULL). sqls_conn_give - give it
 * back. sql_sqlite.c. */
enum moat_rc sqls_conn_take(struct sqls_conn *c, struct call_ctx *ctx, enum sql_mode mode,
			    bool internal, struct moat_err *err);
void sqls_conn_give(struct sqls_conn *c);

/* sqls_exec_one - prepare, check and run sql[0..len) with params (a JSON
 * array or NULL, borrowed) on c (taken), rows into res (initialised by the
 * caller); what names the tool in errors. sql_sqlite.c. */
enum moat_rc sqls_exec_one(struct sqls_conn *c, const char *sql, size_t len,
			   const json_t *params, struct sql_result *res, const char *what,
			   struct moat_err *err);

/* The backend's list_tables and describe_table ops (struct sql_backend);
 * sql_sqlite_catalog.c. */
enum moat_rc sqls_list_tables(struct sql_db *db, struct call_ctx *ctx, json_t *tables,
			      struct moat_err *err);
enum moat_rc sqls_describe_table(struct sql_db *db, struct call_ctx *ctx, const char *table,
				 json_t *out, struct moat_err *err);

#endif
