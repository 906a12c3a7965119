/*
 * cli_import.c - `moat import openapi SPEC --name NAME [options]`: read an
 * OpenAPI description (a file or stdin, at most 64 MiB), import it
 * (src/import/import.h) and print the config fragment
 * {"http": {"apis": {"NAME": SECTION}}}, write it to a new file
 * (--output), or splice it into an existing config (--into,
 * src/import/import_merge.h); --list prints every operation and what
 * became of it. Files are written whole or not at all (a temporary file
 * in the same directory, then rename).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "import/import.h"
#include "import/import_merge.h"

#define CLI_IMPORT_MAX_SPEC ((size_t)64 << 20)
#define CLI_IMPORT_MAX_LIST 256 /* repeatable flags, each */

static const char help[] =
	"usage: moat import openapi SPEC --name NAME [options]\n"
	"\n"
	"Turns an OpenAPI description (3.0, 3.1 or Swagger 2.0; JSON or YAML; SPEC a\n"
	"file or - for stdin, at most 64 MiB) into an http.apis.NAME config section\n"
	"for you to review. Only GET and HEAD operations unless --allow-writes; at\n"
	"most --max-tools tools, else the import refuses and suggests --tag or\n"
	"--grouped. Nothing is fetched; credentials become ${NAME_...} placeholders.\n"
	"By default prints {\"http\": {\"apis\": {\"NAME\": ...}}} to stdout (a config\n"
	"`moat check --config` accepts as is) and the notes and the environment\n"
	"variables to set to stderr.\n"
	"\n"
	"  --name NAME           the API's name, ^[a-z][a-z0-9_]{0,31}$; tools are NAME_...\n"
	"  --base-url URL        instead of the document's servers[0]\n"
	"  --server-var K=V      a server variable (repeatable; default: its default)\n"
	"  --include GLOB        keep only operations whose operationId or path matches,\n"
	"                        or tag:NAME (repeatable)\n"
	"  --exclude GLOB        drop these (repeatable; wins over --include)\n"
	"  --tag TAG             keep only operations with one of these tags (repeatable)\n"
	"  --allow-writes        POST, PUT, PATCH and DELETE too, each asking for\n"
	"                        confirmation before it runs\n"
	"  --grouped             three tools (four with writes) in front of an\n"
	"                        \"operations\" list, for large APIs\n"
	"  --output-schemas      output schemas from the success responses\n"
	"  --max-tools N         refuse above N tools (default 40)\n"
	"  --allow-address A     an address or CIDR the API may reach although internal\n"
	"                        or loopback (repeatable; written as allow_addresses)\n"
	"  --list                print every operation: method, path, tag, tool name, and\n"
	"                        whether it is selected or why not (also when the import\n"
	"                        would refuse); writes nothing\n"
	"  --output FILE         write the config fragment to FILE (a new file; --force\n"
	"                        to overwrite)\n"
	"  --into CONFIG         put the section at http.apis.NAME of an existing config,\n"
	"                        every other byte unchanged (replaces NAME if present)\n"
	"  --force               let --output overwrite FILE\n"
	"\n"
	"exit: 0 done, 2 usage, 3 the document was refused (the message names the\n"
	"rule, docs/import.md), 4 a file could not be read or written\n";

/* The command line, strings borrowed from argv. */
struct imp_cli {
	const char *spec, *output, *into;
	bool list, force;
	struct import_opts opts;
	const char *server_vars[CLI_IMPORT_MAX_LIST];
	const char *include[CLI_IMPORT_MAX_LIST];
	const char *exclude[CLI_IMPORT_MAX_LIST];
	const char *tags[CLI_IMPORT_MAX_LIST];
	const char *addrs[CLI_IMPORT_MAX_LIST];
};

/* Append a repeatable flag's value; false (message printed) when full. */
static bool imp_push(const char **v, size_t *n, const char *flag, const char *val)
{
	if (*n >= CLI_IMPORT_MAX_LIST) {
		fprintf(stderr, "moat: import: more than %d %s flags\n", CLI_IMPORT_MAX_LIST, flag);
		return false;
	}
	v[(*n)++] = val;
	return true;
}

static int imp_usage(const char *what, const char *arg)
{
	fprintf(stderr, "moat: import: %s%s%.200s (see moat import --help)\n", what, arg ? ": " : "",
		arg ? arg : "");
	return EXIT_USAGE;
}

/* Parse argv (after "import") into c. EXIT_OK, EXIT_USAGE, or -1 for --help. */
static int imp_parse(int argc, char **argv, struct imp_cli *c)
{
	static const char *const valued[] = {"--name", "--base-url", "--server-var", "--include",
					     "--exclude", "--tag", "--max-tools", "--output",
					     "--into", "--allow-address"};
	bool kind = false;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
			return -1;
		for (size_t k = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
			if (strcmp(a, valued[k]) == 0) {
				if (i + 1 >= argc)
					return imp_usage("missing value after", a);
				v = argv[++i];
			}
		}
		if (strcmp(a, "--name") == 0) {
			c->opts.name = v;
		} else if (strcmp(a, "--base-url") == 0) {
			c->opts.base_url = v;
		} else if (strcmp(a, "--server-var") == 0) {
			if (!strchr(v, '=') || v[0] == '=')
				return imp_usage("--server-var takes NAME=VALUE, got", v);
			if (!imp_push(c->server_vars, &c->opts.nserver_vars, a, v))
				return EXIT_USAGE;
		} else if (strcmp(a, "--include") == 0) {
			if (!imp_push(c->include, &c->opts.include.n, a, v))
				return EXIT_USAGE;
		} else if (strcmp(a, "--exclude") == 0) {
			if (!imp_push(c->exclude, &c->opts.exclude.n, a, v))
				return EXIT_USAGE;
		} else if (strcmp(a, "--tag") == 0) {
			if (!imp_push(c->tags, &c->opts.tags.n, a, v))
				return EXIT_USAGE;
		} else if (strcmp(a, "--allow-address") == 0) {
			if (!imp_push(c->addrs, &c->opts.nallow_addresses, a, v))
				return EXIT_USAGE;
		} else if (strcmp(a, "--max-tools") == 0) {
			char *end;
			errno = 0;
			long long n = strtoll(v, &end, 10);
			if (errno || end == v || *end || n < 1 || n > 100000)
				return imp_usage("--max-tools takes a number from 1 to 100000, got", v);
			c->opts.max_tools = (size_t)n;
		} else if (strcmp(a, "--output") == 0) {
			c->output = v;
		} else if (strcmp(a, "--into") == 0) {
			c->into = v;
		} else if (strcmp(a, "--allow-writes") == 0) {
			c->opts.allow_writes = true;
		} else if (strcmp(a, "--grouped") == 0) {
			c->opts.grouped = true;
		} else if (strcmp(a, "--output-schemas") == 0) {
			c->opts.output_schemas = true;
		} else if (strcmp(a, "--list") == 0) {
			c->list = true;
		} else if (strcmp(a, "--force") == 0) {
			c->force = true;
		} else if (v) {
			/* a valued flag already handled above */
		} else if (a[0] == '-' && a[1] != '\0') {
			return imp_usage("unknown option", a);
		} else if (!kind) {
			if (strcmp(a, "openapi") != 0)
				return imp_usage("unknown import kind (only 'openapi')", a);
			kind = true;
		} else if (!c->spec) {
			c->spec = a;
		} else {
			return imp_usage("unexpected argument", a);
		}
	}
	if (!kind)
		return imp_usage("what to import? moat import openapi SPEC --name NAME", NULL);
	if (!c->spec)
		return imp_usage("missing SPEC (a file, or - for stdin)", NULL);
	if (!c->opts.name)
		return imp_usage("missing --name NAME", NULL);
	if (c->output && c->into)
		return imp_usage("--output and --into exclude each other", NULL);
	if (c->list && (c->output || c->into))
		return imp_usage("--list writes nothing; drop --output/--into", NULL);
	if (c->force && !c->output)
		return imp_usage("--force only goes with --output", NULL);
	c->opts.server_vars = c->server_vars;
	c->opts.include.v = c->include;
	c->opts.exclude.v = c->exclude;
	c->opts.tags.v = c->tags;
	c->opts.allow_addresses = c->addrs;
	return EXIT_OK;
}

/* ---- files ----------------------------------------------------------- */

/*
 * imp_read - the whole of path ("-": stdin), at most max bytes, into a
 * malloc'd buffer (NUL-terminated). EXIT_OK, EXIT_CONFIG (too large, the
 * message names import.too_large) or EXIT_RUNTIME (printed).
 */
static int imp_read(const char *path, size_t max, char **buf, size_t *len)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	size_t cap = 1 << 16, n = 0;
	char *p = NULL;
	int rc = EXIT_OK;

	*buf = NULL;
	if (!f) {
		fprintf(stderr, "moat: import: %.200s: %s\n", path, strerror(errno));
		return EXIT_RUNTIME;
	}
	p = malloc(cap);
	while (p) {
		if (n == cap) {
			size_t ncap = cap * 2 > max + 2 ? max + 2 : cap * 2;
			char *np = ncap > cap ? realloc(p, ncap) : NULL;
			if (!np) {
				free(p);
				p = NULL;
				break;
			}
			p = np;
			cap = ncap;
		}
		/* Read at most max + 1 bytes: one past the cap tells "too large". */
		size_t want = cap - n < max + 1 - n ? cap - n : max + 1 - n;
		size_t got = want ? fread(p + n, 1, want, f) : 0;
		n += got;
		if (n > max || got == 0)
			break;
	}
	if (!p) {
		fprintf(stderr, "moat: import: %.200s: out of memory\n", path);
		rc = EXIT_RUNTIME;
	} else if (ferror(f)) {
		fprintf(stderr, "moat: import: %.200s: %s\n", path, strerror(errno));
		rc = EXIT_RUNTIME;
	} else if (n > max) {
		fprintf(stderr,
			"moat: import: refused by rule import.too_large: %.200s is larger than "
			"%zu MiB; import a smaller document (split it, or drop what you do not "
			"need)\n",
			path, max >> 20);
		rc = EXIT_CONFIG;
	}
	if (!is_stdin)
		fclose(f);
	if (rc != EXIT_OK) {
		free(p);
		return rc;
	}
	if (n == cap) {
		char *np = realloc(p, n + 1);
		if (!np) {
			free(p);
			fprintf(stderr, "moat: import: %.200s: out of memory\n", path);
			return EXIT_RUNTIME;
		}
		p = np;
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return EXIT_OK;
}

/*
 * imp_write - replace path with text[0..len) atomically: a temporary file
 * beside it, written, flushed to disk, given mode, then renamed over path.
 * EXIT_OK or EXIT_RUNTIME (printed; path untouched).
 */
static int imp_write(const char *path, const char *text, size_t len, mode_t mode)
{
	char tmp[4096];
	int fd, n = snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path);
	size_t off = 0;

	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		fprintf(stderr, "moat: import: %.200s: path too long\n", path);
		return EXIT_RUNTIME;
	}
	fd = mkstemp(tmp);
	if (fd < 0)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (fchmod(fd, mode) != 0 || fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	return EXIT_OK;
fail:
	fprintf(stderr, "moat: import: cannot write %.200s: %s\n", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return EXIT_RUNTIME;
}

/* ---- output ---------------------------------------------------------- */

/* One --list line a operation; column widths from the longest (capped). */
static void imp_print_list(const struct import_result *r)
{
	int wm = 6, wp = 4, wt = 3, wn = 4;

	for (size_t i = 0; i < r->nops; i++) {
		const struct import_op *op = &r->ops[i];
		int l;
		if ((l = (int)strlen(op->method ? op->method : "")) > wm)
			wm = l;
		if ((l = (int)strlen(op->path ? op->path : "")) > wp)
			wp = l;
		if ((l = (int)strlen(op->tag ? op->tag : "-")) > wt)
			wt = l;
		if ((l = (int)strlen(op->tool ? op->tool : "-")) > wn)
			wn = l;
	}
	wp = wp > 60 ? 60 : wp;
	wt = wt > 24 ? 24 : wt;
	wn = wn > 64 ? 64 : wn;
	printf("%-*s  %-*s  %-*s  %-*s  %s\n", wm, "METHOD", wp, "PATH", wt, "TAG", wn, "TOOL",
	       "SELECTED");
	for (size_t i = 0; i < r->nops; i++) {
		const struct import_op *op = &r->ops[i];
		printf("%-*s  %-*s  %-*.*s  %-*s  %s%s\n", wm, op->method ? op->method : "?", wp,
		       op->path ? op->path : "?", wt, wt, op->tag ? op->tag : "-", wn,
		       op->tool ? op->tool : "-", op->selected ? "yes" : "no: ",
		       op->selected ? "" : (op->why ? op->why : "not selected"));
	}
}

/* The refusal, with its rule. */
static int imp_refused(const char *spec, const struct moat_err *err)
{
	if (err->rule)
		fprintf(stderr, "moat: import: refused by rule %s: %s\n", err->rule, err->msg);
	else
		fprintf(stderr, "moat: import: %.200s: %s\n", spec, err->msg);
	return err->rc == MOAT_ENOMEM || err->rc == MOAT_EIO || err->rc == MOAT_EINTERNAL
		       ? EXIT_RUNTIME
		       : EXIT_CONFIG;
}

/* What was imported, the notes and the variables to set, on stderr. */
static void imp_print_summary(const struct imp_cli *c, const struct import_result *r)
{
	fprintf(stderr, "moat: import: \"%s\" (OpenAPI %s): %zu operations, %zu %s\n",
		r->title ? r->title : "untitled", r->version ? r->version : "?", r->nops, r->ntools,
		c->opts.grouped ? "operations behind the grouped tools" : "tools");
	for (char **n = r->notes; n && *n; n++)
		fprintf(stderr, "  note: %s\n", *n);
	if (r->env && r->env[0]) {
		fprintf(stderr, "  set in the environment (or .env):");
		for (char **e = r->env; *e; e++)
			fprintf(stderr, " %s", *e);
		fputc('\n', stderr);
	}
}

/* The config fragment {"http": {"apis": {NAME: section}}} as text. */
static char *imp_fragment(const char *name, json_t *section)
{
	json_t *frag = json_pack("{s:{s:{s:O}}}", "http", "apis", name, section);
	char *text = frag ? import_section_text(frag) : NULL;

	json_decref(frag);
	return text;
}

/* --into: splice the section into the config at path. */
static int imp_into(const struct imp_cli *c, const json_t *section)
{
	static const char *const how_text[] = {
		[IMPORT_MERGE_REPLACED] = "replaced the existing",
		[IMPORT_MERGE_ADDED_API] = "added",
		[IMPORT_MERGE_ADDED_APIS] = "added \"apis\" and",
		[IMPORT_MERGE_ADDED_HTTP] = "added \"http\" and",
	};
	struct moat_err err = {0};
	struct stat st;
	char *cfg = NULL, *out = NULL;
	size_t len = 0, outlen = 0;
	enum import_merge_how how;
	int rc;

	if (stat(c->into, &st) != 0) {
		fprintf(stderr, "moat: import: %.200s: %s\n", c->into, strerror(errno));
		return EXIT_RUNTIME;
	}
	rc = imp_read(c->into, CLI_IMPORT_MAX_SPEC, &cfg, &len);
	if (rc != EXIT_OK)
		goto out;
	if (import_merge(cfg, len, c->opts.name, section, &out, &outlen, &how, NULL, NULL, &err) !=
	    MOAT_OK) {
		fprintf(stderr, "moat: import: %.200s: not changed, refused by rule %s: %s\n", c->into,
			err.rule ? err.rule : "-", err.msg);
		rc = err.rc == MOAT_ENOMEM || err.rc == MOAT_EINTERNAL ? EXIT_RUNTIME : EXIT_CONFIG;
		goto out;
	}
	rc = imp_write(c->into, out, outlen, st.st_mode & 07777);
	if (rc == EXIT_OK)
		fprintf(stderr, "moat: import: %.200s: %s http.apis.%s\n", c->into, how_text[how],
			c->opts.name);
out:
	free(cfg);
	free(out);
	return rc;
}

/* The fragment to stdout, or to a new file (--output). */
static int imp_emit(const struct imp_cli *c, json_t *section)
{
	char *text = imp_fragment(c->opts.name, section);
	int rc = EXIT_OK;
	mode_t mask;

	if (!text) {
		fprintf(stderr, "moat: import: out of memory\n");
		return EXIT_RUNTIME;
	}
	if (!c->output) {
		if (fputs(text, stdout) == EOF || fflush(stdout) != 0) {
			fprintf(stderr, "moat: import: writing stdout: %s\n", strerror(errno));
			rc = EXIT_RUNTIME;
		}
		goto out;
	}
	if (!c->force && access(c->output, F_OK) == 0) {
		fprintf(stderr, "moat: import: %.200s exists; --force to overwrite it, or --into "
				"to merge into it\n",
			c->output);
		rc = EXIT_RUNTIME;
		goto out;
	}
	mask = umask(0);
	umask(mask);
	rc = imp_write(c->output, text, strlen(text), 0666 & ~mask);
	if (rc == EXIT_OK)
		fprintf(stderr, "moat: import: wrote %.200s\n", c->output);
out:
	free(text);
	return rc;
}

int cmd_import(int argc, char **argv)
{
	struct imp_cli *c = calloc(1, sizeof(*c));
	struct import_result r = {0};
	struct moat_err err = {0};
	char *spec = NULL;
	size_t len = 0;
	int rc;

	if (!c) {
		fprintf(stderr, "moat: import: out of memory\n");
		return EXIT_RUNTIME;
	}
	rc = imp_parse(argc, argv, c);
	if (rc < 0) {
		fputs(help, stdout);
		rc = EXIT_OK;
		goto out;
	}
	if (rc != EXIT_OK)
		goto out;
	if (c->into && access(c->into, R_OK | W_OK) != 0) {
		fprintf(stderr, "moat: import: %.200s: %s (--into takes an existing config; "
				"use --output FILE for a new one)\n",
			c->into, strerror(errno));
		rc = EXIT_RUNTIME;
		goto out;
	}
	rc = imp_read(c->spec, CLI_IMPORT_MAX_SPEC, &spec, &len);
	if (rc != EXIT_OK)
		goto out;
	if (import_openapi(spec, len, &c->opts, &r, &err) != MOAT_OK) {
		if (c->list && r.nops > 0) {
			imp_print_list(&r);
			fprintf(stderr, "moat: import: as given, the import would be refused by rule "
					"%s: %s\n",
				err.rule ? err.rule : "-", err.msg);
			rc = EXIT_OK;
		} else {
			rc = imp_refused(c->spec, &err);
		}
		goto out;
	}
	if (c->list) {
		imp_print_list(&r);
		rc = EXIT_OK;
		goto out;
	}
	imp_print_summary(c, &r);
	rc = c->into ? imp_into(c, r.section) : imp_emit(c, r.section);
out:
	import_result_free(&r);
	free(spec);
	free(c);
	return rc;
}
