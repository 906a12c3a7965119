/*
 * test_sql_pg.c - unit tests for the PostgreSQL backend's pure parts:
 * sql_pg_plan.c (the schema allowlist on an EXPLAIN plan: nested nodes,
 * a relation without a schema, a utility statement) and sql_pg_value.c
 * (values by type OID, params to libpq arrays).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sql/sql_pg.h"
#include "wire.h"

static char *shop[] = {"shop", NULL};
static const struct sql_db db = {.name = "x", .schemas = shop, .nschemas = 1};

static enum moat_rc check(const char *plan)
{
	struct moat_err err = {0};

	return sqlpg_plan_check(&db, plan, "read_query", NULL, &err);
}

static void test_plan(void **state)
{
	(void)state;
	assert_int_equal(check("[{\"Plan\":{\"Node Type\":\"Seq Scan\",\"Relation Name\":\"book\","
			       "\"Schema\":\"shop\"}}]"),
			 MOAT_OK);
	assert_int_equal(check("[{\"Plan\":{\"Node Type\":\"Result\",\"Plans\":[{\"Node Type\":"
			       "\"Seq Scan\",\"Relation Name\":\"keys\",\"Schema\":\"secret\","
			       "\"Parent Relationship\":\"InitPlan\"}]}}]"),
			 MOAT_EDENIED);
	assert_int_equal(check("[{\"Plan\":{\"Relation Name\":\"book\"}}]"), MOAT_EDENIED);
	assert_int_equal(check("[{\"Utility Statement\":{}}]"), MOAT_EDENIED);
	assert_int_equal(check("not json"), MOAT_EDENIED);
	assert_int_equal(check("[]"), MOAT_EDENIED);
	assert_int_equal(check("[{\"Plan\":{\"Relation Name\":\"book\",\"Schema\":\"Shop\"}}]"),
			 MOAT_EDENIED); /* exact names */
}

/* The relations of an accepted plan, once each, named as list_tables
 * names them; a refusal records none and names its rule. */
static void test_plan_rels(void **state)
{
	static char *two[] = {"shop", "extra", NULL};
	const struct sql_db db2 = {.name = "x", .schemas = two, .nschemas = 2};
	struct moat_err err = {0};
	json_t *rels = json_array();
	char *s;

	(void)state;
	assert_int_equal(sqlpg_plan_check(&db2,
					  "[{\"Plan\":{\"Relation Name\":\"book\",\"Schema\":\"shop\","
					  "\"Plans\":[{\"Relation Name\":\"t\",\"Schema\":\"extra\"},"
					  "{\"Relation Name\":\"book\",\"Schema\":\"shop\"}]}}]",
					  "read_query", rels, &err),
			 MOAT_OK);
	s = json_dumps(rels, JSON_COMPACT);
	assert_string_equal(s, "[\"book\",\"extra.t\"]");
	free(s);
	assert_int_equal(sqlpg_plan_check(&db2,
					  "[{\"Plan\":{\"Relation Name\":\"book\",\"Schema\":\"shop\","
					  "\"Plans\":[{\"Relation Name\":\"k\",\"Schema\":\"secret\"}]}}]",
					  "read_query", rels, &err),
			 MOAT_EDENIED);
	assert_string_equal(err.rule, "sql.schema_not_allowed");
	assert_int_equal(json_array_size(rels), 0);
	moat_err_clear(&err);
	assert_int_equal(sqlpg_plan_check(&db2, "[{\"Utility Statement\":{}}]", "read_query", rels,
					  &err),
			 MOAT_EDENIED);
	assert_string_equal(err.rule, "sql.statement_refused");
	json_decref(rels);
}

/* The value offered as a cell (sqlpg_value_cell, read_query's path) is
 * written as the very bytes wire_write makes of sqlpg_value_json's value. */
static void expect_cell(Oid oid, const char *text, const json_t *v)
{
	struct sql_result r;
	struct wire_buf b;
	char *doc, *want, *at;
	size_t len, wlen;
	bool more;

	assert_int_equal(sql_result_init(&r, 0, 0, 0, NULL), MOAT_OK);
	assert_int_equal(sql_result_column(&r, "c", NULL, NULL), MOAT_OK);
	assert_int_equal(sql_result_row_begin(&r, NULL), MOAT_OK);
	assert_true(sqlpg_value_cell(&r, oid, text, strlen(text)));
	assert_int_equal(sql_result_row_end(&r, &more, NULL), MOAT_OK);
	doc = sql_result_document(&r, "d", false, &len);
	assert_non_null(doc);
	wire_buf_init(&b, NULL, 0);
	assert_true(wire_put_raw(&b, "\"rows\":[[", 9) && wire_write(&b, v) &&
		    wire_put_raw(&b, "]],", 3));
	want = wire_buf_take(&b, &wlen);
	assert_non_null(want);
	at = strstr(doc, "\"rows\":[[");
	assert_non_null(at);
	assert_true((size_t)(doc + len - at) >= wlen);
	assert_memory_equal(at, want, wlen);
	free(want);
	free(doc);
	sql_result_free(&r);
}

static void expect_json(Oid oid, const char *text, const char *want)
{
	json_t *v = sqlpg_value_json(oid, text, strlen(text));
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

	assert_string_equal(s, want);
	expect_cell(oid, text, v);
	free(s);
	json_decref(v);
}

static void test_values(void **state)
{
	(void)state;
	expect_json(23, "42", "42");
	expect_json(20, "-9007199254740993", "-9007199254740993");
	expect_json(16, "t", "true");
	expect_json(16, "f", "false");
	expect_json(701, "0.25", "0.25");
	expect_json(701, "NaN", "\"NaN\"");
	expect_json(701, "Infinity", "\"Infinity\"");
	expect_json(1700, "12.25", "12.25");
	expect_json(1700, "123456789012345678901", "\"123456789012345678901\"");
	expect_json(1700, "0.1234567890123456", "\"0.1234567890123456\"");
	expect_json(1700, "NaN", "\"NaN\"");
	expect_json(3802, "{\"a\": [1, 2]}", "{\"a\":[1,2]}");
	expect_json(17, "\\x00ff10", "\"AP8Q\"");
	expect_json(17, "\\x", "\"\"");
	expect_json(1082, "2024-01-02", "\"2024-01-02\"");
	expect_json(25, "a\xff", "\"a\xef\xbf\xbd\"");
	expect_json(20, "99999999999999999999", "\"99999999999999999999\"");
	expect_json(1700, "-0.5", "-0.5");
	expect_json(1700, "100", "100");
	expect_json(114, "\"s|t\"", "\"s|t\"");
	expect_json(114, "[1, {\"b\": null}]", "[1,{\"b\":null}]");
	expect_json(114, "{bad", "\"{bad\"");
	expect_json(17, "abc", "\"abc\"");
	expect_json(1043, "", "\"\"");
}

/* Large JSON strings: the writer's memo of a large string must not carry
 * from one freed value to the next (each cell its own bytes). */
static void test_json_cells(void **state)
{
	struct sql_result r;
	char *big = malloc(6000), *doc;
	json_t *rows;
	size_t len;
	bool more;

	(void)state;
	assert_non_null(big);
	assert_int_equal(sql_result_init(&r, 0, 0, 0, NULL), MOAT_OK);
	assert_int_equal(sql_result_column(&r, "j", "jsonb", NULL), MOAT_OK);
	for (int k = 0; k < 4; k++) {
		snprintf(big, 6000, "[\"%c", 'a' + k);
		memset(big + 3, 'a' + k, 5000);
		strcpy(big + 5003, "\"]");
		assert_int_equal(sql_result_row_begin(&r, NULL), MOAT_OK);
		assert_true(sqlpg_value_cell(&r, 3802, big, strlen(big)));
		assert_int_equal(sql_result_row_end(&r, &more, NULL), MOAT_OK);
	}
	rows = sql_result_rows(&r);
	assert_non_null(rows);
	for (int k = 0; k < 4; k++) {
		const char *s = json_string_value(json_array_get(json_array_get(json_array_get(rows, (size_t)k), 0), 0));
		assert_non_null(s);
		assert_int_equal(strlen(s), 5001);
		assert_int_equal(s[4000], 'a' + k);
	}
	json_decref(rows);
	doc = sql_result_document(&r, "d", false, &len);
	assert_non_null(doc);
	free(doc);
	sql_result_free(&r);
	free(big);
}

static void test_params(void **state)
{
	struct sqlpg_params p;
	struct moat_err err = {0};
	json_t *a = json_pack("[i, f, b, n, s, {s:s}, [i]]", 7, 1.5, 1, "x", "base64", "AP8Q", 1);

	(void)state;
	assert_int_equal(sqlpg_params_make(a, &p, &err), MOAT_OK);
	assert_int_equal(p.n, 7);
	assert_string_equal(p.values[0], "7");
	assert_string_equal(p.values[1], "1.5");
	assert_string_equal(p.values[2], "true");
	assert_null(p.values[3]);
	assert_string_equal(p.values[4], "x");
	assert_int_equal(p.formats[5], 1);
	assert_int_equal(p.lengths[5], 3);
	assert_int_equal(p.types[5], 17);
	assert_string_equal(p.values[6], "[1]");
	sqlpg_params_free(&p);
	json_decref(a);
	a = json_pack("[s#]", "a\0b", (size_t)3);
	assert_int_equal(sqlpg_params_make(a, &p, &err), MOAT_EINVAL);
	json_decref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_plan_rels),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_json_cells),
		cmocka_unit_test(test_params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
