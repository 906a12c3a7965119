/*
 * log.h - leveled logging to stderr, optionally mirrored to an MCP client.
 *
 * Levels are the eight syslog levels MCP uses. Records go to stderr as one
 * line each ("moat: LEVEL: message"); stdout is never touched. Messages must
 * not contain argument values, results or secrets: callers log names, counts,
 * durations and outcomes only. A sink (the server) may receive records at or
 * above its own threshold to forward as notifications/message. Thread-safe.
 */
#ifndef MOAT_CORE_LOG_H
#define MOAT_CORE_LOG_H

#include <stdbool.h>

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
