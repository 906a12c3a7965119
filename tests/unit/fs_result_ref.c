/*
 * fs_result_ref.c - the tree builder that fs_result.c replaced (issue 17),
 * kept as it was but for its names: the text as one jansson string shared
 * by the content block and structuredContent {"content": text} (so the
 * core's wire_write escaped it once and copied it the second time), the
 * cut notes, for directory_tree, in a block of their own. This was the
 * end of fs_list.c's out_finish (listings, trees, searches) and, as
 * fsref_info, of get_file_info. Included by test_fs_result.c only, which
 * checks that the streamed answers make the very same bytes.
 */
#include <jansson.h>
#include <stdbool.h>
#include <string.h>

#include "callctx.h"
#include "result.h"

/* out_finish's tail: text[0..n) (valid UTF-8) in one block and in
 * {content}; notes (may be NULL) in a second block when notes_apart. */
static enum moat_rc fsref_finish(const char *text, size_t n, const char *notes,
				 bool notes_apart, struct tool_result *out, struct moat_err *err)
{
	json_t *str, *block;
	enum moat_rc rc;

	/* One string in both places: it is serialized once (wire.h). */
	str = json_stringn_nocheck(text, n);
	if (!str)
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	out->structured = json_pack("{s:O}", "content", str);
	/* 'o' takes our reference to str, even when json_pack fails. */
	block = json_pack("{s:s, s:o}", "type", "text", "text", str);
	if (!out->structured || !block || (!out->content && !(out->content = json_array()))) {
		json_decref(block);
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	}
	if (json_array_append_new(out->content, block) != 0) /* takes block */
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	if (notes && notes[0] && notes_apart && (rc = tool_result_text(out, notes)))
		return moat_err_set(err, rc, "out of memory");
	return MOAT_OK;
}

/* get_file_info's ending: {content: text} and a text block (a copy). */
static enum moat_rc fsref_info(const char *text, struct tool_result *out, struct moat_err *err)
{
	out->structured = json_pack("{s:s}", "content", text);
	if (!out->structured || tool_result_text(out, text))
		return moat_err_set(err, MOAT_ENOMEM, "out of memory");
	return MOAT_OK;
}
