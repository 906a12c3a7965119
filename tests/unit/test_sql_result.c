/*
 * test_sql_result.c - unit tests for src/providers/sql/sql_result.c: the
 * row and byte caps applied while cells arrive, the structured result and
 * the readable text table; and the proof that the one-pass builder writes
 * the same bytes as the tree builder it replaced (sql_result_ref.c, kept
 * here only): random columns and rows (NULL, integers with INT64_MIN and
 * INT64_MAX, reals, booleans, strings with controls, '|', UTF-8, invalid
 * UTF-8, NUL bytes and long ones, JSON values) through both, under random
 * max_rows, max_bytes and table caps, the backends' loops for a read and
 * a write, must give byte-identical structuredContent and table text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sql/sql_result.h"
#include "sql/sql_text.h"

#include "sql_result_ref.c"

/* ---- offering a jansson row through the cell API --------------------------- */

static bool cell(struct sql_result *r, const json_t *v)
{
	if (json_is_string(v))
		return sql_result_cell_text(r, json_string_value(v), json_string_length(v));
	return sql_result_cell_json(r, v);
}

/* A row (stolen) offered cell by cell, as a backend does. */
static enum moat_rc offer(struct sql_result *r, json_t *row, bool *more)
{
	enum moat_rc rc = sql_result_row_begin(r, NULL);
	size_t i;
	json_t *v;

	if (rc == MOAT_OK) {
		json_array_foreach(row, i, v)
			cell(r, v);
		rc = sql_result_row_end(r, more, NULL);
	}
	json_decref(row);
	return rc;
}

static json_t *document(struct sql_result *r, const char *db, bool write)
{
	size_t len;
	char *s = sql_result_document(r, db, write, &len);
	json_t *o;

	assert_non_null(s);
	assert_int_equal(strlen(s), len);
	o = json_loadb(s, len, 0, NULL);
	assert_non_null(o);
	free(s);
	return o;
}

static void two_columns(struct sql_result *r, size_t max_rows, size_t max_bytes,
			size_t table_max)
{
	assert_int_equal(sql_result_init(r, max_rows, max_bytes, table_max, NULL), MOAT_OK);
	assert_int_equal(sql_result_column(r, "id", "INTEGER", NULL), MOAT_OK);
	assert_int_equal(sql_result_column(r, "name", NULL, NULL), MOAT_OK);
}

static void test_row_cap(void **state)
{
	struct sql_result r;
	bool more;
	json_t *o;

	(void)state;
	two_columns(&r, 2, 0, 0);
	assert_int_equal(offer(&r, json_pack("[i,s]", 1, "a"), &more), MOAT_OK);
	assert_true(more);
	assert_int_equal(offer(&r, json_pack("[i,n]", 2), &more), MOAT_OK);
	assert_false(more);
	assert_false(r.truncated);
	sql_result_more(&r);
	o = document(&r, "main", false);
	assert_true(json_is_true(json_object_get(o, "truncated")));
	assert_int_equal(json_integer_value(json_object_get(o, "row_count")), 2);
	assert_non_null(strstr(json_string_value(json_object_get(o, "note")), "max_rows"));
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(o, "columns"), 1),
						 "type")));
	assert_string_equal(json_string_value(json_object_get(o, "database")), "main");
	assert_null(json_object_get(o, "affected_rows"));
	json_decref(o);
	sql_result_free(&r);
}

static void test_byte_cap(void **state)
{
	struct sql_result r;
	bool more;
	json_t *o;

	(void)state;
	two_columns(&r, 0, 30, 0);
	/* [1,"aaaaaaaaaa"] is 16 bytes and a comma: one fits, two do not */
	assert_int_equal(offer(&r, json_pack("[i,s]", 1, "aaaaaaaaaa"), &more), MOAT_OK);
	assert_true(more);
	assert_int_equal(offer(&r, json_pack("[i,s]", 2, "bbbbbbbbbb"), &more), MOAT_OK);
	assert_false(more);
	assert_true(r.truncated);
	assert_int_equal(r.nrows, 1);
	o = document(&r, "main", true);
	assert_non_null(strstr(json_string_value(json_object_get(o, "note")), "max_bytes"));
	assert_int_equal(json_array_size(json_object_get(o, "rows")), 1);
	assert_int_equal(json_integer_value(json_object_get(o, "affected_rows")), -1);
	json_decref(o);
	sql_result_free(&r);
}

static void test_table(void **state)
{
	struct sql_result r;
	bool more;
	char *t;
	char longs[200];

	(void)state;
	memset(longs, 'x', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	for (int bound = 0; bound < 2; bound++) {
		two_columns(&r, 0, 0, bound ? 16 : 0);
		offer(&r, json_pack("[i,s]", 1, "a|b\nc"), &more);
		offer(&r, json_pack("[f,n]", 1.5), &more);
		offer(&r, json_pack("[i,s]", -3, longs), &more);
		t = sql_result_table(&r);
		assert_non_null(t);
		assert_non_null(strstr(t, "id | name\n---\n"));
		if (!bound) {
			assert_non_null(strstr(t, "1 | a/b c\n"));
			assert_non_null(strstr(t, "1.5 | NULL\n"));
			assert_non_null(strstr(t, "…\n"));
			assert_null(strstr(t, longs));
			assert_null(strstr(t, "more rows"));
		} else {
			/* a bound on the table: later rows are counted, not shown */
			assert_non_null(strstr(t, "1 | a/b c\n"));
			assert_null(strstr(t, "1.5 | NULL\n"));
			assert_non_null(strstr(t, "... 2 more rows in structuredContent\n"));
		}
		assert_non_null(strstr(t, "(3 rows)\n"));
		free(t);
		sql_result_free(&r);
	}
	sql_result_free(NULL);
}

/* Invalid UTF-8 in a text cell becomes U+FFFD, in the JSON and the table. */
static void test_repair(void **state)
{
	struct sql_result r;
	bool more;
	json_t *o;
	char *t;

	(void)state;
	assert_int_equal(sql_result_init(&r, 0, 0, 0, NULL), MOAT_OK);
	assert_int_equal(sql_result_column(&r, "t", NULL, NULL), MOAT_OK);
	assert_int_equal(sql_result_column(&r, "\xff", NULL, NULL), MOAT_ENOMEM);
	assert_int_equal(sql_result_row_begin(&r, NULL), MOAT_OK);
	assert_true(sql_result_cell_text(&r, "a\xffz", 3));
	assert_int_equal(sql_result_row_end(&r, &more, NULL), MOAT_OK);
	t = sql_result_table(&r);
	assert_non_null(strstr(t, "a\xEF\xBF\xBDz\n"));
	free(t);
	o = document(&r, "d", false);
	assert_string_equal(json_string_value(json_array_get(json_array_get(
				    json_object_get(o, "rows"), 0), 0)),
			    "a\xEF\xBF\xBDz");
	json_decref(o);
	sql_result_free(&r);
}

/* ---- the streaming builder against the tree builder -------------------------- */

static uint64_t seed = 0x9E3779B97F4A7C15ull;

/* How many random results met each case (a test that cannot meet a cap
 * proves nothing about it). */
enum { BY_ROWS, BY_BYTES, TABLE_CUT, REPAIRED, CUT_CELL, WRITE_PAST, CASES };
static int met[CASES];

static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

static size_t pick(size_t n)
{
	return (size_t)(rnd() % n);
}

/* Random bytes for a text value: ASCII, controls, '|', UTF-8 of every
 * length, sometimes invalid bytes and NULs; long now and then. */
static size_t rand_text(char *buf, size_t cap, bool valid)
{
	static const char *const pieces[] = {
		"a", "Z", " ", "|", "\n", "\t", "\r", "\x01", "\x1f", "\x7f", "\"", "\\", "é",
		"€", "𝄞", "ß", "日本", "/", "0", "~", "\xe2\x80\xa8", "NULL",
		/* runs of plain bytes, long enough for the eight-at-a-time scans
		 * in tb_text and text_utf8_valid, with a special byte at each offset */
		"customer 00042 of the bench table", "abcdefgh|", "abcdefghijklmno\x7f",
		"0123456\x1f", "ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz", "~}{`_^]@?>",
	};
	static const char *const bad[] = {"\xff", "\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80",
					  "\xe2\x82", "\x80"};
	size_t want = pick(8) == 0 ? 60 + pick(80) : pick(12), n = 0;

	while (n < want) {
		const char *p;
		size_t k;
		if (!valid && pick(10) == 0)
			p = bad[pick(6)];
		else
			p = pieces[pick(sizeof(pieces) / sizeof(pieces[0]))];
		k = strlen(p);
		if (!valid && pick(40) == 0) {
			p = "\0";
			k = 1;
		}
		if (n + k > cap)
			break;
		memcpy(buf + n, p, k);
		n += k;
	}
	return n;
}

/* A random cell value, as the backends make them (text repaired the way
 * the tree-building backends did: json_stringn, else sql_utf8_repair). */
static json_t *rand_value(char **raw, size_t *rawn)
{
	static const double reals[] = {0.0, -0.0, 1.5, -2.25, 1e-300, 1.7976931348623157e308,
				       0.1, 1e21, 123456789.125, -4.9e-324, 3.141592653589793};
	char buf[512];
	size_t n;

	switch (pick(9)) {
	case 0:
		return json_null();
	case 1: {
		static const int64_t ints[] = {0, 1, -1, INT64_MIN, INT64_MAX, 42, -1000000007};
		return json_integer(pick(2) ? ints[pick(7)] : (json_int_t)rnd());
	}
	case 2:
		if (pick(2))
			return json_real(reals[pick(sizeof(reals) / sizeof(reals[0]))]);
		return json_real((double)(int64_t)rnd() / (double)(1 + pick(1000000)));
	case 3:
		return json_boolean(pick(2));
	case 4:
		return json_pack("{s:i, s:[s, n]}", "k", (int)pick(100), "a|b", "x\ny");
	case 5:
		return json_pack("[i, s, b]", (int)pick(100), "s", (int)pick(2));
	default: {
		json_t *v;
		char *fixed;
		size_t m;
		n = rand_text(buf, sizeof(buf), pick(3) != 0);
		*raw = malloc(n + 1);
		assert_non_null(*raw);
		memcpy(*raw, buf, n);
		*rawn = n;
		met[CUT_CELL] += n > 80;
		if ((v = json_stringn(buf, n)))
			return v;
		met[REPAIRED]++;
		fixed = sql_utf8_repair(buf, n, &m);
		assert_non_null(fixed);
		v = json_stringn(fixed, m);
		free(fixed);
		return v;
	}
	}
}

/* One random result through both builders, the same rows and caps; text
 * cells go to the streaming one as the raw bytes (it repairs them itself),
 * to the tree builder repaired as the backends did. */
static void compare_one(bool write, bool show)
{
	static const char *const names[] = {"id", "name", "a|b", "x\ny", "", "é", "😀"};
	static const char *const types[] = {"INTEGER", "TEXT", "REAL", "numeric", "ч"};
	struct sql_result s;
	struct sqlref t;
	size_t ncols = pick(5), nrows = pick(5) == 0 ? pick(300) : pick(12);
	size_t max_rows = pick(3) == 0 ? 0 : 1 + pick(nrows + 2);
	size_t max_bytes = pick(3) == 0 ? 0 : 1 + pick(2000);
	size_t table_max = pick(3) == 0 ? 0 : pick(1500);
	bool more_s = true, more_t = true, typed = false;
	const char *patch[8];
	struct wire_buf wb;
	size_t len, rlen;
	char *doc_s, *doc_t, *tab_s, *tab_t;
	json_t *o, *rows;

	assert_int_equal(sql_result_init(&s, max_rows, max_bytes, table_max, NULL), MOAT_OK);
	assert_int_equal(sqlref_init(&t, max_rows, max_bytes, NULL), MOAT_OK);
	for (size_t i = 0; i < ncols; i++) {
		const char *n = names[pick(7)], *ty = pick(2) ? types[pick(5)] : NULL;
		assert_int_equal(sql_result_column(&s, n, ty, NULL), MOAT_OK);
		assert_int_equal(sqlref_column(&t, n, ty, NULL), MOAT_OK);
		patch[i] = pick(2) ? types[pick(5)] : NULL;
	}
	/* the SQLite loop: a read stops at the first row past a cap, a write
	 * steps on without offering */
	for (size_t k = 0; k < nrows; k++) {
		json_t *row = json_array();
		if (!more_t) {
			assert_false(more_s);
			if (!t.truncated)
				sqlref_more(&t);
			if (!s.truncated)
				sql_result_more(&s);
			json_decref(row);
			if (!write)
				break;
			continue;
		}
		if (!typed) { /* the first row's storage types, where none was declared */
			for (size_t i = 0; i < ncols; i++) {
				json_t *col = json_array_get(t.columns, i);
				if (json_is_null(json_object_get(col, "type")) && patch[i])
					json_object_set_new(col, "type", json_string(patch[i]));
				sql_result_column_type(&s, i, patch[i]);
			}
			typed = true;
		}
		assert_int_equal(sql_result_row_begin(&s, NULL), MOAT_OK);
		for (size_t i = 0; i < ncols; i++) {
			char *raw = NULL;
			size_t rawn = 0;
			json_t *v = rand_value(&raw, &rawn);
			assert_non_null(v);
			json_array_append_new(row, v);
			assert_true(raw ? sql_result_cell_text(&s, raw, rawn) : cell(&s, v));
			free(raw);
		}
		assert_int_equal(sqlref_row(&t, row, &more_t, NULL), MOAT_OK);
		assert_int_equal(sql_result_row_end(&s, &more_s, NULL), MOAT_OK);
		assert_int_equal(more_s, more_t);
		assert_int_equal(s.truncated, t.truncated);
		if (!more_t && t.truncated && !write)
			break;
	}
	assert_int_equal(s.nrows, t.nrows);
	met[BY_ROWS] += t.truncated && strcmp(t.why, "max_rows") == 0;
	met[BY_BYTES] += t.truncated && strcmp(t.why, "max_bytes") == 0;
	met[TABLE_CUT] += s.shown < s.nrows;
	met[WRITE_PAST] += write && t.truncated;
	if (write)
		s.affected = t.affected = (int64_t)pick(1000);
	/* the old run_query's document, serialised as the server did */
	o = sqlref_json(&t);
	assert_non_null(o);
	json_object_set_new(o, "database", json_string("main db"));
	if (write)
		json_object_set_new(o, "affected_rows", json_integer((json_int_t)t.affected));
	wire_buf_init(&wb, NULL, 0);
	assert_true(wire_write(&wb, o));
	doc_t = wire_buf_take(&wb, &len);
	assert_non_null(doc_t);
	/* the catalog's view of the rows, before the document takes the buffer */
	rows = sql_result_rows(&s);
	assert_non_null(rows);
	assert_true(json_equal(rows, t.rows));
	json_decref(rows);
	doc_s = sql_result_document(&s, "main db", write, &rlen);
	assert_non_null(doc_s);
	if (show)
		printf("%s\n", doc_s);
	assert_int_equal(rlen, len);
	assert_memory_equal(doc_s, doc_t, len);
	tab_t = sqlref_table(&t, table_max);
	tab_s = sql_result_table(&s);
	assert_non_null(tab_s);
	assert_non_null(tab_t);
	assert_string_equal(tab_s, tab_t);
	free(doc_s);
	free(doc_t);
	free(tab_s);
	free(tab_t);
	json_decref(o);
	sql_result_free(&s);
	sqlref_free(&t);
}

static void test_same_bytes(void **state)
{
	(void)state;
	for (int i = 0; i < 4000; i++)
		compare_one(i % 3 == 0, false);
	/* the cases met every cap and every kind of cell */
	for (int k = 0; k < CASES; k++)
		assert_true(met[k] > 20);
}

/* sql_result_cell_text's repair decision is jansson's: valid UTF-8 by
 * sql_utf8_valid exactly when json_stringn accepts it. */
static void test_utf8_rule(void **state)
{
	char buf[64];

	(void)state;
	for (int i = 0; i < 20000; i++) {
		size_t n = pick(sizeof(buf));
		json_t *v;
		for (size_t k = 0; k < n; k++)
			buf[k] = pick(4) ? (char)(0x80 + pick(0x80)) : (char)pick(0x80);
		v = json_stringn(buf, n);
		assert_int_equal(v != NULL, sql_utf8_valid(buf, n));
		json_decref(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_cap),   cmocka_unit_test(test_byte_cap),
		cmocka_unit_test(test_table),     cmocka_unit_test(test_repair),
		cmocka_unit_test(test_same_bytes), cmocka_unit_test(test_utf8_rule),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
