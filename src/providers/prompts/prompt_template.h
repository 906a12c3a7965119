/*
 * prompt_template.h - the "{argument}" templates of the config's prompts:
 * the text of a message and the URI of an embedded resource.
 *
 * "{name}" is replaced by the argument's value (an absent optional
 * argument by nothing); "{{" and "}}" stand for a literal brace. Anything
 * else starting with '{' is malformed, which the config check reports at
 * load. In a URI, values are percent-encoded except for the characters a
 * URI path may hold as they are (RFC 3986 unreserved, sub-delims, ':',
 * '@' and '/'), so a value can never add a query, a fragment or an
 * escape the family would decode. Pure, thread-safe.
 */
#ifndef MOAT_PROVIDERS_PROMPTS_PROMPT_TEMPLATE_H
#define MOAT_PROVIDERS_PROMPTS_PROMPT_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "result.h"

/* The longest expansion (bytes): longer ones fail with MOAT_ELIMIT. */
#define PTMPL_MAX_OUT ((size_t)4 << 20)

/* Called for each placeholder of a template: name[0..n) (not
 * NUL-terminated). Return false to stop the scan with MOAT_EINVAL. */
typedef bool (*ptmpl_name_fn)(void *ctx, const char *name, size_t n);

/*
 * ptmpl_scan - check tmpl's syntax and hand each placeholder's name to fn
 * (may be NULL). MOAT_EINVAL with err saying what is wrong and at which
 * byte ("'{' at byte 12 opens no {name}"), or when fn refused a name
 * (err then left for fn to fill).
 */
enum moat_rc ptmpl_scan(const char *tmpl, ptmpl_name_fn fn, void *ctx, struct moat_err *err);

/*
 * ptmpl_expand - a new string (caller frees): tmpl with every placeholder
 * replaced by args' string value of that name ("" when absent),
 * percent-encoded when uri. NULL with err set on a malformed template,
 * an expansion over PTMPL_MAX_OUT, or ENOMEM.
 */
char *ptmpl_expand(const char *tmpl, const json_t *args, bool uri, struct moat_err *err);

/* ptmpl_scheme_len - the length of tmpl's literal URI scheme (the bytes
 * before its first ':' when they form a scheme and hold no placeholder),
 * or 0. */
size_t ptmpl_scheme_len(const char *tmpl);

#endif
