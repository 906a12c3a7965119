/*
 * fs_search.c - the fs family's search tools: search_files (glob over
 * relative paths, the reference server's minimatch semantics) and, beyond
 * the reference, grep_files (PCRE2 over the lines of text files).
 *
 * Also home of the glob matcher shared with directory_tree (fs_list.c).
 * It implements what minimatch does with {dot: true}: brace expansion
 * ({a,b}, {1..3}), a leading '!' negates, a leading '#' is a comment that
 * matches nothing, '*' and '?' never cross '/', '**' as a whole segment
 * matches any number of segments (a trailing slash-globstar at least one), classes
 * with ranges, '!'/'^' negation and POSIX names, backslash escapes, and the
 * extglobs @(a|b), ?(..), *(..), +(..) and !(..). A pattern without '/' is
 * matched against the whole relative path (no matchBase), so "*.c" finds
 * only top-level files, exactly like the reference.
 *
 * Walks open every directory beneath its root with openat(O_NOFOLLOW |
 * O_DIRECTORY) from the parent's fd and never follow a symlink; entries are
 * visited in byte order (what the reference gets from libuv's scandir).
 * Thread-safe: every call works on its own state.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "fs.h"
#include "fs_listing.h"
#include "text.h"


/* ---- glob ------------------------------------------------------------ */

#define GLOB_MAX_EXPANSIONS 1024
#define GLOB_MAX_SEGS 256
#define GLOB_MAX_STEPS 200000

struct glob_alt {
	char **seg; /* segment patterns; NULL entry = globstar */
	size_t nseg;
};

struct fs_glob {
	bool comment; /* '#...': matches nothing */
	bool empty;   /* "": matches only "" */
	bool negate;
	struct glob_alt *alt;
	size_t nalt;
};

struct strlist {
	char **v;
	size_t n;
	bool too_many;
};

static void strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static bool strlist_push(struct strlist *l, char *s)
{
	char **nv;

	if (!s)
		return false;
	if (l->n >= GLOB_MAX_EXPANSIONS) {
		l->too_many = true;
		free(s);
		return false;
	}
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv) {
		free(s);
		return false;
	}
	l->v = nv;
	l->v[l->n++] = s;
	return true;
}

static char *concat3(const char *a, size_t an, const char *b, size_t bn, const char *c)
{
	size_t cn = strlen(c);
	char *s = malloc(an + bn + cn + 1);

	if (!s)
		return NULL;
	memcpy(s, a, an);
	memcpy(s + an, b, bn);
	memcpy(s + an + bn, c, cn + 1);
	return s;
}

/* Find the '}' matching the '{' at p[open]; skips escapes. */
static const char *brace_close(const char *p)
{
	int depth = 0;

	for (; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '{')
			depth++;
		else if (*p == '}' && --depth == 0)
			return p;
	}
	return NULL;
}

/* Parse "{x..y[..step]}" body into a list; false when not a sequence. */
static bool brace_seq(const char *body, size_t n, struct strlist *out)
{
	char buf[128], *a, *b, *c, *end;
	bool alpha;
	long long x, y, step = 1, width = 0;

	if (n >= sizeof(buf))
		return false;
	memcpy(buf, body, n);
	buf[n] = '\0';
	a = buf;
	b = strstr(a, "..");
	if (!b)
		return false;
	*b = '\0';
	b += 2;
	c = strstr(b, "..");
	if (c) {
		*c = '\0';
		c += 2;
	}
	alpha = strlen(a) == 1 && strlen(b) == 1 && !(a[0] >= '0' && a[0] <= '9') &&
		!(b[0] >= '0' && b[0] <= '9') && a[0] != '-' && b[0] != '-';
	if (alpha) {
		x = (unsigned char)a[0];
		y = (unsigned char)b[0];
	} else {
		errno = 0;
		x = strtoll(a, &end, 10);
		if (!*a || *end || errno)
			return false;
		y = strtoll(b, &end, 10);
		if (!*b || *end || errno)
			return false;
		if ((a[0] == '0' && a[1]) || (a[0] == '-' && a[1] == '0' && a[2]) ||
		    (b[0] == '0' && b[1]) || (b[0] == '-' && b[1] == '0' && b[2])) {
			size_t la = strlen(a), lb = strlen(b);
			width = (long long)(la > lb ? la : lb);
		}
	}
	if (c) {
		errno = 0;
		step = strtoll(c, &end, 10);
		if (!*c || *end || errno)
			return false;
		if (step < 0)
			step = -step;
		if (step == 0)
			step = 1;
	}
	for (long long v = x, k = 0; x <= y ? v <= y : v >= y; v += x <= y ? step : -step, k++) {
		char item[64];
		if (k >= GLOB_MAX_EXPANSIONS) {
			out->too_many = true;
			return true;
		}
		if (alpha) {
			if (v == '\\')
				continue;
			snprintf(item, sizeof(item), "%c", (char)v);
		} else if (width) {
			if (v < 0)
				snprintf(item, sizeof(item), "-%0*lld", (int)(width - 1), -v);
			else
				snprintf(item, sizeof(item), "%0*lld", (int)width, v);
		} else {
			snprintf(item, sizeof(item), "%lld", v);
		}
		if (!strlist_push(out, strdup(item)))
			return true;
	}
	return true;
}

/* Split a "{a,b,{c,d}}" body at top-level commas; false when none. */
static bool brace_list(const char *body, size_t n, struct strlist *out)
{
	int depth = 0;
	size_t start = 0;
	bool comma = false;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && body[i] == '\\' && i + 1 < n) {
			i++;
			continue;
		}
		if (i < n && body[i] == '{')
			depth++;
		else if (i < n && body[i] == '}')
			depth--;
		else if (i == n || (body[i] == ',' && depth == 0)) {
			if (i < n)
				comma = true;
			if (i == n && !comma)
				return false;
			if (!strlist_push(out, strndup(body + start, i - start)))
				return true;
			start = i + 1;
		}
	}
	return true;
}

/* Expand braces in pat (bash/brace-expansion order) into out. */
static void brace_expand(const char *pat, struct strlist *out, int depth)
{
	const char *p = pat, *open = NULL, *close = NULL;
	struct strlist items = {0};

	if (depth > 32 || out->too_many)
		goto literal;
	for (; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '{' && !(p > pat && p[-1] == '$')) {
			const char *c = brace_close(p);
			if (!c)
				break;
			if (brace_seq(p + 1, (size_t)(c - p - 1), &items) ||
			    brace_list(p + 1, (size_t)(c - p - 1), &items)) {
				open = p;
				close = c;
				break;
			}
			strlist_free(&items);
		}
	}
	if (!open)
		goto literal;
	if (items.too_many)
		out->too_many = true;
	for (size_t i = 0; i < items.n && !out->too_many; i++) {
		/* expand items recursively, then the rest */
		struct strlist sub = {0};
		brace_expand(items.v[i], &sub, depth + 1);
		for (size_t j = 0; j < sub.n && !out->too_many; j++) {
			char *joined = concat3(pat, (size_t)(open - pat), sub.v[j], strlen(sub.v[j]),
					       close + 1);
			struct strlist rest = {0};
			if (!joined)
				continue;
			/* the prefix holds no braces; expand the remainder */
			brace_expand(joined, &rest, depth + 1);
			free(joined);
			for (size_t k = 0; k < rest.n; k++) {
				strlist_push(out, rest.v[k]);
				rest.v[k] = NULL;
			}
			if (rest.too_many)
				out->too_many = true;
			free(rest.v);
		}
		if (sub.too_many)
			out->too_many = true;
		strlist_free(&sub);
	}
	strlist_free(&items);
	return;
literal:
	strlist_push(out, strdup(pat));
}

void fs_glob_free(struct fs_glob *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nalt; i++) {
		for (size_t j = 0; j < g->alt[i].nseg; j++)
			free(g->alt[i].seg[j]);
		free(g->alt[i].seg);
	}
	free(g->alt);
	free(g);
}

/* Split one expansion into segments, with minimatch's level-one tidy:
 * adjacent '**' collapse and "x/.." cancels. */
static enum moat_rc split_alt(const char *pat, struct glob_alt *a)
{
	const char *p = pat;

	a->seg = calloc(GLOB_MAX_SEGS, sizeof(*a->seg));
	if (!a->seg)
		return MOAT_ENOMEM;
	for (;;) {
		const char *end = strchr(p, '/');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *s;
		/* slashSplit splits on /+ : runs of slashes are one separator */
		if (len == 0 && end && a->nseg > 0) {
			p = end + 1;
			continue;
		}
		s = strndup(p, len);
		if (!s)
			return MOAT_ENOMEM;
		if (strcmp(s, "**") == 0) {
			free(s);
			s = NULL;
			if (a->nseg > 0 && a->seg[a->nseg - 1] == NULL)
				goto next;
		} else if (strcmp(s, "..") == 0 && a->nseg > 0 && a->seg[a->nseg - 1] &&
			   strcmp(a->seg[a->nseg - 1], "..") != 0 &&
			   strcmp(a->seg[a->nseg - 1], ".") != 0) {
			free(s);
			free(a->seg[--a->nseg]);
			goto next;
		}
		if (a->nseg >= GLOB_MAX_SEGS) {
			free(s);
			return MOAT_ELIMIT;
		}
		a->seg[a->nseg++] = s;
next:
		if (!end)
			break;
		p = end + 1;
	}
	if (a->nseg == 0) {
		a->seg[0] = strdup("");
		if (!a->seg[0])
			return MOAT_ENOMEM;
		a->nseg = 1;
	}
	return MOAT_OK;
}

enum moat_rc fs_glob_compile(const char *pattern, struct fs_glob **out, struct moat_err *err)
{
	struct fs_glob *g = calloc(1, sizeof(*g));
	struct strlist exp = {0};
	enum moat_rc rc = MOAT_OK;

	*out = NULL;
	if (!g)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (pattern[0] == '#') {
		g->comment = true;
		goto done;
	}
	if (!pattern[0]) {
		g->empty = true;
		goto done;
	}
	while (*pattern == '!') {
		g->negate = !g->negate;
		pattern++;
	}
	brace_expand(pattern, &exp, 0);
	if (exp.too_many) {
		rc = moat_err_set(err, MOAT_ELIMIT,
				  "pattern: brace expansion gives more than %d patterns",
				  GLOB_MAX_EXPANSIONS);
		goto fail;
	}
	g->alt = calloc(exp.n ? exp.n : 1, sizeof(*g->alt));
	if (!g->alt) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < exp.n; i++) {
		/* minimatch drops duplicate expansions; harmless to keep */
		rc = split_alt(exp.v[i], &g->alt[g->nalt]);
		g->nalt++;
		if (rc) {
			rc = rc == MOAT_ELIMIT
				     ? moat_err_set(err, rc, "pattern: more than %d path segments",
						    GLOB_MAX_SEGS)
				     : moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto fail;
		}
	}
done:
	strlist_free(&exp);
	*out = g;
	return MOAT_OK;
fail:
	strlist_free(&exp);
	fs_glob_free(g);
	return rc;
}

/* Decode one UTF-8 code point at s (invalid bytes count as one unit). */
static size_t u8_next(const char *s, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = u[0] < 0x80 ? 1 : u[0] >= 0xF0 ? 4 : u[0] >= 0xE0 ? 3 : u[0] >= 0xC0 ? 2 : 1;

	for (size_t i = 1; i < n; i++)
		if ((u[i] & 0xC0) != 0x80) {
			*cp = u[0];
			return 1;
		}
	if (n == 1)
		*cp = u[0];
	else if (n == 2)
		*cp = ((uint32_t)(u[0] & 0x1F) << 6) | (u[1] & 0x3F);
	else if (n == 3)
		*cp = ((uint32_t)(u[0] & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) | (u[2] & 0x3F);
	else
		*cp = ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) |
		      ((uint32_t)(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
	return n;
}

static bool posix_class(const char *name, size_t n, uint32_t c)
{
	bool ascii = c < 0x80;
#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
	if (IS("alpha"))
		return ascii ? ((c | 32) >= 'a' && (c | 32) <= 'z') : c >= 0xC0;
	if (IS("alnum") || IS("word"))
		return ascii ? (((c | 32) >= 'a' && (c | 32) <= 'z') || (c >= '0' && c <= '9') ||
				(IS("word") && c == '_'))
			     : c >= 0xC0;
	if (IS("digit"))
		return c >= '0' && c <= '9';
	if (IS("xdigit"))
		return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'f');
	if (IS("lower"))
		return c >= 'a' && c <= 'z';
	if (IS("upper"))
		return c >= 'A' && c <= 'Z';
	if (IS("space"))
		return c == ' ' || (c >= '\t' && c <= '\r');
	if (IS("blank"))
		return c == ' ' || c == '\t';
	if (IS("cntrl"))
		return c < 0x20 || c == 0x7F;
	if (IS("punct"))
		return ascii && c > 0x20 && c < 0x7F && !((c | 32) >= 'a' && (c | 32) <= 'z') &&
		       !(c >= '0' && c <= '9');
	if (IS("graph"))
		return c > 0x20 && c != 0x7F;
	if (IS("print"))
		return c >= 0x20 && c != 0x7F;
	if (IS("ascii"))
		return ascii;
#undef IS
	return false;
}

/*
 * Parse the class at p ('[') and test c. Returns the length of the class
 * text, or 0 when p does not start a valid class (then '[' is literal).
 */
static size_t class_match(const char *p, uint32_t c, bool *hit)
{
	const char *q = p + 1;
	bool negate = false, saw = false, any = false, matched = false;
	uint32_t lo;

	if (*q == '!' || *q == '^') {
		negate = true;
		q++;
	}
	while (*q) {
		uint32_t a, b;
		if (*q == ']' && saw)
			break;
		saw = true;
		if (*q == '[' && q[1] == ':') {
			const char *e = strstr(q + 2, ":]");
			if (e && e - q < 12) {
				if (posix_class(q + 2, (size_t)(e - q - 2), c))
					matched = true;
				any = true;
				q = e + 2;
				continue;
			}
		}
		if (*q == '\\' && q[1])
			q++;
		q += u8_next(q, &a);
		lo = a;
		if (q[0] == '-' && q[1] == ']') {
			/* "a-]": a and '-' */
			if (c == lo || c == '-')
				matched = true;
			any = true;
			q++;
			continue;
		}
		if (q[0] == '-' && q[1]) {
			q++;
			if (*q == '\\' && q[1])
				q++;
			q += u8_next(q, &b);
			if (c >= lo && c <= b)
				matched = true;
			any = true;
			continue;
		}
		if (c == lo)
			matched = true;
		any = true;
	}
	if (*q != ']')
		return 0;
	*hit = any && (negate ? !matched && c != '/' : matched);
	return (size_t)(q + 1 - p);
}

static bool seg_match(const char *p, const char *pend, const char *s, long *steps);

/* Split the extglob body (p just past '(') into alternatives; returns the
 * position of the closing ')' or NULL. */
static const char *ext_close(const char *p)
{
	int depth = 1;

	for (; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			return p;
	}
	return NULL;
}

/* Does s[0..n) match one of the '|' alternatives in [b, e)? */
static bool ext_any(const char *b, const char *e, const char *s, size_t n, long *steps)
{
	char *sub = strndup(s, n);
	bool ok = false;
	const char *a = b;
	int depth = 0;

	if (!sub)
		return false;
	for (const char *p = b; p <= e; p++) {
		if (p < e && *p == '\\' && p + 1 < e) {
			p++;
			continue;
		}
		if (p < e && *p == '(')
			depth++;
		else if (p < e && *p == ')')
			depth--;
		else if (p == e || (*p == '|' && depth == 0)) {
			if (seg_match(a, p, sub, steps)) {
				ok = true;
				break;
			}
			a = p + 1;
		}
	}
	free(sub);
	return ok;
}

/* Match the segment pattern [p, pend) against the whole of s. */
static bool seg_match(const char *p, const char *pend, const char *s, long *steps)
{
	while (p < pend) {
		uint32_t c, sc;
		if (++*steps > GLOB_MAX_STEPS)
			return false;
		if ((*p == '@' || *p == '?' || *p == '*' || *p == '+' || *p == '!') && p + 1 < pend &&
		    p[1] == '(') {
			const char *e = ext_close(p + 2);
			if (e && e < pend) {
				char kind = *p;
				const char *body = p + 2, *rest = e + 1;
				size_t sl = strlen(s);
				if (kind == '@' || kind == '?') {
					if (kind == '?' && seg_match(rest, pend, s, steps))
						return true;
					for (size_t k = 0; k <= sl; k++)
						if (ext_any(body, e, s, k, steps) &&
						    seg_match(rest, pend, s + k, steps))
							return true;
					return false;
				}
				if (kind == '!') {
					for (size_t k = 0; k <= sl; k++)
						if (!ext_any(body, e, s, k, steps) &&
						    seg_match(rest, pend, s + k, steps))
							return true;
					return false;
				}
				/* '*' or '+': one repetition then the same pattern again */
				if (kind == '*' && seg_match(rest, pend, s, steps))
					return true;
				for (size_t k = 1; k <= sl; k++) {
					size_t plen = (size_t)(pend - p);
					char *again;
					bool ok;
					if (!ext_any(body, e, s, k, steps))
						continue;
					if (seg_match(rest, pend, s + k, steps))
						return true;
					/* more repetitions: go on as *(...) */
					again = strndup(p, plen);
					if (!again)
						return false;
					again[0] = '*';
					ok = seg_match(again, again + plen, s + k, steps);
					free(again);
					if (ok)
						return true;
				}
				return false;
			}
		}
		switch (*p) {
		case '*':
			while (p < pend && *p == '*')
				p++;
			if (p == pend)
				return strchr(s, '/') == NULL;
			for (const char *t = s;; t += u8_next(t, &sc)) {
				if (seg_match(p, pend, t, steps))
					return true;
				if (!*t || *t == '/')
					return false;
			}
		case '?':
			if (!*s || *s == '/')
				return false;
			s += u8_next(s, &sc);
			p++;
			continue;
		case '[': {
			bool hit = false;
			size_t n;
			if (!*s)
				return false;
			u8_next(s, &sc);
			n = class_match(p, sc, &hit);
			if (n > 0 && p + n <= pend) {
				if (!hit)
					return false;
				p += n;
				s += u8_next(s, &sc);
				continue;
			}
			break; /* literal '[' */
		}
		case '\\':
			if (p + 1 < pend)
				p++;
			break;
		default:
			break;
		}
		p += u8_next(p, &c);
		if (!*s)
			return false;
		s += u8_next(s, &sc);
		if (c != sc)
			return false;
	}
	return *s == '\0';
}

struct path_segs {
	const char *seg[GLOB_MAX_SEGS];
	size_t n;
};

/* Match file segments [fi..) against pattern segments [pi..). */
static bool match_from(const struct glob_alt *a, const struct path_segs *f, size_t fi, size_t pi,
		       long *steps)
{
	for (; pi < a->nseg; pi++, fi++) {
		if (++*steps > GLOB_MAX_STEPS)
			return false;
		if (!a->seg[pi]) {
			size_t rest = 0;
			bool more_globstars = false;
			if (pi + 1 == a->nseg)
				return f->n > fi; /* trailing '**' needs a segment */
			for (size_t q = pi + 1; q < a->nseg; q++) {
				if (a->seg[q])
					rest++;
				else
					more_globstars = true;
			}
			if (!more_globstars) {
				/* The rest matches exactly `rest` segments, so this
				 * '**' can only end where that many are left. */
				return f->n >= fi + rest && match_from(a, f, f->n - rest, pi + 1, steps);
			}
			for (size_t k = fi; k <= f->n; k++)
				if (match_from(a, f, k, pi + 1, steps))
					return true;
			return false;
		}
		if (fi >= f->n)
			return false;
		if (!seg_match(a->seg[pi], a->seg[pi] + strlen(a->seg[pi]), f->seg[fi], steps))
			return false;
	}
	return fi == f->n;
}

bool fs_glob_match(const struct fs_glob *g, const char *path)
{
	char buf[PATH_MAX];
	struct path_segs f = {.n = 0};
	long steps = 0;
	char *p = buf;

	if (g->comment)
		return false;
	if (g->empty)
		return path[0] == '\0';
	size_t plen = strlen(path);

	if (plen >= sizeof(buf))
		return false;
	memcpy(buf, path, plen + 1);
	for (;;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (f.n >= GLOB_MAX_SEGS)
			return false;
		f.seg[f.n++] = p;
		if (!slash)
			break;
		p = slash + 1;
	}
	for (size_t i = 0; i < g->nalt; i++)
		if (match_from(&g->alt[i], &f, 0, 0, &steps))
			return !g->negate;
	return g->negate;
}

/* ---- shared walking -------------------------------------------------- */

struct globs {
	struct fs_glob **v;
	size_t n;
};

static void globs_free(struct globs *gs)
{
	for (size_t i = 0; i < gs->n; i++)
		fs_glob_free(gs->v[i]);
	free(gs->v);
}

static enum moat_rc globs_compile(const json_t *arr, struct globs *gs, struct moat_err *err)
{
	size_t i;
	json_t *e;

	gs->n = 0;
	gs->v = calloc(json_array_size(arr) + 1, sizeof(*gs->v));
	if (!gs->v)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_array_foreach(arr, i, e) {
		enum moat_rc rc = fs_glob_compile(json_string_value(e), &gs->v[gs->n], err);
		if (rc)
			return rc;
		gs->n++;
	}
	return MOAT_OK;
}

static bool globs_any(const struct globs *gs, const char *rel)
{
	for (size_t i = 0; i < gs->n; i++)
		if (fs_glob_match(gs->v[i], rel))
			return true;
	return false;
}

/* What a walk shares across its levels. */
struct walk {
	struct call_ctx *ctx;
	struct fs *fs;
	const struct fs_target *top;
	struct fs_out out;
	size_t results;     /* lines emitted */
	size_t max_results;
	bool stop;          /* a limit was hit: unwind */
	bool cut_entries;   /* max results reached */
	bool cut_budget;    /* output budget reached */
	bool cut_dir;       /* one directory held more than max_entries */
	bool cut_depth;     /* fs.max_depth reached */
	/* search_files */
	struct fs_glob *pattern;
	struct globs exclude;
	/* grep_files */
	pcre2_code *re;
	pcre2_match_data *md;
	pcre2_match_context *mctx;
	struct fs_glob *include;
	size_t skipped_big, skipped_binary, unreadable;
	char *filebuf;
};

/* Emit one result line; false (and stop) when a limit is reached. */
static bool walk_emit(struct walk *w, const char *line, size_t n)
{
	if (w->results >= w->max_results) {
		w->cut_entries = w->stop = true;
		return false;
	}
	if (w->results > 0 && !fs_out_add(&w->out, "\n", 1)) {
		w->cut_budget = w->stop = true;
		return false;
	}
	if (!fs_out_add(&w->out, line, n)) {
		w->cut_budget = w->stop = true;
		return false;
	}
	w->results++;
	return true;
}

typedef enum moat_rc (*walk_visit_fn)(struct walk *w, int dirfd, const struct fs_dirent *e,
				      const char *rel, bool *descend, struct moat_err *err);

/* Walk the directory open at dirfd (borrowed), rel its path below the
 * walk's top ("" at the top). Depth-first, entries in byte order. */
static enum moat_rc walk_dir(struct walk *w, int dirfd, const char *rel, uint32_t depth,
			     walk_visit_fn visit, struct moat_err *err)
{
	struct fs_dirents d = {0};
	enum moat_rc rc;

	if ((rc = fs_dirents_read(dirfd, w->fs->lim.max_entries, &d, err)))
		return rc;
	if (d.cut)
		w->cut_dir = true;
	for (size_t i = 0; i < d.n && !w->stop; i++) {
		char crel[PATH_MAX];
		bool descend = false;
		int sub;
		if ((rc = callctx_check(w->ctx, err)))
			goto out;
		if (!fs_join(crel, sizeof(crel), rel, d.v[i].name))
			continue; /* deeper than PATH_MAX: not reachable by path either */
		if ((rc = visit(w, dirfd, &d.v[i], crel, &descend, err)))
			goto out;
		if (!descend || w->stop || d.v[i].type != DT_DIR)
			continue;
		if (depth + 1 >= w->fs->lim.max_depth) {
			w->cut_depth = true;
			continue;
		}
		sub = openat(dirfd, d.v[i].name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue; /* unreadable or swapped for a symlink: skipped */
		rc = walk_dir(w, sub, crel, depth + 1, visit, err);
		close(sub);
		if (rc)
			goto out;
	}
out:
	fs_dirents_free(&d);
	return rc;
}

/* Print "top/rel" into buf. */
static size_t show_path(const struct walk *w, const char *rel, char *buf, size_t n)
{
	if (!fs_join(buf, n, w->top->abs, rel))
		return 0;
	return strlen(buf);
}

/* ---- search_files ---------------------------------------------------- */

static enum moat_rc search_visit(struct walk *w, int dirfd, const struct fs_dirent *e,
				 const char *rel, bool *descend, struct moat_err *err)
{
	char shown[PATH_MAX];
	size_t n;

	if (e->type == DT_LNK) {
		/* The reference skips links whose target it cannot validate
		 * (dangling or outside the allowed directories). Check that it
		 * resolves beneath the root, without following it anywhere. */
		struct fs_target t = {.root = w->top->root};
		struct moat_err ignore = {0};
		int fd;
		if (!fs_join(t.rel, sizeof(t.rel), strcmp(w->top->rel, ".") == 0 ? "" : w->top->rel,
			     rel))
			return MOAT_OK;
		fd = fs_openat(&t, O_PATH, 0, 0, &ignore);
		if (fd < 0)
			return MOAT_OK;
		close(fd);
	}
	if (w->exclude.n && globs_any(&w->exclude, rel))
		return MOAT_OK; /* excluded: neither listed nor entered */
	if (fs_glob_match(w->pattern, rel)) {
		n = show_path(w, rel, shown, sizeof(shown));
		if (n)
			walk_emit(w, shown, n);
	}
	*descend = true;
	return MOAT_OK;
}

static const char *walk_notes(struct walk *w, const char *what)
{
	if (w->cut_entries)
		fs_out_note(&w->out,
			    "[output cut: stopped after %zu %s (fs.max_entries); narrow the pattern "
			    "or the path]",
			    w->max_results, what);
	if (w->cut_budget)
		fs_out_note(&w->out,
			    "[output cut: stopped after %zu %s because the result reached the output "
			    "budget (limits.max_output_bytes)]",
			    w->results, what);
	if (w->cut_dir)
		fs_out_note(&w->out,
			    "[incomplete: a directory holds more than %zu entries (fs.max_entries); "
			    "only the first ones were searched]",
			    w->fs->lim.max_entries);
	if (w->cut_depth)
		fs_out_note(&w->out,
			    "[incomplete: directories deeper than %u levels were not searched "
			    "(fs.max_depth)]",
			    (unsigned)w->fs->lim.max_depth);
	return NULL;
}

static int open_walk_top(struct fs_view *v, json_t *args, struct fs_target *t,
			 struct moat_err *err)
{
	if (fs_resolve(v, json_string_value(json_object_get(args, "path")), t, err))
		return -1;
	return fs_open_listable(t, err);
}

static enum moat_rc search_files_tool(struct call_ctx *ctx, void *data, json_t *args,
				      struct tool_result *out, struct moat_err *err)
{
	struct fs *fs = data;
	struct fs_view *v = fs_view_get(fs);
	struct fs_target t;
	struct walk w = {.ctx = ctx, .fs = fs, .top = &t};
	enum moat_rc rc;
	int fd = -1;

	fs_out_init(&w.out, ctx->output_budget);
	w.max_results = fs->lim.max_entries;
	if ((rc = fs_glob_compile(json_string_value(json_object_get(args, "pattern")), &w.pattern,
				  err)))
		goto out;
	if ((rc = globs_compile(json_object_get(args, "excludePatterns"), &w.exclude, err)))
		goto out;
	fd = open_walk_top(v, args, &t, err);
	if (fd < 0) {
		rc = err->rc;
		goto out;
	}
	if ((rc = walk_dir(&w, fd, "", 0, search_visit, err)))
		goto out;
	if (w.results == 0 && !w.stop)
		fs_out_add(&w.out, "No matches found", 16);
	walk_notes(&w, "matches");
	rc = fs_out_finish(&w.out, out, err);
out:
	if (fd >= 0)
		close(fd);
	fs_glob_free(w.pattern);
	globs_free(&w.exclude);
	fs_out_free(&w.out);
	fs_view_put(fs, v);
	return rc;
}

/* ---- grep_files ------------------------------------------------------ */

#define GREP_LINE_MAX 500
#define GREP_BINARY_PROBE 8192
#define GREP_MATCH_LIMIT 1000000
#define GREP_DEPTH_LIMIT 10000

/* Read all of fd (at most cap bytes, which the caller checked) into
 * w->filebuf. Returns the length or -1. */
static ssize_t read_all(struct walk *w, int fd, size_t size)
{
	size_t got = 0;
	char *nb = realloc(w->filebuf, size + 1);

	if (!nb)
		return -1;
	w->filebuf = nb;
	while (got < size) {
		ssize_t r = read(fd, nb + got, size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	nb[got] = '\0';
	return (ssize_t)got;
}

static enum moat_rc grep_line(struct walk *w, const char *rel, size_t lineno, const char *line,
			      size_t n, struct moat_err *err)
{
	char head[PATH_MAX + 32], text[GREP_LINE_MAX * 3 + 8], shown[PATH_MAX];
	size_t raw = n > GREP_LINE_MAX + 4 ? GREP_LINE_MAX + 4 : n, tl, hl;
	int r;

	r = pcre2_match(w->re, (PCRE2_SPTR)line, n, 0, 0, w->md, w->mctx);
	if (r == PCRE2_ERROR_NOMATCH)
		return MOAT_OK;
	if (r == PCRE2_ERROR_MATCHLIMIT || r == PCRE2_ERROR_DEPTHLIMIT ||
	    r == PCRE2_ERROR_HEAPLIMIT)
		return moat_err_set(err, MOAT_ELIMIT,
				    "pattern: the regular expression hit the PCRE2 match limit (%d "
				    "steps) on a line; simplify it (nested quantifiers backtrack "
				    "catastrophically)",
				    GREP_MATCH_LIMIT);
	if (r < 0)
		return MOAT_OK; /* other per-line failures: treat as no match */
	if (!show_path(w, rel, shown, sizeof(shown)))
		return MOAT_OK;
	tl = fs_utf8_clean(line, raw, text, sizeof(text));
	if (n > GREP_LINE_MAX || tl > GREP_LINE_MAX) {
		tl = text_utf8_prefix(text, GREP_LINE_MAX);
		text[tl] = '\0';
		/* U+2026: the line continues */
		if (tl + 4 < sizeof(text)) {
			memcpy(text + tl, "\xE2\x80\xA6", 4);
			tl += 3;
		}
	}
	hl = (size_t)snprintf(head, sizeof(head), "%s:%zu:", shown, lineno);
	if (hl >= sizeof(head))
		return MOAT_OK;
	if (w->results >= w->max_results) {
		w->cut_entries = w->stop = true;
		return MOAT_OK;
	}
	if (!fs_out_fits(&w->out, 1 + hl + tl, 0) ||
	    (w->results > 0 && !fs_out_add(&w->out, "\n", 1))) {
		w->cut_budget = w->stop = true;
		return MOAT_OK;
	}
	fs_out_add(&w->out, head, hl);
	fs_out_add(&w->out, text, tl);
	w->results++;
	return MOAT_OK;
}

static enum moat_rc grep_visit(struct walk *w, int dirfd, const struct fs_dirent *e,
			       const char *rel, bool *descend, struct moat_err *err)
{
	struct stat st;
	enum moat_rc rc = MOAT_OK;
	ssize_t len;
	size_t lineno = 0;
	int fd;

	if (e->type == DT_DIR) {
		*descend = true;
		return MOAT_OK;
	}
	if (e->type != DT_REG)
		return MOAT_OK; /* links are never followed; FIFOs etc. never read */
	if (w->include && !fs_glob_match(w->include, e->name))
		return MOAT_OK;
	fd = openat(dirfd, e->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		w->unreadable++;
		return MOAT_OK;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return MOAT_OK;
	}
	if ((uint64_t)st.st_size > w->fs->lim.max_file_size) {
		w->skipped_big++;
		close(fd);
		return MOAT_OK;
	}
	len = read_all(w, fd, (size_t)st.st_size);
	close(fd);
	if (len < 0) {
		w->unreadable++;
		return MOAT_OK;
	}
	if (memchr(w->filebuf, '\0', (size_t)len < GREP_BINARY_PROBE ? (size_t)len
								      : GREP_BINARY_PROBE)) {
		w->skipped_binary++;
		return MOAT_OK;
	}
	for (const char *p = w->filebuf, *end = w->filebuf + len; p < end && !w->stop;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		if ((lineno & 1023) == 0 && (rc = callctx_check(w->ctx, err)))
			return rc;
		if ((rc = grep_line(w, rel, lineno, p, n > 0 && p[n - 1] == '\r' ? n - 1 : n, err)))
			return rc;
		p += n + 1;
	}
	return MOAT_OK;
}

static enum moat_rc grep_compile(struct walk *w, const char *pattern, struct moat_err *err)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int code;

	w->re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_NEVER_BACKSLASH_C, &code,
			      &off, NULL);
	if (!w->re) {
		pcre2_get_error_message(code, msg, sizeof(msg));
		return moat_err_set(err, MOAT_EINVAL,
				    "pattern is not a valid PCRE2 regular expression: %s (at offset "
				    "%zu)",
				    (const char *)msg, (size_t)off);
	}
	w->md = pcre2_match_data_create_from_pattern(w->re, NULL);
	w->mctx = pcre2_match_context_create(NULL);
	if (!w->md || !w->mctx)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	pcre2_set_match_limit(w->mctx, GREP_MATCH_LIMIT);
	pcre2_set_depth_limit(w->mctx, GREP_DEPTH_LIMIT);
	pcre2_set_heap_limit(w->mctx, 20000); /* KiB */
	return MOAT_OK;
}

static enum moat_rc grep_files_tool(struct call_ctx *ctx, void *data, json_t *args,
				    struct tool_result *out, struct moat_err *err)
{
	struct fs *fs = data;
	struct fs_view *v = fs_view_get(fs);
	struct fs_target t;
	struct walk w = {.ctx = ctx, .fs = fs, .top = &t};
	json_t *mm = json_object_get(args, "maxMatches");
	const char *inc = json_string_value(json_object_get(args, "include"));
	enum moat_rc rc;
	int fd = -1;

	fs_out_init(&w.out, ctx->output_budget);
	w.max_results = fs->lim.max_grep_matches;
	if (json_is_integer(mm) && json_integer_value(mm) > 0 &&
	    (uint64_t)json_integer_value(mm) < w.max_results)
		w.max_results = (size_t)json_integer_value(mm);
	if ((rc = grep_compile(&w, json_string_value(json_object_get(args, "pattern")), err)))
		goto out;
	if (inc && (rc = fs_glob_compile(inc, &w.include, err)))
		goto out;
	fd = open_walk_top(v, args, &t, err);
	if (fd < 0) {
		rc = err->rc;
		goto out;
	}
	if ((rc = walk_dir(&w, fd, "", 0, grep_visit, err)))
		goto out;
	if (w.results == 0 && !w.stop)
		fs_out_add(&w.out, "No matches found", 16);
	if (w.cut_entries) {
		fs_out_note(&w.out,
			    "[output cut: stopped after %zu matches (maxMatches, at most "
			    "fs.max_grep_matches = %u)]",
			    w.max_results, (unsigned)fs->lim.max_grep_matches);
		w.cut_entries = false;
	}
	walk_notes(&w, "matches");
	if (w.skipped_binary || w.skipped_big || w.unreadable)
		fs_out_note(&w.out,
			    "[skipped %zu binary file(s) (a NUL byte in the first 8 KiB), %zu file(s) "
			    "larger than fs.max_file_size (%zu bytes), %zu unreadable file(s)]",
			    w.skipped_binary, w.skipped_big, fs->lim.max_file_size, w.unreadable);
	rc = fs_out_finish(&w.out, out, err);
out:
	if (fd >= 0)
		close(fd);
	pcre2_match_data_free(w.md);
	pcre2_match_context_free(w.mctx);
	pcre2_code_free(w.re);
	fs_glob_free(w.include);
	free(w.filebuf);
	fs_out_free(&w.out);
	fs_view_put(fs, v);
	return rc;
}

/* ---- registration ---------------------------------------------------- */

enum moat_rc fs_register_search(struct registry *reg, struct fs *fs, struct moat_err *err)
{
	static const struct fs_tool_def tools[] = {
		{"search_files", "Search Files",
		 "Recursively search for files and directories matching a pattern. The patterns "
		 "should be glob-style patterns that match paths relative to the working directory. "
		 "Use pattern like '*.ext' to match files in current directory, and '**/*.ext' to "
		 "match files in all subdirectories. Returns full paths to all matching items. Great "
		 "for finding files when you don't know their exact location. Symlinks are listed, "
		 "never followed. Only searches within allowed directories.",
		 "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},\"pattern\":{"
		 "\"type\":\"string\"},\"excludePatterns\":{\"type\":\"array\",\"items\":{\"type\":"
		 "\"string\"},\"default\":[]}},\"required\":[\"path\",\"pattern\"],"
		 "\"additionalProperties\":false}",
		 search_files_tool, false},
		{"grep_files", "Grep Files",
		 "Search the contents of text files under a directory with a PCRE2 regular "
		 "expression (UTF-8). Returns one 'path:line:text' line per matching line (long "
		 "lines are cut). 'include' is a glob on file names (e.g. '*.{c,h}'). Binary files "
		 "and files larger than the configured limit are skipped; symlinks are not followed. "
		 "Stops after maxMatches matches. Only searches within allowed directories.",
		 "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},\"pattern\":{"
		 "\"type\":\"string\",\"description\":\"PCRE2 regular expression\"},\"include\":{"
		 "\"type\":\"string\",\"description\":\"glob on file names, e.g. *.c\"},"
		 "\"maxMatches\":{\"type\":\"integer\",\"minimum\":1,\"description\":\"stop after "
		 "this many matching lines\"}},\"required\":[\"path\",\"pattern\"],"
		 "\"additionalProperties\":false}",
		 grep_files_tool, false},
	};
	return fs_register_readonly(reg, fs, tools, sizeof(tools) / sizeof(tools[0]),
				    FS_TEXT_OUTPUT_SCHEMA, err);
}
