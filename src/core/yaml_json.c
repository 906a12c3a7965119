/*
 * yaml_json.c - YAML to jansson values over libyaml's event parser.
 *
 * libyaml parses (and checks the encoding); it does not resolve plain
 * scalars to types nor build a tree, so those two are here: a recursive
 * walk of the events, one call per node, with the depth and node caps
 * checked on the way down, and the YAML 1.2 core schema's resolution of
 * plain scalars written out by hand (a dozen patterns; libyaml has none).
 * Aliases are refused rather than expanded, so the output is never larger
 * than the input's own nodes; unless the caller asks for expansion (the
 * OpenAPI importer): then each anchored node is remembered with its node
 * count and height, and an alias is charged that many nodes (and checked
 * against the depth cap) before its deep copy is made, so the budget, not
 * the expansion, bounds time and memory.
 */
#include "yaml_json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define DEF_MAX_BYTES (16u << 20)
#define DEF_MAX_DEPTH 64u
#define DEF_MAX_NODES 1000000u

#define TAG_PREFIX "tag:yaml.org,2002:"

/* An anchored node, kept for its aliases (expand_aliases only). */
struct yj_anchor {
	json_t *v;     /* the node as built (a reference held) */
	size_t nodes;  /* nodes it counted, its own included */
	size_t height; /* collections below it: 0 none (a scalar), else deepest - depth + 1 */
};

struct yj {
	yaml_parser_t p;
	size_t max_depth, max_nodes, nodes;
	char *err;
	bool failed;
	bool aliases;	       /* expand_aliases */
	size_t alias_nodes;    /* nodes charged by aliases so far */
	size_t deepest;	       /* deepest collection's depth + 1 while building (0: none) */
	json_t *anchor_ix;     /* anchor name -> index in anchors (the latest wins) */
	struct yj_anchor *anchors;
	size_t nanchors, cap_anchors;
};



__attribute__((format(printf, 3, 4))) static void fail_at(struct yj *y, const yaml_mark_t *m,
							   const char *fmt, ...)
{
	char what[YAML_JSON_ERR_MAX];
	va_list ap;

	if (y->failed)
		return;
	y->failed = true;
	if (!y->err)
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* A message cut at YAML_JSON_ERR_MAX still says where and what. */
	if (m)
		snprintf(y->err, YAML_JSON_ERR_MAX, "line %zu, column %zu: %.200s", m->line + 1,
			 m->column + 1, what);
	else
		snprintf(y->err, YAML_JSON_ERR_MAX, "%.200s", what);
}

static bool next(struct yj *y, yaml_event_t *ev)
{
	if (yaml_parser_parse(&y->p, ev))
		return true;
	fail_at(y, &y->p.problem_mark, "%s%s%s", y->p.problem ? y->p.problem : "not valid YAML",
		y->p.context ? " " : "", y->p.context ? y->p.context : "");
	return false;
}

/* The node budget ran out; aliases named when they took part. */
static void fail_nodes(struct yj *y)
{
	if (y->alias_nodes)
		fail_at(y, NULL, "aliases expand to more than %zu nodes (a billion-laughs document?)",
			y->max_nodes);
	else
		fail_at(y, NULL, "more than %zu nodes", y->max_nodes);
}

/* ---- plain scalars: the YAML 1.2 core schema ---- */

static bool is_null(const char *s)
{
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

static int bool_of(const char *s)
{
	if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "TRUE"))
		return 1;
	if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "FALSE"))
		return 0;
	return -1;
}

static bool all_of(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

/* An integer: [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+. Out of int64's
 * range: a real (as JSON would read it). */
static json_t *int_of(const char *s)
{
	const char *d = s + (*s == '-' || *s == '+');
	int base = 10;
	long long v;
	char *end;

	if (!strncmp(s, "0o", 2) && all_of(s + 2, "01234567")) {
		base = 8;
		d = s + 2;
	} else if (!strncmp(s, "0x", 2) && all_of(s + 2, "0123456789abcdefABCDEF")) {
		base = 16;
		d = s + 2;
	} else if (!all_of(d, "0123456789")) {
		return NULL;
	}
	errno = 0;
	v = strtoll(base == 10 ? s : d, &end, base);
	if (errno == ERANGE)
		return base == 10 ? json_real(strtod(s, NULL)) : NULL;
	return json_integer(v);
}

/* A float: [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?; *special
 * set for .inf and .nan, which JSON cannot hold. */
static json_t *float_of(const char *s, bool *special)
{
	const char *p = s + (*s == '-' || *s == '+');
	size_t digits = strspn(p, "0123456789"), frac = 0;

	if (!strcmp(p, ".inf") || !strcmp(p, ".Inf") || !strcmp(p, ".INF") || !strcmp(s, ".nan") ||
	    !strcmp(s, ".NaN") || !strcmp(s, ".NAN")) {
		*special = true;
		return NULL;
	}
	p += digits;
	if (*p == '.') {
		frac = strspn(p + 1, "0123456789");
		p += 1 + frac;
	}
	if (digits + frac == 0)
		return NULL;
	if (*p == 'e' || *p == 'E') {
		p++;
		p += (*p == '-' || *p == '+');
		if (!all_of(p, "0123456789"))
			return NULL;
		p += strlen(p);
	}
	if (*p)
		return NULL;
	double v = strtod(s, NULL);
	return isfinite(v) ? json_real(v) : NULL;
}

enum kind { K_ANY, K_STR, K_INT, K_FLOAT, K_BOOL, K_NULL };

static json_t *scalar(struct yj *y, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE, special = false;
	enum kind k = plain ? K_ANY : K_STR;
	json_t *v = NULL;
	int b;

	if (tag && strcmp(tag, "!") != 0) {
		const char *t = strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) == 0
					? tag + strlen(TAG_PREFIX)
					: NULL;
		k = !t			   ? K_ANY
		    : !strcmp(t, "str")	   ? K_STR
		    : !strcmp(t, "int")	   ? K_INT
		    : !strcmp(t, "float") ? K_FLOAT
		    : !strcmp(t, "bool")   ? K_BOOL
		    : !strcmp(t, "null")   ? K_NULL
					   : K_ANY;
		if (k == K_ANY) {
			fail_at(y, &ev->start_mark, "the tag %.64s is not supported", tag);
			return NULL;
		}
	} else if (tag) {
		k = K_STR; /* "! value": the non-specific tag makes a string */
	}
	if (k == K_STR)
		return json_stringn(s, n);
	if (strlen(s) != n) { /* a NUL inside: only a string may hold it */
		fail_at(y, &ev->start_mark, "a NUL byte in a %s scalar", "non-string");
		return NULL;
	}
	if ((k == K_ANY || k == K_NULL) && is_null(s))
		return json_null();
	if ((k == K_ANY || k == K_BOOL) && (b = bool_of(s)) >= 0)
		return json_boolean(b);
	if ((k == K_ANY || k == K_INT) && (v = int_of(s)))
		return v;
	if ((k == K_ANY || k == K_FLOAT) && (v = float_of(s, &special)))
		return v;
	if (special) {
		fail_at(y, &ev->start_mark, "%.32s has no JSON form", s);
		return NULL;
	}
	if (k != K_ANY) {
		fail_at(y, &ev->start_mark, "'%.64s' is not what its tag %.64s says", s, tag);
		return NULL;
	}
	return json_stringn(s, n);
}

/* ---- the tree ---- */

static json_t *node(struct yj *y, yaml_event_t *ev, size_t depth);

static json_t *sequence(struct yj *y, size_t depth)
{
	json_t *arr = json_array();
	yaml_event_t ev;

	while (arr && next(y, &ev)) {
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return arr;
		}
		json_t *v = node(y, &ev, depth + 1);
		if (!v || json_array_append_new(arr, v) != 0)
			break;
	}
	json_decref(arr);
	return NULL;
}

/* A "<<" merge key: plain, untagged, and only when aliases expand. */
static bool is_merge_key(const struct yj *y, const yaml_event_t *ev)
{
	return y->aliases && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       !ev->data.scalar.tag && !strcmp((const char *)ev->data.scalar.value, "<<");
}

/* Apply a "<<" value to obj at the mapping's end: a mapping, or a
 * sequence of mappings (earlier ones win); keys obj sets itself win. */
static bool merge_into(struct yj *y, json_t *obj, json_t *merge, const yaml_mark_t *at)
{
	size_t n = json_is_array(merge) ? json_array_size(merge) : 1;

	for (size_t i = 0; i < n; i++) {
		json_t *m = json_is_array(merge) ? json_array_get(merge, i) : merge;
		const char *k;
		json_t *v;
		if (!json_is_object(m)) {
			fail_at(y, at, "a merge key (<<) takes a mapping or a sequence of mappings");
			return false;
		}
		json_object_foreach(m, k, v)
		{
			if (!json_object_get(obj, k) && json_object_set(obj, k, v) != 0)
				return false;
		}
	}
	return true;
}

static json_t *mapping(struct yj *y, size_t depth)
{
	json_t *obj = json_object(), *merge = NULL;
	yaml_mark_t merge_at = {0};
	yaml_event_t ev;

	while (obj && next(y, &ev)) {
		char *key;
		json_t *v;
		bool is_merge;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
			if (merge && !merge_into(y, obj, merge, &merge_at))
				break;
			json_decref(merge);
			return obj;
		}
		if (ev.type != YAML_SCALAR_EVENT) {
			fail_at(y, &ev.start_mark, "a mapping key must be a scalar");
			yaml_event_delete(&ev);
			break;
		}
		if (strlen((const char *)ev.data.scalar.value) != ev.data.scalar.length ||
		    !(key = strdup((const char *)ev.data.scalar.value))) {
			fail_at(y, &ev.start_mark, "a mapping key holds a NUL byte");
			yaml_event_delete(&ev);
			break;
		}
		is_merge = is_merge_key(y, &ev);
		if (is_merge ? merge != NULL : json_object_get(obj, key) != NULL) {
			fail_at(y, &ev.start_mark, "the key '%.64s' appears twice", key);
			free(key);
			yaml_event_delete(&ev);
			break;
		}
		if (is_merge)
			merge_at = ev.start_mark;
		yaml_event_delete(&ev);
		if (++y->nodes > y->max_nodes) {
			fail_nodes(y);
			free(key);
			break;
		}
		v = next(y, &ev) ? node(y, &ev, depth + 1) : NULL;
		if (v && is_merge) {
			merge = v;
		} else if (!v || json_object_set_new(obj, key, v) != 0) {
			free(key);
			break;
		}
		free(key);
	}
	json_decref(merge);
	json_decref(obj);
	return NULL;
}

/* The anchor an event names, or NULL. */
static const char *anchor_of(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return (const char *)ev->data.scalar.anchor;
	case YAML_SEQUENCE_START_EVENT:
		return (const char *)ev->data.sequence_start.anchor;
	case YAML_MAPPING_START_EVENT:
		return (const char *)ev->data.mapping_start.anchor;
	default:
		return NULL;
	}
}

/* Remember v under name (v's nodes and height given). */
static bool anchor_keep(struct yj *y, const char *name, json_t *v, size_t nodes, size_t height)
{
	if (y->nanchors == y->cap_anchors) {
		size_t cap = y->cap_anchors ? 2 * y->cap_anchors : 16;
		struct yj_anchor *a = realloc(y->anchors, cap * sizeof(*a));
		if (!a)
			return false;
		y->anchors = a;
		y->cap_anchors = cap;
	}
	if ((!y->anchor_ix && !(y->anchor_ix = json_object())) ||
	    json_object_set_new(y->anchor_ix, name, json_integer((json_int_t)y->nanchors)) != 0)
		return false;
	y->anchors[y->nanchors++] = (struct yj_anchor){json_incref(v), nodes, height};
	return true;
}

/* A copy of v's mappings and sequences; scalars, which nothing changes,
 * are shared (a billion-laughs document is mostly scalars). Recursion is
 * bounded: v was built under max_depth. */
static json_t *copy_tree(const json_t *v)
{
	json_t *out, *x;
	const char *k;
	size_t i;

	if (json_is_object(v)) {
		if (!(out = json_object()))
			return NULL;
		json_object_foreach((json_t *)v, k, x)
		{
			if (json_object_set_new(out, k, copy_tree(x)) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	if (json_is_array(v)) {
		if (!(out = json_array()))
			return NULL;
		json_array_foreach(v, i, x)
		{
			if (json_array_append_new(out, copy_tree(x)) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	return json_incref((json_t *)v);
}

/* An alias at depth: a deep copy of its anchor's node, charged first. */
static json_t *alias(struct yj *y, const char *name, const yaml_mark_t *at, size_t depth)
{
	json_t *ix = y->anchor_ix ? json_object_get(y->anchor_ix, name) : NULL;
	const struct yj_anchor *a;
	json_t *v;

	if (!y->aliases) {
		fail_at(y, at, "aliases (*%.64s) are not supported", name);
		return NULL;
	}
	if (!ix) {
		fail_at(y, at, "the alias *%.64s names no anchor before it", name);
		return NULL;
	}
	a = &y->anchors[json_integer_value(ix)];
	/* node() counted the alias itself: the copy's other nodes now. */
	if (a->nodes - 1 > y->max_nodes - y->nodes) {
		y->alias_nodes += a->nodes;
		fail_nodes(y);
		return NULL;
	}
	if (a->height && depth + a->height > y->max_depth) {
		fail_at(y, at, "the alias *%.64s nests deeper than %zu", name, y->max_depth);
		return NULL;
	}
	y->nodes += a->nodes - 1;
	y->alias_nodes += a->nodes;
	if (a->height && depth + a->height > y->deepest)
		y->deepest = depth + a->height;
	v = copy_tree(a->v);
	if (!v)
		fail_at(y, at, "out of memory");
	return v;
}

/* One node starting with ev (consumed). NULL on failure (y->err set,
 * unless memory ran out). */
static json_t *node(struct yj *y, yaml_event_t *ev, size_t depth)
{
	yaml_mark_t at = ev->start_mark;
	json_t *v = NULL;
	char *anchor = NULL;
	size_t nodes0 = y->nodes, deepest0 = y->deepest;

	if (++y->nodes > y->max_nodes) {
		fail_nodes(y);
		yaml_event_delete(ev);
		return NULL;
	}
	if (y->aliases && anchor_of(ev)) {
		if (!(anchor = strdup(anchor_of(ev)))) {
			fail_at(y, &at, "out of memory");
			yaml_event_delete(ev);
			return NULL;
		}
		y->deepest = 0; /* measure this node's own height */
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		v = scalar(y, ev);
		yaml_event_delete(ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
		const char *tag = (const char *)(seq ? ev->data.sequence_start.tag
						     : ev->data.mapping_start.tag);
		bool odd_tag = tag && strcmp(tag, seq ? TAG_PREFIX "seq" : TAG_PREFIX "map") != 0;
		yaml_event_delete(ev);
		if (odd_tag) {
			fail_at(y, &at, "tags on collections are not supported");
			break;
		}
		if (depth >= y->max_depth) {
			fail_at(y, &at, "nested deeper than %zu", y->max_depth);
			break;
		}
		if (depth + 1 > y->deepest)
			y->deepest = depth + 1;
		v = seq ? sequence(y, depth) : mapping(y, depth);
		break;
	}
	case YAML_ALIAS_EVENT: {
		char *name = strdup((const char *)ev->data.alias.anchor);
		yaml_event_delete(ev);
		v = name ? alias(y, name, &at, depth) : NULL;
		free(name);
		break;
	}
	default:
		fail_at(y, &at, "unexpected YAML event %d", (int)ev->type);
		yaml_event_delete(ev);
		break;
	}
	if (v && anchor) {
		size_t height = y->deepest ? y->deepest - depth : 0;
		if (!anchor_keep(y, anchor, v, y->nodes - nodes0, height)) {
			json_decref(v);
			v = NULL;
		}
	}
	if (anchor && y->deepest < deepest0)
		y->deepest = deepest0;
	free(anchor);
	if (!v)
		fail_at(y, &at, "out of memory"); /* unless a reason was given */
	return v;
}

/* Forget the anchors (at a document's end: they do not cross documents). */
static void anchors_clear(struct yj *y)
{
	for (size_t i = 0; i < y->nanchors; i++)
		json_decref(y->anchors[i].v);
	y->nanchors = 0;
	json_decref(y->anchor_ix);
	y->anchor_ix = NULL;
}

json_t *yaml_to_json(const char *buf, size_t len, const struct yaml_json_limits *lim, char *err)
{
	struct yj y = {.err = err};
	size_t max_bytes = lim && lim->max_bytes ? lim->max_bytes : DEF_MAX_BYTES;
	json_t *docs = NULL;
	yaml_event_t ev;

	if (err)
		err[0] = '\0';
	y.max_depth = lim && lim->max_depth ? lim->max_depth : DEF_MAX_DEPTH;
	y.max_nodes = lim && lim->max_nodes ? lim->max_nodes : DEF_MAX_NODES;
	y.aliases = lim && lim->expand_aliases;
	if (len > max_bytes) {
		fail_at(&y, NULL, "larger than %zu bytes", max_bytes);
		return NULL;
	}
	if (!yaml_parser_initialize(&y.p)) {
		fail_at(&y, NULL, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&y.p, (const unsigned char *)buf, len);
	docs = json_array();
	if (!docs || !next(&y, &ev))
		goto fail;
	yaml_event_delete(&ev); /* STREAM-START */
	for (;;) {
		json_t *doc;
		if (!next(&y, &ev))
			goto fail;
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev); /* DOCUMENT-START */
		if (!next(&y, &ev) || !(doc = node(&y, &ev, 0)))
			goto fail;
		anchors_clear(&y);
		if (json_array_append_new(docs, doc) != 0 || !next(&y, &ev))
			goto fail;
		yaml_event_delete(&ev); /* DOCUMENT-END */
	}
	yaml_parser_delete(&y.p);
	free(y.anchors);
	return docs;
fail:
	if (!y.failed)
		fail_at(&y, NULL, "out of memory");
	anchors_clear(&y);
	free(y.anchors);
	yaml_parser_delete(&y.p);
	json_decref(docs);
	return NULL;
}
