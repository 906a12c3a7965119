/*
 * git_out.c - the bounded output every git tool writes: a text buffer that
 * counts what its text will cost on the wire (JSON-escaped) against the
 * call's output budget and its raw bytes against a family limit, stops
 * growing at the first that is reached and then says so in a closing note,
 * so a cut is never silent. Also the one place a tool's text and
 * structuredContent become its result: gitp_jstr for the tools that
 * still build a small tree, and the streamed document (gitp_doc, jsonw
 * into a buffer of its own, gitp_wstr for repository strings) for those
 * whose results grow with the repository (issue 17). Thread-safe
 * (touches only its arguments).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gitp.h"
#include "text.h"

/* What the JSON-RPC envelope and the note take besides the text. */
#define ENVELOPE_RESERVE 2048

void gitp_out_init(struct gitp_out *o, const struct call_ctx *ctx, size_t max_bytes,
		   const char *limit_name)
{
	memset(o, 0, sizeof(*o));
	o->budget = ctx->output_budget > 2 * ENVELOPE_RESERVE
			    ? ctx->output_budget - ENVELOPE_RESERVE
			    : ctx->output_budget / 2;
	o->max_bytes = max_bytes;
	o->limit_name = limit_name;
}

bool gitp_out_charge(struct gitp_out *o, size_t n)
{
	if (o->cut || o->cost + n > o->budget) {
		gitp_out_cut(o, NULL);
		return false;
	}
	o->cost += n;
	return true;
}

void gitp_out_cut(struct gitp_out *o, const char *why)
{
	if (o->cut)
		return;
	o->cut = true;
	if (why)
		snprintf(o->why, sizeof(o->why), "%s", why);
	else
		snprintf(o->why, sizeof(o->why),
			 "the output budget of one call (limits.max_output_bytes)");
}

bool gitp_out_put(struct gitp_out *o, const char *s, size_t n)
{
	size_t c;

	if (o->cut || o->oom)
		return false;
	if (o->max_bytes && o->len + n > o->max_bytes) {
		char why[96];
		snprintf(why, sizeof(why), "git.%s (%zu bytes)", o->limit_name, o->max_bytes);
		gitp_out_cut(o, why);
		return false;
	}
	c = text_json_cost(s, n);
	if (o->cost + c > o->budget) {
		gitp_out_cut(o, NULL);
		return false;
	}
	if (o->len + n + 1 > o->cap) {
		size_t nc = o->cap ? o->cap : 4096;
		char *nb;
		while (nc < o->len + n + 1)
			nc *= 2;
		if (!(nb = realloc(o->buf, nc))) {
			o->oom = true;
			return false;
		}
		o->buf = nb;
		o->cap = nc;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
	o->cost += c;
	return true;
}

bool gitp_out_puts(struct gitp_out *o, const char *s)
{
	return gitp_out_put(o, s, strlen(s));
}

bool gitp_out_printf(struct gitp_out *o, const char *fmt, ...)
{
	char small[512], *big = NULL;
	va_list ap;
	int n;
	bool ok;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return false;
	if ((size_t)n < sizeof(small))
		return gitp_out_put(o, small, (size_t)n);
	if (!(big = malloc((size_t)n + 1))) {
		o->oom = true;
		return false;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ok = gitp_out_put(o, big, (size_t)n);
	free(big);
	return ok;
}

char *gitp_out_take(struct gitp_out *o, const char *what)
{
	char note[320];
	size_t len = 0;
	char *text;

	if (o->oom) {
		gitp_out_free(o);
		return NULL;
	}
	note[0] = '\0';
	if (o->cut)
		snprintf(note, sizeof(note), "%s[output cut: %s reached %s]\n",
			 o->len && o->buf[o->len - 1] != '\n' ? "\n" : "", what, o->why);
	text = text_utf8_repair(o->buf ? o->buf : "", o->len, true, &len);
	gitp_out_free(o);
	if (text && note[0]) {
		size_t nl = strlen(note);
		char *t = realloc(text, len + nl + 1);
		if (!t) {
			free(text);
			return NULL;
		}
		memcpy(t + len, note, nl + 1);
		text = t;
	}
	return text;
}

void gitp_out_free(struct gitp_out *o)
{
	free(o->buf);
	o->buf = NULL;
	o->len = o->cap = 0;
}

json_t *gitp_jstr(const char *s, size_t n)
{
	size_t len = 0;
	char *t;
	json_t *j;

	if (!s)
		return json_string("");
	if (text_utf8_valid(s, n) && !memchr(s, '\0', n))
		return json_stringn(s, n);
	if (!(t = text_utf8_repair(s, n, true, &len)))
		return NULL;
	j = json_stringn(t, len);
	free(t);
	return j;
}

json_t *gitp_jstrz(const char *s)
{
	return gitp_jstr(s, s ? strlen(s) : 0);
}

/* ---- streamed structuredContent ---- */

void gitp_doc_init(struct gitp_doc *d)
{
	wire_buf_init(&d->b, NULL, 0);
	jsonw_init(&d->w, &d->b, 0);
}

bool gitp_wstr(struct jsonw *w, const char *s, size_t n)
{
	size_t len = 0;
	char *t;
	bool ok;

	if (!s)
		return jsonw_str(w, "", 0);
	if (text_utf8_valid(s, n) && !memchr(s, '\0', n))
		return jsonw_str(w, s, n);
	if (!(t = text_utf8_repair(s, n, true, &len))) {
		w->failed = true;
		return false;
	}
	ok = jsonw_str(w, t, len);
	free(t);
	return ok;
}

bool gitp_wstrz(struct jsonw *w, const char *s)
{
	return gitp_wstr(w, s, s ? strlen(s) : 0);
}

bool gitp_wkey(struct jsonw *w, const char *k)
{
	return jsonw_key(w, k, strlen(k));
}

enum moat_rc gitp_doc_take(struct gitp_doc *d, struct tool_result *out, char *text,
			   struct moat_err *err)
{
	size_t len = 0;
	char *json = jsonw_done(&d->w) ? wire_buf_take(&d->b, &len) : NULL;

	gitp_doc_free(d);
	return tool_result_take_json(out, json, len, text, err);
}

void gitp_doc_free(struct gitp_doc *d)
{
	wire_buf_release(&d->b);
}
