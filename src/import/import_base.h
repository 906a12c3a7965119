/*
 * import_base.h - the base_url of an imported API (see import_base.c).
 * Pure; thread-safe.
 */
#ifndef MOAT_IMPORT_IMPORT_BASE_H
#define MOAT_IMPORT_IMPORT_BASE_H

#include <jansson.h>
#include <stdbool.h>

#include "import.h"
#include "result.h"

/*
 * import_base_url - the base_url for the document root under o (--base-url,
 * --server-var): *out malloc'd (the caller frees), *http true for a plain
 * http URL. Refusals: import.base_url (no server, a relative URL: pass
 * --base-url; not http(s); user info, query or fragment; too long),
 * import.server_var (NAME=VALUE malformed, a variable the server does not
 * have, or one without a default and not given).
 */
enum moat_rc import_base_url(const json_t *root, const struct import_opts *o, char **out,
			     bool *http, struct moat_err *err);

#endif
