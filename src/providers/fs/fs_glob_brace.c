/*
 * fs_glob_brace.c - brace expansion for the glob matcher (fs_glob.c), in
 * the order bash and the brace-expansion npm package use: {a,b}, nested
 * lists, and sequences {x..y[..step]} of numbers (zero-padded as written)
 * or single characters. Bounded: at most FS_GLOB_MAX_EXPANSIONS results of
 * at most FS_GLOB_MAX_EXPANDED_BYTES in all, and GLOB_MAX_BRACE_STEPS
 * groups expanded in sequence; past a bound the list says so (too_many,
 * too_deep) and the compiler refuses the pattern. Thread-safe: pure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs_glob_brace.h"
void fs_strlist_free(struct fs_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
	l->bytes = 0;
}

static bool strlist_push(struct fs_strlist *l, char *s)
{
	char **nv;

	if (!s)
		return false;
	if (l->n >= FS_GLOB_MAX_EXPANSIONS || strlen(s) > FS_GLOB_MAX_EXPANDED_BYTES - l->bytes) {
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
	l->bytes += strlen(s);
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
static bool brace_seq(const char *body, size_t n, struct fs_strlist *out)
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
		if (k >= FS_GLOB_MAX_EXPANSIONS) {
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
static bool brace_list(const char *body, size_t n, struct fs_strlist *out)
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

void fs_brace_expand(const char *pat, struct fs_strlist *out, int depth)
{
	const char *p = pat, *open = NULL, *close = NULL;
	struct fs_strlist items = {0};

	if (out->too_many || out->too_deep)
		return;
	if (depth > GLOB_MAX_BRACE_STEPS) {
		out->too_deep = true;
		return;
	}
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
			fs_strlist_free(&items);
		}
	}
	if (!open)
		goto literal;
	if (items.too_many)
		out->too_many = true;
	for (size_t i = 0; i < items.n && !out->too_many; i++) {
		/* expand items recursively, then the rest */
		struct fs_strlist sub = {0};
		fs_brace_expand(items.v[i], &sub, depth + 1);
		for (size_t j = 0; j < sub.n && !out->too_many; j++) {
			char *joined = concat3(pat, (size_t)(open - pat), sub.v[j], strlen(sub.v[j]),
					       close + 1);
			struct fs_strlist rest = {0};
			if (!joined)
				continue;
			/* the prefix holds no braces; expand the remainder */
			fs_brace_expand(joined, &rest, depth + 1);
			free(joined);
			for (size_t k = 0; k < rest.n; k++) {
				strlist_push(out, rest.v[k]);
				rest.v[k] = NULL;
			}
			out->too_many |= rest.too_many;
			out->too_deep |= rest.too_deep;
			free(rest.v);
		}
		out->too_many |= sub.too_many;
		out->too_deep |= sub.too_deep;
		fs_strlist_free(&sub);
	}
	fs_strlist_free(&items);
	return;
literal:
	strlist_push(out, strdup(pat));
}
