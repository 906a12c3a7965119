/*
 * metrics.c - PLACEHOLDER until the metrics module lands: notes nothing,
 * renders an empty exposition.
 */
#include "metrics.h"

#include <stdlib.h>
#include <string.h>

struct metrics {
	int unused;
};

struct metrics *metrics_new(const struct registry *reg)
{
	(void)reg;
	return calloc(1, sizeof(struct metrics));
}

void metrics_note(struct metrics *m, const struct audit_event *ev) { (void)m; (void)ev; }
void metrics_auth_failure(struct metrics *m, const char *reason) { (void)m; (void)reason; }
void metrics_sessions(struct metrics *m, int delta) { (void)m; (void)delta; }
void metrics_rate_limited(struct metrics *m, const char *rule) { (void)m; (void)rule; }

char *metrics_render(struct metrics *m, size_t *len)
{
	(void)m;
	*len = 0;
	return strdup("");
}

void metrics_free(struct metrics *m)
{
	free(m);
}
