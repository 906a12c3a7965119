/*
 * fuzz_ptmpl.c - libFuzzer target for the config prompts' {argument}
 * templates (ptmpl_scan, ptmpl_expand). The input, cut at its first NUL,
 * is the template; the arguments are {"a": "x{y}%/?#", "b": ""}. Checks:
 * scan and expand agree on what is malformed; a URI expansion holds no
 * '?', '#', space or byte above 0x7e but those the template wrote; a text
 * expansion of a template without placeholders or braces is the template.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prompts/prompt_template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool any_name(void *ctx, const char *name, size_t n)
{
	(void)ctx;
	if (n == 0 || n > 64 || !name)
		abort();
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *t = malloc(size + 1);
	json_t *args = json_pack("{s:s, s:s}", "a", "x{y}%/?# \xc3\xa9", "b", "");
	struct moat_err err = {0};
	enum moat_rc rc;
	char *text, *uri;

	if (!t || !args) {
		free(t);
		json_decref(args);
		return 0;
	}
	memcpy(t, data, size);
	t[size] = '\0';
	rc = ptmpl_scan(t, any_name, NULL, &err);
	text = ptmpl_expand(t, args, false, &err);
	uri = ptmpl_expand(t, args, true, &err);
	if ((rc == MOAT_OK) != (text != NULL) || (rc == MOAT_OK) != (uri != NULL))
		abort();
	if (uri) {
		size_t lit = 0, got = 0;
		for (const char *p = t; *p; p++)
			lit += *p == '?' || *p == '#' || *p == ' ' || (unsigned char)*p > 0x7e;
		for (const char *p = uri; *p; p++)
			got += *p == '?' || *p == '#' || *p == ' ' || (unsigned char)*p > 0x7e;
		if (got > lit)
			abort();
	}
	if (text && !strpbrk(t, "{}") && strcmp(text, t) != 0)
		abort();
	free(text);
	free(uri);
	json_decref(args);
	free(t);
	return 0;
}
