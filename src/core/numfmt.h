/*
 * numfmt.h - numbers as the decimal text moat writes into JSON and text
 * tables, without printf: results with thousands of numbers (a SQL query,
 * a listing) spent a third of their time in vfprintf.
 *
 * Reals are written as the shortest decimal that reads back as the same
 * double (13.7, not jansson's %.17g 13.699999999999999), as JSON numbers
 * that still read as reals: "1.0", "-0.0", "1e+300".
 * Pure and thread-safe.
 */
#ifndef MOAT_CORE_NUMFMT_H
#define MOAT_CORE_NUMFMT_H

#include <stddef.h>
#include <stdint.h>

#define NUMFMT_MAX 32 /* the buffer either function needs, NUL included */

/* numfmt_i64 - v in decimal into buf (NUMFMT_MAX bytes), NUL-terminated.
 * Returns the length. */
size_t numfmt_i64(char *buf, int64_t v);

/*
 * numfmt_double - v into buf (NUMFMT_MAX bytes), NUL-terminated: the
 * fewest fractional digits that read back as v (strtod gives v again),
 * with ".0" added when the text would read as an integer, or the %g form
 * of the fewest significant digits (up to 17) for magnitudes below 1e-5
 * or at 2^53 and above. Returns the length; 0 (and "") for NaN and the
 * infinities, which JSON cannot carry.
 */
size_t numfmt_double(char *buf, double v);

#endif
