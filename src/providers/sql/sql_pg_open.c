/*
 * sql_pg_open.c - the PostgreSQL backend's start-up and description: the
 * backend ops open, close and describe, the module's version line, and
 * the ops table sql.c loads (sqlpg_backend). The user's statements are
 * sql_pg.c's.
 *
 * At start-up (serve and moat check alike) every database is connected
 * to: a server that cannot be reached, a refused login or a missing
 * database stops start-up with the error, naming the database and
 * host:port/dbname, never the connection string. This is deliberate: a
 * security user runs moat check to learn whether serve will work, and the
 * role checks below need a connection. An allowlisted schema that does not
 * exist is a warning. The role is examined: a superuser is refused unless
 * the config says "allow_superuser": true; a superuser or a role that can
 * write gets a loud warning at start-up and in moat check. A server older
 * than PostgreSQL 13 (no pg_current_snapshot()) gets no plan-check cache.
 *
 * Sandbox: sql_pg_route.c resolves host names once at start-up, pins
 * the addresses and grants TCP connect to their ports.
 *
 * Start-up only, but for describe (read-only after open).
 */
#include "sql_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* The allowlist as search_path text and as a text[] literal. */
static enum moat_rc schema_texts(struct sql_db *db, PGconn *c, struct moat_err *err)
{
	struct sqlpg_pool *p = db->conn;
	char *sp = NULL, *arr = NULL;
	size_t splen = 0, arrlen = 0;
	FILE *fs = open_memstream(&sp, &splen), *fa = open_memstream(&arr, &arrlen);
	bool ok = fs && fa;

	if (fa)
		fputc('{', fa);
	for (size_t i = 0; ok && i < db->nschemas; i++) {
		char *q = PQescapeIdentifier(c, db->schemas[i], strlen(db->schemas[i]));
		if (!q) {
			ok = false;
			break;
		}
		fprintf(fs, "%s%s", i ? ", " : "", q);
		PQfreemem(q);
		fputs(i ? ",\"" : "\"", fa);
		for (const char *s = db->schemas[i]; *s; s++) {
			if (*s == '"' || *s == '\\')
				fputc('\\', fa);
			fputc(*s, fa);
		}
		fputc('"', fa);
	}
	if (fa)
		fputc('}', fa);
	if (fs)
		fclose(fs);
	if (fa)
		fclose(fa);
	p->search_path = sp;
	p->schema_array = arr;
	if (!ok)
		return moat_err_set(err, MOAT_EINVAL, "/databases/%s/schemas: cannot quote a name",
				    db->name);
	return MOAT_OK;
}

/* Put the database's config path before err's message. */
static enum moat_rc prefix_err(const struct sql_db *db, struct moat_err *err)
{
	char msg[sizeof(err->msg)];

	snprintf(msg, sizeof(msg), "%s", err->msg);
	return moat_err_set(err, err->rc, "/databases/%s: %s", db->name, msg);
}

/* moat check warns about an allowlisted schema that does not exist (a
 * typo, or one still to be created): not an error. */
static void warn_schemas(const struct sql_db *db, struct sqlpg_lease *l, struct sqlpg_call *call)
{
	struct sqlpg_pool *p = db->conn;
	const char *params[] = {p->schema_array};
	struct moat_err e = {0};
	PGresult *r = sqlpg_exec(l, call,
				 "SELECT s FROM unnest($1::text[]) AS s WHERE NOT EXISTS (SELECT 1 "
				 "FROM pg_catalog.pg_namespace WHERE nspname = s)",
				 1, params, &e);

	for (int i = 0; r && i < PQntuples(r) && i < 64; i++)
		log_warn("sql: database '%s' (%s): the \"schemas\" allowlist names '%s', which "
			 "does not exist", db->name, p->where ? p->where : "postgres",
			 PQgetvalue(r, i, 0));
	PQclear(r);
}

/* Who the role is and what it may do. */
static enum moat_rc check_role(struct sql_db *db, struct moat_err *err)
{
	struct sqlpg_pool *p = db->conn;
	struct sqlpg_lease l = {0};
	struct sqlpg_call call;
	PGresult *r = NULL;
	enum moat_rc rc;

	sqlpg_call_start(&call, db, NULL, "start-up");
	call.deadline_ns = sqlpg_now_ns() + 15000ull * 1000000ull;
	if ((rc = sqlpg_take(p, &call, &l, err)))
		return prefix_err(db, err);
	if ((rc = schema_texts(db, l.conn, err)))
		goto out;
	if (PQserverVersion(l.conn) < 130000) {
		/* no pg_current_snapshot() before PostgreSQL 13: no plan-check
		 * cache, every read is explained */
		sqlpg_cache_free(p->cache);
		p->cache = NULL;
	}
	r = sqlpg_exec(&l, &call,
		       "SELECT current_user::text, r.rolsuper, r.rolbypassrls OR r.rolcreaterole OR "
		       "r.rolcreatedb OR EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN "
		       "pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN "
		       SQLPG_RELKINDS " AND n.nspname <> 'information_schema' AND n.nspname NOT "
		       "LIKE 'pg\\_%' AND pg_catalog.has_table_privilege(c.oid, "
		       "'INSERT,UPDATE,DELETE,TRUNCATE')) OR EXISTS (SELECT 1 FROM "
		       "pg_catalog.pg_namespace n WHERE n.nspname <> 'information_schema' AND "
		       "n.nspname NOT LIKE 'pg\\_%' AND pg_catalog.has_schema_privilege(n.oid, "
		       "'CREATE')) FROM pg_catalog.pg_roles r WHERE r.rolname = current_user",
		       0, NULL, err);
	if (!r) {
		rc = prefix_err(db, err);
		goto out;
	}
	if (PQntuples(r) != 1) {
		rc = moat_err_set(err, MOAT_EUPSTREAM, "/databases/%s: cannot read the role",
				  db->name);
		goto out;
	}
	p->role = strdup(PQgetvalue(r, 0, 0));
	warn_schemas(db, &l, &call);
	p->superuser = PQgetvalue(r, 0, 1)[0] == 't';
	p->can_write = p->superuser || PQgetvalue(r, 0, 2)[0] == 't';
	if (p->superuser && !db->allow_superuser) {
		rc = moat_err_rule(err, MOAT_EDENIED, "sql.superuser",
				  "/databases/%s: the role is a PostgreSQL superuser, which no "
				  "allowlist or READ ONLY transaction contains (it can read files "
				  "and run programs); connect as a role with only the privileges it "
				  "needs, or set \"allow_superuser\": true", db->name);
		goto out;
	}
	if (p->superuser)
		log_warn("sql: WARNING: database %s connects as a SUPERUSER (allow_superuser): "
			 "the schema allowlist and read-only transactions do not bound what it "
			 "can do", db->name);
	else if (p->can_write && !db->write)
		log_warn("sql: WARNING: database %s is read-only in moat but its role can write "
			 "(or create objects); reads run in READ ONLY transactions, but grant the "
			 "role SELECT only", db->name);
out:
	PQclear(r);
	sqlpg_give(p, &l);
	return rc;
}

static enum moat_rc sqlpg_open(struct sql_db *db, struct registry *reg, struct moat_err *err)
{
	struct sqlpg_pool *p = calloc(1, sizeof(*p));
	enum moat_rc rc;

	if (!p)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	db->conn = p;
	if ((rc = sqlpg_pool_init(p, db, err)))
		return rc;
	if ((rc = sqlpg_route(db, reg, err)))
		return rc;
	return check_role(db, err);
}

static void sqlpg_close(struct sql_db *db)
{
	struct sqlpg_pool *p = db->conn;

	if (!p)
		return;
	sqlpg_pool_fini(p);
	free(p);
	db->conn = NULL;
}

static void sqlpg_describe(const struct sql_db *db, FILE *f)
{
	const struct sqlpg_pool *p = db->conn;

	fprintf(f, "  %-12s postgres %s %s as %s (schemas:", db->name,
		db->write ? "read-write" : "read-only", p && p->where ? p->where : "?",
		p && p->role ? p->role : "?");
	for (size_t i = 0; i < db->nschemas; i++)
		fprintf(f, "%s %s", i ? "," : "", db->schemas[i]);
	fprintf(f, "; pool %zu)\n", db->pool_size);
	if (p && p->pin_hostaddr)
		fprintf(f, "  %-12s host names resolved at start-up and pinned: %s\n", "",
			p->pin_hostaddr);
	if (p && p->superuser)
		fprintf(f, "  %-12s WARNING: the role is a SUPERUSER (allow_superuser)\n", "");
	else if (p && p->can_write && !db->write)
		fprintf(f, "  %-12s WARNING: the role can write or create objects; grant it "
			   "SELECT only\n", "");
}

/* The module's library and its version, for `moat version` (sql.c asks
 * for this symbol by name). PQlibVersion is major * 10000 + minor from 10
 * on. Static storage. */
const char *sqlpg_module_versions(void);
const char *sqlpg_module_versions(void)
{
	static char buf[48];
	int v = PQlibVersion();

	snprintf(buf, sizeof(buf), "libpq %d.%d", v / 10000, v % 10000);
	return buf;
}

const struct sql_backend sqlpg_backend = {
	.type = "postgres",
	.open = sqlpg_open,
	.close = sqlpg_close,
	.list_tables = sqlpg_list_tables,
	.describe_table = sqlpg_describe_table,
	.query = sqlpg_query,
	.describe = sqlpg_describe,
};
