/*
 * api_form.c - a declared API tool's body as
 * application/x-www-form-urlencoded ("body_format": "form"), from the
 * filled JSON body template (api_template.h: apit_form).
 *
 * Hand-written: libcurl's curl_mime is multipart only, and its
 * curl_easy_escape works on one string with no size bound; this walks one
 * JSON object of scalars and arrays of scalars into a bounded buffer
 * (api_text.h). Pure; thread-safe.
 */
#include "api_template.h"

#include <stdlib.h>
#include <string.h>

#include "api_text.h"

/* Most bytes of a member name quoted in a message. */
#define FORM_NAME_SHOWN 64

static enum moat_rc form_pair(struct apit_buf *b, const char *key, size_t key_len,
			      const json_t *v, struct moat_err *err)
{
	char num[APIT_NUM_MAX];
	const char *s;
	size_t n;

	if (!apit_scalar_text(v, num, &s, &n))
		return moat_err_rule(err, MOAT_EINVAL, "http.form_value",
				     "refused: form field '%.*s' holds an object, a nested array or "
				     "null; a form body takes only strings, numbers, booleans and "
				     "arrays of them",
				     (int)(key_len < FORM_NAME_SHOWN ? key_len : FORM_NAME_SHOWN), key);
	return apit_buf_put_pair(b, key, key_len, s, n, err);
}

enum moat_rc apit_form(const json_t *body, char **out, struct moat_err *err)
{
	struct apit_buf b = {0};
	const char *key;
	size_t key_len;
	json_t *v;
	enum moat_rc rc = MOAT_OK;

	*out = NULL;
	if (!json_is_object(body))
		return moat_err_rule(err, MOAT_EINVAL, "http.form_value",
				     "refused: a form body must be an object of fields (the body "
				     "template gave %s)",
				     json_is_array(body) ? "an array" : "a single value");
	json_object_keylen_foreach((json_t *)body, key, key_len, v) {
		size_t i;
		json_t *el;

		if (json_is_null(v))
			continue;
		if (!json_is_array(v)) {
			if ((rc = form_pair(&b, key, key_len, v, err)))
				goto out;
			continue;
		}
		json_array_foreach(v, i, el)
			if ((rc = form_pair(&b, key, key_len, el, err)))
				goto out;
	}
	rc = apit_buf_finish(&b, out, err);
out:
	if (b.p) {
		explicit_bzero(b.p, b.len);
		free(b.p);
	}
	return rc;
}
