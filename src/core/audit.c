/*
 * audit.c - append-only JSON-lines audit trail of tool calls.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct audit {
	int fd;
	pthread_mutex_t lock;
	bool warned;
};

struct audit *audit_open(const char *path, struct moat_err *err)
{
	struct audit *a;
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		moat_err_set(err, MOAT_EIO, "audit.file: cannot open for appending: %s",
			     strerror(errno));
		return NULL;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		close(fd);
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	a->fd = fd;
	pthread_mutex_init(&a->lock, NULL);
	return a;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	close(a->fd);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

void audit_record(struct audit *a, const char *tool, double duration_ms, const char *outcome,
		  size_t bytes_out)
{
	struct timeval tv;
	struct tm tm;
	char when[64];
	json_t *rec;
	char *line;

	if (!a)
		return;
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long)(tv.tv_usec / 1000) % 1000);
	rec = json_pack("{s:s, s:s, s:f, s:s, s:I}", "time", when, "tool", tool, "duration_ms",
			duration_ms, "outcome", outcome, "bytes_out", (json_int_t)bytes_out);
	if (!rec)
		return;
	line = json_dumps(rec, JSON_COMPACT);
	json_decref(rec);
	if (!line)
		return;
	size_t n = strlen(line);
	line[n] = '\n'; /* json_dumps leaves room for the NUL we overwrite */
	pthread_mutex_lock(&a->lock);
	ssize_t w = write(a->fd, line, n + 1);
	if (w != (ssize_t)(n + 1) && !a->warned) {
		a->warned = true;
		log_error("audit: write failed: %s", w < 0 ? strerror(errno) : "short write");
	}
	pthread_mutex_unlock(&a->lock);
	free(line);
}
