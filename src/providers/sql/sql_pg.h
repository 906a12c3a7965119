/*
 * sql_pg.h - the PostgreSQL backend's internals, shared by its files (all
 * built into the module moat_sql_pg.so):
 *
 *   sql_pg.c        the user's statement (the backend's query op) and the
 *                   plan-check cache's use;
 *   sql_pg_open.c   the backend ops open (role checks, sandbox grants),
 *                   close and describe, and the ops table;
 *   sql_pg_catalog.c  list_tables and describe_table (moat's own queries);
 *   sql_pg_conn.c   the connection pool and running one command without
 *                   blocking: deadline, cancellation (a cancel request to
 *                   the server), a dead connection noticed and replaced;
 *                   ending a failed call and resetting its session;
 *   sql_pg_route.c  where connections go: host names resolved once and
 *                   pinned, TCP ports granted in the sandbox;
 *   sql_pg_value.c  values by type OID to JSON, JSON params to text;
 *   sql_pg_plan.c   the schema allowlist checked on an EXPLAIN plan;
 *   sql_pg_cache.c  the plan-check cache of read_query (sql_pg.c says
 *                   when an entry may stand in for EXPLAIN).
 *
 * Nothing here ever sends user text through the simple protocol: the
 * user's statement is only ever prepared (Parse, one statement) and
 * executed by name.
 */
#ifndef MOAT_PROVIDERS_SQL_SQL_PG_H
#define MOAT_PROVIDERS_SQL_SQL_PG_H

#include <libpq-fe.h>
#include <pthread.h>

#include "sql.h"
#include "sql_pg_cache.h"

/* The pool of one database. Guarded by lock. */
struct sqlpg_pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	PGconn **idle;     /* connections not in use; owned */
	size_t nidle;
	size_t nopen;      /* idle + in use */
	size_t max;        /* pool_size */
	unsigned gen;      /* bumped when a dead connection is seen */
	const struct sql_db *db;
	/* Found at open, for moat check: */
	bool superuser;
	bool can_write;
	char *role;        /* the role name; owned */
	char *where;       /* "host:port/dbname" for moat check, no secrets; owned */
	/* Host names resolved at start-up (sql_pg_route.c): the host, hostaddr
	 * and port lists every connect uses, or NULL to use the string as it
	 * is (no host name in it). Owned. */
	char *pin_host, *pin_hostaddr, *pin_port;
	char *search_path; /* the allowlist as quoted identifiers; owned */
	char *schema_array;/* the allowlist as a text[] literal; owned */
	struct sqlpg_cache *cache; /* the plan-check cache of reads (sql_pg_cache.c),
				    * NULL when off; owned, guarded by its own lock */
};

/* One connection taken for a call. */
struct sqlpg_lease {
	PGconn *conn;
	unsigned gen;
	bool broken;       /* the connection died: drop it and the idle ones */
	bool discard;      /* a cancel request may still be in flight: drop it */
	bool dirty;        /* the user's text reached the server and no DISCARD ALL
			    * has run since: whatever it left in the session
			    * (advisory locks, settings, temp tables, cursors ...)
			    * may still be there, so the pool must not keep it */
};

/* The limits of one call. */
struct sqlpg_call {
	struct call_ctx *ctx; /* may be NULL (start-up) */
	uint64_t deadline_ns; /* min(call deadline, timeout_ms); CLOCK_MONOTONIC */
	const char *what;     /* "read_query", "catalog" ...: names the rule */
	enum moat_rc stop;    /* why a cancel request was sent, or MOAT_OK */
};

/* ---- sql_pg_conn.c ---- */

/* sqlpg_pool_init / sqlpg_pool_fini - set up and tear down (closes every
 * idle connection). fini accepts a pool never initialised (zeroed). */
enum moat_rc sqlpg_pool_init(struct sqlpg_pool *p, const struct sql_db *db, struct moat_err *err);
void sqlpg_pool_fini(struct sqlpg_pool *p);

/* sqlpg_now_ns - CLOCK_MONOTONIC in ns. */
uint64_t sqlpg_now_ns(void);

/* sqlpg_call_start - the limits of a call: deadline = min(ctx's, now +
 * timeout_ms). */
void sqlpg_call_start(struct sqlpg_call *call, const struct sql_db *db, struct call_ctx *ctx,
		      const char *what);

/*
 * sqlpg_take - a connection for the call: an idle one, else a new one
 * while fewer than pool_size are open, else wait for one to be given back
 * (until the call's deadline or cancellation). A new connection is made
 * with a connect timeout inside the deadline. Thread-safe.
 */
enum moat_rc sqlpg_take(struct sqlpg_pool *p, struct sqlpg_call *call, struct sqlpg_lease *l,
			struct moat_err *err);

/* sqlpg_give - return a connection: closed when broken, dirty or not
 * idle (a transaction left open), else back to the pool. Thread-safe. */
void sqlpg_give(struct sqlpg_pool *p, struct sqlpg_lease *l);

/*
 * sqlpg_wait - after a PQsend*, collect every result of the command. The
 * last non-NULL result is returned (owned by the caller; NULL on failure
 * with err set). rows (may be NULL) is called for each single-row result;
 * when it returns false the rest is cancelled and ignored. While waiting,
 * the call's deadline and cancellation are polled every 50 ms; either
 * sends a cancel request to the server and the call fails with
 * MOAT_ETIMEOUT/MOAT_ECANCELLED. A lost connection marks the lease broken
 * and fails with MOAT_EUPSTREAM naming the rule.
 */
typedef bool (*sqlpg_row_fn)(void *u, PGresult *r, struct moat_err *err);
PGresult *sqlpg_wait(struct sqlpg_lease *l, struct sqlpg_call *call, sqlpg_row_fn rows, void *u,
		     struct moat_err *err);

/*
 * sqlpg_pipeline_collect - after PQenterPipelineMode and n PQsend* calls,
 * send the Sync and collect the results: out[i] is command i's last result
 * (owned by the caller, PQclear each), PGRES_PIPELINE_ABORTED for those the
 * server skipped after an error. rows (may be NULL) gets command 0's
 * single-row results, as in sqlpg_wait. Leaves pipeline mode. On failure
 * (lost connection, deadline, cancellation, a row that failed) every
 * out[i] is NULL, the lease is marked broken (where the server stands is
 * unknown) and err says why. One round trip for n commands.
 */
enum moat_rc sqlpg_pipeline_collect(struct sqlpg_lease *l, struct sqlpg_call *call, PGresult **out,
				    int n, sqlpg_row_fn rows, void *u, struct moat_err *err);

/*
 * sqlpg_exec - run one of moat's own commands (text with $n params, all
 * text; nparams may be 0) through the extended protocol and return its
 * result when it succeeded (PGRES_COMMAND_OK or TUPLES_OK; caller
 * PQclear()s), NULL with err set otherwise.
 */
PGresult *sqlpg_exec(struct sqlpg_lease *l, struct sqlpg_call *call, const char *sql,
		     int nparams, const char *const *params, struct moat_err *err);

/* sqlpg_fail - err from a failed result r (may be NULL): the SQLSTATE class
 * picks the code; the server's primary message (names objects, never row
 * values... except in some constraint details, which are left out) is
 * kept, cut to a bound. */
enum moat_rc sqlpg_fail(const struct sqlpg_call *call, const PGresult *r, PGconn *conn,
			struct moat_err *err);

/* sqlpg_simple - run moat's own text (the simple protocol; several
 * statements allowed, they form one implicit transaction) and wait. */
enum moat_rc sqlpg_simple(struct sqlpg_lease *l, struct sqlpg_call *call, const char *sql,
			  struct moat_err *err);

/*
 * sqlpg_abandon - end the transaction of a call that failed, whatever its
 * state, and reset a dirty session (DISCARD ALL), in one round trip with a
 * short deadline of its own; a connection that cannot is marked broken
 * (sqlpg_give then closes it, as it closes any dirty one).
 */
void sqlpg_abandon(const struct sql_db *db, struct sqlpg_lease *l);

/* ---- sql_pg.c ---- */

/* sqlpg_query - the backend's query op (struct sql_backend): one
 * statement in a transaction of its own; sql_pg.c says how. */
enum moat_rc sqlpg_query(struct sql_db *db, struct call_ctx *ctx, const char *sql, size_t len,
			 const json_t *params, enum sql_mode mode, struct sql_result *res,
			 struct moat_err *err);

/* ---- sql_pg_catalog.c ---- */

#define SQLPG_RELKINDS "('r','p','v','m','f')" /* tables, views, foreign tables */

/* The backend's list_tables and describe_table (struct sql_backend). */
enum moat_rc sqlpg_list_tables(struct sql_db *db, struct call_ctx *ctx, json_t *tables,
			       struct moat_err *err);
enum moat_rc sqlpg_describe_table(struct sql_db *db, struct call_ctx *ctx, const char *table,
				  json_t *out, struct moat_err *err);

/* ---- sql_pg_route.c ---- */

/*
 * sqlpg_route - read the hosts and ports of db's connection string (and
 * PGHOST/PGHOSTADDR/PGPORT): set the pool's "where" for moat check;
 * resolve every host name now, before the sandbox, into pinned addresses
 * (pin_host/pin_hostaddr/pin_port) so no connect ever needs the resolver
 * and a later DNS change cannot move the connection; grant TCP connect to
 * the port of every host reached over TCP. A Unix socket (a host that is
 * a directory, or no host) needs no grant. err names the rule, never the
 * string. Start-up only.
 */
enum moat_rc sqlpg_route(struct sql_db *db, struct registry *reg, struct moat_err *err);

/* ---- sql_pg_value.c ---- */

/* sqlpg_type_name - a readable name for a type OID, or NULL. Static. */
const char *sqlpg_type_name(Oid oid);

/* sqlpg_value_json - the JSON of a text-format value of type oid (new
 * reference; NULL on ENOMEM). */
json_t *sqlpg_value_json(Oid oid, const char *s, size_t n);

/* sqlpg_value_cell - the same value, by the same rules, offered as the
 * next cell of res (a row of read_query/write_query). False on ENOMEM. */
bool sqlpg_value_cell(struct sql_result *res, Oid oid, const char *s, size_t n);

/*
 * sqlpg_params - JSON params as libpq arrays: values (text, or binary
 * bytea for {"base64": ...}), lengths, formats, types (0 = let the server
 * infer; 17 for bytea). All arrays and strings are owned by the struct.
 */
struct sqlpg_params {
	int n;
	char **values;
	int *lengths;
	int *formats;
	Oid *types;
};
enum moat_rc sqlpg_params_make(const json_t *params, struct sqlpg_params *out, struct moat_err *err);
void sqlpg_params_free(struct sqlpg_params *p);

/* ---- sql_pg_plan.c ---- */

#define SQLPG_PLAN_RELS_MAX 32

#define SQLPG_PLAN_ONLY                                                                        \
	"only statements with a plan (SELECT, VALUES, INSERT, UPDATE, DELETE, MERGE) are "     \
	"accepted; SET, SHOW, COPY, DO, CALL, transaction control and other utility "         \
	"statements are not"

/*
 * sqlpg_plan_check - walk an EXPLAIN (VERBOSE, FORMAT JSON) document:
 * every node's "Relation Name" must come with a "Schema" in db's schema
 * allowlist; a statement without a plan (a utility statement: SET, COPY,
 * DO, CALL ...) is refused. MOAT_OK or MOAT_EDENIED naming the rule
 * (never the relation). On MOAT_OK, rels (an array, may be NULL) gets the
 * name of every relation of the plan, once each (at most
 * SQLPG_PLAN_RELS_MAX), as list_tables names it: bare in the allowlist's
 * first schema, "schema.name" in the others. Pure; thread-safe.
 */
enum moat_rc sqlpg_plan_check(const struct sql_db *db, const char *explain_json, const char *what,
			      json_t *rels, struct moat_err *err);

#endif
