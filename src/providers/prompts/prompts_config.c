/*
 * prompts_config.c - the prompts the config declares (its "prompts"
 * section), offered through prompts/list, prompts/get and completion.
 *
 *   "prompts": {"review_diff": {"title"?, "description",
 *     "arguments"?: [{"name", "title"?, "description"?, "required"?,
 *                     "complete"?: ["value", ...] | "sql.tables" | ...}],
 *     "messages": [{"role": "user"|"assistant", "text": "... {name} ..."}
 *                | {"role", "resource": "file://{path}"}]}}
 *
 * moat.schema.json checks the shapes; this file checks what a schema
 * cannot, with errors naming the JSON pointer: every {name} a template
 * uses is a declared argument, argument names are unique, a completer
 * kind is offered by a configured family, an embedded resource's URI has
 * a literal scheme that a configured family serves (one family per
 * prompt: its read tool is the permission that covers the prompt, so a
 * principal not allowed that tool never sees it). The family is started
 * after every other one (last in providers.c), so their resources and
 * completers are registered when the section is checked.
 *
 * An embedded resource is read at get time through the registry's
 * resource_ops, exactly as resources/read would read it (confined to the
 * roots, the family's own limits), and becomes {type: "resource",
 * resource: {uri, mimeType, text | blob}}.
 *
 * State is built at start-up and read-only afterwards: thread-safe.
 */
#include <stdlib.h>
#include <string.h>

#include "prompt_template.h"
#include "prompts.h"
#include "providers.h"

struct pmsg {
	bool assistant;
	char *text;     /* a text template, or NULL */
	char *resource; /* a URI template, or NULL */
};

struct parg {
	char *name;
	json_t *values; /* declared completion values (owned) or NULL */
	completer_fn fn; /* a family's completer, or NULL */
	void *fn_data;
	const char *tool; /* static: the tool that lists those values, or NULL */
};

/* Which tool lists the values of each completer kind: a principal not
 * allowed it gets none (prompt_spec.arg_tool). */
static const struct {
	const char *kind, *tool;
} kind_tools[] = {
	{"fs.paths", "list_directory"},
	{"sql.databases", "list_databases"},
	{"sql.tables", "list_tables"},
	{"git.repositories", "list_repositories"},
};

struct pdef {
	char *name;
	char *description;
	struct pmsg *msgs;
	size_t nmsgs;
	struct parg *args;
	size_t nargs;
};

static struct {
	struct registry *reg;
	struct pdef *v;
	size_t n;
} st;

static void pdef_free(struct pdef *d)
{
	for (size_t i = 0; i < d->nmsgs; i++) {
		free(d->msgs[i].text);
		free(d->msgs[i].resource);
	}
	for (size_t i = 0; i < d->nargs; i++) {
		free(d->args[i].name);
		json_decref(d->args[i].values);
	}
	free(d->msgs);
	free(d->args);
	free(d->description);
	free(d->name);
}

static void prompts_fini(void)
{
	for (size_t i = 0; i < st.n; i++)
		pdef_free(&st.v[i]);
	free(st.v);
	memset(&st, 0, sizeof(st));
}

/* ---- prompts/get ----------------------------------------------------- */

/* Append {role, content} to msgs; false on ENOMEM. */
static bool add_message(json_t *msgs, bool assistant, json_t *content)
{
	return content && json_array_append_new(msgs, json_pack("{s:s, s:o}", "role",
							       assistant ? "assistant" : "user",
							       "content", content)) == 0;
}

/* Read uri through the family serving it; one message per content. */
static enum moat_rc embed(struct call_ctx *ctx, const struct pmsg *m, const char *uri,
			  json_t *msgs, struct moat_err *err)
{
	const struct resource_ops *ops = registry_resources(st.reg);
	json_t *res = NULL, *c;
	enum moat_rc rc;
	size_t i;

	if (!ops)
		return moat_err_set(err, MOAT_ENOTFOUND, "no tool family serves resources");
	rc = ops->read(ops->data, ctx, uri, &res, err);
	if (rc) {
		char inner[MOAT_ERR_MSG_MAX];
		/* file://a.txt names a host, not a path: say how to write it. */
		bool relative = strncmp(uri, "file://", 7) == 0 && uri[7] != '/';
		memcpy(inner, err->msg, sizeof(inner));
		return moat_err_set(err, rc, "embedded resource: %.400s%s", inner,
				    relative ? " (a path argument must be absolute: file:///dir/file)"
					     : "");
	}
	json_array_foreach(json_object_get(res, "contents"), i, c) {
		if (!add_message(msgs, m->assistant,
				 json_pack("{s:s, s:O}", "type", "resource", "resource", c))) {
			json_decref(res);
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		}
	}
	json_decref(res);
	return MOAT_OK;
}

static enum moat_rc pget(struct call_ctx *ctx, void *data, const json_t *args, json_t **out,
			 struct moat_err *err)
{
	const struct pdef *d = data;
	json_t *msgs = json_array();
	enum moat_rc rc = MOAT_OK;

	if (!msgs)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	for (size_t i = 0; i < d->nmsgs && rc == MOAT_OK; i++) {
		const struct pmsg *m = &d->msgs[i];
		char *s = ptmpl_expand(m->text ? m->text : m->resource, args, !m->text, err);
		if (!s) {
			rc = err->rc ? err->rc : MOAT_ENOMEM;
			break;
		}
		if (m->text) {
			if (!add_message(msgs, m->assistant,
					 json_pack("{s:s, s:s}", "type", "text", "text", s)))
				rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		} else {
			rc = embed(ctx, m, s, msgs, err);
		}
		free(s);
		if (rc == MOAT_OK)
			rc = callctx_check(ctx, err);
	}
	if (rc) {
		json_decref(msgs);
		return rc;
	}
	*out = json_pack("{s:o}", "messages", msgs);
	if (*out && d->description)
		json_object_set_new(*out, "description", json_string(d->description));
	return *out ? MOAT_OK : moat_err_set(err, MOAT_ENOMEM, "out of memory");
}

/* ---- completion ------------------------------------------------------ */

static enum moat_rc pcomplete(void *data, const char *arg, const char *prefix,
			      const json_t *context, json_t *values, size_t max,
			      struct moat_err *err)
{
	const struct pdef *d = data;
	size_t i, n = strlen(prefix);
	json_t *v;

	for (size_t a = 0; a < d->nargs; a++) {
		const struct parg *p = &d->args[a];
		if (strcmp(p->name, arg) != 0)
			continue;
		if (p->fn)
			return p->fn(p->fn_data, prefix, context, values, max, err);
		json_array_foreach(p->values, i, v) {
			if (json_array_size(values) >= max)
				break;
			if (strncmp(json_string_value(v), prefix, n) == 0)
				json_array_append(values, v);
		}
	}
	return MOAT_OK;
}

static const char *parg_tool(void *data, const char *arg)
{
	const struct pdef *d = data;

	for (size_t a = 0; a < d->nargs; a++)
		if (strcmp(d->args[a].name, arg) == 0)
			return d->args[a].tool;
	return NULL;
}

/* ---- the config section ---------------------------------------------- */

/* The template check's view of one prompt: its pointer for messages. */
struct scan_ctx {
	const struct pdef *d;
	const char *where;
	struct moat_err *err;
};

/* ptmpl_name_fn: a placeholder must name a declared argument. */
static bool known_arg(void *ctx, const char *name, size_t n)
{
	struct scan_ctx *sc = ctx;

	for (size_t i = 0; i < sc->d->nargs; i++)
		if (strlen(sc->d->args[i].name) == n && strncmp(sc->d->args[i].name, name, n) == 0)
			return true;
	moat_err_rule(sc->err, MOAT_EINVAL, "config.prompts",
		      "%s: {%.*s} is not a declared argument of this prompt", sc->where, (int)n,
		      name);
	return false;
}

/* registry_resources_allowed's allows, used to learn which read tool
 * covers a scheme: records it and allows. */
static bool probe_tool(const void *ctx, const char *tool)
{
	*(const char **)ctx = tool;
	return true;
}

static enum moat_rc parse_args(const char *pname, const json_t *arr, struct pdef *d,
			       json_t *listing, struct moat_err *err)
{
	size_t i;
	json_t *a;

	d->args = calloc(json_array_size(arr) + 1, sizeof(*d->args));
	if (!d->args)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_array_foreach(arr, i, a) {
		struct parg *p = &d->args[i];
		const char *name = json_string_value(json_object_get(a, "name"));
		json_t *comp = json_object_get(a, "complete");
		json_t *entry = json_deep_copy(a);

		d->nargs = i + 1;
		if (!name || !entry)
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		json_object_del(entry, "complete");
		json_array_append_new(listing, entry);
		for (size_t j = 0; j < i; j++)
			if (strcmp(d->args[j].name, name) == 0)
				return moat_err_rule(err, MOAT_EINVAL, "config.prompts",
						     "/prompts/%s/arguments/%zu/name: '%s' is "
						     "declared twice",
						     pname, i, name);
		if (!(p->name = strdup(name)))
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		if (json_is_array(comp)) {
			p->values = json_deep_copy(comp);
		} else if (json_is_string(comp)) {
			const char *kind = json_string_value(comp);
			if (!registry_completer(st.reg, kind, &p->fn, &p->fn_data))
				return moat_err_rule(err, MOAT_EINVAL, "config.prompts",
						     "/prompts/%s/arguments/%zu/complete: no "
						     "configured family completes %s",
						     pname, i, kind);
			/* An unknown kind lists with a tool no policy names. */
			p->tool = "(unknown completer)";
			for (size_t k = 0; k < sizeof(kind_tools) / sizeof(kind_tools[0]); k++)
				if (strcmp(kind_tools[k].kind, kind) == 0)
					p->tool = kind_tools[k].tool;
		}
	}
	return MOAT_OK;
}

static enum moat_rc parse_messages(const char *pname, const json_t *arr, struct pdef *d,
				   const char **read_tool, struct moat_err *err)
{
	size_t i;
	json_t *m;
	char where[160];

	d->msgs = calloc(json_array_size(arr) + 1, sizeof(*d->msgs));
	if (!d->msgs)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_array_foreach(arr, i, m) {
		struct pmsg *pm = &d->msgs[i];
		const char *text = json_string_value(json_object_get(m, "text"));
		const char *res = json_string_value(json_object_get(m, "resource"));
		struct scan_ctx sc = {.d = d, .where = where, .err = err};
		enum moat_rc rc;

		d->nmsgs = i + 1;
		pm->assistant = strcmp(json_string_value(json_object_get(m, "role")), "assistant") == 0;
		snprintf(where, sizeof(where), "/prompts/%s/messages/%zu/%s", pname, i,
			 text ? "text" : "resource");
		if ((rc = ptmpl_scan(text ? text : res, known_arg, &sc, err))) {
			if (!err->rule || strcmp(err->rule, "config.prompts") != 0) {
				char inner[MOAT_ERR_MSG_MAX];
				memcpy(inner, err->msg, sizeof(inner));
				moat_err_rule(err, rc, "config.prompts", "%s: %s", where, inner);
			}
			return rc;
		}
		if (text) {
			pm->text = strdup(text);
		} else {
			size_t n = ptmpl_scheme_len(res);
			char scheme[64];
			const char *tool = NULL;
			if (n == 0 || n + 2 > sizeof(scheme))
				return moat_err_rule(err, MOAT_EINVAL, "config.prompts",
						     "%s: the URI must start with a literal scheme "
						     "(file:, sql:, ...)",
						     where);
			memcpy(scheme, res, n + 1);
			scheme[n + 1] = '\0';
			if (!registry_resources_allowed(st.reg, scheme, probe_tool, &tool) || !tool)
				return moat_err_rule(err, MOAT_EINVAL, "config.prompts",
						     "%s: no configured family serves %s resources "
						     "(the scheme is lowercase)",
						     where, scheme);
			if (*read_tool && strcmp(*read_tool, tool) != 0)
				return moat_err_rule(err, MOAT_EINVAL, "config.prompts",
						     "%s: a prompt embeds resources of one family "
						     "only",
						     where);
			*read_tool = tool;
			pm->resource = strdup(res);
		}
		if (!pm->text && !pm->resource)
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	return MOAT_OK;
}

static enum moat_rc prompts_init(struct registry *reg, const json_t *section,
				 const struct moat_config *cfg, struct moat_err *err)
{
	const char *name;
	json_t *o;
	enum moat_rc rc = MOAT_OK;

	(void)cfg;
	st.reg = reg;
	st.v = calloc(json_object_size(section) + 1, sizeof(*st.v));
	if (!st.v)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_object_foreach((json_t *)section, name, o) {
		struct pdef *d = &st.v[st.n++];
		const char *desc = json_string_value(json_object_get(o, "description"));
		const char *read_tool = NULL;
		json_t *listing = json_array();
		struct prompt_spec spec;

		if (!listing || !(d->name = strdup(name)) ||
		    (desc && !(d->description = strdup(desc)))) {
			json_decref(listing);
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto fail;
		}
		if ((rc = parse_args(name, json_object_get(o, "arguments"), d, listing, err)) ||
		    (rc = parse_messages(name, json_object_get(o, "messages"), d, &read_tool,
					 err))) {
			json_decref(listing);
			goto fail;
		}
		spec = (struct prompt_spec){
			.name = name,
			.title = json_string_value(json_object_get(o, "title")),
			.description = desc,
			.arguments = listing,
			.get = pget,
			.complete = pcomplete,
			.data = d,
			.read_tool = read_tool,
			.arg_tool = parg_tool,
		};
		rc = prompts_add(registry_prompts(reg), &spec, err);
		json_decref(listing);
		if (rc) {
			char inner[MOAT_ERR_MSG_MAX];
			memcpy(inner, err->msg, sizeof(inner));
			moat_err_set(err, rc, "/prompts/%s: %s", name, inner);
			goto fail;
		}
	}
	return MOAT_OK;
fail:
	prompts_fini();
	return rc;
}

/* moat check: the prompts and what they may read. */
static void prompts_describe(FILE *f)
{
	fprintf(f, "prompts (from the config):\n");
	for (size_t i = 0; i < st.n; i++) {
		size_t embeds = 0;
		for (size_t m = 0; m < st.v[i].nmsgs; m++)
			embeds += st.v[i].msgs[m].resource != NULL;
		fprintf(f, "  %-28s %zu argument%s, %zu message%s", st.v[i].name, st.v[i].nargs, st.v[i].nargs == 1 ? "" : "s", st.v[i].nmsgs,
			st.v[i].nmsgs == 1 ? "" : "s");
		if (embeds)
			fprintf(f, ", %zu embedded resource%s", embeds, embeds == 1 ? "" : "s");
		fputc('\n', f);
	}
}

const struct provider prompts_provider = {
	.name = "prompts",
	.config_key = "prompts",
	.init = prompts_init,
	.fini = prompts_fini,
	.describe = prompts_describe,
};
