/*
 * import_security.c - securitySchemes to the API's headers and query
 * (see import_security.h). Written by hand: the mapping from OpenAPI's
 * schemes to moat's "${NAME}" placeholders is moat's own policy.
 */
#include "import_security.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "import_op.h"
#include "import_text.h"

#define SEC_TEXT_MAX 200 /* a scheme's name, URL or key name in a note */

enum cred { CRED_API_KEY, CRED_TOKEN, CRED_BASIC, CRED_N };

static const char *const cred_suffix[CRED_N] = {"API_KEY", "TOKEN", "BASIC_AUTH"};

struct sec_state {
	const char *api;
	struct import_sec *out;
	json_t *notes;
	unsigned count[CRED_N];
	char *cookie; /* "a=${X}; b=${Y}" being built */
};

enum moat_rc import_sec_collect(json_t *used, const json_t *security)
{
	const json_t *first = json_array_get(security, 0), *v;
	const char *k;
	size_t i;

	json_object_foreach((json_t *)first, k, v) {
		bool seen = false;
		json_t *u;
		json_array_foreach(used, i, u)
			seen = seen || strcmp(json_string_value(u), k) == 0;
		if (!seen && json_array_append_new(used, json_string(k)))
			return MOAT_ENOMEM;
	}
	return MOAT_OK;
}

json_t *import_obj_icase(const json_t *obj, const char *key)
{
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)obj, k, v)
		if (strcasecmp(k, key) == 0)
			return v;
	return NULL;
}

void import_sec_free(struct import_sec *s)
{
	if (!s)
		return;
	json_decref(s->headers);
	json_decref(s->query);
	json_decref(s->env);
	memset(s, 0, sizeof(*s));
}

/* A new variable of kind c: "CRM_TOKEN", "CRM_TOKEN_2", ... into var. */
static enum moat_rc new_var(struct sec_state *st, enum cred c, char *var, size_t n)
{
	size_t len = 0;

	for (const char *p = st->api; *p && len + 1 < n; p++)
		var[len++] = (*p >= 'a' && *p <= 'z') ? (char)(*p - 'a' + 'A') : *p;
	var[len] = '\0';
	if (++st->count[c] == 1)
		snprintf(var + len, n - len, "_%s", cred_suffix[c]);
	else
		snprintf(var + len, n - len, "_%s_%u", cred_suffix[c], st->count[c]);
	return json_array_append_new(st->out->env, json_string(var)) ? MOAT_ENOMEM : MOAT_OK;
}

bool import_header_name_ok(const char *s)
{
	if (!*s || strlen(s) > 128)
		return false;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", c)))
			return false;
	}
	return true;
}

static bool header_reserved(const char *s)
{
	static const char *const no[] = {"Host", "Content-Length", "Transfer-Encoding",
					 "Connection", "Cookie"};
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (strcasecmp(s, no[i]) == 0)
			return true;
	return false;
}

/* Text fit for a note: no control or invisible characters, one line,
 * bounded, and no "${" (the config would read it as a variable). */
static char *clean(const char *s)
{
	char *t = import_text(s ? s : "", SEC_TEXT_MAX, true);

	for (char *p = t; p && (p = strstr(p, "${")); p++)
		p[1] = '(';
	return t;
}

static enum moat_rc set_authorization(struct sec_state *st, const char *sname, enum cred c,
				      const char *what)
{
	char var[64], val[96];
	json_t *h = st->out->headers;
	enum moat_rc rc;

	if (import_obj_icase(h, "Authorization"))
		return import_note(st->notes,
			    "Security scheme %s also needs the Authorization header, already "
			    "set for another scheme: left out (edit \"headers\" by hand to "
			    "use it instead).",
			    sname);
	if ((rc = new_var(st, c, var, sizeof(var))))
		return rc;
	snprintf(val, sizeof(val), "%s ${%s}", c == CRED_BASIC ? "Basic" : "Bearer", var);
	if (json_object_set_new(h, "Authorization", json_string(val)))
		return MOAT_ENOMEM;
	return import_note(st->notes, "Set %s in the environment (or .env): %s.", var, what);
}

static enum moat_rc api_key(struct sec_state *st, const char *sname, const json_t *s)
{
	const char *in = json_string_value(json_object_get(s, "in"));
	const char *kname = json_string_value(json_object_get(s, "name"));
	char *ck = clean(kname);
	char var[64];
	enum moat_rc rc = MOAT_OK;

	if (!ck)
		return MOAT_ENOMEM;
	if (!kname || !*kname || strcmp(ck, kname) != 0 || strlen(kname) > 128 || !in) {
		rc = import_note(st->notes, "Security scheme %s (apiKey) has no usable \"name\" or \"in\": left out.",
			  sname);
		goto out;
	}
	if (strcmp(in, "header") == 0) {
		if (!import_header_name_ok(kname) || header_reserved(kname)) {
			rc = import_note(st->notes, "Security scheme %s: header %s cannot be set by moat: left out.",
				  sname, ck);
			goto out;
		}
		if (import_obj_icase(st->out->headers, kname)) {
			rc = import_note(st->notes, "Security scheme %s: header %s is already set for another scheme: left out.",
				  sname, ck);
			goto out;
		}
	} else if (strcmp(in, "query") == 0) {
		if (json_object_get(st->out->query, kname)) {
			rc = import_note(st->notes, "Security scheme %s: query parameter %s is already set for another scheme: left out.",
				  sname, ck);
			goto out;
		}
	} else if (strcmp(in, "cookie") == 0) {
		if (!import_header_name_ok(kname) || strchr(kname, '=')) {
			rc = import_note(st->notes, "Security scheme %s: cookie %s cannot be sent: left out.",
				  sname, ck);
			goto out;
		}
	} else {
		rc = import_note(st->notes, "Security scheme %s: apiKey in \"%s\" is not supported: left out.",
			  sname, strcmp(in, "path") == 0 ? "path" : "?");
		goto out;
	}
	if ((rc = new_var(st, CRED_API_KEY, var, sizeof(var))))
		goto out;
	if (strcmp(in, "header") == 0) {
		char val[80];
		snprintf(val, sizeof(val), "${%s}", var);
		if (json_object_set_new(st->out->headers, kname, json_string(val)))
			rc = MOAT_ENOMEM;
	} else if (strcmp(in, "query") == 0) {
		char val[80];
		snprintf(val, sizeof(val), "${%s}", var);
		if (json_object_set_new(st->out->query, kname, json_string(val)))
			rc = MOAT_ENOMEM;
	} else {
		size_t old = st->cookie ? strlen(st->cookie) : 0, n = old + strlen(kname) + 80;
		char *c = realloc(st->cookie, n);
		if (!c) {
			rc = MOAT_ENOMEM;
			goto out;
		}
		snprintf(c + old, n - old, "%s%s=${%s}", old ? "; " : "", kname, var);
		st->cookie = c;
	}
	if (rc == MOAT_OK)
		rc = import_note(st->notes, "Set %s in the environment (or .env): the API key sent as %s %s.",
			  var,
			  strcmp(in, "header") == 0  ? "header"
			  : strcmp(in, "query") == 0 ? "query parameter"
						     : "cookie",
			  ck);
out:
	free(ck);
	return rc;
}

static enum moat_rc oauth2(struct sec_state *st, const char *sname, const json_t *s)
{
	const json_t *flows = json_object_get(s, "flows");
	const json_t *cc = json_object_get(flows, "clientCredentials");
	char what[512], names[160] = "";
	const char *k;
	json_t *v;
	enum moat_rc rc;

	if (cc) {
		char *url = clean(json_string_value(json_object_get(cc, "tokenUrl")));
		if (!url)
			return MOAT_ENOMEM;
		snprintf(what, sizeof(what),
			 "an OAuth2 access token (scheme %s; client credentials: obtain one from the "
			 "token URL %s), sent as a bearer token; moat does not refresh it",
			 sname, *url ? url : "(not given)");
		free(url);
	} else {
		size_t len = 0;
		json_object_foreach((json_t *)flows, k, v) {
			char *ck = clean(k);
			if (!ck)
				return MOAT_ENOMEM;
			int w = snprintf(names + len, sizeof(names) - len, "%s%s", len ? ", " : "", ck);
			free(ck);
			if (w < 0 || (size_t)w >= sizeof(names) - len)
				break;
			len += (size_t)w;
		}
		snprintf(what, sizeof(what),
			 "an OAuth2 access token (scheme %s, flows: %s) obtained by you, sent as a "
			 "bearer token; moat does not refresh it",
			 sname, *names ? names : "none given");
	}
	rc = set_authorization(st, sname, CRED_TOKEN, what);
	return rc;
}

static enum moat_rc one_scheme(struct sec_state *st, const struct oa_doc *d, const char *name,
			       struct moat_err *err)
{
	const json_t *all = json_object_get(json_object_get(d->root, "components"), "securitySchemes");
	const json_t *s = json_object_get(all, name);
	char *sname = clean(name);
	const char *type, *scheme;
	char what[512];
	enum moat_rc rc = MOAT_OK;

	if (!sname)
		return MOAT_ENOMEM;
	if (!s) {
		rc = import_note(st->notes,
			  "Security scheme %s is named but not defined in "
			  "components.securitySchemes: no credential configured for it.",
			  sname);
		goto out;
	}
	if (!(s = oa_deref(d, s, err))) {
		rc = err->rc ? err->rc : MOAT_EINVAL;
		goto out;
	}
	type = json_string_value(json_object_get(s, "type"));
	scheme = json_string_value(json_object_get(s, "scheme"));
	if (type && strcmp(type, "apiKey") == 0) {
		rc = api_key(st, sname, s);
	} else if (type && strcmp(type, "http") == 0 && scheme && strcasecmp(scheme, "bearer") == 0) {
		snprintf(what, sizeof(what), "the bearer token (scheme %s) sent as header Authorization",
			 sname);
		rc = set_authorization(st, sname, CRED_TOKEN, what);
	} else if (type && strcmp(type, "http") == 0 && scheme && strcasecmp(scheme, "basic") == 0) {
		snprintf(what, sizeof(what),
			 "base64 of user:password (scheme %s), sent as header Authorization: Basic",
			 sname);
		rc = set_authorization(st, sname, CRED_BASIC, what);
	} else if (type && strcmp(type, "oauth2") == 0) {
		rc = oauth2(st, sname, s);
	} else if (type && strcmp(type, "openIdConnect") == 0) {
		char *url = clean(json_string_value(json_object_get(s, "openIdConnectUrl")));
		if (!url) {
			rc = MOAT_ENOMEM;
			goto out;
		}
		snprintf(what, sizeof(what),
			 "an OpenID Connect access token (scheme %s, provider %s) obtained by you, sent "
			 "as a bearer token; moat does not refresh it",
			 sname, *url ? url : "(not given)");
		free(url);
		rc = set_authorization(st, sname, CRED_TOKEN, what);
	} else {
		char *ct = clean(type ? type : "none");
		char *cs = clean(scheme ? scheme : "");
		if (!ct || !cs) {
			free(ct);
			free(cs);
			rc = MOAT_ENOMEM;
			goto out;
		}
		rc = import_note(st->notes,
			  "Security scheme %s (%s%s%s) is not supported by the importer: configure its "
			  "credential by hand.",
			  sname, ct, *cs ? " " : "", cs);
		free(ct);
		free(cs);
	}
out:
	free(sname);
	return rc;
}

enum moat_rc import_security(const struct oa_doc *d, const char *api, const json_t *used,
			     struct import_sec *out, json_t *notes, struct moat_err *err)
{
	struct sec_state st = {.api = api, .out = out, .notes = notes};
	enum moat_rc rc = MOAT_OK;
	json_t *v;
	size_t i;

	memset(out, 0, sizeof(*out));
	out->headers = json_object();
	out->query = json_object();
	out->env = json_array();
	if (!out->headers || !out->query || !out->env)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	json_array_foreach(used, i, v)
		if ((rc = one_scheme(&st, d, json_string_value(v), err)))
			goto out;
	if (st.cookie && json_object_set_new(out->headers, "Cookie", json_string(st.cookie)))
		rc = MOAT_ENOMEM;
out:
	free(st.cookie);
	if (rc == MOAT_ENOMEM)
		moat_err_set(err, rc, "out of memory");
	return rc;
}
