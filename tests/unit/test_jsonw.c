/*
 * test_jsonw.c - unit tests for src/core/jsonw.c and wire_splice: a value
 * written through the streaming writer is byte-identical to wire_write()
 * of the same jansson tree (random trees with every escape, deep nesting,
 * extreme integers, reals, long strings); misuse fails and voids the
 * document; a budget is noticed and a mark/rewind drops what crossed it;
 * a splice puts a JSON text made elsewhere where a placeholder stood.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonw.h"

static unsigned rng = 12345;
static unsigned next(void)
{
	rng = rng * 1103515245u + 12345u;
	return rng >> 8;
}

/* A string with ASCII, every control, quotes, backslashes and UTF-8. */
static json_t *random_string(void)
{
	static const char *const pieces[] = {"a", "Z", "\"", "\\", "\n", "\t", "\x01", "\x1f",
					     "\x7f", "/", "\xc3\xa9", "\xe2\x82\xac",
					     "\xf0\x9f\x98\x80", " ", "0"};
	char buf[256];
	size_t n = 0, want = next() % 40;

	while (n < want) {
		const char *p = pieces[next() % (sizeof(pieces) / sizeof(pieces[0]))];
		size_t l = strlen(p);
		memcpy(buf + n, p, l);
		n += l;
	}
	return json_stringn(buf, n);
}

static json_t *random_value(int depth)
{
	unsigned k = next() % (depth > 5 ? 6 : 8);

	switch (k) {
	case 0: return json_null();
	case 1: return json_boolean(next() & 1);
	case 2: {
		static const json_int_t ints[] = {0, 1, -1, 42, INT64_MAX, INT64_MIN, 1000000007};
		return json_integer(ints[next() % 7]);
	}
	case 3: {
		static const double reals[] = {0.5, -13.7, 1e300, 3.141592653589793, 1e-7, 0.1};
		return json_real(reals[next() % 6]);
	}
	case 4:
	case 5: return random_string();
	case 6: {
		json_t *a = json_array();
		for (unsigned i = next() % 5; i > 0; i--)
			json_array_append_new(a, random_value(depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		for (unsigned i = next() % 5; i > 0; i--) {
			json_t *key = random_string();
			json_object_set_new(o, json_string_value(key), random_value(depth + 1));
			json_decref(key);
		}
		return o;
	}
	}
}

/* Write v through the streaming writer, as a handler would. */
static void stream(struct jsonw *w, const json_t *v)
{
	const char *key;
	json_t *val;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		assert_true(jsonw_obj_begin(w));
		json_object_foreach((json_t *)v, key, val) {
			assert_true(jsonw_key(w, key, strlen(key)));
			stream(w, val);
		}
		assert_true(jsonw_obj_end(w));
		break;
	case JSON_ARRAY:
		assert_true(jsonw_arr_begin(w));
		for (size_t i = 0; i < json_array_size(v); i++)
			stream(w, json_array_get(v, i));
		assert_true(jsonw_arr_end(w));
		break;
	case JSON_STRING:
		assert_true(jsonw_str(w, json_string_value(v), json_string_length(v)));
		break;
	case JSON_INTEGER:
		assert_true(jsonw_i64(w, json_integer_value(v)));
		break;
	case JSON_REAL:
		assert_true(jsonw_double(w, json_real_value(v)));
		break;
	case JSON_TRUE:
	case JSON_FALSE:
		assert_true(jsonw_bool(w, json_is_true(v)));
		break;
	case JSON_NULL:
		assert_true(jsonw_null(w));
		break;
	}
}

static void same_bytes(const json_t *v)
{
	char s1[16], s2[16];
	struct wire_buf want, got;
	struct jsonw w;

	wire_buf_init(&want, s1, sizeof(s1));
	wire_buf_init(&got, s2, sizeof(s2));
	assert_true(wire_write(&want, v));
	jsonw_init(&w, &got, 0);
	stream(&w, v);
	assert_true(jsonw_done(&w));
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.data, want.data, got.len);
	assert_int_equal(jsonw_length(&w), got.len);
	wire_buf_release(&want);
	wire_buf_release(&got);
}

static void test_random_trees(void **state)
{
	for (int i = 0; i < 3000; i++) {
		json_t *v = random_value(0);
		same_bytes(v);
		json_decref(v);
	}
}

static void test_long_strings_and_scalars(void **state)
{
	char *big = malloc(100000);
	json_t *v;

	assert_non_null(big);
	for (size_t i = 0; i < 100000; i++)
		big[i] = (char)(i % 3 == 0 ? '\n' : 'x');
	v = json_pack("{s:s%, s:[I,I,f,b,n]}", "big", big, (size_t)100000, "n", (json_int_t)INT64_MIN,
		      (json_int_t)INT64_MAX, 13.7, 0);
	same_bytes(v);
	json_decref(v);
	free(big);
	v = json_string("top-level string");
	same_bytes(v);
	json_decref(v);
}

static void test_misuse_fails(void **state)
{
	struct wire_buf b;
	struct jsonw w;

	wire_buf_init(&b, NULL, 0);
	jsonw_init(&w, &b, 0); /* a value where a key is due */
	assert_true(jsonw_obj_begin(&w));
	assert_false(jsonw_str(&w, "v", 1));
	assert_false(jsonw_done(&w));
	assert_false(jsonw_obj_end(&w)); /* stays failed */

	b.len = 0;
	jsonw_init(&w, &b, 0); /* a key in an array */
	assert_true(jsonw_arr_begin(&w));
	assert_false(jsonw_key(&w, "k", 1));

	b.len = 0;
	jsonw_init(&w, &b, 0); /* mismatched end */
	assert_true(jsonw_arr_begin(&w));
	assert_false(jsonw_obj_end(&w));

	b.len = 0;
	jsonw_init(&w, &b, 0); /* an object ended after a key without its value */
	assert_true(jsonw_obj_begin(&w));
	assert_true(jsonw_key(&w, "k", 1));
	assert_false(jsonw_obj_end(&w));

	b.len = 0;
	jsonw_init(&w, &b, 0); /* two top-level values */
	assert_true(jsonw_null(&w));
	assert_false(jsonw_null(&w));

	b.len = 0;
	jsonw_init(&w, &b, 0); /* too deep */
	for (int i = 0; i < JSONW_MAX_DEPTH; i++)
		assert_true(jsonw_arr_begin(&w));
	assert_false(jsonw_arr_begin(&w));

	b.len = 0;
	jsonw_init(&w, &b, 0); /* unfinished is not done; NaN fails */
	assert_true(jsonw_arr_begin(&w));
	assert_false(jsonw_done(&w));
	b.failed = false;
	assert_false(jsonw_double(&w, NAN));
	wire_buf_release(&b);
}

/* Rows into {"rows":[...],"truncated":bool} under a budget: the row that
 * crosses it is rewound, and the document still ends as valid JSON. */
static void test_budget_and_rewind(void **state)
{
	struct wire_buf b;
	struct jsonw w;
	bool truncated = false;
	int written = 0;
	json_t *back;
	json_error_t e;

	wire_buf_init(&b, NULL, 0);
	assert_true(wire_put_raw(&b, "prefix:", 7)); /* the writer starts at the end */
	jsonw_init(&w, &b, 200);
	assert_true(jsonw_obj_begin(&w));
	assert_true(jsonw_key(&w, "rows", 4));
	assert_true(jsonw_arr_begin(&w));
	for (int i = 0; i < 100; i++) {
		struct jsonw_mark m = jsonw_mark(&w);
		assert_true(jsonw_arr_begin(&w));
		assert_true(jsonw_i64(&w, i));
		assert_true(jsonw_str(&w, "0123456789", 10));
		assert_true(jsonw_arr_end(&w));
		if (jsonw_over(&w)) {
			jsonw_rewind(&w, m);
			truncated = true;
			break;
		}
		written++;
	}
	assert_false(jsonw_over(&w));
	assert_true(jsonw_arr_end(&w));
	assert_true(jsonw_key(&w, "truncated", 9));
	assert_true(jsonw_bool(&w, truncated));
	assert_true(jsonw_obj_end(&w));
	assert_true(jsonw_done(&w));
	assert_true(truncated);
	assert_true(written > 5 && written < 100);
	assert_memory_equal(b.data, "prefix:", 7);
	back = json_loadb(b.data + 7, b.len - 7, 0, &e);
	assert_non_null(back);
	assert_int_equal(json_array_size(json_object_get(back, "rows")), (size_t)written);
	assert_true(json_is_true(json_object_get(back, "truncated")));
	json_decref(back);

	/* a mark at another depth cannot be rewound to */
	b.len = 0;
	jsonw_init(&w, &b, 0);
	assert_true(jsonw_arr_begin(&w));
	struct jsonw_mark m = jsonw_mark(&w);
	assert_true(jsonw_arr_begin(&w));
	jsonw_rewind(&w, m);
	assert_false(jsonw_done(&w));
	assert_false(jsonw_null(&w));
	wire_buf_release(&b);
}

/* A large string written and then rewound is forgotten by the memo: the
 * same json_t written again is escaped afresh, not copied from bytes that
 * are gone. */
static void test_rewind_forgets_memo(void **state)
{
	char *big = malloc(5000);
	struct wire_buf b;
	struct jsonw w;
	json_t *s, *back;
	json_error_t e;

	assert_non_null(big);
	memset(big, 'q', 5000);
	s = json_stringn(big, 5000);
	wire_buf_init(&b, NULL, 0);
	jsonw_init(&w, &b, 0);
	assert_true(jsonw_arr_begin(&w));
	struct jsonw_mark m = jsonw_mark(&w);
	assert_true(jsonw_json(&w, s));
	jsonw_rewind(&w, m);
	assert_true(jsonw_str(&w, "short", 5));
	assert_true(jsonw_json(&w, s));
	assert_true(jsonw_arr_end(&w));
	back = json_loadb(b.data, b.len, 0, &e);
	assert_non_null(back);
	assert_string_equal(json_string_value(json_array_get(back, 0)), "short");
	assert_int_equal(json_string_length(json_array_get(back, 1)), 5000);
	json_decref(back);
	json_decref(s);
	wire_buf_release(&b);
	free(big);
}

/* jsonw_json on values freed one after another: a large string is never
 * taken for the next value allocated at the same address. */
static void test_json_values_freed_between(void **state)
{
	char *big = malloc(6000);
	struct wire_buf b;
	struct jsonw w;
	json_t *back;
	json_error_t e;

	assert_non_null(big);
	wire_buf_init(&b, NULL, 0);
	jsonw_init(&w, &b, 0);
	assert_true(jsonw_arr_begin(&w));
	for (int i = 0; i < 8; i++) {
		memset(big, 'a' + i, 6000);
		json_t *v = json_pack("[s%]", big, (size_t)6000);
		assert_true(jsonw_json(&w, json_array_get(v, 0)));
		json_decref(v); /* the next one is likely allocated where this was */
	}
	assert_true(jsonw_arr_end(&w));
	back = json_loadb(b.data, b.len, 0, &e);
	assert_non_null(back);
	for (int i = 0; i < 8; i++)
		assert_int_equal(json_string_value(json_array_get(back, (size_t)i))[0], 'a' + i);
	json_decref(back);
	wire_buf_release(&b);
	free(big);
}

/* wire_splice: the placeholder's place holds the spliced text, once. */
static void test_splice(void **state)
{
	json_t *placeholder = json_object();
	json_t *msg = json_pack("{s:s, s:{s:O, s:i}}", "jsonrpc", "2.0", "result",
				"structuredContent", placeholder, "n", 1);
	const char *made = "{\"rows\":[[1,\"a\"]],\"truncated\":false}";
	struct wire_buf b;

	wire_buf_init(&b, NULL, 0);
	wire_splice(&b, placeholder, made, strlen(made));
	assert_true(wire_write(&b, msg));
	const char *want = "{\"jsonrpc\":\"2.0\",\"result\":{\"structuredContent\":"
			   "{\"rows\":[[1,\"a\"]],\"truncated\":false},\"n\":1}}";
	assert_int_equal(b.len, strlen(want));
	assert_memory_equal(b.data, want, b.len);
	/* another empty object is not the placeholder */
	b.len = 0;
	json_t *other = json_object();
	assert_true(wire_write(&b, other));
	assert_int_equal(b.len, 2);
	json_decref(other);
	wire_buf_release(&b);
	json_decref(msg);
	json_decref(placeholder);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_trees),
		cmocka_unit_test(test_long_strings_and_scalars),
		cmocka_unit_test(test_misuse_fails),
		cmocka_unit_test(test_budget_and_rewind),
		cmocka_unit_test(test_rewind_forgets_memo),
		cmocka_unit_test(test_json_values_freed_between),
		cmocka_unit_test(test_splice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
