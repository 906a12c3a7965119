/*
 * test_result.c - unit tests for src/core/result.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "result.h"

static void test_err(void **state)
{
	struct moat_err err;
	char big[2000];

	assert_int_equal(moat_err_set(&err, MOAT_ELIMIT, "x=%d", 5), MOAT_ELIMIT);
	assert_int_equal(err.rc, MOAT_ELIMIT);
	assert_string_equal(err.msg, "x=5");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	moat_err_set(&err, MOAT_EINVAL, "%s", big);
	assert_int_equal(strlen(err.msg), MOAT_ERR_MSG_MAX - 1);
	moat_err_clear(&err);
	assert_int_equal(err.rc, MOAT_OK);
	assert_string_equal(err.msg, "");
	assert_int_equal(moat_err_set(NULL, MOAT_EIO, "ignored"), MOAT_EIO);
	moat_err_clear(NULL);
	assert_string_equal(moat_rc_name(MOAT_ETIMEOUT), "timeout");
	assert_string_equal(moat_rc_name((enum moat_rc)999), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_err),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
