/*
 * import_text.h - text from an OpenAPI document made fit to show a model:
 * tool titles and descriptions, schema descriptions, tags. Descriptions
 * are where tool poisoning hides, so every byte is checked.
 *
 * Removed: C0 and C1 controls except newline (tabs become spaces, CR
 * dropped), DEL, zero-width characters (U+200B..U+200F, U+2060..U+2064,
 * U+FEFF), bidirectional overrides and isolates (U+202A..U+202E,
 * U+2066..U+2069), other format characters (U+00AD, U+180E), tag
 * characters (U+E0000..U+E007F) and private-use and noncharacter code
 * points; invalid UTF-8 bytes are dropped. Runs of blank lines become
 * one, leading/trailing space is trimmed, and the text is cut at a
 * UTF-8 boundary to max bytes with "…" appended when cut.
 *
 * Written by hand: no Debian library does this filtering (libunistring
 * classifies, but the list of what to drop is moat's policy). Pure and
 * thread-safe.
 */
#ifndef MOAT_IMPORT_IMPORT_TEXT_H
#define MOAT_IMPORT_IMPORT_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * import_text - a new sanitised copy of s (NUL-terminated) of at most max
 * bytes plus the ellipsis; one_line folds newlines into spaces (titles,
 * tags). Returns a malloc'd string (the caller frees), "" for an empty or
 * NULL s, NULL on ENOMEM.
 */
char *import_text(const char *s, size_t max, bool one_line);

/*
 * import_text_clean - whether s (NUL-terminated; NULL counts as clean) is
 * at most max bytes of valid UTF-8 holding nothing import_text removes
 * (no control character at all, newline and tab included). For values the
 * importer copies exactly or not at all: enum, const and default strings.
 */
bool import_text_clean(const char *s, size_t max);

#endif
