/*
 * fuzz_yaml.c - libFuzzer target for src/core/yaml_json.c.
 *
 * The input is parsed with small caps (depth 16, 2,000 nodes) so the caps
 * themselves are reached. Checks: the result is NULL with a message, or
 * an array whose JSON serialization succeeds and parses back equal (every
 * string valid UTF-8, no NaN or infinity); memory is freed either way.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "yaml_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct yaml_json_limits lim = {.max_bytes = 1u << 16, .max_depth = 16, .max_nodes = 2000};
	char err[YAML_JSON_ERR_MAX];
	json_t *v = yaml_to_json((const char *)data, size, &lim, err);

	if (!v) {
		if (err[0] == '\0')
			abort(); /* a failure always says why */
		return 0;
	}
	if (!json_is_array(v))
		abort();
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	if (!s)
		abort();
	json_t *back = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (!back || !json_equal(v, back))
		abort();
	json_decref(back);
	free(s);
	json_decref(v);
	return 0;
}
