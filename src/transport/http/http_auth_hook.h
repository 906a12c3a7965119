/*
 * http_auth_hook.h - how the HTTP listener asks who is calling.
 *
 * The listener knows nothing of tokens or JWTs: it hands the Authorization
 * header to the authenticate function configured in its options (src/auth/
 * provides one) and acts on the answer: 0 lets the request through as the
 * principal filled in, 401 and 403 refuse it with the WWW-Authenticate
 * header RFC 6750 and RFC 9728 ask for. Without an authenticate function
 * the listener serves loopback only, and everyone is principal_local().
 */
#ifndef MOAT_TRANSPORT_HTTP_AUTH_HOOK_H
#define MOAT_TRANSPORT_HTTP_AUTH_HOOK_H

#include <stddef.h>

#include "principal.h"

/*
 * httpd_authenticate_fn - decide on one request's credential.
 * authorization is the whole Authorization header (borrowed for the call;
 * NULL when absent). Returns 0 and fills *out (out->addr is filled by the
 * listener afterwards), 401 when the credential is missing or invalid, or
 * 403 when it is valid but lacks the scope; why (why_size bytes) receives
 * a static-looking rule id such as "auth.bad_token" (never the token).
 * Called from the listener's thread; must be thread-safe.
 */
typedef int (*httpd_authenticate_fn)(void *ctx, const char *authorization,
				     struct principal *out, char *why, size_t why_size);

/* httpd_resource_metadata_fn - the JSON body of GET
 * /.well-known/oauth-protected-resource (RFC 9728), borrowed and constant
 * while the listener runs; NULL: answer 404. */
typedef const char *(*httpd_resource_metadata_fn)(void *ctx);

struct httpd_auth_hook {
	httpd_authenticate_fn authenticate;     /* NULL: no auth (loopback only) */
	httpd_resource_metadata_fn resource_metadata; /* may be NULL */
	void *ctx;
};

#endif
