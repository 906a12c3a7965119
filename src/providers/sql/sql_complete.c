/*
 * sql_complete.c - completion of database and table names: the
 * "sql.databases" and "sql.tables" completers (prompt arguments declared
 * "complete": "sql.databases" or "sql.tables", the latter with the
 * database in the context's "database") and the variables of the
 * sql://{database}/tables[/{table}] templates.
 *
 * Table names come from the same backend call as list_tables, so the
 * allowlist applies alike and a hidden table is never offered; the call
 * runs under a deadline of its own (at most SQL_COMPLETE_TIMEOUT_MS, less
 * when the database's timeout is shorter). Without a database in the
 * context, tables complete only when one database is configured.
 * Thread-safe: the database list is read-only after start-up.
 */
#include <stdlib.h>
#include <string.h>

#include "sql.h"

#define SQL_COMPLETE_TIMEOUT_MS 2000u

static bool add_if(json_t *values, size_t max, const char *name, const char *prefix)
{
	if (strncmp(name, prefix, strlen(prefix)) != 0)
		return true;
	if (json_array_size(values) >= max)
		return false;
	json_array_append_new(values, json_string(name));
	return true;
}

static enum moat_rc complete_databases(struct sql_family *fam, const char *prefix,
				       json_t *values, size_t max)
{
	for (size_t i = 0; i < fam->ndbs; i++)
		if (!add_if(values, max, fam->dbs[i].name, prefix))
			break;
	return MOAT_OK;
}

/* The database the context names, or the only one configured. */
static struct sql_db *context_db(struct sql_family *fam, const json_t *context)
{
	const char *name = json_string_value(json_object_get(context, "database"));

	if (!name)
		return fam->ndbs == 1 ? &fam->dbs[0] : NULL;
	for (size_t i = 0; i < fam->ndbs; i++)
		if (strcmp(fam->dbs[i].name, name) == 0)
			return &fam->dbs[i];
	return NULL;
}

static enum moat_rc complete_tables(struct sql_family *fam, const char *prefix,
				    const json_t *context, json_t *values, size_t max,
				    struct moat_err *err)
{
	struct sql_db *db = context_db(fam, context);
	struct call_ctx ctx;
	json_t *doc = NULL, *t;
	size_t i;
	enum moat_rc rc;

	if (!db)
		return MOAT_OK;
	callctx_init(&ctx, "completion/complete",
		     db->timeout_ms && db->timeout_ms < SQL_COMPLETE_TIMEOUT_MS
			     ? db->timeout_ms
			     : SQL_COMPLETE_TIMEOUT_MS,
		     db->max_bytes);
	ctx.no_touch = true;
	rc = sql_tables_doc(db, &ctx, &doc, err);
	callctx_release(&ctx);
	if (rc)
		return rc;
	json_array_foreach(json_object_get(doc, "tables"), i, t) {
		const char *name = json_string_value(json_object_get(t, "name"));
		if (name && !add_if(values, max, name, prefix))
			break;
	}
	json_decref(doc);
	return MOAT_OK;
}

static enum moat_rc databases_completer(void *data, const char *prefix, const json_t *context,
					json_t *values, size_t max, struct moat_err *err)
{
	(void)context;
	(void)err;
	return complete_databases(data, prefix, values, max);
}

static enum moat_rc tables_completer(void *data, const char *prefix, const json_t *context,
				     json_t *values, size_t max, struct moat_err *err)
{
	return complete_tables(data, prefix, context, values, max, err);
}

enum moat_rc sql_res_complete(void *data, const char *uri_template, const char *var,
			      const char *prefix, const json_t *context, json_t *values,
			      size_t max, struct moat_err *err)
{
	if (strncmp(uri_template, "sql://{database}/tables", 23) != 0)
		return MOAT_OK;
	if (strcmp(var, "database") == 0)
		return complete_databases(data, prefix, values, max);
	if (strcmp(var, "table") == 0)
		return complete_tables(data, prefix, context, values, max, err);
	return MOAT_OK;
}

enum moat_rc sql_register_completers(struct registry *reg, struct sql_family *fam,
				     struct moat_err *err)
{
	enum moat_rc rc = registry_add_completer(reg, "sql.databases", databases_completer, fam,
						 err);

	return rc ? rc : registry_add_completer(reg, "sql.tables", tables_completer, fam, err);
}
