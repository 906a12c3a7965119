/*
 * yaml_json.c - YAML to jansson values over libyaml's event parser.
 *
 * libyaml parses (and checks the encoding); it does not resolve plain
 * scalars to types nor build a tree, so those two are here: a recursive
 * walk of the events, one call per node, with the depth and node caps
 * checked on the way down, and the YAML 1.2 core schema's resolution of
 * plain scalars written out by hand (a dozen patterns; libyaml has none).
 * Aliases are refused rather than expanded, so the output is never larger
 * than the input's own nodes.
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

struct yj {
	yaml_parser_t p;
	size_t max_depth, max_nodes, nodes;
	char *err;
	bool failed;
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

static json_t *mapping(struct yj *y, size_t depth)
{
	json_t *obj = json_object();
	yaml_event_t ev;

	while (obj && next(y, &ev)) {
		char *key;
		json_t *v;
		if (ev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&ev);
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
		if (json_object_get(obj, key)) {
			fail_at(y, &ev.start_mark, "the key '%.64s' appears twice", key);
			free(key);
			yaml_event_delete(&ev);
			break;
		}
		yaml_event_delete(&ev);
		if (++y->nodes > y->max_nodes) {
			fail_at(y, NULL, "more than %zu nodes", y->max_nodes);
			free(key);
			break;
		}
		v = next(y, &ev) ? node(y, &ev, depth + 1) : NULL;
		if (!v || json_object_set_new(obj, key, v) != 0) {
			free(key);
			break;
		}
		free(key);
	}
	json_decref(obj);
	return NULL;
}

/* One node starting with ev (consumed). NULL on failure (y->err set,
 * unless memory ran out). */
static json_t *node(struct yj *y, yaml_event_t *ev, size_t depth)
{
	yaml_mark_t at = ev->start_mark;
	json_t *v = NULL;

	if (++y->nodes > y->max_nodes) {
		fail_at(y, NULL, "more than %zu nodes", y->max_nodes);
		yaml_event_delete(ev);
		return NULL;
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
			return NULL;
		}
		if (depth >= y->max_depth) {
			fail_at(y, &at, "nested deeper than %zu", y->max_depth);
			return NULL;
		}
		v = seq ? sequence(y, depth) : mapping(y, depth);
		break;
	}
	case YAML_ALIAS_EVENT:
		fail_at(y, &at, "aliases (*%.64s) are not supported", ev->data.alias.anchor);
		yaml_event_delete(ev);
		return NULL;
	default:
		fail_at(y, &at, "unexpected YAML event %d", (int)ev->type);
		yaml_event_delete(ev);
		return NULL;
	}
	if (!v)
		fail_at(y, &at, "out of memory");
	return v;
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
		if (json_array_append_new(docs, doc) != 0 || !next(&y, &ev))
			goto fail;
		yaml_event_delete(&ev); /* DOCUMENT-END */
	}
	yaml_parser_delete(&y.p);
	return docs;
fail:
	if (!y.failed)
		fail_at(&y, NULL, "out of memory");
	yaml_parser_delete(&y.p);
	json_decref(docs);
	return NULL;
}
