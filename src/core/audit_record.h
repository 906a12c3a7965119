/*
 * audit_record.h - formatting one audit record (audit.c's hot path): a
 * growable buffer bounded by AUDIT_RECORD_MAX, and the record's JSON
 * without its closing "prev" field, which the writer adds once it knows
 * the hash of the line before. Pure and thread-safe (each caller owns its
 * buffer).
 */
#ifndef MOAT_CORE_AUDIT_RECORD_H
#define MOAT_CORE_AUDIT_RECORD_H

#include <stdbool.h>
#include <stddef.h>

#include "audit.h"

/* Longest string field kept (client names come from the client). */
#define AUDIT_STR_MAX 256
/* Longest record; touched lists are bounded by callctx, so this is slack. */
#define AUDIT_RECORD_MAX (128u * 1024u)

/* A buffer that starts inline and grows on the heap up to a bound. */
struct audit_buf {
	char *p;
	size_t len, cap, max;
	bool heap, failed; /* failed: an append did not fit or ENOMEM */
	char inline_buf[1024];
};

/* audit_buf_init - empty, at most max bytes. */
void audit_buf_init(struct audit_buf *b, size_t max);

/* audit_buf_free - release the heap part; the buffer is empty after. */
void audit_buf_free(struct audit_buf *b);

/* audit_buf_reserve - room for more bytes; false (and failed set) when it
 * would pass the bound or memory is short. */
bool audit_buf_reserve(struct audit_buf *b, size_t more);

/* audit_buf_put - append n bytes (dropped, failed set, when they do not fit). */
void audit_buf_put(struct audit_buf *b, const void *s, size_t n);

/*
 * audit_record_format - append ev as JSON to b, from "{" up to the last
 * field before "prev" (no closing brace): {"time":...,...,"bytes_out":N
 * The time is taken now (UTC, microseconds). Strings are escaped and cut
 * to AUDIT_STR_MAX bytes on a UTF-8 boundary; touched and the id are
 * written as JSON. Never writes a raw newline.
 */
void audit_record_format(struct audit_buf *b, const struct audit_event *ev);

#endif
