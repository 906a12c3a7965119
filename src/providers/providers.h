/*
 * providers.h - the provider interface and the list of tool families.
 *
 * A provider is one tool family (fs, sql, git, http...). At start-up each
 * provider whose config section is present registers its tools; at exit it
 * frees what it allocated. Adding a family means one new folder under
 * src/providers/ and one line in providers.c. Start-up is single-threaded.
 */
#ifndef MOAT_PROVIDERS_PROVIDERS_H
#define MOAT_PROVIDERS_PROVIDERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "registry.h"
#include "result.h"

struct provider {
	const char *name;        /* family name, e.g. "fs" */
	const char *config_key;  /* top-level config key that enables it */
	/* Register tools from section (the resolved config value at config_key,
	 * borrowed). cfg is the whole config (borrowed, outlives the provider). */
	enum moat_rc (*init)(struct registry *reg, const json_t *section,
			     const struct moat_config *cfg, struct moat_err *err);
	/* Free the provider's state. May be NULL. */
	void (*fini)(void);
	/* Print what the family will reach beyond its tools (moat check),
	 * lines indented by two spaces under a "name:" line. May be NULL. */
	void (*describe)(FILE *f);
	/* For `moat version`: where the family's code is and the libraries it
	 * uses with their versions, e.g. "built in (SQLite 3.40.1)" or
	 * "/usr/lib/moat/moat_git.so (libgit2 1.5.1)", into buf (the caller's).
	 * A module stand-in loads its module to answer; false with err naming
	 * the directories searched when it cannot. NULL: "built in". */
	bool (*versions)(char *buf, size_t size, struct moat_err *err);
};

/*
 * providers_init - run init for every compiled-in provider whose config key
 * is present in cfg->doc. On failure err names the family and the rule and
 * the providers already started are stopped again.
 */
enum moat_rc providers_init(struct registry *reg, const struct moat_config *cfg,
			    struct moat_err *err);

/* providers_describe - the describe output of every started provider. */
void providers_describe(FILE *f);

/* providers_fini - stop every started provider (reverse order). */
void providers_fini(void);

/* providers_names - comma-separated names of the compiled-in families
 * (static storage), for `moat version` and `moat check`. */
const char *providers_names(void);

/*
 * modules_symbol - the address of symbol in the loadable module file
 * (e.g. "moat_sql_pg.so"), loaded from the binary's directory, else from
 * the installation's module directory. dlopen keeps one handle per file,
 * so asking twice loads once; modules are never unloaded. NULL with err
 * set when the module or the symbol is missing. Start-up only.
 */
const void *modules_symbol(const char *file, const char *symbol, struct moat_err *err);

/*
 * modules_versions - load the module file as serve would and write
 * "PATH (LIBRARIES)" into buf: the file it was loaded from and what its
 * version function (const char *symbol(void), the module's libraries and
 * their versions) returns. false with err naming every place searched.
 * Start-up only.
 */
bool modules_versions(const char *file, const char *symbol, char *buf, size_t size,
		      struct moat_err *err);

/*
 * providers_versions - for `moat version`: one line "  NAME  WHERE" per
 * compiled-in family whose code is present (fs, sql, ...) to out; a family
 * whose module does not load is left out and named on err with the
 * directories searched. Returns how many were left out.
 */
int providers_versions(FILE *out, FILE *err);

#endif
