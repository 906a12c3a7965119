/*
 * git_rev.c - the vetting of a revision string before libgit2's revision
 * parser sees it (gitp_rev_check): what the family refuses, and why.
 *
 * libgit2's git_revparse_single() cannot be interrupted, and some of its
 * syntax costs far more than a lookup: ":/<regex>" and "<rev>^{/<regex>}"
 * walk the whole history and run a regular expression (PCRE2 with its
 * default limits) over every commit message; a crafted pattern took 31 s
 * on a 300-commit repository. "<rev>~<n>" walks n generations one commit
 * at a time. So the string is tokenised here exactly as libgit2 1.5's
 * revparse.c does (a "^{...}" or "@{...}" group runs to the first '}'; the
 * first ':' outside a group makes the rest a tree path, never parsed), and
 * refused, with a rule id, when it holds:
 *   - a leading '-' (a revision is never an option)         git.revision_option
 *   - ":..." at the start (":/<regex>", ":/!-<regex>" and
 *     the index forms libgit2 does not implement)           git.revision_refused
 *   - "^{/...}" (a message search from a commit)             git.revision_refused
 *   - "@{u}", "@{upstream}", "@{push}" (libgit2 1.5 leaks a
 *     compiled regex on each) and a '@' ending a longer
 *     revision (libgit2 1.5 then reads past the string)      git.revision_refused
 *   - an unterminated "^{" or "@{"                           git.revision_refused
 *   - more than GITP_REV_MAX_STEPS generations in all
 *     ("~<n>", "~~", "^", "^<n>")                            git.revision_steps
 *   - more than GITP_REV_MAX_LEN bytes                       git.revision_steps
 * Everything else (names, ids, "HEAD~3", "v1.0^{commit}", "main@{2}",
 * "@{-1}", "HEAD:docs/a.md") goes to libgit2 unchanged. Pure and
 * thread-safe: no libgit2 call, no allocation.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "gitp.h"

/* The advice every search refusal ends with. */
#define SEARCH_ADVICE                                                                          \
	"; find the commit with git_log and pass its id instead"

/* Is the group content c[0..n) one of the @{...} forms refused? */
static bool tracking_form(const char *c, size_t n)
{
	static const char *const forms[] = {"u", "upstream", "push"};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (strlen(forms[i]) == n && strncasecmp(c, forms[i], n) == 0)
			return true;
	return false;
}

/* The decimal number at s (at least one digit), saturated at cap; *end
 * after it. */
static size_t number(const char *s, size_t cap, const char **end)
{
	size_t v = 0;

	while (*s >= '0' && *s <= '9') {
		size_t d = (size_t)(*s - '0');
		v = v > (cap - d) / 10 ? cap : v * 10 + d;
		s++;
	}
	*end = s;
	return v;
}

enum moat_rc gitp_rev_check(const char *field, const char *rev, struct moat_err *err)
{
	const char *p;
	size_t steps = 0, len;

	if (!rev || !*rev)
		return gitp_refuse(err, MOAT_EINVAL, "git.revision_refused", "%s: must not be empty",
				     field);
	len = strlen(rev);
	if (len > GITP_REV_MAX_LEN)
		return gitp_refuse(err, MOAT_ELIMIT, "git.revision_steps",
				     "%s: longer than %d bytes", field, GITP_REV_MAX_LEN);
	if (rev[0] == '-')
		return gitp_refuse(err, MOAT_EINVAL, "git.revision_option",
				     "%s: must not start with '-' (revisions are never options; name "
				     "such a branch refs/heads/...)", field);
	if (rev[0] == ':')
		return gitp_refuse(err, MOAT_EINVAL, "git.revision_refused",
				     rev[1] == '/'
					     ? "%s: ':/<text>' searches every commit message with a "
					       "regular expression and is refused" SEARCH_ADVICE
					     : "%s: ':<path>' (a path in the index) is not supported; "
					       "name a revision before the ':' (HEAD:path)", field);
	for (p = rev; *p && *p != ':';) {
		if ((*p == '^' || *p == '@') && p[1] == '{') {
			const char *c = p + 2, *close = strchr(c, '}');
			if (!close)
				return gitp_refuse(err, MOAT_EINVAL, "git.revision_refused",
						     "%s: '%c{' without a closing '}'", field, *p);
			if (*p == '^' && *c == '/')
				return gitp_refuse(err, MOAT_EINVAL, "git.revision_refused",
						     "%s: '^{/<text>}' searches commit messages with a "
						     "regular expression and is refused" SEARCH_ADVICE,
						     field);
			if (*p == '@' && tracking_form(c, (size_t)(close - c)))
				return gitp_refuse(err, MOAT_EINVAL, "git.revision_refused",
						     "%s: @{upstream} and @{push} are not supported; "
						     "name the remote-tracking branch (e.g. origin/main, "
						     "see git_status)", field);
			p = close + 1;
		} else if (*p == '~' || *p == '^') {
			char kind = *p++;
			size_t n = 1;
			if (*p >= '0' && *p <= '9')
				n = number(p, (size_t)GITP_REV_MAX_STEPS + 1, &p);
			/* "~<n>" walks n generations; "^<n>" picks one parent ("^0": none) */
			steps += kind == '~' ? n : (n > 0);
			if (steps > GITP_REV_MAX_STEPS)
				return gitp_refuse(err, MOAT_ELIMIT, "git.revision_steps",
						     "%s: goes back more than %d generations; use "
						     "git_log to find an older commit's id", field,
						     GITP_REV_MAX_STEPS);
		} else if (*p == '@' && p[1] == '\0' && p != rev) {
			return gitp_refuse(err, MOAT_EINVAL, "git.revision_refused",
					     "%s: a '@' ending a revision is not supported (write "
					     "HEAD, or the branch name without '@')", field);
		} else {
			p++;
		}
	}
	return MOAT_OK;
}
