/*
 * sql_result.c - a capped query result written in one pass: each cell
 * straight into the JSON document (jsonw) and the text table line. See
 * sql_result.h.
 */
#include "sql_result.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"
#include "sql_text.h"

#define CELL_MAX 80 /* bytes of one cell in the text table */

static void tb_add(struct sql_tbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void tb_str(struct sql_tbuf *b, const char *s)
{
	tb_add(b, s, strlen(s));
}

/* A string cell as table text: cut at CELL_MAX bytes on a UTF-8 boundary,
 * control characters shown as spaces, '|' as '/', "…" when cut. */
static void tb_text(struct sql_tbuf *b, const char *s, size_t n)
{
	size_t cut = n > CELL_MAX ? CELL_MAX : n;

	while (cut > 0 && cut < n && ((unsigned char)s[cut] & 0xC0) == 0x80)
		cut--;
	for (size_t i = 0, run = 0; i <= cut; i++) {
		unsigned char c;
		uint64_t x;

		/* eight plain bytes at a time: none below 0x20, none 0x7F or '|'
		 * (the classic has-zero-byte test on x, x ^ 0x7F.. and x ^ '|'..;
		 * a byte >= 0x80 may raise a false alarm, which only sends that
		 * word to the byte loop) */
		while (i + 8 <= cut) {
			const uint64_t ones = 0x0101010101010101ull, high = 0x8080808080808080ull;
			memcpy(&x, s + i, 8);
			if (((((x - 0x20 * ones) & ~x) | ((x ^ 0x7F * ones) - ones) |
			      ((x ^ '|' * ones) - ones)) & high) != 0)
				break;
			i += 8;
		}
		c = i < cut ? (unsigned char)s[i] : 0;
		if (i < cut && c >= 0x20 && c != 0x7F && c != '|')
			continue;
		tb_add(b, s + run, i - run); /* the run that needs no change */
		if (i < cut)
			tb_add(b, c == '|' ? "/" : " ", 1);
		run = i + 1;
	}
	if (cut < n)
		tb_str(b, "…");
}

enum moat_rc sql_result_init(struct sql_result *r, size_t max_rows, size_t max_bytes,
			     size_t table_max, struct moat_err *err)
{
	(void)err;
	memset(r, 0, sizeof(*r));
	r->max_rows = max_rows;
	r->max_bytes = max_bytes;
	r->table_max = table_max;
	r->affected = -1;
	wire_buf_init(&r->buf, NULL, 0);
	jsonw_init(&r->w, &r->buf, 0);
	return MOAT_OK;
}

enum moat_rc sql_result_column(struct sql_result *r, const char *name, const char *type,
			       struct moat_err *err)
{
	struct sql_column *c;

	if (!name)
		name = "";
	/* jansson refused a name or type that is not UTF-8, and the tree
	 * builder reported it as out of memory: so does this. */
	if (r->started || !sql_utf8_valid(name, strlen(name)) ||
	    (type && !sql_utf8_valid(type, strlen(type))))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (r->ncols == r->cols_cap) {
		size_t cap = r->cols_cap ? 2 * r->cols_cap : 8;
		struct sql_column *p = realloc(r->cols, cap * sizeof(*p));
		if (!p)
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		r->cols = p;
		r->cols_cap = cap;
	}
	c = &r->cols[r->ncols];
	c->name = strdup(name);
	c->type = type ? strdup(type) : NULL;
	if (!c->name || (type && !c->type)) {
		free(c->name);
		free(c->type);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	r->ncols++;
	return MOAT_OK;
}

void sql_result_column_type(struct sql_result *r, size_t i, const char *type)
{
	if (r->started || i >= r->ncols || r->cols[i].type || !type)
		return;
	r->cols[i].type = strdup(type);
	if (!r->cols[i].type)
		r->oom = true;
}

bool sql_result_column_typed(const struct sql_result *r, size_t i)
{
	return i < r->ncols && r->cols[i].type;
}

const char *sql_result_column_name(const struct sql_result *r, size_t i)
{
	return i < r->ncols ? r->cols[i].name : NULL;
}

/* The table's header: the column names as cells, and the rule. */
static void put_header(struct sql_result *r)
{
	if (r->header)
		return;
	for (size_t i = 0; i < r->ncols; i++) {
		if (i)
			tb_str(&r->text, " | ");
		tb_text(&r->text, r->cols[i].name, strlen(r->cols[i].name));
	}
	tb_str(&r->text, "\n");
	tb_str(&r->text, "---\n");
	r->header = true;
}

/* {"columns":[...],"rows":[ : the columns are final from here on. */
static bool start(struct sql_result *r)
{
	struct jsonw *w = &r->w;
	bool ok;

	if (r->started)
		return !r->w.failed;
	r->started = true;
	ok = jsonw_obj_begin(w) && jsonw_key(w, "columns", 7) && jsonw_arr_begin(w);
	for (size_t i = 0; ok && i < r->ncols; i++) {
		const struct sql_column *c = &r->cols[i];
		ok = jsonw_obj_begin(w) && jsonw_key(w, "name", 4) &&
		     jsonw_str(w, c->name, strlen(c->name)) && jsonw_key(w, "type", 4) &&
		     (c->type ? jsonw_str(w, c->type, strlen(c->type)) : jsonw_null(w)) &&
		     jsonw_obj_end(w);
	}
	ok = ok && jsonw_arr_end(w) && jsonw_key(w, "rows", 4);
	r->rows_off = r->buf.len;
	return ok && jsonw_arr_begin(w);
}

/* ]: the rows are complete. */
static bool close_rows(struct sql_result *r)
{
	if (!start(r))
		return false;
	if (!r->rows_closed) {
		r->rows_closed = true;
		if (!jsonw_arr_end(&r->w))
			return false;
		r->rows_end = r->buf.len;
	}
	return !r->w.failed;
}

enum moat_rc sql_result_row_begin(struct sql_result *r, struct moat_err *err)
{
	if (r->in_row || r->rows_closed || !start(r))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	put_header(r);
	r->mark = jsonw_mark(&r->w);
	r->row_len0 = jsonw_length(&r->w);
	r->text_mark = r->text.len;
	r->row_text = !(r->table_max && r->text.len > r->table_max);
	r->cell = 0;
	r->in_row = true;
	if (!jsonw_arr_begin(&r->w))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return MOAT_OK;
}

/* Before a cell's table text: the separator; false when no line is kept. */
static bool text_cell(struct sql_result *r)
{
	if (!r->row_text)
		return false;
	if (r->cell)
		tb_str(&r->text, " | ");
	return true;
}

static bool cell_done(struct sql_result *r, bool ok)
{
	r->cell++;
	if (!ok)
		r->oom = true;
	return ok;
}

bool sql_result_cell_null(struct sql_result *r)
{
	if (text_cell(r))
		tb_str(&r->text, "NULL");
	return cell_done(r, jsonw_null(&r->w));
}

/* A number is formatted once for both: the table shows what the JSON
 * holds (numfmt is what wire.c writes numbers with). */
bool sql_result_cell_i64(struct sql_result *r, int64_t v)
{
	char num[NUMFMT_MAX];
	size_t n = numfmt_i64(num, v);

	if (text_cell(r))
		tb_add(&r->text, num, n);
	return cell_done(r, jsonw_raw(&r->w, num, n));
}

bool sql_result_cell_double(struct sql_result *r, double v)
{
	char num[NUMFMT_MAX];
	size_t n = numfmt_double(num, v);

	if (text_cell(r))
		tb_add(&r->text, num, n);
	/* a non-finite value has no JSON form: the writer fails, as before */
	return cell_done(r, n > 0 ? jsonw_raw(&r->w, num, n) : jsonw_double(&r->w, v));
}

bool sql_result_cell_bool(struct sql_result *r, bool v)
{
	if (text_cell(r))
		tb_str(&r->text, v ? "true" : "false");
	return cell_done(r, jsonw_bool(&r->w, v));
}

bool sql_result_cell_text(struct sql_result *r, const char *s, size_t n)
{
	char *fixed = NULL;
	bool ok;

	if (!s)
		s = "";
	if (!sql_utf8_valid(s, n)) {
		if (!(fixed = sql_utf8_repair(s, n, &n)))
			return cell_done(r, false);
		s = fixed;
	}
	if (text_cell(r))
		tb_text(&r->text, s, n);
	ok = jsonw_str(&r->w, s, n);
	free(fixed);
	return cell_done(r, ok);
}

bool sql_result_cell_json(struct sql_result *r, const json_t *v)
{
	bool ok;

	switch (json_typeof(v)) {
	case JSON_NULL:
		return sql_result_cell_null(r);
	case JSON_INTEGER:
		return sql_result_cell_i64(r, json_integer_value(v));
	case JSON_REAL:
		return sql_result_cell_double(r, json_real_value(v));
	case JSON_TRUE:
	case JSON_FALSE:
		return sql_result_cell_bool(r, json_is_true(v));
	case JSON_STRING:
		if (text_cell(r))
			tb_text(&r->text, json_string_value(v), json_string_length(v));
		ok = jsonw_str(&r->w, json_string_value(v), json_string_length(v));
		return cell_done(r, ok);
	default:
		if (text_cell(r))
			tb_str(&r->text, "?");
		ok = jsonw_json(&r->w, v); /* forgets v's large strings (jsonw.c) */
		return cell_done(r, ok);
	}
}

enum moat_rc sql_result_row_end(struct sql_result *r, bool *more, struct moat_err *err)
{
	size_t cost;

	*more = false;
	if (!r->in_row || r->oom || r->cell != r->ncols || !jsonw_arr_end(&r->w))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	r->in_row = false;
	/* The row's compact JSON and a comma: what precedes it since the
	 * mark is its comma when it is not the first. */
	cost = jsonw_length(&r->w) - r->row_len0 - (r->nrows ? 1 : 0) + 1;
	if (r->max_bytes && r->bytes + cost > r->max_bytes) {
		jsonw_rewind(&r->w, r->mark);
		r->text.len = r->text_mark;
		if (r->text.s)
			r->text.s[r->text.len] = '\0';
		r->truncated = true;
		r->why = "max_bytes";
		return r->w.failed ? moat_err_set(err, MOAT_ENOMEM, "out of memory") : MOAT_OK;
	}
	r->bytes += cost;
	r->nrows++;
	if (r->row_text) {
		tb_str(&r->text, "\n");
		r->shown++;
	}
	*more = !(r->max_rows && r->nrows >= r->max_rows);
	return MOAT_OK;
}

void sql_result_more(struct sql_result *r)
{
	r->truncated = true;
	r->why = "max_rows";
}

static const char *note(const struct sql_result *r)
{
	if (!r->truncated)
		return NULL;
	return r->why && strcmp(r->why, "max_bytes") == 0
		       ? "result cut at the database's max_bytes; narrow the query or add LIMIT"
		       : "result cut at the database's max_rows; narrow the query or add LIMIT";
}

char *sql_result_document(struct sql_result *r, const char *database, bool with_affected,
			  size_t *len)
{
	struct jsonw *w = &r->w;
	const char *n = note(r);
	bool ok;

	*len = 0;
	if (r->in_row || r->oom)
		return NULL;
	ok = close_rows(r) && jsonw_key(w, "truncated", 9) && jsonw_bool(w, r->truncated) &&
	     jsonw_key(w, "row_count", 9) && jsonw_i64(w, (int64_t)r->nrows);
	if (ok && n)
		ok = jsonw_key(w, "note", 4) && jsonw_str(w, n, strlen(n));
	if (ok && database)
		ok = jsonw_key(w, "database", 8) && jsonw_str(w, database, strlen(database));
	if (ok && with_affected)
		ok = jsonw_key(w, "affected_rows", 13) && jsonw_i64(w, r->affected);
	if (!ok || !jsonw_obj_end(w) || !jsonw_done(w)) {
		wire_buf_release(&r->buf);
		return NULL;
	}
	return wire_buf_take(&r->buf, len);
}

char *sql_result_table(struct sql_result *r)
{
	char line[160];
	char *s;

	put_header(r);
	if (r->shown < r->nrows) {
		snprintf(line, sizeof(line), "... %zu more rows in structuredContent\n",
			 r->nrows - r->shown);
		tb_str(&r->text, line);
	}
	snprintf(line, sizeof(line), "(%zu row%s%s)\n", r->nrows, r->nrows == 1 ? "" : "s",
		 r->truncated ? ", truncated" : "");
	tb_str(&r->text, line);
	if (note(r)) {
		tb_str(&r->text, note(r));
		tb_str(&r->text, "\n");
	}
	s = r->text.s;
	if (r->text.oom || r->oom) {
		free(s);
		s = NULL;
	}
	memset(&r->text, 0, sizeof(r->text));
	return s;
}

json_t *sql_result_rows(struct sql_result *r)
{
	if (r->in_row || r->oom || !close_rows(r))
		return NULL;
	return json_loadb(r->buf.data + r->rows_off, r->rows_end - r->rows_off,
			  JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
}

void sql_result_free(struct sql_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ncols; i++) {
		free(r->cols[i].name);
		free(r->cols[i].type);
	}
	free(r->cols);
	r->cols = NULL;
	r->ncols = r->cols_cap = 0;
	wire_buf_release(&r->buf);
	free(r->text.s);
	memset(&r->text, 0, sizeof(r->text));
}
