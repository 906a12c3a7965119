/*
 * prompts.c - the table of declared prompts: copies of what each declarer
 * gave, lookup by name, stable paging for prompts/list, the check of a
 * prompts/get's arguments, and hiding (a fixture that changes the list).
 *
 * A prompt is looked up by a linear scan: a config declares a handful, a
 * fixture a dozen, and prompts/get is not a hot path. Cursors are
 * "prompt:<position>", positions in the whole table, so a page boundary
 * does not move when a prompt is hidden or another principal sees fewer.
 */
#include "prompts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

#define PROMPTS_MAX 1024

struct prompts {
	struct prompt **v;
	size_t n;
	size_t cap;
};

struct prompts *prompts_new(void)
{
	return calloc(1, sizeof(struct prompts));
}

static void prompt_free(struct prompt *pr)
{
	if (!pr)
		return;
	free(pr->name);
	free(pr->title);
	free(pr->description);
	json_decref(pr->arguments);
	free(pr);
}

void prompts_free(struct prompts *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		prompt_free(p->v[i]);
	free(p->v);
	free(p);
}

/* ^[A-Za-z0-9_.-]{1,64}$: prompt and argument names alike. */
static bool name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n >= 1 && n <= 64 &&
	       strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* A copy of the listing's arguments: [{"name", "title"?, "description"?,
 * "required"?}] with unique, well-formed names; NULL with err set. */
static json_t *copy_arguments(const char *prompt, const json_t *args, struct moat_err *err)
{
	json_t *out = json_array();
	size_t i;
	json_t *a;

	if (!out) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	if (!json_is_array(args)) {
		moat_err_rule(err, MOAT_EINVAL, "prompts.bad_arguments",
			      "prompt '%s': arguments must be an array", prompt);
		goto fail;
	}
	json_array_foreach(args, i, a) {
		const char *name = json_string_value(json_object_get(a, "name"));
		json_t *req = json_object_get(a, "required");
		const char *key;
		json_t *v, *copy;

		if (!json_is_object(a) || !name_ok(name)) {
			moat_err_rule(err, MOAT_EINVAL, "prompts.bad_arguments",
				      "prompt '%s': argument %zu needs a name matching "
				      "^[A-Za-z0-9_.-]{1,64}$",
				      prompt, i);
			goto fail;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(json_string_value(json_object_get(json_array_get(args, j), "name")),
				   name) == 0) {
				moat_err_rule(err, MOAT_EINVAL, "prompts.bad_arguments",
					      "prompt '%s': argument '%s' is declared twice", prompt,
					      name);
				goto fail;
			}
		}
		if (req && !json_is_boolean(req)) {
			moat_err_rule(err, MOAT_EINVAL, "prompts.bad_arguments",
				      "prompt '%s': argument '%s': required must be a boolean", prompt,
				      name);
			goto fail;
		}
		copy = json_object();
		if (!copy || json_array_append_new(out, copy) != 0) {
			moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto fail;
		}
		json_object_foreach((json_t *)a, key, v) {
			if (strcmp(key, "name") == 0 || strcmp(key, "required") == 0 ||
			    ((strcmp(key, "title") == 0 || strcmp(key, "description") == 0) &&
			     json_is_string(v)))
				json_object_set_new(copy, key, json_deep_copy(v));
		}
	}
	return out;
fail:
	json_decref(out);
	return NULL;
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

enum moat_rc prompts_add(struct prompts *p, const struct prompt_spec *spec,
			 struct moat_err *err)
{
	struct prompt *pr;
	bool oom = false;

	if (!name_ok(spec->name))
		return moat_err_rule(err, MOAT_EINVAL, "prompts.bad_name",
				     "a prompt's name must match ^[A-Za-z0-9_.-]{1,64}$");
	if (!spec->get)
		return moat_err_set(err, MOAT_EINTERNAL, "prompt '%s' has no get function",
				    spec->name);
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->v[i]->name, spec->name) == 0)
			return moat_err_rule(err, MOAT_EINVAL, "prompts.duplicate",
					     "prompt '%s' is declared twice", spec->name);
	if (p->n == PROMPTS_MAX)
		return moat_err_rule(err, MOAT_EINVAL, "prompts.too_many",
				     "at most %d prompts may be declared", PROMPTS_MAX);
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 16;
		struct prompt **v = realloc(p->v, cap * sizeof(*v));
		if (!v)
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		p->v = v;
		p->cap = cap;
	}
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	pr->name = dup_or_null(spec->name, &oom);
	pr->title = dup_or_null(spec->title, &oom);
	pr->description = dup_or_null(spec->description, &oom);
	if (oom) {
		prompt_free(pr);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	if (spec->arguments && !(pr->arguments = copy_arguments(spec->name, spec->arguments, err))) {
		prompt_free(pr);
		return err ? err->rc : MOAT_EINVAL;
	}
	pr->get = spec->get;
	pr->complete = spec->complete;
	pr->data = spec->data;
	pr->read_tool = spec->read_tool;
	pr->arg_tool = spec->arg_tool;
	p->v[p->n++] = pr;
	return MOAT_OK;
}

size_t prompts_count(const struct prompts *p)
{
	return p->n;
}

const struct prompt *prompts_at(const struct prompts *p, size_t i)
{
	return i < p->n ? p->v[i] : NULL;
}

static struct prompt *find_any(const struct prompts *p, const char *name)
{
	for (size_t i = 0; name && i < p->n; i++)
		if (strcmp(p->v[i]->name, name) == 0)
			return p->v[i];
	return NULL;
}

const struct prompt *prompts_find(const struct prompts *p, const char *name)
{
	struct prompt *pr = find_any(p, name);

	return pr && !atomic_load(&pr->hidden) ? pr : NULL;
}

bool prompts_set_hidden(struct prompts *p, const char *name, bool hidden)
{
	struct prompt *pr = find_any(p, name);

	return pr && atomic_exchange(&pr->hidden, hidden) != hidden;
}

json_t *prompts_json(const struct prompt *pr, const struct mcp_features *f)
{
	json_t *o = json_pack("{s:s}", "name", pr->name);
	json_t *args;

	if (!o)
		return NULL;
	if (pr->title && f->titles)
		json_object_set_new(o, "title", json_string(pr->title));
	if (pr->description)
		json_object_set_new(o, "description", json_string(pr->description));
	if (pr->arguments) {
		args = json_deep_copy(pr->arguments);
		if (!f->titles) {
			size_t i;
			json_t *a;
			json_array_foreach(args, i, a)
				json_object_del(a, "title");
		}
		json_object_set_new(o, "arguments", args);
	}
	return o;
}

static bool cursor_decode(const char *cursor, size_t count, size_t *offset)
{
	return text_offset_cursor(cursor, "prompt:", count, offset);
}

static bool visible(const struct prompt *pr, prompts_keep_fn keep, const void *ctx)
{
	return !atomic_load(&pr->hidden) && (!keep || keep(pr, ctx));
}

enum moat_rc prompts_page(const struct prompts *p, const char *cursor, size_t page_size,
			  const struct mcp_features *f, prompts_keep_fn keep, const void *ctx,
			  json_t **out, struct moat_err *err)
{
	size_t start = 0, i, taken = 0;
	json_t *list, *res;

	*out = NULL;
	if (cursor && !cursor_decode(cursor, p->n, &start))
		return moat_err_rule(err, MOAT_EINVAL, "prompts.bad_cursor",
				     "invalid params: unknown or stale cursor");
	if (page_size == 0)
		page_size = p->n ? p->n : 1;
	list = json_array();
	res = json_object();
	if (!list || !res)
		goto nomem;
	for (i = start; i < p->n && taken < page_size; i++) {
		json_t *e;
		if (!visible(p->v[i], keep, ctx))
			continue;
		e = prompts_json(p->v[i], f);
		if (!e || json_array_append_new(list, e) != 0)
			goto nomem;
		taken++;
	}
	/* No page ends with a cursor to an empty one. */
	while (i < p->n && !visible(p->v[i], keep, ctx))
		i++;
	json_object_set_new(res, "prompts", list);
	list = NULL;
	if (i < p->n) {
		char next[32];
		snprintf(next, sizeof(next), "prompt:%zu", i);
		json_object_set_new(res, "nextCursor", json_string(next));
	}
	*out = res;
	return MOAT_OK;
nomem:
	json_decref(list);
	json_decref(res);
	return moat_err_set(err, MOAT_ENOMEM, "out of memory");
}

bool prompts_has_argument(const struct prompt *pr, const char *name)
{
	size_t i;
	json_t *a;

	json_array_foreach(pr->arguments, i, a)
		if (strcmp(json_string_value(json_object_get(a, "name")), name) == 0)
			return true;
	return false;
}

enum moat_rc prompts_check_args(const struct prompt *pr, const json_t *args,
				struct moat_err *err)
{
	const char *key;
	json_t *v, *a;
	size_t i;

	if (args && !json_is_object(args))
		return moat_err_rule(err, MOAT_EINVAL, "prompts.arguments_not_object",
				     "invalid params: arguments must be an object of strings");
	json_object_foreach((json_t *)args, key, v) {
		int n = (int)text_utf8_prefix(key, 64);
		if (!prompts_has_argument(pr, key))
			return moat_err_rule(err, MOAT_EINVAL, "prompts.unknown_argument",
					     "invalid params: prompt '%s' has no argument '%.*s'",
					     pr->name, n, key);
		if (!json_is_string(v))
			return moat_err_rule(err, MOAT_EINVAL, "prompts.argument_not_string",
					     "invalid params: argument '%.*s' must be a string", n,
					     key);
	}
	json_array_foreach(pr->arguments, i, a) {
		const char *name = json_string_value(json_object_get(a, "name"));
		if (json_is_true(json_object_get(a, "required")) &&
		    !json_object_get(args, name))
			return moat_err_rule(err, MOAT_EINVAL, "prompts.missing_argument",
					     "invalid params: prompt '%s' requires argument '%s'",
					     pr->name, name);
	}
	return MOAT_OK;
}
