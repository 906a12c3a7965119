/*
 * jsonw.h - a streaming JSON writer: a handler appends its result straight
 * into a wire buffer, value by value, instead of building a jansson tree
 * that the core then walks again to serialise it (issue 17).
 *
 * The bytes are exactly those wire_write() makes of the same value (compact,
 * keys in the order written, the same string escapes and numbers), so a
 * result written here is byte-identical to one built as a tree. The writer
 * keeps the commas and colons: the caller says begin, key, value, end.
 * A budget caps the bytes a document may take; jsonw_mark/jsonw_rewind let
 * a caller drop the element that crossed it (a row that does not fit) and
 * end the document cleanly. Misuse (a value where a key is due, an end
 * that does not match, nesting deeper than JSONW_MAX_DEPTH) fails and
 * leaves the writer failed; the document is then never used.
 *
 * Hand-written: jansson, moat's JSON library, has no streaming writer, and
 * a second JSON library for output alone would have to match wire.c's
 * bytes exactly; this is a few dozen lines over wire.c's own escaper. Not
 * thread-safe per writer.
 */
#ifndef MOAT_CORE_JSONW_H
#define MOAT_CORE_JSONW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define JSONW_MAX_DEPTH 32

struct jsonw {
	struct wire_buf *b;  /* borrowed */
	size_t start;        /* b->len when the writer began */
	size_t budget;       /* most bytes from start; 0: no cap */
	int depth;
	bool failed;         /* misuse or memory: the document is void */
	bool over;           /* a write crossed the budget */
	bool want_key[JSONW_MAX_DEPTH + 1]; /* in an object, a key is due */
	bool first[JSONW_MAX_DEPTH + 1];    /* nothing written at this level yet */
	bool is_obj[JSONW_MAX_DEPTH + 1];
};

/* A position to come back to: what jsonw_mark saw. */
struct jsonw_mark {
	size_t len;
	int depth;
	bool want_key, first;
};

/* jsonw_init - write into b (borrowed) from its current end, at most
 * budget bytes (0: no cap). */
void jsonw_init(struct jsonw *w, struct wire_buf *b, size_t budget);

/* Containers. Each returns false once the writer has failed. */
bool jsonw_obj_begin(struct jsonw *w);
bool jsonw_obj_end(struct jsonw *w);
bool jsonw_arr_begin(struct jsonw *w);
bool jsonw_arr_end(struct jsonw *w);

/* jsonw_key - the next member's name (n bytes of valid UTF-8), in an object. */
bool jsonw_key(struct jsonw *w, const char *k, size_t n);

/* Values: a string of n bytes of valid UTF-8, numbers as wire_write writes
 * them (a non-finite double fails), literals, a jansson value (borrowed),
 * and a JSON text made elsewhere (n bytes, one complete valid value: the
 * caller vouches for it). v may be freed once jsonw_json returns. */
bool jsonw_str(struct jsonw *w, const char *s, size_t n);
bool jsonw_i64(struct jsonw *w, int64_t v);
bool jsonw_double(struct jsonw *w, double v);
bool jsonw_bool(struct jsonw *w, bool v);
bool jsonw_null(struct jsonw *w);
bool jsonw_json(struct jsonw *w, const json_t *v);
bool jsonw_raw(struct jsonw *w, const char *json, size_t n);

/* jsonw_over - a write so far took the document past its budget. The
 * bytes are there; jsonw_rewind to a mark before them to drop them. */
bool jsonw_over(const struct jsonw *w);

/* jsonw_mark - where the writer is now; jsonw_rewind - back there, dropping
 * what was written since (and the budget excess with it). A mark is only
 * good at the nesting level it was taken at, before that level ends. */
struct jsonw_mark jsonw_mark(const struct jsonw *w);
void jsonw_rewind(struct jsonw *w, struct jsonw_mark m);

/* jsonw_done - the document is complete (every container ended) and valid:
 * true when nothing failed and the depth is back to 0. */
bool jsonw_done(const struct jsonw *w);

/* jsonw_length - bytes written since jsonw_init (or the last rewind). */
size_t jsonw_length(const struct jsonw *w);

#endif
