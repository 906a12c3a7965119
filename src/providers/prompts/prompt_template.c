/*
 * prompt_template.c - "{argument}" templates: scanned once at load, expanded
 * per prompts/get into a bounded buffer. See prompt_template.h.
 */
#include "prompt_template.h"

#include <stdlib.h>
#include <string.h>

static bool name_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

/* At p (a '{' that is not "{{"): the name's length when "{name}" follows,
 * else 0. */
static size_t placeholder(const char *p)
{
	size_t n = 0;

	while (name_char(p[1 + n]) && n < 64)
		n++;
	return n > 0 && p[1 + n] == '}' ? n : 0;
}

enum moat_rc ptmpl_scan(const char *tmpl, ptmpl_name_fn fn, void *ctx, struct moat_err *err)
{
	for (const char *p = tmpl; *p; p++) {
		size_t n;
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			p++;
			continue;
		}
		if (*p == '}')
			return moat_err_rule(err, MOAT_EINVAL, "prompts.bad_template",
					     "a lone '}' at byte %zu (write '}}' for a brace)",
					     (size_t)(p - tmpl));
		if (*p != '{')
			continue;
		if (!(n = placeholder(p)))
			return moat_err_rule(err, MOAT_EINVAL, "prompts.bad_template",
					     "'{' at byte %zu opens no {name} (write '{{' for a "
					     "brace)",
					     (size_t)(p - tmpl));
		if (fn && !fn(ctx, p + 1, n))
			return err && err->rc ? err->rc : MOAT_EINVAL;
		p += n + 1;
	}
	return MOAT_OK;
}

struct buf {
	char *s;
	size_t len, cap;
	bool fail; /* big or out of memory */
	bool big;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->fail)
		return;
	if (b->len + n + 1 > PTMPL_MAX_OUT) {
		b->fail = b->big = true;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *ns;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (!(ns = realloc(b->s, cap))) {
			b->fail = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* What a URI path may hold as it is. */
static bool uri_keep(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       strchr("-._~!$&'()*+,;=:@/", c) != NULL;
}

static void put_value(struct buf *b, const char *v, bool uri)
{
	static const char hex[] = "0123456789ABCDEF";

	if (!uri) {
		put(b, v, strlen(v));
		return;
	}
	for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
		char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
		if (uri_keep(*p))
			put(b, (const char *)p, 1);
		else
			put(b, enc, 3);
	}
}

char *ptmpl_expand(const char *tmpl, const json_t *args, bool uri, struct moat_err *err)
{
	struct buf b = {0};

	if (ptmpl_scan(tmpl, NULL, NULL, err))
		return NULL;
	put(&b, "", 0);
	for (const char *p = tmpl; *p && !b.fail;) {
		const char *q = p;
		while (*q && *q != '{' && *q != '}')
			q++;
		put(&b, p, (size_t)(q - p));
		if (!*q)
			break;
		if (q[0] == q[1]) { /* "{{" or "}}" */
			put(&b, q, 1);
			p = q + 2;
			continue;
		}
		size_t n = placeholder(q);
		char name[65];
		memcpy(name, q + 1, n);
		name[n] = '\0';
		const char *v = json_string_value(json_object_get(args, name));
		put_value(&b, v ? v : "", uri);
		p = q + n + 2;
	}
	if (b.fail) {
		free(b.s);
		if (b.big)
			moat_err_rule(err, MOAT_ELIMIT, "prompts.too_long",
				      "the prompt's expansion exceeds %zu bytes", PTMPL_MAX_OUT);
		else
			moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	return b.s;
}

size_t ptmpl_scheme_len(const char *tmpl)
{
	size_t n = 0;

	if (!((tmpl[0] >= 'a' && tmpl[0] <= 'z') || (tmpl[0] >= 'A' && tmpl[0] <= 'Z')))
		return 0;
	while (tmpl[n] && tmpl[n] != ':') {
		char c = tmpl[n];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '-' || c == '.'))
			return 0;
		n++;
	}
	return tmpl[n] == ':' ? n : 0;
}
