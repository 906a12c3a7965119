/*
 * config.h - loading, validating and resolving moat's JSON configuration.
 *
 * The file is parsed strictly, validated against moat.schema.json (embedded
 * in the binary at build time) with the same validator tools use, and only
 * then are "${NAME}" references replaced with values from the environment or
 * from a .env file beside the config. Every replaced value is remembered as a
 * secret: config_scrub() masks them in any text moat is about to print.
 * Errors name the JSON pointer and the rule. A loaded config is read-only and
 * may be shared between threads.
 */
#ifndef MOAT_CORE_CONFIG_H
#define MOAT_CORE_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "limits_cfg.h"
#include "log.h"
#include "result.h"

#define CONFIG_MAX_BYTES (1u << 20)

struct moat_config {
	json_t *raw;          /* the file as written ("${NAME}" kept); owned */
	json_t *doc;          /* with references resolved; owned */
	char *dir;            /* directory of the config file, or NULL */
	struct limits limits;
	enum log_level log_level;
	bool log_level_set;
	char *audit_file;     /* absolute or NULL */
	char *server_name;    /* never NULL after load */
	char *instructions;   /* may be NULL */
	char **secrets;       /* resolved values to mask */
	size_t nsecrets;
};

/* config_defaults - an empty configuration ({}), every limit at its default.
 * Free with config_free(). Returns MOAT_ENOMEM on failure. */
enum moat_rc config_defaults(struct moat_config *cfg, struct moat_err *err);

/*
 * config_load_file - read, validate and resolve path. Relative paths in the
 * config are resolved against its directory; .env is read from there too.
 * On failure cfg is left empty (safe to config_free) and err names the rule.
 */
enum moat_rc config_load_file(const char *path, struct moat_config *cfg, struct moat_err *err);

/*
 * config_load_text - the same from memory. dir (may be NULL) is where .env
 * and relative paths are looked up; NULL disables .env.
 */
enum moat_rc config_load_text(const char *text, size_t len, const char *dir,
			      struct moat_config *cfg, struct moat_err *err);

/* config_free - release everything cfg owns, wiping secrets first. */
void config_free(struct moat_config *cfg);

/* config_scrub - replace every secret value found in msg (NUL-terminated,
 * buffer of size bytes) with "****"; when msg fills its buffer or is as
 * long as a moat_err message (so it may have been cut), also a trailing
 * prefix (>= 4 bytes) of a secret. Thread-safe for a loaded config. */
void config_scrub(const struct moat_config *cfg, char *msg, size_t size);

/* config_schema_text - the embedded moat.schema.json (static storage). */
const char *config_schema_text(void);

#endif
