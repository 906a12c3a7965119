/*
 * openapi_doc.c - loading an OpenAPI document for import: size and node
 * caps, JSON (jansson, strict: duplicate keys refused) or YAML (core's
 * yaml_json with aliases expanded under the node budget), the version
 * checked, and a Swagger 2.0 document handed to openapi_swagger2.c to be
 * put in the OpenAPI 3 shape. See openapi_doc.h for the contract.
 *
 * The JSON path counts a document's values with a cheap lexical pass
 * before jansson builds anything, so a 64 MiB "[1,1,1,...]" is refused
 * at the node cap instead of costing gigabytes of tree.
 */
#include "openapi_doc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openapi_int.h"
#include "yaml_json.h"

#define OA_DEF_MAX_BYTES (64u << 20)
#define OA_DEF_MAX_NODES 4000000u
#define OA_DEF_MAX_REF_CHAIN 32u
#define OA_DEF_MAX_SCHEMA_DEPTH 12u
#define OA_DEF_MAX_SCHEMA_NODES 5000u
#define OA_DEF_MAX_TEXT 300u
#define OA_YAML_MAX_DEPTH 128u

#define SUPPORTED "moat imports OpenAPI 3.0.x and 3.1.x, and Swagger 2.0"

static size_t or_default(size_t v, size_t def)
{
	return v ? v : def;
}

/* An upper bound on the values and keys of a JSON text: one per '[', '{',
 * ',' and ':' outside strings, plus one. Stops counting past max. */
static size_t json_nodes_bound(const char *p, size_t n, size_t max)
{
	size_t count = 1;
	bool in_str = false;

	for (size_t i = 0; i < n && count <= max; i++) {
		char c = p[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
		} else if (c == '"') {
			in_str = true;
		} else if (c == '[' || c == '{' || c == ',' || c == ':') {
			count++;
		}
	}
	return count;
}

/* x as an integer when it is a real holding one in int64's range (what
 * jansson read as a real only because of JSON_DECODE_INT_AS_REAL). */
static bool integral(const json_t *x)
{
	double d = json_is_real(x) ? json_real_value(x) : 0.5;
	return d > -9e18 && d < 9e18 && d == (double)(json_int_t)d;
}

/* Reals that hold an integer made integers again, after a parse that read
 * every number as a real. Recursion is bounded by jansson's nesting limit. */
static int ints_back(json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;
	int rc = 0;

	json_object_foreach(v, k, x)
	{
		rc = integral(x) ? json_object_set_new(v, k, json_integer((json_int_t)json_real_value(x)))
				 : ints_back(x);
		if (rc)
			return rc;
	}
	json_array_foreach(v, i, x)
	{
		rc = integral(x) ? json_array_set_new(v, i, json_integer((json_int_t)json_real_value(x)))
				 : ints_back(x);
		if (rc)
			return rc;
	}
	return 0;
}

static enum moat_rc parse_json(const char *buf, size_t len, const struct oa_limits *lim,
			       json_t **out, struct moat_err *err)
{
	json_error_t jerr;

	if (json_nodes_bound(buf, len, lim->max_nodes) > lim->max_nodes)
		return moat_err_rule(err, MOAT_ELIMIT, "import.too_large",
				     "the document holds more than %zu values; split it or import "
				     "a smaller description",
				     lim->max_nodes);
	*out = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	/* An integer past int64 (real specs say "maximum":
	 * 9223372036854776000): read every number as a real, as YAML does
	 * for such an integer, and make the others integers again. */
	if (!*out && strstr(jerr.text, "too big")) {
		*out = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
		if (*out && ints_back(*out) != 0) {
			json_decref(*out);
			*out = NULL;
			return moat_err_set(err, MOAT_ENOMEM, "out of memory");
		}
	}
	if (!*out)
		return moat_err_rule(err, MOAT_EINVAL, "import.parse",
				     "not valid JSON: line %d, column %d: %.200s", jerr.line,
				     jerr.column, jerr.text);
	return MOAT_OK;
}

static enum moat_rc parse_yaml(const char *buf, size_t len, const struct oa_limits *lim,
			       json_t **out, struct moat_err *err)
{
	const struct yaml_json_limits ylim = {.max_bytes = lim->max_bytes,
					      .max_depth = OA_YAML_MAX_DEPTH,
					      .max_nodes = lim->max_nodes,
					      .expand_aliases = true};
	char msg[YAML_JSON_ERR_MAX];
	json_t *docs = yaml_to_json(buf, len, &ylim, msg);

	if (!docs) {
		if (strstr(msg, "aliases expand") || strstr(msg, "the alias *"))
			return moat_err_rule(err, MOAT_ELIMIT, "import.yaml_aliases",
					     "YAML aliases expand past the budget: %s", msg);
		if (strstr(msg, "more than") || strstr(msg, "larger than") ||
		    strstr(msg, "nested deeper"))
			return moat_err_rule(err, MOAT_ELIMIT, "import.too_large", "YAML: %s", msg);
		return moat_err_rule(err, MOAT_EINVAL, "import.parse", "not valid YAML: %s", msg);
	}
	if (json_array_size(docs) != 1) {
		size_t n = json_array_size(docs);
		json_decref(docs);
		return moat_err_rule(err, MOAT_EINVAL, "import.parse",
				     "the YAML stream holds %zu documents; an OpenAPI description "
				     "is exactly one",
				     n);
	}
	*out = json_incref(json_array_get(docs, 0));
	json_decref(docs);
	return MOAT_OK;
}

/* A version value fit to print: printable ASCII, cut to 32 bytes. */
static void printable(const char *s, char *out, size_t n)
{
	size_t j = 0;
	for (; *s && j + 1 < n && j < 32; s++)
		out[j++] = (*s >= 0x20 && *s < 0x7F) ? *s : '?';
	out[j] = '\0';
}

/* "3.0.3" -> 3, 0 (a patch and a "-rc1" suffix allowed). */
static bool parse_version(const char *s, int *major, int *minor)
{
	char *end;
	long a, b;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	a = strtol(s, &end, 10);
	if (errno || *end != '.' || end[1] < '0' || end[1] > '9' || a > 99)
		return false;
	b = strtol(end + 1, &end, 10);
	if (errno || b > 99)
		return false;
	if (*end == '.') {
		if (end[1] < '0' || end[1] > '9')
			return false;
		(void)strtol(end + 1, &end, 10);
		if (errno)
			return false;
	}
	if (*end && *end != '-')
		return false;
	*major = (int)a;
	*minor = (int)b;
	return true;
}

/* The "openapi" or "swagger" member as text ("3.0" from YAML's 3.0). */
static bool version_text(const json_t *v, char *out, size_t n)
{
	int w;
	if (json_is_string(v))
		w = snprintf(out, n, "%s", json_string_value(v));
	else if (json_is_real(v))
		w = snprintf(out, n, "%.1f", json_real_value(v));
	else if (json_is_integer(v))
		w = snprintf(out, n, "%lld", (long long)json_integer_value(v));
	else
		return false;
	return w >= 0;
}

static enum moat_rc check_version(struct oa_doc *d, struct moat_err *err)
{
	const json_t *oa = json_object_get(d->root, "openapi");
	const json_t *sw = json_object_get(d->root, "swagger");
	char text[128], shown[40];
	int major = 0, minor = 0;

	if (!json_is_object(d->root))
		return moat_err_rule(err, MOAT_EINVAL, "import.not_openapi",
				     "the document's top level is not a mapping: not an OpenAPI "
				     "description (%s)",
				     SUPPORTED);
	if (!oa && !sw)
		return moat_err_rule(err, MOAT_EINVAL, "import.not_openapi",
				     "no \"openapi\" or \"swagger\" field at the top: not an OpenAPI "
				     "description (%s)",
				     SUPPORTED);
	if (!version_text(oa ? oa : sw, text, sizeof(text)))
		return moat_err_rule(err, MOAT_EINVAL, "import.version",
				     "the \"%s\" field is not a version string (%s)",
				     oa ? "openapi" : "swagger", SUPPORTED);
	printable(text, shown, sizeof(shown));
	if (!parse_version(text, &major, &minor) || strlen(text) >= sizeof(d->version) ||
	    (oa && !(major == 3 && (minor == 0 || minor == 1))) ||
	    (!oa && !(major == 2 && minor == 0)))
		return moat_err_rule(err, MOAT_EINVAL, "import.version",
				     "%s %s is not supported: %s", oa ? "OpenAPI" : "Swagger", shown,
				     SUPPORTED);
	memcpy(d->version, text, strlen(text) + 1); /* fits: checked above */
	d->major = major;
	d->minor = minor;
	return MOAT_OK;
}

enum moat_rc oa_load(const char *buf, size_t len, const struct oa_limits *lim, struct oa_doc *d,
		     struct moat_err *err)
{
	enum moat_rc rc;
	size_t i = 0;
	const json_t *paths;

	memset(d, 0, sizeof(*d));
	moat_err_clear(err);
	d->lim.max_bytes = or_default(lim ? lim->max_bytes : 0, OA_DEF_MAX_BYTES);
	d->lim.max_nodes = or_default(lim ? lim->max_nodes : 0, OA_DEF_MAX_NODES);
	d->lim.max_ref_chain = or_default(lim ? lim->max_ref_chain : 0, OA_DEF_MAX_REF_CHAIN);
	d->lim.max_schema_depth =
		or_default(lim ? lim->max_schema_depth : 0, OA_DEF_MAX_SCHEMA_DEPTH);
	d->lim.max_schema_nodes =
		or_default(lim ? lim->max_schema_nodes : 0, OA_DEF_MAX_SCHEMA_NODES);
	d->lim.max_text = or_default(lim ? lim->max_text : 0, OA_DEF_MAX_TEXT);
	if (!buf && len)
		return moat_err_set(err, MOAT_EINVAL, "no document");
	if (len > d->lim.max_bytes) {
		rc = moat_err_rule(err, MOAT_ELIMIT, "import.too_large",
				   "the document is %zu bytes, more than the %zu allowed", len,
				   d->lim.max_bytes);
		goto out;
	}
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3))
		i = 3; /* a UTF-8 byte order mark */
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
		i++;
	if (i == len) {
		rc = moat_err_rule(err, MOAT_EINVAL, "import.parse", "the document is empty");
		goto out;
	}
	rc = buf[i] == '{' ? parse_json(buf + i, len - i, &d->lim, &d->root, err)
			   : parse_yaml(buf, len, &d->lim, &d->root, err);
	if (rc != MOAT_OK)
		goto out;
	if ((rc = check_version(d, err)) != MOAT_OK)
		goto out;
	paths = json_object_get(d->root, "paths");
	if (paths && !json_is_object(paths)) {
		rc = moat_err_rule(err, MOAT_EINVAL, "import.not_openapi",
				   "\"paths\" is not a mapping of path templates to path items");
		goto out;
	}
	if (d->major == 2)
		rc = oa_swagger2(d, err);
out:
	if (rc != MOAT_OK) {
		json_decref(d->root);
		memset(d, 0, sizeof(*d));
	}
	return rc;
}

void oa_free(struct oa_doc *d)
{
	if (!d)
		return;
	json_decref(d->root);
	memset(d, 0, sizeof(*d));
}
