/*
 * test_api_template.c - unit tests for src/providers/http/api_template.c:
 * exact paths, query strings and bodies filled from arguments, hostile
 * values refused without being echoed, template and pointer checks, and
 * response selection (wildcards, indices, merging, escapes, a big document).
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

#include "callctx.h"
#include "http/api_template.h"

/* ---- helpers ---- */

/* Parse text (any JSON value, "\u0000" allowed); NULL text gives NULL. */
static json_t *J(const char *text)
{
	json_error_t e;
	json_t *v;

	if (!text)
		return NULL;
	v = json_loads(text, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	if (!v)
		fail_msg("bad test JSON %s: %s", text, e.text);
	return v;
}

/* Compact text of v, the way the tests write expected values. */
static char *dump(const json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);

	assert_non_null(s);
	return s;
}

static void path_ok(const char *tmpl, const char *args, const char *want)
{
	struct moat_err err = {0};
	json_t *a = J(args);
	char *out = NULL;

	assert_int_equal(apit_path(tmpl, a, &out, &err), MOAT_OK);
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
	json_decref(a);
}

/* The call fails with rc, its message holds want and not secret (the
 * argument's value, or a distinctive part of it; NULL: not checked). */
static void path_err(const char *tmpl, const char *args, enum moat_rc rc, const char *want,
		     const char *secret)
{
	struct moat_err err = {0};
	json_t *a = J(args);
	char *out = (char *)"untouched";

	assert_int_equal(apit_path(tmpl, a, &out, &err), rc);
	assert_null(out);
	assert_int_equal(err.rc, rc);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	if (secret && strstr(err.msg, secret))
		fail_msg("message \"%s\" echoes the value", err.msg);
	json_decref(a);
}

static void query_ok(const char *tmpl, const char *args, const char *want)
{
	struct moat_err err = {0};
	json_t *t = J(tmpl), *a = J(args);
	char *out = NULL;

	assert_int_equal(apit_query(t, a, &out, &err), MOAT_OK);
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
	json_decref(t);
	json_decref(a);
}

static void query_err(const char *tmpl, const char *args, const char *want, const char *secret)
{
	struct moat_err err = {0};
	json_t *t = J(tmpl), *a = J(args);
	char *out = (char *)"untouched";

	assert_int_equal(apit_query(t, a, &out, &err), MOAT_EINVAL);
	assert_null(out);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	if (secret && strstr(err.msg, secret))
		fail_msg("message \"%s\" echoes the value", err.msg);
	json_decref(t);
	json_decref(a);
}

/* apit_body gives exactly want (compact, members in order); the template
 * is left as it was. */
static void body_ok(const char *tmpl, const char *args, const char *want)
{
	struct moat_err err = {0};
	json_t *t = J(tmpl), *a = J(args), *out = NULL;
	char *before = dump(t), *after, *got;

	assert_int_equal(apit_body(t, a, &out, &err), MOAT_OK);
	assert_non_null(out);
	got = dump(out);
	assert_string_equal(got, want);
	after = dump(t);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(got);
	json_decref(out);
	json_decref(t);
	json_decref(a);
}

static void body_err(const char *tmpl, const char *args, const char *want, const char *secret)
{
	struct moat_err err = {0};
	json_t *t = J(tmpl), *a = J(args), *out = (json_t *)1;

	assert_int_equal(apit_body(t, a, &out, &err), MOAT_EINVAL);
	assert_null(out);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	if (secret && strstr(err.msg, secret))
		fail_msg("message \"%s\" echoes the value", err.msg);
	json_decref(t);
	json_decref(a);
}

/* apit_select gives exactly want; the document is left as it was. */
static void select_ok(const char *doc, const char *paths, const char *want)
{
	struct moat_err err = {0};
	json_t *d = J(doc), *p = J(paths), *out = NULL;
	char *before = dump(d), *after, *got;

	assert_int_equal(apit_select(d, p, NULL, &out, &err), MOAT_OK);
	assert_non_null(out);
	got = dump(out);
	assert_string_equal(got, want);
	after = dump(d);
	assert_string_equal(before, after);
	free(before);
	free(after);
	free(got);
	json_decref(out);
	json_decref(d);
	json_decref(p);
}

static void select_err(const char *doc, const char *paths, const char *want)
{
	struct moat_err err = {0};
	json_t *d = J(doc), *p = J(paths), *out = (json_t *)1;

	assert_int_equal(apit_select(d, p, NULL, &out, &err), MOAT_EINVAL);
	assert_null(out);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	json_decref(d);
	json_decref(p);
}

/* ---- apit_path ---- */

static void test_path_values(void **state)
{
	(void)state;
	path_ok("/contacts/{id}", "{\"id\":\"42\"}", "/contacts/42");
	path_ok("/contacts/{id}", "{\"id\":42}", "/contacts/42");
	path_ok("/contacts/{id}", "{\"id\":-9223372036854775808}", "/contacts/-9223372036854775808");
	path_ok("/c/{id}", "{\"id\":true}", "/c/true");
	path_ok("/c/{id}", "{\"id\":false}", "/c/false");
	path_ok("/c/{id}", "{\"id\":\"-._~AZaz09\"}", "/c/-._~AZaz09");
	path_ok("/no/placeholders", "{}", "/no/placeholders");
	path_ok("/no/placeholders", NULL, "/no/placeholders");
	path_ok("", "{}", "");
}

static void test_path_reals(void **state)
{
	(void)state;
	/* the shortest text that reads back, in JSON form */
	path_ok("/{r}", "{\"r\":0.1}", "/0.1");
	path_ok("/{r}", "{\"r\":1.5}", "/1.5");
	path_ok("/{r}", "{\"r\":3.0}", "/3.0");
	path_ok("/{r}", "{\"r\":-0.0}", "/-0.0");
	path_ok("/{r}", "{\"r\":123456789.0}", "/123456789.0");
	path_ok("/{r}", "{\"r\":0.30000000000000004}", "/0.30000000000000004");
	path_ok("/{r}", "{\"r\":1e300}", "/1e300");
	path_ok("/{r}", "{\"r\":1e21}", "/1e21");
	path_ok("/{r}", "{\"r\":-1e-7}", "/-1e-7");
	path_ok("/{r}", "{\"r\":2.5e-308}", "/2.5e-308");
}

static void test_path_encoding(void **state)
{
	(void)state;
	path_ok("/u/{v}", "{\"v\":\"\\u00e9\"}", "/u/%C3%A9");
	path_ok("/u/{v}", "{\"v\":\"a b\"}", "/u/a%20b");
	path_ok("/u/{v}", "{\"v\":\"a?b\"}", "/u/a%3Fb");
	path_ok("/u/{v}", "{\"v\":\"a#b\"}", "/u/a%23b");
	path_ok("/u/{v}", "{\"v\":\"100%\"}", "/u/100%25");
	path_ok("/u/{v}", "{\"v\":\"%2e%2e\"}", "/u/%252e%252e");
	path_ok("/u/{v}", "{\"v\":\"a+b\"}", "/u/a%2Bb");
	path_ok("/u/{v}", "{\"v\":\"a:b@c;d=e&f\"}", "/u/a%3Ab%40c%3Bd%3De%26f");
	path_ok("/u/{v}", "{\"v\":\"{x}\"}", "/u/%7Bx%7D");
	path_ok("/u/{v}", "{\"v\":\"\\ud83d\\ude00\"}", "/u/%F0%9F%98%80");
	/* dots are only refused as a whole segment */
	path_ok("/u/{v}", "{\"v\":\"...\"}", "/u/...");
	path_ok("/u/{v}", "{\"v\":\".a\"}", "/u/.a");
	path_ok("/u/{v}", "{\"v\":\"a..b\"}", "/u/a..b");
}

static void test_path_template_syntax(void **state)
{
	(void)state;
	path_ok("/a/{x}/b/{y}/{x}", "{\"x\":\"1\",\"y\":2}", "/a/1/b/2/1");
	path_ok("/{x}{y}", "{\"x\":\"1\",\"y\":\"2\"}", "/12");
	path_ok("/{{v}}/{x}", "{\"x\":1}", "/{v}/1");
	path_ok("/{{{x}}}", "{\"x\":1}", "/{1}");
	path_ok("/files/{name}.json", "{\"name\":\"r\"}", "/files/r.json");
	path_ok("/{Name_2}", "{\"Name_2\":\"q\"}", "/q");
	path_err("/a/{x", "{\"x\":1}", MOAT_EINVAL, "has no closing '}'", NULL);
	path_err("/a/x}", "{}", MOAT_EINVAL, "closes no placeholder", NULL);
	path_err("/a/{}", "{}", MOAT_EINVAL, "empty placeholder", NULL);
	path_err("/a/{x-y}", "{}", MOAT_EINVAL, "A-Z a-z 0-9 _", NULL);
	path_err("/a/{x{y}}", "{}", MOAT_EINVAL, "A-Z a-z 0-9 _", NULL);
}

static void test_path_refusals(void **state)
{
	static const char seg[] = "may not contain '/' or be '.' or '..'";

	(void)state;
	path_err("/c/{id}", "{\"id\":\"\"}", MOAT_EINVAL, "argument 'id' may not be empty", NULL);
	path_err("/c/{id}", "{\"id\":\".\"}", MOAT_EINVAL, seg, NULL);
	path_err("/c/{id}", "{\"id\":\"..\"}", MOAT_EINVAL, seg, NULL);
	path_err("/c/{id}", "{\"id\":\"../admin\"}", MOAT_EINVAL, seg, "admin");
	path_err("/c/{id}", "{\"id\":\"a/b\"}", MOAT_EINVAL, "refused: argument 'id' may not contain '/'",
		 "a/b");
	path_err("/c/{id}", "{\"id\":\"/\"}", MOAT_EINVAL, seg, NULL);
	path_err("/c/{id}", "{\"id\":\"a\\\\b\"}", MOAT_EINVAL, seg, "a\\b");
	path_err("/c/{id}", "{\"id\":\"x\\r\\nHost: evil\"}", MOAT_EINVAL,
		 "argument 'id' may not contain control characters", "evil");
	path_err("/c/{id}", "{\"id\":\"a\\nb\"}", MOAT_EINVAL, "control characters", NULL);
	path_err("/c/{id}", "{\"id\":\"a\\tb\"}", MOAT_EINVAL, "control characters", NULL);
	path_err("/c/{id}", "{\"id\":\"ok\\u0000evil\"}", MOAT_EINVAL, "control characters", "evil");
	path_err("/c/{id}", "{\"id\":\"a\\u007fb\"}", MOAT_EINVAL, "control characters", NULL);
	path_err("/c/{id}", "{}", MOAT_EINVAL, "missing argument 'id'", NULL);
	/* a dot segment in the filled path is refused even when the template
	 * text carries it (config loading refuses such templates first) */
	path_err("/c/{a}/..", "{\"a\":\"x\"}", MOAT_EINVAL, "would have a '.' or '..' segment", NULL);
	path_err("/./{a}", "{\"a\":\"x\"}", MOAT_EINVAL, "would have a '.' or '..' segment", NULL);
	path_err("/c/{id}", NULL, MOAT_EINVAL, "missing argument 'id'", NULL);
	path_err("/c/{id}", "{\"ID\":\"1\"}", MOAT_EINVAL, "missing argument 'id'", NULL);
	path_err("/c/{id}", "{\"id\":null}", MOAT_EINVAL, "argument 'id' is null", NULL);
	path_err("/c/{id}", "{\"id\":{\"a\":\"secret1\"}}", MOAT_EINVAL,
		 "argument 'id' must be a string, number or boolean", "secret1");
	path_err("/c/{id}", "{\"id\":[\"secret2\"]}", MOAT_EINVAL,
		 "argument 'id' must be a string, number or boolean", "secret2");
	path_err("/c/{id}", "[1]", MOAT_EINVAL, "must be an object", NULL);
	/* the second placeholder fails after the first succeeded: no leak */
	path_err("/c/{a}/{b}", "{\"a\":\"x\",\"b\":\"..\"}", MOAT_EINVAL, "argument 'b'", NULL);
}

/* ---- apit_query ---- */

static void test_query_basic(void **state)
{
	(void)state;
	query_ok("{\"q\":\"{query}\",\"limit\":\"{limit}\"}", "{\"query\":\"smith\",\"limit\":10}",
		 "q=smith&limit=10");
	/* the template's order, not the arguments' */
	query_ok("{\"b\":\"{b}\",\"a\":\"{a}\",\"c\":\"{c}\"}", "{\"a\":1,\"c\":3,\"b\":2}",
		 "b=2&a=1&c=3");
	query_ok("{\"fmt\":\"json\",\"q\":\"{q}\"}", "{\"q\":true}", "fmt=json&q=true");
	query_ok("{\"r\":\"{r}\"}", "{\"r\":0.25}", "r=0.25");
	query_ok("{\"r\":\"{r}\"}", "{\"r\":1e-7}", "r=1e-7");
	query_ok("{\"q\":\"name:{n} age:{a}\"}", "{\"n\":\"Ann\",\"a\":3}", "q=name%3AAnn%20age%3A3");
	query_ok("{\"q\":\"{q}\"}", "{\"q\":\"\"}", "q=");
	query_ok("{}", "{}", "");
	query_ok(NULL, "{}", "");
	query_ok(NULL, NULL, "");
}

static void test_query_omission(void **state)
{
	(void)state;
	query_ok("{\"q\":\"{q}\",\"limit\":\"{limit}\"}", "{\"q\":\"x\"}", "q=x");
	query_ok("{\"q\":\"{q}\",\"limit\":\"{limit}\"}", "{\"limit\":5}", "limit=5");
	query_ok("{\"q\":\"{q}\",\"limit\":\"{limit}\"}", "{\"q\":null,\"limit\":null}", "");
	query_ok("{\"q\":\"{q}\",\"limit\":\"{limit}\"}", "{}", "");
	query_ok("{\"q\":\"{q}\",\"fixed\":\"1\"}", "{}", "fixed=1");
	/* text around a placeholder needs the argument */
	query_err("{\"q\":\"id:{x}\"}", "{}", "missing argument 'x' (query parameter 'q' needs it)", NULL);
	query_err("{\"q\":\"id:{x}\"}", "{\"x\":null}", "missing argument 'x'", NULL);
	query_err("{\"q\":\"{x}{y}\"}", "{\"x\":1}", "missing argument 'y'", NULL);
}

static void test_query_encoding(void **state)
{
	(void)state;
	query_ok("{\"q\":\"{q}\"}", "{\"q\":\"a b&c=d\"}", "q=a%20b%26c%3Dd");
	query_ok("{\"q\":\"{q}\"}", "{\"q\":\"1+1\"}", "q=1%2B1");
	query_ok("{\"q\":\"{q}\"}", "{\"q\":\"caf\\u00e9\"}", "q=caf%C3%A9");
	query_ok("{\"q\":\"{q}\"}", "{\"q\":\"a/b?c#d%e\"}", "q=a%2Fb%3Fc%23d%25e");
	query_ok("{\"q\":\"{q}\"}", "{\"q\":\"-._~\"}", "q=-._~");
	query_ok("{\"q\":\"{q}\"}", "{\"q\":\"..\"}", "q=..");
	query_ok("{\"a b\":\"{q}\",\"c&d\":\"x\"}", "{\"q\":1}", "a%20b=1&c%26d=x");
	query_ok("{\"f\":\"{{x}}\"}", "{}", "f=%7Bx%7D");
}

static void test_query_refusals(void **state)
{
	(void)state;
	query_err("{\"q\":\"{q}\"}", "{\"q\":\"x\\r\\nHost: evil\"}",
		  "refused: argument 'q' may not contain control characters", "evil");
	query_err("{\"q\":\"{q}\"}", "{\"q\":\"a\\tb\"}", "control characters", NULL);
	query_err("{\"q\":\"{q}\"}", "{\"q\":\"a\\u0000b\"}", "control characters", NULL);
	query_err("{\"q\":\"{q}\"}", "{\"q\":\"\\u007f\"}", "control characters", NULL);
	query_err("{\"q\":\"{q}\"}", "{\"q\":{\"k\":\"secret\"}}",
		  "argument 'q' must be a string, number or boolean", "secret");
	/* arrays: of scalars only, and only alone in their template */
	query_err("{\"q\":\"{q}\"}", "{\"q\":[1,[2]]}", "must be a string, number or boolean", NULL);
	query_err("{\"q\":\"{q}\"}", "{\"q\":[{\"k\":\"secret\"}]}", "argument 'q'", "secret");
	query_err("{\"q\":\"{q}\"}", "{\"q\":[null]}", "must be a string, number or boolean", NULL);
	query_err("{\"q\":\"x{q}\"}", "{\"q\":[1,2]}", "must be a string, number or boolean", NULL);
	query_err("{\"q\":\"{q}\"}", "{\"q\":[\"ok\",\"x\\r\\nHost: evil\"]}",
		  "may not contain control characters", "evil");
	query_err("[\"q\"]", "{}", "query template: must be an object", NULL);
	query_err("{\"q\":1}", "{}", "parameter 'q' must be a string", NULL);
	query_err("{\"q\":\"{q\"}", "{\"q\":1}", "has no closing '}'", NULL);
	query_err("{\"q\":\"{q}\"}", "\"x\"", "must be an object", NULL);
}

/* An array of scalars repeats its parameter, in order, between the
 * others; an empty one leaves it out. */
static void test_query_arrays(void **state)
{
	(void)state;
	query_ok("{\"a\":\"{a}\"}", "{\"a\":[1,2]}", "a=1&a=2");
	query_ok("{\"x\":\"1\",\"ids\":\"{ids}\",\"y\":\"2\"}",
		 "{\"ids\":[\"p q\",true,2.5,-3]}", "x=1&ids=p%20q&ids=true&ids=2.5&ids=-3&y=2");
	query_ok("{\"a\":\"{a}\",\"b\":\"1\"}", "{\"a\":[]}", "b=1");
	query_ok("{\"filter[s]\":\"{s}\"}", "{\"s\":[\"open\"]}", "filter%5Bs%5D=open");
}

/* ---- apit_headers ---- */

static void headers_ok(const char *tmpl, const char *args, const char *const *want)
{
	struct moat_err err = {0};
	json_t *t = J(tmpl), *a = J(args);
	char **out = NULL;
	size_t i = 0;

	assert_int_equal(apit_headers(t, a, &out, &err), MOAT_OK);
	assert_non_null(out);
	for (; want[i]; i++) {
		assert_non_null(out[i]);
		assert_string_equal(out[i], want[i]);
	}
	assert_null(out[i]);
	apit_lines_free(out);
	json_decref(t);
	json_decref(a);
}

static void headers_err(const char *tmpl, const char *args, const char *rule, const char *secret)
{
	struct moat_err err = {0};
	json_t *t = J(tmpl), *a = J(args);
	char **out = (char **)"untouched";

	assert_int_equal(apit_headers(t, a, &out, &err), MOAT_EINVAL);
	assert_null(out);
	assert_non_null(err.rule);
	assert_string_equal(err.rule, rule);
	if (secret && strstr(err.msg, secret))
		fail_msg("message \"%s\" echoes the value", err.msg);
	json_decref(t);
	json_decref(a);
}

static void test_headers(void **state)
{
	static const char tmpl[] = "{\"X-Request-Id\":\"{rid}\",\"X-Trace\":\"t-{n}\"}";

	(void)state;
	headers_ok(tmpl, "{\"rid\":\"abc\",\"n\":7}",
		   (const char *const[]){"X-Request-Id: abc", "X-Trace: t-7", NULL});
	/* an absent or null argument drops its header; text around one needs it */
	headers_ok(tmpl, "{\"n\":1}", (const char *const[]){"X-Trace: t-1", NULL});
	headers_ok(tmpl, "{\"rid\":null,\"n\":1}", (const char *const[]){"X-Trace: t-1", NULL});
	headers_err(tmpl, "{\"rid\":\"a\"}", "http.missing_argument", NULL);
	/* arrays join with ','; an empty value is "Name;" (libcurl sends it empty) */
	headers_ok("{\"X-Ids\":\"{ids}\"}", "{\"ids\":[1,\"b\"]}", (const char *const[]){"X-Ids: 1,b", NULL});
	headers_ok("{\"X-Ids\":\"{ids}\"}", "{\"ids\":[]}", (const char *const[]){NULL});
	headers_ok("{\"X-E\":\"{e}\"}", "{\"e\":\"\"}", (const char *const[]){"X-E;", NULL});
	/* no value can end the header or add another: CR, LF, NUL, DEL, TAB */
	headers_err(tmpl, "{\"rid\":\"a\\r\\nAuthorization: Bearer evil\"}", "http.control_char", "evil");
	headers_err(tmpl, "{\"rid\":\"a\\nX: evil\"}", "http.control_char", "evil");
	headers_err(tmpl, "{\"rid\":\"a\\u0000evil\"}", "http.control_char", "evil");
	headers_err(tmpl, "{\"rid\":\"\\u007f\"}", "http.control_char", NULL);
	headers_err("{\"X-Ids\":\"{ids}\"}", "{\"ids\":[\"ok\",\"\\r\\nevil\"]}", "http.control_char", "evil");
	headers_err(tmpl, "{\"rid\":{\"k\":\"evil\"}}", "http.argument_type", "evil");
	/* no template: no headers */
	headers_ok("null", "{}", (const char *const[]){NULL});
}

/* ---- apit_form ---- */

static void form_ok(const char *body, const char *want)
{
	struct moat_err err = {0};
	json_t *b = J(body);
	char *out = NULL;

	assert_int_equal(apit_form(b, &out, &err), MOAT_OK);
	assert_string_equal(out, want);
	free(out);
	json_decref(b);
}

static void form_err(const char *body, const char *secret)
{
	struct moat_err err = {0};
	json_t *b = J(body);
	char *out = (char *)"untouched";

	assert_int_equal(apit_form(b, &out, &err), MOAT_EINVAL);
	assert_null(out);
	assert_string_equal(err.rule, "http.form_value");
	if (secret && strstr(err.msg, secret))
		fail_msg("message \"%s\" echoes the value", err.msg);
	json_decref(b);
}

static void test_form(void **state)
{
	(void)state;
	form_ok("{\"name\":\"Ann Lee\",\"n\":2,\"r\":0.5,\"ok\":true,\"skip\":null}",
		"name=Ann%20Lee&n=2&r=0.5&ok=true");
	form_ok("{\"tag\":[\"a&b\",\"c=d\"],\"x\":\"line1\\nline2\"}",
		"tag=a%26b&tag=c%3Dd&x=line1%0Aline2");
	form_ok("{\"a[b]\":\"\\u00e9\"}", "a%5Bb%5D=%C3%A9");
	form_ok("{}", "");
	form_err("{\"o\":{\"k\":\"secret\"}}", "secret");
	form_err("{\"o\":[[\"secret\"]]}", "secret");
	form_err("{\"o\":[null]}", NULL);
	form_err("[1,2]", NULL);
	form_err("\"secret\"", "secret");
}

/* ---- apit_body ---- */

static void test_body_types(void **state)
{
	static const char tmpl[] =
		"{\"s\":\"{s}\",\"i\":\"{i}\",\"r\":\"{r}\",\"t\":\"{t}\",\"f\":\"{f}\","
		"\"n\":\"{n}\",\"o\":\"{o}\",\"a\":\"{a}\"}";

	(void)state;
	body_ok(tmpl,
		"{\"s\":\"x\\ny\",\"i\":-7,\"r\":2.5,\"t\":true,\"f\":false,\"n\":null,"
		"\"o\":{\"k\":[1,{\"z\":null}]},\"a\":[\"p\",2]}",
		"{\"s\":\"x\\ny\",\"i\":-7,\"r\":2.5,\"t\":true,\"f\":false,\"n\":null,"
		"\"o\":{\"k\":[1,{\"z\":null}]},\"a\":[\"p\",2]}");
	/* the brief's example */
	body_ok("{\"name\":\"{name}\",\"tags\":[\"{tag}\"]}", "{\"name\":\"Ann\",\"tag\":\"vip\"}",
		"{\"name\":\"Ann\",\"tags\":[\"vip\"]}");
	/* a body that is one placeholder, or no template at all */
	body_ok("\"{doc}\"", "{\"doc\":{\"a\":1}}", "{\"a\":1}");
	body_ok("\"{doc}\"", "{\"doc\":null}", "null");
	body_ok("42", "{}", "42");
	body_ok("\"plain\"", "{}", "\"plain\"");
	body_ok("[]", NULL, "[]");
}

static void test_body_absent(void **state)
{
	(void)state;
	body_ok("{\"a\":\"{a}\",\"b\":\"{b}\",\"c\":1}", "{\"b\":2}", "{\"b\":2,\"c\":1}");
	body_ok("{\"a\":\"{a}\"}", "{}", "{}");
	body_ok("[\"{a}\",\"{b}\",\"{a}\"]", "{\"b\":2}", "[null,2,null]");
	body_ok("{\"outer\":{\"x\":\"{x}\",\"y\":\"{y}\"},\"list\":[{\"z\":\"{z}\"}]}", "{\"y\":\"Y\"}",
		"{\"outer\":{\"y\":\"Y\"},\"list\":[{}]}");
	body_err("\"{doc}\"", "{}", "missing argument 'doc'", NULL);
}

static void test_body_interpolation(void **state)
{
	(void)state;
	body_ok("{\"greeting\":\"Hello {name}, {age} ({ok}), r={r}, {neg}\"}",
		"{\"name\":\"Ann\",\"age\":30,\"ok\":true,\"r\":0.5,\"neg\":false}",
		"{\"greeting\":\"Hello Ann, 30 (true), r=0.5, false\"}");
	body_ok("[\"id-{id}\",\"{{id}}\",\"{{{id}}}\"]", "{\"id\":7}", "[\"id-7\",\"{id}\",\"{7}\"]");
	/* strings go in as they are: JSON takes care of quoting */
	body_ok("{\"q\":\"say \\\"{w}\\\"\"}", "{\"w\":\"a\\\"b\\n\\u00e9\"}",
		"{\"q\":\"say \\\"a\\\"b\\n\xc3\xa9\\\"\"}");
	body_ok("{\"x\":\"{a}{b}\"}", "{\"a\":\"\",\"b\":\"\"}", "{\"x\":\"\"}");
	body_err("{\"x\":\"id-{id}\"}", "{}", "missing argument 'id' (the request body needs it)", NULL);
	body_err("{\"x\":\"id-{id}\"}", "{\"id\":null}", "argument 'id' must be a string, number or boolean",
		 NULL);
	body_err("{\"x\":\"id-{id}\"}", "{\"id\":{\"s\":\"secret\"}}", "argument 'id'", "secret");
	body_err("{\"x\":\"id-{id}\"}", "{\"id\":[1]}", "argument 'id'", NULL);
}

static void test_body_nested_and_copied(void **state)
{
	(void)state;
	body_ok("{\"meta\":{\"v\":1,\"ok\":true,\"none\":null,\"pi\":3.25},"
		"\"items\":[[\"{a}\",[\"{b}\"]],{\"deep\":{\"deeper\":\"<{a}>\"}}],"
		"\"{key}\":\"keys are literal\"}",
		"{\"a\":\"A\",\"b\":[1,2]}",
		"{\"meta\":{\"v\":1,\"ok\":true,\"none\":null,\"pi\":3.25},"
		"\"items\":[[\"A\",[[1,2]]],{\"deep\":{\"deeper\":\"<A>\"}}],"
		"\"{key}\":\"keys are literal\"}");
}

static void test_body_value_is_a_copy(void **state)
{
	struct moat_err err = {0};
	json_t *t = J("{\"o\":\"{o}\"}"), *a = J("{\"o\":{\"k\":1}}"), *out = NULL;

	(void)state;
	assert_int_equal(apit_body(t, a, &out, &err), MOAT_OK);
	/* changing the result leaves the arguments alone */
	json_object_set_new(json_object_get(out, "o"), "k", json_integer(2));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(a, "o"), "k")), 1);
	json_decref(out);
	json_decref(t);
	json_decref(a);
}

static void test_body_bad(void **state)
{
	struct moat_err err = {0};
	json_t *out = (json_t *)1;

	(void)state;
	body_err("{\"x\":\"{x\"}", "{\"x\":1}", "body template: '{' at byte 0 has no closing '}'", NULL);
	body_err("[\"a}\"]", "{}", "closes no placeholder", NULL);
	body_err("{\"x\":\"a\\u0000{x}\"}", "{\"x\":1}", "NUL", NULL);
	body_err("{\"x\":\"{x}\"}", "[]", "must be an object", NULL);
	assert_int_equal(apit_body(NULL, NULL, &out, &err), MOAT_EINVAL);
	assert_null(out);
}

/* ---- apit_select ---- */

static const char contacts[] =
	"{\"data\":[{\"id\":1,\"name\":\"Ann\",\"email\":\"a@x\"},"
	"{\"id\":2,\"name\":\"Bob\",\"email\":\"b@x\"}],\"total\":2,\"token\":\"t0k\"}";

static void test_select_wildcards(void **state)
{
	(void)state;
	select_ok(contacts, "[\"/data/*/id\",\"/data/*/name\",\"/total\"]",
		  "{\"data\":[{\"id\":1,\"name\":\"Ann\"},{\"id\":2,\"name\":\"Bob\"}],\"total\":2}");
	/* the document's order, whatever the paths' order */
	select_ok(contacts, "[\"/total\",\"/data/*/name\",\"/data/*/id\"]",
		  "{\"data\":[{\"id\":1,\"name\":\"Ann\"},{\"id\":2,\"name\":\"Bob\"}],\"total\":2}");
	select_ok(contacts, "[\"/data/*/email\"]", "{\"data\":[{\"email\":\"a@x\"},{\"email\":\"b@x\"}]}");
	select_ok(contacts, "[\"/data/*\"]",
		  "{\"data\":[{\"id\":1,\"name\":\"Ann\",\"email\":\"a@x\"},"
		  "{\"id\":2,\"name\":\"Bob\",\"email\":\"b@x\"}]}");
	/* "*" over an object's members; members with nothing selected go */
	select_ok("{\"users\":{\"u1\":{\"name\":\"a\",\"pw\":\"x\"},\"u2\":{\"pw\":\"y\"},"
		  "\"u3\":{\"name\":\"c\"}}}",
		  "[\"/users/*/name\"]", "{\"users\":{\"u1\":{\"name\":\"a\"},\"u3\":{\"name\":\"c\"}}}");
	select_ok("{\"a\":{\"x\":1,\"y\":2},\"b\":[{\"x\":3}],\"c\":5}", "[\"/*/x\"]",
		  "{\"a\":{\"x\":1}}");
	select_ok("{\"a\":{\"x\":1,\"y\":2},\"b\":[{\"x\":3}],\"c\":5}", "[\"/*/*/x\"]",
		  "{\"b\":[{\"x\":3}]}");
	/* nested wildcards */
	select_ok("{\"rows\":[{\"cells\":[{\"v\":1,\"f\":0},{\"v\":2}]},{\"cells\":[]}]}",
		  "[\"/rows/*/cells/*/v\"]", "{\"rows\":[{\"cells\":[{\"v\":1},{\"v\":2}]},{\"cells\":[]}]}");
	/* a wildcard and a name at the same level merge */
	select_ok("{\"m\":{\"a\":{\"x\":1,\"y\":2},\"b\":{\"x\":3,\"y\":4}}}", "[\"/m/*/x\",\"/m/b/y\"]",
		  "{\"m\":{\"a\":{\"x\":1},\"b\":{\"x\":3,\"y\":4}}}");
}

static void test_select_star_array_keeps_positions(void **state)
{
	(void)state;
	select_ok("[{\"id\":1},{\"x\":2},5,[],{\"id\":null}]", "[\"/*/id\"]",
		  "[{\"id\":1},null,null,null,{\"id\":null}]");
	select_ok("{\"data\":[]}", "[\"/data/*/id\"]", "{\"data\":[]}");
	select_ok("{\"data\":[{\"a\":1}]}", "[\"/data/*/id\"]", "{\"data\":[null]}");
	/* "*" on a scalar matches nothing */
	select_ok("{\"data\":\"s\",\"n\":1}", "[\"/data/*\",\"/n\"]", "{\"n\":1}");
}

static void test_select_index(void **state)
{
	static const char doc[] = "{\"data\":[{\"id\":1,\"name\":\"a\"},{\"id\":2,\"name\":\"b\"},"
				  "{\"id\":3,\"name\":\"c\"}]}";

	(void)state;
	/* without "*" an array keeps only the selected elements, in order */
	select_ok(doc, "[\"/data/1\"]", "{\"data\":[{\"id\":2,\"name\":\"b\"}]}");
	select_ok(doc, "[\"/data/2/id\",\"/data/0/name\"]", "{\"data\":[{\"name\":\"a\"},{\"id\":3}]}");
	select_ok(doc, "[\"/data/0/name\",\"/data/0/id\"]", "{\"data\":[{\"id\":1,\"name\":\"a\"}]}");
	/* with "*" every position stays and indexed paths add to it */
	select_ok(doc, "[\"/data/*/id\",\"/data/1/name\"]",
		  "{\"data\":[{\"id\":1},{\"id\":2,\"name\":\"b\"},{\"id\":3}]}");
	select_ok(doc, "[\"/data/7\"]", "{}");
	select_ok(doc, "[\"/data/-\"]", "{}");
	select_ok(doc, "[\"/data/01\"]", "{}");
	select_ok(doc, "[\"/data/1/zzz\"]", "{}");
	select_ok(doc, "[\"/data/99999999999999999999\"]", "{}");
	/* a number is a member name in an object */
	select_ok("{\"m\":{\"0\":\"z\",\"01\":\"y\",\"1\":\"w\"}}", "[\"/m/0\",\"/m/01\"]",
		  "{\"m\":{\"0\":\"z\",\"01\":\"y\"}}");
	select_ok("[[1,2],[3,4]]", "[\"/1/0\"]", "[[3]]");
}

static void test_select_missing_skipped(void **state)
{
	(void)state;
	select_ok(contacts, "[\"/nope\",\"/total\",\"/data/*/nope/x\",\"/total/x\"]",
		  "{\"data\":[null,null],\"total\":2}");
	select_ok(contacts, "[\"/nope\",\"/token/a\",\"/data/x\"]", "{}");
	select_ok(contacts, "[]", "{}");
	select_ok("[1,2]", "[\"/x\"]", "[]");
}

static void test_select_escapes(void **state)
{
	static const char doc[] = "{\"a/b\":1,\"m~n\":2,\"~1\":3,\"\":4,\"c\":{\"\":5},\"*\":6}";

	(void)state;
	select_ok(doc, "[\"/a~1b\"]", "{\"a/b\":1}");
	select_ok(doc, "[\"/m~0n\"]", "{\"m~n\":2}");
	select_ok(doc, "[\"/~01\"]", "{\"~1\":3}");
	select_ok(doc, "[\"/\"]", "{\"\":4}");
	select_ok(doc, "[\"/c/\"]", "{\"c\":{\"\":5}}");
	select_ok(doc, "[\"/~01\",\"/a~1b\",\"/m~0n\"]", "{\"a/b\":1,\"m~n\":2,\"~1\":3}");
	/* "*" is always the wildcard */
	select_ok("{\"*\":1,\"b\":2}", "[\"/*\"]", "{\"*\":1,\"b\":2}");
}

static void test_select_whole(void **state)
{
	struct moat_err err = {0};
	json_t *d = J(contacts), *out = NULL;
	char *a, *b;

	(void)state;
	select_ok(contacts, "[\"\"]", contacts);
	select_ok(contacts, "[\"/total\",\"\"]", contacts);
	/* a path that selects a whole subtree wins over deeper ones */
	select_ok(contacts, "[\"/data/*/id\",\"/data\"]",
		  "{\"data\":[{\"id\":1,\"name\":\"Ann\",\"email\":\"a@x\"},"
		  "{\"id\":2,\"name\":\"Bob\",\"email\":\"b@x\"}]}");
	/* NULL paths: a copy, not the document itself */
	assert_int_equal(apit_select(d, NULL, NULL, &out, &err), MOAT_OK);
	assert_ptr_not_equal(out, d);
	a = dump(out);
	b = dump(d);
	assert_string_equal(a, b);
	json_object_set_new(json_array_get(json_object_get(out, "data"), 0), "id", json_integer(9));
	assert_int_equal(json_integer_value(
				 json_object_get(json_array_get(json_object_get(d, "data"), 0), "id")),
			 1);
	free(a);
	free(b);
	json_decref(out);
	json_decref(d);
}

static void test_select_result_is_a_copy(void **state)
{
	struct moat_err err = {0};
	json_t *d = J(contacts), *p = J("[\"/data/*/name\",\"/data/1\"]"), *out = NULL;

	(void)state;
	assert_int_equal(apit_select(d, p, NULL, &out, &err), MOAT_OK);
	json_object_set_new(json_array_get(json_object_get(out, "data"), 1), "name",
			    json_string("changed"));
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(json_object_get(d, "data"), 1), "name")),
			    "Bob");
	json_decref(out);
	json_decref(d);
	json_decref(p);
}

static void test_select_scalar_doc(void **state)
{
	(void)state;
	select_ok("42", "[\"/a\"]", "null");
	select_ok("42", "[\"/*\"]", "null");
	select_ok("42", "[\"\"]", "42");
	select_ok("\"s\"", NULL, "\"s\"");
	select_ok("null", "[\"\"]", "null");
}

static void test_select_bad(void **state)
{
	(void)state;
	select_err(contacts, "{\"a\":1}", "must be an array");
	select_err(contacts, "[\"/a\",1]", "must be a string");
	select_err(contacts, "[\"data\"]", "must be \"\" or start with '/'");
	select_err(contacts, "[\"/a~2\"]", "'~' at byte 2");
	select_err(contacts, "[\"/a~\"]", "'~' at byte 2");
}

/* 100k elements, 10 paths: one linear pass, well under a second even with
 * the sanitizers. */
static void test_select_big(void **state)
{
	enum { N = 100000 };
	struct moat_err err = {0};
	json_t *doc = json_object(), *arr = json_array(), *out = NULL;
	json_t *paths = J("[\"/items/*/id\",\"/items/*/name\",\"/items/*/tags/0\",\"/items/*/o/x\","
			  "\"/items/*/o/y\",\"/items/*/nope\",\"/count\",\"/items/5/secret\","
			  "\"/meta/*\",\"/items/*/n~1a\"]");
	struct timespec t0, t1;
	double secs;

	(void)state;
	for (int i = 0; i < N; i++) {
		json_t *e = json_pack("{s:i, s:s, s:s, s:[s,s], s:{s:i, s:i, s:i}, s:b}", "id", i,
				      "name", "someone", "secret", "s3cr3t", "tags", "t1", "t2", "o",
				      "x", i, "y", -i, "z", 0, "n/a", 1);

		assert_non_null(e);
		assert_int_equal(json_array_append_new(arr, e), 0);
	}
	json_object_set_new(doc, "items", arr);
	json_object_set_new(doc, "count", json_integer(N));
	json_object_set_new(doc, "meta", json_pack("{s:i}", "page", 1));

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	assert_int_equal(apit_select(doc, paths, NULL, &out, &err), MOAT_OK);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	/* CPU time (immune to other load): linear work is ~0.3 s under ASan
	 * at -O0; a quadratic walk would take minutes. */
	if (secs >= 5.0)
		fail_msg("selecting from %d elements took %.3f s of CPU", N, secs);

	json_t *items = json_object_get(out, "items");
	assert_int_equal(json_array_size(items), N);
	char *first = dump(json_array_get(items, 0));
	assert_string_equal(first, "{\"id\":0,\"name\":\"someone\",\"tags\":[\"t1\"],"
				   "\"o\":{\"x\":0,\"y\":0},\"n/a\":true}");
	char *fifth = dump(json_array_get(items, 5));
	assert_string_equal(fifth, "{\"id\":5,\"name\":\"someone\",\"secret\":\"s3cr3t\","
				   "\"tags\":[\"t1\"],\"o\":{\"x\":5,\"y\":-5},\"n/a\":true}");
	assert_int_equal(json_integer_value(json_object_get(out, "count")), N);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(out, "meta"), "page")), 1);
	free(first);
	free(fifth);
	json_decref(out);
	json_decref(doc);
	json_decref(paths);
}

/* ---- config checks ---- */

static void check_err(const char *tmpl, const char *names, const char *want)
{
	struct moat_err err = {0};
	json_t *n = J(names);

	assert_int_equal(apit_check(tmpl, n, &err), MOAT_EINVAL);
	if (!strstr(err.msg, want))
		fail_msg("message \"%s\" lacks \"%s\"", err.msg, want);
	json_decref(n);
}

static void test_check(void **state)
{
	struct moat_err err = {0};
	json_t *names = J("[\"id\",\"q\",\"limit_2\"]");

	(void)state;
	assert_int_equal(apit_check("", names, &err), MOAT_OK);
	assert_int_equal(apit_check("/contacts/{id}", names, &err), MOAT_OK);
	assert_int_equal(apit_check("{q}-{limit_2}/{id}{{x}}", names, &err), MOAT_OK);
	assert_int_equal(apit_check("{anything}", NULL, &err), MOAT_OK);
	assert_int_equal(apit_check("{{}}", names, &err), MOAT_OK);
	assert_int_equal(apit_check("{{{id}}}", names, &err), MOAT_OK);
	check_err("/c/{nope}", "[\"id\"]", "placeholder '{nope}' names no argument");
	check_err("/c/{Id}", "[\"id\"]", "'{Id}'");
	check_err("/c/{id}", "[]", "'{id}'");
	check_err("/c/{id", NULL, "'{' at byte 3 has no closing '}'");
	check_err("/c/{", NULL, "has no closing '}'");
	check_err("/c/id}", NULL, "'}' at byte 5 closes no placeholder");
	check_err("}}}", NULL, "'}' at byte 2");
	check_err("/c/{}", NULL, "empty placeholder '{}' at byte 3");
	check_err("/c/{a b}", NULL, "A-Z a-z 0-9 _");
	check_err("/c/{a.b}", NULL, "A-Z a-z 0-9 _");
	check_err("/c/{\xc3\xa9}", NULL, "A-Z a-z 0-9 _");
	check_err("/c/{a{b}}", NULL, "A-Z a-z 0-9 _");
	check_err("/c/{id}", "{\"id\":1}", "must be an array");
	assert_int_equal(apit_check(NULL, NULL, &err), MOAT_EINVAL);
	json_decref(names);
}

static void test_pointer_check(void **state)
{
	struct moat_err err = {0};

	(void)state;
	assert_int_equal(apit_pointer_check("", &err), MOAT_OK);
	assert_int_equal(apit_pointer_check("/", &err), MOAT_OK);
	assert_int_equal(apit_pointer_check("/data/*/id", &err), MOAT_OK);
	assert_int_equal(apit_pointer_check("/a~0b/~1/~01//x", &err), MOAT_OK);
	assert_int_equal(apit_pointer_check("data", &err), MOAT_EINVAL);
	assert_string_equal(err.msg, "selection path: must be \"\" or start with '/'");
	assert_int_equal(apit_pointer_check("#/data", &err), MOAT_EINVAL);
	assert_int_equal(apit_pointer_check("/a~", &err), MOAT_EINVAL);
	assert_string_equal(err.msg, "selection path: '~' at byte 2 must be followed by '0' or '1'");
	assert_int_equal(apit_pointer_check("/a/~2", &err), MOAT_EINVAL);
	assert_int_equal(apit_pointer_check(NULL, &err), MOAT_EINVAL);
	assert_int_equal(apit_pointer_check("/ok", NULL), MOAT_OK);
	assert_int_equal(apit_pointer_check("bad", NULL), MOAT_EINVAL);
}

/* Every recursion and loop the input drives is bounded and checks the
 * call: body templates and selection paths at 64 levels, selection counts
 * its steps and stops on a cancel or a passed deadline. */
static void test_bounds(void **state)
{
	struct moat_err err = {0};
	json_t *t = json_string("{v}"), *args = J("{\"v\":1}"), *out = NULL, *doc, *paths;
	struct call_ctx ctx;
	char p[512];

	(void)state;
	for (int i = 0; i < 64; i++)
		t = json_pack("[o]", t);
	assert_int_equal(apit_body(t, args, &out, &err), MOAT_OK);
	json_decref(out);
	t = json_pack("{s:o}", "k", t); /* 65 levels */
	assert_int_equal(apit_body(t, args, &out, &err), MOAT_ELIMIT);
	assert_string_equal(err.rule, "limits.template_depth");
	assert_null(out);
	json_decref(t);

	p[0] = '\0';
	for (int i = 0; i < 64; i++)
		strcat(p, "/a");
	assert_int_equal(apit_pointer_check(p, &err), MOAT_OK);
	strcat(p, "/a");
	memset(&err, 0, sizeof(err));
	assert_int_equal(apit_pointer_check(p, &err), MOAT_EINVAL);
	assert_string_equal(err.rule, "limits.template_depth");

	/* 20,000 elements walked with "*": a cancelled call stops, a live one
	 * finishes. */
	doc = json_array();
	for (int i = 0; i < 20000; i++)
		json_array_append_new(doc, json_pack("{s:i, s:s}", "id", i, "x", "y"));
	paths = J("[\"/*/id\"]");
	callctx_init(&ctx, "t", 0, 1 << 20);
	assert_int_equal(apit_select(doc, paths, &ctx, &out, &err), MOAT_OK);
	assert_int_equal(json_array_size(out), 20000);
	json_decref(out);
	callctx_cancel(&ctx);
	memset(&err, 0, sizeof(err));
	assert_int_equal(apit_select(doc, paths, &ctx, &out, &err), MOAT_ECANCELLED);
	assert_null(out);
	callctx_release(&ctx);
	callctx_init(&ctx, "t", 1, 1 << 20);
	struct timespec ts = {0, 5000000};
	nanosleep(&ts, NULL);
	assert_int_equal(apit_select(doc, paths, &ctx, &out, &err), MOAT_ETIMEOUT);
	callctx_release(&ctx);
	json_decref(doc);
	json_decref(paths);
	json_decref(args);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_path_values),
		cmocka_unit_test(test_path_reals),
		cmocka_unit_test(test_path_encoding),
		cmocka_unit_test(test_path_template_syntax),
		cmocka_unit_test(test_path_refusals),
		cmocka_unit_test(test_query_basic),
		cmocka_unit_test(test_query_omission),
		cmocka_unit_test(test_query_encoding),
		cmocka_unit_test(test_query_refusals),
		cmocka_unit_test(test_query_arrays),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_form),
		cmocka_unit_test(test_body_types),
		cmocka_unit_test(test_body_absent),
		cmocka_unit_test(test_body_interpolation),
		cmocka_unit_test(test_body_nested_and_copied),
		cmocka_unit_test(test_body_value_is_a_copy),
		cmocka_unit_test(test_body_bad),
		cmocka_unit_test(test_select_wildcards),
		cmocka_unit_test(test_select_star_array_keeps_positions),
		cmocka_unit_test(test_select_index),
		cmocka_unit_test(test_select_missing_skipped),
		cmocka_unit_test(test_select_escapes),
		cmocka_unit_test(test_select_whole),
		cmocka_unit_test(test_select_result_is_a_copy),
		cmocka_unit_test(test_select_scalar_doc),
		cmocka_unit_test(test_select_bad),
		cmocka_unit_test(test_select_big),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_pointer_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
