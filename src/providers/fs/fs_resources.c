/*
 * fs_resources.c - files under the roots as MCP resources: file:// URIs,
 * a paginated resources/list (a bounded, sorted walk that never follows
 * symlinks: fs.max_entries per directory and in all, fs.max_depth levels,
 * the deadline polled per entry), resources/read through the same confined open as the tools,
 * and one template.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "fs_listing.h"
#include "fs_util.h"
#include "fs_watch.h"
#include "text.h"

struct walk {
	struct call_ctx *ctx;
	size_t skip;      /* entries before this page */
	size_t want;      /* entries on this page */
	size_t seen;      /* entries passed so far */
	size_t limit;     /* fs.max_entries: files listed, and entries read per directory */
	uint32_t max_depth;
	json_t *out;      /* resources array */
	bool more;
	enum moat_rc rc;
	struct moat_err *err;
	/* the entry being visited, absolute; here rather than on the stack so
	 * a level of recursion costs a small frame (fs.max_depth may be 4096) */
	char path[PATH_MAX];
	char uri[PATH_MAX * 3 + 8];
};

/*
 * Visit dirfd (owned; closed here) whose absolute path is w->path[0..plen).
 * Entries in byte order, at most fs.max_entries per directory; one level
 * of recursion per directory, at most max_depth; the deadline is polled per
 * entry.
 */
static void walk_dir(struct walk *w, int dirfd, size_t plen, uint32_t depth)
{
	struct fs_dirents d = {0};
	struct moat_err ignore = {0};

	if (fs_dirents_read(dirfd, w->limit, &d, &ignore) != MOAT_OK) {
		close(dirfd);
		return;
	}
	for (size_t i = 0; i < d.n && !w->more && w->rc == MOAT_OK; i++) {
		const char *name = d.v[i].name;
		struct stat st;
		w->path[plen] = '\0';
		if ((w->rc = callctx_check(w->ctx, w->err)))
			break;
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if ((size_t)snprintf(w->path + plen, sizeof(w->path) - plen, "%s%s",
				     plen > 1 ? "/" : "", name) >= sizeof(w->path) - plen)
			continue;
		if (S_ISDIR(st.st_mode) && depth < w->max_depth) {
			int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				walk_dir(w, sub, strlen(w->path), depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			if (w->seen >= w->limit) {
				w->more = false;
				break;
			}
			if (w->seen++ < w->skip)
				continue;
			if (json_array_size(w->out) == w->want) {
				w->more = true;
				break;
			}
			if (fs_file_uri(w->path, w->uri, sizeof(w->uri), NULL) == MOAT_OK)
				json_array_append_new(w->out,
						      json_pack("{s:s, s:s, s:I}", "uri", w->uri, "name",
								name, "size", (json_int_t)st.st_size));
		}
	}
	w->path[plen] = '\0';
	fs_dirents_free(&d);
	close(dirfd);
}

static enum moat_rc res_list(void *data, struct call_ctx *ctx, const char *cursor,
			     size_t page_size, json_t **out, struct moat_err *err)
{
	struct fs *fs = data;
	struct fs_view *v;
	struct walk *w = calloc(1, sizeof(*w));
	char next[32];
	enum moat_rc rc = MOAT_OK;

	if (!w)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	*w = (struct walk){.ctx = ctx, .want = page_size ? page_size : 100,
			   .limit = fs->lim.max_entries, .max_depth = fs->lim.max_depth, .err = err};
	if (cursor) {
		char *end;
		if (strncmp(cursor, "fs:", 3) != 0 || cursor[3] < '1' || cursor[3] > '9') {
			rc = moat_err_set(err, MOAT_EINVAL, "invalid params: unknown or stale cursor");
			goto out;
		}
		w->skip = (size_t)strtoull(cursor + 3, &end, 10);
		if (*end) {
			rc = moat_err_set(err, MOAT_EINVAL, "invalid params: unknown or stale cursor");
			goto out;
		}
	}
	w->out = json_array();
	if (!w->out) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	v = fs_view_get(fs);
	for (size_t i = 0; i < v->nroots && !w->more && w->rc == MOAT_OK; i++) {
		struct fs_target t = {.root = &v->roots[i], .rel = "."};
		int fd = fs_open_dir(&t, err);
		if (fd < 0 || (size_t)snprintf(w->path, sizeof(w->path), "%s", v->roots[i].path) >=
				      sizeof(w->path)) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		walk_dir(w, fd, strlen(w->path), 1);
	}
	fs_view_put(fs, v);
	if ((rc = w->rc))
		goto out;
	*out = json_pack("{s:O}", "resources", w->out);
	if (!*out) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if (w->more) {
		snprintf(next, sizeof(next), "fs:%zu", w->skip + w->want);
		json_object_set_new(*out, "nextCursor", json_string(next));
	}
out:
	json_decref(w->out);
	free(w);
	return rc;
}

static enum moat_rc res_read(void *data, struct call_ctx *ctx, const char *uri, json_t **out,
			     struct moat_err *err)
{
	struct fs *fs = data;
	struct fs_view *v;
	struct fs_target t;
	struct stat st;
	char path[PATH_MAX], mime[128];
	char *buf = NULL;
	size_t len;
	enum moat_rc rc;
	int fd = -1;

	if (!fs_uri_to_path(uri, path, sizeof(path)))
		return moat_err_set(err, MOAT_EINVAL, "invalid params: uri must be a file:// URI");
	v = fs_view_get(fs);
	if ((rc = fs_resolve(v, path, &t, err)))
		goto out;
	fs_touch(ctx, &t);
	fd = fs_open_file(&t, &st, err);
	if (fd < 0) {
		rc = err->rc == MOAT_ENOTFOUND ? MOAT_ENOTFOUND : err->rc;
		goto out;
	}
	if ((size_t)st.st_size > fs->lim.max_file_size) {
		char rel[256];
		rc = moat_err_rule(err, MOAT_ELIMIT, "limits.file_size",
				   "%s is larger than fs.max_file_size (%zu bytes)",
				   fs_show_rel(&t, rel, sizeof(rel)), fs->lim.max_file_size);
		goto out;
	}
	if ((rc = fs_read_all(fd, fs->lim.max_file_size, ctx, &buf, &len, err)))
		goto out;
	fs_mime(fs, buf, len, mime, sizeof(mime));
	if (fs_utf8_valid(buf, len)) {
		*out = json_pack("{s:[{s:s, s:s, s:s%}]}", "contents", "uri", uri, "mimeType", mime,
				 "text", buf, len);
	} else {
		char *b64 = text_base64((const unsigned char *)buf, len);
		*out = b64 ? json_pack("{s:[{s:s, s:s, s:s}]}", "contents", "uri", uri, "mimeType",
				       mime, "blob", b64)
			   : NULL;
		free(b64);
	}
	if (!*out)
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	fs_view_put(fs, v);
	return rc;
}

static json_t *res_templates(void *data)
{
	return json_pack("[{s:s, s:s, s:s}]", "uriTemplate", "file:///{+path}", "name", "file",
			 "description",
			 "A file under one of the allowed directories, by absolute path");
}

enum moat_rc fs_register_resources(struct registry *reg, struct fs *fs, struct moat_err *err)
{
	struct resource_ops ops = {
		.scheme = "file",
		.read_tool = "read_text_file",
		.list = res_list,
		.read = res_read,
		.templates = res_templates,
		.complete = fs_res_complete,
		.watch = fs_watch_resource,
		.data = fs,
	};

	return registry_add_resources(reg, &ops, err);
}
