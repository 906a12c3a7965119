/*
 * api_grouped.c - the grouped form of a declared API ("operations"
 * instead of "tools", as `moat import openapi --grouped` writes it): a
 * large API becomes four tools instead of hundreds.
 *
 *   NAME_operations {tag?, query?, cursor?}   a page of the operations
 *       (name, title, method, path, tags, write), filtered by tag and by
 *       a case-insensitive substring of the name, title, description or
 *       path; nextCursor for the next page.
 *   NAME_operation_schema {operation}         one operation's description,
 *       method, path, input_schema and whether it writes.
 *   NAME_call {operation, arguments}          runs a read operation
 *       (GET/HEAD); read-only annotations.
 *   NAME_call_write {operation, arguments}    runs a write operation; only
 *       when some operation writes; destructive annotations; confirmed by
 *       the person before each call when any write operation says
 *       "confirm": true.
 *
 * Each operation is a struct api_tool like a declared tool (api_tool.c),
 * and a call goes through api_call: the same templates, rate limit,
 * cache, retries, selection, response kinds and audit record (the
 * operation's path template, and its name as "operation"). The arguments
 * are checked against the operation's compiled input schema before
 * anything is built or sent (http.operation_arguments); an unknown name is
 * http.unknown_operation, a write through NAME_call http.write_operation,
 * a read through NAME_call_write http.read_operation.
 *
 * Start-up is single-threaded; the handlers only read what it built.
 */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wire.h"

#define GROUP_PAGE 50         /* operations per NAME_operations page */
#define GROUP_OP_SHOWN 64     /* most bytes of an operation name in a message */

enum group_kind { G_LIST, G_SCHEMA, G_CALL, G_CALL_WRITE, G_KINDS };

struct group_tool {
	struct api *a;
	enum group_kind kind;
	char name[96];
};

struct api_group {
	struct group_tool tools[G_KINDS];
};

static const char list_in[] =
	"{\"type\":\"object\",\"additionalProperties\":false,\"properties\":{"
	"\"tag\":{\"type\":\"string\",\"maxLength\":200,"
	"\"description\":\"Only operations with this tag.\"},"
	"\"query\":{\"type\":\"string\",\"maxLength\":200,\"description\":\"Only operations whose "
	"name, title, description or path contains this text (case-insensitive).\"},"
	"\"cursor\":{\"type\":\"string\",\"maxLength\":32,"
	"\"description\":\"nextCursor of the previous page.\"}}}";

static const char list_out[] =
	"{\"type\":\"object\",\"required\":[\"operations\",\"total\"],\"properties\":{"
	"\"operations\":{\"type\":\"array\",\"items\":{\"type\":\"object\"}},"
	"\"total\":{\"type\":\"integer\"},\"nextCursor\":{\"type\":\"string\"}}}";

static const char schema_in[] =
	"{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"operation\"],"
	"\"properties\":{\"operation\":{\"type\":\"string\",\"maxLength\":256,"
	"\"description\":\"The operation's name, from the operations list.\"}}}";

static const char schema_out[] =
	"{\"type\":\"object\",\"required\":[\"name\",\"method\",\"path\",\"input_schema\","
	"\"write\"],\"properties\":{\"name\":{\"type\":\"string\"},"
	"\"input_schema\":{\"type\":\"object\"},\"write\":{\"type\":\"boolean\"}}}";

static const char call_in[] =
	"{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"operation\"],"
	"\"properties\":{\"operation\":{\"type\":\"string\",\"maxLength\":256,"
	"\"description\":\"The operation's name, from the operations list.\"},"
	"\"arguments\":{\"type\":\"object\",\"description\":\"The operation's arguments, "
	"matching its input_schema (see the operation_schema tool).\"}}}";

/* ---- lookups ------------------------------------------------------------ */

static const struct api_tool *find_op(const struct api *a, const char *name)
{
	for (size_t i = 0; name && i < a->nops; i++)
		if (strcmp(a->ops[i].name, name) == 0)
			return &a->ops[i];
	return NULL;
}

/* The operation a call names, or an error that says how to find one. The
 * name is quoted only when it has an operation name's shape. */
static const struct api_tool *op_of(const struct group_tool *g, const json_t *args,
				    struct moat_err *err)
{
	const char *name = json_string_value(json_object_get(args, "operation"));
	const struct api_tool *op = find_op(g->a, name);
	bool shown = name && strlen(name) <= GROUP_OP_SHOWN && name[0] &&
		     strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(name);

	if (!op)
		moat_err_rule(err, MOAT_ENOTFOUND, "http.unknown_operation",
			      "API %s has no operation %s%s%s; call %s_operations to list them",
			      g->a->name, shown ? "'" : "", shown ? name : "of that name",
			      shown ? "'" : "", g->a->name);
	return op;
}

static bool ci_contains(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle) != NULL;
}

static bool op_matches(const struct api_tool *op, const char *tag, const char *query)
{
	if (tag) {
		bool found = false;
		size_t i;
		json_t *v;
		json_array_foreach(op->tags, i, v)
			found = found || strcasecmp(json_string_value(v), tag) == 0;
		if (!found)
			return false;
	}
	return !query || !query[0] || ci_contains(op->name, query) ||
	       ci_contains(op->title, query) || ci_contains(op->description, query) ||
	       ci_contains(op->path, query);
}

/* ---- the handlers -------------------------------------------------------- */

static enum moat_rc finish(struct tool_result *out, json_t *doc, struct moat_err *err)
{
	char *text = doc ? wire_dumps(doc) : NULL;

	if (!doc || !text) {
		json_decref(doc);
		free(text);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	return tool_result_take(out, doc, text, err);
}

static json_t *op_summary(const struct api_tool *op)
{
	json_t *o = json_pack("{s:s, s:s, s:s, s:b}", "name", op->name, "method", op->method,
			      "path", op->path, "write", op->write);

	if (o && op->title)
		json_object_set_new(o, "title", json_string(op->title));
	if (o && op->tags)
		json_object_set_new(o, "tags", json_deep_copy(op->tags));
	return o;
}

static enum moat_rc group_list(const struct group_tool *g, const json_t *args,
			       struct tool_result *out, struct moat_err *err)
{
	const struct api *a = g->a;
	const char *tag = json_string_value(json_object_get(args, "tag"));
	const char *query = json_string_value(json_object_get(args, "query"));
	const char *cursor = json_string_value(json_object_get(args, "cursor"));
	json_t *list = json_array(), *doc;
	size_t skip = 0, total = 0;

	if (cursor) {
		char *end = NULL;
		unsigned long long v = strtoull(cursor, &end, 10);
		if (!cursor[0] || cursor[0] == '-' || *end || v > a->nops) {
			json_decref(list);
			return moat_err_rule(err, MOAT_EINVAL, "http.cursor",
					     "cursor: not one that %s_operations gave; start again "
					     "without it", a->name);
		}
		skip = (size_t)v;
	}
	for (size_t i = 0; list && i < a->nops; i++) {
		if (!op_matches(&a->ops[i], tag, query))
			continue;
		if (total >= skip && total < skip + GROUP_PAGE)
			json_array_append_new(list, op_summary(&a->ops[i]));
		total++;
	}
	doc = list ? json_pack("{s:o, s:I}", "operations", list, "total", (json_int_t)total) : NULL;
	if (doc && total > skip + GROUP_PAGE) {
		char next[32];
		snprintf(next, sizeof(next), "%zu", skip + GROUP_PAGE);
		json_object_set_new(doc, "nextCursor", json_string(next));
	}
	return finish(out, doc, err);
}

static enum moat_rc group_schema(const struct group_tool *g, const json_t *args,
				 struct tool_result *out, struct moat_err *err)
{
	const struct api_tool *op = op_of(g, args, err);
	json_t *doc;

	if (!op)
		return err->rc;
	doc = json_pack("{s:s, s:s, s:s, s:s, s:O, s:b, s:b}", "name", op->name, "description",
			op->description, "method", op->method, "path", op->path, "input_schema",
			op->input_schema, "write", op->write, "confirm", op->confirm);
	if (doc && op->title)
		json_object_set_new(doc, "title", json_string(op->title));
	if (doc && op->tags)
		json_object_set_new(doc, "tags", json_deep_copy(op->tags));
	if (doc)
		json_object_set_new(doc, "call_with",
				    json_sprintf("%s_%s", g->a->name, op->write ? "call_write" : "call"));
	return finish(out, doc, err);
}

/* The operation a call or call_write runs and its arguments, checked: the
 * right tool for its method, arguments valid against its input schema. */
static const struct api_tool *call_target(const struct group_tool *g, const json_t *args,
					  json_t **op_args, struct moat_err *err)
{
	const struct api_tool *op = op_of(g, args, err);
	json_t *given = json_object_get(args, "arguments");
	struct schema_error se;
	char where[MOAT_ERR_MSG_MAX - 128];

	*op_args = NULL; /* a new reference only when an operation is returned */
	if (!op)
		return NULL;
	if (g->kind == G_CALL && op->write) {
		moat_err_rule(err, MOAT_EDENIED, "http.write_operation",
			      "operation %s writes (%s %s): call %s_call_write for it", op->name,
			      op->method, op->path, g->a->name);
		return NULL;
	}
	if (g->kind == G_CALL_WRITE && !op->write) {
		moat_err_rule(err, MOAT_EINVAL, "http.read_operation",
			      "operation %s only reads (%s %s): call %s_call for it", op->name,
			      op->method, op->path, g->a->name);
		return NULL;
	}
	/* none given: {} (the schema may require some) */
	*op_args = given ? json_incref(given) : json_object();
	if (!*op_args) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	if (!schema_validate(op->input, *op_args, &se)) {
		schema_error_format(&se, where, sizeof(where));
		moat_err_rule(err, MOAT_EINVAL, "http.operation_arguments",
			      "the arguments do not match the input schema of operation %s (see "
			      "%s_operation_schema): %s; nothing was sent",
			      op->name, g->a->name, where);
		json_decref(*op_args);
		*op_args = NULL;
		return NULL;
	}
	return op;
}

/* tool_spec.precheck for NAME_call and NAME_call_write: the operation and
 * its arguments checked before the person is asked to confirm a write. */
static enum moat_rc group_precheck(void *data, const json_t *args, struct moat_err *err)
{
	json_t *op_args = NULL;

	if (!call_target(data, args, &op_args, err))
		return err->rc ? err->rc : MOAT_EINVAL;
	json_decref(op_args);
	return MOAT_OK;
}

static enum moat_rc group_call(struct call_ctx *ctx, void *data, json_t *args,
			       struct tool_result *out, struct moat_err *err)
{
	const struct group_tool *g = data;
	const struct api_tool *op;
	json_t *op_args = NULL;
	enum moat_rc rc;

	switch (g->kind) {
	case G_LIST:
		return group_list(g, args, out, err);
	case G_SCHEMA:
		return group_schema(g, args, out, err);
	default:
		break;
	}
	if (!(op = call_target(g, args, &op_args, err)))
		return err->rc ? err->rc : MOAT_EINVAL;
	http_touch(ctx, g->a->fam->cfg, "operation", op->name);
	rc = api_call(ctx, (void *)op, op_args, out, err);
	json_decref(op_args);
	return rc;
}

/* tool_spec.fast for NAME_call: a cacheable read answered from the cache. */
static bool group_fast(struct call_ctx *ctx, void *data, json_t *args, struct tool_result *out,
		       enum moat_rc *rc, struct moat_err *err)
{
	const struct group_tool *g = data;
	struct moat_err ignore = {0};
	json_t *op_args = NULL;
	const struct api_tool *op = call_target(g, args, &op_args, &ignore);
	bool hit = false;

	if (op && op->cacheable) { /* errors are reported by the handler */
		hit = api_fast(ctx, (void *)op, op_args, out, rc, err);
		if (hit)
			http_touch(ctx, g->a->fam->cfg, "operation", op->name);
	}
	json_decref(op_args);
	return hit;
}

/* ---- registration --------------------------------------------------------- */

static enum moat_rc parse_ops(struct api *a, const json_t *ops, struct moat_err *err)
{
	size_t i;
	json_t *v;

	a->ops = calloc(json_array_size(ops) ? json_array_size(ops) : 1, sizeof(*a->ops));
	if (!a->ops)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_array_foreach(ops, i, v) {
		struct api_tool *t = &a->ops[i];
		json_t *in = NULL;
		enum moat_rc rc;

		a->nops = i + 1;
		if ((rc = api_tool_parse(a, t, v, "operation", &in, err))) {
			json_decref(in);
			return rc;
		}
		t->input_schema = in;
		if (!(t->input = schema_compile(in, err))) {
			char inner[MOAT_ERR_MSG_MAX];
			snprintf(inner, sizeof(inner), "%s", err->msg);
			return moat_err_set(err, err->rc ? err->rc : MOAT_EINVAL,
					    "operation %s: input_schema: %s", t->name, inner);
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(a->ops[j].name, t->name) == 0)
				return moat_err_rule(err, MOAT_EINVAL, "http.operation_name",
						     "operation %s is named twice (names are unique "
						     "within an API)", t->name);
	}
	return MOAT_OK;
}

enum moat_rc api_group_register(struct registry *reg, struct api *a, const json_t *ops,
				struct moat_err *err)
{
	static const char *const suffix[G_KINDS] = {"operations", "operation_schema", "call",
						    "call_write"};
	bool writes = false, confirm = false;
	char desc[G_KINDS][1024];
	enum moat_rc rc;

	if ((rc = parse_ops(a, ops, err)))
		return rc;
	for (size_t i = 0; i < a->nops; i++) {
		writes = writes || a->ops[i].write;
		confirm = confirm || (a->ops[i].write && a->ops[i].confirm);
	}
	if (!(a->group = calloc(1, sizeof(*a->group))))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	snprintf(desc[G_LIST], sizeof(desc[0]),
		 "List the %zu operations of the API %s (name, title, method, path, tags, and "
		 "whether it writes), %d a page. Filter with tag, or with query: text the name, "
		 "title, description or path contains (any case). Pass nextCursor back as "
		 "cursor for the next page. Then %s_operation_schema tells an operation's "
		 "arguments, and %s_call runs it%s.",
		 a->nops, a->name, GROUP_PAGE, a->name, a->name,
		 writes ? " (or, for one that writes, _call_write)" : "");
	snprintf(desc[G_SCHEMA], sizeof(desc[0]),
		 "The description, method, path and input_schema of one operation of the API "
		 "%s (names from %s_operations), and which tool runs it.", a->name, a->name);
	snprintf(desc[G_CALL], sizeof(desc[0]),
		 "Run an operation of the API %s that only reads (GET): operation is its name "
		 "(from %s_operations), arguments must match its input_schema (from "
		 "%s_operation_schema).", a->name, a->name, a->name);
	snprintf(desc[G_CALL_WRITE], sizeof(desc[0]),
		 "Run an operation of the API %s that changes something (POST, PUT, PATCH, "
		 "DELETE): operation is its name (from %s_operations), arguments must match "
		 "its input_schema (from %s_operation_schema).%s", a->name, a->name, a->name,
		 confirm ? " The person is asked to confirm each call." : "");
	for (int k = 0; k < G_KINDS; k++) {
		struct group_tool *g = &a->group->tools[k];
		bool read = k != G_CALL_WRITE;
		int w;

		if (k == G_CALL_WRITE && !writes)
			break;
		g->a = a;
		g->kind = (enum group_kind)k;
		w = snprintf(g->name, sizeof(g->name), "%s_%s", a->name, suffix[k]);
		if (w < 0 || w > 64)
			return moat_err_rule(err, MOAT_EINVAL, "http.api_name",
					     "the grouped form's tools are named after the API "
					     "(%s_operation_schema): its name may have at most 47 "
					     "characters", a->name);
		struct tool_spec spec = {
			.name = g->name,
			.description = desc[k],
			.annotations = {.read_only = read ? HINT_TRUE : HINT_FALSE,
					.destructive = read ? HINT_FALSE : HINT_TRUE,
					.idempotent = read ? HINT_TRUE : HINT_FALSE,
					.open_world = k >= G_CALL ? HINT_TRUE : HINT_FALSE},
			.fast = k == G_CALL && a->cache ? group_fast : NULL,
			.precheck = k == G_CALL || k == G_CALL_WRITE ? group_precheck : NULL,
			.handler = group_call,
			.data = g,
		};
		if ((rc = registry_add_texts(reg, spec,
					     k == G_LIST ? list_in : k == G_SCHEMA ? schema_in : call_in,
					     k == G_LIST ? list_out : k == G_SCHEMA ? schema_out : NULL,
					     err)))
			return rc;
	}
	if (confirm && (rc = registry_set_confirm(reg, a->group->tools[G_CALL_WRITE].name, err)))
		return rc;
	return MOAT_OK;
}

void api_group_free(struct api *a)
{
	free(a->group);
	a->group = NULL;
}
