/*
 * import_rig.c - what the importer's unit tests share: small OpenAPI
 * documents written inline (single quotes become double quotes), running
 * an import, and checking a section as the http family would (every
 * input_schema compiles with moat's validator, every template names an
 * argument, names and texts fit the config schema).
 */
#include "import_rig.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schema.h"

char *dq(const char *s)
{
	char *t = strdup(s);

	assert_non_null(t);
	for (char *p = t; *p; p++)
		if (*p == '\'')
			*p = '"';
	return t;
}

/* A 3.0 document with these paths (and extra top-level members). */
char *doc3(const char *paths, const char *extra)
{
	char *t = NULL, *r;

	assert_true(asprintf(&t,
			     "{'openapi':'3.0.3','info':{'title':'CRM','version':'1'},"
			     "'servers':[{'url':'https://api.crm.example/v1'}],'paths':%s%s%s}",
			     paths, extra ? "," : "", extra ? extra : "") > 0);
	r = dq(t);
	free(t);
	return r;
}

enum moat_rc run(const char *text, const struct import_opts *o, struct import_result *r,
			struct moat_err *e)
{
	enum moat_rc rc = import_openapi(text, strlen(text), o, r, e);

	if (getenv("IMPORT_TEST_DUMP") && r->section) {
		char *s = import_section_text(r->section);
		fprintf(stderr, "%s", s);
		free(s);
	}
	if (getenv("IMPORT_TEST_DUMP") && rc)
		fprintf(stderr, "error %s: %s\n", e->rule ? e->rule : "-", e->msg);
	return rc;
}

/* Import ok; return the section (owned by r). */
json_t *ok(const char *paths, const char *extra, const struct import_opts *o,
		  struct import_result *r)
{
	char *d = doc3(paths, extra);
	struct moat_err e = {0};
	enum moat_rc rc = run(d, o, r, &e);

	free(d);
	if (rc)
		fail_msg("import failed: %s: %s", e.rule ? e.rule : "-", e.msg);
	assert_non_null(r->section);
	return r->section;
}

/* Import refused with rule; the message in e. */
void refused(const char *paths, const char *extra, const struct import_opts *o,
		    const char *rule, struct moat_err *e)
{
	struct import_result r;
	char *d = doc3(paths, extra);

	assert_int_not_equal(run(d, o, &r, e), MOAT_OK);
	assert_null(r.section);
	assert_non_null(e->rule);
	assert_string_equal(e->rule, rule);
	free(d);
	import_result_free(&r);
}

json_t *tool(json_t *section, size_t i)
{
	json_t *t = json_array_get(json_object_get(section, "tools"), i);

	assert_non_null(t);
	return t;
}

const char *sget(const json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The keys of o joined by ','. */
void keys(const json_t *o, char *buf, size_t n)
{
	const char *k;
	json_t *v;
	size_t len = 0;

	buf[0] = '\0';
	json_object_foreach((json_t *)o, k, v)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? "," : "", k);
}

bool note_has(const struct import_result *r, const char *needle)
{
	for (size_t i = 0; r->notes && r->notes[i]; i++)
		if (strstr(r->notes[i], needle))
			return true;
	return false;
}

/* Every "{name}" of template text names a property of props. */
static void placeholders_known(const char *tmpl, const json_t *props)
{
	for (const char *p = tmpl; p && *p; p++) {
		char name[128];
		const char *e;
		if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
			p++;
			continue;
		}
		assert_true(*p != '}');
		if (*p != '{')
			continue;
		e = strchr(p, '}');
		assert_non_null(e);
		assert_true((size_t)(e - p - 1) < sizeof(name));
		memcpy(name, p + 1, (size_t)(e - p - 1));
		name[e - p - 1] = '\0';
		if (!json_object_get(props, name))
			fail_msg("template %s names %s, not an argument", tmpl, name);
		p = e;
	}
}

/* What the http family checks of each tool: the input_schema compiles
 * with moat's validator, every template names an argument, names and
 * texts fit the config schema. */
void schemas_compile(const json_t *section)
{
	json_t *list = json_object_get(section, "tools"), *t, *v;
	const char *k;
	size_t i, j;

	if (!list)
		list = json_object_get(section, "operations");
	json_array_foreach(list, i, t) {
		struct moat_err e = {0};
		const json_t *in = json_object_get(t, "input_schema");
		const json_t *props = json_object_get(in, "properties");
		struct schema *s = schema_compile(in, &e);
		const char *name = sget(t, "name"), *d = sget(t, "description");
		assert_non_null(s);
		schema_free(s);
		assert_non_null(name);
		assert_true(strlen(name) >= 1 && strlen(name) <= 64);
		assert_true(strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") == strlen(name));
		assert_non_null(d);
		assert_true(strlen(d) >= 1 && strlen(d) <= 4000);
		assert_true(!sget(t, "title") || strlen(sget(t, "title")) <= 200);
		assert_int_equal(sget(t, "path")[0], '/');
		placeholders_known(sget(t, "path"), props);
		placeholders_known(sget(t, "body"), props);
		json_object_foreach(json_object_get(t, "query"), k, v)
			placeholders_known(json_string_value(v), props);
		json_object_foreach(json_object_get(t, "headers"), k, v)
			placeholders_known(json_string_value(v), props);
		json_array_foreach(json_object_get(t, "mime_allow"), j, v)
			assert_true(strspn(json_string_value(v), "abcdefghijklmnopqrstuvwxyz0123456789.+*-/") ==
				    strlen(json_string_value(v)));
	}
}

