/*
 * fs_glob.c - the glob matcher of the fs family (see fs_glob.h), what
 * minimatch does with {dot: true}: brace expansion ({a,b}, {1..3}), a
 * leading '!' negates, a leading '#' is a comment that matches nothing,
 * '*' and '?' never cross '/', '**' as a whole segment matches any number
 * of segments (a trailing slash-globstar at least one), classes with
 * ranges, '!'/'^' negation and POSIX names, backslash escapes, and the
 * extglobs @(a|b), ?(..), *(..), +(..) and !(..). A pattern without '/' is
 * matched against the whole relative path (no matchBase), so "*.c" finds
 * only top-level files, exactly like the reference.
 *
 * Bounds: compile refuses long, deeply nested and over-expanding patterns;
 * a match counts every loop turn and every byte it scans against
 * FS_GLOB_MAX_STEPS, polls the call's deadline every few thousand steps,
 * bounds its recursion, and reports a stop as an error, so a budget that
 * runs out can never turn a negated pattern into a match. Thread-safe: a
 * compiled pattern is read-only and each match keeps its own state.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_glob.h"
#include "fs_glob_brace.h"


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
	size_t room = 1;

	for (const char *q = pat; *q; q++)
		room += *q == '/';
	if (room > FS_GLOB_MAX_SEGS)
		room = FS_GLOB_MAX_SEGS;
	a->seg = calloc(room, sizeof(*a->seg));
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
		if (a->nseg >= room) {
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

/*
 * Refuse, before any work, a pattern longer than FS_GLOB_MAX_LEN or whose
 * parentheses or braces nest deeper than FS_GLOB_MAX_NESTING. Counted the
 * way the matcher reads them (a backslash escapes the next byte; every '('
 * and '{' counts, closed or not), so nothing the matcher or the brace
 * expander recurses into can be deeper.
 */
static enum moat_rc glob_vet(const char *pattern, struct moat_err *err)
{
	size_t len = strlen(pattern);
	int paren = 0, brace = 0, deepest = 0;

	if (len > FS_GLOB_MAX_LEN)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.glob_length",
				     "pattern: longer than %d bytes (limits.glob_length)",
				     FS_GLOB_MAX_LEN);
	for (const char *p = pattern; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '(')
			paren++;
		else if (*p == ')' && paren > 0)
			paren--;
		else if (*p == '{')
			brace++;
		else if (*p == '}' && brace > 0)
			brace--;
		if (paren > deepest)
			deepest = paren;
		if (brace > deepest)
			deepest = brace;
	}
	if (deepest > FS_GLOB_MAX_NESTING)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.glob_depth",
				     "pattern: groups nest %d deep, more than %d (limits.glob_depth: "
				     "extglob parentheses or braces)",
				     deepest, FS_GLOB_MAX_NESTING);
	return MOAT_OK;
}

enum moat_rc fs_glob_compile(const char *pattern, struct fs_glob **out, struct moat_err *err)
{
	struct fs_glob *g = calloc(1, sizeof(*g));
	struct fs_strlist exp = {0};
	enum moat_rc rc = MOAT_OK;

	*out = NULL;
	if (!g)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if ((rc = glob_vet(pattern, err))) {
		free(g);
		return rc;
	}
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
	fs_brace_expand(pattern, &exp, 0);
	if (exp.too_many) {
		rc = moat_err_rule(err, MOAT_ELIMIT, "limits.glob_expansions",
				   "pattern: brace expansion gives more than %d patterns or more "
				   "than %zu bytes (limits.glob_expansions)",
				   FS_GLOB_MAX_EXPANSIONS, FS_GLOB_MAX_EXPANDED_BYTES);
		goto fail;
	}
	if (exp.too_deep) {
		rc = moat_err_rule(err, MOAT_ELIMIT, "limits.glob_depth",
				   "pattern: more than %d brace groups expand in sequence "
				   "(limits.glob_depth)",
				   GLOB_MAX_BRACE_STEPS);
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
				     ? moat_err_rule(err, rc, "limits.glob_segments",
						     "pattern: more than %d path segments "
						     "(limits.glob_segments)",
						     FS_GLOB_MAX_SEGS)
				     : moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto fail;
		}
	}
done:
	fs_strlist_free(&exp);
	*out = g;
	return MOAT_OK;
fail:
	fs_strlist_free(&exp);
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
 * *scanned gets the bytes read either way (the match counts them).
 */
static size_t class_match(const char *p, uint32_t c, bool *hit, size_t *scanned)
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
			/* a POSIX name is short: look for ":]" in the next few bytes only */
			size_t room = strnlen(q + 2, 10);
			const char *e = memmem(q + 2, room, ":]", 2);
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
	*scanned = (size_t)(q - p) + 1;
	if (*q != ']')
		return 0;
	*hit = any && (negate ? !matched && c != '/' : matched);
	return (size_t)(q + 1 - p);
}

/* One match in progress: its work so far and how it stopped. */
struct gm {
	size_t steps;      /* loop turns and bytes scanned */
	size_t next_check; /* steps at which ctx is polled next */
	unsigned depth;    /* seg_match frames on the stack */
	struct call_ctx *ctx;
	struct moat_err *err;
	enum moat_rc rc;   /* not MOAT_OK: the match stopped; no result stands */
};

#define GM_CHECK_EVERY 4096

/* Count n steps of work; false once the match must stop (budget spent, the
 * deadline passed or the call was cancelled), with m->rc set. */
static bool gm_work(struct gm *m, size_t n)
{
	if (m->rc)
		return false;
	m->steps += n;
	if (m->steps > FS_GLOB_MAX_STEPS) {
		m->rc = moat_err_rule(m->err, MOAT_ELIMIT, "limits.glob_steps",
				      "pattern: matching one path took more than %zu steps "
				      "(limits.glob_steps); simplify the pattern (nested extglobs and "
				      "many '*' backtrack)",
				      FS_GLOB_MAX_STEPS);
		return false;
	}
	if (m->ctx && m->steps >= m->next_check) {
		m->next_check = m->steps + GM_CHECK_EVERY;
		if ((m->rc = callctx_check(m->ctx, m->err)))
			return false;
	}
	return true;
}

static bool seg_match(const char *p, const char *pend, const char *s, const char *se,
		      struct gm *m);

/* u8_next for a subject that ends at se: a sequence cut by se is one
 * invalid byte, as it would be in a copy that ended there. */
static size_t u8_next_n(const char *s, const char *se, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = u[0] < 0x80 ? 1 : u[0] >= 0xF0 ? 4 : u[0] >= 0xE0 ? 3 : u[0] >= 0xC0 ? 2 : 1;

	if (n > (size_t)(se - s)) {
		*cp = u[0];
		return 1;
	}
	return u8_next(s, cp);
}

/* The ')' closing the extglob body that starts at p, looked for before
 * pend only; NULL when there is none. Counts the bytes it reads. */
static const char *ext_close(const char *p, const char *pend, struct gm *m)
{
	const char *start = p;
	int depth = 1;

	for (; p < pend; p++) {
		if (*p == '\\' && p + 1 < pend) {
			p++;
			continue;
		}
		if (*p == '(')
			depth++;
		else if (*p == ')' && --depth == 0)
			break;
	}
	gm_work(m, (size_t)(p - start) + 1);
	return p < pend ? p : NULL;
}

/* Does [s, se) match one of the '|' alternatives in [b, e)? False, with
 * m->rc set, when the match had to stop. */
static bool ext_any(const char *b, const char *e, const char *s, const char *se, struct gm *m)
{
	const char *a = b;
	int depth = 0;

	if (!gm_work(m, (size_t)(e - b) + 1))
		return false;
	for (const char *p = b; p <= e && !m->rc; p++) {
		if (p < e && *p == '\\' && p + 1 < e) {
			p++;
			continue;
		}
		if (p < e && *p == '(')
			depth++;
		else if (p < e && *p == ')')
			depth--;
		else if (p == e || (*p == '|' && depth == 0)) {
			if (seg_match(a, p, s, se, m))
				return true;
			a = p + 1;
		}
	}
	return false;
}

/* An extglob of the given kind at p (body (p + 2, e), e the ')'), then
 * the rest of the segment pattern up to pend, against [s, se). */
static bool ext_match(char kind, const char *p, const char *e, const char *pend, const char *s,
		      const char *se, struct gm *m)
{
	const char *body = p + 2, *rest = e + 1;
	size_t sl = (size_t)(se - s);

	if (kind == '@' || kind == '?') {
		if (kind == '?' && seg_match(rest, pend, s, se, m))
			return true;
		for (size_t k = 0; k <= sl && !m->rc; k++)
			if (ext_any(body, e, s, s + k, m) && seg_match(rest, pend, s + k, se, m))
				return true;
		return false;
	}
	if (kind == '!') {
		for (size_t k = 0; k <= sl; k++) {
			bool in = ext_any(body, e, s, s + k, m);
			if (m->rc)
				return false; /* unfinished: never read as "not in" */
			if (!in && seg_match(rest, pend, s + k, se, m))
				return true;
		}
		return false;
	}
	/* '*' or '+': one repetition then the same pattern again */
	if (kind == '*' && seg_match(rest, pend, s, se, m))
		return true;
	for (size_t k = 1; k <= sl && !m->rc; k++) {
		if (!ext_any(body, e, s, s + k, m))
			continue;
		if (seg_match(rest, pend, s + k, se, m))
			return true;
		/* more repetitions: go on as *(...); one level deeper */
		if (m->depth >= FS_GLOB_MAX_RECURSION) {
			seg_match(p, pend, s + k, se, m); /* sets the depth error */
			return false;
		}
		m->depth++;
		bool ok = ext_match('*', p, e, pend, s + k, se, m);
		m->depth--;
		if (ok && !m->rc)
			return true;
	}
	return false;
}

/* seg_match's body: match [p, pend) against the whole of [s, se). */
static bool seg_match_in(const char *p, const char *pend, const char *s, const char *se,
			 struct gm *m)
{
	while (p < pend) {
		uint32_t c, sc;
		if (!gm_work(m, 1))
			return false;
		if ((*p == '@' || *p == '?' || *p == '*' || *p == '+' || *p == '!') && p + 1 < pend &&
		    p[1] == '(') {
			const char *e = ext_close(p + 2, pend, m);
			if (m->rc)
				return false;
			if (e)
				return ext_match(*p, p, e, pend, s, se, m);
		}
		switch (*p) {
		case '*':
			while (p < pend && *p == '*')
				p++;
			if (p == pend)
				return gm_work(m, (size_t)(se - s)) &&
				       memchr(s, '/', (size_t)(se - s)) == NULL;
			for (const char *t = s;; t += u8_next_n(t, se, &sc)) {
				if (seg_match(p, pend, t, se, m))
					return true;
				if (m->rc || t == se || *t == '/')
					return false;
			}
		case '?':
			if (s == se || *s == '/')
				return false;
			s += u8_next_n(s, se, &sc);
			p++;
			continue;
		case '[': {
			bool hit = false;
			size_t n, scanned = 0;
			if (s == se)
				return false;
			u8_next_n(s, se, &sc);
			n = class_match(p, sc, &hit, &scanned);
			if (!gm_work(m, scanned))
				return false;
			if (n > 0 && p + n <= pend) {
				if (!hit)
					return false;
				p += n;
				s += u8_next_n(s, se, &sc);
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
		if (s == se)
			return false;
		s += u8_next_n(s, se, &sc);
		if (c != sc)
			return false;
	}
	return s == se;
}

/* Match the segment pattern [p, pend) against the whole of [s, se).
 * False, with m->rc set, once the match has to stop; the depth bound
 * holds the stack. */
static bool seg_match(const char *p, const char *pend, const char *s, const char *se,
		      struct gm *m)
{
	bool r;

	if (m->rc)
		return false;
	if (m->depth >= FS_GLOB_MAX_RECURSION) {
		m->rc = moat_err_rule(m->err, MOAT_ELIMIT, "limits.glob_depth",
				      "pattern: matching nests deeper than %d levels "
				      "(limits.glob_depth)",
				      FS_GLOB_MAX_RECURSION);
		return false;
	}
	m->depth++;
	r = seg_match_in(p, pend, s, se, m);
	m->depth--;
	return r && !m->rc;
}

struct path_segs {
	const char **seg;
	size_t n;
};

/* Match file segments [fi..) against pattern segments [pi..). Recursion
 * is one level per '**', at most FS_GLOB_MAX_SEGS. */
static bool match_from(const struct glob_alt *a, const struct path_segs *f, size_t fi, size_t pi,
		       struct gm *m)
{
	for (; pi < a->nseg; pi++, fi++) {
		if (!gm_work(m, 1))
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
			if (!gm_work(m, a->nseg - pi))
				return false;
			if (!more_globstars) {
				/* The rest matches exactly `rest` segments, so this
				 * '**' can only end where that many are left. */
				return f->n >= fi + rest && match_from(a, f, f->n - rest, pi + 1, m);
			}
			for (size_t k = fi; k <= f->n && !m->rc; k++)
				if (match_from(a, f, k, pi + 1, m))
					return true;
			return false;
		}
		if (fi >= f->n)
			return false;
		if (!seg_match(a->seg[pi], a->seg[pi] + strlen(a->seg[pi]), f->seg[fi],
			       f->seg[fi] + strlen(f->seg[fi]), m))
			return false;
	}
	return fi == f->n && !m->rc;
}

enum moat_rc fs_glob_match(const struct fs_glob *g, const char *path, struct call_ctx *ctx,
			   bool *hit, struct moat_err *err)
{
	char buf[PATH_MAX];
	const char *small[64];
	struct path_segs f = {.seg = small, .n = 0};
	struct gm m = {.ctx = ctx, .err = err, .next_check = GM_CHECK_EVERY};
	size_t plen, nseg = 1;
	bool any = false;
	char *p = buf;

	*hit = false;
	if (g->comment)
		return MOAT_OK;
	if (g->empty) {
		*hit = path[0] == '\0';
		return MOAT_OK;
	}
	plen = strlen(path);
	if (plen >= sizeof(buf))
		return moat_err_rule(err, MOAT_ELIMIT, "limits.glob_length",
				     "a path longer than %d bytes cannot be matched", PATH_MAX - 1);
	memcpy(buf, path, plen + 1);
	for (size_t i = 0; i < plen; i++)
		nseg += buf[i] == '/';
	if (nseg > sizeof(small) / sizeof(small[0])) {
		f.seg = malloc(nseg * sizeof(*f.seg));
		if (!f.seg)
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	for (;;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		f.seg[f.n++] = p;
		if (!slash)
			break;
		p = slash + 1;
	}
	for (size_t i = 0; i < g->nalt && !any && !m.rc; i++)
		any = match_from(&g->alt[i], &f, 0, 0, &m);
	if (f.seg != small)
		free(f.seg);
	if (m.rc)
		return m.rc; /* no answer: an unfinished negated match is not a match */
	*hit = any != g->negate;
	return MOAT_OK;
}

void fs_globs_free(struct fs_globs *gs)
{
	for (size_t i = 0; i < gs->n; i++)
		fs_glob_free(gs->v[i]);
	free(gs->v);
	gs->v = NULL;
	gs->n = 0;
}

enum moat_rc fs_globs_add(struct fs_globs *gs, const char *pattern, const char *what, size_t idx,
			  struct moat_err *err)
{
	struct fs_glob **nv;
	enum moat_rc rc;

	if (idx >= FS_GLOB_MAX_PATTERNS)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.glob_patterns",
				     "%s: more than %d patterns (limits.glob_patterns)", what,
				     FS_GLOB_MAX_PATTERNS);
	nv = realloc(gs->v, (gs->n + 1) * sizeof(*nv));
	if (!nv)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	gs->v = nv;
	if ((rc = fs_glob_compile(pattern, &gs->v[gs->n], err))) {
		char msg[MOAT_ERR_MSG_MAX];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		/* "pattern: ..." becomes "excludePatterns/2: ..." (the rule stays) */
		return moat_err_set(err, rc, "%s/%zu: %s", what, idx,
				    strncmp(msg, "pattern: ", 9) == 0 ? msg + 9 : msg);
	}
	gs->n++;
	return MOAT_OK;
}

enum moat_rc fs_globs_any(const struct fs_globs *gs, const char *path, struct call_ctx *ctx,
			  bool *hit, struct moat_err *err)
{
	enum moat_rc rc;

	*hit = false;
	for (size_t i = 0; i < gs->n && !*hit; i++)
		if ((rc = fs_glob_match(gs->v[i], path, ctx, hit, err)))
			return rc;
	return MOAT_OK;
}
