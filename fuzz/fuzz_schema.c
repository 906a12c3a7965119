/*
 * fuzz_schema.c - libFuzzer target for the JSON Schema compiler and
 * validator (src/core/schema.c).
 *
 * The input is split at the first NUL or newline byte: the part before is a
 * schema document, the part after is an instance. Both are parsed with
 * jansson (duplicate keys rejected, as moat's own parsers do); when both
 * parse, the schema is compiled, the instance validated and the error
 * formatted, then everything is freed. Any crash, leak, sanitizer report or
 * runaway loop is a finding.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "result.h"
#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	size_t split = 0;
	json_t *doc = NULL, *inst = NULL;
	struct schema *s = NULL;
	struct moat_err err;
	struct schema_error e;
	char buf[600];

	while (split < size && data[split] != '\0' && data[split] != '\n')
		split++;
	doc = json_loadb(text, split, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
	if (!doc)
		goto out;
	if (split < size)
		inst = json_loadb(text + split + 1, size - split - 1,
				  JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!inst)
		inst = json_null();
	moat_err_clear(&err);
	s = schema_compile(doc, &err);
	if (!s)
		goto out;
	if (!schema_validate(s, inst, &e))
		(void)schema_error_format(&e, buf, sizeof(buf));
	(void)schema_validate(s, inst, NULL);
out:
	schema_free(s);
	json_decref(inst);
	json_decref(doc);
	return 0;
}
