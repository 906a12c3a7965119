/*
 * test_metrics.c - unit tests for src/core/metrics.c: the exposition of a
 * small registry, byte for byte; label values escaped; rule ids interned
 * once however their strings are spelled in memory, with "other" for
 * malformed ids and past the table's end; unknown tools not counted; and
 * totals that add up when several threads note at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#include <cmocka.h>

#include "metrics.h"
#include "registry.h"
#include "store.h"

static enum moat_rc nop(struct call_ctx *ctx, void *data, json_t *args, struct tool_result *out,
			struct moat_err *err)
{
	return MOAT_OK;
}

static struct registry *reg_with(const char *const *names, size_t n)
{
	struct registry *r = registry_new(0);
	json_t *in = json_loads("{\"type\":\"object\"}", 0, NULL);
	struct moat_err err = {0};

	assert_non_null(r);
	for (size_t i = 0; i < n; i++) {
		struct tool_spec spec = {.name = names[i], .description = "d", .input_schema = in,
					 .handler = nop};
		assert_int_equal(registry_add(r, &spec, &err), MOAT_OK);
	}
	json_decref(in);
	return r;
}

static void note(struct metrics *m, const char *kind, const char *tool, const char *outcome,
		 const char *rule, uint64_t us)
{
	struct audit_event ev = {.kind = kind, .tool = tool, .outcome = outcome, .rule = rule,
				 .duration_us = us};
	metrics_note(m, &ev);
}

/* The exposition without its last line (the start time), which is checked
 * to lie between before and after. */
static char *render_checked(struct metrics *m, time_t before, time_t after)
{
	size_t len = 0;
	char *text = metrics_render(m, &len);
	const char *key = "\nprocess_start_time_seconds ";
	char *line;
	long long secs;
	int ms;

	assert_non_null(text);
	assert_int_equal(len, strlen(text));
	line = strstr(text, key);
	assert_non_null(line);
	assert_int_equal(sscanf(line + strlen(key), "%lld.%3d\n", &secs, &ms), 2);
	assert_true(secs >= before && secs <= after);
	assert_true(ms >= 0 && ms < 1000);
	assert_true(strchr(line + 1, '\n') == text + len - 1); /* the last line */
	line[1] = '\0';
	return text;
}

static void test_empty(void **state)
{
	time_t before = time(NULL);
	struct metrics *m = metrics_new(NULL);
	time_t after = time(NULL);
	char *text;

	assert_non_null(m);
	text = render_checked(m, before, after);
	assert_string_equal(text,
		"# HELP moat_tool_calls_total Tool calls answered, by tool and outcome.\n"
		"# TYPE moat_tool_calls_total counter\n"
		"# HELP moat_tool_call_duration_seconds Time from a tool call's admission to its answer, by tool.\n"
		"# TYPE moat_tool_call_duration_seconds histogram\n"
		"# HELP moat_resource_requests_total Resource lists and reads answered, by method and outcome.\n"
		"# TYPE moat_resource_requests_total counter\n"
		"# HELP moat_refusals_total Requests refused, by the id of the rule that refused them.\n"
		"# TYPE moat_refusals_total counter\n"
		"# HELP moat_auth_failures_total Credentials refused, by reason.\n"
		"# TYPE moat_auth_failures_total counter\n"
		"# HELP moat_rate_limited_total Requests refused by a rate or size limit of the listener, by rule.\n"
		"# TYPE moat_rate_limited_total counter\n"
		"# HELP moat_sessions_open Sessions open now.\n"
		"# TYPE moat_sessions_open gauge\n"
		"moat_sessions_open 0\n"
		"# HELP process_start_time_seconds Start time of the process since the Unix epoch in seconds.\n"
		"# TYPE process_start_time_seconds gauge\n");
	free(text);
	metrics_free(m);
	metrics_free(NULL);
	metrics_note(NULL, NULL);
	metrics_sessions(NULL, 1);
	metrics_auth_failure(NULL, "auth.bad_token");
	metrics_rate_limited(NULL, "limits.http_rate");
}

static void test_small_registry(void **state)
{
	const char *names[] = {"read_text_file", "echo"};
	struct registry *r = reg_with(names, 2);
	time_t before = time(NULL);
	struct metrics *m = metrics_new(r);
	time_t after = time(NULL);
	char rule_copy[] = "fs.outside_root"; /* same text, another address */
	char tool_copy[] = "echo";
	char *text;

	assert_non_null(m);
	/* read_text_file: by the registry's own pointer. */
	note(m, "call", registry_at(r, 0)->name, "ok", NULL, 40);         /* <= 0.0001 */
	note(m, "call", registry_at(r, 0)->name, "ok", NULL, 100);        /* <= 0.0001 */
	note(m, "call", registry_at(r, 0)->name, "ok", NULL, 101);        /* <= 0.00025 */
	note(m, "call", registry_at(r, 0)->name, "denied", "fs.outside_root", 30);
	note(m, "call", registry_at(r, 0)->name, "weird", NULL, 20000000); /* +Inf, other */
	/* echo: by a copy of its name. */
	note(m, "call", tool_copy, "timeout", "limits.timeout", 2500000);
	/* unknown tool: the name is the client's, not counted as a call. */
	note(m, "call", "no_such_tool", "invalid", NULL, 5);
	note(m, "resource", "resources/read", "ok", NULL, 10);
	note(m, "resource", "resources/read", "not_found", NULL, 10);
	note(m, "resource", "resources/list", "ok", NULL, 10);
	note(m, "security", NULL, "invalid", "protocol.nul_byte", 0);
	note(m, "security", NULL, "denied", rule_copy, 0);
	note(m, "security", NULL, "denied", "Bad\"Rule\n", 0); /* not a rule id: other */
	metrics_auth_failure(m, "auth.missing_token");
	metrics_auth_failure(m, "auth.bad_token");
	metrics_auth_failure(m, "auth.bad_token");
	metrics_auth_failure(m, NULL);
	metrics_rate_limited(m, "limits.http_rate");
	metrics_sessions(m, 3);
	metrics_sessions(m, -1);

	text = render_checked(m, before, after);
	assert_string_equal(text,
		"# HELP moat_tool_calls_total Tool calls answered, by tool and outcome.\n"
		"# TYPE moat_tool_calls_total counter\n"
		"moat_tool_calls_total{tool=\"read_text_file\",outcome=\"ok\"} 3\n"
		"moat_tool_calls_total{tool=\"read_text_file\",outcome=\"denied\"} 1\n"
		"moat_tool_calls_total{tool=\"read_text_file\",outcome=\"other\"} 1\n"
		"moat_tool_calls_total{tool=\"echo\",outcome=\"timeout\"} 1\n"
		"# HELP moat_tool_call_duration_seconds Time from a tool call's admission to its answer, by tool.\n"
		"# TYPE moat_tool_call_duration_seconds histogram\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"0.0001\"} 3\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"0.00025\"} 4\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"0.0005\"} 4\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"0.001\"} 4\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"0.0025\"} 4\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"0.005\"} 4\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"0.01\"} 4\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"0.025\"} 4\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"0.05\"} 4\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"0.1\"} 4\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"0.25\"} 4\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"0.5\"} 4\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"1\"} 4\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"2.5\"} 4\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"5\"} 4\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"10\"} 4\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"read_text_file\",le=\"+Inf\"} 5\n"
		"moat_tool_call_duration_seconds_sum{tool=\"read_text_file\"} 20.000271\n"
		"moat_tool_call_duration_seconds_count{tool=\"read_text_file\"} 5\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.0001\"} 0\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.00025\"} 0\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.0005\"} 0\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.001\"} 0\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.0025\"} 0\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.005\"} 0\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.01\"} 0\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.025\"} 0\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.05\"} 0\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.1\"} 0\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.25\"} 0\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"0.5\"} 0\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"1\"} 0\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"2.5\"} 1\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"5\"} 1\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"10\"} 1\n"
		"moat_tool_call_duration_seconds_bucket{tool=\"echo\",le=\"+Inf\"} 1\n"
		"moat_tool_call_duration_seconds_sum{tool=\"echo\"} 2.500000\n"
		"moat_tool_call_duration_seconds_count{tool=\"echo\"} 1\n"
		"# HELP moat_resource_requests_total Resource lists and reads answered, by method and outcome.\n"
		"# TYPE moat_resource_requests_total counter\n"
		"moat_resource_requests_total{method=\"resources/list\",outcome=\"ok\"} 1\n"
		"moat_resource_requests_total{method=\"resources/read\",outcome=\"ok\"} 1\n"
		"moat_resource_requests_total{method=\"resources/read\",outcome=\"not_found\"} 1\n"
		"# HELP moat_refusals_total Requests refused, by the id of the rule that refused them.\n"
		"# TYPE moat_refusals_total counter\n"
		"moat_refusals_total{rule=\"fs.outside_root\"} 2\n"
		"moat_refusals_total{rule=\"limits.timeout\"} 1\n"
		"moat_refusals_total{rule=\"protocol.nul_byte\"} 1\n"
		"moat_refusals_total{rule=\"other\"} 1\n"
		"# HELP moat_auth_failures_total Credentials refused, by reason.\n"
		"# TYPE moat_auth_failures_total counter\n"
		"moat_auth_failures_total{reason=\"auth.bad_token\"} 2\n"
		"moat_auth_failures_total{reason=\"auth.missing_token\"} 1\n"
		"moat_auth_failures_total{reason=\"other\"} 1\n"
		"# HELP moat_rate_limited_total Requests refused by a rate or size limit of the listener, by rule.\n"
		"# TYPE moat_rate_limited_total counter\n"
		"moat_rate_limited_total{rule=\"limits.http_rate\"} 1\n"
		"# HELP moat_sessions_open Sessions open now.\n"
		"# TYPE moat_sessions_open gauge\n"
		"moat_sessions_open 2\n"
		"# HELP process_start_time_seconds Start time of the process since the Unix epoch in seconds.\n"
		"# TYPE process_start_time_seconds gauge\n");
	free(text);
	metrics_free(m);
	registry_free(r);
}

/* Tool names may hold '.', '-' and '_' only besides letters and digits,
 * so a quote cannot reach a label through a tool; the renderer escapes
 * anyway. A name with every character the registry allows comes out
 * as it went in. */
static void test_label_chars(void **state)
{
	const char *names[] = {"A.b-c_9"};
	struct registry *r = reg_with(names, 1);
	struct metrics *m = metrics_new(r);
	char *text;

	note(m, "call", "A.b-c_9", "ok", NULL, 1);
	text = metrics_render(m, NULL);
	assert_non_null(strstr(text, "moat_tool_calls_total{tool=\"A.b-c_9\",outcome=\"ok\"} 1\n"));
	free(text);
	metrics_free(m);
	registry_free(r);
}

/* More distinct rule ids than the table holds: every one is counted,
 * those that found no slot as "other". */
static void test_rule_overflow(void **state)
{
	static char ids[300][24];
	struct metrics *m = metrics_new(NULL);
	unsigned long long total = 0, v;
	char *text, *p;

	for (int i = 0; i < 300; i++) {
		snprintf(ids[i], sizeof(ids[i]), "test.rule_%d", i);
		note(m, "security", NULL, "denied", ids[i], 0);
	}
	text = metrics_render(m, NULL);
	assert_non_null(strstr(text, "moat_refusals_total{rule=\"test.rule_0\"} 1\n"));
	p = strstr(text, "moat_refusals_total{rule=\"other\"} ");
	assert_non_null(p);
	for (p = text; (p = strstr(p, "\nmoat_refusals_total{")) != NULL; p++) {
		assert_int_equal(sscanf(strchr(p, '}') + 1, " %llu", &v), 1);
		total += v;
	}
	assert_int_equal(total, 300);
	free(text);
	metrics_free(m);
}

#define THREADS 6
#define PER_THREAD 200000

struct worker {
	pthread_t t;
	struct metrics *m;
	const struct registry *r;
	int id;
};

static void *noter(void *arg)
{
	struct worker *w = arg;
	/* Every thread spells the rule ids from its own buffer, so interning
	 * by text is what makes them one row. */
	char rule[32], auth[32];

	snprintf(rule, sizeof(rule), "limits.rate");
	snprintf(auth, sizeof(auth), "auth.bad_token");
	for (int i = 0; i < PER_THREAD; i++) {
		const char *tool = registry_at(w->r, (size_t)(i % 3))->name;
		note(w->m, "call", tool, i % 10 == 0 ? "limit" : "ok", i % 10 == 0 ? rule : NULL,
		     (uint64_t)(i % 1000));
		if (i % 100 == 0)
			metrics_auth_failure(w->m, auth);
		metrics_sessions(w->m, i % 2 == 0 ? 1 : -1);
	}
	return NULL;
}

static unsigned long long sum_lines(const char *text, const char *prefix)
{
	unsigned long long total = 0, v;
	size_t n = strlen(prefix);

	for (const char *p = text; (p = strstr(p, prefix)) != NULL; p += n) {
		if (p != text && p[-1] != '\n')
			continue;
		assert_int_equal(sscanf(strchr(p, '}') + 1, " %llu", &v), 1);
		total += v;
	}
	return total;
}

static void test_concurrent(void **state)
{
	const char *names[] = {"t0", "t1", "t2"};
	struct registry *r = reg_with(names, 3);
	struct metrics *m = metrics_new(r);
	struct worker w[THREADS];
	unsigned long long t0_limit = 0, t1 = 0;
	char *text;

	for (int i = 0; i < PER_THREAD; i++) {
		t0_limit += i % 3 == 0 && i % 10 == 0;
		t1 += i % 3 == 1;
	}

	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){.m = m, .r = r, .id = i};
		assert_int_equal(pthread_create(&w[i].t, NULL, noter, &w[i]), 0);
	}
	for (int i = 0; i < 20; i++) { /* render while they note */
		text = metrics_render(m, NULL);
		assert_non_null(text);
		free(text);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(w[i].t, NULL);
	text = metrics_render(m, NULL);
	assert_int_equal(sum_lines(text, "moat_tool_calls_total{"), THREADS * PER_THREAD);
	assert_int_equal(sum_lines(text, "moat_tool_calls_total{tool=\"t0\",outcome=\"limit\"}"),
			 THREADS * t0_limit);
	assert_int_equal(sum_lines(text, "moat_tool_call_duration_seconds_count{"),
			 THREADS * PER_THREAD);
	assert_int_equal(sum_lines(text, "moat_tool_call_duration_seconds_bucket{tool=\"t1\",le=\"+Inf\"}"),
			 THREADS * t1);
	assert_non_null(strstr(text, "moat_refusals_total{rule=\"limits.rate\"} 120000\n"));
	assert_null(strstr(text, "rule=\"other\""));
	assert_non_null(strstr(text, "moat_auth_failures_total{reason=\"auth.bad_token\"} 12000\n"));
	assert_non_null(strstr(text, "\nmoat_sessions_open 0\n"));
	free(text);
	metrics_free(m);
	registry_free(r);
}

/* A store that never answers, counting three replicas. */
static enum store_rc down_take(void *ctx, const struct store_bucket *b, size_t n, size_t *which,
			       uint64_t *wait_ms)
{
	return STORE_DOWN;
}

static unsigned three(void *ctx)
{
	return 3;
}

static bool not_ready(void *ctx)
{
	return false;
}

/* With a store installed: moat_store_up, moat_store_replicas and the
 * store's counters, before process_start_time_seconds; without, none. */
static void test_store(void **state)
{
	static const struct store_ops ops = {.take = down_take, .replicas = three,
					     .ready = not_ready};
	time_t before = time(NULL);
	struct metrics *m = metrics_new(NULL);
	time_t after = time(NULL);
	struct token_bucket b;
	struct token_bucket *bs[1] = {&b};
	size_t which;
	char *text;

	text = render_checked(m, before, after);
	assert_null(strstr(text, "moat_store"));
	free(text);
	bucket_init(&b, 60);
	bucket_set_key(&b, "global");
	store_install(&ops, NULL, STORE_FALLBACK_AUTO);
	assert_int_equal(limits_take(bs, 1, false, &which, NULL), LIMITS_OK);        /* fallback */
	assert_int_equal(limits_take(bs, 1, true, &which, NULL), LIMITS_STORE_DOWN); /* refused */
	text = render_checked(m, before, after);
	assert_non_null(strstr(text,
		"# HELP moat_sessions_open Sessions open now.\n"
		"# TYPE moat_sessions_open gauge\n"
		"moat_sessions_open 0\n"
		"# HELP moat_store_up 1 when the shared store (cluster.redis) answers, else 0.\n"
		"# TYPE moat_store_up gauge\n"
		"moat_store_up 0\n"
		"# HELP moat_store_replicas Live replicas the shared store last counted.\n"
		"# TYPE moat_store_replicas gauge\n"
		"moat_store_replicas 3\n"
		"# HELP moat_store_fallbacks_total Limit takes served by this replica's own buckets while the store was down.\n"
		"# TYPE moat_store_fallbacks_total counter\n"
		"moat_store_fallbacks_total 1\n"
		"# HELP moat_store_refusals_total Calls refused because the store was down.\n"
		"# TYPE moat_store_refusals_total counter\n"
		"moat_store_refusals_total 1\n"
		"# HELP moat_store_errors_total Store operations that got no answer in time.\n"
		"# TYPE moat_store_errors_total counter\n"
		"moat_store_errors_total 0\n"
		"# HELP moat_store_cache_hits_total Shared response cache hits.\n"
		"# TYPE moat_store_cache_hits_total counter\n"
		"moat_store_cache_hits_total 0\n"
		"# HELP moat_store_cache_misses_total Shared response cache misses.\n"
		"# TYPE moat_store_cache_misses_total counter\n"
		"moat_store_cache_misses_total 0\n"
		"# HELP process_start_time_seconds "));
	free(text);
	store_install(NULL, NULL, STORE_FALLBACK_AUTO);
	bucket_destroy(&b);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_small_registry),
		cmocka_unit_test(test_label_chars),
		cmocka_unit_test(test_rule_overflow),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_store),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
