/*
 * schema.h - JSON Schema (draft 2020-12) validator written for moat.
 *
 * A schema document is compiled once (at tool registration or config load)
 * into an immutable tree of keyword nodes; validation walks that tree, never
 * the raw document. Supported keywords: type, enum, const, properties,
 * required, additionalProperties, patternProperties, propertyNames,
 * minProperties, maxProperties, dependentRequired, items, prefixItems,
 * contains, minContains, maxContains, minItems, maxItems, uniqueItems,
 * minLength, maxLength (code points), pattern (PCRE2, UTF mode), minimum,
 * maximum, exclusiveMinimum, exclusiveMaximum, multipleOf, allOf, anyOf,
 * oneOf, not, if/then/else, dependentSchemas, $ref to "#", "#/$defs/..."
 * and other JSON pointers inside the same document, $defs, boolean schemas.
 * "format", "title", "description", "default", "examples", "$schema",
 * "$comment" and a root "$id" are annotations; other unknown keywords are
 * ignored. Keywords moat does not implement and that would change what is
 * accepted ($id below the root, $dynamicRef, $recursiveRef, unevaluated*,
 * remote $ref, array-form items) fail compilation rather than pass silently.
 *
 * A compiled schema is immutable and may be used from many threads at once.
 */
#ifndef MOAT_CORE_SCHEMA_H
#define MOAT_CORE_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>

#include "result.h"

struct schema; /* opaque compiled schema */

/* One validation failure: where (JSON pointer into the instance, "" = root),
 * which keyword, and a human message that names the rule. The message never
 * quotes the instance's string values (they may be secrets). */
struct schema_error {
	char pointer[256];
	char keyword[32];
	char message[256];
	/* For an "additionalProperties": false failure only (else ""): the
	 * unknown key, the nearest allowed key by edit distance when one is
	 * close enough, and the keys the schema declares there, sorted and
	 * comma-separated (cut with ", ..." when they do not fit). Key names
	 * come from the instance and the schema, never a value. */
	char unknown[64];
	char suggest[64];
	char allowed[256];
};

/*
 * schema_compile - compile doc (borrowed; not kept after return) into a
 * schema. Returns NULL and fills err (MOAT_EINVAL naming the bad keyword's
 * pointer in the schema, or MOAT_ENOMEM) on failure: unknown $ref target,
 * bad regex, wrong keyword value type. Caller owns the result; free with
 * schema_free(). Thread-safe.
 */
struct schema *schema_compile(const json_t *doc, struct moat_err *err);

/* schema_free - release a compiled schema. Accepts NULL. */
void schema_free(struct schema *s);

/*
 * schema_validate - check instance (borrowed) against s. Returns true when
 * valid. When invalid and out is not NULL, out describes the first failure
 * found (deepest useful one). Thread-safe; s is not modified.
 */
bool schema_validate(const struct schema *s, const json_t *instance, struct schema_error *out);

/*
 * schema_error_format - write "POINTER: KEYWORD: MESSAGE" (pointer shown as
 * "/" ... or "(root)") into buf of size n, truncating safely; an unknown
 * key adds "; did you mean 'NEAR'?" when one is close and "(allowed: ...)".
 * Returns buf.
 */
char *schema_error_format(const struct schema_error *e, char *buf, size_t n);

#endif
