/*
 * import_names.h - the names an import gives: tool (and grouped
 * operation) names from an operationId or from the method and path, and
 * argument names from parameter names. Both are ^[a-z0-9_]+$, at most 64
 * bytes, unique within their scope and stable: the same document gives
 * the same names every run (no randomness, document order decides who
 * gets the suffix).
 *
 * Rules: camelCase is split ("getContactById" -> "get_contact_by_id",
 * "getHTTPStatus" -> "get_http_status"), every other byte outside
 * [A-Za-z0-9] is a separator, runs of separators become one "_", and
 * leading/trailing ones go. A name longer than 64 bytes is cut to 55 and
 * gets "_" and the 8 hex digits of the FNV-1a 32 hash of the whole name;
 * a name already taken gets "_2", "_3", ... (the stem cut so the whole
 * stays within 64).
 *
 * Pure functions; thread-safe (a name set is the caller's).
 */
#ifndef MOAT_IMPORT_IMPORT_NAMES_H
#define MOAT_IMPORT_IMPORT_NAMES_H

#include <jansson.h>
#include <stddef.h>

#define IMPORT_NAME_MAX 64

/*
 * import_snake - snake_case of s (NUL-terminated, read up to 4096 bytes):
 * lower case, camelCase split, other bytes as separators. May be "" (s
 * with no ASCII letter or digit). Returns a malloc'd string the caller
 * frees, NULL on ENOMEM. Length unbounded by 64: see import_name_fit.
 */
char *import_snake(const char *s);

/*
 * import_name_fit - name itself when it is at most IMPORT_NAME_MAX bytes,
 * else cut to 55 bytes (a trailing '_' dropped) plus "_" and 8 hex
 * digits of FNV-1a 32 of the whole name. Takes ownership of name; returns
 * a malloc'd string (NULL on ENOMEM, name freed).
 */
char *import_name_fit(char *name);

/*
 * import_tool_base - the tool name an operation would get before
 * uniqueness: api + "_" + snake(operation_id), or, when operation_id is
 * NULL or has no letter or digit, api + "_" + snake(method + path)
 * ("GET /contacts/{id}/notes" -> "crm_get_contacts_id_notes"); fitted to
 * 64 bytes. All arguments borrowed. malloc'd result, NULL on ENOMEM.
 */
char *import_tool_base(const char *api, const char *operation_id, const char *method,
		       const char *path);

/*
 * import_arg_base - the argument name of a parameter before uniqueness:
 * snake(name), "arg" when that is empty, fitted to 64 bytes. malloc'd
 * result, NULL on ENOMEM.
 */
char *import_arg_base(const char *name);

/*
 * import_name_take - a name from base that is not yet a key of taken (a
 * JSON object, empty at first, that only this function writes: each name
 * taken -> the next suffix to try), base itself or base with "_2", "_3",
 * ...; recorded in taken. base borrowed; malloc'd result, NULL on ENOMEM.
 */
char *import_name_take(json_t *taken, const char *base);

#endif
