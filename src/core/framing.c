/*
 * framing.c - newline-delimited framing with a hard per-line bound.
 */
#include "framing.h"

#include <stdlib.h>
#include <string.h>

void frame_init(struct frame_reader *fr, size_t max_bytes)
{
	memset(fr, 0, sizeof(*fr));
	fr->max_bytes = max_bytes;
}

void frame_free(struct frame_reader *fr)
{
	free(fr->buf);
	fr->buf = NULL;
	fr->len = fr->cap = fr->scan = fr->start = fr->consumed = 0;
}

/* Keep the start of an oversized line that begins at buf[start]. */
static void keep_head(struct frame_reader *fr, size_t avail)
{
	fr->head_len = avail < FRAME_HEAD_MAX ? avail : FRAME_HEAD_MAX;
	memcpy(fr->head, fr->buf + fr->start, fr->head_len);
}

/* A line of only blanks (what a person typing or a sloppy client sends). */
static bool blank(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

/* Remove the line handed out by the previous frame_next(). */
static void drop_consumed(struct frame_reader *fr)
{
	if (fr->consumed == 0)
		return;
	fr->start += fr->consumed;
	fr->consumed = 0;
	fr->scan = fr->start;
}

bool frame_push(struct frame_reader *fr, const char *data, size_t n)
{
	drop_consumed(fr);
	if (fr->discarding) {
		const char *nl = memchr(data, '\n', n);
		if (!nl)
			return true;
		fr->discarding = false;
		n -= (size_t)(nl - data) + 1;
		data = nl + 1;
	}
	if (n == 0)
		return true;
	if (fr->start > 0) { /* compact once per push, not once per line */
		memmove(fr->buf, fr->buf + fr->start, fr->len - fr->start);
		fr->len -= fr->start;
		fr->scan -= fr->start;
		fr->start = 0;
	}
	if (fr->len + n > fr->cap) {
		size_t ncap = fr->cap ? fr->cap : 4096;
		while (ncap < fr->len + n)
			ncap *= 2;
		char *nb = realloc(fr->buf, ncap);
		if (!nb)
			return false;
		fr->buf = nb;
		fr->cap = ncap;
	}
	memcpy(fr->buf + fr->len, data, n);
	fr->len += n;
	return true;
}

enum frame_status frame_next(struct frame_reader *fr, const char **line, size_t *len)
{
	drop_consumed(fr);
	for (;;) {
		char *nl = fr->scan < fr->len ? memchr(fr->buf + fr->scan, '\n', fr->len - fr->scan)
					      : NULL;
		if (!nl) {
			fr->scan = fr->len;
			if (fr->len - fr->start > fr->max_bytes + 1) {
				/* Oversized and unterminated: drop what is held and
				 * discard the rest of the line as it arrives. */
				keep_head(fr, fr->len - fr->start);
				fr->len = fr->start = fr->scan = 0;
				fr->discarding = true;
				return FRAME_TOO_LARGE;
			}
			return FRAME_NONE;
		}
		size_t l = (size_t)(nl - (fr->buf + fr->start));
		fr->consumed = l + 1;
		if (l > 0 && fr->buf[fr->start + l - 1] == '\r')
			l--;
		if (l > fr->max_bytes) {
			keep_head(fr, l);
			return FRAME_TOO_LARGE;
		}
		if (l == 0 || blank(fr->buf + fr->start, l)) {
			drop_consumed(fr);
			continue;
		}
		*line = fr->buf + fr->start;
		*len = l;
		return FRAME_LINE;
	}
}

const char *frame_head(const struct frame_reader *fr, size_t *len)
{
	*len = fr->head_len;
	return fr->head;
}

size_t frame_pending(const struct frame_reader *fr)
{
	return fr->len - fr->start - fr->consumed;
}
