/*
 * test_git_when.c - unit tests for src/providers/git/git_when.c: the
 * timestamps git_log accepts (ISO 8601, month-name dates, relative forms,
 * @epoch) and the refusal of everything else with a message listing the
 * forms. Runs with TZ=UTC so local times are predictable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "git/gitp.h"

/* 2024-06-15T12:00:00Z */
#define NOW ((time_t)1718452800)

static time_t parse(const char *s)
{
	struct moat_err err = {0};
	time_t t = 0;

	assert_int_equal(gitp_when_parse(s, NOW, "start_timestamp", &t, &err), MOAT_OK);
	return t;
}

static void refused(const char *s)
{
	struct moat_err err = {0};
	time_t t = 0;

	assert_int_equal(gitp_when_parse(s, NOW, "end_timestamp", &t, &err), MOAT_EINVAL);
	assert_non_null(strstr(err.msg, "end_timestamp: not a timestamp"));
	assert_non_null(strstr(err.msg, "ISO 8601"));
}

static void test_iso(void **state)
{
	(void)state;
	assert_int_equal(parse("2024-01-15"), 1705276800);
	assert_int_equal(parse("2024-01-15T14:30:25"), 1705329025);
	assert_int_equal(parse("2024-01-15 14:30:25"), 1705329025);
	assert_int_equal(parse("2024-01-15T14:30"), 1705329000);
	assert_int_equal(parse("2024-01-15T14:30:25Z"), 1705329025);
	assert_int_equal(parse("2024-01-15T14:30:25.123Z"), 1705329025);
	assert_int_equal(parse("2024-01-15T15:30:25+01:00"), 1705329025);
	assert_int_equal(parse("2024-01-15T15:30:25+0100"), 1705329025);
	assert_int_equal(parse("2024-01-15T09:30:25-05:00"), 1705329025);
	assert_int_equal(parse("  2024-01-15  "), 1705276800);
	assert_int_equal(parse("2024-02-29"), 1709164800);
}

static void test_words(void **state)
{
	(void)state;
	assert_int_equal(parse("Jan 15 2024"), 1705276800);
	assert_int_equal(parse("January 15, 2024"), 1705276800);
	assert_int_equal(parse("15 Jan 2024"), 1705276800);
	assert_int_equal(parse("15 jan 2024"), 1705276800);
	assert_int_equal(parse("@1705329025"), 1705329025);
}

static void test_relative(void **state)
{
	(void)state;
	assert_int_equal(parse("now"), NOW);
	assert_int_equal(parse("yesterday"), NOW - 86400);
	assert_int_equal(parse("today"), NOW - 12 * 3600);
	assert_int_equal(parse("1 second ago"), NOW - 1);
	assert_int_equal(parse("5 minutes ago"), NOW - 300);
	assert_int_equal(parse("3 hours ago"), NOW - 3 * 3600);
	assert_int_equal(parse("2 days ago"), NOW - 2 * 86400);
	assert_int_equal(parse("2 weeks ago"), NOW - 14 * 86400);
	assert_int_equal(parse("2.weeks.ago"), NOW - 14 * 86400);
	assert_int_equal(parse("1 week ago"), NOW - 7 * 86400);
	assert_int_equal(parse("1 month ago"), 1715774400);  /* 2024-05-15T12:00Z */
	assert_int_equal(parse("14 months ago"), 1681560000); /* 2023-04-15T12:00Z */
	assert_int_equal(parse("2 years ago"), 1655294400);  /* 2022-06-15T12:00Z */
	assert_int_equal(parse("3 Days Ago"), NOW - 3 * 86400);
}

static void test_refused(void **state)
{
	(void)state;
	refused("");
	refused("   ");
	refused("last tuesday");
	refused("2024-13-01");
	refused("2024-02-30");
	refused("2024-01-15T25:00");
	refused("2024-01-15T14:30:25+25:00");
	refused("2024-01-15junk");
	refused("2 fortnights ago");
	refused("2 weeks");
	refused("weeks ago");
	refused("-1 days ago");
	refused("--since=2024-01-01");
	refused("@");
	refused("@12x");
	refused("Foo 15 2024");
	refused("1969-12-31");
	refused("99999999999 seconds ago");
	refused("2024-01-15T14:30:25+01:00 and more text that is far too long for a timestamp");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_iso),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_relative),
		cmocka_unit_test(test_refused),
	};
	setenv("TZ", "UTC", 1);
	tzset();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
