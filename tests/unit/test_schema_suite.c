/*
 * test_schema_suite.c - run the official JSON-Schema-Test-Suite (draft
 * 2020-12) against src/core/schema.c.
 *
 * Every group of every file listed in suite_files[] is compiled and every
 * test case validated; the verdict must match the suite's "valid" flag. Cases
 * that need features moat deliberately leaves out ($id-based resolution,
 * remote references, $anchor, unevaluated*) are listed in skips[] with a
 * reason (mirrored in tests/data/json-schema-test-suite/SKIPPED.md). Skipped
 * cases are not run and not counted as passed, and a skip entry that matches
 * nothing fails the run, so the list cannot silently go stale. The files are
 * found under MOAT_SOURCE_ROOT, which meson defines as the source directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "result.h"
#include "schema.h"

#ifndef MOAT_SOURCE_ROOT
#error "MOAT_SOURCE_ROOT must be defined (meson passes the source directory)"
#endif

#define SUITE_DIR MOAT_SOURCE_ROOT "/tests/data/json-schema-test-suite/draft2020-12/"

static const char *const suite_files[] = {
	"additionalProperties",
	"allOf",
	"anyOf",
	"boolean_schema",
	"const",
	"contains",
	"default",
	"defs",
	"dependentRequired",
	"enum",
	"exclusiveMaximum",
	"exclusiveMinimum",
	"format",
	"if-then-else",
	"infinite-loop-detection",
	"items",
	"maxContains",
	"maxItems",
	"maxLength",
	"maxProperties",
	"maximum",
	"minContains",
	"minItems",
	"minLength",
	"minProperties",
	"minimum",
	"multipleOf",
	"not",
	"oneOf",
	"pattern",
	"patternProperties",
	"prefixItems",
	"properties",
	"propertyNames",
	"ref",
	"required",
	"type",
	"uniqueItems",
};

/* One skipped group (test == NULL) or one skipped case. */
struct skip {
	const char *file;
	const char *group;
	const char *test;
	const char *reason;
	unsigned hits;
};

#define R_REMOTE "remote reference (network/metaschema resolution is not supported)"
#define R_ID                                                                                       \
	"needs $id / URI-based resolution (only '#' pointers are resolved; $id below the root is " \
	"rejected)"
#define R_ANCHOR "needs $anchor resolution"
#define R_UNEVAL "needs unevaluatedProperties (rejected at compile time)"

static struct skip skips[] = {
	{"defs", "validate definition against metaschema", NULL, R_REMOTE, 0},
	{"ref", "remote ref, containing refs itself", NULL, R_REMOTE, 0},
	{"ref", "Recursive references between schemas", NULL, R_ID, 0},
	{"ref", "ref creates new scope when adjacent to keywords", NULL, R_UNEVAL, 0},
	{"ref", "refs with relative uris and defs", NULL, R_ID, 0},
	{"ref", "relative refs with absolute uris and defs", NULL, R_ID, 0},
	{"ref", "$id must be resolved against nearest parent, not just immediate parent", NULL,
	 R_ID, 0},
	{"ref", "order of evaluation: $id and $ref", NULL, R_ID, 0},
	{"ref", "order of evaluation: $id and $anchor and $ref", NULL, R_ID "; " R_ANCHOR, 0},
	{"ref", "order of evaluation: $id and $ref on nested schema", NULL, R_ID, 0},
	{"ref", "simple URN base URI with $ref via the URN", NULL, R_ID, 0},
	{"ref", "URN base URI with URN and JSON pointer ref", NULL, R_ID, 0},
	{"ref", "URN base URI with URN and anchor ref", NULL, R_ID "; " R_ANCHOR, 0},
	{"ref", "URN ref with nested pointer ref", NULL, R_ID, 0},
	{"ref", "ref to if", NULL, R_ID, 0},
	{"ref", "ref to then", NULL, R_ID, 0},
	{"ref", "ref to else", NULL, R_ID, 0},
	{"ref", "ref with absolute-path-reference", NULL, R_ID, 0},
	{"not", "collect annotations inside a 'not', even if collection is disabled", NULL,
	 R_UNEVAL, 0},
};

static unsigned n_passed, n_failed, n_skipped;

/* find_skip - the skip entry for (file, group, test), or NULL; test NULL
 * asks for a whole-group entry. */
static struct skip *find_skip(const char *file, const char *group, const char *test)
{
	size_t i;

	for (i = 0; i < sizeof(skips) / sizeof(skips[0]); i++) {
		struct skip *s = &skips[i];

		if (strcmp(s->file, file) != 0 || strcmp(s->group, group) != 0)
			continue;
		if (!test && !s->test)
			return s;
		if (test && s->test && strcmp(s->test, test) == 0)
			return s;
	}
	return NULL;
}

/* run_group - compile one group's schema and run its cases. */
static void run_group(const char *file, const json_t *group)
{
	const char *gdesc = json_string_value(json_object_get(group, "description"));
	const json_t *tests = json_object_get(group, "tests");
	struct skip *gskip;
	struct schema *s;
	struct moat_err err;
	size_t i;

	assert_non_null(gdesc);
	assert_true(json_is_array(tests));
	gskip = find_skip(file, gdesc, NULL);
	if (gskip) {
		gskip->hits++;
		n_skipped += (unsigned)json_array_size(tests);
		return;
	}
	moat_err_clear(&err);
	s = schema_compile(json_object_get(group, "schema"), &err);
	for (i = 0; i < json_array_size(tests); i++) {
		const json_t *t = json_array_get(tests, i);
		const char *tdesc = json_string_value(json_object_get(t, "description"));
		bool want = json_is_true(json_object_get(t, "valid"));
		struct skip *tskip;
		struct schema_error e;
		char line[800];
		bool got;

		assert_non_null(tdesc);
		tskip = find_skip(file, gdesc, tdesc);
		if (tskip) {
			tskip->hits++;
			n_skipped++;
			continue;
		}
		if (!s) {
			printf("FAIL %s: %s: %s: schema did not compile: %s\n", file, gdesc, tdesc,
			       err.msg);
			n_failed++;
			continue;
		}
		got = schema_validate(s, json_object_get(t, "data"), &e);
		if (got == want) {
			n_passed++;
		} else {
			printf("FAIL %s: %s: %s: expected %s, got %s (%s)\n", file, gdesc, tdesc,
			       want ? "valid" : "invalid", got ? "valid" : "invalid",
			       got ? "-" : schema_error_format(&e, line, sizeof(line)));
			n_failed++;
		}
	}
	schema_free(s);
}

/* test_file - run every group of one suite file (state: the file's name). */
static void test_file(void **state)
{
	const char *file = *state;
	char path[1024];
	json_error_t jerr;
	json_t *doc;
	size_t i;
	int w;

	w = snprintf(path, sizeof(path), "%s%s.json", SUITE_DIR, file);
	assert_true(w > 0 && (size_t)w < sizeof(path));
	doc = json_load_file(path, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!doc)
		fail_msg("cannot load %s: %s (line %d)", path, jerr.text, jerr.line);
	assert_true(json_is_array(doc));
	for (i = 0; i < json_array_size(doc); i++)
		run_group(file, json_array_get(doc, i));
	json_decref(doc);
}

/* test_summary - print the figures; fail on any failure or stale skip. */
static void test_summary(void **state)
{
	size_t i;
	unsigned stale = 0;

	(void)state;
	for (i = 0; i < sizeof(skips) / sizeof(skips[0]); i++) {
		if (skips[i].hits == 0) {
			printf("STALE skip entry: %s: %s%s%s\n", skips[i].file, skips[i].group,
			       skips[i].test ? ": " : "", skips[i].test ? skips[i].test : "");
			stale++;
		}
	}
	printf("schema suite: %u cases passed, %u failed, %u skipped (listed)\n", n_passed,
	       n_failed, n_skipped);
	assert_int_equal(stale, 0);
	assert_int_equal(n_failed, 0);
	assert_true(n_passed > 0);
}

int main(void)
{
	struct CMUnitTest tests[sizeof(suite_files) / sizeof(suite_files[0]) + 1];
	size_t i;

	for (i = 0; i < sizeof(suite_files) / sizeof(suite_files[0]); i++) {
		struct CMUnitTest t = cmocka_unit_test_prestate(test_file, (void *)suite_files[i]);

		t.name = suite_files[i];
		tests[i] = t;
	}
	tests[i] = (struct CMUnitTest)cmocka_unit_test(test_summary);
	return _cmocka_run_group_tests("schema_suite", tests, i + 1, NULL, NULL);
}
