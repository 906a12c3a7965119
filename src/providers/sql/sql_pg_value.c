/*
 * sql_pg_value.c - PostgreSQL values to JSON by type OID, and JSON params
 * to what libpq sends.
 *
 * Results come in text format. int2/int4/int8/oid become JSON integers;
 * float4/float8 JSON numbers (PostgreSQL prints them exactly enough to
 * round-trip; NaN and infinities stay text); numeric a JSON number when
 * it is an integer that fits 64 bits or has at most 15 significant digits
 * (a double holds those exactly as decimal text), else its text; bool a
 * JSON boolean; json/jsonb parsed JSON; bytea base64; anything else its
 * text (repaired to valid UTF-8).
 *
 * Params go as text with type 0 (the server infers each from its use),
 * except {"base64": ...}, sent as binary bytea. Pure and thread-safe.
 */
#include "sql_pg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sql_text.h"
#include "text.h"

/* Built-in type OIDs (pg_type.dat; stable across versions). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_OID 26
#define OID_JSON 114
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_NUMERIC 1700
#define OID_JSONB 3802

static const struct {
	Oid oid;
	const char *name;
} type_names[] = {
	{16, "boolean"},   {17, "bytea"},       {18, "char"},
	{19, "name"},      {20, "bigint"},      {21, "smallint"},
	{23, "integer"},   {25, "text"},        {26, "oid"},
	{114, "json"},     {142, "xml"},        {700, "real"},
	{701, "double precision"}, {790, "money"}, {869, "inet"},
	{650, "cidr"},     {829, "macaddr"},    {1042, "character"},
	{1043, "character varying"}, {1082, "date"}, {1083, "time"},
	{1114, "timestamp"}, {1184, "timestamptz"}, {1186, "interval"},
	{1266, "timetz"},  {1700, "numeric"},   {2950, "uuid"},
	{3802, "jsonb"},   {1000, "boolean[]"}, {1005, "smallint[]"},
	{1007, "integer[]"}, {1016, "bigint[]"}, {1009, "text[]"},
	{1015, "character varying[]"}, {1021, "real[]"}, {1022, "double precision[]"},
	{1231, "numeric[]"}, {705, "unknown"},
};

const char *sqlpg_type_name(Oid oid)
{
	for (size_t i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i].oid == oid)
			return type_names[i].name;
	return NULL;
}

static json_t *text_json(const char *s, size_t n)
{
	json_t *v = json_stringn(s, n);
	char *fixed;
	size_t m;

	if (v)
		return v;
	if (!(fixed = sql_utf8_repair(s, n, &m)))
		return NULL;
	v = json_stringn(fixed, m);
	free(fixed);
	return v;
}

/* A JSON integer when s is a whole decimal that fits int64. */
static json_t *int_json(const char *s)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return NULL;
	return json_integer((json_int_t)v);
}

/* numeric: exact as a JSON number? At most 15 significant digits, no
 * exponent, not NaN/Infinity. */
static bool numeric_exact(const char *s)
{
	int digits = 0;
	bool lead = true;

	for (const char *p = s; *p; p++) {
		if (*p == '-' || *p == '+' || *p == '.')
			continue;
		if (!isdigit((unsigned char)*p))
			return false;
		if (lead && *p == '0')
			continue;
		lead = false;
		digits++;
	}
	return digits <= 15;
}

static json_t *bytea_json(const char *s, size_t n)
{
	size_t len = 0;
	unsigned char *buf;
	char *b64;
	json_t *v;

	if (n < 2 || s[0] != '\\' || s[1] != 'x')
		return text_json(s, n); /* bytea_output = escape: keep the text */
	if (!(buf = malloc((n - 2) / 2 + 1)))
		return NULL;
	for (size_t i = 2; i + 1 < n; i += 2) {
		char h[3] = {s[i], s[i + 1], 0};
		buf[len++] = (unsigned char)strtoul(h, NULL, 16);
	}
	b64 = text_base64(buf, len);
	free(buf);
	v = b64 ? json_string(b64) : NULL;
	free(b64);
	return v;
}

json_t *sqlpg_value_json(Oid oid, const char *s, size_t n)
{
	json_t *v;

	switch (oid) {
	case OID_BOOL:
		return json_boolean(n > 0 && s[0] == 't');
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID:
		return (v = int_json(s)) ? v : text_json(s, n);
	case OID_FLOAT4:
	case OID_FLOAT8: {
		char *end;
		double d = strtod(s, &end);
		if (*end || !isfinite(d))
			return text_json(s, n);
		return json_real(d);
	}
	case OID_NUMERIC:
		if ((v = int_json(s)))
			return v;
		if (numeric_exact(s)) {
			char *end;
			double d = strtod(s, &end);
			if (!*end && isfinite(d))
				return json_real(d);
		}
		return text_json(s, n);
	case OID_JSON:
	case OID_JSONB:
		if ((v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL)))
			return v;
		return text_json(s, n);
	case OID_BYTEA:
		return bytea_json(s, n);
	default:
		return text_json(s, n);
	}
}

/* ---- values as cells of a result ------------------------------------------- */

/* s as an int64 when it is a whole decimal that fits (int_json's rule). */
static bool int_of(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return false;
	*out = (int64_t)v;
	return true;
}

/* bytea_json's rule, as a cell. */
static bool bytea_cell(struct sql_result *res, const char *s, size_t n)
{
	size_t len = 0;
	unsigned char *buf;
	char *b64;
	bool ok;

	if (n < 2 || s[0] != '\\' || s[1] != 'x')
		return sql_result_cell_text(res, s, n); /* bytea_output = escape: keep the text */
	if (!(buf = malloc((n - 2) / 2 + 1)))
		return false;
	for (size_t i = 2; i + 1 < n; i += 2) {
		char h[3] = {s[i], s[i + 1], 0};
		buf[len++] = (unsigned char)strtoul(h, NULL, 16);
	}
	b64 = text_base64(buf, len);
	free(buf);
	ok = b64 && sql_result_cell_text(res, b64, strlen(b64));
	free(b64);
	return ok;
}

bool sqlpg_value_cell(struct sql_result *res, Oid oid, const char *s, size_t n)
{
	int64_t i;

	switch (oid) {
	case OID_BOOL:
		return sql_result_cell_bool(res, n > 0 && s[0] == 't');
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID:
		return int_of(s, &i) ? sql_result_cell_i64(res, i) : sql_result_cell_text(res, s, n);
	case OID_FLOAT4:
	case OID_FLOAT8: {
		char *end;
		double d = strtod(s, &end);
		if (*end || !isfinite(d))
			return sql_result_cell_text(res, s, n);
		return sql_result_cell_double(res, d);
	}
	case OID_NUMERIC:
		if (int_of(s, &i))
			return sql_result_cell_i64(res, i);
		if (numeric_exact(s)) {
			char *end;
			double d = strtod(s, &end);
			if (!*end && isfinite(d))
				return sql_result_cell_double(res, d);
		}
		return sql_result_cell_text(res, s, n);
	case OID_JSON:
	case OID_JSONB: {
		json_t *v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
		bool ok;
		if (!v)
			return sql_result_cell_text(res, s, n);
		ok = sql_result_cell_json(res, v);
		json_decref(v);
		return ok;
	}
	case OID_BYTEA:
		return bytea_cell(res, s, n);
	default:
		return sql_result_cell_text(res, s, n);
	}
}

/* ---- params ------------------------------------------------------------------ */

void sqlpg_params_free(struct sqlpg_params *p)
{
	for (int i = 0; p->values && i < p->n; i++)
		free(p->values[i]);
	free(p->values);
	free(p->lengths);
	free(p->formats);
	free(p->types);
	memset(p, 0, sizeof(*p));
}

enum moat_rc sqlpg_params_make(const json_t *params, struct sqlpg_params *out, struct moat_err *err)
{
	size_t n = params ? json_array_size(params) : 0, i;
	json_t *v;

	memset(out, 0, sizeof(*out));
	if (n == 0)
		return MOAT_OK;
	out->n = (int)n;
	out->values = calloc(n, sizeof(*out->values));
	out->lengths = calloc(n, sizeof(*out->lengths));
	out->formats = calloc(n, sizeof(*out->formats));
	out->types = calloc(n, sizeof(*out->types));
	if (!out->values || !out->lengths || !out->formats || !out->types)
		goto nomem;
	json_array_foreach(params, i, v) {
		char num[64];
		const char *s = NULL;
		switch (json_typeof(v)) {
		case JSON_NULL:
			continue; /* values[i] NULL: SQL NULL */
		case JSON_TRUE:
			s = "true";
			break;
		case JSON_FALSE:
			s = "false";
			break;
		case JSON_INTEGER:
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
			s = num;
			break;
		case JSON_REAL:
			snprintf(num, sizeof(num), "%.17g", json_real_value(v));
			s = num;
			break;
		case JSON_STRING:
			if (memchr(json_string_value(v), 0, json_string_length(v)))
				return sqlpg_params_free(out),
				       moat_err_rule(err, MOAT_EINVAL, "sql.nul",
						     "params/%zu: PostgreSQL text cannot hold a NUL "
						     "byte", i);
			s = json_string_value(v);
			break;
		case JSON_OBJECT: {
			const json_t *b64 = json_object_get(v, "base64");
			if (json_object_size(v) == 1 && json_is_string(b64)) {
				size_t len;
				unsigned char *blob = sql_base64_decode(json_string_value(b64),
									json_string_length(b64), &len);
				if (!blob) {
					sqlpg_params_free(out);
					if (len != 0)
						return moat_err_set(err, MOAT_ENOMEM, "out of memory");
					return moat_err_rule(err, MOAT_EINVAL, "sql.params_invalid",
							     "params/%zu: base64 is not valid base64", i);
				}
				out->values[i] = (char *)blob;
				out->lengths[i] = (int)len;
				out->formats[i] = 1;
				out->types[i] = OID_BYTEA;
				continue;
			}
		}
			__attribute__((fallthrough)); /* any other object: its JSON text */
		case JSON_ARRAY:
			if (!(out->values[i] = json_dumps(v, JSON_COMPACT)))
				goto nomem;
			continue;
		}
		if (!(out->values[i] = strdup(s)))
			goto nomem;
	}
	return MOAT_OK;
nomem:
	sqlpg_params_free(out);
	return moat_err_set(err, MOAT_ENOMEM, "out of memory");
}
