/*
 * fs_write.c - the fs family's write tools: write_file, edit_file,
 * create_directory and move_file, registered only when some root is
 * configured "write": true.
 *
 * Names, parameters and result texts follow the reference filesystem server
 * (@modelcontextprotocol/server-filesystem): edit_file applies each edit in
 * order (the first exact occurrence of oldText, else the first run of lines
 * equal to oldText's lines once leading and trailing whitespace is trimmed,
 * re-indented the way the reference does) and answers with the reference's
 * unified diff (fs_diff.c) in a ``` block.
 *
 * What moat adds: every target must lie in a root configured "write": true
 * (fs_require_write), checked per path, so a read-only root stays read-only
 * when another root is writable. Files are replaced atomically: a ".moat-"
 * temporary file is created O_EXCL|O_NOFOLLOW in the same directory (opened
 * beneath the root), written, fsync'ed and renamed over the name; on any
 * failure it is removed. A final symbolic link is never written through nor
 * replaced: write_file and edit_file refuse it. The existing file's mode is
 * kept (and its owner, when the process may set it). edit_file refuses to
 * write if the file changed since it was read, and keeps the CRLF line
 * endings of a file that uses them throughout (the reference turns them
 * into LF). create_directory opens the existing part of the path beneath
 * the root (symlinks that stay inside are followed) and creates the rest
 * with mkdirat, entering each new directory O_NOFOLLOW. move_file uses renameat2(RENAME_NOREPLACE) so an
 * existing destination is never replaced. Handlers run on worker threads
 * and share only the immutable struct fs and a refcounted view.
 */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fs_diff.h"
#include "fs_util.h"
#include "log.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#endif

#define WRITE_CHUNK ((size_t)1 << 20)
#define TMP_PREFIX ".moat-"
#define TMP_TRIES 16
#define MAX_EDITS "1000"
/* Room kept out of the output budget for the JSON-RPC envelope. */
#define ENVELOPE_RESERVE ((size_t)512)

static const char SYMLINK_REFUSED[] =
	"refused: the path is a symbolic link; write_file and edit_file never write through "
	"or replace a link (name the file it points to instead)";

/* ---- small helpers -------------------------------------------------------- */

/* A growable buffer that refuses to pass max bytes. Owned by its user. */
struct wbuf {
	char *p;
	size_t len, cap, max;
	bool over;
};

static bool wbuf_add(struct wbuf *b, const char *s, size_t n)
{
	if (b->over)
		return false;
	if (n > b->max - b->len) {
		b->over = true;
		return false;
	}
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 4096;
		while (nc < b->len + n + 1)
			nc *= 2;
		char *np = realloc(b->p, nc);
		if (!np)
			return false;
		b->p = np;
		b->cap = nc;
	}
	if (n)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}

/* The error for a failed wbuf_add: over the limit named by what, or ENOMEM. */
static enum moat_rc wbuf_error(const struct wbuf *b, const char *what, struct moat_err *err)
{
	if (b->over)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.file_size",
				     "%s is larger than fs.max_file_size (%zu bytes)", what, b->max);
	return moat_err_set(err, MOAT_ENOMEM, "out of memory");
}

/* Map a failed write-side system call on t (may be NULL) to a message
 * naming the rule and t's path within its root. */
static enum moat_rc sys_error(int e, const char *what, const struct fs_target *t,
			      struct moat_err *err)
{
	char rel[256] = "";

	if (t)
		fs_show_rel(t, rel, sizeof(rel));
	switch (e) {
	case ENOENT:
		return moat_err_set(err, MOAT_ENOTFOUND, "%s: no such file or directory: %s", what,
				    rel);
	case EEXIST:
	case ENOTEMPTY:
		return moat_err_rule(err, MOAT_EINVAL, "fs.exists", "%s: already exists: %s", what,
				     rel);
	case ENOTDIR:
		return moat_err_set(err, MOAT_EINVAL, "%s: not a directory: a component of %s", what,
				    rel);
	case EISDIR:
		return moat_err_set(err, MOAT_EINVAL, "%s: is a directory: %s", what, rel);
	case ELOOP:
		return moat_err_rule(err, MOAT_EDENIED, "fs.symlink",
				     "%s: refused: a symbolic link where none is followed: %s", what,
				     rel);
	case EXDEV:
		return moat_err_set(err, MOAT_EDENIED,
				    "%s: refused: across file systems or out of the allowed "
				    "directory: %s",
				    what, rel);
	case EACCES:
	case EPERM:
		return moat_err_set(err, MOAT_EDENIED,
				    "%s: permission denied by the operating system: %s", what, rel);
	case EROFS:
		return moat_err_set(err, MOAT_EDENIED, "%s: the file system is read-only: %s", what,
				    rel);
	case ENOSPC:
	case EDQUOT:
		return moat_err_set(err, MOAT_EIO, "%s: no space left on the device: %s", what, rel);
	case ENAMETOOLONG:
		return moat_err_rule(err, MOAT_EINVAL, "fs.invalid_path",
				     "%s: a path component is too long: %s", what, rel);
	default:
		return moat_err_set(err, MOAT_EIO, "%s: %s: %s", what, rel, strerror(e));
	}
}

/* Copy inner (a failed step's error) into err with prefix ("source"),
 * keeping its code and rule. */
static enum moat_rc rewrap(struct moat_err *err, const struct moat_err *inner, const char *prefix)
{
	if (err)
		err->rule = inner->rule;
	return prefix ? moat_err_set(err, inner->rc, "%s: %s", prefix, inner->msg)
		      : moat_err_set(err, inner->rc, "%s", inner->msg);
}

/* Resolve path in v, record it as touched (fs_touch, or fs_touch_add
 * when add) and require its root to be writable. */
static enum moat_rc writable_target(struct call_ctx *ctx, const struct fs_view *v,
				    const char *path, struct fs_target *t, bool add,
				    struct moat_err *err)
{
	enum moat_rc rc = fs_resolve(v, path, t, err);

	if (rc)
		return rc;
	if (add)
		fs_touch_add(ctx, t);
	else
		fs_touch(ctx, t);
	return fs_require_write(t, err);
}

/* Open t's parent for a write; a missing parent gets the reference's words. */
static int open_parent(const struct fs_target *t, const char **name, struct moat_err *err)
{
	int fd = fs_open_parent(t, name, err);

	if (fd < 0 && err->rc == MOAT_ENOTFOUND) {
		char rel[256];
		moat_err_set(err, MOAT_ENOTFOUND, "Parent directory does not exist: %s",
			     fs_show_rel(t, rel, sizeof(rel)));
	}
	return fd;
}

/* Fill out with text as a text block and {content: text}. */
static enum moat_rc reply(struct tool_result *out, const char *text, struct moat_err *err)
{
	if (tool_result_text(out, text))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	out->structured = json_pack("{s:s}", "content", text);
	if (!out->structured)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return MOAT_OK;
}

/* reply() for text of len bytes that may hold NUL bytes (a diff of
 * content written with them). */
static enum moat_rc reply_n(struct tool_result *out, const char *text, size_t len,
			    struct moat_err *err)
{
	json_t *str = json_stringn(text, len), *block;

	if (!str)
		return moat_err_set(err, MOAT_EINTERNAL, "result text is not valid UTF-8");
	out->structured = json_pack("{s:O}", "content", str);
	block = json_pack("{s:s, s:o}", "type", "text", "text", str); /* takes str */
	if (!out->structured || !block || (!out->content && !(out->content = json_array()))) {
		json_decref(block);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	if (json_array_append_new(out->content, block) != 0)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return MOAT_OK;
}

/* reply() with "<prefix><path>[<mid><path2>]". */
static enum moat_rc reply_paths(struct tool_result *out, const char *prefix, const char *path,
				const char *mid, const char *path2, struct moat_err *err)
{
	char text[2 * PATH_MAX + 128];
	int n = snprintf(text, sizeof(text), "%s%s%s%s", prefix, path, mid ? mid : "",
			 path2 ? path2 : "");

	if (n < 0 || (size_t)n >= sizeof(text))
		return moat_err_set(err, MOAT_EINTERNAL, "result text too long");
	return reply(out, text, err);
}

/* fs_diff_check_fn over a struct call_ctx. */
static enum moat_rc diff_check(void *arg, struct moat_err *err)
{
	return callctx_check(arg, err);
}

/* A fresh temporary name ".moat-" + 12 characters of [a-z0-9]. */
static void tmp_name(char *buf, size_t n)
{
	static const char abc[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[12];

	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		/* No entropy syscall: the name only needs to be unlikely to
		 * collide; O_EXCL makes a collision a retry, not a hazard. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^
			     ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)buf;
		for (size_t i = 0; i < sizeof(rnd); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			rnd[i] = (unsigned char)x;
		}
	}
	size_t o = (size_t)snprintf(buf, n, "%s", TMP_PREFIX);
	for (size_t i = 0; i < sizeof(rnd) && o + 1 < n; i++)
		buf[o++] = abc[rnd[i] % (sizeof(abc) - 1)];
	buf[o] = '\0';
}

/* ---- the atomic write ------------------------------------------------------ */

/*
 * write_atomic - replace (or create) the file t names with data[0..len):
 * temp file in the same directory, write, fsync, rename over the name. The
 * existing file's permission bits are kept; a new file gets 0644 less the
 * umask; the owner is kept when the process may set it. A symlink,
 * directory or special file at the name is refused. When expect is not
 * NULL the name must still be that file, unmodified (device, inode, size,
 * mtime), checked just before the rename. The temp file never survives a failure.
 */
static enum moat_rc write_atomic(struct call_ctx *ctx, const struct fs_target *t,
				 const char *data, size_t len, const struct stat *expect,
				 struct moat_err *err)
{
	char tmp[32] = "";
	const char *name;
	int pfd = -1, tfd = -1, dfd;
	bool have_tmp = false, keep_mode = false;
	mode_t mode = 0;
	struct stat st;
	enum moat_rc rc = MOAT_OK;

	pfd = open_parent(t, &name, err);
	if (pfd < 0)
		return err->rc;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		char rel[256];
		fs_show_rel(t, rel, sizeof(rel));
		if (S_ISLNK(st.st_mode)) {
			rc = moat_err_rule(err, MOAT_EDENIED, "fs.symlink", "%s: %s", rel,
					   SYMLINK_REFUSED);
			goto out;
		}
		if (S_ISDIR(st.st_mode)) {
			rc = moat_err_rule(err, MOAT_EINVAL, "fs.not_a_file",
					   "is a directory, not a file: %s", rel);
			goto out;
		}
		if (!S_ISREG(st.st_mode)) {
			rc = moat_err_rule(err, MOAT_EDENIED, "fs.special_file",
					   "refused: %s is not a regular file (FIFOs, devices and "
					   "sockets are never written)",
					   rel);
			goto out;
		}
		mode = st.st_mode & 0777;
		keep_mode = true;
	} else if (errno != ENOENT) {
		rc = sys_error(errno, "cannot write", t, err);
		goto out;
	} else if (expect) {
		rc = moat_err_rule(err, MOAT_ENOTFOUND, "fs.changed",
				   "refused: the file was removed while it was being edited");
		goto out;
	}
	for (int i = 0; i < TMP_TRIES && tfd < 0; i++) {
		tmp_name(tmp, sizeof(tmp));
		tfd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (tfd < 0 && errno != EEXIST) {
			rc = sys_error(errno, "cannot create a temporary file", t, err);
			goto out;
		}
	}
	if (tfd < 0) {
		rc = moat_err_set(err, MOAT_EIO, "cannot create a temporary file: names collide");
		goto out;
	}
	have_tmp = true;
	/* Keep the owner where we may (running as root); failing is fine. */
	if (keep_mode && (st.st_uid != geteuid() || st.st_gid != getegid()) &&
	    fchown(tfd, st.st_uid, st.st_gid) != 0)
		log_debug("write: cannot keep the file's owner: %s", strerror(errno));
	if (keep_mode && fchmod(tfd, mode) != 0) {
		rc = sys_error(errno, "cannot set the file mode", t, err);
		goto out;
	}
	for (size_t off = 0; off < len;) {
		size_t chunk = len - off < WRITE_CHUNK ? len - off : WRITE_CHUNK;
		ssize_t w;
		if ((rc = callctx_check(ctx, err)))
			goto out;
		w = write(tfd, data + off, chunk);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			rc = sys_error(errno, "write failed", t, err);
			goto out;
		}
		off += (size_t)w;
	}
	if (fsync(tfd) != 0) {
		rc = sys_error(errno, "fsync failed", t, err);
		goto out;
	}
	if (close(tfd) != 0) {
		tfd = -1;
		rc = sys_error(errno, "write failed", t, err);
		goto out;
	}
	tfd = -1;
	if (expect) {
		if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(st.st_mode) ||
		    st.st_dev != expect->st_dev || st.st_ino != expect->st_ino ||
		    st.st_size != expect->st_size ||
		    st.st_mtim.tv_sec != expect->st_mtim.tv_sec ||
		    st.st_mtim.tv_nsec != expect->st_mtim.tv_nsec) {
			rc = moat_err_rule(err, MOAT_EDENIED, "fs.changed",
					   "refused: the file was changed or replaced while it was "
					   "being edited; nothing was written");
			goto out;
		}
	}
	/* Last cancellation point: after the rename the write has happened. */
	if ((rc = callctx_check(ctx, err)))
		goto out;
	if (renameat(pfd, tmp, pfd, name) != 0) {
		rc = sys_error(errno, "cannot replace the file", t, err);
		goto out;
	}
	have_tmp = false;
	/* Make the rename durable; best effort (the data already is). */
	dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
out:
	if (tfd >= 0)
		close(tfd);
	if (have_tmp)
		(void)unlinkat(pfd, tmp, 0);
	close(pfd);
	return rc;
}

/*
 * refuse_link - MOAT_EDENIED when the last component of t is a symbolic
 * link (edit_file checks before reading, so a dryRun answers as the write
 * would). Other failures are left to the open that follows.
 */
static enum moat_rc refuse_link(const struct fs_target *t, struct moat_err *err)
{
	struct moat_err ignored = {0};
	const char *name;
	struct stat st;
	bool link;
	int pfd = fs_open_parent(t, &name, &ignored);

	if (pfd < 0)
		return MOAT_OK;
	link = fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
	close(pfd);
	if (!link)
		return MOAT_OK;
	char rel[256];
	return moat_err_rule(err, MOAT_EDENIED, "fs.symlink", "%s: %s",
			     fs_show_rel(t, rel, sizeof(rel)), SYMLINK_REFUSED);
}

/* ---- write_file ------------------------------------------------------------ */

/* write_file {path, content}: create or replace the file atomically. data is
 * the struct fs (borrowed). Thread-safe. */

static enum moat_rc write_file_tool(struct call_ctx *ctx, void *data, json_t *args,
				    struct tool_result *out, struct moat_err *err)
{
	struct fs *fs = data;
	const char *path = json_string_value(json_object_get(args, "path"));
	json_t *content = json_object_get(args, "content");
	size_t len = json_string_length(content);
	struct fs_view *v = NULL;
	struct fs_target t;
	enum moat_rc rc;

	if (len > fs->lim.max_file_size)
		return moat_err_rule(err, MOAT_ELIMIT, "limits.file_size",
				     "content is larger than fs.max_file_size (%zu bytes)",
				     fs->lim.max_file_size);
	v = fs_view_get(fs);
	if ((rc = writable_target(ctx, v, path, &t, false, err)))
		goto out;
	/* content may hold NUL bytes (tool_spec.nul_ok): written whole, by length */
	if ((rc = write_atomic(ctx, &t, json_string_value(content), len, NULL, err)))
		goto out;
	rc = reply_paths(out, "Successfully wrote to ", path, NULL, NULL, err);
out:
	fs_view_put(fs, v);
	return rc;
}

/* ---- edit_file ------------------------------------------------------------- */

/* Byte length of the JavaScript whitespace character (\s, trim) at p, or 0.
 * p holds valid UTF-8; n bytes are left. */
static size_t ws_at(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;

	if (n == 0)
		return 0;
	if (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r'))
		return 1;
	if (n >= 2 && u[0] == 0xC2 && u[1] == 0xA0) /* U+00A0 */
		return 2;
	if (n < 3)
		return 0;
	if (u[0] == 0xE1 && u[1] == 0x9A && u[2] == 0x80) /* U+1680 */
		return 3;
	/* U+2000-200A, U+2028, U+2029, U+202F */
	if (u[0] == 0xE2 && u[1] == 0x80 &&
	    ((u[2] >= 0x80 && u[2] <= 0x8A) || u[2] == 0xA8 || u[2] == 0xA9 || u[2] == 0xAF))
		return 3;
	if (u[0] == 0xE2 && u[1] == 0x81 && u[2] == 0x9F) /* U+205F */
		return 3;
	if (u[0] == 0xE3 && u[1] == 0x80 && u[2] == 0x80) /* U+3000 */
		return 3;
	if (u[0] == 0xEF && u[1] == 0xBB && u[2] == 0xBF) /* U+FEFF */
		return 3;
	return 0;
}

/* Byte length of the whitespace character ending at p + n, or 0. */
static size_t ws_before(const char *p, size_t n)
{
	if (n >= 1 && ws_at(p + n - 1, 1) == 1)
		return 1;
	if (n >= 2 && ws_at(p + n - 2, 2) == 2)
		return 2;
	if (n >= 3 && ws_at(p + n - 3, 3) == 3)
		return 3;
	return 0;
}

/* A line: bytes [p, p + len), no '\n'. */
struct span {
	const char *p;
	size_t len;
};

/* Leading whitespace of s: its byte length, and *chars its length in
 * UTF-16 units (all JavaScript whitespace is in the BMP: one unit each). */
static size_t lead_ws(struct span s, size_t *chars)
{
	size_t o = 0, c = 0, k;

	while ((k = ws_at(s.p + o, s.len - o)) > 0) {
		o += k;
		c++;
	}
	if (chars)
		*chars = c;
	return o;
}

/* s with JavaScript trim() applied. */
static struct span trim(struct span s)
{
	size_t k, lead = lead_ws(s, NULL);

	s.p += lead;
	s.len -= lead;
	while ((k = ws_before(s.p, s.len)) > 0)
		s.len -= k;
	return s;
}

/* Split s[0..len) at every '\n' (JavaScript split: n newlines, n + 1 parts). */
static enum moat_rc split_lines(const char *s, size_t len, struct span **out, size_t *n,
				struct moat_err *err)
{
	size_t count = 1, i = 0;
	struct span *v;
	const char *p = s, *end = s + len, *nl;

	for (size_t k = 0; k < len; k++)
		if (s[k] == '\n')
			count++;
	v = calloc(count, sizeof(*v));
	if (!v)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		v[i++] = (struct span){p, (size_t)(nl - p)};
		p = nl + 1;
	}
	v[i] = (struct span){p, (size_t)(end - p)};
	*out = v;
	*n = count;
	return MOAT_OK;
}

/* A copy of s[0..len) with every "\r\n" turned into "\n" (NUL-terminated). */
static char *lf_copy(const char *s, size_t len, size_t *out_len)
{
	char *d = malloc(len + 1);
	size_t o = 0;

	if (!d)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n')
			continue;
		d[o++] = s[i];
	}
	d[o] = '\0';
	*out_len = o;
	return d;
}

/*
 * apply_lines - the reference's whitespace-flexible match: the first run of
 * cur's lines equal to old's lines after trim(), replaced by nw's lines
 * re-indented (first line takes the matched line's indent; a later line
 * whose indent and old counterpart's indent are both non-empty gets the
 * matched indent plus the extra spaces it had). *found false when no run
 * matches. res receives the new text.
 */
static enum moat_rc apply_lines(struct call_ctx *ctx, const struct wbuf *cur, const char *old,
				size_t olen, const char *nw, size_t nlen, struct wbuf *res,
				bool *found, struct moat_err *err)
{
	struct span *cl = NULL, *ol = NULL, *nl = NULL, *tc = NULL, *to = NULL;
	size_t nc = 0, no = 0, nn = 0, at = 0, steps = 0;
	enum moat_rc rc;

	*found = false;
	if ((rc = split_lines(cur->p, cur->len, &cl, &nc, err)) ||
	    (rc = split_lines(old, olen, &ol, &no, err)) ||
	    (rc = split_lines(nw, nlen, &nl, &nn, err)))
		goto out;
	/* The trimmed lines, once: the search compares them up to nc * no
	 * times. Every comparison counts; the deadline is polled every
	 * 65536 of them, so a file of blank lines and an oldText of many
	 * cannot run past it. */
	tc = malloc(nc * sizeof(*tc));
	to = malloc(no * sizeof(*to));
	if (!tc || !to) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nc; i++)
		tc[i] = trim(cl[i]);
	for (size_t j = 0; j < no; j++)
		to[j] = trim(ol[j]);
	for (size_t i = 0; no <= nc && i <= nc - no && !*found; i++) {
		size_t j = 0;
		for (; j < no; j++) {
			if ((++steps & 65535) == 0 && (rc = callctx_check(ctx, err)))
				goto out;
			if (to[j].len != tc[i + j].len || memcmp(to[j].p, tc[i + j].p, to[j].len) != 0)
				break;
		}
		if (j == no) {
			*found = true;
			at = i;
		}
	}
	if (!*found)
		goto out;
	size_t indent = lead_ws(cl[at], NULL);
	for (size_t i = 0; i < at; i++)
		if (!wbuf_add(res, cl[i].p, cl[i].len) || !wbuf_add(res, "\n", 1))
			goto full;
	for (size_t j = 0; j < nn; j++) {
		size_t nchars, ochars = 0;
		size_t nws = lead_ws(nl[j], &nchars);
		size_t ows = j < no ? lead_ws(ol[j], &ochars) : 0;
		if (j > 0 && !wbuf_add(res, "\n", 1))
			goto full;
		if (j == 0 || (ows > 0 && nws > 0)) {
			if (!wbuf_add(res, cl[at].p, indent))
				goto full;
			for (size_t k = ochars; j > 0 && k < nchars; k++)
				if (!wbuf_add(res, " ", 1))
					goto full;
			if (!wbuf_add(res, nl[j].p + nws, nl[j].len - nws))
				goto full;
		} else if (!wbuf_add(res, nl[j].p, nl[j].len)) {
			goto full;
		}
	}
	for (size_t i = at + no; i < nc; i++)
		if (!wbuf_add(res, "\n", 1) || !wbuf_add(res, cl[i].p, cl[i].len))
			goto full;
	if (!res->p && !wbuf_add(res, "", 0))
		goto full;
	goto out;
full:
	rc = wbuf_error(res, "the edited file", err);
out:
	free(cl);
	free(ol);
	free(nl);
	free(tc);
	free(to);
	return rc;
}

/*
 * apply_edit - apply edit number idx (0-based) to cur, replacing its text.
 * Exact match first (the first occurrence; an empty oldText matches at the
 * start), then apply_lines. MOAT_ENOTFOUND when neither matches.
 */
static enum moat_rc apply_edit(struct call_ctx *ctx, struct wbuf *cur, const json_t *edit,
			       size_t idx, struct moat_err *err)
{
	const json_t *jo = json_object_get(edit, "oldText"), *jn = json_object_get(edit, "newText");
	size_t olen = 0, nlen = 0;
	char *old = lf_copy(json_string_value(jo), json_string_length(jo), &olen);
	char *nw = lf_copy(json_string_value(jn), json_string_length(jn), &nlen);
	struct wbuf res = {.max = cur->max};
	const char *hit;
	bool found = false;
	enum moat_rc rc = MOAT_OK;

	if (!old || !nw) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	hit = olen == 0 ? cur->p : memmem(cur->p, cur->len, old, olen);
	if (hit) {
		size_t pos = (size_t)(hit - cur->p);
		if (!wbuf_add(&res, cur->p, pos) || !wbuf_add(&res, nw, nlen) ||
		    !wbuf_add(&res, cur->p + pos + olen, cur->len - pos - olen)) {
			rc = wbuf_error(&res, "the edited file", err);
			goto out;
		}
	} else {
		if ((rc = apply_lines(ctx, cur, old, olen, nw, nlen, &res, &found, err)))
			goto out;
		if (!found) {
			rc = moat_err_set(err, MOAT_ENOTFOUND,
					  "Could not find exact match for edit %zu: its oldText "
					  "matches neither exactly nor line by line with leading and "
					  "trailing whitespace ignored; nothing was changed",
					  idx + 1);
			goto out;
		}
	}
	free(cur->p);
	*cur = res;
	res.p = NULL;
out:
	free(res.p);
	free(old);
	free(nw);
	return rc;
}

/* True when text has "\r\n" and every '\n' in it follows a '\r'. */
static bool all_crlf(const char *s, size_t len)
{
	bool any = false;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\n')
			continue;
		if (i == 0 || s[i - 1] != '\r')
			return false;
		any = true;
	}
	return any;
}

/* Bytes the JSON string encoding of s[0..len) takes (jansson's escapes). */
static size_t json_len(const char *s, size_t len)
{
	size_t n = 2;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' ||
		    c == '\f')
			n += 2;
		else if (c < 0x20)
			n += 6;
		else
			n++;
	}
	return n;
}

/* edit_file {path, edits, dryRun?}: apply the edits in memory, answer with
 * the fenced diff, and unless dryRun replace the file atomically (refused if
 * it was replaced meanwhile). data is the struct fs (borrowed). Thread-safe. */
static enum moat_rc edit_file_tool(struct call_ctx *ctx, void *data, json_t *args,
				   struct tool_result *out, struct moat_err *err)
{
	struct fs *fs = data;
	const char *path = json_string_value(json_object_get(args, "path"));
	json_t *edits = json_object_get(args, "edits"), *edit;
	bool dry = json_is_true(json_object_get(args, "dryRun"));
	struct fs_view *v = NULL;
	struct fs_target t;
	struct stat st;
	char *raw = NULL, *orig = NULL, *diff = NULL, *fenced = NULL, *crlf = NULL;
	size_t rawlen = 0, origlen = 0, difflen = 0, fencedlen = 0, room, idx;
	struct wbuf cur = {.max = fs->lim.max_file_size};
	int fd = -1;
	bool keep_crlf;
	enum moat_rc rc;

	v = fs_view_get(fs);
	if ((rc = writable_target(ctx, v, path, &t, false, err)) || (rc = refuse_link(&t, err)))
		goto out;
	fd = fs_open_file(&t, &st, err);
	if (fd < 0) {
		rc = err->rc;
		goto out;
	}
	if ((uint64_t)st.st_size > (uint64_t)fs->lim.max_file_size) {
		char rel[256];
		rc = moat_err_rule(err, MOAT_ELIMIT, "limits.file_size",
				   "%s is larger than fs.max_file_size (%zu bytes)",
				   fs_show_rel(&t, rel, sizeof(rel)), fs->lim.max_file_size);
		goto out;
	}
	if ((rc = fs_read_all(fd, fs->lim.max_file_size, ctx, &raw, &rawlen, err)))
		goto out;
	if (!fs_utf8_valid(raw, rawlen)) {
		char rel[256];
		rc = moat_err_rule(err, MOAT_EINVAL, "fs.not_text",
				   "edit_file edits UTF-8 text: %s is not valid UTF-8 or holds NUL "
				   "bytes",
				   fs_show_rel(&t, rel, sizeof(rel)));
		goto out;
	}
	keep_crlf = all_crlf(raw, rawlen);
	orig = lf_copy(raw, rawlen, &origlen);
	if (!orig || !wbuf_add(&cur, orig, origlen)) {
		rc = wbuf_error(&cur, "the file", err);
		goto out;
	}
	json_array_foreach(edits, idx, edit) {
		if ((rc = callctx_check(ctx, err)) || (rc = apply_edit(ctx, &cur, edit, idx, err)))
			goto out;
	}
	/* The text goes out twice (content and structuredContent), escaped. */
	room = ctx->output_budget > ENVELOPE_RESERVE ? (ctx->output_budget - ENVELOPE_RESERVE) / 2
						     : 1;
	struct fs_diff_opts o = {.context = FS_DIFF_REFERENCE_CONTEXT,
				 .max_bytes = room,
				 .check = diff_check,
				 .check_arg = ctx};
	rc = fs_diff_unified(t.abs, orig, origlen, cur.p, cur.len, &o, &diff, &difflen, NULL, err);
	if (rc == MOAT_ELIMIT || (rc == MOAT_OK && json_len(diff, difflen) + 16 > room)) {
		rc = moat_err_rule(err, MOAT_ELIMIT, "limits.output",
				   "the diff is larger than the output limit "
				   "(limits.max_output_bytes); nothing was written: make smaller "
				   "edits or use write_file");
		goto out;
	}
	if (rc || (rc = fs_diff_fence(diff, difflen, &fenced, &fencedlen, err)))
		goto out;
	if (!dry) {
		const char *wdata = cur.p;
		size_t wlen = cur.len;
		if (keep_crlf) {
			struct wbuf c = {.max = fs->lim.max_file_size};
			for (size_t i = 0; i < cur.len; i++) {
				bool ok = cur.p[i] == '\n' ? wbuf_add(&c, "\r\n", 2)
							   : wbuf_add(&c, cur.p + i, 1);
				if (!ok) {
					free(c.p);
					rc = wbuf_error(&c, "the edited file", err);
					goto out;
				}
			}
			crlf = c.p;
			wdata = c.p ? c.p : "";
			wlen = c.len;
		}
		if ((rc = write_atomic(ctx, &t, wdata, wlen, &st, err)))
			goto out;
	}
	rc = reply_n(out, fenced, fencedlen, err);
out:
	if (fd >= 0)
		close(fd);
	free(raw);
	free(orig);
	free(cur.p);
	free(crlf);
	free(diff);
	free(fenced);
	fs_view_put(fs, v);
	return rc;
}

/* ---- create_directory ------------------------------------------------------ */

/* Split rel into components, folding "." and ".." lexically (as the
 * reference's path.resolve does). MOAT_EDENIED if ".." climbs above the
 * root. comps point into buf, which is modified. */
static enum moat_rc dir_components(char *buf, char **comps, size_t max, size_t *n,
				   struct moat_err *err)
{
	size_t k = 0;
	char *p = buf, *slash;

	for (;;) {
		slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (strcmp(p, "..") == 0) {
			if (k == 0)
				return moat_err_rule(err, MOAT_EDENIED, "fs.outside_root",
						     "access denied: the path leaves its allowed "
						     "directory through '..'");
			k--;
		} else if (*p && strcmp(p, ".") != 0) {
			if (k == max)
				return moat_err_rule(err, MOAT_EINVAL, "fs.invalid_path",
						     "path has too many components");
			comps[k++] = p;
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	*n = k;
	return MOAT_OK;
}

/* create_directory {path}: mkdir -p beneath the root; an existing directory
 * is success. data is the struct fs (borrowed). Thread-safe. */
static enum moat_rc create_directory_tool(struct call_ctx *ctx, void *data, json_t *args,
					  struct tool_result *out, struct moat_err *err)
{
	struct fs *fs = data;
	const char *path = json_string_value(json_object_get(args, "path"));
	struct fs_view *v = NULL;
	struct fs_target t, prefix;
	char buf[PATH_MAX];
	char **cv = NULL;
	size_t n = 0, i = 0;
	int cur = -1, nfd;
	enum moat_rc rc;

	v = fs_view_get(fs);
	if ((rc = writable_target(ctx, v, path, &t, false, err)))
		goto out;
	cv = calloc(PATH_MAX / 2, sizeof(*cv));
	if (!cv) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(buf, sizeof(buf), "%s", t.rel);
	if ((rc = dir_components(buf, cv, PATH_MAX / 2, &n, err)))
		goto out;
	/* The existing part: opened beneath the root through openat2, so
	 * symlinks that stay inside the root work and escapes fail. */
	prefix = t;
	cur = fs_openat(&(struct fs_target){.root = t.root, .rel = "."}, O_PATH | O_DIRECTORY, 0, 0,
			err);
	if (cur < 0) {
		rc = err->rc;
		goto out;
	}
	for (; i < n; i++) {
		struct moat_err e2 = {0};
		size_t o = 0;
		if ((rc = callctx_check(ctx, err)))
			goto out;
		for (size_t k = 0; k <= i; k++)
			o += (size_t)snprintf(prefix.rel + o, sizeof(prefix.rel) - o, "%s%s",
					      k ? "/" : "", cv[k]);
		nfd = fs_openat(&prefix, O_PATH | O_DIRECTORY, 0, 0, &e2);
		if (nfd < 0) {
			if (e2.rc != MOAT_ENOTFOUND) {
				rc = rewrap(err, &e2, NULL);
				goto out;
			}
			break;
		}
		close(cur);
		cur = nfd;
	}
	/* The missing part: created here and entered without following. */
	for (; i < n; i++) {
		if ((rc = callctx_check(ctx, err)))
			goto out;
		if (mkdirat(cur, cv[i], 0777) != 0 && errno != EEXIST) {
			rc = sys_error(errno, "cannot create the directory", &t, err);
			goto out;
		}
		nfd = openat(cur, cv[i], O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0) {
			if (errno == ENOTDIR || errno == ELOOP) {
				char rel[256];
				rc = moat_err_rule(err, MOAT_EINVAL, "fs.not_a_directory",
						   "a component of %s exists and is not a "
						   "directory (symbolic links to missing or outside "
						   "directories are not followed)",
						   fs_show_rel(&t, rel, sizeof(rel)));
			} else
				rc = sys_error(errno, "cannot open the new directory", &t, err);
			goto out;
		}
		close(cur);
		cur = nfd;
	}
	rc = reply_paths(out, "Successfully created directory ", path, NULL, NULL, err);
out:
	if (cur >= 0)
		close(cur);
	free(cv);
	fs_view_put(fs, v);
	return rc;
}

/* ---- move_file ------------------------------------------------------------- */

/* move_file {source, destination}: renameat2(RENAME_NOREPLACE) between the
 * two parents; both roots must be writable. data is the struct fs
 * (borrowed). Thread-safe. */
static enum moat_rc move_file_tool(struct call_ctx *ctx, void *data, json_t *args,
				   struct tool_result *out, struct moat_err *err)
{
	struct fs *fs = data;
	const char *src = json_string_value(json_object_get(args, "source"));
	const char *dst = json_string_value(json_object_get(args, "destination"));
	struct fs_view *v = NULL;
	struct fs_target ts, td;
	const char *sname, *dname;
	int sfd = -1, dfd = -1;
	struct moat_err e2 = {0};
	enum moat_rc rc;

	v = fs_view_get(fs);
	/* "path" lists the source, then the destination; "root" their
	 * roots, once each (fs_touch_add). */
	if ((rc = writable_target(ctx, v, src, &ts, true, &e2))) {
		rc = rewrap(err, &e2, "source");
		goto out;
	}
	if ((rc = fs_resolve(v, dst, &td, &e2))) {
		rc = rewrap(err, &e2, "destination");
		goto out;
	}
	fs_touch_add(ctx, &td);
	if ((rc = fs_require_write(&td, &e2))) {
		rc = rewrap(err, &e2, "destination");
		goto out;
	}
	sfd = fs_open_parent(&ts, &sname, &e2);
	if (sfd < 0) {
		rc = rewrap(err, &e2, "source");
		goto out;
	}
	dfd = open_parent(&td, &dname, &e2);
	if (dfd < 0) {
		rc = rewrap(err, &e2, "destination");
		goto out;
	}
	if ((rc = callctx_check(ctx, err)))
		goto out;
	if (syscall(SYS_renameat2, sfd, sname, dfd, dname, RENAME_NOREPLACE) != 0) {
		switch (errno) {
		case EEXIST:
		case ENOTEMPTY: {
			char rel[256];
			rc = moat_err_rule(err, MOAT_EINVAL, "fs.exists",
					   "refused: the destination exists: %s (move_file never "
					   "replaces a file or directory)",
					   fs_show_rel(&td, rel, sizeof(rel)));
			break;
		}
		case ENOENT: {
			char rel[256];
			rc = moat_err_set(err, MOAT_ENOTFOUND, "the source does not exist: %s",
					  fs_show_rel(&ts, rel, sizeof(rel)));
			break;
		}
		case EXDEV:
			rc = moat_err_set(err, MOAT_EINVAL,
					  "cannot move across file systems (the source and the "
					  "destination are on different devices)");
			break;
		case EINVAL:
			rc = moat_err_rule(err, MOAT_EINVAL, "fs.invalid_path",
					   "cannot move a directory into itself (or the file system "
					   "cannot rename without replacing)");
			break;
		case EBUSY:
			rc = moat_err_set(err, MOAT_EINVAL, "the source or destination is in use "
							    "(a mount point?)");
			break;
		default:
			rc = sys_error(errno, "cannot move", &ts, err);
			break;
		}
		goto out;
	}
	rc = reply_paths(out, "Successfully moved ", src, " to ", dst, err);
out:
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	fs_view_put(fs, v);
	return rc;
}

/* ---- registration ------------------------------------------------------------ */

static const char OUTPUT_SCHEMA[] =
	"{\"type\":\"object\",\"properties\":{\"content\":{\"type\":\"string\"}},"
	"\"required\":[\"content\"]}";

/* fs_register_write - see fs.h. Called once at start-up, only when a root
 * is writable; the tools borrow fs, which outlives the registry's use. */
enum moat_rc fs_register_write(struct registry *reg, struct fs *fs, struct moat_err *err)
{
	static const char *const inputs[] = {
		/* write_file: content's maxLength is filled in below */
		"{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},\"content\":{"
		"\"type\":\"string\"}},\"required\":[\"path\",\"content\"],\"additionalProperties\":"
		"false}",
		"{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"},\"edits\":{"
		"\"type\":\"array\",\"maxItems\":" MAX_EDITS ",\"items\":{\"type\":\"object\","
		"\"properties\":{\"oldText\":{\"type\":\"string\",\"description\":\"Text to search "
		"for - must match exactly\"},\"newText\":{\"type\":\"string\",\"description\":\"Text "
		"to replace with\"}},\"required\":[\"oldText\",\"newText\"],"
		"\"additionalProperties\":false}},\"dryRun\":{\"type\":\"boolean\",\"default\":false,"
		"\"description\":\"Preview changes using git-style diff format\"}},\"required\":["
		"\"path\",\"edits\"],\"additionalProperties\":false}",
		"{\"type\":\"object\",\"properties\":{\"path\":{\"type\":\"string\"}},\"required\":["
		"\"path\"],\"additionalProperties\":false}",
		"{\"type\":\"object\",\"properties\":{\"source\":{\"type\":\"string\"},"
		"\"destination\":{\"type\":\"string\"}},\"required\":[\"source\",\"destination\"],"
		"\"additionalProperties\":false}",
	};
	static const char *const names[] = {"write_file", "edit_file", "create_directory",
					    "move_file"};
	static const char *const titles[] = {"Write File", "Edit File", "Create Directory",
					     "Move File"};
	static const char *const descs[] = {
		"Create a new file or completely overwrite an existing file with new content. "
		"Use with caution as it will overwrite existing files without warning. "
		"Handles text content with proper encoding. Only works within allowed directories "
		"configured as writable. The file is replaced atomically and keeps its permissions; "
		"a symbolic link is never written through.",
		"Make line-based edits to a text file. Each edit replaces exact line sequences "
		"with new content. Returns a git-style diff showing the changes made. "
		"Only works within allowed directories configured as writable.",
		"Create a new directory or ensure a directory exists. Can create multiple "
		"nested directories in one operation. If the directory already exists, "
		"this operation will succeed silently. Perfect for setting up directory "
		"structures for projects or ensuring required paths exist. Only works within "
		"allowed directories configured as writable.",
		"Move or rename files and directories. Can move files between directories "
		"and rename them in a single operation. If the destination exists, the "
		"operation will fail. Works across different directories and can be used "
		"for simple renaming within the same directory. Both source and destination must "
		"be within allowed directories configured as writable.",
	};
	static const tool_handler_fn handlers[] = {write_file_tool, edit_file_tool,
						   create_directory_tool, move_file_tool};
	/* Strings that may hold NUL bytes (file content); every other string
	 * argument with one is refused before the handler runs. */
	static const char *const content_nul_ok[] = {"content", NULL};
	static const char *const edits_nul_ok[] = {"oldText", "newText", NULL};
	static const char *const *const nul_ok[] = {content_nul_ok, edits_nul_ok, NULL, NULL};
	/* destructive, idempotent */
	static const enum hint hints[][2] = {{HINT_TRUE, HINT_TRUE},
					     {HINT_TRUE, HINT_FALSE},
					     {HINT_FALSE, HINT_TRUE},
					     {HINT_TRUE, HINT_FALSE}};
	json_t *outs = NULL;
	enum moat_rc rc = MOAT_OK;
	json_error_t jerr;

	outs = json_loads(OUTPUT_SCHEMA, 0, &jerr);
	if (!outs)
		return moat_err_set(err, MOAT_EINTERNAL, "fs write: bad built-in output schema");
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		json_t *in = json_loads(inputs[i], 0, &jerr);
		if (!in) {
			rc = moat_err_set(err, MOAT_EINTERNAL, "fs write: bad built-in schema for %s",
					  names[i]);
			break;
		}
		if (handlers[i] == write_file_tool) {
			json_t *c = json_object_get(json_object_get(in, "properties"), "content");
			json_int_t max = fs->lim.max_file_size > (size_t)INT64_MAX
						 ? INT64_MAX
						 : (json_int_t)fs->lim.max_file_size;
			json_object_set_new(c, "maxLength", json_integer(max));
		}
		struct tool_spec spec = {
			.name = names[i],
			.title = titles[i],
			.description = descs[i],
			.input_schema = in,
			.output_schema = outs,
			.annotations = {.read_only = HINT_FALSE,
					.destructive = hints[i][0],
					.idempotent = hints[i][1],
					.open_world = HINT_FALSE},
			.inline_ok = false,
			.handler = handlers[i],
			.data = fs,
			.nul_ok = nul_ok[i],
		};
		rc = registry_add(reg, &spec, err);
		json_decref(in);
		if (rc)
			break;
	}
	json_decref(outs);
	return rc;
}
