/*
 * test_log.c - unit tests for src/core/log.c's JSON lines (--log-format
 * json): one object a line with time (RFC 3339, UTC, milliseconds), level
 * and msg, in that order; quotes, backslashes, newlines and control bytes
 * escaped so the line stays one line of valid JSON; a message that is not
 * UTF-8 still gives valid JSON; a buffer too small gives 0, not a cut line;
 * and the format names parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "log.h"

/* 2026-12-06T13:40:01.123Z */
static const struct timespec when = {.tv_sec = 1796564401, .tv_nsec = 123456789};

static json_t *parse_line(const char *line)
{
	json_error_t e;
	json_t *v;

	assert_null(strchr(line, '\n'));
	v = json_loads(line, 0, &e);
	if (!v)
		fail_msg("not JSON: %s (%s)", line, e.text);
	assert_true(json_is_object(v));
	return v;
}

static void test_shape(void **state)
{
	char line[512];
	size_t n;
	json_t *v;

	(void)state;
	n = log_json_record(line, sizeof(line), &when, LOG_LVL_INFO, "listening on http://127.0.0.1:8765/mcp");
	assert_int_equal(n, strlen(line));
	assert_string_equal(line, "{\"time\":\"2026-12-06T13:40:01.123Z\",\"level\":\"info\","
				  "\"msg\":\"listening on http://127.0.0.1:8765/mcp\"}");
	v = parse_line(line);
	assert_int_equal(json_object_size(v), 3);
	json_decref(v);
	n = log_json_record(line, sizeof(line), &when, LOG_LVL_WARNING, "x");
	assert_true(n > 0);
	v = parse_line(line);
	assert_string_equal(json_string_value(json_object_get(v, "level")), "warning");
	json_decref(v);
}

static void test_escaping(void **state)
{
	const char *msg = "a \"quoted\" \\ back\nslash\ttab\r\x01\x1f end </script>";
	char line[512];
	json_t *v;

	(void)state;
	assert_true(log_json_record(line, sizeof(line), &when, LOG_LVL_ERROR, msg) > 0);
	v = parse_line(line);
	assert_string_equal(json_string_value(json_object_get(v, "msg")), msg);
	assert_string_equal(json_string_value(json_object_get(v, "level")), "error");
	json_decref(v);
	/* Non-ASCII UTF-8 passes as it is. */
	assert_true(log_json_record(line, sizeof(line), &when, LOG_LVL_INFO, "caf\xc3\xa9 \xe2\x82\xac") > 0);
	v = parse_line(line);
	assert_string_equal(json_string_value(json_object_get(v, "msg")), "caf\xc3\xa9 \xe2\x82\xac");
	json_decref(v);
}

static void test_not_utf8(void **state)
{
	char line[512];
	json_t *v;

	(void)state;
	/* A stray byte, and a multi-byte character cut by truncation. */
	assert_true(log_json_record(line, sizeof(line), &when, LOG_LVL_INFO, "bad \xff byte \xe2\x82") > 0);
	v = parse_line(line);
	assert_string_equal(json_string_value(json_object_get(v, "msg")), "bad ? byte ??");
	json_decref(v);
}

static void test_too_small(void **state)
{
	char line[40];

	(void)state;
	assert_int_equal(log_json_record(line, sizeof(line), &when, LOG_LVL_INFO, "a message"), 0);
	assert_string_equal(line, "");
}

static void test_time_format(void **state)
{
	const struct timespec t0 = {.tv_sec = 0, .tv_nsec = 999999999};
	char line[256];
	json_t *v;

	(void)state;
	assert_true(log_json_record(line, sizeof(line), &t0, LOG_LVL_DEBUG, "") > 0);
	v = parse_line(line);
	assert_string_equal(json_string_value(json_object_get(v, "time")), "1970-01-01T00:00:00.999Z");
	assert_string_equal(json_string_value(json_object_get(v, "level")), "debug");
	assert_string_equal(json_string_value(json_object_get(v, "msg")), "");
	json_decref(v);
}

static void test_calendar(void **state)
{
	/* A leap day, the last millisecond of a year, a date past 2038. */
	const struct {
		struct timespec ts;
		const char *want;
	} cases[] = {
		{{1709251199, 500000000}, "2024-02-29T23:59:59.500Z"},
		{{1704067199, 999000000}, "2023-12-31T23:59:59.999Z"},
		{{951782400, 0}, "2000-02-29T00:00:00.000Z"},
		{{4107542400, 1000000}, "2100-03-01T00:00:00.001Z"},
	};
	char line[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v;
		assert_true(log_json_record(line, sizeof(line), &cases[i].ts, LOG_LVL_INFO, "x") > 0);
		v = parse_line(line);
		assert_string_equal(json_string_value(json_object_get(v, "time")), cases[i].want);
		json_decref(v);
	}
}

/* The signal handler's start of a record, completed as the handler does. */
static void test_head(void **state)
{
	char line[256], small[20];
	size_t n;
	json_t *v;

	(void)state;
	n = log_json_head(line, sizeof(line), LOG_LVL_WARNING);
	assert_true(n > 0 && n == strlen(line));
	snprintf(line + n, sizeof(line) - n, "%s", "seccomp: refused system call 250 (keyctl): EPERM\"}");
	v = parse_line(line);
	assert_string_equal(json_string_value(json_object_get(v, "level")), "warning");
	assert_string_equal(json_string_value(json_object_get(v, "msg")),
			    "seccomp: refused system call 250 (keyctl): EPERM");
	assert_true(strlen(json_string_value(json_object_get(v, "time"))) == 24);
	json_decref(v);
	assert_int_equal(log_json_head(small, sizeof(small), LOG_LVL_INFO), 0);
}

static void test_parse_format(void **state)
{
	enum log_format f = LOG_FORMAT_TEXT;

	(void)state;
	assert_true(log_parse_format("json", &f));
	assert_int_equal(f, LOG_FORMAT_JSON);
	assert_true(log_parse_format("text", &f));
	assert_int_equal(f, LOG_FORMAT_TEXT);
	assert_false(log_parse_format("JSON", &f));
	assert_false(log_parse_format("", &f));
	assert_false(log_parse_format(NULL, &f));
	log_set_format(LOG_FORMAT_JSON);
	assert_int_equal(log_get_format(), LOG_FORMAT_JSON);
	log_set_format(LOG_FORMAT_TEXT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),        cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_not_utf8),     cmocka_unit_test(test_too_small),
		cmocka_unit_test(test_time_format),  cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_calendar),     cmocka_unit_test(test_head),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
