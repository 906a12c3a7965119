/*
 * config.c - strict config loading, schema validation and ${NAME} resolution.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config_diag.h"
#include "config_env.h"
#include "audit.h"
#include "jsonrpc.h"
#include "schema.h"
#include "seal.h"
#include "text.h"

extern const char moat_schema_json[];
extern const size_t moat_schema_json_len;

const char *config_schema_text(void)
{
	return moat_schema_json;
}

static enum moat_rc add_secret(struct moat_config *cfg, const char *v)
{
	char **ns;

	if (strlen(v) < 4)
		return MOAT_OK; /* masking "1" or "on" everywhere would garble every message */
	for (size_t i = 0; i < cfg->nsecrets; i++)
		if (strcmp(cfg->secrets[i], v) == 0)
			return MOAT_OK;
	ns = realloc(cfg->secrets, (cfg->nsecrets + 1) * sizeof(*ns));
	if (!ns)
		return MOAT_ENOMEM;
	cfg->secrets = ns;
	if (!(cfg->secrets[cfg->nsecrets] = strdup(v)))
		return MOAT_ENOMEM;
	cfg->nsecrets++;
	return MOAT_OK;
}

/* Resolve ${NAME} inside one string. Returns a new json string or NULL. */
static enum moat_rc resolve_string(struct moat_config *cfg, struct config_env *d, const char *in,
				   const char *ptr, json_t **out, struct moat_err *err)
{
	size_t cap = strlen(in) + 1, len = 0;
	char *res = malloc(cap);
	enum moat_rc rc = MOAT_OK;

	*out = NULL;
	if (!res)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	for (const char *p = in; *p;) {
		const char *piece = p;
		size_t plen = 1;
		char name[128];

		if (p[0] == '$' && p[1] == '{') {
			const char *end = strchr(p + 2, '}');
			size_t nl = end ? (size_t)(end - (p + 2)) : 0;
			bool ok = end && nl > 0 && nl < sizeof(name);
			for (size_t i = 0; ok && i < nl; i++)
				ok = config_env_name_char(p[2 + i], i == 0);
			if (!ok) {
				rc = moat_err_set(err, MOAT_EINVAL,
						  "%s: malformed ${NAME} reference (NAME is "
						  "[A-Za-z_][A-Za-z0-9_]*)",
						  ptr[0] ? ptr : "(root)");
				goto out;
			}
			memcpy(name, p + 2, nl);
			name[nl] = '\0';
			piece = config_env_get(d, name, err);
			if (!piece) {
				if (!err->rc)
					moat_err_set(err, MOAT_EINVAL,
						     "%s: environment variable %s is not set (nor in "
						     "$CREDENTIALS_DIRECTORY, nor in .env beside the "
						     "config)",
						     ptr[0] ? ptr : "(root)", name);
				else {
					char inner[MOAT_ERR_MSG_MAX];

					snprintf(inner, sizeof(inner), "%s", err->msg);
					moat_err_set(err, err->rc, "%s: %s", ptr[0] ? ptr : "(root)",
						     inner);
				}
				rc = err->rc;
				goto out;
			}
			if (add_secret(cfg, piece)) {
				rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
				goto out;
			}
			plen = strlen(piece);
			p = end + 1;
		} else {
			p++;
		}
		if (len + plen + 1 > cap) {
			size_t ncap = (len + plen + 1) * 2;
			char *nr = realloc(res, ncap);
			if (!nr) {
				rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
				goto out;
			}
			res = nr;
			cap = ncap;
		}
		memcpy(res + len, piece, plen);
		len += plen;
	}
	res[len] = '\0';
	*out = json_stringn(res, len);
	if (!*out)
		rc = moat_err_set(err, MOAT_EINVAL, "%s: resolved value is not valid UTF-8",
				  ptr[0] ? ptr : "(root)");
out:
	explicit_bzero(res, cap);
	free(res);
	return rc;
}

static enum moat_rc resolve(struct moat_config *cfg, struct config_env *d, json_t *node,
			    char *ptr, size_t psize, struct moat_err *err)
{
	size_t plen = strlen(ptr);
	enum moat_rc rc = MOAT_OK;

	if (json_is_object(node)) {
		const char *key;
		json_t *v;
		json_object_foreach(node, key, v) {
			text_ptr_push(ptr, psize, key);
			if (json_is_string(v) && strstr(json_string_value(v), "${")) {
				json_t *nv;
				rc = resolve_string(cfg, d, json_string_value(v), ptr, &nv, err);
				if (rc == MOAT_OK)
					json_object_set_new(node, key, nv);
			} else {
				rc = resolve(cfg, d, v, ptr, psize, err);
			}
			ptr[plen] = '\0';
			if (rc)
				return rc;
		}
	} else if (json_is_array(node)) {
		size_t i;
		json_t *v;
		json_array_foreach(node, i, v) {
			char idx[24];
			snprintf(idx, sizeof(idx), "%zu", i);
			text_ptr_push(ptr, psize, idx);
			if (json_is_string(v) && strstr(json_string_value(v), "${")) {
				json_t *nv;
				rc = resolve_string(cfg, d, json_string_value(v), ptr, &nv, err);
				if (rc == MOAT_OK)
					json_array_set_new(node, i, nv);
			} else {
				rc = resolve(cfg, d, v, ptr, psize, err);
			}
			ptr[plen] = '\0';
			if (rc)
				return rc;
		}
	}
	return MOAT_OK;
}

static uint64_t get_uint(const json_t *obj, const char *key, uint64_t def)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : def;
}

/* ---- the audit trail ----------------------------------------------------- */

bool config_audit_default(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	struct passwd pw, *res = NULL;
	char pwbuf[4096];
	size_t n;

	/* The XDG base directory spec: a relative value is invalid, ignore it. */
	if (xdg && xdg[0] == '/') {
		n = (size_t)snprintf(buf, size, "%s/moat/audit.jsonl", xdg);
		return n < size;
	}
	if (!home || home[0] != '/') {
		if (getpwuid_r(getuid(), &pw, pwbuf, sizeof(pwbuf), &res) != 0 || !res ||
		    !pw.pw_dir || pw.pw_dir[0] != '/')
			return false;
		home = pw.pw_dir;
	}
	n = (size_t)snprintf(buf, size, "%s/.local/state/moat/audit.jsonl", home);
	return n < size;
}

/* "audit": true | false | {file, max_bytes, keep}; log.audit_file is the
 * deprecated spelling of audit.file. Relative files are relative to the
 * config's directory. */
static enum moat_rc extract_audit(struct moat_config *cfg, struct moat_err *err)
{
	json_t *log = json_object_get(cfg->doc, "log");
	json_t *au = json_object_get(cfg->doc, "audit");
	json_t *old = log ? json_object_get(log, "audit_file") : NULL;
	json_t *file = json_is_object(au) ? json_object_get(au, "file") : NULL;
	const char *where = "/audit/file";
	char buf[PATH_MAX];
	const char *p;

	cfg->audit_on = !json_is_false(au);
	cfg->audit_max_bytes = json_is_object(au) ? get_uint(au, "max_bytes", AUDIT_DEFAULT_MAX_BYTES)
						  : AUDIT_DEFAULT_MAX_BYTES;
	cfg->audit_keep = (unsigned)(json_is_object(au) ? get_uint(au, "keep", AUDIT_DEFAULT_KEEP)
						       : AUDIT_DEFAULT_KEEP);
	if (old && au)
		return moat_err_set(err, MOAT_EINVAL,
				    "/log/audit_file: deprecated spelling of /audit/file; with an "
				    "\"audit\" section, give the file as /audit/file only");
	if (old) {
		log_warn("config /log/audit_file is deprecated: use \"audit\": {\"file\": ...}");
		cfg->audit_deprecated = true;
		file = old;
		where = "/log/audit_file";
	}
	if (!cfg->audit_on)
		return MOAT_OK;
	if (!file) {
		cfg->audit_default = true;
		if (!config_audit_default(buf, sizeof(buf)))
			return MOAT_OK; /* audit_on without a file: cli_setup refuses */
		p = buf;
	} else {
		p = json_string_value(file);
		if (p[0] != '/') {
			if (!cfg->dir)
				return moat_err_set(err, MOAT_EINVAL,
						    "%s: must be an absolute path here (no config "
						    "file to be relative to)", where);
			if ((size_t)snprintf(buf, sizeof(buf), "%s/%s", cfg->dir, p) >= sizeof(buf))
				return moat_err_set(err, MOAT_EINVAL, "%s: path too long", where);
			p = buf;
		}
		if (p[strlen(p) - 1] == '/')
			return moat_err_set(err, MOAT_EINVAL, "%s: names a directory, not a file",
					    where);
	}
	if (!(cfg->audit_file = strdup(p)))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return MOAT_OK;
}

static enum moat_rc extract(struct moat_config *cfg, struct moat_err *err)
{
	json_t *lim = json_object_get(cfg->doc, "limits");
	json_t *log = json_object_get(cfg->doc, "log");
	json_t *srv = json_object_get(cfg->doc, "server");
	struct limits *l = &cfg->limits;
	enum moat_rc rc;
	json_t *v;

	limits_defaults(l);
	if (lim) {
		l->max_message_bytes = get_uint(lim, "max_message_bytes", l->max_message_bytes);
		l->max_json_depth = get_uint(lim, "max_json_depth", l->max_json_depth);
		l->call_timeout_ms = (uint32_t)get_uint(lim, "call_timeout_ms", l->call_timeout_ms);
		l->max_output_bytes = get_uint(lim, "max_output_bytes", l->max_output_bytes);
		l->max_concurrent_calls =
			(uint32_t)get_uint(lim, "max_concurrent_calls", l->max_concurrent_calls);
		l->workers = (uint32_t)get_uint(lim, "workers", l->workers);
		l->calls_per_minute = (uint32_t)get_uint(lim, "calls_per_minute", l->calls_per_minute);
		l->tool_calls_per_minute =
			(uint32_t)get_uint(lim, "tool_calls_per_minute", l->tool_calls_per_minute);
		l->tools_page_size = (uint32_t)get_uint(lim, "tools_page_size", l->tools_page_size);
	}
	if (log && (v = json_object_get(log, "level"))) {
		log_parse_level(json_string_value(v), &cfg->log_level);
		cfg->log_level_set = true;
	}
	if ((rc = extract_audit(cfg, err)))
		return rc;
	v = srv ? json_object_get(srv, "name") : NULL;
	cfg->server_name = strdup(v ? json_string_value(v) : "moat");
	v = srv ? json_object_get(srv, "instructions") : NULL;
	cfg->instructions = v ? strdup(json_string_value(v)) : NULL;
	if (!cfg->server_name || (v && !cfg->instructions))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	cfg->state_ttl_s = (uint32_t)get_uint(srv, "state_ttl_seconds", 0);
	v = srv ? json_object_get(srv, "state_key") : NULL;
	if (v) {
		/* The schema made it a ${NAME} reference: never written in
		 * the file itself. */
		if (!seal_parse_key(json_string_value(v), cfg->state_key))
			return moat_err_rule(err, MOAT_EINVAL, "config.state_key",
					     "/server/state_key: the key must be 32 bytes, written as "
					     "64 hex digits or in base64");
		cfg->state_key_set = true;
	}
	return MOAT_OK;
}

static struct schema *config_schema(struct moat_err *err)
{
	json_error_t jerr;
	json_t *doc = json_loadb(moat_schema_json, moat_schema_json_len, JSON_REJECT_DUPLICATES,
				 &jerr);
	struct schema *s;

	if (!doc) {
		moat_err_set(err, MOAT_EINTERNAL, "embedded moat.schema.json does not parse");
		return NULL;
	}
	s = schema_compile(doc, err);
	json_decref(doc);
	return s;
}

/*
 * load_text - parse, validate and resolve text. Every error message starts
 * with label (the file as the user named it) and points: a line and column
 * for a syntax error, a JSON pointer from the config's root for the rest.
 */
static enum moat_rc load_text(const char *text, size_t len, const char *dir, const char *label,
			      struct moat_config *cfg, struct moat_err *err)
{
	struct config_env *env = NULL;
	struct schema *sch = NULL;
	struct schema_error se;
	struct moat_err perr = {0};
	enum moat_rc rc;
	char ptr[512] = "";
	char where[MOAT_ERR_MSG_MAX];
	bool labeled = false; /* err->msg already starts with label */

	memset(cfg, 0, sizeof(*cfg));
	rc = rpc_parse(text, len, CONFIG_MAX_BYTES, CONFIG_MAX_DEPTH, &cfg->raw, &perr);
	if (rc) {
		if (config_diag_syntax(label, text, len, where, sizeof(where))) {
			rc = moat_err_set(err, MOAT_EINVAL, "%s", where);
			labeled = true;
		} else {
			/* Not a syntax error: the size or the depth. rpc_parse says
			 * "parse error: ..." or names the limit; re-label it. */
			const char *m = strncmp(perr.msg, "parse error: ", 13) == 0 ? perr.msg + 13
										    : perr.msg;
			if (strstr(perr.msg, "deeper"))
				rc = moat_err_set(err, rc, "nests deeper than %d levels",
						  CONFIG_MAX_DEPTH);
			else
				rc = moat_err_set(err, rc, "not valid JSON: %s", m);
		}
		goto out;
	}
	if (!(sch = config_schema(err))) {
		rc = MOAT_EINTERNAL;
		goto out;
	}
	if (!schema_validate(sch, cfg->raw, &se)) {
		config_diag_schema(label, &se, where, sizeof(where));
		rc = moat_err_set(err, MOAT_EINVAL, "%s", where);
		labeled = true;
		goto out;
	}
	if (dir && !(cfg->dir = strdup(dir))) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = config_env_open(dir, &env, err)))
		goto out;
	if (!(cfg->doc = json_deep_copy(cfg->raw))) {
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = resolve(cfg, env, cfg->doc, ptr, sizeof(ptr), err)))
		goto out;
	if ((rc = extract(cfg, err)))
		goto out;
	if (!(cfg->name = strdup(label)))
		rc = moat_err_set(err, MOAT_ENOMEM, "out of memory");
out:
	config_env_free(env);
	schema_free(sch);
	if (rc) {
		if (!labeled) {
			char inner[MOAT_ERR_MSG_MAX];

			snprintf(inner, sizeof(inner), "%s", err->msg);
			moat_err_set(err, rc, "%s: %s", label, inner);
		}
		config_free(cfg);
		memset(cfg, 0, sizeof(*cfg));
	}
	return rc;
}

enum moat_rc config_load_text(const char *text, size_t len, const char *dir,
			      struct moat_config *cfg, struct moat_err *err)
{
	return load_text(text, len, dir, "config", cfg, err);
}

enum moat_rc config_load_file(const char *path, struct moat_config *cfg, struct moat_err *err)
{
	char dir[PATH_MAX], *buf = NULL, *slash;
	struct stat st;
	enum moat_rc rc;
	int fd;

	memset(cfg, 0, sizeof(*cfg));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return moat_err_set(err, MOAT_EIO, "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return moat_err_set(err, MOAT_EINVAL, "%s: must be a regular file", path);
	}
	if (st.st_size > (off_t)CONFIG_MAX_BYTES) {
		close(fd);
		return moat_err_set(err, MOAT_ELIMIT, "%s: larger than %u bytes", path,
				    CONFIG_MAX_BYTES);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf || read(fd, buf, (size_t)st.st_size) != st.st_size) {
		close(fd);
		free(buf);
		return moat_err_set(err, MOAT_EIO, "%s: cannot be read", path);
	}
	close(fd);
	if (!realpath(path, dir)) {
		free(buf);
		return moat_err_set(err, MOAT_EIO, "%s: cannot resolve its path: %s", path,
				    strerror(errno));
	}
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	rc = load_text(buf, (size_t)st.st_size, dir, path, cfg, err);
	free(buf);
	return rc;
}

enum moat_rc config_defaults(struct moat_config *cfg, struct moat_err *err)
{
	return config_load_text("{}", 2, NULL, cfg, err);
}

void config_free(struct moat_config *cfg)
{
	if (!cfg)
		return;
	json_decref(cfg->raw);
	json_decref(cfg->doc);
	free(cfg->dir);
	free(cfg->name);
	free(cfg->audit_file);
	free(cfg->server_name);
	free(cfg->instructions);
	for (size_t i = 0; i < cfg->nsecrets; i++) {
		explicit_bzero(cfg->secrets[i], strlen(cfg->secrets[i]));
		free(cfg->secrets[i]);
	}
	free(cfg->secrets);
	explicit_bzero(cfg->state_key, sizeof(cfg->state_key));
	memset(cfg, 0, sizeof(*cfg));
}

void config_scrub(const struct moat_config *cfg, char *msg, size_t size)
{
	static const char mask[] = "****";

	for (size_t i = 0; i < cfg->nsecrets; i++) {
		const char *sec = cfg->secrets[i];
		size_t sl = strlen(sec);
		char *hit;
		while ((hit = strstr(msg, sec)) != NULL) {
			size_t tail = strlen(hit + sl);
			/* The mask is never longer than a secret (secrets are >= 4). */
			memcpy(hit, mask, 4);
			memmove(hit + 4, hit + sl, tail + 1);
		}
	}
	/* A message cut to its buffer (moat_err's 512 bytes, or size) before
	 * it got here may end in the first part of a secret: then mask a
	 * trailing prefix of 4 bytes or more as well. Only then: an uncut
	 * message ending in a word a secret happens to begin with is left. */
	size_t len = strlen(msg);
	if (len + 1 < size && len + 1 < MOAT_ERR_MSG_MAX)
		return;
	for (size_t i = 0; i < cfg->nsecrets; i++) {
		const char *sec = cfg->secrets[i];
		size_t sl = strlen(sec);
		size_t k = sl > len ? len : sl > 0 ? sl - 1 : 0;
		for (; k >= 4; k--) {
			if (memcmp(msg + len - k, sec, k) == 0) {
				memcpy(msg + len - k, mask, sizeof mask);
				len = len - k + 4;
				break;
			}
		}
	}
	(void)size;
}
