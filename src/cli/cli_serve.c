/*
 * cli_serve.c - `moat serve`: run the configured tools over stdio.
 */
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "log.h"
#include "stdio_transport.h"

static const char help[] =
	"usage: moat serve [DIR...] [--config FILE] [--log-level LEVEL]\n"
	"\n"
	"Serves every tool the config declares over stdio (newline-delimited JSON-RPC).\n"
	"Each DIR is served read-only by the filesystem tools (a drop-in for the\n"
	"reference filesystem server: `moat serve ~/projects`).\n"
	"stdout carries protocol messages only; logs go to stderr.\n"
	"Claude Desktop / Claude Code entry:\n"
	"  {\"command\": \"moat\", \"args\": [\"serve\", \"--config\", \"/abs/moat.json\"]}\n";

int cmd_serve(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_env env;
	int code = cli_parse(argc, argv, false, &o);

	if (code != EXIT_OK)
		return code;
	if (o.help) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	o.roots = o.pos;
	o.nroots = o.npos;
	if ((code = cli_setup(&o, true, &env)) != EXIT_OK)
		return code;
	/* Every root, library and the audit file are open; no thread runs yet
	 * (the pool starts its workers on the first call). */
	if ((code = cli_confine(&env)) != EXIT_OK) {
		cli_teardown(&env);
		return code;
	}
	if (registry_count(env.reg) == 0)
		log_warn("no tools are configured; clients will see an empty tool list");
	switch (stdio_serve(STDIN_FILENO, STDOUT_FILENO, &env.sopts, env.reg)) {
	case 0:
		code = EXIT_OK;
		break;
	case 1:
		audit_flush(env.audit); /* the records of finished calls */
		_exit(EXIT_OK); /* a handler still runs; the kernel cleans up */
	default:
		code = EXIT_RUNTIME;
		break;
	}
	cli_teardown(&env);
	return code;
}
