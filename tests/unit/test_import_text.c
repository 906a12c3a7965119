/*
 * test_import_text.c - unit tests for src/import/import_text.c: every
 * class of character import_text removes (controls, DEL, C1, zero-width,
 * bidi overrides and isolates, soft hyphen and other format characters,
 * tag characters, private use, noncharacters, invalid UTF-8 of each kind),
 * what it keeps (printable text in any script, emoji), the layout (tabs,
 * CR, blank-line folding, trimming, one_line) and the cut at a UTF-8
 * boundary with "…", including on a large input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "import/import_text.h"

static void expect(const char *in, size_t max, bool one_line, const char *want)
{
	char *got = import_text(in, max, one_line);
	assert_non_null(got);
	if (strcmp(got, want) != 0)
		fail_msg("import_text(\"%s\", %zu, %d)\nwant \"%s\"\ngot  \"%s\"", in ? in : "(null)", max, one_line,
			 want, got);
	free(got);
}

#define KEEP(s) expect((s), 1000, false, (s))

static void test_plain(void **state)
{
	(void)state;
	KEEP("Get a contact by id.");
	KEEP("Caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
	KEEP("emoji \xf0\x9f\x98\x80 and \xe2\x80\xa6"); /* U+1F600, U+2026 */
	KEEP("a\nb");
	KEEP("nbsp\xc2\xa0kept"); /* U+00A0 is visible spacing */
	expect(NULL, 10, false, "");
	expect("", 10, false, "");
	expect("   \n\t \n", 10, false, "");
}

static void test_controls(void **state)
{
	(void)state;
	expect("a\x01\x02\x1b[31mb\x7f" "c", 100, false, "a[31mbc");
	expect("tab\there", 100, false, "tab here");
	expect("cr\r\nlf", 100, false, "cr\nlf");
	expect("nul-free \x08\x0b\x0c" "end", 100, false, "nul-free end");
	/* C1 controls, NEL (U+0085) and CSI (U+009B) among them. */
	expect("c1\xc2\x85\xc2\x9b" "x\xc2\x80", 100, false, "c1x");
}

static void test_invisible(void **state)
{
	(void)state;
	/* Zero-width: U+200B..U+200D, U+2060 word joiner, U+FEFF BOM. */
	expect("ze\xe2\x80\x8bro\xe2\x80\x8c-\xe2\x80\x8dw\xe2\x81\xa0i\xef\xbb\xbf" "dth", 100, false,
	       "zero-width");
	/* LRM/RLM (U+200E/F), Arabic letter mark (U+061C). */
	expect("m\xe2\x80\x8e" "a\xe2\x80\x8fr\xd8\x9ck", 100, false, "mark");
	/* Bidi embeddings and overrides U+202A..U+202E. */
	expect("\xe2\x80\xaa" "a\xe2\x80\xab" "b\xe2\x80\xac" "c\xe2\x80\xad" "d\xe2\x80\xae" "e", 100,
	       false, "abcde");
	/* Isolates U+2066..U+2069. */
	expect("\xe2\x81\xa6" "i\xe2\x81\xa7s\xe2\x81\xa8o\xe2\x81\xa9", 100, false, "iso");
	/* Soft hyphen, Mongolian vowel separator, invisible times (U+2062). */
	expect("so\xc2\xad" "ft\xe1\xa0\x8e" "x\xe2\x81\xa2y", 100, false, "softxy");
	/* Interlinear annotation U+FFF9..U+FFFB. */
	expect("a\xef\xbf\xb9" "b\xef\xbf\xbb", 100, false, "ab");
}

static void test_tags_private(void **state)
{
	(void)state;
	/* Tag characters U+E0000..U+E007F: "ignore previous" hidden in tags. */
	expect("ok\xf3\xa0\x80\x81\xf3\xa0\x81\xa9\xf3\xa0\x81\xa7\xf3\xa0\x81\xbf", 100, false, "ok");
	/* Private use: U+E000, U+F8FF, U+F0000, U+10FFFD. */
	expect("p\xee\x80\x80u\xef\xa3\xbf" "a\xf3\xb0\x80\x80" "b\xf4\x8f\xbf\xbd", 100, false,
	       "puab");
	/* Noncharacters: U+FDD0, U+FFFE, U+FFFF, U+1FFFE. */
	expect("n\xef\xb7\x90o\xef\xbf\xbe" "c\xef\xbf\xbfh\xf0\x9f\xbf\xbe", 100, false, "noch");
	/* Variation selectors (U+FE0F) are ordinary: kept. */
	KEEP("\xe2\x9d\xa4\xef\xb8\x8f");
}

static void test_invalid_utf8(void **state)
{
	(void)state;
	expect("a\xff" "b\xfe" "c", 100, false, "abc");           /* never valid */
	expect("a\x80" "b\xbf" "c", 100, false, "abc");           /* lone continuation */
	expect("a\xc3" "b", 100, false, "ab");                     /* truncated */
	expect("a\xe2\x80" "b", 100, false, "ab");                 /* cut 3-byte */
	expect("x\xc0\xaf" "y", 100, false, "xy");                 /* overlong '/' */
	expect("x\xe0\x80\xaf" "y", 100, false, "xy");             /* overlong, 3 bytes */
	expect("x\xf0\x80\x80\xaf" "y", 100, false, "xy");         /* overlong, 4 bytes */
	expect("x\xed\xa0\x80" "y", 100, false, "xy");             /* surrogate U+D800 */
	expect("x\xf4\x90\x80\x80" "y", 100, false, "xy");         /* past U+10FFFF */
	expect("\xe2\x80\xae\xc3", 100, false, "");                /* nothing left */
}

static void test_layout(void **state)
{
	(void)state;
	expect("  lead and trail  \n\n", 100, false, "lead and trail");
	expect("a  \nb", 100, false, "a\nb"); /* trailing space of a line */
	expect("para 1\n\n\n\n\npara 2\n \n\t\n\npara 3", 100, false, "para 1\n\npara 2\n\npara 3");
	expect("list:\n  - one\n  - two", 100, false, "list:\n  - one\n  - two");
	/* U+2028/U+2029 are line ends. */
	expect("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c", 100, false, "a\nb\nc");
	/* One line: newlines and runs of space become one space. */
	expect("Get\n\n  a   contact\r\n", 100, true, "Get a contact");
	/* Blank lines made only of removed characters still fold. */
	expect("a\n\xe2\x80\x8b\n\xe2\x80\xae\n\nb", 100, false, "a\n\nb");
}

static void test_cut(void **state)
{
	(void)state;
	expect("abcdef", 6, false, "abcdef");
	expect("abcdefg", 6, false, "abcdef\xe2\x80\xa6");
	/* Never inside a character: "é" is 2 bytes, 3 + 2 > 4. */
	expect("abc\xc3\xa9" "d", 4, false, "abc\xe2\x80\xa6");
	expect("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 7, false, "\xe6\x97\xa5\xe6\x9c\xac\xe2\x80\xa6");
	/* No trailing space before the ellipsis. */
	expect("one two three", 8, false, "one two\xe2\x80\xa6");
	expect("one\n\ntwo", 4, false, "one\xe2\x80\xa6");
	/* Removed characters do not count towards max. */
	expect("a\xe2\x80\x8b\xe2\x80\x8b\xe2\x80\x8b" "bc", 3, false, "abc");
	expect("abc", 0, false, "\xe2\x80\xa6");
}

/* A large input cut to a small bound: linear, and cut early. */
static void test_large(void **state)
{
	size_t n = 8u << 20;
	char *big = malloc(n + 1);
	struct timespec t0, t1;
	char *got;

	(void)state;
	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (i % 3 == 2) ? ' ' : 'x';
	big[n] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	got = import_text(big, 300, false);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_non_null(got);
	assert_int_equal(strlen(got), 299 + 3); /* "xx xx ... xx" cut before a space */
	assert_string_equal(got + strlen(got) - 3, "\xe2\x80\xa6");
	free(got);
	/* All invisible: the whole input is read, nothing kept. */
	for (size_t i = 0; i + 3 <= n; i += 3)
		memcpy(big + i, "\xe2\x80\x8b", 3);
	big[n - n % 3] = '\0';
	got = import_text(big, 300, false);
	assert_string_equal(got, "");
	free(got);
	free(big);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000.0 + (t1.tv_nsec - t0.tv_nsec) / 1e6 < 500.0);
}

static void test_clean(void **state)
{
	(void)state;
	assert_true(import_text_clean(NULL, 10));
	assert_true(import_text_clean("", 10));
	assert_true(import_text_clean("active", 10));
	assert_true(import_text_clean("caf\xc3\xa9", 10));
	assert_false(import_text_clean("active", 5));              /* over the cap */
	assert_false(import_text_clean("act\xe2\x80\xaeive", 64));  /* RLO override */
	assert_false(import_text_clean("a\xe2\x80\x8b", 64));       /* zero-width space */
	assert_false(import_text_clean("a\x1b[31mred", 64));        /* ANSI escape */
	assert_false(import_text_clean("a\nb", 64));                /* newline */
	assert_false(import_text_clean("a\xff", 64));               /* invalid UTF-8 */
	assert_false(import_text_clean("\xf3\xa0\x80\x81", 64));     /* tag character */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_plain),	     cmocka_unit_test(test_controls),
		cmocka_unit_test(test_invisible),    cmocka_unit_test(test_tags_private),
		cmocka_unit_test(test_invalid_utf8), cmocka_unit_test(test_layout),
		cmocka_unit_test(test_cut),	     cmocka_unit_test(test_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
