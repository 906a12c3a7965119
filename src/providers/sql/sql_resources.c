/*
 * sql_resources.c - the sql family's MCP resources: for every configured
 * database, sql://{database}/tables (what list_tables returns) and
 * sql://{database}/tables/{table} (what describe_table returns), both as
 * application/json. Names are percent-encoded in URIs (RFC 3986
 * unreserved characters stay as they are), so any table name round-trips.
 *
 * Reads go through the same backend calls as the tools, so the allowlist,
 * the deadline and the engine's own read-only rules apply alike: a table
 * the allowlist hides is "not found" here too. The listing pages over
 * databases and their tables with a cursor "sql:<database>:<item>".
 *
 * Thread-safe: the database list is read-only after start-up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sql.h"
#include "text.h"

#define MIME "application/json"

/* ---- URIs -------------------------------------------------------------------- */

static bool unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Appends s percent-encoded to f. */
static void put_encoded(FILE *f, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (unreserved(*p))
			fputc(*p, f);
		else
			fprintf(f, "%%%02X", *p);
	}
}

/* "sql://{db}/tables" or, with table, "sql://{db}/tables/{table}". Caller
 * frees; NULL on ENOMEM. */
static char *make_uri(const char *db, const char *table)
{
	char *uri = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&uri, &len);

	if (!f)
		return NULL;
	fputs("sql://", f);
	put_encoded(f, db);
	fputs("/tables", f);
	if (table) {
		fputc('/', f);
		put_encoded(f, table);
	}
	if (fclose(f) != 0) {
		free(uri);
		return NULL;
	}
	return uri;
}

/* Decodes s[0..n) into a new string; NULL when it holds a bad escape, a
 * NUL or a '/', or on ENOMEM. */
static char *decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '/')
			goto bad;
		if (c == '%') {
			int hi = i + 2 < n ? text_hexval(s[i + 1]) : -1;
			int lo = hi >= 0 ? text_hexval(s[i + 2]) : -1;
			if (lo < 0 || (c = hi * 16 + lo) == 0)
				goto bad;
			i += 2;
		}
		*o++ = (char)c;
	}
	*o = '\0';
	return out;
bad:
	free(out);
	return NULL;
}

/* Splits uri into the database and the table (NULL for the table list).
 * MOAT_ENOTFOUND for anything but the two shapes above. */
static enum moat_rc parse_uri(const char *uri, char **db, char **table, struct moat_err *err)
{
	const char *p, *slash, *rest;

	*db = *table = NULL;
	if (strncasecmp(uri, "sql://", 6) != 0)
		goto bad;
	p = uri + 6;
	if (!(slash = strchr(p, '/')) || slash == p || strncmp(slash, "/tables", 7) != 0)
		goto bad;
	rest = slash + 7;
	if (*rest != '\0' && (*rest != '/' || rest[1] == '\0'))
		goto bad;
	if (!(*db = decode(p, (size_t)(slash - p))))
		goto bad;
	if (*rest && !(*table = decode(rest + 1, strlen(rest + 1)))) {
		free(*db);
		*db = NULL;
		goto bad;
	}
	return MOAT_OK;
bad:
	return moat_err_set(err, MOAT_ENOTFOUND,
			    "resource not found: sql resources are sql://{database}/tables and "
			    "sql://{database}/tables/{table}");
}

/* ---- resources/read ------------------------------------------------------------ */

static enum moat_rc res_read(void *data, struct call_ctx *ctx, const char *uri, json_t **out,
			     struct moat_err *err)
{
	struct sql_family *fam = data;
	struct sql_db *db = NULL;
	char *dbname, *table, *text = NULL;
	json_t *doc = NULL;
	enum moat_rc rc;

	if ((rc = parse_uri(uri, &dbname, &table, err)))
		return rc;
	for (size_t i = 0; i < fam->ndbs && !db; i++)
		if (strcmp(fam->dbs[i].name, dbname) == 0)
			db = &fam->dbs[i];
	if (!db) {
		rc = moat_err_set(err, MOAT_ENOTFOUND,
				  "resource not found: no database named '%.64s' is configured",
				  dbname);
	} else {
		callctx_touch(ctx, "database", db->name);
		rc = table ? sql_table_doc(db, ctx, table, &doc, err)
			   : sql_tables_doc(db, ctx, &doc, err);
	}
	free(dbname);
	free(table);
	if (rc)
		return rc;
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!text)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (strlen(text) + strlen(uri) + 128 > ctx->output_budget) {
		size_t n = strlen(text);
		free(text);
		return moat_err_rule(err, MOAT_EINVAL, "limits.output",
				     "resource too large: %zu bytes exceeds the output budget of %zu "
				     "(limits.max_output_bytes)", n, ctx->output_budget);
	}
	*out = json_pack("{s:[{s:s, s:s, s:s}]}", "contents", "uri", uri, "mimeType", MIME,
			 "text", text);
	free(text);
	return *out ? MOAT_OK : moat_err_set(err, MOAT_ENOMEM, "out of memory");
}

/* ---- resources/list ------------------------------------------------------------ */

/* Appends one resource entry; false on ENOMEM. */
static bool add_entry(json_t *arr, const char *dbname, const char *table)
{
	char *uri = make_uri(dbname, table), *name = NULL, *desc = NULL;
	bool ok = false;

	if (!uri)
		return false;
	if (table) {
		if (asprintf(&name, "%s.%s", dbname, table) < 0 ||
		    asprintf(&desc, "Columns, keys and indexes of %s in database %s", table,
			     dbname) < 0)
			goto out;
	} else if (asprintf(&name, "%s tables", dbname) < 0 ||
		   asprintf(&desc, "The tables and views of database %s that may be read",
			    dbname) < 0) {
		goto out;
	}
	ok = json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s}", "uri", uri, "name", name,
						  "description", desc, "mimeType", MIME)) == 0;
out:
	free(uri);
	free(name);
	free(desc);
	return ok;
}

static enum moat_rc res_list(void *data, struct call_ctx *ctx, const char *cursor,
			     size_t page_size, json_t **out, struct moat_err *err)
{
	struct sql_family *fam = data;
	size_t want = page_size ? page_size : 100, d = 0, item = 0;
	json_t *arr = json_array();
	char next[64] = "";

	if (!arr)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (cursor) {
		char tail;
		if (strncmp(cursor, "sql:", 4) != 0 || cursor[4] < '0' || cursor[4] > '9' ||
		    sscanf(cursor, "sql:%zu:%zu%c", &d, &item, &tail) != 2 || d >= fam->ndbs) {
			json_decref(arr);
			return moat_err_set(err, MOAT_EINVAL, "invalid params: unknown or stale cursor");
		}
	}
	for (; d < fam->ndbs && !next[0]; d++, item = 0) {
		struct sql_db *db = &fam->dbs[d];
		json_t *doc = NULL, *tables;
		enum moat_rc rc = sql_tables_doc(db, ctx, &doc, err);
		size_t n;

		if (rc) {
			json_decref(arr);
			return rc;
		}
		tables = json_object_get(doc, "tables");
		n = json_array_size(tables) + 1; /* the table list, then each table */
		for (; item < n; item++) {
			const char *t = item ? json_string_value(json_object_get(
						       json_array_get(tables, item - 1), "name"))
					     : NULL;
			if (json_array_size(arr) == want) {
				snprintf(next, sizeof(next), "sql:%zu:%zu", d, item);
				break;
			}
			if (!add_entry(arr, db->name, t)) {
				json_decref(doc);
				json_decref(arr);
				return moat_err_set(err, MOAT_ENOMEM, "out of memory");
			}
		}
		json_decref(doc);
	}
	*out = json_pack("{s:o}", "resources", arr);
	if (*out && next[0])
		json_object_set_new(*out, "nextCursor", json_string(next));
	return *out ? MOAT_OK : moat_err_set(err, MOAT_ENOMEM, "out of memory");
}

static json_t *res_templates(void *data)
{
	(void)data;
	return json_pack("[{s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s}]", "uriTemplate",
			 "sql://{database}/tables", "name", "sql tables", "description",
			 "The tables and views of a database that may be read", "mimeType", MIME,
			 "uriTemplate", "sql://{database}/tables/{table}", "name", "sql table",
			 "description", "Columns, keys and indexes of one table or view",
			 "mimeType", MIME);
}

enum moat_rc sql_register_resources(struct registry *reg, struct sql_family *fam,
				    struct moat_err *err)
{
	struct resource_ops ops = {
		.scheme = "sql",
		.read_tool = "read_query",
		.list = res_list,
		.read = res_read,
		.templates = res_templates,
		.complete = sql_res_complete,
		.data = fam,
	};

	return registry_add_resources(reg, &ops, err);
}
