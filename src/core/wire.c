/*
 * wire.c - compact JSON serialization with whole-run copies of strings.
 * See wire.h for why this exists beside jansson's own dump.
 */
#include "wire.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "numfmt.h"
#include "text.h"

void wire_buf_init(struct wire_buf *b, char *storage, size_t cap)
{
	b->data = storage;
	b->len = 0;
	b->cap = storage ? cap : 0;
	b->heap = NULL;
	b->failed = false;
	b->memo = NULL;
	b->memo_off = b->memo_len = 0;
	b->splice_node = NULL;
	b->splice_data = NULL;
	b->splice_len = 0;
}

void wire_buf_release(struct wire_buf *b)
{
	free(b->heap);
	b->heap = NULL;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->memo = NULL;
	b->splice_node = NULL;
}

/* Strings at least this long are remembered for a second appearance. */
#define MEMO_MIN 4096

/* Make room for n more bytes. */
static bool reserve(struct wire_buf *b, size_t n)
{
	size_t ncap;
	char *nb;

	if (b->failed)
		return false;
	if (n <= b->cap - b->len)
		return true;
	ncap = b->cap ? b->cap : 4096;
	while (ncap - b->len < n) {
		if (ncap > SIZE_MAX / 2) {
			b->failed = true;
			return false;
		}
		ncap *= 2;
	}
	nb = realloc(b->heap, ncap);
	if (!nb) {
		b->failed = true;
		return false;
	}
	if (!b->heap && b->len)
		memcpy(nb, b->data, b->len);
	b->heap = nb;
	b->data = nb;
	b->cap = ncap;
	return true;
}

static bool put(struct wire_buf *b, const char *p, size_t n)
{
	if (!reserve(b, n))
		return false;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	return true;
}

/* A JSON string literal: runs that need no escape are copied whole. */
static bool put_string(struct wire_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	if (!reserve(b, n + 2))
		return false;
	b->data[b->len++] = '"';
	while (i < n) {
		/* Everything but '"', '\\' and C0 controls, 0x7F and UTF-8
		 * sequences included, goes out as is, which is what jansson does
		 * without JSON_ENSURE_ASCII. */
		size_t run = i + text_json_plain(s + i, n - i, false);

		if (run > i && !put(b, s + i, run - i))
			return false;
		if (run == n)
			break;
		if (!reserve(b, 6 + 1))
			return false;
		char *o = b->data + b->len;
		unsigned char c = u[run];
		o[0] = '\\';
		switch (c) {
		case '"':  o[1] = '"'; b->len += 2; break;
		case '\\': o[1] = '\\'; b->len += 2; break;
		case '\b': o[1] = 'b'; b->len += 2; break;
		case '\f': o[1] = 'f'; b->len += 2; break;
		case '\n': o[1] = 'n'; b->len += 2; break;
		case '\r': o[1] = 'r'; b->len += 2; break;
		case '\t': o[1] = 't'; b->len += 2; break;
		default:
			memcpy(o + 1, "u00", 3);
			o[4] = hex[c >> 4];
			o[5] = hex[c & 15];
			b->len += 6;
			break;
		}
		i = run + 1;
	}
	return put(b, "\"", 1);
}

char *wire_buf_take(struct wire_buf *b, size_t *len)
{
	char *out = NULL;

	*len = 0;
	if (!b->failed && put(b, "", 1)) { /* the NUL, within the buffer */
		if (b->heap) {
			out = b->heap;
			b->heap = NULL;
		} else if ((out = malloc(b->len)) != NULL) {
			memcpy(out, b->data, b->len);
		}
		if (out)
			*len = b->len - 1;
	}
	wire_buf_release(b);
	return out;
}

void wire_splice(struct wire_buf *b, const json_t *node, const char *data, size_t len)
{
	b->splice_node = node;
	b->splice_data = data;
	b->splice_len = len;
}

bool wire_put_raw(struct wire_buf *b, const char *p, size_t n)
{
	return put(b, p, n);
}

bool wire_put_string(struct wire_buf *b, const char *s, size_t n)
{
	return put_string(b, s, n);
}

bool wire_put_i64(struct wire_buf *b, int64_t v)
{
	char num[NUMFMT_MAX];
	int n = (int)numfmt_i64(num, v);

	return put(b, num, (size_t)n);
}

bool wire_put_double(struct wire_buf *b, double v)
{
	char num[NUMFMT_MAX];
	int n = (int)numfmt_double(num, v);

	return n > 0 ? put(b, num, (size_t)n) : (b->failed = true, false);
}

bool wire_write(struct wire_buf *b, const json_t *v)
{
	char num[NUMFMT_MAX];
	int n;

	if (!v) {
		b->failed = true;
		return false;
	}
	if (v == b->splice_node)
		return put(b, b->splice_data, b->splice_len);
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		const char *key;
		json_t *val;
		bool first = true;

		if (!put(b, "{", 1))
			return false;
		/* json_object_foreach() follows insertion order, as json_dump does
		 * without JSON_SORT_KEYS. The cast drops const for the iterator
		 * only; nothing is modified. */
		json_object_foreach((json_t *)v, key, val) {
			if ((!first && !put(b, ",", 1)) || !put_string(b, key, strlen(key)) ||
			    !put(b, ":", 1) || !wire_write(b, val))
				return false;
			first = false;
		}
		return put(b, "}", 1);
	}
	case JSON_ARRAY: {
		size_t count = json_array_size(v);

		if (!put(b, "[", 1))
			return false;
		for (size_t i = 0; i < count; i++)
			if ((i > 0 && !put(b, ",", 1)) || !wire_write(b, json_array_get(v, i)))
				return false;
		return put(b, "]", 1);
	}
	case JSON_STRING: {
		size_t slen = json_string_length(v), at = b->len;

		if (slen < MEMO_MIN)
			return put_string(b, json_string_value(v), slen);
		if (v == b->memo && b->memo_off + b->memo_len <= b->len) {
			/* The same value again: copy its literal. */
			if (!reserve(b, b->memo_len))
				return false;
			memcpy(b->data + b->len, b->data + b->memo_off, b->memo_len);
			b->len += b->memo_len;
			return true;
		}
		if (!put_string(b, json_string_value(v), slen))
			return false;
		b->memo = v;
		b->memo_off = at;
		b->memo_len = b->len - at;
		return true;
	}
	case JSON_INTEGER:
		n = (int)numfmt_i64(num, json_integer_value(v));
		return put(b, num, (size_t)n);
	case JSON_REAL:
		/* The shortest text that reads back as the value (numfmt.h),
		 * where json_dumps writes %.17g; NaN and infinity fail, as in
		 * jansson. */
		n = (int)numfmt_double(num, json_real_value(v));
		return n > 0 ? put(b, num, (size_t)n) : (b->failed = true, false);
	case JSON_TRUE:
		return put(b, "true", 4);
	case JSON_FALSE:
		return put(b, "false", 5);
	case JSON_NULL:
		return put(b, "null", 4);
	}
	b->failed = true;
	return false;
}

size_t wire_length(const json_t *v)
{
	char small[1024];
	struct wire_buf b;
	size_t n;

	wire_buf_init(&b, small, sizeof(small));
	n = wire_write(&b, v) && !b.failed ? b.len : 0;
	wire_buf_release(&b);
	return n;
}

char *wire_dumps(const json_t *v)
{
	char small[1024];
	struct wire_buf b;
	char *out = NULL;

	wire_buf_init(&b, small, sizeof(small));
	if (wire_write(&b, v) && !b.failed && (out = malloc(b.len + 1)) != NULL) {
		memcpy(out, b.data, b.len);
		out[b.len] = '\0';
	}
	wire_buf_release(&b);
	return out;
}
