/*
 * html_text.c - HTML to Markdown-like text for the fetch tool (see
 * html_text.h for the contract).
 *
 * Three steps, all linear in the size of the page:
 *
 *  1. Decoding (html_decode.c). The page is turned into valid UTF-8 there,
 *     not by libxml2:
 *     a BOM wins, then a <meta charset> / http-equiv charset in the first
 *     64 KiB, then UTF-8. ISO-8859-1 and US-ASCII are read as
 *     windows-1252 (what browsers do), natively; other labels go through
 *     iconv with every undecodable byte becoming U+FFFD; a label iconv does
 *     not know means UTF-8. Invalid UTF-8 and NUL bytes become U+FFFD.
 *     libxml2 then parses the UTF-8 with HTML_PARSE_IGNORE_ENC. Doing it
 *     here rather than with a NULL encoding keeps the contract "invalid
 *     input bytes become U+FFFD" (libxml2 2.9 silently switches to
 *     Latin-1 at the first bad byte, and an iconv error stops its parse
 *     half way) and makes a <meta> after non-ASCII text harmless.
 *  2. Parsing with HTML_PARSE_RECOVER | NONET | NOERROR | NOWARNING |
 *     COMPACT, never XML_PARSE_HUGE: libxml2's nesting limit (256) stays,
 *     because without it stray end tags make its parser quadratic in the
 *     depth. A page nested deeper than that is converted up to the point
 *     where libxml2 stopped. HTML_PARSE_NOBLANKS is not used: it can drop
 *     the space between two inline elements, and white space is collapsed
 *     here anyway.
 *  3. A walk of the tree with parent/next pointers (no recursion) writing
 *     into a buffer that never grows past max_bytes; the walk stops once
 *     the buffer is full. It does not rely on libxml2's limit alone: it
 *     descends at most HTEXT_DEPTH_MAX elements deep (what lies deeper is
 *     left out, as libxml2 leaves out what lies past its own limit),
 *     counts the nodes it visits and checks the call's deadline and
 *     cancellation every HTEXT_CHECK_EVERY of them.
 *
 * Decisions where the contract is silent:
 *  - A link whose href is empty or javascript:, vbscript: or data: keeps
 *    only its text. A link with no text is left out entirely (as
 *    markdownify does). Relative hrefs are resolved against <base href>
 *    (itself resolved against base_url) or base_url; an href xmlBuildURI
 *    cannot parse is shown as written. Space, '(', ')', '<', '>' and
 *    control bytes in the target are percent-encoded.
 *  - Images become their alt text, as plain inline text (no "![...]").
 *  - Inline markup: <b>/<strong> "**x**", <i>/<em> "*x*", <code>/<kbd>/
 *    <samp> "`x`"; a marker opens only when its element has text, so empty
 *    icons (<i class=...></i>) leave nothing behind; nested same-kind
 *    markers are not repeated; none inside <pre>.
 *  - Inside a list item, block boundaries are single line breaks (tight
 *    lists); continuation lines are indented two spaces per list level.
 *    <ol start=N> is honoured. Two <br> in a row make a blank line.
 *  - Inside a heading or a table cell, line breaks become spaces, so a
 *    heading stays on one line and a row stays on one line. An empty
 *    cell still gets its separator ("a | | c", "a |" when last) so
 *    columns line up. No header rule row.
 *  - <blockquote> prefixes its lines with "> ", blank lines within with ">".
 *  - <pre> is fenced with ``` lines (an empty <pre> is left out); the one
 *    newline HTML ignores after <pre> is dropped; control characters other
 *    than tab and newline are dropped.
 *  - &nbsp; stays U+00A0 (it is not white space to collapse).
 *  - The title is white-space collapsed and cut at HTEXT_TITLE_MAX bytes;
 *    the first <title> anywhere counts; an empty one gives NULL.
 *  - A page libxml2 cannot make a tree of (empty input, nothing but
 *    white space) gives empty text and MOAT_OK. A page larger than
 *    INT_MAX bytes after decoding is cut there (libxml2 takes an int).
 *  - Errors: MOAT_EINVAL for NULL out pointers (or NULL html with len > 0),
 *    MOAT_ENOMEM when an allocation fails, in libxml2 too.
 *  - No boilerplate removal (readability's scoring of nav/aside/footer):
 *    those are converted like any other block.
 */
#include "html_text.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#include <libxml/uri.h>
#include <libxml/xmlerror.h>

#include "callctx.h"
#include "html_decode.h"

#define HTEXT_TITLE_MAX 1024        /* bytes of title kept */
#define HTEXT_FRAMES_MAX 256        /* formatting elements tracked at once */
#define HTEXT_MQ_MAX 256            /* bytes of opening markers waiting */
#define HTEXT_DEPTH_MAX 512         /* deepest element the walk enters */
#define HTEXT_CHECK_EVERY 1024      /* nodes between two deadline checks */

static const char htext_fffd[] = "\xEF\xBF\xBD";

/* ---- bounded output buffer ----------------------------------------- */

/* Grows up to max bytes of text (plus a NUL); once a write does not fit,
 * full is set and every later write is dropped. oom records a failed
 * allocation. */
struct htext_buf {
	char *p;
	size_t len, cap, max;
	bool full, oom;
};

static bool htext_buf_reserve(struct htext_buf *b, size_t add)
{
	size_t need = b->len + add + 1, ncap;
	char *np;

	if (need <= b->cap)
		return true;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (b->max < SIZE_MAX && ncap > b->max + 1)
		ncap = b->max + 1 > need ? b->max + 1 : need;
	np = realloc(b->p, ncap);
	if (!np) {
		b->oom = true;
		return false;
	}
	b->p = np;
	b->cap = ncap;
	return true;
}

/* htext_buf_put - append s[0..n), replacing invalid UTF-8 with U+FFFD and
 * stopping (full) before a character that would pass max. Returns false
 * once nothing more can be written. */
static bool htext_buf_put(struct htext_buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	if (b->full || b->oom)
		return false;
	while (i < n) {
		size_t room = b->max - b->len, j = i, l = 0;

		while (j < n && (l = htext_utf8_seq(u + j, n - j)) != 0 && j + l - i <= room)
			j += l;
		if (j > i) {
			if (!htext_buf_reserve(b, j - i))
				return false;
			memcpy(b->p + b->len, s + i, j - i);
			b->len += j - i;
			room -= j - i;
		}
		if (j == n)
			break;
		if (l != 0 || room < 3) { /* the next character does not fit */
			b->full = true;
			return false;
		}
		if (!htext_buf_reserve(b, 3))
			return false;
		memcpy(b->p + b->len, htext_fffd, 3);
		b->len += 3;
		i = j + 1;
	}
	if (b->p)
		b->p[b->len] = '\0';
	return true;
}

/* htext_buf_take - the text as a NUL-terminated heap string (even when
 * empty), handed to the caller; NULL when out of memory. */
static char *htext_buf_take(struct htext_buf *b)
{
	char *p;

	if (!b->p && !htext_buf_reserve(b, 0))
		return NULL;
	b->p[b->len] = '\0';
	p = b->p;
	b->p = NULL;
	return p;
}

/* ---- elements ------------------------------------------------------- */

enum htext_kind {
	HK_INLINE, /* transparent: span, label, unknown elements */
	HK_SKIP,   /* dropped with everything inside */
	HK_HEAD,
	HK_TITLE,
	HK_BLOCK, /* blank line before and after */
	HK_LINE,  /* line break before and after */
	HK_HEADING,
	HK_LIST,
	HK_LI,
	HK_BR,
	HK_HR,
	HK_IMG,
	HK_PRE,
	HK_CODE,
	HK_STRONG,
	HK_EM,
	HK_A,
	HK_QUOTE,
	HK_TR,
	HK_CELL,
};

struct htext_tag {
	const char *name;
	unsigned char kind, arg;
};

/* Sorted by name (bsearch). arg: heading level; 1 for an ordered list.
 * embed, source and track are HTML5 void elements libxml2 2.9 does not
 * know: it makes what follows them their children, so they are walked
 * through, never skipped (as are wbr and keygen, which are not listed). */
static const struct htext_tag htext_tags[] = {
	{"a", HK_A, 0},           {"address", HK_BLOCK, 0},   {"applet", HK_SKIP, 0},
	{"area", HK_SKIP, 0},     {"article", HK_BLOCK, 0},   {"aside", HK_BLOCK, 0},
	{"audio", HK_SKIP, 0},    {"b", HK_STRONG, 0},        {"base", HK_SKIP, 0},
	{"blockquote", HK_QUOTE, 0}, {"body", HK_BLOCK, 0},   {"br", HK_BR, 0},
	{"button", HK_SKIP, 0},   {"canvas", HK_SKIP, 0},     {"caption", HK_LINE, 0},
	{"center", HK_BLOCK, 0},  {"code", HK_CODE, 0},       {"datalist", HK_SKIP, 0},
	{"dd", HK_LINE, 0},       {"details", HK_BLOCK, 0},   {"dialog", HK_BLOCK, 0},
	{"dir", HK_LIST, 0},      {"div", HK_BLOCK, 0},       {"dl", HK_BLOCK, 0},
	{"dt", HK_LINE, 0},       {"em", HK_EM, 0},           {"embed", HK_INLINE, 0},
	{"fieldset", HK_BLOCK, 0}, {"figcaption", HK_BLOCK, 0}, {"figure", HK_BLOCK, 0},
	{"footer", HK_BLOCK, 0},  {"form", HK_BLOCK, 0},      {"frame", HK_SKIP, 0},
	{"frameset", HK_SKIP, 0}, {"h1", HK_HEADING, 1},      {"h2", HK_HEADING, 2},
	{"h3", HK_HEADING, 3},    {"h4", HK_HEADING, 4},      {"h5", HK_HEADING, 5},
	{"h6", HK_HEADING, 6},    {"head", HK_HEAD, 0},       {"header", HK_BLOCK, 0},
	{"hgroup", HK_BLOCK, 0},  {"hr", HK_HR, 0},           {"html", HK_BLOCK, 0},
	{"i", HK_EM, 0},          {"iframe", HK_SKIP, 0},     {"img", HK_IMG, 0},
	{"input", HK_SKIP, 0},    {"kbd", HK_CODE, 0},        {"legend", HK_LINE, 0},
	{"li", HK_LI, 0},         {"link", HK_SKIP, 0},       {"listing", HK_PRE, 0},
	{"main", HK_BLOCK, 0},    {"map", HK_SKIP, 0},        {"math", HK_SKIP, 0},
	{"menu", HK_LIST, 0},     {"meta", HK_SKIP, 0},       {"nav", HK_BLOCK, 0},
	{"noembed", HK_SKIP, 0},  {"noframes", HK_SKIP, 0},   {"noscript", HK_SKIP, 0},
	{"object", HK_SKIP, 0},   {"ol", HK_LIST, 1},         {"optgroup", HK_SKIP, 0},
	{"option", HK_SKIP, 0},   {"p", HK_BLOCK, 0},         {"param", HK_SKIP, 0},
	{"plaintext", HK_PRE, 0}, {"pre", HK_PRE, 0},         {"samp", HK_CODE, 0},
	{"script", HK_SKIP, 0},   {"section", HK_BLOCK, 0},   {"select", HK_SKIP, 0},
	{"source", HK_INLINE, 0},   {"strong", HK_STRONG, 0},   {"style", HK_SKIP, 0},
	{"summary", HK_LINE, 0},  {"svg", HK_SKIP, 0},        {"table", HK_BLOCK, 0},
	{"td", HK_CELL, 0},       {"template", HK_SKIP, 0},   {"textarea", HK_SKIP, 0},
	{"th", HK_CELL, 0},       {"title", HK_TITLE, 0},     {"tr", HK_TR, 0},
	{"track", HK_INLINE, 0},    {"ul", HK_LIST, 0},         {"video", HK_SKIP, 0},
	{"xmp", HK_PRE, 0},
};

static int htext_tag_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct htext_tag *)elem)->name);
}

/* libxml2 interns element names in the document's dictionary, so one
 * name is one pointer: a small cache keyed by it skips most searches. */
#define HTEXT_TAG_CACHE 64

struct htext_tag_cache {
	const xmlChar *name[HTEXT_TAG_CACHE];
	const struct htext_tag *tag[HTEXT_TAG_CACHE];
};

static const struct htext_tag *htext_tag_of(struct htext_tag_cache *c, const xmlNode *node)
{
	static const struct htext_tag inline_tag = {"", HK_INLINE, 0};
	const struct htext_tag *t;
	size_t slot;

	if (!node->name)
		return &inline_tag;
	slot = ((uintptr_t)node->name >> 3) % HTEXT_TAG_CACHE;
	if (c->name[slot] == node->name)
		return c->tag[slot];
	t = bsearch(node->name, htext_tags, sizeof(htext_tags) / sizeof(htext_tags[0]),
		    sizeof(htext_tags[0]), htext_tag_cmp);
	if (!t)
		t = &inline_tag;
	c->name[slot] = node->name;
	c->tag[slot] = t;
	return t;
}

/* ---- the walk ------------------------------------------------------- */

/* An element whose formatting needs state kept until it closes. */
struct htext_frame {
	const xmlNode *node;
	unsigned char kind;
	bool marked;        /* its opening marker went into the queue */
	size_t mq_off;      /* where in the queue */
	size_t serial;      /* st->serial when queued: unchanged = not yet written */
	long saved;         /* list counter or cells in row of the enclosing one */
	bool saved_ordered; /* the enclosing list is ordered */
	xmlChar *href;      /* link target (HK_A), owned */
};

struct htext_state {
	struct htext_buf out, title;
	bool have_title;
	const xmlChar *base; /* what relative links resolve against, or NULL */
	xmlChar *base_owned; /* from <base href>, owned */
	bool base_seen;

	/* Pending between words: line breaks (1 or 2, the blank line carrying
	 * the quote marks of nl_quote levels), a space, and opening markers
	 * ("**", "[", "- ", "# ", "```\n") written just before the next text
	 * so that empty elements leave nothing. */
	int pend_nl;
	unsigned nl_quote;
	bool pend_space;
	char mq[HTEXT_MQ_MAX];
	size_t mq_len;
	long bullet_at; /* offset of a list bullet in mq, or -1 */
	size_t serial;  /* bumped each time pending things are written */
	bool at_line_start;

	unsigned quote_depth, li_depth, pre_depth, heading_depth, cell_depth;
	unsigned code_depth, strong_depth, em_depth, link_depth;
	bool pre_fresh; /* no text yet in the current <pre> */
	long list_counter;
	bool list_ordered;
	long cells_in_row;

	struct htext_frame frames[HTEXT_FRAMES_MAX];
	size_t nframes;
	struct htext_tag_cache tags;

	struct call_ctx *ctx; /* may be NULL */
	uint64_t steps;       /* nodes visited */
	enum moat_rc stop;    /* why the walk stopped early (deadline, cancel) */
	struct moat_err *err;
};

static bool htext_stopped(const struct htext_state *st)
{
	return st->out.full || st->out.oom || st->stop != MOAT_OK;
}

static void htext_raw(struct htext_state *st, const char *s, size_t n)
{
	(void)htext_buf_put(&st->out, s, n);
}

static void htext_quote_marks(struct htext_state *st, unsigned depth)
{
	for (unsigned i = 0; i < depth; i++)
		htext_raw(st, i + 1 < depth ? "> " : ">", i + 1 < depth ? 2 : 1);
}

static void htext_newline(struct htext_state *st)
{
	htext_raw(st, "\n", 1);
	st->at_line_start = true;
}

/* The start of a line: quote marks and list indentation (two spaces per
 * open list item, one level less on the line that carries a bullet). */
static void htext_line_prefix(struct htext_state *st)
{
	unsigned indent = st->li_depth;

	for (unsigned i = 0; i < st->quote_depth; i++)
		htext_raw(st, "> ", 2);
	if (st->bullet_at >= 0 && indent > 0)
		indent--;
	for (unsigned i = 0; i < indent; i++)
		htext_raw(st, "  ", 2);
	st->at_line_start = false;
}

/* htext_emit - write s[0..n): newlines end lines (a blank one inside a
 * quote gets its ">"), other bytes get the line prefix first. */
static void htext_emit(struct htext_state *st, const char *s, size_t n)
{
	while (n > 0 && !htext_stopped(st)) {
		const char *nl;
		size_t k;

		if (*s == '\n') {
			if (st->at_line_start)
				htext_quote_marks(st, st->quote_depth);
			htext_newline(st);
			s++;
			n--;
			continue;
		}
		if (st->at_line_start)
			htext_line_prefix(st);
		nl = memchr(s, '\n', n);
		k = nl ? (size_t)(nl - s) : n;
		htext_raw(st, s, k);
		s += k;
		n -= k;
	}
}

/* htext_flush - write what is pending before new text: the line breaks
 * (or the space) and the opening markers. Nothing leads the output. */
static void htext_flush(struct htext_state *st)
{
	if (st->out.len > 0) {
		if (st->pend_nl > 0) {
			if (!st->at_line_start)
				htext_newline(st);
			if (st->pend_nl > 1) {
				htext_quote_marks(st, st->nl_quote);
				htext_newline(st);
			}
		} else if (st->pend_space && !st->at_line_start) {
			htext_raw(st, " ", 1);
		}
	}
	st->pend_nl = 0;
	st->pend_space = false;
	if (st->mq_len > 0)
		htext_emit(st, st->mq, st->mq_len);
	st->mq_len = 0;
	st->bullet_at = -1;
	st->serial++;
	st->pre_fresh = false;
}

/* htext_break - ask for a line break (n = 1) or a blank line (n = 2)
 * before the next text; a space inside headings and cells, nothing
 * inside <pre>, a single break inside list items. */
static void htext_break(struct htext_state *st, int n)
{
	if (st->pre_depth > 0)
		return;
	if (st->heading_depth > 0 || st->cell_depth > 0) {
		st->pend_space = true;
		return;
	}
	if (n > 1 && st->li_depth > 0)
		n = 1;
	if (st->pend_nl == 0 || st->quote_depth < st->nl_quote)
		st->nl_quote = st->quote_depth;
	if (n > st->pend_nl)
		st->pend_nl = n;
}

static bool htext_blank(char c)
{
	return (unsigned char)c <= 0x20 || c == 0x7F;
}

/* Collapsed text: runs of white space (and stray control characters)
 * become one pending space. Words separated by single spaces, the usual
 * case, are written in one go. */
static void htext_text(struct htext_state *st, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && !htext_stopped(st)) {
		size_t j = i;

		if (htext_blank(s[i])) {
			st->pend_space = true;
			i++;
			continue;
		}
		while (j < n && (!htext_blank(s[j]) ||
				 (s[j] == ' ' && j + 1 < n && !htext_blank(s[j + 1]))))
			j++;
		htext_flush(st);
		htext_emit(st, s + i, j - i);
		i = j;
	}
}

/* Text inside <pre>: as it is, without control characters other than tab
 * and newline, and without the newline that directly follows <pre>. */
static void htext_pre_text(struct htext_state *st, const char *s, size_t n)
{
	size_t i = 0;

	if (st->pre_fresh && n > 0 && s[0] == '\n') {
		s++;
		n--;
	}
	if (n == 0)
		return;
	htext_flush(st);
	while (i < n && !htext_stopped(st)) {
		size_t j = i;

		while (j < n && ((unsigned char)s[j] >= 0x20 || s[j] == '\t' || s[j] == '\n') &&
		       s[j] != 0x7F)
			j++;
		htext_emit(st, s + i, j - i);
		i = j < n ? j + 1 : j;
	}
}

/* htext_queue - add an opening marker; false when the queue is full (the
 * element then goes without). */
static bool htext_queue(struct htext_state *st, struct htext_frame *f, const char *m)
{
	size_t k = strlen(m);

	if (k > HTEXT_MQ_MAX - st->mq_len)
		return false;
	f->mq_off = st->mq_len;
	f->serial = st->serial;
	f->marked = true;
	memcpy(st->mq + st->mq_len, m, k);
	st->mq_len += k;
	return true;
}

/* htext_unqueue - when f's marker was never written (the element had no
 * text), take it back; returns true in that case. */
static bool htext_unqueue(struct htext_state *st, struct htext_frame *f)
{
	if (!f->marked || f->serial != st->serial)
		return false;
	if (f->mq_off < st->mq_len)
		st->mq_len = f->mq_off;
	if (st->bullet_at >= 0 && (size_t)st->bullet_at >= st->mq_len)
		st->bullet_at = -1;
	return true;
}

static struct htext_frame *htext_push(struct htext_state *st, const xmlNode *node, int kind)
{
	struct htext_frame *f;

	if (st->nframes >= HTEXT_FRAMES_MAX)
		return NULL;
	f = &st->frames[st->nframes++];
	memset(f, 0, sizeof(*f));
	f->node = node;
	f->kind = (unsigned char)kind;
	return f;
}

/* ---- links, title, base -------------------------------------------- */

/* htext_clean_href - href without ASCII tab/newline and surrounding white
 * space (what browsers do), or NULL when empty or a scheme that only runs
 * code or inlines data. Owned by the caller (xmlFree). */
static xmlChar *htext_clean_href(const xmlChar *href)
{
	static const char *const banned[] = {"javascript:", "vbscript:", "data:"};
	size_t n = 0, len = href ? strlen((const char *)href) : 0;
	xmlChar *h;

	if (!href)
		return NULL;
	while (len > 0 && (href[len - 1] <= 0x20))
		len--;
	while (len > 0 && href[0] <= 0x20) {
		href++;
		len--;
	}
	if (len == 0 || !(h = xmlMalloc(len + 1)))
		return NULL;
	for (size_t i = 0; i < len; i++)
		if (href[i] != '\t' && href[i] != '\n' && href[i] != '\r')
			h[n++] = href[i];
	h[n] = '\0';
	for (size_t i = 0; i < sizeof(banned) / sizeof(banned[0]); i++) {
		if (strncasecmp((const char *)h, banned[i], strlen(banned[i])) == 0) {
			xmlFree(h);
			return NULL;
		}
	}
	return h;
}

/* htext_resolve - href against st->base; NULL when there is no usable
 * target. Owned by the caller (xmlFree). */
static xmlChar *htext_resolve(struct htext_state *st, const xmlChar *href)
{
	xmlChar *h = htext_clean_href(href), *r, *c;

	if (!h || !st->base)
		return h;
	r = xmlBuildURI(h, st->base);
	if (!r) {
		/* Spaces and the like: escape what URIs may not hold, try again. */
		xmlChar *e = xmlURIEscapeStr(h, (const xmlChar *)":/?#[]@!$&'()*+,;=%~");

		if (e)
			r = xmlBuildURI(e, st->base);
		xmlFree(e);
	}
	if (!r)
		return h; /* not a URI libxml2 can parse: show it as written */
	xmlFree(h);
	c = htext_clean_href(r); /* a javascript: base stays banned */
	xmlFree(r);
	return c;
}

static void htext_base(struct htext_state *st, const xmlNode *node)
{
	xmlChar *href;

	if (st->base_seen)
		return;
	st->base_seen = true;
	href = xmlGetProp(node, (const xmlChar *)"href");
	st->base_owned = htext_resolve(st, href);
	xmlFree(href);
	if (st->base_owned)
		st->base = st->base_owned;
}

/* Append s to b with white space collapsed and trimmed. */
static void htext_collapse_into(struct htext_buf *b, const char *s)
{
	bool space = false;

	while (*s) {
		size_t j = 0;

		if ((unsigned char)*s <= 0x20 || *s == 0x7F) {
			space = true;
			s++;
			continue;
		}
		while (s[j] && (unsigned char)s[j] > 0x20 && s[j] != 0x7F)
			j++;
		if ((space && b->len > 0 && !htext_buf_put(b, " ", 1)) || !htext_buf_put(b, s, j))
			return;
		space = false;
		s += j;
	}
}

static void htext_title(struct htext_state *st, const xmlNode *node)
{
	xmlChar *t;

	if (st->have_title)
		return;
	st->have_title = true;
	t = xmlNodeGetContent(node);
	if (t)
		htext_collapse_into(&st->title, (const char *)t);
	xmlFree(t);
}

/* ---- element open and close ---------------------------------------- */

static void htext_open_list(struct htext_state *st, const xmlNode *node, bool ordered)
{
	struct htext_frame *f;
	long start = 1;

	htext_break(st, 2);
	if (!(f = htext_push(st, node, HK_LIST)))
		return;
	f->saved = st->list_counter;
	f->saved_ordered = st->list_ordered;
	if (ordered) {
		xmlChar *s = xmlGetProp(node, (const xmlChar *)"start");

		if (s) {
			char *end;
			long v;

			errno = 0;
			v = strtol((const char *)s, &end, 10);
			if (errno == 0 && end != (char *)s && v > -1000000000L && v < 1000000000L)
				start = v;
			xmlFree(s);
		}
	}
	st->list_counter = start - 1;
	st->list_ordered = ordered;
}

static void htext_open_li(struct htext_state *st, const xmlNode *node)
{
	struct htext_frame *f;
	char bullet[32];

	htext_break(st, 1);
	if (!(f = htext_push(st, node, HK_LI)))
		return;
	st->li_depth++;
	st->list_counter++;
	if (st->list_ordered)
		(void)snprintf(bullet, sizeof(bullet), "%ld. ", st->list_counter);
	else
		memcpy(bullet, "- ", 3);
	/* An item that opens with a nested item before any text: the inner
	 * bullet replaces the outer one (no line holding just "- "). */
	if (st->bullet_at >= 0 && (size_t)st->bullet_at <= st->mq_len)
		st->mq_len = (size_t)st->bullet_at;
	st->bullet_at = (long)st->mq_len;
	if (!htext_queue(st, f, bullet))
		st->bullet_at = -1;
}

static void htext_open_a(struct htext_state *st, const xmlNode *node)
{
	struct htext_frame *f;
	xmlChar *href, *target;

	if (st->pre_depth > 0 || st->link_depth > 0)
		return;
	href = xmlGetProp(node, (const xmlChar *)"href");
	target = htext_resolve(st, href);
	xmlFree(href);
	if (!target)
		return;
	if (!(f = htext_push(st, node, HK_A)) || !htext_queue(st, f, "[")) {
		if (f)
			st->nframes--;
		xmlFree(target);
		return;
	}
	f->href = target;
	st->link_depth++;
}

/* Inline markers: strong, em, code. */
static void htext_open_mark(struct htext_state *st, const xmlNode *node, int kind)
{
	unsigned *depth = kind == HK_STRONG ? &st->strong_depth
			  : kind == HK_EM   ? &st->em_depth
					    : &st->code_depth;
	const char *m = kind == HK_STRONG ? "**" : kind == HK_EM ? "*" : "`";
	struct htext_frame *f;

	if (*depth > 0 || st->pre_depth > 0 || (kind != HK_CODE && st->code_depth > 0))
		return;
	if (!(f = htext_push(st, node, kind)))
		return;
	if (!htext_queue(st, f, m)) {
		st->nframes--;
		return;
	}
	(*depth)++;
}

static void htext_attr_text(struct htext_state *st, const xmlNode *node, const char *attr)
{
	xmlChar *v = xmlGetProp(node, (const xmlChar *)attr);

	if (v)
		htext_text(st, (const char *)v, strlen((const char *)v));
	xmlFree(v);
}

/* htext_open - the start of node; true when the walk should go into its
 * children (and call htext_close after them). */
static bool htext_open(struct htext_state *st, const xmlNode *node)
{
	const struct htext_tag *t;
	struct htext_frame *f;

	switch (node->type) {
	case XML_TEXT_NODE:
	case XML_CDATA_SECTION_NODE:
		if (node->content) {
			size_t n = strlen((const char *)node->content);

			if (st->pre_depth > 0)
				htext_pre_text(st, (const char *)node->content, n);
			else
				htext_text(st, (const char *)node->content, n);
		}
		return false;
	case XML_ELEMENT_NODE:
		break;
	default: /* comments, processing instructions, the DTD */
		return false;
	}
	t = htext_tag_of(&st->tags, node);
	switch (t->kind) {
	case HK_SKIP:
		return false;
	case HK_HEAD:
		for (const xmlNode *c = node->children; c; c = c->next) {
			if (c->type != XML_ELEMENT_NODE || !c->name)
				continue;
			if (strcmp((const char *)c->name, "title") == 0)
				htext_title(st, c);
			else if (strcmp((const char *)c->name, "base") == 0)
				htext_base(st, c);
		}
		return false;
	case HK_TITLE:
		htext_title(st, node);
		return false;
	case HK_BLOCK:
		htext_break(st, 2);
		return true;
	case HK_LINE:
		htext_break(st, 1);
		return true;
	case HK_HEADING: {
		static const char *const marks[] = {"# ", "## ", "### ", "#### ", "##### ",
						    "###### "};

		htext_break(st, 2);
		if (st->heading_depth > 0 || st->pre_depth > 0 ||
		    !(f = htext_push(st, node, HK_HEADING)))
			return true;
		(void)htext_queue(st, f, marks[t->arg - 1]);
		st->heading_depth++;
		return true;
	}
	case HK_LIST:
		htext_open_list(st, node, t->arg != 0);
		return true;
	case HK_LI:
		htext_open_li(st, node);
		return true;
	case HK_BR:
		if (st->pre_depth > 0) {
			htext_flush(st);
			htext_emit(st, "\n", 1);
		} else if (st->heading_depth > 0 || st->cell_depth > 0) {
			st->pend_space = true;
		} else {
			int before = st->pend_nl;

			htext_break(st, 1);
			if (before > 0 && st->li_depth == 0)
				st->pend_nl = 2; /* <br><br>: a blank line */
		}
		return false;
	case HK_HR:
		htext_break(st, 2);
		htext_flush(st);
		htext_emit(st, "---", 3);
		htext_break(st, 2);
		return false;
	case HK_IMG:
		htext_attr_text(st, node, "alt");
		return false;
	case HK_PRE:
		if (st->pre_depth > 0 || st->heading_depth > 0 || st->cell_depth > 0)
			return true; /* where a fence cannot go: inline text */
		htext_break(st, 2);
		if (!(f = htext_push(st, node, HK_PRE)))
			return true;
		if (!htext_queue(st, f, "```\n")) {
			st->nframes--;
			return true;
		}
		st->pre_depth++;
		st->pre_fresh = true;
		return true;
	case HK_CODE:
	case HK_STRONG:
	case HK_EM:
		htext_open_mark(st, node, t->kind);
		return true;
	case HK_A:
		htext_open_a(st, node);
		return true;
	case HK_QUOTE:
		htext_break(st, 2);
		if (htext_push(st, node, HK_QUOTE))
			st->quote_depth++;
		return true;
	case HK_TR:
		htext_break(st, 1);
		if ((f = htext_push(st, node, HK_TR))) {
			f->saved = st->cells_in_row;
			st->cells_in_row = 0;
		}
		return true;
	case HK_CELL:
		if (st->cells_in_row++ > 0) {
			st->pend_space = false;
			htext_flush(st);
			htext_emit(st, " |", 2);
			st->pend_space = true; /* no trailing space after an empty last cell */
		}
		if (htext_push(st, node, HK_CELL))
			st->cell_depth++;
		return true;
	default:
		return true;
	}
}

/* Bytes a Markdown link target carries as they are; the rest (and NUL,
 * which ends the string) is percent-encoded. */
static bool htext_url_plain(unsigned char c)
{
	return c > 0x20 && c != 0x7F && c != '(' && c != ')' && c != '<' && c != '>' && c != '"';
}

/* htext_close_frame - undo what opening f did, writing closing markers. */
static void htext_close_frame(struct htext_state *st, struct htext_frame *f)
{
	switch (f->kind) {
	case HK_HEADING:
		(void)htext_unqueue(st, f);
		st->heading_depth--;
		break;
	case HK_LIST:
		st->list_counter = f->saved;
		st->list_ordered = f->saved_ordered;
		break;
	case HK_LI:
		(void)htext_unqueue(st, f);
		st->li_depth--;
		break;
	case HK_PRE:
		st->pre_depth--;
		if (!htext_unqueue(st, f)) {
			if (!st->at_line_start)
				htext_emit(st, "\n", 1);
			htext_emit(st, "```", 3);
		}
		break;
	case HK_CODE:
	case HK_STRONG:
	case HK_EM:
		if (!htext_unqueue(st, f))
			htext_emit(st, f->kind == HK_STRONG ? "**" : f->kind == HK_EM ? "*" : "`",
				   f->kind == HK_STRONG ? 2 : 1);
		if (f->kind == HK_STRONG)
			st->strong_depth--;
		else if (f->kind == HK_EM)
			st->em_depth--;
		else
			st->code_depth--;
		break;
	case HK_A:
		if (!htext_unqueue(st, f)) {
			const char *h = (const char *)f->href;

			htext_emit(st, "](", 2);
			while (*h && !htext_stopped(st)) {
				size_t k = 0;
				char esc[4];

				while (htext_url_plain((unsigned char)h[k]))
					k++;
				htext_emit(st, h, k);
				h += k;
				if (!*h)
					break;
				(void)snprintf(esc, sizeof(esc), "%%%02X", (unsigned char)*h);
				htext_emit(st, esc, 3);
				h++;
			}
			htext_emit(st, ")", 1);
		}
		xmlFree(f->href);
		f->href = NULL;
		st->link_depth--;
		break;
	case HK_QUOTE:
		st->quote_depth--;
		break;
	case HK_TR:
		st->cells_in_row = f->saved;
		break;
	case HK_CELL:
		st->cell_depth--;
		break;
	default:
		break;
	}
}

/* htext_close - the end of an element htext_open went into. */
static void htext_close(struct htext_state *st, const xmlNode *node)
{
	const struct htext_tag *t = htext_tag_of(&st->tags, node);

	if (st->nframes > 0 && st->frames[st->nframes - 1].node == node)
		htext_close_frame(st, &st->frames[--st->nframes]);
	switch (t->kind) {
	case HK_BLOCK:
	case HK_LIST:
	case HK_PRE:
	case HK_QUOTE:
	case HK_HEADING:
		htext_break(st, 2);
		break;
	case HK_LINE:
	case HK_LI:
	case HK_TR:
		htext_break(st, 1);
		break;
	default:
		break;
	}
}

/* htext_walk - every node of doc in document order, without recursion:
 * down through children, across through next, up through parent. */
static void htext_walk(struct htext_state *st, xmlDoc *doc)
{
	xmlNode *cur = doc->children;
	unsigned depth = 0; /* elements entered above cur */

	while (cur && !htext_stopped(st)) {
		if (++st->steps % HTEXT_CHECK_EVERY == 0 && st->ctx &&
		    (st->stop = callctx_check(st->ctx, st->err)) != MOAT_OK)
			return;
		if (htext_open(st, cur)) {
			if (cur->children && depth < HTEXT_DEPTH_MAX) {
				cur = cur->children;
				depth++;
				continue;
			}
			htext_close(st, cur);
		}
		while (!cur->next) {
			cur = cur->parent;
			if (!cur || cur == (xmlNode *)doc || depth == 0)
				return;
			depth--;
			htext_close(st, cur);
		}
		cur = cur->next;
	}
}

/* ---- entry point ---------------------------------------------------- */

static void htext_state_free(struct htext_state *st)
{
	if (!st)
		return;
	while (st->nframes > 0)
		xmlFree(st->frames[--st->nframes].href);
	xmlFree(st->base_owned);
	free(st->out.p);
	free(st->title.p);
	free(st);
}

enum moat_rc htext_convert(const char *html, size_t len, const char *base_url, size_t max_bytes,
			   struct call_ctx *ctx, char **out, size_t *out_len, char **title,
			   struct moat_err *err)
{
	const int opts = HTML_PARSE_RECOVER | HTML_PARSE_NONET | HTML_PARSE_NOERROR |
			 HTML_PARSE_NOWARNING | HTML_PARSE_COMPACT | HTML_PARSE_IGNORE_ENC;
	struct htext_state *st = NULL;
	htmlParserCtxtPtr ctxt = NULL;
	xmlDoc *doc = NULL;
	char *owned = NULL;
	const char *text = NULL;
	size_t text_len = 0;
	enum moat_rc rc = MOAT_OK;

	if (out)
		*out = NULL;
	if (out_len)
		*out_len = 0;
	if (title)
		*title = NULL;
	if (!out || !out_len || (!html && len > 0))
		return moat_err_set(err, MOAT_EINVAL, "html_text: missing argument");

	if (!(st = calloc(1, sizeof(*st)))) {
		rc = MOAT_ENOMEM;
		goto out;
	}
	st->out.max = max_bytes;
	st->title.max = HTEXT_TITLE_MAX;
	st->base = (const xmlChar *)base_url;
	st->bullet_at = -1;
	st->at_line_start = true;
	st->ctx = ctx;
	st->err = err;

	if (len > 0 && (rc = htext_decode(html, len, &owned, &text, &text_len)) != MOAT_OK)
		goto out;
	if (text_len > (size_t)INT_MAX) { /* libxml2 takes an int: cut at a character */
		text_len = (size_t)INT_MAX;
		while (text_len > 0 && ((unsigned char)text[text_len] & 0xC0) == 0x80)
			text_len--;
	}
	if (text_len > 0) {
		if (!(ctxt = htmlNewParserCtxt())) {
			rc = MOAT_ENOMEM;
			goto out;
		}
		doc = htmlCtxtReadMemory(ctxt, text, (int)text_len, NULL, "UTF-8", opts);
		if (ctxt->errNo == XML_ERR_NO_MEMORY) {
			rc = MOAT_ENOMEM;
			goto out;
		}
		if (doc)
			htext_walk(st, doc);
		if (st->stop != MOAT_OK) {
			rc = st->stop; /* err was filled by callctx_check */
			goto out;
		}
	}
	if (st->out.oom || st->title.oom) {
		rc = MOAT_ENOMEM;
		goto out;
	}
	if (!(*out = htext_buf_take(&st->out))) {
		rc = MOAT_ENOMEM;
		goto out;
	}
	*out_len = st->out.len;
	if (title && st->title.len > 0 && !(*title = htext_buf_take(&st->title))) {
		free(*out);
		*out = NULL;
		*out_len = 0;
		rc = MOAT_ENOMEM;
	}
out:
	if (rc == MOAT_ENOMEM)
		(void)moat_err_set(err, rc, "html_text: out of memory");
	xmlFreeDoc(doc);
	if (ctxt)
		htmlFreeParserCtxt(ctxt);
	free(owned);
	htext_state_free(st);
	return rc;
}
