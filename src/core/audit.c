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

struct audit *audit_open(const struct audit_opts *o, struct moat_err *err)
{
	struct audit *a;
	int fd = open(o->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

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

void audit_reopen(struct audit *a)
{
	(void)a;
}

static void set_str(json_t *rec, const char *key, const char *v)
{
	if (v)
		json_object_set_new(rec, key, json_string(v));
}

void audit_write(struct audit *a, const struct audit_event *ev)
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
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv.tv_usec);
	rec = json_object();
	if (!rec)
		return;
	set_str(rec, "time", when);
	set_str(rec, "kind", ev->kind);
	set_str(rec, "principal", ev->principal);
	set_str(rec, "client", ev->client_name);
	set_str(rec, "client_version", ev->client_version);
	set_str(rec, "session", ev->session);
	if (ev->request_id)
		json_object_set(rec, "id", (json_t *)ev->request_id);
	set_str(rec, "tool", ev->tool);
	set_str(rec, "family", ev->family);
	if (ev->touched)
		json_object_set(rec, "touched", (json_t *)ev->touched);
	set_str(rec, "outcome", ev->outcome);
	set_str(rec, "rule", ev->rule);
	json_object_set_new(rec, "duration_us", json_integer((json_int_t)ev->duration_us));
	json_object_set_new(rec, "bytes_out", json_integer((json_int_t)ev->bytes_out));
	line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
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
