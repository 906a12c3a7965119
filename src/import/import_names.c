/*
 * import_names.c - tool and argument names for `moat import openapi`
 * (see import_names.h for the rules).
 *
 * Written by hand: the rules (64-byte MCP limit, the hash suffix, the
 * document-order "_2") are moat's, and no Debian library converts
 * identifiers to snake_case.
 */
#include "import_names.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAKE_IN_MAX 4096 /* bytes of an identifier looked at */
#define NAME_CUT 55       /* 55 + "_" + 8 hex = 64 */

static bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
static bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static bool is_alnum(char c) { return is_lower(c) || is_upper(c) || is_digit(c); }

char *import_snake(const char *s)
{
	size_t n = s ? strnlen(s, SNAKE_IN_MAX) : 0, len = 0;
	char *out = malloc(2 * n + 1);
	bool sep = false; /* a separator is pending */

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!is_alnum(c)) {
			sep = true;
			continue;
		}
		if (is_upper(c) && i > 0) {
			char p = s[i - 1], nx = i + 1 < n ? s[i + 1] : '\0';
			/* fooBar, v2Users, HTTPStatus (split before S) */
			if (is_lower(p) || is_digit(p) || (is_upper(p) && is_lower(nx)))
				sep = true;
		}
		if (sep && len > 0)
			out[len++] = '_';
		sep = false;
		out[len++] = is_upper(c) ? (char)(c - 'A' + 'a') : c;
	}
	out[len] = '\0';
	return out;
}

static uint32_t fnv1a32(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

char *import_name_fit(char *name)
{
	char *out;
	size_t cut = NAME_CUT;

	if (!name || strlen(name) <= IMPORT_NAME_MAX)
		return name;
	out = malloc(IMPORT_NAME_MAX + 1);
	if (!out) {
		free(name);
		return NULL;
	}
	while (cut > 1 && name[cut - 1] == '_')
		cut--;
	snprintf(out, IMPORT_NAME_MAX + 1, "%.*s_%08x", (int)cut, name, fnv1a32(name));
	free(name);
	return out;
}

/* prefix + "_" + snake(text), fitted. */
static char *joined(const char *prefix, const char *snake)
{
	size_t n = strlen(prefix) + strlen(snake) + 2;
	char *full = malloc(n);

	if (!full)
		return NULL;
	snprintf(full, n, "%s%s%s", prefix, *prefix && *snake ? "_" : "", snake);
	return import_name_fit(full);
}

char *import_tool_base(const char *api, const char *operation_id, const char *method,
		       const char *path)
{
	char *snake = import_snake(operation_id), *res;

	if (snake && !*snake) {
		size_t ml = strnlen(method, 16), n = ml + strnlen(path, SNAKE_IN_MAX) + 2;
		char *mp = malloc(n);
		free(snake);
		snake = NULL;
		if (mp) {
			snprintf(mp, n, "%.*s_%s", (int)ml, method, path);
			for (size_t i = 0; i < ml; i++) /* "GET" -> "get" */
				if (is_upper(mp[i]))
					mp[i] = (char)(mp[i] - 'A' + 'a');
			snake = import_snake(mp);
			free(mp);
		}
	}
	if (!snake)
		return NULL;
	res = joined(api, snake);
	free(snake);
	return res;
}

char *import_arg_base(const char *name)
{
	char *snake = import_snake(name);

	if (snake && !*snake) {
		free(snake);
		snake = strdup("arg");
	}
	return import_name_fit(snake);
}

char *import_name_take(json_t *taken, const char *base)
{
	char cand[IMPORT_NAME_MAX + 1];
	size_t blen = strlen(base);
	json_t *next = blen <= IMPORT_NAME_MAX ? json_object_get(taken, base) : NULL;
	size_t k;

	/* each name taken maps to the next suffix to try from it, so that n
	 * operations with one name cost n lookups, not n * n */
	if (blen <= IMPORT_NAME_MAX && !next) {
		if (json_object_set_new(taken, base, json_integer(2)))
			return NULL;
		return strdup(base);
	}
	k = next ? (size_t)json_integer_value(next) : 2;
	/* at most size(taken) + 1 suffixes can all be taken */
	for (; k <= json_object_size(taken) + 2; k++) {
		char suf[24];
		size_t sl = (size_t)snprintf(suf, sizeof(suf), "_%zu", k), stem = blen;
		if (stem + sl > IMPORT_NAME_MAX)
			stem = IMPORT_NAME_MAX - sl;
		while (stem > 1 && base[stem - 1] == '_')
			stem--;
		snprintf(cand, sizeof(cand), "%.*s%s", (int)stem, base, suf);
		if (!json_object_get(taken, cand)) {
			if (json_object_set_new(taken, cand, json_integer(2)) ||
			    (next && json_integer_set(next, (json_int_t)k + 1)))
				return NULL;
			return strdup(cand);
		}
	}
	return NULL; /* not reached */
}
