/*
 * config_env.h - where the values of a config's ${NAME} references come
 * from: the environment, then a systemd credential, then .env beside the
 * config. Core-internal (config.c); start-up only, not thread-safe.
 */
#ifndef MOAT_CORE_CONFIG_ENV_H
#define MOAT_CORE_CONFIG_ENV_H

#include <stdbool.h>

#include "result.h"

/* The largest credential file read from $CREDENTIALS_DIRECTORY. */
#define CONFIG_CREDENTIAL_MAX (64u * 1024u)

struct config_env;

/*
 * config_env_open - read .env in dir (NULL: none; a missing file is fine)
 * and open $CREDENTIALS_DIRECTORY once. *out is the caller's, freed with
 * config_env_free. Errors name the .env line that is malformed.
 */
enum moat_rc config_env_open(const char *dir, struct config_env **out, struct moat_err *err);

/*
 * config_env_get - the value of NAME ([A-Za-z_][A-Za-z0-9_]*): the
 * environment wins; then the file $CREDENTIALS_DIRECTORY/NAME (what
 * systemd's LoadCredential= provides: a regular file of at most
 * CONFIG_CREDENTIAL_MAX bytes, no NUL byte, one trailing newline dropped,
 * opened without following a symlink); then .env. The string is borrowed
 * from the environment or e, valid until config_env_free. NULL when no
 * source has NAME (err untouched), or NULL with err set when a credential
 * file exists but may not be used (rule config.credential).
 */
const char *config_env_get(struct config_env *e, const char *name, struct moat_err *err);

/* config_env_free - wipe every value read and free e (NULL is fine). */
void config_env_free(struct config_env *e);

/* config_env_name_char - c may appear in a NAME (first: at its start). */
bool config_env_name_char(char c, bool first);

#endif
