/*
 * auth.h - who is calling the HTTP listener: the "auth" config section
 * turned into a checker that maps an Authorization header to a principal
 * (src/core/principal.h). It knows nothing of HTTP framing (the transport
 * hands it the header's value and turns the answer into a status and a
 * WWW-Authenticate header) and nothing of tools beyond the policy groups
 * it builds.
 *
 * Two kinds of credential, either or both:
 *   - static bearer tokens ("auth.tokens"): kept only as SHA-256 digests,
 *     the presented token's digest compared in constant time with every
 *     configured digest (no early exit), each token its own policy;
 *   - OAuth 2.1 access tokens ("auth.oauth"): JWS compact JWTs checked as a
 *     resource server (RFC 9068, RFC 8707): alg from an allowlist that
 *     matches the key's type, the key found by kid in a JWKS (a file read at
 *     start-up, or an https URL fetched at start-up through the http
 *     family's egress guard and refetched on an unknown kid at most every
 *     30 s), the signature, iss, aud, exp/nbf/iat with a leeway; one policy
 *     group per configured scope.
 *
 * Start-up (auth_new) is single-threaded and runs before the sandbox;
 * auth_check may be called from any number of threads at once.
 */
#ifndef MOAT_AUTH_AUTH_H
#define MOAT_AUTH_AUTH_H

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "principal.h"
#include "result.h"

struct registry;
struct auth; /* opaque */

/* The largest token (the Authorization value after "Bearer ") accepted. */
#define AUTH_TOKEN_MAX 8192
/* The shortest static token accepted at start-up. */
#define AUTH_STATIC_TOKEN_MIN 32

/* auth_check's answers, also the HTTP status the transport sends. */
enum auth_status {
	AUTH_OK = 0,
	AUTH_UNAUTHORIZED = 401, /* no, malformed, invalid or expired token */
	AUTH_FORBIDDEN = 403,    /* a valid token that grants nothing here */
};

/*
 * auth_new - build the checker from the resolved "auth" section
 * (auth_section, borrowed: nothing is kept pointing into it).
 * resource_url is this server's URL (e.g. "https://mcp.example:8765/mcp",
 * copied): the default audience and the RFC 9728 "resource". reg (may be
 * NULL in tests) gets the JWKS URL's port granted (registry_grant_port),
 * and the resolver's files, so refreshes work under the sandbox.
 * Reads jwks_file and fetches jwks_url now. Returns NULL with err naming
 * the JSON pointer under the section ("/auth/tokens/1/token: ...") and a
 * rule id in err->rule where one applies (auth.weak_token,
 * auth.duplicate_token, auth.jwks). Never puts a token's value in err.
 * Start-up only, single-threaded.
 */
struct auth *auth_new(const json_t *auth_section, const char *resource_url,
		      struct registry *reg, struct moat_err *err);

/*
 * auth_set_resource_url - the server's URL once it is known for sure (the
 * port bound when 0 was asked for; copied): it becomes the audience when
 * oauth.audience is not configured, and the RFC 9728 resource when the
 * audience is not a URL. Call it before the listener's threads start
 * (not thread-safe); the metadata string borrowed before is freed.
 */
enum moat_rc auth_set_resource_url(struct auth *a, const char *url, struct moat_err *err);

/*
 * auth_check - authenticate one request. authorization is the
 * Authorization header's value (NULL or "" when absent; borrowed). On
 * AUTH_OK out is filled: name (a static token's name, or "oauth:" + the
 * JWT's subject), policy and bucket (borrowed from a: valid until
 * auth_free; bucket NULL when the principal has no calls-per-minute limit
 * of its own), groups, metrics; addr is left as the caller set it. On
 * AUTH_FORBIDDEN out->name is filled too (for the audit trail), nothing
 * else may be used. Otherwise *rule is a static rule id
 * (auth.missing_token, auth.bad_token, auth.expired, auth.not_yet_valid,
 * auth.wrong_issuer, auth.wrong_audience, auth.bad_algorithm,
 * auth.unknown_key, auth.bad_signature, auth.insufficient_scope) and why
 * (size why_size, may be 0) a short sentence for the log and the audit
 * trail that never holds the token or a claim's value. A JWT naming an
 * unknown kid may make this call fetch jwks_url (at most once every 30 s
 * across all threads, up to 10 s). Returns an enum auth_status as int.
 * Thread-safe.
 */
int auth_check(struct auth *a, const char *authorization, struct principal *out, char *why,
	       size_t why_size, const char **rule);

/*
 * auth_authenticate - auth_check in the shape of the HTTP listener's hook
 * (src/transport/http/http_auth_hook.h: httpd_authenticate_fn, with a as
 * ctx): why receives the rule id ("auth.bad_signature"), not the
 * sentence. Thread-safe.
 */
int auth_authenticate(void *a, const char *authorization, struct principal *out, char *why,
		      size_t why_size);

/* auth_metadata_hook - auth_resource_metadata in the hook's shape
 * (httpd_resource_metadata_fn, a as ctx). */
const char *auth_metadata_hook(void *a);

/*
 * auth_resource_metadata - the RFC 9728 protected resource metadata
 * document (JSON text, static for a's lifetime, borrowed): resource,
 * authorization_servers, scopes_supported, bearer_methods_supported.
 * NULL when only static tokens are configured (no authorization server
 * to name): then the transport serves 404 and sends no resource_metadata.
 * Thread-safe.
 */
const char *auth_resource_metadata(const struct auth *a);

/* auth_has_oauth - true when OAuth access tokens are accepted. */
bool auth_has_oauth(const struct auth *a);

/*
 * auth_print - the auth mode for `moat check`: issuer, audience, JWKS
 * source and keys, algorithms, leeway, every static token (its name, a
 * digest prefix, never the token) and every scope with its tool patterns.
 * Thread-safe.
 */
void auth_print(const struct auth *a, FILE *f);

/*
 * auth_wipe_section - overwrite every static token's value in a resolved
 * config's "auth" section (mutable; the jansson string's bytes are zeroed
 * in place, then replaced by "****") once auth_new has hashed them. For
 * the caller that owns the config document (cli), since auth_new only
 * borrows it. Accepts NULL. Start-up only.
 */
void auth_wipe_section(json_t *auth_section);

/* auth_free - free a, its policies, buckets and keys. Accepts NULL. No
 * principal it filled may be used afterwards. */
void auth_free(struct auth *a);

/*
 * The checker as a loadable module's table: the binary need not link
 * libjose, OpenSSL and libcurl (about 6 ms of relocations on every start,
 * stdio included) when it can ask modules_symbol("moat_auth.so",
 * "auth_module") for this table once the config has an "auth" section.
 */
struct auth_module {
	struct auth *(*create)(const json_t *auth_section, const char *resource_url,
			       struct registry *reg, struct moat_err *err);
	int (*check)(struct auth *a, const char *authorization, struct principal *out, char *why,
		     size_t why_size, const char **rule);
	int (*authenticate)(void *a, const char *authorization, struct principal *out, char *why,
			    size_t why_size);
	const char *(*metadata)(void *a);
	enum moat_rc (*set_resource_url)(struct auth *a, const char *url, struct moat_err *err);
	void (*print)(const struct auth *a, FILE *f);
	void (*wipe_section)(json_t *auth_section);
	void (*destroy)(struct auth *a);
};

/* auth_module - the table of this module (moat_auth.so). */
extern const struct auth_module auth_module;

#endif
