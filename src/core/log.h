/*
 * log.h - leveled logging to stderr, optionally mirrored to an MCP client.
 *
 * Levels are the eight syslog levels MCP uses. Records go to stderr as one
 * line each: "moat: LEVEL: message", or with log_set_format(LOG_FORMAT_JSON)
 * one JSON object a line, {"time":"2026-12-06T13:40:01.123Z","level":
 * "info","msg":"..."} (--log-format json); stdout is never touched. Messages must
 * not contain argument values, results or secrets: callers log names, counts,
 * durations and outcomes only. A sink (the server) may receive records at or
 * above its own threshold to forward as notifications/message. Thread-safe.
 */
#ifndef MOAT_CORE_LOG_H
#define MOAT_CORE_LOG_H

#include <stdbool.h>
#include <stddef.h>

struct timespec;

#define LOG_MSG_MAX 1024 /* a message longer than this is cut */

enum log_level {
	LOG_LVL_DEBUG,
	LOG_LVL_INFO,
	LOG_LVL_NOTICE,
	LOG_LVL_WARNING,
	LOG_LVL_ERROR,
	LOG_LVL_CRITICAL,
	LOG_LVL_ALERT,
	LOG_LVL_EMERGENCY,
};

enum log_format {
	LOG_FORMAT_TEXT, /* "moat: LEVEL: message" */
	LOG_FORMAT_JSON, /* one JSON object a line */
};

/* Receives a formatted record; called with no moat lock held. */
typedef void (*log_sink_fn)(void *ctx, enum log_level level, const char *msg);

/* log_set_level - records below level are not written to stderr. */
void log_set_level(enum log_level level);

/* log_get_level - the current stderr threshold. */
enum log_level log_get_level(void);

/* log_parse_level - map "debug".."emergency" (and "warn") to a level.
 * Returns false for an unknown name. */
bool log_parse_level(const char *name, enum log_level *out);

/* log_level_name - "debug".."emergency". Static storage. */
const char *log_level_name(enum log_level level);

/* log_parse_format - "text" or "json". False for anything else. */
bool log_parse_format(const char *name, enum log_format *out);

/* log_set_format / log_get_format - the format of stderr records. Set at
 * start-up; thread-safe. */
void log_set_format(enum log_format format);
enum log_format log_get_format(void);

/*
 * log_json_record - the JSON line (without newline) for msg at level and
 * time ts (UTC, milliseconds) into out[0..size): returns its length, or 0
 * when it does not fit or memory ran out (out is then ""). A message that
 * is not valid UTF-8 has its non-ASCII bytes replaced by '?'. Thread-safe.
 */
size_t log_json_record(char *out, size_t size, const struct timespec *ts, enum log_level level,
		       const char *msg);

/*
 * log_json_head - the start of a JSON record at level, now, up to and
 * including the opening quote of msg ({"time":"...","level":"...","msg":")
 * into out[0..size): its length, or 0 when it does not fit. The caller
 * appends the message (escaped) and "}\n". Async-signal-safe: for the
 * seccomp handler's line (src/sandbox/seccomp_filter.c).
 */
size_t log_json_head(char *out, size_t size, enum log_level level);

/*
 * log_line - a line moat always prints, whatever the level threshold: a
 * start-up error, "listening on URL". Text: "moat: message" (no level);
 * JSON: a record at level. Flushed at once. Thread-safe.
 */
void log_line(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * log_set_sink - install (or with fn NULL remove) the one extra sink and the
 * lowest level it wants. ctx is borrowed and must outlive the registration.
 */
void log_set_sink(log_sink_fn fn, void *ctx, enum log_level min_level);

/* log_msg - write one record. Format arguments must not carry secrets. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARNING, __VA_ARGS__)
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)

#endif
