/*
 * audit.c - the audit trail writer: one hash-chained JSON line per record,
 * appended with one write(2), rotated by size, reopened on SIGHUP.
 *
 * The record is formatted outside the lock into a bounded buffer (strings
 * escaped here, touched and id through jansson); only the "prev" field,
 * the SHA-256 of the finished line, the rotation check and the write run
 * under the lock. There is no fsync per record and the file is never
 * re-read while moat runs: the last line's hash lives in memory. Files are
 * opened and renamed relative to the directory fd taken at audit_open,
 * before the sandbox; the sandbox grants that directory what rotation
 * needs (sandbox.c, SANDBOX_AUDIT_DIR).
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "audit_chain.h"
#include "log.h"
#include "text.h"

/* Longest string field kept (client names come from the client). */
#define AUDIT_STR_MAX 256
/* Longest record; touched lists are bounded by callctx, so this is slack. */
#define AUDIT_RECORD_MAX (128u * 1024u)

struct audit {
	pthread_mutex_t lock;
	int dirfd;      /* O_PATH directory of the file */
	int fd;         /* the file, O_APPEND; -1 after a failed reopen */
	char *base;     /* file name within dirfd */
	uint64_t size;  /* bytes in the current file */
	uint64_t max_bytes;
	unsigned keep;
	char prev[AUDIT_HEX_LEN + 1]; /* hash of the last line written */
	bool need_nl;   /* the file ends inside a line (crash, short write) */
	bool warned;    /* a write failure has been logged */
	bool warned_rotate;
};

/* ---- a bounded output buffer -------------------------------------------- */

struct abuf {
	char *p;
	size_t len, cap;
	bool heap, failed;
	char inline_buf[2048];
};

static void ab_init(struct abuf *b)
{
	b->p = b->inline_buf;
	b->len = 0;
	b->cap = sizeof(b->inline_buf);
	b->heap = b->failed = false;
}

static void ab_free(struct abuf *b)
{
	if (b->heap)
		free(b->p);
}

static bool ab_reserve(struct abuf *b, size_t more)
{
	size_t ncap;
	char *np;

	if (b->failed)
		return false;
	if (b->len + more <= b->cap)
		return true;
	if (b->len + more > AUDIT_RECORD_MAX) {
		b->failed = true;
		return false;
	}
	ncap = b->cap * 2 > b->len + more ? b->cap * 2 : b->len + more;
	np = b->heap ? realloc(b->p, ncap) : malloc(ncap);
	if (!np) {
		b->failed = true;
		return false;
	}
	if (!b->heap)
		memcpy(np, b->p, b->len);
	b->p = np;
	b->cap = ncap;
	b->heap = true;
	return true;
}

static void ab_put(struct abuf *b, const char *s, size_t n)
{
	if (ab_reserve(b, n)) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
}

static void ab_puts(struct abuf *b, const char *s)
{
	ab_put(b, s, strlen(s));
}

/* A JSON string of s, cut to AUDIT_STR_MAX bytes on a UTF-8 boundary. */
static void ab_str(struct abuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = text_utf8_prefix(s, AUDIT_STR_MAX);

	ab_put(b, "\"", 1);
	while (n > 0) {
		size_t plain = text_json_plain(s, n, false);
		ab_put(b, s, plain);
		s += plain;
		n -= plain;
		if (n == 0)
			break;
		unsigned char c = (unsigned char)*s;
		char esc[6] = {'\\', (char)c, 0, 0, 0, 0};
		size_t el = 2;
		switch (c) {
		case '"':
		case '\\':
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			el = 6;
			break;
		}
		ab_put(b, esc, el);
		s++;
		n--;
	}
	ab_put(b, "\"", 1);
}

static void ab_field_str(struct abuf *b, const char *key, const char *v)
{
	if (!v)
		return;
	ab_put(b, ",\"", 2);
	ab_puts(b, key);
	ab_put(b, "\":", 2);
	ab_str(b, v);
}

static void ab_field_json(struct abuf *b, const char *key, const json_t *v)
{
	size_t need;

	if (!v)
		return;
	ab_put(b, ",\"", 2);
	ab_puts(b, key);
	ab_put(b, "\":", 2);
	need = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
	if (need == 0 || !ab_reserve(b, need)) {
		b->failed = false; /* too large: say so instead of dropping the record */
		ab_puts(b, "null");
		return;
	}
	b->len += json_dumpb(v, b->p + b->len, need, JSON_COMPACT | JSON_ENCODE_ANY);
}

static void ab_field_u64(struct abuf *b, const char *key, uint64_t v)
{
	char num[48];
	int n = snprintf(num, sizeof(num), ",\"%s\":%" PRIu64, key, v);

	if (n > 0 && (size_t)n < sizeof(num))
		ab_put(b, num, (size_t)n);
}

/* The record without its closing ",\"prev\":...}". */
static void format_record(struct abuf *b, const struct audit_event *ev)
{
	struct timespec ts;
	struct tm tm;
	char when[64];
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(when, sizeof(when), "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ\"",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
		     tm.tm_sec, ts.tv_nsec / 1000);
	if (n > 0 && (size_t)n < sizeof(when))
		ab_put(b, when, (size_t)n);
	ab_field_str(b, "kind", ev->kind);
	ab_field_str(b, "principal", ev->principal);
	ab_field_str(b, "client", ev->client_name);
	ab_field_str(b, "client_version", ev->client_version);
	ab_field_str(b, "session", ev->session);
	ab_field_json(b, "id", ev->request_id);
	ab_field_str(b, "tool", ev->tool);
	ab_field_str(b, "family", ev->family);
	ab_field_json(b, "touched", ev->touched);
	ab_field_str(b, "outcome", ev->outcome);
	ab_field_str(b, "rule", ev->rule);
	ab_field_u64(b, "duration_us", ev->duration_us);
	ab_field_u64(b, "bytes_out", (uint64_t)ev->bytes_out);
}

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
	int fd = openat(a->dirfd, a->base,
			O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);

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

struct audit *audit_open(const struct audit_opts *o, struct moat_err *err)
{
	char dir[PATH_MAX], rotated[NAME_MAX + 16];
	struct audit *a = NULL;
	const char *slash;
	bool found = false, ends_nl = true;

	if (!o->path || o->path[0] != '/' || !(slash = strrchr(o->path, '/')) || !slash[1]) {
		moat_err_set(err, MOAT_EINVAL, "audit.file: must be an absolute file path");
		return NULL;
	}
	if ((size_t)(slash - o->path) >= sizeof(dir) || strlen(slash + 1) > NAME_MAX) {
		moat_err_set(err, MOAT_EINVAL, "audit.file: path too long");
		return NULL;
	}
	memcpy(dir, o->path, (size_t)(slash - o->path));
	dir[slash - o->path] = '\0';
	if (dir[0] == '\0')
		strcpy(dir, "/");
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
	if (audit_tail_hash(a->dirfd, a->base, a->prev, &found, &ends_nl) != 0)
		goto unreadable;
	a->need_nl = !ends_nl;
	if (!found) {
		snprintf(rotated, sizeof(rotated), "%s.1", a->base);
		if (audit_tail_hash(a->dirfd, rotated, a->prev, &found, &ends_nl) != 0)
			goto unreadable;
	}
	if (!found)
		memcpy(a->prev, audit_zero_hash, sizeof(a->prev));
	return a;
unreadable:
	moat_err_set(err, MOAT_EIO, "audit: cannot read the last line of %s to continue its hash "
		     "chain: %s", o->path, strerror(errno));
fail:
	audit_close(a);
	return NULL;
}

void audit_close(struct audit *a)
{
	if (!a)
		return;
	if (a->fd >= 0)
		close(a->fd);
	if (a->dirfd >= 0)
		close(a->dirfd);
	free(a->base);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

/* ---- rotation and reopening (under a->lock) ------------------------------ */

static void warn_once(struct audit *a, bool *flag, const char *what)
{
	if (*flag)
		return;
	*flag = true;
	log_error("audit: %s %s: %s (logged once; the server keeps serving)", what, a->base,
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
	close(old);
	a->need_nl = false;
	return 0;
}

void audit_reopen(struct audit *a)
{
	int old;

	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	old = a->fd;
	if (open_file(a) != 0) {
		a->fd = old;
		warn_once(a, &a->warned, "cannot reopen");
	} else if (old >= 0) {
		close(old);
		a->need_nl = false;
	}
	pthread_mutex_unlock(&a->lock);
}

/* ---- writing ------------------------------------------------------------- */

void audit_write(struct audit *a, const struct audit_event *ev)
{
	struct abuf b;
	char hash[AUDIT_HEX_LEN + 1];
	const char *line;
	size_t start, len;
	ssize_t w;

	if (!a || !ev)
		return;
	ab_init(&b);
	ab_put(&b, "\n", 1); /* written only after a partial line */
	format_record(&b, ev);
	ab_puts(&b, ",\"prev\":\"");
	start = b.len;
	ab_puts(&b, audit_zero_hash);
	ab_put(&b, "\"}\n", 3);
	if (b.failed) {
		ab_free(&b);
		return;
	}
	pthread_mutex_lock(&a->lock);
	memcpy(b.p + start, a->prev, AUDIT_HEX_LEN);
	line = b.p + 1;
	len = b.len - 2; /* without the leading and the trailing newline */
	audit_hash_line(line, len, hash);
	if (a->max_bytes && a->size > 0 && a->size + len + 1 > a->max_bytes && rotate(a) != 0)
		warn_once(a, &a->warned_rotate, "cannot rotate");
	if (a->need_nl) {
		line = b.p;
		len++;
	}
	w = write(a->fd, line, len + 1);
	if (w == (ssize_t)(len + 1)) {
		memcpy(a->prev, hash, sizeof(hash));
		a->size += (uint64_t)w;
		a->need_nl = false;
	} else {
		if (w >= 0)
			errno = ENOSPC;
		warn_once(a, &a->warned, "cannot write to");
		if (w > 0) { /* a partial line: chain to its bytes, end it next time */
			size_t skip = a->need_nl ? 1 : 0;
			if ((size_t)w > skip)
				audit_hash_line(line + skip, (size_t)w - skip, a->prev);
			a->size += (uint64_t)w;
			a->need_nl = true;
		}
	}
	pthread_mutex_unlock(&a->lock);
	ab_free(&b);
}
