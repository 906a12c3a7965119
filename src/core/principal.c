/*
 * principal.c - tool policies: groups of glob patterns over tool names, and
 * the local principal.
 *
 * Matching is fnmatch(3) without flags: tool names hold no '/', so `*`
 * spans the whole name. Patterns are checked at creation against a small
 * alphabet, so a config cannot smuggle bracket expressions or escapes
 * whose meaning a reader might misjudge. A policy is immutable once the
 * config is loaded and is read by many threads without locks.
 */
#include "principal.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATTERN_MAX 128

struct policy_group {
	char **patterns; /* owned */
	size_t n;
};

struct tool_policy {
	struct policy_group groups[POLICY_MAX_GROUPS];
	int ngroups;
};

static const struct principal local_principal = {.name = "local"};

const struct principal *principal_local(void)
{
	return &local_principal;
}

struct tool_policy *policy_new(void)
{
	return calloc(1, sizeof(struct tool_policy));
}

/* True when pat is 1..PATTERN_MAX bytes of [A-Za-z0-9_.*?-]. */
static bool pattern_ok(const char *pat)
{
	size_t n = strlen(pat);

	if (n == 0 || n > PATTERN_MAX)
		return false;
	for (const char *c = pat; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '_' || *c == '.' || *c == '*' ||
		      *c == '?' || *c == '-'))
			return false;
	}
	return true;
}

int policy_add_group(struct tool_policy *p, const char *const *patterns, size_t n,
		     char *why, size_t why_size)
{
	struct policy_group *g;

	if (p->ngroups >= POLICY_MAX_GROUPS) {
		snprintf(why, why_size, "more than %d policy groups", POLICY_MAX_GROUPS);
		return -1;
	}
	if (n > POLICY_MAX_PATTERNS) {
		snprintf(why, why_size, "more than %d tool patterns in one group",
			 POLICY_MAX_PATTERNS);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!pattern_ok(patterns[i])) {
			snprintf(why, why_size,
				 "tool pattern %zu must be 1 to %d characters of letters, digits, "
				 "'_', '.', '-', '*' and '?'",
				 i, PATTERN_MAX);
			return -1;
		}
	}
	g = &p->groups[p->ngroups];
	g->patterns = calloc(n ? n : 1, sizeof(char *));
	if (!g->patterns) {
		snprintf(why, why_size, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		g->patterns[i] = strdup(patterns[i]);
		if (!g->patterns[i]) {
			for (size_t j = 0; j < i; j++)
				free(g->patterns[j]);
			free(g->patterns);
			g->patterns = NULL;
			snprintf(why, why_size, "out of memory");
			return -1;
		}
	}
	g->n = n;
	return p->ngroups++;
}

bool policy_allows(const struct tool_policy *p, uint64_t groups, const char *tool)
{
	if (!p)
		return true;
	for (int i = 0; i < p->ngroups; i++) {
		if (!(groups & (UINT64_C(1) << i)))
			continue;
		for (size_t j = 0; j < p->groups[i].n; j++)
			if (fnmatch(p->groups[i].patterns[j], tool, 0) == 0)
				return true;
	}
	return false;
}

bool principal_allows(const struct principal *who, const char *tool)
{
	return !who || policy_allows(who->policy, who->groups, tool);
}

const char *const *policy_group_patterns(const struct tool_policy *p, int i, size_t *n)
{
	if (!p || i < 0 || i >= p->ngroups) {
		*n = 0;
		return NULL;
	}
	*n = p->groups[i].n;
	return (const char *const *)p->groups[i].patterns;
}

void policy_free(struct tool_policy *p)
{
	if (!p)
		return;
	for (int i = 0; i < p->ngroups; i++) {
		for (size_t j = 0; j < p->groups[i].n; j++)
			free(p->groups[i].patterns[j]);
		free(p->groups[i].patterns);
	}
	free(p);
}
