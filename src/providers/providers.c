/*
 * providers.c - the table of compiled-in tool families.
 */
#include "providers.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "moat_build.h"

extern const struct provider fs_provider;
extern const struct provider sql_provider;
extern const struct provider http_module_provider; /* modules.c */
extern const struct provider git_module_provider;  /* modules.c */
extern const struct provider prompts_provider;     /* last: uses the others' resources */
#if MOAT_TEST_PROVIDER
extern const struct provider testing_provider;
#endif

static const struct provider *const all[] = {
	&fs_provider,
	&sql_provider,
	&http_module_provider,
	&git_module_provider,
#if MOAT_TEST_PROVIDER
	&testing_provider,
#endif
	&prompts_provider,
	NULL,
};

#define NPROV (sizeof(all) / sizeof(all[0]) - 1)

static bool started[NPROV + 1];

/* Loops run to the NULL sentinel rather than to NPROV, which is 0 in a
 * build without families and would make `i < NPROV` always false. */

enum moat_rc providers_init(struct registry *reg, const struct moat_config *cfg,
			    struct moat_err *err)
{
	for (size_t i = 0; all[i]; i++) {
		const json_t *section = json_object_get(cfg->doc, all[i]->config_key);
		enum moat_rc rc;
		if (!section)
			continue;
		registry_set_family(reg, all[i]->name);
		rc = all[i]->init(reg, section, cfg, err);
		registry_set_family(reg, NULL);
		if (rc) {
			char inner[MOAT_ERR_MSG_MAX];
			snprintf(inner, sizeof(inner), "%s", err->msg);
			moat_err_set(err, rc, "%s: %s", all[i]->name, inner);
			providers_fini();
			return rc;
		}
		started[i] = true;
	}
	return MOAT_OK;
}

void providers_describe(FILE *f)
{
	for (size_t i = 0; all[i]; i++)
		if (started[i] && all[i]->describe)
			all[i]->describe(f);
}

void providers_fini(void)
{
	size_t n = 0;

	while (all[n])
		n++;
	while (n-- > 0) {
		if (started[n] && all[n]->fini)
			all[n]->fini();
		started[n] = false;
	}
}

const char *providers_names(void)
{
	static char names[256];

	if (names[0])
		return names;
	for (size_t i = 0; all[i]; i++) {
		size_t n = strlen(names);
		snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "", all[i]->name);
	}
	if (!names[0])
		snprintf(names, sizeof(names), "(none)");
	return names;
}

int providers_versions(FILE *out, FILE *err)
{
	int missing = 0;

	for (size_t i = 0; all[i]; i++) {
		char where[1024] = "built in";
		struct moat_err e = {0};

		if (all[i]->versions && !all[i]->versions(where, sizeof(where), &e)) {
			fprintf(err, "moat: the %s family is not available: %s\n", all[i]->name, e.msg);
			missing++;
			continue;
		}
		fprintf(out, "  %-8s %s\n", all[i]->name, where);
	}
	return missing;
}
