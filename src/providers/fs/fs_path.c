/*
 * fs_path.c - root views, path resolution and confined opens for the fs
 * family (see fs.h for the model).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs.h"
#include "fs_util.h"
#include "log.h"

struct fs_view *fs_view_get(struct fs *fs)
{
	struct fs_view *v;

	pthread_mutex_lock(&fs->lock);
	v = fs->current;
	v->refs++;
	pthread_mutex_unlock(&fs->lock);
	return v;
}

static void view_free(struct fs_view *v)
{
	for (size_t i = 0; i < v->nroots; i++) {
		if (v->roots[i].dirfd >= 0)
			close(v->roots[i].dirfd);
		free(v->roots[i].path);
		free(v->roots[i].alias);
	}
	free(v->roots);
	free(v);
}

void fs_view_put(struct fs *fs, struct fs_view *v)
{
	bool last;

	if (!v)
		return;
	pthread_mutex_lock(&fs->lock);
	last = --v->refs == 0;
	pthread_mutex_unlock(&fs->lock);
	if (last)
		view_free(v);
}

/* Length of root when it is a component-wise prefix of path, else 0. */
static size_t prefix_len(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (n == 1 && root[0] == '/')
		return 1;
	if (strncmp(root, path, n) != 0 || (path[n] != '\0' && path[n] != '/'))
		return 0;
	return n;
}

/* Copy src into dst dropping empty and "." components (never ".."). */
static bool tidy_rel(const char *src, char *dst, size_t n)
{
	size_t o = 0;

	while (*src) {
		const char *end = strchr(src, '/');
		size_t len = end ? (size_t)(end - src) : strlen(src);
		if (len > 0 && !(len == 1 && src[0] == '.')) {
			if (o + len + 2 > n)
				return false;
			if (o > 0)
				dst[o++] = '/';
			memcpy(dst + o, src, len);
			o += len;
		}
		src += len;
		if (*src == '/')
			src++;
	}
	if (o == 0) {
		if (n < 2)
			return false;
		dst[o++] = '.';
	}
	dst[o] = '\0';
	return true;
}

enum moat_rc fs_resolve(const struct fs_view *v, const char *path, struct fs_target *t,
			struct moat_err *err)
{
	char expanded[PATH_MAX];
	const struct fs_root *best = NULL;
	size_t best_len = 0;
	const char *rest;

	memset(t, 0, sizeof(*t));
	if (!path || !*path)
		return moat_err_rule(err, MOAT_EINVAL, "fs.invalid_path", "path must not be empty");
	if (strlen(path) >= PATH_MAX)
		return moat_err_rule(err, MOAT_EINVAL, "fs.invalid_path",
				     "path is longer than PATH_MAX (%d)", PATH_MAX);
	if (v->nroots == 0)
		return moat_err_rule(err, MOAT_EDENIED, "fs.outside_root",
				     "access denied: no allowed directories (the client's roots do "
				     "not overlap the configured roots)");
	if (path[0] == '~' && (path[1] == '\0' || path[1] == '/')) {
		const char *home = getenv("HOME");
		if (!home || (size_t)snprintf(expanded, sizeof(expanded), "%s%s", home, path + 1) >=
				     sizeof(expanded))
			return moat_err_rule(err, MOAT_EINVAL, "fs.invalid_path",
					     "path: cannot expand '~'");
		path = expanded;
	}
	if (path[0] != '/') {
		/* Relative paths resolve against the first root, like the
		 * reference server. */
		best = &v->roots[0];
		rest = path;
	} else {
		for (size_t i = 0; i < v->nroots; i++) {
			const struct fs_root *r = &v->roots[i];
			size_t l = prefix_len(r->path, path);
			if (l == 0 && r->alias)
				l = prefix_len(r->alias, path);
			if (l > best_len) {
				best = r;
				best_len = l;
			}
		}
		if (!best)
			return moat_err_rule(err, MOAT_EDENIED, "fs.outside_root",
					     "access denied: path is outside the allowed directories "
					     "(see list_allowed_directories)");
		rest = path + best_len;
	}
	if (!tidy_rel(rest, t->rel, sizeof(t->rel)))
		return moat_err_rule(err, MOAT_EINVAL, "fs.invalid_path",
				     "path is longer than PATH_MAX (%d)", PATH_MAX);
	t->root = best;
	if (strcmp(t->rel, ".") == 0)
		snprintf(t->abs, sizeof(t->abs), "%s", best->path);
	else if ((size_t)snprintf(t->abs, sizeof(t->abs), "%s%s%s", best->path,
				  strcmp(best->path, "/") == 0 ? "" : "/", t->rel) >= sizeof(t->abs))
		return moat_err_rule(err, MOAT_EINVAL, "fs.invalid_path",
				     "path is longer than PATH_MAX (%d)", PATH_MAX);
	return MOAT_OK;
}

/* Does rel hold a ".." component? */
static bool climbs(const char *rel)
{
	for (const char *p = rel; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == rel || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
			return true;
	return false;
}

const char *fs_show_rel(const struct fs_target *t, char *buf, size_t n)
{
	const unsigned char *p = (const unsigned char *)t->rel;
	size_t o = 0;

	if (n < 8) {
		if (n)
			buf[0] = '\0';
		return buf;
	}
	if (climbs(t->rel)) {
		snprintf(buf, n, "%s", "(a path with '..')");
		return buf;
	}
	while (*p) {
		size_t k = *p < 0x80 ? 1 : *p >= 0xF0 ? 4 : *p >= 0xE0 ? 3 : 2;
		bool ok = k == 1 ? (*p >= 0x20 && *p != 0x7F)
				 : strnlen((const char *)p, k) == k && fs_utf8_valid((const char *)p, k);
		if (!ok)
			k = 1;
		if (o + k + 4 >= n) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (ok)
			memcpy(buf + o, p, k);
		else
			buf[o] = '?';
		o += k;
		p += k;
	}
	buf[o] = '\0';
	return buf;
}

const char *fs_root_name(const struct fs_root *r)
{
	return r->alias ? r->alias : r->path;
}

void fs_touch(struct call_ctx *ctx, const struct fs_target *t)
{
	if (!ctx || !t->root)
		return;
	callctx_touch(ctx, "root", fs_root_name(t->root));
	callctx_touch(ctx, "path", t->rel);
}

void fs_touch_add(struct call_ctx *ctx, const struct fs_target *t)
{
	if (!ctx || !t->root)
		return;
	callctx_touch_add(ctx, "root", fs_root_name(t->root));
	callctx_touch_add(ctx, "path", t->rel);
}

/* The error for a failed open of t, naming t's path within its root. */
static enum moat_rc open_error(int e, const struct fs_target *t, struct moat_err *err)
{
	char rel[256];

	fs_show_rel(t, rel, sizeof(rel));
	switch (e) {
	case EXDEV:
		return moat_err_rule(err, MOAT_EDENIED, "fs.outside_root",
				     "access denied: %s leaves its allowed directory (through '..', "
				     "an absolute symlink or a symlink pointing outside)",
				     rel);
	case ENOENT:
		return moat_err_set(err, MOAT_ENOTFOUND, "no such file or directory: %s", rel);
	case ENOTDIR:
		return moat_err_set(err, MOAT_EINVAL, "not a directory: a component of %s", rel);
	case ELOOP:
		return moat_err_rule(err, MOAT_EDENIED, "fs.symlink",
				     "access denied: %s: too many symlinks, or a symlink where none "
				     "is followed",
				     rel);
	case EACCES:
	case EPERM:
		return moat_err_set(err, MOAT_EDENIED, "permission denied by the operating system: %s",
				    rel);
	case EISDIR:
		return moat_err_set(err, MOAT_EINVAL, "is a directory: %s", rel);
	case EEXIST:
		return moat_err_rule(err, MOAT_EINVAL, "fs.exists", "already exists: %s", rel);
	case ENAMETOOLONG:
		return moat_err_rule(err, MOAT_EINVAL, "fs.invalid_path",
				     "a path component is too long: %s", rel);
	case ENOSPC:
		return moat_err_set(err, MOAT_EIO, "no space left on the device: %s", rel);
	case EROFS:
		return moat_err_set(err, MOAT_EDENIED, "the file system is read-only: %s", rel);
	default:
		return moat_err_set(err, MOAT_EIO, "cannot open %s: %s", rel, strerror(e));
	}
}

int fs_openat(const struct fs_target *t, int flags, mode_t mode, uint64_t extra_resolve,
	      struct moat_err *err)
{
	/* openat2 rejects O_PATH combined with anything but O_CLOEXEC,
	 * O_DIRECTORY and O_NOFOLLOW (openat would silently ignore them). */
	int extra = (flags & O_PATH) ? O_CLOEXEC : O_CLOEXEC | O_NOCTTY;
	struct open_how how = {
		.flags = (uint64_t)(flags | extra),
		.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | extra_resolve,
	};
	long fd;

	for (int tries = 0; tries < 8; tries++) {
		fd = syscall(SYS_openat2, t->root->dirfd, t->rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			break; /* EAGAIN: a concurrent rename; the kernel asks us to retry */
	}
	open_error(errno, t, err);
	return -1;
}

int fs_open_file(const struct fs_target *t, struct stat *st, struct moat_err *err)
{
	struct stat again;
	int pfd, fd;

	pfd = fs_openat(t, O_PATH, 0, 0, err);
	if (pfd < 0)
		return -1;
	if (fstat(pfd, st) != 0) {
		open_error(errno, t, err);
		close(pfd);
		return -1;
	}
	close(pfd);
	if (S_ISDIR(st->st_mode)) {
		char rel[256];
		moat_err_rule(err, MOAT_EINVAL, "fs.not_a_file", "is a directory, not a file: %s",
			      fs_show_rel(t, rel, sizeof(rel)));
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		char rel[256];
		moat_err_rule(err, MOAT_EDENIED, "fs.special_file",
			      "refused: %s is not a regular file (FIFOs, devices and sockets are "
			      "never read)",
			      fs_show_rel(t, rel, sizeof(rel)));
		return -1;
	}
	/* O_NONBLOCK: if a FIFO was swapped in since the check, opening it
	 * cannot hang; the identity check below then refuses it. */
	fd = fs_openat(t, O_RDONLY | O_NONBLOCK, 0, 0, err);
	if (fd < 0)
		return -1;
	if (fstat(fd, &again) != 0 || again.st_dev != st->st_dev || again.st_ino != st->st_ino ||
	    !S_ISREG(again.st_mode)) {
		close(fd);
		moat_err_rule(err, MOAT_EDENIED, "fs.changed",
			      "refused: the file changed while it was being opened");
		return -1;
	}
	*st = again;
	/* O_NONBLOCK stays set: it has no effect on a regular file. */
	return fd;
}

int fs_open_dir(const struct fs_target *t, struct moat_err *err)
{
	return fs_openat(t, O_RDONLY | O_DIRECTORY, 0, 0, err);
}

int fs_open_parent(const struct fs_target *t, const char **name, struct moat_err *err)
{
	struct fs_target parent = *t;
	char *slash = strrchr(parent.rel, '/');
	const char *last;

	if (strcmp(t->rel, ".") == 0) {
		moat_err_rule(err, MOAT_EINVAL, "fs.invalid_path",
			      "the path names an allowed directory itself");
		return -1;
	}
	if (slash) {
		*slash = '\0';
		last = t->rel + (slash - parent.rel) + 1;
	} else {
		snprintf(parent.rel, sizeof(parent.rel), ".");
		last = t->rel;
	}
	if (strcmp(last, "..") == 0 || strcmp(last, ".") == 0 || last[0] == '\0') {
		moat_err_rule(err, MOAT_EINVAL, "fs.invalid_path",
			      "the last path component must be a name, not '..'");
		return -1;
	}
	*name = last;
	return fs_openat(&parent, O_PATH | O_DIRECTORY, 0, 0, err);
}

enum moat_rc fs_require_write(const struct fs_target *t, struct moat_err *err)
{
	char rel[256];

	if (t->root->write)
		return MOAT_OK;

	return moat_err_rule(err, MOAT_EDENIED, "fs.read_only",
			     "access denied: %s is in a read-only directory (its root is not "
			     "configured \"write\": true)",
			     fs_show_rel(t, rel, sizeof(rel)));
}

bool fs_any_writable(const struct fs *fs)
{
	for (size_t i = 0; i < fs->configured->nroots; i++)
		if (fs->configured->roots[i].write)
			return true;
	return false;
}

bool fs_uri_to_path(const char *uri, char *out, size_t n)
{
	size_t o = 0;

	if (strncmp(uri, "file://", 7) != 0)
		return false;
	uri += 7;
	if (strncmp(uri, "localhost/", 10) == 0)
		uri += 9;
	if (*uri != '/')
		return false;
	for (; *uri && *uri != '?' && *uri != '#'; uri++) {
		char c = *uri;
		if (c == '%' && uri[1] && uri[2]) {
			char hex[3] = {uri[1], uri[2], 0};
			char *end;
			long v = strtol(hex, &end, 16);
			if (*end || v <= 0)
				return false; /* %00 or garbage */
			c = (char)v;
			uri += 2;
		}
		if (o + 2 > n)
			return false;
		out[o++] = c;
	}
	while (o > 1 && out[o - 1] == '/')
		o--;
	out[o] = '\0';
	return true;
}

/*
 * Tidy an absolute path lexically into out (size n): repeated '/' and "."
 * dropped, ".." takes the previous component away (never above "/").
 * false when it does not fit.
 */
static bool lex_clean(const char *in, char *out, size_t n)
{
	size_t o = 0;

	if (n < 2 || in[0] != '/')
		return false;
	out[o++] = '/';
	while (*in) {
		const char *end;
		size_t len;
		while (*in == '/')
			in++;
		end = strchr(in, '/');
		len = end ? (size_t)(end - in) : strlen(in);
		if (len == 0)
			break;
		if (len == 1 && in[0] == '.') {
			/* nothing */
		} else if (len == 2 && in[0] == '.' && in[1] == '.') {
			while (o > 1 && out[o - 1] != '/')
				o--;
			if (o > 1)
				o--; /* the '/' before the removed component */
		} else {
			if (o + (o > 1) + len + 1 > n)
				return false;
			if (o > 1)
				out[o++] = '/';
			memcpy(out + o, in, len);
			o += len;
		}
		in += len;
	}
	out[o] = '\0';
	return true;
}

/* What building a view from client roots counted. */
struct roots_tally {
	size_t dups;    /* another spelling of a root already in the view */
	size_t dropped; /* past FS_MAX_CLIENT_ROOTS */
};

/*
 * Add an effective root opened beneath configured root cr at rel, shown as
 * abs. A directory already in v (same device and inode) is not added
 * again; past FS_MAX_CLIENT_ROOTS nothing is added (tally says which).
 */
static void add_root(struct fs_view *v, const struct fs_root *cr, const char *abs, const char *rel,
		     struct roots_tally *tally)
{
	struct fs_target t = {.root = cr};
	struct moat_err err = {0};
	struct fs_root *nr;
	struct stat st;
	int fd;

	for (size_t i = 0; i < v->nroots; i++)
		if (strcmp(v->roots[i].path, abs) == 0) {
			tally->dups++;
			return;
		}
	if (v->nroots >= FS_MAX_CLIENT_ROOTS) {
		tally->dropped++;
		return;
	}
	if (!tidy_rel(rel, t.rel, sizeof(t.rel)))
		return;
	fd = fs_openat(&t, O_PATH | O_DIRECTORY, 0, 0, &err);
	if (fd < 0)
		return; /* missing, or leaves the configured root: not added */
	if (fstat(fd, &st) != 0) {
		close(fd);
		return;
	}
	for (size_t i = 0; i < v->nroots; i++)
		if (v->roots[i].dev == st.st_dev && v->roots[i].ino == st.st_ino) {
			tally->dups++;
			close(fd);
			return;
		}
	nr = realloc(v->roots, (v->nroots + 1) * sizeof(*nr));
	if (!nr) {
		close(fd);
		return;
	}
	v->roots = nr;
	nr[v->nroots] = (struct fs_root){.path = strdup(abs),
					 .write = cr->write,
					 .dirfd = fd,
					 .dev = st.st_dev,
					 .ino = st.st_ino};
	if (!nr[v->nroots].path) {
		close(fd);
		return;
	}
	v->nroots++;
}

void fs_set_client_roots(struct fs *fs, const json_t *roots)
{
	struct fs_view *cfgv = fs->configured, *nv, *old;
	struct roots_tally tally = {0};
	size_t i;
	json_t *r;

	if (!json_is_array(roots) || json_array_size(roots) == 0) {
		nv = cfgv;
		pthread_mutex_lock(&fs->lock);
		cfgv->refs++;
	} else {
		nv = calloc(1, sizeof(*nv));
		if (!nv)
			return;
		nv->refs = 1;
		json_array_foreach(roots, i, r) {
			char raw[PATH_MAX], cpath[PATH_MAX];
			const char *uri = json_string_value(json_object_get(r, "uri"));
			if (!uri || !fs_uri_to_path(uri, raw, sizeof(raw)) ||
			    !lex_clean(raw, cpath, sizeof(cpath)))
				continue;
			for (size_t k = 0; k < cfgv->nroots; k++) {
				const struct fs_root *cr = &cfgv->roots[k];
				size_t l = prefix_len(cr->path, cpath);
				if (l > 0) /* client root inside a configured root */
					add_root(nv, cr, cpath, cpath + l, &tally);
				else if (prefix_len(cpath, cr->path) > 0) /* contains it */
					add_root(nv, cr, cr->path, ".", &tally);
			}
		}
		if (tally.dropped)
			log_warn("fs: the client sent more roots than the %d kept "
				 "(FS_MAX_CLIENT_ROOTS); %zu dropped",
				 FS_MAX_CLIENT_ROOTS, tally.dropped);
		if (tally.dups)
			log_info("fs: %zu client roots named a directory already listed; kept once",
				 tally.dups);
		pthread_mutex_lock(&fs->lock);
	}
	old = fs->current;
	fs->current = nv;
	pthread_mutex_unlock(&fs->lock);
	fs_view_put(fs, old);
}
