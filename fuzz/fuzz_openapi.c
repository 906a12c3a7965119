/*
 * fuzz_openapi.c - libFuzzer target for the importer's document layer
 * (src/import/openapi_doc.c, openapi_swagger2.c, openapi_ref.c).
 *
 * The input is loaded with small caps (64 KiB, 20,000 nodes, 200 schema
 * nodes, depth 6) so the caps are reached; then every schema under
 * components.schemas and definitions, and every parameter, request body
 * and response schema of every operation, is inlined both ways with
 * oa_schema. Checks: a failed load leaves no root and says why; each
 * schema is either an error with a message or compiles in moat's
 * validator; memory is freed either way.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "import/openapi_doc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const struct oa_doc *d, const json_t *s)
{
	for (int dir = OA_REQUEST; dir <= OA_RESPONSE; dir++) {
		struct moat_err err = {0};
		json_t *notes = json_array();
		json_t *out = oa_schema(d, s, (enum oa_dir)dir, notes, &err);
		if (!out) {
			if (err.rc == MOAT_OK || err.msg[0] == '\0')
				abort(); /* a failure always says why */
		} else if (!oa_schema_compiles(out, NULL)) {
			abort(); /* oa_schema hands on only what moat compiles */
		}
		json_decref(out);
		json_decref(notes);
	}
}

/* The schemas of a content map: {"type": {"schema": ...}}. */
static void content(const struct oa_doc *d, const json_t *c)
{
	const char *k;
	json_t *mt;
	json_object_foreach((json_t *)c, k, mt)
	{
		if (json_object_get(mt, "schema"))
			one(d, json_object_get(mt, "schema"));
	}
}

static void operations(const struct oa_doc *d)
{
	const char *path, *method, *code;
	json_t *item, *op, *r;
	json_object_foreach(json_object_get(d->root, "paths"), path, item)
	{
		json_object_foreach(item, method, op)
		{
			size_t i;
			json_t *p;
			struct moat_err err = {0};
			const json_t *rb;
			if (!json_is_object(op))
				continue;
			json_array_foreach(json_object_get(op, "parameters"), i, p)
			{
				const json_t *rp = oa_deref(d, p, &err);
				if (rp)
					one(d, json_object_get(rp, "schema"));
			}
			if ((rb = oa_deref(d, json_object_get(op, "requestBody"), &err)))
				content(d, json_object_get(rb, "content"));
			json_object_foreach(json_object_get(op, "responses"), code, r)
			{
				const json_t *rr = oa_deref(d, r, &err);
				if (rr)
					content(d, json_object_get(rr, "content"));
			}
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct oa_limits lim = {.max_bytes = 1u << 16,
				      .max_nodes = 20000,
				      .max_ref_chain = 8,
				      .max_schema_depth = 6,
				      .max_schema_nodes = 200,
				      .max_text = 40};
	struct oa_doc d;
	struct moat_err err = {0};
	const char *k;
	json_t *s;

	if (oa_load((const char *)data, size, &lim, &d, &err) != MOAT_OK) {
		if (d.root || err.msg[0] == '\0' || (!err.rule && err.rc != MOAT_ENOMEM))
			abort(); /* a refusal names its rule */
		return 0;
	}
	json_object_foreach(json_object_get(json_object_get(d.root, "components"), "schemas"), k, s)
		one(&d, s);
	json_object_foreach(json_object_get(d.root, "definitions"), k, s)
		one(&d, s);
	operations(&d);
	oa_free(&d);
	return 0;
}
