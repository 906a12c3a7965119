/*
 * framing.h - newline-delimited message framing with a hard size bound.
 *
 * Bytes are pushed in (from read(2) or a fuzzer) and complete lines are popped
 * out. Callers drain with frame_next() until FRAME_NONE after every push; the
 * buffer then never holds more than max_bytes plus one pushed chunk. A line
 * longer than max_bytes is discarded as it arrives, never buffered whole, and
 * reported once as FRAME_TOO_LARGE so the server can answer with an error and
 * keep serving; the first FRAME_HEAD_MAX bytes of such a line are kept
 * (frame_head) so the server can read its id and answer with it. Lines
 * holding only blanks (space, tab, CR) are dropped like empty lines, and so
 * is a trailing '\r'. Not thread-safe: one reader per stream.
 */
#ifndef MOAT_CORE_FRAMING_H
#define MOAT_CORE_FRAMING_H

#include <stdbool.h>
#include <stddef.h>

enum frame_status {
	FRAME_NONE,      /* need more input */
	FRAME_LINE,      /* line and len hold one message (no newline) */
	FRAME_TOO_LARGE, /* a line exceeded max_bytes and was dropped */
};

#define FRAME_HEAD_MAX 1024

struct frame_reader {
	char *buf;
	size_t start;     /* offset of the first byte not yet handed out */
	size_t len;       /* end of held bytes */
	size_t cap;       /* allocated */
	size_t scan;      /* bytes already searched for '\n' */
	size_t max_bytes; /* bound on one line */
	size_t consumed;  /* bytes of the previously returned line to drop */
	bool discarding;  /* inside an oversized line */
	char head[FRAME_HEAD_MAX]; /* start of the last oversized line */
	size_t head_len;
};

/* frame_init - prepare fr for lines of at most max_bytes. No allocation yet. */
void frame_init(struct frame_reader *fr, size_t max_bytes);

/* frame_free - release fr's buffer. Accepts a zeroed reader. */
void frame_free(struct frame_reader *fr);

/*
 * frame_push - append n bytes. Returns false only when memory runs out.
 * Lines already returned by frame_next() become invalid.
 */
bool frame_push(struct frame_reader *fr, const char *data, size_t n);

/*
 * frame_next - pop the next complete line. On FRAME_LINE, line points into
 * fr's buffer and stays valid until the next frame_push/frame_next call.
 */
enum frame_status frame_next(struct frame_reader *fr, const char **line, size_t *len);

/* frame_head - after FRAME_TOO_LARGE: the first bytes of the dropped line
 * (at most FRAME_HEAD_MAX), valid until the next frame_push/frame_next. */
const char *frame_head(const struct frame_reader *fr, size_t *len);

/* frame_pending - bytes held that do not yet form a complete line. */
size_t frame_pending(const struct frame_reader *fr);

#endif
