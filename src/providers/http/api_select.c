/*
 * api_select.c - response field selection for the declared API tools
 * (apit_select and apit_pointer_check; the rules are in api_template.h).
 *
 * The pointers are compiled into a trie once (two allocations), then the
 * document is walked a single time carrying the set of trie nodes that
 * apply at each level, so several paths merge into one result without a
 * second pass and the work is linear in the parts of the document the
 * paths reach. The recursion is bounded by the longest path (at most
 * APIT_SELECT_DEPTH segments); every member or element looked at is a
 * step, counted and bounded, and the call's deadline and cancellation are
 * checked every SEL_CHECK_EVERY steps.
 */
#include "api_template.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "callctx.h"

/* Longest selection path, in segments. */
#define APIT_SELECT_DEPTH 64

/* Selection: the walk checks the call's deadline and cancellation every
 * SEL_CHECK_EVERY steps (a step: one member or element looked at) and
 * stops at SEL_STEPS_MAX. */
#define SEL_CHECK_EVERY 4096
#define SEL_STEPS_MAX ((uint64_t)50 * 1000 * 1000)

enum moat_rc apit_pointer_check(const char *p, struct moat_err *err)
{
	if (!p)
		return moat_err_set(err, MOAT_EINVAL, "selection path: missing");
	if (*p != '\0' && *p != '/')
		return moat_err_set(err, MOAT_EINVAL, "selection path: must be \"\" or start with '/'");
	size_t segs = 0;

	for (size_t i = 0; p[i]; i++) {
		if (p[i] == '~' && p[i + 1] != '0' && p[i + 1] != '1')
			return moat_err_set(err, MOAT_EINVAL,
					    "selection path: '~' at byte %zu must be followed by '0' or '1'", i);
		segs += p[i] == '/';
	}
	if (segs > APIT_SELECT_DEPTH)
		return moat_err_rule(err, MOAT_EINVAL, "limits.template_depth",
				     "selection path: more than %d segments", APIT_SELECT_DEPTH);
	return MOAT_OK;
}

struct sel_node {
	struct sel_node *child; /* first child (named or star) */
	struct sel_node *next;  /* next sibling */
	struct sel_node *star;  /* the "*" child, also on the child list */
	const char *key;        /* unescaped segment, in the key arena */
	size_t key_len;
	long long index; /* key as an RFC 6901 array index, or -1 */
	bool is_star;    /* this node's segment is "*" */
	bool whole;      /* a path ends here: all below is selected */
};

struct sel {
	struct sel_node *nodes; /* nodes[0] is the root */
	size_t nnodes;
	char *keys; /* arena for unescaped segments */
	size_t keys_len;
	size_t width;                 /* most nodes in one level's set (>= paths) */
	const struct sel_node **sets; /* (depth + 1) rows of width */
	size_t *counts;               /* nodes in each row */
	struct call_ctx *ctx;         /* may be NULL */
	uint64_t steps;               /* members and elements looked at */
};

/* An RFC 6901 array index: "0" or a digit 1-9 then digits (18 at most). */
static long long seg_index(const char *s, size_t n)
{
	long long v = 0;

	if (n == 0 || n > 18 || (n > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* sel_add - put one checked pointer into the trie. The arena and node
 * array were sized for all paths, so this cannot run out. */
static void sel_add(struct sel *s, const char *p)
{
	struct sel_node *node = &s->nodes[0];

	while (*p == '/') {
		const char *end = p + 1;
		char *key = s->keys + s->keys_len;
		size_t n = 0;
		bool star;
		struct sel_node *c;

		while (*end && *end != '/')
			end++;
		star = end - p == 2 && p[1] == '*';
		for (const char *r = p + 1; r < end; r++) {
			if (*r == '~') {
				key[n++] = r[1] == '1' ? '/' : '~';
				r++;
			} else {
				key[n++] = *r;
			}
		}
		for (c = node->child; c; c = c->next)
			if (c->is_star == star && (star || (c->key_len == n && !memcmp(c->key, key, n))))
				break;
		if (!c) {
			c = &s->nodes[s->nnodes++];
			memset(c, 0, sizeof(*c));
			c->key = key;
			c->key_len = n;
			c->is_star = star;
			c->index = star ? -1 : seg_index(key, n);
			c->next = node->child;
			node->child = c;
			if (star)
				node->star = c;
			key[n] = '\0';
			s->keys_len += n + 1;
		}
		node = c;
		p = end;
	}
	node->whole = true;
}

static void sel_free(struct sel *s)
{
	free(s->nodes);
	free(s->keys);
	free(s->sets);
	free(s->counts);
}

static enum moat_rc sel_build(struct sel *s, const json_t *paths, struct moat_err *err)
{
	size_t i, segs = 0, bytes = 1, depth = 0;
	const json_t *v;
	enum moat_rc rc;

	memset(s, 0, sizeof(*s));
	if (!json_is_array(paths))
		return moat_err_set(err, MOAT_EINVAL, "selection paths: must be an array");
	json_array_foreach(paths, i, v) {
		const char *p = json_string_value(v);
		size_t d = 0;

		if (!p)
			return moat_err_set(err, MOAT_EINVAL, "selection paths: each must be a string");
		if ((rc = apit_pointer_check(p, err)))
			return rc;
		for (const char *c = p; *c; c++)
			d += *c == '/';
		segs += d;
		bytes += strlen(p);
		if (d > depth)
			depth = d;
	}
	s->width = json_array_size(paths) ? json_array_size(paths) : 1;
	s->nodes = calloc(segs + 1, sizeof(*s->nodes));
	s->keys = malloc(bytes);
	s->sets = calloc((depth + 1) * s->width, sizeof(*s->sets));
	s->counts = calloc(depth + 1, sizeof(*s->counts));
	if (!s->nodes || !s->keys || !s->sets || !s->counts)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory selecting response fields");
	s->nodes[0].index = -1;
	s->nnodes = 1;
	json_array_foreach(paths, i, v)
		sel_add(s, json_string_value(v));
	return MOAT_OK;
}

/*
 * sel_walk - the part of v that the nodes in row lvl select, into *out;
 * NULL when they select nothing there. An array reached through "*" keeps
 * every element (null where nothing inside was selected), so it is never
 * NULL. Recursion is bounded by the longest path and by v's depth.
 */
/* One step of the walk: counted, and every SEL_CHECK_EVERY steps the
 * call's deadline and cancellation are checked. */
static enum moat_rc sel_step(struct sel *s, struct moat_err *err)
{
	if (++s->steps > SEL_STEPS_MAX)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.select_steps",
				     "selecting response fields took more than %llu steps",
				     (unsigned long long)SEL_STEPS_MAX);
	if (s->ctx && s->steps % SEL_CHECK_EVERY == 0)
		return callctx_check(s->ctx, err);
	return MOAT_OK;
}

static enum moat_rc sel_walk(struct sel *s, const json_t *v, size_t lvl, json_t **out,
			     struct moat_err *err)
{
	const struct sel_node **set = s->sets + lvl * s->width;
	const struct sel_node **next = set + s->width;
	size_t n = s->counts[lvl];
	json_t *res = NULL, *sub;
	enum moat_rc rc;
	bool star = false;

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		if (set[i]->whole) {
			*out = json_deep_copy(v);
			return *out ? MOAT_OK : moat_err_set(err, MOAT_ENOMEM,
							     "out of memory selecting response fields");
		}
		star = star || set[i]->star;
	}
	if (json_is_object(v)) {
		json_t *obj = (json_t *)v; /* iteration does not modify it */

		for (void *it = json_object_iter(obj); it; it = json_object_iter_next(obj, it)) {
			const char *key = json_object_iter_key(it);
			size_t klen = json_object_iter_key_len(it);
			size_t m = 0;

			if ((rc = sel_step(s, err)))
				goto out;
			for (size_t i = 0; i < n; i++)
				for (const struct sel_node *c = set[i]->child; c; c = c->next)
					if (c->is_star || (c->key_len == klen && !memcmp(c->key, key, klen)))
						next[m++] = c;
			if (!m)
				continue;
			s->counts[lvl + 1] = m;
			if ((rc = sel_walk(s, json_object_iter_value(it), lvl + 1, &sub, err)))
				goto out;
			if (!sub)
				continue;
			if (!res && !(res = json_object())) {
				json_decref(sub);
				goto oom;
			}
			if (json_object_setn_new_nocheck(res, key, klen, sub))
				goto oom;
		}
	} else if (json_is_array(v)) {
		size_t len = json_array_size(v);
		long long top = -1;

		/* Without "*" only indexed elements can be selected: stop after
		 * the highest index asked for. */
		for (size_t i = 0; i < n && !star; i++)
			for (const struct sel_node *c = set[i]->child; c; c = c->next)
				if (c->index > top)
					top = c->index;
		if (!star && (top < 0 || (size_t)top + 1 < len))
			len = top < 0 ? 0 : (size_t)top + 1;
		if (star && !(res = json_array()))
			goto oom;
		for (size_t e = 0; e < len; e++) {
			size_t m = 0;

			if ((rc = sel_step(s, err)))
				goto out;
			for (size_t i = 0; i < n; i++)
				for (const struct sel_node *c = set[i]->child; c; c = c->next)
					if (c->is_star || (c->index >= 0 && (size_t)c->index == e))
						next[m++] = c;
			sub = NULL;
			if (m) {
				s->counts[lvl + 1] = m;
				if ((rc = sel_walk(s, json_array_get(v, e), lvl + 1, &sub, err)))
					goto out;
			}
			if (!sub && !star)
				continue;
			if (!res && !(res = json_array())) {
				json_decref(sub);
				goto oom;
			}
			if (json_array_append_new(res, sub ? sub : json_null()))
				goto oom;
		}
	}
	*out = res;
	return MOAT_OK;
oom:
	rc = moat_err_set(err, MOAT_ENOMEM, "out of memory selecting response fields");
out:
	json_decref(res);
	return rc;
}

enum moat_rc apit_select(const json_t *doc, const json_t *paths, struct call_ctx *ctx,
			 json_t **out, struct moat_err *err)
{
	struct sel s;
	enum moat_rc rc;

	*out = NULL;
	if (!doc)
		return moat_err_set(err, MOAT_EINVAL, "selection: no document");
	if (!paths) {
		*out = json_deep_copy(doc);
		return *out ? MOAT_OK : moat_err_set(err, MOAT_ENOMEM,
						     "out of memory selecting response fields");
	}
	if ((rc = sel_build(&s, paths, err)))
		goto out;
	s.sets[0] = &s.nodes[0];
	s.counts[0] = 1;
	s.ctx = ctx;
	if ((rc = sel_walk(&s, doc, 0, out, err)))
		goto out;
	if (!*out) { /* nothing selected: an empty value of doc's kind */
		*out = json_is_object(doc) ? json_object() : json_is_array(doc) ? json_array() : json_null();
		if (!*out)
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory selecting response fields");
	}
out:
	sel_free(&s);
	return rc;
}
