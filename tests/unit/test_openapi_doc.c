/*
 * test_openapi_doc.c - unit tests for the importer's document layer
 * (src/import/openapi_doc.c, openapi_swagger2.c, openapi_ref.c):
 * loading JSON and YAML (anchors, aliases, merge keys, block scalars),
 * version checks and their rules, the caps (size: a 100 MB description;
 * nodes; billion-laughs YAML), Swagger 2.0 put in the OpenAPI 3 shape
 * (servers, body and formData parameters, responses, security), $ref
 * lookups (pointer escapes, external refs refused by name, loops, a chain
 * 10,000 deep in bounded time), and schemas inlined and translated
 * (recursion direct, mutual, through allOf and items; depth and node cuts;
 * nullable; 3.1 type arrays; readOnly/writeOnly; additionalProperties;
 * dropped keywords; text sanitised; patterns moat cannot compile). Every
 * schema oa_schema returns is compiled by moat's validator here too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "import/openapi_doc.h"

/* Time bounds are loose under ASan, which slows allocation several-fold. */
#ifdef __SANITIZE_ADDRESS__
#define SLOW 4.0
#else
#define SLOW 1.0
#endif

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000.0 + t.tv_nsec / 1e6;
}

static void load(const char *text, struct oa_doc *d)
{
	struct moat_err err = {0};
	if (oa_load(text, strlen(text), NULL, d, &err) != MOAT_OK)
		fail_msg("oa_load failed: %s (%s)\n%s", err.msg, err.rule ? err.rule : "-", text);
	assert_non_null(d->root);
}

/* oa_load fails with rule and a message containing part. */
static void load_fails(const char *text, size_t len, const struct oa_limits *lim,
		       const char *rule, const char *part)
{
	struct oa_doc d;
	struct moat_err err = {0};
	enum moat_rc rc = oa_load(text, len ? len : strlen(text), lim, &d, &err);
	if (rc == MOAT_OK)
		fail_msg("oa_load accepted what it should refuse (%s)", rule);
	assert_null(d.root);
	if (!err.rule || strcmp(err.rule, rule) != 0 || !strstr(err.msg, part))
		fail_msg("want %s with '%s', got %s: %s", rule, part, err.rule ? err.rule : "-",
			 err.msg);
}

static char *dump(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	assert_non_null(s);
	return s;
}

static void expect_json(const json_t *v, const char *want)
{
	char *got = dump(v);
	if (strcmp(got, want) != 0)
		fail_msg("want %s\ngot  %s", want, got);
	free(got);
}

/* The value at a slash path of plain keys ("paths|/a|get"), split on '|'. */
static const json_t *at(const json_t *v, const char *path)
{
	char buf[512], *save = NULL;
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *t = strtok_r(buf, "|", &save); t && v; t = strtok_r(NULL, "|", &save))
		v = json_is_array(v) ? json_array_get(v, (size_t)atoi(t)) : json_object_get(v, t);
	if (!v)
		fail_msg("nothing at %s", path);
	return v;
}

/* oa_schema of the schema at path in d's root, checked to compile. */
static json_t *schema_at(const struct oa_doc *d, const char *path, enum oa_dir dir, json_t *notes)
{
	struct moat_err err = {0};
	json_t *s = oa_schema(d, at(d->root, path), dir, notes, &err);
	if (!s)
		fail_msg("oa_schema failed: %s (%s)", err.msg, err.rule ? err.rule : "-");
	if (!oa_schema_compiles(s, &err))
		fail_msg("the result does not compile: %s", err.msg);
	return s;
}

static bool notes_have(const json_t *notes, const char *part)
{
	size_t i;
	json_t *n;
	json_array_foreach(notes, i, n)
	{
		if (strstr(json_string_value(n), part))
			return true;
	}
	return false;
}

/* ---- loading ---- */

static void test_versions(void **state)
{
	struct oa_doc d;
	(void)state;
	load("{\"openapi\": \"3.0.3\", \"info\": {}, \"paths\": {}}", &d);
	assert_string_equal(d.version, "3.0.3");
	assert_int_equal(d.major, 3);
	assert_int_equal(d.minor, 0);
	assert_int_equal(d.lim.max_ref_chain, 32);
	oa_free(&d);
	oa_free(&d); /* zeroed: twice is harmless */
	oa_free(NULL);
	load("\xef\xbb\xbf\n\nopenapi: 3.1.0\npaths: {}\n", &d);
	assert_string_equal(d.version, "3.1.0");
	assert_int_equal(d.minor, 1);
	oa_free(&d);
	load("swagger: 2.0\npaths: {}\n", &d); /* YAML reads 2.0 as a number */
	assert_string_equal(d.version, "2.0");
	oa_free(&d);

	load_fails("{\"openapi\": \"3.2.0\"}", 0, NULL, "import.version", "OpenAPI 3.2.0 is not supported");
	load_fails("openapi: 4.0.0\n", 0, NULL, "import.version", "3.0.x and 3.1.x");
	load_fails("swagger: '1.2'\n", 0, NULL, "import.version", "Swagger 1.2");
	load_fails("openapi: [3]\n", 0, NULL, "import.version", "not a version string");
	load_fails("{\"asyncapi\": \"2.6.0\"}", 0, NULL, "import.not_openapi", "no \"openapi\"");
	load_fails("- a\n- b\n", 0, NULL, "import.not_openapi", "not a mapping");
	load_fails("openapi: 3.0.0\npaths: [1]\n", 0, NULL, "import.not_openapi", "paths");
}

static void test_parse_errors(void **state)
{
	const char *dup = "{\"openapi\": \"3.0.0\", \"paths\": {}, \"paths\": {}}";
	(void)state;
	load_fails(dup, strlen(dup), NULL, "import.parse", "duplicate");
	load_fails("{\"openapi\": \"3.0.0\",\n \"paths\": {", 0, NULL, "import.parse", "line 2");
	load_fails("openapi: 3.0.0\npaths: {a: [1, 2}\n", 0, NULL, "import.parse", "line");
	load_fails("openapi: 3.0.0\n---\nopenapi: 3.0.0\n", 0, NULL, "import.parse", "2 documents");
	load_fails("  \n\t", 0, NULL, "import.parse", "empty");
	load_fails("a: !custom x\n", 0, NULL, "import.parse", "tag");
}

/* Integers past int64 (real specs: "maximum": 9223372036854776000) load
 * as reals; every other number keeps its type. */
static void test_big_integers(void **state)
{
	struct oa_doc d;
	(void)state;
	load("{\"openapi\": \"3.0.0\", \"paths\": {}, \"x\": {\"max\": 9223372036854776000,\n"
	     " \"min\": -18446744073709552000, \"n\": [1, -2, 2.5, 0], \"m\": {\"k\": 3}}}",
	     &d);
	expect_json(at(d.root, "x"), "{\"m\":{\"k\":3},\"max\":9.2233720368547758e18,"
				     "\"min\":-1.8446744073709552e19,\"n\":[1,-2,2.5,0]}");
	assert_true(json_is_integer(at(d.root, "x|n|0")));
	oa_free(&d);
}

static void test_yaml_features(void **state)
{
	const char *y = "openapi: 3.0.3\n"
			"info:\n"
			"  title: Demo\n"
			"  description: |\n"
			"    Line one.\n"
			"    Line two.\n"
			"  summary: >\n"
			"    folded\n"
			"    text\n"
			"paths:\n"
			"  /a:\n"
			"    get:\n"
			"      responses: &ok\n"
			"        '200': {description: fine}\n"
			"  /b:\n"
			"    get:\n"
			"      responses: *ok\n"
			"components:\n"
			"  schemas:\n"
			"    Base: &base {type: object, properties: {id: {type: integer}}}\n"
			"    Derived:\n"
			"      <<: *base\n"
			"      description: more\n";
	struct oa_doc d;
	(void)state;
	load(y, &d);
	assert_string_equal(json_string_value(at(d.root, "info|description")), "Line one.\nLine two.\n");
	assert_string_equal(json_string_value(at(d.root, "info|summary")), "folded text\n");
	expect_json(at(d.root, "paths|/b|get|responses"), "{\"200\":{\"description\":\"fine\"}}");
	expect_json(at(d.root, "components|schemas|Derived"),
		    "{\"description\":\"more\",\"properties\":{\"id\":{\"type\":\"integer\"}},\"type\":\"object\"}");
	oa_free(&d);
}

static void test_billion_laughs(void **state)
{
	const char *y = "openapi: 3.0.0\n"
			"x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
			"x-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			"x-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			"x-d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			"x-e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
			"x-f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
			"x-g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
			"x-h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
			"x-i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n"
			"paths: {}\n";
	double t0 = now_ms();
	(void)state;
	load_fails(y, strlen(y), NULL, "import.yaml_aliases", "aliases expand to more than 4000000");
	assert_true(now_ms() - t0 < 1500.0 * SLOW); /* 10^9 nodes if expanded */
}

/* A 100 MB description: refused by the size cap before anything is parsed. */
static void test_huge_description(void **state)
{
	const char *head = "{\"openapi\": \"3.0.0\", \"info\": {\"description\": \"";
	const char *tail = "\"}, \"paths\": {}}";
	size_t n = 100u << 20, hl = strlen(head), tl = strlen(tail);
	char *buf = malloc(hl + n + tl + 1);
	struct oa_limits small = {.max_bytes = 1 << 20};
	double t0;

	(void)state;
	assert_non_null(buf);
	memcpy(buf, head, hl);
	memset(buf + hl, 'A', n);
	memcpy(buf + hl + n, tail, tl + 1);
	t0 = now_ms();
	load_fails(buf, hl + n + tl, NULL, "import.too_large", "more than the 67108864 allowed");
	assert_true(now_ms() - t0 < 1000.0 * SLOW);
	/* The same shape under the cap loads; a smaller cap refuses it. */
	memcpy(buf + hl + 1000, tail, tl + 1);
	load_fails(buf, hl + 1000 + tl, &(struct oa_limits){.max_bytes = 500}, "import.too_large",
		   "more than the 500 allowed");
	struct oa_doc d;
	load(buf, &d);
	oa_free(&d);
	(void)small;
	free(buf);
}

static void test_node_cap(void **state)
{
	struct oa_limits lim = {.max_nodes = 50};
	char buf[4096];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "{\"openapi\": \"3.0.0\", \"x\": [");
	(void)state;
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s1", i ? "," : "");
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "]}");
	load_fails(buf, n, &lim, "import.too_large", "more than 50 values");
	/* Commas inside strings are not values. */
	load_fails("openapi: 3.0.0\nx: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]\n", 0,
		   &(struct oa_limits){.max_nodes = 8}, "import.too_large", "more than 8 nodes");
	struct oa_doc d;
	struct moat_err err = {0};
	const char *s = "{\"openapi\": \"3.0.0\", \"x\": \",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,\"}";
	assert_int_equal(oa_load(s, strlen(s), &(struct oa_limits){.max_nodes = 10}, &d, &err), MOAT_OK);
	oa_free(&d);
}

/* ---- Swagger 2.0 ---- */

static const char *swagger =
	"{\"swagger\": \"2.0\", \"host\": \"api.example.com\", \"basePath\": \"/v1\",\n"
	" \"schemes\": [\"http\", \"https\"], \"consumes\": [\"application/json\"],\n"
	" \"produces\": [\"application/json\"],\n"
	" \"securityDefinitions\": {\n"
	"   \"basic\": {\"type\": \"basic\"},\n"
	"   \"key\": {\"type\": \"apiKey\", \"name\": \"X-Key\", \"in\": \"header\"},\n"
	"   \"oauth\": {\"type\": \"oauth2\", \"flow\": \"application\", \"tokenUrl\": \"https://t/x\",\n"
	"             \"scopes\": {\"read\": \"r\"}}},\n"
	" \"parameters\": {\"limit\": {\"name\": \"limit\", \"in\": \"query\", \"type\": \"integer\",\n"
	"                          \"maximum\": 100, \"default\": 10},\n"
	"                \"pet\": {\"name\": \"pet\", \"in\": \"body\", \"required\": true,\n"
	"                        \"schema\": {\"$ref\": \"#/definitions/Pet\"}}},\n"
	" \"definitions\": {\"Pet\": {\"type\": \"object\", \"required\": [\"name\"],\n"
	"                 \"properties\": {\"name\": {\"type\": \"string\"},\n"
	"                                \"id\": {\"type\": \"integer\", \"readOnly\": true}}}},\n"
	" \"paths\": {\n"
	"  \"/pets/{id}\": {\n"
	"   \"parameters\": [{\"name\": \"id\", \"in\": \"path\", \"required\": true, \"type\": \"string\"}],\n"
	"   \"get\": {\"parameters\": [{\"$ref\": \"#/parameters/limit\"},\n"
	"             {\"name\": \"tags\", \"in\": \"query\", \"type\": \"array\",\n"
	"              \"items\": {\"type\": \"string\", \"enum\": [\"a\", \"b\"]}, \"collectionFormat\": \"multi\"}],\n"
	"           \"produces\": [\"application/xml\", \"application/json\"],\n"
	"           \"responses\": {\"200\": {\"description\": \"ok\", \"schema\": {\"$ref\": \"#/definitions/Pet\"}},\n"
	"                         \"404\": {\"description\": \"none\"}}},\n"
	"   \"put\": {\"parameters\": [{\"$ref\": \"#/parameters/pet\"}],\n"
	"           \"responses\": {\"200\": {\"description\": \"ok\"}}},\n"
	"   \"post\": {\"consumes\": [\"application/x-www-form-urlencoded\"],\n"
	"            \"parameters\": [{\"name\": \"name\", \"in\": \"formData\", \"type\": \"string\", \"required\": true},\n"
	"                           {\"name\": \"age\", \"in\": \"formData\", \"type\": \"integer\", \"description\": \"years\"}],\n"
	"            \"responses\": {\"201\": {\"description\": \"made\"}}},\n"
	"   \"patch\": {\"parameters\": [{\"name\": \"photo\", \"in\": \"formData\", \"type\": \"file\"}],\n"
	"             \"responses\": {\"200\": {\"description\": \"ok\", \"schema\": {\"type\": \"file\"}}},\n"
	"             \"produces\": [\"image/png\"]}}}}";

static void test_swagger2(void **state)
{
	struct oa_doc d;
	json_t *notes = json_array();
	(void)state;
	load(swagger, &d);
	assert_string_equal(d.version, "2.0");
	assert_int_equal(d.major, 2);
	/* https first among the schemes offered. */
	expect_json(at(d.root, "servers"),
		    "[{\"url\":\"https://api.example.com/v1\"},{\"url\":\"http://api.example.com/v1\"}]");
	expect_json(at(d.root, "components|securitySchemes"),
		    "{\"basic\":{\"scheme\":\"basic\",\"type\":\"http\"},"
		    "\"key\":{\"in\":\"header\",\"name\":\"X-Key\",\"type\":\"apiKey\"},"
		    "\"oauth\":{\"flows\":{\"clientCredentials\":{\"scopes\":{\"read\":\"r\"},"
		    "\"tokenUrl\":\"https://t/x\"}},\"type\":\"oauth2\"}}");
	/* Path-level and global parameters: values moved into schema. */
	expect_json(at(d.root, "paths|/pets/{id}|parameters|0"),
		    "{\"in\":\"path\",\"name\":\"id\",\"required\":true,\"schema\":{\"type\":\"string\"}}");
	expect_json(at(d.root, "parameters|limit"),
		    "{\"in\":\"query\",\"name\":\"limit\",\"schema\":{\"default\":10,\"maximum\":100,\"type\":\"integer\"}}");
	expect_json(at(d.root, "paths|/pets/{id}|get|parameters|1"),
		    "{\"explode\":true,\"in\":\"query\",\"name\":\"tags\",\"schema\":{\"items\":"
		    "{\"enum\":[\"a\",\"b\"],\"type\":\"string\"},\"type\":\"array\"},\"style\":\"form\"}");
	/* Responses: schema -> content for each produces type. */
	expect_json(at(d.root, "paths|/pets/{id}|get|responses|200|content"),
		    "{\"application/json\":{\"schema\":{\"$ref\":\"#/definitions/Pet\"}},"
		    "\"application/xml\":{\"schema\":{\"$ref\":\"#/definitions/Pet\"}}}");
	expect_json(at(d.root, "paths|/pets/{id}|get|responses|404"), "{\"description\":\"none\"}");
	expect_json(at(d.root, "paths|/pets/{id}|patch|responses|200|content"),
		    "{\"image/png\":{\"schema\":{\"format\":\"binary\",\"type\":\"string\"}}}");
	/* A body parameter (through a global ref) -> requestBody. */
	expect_json(at(d.root, "paths|/pets/{id}|put|requestBody"),
		    "{\"content\":{\"application/json\":{\"schema\":{\"$ref\":\"#/definitions/Pet\"}}},"
		    "\"required\":true}");
	expect_json(at(d.root, "paths|/pets/{id}|put|parameters"),
		    "[{\"in\":\"path\",\"name\":\"id\",\"required\":true,\"schema\":{\"type\":\"string\"}}]");
	/* formData -> a form body; a file -> multipart. */
	expect_json(at(d.root, "paths|/pets/{id}|post|requestBody"),
		    "{\"content\":{\"application/x-www-form-urlencoded\":{\"schema\":{\"properties\":"
		    "{\"age\":{\"description\":\"years\",\"type\":\"integer\"},\"name\":{\"type\":\"string\"}},"
		    "\"required\":[\"name\"],\"type\":\"object\"}}},\"required\":true}");
	expect_json(at(d.root, "paths|/pets/{id}|patch|requestBody"),
		    "{\"content\":{\"multipart/form-data\":{\"schema\":{\"properties\":{\"photo\":"
		    "{\"format\":\"binary\",\"type\":\"string\"}},\"type\":\"object\"}}},\"required\":false}");
	/* "#/definitions/X" still resolves, readOnly honoured. */
	json_t *s = schema_at(&d, "paths|/pets/{id}|put|requestBody|content|application/json|schema",
			      OA_REQUEST, notes);
	expect_json(s, "{\"additionalProperties\":false,\"properties\":{\"name\":{\"type\":\"string\"}},"
		       "\"required\":[\"name\"],\"type\":\"object\"}");
	json_decref(s);
	json_decref(notes);
	oa_free(&d);

	/* Swagger 2.0's x-nullable is nullable. */
	load("{\"swagger\": \"2.0\", \"paths\": {}, \"definitions\": {\"N\": {\"type\": \"string\","
	     " \"x-nullable\": true}}}", &d);
	s = schema_at(&d, "definitions|N", OA_RESPONSE, NULL);
	expect_json(s, "{\"type\":[\"string\",\"null\"]}");
	json_decref(s);
	oa_free(&d);
	/* No host: a relative server; no schemes: https. */
	load("{\"swagger\": \"2.0\", \"basePath\": \"/api\", \"paths\": {}}", &d);
	expect_json(at(d.root, "servers"), "[{\"url\":\"/api\"}]");
	oa_free(&d);
	load("{\"swagger\": \"2.0\", \"host\": \"h.example\", \"paths\": {}}", &d);
	expect_json(at(d.root, "servers"), "[{\"url\":\"https://h.example\"}]");
	oa_free(&d);
	/* A body parameter and no consumes anywhere: application/json. */
	load("{\"swagger\": \"2.0\", \"paths\": {\"/x\": {\"post\": {\"parameters\": [{\"in\": \"body\","
	     " \"name\": \"b\", \"schema\": {\"type\": \"object\"}}], \"responses\": {}}}}}", &d);
	expect_json(at(d.root, "paths|/x|post|requestBody"),
		    "{\"content\":{\"application/json\":{\"schema\":{\"type\":\"object\"}}},\"required\":false}");
	oa_free(&d);
	/* A parameter ref to nothing: refused. */
	load_fails("{\"swagger\": \"2.0\", \"paths\": {\"/x\": {\"get\": {\"parameters\": "
		   "[{\"$ref\": \"#/parameters/none\"}]}}}}", 0, NULL, "import.bad_ref", "names nothing");
}

/* ---- $refs ---- */

static void test_deref(void **state)
{
	const char *doc = "{\"openapi\": \"3.1.0\", \"paths\": {},\n"
			  " \"components\": {\"schemas\": {\n"
			  "   \"a/b\": {\"type\": \"string\"}, \"t~x\": {\"type\": \"integer\"},\n"
			  "   \"sp ace\": {\"type\": \"boolean\"}, \"arr\": [{\"type\": \"null\"}],\n"
			  "   \"r1\": {\"$ref\": \"#/components/schemas/r2\"},\n"
			  "   \"r2\": {\"$ref\": \"#/components/schemas/a~1b\"},\n"
			  "   \"l1\": {\"$ref\": \"#/components/schemas/l2\"},\n"
			  "   \"l2\": {\"$ref\": \"#/components/schemas/l1\"}}}}";
	struct oa_doc d;
	struct moat_err err = {0};
	const json_t *v;
	(void)state;
	load(doc, &d);
#define REF(r) json_pack("{s:s}", "$ref", r)
	struct {
		const char *ref, *want;
	} ok[] = {
		{"#/components/schemas/a~1b", "{\"type\":\"string\"}"},
		{"#/components/schemas/t~0x", "{\"type\":\"integer\"}"},
		{"#/components/schemas/sp%20ace", "{\"type\":\"boolean\"}"},
		{"#/components/schemas/arr/0", "{\"type\":\"null\"}"},
		{"#/components/schemas/r1", "{\"type\":\"string\"}"},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++) {
		json_t *r = REF(ok[i].ref);
		v = oa_deref(&d, r, &err);
		if (!v)
			fail_msg("%s: %s", ok[i].ref, err.msg);
		expect_json(v, ok[i].want);
		json_decref(r);
	}
	struct {
		const char *ref, *rule, *part;
	} bad[] = {
		{"other.yaml#/components/schemas/X", "import.external_ref", "'other.yaml#/components/schemas/X'"},
		{"https://evil.example/s.json", "import.external_ref", "points outside the document"},
		{"#/components/schemas/none", "import.bad_ref", "names nothing"},
		{"#/components/schemas/arr/01", "import.bad_ref", "names nothing"},
		{"#/components/schemas/arr/1", "import.bad_ref", "names nothing"},
		{"#/components/schemas/t~2x", "import.bad_ref", "not a JSON pointer"},
		{"#/components/schemas/sp%2", "import.bad_ref", "not a JSON pointer"},
		{"#/components/schemas/sp%00", "import.bad_ref", "not a JSON pointer"},
		{"#anchor", "import.bad_ref", "not a JSON pointer"},
		{"#/components/schemas/l1", "import.ref_chain", "leads back to itself"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		json_t *r = REF(bad[i].ref);
		v = oa_deref(&d, r, &err);
		if (v || !err.rule || strcmp(err.rule, bad[i].rule) || !strstr(err.msg, bad[i].part))
			fail_msg("%s: want %s '%s', got %s: %s", bad[i].ref, bad[i].rule, bad[i].part,
				 err.rule ? err.rule : "-", err.msg);
		json_decref(r);
	}
	/* No ref: v itself; NULL: NULL with err cleared. */
	v = at(d.root, "components|schemas|arr");
	assert_ptr_equal(oa_deref(&d, v, &err), v);
	err.rc = MOAT_EINVAL;
	assert_null(oa_deref(&d, NULL, &err));
	assert_int_equal(err.rc, MOAT_OK);
	/* The whole document. */
	json_t *r = REF("#");
	assert_ptr_equal(oa_deref(&d, r, &err), d.root);
	json_decref(r);
	oa_free(&d);
}

/* $ref -> $ref -> ... 10,000 deep: stops at the chain cap, fast. */
static void test_ref_chain_10000(void **state)
{
	size_t n = 10000, cap = n * 80 + 200, len = 0;
	char *buf = malloc(cap);
	struct oa_doc d;
	struct moat_err err = {0};
	double t0;
	(void)state;
	assert_non_null(buf);
	len += (size_t)snprintf(buf + len, cap - len,
				"{\"openapi\": \"3.0.0\", \"paths\": {}, \"components\": {\"schemas\": {");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(buf + len, cap - len,
					"\"s%zu\": {\"$ref\": \"#/components/schemas/s%zu\"},", i, i + 1);
	len += (size_t)snprintf(buf + len, cap - len, "\"s%zu\": {\"type\": \"string\"}}}}", n);
	t0 = now_ms();
	assert_int_equal(oa_load(buf, len, NULL, &d, &err), MOAT_OK);
	assert_true(now_ms() - t0 < 1000.0 * SLOW);
	t0 = now_ms();
	const json_t *head = at(d.root, "components|schemas|s0");
	assert_null(oa_deref(&d, head, &err));
	assert_string_equal(err.rule, "import.ref_chain");
	assert_non_null(strstr(err.msg, "more than 32 $ref hops"));
	assert_null(oa_schema(&d, head, OA_REQUEST, NULL, &err));
	assert_string_equal(err.rule, "import.ref_chain");
	/* Every link looked up, as an importer walking the components would:
	 * each stops at the cap, so 10,000 lookups cost 10,000 x 32 hops. */
	size_t failed = 0;
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)at(d.root, "components|schemas"), k, v)
	{
		failed += oa_deref(&d, v, &err) == NULL;
	}
	assert_int_equal(failed, n + 1 - 33);
	assert_true(now_ms() - t0 < 1000.0);
	/* The tail, 32 hops from the end, resolves. */
	char name[32];
	snprintf(name, sizeof(name), "components|schemas|s%zu", n - 32);
	assert_non_null(oa_deref(&d, at(d.root, name), &err));
	oa_free(&d);
	free(buf);
}

/* ---- schemas ---- */

static const char *schemas_doc =
	"openapi: 3.0.3\n"
	"paths: {}\n"
	"components:\n"
	"  schemas:\n"
	"    Node:\n"
	"      type: object\n"
	"      properties:\n"
	"        value: {type: string}\n"
	"        next: {$ref: '#/components/schemas/Node'}\n"
	"    A:\n"
	"      type: object\n"
	"      properties: {b: {$ref: '#/components/schemas/B'}}\n"
	"    B:\n"
	"      type: object\n"
	"      properties: {a: {$ref: '#/components/schemas/A'}}\n"
	"    Tree:\n"
	"      allOf:\n"
	"        - {$ref: '#/components/schemas/Base'}\n"
	"        - type: object\n"
	"          properties:\n"
	"            children: {type: array, items: {$ref: '#/components/schemas/Tree'}}\n"
	"    Base:\n"
	"      type: object\n"
	"      properties: {id: {type: integer}}\n"
	"    Mixed:\n"
	"      allOf:\n"
	"        - {$ref: '#/components/schemas/Base'}\n"
	"        - {type: object, properties: {x: {type: string}}, minProperties: 1}\n"
	"    Clash:\n"
	"      allOf:\n"
	"        - {$ref: '#/components/schemas/Base'}\n"
	"        - {type: object, properties: {id: {type: string}}}\n"
	"    Ext: {$ref: 'common.yaml#/Thing'}\n"
	"    HasExt:\n"
	"      type: object\n"
	"      properties: {x: {items: {$ref: 'https://x.example/s.json'}}}\n"
	"    Nullable:\n"
	"      type: object\n"
	"      properties:\n"
	"        s: {type: string, nullable: true}\n"
	"        e: {type: string, enum: [a, b], nullable: true}\n"
	"        r: {allOf: [{$ref: '#/components/schemas/Base'}], nullable: true, description: ref'd}\n"
	"        n: {type: integer, minimum: 1, exclusiveMinimum: true, maximum: 9, exclusiveMaximum: false}\n"
	"        f: {type: string, format: binary}\n"
	"        o: {oneOf: [{type: string}, {type: integer}], nullable: true}\n"
	"    User:\n"
	"      type: object\n"
	"      required: [id, name, password]\n"
	"      properties:\n"
	"        id: {type: integer, readOnly: true}\n"
	"        name: {type: string}\n"
	"        password: {type: string, writeOnly: true}\n"
	"        created: {$ref: '#/components/schemas/Stamp'}\n"
	"    Stamp: {type: string, readOnly: true}\n"
	"    Noisy:\n"
	"      type: object\n"
	"      title: \"Ti\\ttle\\u200b\\n\"\n"
	"      description: \"Hi\\u202eevil\\u2066 \\U000E0041ok\"\n"
	"      x-internal: true\n"
	"      example: {a: 1}\n"
	"      examples: [{a: 2}]\n"
	"      xml: {name: n}\n"
	"      discriminator: {propertyName: kind}\n"
	"      externalDocs: {url: 'https://x'}\n"
	"      deprecated: true\n"
	"      additionalProperties: {type: integer}\n"
	"      properties:\n"
	"        p: {type: string, pattern: '(?<=a+)b', minLength: 2.0, maxLength: -1}\n"
	"        q: {type: string, pattern: '^[a-z]+$'}\n"
	"        bad: {type: strange}\n"
	"    Open:\n"
	"      type: object\n"
	"      additionalProperties: true\n"
	"      properties: {a: {type: string}}\n"
	"    Map: {type: object}\n";

static void test_recursion(void **state)
{
	struct oa_doc d;
	json_t *notes = json_array(), *s;
	(void)state;
	load(schemas_doc, &d);
	/* Direct: cut at the first repeat, with a comment and a note. */
	s = schema_at(&d, "components|schemas|Node", OA_REQUEST, notes);
	expect_json(s, "{\"additionalProperties\":false,\"properties\":{\"next\":{\"$comment\":"
		       "\"cut by moat import: a recursive reference #/components/schemas/Node\"},"
		       "\"value\":{\"type\":\"string\"}},\"type\":\"object\"}");
	assert_true(notes_have(notes, "a recursive reference was cut at /properties/next"));
	json_decref(s);
	/* Through a ref: the first occurrence is expanded once. */
	json_t *r = json_pack("{s:s}", "$ref", "#/components/schemas/Node");
	struct moat_err err = {0};
	s = oa_schema(&d, r, OA_RESPONSE, NULL, &err);
	assert_non_null(s);
	assert_non_null(json_object_get(at(s, "properties|next"), "$comment"));
	json_decref(s);
	json_decref(r);
	/* Mutual: A -> B -> A. */
	s = schema_at(&d, "components|schemas|A", OA_REQUEST, notes);
	assert_non_null(json_object_get(at(s, "properties|b|properties|a"), "$comment"));
	json_decref(s);
	/* Through allOf and items; an allOf of plain object schemas is merged
	 * into one, closed. */
	s = schema_at(&d, "components|schemas|Tree", OA_REQUEST, notes);
	expect_json(s, "{\"additionalProperties\":false,\"properties\":{\"children\":{\"items\":"
		       "{\"$comment\":\"cut by moat import: a recursive reference #/components/schemas/Tree\"},"
		       "\"type\":\"array\"},\"id\":{\"type\":\"integer\"}},\"type\":\"object\"}");
	json_decref(s);
	/* Members that say more stay an allOf, every member open, so the
	 * composition can be satisfied. */
	s = schema_at(&d, "components|schemas|Mixed", OA_REQUEST, notes);
	assert_null(json_object_get(at(s, "allOf|0"), "additionalProperties"));
	assert_null(json_object_get(at(s, "allOf|1"), "additionalProperties"));
	assert_null(json_object_get(s, "additionalProperties"));
	expect_json(at(s, "allOf|0"), "{\"properties\":{\"id\":{\"type\":\"integer\"}},\"type\":\"object\"}");
	json_decref(s);
	/* Two members defining one property differently: no merge. */
	s = schema_at(&d, "components|schemas|Clash", OA_REQUEST, notes);
	assert_int_equal(json_array_size(at(s, "allOf")), 2);
	json_decref(s);
	json_decref(notes);
	oa_free(&d);
}

static void test_external_in_schema(void **state)
{
	struct oa_doc d;
	struct moat_err err = {0};
	(void)state;
	load(schemas_doc, &d);
	assert_null(oa_schema(&d, at(d.root, "components|schemas|Ext"), OA_REQUEST, NULL, &err));
	assert_string_equal(err.rule, "import.external_ref");
	assert_non_null(strstr(err.msg, "'common.yaml#/Thing'"));
	assert_null(oa_schema(&d, at(d.root, "components|schemas|HasExt"), OA_REQUEST, NULL, &err));
	assert_string_equal(err.rule, "import.external_ref");
	assert_non_null(strstr(err.msg, "https://x.example/s.json"));
	oa_free(&d);
}

static void test_translation(void **state)
{
	struct oa_doc d;
	json_t *notes = json_array(), *s;
	(void)state;
	load(schemas_doc, &d);
	s = schema_at(&d, "components|schemas|Nullable", OA_REQUEST, notes);
	expect_json(at(s, "properties|s"), "{\"type\":[\"string\",\"null\"]}");
	expect_json(at(s, "properties|e"), "{\"enum\":[\"a\",\"b\",null],\"type\":[\"string\",\"null\"]}");
	/* allOf [ref], nullable: merged into one object, then null allowed. */
	expect_json(at(s, "properties|r"),
		    "{\"additionalProperties\":false,\"description\":\"ref'd\",\"properties\":{\"id\":"
		    "{\"type\":\"integer\"}},\"type\":[\"object\",\"null\"]}");
	expect_json(at(s, "properties|n"), "{\"exclusiveMinimum\":1,\"maximum\":9,\"type\":\"integer\"}");
	expect_json(at(s, "properties|f"), "{\"format\":\"binary\",\"type\":\"string\"}");
	/* No type to extend: anyOf the schema and null. */
	expect_json(at(s, "properties|o"), "{\"anyOf\":[{\"oneOf\":[{\"type\":\"string\"},"
					   "{\"type\":\"integer\"}]},{\"type\":\"null\"}]}");
	json_decref(s);

	/* Dropped keywords, sanitised text, kept additionalProperties, a
	 * pattern PCRE2 refuses (variable-length lookbehind) dropped. */
	s = schema_at(&d, "components|schemas|Noisy", OA_REQUEST, notes);
	expect_json(s, "{\"additionalProperties\":{\"type\":\"integer\"},\"deprecated\":true,"
		       "\"description\":\"Hievil ok\",\"properties\":{\"bad\":{},\"p\":{\"minLength\":2,"
		       "\"type\":\"string\"},\"q\":{\"pattern\":\"^[a-z]+$\",\"type\":\"string\"}},"
		       "\"title\":\"Ti tle\",\"type\":\"object\"}");
	assert_true(notes_have(notes, "pattern moat's validator (PCRE2) cannot compile was dropped at /properties/p"));
	json_decref(s);
	s = schema_at(&d, "components|schemas|Open", OA_REQUEST, NULL);
	assert_true(json_is_true(at(s, "additionalProperties")));
	json_decref(s);
	s = schema_at(&d, "components|schemas|Map", OA_REQUEST, NULL);
	expect_json(s, "{\"type\":\"object\"}"); /* a free-form map stays open */
	json_decref(s);
	json_decref(notes);
	oa_free(&d);

	/* 3.1: type arrays kept, examples dropped, $ref siblings overlay. */
	load("{\"openapi\": \"3.1.0\", \"paths\": {}, \"components\": {\"schemas\": {\n"
	     " \"T\": {\"type\": [\"string\", \"null\", \"string\", \"nope\"], \"examples\": [\"x\"],\n"
	     "       \"maxLength\": 5},\n"
	     " \"U\": {\"$ref\": \"#/components/schemas/T\", \"description\": \"over\"},\n"
	     " \"V\": {\"type\": \"array\", \"items\": [{\"type\": \"string\"}, {\"type\": \"integer\"}]}}}}",
	     &d);
	s = schema_at(&d, "components|schemas|T", OA_RESPONSE, NULL);
	expect_json(s, "{\"maxLength\":5,\"type\":[\"string\",\"null\"]}");
	json_decref(s);
	s = schema_at(&d, "components|schemas|U", OA_RESPONSE, NULL);
	expect_json(s, "{\"description\":\"over\",\"maxLength\":5,\"type\":[\"string\",\"null\"]}");
	json_decref(s);
	s = schema_at(&d, "components|schemas|V", OA_RESPONSE, NULL);
	expect_json(s, "{\"prefixItems\":[{\"type\":\"string\"},{\"type\":\"integer\"}],\"type\":\"array\"}");
	json_decref(s);
	oa_free(&d);
}

static void test_read_write_only(void **state)
{
	struct oa_doc d;
	json_t *s;
	(void)state;
	load(schemas_doc, &d);
	s = schema_at(&d, "components|schemas|User", OA_REQUEST, NULL);
	expect_json(s, "{\"additionalProperties\":false,\"properties\":{\"name\":{\"type\":\"string\"},"
		       "\"password\":{\"type\":\"string\",\"writeOnly\":true}},\"required\":[\"name\","
		       "\"password\"],\"type\":\"object\"}");
	json_decref(s);
	s = schema_at(&d, "components|schemas|User", OA_RESPONSE, NULL);
	expect_json(s, "{\"additionalProperties\":false,\"properties\":{\"created\":{\"readOnly\":true,"
		       "\"type\":\"string\"},\"id\":{\"readOnly\":true,\"type\":\"integer\"},\"name\":"
		       "{\"type\":\"string\"}},\"required\":[\"id\",\"name\"],\"type\":\"object\"}");
	json_decref(s);
	oa_free(&d);
}

/* Nesting deeper than the cap: cut there with a note. */
static void test_depth_cap(void **state)
{
	char buf[8192];
	size_t n = 0;
	struct oa_doc d;
	json_t *notes = json_array(), *s;
	const json_t *v;
	int levels = 0;
	(void)state;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"openapi\": \"3.0.0\", \"paths\": {}, \"x\": ");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"type\": \"array\", \"items\": ");
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"type\": \"string\"}");
	for (int i = 0; i < 40; i++)
		buf[n++] = '}';
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "}");
	load(buf, &d);
	s = schema_at(&d, "x", OA_REQUEST, notes);
	for (v = s; json_object_get(v, "items"); v = json_object_get(v, "items"))
		levels++;
	assert_int_equal(levels, 12);
	assert_non_null(strstr(json_string_value(json_object_get(v, "$comment")), "nested too deep"));
	assert_true(notes_have(notes, "nested deeper than the import's depth cap"));
	json_decref(s);
	json_decref(notes);
	oa_free(&d);
}

/* A DAG of refs that doubles at each level: the node cap ends it. */
static void test_node_cap_schema(void **state)
{
	char buf[16384];
	size_t n = 0;
	struct oa_doc d;
	json_t *notes = json_array(), *s;
	double t0;
	(void)state;
	n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			      "{\"openapi\": \"3.0.0\", \"paths\": {}, \"components\": {\"schemas\": {");
	for (int i = 0; i < 30; i++) {
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\"L%d\": {\"type\": \"object\", \"properties\": {", i);
		for (int j = 0; j < 8; j++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      "%s\"p%d\": {\"$ref\": \"#/components/schemas/L%d\"}", j ? "," : "", j, i + 1);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "}},");
	}
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\"L30\": {\"type\": \"string\"}}}}");
	load(buf, &d);
	t0 = now_ms();
	s = oa_schema(&d, at(d.root, "components|schemas|L0"), OA_REQUEST, notes, NULL);
	assert_non_null(s);
	assert_true(now_ms() - t0 < 1000.0 * SLOW);
	assert_true(notes_have(notes, "more schema nodes than the import's cap"));
	assert_true(oa_schema_compiles(s, NULL));
	char *text = dump(s);
	assert_true(strlen(text) < 500000); /* 5,000 nodes, not 8^30 */
	free(text);
	json_decref(s);
	json_decref(notes);
	oa_free(&d);
}

static void test_schema_odd_inputs(void **state)
{
	struct oa_doc d;
	struct moat_err err = {0};
	json_t *s;
	(void)state;
	load("{\"openapi\": \"3.0.0\", \"paths\": {}, \"components\": {\"schemas\": {\n"
	     " \"B\": true, \"N\": 5, \"R\": {\"required\": true, \"type\": \"string\"},\n"
	     " \"E\": {\"enum\": \"x\", \"minItems\": \"3\", \"multipleOf\": 0, \"uniqueItems\": 1},\n"
	     " \"Q\": {\"required\": [\"a\", 1, \"b\"], \"dependentRequired\": {\"a\": [\"b\", 2], \"c\": 3},\n"
	     "       \"items\": [], \"exclusiveMaximum\": true}}}}",
	     &d);
	s = oa_schema(&d, NULL, OA_REQUEST, NULL, &err);
	expect_json(s, "{}");
	json_decref(s);
	s = schema_at(&d, "components|schemas|B", OA_REQUEST, NULL);
	expect_json(s, "true");
	json_decref(s);
	s = schema_at(&d, "components|schemas|N", OA_REQUEST, NULL);
	expect_json(s, "{}");
	json_decref(s);
	s = schema_at(&d, "components|schemas|R", OA_REQUEST, NULL);
	expect_json(s, "{\"type\":\"string\"}");
	json_decref(s);
	s = schema_at(&d, "components|schemas|E", OA_REQUEST, NULL);
	expect_json(s, "{}");
	json_decref(s);
	/* What moat would refuse is mended, not handed on. */
	s = schema_at(&d, "components|schemas|Q", OA_REQUEST, NULL);
	expect_json(s, "{\"dependentRequired\":{\"a\":[\"b\"]},\"required\":[\"a\",\"b\"]}");
	json_decref(s);
	oa_free(&d);
	/* A default nested past the copy depth is left out, not an error. */
	char buf[4096];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "{\"openapi\": \"3.0.0\", \"paths\": {}, \"x\": "
					      "{\"type\": \"array\", \"default\": ");
	for (int i = 0; i < 100; i++)
		buf[n++] = '[';
	for (int i = 0; i < 100; i++)
		buf[n++] = ']';
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "}}");
	load(buf, &d);
	s = schema_at(&d, "x", OA_REQUEST, NULL);
	expect_json(s, "{\"type\":\"array\"}");
	json_decref(s);
	oa_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_big_integers),
		cmocka_unit_test(test_yaml_features),
		cmocka_unit_test(test_billion_laughs),
		cmocka_unit_test(test_huge_description),
		cmocka_unit_test(test_node_cap),
		cmocka_unit_test(test_swagger2),
		cmocka_unit_test(test_deref),
		cmocka_unit_test(test_ref_chain_10000),
		cmocka_unit_test(test_recursion),
		cmocka_unit_test(test_external_in_schema),
		cmocka_unit_test(test_translation),
		cmocka_unit_test(test_read_write_only),
		cmocka_unit_test(test_depth_cap),
		cmocka_unit_test(test_node_cap_schema),
		cmocka_unit_test(test_schema_odd_inputs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
