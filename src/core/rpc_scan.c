/*
 * rpc_scan.c - the id of a refused message, and NUL bytes in strings.
 *
 * Written by hand: no JSON library reads one member of a document that it
 * refuses as a whole (too deep, truncated, or invalid after that member),
 * and that is exactly the case where moat still owes the client an answer
 * with the request's id. The scan is a small state machine over the top
 * level only; nested values are skipped by counting brackets outside
 * strings, so its work is linear in the input and its stack constant.
 */
#include "rpc_scan.h"

#include <stdio.h>
#include <string.h>

#include "text.h"

/* An id longer than this is not one we could answer with anyway
 * (rpc_id_key allows 127 bytes). */
#define ID_TOKEN_MAX 256

static size_t skip_ws(const char *b, size_t len, size_t i)
{
	while (i < len && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r'))
		i++;
	return i;
}

/* b[i] is '"': the index just past the closing quote, or len when the
 * string does not end. */
static size_t skip_string(const char *b, size_t len, size_t i)
{
	for (i++; i < len; i++) {
		if (b[i] == '\\')
			i++;
		else if (b[i] == '"')
			return i + 1;
	}
	return len;
}

size_t rpc_skip_value(const char *b, size_t len, size_t i)
{
	size_t depth = 0;

	if (i >= len)
		return len;
	if (b[i] == '"')
		return skip_string(b, len, i);
	if (b[i] != '{' && b[i] != '[') {
		while (i < len && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' &&
		       b[i] != '\t' && b[i] != '\n' && b[i] != '\r')
			i++;
		return i;
	}
	for (; i < len; i++) {
		char c = b[i];
		if (c == '"') {
			i = skip_string(b, len, i) - 1;
		} else if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			if (--depth == 0)
				return i + 1;
		}
	}
	return len;
}

/* True when the key token b[ks..ke) (quotes included) decodes to "id". */
static bool key_is_id(const char *b, size_t ks, size_t ke)
{
	json_t *k;
	bool yes;

	if (ke - ks == 4)
		return memcmp(b + ks, "\"id\"", 4) == 0;
	if (ke - ks > 64 || !memchr(b + ks, '\\', ke - ks))
		return false;
	k = json_loadb(b + ks, ke - ks, JSON_DECODE_ANY, NULL); /* "\u0069d" */
	yes = json_is_string(k) && strcmp(json_string_value(k), "id") == 0 &&
	      json_string_length(k) == 2;
	json_decref(k);
	return yes;
}

/* Parse the id value token b[vs..ve): a string or an integer, else NULL. */
static json_t *id_value(const char *b, size_t vs, size_t ve)
{
	json_t *v;

	if (ve <= vs || ve - vs > ID_TOKEN_MAX)
		return NULL;
	v = json_loadb(b + vs, ve - vs, JSON_DECODE_ANY, NULL);
	if (json_is_string(v) || json_is_integer(v))
		return v;
	json_decref(v);
	return NULL;
}

json_t *rpc_scan_id(const char *buf, size_t len)
{
	json_t *found = NULL;
	size_t i = skip_ws(buf, len, 0);

	if (i >= len || buf[i] != '{')
		return NULL;
	i++;
	for (;;) {
		size_t ks, ke, vs, ve;

		i = skip_ws(buf, len, i);
		if (i >= len || buf[i] != '"')
			break; /* '}' ends it; anything else is malformed */
		ks = i;
		ke = skip_string(buf, len, i);
		if (ke >= len)
			break;
		i = skip_ws(buf, len, ke);
		if (i >= len || buf[i] != ':')
			break;
		vs = skip_ws(buf, len, i + 1);
		ve = rpc_skip_value(buf, len, vs);
		if (key_is_id(buf, ks, ke)) {
			if (vs >= len) { /* cut before the id's value */
				json_decref(found);
				return NULL;
			}
			if (found) { /* two ids: which one would be the answer? */
				json_decref(found);
				return NULL;
			}
			if (ve >= len && (buf[vs] == '"' || buf[vs] == '-' ||
					  (buf[vs] >= '0' && buf[vs] <= '9')))
				return NULL; /* perhaps cut inside the id itself */
			if (!(found = id_value(buf, vs, ve)))
				return NULL;
		}
		i = skip_ws(buf, len, ve);
		if (i >= len || buf[i] != ',')
			break;
		i++;
	}
	return found;
}

/* ptr cut back to its first used bytes, then "/key" appended: the new
 * length. */
static size_t ptr_at(char *ptr, size_t n, size_t used, const char *key)
{
	if (n == 0)
		return 0;
	ptr[used] = '\0';
	text_ptr_push(ptr, n, key);
	return strlen(ptr);
}

static bool allowed(const char *const *nul_ok, const char *prop)
{
	if (!nul_ok || !prop)
		return false;
	for (size_t i = 0; nul_ok[i]; i++)
		if (strcmp(nul_ok[i], prop) == 0)
			return true;
	return false;
}

static bool find(const json_t *v, const char *const *nul_ok, const char *prop, char *ptr,
		 size_t n, size_t used)
{
	const char *key;
	json_t *el;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		if (allowed(nul_ok, prop))
			return false;
		return strlen(json_string_value(v)) != json_string_length(v);
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, el) {
			size_t u = ptr_at(ptr, n, used, key);
			if (find(el, nul_ok, key, ptr, n, u))
				return true;
		}
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, el) {
			char idx[24];
			snprintf(idx, sizeof(idx), "%zu", i);
			size_t u = ptr_at(ptr, n, used, idx);
			if (find(el, nul_ok, prop, ptr, n, u))
				return true;
		}
		break;
	default:
		break;
	}
	if (n > 0)
		ptr[used < n ? used : n - 1] = '\0';
	return false;
}

/* Whether v holds a NUL byte where nul_ok does not allow one: find()
 * without the pointer it names, which is built only once one is known to
 * be there (most messages have none, and every key of them would cost a
 * pointer step). */
static bool has_nul(const json_t *v, const char *const *nul_ok, const char *prop)
{
	const char *key;
	json_t *el;
	size_t i;

	switch (json_typeof(v)) {
	case JSON_STRING:
		return !allowed(nul_ok, prop) &&
		       strlen(json_string_value(v)) != json_string_length(v);
	case JSON_OBJECT:
		json_object_foreach((json_t *)v, key, el)
			if (has_nul(el, nul_ok, key))
				return true;
		return false;
	case JSON_ARRAY:
		json_array_foreach(v, i, el)
			if (has_nul(el, nul_ok, prop))
				return true;
		return false;
	default:
		return false;
	}
}

bool rpc_find_nul(const json_t *v, const char *const *nul_ok, char *ptr, size_t n)
{
	if (n > 0)
		ptr[0] = '\0';
	return v && has_nul(v, nul_ok, NULL) && find(v, nul_ok, NULL, ptr, n, 0);
}
