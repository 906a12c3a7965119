/*
 * api_shared.c - the declared API tools' response cache shared by the
 * replicas of a cluster ("cache": {"shared": true}; store.h).
 *
 * An upstream answer becomes a JSON object {"status", "content_type"?,
 * "body" | "body_b64"} (the body as text when it is UTF-8 without NUL
 * bytes, else base64) and goes through store_cache_put, which seals it
 * under the cluster key before it leaves the process; the store sees an
 * HMAC for a name and ciphertext for a value. The namespace is the API's
 * name. Entries are not bound to a principal: an API has one credential
 * (its headers, from the environment), so every caller allowed to call a
 * tool of it gets the same answer from the upstream as from the cache.
 *
 * Everything here is best effort: a store that does not answer is a miss
 * (store.c counts it), and the caller uses its own in-memory cache.
 * Copies of bodies are wiped before they are freed, as resp_cache.c does.
 * Thread-safe (store.h is).
 */
#include "api_shared.h"

#include <nettle/base64.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "text.h"

bool api_shared_on(const struct api *a)
{
	return a->shared && a->cache && store_active();
}

/* Wipe and free a NUL-terminated copy. */
static void wipe_free(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* Decode standard base64 s (padded) into a new buffer. */
static char *unbase64(const char *s, size_t *len)
{
	struct base64_decode_ctx d;
	size_t n = strlen(s), out_len = BASE64_DECODE_LENGTH(n);
	char *out = malloc(out_len + 1);

	if (!out)
		return NULL;
	base64_decode_init(&d);
	if (!base64_decode_update(&d, &out_len, (uint8_t *)out, n, s) ||
	    !base64_decode_final(&d)) {
		explicit_bzero(out, out_len);
		free(out);
		return NULL;
	}
	out[out_len] = '\0';
	*len = out_len;
	return out;
}

enum store_rc api_shared_get(const struct api *a, const char *key, struct rcache_entry *out)
{
	json_t *v = NULL, *body, *b64;
	const char *ct;
	enum store_rc rc;

	memset(out, 0, sizeof(*out));
	rc = store_cache_get(a->name, NULL, key, &v);
	if (rc != STORE_OK)
		return rc;
	body = json_object_get(v, "body");
	b64 = json_object_get(v, "body_b64");
	ct = json_string_value(json_object_get(v, "content_type"));
	out->status = (long)json_integer_value(json_object_get(v, "status"));
	if (json_is_string(body)) {
		out->body_len = json_string_length(body);
		out->body = malloc(out->body_len + 1);
		if (out->body) {
			memcpy(out->body, json_string_value(body), out->body_len);
			out->body[out->body_len] = '\0';
		}
	} else if (json_is_string(b64)) {
		out->body = unbase64(json_string_value(b64), &out->body_len);
	}
	if (ct)
		out->content_type = strdup(ct);
	/* The plaintext body in v is wiped in place before v goes (as
	 * auth.c does with a secret in a jansson string). */
	if (json_is_string(body))
		explicit_bzero((char *)json_string_value(body), json_string_length(body));
	json_decref(v);
	if (!out->body || (ct && !out->content_type) || out->status < 100) {
		rcache_entry_wipe(out);
		return STORE_EMPTY; /* malformed or out of memory: a miss */
	}
	return STORE_OK;
}

void api_shared_put(const struct api *a, const char *key, const struct rcache_entry *e)
{
	json_t *v;
	char *enc = NULL;

	if (text_utf8_valid(e->body, e->body_len) && !memchr(e->body, '\0', e->body_len)) {
		v = json_pack("{s:I, s:s#}", "status", (json_int_t)e->status, "body", e->body,
			      e->body_len);
	} else {
		enc = text_base64((const unsigned char *)e->body, e->body_len);
		v = enc ? json_pack("{s:I, s:s}", "status", (json_int_t)e->status, "body_b64", enc)
			: NULL;
	}
	if (v && e->content_type)
		json_object_set_new(v, "content_type", json_string(e->content_type));
	if (v)
		store_cache_put(a->name, NULL, key, v, a->ttl_ns / 1000000u);
	if (v) {
		json_t *b = json_object_get(v, "body");
		if (!b)
			b = json_object_get(v, "body_b64");
		if (json_is_string(b))
			explicit_bzero((char *)json_string_value(b), json_string_length(b));
		json_decref(v);
	}
	wipe_free(enc);
}

void api_shared_clear(const struct api *a)
{
	store_cache_clear(a->name);
}
