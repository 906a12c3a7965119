/*
 * main.c - the moat command: dispatch to one file per subcommand.
 */
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "moat_build.h"
#include "providers.h"

static const char usage[] =
	"moat - a secure Model Context Protocol server\n"
	"\n"
	"usage: moat COMMAND [OPTIONS]\n"
	"\n"
	"commands:\n"
	"  serve   --config FILE      serve the configured tools over stdio\n"
	"  check   --config FILE      run serve's start-up without serving; print tools,\n"
	"                             limits, sandbox plan (fails wherever serve would)\n"
	"  tools   --config FILE [--json|--names]   list the tools exactly as a client sees them\n"
	"  call    TOOL [key=value...|--json '{...}'] [--json] --config FILE\n"
	"                             run one tool call in-process through the same path;\n"
	"                             --json prints the whole result as JSON\n"
	"  audit   verify|tail|summary [FILE...] [--config FILE]\n"
	"                             check the audit trail's hash chain, show its last\n"
	"                             records, or summarise it (see moat audit --help)\n"
	"  import  openapi SPEC --name NAME [--allow-writes] [--grouped] [--list]\n"
	"                             [--output FILE | --into CONFIG] ...\n"
	"                             an API's OpenAPI description as an http.apis section\n"
	"                             to review (see moat import --help)\n"
	"  version                    print the version, the commit, and each tool family\n"
	"                             that loads, with its libraries' versions\n"
	"\n"
	"common options:\n"
	"  -c, --config FILE          JSON config (see moat.schema.json); default: empty\n"
	"  --log-level LEVEL          debug|info|notice|warning|error|critical|alert|emergency\n"
	"  --log-format text|json     stderr lines as text (default) or one JSON object each\n"
	"  -h, --help                 help for a command\n"
	"\n"
	"environment (the flag wins): MOAT_CONFIG, MOAT_HTTP, MOAT_LOG_LEVEL, MOAT_LOG_FORMAT\n"
	"\n"
	"exit codes: 0 ok, 1 tool error (call), 2 usage, 3 invalid config, 4 runtime failure\n";

/*
 * glibc's defaults return memory to the kernel as soon as a worker's
 * arena has more than 128 KiB free at its top, and serve blocks from
 * 128 KiB up (growing) with mmap: a call that builds a large result (a
 * 10,000-row query is a few MB of JSON) then faults in and zeroes fresh
 * pages every time, which measured a quarter of such a call's CPU time.
 * Keep up to 8 MiB free per arena and take blocks below 4 MiB from the
 * arenas; an idle server is unchanged, one after a large call holds a
 * few MB more.
 */
static void tune_malloc(void)
{
	mallopt(M_TRIM_THRESHOLD, 8 << 20);
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	tune_malloc();

	if (!cmd || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		fputs(usage, cmd ? stdout : stderr);
		return cmd ? EXIT_OK : EXIT_USAGE;
	}
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		return cmd_version(argc - 2, argv + 2);
	}
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc - 2, argv + 2);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 2, argv + 2);
	if (strcmp(cmd, "tools") == 0)
		return cmd_tools(argc - 2, argv + 2);
	if (strcmp(cmd, "call") == 0)
		return cmd_call(argc - 2, argv + 2);
	if (strcmp(cmd, "audit") == 0)
		return cmd_audit(argc - 2, argv + 2);
	if (strcmp(cmd, "import") == 0)
		return cmd_import(argc - 2, argv + 2);
	fprintf(stderr, "moat: unknown command '%.64s' (see moat --help)\n", cmd);
	return EXIT_USAGE;
}
