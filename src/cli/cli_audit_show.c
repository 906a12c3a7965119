/*
 * cli_audit_show.c - `moat audit tail` and `moat audit summary`: the trail
 * shown to a person (aligned columns, local or UTC times, durations and
 * sizes at a readable precision) or, with --json, to a program. Both
 * stream the files line by line; tail keeps only the last N matching
 * lines, summary only counters.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_audit.h"

/* ---- formatting ------------------------------------------------------- */

/* 174 -> "0.174 ms", 12345 -> "12.3 ms", 2500000 -> "2.50 s". */
static void fmt_us(uint64_t us, char *buf, size_t size)
{
	if (us < 10000)
		snprintf(buf, size, "%.3f ms", (double)us / 1000.0);
	else if (us < 1000000)
		snprintf(buf, size, "%.1f ms", (double)us / 1000.0);
	else
		snprintf(buf, size, "%.2f s", (double)us / 1e6);
}

static void fmt_bytes(uint64_t n, char *buf, size_t size)
{
	if (n < 1024)
		snprintf(buf, size, "%" PRIu64 " B", n);
	else if (n < 1024 * 1024)
		snprintf(buf, size, "%.1f KiB", (double)n / 1024.0);
	else
		snprintf(buf, size, "%.1f MiB", (double)n / (1024.0 * 1024.0));
}

static const char *str(const json_t *rec, const char *key)
{
	const char *v = json_string_value(json_object_get(rec, key));

	return v ? v : "";
}

/* "key=value key=a,b" of touched into f; values as stored. */
static void print_touched(FILE *f, const json_t *touched)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)touched, key, v) {
		fprintf(f, " %s=", key);
		if (json_is_array(v)) {
			size_t i;
			json_t *el;
			json_array_foreach(v, i, el)
				fprintf(f, "%s%s", i ? "," : "", json_string_value(el) ? json_string_value(el) : "?");
		} else if (json_is_string(v)) {
			fputs(json_string_value(v), f);
		} else {
			fputs("?", f);
		}
	}
}

static void print_header(const struct audit_cli *o)
{
	printf("%-*s  %-10s %-24s %-9s %10s %9s  %s\n", o->utc ? 24 : 23, "TIME", "PRINCIPAL",
	       "TOOL", "OUTCOME", "DURATION", "BYTES", "RULE / TOUCHED");
}

static void print_record(const struct audit_cli *o, const json_t *rec)
{
	char when[64], dur[32], bytes[32], tool[80];
	const char *rule = str(rec, "rule");
	const json_t *touched = json_object_get(rec, "touched");

	audit_cli_fmt_time(o, audit_cli_time(rec), when, sizeof(when));
	fmt_us((uint64_t)json_integer_value(json_object_get(rec, "duration_us")), dur, sizeof(dur));
	fmt_bytes((uint64_t)json_integer_value(json_object_get(rec, "bytes_out")), bytes,
		  sizeof(bytes));
	if (*str(rec, "tool"))
		snprintf(tool, sizeof(tool), "%s", str(rec, "tool"));
	else
		snprintf(tool, sizeof(tool), "(%s)", *str(rec, "kind") ? str(rec, "kind") : "?");
	printf("%s  %-10s %-24s %-9s %10s %9s", when, str(rec, "principal"), tool,
	       str(rec, "outcome"), dur, bytes);
	if (*rule || json_object_size(touched) > 0)
		putchar(' ');
	if (*rule)
		printf(" rule=%s", rule);
	if (json_is_object(touched))
		print_touched(stdout, touched);
	putchar('\n');
}

/* ---- reading ------------------------------------------------------------- */

/* Called per record that passes the filters; line is as stored. */
typedef void (*record_fn)(void *ctx, const char *line, size_t len, const json_t *rec);

/* Stream one file. A missing file of the configured trail is an empty
 * one; a missing FILE argument is an error. */
static int each_record(const struct audit_cli *o, const char *path, record_fn fn, void *ctx,
		       size_t *bad)
{
	FILE *in = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;

	if (!in) {
		if (errno == ENOENT && !o->explicit_files)
			return EXIT_OK;
		fprintf(stderr, "moat: audit: %s: %s\n", path, strerror(errno));
		return EXIT_RUNTIME;
	}
	while ((len = getline(&line, &cap, in)) >= 0) {
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		json_t *rec = (size_t)len <= AUDIT_LINE_MAX ? json_loadb(line, (size_t)len, 0, NULL)
							    : NULL;
		if (!json_is_object(rec)) {
			(*bad)++;
		} else if (audit_cli_match(o, rec)) {
			fn(ctx, line, (size_t)len, rec);
		}
		json_decref(rec);
	}
	free(line);
	fclose(in);
	return EXIT_OK;
}

/* ---- tail ------------------------------------------------------------------ */

/* The last cap matching lines of one file, oldest first from head. */
struct ring {
	char **v;
	size_t cap, n, head;
};

static void ring_push(void *ctx, const char *line, size_t len, const json_t *rec)
{
	struct ring *r = ctx;
	char *copy = strndup(line, len);

	(void)rec;
	if (!copy || r->cap == 0) {
		free(copy);
		return;
	}
	if (r->n == r->cap) {
		free(r->v[r->head]);
		r->v[r->head] = copy;
		r->head = (r->head + 1) % r->cap;
	} else {
		r->v[(r->head + r->n) % r->cap] = copy;
		r->n++;
	}
}

static void show_line(const struct audit_cli *o, const char *line, size_t len)
{
	json_t *rec;

	if (o->json) {
		printf("%.*s\n", (int)len, line);
		return;
	}
	rec = json_loadb(line, len, 0, NULL);
	if (rec)
		print_record(o, rec);
	json_decref(rec);
}

/* Read what fd holds past *off into the pending bytes and show each
 * complete line that passes the filters. */
static void follow_read(struct audit_cli *o, int fd, off_t *off, char **pend, size_t *plen)
{
	char buf[65536];
	ssize_t got;
	size_t start = 0;

	while ((got = pread(fd, buf, sizeof(buf), *off)) > 0) {
		char *np = realloc(*pend, *plen + (size_t)got);
		if (!np)
			return;
		*pend = np;
		memcpy(*pend + *plen, buf, (size_t)got);
		*plen += (size_t)got;
		*off += got;
	}
	for (size_t i = 0; i < *plen; i++) {
		if ((*pend)[i] != '\n')
			continue;
		json_t *rec = json_loadb(*pend + start, i - start, 0, NULL);
		if (json_is_object(rec) && audit_cli_match(o, rec))
			show_line(o, *pend + start, i - start);
		json_decref(rec);
		start = i + 1;
	}
	memmove(*pend, *pend + start, *plen - start);
	*plen -= start;
}

/* tail -f: poll the newest file; when rotation renames it, finish the old
 * file through the fd still open, then follow the new one from its start. */
static int follow(struct audit_cli *o)
{
	const char *path = o->files.paths[o->files.n - 1];
	char *pend = NULL;
	size_t plen = 0;
	struct stat st, cur;
	off_t off = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && fstat(fd, &cur) == 0)
		off = cur.st_size;
	for (;;) {
		fflush(stdout);
		struct timespec ts = {0, 200 * 1000 * 1000};
		nanosleep(&ts, NULL);
		if (fd >= 0)
			follow_read(o, fd, &off, &pend, &plen);
		if (stat(path, &st) != 0)
			continue;
		if (fd >= 0 && st.st_ino == cur.st_ino && st.st_dev == cur.st_dev &&
		    st.st_size >= off)
			continue;
		/* Rotated, replaced or truncated: nothing is appended to the old
		 * file once the new one exists, so read its last bytes now, then
		 * start over on the file at path. */
		if (fd >= 0) {
			follow_read(o, fd, &off, &pend, &plen);
			close(fd);
		}
		fd = open(path, O_RDONLY | O_CLOEXEC);
		off = 0;
		plen = 0;
		if (fd < 0 || fstat(fd, &cur) != 0)
			continue;
		follow_read(o, fd, &off, &pend, &plen);
	}
	free(pend);
	return EXIT_OK;
}

int audit_cli_tail(struct audit_cli *o)
{
	char **out = calloc(o->lines ? o->lines : 1, sizeof(char *));
	size_t have = 0, bad = 0;
	int code = EXIT_OK;

	if (!out)
		return EXIT_RUNTIME;
	/* Newest file first, until N lines are in hand. */
	for (size_t f = o->files.n; f-- > 0 && have < o->lines;) {
		struct ring r = {.cap = o->lines - have};
		if (!(r.v = calloc(r.cap, sizeof(char *)))) {
			code = EXIT_RUNTIME;
			break;
		}
		code = each_record(o, o->files.paths[f], ring_push, &r, &bad);
		size_t pos = o->lines - have - r.n;
		for (size_t i = 0; i < r.n; i++)
			out[pos + i] = r.v[(r.head + i) % r.cap];
		have += r.n;
		free(r.v);
		if (code != EXIT_OK)
			break;
	}
	if (code == EXIT_OK) {
		if (!o->json)
			print_header(o);
		for (size_t i = o->lines - have; i < o->lines; i++)
			show_line(o, out[i], strlen(out[i]));
		if (bad)
			fprintf(stderr, "moat: audit: %zu line%s not JSON records (see moat audit "
					"verify)\n", bad, bad == 1 ? " is" : "s are");
	}
	for (size_t i = 0; i < o->lines; i++)
		free(out[i]);
	free(out);
	if (code == EXIT_OK && o->follow)
		return follow(o);
	return code;
}

/* ---- summary ------------------------------------------------------------------ */

struct tool_stat {
	size_t calls, ok;
	uint64_t max_us;
	uint64_t *dur;
	size_t ndur, capdur;
};

struct summary {
	json_t *tool_index; /* name -> index into tools */
	struct tool_stat *tools;
	char **tool_names;
	size_t ntools, captools;
	json_t *outcomes, *rules, *principals, *clients, *kinds;
	json_t *paths, *tables, *repos, *hosts;
	size_t records;
	int64_t first, last;
};

static void count(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!key || !*key)
		return;
	if (v)
		json_integer_set(v, json_integer_value(v) + 1);
	else
		json_object_set_new(obj, key, json_integer(1));
}

static struct tool_stat *tool_stat(struct summary *s, const char *name)
{
	json_t *idx = json_object_get(s->tool_index, name);

	if (idx)
		return &s->tools[json_integer_value(idx)];
	if (s->ntools == s->captools) {
		size_t ncap = s->captools ? s->captools * 2 : 16;
		struct tool_stat *nt = realloc(s->tools, ncap * sizeof(*nt));
		char **nn = nt ? realloc(s->tool_names, ncap * sizeof(*nn)) : NULL;
		if (nt)
			s->tools = nt;
		if (!nn)
			return NULL;
		s->tool_names = nn;
		s->captools = ncap;
	}
	if (!(s->tool_names[s->ntools] = strdup(name)))
		return NULL;
	memset(&s->tools[s->ntools], 0, sizeof(s->tools[0]));
	json_object_set_new(s->tool_index, name, json_integer((json_int_t)s->ntools));
	return &s->tools[s->ntools++];
}

static void sum_record(void *ctx, const char *line, size_t len, const json_t *rec)
{
	struct summary *s = ctx;
	const json_t *t = json_object_get(rec, "touched");
	const char *tool = str(rec, "tool"), *outcome = str(rec, "outcome");
	uint64_t us = (uint64_t)json_integer_value(json_object_get(rec, "duration_us"));
	int64_t when = audit_cli_time(rec);
	struct tool_stat *ts;
	char key[600];

	(void)line;
	(void)len;
	s->records++;
	if (when >= 0 && (s->first < 0 || when < s->first))
		s->first = when;
	if (when > s->last)
		s->last = when;
	count(s->kinds, str(rec, "kind"));
	count(s->outcomes, outcome);
	count(s->rules, str(rec, "rule"));
	count(s->principals, str(rec, "principal"));
	if (*str(rec, "client")) {
		snprintf(key, sizeof(key), "%s %s", str(rec, "client"), str(rec, "client_version"));
		count(s->clients, key);
	}
	if ((ts = tool_stat(s, *tool ? tool : str(rec, "kind")))) {
		ts->calls++;
		ts->ok += strcmp(outcome, "ok") == 0;
		if (us > ts->max_us)
			ts->max_us = us;
		if (ts->ndur == ts->capdur) {
			size_t ncap = ts->capdur ? ts->capdur * 2 : 16;
			uint64_t *nd = realloc(ts->dur, ncap * sizeof(*nd));
			if (nd) {
				ts->dur = nd;
				ts->capdur = ncap;
			}
		}
		if (ts->ndur < ts->capdur)
			ts->dur[ts->ndur++] = us;
	}
	if (!json_is_object(t))
		return;
	if (json_object_get(t, "path")) {
		snprintf(key, sizeof(key), "%s%s%s", str(t, "root"), *str(t, "root") ? ":" : "",
			 str(t, "path"));
		if (*str(t, "api"))
			snprintf(key, sizeof(key), "%s %s %s", str(t, "api"), str(t, "method"),
				 str(t, "path"));
		count(s->paths, key);
	}
	size_t i;
	json_t *el;
	json_array_foreach(json_object_get(t, "tables"), i, el) {
		snprintf(key, sizeof(key), "%s%s%s", str(t, "database"), *str(t, "database") ? "." : "",
			 json_string_value(el) ? json_string_value(el) : "?");
		count(s->tables, key);
	}
	count(s->repos, str(t, "repository"));
	count(s->hosts, str(t, "host"));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct kv {
	const char *key;
	json_int_t n;
};

static int cmp_kv(const void *a, const void *b)
{
	const struct kv *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return strcmp(x->key, y->key);
}

/* obj's entries by count, most first; *n gets how many. Caller frees. */
static struct kv *sorted(const json_t *obj, size_t *n)
{
	struct kv *v = calloc(json_object_size(obj) + 1, sizeof(*v));
	const char *key;
	json_t *val;

	*n = 0;
	if (!v)
		return NULL;
	json_object_foreach((json_t *)obj, key, val)
		v[(*n)++] = (struct kv){key, json_integer_value(val)};
	qsort(v, *n, sizeof(*v), cmp_kv);
	return v;
}

/* The top entries of obj: as [[key, n], ...] (JSON) or printed lines. */
static json_t *top_json(const json_t *obj, size_t top)
{
	size_t n;
	struct kv *v = sorted(obj, &n);
	json_t *arr = json_array();

	for (size_t i = 0; v && arr && i < n && i < top; i++)
		json_array_append_new(arr, json_pack("[s, I]", v[i].key, v[i].n));
	free(v);
	return arr;
}

static void print_top(const char *title, const json_t *obj, size_t top)
{
	size_t n;
	struct kv *v;

	if (json_object_size(obj) == 0)
		return;
	v = sorted(obj, &n);
	printf("\n%s\n", title);
	for (size_t i = 0; v && i < n && i < top; i++)
		printf("  %-48s %8" JSON_INTEGER_FORMAT "\n", v[i].key, v[i].n);
	if (n > top)
		printf("  (%zu more)\n", n - top);
	free(v);
}

static uint64_t p50(struct tool_stat *t)
{
	if (t->ndur == 0)
		return 0;
	qsort(t->dur, t->ndur, sizeof(t->dur[0]), cmp_u64);
	return t->dur[t->ndur / 2];
}

static void print_summary(const struct audit_cli *o, struct summary *s)
{
	char a[64], b[64], d1[32], d2[32];
	const size_t top = o->top ? o->top : 10;

	printf("trail: %s", o->files.paths[o->files.n - 1]);
	if (o->files.n > 1)
		printf(" (and %zu older file%s)", o->files.n - 1, o->files.n == 2 ? "" : "s");
	putchar('\n');
	if (s->records == 0) {
		printf("records: none%s\n", o->has_since ? " in that time" : "");
		return;
	}
	audit_cli_fmt_time(o, s->first, a, sizeof(a));
	audit_cli_fmt_time(o, s->last, b, sizeof(b));
	printf("records: %zu, %s to %s%s%s\n", s->records, a, b,
	       o->has_since ? ", since " : "", o->has_since ? o->since_text : "");
	printf("\n%-32s %8s %8s %8s %12s %12s\n", "calls per tool", "calls", "ok", "not ok",
	       "median", "max");
	for (size_t i = 0; i < s->ntools; i++) {
		struct tool_stat *t = &s->tools[i];
		fmt_us(p50(t), d1, sizeof(d1));
		fmt_us(t->max_us, d2, sizeof(d2));
		printf("  %-30s %8zu %8zu %8zu %12s %12s\n", s->tool_names[i], t->calls, t->ok,
		       t->calls - t->ok, d1, d2);
	}
	print_top("outcomes", s->outcomes, SIZE_MAX);
	print_top("refusals per rule", s->rules, SIZE_MAX);
	print_top("principals", s->principals, SIZE_MAX);
	print_top("clients", s->clients, top);
	print_top("top paths touched", s->paths, top);
	print_top("top tables touched", s->tables, top);
	print_top("top repositories touched", s->repos, top);
	print_top("top hosts touched", s->hosts, top);
}

/* us as "2026-12-06T05:02:13.006865Z", as the trail writes times. */
static void rfc3339(int64_t us, char *buf, size_t size)
{
	time_t sec = (time_t)(us / 1000000);
	struct tm tm;
	char day[40];

	gmtime_r(&sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%s.%06dZ", day, (int)(us % 1000000));
}

static void json_summary(const struct audit_cli *o, struct summary *s)
{
	char a[64], b[64];
	const size_t top = o->top ? o->top : 10;
	json_t *out = json_object(), *tools = json_object(), *files = json_array();

	for (size_t i = 0; i < o->files.n; i++)
		json_array_append_new(files, json_string(o->files.paths[i]));
	for (size_t i = 0; i < s->ntools; i++) {
		struct tool_stat *t = &s->tools[i];
		json_object_set_new(tools, s->tool_names[i],
				    json_pack("{s:I, s:I, s:I, s:I, s:I}", "calls", (json_int_t)t->calls,
					      "ok", (json_int_t)t->ok, "not_ok",
					      (json_int_t)(t->calls - t->ok), "median_us",
					      (json_int_t)p50(t), "max_us", (json_int_t)t->max_us));
	}
	json_object_set_new(out, "files", files);
	json_object_set_new(out, "records", json_integer((json_int_t)s->records));
	if (s->records) {
		rfc3339(s->first, a, sizeof(a));
		rfc3339(s->last, b, sizeof(b));
		json_object_set_new(out, "first", json_string(a));
		json_object_set_new(out, "last", json_string(b));
	}
	json_object_set_new(out, "tools", tools);
	json_object_set(out, "kinds", s->kinds);
	json_object_set(out, "outcomes", s->outcomes);
	json_object_set(out, "rules", s->rules);
	json_object_set(out, "principals", s->principals);
	json_object_set(out, "clients", s->clients);
	json_object_set_new(out, "top_paths", top_json(s->paths, top));
	json_object_set_new(out, "top_tables", top_json(s->tables, top));
	json_object_set_new(out, "top_repositories", top_json(s->repos, top));
	json_object_set_new(out, "top_hosts", top_json(s->hosts, top));
	json_dumpf(out, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
	putchar('\n');
	json_decref(out);
}

int audit_cli_summary(struct audit_cli *o)
{
	struct summary s = {.first = -1, .last = -1};
	size_t bad = 0;
	int code = EXIT_OK;

	s.tool_index = json_object();
	s.outcomes = json_object();
	s.rules = json_object();
	s.principals = json_object();
	s.clients = json_object();
	s.kinds = json_object();
	s.paths = json_object();
	s.tables = json_object();
	s.repos = json_object();
	s.hosts = json_object();
	for (size_t f = 0; f < o->files.n && code == EXIT_OK; f++)
		code = each_record(o, o->files.paths[f], sum_record, &s, &bad);
	if (code == EXIT_OK) {
		if (o->json)
			json_summary(o, &s);
		else
			print_summary(o, &s);
		if (bad)
			fprintf(stderr, "moat: audit: %zu line%s not JSON records (see moat audit "
					"verify)\n", bad, bad == 1 ? " is" : "s are");
	}
	for (size_t i = 0; i < s.ntools; i++) {
		free(s.tools[i].dur);
		free(s.tool_names[i]);
	}
	free(s.tools);
	free(s.tool_names);
	json_decref(s.tool_index);
	json_decref(s.outcomes);
	json_decref(s.rules);
	json_decref(s.principals);
	json_decref(s.clients);
	json_decref(s.kinds);
	json_decref(s.paths);
	json_decref(s.tables);
	json_decref(s.repos);
	json_decref(s.hosts);
	return code;
}
