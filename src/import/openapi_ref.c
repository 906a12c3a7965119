/*
 * openapi_ref.c - reading through an OpenAPI document's $refs: JSON
 * pointers ("#/components/schemas/a~1b", percent-decoded), and oa_deref,
 * which follows a chain of refs in a loop under max_ref_chain and names
 * a loop, an external ref (never fetched) or a ref to nothing. Also
 * oa_schema_compiles, moat's validator as a check. See openapi_doc.h;
 * oa_schema is openapi_schema.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openapi_int.h"
#include "schema.h"

#define OA_CHAIN_SEEN 64 /* refs of one chain checked for a loop */

static int hexval(char c)
{
	return c >= '0' && c <= '9'	? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* The ref printable in a message: control bytes replaced, cut. */
static void ref_shown(const char *ref, char *out, size_t n)
{
	size_t j = 0;
	for (; *ref && j + 1 < n && j < 120; ref++)
		out[j++] = ((unsigned char)*ref < 0x20 || *ref == 0x7F) ? '?' : *ref;
	out[j] = '\0';
}

/* The value "#/a/b~1c" names in root, or NULL with err. */
static const json_t *pointer(const json_t *root, const char *ref, struct moat_err *err)
{
	char shown[128], *buf = NULL, *tok;
	const json_t *v = root;
	size_t n = strlen(ref), j = 0;

	ref_shown(ref, shown, sizeof(shown));
	if (ref[0] != '#') {
		moat_err_rule(err, MOAT_EINVAL, "import.external_ref",
			      "the $ref '%s' points outside the document; moat never fetches: "
			      "bundle the description into one file first (for example "
			      "`redocly bundle`)",
			      shown);
		return NULL;
	}
	if (!(buf = malloc(n + 1))) {
		moat_err_set(err, MOAT_ENOMEM, "out of memory");
		return NULL;
	}
	for (size_t i = 1; i < n; i++) { /* percent-decoding of the fragment */
		if (ref[i] == '%') {
			int hi = i + 2 < n ? hexval(ref[i + 1]) : -1;
			int lo = hi >= 0 ? hexval(ref[i + 2]) : -1;
			if (lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			buf[j++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			buf[j++] = ref[i];
		}
	}
	buf[j] = '\0';
	if (buf[0] != '\0' && buf[0] != '/')
		goto bad; /* "#name": an anchor, not a pointer */
	for (tok = buf[0] ? buf + 1 : NULL; tok && v;) {
		char *end = strchr(tok, '/'), *w = tok;
		if (end)
			*end = '\0';
		for (char *r = tok; *r; r++) { /* ~1 is '/', ~0 is '~' */
			if (*r == '~') {
				if (r[1] != '0' && r[1] != '1')
					goto bad;
				*w++ = r[1] == '1' ? '/' : '~';
				r++;
			} else {
				*w++ = *r;
			}
		}
		*w = '\0';
		if (json_is_object(v)) {
			v = json_object_get(v, tok);
		} else if (json_is_array(v)) {
			char *e;
			unsigned long long ix = strtoull(tok, &e, 10);
			bool ok = tok[0] >= '0' && tok[0] <= '9' && !*e && (tok[0] != '0' || !tok[1]);
			v = ok && ix < json_array_size(v) ? json_array_get(v, (size_t)ix) : NULL;
		} else {
			v = NULL;
		}
		tok = end ? end + 1 : NULL;
	}
	free(buf);
	if (!v)
		moat_err_rule(err, MOAT_EINVAL, "import.bad_ref",
			      "the $ref '%s' names nothing in the document", shown);
	return v;
bad:
	free(buf);
	moat_err_rule(err, MOAT_EINVAL, "import.bad_ref",
		      "the $ref '%s' is not a JSON pointer into the document (\"#/components/...\")",
		      shown);
	return NULL;
}

const json_t *oa_deref_last(const struct oa_doc *d, const json_t *v, const char **last,
			    struct moat_err *err)
{
	const json_t *seen[OA_CHAIN_SEEN];
	size_t hops = 0;
	const json_t *ref;

	moat_err_clear(err);
	while (v && json_is_object(v) && (ref = json_object_get(v, "$ref"))) {
		char shown[128];
		if (!json_is_string(ref)) {
			moat_err_rule(err, MOAT_EINVAL, "import.bad_ref", "a $ref that is not a string");
			return NULL;
		}
		ref_shown(json_string_value(ref), shown, sizeof(shown));
		if (hops >= d->lim.max_ref_chain) {
			moat_err_rule(err, MOAT_ELIMIT, "import.ref_chain",
				      "more than %zu $ref hops in a row (at '%s'): shorten the chain",
				      d->lim.max_ref_chain, shown);
			return NULL;
		}
		for (size_t i = 0; i < hops && i < OA_CHAIN_SEEN; i++) {
			if (seen[i] == v) {
				moat_err_rule(err, MOAT_EINVAL, "import.ref_chain",
					      "the $ref '%s' leads back to itself: a loop of refs "
					      "naming no schema",
					      shown);
				return NULL;
			}
		}
		if (hops < OA_CHAIN_SEEN)
			seen[hops] = v;
		hops++;
		if (last)
			*last = json_string_value(ref);
		v = pointer(d->root, json_string_value(ref), err);
	}
	return v;
}

const json_t *oa_deref(const struct oa_doc *d, const json_t *v, struct moat_err *err)
{
	return oa_deref_last(d, v, NULL, err);
}

bool oa_schema_compiles(const json_t *schema, struct moat_err *err)
{
	struct schema *s = schema_compile(schema, err);
	schema_free(s);
	return s != NULL;
}

