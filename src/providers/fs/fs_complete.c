/*
 * fs_complete.c - completion of paths under the roots: the "fs.paths"
 * completer (prompt arguments declared "complete": "fs.paths") and the
 * file:///{+path} template's variable (completion/complete with a
 * ref/resource).
 *
 * One directory level per completion, as a shell does: "/data/re" lists
 * the entries of /data starting with "re" (directories end with '/').
 * The directory is opened through the family's own confined open
 * (fs_resolve, then openat2 beneath the root's fd), so a prefix that
 * climbs out with "..", or through a symlink, completes to nothing; a
 * prefix outside every root completes to the roots themselves that start
 * with it. At most FS_COMPLETE_SCAN entries of one directory are read.
 * Thread-safe (runs on the reader thread; bounded by the scan).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"
#include "fs_listing.h"

/* The most entries one completion reads from a directory. */
#define FS_COMPLETE_SCAN 4096

/* Append s to values unless max are there already; false when full. */
static bool add_value(json_t *values, size_t max, const char *s)
{
	if (json_array_size(values) >= max)
		return false;
	json_array_append_new(values, json_string(s));
	return true;
}

/* The roots (configured spelling and canonical path, with a trailing
 * '/') that start with prefix. */
static void complete_roots(const struct fs_view *v, const char *prefix, json_t *values,
			   size_t max)
{
	char buf[PATH_MAX + 2];
	size_t n = strlen(prefix);

	for (size_t i = 0; i < v->nroots; i++) {
		const char *name = fs_root_name(&v->roots[i]);
		if (snprintf(buf, sizeof(buf), "%s%s", name,
			     name[strlen(name) - 1] == '/' ? "" : "/") >= (int)sizeof(buf))
			continue;
		if (strncmp(buf, prefix, n) == 0 && !add_value(values, max, buf))
			return;
	}
}

enum moat_rc fs_complete_paths(struct fs *fs, const char *prefix, json_t *values, size_t max,
			       struct moat_err *err)
{
	struct fs_view *v = fs_view_get(fs);
	struct fs_dirents d = {0};
	struct fs_target t;
	struct moat_err ignore = {0};
	const char *slash = strrchr(prefix, '/');
	const char *base = slash ? slash + 1 : prefix;
	size_t dlen = slash ? (size_t)(slash - prefix) + 1 : 0, blen = strlen(base);
	char dir[PATH_MAX], out[PATH_MAX];
	int fd = -1;

	(void)err;
	if (strlen(prefix) >= sizeof(dir))
		goto out;
	if (prefix[0] == '\0' || (prefix[0] == '/' && dlen <= 1 && !blen)) {
		complete_roots(v, prefix, values, max);
		goto out;
	}
	memcpy(dir, prefix, dlen);
	dir[dlen] = '\0';
	if (fs_resolve(v, dlen ? dir : ".", &t, &ignore) != MOAT_OK) {
		/* Outside every root: the roots that start with it. */
		complete_roots(v, prefix, values, max);
		goto out;
	}
	fd = fs_open_dir(&t, &ignore);
	if (fd < 0 || fs_dirents_read(fd, FS_COMPLETE_SCAN, &d, &ignore) != MOAT_OK)
		goto out;
	for (size_t i = 0; i < d.n; i++) {
		const char *name = d.v[i].name;
		bool is_dir = d.v[i].type == DT_DIR;
		if (strncmp(name, base, blen) != 0 || (name[0] == '.' && base[0] != '.'))
			continue;
		if (snprintf(out, sizeof(out), "%.*s%s%s", (int)dlen, prefix, name,
			     is_dir ? "/" : "") >= (int)sizeof(out))
			continue;
		if (!add_value(values, max, out))
			break;
	}
out:
	fs_dirents_free(&d);
	if (fd >= 0)
		close(fd);
	fs_view_put(fs, v);
	return MOAT_OK;
}

enum moat_rc fs_path_completer(void *data, const char *prefix, const json_t *context,
			       json_t *values, size_t max, struct moat_err *err)
{
	(void)context;
	return fs_complete_paths(data, prefix, values, max, err);
}

enum moat_rc fs_res_complete(void *data, const char *uri_template, const char *var,
			     const char *prefix, const json_t *context, json_t *values, size_t max,
			     struct moat_err *err)
{
	json_t *abs = json_array();
	char path[PATH_MAX + 1];
	size_t i;
	json_t *v;
	enum moat_rc rc;

	(void)context;
	if (!abs)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	/* file:///{+path}: the variable is the absolute path without its
	 * leading '/'. */
	if (strcmp(uri_template, "file:///{+path}") != 0 || strcmp(var, "path") != 0 ||
	    snprintf(path, sizeof(path), "/%s", prefix) >= (int)sizeof(path)) {
		json_decref(abs);
		return MOAT_OK;
	}
	rc = fs_complete_paths(data, path, abs, max, err);
	json_array_foreach(abs, i, v)
		json_array_append_new(values, json_string(json_string_value(v) + 1));
	json_decref(abs);
	return rc;
}
