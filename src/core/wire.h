/*
 * wire.h - compact JSON serialization of jansson values into one growable
 * buffer: how every message moat writes is turned into bytes.
 *
 * jansson's json_dump_callback() decodes every string character by
 * character and calls its sink for each escape; for a tool result that
 * carries kilobytes or megabytes of text that was most of a call's cost.
 * wire_write() produces the same bytes as json_dump_callback(v, ...,
 * JSON_COMPACT) (keys in insertion order, the same escapes) but copies
 * runs of bytes that need no escape whole, and writes numbers without
 * printf (numfmt.h): reals as the shortest text that reads back as the
 * same double, where jansson writes %.17g (13.7, not 13.699999999999999).
 * Strings must be valid UTF-8, as jansson guarantees for every string it
 * checked and moat promises for those it made with json_stringn_nocheck().
 * A large string value that appears twice in one message (a tool's text
 * in content and in structuredContent, as the reference sends it) is
 * escaped once and copied the second time.
 *
 * A buffer starts in storage the caller lends (typically on its stack) and
 * moves to the heap, doubling, when that is full. Not thread-safe per
 * buffer; separate buffers may be used from separate threads.
 */
#ifndef MOAT_CORE_WIRE_H
#define MOAT_CORE_WIRE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wire_buf {
	char *data;  /* the bytes written so far: the lent storage or heap */
	size_t len;
	size_t cap;
	char *heap;  /* owned; NULL while data is the lent storage */
	bool failed; /* an allocation failed; the contents are incomplete */
	const json_t *memo;  /* the last large string written (borrowed) */
	size_t memo_off;     /* where its literal starts in data */
	size_t memo_len;     /* and its length, quotes included */
	/* A splice (wire_splice): where wire_write meets this very value, it
	 * copies these bytes, a JSON text made elsewhere (jsonw.h), instead. */
	const json_t *splice_node; /* borrowed, or NULL */
	const char *splice_data;   /* borrowed */
	size_t splice_len;
};

/* wire_buf_init - start b empty in storage[0..cap) (borrowed; may be NULL
 * with cap 0, so the first write goes to the heap). */
void wire_buf_init(struct wire_buf *b, char *storage, size_t cap);

/* wire_write - append v (borrowed) as compact JSON. Returns false, with
 * b->failed set, if memory ran out or v holds something JSON cannot carry;
 * b must be released either way. */
bool wire_write(struct wire_buf *b, const json_t *v);

/* wire_splice - from now on, write the JSON text data[0..len) (borrowed,
 * valid until the last wire_write; the caller vouches that it is one
 * complete, valid JSON value) wherever wire_write meets the value node
 * (borrowed; compared by address, typically an empty placeholder). One
 * splice per buffer: a second call replaces the first. */
void wire_splice(struct wire_buf *b, const json_t *node, const char *data, size_t len);

/* wire_put_raw - append n bytes as they are (a separator, a literal the
 * caller made). wire_put_string - append s[0..n) (valid UTF-8) as a JSON
 * string literal, escaped exactly as wire_write escapes. wire_put_i64,
 * wire_put_double - a number as wire_write writes it (a non-finite double
 * fails). Each returns false, with b->failed set, when memory runs out. */
bool wire_put_raw(struct wire_buf *b, const char *p, size_t n);
bool wire_put_string(struct wire_buf *b, const char *s, size_t n);
bool wire_put_i64(struct wire_buf *b, int64_t v);
bool wire_put_double(struct wire_buf *b, double v);

/* wire_buf_take - b's bytes as a malloc'd string the caller frees (NUL
 * after len bytes; *len set), b left empty; NULL when b failed or memory
 * ran out (b released either way). */
char *wire_buf_take(struct wire_buf *b, size_t *len);

/* wire_buf_release - free b's heap storage, if any, and empty it. */
void wire_buf_release(struct wire_buf *b);

/* wire_length - the number of bytes wire_write() makes of v (the length
 * json_dumpb(v, NULL, 0, JSON_COMPACT) gives, but with moat's reals);
 * 0 when v cannot be serialized. For budgets counted value by value. */
size_t wire_length(const json_t *v);

/* wire_dumps - v (borrowed, any JSON value) as compact JSON in a new
 * NUL-terminated string the caller frees: json_dumps(v, JSON_COMPACT |
 * JSON_ENCODE_ANY) with moat's reals (0.174, not 0.17399999999999999).
 * NULL when memory runs out or v cannot be serialized. Thread-safe. */
char *wire_dumps(const json_t *v);

#endif
