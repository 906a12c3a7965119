/*
 * schema.c - JSON Schema (draft 2020-12) compiler and validator.
 *
 * schema_compile() walks the schema document once and builds a tree of
 * struct snode, one per subschema, holding every keyword in decoded form
 * (numbers, sorted property tables, compiled PCRE2 regexes, deep copies of
 * enum/const values). Each JSON object of the document is compiled at most
 * once: an identity table maps document nodes to compiled nodes, and "$ref"
 * targets are resolved through that table from a work list after the main
 * walk, so recursive references simply become pointers back into the tree and
 * compilation never loops. Only same-document references ("#", "#/pointer")
 * exist; keywords whose meaning we do not implement but which would change
 * the verdict if ignored ($dynamicRef, $recursiveRef, unevaluated*, $id below
 * the root) make compilation fail rather than silently accepting too much.
 *
 * schema_validate() walks only the compiled tree. All of its state lives in a
 * per-call context on the caller's stack (plus one PCRE2 match data block), so
 * a compiled schema is shared read-only between threads. Every dimension is
 * bounded: recursion depth, total work (node visits), regex backtracking
 * (match/depth/heap limits), and the nesting depth of values compared by
 * enum/const/uniqueItems. Hitting a bound is a validation failure, never a
 * pass: a limit reached inside "not" or "anyOf" aborts the whole validation.
 *
 * Patterns are ECMA-262 text handed to PCRE2 in UTF+UCP mode with the
 * options that bring it closest to ECMAScript: "$" only at the very end
 * (DOLLAR_ENDONLY), "\uXXXX" and "\u{X}" escapes (ALT_BSUX), "[]"/"[^]"
 * classes, "." not crossing any line terminator, and long Unicode category
 * names (\p{Letter}, \p{gc=Lu}) rewritten to the short forms PCRE2 knows. With
 * PCRE2 >= 10.43 "\d" and "\w" are ASCII as in ECMAScript; older PCRE2 makes
 * them Unicode-aware.
 *
 * Error messages name the rule and quote only schema-provided text and
 * property names (bounded and with control characters replaced); instance
 * string values are never copied into a message.
 */
#include "schema.h"
#include "text.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Validation recursion depth (nested subschema applications). */
#define SCHEMA_MAX_DEPTH 128
/* Compile recursion depth (nesting of subschemas in the document). */
#define SCHEMA_COMPILE_MAX_DEPTH 256
/* Node visits per schema_validate() call. */
#define SCHEMA_MAX_STEPS (1u << 24)
/* Nesting depth of values compared by enum, const and uniqueItems. */
#define SCHEMA_EQ_MAX_DEPTH 256
/* PCRE2 limits per match attempt (see pcre2_set_match_limit(3)). */
#define SCHEMA_RE_MATCH_LIMIT 1000000u
#define SCHEMA_RE_DEPTH_LIMIT 10000u
#define SCHEMA_RE_HEAP_LIMIT_KIB 16384u
#define SCHEMA_RE_MAX_PATTERN 16384u
/* Longest property name or pattern quoted in a message, in bytes. */
#define SCHEMA_QUOTE_MAX 64
/* Working buffer for JSON pointers (the error field is smaller). */
#define SCHEMA_PATH_MAX 1024

/* Error-path helpers stay out of line so the recursive validation frames
 * stay small (SCHEMA_MAX_DEPTH of them may be live at once). */
#define SCHEMA_COLD __attribute__((noinline, cold))

enum snode_kind {
	SNODE_TRUE,
	SNODE_FALSE,
	SNODE_SCHEMA,
};

/* Instance type bits for the "type" keyword. */
enum {
	T_NULL = 1u << 0,
	T_BOOLEAN = 1u << 1,
	T_OBJECT = 1u << 2,
	T_ARRAY = 1u << 3,
	T_NUMBER = 1u << 4,
	T_INTEGER = 1u << 5,
	T_STRING = 1u << 6,
};

/* Which optional scalar keywords are present. */
enum {
	F_TYPE = 1u << 0,
	F_CONST = 1u << 1,
	F_MIN_PROPS = 1u << 2,
	F_MAX_PROPS = 1u << 3,
	F_MIN_ITEMS = 1u << 4,
	F_MAX_ITEMS = 1u << 5,
	F_MIN_CONTAINS = 1u << 6,
	F_MAX_CONTAINS = 1u << 7,
	F_UNIQUE = 1u << 8,
	F_MIN_LEN = 1u << 9,
	F_MAX_LEN = 1u << 10,
	F_MINIMUM = 1u << 11,
	F_MAXIMUM = 1u << 12,
	F_XMIN = 1u << 13,
	F_XMAX = 1u << 14,
	F_MULTIPLE = 1u << 15,
};

/* A JSON number as written: integer or real. */
struct snum {
	bool is_int;
	json_int_t i;
	double d;
};

/* A byte string that may contain NUL (jansson keys and strings). */
struct sname {
	char *s;
	size_t len;
};

struct snode;

/* A named subschema: properties, dependentSchemas. */
struct sprop {
	struct sname name;
	const struct snode *schema;
};

/* A compiled regex and (for patternProperties) the subschema it selects. */
struct spattern {
	pcre2_code *re;
	char *src; /* bounded, sanitised copy for messages */
	const struct snode *schema;
};

/* dependentRequired: when name is present, names[] are required. */
struct sdepreq {
	struct sname name;
	struct sname *names;
	size_t n;
};

/* One compiled subschema. Children are borrowed pointers into the same
 * struct schema; every node is owned through the next_alloc list. */
struct snode {
	struct snode *next_alloc;
	enum snode_kind kind;
	unsigned flags;
	unsigned types;
	json_t *enum_vals; /* owned deep copy, or NULL */
	json_t *const_val; /* owned deep copy when F_CONST */
	/* objects */
	struct sprop *props; /* sorted by name */
	size_t nprops;
	struct spattern *pprops;
	size_t npprops;
	const struct snode *additional;
	const struct snode *prop_names;
	struct sname *required;
	size_t nrequired;
	struct sdepreq *dep_req;
	size_t ndep_req;
	struct sprop *dep_schemas;
	size_t ndep_schemas;
	uint64_t min_props, max_props;
	/* arrays */
	const struct snode **prefix;
	size_t nprefix;
	const struct snode *items;
	const struct snode *contains;
	uint64_t min_contains, max_contains;
	uint64_t min_items, max_items;
	/* strings */
	uint64_t min_len, max_len;
	struct spattern pattern; /* re == NULL when absent */
	/* numbers */
	struct snum minimum, maximum, xmin, xmax, multiple;
	/* applicators */
	const struct snode *ref;
	const struct snode **all_of, **any_of, **one_of;
	size_t nall_of, nany_of, none_of;
	const struct snode *not_schema;
	const struct snode *if_schema, *then_schema, *else_schema;
};

struct schema {
	const struct snode *root;
	struct snode *nodes; /* allocation list */
	pcre2_match_context *mctx;
};

static const struct snode snode_true = {.kind = SNODE_TRUE};
static const struct snode snode_false = {.kind = SNODE_FALSE};

/* ------------------------------------------------------------------------ */
/* Small helpers shared by compiler and validator.                           */

/* A JSON pointer under construction; len < sizeof(buf) always. */
struct spath {
	char buf[SCHEMA_PATH_MAX];
	size_t len;
};

/*
 * path_push_key - append "/" and key (escaped per RFC 6901) to p, stopping
 * silently when the buffer is full. Returns the previous length for
 * path_pop(). Not thread-safe on the same p.
 */
static size_t path_push_key(struct spath *p, const char *key, size_t len)
{
	size_t old = p->len;
	size_t cap = sizeof(p->buf) - 1;
	size_t i;

	if (p->len < cap)
		p->buf[p->len++] = '/';
	for (i = 0; i < len && p->len < cap; i++) {
		char ch = key[i];

		if (ch == '~' || ch == '/') {
			if (p->len + 2 > cap) {
				p->len = cap;
				break;
			}
			p->buf[p->len++] = '~';
			p->buf[p->len++] = ch == '~' ? '0' : '1';
		} else {
			p->buf[p->len++] = ch;
		}
	}
	p->buf[p->len] = '\0';
	return old;
}

/* path_push_index - append "/<i>" to p; returns the previous length. */
static size_t path_push_index(struct spath *p, size_t i)
{
	char tmp[32];
	int w = snprintf(tmp, sizeof(tmp), "%zu", i);

	if (w < 0 || (size_t)w >= sizeof(tmp))
		w = 0;
	return path_push_key(p, tmp, (size_t)w);
}

/* path_pop - restore p to a length returned by a push. */
static void path_pop(struct spath *p, size_t old)
{
	p->len = old;
	p->buf[old] = '\0';
}

/*
 * utf8_clip - largest prefix length <= len of s that does not end inside a
 * multi-byte UTF-8 sequence.
 */
static size_t utf8_clip(const char *s, size_t len)
{
	size_t i = len;
	size_t need;
	unsigned char lead;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80 && len - i < 3)
		i--;
	if (i == 0)
		return len;
	lead = (unsigned char)s[i - 1];
	if (lead < 0x80)
		return len;
	if ((lead & 0xE0) == 0xC0)
		need = 2;
	else if ((lead & 0xF0) == 0xE0)
		need = 3;
	else if ((lead & 0xF8) == 0xF0)
		need = 4;
	else
		return len;
	return len - (i - 1) >= need ? len : i - 1;
}

/*
 * copy_pointer - copy the pointer in p into dst (size n), ending with "..."
 * when it does not fit or was already cut short by the path buffer.
 */
static void copy_pointer(char *dst, size_t n, const struct spath *p)
{
	size_t len = p->len;
	bool cut = p->len >= sizeof(p->buf) - 1;

	if (n < 4) {
		if (n)
			dst[0] = '\0';
		return;
	}
	if (len >= n) {
		len = n - 4;
		cut = true;
	} else if (cut && len > n - 4) {
		len = n - 4;
	}
	len = utf8_clip(p->buf, len);
	memcpy(dst, p->buf, len);
	if (cut) {
		memcpy(dst + len, "...", 3);
		len += 3;
	}
	dst[len] = '\0';
}

/*
 * quote_bounded - copy at most SCHEMA_QUOTE_MAX bytes of s (len bytes, may
 * hold NUL) into dst of size n for use inside a message: control characters
 * become '?', a cut never splits a UTF-8 sequence, and "..." marks a cut.
 */
static void quote_bounded(char *dst, size_t n, const char *s, size_t len)
{
	size_t max = SCHEMA_QUOTE_MAX;
	size_t i;
	bool cut = false;

	if (n < 5) {
		if (n)
			dst[0] = '\0';
		return;
	}
	if (max > n - 4)
		max = n - 4;
	if (len > max) {
		len = utf8_clip(s, max);
		cut = true;
	}
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		dst[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	if (cut) {
		memcpy(dst + len, "...", 3);
		len += 3;
	}
	dst[len] = '\0';
}

/* snum_from - read a JSON number into a struct snum. */
static struct snum snum_from(const json_t *v)
{
	struct snum n = {0};

	if (json_is_integer(v)) {
		n.is_int = true;
		n.i = json_integer_value(v);
		n.d = (double)n.i;
	} else {
		n.d = json_real_value(v);
	}
	return n;
}

/* dbl_as_int - if d is integral and inside json_int_t's range, store it. */
static bool dbl_as_int(double d, json_int_t *out)
{
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return false;
	if (d != trunc(d))
		return false;
	*out = (json_int_t)d;
	return true;
}

/* cmp_int_dbl - exact three-way comparison of an integer and a double. */
static int cmp_int_dbl(json_int_t i, double d)
{
	double t;
	json_int_t ti;

	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	t = trunc(d);
	ti = (json_int_t)t;
	if (i != ti)
		return i < ti ? -1 : 1;
	if (d > t)
		return -1;
	if (d < t)
		return 1;
	return 0;
}

/* snum_cmp - exact three-way comparison (1 == 1.0). */
static int snum_cmp(const struct snum *a, const struct snum *b)
{
	if (a->is_int && b->is_int)
		return a->i < b->i ? -1 : a->i > b->i;
	if (a->is_int)
		return cmp_int_dbl(a->i, b->d);
	if (b->is_int)
		return -cmp_int_dbl(b->i, a->d);
	return a->d < b->d ? -1 : a->d > b->d;
}

/* snum_format - print n (a schema value, safe to show) into buf. */
static void snum_format(const struct snum *n, char *buf, size_t size)
{
	int w;

	if (n->is_int) {
		w = snprintf(buf, size, "%" JSON_INTEGER_FORMAT, n->i);
	} else {
		w = snprintf(buf, size, "%.15g", n->d);
		if (w >= 0 && (size_t)w < size && strtod(buf, NULL) != n->d)
			w = snprintf(buf, size, "%.17g", n->d);
	}
	if (w < 0 && size)
		buf[0] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Value equality and hashing (enum, const, uniqueItems).                     */

/*
 * value_eq - JSON equality with numbers compared by value (1 == 1.0).
 * Returns 1 equal, 0 different, -1 when nesting exceeds SCHEMA_EQ_MAX_DEPTH.
 */
static int value_eq(const json_t *a, const json_t *b, unsigned depth)
{
	size_t i, n;

	if (depth > SCHEMA_EQ_MAX_DEPTH)
		return -1;
	if (json_is_number(a) && json_is_number(b)) {
		struct snum x = snum_from(a), y = snum_from(b);

		return snum_cmp(&x, &y) == 0;
	}
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_STRING:
		n = json_string_length(a);
		return n == json_string_length(b) &&
		       memcmp(json_string_value(a), json_string_value(b), n) == 0;
	case JSON_ARRAY:
		n = json_array_size(a);
		if (n != json_array_size(b))
			return 0;
		for (i = 0; i < n; i++) {
			int r = value_eq(json_array_get(a, i), json_array_get(b, i), depth + 1);

			if (r != 1)
				return r;
		}
		return 1;
	case JSON_OBJECT: {
		void *it;

		if (json_object_size(a) != json_object_size(b))
			return 0;
		for (it = json_object_iter((json_t *)a); it;
		     it = json_object_iter_next((json_t *)a, it)) {
			const json_t *bv = json_object_getn(b, json_object_iter_key(it),
							    json_object_iter_key_len(it));
			int r;

			if (!bv)
				return 0;
			r = value_eq(json_object_iter_value(it), bv, depth + 1);
			if (r != 1)
				return r;
		}
		return 1;
	}
	default:
		return 1; /* true, false, null */
	}
}

/* mix64 - splitmix64 finaliser. */
static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}


/*
 * value_hash - hash consistent with value_eq(): equal values hash equally
 * (numbers by value, objects independent of member order). Values nested
 * deeper than SCHEMA_EQ_MAX_DEPTH hash to a constant.
 */
static uint64_t value_hash(const json_t *v, unsigned depth)
{
	uint64_t h;
	size_t i, n;

	if (depth > SCHEMA_EQ_MAX_DEPTH)
		return 0x5eed;
	switch (json_typeof(v)) {
	case JSON_INTEGER:
	case JSON_REAL: {
		struct snum x = snum_from(v);
		json_int_t iv;
		uint64_t bits;

		if (x.is_int)
			return mix64(0x1000 ^ (uint64_t)x.i);
		if (dbl_as_int(x.d, &iv))
			return mix64(0x1000 ^ (uint64_t)iv);
		memcpy(&bits, &x.d, sizeof(bits));
		return mix64(0x2000 ^ bits);
	}
	case JSON_STRING:
		return text_hash(json_string_value(v), json_string_length(v), 0) ^ 0x3000;
	case JSON_ARRAY:
		h = 0x4000;
		n = json_array_size(v);
		for (i = 0; i < n; i++)
			h = mix64(h ^ value_hash(json_array_get(v, i), depth + 1));
		return h;
	case JSON_OBJECT: {
		void *it;

		h = 0x5000;
		for (it = json_object_iter((json_t *)v); it;
		     it = json_object_iter_next((json_t *)v, it)) {
			uint64_t kh =
				text_hash(json_object_iter_key(it), json_object_iter_key_len(it), 0);

			h += mix64(kh ^ mix64(value_hash(json_object_iter_value(it), depth + 1)));
		}
		return h;
	}
	case JSON_TRUE:
		return 0x6001;
	case JSON_FALSE:
		return 0x6002;
	default:
		return 0x6003;
	}
}

/* ------------------------------------------------------------------------ */
/* Compiler.                                                                 */

struct seen_entry {
	const json_t *key;
	struct snode *node;
};

struct pending_ref {
	struct snode *owner;
	const json_t *target;
	char *where; /* schema pointer of the target, for messages */
};

struct cctx {
	struct schema *s;
	const json_t *root;
	struct moat_err *err;
	struct spath ptr;
	unsigned depth;
	struct seen_entry *seen;
	size_t seen_len, seen_cap; /* cap is 0 or a power of two */
	struct pending_ref *pend;
	size_t npend, pend_cap;
	pcre2_compile_context *ccx;
};

/*
 * cfail - record a compile error naming the current schema pointer.
 * Always returns -1.
 */
static int cfail(struct cctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cfail(struct cctx *c, const char *fmt, ...)
{
	char msg[320];
	char where[200];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	copy_pointer(where, sizeof(where), &c->ptr);
	moat_err_set(c->err, MOAT_EINVAL, "schema %s: %s", where[0] ? where : "(root)", msg);
	return -1;
}

/* cnomem - record an allocation failure. Always returns -1. */
static int cnomem(struct cctx *c)
{
	moat_err_set(c->err, MOAT_ENOMEM, "out of memory while compiling schema");
	return -1;
}

/* seen_slot - home slot of key in an identity table of cap (a power of two). */
static size_t seen_slot(const json_t *key, size_t cap)
{
	return (size_t)(mix64((uint64_t)(uintptr_t)key) & (cap - 1));
}

/* seen_get - compiled node for document node key, or NULL. */
static struct snode *seen_get(const struct cctx *c, const json_t *key)
{
	size_t i;

	if (!c->seen_cap)
		return NULL;
	for (i = seen_slot(key, c->seen_cap); c->seen[i].key; i = (i + 1) & (c->seen_cap - 1)) {
		if (c->seen[i].key == key)
			return c->seen[i].node;
	}
	return NULL;
}

/* seen_put - remember that key compiles to node. Returns 0 or -1 (ENOMEM). */
static int seen_put(struct cctx *c, const json_t *key, struct snode *node)
{
	size_t i;

	if ((c->seen_len + 1) * 2 > c->seen_cap) {
		size_t ncap = c->seen_cap ? c->seen_cap * 2 : 64;
		struct seen_entry *nt = calloc(ncap, sizeof(*nt));

		if (!nt)
			return cnomem(c);
		for (i = 0; i < c->seen_cap; i++) {
			size_t j;

			if (!c->seen[i].key)
				continue;
			for (j = seen_slot(c->seen[i].key, ncap); nt[j].key;
			     j = (j + 1) & (ncap - 1))
				;
			nt[j] = c->seen[i];
		}
		free(c->seen);
		c->seen = nt;
		c->seen_cap = ncap;
	}
	for (i = seen_slot(key, c->seen_cap); c->seen[i].key; i = (i + 1) & (c->seen_cap - 1))
		;
	c->seen[i].key = key;
	c->seen[i].node = node;
	c->seen_len++;
	return 0;
}

/* xcalloc_array - calloc(n, size) with the allocation failure recorded. */
static void *xcalloc_array(struct cctx *c, size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		cnomem(c);
	return p;
}

/* sname_dup - copy len bytes of s into a NUL-terminated heap string. */
static int sname_dup(struct cctx *c, struct sname *dst, const char *s, size_t len)
{
	dst->s = malloc(len + 1);
	if (!dst->s)
		return cnomem(c);
	memcpy(dst->s, s, len);
	dst->s[len] = '\0';
	dst->len = len;
	return 0;
}

static const struct snode *c_node(struct cctx *c, const json_t *j);

/* c_kw_schema - compile j[kw] (if present) as a subschema into *out. */
static int c_kw_schema(struct cctx *c, const json_t *j, const char *kw, const struct snode **out)
{
	const json_t *v = json_object_get(j, kw);
	size_t old;

	if (!v)
		return 0;
	old = path_push_key(&c->ptr, kw, strlen(kw));
	*out = c_node(c, v);
	path_pop(&c->ptr, old);
	return *out ? 0 : -1;
}

/* c_kw_schema_array - compile j[kw], a non-empty array of subschemas. */
static int c_kw_schema_array(struct cctx *c, const json_t *j, const char *kw,
			     const struct snode ***out, size_t *nout)
{
	const json_t *v = json_object_get(j, kw);
	size_t old, i, n;
	int rc = -1;

	if (!v)
		return 0;
	old = path_push_key(&c->ptr, kw, strlen(kw));
	if (!json_is_array(v) || json_array_size(v) == 0) {
		cfail(c, "must be a non-empty array of schemas");
		goto out;
	}
	n = json_array_size(v);
	*out = xcalloc_array(c, n, sizeof(**out));
	if (!*out)
		goto out;
	*nout = n;
	for (i = 0; i < n; i++) {
		size_t o2 = path_push_index(&c->ptr, i);

		(*out)[i] = c_node(c, json_array_get(v, i));
		path_pop(&c->ptr, o2);
		if (!(*out)[i])
			goto out;
	}
	rc = 0;
out:
	path_pop(&c->ptr, old);
	return rc;
}

/* c_kw_count - read j[kw] as a non-negative integer (1.0 accepted). */
static int c_kw_count(struct cctx *c, const json_t *j, const char *kw, unsigned flag,
		      struct snode *n, uint64_t *out)
{
	const json_t *v = json_object_get(j, kw);
	size_t old;
	int rc = -1;

	if (!v)
		return 0;
	old = path_push_key(&c->ptr, kw, strlen(kw));
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (uint64_t)json_integer_value(v);
	} else if (json_is_real(v) && json_real_value(v) >= 0 &&
		   json_real_value(v) == trunc(json_real_value(v))) {
		double d = json_real_value(v);

		*out = d >= 18446744073709551616.0 ? UINT64_MAX : (uint64_t)d;
	} else {
		cfail(c, "must be a non-negative integer");
		goto out;
	}
	n->flags |= flag;
	rc = 0;
out:
	path_pop(&c->ptr, old);
	return rc;
}

/* c_kw_number - read j[kw] as a number; positive requires > 0. */
static int c_kw_number(struct cctx *c, const json_t *j, const char *kw, unsigned flag,
		       bool positive, struct snode *n, struct snum *out)
{
	const json_t *v = json_object_get(j, kw);
	size_t old;
	int rc = -1;

	if (!v)
		return 0;
	old = path_push_key(&c->ptr, kw, strlen(kw));
	if (!json_is_number(v)) {
		cfail(c, "must be a number");
		goto out;
	}
	*out = snum_from(v);
	if (positive && !(out->is_int ? out->i > 0 : out->d > 0)) {
		cfail(c, "must be a number greater than 0");
		goto out;
	}
	n->flags |= flag;
	rc = 0;
out:
	path_pop(&c->ptr, old);
	return rc;
}

/* c_string_list - read v as an array of strings into *out (owned). */
static int c_string_list(struct cctx *c, const json_t *v, struct sname **out, size_t *nout)
{
	size_t i, n;

	if (!json_is_array(v))
		return cfail(c, "must be an array of strings");
	n = json_array_size(v);
	*out = xcalloc_array(c, n, sizeof(**out));
	if (!*out)
		return -1;
	*nout = n;
	for (i = 0; i < n; i++) {
		const json_t *e = json_array_get(v, i);
		size_t old;

		if (!json_is_string(e)) {
			old = path_push_index(&c->ptr, i);
			cfail(c, "must be a string");
			path_pop(&c->ptr, old);
			return -1;
		}
		if (sname_dup(c, &(*out)[i], json_string_value(e), json_string_length(e)))
			return -1;
	}
	return 0;
}

/* Long Unicode General_Category names (ECMA-262) that PCRE2 10.42 lacks. */
static const struct {
	const char *name;
	const char *pcre;
} gc_names[] = {
	{"Cased_Letter", "L&"},
	{"Close_Punctuation", "Pe"},
	{"Connector_Punctuation", "Pc"},
	{"Control", "Cc"},
	{"cntrl", "Cc"},
	{"Currency_Symbol", "Sc"},
	{"Dash_Punctuation", "Pd"},
	{"Decimal_Number", "Nd"},
	{"digit", "Nd"},
	{"Enclosing_Mark", "Me"},
	{"Final_Punctuation", "Pf"},
	{"Format", "Cf"},
	{"Initial_Punctuation", "Pi"},
	{"Letter", "L"},
	{"Letter_Number", "Nl"},
	{"Line_Separator", "Zl"},
	{"Lowercase_Letter", "Ll"},
	{"Mark", "M"},
	{"Combining_Mark", "M"},
	{"Math_Symbol", "Sm"},
	{"Modifier_Letter", "Lm"},
	{"Modifier_Symbol", "Sk"},
	{"Nonspacing_Mark", "Mn"},
	{"Number", "N"},
	{"Open_Punctuation", "Ps"},
	{"Other", "C"},
	{"Other_Letter", "Lo"},
	{"Other_Number", "No"},
	{"Other_Punctuation", "Po"},
	{"Other_Symbol", "So"},
	{"Paragraph_Separator", "Zp"},
	{"Private_Use", "Co"},
	{"Punctuation", "P"},
	{"punct", "P"},
	{"Separator", "Z"},
	{"Space_Separator", "Zs"},
	{"Spacing_Mark", "Mc"},
	{"Surrogate", "Cs"},
	{"Symbol", "S"},
	{"Titlecase_Letter", "Lt"},
	{"Unassigned", "Cn"},
	{"Uppercase_Letter", "Lu"},
};

/*
 * re_translate - copy an ECMA-262 pattern into out (capacity >= len + 1),
 * rewriting \p{Long_Category}, \p{gc=X} and \p{General_Category=X} to the
 * short names PCRE2 knows. Everything else is copied unchanged. Returns the
 * output length (never longer than the input).
 */
static size_t re_translate(const char *p, size_t len, char *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		if (p[i] == '\\' && i + 2 < len && (p[i + 1] == 'p' || p[i + 1] == 'P') &&
		    p[i + 2] == '{') {
			const char *name = p + i + 3;
			const char *close = memchr(name, '}', len - (i + 3));
			size_t nlen, k;
			const char *mapped = NULL;

			if (close) {
				nlen = (size_t)(close - name);
				if (nlen > 3 && memcmp(name, "gc=", 3) == 0) {
					name += 3;
					nlen -= 3;
				} else if (nlen > 17 &&
					   memcmp(name, "General_Category=", 17) == 0) {
					name += 17;
					nlen -= 17;
				}
				for (k = 0; k < sizeof(gc_names) / sizeof(gc_names[0]); k++) {
					if (strlen(gc_names[k].name) == nlen &&
					    memcmp(gc_names[k].name, name, nlen) == 0) {
						mapped = gc_names[k].pcre;
						break;
					}
				}
				if (!mapped) {
					mapped = name;
				} else {
					nlen = strlen(mapped);
				}
				out[o++] = '\\';
				out[o++] = p[i + 1];
				out[o++] = '{';
				memcpy(out + o, mapped, nlen);
				o += nlen;
				out[o++] = '}';
				i = (size_t)(close - p) + 1;
				continue;
			}
		}
		if (p[i] == '\\' && i + 1 < len) {
			out[o++] = p[i++];
		}
		out[o++] = p[i++];
	}
	out[o] = '\0';
	return o;
}

/* c_regex - compile pattern v (a JSON string) into *pat. */
static int c_regex(struct cctx *c, const char *src, size_t len, struct spattern *pat)
{
	char *buf = NULL;
	size_t blen;
	int errcode = 0;
	PCRE2_SIZE erroff = 0;
	int rc = -1;

	buf = malloc(len + 1);
	if (!buf) {
		cnomem(c);
		goto out;
	}
	blen = re_translate(src, len, buf);
	pat->re = pcre2_compile((PCRE2_SPTR)buf, blen,
				PCRE2_UTF | PCRE2_UCP | PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_BSUX |
					PCRE2_ALLOW_EMPTY_CLASS | PCRE2_NEVER_BACKSLASH_C,
				&errcode, &erroff, c->ccx);
	if (!pat->re) {
		PCRE2_UCHAR ebuf[160];

		if (pcre2_get_error_message(errcode, ebuf, sizeof(ebuf)) < 0)
			(void)snprintf((char *)ebuf, sizeof(ebuf), "error %d", errcode);
		cfail(c, "invalid regular expression (at offset %zu): %s", (size_t)erroff,
		      (char *)ebuf);
		goto out;
	}
	pat->src = malloc(SCHEMA_QUOTE_MAX + 4);
	if (!pat->src) {
		cnomem(c);
		goto out;
	}
	quote_bounded(pat->src, SCHEMA_QUOTE_MAX + 4, src, len);
	rc = 0;
out:
	free(buf);
	return rc;
}

/* c_type - compile the "type" keyword value v into n->types. */
static int c_type(struct cctx *c, struct snode *n, const json_t *v)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{"null", T_NULL},     {"boolean", T_BOOLEAN}, {"object", T_OBJECT},
		{"array", T_ARRAY},   {"number", T_NUMBER},   {"integer", T_INTEGER},
		{"string", T_STRING},
	};
	size_t i, k, count = json_is_array(v) ? json_array_size(v) : 1;

	if (!json_is_string(v) && !(json_is_array(v) && count > 0))
		return cfail(c, "must be a type name or a non-empty array of type names");
	for (i = 0; i < count; i++) {
		const json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
		bool found = false;

		for (k = 0; json_is_string(e) && k < sizeof(names) / sizeof(names[0]); k++) {
			if (strcmp(json_string_value(e), names[k].name) == 0 &&
			    json_string_length(e) == strlen(names[k].name)) {
				n->types |= names[k].bit;
				found = true;
				break;
			}
		}
		if (!found) {
			char q[SCHEMA_QUOTE_MAX + 4] = "";

			if (json_is_string(e))
				quote_bounded(q, sizeof(q), json_string_value(e),
					      json_string_length(e));
			return cfail(c, "unknown type '%s'", q);
		}
	}
	n->flags |= F_TYPE;
	return 0;
}

/* prop_cmp - order struct sprop by name bytes, then length. */
static int prop_cmp(const void *a, const void *b)
{
	const struct sname *x = &((const struct sprop *)a)->name;
	const struct sname *y = &((const struct sprop *)b)->name;
	size_t m = x->len < y->len ? x->len : y->len;
	int r = memcmp(x->s, y->s, m);

	if (r)
		return r;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* c_prop_map - compile an object of name -> subschema (properties,
 * dependentSchemas) into *out, sorted by name when sort is set. */
static int c_prop_map(struct cctx *c, const json_t *v, bool sort, struct sprop **out, size_t *nout)
{
	void *it;
	size_t i = 0;

	if (!json_is_object(v))
		return cfail(c, "must be an object whose values are schemas");
	*out = xcalloc_array(c, json_object_size(v), sizeof(**out));
	if (!*out)
		return -1;
	for (it = json_object_iter((json_t *)v); it;
	     it = json_object_iter_next((json_t *)v, it), i++) {
		const char *key = json_object_iter_key(it);
		size_t klen = json_object_iter_key_len(it);
		size_t old;

		*nout = i + 1;
		if (sname_dup(c, &(*out)[i].name, key, klen))
			return -1;
		old = path_push_key(&c->ptr, key, klen);
		(*out)[i].schema = c_node(c, json_object_iter_value(it));
		path_pop(&c->ptr, old);
		if (!(*out)[i].schema)
			return -1;
	}
	if (sort && *nout > 1)
		qsort(*out, *nout, sizeof(**out), prop_cmp);
	return 0;
}

/* c_objects - object keywords of schema j into n. */
static int c_objects(struct cctx *c, struct snode *n, const json_t *j)
{
	const json_t *v;
	size_t old;
	int rc = -1;
	void *it;
	size_t i;

	if ((v = json_object_get(j, "properties"))) {
		old = path_push_key(&c->ptr, "properties", 10);
		rc = c_prop_map(c, v, true, &n->props, &n->nprops);
		path_pop(&c->ptr, old);
		if (rc)
			return -1;
	}
	if ((v = json_object_get(j, "patternProperties"))) {
		old = path_push_key(&c->ptr, "patternProperties", 17);
		rc = -1;
		if (!json_is_object(v)) {
			cfail(c, "must be an object whose values are schemas");
			goto pp_out;
		}
		n->pprops = xcalloc_array(c, json_object_size(v), sizeof(*n->pprops));
		if (!n->pprops)
			goto pp_out;
		i = 0;
		for (it = json_object_iter((json_t *)v); it;
		     it = json_object_iter_next((json_t *)v, it), i++) {
			size_t o2 = path_push_key(&c->ptr, json_object_iter_key(it),
						  json_object_iter_key_len(it));
			int r;

			n->npprops = i + 1;
			r = c_regex(c, json_object_iter_key(it), json_object_iter_key_len(it),
				    &n->pprops[i]);
			if (!r) {
				n->pprops[i].schema = c_node(c, json_object_iter_value(it));
				r = n->pprops[i].schema ? 0 : -1;
			}
			path_pop(&c->ptr, o2);
			if (r)
				goto pp_out;
		}
		rc = 0;
	pp_out:
		path_pop(&c->ptr, old);
		if (rc)
			return -1;
	}
	if (c_kw_schema(c, j, "additionalProperties", &n->additional) ||
	    c_kw_schema(c, j, "propertyNames", &n->prop_names))
		return -1;
	if ((v = json_object_get(j, "required"))) {
		old = path_push_key(&c->ptr, "required", 8);
		rc = c_string_list(c, v, &n->required, &n->nrequired);
		path_pop(&c->ptr, old);
		if (rc)
			return -1;
	}
	if ((v = json_object_get(j, "dependentRequired"))) {
		old = path_push_key(&c->ptr, "dependentRequired", 17);
		rc = -1;
		if (!json_is_object(v)) {
			cfail(c, "must be an object whose values are arrays of strings");
			goto dr_out;
		}
		n->dep_req = xcalloc_array(c, json_object_size(v), sizeof(*n->dep_req));
		if (!n->dep_req)
			goto dr_out;
		i = 0;
		for (it = json_object_iter((json_t *)v); it;
		     it = json_object_iter_next((json_t *)v, it), i++) {
			struct sdepreq *d = &n->dep_req[i];
			size_t o2;
			int r;

			n->ndep_req = i + 1;
			if (sname_dup(c, &d->name, json_object_iter_key(it),
				      json_object_iter_key_len(it)))
				goto dr_out;
			o2 = path_push_key(&c->ptr, d->name.s, d->name.len);
			r = c_string_list(c, json_object_iter_value(it), &d->names, &d->n);
			path_pop(&c->ptr, o2);
			if (r)
				goto dr_out;
		}
		rc = 0;
	dr_out:
		path_pop(&c->ptr, old);
		if (rc)
			return -1;
	}
	if ((v = json_object_get(j, "dependentSchemas"))) {
		old = path_push_key(&c->ptr, "dependentSchemas", 16);
		rc = c_prop_map(c, v, false, &n->dep_schemas, &n->ndep_schemas);
		path_pop(&c->ptr, old);
		if (rc)
			return -1;
	}
	if (c_kw_count(c, j, "minProperties", F_MIN_PROPS, n, &n->min_props) ||
	    c_kw_count(c, j, "maxProperties", F_MAX_PROPS, n, &n->max_props))
		return -1;
	return 0;
}

/* c_arrays - array keywords of schema j into n. */
static int c_arrays(struct cctx *c, struct snode *n, const json_t *j)
{
	const json_t *v;

	if (c_kw_schema_array(c, j, "prefixItems", &n->prefix, &n->nprefix))
		return -1;
	v = json_object_get(j, "items");
	if (v && json_is_array(v)) {
		size_t old = path_push_key(&c->ptr, "items", 5);

		cfail(c, "must be a schema (use prefixItems for tuples in draft 2020-12)");
		path_pop(&c->ptr, old);
		return -1;
	}
	if (c_kw_schema(c, j, "items", &n->items) || c_kw_schema(c, j, "contains", &n->contains) ||
	    c_kw_count(c, j, "minContains", F_MIN_CONTAINS, n, &n->min_contains) ||
	    c_kw_count(c, j, "maxContains", F_MAX_CONTAINS, n, &n->max_contains) ||
	    c_kw_count(c, j, "minItems", F_MIN_ITEMS, n, &n->min_items) ||
	    c_kw_count(c, j, "maxItems", F_MAX_ITEMS, n, &n->max_items))
		return -1;
	if (!(n->flags & F_MIN_CONTAINS))
		n->min_contains = 1;
	if ((v = json_object_get(j, "uniqueItems"))) {
		if (!json_is_boolean(v)) {
			size_t old = path_push_key(&c->ptr, "uniqueItems", 11);

			cfail(c, "must be a boolean");
			path_pop(&c->ptr, old);
			return -1;
		}
		if (json_is_true(v))
			n->flags |= F_UNIQUE;
	}
	return 0;
}

/* c_scalars - string and number keywords of schema j into n. */
static int c_scalars(struct cctx *c, struct snode *n, const json_t *j)
{
	const json_t *v;

	if (c_kw_count(c, j, "minLength", F_MIN_LEN, n, &n->min_len) ||
	    c_kw_count(c, j, "maxLength", F_MAX_LEN, n, &n->max_len))
		return -1;
	if ((v = json_object_get(j, "pattern"))) {
		size_t old = path_push_key(&c->ptr, "pattern", 7);
		int rc;

		if (!json_is_string(v))
			rc = cfail(c, "must be a string");
		else
			rc = c_regex(c, json_string_value(v), json_string_length(v), &n->pattern);
		path_pop(&c->ptr, old);
		if (rc)
			return -1;
	}
	if (c_kw_number(c, j, "minimum", F_MINIMUM, false, n, &n->minimum) ||
	    c_kw_number(c, j, "maximum", F_MAXIMUM, false, n, &n->maximum) ||
	    c_kw_number(c, j, "exclusiveMinimum", F_XMIN, false, n, &n->xmin) ||
	    c_kw_number(c, j, "exclusiveMaximum", F_XMAX, false, n, &n->xmax) ||
	    c_kw_number(c, j, "multipleOf", F_MULTIPLE, true, n, &n->multiple))
		return -1;
	return 0;
}

/* c_pending - queue owner->ref = compile(target) for after the main walk. */
static int c_pending(struct cctx *c, struct snode *owner, const json_t *target, const char *where,
		     size_t wlen)
{
	struct pending_ref *p;

	if (c->npend == c->pend_cap) {
		size_t ncap = c->pend_cap ? c->pend_cap * 2 : 16;
		struct pending_ref *np = realloc(c->pend, ncap * sizeof(*np));

		if (!np)
			return cnomem(c);
		c->pend = np;
		c->pend_cap = ncap;
	}
	p = &c->pend[c->npend];
	p->owner = owner;
	p->target = target;
	p->where = malloc(wlen + 1);
	if (!p->where)
		return cnomem(c);
	memcpy(p->where, where, wlen);
	p->where[wlen] = '\0';
	c->npend++;
	return 0;
}

/*
 * resolve_pointer - follow JSON pointer ptr (len bytes, already
 * percent-decoded) from root. tok is scratch of at least len bytes. Returns
 * the target or NULL; *bad_escape is set for a malformed "~" escape.
 */
static const json_t *resolve_pointer(const json_t *root, const char *ptr, size_t len, char *tok,
				     bool *bad_escape)
{
	const json_t *cur = root;
	size_t i = 0;

	*bad_escape = false;
	while (i < len) {
		size_t tlen = 0;

		i++; /* skip '/' */
		while (i < len && ptr[i] != '/') {
			if (ptr[i] == '~') {
				if (i + 1 >= len || (ptr[i + 1] != '0' && ptr[i + 1] != '1')) {
					*bad_escape = true;
					return NULL;
				}
				tok[tlen++] = ptr[i + 1] == '0' ? '~' : '/';
				i += 2;
			} else {
				tok[tlen++] = ptr[i++];
			}
		}
		if (json_is_object(cur)) {
			cur = json_object_getn(cur, tok, tlen);
		} else if (json_is_array(cur)) {
			size_t idx = 0, k;

			if (tlen == 0 || (tlen > 1 && tok[0] == '0') || tlen > 18)
				return NULL;
			for (k = 0; k < tlen; k++) {
				if (tok[k] < '0' || tok[k] > '9')
					return NULL;
				idx = idx * 10 + (size_t)(tok[k] - '0');
			}
			cur = json_array_get(cur, idx);
		} else {
			return NULL;
		}
		if (!cur)
			return NULL;
	}
	return cur;
}

/* c_ref - compile "$ref" value v of node n. */
static int c_ref(struct cctx *c, struct snode *n, const json_t *v)
{
	const char *s;
	size_t len, i, dlen = 0;
	char *dec = NULL, *tok = NULL;
	const json_t *target;
	const struct snode *known;
	bool bad_escape;
	char q[SCHEMA_QUOTE_MAX + 4];
	int rc = -1;

	if (!json_is_string(v))
		return cfail(c, "must be a string");
	s = json_string_value(v);
	len = json_string_length(v);
	quote_bounded(q, sizeof(q), s, len);
	if (len == 0 || s[0] != '#') {
		return cfail(c,
			     "reference '%s' is not supported (only '#' and '#/json/pointer' "
			     "within the same document)",
			     q);
	}
	dec = malloc(len + 1);
	tok = malloc(len + 1);
	if (!dec || !tok) {
		cnomem(c);
		goto out;
	}
	for (i = 1; i < len; i++) {
		if (s[i] == '%') {
			int hi = i + 2 < len ? text_hexval(s[i + 1]) : -1;
			int lo = i + 2 < len ? text_hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				cfail(c, "reference '%s' has invalid percent-encoding", q);
				goto out;
			}
			dec[dlen++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			dec[dlen++] = s[i];
		}
	}
	dec[dlen] = '\0';
	if (dlen > 0 && dec[0] != '/') {
		cfail(c, "reference '%s' is not supported ($anchor references are not implemented)",
		      q);
		goto out;
	}
	target = resolve_pointer(c->root, dec, dlen, tok, &bad_escape);
	if (!target) {
		cfail(c,
		      bad_escape ? "reference '%s' is not a valid JSON pointer"
				 : "reference '%s' does not resolve within the document",
		      q);
		goto out;
	}
	if (json_is_true(target)) {
		n->ref = &snode_true;
	} else if (json_is_false(target)) {
		n->ref = &snode_false;
	} else if (!json_is_object(target)) {
		cfail(c, "reference '%s' does not point to a schema", q);
		goto out;
	} else if ((known = seen_get(c, target))) {
		n->ref = known;
	} else if (c_pending(c, n, target, dec, dlen)) {
		goto out;
	}
	rc = 0;
out:
	free(dec);
	free(tok);
	return rc;
}

/* c_keywords - decode every supported keyword of schema object j into n. */
static int c_keywords(struct cctx *c, struct snode *n, const json_t *j)
{
	static const char *const unsupported[] = {
		"$dynamicRef",
		"$recursiveRef",
		"unevaluatedProperties",
		"unevaluatedItems",
	};
	const json_t *v;
	size_t old, i;
	int rc;

	for (i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		if (json_object_get(j, unsupported[i])) {
			old = path_push_key(&c->ptr, unsupported[i], strlen(unsupported[i]));
			cfail(c, "keyword is not supported by this validator");
			path_pop(&c->ptr, old);
			return -1;
		}
	}
	if (j != c->root && json_object_get(j, "$id")) {
		old = path_push_key(&c->ptr, "$id", 3);
		cfail(c, "$id is only supported at the document root");
		path_pop(&c->ptr, old);
		return -1;
	}
	if ((v = json_object_get(j, "type"))) {
		old = path_push_key(&c->ptr, "type", 4);
		rc = c_type(c, n, v);
		path_pop(&c->ptr, old);
		if (rc)
			return -1;
	}
	if ((v = json_object_get(j, "enum"))) {
		if (!json_is_array(v)) {
			old = path_push_key(&c->ptr, "enum", 4);
			cfail(c, "must be an array");
			path_pop(&c->ptr, old);
			return -1;
		}
		n->enum_vals = json_deep_copy(v);
		if (!n->enum_vals)
			return cnomem(c);
	}
	if ((v = json_object_get(j, "const"))) {
		n->const_val = json_deep_copy(v);
		if (!n->const_val)
			return cnomem(c);
		n->flags |= F_CONST;
	}
	if (c_objects(c, n, j) || c_arrays(c, n, j) || c_scalars(c, n, j))
		return -1;
	if (c_kw_schema_array(c, j, "allOf", &n->all_of, &n->nall_of) ||
	    c_kw_schema_array(c, j, "anyOf", &n->any_of, &n->nany_of) ||
	    c_kw_schema_array(c, j, "oneOf", &n->one_of, &n->none_of) ||
	    c_kw_schema(c, j, "not", &n->not_schema) || c_kw_schema(c, j, "if", &n->if_schema) ||
	    c_kw_schema(c, j, "then", &n->then_schema) ||
	    c_kw_schema(c, j, "else", &n->else_schema))
		return -1;
	if ((v = json_object_get(j, "$defs"))) {
		struct sprop *defs = NULL;
		size_t ndefs = 0;

		old = path_push_key(&c->ptr, "$defs", 5);
		rc = c_prop_map(c, v, false, &defs, &ndefs);
		path_pop(&c->ptr, old);
		for (i = 0; i < ndefs; i++)
			free(defs[i].name.s);
		free(defs);
		if (rc)
			return -1;
	}
	if ((v = json_object_get(j, "$ref"))) {
		old = path_push_key(&c->ptr, "$ref", 4);
		rc = c_ref(c, n, v);
		path_pop(&c->ptr, old);
		if (rc)
			return -1;
	}
	return 0;
}

/*
 * c_node - compile subschema j (schema pointer in c->ptr). Each document
 * object is compiled once; a second visit returns the same node, even while
 * the first compilation is still in progress. Returns NULL on error.
 */
static const struct snode *c_node(struct cctx *c, const json_t *j)
{
	struct snode *n;
	int rc;

	if (json_is_true(j))
		return &snode_true;
	if (json_is_false(j))
		return &snode_false;
	if (!json_is_object(j)) {
		cfail(c, "must be a schema (an object or a boolean)");
		return NULL;
	}
	if ((n = seen_get(c, j)))
		return n;
	if (c->depth >= SCHEMA_COMPILE_MAX_DEPTH) {
		cfail(c, "subschemas nested deeper than %d levels", SCHEMA_COMPILE_MAX_DEPTH);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		cnomem(c);
		return NULL;
	}
	n->kind = SNODE_SCHEMA;
	n->next_alloc = c->s->nodes;
	c->s->nodes = n;
	if (seen_put(c, j, n))
		return NULL;
	c->depth++;
	rc = c_keywords(c, n, j);
	c->depth--;
	return rc ? NULL : n;
}

/* snode_free - release what node n owns (not its children). */
static void snode_free(struct snode *n)
{
	size_t i;

	json_decref(n->enum_vals);
	json_decref(n->const_val);
	for (i = 0; i < n->nprops; i++)
		free(n->props[i].name.s);
	free(n->props);
	for (i = 0; i < n->npprops; i++) {
		pcre2_code_free(n->pprops[i].re);
		free(n->pprops[i].src);
	}
	free(n->pprops);
	for (i = 0; i < n->nrequired; i++)
		free(n->required[i].s);
	free(n->required);
	for (i = 0; i < n->ndep_req; i++) {
		size_t k;

		free(n->dep_req[i].name.s);
		for (k = 0; k < n->dep_req[i].n; k++)
			free(n->dep_req[i].names[k].s);
		free(n->dep_req[i].names);
	}
	free(n->dep_req);
	for (i = 0; i < n->ndep_schemas; i++)
		free(n->dep_schemas[i].name.s);
	free(n->dep_schemas);
	free(n->prefix);
	pcre2_code_free(n->pattern.re);
	free(n->pattern.src);
	free(n->all_of);
	free(n->any_of);
	free(n->one_of);
	free(n);
}

/* schema_free - see schema.h. Frees every node on the allocation list. */
void schema_free(struct schema *s)
{
	struct snode *n, *next;

	if (!s)
		return;
	for (n = s->nodes; n; n = next) {
		next = n->next_alloc;
		snode_free(n);
	}
	pcre2_match_context_free(s->mctx);
	free(s);
}

/* schema_compile - see schema.h. Thread-safe: all state is in c and s. */
struct schema *schema_compile(const json_t *doc, struct moat_err *err)
{
	struct cctx c;
	struct schema *s = NULL;
	size_t i;
	bool ok = false;

	memset(&c, 0, sizeof(c));
	c.err = err;
	c.root = doc;
	if (!doc) {
		moat_err_set(err, MOAT_EINVAL, "schema (root): no schema document");
		goto out;
	}
	s = calloc(1, sizeof(*s));
	c.s = s;
	if (!s) {
		cnomem(&c);
		goto out;
	}
	c.ccx = pcre2_compile_context_create(NULL);
	s->mctx = pcre2_match_context_create(NULL);
	if (!c.ccx || !s->mctx) {
		cnomem(&c);
		goto out;
	}
	(void)pcre2_set_newline(c.ccx, PCRE2_NEWLINE_ANY);
	(void)pcre2_set_max_pattern_length(c.ccx, SCHEMA_RE_MAX_PATTERN);
	{
		uint32_t extra = PCRE2_EXTRA_ALT_BSUX;
#ifdef PCRE2_EXTRA_ASCII_BSD
		/* ECMA-262: \d and \w are ASCII even in Unicode mode. */
		extra |= PCRE2_EXTRA_ASCII_BSD | PCRE2_EXTRA_ASCII_BSW;
#endif
		(void)pcre2_set_compile_extra_options(c.ccx, extra);
	}
	(void)pcre2_set_match_limit(s->mctx, SCHEMA_RE_MATCH_LIMIT);
	(void)pcre2_set_depth_limit(s->mctx, SCHEMA_RE_DEPTH_LIMIT);
	(void)pcre2_set_heap_limit(s->mctx, SCHEMA_RE_HEAP_LIMIT_KIB);

	s->root = c_node(&c, doc);
	if (!s->root)
		goto out;
	/* Resolve $ref targets; compiling one may queue more. */
	for (i = 0; i < c.npend; i++) {
		struct snode *owner = c.pend[i].owner;
		const json_t *target = c.pend[i].target;
		const struct snode *t = seen_get(&c, target);

		if (!t) {
			/* where is an escaped pointer already: copy it verbatim */
			c.ptr.len = strlen(c.pend[i].where);
			if (c.ptr.len >= sizeof(c.ptr.buf))
				c.ptr.len = sizeof(c.ptr.buf) - 1;
			memcpy(c.ptr.buf, c.pend[i].where, c.ptr.len);
			c.ptr.buf[c.ptr.len] = '\0';
			t = c_node(&c, target);
			if (!t)
				goto out;
		}
		owner->ref = t;
	}
	ok = true;
out:
	for (i = 0; i < c.npend; i++)
		free(c.pend[i].where);
	free(c.pend);
	free(c.seen);
	pcre2_compile_context_free(c.ccx);
	if (!ok) {
		schema_free(s);
		return NULL;
	}
	return s;
}

/* ------------------------------------------------------------------------ */
/* Validator.                                                                */

struct vctx {
	const struct schema *s;
	struct schema_error *err; /* where the first failure goes, or NULL */
	bool have_err;
	unsigned quiet; /* > 0 while evaluating anyOf/oneOf/not/if/contains */
	bool aborted;   /* a limit was hit: the verdict is "invalid" */
	struct schema_error abort_err;
	unsigned depth;
	uint64_t steps;
	pcre2_match_data *md;
	struct spath path;
};

/* vfill - write pointer/keyword/message into e. */
static void vfill(struct vctx *c, struct schema_error *e, const char *kw, const char *fmt,
		  va_list ap) __attribute__((format(printf, 4, 0)));
static void vfill(struct vctx *c, struct schema_error *e, const char *kw, const char *fmt,
		  va_list ap)
{
	int w;

	copy_pointer(e->pointer, sizeof(e->pointer), &c->path);
	w = snprintf(e->keyword, sizeof(e->keyword), "%s", kw);
	if (w < 0)
		e->keyword[0] = '\0';
	w = vsnprintf(e->message, sizeof(e->message), fmt, ap);
	if (w < 0)
		e->message[0] = '\0';
	else if ((size_t)w >= sizeof(e->message))
		e->message[utf8_clip(e->message, sizeof(e->message) - 1)] = '\0';
}

/* verr - record the first non-quiet failure. */
static void verr(struct vctx *c, const char *kw, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void verr(struct vctx *c, const char *kw, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet || c->have_err || !c->err)
		return;
	va_start(ap, fmt);
	vfill(c, c->err, kw, fmt, ap);
	va_end(ap);
	c->have_err = true;
}

/* vabort - a limit was reached: fail the whole validation, even in quiet
 * mode. The first abort reason is kept. */
static void vabort(struct vctx *c, const char *kw, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void vabort(struct vctx *c, const char *kw, const char *fmt, ...)
{
	va_list ap;

	if (c->aborted)
		return;
	c->aborted = true;
	va_start(ap, fmt);
	vfill(c, &c->abort_err, kw, fmt, ap);
	va_end(ap);
}

/* plural - "s" unless n is 1. */
static const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

/*
 * re_match - run pat against s. Returns true on a match; on a PCRE2 error
 * (match limit, invalid UTF-8, no memory) aborts validation and returns false.
 */
static bool re_match(struct vctx *c, const struct spattern *pat, const char *kw, const char *s,
		     size_t len, bool *matched)
{
	int rc;

	*matched = false;
	if (!c->md) {
		c->md = pcre2_match_data_create(1, NULL);
		if (!c->md) {
			vabort(c, kw, "out of memory");
			return false;
		}
	}
	rc = pcre2_match(pat->re, (PCRE2_SPTR)s, len, 0, 0, c->md, c->s->mctx);
	if (rc >= 0) {
		*matched = true;
		return true;
	}
	if (rc == PCRE2_ERROR_NOMATCH)
		return true;
	if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
	    rc == PCRE2_ERROR_HEAPLIMIT)
		vabort(c, kw, "pattern could not be evaluated within the match limit");
	else if (rc == PCRE2_ERROR_NOMEMORY)
		vabort(c, kw, "out of memory");
	else
		vabort(c, kw, "pattern could not be evaluated (error %d)", rc);
	return false;
}

static bool v_node(struct vctx *c, const struct snode *n, const json_t *inst, const char *via);

/* v_quiet - evaluate without recording errors (for anyOf, not, ...). */
static bool v_quiet(struct vctx *c, const struct snode *n, const json_t *inst, const char *via)
{
	bool ok;

	c->quiet++;
	ok = v_node(c, n, inst, via);
	c->quiet--;
	return ok && !c->aborted;
}

/* instance_types - type bits that inst satisfies. */
static unsigned instance_types(const json_t *inst)
{
	switch (json_typeof(inst)) {
	case JSON_OBJECT:
		return T_OBJECT;
	case JSON_ARRAY:
		return T_ARRAY;
	case JSON_STRING:
		return T_STRING;
	case JSON_INTEGER:
		return T_NUMBER | T_INTEGER;
	case JSON_REAL: {
		double d = json_real_value(inst);

		return isfinite(d) && d == trunc(d) ? (T_NUMBER | T_INTEGER) : T_NUMBER;
	}
	case JSON_TRUE:
	case JSON_FALSE:
		return T_BOOLEAN;
	default:
		return T_NULL;
	}
}

/* v_type_error - "must be of type a, b or c". */
static SCHEMA_COLD void v_type_error(struct vctx *c, unsigned types)
{
	static const struct {
		unsigned bit;
		const char *name;
	} names[] = {
		{T_STRING, "string"},   {T_INTEGER, "integer"}, {T_NUMBER, "number"},
		{T_BOOLEAN, "boolean"}, {T_OBJECT, "object"},   {T_ARRAY, "array"},
		{T_NULL, "null"},
	};
	char list[128];
	size_t i, len = 0, total = 0, seen = 0;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		total += (types & names[i].bit) != 0;
	list[0] = '\0';
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int w;

		if (!(types & names[i].bit))
			continue;
		seen++;
		w = snprintf(list + len, sizeof(list) - len, "%s%s",
			     seen == 1 ? "" : (seen == total ? " or " : ", "), names[i].name);
		if (w < 0 || (size_t)w >= sizeof(list) - len)
			break;
		len += (size_t)w;
	}
	verr(c, "type", "must be of type %s", list);
}

/* v_enum_error - report an enum failure, listing the allowed values when
 * they are all short strings (schema text, safe to show). */
static SCHEMA_COLD void v_enum_error(struct vctx *c, const struct snode *n)
{
	size_t i, count = json_array_size(n->enum_vals);
	char list[200];
	size_t len = 0;
	bool listable = true;

	if (c->quiet || c->have_err || !c->err)
		return;
	list[0] = '\0';
	for (i = 0; i < count && listable; i++) {
		const json_t *e = json_array_get(n->enum_vals, i);
		char q[SCHEMA_QUOTE_MAX + 4];
		int w;

		if (!json_is_string(e) || json_string_length(e) > SCHEMA_QUOTE_MAX) {
			listable = false;
			break;
		}
		quote_bounded(q, sizeof(q), json_string_value(e), json_string_length(e));
		w = snprintf(list + len, sizeof(list) - len, "%s'%s'", i ? ", " : "", q);
		if (w < 0 || (size_t)w >= sizeof(list) - len)
			listable = false;
		else
			len += (size_t)w;
	}
	if (count == 0)
		verr(c, "enum", "no value is allowed (enum is empty)");
	else if (listable)
		verr(c, "enum", "must be one of: %s", list);
	else
		verr(c, "enum", "must be one of the %zu allowed values", count);
}

/* v_enum - the enum keyword. */
static bool v_enum(struct vctx *c, const struct snode *n, const json_t *inst)
{
	size_t i, count = json_array_size(n->enum_vals);

	for (i = 0; i < count; i++) {
		int r = value_eq(inst, json_array_get(n->enum_vals, i), 0);

		if (r == 1)
			return true;
		if (r < 0) {
			vabort(c, "enum", "value is nested too deeply to compare");
			return false;
		}
	}
	v_enum_error(c, n);
	return false;
}

/* v_prop_name - propertyNames: validate one key as a string instance
 * (out of line: it holds a whole struct schema_error for the inner reason). */
static SCHEMA_COLD bool v_prop_name(struct vctx *c, const struct snode *pn, const char *key,
				    size_t klen)
{
	struct schema_error inner;
	struct schema_error *saved = c->err;
	bool saved_have = c->have_err;
	json_t *name = json_stringn_nocheck(key, klen);
	bool ok;

	if (!name) {
		vabort(c, "propertyNames", "out of memory");
		return false;
	}
	memset(&inner, 0, sizeof(inner));
	if (saved && !c->quiet && !saved_have) {
		c->err = &inner;
		c->have_err = false;
	}
	ok = v_node(c, pn, name, "propertyNames");
	json_decref(name);
	if (c->err == &inner) {
		bool got = c->have_err;

		c->err = saved;
		c->have_err = saved_have;
		if (!ok && got) {
			char q[SCHEMA_QUOTE_MAX + 4];

			quote_bounded(q, sizeof(q), key, klen);
			verr(c, "propertyNames", "property name '%s' is invalid (%s: %s)", q,
			     inner.keyword, inner.message);
		}
	}
	if (!ok)
		verr(c, "propertyNames", "property name is invalid");
	return ok;
}

/*
 * edit_distance - the optimal string alignment distance between a and b
 * (bytes): insertions, deletions, substitutions and swaps of two adjacent
 * bytes ("nmae" is one edit from "name"). SIZE_MAX when either is longer
 * than 64 bytes (no key worth suggesting is). Three rows on the stack.
 */
static size_t edit_distance(const char *a, size_t al, const char *b, size_t bl)
{
	size_t r0[65], r1[65], r2[65];
	size_t *pp = r0, *prev = r1, *cur = r2;

	if (al > 64 || bl > 64)
		return SIZE_MAX;
	for (size_t j = 0; j <= bl; j++)
		prev[j] = j;
	for (size_t i = 1; i <= al; i++) {
		size_t *t;

		cur[0] = i;
		for (size_t j = 1; j <= bl; j++) {
			size_t best = prev[j - 1] + (a[i - 1] != b[j - 1]);

			if (prev[j] + 1 < best)
				best = prev[j] + 1;
			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    pp[j - 2] + 1 < best)
				best = pp[j - 2] + 1;
			cur[j] = best;
		}
		t = pp;
		pp = prev;
		prev = cur;
		cur = t;
	}
	return prev[bl];
}

/* v_hint_additional - fill e->unknown, e->suggest and e->allowed for an
 * unknown key of an object whose schema is n. */
static SCHEMA_COLD void v_hint_additional(struct schema_error *e, const struct snode *n,
					  const char *key, size_t klen)
{
	size_t best = SIZE_MAX, used = 0;
	const struct sname *near = NULL;

	if (klen < sizeof(e->unknown)) {
		memcpy(e->unknown, key, klen);
		e->unknown[klen] = '\0';
	}
	for (size_t i = 0; i < n->nprops; i++) {
		const struct sname *p = &n->props[i].name;
		size_t d = edit_distance(key, klen, p->s, p->len);
		size_t longer = klen > p->len ? klen : p->len;
		/* Close enough to be a typo: 1 edit in short names, up to 3 in
		 * long ones. */
		size_t limit = longer <= 4 ? 1 : longer <= 9 ? 2 : 3;
		int w;

		if (d <= limit && d < best && p->len < sizeof(e->suggest)) {
			best = d;
			near = p;
		}
		if (used == SIZE_MAX)
			continue;
		w = snprintf(e->allowed + used, sizeof(e->allowed) - used, "%s%.*s", i ? ", " : "",
			     (int)p->len, p->s);
		if (w < 0 || (size_t)w >= sizeof(e->allowed) - used - 5) {
			/* Cut at the last whole name and say the list goes on. */
			e->allowed[used] = '\0';
			snprintf(e->allowed + used, sizeof(e->allowed) - used, ", ...");
			used = SIZE_MAX;
			continue;
		}
		used += (size_t)w;
	}
	if (near) {
		memcpy(e->suggest, near->s, near->len);
		e->suggest[near->len] = '\0';
	}
}

/* v_err_additional - "additional property 'x' is not allowed", with the
 * hint fields of struct schema_error filled. */
static SCHEMA_COLD void v_err_additional(struct vctx *c, const struct snode *n, const char *key,
					 size_t klen)
{
	char q[SCHEMA_QUOTE_MAX + 4];
	bool first = !c->quiet && !c->have_err && c->err;

	quote_bounded(q, sizeof(q), key, klen);
	verr(c, "additionalProperties", "additional property '%s' is not allowed", q);
	if (first && c->have_err)
		v_hint_additional(c->err, n, key, klen);
}

/* v_err_required - "required property 'x' is missing". */
static SCHEMA_COLD void v_err_required(struct vctx *c, const struct sname *name)
{
	char q[SCHEMA_QUOTE_MAX + 4];

	quote_bounded(q, sizeof(q), name->s, name->len);
	verr(c, "required", "required property '%s' is missing", q);
}

/* v_err_depreq - dependentRequired failure: need is missing, have present. */
static SCHEMA_COLD void v_err_depreq(struct vctx *c, const struct sname *need,
				     const struct sname *have)
{
	char q1[SCHEMA_QUOTE_MAX + 4], q2[SCHEMA_QUOTE_MAX + 4];

	quote_bounded(q1, sizeof(q1), need->s, need->len);
	quote_bounded(q2, sizeof(q2), have->s, have->len);
	verr(c, "dependentRequired", "property '%s' is required when '%s' is present", q1, q2);
}

/* find_prop - binary search of the sorted properties table. */
static const struct sprop *find_prop(const struct snode *n, const char *key, size_t klen)
{
	size_t lo = 0, hi = n->nprops;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sname *m = &n->props[mid].name;
		size_t k = m->len < klen ? m->len : klen;
		int r = memcmp(m->s, key, k);

		if (!r)
			r = m->len < klen ? -1 : m->len > klen;
		if (!r)
			return &n->props[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* v_object - object keywords. */
static bool v_object(struct vctx *c, const struct snode *n, const json_t *obj)
{
	size_t size = json_object_size(obj);
	size_t i, k;
	void *it;
	bool per_key = n->nprops || n->npprops || n->additional || n->prop_names;

	for (it = per_key ? json_object_iter((json_t *)obj) : NULL; it;
	     it = json_object_iter_next((json_t *)obj, it)) {
		const char *key = json_object_iter_key(it);
		size_t klen = json_object_iter_key_len(it);
		const json_t *val = json_object_iter_value(it);
		const struct sprop *p = find_prop(n, key, klen);
		bool matched = p != NULL;
		size_t old;

		if (p) {
			old = path_push_key(&c->path, key, klen);
			if (!v_node(c, p->schema, val, "properties")) {
				path_pop(&c->path, old);
				return false;
			}
			path_pop(&c->path, old);
		}
		for (i = 0; i < n->npprops; i++) {
			bool m;

			if (!re_match(c, &n->pprops[i], "patternProperties", key, klen, &m))
				return false;
			if (!m)
				continue;
			matched = true;
			old = path_push_key(&c->path, key, klen);
			if (!v_node(c, n->pprops[i].schema, val, "patternProperties")) {
				path_pop(&c->path, old);
				return false;
			}
			path_pop(&c->path, old);
		}
		if (!matched && n->additional) {
			if (n->additional->kind == SNODE_FALSE) {
				v_err_additional(c, n, key, klen);
				return false;
			}
			old = path_push_key(&c->path, key, klen);
			if (!v_node(c, n->additional, val, "additionalProperties")) {
				path_pop(&c->path, old);
				return false;
			}
			path_pop(&c->path, old);
		}
		if (n->prop_names && !v_prop_name(c, n->prop_names, key, klen))
			return false;
	}
	for (i = 0; i < n->nrequired; i++) {
		if (!json_object_getn(obj, n->required[i].s, n->required[i].len)) {
			v_err_required(c, &n->required[i]);
			return false;
		}
	}
	for (i = 0; i < n->ndep_req; i++) {
		const struct sdepreq *d = &n->dep_req[i];

		if (!json_object_getn(obj, d->name.s, d->name.len))
			continue;
		for (k = 0; k < d->n; k++) {
			if (!json_object_getn(obj, d->names[k].s, d->names[k].len)) {
				v_err_depreq(c, &d->names[k], &d->name);
				return false;
			}
		}
	}
	for (i = 0; i < n->ndep_schemas; i++) {
		const struct sprop *d = &n->dep_schemas[i];

		if (json_object_getn(obj, d->name.s, d->name.len) &&
		    !v_node(c, d->schema, obj, "dependentSchemas"))
			return false;
	}
	if ((n->flags & F_MIN_PROPS) && size < n->min_props) {
		verr(c, "minProperties", "must have at least %" PRIu64 " propert%s", n->min_props,
		     n->min_props == 1 ? "y" : "ies");
		return false;
	}
	if ((n->flags & F_MAX_PROPS) && size > n->max_props) {
		verr(c, "maxProperties", "must have at most %" PRIu64 " propert%s", n->max_props,
		     n->max_props == 1 ? "y" : "ies");
		return false;
	}
	return true;
}

struct hent {
	uint64_t h;
	size_t i;
};

/* hent_cmp - qsort order for struct hent: by hash, then index. */
static int hent_cmp(const void *a, const void *b)
{
	const struct hent *x = a, *y = b;

	if (x->h != y->h)
		return x->h < y->h ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/*
 * v_unique - uniqueItems: hash every item, sort by hash and compare only
 * items whose hashes collide, so the cost is O(n log n) for distinct items.
 */
static bool v_unique(struct vctx *c, const json_t *arr)
{
	size_t n = json_array_size(arr);
	struct hent *h = NULL;
	size_t i, j, run;
	bool ok = false;

	if (n < 2)
		return true;
	if (n > SIZE_MAX / sizeof(*h) || !(h = malloc(n * sizeof(*h)))) {
		vabort(c, "uniqueItems", "out of memory");
		return false;
	}
	for (i = 0; i < n; i++) {
		h[i].h = value_hash(json_array_get(arr, i), 0);
		h[i].i = i;
	}
	qsort(h, n, sizeof(*h), hent_cmp);
	for (run = 0; run < n; run = j) {
		for (j = run + 1; j < n && h[j].h == h[run].h; j++)
			;
		for (size_t a = run; a < j; a++) {
			for (size_t b = a + 1; b < j; b++) {
				int r = value_eq(json_array_get(arr, h[a].i),
						 json_array_get(arr, h[b].i), 0);

				if (r < 0) {
					vabort(c, "uniqueItems",
					       "items are nested too deeply to compare");
					goto out;
				}
				if (r == 1) {
					verr(c, "uniqueItems",
					     "must not contain duplicate items (items %zu and %zu "
					     "are equal)",
					     h[a].i, h[b].i);
					goto out;
				}
			}
		}
	}
	ok = true;
out:
	free(h);
	return ok;
}

/* v_array - array keywords. */
static bool v_array(struct vctx *c, const struct snode *n, const json_t *arr)
{
	size_t size = json_array_size(arr);
	size_t i;

	for (i = 0; i < size && (i < n->nprefix || n->items); i++) {
		const json_t *item = json_array_get(arr, i);
		const struct snode *sub = i < n->nprefix ? n->prefix[i] : n->items;
		const char *via = i < n->nprefix ? "prefixItems" : "items";
		size_t old;

		if (sub->kind == SNODE_FALSE && i >= n->nprefix) {
			verr(c, "items", "must have at most %zu item%s", n->nprefix,
			     plural(n->nprefix));
			return false;
		}
		old = path_push_index(&c->path, i);
		if (!v_node(c, sub, item, via)) {
			path_pop(&c->path, old);
			return false;
		}
		path_pop(&c->path, old);
	}
	if (n->contains && (n->min_contains > 0 || (n->flags & F_MAX_CONTAINS))) {
		uint64_t count = 0;

		for (i = 0; i < size; i++) {
			size_t old = path_push_index(&c->path, i);
			bool m = v_quiet(c, n->contains, json_array_get(arr, i), "contains");

			path_pop(&c->path, old);
			if (c->aborted)
				return false;
			count += m;
			if (!(n->flags & F_MAX_CONTAINS) && count >= n->min_contains)
				break;
			if ((n->flags & F_MAX_CONTAINS) && count > n->max_contains)
				break;
		}
		if (count < n->min_contains) {
			verr(c, (n->flags & F_MIN_CONTAINS) ? "minContains" : "contains",
			     "must contain at least %" PRIu64 " item%s matching contains",
			     n->min_contains, plural(n->min_contains));
			return false;
		}
		if ((n->flags & F_MAX_CONTAINS) && count > n->max_contains) {
			verr(c, "maxContains",
			     "must contain at most %" PRIu64 " item%s matching contains",
			     n->max_contains, plural(n->max_contains));
			return false;
		}
	}
	if ((n->flags & F_MIN_ITEMS) && size < n->min_items) {
		verr(c, "minItems", "must have at least %" PRIu64 " item%s", n->min_items,
		     plural(n->min_items));
		return false;
	}
	if ((n->flags & F_MAX_ITEMS) && size > n->max_items) {
		verr(c, "maxItems", "must have at most %" PRIu64 " item%s", n->max_items,
		     plural(n->max_items));
		return false;
	}
	if ((n->flags & F_UNIQUE) && !v_unique(c, arr))
		return false;
	return true;
}

/* utf8_count - number of code points in s (valid UTF-8 assumed; stray
 * continuation bytes are not counted). */
static uint64_t utf8_count(const char *s, size_t len)
{
	uint64_t count = 0;
	size_t i;

	for (i = 0; i < len; i++)
		count += ((unsigned char)s[i] & 0xC0) != 0x80;
	return count;
}

/* v_string - string keywords. The instance value is never quoted. */
static bool v_string(struct vctx *c, const struct snode *n, const json_t *str)
{
	const char *s = json_string_value(str);
	size_t len = json_string_length(str);

	if (n->flags & (F_MIN_LEN | F_MAX_LEN)) {
		uint64_t cp = utf8_count(s, len);

		if ((n->flags & F_MIN_LEN) && cp < n->min_len) {
			verr(c, "minLength", "must be at least %" PRIu64 " character%s", n->min_len,
			     plural(n->min_len));
			return false;
		}
		if ((n->flags & F_MAX_LEN) && cp > n->max_len) {
			verr(c, "maxLength", "must be at most %" PRIu64 " character%s", n->max_len,
			     plural(n->max_len));
			return false;
		}
	}
	if (n->pattern.re) {
		bool m;

		if (!re_match(c, &n->pattern, "pattern", s, len, &m))
			return false;
		if (!m) {
			verr(c, "pattern", "must match pattern '%s'", n->pattern.src);
			return false;
		}
	}
	return true;
}

/* multiple_of - is x a multiple of m (m > 0)? Integers are checked exactly;
 * otherwise the quotient must be integral within a few ulps, and an
 * overflowing quotient is "not a multiple". */
static bool multiple_of(const struct snum *x, const struct snum *m)
{
	json_int_t mi;
	double q, r;

	if (x->is_int && (m->is_int ? (mi = m->i, true) : dbl_as_int(m->d, &mi)) && mi > 0)
		return x->i % mi == 0;
	q = x->d / m->d;
	if (!isfinite(q))
		return false;
	r = nearbyint(q);
	if (q == r)
		return true;
	return fabs(q - r) <= fabs(q) * 4 * DBL_EPSILON;
}

/* v_err_num - "must be <relation> <schema number>". */
static SCHEMA_COLD void v_err_num(struct vctx *c, const char *kw, const char *relation,
				  const struct snum *limit)
{
	char b[40];

	snum_format(limit, b, sizeof(b));
	verr(c, kw, "must be %s %s", relation, b);
}

/* v_number - numeric keywords. */
static bool v_number(struct vctx *c, const struct snode *n, const json_t *num)
{
	struct snum x = snum_from(num);

	if ((n->flags & F_MINIMUM) && snum_cmp(&x, &n->minimum) < 0) {
		v_err_num(c, "minimum", ">=", &n->minimum);
		return false;
	}
	if ((n->flags & F_MAXIMUM) && snum_cmp(&x, &n->maximum) > 0) {
		v_err_num(c, "maximum", "<=", &n->maximum);
		return false;
	}
	if ((n->flags & F_XMIN) && snum_cmp(&x, &n->xmin) <= 0) {
		v_err_num(c, "exclusiveMinimum", ">", &n->xmin);
		return false;
	}
	if ((n->flags & F_XMAX) && snum_cmp(&x, &n->xmax) >= 0) {
		v_err_num(c, "exclusiveMaximum", "<", &n->xmax);
		return false;
	}
	if ((n->flags & F_MULTIPLE) && !multiple_of(&x, &n->multiple)) {
		v_err_num(c, "multipleOf", "a multiple of", &n->multiple);
		return false;
	}
	return true;
}

/*
 * sole_typed_branch - when every branch of an anyOf/oneOf declares "type"
 * and exactly one of them admits the instance's type, that branch is the one
 * the caller meant; returns it so its (deeper) error can be reported.
 */
static const struct snode *sole_typed_branch(const struct snode *const *b, size_t nb,
					     const json_t *inst)
{
	unsigned have = instance_types(inst);
	const struct snode *found = NULL;
	size_t i;

	for (i = 0; i < nb; i++) {
		if (b[i]->kind != SNODE_SCHEMA || !(b[i]->flags & F_TYPE))
			return NULL;
		if (b[i]->types & have) {
			if (found)
				return NULL;
			found = b[i];
		}
	}
	return found;
}

/* v_no_branch - anyOf/oneOf matched nothing: report the sole plausible
 * branch's own error when there is one, else a summary at this pointer. */
static SCHEMA_COLD void v_no_branch(struct vctx *c, const char *kw, const struct snode *const *b,
				    size_t nb, const json_t *inst)
{
	const struct snode *sole;

	if (c->quiet || c->have_err || !c->err)
		return;
	sole = sole_typed_branch(b, nb, inst);
	if (sole && !v_node(c, sole, inst, kw) && c->have_err)
		return;
	if (c->aborted)
		return;
	if (strcmp(kw, "anyOf") == 0)
		verr(c, kw, "must match at least one schema in anyOf");
	else
		verr(c, kw, "must match exactly one schema in oneOf (matched 0)");
}

/* v_applicators - $ref, allOf, anyOf, oneOf, not, if/then/else. */
static bool v_applicators(struct vctx *c, const struct snode *n, const json_t *inst)
{
	size_t i, matched;

	if (n->ref && !v_node(c, n->ref, inst, "$ref"))
		return false;
	for (i = 0; i < n->nall_of; i++) {
		if (!v_node(c, n->all_of[i], inst, "allOf"))
			return false;
	}
	if (n->nany_of) {
		for (i = 0; i < n->nany_of; i++) {
			if (v_quiet(c, n->any_of[i], inst, "anyOf"))
				break;
			if (c->aborted)
				return false;
		}
		if (i == n->nany_of) {
			v_no_branch(c, "anyOf", n->any_of, n->nany_of, inst);
			return false;
		}
	}
	if (n->none_of) {
		matched = 0;
		for (i = 0; i < n->none_of; i++) {
			matched += v_quiet(c, n->one_of[i], inst, "oneOf");
			if (c->aborted)
				return false;
		}
		if (matched == 0) {
			v_no_branch(c, "oneOf", n->one_of, n->none_of, inst);
			return false;
		}
		if (matched > 1) {
			verr(c, "oneOf", "must match exactly one schema in oneOf (matched %zu)",
			     matched);
			return false;
		}
	}
	if (n->not_schema) {
		bool m = v_quiet(c, n->not_schema, inst, "not");

		if (c->aborted)
			return false;
		if (m) {
			verr(c, "not", "must not match the schema in not");
			return false;
		}
	}
	if (n->if_schema && (n->then_schema || n->else_schema)) {
		bool m = v_quiet(c, n->if_schema, inst, "if");

		if (c->aborted)
			return false;
		if (m && n->then_schema && !v_node(c, n->then_schema, inst, "then"))
			return false;
		if (!m && n->else_schema && !v_node(c, n->else_schema, inst, "else"))
			return false;
	}
	return true;
}

/*
 * v_node - validate inst against n. via names the keyword that applied n
 * (used when n is the schema false). Returns true when valid; a false
 * result has recorded an error unless quiet.
 */
static bool v_node(struct vctx *c, const struct snode *n, const json_t *inst, const char *via)
{
	bool ok = false;
	unsigned have;

	if (c->aborted)
		return false;
	if (n->kind == SNODE_TRUE)
		return true;
	if (n->kind == SNODE_FALSE) {
		verr(c, via ? via : "false", "no value is allowed here (schema is false)");
		return false;
	}
	if (++c->steps > SCHEMA_MAX_STEPS) {
		vabort(c, "limit", "validation work limit exceeded");
		return false;
	}
	if (c->depth >= SCHEMA_MAX_DEPTH) {
		vabort(c, "limit", "schema nesting depth limit (%d) exceeded", SCHEMA_MAX_DEPTH);
		return false;
	}
	c->depth++;
	have = instance_types(inst);
	if ((n->flags & F_TYPE) && !(n->types & have)) {
		v_type_error(c, n->types);
		goto out;
	}
	if (n->flags & F_CONST) {
		int r = value_eq(inst, n->const_val, 0);

		if (r < 0) {
			vabort(c, "const", "value is nested too deeply to compare");
			goto out;
		}
		if (r == 0) {
			verr(c, "const", "must be equal to the constant value");
			goto out;
		}
	}
	if (n->enum_vals && !v_enum(c, n, inst))
		goto out;
	if ((have & T_OBJECT) && !v_object(c, n, inst))
		goto out;
	if ((have & T_ARRAY) && !v_array(c, n, inst))
		goto out;
	if ((have & T_STRING) && !v_string(c, n, inst))
		goto out;
	if ((have & T_NUMBER) && !v_number(c, n, inst))
		goto out;
	ok = v_applicators(c, n, inst);
out:
	c->depth--;
	return ok && !c->aborted;
}

/* schema_validate - see schema.h. s is only read; the context is local. */
bool schema_validate(const struct schema *s, const json_t *instance, struct schema_error *out)
{
	struct vctx c;
	bool ok;

	memset(&c, 0, sizeof(c));
	if (out)
		memset(out, 0, sizeof(*out));
	if (!s || !instance) {
		if (out) {
			(void)snprintf(out->keyword, sizeof(out->keyword), "schema");
			(void)snprintf(out->message, sizeof(out->message),
				       "no schema or no instance");
		}
		return false;
	}
	c.s = s;
	c.err = out;
	ok = v_node(&c, s->root, instance, NULL);
	if (c.aborted) {
		ok = false;
		if (out)
			*out = c.abort_err;
	} else if (!ok && out && !c.have_err) {
		(void)snprintf(out->keyword, sizeof(out->keyword), "schema");
		(void)snprintf(out->message, sizeof(out->message), "instance is invalid");
	}
	pcre2_match_data_free(c.md);
	return ok;
}

/* schema_error_format - see schema.h. A cut never splits a UTF-8 sequence. */
char *schema_error_format(const struct schema_error *e, char *buf, size_t n)
{
	int w;

	if (!buf || n == 0)
		return buf;
	if (!e) {
		buf[0] = '\0';
		return buf;
	}
	if (e->unknown[0])
		w = snprintf(buf, n, "%s: %s: %s%s%s%s (allowed: %s)",
			     e->pointer[0] ? e->pointer : "(root)", e->keyword, e->message,
			     e->suggest[0] ? "; did you mean '" : "", e->suggest,
			     e->suggest[0] ? "'?" : "", e->allowed[0] ? e->allowed : "none");
	else
		w = snprintf(buf, n, "%s: %s: %s", e->pointer[0] ? e->pointer : "(root)",
			     e->keyword, e->message);
	if (w < 0)
		buf[0] = '\0';
	else if ((size_t)w >= n)
		buf[utf8_clip(buf, n - 1)] = '\0';
	return buf;
}
