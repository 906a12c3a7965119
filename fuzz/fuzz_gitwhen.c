/*
 * fuzz_gitwhen.c - libFuzzer target for the git family's timestamp parser
 * (gitp_when_parse) and tree-path check (gitp_path_ok). The input, cut at
 * its first NUL, is parsed as a timestamp against a fixed "now" and checked
 * as a path. Checks: a success leaves the message empty; a failure is
 * MOAT_EINVAL naming the field and listing the forms; a path accepted has no
 * "." or ".." component, no empty component but a last one, and no leading
 * '/'.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "git/gitp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_path(const char *p)
{
	const char *s = p;

	if (!gitp_path_ok(p, false))
		return;
	if (!*p || *p == '/')
		abort();
	while (*s) {
		size_t n = strcspn(s, "/");
		if ((n == 0 && s[n]) || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
			if (!(n == 0 && s[n] == '/' && !s[n + 1]))
				abort();
		s += n;
		if (*s)
			s++;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	struct moat_err err = {0};
	time_t t = 0;
	enum moat_rc rc;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	rc = gitp_when_parse(s, (time_t)1718452800, "start_timestamp", &t, &err);
	if (rc == MOAT_OK && err.msg[0])
		abort();
	if (rc != MOAT_OK && (rc != MOAT_EINVAL || !strstr(err.msg, "start_timestamp: ") ||
			      !strstr(err.msg, "ISO 8601")))
		abort();
	check_path(s);
	free(s);
	return 0;
}
