/*
 * test_limits.c - unit tests for src/core/limits_cfg.c: defaults and the
 * calls-per-minute token bucket (refill, capacity, unlimited).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "limits_cfg.h"

static void test_defaults(void **state)
{
	struct limits l;

	limits_defaults(&l);
	assert_int_equal(l.max_message_bytes, 4u << 20);
	assert_int_equal(l.max_json_depth, 64);
	assert_int_equal(l.call_timeout_ms, 30000);
	assert_true(l.max_concurrent_calls >= l.workers);
}

static void test_bucket(void **state)
{
	struct token_bucket b;
	uint64_t t0;

	bucket_init(&b, 60); /* one a second, 60 at once */
	t0 = b.last_ns;
	for (int i = 0; i < 60; i++)
		assert_true(bucket_take(&b, t0));
	assert_false(bucket_take(&b, t0));
	assert_false(bucket_take(&b, t0 + 500000000ull)); /* half a token */
	assert_true(bucket_take(&b, t0 + 1000000000ull)); /* refilled one */
	assert_false(bucket_take(&b, t0 + 1000000000ull));
	/* Refill never exceeds the capacity. */
	for (int i = 0; i < 60; i++)
		assert_true(bucket_take(&b, t0 + 3600000000000ull));
	assert_false(bucket_take(&b, t0 + 3600000000000ull));
	bucket_destroy(&b);

	bucket_init(&b, 0); /* unlimited */
	for (int i = 0; i < 100000; i++)
		assert_true(bucket_take(&b, t0));
	bucket_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bucket),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
