/*
 * sql_pg_plan.c - the PostgreSQL schema allowlist, checked on the plan.
 *
 * Before a statement runs, sql_pg.c prepares it and asks the server for
 * EXPLAIN (VERBOSE, FORMAT JSON) of the statement with the call's params
 * (or, for a read, finds the answer in its plan-check cache under an
 * unchanged transaction snapshot). The planner has already expanded views, CTEs and
 * subqueries (init plans and sub plans are nodes of the tree), so every
 * table the statement reads or changes appears as a node's "Relation
 * Name", and VERBOSE adds the "Schema" it lives in. Each must be in the
 * allowlist; a statement with no plan at all (a utility statement: SET,
 * SHOW, COPY, DO, CALL, PREPARE, LISTEN ...) is refused outright, since
 * nothing could be checked.
 *
 * What the plan cannot show, and so this cannot enforce: tables read
 * inside a function the statement calls (a PL/pgSQL or SQL function body
 * runs its own queries; builtins such as pg_read_file or
 * query_to_xml), and catalog lookups the server does for itself. Those
 * are bounded by the role's own privileges, which is why moat warns about
 * a role that can do more than it should.
 *
 * Pure; thread-safe.
 */
#include "sql_pg.h"

#include <stdio.h>
#include <string.h>

/* Remember schema.rel in rels (an array, may be NULL), once, bounded. */
static void note_rel(const struct sql_db *db, json_t *rels, const char *schema, const char *rel)
{
	char name[256];
	size_t i;
	json_t *v;

	if (!rels || !rel || json_array_size(rels) >= SQLPG_PLAN_RELS_MAX)
		return;
	if (db->nschemas && strcmp(schema, db->schemas[0]) == 0)
		snprintf(name, sizeof(name), "%s", rel);
	else if ((size_t)snprintf(name, sizeof(name), "%s.%s", schema, rel) >= sizeof(name))
		return; /* names are at most 63 bytes each: cannot happen */
	json_array_foreach(rels, i, v)
		if (strcmp(json_string_value(v), name) == 0)
			return;
	json_array_append_new(rels, json_string(name));
}

/* Walk node (any JSON value); the first refusal wins. */
static const char *walk(const struct sql_db *db, const json_t *node, int depth, json_t *rels)
{
	const char *why = NULL, *key;
	json_t *v;
	size_t i;

	if (depth > 200)
		return "the plan is nested too deeply to check";
	if (json_is_array(node)) {
		json_array_foreach(node, i, v)
			if ((why = walk(db, v, depth + 1, rels)))
				return why;
		return NULL;
	}
	if (!json_is_object(node))
		return NULL;
	if (json_object_get(node, "Relation Name")) {
		const char *schema = json_string_value(json_object_get(node, "Schema"));
		if (!schema)
			return "a relation whose schema the plan does not name";
		if (!sql_schema_allowed(db, schema))
			return "a relation outside the database's \"schemas\" allowlist";
		note_rel(db, rels, schema,
			 json_string_value(json_object_get(node, "Relation Name")));
	}
	json_object_foreach((json_t *)node, key, v)
		if ((json_is_object(v) || json_is_array(v)) && (why = walk(db, v, depth + 1, rels)))
			return why;
	return NULL;
}

enum moat_rc sqlpg_plan_check(const struct sql_db *db, const char *explain_json, const char *what,
			      json_t *rels, struct moat_err *err)
{
	json_t *doc = json_loads(explain_json, JSON_DECODE_ANY, NULL), *top;
	const char *why = NULL, *rule = "sql.plan_unreadable";
	size_t i;

	if (!doc || !json_is_array(doc) || json_array_size(doc) == 0)
		why = "the plan could not be read";
	json_array_foreach(why ? NULL : doc, i, top)
		if (!json_is_object(json_object_get(top, "Plan"))) {
			why = SQLPG_PLAN_ONLY;
			rule = "sql.statement_refused";
			break;
		}
	if (!why && (why = walk(db, doc, 0, rels)))
		rule = strstr(why, "allowlist") ? "sql.schema_not_allowed" : "sql.plan_unreadable";
	json_decref(doc);
	if (why) {
		if (rels)
			json_array_clear(rels);
		return moat_err_rule(err, MOAT_EDENIED, rule, "%s: refused: %s", what, why);
	}
	return MOAT_OK;
}
