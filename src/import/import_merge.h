/*
 * import_merge.h - `moat import openapi --into CONFIG.json`: put an
 * imported section at http.apis.NAME of an existing config by splicing
 * text, so every other byte of the file (key order, spacing, tabs, CRLF,
 * other APIs, unknown keys) stays exactly as the person wrote it.
 */
#ifndef MOAT_IMPORT_IMPORT_MERGE_H
#define MOAT_IMPORT_IMPORT_MERGE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "result.h"

/* What import_merge did. */
enum import_merge_how {
	IMPORT_MERGE_REPLACED,     /* http.apis.NAME existed: its value replaced */
	IMPORT_MERGE_ADDED_API,    /* a member added to http.apis */
	IMPORT_MERGE_ADDED_APIS,   /* "apis" added to http */
	IMPORT_MERGE_ADDED_HTTP,   /* "http" added to the top-level object */
};

/*
 * import_merge - splice value (borrowed) in as http.apis.NAME of the
 * config text cfg[0..len): replace NAME's value if it exists, else insert
 * the first missing level (a member of http.apis, "apis" in http, "http"
 * at the top). The new text follows the file's layout: indentation unit
 * and depth, tabs or spaces, CRLF or LF, or one compact line when the
 * surrounding object is written on one line. The file must be strict JSON
 * (no duplicate keys) with objects at the top, at "http" and at
 * "http.apis" where they exist; otherwise the merge refuses
 * ("import.merge_parse", "import.merge_shape"). The result is parsed again
 * and compared with the original plus the change, and the bytes outside
 * the spliced span compared with the original, before it is returned.
 * On MOAT_OK *out is a malloc'd NUL-terminated text of *outlen bytes (the
 * caller frees), *how says what happened, and [*span_at, *span_at +
 * *span_len) is the new text's place in *out (any pointer may be NULL
 * except out). Thread-safe (no shared state).
 */
enum moat_rc import_merge(const char *cfg, size_t len, const char *name, const json_t *value,
			  char **out, size_t *outlen, enum import_merge_how *how, size_t *span_at,
			  size_t *span_len, struct moat_err *err);

#endif
