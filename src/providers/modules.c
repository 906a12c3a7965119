/*
 * modules.c - tool families built as loadable modules, loaded only when the
 * config asks for them.
 *
 * The http family needs libcurl and libxml2, which bring some forty shared
 * libraries with them; linked into the binary, every `moat` start would map
 * and relocate them (about 9 ms and 8 MB) even when no http tool is
 * configured. So the family is built as moat_http.so and this stand-in
 * provider, registered under the family's config key, loads it the first
 * time the config has an "http" section: from the directory of the running
 * binary (a build tree), else from MOAT_MODULE_DIR (an installation). The
 * module's own `http_provider` then does the work; its calls into core are
 * resolved against the binary, which exports them. Loading happens at
 * start-up, before the sandbox, and the module is never unloaded.
 *
 * The git family is built the same way, as moat_git.so: libgit2 brings
 * libssh2, mbedtls, http-parser and more. git_module_provider loads it the
 * first time the config has a "git" section.
 *
 * The same holds for one engine of the sql family: PostgreSQL's libpq
 * brings openssl, GSSAPI and LDAP. moat_sql_pg.so holds the PostgreSQL
 * backend; sql.c asks modules_symbol() for its `sqlpg_backend` when the
 * config names a "postgres" database, and never otherwise.
 *
 * Start-up and exit only; not thread-safe.
 */
#include "providers.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "moat_paths.h"

#define HTTP_MODULE "moat_http.so"
#define GIT_MODULE "moat_git.so"

static const struct provider *http_real;
static const struct provider *git_real;

/* dlopen the module file name from, in turn: the running binary's own
 * directory (a build tree), the module directory relative to it (an
 * installation moved as a whole: DESTDIR, dpkg -x, a container root), and
 * the installation's module directory. tried gets the directories
 * searched and the last loader error. */
static void *open_module(const char *name, char *tried, size_t n)
{
	char exe[PATH_MAX], dirs[3][PATH_MAX + 64], path[PATH_MAX + 256];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *why = NULL;
	size_t nd = 0, used = 0;
	void *h;

	if (len > 0) {
		char *slash;
		exe[len] = '\0';
		slash = strrchr(exe, '/');
		if (slash) {
			*slash = '\0';
			snprintf(dirs[nd++], sizeof(dirs[0]), "%s", exe);
			snprintf(dirs[nd++], sizeof(dirs[0]), "%s/%s", exe, MOAT_MODULE_RELDIR);
		}
	}
	snprintf(dirs[nd++], sizeof(dirs[0]), "%s", MOAT_MODULE_DIR);
	tried[0] = '\0';
	for (size_t i = 0; i < nd; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dirs[i], name) < sizeof(path) &&
		    access(path, R_OK) == 0) {
			if ((h = dlopen(path, RTLD_NOW | RTLD_LOCAL)))
				return h;
			why = dlerror();
		}
		used += (size_t)snprintf(tried + used, used < n ? n - used : 0, "%s%s",
					 used ? ", " : "", dirs[i]);
		if (used >= n)
			used = n - 1;
	}
	snprintf(tried + used, n - used, " (%s)", why ? why : "no such file in any");
	return NULL;
}

const void *modules_symbol(const char *file, const char *symbol, struct moat_err *err)
{
	char tried[4 * PATH_MAX];
	const void *sym;
	void *h = open_module(file, tried, sizeof(tried));

	if (!h) {
		moat_err_set(err, MOAT_EINTERNAL, "cannot load the module %s; searched %s", file, tried);
		return NULL;
	}
	if (!(sym = dlsym(h, symbol)))
		moat_err_set(err, MOAT_EINTERNAL, "%s has no %s", file, symbol);
	return sym;
}

bool modules_versions(const char *file, const char *symbol, char *buf, size_t size,
		      struct moat_err *err)
{
	char tried[4 * PATH_MAX];
	const char *(*fn)(void);
	Dl_info info = {0};
	void *h = open_module(file, tried, sizeof(tried));

	if (!h) {
		moat_err_set(err, MOAT_EINTERNAL, "cannot load the module %s; searched %s", file,
			     tried);
		return false;
	}
	*(void **)&fn = dlsym(h, symbol);
	if (!fn) {
		moat_err_set(err, MOAT_EINTERNAL, "%s has no %s", file, symbol);
		return false;
	}
	if (!dladdr(*(void **)&fn, &info) || !info.dli_fname)
		info.dli_fname = file;
	snprintf(buf, size, "%s (%s)", info.dli_fname, fn());
	return true;
}

static enum moat_rc http_module_init(struct registry *reg, const json_t *section,
				     const struct moat_config *cfg, struct moat_err *err)
{
	char tried[4 * PATH_MAX];
	void *h;

	if (!http_real) {
		h = open_module(HTTP_MODULE, tried, sizeof(tried));
		if (!h)
			return moat_err_set(err, MOAT_EINTERNAL,
					    "cannot load the http family's module %s; searched %s", HTTP_MODULE, tried);
		http_real = dlsym(h, "http_provider");
		if (!http_real)
			return moat_err_set(err, MOAT_EINTERNAL,
					    "%s has no http_provider", HTTP_MODULE);
	}
	return http_real->init(reg, section, cfg, err);
}

static void http_module_fini(void)
{
	if (http_real && http_real->fini)
		http_real->fini();
}

static void http_module_describe(FILE *f)
{
	if (http_real && http_real->describe)
		http_real->describe(f);
}

static bool http_module_versions(char *buf, size_t size, struct moat_err *err)
{
	return modules_versions(HTTP_MODULE, "http_module_versions", buf, size, err);
}

const struct provider http_module_provider = {
	.name = "http",
	.config_key = "http",
	.init = http_module_init,
	.fini = http_module_fini,
	.describe = http_module_describe,
	.versions = http_module_versions,
};

static enum moat_rc git_module_init(struct registry *reg, const json_t *section,
				    const struct moat_config *cfg, struct moat_err *err)
{
	if (!git_real && !(git_real = modules_symbol(GIT_MODULE, "git_provider", err)))
		return err->rc;
	return git_real->init(reg, section, cfg, err);
}

static void git_module_fini(void)
{
	if (git_real && git_real->fini)
		git_real->fini();
}

static void git_module_describe(FILE *f)
{
	if (git_real && git_real->describe)
		git_real->describe(f);
}

static bool git_module_versions(char *buf, size_t size, struct moat_err *err)
{
	return modules_versions(GIT_MODULE, "git_module_versions", buf, size, err);
}

const struct provider git_module_provider = {
	.name = "git",
	.config_key = "git",
	.init = git_module_init,
	.fini = git_module_fini,
	.describe = git_module_describe,
	.versions = git_module_versions,
};
