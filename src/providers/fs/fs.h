/*
 * fs.h - the filesystem family: shared state, path resolution and the
 * confined open helpers every fs tool goes through.
 *
 * Confinement is structural: each root is an O_PATH directory fd opened at
 * start-up; every path a tool receives is mapped to (root, relative path)
 * and opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) from that
 * fd, so '..' and symlinks that leave the root fail in the kernel (EXDEV).
 * Choosing which root a path names is the only string comparison, and it
 * never grants access by itself. Client-sent MCP roots narrow the set
 * through fs_set_client_roots(); tools work on a refcounted view so a
 * change never pulls a directory fd from under a running call.
 * Thread-safe unless noted.
 */
#ifndef MOAT_PROVIDERS_FS_FS_H
#define MOAT_PROVIDERS_FS_FS_H

#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "callctx.h"
#include "registry.h"
#include "result.h"

struct fs_root {
	char *path;  /* absolute, canonical (realpath at start-up); owned */
	char *alias; /* the path as configured when it differs, else NULL; owned */
	bool write;  /* write tools may change files under it */
	int dirfd;   /* O_PATH | O_DIRECTORY; owned by the view that holds it */
	dev_t dev;   /* the directory's identity, from fstat(dirfd): two */
	ino_t ino;   /* spellings of one directory are one root */
};

/* Most effective roots client roots may give; more are dropped with a
 * warning (each holds a directory fd). */
#define FS_MAX_CLIENT_ROOTS 64

struct fs_limits {
	size_t max_file_size;    /* read_text_file & co. (default 10 MiB) */
	size_t max_media_bytes;  /* read_media_file (default 10 MiB) */
	size_t max_entries;      /* listings, trees, searches (default 10000) */
	uint32_t max_depth;      /* directory_tree / search depth (default 64) */
	uint32_t max_grep_matches; /* grep_files (default 1000) */
};

/* An immutable set of roots in use by calls. */
struct fs_view {
	int refs; /* guarded by fs->lock */
	struct fs_root *roots;
	size_t nroots;
};

struct fs {
	pthread_mutex_t lock;
	struct fs_view *configured; /* never changes after start-up */
	struct fs_view *current;    /* configured, or narrowed by client roots */
	struct fs_limits lim;
	pthread_mutex_t magic_lock; /* libmagic handles are not thread-safe */
	void *magic;                /* magic_t, loaded before the sandbox */
	struct fs_watcher *watcher; /* subscribed files (fs_watch.c) */
};

/* What a path names: a root and the path relative to it. */
struct fs_target {
	const struct fs_root *root;
	char rel[PATH_MAX]; /* "." for the root itself; never starts with '/' */
	char abs[PATH_MAX]; /* root->path + "/" + rel, lexical, for display */
};

/* fs_view_get - take a reference to the current view. Never NULL. */
struct fs_view *fs_view_get(struct fs *fs);

/* fs_view_put - drop a reference; the last one closes its fds. NULL ok. */
void fs_view_put(struct fs *fs, struct fs_view *v);

/*
 * fs_resolve - map path (absolute, relative to the first root, or "~/...")
 * onto a root of v. Fails with MOAT_EDENIED when no root contains it
 * (component-wise: "/data2" is not under "/data"), MOAT_EINVAL for an empty
 * or over-long path. Does not touch the file system. The message never
 * echoes the path.
 */
enum moat_rc fs_resolve(const struct fs_view *v, const char *path, struct fs_target *t,
			struct moat_err *err);

/*
 * fs_openat - openat2(root fd, t->rel, flags | O_CLOEXEC | O_NOCTTY, mode,
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | extra_resolve). Returns the fd,
 * or -1 with err naming the rule (EXDEV: "leaves its allowed directory").
 */
int fs_openat(const struct fs_target *t, int flags, mode_t mode, uint64_t extra_resolve,
	      struct moat_err *err);

/*
 * fs_open_file - open a regular file for reading. The file is first opened
 * O_PATH and fstat'ed: directories, FIFOs, devices and sockets are refused
 * before anything could block or read; then it is reopened O_RDONLY and its
 * identity compared, so a swap between the two opens is refused. *st gets
 * the file's stat. Returns the fd or -1 with err.
 */
int fs_open_file(const struct fs_target *t, struct stat *st, struct moat_err *err);

/* fs_open_dir - open a directory for listing (O_RDONLY | O_DIRECTORY).
 * Returns the fd or -1 with err. */
int fs_open_dir(const struct fs_target *t, struct moat_err *err);

/*
 * fs_open_parent - for writes: open the parent directory of t beneath its
 * root and return its fd; *name points into t->rel at the last component,
 * which is never "", "." or "..". Operations then use *at(fd, name) with no
 * further resolution, so a final symlink is never followed.
 */
int fs_open_parent(const struct fs_target *t, const char **name, struct moat_err *err);

/* fs_require_write - MOAT_EDENIED naming the rule unless t's root is
 * configured "write": true. */
enum moat_rc fs_require_write(const struct fs_target *t, struct moat_err *err);

/*
 * fs_set_client_roots - narrow to the client's MCP roots (a JSON array of
 * {uri, name?}): the effective roots are the intersection, component-wise,
 * of client and configured roots; a client root can never widen access (a
 * client root of "/" leaves the configured roots as they are). NULL or an
 * empty array restores the configured roots. Client paths are tidied
 * lexically ('.', '..', repeated '/'), and two that name one directory
 * (same device and inode, through any spelling or symlink inside a root)
 * give one root; at most FS_MAX_CLIENT_ROOTS are kept, the rest dropped
 * with a log warning. Called on the reader thread; running calls keep
 * the view they hold.
 */
void fs_set_client_roots(struct fs *fs, const json_t *roots);

/* One read-only fs tool as a group file declares it. */
struct fs_tool_def {
	const char *name, *title, *desc;
	const char *schema; /* input schema, JSON text */
	tool_handler_fn fn;
	bool quick; /* bounded by one file or one directory: tool_spec.quick */
};

/* {"content": string}: the reference's structured result for text tools. */
#define FS_TEXT_OUTPUT_SCHEMA                                                                  \
	"{\"type\":\"object\",\"properties\":{\"content\":{\"type\":\"string\"}},"          \
	"\"required\":[\"content\"]}"

/*
 * fs_register_readonly - register n read-only, idempotent, closed-world
 * tools with data = fs and, when out_schema (JSON text) is not NULL, that
 * output schema. Start-up only. MOAT_EINTERNAL names a schema that does not
 * parse; otherwise registry_add's result.
 */
enum moat_rc fs_register_readonly(struct registry *reg, struct fs *fs,
				  const struct fs_tool_def *defs, size_t n, const char *out_schema,
				  struct moat_err *err);

/* Tool groups, one file each; each registers its tools with data = fs. */
enum moat_rc fs_register_read(struct registry *reg, struct fs *fs, struct moat_err *err);
enum moat_rc fs_register_list(struct registry *reg, struct fs *fs, struct moat_err *err);
enum moat_rc fs_register_search(struct registry *reg, struct fs *fs, struct moat_err *err);
enum moat_rc fs_register_write(struct registry *reg, struct fs *fs, struct moat_err *err);
enum moat_rc fs_register_resources(struct registry *reg, struct fs *fs, struct moat_err *err);

/*
 * Completion (fs_complete.c): fs_complete_paths appends to values up to max
 * paths that extend prefix by one entry of the directory it names, opened
 * confined beneath its root (nothing outside one; the roots themselves for
 * a prefix outside them). fs_path_completer is the "fs.paths" completer
 * (registry.h), fs_res_complete the file:///{+path} template's
 * resource_ops.complete. Thread-safe, bounded.
 */
enum moat_rc fs_complete_paths(struct fs *fs, const char *prefix, json_t *values, size_t max,
			       struct moat_err *err);
enum moat_rc fs_path_completer(void *data, const char *prefix, const json_t *context,
			       json_t *values, size_t max, struct moat_err *err);
enum moat_rc fs_res_complete(void *data, const char *uri_template, const char *var,
			     const char *prefix, const json_t *context, json_t *values, size_t max,
			     struct moat_err *err);

/* fs_uri_to_path - decode a file:// URI (file:///p or file://localhost/p,
 * percent-decoded, query and fragment dropped, trailing '/' trimmed) into
 * out (size n). false for another scheme, %00 or an over-long path. */
bool fs_uri_to_path(const char *uri, char *out, size_t n);

/*
 * fs_touch - record for the audit trail what a call touched: the root's
 * name (its configured spelling) under "root" and t's path relative to it
 * under "path" (callctx_touch). fs_touch_add is for tools that name
 * several paths (read_multiple_files, move_file): both keys become lists,
 * "path" in the order touched and "root" the distinct roots they lie in
 * (one entry when they share a root). Handler thread only.
 */
void fs_touch(struct call_ctx *ctx, const struct fs_target *t);
void fs_touch_add(struct call_ctx *ctx, const struct fs_target *t);

/* fs_root_name - the name a root goes by in messages and the audit
 * trail: the spelling configured (or sent by the client). Borrowed. */
const char *fs_root_name(const struct fs_root *r);

/*
 * fs_show_rel - t's path relative to its root, for an error message
 * ("no such file: notes/todo.md"): control bytes and invalid UTF-8 shown
 * as '?', cut to n - 1 bytes with "..." when longer; "." for the root
 * itself. Never a path outside the root: a path that climbs with ".."
 * shows as "(a path with '..')". Returns buf.
 */
const char *fs_show_rel(const struct fs_target *t, char *buf, size_t n);

/* fs_any_writable - true when some configured root allows writes. */
bool fs_any_writable(const struct fs *fs);

#endif
