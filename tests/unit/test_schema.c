/*
 * test_schema.c - unit tests of the moat-specific behaviour of
 * src/core/schema.c: the pointer/keyword/message of validation errors,
 * compile errors, recursive $ref, the bounds (recursion depth, regex match
 * limit, nesting, pointer and name lengths), fail-closed handling of limits,
 * and the rule that messages never contain instance string values. The
 * keyword semantics themselves are covered by test_schema_suite.c.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "result.h"
#include "schema.h"

/* compile_text - parse and compile a schema given as JSON text; fails the
 * test when either step fails. Caller frees with schema_free(). */
static struct schema *compile_text(const char *text)
{
	json_error_t jerr;
	json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	struct moat_err err;
	struct schema *s;

	if (!doc)
		fail_msg("bad schema JSON in test: %s: %s", text, jerr.text);
	moat_err_clear(&err);
	s = schema_compile(doc, &err);
	json_decref(doc);
	if (!s)
		fail_msg("schema did not compile: %s", err.msg);
	return s;
}

/* compile_error - compile text expecting failure; returns the message in
 * msg (size n) and the code. */
static enum moat_rc compile_error(const char *text, char *msg, size_t n)
{
	json_error_t jerr;
	json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	struct moat_err err;
	struct schema *s;

	if (!doc)
		fail_msg("bad schema JSON in test: %s: %s", text, jerr.text);
	moat_err_clear(&err);
	s = schema_compile(doc, &err);
	json_decref(doc);
	if (s) {
		schema_free(s);
		fail_msg("schema compiled but should not have: %s", text);
	}
	snprintf(msg, n, "%s", err.msg);
	return err.rc;
}

/* check - validate instance text against s; expect valid, or expect the
 * given pointer, keyword and message (message NULL = don't care). */
static void check(const struct schema *s, const char *instance, const char *pointer,
		  const char *keyword, const char *message)
{
	json_error_t jerr;
	json_t *inst = json_loads(instance, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	struct schema_error e;
	bool ok;

	if (!inst)
		fail_msg("bad instance JSON in test: %s: %s", instance, jerr.text);
	ok = schema_validate(s, inst, &e);
	json_decref(inst);
	if (!pointer) {
		if (!ok)
			fail_msg("expected valid: %s, got %s: %s: %s", instance, e.pointer,
				 e.keyword, e.message);
		return;
	}
	if (ok)
		fail_msg("expected invalid: %s", instance);
	assert_string_equal(e.pointer, pointer);
	assert_string_equal(e.keyword, keyword);
	if (message)
		assert_string_equal(e.message, message);
}

/* check_text - schema and instance as text, expect the formatted error. */
static void check_format(const char *schema, const char *instance, const char *formatted)
{
	struct schema *s = compile_text(schema);
	json_t *inst = json_loads(instance, JSON_DECODE_ANY, NULL);
	struct schema_error e;
	char buf[600];

	assert_non_null(inst);
	assert_false(schema_validate(s, inst, &e));
	assert_string_equal(schema_error_format(&e, buf, sizeof(buf)), formatted);
	json_decref(inst);
	schema_free(s);
}

static void test_type_messages(void **state)
{
	struct schema *s;

	(void)state;
	check_format("{\"type\":\"string\"}", "5", "(root): type: must be of type string");
	check_format("{\"type\":[\"string\",\"null\"]}", "5",
		     "(root): type: must be of type string or null");
	check_format("{\"properties\":{\"path\":{\"type\":\"string\"}}}", "{\"path\":true}",
		     "/path: type: must be of type string");
	s = compile_text("{\"type\":\"integer\"}");
	check(s, "1.0", NULL, NULL, NULL);
	check(s, "-0.0", NULL, NULL, NULL);
	check(s, "1.5", "", "type", "must be of type integer");
	check(s, "\"1\"", "", "type", "must be of type integer");
	schema_free(s);
	s = compile_text("{\"type\":[\"integer\",\"boolean\",\"array\"]}");
	check(s, "{}", "", "type", "must be of type integer, boolean or array");
	schema_free(s);
}

static void test_nested_pointers(void **state)
{
	struct schema *s;

	(void)state;
	s = compile_text(
		"{\"type\":\"object\",\"required\":[\"path\",\"edits\"],\"properties\":{"
		"\"path\":{\"type\":\"string\",\"minLength\":1},"
		"\"edits\":{\"type\":\"array\",\"minItems\":1,\"items\":{"
		"\"type\":\"object\",\"required\":[\"oldText\",\"newText\"],"
		"\"additionalProperties\":false,\"properties\":{"
		"\"oldText\":{\"type\":\"string\"},\"newText\":{\"type\":\"string\"}}}}}}");
	check(s, "{\"path\":\"a\",\"edits\":[{\"oldText\":\"x\",\"newText\":\"y\"}]}", NULL, NULL,
	      NULL);
	check(s,
	      "{\"path\":\"a\",\"edits\":[{\"oldText\":\"x\",\"newText\":\"y\"},{\"oldText\":5,"
	      "\"newText\":\"y\"}]}",
	      "/edits/1/oldText", "type", "must be of type string");
	check(s, "{\"path\":\"a\",\"edits\":[{\"oldText\":\"x\"}]}", "/edits/0", "required",
	      "required property 'newText' is missing");
	check(s, "{\"edits\":[{\"oldText\":\"x\",\"newText\":\"y\"}]}", "", "required",
	      "required property 'path' is missing");
	check(s, "{\"path\":\"a\",\"edits\":[{\"oldText\":\"x\",\"newText\":\"y\",\"foo\":1}]}",
	      "/edits/0", "additionalProperties", "additional property 'foo' is not allowed");
	check(s, "{\"path\":\"a\",\"edits\":[]}", "/edits", "minItems",
	      "must have at least 1 item");
	check(s, "{\"path\":\"\",\"edits\":[]}", "/path", "minLength",
	      "must be at least 1 character");
	check(s, "[]", "", "type", "must be of type object");
	schema_free(s);
}

static void test_pointer_escaping(void **state)
{
	struct schema *s;

	(void)state;
	s = compile_text(
		"{\"properties\":{\"a/b\":{\"properties\":{\"c~d\":{\"type\":\"integer\"}}}}}");
	check(s, "{\"a/b\":{\"c~d\":\"x\"}}", "/a~1b/c~0d", "type", "must be of type integer");
	schema_free(s);
	s = compile_text("{\"additionalProperties\":{\"type\":\"integer\"}}");
	check(s, "{\"~/~\":null}", "/~0~1~0", "type", NULL);
	schema_free(s);
}

static void test_keyword_messages(void **state)
{
	struct schema *s;

	(void)state;
	s = compile_text("{\"maxLength\":10}");
	check(s, "\"0123456789\"", NULL, NULL, NULL);
	check(s, "\"0123456789a\"", "", "maxLength", "must be at most 10 characters");
	schema_free(s);
	s = compile_text("{\"minimum\":1,\"maximum\":10.5,\"multipleOf\":0.5}");
	check(s, "0", "", "minimum", "must be >= 1");
	check(s, "11", "", "maximum", "must be <= 10.5");
	check(s, "2.25", "", "multipleOf", "must be a multiple of 0.5");
	check(s, "10.5", NULL, NULL, NULL);
	schema_free(s);
	s = compile_text("{\"exclusiveMinimum\":0,\"exclusiveMaximum\":1}");
	check(s, "0", "", "exclusiveMinimum", "must be > 0");
	check(s, "1.0", "", "exclusiveMaximum", "must be < 1");
	schema_free(s);
	s = compile_text("{\"enum\":[\"read\",\"write\"]}");
	check(s, "\"exec\"", "", "enum", "must be one of: 'read', 'write'");
	schema_free(s);
	s = compile_text("{\"enum\":[1,\"a\",null]}");
	check(s, "2", "", "enum", "must be one of the 3 allowed values");
	check(s, "1.0", NULL, NULL, NULL);
	schema_free(s);
	s = compile_text("{\"const\":{\"a\":[1,2]}}");
	check(s, "{\"a\":[1.0,2]}", NULL, NULL, NULL);
	check(s, "{\"a\":[1,3]}", "", "const", "must be equal to the constant value");
	schema_free(s);
	s = compile_text("{\"oneOf\":[{\"type\":\"integer\"},{\"minimum\":0}]}");
	check(s, "-1", NULL, NULL, NULL);
	check(s, "1", "", "oneOf", "must match exactly one schema in oneOf (matched 2)");
	check(s, "-1.5", "", "oneOf", "must match exactly one schema in oneOf (matched 0)");
	schema_free(s);
	s = compile_text("{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"null\"}]}");
	check(s, "\"x\"", "", "anyOf", "must match at least one schema in anyOf");
	schema_free(s);
	/* one branch is plainly the intended one: its deeper error is reported */
	s = compile_text(
		"{\"properties\":{\"edits\":{\"anyOf\":[{\"type\":\"string\"},{\"type\":\"array\","
		"\"items\":{\"required\":[\"oldText\"]}}]}}}");
	check(s, "{\"edits\":[{}]}", "/edits/0", "required",
	      "required property 'oldText' is missing");
	check(s, "{\"edits\":5}", "/edits", "anyOf", "must match at least one schema in anyOf");
	schema_free(s);
	s = compile_text(
		"{\"oneOf\":[{\"type\":\"string\",\"maxLength\":2},{\"type\":\"integer\"}]}");
	check(s, "\"abc\"", "", "maxLength", "must be at most 2 characters");
	schema_free(s);
	s = compile_text("{\"not\":{\"type\":\"null\"}}");
	check(s, "null", "", "not", "must not match the schema in not");
	schema_free(s);
	s = compile_text("{\"if\":{\"properties\":{\"kind\":{\"const\":\"file\"}}},"
			 "\"then\":{\"required\":[\"path\"]},\"else\":{\"required\":[\"url\"]}}");
	check(s, "{\"kind\":\"file\"}", "", "required", "required property 'path' is missing");
	check(s, "{\"kind\":\"web\"}", "", "required", "required property 'url' is missing");
	schema_free(s);
	s = compile_text("{\"dependentRequired\":{\"user\":[\"password\"]},\"maxProperties\":2}");
	check(s, "{\"user\":\"a\"}", "", "dependentRequired",
	      "property 'password' is required when 'user' is present");
	check(s, "{\"a\":1,\"b\":2,\"c\":3}", "", "maxProperties",
	      "must have at most 2 properties");
	schema_free(s);
	s = compile_text(
		"{\"prefixItems\":[{\"type\":\"string\"}],\"items\":false,\"uniqueItems\":true}");
	check(s, "[\"a\",\"b\"]", "", "items", "must have at most 1 item");
	check(s, "[1]", "/0", "type", "must be of type string");
	schema_free(s);
	s = compile_text("{\"uniqueItems\":true}");
	check(s, "[1,{\"a\":1,\"b\":[2]},3,{\"b\":[2.0],\"a\":1}]", "", "uniqueItems",
	      "must not contain duplicate items (items 1 and 3 are equal)");
	check(s, "[1,\"1\",true,[1],{\"1\":1}]", NULL, NULL, NULL);
	schema_free(s);
	s = compile_text("{\"contains\":{\"type\":\"integer\"},\"maxContains\":2}");
	check(s, "[\"a\"]", "", "contains", "must contain at least 1 item matching contains");
	check(s, "[1,2,3]", "", "maxContains", "must contain at most 2 items matching contains");
	check(s, "[1,\"a\",2]", NULL, NULL, NULL);
	schema_free(s);
	s = compile_text("{\"propertyNames\":{\"maxLength\":3}}");
	check(s, "{\"abcd\":1}", "", "propertyNames",
	      "property name 'abcd' is invalid (maxLength: must be at most 3 characters)");
	schema_free(s);
	s = compile_text("{\"properties\":{\"secret\":false}}");
	check(s, "{\"secret\":1}", "/secret", "properties",
	      "no value is allowed here (schema is false)");
	schema_free(s);
	check_format("false", "1", "(root): false: no value is allowed here (schema is false)");
}

/* The message and pointer never contain an instance string value. */
static void test_no_instance_values_in_messages(void **state)
{
	static const char *const schemas[] = {
		"{\"type\":\"integer\"}",
		"{\"maxLength\":3}",
		"{\"minLength\":100}",
		"{\"pattern\":\"^[a-z]+$\"}",
		"{\"enum\":[\"a\",\"b\"]}",
		"{\"const\":\"x\"}",
		"{\"not\":{\"type\":\"string\"}}",
		"{\"anyOf\":[{\"type\":\"null\"},{\"maxLength\":2}]}",
		"{\"oneOf\":[{\"type\":\"string\"},{\"minLength\":1}]}",
		"{\"format\":\"email\",\"maxLength\":1}",
		"{\"items\":{\"maxLength\":1}}",
		"{\"properties\":{\"k\":{\"pattern\":\"^x\"}}}",
		"{\"propertyNames\":{\"maxLength\":1}}",
		"{\"uniqueItems\":true}",
	};
	static const char *const instances[] = {
		"\"SECRET-hunter2-VALUE\"",
		"[\"SECRET-hunter2-VALUE\", \"SECRET-hunter2-VALUE\"]",
		"{\"k\":\"SECRET-hunter2-VALUE\"}",
	};
	size_t i, k;

	(void)state;
	for (i = 0; i < sizeof(schemas) / sizeof(schemas[0]); i++) {
		struct schema *s = compile_text(schemas[i]);

		for (k = 0; k < sizeof(instances) / sizeof(instances[0]); k++) {
			json_t *inst = json_loads(instances[k], JSON_DECODE_ANY, NULL);
			struct schema_error e;
			char buf[1024];

			assert_non_null(inst);
			if (!schema_validate(s, inst, &e)) {
				schema_error_format(&e, buf, sizeof(buf));
				if (strstr(buf, "hunter2"))
					fail_msg("instance value leaked: schema %s: %s", schemas[i],
						 buf);
			}
			json_decref(inst);
		}
		schema_free(s);
	}
}

static void test_code_points(void **state)
{
	struct schema *s;

	(void)state;
	s = compile_text("{\"minLength\":3,\"maxLength\":3}");
	check(s, "\"\xc3\xa9\xc3\xa9\xc3\xa9\"", NULL, NULL, NULL); /* 3 x U+00E9, 6 bytes */
	check(s, "\"\xf0\x9f\x92\xa9\xf0\x9f\x92\xa9\xe2\x82\xac\"", NULL, NULL,
	      NULL); /* 2 emoji + euro */
	check(s, "\"\xc3\xa9\xc3\xa9\"", "", "minLength", "must be at least 3 characters");
	check(s, "\"abcd\"", "", "maxLength", "must be at most 3 characters");
	check(s, "\"a\\u0000b\"", NULL, NULL, NULL);
	schema_free(s);
}

static void test_patterns(void **state)
{
	struct schema *s;

	(void)state;
	s = compile_text("{\"pattern\":\"^[a-z]+$\"}");
	check(s, "\"abc\"", NULL, NULL, NULL);
	/* ECMA-262: '$' does not match before a trailing newline. */
	check(s, "\"abc\\n\"", "", "pattern", "must match pattern '^[a-z]+$'");
	check(s, "\"ab1\"", "", "pattern", "must match pattern '^[a-z]+$'");
	schema_free(s);
	s = compile_text("{\"pattern\":\"^\\\\p{Lowercase_Letter}\\\\u00e9$\"}");
	check(s, "\"a\xc3\xa9\"", NULL, NULL, NULL);
	check(s, "\"A\xc3\xa9\"", "", "pattern", NULL);
	schema_free(s);
	s = compile_text("{\"patternProperties\":{\"^x-\":{\"type\":\"string\"}},"
			 "\"additionalProperties\":false}");
	check(s, "{\"x-a\":\"b\"}", NULL, NULL, NULL);
	check(s, "{\"x-a\":1}", "/x-a", "type", NULL);
	check(s, "{\"y\":1}", "", "additionalProperties", "additional property 'y' is not allowed");
	schema_free(s);
}

/* An unknown key: the validator names the nearest declared key (a swap of
 * two letters is one edit) and the keys declared there. */
static void test_unknown_key_hint(void **state)
{
	struct schema *s;
	struct schema_error e;
	char buf[512];
	json_t *v;

	(void)state;
	s = compile_text("{\"type\":\"object\",\"properties\":{\"path\":{},\"head\":{},"
			 "\"tail\":{}},\"additionalProperties\":false}");
	v = json_loads("{\"pth\":\"a\"}", 0, NULL);
	assert_false(schema_validate(s, v, &e));
	assert_string_equal(e.message, "additional property 'pth' is not allowed");
	assert_string_equal(e.unknown, "pth");
	assert_string_equal(e.suggest, "path");
	assert_string_equal(e.allowed, "head, path, tail");
	schema_error_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "(root): additionalProperties: additional property 'pth' is not "
				 "allowed; did you mean 'path'? (allowed: head, path, tail)");
	json_decref(v);
	v = json_loads("{\"tial\":1}", 0, NULL);
	assert_false(schema_validate(s, v, &e));
	assert_string_equal(e.suggest, "tail");
	json_decref(v);
	v = json_loads("{\"zzzzzz\":1}", 0, NULL); /* nothing near: no suggestion */
	assert_false(schema_validate(s, v, &e));
	assert_string_equal(e.suggest, "");
	assert_string_equal(e.allowed, "head, path, tail");
	json_decref(v);
	v = json_loads("{\"path\":1}", 0, NULL); /* other failures carry no hint */
	assert_true(schema_validate(s, v, &e));
	json_decref(v);
	schema_free(s);
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A catastrophic pattern must stop at the match limit, quickly, and a limit
 * inside "not" or "anyOf" must not turn into a pass. */
static void test_regex_match_limit(void **state)
{
	const char *subject = "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\"";
	struct schema *s;
	json_t *inst = json_loads(subject, JSON_DECODE_ANY, NULL);
	struct schema_error e;
	double t0;

	(void)state;
	assert_non_null(inst);
	s = compile_text("{\"pattern\":\"^(a+)+$\"}");
	t0 = now_seconds();
	(void)schema_validate(s, inst, &e);
	assert_true(now_seconds() - t0 < 5.0);
	schema_free(s);

	s = compile_text("{\"not\":{\"pattern\":\"^(a+)+$\"}}");
	t0 = now_seconds();
	if (!schema_validate(s, inst, &e)) {
		assert_string_equal(e.keyword, "pattern");
		assert_string_equal(e.message,
				    "pattern could not be evaluated within the match limit");
	}
	assert_true(now_seconds() - t0 < 5.0);
	schema_free(s);

	/* Whatever the limit does, "not" must never be the only thing that
	 * lets this through: anyOf with a failing alternative stays invalid. */
	s = compile_text("{\"anyOf\":[{\"not\":{\"pattern\":\"^(a+)+$\"}},{\"type\":\"null\"}],"
			 "\"pattern\":\"^(a+)+$\"}");
	assert_false(schema_validate(s, inst, &e));
	schema_free(s);
	json_decref(inst);
}

static void test_recursive_ref(void **state)
{
	struct schema *s;

	(void)state;
	s = compile_text("{\"type\":\"object\",\"required\":[\"name\"],\"properties\":{"
			 "\"name\":{\"type\":\"string\"},"
			 "\"children\":{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}}}");
	check(s, "{\"name\":\"a\",\"children\":[{\"name\":\"b\",\"children\":[{\"name\":\"c\"}]}]}",
	      NULL, NULL, NULL);
	check(s,
	      "{\"name\":\"a\",\"children\":[{\"name\":\"b\",\"children\":[{\"name\":\"c\"},{"
	      "\"name\":7}]}]}",
	      "/children/0/children/1/name", "type", "must be of type string");
	check(s, "{\"name\":\"a\",\"children\":[{}]}", "/children/0", "required",
	      "required property 'name' is missing");
	schema_free(s);

	/* mutual recursion through $defs, escaped and percent-encoded names */
	s = compile_text("{\"$defs\":{\"e~x/p\":{\"anyOf\":[{\"type\":\"integer\"},{\"$ref\":\"#/"
			 "$defs/li%20st\"}]},"
			 "\"li st\":{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/e~0x~1p\"}}},"
			 "\"$ref\":\"#/$defs/e~0x~1p\"}");
	check(s, "[1,[2,[3,[]]]]", NULL, NULL, NULL);
	check(s, "[1,[2,[\"x\"]]]", "", "anyOf", NULL);
	schema_free(s);

	/* ref into an array element and to a boolean */
	s = compile_text("{\"prefixItems\":[{\"type\":\"integer\"},{\"$ref\":\"#/prefixItems/0\"},"
			 "{\"$ref\":\"#/$defs/no\"}],\"$defs\":{\"no\":false}}");
	check(s, "[1,2]", NULL, NULL, NULL);
	check(s, "[1,\"2\"]", "/1", "type", NULL);
	check(s, "[1,2,3]", "/2", "$ref", NULL);
	schema_free(s);
}

/* Self-referencing schemas and deep instances hit the depth guard and fail
 * with a "limit" error instead of overflowing the stack. */
static void test_depth_guard(void **state)
{
	struct schema *s;
	struct schema_error e;
	json_t *inst, *cur;
	int i;

	(void)state;
	s = compile_text("{\"$ref\":\"#\"}");
	inst = json_integer(1);
	assert_false(schema_validate(s, inst, &e));
	assert_string_equal(e.keyword, "limit");
	json_decref(inst);
	schema_free(s);

	s = compile_text("{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"not\":{\"$ref\":\"#/"
			 "$defs/a\"}}},"
			 "\"$ref\":\"#/$defs/a\"}");
	inst = json_null();
	assert_false(schema_validate(s, inst, &e));
	assert_string_equal(e.keyword, "limit");
	schema_free(s);

	/* 300 nested arrays against a recursive schema */
	s = compile_text("{\"anyOf\":[{\"type\":\"integer\"},{\"type\":\"array\",\"items\":{\"$"
			 "ref\":\"#\"}}]}");
	inst = json_integer(1);
	for (i = 0; i < 300; i++) {
		cur = json_array();
		assert_non_null(cur);
		assert_int_equal(json_array_append_new(cur, inst), 0);
		inst = cur;
	}
	assert_false(schema_validate(s, inst, &e));
	assert_string_equal(e.keyword, "limit");
	assert_false(schema_validate(s, inst, NULL));
	json_decref(inst);

	/* shallow instances still pass */
	inst = json_loads("[[[1]],2]", 0, NULL);
	assert_true(schema_validate(s, inst, &e));
	json_decref(inst);
	schema_free(s);

	/* const on a deeply nested value is bounded too */
	{
		json_t *a = json_null(), *b = json_null();
		json_t *doc;
		struct moat_err err;

		for (i = 0; i < 600; i++) {
			json_t *na = json_array(), *nb = json_array();

			json_array_append_new(na, a);
			json_array_append_new(nb, b);
			a = na;
			b = nb;
		}
		doc = json_object();
		json_object_set_new(doc, "const", a);
		s = schema_compile(doc, &err);
		assert_non_null(s);
		assert_false(schema_validate(s, b, &e));
		assert_string_equal(e.keyword, "const");
		json_decref(doc);
		json_decref(b);
		schema_free(s);
	}
}

static void test_compile_errors(void **state)
{
	char msg[MOAT_ERR_MSG_MAX];

	(void)state;
	assert_int_equal(
		compile_error("{\"properties\":{\"a\":{\"minLength\":-1}}}", msg, sizeof(msg)),
		MOAT_EINVAL);
	assert_string_equal(msg, "schema /properties/a/minLength: must be a non-negative integer");
	compile_error("{\"maxItems\":1.5}", msg, sizeof(msg));
	assert_string_equal(msg, "schema /maxItems: must be a non-negative integer");
	compile_error("{\"type\":\"str\"}", msg, sizeof(msg));
	assert_string_equal(msg, "schema /type: unknown type 'str'");
	compile_error("{\"type\":[]}", msg, sizeof(msg));
	assert_string_equal(msg,
			    "schema /type: must be a type name or a non-empty array of type names");
	compile_error("{\"multipleOf\":0}", msg, sizeof(msg));
	assert_string_equal(msg, "schema /multipleOf: must be a number greater than 0");
	compile_error("{\"minimum\":\"1\"}", msg, sizeof(msg));
	assert_string_equal(msg, "schema /minimum: must be a number");
	compile_error("{\"required\":[\"a\",1]}", msg, sizeof(msg));
	assert_string_equal(msg, "schema /required/1: must be a string");
	compile_error("{\"items\":[{}]}", msg, sizeof(msg));
	assert_string_equal(
		msg,
		"schema /items: must be a schema (use prefixItems for tuples in draft 2020-12)");
	compile_error("{\"allOf\":[]}", msg, sizeof(msg));
	assert_string_equal(msg, "schema /allOf: must be a non-empty array of schemas");
	compile_error("{\"anyOf\":[{},3]}", msg, sizeof(msg));
	assert_string_equal(msg, "schema /anyOf/1: must be a schema (an object or a boolean)");
	compile_error("[]", msg, sizeof(msg));
	assert_string_equal(msg, "schema (root): must be a schema (an object or a boolean)");
	compile_error("{\"properties\":{\"a/b\":{\"pattern\":\"(\"}}}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "schema /properties/a~1b/pattern: invalid regular expression"));
	compile_error("{\"patternProperties\":{\"[\":{}}}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "schema /patternProperties/[: invalid regular expression"));
	compile_error("{\"$ref\":\"#/$defs/missing\"}", msg, sizeof(msg));
	assert_string_equal(
		msg,
		"schema /$ref: reference '#/$defs/missing' does not resolve within the document");
	compile_error("{\"$ref\":\"https://example.com/s.json\"}", msg, sizeof(msg));
	assert_non_null(strstr(
		msg, "schema /$ref: reference 'https://example.com/s.json' is not supported"));
	compile_error("{\"$ref\":\"#anchor\"}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "$anchor references are not implemented"));
	compile_error("{\"$ref\":\"#/a%zz\"}", msg, sizeof(msg));
	assert_non_null(strstr(msg, "invalid percent-encoding"));
	compile_error("{\"$ref\":\"#/required\",\"required\":[\"a\"]}", msg, sizeof(msg));
	assert_string_equal(msg, "schema /$ref: reference '#/required' does not point to a schema");
	compile_error("{\"$defs\":{\"a\":{\"$ref\":\"#/$defs/b\"},\"b\":{\"type\":5}}}", msg,
		      sizeof(msg));
	assert_string_equal(
		msg,
		"schema /$defs/b/type: must be a type name or a non-empty array of type names");
	compile_error("{\"$ref\":\"#/x/y\",\"x\":{\"y\":{\"maxLength\":-2}}}", msg, sizeof(msg));
	assert_string_equal(msg, "schema /x/y/maxLength: must be a non-negative integer");
	compile_error("{\"unevaluatedProperties\":false}", msg, sizeof(msg));
	assert_string_equal(
		msg, "schema /unevaluatedProperties: keyword is not supported by this validator");
	compile_error("{\"items\":{\"$dynamicRef\":\"#x\"}}", msg, sizeof(msg));
	assert_string_equal(
		msg, "schema /items/$dynamicRef: keyword is not supported by this validator");
	compile_error("{\"properties\":{\"a\":{\"$id\":\"a.json\"}}}", msg, sizeof(msg));
	assert_string_equal(msg,
			    "schema /properties/a/$id: $id is only supported at the document root");
	compile_error("{\"uniqueItems\":1}", msg, sizeof(msg));
	assert_string_equal(msg, "schema /uniqueItems: must be a boolean");
	{
		struct moat_err err;

		moat_err_clear(&err);
		assert_null(schema_compile(NULL, &err));
		assert_int_equal(err.rc, MOAT_EINVAL);
		assert_null(schema_compile(NULL, NULL));
	}
}

static void test_annotations_and_unknown(void **state)
{
	struct schema *s;

	(void)state;
	s = compile_text(
		"{\"$schema\":\"https://json-schema.org/draft/2020-12/schema\",\"$id\":\"urn:x\","
		"\"title\":\"t\",\"description\":\"d\",\"default\":5,\"examples\":[1],\"$comment\":"
		"\"c\","
		"\"format\":\"email\",\"x-vendor\":{\"type\":5},\"deprecated\":true,\"$anchor\":"
		"\"a\"}");
	check(s, "\"not an email\"", NULL, NULL, NULL);
	check(s, "{}", NULL, NULL, NULL);
	schema_free(s);
	s = compile_text("true");
	check(s, "{\"anything\":[1,2,3]}", NULL, NULL, NULL);
	schema_free(s);
}

/* Long keys: pointer truncated with "...", quoted names bounded. */
static void test_bounded_output(void **state)
{
	struct schema *s;
	json_t *inst, *cur;
	struct schema_error e;
	char key[400];
	char buf[64];
	int i;

	(void)state;
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	s = compile_text(
		"{\"additionalProperties\":{\"additionalProperties\":{\"type\":\"string\"}}}");
	inst = json_object();
	cur = json_object();
	json_object_set_new(cur, key, json_integer(1));
	json_object_set_new(inst, key, cur);
	assert_false(schema_validate(s, inst, &e));
	assert_true(strlen(e.pointer) < sizeof(e.pointer));
	assert_string_equal(e.pointer + strlen(e.pointer) - 3, "...");
	assert_int_equal(strncmp(e.pointer, "/kkkk", 5), 0);
	json_decref(inst);
	schema_free(s);

	s = compile_text("{\"additionalProperties\":false}");
	inst = json_object();
	json_object_set_new(inst, key, json_integer(1));
	assert_false(schema_validate(s, inst, &e));
	assert_true(strlen(e.message) < 120);
	assert_non_null(strstr(e.message, "...' is not allowed"));
	json_decref(inst);
	/* control characters in a quoted name are replaced */
	inst = json_loads("{\"a\\nb\\u001bc\":1}", 0, NULL);
	assert_false(schema_validate(s, inst, &e));
	assert_string_equal(e.message, "additional property 'a?b?c' is not allowed");
	json_decref(inst);
	schema_free(s);

	/* format truncation is safe and NUL-terminated */
	memset(&e, 0, sizeof(e));
	snprintf(e.pointer, sizeof(e.pointer), "/a");
	snprintf(e.keyword, sizeof(e.keyword), "type");
	for (i = 0; i < 100; i++)
		e.message[i] = 'm';
	e.message[100] = '\0';
	schema_error_format(&e, buf, sizeof(buf));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_int_equal(strncmp(buf, "/a: type: mmm", 13), 0);
	assert_ptr_equal(schema_error_format(&e, buf, 0), buf);
	e.pointer[0] = '\0';
	schema_error_format(&e, buf, sizeof(buf));
	assert_int_equal(strncmp(buf, "(root): type: ", 14), 0);
}

static void test_null_arguments(void **state)
{
	struct schema *s;
	struct schema_error e;
	json_t *inst = json_integer(1);

	(void)state;
	schema_free(NULL);
	assert_false(schema_validate(NULL, inst, &e));
	s = compile_text("{}");
	assert_false(schema_validate(s, NULL, &e));
	assert_true(schema_validate(s, inst, NULL));
	schema_free(s);
	json_decref(inst);
}

/* uniqueItems on a large array of distinct values is not quadratic. */
static void test_unique_items_large(void **state)
{
	struct schema *s;
	json_t *arr = json_array();
	struct schema_error e;
	double t0;
	int i;

	(void)state;
	for (i = 0; i < 200000; i++)
		json_array_append_new(arr, i % 2 ? json_integer(i) : json_real(i + 0.5));
	s = compile_text("{\"uniqueItems\":true}");
	t0 = now_seconds();
	assert_true(schema_validate(s, arr, &e));
	json_array_append_new(arr, json_real(7.0));
	assert_false(schema_validate(s, arr, &e));
	assert_string_equal(e.message,
			    "must not contain duplicate items (items 7 and 200000 are equal)");
	assert_true(now_seconds() - t0 < 10.0);
	schema_free(s);
	json_decref(arr);
}

struct thread_arg {
	const struct schema *s;
	const json_t *good, *bad;
	int failures;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;
	struct schema_error e;
	int i;

	for (i = 0; i < 2000; i++) {
		if (!schema_validate(a->s, a->good, &e))
			a->failures++;
		if (schema_validate(a->s, a->bad, &e) || strcmp(e.pointer, "/items/1/name") != 0)
			a->failures++;
	}
	return NULL;
}

/* One compiled schema used from several threads at once. */
static void test_threads(void **state)
{
	struct schema *s;
	struct thread_arg args[4];
	pthread_t th[4];
	json_t *good, *bad;
	int i;

	(void)state;
	s = compile_text("{\"properties\":{\"items\":{\"items\":{\"properties\":{\"name\":{"
			 "\"pattern\":\"^[a-z]+$\"}},"
			 "\"patternProperties\":{\"^n\":{\"minLength\":1}}}}}}");
	good = json_loads("{\"items\":[{\"name\":\"abc\"},{\"name\":\"def\"}]}", 0, NULL);
	bad = json_loads("{\"items\":[{\"name\":\"abc\"},{\"name\":\"DEF\"}]}", 0, NULL);
	assert_non_null(good);
	assert_non_null(bad);
	for (i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){.s = s, .good = good, .bad = bad};
		assert_int_equal(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
	}
	json_decref(good);
	json_decref(bad);
	schema_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_type_messages),
		cmocka_unit_test(test_nested_pointers),
		cmocka_unit_test(test_pointer_escaping),
		cmocka_unit_test(test_keyword_messages),
		cmocka_unit_test(test_no_instance_values_in_messages),
		cmocka_unit_test(test_code_points),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_regex_match_limit),
		cmocka_unit_test(test_recursive_ref),
		cmocka_unit_test(test_depth_guard),
		cmocka_unit_test(test_compile_errors),
		cmocka_unit_test(test_annotations_and_unknown),
		cmocka_unit_test(test_bounded_output),
		cmocka_unit_test(test_null_arguments),
		cmocka_unit_test(test_unique_items_large),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_unknown_key_hint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
