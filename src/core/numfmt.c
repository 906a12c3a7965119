/*
 * numfmt.c - integers and doubles as decimal text without printf on the
 * common path. See numfmt.h.
 *
 * A double is tried as m / 10^k for k = 0, 1, ... 17 with m = rint(v *
 * 10^k) an integer below 2^53: m and 10^k are then exact doubles, so m /
 * 10^k is the correctly rounded value of the decimal "m with k fractional
 * digits", which is what strtod returns for that text; when it equals v,
 * the text reads back as v, and the first k that does is the fewest
 * fractional digits. Other values (tiny, huge, or needing 17 significant
 * digits past 2^53) take %.15g, %.16g or %.17g, whichever first reads
 * back as v.
 */
#include "numfmt.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TWO53 9007199254740992.0
#define K_MAX 17

static const double p10[K_MAX + 1] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,
				      1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};

/* The digits of u, most significant first, into buf; returns the count. */
static size_t digits(char *buf, uint64_t u)
{
	char tmp[24];
	size_t n = 0, len;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	len = n;
	for (size_t i = 0; i < len; i++)
		buf[i] = tmp[len - 1 - i];
	return len;
}

size_t numfmt_i64(char *buf, int64_t v)
{
	size_t n = 0;
	uint64_t u = (uint64_t)v;

	if (v < 0) {
		buf[n++] = '-';
		u = 0 - u; /* well defined for INT64_MIN too */
	}
	n += digits(buf + n, u);
	buf[n] = '\0';
	return n;
}

/* m / 10^k as text: the integer's digits with a point k places from the
 * right, "0." and zeros in front when it has no more than k digits. */
static size_t fixed(char *buf, bool neg, uint64_t m, int k)
{
	char d[24];
	size_t nd = digits(d, m), n = 0;

	if (neg)
		buf[n++] = '-';
	if (k == 0) {
		memcpy(buf + n, d, nd);
		n += nd;
		memcpy(buf + n, ".0", 3);
		return n + 2;
	}
	if (nd <= (size_t)k) {
		buf[n++] = '0';
		buf[n++] = '.';
		for (size_t z = nd; z < (size_t)k; z++)
			buf[n++] = '0';
		memcpy(buf + n, d, nd);
		n += nd;
	} else {
		memcpy(buf + n, d, nd - (size_t)k);
		n += nd - (size_t)k;
		buf[n++] = '.';
		memcpy(buf + n, d + nd - (size_t)k, (size_t)k);
		n += (size_t)k;
	}
	buf[n] = '\0';
	return n;
}

size_t numfmt_double(char *buf, double v)
{
	double a = fabs(v);
	int len = 0;

	buf[0] = '\0';
	if (!isfinite(v))
		return 0;
	if (v == 0)
		return signbit(v) ? (memcpy(buf, "-0.0", 5), 4) : (memcpy(buf, "0.0", 4), 3);
	if (a >= 1e-5 && a < TWO53) {
		for (int k = 0; k <= K_MAX; k++) {
			double m = rint(a * p10[k]);
			if (m >= TWO53)
				break;
			if (m / p10[k] == a)
				return fixed(buf, v < 0, (uint64_t)m, k);
		}
	}
	for (int prec = 15; prec <= 17; prec++) {
		len = snprintf(buf, NUMFMT_MAX, "%.*g", prec, v);
		if (prec == 17 || strtod(buf, NULL) == v)
			break;
	}
	if (len <= 0 || len >= NUMFMT_MAX - 2) {
		buf[0] = '\0';
		return 0;
	}
	if (!strpbrk(buf, ".e")) {
		memcpy(buf + len, ".0", 3);
		len += 2;
	}
	return (size_t)len;
}
