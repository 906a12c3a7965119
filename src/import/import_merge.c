/*
 * import_merge.c - put an imported section at http.apis.NAME of an
 * existing config file by splicing text (see import_merge.h).
 *
 * Hand-written because a JSON library rewrites the whole file when it
 * saves: jansson (the one moat uses) loses the person's spacing, their key
 * order where it differs from insertion order, tabs and CRLF. Here jansson
 * only validates (strictly, duplicates refused) and checks the result; a
 * small scanner, which may assume the grammar jansson just accepted, finds
 * byte offsets: the objects on the way to http.apis.NAME, their members,
 * and the layout around them (newline, indentation, the text between a key
 * and its value), so the spliced text looks as if the person had typed it.
 */
#include <stdlib.h>
#include <string.h>

#include "import_merge.h"

/* A member of an object: key [ks, ke) (quotes included), value [vs, ve). */
struct mg_member {
	size_t ks, ke, vs, ve;
};

/* An object's layout: '{' at open, '}' at close; members found while
 * looking for a key. */
struct mg_obj {
	size_t open, close;
	size_t nmembers;
	size_t first_ks;  /* first key's start (nmembers > 0) */
	size_t first_ke;  /* first key's end */
	size_t first_vs;  /* first value's start: [first_ke, first_vs) is ": " */
	size_t last_ve;   /* end of the last member's value */
};

/* A growable text with a hard cap (the merged file cannot exceed it). */
struct mg_buf {
	char *p;
	size_t len, cap;
	bool failed;
};

#define MG_MAX_OUT ((size_t)256 << 20)

static void mg_put(struct mg_buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (n > MG_MAX_OUT - b->len) {
		b->failed = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void mg_puts(struct mg_buf *b, const char *s)
{
	mg_put(b, s, strlen(s));
}

/* ---- the scanner (input already accepted by jansson) ------------------- */

static bool mg_is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static size_t mg_ws(const char *s, size_t len, size_t i)
{
	while (i < len && mg_is_ws(s[i]))
		i++;
	return i;
}

/* i at a '"': the index after the closing quote. */
static size_t mg_string_end(const char *s, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return len;
}

/* i at a value's first byte: the index after it. Iterative, so depth
 * costs nothing. */
static size_t mg_value_end(const char *s, size_t len, size_t i)
{
	size_t depth = 0;

	if (i >= len)
		return len;
	if (s[i] == '"')
		return mg_string_end(s, len, i);
	if (s[i] != '{' && s[i] != '[') {
		while (i < len && !mg_is_ws(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']')
			i++;
		return i;
	}
	while (i < len) {
		char c = s[i];
		if (c == '"') {
			i = mg_string_end(s, len, i);
			continue;
		}
		if (c == '{' || c == '[')
			depth++;
		else if ((c == '}' || c == ']') && --depth == 0)
			return i + 1;
		i++;
	}
	return len;
}

/* Is the JSON string text s[ks, ke) (quotes included) the key `key`? */
static bool mg_key_is(const char *s, size_t ks, size_t ke, const char *key)
{
	size_t klen = strlen(key);
	json_t *v;
	bool same;

	if (!memchr(s + ks, '\\', ke - ks))
		return ke - ks == klen + 2 && memcmp(s + ks + 1, key, klen) == 0;
	v = json_loadb(s + ks, ke - ks, JSON_DECODE_ANY, NULL);
	same = v && json_string_length(v) == klen && memcmp(json_string_value(v), key, klen) == 0;
	json_decref(v);
	return same;
}

/*
 * mg_object - walk the object whose '{' is at open, filling o; if key is
 * not NULL and a member has it, fill *m and return true.
 */
static bool mg_object(const char *s, size_t len, size_t open, const char *key, struct mg_obj *o,
		      struct mg_member *m)
{
	size_t i = mg_ws(s, len, open + 1);
	bool found = false;

	memset(o, 0, sizeof(*o));
	o->open = open;
	while (i < len && s[i] == '"') {
		struct mg_member cur;
		cur.ks = i;
		cur.ke = mg_string_end(s, len, i);
		i = mg_ws(s, len, cur.ke);
		i = mg_ws(s, len, i + 1); /* past ':' */
		cur.vs = i;
		cur.ve = mg_value_end(s, len, i);
		if (o->nmembers++ == 0) {
			o->first_ks = cur.ks;
			o->first_ke = cur.ke;
			o->first_vs = cur.vs;
		}
		o->last_ve = cur.ve;
		if (!found && key && mg_key_is(s, cur.ks, cur.ke, key)) {
			*m = cur;
			found = true;
		}
		i = mg_ws(s, len, cur.ve);
		if (i < len && s[i] == ',')
			i = mg_ws(s, len, i + 1);
	}
	o->close = i; /* at '}' */
	return found;
}

/* ---- layout -------------------------------------------------------------- */

/* The layout new text follows. */
struct mg_layout {
	const char *nl;      /* "\n" or "\r\n" */
	char unit[64];       /* one level of indentation ("  ", "\t", "    ") */
	bool compact;        /* the objects on the way are written on one line */
};

/* The whitespace that starts the line holding pos: [*at, *at + *n). */
static void mg_line_indent(const char *s, size_t pos, size_t *at, size_t *n)
{
	size_t ls = pos;

	while (ls > 0 && s[ls - 1] != '\n')
		ls--;
	*at = ls;
	for (*n = 0; ls + *n < pos && (s[ls + *n] == ' ' || s[ls + *n] == '\t'); (*n)++)
		;
}

/* Does the object span a line break before its first member? */
static bool mg_obj_multiline(const char *s, const struct mg_obj *o)
{
	return o->nmembers > 0 && memchr(s + o->open, '\n', o->first_ks - o->open) != NULL;
}

/* The document's layout, from its top-level object. */
static void mg_layout(const char *s, size_t len, const struct mg_obj *top, struct mg_layout *l)
{
	l->nl = (len > 1 && memmem(s, len, "\r\n", 2)) ? "\r\n" : "\n";
	l->compact = top->nmembers > 0 && !mg_obj_multiline(s, top);
	snprintf(l->unit, sizeof(l->unit), "  ");
	if (top->nmembers > 0 && !l->compact) {
		size_t at, n;
		mg_line_indent(s, top->first_ks, &at, &n);
		if (n > 0 && n < sizeof(l->unit)) {
			memcpy(l->unit, s + at, n);
			l->unit[n] = '\0';
		}
	}
}

/* ---- the text to splice ------------------------------------------------ */

/*
 * mg_value_text - v as JSON text in the layout: one line when compact,
 * else one member a line, each line after the first starting with base
 * (base_n bytes) and one unit a level.
 */
static void mg_value_text(struct mg_buf *b, const json_t *v, const struct mg_layout *l,
			  const char *base, size_t base_n)
{
	char *text;

	if (l->compact) {
		text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
		if (!text) {
			b->failed = true;
			return;
		}
		mg_puts(b, text);
		free(text);
		return;
	}
	/* One space a level, then each leading space becomes one unit: JSON
	 * strings never hold a raw newline, so lines are the dump's own. */
	text = json_dumps(v, JSON_INDENT(1) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	if (!text) {
		b->failed = true;
		return;
	}
	for (char *p = text, *nl; p; p = nl ? nl + 1 : NULL) {
		size_t depth = 0;
		nl = strchr(p, '\n');
		if (p != text) {
			mg_puts(b, l->nl);
			mg_put(b, base, base_n);
			while (p[depth] == ' ')
				depth++;
			for (size_t d = 0; d < depth; d++)
				mg_puts(b, l->unit);
		}
		mg_put(b, p + depth, nl ? (size_t)(nl - p) - depth : strlen(p + depth));
	}
	free(text);
}

/* The key as JSON string text. */
static void mg_key_text(struct mg_buf *b, const char *key)
{
	json_t *k = json_string(key);
	char *text = k ? json_dumps(k, JSON_ENCODE_ANY) : NULL;

	if (!text)
		b->failed = true;
	else
		mg_puts(b, text);
	free(text);
	json_decref(k);
}

/*
 * mg_insert_text - the text that adds member key: v to object o, and the
 * span [*from, *to) of the original it replaces (empty for a non-empty
 * object: inserted after the last member's value; the inside of an empty
 * object otherwise).
 */
static void mg_insert_text(struct mg_buf *b, const char *s, const struct mg_obj *o,
			   const struct mg_layout *lay, const char *key, const json_t *v, size_t *from,
			   size_t *to)
{
	struct mg_layout l = *lay;

	if (o->nmembers > 0) {
		/* Copy the first member's separator (from its last line break)
		 * and its key-to-value text: ",\n    " and ": ", or "," and ":". */
		size_t sep = o->open + 1, at, n;
		for (size_t i = o->open + 1; i < o->first_ks; i++)
			if (s[i] == '\n')
				sep = i + 1;
		l.compact = !mg_obj_multiline(s, o);
		mg_puts(b, ",");
		if (!l.compact)
			mg_puts(b, l.nl);
		mg_put(b, s + sep, o->first_ks - sep);
		mg_key_text(b, key);
		mg_put(b, s + o->first_ke, o->first_vs - o->first_ke);
		mg_line_indent(s, o->first_ks, &at, &n);
		mg_value_text(b, v, &l, l.compact ? "" : s + at, l.compact ? 0 : n);
		*from = *to = o->last_ve;
		return;
	}
	/* An empty object: its inside becomes one member on its own line,
	 * one unit deeper than the line holding '{'. */
	*from = o->open + 1;
	*to = o->close;
	if (l.compact) {
		mg_key_text(b, key);
		mg_puts(b, ":");
		mg_value_text(b, v, &l, "", 0);
		return;
	}
	size_t at, n;
	char *base;
	mg_line_indent(s, o->open, &at, &n);
	base = malloc(n + sizeof(l.unit));
	if (!base) {
		b->failed = true;
		return;
	}
	memcpy(base, s + at, n);
	memcpy(base + n, l.unit, strlen(l.unit) + 1);
	mg_puts(b, l.nl);
	mg_puts(b, base);
	mg_key_text(b, key);
	mg_puts(b, ": ");
	mg_value_text(b, v, &l, base, strlen(base));
	mg_puts(b, l.nl);
	mg_put(b, s + at, n);
	free(base);
}

/* ---- the check ------------------------------------------------------- */

/* Is out the original document (root) with http.apis.NAME set to value? */
static bool mg_result_ok(const json_t *root, const char *out, size_t outlen, const char *name,
			 const json_t *value)
{
	json_t *got = json_loadb(out, outlen, JSON_REJECT_DUPLICATES, NULL);
	json_t *want = json_deep_copy(root);
	json_t *http, *apis;
	bool ok = false;

	if (!got || !want)
		goto out;
	http = json_object_get(want, "http");
	if (!http) {
		http = json_object();
		if (json_object_set_new(want, "http", http) != 0)
			goto out;
	}
	apis = json_object_get(http, "apis");
	if (!apis) {
		apis = json_object();
		if (json_object_set_new(http, "apis", apis) != 0)
			goto out;
	}
	if (json_object_set(apis, name, (json_t *)value) != 0)
		goto out;
	ok = json_equal(got, want);
out:
	json_decref(got);
	json_decref(want);
	return ok;
}

enum moat_rc import_merge(const char *cfg, size_t len, const char *name, const json_t *value,
			  char **out, size_t *outlen, enum import_merge_how *how, size_t *span_at,
			  size_t *span_len, struct moat_err *err)
{
	json_error_t jerr;
	json_t *root = NULL, *wrap = NULL;
	struct mg_obj top, http, apis, *target;
	struct mg_member m;
	struct mg_layout lay;
	struct mg_buf b = {0}, piece = {0};
	enum import_merge_how h;
	size_t from, to;
	enum moat_rc rc = MOAT_OK;

	*out = NULL;
	if (!name || !*name || !json_is_object(value))
		return moat_err_rule(err, MOAT_EINVAL, "import.merge_shape",
				     "nothing to merge: an API name and an object are needed");
	root = json_loadb(cfg, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!root) {
		rc = moat_err_rule(err, MOAT_EINVAL, "import.merge_parse",
				   "the config is not valid JSON (line %d, column %d: %s); fix it "
				   "or merge by hand from the printed section",
				   jerr.line, jerr.column, jerr.text);
		goto out;
	}
	if (!json_is_object(root) ||
	    (json_object_get(root, "http") && !json_is_object(json_object_get(root, "http"))) ||
	    (json_object_get(json_object_get(root, "http"), "apis") &&
	     !json_is_object(json_object_get(json_object_get(root, "http"), "apis")))) {
		rc = moat_err_rule(err, MOAT_EINVAL, "import.merge_shape",
				   "the config's top level, its \"http\" and \"http.apis\" must be "
				   "objects; fix the config or merge by hand");
		goto out;
	}

	size_t at = mg_ws(cfg, len, 0);
	mg_object(cfg, len, at, NULL, &top, NULL);
	mg_layout(cfg, len, &top, &lay);

	if (!mg_object(cfg, len, at, "http", &top, &m)) {
		h = IMPORT_MERGE_ADDED_HTTP;
		target = &top;
		wrap = json_pack("{s:{s:O}}", "apis", name, (json_t *)value);
	} else if (mg_object(cfg, len, m.vs, "apis", &http, &m)) {
		if (mg_object(cfg, len, m.vs, name, &apis, &m)) {
			h = IMPORT_MERGE_REPLACED;
			target = NULL;
		} else {
			h = IMPORT_MERGE_ADDED_API;
			target = &apis;
		}
	} else {
		h = IMPORT_MERGE_ADDED_APIS;
		target = &http;
		wrap = json_pack("{s:O}", name, (json_t *)value);
	}
	if ((h == IMPORT_MERGE_ADDED_HTTP || h == IMPORT_MERGE_ADDED_APIS) && !wrap) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}

	switch (h) {
	case IMPORT_MERGE_REPLACED: {
		size_t lat, ln;
		struct mg_layout l = lay;
		l.compact = !mg_obj_multiline(cfg, &apis);
		mg_line_indent(cfg, m.ks, &lat, &ln);
		mg_value_text(&piece, value, &l, cfg + lat, l.compact ? 0 : ln);
		from = m.vs;
		to = m.ve;
		break;
	}
	case IMPORT_MERGE_ADDED_HTTP:
		mg_insert_text(&piece, cfg, target, &lay, "http", wrap, &from, &to);
		break;
	case IMPORT_MERGE_ADDED_APIS:
		mg_insert_text(&piece, cfg, target, &lay, "apis", wrap, &from, &to);
		break;
	default:
		mg_insert_text(&piece, cfg, target, &lay, name, value, &from, &to);
		break;
	}
	mg_put(&b, cfg, from);
	mg_put(&b, piece.p ? piece.p : "", piece.len);
	mg_put(&b, cfg + to, len - to);
	if (b.failed || piece.failed) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory merging the config");
		goto out;
	}
	/* Belt and braces: the bytes around the splice are the original's,
	 * and the whole parses to the original plus exactly this change. */
	if (memcmp(b.p, cfg, from) != 0 || memcmp(b.p + from + piece.len, cfg + to, len - to) != 0 ||
	    !mg_result_ok(root, b.p, b.len, name, value)) {
		rc = moat_err_rule(err, MOAT_EINTERNAL, "import.merge_check",
				   "the merged config did not check out (a bug); the file was not "
				   "changed: merge by hand from the printed section");
		goto out;
	}
	*out = b.p;
	b.p = NULL;
	if (outlen)
		*outlen = b.len;
	if (how)
		*how = h;
	if (span_at)
		*span_at = from;
	if (span_len)
		*span_len = piece.len;
out:
	free(b.p);
	free(piece.p);
	json_decref(wrap);
	json_decref(root);
	return rc;
}
