/*
 * fs_list.c - the fs family's listing tools: list_directory,
 * list_directory_with_sizes, directory_tree, get_file_info and
 * list_allowed_directories, with the reference server's names, parameters
 * and output formats (byte for byte where the reference is deterministic).
 *
 * Every directory is opened beneath its root (fs_open_dir, then
 * openat(O_NOFOLLOW | O_DIRECTORY) from the parent fd while walking); a
 * symlink inside a tree is listed as a file, never followed. Entries come
 * in byte order, which is what the reference gets from libuv's scandir.
 * Outputs are bounded by fs.max_entries, fs.max_depth and the call's output
 * budget, and say so in a note when they were cut.
 *
 * Also home of small helpers shared with fs_search.c: the bounded output
 * buffer (fs_out_*), UTF-8 repair, sorted directory reads. Thread-safe:
 * every call works on its own state.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "fs_listing.h"
#include "fs_util.h"
#include "text.h"


/* ---- shared helpers ---------------------------------------------------- */

/* Overhead of the JSON-RPC envelope around the text, kept out of the budget. */
#define OUT_ENVELOPE 1024

/*
 * fs_out_init - an empty buffer whose text may cost at most output_budget
 * bytes on the wire. The text travels twice (content[0].text and
 * structuredContent.content, as in the reference), JSON-escaped.
 */
void fs_out_init(struct fs_out *o, size_t output_budget)
{
	memset(o, 0, sizeof(*o));
	o->budget = output_budget > 2 * OUT_ENVELOPE ? output_budget - OUT_ENVELOPE
						     : output_budget / 2;
}

/* Most text JSON-escapes to about its own size, so counting the cost of
 * every piece as it is added would scan all of it once more than the
 * serializer does. Instead, text is counted only when its worst case
 * (every byte a six-byte escape, sent twice) could reach the budget. */
#define WORST_COST 12

/* Count the cost of everything not counted yet. */
static void out_settle(struct fs_out *o)
{
	if (o->counted < o->len) {
		o->cost += 2 * text_json_cost(o->buf + o->counted, o->len - o->counted);
		o->counted = o->len;
	}
}

/* Is cost + more (the caller's own estimate) within the budget? Exact
 * once the uncounted text's worst case no longer leaves room. */
static bool out_room(struct fs_out *o, size_t more)
{
	size_t uncounted = o->len - o->counted;

	if (o->cost + WORST_COST * uncounted + more <= o->budget)
		return true;
	out_settle(o);
	return o->cost + more <= o->budget;
}

/* fs_out_fits - would n more bytes (worst case) plus reserve stay within
 * the budget? */
bool fs_out_fits(struct fs_out *o, size_t n, size_t reserve)
{
	return out_room(o, 2 * n + reserve);
}

static bool out_put(struct fs_out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		size_t nc = o->cap ? o->cap : 4096;
		char *nb;
		while (nc < o->len + n + 1)
			nc *= 2;
		nb = realloc(o->buf, nc);
		if (!nb) {
			o->oom = true;
			return false;
		}
		o->buf = nb;
		o->cap = nc;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
	return true;
}

/* fs_out_add - append s[0..n) unless that would pass the budget; returns
 * false (appending nothing) when it would, or on ENOMEM. */
bool fs_out_add(struct fs_out *o, const char *s, size_t n)
{
	if (o->oom)
		return false;
	if (!out_room(o, WORST_COST * n)) {
		/* near the budget: count exactly */
		size_t c = 2 * text_json_cost(s, n); /* the text travels twice */
		if (o->cost + c > o->budget || !out_put(o, s, n))
			return false;
		o->cost += c;
		o->counted = o->len;
		return true;
	}
	return out_put(o, s, n);
}

/* Append without a budget check: closers the budget reserved room for. */
static void out_force(struct fs_out *o, const char *s, size_t n)
{
	out_put(o, s, n);
}

/* fs_out_note - record a note (one line) to append after the text. */
void fs_out_note(struct fs_out *o, const char *fmt, ...)
{
	size_t l = strlen(o->notes);
	va_list ap;

	if (l > 0 && l + 2 < sizeof(o->notes)) {
		o->notes[l++] = '\n';
		o->notes[l] = '\0';
	}
	va_start(ap, fmt);
	vsnprintf(o->notes + l, sizeof(o->notes) - l, fmt, ap);
	va_end(ap);
}

/* Fill out with {content: text} and one text block; notes follow the text
 * after a blank line. When notes_apart, they go in a second block instead
 * and the structured text is the bare text (directory_tree stays JSON). */
static enum moat_rc out_finish(struct fs_out *o, bool notes_apart, struct tool_result *out,
			       struct moat_err *err)
{
	json_t *text, *block;
	enum moat_rc rc;

	if (!o->buf && !out_put(o, "", 0))
		o->oom = true;
	if (o->notes[0] && !notes_apart) {
		if (o->len > 0)
			out_put(o, "\n\n", 2);
		out_put(o, o->notes, strlen(o->notes));
	}
	if (o->oom)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (!fs_utf8_valid(o->buf, o->len))
		return moat_err_set(err, MOAT_EINTERNAL, "output is not valid UTF-8");
	/* One string in both places: it is serialized once (wire.h). */
	text = json_stringn_nocheck(o->buf, o->len);
	if (!text)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	out->structured = json_pack("{s:O}", "content", text);
	/* 'o' takes our reference to text, even when json_pack fails. */
	block = json_pack("{s:s, s:o}", "type", "text", "text", text);
	if (!out->structured || !block || (!out->content && !(out->content = json_array()))) {
		json_decref(block);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	if (json_array_append_new(out->content, block) != 0) /* takes block */
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (o->notes[0] && notes_apart && (rc = tool_result_text(out, o->notes)))
		return moat_err_set(err, rc, "out of memory");
	return MOAT_OK;
}

/* fs_out_finish - the result for a line-oriented tool (notes inline). */
enum moat_rc fs_out_finish(struct fs_out *o, struct tool_result *out, struct moat_err *err)
{
	return out_finish(o, false, out, err);
}

/* fs_out_free - release the text. */
void fs_out_free(struct fs_out *o)
{
	free(o->buf);
	o->buf = NULL;
}

/*
 * fs_utf8_clean - copy s[0..n) into dst (cap bytes, NUL-terminated),
 * replacing each maximal invalid subpart with U+FFFD as a UTF-8 decoder
 * (and Node's) does. Returns the length written; stops early when dst is
 * full.
 */
size_t fs_utf8_clean(const char *s, size_t n, char *dst, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o = 0;

	if (cap == 0)
		return 0;
	while (i < n) {
		unsigned char b = u[i];
		size_t need = 0, got = 0;
		unsigned char lo = 0x80, hi = 0xBF;
		if (b < 0x80) {
			if (o + 2 > cap)
				break;
			dst[o++] = (char)b;
			i++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF)
			need = 1;
		else if (b >= 0xE0 && b <= 0xEF) {
			need = 2;
			if (b == 0xE0)
				lo = 0xA0;
			else if (b == 0xED)
				hi = 0x9F;
		} else if (b >= 0xF0 && b <= 0xF4) {
			need = 3;
			if (b == 0xF0)
				lo = 0x90;
			else if (b == 0xF4)
				hi = 0x8F;
		}
		while (need && got < need && i + 1 + got < n) {
			unsigned char c = u[i + 1 + got];
			if (got == 0 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF))
				break;
			got++;
		}
		if (need && got == need) {
			if (o + need + 2 > cap)
				break;
			memcpy(dst + o, s + i, need + 1);
			o += need + 1;
			i += need + 1;
		} else {
			if (o + 4 > cap)
				break;
			memcpy(dst + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i += 1 + got;
		}
	}
	dst[o] = '\0';
	return o;
}

/* fs_join - dst = a "/" b (either may be empty). False on truncation.
 * (Called for every entry of a walk: plain copies, no formatting.) */
bool fs_join(char *dst, size_t n, const char *a, const char *b)
{
	size_t al = strlen(a), bl = strlen(b);
	size_t sep = al > 0 && bl > 0 && a[al - 1] != '/' ? 1 : 0;

	if (al + sep + bl >= n)
		return false;
	memmove(dst, a, al); /* dst may be a */
	if (sep)
		dst[al] = '/';
	memmove(dst + al + sep, b, bl);
	dst[al + sep + bl] = '\0';
	return true;
}

static int dirent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fs_dirent *)a)->name, ((const struct fs_dirent *)b)->name);
}

/* fs_dirents_free - release d's names. */
void fs_dirents_free(struct fs_dirents *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

/*
 * fs_dirents_read - the entries of the directory open at dirfd (borrowed,
 * freshly opened: it is read from its current position, which it leaves at
 * the end), without "." and "..", at most cap of them
 * (d->cut says there were more), sorted by byte order. Types come from
 * d_type or, when the file system does not say, fstatat without following.
 */
/* The kernel's directory record (getdents64). */
struct kdirent {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

enum moat_rc fs_dirents_read(int dirfd, size_t cap, struct fs_dirents *d, struct moat_err *err)
{
	/* getdents64 straight into a buffer: two system calls for most
	 * directories, where dup + fdopendir + rewinddir + readdir + closedir
	 * took about ten. */
	char buf[32768] __attribute__((aligned(8)));
	size_t alloc = 0;

	memset(d, 0, sizeof(*d));
	for (;;) {
		long n = syscall(SYS_getdents64, dirfd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			fs_dirents_free(d);
			return moat_err_set(err, MOAT_EIO, "cannot read the directory: %s",
					    strerror(e));
		}
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			const struct kdirent *de = (const struct kdirent *)(buf + off);
			off += de->reclen;
			if (strcmp(de->name, ".") == 0 || strcmp(de->name, "..") == 0)
				continue;
			if (d->n >= cap) {
				d->cut = true;
				goto done;
			}
			if (d->n == alloc) {
				size_t na = alloc ? alloc * 2 : 64;
				struct fs_dirent *nv = realloc(d->v, na * sizeof(*nv));
				if (!nv)
					goto oom;
				d->v = nv;
				alloc = na;
			}
			d->v[d->n].name = strdup(de->name);
			if (!d->v[d->n].name)
				goto oom;
			d->v[d->n].type = de->type;
			if (de->type == DT_UNKNOWN) {
				struct stat st;
				unsigned char t = DT_UNKNOWN;
				if (fstatat(dirfd, de->name, &st, AT_SYMLINK_NOFOLLOW) == 0)
					t = S_ISDIR(st.st_mode)	  ? DT_DIR
					    : S_ISLNK(st.st_mode) ? DT_LNK
					    : S_ISREG(st.st_mode) ? DT_REG
								  : DT_UNKNOWN;
				d->v[d->n].type = t;
			}
			d->n++;
		}
	}
done:
	if (d->n > 1)
		qsort(d->v, d->n, sizeof(*d->v), dirent_cmp);
	return MOAT_OK;
oom:
	fs_dirents_free(d);
	return moat_err_set(err, MOAT_ENOMEM, "out of memory");
}

/*
 * fs_open_listable - open t as a directory to list. A path that names a
 * file fails with a message saying so (not a vaguer ENOTDIR).
 */
int fs_open_listable(const struct fs_target *t, struct moat_err *err)
{
	struct stat st;
	char rel[256];
	int pfd = fs_openat(t, O_PATH, 0, 0, err);

	if (pfd < 0)
		return -1;
	if (fstat(pfd, &st) != 0) {
		int e = errno;
		close(pfd);
		moat_err_set(err, MOAT_EIO, "cannot stat %s: %s", fs_show_rel(t, rel, sizeof(rel)),
			     strerror(e));
		return -1;
	}
	close(pfd);
	if (!S_ISDIR(st.st_mode)) {
		moat_err_rule(err, MOAT_EINVAL, "fs.not_a_directory",
			      "not a directory: %s (this tool lists a directory; use get_file_info "
			      "for a file)",
			      fs_show_rel(t, rel, sizeof(rel)));
		return -1;
	}
	return fs_open_dir(t, err);
}

/* ---- formatting like the reference ------------------------------------- */

/* formatSize from the reference's lib.js: "0 B", "512 B", "1.50 KB" ...
 * toFixed(2) rounds halves up; integer arithmetic reproduces it exactly. */
static void format_size(uint64_t bytes, char *buf, size_t n)
{
	static const char *const units[] = {"B", "KB", "MB", "GB", "TB"};
	int i;
	unsigned __int128 num, den, q;

	if (bytes == 0) {
		snprintf(buf, n, "0 B");
		return;
	}
	i = (int)floor(log((double)bytes) / log(1024.0));
	if (i <= 0) {
		snprintf(buf, n, "%llu B", (unsigned long long)bytes);
		return;
	}
	if (i > 4)
		i = 4;
	num = (unsigned __int128)bytes * 100;
	den = (unsigned __int128)1 << (10 * i);
	q = (num + den / 2) / den;
	snprintf(buf, n, "%llu.%02llu %s", (unsigned long long)(q / 100),
		 (unsigned long long)(q % 100), units[i]);
}

/* Length of s in UTF-16 code units (what JavaScript's padEnd counts). */
static size_t utf16_len(const char *s)
{
	size_t n = 0;

	for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
		if ((*u & 0xC0) != 0x80)
			n++;
		if (*u >= 0xF0)
			n++; /* a surrogate pair */
	}
	return n;
}

/*
 * Collation close to ICU's root collation (what localeCompare uses in the
 * reference): punctuation < symbols < digits < letters, letters compared
 * ignoring case and accents first, then accents, then lower before upper.
 * Exact for ASCII and Latin-1 letters; other characters sort by code point
 * after the letters.
 */
static const char ascii_order[] =
	" _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVw"
	"WxXyYzZ";

struct coll {
	uint32_t primary, secondary, tertiary;
};

static struct coll coll_of(uint32_t cp)
{
	/* Latin-1 letters: base letter and an accent rank. */
	static const char base[] = "AAAAAAACEEEEIIIIDNOOOOO*OUUUUYTsaaaaaaaceeeeiiiidnooooo/ouuuuyty";
	struct coll c = {0, 0, 0};
	const char *pos;

	if (cp < 0x20 || cp == 0x7F)
		return c; /* ignorable */
	if (cp >= 0xC0 && cp <= 0xFF && base[cp - 0xC0] != '*' && base[cp - 0xC0] != '/') {
		char b = base[cp - 0xC0];
		c = coll_of((uint32_t)(unsigned char)b);
		c.secondary = 1 + (cp & 0x1F);
		return c;
	}
	if (cp < 0x80 && (pos = strchr(ascii_order, (int)cp)) != NULL) {
		size_t idx = (size_t)(pos - ascii_order);
		bool letter = (cp | 32) >= 'a' && (cp | 32) <= 'z';
		if (letter) {
			c.primary = 100 + (uint32_t)((cp | 32) - 'a');
			c.tertiary = cp >= 'A' && cp <= 'Z';
		} else {
			c.primary = 1 + (uint32_t)idx;
		}
		return c;
	}
	c.primary = 1000 + cp;
	return c;
}

static size_t next_cp(const char *s, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if (u[0] < 0xE0 && u[1]) {
		*cp = ((uint32_t)(u[0] & 0x1F) << 6) | (u[1] & 0x3F);
		return 2;
	}
	if (u[0] < 0xF0 && u[1] && u[2]) {
		*cp = ((uint32_t)(u[0] & 0x0F) << 12) | ((uint32_t)(u[1] & 0x3F) << 6) |
		      (u[2] & 0x3F);
		return 3;
	}
	if (u[1] && u[2] && u[3]) {
		*cp = ((uint32_t)(u[0] & 0x07) << 18) | ((uint32_t)(u[1] & 0x3F) << 12) |
		      ((uint32_t)(u[2] & 0x3F) << 6) | (u[3] & 0x3F);
		return 4;
	}
	*cp = u[0];
	return 1;
}

/* Compare a and b at one level (0 primary, 1 secondary, 2 tertiary). */
static int coll_level(const char *a, const char *b, int level)
{
	for (;;) {
		struct coll ca = {0, 0, 0}, cb = {0, 0, 0};
		uint32_t cp, ka = 0, kb = 0;
		while (*a) {
			a += next_cp(a, &cp);
			ca = coll_of(cp);
			if (ca.primary)
				break;
		}
		while (*b) {
			b += next_cp(b, &cp);
			cb = coll_of(cp);
			if (cb.primary)
				break;
		}
		if (!ca.primary && !cb.primary)
			return 0;
		if (!ca.primary || !cb.primary)
			return ca.primary ? 1 : -1;
		ka = level == 0 ? ca.primary : level == 1 ? ca.secondary : ca.tertiary;
		kb = level == 0 ? cb.primary : level == 1 ? cb.secondary : cb.tertiary;
		if (ka != kb)
			return ka < kb ? -1 : 1;
	}
}

static int locale_compare(const char *a, const char *b)
{
	for (int level = 0; level < 3; level++) {
		int r = coll_level(a, b, level);
		if (r)
			return r;
	}
	return 0;
}

/* ---- list_directory / list_directory_with_sizes ------------------------ */

struct sized {
	char name[256 * 3 + 1]; /* UTF-8-clean copy */
	bool dir;
	uint64_t size;
	size_t idx; /* byte-order position: JavaScript's sort is stable */
};

static int by_name(const void *a, const void *b)
{
	const struct sized *x = a, *y = b;
	int r = locale_compare(x->name, y->name);

	return r ? r : (x->idx > y->idx) - (x->idx < y->idx);
}

static int by_size(const void *a, const void *b)
{
	const struct sized *x = a, *y = b;

	if (x->size != y->size)
		return x->size < y->size ? 1 : -1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

static void note_dir_cut(struct fs_out *o, const struct fs *fs)
{
	fs_out_note(o,
		    "[output cut: the directory holds more than %zu entries (fs.max_entries); only "
		    "the first %zu (in directory order, then sorted) are shown]",
		    fs->lim.max_entries, fs->lim.max_entries);
}

static void note_budget_cut(struct fs_out *o, size_t shown)
{
	fs_out_note(o,
		    "[output cut after %zu entries: the result reached the output budget "
		    "(limits.max_output_bytes)]",
		    shown);
}

static enum moat_rc list_common(struct call_ctx *ctx, struct fs *fs, json_t *args, bool sizes,
				struct tool_result *out, struct moat_err *err)
{
	struct fs_view *v = fs_view_get(fs);
	const char *sort = json_string_value(json_object_get(args, "sortBy"));
	struct fs_dirents d = {0};
	struct sized *e = NULL;
	struct fs_out o;
	struct fs_target t;
	uint64_t total = 0;
	size_t nfiles = 0, ndirs = 0, shown = 0;
	bool cut = false;
	enum moat_rc rc;
	int fd = -1;

	fs_out_init(&o, ctx->output_budget);
	if ((rc = fs_resolve(v, json_string_value(json_object_get(args, "path")), &t, err)))
		goto out;
	fs_touch(ctx, &t);
	if ((fd = fs_open_listable(&t, err)) < 0) {
		rc = err->rc;
		goto out;
	}
	if ((rc = fs_dirents_read(fd, fs->lim.max_entries, &d, err)))
		goto out;
	e = calloc(d.n ? d.n : 1, sizeof(*e));
	if (!e) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < d.n; i++) {
		struct stat st;
		if ((i & 255) == 0 && (rc = callctx_check(ctx, err)))
			goto out;
		fs_utf8_clean(d.v[i].name, strlen(d.v[i].name), e[i].name, sizeof(e[i].name));
		e[i].dir = d.v[i].type == DT_DIR;
		e[i].idx = i;
		if (!sizes)
			continue;
		if (d.v[i].type == DT_LNK) {
			/* The reference stats through the link; do it beneath
			 * the root, so a link out of it reports 0 like a
			 * failed stat does there. */
			struct fs_target lt = t;
			struct moat_err ignore = {0};
			int lfd;
			if (fs_join(lt.rel, sizeof(lt.rel), strcmp(t.rel, ".") == 0 ? "" : t.rel,
				    d.v[i].name) &&
			    (lfd = fs_openat(&lt, O_PATH, 0, 0, &ignore)) >= 0) {
				if (fstat(lfd, &st) == 0)
					e[i].size = (uint64_t)st.st_size;
				close(lfd);
			}
		} else if (fstatat(fd, d.v[i].name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			e[i].size = (uint64_t)st.st_size;
		}
		if (e[i].dir)
			ndirs++;
		else {
			nfiles++;
			total += e[i].size;
		}
	}
	if (sizes && d.n > 1)
		qsort(e, d.n, sizeof(*e), sort && strcmp(sort, "size") == 0 ? by_size : by_name);
	for (size_t i = 0; i < d.n && !cut; i++) {
		char line[sizeof(e[i].name) + 64], sz[48];
		int w;
		if (!sizes) {
			w = snprintf(line, sizeof(line), "%s%s %s", i ? "\n" : "",
				     e[i].dir ? "[DIR]" : "[FILE]", e[i].name);
		} else {
			size_t pad = utf16_len(e[i].name), szpad;
			format_size(e[i].size, sz, sizeof(sz));
			szpad = strlen(sz) < 10 ? 10 - strlen(sz) : 0;
			if (e[i].dir)
				w = snprintf(line, sizeof(line), "[DIR] %s%*s ", e[i].name,
					     pad < 30 ? (int)(30 - pad) : 0, "");
			else
				w = snprintf(line, sizeof(line), "[FILE] %s%*s %*s%s", e[i].name,
					     pad < 30 ? (int)(30 - pad) : 0, "", (int)szpad, "",
					     sz);
		}
		if (w < 0 || (size_t)w >= sizeof(line))
			continue;
		if (sizes && i > 0 && !fs_out_add(&o, "\n", 1))
			cut = true;
		else if (!fs_out_fits(&o, (size_t)w, sizes ? 256 : 0) ||
			 !fs_out_add(&o, line, (size_t)w))
			cut = true;
		else
			shown++;
	}
	if (sizes) {
		char sz[48], tail[160];
		int w;
		format_size(total, sz, sizeof(sz));
		/* the reference joins entries, "", the summary lines with '\n' */
		w = snprintf(tail, sizeof(tail), "%s\nTotal: %zu files, %zu directories\nCombined size: %s",
			     o.len > 0 ? "\n" : "", nfiles, ndirs, sz);
		if (w > 0 && (size_t)w < sizeof(tail))
			out_force(&o, tail, (size_t)w);
	}
	if (d.cut)
		note_dir_cut(&o, fs);
	if (cut)
		note_budget_cut(&o, shown);
	rc = fs_out_finish(&o, out, err);
out:
	if (fd >= 0)
		close(fd);
	free(e);
	fs_dirents_free(&d);
	fs_out_free(&o);
	fs_view_put(fs, v);
	return rc;
}

static enum moat_rc list_directory_tool(struct call_ctx *ctx, void *data, json_t *args,
					struct tool_result *out, struct moat_err *err)
{
	return list_common(ctx, data, args, false, out, err);
}

static enum moat_rc list_sizes_tool(struct call_ctx *ctx, void *data, json_t *args,
				    struct tool_result *out, struct moat_err *err)
{
	return list_common(ctx, data, args, true, out, err);
}

/* ---- directory_tree ---------------------------------------------------- */

struct tree {
	struct call_ctx *ctx;
	struct fs *fs;
	struct fs_out out;
	struct fs_globs ex;  /* compiled exclude globs */
	uint32_t max_depth;  /* levels shown */
	bool user_depth;     /* max_depth came from maxDepth */
	size_t entries;
	bool stop, cut_entries, cut_budget, cut_dir, cut_depth;
	size_t unreadable;
	/* Scratch for the entry being written, here rather than on the stack
	 * so a level of recursion costs a small frame (fs.max_depth may be
	 * 4096): its path below the top, its name cleaned, quoted, the line. */
	char rel[PATH_MAX];
	char name[256 * 3 + 1], qname[256 * 18 + 8], line[256 * 18 + 128];
	char pad[1024]; /* spaces */
};

/* Append s as a JSON string the way JSON.stringify writes it. */
static bool tree_str(const char *s, char *buf, size_t n)
{
	size_t k = 0;

	buf[k++] = '"';
	for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
		if (k + 8 >= n)
			return false;
		switch (*u) {
		case '"': memcpy(buf + k, "\\\"", 2); k += 2; break;
		case '\\': memcpy(buf + k, "\\\\", 2); k += 2; break;
		case '\b': memcpy(buf + k, "\\b", 2); k += 2; break;
		case '\f': memcpy(buf + k, "\\f", 2); k += 2; break;
		case '\n': memcpy(buf + k, "\\n", 2); k += 2; break;
		case '\r': memcpy(buf + k, "\\r", 2); k += 2; break;
		case '\t': memcpy(buf + k, "\\t", 2); k += 2; break;
		default:
			if (*u < 0x20)
				k += (size_t)snprintf(buf + k, n - k, "\\u%04x", *u);
			else
				buf[k++] = (char)*u;
		}
	}
	buf[k++] = '"';
	buf[k] = '\0';
	return true;
}


/* Copy s[skip..n) to dst at k (bounded by cap); SIZE_MAX once it does
 * not fit, and from then on. */
static size_t line_put(char *dst, size_t k, size_t cap, const char *s, size_t n, size_t skip)
{
	if (k == SIZE_MAX || k + (n - skip) >= cap)
		return SIZE_MAX;
	memcpy(dst + k, s + skip, n - skip);
	return k + (n - skip);
}

/* Room to close every open array and object from this depth up. */
static size_t close_reserve(uint32_t depth)
{
	return 2 * (size_t)(depth + 1) * (8 * (size_t)depth + 24);
}

/* Emit the children array of the directory at fd (borrowed), whose path
 * below the top is tr->rel[0..rlen): "[" ... "]", objects at indent ind.
 * One level per directory, at most max_depth; the frame stays small. */
static enum moat_rc tree_dir(struct tree *tr, int fd, size_t rlen, uint32_t depth, size_t ind,
			     struct moat_err *err)
{
	struct fs_dirents d = {0};
	size_t count = 0;
	enum moat_rc rc = MOAT_OK;
	char *line = tr->line, *name = tr->name, *qname = tr->qname;
	const char *pad = tr->pad;

	if (ind + 4 >= sizeof(tr->pad))
		ind = sizeof(tr->pad) - 5;
	out_force(&tr->out, "[", 1);
	if ((rc = fs_dirents_read(fd, tr->fs->lim.max_entries, &d, err))) {
		if (rc != MOAT_EIO)
			goto close;
		tr->unreadable++;
		rc = MOAT_OK;
	}
	if (d.cut)
		tr->cut_dir = true;
	for (size_t i = 0; i < d.n && !tr->stop; i++) {
		bool isdir = d.v[i].type == DT_DIR, excluded = false;
		size_t crlen;
		int w;
		tr->rel[rlen] = '\0';
		if ((rc = callctx_check(tr->ctx, err)))
			goto close;
		if (!fs_join(tr->rel, sizeof(tr->rel), tr->rel, d.v[i].name))
			continue;
		crlen = strlen(tr->rel);
		if ((rc = fs_globs_any(&tr->ex, tr->rel, tr->ctx, &excluded, err)))
			goto close;
		if (excluded)
			continue;
		if (tr->entries >= tr->fs->lim.max_entries) {
			tr->cut_entries = tr->stop = true;
			break;
		}
		fs_utf8_clean(d.v[i].name, strlen(d.v[i].name), name, sizeof(tr->name));
		if (!tree_str(name, qname, sizeof(tr->qname)))
			continue;
		/* ,\n<ind>{\n<ind+2>"name": "...",\n<ind+2>"type": "file|directory"[,\n] */
		size_t k = 0;
		k = line_put(line, k, sizeof(tr->line), ",\n", 2, count ? 0 : 1);
		k = line_put(line, k, sizeof(tr->line), pad, ind, 0);
		k = line_put(line, k, sizeof(tr->line), "{\n", 2, 0);
		k = line_put(line, k, sizeof(tr->line), pad, ind + 2, 0);
		k = line_put(line, k, sizeof(tr->line), "\"name\": ", 8, 0);
		k = line_put(line, k, sizeof(tr->line), qname, strlen(qname), 0);
		k = line_put(line, k, sizeof(tr->line), ",\n", 2, 0);
		k = line_put(line, k, sizeof(tr->line), pad, ind + 2, 0);
		k = isdir ? line_put(line, k, sizeof(tr->line), "\"type\": \"directory\",\n", 21, 0)
			  : line_put(line, k, sizeof(tr->line), "\"type\": \"file\"", 14, 0);
		if (k == SIZE_MAX)
			continue;
		w = (int)k;
		if (!fs_out_fits(&tr->out, (size_t)w + ind + 32, close_reserve(depth + 1)) ||
		    !fs_out_add(&tr->out, line, (size_t)w)) {
			tr->cut_budget = tr->stop = true;
			break;
		}
		tr->entries++;
		count++;
		if (isdir) {
			int sub = -1;
			out_force(&tr->out, pad, ind + 2);
			out_force(&tr->out, "\"children\": ", 12);
			if (depth + 1 >= tr->max_depth) {
				tr->cut_depth = true;
				out_force(&tr->out, "[]", 2);
			} else if ((sub = openat(fd, d.v[i].name,
						 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
				   0) {
				tr->unreadable++;
				out_force(&tr->out, "[]", 2);
			} else {
				rc = tree_dir(tr, sub, crlen, depth + 1, ind + 4, err);
				close(sub);
				if (rc)
					goto close;
			}
		}
		out_force(&tr->out, "\n", 1);
		out_force(&tr->out, pad, ind);
		out_force(&tr->out, "}", 1);
	}
close:
	if (count) {
		out_force(&tr->out, "\n", 1);
		out_force(&tr->out, pad, ind >= 2 ? ind - 2 : 0);
	}
	out_force(&tr->out, "]", 1);
	fs_dirents_free(&d);
	return rc;
}

static enum moat_rc directory_tree_tool(struct call_ctx *ctx, void *data, json_t *args,
					struct tool_result *out, struct moat_err *err)
{
	struct fs *fs = data;
	struct fs_view *v = fs_view_get(fs);
	json_t *exs = json_object_get(args, "excludePatterns");
	json_t *md = json_object_get(args, "maxDepth");
	struct tree *tr = calloc(1, sizeof(*tr));
	struct fs_target t;
	enum moat_rc rc;
	size_t i;
	json_t *e;
	int fd = -1;

	if (!tr) {
		fs_view_put(fs, v);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	*tr = (struct tree){.ctx = ctx, .fs = fs, .max_depth = fs->lim.max_depth};
	memset(tr->pad, ' ', sizeof(tr->pad));
	fs_out_init(&tr->out, ctx->output_budget);
	if (json_is_integer(md) && (uint64_t)json_integer_value(md) < tr->max_depth) {
		tr->max_depth = (uint32_t)json_integer_value(md);
		tr->user_depth = true;
	}
	/* The reference: a pattern with '*' is matched as it is; one without
	 * also as "**" "/p" and "**" "/p/" "**" (a name anywhere, a directory's
	 * contents). Every pattern, with '*' or not, passes fs_glob_compile's
	 * length and nesting checks first. */
	json_array_foreach(exs, i, e) {
		const char *p = json_string_value(e);
		char buf[FS_GLOB_MAX_LEN + 8];
		if ((rc = fs_globs_add(&tr->ex, p, "excludePatterns", i, err)))
			goto out;
		if (strchr(p, '*'))
			continue;
		snprintf(buf, sizeof(buf), "**/%s", p);
		if ((rc = fs_globs_add(&tr->ex, buf, "excludePatterns", i, err)))
			goto out;
		snprintf(buf, sizeof(buf), "**/%s/**", p);
		if ((rc = fs_globs_add(&tr->ex, buf, "excludePatterns", i, err)))
			goto out;
	}
	if ((rc = fs_resolve(v, json_string_value(json_object_get(args, "path")), &t, err)))
		goto out;
	fs_touch(ctx, &t);
	if ((fd = fs_open_listable(&t, err)) < 0) {
		rc = err->rc;
		goto out;
	}
	if (tr->max_depth == 0) {
		out_force(&tr->out, "[]", 2);
		tr->cut_depth = true;
	} else if ((rc = tree_dir(tr, fd, 0, 0, 2, err))) {
		goto out;
	}
	if (tr->cut_entries)
		fs_out_note(&tr->out,
			    "[output cut: the tree stops after %zu entries (fs.max_entries); use a "
			    "deeper path, maxDepth or excludePatterns]",
			    fs->lim.max_entries);
	if (tr->cut_budget)
		fs_out_note(&tr->out,
			    "[output cut after %zu entries: the result reached the output budget "
			    "(limits.max_output_bytes); the JSON above is complete but partial]",
			    tr->entries);
	if (tr->cut_dir)
		fs_out_note(&tr->out,
			    "[output cut: a directory holds more than %zu entries (fs.max_entries); "
			    "only the first ones are shown]",
			    fs->lim.max_entries);
	if (tr->cut_depth)
		fs_out_note(&tr->out,
			    "[depth limit: directories at depth %u are shown with empty children "
			    "(%s)]",
			    (unsigned)tr->max_depth, tr->user_depth ? "maxDepth" : "fs.max_depth");
	if (tr->unreadable)
		fs_out_note(&tr->out, "[%zu director%s could not be read and show empty children]",
			    tr->unreadable, tr->unreadable == 1 ? "y" : "ies");
	rc = out_finish(&tr->out, true, out, err);
out:
	if (fd >= 0)
		close(fd);
	fs_globs_free(&tr->ex);
	fs_out_free(&tr->out);
	free(tr);
	fs_view_put(fs, v);
	return rc;
}

/* ---- get_file_info ----------------------------------------------------- */

/* JavaScript's Date.prototype.toString in the local time zone:
 * "Tue Mar 05 2024 14:03:09 GMT+0100 (CET)". ICU's long zone names are
 * not available here; UTC prints as Node prints it, others as the
 * abbreviation. */
static void js_date(time_t sec, char *buf, size_t n)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	long off;
	const char *zone;

	if (!localtime_r(&sec, &tm)) {
		snprintf(buf, n, "Invalid Date");
		return;
	}
	off = tm.tm_gmtoff / 60;
	zone = tm.tm_zone ? tm.tm_zone : "";
	if (off == 0 && (strcmp(zone, "UTC") == 0 || strcmp(zone, "GMT") == 0 ||
			 strcmp(zone, "UCT") == 0 || !*zone))
		zone = "Coordinated Universal Time";
	snprintf(buf, n, "%s %s %02d %04d %02d:%02d:%02d GMT%c%02ld%02ld (%s)", days[tm.tm_wday],
		 mons[tm.tm_mon], tm.tm_mday, tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 off < 0 ? '-' : '+', labs(off) / 60, labs(off) % 60, zone);
}

static enum moat_rc file_info_tool(struct call_ctx *ctx, void *data, json_t *args,
				   struct tool_result *out, struct moat_err *err)
{
	struct fs *fs = data;
	struct fs_view *v = fs_view_get(fs);
	char text[512], c[96], m[96], a[96];
	struct statx sx;
	struct fs_target t;
	enum moat_rc rc;
	int fd = -1, w;

	if ((rc = fs_resolve(v, json_string_value(json_object_get(args, "path")), &t, err)))
		goto out;
	fs_touch(ctx, &t);
	/* Like the reference's fs.stat: a symlink reports its target (which
	 * must stay beneath the root). */
	if ((fd = fs_openat(&t, O_PATH, 0, 0, err)) < 0) {
		rc = err->rc;
		goto out;
	}
	memset(&sx, 0, sizeof(sx));
	if (statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS | STATX_BTIME, &sx) != 0) {
		struct stat st;
		if (fstat(fd, &st) != 0) {
			char rel[256];
			int e = errno;
			rc = moat_err_set(err, MOAT_EIO, "cannot stat %s: %s",
					  fs_show_rel(&t, rel, sizeof(rel)), strerror(e));
			goto out;
		}
		sx.stx_size = (uint64_t)st.st_size;
		sx.stx_mode = (uint16_t)st.st_mode;
		sx.stx_mtime.tv_sec = st.st_mtim.tv_sec;
		sx.stx_atime.tv_sec = st.st_atim.tv_sec;
	}
	/* Without STATX_BTIME, Node reports the epoch too. */
	js_date((sx.stx_mask & STATX_BTIME) ? (time_t)sx.stx_btime.tv_sec : 0, c, sizeof(c));
	js_date((time_t)sx.stx_mtime.tv_sec, m, sizeof(m));
	js_date((time_t)sx.stx_atime.tv_sec, a, sizeof(a));
	w = snprintf(text, sizeof(text),
		     "size: %llu\ncreated: %s\nmodified: %s\naccessed: %s\nisDirectory: %s\n"
		     "isFile: %s\npermissions: %03o",
		     (unsigned long long)sx.stx_size, c, m, a,
		     S_ISDIR(sx.stx_mode) ? "true" : "false", S_ISREG(sx.stx_mode) ? "true" : "false",
		     (unsigned)(sx.stx_mode & 0777));
	if (w < 0 || (size_t)w >= sizeof(text)) {
		rc = moat_err_set(err, MOAT_EINTERNAL, "file info does not fit its buffer");
		goto out;
	}
	out->structured = json_pack("{s:s}", "content", text);
	if (!out->structured || tool_result_text(out, text)) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	rc = MOAT_OK;
out:
	if (fd >= 0)
		close(fd);
	fs_view_put(fs, v);
	return rc;
}

/* ---- list_allowed_directories ------------------------------------------ */

static enum moat_rc allowed_tool(struct call_ctx *ctx, void *data, json_t *args,
				 struct tool_result *out, struct moat_err *err)
{
	struct fs *fs = data;
	struct fs_view *v = fs_view_get(fs);
	struct fs_out o;
	enum moat_rc rc;

	fs_out_init(&o, ctx->output_budget);
	out_force(&o, "Allowed directories:", 20);
	/* The reference lists the path as given and, when a symlink made it
	 * differ, the resolved one after it. */
	for (size_t i = 0; i < v->nroots; i++) {
		if (v->roots[i].alias) {
			out_force(&o, "\n", 1);
			out_force(&o, v->roots[i].alias, strlen(v->roots[i].alias));
		}
		out_force(&o, "\n", 1);
		out_force(&o, v->roots[i].path, strlen(v->roots[i].path));
	}
	rc = fs_out_finish(&o, out, err);
	fs_out_free(&o);
	fs_view_put(fs, v);
	return rc;
}

/* ---- registration ------------------------------------------------------ */

enum moat_rc fs_register_list(struct registry *reg, struct fs *fs, struct moat_err *err)
{
#define PATH_ONLY                                                                              \
	"{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}},\"required\":[\"path\"]," \
	"\"additionalProperties\":false}"
	static const struct fs_tool_def tools[] = {
		{"list_directory", "List Directory",
		 "Get a detailed listing of all files and directories in a specified path. Results "
		 "clearly distinguish between files and directories with [FILE] and [DIR] prefixes. "
		 "This tool is essential for understanding directory structure and finding specific "
		 "files within a directory. Only works within allowed directories.",
		 PATH_ONLY, list_directory_tool, true},
		{"list_directory_with_sizes", "List Directory with Sizes",
		 "Get a detailed listing of all files and directories in a specified path, including "
		 "sizes. Results clearly distinguish between files and directories with [FILE] and "
		 "[DIR] prefixes. This tool is useful for understanding directory structure and "
		 "finding specific files within a directory. Only works within allowed directories.",
		 "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},\"sortBy\":{"
		 "\"type\":\"string\",\"enum\":[\"name\",\"size\"],\"default\":\"name\","
		 "\"description\":\"Sort entries by name or size\"}},\"required\":[\"path\"],"
		 "\"additionalProperties\":false}",
		 list_sizes_tool, true},
		{"directory_tree", "Directory Tree",
		 "Get a recursive tree view of files and directories as a JSON structure. Each entry "
		 "includes 'name', 'type' (file/directory), and 'children' for directories. Files "
		 "have no children array, while directories always have a children array (which may "
		 "be empty). The output is formatted with 2-space indentation for readability. "
		 "maxDepth limits the levels shown. Symlinks are listed as files, never followed. "
		 "Only works within allowed directories.",
		 "{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},"
		 "\"excludePatterns\":{\"type\":\"array\",\"items\":{\"type\":\"string\"},"
		 "\"default\":[]},\"maxDepth\":{\"type\":\"integer\",\"minimum\":1,\"description\":"
		 "\"levels to show (1 = the directory's own entries)\"}},\"required\":[\"path\"],"
		 "\"additionalProperties\":false}",
		 directory_tree_tool, false},
		{"get_file_info", "Get File Info",
		 "Retrieve detailed metadata about a file or directory. Returns comprehensive "
		 "information including size, creation time, last modified time, permissions, and "
		 "type. This tool is perfect for understanding file characteristics without reading "
		 "the actual content. Only works within allowed directories.",
		 PATH_ONLY, file_info_tool, true},
		{"list_allowed_directories", "List Allowed Directories",
		 "Returns the list of directories that this server is allowed to access. "
		 "Subdirectories within these allowed directories are also accessible. Use this to "
		 "understand which directories and their nested paths are available before trying "
		 "to access files.",
		 "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}",
		 allowed_tool, true},
	};
#undef PATH_ONLY
	tzset(); /* read the zone now: the sandbox may hide /etc/localtime later */
	return fs_register_readonly(reg, fs, tools, sizeof(tools) / sizeof(tools[0]),
				    FS_TEXT_OUTPUT_SCHEMA, err);
}
