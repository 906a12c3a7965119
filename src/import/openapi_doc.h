/*
 * openapi_doc.h - an OpenAPI document loaded for import: parsed (JSON, or
 * YAML through core's yaml_json with aliases expanded under a node
 * budget), its version checked, a Swagger 2.0 document normalised to the
 * OpenAPI 3 shape, and the two ways the importer reads through $refs.
 *
 * After oa_load the root always looks like OpenAPI 3.x to its readers:
 * "servers", "paths" (path item -> method -> operation with
 * "parameters" each holding a "schema", "requestBody" with "content",
 * "responses" with "content"), "components.securitySchemes", "security".
 * Swagger 2.0's definitions/parameters/responses are kept at their old
 * places, so "#/definitions/X" refs still resolve; body and formData
 * parameters become a requestBody (application/json, or
 * application/x-www-form-urlencoded / multipart/form-data).
 *
 * Files: openapi_doc.c (oa_load, oa_free), openapi_swagger2.c (Swagger
 * 2.0), openapi_ref.c (oa_deref, oa_schema_compiles), openapi_schema.c
 * (oa_schema) and openapi_schema_fix.c (its 3.0-to-2020-12 rewrites).
 * Thread-safe: a loaded doc is read-only.
 */
#ifndef MOAT_IMPORT_OPENAPI_DOC_H
#define MOAT_IMPORT_OPENAPI_DOC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "result.h"

/* Caps; a zero field takes its default. */
struct oa_limits {
	size_t max_bytes;        /* the document (default 64 MiB) */
	size_t max_nodes;        /* YAML/JSON nodes after alias expansion (default 4,000,000) */
	size_t max_ref_chain;    /* $ref -> $ref -> ... hops for one lookup (default 32) */
	size_t max_schema_depth; /* nesting kept in one inlined schema (default 12); deeper is cut */
	size_t max_schema_nodes; /* schema nodes in one inlined schema (default 5,000); past it, cut */
	size_t max_text;         /* one description kept in a schema (default 300 bytes) */
};

struct oa_doc {
	json_t *root;        /* the normalised document (owned) */
	char version[16];    /* "2.0", "3.0.3", "3.1.0" as the document says */
	int major, minor;    /* 2.0 / 3.0 / 3.1 */
	struct oa_limits lim; /* the caps in force (defaults filled) */
};

/*
 * oa_load - parse buf[0..len) (JSON when its first non-blank byte is '{',
 * else YAML), check "openapi" (3.0.x, 3.1.x) or "swagger" ("2.0"), and
 * normalise into d. lim may be NULL. Errors carry a rule: import.parse
 * (with line/column), import.too_large, import.not_openapi,
 * import.version (names the version found and those supported),
 * import.yaml_aliases (expansion past the node budget: "billion laughs").
 * On failure d is left empty. Caller frees with oa_free.
 */
enum moat_rc oa_load(const char *buf, size_t len, const struct oa_limits *lim, struct oa_doc *d,
		     struct moat_err *err);

/* oa_free - free what d owns and zero it. Accepts NULL. */
void oa_free(struct oa_doc *d);

/*
 * oa_deref - v itself, or, when v is {"$ref": "#/..."}, the object it
 * names, following a chain of at most lim.max_ref_chain hops. Borrowed
 * from d->root (or v). NULL with err on: an external ref
 * (import.external_ref, naming the ref, cut to 120 bytes), a ref to
 * nothing (import.bad_ref), a loop or an overlong chain (import.ref_chain).
 * v NULL: NULL with err cleared (err->rc MOAT_OK).
 */
const json_t *oa_deref(const struct oa_doc *d, const json_t *v, struct moat_err *err);

/* Which way a schema is used: readOnly properties are dropped from a
 * request's schema, writeOnly ones from a response's. */
enum oa_dir { OA_REQUEST, OA_RESPONSE };

/*
 * oa_schema - a new, self-contained JSON Schema (draft 2020-12, the
 * dialect moat's validator reads) from the OpenAPI schema s: every $ref
 * inlined; a ref seen again on the same branch (recursion), a branch past
 * max_schema_depth or past max_schema_nodes is cut to {} with a
 * "$comment" saying where and why, and a note appended to notes (a JSON
 * array, may be NULL); OpenAPI 3.0's nullable, boolean
 * exclusiveMinimum/Maximum and x-* / example / xml / discriminator /
 * externalDocs translated or dropped; descriptions and titles sanitised
 * (import_text) and cut to max_text; readOnly/writeOnly honoured for dir;
 * an object schema without "additionalProperties" gets false unless
 * open. s NULL gives {}. An external ref is an error (import.external_ref)
 * as in oa_deref. The caller owns the result.
 */
json_t *oa_schema(const struct oa_doc *d, const json_t *s, enum oa_dir dir, json_t *notes,
		  struct moat_err *err);

/*
 * oa_schema_compiles - whether moat's own validator (schema_compile)
 * accepts schema (borrowed); when not, err (may be NULL) says why. What
 * oa_schema returns always passes; an importer that assembles schemas
 * (an input_schema of parameters and a body) may check the whole.
 * Thread-safe.
 */
bool oa_schema_compiles(const json_t *schema, struct moat_err *err);

#endif
