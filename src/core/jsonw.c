/*
 * jsonw.c - the streaming JSON writer (see jsonw.h): separators and
 * nesting kept here, every byte of a value made by wire.c's own writers.
 */
#include "jsonw.h"

void jsonw_init(struct jsonw *w, struct wire_buf *b, size_t budget)
{
	w->b = b;
	w->start = b->len;
	w->budget = budget;
	w->depth = 0;
	w->failed = b->failed;
	w->over = false;
	w->want_key[0] = false;
	w->first[0] = true;
	w->is_obj[0] = false;
}

static bool fail(struct jsonw *w)
{
	w->failed = true;
	return false;
}

/* After a write: note a budget crossing, carry a buffer failure. */
static bool wrote(struct jsonw *w, bool ok)
{
	if (!ok || w->b->failed)
		return fail(w);
	if (w->budget && w->b->len - w->start > w->budget)
		w->over = true;
	return true;
}

/* Before a value: the comma, and whether a value may come here at all. */
static bool value_slot(struct jsonw *w)
{
	int d = w->depth;

	if (w->failed)
		return false;
	if (d == 0) {
		if (!w->first[0])
			return fail(w); /* one value per document */
		w->first[0] = false;
		return true;
	}
	if (w->is_obj[d]) {
		if (w->want_key[d])
			return fail(w); /* a value where a key is due */
		w->want_key[d] = true;
		return true;
	}
	if (!w->first[d] && !wire_put_raw(w->b, ",", 1))
		return fail(w);
	w->first[d] = false;
	return true;
}

static bool open_container(struct jsonw *w, bool obj)
{
	if (!value_slot(w))
		return false;
	if (w->depth >= JSONW_MAX_DEPTH)
		return fail(w);
	w->depth++;
	w->is_obj[w->depth] = obj;
	w->want_key[w->depth] = obj;
	w->first[w->depth] = true;
	return wrote(w, wire_put_raw(w->b, obj ? "{" : "[", 1));
}

static bool close_container(struct jsonw *w, bool obj)
{
	int d = w->depth;

	if (w->failed || d == 0 || w->is_obj[d] != obj || (obj && !w->want_key[d]))
		return fail(w);
	w->depth--;
	return wrote(w, wire_put_raw(w->b, obj ? "}" : "]", 1));
}

bool jsonw_obj_begin(struct jsonw *w) { return open_container(w, true); }
bool jsonw_obj_end(struct jsonw *w) { return close_container(w, true); }
bool jsonw_arr_begin(struct jsonw *w) { return open_container(w, false); }
bool jsonw_arr_end(struct jsonw *w) { return close_container(w, false); }

bool jsonw_key(struct jsonw *w, const char *k, size_t n)
{
	int d = w->depth;

	if (w->failed || d == 0 || !w->is_obj[d] || !w->want_key[d])
		return fail(w);
	if (!w->first[d] && !wire_put_raw(w->b, ",", 1))
		return fail(w);
	w->first[d] = false;
	w->want_key[d] = false;
	return wrote(w, wire_put_string(w->b, k, n) && wire_put_raw(w->b, ":", 1));
}

bool jsonw_str(struct jsonw *w, const char *s, size_t n)
{
	return value_slot(w) && wrote(w, wire_put_string(w->b, s, n));
}

bool jsonw_i64(struct jsonw *w, int64_t v)
{
	return value_slot(w) && wrote(w, wire_put_i64(w->b, v));
}

bool jsonw_double(struct jsonw *w, double v)
{
	return value_slot(w) && wrote(w, wire_put_double(w->b, v));
}

bool jsonw_bool(struct jsonw *w, bool v)
{
	return value_slot(w) && wrote(w, v ? wire_put_raw(w->b, "true", 4)
					   : wire_put_raw(w->b, "false", 5));
}

bool jsonw_null(struct jsonw *w)
{
	return value_slot(w) && wrote(w, wire_put_raw(w->b, "null", 4));
}

bool jsonw_json(struct jsonw *w, const json_t *v)
{
	bool ok = value_slot(w) && wrote(w, wire_write(w->b, v));

	/* wire.c remembers a large string by its address for a second
	 * appearance in the same message; here v is the caller's and may be
	 * freed, and another value allocated at that address, before the
	 * document ends. Forget it. */
	w->b->memo = NULL;
	return ok;
}

bool jsonw_raw(struct jsonw *w, const char *json, size_t n)
{
	return value_slot(w) && wrote(w, n > 0 && wire_put_raw(w->b, json, n));
}

bool jsonw_over(const struct jsonw *w)
{
	return w->over;
}

struct jsonw_mark jsonw_mark(const struct jsonw *w)
{
	struct jsonw_mark m = {
		.len = w->b->len,
		.depth = w->depth,
		.want_key = w->want_key[w->depth],
		.first = w->first[w->depth],
	};
	return m;
}

void jsonw_rewind(struct jsonw *w, struct jsonw_mark m)
{
	if (w->failed || m.depth != w->depth || m.len > w->b->len || m.len < w->start) {
		w->failed = true;
		return;
	}
	w->b->len = m.len;
	w->want_key[m.depth] = m.want_key;
	w->first[m.depth] = m.first;
	/* A large string remembered past the mark is gone with it. */
	if (w->b->memo && w->b->memo_off + w->b->memo_len > m.len)
		w->b->memo = NULL;
	w->over = w->budget && w->b->len - w->start > w->budget;
}

bool jsonw_done(const struct jsonw *w)
{
	return !w->failed && w->depth == 0 && !w->first[0];
}

size_t jsonw_length(const struct jsonw *w)
{
	return w->b->len - w->start;
}
