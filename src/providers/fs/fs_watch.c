/*
 * fs_watch.c - inotify watches on subscribed files, for
 * notifications/resources/updated.
 *
 * A URI's path is resolved as a read resolves it: fs_resolve onto a root,
 * then the family's openat2 beneath that root's fd (fs_open_file). The
 * watch is then put on the file that open reached, named through
 * /proc/self/fd/N, never on the path as a string, so a symlink or '..'
 * that leaves the root is refused exactly as for a read. When the file is
 * moved, deleted or replaced (IN_MOVE_SELF, IN_DELETE_SELF, IN_IGNORED)
 * the watch is dropped and the path resolved afresh, now and then once a
 * second while it fails: a symlink swapped in that points outside the
 * root is never followed.
 *
 * One thread reads the inotify fd; it starts with the first watch (after
 * the sandbox, which allows inotify: it is not in the seccomp denylist and
 * Landlock does not mediate it). Changes are coalesced: at most one update
 * per URI per FS_WATCH_COALESCE_MS. Publishing happens outside the lock.
 * At most fs.max_watches URIs are watched (rule limits.watches).
 */
#include "fs_watch.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "fs.h"
#include "hub.h"
#include "log.h"

#define FS_WATCH_COALESCE_MS 100u
#define FS_WATCH_RETRY_MS 1000u
#define FS_WATCH_MASK                                                                          \
	(IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)

struct fs_watch_entry {
	char *uri;
	char *path;       /* the URI's path, resolved afresh on re-arm */
	int wd;           /* -1: not armed (the file went away) */
	uint64_t last_ns; /* the last update published */
	uint64_t due_ns;  /* an update to publish then (0: none) */
	uint64_t retry_ns; /* unarmed: the next re-arm attempt */
};

struct fs_watcher {
	pthread_mutex_t lock;
	struct fs *fs;
	struct hub *hub;
	size_t max;
	struct fs_watch_entry *v;
	size_t n;
	int ifd;     /* inotify; -1 until the first watch */
	int stopfd;  /* eventfd: the thread ends when it is readable */
	bool started;
	pthread_t thread;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct fs_watcher *fs_watcher_new(struct fs *fs, struct hub *hub, size_t max)
{
	struct fs_watcher *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	pthread_mutex_init(&w->lock, NULL);
	w->fs = fs;
	w->hub = hub;
	w->max = max;
	w->ifd = w->stopfd = -1;
	return w;
}

/* Watch the file path names under fs's roots: its wd, or -1 with err. */
static int arm(struct fs_watcher *w, const char *path, struct moat_err *err)
{
	struct fs_view *v = fs_view_get(w->fs);
	struct fs_target t;
	struct stat st;
	char proc[64];
	int fd = -1, wd = -1;

	if (fs_resolve(v, path, &t, err) == MOAT_OK && (fd = fs_open_file(&t, &st, err)) >= 0) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		wd = inotify_add_watch(w->ifd, proc, FS_WATCH_MASK);
		if (wd < 0)
			moat_err_rule(err, errno == ENOSPC ? MOAT_ELIMIT : MOAT_EIO,
				      errno == ENOSPC ? "limits.watches" : NULL,
				      "cannot watch this file (%s)", strerror(errno));
		close(fd);
	}
	fs_view_put(w->fs, v);
	return wd;
}

/* Drop wd unless another entry still uses it (one inode, two URIs).
 * Lock held. */
static void disarm_locked(struct fs_watcher *w, int wd)
{
	if (wd < 0)
		return;
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].wd == wd)
			return;
	inotify_rm_watch(w->ifd, wd);
}

/* Note a change of the entries on wd (all of them for wd -1 is never
 * asked): an update is due now, or FS_WATCH_COALESCE_MS after the last.
 * Lock held. */
static void note_locked(struct fs_watcher *w, int wd, uint32_t mask, uint64_t now)
{
	bool gone = mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_IGNORED);

	for (size_t i = 0; i < w->n; i++) {
		struct fs_watch_entry *e = &w->v[i];
		if (e->wd != wd)
			continue;
		if (!e->due_ns) {
			uint64_t next = e->last_ns + FS_WATCH_COALESCE_MS * 1000000u;
			e->due_ns = next > now ? next : now;
		}
		if (gone) {
			/* The path no longer names this inode: resolve it
			 * again rather than follow the inode anywhere. */
			e->wd = -1;
			e->retry_ns = now;
		}
	}
	if (gone && !(mask & IN_IGNORED))
		disarm_locked(w, wd);
}

/* Re-arm unarmed entries whose retry time came; due updates go into out
 * (copies, for publishing after the lock). Returns the poll timeout (ms,
 * -1: none). Lock held. */
static int tick_locked(struct fs_watcher *w, uint64_t now, char **out, size_t *n_out)
{
	uint64_t next = 0;

	for (size_t i = 0; i < w->n; i++) {
		struct fs_watch_entry *e = &w->v[i];
		if (e->wd < 0 && e->retry_ns <= now) {
			struct moat_err ignore = {0};
			e->wd = arm(w, e->path, &ignore);
			e->retry_ns = now + FS_WATCH_RETRY_MS * 1000000u;
			if (e->wd >= 0 && !e->due_ns)
				e->due_ns = now; /* it is back: say so */
		}
		if (e->due_ns && e->due_ns <= now) {
			out[(*n_out)++] = strdup(e->uri);
			e->last_ns = now;
			e->due_ns = 0;
		}
		if (e->due_ns && (!next || e->due_ns < next))
			next = e->due_ns;
		if (e->wd < 0 && (!next || e->retry_ns < next))
			next = e->retry_ns;
	}
	if (!next)
		return -1;
	return (int)((next - now) / 1000000u) + 1;
}

static void *watch_thread(void *arg)
{
	struct fs_watcher *w = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int timeout = -1;

	for (;;) {
		struct pollfd p[2] = {{.fd = w->ifd, .events = POLLIN},
				      {.fd = w->stopfd, .events = POLLIN}};
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		pthread_mutex_lock(&w->lock);
		uint64_t now = now_ns();
		ssize_t len;
		while (p[0].revents && (len = read(w->ifd, buf, sizeof(buf))) > 0) {
			for (char *q = buf; q < buf + len;) {
				const struct inotify_event *ev = (const struct inotify_event *)q;
				if (ev->mask & IN_Q_OVERFLOW) {
					for (size_t i = 0; i < w->n; i++)
						if (!w->v[i].due_ns)
							w->v[i].due_ns = now;
				} else {
					note_locked(w, ev->wd, ev->mask, now);
				}
				q += sizeof(*ev) + ev->len;
			}
		}
		char **out = calloc(w->n + 1, sizeof(*out));
		size_t n_out = 0;
		timeout = out ? tick_locked(w, now, out, &n_out) : (int)FS_WATCH_RETRY_MS;
		pthread_mutex_unlock(&w->lock);
		for (size_t i = 0; i < n_out; i++) {
			if (out[i])
				hub_publish(w->hub, HUB_RESOURCE_UPDATED, out[i]);
			free(out[i]);
		}
		free(out);
	}
	return NULL;
}

/* Open inotify and start the thread, once. Lock held. */
static enum moat_rc start_locked(struct fs_watcher *w, struct moat_err *err)
{
	if (w->started)
		return MOAT_OK;
	w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	w->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->ifd < 0 || w->stopfd < 0 || pthread_create(&w->thread, NULL, watch_thread, w) != 0) {
		int e = errno;
		if (w->ifd >= 0)
			close(w->ifd);
		if (w->stopfd >= 0)
			close(w->stopfd);
		w->ifd = w->stopfd = -1;
		return moat_err_set(err, MOAT_EIO, "cannot watch files (%s)", strerror(e));
	}
	w->started = true;
	return MOAT_OK;
}

static void entry_free(struct fs_watch_entry *e)
{
	free(e->uri);
	free(e->path);
}

enum moat_rc fs_watch_resource(void *data, const char *uri, bool on, struct moat_err *err)
{
	struct fs *fs = data;
	struct fs_watcher *w = fs->watcher;
	char path[PATH_MAX];
	enum moat_rc rc = MOAT_OK;

	if (!w || !fs_uri_to_path(uri, path, sizeof(path)))
		return moat_err_rule(err, MOAT_ENOTFOUND, "resources.not_subscribable",
				     "this resource cannot be subscribed to");
	pthread_mutex_lock(&w->lock);
	if (!on) {
		for (size_t i = 0; i < w->n; i++) {
			if (strcmp(w->v[i].uri, uri) != 0)
				continue;
			int wd = w->v[i].wd;
			entry_free(&w->v[i]);
			w->v[i] = w->v[--w->n];
			disarm_locked(w, wd);
			break;
		}
		pthread_mutex_unlock(&w->lock);
		return MOAT_OK;
	}
	if (w->n >= w->max) {
		rc = moat_err_rule(err, MOAT_ELIMIT, "limits.watches",
				   "fs.max_watches (%zu) files are already watched", w->max);
		goto out;
	}
	if ((rc = start_locked(w, err)))
		goto out;
	if (!w->v && !(w->v = calloc(w->max, sizeof(*w->v)))) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	struct fs_watch_entry e = {.wd = arm(w, path, err)};
	if (e.wd < 0) {
		rc = err->rc ? err->rc : MOAT_EIO;
		if (rc == MOAT_EINVAL)
			rc = err->rc = MOAT_ENOTFOUND; /* a directory: nothing to watch */
		goto out;
	}
	e.uri = strdup(uri);
	e.path = strdup(path);
	if (!e.uri || !e.path) {
		entry_free(&e);
		disarm_locked(w, e.wd);
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	w->v[w->n++] = e;
out:
	pthread_mutex_unlock(&w->lock);
	return rc;
}

void fs_watcher_free(struct fs_watcher *w)
{
	if (!w)
		return;
	if (w->started) {
		uint64_t one = 1;
		if (write(w->stopfd, &one, sizeof(one)) != (ssize_t)sizeof(one))
			log_warn("cannot stop the file watcher thread");
		else
			pthread_join(w->thread, NULL);
		close(w->ifd);
		close(w->stopfd);
	}
	for (size_t i = 0; i < w->n; i++)
		entry_free(&w->v[i]);
	free(w->v);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
