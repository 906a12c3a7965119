/*
 * resource_mux.c - one resource_ops in front of every family that serves
 * resources: reads routed by URI scheme, listings paged across families,
 * templates joined. See resource_mux.h.
 */
#include "resource_mux.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The family whose scheme uri starts with ("<scheme>:"), or NULL. URI
 * schemes compare case-insensitively (RFC 3986 §3.1). */
static const struct resource_ops *route(const struct resource_mux *m, const char *uri)
{
	for (size_t i = 0; i < m->n; i++) {
		size_t n = strlen(m->part[i].scheme);
		if (strncasecmp(uri, m->part[i].scheme, n) == 0 && uri[n] == ':')
			return &m->part[i];
	}
	return NULL;
}

static enum moat_rc mux_read(void *data, struct call_ctx *ctx, const char *uri, json_t **out,
			     struct moat_err *err)
{
	const struct resource_mux *m = data;
	const struct resource_ops *ops = route(m, uri);

	if (!ops)
		return moat_err_set(err, MOAT_ENOTFOUND,
				    "resource not found: no tool family serves that URI scheme");
	return ops->read(ops->data, ctx, uri, out, err);
}

/* Splits "<index>:<inner>" into the family index and its own cursor
 * (NULL when empty). False for a cursor the mux did not issue. */
static bool parse_cursor(const struct resource_mux *m, const char *cursor, size_t *idx,
			 const char **inner)
{
	char *end;
	unsigned long v;

	if (cursor[0] < '0' || cursor[0] > '9')
		return false;
	v = strtoul(cursor, &end, 10);
	if (*end != ':' || v >= m->n)
		return false;
	*idx = v;
	*inner = end[1] ? end + 1 : NULL;
	return true;
}

static enum moat_rc mux_list(void *data, struct call_ctx *ctx, const char *cursor,
			     size_t page_size, json_t **out, struct moat_err *err)
{
	const struct resource_mux *m = data;
	const char *inner = NULL;
	size_t i = 0, want = page_size ? page_size : 100;
	json_t *all = json_array();
	char *next = NULL;

	if (!all)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (cursor && !parse_cursor(m, cursor, &i, &inner)) {
		json_decref(all);
		return moat_err_set(err, MOAT_EINVAL, "invalid params: unknown or stale cursor");
	}
	for (; i < m->n; i++, inner = NULL) {
		json_t *page = NULL;
		size_t room = want - json_array_size(all);
		const char *more;
		enum moat_rc rc;

		if (room == 0) {
			/* The page is full: the next listing starts at family i. */
			if (asprintf(&next, "%zu:", i) < 0)
				next = NULL;
			break;
		}
		rc = m->part[i].list(m->part[i].data, ctx, inner, room, &page, err);
		if (rc) {
			json_decref(all);
			return rc;
		}
		json_array_extend(all, json_object_get(page, "resources"));
		more = json_string_value(json_object_get(page, "nextCursor"));
		if (more && asprintf(&next, "%zu:%s", i, more) < 0)
			next = NULL;
		json_decref(page);
		if (more)
			break;
	}
	*out = json_pack("{s:o}", "resources", all);
	if (*out && next)
		json_object_set_new(*out, "nextCursor", json_string(next));
	free(next);
	return *out ? MOAT_OK : moat_err_set(err, MOAT_ENOMEM, "out of memory");
}

enum moat_rc resource_mux_complete(const struct resource_mux *m, const char *uri_template,
				   const char *var, const char *prefix, const json_t *context,
				   json_t *values, size_t max, struct moat_err *err)
{
	const struct resource_ops *ops = route(m, uri_template);

	if (!ops)
		return moat_err_rule(err, MOAT_ENOTFOUND, "completion.unknown_template",
				     "no tool family serves that URI template's scheme");
	if (!ops->complete)
		return MOAT_OK;
	return ops->complete(ops->data, uri_template, var, prefix, context, values, max, err);
}

static enum moat_rc mux_complete(void *data, const char *uri_template, const char *var,
				 const char *prefix, const json_t *context, json_t *values,
				 size_t max, struct moat_err *err)
{
	return resource_mux_complete(data, uri_template, var, prefix, context, values, max, err);
}

static json_t *mux_templates(void *data)
{
	const struct resource_mux *m = data;
	json_t *all = json_array();

	for (size_t i = 0; all && i < m->n; i++) {
		json_t *t;
		if (!m->part[i].templates)
			continue;
		t = m->part[i].templates(m->part[i].data);
		json_array_extend(all, t);
		json_decref(t);
	}
	return all;
}

enum moat_rc resource_mux_add(struct resource_mux *m, const struct resource_ops *ops,
			      struct moat_err *err)
{
	const char *s = ops->scheme;

	if (!s || !*s || strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789+-.") != strlen(s))
		return moat_err_set(err, MOAT_EINVAL,
				    "resources: a family must name the lowercase URI scheme it serves");
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->part[i].scheme, s) == 0)
			return moat_err_set(err, MOAT_EINVAL,
					    "resources: the URI scheme \"%s\" is already served by another family",
					    s);
	if (m->n == RESOURCE_MUX_MAX)
		return moat_err_set(err, MOAT_EINVAL, "resources: at most %d families may serve them",
				    RESOURCE_MUX_MAX);
	m->part[m->n++] = *ops;
	m->combined = (struct resource_ops){.scheme = "*", .list = mux_list, .read = mux_read,
					    .templates = mux_templates, .complete = mux_complete,
					    .data = m};
	return MOAT_OK;
}

const struct resource_ops *resource_mux_ops(const struct resource_mux *m)
{
	if (m->n == 0)
		return NULL;
	return m->n == 1 ? &m->part[0] : &m->combined;
}

enum moat_rc resource_mux_watch(const struct resource_mux *m, const char *uri, bool on,
				struct moat_err *err)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct resource_ops *p = &m->part[i];
		size_t n = strlen(p->scheme);
		if (strncmp(uri, p->scheme, n) != 0 || uri[n] != ':')
			continue;
		if (!p->watch)
			break;
		return p->watch(p->data, uri, on, err);
	}
	return moat_err_rule(err, MOAT_ENOTFOUND, "resources.not_subscribable",
			     "this resource cannot be subscribed to");
}
