/*
 * fs_result.h - how the fs family's text tools answer: one text block, and
 * structuredContent {"content": the same text} written straight as JSON
 * text with the streaming writer (jsonw.h, tool_spec.output_streamed)
 * rather than built as a jansson tree for the core to walk (issue 17).
 * The listings, trees and searches make their text in a bounded buffer
 * (fs_out, fs_listing.h) that applies every cap; this is the last step.
 * Thread-safe: works on the caller's result only.
 */
#ifndef MOAT_PROVIDERS_FS_FS_RESULT_H
#define MOAT_PROVIDERS_FS_FS_RESULT_H

#include <stddef.h>

#include "callctx.h"
#include "result.h"

/*
 * fs_text_result - append to out a {"type":"text"} block holding
 * text[0..n) (valid UTF-8, checked by the caller: it is not checked
 * again) and set out's structuredContent to {"content": that text} as
 * JSON text (out->structured_json, owned by out). The tool must be
 * registered with FS_TEXT_OUTPUT_SCHEMA and output_streamed. MOAT_ENOMEM
 * with err set when memory runs out (out may then hold the text block).
 */
enum moat_rc fs_text_result(struct tool_result *out, const char *text, size_t n,
			    struct moat_err *err);

#endif
