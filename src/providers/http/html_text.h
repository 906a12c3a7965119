/*
 * html_text.h - HTML turned into readable text for the fetch tool, with
 * libxml2's HTML parser (HTML_PARSE_RECOVER | NONET | NOERROR | NOWARNING;
 * no network, no external entities).
 *
 * The output is Markdown-like plain text: headings as "# " .. "###### ",
 * paragraphs and block elements separated by blank lines, list items as
 * "- " (ordered lists "1. "), links as "[text](href)" with href resolved
 * against the page's URL when relative, <br> as a line break, <pre> kept
 * as it is, table cells separated by " | " and rows by lines, images as
 * their alt text; <script>, <style>, <noscript>, <template>, <head>,
 * <svg>, <iframe> and comments dropped; runs of white space collapsed;
 * entities decoded. The result is valid UTF-8 (invalid input bytes become
 * U+FFFD) and at most max_bytes long (cut at a character boundary).
 *
 * Thread-safe (libxml2 is initialised once by the provider before any
 * thread starts: xmlInitParser()).
 */
#ifndef MOAT_PROVIDERS_HTTP_HTML_TEXT_H
#define MOAT_PROVIDERS_HTTP_HTML_TEXT_H

#include <stddef.h>

#include "result.h"

struct call_ctx;

/*
 * htext_convert - html[0..len) (any encoding libxml2 detects; UTF-8 when
 * unsure) to text, at most max_bytes. base_url (may be NULL) resolves
 * relative links. ctx (may be NULL) is the call: its deadline and
 * cancellation are checked while the tree is walked (MOAT_ETIMEOUT /
 * MOAT_ECANCELLED then). Elements nested deeper than 512 are left out
 * (libxml2 itself stops building the tree at 256). On success *out is a NUL-terminated string the caller
 * frees and *out_len its length; *title (may be NULL on input to skip) is
 * the page's <title> text or NULL, caller frees.
 */
enum moat_rc htext_convert(const char *html, size_t len, const char *base_url, size_t max_bytes,
			   struct call_ctx *ctx, char **out, size_t *out_len, char **title,
			   struct moat_err *err);

#endif
