/*
 * git_when.c - the timestamps git_log accepts for start_timestamp and
 * end_timestamp, parsed without libgit2 (it has no public date parser) and
 * without git's approxidate, which accepts almost any text: here a string
 * is one of a few exact forms or it is refused with a message listing them.
 *
 *   ISO 8601     2024-01-15, 2024-01-15T14:30, 2024-01-15 14:30:25,
 *                2024-01-15T14:30:25Z, 2024-01-15T14:30:25+01:00 (or +0100)
 *   dates        Jan 15 2024, January 15, 2024, 15 Jan 2024
 *   relative     N second(s)|minute(s)|hour(s)|day(s)|week(s)|month(s)|year(s)
 *                ago (spaces or dots: "2.weeks.ago"), yesterday (24 hours
 *                ago, as git), today (local midnight), now
 *   epoch        @1705329025
 *
 * A date or time without a zone is local time; a date alone is its
 * midnight (git would take the current time of day on that date). Pure and
 * thread-safe.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gitp.h"

#define FORMS                                                                          \
	"use ISO 8601 (2024-01-15, 2024-01-15T14:30:25, with Z or +01:00), \"Jan 15 "      \
	"2024\", \"N days ago\" (seconds, minutes, hours, days, weeks, months, years), " \
	"yesterday, today, now or @<epoch seconds>"

static const char *const month_names[] = {"jan", "feb", "mar", "apr", "may", "jun",
					  "jul", "aug", "sep", "oct", "nov", "dec"};

/* Read exactly n digits at *p into *v. */
static bool digits(const char **p, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return false;
		x = x * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*v = x;
	return true;
}

/* Read 1..max digits. */
static bool some_digits(const char **p, int max, long *v)
{
	long x = 0;
	int i = 0;

	while (i < max && isdigit((unsigned char)(*p)[i])) {
		x = x * 10 + ((*p)[i] - '0');
		i++;
	}
	if (i == 0 || isdigit((unsigned char)(*p)[i]))
		return false;
	*p += i;
	*v = x;
	return true;
}

/* The month whose English name (3 letters or full) starts at *p: 0..11, -1. */
static int month_word(const char **p)
{
	static const char *const full[] = {"january", "february", "march",     "april",
					   "may",     "june",     "july",      "august",
					   "september", "october", "november", "december"};
	size_t n = 0;

	while (isalpha((unsigned char)(*p)[n]))
		n++;
	for (int m = 0; m < 12; m++)
		if ((n == 3 && strncasecmp(*p, month_names[m], 3) == 0) ||
		    (n == strlen(full[m]) && strncasecmp(*p, full[m], n) == 0)) {
			*p += n;
			return m;
		}
	return -1;
}

/* tm (fields set, local or UTC) to seconds; false when the fields do not
 * name a real date and time (Feb 30, 25:00). */
static bool make_time(struct tm *tm, bool utc, long offset_s, time_t *out)
{
	struct tm want = *tm;
	time_t t;

	tm->tm_isdst = -1;
	t = utc ? timegm(tm) : mktime(tm);
	if (t == (time_t)-1 && (want.tm_year != 69 || want.tm_mon != 11 || want.tm_mday != 31))
		return false;
	if (tm->tm_year != want.tm_year || tm->tm_mon != want.tm_mon ||
	    tm->tm_mday != want.tm_mday || tm->tm_hour != want.tm_hour ||
	    tm->tm_min != want.tm_min)
		return false;
	*out = t - (time_t)offset_s;
	return true;
}

/* An optional time " HH:MM[:SS[.frac]]" or "THH:MM..." and zone. */
static bool iso_time(const char *p, struct tm *tm, bool *utc, long *offset_s)
{
	int h, m, s = 0, zh, zm = 0;

	if (!*p)
		return true;
	if (*p != 'T' && *p != 't' && *p != ' ')
		return false;
	p++;
	if (!digits(&p, 2, &h) || *p++ != ':' || !digits(&p, 2, &m))
		return false;
	if (*p == ':') {
		p++;
		if (!digits(&p, 2, &s))
			return false;
		if (*p == '.' || *p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				return false;
			while (isdigit((unsigned char)*p))
				p++;
		}
	}
	if (h > 23 || m > 59 || s > 60)
		return false;
	tm->tm_hour = h;
	tm->tm_min = m;
	tm->tm_sec = s;
	if (*p == ' ')
		p++;
	if (*p == 'Z' || *p == 'z') {
		*utc = true;
		return p[1] == '\0';
	}
	if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;
		p++;
		if (!digits(&p, 2, &zh))
			return false;
		if (*p == ':')
			p++;
		if (*p && !digits(&p, 2, &zm))
			return false;
		if (*p || zh > 14 || zm > 59)
			return false;
		*utc = true;
		*offset_s = sign * (zh * 3600L + zm * 60L);
		return true;
	}
	return *p == '\0';
}

static bool parse_iso(const char *p, time_t *out)
{
	struct tm tm = {0};
	int y, mo, d;
	bool utc = false;
	long off = 0;

	if (!digits(&p, 4, &y) || *p++ != '-' || !digits(&p, 2, &mo) || *p++ != '-' ||
	    !digits(&p, 2, &d))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1970)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	if (!iso_time(p, &tm, &utc, &off))
		return false;
	return make_time(&tm, utc, off, out);
}

/* "Jan 15 2024", "January 15, 2024", "15 Jan 2024". */
static bool parse_words(const char *p, time_t *out)
{
	struct tm tm = {0};
	long d, y;
	int m;

	if (isalpha((unsigned char)*p)) {
		if ((m = month_word(&p)) < 0 || *p++ != ' ' || !some_digits(&p, 2, &d))
			return false;
		if (*p == ',')
			p++;
		if (*p++ != ' ' || !some_digits(&p, 4, &y))
			return false;
	} else {
		if (!some_digits(&p, 2, &d) || *p++ != ' ' || (m = month_word(&p)) < 0 ||
		    *p++ != ' ' || !some_digits(&p, 4, &y))
			return false;
	}
	if (*p || d < 1 || d > 31 || y < 1970)
		return false;
	tm.tm_year = (int)y - 1900;
	tm.tm_mon = m;
	tm.tm_mday = (int)d;
	return make_time(&tm, false, 0, out);
}

/* "N unit(s) ago" with spaces or dots between the words. */
static bool parse_ago(const char *p, time_t now, time_t *out)
{
	static const struct {
		const char *name;
		long secs; /* 0: calendar months, -1: calendar years */
	} units[] = {{"second", 1},     {"minute", 60},      {"hour", 3600}, {"day", 86400},
		     {"week", 604800L}, {"month", 0},        {"year", -1}};
	long n;
	size_t len = 0;

	if (!some_digits(&p, 6, &n) || (*p != ' ' && *p != '.'))
		return false;
	p++;
	while (isalpha((unsigned char)p[len]))
		len++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t ul = strlen(units[i].name);
		struct tm tm;
		if (!((len == ul || (len == ul + 1 && p[ul] == 's')) &&
		      strncasecmp(p, units[i].name, ul) == 0))
			continue;
		if ((p[len] != ' ' && p[len] != '.') || strcasecmp(p + len + 1, "ago") != 0)
			return false;
		if (units[i].secs > 0) {
			if (n > (long)(now / units[i].secs))
				return false;
			*out = now - (time_t)(n * units[i].secs);
			return true;
		}
		localtime_r(&now, &tm);
		if (units[i].secs == 0) {
			tm.tm_year -= (int)(n / 12);
			tm.tm_mon -= (int)(n % 12);
		} else {
			tm.tm_year -= (int)n;
		}
		if (tm.tm_year < 0)
			return false;
		tm.tm_isdst = -1;
		*out = mktime(&tm);
		return *out != (time_t)-1;
	}
	return false;
}

enum moat_rc gitp_when_parse(const char *s, time_t now, const char *field, time_t *out,
			     struct moat_err *err)
{
	char buf[64];
	size_t n;
	const char *p;

	if (!s)
		return gitp_refuse(err, MOAT_EINVAL, "git.timestamp_invalid", "%s: must be a string",
				   field);
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	if (n == 0 || n >= sizeof(buf))
		return gitp_refuse(err, MOAT_EINVAL, "git.timestamp_invalid",
				   "%s: not a timestamp; " FORMS, field);
	memcpy(buf, s, n);
	buf[n] = '\0';
	p = buf;
	if (strcasecmp(p, "now") == 0) {
		*out = now;
		return MOAT_OK;
	}
	if (strcasecmp(p, "yesterday") == 0) {
		*out = now - 86400;
		return MOAT_OK;
	}
	if (strcasecmp(p, "today") == 0) {
		struct tm tm;
		localtime_r(&now, &tm);
		tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
		tm.tm_isdst = -1;
		*out = mktime(&tm);
		return MOAT_OK;
	}
	if (*p == '@') {
		long v;
		p++;
		if (some_digits(&p, 12, &v) && !*p) {
			*out = (time_t)v;
			return MOAT_OK;
		}
	} else if (parse_iso(p, out) || parse_words(p, out) || parse_ago(p, now, out)) {
		return MOAT_OK;
	}
	return gitp_refuse(err, MOAT_EINVAL, "git.timestamp_invalid", "%s: not a timestamp; " FORMS,
			   field);
}
