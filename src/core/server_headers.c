/*
 * server_headers.c - the Mcp-Param-* headers of a 2026-07-28 tools/call
 * over HTTP: a tool's input schema may mark a top-level property with
 * "x-mcp-header": "<Name>", and a client must then mirror that argument's
 * value in an `Mcp-Param-<Name>` header, so that a proxy can route on the
 * header without reading the body. A server that acts on the body must
 * check that the two agree: otherwise what the proxy decided on (a region,
 * a tenant) is not what the tool does.
 *
 * The rules (SEP-2243, "custom headers from tool parameters"): header
 * names compare case-insensitively and values are compared trimmed of
 * OWS (the transport trims); a value may be sent as `=?base64?<b64>?=`
 * (standard alphabet, padded: anything else wearing the markers is
 * refused), a value without the exact markers is literal; a literal
 * value holds printable ASCII only; an argument that is absent or null
 * has no header, and a header for it is refused as much as a missing
 * header for a present one; integers, numbers and booleans are compared
 * as their JSON text (an integer also numerically, so 42 and 42.0
 * agree). Only properties directly under inputSchema.properties count,
 * and only when their type is string, integer, number or boolean; an
 * annotation elsewhere is not enforced. Headers naming no annotated
 * property are left alone.
 *
 * The Base64 alphabet is checked here and decoded by nettle.
 */
#include "server_int.h"

#include <errno.h>
#include <math.h>
#include <nettle/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define B64_OPEN "=?base64?"
#define B64_CLOSE "?="
#define PARAM_VALUE_MAX 8192 /* a decoded value we compare, bytes */
/* RFC 9110 tchar: what a header name is made of. */
#define TOKEN_CHARS                                                                                \
	"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

/* The header of hdr named name (case-insensitive), or NULL. */
static const char *param_header(const struct req_headers *hdr, const char *name)
{
	for (size_t i = 0; hdr && i < hdr->n_params; i++) {
		if (hdr->params[i].name && strcasecmp(hdr->params[i].name, name) == 0)
			return hdr->params[i].value;
	}
	return NULL;
}

/* Strict standard Base64: length a multiple of 4, the alphabet, at most
 * two '=' and only at the end. */
static bool b64_strict(const char *p, size_t n)
{
	size_t pad = 0;

	if (n == 0 || n % 4 != 0)
		return false;
	if (p[n - 1] == '=')
		pad++;
	if (n >= 2 && p[n - 2] == '=')
		pad++;
	for (size_t i = 0; i < n - pad; i++) {
		char c = p[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/'))
			return false;
	}
	return true;
}

/*
 * What header value v stands for, into out (at most cap bytes, *len set):
 * decoded when it wears the Base64 markers, else v itself. false with
 * why when the markers hold no valid Base64 or a literal holds a byte
 * outside printable ASCII.
 */
static bool header_value(const char *hname, const char *v, char *out, size_t cap, size_t *len,
			 char *why, size_t n)
{
	size_t vl = strlen(v), ol = strlen(B64_OPEN), cl = strlen(B64_CLOSE);

	for (size_t i = 0; i < vl; i++) {
		unsigned char c = (unsigned char)v[i];
		if (c < 0x20 || c > 0x7e) {
			snprintf(why, n,
				 "the Mcp-Param-%.64s header holds a character that is not printable "
				 "ASCII (send such values as =?base64?...?=)",
				 hname);
			return false;
		}
	}
	if (vl >= ol + cl && strncmp(v, B64_OPEN, ol) == 0 && strcmp(v + vl - cl, B64_CLOSE) == 0) {
		const char *b = v + ol;
		size_t bl = vl - ol - cl, dl = cap;
		struct base64_decode_ctx ctx;
		if (!b64_strict(b, bl) || BASE64_DECODE_LENGTH(bl) > cap) {
			snprintf(why, n, "the Mcp-Param-%.64s header's =?base64?...?= value is not "
					 "valid padded Base64",
				 hname);
			return false;
		}
		base64_decode_init(&ctx);
		if (!base64_decode_update(&ctx, &dl, (uint8_t *)out, bl, b) ||
		    !base64_decode_final(&ctx)) {
			snprintf(why, n, "the Mcp-Param-%.64s header's =?base64?...?= value is not "
					 "valid padded Base64",
				 hname);
			return false;
		}
		*len = dl;
		return true;
	}
	if (vl > cap) {
		snprintf(why, n, "the Mcp-Param-%.64s header is too long", hname);
		return false;
	}
	memcpy(out, v, vl);
	*len = vl;
	return true;
}

/* Whether the decoded header value val[0..len) equals argument arg. */
static bool value_matches(const json_t *arg, const char *val, size_t len)
{
	char text[64], *end;

	if (json_is_string(arg))
		return json_string_length(arg) == len && memcmp(json_string_value(arg), val, len) == 0;
	if (len == 0 || len >= sizeof(text))
		return false;
	memcpy(text, val, len);
	text[len] = '\0';
	if (json_is_true(arg))
		return strcmp(text, "true") == 0;
	if (json_is_false(arg))
		return strcmp(text, "false") == 0;
	if (json_is_number(arg)) {
		errno = 0;
		double d = strtod(text, &end);
		if (errno || *end || !isfinite(d) || strspn(text, "-0123456789.eE+") != len)
			return false;
		return d == json_number_value(arg);
	}
	return false;
}

/* A valid annotation: a header name (an RFC 9110 token) on a primitive. */
static const char *annotation(const json_t *prop)
{
	const json_t *h = json_object_get(prop, "x-mcp-header");
	const char *type = json_string_value(json_object_get(prop, "type"));
	const char *name = json_string_value(h);

	if (!name || !*name || strlen(name) > 64 || strspn(name, TOKEN_CHARS) != strlen(name))
		return NULL;
	if (!type || (strcmp(type, "string") && strcmp(type, "integer") && strcmp(type, "number") &&
		      strcmp(type, "boolean")))
		return NULL;
	return name;
}

bool srv_param_headers_ok(struct server *s, const struct principal *who, const struct rpc_msg *m,
			  const struct req_headers *hdr, char *why, size_t n)
{
	const char *tname = m->params ? json_string_value(json_object_get(m->params, "name")) : NULL;
	const json_t *args = m->params ? json_object_get(m->params, "arguments") : NULL;
	const struct tool *t = tname ? registry_find(s->reg, tname) : NULL;
	const json_t *props, *prop;
	const char *pname;
	char *val;
	bool ok = true;

	/* A tool that does not exist for this caller is answered as unknown
	 * later; its annotations are nobody's business here. */
	if (!t || atomic_load(&t->hidden) || !principal_allows(who, t->name))
		return true;
	props = json_object_get(t->input_schema, "properties");
	if (!json_is_object(props))
		return true;
	val = malloc(PARAM_VALUE_MAX);
	if (!val) {
		snprintf(why, n, "out of memory");
		return false;
	}
	json_object_foreach((json_t *)props, pname, prop) {
		const char *hname = annotation(prop);
		const json_t *arg = json_is_object(args) ? json_object_get(args, pname) : NULL;
		const char *hv;
		size_t len = 0;
		if (!hname)
			continue;
		hv = param_header(hdr, hname);
		if (!arg || json_is_null(arg)) {
			if (hv) {
				snprintf(why, n,
					 "the Mcp-Param-%.64s header was sent but the call carries no "
					 "argument '%.64s'",
					 hname, pname);
				ok = false;
				break;
			}
			continue;
		}
		if (!hv) {
			snprintf(why, n,
				 "the Mcp-Param-%.64s header must be sent and equal argument '%.64s'",
				 hname, pname);
			ok = false;
			break;
		}
		if (!header_value(hname, hv, val, PARAM_VALUE_MAX, &len, why, n)) {
			ok = false;
			break;
		}
		if (!value_matches(arg, val, len)) {
			snprintf(why, n, "the Mcp-Param-%.64s header differs from argument '%.64s'",
				 hname, pname);
			ok = false;
			break;
		}
	}
	free(val);
	return ok;
}
