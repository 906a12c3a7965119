/*
 * test_yaml_json.c - unit tests for src/core/yaml_json.c: mappings,
 * sequences and scalars as JSON; plain scalars typed by YAML 1.2's core
 * schema (null, booleans, decimal/octal/hex integers, floats; "yes", "on"
 * and version-like strings stay strings) while quoted and block scalars
 * stay strings; explicit core tags; every document of a stream; and the
 * refusals: aliases, unknown tags, duplicate keys, complex keys, .inf,
 * depth, node and size caps, broken YAML (each with line and column);
 * and, opted into (expand_aliases), aliases as deep copies and "<<" merge
 * keys under the node and depth budget: a billion-laughs document fails
 * at the budget, fast.
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
#include <jansson.h>

#include "yaml_json.h"

/* The documents of text, as compact JSON, or "ERR: message". */
static char *conv(const char *text, const struct yaml_json_limits *lim)
{
	char err[YAML_JSON_ERR_MAX];
	json_t *v = yaml_to_json(text, strlen(text), lim, err);
	char *out;

	if (!v) {
		assert_true(err[0] != '\0');
		out = malloc(strlen(err) + 6);
		assert_non_null(out);
		sprintf(out, "ERR: %s", err);
		return out;
	}
	out = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
	json_decref(v);
	assert_non_null(out);
	return out;
}

static void expect(const char *text, const char *want)
{
	char *got = conv(text, NULL);
	if (strcmp(got, want) != 0)
		fail_msg("for\n%s\nwant %s\ngot  %s", text, want, got);
	free(got);
}

/* The conversion fails and its message contains part. */
static void refuse(const char *text, const struct yaml_json_limits *lim, const char *part)
{
	char *got = conv(text, lim);
	if (strncmp(got, "ERR: ", 5) != 0 || !strstr(got, part))
		fail_msg("for\n%s\nwant an error with '%s'\ngot  %s", text, part, got);
	free(got);
}

static void test_structure(void **state)
{
	(void)state;
	expect("a: 1\nb: [x, y]\nc:\n  d: {e: f}\n  g:\n    - 1\n    - h: i\n",
	       "[{\"a\":1,\"b\":[\"x\",\"y\"],\"c\":{\"d\":{\"e\":\"f\"},\"g\":[1,{\"h\":\"i\"}]}}]");
	expect("", "[]");
	expect("---\n", "[null]");
	expect("[]", "[[]]");
	expect("{}", "[{}]");
	/* A Kubernetes-style stream of documents. */
	expect("kind: A\n---\nkind: B\n...\n---\n# comment only\n", "[{\"kind\":\"A\"},{\"kind\":\"B\"},null]");
}

static void test_core_schema(void **state)
{
	(void)state;
	expect("[~, null, Null, NULL, true, True, FALSE, false]",
	       "[[null,null,null,null,true,true,false,false]]");
	expect("a:\nb: ", "[{\"a\":null,\"b\":null}]");
	expect("[0, -17, +3, 0o17, 0x1F, 65532, 9223372036854775807]",
	       "[[0,-17,3,15,31,65532,9223372036854775807]]");
	expect("[1.5, -0.25, .5, 1e3, 2.5E-1, 3.]", "[[1.5,-0.25,0.5,1000.0,0.25,3.0]]");
	/* YAML 1.1's booleans and sexagesimals are strings in 1.2. */
	expect("[yes, no, on, off, y, n, 1:30, 0b101, 010e, 1.2.3, 0x, v1]",
	       "[[\"yes\",\"no\",\"on\",\"off\",\"y\",\"n\",\"1:30\",\"0b101\",\"010e\",\"1.2.3\",\"0x\",\"v1\"]]");
	/* 010 is decimal 10 in the core schema (octal is 0o). */
	expect("a: 010", "[{\"a\":10}]");
	/* Out of int64: a real, as JSON reads it. */
	expect("a: 99999999999999999999", "[{\"a\":1e20}]");
}

static void test_strings(void **state)
{
	(void)state;
	expect("[\"1\", '2', \"true\", 'null', \"\", '']", "[[\"1\",\"2\",\"true\",\"null\",\"\",\"\"]]");
	expect("a: |\n  line one\n  line two\nb: >\n  folded\n  text\n",
	       "[{\"a\":\"line one\\nline two\\n\",\"b\":\"folded text\\n\"}]");
	expect("a: \"tab\\there \\u00e9 \\\"q\\\"\"", "[{\"a\":\"tab\\there \xc3\xa9 \\\"q\\\"\"}]");
	expect("'8080': port", "[{\"8080\":\"port\"}]");
	/* Keys are strings whatever they look like. */
	expect("1: one\ntrue: yes", "[{\"1\":\"one\",\"true\":\"yes\"}]");
	/* An anchor alone is harmless. */
	expect("a: &x 1\nb: 2", "[{\"a\":1,\"b\":2}]");
}

static void test_tags(void **state)
{
	(void)state;
	expect("[!!str 123, !!int \"42\", !!float 1, !!bool \"true\", !!null \"\", ! 12]",
	       "[[\"123\",42,1.0,true,null,\"12\"]]");
	refuse("a: !!int abc", NULL, "is not what its tag");
	refuse("a: !Ref other", NULL, "tag !Ref is not supported");
	refuse("a: !!binary aGVsbG8=", NULL, "not supported");
	refuse("a: !custom {b: 1}", NULL, "tags on collections");
}

static void test_refusals(void **state)
{
	(void)state;
	refuse("a: &x [1, 2]\nb: *x\n", NULL, "aliases (*x) are not supported");
	refuse("a: 1\na: 2\n", NULL, "line 2, column 1: the key 'a' appears twice");
	refuse("? [a, b]\n: c\n", NULL, "a mapping key must be a scalar");
	refuse("a: .inf", NULL, "has no JSON form");
	refuse("a: -.Inf", NULL, "has no JSON form");
	refuse("a: .nan", NULL, "has no JSON form");
	refuse("a: [1, 2\n", NULL, "line");
	refuse("a: b: c\n", NULL, "line 1");
	refuse("\"a\\0b\": 1", NULL, "NUL");
}

static void test_caps(void **state)
{
	struct yaml_json_limits depth = {.max_depth = 3};
	struct yaml_json_limits nodes = {.max_nodes = 5};
	struct yaml_json_limits bytes = {.max_bytes = 8};
	char deep[4096];
	size_t n = 0;

	(void)state;
	expect("[[[1]]]", "[[[[1]]]]");
	refuse("[[[[1]]]]", &depth, "nested deeper than 3");
	refuse("[1, 2, 3, 4, 5]", &nodes, "more than 5 nodes");
	refuse("a: 1\nb: 2\nc: 3\n", &nodes, "more than 5 nodes");
	refuse("a: 123456789", &bytes, "larger than 8 bytes");
	/* The default depth cap holds against a deeply nested flow sequence. */
	for (; n < 1000; n++)
		deep[n] = '[';
	deep[n] = '\0';
	refuse(deep, NULL, "nested deeper than 64");
}

static const struct yaml_json_limits expand = {.expand_aliases = true};

static void expect_lim(const char *text, const struct yaml_json_limits *lim, const char *want)
{
	char *got = conv(text, lim);
	if (strcmp(got, want) != 0)
		fail_msg("for\n%s\nwant %s\ngot  %s", text, want, got);
	free(got);
}

static void test_aliases(void **state)
{
	(void)state;
	/* Refused by default (the deploy checker), expanded when asked. */
	refuse("a: &x [1, 2]\nb: *x\n", NULL, "aliases (*x) are not supported");
	expect_lim("a: &x [1, {k: v}]\nb: *x\nc: &s str\nd: *s\n", &expand,
		   "[{\"a\":[1,{\"k\":\"v\"}],\"b\":[1,{\"k\":\"v\"}],\"c\":\"str\",\"d\":\"str\"}]");
	/* The latest anchor of a name wins; an alias before its anchor fails. */
	expect_lim("- &a 1\n- *a\n- &a 2\n- *a\n", &expand, "[[1,1,2,2]]");
	refuse("a: *nowhere\n", &expand, "the alias *nowhere names no anchor before it");
	refuse("a: &x [*x]\n", &expand, "names no anchor");
	/* Anchors do not cross documents. */
	refuse("a: &x 1\n---\nb: *x\n", &expand, "names no anchor");
}

static void test_merge_keys(void **state)
{
	(void)state;
	expect_lim("base: &b {x: 1, y: 2}\nm:\n  <<: *b\n  y: 3\n", &expand,
		   "[{\"base\":{\"x\":1,\"y\":2},\"m\":{\"x\":1,\"y\":3}}]");
	/* Own keys win wherever they are written; earlier merged maps win. */
	expect_lim("a: &a {p: 1, q: 1}\nb: &b {q: 2, r: 2}\nm:\n  y: 0\n  <<: [*a, *b]\n", &expand,
		   "[{\"a\":{\"p\":1,\"q\":1},\"b\":{\"q\":2,\"r\":2},\"m\":{\"p\":1,\"q\":1,\"r\":2,\"y\":0}}]");
	expect_lim("m:\n  <<: {k: v}\n", &expand, "[{\"m\":{\"k\":\"v\"}}]");
	refuse("m:\n  <<: [1]\n", &expand, "a merge key (<<) takes a mapping");
	refuse("a: &a {x: 1}\nm:\n  <<: *a\n  <<: *a\n", &expand, "the key '<<' appears twice");
	/* A quoted '<<', or any without expand_aliases, is an ordinary key. */
	expect_lim("m:\n  '<<': {k: v}\n", &expand, "[{\"m\":{\"<<\":{\"k\":\"v\"}}}]");
	expect("m:\n  <<: {k: v}\n", "[{\"m\":{\"<<\":{\"k\":\"v\"}}}]");
}

/* Nine levels of ten aliases each: 10^9 nodes if expanded. */
static void test_billion_laughs(void **state)
{
	const char *laughs = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
			     "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			     "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
			     "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
			     "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
			     "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
			     "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	struct yaml_json_limits lim = {.expand_aliases = true, .max_nodes = 1000000};
	struct timespec t0, t1;

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	refuse(laughs, &lim, "aliases expand to more than 1000000 nodes");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* Charged before copying: far under a second for a 4M-node budget. */
	assert_true((t1.tv_sec - t0.tv_sec) * 1000.0 + (t1.tv_nsec - t0.tv_nsec) / 1e6 < 2000.0);
	/* Under a budget it fits, the expansion is exact: 1 + 10 + 10 + 10*11. */
	lim.max_nodes = 200;
	expect_lim("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n",
		   &lim,
		   "[{\"a\":[\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"],"
		   "\"b\":[[\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"],"
		   "[\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"],"
		   "[\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"],"
		   "[\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"],"
		   "[\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"],"
		   "[\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"],"
		   "[\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"],"
		   "[\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"],"
		   "[\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"],"
		   "[\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\",\"x\"]]}]");
	lim.max_nodes = 120; /* 11 + 1 + 1 + 110 = 123 */
	refuse("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n",
	       &lim, "aliases expand to more than 120 nodes");
}

/* An alias counts its anchor's height at the depth where it appears. */
static void test_alias_depth(void **state)
{
	struct yaml_json_limits lim = {.expand_aliases = true, .max_depth = 4};

	(void)state;
	expect_lim("a: &a [[1]]\nb: [*a]\n", &lim, "[{\"a\":[[1]],\"b\":[[[1]]]}]");
	refuse("a: &a [[1]]\nb: [[[*a]]]\n", &lim, "the alias *a nests deeper than 4");
	/* Chained: each level one deeper than the anchor it copies. */
	refuse("a: &a [1]\nb: &b [*a]\nc: &c [*b]\nd: &d [*c]\n", &lim, "nests deeper than 4");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_structure), cmocka_unit_test(test_core_schema),
		cmocka_unit_test(test_strings),	  cmocka_unit_test(test_tags),
		cmocka_unit_test(test_refusals),  cmocka_unit_test(test_caps),
		cmocka_unit_test(test_aliases),	  cmocka_unit_test(test_merge_keys),
		cmocka_unit_test(test_billion_laughs), cmocka_unit_test(test_alias_depth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
