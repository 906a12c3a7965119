/*
 * cli_common.c - option parsing, start-up and the in-process client session
 * shared by the moat commands.
 *
 * Start-up is one path for every command: cli_setup runs each step `moat
 * serve` runs before it serves (config, roots, databases, modules, APIs,
 * per-tool limits, the audit file), and cli_confine applies the sandbox.
 * `moat check` runs the same two, the sandbox in a throw-away child
 * (cli_confine_trial), so check fails wherever serve would, with the same
 * message and the same exit code.
 */
#include "cli.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "jsonrpc.h"
#include "log.h"
#include "moat_build.h"
#include "numfmt.h"
#include "providers.h"
#include "sandbox.h"
#include "seal.h"
#include "store.h"

int cli_parse(int argc, char **argv, bool takes_json_value, struct cli_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->pos = argv; /* positional arguments are compacted to the front of argv */
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			o->help = true;
		} else if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) {
			if (++i >= argc)
				goto missing;
			o->config = argv[i];
		} else if (strncmp(a, "--config=", 9) == 0) {
			o->config = a + 9;
		} else if (strcmp(a, "--log-level") == 0) {
			if (++i >= argc)
				goto missing;
			o->log_level = argv[i];
		} else if (strncmp(a, "--log-level=", 12) == 0) {
			o->log_level = a + 12;
		} else if (strcmp(a, "--http") == 0) {
			if (++i >= argc)
				goto missing;
			o->http = argv[i];
		} else if (strncmp(a, "--http=", 7) == 0) {
			o->http = a + 7;
		} else if (strcmp(a, "--json") == 0) {
			/* moat call: `--json '{...}'` gives the arguments as JSON; a
			 * --json not followed by a JSON object or array only asks for
			 * JSON output (`moat call TOOL k=v --json`). */
			if (takes_json_value && i + 1 < argc &&
			    (argv[i + 1][0] == '{' || argv[i + 1][0] == '['))
				o->json_args = argv[++i];
			o->json = true;
		} else if (strcmp(a, "--") == 0) {
			while (++i < argc)
				o->pos[o->npos++] = argv[i];
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "moat: unknown option %s (see --help)\n", a);
			return EXIT_USAGE;
		} else {
			o->pos[o->npos++] = argv[i];
		}
	}
	return EXIT_OK;
missing:
	fprintf(stderr, "moat: option %s needs a value\n", argv[argc - 1]);
	return EXIT_USAGE;
}

static void scrub_cb(void *ctx, char *msg, size_t size)
{
	config_scrub(ctx, msg, size);
}

/* Per-tool overrides: limits.tools.NAME.calls_per_minute. */
static int apply_tool_limits(struct cli_env *env)
{
	json_t *lim = json_object_get(env->cfg.doc, "limits");
	json_t *tools = lim ? json_object_get(lim, "tools") : NULL;
	const char *name;
	json_t *v;

	json_object_foreach(tools, name, v) {
		struct tool *t = registry_find(env->reg, name);
		json_t *cpm = json_object_get(v, "calls_per_minute");
		if (!t) {
			fprintf(stderr, "moat: %s: /limits/tools/%s: no tool of that name is configured\n",
				env->cfg.name, name);
			return EXIT_CONFIG;
		}
		if (cpm) {
			bucket_destroy(&t->bucket);
			bucket_init(&t->bucket, (uint32_t)json_integer_value(cpm));
			bucket_set_key(&t->bucket, "tool:%s", t->name);
		}
	}
	return EXIT_OK;
}

/*
 * "cluster": the Redis store several replicas share (src/cluster/). Parsed,
 * connected (before the sandbox: its port, and the resolver for a host
 * name, are granted now) and installed as the process's store. The
 * cluster key becomes the process's seal key (apply_confirm), so each
 * replica opens what another sealed; a server.state_key beside it must be
 * the same key, or is refused (rule config.cluster_key_conflict).
 */
static int apply_cluster(struct cli_env *env)
{
	json_t *sec = json_object_get(env->cfg.doc, "cluster");
	struct moat_err err = {0};
	struct cluster_cfg cc;

	if (!sec)
		return EXIT_OK;
	if (cluster_cfg_parse(sec, &cc, &err)) {
		config_scrub(&env->cfg, err.msg, sizeof(err.msg));
		fprintf(stderr, "moat: %s: %s\n", env->cfg.name, err.msg);
		return EXIT_CONFIG;
	}
	if (env->cfg.state_key_set &&
	    memcmp(env->cfg.state_key, cc.key, sizeof(env->cfg.state_key)) != 0) {
		cluster_cfg_wipe(&cc);
		fprintf(stderr, "moat: %s: /server/state_key: differs from /cluster/key; the "
				"cluster key seals requestState too: give the key once, as "
				"cluster.key (rule config.cluster_key_conflict)\n",
			env->cfg.name);
		return EXIT_CONFIG;
	}
	env->cluster = cluster_new(&cc, env->reg, &err);
	if (env->cluster) {
		memcpy(env->cfg.state_key, cc.key, sizeof(env->cfg.state_key));
		env->cfg.state_key_set = true;
	}
	cluster_cfg_wipe(&cc);
	if (!env->cluster) {
		config_scrub(&env->cfg, err.msg, sizeof(err.msg));
		fprintf(stderr, "moat: %s: %s\n", env->cfg.name, err.msg);
		return err.rc == MOAT_EINVAL ? EXIT_CONFIG : EXIT_RUNTIME;
	}
	cluster_install(env->cluster);
	return EXIT_OK;
}

/* "confirm": {"NAME": true}: each tool, or family, that writes asks the
 * person first; and the requestState key (server.state_key) with its
 * lifetime, for the stateless era's multi-round calls. */
static int apply_confirm(struct cli_env *env)
{
	json_t *conf = json_object_get(env->cfg.doc, "confirm");
	struct moat_err err = {0};
	const char *name;
	json_t *v;

	json_object_foreach(conf, name, v) {
		if (registry_set_confirm(env->reg, name, &err)) {
			fprintf(stderr, "moat: %s: /confirm/%s: %s\n", env->cfg.name, name, err.msg);
			return EXIT_CONFIG;
		}
	}
	if (seal_configure(env->cfg.state_key_set ? env->cfg.state_key : NULL,
			   env->cfg.state_ttl_s, &err)) {
		fprintf(stderr, "moat: %s\n", err.msg);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* `moat serve DIR...`: each DIR becomes a read-only root, after any roots
 * the config declares. */
static int add_cli_roots(const struct cli_opts *o, struct cli_env *env)
{
	json_t *roots = json_object_get(env->cfg.doc, "roots");

	if (!roots) {
		roots = json_array();
		if (!roots || json_object_set_new(env->cfg.doc, "roots", roots) != 0)
			return EXIT_RUNTIME;
	}
	for (int i = 0; i < o->nroots; i++) {
		json_t *dir = json_string(o->roots[i]);
		if (!dir) {
			fprintf(stderr, "moat: directory argument %d is not valid UTF-8\n", i + 1);
			return EXIT_USAGE;
		}
		json_array_append_new(roots, dir);
	}
	return EXIT_OK;
}

/*
 * A family's start-up error, "FAMILY: MESSAGE", printed as "moat: FILE:
 * /POINTER: ..." with the pointer made absolute from the config's root: a
 * family that names a place inside its own section ("/repositories/1")
 * gets its section's key in front ("/git/repositories/1"). Messages
 * without a pointer keep the family's name. Scrubbed of secrets.
 */
static void print_family_error(const struct moat_config *cfg, const struct cli_opts *o,
			       size_t ncfg_roots, struct moat_err *err)
{
	char out[MOAT_ERR_MSG_MAX + 64], first[64];
	const char *msg = err->msg, *colon;
	size_t flen;

	config_scrub(cfg, err->msg, sizeof(err->msg));
	colon = strstr(msg, ": ");
	flen = colon ? (size_t)(colon - msg) : 0;
	if (!colon || flen == 0 || flen >= sizeof(first) || colon[2] != '/') {
		fprintf(stderr, "moat: %s: %s\n", cfg->name, msg);
		return;
	}
	memcpy(first, msg, flen);
	first[flen] = '\0'; /* the family's name */
	const char *ptr = colon + 2;
	/* A root from the command line (`moat serve DIR`) is named as given,
	 * not as a place in a config the user may not have written. */
	char *end;
	unsigned long idx = strncmp(ptr, "/roots/", 7) == 0 ? strtoul(ptr + 7, &end, 10) : 0;
	if (strncmp(ptr, "/roots/", 7) == 0 && end != ptr + 7 && idx >= ncfg_roots &&
	    idx - ncfg_roots < (unsigned long)o->nroots) {
		const char *rest = strstr(end, ": ");
		fprintf(stderr, "moat: %s: %s\n", o->roots[idx - ncfg_roots],
			rest ? rest + 2 : "cannot serve this directory");
		return;
	}
	size_t tlen = strcspn(ptr + 1, "/:");
	char token[128];
	snprintf(token, sizeof(token), "%.*s", (int)tlen, ptr + 1);
	if (!json_object_get(cfg->doc, token) && json_object_get(cfg->doc, first))
		snprintf(out, sizeof(out), "/%s%s", first, ptr);
	else
		snprintf(out, sizeof(out), "%s", ptr);
	fprintf(stderr, "moat: %s: %s\n", cfg->name, out);
}

/* Open the audit trail the config names (on by default). A trail that
 * cannot be opened stops start-up: a security tool does not serve
 * silently without the record it promised. */
static int open_audit(struct cli_env *env)
{
	const struct moat_config *c = &env->cfg;
	struct moat_err err = {0};
	struct audit_opts ao = {
		.path = c->audit_file,
		.max_bytes = c->audit_max_bytes,
		.keep = c->audit_keep,
		.make_dirs = c->audit_default,
	};

	if (!c->audit_on)
		return EXIT_OK;
	if (!c->audit_file) {
		fprintf(stderr, "moat: audit: no place for the default audit trail (neither "
				"$XDG_STATE_HOME nor a home directory is set); set \"audit\": "
				"{\"file\": \"/path/audit.jsonl\"}, or \"audit\": false to serve "
				"without one\n");
		return EXIT_RUNTIME;
	}
	env->audit = audit_open(&ao, &err);
	if (!env->audit) {
		config_scrub(c, err.msg, sizeof(err.msg));
		fprintf(stderr, "moat: %s: %s; %s\n", c->name, err.msg,
			c->audit_default
				? "set \"audit\": {\"file\": \"/writable/path/audit.jsonl\"}, or "
				  "\"audit\": false to serve without an audit trail"
				: "fix audit.file, or set \"audit\": false to serve without an "
				  "audit trail");
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

int cli_setup(const struct cli_opts *o, bool with_audit, struct cli_env *env)
{
	struct moat_err err = {0};
	enum log_level lvl;
	size_t ncfg_roots;
	int code;

	memset(env, 0, sizeof(*env));
	if (o->log_level) {
		if (!log_parse_level(o->log_level, &lvl)) {
			fprintf(stderr, "moat: --log-level must be one of debug, info, notice, warning, "
					"error, critical, alert, emergency\n");
			return EXIT_USAGE;
		}
		log_set_level(lvl);
	}
	if (o->config ? config_load_file(o->config, &env->cfg, &err)
		      : config_defaults(&env->cfg, &err)) {
		fprintf(stderr, "moat: %s\n", err.msg);
		return err.rc == MOAT_EIO ? EXIT_RUNTIME : EXIT_CONFIG;
	}
	if (!o->log_level && env->cfg.log_level_set)
		log_set_level(env->cfg.log_level);
	ncfg_roots = json_array_size(json_object_get(env->cfg.doc, "roots"));
	if (o->nroots > 0 && (code = add_cli_roots(o, env)) != EXIT_OK)
		goto fail;
	env->reg = registry_new(env->cfg.limits.tool_calls_per_minute);
	if (!env->reg) {
		code = EXIT_RUNTIME;
		goto fail;
	}
	if (providers_init(env->reg, &env->cfg, &err)) {
		print_family_error(&env->cfg, o, ncfg_roots, &err);
		code = EXIT_CONFIG;
		goto fail;
	}
	env->providers_started = true;
	if ((code = apply_tool_limits(env)) != EXIT_OK)
		goto fail;
	if ((code = apply_cluster(env)) != EXIT_OK ||
	    (code = apply_confirm(env)) != EXIT_OK)
		goto fail;
	if (with_audit && (code = open_audit(env)) != EXIT_OK)
		goto fail;
	env->sopts = (struct server_opts){
		.name = env->cfg.server_name,
		.title = "moat: secure MCP server",
		.version = MOAT_VERSION,
		.instructions = env->cfg.instructions,
		.limits = env->cfg.limits,
		.audit = env->audit,
		.scrub = scrub_cb,
		.scrub_ctx = &env->cfg,
	};
	return EXIT_OK;
fail:
	cli_teardown(env);
	return code;
}

/* The sandbox alone (the trial child starts no thread). */
static int confine_only(struct cli_env *env)
{
	struct moat_err err = {0};

	if (sandbox_confine(&env->cfg, env->reg, &err)) {
		config_scrub(&env->cfg, err.msg, sizeof(err.msg));
		fprintf(stderr, "moat: %s\n", err.msg);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

int cli_confine(struct cli_env *env)
{
	struct moat_err err = {0};
	int code = confine_only(env);

	if (code != EXIT_OK)
		return code;
	/* The sandbox is applied: the cluster's thread may start. */
	if (env->cluster && cluster_start(env->cluster, &err)) {
		fprintf(stderr, "moat: %s\n", err.msg);
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

int cli_confine_trial(struct cli_env *env)
{
	int status;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "moat: cannot start the sandbox trial: %s\n", strerror(errno));
		return EXIT_RUNTIME;
	}
	if (pid == 0) {
		/* The child is single-threaded, whatever the parent runs: confine
		 * it exactly as serve confines itself, then leave at once (no
		 * exit handlers: the parent owns every resource). Its success
		 * line is serve's business; check prints the plan itself. */
		if (log_get_level() < LOG_LVL_WARNING)
			log_set_level(LOG_LVL_WARNING);
		int code = confine_only(env);
		fflush(stderr);
		_exit(code);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "moat: the sandbox trial was lost: %s\n", strerror(errno));
			return EXIT_RUNTIME;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "moat: the sandbox trial died (signal %d)\n",
		WIFSIGNALED(status) ? WTERMSIG(status) : 0);
	return EXIT_RUNTIME;
}

void cli_teardown(struct cli_env *env)
{
	cluster_free(env->cluster); /* stops its thread, uninstalls the store */
	if (env->providers_started)
		providers_fini();
	registry_free(env->reg);
	audit_close(env->audit);
	config_free(&env->cfg);
	memset(env, 0, sizeof(*env));
}

/* ---- JSON for people ------------------------------------------------- */

/* One value at indent depth (two spaces a level), jansson's JSON_INDENT(2)
 * layout, reals through numfmt. Returns false on a write or memory error. */
static bool print_json_at(FILE *f, const json_t *v, int depth)
{
	char num[NUMFMT_MAX];
	const char *key;
	json_t *item;
	size_t i, n;
	char *s;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		if (json_object_size(v) == 0)
			return fputs("{}", f) >= 0;
		fputs("{\n", f);
		n = 0;
		json_object_foreach((json_t *)v, key, item) {
			json_t *k = json_string(key);
			s = k ? json_dumps(k, JSON_ENCODE_ANY) : NULL;
			json_decref(k);
			if (!s)
				return false;
			fprintf(f, "%*s%s: ", 2 * (depth + 1), "", s);
			free(s);
			if (!print_json_at(f, item, depth + 1))
				return false;
			fputs(++n < json_object_size(v) ? ",\n" : "\n", f);
		}
		return fprintf(f, "%*s}", 2 * depth, "") >= 0;
	case JSON_ARRAY:
		if (json_array_size(v) == 0)
			return fputs("[]", f) >= 0;
		fputs("[\n", f);
		json_array_foreach(v, i, item) {
			fprintf(f, "%*s", 2 * (depth + 1), "");
			if (!print_json_at(f, item, depth + 1))
				return false;
			fputs(i + 1 < json_array_size(v) ? ",\n" : "\n", f);
		}
		return fprintf(f, "%*s]", 2 * depth, "") >= 0;
	case JSON_REAL:
		if (numfmt_double(num, json_real_value(v)) == 0)
			return false;
		return fputs(num, f) >= 0;
	default:
		s = json_dumps(v, JSON_ENCODE_ANY);
		if (!s)
			return false;
		fputs(s, f);
		free(s);
		return true;
	}
}

bool cli_print_json(FILE *f, const json_t *v)
{
	bool ok = print_json_at(f, v, 0);

	fputc('\n', f);
	return ok;
}

/* ---- in-process session --------------------------------------------- */

struct cli_session {
	struct server *srv;
	pthread_mutex_t lock;
	pthread_cond_t arrived;
	json_t *inbox; /* responses not yet claimed */
	json_int_t next_id;
};

static void session_send(void *ctx, void *route, const char *buf, size_t len, bool final)
{
	(void)route;
	(void)final;
	if (len == 0)
		return;
	struct cli_session *cs = ctx;
	json_t *msg = json_loadb(buf, len, 0, NULL);

	if (!msg)
		return;
	if (!json_object_get(msg, "id")) { /* notifications: progress, logs */
		json_decref(msg);
		return;
	}
	pthread_mutex_lock(&cs->lock);
	json_array_append_new(cs->inbox, msg);
	pthread_cond_broadcast(&cs->arrived);
	pthread_mutex_unlock(&cs->lock);
}

json_t *cli_session_request(struct cli_session *cs, const char *method, json_t *params)
{
	json_int_t id = ++cs->next_id;
	json_t *req = json_pack("{s:s, s:I, s:s}", "jsonrpc", "2.0", "id", id, "method", method);
	json_t *resp = NULL;
	char *line;

	if (!req) {
		json_decref(params);
		return NULL;
	}
	if (params)
		json_object_set_new(req, "params", params);
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!line)
		return NULL;
	server_handle(cs->srv, line, strlen(line));
	free(line);
	pthread_mutex_lock(&cs->lock);
	while (!resp) {
		size_t i;
		json_t *m;
		json_array_foreach(cs->inbox, i, m) {
			if (json_integer_value(json_object_get(m, "id")) == id) {
				resp = json_incref(m);
				json_array_remove(cs->inbox, i);
				break;
			}
		}
		if (!resp)
			pthread_cond_wait(&cs->arrived, &cs->lock);
	}
	pthread_mutex_unlock(&cs->lock);
	return resp;
}

struct cli_session *cli_session_open(struct cli_env *env)
{
	struct cli_session *cs = calloc(1, sizeof(*cs));
	json_t *resp;

	if (!cs)
		return NULL;
	pthread_mutex_init(&cs->lock, NULL);
	pthread_cond_init(&cs->arrived, NULL);
	cs->inbox = json_array();
	cs->srv = server_new(&env->sopts, env->reg, session_send, cs);
	if (!cs->inbox || !cs->srv) {
		cli_session_close(cs);
		return NULL;
	}
	resp = cli_session_request(
		cs, "initialize",
		json_pack("{s:s, s:{}, s:{s:s, s:s}}", "protocolVersion", "2025-11-25",
			  "capabilities", "clientInfo", "name", "moat-cli", "version", MOAT_VERSION));
	if (!resp || !json_object_get(resp, "result")) {
		json_decref(resp);
		cli_session_close(cs);
		return NULL;
	}
	json_decref(resp);
	return cs;
}

void cli_session_close(struct cli_session *cs)
{
	if (!cs)
		return;
	if (cs->srv && server_shutdown(cs->srv, 0, 800))
		server_free(cs->srv);
	json_decref(cs->inbox);
	pthread_cond_destroy(&cs->arrived);
	pthread_mutex_destroy(&cs->lock);
	free(cs);
}
