/*
 * rpc_scan.h - bounded scans of a JSON-RPC message that the strict parser
 * cannot or should not do: reading the id of a message that was refused
 * before (or by) the full parse, and finding NUL bytes in the strings of a
 * parsed message.
 *
 * Both exist so that every request whose id can be read gets an answer
 * with that id (DESIGN.md §3), and so that a string holding a NUL byte,
 * which JSON allows (\u0000), is refused by name before any C code reads
 * it as a NUL-terminated string. Pure and thread-safe.
 */
#ifndef MOAT_CORE_RPC_SCAN_H
#define MOAT_CORE_RPC_SCAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * rpc_scan_id - read the "id" member of the top-level object in
 * buf[0..len) without parsing the rest: one linear pass that skips nested
 * values by counting brackets (no recursion, no allocation but the id), so
 * it works on messages nested too deep for the parser, on messages with an
 * error after the id, and on the truncated start of an oversized message.
 * Returns a new reference to the id (a string or an integer, as JSON-RPC
 * allows) or NULL when no single usable id can be read (none, two, or a
 * malformed one). The caller owns the result.
 */
json_t *rpc_scan_id(const char *buf, size_t len);

/*
 * rpc_skip_value - where the JSON value starting at b[i] ends within
 * b[0..len): the index just past it, or len when it does not end. Nested
 * values are skipped by counting brackets outside strings (no recursion,
 * no allocation); it locates and judges nothing, so the text is one a
 * strict parser has accepted (import_merge.c) or may refuse (rpc_scan_id).
 */
size_t rpc_skip_value(const char *b, size_t len, size_t i);

/*
 * rpc_find_nul - look for a string holding a NUL byte in v (depth-first,
 * object keys in order). Strings under a property named in nul_ok (a
 * NULL-terminated list, or NULL; an array's items count as the array's
 * property) are allowed. On a find returns true and writes the JSON
 * pointer of the string (relative to v, "" for v itself, RFC 6901 escapes,
 * cut to fit) into ptr[0..n). Recursion is bounded by the parser's
 * max_json_depth, which every parsed message has passed.
 */
bool rpc_find_nul(const json_t *v, const char *const *nul_ok, char *ptr, size_t n);

#endif
