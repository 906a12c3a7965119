/*
 * import_op.h - one OpenAPI operation turned into one declared API tool
 * of the http family (or one grouped operation: the same object):
 *
 *   name, title (summary), description, method, path (the document's
 *   template with each {param} renamed to its argument), query (name ->
 *   "{arg}"), headers (name -> "{arg}"), body ("{body}") and body_format
 *   ("form" for application/x-www-form-urlencoded), input_schema (one
 *   property per path/query/header parameter and one "body"; path-level
 *   and operation-level parameters merged by name and "in"),
 *   output_schema (with --output-schemas, from an object-typed JSON
 *   success response), response/mime_allow/max_bytes (binary or text
 *   success responses), confirm (writes), annotations (from the method),
 *   tags -- members in that order, always.
 *
 * What the http family cannot send makes the operation skipped with a
 * reason (a required cookie or object-valued query parameter, a multipart
 * or binary upload, a path with a query part, an input schema moat's
 * validator refuses); what it can do without is left out with a note (an
 * optional cookie parameter, a header the API already sets).
 *
 * Pure; thread-safe for distinct contexts.
 */
#ifndef MOAT_IMPORT_IMPORT_OP_H
#define MOAT_IMPORT_IMPORT_OP_H

#include <jansson.h>
#include <stdbool.h>

#include "import.h"
#include "openapi_doc.h"
#include "result.h"

#define IMPORT_BINARY_MAX_BYTES 4194304 /* max_bytes of a binary tool */

/* What every operation of one import shares. */
struct import_ctx {
	const struct oa_doc *doc;         /* borrowed */
	const struct import_opts *opts;   /* borrowed */
	const json_t *api_headers;        /* headers the API sets (borrowed, may be NULL) */
	const json_t *api_query;          /* query parameters the API sets (borrowed, may be NULL) */
	json_t *notes;                    /* JSON array of note lines (borrowed) */
	bool binary;                      /* out: some tool returns binary */
};

/* The operation to turn into a tool (all borrowed). */
struct import_op_in {
	const char *name;         /* the tool name, already unique */
	const char *method;       /* "GET", ... */
	const char *path;         /* the document's path template */
	const json_t *path_item;  /* dereferenced */
	const json_t *op;         /* the operation object */
	bool write;
};

/*
 * import_op_tool - the tool for in. On MOAT_OK either *tool is a new
 * object (the caller owns it) and *why NULL, or *tool NULL and *why a
 * malloc'd reason the operation was skipped (a note was added too). An
 * error (ENOMEM, a $ref the document layer refuses) leaves both NULL.
 */
enum moat_rc import_op_tool(struct import_ctx *c, const struct import_op_in *in, json_t **tool,
			    char **why, struct moat_err *err);

/*
 * import_defuse - make every string inside v safe from the config's
 * "${NAME}" substitution: "${" becomes "$ {", except that a schema
 * "pattern" holding "${" is removed (true returned then, so the caller
 * can note it). moat's config reads "${NAME}" in every string value, so
 * text from the document must never carry one into the section: it would
 * put an environment variable's value into a description.
 */
bool import_defuse(json_t *v);

/*
 * import_op_schema - oa_schema of s for dir, the notes it adds prefixed
 * with where ("GET /x: ..."). New schema (the caller owns) or NULL with err.
 */
json_t *import_op_schema(struct import_ctx *c, const char *where, const json_t *s, enum oa_dir dir,
			 struct moat_err *err);

/* import_type_is - is (or may be) schema's "type" t? */
bool import_type_is(const json_t *schema, const char *t);

/*
 * import_note - append the printf-style line to notes (a JSON array).
 * Returns MOAT_ENOMEM or MOAT_OK.
 */
enum moat_rc import_note(json_t *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
