/*
 * auth_token.c - static bearer tokens: the "auth.tokens" array turned into
 * SHA-256 digests (Nettle), and the constant-time lookup of a presented
 * token among them.
 *
 * Only digests are kept: the value is hashed from a private copy that is
 * wiped (explicit_bzero) at once. (The resolved config document still
 * holds the value until its owner calls auth_wipe_section.) A presented
 * token is hashed and its digest compared with every configured digest
 * by Nettle's memeql_sec, the index of a match selected by masks rather
 * than a branch, so the time taken does not depend on which token matched,
 * whether one did, or how long a common prefix was.
 *
 * A token must be at least AUTH_STATIC_TOKEN_MIN bytes of RFC 6750's
 * b64token alphabet and use at least 10 distinct characters: a person who
 * writes "changeme-changeme-changeme-change" is told to run
 * `openssl rand -hex 32` instead.
 */
#include "auth_int.h"

#include <nettle/memops.h>
#include <nettle/sha2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static atomic_ulong compares;

unsigned long auth_tokens_compares(void)
{
	return atomic_load_explicit(&compares, memory_order_relaxed);
}

void auth_digest_hex(const uint8_t *d, size_t n, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (size == 0)
		return;
	for (size_t i = 0; i < n && o + 2 < size; i++) {
		out[o++] = hex[d[i] >> 4];
		out[o++] = hex[d[i] & 15];
	}
	out[o] = '\0';
}

void auth_token_digest(const char *tok, size_t len, uint8_t out[AUTH_DIGEST_LEN])
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, len, (const uint8_t *)tok);
	sha256_digest(&c, AUTH_DIGEST_LEN, out);
	explicit_bzero(&c, sizeof(c));
}

long auth_tokens_match(const struct auth_tokens *t, const uint8_t d[AUTH_DIGEST_LEN])
{
	unsigned long found = 0, match = 0;

	for (size_t i = 0; i < t->n; i++) {
		/* memeql_sec returns 1 or 0 in time independent of the bytes. */
		unsigned long eq = (unsigned long)memeql_sec(d, t->v[i].digest, AUTH_DIGEST_LEN);
		unsigned long mask = 0UL - eq;
		match = (match & ~mask) | ((unsigned long)i & mask);
		found |= eq;
	}
	atomic_fetch_add_explicit(&compares, t->n, memory_order_relaxed);
	return found ? (long)match : -1;
}

bool auth_b64token(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/')
			i++;
		else
			break;
	}
	if (i == 0)
		return false;
	while (i < n && s[i] == '=')
		i++;
	return i == n;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n >= AUTH_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.' || c == '@'))
			return false;
	}
	return true;
}

static unsigned distinct(const char *s, size_t n)
{
	unsigned char seen[256] = {0};
	unsigned k = 0;

	for (size_t i = 0; i < n; i++)
		if (!seen[(unsigned char)s[i]]++)
			k++;
	return k;
}

/* Check and hash one token's value; the private copy is wiped. */
static enum moat_rc token_value(const json_t *v, size_t i, uint8_t out[AUTH_DIGEST_LEN],
				struct moat_err *err)
{
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	char *copy;
	enum moat_rc rc = MOAT_OK;

	if (!s)
		return moat_err_rule(err, MOAT_EINVAL, "auth.weak_token",
				     "/auth/tokens/%zu/token: must be a string", i);
	if (n < AUTH_STATIC_TOKEN_MIN || n > AUTH_TOKEN_MAX)
		return moat_err_rule(err, MOAT_EINVAL, "auth.weak_token",
				     "/auth/tokens/%zu/token: a static token must be %d to %d bytes "
				     "long (it is %zu); make one with `openssl rand -hex 32`",
				     i, AUTH_STATIC_TOKEN_MIN, AUTH_TOKEN_MAX, n);
	if (!auth_b64token(s, n))
		return moat_err_rule(err, MOAT_EINVAL, "auth.weak_token",
				     "/auth/tokens/%zu/token: a static token may hold only letters, "
				     "digits and - . _ ~ + / (then = padding), as a Bearer header "
				     "carries it; make one with `openssl rand -hex 32`", i);
	if (distinct(s, n) < 10)
		return moat_err_rule(err, MOAT_EINVAL, "auth.weak_token",
				     "/auth/tokens/%zu/token: too little variety for a secret (fewer "
				     "than 10 distinct characters); make one with "
				     "`openssl rand -hex 32`", i);
	if (!(copy = malloc(n)))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	memcpy(copy, s, n);
	auth_token_digest(copy, n, out);
	explicit_bzero(copy, n);
	free(copy);
	return rc;
}

static enum moat_rc token_policy(const json_t *tools, size_t i, struct auth_token *t,
				 struct moat_err *err)
{
	const char **pats = NULL;
	size_t n = json_array_size(tools), k;
	json_t *v;
	char why[256] = "";
	enum moat_rc rc = MOAT_OK;

	if (!(t->policy = policy_new()))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (n == 0) {
		if (!t->metrics)
			return moat_err_set(err, MOAT_EINVAL,
					    "/auth/tokens/%zu/tools: a token must allow at least one "
					    "tool pattern, or set \"metrics\": true", i);
		return MOAT_OK; /* a metrics-only token: no group */
	}
	if (!(pats = calloc(n, sizeof(*pats))))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_array_foreach(tools, k, v) {
		if (!json_is_string(v)) {
			rc = moat_err_set(err, MOAT_EINVAL, "/auth/tokens/%zu/tools/%zu: must be a string",
					  i, k);
			goto out;
		}
		pats[k] = json_string_value(v);
	}
	if (policy_add_group(t->policy, pats, n, why, sizeof(why)) != 0)
		rc = moat_err_set(err, MOAT_EINVAL, "/auth/tokens/%zu/tools: %s", i,
				  why[0] ? why : "not a valid list of tool patterns");
out:
	free(pats);
	return rc;
}

static enum moat_rc token_parse(const json_t *o, size_t i, struct auth_token *t,
				struct moat_err *err)
{
	const char *name = json_string_value(json_object_get(o, "name"));
	const json_t *cpm = json_object_get(o, "calls_per_minute");
	const json_t *tools = json_object_get(o, "tools");
	enum moat_rc rc;

	if (!json_is_object(o))
		return moat_err_set(err, MOAT_EINVAL, "/auth/tokens/%zu: must be an object", i);
	if (!name || !name_ok(name))
		return moat_err_set(err, MOAT_EINVAL,
				    "/auth/tokens/%zu/name: required, 1 to 64 of A-Z a-z 0-9 _ - . @",
				    i);
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->metrics = json_is_true(json_object_get(o, "metrics"));
	t->calls_per_minute = AUTH_DEFAULT_CPM;
	if (cpm) {
		if (!json_is_integer(cpm) || json_integer_value(cpm) < 0 ||
		    json_integer_value(cpm) > 1000000)
			return moat_err_set(err, MOAT_EINVAL,
					    "/auth/tokens/%zu/calls_per_minute: an integer from 0 "
					    "(no limit) to 1000000", i);
		t->calls_per_minute = (uint32_t)json_integer_value(cpm);
	}
	bucket_init(&t->bucket, t->calls_per_minute);
	bucket_set_key(&t->bucket, "principal:%s", t->name);
	if (tools && !json_is_array(tools))
		return moat_err_set(err, MOAT_EINVAL, "/auth/tokens/%zu/tools: must be an array", i);
	if ((rc = token_policy(tools, i, t, err)))
		return rc;
	return token_value(json_object_get(o, "token"), i, t->digest, err);
}

enum moat_rc auth_tokens_parse(const json_t *arr, struct auth_tokens *t, struct moat_err *err)
{
	size_t n = json_array_size(arr), i;
	enum moat_rc rc;

	memset(t, 0, sizeof(*t));
	if (!json_is_array(arr) || n == 0 || n > AUTH_MAX_TOKENS)
		return moat_err_set(err, MOAT_EINVAL, "/auth/tokens: an array of 1 to %d tokens",
				    AUTH_MAX_TOKENS);
	if (!(t->v = calloc(n, sizeof(*t->v))))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	for (i = 0; i < n; i++) {
		t->n = i + 1; /* what auth_tokens_free must release */
		if ((rc = token_parse(json_array_get(arr, i), i, &t->v[i], err)))
			goto fail;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(t->v[j].name, t->v[i].name) == 0) {
				rc = moat_err_rule(err, MOAT_EINVAL, "auth.duplicate_token",
						   "/auth/tokens/%zu/name: \"%s\" is also the name of "
						   "/auth/tokens/%zu; names must be unique",
						   i, t->v[i].name, j);
				goto fail;
			}
			if (memcmp(t->v[j].digest, t->v[i].digest, AUTH_DIGEST_LEN) == 0) {
				rc = moat_err_rule(err, MOAT_EINVAL, "auth.duplicate_token",
						   "/auth/tokens/%zu/token: the same value as "
						   "/auth/tokens/%zu; give every principal its own "
						   "token", i, j);
				goto fail;
			}
		}
	}
	return MOAT_OK;
fail:
	auth_tokens_free(t);
	return rc;
}

void auth_tokens_free(struct auth_tokens *t)
{
	if (!t || !t->v)
		return;
	for (size_t i = 0; i < t->n; i++) {
		policy_free(t->v[i].policy);
		bucket_destroy(&t->v[i].bucket);
	}
	explicit_bzero(t->v, t->n * sizeof(*t->v));
	free(t->v);
	memset(t, 0, sizeof(*t));
}
