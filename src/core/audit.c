/*
 * audit.c - the audit trail writer: hash-chained JSON lines, appended in
 * batches by one writer thread, rotated by size, reopened on SIGHUP.
 *
 * The cost falls where it is cheapest. A tool thread formats its record
 * (audit_record.c, no printf, no jansson tree) and appends it to a queue
 * under a mutex: a memcpy, no system call. The writer thread, started on
 * the first record (after the sandbox: sandbox_apply wants no second
 * thread), takes the whole queue at once, adds each line's "prev" (the
 * SHA-256 of the line before), rotates when a line would pass max_bytes,
 * and appends the batch with one write(2). No fsync, no re-reading: the
 * last line's hash lives in memory.
 *
 * When records reach the file: a refusal, a failure or a security event
 * wakes the writer at once; successful calls are written within
 * AUDIT_FLUSH_MS, or as soon as AUDIT_FLUSH_BYTES are queued; audit_flush
 * and audit_close write everything queued. A crash of moat can therefore
 * lose at most the last AUDIT_FLUSH_MS of successful calls, never a
 * refusal already reported. If the thread cannot be started the writer
 * falls back to writing each record synchronously.
 *
 * A record that cannot be written (disk full) still advances the chain,
 * so the gap shows: `moat audit verify` reports the line after it. Files
 * are opened and renamed relative to the directory fd taken at audit_open,
 * before the sandbox; the sandbox grants that directory what rotation
 * needs (sandbox.c, SANDBOX_AUDIT_DIR).
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit_chain.h"
#include "audit_record.h"
#include "log.h"

#define AUDIT_FLUSH_MS 50
#define AUDIT_FLUSH_BYTES (64u * 1024u)
#define AUDIT_QUEUE_MAX (4u * 1024u * 1024u)

/* A plain growable byte queue (swapped whole between threads). */
struct audit_queue {
	char *p;
	size_t len, cap;
};

struct audit {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* the writer: work to do */
	pthread_cond_t done; /* callers: a batch was written, room was made */
	pthread_t thread;
	bool started;        /* the writer thread runs */
	bool sync_mode;      /* no thread: callers write under the lock */
	bool stop, flush_now, urgent, reopen_req;
	struct audit_queue queue; /* record bodies, each ending in '\n' */
	uint64_t queued, written; /* records queued / handled by the writer */
	uint64_t reopened;        /* reopens the writer has done */

	/* The file; touched by the writer thread only (or under the lock
	 * before it starts, and in sync mode). */
	int dirfd;     /* O_PATH directory of the file */
	int fd;        /* the file, O_APPEND */
	char *base;    /* file name within dirfd */
	uint64_t size; /* bytes in the current file */
	uint64_t max_bytes;
	unsigned keep;
	char prev[AUDIT_HEX_LEN + 1]; /* hash of the last line */
	bool need_nl;  /* the file ends inside a line (crash, short write) */
	bool synced;   /* prev is the last line of the file fd names */
	bool warned, warned_rotate, warned_queue;
	struct audit_queue out; /* the batch being assembled */
};

static void reopen_file(struct audit *a);

/* ---- opening ----------------------------------------------------------- */

/* mkdir -p of dir (absolute), each missing component 0700. */
static int make_dirs(const char *dir)
{
	char buf[PATH_MAX];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof(buf))
		return errno = ENAMETOOLONG, -1;
	memcpy(buf, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST)
			return -1;
		buf[i] = c;
	}
	return 0;
}

/* Open the file for appending; fills a->fd and a->size. */
static int open_file(struct audit *a)
{
	struct stat st;
	/* Read too: another moat may append to the same trail, and the next
	 * line must chain to whatever line is last (sync_tail). */
	int fd = openat(a->dirfd, a->base,
			O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return errno = EINVAL, -1;
	}
	a->fd = fd;
	a->size = (uint64_t)st.st_size;
	return 0;
}

/*
 * Make a->prev the hash of the file's last line, whoever wrote it: several
 * moat processes may share one trail (each client starts its own server).
 * An empty file continues the chain of FILE.1 (a rotation just before);
 * when there is none, prev stays as it is. -1 with errno when unreadable.
 */
static int sync_tail(struct audit *a)
{
	char rotated[NAME_MAX + 16];
	bool found = false, ends_nl = true;
	struct stat st;

	if (audit_tail_hash_fd(a->fd, a->prev, &found, &ends_nl) != 0)
		return -1;
	a->need_nl = !ends_nl;
	if (!found) {
		snprintf(rotated, sizeof(rotated), "%s.1", a->base);
		if (audit_tail_hash(a->dirfd, rotated, a->prev, &found, &ends_nl) != 0 &&
		    errno != EACCES) /* the sandbox may not let a shared directory be read */
			return -1;
	}
	if (fstat(a->fd, &st) == 0)
		a->size = (uint64_t)st.st_size;
	a->synced = true;
	return 0;
}

/*
 * Take the trail's lock (flock on the open file, shared by every moat
 * writing it) and make sure a->fd is still the file at the path (another
 * process may have rotated it) and a->prev its last line. Called by the
 * writer before each batch; the batch is appended under the lock.
 */
static void lock_current(struct audit *a)
{
	struct stat fst, pst;

	for (int tries = 0; tries < 8; tries++) {
		while (flock(a->fd, LOCK_EX) != 0) {
			if (errno != EINTR)
				return; /* no locking here: write unlocked */
		}
		if (fstat(a->fd, &fst) != 0 ||
		    fstatat(a->dirfd, a->base, &pst, AT_SYMLINK_NOFOLLOW) != 0 ||
		    (fst.st_ino == pst.st_ino && fst.st_dev == pst.st_dev)) {
			if (!a->synced || (uint64_t)fst.st_size != a->size)
				sync_tail(a); /* someone else appended, or we reopened */
			return;
		}
		/* Another process rotated the trail: follow it to the new file. */
		flock(a->fd, LOCK_UN);
		reopen_file(a);
	}
}

struct audit *audit_open(const struct audit_opts *o, struct moat_err *err)
{
	char dir[PATH_MAX];
	struct audit *a = NULL;
	const char *slash;

	if (!o->path || o->path[0] != '/' || !(slash = strrchr(o->path, '/')) || !slash[1]) {
		moat_err_set(err, MOAT_EINVAL, "audit.file: must be an absolute file path");
		return NULL;
	}
	if ((size_t)(slash - o->path) >= sizeof(dir) || strlen(slash + 1) > NAME_MAX) {
		moat_err_set(err, MOAT_EINVAL, "audit.file: path too long");
		return NULL;
	}
	(void)audit_dir_of(o->path, dir, sizeof(dir)); /* fits: checked above */
	if (o->make_dirs && make_dirs(dir) != 0) {
		moat_err_set(err, MOAT_EIO, "audit: cannot create the directory %s: %s", dir,
			     strerror(errno));
		return NULL;
	}
	if (!(a = calloc(1, sizeof(*a)))) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	a->fd = a->dirfd = -1;
	a->max_bytes = o->max_bytes;
	a->keep = o->keep > AUDIT_KEEP_MAX ? AUDIT_KEEP_MAX : o->keep;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->wake, NULL);
	pthread_cond_init(&a->done, NULL);
	if (!(a->base = strdup(slash + 1))) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto fail;
	}
	a->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (a->dirfd < 0 || open_file(a) != 0) {
		moat_err_set(err, MOAT_EIO, "audit: cannot open %s for appending: %s", o->path,
			     strerror(errno));
		goto fail;
	}
	/* Continue the chain: the last line of the file, or of the file
	 * rotated just before a restart. */
	memcpy(a->prev, audit_zero_hash, sizeof(a->prev));
	if (sync_tail(a) != 0)
		goto unreadable;
	return a;
unreadable:
	moat_err_set(err, MOAT_EIO, "audit: cannot read the last line of %s to continue its hash "
		     "chain: %s", o->path, strerror(errno));
fail:
	audit_close(a);
	return NULL;
}

/* ---- the file (writer side) ---------------------------------------------- */

static void warn_once(struct audit *a, bool *flag, const char *what)
{
	if (*flag)
		return;
	*flag = true;
	/* No file name: it may come from a ${NAME} secret, and this message
	 * can reach the client (notifications/message). */
	log_error("audit: %s the trail: %s (logged once; the server keeps serving)", what,
		  strerror(errno));
}

/* path.keep-1 -> path.keep ... path -> path.1, then a fresh file. */
static int rotate(struct audit *a)
{
	char from[NAME_MAX + 16], to[NAME_MAX + 16];
	int old = a->fd;

	if (a->keep == 0) {
		if (unlinkat(a->dirfd, a->base, 0) != 0 && errno != ENOENT)
			return -1;
	} else {
		for (unsigned i = a->keep - 1; i >= 1; i--) {
			snprintf(from, sizeof(from), "%s.%u", a->base, i);
			snprintf(to, sizeof(to), "%s.%u", a->base, i + 1);
			if (renameat(a->dirfd, from, a->dirfd, to) != 0 && errno != ENOENT)
				return -1;
		}
		snprintf(to, sizeof(to), "%s.1", a->base);
		if (renameat(a->dirfd, a->base, a->dirfd, to) != 0)
			return -1;
	}
	if (open_file(a) != 0) {
		a->fd = old; /* keep appending to the renamed file */
		return -1;
	}
	/* Lock the new file before the old one's lock goes with its fd, so a
	 * moat waiting on the old file finds the new one and waits here. */
	while (flock(a->fd, LOCK_EX) != 0 && errno == EINTR)
		;
	close(old);
	a->need_nl = false;
	if (a->size > 0) /* another moat created and wrote it in between */
		sync_tail(a);
	return 0;
}

static void reopen_file(struct audit *a)
{
	int old = a->fd;

	if (open_file(a) != 0) {
		a->fd = old;
		warn_once(a, &a->warned, "cannot reopen");
		return;
	}
	if (old >= 0)
		close(old);
	a->need_nl = false;
	a->synced = false; /* another process may have written the new file */
}

static bool queue_put(struct audit_queue *q, const char *s, size_t n, size_t max)
{
	if (q->len + n > q->cap) {
		size_t ncap = q->cap ? q->cap : 4096;
		char *np;
		while (ncap < q->len + n)
			ncap *= 2;
		if (ncap > max && q->len + n <= max)
			ncap = max;
		if (q->len + n > ncap || !(np = realloc(q->p, ncap)))
			return false;
		q->p = np;
		q->cap = ncap;
	}
	memcpy(q->p + q->len, s, n);
	q->len += n;
	return true;
}

/* Append a->out to the file; a short or failed write is logged once and
 * leaves need_nl set so the next line starts on a line of its own. */
static void write_out(struct audit *a)
{
	size_t off = 0;

	while (off < a->out.len) {
		ssize_t w = write(a->fd, a->out.p + off, a->out.len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			warn_once(a, &a->warned, "cannot write to");
			if (off > 0)
				a->need_nl = a->out.p[off - 1] != '\n';
			break;
		}
		off += (size_t)w;
		a->size += (uint64_t)w;
	}
	a->out.len = 0;
}

/* Turn queued bodies ("{...,\"bytes_out\":N\n" each) into chained lines
 * and append them, rotating where a line would pass max_bytes. */
static void emit(struct audit *a, const char *data, size_t len)
{
	static const char tail[] = ",\"prev\":\"";
	const char *end = data + len;

	if (len == 0)
		return;
	lock_current(a);
	while (data < end) {
		const char *nl = memchr(data, '\n', (size_t)(end - data));
		size_t body = nl ? (size_t)(nl - data) : (size_t)(end - data);
		size_t linelen = body + sizeof(tail) - 1 + AUDIT_HEX_LEN + 2;
		size_t start;

		if (a->max_bytes && a->size + a->out.len > 0 &&
		    a->size + a->out.len + linelen + 1 > a->max_bytes) {
			write_out(a);
			if (rotate(a) != 0)
				warn_once(a, &a->warned_rotate, "cannot rotate");
		}
		if (a->need_nl && a->out.len == 0) {
			queue_put(&a->out, "\n", 1, SIZE_MAX);
			a->need_nl = false;
		}
		start = a->out.len;
		if (!queue_put(&a->out, data, body, SIZE_MAX) ||
		    !queue_put(&a->out, tail, sizeof(tail) - 1, SIZE_MAX) ||
		    !queue_put(&a->out, a->prev, AUDIT_HEX_LEN, SIZE_MAX) ||
		    !queue_put(&a->out, "\"}\n", 3, SIZE_MAX)) {
			a->out.len = start; /* out of memory: the gap shows in the chain */
		} else {
			audit_hash_line(a->out.p + start, a->out.len - start - 1, a->prev);
		}
		data += body + (nl ? 1 : 0);
	}
	write_out(a);
	flock(a->fd, LOCK_UN);
}

/* ---- the writer thread ---------------------------------------------------- */

static void *writer_main(void *arg)
{
	struct audit *a = arg;
	struct audit_queue work = {0};

	pthread_mutex_lock(&a->lock);
	for (;;) {
		while (!a->stop && !a->reopen_req && a->queue.len == 0)
			pthread_cond_wait(&a->wake, &a->lock);
		if (!a->stop && !a->flush_now && !a->urgent && !a->reopen_req &&
		    a->queue.len < AUDIT_FLUSH_BYTES) {
			struct timespec dl;
			clock_gettime(CLOCK_REALTIME, &dl);
			dl.tv_nsec += AUDIT_FLUSH_MS * 1000000L;
			if (dl.tv_nsec >= 1000000000L) {
				dl.tv_sec++;
				dl.tv_nsec -= 1000000000L;
			}
			while (!a->stop && !a->flush_now && !a->urgent && !a->reopen_req &&
			       a->queue.len < AUDIT_FLUSH_BYTES &&
			       pthread_cond_timedwait(&a->wake, &a->lock, &dl) != ETIMEDOUT)
				;
		}
		struct audit_queue t = a->queue;
		a->queue = work;
		work = t;
		uint64_t target = a->queued;
		bool reopen = a->reopen_req, stopping = a->stop;
		a->flush_now = a->urgent = a->reopen_req = false;
		pthread_cond_broadcast(&a->done); /* room in the queue */
		pthread_mutex_unlock(&a->lock);

		emit(a, work.p, work.len); /* queued before the reopen: the old file */
		work.len = 0;
		if (reopen)
			reopen_file(a);

		pthread_mutex_lock(&a->lock);
		a->written = target;
		if (reopen)
			a->reopened++;
		pthread_cond_broadcast(&a->done);
		if (stopping && a->queue.len == 0)
			break;
	}
	pthread_mutex_unlock(&a->lock);
	free(work.p);
	return NULL;
}

/* Start the writer (under a->lock), with every signal blocked in it so a
 * signal meant for the transport's loop never lands there. */
static void start_writer(struct audit *a)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&a->thread, NULL, writer_main, a) == 0) {
		a->started = true;
	} else {
		a->sync_mode = true;
		log_warn("audit: no writer thread; writing each record synchronously");
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* ---- the API ------------------------------------------------------------------ */

void audit_write(struct audit *a, const struct audit_event *ev)
{
	struct audit_buf b;
	bool urgent;

	if (!a || !ev)
		return;
	audit_buf_init(&b, AUDIT_RECORD_MAX);
	audit_record_format(&b, ev);
	audit_buf_put(&b, "\n", 1);
	if (b.failed) {
		audit_buf_free(&b);
		return;
	}
	urgent = (ev->outcome && strcmp(ev->outcome, "ok") != 0) ||
		 (ev->kind && strcmp(ev->kind, "security") == 0);
	pthread_mutex_lock(&a->lock);
	if (!a->started && !a->sync_mode)
		start_writer(a);
	if (a->sync_mode) {
		emit(a, b.p, b.len);
		pthread_mutex_unlock(&a->lock);
		audit_buf_free(&b);
		return;
	}
	while (a->queue.len + b.len > AUDIT_QUEUE_MAX && !a->stop) {
		a->flush_now = true;
		pthread_cond_signal(&a->wake);
		pthread_cond_wait(&a->done, &a->lock);
	}
	if (queue_put(&a->queue, b.p, b.len, AUDIT_QUEUE_MAX)) {
		a->queued++;
		if (urgent)
			a->urgent = true;
		/* Wake the writer when the queue was empty (it then waits at most
		 * AUDIT_FLUSH_MS), for urgent records, and when a batch is full. */
		if (urgent || a->queue.len == b.len || a->queue.len >= AUDIT_FLUSH_BYTES)
			pthread_cond_signal(&a->wake);
	} else if (!a->warned_queue) {
		a->warned_queue = true;
		log_error("audit: out of memory queueing a record (logged once)");
	}
	pthread_mutex_unlock(&a->lock);
	audit_buf_free(&b);
}

void audit_flush(struct audit *a)
{
	uint64_t target;

	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	if (a->started) {
		target = a->queued;
		a->flush_now = true;
		pthread_cond_signal(&a->wake);
		while (a->written < target)
			pthread_cond_wait(&a->done, &a->lock);
	}
	pthread_mutex_unlock(&a->lock);
}

void audit_reopen(struct audit *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	if (a->started) {
		/* The writer appends what is queued to the old file, reopens,
		 * and says so; later records go to the new file. */
		uint64_t gen = a->reopened;
		a->reopen_req = true;
		pthread_cond_signal(&a->wake);
		while (a->reopened == gen)
			pthread_cond_wait(&a->done, &a->lock);
	} else {
		reopen_file(a); /* no writer: the file is ours under the lock */
	}
	pthread_mutex_unlock(&a->lock);
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_cond_signal(&a->wake);
	pthread_mutex_unlock(&a->lock);
	if (a->started)
		pthread_join(a->thread, NULL);
	if (a->fd >= 0)
		close(a->fd);
	if (a->dirfd >= 0)
		close(a->dirfd);
	free(a->base);
	free(a->queue.p);
	free(a->out.p);
	pthread_cond_destroy(&a->done);
	pthread_cond_destroy(&a->wake);
	pthread_mutex_destroy(&a->lock);
	free(a);
}
