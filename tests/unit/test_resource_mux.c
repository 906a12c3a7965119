/*
 * test_resource_mux.c - unit tests for src/core/resource_mux.c: reads
 * routed by URI scheme, one listing paged across families with cursors
 * only the mux issues, templates joined, and the registration rules.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resource_mux.h"

/* A fake family serving "<scheme>:/<n>" for n in [0, count), paged by an
 * integer cursor of its own. */
struct fake {
	const char *scheme;
	size_t count;
};

static enum moat_rc fake_list(void *data, struct call_ctx *ctx, const char *cursor,
			      size_t page_size, json_t **out, struct moat_err *err)
{
	struct fake *f = data;
	size_t start = cursor ? strtoul(cursor, NULL, 10) : 0, i;
	json_t *arr;
	char buf[64];

	(void)ctx;
	if (cursor && strcmp(cursor, "bad") == 0)
		return moat_err_set(err, MOAT_EINVAL, "invalid params: unknown or stale cursor");
	arr = json_array();
	for (i = start; i < f->count && i - start < page_size; i++) {
		snprintf(buf, sizeof(buf), "%s:/%zu", f->scheme, i);
		json_array_append_new(arr, json_pack("{s:s}", "uri", buf));
	}
	*out = json_pack("{s:o}", "resources", arr);
	if (i < f->count) {
		snprintf(buf, sizeof(buf), "%zu", i);
		json_object_set_new(*out, "nextCursor", json_string(buf));
	}
	return MOAT_OK;
}

static enum moat_rc fake_read(void *data, struct call_ctx *ctx, const char *uri, json_t **out,
			      struct moat_err *err)
{
	struct fake *f = data;

	(void)ctx;
	*out = json_pack("{s:s, s:s}", "family", f->scheme, "uri", uri);
	return *out ? MOAT_OK : moat_err_set(err, MOAT_ENOMEM, "out of memory");
}

static json_t *fake_templates(void *data)
{
	struct fake *f = data;
	return json_pack("[{s:s}]", "name", f->scheme);
}

static struct fake fa = {"file", 5}, fb = {"sql", 3};

static struct resource_ops ops_of(struct fake *f)
{
	return (struct resource_ops){.scheme = f->scheme, .list = fake_list, .read = fake_read,
				     .templates = fake_templates, .data = f};
}

static struct resource_mux *two(void)
{
	struct resource_mux *m = calloc(1, sizeof(*m));
	struct resource_ops a = ops_of(&fa), b = ops_of(&fb);
	struct moat_err err = {0};

	assert_non_null(m);
	assert_int_equal(resource_mux_add(m, &a, &err), MOAT_OK);
	assert_int_equal(resource_mux_add(m, &b, &err), MOAT_OK);
	return m;
}

/* Lists every page of size page through ops; returns the URIs joined by
 * spaces and the number of pages. */
static char *list_all(const struct resource_ops *ops, size_t page, int *pages)
{
	char *all = calloc(1, 4096), *cursor = NULL;
	struct moat_err err = {0};

	*pages = 0;
	do {
		json_t *out = NULL, *r;
		size_t i;
		const char *next;
		assert_int_equal(ops->list(ops->data, NULL, cursor, page, &out, &err), MOAT_OK);
		assert_true(json_array_size(json_object_get(out, "resources")) <= page);
		json_array_foreach(json_object_get(out, "resources"), i, r) {
			strcat(all, json_string_value(json_object_get(r, "uri")));
			strcat(all, " ");
		}
		free(cursor);
		next = json_string_value(json_object_get(out, "nextCursor"));
		cursor = next ? strdup(next) : NULL;
		json_decref(out);
		(*pages)++;
		assert_true(*pages < 20);
	} while (cursor);
	return all;
}

static void test_none_and_one(void **state)
{
	struct resource_mux m = {0};
	struct resource_ops a = ops_of(&fa);
	struct moat_err err = {0};

	(void)state;
	assert_null(resource_mux_ops(&m));
	assert_int_equal(resource_mux_add(&m, &a, &err), MOAT_OK);
	/* One family is served as it is, with its own cursors. */
	assert_ptr_equal(resource_mux_ops(&m)->data, &fa);
	assert_ptr_equal(resource_mux_ops(&m)->list, fake_list);
}

static void test_read_routes_by_scheme(void **state)
{
	struct resource_mux *m = two();
	const struct resource_ops *ops = resource_mux_ops(m);
	struct moat_err err = {0};
	json_t *out = NULL;

	(void)state;
	assert_int_equal(ops->read(ops->data, NULL, "sql://shop/tables", &out, &err), MOAT_OK);
	assert_string_equal(json_string_value(json_object_get(out, "family")), "sql");
	json_decref(out);
	out = NULL;
	assert_int_equal(ops->read(ops->data, NULL, "FILE:///etc/x", &out, &err), MOAT_OK);
	assert_string_equal(json_string_value(json_object_get(out, "family")), "file");
	json_decref(out);
	out = NULL;
	/* A scheme that only starts like a served one, and unknown ones. */
	assert_int_equal(ops->read(ops->data, NULL, "sqlite://x", &out, &err), MOAT_ENOTFOUND);
	assert_non_null(strstr(err.msg, "URI scheme"));
	assert_int_equal(ops->read(ops->data, NULL, "http://x", &out, &err), MOAT_ENOTFOUND);
	assert_int_equal(ops->read(ops->data, NULL, "", &out, &err), MOAT_ENOTFOUND);
	assert_null(out);
	free(m);
}

static void test_list_pages_across_families(void **state)
{
	struct resource_mux *m = two();
	const struct resource_ops *ops = resource_mux_ops(m);
	const char *want = "file:/0 file:/1 file:/2 file:/3 file:/4 sql:/0 sql:/1 sql:/2 ";
	int pages;
	char *all;

	(void)state;
	for (size_t page = 1; page <= 10; page++) {
		all = list_all(ops, page, &pages);
		assert_string_equal(all, want);
		/* Pages are filled across the family boundary, and no page is
		 * empty: 8 items take ceil(8 / page) pages. */
		assert_int_equal(pages, (int)((8 + page - 1) / page));
		free(all);
	}
	free(m);
}

static void test_list_bad_cursors(void **state)
{
	struct resource_mux *m = two();
	const struct resource_ops *ops = resource_mux_ops(m);
	const char *bad[] = {"x", "", "2:", "9:1", "0", "-1:", "0x1:", "1:bad"};
	struct moat_err err = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *out = NULL;
		assert_int_equal(ops->list(ops->data, NULL, bad[i], 3, &out, &err), MOAT_EINVAL);
		assert_null(out);
	}
	free(m);
}

static void test_templates_joined(void **state)
{
	struct resource_mux *m = two();
	const struct resource_ops *ops = resource_mux_ops(m);
	json_t *t = ops->templates(ops->data);

	(void)state;
	assert_int_equal(json_array_size(t), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(t, 1), "name")), "sql");
	json_decref(t);
	free(m);
}

static void test_add_rules(void **state)
{
	struct resource_mux *m = two();
	struct resource_ops dup = ops_of(&fb), upper = ops_of(&fb), none = ops_of(&fb);
	struct moat_err err = {0};

	(void)state;
	assert_int_equal(resource_mux_add(m, &dup, &err), MOAT_EINVAL);
	assert_non_null(strstr(err.msg, "already served"));
	upper.scheme = "Git";
	assert_int_equal(resource_mux_add(m, &upper, &err), MOAT_EINVAL);
	none.scheme = NULL;
	assert_int_equal(resource_mux_add(m, &none, &err), MOAT_EINVAL);
	for (int i = 2; i < RESOURCE_MUX_MAX; i++) {
		static char names[RESOURCE_MUX_MAX][8];
		struct resource_ops o = ops_of(&fb);
		snprintf(names[i], sizeof(names[i]), "s%d", i);
		o.scheme = names[i];
		assert_int_equal(resource_mux_add(m, &o, &err), MOAT_OK);
	}
	dup.scheme = "extra";
	assert_int_equal(resource_mux_add(m, &dup, &err), MOAT_EINVAL);
	free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none_and_one),
		cmocka_unit_test(test_read_routes_by_scheme),
		cmocka_unit_test(test_list_pages_across_families),
		cmocka_unit_test(test_list_bad_cursors),
		cmocka_unit_test(test_templates_joined),
		cmocka_unit_test(test_add_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
