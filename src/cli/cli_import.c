/*
 * cli_import.c - `moat import openapi SPEC --name NAME [options]`; being
 * written for issue 15 (src/import/import.h).
 */
#include "cli.h"

int cmd_import(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "moat: import: not built yet\n");
	return EXIT_USAGE;
}
