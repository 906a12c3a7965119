/*
 * import.c - `moat import openapi`: the document's operations listed in
 * document order, selected (methods, --include/--exclude/--tag,
 * --allow-writes, --max-tools), named, turned into tools (import_op.c),
 * with the API's base_url, credentials (import_security.c) and notes, and
 * assembled into an "http.apis.NAME" section with members in a fixed
 * order (see import.h).
 *
 * Written by hand: this is moat's own mapping from OpenAPI to its config.
 */
#include "import.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_base.h"
#include "import_grouped.h"
#include "import_names.h"
#include "import_op.h"
#include "import_security.h"
#include "import_text.h"
#include "openapi_doc.h"

#define COMMENT_LINES_MAX 50
#define IMPORT_TOOLS_MAX 256 /* the config's limit on an API's "tools" */
#define TAGS_SHOWN 10

static const char *const methods[] = {"get", "put", "post", "delete", "options", "head", "patch",
				       "trace"};

/* Where each operation lives in the document (borrowed from it). */
struct op_src {
	const char *path;
	const json_t *item;
	const json_t *op;
};

struct imp {
	const struct import_opts *o;
	struct oa_doc doc;
	struct import_result *out;
	struct op_src *src;
	json_t *sec_notes, *gen_notes, *op_notes;
};

/* ---- result --------------------------------------------------------------- */

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

void import_result_free(struct import_result *r)
{
	if (!r)
		return;
	json_decref(r->section);
	for (size_t i = 0; i < r->nops; i++) {
		free(r->ops[i].method);
		free(r->ops[i].path);
		free(r->ops[i].operation_id);
		free(r->ops[i].tag);
		free(r->ops[i].tool);
		free(r->ops[i].why);
	}
	free(r->ops);
	strv_free(r->env);
	strv_free(r->notes);
	free(r->title);
	free(r->version);
	memset(r, 0, sizeof(*r));
}

char *import_section_text(const json_t *section)
{
	char *s = json_dumps(section, JSON_INDENT(2) | JSON_PRESERVE_ORDER), *t;
	size_t n;

	if (!s)
		return NULL;
	n = strlen(s);
	t = realloc(s, n + 2);
	if (!t) {
		free(s);
		return NULL;
	}
	t[n] = '\n';
	t[n + 1] = '\0';
	return t;
}

/* ---- listing -------------------------------------------------------------- */

static enum moat_rc oom(struct moat_err *err)
{
	return moat_err_set(err, MOAT_ENOMEM, "out of memory");
}

static enum moat_rc add_op(struct imp *im, json_t *taken, const char *path, const json_t *item,
			   const char *m, const json_t *op, struct moat_err *err)
{
	struct import_result *r = im->out;
	struct import_op *o;
	const char *opid = json_string_value(json_object_get(op, "operationId"));
	const char *tag = json_string_value(json_array_get(json_object_get(op, "tags"), 0));
	char up[8], *base;
	size_t i;

	if (!(r->nops & (r->nops + 1))) { /* grow at 0, 1, 3, 7, ... */
		size_t cap = (r->nops + 1) * 2;
		struct import_op *no = realloc(r->ops, cap * sizeof(*no));
		struct op_src *ns;
		if (!no)
			return oom(err);
		r->ops = no;
		if (!(ns = realloc(im->src, cap * sizeof(*ns))))
			return oom(err);
		im->src = ns;
	}
	o = &r->ops[r->nops];
	memset(o, 0, sizeof(*o));
	r->nops++;
	for (i = 0; m[i] && i + 1 < sizeof(up); i++)
		up[i] = (char)(m[i] - 'a' + 'A');
	up[i] = '\0';
	im->src[r->nops - 1] = (struct op_src){.path = path, .item = item, .op = op};
	o->method = strdup(up);
	o->path = import_text(path, 300, true);
	o->operation_id = opid ? import_text(opid, 200, true) : NULL;
	o->tag = tag ? import_text(tag, 64, true) : NULL;
	o->write = strcmp(m, "get") != 0 && strcmp(m, "head") != 0;
	base = import_tool_base(im->o->name, opid, up, path);
	o->tool = base ? import_name_take(taken, base) : NULL;
	free(base);
	if (!o->method || !o->path || (opid && !o->operation_id) || (tag && !o->tag) || !o->tool)
		return oom(err);
	return MOAT_OK;
}

static enum moat_rc list_ops(struct imp *im, struct moat_err *err)
{
	const json_t *paths = json_object_get(im->doc.root, "paths"), *v;
	json_t *taken = json_object();
	const char *path;
	enum moat_rc rc = MOAT_OK;

	if (!taken)
		return oom(err);
	json_object_foreach((json_t *)paths, path, v) {
		const json_t *item;
		if (strncmp(path, "x-", 2) == 0)
			continue;
		if (!(item = oa_deref(&im->doc, v, err))) {
			rc = err->rc ? err->rc : MOAT_EINVAL;
			goto out;
		}
		for (size_t m = 0; m < sizeof(methods) / sizeof(methods[0]); m++) {
			const json_t *op = json_object_get(item, methods[m]);
			if (json_is_object(op) &&
			    (rc = add_op(im, taken, path, item, methods[m], op, err)))
				goto out;
		}
	}
out:
	json_decref(taken);
	return rc;
}

/* ---- selection ------------------------------------------------------------ */

static bool glob_one(const struct import_globs *g, const char *s)
{
	for (size_t i = 0; s && i < g->n; i++)
		if (fnmatch(g->v[i], s, 0) == 0 || strcmp(g->v[i], s) == 0)
			return true;
	return false;
}

/* Does a pattern of g match the operation: its operationId, path, tool
 * name, or "tag:NAME" for one of its tags? */
static bool glob_op(const struct import_globs *g, const struct import_op *o,
		    const struct op_src *s)
{
	const json_t *v;
	size_t i;

	if (glob_one(g, json_string_value(json_object_get(s->op, "operationId"))) ||
	    glob_one(g, s->path) || glob_one(g, o->tool))
		return true;
	json_array_foreach(json_object_get(s->op, "tags"), i, v) {
		char t[300];
		if (json_is_string(v) &&
		    (size_t)snprintf(t, sizeof(t), "tag:%s", json_string_value(v)) < sizeof(t) &&
		    glob_one(g, t))
			return true;
	}
	return false;
}

static bool tag_op(const struct import_globs *g, const struct op_src *s)
{
	const json_t *v;
	size_t i;

	json_array_foreach(json_object_get(s->op, "tags"), i, v)
		if (glob_one(g, json_string_value(v)))
			return true;
	return false;
}

struct tally {
	size_t selected, writes, filtered, unsupported;
};

static enum moat_rc select_ops(struct imp *im, struct tally *t, struct moat_err *err)
{
	const struct import_opts *o = im->o;

	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < im->out->nops; i++) {
		struct import_op *op = &im->out->ops[i];
		const struct op_src *s = &im->src[i];
		const char *why = NULL;
		if (strcmp(op->method, "OPTIONS") == 0 || strcmp(op->method, "TRACE") == 0) {
			why = "method not supported by the http family";
			t->unsupported++;
		} else if (o->exclude.n && glob_op(&o->exclude, op, s)) {
			why = "excluded by --exclude";
		} else if (o->include.n && !glob_op(&o->include, op, s)) {
			why = "not matched by --include";
		} else if (o->tags.n && !tag_op(&o->tags, s)) {
			why = "not tagged with a --tag";
		} else if (op->write && !o->allow_writes) {
			why = "write: needs --allow-writes";
			t->writes++;
		}
		if (why && !(op->why = strdup(why)))
			return oom(err);
		if (!why) {
			op->selected = true;
			t->selected++;
		} else if (strncmp(why, "excluded", 8) == 0 || strncmp(why, "not ", 4) == 0) {
			t->filtered++;
		}
	}
	return MOAT_OK;
}

static int tag_cmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	json_int_t cx = json_integer_value(json_array_get(x, 1));
	json_int_t cy = json_integer_value(json_array_get(y, 1));

	if (cx != cy)
		return cx > cy ? -1 : 1;
	return strcmp(json_string_value(json_array_get(x, 0)), json_string_value(json_array_get(y, 0)));
}

/* "contacts (120), deals (80), ..." of the selected operations, top ten. */
static void tag_summary(const struct imp *im, char *buf, size_t n)
{
	json_t *count = json_object(), *list = json_array(), *v;
	const char *k;
	size_t len = 0, shown = 0;

	buf[0] = '\0';
	if (!count || !list)
		goto out;
	for (size_t i = 0; i < im->out->nops; i++) {
		const json_t *tags = json_object_get(im->src[i].op, "tags"), *t;
		size_t j;
		if (!im->out->ops[i].selected)
			continue;
		if (!json_array_size(tags))
			json_object_set_new(count, "(no tag)",
					    json_integer(json_integer_value(json_object_get(count, "(no tag)")) + 1));
		json_array_foreach(tags, j, t) {
			char *c = json_is_string(t) ? import_text(json_string_value(t), 40, true) : NULL;
			if (c && *c)
				json_object_set_new(count, c,
						    json_integer(json_integer_value(json_object_get(count, c)) + 1));
			free(c);
		}
	}
	json_object_foreach(count, k, v)
		json_array_append_new(list, json_pack("[s, O]", k, v));
	{
		size_t m = json_array_size(list);
		json_t **arr = calloc(m ? m : 1, sizeof(*arr));
		if (!arr)
			goto out;
		for (size_t i = 0; i < m; i++)
			arr[i] = json_array_get(list, i);
		qsort(arr, m, sizeof(*arr), tag_cmp);
		for (size_t i = 0; i < m && shown < TAGS_SHOWN; i++, shown++) {
			int w = snprintf(buf + len, n - len, "%s%s (%lld)", len ? ", " : "",
					 json_string_value(json_array_get(arr[i], 0)),
					 (long long)json_integer_value(json_array_get(arr[i], 1)));
			if (w < 0 || (size_t)w >= n - len) {
				buf[len] = '\0';
				break;
			}
			len += (size_t)w;
		}
		if (m > shown && len + 16 < n)
			snprintf(buf + len, n - len, ", %zu more", m - shown);
		free(arr);
	}
out:
	json_decref(count);
	json_decref(list);
}

static enum moat_rc refuse_count(const struct imp *im, const struct tally *t, size_t max,
				 struct moat_err *err)
{
	char tags[300];

	tag_summary(im, tags, sizeof(tags));
	if (im->o->grouped)
		return moat_err_rule(err, MOAT_ELIMIT, "import.too_many_tools",
				     "%zu operations selected, more than a grouped API holds (%d); "
				     "tags: %s; narrow with --tag NAME, --include GLOB or --exclude GLOB",
				     t->selected, IMPORT_GROUPED_MAX, tags);
	return moat_err_rule(err, MOAT_ELIMIT, "import.too_many_tools",
			     "%zu operations selected, more than --max-tools %zu%s; tags: %s; narrow "
			     "with --tag NAME or --include GLOB, or use --grouped (three tools in "
			     "front of all operations)",
			     t->selected, max,
			     max == IMPORT_TOOLS_MAX ? " (a section holds at most 256 tools)" : "", tags);
}

static enum moat_rc refuse_none(const struct imp *im, const struct tally *t, struct moat_err *err)
{
	if (im->out->nops == 0)
		return moat_err_rule(err, MOAT_EINVAL, "import.no_operations",
				     "the document has no operations under \"paths\"");
	if (t->writes && t->writes + t->unsupported == im->out->nops)
		return moat_err_rule(err, MOAT_EINVAL, "import.no_operations",
				     "no operation selected: all %zu are writes (POST, PUT, PATCH, "
				     "DELETE); run with --allow-writes to include them (each will ask "
				     "for confirmation)",
				     t->writes);
	if (t->filtered)
		return moat_err_rule(err, MOAT_EINVAL, "import.no_operations",
				     "no operation selected: --include/--exclude/--tag left none of "
				     "%zu%s; run with --list to see operations, tags and names",
				     im->out->nops,
				     t->writes ? " (and some writes need --allow-writes)" : "");
	return moat_err_rule(err, MOAT_EINVAL, "import.no_operations",
			     "no operation selected of %zu (only OPTIONS or TRACE); run with --list "
			     "to see them",
			     im->out->nops);
}

/* ---- assembly ------------------------------------------------------------- */

static bool valid_name(const char *n)
{
	size_t len = n ? strlen(n) : 0;

	if (len < 1 || len > 32 || !(n[0] >= 'a' && n[0] <= 'z'))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '_'))
			return false;
	return true;
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A NULL-terminated copy of the strings of arr; sorted and unique when asked. */
static char **strv(const json_t *arr, bool sorted)
{
	size_t n = json_array_size(arr), k = 0;
	char **v = calloc(n + 1, sizeof(*v));

	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(json_string_value(json_array_get(arr, i))))) {
			strv_free(v);
			return NULL;
		}
	if (!sorted)
		return v;
	qsort(v, n, sizeof(*v), str_cmp);
	for (size_t i = 0; i < n; i++) {
		if (k && strcmp(v[k - 1], v[i]) == 0) {
			free(v[i]);
			v[i] = NULL;
			continue;
		}
		v[k++] = v[i];
		if (k - 1 != i)
			v[i] = NULL;
	}
	v[k] = NULL;
	return v;
}

/* "$comment": the notes, at most COMMENT_LINES_MAX lines. */
static json_t *comment(const json_t *notes)
{
	size_t n = json_array_size(notes), keep = n;
	json_t *c = json_array();
	char more[64];

	if (!c)
		return NULL;
	if (n > COMMENT_LINES_MAX)
		keep = COMMENT_LINES_MAX - 1;
	for (size_t i = 0; i < keep; i++)
		if (json_array_append(c, json_array_get(notes, i))) {
			json_decref(c);
			return NULL;
		}
	if (keep < n) {
		snprintf(more, sizeof(more), "… and %zu more", n - keep);
		if (json_array_append_new(c, json_string(more))) {
			json_decref(c);
			return NULL;
		}
	}
	return c;
}

static enum moat_rc selection_notes(struct imp *im, const struct tally *t)
{
	if (t->writes &&
	    import_note(im->gen_notes, "Skipped %zu write operation%s: run with --allow-writes to "
				       "include them.",
			t->writes, t->writes == 1 ? "" : "s"))
		return MOAT_ENOMEM;
	if (t->filtered &&
	    import_note(im->gen_notes, "Left out %zu operation%s by --include/--exclude/--tag.",
			t->filtered, t->filtered == 1 ? "" : "s"))
		return MOAT_ENOMEM;
	if (t->unsupported &&
	    import_note(im->gen_notes, "Skipped %zu OPTIONS/TRACE operation%s (not sent by moat).",
			t->unsupported, t->unsupported == 1 ? "" : "s"))
		return MOAT_ENOMEM;
	return MOAT_OK;
}

/* The schemes the selected operations use (first alternative each). */
static enum moat_rc schemes_used(const struct imp *im, json_t *used)
{
	const json_t *dsec = json_object_get(im->doc.root, "security");

	for (size_t i = 0; i < im->out->nops; i++) {
		const json_t *s = json_object_get(im->src[i].op, "security");
		if (im->out->ops[i].selected && import_sec_collect(used, s ? s : dsec))
			return MOAT_ENOMEM;
	}
	return MOAT_OK;
}

static enum moat_rc build_tools(struct imp *im, struct import_ctx *c, json_t *items,
				struct moat_err *err)
{
	for (size_t i = 0; i < im->out->nops; i++) {
		struct import_op *o = &im->out->ops[i];
		const struct op_src *s = &im->src[i];
		struct import_op_in in = {.name = o->tool, .method = o->method, .path = s->path,
					  .path_item = s->item, .op = s->op, .write = o->write};
		json_t *tool = NULL;
		char *why = NULL;
		enum moat_rc rc;
		if (!o->selected)
			continue;
		if ((rc = import_op_tool(c, &in, &tool, &why, err))) {
			char inner[MOAT_ERR_MSG_MAX];
			snprintf(inner, sizeof(inner), "%s", err->msg);
			if (rc != MOAT_ENOMEM)
				moat_err_set(err, rc, "%s %s: %s", o->method, o->path, inner);
			return rc;
		}
		if (why) {
			o->selected = false;
			o->why = why;
			continue;
		}
		if (json_array_append_new(items, tool))
			return oom(err);
		im->out->ntools++;
	}
	return MOAT_OK;
}

static enum moat_rc assemble(struct imp *im, struct moat_err *err)
{
	const struct import_opts *o = im->o;
	struct import_result *r = im->out;
	struct import_sec sec = {0};
	struct import_ctx c = {.doc = &im->doc, .opts = o, .notes = im->op_notes};
	json_t *used = json_array(), *items = json_array(), *sect = json_object(), *notes = NULL;
	char *base = NULL;
	bool http = false;
	enum moat_rc rc;

	if (!used || !items || !sect) {
		rc = oom(err);
		goto out;
	}
	if ((rc = import_base_url(im->doc.root, o, &base, &http, err)))
		goto out;
	if (http && (rc = import_note(im->gen_notes,
				      "base_url is plain http: requests and credentials travel "
				      "unencrypted (\"allow_http\": true); prefer https.")))
		goto out;
	if ((rc = schemes_used(im, used)) ||
	    (rc = import_security(&im->doc, o->name, used, &sec, im->sec_notes, err)))
		goto out;
	c.api_headers = sec.headers;
	c.api_query = sec.query;
	if ((rc = build_tools(im, &c, items, err)))
		goto out;
	if (r->ntools == 0) {
		const char *first = "";
		for (size_t i = 0; i < r->nops && !*first; i++)
			if (r->ops[i].why && strncmp(r->ops[i].why, "write:", 6) != 0 &&
			    strncmp(r->ops[i].why, "not ", 4) != 0 &&
			    strncmp(r->ops[i].why, "excluded", 8) != 0)
				first = r->ops[i].why;
		rc = moat_err_rule(err, MOAT_EINVAL, "import.no_operations",
				   "no operation could be imported: every selected one was skipped "
				   "(%s); run with --list to see why",
				   first);
		goto out;
	}
	/* notes: credentials, then the API, then each operation */
	if (!(notes = json_array()) || json_array_extend(notes, im->sec_notes) ||
	    json_array_extend(notes, im->gen_notes) || json_array_extend(notes, im->op_notes)) {
		rc = oom(err);
		goto out;
	}
	import_defuse(notes);
	rc = MOAT_ENOMEM;
	if ((json_array_size(notes) && json_object_set_new(sect, "$comment", comment(notes))) ||
	    json_object_set_new(sect, "base_url", json_string(base)) ||
	    (http && json_object_set_new(sect, "allow_http", json_true())))
		goto oom_out;
	if (o->nallow_addresses) {
		json_t *aa = json_array();
		if (!aa || json_object_set_new(sect, "allow_addresses", aa))
			goto oom_out;
		for (size_t i = 0; i < o->nallow_addresses; i++)
			if (json_array_append_new(aa, json_string(o->allow_addresses[i])))
				goto oom_out;
	}
	if ((json_object_size(sec.headers) && json_object_set(sect, "headers", sec.headers)) ||
	    (json_object_size(sec.query) && json_object_set(sect, "query", sec.query)) ||
	    (c.binary && json_object_set_new(sect, "max_response_bytes",
					     json_integer(IMPORT_BINARY_MAX_BYTES))))
		goto oom_out;
	if (o->grouped) {
		if ((rc = import_grouped_put(sect, items, o->name, notes, err)))
			goto out;
		/* the grouped line joins the comment */
		json_object_set_new(sect, "$comment", comment(notes));
		if (!json_object_get(sect, "$comment"))
			goto oom_out;
		/* keep "$comment" first: rebuild in order */
		{
			json_t *ordered = json_object();
			const char *k;
			json_t *v;
			if (!ordered || json_object_set(ordered, "$comment",
							 json_object_get(sect, "$comment")))
				goto oom_out;
			json_object_foreach(sect, k, v)
				if (strcmp(k, "$comment") && json_object_set(ordered, k, v)) {
					json_decref(ordered);
					goto oom_out;
				}
			json_decref(sect);
			sect = ordered;
		}
	} else if (json_object_set(sect, "tools", items)) {
		goto oom_out;
	}
	if (!(r->env = strv(sec.env, true)) || !(r->notes = strv(notes, false)))
		goto oom_out;
	r->section = sect;
	sect = NULL;
	rc = MOAT_OK;
	goto out;
oom_out:
	rc = oom(err);
out:
	import_sec_free(&sec);
	json_decref(used);
	json_decref(items);
	json_decref(sect);
	json_decref(notes);
	free(base);
	return rc;
}

enum moat_rc import_openapi(const char *buf, size_t len, const struct import_opts *opts,
			    struct import_result *out, struct moat_err *err)
{
	struct imp im = {.o = opts, .out = out};
	struct tally t;
	const char *title;
	size_t max = opts->max_tools ? opts->max_tools : IMPORT_DEFAULT_MAX_TOOLS;

	if (max > IMPORT_TOOLS_MAX)
		max = IMPORT_TOOLS_MAX; /* what a section's "tools" may hold */
	enum moat_rc rc;

	memset(out, 0, sizeof(*out));
	moat_err_clear(err);
	if (!valid_name(opts->name))
		return moat_err_rule(err, MOAT_EINVAL, "import.name",
				     "--name must match ^[a-z][a-z0-9_]{0,31}$ (it starts every tool "
				     "name, e.g. \"crm\" gives crm_get_contact)");
	if ((rc = oa_load(buf, len, NULL, &im.doc, err)))
		return rc;
	im.sec_notes = json_array();
	im.gen_notes = json_array();
	im.op_notes = json_array();
	title = json_string_value(json_object_get(json_object_get(im.doc.root, "info"), "title"));
	if (!im.sec_notes || !im.gen_notes || !im.op_notes ||
	    !(out->version = strdup(im.doc.version)) ||
	    (title && !(out->title = import_text(title, 200, true)))) {
		rc = oom(err);
		goto out;
	}
	if ((rc = list_ops(&im, err)) || (rc = select_ops(&im, &t, err)))
		goto out;
	if (t.selected == 0) {
		rc = refuse_none(&im, &t, err);
		goto out;
	}
	if ((!opts->grouped && t.selected > max) || t.selected > IMPORT_GROUPED_MAX) {
		rc = refuse_count(&im, &t, max, err);
		goto out;
	}
	if ((rc = selection_notes(&im, &t)) == MOAT_ENOMEM) {
		oom(err);
		goto out;
	}
	rc = assemble(&im, err);
out:
	if (rc) {
		json_decref(out->section);
		out->section = NULL;
	}
	json_decref(im.sec_notes);
	json_decref(im.gen_notes);
	json_decref(im.op_notes);
	free(im.src);
	oa_free(&im.doc);
	return rc;
}
