/*
 * auth_int.h - what the files of src/auth/ share: the static token table
 * (auth_token.c), the JWKS and its keys (auth_jwks.c, fetched by
 * auth_jwks_fetch.c), the JWT checks (auth_jwt.c), the table of JWT
 * subjects' rate buckets (auth_subjects.c) and the checker itself
 * (auth.c). Not for use outside src/auth/ and its tests.
 */
#ifndef MOAT_AUTH_AUTH_INT_H
#define MOAT_AUTH_AUTH_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "limits_cfg.h"
#include "principal.h"
#include "result.h"

#define AUTH_DIGEST_LEN 32        /* SHA-256 */
#define AUTH_NAME_MAX 65          /* a static token's name, with the NUL */
#define AUTH_MAX_TOKENS 1024
#define AUTH_KID_MAX 256          /* a kid, with the NUL */
#define AUTH_JWKS_MAX_KEYS 64
#define AUTH_JWKS_MAX_BYTES (256u * 1024u)
#define AUTH_JWKS_REFRESH_NS (30ull * 1000000000ull)
#define AUTH_SUBJECT_PREFIX "oauth:"
/* The longest subject claim: the principal's name is the prefix + it. */
#define AUTH_SUBJECT_MAX (PRINCIPAL_NAME_MAX - 1 - (sizeof(AUTH_SUBJECT_PREFIX) - 1))
#define AUTH_DEFAULT_CPM 600      /* tool calls a minute per principal */
#define AUTH_DEFAULT_SUBJECTS 4096
#define AUTH_DEFAULT_LEEWAY 60
#define AUTH_DEFAULT_JWKS_AGE 3600 /* s: a fetched JWKS is refetched after this */
#define AUTH_CACHE_SLOTS 1024     /* verified JWTs remembered (a power of two) */
#define AUTH_CACHE_MAX_S 300      /* the longest a verified JWT is trusted unchecked */

/* ---- algorithms -------------------------------------------------------- */

enum auth_kty { AUTH_KTY_RSA = 1, AUTH_KTY_EC, AUTH_KTY_OKP };

/* One JWS algorithm moat accepts (never "none", never HS*). */
struct auth_alg {
	const char *name;   /* "RS256" ... "EdDSA" */
	enum auth_kty kty;  /* the only key type it may be used with */
	const char *crv;    /* EC: the only curve; NULL otherwise */
};

/* auth_alg_find - the algorithm called name, or NULL (also for "none" and
 * HS*): index into auth_algs in *idx. */
const struct auth_alg *auth_alg_find(const char *name, unsigned *idx);
extern const struct auth_alg auth_algs[];
extern const unsigned auth_nalgs;

/* ---- static tokens (auth_token.c) -------------------------------------- */

struct auth_token {
	char name[AUTH_NAME_MAX];
	uint8_t digest[AUTH_DIGEST_LEN];
	struct tool_policy *policy; /* one group: the token's "tools" */
	struct token_bucket bucket;
	bool metrics;
	uint32_t calls_per_minute;
};

struct auth_tokens {
	struct auth_token *v;
	size_t n;
};

/* auth_tokens_parse - the "tokens" array (borrowed) into t; every token is
 * hashed, checked (length, charset, variety, unique value and name) and
 * the hashed copy wiped. err names /auth/tokens/<i>/<key>. */
enum moat_rc auth_tokens_parse(const json_t *arr, struct auth_tokens *t, struct moat_err *err);

/* auth_token_digest - SHA-256 of tok[0..len) into d. */
void auth_token_digest(const char *tok, size_t len, uint8_t d[AUTH_DIGEST_LEN]);

/* auth_tokens_match - the index of the token whose digest is d (a
 * presented token's auth_token_digest), or -1. Every configured digest is
 * compared, in constant time, whatever matched. Thread-safe. */
long auth_tokens_match(const struct auth_tokens *t, const uint8_t d[AUTH_DIGEST_LEN]);

/* auth_tokens_compares - digests compared since start (tests: proof that
 * every check compared every digest). Thread-safe. */
unsigned long auth_tokens_compares(void);

/* auth_digest_hex - the first n bytes of a digest as hex into out. */
void auth_digest_hex(const uint8_t *d, size_t n, char *out, size_t size);

void auth_tokens_free(struct auth_tokens *t);

/* auth_b64token - true when s[0..n) is an RFC 6750 b64token:
 * 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=". */
bool auth_b64token(const char *s, size_t n);

/* ---- JWKS (auth_jwks.c) ------------------------------------------------ */

struct auth_key {
	char kid[AUTH_KID_MAX];   /* never empty: keys without one are skipped */
	enum auth_kty kty;
	char crv[16];             /* EC and OKP */
	char alg[16];             /* the JWK's "alg", or "" */
	unsigned rsa_bits;
	uint8_t okp[57];          /* OKP public key (Ed25519: 32, Ed448: 57) */
	size_t okp_len;
	json_t *jwk;              /* the public JWK, owned */
};

/* A key set, immutable once built and shared by reference. */
struct auth_jwks {
	unsigned long refs;       /* guarded by the owner's lock */
	unsigned long gen;        /* which set this is (auth_oauth.jwks_gen) */
	size_t n;
	struct auth_key keys[];
};

/*
 * auth_jwks_parse - a JWKS document ({"keys": [...]}) into a new set.
 * Keys that are not for signatures ("use" other than "sig", key_ops
 * without "verify"), private keys' private parts, "oct" keys and unknown
 * key types are refused with err naming the key; an RSA modulus below
 * 2048 bits too. At least one key. refs starts at 1.
 */
struct auth_jwks *auth_jwks_parse(const char *text, size_t len, struct moat_err *err);
void auth_jwks_free(struct auth_jwks *k);

/* auth_jwks_pick - the key whose kid is kid, or NULL (also for kid NULL:
 * a token must name its key). */
const struct auth_key *auth_jwks_pick(const struct auth_jwks *k, const char *kid);

/*
 * auth_jwks_key_fits - false with *why set when key may not verify alg:
 * another key type, another curve, or the JWK's own "alg" differs.
 */
bool auth_jwks_key_fits(const struct auth_key *key, const struct auth_alg *alg, const char **why);

/*
 * auth_jwks_verify - verify the JWS compact token tok (its three segments
 * at the dots dot1 and dot2) with exactly key, for alg (already checked
 * to fit). Thread-safe.
 */
bool auth_jwks_verify(const struct auth_key *key, const struct auth_alg *alg, const char *tok,
		      size_t dot1, size_t dot2, size_t len);

/* ---- fetching a JWKS (auth_jwks_fetch.c) ------------------------------- */

struct auth_fetch;

/* auth_fetch_new - vet url (https only; non-public addresses only those in
 * allow, a config array of nets, may be NULL), load ca_file (may be NULL:
 * the system bundle), grant the port (and what name resolution needs) in
 * reg. err names the rule. */
struct auth_fetch *auth_fetch_new(const char *url, const json_t *allow, const char *ca_file,
				  struct registry *reg, struct moat_err *err);

/* auth_fetch_get - GET the JWKS (no redirects, 1 MiB and 10 s at most) into
 * a new NUL-terminated buffer. Thread-safe. */
enum moat_rc auth_fetch_get(struct auth_fetch *f, char **body, size_t *len,
			    struct moat_err *err);
const char *auth_fetch_url(const struct auth_fetch *f);
void auth_fetch_free(struct auth_fetch *f);

/* Tests only: replace the network fetch (NULL restores it). Not
 * thread-safe; set before auth_new. */
typedef enum moat_rc (*auth_fetch_fn)(const char *url, char **body, size_t *len,
				      struct moat_err *err);
void auth_set_fetcher(auth_fetch_fn fn);

/* ---- JWT subjects' buckets (auth_subjects.c) --------------------------- */

struct auth_subjects;

/* A table of at most max subjects, each with a bucket of per_minute calls;
 * the least recently seen subject's slot is reused when full. Slots are
 * never freed before the table, so a bucket pointer stays valid (a stale
 * one may then count for another subject). */
struct auth_subjects *auth_subjects_new(size_t max, uint32_t per_minute);
/* The bucket of name (found or given a slot). Thread-safe. NULL when
 * per_minute is 0 (no bucket). */
struct token_bucket *auth_subjects_bucket(struct auth_subjects *s, const char *name);
size_t auth_subjects_count(struct auth_subjects *s);
void auth_subjects_free(struct auth_subjects *s);

/* ---- verified JWTs (auth_cache.c) -------------------------------------- */

struct auth_cache;
struct auth_cache *auth_cache_new(void);
/* auth_cache_get - true when the token of this digest was verified under
 * key set gen and is valid at now (Unix time): out's name, groups and
 * metrics are filled. Thread-safe. */
bool auth_cache_get(struct auth_cache *c, const uint8_t *digest, unsigned long gen, int64_t now,
		    struct principal *out);
/* auth_cache_put - remember p for the token of this digest until then.
 * Thread-safe. */
void auth_cache_put(struct auth_cache *c, const uint8_t *digest, unsigned long gen, int64_t until,
		    const struct principal *p);
/* auth_cache_clear - forget every token (the audience changed). */
void auth_cache_clear(struct auth_cache *c);
unsigned long auth_cache_hits(struct auth_cache *c);
/* auth_jwt_cache_hits - the checks a's cache answered (tests). */
unsigned long auth_jwt_cache_hits(const struct auth *a);
void auth_cache_free(struct auth_cache *c);

/* ---- OAuth ------------------------------------------------------------- */

struct auth_oauth {
	char *issuer;
	char *audience;
	bool audience_default;      /* the server's URL, not configured */
	char *jwks_file;            /* either this */
	struct auth_fetch *fetch;   /* or this */
	uint32_t algs;              /* bit i: auth_algs[i] allowed */
	long leeway_s;
	bool at_jwt_only;           /* typ must be at+jwt (RFC 9068) */
	char **scopes;              /* scope i is policy group i */
	size_t nscopes;
	char *metrics_scope;        /* may be NULL */
	char *subject_claim;
	struct tool_policy *policy;
	struct auth_subjects *subjects;
	uint32_t calls_per_minute;  /* per subject; 0: no limit */
	size_t max_subjects;
	json_t *auth_servers;       /* for the metadata */

	struct auth_cache *cache;

	pthread_mutex_t lock;       /* guards jwks, jwks_gen, refreshed_ns, refreshes */
	struct auth_jwks *jwks;
	unsigned long jwks_gen;
	uint64_t refreshed_ns;      /* last refresh attempt */
	uint64_t fetched_ns;        /* when the current set was fetched */
	uint64_t max_age_ns;        /* refetch a set older than this; 0: never */
	unsigned long refreshes;
	pthread_mutex_t refresh_lock; /* one refresh at a time */
};

/* auth_oauth_parse - the "oauth" section (borrowed) into o (zeroed by the
 * caller, freed with auth_oauth_free also after a failure): settings,
 * scopes, and the JWKS read or fetched now. err names /auth/oauth/<key>. */
enum moat_rc auth_oauth_parse(const json_t *sec, const char *resource_url, struct registry *reg,
			      struct auth_oauth *o, struct moat_err *err);
/* auth_oauth_free - free o and what it owns (o itself was allocated by
 * the caller with malloc). Accepts NULL. */
void auth_oauth_free(struct auth_oauth *o);

/*
 * auth_jwt_check - the whole OAuth check of tok[0..len) (the bearer value,
 * digest its SHA-256): a verified token remembered in the cache, else
 * shape, header, alg, key, signature, claims, scopes; fills out (also its
 * name on a 403). Returns an enum auth_status. Thread-safe.
 */
int auth_jwt_check(struct auth_oauth *o, const char *tok, size_t len,
		   const uint8_t digest[AUTH_DIGEST_LEN], struct principal *out, char *why,
		   size_t why_size, const char **rule);

/* auth_jwks_get / auth_jwks_put - a reference to the current key set
 * (NULL when none) and its release; auth_jwks_gen - the current set's
 * generation. Thread-safe. */
unsigned long auth_jwks_gen(struct auth_oauth *o);
struct auth_jwks *auth_jwks_get(struct auth_oauth *o);
void auth_jwks_put(struct auth_oauth *o, struct auth_jwks *k);

/* auth_jwks_refresh - fetch the JWKS again if jwks_url is set, no refresh
 * was tried in the last 30 s and none is running; true when a new set was
 * installed. Thread-safe. */
bool auth_jwks_refresh(struct auth_oauth *o);

/* auth_jwks_age - auth_jwks_refresh when the current set is older than
 * jwks_max_age_s (so a key the provider withdrew stops being trusted).
 * Thread-safe. */
void auth_jwks_age(struct auth_oauth *o);

#endif
