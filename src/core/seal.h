/*
 * seal.h - the requestState of a stateless (2026-07-28) multi-round call:
 * what the server must remember between rounds, sealed so that the client
 * carries it without being able to read, change, replay elsewhere or keep
 * it past its expiry.
 *
 * A sealed state binds its body (the earlier rounds' input responses and
 * the handler's own state) to one subject (the tool or prompt), one
 * principal, one set of arguments (by SHA-256 of their canonical JSON)
 * and an expiry. It is AES-256-GCM under a key derived from the process
 * key: random per process unless the config gives one
 * ("server.state_key", so that several moat processes behind one address
 * accept each other's states). The output is base64url without padding.
 *
 * Thread-safe once configured: seal_configure() runs in the
 * single-threaded start-up; without it the first use draws a random key.
 */
#ifndef MOAT_CORE_SEAL_H
#define MOAT_CORE_SEAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "result.h"

#define SEAL_KEY_BYTES 32
#define SEAL_TTL_DEFAULT_S 600u
/* The longest requestState accepted or produced (base64url characters). */
#define SEAL_MAX_CHARS (1024u * 1024u)

/* What a sealed state is bound to; all borrowed. */
struct seal_claims {
	const char *subject;   /* "tool NAME" or "prompt NAME": who may open it */
	const char *principal; /* the caller's principal name */
	const json_t *args;    /* the request's arguments (NULL: {}) */
};

/*
 * seal_parse_key - a key written as 64 hex digits or as base64/base64url
 * of 32 bytes into key. False when text is neither.
 */
bool seal_parse_key(const char *text, uint8_t key[SEAL_KEY_BYTES]);

/*
 * seal_configure - set the process key (NULL: draw a random one) and the
 * lifetime of a state in seconds (0: SEAL_TTL_DEFAULT_S). Call from the
 * single-threaded start-up, before any server runs; later calls replace
 * both (tests). Returns MOAT_EIO when no random key can be drawn.
 */
enum moat_rc seal_configure(const uint8_t *key, uint32_t ttl_s, struct moat_err *err);

/* seal_ttl - the lifetime of a state in seconds. */
uint32_t seal_ttl(void);

/*
 * seal_box - seal body (a JSON object, borrowed) for c, expiring
 * seal_ttl() seconds after now_s (0: now). Returns a new string (the
 * caller frees it), or NULL with err set (ENOMEM, EIO without a key,
 * ELIMIT when the result would pass SEAL_MAX_CHARS).
 */
char *seal_box(const struct seal_claims *c, const json_t *body, uint64_t now_s,
	       struct moat_err *err);

/*
 * seal_box_ttl - seal_box with a lifetime of its own: ttl_s seconds (0:
 * seal_ttl()). For what lives longer or shorter than a requestState (an
 * old-era session id, a shared cache entry). Same ownership as seal_box.
 */
char *seal_box_ttl(const struct seal_claims *c, const json_t *body, uint64_t now_s,
		   uint32_t ttl_s, struct moat_err *err);

/*
 * seal_mac_hex - HMAC-SHA256 of data under a key derived from the process
 * key and label (one key per purpose), as 64 hex digits and a NUL into
 * out. Names a thing in a shared store without saying what it is (a
 * cache entry's key). Thread-safe; false without a key.
 */
bool seal_mac_hex(const char *label, const void *data, size_t len, char out[65]);

/*
 * seal_open - open text sealed by seal_box for c at now_s (0: now). On
 * MOAT_OK *body is the body (a new reference, the caller's) and *exp (when
 * exp is not NULL) its expiry in seconds since the epoch. Otherwise
 * MOAT_EINVAL with err naming the rule: state.malformed (not base64url,
 * too long), state.tampered (authentication failed: changed, cut, sealed
 * under another key), state.expired, state.wrong_principal,
 * state.wrong_tool, state.wrong_arguments.
 */
enum moat_rc seal_open(const char *text, const struct seal_claims *c, uint64_t now_s,
		       json_t **body, uint64_t *exp, struct moat_err *err);

/* seal_id - a hex digest (32 digits and a NUL into id) naming text: one
 * state, one id (the encoding admits one text per value). */
void seal_id(const char *text, char id[33]);

#endif
