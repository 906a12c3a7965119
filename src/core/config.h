/*
 * config.h - loading, validating and resolving moat's JSON configuration.
 *
 * The file is parsed strictly, validated against moat.schema.json (embedded
 * in the binary at build time) with the same validator tools use, and only
 * then are "${NAME}" references replaced with values from the environment or
 * from a .env file beside the config. Every replaced value is remembered as a
 * secret: config_scrub() masks them in any text moat is about to print.
 * Errors start with the file's name, then a line and column (syntax) or a
 * JSON pointer from the config's root, then the rule (config_diag.h). A loaded config is read-only and
 * may be shared between threads.
 */
#ifndef MOAT_CORE_CONFIG_H
#define MOAT_CORE_CONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limits_cfg.h"
#include "log.h"
#include "result.h"

/* The config file (and .env): 16 MiB, room for a grouped import of a
 * very large API (GitHub's 843 operations write 1.8 MB). */
#define CONFIG_MAX_BYTES (16u << 20)
#define CONFIG_MAX_DEPTH 64 /* deepest nesting of a config file */

struct moat_config {
	json_t *raw;          /* the file as written ("${NAME}" kept); owned */
	json_t *doc;          /* with references resolved; owned */
	char *dir;            /* directory of the config file, or NULL */
	char *name;           /* the file as the user named it ("config" when loaded
				 from memory); every config error starts with it */
	struct limits limits;
	enum log_level log_level;
	bool log_level_set;
	/* The audit trail ("audit", docs/audit.md). audit_on with audit_file
	 * NULL means the default location could not be named (no
	 * $XDG_STATE_HOME nor home directory): starting must fail. */
	bool audit_on;
	char *audit_file;     /* absolute; NULL when off */
	bool audit_default;   /* the XDG default: create its directory 0700 */
	bool audit_deprecated; /* came from log.audit_file (warned at load) */
	uint64_t audit_max_bytes;
	unsigned audit_keep;
	char *server_name;    /* never NULL after load */
	char *instructions;   /* may be NULL */
	char **secrets;       /* resolved values to mask */
	size_t nsecrets;
	/* server.state_key: the key sealing requestState (and a cluster's
	 * shared key); wiped by config_free. */
	bool state_key_set;
	uint8_t state_key[32];
	uint32_t state_ttl_s; /* server.state_ttl_seconds; 0: the default */
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

/*
 * config_audit_default - the default trail into buf: $XDG_STATE_HOME/moat/
 * audit.jsonl when XDG_STATE_HOME is an absolute path, else
 * $HOME/.local/state/moat/audit.jsonl (HOME, else the password entry's home
 * directory). Returns false when neither can be named or buf is too small.
 * Reads the environment: call it from the single-threaded start-up.
 */
bool config_audit_default(char *buf, size_t size);

/* config_schema_text - the embedded moat.schema.json (static storage). */
const char *config_schema_text(void);

#endif
