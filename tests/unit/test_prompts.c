/*
 * test_prompts.c - unit tests for the prompt table (src/core/prompts.c:
 * declaration checks, lookup, hiding, stable paging with a filter, the
 * check of a prompts/get's arguments) and the {argument} templates of the
 * config's prompts (src/providers/prompts/prompt_template.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "prompts/prompt_template.h"
#include "prompts.h"

static enum moat_rc get_none(struct call_ctx *ctx, void *data, const json_t *args, json_t **out,
			     struct moat_err *err)
{
	(void)ctx;
	(void)data;
	(void)args;
	(void)err;
	*out = json_object();
	return MOAT_OK;
}

static void add(struct prompts *p, const char *name, const char *args_json, const char *tool)
{
	json_t *args = args_json ? json_loads(args_json, 0, NULL) : NULL;
	struct prompt_spec spec = {.name = name, .description = "d", .arguments = args,
				   .get = get_none, .read_tool = tool};
	struct moat_err err = {0};

	assert_int_equal(prompts_add(p, &spec, &err), MOAT_OK);
	json_decref(args);
}

static void test_add_checks(void **state)
{
	struct prompts *p = prompts_new();
	struct moat_err err = {0};
	json_t *dup = json_loads("[{\"name\":\"a\"},{\"name\":\"a\"}]", 0, NULL);
	json_t *bad = json_loads("[{\"name\":\"a b\"}]", 0, NULL);
	json_t *req = json_loads("[{\"name\":\"a\",\"required\":\"yes\"}]", 0, NULL);
	struct prompt_spec s = {.name = "x", .get = get_none};

	(void)state;
	s.name = "bad name";
	assert_int_equal(prompts_add(p, &s, &err), MOAT_EINVAL);
	assert_string_equal(err.rule, "prompts.bad_name");
	s.name = "x";
	s.arguments = dup;
	assert_int_equal(prompts_add(p, &s, &err), MOAT_EINVAL);
	assert_non_null(strstr(err.msg, "declared twice"));
	s.arguments = bad;
	assert_int_equal(prompts_add(p, &s, &err), MOAT_EINVAL);
	s.arguments = req;
	assert_int_equal(prompts_add(p, &s, &err), MOAT_EINVAL);
	s.arguments = NULL;
	assert_int_equal(prompts_add(p, &s, &err), MOAT_OK);
	assert_int_equal(prompts_add(p, &s, &err), MOAT_EINVAL);
	assert_string_equal(err.rule, "prompts.duplicate");
	assert_int_equal(prompts_count(p), 1);
	json_decref(dup);
	json_decref(bad);
	json_decref(req);
	prompts_free(p);
}

static bool not_secret(const struct prompt *pr, const void *ctx)
{
	(void)ctx;
	return !pr->read_tool || strcmp(pr->read_tool, "secret") != 0;
}

static void test_paging_hiding(void **state)
{
	struct prompts *p = prompts_new();
	struct mcp_features f = mcp_features_of(MCP_2025_11_25);
	struct moat_err err = {0};
	const char *names[] = {"a", "b", "c", "d", "e"};
	json_t *page;
	const char *cur;

	(void)state;
	for (size_t i = 0; i < 5; i++)
		add(p, names[i], NULL, i == 1 ? "secret" : NULL);
	assert_non_null(prompts_find(p, "c"));
	assert_true(prompts_set_hidden(p, "c", true));
	assert_false(prompts_set_hidden(p, "c", true)); /* no change */
	assert_null(prompts_find(p, "c"));
	/* a, [b filtered], [c hidden], d | e */
	assert_int_equal(prompts_page(p, NULL, 2, &f, not_secret, NULL, &page, &err), MOAT_OK);
	json_t *list = json_object_get(page, "prompts");
	assert_int_equal(json_array_size(list), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(list, 1), "name")),
			    "d");
	cur = json_string_value(json_object_get(page, "nextCursor"));
	assert_string_equal(cur, "prompt:4");
	json_t *next;
	assert_int_equal(prompts_page(p, cur, 2, &f, not_secret, NULL, &next, &err), MOAT_OK);
	assert_int_equal(json_array_size(json_object_get(next, "prompts")), 1);
	assert_null(json_object_get(next, "nextCursor"));
	json_decref(next);
	json_decref(page);
	assert_int_equal(prompts_page(p, "prompt:9", 2, &f, NULL, NULL, &page, &err), MOAT_EINVAL);
	assert_int_equal(prompts_page(p, "moat:1", 2, &f, NULL, NULL, &page, &err), MOAT_EINVAL);
	assert_true(prompts_set_hidden(p, "c", false));
	assert_non_null(prompts_find(p, "c"));
	assert_false(prompts_set_hidden(p, "zz", true));
	prompts_free(p);
}

static void test_titles_by_revision(void **state)
{
	struct prompts *p = prompts_new();
	json_t *args = json_loads("[{\"name\":\"a\",\"title\":\"A\",\"complete\":1}]", 0, NULL);
	struct prompt_spec s = {.name = "x", .title = "X", .arguments = args, .get = get_none};
	struct mcp_features old = mcp_features_of(MCP_2025_03_26);
	struct mcp_features now = mcp_features_of(MCP_2025_06_18);
	json_t *o;

	(void)state;
	assert_int_equal(prompts_add(p, &s, NULL), MOAT_OK);
	o = prompts_json(prompts_at(p, 0), &now);
	assert_string_equal(json_string_value(json_object_get(o, "title")), "X");
	json_t *a0 = json_array_get(json_object_get(o, "arguments"), 0);
	assert_string_equal(json_string_value(json_object_get(a0, "title")), "A");
	assert_null(json_object_get(a0, "complete")); /* only listing members are kept */
	json_decref(o);
	o = prompts_json(prompts_at(p, 0), &old);
	assert_null(json_object_get(o, "title"));
	assert_null(json_object_get(json_array_get(json_object_get(o, "arguments"), 0), "title"));
	json_decref(o);
	json_decref(args);
	prompts_free(p);
}

static void check(const struct prompt *pr, const char *args_json, enum moat_rc want,
		  const char *rule)
{
	json_t *a = args_json ? json_loads(args_json, JSON_DECODE_ANY, NULL) : NULL;
	struct moat_err err = {0};

	assert_int_equal(prompts_check_args(pr, a, &err), want);
	if (rule)
		assert_string_equal(err.rule, rule);
	json_decref(a);
}

static void test_check_args(void **state)
{
	struct prompts *p = prompts_new();
	const struct prompt *pr;

	(void)state;
	add(p, "x", "[{\"name\":\"need\",\"required\":true},{\"name\":\"opt\"}]", NULL);
	pr = prompts_find(p, "x");
	check(pr, "{\"need\":\"v\"}", MOAT_OK, NULL);
	check(pr, "{\"need\":\"v\",\"opt\":\"\"}", MOAT_OK, NULL);
	check(pr, NULL, MOAT_EINVAL, "prompts.missing_argument");
	check(pr, "{\"opt\":\"v\"}", MOAT_EINVAL, "prompts.missing_argument");
	check(pr, "{\"need\":\"v\",\"other\":\"v\"}", MOAT_EINVAL, "prompts.unknown_argument");
	check(pr, "{\"need\":1}", MOAT_EINVAL, "prompts.argument_not_string");
	check(pr, "{\"need\":null}", MOAT_EINVAL, "prompts.argument_not_string");
	check(pr, "[\"need\"]", MOAT_EINVAL, "prompts.arguments_not_object");
	add(p, "none", NULL, NULL);
	check(prompts_find(p, "none"), NULL, MOAT_OK, NULL);
	check(prompts_find(p, "none"), "{}", MOAT_OK, NULL);
	check(prompts_find(p, "none"), "{\"a\":\"b\"}", MOAT_EINVAL, "prompts.unknown_argument");
	prompts_free(p);
}

/* ---- templates ---------------------------------------------------------- */

static void expand_is(const char *tmpl, const char *args_json, bool uri, const char *want)
{
	json_t *a = json_loads(args_json, 0, NULL);
	struct moat_err err = {0};
	char *got = ptmpl_expand(tmpl, a, uri, &err);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
	json_decref(a);
}

static bool count_names(void *ctx, const char *name, size_t n)
{
	(void)name;
	(void)n;
	(*(int *)ctx)++;
	return true;
}

static void test_template(void **state)
{
	struct moat_err err = {0};
	int n = 0;

	(void)state;
	expand_is("Review {path} for {focus}.", "{\"path\":\"a.c\",\"focus\":\"style\"}", false,
		  "Review a.c for style.");
	expand_is("{{literal}} and }} and {a}", "{\"a\":\"{b}\"}", false,
		  "{literal} and } and {b}");
	expand_is("missing: [{a}]", "{}", false, "missing: []");
	expand_is("", "{}", false, "");
	expand_is("file://{p}", "{\"p\":\"/x y/a#b?c%d\"}", true, "file:///x%20y/a%23b%3Fc%25d");
	expand_is("file://{p}", "{\"p\":\"/r\xc3\xa9/a:b@c\"}", true, "file:///r%C3%A9/a:b@c");
	assert_int_equal(ptmpl_scan("a {b} {c.d-e_f} {{ }}", count_names, &n, &err), MOAT_OK);
	assert_int_equal(n, 2);
	assert_int_equal(ptmpl_scan("a { b}", NULL, NULL, &err), MOAT_EINVAL);
	assert_string_equal(err.rule, "prompts.bad_template");
	assert_int_equal(ptmpl_scan("a {b", NULL, NULL, &err), MOAT_EINVAL);
	assert_int_equal(ptmpl_scan("a }", NULL, NULL, &err), MOAT_EINVAL);
	assert_int_equal(ptmpl_scan("{}", NULL, NULL, &err), MOAT_EINVAL);
	assert_null(ptmpl_expand("x {", NULL, false, &err));
	assert_int_equal(ptmpl_scheme_len("file:///x"), 4);
	assert_int_equal(ptmpl_scheme_len("sql://{db}/tables"), 3);
	assert_int_equal(ptmpl_scheme_len("{uri}"), 0);
	assert_int_equal(ptmpl_scheme_len("/abs/path"), 0);
	assert_int_equal(ptmpl_scheme_len("fi{x}le:"), 0);
}

static void test_template_bound(void **state)
{
	size_t n = PTMPL_MAX_OUT / 2 + 16;
	char *big = malloc(n + 1);
	json_t *a;
	struct moat_err err = {0};

	(void)state;
	memset(big, 'x', n);
	big[n] = '\0';
	a = json_pack("{s:s}", "v", big);
	assert_null(ptmpl_expand("{v}{v}", a, false, &err));
	assert_int_equal(err.rc, MOAT_ELIMIT);
	assert_string_equal(err.rule, "prompts.too_long");
	json_decref(a);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_checks),
		cmocka_unit_test(test_paging_hiding),
		cmocka_unit_test(test_titles_by_revision),
		cmocka_unit_test(test_check_args),
		cmocka_unit_test(test_template),
		cmocka_unit_test(test_template_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
