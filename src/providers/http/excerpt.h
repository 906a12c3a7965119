/*
 * excerpt.h - text from an upstream (an error body, a parser's message, a
 * schema error naming upstream members) made fit to show in an error: the
 * configured secrets are masked BEFORE the text is cut, and whatever the
 * cut leaves at the end that begins a secret is masked too, so a secret
 * straddling the cut never shows its first part.
 *
 * Masking is as config_scrub's ("****" for each whole copy); the tail rule
 * masks any suffix of the result that is a prefix of a secret and at least
 * EXCERPT_MIN_PREFIX bytes long (a shorter one says too little to matter,
 * and every text ends in a few bytes some secret begins with).
 *
 * Thread-safe: reads the loaded config only.
 */
#ifndef MOAT_PROVIDERS_HTTP_EXCERPT_H
#define MOAT_PROVIDERS_HTTP_EXCERPT_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define EXCERPT_MIN_PREFIX 4

/*
 * excerpt_make - a new NUL-terminated excerpt of text[0..n): invalid UTF-8
 * (and NUL) replaced by U+FFFD, control bytes turned into spaces, secrets
 * of cfg (may be NULL: none) masked, then cut to at most max bytes on a
 * character boundary, then a trailing secret prefix masked. *cut (may be
 * NULL) tells whether text was longer than what is shown. Returns NULL on
 * ENOMEM. The caller wipes (explicit_bzero) and frees it.
 */
char *excerpt_make(const struct moat_config *cfg, const char *text, size_t n, size_t max,
		   bool *cut);

/*
 * excerpt_mask - mask every whole copy of a secret of cfg (may be NULL) in
 * the NUL-terminated buf in place; nothing else (for text that was not
 * cut: a value recorded for the audit trail).
 */
void excerpt_mask(const struct moat_config *cfg, char *buf);

/*
 * excerpt_scrub - mask the secrets of cfg (may be NULL) in buf (a
 * NUL-terminated string in a buffer of size bytes) in place: every whole
 * copy, then a trailing secret prefix. For text some other code already
 * cut (jansson's and the schema validator's bounded messages).
 */
void excerpt_scrub(const struct moat_config *cfg, char *buf, size_t size);

#endif
