/*
 * fs.c - the filesystem family's provider: reads the "roots" and "fs"
 * config sections, opens every root and libmagic before the sandbox, and
 * registers the tool groups (read, list, search, and write when a root
 * allows it).
 */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <magic.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_watch.h"
#include "hub.h"
#include "providers.h"

static struct fs *the_fs; /* one per process; freed by fs_fini */

static enum moat_rc open_root(const char *given, const char *base, bool write, struct fs_root *r,
			      size_t idx, struct moat_err *err)
{
	char joined[PATH_MAX], real[PATH_MAX];
	struct stat st;

	if (given[0] != '/' && base) {
		if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", base, given) >= sizeof(joined))
			return moat_err_set(err, MOAT_EINVAL, "/roots/%zu: path too long", idx);
		given = joined;
	}
	if (!realpath(given, real))
		return moat_err_set(err, MOAT_EINVAL, "/roots/%zu: cannot resolve the directory: %s",
				    idx, strerror(errno));
	r->dirfd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0 || fstat(r->dirfd, &st) != 0 || !S_ISDIR(st.st_mode))
		return moat_err_set(err, MOAT_EINVAL, "/roots/%zu: not a directory", idx);
	/* A root moat cannot list would fail every call: refuse it now, in
	 * check and serve alike. */
	int probe = openat(r->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (probe < 0)
		return moat_err_set(err, MOAT_EINVAL, "/roots/%zu: cannot read the directory: %s",
				    idx, strerror(errno));
	close(probe);
	r->dev = st.st_dev;
	r->ino = st.st_ino;
	r->path = strdup(real);
	r->write = write;
	if (strcmp(real, given) != 0) {
		/* Keep the spelling the user wrote (through a symlink, say), with
		 * empty and "." components dropped, when it still differs. */
		char *a = malloc(strlen(given) + 2);
		size_t o = 0;
		for (const char *p = given; a && *p;) {
			const char *end = strchr(p, '/');
			size_t len = end ? (size_t)(end - p) : strlen(p);
			if (len > 0 && !(len == 1 && p[0] == '.')) {
				a[o++] = '/';
				memcpy(a + o, p, len);
				o += len;
			}
			p += len;
			if (*p == '/')
				p++;
		}
		if (a) {
			if (o == 0)
				a[o++] = '/';
			a[o] = '\0';
		}
		if (a && strcmp(a, real) != 0)
			r->alias = a;
		else
			free(a);
	}
	if (!r->path)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return MOAT_OK;
}

static size_t get_size(const json_t *o, const char *key, size_t def)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (size_t)json_integer_value(v) : def;
}

static void fs_free(struct fs *fs)
{
	if (!fs)
		return;
	/* No call runs at teardown: drop current's and configured's own refs. */
	fs_view_put(fs, fs->current);
	fs_view_put(fs, fs->configured);
	fs_watcher_free(fs->watcher); /* stops its thread first */
	if (fs->magic)
		magic_close(fs->magic);
	pthread_mutex_destroy(&fs->lock);
	pthread_mutex_destroy(&fs->magic_lock);
	free(fs);
}

enum moat_rc fs_register_readonly(struct registry *reg, struct fs *fs,
				  const struct fs_tool_def *defs, size_t n, const char *out_schema,
				  struct moat_err *err)
{
	enum moat_rc rc = MOAT_OK;

	for (size_t i = 0; i < n && rc == MOAT_OK; i++) {
		struct tool_spec spec = {
			.name = defs[i].name,
			.title = defs[i].title,
			.description = defs[i].desc,
			.annotations = {.read_only = HINT_TRUE, .destructive = HINT_FALSE,
					.idempotent = HINT_TRUE, .open_world = HINT_FALSE},
			.quick = defs[i].quick,
			.handler = defs[i].fn,
			.data = fs,
		};
		rc = registry_add_texts(reg, spec, defs[i].schema, out_schema, err);
	}
	return rc;
}

/* The client's MCP roots narrow the configured ones (never widen them). */
static void client_roots(void *data, const json_t *roots)
{
	fs_set_client_roots(data, roots);
}

static enum moat_rc fs_init(struct registry *reg, const json_t *section,
			    const struct moat_config *cfg, struct moat_err *err)
{
	const json_t *opts = json_object_get(cfg->doc, "fs");
	struct fs *fs = calloc(1, sizeof(*fs));
	struct fs_view *v = NULL;
	enum moat_rc rc = MOAT_OK;
	size_t i;
	json_t *e;

	if (!fs)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	pthread_mutex_init(&fs->lock, NULL);
	pthread_mutex_init(&fs->magic_lock, NULL);
	v = calloc(1, sizeof(*v));
	if (!v || !(v->roots = calloc(json_array_size(section) + 1, sizeof(*v->roots)))) {
		free(v);
		fs_free(fs);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	v->refs = 1;
	fs->configured = v;
	fs->current = v;
	v->refs++; /* current holds its own reference */
	json_array_foreach(section, i, e) {
		const char *p = json_is_string(e) ? json_string_value(e)
						  : json_string_value(json_object_get(e, "path"));
		bool w = json_is_true(json_object_get(e, "write"));
		v->roots[i].dirfd = -1;
		rc = open_root(p, cfg->dir, w, &v->roots[i], i, err);
		v->nroots = i + 1;
		if (rc)
			goto out;
	}
	if (v->nroots == 0) {
		rc = moat_err_set(err, MOAT_EINVAL, "/roots: at least one directory is required");
		goto out;
	}
	/* The sandbox grants exactly the directories opened here, by fd. */
	for (i = 0; i < v->nroots; i++)
		if ((rc = registry_grant(reg, v->roots[i].path, v->roots[i].dirfd, v->roots[i].write,
					 err)))
			goto out;
	fs->lim.max_file_size = get_size(opts, "max_file_size", 10u << 20);
	fs->lim.max_media_bytes = get_size(opts, "max_media_bytes", 10u << 20);
	fs->lim.max_entries = get_size(opts, "max_entries", 10000);
	fs->lim.max_depth = (uint32_t)get_size(opts, "max_depth", 64);
	fs->lim.max_grep_matches = (uint32_t)get_size(opts, "max_grep_matches", 1000);
	fs->watcher = fs_watcher_new(fs, registry_hub(reg), get_size(opts, "max_watches", 256));
	if (!fs->watcher) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	/* libmagic reads its database now, before Landlock closes the door. */
	fs->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS |
			       MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_ELF);
	if (!fs->magic || magic_load(fs->magic, NULL) != 0) {
		rc = moat_err_set(err, MOAT_EIO, "cannot load the libmagic database");
		goto out;
	}
	if ((rc = fs_register_read(reg, fs, err)) || (rc = fs_register_list(reg, fs, err)) ||
	    (rc = fs_register_search(reg, fs, err)))
		goto out;
	if (fs_any_writable(fs) && (rc = fs_register_write(reg, fs, err)))
		goto out;
	if ((rc = fs_register_resources(reg, fs, err)))
		goto out;
	if ((rc = registry_add_completer(reg, "fs.paths", fs_path_completer, fs, err)))
		goto out;
	registry_set_roots_hook(reg, client_roots, fs);
	the_fs = fs;
	fs = NULL;
out:
	fs_free(fs);
	return rc;
}

static void fs_fini(void)
{
	fs_free(the_fs);
	the_fs = NULL;
}

/* `moat version`: libmagic sniffs MIME types, PCRE2 runs grep_files. */
static bool fs_versions(char *buf, size_t size, struct moat_err *err)
{
	char pcre[32] = "?";
	int mv = magic_version();

	(void)err;
	pcre2_config(PCRE2_CONFIG_VERSION, pcre);
	snprintf(buf, size, "built in (libmagic %d.%02d, PCRE2 %s)", mv / 100, mv % 100, pcre);
	return true;
}

const struct provider fs_provider = {
	.name = "fs",
	.config_key = "roots",
	.init = fs_init,
	.fini = fs_fini,
	.versions = fs_versions,
};
