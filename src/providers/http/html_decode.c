/*
 * html_decode.c - step 1 of html_text.c: a page in whatever encoding it
 * declares turned into valid UTF-8 before libxml2 sees it (see
 * html_text.c's opening comment for the rules: BOM, <meta charset> in the
 * first 64 KiB, windows-1252 natively, iconv for the rest, U+FFFD for every
 * undecodable byte and NUL). Linear in the page; no recursion.
 */
#include "html_decode.h"

#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define HTEXT_SNIFF_MAX (64 * 1024) /* bytes searched for <meta charset> */
#define HTEXT_LABEL_MAX 40          /* longest charset label accepted */

static const char htext_fffd[] = "\xEF\xBF\xBD";

/* ---- UTF-8 ---------------------------------------------------------- */

/* htext_utf8_seq - length (1..4) of the valid UTF-8 sequence at s[0..n),
 * or 0 when s starts with an invalid or truncated one. NUL counts as
 * invalid so that it becomes U+FFFD (libxml2 would end text there). */
size_t htext_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	unsigned char lo = 0x80, hi = 0xBF;
	size_t len;

	if (c >= 0x01 && c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F; /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F; /* nothing above U+10FFFF */
	} else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}


/* ---- decoding ------------------------------------------------------- */

enum htext_enc { HTEXT_UTF8, HTEXT_1252, HTEXT_ICONV };

static bool htext_is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static bool htext_label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == ':' || c == '-';
}

static bool htext_ci_prefix(const char *s, size_t n, const char *lit)
{
	size_t k = strlen(lit);

	return n >= k && strncasecmp(s, lit, k) == 0;
}

/* htext_sniff - the charset label of the first <meta> that declares one in
 * s[0..n) (comments skipped) into label; false when there is none. */
static bool htext_sniff(const char *s, size_t n, char label[HTEXT_LABEL_MAX + 1])
{
	size_t i = 0;

	if (n > HTEXT_SNIFF_MAX)
		n = HTEXT_SNIFF_MAX;
	while (i < n) {
		const char *lt = memchr(s + i, '<', n - i), *gt;
		size_t end;

		if (!lt)
			break;
		i = (size_t)(lt - s);
		if (htext_ci_prefix(s + i, n - i, "<!--")) {
			const char *close = memmem(s + i + 4, n - i - 4, "-->", 3);

			if (!close)
				break;
			i = (size_t)(close - s) + 3;
			continue;
		}
		if (!htext_ci_prefix(s + i, n - i, "<meta") || i + 5 >= n ||
		    !(htext_is_space((unsigned char)s[i + 5]) || s[i + 5] == '/')) {
			i++;
			continue;
		}
		gt = memchr(s + i, '>', n - i);
		end = gt ? (size_t)(gt - s) : n;
		for (size_t at = i + 5; at + 7 <= end; at++) {
			size_t k = at + 7, m = 0;

			if (strncasecmp(s + at, "charset", 7) != 0)
				continue;
			while (k < end && htext_is_space((unsigned char)s[k]))
				k++;
			if (k >= end || s[k] != '=')
				continue;
			k++;
			while (k < end && (htext_is_space((unsigned char)s[k]) || s[k] == '"' ||
					   s[k] == '\''))
				k++;
			while (k < end && m < HTEXT_LABEL_MAX && htext_label_char(s[k]))
				label[m++] = s[k++];
			label[m] = '\0';
			if (m > 0)
				return true;
		}
		i = end;
	}
	return false;
}

/* htext_classify - which decoder a declared label needs. Any UTF or UCS
 * label means UTF-8: per the HTML standard a <meta> that says UTF-16 means
 * UTF-8 (the page could not be read as ASCII to find it otherwise), and
 * UTF-7/UTF-32 are not web encodings. Latin-1 and ASCII mean
 * windows-1252. */
static enum htext_enc htext_classify(const char *label)
{
	static const char *const w1252[] = {"windows-1252", "cp1252", "x-cp1252", "iso-8859-1",
					    "iso8859-1", "iso_8859-1", "iso88591", "latin1", "l1",
					    "us-ascii", "ascii", "ansi_x3.4-1968", "cp819", "ibm819",
					    "iso-ir-100", "csisolatin1", "iso_8859-1:1987"};

	if (strncasecmp(label, "utf", 3) == 0 || strncasecmp(label, "ucs", 3) == 0 ||
	    strncasecmp(label, "unicode", 7) == 0 || strcasecmp(label, "x-unicode20utf8") == 0)
		return HTEXT_UTF8;
	for (size_t i = 0; i < sizeof(w1252) / sizeof(w1252[0]); i++)
		if (strcasecmp(label, w1252[i]) == 0)
			return HTEXT_1252;
	return HTEXT_ICONV;
}

/* windows-1252 bytes 0x80..0x9F (the rest is Latin-1); holes keep the C1
 * code point, as the WHATWG table does. */
static const uint16_t htext_w1252[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
	0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
	0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static enum moat_rc htext_from_1252(const unsigned char *in, size_t n, char **out, size_t *out_len)
{
	char *p;
	size_t o = 0;

	if (n > (SIZE_MAX - 1) / 3 || !(p = malloc(3 * n + 1)))
		return MOAT_ENOMEM;
	for (size_t i = 0; i < n; i++) {
		unsigned cp = in[i] >= 0x80 && in[i] < 0xA0 ? htext_w1252[in[i] - 0x80] : in[i];

		if (cp < 0x80)
			p[o++] = (char)cp;
		else if (cp < 0x800) {
			p[o++] = (char)(0xC0 | cp >> 6);
			p[o++] = (char)(0x80 | (cp & 0x3F));
		} else {
			p[o++] = (char)(0xE0 | cp >> 12);
			p[o++] = (char)(0x80 | ((cp >> 6) & 0x3F));
			p[o++] = (char)(0x80 | (cp & 0x3F));
		}
	}
	*out = p;
	*out_len = o;
	return MOAT_OK;
}

/* htext_from_iconv - in[0..n) from charset label to UTF-8, undecodable
 * bytes as U+FFFD, at most INT_MAX bytes out. *out is NULL (and MOAT_OK
 * returned) when iconv does not know the label. */
static enum moat_rc htext_from_iconv(const char *label, const char *in, size_t n, char **out,
				     size_t *out_len)
{
	iconv_t cd = iconv_open("UTF-8", label);
	size_t cap, il = n, ol;
	char *buf, *ip = (char *)in, *op;

	*out = NULL;
	if (cd == (iconv_t)-1)
		return MOAT_OK;
	cap = n < (size_t)INT_MAX / 2 ? 2 * n + 16 : (size_t)INT_MAX;
	if (!(buf = malloc(cap))) {
		iconv_close(cd);
		return MOAT_ENOMEM;
	}
	op = buf;
	ol = cap;
	for (;;) {
		if (iconv(cd, &ip, &il, &op, &ol) != (size_t)-1)
			break; /* all converted */
		if (errno == E2BIG || ol < 3) {
			size_t used = (size_t)(op - buf), ncap = cap * 2;
			char *nb;

			if (cap >= (size_t)INT_MAX)
				break; /* the cut documented above */
			if (ncap > (size_t)INT_MAX)
				ncap = (size_t)INT_MAX;
			if (!(nb = realloc(buf, ncap))) {
				free(buf);
				iconv_close(cd);
				return MOAT_ENOMEM;
			}
			buf = nb;
			op = buf + used;
			ol = ncap - used;
			cap = ncap;
			continue;
		}
		memcpy(op, htext_fffd, 3); /* EILSEQ, or EINVAL: cut short at the end */
		op += 3;
		ol -= 3;
		if (errno != EILSEQ || il == 0)
			break;
		ip++;
		il--;
	}
	iconv_close(cd);
	*out = buf;
	*out_len = (size_t)(op - buf);
	return MOAT_OK;
}

/* htext_clean - s[0..n) with invalid UTF-8 and NUL as U+FFFD. *owned is
 * NULL when s was clean already (then *res is s). */
static enum moat_rc htext_clean(const char *s, size_t n, char **owned, const char **res,
				size_t *res_len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, o, l;
	char *p;

	*owned = NULL;
	while (i < n) {
		uint64_t w;

		/* eight ASCII bytes, none NUL, at a time */
		if (n - i >= 8 && (memcpy(&w, u + i, 8), (w & 0x8080808080808080ULL) == 0) &&
		    ((w - 0x0101010101010101ULL) & ~w & 0x8080808080808080ULL) == 0) {
			i += 8;
			continue;
		}
		if ((l = htext_utf8_seq(u + i, n - i)) == 0)
			break;
		i += l;
	}
	if (i == n) {
		*res = s;
		*res_len = n;
		return MOAT_OK;
	}
	if (n > (SIZE_MAX - 1) / 3 || !(p = malloc(3 * n + 1)))
		return MOAT_ENOMEM;
	memcpy(p, s, i);
	o = i;
	while (i < n) {
		if ((l = htext_utf8_seq(u + i, n - i)) != 0) {
			memcpy(p + o, s + i, l);
			o += l;
			i += l;
		} else {
			memcpy(p + o, htext_fffd, 3);
			o += 3;
			i++;
		}
	}
	*owned = p;
	*res = p;
	*res_len = o;
	return MOAT_OK;
}

/* htext_decode - html[0..len) as valid UTF-8 (see step 1 above). *owned
 * is what the caller frees (NULL when *res points into html). */
enum moat_rc htext_decode(const char *html, size_t len, char **owned, const char **res,
			  size_t *res_len)
{
	const unsigned char *u = (const unsigned char *)html;
	char label[HTEXT_LABEL_MAX + 1];
	char *conv = NULL;
	size_t conv_len = 0;
	enum moat_rc rc;

	*owned = NULL;
	if (len >= 3 && u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF)
		return htext_clean(html + 3, len - 3, owned, res, res_len);
	if (len >= 2 && ((u[0] == 0xFF && u[1] == 0xFE) || (u[0] == 0xFE && u[1] == 0xFF))) {
		rc = htext_from_iconv(u[0] == 0xFF ? "UTF-16LE" : "UTF-16BE", html + 2, len - 2,
				      &conv, &conv_len);
	} else if (!htext_sniff(html, len, label) || htext_classify(label) == HTEXT_UTF8) {
		return htext_clean(html, len, owned, res, res_len);
	} else if (htext_classify(label) == HTEXT_1252) {
		rc = htext_from_1252(u, len, &conv, &conv_len);
	} else {
		rc = htext_from_iconv(label, html, len, &conv, &conv_len);
	}
	if (rc != MOAT_OK)
		return rc;
	if (!conv) /* a charset iconv does not know: UTF-8 */
		return htext_clean(html, len, owned, res, res_len);
	/* iconv output is UTF-8 but may hold NUL. */
	rc = htext_clean(conv, conv_len, owned, res, res_len);
	if (rc != MOAT_OK || *owned)
		free(conv);
	else
		*owned = conv;
	return rc;
}
