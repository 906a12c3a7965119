/*
 * prompts.c - PLACEHOLDER until the prompts helper lands: an empty table.
 */
#include "prompts.h"

#include <stdlib.h>

struct prompts {
	size_t count;
};

struct prompts *prompts_new(void)
{
	return calloc(1, sizeof(struct prompts));
}

void prompts_free(struct prompts *p)
{
	free(p);
}

enum moat_rc prompts_add(struct prompts *p, const struct prompt_spec *spec,
			 struct moat_err *err)
{
	(void)p;
	(void)spec;
	return moat_err_set(err, MOAT_EINTERNAL, "prompts are not built yet");
}

size_t prompts_count(const struct prompts *p)
{
	return p->count;
}

bool prompts_set_hidden(struct prompts *p, const char *name, bool hidden)
{
	(void)p;
	(void)name;
	(void)hidden;
	return false;
}
