/*
 * http_session_seal.c - the Mcp-Session-Id a client is given: the
 * session's random internal id, sealed (seal.h: AES-256-GCM under the
 * process key, which is the cluster key when moat runs as one of several
 * replicas) together with what initialize told the server of the client.
 *
 * So any replica that holds the key can open an id another replica
 * issued, learn which session it names and how that session was
 * initialized, and take the session over (http_session_adopt.c) without
 * asking the replica that issued it. The seal binds the id to the
 * principal that opened the session (subject "session", the principal as
 * the seal's principal) and to an expiry (listen.session_max_lifetime_s):
 * an id presented by anyone else, changed, cut or expired opens to
 * nothing, exactly like an id that never existed.
 *
 * The sealed body is small and bounded: {"i": internal id, "v": revision,
 * "c": capabilities, "n": clientInfo.name, "cv": clientInfo.version}, names
 * cut to 64 bytes. Capabilities are kept whole while small; otherwise only
 * those the server acts on (elicitation, roots, sampling) are kept. The id
 * is base64url (visible ASCII, safe in any header and in a proxy's hash
 * key) of at most HTTPD_TOKEN_MAX characters.
 */
#include "httpd_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "seal.h"
#include "text.h"

#define CAPS_WHOLE_MAX 192 /* bytes of compact JSON kept whole */
#define CAP_VALUE_MAX 48   /* a kept capability's own value, else {} */
#define NAME_CUT 64

static const char *const used_caps[] = {"elicitation", "roots", "sampling"};

/* Compact JSON length of v (0 on failure). */
static size_t dumped_len(const json_t *v)
{
	char *d = json_dumps(v, JSON_COMPACT);
	size_t n = d ? strlen(d) : 0;

	free(d);
	return n;
}

/* caps cut to level: 0 whole when small, 1 only the used ones (small
 * values kept), 2 only the used ones, each {}. A new reference. */
static json_t *caps_at(const json_t *caps, int level)
{
	json_t *out;

	if (level == 0 && dumped_len(caps) <= CAPS_WHOLE_MAX)
		return json_deep_copy(caps);
	out = json_object();
	for (size_t i = 0; out && i < sizeof(used_caps) / sizeof(used_caps[0]); i++) {
		json_t *v = json_object_get(caps, used_caps[i]);
		if (!json_is_object(v))
			continue;
		if (level <= 1 && dumped_len(v) <= CAP_VALUE_MAX)
			json_object_set_new(out, used_caps[i], json_deep_copy(v));
		else
			json_object_set_new(out, used_caps[i], json_object());
	}
	return out;
}

/* s cut to at most max bytes on a UTF-8 boundary, as a new JSON string. */
static json_t *cut_string(const char *s, size_t max)
{
	return json_stringn(s, text_utf8_prefix(s, max));
}

static void claims_of(struct seal_claims *c, const char *owner)
{
	c->subject = "session";
	c->principal = owner;
	c->args = NULL;
}

char *httpd_sid_seal(const char *id, const char *owner, struct server *srv, uint32_t lifetime_s,
		     uint64_t now_s, uint64_t *exp)
{
	char version[32], name[160], cversion[160];
	json_t *caps = NULL;
	struct seal_claims c;
	char *token = NULL;

	if (!server_client(srv, version, sizeof(version), &caps, name, sizeof(name), cversion,
			   sizeof(cversion)))
		return NULL;
	claims_of(&c, owner);
	/* Levels of cutting until the id fits: capabilities whole, then only
	 * the used ones, then those without values, then without clientInfo
	 * (which only the audit trail reads). */
	for (int level = 0; level < 4 && !token; level++) {
		struct moat_err err = {0};
		json_t *body = json_pack("{s:s, s:s, s:o, s:o, s:o}", "i", id, "v", version, "c",
					 caps_at(caps, level < 3 ? level : 2), "n",
					 cut_string(level < 3 ? name : "", NAME_CUT), "cv",
					 cut_string(level < 3 ? cversion : "", NAME_CUT));
		if (!body)
			break;
		token = seal_box_ttl(&c, body, now_s, lifetime_s, &err);
		json_decref(body);
		if (!token)
			break;
		if (strlen(token) > HTTPD_TOKEN_MAX) {
			free(token);
			token = NULL;
		}
	}
	json_decref(caps);
	if (token && exp)
		*exp = (now_s ? now_s : (uint64_t)time(NULL)) + lifetime_s;
	return token;
}

static bool is_sid(const char *s)
{
	if (!s || strlen(s) != HTTPD_SID_LEN)
		return false;
	for (size_t i = 0; i < HTTPD_SID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

bool httpd_sid_open(const char *token, const char *owner, uint64_t now_s,
		    struct httpd_sid_facts *f)
{
	struct seal_claims c;
	struct moat_err err = {0};
	json_t *body = NULL;
	const char *id, *v, *n, *cv;
	json_t *caps;
	uint64_t exp = 0;

	memset(f, 0, sizeof(*f));
	if (!token || !owner || strlen(token) > HTTPD_TOKEN_MAX)
		return false;
	claims_of(&c, owner);
	if (seal_open(token, &c, now_s, &body, &exp, &err) != MOAT_OK)
		return false;
	id = json_string_value(json_object_get(body, "i"));
	v = json_string_value(json_object_get(body, "v"));
	n = json_string_value(json_object_get(body, "n"));
	cv = json_string_value(json_object_get(body, "cv"));
	caps = json_object_get(body, "c");
	if (!is_sid(id) || !v || strlen(v) >= sizeof(f->version) || !n ||
	    strlen(n) >= sizeof(f->name) || (cv && strlen(cv) >= sizeof(f->cversion)) ||
	    !json_is_object(caps)) {
		json_decref(body);
		return false; /* authentic, yet not a session id of this version */
	}
	memcpy(f->id, id, HTTPD_SID_LEN + 1);
	snprintf(f->version, sizeof(f->version), "%s", v);
	snprintf(f->name, sizeof(f->name), "%s", n);
	snprintf(f->cversion, sizeof(f->cversion), "%s", cv ? cv : "");
	f->caps = json_incref(caps);
	f->exp = exp;
	json_decref(body);
	return true;
}

void httpd_sid_facts_clear(struct httpd_sid_facts *f)
{
	json_decref(f->caps);
	f->caps = NULL;
}
