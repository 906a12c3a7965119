/*
 * cli_check.c - `moat check`: validate the config and print what moat would
 * serve: tools, limits, audit, secrets (masked), the HTTP listener and the
 * sandbox plan.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "log.h"
#include "prompts.h"
#include "providers.h"
#include "auth/auth.h"
#include "http_listener.h"
#include "sandbox.h"

static const char help[] =
	"usage: moat check [DIR...] [--config FILE] [--http ADDR:PORT]\n"
	"\n"
	"Runs every start-up step `moat serve` runs (the config against\n"
	"moat.schema.json, the roots, databases, modules and APIs, the audit file,\n"
	"the sandbox in a throw-away child) without serving, and prints the tools,\n"
	"limits and sandbox plan. It fails wherever serve would, with the same\n"
	"message and exit code.\n"
	"Secrets resolved from ${NAME} references are never printed.\n"
	"exit: 0 valid, 3 invalid config, 4 runtime failure\n";

/* Print text line by line through config_scrub (values may come from
 * ${NAME} references). */
static void print_scrubbed(const struct moat_config *cfg, const char *text)
{
	char line[4096];

	for (const char *p = text, *nl; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		snprintf(line, sizeof(line), "%.*s", nl ? (int)(nl - p) : (int)strlen(p), p);
		config_scrub(cfg, line, sizeof(line));
		printf("%s\n", line);
	}
}

/* What the families reach beyond their tools (the http family's hosts). */
static void print_families(const struct moat_config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (!mem)
		return;
	providers_describe(mem);
	if (fclose(mem) == 0)
		print_scrubbed(cfg, text);
	free(text);
}

/* The cluster store: where, how, and whether Redis answers now. */
static void print_cluster(const struct moat_config *cfg, struct cluster *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	if (!mem)
		return;
	cluster_describe(c, mem);
	if (fclose(mem) == 0)
		print_scrubbed(cfg, text);
	free(text);
}

/* The sandbox plan as `moat serve` would apply it on this kernel. */
static void print_sandbox(const struct moat_config *cfg, const struct registry *reg)
{
	struct sandbox_plan plan = {0};
	struct moat_err err = {0};
	char *text = NULL, line[4096];
	size_t len = 0;
	FILE *mem = NULL;

	if (sandbox_plan_from(&plan, cfg, reg, &err)) {
		snprintf(line, sizeof(line), "sandbox: %s", err.msg);
		config_scrub(cfg, line, sizeof(line));
		printf("%s\n", line);
		goto out;
	}
	mem = open_memstream(&text, &len);
	if (!mem)
		goto out;
	sandbox_describe(&plan, mem);
	if (fclose(mem) != 0)
		goto out;
	print_scrubbed(cfg, text);
out:
	free(text);
	sandbox_plan_free(&plan);
}

/* The authentication a config's "auth" section sets up, as serve builds
 * it (moat_auth.so: the JWKS read or fetched), described into *text
 * (caller frees; NULL without a section). Exit code as serve's. */
static int describe_auth(struct cli_env *env, char **text)
{
	json_t *section = json_object_get(env->cfg.doc, "auth");
	struct moat_err err = {0};
	const struct auth_module *am;
	struct auth *a;
	size_t len = 0;
	FILE *mem;

	*text = NULL;
	if (!section)
		return EXIT_OK;
	am = modules_symbol("moat_auth.so", "auth_module", &err);
	a = am ? am->create(section, NULL, env->reg, &err) : NULL;
	if (!a) {
		config_scrub(&env->cfg, err.msg, sizeof(err.msg));
		fprintf(stderr, "moat: %s\n", err.msg);
		return err.rc == MOAT_EIO ? EXIT_RUNTIME : EXIT_CONFIG;
	}
	mem = open_memstream(text, &len);
	if (mem) {
		am->print(a, mem);
		fclose(mem);
	}
	am->destroy(a);
	return EXIT_OK;
}

int cmd_check(int argc, char **argv)
{
	struct cli_opts o;
	struct cli_env env;
	const struct limits *l;
	int code = cli_parse(argc, argv, false, &o);

	if (code != EXIT_OK)
		return code;
	if (o.help) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	o.roots = o.pos;
	o.nroots = o.npos;
	/* The very start-up serve runs, audit file and sandbox included (the
	 * sandbox in a child that exits at once), so check fails wherever
	 * serve would, with the same message and exit code. */
	if ((code = cli_setup(&o, true, &env)) != EXIT_OK)
		return code;
	/* The listener checked (and its port granted for the sandbox plan)
	 * and described once; the description is printed further down. */
	struct moat_err herr = {0};
	char *listen_text = NULL, *auth_text = NULL;
	size_t listen_len = 0;
	FILE *mem = open_memstream(&listen_text, &listen_len);
	enum moat_rc hrc = mem ? httpd_describe(&env.cfg, o.http, env.reg, mem, &herr)
			       : moat_err_set(&herr, MOAT_ENOMEM, "out of memory");
	if (mem)
		fclose(mem);
	if (hrc) {
		config_scrub(&env.cfg, herr.msg, sizeof(herr.msg));
		fprintf(stderr, "moat: %s\n", herr.msg);
		free(listen_text);
		cli_teardown(&env);
		return EXIT_CONFIG;
	}
	if ((code = cli_confine_trial(&env)) != EXIT_OK ||
	    (code = describe_auth(&env, &auth_text)) != EXIT_OK) {
		free(listen_text);
		cli_teardown(&env);
		return code;
	}
	l = &env.cfg.limits;
	printf("config: %s\n", o.config ? o.config : "(none: defaults)");
	printf("status: valid\n");
	/* Values that came from ${NAME} references are secrets: scrub every
	 * config-derived string before it is printed. */
	char shown[4096];
	snprintf(shown, sizeof(shown), "%s", env.cfg.server_name);
	config_scrub(&env.cfg, shown, sizeof(shown));
	printf("server: %s\n", shown);
	printf("tool families compiled in: %s\n", providers_names());
	printf("tools (%zu):\n", registry_count(env.reg));
	for (size_t i = 0; i < registry_count(env.reg); i++) {
		const struct tool *t = registry_at(env.reg, i);
		printf("  %-28s %s%s\n", t->name,
		       t->annotations.read_only == HINT_TRUE ? "read-only" : "may write",
		       t->confirm ? ", asks the person first (confirm)" : "");
	}
	if (prompts_count(registry_prompts(env.reg)) > 0) {
		const struct prompts *pt = registry_prompts(env.reg);
		printf("prompts (%zu):\n", prompts_count(pt));
		for (size_t i = 0; i < prompts_count(pt); i++)
			printf("  %-28s %s%s\n", prompts_at(pt, i)->name,
			       prompts_at(pt, i)->read_tool ? "covered by " : "",
			       prompts_at(pt, i)->read_tool ? prompts_at(pt, i)->read_tool : "");
	}
	printf("limits:\n");
	printf("  max_message_bytes      %zu\n", l->max_message_bytes);
	printf("  max_json_depth         %zu\n", l->max_json_depth);
	printf("  call_timeout_ms        %u\n", l->call_timeout_ms);
	printf("  max_output_bytes       %zu\n", l->max_output_bytes);
	printf("  max_concurrent_calls   %u\n", l->max_concurrent_calls);
	printf("  workers                %u\n", l->workers);
	printf("  calls_per_minute       %u%s\n", l->calls_per_minute,
	       l->calls_per_minute ? "" : " (unlimited)");
	printf("  tool_calls_per_minute  %u%s\n", l->tool_calls_per_minute,
	       l->tool_calls_per_minute ? "" : " (unlimited)");
	printf("  tools_page_size        %u\n", l->tools_page_size);
	printf("logging: stderr at %s and above\n", log_level_name(log_get_level()));
	snprintf(shown, sizeof(shown), "%s", env.cfg.audit_file ? env.cfg.audit_file : "off");
	config_scrub(&env.cfg, shown, sizeof(shown));
	printf("audit: %s\n", shown);
	printf("secrets from ${NAME} references: %zu (masked in all output)\n", env.cfg.nsecrets);
	print_families(&env.cfg);
	if (env.cluster)
		print_cluster(&env.cfg, env.cluster);
	if (auth_text)
		print_scrubbed(&env.cfg, auth_text);
	free(auth_text);
	print_scrubbed(&env.cfg, listen_text);
	free(listen_text);
	print_sandbox(&env.cfg, env.reg);
	cli_teardown(&env);
	return EXIT_OK;
}
