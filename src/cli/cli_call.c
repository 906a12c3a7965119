/*
 * cli_call.c - `moat call TOOL ...`: one tool call in-process, through the
 * same parsing, validation, limits, dispatch and audit path a client's call
 * takes (the arguments are sent to a real server as a tools/call request).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"

static const char help[] =
	"usage: moat call TOOL [key=value ...] [--json] [--config FILE]\n"
	"       moat call TOOL --json '{\"key\": \"value\"}' [--config FILE]\n"
	"\n"
	"Runs one tool call in-process through the same validation and dispatch path a\n"
	"client's call takes and prints the result's text to stdout (an error's text to\n"
	"stderr). A value is kept as a string when the tool's schema says the key is a\n"
	"string, otherwise it is read as JSON when it parses (numbers, true/false,\n"
	"arrays, objects) and as a string when it does not.\n"
	"--json            print the whole result (content, structuredContent, isError)\n"
	"                  as JSON instead of its text\n"
	"--json '{...}'    the arguments as one JSON object instead of key=value pairs\n"
	"                  (the result is printed as JSON too)\n"
	"exit: 0 ok, 1 the tool answered with an error, 2 usage, 3 config, 4 runtime\n";

/* True when the tool's input schema declares key with "type": "string". */
static bool wants_string(const struct tool *t, const char *key)
{
	json_t *props = json_object_get(t->input_schema, "properties");
	json_t *type = json_object_get(json_object_get(props, key), "type");

	return json_is_string(type) && strcmp(json_string_value(type), "string") == 0;
}

static json_t *args_from_pairs(const struct tool *t, char **pairs, int n)
{
	json_t *args = json_object();

	for (int i = 0; args && i < n; i++) {
		char *eq = strchr(pairs[i], '=');
		json_t *v = NULL;
		if (!eq || eq == pairs[i]) {
			log_line(LOG_LVL_ERROR, "argument %d must be key=value", i + 1);
			json_decref(args);
			return NULL;
		}
		*eq = '\0';
		if (!wants_string(t, pairs[i]))
			v = json_loads(eq + 1, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, NULL);
		if (!v)
			v = json_string(eq + 1);
		if (!v) {
			log_line(LOG_LVL_ERROR, "value of %s is not valid UTF-8", pairs[i]);
			json_decref(args);
			return NULL;
		}
		json_object_set_new(args, pairs[i], v);
	}
	return args;
}

int cmd_call(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_env env;
	struct cli_session *cs = NULL;
	json_t *args = NULL, *resp = NULL, *res, *block;
	struct tool *t;
	size_t i;
	int code = cli_parse(argc, argv, true, &o);

	if (code != EXIT_OK)
		return code;
	if (o.help || o.npos < 1) {
		fputs(help, o.help ? stdout : stderr);
		return o.help ? EXIT_OK : EXIT_USAGE;
	}
	if ((code = cli_setup(&o, true, &env)) != EXIT_OK)
		return code;
	t = registry_find(env.reg, o.pos[0]);
	if (!t) {
		log_line(LOG_LVL_ERROR, "unknown tool '%.64s' (see moat tools)", o.pos[0]);
		code = EXIT_USAGE;
		goto out;
	}
	if (o.json_args) {
		if (o.npos > 1) {
			log_line(LOG_LVL_ERROR, "give either key=value pairs or --json ARGS, not both");
			code = EXIT_USAGE;
			goto out;
		}
		args = json_loads(o.json_args, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(args)) {
			log_line(LOG_LVL_ERROR, "--json ARGS must be a JSON object");
			code = EXIT_USAGE;
			goto out;
		}
	} else {
		args = args_from_pairs(t, o.pos + 1, o.npos - 1);
		if (!args) {
			code = EXIT_USAGE;
			goto out;
		}
	}
	/* Confined like `moat serve`, before the session starts any thread. */
	if ((code = cli_confine(&env)) != EXIT_OK)
		goto out;
	cs = cli_session_open(&env);
	if (!cs) {
		code = EXIT_RUNTIME;
		goto out;
	}
	resp = cli_session_request(cs, "tools/call",
				   json_pack("{s:s, s:O}", "name", t->name, "arguments", args));
	res = resp ? json_object_get(resp, "result") : NULL;
	if (!res) {
		json_t *e = resp ? json_object_get(resp, "error") : NULL;
		log_line(LOG_LVL_ERROR, "%s",
			e ? json_string_value(json_object_get(e, "message")) : "no response");
		code = EXIT_RUNTIME;
		goto out;
	}
	bool is_error = json_is_true(json_object_get(res, "isError"));
	if (o.json) {
		cli_print_json(stdout, res);
	} else {
		json_array_foreach(json_object_get(res, "content"), i, block) {
			const char *text = json_string_value(json_object_get(block, "text"));
			if (text)
				fprintf(is_error ? stderr : stdout, "%s%s\n", is_error ? "moat: " : "",
					text);
			else
				printf("[%s content]\n",
				       json_string_value(json_object_get(block, "type")));
		}
	}
	code = is_error ? EXIT_TOOL_ERROR : EXIT_OK;
out:
	json_decref(resp);
	json_decref(args);
	cli_session_close(cs);
	cli_teardown(&env);
	return code;
}
