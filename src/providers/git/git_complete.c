/*
 * git_complete.c - the "git.repositories" completer: the names of the
 * configured repositories that start with the typed prefix, for prompt
 * arguments declared "complete": "git.repositories". Reads only the
 * repository list, which is read-only after start-up: thread-safe.
 */
#include <string.h>

#include "gitp.h"

static enum moat_rc repositories_completer(void *data, const char *prefix,
					   const json_t *context, json_t *values, size_t max,
					   struct moat_err *err)
{
	const struct gitp_family *fam = data;
	size_t n = strlen(prefix);

	(void)context;
	(void)err;
	for (size_t i = 0; i < fam->nrepos && json_array_size(values) < max; i++)
		if (strncmp(fam->repos[i].name, prefix, n) == 0)
			json_array_append_new(values, json_string(fam->repos[i].name));
	return MOAT_OK;
}

enum moat_rc gitp_register_completers(struct registry *reg, struct moat_err *err)
{
	return registry_add_completer(reg, "git.repositories", repositories_completer, &gitp_fam,
				      err);
}
