/*
 * import_base.c - the base_url of an imported API: --base-url, or the
 * document's servers[0].url with its {variables} filled from their
 * defaults or --server-var; checked (http or https, a host, no user info,
 * query or fragment, no brace left) and written with a lower-case scheme
 * and no trailing '/'. Written by hand: a check of a handful of rules on
 * a URL the http family parses again (with libcurl) when it loads.
 */
#include "import_base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_text.h"

#define BASE_URL_MAX 2048

static enum moat_rc oom(struct moat_err *err)
{
	return moat_err_set(err, MOAT_ENOMEM, "out of memory");
}

/* The value of server variable k: --server-var, else its default. */
static const char *server_var(const struct import_opts *o, const json_t *vars, const char *k, size_t kn)
{
	for (size_t i = 0; i < o->nserver_vars; i++) {
		const char *sv = o->server_vars[i], *eq = strchr(sv, '=');
		if (eq && (size_t)(eq - sv) == kn && strncmp(sv, k, kn) == 0)
			return eq + 1;
	}
	{
		char name[128];
		if (kn >= sizeof(name))
			return NULL;
		memcpy(name, k, kn);
		name[kn] = '\0';
		return json_string_value(json_object_get(json_object_get(vars, name), "default"));
	}
}

/* Every --server-var names a variable of the server. */
static enum moat_rc check_server_vars(const struct import_opts *o, const json_t *vars,
				      struct moat_err *err)
{
	for (size_t i = 0; i < o->nserver_vars; i++) {
		const char *sv = o->server_vars[i], *eq = strchr(sv, '=');
		char name[128];
		if (!eq || eq == sv || (size_t)(eq - sv) >= sizeof(name))
			return moat_err_rule(err, MOAT_EINVAL, "import.server_var",
					     "--server-var takes NAME=VALUE");
		memcpy(name, sv, (size_t)(eq - sv));
		name[eq - sv] = '\0';
		if (!json_object_get(vars, name)) {
			char *c = import_text(name, 60, true);
			moat_err_rule(err, MOAT_EINVAL, "import.server_var",
				      "--server-var %s: servers[0] has no variable of that name",
				      c ? c : "");
			free(c);
			return MOAT_EINVAL;
		}
	}
	return MOAT_OK;
}

/* servers[0].url with its {variables} filled; *out malloc'd. */
static enum moat_rc server_url(const json_t *root, const struct import_opts *o, char **out,
			       struct moat_err *err)
{
	const json_t *srv = json_array_get(json_object_get(root, "servers"), 0);
	const json_t *vars = json_object_get(srv, "variables");
	const char *url = json_string_value(json_object_get(srv, "url"));
	size_t cap = 0, len = 0;
	char *res = NULL;
	enum moat_rc rc;

	*out = NULL;
	if (!url)
		return moat_err_rule(err, MOAT_EINVAL, "import.base_url",
				     "the document names no server: pass --base-url "
				     "https://HOST/PATH (the API's address)");
	if ((rc = check_server_vars(o, vars, err)))
		return rc;
	for (const char *p = url; *p;) {
		const char *piece = p, *e;
		size_t plen = 1;
		if (*p == '{' && (e = strchr(p, '}'))) {
			piece = server_var(o, vars, p + 1, (size_t)(e - p - 1));
			if (!piece) {
				char *c = import_text(url, 120, true);
				moat_err_rule(err, MOAT_EINVAL, "import.server_var",
					      "servers[0].url %s has a variable without a default: "
					      "pass --server-var NAME=VALUE",
					      c ? c : "");
				free(c);
				free(res);
				return MOAT_EINVAL;
			}
			plen = strlen(piece);
			p = e + 1;
		} else {
			p++;
		}
		if (len + plen + 1 > cap) {
			char *nr;
			cap = (len + plen + 1) * 2;
			if (cap > 4 * BASE_URL_MAX || !(nr = realloc(res, cap))) {
				free(res);
				return cap > 4 * BASE_URL_MAX
					       ? moat_err_rule(err, MOAT_EINVAL, "import.base_url",
							       "servers[0].url is longer than %d bytes",
							       BASE_URL_MAX)
					       : oom(err);
			}
			res = nr;
		}
		memcpy(res + len, piece, plen);
		len += plen;
		res[len] = '\0';
	}
	*out = res ? res : strdup("");
	return *out ? MOAT_OK : oom(err);
}

/* Check url (from --base-url or the server) and write the section's form
 * into *out (malloc'd): scheme lower case, no trailing '/'. */
static enum moat_rc check_base(const char *url, bool given, char **out, bool *http,
			       struct moat_err *err)
{
	const char *from = given ? "--base-url" : "servers[0].url";
	const char *rest, *host_end;
	char *c = import_text(url, 120, true), *res = NULL;
	enum moat_rc rc = MOAT_EINVAL;
	size_t n;

	*out = NULL;
	if (!c)
		return oom(err);
	if (strncasecmp(url, "https://", 8) == 0) {
		*http = false;
		rest = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		*http = true;
		rest = url + 7;
	} else if (url[0] == '/' && url[1] == '/') {
		moat_err_rule(err, rc, "import.base_url",
			      "%s \"%s\" has no scheme: pass --base-url https:%s", from, c, c);
		goto out;
	} else if (!strstr(url, "://")) {
		moat_err_rule(err, rc, "import.base_url",
			      "%s \"%s\" is relative: pass --base-url https://HOST%s (the API's "
			      "address)",
			      from, c, url[0] == '/' ? c : "/...");
		goto out;
	} else {
		moat_err_rule(err, rc, "import.base_url", "%s \"%s\": only http and https URLs",
			      from, c);
		goto out;
	}
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '\\') {
			moat_err_rule(err, rc, "import.base_url",
				      "%s has a space, backslash or control character", from);
			goto out;
		}
	host_end = rest + strcspn(rest, "/?#");
	if (host_end == rest) {
		moat_err_rule(err, rc, "import.base_url", "%s \"%s\" has no host", from, c);
		goto out;
	}
	if (memchr(rest, '@', (size_t)(host_end - rest))) {
		moat_err_rule(err, rc, "import.base_url",
			      "%s may not carry user info (user:password@): credentials go in the "
			      "environment, the importer writes them as ${NAME} placeholders",
			      from);
		goto out;
	}
	if (strpbrk(url, "?#")) {
		moat_err_rule(err, rc, "import.base_url",
			      "%s may not carry a query or fragment: an API key in the query belongs in "
			      "the section's \"query\" as a ${NAME} placeholder",
			      from);
		goto out;
	}
	if (strstr(url, "${") || strchr(url, '{') || strchr(url, '}')) {
		moat_err_rule(err, rc, "import.base_url",
			      "%s \"%s\" has a brace: fill server variables with --server-var", from,
			      c);
		goto out;
	}
	if (strlen(url) > BASE_URL_MAX) {
		moat_err_rule(err, rc, "import.base_url", "%s is longer than %d bytes", from,
			      BASE_URL_MAX);
		goto out;
	}
	if (!(res = strdup(url))) {
		rc = oom(err);
		goto out;
	}
	for (char *p = res; *p != ':'; p++)
		*p = (*p >= 'A' && *p <= 'Z') ? (char)(*p - 'A' + 'a') : *p;
	n = strlen(res);
	while (n > (size_t)(host_end - url) && res[n - 1] == '/')
		res[--n] = '\0';
	*out = res;
	rc = MOAT_OK;
out:
	free(c);
	return rc;
}

enum moat_rc import_base_url(const json_t *root, const struct import_opts *o, char **out,
			     bool *http, struct moat_err *err)
{
	char *url = NULL;
	enum moat_rc rc;

	if (o->base_url)
		return check_base(o->base_url, true, out, http, err);
	if ((rc = server_url(root, o, &url, err)))
		return rc;
	rc = check_base(url, false, out, http, err);
	free(url);
	return rc;
}

