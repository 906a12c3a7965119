/*
 * fs_result.c - the fs text tools' answer: the text block, and
 * structuredContent written with jsonw. See fs_result.h.
 *
 * Output schema: correct by construction. Every document this file writes
 * is {"content": <string>}: one object, one key fixed in the code, its
 * value a JSON string made by jsonw_str from text the caller has already
 * checked to be valid UTF-8. That is exactly FS_TEXT_OUTPUT_SCHEMA
 * ({"type":"object","properties":{"content":{"type":"string"}},
 * "required":["content"]}); no input can change the shape, only the
 * string's bytes, which the schema does not constrain. So the product
 * build trusts it (output_streamed), and a test build (-Dtest_provider)
 * parses and validates every such answer against the schema anyway
 * (server_call.c), so the e2e suites check the claim on every call.
 *
 * Bytes: jsonw writes what wire_write makes of the tree the fs family
 * built before ({"content": text} with the text as a jansson string), so
 * the message on the wire is unchanged; tests/unit/test_fs_result.c
 * compares both on random texts and on real listings, trees and searches
 * (the old builder is kept in tests/unit/fs_result_ref.c).
 *
 * Cost: the caps were all applied while the text was made, so nothing
 * here can cut. The text is escaped here once; the core escapes the
 * content block's copy again (before, the second appearance of the same
 * jansson string was a copy of the first: wire.h's memo). The buffer is
 * sized up front so a large tree is not copied while it grows.
 */
#include "fs_result.h"

#include <jansson.h>
#include <stdlib.h>

#include "jsonw.h"
#include "wire.h"

enum moat_rc fs_text_result(struct tool_result *out, const char *text, size_t n,
			    struct moat_err *err)
{
	struct wire_buf b;
	struct jsonw w;
	size_t cap = n + n / 8 + 64, len = 0;
	json_t *str, *block;
	char *doc;

	/* The text block, as before: the caller checked the UTF-8. */
	str = json_stringn_nocheck(text ? text : "", n);
	block = str ? json_pack("{s:s, s:o}", "type", "text", "text", str) : NULL;
	if (!block || (!out->content && !(out->content = json_array()))) {
		json_decref(block);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	if (json_array_append_new(out->content, block) != 0) /* takes block */
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");

	/* {"content":"..."}: room for the text and a few escapes at once. */
	wire_buf_init(&b, NULL, 0);
	b.heap = b.data = malloc(cap);
	if (b.heap)
		b.cap = cap;
	jsonw_init(&w, &b, 0);
	jsonw_obj_begin(&w);
	jsonw_key(&w, "content", 7);
	jsonw_str(&w, text ? text : "", n);
	jsonw_obj_end(&w);
	if (!jsonw_done(&w)) {
		wire_buf_release(&b);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	doc = wire_buf_take(&b, &len);
	if (!doc)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	free(out->structured_json);
	out->structured_json = doc;
	out->structured_len = len;
	return MOAT_OK;
}
