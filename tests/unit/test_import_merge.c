/*
 * test_import_merge.c - `moat import openapi --into`: the section spliced
 * in at http.apis.NAME (src/import/import_merge.c). Every case checks
 * that the bytes outside the spliced span are the original's and that the
 * result parses to the original plus the section; the layout cases check
 * the exact text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "import/import_merge.h"

static const char section_json[] = "{\"base_url\": \"https://api.example/v1\", "
				   "\"tools\": [{\"name\": \"x_get\", \"method\": \"GET\", "
				   "\"path\": \"/a\"}]}";

static json_t *section(void)
{
	json_t *v = json_loads(section_json, 0, NULL);
	assert_non_null(v);
	return v;
}

/* Merge value into cfg as NAME and check what every case must hold;
 * returns the merged text (the caller frees). */
static char *merge_ok(const char *cfg, const char *name, const json_t *value,
		      enum import_merge_how want)
{
	struct moat_err err = {0};
	char *out = NULL;
	size_t outlen = 0, at = 0, n = 0, len = strlen(cfg);
	enum import_merge_how how = (enum import_merge_how)-1;
	json_t *orig, *got;

	assert_int_equal(import_merge(cfg, len, name, value, &out, &outlen, &how, &at, &n, &err),
			 MOAT_OK);
	assert_non_null(out);
	assert_int_equal(how, want);
	assert_int_equal(strlen(out), outlen);
	/* Outside the span: the original, byte for byte. */
	assert_true(at <= len && at + n <= outlen);
	assert_memory_equal(out, cfg, at);
	size_t tail = outlen - (at + n);
	assert_true(tail <= len);
	assert_memory_equal(out + at + n, cfg + len - tail, tail);
	/* The result is the original plus http.apis.NAME = value. */
	orig = json_loads(cfg, 0, NULL);
	got = json_loads(out, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(orig);
	assert_non_null(got);
	assert_true(json_equal(json_object_get(json_object_get(json_object_get(got, "http"), "apis"),
					       name),
			       value));
	json_object_del(json_object_get(json_object_get(got, "http"), "apis"), name);
	json_object_del(json_object_get(json_object_get(orig, "http"), "apis"), name);
	if (want == IMPORT_MERGE_ADDED_APIS)
		json_object_del(json_object_get(got, "http"), "apis");
	if (want == IMPORT_MERGE_ADDED_HTTP)
		json_object_del(got, "http");
	assert_true(json_equal(orig, got));
	json_decref(orig);
	json_decref(got);
	return out;
}

static void merge_refused(const char *cfg, const char *rule)
{
	struct moat_err err = {0};
	char *out = (char *)"untouched";
	json_t *v = section();

	assert_int_not_equal(import_merge(cfg, strlen(cfg), "crm", v, &out, NULL, NULL, NULL, NULL,
					  &err),
			     MOAT_OK);
	assert_null(out);
	assert_non_null(err.rule);
	assert_string_equal(err.rule, rule);
	assert_true(strlen(err.msg) > 10);
	json_decref(v);
}

/* ---- the four places ---------------------------------------------------- */

static void replace_existing_api(void **state)
{
	(void)state;
	const char *cfg = "{\n"
			  "  \"roots\": [\"/srv\"],\n"
			  "  \"http\": {\n"
			  "    \"apis\": {\n"
			  "      \"crm\": {\"base_url\": \"https://old.example\", \"tools\": []},\n"
			  "      \"other\": {\"base_url\": \"https://o.example\"}\n"
			  "    }\n"
			  "  }\n"
			  "}\n";
	json_t *v = json_pack("{s:s}", "base_url", "https://new.example");
	char *out = merge_ok(cfg, "crm", v, IMPORT_MERGE_REPLACED);

	assert_string_equal(out, "{\n"
				 "  \"roots\": [\"/srv\"],\n"
				 "  \"http\": {\n"
				 "    \"apis\": {\n"
				 "      \"crm\": {\n"
				 "        \"base_url\": \"https://new.example\"\n"
				 "      },\n"
				 "      \"other\": {\"base_url\": \"https://o.example\"}\n"
				 "    }\n"
				 "  }\n"
				 "}\n");
	free(out);
	json_decref(v);
}

static void add_api_member(void **state)
{
	(void)state;
	const char *cfg = "{\n"
			  "  \"http\": {\n"
			  "    \"apis\": {\n"
			  "      \"other\": {\"base_url\": \"https://o.example\"}\n"
			  "    }\n"
			  "  }\n"
			  "}\n";
	json_t *v = json_pack("{s:s,s:[]}", "base_url", "https://n.example", "tools");
	char *out = merge_ok(cfg, "crm", v, IMPORT_MERGE_ADDED_API);

	assert_string_equal(out, "{\n"
				 "  \"http\": {\n"
				 "    \"apis\": {\n"
				 "      \"other\": {\"base_url\": \"https://o.example\"},\n"
				 "      \"crm\": {\n"
				 "        \"base_url\": \"https://n.example\",\n"
				 "        \"tools\": []\n"
				 "      }\n"
				 "    }\n"
				 "  }\n"
				 "}\n");
	free(out);
	json_decref(v);
}

static void add_apis_to_http(void **state)
{
	(void)state;
	const char *cfg = "{\n"
			  "  \"http\": {\n"
			  "    \"timeout_ms\": 5000\n"
			  "  }\n"
			  "}\n";
	json_t *v = json_pack("{s:s}", "base_url", "https://n.example");
	char *out = merge_ok(cfg, "crm", v, IMPORT_MERGE_ADDED_APIS);

	assert_string_equal(out, "{\n"
				 "  \"http\": {\n"
				 "    \"timeout_ms\": 5000,\n"
				 "    \"apis\": {\n"
				 "      \"crm\": {\n"
				 "        \"base_url\": \"https://n.example\"\n"
				 "      }\n"
				 "    }\n"
				 "  }\n"
				 "}\n");
	free(out);
	json_decref(v);
}

static void add_http_to_top(void **state)
{
	(void)state;
	const char *cfg = "{\n  \"roots\": [\"/srv\"]\n}\n";
	json_t *v = json_pack("{s:s}", "base_url", "https://n.example");
	char *out = merge_ok(cfg, "crm", v, IMPORT_MERGE_ADDED_HTTP);

	assert_string_equal(out, "{\n"
				 "  \"roots\": [\"/srv\"],\n"
				 "  \"http\": {\n"
				 "    \"apis\": {\n"
				 "      \"crm\": {\n"
				 "        \"base_url\": \"https://n.example\"\n"
				 "      }\n"
				 "    }\n"
				 "  }\n"
				 "}\n");
	free(out);
	json_decref(v);
}

static void empty_objects(void **state)
{
	(void)state;
	json_t *v = json_pack("{s:s}", "base_url", "https://n.example");
	char *out = merge_ok("{}", "crm", v, IMPORT_MERGE_ADDED_HTTP);

	assert_string_equal(out, "{\n  \"http\": {\n    \"apis\": {\n      \"crm\": {\n"
				 "        \"base_url\": \"https://n.example\"\n      }\n    }\n  }\n}");
	free(out);
	/* An empty "apis" on its own line, in a file indented by 4. */
	out = merge_ok("{\n    \"http\": {\n        \"apis\": { }\n    }\n}\n", "crm", v,
		       IMPORT_MERGE_ADDED_API);
	assert_string_equal(out, "{\n    \"http\": {\n        \"apis\": {\n"
				 "            \"crm\": {\n"
				 "                \"base_url\": \"https://n.example\"\n"
				 "            }\n        }\n    }\n}\n");
	free(out);
	out = merge_ok("  {\"http\": {}}  ", "crm", v, IMPORT_MERGE_ADDED_APIS);
	assert_string_equal(out, "  {\"http\": {\"apis\":{\"crm\":{\"base_url\":"
				 "\"https://n.example\"}}}}  ");
	free(out);
	json_decref(v);
}

/* ---- odd formatting ----------------------------------------------------- */

static void tabs(void **state)
{
	(void)state;
	const char *cfg = "{\n\t\"http\": {\n\t\t\"apis\": {\n\t\t\t\"a\": {}\n\t\t}\n\t}\n}\n";
	json_t *v = json_pack("{s:s,s:[{s:s}]}", "base_url", "https://n.example", "tools", "name",
			      "crm_x");
	char *out = merge_ok(cfg, "crm", v, IMPORT_MERGE_ADDED_API);

	assert_string_equal(out, "{\n\t\"http\": {\n\t\t\"apis\": {\n\t\t\t\"a\": {},\n"
				 "\t\t\t\"crm\": {\n"
				 "\t\t\t\t\"base_url\": \"https://n.example\",\n"
				 "\t\t\t\t\"tools\": [\n"
				 "\t\t\t\t\t{\n"
				 "\t\t\t\t\t\t\"name\": \"crm_x\"\n"
				 "\t\t\t\t\t}\n"
				 "\t\t\t\t]\n"
				 "\t\t\t}\n\t\t}\n\t}\n}\n");
	free(out);
	json_decref(v);
}

static void crlf(void **state)
{
	(void)state;
	const char *cfg = "{\r\n  \"http\": {\r\n    \"apis\": {\r\n      \"crm\": {}\r\n    }\r\n"
			  "  },\r\n  \"audit\": {\"path\": \"a.jsonl\"}\r\n}\r\n";
	json_t *v = section();
	char *out = merge_ok(cfg, "crm", v, IMPORT_MERGE_REPLACED);

	/* Every line break is CRLF: no bare LF, as many LFs as CRs. */
	size_t cr = 0, lf = 0;
	for (const char *p = out; *p; p++) {
		if (*p == '\n') {
			lf++;
			assert_true(p > out && p[-1] == '\r');
		}
		cr += *p == '\r';
	}
	assert_int_equal(cr, lf);
	assert_true(lf > 9);
	assert_non_null(strstr(out, "\r\n        \"base_url\": \"https://api.example/v1\",\r\n"));
	free(out);
	out = merge_ok("{\r\n  \"roots\": []\r\n}", "crm", v, IMPORT_MERGE_ADDED_HTTP);
	assert_null(strstr(out, "\n\""));
	for (const char *p = strchr(out, '\n'); p; p = strchr(p + 1, '\n'))
		assert_int_equal(p[-1], '\r');
	free(out);
	json_decref(v);
}

static void compact_one_line(void **state)
{
	(void)state;
	json_t *v = section();
	char *out = merge_ok("{\"roots\":[\"/srv\"],\"http\":{\"apis\":{\"a\":{}}}}", "crm", v,
			     IMPORT_MERGE_ADDED_API);

	assert_null(strchr(out, '\n'));
	assert_string_equal(out, "{\"roots\":[\"/srv\"],\"http\":{\"apis\":{\"a\":{},\"crm\":"
				 "{\"base_url\":\"https://api.example/v1\",\"tools\":[{\"name\":"
				 "\"x_get\",\"method\":\"GET\",\"path\":\"/a\"}]}}}}");
	free(out);
	/* Spaces after ',' and ':' are the file's own. */
	out = merge_ok("{ \"roots\": [] }\n", "crm", v, IMPORT_MERGE_ADDED_HTTP);
	assert_int_equal(strchr(out, '\n') - out, (ptrdiff_t)strlen(out) - 1);
	assert_true(strncmp(out, "{ \"roots\": [], \"http\": {\"apis\":", 30) == 0);
	free(out);
	/* Replacing in a compact file stays compact. */
	out = merge_ok("{\"http\":{\"apis\":{\"crm\":{\"base_url\":\"https://o\"},\"b\":{}}}}", "crm",
		       v, IMPORT_MERGE_REPLACED);
	assert_null(strchr(out, '\n'));
	assert_non_null(strstr(out, "}]},\"b\":{}}}}"));
	free(out);
	json_decref(v);
}

static void unicode_and_escapes(void **state)
{
	(void)state;
	/* "\u0068ttp" is "http"; "ap\u0069s" is "apis"; the API name holds
	 * non-ASCII; strings elsewhere hold braces, quotes and commas. */
	const char *cfg = "{\n  \"note\": \"{ \\\" } [ , : ] \\\\\",\n"
			  "  \"\\u0068ttp\": {\n    \"ap\\u0069s\": {\n"
			  "      \"caf\xc3\xa9\": {\"base_url\": \"https://\xe2\x82\xac.example\"}\n"
			  "    }\n  }\n}\n";
	json_t *v = json_pack("{s:s}", "title", "Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x98\x80");
	char *out = merge_ok(cfg, "caf\xc3\xa9", v, IMPORT_MERGE_REPLACED);

	assert_non_null(strstr(out, "\"title\": \"Gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x98\x80\""));
	assert_non_null(strstr(out, "\"note\": \"{ \\\" } [ , : ] \\\\\""));
	free(out);
	/* A key that only looks like "crm" inside a string is not a member. */
	out = merge_ok("{\"http\": {\"apis\": {\"x\": \"\\\"crm\\\": 1\"}}}", "crm", v,
		       IMPORT_MERGE_ADDED_API);
	free(out);
	json_decref(v);
}

static void nested_deeper_and_idempotent(void **state)
{
	(void)state;
	const char *cfg = "{\n"
			  "    \"http\": {\n"
			  "        \"apis\": {\n"
			  "            \"crm\": {\n"
			  "                \"base_url\": \"https://old\"\n"
			  "            }\n"
			  "        }\n"
			  "    },\n"
			  "    \"zzz\": [1, 2, {\"a\": \"}\"}]\n"
			  "}\n";
	json_t *v = section();
	char *once = merge_ok(cfg, "crm", v, IMPORT_MERGE_REPLACED);
	char *twice = merge_ok(once, "crm", v, IMPORT_MERGE_REPLACED);

	/* Re-importing the same section changes nothing. */
	assert_string_equal(once, twice);
	assert_non_null(strstr(once, "\n            \"crm\": {\n                \"base_url\": "
				     "\"https://api.example/v1\",\n                \"tools\": [\n"
				     "                    {\n"));
	assert_non_null(strstr(once, "\n            }\n        }\n    },\n    \"zzz\""));
	free(once);
	free(twice);
	json_decref(v);
}

/* ---- refusals ------------------------------------------------------------ */

static void invalid_json_refused(void **state)
{
	(void)state;
	merge_refused("", "import.merge_parse");
	merge_refused("{\"http\": {\"apis\": {}},}", "import.merge_parse");
	merge_refused("{\"http\": {}, \"http\": {}}", "import.merge_parse"); /* duplicate key */
	merge_refused("{\"http\": {\"apis\": {\"crm\": 1, \"crm\": 2}}}", "import.merge_parse");
	merge_refused("{\"a\": 1} trailing", "import.merge_parse");
	merge_refused("// comment\n{}", "import.merge_parse");
	merge_refused("{\"a\": \"\xff\"}", "import.merge_parse"); /* not UTF-8 */
}

static void wrong_shapes_refused(void **state)
{
	(void)state;
	merge_refused("[]", "import.merge_shape");
	merge_refused("\"http\"", "import.merge_shape");
	merge_refused("{\"http\": []}", "import.merge_shape");
	merge_refused("{\"http\": \"apis\"}", "import.merge_shape");
	merge_refused("{\"http\": {\"apis\": [\"crm\"]}}", "import.merge_shape");
	merge_refused("{\"http\": {\"apis\": null}}", "import.merge_shape");
}

static void bad_arguments_refused(void **state)
{
	(void)state;
	struct moat_err err = {0};
	char *out = NULL;
	json_t *arr = json_array();

	assert_int_equal(import_merge("{}", 2, "", arr, &out, NULL, NULL, NULL, NULL, &err),
			 MOAT_EINVAL);
	assert_int_equal(import_merge("{}", 2, "crm", arr, &out, NULL, NULL, NULL, NULL, &err),
			 MOAT_EINVAL);
	assert_null(out);
	json_decref(arr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(replace_existing_api),
		cmocka_unit_test(add_api_member),
		cmocka_unit_test(add_apis_to_http),
		cmocka_unit_test(add_http_to_top),
		cmocka_unit_test(empty_objects),
		cmocka_unit_test(tabs),
		cmocka_unit_test(crlf),
		cmocka_unit_test(compact_one_line),
		cmocka_unit_test(unicode_and_escapes),
		cmocka_unit_test(nested_deeper_and_idempotent),
		cmocka_unit_test(invalid_json_refused),
		cmocka_unit_test(wrong_shapes_refused),
		cmocka_unit_test(bad_arguments_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
