/*
 * api_template.h - filling a declared API tool's request from its
 * (already schema-validated) arguments, and cutting the upstream response
 * down to the fields the config selects (data minimisation).
 *
 * Placeholders are "{name}": name is an argument, [A-Za-z0-9_]+. "{{" and
 * "}}" stand for literal braces. Every value that goes into a URL is
 * checked first: control bytes (CR, LF, NUL, ... and 0x7F) are refused
 * everywhere, and a path value that is empty, "." or "..", or contains '/'
 * or '\\', is refused, so no argument can climb or add path segments.
 * Errors name the argument and the rule, never echo the value, and carry a
 * rule id: http.missing_argument, http.argument_type, http.control_char,
 * http.path_value, http.form_value, limits.template_bytes, limits.template_depth (a body
 * template or a selection path deeper than 64 levels), limits.select_steps.
 *
 * Values as text: strings as they are, integers in decimal, reals in JSON
 * form with the fewest digits that read back exactly ("0.1", "3.0",
 * "1e300", "-1e-7"), booleans "true"/"false". args NULL means no
 * arguments; args that is not an object is an error. One templated text
 * (a path, a query string, one body string) is bounded at 16 MiB
 * (MOAT_ELIMIT). A malformed template is MOAT_EINVAL at call time too.
 *
 * Pure functions of their inputs; thread-safe. Nothing borrowed is
 * modified, and no result shares a value with the inputs.
 */
#ifndef MOAT_PROVIDERS_HTTP_API_TEMPLATE_H
#define MOAT_PROVIDERS_HTTP_API_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>

struct call_ctx;

#include "result.h"

/*
 * apit_check - is tmpl a well-formed template whose placeholders are all
 * among names (an array of strings; NULL: any name)? For config loading.
 */
enum moat_rc apit_check(const char *tmpl, const json_t *names, struct moat_err *err);

/*
 * apit_path - the path template ("/contacts/{id}/notes") with each
 * placeholder replaced by its argument (a string, integer, number or
 * boolean; anything else is refused), percent-encoded: RFC 3986 unreserved
 * bytes (A-Z a-z 0-9 - . _ ~) kept, every other byte %XX (upper case). A
 * missing argument is an error. *out is the caller's (free()).
 */
enum moat_rc apit_path(const char *tmpl, const json_t *args, char **out, struct moat_err *err);


/*
 * apit_query - a query string from tmpl, an object of parameter name ->
 * template string (insertion order kept). A parameter whose template is
 * exactly one placeholder whose argument is absent (or null) is left out;
 * one whose argument is an array of scalars is repeated once per element
 * ("a=1&a=2"; an empty array leaves it out); one that mixes text and
 * placeholders needs them all, as scalars. Names and values are
 * form-encoded (unreserved kept, space as %20, the rest %XX). Returns
 * "a=1&b=x%20y" without '?', "" when nothing remains. tmpl NULL: "".
 * Template text is encoded like values ("{{" gives %7B). An argument that
 * is an object, an array of non-scalars or an array inside text is
 * refused (http.argument_type), as is one holding a control byte
 * (http.control_char).
 */
enum moat_rc apit_query(const json_t *tmpl, const json_t *args, char **out,
			struct moat_err *err);

/*
 * apit_headers - request header lines "Name: value" from tmpl, an object
 * of header name -> template string (names are copied as they are: the
 * config check vets them). Values fill as apit_query's do, without
 * encoding: a header whose template is one absent (or null) argument is
 * left out; an array of scalars is joined with ',' (OpenAPI's "simple"
 * style); any CR, LF or other control byte in a value is refused
 * (http.control_char), so no argument can add a header or end the head.
 * An empty value gives "Name;" (libcurl's form for it). *out is a new
 * NULL-terminated array (apit_lines_free); tmpl NULL (or a JSON null)
 * gives an empty one.
 */
enum moat_rc apit_headers(const json_t *tmpl, const json_t *args, char ***out,
			  struct moat_err *err);

/* apit_lines_free - wipe and free what apit_headers made. Accepts NULL. */
void apit_lines_free(char **lines);

/*
 * apit_form - an application/x-www-form-urlencoded body from body (a
 * filled body template, borrowed): it must be an object whose members are
 * scalars (null members are left out) or arrays of scalars (the name once
 * per element); anything nested is refused (http.form_value) naming the
 * member, never its value. Names and values percent-encoded as in
 * apit_query. *out is the caller's ("" for an empty object). Implemented
 * in api_form.c.
 */
enum moat_rc apit_form(const json_t *body, char **out, struct moat_err *err);

/*
 * apit_body - a new JSON value from the template tmpl (borrowed): every
 * string that is exactly one placeholder becomes the argument's JSON value
 * (any type; absent: the member is dropped from its object, or null in an
 * array); a string with text around placeholders gets the arguments'
 * text (strings as they are, numbers and booleans in JSON form; absent is
 * an error). Other values are copied. *out is the caller's.
 * Object member names are copied as they are, never filled. In text, a
 * null, object or array argument is refused. A body that is itself one
 * placeholder whose argument is absent is an error (there is no member
 * to drop); tmpl NULL is an error.
 */
enum moat_rc apit_body(const json_t *tmpl, const json_t *args, json_t **out,
		       struct moat_err *err);

/*
 * apit_select - keep only the parts of doc (borrowed) named by paths, an
 * array of JSON Pointers (RFC 6901, "~0"/"~1" escapes) in which a segment
 * "*" means every element of an array or every member of an object. The
 * result keeps doc's shape (objects keep the selected members in doc's
 * order, arrays keep their selected elements in order, dropping none of
 * an array walked with "*"); paths that match nothing are skipped. ""
 * selects the whole document. paths NULL: a copy of doc. *out is the
 * caller's.
 *
 * In detail: a segment "0" or a digit 1-9 then digits is an array index
 * (in an object it is just a member name; "-" and "01" select nothing in
 * an array). An array reached without "*" keeps only its selected
 * elements, in doc's order ("/data/2" gives {"data":[<third element>]}).
 * An array walked with "*" keeps every position, null where nothing
 * inside an element was selected, and is kept even when empty; what
 * several paths select in one element merges at that element's position
 * (ids and names of "data" give [{"id":..,"name":..}, ...]). An object
 * keeps only members in which something was selected. A
 * path that selects a whole subtree covers every deeper path. "*" is
 * always the wildcard: a member named "*" is reached only through one.
 * When nothing matches at all: {} for an object doc, [] for an array, null
 * for a scalar. Work is one pass, linear in the parts of doc the paths
 * reach (times the number of paths); every member or element looked at is
 * a step, the call's deadline and cancellation (ctx, may be NULL) are
 * checked every 4096 steps, and 50 million steps is a limit
 * (limits.select_steps).
 */
enum moat_rc apit_select(const json_t *doc, const json_t *paths, struct call_ctx *ctx,
			 json_t **out, struct moat_err *err);

/* apit_pointer_check - is p a valid selection path (as above)? For config
 * loading. */
enum moat_rc apit_pointer_check(const char *p, struct moat_err *err);

#endif
