/*
 * text.h - small string helpers for messages moat writes: cutting
 * client-supplied text to a bound without splitting a UTF-8 sequence (a cut
 * in the middle would make the JSON message that carries it invalid), and
 * finding the runs of text a JSON string can carry without escapes,
 * repairing UTF-8 from outside (files, upstreams, databases), base64
 * for binary content, and whether a URL path's text could climb out of
 * the path it is appended to.
 * Pure and thread-safe.
 */
#ifndef MOAT_CORE_TEXT_H
#define MOAT_CORE_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* text_utf8_prefix - the largest length <= max of a prefix of s (a
 * NUL-terminated string) that does not end inside a UTF-8 sequence. */
size_t text_utf8_prefix(const char *s, size_t max);

/*
 * text_json_plain - the length of the longest prefix of s[0..n) that a
 * JSON string carries as is: no '"', no '\\', no byte below 0x20 and, when
 * ascii_only, nothing from 0x7F up either (so each byte is one character).
 * Scans a word at a time; s need not be aligned or NUL-terminated.
 */
size_t text_json_plain(const char *s, size_t n, bool ascii_only);

/*
 * text_json_cost - the bytes s[0..n) takes inside a JSON string as moat
 * writes it (wire.c): '"', '\\', \b, \f, \n, \r and \t as two, other
 * bytes below 0x20 as six (\u00XX), the rest as they are. For budgets
 * counted before a result is serialized.
 */
size_t text_json_cost(const char *s, size_t n);

/*
 * text_utf8_repair - a new NUL-terminated copy of s[0..n) in which every
 * byte that does not start a valid UTF-8 sequence (overlong forms,
 * surrogates and code points past U+10FFFF are invalid) is replaced by
 * U+FFFD, and NUL bytes too when nul_invalid. *len gets the copy's
 * length. NULL on ENOMEM. Caller frees.
 */
char *text_utf8_repair(const char *s, size_t n, bool nul_invalid, size_t *len);

/* text_utf8_valid - true when s[0..n) is valid UTF-8 (as above; NUL is
 * valid). */
bool text_utf8_valid(const char *s, size_t n);

/* text_hash - a 64-bit hash of s[0..n) for in-process hash tables:
 * FNV-1a started from seed (a random key where the input is a client's),
 * then a finaliser, so that masking the low bits spreads well. Not
 * cryptographic. */
uint64_t text_hash(const char *s, size_t n, uint64_t seed);

/* text_base64 - a new NUL-terminated base64 (RFC 4648, padded) of
 * buf[0..len); NULL on ENOMEM. Caller frees. */
char *text_base64(const unsigned char *buf, size_t len);

/* text_hexval - the value of hex digit c (either case), or -1. */
int text_hexval(char c);

/* text_offset_cursor - read a listing cursor "<prefix><offset>" (offset a
 * decimal from 1, no sign or leading zero, below count) into *offset;
 * false for anything else (a forged or stale cursor). */
bool text_offset_cursor(const char *cursor, const char *prefix, size_t count, size_t *offset);

/* text_ptr_push - append "/" and key, escaped per RFC 6901 ('~' as "~0",
 * '/' as "~1"), to the JSON pointer in ptr (NUL-terminated, size bytes),
 * cutting what does not fit. Thread-safe (touches only ptr). */
void text_ptr_push(char *ptr, size_t size, const char *key);

/*
 * text_path_unsafe - why the literal URL path text path (NUL-terminated)
 * could leave the base path it is appended to once a client collapses dot
 * segments or a server decodes percent-escapes: "a '.' or '..' segment",
 * "a percent-encoded '.', '/' or '\\'" (%2e %2f %5c, any case), "a '\\'",
 * or NULL when it cannot. Used by the http family on its path templates
 * and by the OpenAPI importer on a document's paths.
 */
const char *text_path_unsafe(const char *path);

/* text_path_dots - whether path has a segment that is exactly "." or "..". */
bool text_path_dots(const char *path);

#endif
