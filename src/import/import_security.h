/*
 * import_security.h - an OpenAPI document's securitySchemes turned into
 * the API-level "headers" and "query" of an imported section, each
 * credential a "${NAME_...}" placeholder the user sets in the environment,
 * with a note per variable saying what to put there. Never a literal
 * secret; never the MCP listener's own token.
 *
 * Which schemes: those the first alternative of the document's "security"
 * and of every selected operation's "security" names, in that order. An
 * apiKey in a header goes to "headers", in the query to "query", in a
 * cookie to a "Cookie" header; http bearer, oauth2 (any flow) and
 * openIdConnect become "Authorization: Bearer ${NAME_TOKEN}", http basic
 * "Authorization: Basic ${NAME_BASIC_AUTH}". Variables are upper(NAME) +
 * _API_KEY / _TOKEN / _BASIC_AUTH, then _2, _3 for a second scheme of
 * the same kind. What cannot be mapped (mutualTLS, http digest, a second
 * scheme wanting the same header) is left out with a note.
 *
 * Pure; thread-safe.
 */
#ifndef MOAT_IMPORT_IMPORT_SECURITY_H
#define MOAT_IMPORT_IMPORT_SECURITY_H

#include <jansson.h>
#include <stdbool.h>

#include "openapi_doc.h"
#include "result.h"

struct import_sec {
	json_t *headers; /* header name -> "… ${VAR} …" (owned, maybe empty) */
	json_t *query;   /* parameter name -> "${VAR}" (owned, maybe empty) */
	json_t *env;     /* the variable names, in the order made (owned) */
};

/*
 * import_sec_collect - append to used (a JSON array of strings, kept
 * unique) the scheme names of the first alternative of security (an
 * OpenAPI security requirement array, or NULL: nothing). Borrowed
 * arguments; returns MOAT_ENOMEM or MOAT_OK.
 */
enum moat_rc import_sec_collect(json_t *used, const json_t *security);

/*
 * import_security - fill *out for the schemes named in used (borrowed),
 * looked up in d's components.securitySchemes; notes (a JSON array)
 * receives one line per variable and per scheme left out. api is the
 * API's name. Errors: ENOMEM, or a $ref error from oa_deref. The caller
 * frees *out with import_sec_free, also on error.
 */
enum moat_rc import_security(const struct oa_doc *d, const char *api, const json_t *used,
			     struct import_sec *out, json_t *notes, struct moat_err *err);

/* import_sec_free - free what s owns and zero it. Accepts NULL. */
void import_sec_free(struct import_sec *s);

/*
 * import_obj_icase - the member of obj whose key equals key ignoring ASCII
 * case, or NULL. Borrowed. (HTTP header names are case-insensitive.)
 */
json_t *import_obj_icase(const json_t *obj, const char *key);

/* import_header_name_ok - is s a header (or cookie) name moat can send:
 * RFC 9110 token characters, 1 to 128 of them? */
bool import_header_name_ok(const char *s);

#endif
