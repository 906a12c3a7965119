/*
 * openapi_int.h - what the files behind openapi_doc.h share among
 * themselves (not for the importer's other parts).
 */
#ifndef MOAT_IMPORT_OPENAPI_INT_H
#define MOAT_IMPORT_OPENAPI_INT_H

#include <jansson.h>

#include "openapi_doc.h"
#include "result.h"

/*
 * oa_swagger2 - rewrite d->root (a Swagger 2.0 document, version already
 * checked) in place into the OpenAPI 3 shape openapi_doc.h describes.
 * On failure (a bad $ref among parameters, ENOMEM) err says why; d->root
 * is then half rewritten and the caller frees it. Not thread-safe on d.
 */
enum moat_rc oa_swagger2(struct oa_doc *d, struct moat_err *err);

/*
 * oa_deref_last - oa_deref, and *last (may be NULL) set to the last ref
 * string followed (borrowed from d->root), for naming a recursion.
 */
const json_t *oa_deref_last(const struct oa_doc *d, const json_t *v, const char **last,
			    struct moat_err *err);

/* oa_exclusive_bound - OpenAPI 3.0's boolean ex ("exclusiveMinimum")
 * on object o made numeric from bound ("minimum"), or dropped. */
void oa_exclusive_bound(json_t *o, const char *ex, const char *bound);

/* oa_nullable - o's "nullable" removed and, when it was true, "null"
 * added to its type (and enum), or o wrapped as anyOf [o, {type: null}].
 * Takes o; returns o or the wrapper (the caller's). */
json_t *oa_nullable(json_t *o);

/* oa_flatten_allof - o's allOf of plain object schemas (properties,
 * required, title, description) merged into o's own properties and
 * required; left as it is on any conflict. 0, or -1 on ENOMEM. */
int oa_flatten_allof(json_t *o);

#endif
