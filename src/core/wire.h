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

struct wire_buf {
	char *data;  /* the bytes written so far: the lent storage or heap */
	size_t len;
	size_t cap;
	char *heap;  /* owned; NULL while data is the lent storage */
	bool failed; /* an allocation failed; the contents are incomplete */
	const json_t *memo;  /* the last large string written (borrowed) */
	size_t memo_off;     /* where its literal starts in data */
	size_t memo_len;     /* and its length, quotes included */
};

/* wire_buf_init - start b empty in storage[0..cap) (borrowed; may be NULL
 * with cap 0, so the first write goes to the heap). */
void wire_buf_init(struct wire_buf *b, char *storage, size_t cap);

/* wire_write - append v (borrowed) as compact JSON. Returns false, with
 * b->failed set, if memory ran out or v holds something JSON cannot carry;
 * b must be released either way. */
bool wire_write(struct wire_buf *b, const json_t *v);

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
