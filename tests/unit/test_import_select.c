/*
 * test_import_select.c - unit tests for src/import/import.c,
 * import_names.c, import_base.c and import_grouped.c: tool names
 * (truncation, collisions, stability), which operations become tools
 * (writes, --include/--exclude/--tag, --max-tools), the grouped form,
 * base_url and --name. Helpers in import_rig.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "import_rig.h"

/* ---- names ---------------------------------------------------------------- */

static bool name_ok(const char *n)
{
	if (!n || !*n || strlen(n) > 64)
		return false;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || *n == '_'))
			return false;
	return true;
}

static void test_names(void **state)
{
	struct import_result r, r2;
	char longid[201], *paths = NULL;
	(void)state;

	for (int i = 0; i < 200; i++)
		longid[i] = "abcdefghijKLMNOPQRST"[i % 20];
	longid[200] = '\0';
	assert_true(asprintf(&paths,
			     "{'/a':{'get':{'operationId':'%s','responses':{}}},"
			     "'/b':{'get':{'operationId':'%s','responses':{}}},"
			     "'/c':{'get':{'operationId':'listThings','responses':{}}},"
			     "'/d':{'get':{'operationId':'list_things','responses':{}}},"
			     "'/e':{'get':{'operationId':'list-things','responses':{}}},"
			     "'/contacts/{id}/notes':{'get':{'responses':{}}},"
			     "'/f':{'get':{'operationId':'getHTTPStatusV2','responses':{}}},"
			     "'/g':{'get':{'operationId':'\\u540d\\u524d','responses':{}}}}",
			     longid, longid) > 0);
	ok(paths, NULL, &(struct import_opts){.name = "crm"}, &r);
	ok(paths, NULL, &(struct import_opts){.name = "crm"}, &r2);
	assert_int_equal(r.ntools, 8);
	for (size_t i = 0; i < r.nops; i++) {
		assert_true(name_ok(r.ops[i].tool));
		assert_string_equal(r.ops[i].tool, r2.ops[i].tool); /* stable */
		assert_string_equal(sget(tool(r.section, i), "name"), r.ops[i].tool);
	}
	/* 200 chars: cut to 55, "_" and 8 hex digits */
	assert_int_equal(strlen(r.ops[0].tool), 64);
	/* camelCase: "jKLMNOPQRSTa" -> "j_klmnopqrs_ta" (an acronym ends before its last capital) */
	assert_memory_equal(r.ops[0].tool, "crm_abcdefghij_klmnopqrs_tabcdefghij_klmnopqrs_tabcdefg", 55);
	assert_int_equal(r.ops[0].tool[55], '_');
	for (int i = 56; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", r.ops[0].tool[i]));
	/* the same long id again: the same stem, then _2, within 64 */
	assert_true(strlen(r.ops[1].tool) <= 64);
	assert_string_equal(r.ops[1].tool + strlen(r.ops[1].tool) - 2, "_2");
	assert_string_not_equal(r.ops[0].tool, r.ops[1].tool);
	assert_string_equal(r.ops[2].tool, "crm_list_things");
	assert_string_equal(r.ops[3].tool, "crm_list_things_2");
	assert_string_equal(r.ops[4].tool, "crm_list_things_3");
	assert_string_equal(r.ops[5].tool, "crm_get_contacts_id_notes");
	assert_string_equal(r.ops[6].tool, "crm_get_http_status_v2");
	assert_string_equal(r.ops[7].tool, "crm_get_g"); /* no ASCII in the id */
	schemas_compile(r.section);
	import_result_free(&r);
	import_result_free(&r2);
	free(paths);
}

/* Names do not depend on what is selected: a read keeps its name with
 * or without --allow-writes. */
static void test_names_selection_stable(void **state)
{
	const char *paths = "{'/x':{'post':{'operationId':'thing','responses':{}},"
			    "'get':{'operationId':'thing','responses':{}}}}";
	struct import_result r, r2;
	(void)state;

	ok(paths, NULL, &(struct import_opts){.name = "crm"}, &r);
	ok(paths, NULL, &(struct import_opts){.name = "crm", .allow_writes = true}, &r2);
	assert_string_equal(sget(tool(r.section, 0), "name"), "crm_thing");
	assert_string_equal(sget(tool(r2.section, 0), "name"), "crm_thing");
	assert_string_equal(sget(tool(r2.section, 1), "name"), "crm_thing_2");
	import_result_free(&r);
	import_result_free(&r2);
}

/* ---- writes and selection -------------------------------------------------- */


static bool hint(const json_t *t, const char *k)
{
	json_t *v = json_object_get(json_object_get(t, "annotations"), k);

	assert_true(json_is_boolean(v));
	return json_is_true(v);
}

static void test_writes(void **state)
{
	struct import_result r;
	struct moat_err e = {0};
	json_t *t;
	(void)state;

	ok(CRUD, NULL, &(struct import_opts){.name = "crm"}, &r);
	assert_int_equal(r.ntools, 3);
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(sget(tool(r.section, i), "method"), "GET");
	assert_int_equal(r.nops, 8);
	/* document order: get, post | get, put, delete, options, patch | get */
	assert_string_equal(r.ops[1].method, "POST");
	assert_string_equal(r.ops[1].why, "write: needs --allow-writes");
	assert_string_equal(r.ops[5].method, "OPTIONS");
	assert_false(r.ops[5].selected);
	assert_string_equal(r.ops[6].method, "PATCH");
	assert_true(note_has(&r, "Skipped 4 write operations: run with --allow-writes"));
	import_result_free(&r);

	ok(CRUD, NULL, &(struct import_opts){.name = "crm", .allow_writes = true}, &r);
	assert_int_equal(r.ntools, 7);
	t = tool(r.section, 1); /* POST */
	assert_string_equal(sget(t, "method"), "POST");
	assert_true(json_is_true(json_object_get(t, "confirm")));
	assert_string_equal(sget(t, "body"), "{body}");
	assert_false(hint(t, "readOnlyHint"));
	assert_false(hint(t, "destructiveHint"));
	assert_false(hint(t, "idempotentHint"));
	assert_true(hint(t, "openWorldHint"));
	t = tool(r.section, 3); /* PUT */
	assert_string_equal(sget(t, "method"), "PUT");
	assert_true(hint(t, "destructiveHint") && hint(t, "idempotentHint"));
	t = tool(r.section, 4); /* DELETE */
	assert_true(hint(t, "destructiveHint") && hint(t, "idempotentHint"));
	t = tool(r.section, 5); /* PATCH */
	assert_string_equal(sget(t, "method"), "PATCH");
	assert_true(hint(t, "destructiveHint"));
	assert_false(hint(t, "idempotentHint"));
	assert_null(json_object_get(tool(r.section, 0), "confirm"));
	schemas_compile(r.section);
	import_result_free(&r);

	/* only writes: the refusal says --allow-writes */
	refused("{'/c':{'post':{'operationId':'create','responses':{}}}}", NULL,
		&(struct import_opts){.name = "crm"}, "import.no_operations", &e);
	assert_non_null(strstr(e.msg, "--allow-writes"));
	refused("{}", NULL, &(struct import_opts){.name = "crm"}, "import.no_operations", &e);
}

static void test_select(void **state)
{
	const char *inc[] = {"get*", "/d"}, *exc[] = {"tag:deals"}, *tg[] = {"contacts"};
	const char *none[] = {"nothing*"};
	struct import_result r;
	struct moat_err e = {0};
	(void)state;

	ok(CRUD, NULL,
	   &(struct import_opts){.name = "crm", .include = {inc, 2}, .allow_writes = true}, &r);
	assert_int_equal(r.ntools, 2);
	assert_string_equal(sget(tool(r.section, 0), "name"), "crm_get");
	assert_string_equal(sget(tool(r.section, 1), "name"), "crm_deals");
	assert_string_equal(r.ops[0].why, "not matched by --include");
	import_result_free(&r);

	ok(CRUD, NULL, &(struct import_opts){.name = "crm", .include = {inc, 2}, .exclude = {exc, 1}},
	   &r);
	assert_int_equal(r.ntools, 1);
	assert_string_equal(r.ops[7].why, "excluded by --exclude");
	import_result_free(&r);

	ok(CRUD, NULL, &(struct import_opts){.name = "crm", .tags = {tg, 1}}, &r);
	assert_int_equal(r.ntools, 2);
	assert_string_equal(r.ops[7].why, "not tagged with a --tag");
	assert_string_equal(r.ops[3].why, "not tagged with a --tag"); /* untagged PUT */
	import_result_free(&r);

	refused(CRUD, NULL, &(struct import_opts){.name = "crm", .include = {none, 1}},
		"import.no_operations", &e);
	assert_non_null(strstr(e.msg, "--include/--exclude/--tag"));
}

static void test_max_tools(void **state)
{
	char *paths = malloc(65536);
	size_t len = 0;
	struct import_result r;
	struct moat_err e = {0};
	(void)state;

	len += (size_t)snprintf(paths + len, 65536 - len, "{");
	for (int i = 0; i < 45; i++)
		len += (size_t)snprintf(paths + len, 65536 - len,
					"%s'/p%d':{'get':{'operationId':'op%d','tags':['%s'],'responses':{}}}",
					i ? "," : "", i, i, i < 30 ? "alpha" : i < 42 ? "beta" : "gamma");
	snprintf(paths + len, 65536 - len, "}");
	refused(paths, NULL, &(struct import_opts){.name = "crm"}, "import.too_many_tools", &e);
	assert_non_null(strstr(e.msg, "45 operations"));
	assert_non_null(strstr(e.msg, "--max-tools 40"));
	assert_non_null(strstr(e.msg, "alpha (30), beta (12), gamma (3)"));
	assert_non_null(strstr(e.msg, "--tag"));
	assert_non_null(strstr(e.msg, "--include"));
	assert_non_null(strstr(e.msg, "--grouped"));
	/* ops are listed even so (for --list) */
	{
		char *d = doc3(paths, NULL);
		assert_int_not_equal(run(d, &(struct import_opts){.name = "crm"}, &r, &e), MOAT_OK);
		assert_int_equal(r.nops, 45);
		assert_string_equal(r.ops[44].tool, "crm_op44");
		import_result_free(&r);
		free(d);
	}
	ok(paths, NULL, &(struct import_opts){.name = "crm", .max_tools = 50}, &r);
	assert_int_equal(r.ntools, 45);
	import_result_free(&r);
	free(paths);

	/* a section holds at most 256 tools, whatever --max-tools says */
	paths = malloc(65536);
	len = (size_t)snprintf(paths, 65536, "{");
	for (int i = 0; i < 257; i++)
		len += (size_t)snprintf(paths + len, 65536 - len,
					"%s'/p%d':{'get':{'responses':{}}}", i ? "," : "", i);
	snprintf(paths + len, 65536 - len, "}");
	refused(paths, NULL, &(struct import_opts){.name = "crm", .max_tools = 1000},
		"import.too_many_tools", &e);
	assert_non_null(strstr(e.msg, "at most 256"));
	assert_non_null(strstr(e.msg, "(no tag) (257)"));

	/* --grouped: neither 40 nor 256 */
	ok(paths, NULL, &(struct import_opts){.name = "crm", .grouped = true}, &r);
	assert_null(json_object_get(r.section, "tools"));
	assert_int_equal(json_array_size(json_object_get(r.section, "operations")), 257);
	assert_int_equal(r.ntools, 257);
	assert_true(note_has(&r, "crm_operations, crm_operation_schema and crm_call"));
	schemas_compile(r.section);
	import_result_free(&r);
	free(paths);
}

static void test_grouped(void **state)
{
	struct import_result r;
	char k[256];
	json_t *op;
	(void)state;

	ok(CRUD, "'components':{'securitySchemes':{'k':{'type':'apiKey','in':'header','name':'X-K'}}},"
		 "'security':[{'k':[]}]",
	   &(struct import_opts){.name = "crm", .grouped = true, .allow_writes = true}, &r);
	keys(r.section, k, sizeof(k));
	assert_string_equal(k, "$comment,base_url,headers,operations");
	op = json_array_get(json_object_get(r.section, "operations"), 1);
	assert_string_equal(sget(op, "name"), "crm_create");
	assert_true(json_is_true(json_object_get(op, "confirm")));
	assert_true(note_has(&r, "crm_call_write"));
	assert_true(note_has(&r, "ask for confirmation"));
	schemas_compile(r.section);
	import_result_free(&r);
}

/* ---- base_url and options ------------------------------------------------- */

static void test_base_url(void **state)
{
	const char *vars[] = {"region=eu", "version=v2"}, *bad[] = {"nope=1"};
	struct import_result r;
	struct moat_err e = {0};
	char *d;
	(void)state;

	d = dq("{'openapi':'3.1.0','info':{'title':'x','version':'1'},"
	       "'servers':[{'url':'https://{region}.api.example/{version}/','variables':"
	       "{'region':{'default':'us','enum':['us','eu']},'version':{'default':'v1'}}}],"
	       "'paths':" ONE_GET "}");
	assert_int_equal(run(d, &(struct import_opts){.name = "crm"}, &r, &e), MOAT_OK);
	assert_string_equal(sget(r.section, "base_url"), "https://us.api.example/v1");
	import_result_free(&r);
	assert_int_equal(run(d, &(struct import_opts){.name = "crm", .server_vars = vars,
						      .nserver_vars = 2},
			     &r, &e),
			 MOAT_OK);
	assert_string_equal(sget(r.section, "base_url"), "https://eu.api.example/v2");
	import_result_free(&r);
	assert_int_not_equal(run(d, &(struct import_opts){.name = "crm", .server_vars = bad,
							  .nserver_vars = 1},
				 &r, &e),
			     MOAT_OK);
	assert_string_equal(e.rule, "import.server_var");
	import_result_free(&r);
	free(d);

	/* relative: --base-url needed; then it is used */
	d = dq("{'openapi':'3.0.0','info':{'title':'x','version':'1'},'servers':[{'url':'/v1'}],"
	       "'paths':" ONE_GET "}");
	assert_int_not_equal(run(d, &(struct import_opts){.name = "crm"}, &r, &e), MOAT_OK);
	assert_string_equal(e.rule, "import.base_url");
	assert_non_null(strstr(e.msg, "--base-url"));
	import_result_free(&r);
	assert_int_equal(run(d, &(struct import_opts){.name = "crm", .base_url = "http://127.0.0.1:8080/v1/"},
			     &r, &e),
			 MOAT_OK);
	assert_string_equal(sget(r.section, "base_url"), "http://127.0.0.1:8080/v1");
	assert_true(json_is_true(json_object_get(r.section, "allow_http")));
	assert_true(note_has(&r, "plain http"));
	import_result_free(&r);
	{
		const char *addrs[] = {"127.0.0.1"};
		char k[256];
		assert_int_equal(run(d, &(struct import_opts){.name = "crm", .base_url = "http://127.0.0.1:1",
							      .allow_addresses = addrs, .nallow_addresses = 1},
				     &r, &e),
				 MOAT_OK);
		keys(r.section, k, sizeof(k));
		assert_string_equal(k, "$comment,base_url,allow_http,allow_addresses,tools");
		import_result_free(&r);
	}
	const char *refuse[] = {"https://user:pw@api.example", "https://api.example/?key=1",
				"ftp://api.example", "https://", "https://api.example/a b",
				"https://api.example/#x"};
	for (size_t i = 0; i < sizeof(refuse) / sizeof(refuse[0]); i++) {
		assert_int_not_equal(run(d, &(struct import_opts){.name = "crm", .base_url = refuse[i]},
					 &r, &e),
				     MOAT_OK);
		assert_string_equal(e.rule, "import.base_url");
		assert_null(strstr(e.msg, "pw"));
		import_result_free(&r);
	}
	free(d);

	/* protocol-relative */
	d = dq("{'openapi':'3.0.0','info':{'title':'x','version':'1'},'servers':[{'url':'//api.example/v1'}],"
	       "'paths':" ONE_GET "}");
	assert_int_not_equal(run(d, &(struct import_opts){.name = "crm"}, &r, &e), MOAT_OK);
	assert_string_equal(e.rule, "import.base_url");
	assert_non_null(strstr(e.msg, "--base-url https://api.example/v1"));
	import_result_free(&r);
	free(d);

	/* no servers at all */
	d = dq("{'openapi':'3.0.0','info':{'title':'x','version':'1'},'paths':" ONE_GET "}");
	assert_int_not_equal(run(d, &(struct import_opts){.name = "crm"}, &r, &e), MOAT_OK);
	assert_string_equal(e.rule, "import.base_url");
	import_result_free(&r);
	free(d);
}

static void test_name_option(void **state)
{
	const char *badn[] = {"", "Crm", "1crm", "crm-x", "abcdefghijabcdefghijabcdefghijabc", NULL};
	struct moat_err e = {0};
	(void)state;

	for (size_t i = 0; i < sizeof(badn) / sizeof(badn[0]); i++)
		refused(ONE_GET, NULL, &(struct import_opts){.name = badn[i]}, "import.name", &e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_names_selection_stable),
		cmocka_unit_test(test_writes),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_max_tools),
		cmocka_unit_test(test_grouped),
		cmocka_unit_test(test_base_url),
		cmocka_unit_test(test_name_option),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
