/*
 * sql.c - the sql family's provider: reads the config's "databases"
 * section, opens every database through its backend before the sandbox,
 * and registers one set of tools that serves them all: list_databases,
 * list_tables, describe_table, read_query, and write_query when some
 * database says "write": true. A call names its database with "database",
 * which may be left out when only one is configured. Results carry
 * structuredContent {columns, rows, truncated, row_count} and a text table.
 *
 * Thread-safe: the database list is read-only after start-up; backends
 * guard their connections.
 */
#include "sql.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <strings.h>

#include "log.h"
#include "providers.h"

#define ENVELOPE_RESERVE 1024

static struct sql_family family;

static const struct sql_backend *const backends[] = {&sqls_backend, NULL};

enum moat_rc sql_open_err(const struct sql_db *db, int e, const char *why, struct moat_err *err)
{
	char buf[128];

	if (!why) {
		snprintf(buf, sizeof(buf), "%s", strerror(e));
		if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
			buf[0] = (char)(buf[0] - 'A' + 'a');
		why = buf;
	}
	return moat_err_set(err, MOAT_EINVAL, "/databases/%s/path: cannot open database '%s' (%s): %s",
			    db->name, db->name, db->given ? db->given : db->path ? db->path : "?",
			    why);
}

bool sql_table_allowed(const struct sql_db *db, const char *table)
{
	if (!table)
		return false;
	if (!db->tables)
		return true;
	for (size_t i = 0; i < db->ntables; i++)
		if (strcasecmp(db->tables[i], table) == 0)
			return true;
	return false;
}

bool sql_schema_allowed(const struct sql_db *db, const char *schema)
{
	for (size_t i = 0; schema && i < db->nschemas; i++)
		if (strcmp(db->schemas[i], schema) == 0)
			return true;
	return false;
}

/* ---- picking the database ------------------------------------------------- */

/* true when the JSON string v holds a NUL byte. The server refuses NUL
 * in string arguments before a handler runs; the sql family does not rely
 * on it. */
static bool has_nul(const json_t *v)
{
	return json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v);
}

/* The database the call names (or the only one), recorded as touched. */
static enum moat_rc pick(struct call_ctx *ctx, json_t *args, struct sql_db **out,
			 struct moat_err *err)
{
	const json_t *v = json_object_get(args, "database");
	const char *name = json_string_value(v);

	*out = NULL;
	if (has_nul(v))
		return moat_err_rule(err, MOAT_EINVAL, "sql.nul", "database: contains a NUL byte");
	if (!name) {
		if (family.ndbs != 1)
			return moat_err_set(err, MOAT_EINVAL,
					    "database: required when more than one database is "
					    "configured (see list_databases)");
		*out = &family.dbs[0];
	}
	for (size_t i = 0; !*out && i < family.ndbs; i++)
		if (strcmp(family.dbs[i].name, name) == 0)
			*out = &family.dbs[i];
	if (!*out)
		return moat_err_set(err, MOAT_ENOTFOUND,
				    "database: no database named '%.64s' is configured (see "
				    "list_databases)", name);
	callctx_touch(ctx, "database", (*out)->name);
	return MOAT_OK;
}

/* ---- tools ------------------------------------------------------------------ */

static enum moat_rc list_databases(struct call_ctx *ctx, void *data, json_t *args,
				   struct tool_result *out, struct moat_err *err)
{
	json_t *arr = json_array();
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)ctx;
	(void)data;
	(void)args;
	for (size_t i = 0; arr && f && i < family.ndbs; i++) {
		const struct sql_db *db = &family.dbs[i];
		json_t *tables = json_null();
		if (db->schemas) {
			tables = json_array();
			for (size_t k = 0; k < db->nschemas; k++)
				json_array_append_new(tables, json_string(db->schemas[k]));
		} else if (db->tables) {
			tables = json_array();
			for (size_t k = 0; k < db->ntables; k++)
				json_array_append_new(tables, json_string(db->tables[k]));
		}
		json_array_append_new(arr, json_pack("{s:s, s:s, s:b, s:o, s:I, s:I, s:I}", "name",
						     db->name, "type", db->be->type, "write",
						     db->write, db->schemas ? "schemas" : "tables", tables, "max_rows",
						     (json_int_t)db->max_rows, "max_bytes",
						     (json_int_t)db->max_bytes, "timeout_ms",
						     (json_int_t)db->timeout_ms));
		fprintf(f, "%s (%s, %s%s)\n", db->name, db->be->type,
			db->write ? "read-write" : "read-only",
			db->schemas ? ", schema allowlist" : db->tables ? ", table allowlist" : "");
	}
	if (f)
		fclose(f);
	return tool_result_take(out, arr ? json_pack("{s:o}", "databases", arr) : NULL, text, err);
}

enum moat_rc sql_tables_doc(struct sql_db *db, struct call_ctx *ctx, json_t **out,
			    struct moat_err *err)
{
	json_t *tables = json_array();
	enum moat_rc rc;

	*out = NULL;
	if (!tables)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if ((rc = db->be->list_tables(db, ctx, tables, err))) {
		json_decref(tables);
		return rc;
	}
	*out = json_pack("{s:s, s:o}", "database", db->name, "tables", tables);
	return *out ? MOAT_OK : moat_err_set(err, MOAT_ENOMEM, "out of memory");
}

enum moat_rc sql_table_doc(struct sql_db *db, struct call_ctx *ctx, const char *table,
			   json_t **out, struct moat_err *err)
{
	enum moat_rc rc;

	if (!(*out = json_pack("{s:s}", "database", db->name)))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if ((rc = db->be->describe_table(db, ctx, table, *out, err))) {
		json_decref(*out);
		*out = NULL;
		return rc;
	}
	callctx_touch_add(ctx, "tables", json_string_value(json_object_get(*out, "table")));
	return MOAT_OK;
}

static enum moat_rc list_tables(struct call_ctx *ctx, void *data, json_t *args,
				struct tool_result *out, struct moat_err *err)
{
	struct sql_db *db;
	json_t *doc, *t;
	enum moat_rc rc;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;

	(void)data;
	if ((rc = pick(ctx, args, &db, err)) || (rc = sql_tables_doc(db, ctx, &doc, err)))
		return rc;
	if ((f = open_memstream(&text, &len))) {
		json_t *tables = json_object_get(doc, "tables");
		json_array_foreach(tables, i, t)
			fprintf(f, "%s%s\n", json_string_value(json_object_get(t, "name")),
				strcmp(json_string_value(json_object_get(t, "type")), "view") == 0
					? " (view)"
					: "");
		if (json_array_size(tables) == 0)
			fprintf(f, "(no tables)\n");
		fclose(f);
	}
	return tool_result_take(out, doc, text, err);
}

static enum moat_rc describe_table(struct call_ctx *ctx, void *data, json_t *args,
				   struct tool_result *out, struct moat_err *err)
{
	const char *table = json_string_value(json_object_get(args, "table_name"));
	struct sql_db *db;
	json_t *o, *v;
	enum moat_rc rc;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;

	(void)data;
	if (has_nul(json_object_get(args, "table_name")))
		return moat_err_rule(err, MOAT_EINVAL, "sql.nul", "table_name: contains a NUL byte");
	if ((rc = pick(ctx, args, &db, err)) || (rc = sql_table_doc(db, ctx, table, &o, err)))
		return rc;
	if ((f = open_memstream(&text, &len))) {
		fprintf(f, "%s %s\ncolumns:\n", json_string_value(json_object_get(o, "type")),
			json_string_value(json_object_get(o, "table")));
		json_array_foreach(json_object_get(o, "columns"), i, v) {
			json_t *def = json_object_get(v, "default");
			fprintf(f, "  %s %s%s%s%s", json_string_value(json_object_get(v, "name")),
				json_string_value(json_object_get(v, "type")),
				json_is_true(json_object_get(v, "not_null")) ? " NOT NULL" : "",
				json_integer_value(json_object_get(v, "primary_key")) ? " PRIMARY KEY"
										     : "",
				json_is_string(def) ? " DEFAULT " : "");
			if (json_is_string(def))
				fputs(json_string_value(def), f);
			fputc('\n', f);
		}
		json_array_foreach(json_object_get(o, "foreign_keys"), i, v)
			fprintf(f, "foreign key: %s -> %s(%s)\n",
				json_string_value(json_object_get(v, "from")),
				json_string_value(json_object_get(v, "table")),
				json_is_string(json_object_get(v, "to"))
					? json_string_value(json_object_get(v, "to"))
					: "primary key");
		json_array_foreach(json_object_get(o, "indexes"), i, v) {
			size_t k;
			json_t *c;
			fprintf(f, "index: %s%s (", json_string_value(json_object_get(v, "name")),
				json_is_true(json_object_get(v, "unique")) ? " UNIQUE" : "");
			json_array_foreach(json_object_get(v, "columns"), k, c)
				fprintf(f, "%s%s", k ? ", " : "",
					json_is_string(c) ? json_string_value(c) : "<expression>");
			fprintf(f, ")\n");
		}
		fclose(f);
	}
	return tool_result_take(out, o, text, err);
}

static enum moat_rc run_query(struct call_ctx *ctx, json_t *args, enum sql_mode mode,
			      struct tool_result *out, struct moat_err *err)
{
	json_t *q = json_object_get(args, "query"), *params = json_object_get(args, "params");
	struct sql_result res = {0};
	struct sql_db *db;
	size_t room, cap, len;
	char *doc, *text;
	enum moat_rc rc;

	if ((rc = pick(ctx, args, &db, err)))
		return rc;
	if (mode == SQL_WRITE && !db->write)
		return moat_err_rule(err, MOAT_EDENIED, "sql.read_only",
				     "write_query: database '%s' is read-only (the config does not "
				     "say \"write\": true)", db->name);
	/* Rows and the text table each get half of what the result may take. */
	room = ctx->output_budget > 2 * ENVELOPE_RESERVE
		       ? (ctx->output_budget - 2 * ENVELOPE_RESERVE) / 2
		       : ctx->output_budget / 4;
	cap = db->max_bytes < room ? db->max_bytes : room;
	if ((rc = sql_result_init(&res, db->max_rows, cap, cap, err)))
		return rc;
	rc = db->be->query(db, ctx, json_string_value(q), json_string_length(q),
			   json_is_array(params) ? params : NULL, mode, &res, err);
	if (rc)
		goto out;
	/* structuredContent as JSON text, written as the rows came (output_streamed). */
	if (mode == SQL_WRITE && res.ncols == 0) {
		char line[96];
		snprintf(line, sizeof(line), "%lld row%s affected\n", (long long)res.affected,
			 res.affected == 1 ? "" : "s");
		text = strdup(line);
	} else {
		text = sql_result_table(&res);
	}
	doc = sql_result_document(&res, db->name, mode == SQL_WRITE, &len);
	if (!doc || !text) {
		free(doc);
		free(text);
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	rc = tool_result_take_json(out, doc, len, text, err);
out:
	sql_result_free(&res);
	return rc;
}

static enum moat_rc read_query(struct call_ctx *ctx, void *data, json_t *args,
			       struct tool_result *out, struct moat_err *err)
{
	(void)data;
	return run_query(ctx, args, SQL_READ, out, err);
}

static enum moat_rc write_query(struct call_ctx *ctx, void *data, json_t *args,
				struct tool_result *out, struct moat_err *err)
{
	(void)data;
	return run_query(ctx, args, SQL_WRITE, out, err);
}

/* ---- schemas ------------------------------------------------------------------ */

#define DB_PROP                                                                                \
	"\"database\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":64,"                 \
	"\"description\":\"A database name from list_databases; may be left out when only "   \
	"one is configured.\"}"

#define QUERY_PROPS                                                                            \
	DB_PROP ",\"query\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":100000,"        \
	"\"description\":\"Exactly one SQL statement. Use placeholders for values (?1, ?2 " \
	"... on SQLite; $1, $2 ... on PostgreSQL) and pass them in params.\"},"                                                  \
	"\"params\":{\"type\":\"array\",\"maxItems\":999,\"description\":\"Values bound to the " \
	"placeholders in order: strings, numbers, booleans (1/0), null; {\\\"base64\\\": "     \
	"\\\"...\\\"} for a blob; any other array or object is bound as its JSON text.\"}"

#define RESULT_SCHEMA                                                                          \
	"{\"type\":\"object\",\"properties\":{"                                                \
	"\"database\":{\"type\":\"string\"},"                                                  \
	"\"columns\":{\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{"      \
	"\"name\":{\"type\":\"string\"},\"type\":{\"type\":[\"string\",\"null\"]}},"           \
	"\"required\":[\"name\",\"type\"]}},"                                                  \
	"\"rows\":{\"type\":\"array\",\"items\":{\"type\":\"array\"}},"                        \
	"\"truncated\":{\"type\":\"boolean\"},\"row_count\":{\"type\":\"integer\"},"           \
	"\"note\":{\"type\":\"string\"},\"affected_rows\":{\"type\":\"integer\"}},"           \
	"\"required\":[\"columns\",\"rows\",\"truncated\",\"row_count\"]}"

struct sql_tool_def {
	const char *name, *title, *desc, *in, *outs;
	tool_handler_fn fn;
	bool write;
	bool streamed; /* structuredContent as JSON text (sql_result_document) */
};

static const struct sql_tool_def defs[] = {
	{"list_databases", "List databases",
	 "List the configured databases: name, engine, whether writes are allowed, the table "
	 "allowlist and the result limits.",
	 "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"databases\":{\"type\":\"array\",\"items\":{"
	 "\"type\":\"object\"}}},\"required\":[\"databases\"]}",
	 list_databases, false, false},
	{"list_tables", "List tables", "List the tables and views of a database that may be read.",
	 "{\"type\":\"object\",\"properties\":{" DB_PROP "},\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"database\":{\"type\":\"string\"},\"tables\":{"
	 "\"type\":\"array\",\"items\":{\"type\":\"object\",\"properties\":{\"name\":{\"type\":"
	 "\"string\"},\"type\":{\"type\":\"string\"}},\"required\":[\"name\",\"type\"]}}},"
	 "\"required\":[\"tables\"]}",
	 list_tables, false, false},
	{"describe_table", "Describe a table",
	 "The schema of one table or view: columns (type, NOT NULL, default, primary key), "
	 "foreign keys and indexes.",
	 "{\"type\":\"object\",\"properties\":{" DB_PROP ",\"table_name\":{\"type\":\"string\","
	 "\"minLength\":1,\"maxLength\":1024}},\"required\":[\"table_name\"],"
	 "\"additionalProperties\":false}",
	 "{\"type\":\"object\",\"properties\":{\"database\":{\"type\":\"string\"},\"table\":{"
	 "\"type\":\"string\"},\"type\":{\"type\":\"string\"},\"columns\":{\"type\":\"array\"},"
	 "\"foreign_keys\":{\"type\":\"array\"},\"indexes\":{\"type\":\"array\"}},"
	 "\"required\":[\"table\",\"columns\",\"foreign_keys\",\"indexes\"]}",
	 describe_table, false, false},
	{"read_query", "Run a read-only SQL query",
	 "Run one read-only SQL statement (SELECT, WITH ... SELECT) and return its rows. Rows "
	 "are capped by the database's max_rows and max_bytes (truncated: true says so).",
	 "{\"type\":\"object\",\"properties\":{" QUERY_PROPS "},\"required\":[\"query\"],"
	 "\"additionalProperties\":false}",
	 RESULT_SCHEMA, read_query, false, true},
	{"write_query", "Run a writing SQL statement",
	 "Run one INSERT, UPDATE or DELETE (or, on a database without a table allowlist, a "
	 "schema change) on a database configured with \"write\": true; returns the number of "
	 "rows affected.",
	 "{\"type\":\"object\",\"properties\":{" QUERY_PROPS "},\"required\":[\"query\"],"
	 "\"additionalProperties\":false}",
	 RESULT_SCHEMA, write_query, true, true},
};

static enum moat_rc register_tools(struct registry *reg, bool any_write, struct moat_err *err)
{
	enum moat_rc rc = MOAT_OK;

	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]) && rc == MOAT_OK; i++) {
		struct tool_spec spec = {
			.name = defs[i].name,
			.title = defs[i].title,
			.description = defs[i].desc,
			.annotations = {.read_only = defs[i].write ? HINT_FALSE : HINT_TRUE,
					.destructive = defs[i].write ? HINT_TRUE : HINT_FALSE,
					.idempotent = defs[i].write ? HINT_FALSE : HINT_TRUE,
					.open_world = HINT_FALSE},
			.inline_ok = defs[i].fn == list_databases,
			.handler = defs[i].fn,
			.output_streamed = defs[i].streamed,
		};
		if (!defs[i].write || any_write)
			rc = registry_add_texts(reg, spec, defs[i].in, defs[i].outs, err);
	}
	return rc;
}

/* ---- config --------------------------------------------------------------------- */

static size_t get_size(const json_t *o, const char *key, size_t def)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (size_t)json_integer_value(v) : def;
}

/* Resolve db->given against the config's directory into db->path; it
 * must exist (the backend opens it and says more). */
static enum moat_rc resolve_path(struct sql_db *db, const char *base, struct moat_err *err)
{
	char joined[PATH_MAX], real[PATH_MAX];
	const char *p = db->given;

	if (p[0] != '/' && base) {
		if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", base, p) >= sizeof(joined))
			return sql_open_err(db, ENAMETOOLONG, NULL, err);
		p = joined;
	}
	if (!realpath(p, real))
		return sql_open_err(db, errno, NULL, err);
	if (!(db->path = strdup(real)))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return MOAT_OK;
}

/* A JSON array of strings as a NULL-terminated owned list. */
static enum moat_rc str_list(const json_t *arr, char ***out, size_t *n, struct moat_err *err)
{
	size_t i;
	json_t *t;

	if (!(*out = calloc(json_array_size(arr) + 1, sizeof(**out))))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_array_foreach(arr, i, t) {
		if (!((*out)[i] = strdup(json_string_value(t))))
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		*n = i + 1;
	}
	return MOAT_OK;
}

/* The postgres-only settings: the connection string (a secret: never in
 * a message), the schema allowlist (default ["public"]), the pool, the
 * plan-check cache. */
static enum moat_rc parse_pg(const char *name, const json_t *o, struct sql_db *db,
			     struct moat_err *err)
{
	const char *url = json_string_value(json_object_get(o, "url"));
	const json_t *schemas = json_object_get(o, "schemas");
	json_t *def = NULL;
	enum moat_rc rc;

	if (!url || !url[0])
		return moat_err_set(err, MOAT_EINVAL, "/databases/%s/url: required for postgres "
				    "(normally \"${DATABASE_URL}\")", name);
	if (!(db->url = strdup(url)))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (!json_is_array(schemas) || json_array_size(schemas) == 0)
		schemas = def = json_pack("[s]", "public");
	if (!schemas)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	rc = str_list(schemas, &db->schemas, &db->nschemas, err);
	json_decref(def);
	db->pool_size = get_size(o, "pool_size", SQL_DEFAULT_POOL_SIZE);
	db->allow_superuser = json_is_true(json_object_get(o, "allow_superuser"));
	db->plan_cache = get_size(o, "plan_cache", SQL_DEFAULT_PLAN_CACHE);
	return rc;
}

static enum moat_rc parse_db(const char *name, const json_t *o, const char *base,
			     struct sql_db *db, struct moat_err *err)
{
	const char *type = json_string_value(json_object_get(o, "type"));
	const json_t *tables = json_object_get(o, "tables");
	const char *path = json_string_value(json_object_get(o, "path"));
	enum moat_rc rc;
	size_t i;

	if (!(db->name = strdup(name)))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	for (i = 0; backends[i]; i++)
		if (type && strcmp(backends[i]->type, type) == 0)
			db->be = backends[i];
	if (type && strcmp(type, "postgres") == 0 &&
	    !(db->be = modules_symbol(SQL_PG_MODULE, SQL_PG_SYMBOL, err)))
		return err->rc;
	if (!db->be)
		return moat_err_set(err, MOAT_EINVAL, "/databases/%s/type: unknown database type "
				    "'%.32s' (sqlite or postgres)", name, type ? type : "");
	db->write = json_is_true(json_object_get(o, "write"));
	db->max_rows = get_size(o, "max_rows", SQL_DEFAULT_MAX_ROWS);
	db->max_bytes = get_size(o, "max_bytes", SQL_DEFAULT_MAX_BYTES);
	db->timeout_ms = (uint32_t)get_size(o, "timeout_ms", SQL_DEFAULT_TIMEOUT_MS);
	if (strcmp(db->be->type, "postgres") == 0)
		return parse_pg(name, o, db, err);
	if (json_is_array(tables) && (rc = str_list(tables, &db->tables, &db->ntables, err)))
		return rc;
	if (!path)
		return moat_err_set(err, MOAT_EINVAL, "/databases/%s/path: required for %s", name,
				    db->be->type);
	if (!(db->given = strdup(path)))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return resolve_path(db, base, err);
}

static void sql_fini(void)
{
	for (size_t i = 0; i < family.ndbs; i++) {
		struct sql_db *db = &family.dbs[i];
		if (db->be)
			db->be->close(db);
		for (size_t k = 0; k < db->ntables; k++)
			free(db->tables[k]);
		free(db->tables);
		for (size_t k = 0; k < db->nschemas; k++)
			free(db->schemas[k]);
		free(db->schemas);
		free(db->name);
		free(db->path);
		free(db->given);
		if (db->url) {
			explicit_bzero(db->url, strlen(db->url));
			free(db->url);
		}
	}
	free(family.dbs);
	memset(&family, 0, sizeof(family));
}

static enum moat_rc sql_init(struct registry *reg, const json_t *section,
			     const struct moat_config *cfg, struct moat_err *err)
{
	const char *name;
	enum moat_rc rc = MOAT_OK;
	bool any_write = false;
	json_t *o;

	memset(&family, 0, sizeof(family));
	if (json_object_size(section) == 0)
		return moat_err_set(err, MOAT_EINVAL, "/databases: at least one database is required");
	family.dbs = calloc(json_object_size(section), sizeof(*family.dbs));
	if (!family.dbs)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_object_foreach((json_t *)section, name, o) {
		struct sql_db *db = &family.dbs[family.ndbs++];
		if ((rc = parse_db(name, o, cfg->dir, db, err)) || (rc = db->be->open(db, reg, err)))
			goto fail;
		any_write |= db->write;
	}
	if ((rc = register_tools(reg, any_write, err)) ||
	    (rc = sql_register_resources(reg, &family, err)) ||
	    (rc = sql_register_completers(reg, &family, err)))
		goto fail;
	return MOAT_OK;
fail:
	sql_fini();
	return rc;
}

/* moat check: what each database is and what the sandbox will let it reach. */
static void sql_describe(FILE *f)
{
	fprintf(f, "sql (one statement per call; read-only unless \"write\": true, enforced by "
		   "the engine):\n");
	for (size_t i = 0; i < family.ndbs; i++)
		if (family.dbs[i].be->describe)
			family.dbs[i].be->describe(&family.dbs[i], f);
}

/* `moat version`: SQLite is built in; PostgreSQL is the module, loaded
 * here as a "postgres" database would load it. A missing PostgreSQL
 * module leaves the family (SQLite) available and says so. */
static bool sql_versions(char *buf, size_t size, struct moat_err *err)
{
	char pg[1024];
	struct moat_err e = {0};

	(void)err;
	if (!modules_versions(SQL_PG_MODULE, "sqlpg_module_versions", pg, sizeof(pg), &e))
		snprintf(pg, sizeof(pg), "not available: %s", e.msg);
	snprintf(buf, size, "built in (SQLite %s); PostgreSQL: %s", sqlite3_libversion(), pg);
	return true;
}

const struct provider sql_provider = {
	.name = "sql",
	.config_key = "databases",
	.init = sql_init,
	.fini = sql_fini,
	.describe = sql_describe,
	.versions = sql_versions,
};
