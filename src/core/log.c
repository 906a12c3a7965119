/*
 * log.c - leveled logging to stderr with one optional forwarding sink.
 *
 * Two formats: text ("moat: LEVEL: message", for people) and JSON lines
 * (one object a line with time, level and msg, for a log collector such as
 * a Kubernetes node's). The JSON is built with jansson, which escapes it;
 * a message that is not valid UTF-8 (a truncated multi-byte character, a
 * file name's stray byte) has its non-ASCII bytes replaced by '?' first,
 * so the line is always valid JSON.
 */
#include "log.h"

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const level_names[] = {
	"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency",
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static log_sink_fn sink_fn;
static void *sink_ctx;
static enum log_level sink_level = LOG_LVL_EMERGENCY;
static enum log_level stderr_level = LOG_LVL_INFO;
static _Atomic int stderr_format = LOG_FORMAT_TEXT;
/* The lowest level anyone wants, read without the lock so that a debug
 * record costs one atomic load when debug logging is off. */
static _Atomic int wanted_level = LOG_LVL_INFO;

/* Recompute wanted_level; call with log_lock held. */
static void update_wanted(void)
{
	int w = (int)stderr_level;

	if (sink_fn && (int)sink_level < w)
		w = (int)sink_level;
	atomic_store(&wanted_level, w);
}

void log_set_level(enum log_level level)
{
	pthread_mutex_lock(&log_lock);
	stderr_level = level;
	update_wanted();
	pthread_mutex_unlock(&log_lock);
}

enum log_level log_get_level(void)
{
	enum log_level l;

	pthread_mutex_lock(&log_lock);
	l = stderr_level;
	pthread_mutex_unlock(&log_lock);
	return l;
}

bool log_parse_level(const char *name, enum log_level *out)
{
	if (!name)
		return false;
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return true;
		}
	}
	if (strcmp(name, "warn") == 0) {
		*out = LOG_LVL_WARNING;
		return true;
	}
	return false;
}

const char *log_level_name(enum log_level level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "unknown";
	return level_names[level];
}

bool log_parse_format(const char *name, enum log_format *out)
{
	if (name && strcmp(name, "text") == 0) {
		*out = LOG_FORMAT_TEXT;
		return true;
	}
	if (name && strcmp(name, "json") == 0) {
		*out = LOG_FORMAT_JSON;
		return true;
	}
	return false;
}

void log_set_format(enum log_format format)
{
	atomic_store(&stderr_format, (int)format);
}

enum log_format log_get_format(void)
{
	return (enum log_format)atomic_load(&stderr_format);
}

/* n as exactly width decimal digits at out (no NUL). Signal-safe. */
static void put_digits(char *out, unsigned long n, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		out[i] = (char)('0' + n % 10);
		n /= 10;
	}
}

/* "2026-12-06T13:40:01.123Z" (24 bytes and a NUL) for ts, by arithmetic
 * alone (the civil calendar from a day count, as in Howard Hinnant's
 * date algorithms), so a signal handler may call it: gmtime_r and
 * strftime are not async-signal-safe. */
static void rfc3339_ms(char out[25], const struct timespec *ts)
{
	long long secs = (long long)ts->tv_sec, days = secs / 86400, rem = secs % 86400;
	long long z, era, doe, yoe, y, doy, mp, d, m;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999)
		y = 0;
	memcpy(out, "0000-00-00T00:00:00.000Z", 25);
	put_digits(out, (unsigned long)y, 4);
	put_digits(out + 5, (unsigned long)m, 2);
	put_digits(out + 8, (unsigned long)d, 2);
	put_digits(out + 11, (unsigned long)(rem / 3600), 2);
	put_digits(out + 14, (unsigned long)(rem / 60 % 60), 2);
	put_digits(out + 17, (unsigned long)(rem % 60), 2);
	put_digits(out + 20, (unsigned long)(ts->tv_nsec / 1000000) % 1000, 3);
}

size_t log_json_head(char *out, size_t size, enum log_level level)
{
	static const char a[] = "{\"time\":\"", b[] = "\",\"level\":\"", c[] = "\",\"msg\":\"";
	const char *name = log_level_name(level);
	struct timespec ts;
	char when[25];
	size_t n = 0;

	clock_gettime(CLOCK_REALTIME, &ts);
	rfc3339_ms(when, &ts);
	const char *parts[] = {a, when, b, name, c};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		size_t len = strlen(parts[i]);
		if (n + len >= size)
			return 0;
		memcpy(out + n, parts[i], len);
		n += len;
	}
	out[n] = '\0';
	return n;
}

size_t log_json_record(char *out, size_t size, const struct timespec *ts, enum log_level level,
		       const char *msg)
{
	char when[25], safe[LOG_MSG_MAX];
	json_t *rec, *m;
	size_t n = 0;
	char *s;

	if (size == 0)
		return 0;
	out[0] = '\0';
	rfc3339_ms(when, ts);
	m = json_string(msg);
	if (!m) { /* not UTF-8: keep the ASCII, mark the rest */
		size_t i;
		for (i = 0; msg[i] && i + 1 < sizeof(safe); i++)
			safe[i] = (unsigned char)msg[i] < 0x80 ? msg[i] : '?';
		safe[i] = '\0';
		m = json_string(safe);
	}
	rec = m ? json_pack("{s:s, s:s, s:o}", "time", when, "level", log_level_name(level),
			    "msg", m)
		: NULL;
	s = rec ? json_dumps(rec, JSON_COMPACT) : NULL;
	if (s && (n = strlen(s)) < size)
		memcpy(out, s, n + 1);
	else
		n = 0;
	free(s);
	json_decref(rec);
	return n;
}

/* One record to stderr in the current format; text: prefix ("moat: " or
 * "moat: LEVEL: ") and msg. */
static void write_stderr(enum log_level level, bool with_level, const char *msg)
{
	if (atomic_load(&stderr_format) == LOG_FORMAT_JSON) {
		char line[LOG_MSG_MAX * 6 + 128]; /* every byte escaped as \u00XX at worst */
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		if (log_json_record(line, sizeof(line), &ts, level, msg) > 0) {
			fprintf(stderr, "%s\n", line);
			return;
		}
		/* Out of memory: a record with what can be said without jansson. */
		fprintf(stderr, "{\"level\":\"%s\",\"msg\":\"(a record was lost)\"}\n",
			log_level_name(level));
		return;
	}
	if (with_level)
		fprintf(stderr, "moat: %s: %s\n", log_level_name(level), msg);
	else
		fprintf(stderr, "moat: %s\n", msg);
}

void log_line(enum log_level level, const char *fmt, ...)
{
	char msg[LOG_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	write_stderr(level, false, msg);
	fflush(stderr);
}

void log_set_sink(log_sink_fn fn, void *ctx, enum log_level min_level)
{
	pthread_mutex_lock(&log_lock);
	sink_fn = fn;
	sink_ctx = ctx;
	sink_level = min_level;
	update_wanted();
	pthread_mutex_unlock(&log_lock);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char msg[LOG_MSG_MAX];
	va_list ap;
	log_sink_fn fn;
	void *ctx;
	bool to_stderr, to_sink;

	if ((int)level < atomic_load(&wanted_level))
		return;
	pthread_mutex_lock(&log_lock);
	to_stderr = level >= stderr_level;
	fn = sink_fn;
	ctx = sink_ctx;
	to_sink = fn && level >= sink_level;
	pthread_mutex_unlock(&log_lock);
	if (!to_stderr && !to_sink)
		return;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (to_stderr)
		write_stderr(level, true, msg);
	if (to_sink)
		fn(ctx, level, msg);
}
