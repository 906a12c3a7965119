/*
 * config_env.c - the values behind a config's ${NAME} references.
 *
 * Three sources, in order: the process environment; a file named NAME in
 * $CREDENTIALS_DIRECTORY, which is how systemd hands a service its secrets
 * (LoadCredential=, on a non-swappable, per-service mount that no other
 * user can read: the hardened moat.service uses it); and a .env file
 * beside the config. Credential files are read when first asked for,
 * opened beneath the directory without following a symlink, and capped;
 * every value read is wiped from memory when the config is loaded.
 * Hand-written: these are a few dozen lines of file reading, and no Debian
 * library parses .env files.
 */
#include "config_env.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

/* A small key=value table read from .env. */
struct dotenv {
	char **keys;
	char **vals;
	size_t n;
};

static void dotenv_free(struct dotenv *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->keys[i]);
		if (d->vals[i]) {
			explicit_bzero(d->vals[i], strlen(d->vals[i]));
			free(d->vals[i]);
		}
	}
	free(d->keys);
	free(d->vals);
	memset(d, 0, sizeof(*d));
}

bool config_env_name_char(char c, bool first)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
	       (!first && c >= '0' && c <= '9');
}

/* Parse KEY=VALUE lines; '#' starts a comment line; an optional "export ";
 * values may be wrapped in matching single or double quotes. */
static enum moat_rc dotenv_load(const char *dir, struct dotenv *d, struct moat_err *err)
{
	char path[PATH_MAX], *buf = NULL;
	enum moat_rc rc = MOAT_OK;
	struct stat st;
	int fd = -1;
	size_t lineno = 0;

	if (!dir)
		return MOAT_OK;
	if ((size_t)snprintf(path, sizeof(path), "%s/.env", dir) >= sizeof(path))
		return MOAT_OK;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return MOAT_OK; /* no .env is fine */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)CONFIG_MAX_BYTES) {
		rc = moat_err_set(err, MOAT_EINVAL, ".env: must be a regular file of at most %u bytes",
				  CONFIG_MAX_BYTES);
		goto out;
	}
	buf = calloc(1, (size_t)st.st_size + 1);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size) {
		rc = moat_err_set(err, MOAT_EIO, ".env: cannot be read");
		goto out;
	}
	for (char *line = buf, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		while (*line == ' ' || *line == '\t')
			line++;
		size_t ll = strlen(line);
		while (ll > 0 && (line[ll - 1] == '\r' || line[ll - 1] == ' ' || line[ll - 1] == '\t'))
			line[--ll] = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		if (strncmp(line, "export ", 7) == 0)
			line += 7;
		char *eq = strchr(line, '=');
		if (!eq || eq == line) {
			rc = moat_err_set(err, MOAT_EINVAL, ".env line %zu: expected NAME=value",
					  lineno);
			goto out;
		}
		*eq = '\0';
		for (char *p = line; *p; p++) {
			if (!config_env_name_char(*p, p == line)) {
				rc = moat_err_set(err, MOAT_EINVAL,
						  ".env line %zu: invalid variable name", lineno);
				goto out;
			}
		}
		char *val = eq + 1;
		size_t vl = strlen(val);
		if (vl >= 2 && (val[0] == '"' || val[0] == '\'') && val[vl - 1] == val[0]) {
			val[vl - 1] = '\0';
			val++;
		}
		char **nk = realloc(d->keys, (d->n + 1) * sizeof(*nk));
		if (!nk) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		d->keys = nk;
		char **nv = realloc(d->vals, (d->n + 1) * sizeof(*nv));
		if (!nv) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
		d->vals = nv;
		d->keys[d->n] = strdup(line);
		d->vals[d->n] = strdup(val);
		d->n++;
		if (!d->keys[d->n - 1] || !d->vals[d->n - 1]) {
			rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
			goto out;
		}
	}
out:
	if (buf) {
		explicit_bzero(buf, (size_t)st.st_size);
		free(buf);
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

struct config_env {
	struct dotenv dotenv;
	struct dotenv creds; /* credentials read so far */
	int cred_dfd;        /* $CREDENTIALS_DIRECTORY (absolute) opened, or -1 */
};

enum moat_rc config_env_open(const char *dir, struct config_env **out, struct moat_err *err)
{
	struct config_env *e = calloc(1, sizeof(*e));
	const char *cd = getenv("CREDENTIALS_DIRECTORY");
	enum moat_rc rc;

	*out = NULL;
	if (!e)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	/* No directory (or a relative one): no credentials. */
	e->cred_dfd = cd && cd[0] == '/' ? open(cd, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if ((rc = dotenv_load(dir, &e->dotenv, err))) {
		config_env_free(e);
		return rc;
	}
	*out = e;
	return MOAT_OK;
}

static enum moat_rc cred_refuse(struct moat_err *err, const char *name, const char *why)
{
	moat_err_set(err, MOAT_EINVAL,
		     "the credential $CREDENTIALS_DIRECTORY/%s %s (it must be a regular file of "
		     "at most %u bytes with no NUL byte)",
		     name, why, CONFIG_CREDENTIAL_MAX);
	err->rule = "config.credential";
	return MOAT_EINVAL;
}

/* Read name beneath the credentials directory dfd into *val (malloc'd):
 * MOAT_OK with *val NULL when there is no such file. */
static enum moat_rc cred_read(int dfd, const char *name, char **val, struct moat_err *err)
{
	struct stat st;
	char *buf;
	ssize_t n;
	int fd;

	*val = NULL;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? MOAT_OK : cred_refuse(err, name, "cannot be opened");
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)CONFIG_CREDENTIAL_MAX) {
		close(fd);
		return cred_refuse(err, name, "is not a small regular file");
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		close(fd);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size || memchr(buf, '\0', (size_t)n)) {
		explicit_bzero(buf, (size_t)st.st_size);
		free(buf);
		return cred_refuse(err, name, n != st.st_size ? "cannot be read" : "holds a NUL byte");
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*val = buf;
	return MOAT_OK;
}

static const char *table_get(const struct dotenv *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->keys[i], name) == 0)
			return d->vals[i];
	return NULL;
}

static bool table_add(struct dotenv *d, const char *name, char *val)
{
	char **nk = realloc(d->keys, (d->n + 1) * sizeof(*nk)), **nv;

	if (!nk)
		return false;
	d->keys = nk;
	if (!(nv = realloc(d->vals, (d->n + 1) * sizeof(*nv))))
		return false;
	d->vals = nv;
	if (!(d->keys[d->n] = strdup(name)))
		return false;
	d->vals[d->n++] = val;
	return true;
}

const char *config_env_get(struct config_env *e, const char *name, struct moat_err *err)
{
	const char *v = getenv(name);
	char *cred = NULL;

	if (v)
		return v; /* the environment wins */
	if (e->cred_dfd >= 0) {
		if ((v = table_get(&e->creds, name)))
			return v;
		if (cred_read(e->cred_dfd, name, &cred, err))
			return NULL;
		if (cred) {
			if (!table_add(&e->creds, name, cred)) {
				explicit_bzero(cred, strlen(cred));
				free(cred);
				moat_err_set(err, MOAT_ENOMEM, "out of memory");
				return NULL;
			}
			return cred;
		}
	}
	return table_get(&e->dotenv, name);
}

void config_env_free(struct config_env *e)
{
	if (!e)
		return;
	dotenv_free(&e->dotenv);
	dotenv_free(&e->creds);
	if (e->cred_dfd >= 0)
		close(e->cred_dfd);
	free(e);
}
