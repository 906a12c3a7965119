/*
 * cli_serve.c - `moat serve`: run the configured tools over stdio, or over
 * Streamable HTTP when --http or listen.http names an address.
 */
#include <stdio.h>
#include <unistd.h>

#include "auth/auth.h"
#include "cli.h"
#include "http_listener.h"
#include "providers.h"
#include "log.h"
#include "metrics.h"
#include "stdio_transport.h"

static const char help[] =
	"usage: moat serve [DIR...] [--config FILE] [--log-level LEVEL] [--log-format text|json]\n"
	"                  [--http ADDR:PORT]\n"
	"\n"
	"Serves every tool the config declares over stdio (newline-delimited JSON-RPC).\n"
	"Each DIR is served read-only by the filesystem tools (a drop-in for the\n"
	"reference filesystem server: `moat serve ~/projects`).\n"
	"stdout carries protocol messages only; logs go to stderr.\n"
	"Claude Desktop / Claude Code entry:\n"
	"  {\"command\": \"moat\", \"args\": [\"serve\", \"--config\", \"/abs/moat.json\"]}\n"
	"\n"
	"--http ADDR:PORT (or \"listen\": {\"http\": ...} in the config) serves MCP\n"
	"Streamable HTTP at http://ADDR:PORT/mcp instead (docs/http.md); port 0 picks\n"
	"a free port, printed as `moat: listening on URL`. Without an \"auth\" section\n"
	"only a loopback address is allowed. SIGTERM drains: /readyz turns 503, calls in\n"
	"flight finish within listen.drain_s, then moat exits 0.\n"
	"\n"
	"MOAT_CONFIG, MOAT_HTTP, MOAT_LOG_LEVEL and MOAT_LOG_FORMAT stand for the flags\n"
	"(a flag given wins).\n";

/* Serve over HTTP until SIGTERM/SIGINT. */
static int serve_http(const struct cli_opts *o, struct cli_env *env)
{
	struct moat_err err = {0};
	struct metrics *m = metrics_new(env->reg);
	json_t *section = json_object_get(env->cfg.doc, "auth");
	const struct auth_module *am = NULL;
	struct auth *a = NULL;
	struct httpd_listener_opts ho = {
		.cfg = &env->cfg,
		.cli_addr = o->http,
		.reg = env->reg,
		.sopts = &env->sopts,
		.metrics = m,
	};
	struct httpd_listener *l = NULL;
	int code = EXIT_OK;

	/* The checker (src/auth/, loaded as moat_auth.so only when the config
	 * has an "auth" section) before the sandbox: it reads its JWKS file or
	 * fetches its URL now. Its resource URL follows once the port is bound. */
	if (section) {
		am = modules_symbol("moat_auth.so", "auth_module", &err);
		a = am ? am->create(section, NULL, env->reg, &err) : NULL;
		if (!a)
			goto fail_config;
		am->wipe_section(section);
		ho.auth = (struct httpd_auth_hook){am->authenticate, am->metadata, a};
	}
	/* Bound, and TLS files read, before the sandbox; no thread yet. */
	l = httpd_prepare(&ho, &err);
	if (!l || (a && am->set_resource_url(a, httpd_url(l), &err)))
		goto fail_config;
	if ((code = cli_confine(env)) != EXIT_OK)
		goto out;
	if (registry_count(env->reg) == 0)
		log_warn("no tools are configured; clients will see an empty tool list");
	switch (httpd_run(l)) {
	case 0:
		code = EXIT_OK;
		break;
	case 1:
		audit_flush(env->audit);
		_exit(EXIT_OK); /* a handler still runs; the kernel cleans up */
	default:
		code = EXIT_RUNTIME;
		break;
	}
	goto out;
fail_config:
	config_scrub(&env->cfg, err.msg, sizeof(err.msg));
	log_line(LOG_LVL_ERROR, "%s", err.msg);
	code = err.rc == MOAT_EIO ? EXIT_RUNTIME : EXIT_CONFIG;
out:
	httpd_free(l);
	if (a)
		am->destroy(a);
	metrics_free(m);
	return code;
}

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
	if (httpd_wanted(&env.cfg, o.http)) {
		code = serve_http(&o, &env);
		cli_teardown(&env);
		return code;
	}
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
