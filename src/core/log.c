/*
 * log.c - leveled logging to stderr with one optional forwarding sink.
 */
#include "log.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const level_names[] = {
	"debug", "info", "notice", "warning", "error", "critical", "alert", "emergency",
};

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static log_sink_fn sink_fn;
static void *sink_ctx;
static enum log_level sink_level = LOG_LVL_EMERGENCY;
static enum log_level stderr_level = LOG_LVL_INFO;
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
	char msg[1024];
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
		fprintf(stderr, "moat: %s: %s\n", log_level_name(level), msg);
	if (to_sink)
		fn(ctx, level, msg);
}
