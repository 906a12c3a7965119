/*
 * fuzz_fspath.c - libFuzzer target for the fs family's path and pattern
 * parsers: fs_resolve (root choice, '~', tidying) on a view of three roots,
 * and the glob compiler and matcher (fuzz_glob.c fuzzes those on their
 * own, with long inputs and a small stack). No file is
 * touched. The input is split at the first newline into a path and a glob.
 * Checks: a resolved relative path never starts with '/' and never holds
 * an empty or "." component; the display path starts with its root.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs.h"
#include "fs/fs_glob.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fs_root roots[3] = {
		{.path = "/srv/data", .dirfd = -1},
		{.path = "/srv/data/sub", .alias = "/link/sub", .dirfd = -1},
		{.path = "/", .dirfd = -1},
	};
	struct fs_view v = {.refs = 1, .roots = roots, .nroots = 3};
	struct fs_target t;
	struct moat_err err = {0};
	struct fs_glob *g = NULL;
	char *buf = malloc(size + 1);
	char *glob;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	glob = strchr(buf, '\n');
	if (glob)
		*glob++ = '\0';
	if (fs_resolve(&v, buf, &t, &err) == MOAT_OK) {
		if (t.rel[0] == '/' || strstr(t.rel, "//") || strncmp(t.rel, "./", 2) == 0 ||
		    strstr(t.rel, "/./") || strncmp(t.abs, t.root->path, strlen(t.root->path)) != 0)
			abort();
	}
	if (glob && fs_glob_compile(glob, &g, &err) == MOAT_OK) {
		bool hit;
		(void)fs_glob_match(g, buf, NULL, &hit, &err);
		(void)fs_glob_match(g, "a/b/c.txt", NULL, &hit, &err);
		fs_glob_free(g);
	}
	free(buf);
	return 0;
}
