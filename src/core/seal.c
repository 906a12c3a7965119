/*
 * seal.c - requestState sealed with AES-256-GCM (nettle), so that a
 * stateless multi-round call keeps nothing on the server between rounds.
 *
 * Layout before base64url: a version byte (1, also the associated data),
 * a random 12-byte nonce, the ciphertext of a JSON object
 * {"v":1,"sub","who","exp","args","body"} and the 16-byte tag. The GCM key
 * is HMAC-SHA256(process key, "moat requestState v1"), so the configured
 * key can serve other purposes (a cluster key) without two uses sharing
 * one AES key. A random 96-bit nonce per seal under one key is safe for far
 * more seals than one process makes. The arguments are bound by the
 * SHA-256 of their canonical JSON (sorted keys, compact): the same process
 * dumps the same value the same way.
 */
#include "seal.h"
#include "text.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <nettle/base64.h>
#include <nettle/gcm.h>
#include <nettle/hmac.h>
#include <nettle/memops.h>
#include <nettle/sha2.h>

#define SEAL_VERSION 1u
#define SEAL_NONCE 12u
#define SEAL_TAG 16u

static uint8_t g_key[SEAL_KEY_BYTES]; /* the derived GCM key */
static uint8_t g_mac_root[SEAL_KEY_BYTES]; /* HMAC(process key, "moat mac v1") */
static bool g_have_key;
static uint32_t g_ttl_s = SEAL_TTL_DEFAULT_S;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static bool random_bytes(uint8_t *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(buf + got, n - got, 0);
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

static void derive(const uint8_t *key)
{
	static const char label[] = "moat requestState v1";
	struct hmac_sha256_ctx h;

	hmac_sha256_set_key(&h, SEAL_KEY_BYTES, key);
	hmac_sha256_update(&h, sizeof(label) - 1, (const uint8_t *)label);
	hmac_sha256_digest(&h, SHA256_DIGEST_SIZE, g_key);
	hmac_sha256_set_key(&h, SEAL_KEY_BYTES, key);
	hmac_sha256_update(&h, sizeof("moat mac v1") - 1, (const uint8_t *)"moat mac v1");
	hmac_sha256_digest(&h, SHA256_DIGEST_SIZE, g_mac_root);
	explicit_bzero(&h, sizeof(h));
	g_have_key = true;
}

static void random_key_once(void)
{
	uint8_t k[SEAL_KEY_BYTES];

	if (g_have_key)
		return; /* configured */
	if (random_bytes(k, sizeof(k)))
		derive(k);
	explicit_bzero(k, sizeof(k));
}

static bool have_key(void)
{
	pthread_once(&g_once, random_key_once);
	return g_have_key;
}

static bool b64url_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

static int b64url_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	return c == '-' ? 62 : 63;
}

/* Decode base64url (unpadded) text of n characters into out (at least
 * BASE64_DECODE_LENGTH(n) bytes); *outlen the byte count. */
static bool b64url_decode(const char *text, size_t n, uint8_t *out, size_t *outlen)
{
	struct base64_decode_ctx d;
	char pad[2] = {'=', '='};
	size_t done = 0, more = 0;

	if (n % 4 == 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!b64url_char(text[i]))
			return false;
	if (n % 4 && (b64url_value(text[n - 1]) & (n % 4 == 2 ? 0xf : 0x3)))
		return false; /* bits past the end must be zero: one text per value */
	base64url_decode_init(&d);
	if (!base64_decode_update(&d, &done, out, n, text))
		return false;
	if (n % 4 && !base64_decode_update(&d, &more, out + done, 4 - n % 4, pad))
		return false;
	if (!base64_decode_final(&d))
		return false;
	*outlen = done + more;
	return true;
}

bool seal_parse_key(const char *text, uint8_t key[SEAL_KEY_BYTES])
{
	size_t n = text ? strlen(text) : 0;
	uint8_t buf[BASE64_DECODE_LENGTH(64)];
	size_t len = 0;
	char tmp[64];

	if (n == 2 * SEAL_KEY_BYTES) {
		bool ok = true;
		for (size_t i = 0; ok && i < SEAL_KEY_BYTES; i++) {
			int hi = text_hexval(text[2 * i]), lo = text_hexval(text[2 * i + 1]);
			ok = hi >= 0 && lo >= 0;
			if (ok)
				key[i] = (uint8_t)((unsigned)hi << 4 | (unsigned)lo);
		}
		if (ok)
			return true;
	}
	/* base64 or base64url, padded or not: 43 or 44 characters. */
	while (n > 0 && text[n - 1] == '=')
		n--;
	if (n != 43)
		return false;
	for (size_t i = 0; i < n; i++)
		tmp[i] = text[i] == '+' ? '-' : text[i] == '/' ? '_' : text[i];
	if (!b64url_decode(tmp, n, buf, &len) || len != SEAL_KEY_BYTES) {
		explicit_bzero(buf, sizeof(buf));
		explicit_bzero(tmp, sizeof(tmp));
		return false;
	}
	memcpy(key, buf, SEAL_KEY_BYTES);
	explicit_bzero(buf, sizeof(buf));
	explicit_bzero(tmp, sizeof(tmp));
	return true;
}

enum moat_rc seal_configure(const uint8_t *key, uint32_t ttl_s, struct moat_err *err)
{
	uint8_t k[SEAL_KEY_BYTES];

	g_ttl_s = ttl_s ? ttl_s : SEAL_TTL_DEFAULT_S;
	if (key) {
		derive(key);
		return MOAT_OK;
	}
	if (!random_bytes(k, sizeof(k)))
		return moat_err_set(err, MOAT_EIO, "cannot draw a random requestState key");
	derive(k);
	explicit_bzero(k, sizeof(k));
	return MOAT_OK;
}

uint32_t seal_ttl(void)
{
	return g_ttl_s;
}

/* SHA-256 of args' canonical JSON as 64 hex digits into hex[65]. */
static bool args_hash(const json_t *args, char hex[65])
{
	json_t *empty = NULL;
	char *text;
	struct sha256_ctx h;
	uint8_t d[SHA256_DIGEST_SIZE];

	if (!args && !(args = empty = json_object()))
		return false;
	text = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	json_decref(empty);
	if (!text)
		return false;
	sha256_init(&h);
	sha256_update(&h, strlen(text), (const uint8_t *)text);
	sha256_digest(&h, sizeof(d), d);
	free(text);
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return true;
}

static uint64_t now_or(uint64_t now_s)
{
	return now_s ? now_s : (uint64_t)time(NULL);
}

bool seal_mac_hex(const char *label, const void *data, size_t len, char out[65])
{
	struct hmac_sha256_ctx h;
	uint8_t k[SHA256_DIGEST_SIZE], d[SHA256_DIGEST_SIZE];

	if (!have_key())
		return false;
	/* The purpose key: HMAC(mac root, label); then HMAC(purpose key, data). */
	hmac_sha256_set_key(&h, SEAL_KEY_BYTES, g_mac_root);
	hmac_sha256_update(&h, strlen(label), (const uint8_t *)label);
	hmac_sha256_digest(&h, sizeof(k), k);
	hmac_sha256_set_key(&h, sizeof(k), k);
	hmac_sha256_update(&h, len, data);
	hmac_sha256_digest(&h, sizeof(d), d);
	explicit_bzero(&h, sizeof(h));
	explicit_bzero(k, sizeof(k));
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return true;
}

char *seal_box(const struct seal_claims *c, const json_t *body, uint64_t now_s,
	       struct moat_err *err)
{
	return seal_box_ttl(c, body, now_s, 0, err);
}

char *seal_box_ttl(const struct seal_claims *c, const json_t *body, uint64_t now_s,
		   uint32_t ttl_s, struct moat_err *err)
{
	char hex[65];
	json_t *doc;
	char *plain = NULL, *out = NULL;
	uint8_t *raw = NULL;
	size_t plen, rlen, olen;
	struct gcm_aes256_ctx g;
	const uint8_t ver = SEAL_VERSION;
	struct base64_encode_ctx e;

	if (!have_key()) {
		moat_err_set(err, MOAT_EIO, "no requestState key (no randomness)");
		return NULL;
	}
	if (!args_hash(c->args, hex)) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	doc = json_pack("{s:i, s:s, s:s, s:I, s:s, s:O}", "v", (int)SEAL_VERSION, "sub",
			c->subject, "who", c->principal, "exp",
			(json_int_t)(now_or(now_s) + (ttl_s ? ttl_s : g_ttl_s)), "args", hex,
			"body", body);
	plain = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!plain) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	plen = strlen(plain);
	rlen = 1 + SEAL_NONCE + plen + SEAL_TAG;
	if (BASE64_ENCODE_RAW_LENGTH(rlen) > SEAL_MAX_CHARS) {
		moat_err_rule(err, MOAT_ELIMIT, "state.too_large",
			      "the state to carry to the next round passes %u bytes",
			      SEAL_MAX_CHARS);
		goto out;
	}
	raw = malloc(rlen);
	out = raw ? malloc(BASE64_ENCODE_RAW_LENGTH(rlen) + 1) : NULL;
	if (!out) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	raw[0] = ver;
	if (!random_bytes(raw + 1, SEAL_NONCE)) {
		moat_err_set(err, MOAT_EIO, "cannot draw a nonce");
		free(out);
		out = NULL;
		goto out;
	}
	gcm_aes256_set_key(&g, g_key);
	gcm_aes256_set_iv(&g, SEAL_NONCE, raw + 1);
	gcm_aes256_update(&g, 1, &ver);
	gcm_aes256_encrypt(&g, plen, raw + 1 + SEAL_NONCE, (const uint8_t *)plain);
	gcm_aes256_digest(&g, SEAL_TAG, raw + 1 + SEAL_NONCE + plen);
	explicit_bzero(&g, sizeof(g));
	base64url_encode_init(&e);
	olen = base64_encode_update(&e, out, rlen, raw);
	olen += base64_encode_final(&e, out + olen);
	while (olen > 0 && out[olen - 1] == '=')
		olen--;
	out[olen] = '\0';
out:
	explicit_bzero(plain, plen);
	free(plain);
	free(raw);
	return out;
}

static enum moat_rc tampered(struct moat_err *err)
{
	return moat_err_rule(err, MOAT_EINVAL, "state.tampered",
			     "invalid params: requestState failed its integrity check (changed, "
			     "cut, or not issued by this server)");
}

/* Check the opened document against c and the clock; steal its body. */
static enum moat_rc check_claims(json_t *doc, const struct seal_claims *c, uint64_t now_s,
				 json_t **body, uint64_t *exp_out, struct moat_err *err)
{
	json_t *exp = json_object_get(doc, "exp");
	const char *sub = json_string_value(json_object_get(doc, "sub"));
	const char *who = json_string_value(json_object_get(doc, "who"));
	const char *args = json_string_value(json_object_get(doc, "args"));
	json_t *b = json_object_get(doc, "body");
	char hex[65];

	if (!json_is_integer(exp) || !sub || !who || !args || !json_is_object(b))
		return tampered(err); /* authentic but not ours: another version */
	if ((uint64_t)json_integer_value(exp) <= now_or(now_s))
		return moat_err_rule(err, MOAT_EINVAL, "state.expired",
				     "invalid params: requestState has expired (states live %u s); "
				     "start the request again without it",
				     g_ttl_s);
	if (strcmp(who, c->principal) != 0)
		return moat_err_rule(err, MOAT_EINVAL, "state.wrong_principal",
				     "invalid params: requestState was issued to another caller");
	if (strcmp(sub, c->subject) != 0)
		return moat_err_rule(err, MOAT_EINVAL, "state.wrong_tool",
				     "invalid params: requestState was issued for another tool or "
				     "prompt");
	if (!args_hash(c->args, hex))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (strcmp(hex, args) != 0)
		return moat_err_rule(err, MOAT_EINVAL, "state.wrong_arguments",
				     "invalid params: requestState was issued for other arguments");
	*body = json_incref(b);
	if (exp_out)
		*exp_out = (uint64_t)json_integer_value(exp);
	return MOAT_OK;
}

enum moat_rc seal_open(const char *text, const struct seal_claims *c, uint64_t now_s,
		       json_t **body, uint64_t *exp, struct moat_err *err)
{
	size_t n = text ? strlen(text) : 0, rlen = 0, plen;
	uint8_t *raw = NULL, *plain = NULL;
	uint8_t tag[SEAL_TAG];
	struct gcm_aes256_ctx g;
	json_t *doc;
	enum moat_rc rc;

	*body = NULL;
	if (n == 0 || n > SEAL_MAX_CHARS)
		return moat_err_rule(err, MOAT_EINVAL, "state.malformed",
				     "invalid params: requestState must be a non-empty string of at "
				     "most %u characters",
				     SEAL_MAX_CHARS);
	if (!have_key())
		return tampered(err);
	raw = malloc(BASE64_DECODE_LENGTH(n) + 4);
	if (!raw)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (!b64url_decode(text, n, raw, &rlen) || rlen < 1 + SEAL_NONCE + SEAL_TAG + 2 ||
	    raw[0] != SEAL_VERSION) {
		free(raw);
		return tampered(err);
	}
	plen = rlen - 1 - SEAL_NONCE - SEAL_TAG;
	plain = malloc(plen + 1);
	if (!plain) {
		free(raw);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	gcm_aes256_set_key(&g, g_key);
	gcm_aes256_set_iv(&g, SEAL_NONCE, raw + 1);
	gcm_aes256_update(&g, 1, raw);
	gcm_aes256_decrypt(&g, plen, plain, raw + 1 + SEAL_NONCE);
	gcm_aes256_digest(&g, SEAL_TAG, tag);
	explicit_bzero(&g, sizeof(g));
	if (!memeql_sec(tag, raw + 1 + SEAL_NONCE + plen, SEAL_TAG)) {
		explicit_bzero(plain, plen);
		free(plain);
		free(raw);
		return tampered(err);
	}
	free(raw);
	plain[plen] = '\0';
	doc = json_loadb((const char *)plain, plen, JSON_REJECT_DUPLICATES, NULL);
	explicit_bzero(plain, plen);
	free(plain);
	if (!json_is_object(doc) || json_integer_value(json_object_get(doc, "v")) != SEAL_VERSION) {
		json_decref(doc);
		return tampered(err);
	}
	rc = check_claims(doc, c, now_s, body, exp, err);
	json_decref(doc);
	return rc;
}

void seal_id(const char *text, char id[33])
{
	struct sha256_ctx h;
	uint8_t d[SHA256_DIGEST_SIZE];

	sha256_init(&h);
	sha256_update(&h, strlen(text), (const uint8_t *)text);
	sha256_digest(&h, sizeof(d), d);
	for (size_t i = 0; i < 16; i++)
		snprintf(id + 2 * i, 3, "%02x", d[i]);
}
