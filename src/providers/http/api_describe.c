/*
 * api_describe.c - what `moat check` says of each declared API
 * (api_describe_one): its base URL and limits, the one host its
 * credentials go to, whether it writes and which tools write or ask for
 * confirmation, the environment variables it reads, the names of its
 * credential headers and query parameters, each tool (or grouped
 * operation) with its method and path template, and its "$comment" lines.
 *
 * Values are never printed: the variables' names come from the config as
 * written (moat_config.raw keeps "${NAME}"), and the caller (cli_check.c)
 * passes every line through config_scrub as well. Start-up only.
 */
#include "api.h"

#include <string.h>

#define DESCRIBE_COMMENT_MAX 300 /* most bytes of one $comment line shown */

/* This API's object in the config as written, or NULL. */
static const json_t *raw_api(const struct api *a)
{
	const struct moat_config *cfg = a->fam ? a->fam->cfg : NULL;

	if (!cfg || !cfg->raw)
		return NULL;
	return json_object_get(json_object_get(json_object_get(cfg->raw, "http"), "apis"),
			       a->name);
}

/* Add every ${NAME} in s to names (an object used as an ordered set: name
 * -> array of where it is used). */
static void env_refs(json_t *names, const char *s, const char *where)
{
	for (const char *p = s ? strstr(s, "${") : NULL; p; p = strstr(p + 2, "${")) {
		const char *end = strchr(p + 2, '}');
		json_t *uses;
		char name[128];

		if (!end || (size_t)(end - p - 2) >= sizeof(name) || end == p + 2)
			continue;
		memcpy(name, p + 2, (size_t)(end - p - 2));
		name[end - p - 2] = '\0';
		if (!(uses = json_object_get(names, name))) {
			uses = json_array();
			json_object_set_new(names, name, uses);
		}
		json_array_append_new(uses, json_string(where));
	}
}

static void print_env(const struct api *a, const json_t *raw, FILE *f)
{
	json_t *names = json_object(), *v, *uses;
	const char *k;
	char where[160];

	env_refs(names, json_string_value(json_object_get(raw, "base_url")), "base_url");
	json_object_foreach(json_object_get(raw, "headers"), k, v) {
		snprintf(where, sizeof(where), "header %.128s", k);
		env_refs(names, json_string_value(v), where);
	}
	json_object_foreach(json_object_get(raw, "query"), k, v) {
		snprintf(where, sizeof(where), "query %.128s", k);
		env_refs(names, json_string_value(v), where);
	}
	if (json_object_size(names) == 0)
		fprintf(f, "    environment: none read\n");
	json_object_foreach(names, k, uses) {
		size_t i;
		fprintf(f, "    environment: %s (", k);
		json_array_foreach(uses, i, v)
			fprintf(f, "%s%s", i ? ", " : "", json_string_value(v));
		fprintf(f, ")\n");
	}
	if (a->nheaders) {
		fprintf(f, "    headers sent:");
		for (size_t i = 0; i < a->nheaders; i++)
			fprintf(f, "%s %.*s", i ? "," : "", (int)strcspn(a->headers[i], ":"),
				a->headers[i]);
		fprintf(f, " (values not shown)\n");
	}
	if (json_object_size(json_object_get(raw, "query"))) {
		size_t i = 0;
		fprintf(f, "    query credentials:");
		json_object_foreach(json_object_get(raw, "query"), k, v)
			fprintf(f, "%s %.128s", i++ ? "," : "", k);
		fprintf(f, " (values not shown; never sent to another host)\n");
	}
	json_decref(names);
}

static void print_tool(const char *kind, const struct api_tool *t, FILE *f)
{
	fprintf(f, "    %s %-24s %-6s %s%s%s\n", kind, t->name, t->method, t->path,
		t->write ? "  (writes" : "", t->write ? (t->confirm ? ", confirm)" : ")") : "");
}

static void print_comments(const json_t *raw, FILE *f)
{
	const json_t *c = json_object_get(raw, "$comment");
	size_t i;
	json_t *v;

	if (json_is_string(c))
		fprintf(f, "    note: %.*s\n", DESCRIBE_COMMENT_MAX, json_string_value(c));
	json_array_foreach(c, i, v)
		fprintf(f, "    note: %.*s\n", DESCRIBE_COMMENT_MAX, json_string_value(v));
}

void api_describe_one(const struct api *a, FILE *f)
{
	const json_t *raw = raw_api(a);
	const struct api_tool *list = a->ops ? a->ops : a->tools;
	size_t n = a->ops ? a->nops : a->ntools, writes = 0, confirms = 0;

	fprintf(f, "  api %-8s %s (port %u), %zu %s%s, %zu header%s", a->name, a->base,
		(unsigned)a->port, n, a->ops ? "grouped operation" : "tool", n == 1 ? "" : "s",
		a->nheaders, a->nheaders == 1 ? "" : "s");
	if (a->limited)
		fprintf(f, ", %u/min burst %u", a->per_minute, a->burst);
	if (a->cache)
		fprintf(f, ", cache %llu s%s", (unsigned long long)(a->ttl_ns / 1000000000u),
			a->shared ? " (shared)" : "");
	if (a->nnets)
		fprintf(f, ", %zu non-public address%s allowed", a->nnets,
			a->nnets == 1 ? "" : "es");
	fputc('\n', f);
	for (size_t i = 0; i < n; i++) {
		writes += list[i].write;
		confirms += list[i].write && list[i].confirm;
	}
	fprintf(f, "    contacts %s port %u (redirects elsewhere are re-vetted and get none of "
		"its headers or query credentials)\n",
		a->host ? a->host : "(not vetted yet)", (unsigned)a->port);
	if (writes)
		fprintf(f, "    writes: allowed, %zu %s%s write%s, %zu of them confirmed by the "
			"person first\n", writes, a->ops ? "operation" : "tool",
			writes == 1 ? "" : "s", writes == 1 ? "s" : "", confirms);
	else
		fprintf(f, "    writes: none (every %s only reads)\n", a->ops ? "operation" : "tool");
	print_env(a, raw, f);
	if (a->ops)
		fprintf(f, "    tools: %s_operations, %s_operation_schema, %s_call%s%s%s\n",
			a->name, a->name, a->name, writes ? ", " : "", writes ? a->name : "",
			writes ? (confirms ? "_call_write (confirm)" : "_call_write") : "");
	for (size_t i = 0; i < n; i++)
		print_tool(a->ops ? "operation" : "tool", &list[i], f);
	print_comments(raw, f);
}
