/*
 * sql_result_ref.c - the tree builder that sql_result.c replaced (issue
 * 17), kept verbatim but for its names: rows as jansson arrays, the
 * document built as a tree, the table walked from it afterwards. Included
 * by test_sql_result.c only, which checks that the streaming builder
 * writes the very same bytes for the same rows and caps.
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"
#include "result.h"
#include "wire.h"

struct sqlref {
	json_t *columns;      /* [{name, type}]; owned */
	json_t *rows;         /* [[...]]; owned */
	size_t nrows;
	size_t bytes;         /* compact JSON size of rows so far */
	size_t max_rows;
	size_t max_bytes;
	bool truncated;
	const char *why;      /* static: which cap cut the result, or NULL */
	int64_t affected;     /* write_query: rows changed; -1 = not a write */
};

static void sqlref_free(struct sqlref *r);

#define CELL_MAX 80 /* bytes of one cell in the text table */

static enum moat_rc sqlref_init(struct sqlref *r, size_t max_rows, size_t max_bytes,
			     struct moat_err *err)
{
	memset(r, 0, sizeof(*r));
	r->max_rows = max_rows;
	r->max_bytes = max_bytes;
	r->affected = -1;
	r->columns = json_array();
	r->rows = json_array();
	if (!r->columns || !r->rows) {
		sqlref_free(r);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	return MOAT_OK;
}

static enum moat_rc sqlref_column(struct sqlref *r, const char *name, const char *type,
			       struct moat_err *err)
{
	json_t *c = json_pack("{s:s, s:o}", "name", name ? name : "",
			      "type", type ? json_string(type) : json_null());

	if (!c || json_array_append_new(r->columns, c) != 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return MOAT_OK;
}

static enum moat_rc sqlref_row(struct sqlref *r, json_t *row, bool *more, struct moat_err *err)
{
	size_t cost = wire_length(row) + 1; /* and a comma */

	*more = false;
	if (r->max_bytes && r->bytes + cost > r->max_bytes) {
		json_decref(row);
		r->truncated = true;
		r->why = "max_bytes";
		return MOAT_OK;
	}
	if (json_array_append_new(r->rows, row) != 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	r->bytes += cost;
	r->nrows++;
	*more = !(r->max_rows && r->nrows >= r->max_rows);
	return MOAT_OK;
}

static void sqlref_more(struct sqlref *r)
{
	r->truncated = true;
	r->why = "max_rows";
}

static const char *ref_note(const struct sqlref *r)
{
	if (!r->truncated)
		return NULL;
	return r->why && strcmp(r->why, "max_bytes") == 0
		       ? "result cut at the database's max_bytes; narrow the query or add LIMIT"
		       : "result cut at the database's max_rows; narrow the query or add LIMIT";
}

static json_t *sqlref_json(const struct sqlref *r)
{
	json_t *o = json_pack("{s:O, s:O, s:b, s:I}", "columns", r->columns, "rows", r->rows,
			      "truncated", r->truncated, "row_count", (json_int_t)r->nrows);

	if (o && ref_note(r) && json_object_set_new(o, "note", json_string(ref_note(r))) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A growable text buffer; on ENOMEM it stops growing and reports it at the end. */
struct ref_tbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void ref_tb_add(struct ref_tbuf *b, const char *s, size_t n)
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

static void ref_tb_str(struct ref_tbuf *b, const char *s)
{
	ref_tb_add(b, s, strlen(s));
}

/* One cell as table text: NULL, numbers, strings cut at CELL_MAX bytes on
 * a UTF-8 boundary, control characters shown as spaces, '|' as '/'. */
static void ref_tb_cell(struct ref_tbuf *b, const json_t *v)
{
	char num[NUMFMT_MAX];
	const char *s;
	size_t n, cut;

	switch (json_typeof(v)) {
	case JSON_NULL:
		ref_tb_str(b, "NULL");
		return;
	case JSON_INTEGER:
		ref_tb_add(b, num, numfmt_i64(num, json_integer_value(v)));
		return;
	case JSON_REAL:
		ref_tb_add(b, num, numfmt_double(num, json_real_value(v)));
		return;
	case JSON_TRUE:
		ref_tb_str(b, "true");
		return;
	case JSON_FALSE:
		ref_tb_str(b, "false");
		return;
	case JSON_STRING:
		s = json_string_value(v);
		n = json_string_length(v);
		cut = n > CELL_MAX ? CELL_MAX : n;
		while (cut > 0 && cut < n && ((unsigned char)s[cut] & 0xC0) == 0x80)
			cut--;
		for (size_t i = 0, run = 0; i <= cut; i++) {
			unsigned char c = i < cut ? (unsigned char)s[i] : 0;
			if (i < cut && c >= 0x20 && c != 0x7F && c != '|')
				continue;
			ref_tb_add(b, s + run, i - run); /* the run that needs no change */
			if (i < cut)
				ref_tb_add(b, c == '|' ? "/" : " ", 1);
			run = i + 1;
		}
		if (cut < n)
			ref_tb_str(b, "…");
		return;
	default:
		ref_tb_str(b, "?");
		return;
	}
}

static char *sqlref_table(const struct sqlref *r, size_t max_bytes)
{
	struct ref_tbuf b = {0};
	size_t i, shown = 0;
	json_t *c, *row;
	char line[160];

	json_array_foreach(r->columns, i, c) {
		if (i)
			ref_tb_str(&b, " | ");
		ref_tb_cell(&b, json_object_get(c, "name"));
	}
	ref_tb_str(&b, "\n");
	ref_tb_str(&b, "---\n");
	json_array_foreach(r->rows, i, row) {
		size_t k;
		json_t *v;
		if (max_bytes && b.len > max_bytes)
			break;
		json_array_foreach(row, k, v) {
			if (k)
				ref_tb_str(&b, " | ");
			ref_tb_cell(&b, v);
		}
		ref_tb_str(&b, "\n");
		shown++;
	}
	if (shown < r->nrows) {
		snprintf(line, sizeof(line), "... %zu more rows in structuredContent\n",
			 r->nrows - shown);
		ref_tb_str(&b, line);
	}
	snprintf(line, sizeof(line), "(%zu row%s%s)\n", r->nrows, r->nrows == 1 ? "" : "s",
		 r->truncated ? ", truncated" : "");
	ref_tb_str(&b, line);
	if (ref_note(r)) {
		ref_tb_str(&b, ref_note(r));
		ref_tb_str(&b, "\n");
	}
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}

static void sqlref_free(struct sqlref *r)
{
	if (!r)
		return;
	json_decref(r->columns);
	json_decref(r->rows);
	r->columns = NULL;
	r->rows = NULL;
}
