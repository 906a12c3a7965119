/*
 * sql_text.h - pure text helpers of the sql family: the single-statement
 * rule (is what follows the first statement only blanks and comments?),
 * UTF-8 repair for text values, and base64 decoding for blob parameters.
 * Pure and thread-safe.
 */
#ifndef MOAT_PROVIDERS_SQL_SQL_TEXT_H
#define MOAT_PROVIDERS_SQL_SQL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * sql_tail_empty - true when s[0..n) holds nothing but whitespace,
 * semicolons (empty statements), "-- ..." line comments and C-style block
 * comments (an unterminated one runs to the end, as SQL engines read it).
 * Anything else, a NUL byte included, is a second statement.
 */
bool sql_tail_empty(const char *s, size_t n);

/*
 * sql_utf8_repair - a new NUL-terminated copy of s[0..n) in which every
 * byte that does not start a valid UTF-8 sequence (overlong forms,
 * surrogates and code points past U+10FFFF are invalid) is replaced by
 * U+FFFD. *len gets the copy's length. NULL on ENOMEM. Caller frees.
 */
char *sql_utf8_repair(const char *s, size_t n, size_t *len);

/* sql_utf8_valid - true when s[0..n) is valid UTF-8 (as above). */
bool sql_utf8_valid(const char *s, size_t n);

/*
 * sql_base64_decode - decode standard base64 (RFC 4648, padding optional,
 * no whitespace) into a new buffer; *len gets its length. NULL for bad
 * input or ENOMEM (*len = 0 for bad input). Caller frees.
 */
unsigned char *sql_base64_decode(const char *s, size_t n, size_t *len);

#endif
