/*
 * test_registry.c - unit tests for src/core/registry.c: name rules,
 * duplicate names, schema compilation at registration, listing per revision.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "registry.h"

static enum moat_rc nop(struct call_ctx *ctx, void *data, json_t *args, struct tool_result *out,
			struct moat_err *err)
{
	return MOAT_OK;
}

static enum moat_rc try_add(struct registry *r, const char *name, const char *schema,
			    const char *out_schema, struct moat_err *err)
{
	json_t *in = json_loads(schema, 0, NULL);
	json_t *os = out_schema ? json_loads(out_schema, 0, NULL) : NULL;
	struct tool_spec spec = {.name = name, .description = "d", .input_schema = in,
				 .output_schema = os, .handler = nop};
	enum moat_rc rc = registry_add(r, &spec, err);

	json_decref(in);
	json_decref(os);
	return rc;
}

static void test_names(void **state)
{
	struct registry *r = registry_new(0);
	struct moat_err err = {0};
	const char *obj = "{\"type\":\"object\"}";

	assert_int_equal(try_add(r, "read_file.v2-x", obj, NULL, &err), MOAT_OK);
	assert_int_equal(try_add(r, "read_file.v2-x", obj, NULL, &err), MOAT_EINVAL);
	assert_non_null(strstr(err.msg, "registered twice"));
	assert_int_equal(try_add(r, "", obj, NULL, &err), MOAT_EINVAL);
	assert_int_equal(try_add(r, "has space", obj, NULL, &err), MOAT_EINVAL);
	assert_int_equal(try_add(r, "slash/name", obj, NULL, &err), MOAT_EINVAL);
	char longname[70];
	memset(longname, 'a', 65);
	longname[65] = '\0';
	assert_int_equal(try_add(r, longname, obj, NULL, &err), MOAT_EINVAL);
	assert_int_equal(registry_count(r), 1);
	registry_free(r);
}

static void test_schemas_checked(void **state)
{
	struct registry *r = registry_new(0);
	struct moat_err err = {0};

	assert_int_equal(try_add(r, "a", "{\"type\":\"string\"}", NULL, &err), MOAT_EINVAL);
	assert_non_null(strstr(err.msg, "inputSchema must be a schema of type object"));
	assert_int_equal(try_add(r, "b", "{\"type\":\"object\",\"properties\":{\"x\":{\"pattern\":\"(\"}}}",
				 NULL, &err),
			 MOAT_EINVAL);
	assert_non_null(strstr(err.msg, "tool 'b': inputSchema"));
	assert_int_equal(try_add(r, "c", "{\"type\":\"object\"}", "[]", &err), MOAT_EINVAL);
	assert_non_null(strstr(err.msg, "outputSchema"));
	assert_int_equal(registry_count(r), 0);
	registry_free(r);
}

/* registry_add_texts parses both texts, names the tool when one does not
 * parse, and registers nothing then. */
static void test_add_texts(void **state)
{
	struct registry *r = registry_new(0);
	struct moat_err err = {0};
	struct tool_spec spec = {.name = "t", .description = "d", .handler = nop};
	struct tool *t;

	(void)state;
	assert_int_equal(registry_add_texts(r, spec, "{\"type\":", NULL, &err), MOAT_EINTERNAL);
	assert_non_null(strstr(err.msg, "bad schema for t"));
	assert_int_equal(registry_add_texts(r, spec, "{\"type\":\"object\"}", "{nope", &err),
			 MOAT_EINTERNAL);
	assert_int_equal(registry_count(r), 0);
	assert_int_equal(registry_add_texts(r, spec, "{\"type\":\"object\"}",
					    "{\"type\":\"object\"}", &err),
			 MOAT_OK);
	t = registry_find(r, "t");
	assert_non_null(t);
	assert_non_null(t->output_schema);
	spec.name = "u";
	assert_int_equal(registry_add_texts(r, spec, "{\"type\":\"object\"}", NULL, &err), MOAT_OK);
	assert_null(registry_find(r, "u")->output_schema);
	registry_free(r);
}

static void test_listing(void **state)
{
	struct registry *r = registry_new(0);
	struct moat_err err = {0};
	json_t *in = json_loads("{\"type\":\"object\"}", 0, NULL);
	struct tool_spec spec = {.name = "t", .title = "T", .description = "d", .input_schema = in,
				 .output_schema = in,
				 .annotations = {.read_only = HINT_TRUE, .destructive = HINT_FALSE},
				 .handler = nop};
	struct mcp_features old = mcp_features_of(MCP_2024_11_05);
	struct mcp_features mid = mcp_features_of(MCP_2025_03_26);
	struct mcp_features now = mcp_features_of(MCP_2025_11_25);
	json_t *j;

	assert_int_equal(registry_add(r, &spec, &err), MOAT_OK);
	json_decref(in);
	j = registry_tool_json(registry_at(r, 0), &old);
	assert_null(json_object_get(j, "annotations"));
	assert_null(json_object_get(j, "title"));
	assert_null(json_object_get(j, "outputSchema"));
	json_decref(j);
	j = registry_tool_json(registry_at(r, 0), &mid);
	assert_true(json_is_true(json_object_get(json_object_get(j, "annotations"), "readOnlyHint")));
	assert_true(json_is_false(json_object_get(json_object_get(j, "annotations"), "destructiveHint")));
	assert_null(json_object_get(json_object_get(j, "annotations"), "idempotentHint"));
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "annotations"), "title")),
			    "T");
	json_decref(j);
	j = registry_tool_json(registry_at(r, 0), &now);
	assert_string_equal(json_string_value(json_object_get(j, "title")), "T");
	assert_non_null(json_object_get(j, "outputSchema"));
	json_decref(j);
	registry_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_schemas_checked),
		cmocka_unit_test(test_add_texts),
		cmocka_unit_test(test_listing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
