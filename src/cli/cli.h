/*
 * cli.h - shared pieces of the moat command line: exit codes, option
 * parsing, start-up (config, providers, registry, audit) and an in-process
 * client session that drives a server exactly as a remote client would.
 * Single-threaded except where noted.
 */
#ifndef MOAT_CLI_CLI_H
#define MOAT_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "audit.h"
#include "cluster/cluster.h"
#include "config.h"
#include "registry.h"
#include "server.h"

/* Exit codes (documented in docs/cli.md and `moat --help`). */
enum {
	EXIT_OK = 0,
	EXIT_TOOL_ERROR = 1, /* moat call: the tool answered isError */
	EXIT_USAGE = 2,      /* bad command line */
	EXIT_CONFIG = 3,     /* the config is invalid or a provider refused it */
	EXIT_RUNTIME = 4,    /* start-up or I/O failure */
};

/* Options common to the commands. Strings borrow from argv or the
 * environment: a flag not given takes its environment variable
 * (MOAT_CONFIG, MOAT_LOG_LEVEL, MOAT_LOG_FORMAT, MOAT_HTTP; an empty one
 * counts as unset), the flag wins. */
struct cli_opts {
	const char *config;    /* --config FILE, or NULL */
	const char *log_level; /* --log-level LEVEL, or NULL */
	const char *log_format; /* --log-format text|json, or NULL */
	const char *http;      /* --http ADDR:PORT (serve, check), or NULL */
	bool json;             /* --json: print JSON (tools, call) */
	const char *json_args; /* --json ARGS (call): the argument after --json
				  when it starts with '{' or '[', else NULL */
	bool help;
	int npos;              /* positional arguments in pos[0..npos) */
	char **pos;            /* argv itself, compacted in place */
	char **roots;          /* directories to serve read-only (serve/check/tools DIR...) */
	int nroots;
};

/* Everything a command needs once start-up is done. */
struct cli_env {
	struct moat_config cfg;
	struct registry *reg;
	struct audit *audit;
	struct server_opts sopts;
	bool providers_started;
	struct cluster *cluster; /* the "cluster" section's store, or NULL */
};

/*
 * cli_parse - parse argv (after the command word) into o. `takes_json_value`
 * lets --json take the next argument as JSON arguments when it starts with
 * '{' or '[' (moat call); --json always sets o->json. Options not given
 * on the command line are then taken from the environment (cli_opts).
 * --log-format applies at once, so every later line is in that format.
 * Returns EXIT_OK or EXIT_USAGE (message printed to stderr).
 */
int cli_parse(int argc, char **argv, bool takes_json_value, struct cli_opts *o);

/*
 * cli_setup - every start-up step of `moat serve` before the sandbox: load
 * the config (or defaults), apply the log level, start every family (roots,
 * databases, modules, APIs), apply per-tool limits and, when with_audit,
 * open the audit file (serve, call and check pass true; check must fail
 * wherever serve would). Returns an EXIT_* code; on failure the message is
 * on stderr ("moat: FILE: POINTER: ...") and env is torn down.
 */
int cli_setup(const struct cli_opts *o, bool with_audit, struct cli_env *env);

/*
 * cli_confine - apply the sandbox to this process for good, as serve and
 * call do right after cli_setup, before any thread starts; then start the
 * cluster store's thread (reconnects, heartbeat), the first thread to run.
 * Returns EXIT_OK, or EXIT_RUNTIME with the message on stderr.
 */
int cli_confine(struct cli_env *env);

/*
 * cli_confine_trial - run cli_confine in a forked child and report what it
 * returned, leaving this process unconfined (moat check). Same message on
 * stderr, same code, as serve would give.
 */
int cli_confine_trial(struct cli_env *env);

/* cli_teardown - undo cli_setup. Safe on a zeroed env. */
void cli_teardown(struct cli_env *env);

/* cli_print_json - v (borrowed) indented by two spaces a level, reals at
 * the precision that reads back (0.174, not 0.17399999999999999), and a
 * newline. Returns false if v holds a NaN or memory ran out. */
bool cli_print_json(FILE *f, const json_t *v);

/* An in-process client session over a real server (see cli_common.c). */
struct cli_session;

/* cli_session_open - start a server on env and initialize it with the
 * newest protocol revision. NULL on failure (printed). */
struct cli_session *cli_session_open(struct cli_env *env);

/* cli_session_request - send one request and wait for its response, which
 * the caller owns. NULL on failure. */
json_t *cli_session_request(struct cli_session *cs, const char *method, json_t *params);

/* cli_session_close - shut the server down and free the session. */
void cli_session_close(struct cli_session *cs);

int cmd_serve(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_tools(int argc, char **argv);
int cmd_call(int argc, char **argv);
int cmd_audit(int argc, char **argv);
/* cmd_import - `moat import openapi ...` (cli_import.c); an EXIT_* code. */
int cmd_import(int argc, char **argv);

/* cmd_version - `moat version`: the version, the commit, each family and
 * transport with its libraries' versions (cli_version.c). Always 0. */
int cmd_version(int argc, char **argv);

#endif
