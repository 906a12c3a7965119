/*
 * config_diag.h - how moat's config errors read.
 *
 * Every config error starts with the file's name as the user gave it, then
 * the place, then the cause, like a compiler's:
 *
 *   moat.json:12:5: not valid JSON: expected ',' or '}' before '"x"'
 *   moat.json: /root: unknown key; did you mean "roots"? (allowed here: ...)
 *   moat.json: /limits/workers: type: must be of type integer
 *
 * Syntax errors carry the line and column (of the token where the parse
 * stopped); every other error a JSON pointer from the config's root.
 * Pure and thread-safe.
 */
#ifndef MOAT_CORE_CONFIG_DIAG_H
#define MOAT_CORE_CONFIG_DIAG_H

#include <stdbool.h>
#include <stddef.h>

#include "schema.h"

/*
 * config_diag_syntax - parse text (len bytes) again with jansson to find
 * where and why it is not JSON, and write "LABEL:LINE:COL: not valid JSON:
 * CAUSE" into buf (size bytes). Returns false (buf untouched) when jansson
 * parses the text, i.e. the failure was not a syntax error (size, depth).
 */
bool config_diag_syntax(const char *label, const char *text, size_t len, char *buf, size_t size);

/*
 * config_diag_schema - write a schema failure of the config as "LABEL:
 * POINTER: ..." into buf. An unknown key reads "LABEL: /parent/key: unknown
 * key; did you mean "near"? (allowed here: a, b, c)"; other failures keep
 * the validator's "KEYWORD: MESSAGE".
 */
void config_diag_schema(const char *label, const struct schema_error *e, char *buf, size_t size);

#endif
