/*
 * openapi_schema.c - oa_schema: an OpenAPI schema with every $ref inlined
 * and translated into the JSON Schema 2020-12 moat's validator compiles.
 * See openapi_doc.h.
 *
 * Bounded by construction: oa_schema recurses once per nesting level and
 * stops at max_schema_depth; a ref does not add a level, but the chain
 * behind one is followed by a loop under max_ref_chain (oa_deref_last);
 * every output node is counted, a cut one too, and past max_schema_nodes
 * the rest is cut (and the loops over siblings stop); values copied as
 * they are (enum, const, default) are copied under the same budget and a
 * depth of their own. A ref whose target is already open on the current
 * branch is recursion: cut there.
 *
 * Keywords are taken from a list (what moat's validator implements, plus
 * a few annotations), so x-*, example, examples, xml, discriminator,
 * externalDocs, $id, $defs and the rest never reach the output; a pattern
 * PCRE2 refuses is dropped with a note; and the result is compiled by
 * moat's own validator before it is returned (oa_schema_compiles), so an
 * imported tool never carries a schema moat would refuse at load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import_text.h"
#include "openapi_int.h"

#define OA_COPY_DEPTH 32 /* nesting of a value copied as it is (enum, default) */

enum cut_kind { CUT_RECURSION, CUT_DEPTH, CUT_NODES, CUT_PATTERN, CUT_VALUE, CUT_KINDS };

struct sctx {
	const struct oa_doc *d;
	enum oa_dir dir;
	struct moat_err *err;
	bool failed;		/* err set: the whole schema fails */
	bool over;		/* the node budget is spent */
	size_t nodes;		/* output nodes so far */
	const json_t **open;	/* ref targets open on the current branch */
	size_t nopen, capopen;
	char path[200];		/* where in the output, for notes */
	size_t plen;
	size_t cuts[CUT_KINDS]; /* how many of each */
	char first[CUT_KINDS][240]; /* the first of each: where (and what) */
};

static const char *const type_names[] = {"null",  "boolean", "object", "array",
					 "number", "string", "integer"};

static const char *const count_kw[] = {"minLength",	"maxLength",	 "minItems",
				       "maxItems",	"minProperties", "maxProperties",
				       "minContains", "maxContains"};

/* Keywords whose value is one schema, and those holding a list or a map
 * of them. */
static const char *const one_schema_kw[] = {"additionalProperties", "contains", "not", "if",
					    "then", "else", "propertyNames"};
static const char *const list_schema_kw[] = {"allOf", "anyOf", "oneOf", "prefixItems"};

static bool in_list(const char *s, const char *const *l, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, l[i]))
			return true;
	return false;
}
#define IN(s, l) in_list((s), (l), sizeof(l) / sizeof(*(l)))

static size_t path_push(struct sctx *c, const char *a, const char *b)
{
	size_t old = c->plen;
	int n = snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "/%s%s%s", a, b ? "/" : "",
			 b ? b : "");
	c->plen = n < 0 || (size_t)n >= sizeof(c->path) - c->plen ? sizeof(c->path) - 1
								    : c->plen + (size_t)n;
	return old;
}

static void path_pop(struct sctx *c, size_t old)
{
	c->plen = old;
	c->path[old] = '\0';
}

/* Count one output node; false once the budget is spent. */
static bool count(struct sctx *c)
{
	if (c->over || ++c->nodes > c->d->lim.max_schema_nodes)
		c->over = true;
	return !c->over;
}

/* Record a cut of kind at the current path; what (may be NULL) names it. */
static void note_cut(struct sctx *c, enum cut_kind k, const char *what)
{
	if (c->cuts[k]++ == 0)
		snprintf(c->first[k], sizeof(c->first[k]), "%s%s%s", c->plen ? c->path : "(root)",
			 what ? " " : "", what ? what : "");
}

/* {} with a "$comment" saying why the schema was cut there. */
static json_t *cut(struct sctx *c, enum cut_kind k, const char *what)
{
	static const char *const why[] = {"a recursive reference", "nested too deep",
					  "too many schema nodes", "", ""};
	char text[200];
	char *clean;
	json_t *o = json_object();

	note_cut(c, k, what);
	snprintf(text, sizeof(text), "cut by moat import: %s%s%s", why[k], what ? " " : "",
		 what ? what : "");
	clean = import_text(text, sizeof(text), true);
	if (!o || !clean || json_object_set_new(o, "$comment", json_string(clean)) != 0) {
		json_decref(o);
		o = NULL;
		c->failed = true;
		moat_err_set(c->err, MOAT_ENOMEM, "out of memory");
	}
	free(clean);
	return o;
}

/* A value copied as it is, counted; NULL past the budget or too deep. */
static json_t *copy_value(struct sctx *c, const json_t *v, size_t depth)
{
	json_t *out;
	if (depth > OA_COPY_DEPTH || !count(c))
		return NULL;
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		if (!(out = json_object()))
			return NULL;
		json_object_foreach((json_t *)v, k, x)
		{
			json_t *y = copy_value(c, x, depth + 1);
			if (!y || json_object_set_new(out, k, y) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *x;
		if (!(out = json_array()))
			return NULL;
		json_array_foreach(v, i, x)
		{
			if (json_array_append_new(out, copy_value(c, x, depth + 1)) != 0) {
				json_decref(out);
				return NULL;
			}
		}
		return out;
	}
	return json_copy((json_t *)v);
}

/* A pattern moat's validator compiles (PCRE2, its options). */
static bool pattern_ok(const char *kw, const char *p)
{
	json_t *s = !strcmp(kw, "pattern") ? json_pack("{s:s}", "pattern", p)
					   : json_pack("{s:{s:{}}}", "patternProperties", p);
	bool ok = s && oa_schema_compiles(s, NULL);
	json_decref(s);
	return ok;
}

static json_t *conv(struct sctx *c, const json_t *s, size_t depth, bool allof_member);

static bool set(struct sctx *c, json_t *o, const char *k, json_t *v)
{
	if (!v || json_object_set_new(o, k, v) != 0) {
		if (!c->failed && !c->over) {
			c->failed = true;
			moat_err_set(c->err, MOAT_ENOMEM, "out of memory");
		}
		return false;
	}
	return true;
}

/* Is the property schema p left out in this direction (readOnly in a
 * request, writeOnly in a response)? The ref's siblings count too. */
static bool left_out(struct sctx *c, const json_t *p)
{
	const char *kw = c->dir == OA_REQUEST ? "readOnly" : "writeOnly";
	const json_t *t;
	if (json_is_true(json_object_get(p, kw)))
		return true;
	t = oa_deref_last(c->d, p, NULL, c->err);
	if (!t) {
		c->failed = true;
		return false;
	}
	return json_is_true(json_object_get(t, kw));
}

/* "properties": each kept property converted; names left out in *gone. */
static json_t *properties(struct sctx *c, const json_t *props, size_t depth, json_t *gone)
{
	json_t *out = json_object(), *p;
	const char *name;

	if (!out)
		return NULL;
	json_object_foreach((json_t *)props, name, p)
	{
		if (c->failed || c->over)
			break;
		if (left_out(c, p)) {
			json_array_append_new(gone, json_string(name));
			continue;
		}
		if (c->failed)
			break;
		size_t old = path_push(c, "properties", name);
		json_t *v = conv(c, p, depth + 1, false);
		path_pop(c, old);
		if (!set(c, out, name, v))
			break;
	}
	return out;
}

static json_t *schema_list(struct sctx *c, const char *kw, const json_t *l, size_t depth)
{
	json_t *out = json_array(), *x;
	size_t i;

	json_array_foreach(l, i, x)
	{
		char ix[24];
		if (!out || c->failed || c->over)
			break;
		snprintf(ix, sizeof(ix), "%zu", i);
		size_t old = path_push(c, kw, ix);
		json_t *v = conv(c, x, depth + 1, !strcmp(kw, "allOf"));
		path_pop(c, old);
		if (!v || json_array_append_new(out, v) != 0)
			break;
	}
	return out;
}

static json_t *schema_map(struct sctx *c, const char *kw, const json_t *m, size_t depth)
{
	json_t *out = json_object(), *x;
	const char *k;

	json_object_foreach((json_t *)m, k, x)
	{
		if (!out || c->failed || c->over)
			break;
		if (!strcmp(kw, "patternProperties") && !pattern_ok(kw, k)) {
			note_cut(c, CUT_PATTERN, NULL);
			continue;
		}
		size_t old = path_push(c, kw, k);
		set(c, out, k, conv(c, x, depth + 1, false));
		path_pop(c, old);
	}
	return out;
}

/* "type": a name or a list of names moat knows ("file" is a binary
 * string); NULL to drop it. */
static json_t *type_of(const json_t *t, json_t *o)
{
	if (json_is_string(t)) {
		const char *n = json_string_value(t);
		if (!strcmp(n, "file")) {
			json_object_set_new(o, "format", json_string("binary"));
			return json_string("string");
		}
		return IN(n, type_names) ? json_copy((json_t *)t) : NULL;
	}
	if (json_is_array(t)) {
		json_t *out = json_array(), *x;
		size_t i;
		json_array_foreach(t, i, x)
		{
			bool dup = false;
			for (size_t j = 0; out && j < json_array_size(out); j++)
				dup = dup || json_equal(json_array_get(out, j), x);
			if (out && json_is_string(x) && !dup && IN(json_string_value(x), type_names))
				json_array_append(out, x);
		}
		if (out && json_array_size(out))
			return out;
		json_decref(out);
	}
	return NULL;
}

/* A keyword whose value is copied as it is; left out (not a failure)
 * when nested too deep or past the budget. */
static void copy_kw(struct sctx *c, json_t *o, const char *k, const json_t *v)
{
	json_t *x = copy_value(c, v, 0);
	if (x && json_object_set_new(o, k, x) != 0) {
		c->failed = true;
		moat_err_set(c->err, MOAT_ENOMEM, "out of memory");
	}
}

/* The strings of a list of property names (others dropped), counted. */
static json_t *names(struct sctx *c, const json_t *v)
{
	json_t *out = json_array(), *x;
	size_t i;
	json_array_foreach(v, i, x)
	{
		if (!out || !count(c))
			break;
		if (json_is_string(x))
			json_array_append(out, x);
	}
	return out;
}

/* values_clean - whether every string in v (a value, or an array's
 * items one level down) is short, valid UTF-8 with nothing import_text
 * would remove: enum, const and default values reach the model and the
 * reviewer's terminal exactly, so they are copied whole or not at all. */
static bool values_clean(const json_t *v, size_t max)
{
	size_t i;
	const json_t *x;

	if (json_is_string(v))
		return import_text_clean(json_string_value(v), max);
	json_array_foreach(v, i, x)
		if (json_is_string(x) && !import_text_clean(json_string_value(x), max))
			return false;
	return true;
}

/* One keyword of a schema object converted into o. */
static void keyword(struct sctx *c, json_t *o, const char *k, const json_t *v, size_t depth,
		    json_t *gone)
{
	if (!strcmp(k, "title") || !strcmp(k, "description")) {
		char *t = json_is_string(v) ? import_text(json_string_value(v), c->d->lim.max_text,
							  !strcmp(k, "title"))
					    : NULL;
		if (t && t[0])
			set(c, o, k, json_string(t));
		free(t);
	} else if (!strcmp(k, "type")) {
		json_t *t = type_of(v, o);
		if (t)
			set(c, o, k, t);
	} else if (!strcmp(k, "enum") || !strcmp(k, "const") || !strcmp(k, "default")) {
		if (!values_clean(v, c->d->lim.max_text))
			note_cut(c, CUT_VALUE, k);
		else if (strcmp(k, "enum") || json_is_array(v))
			copy_kw(c, o, k, v);
	} else if (!strcmp(k, "format")) {
		if (json_is_string(v))
			set(c, o, k, json_copy((json_t *)v));
	} else if (!strcmp(k, "required")) {
		if (json_is_array(v))
			set(c, o, k, names(c, v));
	} else if (!strcmp(k, "dependentRequired")) {
		const char *p;
		json_t *x, *dr = json_is_object(v) ? json_object() : NULL;
		json_object_foreach((json_t *)v, p, x)
		{
			if (dr && json_is_array(x) && json_object_set_new(dr, p, names(c, x)) != 0)
				break;
		}
		if (dr)
			set(c, o, k, dr);
	} else if (IN(k, count_kw)) {
		if ((json_is_integer(v) && json_integer_value(v) >= 0) ||
		    (json_is_real(v) && json_real_value(v) >= 0 && json_real_value(v) < 9e18 &&
		     json_real_value(v) == (double)(json_int_t)json_real_value(v)))
			set(c, o, k, json_integer(json_is_integer(v) ? json_integer_value(v)
							: (json_int_t)json_real_value(v)));
	} else if (!strcmp(k, "minimum") || !strcmp(k, "maximum") ||
		   !strcmp(k, "exclusiveMinimum") || !strcmp(k, "exclusiveMaximum") ||
		   !strcmp(k, "multipleOf")) {
		if (json_is_number(v) && (strcmp(k, "multipleOf") || json_number_value(v) > 0))
			set(c, o, k, json_copy((json_t *)v));
		else if (json_is_boolean(v) && strncmp(k, "exclusive", 9) == 0)
			set(c, o, k, json_copy((json_t *)v)); /* 3.0's form: resolved after */
	} else if (!strcmp(k, "x-nullable") && c->d->major == 2) {
		if (json_is_boolean(v)) /* Swagger 2.0's vendor form of nullable */
			set(c, o, "nullable", json_copy((json_t *)v));
	} else if (!strcmp(k, "uniqueItems") || !strcmp(k, "deprecated") ||
		   !strcmp(k, "readOnly") || !strcmp(k, "writeOnly") || !strcmp(k, "nullable")) {
		if (json_is_boolean(v))
			set(c, o, k, json_copy((json_t *)v));
	} else if (!strcmp(k, "pattern")) {
		if (json_is_string(v) && pattern_ok(k, json_string_value(v)))
			set(c, o, k, json_copy((json_t *)v));
		else
			note_cut(c, CUT_PATTERN, NULL);
	} else if (!strcmp(k, "properties")) {
		if (json_is_object(v))
			set(c, o, k, properties(c, v, depth, gone));
	} else if (!strcmp(k, "patternProperties") || !strcmp(k, "dependentSchemas")) {
		if (json_is_object(v))
			set(c, o, k, schema_map(c, k, v, depth));
	} else if (!strcmp(k, "items")) {
		/* Array-form items (draft 4 tuples) are prefixItems now. */
		if (json_is_array(v)) {
			if (json_array_size(v))
				set(c, o, "prefixItems", schema_list(c, "prefixItems", v, depth));
		} else {
			size_t old = path_push(c, k, NULL);
			set(c, o, k, conv(c, v, depth + 1, false));
			path_pop(c, old);
		}
	} else if (IN(k, list_schema_kw)) {
		if (json_is_array(v) && json_array_size(v))
			set(c, o, k, schema_list(c, k, v, depth));
	} else if (IN(k, one_schema_kw)) {
		size_t old = path_push(c, k, NULL);
		set(c, o, k, conv(c, v, depth + 1, false));
		path_pop(c, old);
	}
	/* Everything else (x-*, example(s), xml, discriminator, externalDocs,
	 * $id, $defs, $comment, content*, unevaluated*, ...) is left out. */
}

/* A schema object (refs already followed; overlay: the $ref's siblings,
 * which win) converted. */
static json_t *conv_obj(struct sctx *c, const json_t *s, const json_t *overlay, size_t depth,
			bool allof_member)
{
	json_t *o = json_object(), *gone = json_array(), *v;
	const char *k;

	if (!o || !gone) {
		json_decref(o);
		json_decref(gone);
		moat_err_set(c->err, MOAT_ENOMEM, "out of memory");
		c->failed = true;
		return NULL;
	}
	json_object_foreach((json_t *)s, k, v)
	{
		if (c->failed || c->over)
			break;
		if (!json_object_get(overlay, k))
			keyword(c, o, k, v, depth, gone);
	}
	json_object_foreach((json_t *)overlay, k, v)
	{
		if (c->failed || c->over)
			break;
		if (strcmp(k, "$ref") != 0)
			keyword(c, o, k, v, depth, gone);
	}
	if (c->failed) {
		json_decref(o);
		json_decref(gone);
		return NULL;
	}
	/* Properties left out are not required either. */
	json_t *req = json_object_get(o, "required");
	for (size_t i = json_array_size(req); json_array_size(gone) && i-- > 0;) {
		for (size_t j = 0; j < json_array_size(gone); j++)
			if (json_equal(json_array_get(req, i), json_array_get(gone, j))) {
				json_array_remove(req, i);
				break;
			}
	}
	json_decref(gone);
	oa_exclusive_bound(o, "exclusiveMinimum", "minimum");
	oa_exclusive_bound(o, "exclusiveMaximum", "maximum");
	if (oa_flatten_allof(o) != 0) {
		json_decref(o);
		moat_err_set(c->err, MOAT_ENOMEM, "out of memory");
		c->failed = true;
		return NULL;
	}
	/* Closed unless the spec says otherwise, or composition needs it open. */
	if (json_object_get(o, "properties") && !json_object_get(o, "additionalProperties") &&
	    !json_object_get(s, "additionalProperties") && !allof_member &&
	    !json_object_get(o, "allOf") && !json_object_get(o, "anyOf") &&
	    !json_object_get(o, "oneOf") && !json_object_get(o, "if") &&
	    !json_object_get(o, "dependentSchemas") &&
	    (!json_object_get(s, "unevaluatedProperties") ||
	     json_is_false(json_object_get(s, "unevaluatedProperties"))))
		json_object_set_new(o, "additionalProperties", json_false());
	return oa_nullable(o);
}

static bool is_open(const struct sctx *c, const json_t *t)
{
	for (size_t i = 0; i < c->nopen; i++)
		if (c->open[i] == t)
			return true;
	return false;
}

static bool push_open(struct sctx *c, const json_t *t)
{
	if (c->nopen == c->capopen) {
		size_t cap = c->capopen ? 2 * c->capopen : 16;
		const json_t **a = realloc(c->open, cap * sizeof(*a));
		if (!a) {
			moat_err_set(c->err, MOAT_ENOMEM, "out of memory");
			c->failed = true;
			return false;
		}
		c->open = a;
		c->capopen = cap;
	}
	c->open[c->nopen++] = t;
	return true;
}

static json_t *conv(struct sctx *c, const json_t *s, size_t depth, bool allof_member)
{
	const json_t *t = s, *overlay = NULL;
	const char *ref = NULL;
	json_t *out;

	if (c->failed)
		return NULL;
	if (!count(c)) /* a cut counts too: its siblings stop */
		return cut(c, CUT_NODES, NULL);
	if (depth >= c->d->lim.max_schema_depth)
		return cut(c, CUT_DEPTH, NULL);
	if (json_is_boolean(s))
		return json_copy((json_t *)s);
	if (!json_is_object(s))
		return json_object(); /* not a schema: anything */
	if (json_object_get(s, "$ref")) {
		if (!(t = oa_deref_last(c->d, s, &ref, c->err))) {
			c->failed = true;
			return NULL;
		}
		overlay = s;
		if (is_open(c, t)) {
			char *r = import_text(ref, 120, true);
			out = cut(c, CUT_RECURSION, r ? r : "");
			free(r);
			return out;
		}
		if (json_is_boolean(t))
			return json_copy((json_t *)t);
		if (!json_is_object(t))
			return json_object();
	}
	if (!push_open(c, t))
		return NULL;
	out = conv_obj(c, t, overlay, depth, allof_member);
	c->nopen--;
	return out;
}

/* The notes of the cuts made, one per kind. */
static void add_notes(const struct sctx *c, json_t *notes)
{
	static const char *const what[] = {
		"a recursive reference was cut at ",
		"the schema was cut (nested deeper than the import's depth cap) at ",
		"the schema was cut (more schema nodes than the import's cap) at ",
		"a pattern moat's validator (PCRE2) cannot compile was dropped at ",
		("an enum, const or default holding invisible or control characters (or longer "
		 "than the text cap) was dropped at "),
	};
	for (int k = 0; notes && k < CUT_KINDS; k++) {
		char more[48] = "", text[400];
		char *clean;
		if (!c->cuts[k])
			continue;
		if (c->cuts[k] > 1)
			snprintf(more, sizeof(more), " (and %zu more)", c->cuts[k] - 1);
		snprintf(text, sizeof(text), "%s%s%s", what[k], c->first[k], more);
		if ((clean = import_text(text, sizeof(text), true)))
			json_array_append_new(notes, json_string(clean));
		free(clean);
	}
}

json_t *oa_schema(const struct oa_doc *d, const json_t *s, enum oa_dir dir, json_t *notes,
		  struct moat_err *err)
{
	struct sctx c = {.d = d, .dir = dir, .err = err};
	json_t *out;
	struct moat_err cerr = {0};

	moat_err_clear(err);
	if (!s)
		return json_object();
	out = conv(&c, s, 0, false);
	free(c.open);
	if (c.failed || !out) {
		json_decref(out);
		if (err && err->rc == MOAT_OK)
			moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	add_notes(&c, notes);
	/* The safety net: what moat cannot compile is not handed on. */
	if (!oa_schema_compiles(out, &cerr)) {
		char text[MOAT_ERR_MSG_MAX + 80];
		char *clean;
		json_decref(out);
		out = json_pack("{s:s}", "$comment",
				"cut by moat import: the schema does not compile in moat");
		snprintf(text, sizeof(text),
			 "a schema moat's validator refuses was replaced by {} (%s)", cerr.msg);
		if (notes && (clean = import_text(text, 400, true))) {
			json_array_append_new(notes, json_string(clean));
			free(clean);
		}
		if (!out)
			moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	return out;
}
