/*
 * cli_audit.c - `moat audit verify|tail|summary`: the options they share,
 * finding the trail (FILE arguments, the trail --config names, or the
 * default location), the record filter, and `verify`, which walks the hash
 * chain (audit_chain.c) and names the first line where it breaks.
 * `tail` and `summary` live in cli_audit_show.c. Reads only: nothing here
 * writes to the trail.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cli_audit.h"
#include "config.h"

static const char help[] =
	"usage: moat audit verify [FILE...] [--config FILE] [--json]\n"
	"       moat audit tail [-n N] [-f] [FILTERS] [--utc] [--json] [--config FILE] [FILE...]\n"
	"       moat audit summary [--since DURATION] [--top N] [FILTERS] [--utc] [--json]\n"
	"                          [--config FILE] [FILE...]\n"
	"\n"
	"Reads the audit trail: FILE arguments (oldest first: audit.jsonl.2 audit.jsonl.1\n"
	"audit.jsonl), else the trail the config names with its rotated files, else the\n"
	"default ($XDG_STATE_HOME/moat/audit.jsonl, or ~/.local/state/moat/audit.jsonl).\n"
	"\n"
	"  verify    check the hash chain; print the first line where it breaks\n"
	"            (exit 0 intact, 1 broken, 4 unreadable)\n"
	"  tail      the last N records (default 20), -f to keep following\n"
	"  summary   calls per tool, outcomes, refusals per rule, principals and clients,\n"
	"            and the paths, tables, repositories and hosts touched most\n"
	"\n"
	"filters (exact match, tail and summary): --tool NAME, --outcome OUTCOME,\n"
	"  --rule RULE_ID, --principal NAME, --since DURATION (30s, 15m, 1h, 2d, 1w) or\n"
	"  --since TIME (2026-12-06T05:00:00Z)\n"
	"  --utc     times in UTC (default: local time)\n"
	"  --json    machine-readable: records as stored (tail), one object (verify, summary)\n";

/* ---- times ------------------------------------------------------------ */

/* "2026-12-06T05:02:13.006865Z" (or without fraction) -> µs, or -1. */
static int64_t parse_rfc3339(const char *s)
{
	struct tm tm = {0};
	const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	int64_t frac = 0, scale = 1000000;

	if (!p)
		return -1;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			if (scale > 1) {
				scale /= 10;
				frac += (*p - '0') * scale;
			}
		}
	}
	if (strcmp(p, "Z") != 0)
		return -1;
	return (int64_t)timegm(&tm) * 1000000 + frac;
}

int64_t audit_cli_time(const json_t *rec)
{
	const char *t = json_string_value(json_object_get(rec, "time"));

	return t ? parse_rfc3339(t) : -1;
}

void audit_cli_fmt_time(const struct audit_cli *o, int64_t us, char *buf, size_t size)
{
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;
	char day[40];

	if (us < 0) {
		snprintf(buf, size, "%-23s", "?");
		return;
	}
	if (o->utc)
		gmtime_r(&sec, &tm);
	else
		localtime_r(&sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm);
	snprintf(buf, size, "%s.%03d%s", day, (int)(us % 1000000 / 1000), o->utc ? "Z" : "");
}

/* --since: "90s", "15m", "1h", "2d", "1w" before now, or an RFC 3339 time. */
static bool parse_since(const char *s, int64_t *out)
{
	char *end;
	long long n;
	int64_t unit;
	struct timespec now;

	if (strchr(s, 'T')) {
		*out = parse_rfc3339(s);
		return *out >= 0;
	}
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || end == s || n < 0 || n > 100000000)
		return false;
	switch (*end) {
	case 's':
		unit = 1;
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	case 'w':
		unit = 7 * 86400;
		break;
	default:
		return false;
	}
	if (end[1] != '\0')
		return false;
	clock_gettime(CLOCK_REALTIME, &now);
	*out = ((int64_t)now.tv_sec - (int64_t)n * unit) * 1000000 + now.tv_nsec / 1000;
	return true;
}

bool audit_cli_match(const struct audit_cli *o, const json_t *rec)
{
	static const char *const keys[] = {"tool", "outcome", "rule", "principal"};
	const char *want[] = {o->tool, o->outcome, o->rule, o->principal};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *v = json_string_value(json_object_get(rec, keys[i]));
		if (want[i] && (!v || strcmp(v, want[i]) != 0))
			return false;
	}
	return !o->has_since || audit_cli_time(rec) >= o->since_us;
}

/* ---- options and the trail ---------------------------------------------- */

/* The value of option argv[*i] ("--opt VALUE" or "--opt=VALUE"), or NULL
 * when a is not that option. Sets *missing when the value is absent. */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = true;
		return NULL;
	}
	return argv[++*i];
}

static bool parse_count(const char *s, size_t *out)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || end == s || *end || n < 0 || n > 10000000)
		return false;
	*out = (size_t)n;
	return true;
}

/* Parse argv (after the subcommand word); positional FILEs are compacted
 * to the front of argv and counted in *nfiles. */
static int parse(int argc, char **argv, struct audit_cli *o, int *nfiles, bool *help_out)
{
	*nfiles = 0;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v;
		bool missing = false;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			*help_out = true;
		} else if (strcmp(a, "--json") == 0) {
			o->json = true;
		} else if (strcmp(a, "--utc") == 0) {
			o->utc = true;
		} else if (strncmp(a, "-n", 2) == 0 && a[2] >= '0' && a[2] <= '9') {
			if (!parse_count(a + 2, &o->lines)) {
				fprintf(stderr, "moat: audit: -n wants a count, not '%.64s'\n", a + 2);
				return EXIT_USAGE;
			}
		} else if (strcmp(a, "-f") == 0 || strcmp(a, "--follow") == 0) {
			o->follow = true;
		} else if ((v = opt_value(argc, argv, &i, "--config", &missing)) ||
			   (v = opt_value(argc, argv, &i, "-c", &missing))) {
			o->config = v;
		} else if ((v = opt_value(argc, argv, &i, "-n", &missing)) ||
			   (v = opt_value(argc, argv, &i, "--lines", &missing))) {
			if (!parse_count(v, &o->lines)) {
				fprintf(stderr, "moat: audit: -n wants a count, not '%.64s'\n", v);
				return EXIT_USAGE;
			}
		} else if ((v = opt_value(argc, argv, &i, "--top", &missing))) {
			if (!parse_count(v, &o->top)) {
				fprintf(stderr, "moat: audit: --top wants a count, not '%.64s'\n", v);
				return EXIT_USAGE;
			}
		} else if ((v = opt_value(argc, argv, &i, "--since", &missing))) {
			if (!parse_since(v, &o->since_us)) {
				fprintf(stderr, "moat: audit: --since wants 30s, 15m, 1h, 2d, 1w or "
						"2026-12-06T05:00:00Z, not '%.64s'\n", v);
				return EXIT_USAGE;
			}
			o->has_since = true;
			o->since_text = v;
		} else if ((v = opt_value(argc, argv, &i, "--tool", &missing))) {
			o->tool = v;
		} else if ((v = opt_value(argc, argv, &i, "--outcome", &missing))) {
			o->outcome = v;
		} else if ((v = opt_value(argc, argv, &i, "--rule", &missing))) {
			o->rule = v;
		} else if ((v = opt_value(argc, argv, &i, "--principal", &missing))) {
			o->principal = v;
		} else if (missing) {
			fprintf(stderr, "moat: audit: option %s needs a value\n", a);
			return EXIT_USAGE;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr, "moat: audit: unknown option %.64s (see moat audit --help)\n", a);
			return EXIT_USAGE;
		} else {
			argv[(*nfiles)++] = argv[i];
		}
	}
	return EXIT_OK;
}

/* The trail to read: FILE arguments, or the configured or default one
 * with its rotated files. */
static int find_trail(struct audit_cli *o, char **files, int nfiles)
{
	struct moat_config cfg = {0};
	struct moat_err err = {0};
	char def[PATH_MAX];
	const char *path = NULL;
	int code = EXIT_OK;

	if (nfiles > 0) {
		o->explicit_files = true;
		o->files.paths = calloc((size_t)nfiles, sizeof(char *));
		if (!o->files.paths)
			return EXIT_RUNTIME;
		for (int i = 0; i < nfiles; i++)
			if (!(o->files.paths[o->files.n++] = strdup(files[i])))
				return EXIT_RUNTIME;
		return EXIT_OK;
	}
	if (o->config) {
		if (config_load_file(o->config, &cfg, &err)) {
			fprintf(stderr, "moat: %s\n", err.msg);
			return err.rc == MOAT_EIO ? EXIT_RUNTIME : EXIT_CONFIG;
		}
		if (!cfg.audit_on) {
			fprintf(stderr, "moat: audit: the audit trail is off in %s (\"audit\": false)\n",
				o->config);
			code = EXIT_CONFIG;
			goto out;
		}
		path = cfg.audit_file;
	} else if (config_audit_default(def, sizeof(def))) {
		path = def;
	}
	if (!path) {
		fprintf(stderr, "moat: audit: no default trail (neither $XDG_STATE_HOME nor a home "
				"directory); name the FILE\n");
		code = EXIT_USAGE;
		goto out;
	}
	if (audit_files_list(path, &o->files, &err)) {
		fprintf(stderr, "moat: %s\n", err.msg);
		code = EXIT_RUNTIME;
	}
out:
	config_free(&cfg);
	return code;
}

/* ---- verify --------------------------------------------------------------- */

static int verify(struct audit_cli *o)
{
	struct audit_verdict v;
	struct moat_err err = {0};
	json_t *out;

	if (audit_verify((const char *const *)o->files.paths, o->files.n, &v, &err)) {
		fprintf(stderr, "moat: audit verify: %s\n", err.msg);
		return EXIT_RUNTIME;
	}
	if (o->json) {
		out = json_pack("{s:b, s:I, s:b}", "intact", v.intact, "lines", (json_int_t)v.lines,
				"from_start", v.from_start);
		if (out && !v.intact) {
			json_object_set_new(out, "file", json_string(o->files.paths[v.bad_file]));
			json_object_set_new(out, "line", json_integer((json_int_t)v.bad_line));
			json_object_set_new(out, "why", json_string(v.why));
		}
		if (out) {
			json_dumpf(out, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
			fputc('\n', stdout);
		}
		json_decref(out);
	} else if (v.intact) {
		printf("intact: %zu line%s in %zu file%s; %s\n", v.lines, v.lines == 1 ? "" : "s",
		       o->files.n, o->files.n == 1 ? "" : "s",
		       v.lines == 0 ? "empty"
		       : v.from_start
			       ? "starts at the beginning of the trail"
			       : "the first line continues an older file that was not given (rotated "
				 "away?)");
	} else {
		printf("%s:%zu: %s\n", o->files.paths[v.bad_file], v.bad_line, v.why);
		printf("broken after %zu chained line%s\n", v.lines,
		       v.lines == 1 ? "" : "s");
	}
	return v.intact ? EXIT_OK : EXIT_TOOL_ERROR;
}

int cmd_audit(int argc, char **argv)
{
	struct audit_cli o = {.lines = 20, .top = 10};
	const char *sub = argc > 0 ? argv[0] : NULL;
	bool want_help = false;
	int nfiles = 0, code;

	if (!sub || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 ||
	    strcmp(sub, "help") == 0) {
		fputs(help, sub ? stdout : stderr);
		return sub ? EXIT_OK : EXIT_USAGE;
	}
	if (strcmp(sub, "verify") != 0 && strcmp(sub, "tail") != 0 &&
	    strcmp(sub, "summary") != 0) {
		fprintf(stderr, "moat: audit: unknown subcommand '%.64s' (verify, tail or summary)\n",
			sub);
		return EXIT_USAGE;
	}
	if ((code = parse(argc - 1, argv + 1, &o, &nfiles, &want_help)) != EXIT_OK)
		return code;
	if (want_help) {
		fputs(help, stdout);
		return EXIT_OK;
	}
	if ((code = find_trail(&o, argv + 1, nfiles)) != EXIT_OK)
		goto out;
	if (strcmp(sub, "verify") == 0)
		code = verify(&o);
	else if (strcmp(sub, "tail") == 0)
		code = audit_cli_tail(&o);
	else
		code = audit_cli_summary(&o);
out:
	audit_files_free(&o.files);
	return code;
}
