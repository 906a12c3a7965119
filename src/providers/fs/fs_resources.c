/*
 * fs_resources.c - files under the roots as MCP resources: file:// URIs,
 * a paginated resources/list (a bounded, sorted walk that never follows
 * symlinks), resources/read through the same confined open as the tools,
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
#include "fs_util.h"
#include "text.h"

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct walk {
	struct call_ctx *ctx;
	size_t skip;      /* entries before this page */
	size_t want;      /* entries on this page */
	size_t seen;      /* entries passed so far */
	size_t limit;     /* fs.max_entries */
	uint32_t max_depth;
	json_t *out;      /* resources array */
	bool more;
	enum moat_rc rc;
	struct moat_err *err;
};

/* Visit dirfd (owned; closed here) whose absolute path is dir. */
static void walk_dir(struct walk *w, int dirfd, const char *dir, uint32_t depth)
{
	DIR *d = fdopendir(dirfd);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;

	if (!d) {
		close(dirfd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			char **nn = realloc(names, nc * sizeof(*nn));
			if (!nn)
				break;
			names = nn;
			cap = nc;
		}
		if (!(names[n] = strdup(e->d_name)))
			break;
		n++;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	for (size_t i = 0; i < n && !w->more && w->rc == MOAT_OK; i++) {
		char path[PATH_MAX], uri[PATH_MAX * 3 + 8];
		struct stat st;
		if ((w->rc = callctx_check(w->ctx, w->err)))
			break;
		if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s%s%s", dir, strcmp(dir, "/") ? "/" : "",
				     names[i]) >= sizeof(path))
			continue;
		if (S_ISDIR(st.st_mode) && depth < w->max_depth) {
			int sub = openat(dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub >= 0)
				walk_dir(w, sub, path, depth + 1);
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
			if (fs_file_uri(path, uri, sizeof(uri), NULL) == MOAT_OK)
				json_array_append_new(w->out,
						      json_pack("{s:s, s:s, s:I}", "uri", uri, "name",
								names[i], "size", (json_int_t)st.st_size));
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
}

static enum moat_rc res_list(void *data, struct call_ctx *ctx, const char *cursor,
			     size_t page_size, json_t **out, struct moat_err *err)
{
	struct fs *fs = data;
	struct fs_view *v;
	struct walk w = {.ctx = ctx, .want = page_size ? page_size : 100,
			 .limit = fs->lim.max_entries, .max_depth = fs->lim.max_depth, .err = err};
	char next[32];

	if (cursor) {
		char *end;
		if (strncmp(cursor, "fs:", 3) != 0 || cursor[3] < '1' || cursor[3] > '9')
			return moat_err_set(err, MOAT_EINVAL, "invalid params: unknown or stale cursor");
		w.skip = (size_t)strtoull(cursor + 3, &end, 10);
		if (*end)
			return moat_err_set(err, MOAT_EINVAL, "invalid params: unknown or stale cursor");
	}
	w.out = json_array();
	if (!w.out)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	v = fs_view_get(fs);
	for (size_t i = 0; i < v->nroots && !w.more && w.rc == MOAT_OK; i++) {
		struct fs_target t = {.root = &v->roots[i], .rel = "."};
		int fd = fs_open_dir(&t, err);
		if (fd >= 0)
			walk_dir(&w, fd, v->roots[i].path, 1);
	}
	fs_view_put(fs, v);
	if (w.rc) {
		json_decref(w.out);
		return w.rc;
	}
	*out = json_pack("{s:o}", "resources", w.out);
	if (w.more) {
		snprintf(next, sizeof(next), "fs:%zu", w.skip + w.want);
		json_object_set_new(*out, "nextCursor", json_string(next));
	}
	return MOAT_OK;
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
	fd = fs_open_file(&t, &st, err);
	if (fd < 0) {
		rc = err->rc == MOAT_ENOTFOUND ? MOAT_ENOTFOUND : err->rc;
		goto out;
	}
	if ((size_t)st.st_size > fs->lim.max_file_size) {
		rc = moat_err_set(err, MOAT_ELIMIT, "file is larger than fs.max_file_size (%zu bytes)",
				  fs->lim.max_file_size);
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
		.list = res_list,
		.read = res_read,
		.templates = res_templates,
		.data = fs,
	};

	return registry_add_resources(reg, &ops, err);
}
