/*
 * test_html_text.c - unit tests for src/providers/http/html_text.c: the
 * Markdown-like rendering of each kind of element (exact outputs for small
 * pages), links and their resolution, what is dropped, entities and white
 * space, charsets and invalid bytes, the max_bytes cut, and hostile input
 * (deep nesting, malformed markup, a 1 MB page in bounded time).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <libxml/parser.h>

#include "callctx.h"
#include "http/html_text.h"

#define BIG (1u << 20)

/* conv - html[0..len) converted with max bytes; fails the test unless
 * MOAT_OK. Caller frees the result (and *title). */
static char *conv(const char *html, size_t len, const char *base, size_t max, char **title,
		  size_t *out_len)
{
	struct moat_err err = {0};
	char *out = NULL;
	size_t n = 0;
	enum moat_rc rc = htext_convert(html, len, base, max, NULL, &out, &n, title, &err);

	assert_int_equal(rc, MOAT_OK);
	assert_non_null(out);
	assert_int_equal(strlen(out), n);
	assert_true(n <= max);
	if (out_len)
		*out_len = n;
	return out;
}

/* expect - the text of a NUL-terminated page, with a base URL. */
static void expect_base(const char *html, const char *base, const char *want)
{
	char *out = conv(html, strlen(html), base, BIG, NULL, NULL);

	assert_string_equal(out, want);
	free(out);
}

static void expect(const char *html, const char *want)
{
	expect_base(html, NULL, want);
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t l = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
				      : (c & 0xF8) == 0xF0 ? 4 : 0;

		if (l == 0 || i + l > n || (l == 2 && c < 0xC2))
			return false;
		for (size_t k = 1; k < l; k++)
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
		i += l;
	}
	return true;
}

/* repeat - unit times over, then tail; *len its length. Caller frees. */
static char *repeat(const char *unit, size_t times, const char *tail, size_t *len)
{
	size_t ul = strlen(unit), tl = strlen(tail);
	char *p = malloc(ul * times + tl + 1);

	assert_non_null(p);
	for (size_t i = 0; i < times; i++)
		memcpy(p + i * ul, unit, ul);
	memcpy(p + ul * times, tail, tl + 1);
	*len = ul * times + tl;
	return p;
}

/* CPU time of this thread: a bound on work that other load on the
 * machine (a CI run, parallel tests) cannot push past. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_headings(void **state)
{
	(void)state;
	expect("<h1>One</h1><h2>Two</h2><h3>Three</h3><h4>4</h4><h5>5</h5><h6>Six</h6><p>x</p>",
	       "# One\n\n## Two\n\n### Three\n\n#### 4\n\n##### 5\n\n###### Six\n\nx");
	/* A heading stays on one line; an empty one leaves nothing. */
	expect("<h3>a<br>b<div>c</div></h3><h2> </h2><p>x</p>", "### a b c\n\nx");
	expect("<p>before</p><h1>Hello <b>World</b></h1>after", "before\n\n# Hello **World**\n\nafter");
}

static void test_paragraphs(void **state)
{
	(void)state;
	expect("<p>one</p><div>two</div><section><article>three</article></section><p>four",
	       "one\n\ntwo\n\nthree\n\nfour");
	/* never more than one blank line, none leading or trailing */
	expect("<div><div><p></p><p>a</p></div></div><div></div><p></p><p>b</p><div></div>",
	       "a\n\nb");
	expect("<p>a<br>b<br><br>c<br><br><br>d</p>", "a\nb\n\nc\n\nd");
	expect("<p>a</p><hr><p>b</p>", "a\n\n---\n\nb");
	expect("<dl><dt>Term</dt><dd>Def</dd></dl><p>x</p>", "Term\nDef\n\nx");
}

static void test_blockquote(void **state)
{
	(void)state;
	expect("<p>x</p><blockquote><p>q1</p><p>q2</p></blockquote><p>y</p>",
	       "x\n\n> q1\n>\n> q2\n\ny");
	expect("<blockquote>a<blockquote>b</blockquote>c</blockquote>", "> a\n>\n> > b\n>\n> c");
}

static void test_lists(void **state)
{
	(void)state;
	expect("<p>x</p><ul><li>one</li><li>two</li></ul><p>y</p>", "x\n\n- one\n- two\n\ny");
	expect("<ul><li>one</li><li>two<ul><li>two.a</li><li>two.b<ul><li>deep</li></ul></li>"
	       "</ul></li><li>three</li></ul>",
	       "- one\n- two\n  - two.a\n  - two.b\n    - deep\n- three");
	/* unclosed <li> (implied ends), block content in an item, empty items */
	expect("<ul><li>a<li>b<li></ul>", "- a\n- b");
	expect("<ul><li><p>para</p><p>more</p></li><li>b</li></ul>", "- para\n  more\n- b");
	/* an item whose first content is a nested list */
	expect("<ul><li><ul><li>inner</li></ul></li></ul>", "  - inner");
}

static void test_ordered_lists(void **state)
{
	(void)state;
	expect("<ol><li>a</li><li>b</li><li>c</li></ol>", "1. a\n2. b\n3. c");
	expect("<ol start=\"7\"><li>a</li><li>b</li></ol>", "7. a\n8. b");
	expect("<ol><li>a<ul><li>x</li><li>y</li></ul></li><li>b<ol><li>p</li></ol></li></ol>",
	       "1. a\n  - x\n  - y\n2. b\n  1. p");
	/* numbering restarts per list and resumes after a nested one */
	expect("<ol><li>a<ol><li>i</li><li>ii</li></ol></li><li>b</li></ol><ol><li>c</li></ol>",
	       "1. a\n  1. i\n  2. ii\n2. b\n\n1. c");
	expect("<ol start=\"zz\"><li>a</li></ol>", "1. a");
}

static void test_links(void **state)
{
	(void)state;
	const char *base = "https://ex.com/dir/page.html?q=1";

	expect_base("<a href=\"https://other.org/x\">abs</a>", base, "[abs](https://other.org/x)");
	expect_base("<a href=\"sub/y.html\">rel</a> <a href=\"/root\">root</a> "
		    "<a href=\"../up\">up</a> <a href=\"//cdn.net/z\">proto</a> "
		    "<a href=\"#frag\">frag</a>",
		    base,
		    "[rel](https://ex.com/dir/sub/y.html) [root](https://ex.com/root) "
		    "[up](https://ex.com/up) [proto](https://cdn.net/z) "
		    "[frag](https://ex.com/dir/page.html?q=1#frag)");
	/* without a base URL, relative links stay as written */
	expect("<a href=\"sub/y.html\">rel</a>", "[rel](sub/y.html)");
	/* javascript:, vbscript: and data: keep only the text, however spelt */
	expect_base("<p><a href=\"javascript:alert(1)\">js</a> <a href=\" JavaScript:x\">JS</a> "
		    "<a href=\"java&#10;script:x\">nl</a> <a href=\"vbscript:x\">vb</a> "
		    "<a href=\"data:text/html,x\">data</a> <a href=\"\">empty</a> "
		    "<a name=\"anchor\">named</a></p>",
		    base, "js JS nl vb data empty named");
	/* a link without text is left out; an image gives it its alt text */
	expect_base("<p>a<a href=\"/e\"></a>b <a href=\"/e\"> </a>c <a href=\"/i\"><img "
		    "src=\"i.png\" alt=\"Pic\"></a></p>",
		    base, "ab c [Pic](https://ex.com/i)");
	/* entities in href decoded; space and parentheses percent-encoded */
	expect_base("<a href=\"/s?a=1&amp;b=2\">q</a> <a href=\"a b(c).html\">sp</a>", base,
		    "[q](https://ex.com/s?a=1&b=2) [sp](https://ex.com/dir/a%20b%28c%29.html)");
	/* <base href> wins over the page URL, resolved against it */
	expect_base("<head><base href=\"/sub/\"></head><a href=\"x\">x</a>", base,
		    "[x](https://ex.com/sub/x)");
	/* markup inside link text */
	expect_base("<a href=\"/b\"><b>bold</b> link</a>", base, "[**bold** link](https://ex.com/b)");
}

static void test_dropped(void **state)
{
	(void)state;
	expect("<head><script>var h=1;</script><style>p{}</style></head><body>"
	       "<script>alert('x')</script>a<style>.c{color:red}</style>b"
	       "<noscript>enable js</noscript>c<template><p>tpl</p></template>d"
	       "<svg><text>vector</text></svg>e<iframe src=\"x\">frame</iframe>f"
	       "<!-- a comment -->g<object>obj</object><embed src=x>h<canvas>cv</canvas>i"
	       "<form><input value=\"in\"><select><option>opt</option></select>"
	       "<button>btn</button><textarea>ta</textarea><label>lbl</label></form></body>",
	       "abcdefghi\n\nlbl");
	/* void elements libxml2 does not know must not take what follows */
	expect("<p>a<embed src=\"x\">b<wbr>c<picture><source srcset=\"s\"><img alt=\"pic\">"
	       "</picture>d<video><source src=\"v\"><track src=\"t\">no video</video>e</p>",
	       "abcpicde");
}

static void test_entities(void **state)
{
	(void)state;
	expect("<p>a &amp; b &lt; c &gt; d &#x263A; e&nbsp;f &eacute; &#233; &quot;q&quot;</p>",
	       "a & b < c > d \xe2\x98\xba e\xc2\xa0" "f \xc3\xa9 \xc3\xa9 \"q\"");
}

static void test_whitespace(void **state)
{
	(void)state;
	expect("<p>  a \n\t b   c  </p>\n\n  <p>\n d\n</p>", "a b c\n\nd");
	expect("<p><b>a</b> <i>b</i></p>", "**a** *b*");
	expect("<p>x<b> y </b>z</p>", "x **y** z");
	expect("<p>x <b>y</b>, <span>z</span></p>", "x **y**, z");
	/* empty inline elements leave nothing (icon fonts) */
	expect("<p><i class=\"icon\"></i>text<b> </b>more</p>", "text more");
}

static void test_inline_markup(void **state)
{
	(void)state;
	expect("<p><strong>s</strong> <em>e</em> <code>int x;</code> <kbd>k</kbd></p>",
	       "**s** *e* `int x;` `k`");
	/* no repeated markers for nested same-kind elements, none inside code */
	expect("<p><b>a<b>b</b></b> <code>x <b>y</b></code> <em><strong>both</strong></em></p>",
	       "**ab** `x y` ***both***");
	expect("<p>a<img src=\"x.png\" alt=\"Logo\">b <img src=\"y.png\"></p>", "aLogob");
}

static void test_pre(void **state)
{
	(void)state;
	expect("<p>x</p><pre>\n  a  b\n\n\tc &lt;tag&gt;\n</pre><p>y</p>",
	       "x\n\n```\n  a  b\n\n\tc <tag>\n```\n\ny");
	/* markup inside pre: text only, <br> is a newline */
	expect("<pre><b>bold</b> <a href=\"/x\">l</a><br>line2</pre>", "```\nbold l\nline2\n```");
	expect("<pre></pre><p>x</p>", "x");
	expect("<blockquote><pre>a\n\nb</pre></blockquote>", "> ```\n> a\n>\n> b\n> ```");
}

static void test_tables(void **state)
{
	(void)state;
	expect("<p>x</p><table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr>"
	       "</table><p>y</p>",
	       "x\n\nA | B\n1 | 2\n\ny");
	expect("<table><thead><tr><th>A</th><th>B</th><th>C</th></tr></thead><tbody>"
	       "<tr><td>1</td><td></td><td>3</td></tr><tr><td>4</td><td>5</td><td></td></tr>"
	       "</tbody></table>",
	       "A | B | C\n1 | | 3\n4 | 5 |");
	/* blocks and breaks inside a cell keep the row on one line */
	expect("<table><tr><td><p>a</p><p>b</p></td><td>c<br>d</td></tr></table>", "a b | c d");
}

static void test_title(void **state)
{
	char *title = NULL, *out;
	const char *page = "<html><head><title>\n  My   Page &amp; Co \n</title></head>"
			   "<body><p>text</p></body></html>";

	(void)state;
	out = conv(page, strlen(page), NULL, BIG, &title, NULL);
	assert_string_equal(out, "text");
	assert_non_null(title);
	assert_string_equal(title, "My Page & Co");
	free(out);
	free(title);

	/* title == NULL skips it */
	out = conv(page, strlen(page), NULL, BIG, NULL, NULL);
	assert_string_equal(out, "text");
	free(out);

	/* no title, or an empty one: NULL */
	title = (char *)1;
	out = conv("<p>x</p>", 8, NULL, BIG, &title, NULL);
	assert_null(title);
	free(out);
	page = "<title>  </title><p>x</p>";
	out = conv(page, strlen(page), NULL, BIG, &title, NULL);
	assert_null(title);
	free(out);

	/* a title outside <head> still counts, and is not body text */
	page = "<body><p>a</p><title>Late</title><p>b</p></body>";
	out = conv(page, strlen(page), NULL, BIG, &title, NULL);
	assert_string_equal(out, "a\n\nb");
	assert_string_equal(title, "Late");
	free(out);
	free(title);

	/* a long title is cut (at 1 KiB, on a character boundary) */
	{
		size_t len;
		char *t = repeat("\xc3\xa9", 3000, "</title><p>x</p>", &len);
		char *long_page = malloc(len + 8);

		assert_non_null(long_page);
		memcpy(long_page, "<title>", 7);
		memcpy(long_page + 7, t, len + 1);
		out = conv(long_page, len + 7, NULL, BIG, &title, NULL);
		assert_string_equal(out, "x");
		assert_int_equal(strlen(title), 1024);
		assert_true(valid_utf8((const unsigned char *)title, strlen(title)));
		free(out);
		free(title);
		free(long_page);
		free(t);
	}
}

static void test_invalid_utf8(void **state)
{
	static const char page[] = "<p>a\xff" "b\xc3(c \xed\xa0\x80 d\xf8 e\xc3\xa9</p>";
	static const char nul[] = "<p>x\0y</p>";
	char *out;
	size_t n;

	(void)state;
	out = conv(page, sizeof(page) - 1, NULL, BIG, NULL, &n);
	assert_string_equal(out, "a\xef\xbf\xbd" "b\xef\xbf\xbd(c \xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
				 " d\xef\xbf\xbd e\xc3\xa9");
	assert_true(valid_utf8((const unsigned char *)out, n));
	free(out);
	/* NUL in the page is a character like any invalid one */
	out = conv(nul, sizeof(nul) - 1, NULL, BIG, NULL, NULL);
	assert_string_equal(out, "x\xef\xbf\xbdy");
	free(out);
	/* a truncated sequence at the very end */
	out = conv("<p>z\xe2\x98", 6, NULL, BIG, NULL, NULL);
	assert_string_equal(out, "z\xef\xbf\xbd\xef\xbf\xbd");
	free(out);
}

static void test_charset(void **state)
{
	static const char latin1[] = "<html><head><meta charset=\"iso-8859-1\"><title>T\xe9</title>"
				     "</head><body><p>caf\xe9</p></body></html>";
	static const char cp1252[] = "<meta http-equiv=\"Content-Type\" "
				     "content=\"text/html; charset=windows-1252\"><p>\x93q\x94 \x80</p>";
	static const char iso15[] = "<meta charset='ISO-8859-15'><p>\xa4 5</p>";
	static const char utf16le[] = "\xff\xfe<\0p\0>\0h\0i\0\xe9\0";
	static const char utf8bom[] = "\xef\xbb\xbf<p>caf\xc3\xa9</p>";
	static const char bogus[] = "<meta charset=\"x-no-such\"><p>caf\xc3\xa9</p>";
	static const char utf8decl[] = "<meta charset=utf-8><p>caf\xe9</p>";
	static const char commented[] = "<!-- <meta charset=iso-8859-1> --><p>caf\xc3\xa9</p>";
	char *title = NULL, *out;

	(void)state;
	out = conv(latin1, sizeof(latin1) - 1, NULL, BIG, &title, NULL);
	assert_string_equal(out, "caf\xc3\xa9");
	assert_string_equal(title, "T\xc3\xa9");
	free(out);
	free(title);
	out = conv(cp1252, sizeof(cp1252) - 1, NULL, BIG, NULL, NULL);
	assert_string_equal(out, "\xe2\x80\x9cq\xe2\x80\x9d \xe2\x82\xac");
	free(out);
	out = conv(iso15, sizeof(iso15) - 1, NULL, BIG, NULL, NULL); /* through iconv */
	assert_string_equal(out, "\xe2\x82\xac 5");
	free(out);
	out = conv(utf16le, sizeof(utf16le) - 1, NULL, BIG, NULL, NULL);
	assert_string_equal(out, "hi\xc3\xa9");
	free(out);
	out = conv(utf8bom, sizeof(utf8bom) - 1, NULL, BIG, NULL, NULL);
	assert_string_equal(out, "caf\xc3\xa9");
	free(out);
	out = conv(bogus, sizeof(bogus) - 1, NULL, BIG, NULL, NULL); /* unknown: UTF-8 */
	assert_string_equal(out, "caf\xc3\xa9");
	free(out);
	out = conv(utf8decl, sizeof(utf8decl) - 1, NULL, BIG, NULL, NULL);
	assert_string_equal(out, "caf\xef\xbf\xbd");
	free(out);
	out = conv(commented, sizeof(commented) - 1, NULL, BIG, NULL, NULL);
	assert_string_equal(out, "caf\xc3\xa9");
	free(out);
}

static void test_truncation(void **state)
{
	/* "h" "é" "llo ☺ x" */
	static const char page[] = "<p>h\xc3\xa9llo \xe2\x98\xba x</p>";
	static const char full[] = "h\xc3\xa9llo \xe2\x98\xba x";
	char *out;
	size_t n;

	(void)state;
	out = conv(page, sizeof(page) - 1, NULL, 2, NULL, &n); /* é would end at 3 */
	assert_string_equal(out, "h");
	free(out);
	out = conv(page, sizeof(page) - 1, NULL, 3, NULL, &n);
	assert_string_equal(out, "h\xc3\xa9");
	free(out);
	out = conv(page, sizeof(page) - 1, NULL, 0, NULL, &n);
	assert_string_equal(out, "");
	assert_int_equal(n, 0);
	free(out);
	/* every bound gives the longest whole-character prefix of the text */
	for (size_t max = 0; max <= sizeof(full) + 2; max++) {
		size_t want = max < sizeof(full) - 1 ? max : sizeof(full) - 1;

		while (want > 0 && want < sizeof(full) - 1 && ((unsigned char)full[want] & 0xC0) == 0x80)
			want--;
		out = conv(page, sizeof(page) - 1, NULL, max, NULL, &n);
		assert_int_equal(n, want);
		assert_memory_equal(out, full, n);
		assert_true(valid_utf8((const unsigned char *)out, n));
		free(out);
	}
}

/* A long page cut early: bounded output, the walk stops. */
static void test_truncation_big_page(void **state)
{
	size_t cap = 4u << 20, len = 0, n;
	char *page = malloc(cap), *out;

	(void)state;
	assert_non_null(page);
	while (len + 64 < cap)
		len += (size_t)snprintf(page + len, cap - len, "<p>\xc3\xa9t\xc3\xa9 %zu</p>", len);
	out = conv(page, len, NULL, 1001, NULL, &n);
	assert_true(n <= 1001 && n > 990);
	assert_true(valid_utf8((const unsigned char *)out, n));
	assert_memory_equal(out, "\xc3\xa9t\xc3\xa9 0\n\n", 9);
	free(out);
	free(page);
}

static void test_deep_nesting(void **state)
{
	size_t len;
	char *page, *out, *pre;
	double t0;

	(void)state;
	/* 100,000 nested <div>s: no crash, quick. libxml2 stops building the
	 * tree at depth 256, so the text below that is not there to convert. */
	page = repeat("<div>", 100000, "deep", &len);
	t0 = now_s();
	out = conv(page, len, NULL, BIG, NULL, NULL);
	assert_true(now_s() - t0 < 5.0);
	free(out);
	free(page);

	/* text before the deep part survives */
	pre = repeat("<b><i><span><blockquote><ul><li><a href=\"/x\">", 30000, "deep", &len);
	page = malloc(len + 32);
	assert_non_null(page);
	memcpy(page, "<p>before</p>", 13);
	memcpy(page + 13, pre, len + 1);
	t0 = now_s();
	out = conv(page, len + 13, "https://ex.com/", BIG, NULL, NULL);
	assert_true(now_s() - t0 < 5.0);
	assert_true(strncmp(out, "before", 6) == 0);
	free(out);
	free(page);
	free(pre);

	/* as deep as libxml2 goes, every formatting element at once */
	page = repeat("<blockquote><ol><li><b>x", 60, "end", &len);
	out = conv(page, len, NULL, BIG, NULL, NULL);
	assert_non_null(strstr(out, "end"));
	free(out);
	free(page);
}

static void test_empty(void **state)
{
	char *title = (char *)1, *out;
	size_t n = 99;

	(void)state;
	out = conv("", 0, NULL, BIG, &title, &n);
	assert_string_equal(out, "");
	assert_int_equal(n, 0);
	assert_null(title);
	free(out);
	out = conv(NULL, 0, NULL, BIG, NULL, NULL);
	assert_string_equal(out, "");
	free(out);
	expect("   \n\t ", "");
	expect("<!-- only a comment -->", "");
	expect("<html><head></head><body></body></html>", "");
	expect("<script>only()</script>", "");
}

static void test_malformed(void **state)
{
	(void)state;
	expect("<div><p>unclosed <b>bold <i>it<p>next</div>after",
	       "unclosed **bold *it***\n\nnext\n\nafter");
	expect("<p>a</b>b</i>c</p></div></span>d", "abc\n\nd");
	expect("<p>x <<>> y</p>", "x <<>> y");
	expect("<a href=\"/x\">link at EOF", "[link at EOF](/x)");
	expect("<p>tag <b", "tag");
	expect("<table><td>a<td>b<tr><td>c</table>", "a | b\nc");
	expect("</p></p>text<p", "text");
}

static void test_args(void **state)
{
	struct moat_err err = {0};
	char *out = (char *)1;
	size_t n = 5;

	(void)state;
	assert_int_equal(htext_convert("<p>x</p>", 8, NULL, 10, NULL, NULL, &n, NULL, &err), MOAT_EINVAL);
	assert_int_equal(err.rc, MOAT_EINVAL);
	assert_int_equal(htext_convert("<p>x</p>", 8, NULL, 10, NULL, &out, NULL, NULL, &err),
			 MOAT_EINVAL);
	assert_null(out);
	assert_int_equal(htext_convert(NULL, 3, NULL, 10, NULL, &out, &n, NULL, NULL), MOAT_EINVAL);
	assert_null(out);
	assert_int_equal(n, 0);
}

/* A realistic 1 MB page converts in bounded time (a few ms optimised;
 * the bound here allows for the sanitizers). */
static void test_big_page(void **state)
{
	static const char unit[] =
		"<div class=\"post\"><h2>Post title</h2><p>Lorem ipsum dolor sit amet, "
		"<a href=\"/p/1\">consectetur</a> adipiscing elit, sed do <b>eiusmod</b> tempor "
		"&amp; incididunt.</p><ul><li>one</li><li>two</li></ul><table><tr><td>a</td>"
		"<td>b</td></tr></table><script>var x = 1;</script></div>\n";
	size_t len, n;
	char *page = repeat(unit, (1u << 20) / (sizeof(unit) - 1) + 1, "", &len), *out;
	double t0 = now_s();

	(void)state;
	out = conv(page, len, "https://ex.com/", 64u << 20, NULL, &n);
	assert_true(now_s() - t0 < 5.0);
	assert_true(n > len / 3);
	assert_memory_equal(out, "## Post title\n\nLorem ipsum dolor sit amet, "
				 "[consectetur](https://ex.com/p/1) adipiscing elit, sed do "
				 "**eiusmod** tempor & incididunt.\n\n- one\n- two\n\na | b\n\n## ",
			    150);
	free(out);
	free(page);
}

/* Conversions in parallel share nothing: each thread gets the same text. */
static const char thread_page[] =
	"<html><head><meta charset=\"iso-8859-15\"><title>T</title></head><body>"
	"<h1>H\xe9</h1><ol><li>a <a href=\"x\">l</a></li><li>\xa4</li></ol>"
	"<table><tr><td>1</td><td>2</td></tr></table><pre>p</pre></body></html>";
static const char thread_want[] = "# H\xc3\xa9\n\n1. a [l](https://ex.com/x)\n2. \xe2\x82\xac\n\n"
				  "1 | 2\n\n```\np\n```";

static void *thread_main(void *arg)
{
	int *ok = arg;

	*ok = 1;
	for (int i = 0; i < 200; i++) {
		char *out = NULL, *title = NULL;
		size_t n;

		if (htext_convert(thread_page, sizeof(thread_page) - 1, "https://ex.com/", BIG, NULL, &out,
				  &n, &title, NULL) != MOAT_OK ||
		    strcmp(out, thread_want) != 0 || !title || strcmp(title, "T") != 0)
			*ok = 0;
		free(out);
		free(title);
	}
	return NULL;
}

static void test_threads(void **state)
{
	pthread_t th[4];
	int ok[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, thread_main, &ok[i]), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(ok[i], 1);
	}
}

/* The walk checks the call: a cancelled or expired call stops it with the
 * call's error, nothing half-written is returned. */
static void test_walk_checks_the_call(void **state)
{
	struct moat_err err = {0};
	struct call_ctx ctx;
	size_t len, n = 0;
	char *page = repeat("<p>x</p>", 5000, "", &len), *out = NULL;

	(void)state;
	callctx_init(&ctx, "t", 0, 1 << 20);
	assert_int_equal(htext_convert(page, len, NULL, 1 << 20, &ctx, &out, &n, NULL, &err),
			 MOAT_OK);
	assert_true(n > 5000);
	free(out);
	callctx_cancel(&ctx);
	assert_int_equal(htext_convert(page, len, NULL, 1 << 20, &ctx, &out, &n, NULL, &err),
			 MOAT_ECANCELLED);
	assert_null(out);
	callctx_release(&ctx);
	callctx_init(&ctx, "t", 1, 1 << 20);
	struct timespec ts = {0, 5000000};
	nanosleep(&ts, NULL);
	assert_int_equal(htext_convert(page, len, NULL, 1 << 20, &ctx, &out, &n, NULL, &err),
			 MOAT_ETIMEOUT);
	assert_null(out);
	callctx_release(&ctx);
	free(page);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_checks_the_call),
		cmocka_unit_test(test_headings),
		cmocka_unit_test(test_paragraphs),
		cmocka_unit_test(test_blockquote),
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_ordered_lists),
		cmocka_unit_test(test_links),
		cmocka_unit_test(test_dropped),
		cmocka_unit_test(test_entities),
		cmocka_unit_test(test_whitespace),
		cmocka_unit_test(test_inline_markup),
		cmocka_unit_test(test_pre),
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_title),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_charset),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_truncation_big_page),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_big_page),
		cmocka_unit_test(test_threads),
	};

	xmlInitParser();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
