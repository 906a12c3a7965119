/*
 * cli_tools.c - `moat tools`: the tool list exactly as a client sees it.
 * --names prints only the names, one a line, for shell completion
 * (dist/completions/ runs `moat tools --config FILE --names` to complete
 * `moat call TOOL`).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"

static const char help[] =
	"usage: moat tools [DIR...] [--config FILE] [--json | --names]\n"
	"\n"
	"Lists the tools a client would see (all tools/list pages, newest protocol\n"
	"revision). --json prints the tools array as JSON; --names prints only the\n"
	"names, one a line (for shell completion).\n";

/* Take --names (before any "--") out of argv, which is compacted in place;
 * the rest goes to cli_parse, which knows no --names. Returns the new argc. */
static int take_names(int argc, char **argv, bool *names)
{
	int n = 0;
	bool after_dashes = false;

	*names = false;
	for (int i = 0; i < argc; i++) {
		if (!after_dashes && strcmp(argv[i], "--names") == 0) {
			*names = true;
			continue;
		}
		if (strcmp(argv[i], "--") == 0)
			after_dashes = true;
		argv[n++] = argv[i];
	}
	return n;
}

/* Collect every page through the real server path. Caller owns the array. */
static json_t *all_tools(struct cli_session *cs)
{
	json_t *tools = json_array();
	json_t *cursor = NULL;

	for (;;) {
		json_t *params = cursor ? json_pack("{s:O}", "cursor", cursor) : json_object();
		json_t *resp = cli_session_request(cs, "tools/list", params);
		json_t *res = resp ? json_object_get(resp, "result") : NULL;
		json_decref(cursor);
		cursor = NULL;
		if (!res) {
			json_decref(resp);
			json_decref(tools);
			return NULL;
		}
		json_array_extend(tools, json_object_get(res, "tools"));
		cursor = json_incref(json_object_get(res, "nextCursor"));
		json_decref(resp);
		if (!cursor)
			return tools;
	}
}

int cmd_tools(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_env env;
	struct cli_session *cs;
	json_t *tools, *t;
	size_t i;
	bool names;
	int code;

	argc = take_names(argc, argv, &names);
	if ((code = cli_parse(argc, argv, false, &o)) != EXIT_OK)
		return code;
	if (o.help) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	if (names && o.json) {
		log_line(LOG_LVL_ERROR, "--json and --names exclude each other (see --help)");
		return EXIT_USAGE;
	}
	o.roots = o.pos;
	o.nroots = o.npos;
	if ((code = cli_setup(&o, false, &env)) != EXIT_OK)
		return code;
	cs = cli_session_open(&env);
	tools = cs ? all_tools(cs) : NULL;
	cli_session_close(cs);
	if (!tools) {
		log_line(LOG_LVL_ERROR, "could not list tools");
		cli_teardown(&env);
		return EXIT_RUNTIME;
	}
	if (o.json) {
		cli_print_json(stdout, tools);
	} else if (names) {
		json_array_foreach(tools, i, t)
			printf("%s\n", json_string_value(json_object_get(t, "name")));
	} else {
		json_array_foreach(tools, i, t) {
			json_t *ann = json_object_get(t, "annotations");
			const char *title = json_string_value(json_object_get(t, "title"));
			printf("%-28s %-32s %s\n", json_string_value(json_object_get(t, "name")),
			       title ? title : "",
			       json_is_true(json_object_get(ann, "readOnlyHint")) ? "read-only"
			       : json_is_true(json_object_get(ann, "destructiveHint")) ? "destructive"
										 : "writes");
		}
		if (json_array_size(tools) == 0)
			printf("(no tools configured)\n");
	}
	json_decref(tools);
	cli_teardown(&env);
	return EXIT_OK;
}
