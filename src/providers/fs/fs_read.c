/*
 * fs_read.c - the fs family's read tools: read_text_file (and its
 * deprecated alias read_file), read_multiple_files and read_media_file.
 *
 * Names, parameters and result text follow the reference filesystem server
 * (@modelcontextprotocol/server-filesystem) byte for byte: head returns the
 * first N lines joined by '\n'; tail returns the text after the N-th '\n'
 * counted from the end, with CRLF folded to LF; read_multiple_files joins
 * "path:\ncontent\n" and "path: Error - message" with "\n---\n" and reports
 * a failed file inline; read_media_file answers with an image or audio
 * block, or an embedded resource for any other type.
 *
 * What moat adds: every file is opened through fs_open_file (openat2 beneath
 * its root, regular files only); whole reads are refused above
 * fs.max_file_size; head reads from the start only as far as it needs and
 * tail reads backwards from the end with pread, so neither loads a large
 * file; text is decoded as Node decodes it (each invalid UTF-8 sequence
 * becomes one U+FFFD per maximal subpart, NUL bytes are kept) so the JSON is
 * always valid; output stops at the call's output budget with a note rather
 * than failing; read_media_file sniffs the type with libmagic, never from
 * the name, and refuses a file over fs.max_media_bytes before reading it.
 * Handlers run on worker threads; they share only struct fs, whose libmagic
 * handle is used under fs->magic_lock (inside fs_mime).
 */
#include "fs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_util.h"
#include "text.h"

#define READ_CHUNK ((size_t)64 * 1024)
/* Room kept out of the output budget for the JSON-RPC envelope (the id
 * serializes to at most 127 bytes) and the cut note. */
#define ENVELOPE_RESERVE ((size_t)512)
#define MAGIC_SNIFF_MAX ((size_t)1 << 20)
#define MAX_PATHS "100" /* read_multiple_files: most paths per call */

static const char CUT_NOTE[] = "[... cut: output budget limits.max_output_bytes reached ...]";
static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* ---- text bounded by the output budget ---------------------------------- */

/* Text being built for one result. buf holds valid UTF-8 (possibly with NUL
 * bytes); budget counts the bytes its JSON encoding may still take. */
struct text_out {
	char *buf;  /* owned */
	size_t len;
	size_t cap;
	size_t budget;
	bool cut;   /* the budget ran out: further text is dropped */
	bool noted; /* the cut note is already in buf */
};

/* What the text may take of ctx's output budget once the envelope is paid. */
static size_t text_budget(const struct call_ctx *ctx)
{
	return ctx->output_budget > ENVELOPE_RESERVE ? ctx->output_budget - ENVELOPE_RESERVE : 0;
}

/* Bytes jansson writes for the one-byte character c inside a JSON string. */
static size_t json_cost(unsigned char c)
{
	if (c == '"' || c == '\\')
		return 2;
	if (c < 0x20)
		return (c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') ? 2 : 6;
	return 1;
}

/*
 * Length of the valid UTF-8 sequence at s (n > 0 bytes left), or 0 when s
 * starts an invalid one. *used gets the bytes consumed either way: an
 * invalid sequence consumes its maximal subpart and becomes one U+FFFD
 * (the WHATWG decoder, which Node's utf-8 decoding follows).
 */
static size_t utf8_seq(const unsigned char *s, size_t n, size_t *used)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xBF;
	size_t need;

	if (c < 0x80) {
		*used = 1;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		if (c == 0xE0)
			lo = 0xA0; /* overlong */
		else if (c == 0xED)
			hi = 0x9F; /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		if (c == 0xF0)
			lo = 0x90; /* overlong */
		else if (c == 0xF4)
			hi = 0x8F; /* above U+10FFFF */
	} else {
		*used = 1; /* continuation byte, C0, C1 or F5..FF */
		return 0;
	}
	for (size_t k = 1; k <= need; k++) {
		if (k >= n || s[k] < lo || s[k] > hi) {
			*used = k;
			return 0;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	*used = need + 1;
	return need + 1;
}

/* The character at s decoded as utf8_seq does: its output bytes, their
 * count and their JSON cost. Returns the input bytes consumed. */
static size_t next_char(const unsigned char *s, size_t n, const char **bytes, size_t *blen,
			size_t *cost)
{
	size_t used, len = utf8_seq(s, n, &used);

	if (len == 0) {
		*bytes = REPLACEMENT;
		*blen = 3;
		*cost = 3;
	} else {
		*bytes = (const char *)s;
		*blen = len;
		*cost = len == 1 ? json_cost(s[0]) : len;
	}
	return used;
}

/* Make room for need more bytes in *p (len used of *cap), doubling from
 * first; the callers' budgets bound the growth. */
static enum moat_rc buf_grow(char **p, size_t *cap, size_t len, size_t need, size_t first,
			     struct moat_err *err)
{
	size_t ncap;
	char *np;

	if (*cap - len >= need)
		return MOAT_OK;
	ncap = *cap ? *cap * 2 : first;
	if (ncap < len + need)
		ncap = len + need;
	np = realloc(*p, ncap);
	if (!np)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	*p = np;
	*cap = ncap;
	return MOAT_OK;
}

/* Make room for need more bytes. Growth is bounded by the budget: every
 * byte stored costs at least one byte of it. */
static enum moat_rc text_reserve(struct text_out *o, size_t need, struct moat_err *err)
{
	return buf_grow(&o->buf, &o->cap, o->len, need, 4096, err);
}

/* Copy n bytes to the end of o's text; budgets are the caller's concern. */
static enum moat_rc text_raw(struct text_out *o, const char *p, size_t n, struct moat_err *err)
{
	enum moat_rc rc = text_reserve(o, n, err);

	if (rc)
		return rc;
	memcpy(o->buf + o->len, p, n);
	o->len += n;
	return MOAT_OK;
}

/* Append src[0..n) decoded as UTF-8 (invalid sequences replaced) while the
 * budget lasts; past it, set o->cut and drop the rest. */
static enum moat_rc text_put(struct text_out *o, const char *src, size_t n, struct moat_err *err)
{
	const unsigned char *s = (const unsigned char *)src;
	enum moat_rc rc;
	size_t i = 0;

	while (i < n && !o->cut) {
		const char *bytes;
		size_t blen, cost;
		/* Fast path: a run of printable ASCII that JSON needs no escape
		 * for costs one byte each and is copied whole. */
		size_t run = text_json_plain(src + i, n - i < o->budget ? n - i : o->budget, true);

		if (run > 0) {
			if ((rc = text_raw(o, (const char *)s + i, run, err)))
				return rc;
			o->budget -= run;
			i += run;
			continue;
		}
		size_t used = next_char(s + i, n - i, &bytes, &blen, &cost);
		if (cost > o->budget) {
			o->cut = true;
			break;
		}
		if ((rc = text_raw(o, bytes, blen, err)))
			return rc;
		o->budget -= cost;
		i += used;
	}
	return MOAT_OK;
}

/* text_put for a NUL-terminated string. */
static enum moat_rc text_puts(struct text_out *o, const char *s, struct moat_err *err)
{
	return text_put(o, s, strlen(s), err);
}

/* Append an ASCII note regardless of the budget (ENVELOPE_RESERVE pays). */
static enum moat_rc text_note(struct text_out *o, const char *note, struct moat_err *err)
{
	enum moat_rc rc = text_raw(o, note, strlen(note), err);

	if (rc == MOAT_OK)
		o->noted = true;
	return rc;
}

/*
 * Append src[0..n) keeping its end: when its text does not fit the budget,
 * the cut note comes first and the start is dropped at a character
 * boundary (tail asks for the end of a file).
 */
static enum moat_rc text_put_tail(struct text_out *o, const char *src, size_t n,
				  struct moat_err *err)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t total = 0, i = 0;
	enum moat_rc rc;

	while (i < n) {
		const char *bytes;
		size_t blen, cost;
		i += next_char(s + i, n - i, &bytes, &blen, &cost);
		total += cost;
	}
	i = 0;
	if (total > o->budget) {
		if ((rc = text_note(o, CUT_NOTE, err)) || (rc = text_note(o, "\n", err)))
			return rc;
		o->cut = true;
		while (i < n && total > o->budget) {
			const char *bytes;
			size_t blen, cost;
			i += next_char(s + i, n - i, &bytes, &blen, &cost);
			total -= cost;
		}
	}
	while (i < n) {
		const char *bytes;
		size_t blen, cost;
		size_t used = next_char(s + i, n - i, &bytes, &blen, &cost);
		if ((rc = text_raw(o, bytes, blen, err)))
			return rc;
		o->budget -= cost;
		i += used;
	}
	return MOAT_OK;
}

/* Finish o into out as one text block, adding the cut note at the end when
 * text was dropped and no note says so yet. */
static enum moat_rc text_finish(struct text_out *o, const char *note, struct tool_result *out,
				struct moat_err *err)
{
	enum moat_rc rc;
	json_t *str, *block;

	if (o->cut && !o->noted) {
		if ((o->len > 0 && (rc = text_note(o, "\n", err))) || (rc = text_note(o, note, err)))
			return rc;
	}
	/* The bytes were decoded above: valid UTF-8, so no second check. */
	str = json_stringn_nocheck(o->buf ? o->buf : "", o->len);
	block = str ? json_pack("{s:s, s:o}", "type", "text", "text", str) : NULL;
	if (!block)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (!out->content && !(out->content = json_array())) {
		json_decref(block);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	if (json_array_append_new(out->content, block) != 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return MOAT_OK;
}

/* ---- bounded reads --------------------------------------------------------- */

/* A byte buffer that grows up to a bound. */
struct bytes {
	char *p; /* owned */
	size_t len;
	size_t cap;
};

/* Make room for need more bytes in b (a first allocation of a small need
 * is that size, not a whole chunk). */
static enum moat_rc bytes_reserve(struct bytes *b, size_t need, struct moat_err *err)
{
	return buf_grow(&b->p, &b->cap, b->len, need, need < READ_CHUNK ? need : READ_CHUNK, err);
}

/* read() that retries EINTR; -1 with err filled on failure. */
static ssize_t read_some(int fd, char *buf, size_t n, struct moat_err *err)
{
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		moat_err_set(err, MOAT_EIO, "read failed: %s", strerror(errno));
	return r;
}

/*
 * Read fd from its current offset into b until EOF or until b holds cap
 * bytes (*eof says which). Polls ctx between chunks. expect is the size
 * fstat gave (0: unknown): a file that size is read in one call of one
 * byte more, and a short read that ends exactly there is its end, which
 * saves the read that would return 0. Any other short read (a file that
 * changed, a filesystem that reads short) goes on to a real EOF.
 */
static enum moat_rc read_upto(struct call_ctx *ctx, int fd, size_t cap, size_t expect,
			      struct bytes *b, bool *eof, struct moat_err *err)
{
	enum moat_rc rc;

	*eof = false;
	while (b->len < cap) {
		size_t want = cap - b->len < READ_CHUNK ? cap - b->len : READ_CHUNK;
		ssize_t r;
		if (expect > 0 && b->len == 0 && expect < want)
			want = expect + 1;
		if ((rc = callctx_check(ctx, err)) || (rc = bytes_reserve(b, want, err)))
			return rc;
		r = read_some(fd, b->p + b->len, want, err);
		if (r < 0)
			return err->rc;
		if (r == 0) {
			*eof = true;
			break;
		}
		b->len += (size_t)r;
		if ((size_t)r < want && b->len == expect) {
			*eof = true;
			break;
		}
	}
	return MOAT_OK;
}

/* The error for a whole read of t, a file over fs.max_file_size. */
static enum moat_rc too_big(const struct fs_target *t, struct moat_err *err,
			    unsigned long long size, size_t max)
{
	char rel[256];

	return moat_err_rule(err, MOAT_ELIMIT, "limits.file_size",
			     "refused: %s is %llu bytes, over fs.max_file_size (%zu); read part "
			     "of it with head or tail",
			     fs_show_rel(t, rel, sizeof(rel)), size, max);
}

/*
 * The whole file: refused above fs.max_file_size (checked on the size
 * before reading, and again on what is read in case it grows); otherwise
 * at most cap bytes are read (the text budget + 1 is enough to know that
 * the text must be cut).
 */
static enum moat_rc load_whole(struct call_ctx *ctx, const struct fs *fs,
			       const struct fs_target *t, int fd, const struct stat *st, size_t cap,
			       struct bytes *b, struct moat_err *err)
{
	size_t max = fs->lim.max_file_size;
	bool eof;
	enum moat_rc rc;

	if ((unsigned long long)st->st_size > max)
		return too_big(t, err, (unsigned long long)st->st_size, max);
	if (cap > max + 1)
		cap = max + 1;
	if ((rc = read_upto(ctx, fd, cap, (size_t)st->st_size, b, &eof, err)))
		return rc;
	if (b->len > max)
		return too_big(t, err, (unsigned long long)b->len, max);
	return MOAT_OK;
}

/*
 * The first n lines, as the reference returns them: the bytes before the
 * n-th '\n', or, with fewer lines, the whole file less one trailing '\n'.
 * Reads forward only as far as it needs, and never more than cap bytes.
 */
static enum moat_rc load_head(struct call_ctx *ctx, int fd, uint64_t n, size_t cap,
			      struct bytes *b, struct moat_err *err)
{
	uint64_t lines = 0;
	enum moat_rc rc;

	while (b->len < cap) {
		size_t want = cap - b->len < READ_CHUNK ? cap - b->len : READ_CHUNK;
		size_t from = b->len;
		ssize_t r;
		if ((rc = callctx_check(ctx, err)) || (rc = bytes_reserve(b, want, err)))
			return rc;
		r = read_some(fd, b->p + b->len, want, err);
		if (r < 0)
			return err->rc;
		if (r == 0) {
			if (b->len > 0 && b->p[b->len - 1] == '\n')
				b->len--;
			return MOAT_OK;
		}
		b->len += (size_t)r;
		for (size_t i = from; i < b->len; i++) {
			if (b->p[i] == '\n' && ++lines == n) {
				b->len = i;
				return MOAT_OK;
			}
		}
	}
	return MOAT_OK; /* cap reached: the caller cuts the text */
}

/* pread exactly n bytes at off; a short file means it changed. */
static enum moat_rc pread_full(int fd, char *buf, size_t n, off_t off, struct moat_err *err)
{
	while (n > 0) {
		ssize_t r = pread(fd, buf, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return moat_err_set(err, MOAT_EIO, "read failed: %s", strerror(errno));
		if (r == 0)
			return moat_err_set(err, MOAT_EIO,
					    "the file shrank while it was being read; try again");
		buf += r;
		n -= (size_t)r;
		off += r;
	}
	return MOAT_OK;
}

/*
 * The last n lines, as the reference returns them: read chunks backwards
 * from the end with pread until they hold n '\n' (or the start, or cap
 * bytes), fold CRLF to LF, and keep what follows the n-th '\n' from the
 * end. *start is the offset in b->p where the kept bytes begin.
 */
static enum moat_rc load_tail(struct call_ctx *ctx, int fd, const struct stat *st, uint64_t n,
			      size_t cap, struct bytes *b, size_t *start, struct moat_err *err)
{
	off_t pos = st->st_size;
	size_t have = 0; /* bytes read, kept at the end of b->p */
	uint64_t lines = 0;
	size_t i, o, kept;
	enum moat_rc rc;

	*start = 0;
	while (pos > 0 && lines < n && have < cap) {
		size_t want = (size_t)pos < READ_CHUNK ? (size_t)pos : READ_CHUNK;
		if ((rc = callctx_check(ctx, err)))
			return rc;
		if (b->cap - have < want) {
			/* grow, keeping the bytes read so far at the end */
			size_t ncap = b->cap ? b->cap * 2 : READ_CHUNK;
			char *np;
			if (ncap < have + want)
				ncap = have + want;
			np = malloc(ncap);
			if (!np)
				return moat_err_set(err, MOAT_ENOMEM, "out of memory");
			if (have > 0)
				memcpy(np + ncap - have, b->p + b->cap - have, have);
			free(b->p);
			b->p = np;
			b->cap = ncap;
		}
		pos -= (off_t)want;
		if ((rc = pread_full(fd, b->p + b->cap - have - want, want, pos, err)))
			return rc;
		for (i = 0; i < want; i++)
			if (b->p[b->cap - have - want + i] == '\n')
				lines++;
		have += want;
	}
	/* Move to the front, folding CRLF to LF on the way. */
	for (i = b->cap - have, o = 0; i < b->cap; i++) {
		if (b->p[i] == '\r' && i + 1 < b->cap && b->p[i + 1] == '\n')
			continue;
		b->p[o++] = b->p[i];
	}
	b->len = o;
	kept = 0;
	if (lines >= n) {
		uint64_t seen = 0;
		for (i = b->len; i > 0; i--) {
			if (b->p[i - 1] == '\n' && ++seen == n) {
				kept = i;
				break;
			}
		}
	} else if (pos > 0) {
		/* Stopped at cap in the middle of the file: the text is cut
		 * from the front anyway; do not start inside a character. */
		while (kept < b->len && kept < 3 && ((unsigned char)b->p[kept] & 0xC0) == 0x80)
			kept++;
	}
	*start = kept;
	return MOAT_OK;
}

/* ---- arguments ------------------------------------------------------------- */

/* A path argument as a C string; refuses embedded NUL bytes, which would
 * silently name another file. */
static enum moat_rc path_arg(const json_t *v, const char **path, struct moat_err *err)
{
	const char *s = json_string_value(v);

	if (!s)
		return moat_err_rule(err, MOAT_EINVAL, "schema.invalid", "path must be a string");
	if (strlen(s) != json_string_length(v))
		return moat_err_rule(err, MOAT_EINVAL, "fs.invalid_path",
				     "path: contains a NUL byte");
	*path = s;
	return MOAT_OK;
}

/* An optional positive line count (the schema has checked it is >= 1);
 * 0 when absent. */
static uint64_t count_arg(const json_t *args, const char *key)
{
	const json_t *v = json_object_get(args, key);

	if (json_is_integer(v))
		return json_integer_value(v) > 0 ? (uint64_t)json_integer_value(v) : 0;
	if (json_is_real(v) && json_real_value(v) >= 1)
		return json_real_value(v) >= 1.8e19 ? UINT64_MAX : (uint64_t)json_real_value(v);
	return 0;
}

/* ---- read_text_file / read_file --------------------------------------------- */

/*
 * read_text_file {path, head?, tail?}: the file as text, or its first or
 * last lines. data is the struct fs (borrowed). Thread-safe.
 */
static enum moat_rc read_text_tool(struct call_ctx *ctx, void *data, json_t *args,
				   struct tool_result *out, struct moat_err *err)
{
	struct fs *fs = data;
	struct fs_view *v = fs_view_get(fs);
	struct text_out o = {.budget = text_budget(ctx)};
	struct bytes b = {0};
	uint64_t head = count_arg(args, "head"), tail = count_arg(args, "tail");
	struct fs_target t;
	struct stat st;
	const char *path = NULL;
	size_t start = 0;
	enum moat_rc rc;
	int fd = -1;

	if (head && tail) {
		rc = moat_err_rule(err, MOAT_EINVAL, "schema.invalid",
				   "invalid arguments: cannot specify both head and tail parameters "
				   "simultaneously (they are mutually exclusive)");
		goto out;
	}
	if ((rc = path_arg(json_object_get(args, "path"), &path, err)) ||
	    (rc = fs_resolve(v, path, &t, err)))
		goto out;
	fs_touch(ctx, &t);
	fd = fs_open_file(&t, &st, err);
	if (fd < 0) {
		rc = err->rc;
		goto out;
	}
	if (tail) {
		if ((rc = load_tail(ctx, fd, &st, tail, o.budget + 1, &b, &start, err)) ||
		    (rc = text_put_tail(&o, b.p ? b.p + start : "", b.len - start, err)))
			goto out;
	} else {
		rc = head ? load_head(ctx, fd, head, o.budget + 1, &b, err)
			  : load_whole(ctx, fs, &t, fd, &st, o.budget + 1, &b, err);
		if (rc || (rc = text_put(&o, b.p, b.len, err)))
			goto out;
	}
	rc = text_finish(&o, CUT_NOTE, out, err);
out:
	if (fd >= 0)
		close(fd);
	free(b.p);
	free(o.buf);
	fs_view_put(fs, v);
	return rc;
}

/* ---- read_multiple_files ----------------------------------------------------- */

/* Read one file of read_multiple_files whole into b (at most cap bytes). */
static enum moat_rc load_one(struct call_ctx *ctx, struct fs *fs, const struct fs_view *v,
			     const json_t *item, size_t cap, struct bytes *b, struct moat_err *err)
{
	struct fs_target t;
	struct stat st;
	const char *path = NULL;
	enum moat_rc rc;
	int fd;

	if ((rc = path_arg(item, &path, err)) || (rc = fs_resolve(v, path, &t, err)))
		return rc;
	fs_touch_add(ctx, &t);
	fd = fs_open_file(&t, &st, err);
	if (fd < 0)
		return err->rc;
	rc = load_whole(ctx, fs, &t, fd, &st, cap, b, err);
	close(fd);
	return rc;
}

/*
 * read_multiple_files {paths}: each file as "path:\ncontent\n", or "path:
 * Error - message" when it cannot be read, joined by "\n---\n". One file's
 * failure does not fail the call; a cancel or the deadline does. data is
 * the struct fs (borrowed). Thread-safe.
 */
static enum moat_rc read_multiple_tool(struct call_ctx *ctx, void *data, json_t *args,
				       struct tool_result *out, struct moat_err *err)
{
	struct fs *fs = data;
	struct fs_view *v = fs_view_get(fs);
	struct text_out o = {.budget = text_budget(ctx)};
	const json_t *paths = json_object_get(args, "paths");
	size_t n = json_array_size(paths), not_read = 0;
	char note[160];
	enum moat_rc rc = MOAT_OK;

	for (size_t i = 0; i < n; i++) {
		const json_t *item = json_array_get(paths, i);
		struct moat_err ferr = {0};
		struct bytes b = {0};
		enum moat_rc frc;

		if ((rc = callctx_check(ctx, err)))
			goto out;
		frc = load_one(ctx, fs, v, item, o.budget + 1, &b, &ferr);
		if (frc == MOAT_ECANCELLED || frc == MOAT_ETIMEOUT || frc == MOAT_ENOMEM) {
			free(b.p);
			rc = moat_err_set(err, frc, "%s", ferr.msg);
			goto out;
		}
		if (i > 0)
			rc = text_puts(&o, "\n---\n", err);
		if (!rc)
			rc = text_put(&o, json_string_value(item), json_string_length(item), err);
		if (!rc && frc) {
			if (!(rc = text_puts(&o, ": Error - ", err)))
				rc = text_puts(&o, ferr.msg, err);
		} else if (!rc) {
			if (!(rc = text_puts(&o, ":\n", err)) && !(rc = text_put(&o, b.p, b.len, err)))
				rc = text_puts(&o, "\n", err);
		}
		free(b.p);
		if (rc)
			goto out;
		if (o.cut) {
			not_read = n - i - 1;
			break;
		}
	}
	if (not_read > 0)
		snprintf(note, sizeof(note),
			 "[... cut: output budget limits.max_output_bytes reached; %zu more file(s) "
			 "not read ...]",
			 not_read);
	else
		snprintf(note, sizeof(note), "%s", CUT_NOTE);
	rc = text_finish(&o, note, out, err);
out:
	free(o.buf);
	fs_view_put(fs, v);
	return rc;
}

/* ---- read_media_file ------------------------------------------------------- */

/* libmagic's names for a few types, mapped to the registered ones the
 * reference (and clients) use. */
static const char *mime_canonical(const char *m)
{
	static const char *const map[][2] = {
		{"audio/x-wav", "audio/wav"},   {"audio/vnd.wave", "audio/wav"},
		{"audio/x-flac", "audio/flac"}, {"image/x-ms-bmp", "image/bmp"},
		{"audio/x-mp3", "audio/mpeg"},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(m, map[i][0]) == 0)
			return map[i][1];
	return m;
}

/*
 * read_media_file {path}: the file base64-encoded, as an image or audio
 * block when libmagic says image/... or audio/..., else as an embedded resource
 * (like the reference). Refused before reading above fs.max_media_bytes or
 * when the encoding cannot fit limits.max_output_bytes. data is the struct
 * fs (borrowed). Thread-safe.
 */
static enum moat_rc read_media_tool(struct call_ctx *ctx, void *data, json_t *args,
				    struct tool_result *out, struct moat_err *err)
{
	struct fs *fs = data;
	struct fs_view *v = fs_view_get(fs);
	struct bytes b = {0};
	char mime[128], uri[3 * PATH_MAX + 8];
	const char *path = NULL, *type;
	struct fs_target t;
	struct stat st;
	char *b64 = NULL;
	json_t *block = NULL;
	size_t size, encoded;
	enum moat_rc rc;
	bool eof;
	int fd = -1;

	if ((rc = path_arg(json_object_get(args, "path"), &path, err)) ||
	    (rc = fs_resolve(v, path, &t, err)))
		goto out;
	fs_touch(ctx, &t);
	fd = fs_open_file(&t, &st, err);
	if (fd < 0) {
		rc = err->rc;
		goto out;
	}
	size = (size_t)st.st_size;
	if ((unsigned long long)st.st_size > fs->lim.max_media_bytes) {
		char rel[256];
		rc = moat_err_rule(err, MOAT_ELIMIT, "limits.media_size",
				   "refused: %s is %llu bytes, over fs.max_media_bytes (%zu)",
				   fs_show_rel(&t, rel, sizeof(rel)), (unsigned long long)st.st_size,
				   fs->lim.max_media_bytes);
		goto out;
	}
	encoded = (size + 2) / 3 * 4;
	if ((rc = fs_file_uri(t.abs, uri, sizeof(uri), err)))
		goto out;
	if (encoded + strlen(uri) > text_budget(ctx)) {
		rc = moat_err_rule(err, MOAT_ELIMIT, "limits.output",
				   "refused: the file's base64 encoding (%zu bytes) would exceed "
				   "limits.max_output_bytes (%zu)",
				   encoded, ctx->output_budget);
		goto out;
	}
	/* Read what fstat promised and no more (the file may grow). */
	if ((rc = read_upto(ctx, fd, size, size, &b, &eof, err)))
		goto out;
	fs_mime(fs, b.p ? b.p : "", b.len < MAGIC_SNIFF_MAX ? b.len : MAGIC_SNIFF_MAX, mime,
		sizeof(mime));
	type = mime_canonical(mime);
	b64 = text_base64((const unsigned char *)(b.p ? b.p : ""), b.len);
	if (!b64) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (strncmp(type, "image/", 6) == 0 || strncmp(type, "audio/", 6) == 0)
		block = json_pack("{s:s, s:s, s:s}", "type", type[0] == 'i' ? "image" : "audio",
				  "data", b64, "mimeType", type);
	else
		block = json_pack("{s:s, s:{s:s, s:s, s:s}}", "type", "resource", "resource", "uri",
				  uri, "mimeType", type, "blob", b64);
	if (!block || !(out->content = json_array()) ||
	    json_array_append_new(out->content, block) != 0) {
		block = NULL;
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	block = NULL;
out:
	json_decref(block);
	free(b64);
	free(b.p);
	if (fd >= 0)
		close(fd);
	fs_view_put(fs, v);
	return rc;
}

/* ---- registration ------------------------------------------------------------ */

#define PATH_SCHEMA "{\"type\":\"string\",\"minLength\":1,\"maxLength\":4096}"
#define LINES_SCHEMA(what)                                                                 \
	"{\"type\":\"integer\",\"minimum\":1,\"description\":\"If provided, returns only the " \
	what " N lines of the file\"}"

static const char TEXT_SCHEMA[] =
	"{\"type\":\"object\",\"properties\":{"
	"\"path\":" PATH_SCHEMA ","
	"\"tail\":" LINES_SCHEMA("last") ","
	"\"head\":" LINES_SCHEMA("first") "},"
	"\"required\":[\"path\"],\"additionalProperties\":false}";

static const char MULTI_SCHEMA[] =
	"{\"type\":\"object\",\"properties\":{\"paths\":{\"type\":\"array\",\"minItems\":1,"
	"\"maxItems\":" MAX_PATHS ",\"items\":{\"type\":\"string\",\"maxLength\":4096},"
	"\"description\":\"Array of file paths to read. Each path must be a string pointing to a "
	"valid file within allowed directories.\"}},\"required\":[\"paths\"],"
	"\"additionalProperties\":false}";

static const char MEDIA_SCHEMA[] =
	"{\"type\":\"object\",\"properties\":{\"path\":" PATH_SCHEMA "},\"required\":[\"path\"],"
	"\"additionalProperties\":false}";

static const char TEXT_DESC[] =
	"Read the complete contents of a file from the file system as text. Handles various text "
	"encodings and provides detailed error messages if the file cannot be read. Use this tool "
	"when you need to examine the contents of a single file. Use the 'head' parameter to read "
	"only the first N lines of a file, or the 'tail' parameter to read only the last N lines "
	"of a file. Operates on the file as text regardless of extension. Only works within "
	"allowed directories. Files larger than fs.max_file_size are refused unless head or tail "
	"is given; invalid UTF-8 is replaced with U+FFFD.";

static const char ALIAS_DESC[] =
	"Read the complete contents of a file as text. DEPRECATED: Use read_text_file instead.";

static const char MULTI_DESC[] =
	"Read the contents of multiple files simultaneously. This is more efficient than reading "
	"files one by one when you need to analyze or compare multiple files. Each file's content "
	"is returned with its path as a reference. Failed reads for individual files won't stop "
	"the entire operation. Only works within allowed directories. At most 100 paths.";

static const char MEDIA_DESC[] =
	"Read a file and return it as a base64-encoded content block with its MIME type. Image and "
	"audio files are returned as image/audio content; any other file type is returned as an "
	"embedded resource. Only works within allowed directories. The type is detected from the "
	"file's content; files larger than fs.max_media_bytes are refused.";

/*
 * fs_register_read - add read_file, read_text_file, read_media_file and
 * read_multiple_files to reg with data = fs (borrowed: the provider frees it
 * after the registry). Start-up only, one thread.
 */
enum moat_rc fs_register_read(struct registry *reg, struct fs *fs, struct moat_err *err)
{
	static const struct fs_tool_def tools[] = {
		/* One file each (or a bounded list of them): quick. */
		{"read_file", "Read File (Deprecated)", ALIAS_DESC, TEXT_SCHEMA, read_text_tool,
		 true},
		{"read_text_file", "Read Text File", TEXT_DESC, TEXT_SCHEMA, read_text_tool, true},
		{"read_media_file", "Read Media File", MEDIA_DESC, MEDIA_SCHEMA, read_media_tool,
		 true},
		{"read_multiple_files", "Read Multiple Files", MULTI_DESC, MULTI_SCHEMA,
		 read_multiple_tool, true},
	};
	return fs_register_readonly(reg, fs, tools, sizeof(tools) / sizeof(tools[0]), NULL, err);
}
