/*
 * metrics_note.c - what metrics_note() costs a tool call: the time of one
 * note of a successful call (the common case), of a refused call (which
 * also counts its rule id), and of a successful call noted from THREADS
 * threads at once onto one tool (the contended case: every thread adds to
 * the same cache lines).
 *
 *   ninja -C build-test bench_metrics_note && build-test/bench_metrics_note [THREADS]
 *
 * Prints one line per case, in nanoseconds per note.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "metrics.h"
#include "registry.h"

#define NOTES 20000000u
#define TOOLS 40

static struct metrics *m;
static struct registry *reg;

static enum moat_rc nop(struct call_ctx *ctx, void *data, json_t *args, struct tool_result *out,
			struct moat_err *err)
{
	return MOAT_OK;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
	const char *rule = arg;
	struct audit_event ev = {.kind = "call", .tool = registry_at(reg, 17)->name,
				 .outcome = rule ? "denied" : "ok", .rule = rule};

	for (uint32_t i = 0; i < NOTES; i++) {
		ev.duration_us = i & 1023u;
		metrics_note(m, &ev);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 2;
	json_t *in = json_loads("{\"type\":\"object\"}", 0, NULL);
	pthread_t t[64];
	double t0;

	reg = registry_new(0);
	for (int i = 0; i < TOOLS; i++) {
		char name[32];
		struct moat_err err = {0};
		snprintf(name, sizeof(name), "tool_number_%d", i);
		struct tool_spec spec = {.name = name, .description = "d", .input_schema = in,
					 .handler = nop};
		if (registry_add(reg, &spec, &err) != MOAT_OK)
			return 1;
	}
	m = metrics_new(reg);
	if (!m || threads < 1 || threads > 64)
		return 1;

	run(NULL); /* warm up */
	t0 = now_s();
	run(NULL);
	printf("ok call, one thread: %.1f ns/note\n", (now_s() - t0) * 1e9 / NOTES);
	t0 = now_s();
	run("fs.outside_root");
	printf("refused call (rule counted), one thread: %.1f ns/note\n",
	       (now_s() - t0) * 1e9 / NOTES);
	t0 = now_s();
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, run, NULL);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("ok call, %d threads on one tool: %.1f ns/note (wall time per note per thread)\n",
	       threads, (now_s() - t0) * 1e9 / NOTES);
	metrics_free(m);
	registry_free(reg);
	json_decref(in);
	return 0;
}
