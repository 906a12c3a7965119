/*
 * test_sql_result.c - unit tests for src/providers/sql/sql_result.c: the
 * row and byte caps applied while rows arrive, the structured result and
 * the readable text table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sql/sql_result.h"

static void two_columns(struct sql_result *r, size_t max_rows, size_t max_bytes)
{
	assert_int_equal(sql_result_init(r, max_rows, max_bytes, NULL), MOAT_OK);
	assert_int_equal(sql_result_column(r, "id", "INTEGER", NULL), MOAT_OK);
	assert_int_equal(sql_result_column(r, "name", NULL, NULL), MOAT_OK);
}

static void test_row_cap(void **state)
{
	struct sql_result r;
	bool more;
	json_t *o;

	(void)state;
	two_columns(&r, 2, 0);
	assert_int_equal(sql_result_row(&r, json_pack("[i,s]", 1, "a"), &more, NULL), MOAT_OK);
	assert_true(more);
	assert_int_equal(sql_result_row(&r, json_pack("[i,n]", 2), &more, NULL), MOAT_OK);
	assert_false(more);
	assert_false(r.truncated);
	sql_result_more(&r);
	o = sql_result_json(&r);
	assert_true(json_is_true(json_object_get(o, "truncated")));
	assert_int_equal(json_integer_value(json_object_get(o, "row_count")), 2);
	assert_non_null(strstr(json_string_value(json_object_get(o, "note")), "max_rows"));
	assert_true(json_is_null(json_object_get(json_array_get(json_object_get(o, "columns"), 1),
						 "type")));
	json_decref(o);
	sql_result_free(&r);
}

static void test_byte_cap(void **state)
{
	struct sql_result r;
	bool more;
	json_t *o;

	(void)state;
	two_columns(&r, 0, 30);
	/* [1,"aaaaaaaaaa"] is 16 bytes and a comma: one fits, two do not */
	assert_int_equal(sql_result_row(&r, json_pack("[i,s]", 1, "aaaaaaaaaa"), &more, NULL),
			 MOAT_OK);
	assert_true(more);
	assert_int_equal(sql_result_row(&r, json_pack("[i,s]", 2, "bbbbbbbbbb"), &more, NULL),
			 MOAT_OK);
	assert_false(more);
	assert_true(r.truncated);
	assert_int_equal(r.nrows, 1);
	o = sql_result_json(&r);
	assert_non_null(strstr(json_string_value(json_object_get(o, "note")), "max_bytes"));
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
	two_columns(&r, 0, 0);
	sql_result_row(&r, json_pack("[i,s]", 1, "a|b\nc"), &more, NULL);
	sql_result_row(&r, json_pack("[f,n]", 1.5), &more, NULL);
	sql_result_row(&r, json_pack("[i,s]", -3, longs), &more, NULL);
	t = sql_result_table(&r, 0);
	assert_non_null(t);
	assert_non_null(strstr(t, "id | name\n---\n"));
	assert_non_null(strstr(t, "1 | a/b c\n"));
	assert_non_null(strstr(t, "1.5 | NULL\n"));
	assert_non_null(strstr(t, "…\n"));
	assert_null(strstr(t, longs));
	assert_non_null(strstr(t, "(3 rows)\n"));
	free(t);
	/* a bound on the table: later rows are counted, not shown */
	t = sql_result_table(&r, 10);
	assert_non_null(strstr(t, "more rows in structuredContent"));
	free(t);
	sql_result_free(&r);
	sql_result_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_row_cap),
		cmocka_unit_test(test_byte_cap),
		cmocka_unit_test(test_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
