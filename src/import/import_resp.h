/*
 * import_resp.h - an operation's success response as a tool's "response",
 * "mime_allow" and "output_schema" (see import_resp.c). Pure; thread-safe
 * for distinct contexts.
 */
#ifndef MOAT_IMPORT_IMPORT_RESP_H
#define MOAT_IMPORT_IMPORT_RESP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "import_op.h"

/* import_media - media type k lower-cased without parameters, into buf
 * (n bytes, cut to fit). Returns buf. */
const char *import_media(const char *k, char *buf, size_t n);

/* import_media_json - is m (as import_media gives) a JSON type? */
bool import_media_json(const char *m);

/*
 * import_resp - for the operation op (borrowed; where names it in notes):
 * *kind "binary" or "text" (NULL: JSON), *mimes the binary types allowed,
 * *outs the output schema (with --output-schemas); each new (the caller
 * owns) or NULL. Sets c->binary for a binary response. Errors: ENOMEM,
 * a $ref the document layer refuses.
 */
enum moat_rc import_resp(struct import_ctx *c, const json_t *op, const char *where, json_t **kind,
			 json_t **mimes, json_t **outs, struct moat_err *err);

#endif
