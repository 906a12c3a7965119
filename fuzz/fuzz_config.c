/*
 * fuzz_config.c - libFuzzer target for src/core/config.c: strict parsing,
 * validation against the embedded moat.schema.json and ${NAME} resolution
 * (MOAT_FUZZ_VAR is the only variable: the environment is cleared first,
 * so "${_}" or "${HOME}" are missing too). A loaded config must scrub its
 * secret from a message containing it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct moat_config cfg;
	struct moat_err err = {0};
	char msg[128];

	static int ready;

	if (!ready) {
		/* Any other variable the shell left (e.g. "_") would be a secret
		 * the check below does not know. */
		clearenv();
		setenv("MOAT_FUZZ_VAR", "fuzz-secret-value", 1);
		ready = 1;
	}
	if (config_load_text((const char *)data, size, NULL, &cfg, &err) == MOAT_OK) {
		snprintf(msg, sizeof(msg), "x fuzz-secret-value y");
		config_scrub(&cfg, msg, sizeof(msg));
		if (cfg.nsecrets > 0 && strstr(msg, "fuzz-secret-value"))
			abort();
		config_free(&cfg);
	}
	return 0;
}
